/* SPDX-License-Identifier: MIT */
/*
 * page_pcp.c - the per-CPU page lists (pcp) in front of the buddy
 * allocator: each buddy zone keeps, per CPU, a list of free order-0 pages,
 * so that most single-page allocations and frees take only that CPU's
 * list lock instead of zone->lock.
 *
 * Owns: struct per_cpu_pages (machine.h), its batch and high watermark,
 * refill and drain, zone_pcp_disable()/zone_pcp_enable().
 * Does not own: the buddy lists (page_alloc.c: rmqueue_bulk() and
 * free_pcppages_bulk() move pages in and out under zone->lock), which CPU a
 * thread is on (smp.h).
 *
 * Design notes
 *  1. Lock order: pcp->lock, then zone->lock (doc/LOCKING.md).  A CPU may be
 *     shared by threads (smp.h), so the hot paths only *try* the lock: when
 *     another thread of the same CPU holds it, they go straight to the
 *     buddy lists, as Linux's pcp_spin_trylock() fallback does.  Draining
 *     takes the lock and waits.
 *  2. Watermarks, from the zone's size as Linux's zone_batchsize():
 *     batch = managed/1024 pages, at most 256, a quarter of that, rounded
 *     down to 2^k - 1 (at least 1); high = 6 * batch.  An empty list is
 *     refilled with @batch pages; a free that leaves more than @high pages
 *     returns the @batch coldest (the list's tail) to the buddy lists.
 *  3. A pcp page is free but not in the buddy lists: it has PG_pcp, no
 *     PG_buddy, refcount 0, and ->index says whether its frame reads as
 *     zero (page_alloc.c note 3).  It cannot merge with its buddy until it
 *     is drained.  zone->nr_free and NR_FREE_PAGES count the buddy lists
 *     only (as Linux's NR_FREE_PAGES); every reader of free counts adds
 *     pcp->count (zone_pcp_pages()), so they stay exact when quiescent.
 *  4. Drains: drain_all_pages() empties the lists of every CPU; callers are
 *     an allocation that found nothing (page_alloc.c), the leak check, and
 *     zone_pcp_disable() (compaction, memory offlining), which also makes
 *     allocations and frees bypass the lists until zone_pcp_enable().
 *     zone->pcp_disabled is read under pcp->lock and set before the drain
 *     takes each pcp->lock, so no page is parked on a list after the drain
 *     of that list (doc/MEMORY-ORDERING.md (k)).
 */
#include <errno.h>
#include <stdlib.h>

#include "mm.h"

/* Design note 2. */
static int zone_batchsize(const struct zone *zone)
{
	unsigned long batch = zone->managed_pages >> 10;

	if (batch > 256)
		batch = 256;
	batch /= 4;
	if (batch < 1)
		batch = 1;
	batch += batch / 2;
	/* round down to a power of two, minus one */
	while (batch & (batch - 1))
		batch &= batch - 1;
	return batch > 1 ? (int)batch - 1 : 1;
}

/**
 * zone_pcp_init() - set up the per-CPU page lists of a buddy zone.
 * @m: the machine; m->nr_cpus is set
 * @zone: the zone, managed_pages set
 *
 * Context: boot, single-threaded.
 * Return: 0, or -ENOMEM.
 */
int zone_pcp_init(struct pinmm *m, struct zone *zone)
{
	int batch = zone_batchsize(zone);

	zone->pcp = aligned_alloc(_Alignof(struct per_cpu_pages),
				  m->nr_cpus * sizeof(*zone->pcp));
	if (!zone->pcp)
		return -ENOMEM;
	for (unsigned int cpu = 0; cpu < m->nr_cpus; cpu++) {
		struct per_cpu_pages *pcp = &zone->pcp[cpu];

		spin_lock_init(&pcp->lock);
		pcp->count = 0;
		pcp->batch = batch;
		pcp->high = 6 * batch;
		INIT_LIST_HEAD(&pcp->list);
	}
	return 0;
}

/**
 * zone_pcp_exit() - free the per-CPU page lists of @zone.
 * @m: the machine
 * @zone: the zone
 *
 * Pages still on the lists (a boot that failed after allocating) go away
 * with the machine's memory; shutdown drained them in its leak check.
 * Context: shutdown or a failed boot, single-threaded.
 */
void zone_pcp_exit(struct pinmm *m, struct zone *zone)
{
	if (!zone->pcp)
		return;
	for (unsigned int cpu = 0; cpu < m->nr_cpus; cpu++)
		spin_lock_destroy(&zone->pcp[cpu].lock);
	free(zone->pcp);
	zone->pcp = NULL;
}

static inline struct per_cpu_pages *this_cpu_pcp(struct pinmm *m, struct zone *zone)
{
	return &zone->pcp[smp_processor_id_m(m)];
}

/**
 * rmqueue_pcplist() - take one free page of @zone from the calling CPU's
 * list, refilling it with a batch from the buddy lists when empty.
 * @m: the machine
 * @zone: a zone
 *
 * The page is off the list with PG_pcp cleared; ->index still tells
 * whether the frame reads as zero (page_alloc.c).
 * Context: any; tries the pcp lock (design note 1), may take zone->lock.
 * Return: the page, or NULL when the list is busy or disabled, or the zone
 * has no free page: the caller then tries the buddy lists.
 */
struct page *rmqueue_pcplist(struct pinmm *m, struct zone *zone)
{
	struct per_cpu_pages *pcp;
	struct page *page = NULL;

