/* SPDX-License-Identifier: MIT */
/*
 * balloc.c - pinfs allocation: data blocks from the block bitmap and
 * inode slots from the inode table, and the flat directory (names live in
 * the inode table).
 *
 * Both the bitmap and the inode table are held in memory for the life of
 * the mount (loaded by super.c, written back by pinfs_sync_meta() one
 * dirty block at a time).  Every function here takes sbi->meta_lock, which
 * protects those buffers, their dirty flags and the free counters.
 *
 * It does not own the block map of a file (bmap.c) or any I/O.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "fault_inject.h"
#include "pinfs.h"

static bool bit_test(const uint8_t *map, uint64_t n)
{
	return map[n / 8] & (1u << (n % 8));
}

static void bit_set(uint8_t *map, uint64_t n)
{
	map[n / 8] |= (uint8_t)(1u << (n % 8));
}

static void bit_clear(uint8_t *map, uint64_t n)
{
	map[n / 8] &= (uint8_t)~(1u << (n % 8));
}

/**
 * pinfs_block_valid() - may @blk be a data or indirect block?
 * @sbi: the file system.
 * @blk: a block number read from an inode or an indirect block.
 *
 * Context: any.
 * Return: true if it lies in the data area.
 */
bool pinfs_block_valid(const struct pinfs_sb_info *sbi, uint64_t blk)
{
	return blk >= sbi->ds.data_start && blk < sbi->ds.block_count;
}

/**
 * pinfs_new_block() - allocate one data block.
 * @sbi: the file system.
 * @blk: the block number (out).
 *
 * Next-fit from the block after the last allocation, so a file written
 * sequentially gets ascending blocks.
 *
 * Context: takes meta_lock.
 * Return: 0, or -ENOSPC when every block is in use.
 */
int pinfs_new_block(struct pinfs_sb_info *sbi, uint32_t *blk)
{
	uint64_t start, n, count = sbi->ds.block_count, span;

	mutex_lock(&sbi->meta_lock);
	if (!sbi->ds.free_blocks && pinfs_pending_count(sbi, true)) {
		/* freed blocks wait for a commit: make one (doc/PINFS.md) */
		mutex_unlock(&sbi->meta_lock);
		pinfs_sync_meta(sbi, true);
		mutex_lock(&sbi->meta_lock);
	}
	if (!sbi->ds.free_blocks) {
		mutex_unlock(&sbi->meta_lock);
		return -ENOSPC;
	}
	span = count - sbi->ds.data_start;
	start = sbi->alloc_goal;
	if (start < sbi->ds.data_start || start >= count)
		start = sbi->ds.data_start;
	for (uint64_t i = 0; i < span; i++) {
		n = sbi->ds.data_start + (start - sbi->ds.data_start + i) % span;
		if (bit_test(sbi->bitmap, n))
			continue;
		bit_set(sbi->bitmap, n);
		sbi->bitmap_dirty[n / PINFS_BITS_PER_BLOCK] = true;
		sbi->ds.free_blocks--;
		sbi->sb_dirty = true;
		sbi->alloc_goal = n + 1;
		mutex_unlock(&sbi->meta_lock);
		*blk = (uint32_t)n;
		return 0;
	}
	/* The counter was wrong; trust the bitmap. */
	sbi->ds.free_blocks = 0;
	mutex_unlock(&sbi->meta_lock);
	return -ENOSPC;
}

/*
 * Freed blocks are not reusable at once (doc/PINFS.md, "Crash
 * consistency"): until the inode table and indirect blocks on the image no
 * longer point at a block, writing another file's data into it would put
 * that data into the old file after a power cut.  So a freed block goes on
 * sbi->pend, still marked in use, with the slot of the inode that dropped
 * it; pinfs_pending_ready() marks a slot's blocks ready once that inode's
 * new pointers are in the inode-table buffer; pinfs_sync_meta() takes the
 * ready ones (COMMIT), writes and flushes the metadata, zeroes them on the
 * image and only then clears their bits (pinfs_pending_release()).
 */
enum { PEND_FREED, PEND_READY, PEND_COMMIT };

static void pend_add_locked(struct pinfs_sb_info *sbi, uint32_t blk, long owner)
{
	struct pinfs_pend *p;

	lockdep_assert_held(&sbi->meta_lock);
	if (sbi->npend == sbi->pend_cap) {
		size_t cap = sbi->pend_cap ? sbi->pend_cap * 2 : 64;

		p = krealloc(sbi->pend, cap * sizeof(*p));
		if (!p)
			return;		/* stays in use: leaked until fsck, never reused */
		sbi->pend = p;
		sbi->pend_cap = cap;
	}
	p = &sbi->pend[sbi->npend++];
	p->blk = blk;
	p->owner = owner;
	p->state = owner < 0 ? PEND_READY : PEND_FREED;
}

