/* SPDX-License-Identifier: MIT */
/*
 * svg_cache.c - the picture of a file's page cache: one cell per page
 * offset of the file, clean, dirty, under writeback, dirty data that
 * writeback skipped (nodisk), pinned (with the count), large folios
 * outlined; then the held pages (a script's page arrays) that left every
 * page cache while held - the orphaned pinned pages of a truncate or hole
 * punch.
 *
 * Bounce copies are not a state of a page: the bounce policy writes back a
 * stable copy and leaves the page as it was.  The picture says how many
 * pages the machine has bounced so far (vmstat bounce_pages).
 *
 * Sources: pinmm_debug_cache_page() per offset, pinmm_debug_page_owner()
 * per held page, pinmm_fstat_size() and pinmm_vmstat().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pinmm/debug.h>

#include "svg.h"

/* Offsets drawn at most (1 GiB of 4 KiB pages). */
#define SVG_CACHE_MAX_PAGES	(1L << 18)

static void cache_cell(struct svg_cell *c, unsigned long index,
		       const struct pinmm_cache_page_info *ci)
{
	const char *main;

	memset(c, 0, sizeof(*c));
	if (!ci->cached) {
		snprintf(c->title, sizeof(c->title), "page %lu not cached", index);
		snprintf(c->sig, sizeof(c->sig), "none");
		return;
	}
	main = ci->nodisk ? "nodisk" : ci->writeback ? "writeback" :
	       ci->dirty ? "dirty" : "clean";
	snprintf(c->cls, sizeof(c->cls), "%s%s%s%s", main, ci->maybe_dma_pinned ? " pinned" : "",
		 ci->folio_order > 0 ? " large" : "", ci->mapcount > 0 ? " mapped" : "");
	if (ci->maybe_dma_pinned)
		snprintf(c->label, sizeof(c->label), "%d", ci->pincount > 99 ? 99 : ci->pincount);
	if (ci->folio_order > 0)
		c->folio = (ci->pfn >> ci->folio_order) + 1;
	snprintf(c->title, sizeof(c->title),
		 "page %lu %s pfn %#lx ref %d map %d pin %d order %d%s", index, c->cls, ci->pfn,
		 ci->refcount, ci->mapcount, ci->pincount, ci->folio_order,
		 ci->uptodate ? " uptodate" : " not uptodate");
	snprintf(c->sig, sizeof(c->sig), "%s|%s|%d", c->cls, c->label, ci->folio_order);
}

/* The held pages that no cache owns any more, one row of cells. */
static void draw_orphans(struct svg_doc *d, const struct svg_held *held, int nheld)
{
	struct svg_cell row[SVG_ROW_CELLS];
	int n = 0;
	long total = 0;

	for (int h = 0; h < nheld; h++) {
		for (long i = 0; i < held[h].npages; i++) {
			struct pinmm_page_owner_info o;
			struct svg_cell *c;

			if (pinmm_debug_page_owner(held[h].pages[i], &o) || !o.orphaned)
				continue;
			total++;
			if (n == SVG_ROW_CELLS)
				continue;
			c = &row[n++];
			memset(c, 0, sizeof(*c));
			snprintf(c->cls, sizeof(c->cls), "orphaned");
			snprintf(c->title, sizeof(c->title), "%s[%ld] pfn %#lx orphaned: held by the "
				 "script, in no page cache", held[h].name, i,
				 page_to_pfn(held[h].pages[i]));
		}
	}
	if (!total) {
		svg_heading(d, "note", "no held page is orphaned");
		return;
	}
	svg_heading(d, "vma", "held pages in no page cache (orphaned): %ld", total);
	svg_row(d, 0, row, n);
}

int svg_add_page_cache(struct svg_doc *d, struct pinmm_proc *p, int fd, const char *label,
		       const struct svg_held *held, int nheld)
{
	long size = pinmm_fstat_size(p, fd), n, shown;
	struct svg_cell *cells;
	long bounced = pinmm_vmstat(pinmm_proc_machine(p), "bounce_pages");

	if (size < 0)
		return (int)size;
	n = (size + 4095) / 4096;
	shown = n < SVG_CACHE_MAX_PAGES ? n : SVG_CACHE_MAX_PAGES;
	svg_heading(d, "heading", "%s: page cache of fd %d, %ld bytes, %ld page%s", label, fd,
		    size, n, n == 1 ? "" : "s");
	cells = calloc(shown ? shown : 1, sizeof(*cells));
	if (!cells)
		return -ENOMEM;
	for (long i = 0; i < shown; i++) {
		struct pinmm_cache_page_info ci;
		int rc = pinmm_debug_cache_page(p, fd, (unsigned long)i, &ci);

		if (rc) {
			free(cells);
			return rc;
		}
		cache_cell(&cells[i], (unsigned long)i, &ci);
	}
	/* Rows are labelled with the byte offset in the file. */
	svg_cells(d, 0, cells, shown);
	if (shown < n)
		svg_heading(d, "note", "... %ld more pages not inspected", n - shown);
	free(cells);
	draw_orphans(d, held, nheld);
	svg_heading(d, "note", "bounced: %ld pages written back from a stable copy since boot "
		    "(machine counter bounce_pages; a bounce leaves no mark on the page)",
		    bounced < 0 ? 0 : bounced);
	return 0;
}
