/* SPDX-License-Identifier: MIT */
/*
 * collapse.c - collapsing PTE-mapped anonymous memory into a PMD-mapped
 * THP, for MADV_COLLAPSE (madvise_collapse()) and khugepaged
 * (hpage_collapse_scan_pmd(), khugepaged.c): Linux's mm/khugepaged.c
 * collapse path, anonymous memory only.
 *
 * One collapse of the 2 MiB-aligned range at @haddr (collapse_huge_page(),
 * after hpage_collapse_scan_pmd() found it worth trying under a read-locked
 * mmap_lock), as Linux 6.x:
 *   1. drop mmap_lock, allocate the new THP (thp_collapse_alloc /
 *      thp_collapse_alloc_failed); swap in what is swapped out (read lock);
 *   2. take mmap_lock for writing, revalidate the VMA and the PMD, take
 *      anon_vma->rwsem for writing (rmap walkers stay out);
 *   3. MMU-notifier CLEAR over the range; under the PMD lock clear the PMD
 *      (collapse vs GUP-fast step C1, doc/MEMORY-ORDERING.md (m)), then a
 *      full barrier and an RCU grace period (C2: Linux's
 *      tlb_remove_table_sync_one()): every GUP-fast walk that could still
 *      see the old table has ended, and its reference is either dropped or
 *      visible;
 *   4. __collapse_huge_page_isolate() (C3): under the PTE lock of the
 *      detached table, lock every folio (trylock) and refuse when one has a
 *      reference beyond its mappings (is_refcount_suitable()) or may be
 *      DMA-pinned (SCAN_PAGE_COUNT; MADV_COLLAPSE answers -EAGAIN); on
 *      refusal the PMD is restored (C4) and nothing changed;
 *   5. __collapse_huge_page_copy(): copy every page (zeros for holes and
 *      the zero page), clear the PTEs, drop the old mappings;
 *   6. map the new THP with one PMD store (C5), the old (now empty) table
 *      deposited beside it.
 * PTE-mapped large folios of any order (a split PMD leaves a 2 MiB folio
 * under 512 PTEs; mTHPs) are handled per folio: counted, locked and
 * referenced once, each PTE's mapping and reference dropped.
 *
 * khugepaged applies max_ptes_none / max_ptes_swap / max_ptes_shared and
 * wants one young page; MADV_COLLAPSE does not (Linux's is_khugepaged).
 * Not modelled (doc/DESIGN.md "Collapse"): file, shmem and tmpfs collapse
 * (a file, shared or tmpfs range is -EINVAL, as on a kernel without
 * CONFIG_SHMEM and CONFIG_READ_ONLY_THP_FOR_FS), NUMA node choice,
 * collapse to mTHP orders.
 */
#include <errno.h>
#include <string.h>
#include "khugepaged.h"
#include "mm.h"
#include "rcu.h"
#include "swap.h"

/**
 * thp_vma_allowable_collapse() - may [a PMD range of] @vma be collapsed?
 * Linux's thp_vma_allowable_order(vma, flags, TVA_ENFORCE_SYSFS or not,
 * PMD_ORDER) for the anonymous VMAs pinmm collapses: never VM_NOHUGEPAGE
 * or special (VM_NO_KHUGEPAGED), private anonymous only, the sysfs policy
 * only for khugepaged, and some aligned PMD must fit in the VMA.
 * Context: mmap_lock held.
 * Return: true if so.
 */
bool thp_vma_allowable_collapse(struct vm_area_struct *vma, vm_flags_t flags,
				       bool enforce_sysfs)
{
	struct pinmm *m = vma->vm_mm->machine;
	unsigned long haddr;

	if (flags & (VM_NOHUGEPAGE | VM_HUGETLB | VM_IO | VM_DONTEXPAND | VM_PFNMAP |
		     VM_MIXEDMAP | VM_SHARED | VM_MAYSHARE))
		return false;
	if (!vma_is_anonymous(vma))
		return false;
	if (enforce_sysfs) {
		if (m->cfg.thp == PINMM_THP_NEVER)
			return false;
		if (m->cfg.thp == PINMM_THP_MADVISE && !(flags & VM_HUGEPAGE))
			return false;
	}
	if (vma->vm_end - vma->vm_start < PMD_SIZE)
		return false;
	if (((vma->vm_start >> PAGE_SHIFT) - vma->vm_pgoff) & (HPAGE_PMD_NR - 1))
		return false;
	haddr = (vma->vm_end - PMD_SIZE) & PMD_MASK;
	return haddr >= vma->vm_start;
}

