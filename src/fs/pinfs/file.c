/* SPDX-License-Identifier: MIT */
/*
 * file.c - pinfs files in the page cache: reading and writing folios
 * from and to the image, the per-folio block mapping (the buffer-head
 * role), write(), shared mappings with ->page_mkwrite, size changes, hole
 * punching, fallocate and fsync.
 *
 * It does not own the generic page cache (filemap.c), generic writeback
 * and reclaim (mm/page-writeback.c, mm/vmscan.c), the block map (bmap.c)
 * or mounting (super.c).
 *
 * The block mapping of a folio (struct pinfs_bh in folio->private, with
 * PG_private) is attached when the folio is first written (write(),
 * ->page_mkwrite, or writeback of a folio that was dirtied without one)
 * and stripped by ->release_folio when reclaim drops the clean folio, and
 * by ->invalidate_folio when truncation removes it.  Unlike Linux's
 * folio_attach_private() it holds no folio reference: migration and split
 * count references exactly and move folio->private with the folio.
 *
 * Locking: i_rwsem (write, size changes, fallocate) > folio lock >
 * pi->map_lock > sbi->meta_lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault_inject.h"
#include "pin_policy.h"
#include "pinfs.h"

static struct pinfs_sb_info *mapping_sbi(struct address_space *mapping)
{
	return PINFS_SB(mapping->host->i_sb);
}

/* ------------------------------------------------------------------ */
/* The per-folio block mapping                                         */

/* Attach (or update) the mapping of a locked folio to block @blk. */
static void pinfs_folio_attach(struct folio *folio, uint32_t blk)
{
	struct pinfs_bh *bh = folio->private;

	VM_BUG_ON_FOLIO(!folio_test_Locked(folio), folio);
	if (!folio_test_Private(folio)) {
		bh = kzalloc(sizeof(*bh));
		if (!bh)
			return;		/* writeback maps it again */
		folio->private = bh;
		folio_set_Private(folio);
		pinfs_stat_inc(mapping_sbi(folio->mapping), PINMM_PINFS_PRIVATE_ATTACH);
	}
	bh->blocknr = blk;
	bh->mapped = true;
}

/**
 * pinfs_folio_detach() - strip the block mapping of a locked folio.
 * @folio: the folio.
 *
 * Context: folio locked.
 */
void pinfs_folio_detach(struct folio *folio)
{
	struct address_space *mapping = folio_mapping(folio);

	if (!folio_test_Private(folio))
		return;
	free(folio->private);
	folio->private = NULL;
	folio_clear_Private(folio);
	if (mapping)
		pinfs_stat_inc(mapping_sbi(mapping), PINMM_PINFS_PRIVATE_RELEASE);
}

/*
 * The block of a locked folio: its attached mapping, or the block map
 * (allocating with @create, attaching the result).  *blk is 0 for a hole.
 */
static int pinfs_folio_map(struct folio *folio, bool create, uint32_t *blk, bool *is_new)
{
	struct pinfs_inode_info *pi = PINFS_I(folio->mapping->host);
	struct pinfs_bh *bh = folio->private;
	int err;

	if (is_new)
		*is_new = false;
	if (folio_test_Private(folio) && bh->mapped) {
		*blk = bh->blocknr;
		return 0;
	}
	mutex_lock(&pi->map_lock);
	err = pinfs_get_block(pi, folio->index, create, blk, is_new);
	mutex_unlock(&pi->map_lock);
	if (!err && *blk && create)
		pinfs_folio_attach(folio, *blk);
	return err;
}

/* ------------------------------------------------------------------ */
/* address_space_operations                                            */

static int pinfs_read_folio(struct file *file, struct folio *folio)
{
	struct pinfs_sb_info *sbi = mapping_sbi(folio->mapping);
	uint32_t blk;
	int err;

	(void)file;
	VM_BUG_ON_FOLIO(folio_test_large(folio), folio);
	err = pinfs_folio_map(folio, false, &blk, NULL);
	if (!err && !blk)
		memset(folio_address(folio), 0, PAGE_SIZE);
	else if (!err)
		err = pinfs_io(sbi, PINFS_IO_READ, folio_address(folio), blk, 1);
	if (!err)
		folio_set_Uptodate(folio);
	folio_unlock(folio);
	return err;
}

