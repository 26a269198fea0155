/* SPDX-License-Identifier: MIT */
/*
 * unpin.c - releasing pins (the unpin_user_page* family, §1.6) and the
 * page helpers <pinmm/linux.h> exports to driver-style code: page_folio,
 * put_page/get_page, kmap_local_page, set_page_dirty_lock.
 *
 * Releases coalesce runs of consecutive entries that belong to the same
 * folio into one gup_put_folio() call; NULL entries (left by the long-term
 * migration path) are skipped.  Unpinning something that is not pinned
 * WARNs once, is counted in unpin_not_pinned, and changes nothing.
 */
#include <errno.h>
#include "gup.h"
#include "provenance.h"
#include "rcu.h"

/*
 * Length of the run of entries from @i that belong to @folio.  Found by
 * pointer arithmetic (consecutive subpages inside the folio, or repeats of
 * the same page) so that releasing a THP does not read 512 struct pages.
 */
static unsigned long folio_run(struct page **pages, unsigned long i, unsigned long n,
			       struct folio *folio)
{
	struct page *first = &folio->page;
	struct page *last = first + folio_nr_pages(folio);
	unsigned long j = i + 1;

	while (j < n && pages[j] >= first && pages[j] < last)
		j++;
	return j - i;
}

static void unpin_pages(struct pinmm *m, struct page **pages, unsigned long npages,
			bool make_dirty)
{
	long released = 0;

	for (unsigned long i = 0; i < npages;) {
		struct folio *folio;
		unsigned long run;

		if (!pages[i]) {
			i++;
			continue;
		}
		if (i + 4 < npages && pages[i + 4])
			__builtin_prefetch(pages[i + 4], 1);
		folio = page_folio(pages[i]);
		run = folio_run(pages, i, npages, folio);
		if (!m)
			m = folio_machine(folio);
		if (make_dirty && !is_zero_folio(folio) && !folio_test_Dirty(folio)) {
			/* Harmless race with clear_page_dirty_for_io (§1.6). */
			folio_lock(folio);
			folio_mark_dirty(folio);
			folio_unlock(folio);
		}
		if (__gup_put_folio(m, folio, (int)run, FOLL_PIN, false))
			released += (long)run;
		i += run;
	}
	/* One counter update per call (Linux: per-CPU node stats). */
	if (released)
		count_vm_events(m, NR_FOLL_PIN_RELEASED, released);
	if (m)
		trace_pins(m, "unpin", pages, (long)npages);
}

void __trace_pins(struct pinmm *m, const char *name, struct page **pages, long nr)
{
	long i = 0;

	while (i < nr && !pages[i])
		i++;
	if (i == nr)
		return;
	if (atomic_read(&pinmm_provenance_users) && m->cfg.pin_provenance && name[0] == 'p')
		__trace_instant(m, TRACE_CAT_PIN, name, (const struct trace_arg[TRACE_MAX_ARGS]){
			{ "pfn", (int64_t)page_to_pfn_m(m, pages[i]) }, { "nr_pages", nr },
			{ "caller", (int64_t)(uintptr_t)pinmm_pin_ctx.caller },
			{ "pid", pinmm_pin_ctx.pid } });
	else
		TRACE_INSTANT(m, TRACE_CAT_PIN, name,
			      { "pfn", (int64_t)page_to_pfn_m(m, pages[i]) }, { "nr_pages", nr });
}

void unpin_user_pages_m(struct pinmm *m, struct page **pages, unsigned long npages)
{
	unpin_pages(m, pages, npages, false);
}

/**
 * unpin_user_page() - release one pin taken by pin_user_pages*().
 * Context: any.
 */
void pinmm_unpin_user_page(struct page *page)
{
	struct folio *folio;

	pinmm_thread_enter();
	if (WARN_ON_ONCE(!page))
		return;
	folio = page_folio(page);
	trace_pins(folio_machine(folio), "unpin", &page, 1);
	gup_put_folio(folio_machine(folio), folio, 1, FOLL_PIN);
}

/**
 * unpin_user_pages() - release @npages pins.
 * Context: any.  An errno-like @npages WARNs and does nothing.
 */
void pinmm_unpin_user_pages(struct page **pages, unsigned long npages)
{
	pinmm_thread_enter();
	if (WARN_ON(IS_ERR_VALUE(npages)) || !pages)
		return;
	unpin_pages(NULL, pages, npages, false);
}

/**
 * unpin_user_pages_dirty_lock() - release pins, marking each folio dirty
 * first when @make_dirty (the device wrote into the pages).
 * Context: may sleep (folio lock).
 */