/**
 * pinfs_free_block() - give a data block back, once the image no longer
 * points at it.
 * @sbi: the file system.
 * @blk: a block in the data area.
 * @owner: slot of the inode that dropped it (its blocks become reusable
 *	after pinfs_pending_ready(@owner) and a metadata commit), or -1 when
 *	no on-disk pointer to it remains (the next commit releases it).
 *
 * Freeing a free or out-of-range block is a runtime corruption: WARN and
 * leave the bitmap alone (fsck finds it).
 *
 * Context: takes meta_lock.
 */
void pinfs_free_block(struct pinfs_sb_info *sbi, uint32_t blk, long owner)
{
	mutex_lock(&sbi->meta_lock);
	/* busyblocks: a pinned truncated page still owns it (busy.c). */
	if (pinfs_busy_claim_locked(sbi, blk)) {
		mutex_unlock(&sbi->meta_lock);
		return;
	}
	if (WARN(!pinfs_block_valid(sbi, blk) || !bit_test(sbi->bitmap, blk),
		 "pinfs: freeing bad or free block %u\n", blk)) {
		mutex_unlock(&sbi->meta_lock);
		return;
	}
	pend_add_locked(sbi, blk, owner);
	mutex_unlock(&sbi->meta_lock);
}

/**
 * pinfs_pending_ready() - the inode-table buffer no longer points at the
 * blocks inode @slot freed: the next metadata commit may release them.
 * @sbi: the file system.
 * @slot: the inode.
 *
 * Context: takes meta_lock.
 */
void pinfs_pending_ready(struct pinfs_sb_info *sbi, uint32_t slot)
{
	mutex_lock(&sbi->meta_lock);
	for (size_t i = 0; i < sbi->npend; i++)
		if (sbi->pend[i].owner == (long)slot && sbi->pend[i].state == PEND_FREED)
			sbi->pend[i].state = PEND_READY;
	mutex_unlock(&sbi->meta_lock);
}

/**
 * pinfs_pending_commit() - take the ready blocks into the commit that is
 * about to write the metadata.
 * @sbi: the file system.
 *
 * Context: meta_lock held.
 * Return: how many were taken.
 */
size_t pinfs_pending_commit(struct pinfs_sb_info *sbi)
{
	size_t n = 0;

	lockdep_assert_held(&sbi->meta_lock);
	for (size_t i = 0; i < sbi->npend; i++) {
		if (sbi->pend[i].state == PEND_READY) {
			sbi->pend[i].state = PEND_COMMIT;
			n++;
		}
	}
	return n;
}

/**
 * pinfs_pending_release() - end the commit: its metadata is on the image
 * (@ok) - zero the committed blocks there and make them free - or it is
 * not, and they wait for the next commit.
 * @sbi: the file system.
 * @ok: the metadata was written and flushed.
 *
 * A free block on the image is all zeroes (mkfs makes it so, this keeps it
 * so, fsck zeroes what it frees): a pointer that reaches the image before
 * its data exposes zeroes, never a previous owner's bytes.  A block whose
 * zeroing fails stays allocated (leaked until fsck).
 *
 * Context: may sleep (I/O); takes meta_lock.
 * Return: 0 or the first I/O error.
 */
int pinfs_pending_release(struct pinfs_sb_info *sbi, bool ok)
{
	static const uint8_t zero[PINFS_BLOCK_SIZE];
	bool flushed = true;
	uint32_t blk;
	size_t i, j;
	int err = 0, e;

	mutex_lock(&sbi->meta_lock);
	for (i = 0; i < sbi->npend; i++) {
		if (sbi->pend[i].state != PEND_COMMIT)
			continue;
		if (!ok) {
			sbi->pend[i].state = PEND_READY;
			continue;
		}
		/*
		 * Nothing else touches a block in COMMIT: write it outside the
		 * lock (the array itself may grow meanwhile: index it again).
		 */
		blk = sbi->pend[i].blk;
		mutex_unlock(&sbi->meta_lock);
		e = pinfs_io(sbi, PINFS_IO_WRITE, (void *)zero, blk, 1);
		mutex_lock(&sbi->meta_lock);
		if (e) {
			sbi->pend[i].state = PEND_FREED;
			sbi->pend[i].owner = LONG_MIN;	/* never ready again: leaked */
			err = err ? err : e;
		}
	}
	mutex_unlock(&sbi->meta_lock);
	/* the zeroes are durable before a new owner's pointer can be */
	if (ok && sbi->fd >= 0 && pinfs_image_flush(sbi->fd)) {
		flushed = false;
		err = err ? err : -EIO;
	}
	mutex_lock(&sbi->meta_lock);
	for (i = 0; i < sbi->npend; i++) {
		struct pinfs_pend *p = &sbi->pend[i];

		if (p->state != PEND_COMMIT)
			continue;
		if (!flushed) {
			p->state = PEND_READY;
			continue;
		}
		bit_clear(sbi->bitmap, p->blk);
		sbi->bitmap_dirty[p->blk / PINFS_BITS_PER_BLOCK] = true;
		sbi->ds.free_blocks++;
		sbi->sb_dirty = true;
		p->state = -1;
	}
	for (i = j = 0; i < sbi->npend; i++)
		if (sbi->pend[i].state >= 0)
			sbi->pend[j++] = sbi->pend[i];
	sbi->npend = j;
	mutex_unlock(&sbi->meta_lock);
	return err;
}