/*
 * Write one block from @src.  With writeback.latency_us the device reads
 * the page in two halves with the I/O time between them, as DMA streams a
 * page: a pin holder's write that lands meanwhile tears the block on disk
 * (pin_policy.c detects it).
 */
static int pinfs_write_streamed(struct pinfs_sb_info *sbi, const void *src, uint32_t blk)
{
	uint64_t lat = sbi->sb->machine->cfg.writeback_latency_us;
	size_t half = PINFS_BLOCK_SIZE / 2;
	uint8_t *buf;
	int err;

	if (!lat)
		return pinfs_io(sbi, PINFS_IO_WRITE, (void *)src, blk, 1);
	buf = kmalloc(PINFS_BLOCK_SIZE);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, src, half);
	might_sleep();
	usleep((useconds_t)lat);
	memcpy(buf + half, (const uint8_t *)src + half, half);
	err = pinfs_io(sbi, PINFS_IO_WRITE, buf, blk, 1);
	free(buf);
	return err;
}

/*
 * A dirty folio without its block mapping: it was cleaned and stripped
 * (->release_folio) while someone kept a reference and wrote to it, then
 * dirtied behind the filesystem's back (Kara, 2018).  What happens now is
 * the pinfs.dirty_no_blocks mount option:
 *
 *  remap  the generic block path (block_write_full_page() creating the
 *         buffers and calling get_block): look the block up again,
 *         allocating a hole, and write the page;
 *  bug    ext4 from 2011 to 2023: ext4_writepage() and
 *         mpage_prepare_extent_to_map() call page_buffers(), which BUGs
 *         on a page without buffers.  pinmm records the oops and the page
 *         leaves writeback clean without its data reaching disk
 *         (PG_nodisk): the data is lost when the page leaves the cache
 *         before a write fault maps it again (pin_policy_data_lost()).
 *
 * Return: true when writeback must not write @folio (bug).
 */
static bool pinfs_writepage_no_blocks(struct pinfs_sb_info *sbi, struct folio *folio)
{
	struct inode *inode = folio->mapping->host;

	if (sbi->no_blocks != PINMM_NOBLK_BUG)
		return false;
	pinmm_oops(sbi->sb->machine, __FILE__, __LINE__,
		   "pinfs_writepage: page_buffers() of %s offset %lld: dirty page without "
		   "buffers (pinfs.dirty_no_blocks=bug); its %zu bytes never reach disk",
		   inode->name, folio_pos(folio), folio_size(folio));
	folio_set_NoDisk(folio);
	return true;
}

static int pinfs_writepage(struct folio *folio, struct writeback_control *wbc)
{
	struct address_space *mapping = folio->mapping;
	struct pinfs_sb_info *sbi = mapping_sbi(mapping);
	uint32_t blk;
	int err;

	if (folio_pos(folio) >= READ_ONCE(mapping->host->i_size))
		return 0;		/* beyond EOF: truncation drops it */
	if (!folio_test_Private(folio) && pinfs_writepage_no_blocks(sbi, folio))
		return 0;
	/* remap, or a folio with its mapping: the block, allocated if a hole. */
	err = pinfs_folio_map(folio, true, &blk, NULL);
	if (!err)
		err = pinfs_write_streamed(sbi, wbc->bounce ? wbc->bounce : folio_address(folio),
					   blk);
	if (!err) {
		folio_clear_NoDisk(folio);
		pinfs_stat_inc(sbi, PINMM_PINFS_WRITEBACK);
	} else {
		pinfs_stat_inc(sbi, PINMM_PINFS_WB_ERRORS);
	}
	return err;
}

/*
 * A folio dirtied without a block mapping is what ext4_dirty_folio() warns
 * about (the page was cleaned and its buffers stripped while someone kept
 * writing to it, typically through a GUP pin): count it; writeback maps it.
 */
static bool pinfs_dirty_folio(struct address_space *mapping, struct folio *folio)
{
	bool was_clean = filemap_dirty_folio(mapping, folio);

	if (was_clean && !folio_test_Private(folio)) {
		pinfs_stat_inc(mapping_sbi(mapping), PINMM_PINFS_DIRTY_NO_PRIVATE);
		/* Kara's failure when a pin holder dirtied it. */
		if (folio_maybe_dma_pinned(folio))
			pin_policy_report_no_blocks(mapping, folio);
	}
	return was_clean;
}

