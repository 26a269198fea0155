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
#include <string.h>

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

/**
 * pinfs_free_block() - return a data block to the bitmap.
 * @sbi: the file system.
 * @blk: a block in the data area.
 *
 * Freeing a free or out-of-range block is a runtime corruption: WARN and
 * leave the bitmap alone (fsck finds it).
 *
 * Context: takes meta_lock.
 */
void pinfs_free_block(struct pinfs_sb_info *sbi, uint32_t blk)
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
	bit_clear(sbi->bitmap, blk);
	sbi->bitmap_dirty[blk / PINFS_BITS_PER_BLOCK] = true;
	sbi->ds.free_blocks++;
	sbi->sb_dirty = true;
	mutex_unlock(&sbi->meta_lock);
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
}
