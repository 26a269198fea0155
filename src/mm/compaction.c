/* SPDX-License-Identifier: MIT */
/*
 * compaction.c - the users of migration that pins get in the way of:
 * migrating one page on request, emptying a zone (memory offline, a CMA
 * allocation), compacting zones, and splitting a THP on request (the
 * debugfs split_huge_pages knob).
 *
 * Every one of them treats a maybe-pinned folio as immovable: compaction
 * skips it early (compact_pinned_skip, like isolate_migratepages_block());
 * the others try and fail in migrate_folio_to()/split_folio(), whose
 * refcount freeze is the authoritative check (§6.4, §6.5).
 *
 * Zone scans walk the pfn range of a zone, stepping over free buddy blocks
 * and whole folios, so a scan touches only struct pages of allocated
 * memory and of free-block heads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "trace.h"
#include "fault_inject.h"
#include "gup.h"
#include "pin_policy.h"
#include "rcu.h"

static int zone_by_name(const char *name)
{
	for (int z = 0; z < MAX_NR_ZONES; z++)
		if (!strcmp(zone_name((enum zone_type)z), name))
			return z;
	return -1;
}

/* Allocation flags for a destination in zone @z (or, z < 0, anywhere but @not). */
static struct folio *migrate_to_zone(struct pinmm *m, struct folio *folio, int z, int not)
{
	static const int order[] = { ZONE_NORMAL, ZONE_MOVABLE, ZONE_CMA };
	struct folio *dst = ERR_PTR(-ENOMEM);

	if (z >= 0)
		return migrate_folio_alloc(folio, __GFP_ZONE_ONLY | __GFP_ZONE(z) | __GFP_NOWARN);
	for (unsigned i = 0; i < ARRAY_SIZE(order); i++) {
		if (order[i] == not || m->zones[order[i]].start_pfn == m->zones[order[i]].end_pfn)
			continue;
		dst = migrate_folio_alloc(folio, __GFP_ZONE_ONLY | __GFP_ZONE(order[i]) |
					  __GFP_NOWARN);
		if (!IS_ERR(dst) || PTR_ERR(dst) != -ENOMEM)
			break;
	}
	return dst;
}

/* A referenced folio at @addr in @p, or an ERR_PTR. mmap_lock held. */
static struct folio *folio_at(struct pinmm_proc *p, unsigned long addr)
{
	struct vm_area_struct *vma = vma_lookup(p->mm, addr);
	unsigned long mask;
	struct page *page;

	if (!vma)
		return ERR_PTR(-EFAULT);
	page = follow_page_mask(vma, addr, FOLL_GET, &mask);
	if (IS_ERR_OR_NULL(page))
		return ERR_PTR(-EFAULT);
	return page_folio(page);
}

/**
 * pinmm_migrate_page() - move the folio mapped at @addr to zone @zone.
 * Context: process context; takes @p's mmap_lock for reading.
 * Return: 0, -EFAULT (nothing mapped), -EAGAIN (pinned or busy), -ENOMEM,
 * -EINVAL (zero page, bad zone, NULL process), -ESRCH.
 */
int pinmm_migrate_page(struct pinmm_proc *p, unsigned long addr, const char *zone)
{
	struct folio *folio, *dst;
	int z = -1, ret = 0;

	pinmm_thread_enter();
	if (!p)
		return -EINVAL;
	if (READ_ONCE(p->exited))
		return -ESRCH;
	if (zone && (z = zone_by_name(zone)) < 0)
		return -EINVAL;
	if (z == ZONE_DEVICE)
		return -EINVAL;
	if (!get_proc_mm(p))	/* held for the call: exit cannot free it */
		return -ESRCH;
	mmap_read_lock(p->mm);
	folio = folio_at(p, addr);
	if (IS_ERR(folio)) {
		ret = (int)PTR_ERR(folio);
		goto out;
	}
	if (is_zero_folio(folio)) {
		folio_put(folio);
		ret = -EINVAL;
		goto out;
	}
	/* fs.pinned_policy=holdoff: wait for the pin first (pin_policy.c). */
	pin_policy_holdoff_wait(folio, HOLDOFF_MIGRATE);
	dst = migrate_to_zone(p->machine, folio, z,
			      pfn_zone_idx(p->machine, folio_pfn(folio)));
	if (IS_ERR(dst)) {
		folio_put(folio);
		ret = (int)PTR_ERR(dst);
	} else {
		folio_put(dst);
	}
out:
	mmap_read_unlock(p->mm);
	mmput(p->mm);
	pinmm_debug_boundary(p->machine);
	return ret;
}

