/* SPDX-License-Identifier: MIT */
/*
 * vmscan.c - reclaim of clean page-cache folios of filesystems that write
 * back (pinfs), pinmm_reclaim() and pinmm_drop_caches().
 *
 * pinmm has no LRU for file pages: reclaim walks the page caches of the
 * registered super blocks (page-writeback.c) in inode and offset order.
 * Per folio the decision is Linux's shrink_folio_list() for a clean file
 * folio, reduced to its decision points:
 *
 *   trylock                 busy folios are skipped, never waited for
 *   reclaim_may_drop()      dirty, under writeback, or maybe DMA-pinned:
 *                           keep (Linux 6.4+: do not even strip buffers)
 *   try_to_unmap()          mapped folios, with RECLAIM_UNMAP only
 *   recheck                 unmapped now, so it cannot be newly pinned; a
 *                           dirty PTE found while unmapping made it dirty
 *   ->release_folio()       the filesystem drops its private state
 *   reclaim_refs_ok()       nobody but the cache and us holds a reference
 *   filemap_remove_folio()  out of the cache; our put frees it
 *
 * It does not own writeback (page-writeback.c), rmap (rmap.c) or the
 * filesystems' private state.
 */
#include <errno.h>

#include "trace.h"
#include "pin_policy.h"
#include "rcu.h"
#include "swap.h"
#include "writeback.h"

/*
 * Policy point: may reclaim take @folio (clean, locked) away from its
 * file at all?  Linux since 6.4 keeps maybe-pinned folios and their
 * private data (Kara, 2023): a device may still write to them.
 */
static bool reclaim_may_drop(struct folio *folio)
{
	if (folio_test_Dirty(folio) || folio_test_Writeback(folio))
		return false;
	/* legacy (pre-5.7): a pin is a plain reference; reclaim cannot tell. */
	if (!pin_policy_reclaim_sees_pins(folio_machine(folio)))
		return true;
	return !folio_maybe_dma_pinned(folio);
}

/*
 * Only the page cache (one reference per page) and the reclaimer hold the
 * folio: no GUP reference, no lookup in progress keeps it.
 */
static bool reclaim_refs_ok(struct folio *folio)
{
	return folio_ref_count(folio) == (int)folio_nr_pages(folio) + 1;
}

/* Try to drop one referenced cache folio; true if it was removed. */
static bool reclaim_folio(struct address_space *mapping, struct folio *folio,
			  unsigned int flags)
{
	bool dropped = false;

	/* holdoff: wait for the pin (unlocked) before deciding. */
	pin_policy_holdoff_wait(folio, HOLDOFF_RECLAIM);
	if (!folio_trylock(folio))
		return false;
	if (folio->mapping != mapping || !reclaim_may_drop(folio))
		goto out;
	if (folio_mapped(folio)) {
		if (!(flags & RECLAIM_UNMAP))
			goto out;
		try_to_unmap(folio);
		if (folio_mapped(folio))
			goto out;
		/* Unmapped: GUP cannot pin it any more; look again. */
		if (!reclaim_may_drop(folio))
			goto out;
	}
	if (folio_test_Private(folio) && mapping->a_ops && mapping->a_ops->release_folio &&
	    !mapping->a_ops->release_folio(folio))
		goto out;
	if (!reclaim_refs_ok(folio))
		goto out;
	filemap_remove_folio(folio);
	dropped = true;
out:
	folio_unlock(folio);
	return dropped;
}

/**
 * shrink_mapping() - reclaim clean folios of one page cache.
 * @mapping: the address space.
 * @nr_to_scan: stop after this many pages were reclaimed (< 0: no limit).
 * @flags: RECLAIM_UNMAP to unmap mapped folios first; without it mapped
 *	folios stay (drop_caches).
 *
 * Context: may sleep (rmap walks); no locks held.
 * Return: pages reclaimed.
 */
