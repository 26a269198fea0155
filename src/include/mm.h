/* SPDX-License-Identifier: MIT */
/*
 * mm.h - folio and page helpers, and the interfaces between the parts of
 * mm: the page allocator, rmap, faults, VMAs and page tables.
 */
#ifndef PINMM_MM_H
#define PINMM_MM_H

#include "fault_inject.h"
#include "machine.h"
#include "pgtable.h"

/* Kernel names from <pinmm/linux.h> that mm implements inline here. */
#undef page_folio
#undef page_to_pfn
#undef folio_ref_count
#undef folio_maybe_dma_pinned
#undef put_page
#undef get_page
#undef mmap_read_lock
#undef mmap_read_unlock

/* ------------------------------------------------------------------ */
/* Page flags                                                           */

#define PAGE_FLAG_OPS(name, bit)					\
static inline bool Page##name(const struct page *p) { return test_bit(bit, &p->flags); } \
static inline void SetPage##name(struct page *p) { set_bit(bit, &((struct page *)p)->flags); } \
static inline void ClearPage##name(struct page *p) { clear_bit(bit, &p->flags); } \
static inline bool folio_test_##name(const struct folio *f) { return test_bit(bit, &f->flags); } \
static inline void folio_set_##name(struct folio *f) { set_bit(bit, &f->flags); } \
static inline void folio_clear_##name(struct folio *f) { clear_bit(bit, &f->flags); }

PAGE_FLAG_OPS(Locked, PG_locked)
PAGE_FLAG_OPS(Writeback, PG_writeback)
PAGE_FLAG_OPS(Referenced, PG_referenced)
PAGE_FLAG_OPS(Uptodate, PG_uptodate)
PAGE_FLAG_OPS(Dirty, PG_dirty)
PAGE_FLAG_OPS(LRU, PG_lru)
PAGE_FLAG_OPS(Head, PG_head)
PAGE_FLAG_OPS(Active, PG_active)
PAGE_FLAG_OPS(Private, PG_private)
PAGE_FLAG_OPS(Reserved, PG_reserved)
PAGE_FLAG_OPS(SwapBacked, PG_swapbacked)
PAGE_FLAG_OPS(AnonExclusive, PG_anon_exclusive)
PAGE_FLAG_OPS(Buddy, PG_buddy)
PAGE_FLAG_OPS(Table, PG_pgtable)
PAGE_FLAG_OPS(Reclaim, PG_reclaim)
PAGE_FLAG_OPS(Mlocked, PG_mlocked)
PAGE_FLAG_OPS(HWPoison, PG_hwpoison)
PAGE_FLAG_OPS(LargeRmappable, PG_large_rmappable)
PAGE_FLAG_OPS(Isolated, PG_isolated)
PAGE_FLAG_OPS(Poisoned, PG_poisoned)
PAGE_FLAG_OPS(Devmap, PG_devmap)
PAGE_FLAG_OPS(Zero, PG_zero)
PAGE_FLAG_OPS(MappedToDisk, PG_mappedtodisk)
PAGE_FLAG_OPS(NoDisk, PG_nodisk)
PAGE_FLAG_OPS(Pcp, PG_pcp)
PAGE_FLAG_OPS(SwapCache, PG_swapcache)
PAGE_FLAG_OPS(Hugetlb, PG_hugetlb)

/* ------------------------------------------------------------------ */
/* Compound pages and folios                                            */

static inline bool PageTail(const struct page *page)
{
	return READ_ONCE(page->compound_head) & 1;
}

static inline struct page *compound_head(const struct page *page)
{
	unsigned long head = READ_ONCE(page->compound_head);

	if (unlikely(head & 1))
		return (struct page *)(head - 1);
	return (struct page *)page;
}

static inline struct folio *page_folio(const struct page *page)
{
	return (struct folio *)compound_head(page);
}
#define folio_page(folio, n) (&(folio)->page + (n))

static inline bool folio_test_large(const struct folio *folio)
{
	return folio_test_Head(folio);
}
static inline unsigned int folio_order(const struct folio *folio)
{
	if (!folio_test_large(folio))
		return 0;
	/* page[1].flags: its own page flags are set/cleared atomically. */
	return READ_ONCE(folio->_flags_1) & 0xff;
}
static inline unsigned long folio_nr_pages(const struct folio *folio)
{
	return 1UL << folio_order(folio);
}
static inline size_t folio_size(const struct folio *folio)
{
	return PAGE_SIZE << folio_order(folio);
}
static inline unsigned long folio_page_idx(const struct folio *folio, const struct page *page)
{
	return (unsigned long)(page - &folio->page);
}
static inline struct pinmm *folio_machine(const struct folio *folio)
{
	return page_machine(&folio->page);
}
static inline unsigned long folio_pfn(const struct folio *folio)
{
	return page_to_pfn_m(folio_machine(folio), &folio->page);
}
static inline void *folio_address(const struct folio *folio)
{
	struct pinmm *m = folio_machine(folio);
	return pfn_to_virt(m, page_to_pfn_m(m, &folio->page));
}
static inline void *page_address(const struct page *page)
{
	struct pinmm *m = page_machine(page);
	return pfn_to_virt(m, page_to_pfn_m(m, page));
}
static inline unsigned long page_to_pfn(const struct page *page)
{
	return page_to_pfn_m(page_machine(page), page);
}