/* Linux's thp_vma_suitable_order() for PMD_ORDER at @haddr. */
static bool thp_vma_suitable(struct vm_area_struct *vma, unsigned long haddr)
{
	return haddr >= vma->vm_start && haddr + PMD_SIZE <= vma->vm_end;
}

/* ------------------------------------------------------------------ */
/* Collapse                                                             */

static bool is_zero_pte(struct pinmm *m, pte_t pte)
{
	return pte_present(pte) && pte_pfn(pte) == m->zero_pfn;
}

/* Linux's is_refcount_suitable(): references are the mappings, plus the swap cache's. */
static bool is_refcount_suitable(struct folio *folio)
{
	int expected = folio_mapcount(folio);

	if (folio_test_SwapCache(folio))
		expected += (int)folio_nr_pages(folio);
	return folio_ref_count(folio) == expected;
}

/* Shared with another mm (fork): Linux's folio_likely_mapped_shared(). */
static bool folio_likely_mapped_shared(struct folio *folio)
{
	if (!folio_test_large(folio))
		return folio_mapcount(folio) > 1;
	return folio_entire_mapcount(folio) > 0 ||
	       folio_mapcount(folio) > (int)folio_nr_pages(folio);
}

static unsigned long max_ptes(const struct collapse_control *cc, uint64_t limit)
{
	return cc->is_khugepaged ? (unsigned long)limit : HPAGE_PMD_NR;
}

/* What the scan and the isolation count while they walk the 512 PTEs. */
struct collapse_tally {
	int none_or_zero, shared, unmapped, referenced;
};

/*
 * collapse_check_pte() - the per-PTE tests the scan (mmap_lock read) and
 * the isolation (PMD cleared) both apply, with khugepaged's limits.
 * Return: SCAN_SUCCEED with *@foliop set for a present anonymous page,
 * SCAN_SUCCEED with *@foliop NULL for a hole, the zero page or (@swap_ok)
 * a swap entry, or the reason to stop.
 */
static int collapse_check_pte(struct vm_area_struct *vma, unsigned long addr, pte_t e,
			      const struct collapse_control *cc, bool swap_ok,
			      struct collapse_tally *t, struct folio **foliop)
{
	struct pinmm *m = vma->vm_mm->machine;
	struct folio *folio;
	struct page *page;

	*foliop = NULL;
	if (swap_ok && is_swapfile_entry(e)) {
		if (++t->unmapped > (int)max_ptes(cc, m->cfg.khugepaged_max_ptes_swap)) {
			count_vm_event(m, THP_SCAN_EXCEED_SWAP_PTE);
			return SCAN_EXCEED_SWAP_PTE;
		}
		return SCAN_SUCCEED;
	}
	if (pte_none(e) || is_zero_pte(m, e)) {
		if (++t->none_or_zero > (int)max_ptes(cc, m->cfg.khugepaged_max_ptes_none)) {
			count_vm_event(m, THP_SCAN_EXCEED_NONE_PTE);
			return SCAN_EXCEED_NONE_PTE;
		}
		return SCAN_SUCCEED;
	}
	if (!pte_present(e))		/* a migration entry, or swap at isolation */
		return SCAN_PTE_NON_PRESENT;
	page = vm_normal_page(vma, addr, e);
	if (!page || PageDevmap(page))
		return SCAN_PAGE_NULL;
	folio = page_folio(page);
	if (!folio_test_anon(folio))
		return SCAN_PAGE_ANON;
	if (folio_likely_mapped_shared(folio) &&
	    ++t->shared > (int)max_ptes(cc, m->cfg.khugepaged_max_ptes_shared)) {
		count_vm_event(m, THP_SCAN_EXCEED_SHARED_PTE);
		return SCAN_EXCEED_SHARED_PTE;
	}
	if (cc->is_khugepaged && (pte_young(e) || folio_test_Referenced(folio)))
		t->referenced++;
	*foliop = folio;
	return SCAN_SUCCEED;
}

static int collapse_huge_page(struct mm_struct *mm, unsigned long haddr, int unmapped,
			      struct collapse_control *cc);

