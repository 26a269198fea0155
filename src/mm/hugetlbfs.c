/* SPDX-License-Identifier: MIT */
/*
 * hugetlbfs.c - files whose page cache holds hugetlb folios: the mounts
 * /dev/hugepages/ (2 MiB pages, where distributions mount it) and
 * /dev/hugepages1G/ (1 GiB), one internal mount per size for unlinked
 * files (MAP_HUGETLB mappings and memfd_create(MFD_HUGETLB), Linux's
 * hugetlbfs_vfsmount[]), truncation and hole punch.
 *
 * It lives in mm/ beside tmpfs (shmem.c) because mmap() must create the
 * file behind a MAP_HUGETLB mapping and mm may not call fs/ (the layer
 * rule); fs/vfs.c mounts the named instances.
 *
 * As Linux's hugetlbfs: no write() (-EINVAL; data enters through mappings),
 * read() works, sizes and offsets of mmap/ftruncate are in huge pages, the
 * page cache is indexed in base pages (every index of a folio points to
 * it).  Directory and lifetime rules are those of shmem.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hugetlb.h"
#include "init.h"
#include "pagemap.h"

struct hugetlbfs_inode_info {
	struct hstate *h;
	struct resv_map *resv_map;	/* shared reservations of the file */
};

static const struct super_operations hugetlbfs_sops;
static const struct inode_operations hugetlbfs_inode_ops;
static const struct file_operations hugetlbfs_file_ops;
static const struct address_space_operations hugetlbfs_aops;
static const struct vm_operations_struct hugetlb_vm_ops;

static struct hugetlbfs_inode_info *HUGETLBFS_I(const struct inode *inode)
{
	return inode->i_private;
}

/**
 * hstate_inode() - the huge page size of a hugetlbfs file.
 * @inode: a hugetlbfs inode.
 *
 * Context: any.
 * Return: its hstate.
 */
struct hstate *hstate_inode(const struct inode *inode)
{
	return HUGETLBFS_I(inode)->h;
}

/**
 * inode_resv_map() - the shared reservation map of a hugetlbfs file.
 * @inode: a hugetlbfs inode.
 *
 * Context: any.
 * Return: the map.
 */
struct resv_map *inode_resv_map(const struct inode *inode)
{
	return HUGETLBFS_I(inode)->resv_map;
}

/**
 * is_file_hugepages() - is @file a hugetlbfs file?
 * @file: an open file.
 *
 * Context: any.
 * Return: true if so.
 */
bool is_file_hugepages(const struct file *file)
{
	return file && file->f_op == &hugetlbfs_file_ops;
}

/* ------------------------------------------------------------------ */
/* Inodes                                                              */

/* A new inode of @sb; s_lock held. */
static struct inode *hugetlbfs_new_inode(struct super_block *sb, const char *name,
					 unsigned int mode, bool linked)
{
	struct hugetlbfs_inode_info *info = kzalloc(sizeof(*info));
	struct inode *inode = kzalloc(sizeof(*inode));

	lockdep_assert_held(&sb->s_lock);
	if (info) {
		info->h = sb->s_fs_info;
		info->resv_map = resv_map_alloc(info->h);
	}
	if (!info || !info->resv_map || !inode) {
		if (info)
			resv_map_put(info->resv_map);
		free(info);
		free(inode);
		return ERR_PTR(-ENOMEM);
	}
	inode_init(inode, sb, mode);
	inode->i_op = &hugetlbfs_inode_ops;
	inode->i_fop = &hugetlbfs_file_ops;
	inode->i_mapping->a_ops = &hugetlbfs_aops;
	set_bit(AS_UNEVICTABLE, &inode->i_mapping->flags);
	inode->i_private = info;
	snprintf(inode->name, sizeof(inode->name), "%s", name);
	if (linked) {
		inode->i_nlink = 1;
		iget(inode);	/* the directory entry's */
	}
	list_add_tail(&inode->i_sb_list, &sb->s_inodes);
	return inode;
}

