/* SPDX-License-Identifier: MIT */
/*
 * vfs.c - the virtual filesystem switch: mounts and path resolution, inode
 * and file references, and the per-process file descriptor tables.
 *
 * The namespace is a handful of flat directories, each a mounted super
 * block known by its prefix ("/dev/shm/", "/tmp/"; pinfs adds "/data/" and
 * "/dax/" through vfs_mount()).  A path is resolved by the longest mounted
 * prefix; what follows must be a plain name.  Filesystems are reached only
 * through the operation tables of fs.h.
 *
 * It does not own any filesystem (shmem.c, pinfs), the page cache
 * (filemap.c) or the system-call argument checks (syscalls.c).
 *
 * References:
 *  - inode->i_count: the directory entry, each struct file, and
 *    filesystem-internal users; the last iput() calls ->evict_inode;
 *  - file->f_count: each fd-table slot and each VMA (mmap.c takes one with
 *    get_file()); the last fput() calls ->release and drops the inode.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"
#include "hugetlb.h"
#include "pagemap.h"

#define NR_OPEN_MAX	1024		/* RLIMIT_NOFILE */
#define NR_OPEN_DEFAULT	16

/*
 * struct pinmm_vfs - the mounts of one machine.
 * @lock protects @mounts (taken only to resolve a path and to mount).
 * The internal tmpfs of unlinked files (memfd, shared anon) is tmpfs's own
 * (m->shm_mnt, mm/shmem.c): it is in no directory and not on @mounts.
 */
struct pinmm_vfs {
	struct mutex lock;
	struct list_head mounts;
};

/* ------------------------------------------------------------------ */
/* Inodes and files                                                    */

/**
 * inode_init() - set up the VFS part of a new inode.
 * @inode: zeroed memory.
 * @sb: its filesystem.
 * @mode: the mode given at creation (stored, not enforced).
 *
 * The inode starts with one reference (the caller's), i_nlink 1, size 0 and
 * an empty page cache.  Adding it to sb->s_inodes is the filesystem's job.
 *
 * Context: sb->s_lock held (it allocates the inode number).
 */
void inode_init(struct inode *inode, struct super_block *sb, unsigned mode)
{
	inode->i_ino = sb->next_ino++;
	inode->i_mode = mode;
	inode->i_nlink = 1;
	inode->i_size = 0;
	init_rwsem(&inode->i_rwsem);
	atomic_set(&inode->i_count, 1);
	inode->i_sb = sb;
	address_space_init(&inode->i_data, inode);
	inode->i_mapping = &inode->i_data;
	INIT_LIST_HEAD(&inode->i_sb_list);
}

/**
 * iget() - take a reference on an inode.
 * @inode: an inode the caller already keeps alive.
 *
 * Context: any.
 */
void iget(struct inode *inode)
{
	VM_BUG_ON(atomic_read(&inode->i_count) <= 0);
	atomic_inc(&inode->i_count);
}

/**
 * iput() - drop a reference; the last one evicts the inode.
 * @inode: the inode.
 *
 * Context: may sleep (eviction truncates the page cache); must not hold
 * i_rwsem, folio locks or mmap_lock for writing of an mm mapping it.
 */
void iput(struct inode *inode)
{
	VM_BUG_ON(atomic_read(&inode->i_count) <= 0);
	if (atomic_dec_and_test(&inode->i_count))
		inode->i_sb->s_op->evict_inode(inode);
}

/**
 * file_alloc() - a new open file of @inode.
 * @inode: the inode; on success the file owns the caller's reference.
 * @flags: the O_* flags of the open.
 *
 * Context: any.
 * Return: the file with one reference, or NULL when out of memory (the
 * inode reference then stays with the caller).
 */
struct file *file_alloc(struct inode *inode, int flags)
{
	struct file *file = kzalloc(sizeof(*file));

	if (!file)
		return NULL;
	file->f_inode = inode;
	file->f_mapping = inode->i_mapping;
	file->f_op = inode->i_fop;
	file->f_flags = (unsigned int)flags;
	if (inode->i_mapping)		/* anon inodes have no page cache */
		file->f_wb_err = errseq_sample(&inode->i_mapping->wb_err);
	atomic_set(&file->f_count, 1);
	return file;
}

/**
 * get_file() - take a reference on an open file.
 * @file: a file the caller already keeps alive.
 *
 * Context: any.
 */
void get_file(struct file *file)
{
	VM_BUG_ON(atomic_read(&file->f_count) <= 0);
	atomic_inc(&file->f_count);
}

