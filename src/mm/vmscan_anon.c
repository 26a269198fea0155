/* SPDX-License-Identifier: MIT */
/*
 * vmscan_anon.c - swap-out of anonymous folios: Linux's shrink_folio_list()
 * for an anonymous folio, the swap branch of try_to_unmap_one(), the
 * MADV_PAGEOUT walker (madvise_cold_or_pageout_pte_range()) and the anon
 * half of pinmm_reclaim().
 *
 * Per folio (locked, our reference held), the decision points are Linux's:
 *
 *   large folio           split first (pinmm never writes a THP whole)
 *   not in swap cache     folio_maybe_dma_pinned(): keep, counted as
 *                         pswpout_pinned_skip (commit feb889fb40fa: no swap
 *                         slot for a pinned page); folio_alloc_swap() or
 *                         keep when swap is full
 *   try_to_unmap          each PTE becomes a swap entry; an exclusive page
 *                         must pass folio_try_share_anon_rmap_pte() first
 *                         (steps A1-A4 of doc/MEMORY-ORDERING.md (d)): a
 *                         page pinned since the check above restores its
 *                         PTE and the walk aborts (also counted)
 *   still mapped          keep
 *   pageout               dirty: write the slot (swap_writepage)
 *   __remove_mapping      refcount frozen at cache + ours: any other
 *                         reference (GUP, a racing swap-in) keeps it
 * A kept folio that no swap entry references leaves the swap cache again
 * (Linux does so when swap is at least half full, vm_swap_full(); pinmm
 * always does, doc/DESIGN.md).
 */
#include <errno.h>
#include <stdlib.h>

#include "dax.h"
#include "swap.h"

struct swap_unmap_arg {
	pte_t entry;		/* the slot's entry, no software bits */
	bool failed;		/* a PTE could not be converted: stop */
};

/* try_to_unmap_one(), anonymous folio in the swap cache. */
static bool swap_unmap_one(struct vm_area_struct *vma, unsigned long addr,
			   pte_t *pte, pmd_t *pmd, struct page *page, void *arg)
{
	struct swap_unmap_arg *ua = arg;
	struct mm_struct *mm = vma->vm_mm;
	struct folio *folio = page_folio(page);
	pte_t old, swp;
	bool exclusive;

	if (ua->failed)
		return false;
	if (pmd) {			/* split before unmapping: not expected */
		ua->failed = true;
		return false;
	}
	old = ptep_get_and_clear(pte);			/* A1 */
	exclusive = PageAnonExclusive(page);
	if (swap_duplicate(mm->machine, ua->entry)) {
		set_pte(pte, old);
		ua->failed = true;
		return false;
	}
	/* A2-A3: a maybe-pinned exclusive page must stay mapped. */
	if (exclusive && folio_try_share_anon_rmap_pte(folio, page)) {
		swap_free(mm->machine, ua->entry);
		set_pte(pte, old);
		count_vm_event(mm->machine, PSWPOUT_PINNED_SKIP);
		ua->failed = true;
		return false;
	}
	if (pte_dirty(old))
		folio_mark_dirty(folio);
	swp = ua->entry;
	if (exclusive)
		swp = pte_swp_mkexclusive(swp);
	if (pte_soft_dirty(old))
		swp = pte_swp_mksoft_dirty(swp);
	set_pte(pte, swp);				/* A4 */
	folio_remove_rmap_pte(folio, page, vma);
	add_mm_counter(mm, MM_ANONPAGES, -1);
	folio_put(folio);		/* the mapping's reference */
	return true;
}

/* Keep @folio: out of the swap cache again if nothing references its slot. */
static int keep_folio(struct folio *folio, int err)
{
	if (folio_test_SwapCache(folio))
		folio_free_swap(folio);
	return err;
}

/**
 * shrink_anon_folio() - try to swap out one anonymous folio.
 * @folio: the folio; the caller holds a reference.  A large folio is
 *	split, and only its first page is tried (the others stay mapped).
 *
 * Context: no spinlock held; may take the folio lock, rmap locks and
 * page-table locks.  The caller may hold an mmap_lock for reading.
 * Return: 0 when the folio was written and freed; -EBUSY (locked by
 * someone else, still mapped, referenced, re-dirtied, or THP split
 * failed); -EPERM (maybe DMA-pinned); -ENOMEM (swap full or absent);
 * -EINVAL (not an anonymous folio).
 */
