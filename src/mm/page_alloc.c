/* SPDX-License-Identifier: MIT */
/*
 * page_alloc.c - the buddy allocator: one per zone (NORMAL, CMA, MOVABLE;
 * DEVICE frames are never in it), orders 0..MAX_PAGE_ORDER (1 GiB).
 *
 * Owns: free lists, splitting and merging, struct page initialisation of
 * allocated blocks (including the large-folio layout of mm_types.h), the
 * final put of a folio (__folio_put), debug poisoning, giving free 2 MiB+
 * blocks back to the host, and the leak check run at shutdown.
 * Does not own: refcount protocols (mm.h), rmap (rmap.c), pins (gup.c).
 *
 * Design notes
 *  1. A free block of order o starts at a pfn aligned to 2^o and lies inside
 *     one zone.  Only its head page carries state: PG_buddy, private = o,
 *     index = FREE_ZEROED if the frames are known to read as zero.  Every
 *     other struct page of a free block has flags 0 or PG_poisoned and is
 *     otherwise ignored.  Boot touches only block heads: struct pages never
 *     touched read as zero.
 *  2. A page's zone comes from its pfn (pfn_zone_idx()), never from flags.
 *  3. Every free block of order >= HPAGE_PMD_ORDER is FREE_ZEROED: when a
 *     block reaches that order by a free or a merge, its host range is
 *     dropped with MADV_DONTNEED (reads as zero afterwards, costs no host
 *     memory) and PG_poisoned is cleared on its pages.  A split hands
 *     FREE_ZEROED down to both halves; __GFP_ZERO skips the memset for it.
 *  4. Debug (CONFIG_DEBUG_VM && m->debug >= 1): blocks freed below
 *     HPAGE_PMD_ORDER are filled with PAGE_POISON and their pages marked
 *     PG_poisoned; at m->debug >= 2 allocation verifies the pattern, and a
 *     difference is a write after free (WARN).
 *  5. zone->lock protects the free lists, free_area[].nr_free and the head
 *     state of free blocks.  zone->nr_free and NR_FREE_PAGES count the
 *     pages in the buddy lists only and are updated under the lock, so that
 *     they match the lists whenever the lock is free.
 *  6. Order-0 pages go through the per-CPU lists first (page_pcp.c): a free
 *     page is parked on its CPU's list and an allocation takes from it,
 *     under that list's lock only; rmqueue_bulk() and free_pcppages_bulk()
 *     below move pages between a pcp list and the buddy lists in batches.
 *     A pcp page carries PG_pcp and keeps FREE_ZEROED in ->index.  Readers
 *     of free counts add the pcp pages (zone_free_pages(), vmstat.c); the
 *     leak check drains them first.  An allocation that finds nothing
 *     drains every CPU's lists and tries once more.
 *  7. Frames waiting for an RCU grace period (page tables, pte_free_rcu())
 *     are freeable, not in use: an allocation that still finds nothing
 *     while m->nr_rcu_free_pending > 0 waits for the pending callbacks
 *     (rcu_barrier()) and tries again before it fails, so that a fork
 *     right after many exits does not see -ENOMEM only because liburcu's
 *     callback thread is behind.  It waits only where waiting for a grace
 *     period cannot deadlock: outside rcu_read_lock() and with no spinlock
 *     held (pinmm_spin_depth); elsewhere it fails as before.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mm.h"
#include "hugetlb.h"
#include "dax.h"
#include "rcu.h"

__thread unsigned int pinmm_memalloc_pin;

#define PAGE_POISON	0x6b
#define FREE_ZEROED	1UL	/* head->index of a free block: frames read as zero */

static const char *const zone_names[MAX_NR_ZONES] = {
	[ZONE_NORMAL] = "normal", [ZONE_CMA] = "cma",
	[ZONE_MOVABLE] = "movable", [ZONE_DEVICE] = "device",
};

/**
 * zone_name() - the name of a zone ("normal", "cma", "movable", "device").
 * @z: the zone index
 *
 * Context: any.
 * Return: a static string; "?" for an invalid index.
 */
const char *zone_name(enum zone_type z)
{
	if ((unsigned)z >= MAX_NR_ZONES)
		return "?";
	return zone_names[z];
}

