/* SPDX-License-Identifier: MIT */
/*
 * bug.c - BUG(), WARN() and dump_page(): the reporting half of bug.h.
 *
 * Owns the process-global warning counter.  Whether a splat is printed is
 * decided by the machines that are booted (cfg.quiet, see
 * pinmm_machines_quiet() in machine.c); counting never stops.  Does not own
 * the checks themselves: those are the VM_* macros at their call sites.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bug.h"
#include "mm.h"

/* WARNs since the process started, all machines.  Atomic, relaxed. */
static atomic_long_t pinmm_warnings;

/**
 * pinmm_bug() - report a BUG_ON() and abort the process.
 * @file: source file of the check
 * @line: its line
 * @cond: the text of the condition that was true
 *
 * Context: any.  Never returns.
 */
void pinmm_bug(const char *file, int line, const char *cond)
{
	fflush(stdout);
	fprintf(stderr, "pinmm: BUG at %s:%d: %s\n", file, line, cond);
	fflush(stderr);
	abort();
}

/**
 * pinmm_count_warn() - count one warning without printing anything.
 *
 * Context: any; lock-free.
 */
void pinmm_count_warn(void)
{
	atomic_long_inc(&pinmm_warnings);
}

/**
 * pinmm_warn() - report a WARN_ON(): print a splat (unless quiet) and count it.
 * @file: source file of the check
 * @line: its line
 * @cond: the text of the condition that was true
 *
 * Context: any; must not be called with the machine registry lock held.
 */
void pinmm_warn(const char *file, int line, const char *cond)
{
	pinmm_count_warn();
	if (pinmm_machines_quiet())
		return;
	fprintf(stderr, "pinmm: WARNING at %s:%d: %s\n", file, line, cond);
}

/**
 * pinmm_warn_fmt() - report a WARN() with a printf-style message.
 * @file: source file of the check
 * @line: its line
 * @fmt: message format
 *
 * Context: any; must not be called with the machine registry lock held.
 */
void pinmm_warn_fmt(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	pinmm_count_warn();
	if (pinmm_machines_quiet())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "pinmm: WARNING at %s:%d: %s\n", file, line, msg);
}

/**
 * pinmm_oops() - record a BUG() of machine @m that the model survives.
 * @m: the machine.
 * @file: source file of the BUG
 * @line: its line
 * @fmt: what the kernel would have printed, printf-style
 *
 * Where Linux hits a BUG() that pinmm models as a behaviour (pinfs with
 * pinfs.dirty_no_blocks=bug: ext4's page_buffers() on a page without
 * buffers), the kernel would oops and the writeback thread would die with
 * the page locked.  pinmm counts vmstat "oops", prints "pinmm: oops: kernel
 * BUG at ..." (unless cfg.quiet) and returns: the caller goes on as the
 * data would, never reaching disk (doc/DESIGN.md).
 *
 * Context: any.
 */
void pinmm_oops(struct pinmm *m, const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	count_vm_event(m, OOPS);
	if (m->cfg.quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "pinmm: oops: kernel BUG at %s:%d: %s\n", file, line, msg);
}

/**
 * pinmm_warn_count() - WARNs counted since the process started.
 *
 * Context: any.
 * Return: the count, all machines together.
 */
long pinmm_warn_count(void)
{
	return atomic_long_read(&pinmm_warnings);
}

static const char *const pageflag_names[__NR_PAGEFLAGS] = {
	[PG_locked] = "locked",
	[PG_writeback] = "writeback",
	[PG_referenced] = "referenced",
	[PG_uptodate] = "uptodate",
	[PG_dirty] = "dirty",
	[PG_lru] = "lru",
	[PG_head] = "head",
	[PG_active] = "active",
	[PG_private] = "private",
	[PG_reserved] = "reserved",
	[PG_swapbacked] = "swapbacked",
	[PG_anon_exclusive] = "anon_exclusive",
	[PG_buddy] = "buddy",
	[PG_pgtable] = "pgtable",
	[PG_reclaim] = "reclaim",
	[PG_mlocked] = "mlocked",
	[PG_hwpoison] = "hwpoison",
	[PG_large_rmappable] = "large_rmappable",
	[PG_isolated] = "isolated",
	[PG_poisoned] = "poisoned",
	[PG_devmap] = "devmap",
	[PG_zero] = "zero",
	[PG_mappedtodisk] = "mappedtodisk",
};

