/* SPDX-License-Identifier: MIT */
/*
 * mm_types.h - struct page, struct folio, struct mm_struct,
 * struct vm_area_struct and struct anon_vma, with the locking rule of every
 * field written next to it.
 *
 * Geometry is x86-64's: 4 KiB pages, 2 MiB PMD leaves, 1 GiB PUD leaves,
 * four levels of page tables, user addresses below TASK_SIZE.
 */
#ifndef PINMM_MM_TYPES_H
#define PINMM_MM_TYPES_H

#include <pinmm/linux.h>
#include "compiler.h"
#include "atomic.h"
#include "list.h"
#include "locking.h"
#include "rbtree.h"

#ifndef PAGE_SHIFT
#define PAGE_SHIFT	12
#define PAGE_SIZE	(1UL << PAGE_SHIFT)
#define PAGE_MASK	(~(PAGE_SIZE - 1))
#endif
#define PMD_SHIFT	21
#define PUD_SHIFT	30
#define PGDIR_SHIFT	39
#define PMD_SIZE	(1UL << PMD_SHIFT)
#define PMD_MASK	(~(PMD_SIZE - 1))
#define PUD_SIZE	(1UL << PUD_SHIFT)
#define PUD_MASK	(~(PUD_SIZE - 1))
#define PGDIR_SIZE	(1UL << PGDIR_SHIFT)
#define PGDIR_MASK	(~(PGDIR_SIZE - 1))
#define PTRS_PER_PTE	512
#define PTRS_PER_PMD	512
#define PTRS_PER_PUD	512
#define PTRS_PER_PGD	512
#define HPAGE_PMD_ORDER	(PMD_SHIFT - PAGE_SHIFT)
#define HPAGE_PMD_NR	(1UL << HPAGE_PMD_ORDER)
#define HPAGE_PMD_SIZE	PMD_SIZE
#define HPAGE_PUD_ORDER	(PUD_SHIFT - PAGE_SHIFT)
#define HPAGE_PUD_NR	(1UL << HPAGE_PUD_ORDER)
#define MAX_PAGE_ORDER	HPAGE_PUD_ORDER	/* the buddy hands out up to PUD size */
#define NR_PAGE_ORDERS	(MAX_PAGE_ORDER + 1)

#define TASK_SIZE	0x7ffffffff000UL
#define TASK_SIZE_MAX	TASK_SIZE
#define PAGE_ALIGN(x)	ALIGN((x), PAGE_SIZE)
#define PAGE_ALIGNED(x)	IS_ALIGNED((unsigned long)(x), PAGE_SIZE)

typedef unsigned long pgoff_t;
typedef unsigned long vm_flags_t;

struct address_space;
struct anon_vma;
struct file;
struct pinmm;
struct pinmm_proc;
struct vm_operations_struct;

/*
 * Page flags.  Bits of page->flags; most are meaningful on the folio's head
 * page only.  PG_anon_exclusive is per page (each subpage of a PTE-mapped
 * anonymous THP carries its own), as in Linux.
 */
enum pageflags {
	PG_locked,		/* folio lock (folio_lock()) */
	PG_writeback,		/* I/O in flight */
	PG_referenced,
	PG_uptodate,
	PG_dirty,
	PG_lru,			/* on an LRU list */
	PG_head,		/* first page of a large folio */
	PG_active,
	PG_private,		/* folio->private is set by the filesystem */
	PG_reserved,		/* never freed: zero page, boot allocations */
	PG_swapbacked,		/* anon or shmem: no backing file blocks */
	PG_anon_exclusive,	/* per page: mapped by exactly one mm (§4.5) */
	PG_buddy,		/* head of a free buddy block; private = order */
	PG_pgtable,		/* a page-table page */
	PG_reclaim,
	PG_mlocked,
	PG_hwpoison,
	PG_large_rmappable,
	PG_isolated,		/* taken off the LRU for migration */
	PG_poisoned,		/* debug: frame contents poisoned on free */
	PG_devmap,		/* ZONE_DEVICE (pmem) frame */
	PG_zero,		/* the shared zero page / huge zero folio */
	PG_mappedtodisk,	/* all blocks of the page are allocated */
	PG_nodisk,		/* legacy: dirty data writeback had to skip */
	PG_pcp,			/* free, on a per-CPU page list (page_pcp.c) */
	PG_swapcache,		/* in the swap cache; private = slot (swap.h) */
	PG_hugetlb,		/* head of a hugetlb folio (mm/hugetlb.c), pool or in use */
	__NR_PAGEFLAGS
};