/**
 * zone_free_pages() - free frames in a zone.
 * @m: the machine
 * @z: the zone index
 *
 * Counts the buddy lists and the per-CPU lists.
 * Context: any; lock-free snapshot, exact when nothing allocates or frees.
 * Return: the count (0 for ZONE_DEVICE), -EINVAL for an invalid index.
 */
long zone_free_pages(struct pinmm *m, enum zone_type z)
{
	if ((unsigned)z >= MAX_NR_ZONES)
		return -EINVAL;
	return atomic_long_read(&m->zones[z].nr_free) + zone_pcp_pages(m, &m->zones[z]);
}

static inline bool debug_poison(const struct pinmm *m)
{
	return CONFIG_DEBUG_VM && m->debug >= 1;
}

static inline bool zone_is_buddy(const struct zone *zone)
{
	return zone->idx != ZONE_DEVICE;
}

/* Free-list primitives (zone->lock held). */
static void add_to_free_list(struct zone *zone, struct page *page, unsigned int order,
			     bool zeroed)
{
	set_bit(PG_buddy, &page->flags);
	page->private = order;
	page->index = zeroed ? FREE_ZEROED : 0;
	WRITE_ONCE(page->mapping, NULL);
	atomic_set(&page->_mapcount, -1);
	list_add(&page->lru, &zone->free_area[order].free_list);
	zone->free_area[order].nr_free++;
}

static void del_from_free_list(struct zone *zone, struct page *page, unsigned int order)
{
	list_del(&page->lru);
	/* compound_head = 0: not a tail (read speculatively by GUP-fast) */
	WRITE_ONCE(page->lru.next, NULL);
	WRITE_ONCE(page->lru.prev, NULL);
	clear_bit(PG_buddy, &page->flags);
	page->private = 0;
	page->index = 0;
	zone->free_area[order].nr_free--;
}

static inline bool page_is_buddy(const struct page *page, unsigned int order)
{
	return PageBuddy(page) && page->private == order;
}

/*
 * Design note 3: give the frames of the free block [pfn, pfn + 2^order) back
 * to the host.  @scan: pages may carry PG_poisoned (the block was assembled
 * from pieces freed below HPAGE_PMD_ORDER).
 */
static void reclaim_block(struct pinmm *m, unsigned long pfn, unsigned int order, bool scan)
{
	unsigned long nr = 1UL << order;

	if (scan)
		for (unsigned long i = 0; i < nr; i++) {
			struct page *p = pfn_to_page_m(m, pfn + i);

			if (READ_ONCE(p->flags) & BIT(PG_poisoned))
				clear_bit(PG_poisoned, &p->flags);
		}
	if (madvise(pfn_to_virt(m, pfn), nr << PAGE_SHIFT, MADV_DONTNEED))
		/* The host refused: the frames keep their contents. */
		memset(pfn_to_virt(m, pfn), 0, nr << PAGE_SHIFT);
}

/* Insert a free block, merging with free buddies (zone->lock held). */
static void free_one_block(struct pinmm *m, struct zone *zone, unsigned long pfn,
			   unsigned int order, bool zeroed)
{
	if (order >= HPAGE_PMD_ORDER && !zeroed) {
		reclaim_block(m, pfn, order, false);
		zeroed = true;
	}
	while (order < MAX_PAGE_ORDER) {
		unsigned long buddy_pfn = pfn ^ (1UL << order);
		struct page *buddy;

		if (buddy_pfn < zone->start_pfn || buddy_pfn + (1UL << order) > zone->end_pfn)
			break;
		buddy = pfn_to_page_m(m, buddy_pfn);
		if (!page_is_buddy(buddy, order))
			break;
		zeroed = zeroed && buddy->index == FREE_ZEROED;
		del_from_free_list(zone, buddy, order);
		pfn &= ~(1UL << order);
		order++;
		if (order == HPAGE_PMD_ORDER && !zeroed) {
			reclaim_block(m, pfn, order, true);
			zeroed = true;
		}
	}
	add_to_free_list(zone, pfn_to_page_m(m, pfn), order, zeroed);
}

