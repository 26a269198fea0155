/* SPDX-License-Identifier: MIT */
/*
 * shmem.c - tmpfs: files whose pages live only in the page cache
 * (swap-backed folios; pinmm has no swap, so they stay until truncated or
 * evicted).  One flat directory per mount (/dev/shm/, /tmp/), plus an
 * internal mount for unlinked files: memfd_create() and shared anonymous
 * mappings (shmem_zero_setup()).
 *
 * It does not own the page cache (filemap.c), the VFS plumbing and file
 * tables (fs/vfs.c) or page-table work (memory.c calls ->fault).
 *
 * Directory and lifetime rules:
 *  - every inode of a super block is on sb->s_inodes (sb->s_lock) from
 *    creation to eviction; it is "in the directory" while i_nlink > 0, and
 *    the name (inode->name) is unique among those;
 *  - the directory entry holds one i_count reference: unlink sets i_nlink
 *    to 0 under s_lock and drops it, so lookup (under s_lock, only of
 *    linked inodes) always finds i_count >= 1;
 *  - the last iput() evicts: all pages are dropped and the inode freed;
 *  - unmount unlinks every name and evicts what is left.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"
#include "pagemap.h"

static const struct super_operations shmem_sops;
static const struct inode_operations shmem_inode_ops;
static const struct file_operations shmem_file_ops;
static const struct address_space_operations shmem_aops;
static const struct vm_operations_struct shmem_vm_ops;

#define SHMEM_FALLOC_MODES (FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)

/**
 * shmem_mapping() - is @mapping the page cache of a tmpfs file?
 * @mapping: an address space, or NULL.
 *
 * Context: any.
 * Return: true for tmpfs files, memfds and shared anonymous memory.
 */
bool shmem_mapping(const struct address_space *mapping)
{
	return mapping && test_bit(AS_SHMEM, &mapping->flags);
}

/**
 * vma_is_shmem() - is @vma a mapping of a tmpfs file (or shared anon)?
 * @vma: the VMA.
 *
 * Context: mmap_lock held.
 * Return: true if its faults are handled by tmpfs.
 */
bool vma_is_shmem(const struct vm_area_struct *vma)
{
	return vma->vm_ops == &shmem_vm_ops;
}

/* ------------------------------------------------------------------ */
/* Inodes                                                              */

/* A new inode named @name, linked or not; s_lock held. */
static struct inode *shmem_new_inode(struct super_block *sb, const char *name,
				     unsigned int mode, bool linked)
{
	struct inode *inode = kzalloc(sizeof(*inode));

	lockdep_assert_held(&sb->s_lock);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	inode_init(inode, sb, mode);
	inode->i_op = &shmem_inode_ops;
	inode->i_fop = &shmem_file_ops;
	inode->i_mapping->a_ops = &shmem_aops;
	set_bit(AS_SHMEM, &inode->i_mapping->flags);
	snprintf(inode->name, sizeof(inode->name), "%s", name);
	if (linked) {
		/* One reference for the caller, one for the directory entry. */
		inode->i_nlink = 1;
		iget(inode);
	} else {
		inode->i_nlink = 0;
	}
	list_add_tail(&inode->i_sb_list, &sb->s_inodes);
	return inode;
}

/* The linked inode called @name; s_lock held. */
static struct inode *simple_dir_find(struct super_block *sb, const char *name)
{
	struct inode *inode;

	lockdep_assert_held(&sb->s_lock);
	list_for_each_entry(inode, &sb->s_inodes, i_sb_list)
		if (inode->i_nlink && !strcmp(inode->name, name))
			return inode;
	return NULL;
}

/**
 * simple_dir_lookup() - ->lookup of a flat, in-memory directory (tmpfs,
 * hugetlbfs): the linked inode called @name, created with O_CREAT.
 * @sb: the super block.
 * @name: the name.
 * @flags: O_CREAT, O_EXCL.
 * @mode: for a new inode.
 * @new_inode: the filesystem's constructor, called with s_lock held.
 *
 * Context: takes sb->s_lock.
 * Return: a referenced inode, or ERR_PTR(-ENAMETOOLONG, -EEXIST, -ENOENT,
 * -ENOMEM).
 */
