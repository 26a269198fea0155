/* SPDX-License-Identifier: MIT */
/*
 * vmstat.c - the names of the machine's counters and pinmm_vmstat() /
 * pinmm_vmstat_foreach().
 *
 * Event and state counters are per CPU (machine.h): count_vm_event() and
 * mod_vm_stat() add to the calling CPU's share in m->vm_cpu[], and a read
 * (vm_stat_snapshot()) sums m->vmstat[] (the base, set at boot) and every
 * CPU's share, so a reader is exact whenever the machine is quiescent.
 * Linux keeps per-CPU diffs that fold into a global counter past a
 * threshold, for cheap approximate reads; pinmm's readers are rare (tests,
 * the tool, shutdown) and always sum (doc/DESIGN.md, "Per-CPU data").
 *
 * This file adds the synthetic per-zone counters (free, used, managed pages)
 * and warn_count, which is the process-wide WARN count since the machine
 * booted (m->vmstat[WARN_COUNT] holds minus the count at boot, plus any WARN
 * the machine counted itself).  Free pages include the per-CPU page lists:
 * nr_free_pages and nr_free_<zone> are buddy + pcp pages.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mm.h"
#include "rcu.h"

static const char *const vmstat_names[] = {
	[NR_FOLL_PIN_ACQUIRED] = "nr_foll_pin_acquired",
	[NR_FOLL_PIN_RELEASED] = "nr_foll_pin_released",
	[NR_FREE_PAGES] = "nr_free_pages",
	[NR_ANON_PAGES] = "nr_anon_pages",
	[NR_FILE_PAGES] = "nr_file_pages",
	[NR_SHMEM] = "nr_shmem",
	[NR_ANON_THPS] = "nr_anon_transparent_hugepages",
	[NR_PAGETABLE] = "nr_page_table_pages",
	[NR_DIRTY] = "nr_dirty",
	[NR_WRITEBACK] = "nr_writeback",
	[PGALLOC] = "pgalloc",
	[PGFREE] = "pgfree",
	[PGFAULT] = "pgfault",
	[PGMAJFAULT] = "pgmajfault",
	[THP_FAULT_ALLOC] = "thp_fault_alloc",
	[THP_FAULT_FALLBACK] = "thp_fault_fallback",
	[THP_SPLIT_PAGE] = "thp_split_page",
	[THP_SPLIT_PAGE_FAILED] = "thp_split_page_failed",
	[THP_SPLIT_PMD] = "thp_split_pmd",
	[THP_ZERO_PAGE_ALLOC] = "thp_zero_page_alloc",
	[COW_FAULT] = "cow_fault",
	[COW_REUSE] = "cow_reuse",
	[KSM_PAGES_SHARED] = "ksm_pages_shared",
	[KSM_PAGES_SHARING] = "ksm_pages_sharing",
	[KSM_PAGES_MERGED] = "ksm_pages_merged",
	[KSM_PINNED_SKIP] = "ksm_pinned_skip",
	[KSM_FULL_SCANS] = "ksm_full_scans",
	[THP_COLLAPSE_ALLOC] = "thp_collapse_alloc",
	[THP_COLLAPSE_ALLOC_FAILED] = "thp_collapse_alloc_failed",
	[THP_COLLAPSE_REFUSED_REFCOUNT] = "thp_collapse_refused_refcount",
	[THP_SCAN_EXCEED_NONE_PTE] = "thp_scan_exceed_none_pte",
	[THP_SCAN_EXCEED_SWAP_PTE] = "thp_scan_exceed_swap_pte",
	[THP_SCAN_EXCEED_SHARED_PTE] = "thp_scan_exceed_share_pte",
	[KHUGEPAGED_PAGES_COLLAPSED] = "khugepaged_pages_collapsed",
	[KHUGEPAGED_FULL_SCANS] = "khugepaged_full_scans",
	[COW_KSM] = "cow_ksm",
	[UNSHARE_FAULT] = "unshare_fault",
	[ZERO_PAGE_MAPPED] = "zero_page_mapped",
	[FORK_COW_COPY] = "fork_cow_copy",
	[FORK_COW_SHARE] = "fork_cow_share",
	[PGMIGRATE_SUCCESS] = "pgmigrate_success",
	[PGMIGRATE_FAIL] = "pgmigrate_fail",
	[LONGTERM_MIGRATE] = "longterm_migrate",
	[COMPACT_PINNED_SKIP] = "compact_pinned_skip",
	[GUP_FAST_CALLS] = "gup_fast_calls",
	[GUP_FAST_FALLBACK] = "gup_fast_fallback",
	[GUP_SLOW_CALLS] = "gup_slow_calls",
	[UNPIN_NOT_PINNED] = "unpin_not_pinned",
	[PINNED_PAGE_DETACHED] = "pinned_page_detached",
	[DAX_FAULT] = "dax_fault",
	[DAX_TRUNCATE_WAITS] = "dax_truncate_waits",
	[DAX_TRUNCATE_TIMEOUTS] = "dax_truncate_timeouts",
	[NR_DAX_BUSY] = "nr_dax_busy",
	[PINNED_DIRTY_NO_BLOCKS] = "pinned_dirty_no_blocks",
	[LOST_BYTES] = "lost_bytes",
	[TORN_WRITES] = "torn_writes",
	[TORN_BYTES] = "torn_bytes",
	[HOLDOFF_STALLS] = "holdoff_stalls",
	[HOLDOFF_STALL_NS] = "holdoff_stall_ns",
	[HOLDOFF_TIMEOUTS] = "holdoff_timeouts",
	[BOUNCE_PAGES] = "bounce_pages",
	[BOUNCE_BYTES] = "bounce_bytes",
	[LEASE_BREAKS] = "lease_breaks",
	[LEASE_REVOCATIONS] = "lease_revocations",
	[LEASE_FENCED_WRITES] = "lease_fenced_writes",
	[LEASE_FENCED_BYTES] = "lease_fenced_bytes",
	[LEASE_FENCED_READS] = "lease_fenced_reads",
	[LEASE_ETXTBSY] = "lease_etxtbsy",
	[LEASE_BREAK_STALL_NS] = "lease_break_stall_ns",
	[FILE_PIN_UNKNOWN_UNPINS] = "file_pin_unknown_unpins",
	[BUSY_BLOCKS] = "busy_blocks",
	[BUSY_BLOCKS_RELEASED] = "busy_blocks_released",
	[DIO_READS] = "dio_reads",
	[DIO_WRITES] = "dio_writes",
	[DIO_BYTES] = "dio_bytes",
	[PSWPIN] = "pswpin",
	[PSWPOUT] = "pswpout",
	[PSWPOUT_PINNED_SKIP] = "pswpout_pinned_skip",
	[NR_SWAPCACHE] = "nr_swapcached",
	[NR_SWAP_USED] = "nr_swap_used",
	[HUGETLB_NR_2M] = "nr_hugepages_2048kB",
	[HUGETLB_FREE_2M] = "free_hugepages_2048kB",
	[HUGETLB_RSVD_2M] = "resv_hugepages_2048kB",
	[HUGETLB_SURP_2M] = "surplus_hugepages_2048kB",
	[HUGETLB_NR_1G] = "nr_hugepages_1048576kB",
	[HUGETLB_FREE_1G] = "free_hugepages_1048576kB",
	[HUGETLB_RSVD_1G] = "resv_hugepages_1048576kB",
	[HUGETLB_SURP_1G] = "surplus_hugepages_1048576kB",
	[HUGETLB_COW] = "hugetlb_cow",
	[HUGETLB_SIGBUS] = "hugetlb_sigbus",
	[WARN_COUNT] = "warn_count",
	[OOPS] = "oops",
	[PGCACHE_LOOKUP_RETRY] = "pgcache_lookup_retry",
};
/*
 * Complete: the table is sized by its initialisers, so a missing or extra
 * last item fails here; a gap in the middle is a NULL caught by the BUG_ON()
 * in pinmm_vmstat() at the first lookup.
 */