/**
 * fput() - drop a reference; the last one releases the file and its inode.
 * Exported (<pinmm/linux.h>): vaddr_pin_pages() callers hold files.
 * @file: the file, or NULL.
 *
 * Context: may sleep (see iput()).
 */
PINMM_API void fput(struct file *file)
{
	if (!file)
		return;
	VM_BUG_ON(atomic_read(&file->f_count) <= 0);
	if (!atomic_dec_and_test(&file->f_count))
		return;
	if (file->f_op && file->f_op->release)
		file->f_op->release(file);
	iput(file->f_inode);
	free(file);
}

/* ------------------------------------------------------------------ */
/* Mounts and paths                                                    */

/**
 * vfs_mount() - add a filesystem to the namespace at sb->prefix.
 * @m: the machine.
 * @sb: a filled super block; its prefix is absolute and ends with '/'.
 *
 * Context: may sleep; takes the mount lock.
 * Return: 0; -EINVAL for a malformed prefix; -EBUSY if the prefix is
 * taken; -ENODEV before vfs_init().
 */
int vfs_mount(struct pinmm *m, struct super_block *sb)
{
	struct pinmm_vfs *vfs = m->vfs;
	size_t len = strlen(sb->prefix);
	struct super_block *old;
	int err = 0;

	if (!vfs)
		return -ENODEV;
	if (len < 2 || sb->prefix[0] != '/' || sb->prefix[len - 1] != '/')
		return -EINVAL;

	mutex_lock(&vfs->lock);
	list_for_each_entry(old, &vfs->mounts, s_list) {
		if (!strcmp(old->prefix, sb->prefix)) {
			err = -EBUSY;
			break;
		}
	}
	if (!err)
		list_add_tail(&sb->s_list, &vfs->mounts);
	mutex_unlock(&vfs->lock);
	return err;
}

/**
 * vfs_statfs() - what statfs says about @sb.
 * @sb: a mounted (or internal) super block.
 * @buf: filled in: f_type from sb->s_magic, a page-sized block and 255-byte
 *	names unless the filesystem's ->statfs says otherwise, and its sizes
 *	(0 when it has no limit).
 *
 * Context: may sleep (->statfs takes filesystem locks).
 */
void vfs_statfs(struct super_block *sb, struct pinmm_statfs *buf)
{
	memset(buf, 0, sizeof(*buf));
	buf->f_type = (long)sb->s_magic;
	buf->f_bsize = (long)PAGE_SIZE;
	buf->f_namelen = 255;
	if (sb->s_op && sb->s_op->statfs)
		sb->s_op->statfs(sb, buf);
}

/*
 * Split @path into the super block of its longest mounted prefix and the
 * name after it.  Return: 0; -ENOENT (no such filesystem, or a name with a
 * further '/'); -EISDIR (the directory itself, ".", ".."); -ENAMETOOLONG.
 */
static int vfs_resolve(struct pinmm *m, const char *path, struct super_block **sbp,
		       const char **namep)
{
	struct pinmm_vfs *vfs = m->vfs;
	struct super_block *sb, *best = NULL;
	size_t best_len = 0;
	const char *name;

	if (!vfs)
		return -ENOENT;
	mutex_lock(&vfs->lock);
	list_for_each_entry(sb, &vfs->mounts, s_list) {
		size_t len = strlen(sb->prefix);

		if (len > best_len && !strncmp(path, sb->prefix, len)) {
			best = sb;
			best_len = len;
		}
	}
	mutex_unlock(&vfs->lock);
	if (!best)
		return -ENOENT;

	name = path + best_len;
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EISDIR;
	if (strchr(name, '/'))
		return -ENOENT;
	if (strlen(name) > 255)
		return -ENAMETOOLONG;
	*sbp = best;
	*namep = name;
	return 0;
}

/**
 * vfs_open() - open (and with O_CREAT create) the file at @path.
 * @m: the machine.
 * @path: absolute path, e.g. "/dev/shm/buf".
 * @flags: O_RDONLY/O_WRONLY/O_RDWR with O_CREAT, O_EXCL, O_TRUNC; other
 *	flags are kept in f_flags.
 * @mode: stored in a new inode.
 *
 * Context: may sleep (O_TRUNC truncates under i_rwsem).
 * Return: a file with one reference, or ERR_PTR: -ENOENT, -EEXIST,
 * -EISDIR, -ENAMETOOLONG, -EINVAL (bad access mode), -ENOMEM.
 */
struct file *vfs_open(struct pinmm *m, const char *path, int flags, unsigned mode)
{
	struct super_block *sb;
	struct inode *inode;
	struct file *file;
	const char *name;
	int err;