/**
 * pinfs_pending_count() - blocks freed but not yet reusable.
 * @sbi: the file system.
 * @ready: count only those a commit would release.
 *
 * Context: meta_lock held.
 * Return: the count.
 */
uint64_t pinfs_pending_count(struct pinfs_sb_info *sbi, bool ready)
{
	uint64_t n = 0;

	lockdep_assert_held(&sbi->meta_lock);
	for (size_t i = 0; i < sbi->npend; i++)
		n += !ready || sbi->pend[i].state == PEND_READY;
	return n;
}

/* ------------------------------------------------------------------ */
/* Inode slots                                                         */

static uint8_t *slot_buf(struct pinfs_sb_info *sbi, uint32_t slot)
{
	return sbi->itable + (size_t)slot * PINFS_INODE_SIZE;
}

/**
 * pinfs_read_slot() - decode inode-table entry @slot.
 * @sbi: the file system.
 * @slot: 0 .. inode_count - 1.
 * @d: result.
 *
 * Context: takes meta_lock.
 */
void pinfs_read_slot(struct pinfs_sb_info *sbi, uint32_t slot, struct pinfs_dinode *d)
{
	mutex_lock(&sbi->meta_lock);
	pinfs_inode_decode(d, slot_buf(sbi, slot));
	mutex_unlock(&sbi->meta_lock);
}

/**
 * pinfs_write_slot() - encode @d into entry @slot and mark its block dirty.
 * @sbi: the file system.
 * @slot: the entry.
 * @d: the inode.
 *
 * Context: takes meta_lock.
 */
void pinfs_write_slot(struct pinfs_sb_info *sbi, uint32_t slot, const struct pinfs_dinode *d)
{
	mutex_lock(&sbi->meta_lock);
	pinfs_inode_encode(d, slot_buf(sbi, slot));
	sbi->itable_dirty[slot / PINFS_INODES_PER_BLOCK] = true;
	mutex_unlock(&sbi->meta_lock);
}

/**
 * pinfs_find_slot() - the linked inode called @name.
 * @sbi: the file system.
 * @name: a name of at most PINFS_NAME_MAX bytes.
 * @slot: its entry (out).
 *
 * Context: takes meta_lock; linear in the inode count.
 * Return: 0 or -ENOENT.
 */
int pinfs_find_slot(struct pinfs_sb_info *sbi, const char *name, uint32_t *slot)
{
	struct pinfs_dinode d;

	mutex_lock(&sbi->meta_lock);
	for (uint32_t i = 0; i < sbi->ds.inode_count; i++) {
		const uint8_t *b = slot_buf(sbi, i);

		/* mode and nlink are the first two words: skip the decode. */
		if (!memcmp(b, "\0\0\0\0", 4) || !memcmp(b + 4, "\0\0\0\0", 4))
			continue;
		pinfs_inode_decode(&d, b);
		if (!strcmp(d.name, name)) {
			mutex_unlock(&sbi->meta_lock);
			*slot = i;
			return 0;
		}
	}
	mutex_unlock(&sbi->meta_lock);
	return -ENOENT;
}

/**
 * pinfs_new_slot() - reserve a free inode-table entry.
 * @sbi: the file system.
 * @slot: the entry (out); it is marked in use with a placeholder mode that
 *	the caller overwrites with pinfs_write_slot().
 *
 * Context: takes meta_lock.
 * Return: 0, or -ENOSPC when the inode table is full.
 */
int pinfs_new_slot(struct pinfs_sb_info *sbi, uint32_t *slot)
{
	mutex_lock(&sbi->meta_lock);
	for (uint32_t i = 0; i < sbi->ds.inode_count; i++) {
		uint8_t *b = slot_buf(sbi, i);

		if (memcmp(b, "\0\0\0\0", 4))
			continue;
		b[1] = 0x80;		/* mode S_IFREG until written */
		sbi->itable_dirty[i / PINFS_INODES_PER_BLOCK] = true;
		if (sbi->ds.free_inodes)
			sbi->ds.free_inodes--;
		sbi->sb_dirty = true;
		mutex_unlock(&sbi->meta_lock);
		*slot = i;
		return 0;
	}
	mutex_unlock(&sbi->meta_lock);
	return -ENOSPC;
}

/**
 * pinfs_free_slot() - clear inode-table entry @slot.
 * @sbi: the file system.
 * @slot: an entry whose blocks are already freed.
 *
 * Context: takes meta_lock.
 */
void pinfs_free_slot(struct pinfs_sb_info *sbi, uint32_t slot)
{
	mutex_lock(&sbi->meta_lock);
	memset(slot_buf(sbi, slot), 0, PINFS_INODE_SIZE);
	sbi->itable_dirty[slot / PINFS_INODES_PER_BLOCK] = true;
	sbi->ds.free_inodes++;
	sbi->sb_dirty = true;
	mutex_unlock(&sbi->meta_lock);
	pinfs_pending_ready(sbi, slot);
}
