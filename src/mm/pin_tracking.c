/* SPDX-License-Identifier: MIT */
/*
 * pin_tracking.c - how a FOLL_PIN reference is counted, and the queries
 * that depend on it (folio_maybe_dma_pinned()).
 *
 * Three strategies, chosen at boot (pin.tracking):
 *
 *  bias      Linux since 5.7.  A pin on a small folio adds
 *            GUP_PIN_COUNTING_BIAS (1024) to the refcount; "maybe pinned"
 *            is refcount >= 1024 (false positives with >= 1024 ordinary
 *            references, never false negatives).  Large folios count pins
 *            exactly in _pincount and add 1 to the refcount per pin.
 *  exact     A separate exact counter per folio: _pincount for large
 *            folios, page->pinmm_data of the head page for small ones;
 *            refcount +1 per pin.  No false positives, no overflow games.
 *  mapcount  The December 2018 proposal: a pin is an ordinary reference
 *            and "maybe pinned" is inferred as references beyond those the
 *            mappings and the page cache explain.  FOLL_GET references and
 *            transient references look pinned (false positives), and the
 *            inference races with mapping changes (false negatives).
 *
 * Counters nr_foll_pin_acquired/released count pages (refs), as Linux's.
 * The shared zero page is never pinned: pins on it are not counted.
 */
#include <errno.h>
#include <limits.h>
#include "mm.h"
#include "provenance.h"
#include "pin_policy.h"

static inline enum pinmm_pin_tracking tracking(struct pinmm *m)
{
	return m->cfg.pin_tracking;
}

static inline long *exact_count(struct folio *folio)
{
	return (long *)&folio->pinmm_data;
}

/* References a folio has without any GUP: its mappings and the cache. */
static int expected_refs(struct folio *folio)
{
	int refs = folio_mapcount(folio);

	if (folio_mapping(folio))
		refs += (int)folio_nr_pages(folio);
	return refs;
}

/* Does this machine keep an exact pin count for @folio? */
static inline bool uses_pincount(struct pinmm *m, struct folio *folio)
{
	if (tracking(m) == PINMM_PIN_MAPCOUNT)
		return false;
	return folio_has_pincount(folio);
}

/**
 * folio_pincount_m() - the pin count as this machine's strategy sees it.
 * Context: any; racy by nature.
 * Return: pins (bias on small folios: refcount / 1024).
 */
int folio_pincount_m(struct pinmm *m, struct folio *folio)
{
	if (is_zero_folio(folio))
		return 0;
	if (uses_pincount(m, folio))
		return atomic_read(&folio->_pincount);
	switch (tracking(m)) {
	case PINMM_PIN_EXACT:
		return (int)__atomic_load_n(exact_count(folio), __ATOMIC_RELAXED);
	case PINMM_PIN_MAPCOUNT: {
		int extra = folio_ref_count(folio) - expected_refs(folio);
		return extra > 0 ? extra : 0;
	}
	default:
		return (int)((unsigned)folio_ref_count(folio) / GUP_PIN_COUNTING_BIAS);
	}
}

bool folio_maybe_dma_pinned_m(struct pinmm *m, struct folio *folio)
{
	if (uses_pincount(m, folio))
		return atomic_read(&folio->_pincount) > 0;
	switch (tracking(m)) {
	case PINMM_PIN_EXACT:
		return __atomic_load_n(exact_count(folio), __ATOMIC_RELAXED) > 0;
	case PINMM_PIN_MAPCOUNT: {
		/* Two counters, two reads: the inference races with mapping. */
		int refs = folio_ref_count(folio);
		return refs > expected_refs(folio);
	}
	default:
		/* Unsigned: an overflowed (negative) refcount still reads pinned. */
		return (unsigned)folio_ref_count(folio) >= GUP_PIN_COUNTING_BIAS;
	}
}

/**
 * folio_maybe_dma_pinned() - may @folio carry a FOLL_PIN reference?
 * Context: any.  Racy unless new pins were made impossible first (§6.2).
 * Return: true if maybe pinned; false means certainly not (bias, exact).
 */