struct inode *simple_dir_lookup(struct super_block *sb, const char *name, int flags,
				unsigned int mode, simple_new_inode_t new_inode)
{
	struct inode *inode;

	if (strlen(name) >= sizeof(inode->name))
		return ERR_PTR(-ENAMETOOLONG);

	mutex_lock(&sb->s_lock);
	inode = simple_dir_find(sb, name);
	if (inode) {
		if ((flags & O_CREAT) && (flags & O_EXCL))
			inode = ERR_PTR(-EEXIST);
		else
			iget(inode);
	} else if (flags & O_CREAT) {
		inode = new_inode(sb, name, mode, true);
	} else {
		inode = ERR_PTR(-ENOENT);
	}
	mutex_unlock(&sb->s_lock);
	return inode;
}

static struct inode *shmem_lookup(struct super_block *sb, const char *name,
				  int flags, unsigned int mode)
{
	return simple_dir_lookup(sb, name, flags, mode, shmem_new_inode);
}

/**
 * simple_dir_unlink() - ->unlink of a flat, in-memory directory.
 * @sb: the super block.
 * @name: the name.
 *
 * Context: takes sb->s_lock; may evict the inode.
 * Return: 0 or -ENOENT.
 */
int simple_dir_unlink(struct super_block *sb, const char *name)
{
	struct inode *inode;

	mutex_lock(&sb->s_lock);
	inode = simple_dir_find(sb, name);
	if (inode)
		inode->i_nlink = 0;
	mutex_unlock(&sb->s_lock);
	if (!inode)
		return -ENOENT;
	iput(inode);		/* the directory entry's reference */
	return 0;
}

/**
 * simple_dir_kill() - unmount a flat, in-memory directory: drop every
 * directory entry (unreferenced inodes are evicted), then evict what open
 * files still hold, with a warning (a leak), and free the super block.
 * @sb: the super block.
 * @evict: the filesystem's ->evict_inode.
 *
 * Context: boot/shutdown; takes sb->s_lock.
 */
void simple_dir_kill(struct super_block *sb, void (*evict)(struct inode *inode))
{
	struct inode *inode;

	for (;;) {
		mutex_lock(&sb->s_lock);
		list_for_each_entry(inode, &sb->s_inodes, i_sb_list)
			if (inode->i_nlink)
				break;
		if (&inode->i_sb_list == &sb->s_inodes) {
			mutex_unlock(&sb->s_lock);
			break;
		}
		inode->i_nlink = 0;
		mutex_unlock(&sb->s_lock);
		iput(inode);
	}

	/* Whatever is left is referenced by files nobody closed: a leak. */
	for (;;) {
		mutex_lock(&sb->s_lock);
		inode = list_first_entry_or_null(&sb->s_inodes, struct inode, i_sb_list);
		mutex_unlock(&sb->s_lock);
		if (!inode)
			break;
		WARN(1, "%s %s: inode %lu \"%s\" still has %d references at unmount\n",
		     sb->fs_name, sb->prefix, inode->i_ino, inode->name,
		     atomic_read(&inode->i_count));
		atomic_set(&inode->i_count, 0);
		evict(inode);
	}
	mutex_destroy(&sb->s_lock);
	free(sb);
}

static void shmem_evict_inode(struct inode *inode)
{
	struct super_block *sb = inode->i_sb;

	VM_BUG_ON(atomic_read(&inode->i_count));
	truncate_inode_pages_range(inode->i_mapping, 0, -1);
	VM_BUG_ON(inode->i_mapping->nrpages);

	mutex_lock(&sb->s_lock);
	list_del(&inode->i_sb_list);
	mutex_unlock(&sb->s_lock);

	address_space_destroy(&inode->i_data);
	destroy_rwsem(&inode->i_rwsem);
	free(inode);
}

static int shmem_put_super(struct super_block *sb)
{
	simple_dir_kill(sb, shmem_evict_inode);
	return 0;		/* nothing to write back */
}

/* ------------------------------------------------------------------ */
/* Size changes and fallocate                                          */

/* Truncate or extend; i_rwsem held for writing. */
static int shmem_setsize(struct inode *inode, long long size)
{
	struct address_space *mapping = inode->i_mapping;
	long long old = inode->i_size;

	VM_BUG_ON(!rwsem_is_write_locked_by_me(&inode->i_rwsem));
	if (size < 0)
		return -EINVAL;
	if (size > MAX_LFS_FILESIZE)
		return -EFBIG;

	/* Invariant 5 of filemap.c: lower i_size before dropping pages. */
	WRITE_ONCE(inode->i_size, size);
	if (size < old) {
		long long hole = ALIGN(size, (long long)PAGE_SIZE);

		/* Beyond EOF even private COW copies go (they would SIGBUS). */
		if (hole < old)
			unmap_mapping_range(mapping, hole, ALIGN(old, (long long)PAGE_SIZE) - hole,
					    true);
		truncate_inode_pages_range(mapping, size, -1);
	}
	return 0;
}