/* ------------------------------------------------------------------ */
/* Reference counts                                                     */

static inline int folio_ref_count(const struct folio *folio)
{
	return atomic_read(&folio->_refcount);
}
/*
 * The refcount with acquire ordering: for "am I the only user?" decisions
 * (COW reuse) that must see everything the last other user did before its
 * release (folio_put is a full barrier).
 */
static inline int folio_ref_count_acquire(const struct folio *folio)
{
	return atomic_load_explicit((atomic_t *)&folio->_refcount, memory_order_acquire);
}
static inline int page_ref_count(const struct page *page)
{
	return atomic_read(&page->_refcount);
}
static inline void folio_ref_add(struct folio *folio, int nr)
{
	explore_point(EP_REF, folio);
	atomic_add(nr, &folio->_refcount);
}
static inline void folio_ref_sub(struct folio *folio, int nr)
{
	explore_point(EP_REF, folio);
	atomic_sub(nr, &folio->_refcount);
}
static inline bool folio_ref_sub_and_test(struct folio *folio, int nr)
{
	explore_point(EP_REF, folio);
	return atomic_sub_and_test(nr, &folio->_refcount);
}
/* Add @count unless the refcount is 0 (free or frozen). */
static inline bool folio_ref_try_add(struct folio *folio, int count)
{
	explore_point(EP_REF, folio);
	return atomic_add_unless(&folio->_refcount, count, 0);
}
static inline bool folio_try_get(struct folio *folio)
{
	return folio_ref_try_add(folio, 1);
}
/* Freeze: refcount @count -> 0 only if nobody else holds a reference. */
static inline bool folio_ref_freeze(struct folio *folio, int count)
{
	explore_point(EP_REF, folio);
	return atomic_cmpxchg(&folio->_refcount, count, 0) == count;
}
static inline void folio_ref_unfreeze(struct folio *folio, int count)
{
	explore_point(EP_REF, folio);
	VM_BUG_ON(folio_ref_count(folio) != 0);
	atomic_store_explicit(&folio->_refcount, count, memory_order_release);
}
/* The debug check of folio_get(): refcount 0 or about to overflow. */
static inline bool folio_ref_zero_or_close_to_overflow(const struct folio *folio)
{
	return ((unsigned int)folio_ref_count(folio) + 127u <= 127u);
}
static inline void folio_get(struct folio *folio)
{
	VM_BUG_ON_FOLIO(folio_ref_zero_or_close_to_overflow(folio), folio);
	folio_ref_add(folio, 1);
}
/*
 * struct folio_orphan - a page-cache folio that leaves the cache still
 * owning filesystem state keeps PG_private, and folio->private then starts
 * with this: the final put calls ->free_folio (pinfs busyblocks policy:
 * blocks stay allocated under a pinned, truncated page until it is freed).
 * Filesystems that set PG_private put it first in their private struct.
 */
struct folio_orphan {
	void (*free_folio)(struct folio *folio, struct folio_orphan *o);
};

void __folio_put(struct folio *folio);	/* page_alloc.c: refcount hit 0 */
static inline void folio_put(struct folio *folio)
{
	explore_point(EP_REF, folio);
	if (atomic_dec_and_test(&folio->_refcount))
		__folio_put(folio);
}
static inline void folio_put_refs(struct folio *folio, int refs)
{
	if (folio_ref_sub_and_test(folio, refs))
		__folio_put(folio);
}
static inline void get_page(struct page *page) { folio_get(page_folio(page)); }
static inline void put_page(struct page *page) { folio_put(page_folio(page)); }

/* ------------------------------------------------------------------ */
/* Pins (mm/gup.c owns the protocol; these are the queries)             */

static inline bool folio_has_pincount(const struct folio *folio)
{
	return folio_test_large(folio);	/* 64-bit: every large folio */
}
bool folio_maybe_dma_pinned(struct folio *folio);	/* gup.c: honours pin.tracking */
bool folio_maybe_dma_pinned_m(struct pinmm *m, struct folio *folio);
int folio_pincount_m(struct pinmm *m, struct folio *folio);
bool folio_is_longterm_pinnable(struct pinmm *m, struct folio *folio);
int try_grab_folio(struct pinmm *m, struct folio *folio, int refs, unsigned int flags);
struct folio *try_grab_folio_fast(struct pinmm *m, struct page *page, int refs,
				  unsigned int flags);