bool folio_maybe_dma_pinned(struct folio *folio)
{
	return folio_maybe_dma_pinned_m(folio_machine(folio), folio);
}

/*
 * Account @refs new pins on @folio (the plain +refs is already taken).
 * nr_foll_pin_acquired is counted by the callers, once per GUP call.
 */
static void pin_account_add(struct pinmm *m, struct folio *folio, int refs)
{
	if (uses_pincount(m, folio)) {
		explore_point(EP_REF, folio);
		atomic_add(refs, &folio->_pincount);
	} else {
		switch (tracking(m)) {
		case PINMM_PIN_EXACT:
			__atomic_fetch_add(exact_count(folio), refs, __ATOMIC_RELAXED);
			break;
		case PINMM_PIN_MAPCOUNT:
			break;
		default:
			folio_ref_add(folio, refs * (GUP_PIN_COUNTING_BIAS - 1));
			break;
		}
	}
	if (unlikely(m->provenance))
		provenance_pin(m, folio, refs);
}

/**
 * try_grab_folio() - take @refs references of kind @flags on @folio.
 * Context: slow path: the page-table lock (or another stable reference)
 * keeps @folio from being freed.
 * Return: 0; -ENOMEM when the refcount is <= 0 (freed, frozen or
 * overflowed: WARNs).
 */
int try_grab_folio(struct pinmm *m, struct folio *folio, int refs, unsigned int flags)
{
	if (WARN_ON_ONCE(folio_ref_count(folio) <= 0))
		return -ENOMEM;
	if (flags & FOLL_GET) {
		folio_ref_add(folio, refs);
	} else if (flags & FOLL_PIN) {
		if (is_zero_folio(folio))
			return 0;
		folio_ref_add(folio, refs);
		pin_account_add(m, folio, refs);
		count_vm_events(m, NR_FOLL_PIN_ACQUIRED, refs);
	}
	return 0;
}

/*
 * try_get_folio() - speculative reference for GUP-fast: add @refs unless
 * the refcount is 0, then make sure @page still belongs to that folio.
 */
static struct folio *try_get_folio(struct page *page, int refs)
{
	struct folio *folio;

retry:
	folio = page_folio(page);
	if (WARN_ON_ONCE(folio_ref_count(folio) < 0))
		return NULL;
	if (unlikely(!folio_ref_try_add(folio, refs)))
		return NULL;
	/* A split may have moved the page to another folio meanwhile. */
	if (unlikely(page_folio(page) != folio)) {
		folio_put_refs(folio, refs);
		goto retry;
	}
	return folio;
}

/**
 * try_grab_folio_fast() - GUP-fast's grab: speculative reference, then
 * the pin part; refuses FOLL_LONGTERM on folios that are not long-term
 * pinnable so that the slow path migrates them.  The caller counts
 * nr_foll_pin_acquired for what it keeps (gup_fast()), and releases what it
 * undoes with __gup_put_folio(..., false).
 * Context: rcu_read_lock() held (the lockless walk).
 * Return: the folio, or NULL (fall back).
 */
struct folio *try_grab_folio_fast(struct pinmm *m, struct page *page, int refs,
				  unsigned int flags)
{
	struct folio *folio;

	if (WARN_ON_ONCE(!(flags & (FOLL_GET | FOLL_PIN))))
		return NULL;
	if (flags & FOLL_GET)
		return try_get_folio(page, refs);
	/* FOLL_PIN */
	if (is_zero_page(page))
		return page_folio(page);
	if (tracking(m) == PINMM_PIN_BIAS && !folio_test_large(page_folio(page))) {
		/* One atomic: the speculative reference carries the whole bias. */
		int bias = refs * (int)GUP_PIN_COUNTING_BIAS;

		folio = try_get_folio(page, bias);
		if (!folio)
			return NULL;
		if (unlikely(folio_test_large(folio)) ||
		    ((flags & FOLL_LONGTERM) && !folio_is_longterm_pinnable(m, folio))) {
			folio_put_refs(folio, bias);
			return NULL;
		}
		if (unlikely(m->provenance))
			provenance_pin(m, folio, refs);
		smp_mb__after_atomic();
		return folio;
	}
	folio = try_get_folio(page, refs);
	if (!folio)
		return NULL;
	if ((flags & FOLL_LONGTERM) && !folio_is_longterm_pinnable(m, folio)) {
		folio_put_refs(folio, refs);
		return NULL;
	}
	pin_account_add(m, folio, refs);
	/* Pin visible before the caller re-reads the PTE (step B3/B4). */
	smp_mb__after_atomic();
	return folio;
}

