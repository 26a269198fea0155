/* SPDX-License-Identifier: MIT */
/*
 * bmap.c - the block map of a pinfs file: file block -> image block
 * through 12 direct pointers, an indirect block and a double-indirect
 * block, with allocation on demand, freeing of ranges, and the pointer
 * moves of fallocate's collapse and insert (pinfs_shift_prepare/commit()).
 *
 * Indirect blocks are read once into memory (struct pinfs_ind) and stay
 * there until the inode is evicted; a changed one is marked dirty and
 * written by pinfs_write_map().  Every pointer read from the image is
 * range-checked before it is used: a bad one makes the operation fail with
 * -EIO (fsck repairs the image), it never indexes memory.
 *
 * Locking: all functions run with pi->map_lock held (lockdep-asserted);
 * they take sbi->meta_lock inside, through balloc.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fault_inject.h"
#include "pinfs.h"

static struct pinfs_sb_info *pi_sbi(struct pinfs_inode_info *pi)
{
	return PINFS_SB(pi->vfs_inode.i_sb);
}

/* Load indirect block @blk (0: allocate a new, zeroed one if @create). */
static int ind_load(struct pinfs_inode_info *pi, uint32_t *blkp, struct pinfs_ind **out,
		    bool create)
{
	struct pinfs_sb_info *sbi = pi_sbi(pi);
	struct pinfs_ind *ind;
	uint8_t raw[PINFS_BLOCK_SIZE];
	int err;

	if (*out)
		return 0;
	if (!*blkp && !create)
		return 0;
	ind = kzalloc(sizeof(*ind));
	if (!ind)
		return -ENOMEM;
	if (!*blkp) {
		err = pinfs_new_block(sbi, &ind->blk);
		if (err) {
			free(ind);
			return err;
		}
		ind->dirty = true;
		*blkp = ind->blk;
		pi->meta_dirty = true;
		*out = ind;
		return 0;
	}
	if (!pinfs_block_valid(sbi, *blkp)) {
		free(ind);
		return -EIO;
	}
	ind->blk = *blkp;
	err = pinfs_io(sbi, PINFS_IO_READ, raw, ind->blk, 1);
	if (err) {
		free(ind);
		return err;
	}
	for (unsigned int i = 0; i < PINFS_PTRS; i++) {
		const uint8_t *p = raw + 4 * i;

		ind->e[i] = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			    (uint32_t)p[3] << 24;
		if (ind->e[i] && !pinfs_block_valid(sbi, ind->e[i])) {
			free(ind);
			return -EIO;
		}
	}
	*out = ind;
	return 0;
}

static int ind_write(struct pinfs_sb_info *sbi, struct pinfs_ind *ind)
{
	uint8_t raw[PINFS_BLOCK_SIZE];
	int err;

	if (!ind || !ind->dirty)
		return 0;
	for (unsigned int i = 0; i < PINFS_PTRS; i++) {
		uint8_t *p = raw + 4 * i;

		p[0] = (uint8_t)ind->e[i];
		p[1] = (uint8_t)(ind->e[i] >> 8);
		p[2] = (uint8_t)(ind->e[i] >> 16);
		p[3] = (uint8_t)(ind->e[i] >> 24);
	}
	err = pinfs_io(sbi, PINFS_IO_WRITE, raw, ind->blk, 1);
	if (!err)
		ind->dirty = false;
	return err;
}

/*
 * The pointer slot for file block @lblk, loading (and with @create
 * allocating) the indirect blocks on the way.  *slotp is NULL for a hole
 * below a missing indirect block when !@create; *dirtyp is the flag to set
 * when the slot changes.
 */
