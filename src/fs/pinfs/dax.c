/* SPDX-License-Identifier: MIT */
/*
 * dax.c - pinfs in DAX mode: a file system on the persistent-memory region
 * (cfg.pmem), mounted at /dax/, whose file pages are the storage frames
 * themselves.  No page cache: ->fault maps the block's ZONE_DEVICE frame
 * with a devmap PTE, read(2)/write(2) copy to and from the frames, and
 * truncate / hole punch break the file's layout leases (lease policy, the
 * same break/revoke as the page cache: pin_lease.c), unmap, then wait
 * (with a deadline) for pinned frames to go idle - or fenced by a revoked
 * lease - before the blocks are freed (Linux: fs/dax.c, ext4/xfs
 * break_layouts).  The block of a fenced frame stays allocated until the
 * revoked holder's last unpin (busy.c).
 *
 * The on-pmem format is pinfs's own: block b of the file system is frame
 * zones[ZONE_DEVICE].start_pfn + b, and metadata goes through pinfs_io(),
 * which copies to and from the frames (super.c).  The region is formatted
 * at every boot: pmem contents do not persist across boot.
 *
 * It does not own the frame life cycle, devmap PTEs and waiting (mm/dax.c),
 * the block map (bmap.c), allocation (balloc.c) or mounting (super.c).
 *
 * Locking: i_rwsem (write(), size changes, fallocate; read() shares it) >
 * mmap_lock > pi->dax_sem > pi->map_lock > sbi->meta_lock.  dax_sem is
 * read by faults from the block lookup to the PTE, written by truncate,
 * punch and eviction (see pinfs.h).  A frame's mapping/index rules are in
 * dax.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fault_inject.h"
#include "pinfs.h"
#include "dax.h"
#include "pin_policy.h"

static struct pinfs_sb_info *inode_sbi(struct inode *inode)
{
	return PINFS_SB(inode->i_sb);
}

static void *dax_block_addr(struct pinfs_sb_info *sbi, uint32_t blk)
{
	return sbi->pmem + ((uint64_t)blk << PINFS_BLOCK_SHIFT);
}

static struct folio *dax_block_folio(struct pinfs_sb_info *sbi, uint32_t blk)
{
	return (struct folio *)pfn_to_page_m(sbi->sb->machine, sbi->pmem_pfn + blk);
}

/*
 * The block behind file block @lblk (0: hole), allocating with @create; a
 * new block is zeroed in place (it may hold a freed file's data).
 */
static int dax_get_block(struct inode *inode, uint64_t lblk, bool create, uint32_t *blk)
{
	struct pinfs_inode_info *pi = PINFS_I(inode);
	bool is_new = false;
	int err;

	mutex_lock(&pi->map_lock);
	err = pinfs_get_block(pi, lblk, create, blk, &is_new);
	if (!err && is_new) {
		dax_frame_prepare(inode->i_sb->machine, inode_sbi(inode)->pmem_pfn + *blk);
		memset(dax_block_addr(inode_sbi(inode), *blk), 0, PINFS_BLOCK_SIZE);
		pi->meta_dirty = true;
	}
	mutex_unlock(&pi->map_lock);
	return err;
}

/* Pages of a file of @size bytes. */
static uint64_t size_pages(long long size)
{
	return (uint64_t)(size + (long long)PAGE_SIZE - 1) >> PAGE_SHIFT;
}

/* ------------------------------------------------------------------ */
/* Faults                                                              */

/*
 * ->fault.  Shared mappings and read faults: the frame of the block,
 * allocated for a hole (also on a read fault: see PINFS.md), mapped with a
 * devmap PTE here (VM_FAULT_NOPAGE).  A write fault of a private mapping
 * hands the frame (or, for a hole, a zeroed scratch folio, allocating
 * nothing) to do_cow_fault(), which copies it into an anonymous page.
 */