static struct inode *hugetlbfs_lookup(struct super_block *sb, const char *name,
				      int flags, unsigned int mode)
{
	return simple_dir_lookup(sb, name, flags, mode, hugetlbfs_new_inode);
}

/*
 * Linux's remove_inode_hugepages(): drop the page-cache folios of huge
 * pages [start, end) (already unmapped), each under its fault mutex.  A
 * pinned folio leaves the cache and goes back to the pool at its last
 * unpin.  Truncation gives back every reservation of the range that no
 * page consumed; a hole punch only the covered indices it removes a page
 * from (as Linux).
 */
static void remove_inode_hugepages(struct inode *inode, pgoff_t start, pgoff_t end,
				   bool truncate_op)
{
	struct address_space *mapping = inode->i_mapping;
	struct hstate *h = hstate_inode(inode);
	struct pinmm *m = inode->i_sb->machine;
	unsigned long nr = pages_per_huge_page(h);
	pgoff_t last = end > (~0UL >> h->order) ? ~0UL : (end << h->order) - 1;
	pgoff_t next = start > (~0UL >> h->order) ? ~0UL : start << h->order;
	long freed = 0;

	while (start < end && next <= last) {
		struct folio *folio;
		struct mutex *fm;
		pgoff_t idx, found = next;

		spin_lock(&mapping->i_pages_lock);
		folio = page_index_next(&mapping->i_pages, &found, last);
		spin_unlock(&mapping->i_pages_lock);
		if (!folio)
			break;
		idx = found >> h->order;
		next = (idx + 1) << h->order;
		fm = hugetlb_fault_mutex(m, mapping, idx);
		mutex_lock(fm);
		folio = hugetlbfs_pagecache_get(mapping, h, idx);
		if (folio) {
			/* A fault may have mapped it again: unmap it there too. */
			if (folio_mapped(folio))
				unmap_mapping_range(mapping, (long long)idx << (PAGE_SHIFT + h->order),
						    (long long)huge_page_size(h), true);
			spin_lock(&mapping->i_pages_lock);
			for (unsigned long i = 0; i < nr; i++)
				page_index_delete(&mapping->i_pages, folio->index + i);
			mapping->nrpages -= nr;
			spin_unlock(&mapping->i_pages_lock);
			WRITE_ONCE(folio->mapping, NULL);
			freed++;
			if (!truncate_op)
				hugetlb_unreserve_pages(inode, idx, idx + 1, 1);
			folio_put(folio);	/* the page cache's */
			folio_put(folio);	/* ours */
		}
		mutex_unlock(fm);
		if (!next)
			break;		/* wrapped */
	}
	if (truncate_op)
		hugetlb_unreserve_pages(inode, start, end, freed);
}

static void hugetlbfs_evict_inode(struct inode *inode)
{
	struct super_block *sb = inode->i_sb;
	struct hugetlbfs_inode_info *info = HUGETLBFS_I(inode);

	VM_BUG_ON(atomic_read(&inode->i_count));
	remove_inode_hugepages(inode, 0, ~0UL, true);
	VM_BUG_ON(inode->i_mapping->nrpages);
	mutex_lock(&sb->s_lock);
	list_del(&inode->i_sb_list);
	mutex_unlock(&sb->s_lock);
	resv_map_put(info->resv_map);
	free(info);
	address_space_destroy(&inode->i_data);
	destroy_rwsem(&inode->i_rwsem);
	free(inode);
}