static int map_slot(struct pinfs_inode_info *pi, uint64_t lblk, bool create,
		    uint32_t **slotp, bool **dirtyp)
{
	uint64_t i;
	int err;

	*slotp = NULL;
	if (lblk < PINFS_NDIR) {
		*slotp = &pi->direct[lblk];
		*dirtyp = &pi->meta_dirty;
		return 0;
	}
	if (lblk < PINFS_DIND_FIRST) {
		err = ind_load(pi, &pi->ind_blk, &pi->ind, create);
		if (err || !pi->ind)
			return err;
		*slotp = &pi->ind->e[lblk - PINFS_IND_FIRST];
		*dirtyp = &pi->ind->dirty;
		return 0;
	}
	if (lblk >= PINFS_MAX_BLOCKS)
		return -EFBIG;
	err = ind_load(pi, &pi->dind_blk, &pi->dind, create);
	if (err || !pi->dind)
		return err;
	if (!pi->dleaf) {
		pi->dleaf = kcalloc(PINFS_PTRS, sizeof(*pi->dleaf));
		if (!pi->dleaf)
			return -ENOMEM;
	}
	i = (lblk - PINFS_DIND_FIRST) / PINFS_PTRS;
	if (!pi->dind->e[i] && create) {
		err = ind_load(pi, &pi->dind->e[i], &pi->dleaf[i], true);
		if (!err)
			pi->dind->dirty = true;
	} else {
		err = ind_load(pi, &pi->dind->e[i], &pi->dleaf[i], false);
	}
	if (err || !pi->dleaf[i])
		return err;
	*slotp = &pi->dleaf[i]->e[(lblk - PINFS_DIND_FIRST) % PINFS_PTRS];
	*dirtyp = &pi->dleaf[i]->dirty;
	return 0;
}

/**
 * pinfs_get_block() - the image block behind file block @lblk.
 * @pi: the inode.
 * @lblk: file block number.
 * @create: allocate a block for a hole.
 * @pblk: the block, or 0 for a hole when !@create (out).
 * @is_new: set when the block was allocated by this call (may be NULL).
 *
 * Context: pi->map_lock held.
 * Return: 0; -ENOSPC; -EFBIG beyond the largest file; -EIO when an
 * indirect block cannot be read or holds a bad pointer; -ENOMEM.
 */
int pinfs_get_block(struct pinfs_inode_info *pi, uint64_t lblk, bool create,
		    uint32_t *pblk, bool *is_new)
{
	struct pinfs_sb_info *sbi = pi_sbi(pi);
	uint32_t *slot;
	bool *dirty;
	int err;

	lockdep_assert_held(&pi->map_lock);
	*pblk = 0;
	if (is_new)
		*is_new = false;
	err = map_slot(pi, lblk, create, &slot, &dirty);
	if (err || !slot)
		return err;
	if (*slot) {
		if (!pinfs_block_valid(sbi, *slot))
			return -EIO;
		*pblk = *slot;
		return 0;
	}
	if (!create)
		return 0;
	err = pinfs_new_block(sbi, slot);
	if (err)
		return err;
	*dirty = true;
	*pblk = *slot;
	if (is_new)
		*is_new = true;
	return 0;
}

static bool ind_empty(const struct pinfs_ind *ind)
{
	for (unsigned int i = 0; i < PINFS_PTRS; i++)
		if (ind->e[i])
			return false;
	return true;
}

/* Free the pointers of @ind covering file blocks [first, last] (relative). */
static void ind_free_range(struct pinfs_inode_info *pi, struct pinfs_ind *ind,
			   uint64_t first, uint64_t last)
{
	for (uint64_t i = first; i <= last && i < PINFS_PTRS; i++) {
		if (!ind->e[i])
			continue;
		pinfs_free_block(pi_sbi(pi), ind->e[i], pi->slot);
		ind->e[i] = 0;
		ind->dirty = true;
	}
}

/* Drop an indirect block that maps nothing any more. */
static void ind_release(struct pinfs_inode_info *pi, uint32_t *blkp, struct pinfs_ind **indp)
{
	if (!*indp || !ind_empty(*indp))
		return;
	pinfs_free_block(pi_sbi(pi), (*indp)->blk, pi->slot);
	free(*indp);
	*indp = NULL;
	*blkp = 0;
	pi->meta_dirty = true;
}

/**
 * pinfs_free_blocks() - free the blocks of file blocks [@first, @last].
 * @pi: the inode; its pages over the range are already gone from the cache.
 * @first: first file block.
 * @last: last file block (UINT64_MAX: to the end).
 *
 * Indirect blocks left mapping nothing are freed too.
 *
 * Context: pi->map_lock held.
 * Return: 0, or -EIO / -ENOMEM when an indirect block cannot be loaded (the
 * blocks below it stay allocated: leaked, not corrupt).
 */