	if ((flags & O_ACCMODE) == O_ACCMODE)
		return ERR_PTR(-EINVAL);
	err = vfs_resolve(m, path, &sb, &name);
	if (err)
		return ERR_PTR(err);

	inode = sb->s_op->lookup(sb, name, flags, mode);
	if (IS_ERR(inode))
		return ERR_PTR(PTR_ERR(inode));

	if ((flags & O_TRUNC) && inode->i_op && inode->i_op->setsize) {
		down_write(&inode->i_rwsem);
		err = inode->i_op->setsize(inode, 0);
		up_write(&inode->i_rwsem);
		if (err) {
			iput(inode);
			return ERR_PTR(err);
		}
	}

	file = file_alloc(inode, flags);
	if (!file) {
		iput(inode);
		return ERR_PTR(-ENOMEM);
	}
	return file;
}

/**
 * vfs_unlink() - remove the name @path from its directory.
 * @m: the machine.
 * @path: absolute path.
 *
 * Open files and mappings of the inode keep working; its pages go with the
 * last reference.
 *
 * Context: may sleep.
 * Return: 0, -ENOENT, -EISDIR, -ENAMETOOLONG, -EPERM (no ->unlink).
 */
int vfs_unlink(struct pinmm *m, const char *path)
{
	struct super_block *sb;
	const char *name;
	int err;

	err = vfs_resolve(m, path, &sb, &name);
	if (err)
		return err;
	if (!sb->s_op->unlink)
		return -EPERM;
	return sb->s_op->unlink(sb, name);
}

static int vfs_exit(struct pinmm *m);

/*
 * vfs_init() - the namespace at boot (initcall "vfs", init.h): tmpfs at
 * /dev/shm/ and /tmp/.  Return: 0 or -ENOMEM (nothing is left mounted
 * then).
 */
static int vfs_init(struct pinmm *m)
{
	static const char *const tmpfs_prefixes[] = { "/dev/shm/", "/tmp/" };
	static const struct { const char *prefix; unsigned long size; } hugetlbfs_prefixes[] = {
		{ "/dev/hugepages/", PMD_SIZE }, { "/dev/hugepages1G/", PUD_SIZE },
	};
	struct pinmm_vfs *vfs = kzalloc(sizeof(*vfs));
	struct super_block *sb;

	if (!vfs)
		return -ENOMEM;
	mutex_init(&vfs->lock);
	INIT_LIST_HEAD(&vfs->mounts);
	m->vfs = vfs;

	for (size_t i = 0; i < ARRAY_SIZE(tmpfs_prefixes); i++) {
		sb = shmem_fill_super(m, tmpfs_prefixes[i]);
		if (IS_ERR(sb))
			goto fail;
		if (vfs_mount(m, sb)) {
			sb->s_op->put_super(sb);
			goto fail;
		}
	}
	/* hugetlbfs where distributions mount it, and a 1 GiB instance. */
	for (size_t i = 0; i < ARRAY_SIZE(hugetlbfs_prefixes); i++) {
		sb = hugetlbfs_fill_super(m, hugetlbfs_prefixes[i].prefix,
					  size_to_hstate(m, hugetlbfs_prefixes[i].size));
		if (IS_ERR(sb))
			goto fail;
		if (vfs_mount(m, sb)) {
			sb->s_op->put_super(sb);
			goto fail;
		}
	}
	return 0;

fail:
	vfs_exit(m);
	return -ENOMEM;
}

/*
 * vfs_exit() - unmount everything, freeing every file page and inode: exit
 * of the "vfs" initcall, after every process has exited (its files closed,
 * its mappings gone) and before the page allocator's leak check.
 * Return: 0, or the first error of a file system's final writeback (every
 * file system is unmounted either way; the report is on stderr).
 */
static int vfs_exit(struct pinmm *m)
{
	struct pinmm_vfs *vfs = m->vfs;
	int err = 0, e;

	if (!vfs)
		return 0;
	for (;;) {
		struct super_block *sb;

		mutex_lock(&vfs->lock);
		sb = list_first_entry_or_null(&vfs->mounts, struct super_block, s_list);
		if (sb)
			list_del(&sb->s_list);
		mutex_unlock(&vfs->lock);
		if (!sb)
			break;
		e = sb->s_op->put_super(sb);
		if (!err)
			err = e;
	}
	mutex_destroy(&vfs->lock);
	free(vfs);
	m->vfs = NULL;
	return err;
}

pinmm_initcall(vfs, INITCALL_FS(1), vfs_init, NULL, vfs_exit);