static bool pinfs_release_folio(struct folio *folio)
{
	if (folio_test_Dirty(folio) || folio_test_Writeback(folio))
		return false;
	pinfs_folio_detach(folio);
	return true;
}

static void pinfs_invalidate_folio(struct folio *folio, size_t offset, size_t len)
{
	/* busyblocks: a pinned folio keeps its block until the last unpin. */
	if (offset == 0 && len >= folio_size(folio) && !pinfs_busy_hold(folio))
		pinfs_folio_detach(folio);
}

const struct address_space_operations pinfs_aops = {
	.read_folio = pinfs_read_folio,
	.writepage = pinfs_writepage,
	.dirty_folio = pinfs_dirty_folio,
	.release_folio = pinfs_release_folio,
	.invalidate_folio = pinfs_invalidate_folio,
};

/* ------------------------------------------------------------------ */
/* Mappings                                                            */

/*
 * ->page_mkwrite: the first write to a clean page of a shared mapping.
 * Allocate the block behind a hole now, so that a full filesystem is a
 * SIGBUS at the store and never a failed writeback later, attach the
 * mapping and dirty the folio (as block_page_mkwrite() does).
 */
static vm_fault_t pinfs_page_mkwrite(struct vm_fault *vmf)
{
	struct folio *folio = vmf->folio;
	struct inode *inode = vmf->vma->vm_file->f_inode;
	struct pinfs_sb_info *sbi = PINFS_SB(inode->i_sb);
	bool is_new;
	uint32_t blk;
	int err;

	pinfs_stat_inc(sbi, PINMM_PINFS_MKWRITE);
	folio_lock(folio);
	if (folio->mapping != inode->i_mapping ||
	    folio_pos(folio) >= READ_ONCE(inode->i_size)) {
		folio_unlock(folio);
		return VM_FAULT_NOPAGE;		/* truncated meanwhile */
	}
	err = pinfs_folio_map(folio, true, &blk, &is_new);
	if (err) {
		folio_unlock(folio);
		return err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
	}
	if (is_new)
		pinfs_stat_inc(sbi, PINMM_PINFS_MKWRITE_ALLOC);
	folio_mark_dirty(folio);
	return VM_FAULT_LOCKED;
}

static const struct vm_operations_struct pinfs_vm_ops = {
	.name = "pinfs",
	.fault = filemap_fault,
	.page_mkwrite = pinfs_page_mkwrite,
};

static int pinfs_mmap(struct file *file, struct vm_area_struct *vma)
{
	(void)file;
	vma->vm_ops = &pinfs_vm_ops;
	return 0;
}

/* ------------------------------------------------------------------ */
/* write()                                                             */

static int pinfs_zero_partial(struct inode *inode, long long from, long long to);

/*
 * i_size grows from @old to @new: the bytes of the old EOF page past @old
 * that the file now exposes are zeroed first, as ext4 in Linux 6.18 does
 * (a store through a shared mapping may have put data there, past EOF,
 * which is not file data).  Found by pinmm fuzz --diff.  i_rwsem held.
 */
static int pinfs_zero_eof_tail(struct inode *inode, long long old, long long new)
{
	long long end = ALIGN(old, (long long)PAGE_SIZE);

	if (new <= old || old == end)
		return 0;
	return pinfs_zero_partial(inode, old, min(new, end));
}

/*
 * Like generic_file_write(), with the block allocated before the copy (a
 * full filesystem stops the write with -ENOSPC) and attached to the folio.
 */