BUILD_BUG_ON(ARRAY_SIZE(vmstat_names) != NR_VM_STAT_ITEMS);

/* Synthetic per-zone counters, after the vmstat[] items. */
enum zone_stat { ZS_FREE, ZS_USED, ZS_MANAGED, NR_ZONE_STATS };
static const char *const zone_stat_prefix[NR_ZONE_STATS] = { "nr_free_", "nr_used_", "nr_managed_" };
static const char *const zone_stat_names[MAX_NR_ZONES][NR_ZONE_STATS] = {
	[ZONE_NORMAL] = { "nr_free_normal", "nr_used_normal", "nr_managed_normal" },
	[ZONE_CMA] = { "nr_free_cma", "nr_used_cma", "nr_managed_cma" },
	[ZONE_MOVABLE] = { "nr_free_movable", "nr_used_movable", "nr_managed_movable" },
	[ZONE_DEVICE] = { "nr_free_device", "nr_used_device", "nr_managed_device" },
};

/*
 * Per-size THP counters (machine.h, mthp.c): Linux's
 * /sys/kernel/mm/transparent_hugepage/hugepages-<size>kB/stats/<item>.
 */
#define MTHP_NAMES(kb) {							\
	"hugepages-" #kb "kB/stats/anon_fault_alloc",				\
	"hugepages-" #kb "kB/stats/anon_fault_fallback",			\
	"hugepages-" #kb "kB/stats/swpout",					\
	"hugepages-" #kb "kB/stats/swpout_fallback",				\
	"hugepages-" #kb "kB/stats/split",					\
	"hugepages-" #kb "kB/stats/split_failed",				\
	"hugepages-" #kb "kB/stats/split_deferred",				\
	"hugepages-" #kb "kB/stats/nr_anon",					\
	"hugepages-" #kb "kB/stats/nr_anon_partially_mapped",			\
}
static const char *const mthp_stat_names[PINMM_THP_NR_SIZES][NR_MTHP_STAT_ITEMS] = {
	MTHP_NAMES(16), MTHP_NAMES(32), MTHP_NAMES(64), MTHP_NAMES(128),
	MTHP_NAMES(256), MTHP_NAMES(512), MTHP_NAMES(1024), MTHP_NAMES(2048),
};
#undef MTHP_NAMES