/* Take a block of @order from @zone, splitting a larger one (zone->lock held). */
static struct page *rmqueue(struct pinmm *m, struct zone *zone, unsigned int order,
			    bool *zeroed)
{
	for (unsigned int o = order; o <= MAX_PAGE_ORDER; o++) {
		struct free_area *area = &zone->free_area[o];
		struct page *page;
		unsigned long pfn;

		if (list_empty(&area->free_list))
			continue;
		page = list_first_entry(&area->free_list, struct page, lru);
		VM_BUG_ON_PAGE(!page_is_buddy(page, o), page);
		*zeroed = page->index == FREE_ZEROED;
		del_from_free_list(zone, page, o);
		pfn = page_to_pfn_m(m, page);
		/* Give back the upper halves, largest first. */
		while (o > order) {
			o--;
			add_to_free_list(zone, pfn_to_page_m(m, pfn + (1UL << o)), o, *zeroed);
		}
		return page;
	}
	return NULL;
}

/**
 * rmqueue_bulk() - move up to @count order-0 pages from the buddy lists of
 * @zone to the tail of @list (a pcp list), marked PG_pcp.
 * @m: the machine
 * @zone: a buddy zone
 * @count: pages wanted
 * @list: the pcp list
 *
 * Context: the pcp list's lock held; takes zone->lock.
 * Return: the number of pages moved (fewer when the zone runs out).
 */
int rmqueue_bulk(struct pinmm *m, struct zone *zone, int count, struct list_head *list)
{
	int n = 0;

	spin_lock(&zone->lock);
	while (n < count) {
		bool zeroed;
		struct page *page = rmqueue(m, zone, 0, &zeroed);

		if (!page)
			break;
		page->index = zeroed ? FREE_ZEROED : 0;
		set_bit(PG_pcp, &page->flags);
		list_add_tail(&page->lru, list);
		n++;
	}
	atomic_long_sub(n, &zone->nr_free);
	mod_vm_stat(m, NR_FREE_PAGES, -(long)n);
	spin_unlock(&zone->lock);
	return n;
}

/**
 * free_pcppages_bulk() - return the @count coldest pages of @pcp (its
 * tail) to the buddy lists of @zone.
 * @m: the machine
 * @zone: the zone of @pcp
 * @pcp: one CPU's list of @zone, holding at least @count pages
 * @count: pages to return
 *
 * Context: @pcp->lock held; takes zone->lock.
 */
void free_pcppages_bulk(struct pinmm *m, struct zone *zone, struct per_cpu_pages *pcp,
			int count)
{
	lockdep_assert_held(&pcp->lock);
	VM_BUG_ON(count > pcp->count);
	spin_lock(&zone->lock);
	for (int i = 0; i < count; i++) {
		struct page *page = list_last_entry(&pcp->list, struct page, lru);

		list_del(&page->lru);
		clear_bit(PG_pcp, &page->flags);
		free_one_block(m, zone, page_to_pfn_m(m, page), 0, page->index == FREE_ZEROED);
	}
	atomic_long_add(count, &zone->nr_free);
	mod_vm_stat(m, NR_FREE_PAGES, count);
	spin_unlock(&zone->lock);
	WRITE_ONCE(pcp->count, pcp->count - count);
}

static bool frame_is_poisoned(const void *frame)
{
	const uint64_t *w = frame;
	const uint64_t pattern = 0x0101010101010101ULL * PAGE_POISON;

	for (size_t i = 0; i < PAGE_SIZE / sizeof(*w); i++)
		if (w[i] != pattern)
			return false;
	return true;
}

/* Design note 4: verify the poison of a block about to be handed out. */
static void check_poison(struct pinmm *m, unsigned long pfn, unsigned int order)
{
	for (unsigned long i = 0; i < (1UL << order); i++) {
		struct page *p = pfn_to_page_m(m, pfn + i);

		if (!(READ_ONCE(p->flags) & BIT(PG_poisoned)))
			continue;
		if (!frame_is_poisoned(pfn_to_virt(m, pfn + i)))
			WARN(1, "page_alloc: pfn %#lx was written after it was freed "
			     "(poison 0x%x corrupted)", pfn + i, PAGE_POISON);
	}
}

/*
 * Reset one struct page.  @flags is stored with WRITE_ONCE: a thread freeing
 * the buddy block reads it (page_is_buddy(), under zone->lock) while the
 * owner of this page resets it; PG_buddy is clear on both sides of the store.
 */
