/* SPDX-License-Identifier: MIT */
/*
 * hugetlb.c - the hugetlb pools: one struct hstate per huge page size
 * (2 MiB, 1 GiB), filled at boot from the hugepages.2M / hugepages.1G
 * keys, their free lists and counters (HugePages_Total, _Free, _Rsvd,
 * _Surp, as vmstat items nr_hugepages_<size>kB ...), the final put of a
 * hugetlb folio (back to its pool) and the fault mutex table.
 *
 * Reservations are in hugetlb_resv.c, page-table work in hugetlb_fault.c,
 * files in hugetlbfs.c.  See hugetlb.h for the folio and locking rules.
 *
 * Pool size is fixed at boot: pinmm has no way to change a key of a
 * running machine, so there is no nr_hugepages write and no surplus
 * (overcommit) pages; surplus_hugepages_<size>kB is always 0
 * (doc/DESIGN.md, "hugetlb").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hugetlb.h"
#include "init.h"

/* Mirror one hstate counter into its vmstat item; hugetlb_lock held. */
enum { HS_NR, HS_FREE, HS_RSVD, HS_SURP };
static void hstate_stat(struct pinmm *m, struct hstate *h, int which, long delta)
{
	mod_vm_stat(m, (enum vm_stat_item)(h->stat_nr + which), delta);
}

/**
 * size_to_hstate() - the hstate of huge pages of @size bytes.
 * @m: the machine.
 * @size: PMD_SIZE or PUD_SIZE.
 *
 * Context: any.
 * Return: the hstate, or NULL for any other size.
 */
struct hstate *size_to_hstate(struct pinmm *m, unsigned long size)
{
	if (!m->hugetlb)
		return NULL;
	if (size == PMD_SIZE)
		return &m->hugetlb->hstates[HSTATE_2M];
	if (size == PUD_SIZE)
		return &m->hugetlb->hstates[HSTATE_1G];
	return NULL;
}

/**
 * hstate_from_flags() - the hstate named by the MAP_HUGE_* / MFD_HUGE_*
 * size bits of @flags (bits 26-31: log2 of the size); none means the
 * default size, 2 MiB.
 * @m: the machine.
 * @flags: mmap() or memfd_create() flags.
 * @err: set to -EINVAL when the size is not one pinmm has.
 *
 * Context: any.
 * Return: the hstate or NULL.
 */
struct hstate *hstate_from_flags(struct pinmm *m, unsigned long flags, int *err)
{
	unsigned long log = (flags >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;
	struct hstate *h;

	h = size_to_hstate(m, log ? 1UL << log : PMD_SIZE);
	*err = h ? 0 : -EINVAL;
	return h;
}

/**
 * folio_hstate() - the hstate a hugetlb folio belongs to.
 * @folio: a folio with PG_hugetlb.
 *
 * Context: any.
 * Return: its hstate.
 */
struct hstate *folio_hstate(struct folio *folio)
{
	struct pinmm *m = folio_machine(folio);

