/* SPDX-License-Identifier: MIT */
/*
 * super.c - mounting pinfs: the image at boot (made with mkfs when it does
 * not exist, checked by fsck.c when it does), the super operations (flat
 * directory lookup, unlink, inode eviction, sync, unmount), metadata
 * writeback, image I/O with fault injection, and the public calls of
 * <pinmm/pinfs.h>.
 *
 * It does not own the on-disk encoding (disk.c), allocation (balloc.c),
 * block maps (bmap.c), the page cache and mappings (file.c), or generic
 * writeback and reclaim (mm/page-writeback.c, mm/vmscan.c).
 *
 * Inode lifetime: an in-memory inode exists while referenced (open files,
 * mappings, unlink in progress); it is on sb->s_inodes from creation until
 * eviction finishes.  Lookup runs under sb->s_lock and never resurrects an
 * inode whose count reached 0: it waits for the eviction to finish, which
 * writes the inode's pages and metadata (or, with nlink 0, frees them).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault_inject.h"
#include "init.h"
#include "pinfs.h"
#include "rcu.h"

/* Mounted pinfs instances of every machine (for the public calls). */
static DEFINE_MUTEX(pinfs_mounts_lock);
static LIST_HEAD(pinfs_mounts);

/* ------------------------------------------------------------------ */
/* Image I/O                                                           */

/* Should this operation fail on purpose? */
static bool inject_fire(struct pinfs_inject *in)
{
	if (!atomic_long_read(&in->nr))
		return false;
	if (atomic_long_read(&in->after) > 0) {
		atomic_long_dec(&in->after);
		return false;
	}
	if (atomic_long_read(&in->nr) > 0)
		atomic_long_dec(&in->nr);
	return true;
}

/*
 * A power cut for crash-consistency tests (tests/crash/, doc/PINFS.md
 * "Crash consistency"), as dm-flakey's drop_writes does for Linux: every
 * block written to an image file is counted; from the @cut_nth-th on (1 =
 * the next one after arming) no byte reaches the image although the write
 * is reported done, except the first @cut_tear bytes of the @cut_nth-th (a
 * torn write).  Process-wide, so that it spans boots and the unmount.
 */
static struct {
	atomic_long_t writes;		/* blocks written since arming */
	atomic_long_t nth;		/* 0: nothing is cut */
	atomic_long_t tear;
} pinfs_cut;

/*
 * The volatile write cache (pinfs_power_cut_cache()): every block write
 * that reached the image since the last flush (fsync(2) of the image) and
 * before the cut, with the block's content at that flush, so that a test
 * can make any subset of them lost after the run (pinfs_power_cut_apply()).
 * Only the cut tests use it; pinfs_cut_lock serialises recording.
 */
#define PINFS_VWC_MAX	256
static struct {
	bool on;
	long nr;			/* unflushed writes recorded */
	struct { uint64_t blk; uint8_t *data; uint8_t *base; } w[PINFS_VWC_MAX];
	bool overflow;
} pinfs_vwc;
static DEFINE_MUTEX(pinfs_cut_lock);

static void vwc_forget(void)
{
	for (long i = 0; i < pinfs_vwc.nr; i++) {
		free(pinfs_vwc.w[i].data);
		free(pinfs_vwc.w[i].base);
	}
	pinfs_vwc.nr = 0;
}

/* Record one write about to reach the image (base: the block's content now). */
static void vwc_record(int fd, const uint8_t *src, uint64_t blk)
{
	uint8_t *data, *base;

	mutex_lock(&pinfs_cut_lock);
	if (!pinfs_vwc.on || pinfs_vwc.nr == PINFS_VWC_MAX) {
		pinfs_vwc.overflow |= pinfs_vwc.on;
		mutex_unlock(&pinfs_cut_lock);
		return;
	}
	data = malloc(PINFS_BLOCK_SIZE);
	base = malloc(PINFS_BLOCK_SIZE);
	if (!data || !base || pinfs_read_raw(fd, base, blk, 1)) {
		free(data);
		free(base);
		pinfs_vwc.overflow = true;
		mutex_unlock(&pinfs_cut_lock);
		return;
	}
	memcpy(data, src, PINFS_BLOCK_SIZE);
	pinfs_vwc.w[pinfs_vwc.nr].blk = blk;
	pinfs_vwc.w[pinfs_vwc.nr].data = data;
	pinfs_vwc.w[pinfs_vwc.nr].base = base;
	pinfs_vwc.nr++;
	mutex_unlock(&pinfs_cut_lock);
}

/**
 * pinfs_image_flush() - fsync(2) of the image: the drive's cache flush.
 * @fd: the image.
 *
 * Before the armed cut, the writes recorded for the volatile write cache
 * are now durable and forgotten; after it (power is gone) nothing changes.
 *
 * Context: may sleep.
 * Return: 0 or -EIO.
 */