	if (!zone->pcp)
		return NULL;
	pcp = this_cpu_pcp(m, zone);
	if (!spin_trylock(&pcp->lock))
		return NULL;
	if (atomic_read(&zone->pcp_disabled))	/* (k) 3 */
		goto out;
	if (list_empty(&pcp->list)) {
		int n = rmqueue_bulk(m, zone, pcp->batch, &pcp->list);

		WRITE_ONCE(pcp->count, pcp->count + n);
		if (!n)
			goto out;
	}
	page = list_first_entry(&pcp->list, struct page, lru);
	list_del(&page->lru);
	/* compound_head = 0: not a tail (read speculatively by GUP-fast) */
	WRITE_ONCE(page->lru.next, NULL);
	WRITE_ONCE(page->lru.prev, NULL);
	VM_BUG_ON_PAGE(!PagePcp(page), page);
	clear_bit(PG_pcp, &page->flags);
	WRITE_ONCE(pcp->count, pcp->count - 1);
out:
	spin_unlock(&pcp->lock);
	return page;
}

/**
 * free_unref_page() - park a free order-0 page on the calling CPU's list of
 * @zone, returning a batch to the buddy lists above the high watermark.
 * @m: the machine
 * @zone: the page's zone
 * @page: the page, reset by free_pages_prepared() (refcount 0, flags 0 or
 *        PG_poisoned, ->index 0)
 *
 * Context: any; tries the pcp lock (design note 1), may take zone->lock.
 * Return: true when the page is on the list; false when the list is busy or
 * disabled and the caller must free the page to the buddy lists itself.
 */
bool free_unref_page(struct pinmm *m, struct zone *zone, struct page *page)
{
	struct per_cpu_pages *pcp;

	if (!zone->pcp)
		return false;
	pcp = this_cpu_pcp(m, zone);
	if (!spin_trylock(&pcp->lock))
		return false;
	if (atomic_read(&zone->pcp_disabled)) {	/* MEMORY-ORDERING.md (k) 3 */
		spin_unlock(&pcp->lock);
		return false;
	}
	set_bit(PG_pcp, &page->flags);
	list_add(&page->lru, &pcp->list);
	WRITE_ONCE(pcp->count, pcp->count + 1);
	if (pcp->count > pcp->high)
		free_pcppages_bulk(m, zone, pcp, pcp->batch);
	spin_unlock(&pcp->lock);
	return true;
}

/* Empty one CPU's list of @zone; returns the pages moved. */
static long drain_pages_zone(struct pinmm *m, struct zone *zone, unsigned int cpu)
{
	struct per_cpu_pages *pcp = &zone->pcp[cpu];
	long n;

	spin_lock(&pcp->lock);
	n = pcp->count;
	if (n)
		free_pcppages_bulk(m, zone, pcp, (int)n);
	spin_unlock(&pcp->lock);
	return n;
}

/**
 * drain_local_pages() - return the calling CPU's pcp pages of @zone (every
 * zone when NULL) to the buddy lists.
 * @m: the machine
 * @zone: one zone, or NULL
 *
 * Context: any; takes the CPU's pcp locks and zone->lock; may sleep.
 * Return: the number of pages returned.
 */
long drain_local_pages(struct pinmm *m, struct zone *zone)
{
	unsigned int cpu = smp_processor_id_m(m);
	long n = 0;

	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct zone *zn = &m->zones[z];

		if ((!zone || zone == zn) && zn->pcp)
			n += drain_pages_zone(m, zn, cpu);
	}
	return n;
}

/**
 * drain_all_pages() - return the pcp pages of every CPU of @zone (every
 * zone when NULL) to the buddy lists.
 * @m: the machine
 * @zone: one zone, or NULL
 *
 * Pages freed concurrently may land on a list again right after it was
 * drained, unless the zone's lists are disabled (zone_pcp_disable()).
 * Context: any; takes each pcp lock in turn and zone->lock; may sleep.
 * Return: the number of pages returned.
 */
long drain_all_pages(struct pinmm *m, struct zone *zone)
{
	long n = 0;

	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct zone *zn = &m->zones[z];

		if ((zone && zone != zn) || !zn->pcp)
			continue;
		for (unsigned int cpu = 0; cpu < m->nr_cpus; cpu++)
			n += drain_pages_zone(m, zn, cpu);
	}
	return n;
}

/**
 * zone_pcp_disable() - drain the per-CPU lists of @zone and keep them empty
 * until zone_pcp_enable(): allocations and frees of the zone go to the
 * buddy lists, so that free pages merge and a pfn scan sees each free page
 * as PG_buddy (compaction, offlining).
 * @m: the machine
 * @zone: the zone
 *
 * Calls nest: the lists come back at the last zone_pcp_enable().
 * Context: any; takes every pcp lock of @zone in turn; may sleep.
 */
void zone_pcp_disable(struct pinmm *m, struct zone *zone)
{
	/* MEMORY-ORDERING.md (k) 1: before the drain locks each list. */
	atomic_inc_return(&zone->pcp_disabled);
	drain_all_pages(m, zone);	/* (k) 2 */
}

/**
 * zone_pcp_enable() - undo one zone_pcp_disable().
 * @m: the machine
 * @zone: the zone
 *
 * Context: any.
 */
void zone_pcp_enable(struct pinmm *m, struct zone *zone)
{
	int left = atomic_dec_return(&zone->pcp_disabled);

	(void)m;
	VM_BUG_ON(left < 0);
}