/**
 * vmstat_name() - the /proc/vmstat-style name of a counter.
 * @item: the counter
 *
 * Context: any.
 * Return: the static name, or "?" for an out-of-range item.
 */
const char *vmstat_name(enum vm_stat_item item)
{
	if ((unsigned)item >= NR_VM_STAT_ITEMS || !vmstat_names[item])
		return "?";
	return vmstat_names[item];
}

/**
 * vmstat_init() - allocate the per-CPU counter shares of @m.
 * @m: the machine being booted; m->nr_cpus is set
 *
 * Context: boot, before anything counts.
 * Return: 0, or -ENOMEM.
 */
int vmstat_init(struct pinmm *m)
{
	size_t bytes = m->nr_cpus * sizeof(*m->vm_cpu);

	m->vm_cpu = aligned_alloc(_Alignof(struct vm_stat_cpu), bytes);
	if (!m->vm_cpu)
		return -ENOMEM;
	for (unsigned int cpu = 0; cpu < m->nr_cpus; cpu++)
		for (int i = 0; i < NR_VM_STAT_ITEMS; i++)
			atomic_long_set(&m->vm_cpu[cpu].count[i], 0);
	return 0;
}

/**
 * vmstat_exit() - free the per-CPU counter shares of @m.
 * @m: the machine, with nothing counting any more
 *
 * Context: shutdown (or a failed boot).
 */
void vmstat_exit(struct pinmm *m)
{
	free(m->vm_cpu);
	m->vm_cpu = NULL;
}

/**
 * vm_stat_snapshot() - the value of one counter: its base plus every CPU's
 * share.
 * @m: the machine
 * @item: the counter
 *
 * Each share is read atomically; the sum is exact when nothing updates the
 * counter meanwhile.
 * Context: any; lock-free.
 * Return: the value.
 */
long vm_stat_snapshot(struct pinmm *m, enum vm_stat_item item)
{
	long v = atomic_long_read(&m->vmstat[item]);

	for (unsigned int cpu = 0; cpu < m->nr_cpus; cpu++)
		v += atomic_long_read(&m->vm_cpu[cpu].count[item]);
	return v;
}