static vm_fault_t pinfs_dax_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct inode *inode = vma->vm_file->f_inode;
	struct pinfs_inode_info *pi = PINFS_I(inode);
	struct pinfs_sb_info *sbi = inode_sbi(inode);
	struct pinmm *m = inode->i_sb->machine;
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	bool cow = write && !(vma->vm_flags & VM_SHARED);
	struct folio *folio;
	vm_fault_t ret;
	uint32_t blk;
	int err;

	down_read(&pi->dax_sem);
	if ((long long)vmf->pgoff >= (long long)size_pages(READ_ONCE(inode->i_size))) {
		up_read(&pi->dax_sem);
		return VM_FAULT_SIGBUS;
	}
	err = dax_get_block(inode, vmf->pgoff, !cow, &blk);
	if (err) {
		up_read(&pi->dax_sem);
		return err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
	}
	if (cow) {
		if (blk)
			folio = dax_grab_frame(m, sbi->pmem_pfn + blk, inode->i_mapping,
					       vmf->pgoff);
		else
			folio = folio_alloc(m, GFP_HIGHUSER_MOVABLE | __GFP_ZERO, 0);
		up_read(&pi->dax_sem);
		if (!folio)
			return VM_FAULT_OOM;
		vmf->folio = folio;
		vmf->page = &folio->page;
		return 0;		/* __do_fault() locks it; copied, then put */
	}
	folio = dax_grab_frame(m, sbi->pmem_pfn + blk, inode->i_mapping, vmf->pgoff);
	ret = dax_insert_folio(vmf, folio, write);
	up_read(&pi->dax_sem);
	return ret;
}

static const struct vm_operations_struct pinfs_dax_vm_ops = {
	.name = "pinfs-dax",
	.fault = pinfs_dax_fault,
};

static int pinfs_dax_mmap(struct file *file, struct vm_area_struct *vma)
{
	(void)file;
	vma->vm_ops = &pinfs_dax_vm_ops;
	return 0;
}

/* ------------------------------------------------------------------ */
/* read() and write(): straight to and from the frames                 */

static long pinfs_dax_read(struct file *file, void *buf, size_t len, long long off)
{
	struct inode *inode = file->f_inode;
	struct pinfs_sb_info *sbi = inode_sbi(inode);
	size_t done = 0;
	long long size;
	int err = 0;

	if (off < 0)
		return -EINVAL;
	down_read(&inode->i_rwsem);
	size = inode->i_size;
	if (off >= size)
		len = 0;
	else if ((unsigned long long)len > (unsigned long long)(size - off))
		len = (size_t)(size - off);
	while (done < len) {
		long long pos = off + (long long)done;
		size_t offset = (size_t)(pos & (PAGE_SIZE - 1));
		size_t chunk = min(PAGE_SIZE - offset, len - done);
		uint32_t blk;

		err = dax_get_block(inode, (uint64_t)pos >> PAGE_SHIFT, false, &blk);
		if (err)
			break;
		if (blk)
			memcpy((char *)buf + done, (char *)dax_block_addr(sbi, blk) + offset, chunk);
		else
			memset((char *)buf + done, 0, chunk);
		done += chunk;
	}
	up_read(&inode->i_rwsem);
	return done ? (long)done : err;
}

static long pinfs_dax_write(struct file *file, const void *buf, size_t len, long long off)
{
	struct inode *inode = file->f_inode;
	struct pinfs_sb_info *sbi = inode_sbi(inode);
	size_t done = 0;
	int err = 0;

	if (!len)
		return 0;
	if (off < 0)
		return -EINVAL;
	if (off >= PINFS_MAX_FILESIZE)
		return -EFBIG;
	if ((unsigned long long)len > (unsigned long long)(PINFS_MAX_FILESIZE - off))
		len = (size_t)(PINFS_MAX_FILESIZE - off);
	down_write(&inode->i_rwsem);
	while (done < len) {
		long long pos = off + (long long)done;
		size_t offset = (size_t)(pos & (PAGE_SIZE - 1));
		size_t chunk = min(PAGE_SIZE - offset, len - done);
		uint32_t blk;

		err = dax_get_block(inode, (uint64_t)pos >> PAGE_SHIFT, true, &blk);
		if (err)
			break;
		memcpy((char *)dax_block_addr(sbi, blk) + offset, (const char *)buf + done, chunk);
		done += chunk;
		if (pos + (long long)chunk > inode->i_size)
			WRITE_ONCE(inode->i_size, pos + (long long)chunk);
	}
	pinfs_mark_meta_dirty(PINFS_I(inode));
	up_write(&inode->i_rwsem);
	return done ? (long)done : err;
}

