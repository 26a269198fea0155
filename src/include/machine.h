/* SPDX-License-Identifier: MIT */
/*
 * machine.h - struct pinmm (one simulated machine), its zones, its vmstat
 * counters and its processes.
 *
 * Physical memory is one host mapping of cfg.ram + cfg.pmem bytes,
 * MAP_NORESERVE, touched lazily; the memmap (one struct page per frame) is a
 * second lazily-touched host mapping.  Frame @pfn lives at
 * m->mem + (pfn << PAGE_SHIFT) and is described by m->memmap[pfn].
 *
 * Physical layout, low to high:  NORMAL | CMA | MOVABLE | DEVICE (pmem).
 */
#ifndef PINMM_MACHINE_H
#define PINMM_MACHINE_H

#include <pinmm/pinmm.h>
#include "mm_types.h"
#include "smp.h"

enum zone_type {
	ZONE_NORMAL,
	ZONE_CMA,	/* Linux: MIGRATE_CMA pageblocks of ZONE_NORMAL (DESIGN.md) */
	ZONE_MOVABLE,
	ZONE_DEVICE,	/* pmem frames for DAX; not in the buddy allocator */
	MAX_NR_ZONES
};

struct free_area {
	struct list_head free_list;	/* heads of free blocks, PG_buddy */
	unsigned long nr_free;		/* blocks of this order */
};

/*
 * struct per_cpu_pages - one CPU's cache of free order-0 pages of a zone
 * (page_pcp.c).  @lock protects @list and @count, and nests outside
 * zone->lock; @count is also read without it (READ_ONCE) to sum free pages.
 * Pages on @list carry PG_pcp; they are free but not in the buddy lists.
 */
struct per_cpu_pages {
	spinlock_t lock;
	int count;				/* pages on @list */
	int high;				/* free beyond this: drain @batch */
	int batch;				/* pages per refill / drain */
	struct list_head list;			/* order-0 pages, PG_pcp, via ->lru */
} __attribute__((aligned(64)));

/*
 * struct zone - a contiguous pfn range with its own buddy allocator.
 * @lock protects @free_area and the PG_buddy/order state of free blocks.
 * @pcp: m->nr_cpus per-CPU page lists (NULL for ZONE_DEVICE).
 */
struct zone {
	struct pinmm *machine;
	enum zone_type idx;
	const char *name;
	unsigned long start_pfn;
	unsigned long end_pfn;			/* exclusive */
	spinlock_t lock;
	struct free_area free_area[NR_PAGE_ORDERS];
	atomic_long_t nr_free;			/* free pages in the buddy lists */
	unsigned long managed_pages;
	struct per_cpu_pages *pcp;
	atomic_t pcp_disabled;			/* > 0: bypass @pcp (zone_pcp_disable()) */
};

/*
 * Event and state counters (pinmm_vmstat()).  The names in vmstat.c follow
 * /proc/vmstat where Linux has the counter.
 */