void gup_put_folio(struct pinmm *m, struct folio *folio, int refs, unsigned int flags);
bool __gup_put_folio(struct pinmm *m, struct folio *folio, int refs, unsigned int flags,
		     bool count);
void folio_add_pin(struct pinmm *m, struct folio *folio);
static inline bool page_maybe_dma_pinned(struct page *page)
{
	return folio_maybe_dma_pinned(page_folio(page));
}
static inline bool is_zero_folio(const struct folio *folio)
{
	return folio_test_Zero(folio);
}
static inline bool is_zero_page(const struct page *page)
{
	return PageZero(page);
}

/* ------------------------------------------------------------------ */
/* Mapcounts                                                            */

static inline int folio_large_mapcount(const struct folio *folio)
{
	return atomic_read(&folio->_large_mapcount) + 1;
}
static inline int folio_entire_mapcount(const struct folio *folio)
{
	return atomic_read(&folio->_entire_mapcount) + 1;
}
/* Mappings of this page: its own PTE mappings plus PMD mappings of its folio. */
static inline int page_mapcount(const struct page *page)
{
	int mapcount = atomic_read(&page->_mapcount) + 1;
	const struct folio *folio = page_folio(page);

	if (folio_test_large(folio))
		mapcount += folio_entire_mapcount(folio);
	return mapcount;
}
/* Total mappings of the folio (each PTE and each PMD counts once). */
static inline int folio_mapcount(const struct folio *folio)
{
	if (!folio_test_large(folio))
		return atomic_read(&folio->_mapcount) + 1;
	return folio_large_mapcount(folio);
}
static inline bool folio_mapped(const struct folio *folio)
{
	return folio_mapcount(folio) > 0;
}

/* ------------------------------------------------------------------ */
/* Anonymous and file folios                                            */

#define PAGE_MAPPING_ANON	0x1UL
#define PAGE_MAPPING_KSM	0x3UL	/* ->mapping is a KSM stable node (ksm.c) */
#define PAGE_MAPPING_FLAGS	0x3UL

static inline bool folio_test_anon(const struct folio *folio)
{
	return ((unsigned long)READ_ONCE(folio->mapping) & PAGE_MAPPING_ANON) != 0;
}
/* A KSM folio: anonymous, shared by content, mapped read-only (ksm.c). */
static inline bool folio_test_ksm(const struct folio *folio)
{
	return ((unsigned long)READ_ONCE(folio->mapping) & PAGE_MAPPING_FLAGS) == PAGE_MAPPING_KSM;
}
static inline bool PageAnon(const struct page *page)
{
	return folio_test_anon(page_folio(page));
}
static inline struct anon_vma *folio_anon_vma(const struct folio *folio)
{
	unsigned long mapping = (unsigned long)READ_ONCE(folio->mapping);

	if ((mapping & PAGE_MAPPING_FLAGS) != PAGE_MAPPING_ANON)
		return NULL;
	return (struct anon_vma *)(mapping - PAGE_MAPPING_ANON);
}
/* The file mapping, or NULL for anonymous or truncated folios. */
static inline struct address_space *folio_mapping(const struct folio *folio)
{
	unsigned long mapping = (unsigned long)READ_ONCE(folio->mapping);

	if (mapping & PAGE_MAPPING_FLAGS)
		return NULL;
	return (struct address_space *)mapping;
}

/* ------------------------------------------------------------------ */
/* Page allocator (page_alloc.c)                                        */

typedef unsigned int gfp_t;
#define __GFP_MOVABLE	0x01u	/* user data: may come from MOVABLE and CMA */
#define __GFP_ZERO	0x02u	/* zero the frames */
#define __GFP_COMP	0x04u	/* set up a large folio when order > 0 */
#define __GFP_NOWARN	0x08u
#define __GFP_NORETRY	0x10u
#define __GFP_ZONE_ONLY	0x20u	/* only from the zone given by __GFP_ZONE() */
#define __GFP_ZONE(z)	((unsigned)(z) << 8)
#define GFP_ZONE_OF(gfp) (((gfp) >> 8) & 0xff)
#define GFP_KERNEL	0u
#define GFP_PGTABLE	(__GFP_ZERO)
#define GFP_HIGHUSER_MOVABLE (__GFP_MOVABLE)
#define GFP_TRANSHUGE	(__GFP_MOVABLE | __GFP_COMP | __GFP_NOWARN | __GFP_NORETRY)

/*
 * Set while a thread runs a long-term pin (memalloc_pin_save()): allocations
 * drop __GFP_MOVABLE so that faulted-in pages land outside MOVABLE and CMA.
 */
extern __thread unsigned int pinmm_memalloc_pin;
static inline unsigned int memalloc_pin_save(void) { return pinmm_memalloc_pin++; }
static inline void memalloc_pin_restore(unsigned int old) { pinmm_memalloc_pin = old; }