int shrink_anon_folio(struct folio *folio)
{
	struct pinmm *m = folio_machine(folio);
	int ret;

	if (!folio_trylock(folio))
		return -EBUSY;
	ret = -EINVAL;
	/* KSM folios are invisible to rmap walks here (ksm.c): never swapped. */
	if (!folio_test_anon(folio) || folio_test_ksm(folio) || is_zero_folio(folio) ||
	    folio_is_zone_device(folio))
		goto unlock;
	if (!folio_test_SwapCache(folio)) {
		if (folio_maybe_dma_pinned(folio)) {
			count_vm_event(m, PSWPOUT_PINNED_SKIP);
			ret = -EPERM;
			goto unlock;
		}
		if (folio_test_large(folio)) {
			unsigned int order = folio_order(folio);

			if (split_folio(folio)) {
				ret = -EBUSY;
				goto unlock;
			}
			/* pinmm swaps small folios only: the mTHP was split. */
			count_mthp_stat(m, order, MTHP_STAT_SWPOUT_FALLBACK, 1);
		}
		ret = folio_alloc_swap(folio);
		if (ret)
			goto unlock;
		folio_mark_dirty(folio);
	}
	if (folio_mapped(folio)) {
		struct swap_unmap_arg ua = {
			.entry = swp_slot_pte(folio_swap_offset(folio)),
		};

		folio_walk_all_notify(folio, swap_unmap_one, &ua, MMU_NOTIFY_CLEAR, false);
		if (folio_mapped(folio)) {
			ret = keep_folio(folio, ua.failed && folio_maybe_dma_pinned(folio) ?
					 -EPERM : -EBUSY);
			goto unlock;
		}
	}
	/* pageout(): only the cache and we may hold it (is_page_cache_freeable). */
	if (folio_test_Dirty(folio)) {
		if (folio_ref_count(folio) != 2) {
			ret = keep_folio(folio, -EBUSY);
			goto unlock;
		}
		swap_writepage(folio);
	}
	if (!swap_remove_mapping(folio)) {
		ret = keep_folio(folio, -EBUSY);
		goto unlock;
	}
	ret = 0;
unlock:
	folio_unlock(folio);
	return ret;
}

/*
 * folio_likely_mapped_shared() (Linux 6.9-6.13): may another process map
 * @folio?  A large folio is judged by its first page, as Linux does.
 */
static bool folio_likely_mapped_shared(struct folio *folio)
{
	int mapcount = folio_mapcount(folio);

	if (!folio_test_large(folio))
		return mapcount > 1;
	if (mapcount <= 1)
		return false;
	if (folio_entire_mapcount(folio) || mapcount > (int)folio_nr_pages(folio))
		return true;
	return atomic_read(&folio->page._mapcount) > 0;
}

/* Folios collected under a page-table lock, shrunk after it is dropped. */
#define PAGEOUT_BATCH	32
struct pageout_batch {
	struct folio *folios[PAGEOUT_BATCH];
	int nr;
	long done;		/* folios swapped out */
};

static void pageout_flush(struct pageout_batch *b)
{
	for (int i = 0; i < b->nr; i++) {
		if (!shrink_anon_folio(b->folios[i]))
			b->done++;
		folio_put(b->folios[i]);
	}
	b->nr = 0;
}

/*
 * A PTE-mapped large folio met by the walker (our reference held): split
 * it.  Return: where the walk goes on: @addr again after a split, past the
 * folio when it is busy or maybe pinned (then it is not split).
 */
static unsigned long pageout_split(struct folio *folio, struct page *page, unsigned long addr)
{
	unsigned long rest = folio_nr_pages(folio) - (unsigned long)(page - &folio->page);
	int err = -EBUSY;

	if (folio_trylock(folio)) {
		if (folio_maybe_dma_pinned(folio)) {
			count_vm_event(folio_machine(folio), PSWPOUT_PINNED_SKIP);
		} else {
			unsigned int order = folio_order(folio);

			err = split_folio(folio);
			if (!err)	/* pinmm swaps small folios only */
				count_mthp_stat(folio_machine(folio), order,
						MTHP_STAT_SWPOUT_FALLBACK, 1);
		}
		folio_unlock(folio);
	}
	folio_put(folio);
	return err ? addr + (rest << PAGE_SHIFT) : addr;
}

/*
 * Collect the anonymous folios mapped in [addr, end) of one PTE table.
 * @exclusive_only: MADV_PAGEOUT leaves folios that other processes map
 * (folio_maybe_mapped_shared()); global reclaim unmaps them everywhere.
 * Return: the address where collecting stopped (batch full) or @end.
 */
static unsigned long pageout_pte_range(struct vm_area_struct *vma, pmd_t *pmd,
				       unsigned long addr, unsigned long end,
				       bool exclusive_only, struct pageout_batch *b)
{
	spinlock_t *ptl;
	pte_t *pte = pte_offset_map_lock(vma->vm_mm, pmd, addr, &ptl);

	if (!pte)
		return end;
	for (; addr < end && b->nr < PAGEOUT_BATCH; addr += PAGE_SIZE, pte++) {
		pte_t e = ptep_get(pte);
		struct page *page;
		struct folio *folio;

		if (!pte_present(e) || pte_protnone(e))
			continue;
		page = vm_normal_page(vma, addr, e);
		if (!page)
			continue;
		folio = page_folio(page);
		if (!folio_test_anon(folio) || folio_test_ksm(folio) || folio_is_zone_device(folio))
			continue;
		if (exclusive_only && folio_likely_mapped_shared(folio))
			continue;
		if (!folio_try_get(folio))
			continue;
		if (folio_test_large(folio)) {
			/* Split it here, as Linux's walker does; then look again. */
			pte_unmap_unlock(pte, ptl);
			return min(pageout_split(folio, page, addr), end);
		}
		b->folios[b->nr++] = folio;
	}
	pte_unmap_unlock(pte, ptl);
	return addr;
}