enum vm_stat_item {
	NR_FOLL_PIN_ACQUIRED,
	NR_FOLL_PIN_RELEASED,
	NR_FREE_PAGES,
	NR_ANON_PAGES,			/* anonymous pages mapped */
	NR_FILE_PAGES,			/* page-cache pages */
	NR_SHMEM,
	NR_ANON_THPS,
	NR_PAGETABLE,
	NR_DIRTY,
	NR_WRITEBACK,
	PGALLOC,
	PGFREE,
	PGFAULT,
	PGMAJFAULT,
	THP_FAULT_ALLOC,
	THP_FAULT_FALLBACK,
	THP_SPLIT_PAGE,
	THP_SPLIT_PAGE_FAILED,
	THP_SPLIT_PMD,
	THP_ZERO_PAGE_ALLOC,
	COW_FAULT,			/* write faults that copied */
	COW_REUSE,			/* write faults that reused an exclusive page */
	UNSHARE_FAULT,
	ZERO_PAGE_MAPPED,
	FORK_COW_COPY,			/* pages copied at fork because maybe pinned */
	FORK_COW_SHARE,			/* pages shared COW at fork */
	PGMIGRATE_SUCCESS,
	PGMIGRATE_FAIL,
	LONGTERM_MIGRATE,		/* pages moved out of MOVABLE/CMA for a pin */
	COMPACT_PINNED_SKIP,
	GUP_FAST_CALLS,
	GUP_FAST_FALLBACK,
	GUP_SLOW_CALLS,
	UNPIN_NOT_PINNED,		/* unpin of something that was not pinned */
	PINNED_PAGE_DETACHED,		/* pinned page unmapped, kept alive by its pin */
	DAX_FAULT,			/* DAX faults that mapped a pmem frame */
	DAX_TRUNCATE_WAITS,		/* truncate/punch waited for a busy DAX frame */
	DAX_TRUNCATE_TIMEOUTS,		/* ... and gave up at the deadline (-EBUSY) */
	NR_DAX_BUSY,			/* state: device frames with references */
	/* Pinned-page policies (doc/PIN-POLICIES.md, src/mm/pin_policy.c) */
	PINNED_DIRTY_NO_BLOCKS,		/* pinned page dirtied without its block mapping */
	LOST_BYTES,			/* bytes a device wrote that can never reach disk */
	TORN_WRITES,			/* writebacks whose page changed during the I/O */
	TORN_BYTES,			/* ... bytes that changed */
	HOLDOFF_STALLS,			/* waits for a pin to be released */
	HOLDOFF_STALL_NS,		/* ... time spent waiting */
	HOLDOFF_TIMEOUTS,		/* ... that reached the deadline */
	BOUNCE_PAGES,			/* pinned pages written back from a stable copy */
	BOUNCE_BYTES,
	LEASE_BREAKS,			/* layout leases broken (truncate, punch) */
	LEASE_REVOCATIONS,		/* ... not released in time: pins fenced */
	LEASE_FENCED_WRITES,		/* device writes dropped on fenced pins */
	LEASE_FENCED_BYTES,
	LEASE_FENCED_READS,		/* device reads refused on fenced pins */
	LEASE_ETXTBSY,			/* truncate/punch failed: lease.outcome fail/unbreakable */
	LEASE_BREAK_STALL_NS,		/* time truncate/punch waited for lease holders */
	FILE_PIN_UNKNOWN_UNPINS,	/* vaddr_unpin_pages() of pages no record owns */
	BUSY_BLOCKS,			/* blocks kept allocated under pinned pages (state) */
	BUSY_BLOCKS_RELEASED,		/* ... freed at the last unpin */
	DIO_READS,			/* O_DIRECT requests completed */
	DIO_WRITES,
	DIO_BYTES,
	KSM_PAGES_SHARED,		/* state: KSM pages in use (after a pass) */
	KSM_PAGES_SHARING,		/* state: extra mappings of them (after a pass) */
	KSM_PAGES_MERGED,		/* pages replaced by a KSM page */
	KSM_PINNED_SKIP,		/* pages not merged: GUP reference or pin */
	KSM_FULL_SCANS,			/* ksmd passes */
	COW_KSM,			/* write/unshare faults that copied a KSM page */
	PSWPIN,				/* pages read from swap */
	PSWPOUT,			/* pages written to swap */
	PSWPOUT_PINNED_SKIP,		/* anon folios reclaim kept: maybe DMA-pinned */
	NR_SWAPCACHE,			/* state: folios in the swap cache */
	NR_SWAP_USED,			/* state: swap slots in use */
	/* Collapse (khugepaged.c) and the huge zero page write fault */
	THP_COLLAPSE_ALLOC,		/* THPs allocated to collapse into */
	THP_COLLAPSE_ALLOC_FAILED,
	THP_COLLAPSE_REFUSED_REFCOUNT,	/* ranges refused: a page pinned or referenced */
	THP_SCAN_EXCEED_NONE_PTE,
	THP_SCAN_EXCEED_SWAP_PTE,
	THP_SCAN_EXCEED_SHARED_PTE,
	KHUGEPAGED_PAGES_COLLAPSED,	/* THPs made by khugepaged (pages_collapsed) */
	KHUGEPAGED_FULL_SCANS,		/* khugepaged passes (full_scans) */
	/* hugetlb pools (mm/hugetlb.c), state, per size as in sysfs */
	HUGETLB_NR_2M, HUGETLB_FREE_2M, HUGETLB_RSVD_2M, HUGETLB_SURP_2M,
	HUGETLB_NR_1G, HUGETLB_FREE_1G, HUGETLB_RSVD_1G, HUGETLB_SURP_1G,
	HUGETLB_COW,			/* hugetlb write/unshare faults that copied */
	HUGETLB_SIGBUS,			/* hugetlb faults that raised SIGBUS */
	WARN_COUNT,			/* WARNs on this machine */
	OOPS,				/* BUG()s recorded by pinmm_oops() */
	PGCACHE_LOOKUP_RETRY,		/* lockless page-cache lookups that looked again */
	NR_VM_STAT_ITEMS
};