static void init_page(struct page *p)
{
	WRITE_ONCE(p->flags, 0);
	/* GUP-fast may read these speculatively from a stale PTE. */
	WRITE_ONCE(p->compound_head, 0);
	p->__tail_pad = 0;
	WRITE_ONCE(p->mapping, NULL);
	p->index = 0;
	p->private = 0;
	atomic_set(&p->_mapcount, -1);
	atomic_set(&p->_refcount, 0);
	p->pinmm_data = 0;
}

static void prep_compound(struct page *head, unsigned int order)
{
	struct folio *folio = (struct folio *)head;
	unsigned long nr = 1UL << order;

	for (unsigned long i = 1; i < nr; i++)
		WRITE_ONCE(head[i].compound_head, (unsigned long)head | 1);
	WRITE_ONCE(folio->_flags_1, order);	/* page[1].flags, see init_page() */
	atomic_set(&folio->_large_mapcount, -1);
	atomic_set(&folio->_entire_mapcount, -1);
	atomic_set(&folio->_nr_pages_mapped, 0);
	atomic_set(&folio->_pincount, 0);
	folio->_folio_nr_pages = nr;
	WRITE_ONCE(head->flags, BIT(PG_head) | BIT(PG_large_rmappable));
}

/* The zones @gfp allows, in fallback order; returns how many. */
static int gfp_zonelist(gfp_t gfp, enum zone_type zl[MAX_NR_ZONES])
{
	if (gfp & __GFP_ZONE_ONLY) {
		zl[0] = (enum zone_type)GFP_ZONE_OF(gfp);
		return zl[0] < ZONE_DEVICE ? 1 : 0;
	}
	/* A long-term pin in progress: keep new pages out of MOVABLE and CMA. */
	if (pinmm_memalloc_pin)
		gfp &= ~__GFP_MOVABLE;
	if (!(gfp & __GFP_MOVABLE)) {
		zl[0] = ZONE_NORMAL;
		return 1;
	}
	zl[0] = ZONE_MOVABLE;
	zl[1] = ZONE_CMA;
	zl[2] = ZONE_NORMAL;
	return 3;
}

/*
 * Design note 7: wait for the frames RCU callbacks are about to free.
 * Return: true when there were some and the wait was allowed.
 */
static bool rcu_free_wait(struct pinmm *m)
{
	if (!atomic_long_read(&m->nr_rcu_free_pending) || pinmm_spin_depth ||
	    !pinmm_thread_registered || rcu_read_ongoing())
		return false;
	atomic_long_inc(&m->rcu_free_waits);
	rcu_barrier();
	return true;
}

/**
 * __alloc_pages() - take 2^@order contiguous frames from the buddy allocator.
 * @m: the machine
 * @gfp: __GFP_* flags: __GFP_MOVABLE (MOVABLE, then CMA, then NORMAL; ignored
 *       while pinmm_memalloc_pin is set), __GFP_ZONE_ONLY|__GFP_ZONE(z) (one
 *       zone), __GFP_ZERO, __GFP_COMP (a large folio when @order > 0)
 * @order: 0..MAX_PAGE_ORDER
 * @site: the caller's fault-injection site (the alloc_pages() macro)
 *
 * Every struct page of the block is initialised (no flags, no mapping,
 * _mapcount -1, refcount 0) and the first page gets refcount 1.  Order 0
 * comes from the calling CPU's pcp list when it can (page_pcp.c).  When no
 * allowed zone has a block, the pcp lists of every CPU are drained and the
 * zones tried once more, as Linux does before it declares OOM; then, when
 * page-table frames are waiting for RCU callbacks, those are waited for
 * and the zones tried again (design note 7).
 * Context: any; takes a pcp lock and/or zone->lock.  Outside rcu_read_lock()
 * and spinlocks it may wait for an RCU grace period.
 * Return: the first page, or NULL when no allowed zone has a free block of
 * @order (or @order is too large).
 */
struct page *__alloc_pages(struct pinmm *m, gfp_t gfp, unsigned int order,
			   struct fail_site *site)
{
	enum zone_type zl[MAX_NR_ZONES];
	struct page *page = NULL;
	struct zone *zone = NULL;
	unsigned long nr = 1UL << order, pfn;
	bool zeroed = false, drained = false, rcu_waited = false;
	int n;