static int hugetlbfs_put_super(struct super_block *sb)
{
	simple_dir_kill(sb, hugetlbfs_evict_inode);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Page cache                                                          */

/**
 * hugetlbfs_pagecache_get() - the cached folio of huge page @idx.
 * @mapping: a hugetlbfs file's page cache.
 * @h: its hstate.
 * @idx: huge page index.
 *
 * Context: any; takes i_pages_lock.
 * Return: the folio with a reference, or NULL.
 */
struct folio *hugetlbfs_pagecache_get(struct address_space *mapping, struct hstate *h,
				      pgoff_t idx)
{
	return filemap_get_folio(mapping, idx << h->order);
}

/**
 * hugetlb_add_to_page_cache() - enter a new hugetlb folio at huge page @idx.
 * @folio: a folio from alloc_hugetlb_folio_file().
 * @mapping: the file's page cache.
 * @idx: huge page index.
 *
 * The cache holds one reference.  Hugetlb pages are not counted in
 * nr_file_pages (as Linux).
 * Context: the fault mutex of @idx held; takes i_pages_lock.
 * Return: 0, -EEXIST, -ENOMEM.
 */
int hugetlb_add_to_page_cache(struct folio *folio, struct address_space *mapping, pgoff_t idx)
{
	unsigned long nr = folio_nr_pages(folio);
	int err;

	folio_get(folio);
	folio->index = idx * nr;
	WRITE_ONCE(folio->mapping, mapping);
	spin_lock(&mapping->i_pages_lock);
	err = page_index_insert(&mapping->i_pages, folio->index, nr, folio);
	if (!err)
		mapping->nrpages += nr;
	spin_unlock(&mapping->i_pages_lock);
	if (err) {
		WRITE_ONCE(folio->mapping, NULL);
		folio_put(folio);
	}
	return err;
}

/* ------------------------------------------------------------------ */
/* Size changes, fallocate, read                                       */

static int hugetlbfs_setsize(struct inode *inode, long long size)
{
	struct hstate *h = hstate_inode(inode);
	long long old = inode->i_size;

	VM_BUG_ON(!rwsem_is_write_locked_by_me(&inode->i_rwsem));
	if (size < 0 || (size & ~(long long)huge_page_mask(h)))
		return -EINVAL;
	if (size > MAX_LFS_FILESIZE)
		return -EFBIG;
	WRITE_ONCE(inode->i_size, size);
	if (size < old) {
		/*
		 * A fault that read the old size before the store above may
		 * still be allocating under its fault mutex, having seen a
		 * reservation bit the truncation is about to give back, or a
		 * page the loop below is about to miss.  Wait for all of them
		 * (the role of Linux's hugetlb vma lock, taken for writing by
		 * hugetlb_vmdelete_list()); later faults see the new size.
		 */
		hugetlb_fault_mutex_barrier(inode->i_sb->machine);
		/* Linux's hugetlb_vmtruncate(): private COW copies go too. */
		unmap_mapping_range(inode->i_mapping, size, old - size, true);
		remove_inode_hugepages(inode, (pgoff_t)size / huge_page_size(h), ~0UL, true);
	}
	return 0;
}

static int hugetlbfs_punch_hole(struct inode *inode, long long off, long long len)
{
	struct hstate *h = hstate_inode(inode);
	long long hsz = (long long)huge_page_size(h);
	long long hole_start = ALIGN(off, hsz), hole_end = ALIGN_DOWN(off + len, hsz);
	struct address_space *mapping = inode->i_mapping;

	/* Partial huge pages at either end keep their page, zeroed in part. */
	for (int end = 0; end < 2; end++) {
		long long s = end ? max(hole_end, off) : off;
		long long e = end ? off + len : min(hole_start, off + len);
		struct folio *folio;

		if (s >= e || (end && s < hole_start))
			continue;
		folio = hugetlbfs_pagecache_get(mapping, h, (pgoff_t)(s / hsz));
		if (folio) {
			memset((char *)pfn_to_virt(inode->i_sb->machine, folio_pfn(folio)) +
			       (s & (hsz - 1)), 0, (size_t)(e - s));
			folio_put(folio);
		}
	}
	if (hole_start < hole_end) {
		unmap_mapping_range(mapping, hole_start, hole_end - hole_start, true);
		remove_inode_hugepages(inode, (pgoff_t)(hole_start / hsz),
				       (pgoff_t)(hole_end / hsz), false);
	}
	return 0;
}

static int hugetlbfs_fallocate(struct inode *inode, int mode, long long off, long long len)
{
	struct hstate *h = hstate_inode(inode);
	struct pinmm *m = inode->i_sb->machine;
	struct address_space *mapping = inode->i_mapping;
	long long hsz = (long long)huge_page_size(h);
	pgoff_t start, end;

	VM_BUG_ON(!rwsem_is_write_locked_by_me(&inode->i_rwsem));
	if (off < 0 || len <= 0)
		return -EINVAL;
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
		return -EOPNOTSUPP;
	if (off > MAX_LFS_FILESIZE || len > MAX_LFS_FILESIZE - off)
		return -EFBIG;
	if (mode & FALLOC_FL_PUNCH_HOLE) {
		if (!(mode & FALLOC_FL_KEEP_SIZE))
			return -EOPNOTSUPP;
		return hugetlbfs_punch_hole(inode, off, len);
	}
	start = (pgoff_t)(off / hsz);
	end = (pgoff_t)((off + len + hsz - 1) / hsz);
	for (pgoff_t idx = start; idx < end; idx++) {
		struct mutex *fm = hugetlb_fault_mutex(m, mapping, idx);
		struct folio *folio;
		int err = 0;

		mutex_lock(fm);
		folio = hugetlbfs_pagecache_get(mapping, h, idx);
		if (!folio) {
			folio = alloc_hugetlb_folio_file(inode, idx);
			if (IS_ERR(folio)) {
				err = -ENOSPC;
			} else {
				memset(pfn_to_virt(m, folio_pfn(folio)), 0, (size_t)hsz);
				folio->private = NULL;
				err = hugetlb_add_to_page_cache(folio, mapping, idx);
			}
		}
		mutex_unlock(fm);
		if (err)
			return err;
		folio_put(folio);
	}
	if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > inode->i_size)
		WRITE_ONCE(inode->i_size, off + len);
	return 0;
}