/*
 * struct vm_stat_cpu - one CPU's share of every vmstat item (vmstat.c).
 * The value of an item is m->vmstat[item] plus the sum over all CPUs.
 */
struct vm_stat_cpu {
	atomic_long_t count[NR_VM_STAT_ITEMS];
} __attribute__((aligned(64)));

/*
 * Per-size anonymous THP counters (mthp.c), one set per order
 * PINMM_THP_MIN_ORDER .. HPAGE_PMD_ORDER; named after Linux's
 * /sys/kernel/mm/transparent_hugepage/hugepages-<size>kB/stats/<name>.
 */
enum mthp_stat_item {
	MTHP_STAT_ANON_FAULT_ALLOC,
	MTHP_STAT_ANON_FAULT_FALLBACK,
	MTHP_STAT_SWPOUT,
	MTHP_STAT_SWPOUT_FALLBACK,
	MTHP_STAT_SPLIT,
	MTHP_STAT_SPLIT_FAILED,
	MTHP_STAT_SPLIT_DEFERRED,
	MTHP_STAT_NR_ANON,		/* state: anonymous folios of this size */
	MTHP_STAT_NR_ANON_PARTIALLY_MAPPED, /* state: ... on the deferred split queue */
	NR_MTHP_STAT_ITEMS
};

struct pinmm_trace;
struct pinmm_vfs;
struct super_block;
struct swap_info_struct;

#define NR_MMU_NOTIFY_EVENTS	8	/* enum mmu_notifier_event */

/*
 * struct pinmm - the machine.
 * @proc_lock protects @procs, @next_pid and @mm_list.
 */