/* ------------------------------------------------------------------ */
/* File descriptor tables                                              */

/**
 * files_install() - put @file in the lowest free slot of @p's table.
 * @p: the process.
 * @file: the file; on success the slot owns the caller's reference.
 *
 * Context: takes p->files_lock.
 * Return: the descriptor, -EMFILE (table full), -ENOMEM, or -ESRCH when
 * @p has exited (its table is closed: the file would never be put).
 */
int files_install(struct pinmm_proc *p, struct file *file)
{
	int fd, err = -EMFILE;

	mutex_lock(&p->files_lock);
	/* exit sets p->exited before files_close_all() takes this lock. */
	if (READ_ONCE(p->exited)) {
		err = -ESRCH;
		goto out;
	}
	for (fd = 0; fd < p->nr_files; fd++)
		if (!p->files[fd])
			goto found;
	if (p->nr_files < NR_OPEN_MAX) {
		int nr = p->nr_files ? p->nr_files * 2 : NR_OPEN_DEFAULT;
		struct file **files;

		if (nr > NR_OPEN_MAX)
			nr = NR_OPEN_MAX;
		files = krealloc(p->files, (size_t)nr * sizeof(*files));
		if (!files) {
			err = -ENOMEM;
			goto out;
		}
		memset(files + p->nr_files, 0, (size_t)(nr - p->nr_files) * sizeof(*files));
		p->files = files;
		fd = p->nr_files;
		p->nr_files = nr;
		goto found;
	}
out:
	mutex_unlock(&p->files_lock);
	return err;
found:
	p->files[fd] = file;
	mutex_unlock(&p->files_lock);
	return fd;
}

/**
 * files_close() - empty slot @fd and drop its file reference.
 * @p: the process.
 * @fd: the descriptor.
 *
 * Context: may sleep (fput()); takes p->files_lock.
 * Return: 0 or -EBADF.
 */
int files_close(struct pinmm_proc *p, int fd)
{
	struct file *file = NULL;

	mutex_lock(&p->files_lock);
	if (fd >= 0 && fd < p->nr_files) {
		file = p->files[fd];
		p->files[fd] = NULL;
	}
	mutex_unlock(&p->files_lock);
	if (!file)
		return -EBADF;
	fput(file);
	return 0;
}

/**
 * fget() - the file behind @fd, referenced.
 * @p: the process.
 * @fd: the descriptor.
 *
 * Context: takes p->files_lock.
 * Return: the file (drop it with fput()), or NULL for a bad descriptor.
 */
struct file *fget(struct pinmm_proc *p, int fd)
{
	struct file *file = NULL;

	mutex_lock(&p->files_lock);
	if (fd >= 0 && fd < p->nr_files) {
		file = p->files[fd];
		if (file)
			get_file(file);
	}
	mutex_unlock(&p->files_lock);
	return file;
}

/**
 * files_dup() - fork: @dst gets a copy of @src's table, sharing each open
 * file (one more reference per slot).
 * @dst: the new process; its table is empty.
 * @src: the parent.
 *
 * Context: takes src->files_lock, then dst->files_lock.
 * Return: 0 or -ENOMEM.
 */
int files_dup(struct pinmm_proc *dst, struct pinmm_proc *src)
{
	struct file **files = NULL;
	int nr;

	VM_BUG_ON(dst->nr_files || dst->files);
	mutex_lock(&src->files_lock);
	nr = src->nr_files;
	if (nr) {
		files = kmalloc((size_t)nr * sizeof(*files));
		if (!files) {
			mutex_unlock(&src->files_lock);
			return -ENOMEM;
		}
		for (int fd = 0; fd < nr; fd++) {
			files[fd] = src->files[fd];
			if (files[fd])
				get_file(files[fd]);
		}
	}
	mutex_unlock(&src->files_lock);

	mutex_lock(&dst->files_lock);
	dst->files = files;
	dst->nr_files = nr;
	mutex_unlock(&dst->files_lock);
	return 0;
}

/**
 * files_close_all() - exit: close every descriptor of @p and free its table.
 * @p: the process.
 *
 * Context: may sleep; takes p->files_lock (dropped before the fput()s).
 */
void files_close_all(struct pinmm_proc *p)
{
	struct file **files;
	int nr;

	mutex_lock(&p->files_lock);
	files = p->files;
	nr = p->nr_files;
	p->files = NULL;
	p->nr_files = 0;
	mutex_unlock(&p->files_lock);

	for (int fd = 0; fd < nr; fd++)
		if (files[fd])
			fput(files[fd]);
	free(files);
}