	if (order > MAX_PAGE_ORDER)
		return NULL;
	/* fail_page_alloc: the caller sees exactly an exhausted allocator */
	if (should_fail(site))
		return NULL;
	n = gfp_zonelist(gfp, zl);
retry:
	for (int i = 0; i < n && !page; i++) {
		zone = &m->zones[zl[i]];
		if (zone->start_pfn == zone->end_pfn)
			continue;
		if (order == 0) {
			page = rmqueue_pcplist(m, zone);
			if (page) {
				zeroed = page->index == FREE_ZEROED;
				break;
			}
		}
		spin_lock(&zone->lock);
		page = rmqueue(m, zone, order, &zeroed);
		if (page) {
			atomic_long_sub((long)nr, &zone->nr_free);
			mod_vm_stat(m, NR_FREE_PAGES, -(long)nr);
		}
		spin_unlock(&zone->lock);
	}
	if (!page) {
		if (!drained && drain_all_pages(m, NULL) > 0) {
			drained = true;
			goto retry;
		}
		if (!rcu_waited && rcu_free_wait(m)) {
			rcu_waited = true;
			drained = false;
			goto retry;
		}
		return NULL;
	}
	count_vm_events(m, PGALLOC, (long)nr);
	pfn = page_to_pfn_m(m, page);

	if (CONFIG_DEBUG_VM && m->debug >= 2 && !zeroed)
		check_poison(m, pfn, order);
	for (unsigned long i = 0; i < nr; i++)
		init_page(page + i);
	if ((gfp & __GFP_ZERO) && !zeroed)
		memset(pfn_to_virt(m, pfn), 0, nr << PAGE_SHIFT);
	if ((gfp & __GFP_COMP) && order > 0)
		prep_compound(page, order);
	/* Last: a speculative folio_try_get() sees a fully set up page. */
	atomic_store_explicit(&page->_refcount, 1, memory_order_release);
	return page;
}

/**
 * __folio_alloc() - alloc_pages() with __GFP_COMP: a folio of 2^@order pages.
 * @m: the machine
 * @gfp: as for alloc_pages()
 * @order: 0..MAX_PAGE_ORDER
 * @site: the caller's fault-injection site (the folio_alloc() macro)
 *
 * Context: any; takes zone->lock.
 * Return: the folio with refcount 1, or NULL.
 */
struct folio *__folio_alloc(struct pinmm *m, gfp_t gfp, unsigned int order,
			    struct fail_site *site)
{
	return (struct folio *)__alloc_pages(m, gfp | __GFP_COMP, order, site);
}

/*
 * Linux's bad_page(): a block about to be freed is still in use.  Report it
 * and leak it, so that the allocator stays consistent; the leak check at
 * shutdown lists it again.
 */
static bool free_pages_check(struct pinmm *m, struct page *page, unsigned int order)
{
	const char *bad = NULL;
	struct page *bad_page = page;

	if (PageBuddy(page) || PagePcp(page))
		bad = "freeing a free block (double free)";
	else if (page_ref_count(page) != 0)
		bad = "nonzero refcount";
	else if (PageTail(page))
		bad = "freeing a tail page";
	else if (page_to_pfn_m(m, page) & ((1UL << order) - 1))
		bad = "block not aligned to its order";
	if (!bad && m->debug >= 1) {
		for (unsigned long i = 0; i < (1UL << order) && !bad; i++) {
			if (atomic_read(&page[i]._mapcount) != -1) {
				bad = "still mapped";
				bad_page = &page[i];
			} else if (i && page_ref_count(&page[i]) != 0) {
				bad = "tail page with a refcount";
				bad_page = &page[i];
			}
		}
		if (!bad && PageHead(page)) {
			struct folio *folio = (struct folio *)page;

			if (folio_order(folio) != order)
				bad = "order does not match the folio";
			else if (atomic_read(&folio->_entire_mapcount) != -1 ||
				 atomic_read(&folio->_large_mapcount) != -1)
				bad = "large folio still mapped";
			else if (atomic_read(&folio->_pincount) != 0)
				bad = "large folio still pinned";
		}
	}
	if (!bad)
		return true;
	if (!pinmm_machines_quiet())
		dump_page(bad_page, bad);
	WARN(1, "page_alloc: bad page state at pfn %#lx order %u: %s",
	     page_to_pfn_m(m, page), order, bad);
	return false;
}