/* Decode @flags into "a|b|c" in @buf. */
static void format_flags(unsigned long flags, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (int bit = 0; bit < (int)(8 * sizeof(flags)) && off < len; bit++) {
		const char *name;
		char unknown[16];
		int n;

		if (!(flags & (1UL << bit)))
			continue;
		name = bit < __NR_PAGEFLAGS ? pageflag_names[bit] : NULL;
		if (!name) {
			snprintf(unknown, sizeof(unknown), "bit%d", bit);
			name = unknown;
		}
		n = snprintf(buf + off, len - off, "%s%s", off ? "|" : "", name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/**
 * dump_page() - print the state of @page (and its folio) to stderr.
 * @page: any struct page, possibly of no known machine
 * @reason: why it is dumped (printed first), or NULL
 *
 * Reads the page without locks: the output is a snapshot for debugging.
 * Context: any.
 */
void dump_page(const struct page *page, const char *reason)
{
	struct pinmm *m;
	const struct page *head;
	char flags[256];

	if (!page) {
		fprintf(stderr, "pinmm: dump_page(NULL): %s\n", reason ? reason : "");
		return;
	}
	m = page_machine(page);
	head = compound_head(page);
	format_flags(READ_ONCE(page->flags), flags, sizeof(flags));
	if (m)
		fprintf(stderr, "page:%p pfn:%#lx zone:%s", (const void *)page,
			page_to_pfn_m(m, page),
			zone_name(pfn_zone_idx(m, page_to_pfn_m(m, page))));
	else
		fprintf(stderr, "page:%p pfn:? (no machine)", (const void *)page);
	fprintf(stderr, " refcount:%d mapcount:%d mapping:%p index:%#lx private:%#lx\n",
		atomic_read(&head->_refcount), atomic_read(&page->_mapcount) + 1,
		(void *)READ_ONCE(head->mapping), (unsigned long)READ_ONCE(head->index),
		(unsigned long)READ_ONCE(page->private));
	if (head != page) {
		const struct folio *folio = (const struct folio *)head;

		fprintf(stderr, "  tail of head:%p", (const void *)head);
		if (m)
			fprintf(stderr, " (pfn:%#lx)", page_to_pfn_m(m, head));
		if (folio_test_large(folio))
			fprintf(stderr, " order:%u", folio_order(folio));
		fprintf(stderr, "\n");
	}
	if (PageHead(page)) {
		const struct folio *folio = (const struct folio *)page;

		fprintf(stderr, "  large folio order:%u nr_pages:%lu entire_mapcount:%d "
			"large_mapcount:%d nr_pages_mapped:%d pincount:%d\n",
			folio_order(folio), folio->_folio_nr_pages,
			folio_entire_mapcount(folio), folio_large_mapcount(folio),
			atomic_read(&folio->_nr_pages_mapped),
			atomic_read(&folio->_pincount));
	}
	if ((unsigned long)READ_ONCE(head->mapping) & PAGE_MAPPING_ANON)
		fprintf(stderr, "  anon anon_vma:%p\n",
			(void *)folio_anon_vma((const struct folio *)head));
	fprintf(stderr, "  flags:%#lx(%s)\n", READ_ONCE(page->flags), flags);
	if (reason)
		fprintf(stderr, "  page dumped because: %s\n", reason);
}

/**
 * pr_diag() - see machine.h.
 * Context: any.
 */
void pr_diag(struct pinmm *m, const char *fmt, ...)
{
	va_list ap;

	if (m && m->cfg.quiet)
		return;
	va_start(ap, fmt);
	fputs("pinmm: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}