static long pinfs_file_write(struct file *file, const void *buf, size_t len, long long off)
{
	struct address_space *mapping = file->f_mapping;
	struct inode *inode = mapping->host;
	size_t done = 0;
	int err = 0;

	if (!len)
		return 0;
	if (off >= PINFS_MAX_FILESIZE)
		return -EFBIG;
	if ((unsigned long long)len > (unsigned long long)(PINFS_MAX_FILESIZE - off))
		len = (size_t)(PINFS_MAX_FILESIZE - off);

	down_write(&inode->i_rwsem);
	err = pinfs_zero_eof_tail(inode, inode->i_size, off);
	while (!err && done < len) {
		long long pos = off + (long long)done;
		pgoff_t index = (pgoff_t)(pos >> PAGE_SHIFT);
		size_t offset = (size_t)(pos & (PAGE_SIZE - 1));
		size_t chunk = min(PAGE_SIZE - offset, len - done);
		struct folio *folio;
		bool is_new;
		uint32_t blk;

		folio = __filemap_get_folio(mapping, index, FGP_LOCK | FGP_CREAT,
					    mapping_gfp_mask(mapping));
		if (IS_ERR(folio)) {
			err = (int)PTR_ERR(folio);
			break;
		}
		err = pinfs_folio_map(folio, true, &blk, &is_new);
		if (!err && !folio_test_Uptodate(folio)) {
			if (is_new || chunk < PAGE_SIZE) {
				if (is_new) {
					memset(folio_address(folio), 0, PAGE_SIZE);
					folio_set_Uptodate(folio);
				} else {
					err = filemap_read_folio(file, mapping, folio);
				}
			} else {
				folio_set_Uptodate(folio);	/* overwritten whole */
			}
		}
		if (err) {
			folio_unlock(folio);
			folio_put(folio);
			if (err == -EAGAIN) {
				err = 0;
				continue;
			}
			break;
		}
		memcpy((char *)folio_address(folio) + offset, (const char *)buf + done, chunk);
		folio_mark_dirty(folio);
		folio_unlock(folio);
		folio_put(folio);
		done += chunk;
		if (pos + (long long)chunk > inode->i_size)
			WRITE_ONCE(inode->i_size, pos + (long long)chunk);
	}
	up_write(&inode->i_rwsem);
	return done ? (long)done : err;
}

/* ------------------------------------------------------------------ */
/* Size changes, holes, fallocate, fsync                               */

/*
 * Zeroing part of one page (truncate to a size inside a page, the ends of a
 * hole punch) is done in two steps, so that an operation whose read fails
 * changes nothing:
 *   prepare - everything that can fail: look the block up, read the page
 *             into the cache and give it a block; returns the folio
 *             unlocked with a reference (NULL when the bytes are in a hole
 *             with nothing cached: nothing to zero);
 *   commit  - zero the bytes and dirty the page; it fails only where a
 *             page reclaim touched meanwhile needs memory again (its block
 *             mapping re-attached, or a second read of a page reclaim
 *             took), and then before zeroing anything.
 * i_rwsem held for writing across both.  The folio is not kept locked in
 * between: a lease break or holdoff wait may run between the two, and a
 * pin holder releasing its pins locks the folio to dirty it.
 */
struct pinfs_partial {
	struct folio *folio;	/* NULL: nothing to zero */
	long long from, to;
	bool has_block;		/* the page has a block on disk to zero */
};

static int pinfs_partial_prepare(struct inode *inode, long long from, long long to,
				 struct pinfs_partial *pp)
{
	struct address_space *mapping = inode->i_mapping;
	struct pinfs_inode_info *pi = PINFS_I(inode);
	pgoff_t index = (pgoff_t)(from >> PAGE_SHIFT);
	struct folio *folio;
	uint32_t blk;
	int err;

	pp->folio = NULL;
	pp->from = from;
	pp->to = to;
	pp->has_block = false;
	if (from >= to)
		return 0;
	mutex_lock(&pi->map_lock);
	err = pinfs_get_block(pi, index, false, &blk, NULL);
	mutex_unlock(&pi->map_lock);
	if (err)
		return err;
	if (!blk) {
		/* a hole: only a cached (never written back) page has bytes */
		pp->folio = filemap_get_folio(mapping, index);
		return 0;
	}
	for (;;) {
		folio = __filemap_get_folio(mapping, index, FGP_LOCK | FGP_CREAT,
					    mapping_gfp_mask(mapping));
		if (IS_ERR(folio))
			return (int)PTR_ERR(folio);
		err = filemap_read_folio(NULL, mapping, folio);
		if (err != -EAGAIN)
			break;
		folio_unlock(folio);
		folio_put(folio);
	}
	if (!err)
		err = pinfs_folio_map(folio, true, &blk, NULL);
	folio_unlock(folio);
	if (err) {
		folio_put(folio);
		return err;
	}
	pp->folio = folio;
	pp->has_block = true;
	return 0;
}