/* ------------------------------------------------------------------ */
/* Breaking layouts: truncate, hole punch, eviction                    */

/*
 * Wait for every frame behind file pages [first, last] to go idle (or be
 * held only by fenced pins of revoked leases: dax_frame_busy()); the
 * range is unmapped first (private COW copies too) and faults are held
 * off by dax_sem, so only GUP references and pins can remain.  The
 * deadline is cfg.dax.truncate_wait_ms for the whole range.  dax_sem held
 * for writing.  Return: 0 or -EBUSY (counted; nothing was freed).
 */
static int dax_break_layouts(struct inode *inode, uint64_t first, uint64_t last)
{
	struct pinfs_sb_info *sbi = inode_sbi(inode);
	struct pinmm *m = inode->i_sb->machine;
	uint64_t end = size_pages(inode->i_size);	/* no frame beyond EOF is mapped */
	struct timespec deadline;
	bool waited = false;

	if (first >= end)
		return 0;
	if (last >= end)
		last = end - 1;
	unmap_mapping_range(inode->i_mapping, (long long)(first << PAGE_SHIFT),
			    (long long)((last - first + 1) << PAGE_SHIFT), true);
	dax_deadline(&deadline, m->cfg.dax_truncate_wait_ms);
	for (uint64_t lblk = first; lblk <= last; lblk++) {
		struct folio *folio;
		uint32_t blk;

		if (dax_get_block(inode, lblk, false, &blk) || !blk)
			continue;
		folio = dax_block_folio(sbi, blk);
		if (!dax_frame_busy(folio))
			continue;
		if (!waited) {
			count_vm_event(m, DAX_TRUNCATE_WAITS);
			waited = true;
		}
		if (dax_wait_folio_idle(folio, &deadline)) {
			count_vm_event(m, DAX_TRUNCATE_TIMEOUTS);
			return -EBUSY;
		}
	}
	return 0;
}

/*
 * The frames behind file pages [first, last] stop being this file's pages
 * (their blocks are about to be freed, or the inode to go away).  Frames
 * still pinned by a revoked lease, and busy frames with @force (eviction),
 * lose their mapping too, like a truncated page-cache folio that is still
 * pinned.  When the blocks are about to be freed (truncate, punch, an
 * unlinked file's eviction), a frame still referenced keeps its block
 * allocated until its final put (busy.c pinfs_busy_hold_frame()): a
 * revoked holder's device can name the frame, so no other file may own
 * it.  dax_sem held for writing; no map_lock or meta_lock.
 */
static void dax_disown_range(struct inode *inode, uint64_t first, uint64_t last, bool force)
{
	struct pinfs_sb_info *sbi = inode_sbi(inode);
	uint64_t end = size_pages(inode->i_size);

	if (last >= end)
		last = end ? end - 1 : 0;
	for (uint64_t lblk = first; lblk < end && lblk <= last; lblk++) {
		struct folio *folio;
		uint32_t blk;

		if (dax_get_block(inode, lblk, false, &blk) || !blk)
			continue;
		folio = dax_block_folio(sbi, blk);
		if (READ_ONCE(folio->mapping) != inode->i_mapping)
			continue;
		if (!force && dax_frame_busy(folio))
			continue;
		WRITE_ONCE(folio->mapping, NULL);
		folio->index = 0;
		if (!force || !inode->i_nlink)
			pinfs_busy_hold_frame(sbi, folio, blk);
	}
}

/* Zero bytes [from, to) of one page in its frame (nothing for a hole). */
static int dax_zero_partial(struct inode *inode, long long from, long long to)
{
	uint32_t blk;
	int err;

	if (from >= to)
		return 0;
	err = dax_get_block(inode, (uint64_t)from >> PAGE_SHIFT, false, &blk);
	if (!err && blk)
		memset((char *)dax_block_addr(inode_sbi(inode), blk) + (from & (PAGE_SIZE - 1)),
		       0, (size_t)(to - from));
	return err;
}