int pinfs_image_flush(int fd)
{
	long nth = atomic_long_read(&pinfs_cut.nth);

	if (fsync(fd))
		return -EIO;
	if (nth && atomic_long_read(&pinfs_cut.writes) < nth) {
		mutex_lock(&pinfs_cut_lock);
		vwc_forget();
		mutex_unlock(&pinfs_cut_lock);
	}
	return 0;
}

/**
 * pinfs_power_cut_cache() - with the next pinfs_power_cut(), also model a
 * volatile write cache: the writes issued after the last flush and before
 * the cut are remembered, to be persisted or lost by
 * pinfs_power_cut_apply() after the run.
 * @on: enable (true) or disable and forget.
 *
 * Context: no pinfs I/O in flight.
 */
void pinfs_power_cut_cache(bool on)
{
	mutex_lock(&pinfs_cut_lock);
	vwc_forget();
	pinfs_vwc.on = on;
	pinfs_vwc.overflow = false;
	mutex_unlock(&pinfs_cut_lock);
}

/**
 * pinfs_power_cut_unflushed() - writes in the volatile cache at the cut.
 *
 * Context: after the run.
 * Return: their number, or -ENOSPC when more were issued than recorded.
 */
long pinfs_power_cut_unflushed(void)
{
	return pinfs_vwc.overflow ? -ENOSPC : pinfs_vwc.nr;
}

/**
 * pinfs_power_cut_apply() - make the image what the disk would hold if
 * only the cached writes with @keep[i] set had reached the media: each
 * recorded block gets the data of its last kept write since the flush, or
 * its content at the flush.
 * @path: the image file (the machine is shut down).
 * @keep: pinfs_power_cut_unflushed() flags, in issue order.
 *
 * Context: no machine uses @path.
 * Return: 0 or -errno.
 */
int pinfs_power_cut_apply(const char *path, const bool *keep)
{
	int fd = open(path, O_RDWR), err = 0;

	if (fd < 0)
		return -errno;
	for (long i = 0; i < pinfs_vwc.nr && !err; i++) {
		const uint8_t *v = NULL;
		long first = i;

		/* each block once: at its first recorded write */
		for (long j = 0; j < i; j++)
			if (pinfs_vwc.w[j].blk == pinfs_vwc.w[i].blk)
				first = j;
		if (first != i)
			continue;
		v = pinfs_vwc.w[i].base;
		for (long j = i; j < pinfs_vwc.nr; j++)
			if (pinfs_vwc.w[j].blk == pinfs_vwc.w[i].blk && keep[j])
				v = pinfs_vwc.w[j].data;
		err = pinfs_write_raw(fd, v, pinfs_vwc.w[i].blk, 1);
	}
	if (!err && fsync(fd))
		err = -EIO;
	close(fd);
	return err;
}

/**
 * pinfs_power_cut() - arm (or with @nth 0 disarm) a power cut and restart
 * the count of image block writes.
 * @nth: the image block write, counted from 1, where power is lost.
 * @tear: bytes of that block that still reach the image (0 .. 4095).
 *
 * Context: no pinfs I/O in flight (tests arm it between operations).
 */
void pinfs_power_cut(long nth, unsigned int tear)
{
	atomic_long_set(&pinfs_cut.nth, 0);
	atomic_long_set(&pinfs_cut.writes, 0);
	atomic_long_set(&pinfs_cut.tear, tear < PINFS_BLOCK_SIZE ? (long)tear : 0);
	atomic_long_set(&pinfs_cut.nth, nth > 0 ? nth : 0);
}

/**
 * pinfs_image_writes() - image blocks written (or cut) since the last
 * pinfs_power_cut().
 *
 * Context: any.
 * Return: the count.
 */
long pinfs_image_writes(void)
{
	return atomic_long_read(&pinfs_cut.writes);
}

/* Write @nr blocks one at a time, counting them, cutting where armed. */
static int pinfs_write_counted(int fd, const uint8_t *buf, uint64_t blk, size_t nr)
{
	long nth = atomic_long_read(&pinfs_cut.nth);
	int err = 0;

	for (size_t i = 0; i < nr && !err; i++) {
		long w = atomic_long_add_return(1, &pinfs_cut.writes);
		const uint8_t *src = buf + i * PINFS_BLOCK_SIZE;

		if (!nth || w < nth) {
			if (nth)
				vwc_record(fd, src, blk + i);
			err = pinfs_write_raw(fd, src, blk + i, 1);
		} else if (w == nth && atomic_long_read(&pinfs_cut.tear)) {
			off_t off = (off_t)((blk + i) << PINFS_BLOCK_SHIFT);
			size_t len = (size_t)atomic_long_read(&pinfs_cut.tear);

			if (pwrite(fd, src, len, off) != (ssize_t)len)
				err = -EIO;
		}
	}
	return err;
}