/* Drop a prepared partial page unused (the operation failed elsewhere). */
static void pinfs_partial_abort(struct pinfs_partial *pp)
{
	if (pp->folio)
		folio_put(pp->folio);
	pp->folio = NULL;
}


static int pinfs_partial_commit(struct inode *inode, struct pinfs_partial *pp)
{
	struct address_space *mapping = inode->i_mapping;
	struct folio *folio = pp->folio;
	bool done = false;

	if (!folio)
		return 0;
	folio_lock(folio);
	if (folio->mapping == mapping && folio_test_Uptodate(folio)) {
		uint32_t blk;
		int err = 0;

		/*
		 * Reclaim may have released the block mapping meanwhile (it
		 * strips a clean page before it sees our reference, as in
		 * Linux): attach it again, so that the zeroes are written
		 * back like any dirty page's.  Nothing is zeroed if that fails.
		 */
		if (pp->has_block && !folio->private)
			err = pinfs_folio_map(folio, true, &blk, NULL);
		if (err) {
			folio_unlock(folio);
			folio_put(folio);
			pp->folio = NULL;
			return err;
		}
		memset((char *)folio_address(folio) + (pp->from & (PAGE_SIZE - 1)), 0,
		       (size_t)(pp->to - pp->from));
		/* a page of a hole that was only cached stays a clean hole */
		if (pp->has_block)
			folio_mark_dirty(folio);
		done = true;
	}
	folio_unlock(folio);
	folio_put(folio);
	pp->folio = NULL;
	/* reclaim took the page meanwhile: it is on disk, zero it there */
	return done ? 0 : pinfs_zero_partial(inode, pp->from, pp->to);
}

/*
 * Zero bytes [from, to) of one page and make that persistent: through the
 * cache when the page has a block (read, zero, dirty); a hole with no
 * cached page needs nothing.  i_rwsem held.
 */
static int pinfs_zero_partial(struct inode *inode, long long from, long long to)
{
	struct pinfs_partial pp;
	int err = pinfs_partial_prepare(inode, from, to, &pp);

	if (err)
		return err;
	return pinfs_partial_commit(inode, &pp);
}

/*
 * The blocks behind bytes [start, end) are about to leave the file
 * (truncate, punch); the callers broke the file's layout leases first,
 * before changing anything (pinfs_break_leases()).  holdoff - wait for
 * each pinned cached page of the range to be released, up to the deadline
 * (pin_policy.c).  i_rwsem held.
 */
static void pinfs_layout_change(struct inode *inode, long long start, long long end,
				const char *why)
{
	struct address_space *mapping = inode->i_mapping;
	pgoff_t index = (pgoff_t)(start >> PAGE_SHIFT);
	pgoff_t last = end <= 0 ? 0 : (pgoff_t)((end - 1) >> PAGE_SHIFT);

	(void)why;
	if (end <= start)
		return;
	if (fs_pinned_policy(inode->i_sb->machine) != PINMM_FS_HOLDOFF)
		return;
	for (;;) {
		struct folio *folio;

		spin_lock(&mapping->i_pages_lock);
		folio = page_index_next(&mapping->i_pages, &index, last);
		if (folio && !folio_try_get(folio))
			folio = NULL;
		spin_unlock(&mapping->i_pages_lock);
		if (!folio)
			break;
		pin_policy_holdoff_wait(folio, HOLDOFF_TRUNCATE);
		index = folio->index + folio_nr_pages(folio);
		folio_put(folio);
		if (!index || index > last)
			break;
	}
}

/*
 * Lease policy: whole pages [start, end) are about to leave the file -
 * break its layout leases and wait (pin_lease.c).  Before anything
 * changes: -ETXTBSY (lease.outcome fail or unbreakable) leaves the file
 * as it was.  i_rwsem held.
 */
static int pinfs_break_leases(struct inode *inode, long long start, long long end,
			      const char *why)
{
	return end > start ? lease_break_wait(inode, why) : 0;
}

