/* SPDX-License-Identifier: MIT */
/*
 * pagemap.h - the page cache as mm/ provides it to the VFS and the
 * filesystems: the index of an address space (mm/page_index.c), folios of
 * a file (mm/filemap.c), the generic read/write copy paths
 * (mm/read_write.c) and tmpfs (mm/shmem.c).  Linux keeps these in mm/ and
 * <linux/pagemap.h> too; the structures they work on (address_space,
 * inode, file) are the VFS objects of fs.h.
 */
#ifndef PINMM_PAGEMAP_H
#define PINMM_PAGEMAP_H

#include "fs.h"

/* page_index.c: the radix tree behind mapping->i_pages (i_pages_lock held) */
void page_index_init(struct page_index *pi);
void *page_index_lookup(struct page_index *pi, pgoff_t index);
/* The same without the lock, under rcu_read_lock() (filemap_get_folio()). */
void *page_index_load(struct page_index *pi, pgoff_t index);
/* Enter @item at [index, index + nr): 0, -EEXIST, -ENOMEM (all or nothing). */
int page_index_insert(struct page_index *pi, pgoff_t index, unsigned long nr, void *item);
void *page_index_replace(struct page_index *pi, pgoff_t index, void *item);
void *page_index_delete(struct page_index *pi, pgoff_t index);
/* First item in [*index, last]; *index is set to its offset. */
void *page_index_next(struct page_index *pi, pgoff_t *index, pgoff_t last);
void page_index_destroy(struct page_index *pi);
bool page_index_empty(const struct page_index *pi);

/* filemap.c: the page cache */
/* Referenced folio at @index, or NULL: lockless (RCU + speculative reference). */
struct folio *filemap_get_folio(struct address_space *mapping, pgoff_t index);
/* Insert a locked folio; -EEXIST if taken. Takes one reference per page (Linux). */
int filemap_add_folio(struct address_space *mapping, struct folio *folio, pgoff_t index);
/* Remove a locked folio from the cache and drop the cache's references. */
void filemap_remove_folio(struct folio *folio);
/* Unmap and drop the cache over bytes [lstart, lend] (lend -1: to the end). */
void truncate_inode_pages_range(struct address_space *mapping, long long lstart,
				long long lend);
/* Number of cached folios in [start, end] (page offsets). */
unsigned long filemap_count(struct address_space *mapping, pgoff_t start, pgoff_t end);
void address_space_init(struct address_space *mapping, struct inode *host);
/* Call @fn for each folio in the cache of @mapping (i_pages_lock held). */
void filemap_for_each(struct address_space *mapping,
		      void (*fn)(struct folio *folio, pgoff_t index, void *arg), void *arg);
/* Generic page-cache fault handler for ->fault. */
vm_fault_t filemap_fault(struct vm_fault *vmf);
#define FGP_LOCK	0x1u	/* return the folio locked */
#define FGP_CREAT	0x2u	/* create it (order 0) when not cached */
struct folio *__filemap_get_folio(struct address_space *mapping, pgoff_t index,
				  unsigned int fgp_flags, gfp_t gfp);
void address_space_destroy(struct address_space *mapping);
/* The default ->dirty_folio: PG_dirty plus NR_DIRTY / nr_dirty, once. */
bool filemap_dirty_folio(struct address_space *mapping, struct folio *folio);
bool folio_clear_dirty_for_io(struct folio *folio);
/* split_folio() of a cached folio, i_pages_lock held: repoint each offset. */
void filemap_split_folio_entries(struct address_space *mapping, struct folio *folio,
				 unsigned long old_nr);
int filemap_read_folio(struct file *file, struct address_space *mapping,
		       struct folio *folio);	/* locked folio -> uptodate */
/* Byte offset of the folio's first page in its file. */
static inline long long folio_pos(const struct folio *folio)
{
	return (long long)folio->index << PAGE_SHIFT;
}
/* Allocation flags for new page-cache folios of @mapping. */
static inline gfp_t mapping_gfp_mask(const struct address_space *mapping)
{
	return GFP_HIGHUSER_MOVABLE | (test_bit(AS_SHMEM, &mapping->flags) ? __GFP_ZERO : 0);
}

/* read_write.c: ->read / ->write of page-cache filesystems (host buffers). */
long generic_file_read(struct file *file, void *buf, size_t len, long long off);
long generic_file_write(struct file *file, const void *buf, size_t len, long long off);

/* shmem.c: tmpfs, memfd and shared anonymous memory */
/* A filesystem's inode constructor for simple_dir_lookup(); s_lock held. */
typedef struct inode *(*simple_new_inode_t)(struct super_block *sb, const char *name,
					    unsigned int mode, bool linked);
struct inode *simple_dir_lookup(struct super_block *sb, const char *name, int flags,
				unsigned int mode, simple_new_inode_t new_inode);
int simple_dir_unlink(struct super_block *sb, const char *name);
void simple_dir_kill(struct super_block *sb, void (*evict)(struct inode *inode));
struct super_block *shmem_fill_super(struct pinmm *m, const char *prefix);
int shmem_zero_setup(struct vm_area_struct *vma);	/* MAP_SHARED|MAP_ANONYMOUS */
struct file *shmem_file_setup(struct pinmm *m, const char *name, long long size);
bool shmem_mapping(const struct address_space *mapping);
/* memfd_create(): unlinked "memfd:<name>"; flags MFD_CLOEXEC|MFD_ALLOW_SEALING. */
struct file *memfd_file_create(struct pinmm *m, const char *name, unsigned int flags);

#endif /* PINMM_PAGEMAP_H */
