/* SPDX-License-Identifier: MIT */
/*
 * pinfs.h - pinfs, the block filesystem on a host image file: on-disk
 * format, in-memory super block and inode, and the interfaces between the
 * files of src/fs/pinfs/ (doc/PINFS.md describes the design).
 *
 * On disk (all integers little-endian, fixed width; 4 KiB blocks):
 *
 *   block 0                 super block (struct pinfs_dsuper, CRC32)
 *   1 .. B                  block bitmap, bit n = block n in use
 *   B+1 .. B+I              inode table, 16 inodes of 256 bytes per block
 *   data_start ..           data and indirect blocks
 *
 * An inode maps file block n through 12 direct pointers, one indirect
 * block (1024 pointers) and one double-indirect block; pointer 0 is a hole.
 * The directory is flat: the name lives in the inode; an inode is in use
 * when its mode is not 0 and named while its nlink is not 0.
 */
#ifndef PINMM_PINFS_H
#define PINMM_PINFS_H

#include <stdio.h>
#include <pinmm/pinfs.h>

#include "pagemap.h"
#include "writeback.h"

#define PINFS_MAGIC		0x53464e50u	/* "PNFS" */
#define PINFS_VERSION		1u
#define PINFS_BLOCK_SIZE	4096u
#define PINFS_BLOCK_SHIFT	12
#define PINFS_INODE_SIZE	256u
#define PINFS_INODES_PER_BLOCK	(PINFS_BLOCK_SIZE / PINFS_INODE_SIZE)
#define PINFS_BITS_PER_BLOCK	(PINFS_BLOCK_SIZE * 8u)
#define PINFS_NDIR		12u
#define PINFS_PTRS		(PINFS_BLOCK_SIZE / 4u)		/* per indirect block */
#define PINFS_IND_FIRST		PINFS_NDIR
#define PINFS_DIND_FIRST	(PINFS_NDIR + PINFS_PTRS)
#define PINFS_MAX_BLOCKS	(PINFS_DIND_FIRST + PINFS_PTRS * PINFS_PTRS)
#define PINFS_MAX_FILESIZE	((long long)PINFS_MAX_BLOCKS << PINFS_BLOCK_SHIFT)
#define PINFS_NAME_MAX		175u		/* bytes, without the NUL */
#define PINFS_SB_CLEAN		0x1u		/* flags: cleanly unmounted */
#define PINFS_MIN_BLOCKS	16u
#define PINFS_SB_CSUM_OFF	80u		/* checksum covers bytes [0, 80) */

/* Super block, decoded (block 0). */
struct pinfs_dsuper {
	uint32_t magic, version, block_size, flags;
	uint64_t block_count;
	uint32_t inode_count, bitmap_blocks;
	uint64_t bitmap_start, itable_start;
	uint32_t itable_blocks;
	uint64_t data_start, free_blocks;
	uint32_t free_inodes, mount_count;
	uint32_t checksum;
};

/* Inode, decoded (256 bytes in the inode table). */
struct pinfs_dinode {
	uint32_t mode, nlink;
	uint64_t size;
	uint32_t direct[PINFS_NDIR];
	uint32_t ind, dind;
	uint32_t generation;
	char name[PINFS_NAME_MAX + 1];
};

/* disk.c: encoding, checksum, geometry, image I/O */
uint32_t pinfs_crc32(const void *buf, size_t len);
void pinfs_super_decode(struct pinfs_dsuper *s, const uint8_t *buf);
void pinfs_super_encode(const struct pinfs_dsuper *s, uint8_t *buf);	/* sets checksum */
uint32_t pinfs_super_csum(const uint8_t *buf);
void pinfs_inode_decode(struct pinfs_dinode *d, const uint8_t *buf);
void pinfs_inode_encode(const struct pinfs_dinode *d, uint8_t *buf);
/* The layout mkfs gives an image of @blocks blocks; false if too small. */
bool pinfs_geometry(uint64_t blocks, struct pinfs_dsuper *s);
/* Layout fields of @s agree with pinfs_geometry(); else a reason. */
const char *pinfs_geometry_check(const struct pinfs_dsuper *s);
/* Write a fresh, empty, clean file system of @bytes to @fd. */
int pinfs_mkfs_fd(int fd, uint64_t bytes);
/* Whole blocks at @blk: 0 or -EIO (short transfer, host error). */
int pinfs_read_raw(int fd, void *buf, uint64_t blk, size_t nr);
int pinfs_write_raw(int fd, const void *buf, uint64_t blk, size_t nr);

