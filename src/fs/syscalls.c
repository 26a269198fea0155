/* SPDX-License-Identifier: MIT */
/*
 * syscalls.c - the file "system calls" of <pinmm/pinmm.h>: open, close,
 * memfd_create, pread, pwrite, ftruncate, fallocate, fsync, unlink,
 * fstat_size and fstatfs.
 *
 * This file owns argument checking and the errno a caller sees (Linux's,
 * in Linux's order of checks where it matters), and takes i_rwsem around
 * size changes.  The work itself is in vfs.c, the filesystem (shmem.c) and
 * the page cache (filemap.c).  mmap of a file is mm's (mmap.c).
 */
#include <errno.h>
#include <string.h>

#include "hugetlb.h"
#include "pagemap.h"
#include "rcu.h"

/* Linux's MAX_RW_COUNT: one read or write moves at most this many bytes. */
#define MAX_RW_COUNT	((size_t)(0x7fffffffUL & PAGE_MASK))

/* The common check of every call: a live process. */
static int proc_check(struct pinmm_proc *p)
{
	if (!p)
		return -EINVAL;
	if (READ_ONCE(p->exited))
		return -ESRCH;
	return 0;
}

/*
 * The file behind @fd of a live @p, referenced: the common start of the
 * descriptor calls.  Return: the file, or ERR_PTR(-EINVAL, -ESRCH, -EBADF).
 */
static struct file *proc_fget(struct pinmm_proc *p, int fd)
{
	struct file *file;
	int err;

	pinmm_thread_enter();
	err = proc_check(p);
	if (err)
		return ERR_PTR(err);
	file = fget(p, fd);
	return file ? file : ERR_PTR(-EBADF);
}

static bool file_readable(const struct file *file)
{
	return (file->f_flags & O_ACCMODE) != O_WRONLY;
}

static bool file_writable(const struct file *file)
{
	return (file->f_flags & O_ACCMODE) != O_RDONLY;
}

/* Install @file in @p's table; the file is dropped on failure. */
static int install_or_put(struct pinmm_proc *p, struct file *file)
{
	int fd;

	if (IS_ERR(file))
		return (int)PTR_ERR(file);
	fd = files_install(p, file);
	if (fd < 0)
		fput(file);
	return fd;
}