/* ZONE_DEVICE frames belong to their driver: a final put makes them idle. */
static void free_device_block(struct page *page, unsigned int order)
{
	for (unsigned long i = 0; i < (1UL << order); i++) {
		bool devmap = PageDevmap(&page[i]);

		init_page(&page[i]);
		if (devmap)
			WRITE_ONCE(page[i].flags, BIT(PG_devmap));
	}
}

/**
 * free_pages_prepared() - return a block whose refcount is already 0.
 * @m: the machine
 * @page: first page of the block (a folio head, or a plain block)
 * @order: its order
 *
 * Tears down compound state, resets every struct page, poisons (debug) and
 * merges the block into the free lists; a single page goes to the calling
 * CPU's pcp list when it can (page_pcp.c).  A block that is still in use
 * (mapped, pinned, referenced, already free) is reported and leaked.
 * Context: any; takes a pcp lock and/or zone->lock.
 */
void free_pages_prepared(struct pinmm *m, struct page *page, unsigned int order)
{
	unsigned long pfn = page_to_pfn_m(m, page), nr = 1UL << order;
	struct zone *zone = &m->zones[pfn_zone_idx(m, pfn)];
	bool poison;

	VM_BUG_ON(order > MAX_PAGE_ORDER);
	if (!free_pages_check(m, page, order))
		return;
	if (!zone_is_buddy(zone)) {
		free_device_block(page, order);
		return;
	}
	poison = debug_poison(m) && order < HPAGE_PMD_ORDER;
	for (unsigned long i = 0; i < nr; i++) {
		init_page(&page[i]);
		if (poison)
			WRITE_ONCE(page[i].flags, BIT(PG_poisoned));
	}
	if (poison)
		memset(pfn_to_virt(m, pfn), PAGE_POISON, nr << PAGE_SHIFT);

	if (order == 0 && free_unref_page(m, zone, page)) {
		count_vm_event(m, PGFREE);
		return;
	}
	spin_lock(&zone->lock);
	free_one_block(m, zone, pfn, order, false);
	atomic_long_add((long)nr, &zone->nr_free);
	mod_vm_stat(m, NR_FREE_PAGES, (long)nr);
	spin_unlock(&zone->lock);
	count_vm_events(m, PGFREE, (long)nr);
}

/**
 * __free_pages() - drop a reference to a block from alloc_pages() and free
 * it when it was the last.
 * @page: first page of the block (not a large folio: use folio_put())
 * @order: the order it was allocated with
 *
 * Context: any; takes zone->lock when the block is freed.
 */
void __free_pages(struct page *page, unsigned int order)
{
	struct pinmm *m = page_machine(page);
	int ref;

	VM_BUG_ON_PAGE(PageHead(page), page);
	ref = atomic_dec_return(&page->_refcount);
	VM_BUG_ON_PAGE(ref < 0, page);
	if (ref == 0)
		free_pages_prepared(m, page, order);
}

/**
 * __folio_put() - free a folio whose refcount has dropped to 0.
 * @folio: the folio
 *
 * Drops the anon_vma reference of an anonymous folio, clears the mapping and
 * returns the frames to the buddy allocator.  A ZONE_DEVICE (fsdax) frame
 * goes idle instead: free_zone_device_folio().  Reserved folios (the zero
 * page) are never freed this way.
 * Context: any; the folio is unmapped; takes zone->lock.
 */
void __folio_put(struct folio *folio)
{
	struct pinmm *m = folio_machine(folio);

	VM_BUG_ON_FOLIO(folio_ref_count(folio) != 0, folio);
	VM_BUG_ON_FOLIO(folio_mapped(folio), folio);
	/* fsdax: the frame goes idle, keeping its owner (mm/dax.c). */
	if (folio_is_zone_device(folio)) {
		free_zone_device_folio(folio);
		return;
	}
	if (WARN(folio_test_Reserved(folio), "page_alloc: final put of reserved pfn %#lx",
		 folio_pfn(folio)))
		return;
	/* hugetlb: back to its pool, not to the buddy allocator. */
	if (folio_test_Hugetlb(folio)) {
		struct anon_vma *anon_vma = folio_test_anon(folio) ? folio_anon_vma(folio) : NULL;

		WRITE_ONCE(folio->mapping, NULL);
		if (anon_vma)
			put_anon_vma(anon_vma);
		free_huge_folio(folio);
		return;
	}
	if (folio_test_anon(folio)) {
		struct anon_vma *anon_vma = folio_anon_vma(folio);

		if (folio_test_large(folio)) {
			folio_undo_deferred_split(folio);
			count_mthp_stat(m, folio_order(folio), MTHP_STAT_NR_ANON, -1);
		}
		WRITE_ONCE(folio->mapping, NULL);
		if (anon_vma)
			put_anon_vma(anon_vma);
	} else {
		WRITE_ONCE(folio->mapping, NULL);
		/* Left the cache still owning fs state (struct folio_orphan). */
		if (unlikely(folio_test_Private(folio))) {
			struct folio_orphan *o = folio->private;

			folio->private = NULL;
			folio_clear_Private(folio);
			if (o && o->free_folio)
				o->free_folio(folio, o);
		}
	}
	free_pages_prepared(m, &folio->page, folio_order(folio));
}