/*
 * Next user folio at or after *pfn in @zone, referenced; *pfn moves past
 * it.  NULL at the end of the zone.
 */
static struct folio *zone_next_folio(struct pinmm *m, struct zone *zone, unsigned long *pfn)
{
	while (*pfn < zone->end_pfn) {
		struct page *page = pfn_to_page_m(m, *pfn);
		struct folio *folio;

		spin_lock(&zone->lock);
		if (PageBuddy(page)) {
			*pfn += 1UL << page->private;
			spin_unlock(&zone->lock);
			continue;
		}
		spin_unlock(&zone->lock);
		folio = page_folio(page);
		if (&folio->page != page || !folio_try_get(folio)) {
			(*pfn)++;
			continue;
		}
		/*
		 * Stable now: a user folio is anonymous or in a page cache.  A
		 * fault may still be setting a new one up: the acquire pairs
		 * with folio_set_anon()'s release, so that once the anon
		 * mapping is seen, so is ->index (migration reads it).
		 */
		if (page_folio(page) != folio || folio_test_Reserved(folio) ||
		    PageTable(page) || !smp_load_acquire(&folio->mapping) ||
		    (!folio_test_anon(folio) && !folio_mapping(folio))) {
			*pfn += folio_nr_pages(folio);
			folio_put(folio);
			continue;
		}
		*pfn += folio_nr_pages(folio);
		return folio;
	}
	return NULL;
}

static void account_failure(struct pinmm *m, struct folio *folio,
			    struct pinmm_migrate_stats *st)
{
	if (folio_maybe_dma_pinned_m(m, folio))
		st->failed_pinned++;
	else
		st->failed_busy++;
}

/**
 * pinmm_offline_zone() - move every user folio out of @zone.
 * Context: any thread; takes zone and rmap locks, never mmap_lock.
 * Return: 0 when no user folio is left in the zone, -EBUSY when some could
 * not move (pinned or busy), -EINVAL for a bad zone name.
 */
int pinmm_offline_zone(struct pinmm *m, const char *zone, struct pinmm_migrate_stats *st)
{
	struct pinmm_migrate_stats local = { 0 };
	struct zone *zn;
	unsigned long pfn;
	struct folio *folio;
	int z;

	pinmm_thread_enter();
	if (!m || !zone || (z = zone_by_name(zone)) < 0 || z == ZONE_DEVICE)
		return -EINVAL;
	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	zn = &m->zones[z];
	pfn = zn->start_pfn;
	/* Free pages of the zone in the buddy lists only, none parked per CPU. */
	zone_pcp_disable(m, zn);
	while ((folio = zone_next_folio(m, zn, &pfn))) {
		struct folio *dst;

		st->scanned++;
		dst = migrate_to_zone(m, folio, -1, z);
		if (IS_ERR(dst)) {
			account_failure(m, folio, st);
			folio_put(folio);
			continue;
		}
		st->migrated++;
		folio_put(dst);
	}
	zone_pcp_enable(m, zn);
	pinmm_debug_boundary(m);
	return (st->failed_pinned || st->failed_busy) ? -EBUSY : 0;
}

/*
 * Compact one zone: move folios from its top to free frames lower down.
 * The buddy allocator hands out a block of the zone; a move happens only
 * when that block lies below the folio, otherwise the zone is as compact
 * as this free-block layout allows and the scan stops.
 */