/**
 * alloc_pages() - take 2^@order contiguous frames from the buddy allocator.
 * Context: any; takes zone->lock.
 * Return: the first page with refcount 1 (every struct page initialised:
 * _mapcount -1, no flags), or NULL when no zone allowed by @gfp has a block.
 * With __GFP_COMP and order > 0 the result is the head of a large folio.
 */
struct page *__alloc_pages(struct pinmm *m, gfp_t gfp, unsigned int order,
			   struct fail_site *site);
struct folio *__folio_alloc(struct pinmm *m, gfp_t gfp, unsigned int order,
			    struct fail_site *site);
/* Each caller is its own fault-injection site (fault_inject.h). */
#define alloc_pages(m, gfp, order) \
	__alloc_pages((m), (gfp), (order), FAIL_SITE("page_alloc"))
#define folio_alloc(m, gfp, order) \
	__folio_alloc((m), (gfp), (order), FAIL_SITE("page_alloc"))
/**
 * __free_pages() - drop one reference to a block from alloc_pages() (not a
 * large folio: use folio_put()) and free it when it was the last.
 */
void __free_pages(struct page *page, unsigned int order);
/* Return a block whose refcount is already 0 to the buddy allocator. */
void free_pages_prepared(struct pinmm *m, struct page *page, unsigned int order);
/* Zone and allocator introspection. */
long zone_free_pages(struct pinmm *m, enum zone_type z);
const char *zone_name(enum zone_type z);
int page_alloc_init(struct pinmm *m);		/* boot */
void page_alloc_exit(struct pinmm *m);
/* Frames not in the buddy allocator that should be (leak check). */
long page_alloc_check_leaks(struct pinmm *m, bool report);
/* Per-CPU page lists (page_pcp.c) and the buddy side of them (page_alloc.c). */
int zone_pcp_init(struct pinmm *m, struct zone *zone);
void zone_pcp_exit(struct pinmm *m, struct zone *zone);
struct page *rmqueue_pcplist(struct pinmm *m, struct zone *zone);
bool free_unref_page(struct pinmm *m, struct zone *zone, struct page *page);
long drain_local_pages(struct pinmm *m, struct zone *zone);
long drain_all_pages(struct pinmm *m, struct zone *zone);
void zone_pcp_disable(struct pinmm *m, struct zone *zone);
void zone_pcp_enable(struct pinmm *m, struct zone *zone);
int rmqueue_bulk(struct pinmm *m, struct zone *zone, int count, struct list_head *list);
void free_pcppages_bulk(struct pinmm *m, struct zone *zone, struct per_cpu_pages *pcp,
			int count);

/* ------------------------------------------------------------------ */
/* VMAs (vma.c)                                                         */

struct vm_area_struct *vm_area_alloc(struct mm_struct *mm);
struct vm_area_struct *vm_area_dup(struct vm_area_struct *orig);
void vm_area_free(struct vm_area_struct *vma);
struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr);
struct vm_area_struct *vma_lookup(struct mm_struct *mm, unsigned long addr);
struct vm_area_struct *find_vma_intersection(struct mm_struct *mm,
					     unsigned long start, unsigned long end);
void vma_link(struct mm_struct *mm, struct vm_area_struct *vma);
void vma_unlink(struct mm_struct *mm, struct vm_area_struct *vma);
int split_vma(struct vm_area_struct *vma, unsigned long addr, int new_below);
int vma_isolate_range(struct vm_area_struct *vma, unsigned long start, unsigned long end);
struct vm_area_struct *vma_try_merge(struct vm_area_struct *vma);
struct vm_area_struct *copy_vma(struct vm_area_struct *vma, unsigned long addr,
				unsigned long len, pgoff_t pgoff);
void vma_expand_end(struct vm_area_struct *vma, unsigned long end);
void vma_rmap_lock(struct vm_area_struct *vma);
/* ksm.c */
int ksm_madvise(struct vm_area_struct *vma, unsigned long start, unsigned long end,
		int advice, vm_flags_t *flags);
int break_ksm(struct vm_area_struct *vma, unsigned long start, unsigned long end);
/* khugepaged.c */
int madvise_collapse(struct vm_area_struct *vma, unsigned long start, unsigned long end);
void khugepaged_enter_vma(struct vm_area_struct *vma, vm_flags_t vm_flags);
void khugepaged_fork(struct mm_struct *mm, struct mm_struct *oldmm);
void vma_rmap_unlock(struct vm_area_struct *vma);
static inline struct vm_area_struct *vma_next(struct vm_area_struct *vma)
{
	if (vma->vm_list.next == &vma->vm_mm->mmap_list)
		return NULL;
	return list_entry(vma->vm_list.next, struct vm_area_struct, vm_list);
}
static inline struct vm_area_struct *vma_prev(struct vm_area_struct *vma)
{
	if (vma->vm_list.prev == &vma->vm_mm->mmap_list)
		return NULL;
	return list_entry(vma->vm_list.prev, struct vm_area_struct, vm_list);
}
#define for_each_vma(mm, vma) list_for_each_entry(vma, &(mm)->mmap_list, vm_list)

