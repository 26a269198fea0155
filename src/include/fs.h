/* SPDX-License-Identifier: MIT */
/*
 * fs.h - the VFS: super blocks and mounts, inodes, address spaces (the page
 * cache of one file), open files and the operation tables a filesystem
 * provides.  tmpfs (mm/shmem.c) is the first filesystem; pinfs (a block
 * filesystem with writeback) plugs in beside it through the same tables.
 * The functions of the page cache itself are mm's: pagemap.h.
 *
 * Lock order (doc/LOCKING.md): inode->i_rwsem > mmap_lock > folio lock >
 * mapping->i_mmap_rwsem > page-table locks > mapping->i_pages_lock.
 */
#ifndef PINMM_FS_H
#define PINMM_FS_H

#include "errseq.h"
#include "mm.h"

struct inode;
struct file;
struct super_block;
struct writeback_control;

/*
 * struct page_index - the page cache index of one address space: a 64-way
 * radix tree from page offset to folio (every index a large folio covers
 * points to the folio).  Protected by the owning mapping's i_pages_lock.
 */
struct page_index {
	void *root;
	unsigned int height;
};

struct address_space_operations {
	/* Fill a locked, !uptodate folio from storage; unlock it. */
	int (*read_folio)(struct file *file, struct folio *folio);
	/* Write one locked dirty folio (writeback set by the caller). */
	int (*writepage)(struct folio *folio, struct writeback_control *wbc);
	bool (*dirty_folio)(struct address_space *mapping, struct folio *folio);
	/* May the filesystem's private state be dropped (reclaim)? */
	bool (*release_folio)(struct folio *folio);
	void (*invalidate_folio)(struct folio *folio, size_t offset, size_t len);
};

#define AS_SHMEM	0	/* mapping->flags: tmpfs / shared anon */
#define AS_UNEVICTABLE	1
#define AS_DAX		2
/* 3, 4: AS_EIO, AS_ENOSPC (writeback.h) */
#define AS_LAYOUT_LEASE	5	/* truncate/punch break layout leases (pin_lease.c) */

/*
 * struct address_space - the page cache of one inode.
 * @i_pages_lock protects @i_pages and @nrpages.
 * @i_mmap_rwsem protects @i_mmap: every VMA mapping this file (shared and
 * private), linked through vma->shared_node.
 */
struct address_space {
	struct inode *host;
	spinlock_t i_pages_lock;
	struct page_index i_pages;
	unsigned long nrpages;
	struct rw_semaphore i_mmap_rwsem;
	struct list_head i_mmap;
	const struct address_space_operations *a_ops;
	unsigned long flags;
	atomic_long_t nr_dirty;
	errseq_t wb_err;		/* writeback errors, per open file (errseq.h) */
};

struct inode_operations {
	/* Change the size (truncate or extend); i_rwsem held for writing. */
	int (*setsize)(struct inode *inode, long long size);
	int (*fallocate)(struct inode *inode, int mode, long long off, long long len);
	int (*fsync)(struct inode *inode);
};

/*
 * struct inode - one file.
 * @i_rwsem serialises size changes, writes and fallocate against each other.
 * @i_size is written under i_rwsem and read with READ_ONCE elsewhere.
 * @i_count counts references (open files, the directory entry, mappings
 * hold files).
 */
struct inode {
	unsigned long i_ino;
	unsigned int i_mode;
	unsigned int i_nlink;
	long long i_size;
	struct rw_semaphore i_rwsem;
	atomic_t i_count;
	struct super_block *i_sb;
	struct address_space i_data;
	struct address_space *i_mapping;
	const struct inode_operations *i_op;
	const struct file_operations *i_fop;
	struct list_head i_sb_list;		/* sb->s_inodes, sb->s_lock */
	char name[256];
	void *i_private;			/* the filesystem's */
};

struct file_operations {
	long (*read)(struct file *file, void *buf, size_t len, long long off);
	long (*write)(struct file *file, const void *buf, size_t len, long long off);
	int (*mmap)(struct file *file, struct vm_area_struct *vma);
	void (*release)(struct file *file);
};