/* Drop the cache over whole pages [start, end) and free their blocks. */
static int pinfs_punch_pages(struct inode *inode, long long start, long long end)
{
	struct pinfs_inode_info *pi = PINFS_I(inode);
	int err;

	if (end <= start)
		return 0;
	pinfs_layout_change(inode, start, end, "hole punch");
	truncate_inode_pages_range(inode->i_mapping, start, end - 1);
	mutex_lock(&pi->map_lock);
	err = pinfs_free_blocks(pi, (uint64_t)start >> PAGE_SHIFT,
				((uint64_t)end >> PAGE_SHIFT) - 1);
	pi->meta_dirty = true;
	mutex_unlock(&pi->map_lock);
	/* the new map into the table buffer: the freed blocks may be committed */
	pinfs_write_inode(inode);
	return err;
}

/*
 * Truncate or extend.  A shrink reads the page that the new size cuts first:
 * if that read fails, -EIO with nothing changed (the size, the cache and
 * the blocks stay as they were); otherwise it finishes, so the tail of that
 * page is zero on disk before any later extension can expose it.
 */
static int pinfs_setsize(struct inode *inode, long long size)
{
	struct address_space *mapping = inode->i_mapping;
	long long old = inode->i_size, hole;
	struct pinfs_partial pp = { NULL, 0, 0 };
	int err;

	VM_BUG_ON(!rwsem_is_write_locked_by_me(&inode->i_rwsem));
	if (size < 0)
		return -EINVAL;
	if (size > PINFS_MAX_FILESIZE)
		return -EFBIG;
	hole = ALIGN(size, (long long)PAGE_SIZE);
	if (size < old) {
		err = pinfs_break_leases(inode, hole, ALIGN(old, (long long)PAGE_SIZE),
					 "truncate");
		if (err)
			return err;
		err = pinfs_partial_prepare(inode, size, min(hole, old), &pp);
		if (err)
			return err;
	}
	if (size > old) {
		err = pinfs_zero_eof_tail(inode, old, size);
		if (err)
			return err;
	}
	WRITE_ONCE(inode->i_size, size);
	pinfs_mark_meta_dirty(PINFS_I(inode));
	if (size >= old)
		return 0;
	/* Filemap invariant 5: i_size first, then unmap and drop. */
	pinfs_layout_change(inode, hole, ALIGN(old, (long long)PAGE_SIZE), "truncate");
	if (hole < old)
		unmap_mapping_range(mapping, hole, ALIGN(old, (long long)PAGE_SIZE) - hole, true);
	err = pinfs_partial_commit(inode, &pp);
	truncate_inode_pages_range(mapping, size, -1);
	mutex_lock(&PINFS_I(inode)->map_lock);
	err = pinfs_free_blocks(PINFS_I(inode), (uint64_t)hole >> PAGE_SHIFT, UINT64_MAX) ?: err;
	mutex_unlock(&PINFS_I(inode)->map_lock);
	pinfs_write_inode(inode);	/* as in pinfs_punch_pages() */
	return err;
}

/*
 * Allocate (zeroed) blocks for [off, off + len).  All or nothing: when an
 * allocation or a zeroing write fails, the blocks this call allocated are
 * freed again, so the file is as before (it was a hole there).
 */
static int pinfs_falloc_alloc(struct inode *inode, long long off, long long len)
{
	struct pinfs_inode_info *pi = PINFS_I(inode);
	struct pinfs_sb_info *sbi = PINFS_SB(inode->i_sb);
	uint64_t first = (uint64_t)off >> PAGE_SHIFT;
	uint64_t last = (uint64_t)(off + len - 1) >> PAGE_SHIFT;
	static const uint8_t zero[PINFS_BLOCK_SIZE];
	uint64_t *added = kmalloc((size_t)min(last - first + 1, (uint64_t)PINFS_MAX_BLOCKS) *
				  sizeof(*added));
	size_t nr = 0;
	int err = 0;

	if (!added)
		return -ENOMEM;
	for (uint64_t b = first; b <= last && !err; b++) {
		bool is_new;
		uint32_t blk;

		mutex_lock(&pi->map_lock);
		err = pinfs_get_block(pi, b, true, &blk, &is_new);
		mutex_unlock(&pi->map_lock);
		if (!err && is_new)
			added[nr++] = b;
		/* Never expose old contents of a reused block. */
		if (!err && is_new)
			err = pinfs_io(sbi, PINFS_IO_WRITE, (void *)zero, blk, 1);
	}
	if (err && nr) {
		mutex_lock(&pi->map_lock);
		for (size_t i = 0; i < nr; i++)
			pinfs_free_blocks(pi, added[i], added[i]);
		mutex_unlock(&pi->map_lock);
		pinfs_write_inode(inode);	/* the freed blocks may be committed */
	}
	free(added);
	return err;
}