int pinfs_free_blocks(struct pinfs_inode_info *pi, uint64_t first, uint64_t last)
{
	struct pinfs_sb_info *sbi = pi_sbi(pi);
	int err = 0, e;

	lockdep_assert_held(&pi->map_lock);
	for (uint64_t b = first; b < PINFS_NDIR && b <= last; b++) {
		if (pi->direct[b]) {
			pinfs_free_block(sbi, pi->direct[b], pi->slot);
			pi->direct[b] = 0;
			pi->meta_dirty = true;
		}
	}
	if (last >= PINFS_IND_FIRST && first < PINFS_DIND_FIRST && pi->ind_blk) {
		e = ind_load(pi, &pi->ind_blk, &pi->ind, false);
		if (!e) {
			uint64_t f = first > PINFS_IND_FIRST ? first - PINFS_IND_FIRST : 0;

			ind_free_range(pi, pi->ind, f, last - PINFS_IND_FIRST);
			ind_release(pi, &pi->ind_blk, &pi->ind);
		}
		err = err ? err : e;
	}
	if (last >= PINFS_DIND_FIRST && pi->dind_blk) {
		uint64_t f = first > PINFS_DIND_FIRST ? first - PINFS_DIND_FIRST : 0;
		uint64_t l = last - PINFS_DIND_FIRST;

		e = ind_load(pi, &pi->dind_blk, &pi->dind, false);
		if (!e && !pi->dleaf) {
			pi->dleaf = kcalloc(PINFS_PTRS, sizeof(*pi->dleaf));
			if (!pi->dleaf)
				e = -ENOMEM;
		}
		for (uint64_t i = f / PINFS_PTRS; !e && i < PINFS_PTRS; i++) {
			uint64_t lo = i * PINFS_PTRS, hi = lo + PINFS_PTRS - 1;

			if (lo > l)
				break;
			if (!pi->dind->e[i])
				continue;
			e = ind_load(pi, &pi->dind->e[i], &pi->dleaf[i], false);
			if (e)
				break;
			ind_free_range(pi, pi->dleaf[i], f > lo ? f - lo : 0,
				       (l < hi ? l : hi) - lo);
			if (ind_empty(pi->dleaf[i])) {
				pinfs_free_block(sbi, pi->dleaf[i]->blk, pi->slot);
				free(pi->dleaf[i]);
				pi->dleaf[i] = NULL;
				pi->dind->e[i] = 0;
				pi->dind->dirty = true;
			}
		}
		if (!e)
			ind_release(pi, &pi->dind_blk, &pi->dind);
		err = err ? err : e;
	}
	return err;
}

/* The highest mapped file block + 1 (0: nothing mapped).  map_lock held. */
static int map_end(struct pinfs_inode_info *pi, uint64_t *end)
{
	int err;

	*end = 0;
	if (pi->dind_blk) {
		uint32_t *slot;
		bool *dirty;

		/* loads the double-indirect block and the leaf table */
		err = map_slot(pi, PINFS_DIND_FIRST, false, &slot, &dirty);
		for (uint64_t i = PINFS_PTRS; !err && i-- > 0;) {
			if (!pi->dind->e[i])
				continue;
			err = ind_load(pi, &pi->dind->e[i], &pi->dleaf[i], false);
			for (uint64_t j = PINFS_PTRS; !err && j-- > 0;) {
				if (pi->dleaf[i]->e[j]) {
					*end = PINFS_DIND_FIRST + i * PINFS_PTRS + j + 1;
					return 0;
				}
			}
		}
		if (err)
			return err;
	}
	if (pi->ind_blk) {
		err = ind_load(pi, &pi->ind_blk, &pi->ind, false);
		for (uint64_t j = PINFS_PTRS; !err && j-- > 0;) {
			if (pi->ind->e[j]) {
				*end = PINFS_IND_FIRST + j + 1;
				return 0;
			}
		}
		if (err)
			return err;
	}
	for (uint64_t b = PINFS_NDIR; b-- > 0;) {
		if (pi->direct[b]) {
			*end = b + 1;
			return 0;
		}
	}
	return 0;
}

/*
 * Where block @lblk goes: down by @n (collapse) or up by @n (insert).
 */
static uint64_t shift_dst(uint64_t lblk, uint64_t n, bool collapse)
{
	return collapse ? lblk - n : lblk + n;
}

/**
 * pinfs_shift_prepare() - everything of a collapse or insert of @n blocks
 * at file block @first that can fail, done before anything moves: load
 * the indirect blocks of every mapped block that moves and allocate those
 * its destination needs.
 * @pi: the inode.
 * @first: first file block of the range.
 * @n: blocks collapsed away or inserted.
 * @collapse: collapse (else insert).
 *
 * An indirect block allocated here that ends up mapping nothing (the
 * operation failed later in this call) stays, empty, until the next
 * truncate or punch over it.
 *
 * Context: pi->map_lock held.
 * Return: 0, -EFBIG (an insert would move a block past the largest file),
 * -ENOSPC, -EIO, -ENOMEM.
 */