/* fsck.c: the checker, also run at mount */
struct pinfs_fsck_result {
	long problems;		/* found */
	long repaired;		/* of those, fixed (repair mode) */
	bool fatal;		/* not a usable pinfs image (magic, layout) */
	bool bad_magic;		/* (restorable when !fatal) */
	uint64_t free_blocks;	/* counted from the references */
	uint32_t free_inodes;
};
int pinfs_fsck_fd(int fd, bool repair, FILE *report, struct pinfs_fsck_result *res);

/* ------------------------------------------------------------------ */
/* In memory                                                           */

enum pinfs_io_op { PINFS_IO_READ, PINFS_IO_WRITE, PINFS_IO_NR };

/*
 * struct pinfs_inject - fail image I/O on purpose: after @after more
 * successful operations of this kind, the next @nr fail with EIO (@nr < 0:
 * until changed).  Atomic counters, no lock.
 */
struct pinfs_inject {
	atomic_long_t after;
	atomic_long_t nr;
};

/* A freed block waiting for the commit that unlinks it on disk (balloc.c). */
struct pinfs_pend {
	uint32_t blk;
	int state;		/* PEND_FREED, PEND_READY, PEND_COMMIT */
	long owner;		/* inode slot that freed it; -1 none */
};

/*
 * struct pinfs_sb_info - a mounted pinfs.
 * @meta_lock protects @bitmap, @bitmap_dirty, @itable, @itable_dirty,
 * @pend and the free counters in @ds.  Nests inside pinfs_inode_info.map_lock.
 * @commit_lock serialises metadata commits (pinfs_sync_meta(): the pending
 * blocks a commit takes are released by the same commit); it nests inside
 * map_lock and the folio lock (an allocation may force a commit) and
 * outside meta_lock.
 * @fd: the image, opened O_RDWR; pread/pwrite need no lock.  -1 for DAX.
 * @pmem/@pmem_pfn/@dax: DAX mode (fs/pinfs/dax.c): the "image" is the pmem
 * region, block b is frame @pmem_pfn + b at host address @pmem + b * 4096;
 * pinfs_io() copies to and from it.  Set at mount, read-only afterwards.
 * @no_blocks: the pinfs.dirty_no_blocks mount option (file.c,
 * pinfs_writepage()); set at mount, read-only afterwards.
 */
struct pinfs_sb_info {
	struct super_block *sb;
	char path[PINMM_PATH_MAX];
	int fd;
	struct mutex meta_lock;
	struct pinfs_dsuper ds;
	uint8_t *bitmap;
	bool *bitmap_dirty;
	uint8_t *itable;
	bool *itable_dirty;
	bool sb_dirty;
	int evict_err;			/* first writeback error at eviction (atomic) */
	uint64_t alloc_goal;
	struct pinfs_pend *pend;	/* balloc.c: freed, not yet reusable; meta_lock */
	size_t npend, pend_cap;
	struct mutex commit_lock;	/* one pinfs_sync_meta() at a time */
	struct pinfs_inject inject[PINFS_IO_NR];
	atomic_long_t stat[PINMM_PINFS_NR_STATS];
	struct list_head node;		/* pinfs_mounts */
	struct list_head busy_list;	/* busy.c: struct pinfs_bh, meta_lock */
	struct pinfs_dio_engine *dio;	/* dio.c: started at the first O_DIRECT request */
	uint8_t *pmem;
	unsigned long pmem_pfn;
	bool dax;
	enum pinmm_pinfs_no_blocks no_blocks;
};