/**
 * pinfs_io() - read or write whole blocks of the image.
 * @sbi: the file system.
 * @op: PINFS_IO_READ or PINFS_IO_WRITE.
 * @buf: nr * 4096 bytes.
 * @blk: first block.
 * @nr: blocks.
 *
 * Real pread/pwrite on the image; an injected fault (pinfs.fail_io, or the
 * "pinfs_io" fault-injection sites, one for reads and one for writes) fails
 * before any byte moves.  In DAX mode a copy to or from the pmem frames (no injection).
 *
 * Context: may sleep; no locks needed.
 * Return: 0 or -EIO (-ENOSPC when the host disk is full).
 */
int pinfs_io(struct pinfs_sb_info *sbi, enum pinfs_io_op op, void *buf, uint64_t blk,
	     size_t nr)
{
	int err;

	if (blk >= sbi->ds.block_count || nr > sbi->ds.block_count - blk)
		return -EIO;
	if (sbi->pmem) {
		void *at = sbi->pmem + (blk << PINFS_BLOCK_SHIFT);

		if (op == PINFS_IO_READ)
			memcpy(buf, at, nr * PINFS_BLOCK_SIZE);
		else
			memcpy(at, buf, nr * PINFS_BLOCK_SIZE);
		err = 0;
	} else if (inject_fire(&sbi->inject[op]) ||
		   should_fail(op == PINFS_IO_READ ? FAIL_SITE("pinfs_io") :
						     FAIL_SITE("pinfs_io"))) {
		err = -EIO;
	} else if (op == PINFS_IO_READ) {
		err = pinfs_read_raw(sbi->fd, buf, blk, nr);
	} else {
		err = pinfs_write_counted(sbi->fd, buf, blk, nr);
	}
	if (err)
		pinfs_stat_inc(sbi, PINMM_PINFS_IO_ERRORS);
	else
		atomic_long_add((long)nr, &sbi->stat[op == PINFS_IO_READ ? PINMM_PINFS_READS :
							  PINMM_PINFS_WRITES]);
	return err;
}

/* ------------------------------------------------------------------ */
/* Metadata                                                            */

/**
 * pinfs_sync_meta() - write the dirty bitmap and inode-table blocks and
 * the super block; with @flush, fsync(2) the image and release the freed
 * blocks this commit unlinked on disk (balloc.c).
 * @sbi: the file system.
 * @flush: make it durable.
 *
 * Context: may sleep; takes commit_lock, then meta_lock.
 * Return: 0 or the first error (blocks that failed stay dirty).
 */
int pinfs_sync_meta(struct pinfs_sb_info *sbi, bool flush)
{
	uint8_t buf[PINFS_BLOCK_SIZE];
	size_t committing;
	int err = 0, e;

	mutex_lock(&sbi->commit_lock);
	mutex_lock(&sbi->meta_lock);
	/* freed blocks whose pointers this commit removes from the image */
	committing = flush ? pinfs_pending_commit(sbi) : 0;
	for (uint32_t b = 0; b < sbi->ds.bitmap_blocks; b++) {
		if (!sbi->bitmap_dirty[b])
			continue;
		e = pinfs_io(sbi, PINFS_IO_WRITE, sbi->bitmap + (size_t)b * PINFS_BLOCK_SIZE,
			     sbi->ds.bitmap_start + b, 1);
		if (!e)
			sbi->bitmap_dirty[b] = false;
		err = err ? err : e;
	}
	for (uint32_t b = 0; b < sbi->ds.itable_blocks; b++) {
		if (!sbi->itable_dirty[b])
			continue;
		e = pinfs_io(sbi, PINFS_IO_WRITE, sbi->itable + (size_t)b * PINFS_BLOCK_SIZE,
			     sbi->ds.itable_start + b, 1);
		if (!e)
			sbi->itable_dirty[b] = false;
		err = err ? err : e;
	}
	if (sbi->sb_dirty) {
		pinfs_super_encode(&sbi->ds, buf);
		e = pinfs_io(sbi, PINFS_IO_WRITE, buf, 0, 1);
		if (!e)
			sbi->sb_dirty = false;
		err = err ? err : e;
	}
	mutex_unlock(&sbi->meta_lock);
	if (flush && sbi->fd >= 0 && pinfs_image_flush(sbi->fd))
		err = err ? err : -EIO;
	if (committing)
		err = pinfs_pending_release(sbi, !err) ?: err;
	mutex_unlock(&sbi->commit_lock);
	return err;
}

/**
 * pinfs_write_inode() - put @inode's size, link count and block map into
 * the inode table, writing its dirty indirect blocks.
 * @inode: a pinfs inode.
 *
 * Context: may sleep; takes map_lock and meta_lock.
 * Return: 0 or -EIO.
 */