static int find_pmd_or_thp_or_none(struct mm_struct *mm, unsigned long haddr, pmd_t **pmdp)
{
	pmd_t pmd;

	*pmdp = pmd_offset_lookup(mm, haddr);
	if (!*pmdp)
		return SCAN_PMD_NULL;
	pmd = pmdp_get_lockless(*pmdp);
	if (pmd_none(pmd))
		return SCAN_PMD_NONE;
	if (!pmd_present(pmd))
		return SCAN_PMD_NULL;
	if (pmd_leaf(pmd))
		return SCAN_PMD_MAPPED;
	return SCAN_SUCCEED;
}

/**
 * hpage_collapse_scan_pmd() - look at the PTEs of [@haddr, +2 MiB) under a
 * read-locked mmap_lock and collapse them if they qualify.
 * Context: mmap_lock held for reading; *@mmap_locked is cleared when the
 * lock was released (collapse_huge_page() always releases it).
 * Return: enum scan_result.
 */
int hpage_collapse_scan_pmd(struct mm_struct *mm, struct vm_area_struct *vma,
			    unsigned long haddr, bool *mmap_locked,
				   struct collapse_control *cc)
{
	struct pinmm *m = mm->machine;
	struct collapse_tally t = { 0 };
	int result;
	spinlock_t *ptl;
	pte_t *pte;
	pmd_t *pmd;

	result = find_pmd_or_thp_or_none(mm, haddr, &pmd);
	if (result != SCAN_SUCCEED)
		return result;
	pte = pte_offset_map_lock(mm, pmd, haddr, &ptl);
	if (!pte)
		return SCAN_PMD_NULL;
	for (int i = 0; i < PTRS_PER_PTE; i++) {
		struct folio *folio;

		result = collapse_check_pte(vma, haddr + i * PAGE_SIZE, ptep_get(pte + i), cc,
					    true, &t, &folio);
		if (result != SCAN_SUCCEED)
			goto out_unmap;
		if (!folio)
			continue;
		if (folio_test_Locked(folio)) {
			result = SCAN_PAGE_LOCK;
			goto out_unmap;
		}
		/* Racy here (checked again with the PMD cleared), as Linux. */
		if (!is_refcount_suitable(folio) || folio_maybe_dma_pinned(folio)) {
			result = SCAN_PAGE_COUNT;
			goto out_unmap;
		}
	}
	/*
	 * No writable-PTE requirement: Linux 6.18 dropped SCAN_PAGE_RO, so a
	 * range mapped read-only (after fork, or only zero pages) collapses.
	 */
	if (cc->is_khugepaged &&
		 (!t.referenced || (t.unmapped && t.referenced < (int)HPAGE_PMD_NR / 2)))
		result = SCAN_LACK_REFERENCED_PAGE;
	else
		result = SCAN_SUCCEED;
out_unmap:
	pte_unmap_unlock(pte, ptl);
	if (result == SCAN_SUCCEED) {
		result = collapse_huge_page(mm, haddr, t.unmapped, cc);
		*mmap_locked = false;
	}
	if (result == SCAN_PAGE_COUNT)
		count_vm_event(m, THP_COLLAPSE_REFUSED_REFCOUNT);
	return result;
}

/*
 * hugepage_vma_revalidate() - after mmap_lock was retaken: the VMA at
 * @haddr still exists, still covers the PMD range and may still collapse.
 */
static int hugepage_vma_revalidate(struct mm_struct *mm, unsigned long haddr,
				   struct vm_area_struct **vmap, struct collapse_control *cc)
{
	struct vm_area_struct *vma;

	if (atomic_read(&mm->mm_users) == 0)
		return SCAN_ANY_PROCESS;
	*vmap = vma = find_vma(mm, haddr);
	if (!vma)
		return SCAN_VMA_NULL;
	if (!thp_vma_suitable(vma, haddr))
		return SCAN_ADDRESS_RANGE;
	if (!thp_vma_allowable_collapse(vma, vma->vm_flags, cc->is_khugepaged))
		return SCAN_VMA_CHECK;
	if (!vma->anon_vma)
		return SCAN_PAGE_ANON;
	return SCAN_SUCCEED;
}

/*
 * Step 1, swap-in: fault in every swapped-out page of the range.
 * Context: mmap_lock held for reading, kept.
 */
