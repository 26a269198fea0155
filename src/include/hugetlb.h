/* SPDX-License-Identifier: MIT */
/*
 * hugetlb.h - hugetlb pages: the per-size pools (struct hstate), their
 * reservations (struct resv_map), hugetlbfs files and the page-table work
 * on hugetlb VMAs (mm/hugetlb.c, mm/hugetlb_resv.c, mm/hugetlb_fault.c,
 * mm/hugetlbfs.c).
 *
 * A hugetlb folio is a 2 MiB or 1 GiB compound folio with PG_hugetlb on
 * its head.  It is taken from the buddy allocator at boot into its size's
 * pool and never goes back while the machine runs: the final folio_put()
 * of an in-use folio returns it to the pool's free list (free_huge_folio).
 * A free pool folio has refcount 0, so a GUP-fast walker that still sees
 * an old entry cannot grab it (try_get fails on 0).
 *
 * Mappings: a 2 MiB page is mapped by one PMD leaf, a 1 GiB page by one
 * PUD leaf; neither is ever split and neither has a deposited PTE table.
 * Entries are handled as pte_t through huge_pte_offset() (Linux's
 * convention).  A 2 MiB entry is protected by the split PMD lock of its
 * PMD table, a 1 GiB entry by mm->page_table_lock (huge_pte_lockptr()).
 *
 * Lock order (doc/LOCKING.md): inode i_rwsem > mmap_lock > hugetlb fault
 * mutex of (mapping, index) > mapping->i_mmap_rwsem > page-table lock >
 * resv_map->lock > hugetlb_lock.  hugetlb_lock protects the pool lists and
 * counters of every hstate; resv_map->lock protects one map.
 */
#ifndef PINMM_HUGETLB_H
#define PINMM_HUGETLB_H

#include "fs.h"
#include "pgtable.h"

enum { HSTATE_2M, HSTATE_1G, HUGE_MAX_HSTATE };

/*
 * struct hstate - one huge page size and its pool.
 * Counters and @hugepage_freelist under pools->hugetlb_lock.
 */
struct hstate {
	unsigned int order;			/* HPAGE_PMD_ORDER or HPAGE_PUD_ORDER */
	const char *name;			/* "2048kB", "1048576kB" */
	struct list_head hugepage_freelist;	/* free folios, by folio->lru */
	unsigned long nr_huge_pages;		/* HugePages_Total */
	unsigned long free_huge_pages;		/* HugePages_Free */
	unsigned long resv_huge_pages;		/* HugePages_Rsvd */
	unsigned long surplus_huge_pages;	/* HugePages_Surp: 0, no overcommit */
	enum vm_stat_item stat_nr;		/* first of the four vmstat items */
	struct super_block *internal_mnt;	/* unlinked files (MAP_HUGETLB, memfd) */
};

#define NUM_FAULT_MUTEXES 64

struct hugetlb_pools {
	spinlock_t hugetlb_lock;
	struct hstate hstates[HUGE_MAX_HSTATE];
	/* Serialise faults on one (mapping, index): hugetlb_fault_mutex_hash(). */
	struct mutex fault_mutex_table[NUM_FAULT_MUTEXES];
};

/*
 * struct resv_map - which huge page indices of a file (shared mappings:
 * the inode's map) or of a private mapping (the owner VMA's map) have a
 * reservation.  Shared: a set bit means "reserved or instantiated in the
 * page cache" (Linux's region list).  Private: a set bit means "the
 * reservation of this index was consumed by a fault".  @lock protects
 * @bits and @nbits.
 */
struct resv_map {
	spinlock_t lock;
	atomic_t refs;
	unsigned long nbits;
	unsigned long *bits;
	struct hstate *h;
};

/* vma->vm_private_data of a private hugetlb VMA: a resv_map and flags. */
#define HPAGE_RESV_OWNER	(1UL << 0)	/* mmap() reserved: owns the map */
#define HPAGE_RESV_UNMAPPED	(1UL << 1)	/* the owner took a page away: SIGBUS */
#define HPAGE_RESV_MASK		(HPAGE_RESV_OWNER | HPAGE_RESV_UNMAPPED)

/*
 * folio->private of a folio alloc_hugetlb_folio() took with a reservation,
 * until it is mapped or in the page cache: a failed fault gives the
 * reservation back (Linux's HPageRestoreReserve).
 */
#define HUGETLB_RESTORE_RESERVE	((void *)1)

