/* SPDX-License-Identifier: MIT */
/*
 * busy.c - the busyblocks policy: blocks under pinned pages stay
 * allocated when their file lets go of them.
 *
 * The issue: "busyblocks — truncating or punching the blocks under a
 * pinned page keeps those blocks allocated until the last unpin, so late
 * DMA cannot corrupt another file."  This is what Linux does for fsdax
 * (dax_layout_busy_page(), 5fac7408d828, 2018) made to work for the page
 * cache without waiting: truncate proceeds at once, only the block's reuse
 * is deferred.
 *
 * How: ->invalidate_folio of a maybe-pinned folio with a block calls
 * pinfs_busy_hold(): the folio keeps its struct pinfs_bh (PG_private) and
 * the bh goes on sbi->busy_list (busy_blocks + 1).  When truncate then
 * frees the file's blocks, pinfs_free_block() asks
 * pinfs_busy_claim_locked() and leaves a busy block set in the bitmap,
 * marking it orphaned.  The folio's final put (the last unpin, page_alloc.c
 * __folio_put -> struct folio_orphan) calls pinfs_busy_free_folio(), which
 * frees the block (busy_blocks - 1, busy_blocks_released + 1).
 *
 * The lease policy uses the same hold for DAX: a device frame that only
 * the fenced pins of a revoked layout lease still reference leaves its
 * file at once (truncate and punch do not wait for it), but its block is
 * held by pinfs_busy_hold_frame() and freed from the frame's final put
 * (mm/dax.c free_zone_device_folio() -> struct folio_orphan), so no other
 * file can get the block while a revoked holder can still name the frame.
 *
 * Costs: a pinned page's block is unusable until the pin goes; a crash
 * meanwhile leaves it allocated but unreferenced, which fsck repairs as a
 * leaked block.
 *
 * It does not own the bitmap (balloc.c) or the page cache (file.c).
 *
 * Locking: sbi->meta_lock protects sbi->busy_list and each busy bh's
 * @orphaned; the bh's other fields are fixed once it is busy.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "pin_policy.h"
#include "pinfs.h"

static void pinfs_busy_free_folio(struct folio *folio, struct folio_orphan *o)
{
	struct pinfs_bh *bh = container_of(o, struct pinfs_bh, orphan);
	struct pinfs_sb_info *sbi = bh->sbi;
	struct pinmm *m = folio_machine(folio);
	bool orphaned = false;

	if (sbi) {
		mutex_lock(&sbi->meta_lock);
		list_del_init(&bh->busy_node);
		orphaned = bh->orphaned;
		mutex_unlock(&sbi->meta_lock);
	}
	mod_vm_stat(m, BUSY_BLOCKS, -1);
	if (orphaned) {
		/* Off the list: pinfs_free_block() frees it for real now. */
		pinfs_free_block(sbi, bh->blocknr, -1);	/* its file let go long ago */
		count_vm_event(m, BUSY_BLOCKS_RELEASED);
	}
	free(bh);
}

/**
 * pinfs_busy_hold() - keep the block of a pinned folio being truncated.
 * @folio: a locked pinfs folio about to leave the cache.
 *
 * Under fs.pinned_policy=busyblocks, a maybe-pinned folio with a mapped
 * block keeps its block mapping, marked busy.
 *
 * Context: folio locked (->invalidate_folio); takes meta_lock.
 * Return: true if the folio keeps its private state (the caller must not
 * detach it), false otherwise.
 */
bool pinfs_busy_hold(struct folio *folio)
{
	struct address_space *mapping = folio_mapping(folio);
	struct pinfs_bh *bh = folio->private;
	struct pinfs_sb_info *sbi;

	if (!mapping || fs_pinned_policy(folio_machine(folio)) != PINMM_FS_BUSYBLOCKS)
		return false;
	if (!folio_test_Private(folio) || !bh->mapped || bh->busy ||
	    !folio_maybe_dma_pinned(folio))
		return false;
	sbi = PINFS_SB(mapping->host->i_sb);
	mutex_lock(&sbi->meta_lock);
	bh->busy = true;
	bh->orphaned = false;
	bh->sbi = sbi;
	bh->orphan.free_folio = pinfs_busy_free_folio;
	list_add_tail(&bh->busy_node, &sbi->busy_list);
	mutex_unlock(&sbi->meta_lock);
	mod_vm_stat(folio_machine(folio), BUSY_BLOCKS, 1);
	return true;
}