/*
 * struct page - one 4 KiB frame: 64 bytes (static-asserted).
 *
 * @_refcount: atomic; 0 means free (or frozen for split/migration).  Pins
 * on small folios are folded in as GUP_PIN_COUNTING_BIAS each.
 * @_mapcount: atomic; -1 based (page_mapcount() = _mapcount + 1).
 * @flags: atomic bit operations, or plain stores while the page is owned
 * exclusively (being allocated or freed).
 * @mapping/@index: set under the folio lock for file pages, at rmap time for
 * anonymous pages; read locklessly by GUP-fast (READ_ONCE).
 * @lru: free list (zone->lock) or LRU list (machine lru lock).
 * @ptl: page-table pages only: the split page-table lock of that table.
 */
struct page {
	unsigned long flags;
	union {
		struct list_head lru;
		struct {
			unsigned long compound_head;	/* tail: head | 1 */
			unsigned long __tail_pad;
		};
		struct {
			void *__rcu_next;		/* page-table pages being freed */
			void (*__rcu_func)(void *);
		};
	};
	struct address_space *mapping;
	pgoff_t index;
	union {
		unsigned long private;
		spinlock_t ptl;
	};
	atomic_t _mapcount;
	atomic_t _refcount;
	unsigned long pinmm_data;	/* owner-defined: pt level, provenance id */
};

/*
 * struct folio - a power-of-two group of pages; overlays the struct pages it
 * is made of.  Fields past @page (the "first tail page" fields) exist only
 * for large folios (order >= 1).
 */
struct folio {
	union {
		struct {
			unsigned long flags;
			struct list_head lru;
			struct address_space *mapping;
			pgoff_t index;
			void *private;
			atomic_t _mapcount;
			atomic_t _refcount;
			unsigned long pinmm_data;
		};
		struct page page;
	};
	union {
		struct {
			unsigned long _flags_1;		/* low byte: order */
			unsigned long _head_1;		/* page[1].compound_head */
			atomic_t _large_mapcount;	/* all mappings, -1 based */
			atomic_t _entire_mapcount;	/* PMD/PUD mappings, -1 based */
			atomic_t _nr_pages_mapped;	/* subpages with a PTE mapping */
			atomic_t _pincount;		/* exact pins (large folios) */
			unsigned long _folio_nr_pages;
		};
		struct page __page_1;
	};
};

BUILD_BUG_ON(sizeof(struct page) > 64);
BUILD_BUG_ON(sizeof(struct folio) != 2 * sizeof(struct page));
BUILD_BUG_ON(offsetof(struct folio, _head_1) != sizeof(struct page) + offsetof(struct page, compound_head));
BUILD_BUG_ON(offsetof(struct folio, _pincount) >= sizeof(struct page) + offsetof(struct page, _mapcount));
BUILD_BUG_ON(offsetof(struct folio, _folio_nr_pages) + sizeof(unsigned long) > sizeof(struct page) + offsetof(struct page, _mapcount));

/* Page-table entries: x86-64 layout, one 64-bit word each. */
typedef struct { uint64_t pte; } pte_t;
typedef struct { uint64_t pmd; } pmd_t;
typedef struct { uint64_t pud; } pud_t;
typedef struct { uint64_t pgd; } pgd_t;
typedef struct { uint64_t pgprot; } pgprot_t;

/* VMA flags (Linux's values). */
#define VM_NONE		0x00000000UL
#define VM_READ		0x00000001UL
#define VM_WRITE	0x00000002UL
#define VM_EXEC		0x00000004UL
#define VM_SHARED	0x00000008UL
#define VM_MAYREAD	0x00000010UL
#define VM_MAYWRITE	0x00000020UL
#define VM_MAYEXEC	0x00000040UL
#define VM_MAYSHARE	0x00000080UL
#define VM_GROWSDOWN	0x00000100UL
#define VM_PFNMAP	0x00000400UL
#define VM_LOCKED	0x00002000UL
#define VM_IO		0x00004000UL
#define VM_DONTCOPY	0x00020000UL
#define VM_DONTEXPAND	0x00040000UL
#define VM_ACCOUNT	0x00100000UL
#define VM_NORESERVE	0x00200000UL
#define VM_HUGETLB	0x00400000UL
#define VM_MIXEDMAP	0x10000000UL
#define VM_HUGEPAGE	0x20000000UL
#define VM_NOHUGEPAGE	0x40000000UL
#define VM_MERGEABLE	0x80000000UL	/* MADV_MERGEABLE: ksmd may merge its pages */
#define VM_SOFTDIRTY	0x08000000UL
#define VM_ACCESS_FLAGS	(VM_READ | VM_WRITE | VM_EXEC)