/* Free the blocks of whole pages [first, last]; dax_sem held for writing. */
static int dax_free_pages(struct inode *inode, uint64_t first, uint64_t last)
{
	struct pinfs_inode_info *pi = PINFS_I(inode);
	int err;

	dax_disown_range(inode, first, last, false);
	mutex_lock(&pi->map_lock);
	err = pinfs_free_blocks(pi, first, last);
	pi->meta_dirty = true;
	mutex_unlock(&pi->map_lock);
	pinfs_write_inode(inode);	/* the freed blocks may be committed */
	return err;
}

/*
 * ->setsize.  Shrinking whole pages away first breaks the file's layout
 * leases (lease policy: release or revoke at the deadline, as for the
 * page cache).  Then, with faults held off, unmap and wait for the frames
 * past the new end to go idle; at the deadline fail with -EBUSY and change
 * nothing (Linux waits, killably, for as long as it takes).  Then the new
 * size, the partial page zeroed in its frame, the blocks freed.
 */
static int pinfs_dax_setsize(struct inode *inode, long long size)
{
	struct pinfs_inode_info *pi = PINFS_I(inode);
	long long old = inode->i_size, hole;
	int err;

	VM_BUG_ON(!rwsem_is_write_locked_by_me(&inode->i_rwsem));
	if (size < 0)
		return -EINVAL;
	if (size > PINFS_MAX_FILESIZE)
		return -EFBIG;
	if (size >= old) {
		WRITE_ONCE(inode->i_size, size);
		pinfs_mark_meta_dirty(pi);
		return 0;
	}
	hole = ALIGN(size, (long long)PAGE_SIZE);
	if (hole < ALIGN(old, (long long)PAGE_SIZE)) {
		err = lease_break_wait(inode, "truncate");
		if (err)
			return err;	/* -ETXTBSY: nothing changed */
	}
	down_write(&pi->dax_sem);
	err = dax_break_layouts(inode, (uint64_t)hole >> PAGE_SHIFT, UINT64_MAX);
	if (err) {
		up_write(&pi->dax_sem);
		return err;
	}
	err = dax_zero_partial(inode, size, min(hole, old));
	/* Disown while i_size still covers the range, then shrink. */
	dax_disown_range(inode, (uint64_t)hole >> PAGE_SHIFT, UINT64_MAX, false);
	WRITE_ONCE(inode->i_size, size);
	pinfs_mark_meta_dirty(pi);
	err = dax_free_pages(inode, (uint64_t)hole >> PAGE_SHIFT, UINT64_MAX) ?: err;
	up_write(&pi->dax_sem);
	return err;
}

/*
 * Collapse (@collapse) or insert, checked by pinfs_fallocate_check(): the
 * layout leases break (-ETXTBSY changes nothing); with faults held off
 * the frames from @off to EOF are unmapped and waited for (-EBUSY at the
 * deadline, nothing changed, as truncate); the collapsed frames are
 * disowned (a revoked pin keeps its block until the last unpin), the
 * block pointers move, and every frame that moved is this file's page at
 * its new index.
 */