void pinmm_unpin_user_pages_dirty_lock(struct page **pages, unsigned long npages,
				       bool make_dirty)
{
	pinmm_thread_enter();
	if (WARN_ON(IS_ERR_VALUE(npages)) || !pages)
		return;
	unpin_pages(NULL, pages, npages, make_dirty);
}

/**
 * unpin_user_page_range_dirty_lock() - the same over @npages physically
 * contiguous pages starting at @page.
 * Context: may sleep.
 */
void pinmm_unpin_user_page_range_dirty_lock(struct page *page, unsigned long npages,
					    bool make_dirty)
{
	pinmm_thread_enter();
	if (WARN_ON_ONCE(!page))
		return;
	trace_pins(folio_machine(page_folio(page)), "unpin", &page, (long)npages);
	for (unsigned long i = 0; i < npages;) {
		struct page *p = page + i;
		struct folio *folio = page_folio(p);
		unsigned long run = min(npages - i, folio_nr_pages(folio) - folio_page_idx(folio, p));

		if (make_dirty && !is_zero_folio(folio) && !folio_test_Dirty(folio)) {
			folio_lock(folio);
			folio_mark_dirty(folio);
			folio_unlock(folio);
		}
		gup_put_folio(folio_machine(folio), folio, (int)run, FOLL_PIN);
		i += run;
	}
}

void pinmm_unpin_folio(struct folio *folio)
{
	struct page *page;

	pinmm_thread_enter();
	if (WARN_ON_ONCE(!folio))
		return;
	page = folio_page(folio, 0);
	trace_pins(folio_machine(folio), "unpin", &page, 1);
	gup_put_folio(folio_machine(folio), folio, 1, FOLL_PIN);
}

/**
 * unpin_folios() - one pin on each folio; identical consecutive pointers
 * are released together, NULL entries skipped.
 * Context: any.
 */
void pinmm_unpin_folios(struct folio **folios, unsigned long nfolios)
{
	bool traced = false;

	pinmm_thread_enter();
	if (WARN_ON(IS_ERR_VALUE(nfolios)) || !folios)
		return;
	for (unsigned long i = 0; i < nfolios;) {
		unsigned long j = i + 1;

		if (!folios[i]) {
			i++;
			continue;
		}
		while (j < nfolios && folios[j] == folios[i])
			j++;
		if (!traced) {	/* one instant per call, at its first folio */
			struct pinmm *m = folio_machine(folios[i]);

			TRACE_INSTANT(m, TRACE_CAT_PIN, "unpin",
				      { "pfn", (int64_t)folio_pfn(folios[i]) },
				      { "nr_folios", (int64_t)nfolios });
			traced = true;
		}
		gup_put_folio(folio_machine(folios[i]), folios[i], (int)(j - i), FOLL_PIN);
		i = j;
	}
}

void pinmm_put_page(struct page *page)
{
	pinmm_thread_enter();
	if (WARN_ON_ONCE(!page))
		return;
	folio_put(page_folio(page));
}

void pinmm_get_page(struct page *page)
{
	pinmm_thread_enter();
	if (WARN_ON_ONCE(!page))
		return;
	folio_get(page_folio(page));
}

struct folio *pinmm_page_folio(struct page *page)
{
	return page ? page_folio(page) : NULL;
}

unsigned long pinmm_page_to_pfn(struct page *page)
{
	return page_to_pfn(page);
}

bool pinmm_folio_maybe_dma_pinned(struct folio *folio)
{
	return folio && folio_maybe_dma_pinned(folio);
}

int pinmm_folio_ref_count(struct folio *folio)
{
	return folio ? folio_ref_count(folio) : 0;
}

/**
 * kmap_local_page() - the page's 4096 bytes, for a "device" (DMA) or the
 * kernel to read and write directly, without the process's page tables.
 * Context: any; the caller holds a reference or pin.
 * Return: the host address of the frame.
 */
void *pinmm_kmap_local_page(struct page *page)
{
	return page ? page_address(page) : NULL;
}

void pinmm_kunmap_local(void *addr)
{
	(void)addr;
}

/**
 * set_page_dirty_lock() - mark the page's folio dirty under its lock.
 * Context: may sleep.
 * Return: true if the folio was newly dirtied.
 */
bool pinmm_set_page_dirty_lock(struct page *page)
{
	struct folio *folio;
	bool ret;

	pinmm_thread_enter();
	if (!page)
		return false;
	folio = page_folio(page);
	if (is_zero_folio(folio))
		return false;
	folio_lock(folio);
	ret = folio_mark_dirty(folio);
	folio_unlock(folio);
	return ret;
}