struct pinmm {
	struct pinmm_config cfg;
	int debug;
	void *mem;				/* host address of pfn 0 */
	size_t mem_bytes;
	struct page *memmap;
	size_t memmap_bytes;
	unsigned long nr_pages;			/* frames, pmem included */
	struct zone zones[MAX_NR_ZONES];
	struct page *zero_page;			/* PG_reserved|PG_zero */
	unsigned long zero_pfn;
	struct folio *huge_zero_folio;		/* allocated on first use */
	struct mutex huge_zero_lock;
	atomic_long_t vmstat[NR_VM_STAT_ITEMS];	/* base: boot values, see vm_cpu */
	unsigned int nr_cpus;			/* cfg.nr_cpus */
	struct vm_stat_cpu *vm_cpu;		/* [nr_cpus] per-CPU counter shares */
	struct mutex proc_lock;
	struct list_head procs;
	int next_pid;
	struct list_head mm_list;		/* every mm_struct not yet freed */
	struct pinmm_vfs *vfs;			/* mounts, see fs.h */
	struct super_block *shm_mnt;		/* tmpfs of unlinked files (shmem.c) */
	uint64_t rng;				/* splitmix64 state from cfg.seed */
	atomic_long_t audit_errors;
	void *provenance;			/* pin owner records (issue 3) */
	void *ksm;				/* struct ksm (ksm.c), made on first use */
	void *khugepaged;			/* struct khugepaged (khugepaged.c), boot */
	/* ->invalidate calls per enum mmu_notifier_event (mmu_notifier.c) */
	atomic_long_t mmu_notifier_events[NR_MMU_NOTIFY_EVENTS];
	struct swap_info_struct *swap;		/* NULL without swap (swap.h) */
	/* mthp.c: [order - PINMM_THP_MIN_ORDER][item], relaxed atomics */
	atomic_long_t mthp_stat[PINMM_THP_NR_SIZES][NR_MTHP_STAT_ITEMS];
	/*
	 * The deferred split queue (mthp.c): partially mapped anonymous
	 * folios of order >= 2, linked through folio_deferred_list().
	 * @split_queue_lock protects @split_queue, @split_queue_len and
	 * every queued folio's partially-mapped bit; it nests inside the
	 * PTE lock (doc/LOCKING.md).
	 */
	spinlock_t split_queue_lock;
	struct list_head split_queue;
	long split_queue_len;
	struct hugetlb_pools *hugetlb;		/* hstates and pools (hugetlb.h) */
	/* frames freed by call_rcu() callbacks not yet run (page tables) */
	atomic_long_t nr_rcu_free_pending;
	atomic_long_t rcu_free_waits;		/* allocations that waited for them */
	struct pinmm_trace *trace;		/* trace.file set: kernel/trace.c, else NULL */
};

/*
 * struct pinmm_proc - a process: an mm and a file table.
 * @files is protected by @files_lock.
 */
struct pinmm_proc {
	struct pinmm *machine;
	int pid;
	struct mm_struct *mm;
	struct list_head node;			/* machine->procs */
	struct mutex files_lock;
	struct file **files;
	int nr_files;
	uint64_t rlimit_memlock;		/* bytes */
	bool exited;
	atomic_t usage;				/* handle + alive + pinmm_proc_get() */
};

/* mm_init.c */
struct pinmm *page_machine(const struct page *page);
/*
 * pr_diag() - a runtime diagnostic of machine @m ("pinmm: " + message) on
 * stderr, unless the machine was booted with quiet=1.  Boot errors and
 * leak reports are printed unconditionally, not through this.
 */
__attribute__((format(printf, 2, 3))) void pr_diag(struct pinmm *m, const char *fmt, ...);
/*
 * pinmm_oops() - a kernel BUG() that the model records instead of
 * aborting (bug.c): counts vmstat "oops", prints one line unless quiet.
 */
__attribute__((format(printf, 4, 5))) void pinmm_oops(struct pinmm *m, const char *file,
						       int line, const char *fmt, ...);
void pinmm_count_warn(void);		/* bug.c: count a WARN, print nothing */
/* True when WARN splats are not printed: every booted machine has cfg.quiet. */
bool pinmm_machines_quiet(void);
/* bug.c: a machine (with its cfg.quiet) joins or leaves that decision. */
void pinmm_warn_machine_add(bool quiet);
void pinmm_warn_machine_del(bool quiet);

/* config.c: whole-configuration check at boot (-EINVAL, message on stderr). */
int pinmm_config_validate(const struct pinmm_config *cfg);

/* init/process.c: exit every process of @m (shutdown, before the ->exit hooks). */
void pinmm_procs_exit_all(struct pinmm *m);
/* init/process.c: free a process whose last reference went. */
void proc_release(struct pinmm_proc *p);
/* kernel/machine.c: called by pinmm_proc_put() for the last reference. */
extern void (*pinmm_proc_release)(struct pinmm_proc *p);

