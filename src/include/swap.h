/* SPDX-License-Identifier: MIT */
/*
 * swap.h - the swap device, swap entries in page tables and the swap cache.
 *
 * One swap device per machine (config key `swap`), memory-backed like zram:
 * a host mapping of `swap` bytes touched lazily, slot 0 being the header
 * that Linux never hands out.  A swapped-out anonymous page is a non-present
 * PTE of type SWP_SWAPFILE whose offset is the slot; like Linux's x86 entry
 * it carries two software bits: the exclusive bit (pte_swp_exclusive: the
 * page was PageAnonExclusive when it was unmapped) and the soft-dirty bit.
 *
 * Per slot, swap_map[] holds the number of swap entries that reference it
 * (page-table entries) plus SWAP_HAS_CACHE while a folio for the slot is in
 * the swap cache (swap_cache[], indexed by slot).  A folio in the swap cache
 * has PG_swapcache, its slot in folio->private and one reference owned by
 * the cache, which every "who else holds this folio" check counts.
 *
 * Lock: si->lock (a spinlock, innermost: taken under page-table locks and
 * the folio lock, never the other way round) protects swap_map[],
 * swap_cache[], inuse_pages and cluster_next.  Slot contents are written by
 * swap-out with the folio locked and in the swap cache (nobody can read the
 * slot then: a reader finds the cached folio) and read by swap-in after it
 * set SWAP_HAS_CACHE on a slot without a cached folio.
 */
#ifndef PINMM_SWAP_H
#define PINMM_SWAP_H

#include "mm.h"
#include "pgtable.h"

/* Entry type of the swap device; types 1-3 are migration entries. */
#define SWP_SWAPFILE		0
/* Software bits of a swap PTE (x86 uses bit 7 for the exclusive marker). */
#define _PAGE_SWP_EXCLUSIVE	_PAGE_PSE
#define _PAGE_SWP_SOFT_DIRTY	_PAGE_SOFT_DIRTY

#define SWAP_HAS_CACHE		0x80000000u	/* swap_map[]: a folio is cached */
#define SWAP_COUNT_MASK		0x7fffffffu

struct swap_info_struct {
	struct pinmm *machine;
	spinlock_t lock;
	unsigned long max;		/* slots, header slot 0 included */
	unsigned long inuse_pages;	/* lock: slots with a count or a cache */
	unsigned long cluster_next;	/* lock: where the next search starts */
	unsigned int *swap_map;		/* lock */
	struct folio **swap_cache;	/* lock */
	unsigned char *data;		/* max pages of host memory */
	size_t data_bytes;
	uint64_t latency_us;		/* swap.latency_us: per page read or written */
	int *audit_refs;		/* the auditor's per-slot tally (its mutex) */
};

static inline bool is_swapfile_entry(pte_t pte)
{
	return is_swap_pte(pte) && swp_type(pte) == SWP_SWAPFILE;
}
static inline pte_t swp_slot_pte(unsigned long offset)
{
	return swp_entry_to_pte(SWP_SWAPFILE, offset);
}
static inline bool pte_swp_exclusive(pte_t pte) { return pte_val(pte) & _PAGE_SWP_EXCLUSIVE; }
static inline pte_t pte_swp_mkexclusive(pte_t pte)
{
	return __pte(pte_val(pte) | _PAGE_SWP_EXCLUSIVE);
}
static inline pte_t pte_swp_clear_exclusive(pte_t pte)
{
	return __pte(pte_val(pte) & ~_PAGE_SWP_EXCLUSIVE);
}
static inline bool pte_swp_soft_dirty(pte_t pte) { return pte_val(pte) & _PAGE_SWP_SOFT_DIRTY; }
static inline pte_t pte_swp_mksoft_dirty(pte_t pte)
{
	return __pte(pte_val(pte) | _PAGE_SWP_SOFT_DIRTY);
}
static inline pte_t pte_swp_clear_soft_dirty(pte_t pte)
{
	return __pte(pte_val(pte) & ~_PAGE_SWP_SOFT_DIRTY);
}

/* The slot of a folio in the swap cache (folio->swap in Linux). */
static inline unsigned long folio_swap_offset(const struct folio *folio)
{
	return (unsigned long)folio->private;
}

/* swapfile.c: the device, slot counts and the swap cache */
int swap_init(struct pinmm *m);
void swap_exit(struct pinmm *m);
long swap_check_leaks(struct pinmm *m, bool report);
bool swap_enabled(struct pinmm *m);
int folio_alloc_swap(struct folio *folio);
int swap_duplicate(struct pinmm *m, pte_t entry);
void swap_free(struct pinmm *m, pte_t entry);
void free_swap_and_cache(struct pinmm *m, pte_t entry);
bool folio_free_swap(struct folio *folio);
bool swap_remove_mapping(struct folio *folio);
int swap_entry_count(struct pinmm *m, unsigned long offset);
struct folio *swap_cache_get_folio(struct pinmm *m, unsigned long offset);
int swapcache_prepare(struct pinmm *m, unsigned long offset);
void swapcache_clear(struct pinmm *m, unsigned long offset);
void swap_add_read_folio(struct folio *folio, unsigned long offset);
void swap_writepage(struct folio *folio);

/* swap_state.c: swap-out (reclaim, MADV_PAGEOUT) and swap-in (faults) */
int shrink_anon_folio(struct folio *folio);
long madvise_pageout(struct vm_area_struct *vma, unsigned long start, unsigned long end);
long reclaim_anon_pages(struct pinmm *m, long nr_to_scan);

#endif /* PINMM_SWAP_H */