/*
 * struct pinfs_ind - an indirect block loaded into memory.
 */
struct pinfs_ind {
	uint32_t blk;
	bool dirty;
	uint32_t e[PINFS_PTRS];
};

/*
 * struct pinfs_inode_info - an in-memory pinfs inode.
 * @map_lock protects the block map: @direct, @ind_blk, @dind_blk and the
 * loaded indirect blocks (@ind, @dind, @dleaf), and @meta_dirty (set by
 * size and block-map changes, cleared by pinfs_write_inode(); use
 * pinfs_mark_meta_dirty() where map_lock is not held).  Taken under the
 * folio lock (page_mkwrite, writepage) and under i_rwsem; it nests outside
 * meta_lock.
 * @slot: index in the inode table (the inode number is slot + 1).
 * @evicting: set when i_count reached 0 and eviction runs; lookup waits.
 * @dax_sem (DAX only; Linux's mapping->invalidate_lock): read by faults
 * while they look up a block and map its frame, written by truncate, hole
 * punch and eviction while they unmap, wait for frames to go idle and free
 * blocks.  Below mmap_lock and i_rwsem, above map_lock and i_mmap_rwsem.
 */
struct pinfs_inode_info {
	struct inode vfs_inode;
	uint32_t slot;
	struct mutex map_lock;
	uint32_t direct[PINFS_NDIR];
	uint32_t ind_blk, dind_blk;
	struct pinfs_ind *ind, *dind;
	struct pinfs_ind **dleaf;	/* PINFS_PTRS entries once dind is loaded */
	bool meta_dirty;
	bool evicting;
	struct rw_semaphore dax_sem;
};

static inline struct pinfs_inode_info *PINFS_I(struct inode *inode)
{
	return container_of(inode, struct pinfs_inode_info, vfs_inode);
}

/* Set @pi->meta_dirty under @pi->map_lock (not held by the caller). */
static inline void pinfs_mark_meta_dirty(struct pinfs_inode_info *pi)
{
	mutex_lock(&pi->map_lock);
	pi->meta_dirty = true;
	mutex_unlock(&pi->map_lock);
}
static inline struct pinfs_sb_info *PINFS_SB(struct super_block *sb)
{
	return sb->s_fs_info;
}

/*
 * struct pinfs_bh - the per-page block mapping (the buffer-head role),
 * folio->private with PG_private, changed under the folio lock.
 * @orphan must come first (mm.h: the final put of a folio that left the
 * cache with PG_private calls orphan.free_folio).
 * @busy, @orphaned, @sbi, @busy_node: busyblocks policy (busy.c) - the
 * folio was truncated while pinned and @blocknr stays allocated until its
 * last unpin; @orphaned once the file freed the block (under meta_lock).
 */
struct pinfs_bh {
	struct folio_orphan orphan;
	uint32_t blocknr;
	bool mapped;
	bool busy;
	bool orphaned;
	struct pinfs_sb_info *sbi;
	struct list_head busy_node;	/* sbi->busy_list */
};

static inline void pinfs_stat_inc(struct pinfs_sb_info *sbi, enum pinmm_pinfs_stat_item i)
{
	atomic_long_inc(&sbi->stat[i]);
}

/* super.c */
int pinfs_init(struct pinmm *m);	/* boot: cfg.pinfs_image at /data/, pmem at /dax/ */
/* Mount @sbi (fd or pmem set) at @prefix; frees @sbi on failure. */
int pinfs_fill_super(struct pinmm *m, struct pinfs_sb_info *sbi, const char *prefix,
		     const struct pinfs_fsck_result *res);
int pinfs_io(struct pinfs_sb_info *sbi, enum pinfs_io_op op, void *buf, uint64_t blk,
	     size_t nr);