static int dax_shift_range(struct inode *inode, long long off, long long len, bool collapse)
{
	struct pinfs_inode_info *pi = PINFS_I(inode);
	uint64_t first = (uint64_t)off >> PAGE_SHIFT, n = (uint64_t)len >> PAGE_SHIFT;
	long long size = collapse ? inode->i_size - len : inode->i_size + len;
	int err;

	err = lease_break_wait(inode, collapse ? "collapse range" : "insert range");
	if (err)
		return err;
	down_write(&pi->dax_sem);
	err = dax_break_layouts(inode, first, UINT64_MAX);
	if (!err) {
		mutex_lock(&pi->map_lock);
		err = pinfs_shift_prepare(pi, first, n, collapse);
		mutex_unlock(&pi->map_lock);
	}
	if (err) {
		up_write(&pi->dax_sem);
		return err;
	}
	if (collapse)
		dax_disown_range(inode, first, first + n - 1, false);
	mutex_lock(&pi->map_lock);
	err = pinfs_shift_commit(pi, first, n, collapse);
	pi->meta_dirty = true;
	mutex_unlock(&pi->map_lock);
	WRITE_ONCE(inode->i_size, size);
	for (uint64_t lblk = first; lblk < size_pages(size); lblk++) {
		struct folio *folio;
		uint32_t blk;

		if (dax_get_block(inode, lblk, false, &blk) || !blk)
			continue;
		folio = dax_block_folio(inode_sbi(inode), blk);
		if (READ_ONCE(folio->mapping) == inode->i_mapping)
			folio->index = lblk;
	}
	pinfs_write_inode(inode);	/* the freed blocks may be committed */
	up_write(&pi->dax_sem);
	return err;
}

static int pinfs_dax_fallocate(struct inode *inode, int mode, long long off, long long len)
{
	struct pinfs_inode_info *pi = PINFS_I(inode);
	long long end;
	int err = 0;

	err = pinfs_fallocate_check(inode, mode, off, len);
	if (err)
		return err;
	end = off + len;
	if (mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE))
		return dax_shift_range(inode, off, len, mode == FALLOC_FL_COLLAPSE_RANGE);

	if (mode & FALLOC_FL_PUNCH_HOLE) {
		long long hs = ALIGN(off, (long long)PAGE_SIZE);
		long long he = ALIGN_DOWN(end, (long long)PAGE_SIZE);

		if (!(mode & FALLOC_FL_KEEP_SIZE))
			return -EOPNOTSUPP;
		if (hs < he) {
			err = lease_break_wait(inode, "hole punch");
			if (err)
				return err;	/* -ETXTBSY: nothing changed */
		}
		down_write(&pi->dax_sem);
		if (hs < he)
			err = dax_break_layouts(inode, (uint64_t)hs >> PAGE_SHIFT,
						((uint64_t)he >> PAGE_SHIFT) - 1);
		if (!err && hs > he) {
			err = dax_zero_partial(inode, off, end);	/* inside one page */
		} else if (!err) {
			err = dax_zero_partial(inode, off, hs);
			err = dax_zero_partial(inode, he, end) ?: err;
			if (hs < he)
				err = dax_free_pages(inode, (uint64_t)hs >> PAGE_SHIFT,
						     ((uint64_t)he >> PAGE_SHIFT) - 1) ?: err;
		}
		up_write(&pi->dax_sem);
		return err;
	}
	for (uint64_t b = (uint64_t)off >> PAGE_SHIFT; b <= (uint64_t)(end - 1) >> PAGE_SHIFT; b++) {
		uint32_t blk;

		err = dax_get_block(inode, b, true, &blk);
		if (err)
			break;
	}
	pinfs_mark_meta_dirty(pi);
	if (err)
		return err;
	if (!(mode & FALLOC_FL_KEEP_SIZE) && end > inode->i_size)
		WRITE_ONCE(inode->i_size, end);
	return 0;
}

/* fsync: the inode and allocation metadata into their pmem blocks. */
static int pinfs_dax_fsync(struct inode *inode)
{
	int err = pinfs_write_inode(inode);

	return pinfs_sync_meta(inode_sbi(inode), true) ?: err;
}

/* Frames are never dirty in a cache: nothing to account or write back. */
static bool pinfs_dax_dirty_folio(struct address_space *mapping, struct folio *folio)
{
	(void)mapping;
	(void)folio;
	return false;
}

static const struct address_space_operations pinfs_dax_aops = {
	.dirty_folio = pinfs_dax_dirty_folio,
};

static const struct inode_operations pinfs_dax_inode_ops = {
	.setsize = pinfs_dax_setsize,
	.fallocate = pinfs_dax_fallocate,
	.fsync = pinfs_dax_fsync,
};

static const struct file_operations pinfs_dax_file_ops = {
	.read = pinfs_dax_read,
	.write = pinfs_dax_write,
	.mmap = pinfs_dax_mmap,
};