static int __collapse_huge_page_swapin(struct vm_area_struct *vma, unsigned long haddr,
				       pmd_t *pmd)
{
	struct mm_struct *mm = vma->vm_mm;

	for (unsigned long a = haddr; a < haddr + PMD_SIZE; a += PAGE_SIZE) {
		spinlock_t *ptl;
		pte_t *pte = pte_offset_map_lock(mm, pmd, a, &ptl);
		bool swapped;
		vm_fault_t ret;

		if (!pte)
			return SCAN_PMD_NULL;
		swapped = is_swapfile_entry(ptep_get(pte));
		pte_unmap_unlock(pte, ptl);
		if (!swapped)
			continue;
		ret = handle_mm_fault(vma, a, FAULT_FLAG_RETRY_NOWAIT);
		if (ret & (VM_FAULT_ERROR | VM_FAULT_RETRY))
			return SCAN_FAIL;
	}
	return SCAN_SUCCEED;
}

/*
 * The folios of the range, each once, locked by step 4.  A PTE-mapped
 * large folio covers many PTEs but is checked and locked once.
 */
struct collapse_folios {
	struct folio *folio[PTRS_PER_PTE];
	int nr;
};

static bool collapse_folios_has(const struct collapse_folios *cf, struct folio *folio)
{
	for (int i = cf->nr - 1; i >= 0; i--)
		if (cf->folio[i] == folio)
			return true;
	return false;
}

/* Unlock and put the folios step 4 locked and took a reference on. */
static void release_pte_folios(struct collapse_folios *cf)
{
	for (int i = 0; i < cf->nr; i++) {
		folio_unlock(cf->folio[i]);
		folio_put(cf->folio[i]);
	}
	cf->nr = 0;
}

/*
 * Step 4 (C3): check and lock every folio mapped by the detached table.
 * Context: PTE lock of the detached table held; the PMD is clear and no
 * GUP-fast walk can still reach the table (C2).
 */
static int __collapse_huge_page_isolate(struct vm_area_struct *vma, unsigned long haddr,
					pte_t *pte, struct collapse_control *cc,
					struct collapse_folios *cf)
{
	struct collapse_tally t = { 0 };
	int result = SCAN_FAIL;

	mmap_assert_write_locked(vma->vm_mm);
	for (int i = 0; i < PTRS_PER_PTE; i++) {
		struct folio *folio;

		result = collapse_check_pte(vma, haddr + i * PAGE_SIZE, ptep_get(pte + i), cc,
					    false, &t, &folio);
		if (result != SCAN_SUCCEED)
			goto out;
		if (!folio)
			continue;
		if (collapse_folios_has(cf, folio))
			continue;
		/* The folio lock keeps split, migration and swap-out away. */
		if (!folio_trylock(folio)) {
			result = SCAN_PAGE_LOCK;
			goto out;
		}
		/*
		 * C3: with the table unreachable, no new reference can come
		 * through this mm; one beyond the mappings (and the swap
		 * cache's) is a GUP reference or a pin.  Linux's check, plus
		 * the pincount of a large folio for the exact trackers.
		 */
		if (!is_refcount_suitable(folio) || folio_maybe_dma_pinned(folio)) {
			folio_unlock(folio);
			result = SCAN_PAGE_COUNT;
			goto out;
		}
		/* Ours (Linux's LRU isolation reference): step 5 drops the mappings'. */
		folio_get(folio);
		cf->folio[cf->nr++] = folio;
	}
	return SCAN_SUCCEED;
out:
	release_pte_folios(cf);
	return result;
}

/*
 * Step 5: copy into @folio, then tear the old mappings down (the table
 * stays, empty, to be deposited).  Context: PTE lock of the detached
 * table held, every old folio locked (in @cf).
 */
static void __collapse_huge_page_copy(struct vm_area_struct *vma, unsigned long haddr,
				      pte_t *pte, struct folio *folio,
				      struct collapse_folios *cf)
{
	struct mm_struct *mm = vma->vm_mm;
	struct pinmm *m = mm->machine;
	char *dst = folio_address(folio);

