/* SPDX-License-Identifier: MIT */
/*
 * anon_inodes.c - files that belong to no filesystem namespace: the
 * descriptors through which drivers hand objects to a process (an
 * io_uring ring, an RDMA protection domain, the gup_test file), as Linux's
 * anon_inode_getfile().  Each file gets its own inode, freed with the
 * file's last reference; the driver's ->release tears its object down.
 * Such files cannot be mmap()ed (no ->mmap: -ENODEV).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "fs.h"
#include "rcu.h"

static void anon_inode_evict(struct inode *inode)
{
	free(inode);
}

static const struct super_operations anon_inode_sops = {
	.evict_inode = anon_inode_evict,
};

static struct super_block anon_inode_sb = {
	.fs_name = "anon_inodefs",
	.s_magic = PINMM_ANON_INODE_FS_MAGIC,
	.prefix = "anon_inode:",
	.s_op = &anon_inode_sops,
};

/**
 * anon_inode_getfile() - a new anonymous file.
 * @name: shown as the inode's name ("[io_uring]").
 * @fops: the driver's operations; ->release frees @priv.
 * @priv: stored in file->private_data.
 * @flags: O_* access mode.
 *
 * Context: any.
 * Return: the file with one reference, or NULL when out of memory.
 */
struct file *anon_inode_getfile(const char *name, const struct file_operations *fops,
				void *priv, int flags)
{
	struct inode *inode = kzalloc(sizeof(*inode));
	struct file *file;

	if (!inode)
		return NULL;
	inode->i_mode = S_IFREG | 0600;
	inode->i_nlink = 1;
	atomic_set(&inode->i_count, 1);
	inode->i_sb = &anon_inode_sb;
	inode->i_fop = fops;
	snprintf(inode->name, sizeof(inode->name), "%s", name);
	file = file_alloc(inode, flags);
	if (!file) {
		free(inode);
		return NULL;
	}
	file->private_data = priv;
	return file;
}

/**
 * anon_inode_fget() - the anonymous file of type @fops behind @fd of @p.
 * Context: any thread.
 * Return: the file, referenced; ERR_PTR(-EINVAL) for a NULL process,
 * -ESRCH after its exit, -EBADF when @fd is not such a file.
 */
struct file *anon_inode_fget(struct pinmm_proc *p, int fd, const struct file_operations *fops)
{
	struct file *file;

	pinmm_thread_enter();
	if (!p)
		return ERR_PTR(-EINVAL);
	if (READ_ONCE(p->exited))
		return ERR_PTR(-ESRCH);
	file = fget(p, fd);
	if (!file)
		return ERR_PTR(-EBADF);
	if (file->f_op != fops) {
		fput(file);
		return ERR_PTR(-EBADF);
	}
	return file;
}