/*
 * A write fault makes the entry writable only if the VMA is: a FOLL_FORCE
 * write into a read-only private mapping breaks COW but the new page stays
 * write-protected for the process (Linux's maybe_mkwrite()).
 */
static inline pte_t maybe_mkwrite(pte_t pte, const struct vm_area_struct *vma)
{
	if (likely(vma->vm_flags & VM_WRITE))
		pte = pte_mkwrite(pte);
	return pte;
}
static inline pmd_t maybe_pmd_mkwrite(pmd_t pmd, const struct vm_area_struct *vma)
{
	if (likely(vma->vm_flags & VM_WRITE))
		pmd = pmd_mkwrite(pmd);
	return pmd;
}

static inline bool vma_is_anonymous(const struct vm_area_struct *vma)
{
	return !vma->vm_ops;
}
static inline bool is_cow_mapping(vm_flags_t flags)
{
	return (flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;
}
static inline unsigned long vma_pages(const struct vm_area_struct *vma)
{
	return (vma->vm_end - vma->vm_start) >> PAGE_SHIFT;
}
static inline pgoff_t linear_page_index(const struct vm_area_struct *vma, unsigned long addr)
{
	return ((addr - vma->vm_start) >> PAGE_SHIFT) + vma->vm_pgoff;
}
bool vma_is_shmem(const struct vm_area_struct *vma);	/* shmem.c */
bool vma_needs_dirty_tracking(const struct vm_area_struct *vma);
bool vma_is_fsdax(const struct vm_area_struct *vma);

/* ------------------------------------------------------------------ */
/* mm_struct lifetime and locking (mm_struct.c)                         */

struct mm_struct *mm_alloc(struct pinmm *m);
void mmget(struct mm_struct *mm);
bool mmget_not_zero(struct mm_struct *mm);
void mmput(struct mm_struct *mm);		/* last user: exit_mmap() */
void mmgrab(struct mm_struct *mm);
void mmdrop(struct mm_struct *mm);		/* last reference: free */
void exit_mmap(struct mm_struct *mm);
struct mm_struct *dup_mm(struct mm_struct *oldmm, int *err);	/* fork.c */
/* mm_struct.c: an mm_users reference for one call on a process (NULL: exited) */
struct mm_struct *get_proc_mm(struct pinmm_proc *p);
struct mm_struct *get_current_mm(int *err);	/* -EFAULT no current, -ESRCH */
void remove_vma(struct vm_area_struct *vma);
/* mmap.c */
void vma_set_page_prot(struct vm_area_struct *vma);
int do_munmap(struct mm_struct *mm, unsigned long start, size_t len);
long get_unmapped_area(struct mm_struct *mm, unsigned long addr, unsigned long len,
		       int flags, bool thp_ok);
#define MAX_MAP_COUNT 65530	/* vm.max_map_count's default */

/* Macros, so that the lock validator names the caller's site (lockdep.h). */
#define mmap_read_lock(mm)		down_read(&(mm)->mmap_lock)
#define mmap_read_unlock(mm)		up_read(&(mm)->mmap_lock)
#define mmap_read_trylock(mm)		down_read_trylock(&(mm)->mmap_lock)
#define mmap_write_lock(mm)		down_write(&(mm)->mmap_lock)
#define mmap_write_lock_nested(mm, sub)	down_write_nested(&(mm)->mmap_lock, (sub))
#define mmap_write_unlock(mm)		up_write(&(mm)->mmap_lock)
#define mmap_assert_locked(mm) VM_BUG_ON(!rwsem_is_locked(&(mm)->mmap_lock))
#define mmap_assert_write_locked(mm) VM_BUG_ON(!rwsem_is_write_locked_by_me(&(mm)->mmap_lock))

static inline void add_mm_counter(struct mm_struct *mm, enum mm_counter c, long v)
{
	atomic_long_add(v, &mm->rss[c]);
}

/* ------------------------------------------------------------------ */
/* Faults (memory.c, huge_memory.c)                                     */

typedef unsigned int vm_fault_t;
#define VM_FAULT_OOM		0x0001
#define VM_FAULT_SIGBUS		0x0002
#define VM_FAULT_MAJOR		0x0004
#define VM_FAULT_HWPOISON	0x0010
#define VM_FAULT_SIGSEGV	0x0040
#define VM_FAULT_NOPAGE		0x0100
#define VM_FAULT_LOCKED		0x0200
#define VM_FAULT_RETRY		0x0400
#define VM_FAULT_FALLBACK	0x0800
#define VM_FAULT_DONE_COW	0x1000
#define VM_FAULT_COMPLETED	0x4000
#define VM_FAULT_ERROR (VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV | VM_FAULT_HWPOISON)

enum fault_flag {
	FAULT_FLAG_WRITE = 1 << 0,
	FAULT_FLAG_MKWRITE = 1 << 1,
	FAULT_FLAG_ALLOW_RETRY = 1 << 2,
	FAULT_FLAG_RETRY_NOWAIT = 1 << 3,
	FAULT_FLAG_KILLABLE = 1 << 4,
	FAULT_FLAG_TRIED = 1 << 5,
	FAULT_FLAG_USER = 1 << 6,
	FAULT_FLAG_REMOTE = 1 << 7,
	FAULT_FLAG_INSTRUCTION = 1 << 8,
	FAULT_FLAG_INTERRUPTIBLE = 1 << 9,
	FAULT_FLAG_UNSHARE = 1 << 10,
	FAULT_FLAG_ORIG_PTE_VALID = 1 << 11,
};

/*
 * struct vm_fault - what a fault handler is told and returns.
 * A ->fault handler returns the folio in @folio with a reference held,
 * locked if it returns VM_FAULT_LOCKED, for the page at @pgoff.
 */
struct vm_fault {
	struct vm_area_struct *vma;
	unsigned long address;		/* page aligned */
	unsigned long real_address;
	pgoff_t pgoff;
	unsigned int flags;
	struct folio *folio;		/* ->fault result */
	struct page *page;		/* the page within @folio */
	pmd_t *pmd;
	pte_t *pte;
	pte_t orig_pte;
	pmd_t orig_pmd;
	spinlock_t *ptl;
	struct folio *cow_folio;
};

struct vm_operations_struct {
	const char *name;
	vm_fault_t (*fault)(struct vm_fault *vmf);
	vm_fault_t (*page_mkwrite)(struct vm_fault *vmf);
	void (*open)(struct vm_area_struct *vma);
	void (*close)(struct vm_area_struct *vma);
};

/**
 * handle_mm_fault() - resolve a fault at @address in @vma.
 * Context: mmap_lock held for reading; released when the result has
 * VM_FAULT_RETRY and @flags have FAULT_FLAG_ALLOW_RETRY without
 * FAULT_FLAG_RETRY_NOWAIT (memory.c).
 * Return: 0 or VM_FAULT_* bits.
 */
vm_fault_t handle_mm_fault(struct vm_area_struct *vma, unsigned long address,
			   unsigned int flags);
/*
 * vm_normal_page() - the struct page a present PTE maps, or NULL for special
 * mappings (the zero page, PFN maps).
 */
struct page *vm_normal_page(struct vm_area_struct *vma, unsigned long addr, pte_t pte);
struct page *vm_normal_page_pmd(struct vm_area_struct *vma, unsigned long addr, pmd_t pmd);
bool vma_thp_allowed(struct vm_area_struct *vma, unsigned long haddr);

/*
 * Tearing down mappings (memory.c).  zap_page_range_single() unmaps
 * [start, end) of one VMA: drops the rmap and the mapping's reference on
 * every page (a pinned page stays alive through its pin), and frees nothing
 * of the page tables.  free_pgtables() frees page-table pages no VMA can
 * use any more, after an RCU grace period.
 */
/*
 * struct zap_details - what a zap keeps and frees.  @reclaim_pt: free a
 * PTE table the zap of a whole PMD range left empty (MADV_DONTNEED, as
 * Linux's CONFIG_PT_RECLAIM).
 */
struct zap_details { struct folio *single_folio; bool even_cows; bool reclaim_pt; };
void zap_page_range_single(struct vm_area_struct *vma, unsigned long start,
			   unsigned long end, struct zap_details *details);
void unmap_vmas(struct vm_area_struct *vma, unsigned long start, unsigned long end);
void free_pgtables(struct mm_struct *mm, unsigned long floor, unsigned long ceiling,
		   unsigned long start, unsigned long end);
/* Unmap every mapping of file pages [start, start+len) (truncate, punch). */
void unmap_mapping_range(struct address_space *mapping, long long start,
			 long long len, bool even_cows);
/* change_protection(): mprotect's page-table walk. */
long change_protection(struct vm_area_struct *vma, unsigned long start,
		       unsigned long end, vm_flags_t newflags);
int copy_page_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma);
pgprot_t vm_get_page_prot(vm_flags_t vm_flags);
vm_fault_t do_wp_page(struct vm_fault *vmf);		/* memory.c */
vm_fault_t do_swap_page(struct vm_fault *vmf);		/* swap_state.c */
/* Soft-dirty tracking is on in @vma once clear_refs cleared VM_SOFTDIRTY. */
static inline bool vma_soft_dirty_enabled(const struct vm_area_struct *vma)
{
	return !(vma->vm_flags & VM_SOFTDIRTY);
}
/* Must a write to @pte fault so that it sets the soft-dirty bit? */
static inline bool pte_needs_soft_dirty_wp(const struct vm_area_struct *vma, pte_t pte)
{
	return vma_soft_dirty_enabled(vma) && !pte_soft_dirty(pte);
}
/* Populate pages of [start, end) as MAP_POPULATE / MADV_POPULATE_* do. */
long populate_range(struct vm_area_struct *vma, unsigned long start,
		    unsigned long end, bool write, bool for_madvise);