/**
 * pinfs_dax_setup_inode() - make a new in-memory inode of a DAX pinfs use
 * the DAX operations; its mapping gets AS_DAX (vma_is_fsdax()).
 * @inode: the inode, being created by pinfs_iget().
 *
 * Context: sb->s_lock held.
 */
void pinfs_dax_setup_inode(struct inode *inode)
{
	inode->i_op = &pinfs_dax_inode_ops;
	inode->i_fop = &pinfs_dax_file_ops;
	inode->i_mapping->a_ops = &pinfs_dax_aops;
	set_bit(AS_DAX, &inode->i_mapping->flags);
}

/**
 * pinfs_dax_evict_inode() - the inode goes away: its frames stop naming
 * it; for an unlinked file, whose blocks are about to be freed, wait for
 * pinned frames first (Linux: dax_break_layout_final(), which waits
 * without a limit).
 * @inode: the inode being evicted (no mappings left).
 *
 * Context: may sleep; eviction.
 * Return: 0, or -EBUSY when a frame of an unlinked file stayed pinned
 * past the deadline: its blocks must not be freed (they stay allocated
 * until the next boot formats the region; counted, message on stderr).
 */
int pinfs_dax_evict_inode(struct inode *inode)
{
	struct pinfs_inode_info *pi = PINFS_I(inode);
	int err = 0;

	down_write(&pi->dax_sem);
	if (!inode->i_nlink) {
		err = dax_break_layouts(inode, 0, UINT64_MAX);
		if (err)
			pr_diag(inode->i_sb->machine, "pinfs: /dax/%s: a pinned frame outlived the "
				"file; its blocks stay allocated\n", inode->name);
	}
	dax_disown_range(inode, 0, UINT64_MAX, true);
	up_write(&pi->dax_sem);
	return err;
}

/* ------------------------------------------------------------------ */
/* Mounting                                                            */

/*
 * mkfs on the frames: the bitmap covers the metadata, then the super block.
 * The region was reserved at this boot and never touched, so it reads as
 * zero (an empty inode table) without writing it.
 */
static int dax_mkfs(uint8_t *pmem, uint64_t blocks)
{
	struct pinfs_dsuper s;
	uint8_t *bitmap;

	if (!pinfs_geometry(blocks, &s))
		return -EINVAL;
	bitmap = pmem + (s.bitmap_start << PINFS_BLOCK_SHIFT);
	for (uint64_t blk = 0; blk < s.data_start; blk++)
		bitmap[blk / 8] |= (uint8_t)(1u << (blk % 8));
	pinfs_super_encode(&s, pmem);
	return 0;
}

/**
 * pinfs_dax_init() - format the pmem region and mount it at /dax/ (boot).
 * @m: the machine, after vfs_init().
 *
 * Context: boot.
 * Return: 0 (also without pmem); -EINVAL when the region is too small for
 * a pinfs; -ENOMEM; errors of pinfs_fill_super().
 */
int pinfs_dax_init(struct pinmm *m)
{
	struct zone *zone = &m->zones[ZONE_DEVICE];
	uint64_t blocks = zone->end_pfn - zone->start_pfn;
	struct pinfs_sb_info *sbi;
	int err;

	if (!blocks)
		return 0;
	if (blocks > UINT32_MAX)
		blocks = UINT32_MAX;	/* 32-bit block pointers */
	err = dax_mkfs(pfn_to_virt(m, zone->start_pfn), blocks);
	if (err) {
		fprintf(stderr, "pinmm: pinfs: pmem region of %llu blocks is too small for "
			"a DAX file system\n", (unsigned long long)blocks);
		return err;
	}
	sbi = kzalloc(sizeof(*sbi));
	if (!sbi)
		return -ENOMEM;
	sbi->fd = -1;
	sbi->pmem = pfn_to_virt(m, zone->start_pfn);
	sbi->pmem_pfn = zone->start_pfn;
	sbi->dax = true;
	snprintf(sbi->path, sizeof(sbi->path), "pmem");
	return pinfs_fill_super(m, sbi, "/dax/", NULL);
}