/**
 * pinfs_fallocate_check() - fallocate's argument checks, shared by the
 * page-cache and DAX forms.
 * @inode: the file.
 * @mode: the FALLOC_FL_* flags.
 * @off: first byte.
 * @len: bytes.
 *
 * Collapse and insert follow ext4 (ext4_collapse_range(),
 * ext4_insert_range(); checked against the host's ext4): each alone,
 * @off and @len multiples of the block size, a collapse ending before
 * EOF (one reaching it would be a truncate), an insert starting below EOF.
 *
 * Context: i_rwsem held for writing.
 * Return: 0, -EINVAL (negative offset, empty range, a collapse or insert
 * unaligned, a collapse reaching EOF, an insert at or past EOF),
 * -EOPNOTSUPP (modes other than KEEP_SIZE, PUNCH_HOLE, COLLAPSE_RANGE and
 * INSERT_RANGE, or collapse/insert with another flag), -EFBIG (past the
 * largest file, before or after an insert).
 */
int pinfs_fallocate_check(struct inode *inode, int mode, long long off, long long len)
{
	const int shift = FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE;

	VM_BUG_ON(!rwsem_is_write_locked_by_me(&inode->i_rwsem));
	if (off < 0 || len <= 0)
		return -EINVAL;
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | shift))
		return -EOPNOTSUPP;
	if ((mode & shift) && mode != FALLOC_FL_COLLAPSE_RANGE &&
	    mode != FALLOC_FL_INSERT_RANGE)
		return -EOPNOTSUPP;
	if (off > PINFS_MAX_FILESIZE || len > PINFS_MAX_FILESIZE - off)
		return -EFBIG;
	if (!(mode & shift))
		return 0;
	if ((off | len) & (PINFS_BLOCK_SIZE - 1))
		return -EINVAL;
	if (mode == FALLOC_FL_COLLAPSE_RANGE)
		return off + len >= inode->i_size ? -EINVAL : 0;
	if (off >= inode->i_size)
		return -EINVAL;
	return len > PINFS_MAX_FILESIZE - inode->i_size ? -EFBIG : 0;
}

/*
 * FALLOC_FL_COLLAPSE_RANGE (@collapse) or FALLOC_FL_INSERT_RANGE, checked
 * by pinfs_fallocate_check().  As ext4: the layout leases break first
 * (every block from @off to EOF changes place; -ETXTBSY changes nothing),
 * then the pages from @off to EOF are written back and dropped from the
 * cache (a write-back error changes nothing), so the shifted data is read
 * again from its blocks at their new offsets; then the block pointers
 * move and i_size changes.  i_rwsem held for writing.
 */
static int pinfs_shift_range(struct inode *inode, long long off, long long len, bool collapse)
{
	struct address_space *mapping = inode->i_mapping;
	struct pinfs_inode_info *pi = PINFS_I(inode);
	long long old = inode->i_size, eof = ALIGN(old, (long long)PAGE_SIZE);
	const char *why = collapse ? "collapse range" : "insert range";
	uint64_t first = (uint64_t)off >> PAGE_SHIFT, n = (uint64_t)len >> PAGE_SHIFT;
	int err;

	err = pinfs_break_leases(inode, off, eof, why);
	if (err)
		return err;
	mutex_lock(&pi->map_lock);
	err = pinfs_shift_prepare(pi, first, n, collapse);
	mutex_unlock(&pi->map_lock);
	if (err)
		return err;
	unmap_mapping_range(mapping, off, eof - off, true);
	err = filemap_write_and_wait(mapping);
	if (err)
		return err;
	pinfs_layout_change(inode, off, eof, why);
	unmap_mapping_range(mapping, off, eof - off, true);
	truncate_inode_pages_range(mapping, off, -1);
	mutex_lock(&pi->map_lock);
	err = pinfs_shift_commit(pi, first, n, collapse);
	pi->meta_dirty = true;
	mutex_unlock(&pi->map_lock);
	WRITE_ONCE(inode->i_size, collapse ? old - len : old + len);
	/* the new map into the table buffer: the freed blocks may be committed */
	pinfs_write_inode(inode);
	return err;
}