int pinfs_write_inode(struct inode *inode);
/* Tests: a power cut at the @nth image block write from now (super.c). */
void pinfs_power_cut(long nth, unsigned int tear);
long pinfs_image_writes(void);
/* Tests: the volatile write cache between flushes at the cut (super.c). */
void pinfs_power_cut_cache(bool on);
long pinfs_power_cut_unflushed(void);
int pinfs_power_cut_apply(const char *path, const bool *keep);
int pinfs_image_flush(int fd);
int pinfs_sync_meta(struct pinfs_sb_info *sbi, bool flush);
extern const struct super_operations pinfs_sops;

/* balloc.c: blocks and inode slots (meta_lock taken inside) */
int pinfs_new_block(struct pinfs_sb_info *sbi, uint32_t *blk);
void pinfs_free_block(struct pinfs_sb_info *sbi, uint32_t blk, long owner);
void pinfs_pending_ready(struct pinfs_sb_info *sbi, uint32_t slot);
size_t pinfs_pending_commit(struct pinfs_sb_info *sbi);		/* meta_lock */
int pinfs_pending_release(struct pinfs_sb_info *sbi, bool ok);
uint64_t pinfs_pending_count(struct pinfs_sb_info *sbi, bool ready);	/* meta_lock */
bool pinfs_block_valid(const struct pinfs_sb_info *sbi, uint64_t blk);
int pinfs_find_slot(struct pinfs_sb_info *sbi, const char *name, uint32_t *slot);
int pinfs_new_slot(struct pinfs_sb_info *sbi, uint32_t *slot);
void pinfs_read_slot(struct pinfs_sb_info *sbi, uint32_t slot, struct pinfs_dinode *d);
void pinfs_write_slot(struct pinfs_sb_info *sbi, uint32_t slot, const struct pinfs_dinode *d);
void pinfs_free_slot(struct pinfs_sb_info *sbi, uint32_t slot);

/* bmap.c: the block map (map_lock held) */
int pinfs_get_block(struct pinfs_inode_info *pi, uint64_t lblk, bool create,
		    uint32_t *pblk, bool *is_new);
int pinfs_free_blocks(struct pinfs_inode_info *pi, uint64_t first, uint64_t last);
int pinfs_shift_prepare(struct pinfs_inode_info *pi, uint64_t first, uint64_t n, bool collapse);
int pinfs_shift_commit(struct pinfs_inode_info *pi, uint64_t first, uint64_t n, bool collapse);
int pinfs_write_map(struct pinfs_inode_info *pi);
void pinfs_drop_map(struct pinfs_inode_info *pi);

/* file.c: page cache, mappings, size changes */
extern const struct inode_operations pinfs_inode_ops;
extern const struct file_operations pinfs_file_ops;
extern const struct address_space_operations pinfs_aops;
void pinfs_folio_detach(struct folio *folio);

/* busy.c: blocks under pinned truncated folios (busyblocks policy) */
bool pinfs_busy_hold(struct folio *folio);		/* folio locked */
bool pinfs_busy_hold_frame(struct pinfs_sb_info *sbi, struct folio *folio, uint32_t blk);
bool pinfs_busy_claim_locked(struct pinfs_sb_info *sbi, uint32_t blk);	/* meta_lock */
void pinfs_busy_forget(struct pinfs_sb_info *sbi);	/* unmount */

/* dio.c: O_DIRECT */
void pinfs_dio_stop(struct pinfs_sb_info *sbi);		/* unmount */
long pinfs_dio_rw_host(struct file *file, void *buf, size_t len, long long off, bool write);

/* dax.c: DAX mode on the pmem region (doc/PINFS.md, "DAX") */
int pinfs_dax_init(struct pinmm *m);		/* boot: mount pmem at /dax/ */
void pinfs_dax_setup_inode(struct inode *inode);
int pinfs_dax_evict_inode(struct inode *inode);

int pinfs_fallocate_check(struct inode *inode, int mode, long long off, long long len);

#endif /* PINMM_PINFS_H */