/* Allocate the pages of [off, off + len); i_rwsem held for writing. */
static int shmem_falloc_alloc(struct inode *inode, long long off, long long len)
{
	struct address_space *mapping = inode->i_mapping;
	pgoff_t index = (pgoff_t)(off >> PAGE_SHIFT);
	pgoff_t end = (pgoff_t)((off + len - 1) >> PAGE_SHIFT);

	for (;; index++) {
		struct folio *folio;

		folio = __filemap_get_folio(mapping, index, FGP_CREAT,
					    GFP_HIGHUSER_MOVABLE | __GFP_ZERO);
		if (IS_ERR(folio))
			return -ENOSPC;
		folio_put(folio);
		if (index == end)
			return 0;
	}
}

static int shmem_fallocate(struct inode *inode, int mode, long long off, long long len)
{
	int err;

	VM_BUG_ON(!rwsem_is_write_locked_by_me(&inode->i_rwsem));
	if (off < 0 || len <= 0)
		return -EINVAL;
	if (mode & ~SHMEM_FALLOC_MODES)
		return -EOPNOTSUPP;
	if (off > MAX_LFS_FILESIZE || len > MAX_LFS_FILESIZE - off)
		return -EFBIG;

	if (mode & FALLOC_FL_PUNCH_HOLE) {
		if (!(mode & FALLOC_FL_KEEP_SIZE))
			return -EOPNOTSUPP;
		truncate_inode_pages_range(inode->i_mapping, off, off + len - 1);
		return 0;
	}

	err = shmem_falloc_alloc(inode, off, len);
	if (err)
		return err;
	if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > inode->i_size)
		WRITE_ONCE(inode->i_size, off + len);
	return 0;
}

static int shmem_fsync(struct inode *inode)
{
	return 0;		/* nothing to write back to */
}

/* ------------------------------------------------------------------ */
/* Page cache and mappings                                             */

/* tmpfs pages are never written back: PG_dirty only, not counted. */
static bool shmem_dirty_folio(struct address_space *mapping, struct folio *folio)
{
	return !test_and_set_bit(PG_dirty, &folio->flags);
}

static vm_fault_t shmem_fault(struct vm_fault *vmf)
{
	/* filemap_fault() creates zeroed pages for shmem mappings. */
	return filemap_fault(vmf);
}

static int shmem_mmap(struct file *file, struct vm_area_struct *vma)
{
	vma->vm_ops = &shmem_vm_ops;
	return 0;
}

static const struct super_operations shmem_sops = {
	.lookup = shmem_lookup,
	.unlink = simple_dir_unlink,
	.evict_inode = shmem_evict_inode,
	.put_super = shmem_put_super,
};

static const struct inode_operations shmem_inode_ops = {
	.setsize = shmem_setsize,
	.fallocate = shmem_fallocate,
	.fsync = shmem_fsync,
};

static const struct file_operations shmem_file_ops = {
	.read = generic_file_read,
	.write = generic_file_write,
	.mmap = shmem_mmap,
};

static const struct address_space_operations shmem_aops = {
	.dirty_folio = shmem_dirty_folio,
};

static const struct vm_operations_struct shmem_vm_ops = {
	.name = "shmem",
	.fault = shmem_fault,
};

/* ------------------------------------------------------------------ */
/* Super blocks and unlinked files                                     */

/**
 * shmem_fill_super() - a new, empty tmpfs.
 * @m: the machine.
 * @prefix: its place in the namespace ("/tmp/"), or "" for the internal
 *	mount of unlinked files.
 *
 * Context: boot (shmem_init(), vfs_init()).
 * Return: the super block (to vfs_mount()), or ERR_PTR(-ENOMEM /
 * -ENAMETOOLONG).
 */
struct super_block *shmem_fill_super(struct pinmm *m, const char *prefix)
{
	struct super_block *sb;

	if (strlen(prefix) >= sizeof(sb->prefix))
		return ERR_PTR(-ENAMETOOLONG);
	sb = kzalloc(sizeof(*sb));
	if (!sb)
		return ERR_PTR(-ENOMEM);
	sb->machine = m;
	sb->fs_name = "tmpfs";
	sb->s_magic = PINMM_TMPFS_MAGIC;
	snprintf(sb->prefix, sizeof(sb->prefix), "%s", prefix);
	sb->s_op = &shmem_sops;
	mutex_init(&sb->s_lock);
	INIT_LIST_HEAD(&sb->s_inodes);
	sb->next_ino = 1;
	INIT_LIST_HEAD(&sb->s_list);
	return sb;
}