static void compact_zone(struct pinmm *m, struct zone *zn, struct pinmm_migrate_stats *st)
{
	struct folio *folio;
	unsigned long pfn = zn->start_pfn, n = 0, cap;
	struct folio **list;

	/* Collect candidates bottom-up, then move them top-down. */
	cap = 1024;
	list = kmalloc(cap * sizeof(*list));
	if (!list)
		return;
	/*
	 * Targets and freed sources go through the buddy lists, where freed
	 * sources merge and targets come from (Linux's free scanner takes
	 * free pages from the buddy lists directly, never from pcp lists).
	 */
	zone_pcp_disable(m, zn);
	while ((folio = zone_next_folio(m, zn, &pfn))) {
		if (n == cap) {
			struct folio **nl = krealloc(list, 2 * cap * sizeof(*list));
			if (!nl) {
				folio_put(folio);
				break;
			}
			list = nl;
			cap *= 2;
		}
		list[n++] = folio;
	}
	for (unsigned long i = n; i-- > 0;) {
		struct folio *dst;
		unsigned int order;
		struct page *target;

		folio = list[i];
		st->scanned++;
		if (folio_maybe_dma_pinned_m(m, folio)) {
			/* isolate_migratepages_block(): pinned pages won't move. */
			count_vm_event(m, COMPACT_PINNED_SKIP);
			st->failed_pinned++;
			folio_put(folio);
			continue;
		}
		order = folio_order(folio);
		target = alloc_pages(m, __GFP_ZONE_ONLY | __GFP_ZONE(zn->idx) | __GFP_NOWARN, order);
		if (!target) {
			folio_put(folio);
			continue;
		}
		if (page_to_pfn_m(m, target) > folio_pfn(folio)) {
			__free_pages(target, order);
			folio_put(folio);
			continue;
		}
		__free_pages(target, order);
		dst = migrate_folio_alloc(folio, __GFP_ZONE_ONLY | __GFP_ZONE(zn->idx) | __GFP_NOWARN);
		if (IS_ERR(dst)) {
			account_failure(m, folio, st);
			folio_put(folio);
			continue;
		}
		st->migrated++;
		folio_put(dst);
	}
	zone_pcp_enable(m, zn);
	free(list);
}

/**
 * pinmm_compact() - compact every zone of @m.
 * Context: any thread.
 * Return: 0, or -EINVAL for a NULL machine.
 */
int pinmm_compact(struct pinmm *m, struct pinmm_migrate_stats *st)
{
	struct pinmm_migrate_stats local = { 0 };
	struct trace_span sp;

	pinmm_thread_enter();
	if (!m)
		return -EINVAL;
	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	trace_span_begin(&sp);
	for (int z = 0; z < ZONE_DEVICE; z++)
		compact_zone(m, &m->zones[z], st);
	TRACE_SPAN_END(m, &sp, TRACE_CAT_MIGRATE, "compact", { "migrated", (int64_t)st->migrated },
		       { "failed_pinned", (int64_t)st->failed_pinned });
	pinmm_debug_boundary(m);
	return 0;
}

/**
 * pinmm_split_huge_page() - split the THP mapped at @addr.
 * Context: process context; takes @p's mmap_lock for reading.
 * Return: 0, -EAGAIN (pinned or busy), -EFAULT (nothing mapped), -EINVAL
 * (not a large folio), -ESRCH.
 */
int pinmm_split_huge_page(struct pinmm_proc *p, unsigned long addr)
{
	struct folio *folio;
	int ret;

	pinmm_thread_enter();
	if (!p)
		return -EINVAL;
	if (READ_ONCE(p->exited))
		return -ESRCH;
	if (!get_proc_mm(p))	/* held for the call: exit cannot free it */
		return -ESRCH;
	mmap_read_lock(p->mm);
	folio = folio_at(p, addr);
	if (IS_ERR(folio)) {
		ret = (int)PTR_ERR(folio);
		goto out;
	}
	if (!folio_test_large(folio) || is_zero_folio(folio)) {
		folio_put(folio);
		ret = -EINVAL;
		goto out;
	}
	folio_lock(folio);
	ret = split_folio(folio);
	folio_unlock(folio);
	folio_put(folio);
out:
	mmap_read_unlock(p->mm);
	mmput(p->mm);
	pinmm_debug_boundary(p->machine);
	return ret;
}