/*
 * smp_processor_id_m() - the CPU of machine @m the calling thread runs on:
 * its CPU slot (smp.h) modulo m->nr_cpus.
 */
static inline unsigned int smp_processor_id_m(const struct pinmm *m)
{
	unsigned int cpu = (unsigned int)raw_smp_processor_id();

	return likely(cpu < m->nr_cpus) ? cpu : cpu % m->nr_cpus;
}

/*
 * vmstat.c.  Updates go to the calling CPU's share (a relaxed atomic add
 * on a cache line of its own: CPUs may be shared by threads, smp.h);
 * vm_stat_snapshot() sums the shares.
 */
static inline void count_vm_events(struct pinmm *m, enum vm_stat_item item, long n)
{
	atomic_long_add(n, &m->vm_cpu[smp_processor_id_m(m)].count[item]);
}
static inline void count_vm_event(struct pinmm *m, enum vm_stat_item item)
{
	count_vm_events(m, item, 1);
}
static inline void mod_vm_stat(struct pinmm *m, enum vm_stat_item item, long delta)
{
	count_vm_events(m, item, delta);
}
/* count_mthp_stat() - per-size counter @item of a folio of @order. */
static inline void count_mthp_stat(struct pinmm *m, unsigned int order,
				   enum mthp_stat_item item, long n)
{
	if (order >= PINMM_THP_MIN_ORDER && order < PINMM_THP_MIN_ORDER + PINMM_THP_NR_SIZES)
		atomic_long_add(n, &m->mthp_stat[order - PINMM_THP_MIN_ORDER][item]);
}
const char *vmstat_name(enum vm_stat_item item);
long vm_stat_snapshot(struct pinmm *m, enum vm_stat_item item);
int vmstat_init(struct pinmm *m);
void vmstat_exit(struct pinmm *m);

/* Free order-0 pages of @zone on the per-CPU lists (racy while in use). */
static inline long zone_pcp_pages(const struct pinmm *m, const struct zone *zone)
{
	long n = 0;

	if (!zone->pcp)
		return 0;
	for (unsigned int cpu = 0; cpu < m->nr_cpus; cpu++)
		n += READ_ONCE(zone->pcp[cpu].count);
	return n;
}

/*
 * The per-thread `current`.  current_mm() takes no reference: code that
 * does not hold the mm's mmap_lock or an mm_users reference must use
 * get_current_mm() (mm.h; doc/DESIGN.md §8).
 */
extern __thread struct pinmm_proc *pinmm_current_proc;
static inline struct mm_struct *current_mm(void)
{
	return pinmm_current_proc ? pinmm_current_proc->mm : NULL;
}

static inline struct page *pfn_to_page_m(struct pinmm *m, unsigned long pfn)
{
	return m->memmap + pfn;
}
static inline unsigned long page_to_pfn_m(struct pinmm *m, const struct page *page)
{
	return (unsigned long)(page - m->memmap);
}
static inline void *pfn_to_virt(struct pinmm *m, unsigned long pfn)
{
	return (char *)m->mem + (pfn << PAGE_SHIFT);
}
static inline bool pfn_valid_m(struct pinmm *m, unsigned long pfn)
{
	return pfn < m->nr_pages;
}
static inline enum zone_type pfn_zone_idx(struct pinmm *m, unsigned long pfn)
{
	for (int z = 0; z < MAX_NR_ZONES; z++)
		if (pfn >= m->zones[z].start_pfn && pfn < m->zones[z].end_pfn)
			return (enum zone_type)z;
	return ZONE_NORMAL;
}
static inline struct zone *page_zone_m(struct pinmm *m, const struct page *page)
{
	return &m->zones[pfn_zone_idx(m, page_to_pfn_m(m, page))];
}

/* A deterministic per-machine random number (splitmix64). */
uint64_t pinmm_random(struct pinmm *m);

#endif /* PINMM_MACHINE_H */