static int hugetlbfs_fsync(struct inode *inode)
{
	return 0;
}

static long hugetlbfs_read(struct file *file, void *buf, size_t len, long long off)
{
	struct inode *inode = file->f_inode;
	struct hstate *h = hstate_inode(inode);
	long long size = READ_ONCE(inode->i_size), hsz = (long long)huge_page_size(h);
	size_t done = 0;

	if (off < 0)
		return -EINVAL;
	while (done < len && off + (long long)done < size) {
		long long pos = off + (long long)done;
		size_t n = (size_t)min(hsz - (pos & (hsz - 1)), size - pos);
		struct folio *folio;

		n = min(n, len - done);
		folio = hugetlbfs_pagecache_get(inode->i_mapping, h, (pgoff_t)(pos / hsz));
		if (folio) {
			memcpy((char *)buf + done, (char *)pfn_to_virt(inode->i_sb->machine,
					folio_pfn(folio)) + (pos & (hsz - 1)), n);
			folio_put(folio);
		} else {
			memset((char *)buf + done, 0, n);
		}
		done += n;
	}
	return (long)done;
}

static long hugetlbfs_write(struct file *file, const void *buf, size_t len, long long off)
{
	return -EINVAL;		/* Linux's hugetlbfs has no write_iter */
}

/* ------------------------------------------------------------------ */
/* Mappings                                                            */

/*
 * Linux's hugetlbfs_file_mmap(): a huge-page aligned offset, the VMA
 * becomes VM_HUGETLB, its huge pages are reserved (-ENOMEM when the pool
 * cannot cover them, unless MAP_NORESERVE), and a writable mapping
 * extends the file.  The length was rounded up by mmap().
 */