static long vmstat_item_value(struct pinmm *m, enum vm_stat_item item)
{
	long v = vm_stat_snapshot(m, item);

	if (item == WARN_COUNT)
		v += pinmm_warn_count();
	/* NR_FREE_PAGES counts the buddy lists, as in Linux; readers add pcp. */
	if (item == NR_FREE_PAGES)
		for (int z = 0; z < MAX_NR_ZONES; z++)
			v += zone_pcp_pages(m, &m->zones[z]);
	return v;
}

static long zone_stat_value(struct pinmm *m, enum zone_type z, enum zone_stat s)
{
	struct zone *zone = &m->zones[z];
	long managed = (long)zone->managed_pages;
	long nr_free = z == ZONE_DEVICE ? 0 :
		       atomic_long_read(&zone->nr_free) + zone_pcp_pages(m, zone);

	switch (s) {
	case ZS_FREE:
		return nr_free;
	case ZS_USED:
		return z == ZONE_DEVICE ? 0 : managed - nr_free;
	default:
		return managed;
	}
}

/**
 * pinmm_vmstat() - read one counter of @m by name.
 * @m: the machine
 * @name: a counter name (pinmm_vmstat_foreach() lists them all)
 *
 * Counters are read without a lock, each one as the sum of its per-CPU
 * shares; a counter read while the machine runs may miss updates in flight,
 * and two counters read one after the other need not be mutually
 * consistent.  With the machine quiescent every value is exact.
 * Context: any.
 * Return: the value (>= 0 for every counter except transient state
 * counters), -ENOENT if @name is unknown, -EINVAL for NULL arguments.
 */
long pinmm_vmstat(struct pinmm *m, const char *name)
{
	pinmm_thread_enter();
	if (!m || !name)
		return -EINVAL;
	for (int i = 0; i < NR_VM_STAT_ITEMS; i++) {
		BUG_ON(!vmstat_names[i]);	/* the table must be complete */
		if (!strcmp(name, vmstat_names[i]))
			return vmstat_item_value(m, (enum vm_stat_item)i);
	}
	for (int s = 0; s < NR_ZONE_STATS; s++) {
		size_t plen = strlen(zone_stat_prefix[s]);

		if (strncmp(name, zone_stat_prefix[s], plen))
			continue;
		for (int z = 0; z < MAX_NR_ZONES; z++)
			if (!strcmp(name, zone_stat_names[z][s]))
				return zone_stat_value(m, (enum zone_type)z, (enum zone_stat)s);
	}
	if (!strncmp(name, "hugepages-", 10))
		for (int o = 0; o < PINMM_THP_NR_SIZES; o++)
			for (int i = 0; i < NR_MTHP_STAT_ITEMS; i++)
				if (!strcmp(name, mthp_stat_names[o][i]))
					return atomic_long_read(&m->mthp_stat[o][i]);
	return -ENOENT;
}

/**
 * pinmm_vmstat_foreach() - call @fn with every counter of @m.
 * @m: the machine
 * @fn: called with the name, the value and @arg
 * @arg: passed through
 *
 * Order: the vmstat items in enum order, then per zone (normal, cma,
 * movable, device) its free, used and managed page counts, then the
 * per-size THP counters (hugepages-16kB/stats/... to hugepages-2048kB/...).
 * Context: any; @fn must not shut @m down.
 * Return: the number of counters, -EINVAL for NULL arguments.
 */
int pinmm_vmstat_foreach(struct pinmm *m,
			 void (*fn)(const char *name, long value, void *arg), void *arg)
{
	int n = 0;

	pinmm_thread_enter();
	if (!m || !fn)
		return -EINVAL;
	for (int i = 0; i < NR_VM_STAT_ITEMS; i++, n++)
		fn(vmstat_name((enum vm_stat_item)i), vmstat_item_value(m, (enum vm_stat_item)i), arg);
	for (int z = 0; z < MAX_NR_ZONES; z++)
		for (int s = 0; s < NR_ZONE_STATS; s++, n++)
			fn(zone_stat_names[z][s],
			   zone_stat_value(m, (enum zone_type)z, (enum zone_stat)s), arg);
	for (int o = 0; o < PINMM_THP_NR_SIZES; o++)
		for (int i = 0; i < NR_MTHP_STAT_ITEMS; i++, n++)
			fn(mthp_stat_names[o][i], atomic_long_read(&m->mthp_stat[o][i]), arg);
	return n;
}