/*
 * struct vm_area_struct - one mapping of an mm.
 *
 * Every field is written under the mm's mmap_lock held for writing and read
 * under it held for reading, except @anon_vma, which the first anonymous
 * fault may install under mmap_lock for reading plus mm->page_table_lock
 * (readers under a read-locked mmap_lock use smp_load_acquire()), and
 * @vm_flags / @vm_page_prot, which rmap walkers (migration's restore, the
 * mkclean and unmap walks) read under the rmap locks alone: mprotect and
 * madvise store them with WRITE_ONCE, those walkers load them with
 * READ_ONCE, as Linux does.  @anon_vma_node is on anon_vma->vmas (anon_vma->rwsem); @shared_node is on
 * mapping->i_mmap (mapping->i_mmap_rwsem).
 */
struct vm_area_struct {
	unsigned long vm_start;
	unsigned long vm_end;
	struct mm_struct *vm_mm;
	vm_flags_t vm_flags;
	pgprot_t vm_page_prot;
	unsigned long vm_pgoff;		/* in PAGE_SIZE units */
	struct file *vm_file;
	const struct vm_operations_struct *vm_ops;
	struct anon_vma *anon_vma;
	/*
	 * Stands for Linux's per-VMA anon_vma of a fork child: 0 for a VMA
	 * whose anon_vma is its own (Linux: a singular anon_vma_chain); else a
	 * number dup_mmap() gave it, unique among the VMAs of the child, which
	 * splits copy.  Merges compare it with @anon_vma (vma.c).
	 */
	unsigned long anon_vma_fork_id;
	struct rb_node vm_rb;		/* mm->mm_rb, ordered by address */
	struct list_head vm_list;	/* mm->mmap_list, ordered by address */
	struct list_head anon_vma_node;
	struct list_head shared_node;
	void *vm_private_data;		/* hugetlb: private resv_map | HPAGE_RESV_* */
};
/* vm_area_dup() copies everything before the rmap nodes, then this. */
BUILD_BUG_ON(offsetof(struct vm_area_struct, shared_node) !=
	     offsetof(struct vm_area_struct, anon_vma_node) + sizeof(struct list_head));
BUILD_BUG_ON(offsetof(struct vm_area_struct, vm_private_data) !=
	     offsetof(struct vm_area_struct, shared_node) + sizeof(struct list_head));

/*
 * struct anon_vma - reverse map for anonymous pages.  pinmm keeps one
 * anon_vma per fork family of a VMA: parent and child VMAs share it, so an
 * rmap walk visits every VMA that might map the page (a superset of what
 * Linux's anon_vma_chain computes; see doc/DESIGN.md).  Every anonymous
 * folio and every VMA holds a reference.
 */
struct anon_vma {
	struct rw_semaphore rwsem;	/* protects @vmas */
	struct list_head vmas;
	atomic_t refcount;
};

#define MMF_HAS_PINNED	27

enum mm_counter { MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES, NR_MM_COUNTERS };

/*
 * struct mm_struct - an address space.
 *
 * @mmap_lock orders VMA changes (write) against faults and GUP (read).
 * @page_table_lock protects populating the upper page-table levels (PUD and
 * PMD tables, and a PTE table installed into an empty PMD) and
 * @vma->anon_vma installation.  PTE contents are protected by the split
 * PTE lock of their table; PMD entries by the split PMD lock of the PMD
 * table page.  @write_protect_seq is odd while fork write-protects this mm
 * (§3.2).  @pgd is only ever read locklessly after it is set.
 */
struct mm_struct {
	struct pinmm *machine;
	int owner_pid;				/* the process's pid, 0 before */
	struct list_head mmlist;		/* machine->mm_list, proc_lock */
	unsigned long pgd_pfn;
	uint64_t *pgd;				/* host address of the PGD table */
	struct rw_semaphore mmap_lock;
	spinlock_t page_table_lock;
	struct rb_root mm_rb;			/* mmap_lock */
	struct list_head mmap_list;		/* mmap_lock */
	int map_count;				/* mmap_lock */
	unsigned long total_vm;			/* pages, mmap_lock */
	unsigned long flags;			/* MMF_* bits, atomic ops */
	seqcount_t write_protect_seq;
	atomic_t mm_users;			/* processes using it */
	atomic_t mm_count;			/* references to the struct */
	atomic_long_t pinned_vm;		/* pages pinned long-term */
	atomic_long_t locked_vm;
	atomic_long_t rss[NR_MM_COUNTERS];
	atomic_long_t pgtables_pages;
	unsigned long mmap_base;		/* top of the top-down area */
	void *notifier_subscriptions;		/* MMU notifiers (issue 5) */
};

#endif /* PINMM_MM_TYPES_H */