long shrink_mapping(struct address_space *mapping, long nr_to_scan, unsigned int flags)
{
	pgoff_t index = 0;
	long freed = 0;

	while (nr_to_scan < 0 || freed < nr_to_scan) {
		struct folio *folio;
		long nr;
		pgoff_t next;

		spin_lock(&mapping->i_pages_lock);
		folio = page_index_next(&mapping->i_pages, &index, ~0UL);
		if (folio && !folio_try_get(folio))
			folio = NULL;		/* frozen: being split or migrated */
		spin_unlock(&mapping->i_pages_lock);
		if (!folio)
			break;
		next = folio->index + folio_nr_pages(folio);
		nr = (long)folio_nr_pages(folio);
		if (reclaim_folio(mapping, folio, flags))
			freed += nr;
		folio_put(folio);
		if (next <= index || next == 0)
			break;
		index = next;
	}
	return freed;
}

struct reclaim_ctl {
	long nr_to_scan;	/* < 0: all */
	long freed;
	unsigned int flags;
};

static int reclaim_inode(struct inode *inode, void *arg)
{
	struct reclaim_ctl *rc = arg;
	long left = rc->nr_to_scan < 0 ? -1 : rc->nr_to_scan - rc->freed;

	if (left)
		rc->freed += shrink_mapping(inode->i_mapping, left, rc->flags);
	return 0;
}

static int reclaim_sb(struct super_block *sb, void *arg)
{
	return sb_for_each_inode(sb, reclaim_inode, arg);
}

/**
 * pinmm_reclaim() - reclaim up to @nr_pages clean page-cache pages.
 * @m: the machine.
 * @nr_pages: pages wanted (> 0).
 *
 * First, up to @nr_pages folios on the deferred split queue are split
 * (mthp.c), freeing the unmapped parts of partially mapped mTHPs.
 * Mapped clean pages are unmapped first; dirty, under-writeback and
 * maybe-DMA-pinned pages are skipped.  With swap, anonymous pages are
 * swapped out for the rest (reclaim_anon_pages()), pinned ones kept.
 *
 * Context: any thread.
 * Return: pages reclaimed, or -EINVAL.
 */
long pinmm_reclaim(struct pinmm *m, long nr_pages)
{
	struct reclaim_ctl rc = { .nr_to_scan = nr_pages, .flags = RECLAIM_UNMAP };
	struct trace_span sp;

	pinmm_thread_enter();
	if (!m || nr_pages <= 0)
		return -EINVAL;
	trace_span_begin(&sp);
	/* Linux's deferred split shrinker: split partially mapped mTHPs. */
	deferred_split_scan(m, nr_pages);
	wb_for_each_sb(m, reclaim_sb, &rc);
	if (rc.freed < nr_pages)
		rc.freed += reclaim_anon_pages(m, nr_pages - rc.freed);
	TRACE_SPAN_END(m, &sp, TRACE_CAT_RECLAIM, "reclaim", { "nr_to_scan", nr_pages },
		       { "freed", rc.freed });
	pinmm_debug_boundary(m);
	return rc.freed;
}

/**
 * pinmm_drop_caches() - sync, then drop every clean unmapped cache page.
 * @m: the machine.
 *
 * As "echo 3 > /proc/sys/vm/drop_caches": mapped and pinned pages stay.
 *
 * Context: any thread.
 * Return: pages dropped; -EIO when the sync failed (the clean pages are
 * dropped all the same, the dirty ones stay); -EINVAL.
 */
long pinmm_drop_caches(struct pinmm *m)
{
	struct reclaim_ctl rc = { .nr_to_scan = -1, .flags = 0 };
	struct trace_span sp;
	int err;

	pinmm_thread_enter();
	if (!m)
		return -EINVAL;
	trace_span_begin(&sp);
	err = pinmm_sync(m);
	wb_for_each_sb(m, reclaim_sb, &rc);
	TRACE_SPAN_END(m, &sp, TRACE_CAT_RECLAIM, "drop_caches", { "freed", rc.freed },
		       { "ret", err });
	pinmm_debug_boundary(m);
	return err ? err : rc.freed;
}