static void pageout_range(struct vm_area_struct *vma, unsigned long start,
			  unsigned long end, bool exclusive_only, long want,
			  struct pageout_batch *b)
{
	struct mm_struct *mm = vma->vm_mm;

	for (unsigned long a = start; a < end && (want < 0 || b->done < want);) {
		unsigned long next = pmd_addr_end(a, end);
		pmd_t *pmd = pmd_offset_lookup(mm, a);
		pmd_t pmdval;

		if (!pmd) {
			a = next;
			continue;
		}
		pmdval = pmdp_get(pmd);
		if (pmd_none(pmdval)) {
			a = next;
			continue;
		}
		if (pmd_leaf(pmdval)) {
			struct page *head = vm_normal_page_pmd(vma, a & PMD_MASK, pmdval);
			struct folio *folio = head ? page_folio(head) : NULL;

			/* Not the huge zero folio, not another process's THP. */
			if (!folio || !folio_test_anon(folio) ||
			    (exclusive_only && folio_likely_mapped_shared(folio))) {
				a = next;
				continue;
			}
			__split_huge_pmd(vma, pmd, a);
		}
		a = pageout_pte_range(vma, pmd, a, next, exclusive_only, b);
		if (b->nr == PAGEOUT_BATCH || a == next)
			pageout_flush(b);
	}
	pageout_flush(b);
}

/**
 * madvise_pageout() - MADV_PAGEOUT over [start, end) of @vma.
 *
 * Linux's rules: -EINVAL for VM_LOCKED, VM_PFNMAP and hugetlb VMAs
 * (can_madv_lru_vma()); folios mapped by other processes are left alone;
 * maybe-pinned folios are kept by reclaim.  pinmm pages out anonymous
 * folios only: file and shmem pages stay (doc/DESIGN.md).
 *
 * Context: mmap_lock held for reading.
 * Return: folios swapped out (>= 0), or -EINVAL.
 */
long madvise_pageout(struct vm_area_struct *vma, unsigned long start, unsigned long end)
{
	struct pageout_batch b = { .nr = 0 };

	if (vma->vm_flags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB))
		return -EINVAL;
	/*
	 * mmap_lock is held for reading only: a fault may be installing the
	 * anon_vma (anon_vma_prepare(), release) right now.
	 */
	if (!swap_enabled(vma->vm_mm->machine) || !smp_load_acquire(&vma->anon_vma))
		return 0;
	pageout_range(vma, start, end, true, -1, &b);
	return b.done;
}

/**
 * reclaim_anon_pages() - swap out up to @nr_to_scan anonymous pages of
 * every process of @m (the anon half of pinmm_reclaim()).  pinmm has no
 * anon LRU: processes are visited in list order, their VMAs in address
 * order, and folios mapped by several processes are unmapped from all.
 * Context: no locks held; takes each mm's mmap_lock for reading.
 * Return: pages swapped out.
 */
long reclaim_anon_pages(struct pinmm *m, long nr_to_scan)
{
	struct pageout_batch b = { .nr = 0 };
	struct mm_struct **mms;
	struct pinmm_proc *p;
	size_t n = 0, nr = 0;

	if (!swap_enabled(m) || nr_to_scan <= 0)
		return 0;
	mutex_lock(&m->proc_lock);
	list_for_each_entry(p, &m->procs, node)
		nr++;
	mms = calloc(nr ? nr : 1, sizeof(*mms));
	if (mms)
		list_for_each_entry(p, &m->procs, node)
			if (!READ_ONCE(p->exited) && mmget_not_zero(p->mm))
				mms[n++] = p->mm;
	mutex_unlock(&m->proc_lock);
	if (!mms)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct mm_struct *mm = mms[i];
		struct vm_area_struct *vma;

		mmap_read_lock(mm);
		list_for_each_entry(vma, &mm->mmap_list, vm_list) {
			if (b.done >= nr_to_scan)
				break;
			if (!smp_load_acquire(&vma->anon_vma) ||
			    (vma->vm_flags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB)))
				continue;
			pageout_range(vma, vma->vm_start, vma->vm_end, false, nr_to_scan, &b);
		}
		mmap_read_unlock(mm);
		mmput(mm);
	}
	free(mms);
	return b.done;
}