static int hugetlbfs_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct inode *inode = file->f_inode;
	struct hstate *h = hstate_inode(inode);
	unsigned long len = vma->vm_end - vma->vm_start;
	long long end;
	long err;

	if (vma->vm_pgoff & (pages_per_huge_page(h) - 1))
		return -EINVAL;
	if ((len & ~huge_page_mask(h)) || (vma->vm_start & ~huge_page_mask(h)))
		return -EINVAL;
	end = (long long)len + ((long long)vma->vm_pgoff << PAGE_SHIFT);
	if (end > MAX_LFS_FILESIZE)
		return -EOVERFLOW;
	vma->vm_flags |= VM_HUGETLB | VM_DONTEXPAND;
	vma->vm_ops = &hugetlb_vm_ops;
	err = hugetlb_reserve_pages(inode, vma->vm_pgoff >> h->order,
				    (vma->vm_pgoff + (len >> PAGE_SHIFT)) >> h->order,
				    vma, vma->vm_flags);
	if (err)
		return (int)err;
	if ((vma->vm_flags & VM_WRITE) && READ_ONCE(inode->i_size) < end)
		WRITE_ONCE(inode->i_size, end);
	return 0;
}

static vm_fault_t hugetlb_vm_op_fault(struct vm_fault *vmf)
{
	/* handle_mm_fault() sends hugetlb VMAs to hugetlb_fault(). */
	WARN_ON_ONCE(1);
	return VM_FAULT_SIGBUS;
}

static const struct super_operations hugetlbfs_sops = {
	.lookup = hugetlbfs_lookup,
	.unlink = simple_dir_unlink,
	.evict_inode = hugetlbfs_evict_inode,
	.put_super = hugetlbfs_put_super,
};

static const struct inode_operations hugetlbfs_inode_ops = {
	.setsize = hugetlbfs_setsize,
	.fallocate = hugetlbfs_fallocate,
	.fsync = hugetlbfs_fsync,
};

static const struct file_operations hugetlbfs_file_ops = {
	.read = hugetlbfs_read,
	.write = hugetlbfs_write,
	.mmap = hugetlbfs_file_mmap,
};

static const struct address_space_operations hugetlbfs_aops = {
	.dirty_folio = NULL,
};

static const struct vm_operations_struct hugetlb_vm_ops = {
	.name = "hugetlb",
	.fault = hugetlb_vm_op_fault,
	.open = hugetlb_vm_op_open,
	.close = hugetlb_vm_op_close,
};

/* ------------------------------------------------------------------ */
/* Super blocks, unlinked files                                        */

/**
 * hugetlbfs_fill_super() - a new, empty hugetlbfs of page size @h.
 * @m: the machine.
 * @prefix: its place in the namespace ("/dev/hugepages/"), or "" for an
 *	internal mount.
 * @h: the page size of its files.
 *
 * Context: boot.
 * Return: the super block, or ERR_PTR(-ENOMEM / -ENAMETOOLONG / -ENODEV
 * when the machine has no hugetlb state).
 */
struct super_block *hugetlbfs_fill_super(struct pinmm *m, const char *prefix,
					 struct hstate *h)
{
	struct super_block *sb;

	if (!h)
		return ERR_PTR(-ENODEV);
	if (strlen(prefix) >= sizeof(sb->prefix))
		return ERR_PTR(-ENAMETOOLONG);
	sb = kzalloc(sizeof(*sb));
	if (!sb)
		return ERR_PTR(-ENOMEM);
	sb->machine = m;
	sb->fs_name = "hugetlbfs";
	sb->s_magic = PINMM_HUGETLBFS_MAGIC;
	snprintf(sb->prefix, sizeof(sb->prefix), "%s", prefix);
	sb->s_op = &hugetlbfs_sops;
	sb->s_fs_info = h;
	mutex_init(&sb->s_lock);
	INIT_LIST_HEAD(&sb->s_inodes);
	sb->next_ino = 1;
	INIT_LIST_HEAD(&sb->s_list);
	return sb;
}