	mmap_assert_write_locked(mm);
	for (int i = 0; i < cf->nr; i++)
		VM_BUG_ON(!folio_test_Locked(cf->folio[i]));
	for (int i = 0; i < PTRS_PER_PTE; i++) {
		pte_t e = ptep_get(pte + i);

		if (pte_none(e) || is_zero_pte(m, e))
			memset(dst + i * PAGE_SIZE, 0, PAGE_SIZE);
		else
			memcpy(dst + i * PAGE_SIZE, page_address(pfn_to_page_m(m, pte_pfn(e))),
			       PAGE_SIZE);
	}
	for (int i = 0; i < PTRS_PER_PTE; i++) {
		pte_t e = ptep_get(pte + i);
		struct page *page;
		struct folio *src;

		if (pte_none(e))
			goto counted;
		ptep_get_and_clear(pte + i);
		if (is_zero_pte(m, e))
			goto counted;
		page = pfn_to_page_m(m, pte_pfn(e));
		src = page_folio(page);
		folio_remove_rmap_pte(src, page, vma);
		folio_put(src);		/* the mapping's; step 4's reference remains */
		continue;
counted:
		add_mm_counter(mm, MM_ANONPAGES, 1);
	}
	for (int i = 0; i < cf->nr; i++) {
		struct folio *src = cf->folio[i];

		/* Linux's free_swap_cache(): the slot may go with the mapping. */
		if (folio_test_SwapCache(src) && !folio_mapped(src))
			folio_free_swap(src);
	}
}

/*
 * collapse_huge_page() - steps 1-6 of the header for [@haddr, +2 MiB).
 * Context: mmap_lock held for reading; released on return.
 * Return: enum scan_result.
 */
static int collapse_huge_page(struct mm_struct *mm, unsigned long haddr, int unmapped,
			      struct collapse_control *cc)
{
	struct pinmm *m = mm->machine;
	struct collapse_folios *cf = NULL;
	struct mmu_notifier_range range;
	struct vm_area_struct *vma;
	struct folio *folio;
	spinlock_t *pmd_ptl, *pte_ptl;
	struct page *pt;
	pmd_t *pmd, orig, entry;
	pte_t *pte;
	int result;

	/* 1. No mmap_lock across the allocation. */
	mmap_read_unlock(mm);
	folio = folio_alloc(m, GFP_TRANSHUGE, HPAGE_PMD_ORDER);
	if (!folio) {
		count_vm_event(m, THP_COLLAPSE_ALLOC_FAILED);
		return SCAN_ALLOC_HUGE_PAGE_FAIL;
	}
	count_vm_event(m, THP_COLLAPSE_ALLOC);
	cf = kzalloc(sizeof(*cf));
	if (!cf) {
		folio_put(folio);
		return SCAN_ALLOC_HUGE_PAGE_FAIL;
	}
	if (unmapped) {
		mmap_read_lock(mm);
		result = hugepage_vma_revalidate(mm, haddr, &vma, cc);
		if (result == SCAN_SUCCEED)
			result = find_pmd_or_thp_or_none(mm, haddr, &pmd);
		if (result == SCAN_SUCCEED)
			result = __collapse_huge_page_swapin(vma, haddr, pmd);
		mmap_read_unlock(mm);
		if (result != SCAN_SUCCEED)
			goto out_nolock;
	}

	/* 2. */
	mmap_write_lock(mm);
	result = hugepage_vma_revalidate(mm, haddr, &vma, cc);
	if (result != SCAN_SUCCEED)
		goto out_up_write;
	result = find_pmd_or_thp_or_none(mm, haddr, &pmd);
	if (result != SCAN_SUCCEED)
		goto out_up_write;
	down_write(&vma->anon_vma->rwsem);

	/* 3. C1: clear the PMD; C2: wait out every GUP-fast walk that saw it. */
	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, haddr, haddr + PMD_SIZE);
	mmu_notifier_invalidate_range_start(&range);
	pmd_ptl = pmd_lock(mm, pmd);
	orig = pmdp_huge_get_and_clear(pmd);			/* C1 */
	spin_unlock(pmd_ptl);
	mmu_notifier_invalidate_range_end(&range);
	smp_mb();						/* C2 */
	synchronize_rcu();

	/* 4. */
	pt = pfn_to_page_m(m, pmd_pfn(orig));
	pte = (pte_t *)table_of(m, pmd_val(orig));
	pte_ptl = pte_lockptr(mm, orig);
	spin_lock(pte_ptl);
	result = __collapse_huge_page_isolate(vma, haddr, pte, cc, cf);	/* C3 */
	if (result != SCAN_SUCCEED) {
		spin_unlock(pte_ptl);
		pmd_ptl = pmd_lock(mm, pmd);
		VM_BUG_ON(!pmd_none(pmdp_get(pmd)));
		set_pmd(pmd, orig);				/* C4: nothing changed */
		spin_unlock(pmd_ptl);
		up_write(&vma->anon_vma->rwsem);
		goto out_up_write;
	}

	/* 5. */
	__collapse_huge_page_copy(vma, haddr, pte, folio, cf);
	spin_unlock(pte_ptl);
	release_pte_folios(cf);

	/* 6. The copy is ordered before the PMD by set_pmd's release (C5). */
	entry = pfn_pmd(folio_pfn(folio), vma->vm_page_prot);
	entry = pmd_mkyoung(maybe_pmd_mkwrite(pmd_mkdirty(entry), vma));
	pmd_ptl = pmd_lock(mm, pmd);
	VM_BUG_ON(!pmd_none(pmdp_get(pmd)));
	folio_add_new_anon_rmap(folio, vma, haddr, true);
	pgtable_trans_huge_deposit(mm, pmd, pt);
	set_pmd(pmd, entry);					/* C5 */
	spin_unlock(pmd_ptl);
	up_write(&vma->anon_vma->rwsem);
	folio = NULL;
	result = SCAN_SUCCEED;