static inline bool is_vm_hugetlb_page(const struct vm_area_struct *vma)
{
	return vma->vm_flags & VM_HUGETLB;
}
static inline unsigned long huge_page_size(const struct hstate *h)
{
	return PAGE_SIZE << h->order;
}
static inline unsigned long huge_page_mask(const struct hstate *h)
{
	return ~(huge_page_size(h) - 1);
}
static inline unsigned long pages_per_huge_page(const struct hstate *h)
{
	return 1UL << h->order;
}
static inline bool folio_test_hugetlb(const struct folio *folio)
{
	return folio_test_Hugetlb(folio);
}

/* hugetlb.c: pools */
struct hstate *size_to_hstate(struct pinmm *m, unsigned long size);
struct hstate *hstate_vma(struct vm_area_struct *vma);
struct hstate *folio_hstate(struct folio *folio);
struct hstate *hstate_from_flags(struct pinmm *m, unsigned long flags, int *err);
struct folio *dequeue_hugetlb_folio(struct pinmm *m, struct hstate *h, bool use_reserve,
				    bool avoid_movable);
void free_huge_folio(struct folio *folio);
int hugetlb_acct_memory(struct pinmm *m, struct hstate *h, long delta);
struct mutex *hugetlb_fault_mutex(struct pinmm *m, struct address_space *mapping,
				  pgoff_t idx);
void hugetlb_fault_mutex_barrier(struct pinmm *m);

/* hugetlb_resv.c: reservations */
struct resv_map *resv_map_alloc(struct hstate *h);
void resv_map_put(struct resv_map *map);
long hugetlb_reserve_pages(struct inode *inode, pgoff_t from, pgoff_t to,
			   struct vm_area_struct *vma, vm_flags_t vm_flags);
void hugetlb_unreserve_pages(struct inode *inode, pgoff_t start, pgoff_t end, long freed);
struct folio *alloc_hugetlb_folio(struct vm_area_struct *vma, unsigned long addr,
				  bool avoid_reserve);
struct folio *alloc_hugetlb_folio_file(struct inode *inode, pgoff_t idx);
void hugetlb_dup_vma_private(struct vm_area_struct *vma);
void hugetlb_vm_op_open(struct vm_area_struct *vma);
void hugetlb_vm_op_close(struct vm_area_struct *vma);
struct resv_map *vma_resv_map(struct vm_area_struct *vma);
bool is_vma_resv_set(struct vm_area_struct *vma, unsigned long flag);
void set_vma_resv_flags(struct vm_area_struct *vma, unsigned long flags);
pgoff_t vma_hugecache_offset(struct hstate *h, struct vm_area_struct *vma,
			     unsigned long address);
bool resv_map_test(struct resv_map *map, pgoff_t idx);
long resv_map_clear_range(struct resv_map *map, pgoff_t from, pgoff_t to);

/* hugetlb_fault.c: page tables */
pte_t *huge_pte_offset(struct mm_struct *mm, unsigned long addr, unsigned long sz);
pte_t *huge_pte_alloc(struct mm_struct *mm, unsigned long addr, unsigned long sz);
spinlock_t *huge_pte_lockptr(struct hstate *h, struct mm_struct *mm, pte_t *ptep);
vm_fault_t hugetlb_fault(struct mm_struct *mm, struct vm_area_struct *vma,
			 unsigned long address, unsigned int flags);
void unmap_hugepage_range(struct vm_area_struct *vma, unsigned long start,
			  unsigned long end, struct zap_details *details);
int copy_hugetlb_page_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma);
long hugetlb_change_protection(struct vm_area_struct *vma, unsigned long start,
			       unsigned long end, pgprot_t newprot);
struct page *hugetlb_follow_page_mask(struct vm_area_struct *vma, unsigned long address,
				      unsigned int flags, unsigned long *page_mask);
bool hugetlb_page_ready(struct vm_area_struct *vma, unsigned long addr, bool write);
int hugetlb_split_check(struct vm_area_struct *vma, unsigned long addr);
struct folio *hugetlb_migrate_folio(struct folio *src);

/* hugetlbfs.c: files */
bool is_file_hugepages(const struct file *file);
struct file *hugetlb_file_setup(struct pinmm *m, const char *name, long long size,
				struct hstate *h);
struct file *hugetlb_memfd_create(struct pinmm *m, const char *name, unsigned int flags);
struct super_block *hugetlbfs_fill_super(struct pinmm *m, const char *prefix,
					 struct hstate *h);
struct folio *hugetlbfs_pagecache_get(struct address_space *mapping, struct hstate *h,
				      pgoff_t idx);
int hugetlb_add_to_page_cache(struct folio *folio, struct address_space *mapping,
			      pgoff_t idx);
struct hstate *hstate_inode(const struct inode *inode);
struct resv_map *inode_resv_map(const struct inode *inode);

#endif /* PINMM_HUGETLB_H */