	return folio_order(folio) == HPAGE_PUD_ORDER ? &m->hugetlb->hstates[HSTATE_1G]
						      : &m->hugetlb->hstates[HSTATE_2M];
}

/**
 * hstate_vma() - the hstate of a hugetlb VMA (its file's).
 * @vma: a VM_HUGETLB VMA.
 *
 * Context: mmap_lock held.
 * Return: the hstate.
 */
struct hstate *hstate_vma(struct vm_area_struct *vma)
{
	return hstate_inode(vma->vm_file->f_inode);
}

/*
 * Put a folio that just reached refcount 0 (or was just taken from the
 * buddy) on its pool's free list; hugetlb_lock held.
 */
static void enqueue_hugetlb_folio(struct hstate *h, struct folio *folio)
{
	list_add_tail(&folio->lru, &h->hugepage_freelist);
	h->free_huge_pages++;
}

/**
 * dequeue_hugetlb_folio() - take a folio from @h's free list.
 * @m: the machine.
 * @h: the pool.
 * @use_reserve: the caller consumes one of the reservations (resv_huge_pages
 *	goes down by one); without it only unreserved free pages may be taken.
 * @avoid_movable: take no folio of ZONE_MOVABLE or CMA (the target of a
 *	FOLL_LONGTERM migration).
 *
 * Context: any; takes hugetlb_lock.
 * Return: the folio with refcount 1, or NULL when the pool cannot give one.
 */
struct folio *dequeue_hugetlb_folio(struct pinmm *m, struct hstate *h, bool use_reserve,
				    bool avoid_movable)
{
	struct hugetlb_pools *pools = m->hugetlb;
	struct folio *folio = NULL, *it;

	spin_lock(&pools->hugetlb_lock);
	if (!use_reserve && h->free_huge_pages <= h->resv_huge_pages)
		goto out;
	list_for_each_entry(it, &h->hugepage_freelist, lru) {
		if (avoid_movable && pfn_zone_idx(m, folio_pfn(it)) != ZONE_NORMAL)
			continue;
		folio = it;
		break;
	}
	if (!folio)
		goto out;
	list_del_init(&folio->lru);
	h->free_huge_pages--;
	hstate_stat(m, h, HS_FREE, -1);
	if (use_reserve) {
		VM_BUG_ON(!h->resv_huge_pages);
		h->resv_huge_pages--;
		hstate_stat(m, h, HS_RSVD, -1);
	}
	/* Release: a speculative folio_try_get() sees the folio set up. */
	atomic_store_explicit(&folio->_refcount, 1, memory_order_release);
out:
	spin_unlock(&pools->hugetlb_lock);
	return folio;
}

/**
 * free_huge_folio() - the last reference to an in-use hugetlb folio went:
 * back to its pool's free list, cleared as a fresh one.
 * @folio: the folio, refcount 0, unmapped, no longer in a page cache; its
 *	anon_vma reference was dropped by __folio_put().
 *
 * Context: any; takes hugetlb_lock.
 */
void free_huge_folio(struct folio *folio)
{
	struct pinmm *m = folio_machine(folio);
	struct hstate *h = folio_hstate(folio);

	VM_BUG_ON_FOLIO(folio_ref_count(folio) != 0, folio);
	VM_BUG_ON_FOLIO(folio_mapped(folio), folio);
	WARN_ON_ONCE(atomic_read(&folio->_pincount) != 0);
	WRITE_ONCE(folio->mapping, NULL);
	folio->index = 0;
	folio->private = NULL;
	/* Only the head carries flags that matter: keep head and hugetlb. */
	WRITE_ONCE(folio->flags, BIT(PG_head) | BIT(PG_large_rmappable) | BIT(PG_hugetlb));
	spin_lock(&m->hugetlb->hugetlb_lock);
	enqueue_hugetlb_folio(h, folio);
	hstate_stat(m, h, HS_FREE, 1);
	spin_unlock(&m->hugetlb->hugetlb_lock);
}

/**
 * hugetlb_acct_memory() - take (@delta > 0) or give back (@delta < 0)
 * @delta reservations of @h.
 * @m: the machine.
 * @h: the pool.
 * @delta: pages.
 *
 * Context: any; takes hugetlb_lock.
 * Return: 0, or -ENOMEM when the unreserved free pages cannot cover @delta
 * (Linux: there is no overcommit pool to grow into).
 */
int hugetlb_acct_memory(struct pinmm *m, struct hstate *h, long delta)
{
	int ret = 0;

	spin_lock(&m->hugetlb->hugetlb_lock);
	if (delta > 0 && h->free_huge_pages - h->resv_huge_pages < (unsigned long)delta) {
		ret = -ENOMEM;
	} else {
		VM_BUG_ON(delta < 0 && h->resv_huge_pages < (unsigned long)-delta);
		h->resv_huge_pages += delta;
		hstate_stat(m, h, HS_RSVD, delta);
	}
	spin_unlock(&m->hugetlb->hugetlb_lock);
	return ret;
}

/**
 * hugetlb_fault_mutex() - the mutex that serialises faults (and
 * truncation) of one huge page of one file: Linux's
 * hugetlb_fault_mutex_hash() over a table.
 * @m: the machine.
 * @mapping: the file's page cache.
 * @idx: huge page index in the file.
 *
 * Context: any.
 * Return: the mutex (not taken).
 */
struct mutex *hugetlb_fault_mutex(struct pinmm *m, struct address_space *mapping, pgoff_t idx)
{
	uint64_t key = (uint64_t)(uintptr_t)mapping * 0x9e3779b97f4a7c15ULL + idx;