/* ------------------------------------------------------------------ */
/* THP (huge_memory.c)                                                  */

void __split_huge_pmd(struct vm_area_struct *vma, pmd_t *pmd, unsigned long address);
void split_huge_pmd_address(struct vm_area_struct *vma, unsigned long address);
bool move_huge_pmd(struct vm_area_struct *vma, unsigned long old_addr, unsigned long new_addr,
		   pmd_t *old_pmd, pmd_t *new_pmd);
/* Split every PMD mapping that straddles start or end of [start, end). */
void vma_adjust_trans_huge(struct vm_area_struct *vma, unsigned long start,
			   unsigned long end);
int split_folio(struct folio *folio);	/* migrate.c: -EAGAIN when pinned or busy */
/* mTHP (mthp.c): per-size policy, fault allocation, deferred split queue. */
enum pinmm_thp_mode thp_order_mode(struct pinmm *m, unsigned int order);
unsigned long thp_vma_allowable_orders(struct vm_area_struct *vma, unsigned long orders);
struct folio *alloc_anon_folio(struct vm_fault *vmf);
bool map_anon_folio_ptes(struct vm_fault *vmf, struct folio *folio, unsigned long addr);
void deferred_split_folio(struct folio *folio);
void folio_undo_deferred_split(struct folio *folio);
long deferred_split_scan(struct pinmm *m, long nr_to_scan);
int migrate_folio_to(struct folio *src, struct folio *dst);
struct folio *migrate_folio_alloc(struct folio *src, gfp_t gfp);
struct folio *mm_get_huge_zero_folio(struct pinmm *m);
vm_fault_t do_huge_pmd_anonymous_page(struct vm_fault *vmf);
vm_fault_t do_huge_pmd_wp_page(struct vm_fault *vmf);
bool zap_huge_pmd(struct vm_area_struct *vma, pmd_t *pmd, unsigned long addr);
int copy_huge_pmd(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma,
		  pmd_t *dst_pmd, pmd_t *src_pmd, unsigned long addr);