/**
 * __gup_put_folio() - release @refs references of kind @flags.  Releasing
 * a pin that is not there WARNs once, is counted (unpin_not_pinned) and
 * changes nothing, so that accounting is never corrupted.  @count: add the
 * released pins to nr_foll_pin_released here (callers that batch pass
 * false and count what succeeded).
 * Context: any.
 * Return: true if the references were released (false for the zero page
 * and for pins that were not there).
 */
bool __gup_put_folio(struct pinmm *m, struct folio *folio, int refs, unsigned int flags,
		     bool count)
{
	if (flags & FOLL_PIN) {
		int pages = refs;

		if (is_zero_folio(folio))
			return false;
		if (uses_pincount(m, folio)) {
			if (WARN_ON_ONCE(atomic_read(&folio->_pincount) < refs))
				goto not_pinned;
			explore_point(EP_REF, folio);
			atomic_sub(refs, &folio->_pincount);
		} else {
			switch (tracking(m)) {
			case PINMM_PIN_EXACT:
				if (WARN_ON_ONCE(__atomic_load_n(exact_count(folio), __ATOMIC_RELAXED) < refs))
					goto not_pinned;
				__atomic_fetch_sub(exact_count(folio), refs, __ATOMIC_RELAXED);
				break;
			case PINMM_PIN_MAPCOUNT:
				if (WARN_ON_ONCE(folio_ref_count(folio) - refs < expected_refs(folio)))
					goto not_pinned;
				break;
			default:
				if (WARN_ON_ONCE((unsigned)folio_ref_count(folio) <
						 (unsigned)refs * GUP_PIN_COUNTING_BIAS))
					goto not_pinned;
				refs *= GUP_PIN_COUNTING_BIAS;
				break;
			}
		}
		if (unlikely(m->provenance))
			provenance_unpin(m, folio, pages);
		if (count)
			count_vm_events(m, NR_FOLL_PIN_RELEASED, pages);
		folio_put_refs(folio, refs);
		/* fs.pinned_policy=holdoff: wake a waiter (address only). */
		pin_policy_unpin_notify(folio);
		return true;
	}
	folio_put_refs(folio, refs);
	return true;
not_pinned:
	count_vm_event(m, UNPIN_NOT_PINNED);
	return false;
}

/**
 * gup_put_folio() - release @refs references of kind @flags, counting
 * released pins.
 * Context: any.
 */
void gup_put_folio(struct pinmm *m, struct folio *folio, int refs, unsigned int flags)
{
	__gup_put_folio(m, folio, refs, flags, true);
}

/**
 * folio_add_pin() - one more pin on an already pinned folio.
 * Context: the caller holds a pin on @folio.
 */
void folio_add_pin(struct pinmm *m, struct folio *folio)
{
	if (is_zero_folio(folio))
		return;
	WARN_ON_ONCE(!folio_maybe_dma_pinned_m(m, folio));
	folio_ref_add(folio, 1);
	pin_account_add(m, folio, 1);
}

/**
 * folio_is_longterm_pinnable() - may @folio hold a long-term pin where it
 * is?  Not in ZONE_MOVABLE, not in CMA, not a DAX (device) frame.
 * Context: any.
 * Return: true if so.
 */
bool folio_is_longterm_pinnable(struct pinmm *m, struct folio *folio)
{
	enum zone_type z;

	if (is_zero_folio(folio))
		return true;
	z = pfn_zone_idx(m, page_to_pfn_m(m, &folio->page));
	return z != ZONE_MOVABLE && z != ZONE_CMA && z != ZONE_DEVICE;
}