int pinfs_write_inode(struct inode *inode)
{
	struct pinfs_inode_info *pi = PINFS_I(inode);
	struct pinfs_sb_info *sbi = PINFS_SB(inode->i_sb);
	struct pinfs_dinode d;
	int err;

	mutex_lock(&pi->map_lock);
	err = pinfs_write_map(pi);
	pinfs_read_slot(sbi, pi->slot, &d);
	d.mode = inode->i_mode;
	d.nlink = inode->i_nlink;
	d.size = (uint64_t)READ_ONCE(inode->i_size);
	memcpy(d.direct, pi->direct, sizeof(d.direct));
	d.ind = pi->ind_blk;
	d.dind = pi->dind_blk;
	pinfs_write_slot(sbi, pi->slot, &d);
	pi->meta_dirty = false;
	mutex_unlock(&pi->map_lock);
	/* the table and indirect blocks no longer point at what it freed */
	if (!err)
		pinfs_pending_ready(sbi, pi->slot);
	return err;
}

/* ------------------------------------------------------------------ */
/* Inodes and the directory                                            */

/*
 * The in-memory inode of table entry @slot, referenced; created from the
 * table when there is none.  NULL with -EAGAIN when it is being evicted.
 * s_lock held.
 */
static struct inode *pinfs_iget(struct super_block *sb, uint32_t slot, int *err)
{
	struct pinfs_sb_info *sbi = PINFS_SB(sb);
	struct pinfs_inode_info *pi;
	struct pinfs_dinode d;
	struct inode *inode;

	lockdep_assert_held(&sb->s_lock);
	list_for_each_entry(inode, &sb->s_inodes, i_sb_list) {
		pi = PINFS_I(inode);
		if (pi->slot != slot)
			continue;
		if (pi->evicting || !atomic_add_unless(&inode->i_count, 1, 0)) {
			*err = -EAGAIN;
			return NULL;
		}
		return inode;
	}
	pi = kzalloc(sizeof(*pi));
	if (!pi) {
		*err = -ENOMEM;
		return NULL;
	}
	pinfs_read_slot(sbi, slot, &d);
	inode = &pi->vfs_inode;
	inode_init(inode, sb, d.mode);
	inode->i_ino = slot + 1;
	inode->i_nlink = d.nlink;
	inode->i_size = (long long)d.size;
	inode->i_op = &pinfs_inode_ops;
	inode->i_fop = &pinfs_file_ops;
	inode->i_mapping->a_ops = &pinfs_aops;
	/* Both mounts break leases in truncate and punch (file.c, dax.c). */
	set_bit(AS_LAYOUT_LEASE, &inode->i_mapping->flags);
	snprintf(inode->name, sizeof(inode->name), "%s", d.name);
	pi->slot = slot;
	mutex_init(&pi->map_lock);
	init_rwsem(&pi->dax_sem);
	if (sbi->dax)
		pinfs_dax_setup_inode(inode);
	memcpy(pi->direct, d.direct, sizeof(pi->direct));
	pi->ind_blk = d.ind;
	pi->dind_blk = d.dind;
	list_add_tail(&inode->i_sb_list, &sb->s_inodes);
	return inode;
}

static struct inode *pinfs_lookup_once(struct super_block *sb, const char *name, int flags,
				       unsigned int mode, int *err)
{
	struct pinfs_sb_info *sbi = PINFS_SB(sb);
	struct pinfs_dinode d;
	uint32_t slot;

	*err = pinfs_find_slot(sbi, name, &slot);
	if (!*err) {
		if ((flags & O_CREAT) && (flags & O_EXCL)) {
			*err = -EEXIST;
			return NULL;
		}
		return pinfs_iget(sb, slot, err);
	}
	if (!(flags & O_CREAT))
		return NULL;
	*err = pinfs_new_slot(sbi, &slot);
	if (*err)
		return NULL;
	memset(&d, 0, sizeof(d));
	d.mode = S_IFREG | (mode & 07777);
	d.nlink = 1;
	d.generation = (uint32_t)sbi->ds.mount_count;
	snprintf(d.name, sizeof(d.name), "%s", name);
	pinfs_write_slot(sbi, slot, &d);
	return pinfs_iget(sb, slot, err);
}

static struct inode *pinfs_lookup(struct super_block *sb, const char *name, int flags,
				  unsigned int mode)
{
	struct inode *inode;
	int err;

	if (strlen(name) > PINFS_NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);
	for (;;) {
		mutex_lock(&sb->s_lock);
		inode = pinfs_lookup_once(sb, name, flags, mode, &err);
		mutex_unlock(&sb->s_lock);
		if (inode)
			return inode;
		if (err != -EAGAIN)
			return ERR_PTR(err);
		sched_yield();		/* an eviction of this inode is finishing */
	}
}

static int pinfs_unlink(struct super_block *sb, const char *name)
{
	struct pinfs_sb_info *sbi = PINFS_SB(sb);
	struct pinfs_dinode d;
	struct inode *inode;
	uint32_t slot;
	int err;

	for (;;) {
		mutex_lock(&sb->s_lock);
		err = pinfs_find_slot(sbi, name, &slot);
		inode = err ? NULL : pinfs_iget(sb, slot, &err);
		if (inode) {
			/* Out of the directory now; freed with the last reference. */
			inode->i_nlink = 0;
			pinfs_read_slot(sbi, slot, &d);
			d.nlink = 0;
			pinfs_write_slot(sbi, slot, &d);
		}
		mutex_unlock(&sb->s_lock);
		if (err != -EAGAIN)
			break;
		sched_yield();
	}
	if (!inode)
		return err;
	iput(inode);
	return 0;
}