int change_huge_pmd(struct vm_area_struct *vma, pmd_t *pmdp, unsigned long addr,
		    pgprot_t newprot, bool writable_ok);

/* ------------------------------------------------------------------ */
/* rmap (rmap.c)                                                        */

struct anon_vma *anon_vma_alloc(void);
void get_anon_vma(struct anon_vma *anon_vma);
void put_anon_vma(struct anon_vma *anon_vma);
int anon_vma_prepare(struct vm_area_struct *vma);
void anon_vma_link(struct vm_area_struct *vma, struct anon_vma *anon_vma);
void unlink_anon_vma(struct vm_area_struct *vma);

void folio_add_new_anon_rmap(struct folio *folio, struct vm_area_struct *vma,
			     unsigned long address, bool exclusive);
void folio_add_anon_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *vma, unsigned long address,
			      bool exclusive);
void folio_add_anon_rmap_pmd(struct folio *folio, struct vm_area_struct *vma,
			     unsigned long address, bool exclusive);
void folio_add_file_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *vma);
void folio_add_file_rmap_pmd(struct folio *folio, struct vm_area_struct *vma);
void folio_remove_rmap_ptes(struct folio *folio, struct page *page, int nr,
			    struct vm_area_struct *vma);
void folio_remove_rmap_pmd(struct folio *folio, struct vm_area_struct *vma);
static inline void folio_add_anon_rmap_pte(struct folio *f, struct page *p,
					   struct vm_area_struct *vma,
					   unsigned long addr, bool excl)
{
	folio_add_anon_rmap_ptes(f, p, 1, vma, addr, excl);
}
static inline void folio_add_file_rmap_pte(struct folio *f, struct page *p,
					   struct vm_area_struct *vma)
{
	folio_add_file_rmap_ptes(f, p, 1, vma);
}
static inline void folio_remove_rmap_pte(struct folio *f, struct page *p,
					 struct vm_area_struct *vma)
{
	folio_remove_rmap_ptes(f, p, 1, vma);
}
/*
 * fork: duplicate the rmap of an anonymous page for the child.  Fails with
 * -EBUSY when the page is exclusive and maybe pinned: it must be copied.
 */
int folio_try_dup_anon_rmap_ptes(struct folio *folio, struct page *page, int nr,
				 struct vm_area_struct *src_vma);
static inline int folio_try_dup_anon_rmap_pte(struct folio *folio, struct page *page,
					      struct vm_area_struct *src_vma)
{
	return folio_try_dup_anon_rmap_ptes(folio, page, 1, src_vma);
}
int folio_try_dup_anon_rmap_pmd(struct folio *folio, struct page *page,
				struct vm_area_struct *src_vma);