	key ^= key >> 29;
	return &m->hugetlb->fault_mutex_table[key % NUM_FAULT_MUTEXES];
}

/**
 * hugetlb_fault_mutex_barrier() - wait until every hugetlb fault that holds
 * a fault mutex now has finished.
 * @m: the machine.
 *
 * Takes and drops each mutex of the table in turn, never two at once.  A
 * fault checks i_size under its mutex, so after a size change followed by
 * this barrier no fault is still working from the old size.
 *
 * Context: may sleep; no fault mutex held.
 */
void hugetlb_fault_mutex_barrier(struct pinmm *m)
{
	for (int i = 0; i < NUM_FAULT_MUTEXES; i++) {
		mutex_lock(&m->hugetlb->fault_mutex_table[i]);
		mutex_unlock(&m->hugetlb->fault_mutex_table[i]);
	}
}

/* Fill @h with @count pages from the buddy allocator (as many as fit). */
static void hugetlb_pool_fill(struct pinmm *m, struct hstate *h, unsigned long count)
{
	/*
	 * Linux allocates 2 MiB pool pages movable (they can migrate), and
	 * gigantic pages not: 1 GiB pages come from ZONE_NORMAL only.
	 */
	gfp_t gfp = h->order == HPAGE_PMD_ORDER ? GFP_HIGHUSER_MOVABLE : GFP_KERNEL;

	for (unsigned long i = 0; i < count; i++) {
		struct folio *folio = folio_alloc(m, gfp | __GFP_NOWARN, h->order);

		if (!folio)
			break;
		folio_set_Hugetlb(folio);
		atomic_set(&folio->_refcount, 0);
		spin_lock(&m->hugetlb->hugetlb_lock);
		enqueue_hugetlb_folio(h, folio);
		h->nr_huge_pages++;
		hstate_stat(m, h, HS_NR, 1);
		hstate_stat(m, h, HS_FREE, 1);
		spin_unlock(&m->hugetlb->hugetlb_lock);
	}
	if (h->nr_huge_pages < count)
		pr_diag(m, "hugetlb: %s pool: %lu of %lu pages allocated", h->name,
			h->nr_huge_pages, count);
}

/*
 * Initcall "hugetlb": the pools, filled from the config keys.  Linux fills
 * them from the hugepages= command line (gigantic pages at boot only) or
 * sysfs; pinmm from hugepages.2M / hugepages.1G.  Return: 0 or -ENOMEM.
 */
static int hugetlb_init(struct pinmm *m)
{
	static const char *const names[HUGE_MAX_HSTATE] = { "2048kB", "1048576kB" };
	static const unsigned int orders[HUGE_MAX_HSTATE] = { HPAGE_PMD_ORDER, HPAGE_PUD_ORDER };
	static const enum vm_stat_item stats[HUGE_MAX_HSTATE] = { HUGETLB_NR_2M, HUGETLB_NR_1G };
	struct hugetlb_pools *pools = kzalloc(sizeof(*pools));

	if (!pools)
		return -ENOMEM;
	spin_lock_init(&pools->hugetlb_lock);
	for (int i = 0; i < NUM_FAULT_MUTEXES; i++)
		mutex_init(&pools->fault_mutex_table[i]);
	for (int i = 0; i < HUGE_MAX_HSTATE; i++) {
		struct hstate *h = &pools->hstates[i];

		h->order = orders[i];
		h->name = names[i];
		h->stat_nr = stats[i];
		INIT_LIST_HEAD(&h->hugepage_freelist);
	}
	m->hugetlb = pools;
	hugetlb_pool_fill(m, &pools->hstates[HSTATE_1G], m->cfg.hugepages_1g);
	hugetlb_pool_fill(m, &pools->hstates[HSTATE_2M], m->cfg.hugepages_2m);
	return 0;
}

/*
 * Exit of "hugetlb", after every process exited and the file systems were
 * unmounted: the free pool goes back to the buddy allocator.  A folio
 * still in use (a pin never released) stays, reported here and by the
 * page allocator's leak check.  Return: 0, or -EBUSY for such a folio.
 */
static int hugetlb_exit(struct pinmm *m)
{
	struct hugetlb_pools *pools = m->hugetlb;
	int ret = 0;

	if (!pools)
		return 0;
	for (int i = 0; i < HUGE_MAX_HSTATE; i++) {
		struct hstate *h = &pools->hstates[i];
		struct folio *folio, *tmp;

		list_for_each_entry_safe(folio, tmp, &h->hugepage_freelist, lru) {
			list_del_init(&folio->lru);
			folio_clear_Hugetlb(folio);
			h->free_huge_pages--;
			h->nr_huge_pages--;
			free_pages_prepared(m, &folio->page, h->order);
		}
		if (h->nr_huge_pages) {
			fprintf(stderr, "pinmm: hugetlb: %lu %s pages still in use at shutdown\n",
				h->nr_huge_pages, h->name);
			ret = -EBUSY;
		}
		if (h->resv_huge_pages) {
			fprintf(stderr, "pinmm: hugetlb: %lu %s reservations left at shutdown\n",
				h->resv_huge_pages, h->name);
			ret = -EBUSY;
		}
	}
	for (int i = 0; i < NUM_FAULT_MUTEXES; i++)
		mutex_destroy(&pools->fault_mutex_table[i]);
	m->hugetlb = NULL;
	free(pools);
	return ret;
}

pinmm_initcall(hugetlb, INITCALL_MM(10), hugetlb_init, NULL, hugetlb_exit);