static int pinfs_fallocate(struct inode *inode, int mode, long long off, long long len)
{
	long long end;
	int err;

	err = pinfs_fallocate_check(inode, mode, off, len);
	if (err)
		return err;
	end = off + len;
	if (mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE))
		return pinfs_shift_range(inode, off, len, mode == FALLOC_FL_COLLAPSE_RANGE);

	if (mode & FALLOC_FL_PUNCH_HOLE) {
		long long hs = ALIGN(off, (long long)PAGE_SIZE);
		long long he = ALIGN_DOWN(end, (long long)PAGE_SIZE);
		struct pinfs_partial head, tail;

		if (!(mode & FALLOC_FL_KEEP_SIZE))
			return -EOPNOTSUPP;
		if (hs > he)		/* inside one page */
			return pinfs_zero_partial(inode, off, end);
		/*
		 * Read both partial pages before changing anything: a failed
		 * read leaves the file as it was, with no middle punched.
		 */
		err = pinfs_partial_prepare(inode, off, hs, &head);
		if (err)
			return err;
		err = pinfs_partial_prepare(inode, he, end, &tail);
		if (err) {
			pinfs_partial_abort(&head);
			return err;
		}
		err = pinfs_break_leases(inode, hs, he, "hole punch");
		if (err) {
			pinfs_partial_abort(&head);
			pinfs_partial_abort(&tail);
			return err;
		}
		err = pinfs_partial_commit(inode, &head);
		err = pinfs_partial_commit(inode, &tail) ?: err;
		return pinfs_punch_pages(inode, hs, he) ?: err;
	}
	err = pinfs_falloc_alloc(inode, off, len);
	pinfs_mark_meta_dirty(PINFS_I(inode));
	if (err)
		return err;
	if (!(mode & FALLOC_FL_KEEP_SIZE) && end > inode->i_size)
		WRITE_ONCE(inode->i_size, end);
	return 0;
}

/*
 * fsync: the file's dirty pages (each write-protected again in every
 * mapping), its inode and indirect blocks, the allocation metadata, then
 * fsync(2) of the image.  When a page cannot be written the metadata is
 * left alone (as ext4_sync_file() returns before committing): the image
 * keeps the file as its last fsync left it, and the pages stay dirty for
 * the next try.  pinmm_fsync() adds the per-file errseq report.
 */
static int pinfs_fsync(struct inode *inode)
{
	int err, e;

	err = filemap_write_and_wait(inode->i_mapping);
	if (err)
		return err;
	err = pinfs_write_inode(inode);
	e = pinfs_sync_meta(PINFS_SB(inode->i_sb), true);
	return err ? err : e;
}

const struct inode_operations pinfs_inode_ops = {
	.setsize = pinfs_setsize,
	.fallocate = pinfs_fallocate,
	.fsync = pinfs_fsync,
};

/* O_DIRECT descriptors: uncached block I/O with host buffers (dio.c). */
static long pinfs_read(struct file *file, void *buf, size_t len, long long off)
{
	if (file->f_flags & O_DIRECT)
		return pinfs_dio_rw_host(file, buf, len, off, false);
	return generic_file_read(file, buf, len, off);
}

static long pinfs_write(struct file *file, const void *buf, size_t len, long long off)
{
	if (file->f_flags & O_DIRECT)
		return pinfs_dio_rw_host(file, (void *)buf, len, off, true);
	return pinfs_file_write(file, buf, len, off);
}

const struct file_operations pinfs_file_ops = {
	.read = pinfs_read,
	.write = pinfs_write,
	.mmap = pinfs_mmap,
};