int pinfs_shift_prepare(struct pinfs_inode_info *pi, uint64_t first, uint64_t n, bool collapse)
{
	uint64_t end, from = collapse ? first + n : first;
	uint32_t *src, *dst;
	bool *dirty;
	int err;

	lockdep_assert_held(&pi->map_lock);
	err = map_end(pi, &end);
	if (err)
		return err;
	if (!collapse && end > first && end + n > PINFS_MAX_BLOCKS)
		return -EFBIG;
	for (uint64_t b = from; b < end; b++) {
		err = map_slot(pi, b, false, &src, &dirty);
		if (!err && src && *src)
			err = map_slot(pi, shift_dst(b, n, collapse), true, &dst, &dirty);
		if (err)
			return err;
	}
	return 0;
}

/**
 * pinfs_shift_commit() - the collapse or insert pinfs_shift_prepare()
 * prepared: a collapse frees blocks [@first, @first + @n) and moves every
 * later block down by @n; an insert moves every block from @first on up
 * by @n, leaving a hole of @n blocks.  The moved pointers' indirect blocks
 * are marked dirty (written by the next pinfs_write_map()).
 * @pi: the inode.
 * @first: as prepared.
 * @n: as prepared.
 * @collapse: as prepared.
 *
 * Context: pi->map_lock held, since the prepare (nothing else changed the
 * map).
 * Return: 0, or -EIO / -ENOMEM from freeing (as pinfs_free_blocks()).
 */
int pinfs_shift_commit(struct pinfs_inode_info *pi, uint64_t first, uint64_t n, bool collapse)
{
	uint64_t end, from = collapse ? first + n : first;
	int err;

	lockdep_assert_held(&pi->map_lock);
	err = map_end(pi, &end);
	/*
	 * The collapsed blocks one by one: pinfs_free_blocks() would release
	 * an indirect block left empty that the moves below fill again.
	 */
	for (uint64_t b = first; !err && collapse && b < first + n && b < end; b++) {
		uint32_t *slot;
		bool *dirty;

		err = map_slot(pi, b, false, &slot, &dirty);
		if (err || !slot || !*slot)
			continue;
		pinfs_free_block(pi_sbi(pi), *slot, pi->slot);
		*slot = 0;
		*dirty = true;
	}
	if (err)
		return err;
	for (uint64_t k = 0; end > from && k < end - from; k++) {
		uint64_t b = collapse ? from + k : end - 1 - k;
		uint32_t *src, *dst;
		bool *sdirty, *ddirty;

		/* Prepared: both slots are loaded, the destination exists. */
		if (map_slot(pi, b, false, &src, &sdirty) || !src || !*src)
			continue;
		if (map_slot(pi, shift_dst(b, n, collapse), false, &dst, &ddirty) || !dst)
			return -EIO;
		*dst = *src;
		*src = 0;
		*sdirty = *ddirty = true;
	}
	/* A collapse may leave indirect blocks mapping nothing at the end. */
	return collapse ? pinfs_free_blocks(pi, end > from ? end - n : first, UINT64_MAX) : 0;
}

/**
 * pinfs_write_map() - write the dirty indirect blocks of @pi.
 * @pi: the inode.
 *
 * Context: pi->map_lock held.
 * Return: 0 or the first I/O error (the others are still tried; a block
 * that failed stays dirty).
 */
int pinfs_write_map(struct pinfs_inode_info *pi)
{
	struct pinfs_sb_info *sbi = pi_sbi(pi);
	int err, e;

	lockdep_assert_held(&pi->map_lock);
	err = ind_write(sbi, pi->ind);
	e = ind_write(sbi, pi->dind);
	err = err ? err : e;
	for (unsigned int i = 0; pi->dleaf && i < PINFS_PTRS; i++) {
		e = ind_write(sbi, pi->dleaf[i]);
		err = err ? err : e;
	}
	return err;
}

/**
 * pinfs_drop_map() - free the in-memory indirect blocks (eviction).
 * @pi: the inode.
 *
 * Context: nobody else uses @pi.
 */
void pinfs_drop_map(struct pinfs_inode_info *pi)
{
	free(pi->ind);
	free(pi->dind);
	for (unsigned int i = 0; pi->dleaf && i < PINFS_PTRS; i++)
		free(pi->dleaf[i]);
	free(pi->dleaf);
	pi->ind = pi->dind = NULL;
	pi->dleaf = NULL;
}