/*
 * Initcall "shmem": the internal tmpfs of unlinked files (memfd_create(),
 * shared anonymous memory), Linux's shm_mnt.  It is in no directory: the
 * VFS never sees it.  Return: 0 or -ENOMEM.
 */
static int shmem_init(struct pinmm *m)
{
	struct super_block *sb = shmem_fill_super(m, "");

	if (IS_ERR(sb))
		return (int)PTR_ERR(sb);
	m->shm_mnt = sb;
	return 0;
}

/* Exit of "shmem", after the VFS unmounted the named tmpfs mounts. */
static int shmem_exit(struct pinmm *m)
{
	if (m->shm_mnt)
		shmem_put_super(m->shm_mnt);
	m->shm_mnt = NULL;
	return 0;
}

pinmm_initcall(shmem, INITCALL_MM(4), shmem_init, NULL, shmem_exit);

/**
 * shmem_file_setup() - an open, unlinked tmpfs file of @size bytes.
 * @m: the machine.
 * @name: its name, for debugging ("dev/zero", "memfd:x").
 * @size: initial size (pages are created on use).
 *
 * Context: may sleep.
 * Return: a file opened read-write (one reference), or ERR_PTR(-ENOMEM,
 * -EINVAL, -EFBIG).
 */
struct file *shmem_file_setup(struct pinmm *m, const char *name, long long size)
{
	struct super_block *sb = m->shm_mnt;
	struct inode *inode;
	struct file *file;

	if (!sb)
		return ERR_PTR(-EINVAL);
	if (size < 0)
		return ERR_PTR(-EINVAL);
	if (size > MAX_LFS_FILESIZE)
		return ERR_PTR(-EFBIG);

	mutex_lock(&sb->s_lock);
	inode = shmem_new_inode(sb, name, 0600, false);
	mutex_unlock(&sb->s_lock);
	if (IS_ERR(inode))
		return ERR_PTR(PTR_ERR(inode));
	inode->i_size = size;

	file = file_alloc(inode, O_RDWR);
	if (!file) {
		iput(inode);
		return ERR_PTR(-ENOMEM);
	}
	return file;
}

/**
 * shmem_zero_setup() - back a MAP_SHARED|MAP_ANONYMOUS VMA with tmpfs.
 * @vma: the new VMA (not yet linked).
 *
 * Gives it an unlinked tmpfs file the size of the VMA at offset 0, and the
 * shmem vm_ops.
 *
 * Context: mmap_lock held for writing.
 * Return: 0 or -ENOMEM.
 */
int shmem_zero_setup(struct vm_area_struct *vma)
{
	long long size = (long long)(vma->vm_end - vma->vm_start);
	struct file *file;

	file = shmem_file_setup(vma->vm_mm->machine, "dev/zero", size);
	if (IS_ERR(file))
		return (int)PTR_ERR(file);
	if (vma->vm_file)
		fput(vma->vm_file);
	vma->vm_file = file;
	vma->vm_pgoff = 0;
	vma->vm_ops = &shmem_vm_ops;
	return 0;
}

/**
 * memfd_file_create() - the file behind memfd_create().
 * @m: the machine.
 * @name: the user's name; the inode is called "memfd:<name>".
 * @flags: MFD_CLOEXEC and MFD_ALLOW_SEALING only.
 *
 * Context: may sleep.
 * Return: an unlinked, empty tmpfs file opened O_RDWR (plus O_CLOEXEC), or
 * ERR_PTR(-EFAULT) for a NULL name, -EINVAL for other flags or a name
 * longer than 249 bytes, -ENOMEM.
 */
struct file *memfd_file_create(struct pinmm *m, const char *name, unsigned int flags)
{
	char full[256];
	struct file *file;

	if (!name)
		return ERR_PTR(-EFAULT);
	if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING))
		return ERR_PTR(-EINVAL);
	if (strlen(name) > sizeof(full) - 1 - strlen("memfd:"))
		return ERR_PTR(-EINVAL);
	snprintf(full, sizeof(full), "memfd:%s", name);

	file = shmem_file_setup(m, full, 0);
	if (!IS_ERR(file) && (flags & MFD_CLOEXEC))
		file->f_flags |= O_CLOEXEC;
	return file;
}
