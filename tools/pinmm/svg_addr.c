/* SPDX-License-Identifier: MIT */
/*
 * svg_addr.c - the picture of a process's address space: each VMA as a
 * band with its range, protection and flags, then one cell per page of it.
 *
 * The page states come from pinmm_page_info() and the VMAs from
 * pinmm_debug_vmas(), the public introspection API.  A cell's fill shows
 * its main state (not populated, anonymous, file/shmem, zero page,
 * THP/mTHP, COW-shared, KSM, hugetlb, swapped out); a red border and the
 * count inside show a pin, a dot AnonExclusive, an outline the pages of
 * one large folio.  The space between VMAs is one line ("unmapped").
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <pinmm/debug.h>

#include "svg.h"

/* Classes, tooltip and signature of the page at @addr. */
static void classify(struct svg_cell *c, unsigned long addr, const struct pinmm_page_info *pi)
{
	struct strbuf cls = { 0 };
	const char *main;

	memset(c, 0, sizeof(*c));
	if (pi->swapped)
		main = "swapped";
	else if (!pi->present)
		main = "";
	else if (pi->zero_page)
		main = "present zero";
	else if (pi->hugetlb)
		main = "present hugetlb";
	else if (pi->ksm)
		main = "present ksm";
	else if (pi->mapcount > 1)
		main = "present cow";
	else if (pi->folio_order > 0)
		main = "present thp";
	else if (!pi->anon)
		main = "present file";
	else
		main = "present";
	sb_printf(&cls, "%s%s%s%s%s%s", main, pi->anon ? " anon" : "",
		  pi->anon_exclusive ? " excl" : "", pi->maybe_dma_pinned ? " pinned" : "",
		  pi->folio_order > 0 && !strstr(main, "thp") ? " thp" : "",
		  pi->shmem ? " shmem" : "");
	snprintf(c->cls, sizeof(c->cls), "%s", cls.buf ? cls.buf : "");
	sb_free(&cls);
	if (pi->maybe_dma_pinned)
		snprintf(c->label, sizeof(c->label), "%d", pi->pincount > 99 ? 99 : pi->pincount);
	if (pi->present && pi->folio_order > 0)
		c->folio = (pi->pfn >> pi->folio_order) + 1;
	if (pi->present)
		snprintf(c->title, sizeof(c->title),
			 "%#lx %s pfn %#lx ref %d map %d pin %d order %d zone %s%s%s%s",
			 addr, c->cls, pi->pfn, pi->refcount, pi->mapcount, pi->pincount,
			 pi->folio_order, pi->zone ? pi->zone : "-", pi->writable ? " writable" : "",
			 pi->huge_mapped ? " pmd-mapped" : "", pi->dirty ? " (dirty)" : "");
	else
		snprintf(c->title, sizeof(c->title), "%#lx %s", addr,
			 pi->swapped ? c->cls : "not populated");
	/* Runs compare what is drawn, not the address or the frame. */
	snprintf(c->sig, sizeof(c->sig), "%s|%s|%d|%d|%d", c->cls, c->label, pi->folio_order,
		 pi->mapcount, pi->writable);
}

static void vma_band(struct svg_doc *d, const struct pinmm_vma_info *v)
{
	svg_heading(d, "vma", "VMA %#lx-%#lx %c%c%c%c %lu KiB %s%s%s%s%s%s%s",
		    v->start, v->end, v->prot & PROT_READ ? 'r' : '-',
		    v->prot & PROT_WRITE ? 'w' : '-', v->prot & PROT_EXEC ? 'x' : '-',
		    v->shared ? 's' : 'p', (v->end - v->start) >> 10,
		    v->name[0] ? v->name : "[anon]", v->hugetlb ? " hugetlb" : "",
		    v->hugepage ? " hugepage" : "", v->nohugepage ? " nohugepage" : "",
		    v->mergeable ? " mergeable" : "", v->locked ? " locked" : "",
		    v->pgoff ? " +pgoff" : "");
}

static int draw_vma(struct svg_doc *d, struct pinmm_proc *p, const struct pinmm_vma_info *v)
{
	long n = (long)((v->end - v->start) >> 12), shown = n;
	struct svg_cell *cells;

	vma_band(d, v);
	if (shown > SVG_VMA_MAX_PAGES)
		shown = SVG_VMA_MAX_PAGES;
	cells = calloc(shown, sizeof(*cells));
	if (!cells)
		return -ENOMEM;
	for (long i = 0; i < shown; i++) {
		unsigned long a = v->start + i * 4096UL;
		struct pinmm_page_info pi;
		int rc = pinmm_page_info(p, a, &pi);

		if (rc) {	/* the VMA went away: draw what was seen */
			free(cells);
			return rc;
		}
		classify(&cells[i], a, &pi);
	}
	svg_cells(d, v->start, cells, shown);
	if (shown < n)
		svg_heading(d, "note", "... %ld more pages not inspected (the picture stops at %ld "
			    "pages a VMA)", n - shown, (long)SVG_VMA_MAX_PAGES);
	free(cells);
	return 0;
}

int svg_add_addr_space(struct svg_doc *d, struct pinmm_proc *p, const char *label)
{
	struct pinmm_vma_info *v;
	int n = pinmm_debug_vmas(p, NULL, 0), got, rc = 0;

	if (n < 0) {
		svg_heading(d, "heading", "%s: %s", label, n == -ESRCH ? "exited" : pinmm_strerror(n));
		return n == -ESRCH ? 0 : n;
	}
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	got = pinmm_debug_vmas(p, v, n + 1);	/* may have changed: take what fits */
	if (got > n + 1)
		got = n + 1;
	svg_heading(d, "heading", "%s (pid %d): %d VMA%s, %ld pinned_vm pages", label,
		    pinmm_proc_pid(p), got, got == 1 ? "" : "s", pinmm_proc_pinned_vm(p));
	for (int i = 0; i < got && !rc; i++) {
		if (i > 0 && v[i].start > v[i - 1].end)
			svg_heading(d, "note", "unmapped %#lx-%#lx (%lu KiB)", v[i - 1].end,
				    v[i].start, (v[i].start - v[i - 1].end) >> 10);
		rc = draw_vma(d, p, &v[i]);
	}
	free(v);
	return rc;
}