/**
 * pinfs_busy_hold_frame() - keep the block of a DAX frame that is still
 * referenced when its file lets go of it (lease policy: the fenced pins
 * of a revoked lease).
 * @sbi: the DAX file system.
 * @folio: the device frame of @blk, already disowned (no mapping), unmapped,
 *	   with faults on its range held off, so its refcount can only fall.
 * @blk: its block, which the caller is about to free.
 *
 * Protocol (doc/MEMORY-ORDERING.md "DAX block hold"): (1) take a reference
 * unless the frame is idle - then there is nothing to hold; (2) publish
 * the hold (folio->private, then PG_private) while that reference keeps
 * the final put away; (3) drop the reference: whichever put is the last
 * sees the hold.  If the last put comes before the file frees @blk, the
 * hold is simply dropped and the block is freed normally.
 *
 * Context: the inode's dax_sem held for writing; takes meta_lock; no
 *	    map_lock or meta_lock held (step 3 may run the final put).
 * Return: true if a hold was installed, false if the frame was idle or
 *	   memory ran out (then the block is freed at once, as before).
 */
bool pinfs_busy_hold_frame(struct pinfs_sb_info *sbi, struct folio *folio, uint32_t blk)
{
	struct pinmm *m = folio_machine(folio);
	struct pinfs_bh *bh;

	if (!folio_try_get(folio))				/* (1) */
		return false;
	bh = calloc(1, sizeof(*bh));
	if (!bh) {
		folio_put(folio);
		return false;
	}
	bh->blocknr = blk;
	bh->mapped = true;
	bh->busy = true;
	bh->sbi = sbi;
	bh->orphan.free_folio = pinfs_busy_free_folio;
	mutex_lock(&sbi->meta_lock);
	list_add_tail(&bh->busy_node, &sbi->busy_list);
	mutex_unlock(&sbi->meta_lock);
	mod_vm_stat(m, BUSY_BLOCKS, 1);
	WRITE_ONCE(folio->private, bh);				/* (2) */
	set_bit(PG_private, &folio->flags);
	folio_put(folio);					/* (3) */
	return true;
}

/**
 * pinfs_busy_claim_locked() - is @blk busy under a pinned page?
 * @sbi: the file system.
 * @blk: a block its file is freeing.
 *
 * A busy block is marked orphaned (freed when the page is) instead of
 * being returned to the bitmap.
 *
 * Context: meta_lock held.
 * Return: true if the caller must not free @blk now.
 */
bool pinfs_busy_claim_locked(struct pinfs_sb_info *sbi, uint32_t blk)
{
	struct pinfs_bh *bh;

	lockdep_assert_held(&sbi->meta_lock);
	list_for_each_entry(bh, &sbi->busy_list, busy_node) {
		if (bh->blocknr == blk && !bh->orphaned) {
			bh->orphaned = true;
			return true;
		}
	}
	return false;
}

/**
 * pinfs_busy_forget() - unmount with busy blocks left: their pages are
 * still pinned (shutdown reports the leaked pins); the blocks stay
 * allocated in the image and fsck frees them.
 * @sbi: the file system being unmounted.
 *
 * Context: unmount.
 */
void pinfs_busy_forget(struct pinfs_sb_info *sbi)
{
	struct pinfs_bh *bh, *tmp;

	mutex_lock(&sbi->meta_lock);
	list_for_each_entry_safe(bh, tmp, &sbi->busy_list, busy_node) {
		pr_diag(sbi->sb->machine, "pinfs: %s: block %u still busy under a pinned page at "
			"unmount\n", sbi->path, bh->blocknr);
		list_del_init(&bh->busy_node);
		bh->sbi = NULL;
	}
	mutex_unlock(&sbi->meta_lock);
}