/* A user path: present and shorter than PINMM_PATH_MAX. */
static int path_check(const char *path)
{
	if (!path)
		return -EFAULT;
	if (strnlen(path, PINMM_PATH_MAX) >= PINMM_PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/**
 * pinmm_open() - open a file of the machine's namespace.
 * @p: the process.
 * @path: absolute path: /dev/shm/<name> or /tmp/<name> (tmpfs).
 * @flags: O_RDONLY, O_WRONLY or O_RDWR, with O_CREAT, O_EXCL, O_TRUNC.
 * @mode: stored with a new file, not enforced.
 *
 * Context: any thread.
 * Return: the lowest free descriptor; -EINVAL (NULL @p, bad access mode),
 * -ESRCH (exited), -EFAULT (NULL @path), -ENOENT, -EEXIST, -EISDIR,
 * -ENAMETOOLONG, -EMFILE, -ENOMEM.
 */
int pinmm_open(struct pinmm_proc *p, const char *path, int flags, unsigned mode)
{
	int err;

	pinmm_thread_enter();
	err = proc_check(p);
	if (err)
		return err;
	err = path_check(path);
	if (err)
		return err;
	return install_or_put(p, vfs_open(p->machine, path, flags, mode));
}

/**
 * pinmm_memfd_create() - an anonymous tmpfs file, opened read-write.
 * @p: the process.
 * @name: for debugging; the file is called "memfd:<name>".
 * @flags: MFD_CLOEXEC, MFD_ALLOW_SEALING; MFD_HUGETLB with MFD_HUGE_* size
 *	bits for a hugetlbfs file (-ENODEV for a size the machine has not).
 *
 * Context: any thread.
 * Return: the descriptor; -EINVAL (NULL @p, other flags, name over 249
 * bytes), -ESRCH, -EFAULT (NULL @name), -EMFILE, -ENOMEM.
 */
int pinmm_memfd_create(struct pinmm_proc *p, const char *name, unsigned flags)
{
	int err;

	pinmm_thread_enter();
	err = proc_check(p);
	if (err)
		return err;
	if (flags & MFD_HUGETLB)
		return install_or_put(p, hugetlb_memfd_create(p->machine, name, flags));
	return install_or_put(p, memfd_file_create(p->machine, name, flags));
}

/**
 * pinmm_close() - close a descriptor.
 * @p: the process.
 * @fd: the descriptor.
 *
 * Mappings of the file stay valid; the file goes with its last reference.
 *
 * Context: any thread.
 * Return: 0; -EINVAL (NULL @p), -ESRCH, -EBADF.
 */
int pinmm_close(struct pinmm_proc *p, int fd)
{
	int err;

	pinmm_thread_enter();
	err = proc_check(p);
	if (err)
		return err;
	return files_close(p, fd);
}

/* pread/pwrite: checks in Linux's order, then the file's ->read/->write. */
static long file_rw(struct pinmm_proc *p, int fd, void *buf, size_t len, long off,
		    bool write)
{
	struct file *file;
	long ret;

	pinmm_thread_enter();
	ret = proc_check(p);
	if (ret)
		return ret;
	file = fget(p, fd);
	if (!file)
		return -EBADF;
	if (!(write ? file_writable(file) : file_readable(file))) {
		ret = -EBADF;
	} else if (off < 0) {
		ret = -EINVAL;
	} else if (!len) {
		ret = 0;
	} else if (!buf) {
		ret = -EFAULT;
	} else if (!file->f_op || !(write ? (void *)file->f_op->write : (void *)file->f_op->read)) {
		ret = -EINVAL;
	} else {
		if (len > MAX_RW_COUNT)
			len = MAX_RW_COUNT;
		ret = write ? file->f_op->write(file, buf, len, off) :
			      file->f_op->read(file, buf, len, off);
	}
	fput(file);
	return ret;
}

/**
 * pinmm_pread() - read from a file at an offset.
 * @p: the process.
 * @fd: a descriptor open for reading.
 * @buf: destination (host memory).
 * @len: bytes wanted (at most MAX_RW_COUNT are read).
 * @off: file offset.
 *
 * Holes read as zeroes; reading stops at EOF.
 *
 * Context: any thread.
 * Return: bytes read (0 at EOF or for @len 0); -EINVAL (NULL @p, negative
 * @off), -ESRCH, -EBADF (bad @fd, not open for reading), -EFAULT (NULL
 * @buf), -EIO, -ENOMEM.
 */
long pinmm_pread(struct pinmm_proc *p, int fd, void *buf, size_t len, long off)
{
	return file_rw(p, fd, buf, len, off, false);
}

/**
 * pinmm_pwrite() - write to a file at an offset.
 * @p: the process.
 * @fd: a descriptor open for writing.
 * @buf: source (host memory).
 * @len: bytes to write (at most MAX_RW_COUNT are written).
 * @off: file offset; the file grows to cover what was written.
 *
 * Context: any thread.
 * Return: bytes written (0 for @len 0); -EINVAL (NULL @p, negative @off),
 * -ESRCH, -EBADF (bad @fd, not open for writing), -EFAULT (NULL @buf),
 * -EFBIG, -ENOSPC.
 */
long pinmm_pwrite(struct pinmm_proc *p, int fd, const void *buf, size_t len, long off)
{
	return file_rw(p, fd, (void *)buf, len, off, true);
}

/**
 * pinmm_ftruncate() - set the size of a file.
 * @p: the process.
 * @fd: a descriptor open for writing.
 * @len: the new size; pages beyond it are dropped and unmapped, a partial
 *	last page is zeroed past @len.
 *
 * Context: any thread.
 * Return: 0; -EINVAL (NULL @p, negative @len, @fd not open for writing),
 * -ESRCH, -EBADF, -EFBIG.
 */
int pinmm_ftruncate(struct pinmm_proc *p, int fd, long len)
{
	struct file *file;
	struct inode *inode;
	int err;

	pinmm_thread_enter();
	err = proc_check(p);
	if (err)
		return err;
	if (len < 0)
		return -EINVAL;
	file = fget(p, fd);
	if (!file)
		return -EBADF;
	inode = file->f_inode;
	if (!file_writable(file) || !inode->i_op || !inode->i_op->setsize) {
		err = -EINVAL;
	} else {
		down_write(&inode->i_rwsem);
		err = inode->i_op->setsize(inode, len);
		up_write(&inode->i_rwsem);
	}
	fput(file);
	pinmm_debug_boundary(p->machine);
	return err;
}

/**
 * pinmm_fallocate() - allocate or punch out file space.
 * @p: the process.
 * @fd: a descriptor open for writing.
 * @mode: 0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE,
 *	FALLOC_FL_COLLAPSE_RANGE or FALLOC_FL_INSERT_RANGE (pinfs).
 * @off: first byte.
 * @len: bytes (> 0).
 *
 * Context: any thread.
 * Return: 0; -EINVAL (NULL @p, negative @off, @len <= 0), -ESRCH, -EBADF
 * (bad @fd, not open for writing), -EFBIG, -EOPNOTSUPP (other modes),
 * -ENOSPC, and the filesystem's (pinmm_fallocate() in <pinmm/pinmm.h>).
 */
int pinmm_fallocate(struct pinmm_proc *p, int fd, int mode, long off, long len)
{
	struct file *file;
	struct inode *inode;
	int err;

	pinmm_thread_enter();
	err = proc_check(p);
	if (err)
		return err;
	if (off < 0 || len <= 0)
		return -EINVAL;
	file = fget(p, fd);
	if (!file)
		return -EBADF;
	inode = file->f_inode;
	if (!file_writable(file)) {
		err = -EBADF;
	} else if (off > MAX_LFS_FILESIZE || len > MAX_LFS_FILESIZE - off) {
		err = -EFBIG;
	} else if (!inode->i_op || !inode->i_op->fallocate) {
		err = -EOPNOTSUPP;
	} else {
		down_write(&inode->i_rwsem);
		err = inode->i_op->fallocate(inode, mode, off, len);
		up_write(&inode->i_rwsem);
	}
	fput(file);
	pinmm_debug_boundary(p->machine);
	return err;
}

/**
 * pinmm_fsync() - write a file's dirty pages back (nothing to do on tmpfs).
 * @p: the process.
 * @fd: the descriptor.
 *
 * Context: any thread.
 * Return: 0; -EINVAL (NULL @p), -ESRCH, -EBADF, -EIO.
 */
int pinmm_fsync(struct pinmm_proc *p, int fd)
{
	struct file *file = proc_fget(p, fd);
	struct inode *inode;
	int err = 0;

	if (IS_ERR(file))
		return (int)PTR_ERR(file);
	inode = file->f_inode;
	if (inode->i_op && inode->i_op->fsync)
		err = inode->i_op->fsync(inode);
	/* a writeback error since this file last looked, once per open file */
	err = file_check_and_advance_wb_err(file) ?: err;
	fput(file);
	return err;
}

/**
 * pinmm_find_get_page() - a reference on the cached page of a file offset.
 * @p: the process.
 * @fd: the descriptor.
 * @index: page offset in the file.
 * @pagep: set to the page on success.
 *
 * Context: any thread.
 * Return: 0; -ENOENT (not cached), -EINVAL, -ESRCH, -EBADF.
 */
int pinmm_find_get_page(struct pinmm_proc *p, int fd, unsigned long index,
			struct page **pagep)
{
	struct file *file;
	struct folio *folio;

	if (!pagep)
		return -EINVAL;
	file = proc_fget(p, fd);
	if (IS_ERR(file))
		return (int)PTR_ERR(file);
	folio = filemap_get_folio(file->f_mapping, (pgoff_t)index);
	fput(file);
	if (!folio)
		return -ENOENT;
	*pagep = folio_page(folio, index - folio->index);
	return 0;
}

/**
 * pinmm_unlink() - remove a name from a tmpfs directory.
 * @p: the process.
 * @path: absolute path.
 *
 * Open descriptors and mappings of the file keep working.
 *
 * Context: any thread.
 * Return: 0; -EINVAL (NULL @p), -ESRCH, -EFAULT (NULL @path), -ENOENT,
 * -EISDIR, -ENAMETOOLONG.
 */
int pinmm_unlink(struct pinmm_proc *p, const char *path)
{
	int err;

	pinmm_thread_enter();
	err = proc_check(p);
	if (err)
		return err;
	err = path_check(path);
	if (err)
		return err;
	return vfs_unlink(p->machine, path);
}

/**
 * pinmm_fstat_size() - the current size of the file behind @fd.
 * @p: the process.
 * @fd: the descriptor.
 *
 * Context: any thread.
 * Return: the size in bytes; -EINVAL (NULL @p), -ESRCH, -EBADF.
 */
long pinmm_fstat_size(struct pinmm_proc *p, int fd)
{
	struct file *file = proc_fget(p, fd);
	long size;

	if (IS_ERR(file))
		return PTR_ERR(file);
	size = (long)READ_ONCE(file->f_inode->i_size);
	fput(file);
	return size;
}

/**
 * pinmm_fstatfs() - fstatfs(2): the filesystem of the file behind @fd.
 * @p: the process.
 * @fd: the descriptor.
 * @buf: the result (vfs_statfs()).
 *
 * Context: any thread.
 * Return: 0; -EINVAL (NULL @p), -ESRCH, -EBADF, -EFAULT (NULL @buf).
 */
int pinmm_fstatfs(struct pinmm_proc *p, int fd, struct pinmm_statfs *buf)
{
	struct file *file = proc_fget(p, fd);

	if (IS_ERR(file))
		return (int)PTR_ERR(file);
	if (!buf) {
		fput(file);
		return -EFAULT;
	}
	vfs_statfs(file->f_inode->i_sb, buf);
	fput(file);
	return 0;
}