/*
 * struct file - an open file.  @f_count is the number of file-table slots
 * and VMAs referring to it.
 */
struct file {
	struct inode *f_inode;
	struct address_space *f_mapping;
	const struct file_operations *f_op;
	unsigned int f_flags;			/* O_* */
	errseq_t f_wb_err;			/* mapping->wb_err as this file saw it */
	atomic_t f_count;
	void *private_data;
};

struct super_operations {
	/*
	 * Find @name (creating it with O_CREAT); @name has no directory part.
	 * Return: a referenced inode, or an ERR_PTR (-ENOENT, -EEXIST, ...).
	 */
	struct inode *(*lookup)(struct super_block *sb, const char *name,
				int flags, unsigned mode);
	int (*unlink)(struct super_block *sb, const char *name);
	/* Last reference to @inode dropped: free it and its pages. */
	void (*evict_inode)(struct inode *inode);
	/* Unmount: 0, or the first error of the final writeback (-EIO). */
	int (*put_super)(struct super_block *sb);
	/* Optional: fill in sizes; vfs_statfs() set f_type, f_bsize, f_namelen. */
	void (*statfs)(struct super_block *sb, struct pinmm_statfs *buf);
	int (*sync_fs)(struct super_block *sb);
};

/*
 * struct super_block - one mounted filesystem; @prefix is its place in the
 * namespace ("/tmp/").  @s_lock protects @s_inodes.
 */
struct super_block {
	struct pinmm *machine;
	const char *fs_name;
	unsigned long s_magic;		/* PINMM_*_MAGIC, for statfs (constant) */
	char prefix[64];
	const struct super_operations *s_op;
	struct mutex s_lock;
	struct list_head s_inodes;
	unsigned long next_ino;
	void *s_fs_info;
	struct list_head s_list;		/* vfs->mounts */
};

/* Largest file size: keeps byte offsets + PAGE_SIZE from overflowing. */
#define MAX_LFS_FILESIZE ((long long)(0x7fffffffffffffffLL & (long long)PAGE_MASK))

/* vfs.c: mounts, lookup, file references, file tables */
int vfs_mount(struct pinmm *m, struct super_block *sb);
struct file *vfs_open(struct pinmm *m, const char *path, int flags, unsigned mode);
struct file *file_alloc(struct inode *inode, int flags);

/**
 * file_check_and_advance_wb_err() - report a writeback error of @file's
 * mapping that this open file has not reported yet, once (fsync).
 * @file: the open file.
 *
 * Context: any.
 * Return: 0 or the negative errno.
 */
static inline int file_check_and_advance_wb_err(struct file *file)
{
	if (!file->f_mapping)
		return 0;
	return errseq_check_and_advance(&file->f_mapping->wb_err, &file->f_wb_err);
}
void get_file(struct file *file);
void fput(struct file *file);
void iget(struct inode *inode);
void iput(struct inode *inode);
void inode_init(struct inode *inode, struct super_block *sb, unsigned mode);
int files_dup(struct pinmm_proc *dst, struct pinmm_proc *src);	/* fork */
void files_close_all(struct pinmm_proc *p);			/* exit */
struct file *fget(struct pinmm_proc *p, int fd);	/* referenced, or NULL */
int vfs_unlink(struct pinmm *m, const char *path);
void vfs_statfs(struct super_block *sb, struct pinmm_statfs *buf);	/* fstatfs() */
int files_install(struct pinmm_proc *p, struct file *file);	/* lowest free fd */
int files_close(struct pinmm_proc *p, int fd);			/* 0 or -EBADF */

/* anon_inodes.c: driver objects handed to a process as descriptors */
struct file *anon_inode_getfile(const char *name, const struct file_operations *fops,
				void *priv, int flags);
struct file *anon_inode_fget(struct pinmm_proc *p, int fd, const struct file_operations *fops);

#endif /* PINMM_FS_H */