/**
 * page_alloc_init() - set up the zones of @m and fill their free lists.
 * @m: the machine; zones[].start_pfn/end_pfn are set, the memmap is mapped
 *
 * Each buddy zone is covered by the largest aligned blocks that fit; only
 * their head struct pages are written.  Each buddy zone gets its per-CPU
 * page lists (page_pcp.c).
 * Context: boot, single-threaded.
 * Return: 0, or -ENOMEM (host memory for the pcp lists).
 */
int page_alloc_init(struct pinmm *m)
{
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct zone *zone = &m->zones[z];
		unsigned long pfn;

		zone->machine = m;
		zone->idx = (enum zone_type)z;
		zone->name = zone_name((enum zone_type)z);
		spin_lock_init(&zone->lock);
		for (int o = 0; o < NR_PAGE_ORDERS; o++) {
			INIT_LIST_HEAD(&zone->free_area[o].free_list);
			zone->free_area[o].nr_free = 0;
		}
		zone->managed_pages = zone->end_pfn - zone->start_pfn;
		atomic_long_set(&zone->nr_free, 0);
		atomic_set(&zone->pcp_disabled, 0);
		zone->pcp = NULL;
		if (!zone_is_buddy(zone))
			continue;
		if (zone_pcp_init(m, zone))
			goto fail;
		for (pfn = zone->start_pfn; pfn < zone->end_pfn;) {
			unsigned int order = MAX_PAGE_ORDER;

			while (order && ((pfn & ((1UL << order) - 1)) ||
					 pfn + (1UL << order) > zone->end_pfn))
				order--;
			add_to_free_list(zone, pfn_to_page_m(m, pfn), order, true);
			pfn += 1UL << order;
		}
		atomic_long_set(&zone->nr_free, (long)zone->managed_pages);
		mod_vm_stat(m, NR_FREE_PAGES, (long)zone->managed_pages);
	}
	return 0;
fail:
	page_alloc_exit(m);
	return -ENOMEM;
}

/**
 * page_alloc_exit() - tear down the allocator state of @m.
 * @m: the machine, with no allocator user left
 *
 * Context: shutdown, single-threaded.
 */
void page_alloc_exit(struct pinmm *m)
{
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		zone_pcp_exit(m, &m->zones[z]);
		spin_lock_destroy(&m->zones[z].lock);
	}
}

struct free_extent {
	unsigned long pfn, nr;
};