/*
 * Before write-protecting or unmapping an exclusive anon page for a purpose
 * that makes it shared (migration entry, swap): clear PageAnonExclusive,
 * unless it may be pinned (-EBUSY).  Pairs with GUP-fast (§6.2).
 */
int folio_try_share_anon_rmap_pte(struct folio *folio, struct page *page);
int folio_try_share_anon_rmap_pmd(struct folio *folio, struct page *page);

/*
 * struct rmap_walk_control - rmap_walk() calls @rmap_one for every VMA that
 * may map @folio, with the address the folio's first page would have there;
 * stop early when it returns false.
 */
struct rmap_walk_control {
	void *arg;
	bool (*rmap_one)(struct folio *folio, struct vm_area_struct *vma,
			 unsigned long address, void *arg);
	bool (*done)(struct folio *folio);
};
void rmap_walk(struct folio *folio, struct rmap_walk_control *rwc);
/* @fn sees each PTE (@pmd NULL) or PMD mapping a page of the folio, locked. */
typedef bool (*pvmw_fn)(struct vm_area_struct *vma, unsigned long addr,
			pte_t *pte, pmd_t *pmd, struct page *page, void *arg);
void folio_walk_all_notify(struct folio *folio, pvmw_fn fn, void *arg, int event,
			   bool shared_only);
/* Unmap every mapping of @folio (migration, reclaim). */
void try_to_unmap(struct folio *folio);
/* Write-protect and clean every PTE mapping @folio; returns PTEs cleaned. */
int folio_mkclean(struct folio *folio);
/* Number of mappings actually found by walking rmap (auditor). */
int folio_rmap_count_mappings(struct folio *folio);

/* ------------------------------------------------------------------ */
/* Folio lock and dirty state (filemap.c)                               */

void folio_lock(struct folio *folio);
bool folio_trylock(struct folio *folio);
void folio_unlock(struct folio *folio);
bool folio_mark_dirty(struct folio *folio);
void folio_mark_accessed(struct folio *folio);

/* ------------------------------------------------------------------ */
/* MMU notifiers (mmu_notifier.c): every path that changes a user     */
/* mapping brackets the change with start/end on the mm.               */

#include <pinmm/mmu_notifier.h>
/* range->flags, private: set by a start that notified; end must follow. */
#define MMU_NOTIFIER_RANGE_ACTIVE	(1u << 31)

static inline bool mm_has_notifiers(const struct mm_struct *mm)
{
	return __atomic_load_n(&mm->notifier_subscriptions, __ATOMIC_ACQUIRE) != NULL;
}
static inline void __mmu_notifier_range_init(struct mmu_notifier_range *range,
					     enum mmu_notifier_event event, unsigned int flags,
					     struct mm_struct *mm, unsigned long start,
					     unsigned long end)
{
	range->mm = mm;
	range->start = start;
	range->end = end;
	range->flags = flags;
	range->event = event;
	range->owner = NULL;
	range->vma = NULL;
}
void mmu_notifier_range_init(struct mmu_notifier_range *range, enum mmu_notifier_event event,
			     unsigned int flags, struct mm_struct *mm,
			     unsigned long start, unsigned long end);
#define mmu_notifier_range_init __mmu_notifier_range_init
void __mmu_notifier_invalidate_range_start(struct mmu_notifier_range *range);
void __mmu_notifier_invalidate_range_end(struct mmu_notifier_range *range);
/*
 * mmu_notifier_invalidate_range_start() - the mappings of [start, end) are
 * about to change.  Context: may sleep: no spinlock held (mmap_lock and the
 * rmap rwsems may be).  One load when the mm has no subscriptions.
 */
static inline void mmu_notifier_invalidate_range_start(struct mmu_notifier_range *range)
{
	if (mm_has_notifiers(range->mm))
		__mmu_notifier_invalidate_range_start(range);
}
/* ... and have changed.  Pairs with the start on the same range. */
static inline void mmu_notifier_invalidate_range_end(struct mmu_notifier_range *range)
{
	if (range->flags & MMU_NOTIFIER_RANGE_ACTIVE)
		__mmu_notifier_invalidate_range_end(range);
}
/* exit_mmap(): MMU_NOTIFY_RELEASE over everything. */
void mmu_notifier_release(struct mm_struct *mm);
void mmu_notifier_mm_destroy(struct mm_struct *mm);	/* last mmdrop */

/* ------------------------------------------------------------------ */
/* Debug (debug.c)                                                      */

/* Full cross-check of one mm / the whole machine; returns problems found. */
long audit_mm(struct mm_struct *mm);
long audit_machine(struct pinmm *m);
/* Called at API boundaries: audits when cfg.debug >= 2. */
void pinmm_debug_boundary(struct pinmm *m);

#endif /* PINMM_MM_H */