static void pinfs_evict_inode(struct inode *inode)
{
	struct pinfs_inode_info *pi = PINFS_I(inode);
	struct super_block *sb = inode->i_sb;
	struct pinfs_sb_info *sbi = PINFS_SB(sb);
	int err = 0, dax_err = 0;

	VM_BUG_ON(atomic_read(&inode->i_count));
	mutex_lock(&sb->s_lock);
	pi->evicting = true;
	mutex_unlock(&sb->s_lock);

	if (inode->i_nlink) {
		err = filemap_write_and_wait(inode->i_mapping);
		if (!err)
			err = pinfs_write_inode(inode);
		if (err) {
			int none = 0;

			pr_diag(sbi->sb->machine, "pinfs: %s: inode %lu \"%s\": writeback at "
				"eviction failed (%d): unsynced data lost\n",
				sbi->path, inode->i_ino, inode->name, err);
			/* put_super() reports it: the shutdown's return value. */
			__atomic_compare_exchange_n(&sbi->evict_err, &none, err, false,
						    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		}
	}
	truncate_inode_pages_range(inode->i_mapping, 0, -1);
	VM_BUG_ON(inode->i_mapping->nrpages);
	if (sbi->dax)		/* frames disowned; busy ones keep their blocks */
		dax_err = pinfs_dax_evict_inode(inode);
	if (!inode->i_nlink && !dax_err) {
		mutex_lock(&pi->map_lock);
		err = pinfs_free_blocks(pi, 0, UINT64_MAX);
		mutex_unlock(&pi->map_lock);
		if (!err)
			pinfs_free_slot(sbi, pi->slot);
	}
	pinfs_drop_map(pi);

	mutex_lock(&sb->s_lock);
	list_del(&inode->i_sb_list);
	mutex_unlock(&sb->s_lock);
	mutex_destroy(&pi->map_lock);
	destroy_rwsem(&pi->dax_sem);
	address_space_destroy(&inode->i_data);
	destroy_rwsem(&inode->i_rwsem);
	free(pi);
}

static int sync_one_inode(struct inode *inode, void *arg)
{
	struct writeback_control wbc = { .sync_mode = WB_SYNC_ALL };
	int err, e;

	(void)arg;
	err = filemap_writeback_range(inode->i_mapping, 0, ~0UL, &wbc);
	e = pinfs_write_inode(inode);
	return err ? err : e;
}

static int pinfs_sync_fs(struct super_block *sb)
{
	int err = sb_for_each_inode(sb, sync_one_inode, NULL), e;

	e = pinfs_sync_meta(PINFS_SB(sb), true);
	return err ? err : e;
}

/*
 * Unmount.  Return: 0, or the first error of the final writeback: the
 * metadata sync here, or the data writeback of a file evicted since mount
 * (unsynced data that never reached the image).
 */
static int pinfs_put_super(struct super_block *sb)
{
	struct pinfs_sb_info *sbi = PINFS_SB(sb);
	struct inode *inode;
	int err;

	pinfs_dio_stop(sbi);		/* O_DIRECT requests finish first */
	wb_unregister_sb(sb);
	mutex_lock(&pinfs_mounts_lock);
	list_del(&sbi->node);
	mutex_unlock(&pinfs_mounts_lock);

	/* Whatever is left is referenced by files nobody closed: a leak. */
	for (;;) {
		mutex_lock(&sb->s_lock);
		inode = list_first_entry_or_null(&sb->s_inodes, struct inode, i_sb_list);
		mutex_unlock(&sb->s_lock);
		if (!inode)
			break;
		WARN(1, "pinfs %s: inode %lu \"%s\" still has %d references at unmount\n",
		     sb->prefix, inode->i_ino, inode->name, atomic_read(&inode->i_count));
		atomic_set(&inode->i_count, 0);
		pinfs_evict_inode(inode);
	}

	err = pinfs_sync_meta(sbi, true);
	if (!err) {
		mutex_lock(&sbi->meta_lock);
		sbi->ds.flags |= PINFS_SB_CLEAN;
		sbi->sb_dirty = true;
		mutex_unlock(&sbi->meta_lock);
		err = pinfs_sync_meta(sbi, true);
	}
	if (err)
		fprintf(stderr, "pinmm: pinfs: %s: unmount could not write metadata (%d); "
			"the image is not clean, run 'pinmm fsck %s'\n", sbi->path, err, sbi->path);
	if (!err)
		err = __atomic_load_n(&sbi->evict_err, __ATOMIC_RELAXED);
	pinfs_busy_forget(sbi);		/* pins outlive the mount: a leak */
	if (sbi->fd >= 0)
		close(sbi->fd);
	free(sbi->bitmap);
	free(sbi->bitmap_dirty);
	free(sbi->itable);
	free(sbi->itable_dirty);
	free(sbi->pend);
	mutex_destroy(&sbi->commit_lock);
	mutex_destroy(&sbi->meta_lock);
	mutex_destroy(&sb->s_lock);
	free(sbi);
	free(sb);
	return err;
}

/* ->statfs: the counters of the super block. */
static void pinfs_statfs(struct super_block *sb, struct pinmm_statfs *buf)
{
	struct pinfs_sb_info *sbi = PINFS_SB(sb);

	_Static_assert(PINMM_PINFS_MAGIC == PINFS_MAGIC, "statfs f_type is the disk magic");
	buf->f_bsize = PINFS_BLOCK_SIZE;
	buf->f_namelen = PINFS_NAME_MAX;
	mutex_lock(&sbi->meta_lock);
	buf->f_blocks = sbi->ds.block_count;
	buf->f_bfree = sbi->ds.free_blocks + pinfs_pending_count(sbi, false);
	buf->f_bavail = buf->f_bfree;
	buf->f_files = sbi->ds.inode_count;
	buf->f_ffree = sbi->ds.free_inodes;
	mutex_unlock(&sbi->meta_lock);
}

const struct super_operations pinfs_sops = {
	.statfs = pinfs_statfs,
	.lookup = pinfs_lookup,
	.unlink = pinfs_unlink,
	.evict_inode = pinfs_evict_inode,
	.put_super = pinfs_put_super,
	.sync_fs = pinfs_sync_fs,
};

/* ------------------------------------------------------------------ */
/* Mounting                                                            */

/* Open the image, creating it with mkfs when it does not exist. */
static int pinfs_open_image(const struct pinmm_config *cfg, int *fdp, bool *created)
{
	int fd = open(cfg->pinfs_image, O_RDWR | O_CLOEXEC);
	int err;

	*fdp = -1;
	*created = false;
	if (fd < 0 && errno == ENOENT) {
		fd = open(cfg->pinfs_image, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			goto host_err;
		err = pinfs_mkfs_fd(fd, cfg->pinfs_size);
		if (err) {
			fprintf(stderr, "pinmm: pinfs: %s: cannot make a file system of %llu "
				"bytes (%d)\n", cfg->pinfs_image,
				(unsigned long long)cfg->pinfs_size, err);
			close(fd);
			unlink(cfg->pinfs_image);
			return err;
		}
		*created = true;
	}
	if (fd < 0)
		goto host_err;
	*fdp = fd;
	return 0;
host_err:
	err = -errno;
	fprintf(stderr, "pinmm: pinfs: cannot open image %s: %s\n", cfg->pinfs_image,
		strerror(errno));
	return err;
}

/* Check an existing image before trusting any of it. */
static int pinfs_validate(const struct pinmm_config *cfg, int fd,
			  struct pinfs_fsck_result *res)
{
	int err;

	err = pinfs_fsck_fd(fd, false, cfg->quiet ? NULL : stderr, res);
	if (err) {
		fprintf(stderr, "pinmm: pinfs: %s: cannot check the image (%d)\n",
			cfg->pinfs_image, err);
		return err;
	}
	if (res->fatal || res->bad_magic) {
		fprintf(stderr, "pinmm: pinfs: %s: %s; not mounting%s\n", cfg->pinfs_image,
			res->bad_magic ? "not a pinfs image (bad magic)" : "bad super block",
			res->fatal ? "" : " (run 'pinmm fsck --repair')");
		return res->bad_magic ? -EINVAL : -EUCLEAN;
	}
	if (res->problems) {
		fprintf(stderr, "pinmm: pinfs: %s: %ld problem%s found; not mounting "
			"(run 'pinmm fsck --repair %s')\n", cfg->pinfs_image, res->problems,
			res->problems == 1 ? "" : "s", cfg->pinfs_image);
		return -EUCLEAN;
	}
	return 0;
}

/* Blocks at mount, before pinfs_io() is usable (no statistics, no injection). */
static int pinfs_load_raw(struct pinfs_sb_info *sbi, void *buf, uint64_t blk, size_t nr)
{
	if (!sbi->pmem)
		return pinfs_read_raw(sbi->fd, buf, blk, nr);
	memcpy(buf, sbi->pmem + (blk << PINFS_BLOCK_SHIFT), nr * PINFS_BLOCK_SIZE);
	return 0;
}

static int pinfs_load(struct pinfs_sb_info *sbi)
{
	uint8_t buf[PINFS_BLOCK_SIZE];
	int err;

	err = pinfs_load_raw(sbi, buf, 0, 1);
	if (err)
		return err;
	pinfs_super_decode(&sbi->ds, buf);
	sbi->bitmap = kmalloc((size_t)sbi->ds.bitmap_blocks * PINFS_BLOCK_SIZE);
	sbi->bitmap_dirty = kcalloc(sbi->ds.bitmap_blocks, sizeof(bool));
	sbi->itable = kmalloc((size_t)sbi->ds.itable_blocks * PINFS_BLOCK_SIZE);
	sbi->itable_dirty = kcalloc(sbi->ds.itable_blocks, sizeof(bool));
	if (!sbi->bitmap || !sbi->bitmap_dirty || !sbi->itable || !sbi->itable_dirty)
		return -ENOMEM;
	err = pinfs_load_raw(sbi, sbi->bitmap, sbi->ds.bitmap_start, sbi->ds.bitmap_blocks);
	if (!err)
		err = pinfs_load_raw(sbi, sbi->itable, sbi->ds.itable_start,
				     sbi->ds.itable_blocks);
	return err;
}

/**
 * pinfs_fill_super() - mount the file system of @sbi at @prefix.
 * @m: the machine, after vfs_init().
 * @sbi: a new super block info with @fd (image) or @pmem (DAX) and @path
 *       set; freed (and @fd closed) when the mount fails.
 * @prefix: the mount point ("/data/", "/dax/").
 * @res: the checker's counts for an existing image (stale super block
 *       counters after a crash), or NULL for a fresh file system.
 *
 * Loads the metadata, marks the file system not clean until unmount,
 * mounts it and (not for DAX, which has no page cache) starts the flusher.
 *
 * Context: boot.
 * Return: 0, -ENOMEM, -EIO, or an error of vfs_mount().
 */
int pinfs_fill_super(struct pinmm *m, struct pinfs_sb_info *sbi, const char *prefix,
		     const struct pinfs_fsck_result *res)
{
	const struct pinmm_config *cfg = &m->cfg;
	struct super_block *sb;
	int err;

	sb = kzalloc(sizeof(*sb));
	if (!sb) {
		if (sbi->fd >= 0)
			close(sbi->fd);
		free(sbi);
		return -ENOMEM;
	}
	sbi->sb = sb;
	sbi->no_blocks = cfg->pinfs_no_blocks;
	mutex_init(&sbi->meta_lock);
	mutex_init(&sbi->commit_lock);
	INIT_LIST_HEAD(&sbi->node);
	INIT_LIST_HEAD(&sbi->busy_list);
	sb->machine = m;
	sb->fs_name = "pinfs";
	sb->s_magic = PINMM_PINFS_MAGIC;
	snprintf(sb->prefix, sizeof(sb->prefix), "%s", prefix);
	sb->s_op = &pinfs_sops;
	sb->s_fs_info = sbi;
	mutex_init(&sb->s_lock);
	INIT_LIST_HEAD(&sb->s_inodes);
	INIT_LIST_HEAD(&sb->s_list);
	sb->next_ino = 1;

	err = pinfs_load(sbi);
	if (!err && res) {
		/* After a crash the counters in the super block are stale. */
		sbi->ds.free_blocks = res->free_blocks;
		sbi->ds.free_inodes = res->free_inodes;
	}
	if (!err) {
		sbi->ds.flags &= ~PINFS_SB_CLEAN;
		sbi->ds.mount_count++;
		sbi->sb_dirty = true;
		err = pinfs_sync_meta(sbi, true);
	}
	if (!err) {
		if (cfg->pinfs_fail_read && !sbi->dax) {
			atomic_long_set(&sbi->inject[PINFS_IO_READ].after,
					(long)cfg->pinfs_fail_read - 1);
			atomic_long_set(&sbi->inject[PINFS_IO_READ].nr, 1);
		}
		if (cfg->pinfs_fail_write && !sbi->dax) {
			atomic_long_set(&sbi->inject[PINFS_IO_WRITE].after,
					(long)cfg->pinfs_fail_write - 1);
			atomic_long_set(&sbi->inject[PINFS_IO_WRITE].nr, 1);
		}
		err = vfs_mount(m, sb);
	}
	if (err) {
		fprintf(stderr, "pinmm: pinfs: %s: mount failed (%d)\n", sbi->path, err);
		if (sbi->fd >= 0)
			close(sbi->fd);
		free(sbi->bitmap);
		free(sbi->bitmap_dirty);
		free(sbi->itable);
		free(sbi->itable_dirty);
		mutex_destroy(&sbi->commit_lock);
		mutex_destroy(&sbi->meta_lock);
		mutex_destroy(&sb->s_lock);
		free(sbi);
		free(sb);
		return err;
	}
	mutex_lock(&pinfs_mounts_lock);
	list_add_tail(&sbi->node, &pinfs_mounts);
	mutex_unlock(&pinfs_mounts_lock);
	/* A failed flusher start leaves writeback to sync and fsync. */
	if (!sbi->dax && wb_register_sb(sb, (unsigned long)cfg->writeback_interval_ms))
		fprintf(stderr, "pinmm: pinfs: %s: no periodic writeback\n", sbi->path);
	return 0;
}

/* Mount cfg.pinfs_image at /data/. */
static int pinfs_image_init(struct pinmm *m)
{
	const struct pinmm_config *cfg = &m->cfg;
	struct pinfs_fsck_result res;
	struct pinfs_sb_info *sbi;
	bool created;
	int fd, err;

	err = pinfs_open_image(cfg, &fd, &created);
	if (err)
		return err;
	if (!created) {
		err = pinfs_validate(cfg, fd, &res);
		if (err) {
			close(fd);
			return err;
		}
	}
	sbi = kzalloc(sizeof(*sbi));
	if (!sbi) {
		close(fd);
		return -ENOMEM;
	}
	sbi->fd = fd;
	snprintf(sbi->path, sizeof(sbi->path), "%s", cfg->pinfs_image);
	return pinfs_fill_super(m, sbi, "/data/", created ? NULL : &res);
}

/**
 * pinfs_init() - mount the image of cfg.pinfs_image at /data/ and, when
 * cfg.pmem is set, a fresh DAX pinfs on the pmem region at /dax/ (boot:
 * the "pinfs" initcall; vfs_exit() unmounts them).
 * @m: the machine, after vfs_init().
 *
 * A missing image is created (cfg.pinfs_size bytes); an existing one is
 * checked in full first.  The mount marks the image not clean until
 * unmount writes everything back.
 *
 * Context: boot.
 * Return: 0 (also when neither is configured); -EINVAL for a file that
 * is not a pinfs image or a pmem region too small; -EUCLEAN for a damaged
 * image (message on stderr); -errno from the host; -ENOMEM.
 */
int pinfs_init(struct pinmm *m)
{
	int err = 0;

	if (m->cfg.pinfs_image[0])
		err = pinfs_image_init(m);
	if (!err)
		err = pinfs_dax_init(m);
	return err;
}

pinmm_initcall(pinfs, INITCALL_FS(2), pinfs_init, NULL, NULL);

/* ------------------------------------------------------------------ */
/* Public calls                                                        */

static struct pinfs_sb_info *pinfs_of(struct pinmm *m)
{
	struct pinfs_sb_info *sbi;

	list_for_each_entry(sbi, &pinfs_mounts, node)
		if (sbi->sb->machine == m)
			return sbi;
	return NULL;
}

/**
 * pinmm_pinfs_statfs() - sizes and counters of the pinfs of @m.
 * @m: the machine.
 * @st: result.
 *
 * Context: any thread.
 * Return: 0; -ENOENT when no pinfs is mounted; -EINVAL for NULL.
 */
int pinmm_pinfs_statfs(struct pinmm *m, struct pinmm_pinfs_stat *st)
{
	struct pinfs_sb_info *sbi;

	pinmm_thread_enter();
	if (!m || !st)
		return -EINVAL;
	mutex_lock(&pinfs_mounts_lock);
	sbi = pinfs_of(m);
	if (sbi) {
		memset(st, 0, sizeof(*st));
		mutex_lock(&sbi->meta_lock);
		st->block_size = PINFS_BLOCK_SIZE;
		st->blocks = sbi->ds.block_count;
		/* freed blocks waiting for a commit count as free */
		st->free_blocks = sbi->ds.free_blocks + pinfs_pending_count(sbi, false);
		st->data_blocks = sbi->ds.block_count - sbi->ds.data_start;
		st->inodes = sbi->ds.inode_count;
		st->free_inodes = sbi->ds.free_inodes;
		mutex_unlock(&sbi->meta_lock);
		for (int i = 0; i < PINMM_PINFS_NR_STATS; i++)
			st->events[i] = atomic_long_read(&sbi->stat[i]);
	}
	mutex_unlock(&pinfs_mounts_lock);
	return sbi ? 0 : -ENOENT;
}

/**
 * pinmm_pinfs_inject() - make image I/O of @m's pinfs fail with EIO.
 * @m: the machine.
 * @op: "read", "write" or "any".
 * @after: operations that still succeed first (>= 0).
 * @nr: failures then (-1: until the next call; 0: clear).
 *
 * Context: any thread.
 * Return: 0; -ENOENT when no pinfs is mounted; -EINVAL for bad arguments.
 */
int pinmm_pinfs_inject(struct pinmm *m, const char *op, long after, long nr)
{
	struct pinfs_sb_info *sbi;
	bool rd, wr;

	pinmm_thread_enter();
	if (!m || !op || after < 0 || nr < -1)
		return -EINVAL;
	rd = !strcmp(op, "read") || !strcmp(op, "any");
	wr = !strcmp(op, "write") || !strcmp(op, "any");
	if (!rd && !wr)
		return -EINVAL;
	mutex_lock(&pinfs_mounts_lock);
	sbi = pinfs_of(m);
	for (int i = 0; sbi && i < PINFS_IO_NR; i++) {
		if (i == PINFS_IO_READ ? !rd : !wr)
			continue;
		atomic_long_set(&sbi->inject[i].nr, 0);
		atomic_long_set(&sbi->inject[i].after, after);
		atomic_long_set(&sbi->inject[i].nr, nr);
	}
	mutex_unlock(&pinfs_mounts_lock);
	return sbi ? 0 : -ENOENT;
}