out_up_write:
	mmap_write_unlock(mm);
out_nolock:
	if (folio)
		folio_put(folio);
	kfree(cf);
	return result;
}

/* ------------------------------------------------------------------ */
/* MADV_COLLAPSE                                                        */

/* Linux's madvise_collapse_errno(). */
static int madvise_collapse_errno(int r)
{
	switch (r) {
	case SCAN_ALLOC_HUGE_PAGE_FAIL:
		return -ENOMEM;
	case SCAN_EXCEED_NONE_PTE:
		return -EBUSY;
	case SCAN_PAGE_COUNT:
	case SCAN_PAGE_LOCK:
		return -EAGAIN;
	default:
		return -EINVAL;
	}
}

/**
 * madvise_collapse() - MADV_COLLAPSE over [@start, @end) of @vma: collapse
 * every 2 MiB-aligned range wholly inside into a PMD-mapped THP, whatever
 * the thp= policy (not in VM_NOHUGEPAGE VMAs).  Parts of the range not
 * covering a whole aligned PMD are ignored.
 * Context: mmap_lock held for reading; released and retaken for each
 * collapse (@vma may be gone on return: the caller looks up again).
 * Return: 0 when every range is PMD-mapped now; -EINVAL (VMA not eligible,
 * or the range cannot be collapsed: holes never faulted, non-present
 * entries), -EAGAIN (a page is pinned, referenced or locked:
 * may work later), -EBUSY, -ENOMEM (no 2 MiB block).
 */
int madvise_collapse(struct vm_area_struct *vma, unsigned long start, unsigned long end)
{
	struct collapse_control cc = { .is_khugepaged = false };
	struct mm_struct *mm = vma->vm_mm;
	unsigned long hstart, hend;
	int thps = 0, last_fail = SCAN_FAIL;
	bool mmap_locked = true;

	if (!thp_vma_allowable_collapse(vma, vma->vm_flags, false))
		return -EINVAL;
	/*
	 * A range that only ever had read faults maps the zero page and has
	 * no anon_vma yet; Linux 6.18 collapses it (checked on the host
	 * kernel), so give the VMA its anon_vma as a write fault would.
	 */
	if (anon_vma_prepare(vma))
		return -ENOMEM;
	hstart = ALIGN(start, PMD_SIZE);
	hend = end & PMD_MASK;
	mmgrab(mm);
	for (unsigned long addr = hstart; addr < hend; addr += PMD_SIZE) {
		int result;

		if (!mmap_locked) {
			mmap_read_lock(mm);
			mmap_locked = true;
			result = hugepage_vma_revalidate(mm, addr, &vma, &cc);
			if (result != SCAN_SUCCEED) {
				last_fail = result;
				break;
			}
			hend = min(hend, vma->vm_end & PMD_MASK);
		}
		result = hpage_collapse_scan_pmd(mm, vma, addr, &mmap_locked, &cc);
		switch (result) {
		case SCAN_SUCCEED:
		case SCAN_PMD_MAPPED:
			thps++;
			break;
		case SCAN_PMD_NULL:
		case SCAN_PTE_NON_PRESENT:
		case SCAN_PAGE_NULL:
		case SCAN_PAGE_COUNT:
		case SCAN_PAGE_LOCK:
			last_fail = result;	/* try the next range */
			break;
		default:
			last_fail = result;
			addr = hend;		/* stop */
			break;
		}
	}
	if (!mmap_locked)
		mmap_read_lock(mm);
	mmdrop(mm);
	return thps == (int)((hend > hstart ? hend - hstart : 0) >> PMD_SHIFT) ?
	       0 : madvise_collapse_errno(last_fail);
}