/**
 * hugetlb_file_setup() - an open, unlinked hugetlbfs file of @size bytes
 * with pages of @h (Linux's hugetlb_file_setup() with VM_NORESERVE: the
 * reservation is made when it is mapped).
 * @m: the machine.
 * @name: for debugging ("anon_hugepage", "memfd:x").
 * @size: initial size.
 * @h: the page size.
 *
 * Context: may sleep.
 * Return: the file (one reference), or ERR_PTR(-ENOMEM, -EINVAL).
 */
struct file *hugetlb_file_setup(struct pinmm *m, const char *name, long long size,
				struct hstate *h)
{
	struct super_block *sb = h ? h->internal_mnt : NULL;
	struct inode *inode;
	struct file *file;

	if (!sb || size < 0 || size > MAX_LFS_FILESIZE)
		return ERR_PTR(-EINVAL);
	mutex_lock(&sb->s_lock);
	inode = hugetlbfs_new_inode(sb, name, 0600, false);
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
 * hugetlb_memfd_create() - memfd_create() with MFD_HUGETLB.
 * @m: the machine.
 * @name: the user's name; the inode is "memfd:<name>".
 * @flags: MFD_HUGETLB, MFD_CLOEXEC, MFD_ALLOW_SEALING and MFD_HUGE_* size
 *	bits (none: 2 MiB).
 *
 * Context: may sleep.
 * Return: an empty file opened O_RDWR, or ERR_PTR(-EFAULT) for a NULL
 * name, -EINVAL for unknown flags or a long name, -ENODEV for a page size
 * the machine has not (Linux's answer from hugetlb_file_setup()), -ENOMEM.
 */
struct file *hugetlb_memfd_create(struct pinmm *m, const char *name, unsigned int flags)
{
	unsigned int known = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB |
			     ((unsigned int)MFD_HUGE_MASK << MFD_HUGE_SHIFT);
	struct hstate *h;
	struct file *file;
	char full[256];
	int err;

	if (!name)
		return ERR_PTR(-EFAULT);
	if (flags & ~known)
		return ERR_PTR(-EINVAL);
	if (strlen(name) > sizeof(full) - 1 - strlen("memfd:"))
		return ERR_PTR(-EINVAL);
	h = hstate_from_flags(m, flags, &err);
	if (!h)
		return ERR_PTR(-ENODEV);
	snprintf(full, sizeof(full), "memfd:%s", name);
	file = hugetlb_file_setup(m, full, 0, h);
	if (!IS_ERR(file) && (flags & MFD_CLOEXEC))
		file->f_flags |= O_CLOEXEC;
	return file;
}

/* Initcall "hugetlbfs": the internal mount of each page size. */
static int hugetlbfs_init(struct pinmm *m)
{
	for (int i = 0; i < HUGE_MAX_HSTATE; i++) {
		struct hstate *h = &m->hugetlb->hstates[i];
		struct super_block *sb = hugetlbfs_fill_super(m, "", h);

		if (IS_ERR(sb)) {
			while (--i >= 0) {
				hugetlbfs_put_super(m->hugetlb->hstates[i].internal_mnt);
				m->hugetlb->hstates[i].internal_mnt = NULL;
			}
			return (int)PTR_ERR(sb);
		}
		h->internal_mnt = sb;
	}
	return 0;
}

static int hugetlbfs_exit(struct pinmm *m)
{
	for (int i = 0; m->hugetlb && i < HUGE_MAX_HSTATE; i++) {
		struct hstate *h = &m->hugetlb->hstates[i];

		if (h->internal_mnt)
			hugetlbfs_put_super(h->internal_mnt);
		h->internal_mnt = NULL;
	}
	return 0;
}

pinmm_initcall(hugetlbfs, INITCALL_MM(11), hugetlbfs_init, NULL, hugetlbfs_exit);