static int cmp_extent(const void *a, const void *b)
{
	const struct free_extent *x = a, *y = b;

	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

#define LEAK_REPORT_MAX	32

/* Print the allocated frames of [start, end); returns entries printed. */
static int report_range(struct pinmm *m, unsigned long start, unsigned long end, int budget)
{
	int printed = 0;

	for (unsigned long pfn = start; pfn < end && printed < budget;) {
		struct page *page = pfn_to_page_m(m, pfn);
		unsigned long step = 1;
		char why[96];

		if (PageHead(page)) {
			step = folio_nr_pages((struct folio *)page);
			snprintf(why, sizeof(why), "leaked large folio, order %u",
				 folio_order((struct folio *)page));
		} else if (PageTail(page)) {
			snprintf(why, sizeof(why), "leaked tail page");
		} else {
			snprintf(why, sizeof(why), "leaked page");
		}
		fprintf(stderr, "pinmm: leak: pfn %#lx zone %s:\n", pfn,
			zone_name(pfn_zone_idx(m, pfn)));
		dump_page(page, why);
		printed++;
		pfn += step;
	}
	return printed;
}

static long report_zone_leaks(struct pinmm *m, struct zone *zone, int *budget)
{
	struct free_extent *ext;
	size_t n = 0, cap = 0;
	unsigned long pfn, ranges = 0;

	spin_lock(&zone->lock);
	for (int o = 0; o < NR_PAGE_ORDERS; o++)
		cap += zone->free_area[o].nr_free;
	ext = calloc(cap ? cap : 1, sizeof(*ext));
	if (!ext) {
		spin_unlock(&zone->lock);
		fprintf(stderr, "pinmm: leak report: out of host memory\n");
		return 0;
	}
	for (int o = 0; o < NR_PAGE_ORDERS; o++) {
		struct page *page;

		list_for_each_entry(page, &zone->free_area[o].free_list, lru)
			if (n < cap)
				ext[n++] = (struct free_extent){ page_to_pfn_m(m, page), 1UL << o };
	}
	spin_unlock(&zone->lock);
	qsort(ext, n, sizeof(*ext), cmp_extent);

	pfn = zone->start_pfn;
	for (size_t i = 0; i <= n; i++) {
		unsigned long next = i < n ? ext[i].pfn : zone->end_pfn;

		if (next > pfn) {
			ranges++;
			fprintf(stderr, "pinmm: leak: zone %s: pfns [%#lx, %#lx) not free "
				"(%lu frames)\n", zone->name, pfn, next, next - pfn);
			if (*budget > 0)
				*budget -= report_range(m, pfn, next, *budget);
		}
		if (i < n)
			pfn = ext[i].pfn + ext[i].nr;
	}
	free(ext);
	return (long)ranges;
}

/**
 * page_alloc_check_leaks() - count frames of the buddy zones that are not
 * in the free lists, plus device (pmem) frames that are not idle.
 * @m: the machine
 * @report: print every allocated range and the state of its frames (the
 *          first LEAK_REPORT_MAX folios/pages in detail) to stderr
 *
 * Drains the per-CPU lists first, then walks the free lists, never the
 * whole memmap: with @report, only struct pages outside free blocks are read.
 * Context: any; takes the pcp locks, then each zone->lock in turn.
 * Meaningful as a leak check only when nothing else is allocating.
 * Return: the number of frames not free.
 */
long page_alloc_check_leaks(struct pinmm *m, bool report)
{
	long leaked = 0;
	int budget = LEAK_REPORT_MAX;

	drain_all_pages(m, NULL);
	for (int z = 0; z < MAX_NR_ZONES; z++) {
		struct zone *zone = &m->zones[z];
		unsigned long free_pages = 0;

		if (!zone_is_buddy(zone))
			continue;
		spin_lock(&zone->lock);
		for (int o = 0; o < NR_PAGE_ORDERS; o++) {
			struct list_head *pos;
			unsigned long cnt = 0;

			list_for_each(pos, &zone->free_area[o].free_list)
				cnt++;
			WARN(cnt != zone->free_area[o].nr_free,
			     "page_alloc: zone %s order %d: %lu blocks listed, nr_free %lu",
			     zone->name, o, cnt, zone->free_area[o].nr_free);
			free_pages += cnt << o;
		}
		WARN((long)free_pages != atomic_long_read(&zone->nr_free),
		     "page_alloc: zone %s: %lu free pages listed, nr_free %ld",
		     zone->name, free_pages, atomic_long_read(&zone->nr_free));
		spin_unlock(&zone->lock);
		if (free_pages == zone->managed_pages)
			continue;
		leaked += (long)(zone->managed_pages - free_pages);
		if (report) {
			fprintf(stderr, "pinmm: leak: zone %s: %lu of %lu frames not free\n",
				zone->name, zone->managed_pages - free_pages,
				zone->managed_pages);
			report_zone_leaks(m, zone, &budget);
		}
	}
	if (report && leaked && budget <= 0)
		fprintf(stderr, "pinmm: leak: (detail limited to %d entries)\n", LEAK_REPORT_MAX);
	/* Device frames are never free: they must be idle (refcount 0). */
	leaked += dax_check_device_leaks(m, report);
	return leaked;
}
