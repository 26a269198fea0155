/* SPDX-License-Identifier: MIT */
/*
 * huge_memory.c - transparent huge pages for anonymous memory: 2 MiB
 * folios mapped by one PMD, the huge zero folio (a write to it maps a new
 * THP, as Linux 6.11+), PMD faults, PMD splits
 * (mapping only: the folio stays whole, mapped by 512 PTEs) and PMD
 * teardown, copy at fork and protection changes.
 *
 * Each PMD-mapped THP has a PTE table deposited beside it (pgtable.c) so
 * that splitting the PMD never allocates.  A split publishes the filled PTE
 * table with one store of the PMD entry: a lockless walker sees either the
 * old leaf or the new table, and one that grabbed the folio through the
 * old leaf notices the change when it re-reads the PMD
 * (doc/MEMORY-ORDERING.md, "PMD split vs GUP-fast").
 */
#include <errno.h>
#include <string.h>
#include "mm.h"

/**
 * vma_thp_allowed() - may an anonymous fault at the 2 MiB-aligned @haddr
 * be served by a THP?  The PMD order's policy (thp.2048K, by default
 * inheriting thp) is always, or madvise with MADV_HUGEPAGE; never with
 * MADV_NOHUGEPAGE; the whole PMD range must be in the VMA.
 * Context: mmap_lock held.
 * Return: true if so.
 */
bool vma_thp_allowed(struct vm_area_struct *vma, unsigned long haddr)
{
	if (!thp_vma_allowable_orders(vma, BIT(HPAGE_PMD_ORDER)))
		return false;
	/*
	 * Linux's transhuge_vma_suitable(): the THP's pages must get aligned
	 * indices, which an anonymous VMA moved by mremap() may not give.
	 */
	if (((vma->vm_start >> PAGE_SHIFT) - vma->vm_pgoff) & (HPAGE_PMD_NR - 1))
		return false;
	return haddr >= vma->vm_start && haddr + PMD_SIZE <= vma->vm_end;
}

/**
 * mm_get_huge_zero_folio() - the huge zero folio, allocated on first use
 * and kept until shutdown.
 * Context: may sleep.
 * Return: the folio, or NULL if no 2 MiB block is free.
 */
struct folio *mm_get_huge_zero_folio(struct pinmm *m)
{
	struct folio *folio = smp_load_acquire(&m->huge_zero_folio);

	if (folio)
		return folio;
	mutex_lock(&m->huge_zero_lock);
	folio = m->huge_zero_folio;
	if (!folio) {
		folio = folio_alloc(m, __GFP_COMP | __GFP_ZERO | __GFP_NOWARN, HPAGE_PMD_ORDER);
		if (folio) {
			SetPageReserved(&folio->page);
			SetPageZero(&folio->page);
			count_vm_event(m, THP_ZERO_PAGE_ALLOC);
			smp_store_release(&m->huge_zero_folio, folio);
		}
	}
	mutex_unlock(&m->huge_zero_lock);
	return folio;
}

static pmd_t mk_huge_pmd(struct pinmm *m, struct folio *folio, pgprot_t prot)
{
	return pfn_pmd(page_to_pfn_m(m, &folio->page), prot);
}

/**
 * do_huge_pmd_anonymous_page() - fault on an empty PMD of a THP-eligible
 * VMA: the huge zero folio on a read, a fresh zeroed THP on a write.
 * Context: mmap_lock held for reading.
 * Return: 0, VM_FAULT_OOM, or VM_FAULT_FALLBACK to use small pages.
 */
vm_fault_t do_huge_pmd_anonymous_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	struct pinmm *m = mm->machine;
	unsigned long haddr = vmf->address & PMD_MASK;
	struct folio *folio;
	struct page *pt;
	spinlock_t *ptl;
	pmd_t entry;

	khugepaged_enter_vma(vma, vma->vm_flags);	/* as Linux's THP fault */
	pt = pte_alloc_one(mm);
	if (!pt)
		return VM_FAULT_FALLBACK;

	if (!(vmf->flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE))) {
		folio = mm_get_huge_zero_folio(m);
		if (!folio)
			goto fallback_pt;
		entry = pmd_mkspecial(pmd_wrprotect(mk_huge_pmd(m, folio, vma->vm_page_prot)));
		ptl = pmd_lock(mm, vmf->pmd);
		if (pmd_none(pmdp_get(vmf->pmd))) {
			pgtable_trans_huge_deposit(mm, vmf->pmd, pt);
			set_pmd(vmf->pmd, pmd_mkyoung(entry));
			pt = NULL;
		}
		spin_unlock(ptl);
		if (pt)
			pte_free_rcu(mm, pt);
		return 0;
	}

	if (anon_vma_prepare(vma))
		goto fallback_pt;
	folio = folio_alloc(m, GFP_TRANSHUGE | __GFP_ZERO, HPAGE_PMD_ORDER);
	if (!folio) {
		count_vm_event(m, THP_FAULT_FALLBACK);
		goto fallback_pt;
	}
	entry = mk_huge_pmd(m, folio, vma->vm_page_prot);
	if (vma->vm_flags & VM_WRITE)
		entry = pmd_mkdirty(pmd_mkwrite(entry));
	entry = pmd_mkyoung(entry);

	ptl = pmd_lock(mm, vmf->pmd);
	if (!pmd_none(pmdp_get(vmf->pmd))) {
		spin_unlock(ptl);
		folio_put(folio);
		pte_free_rcu(mm, pt);
		return 0;
	}
	folio_add_new_anon_rmap(folio, vma, haddr, true);
	pgtable_trans_huge_deposit(mm, vmf->pmd, pt);
	add_mm_counter(mm, MM_ANONPAGES, HPAGE_PMD_NR);
	set_pmd(vmf->pmd, entry);
	spin_unlock(ptl);
	count_vm_event(m, THP_FAULT_ALLOC);
	return 0;

fallback_pt:
	pte_free_rcu(mm, pt);
	return VM_FAULT_FALLBACK;
}

/*
 * do_huge_zero_wp_pmd() - a write fault on the huge zero PMD (Linux
 * 6.11+): map a fresh zeroed THP in its place, keeping the deposited
 * table, when the THP policy still allows one here and a 2 MiB block is
 * free.  Context: mmap_lock held for reading.
 * Return: 0 (also when the PMD changed meanwhile: the access is retried),
 * VM_FAULT_FALLBACK to split instead.
 */
static vm_fault_t do_huge_zero_wp_pmd(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	struct pinmm *m = mm->machine;
	unsigned long haddr = vmf->address & PMD_MASK;
	struct mmu_notifier_range range;
	struct folio *folio;
	spinlock_t *ptl;
	pmd_t entry;

	if (!vma_thp_allowed(vma, haddr) || anon_vma_prepare(vma))
		return VM_FAULT_FALLBACK;
	folio = folio_alloc(m, GFP_TRANSHUGE | __GFP_ZERO, HPAGE_PMD_ORDER);
	if (!folio) {
		count_vm_event(m, THP_FAULT_FALLBACK);
		return VM_FAULT_FALLBACK;
	}
	count_vm_event(m, THP_FAULT_ALLOC);
	entry = pmd_mkyoung(maybe_pmd_mkwrite(pmd_mkdirty(mk_huge_pmd(m, folio,
								      vma->vm_page_prot)), vma));
	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, haddr, haddr + PMD_SIZE);
	mmu_notifier_invalidate_range_start(&range);
	ptl = pmd_lock(mm, vmf->pmd);
	if (pmd_val(pmdp_get(vmf->pmd)) != pmd_val(vmf->orig_pmd)) {
		spin_unlock(ptl);
		folio_put(folio);
	} else {
		/*
		 * One store replaces the zero leaf: a GUP-fast walker that
		 * grabbed nothing (the zero folio is special) sees either.
		 */
		folio_add_new_anon_rmap(folio, vma, haddr, true);
		add_mm_counter(mm, MM_ANONPAGES, HPAGE_PMD_NR);
		set_pmd(vmf->pmd, entry);
		spin_unlock(ptl);
	}
	mmu_notifier_invalidate_range_end(&range);
	return 0;
}

/**
 * do_huge_pmd_wp_page() - write or unshare fault on a read-only PMD leaf:
 * a write to the huge zero PMD maps a new THP where policy allows
 * (do_huge_zero_wp_pmd()); reuse an exclusive THP; else split the PMD
 * mapping and let the PTE-level fault copy one page.
 * Context: mmap_lock held for reading.
 * Return: 0, or VM_FAULT_FALLBACK to continue at PTE level.
 */
vm_fault_t do_huge_pmd_wp_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	bool unshare = vmf->flags & FAULT_FLAG_UNSHARE;
	spinlock_t *ptl;
	pmd_t pmd;
	struct folio *folio;

	if (pmd_special(vmf->orig_pmd) && !unshare && !(vma->vm_flags & VM_SHARED) &&
	    !(do_huge_zero_wp_pmd(vmf) & VM_FAULT_FALLBACK))
		return 0;
	ptl = pmd_lock(mm, vmf->pmd);
	pmd = pmdp_get(vmf->pmd);
	if (pmd_val(pmd) != pmd_val(vmf->orig_pmd)) {
		spin_unlock(ptl);
		return 0;
	}
	if (pmd_special(pmd) || (vma->vm_flags & VM_SHARED))
		goto split;
	folio = page_folio(pfn_to_page_m(mm->machine, pmd_pfn(pmd)));
	if (!PageAnonExclusive(&folio->page)) {
		if (folio_ref_count_acquire(folio) != 1 || folio_mapcount(folio) != 1)
			goto split;
		SetPageAnonExclusive(&folio->page);
	}
	if (!unshare)
		set_pmd(vmf->pmd, pmd_mkyoung(maybe_pmd_mkwrite(pmd_mkdirty(pmd), vma)));
	spin_unlock(ptl);
	return 0;
split:
	spin_unlock(ptl);
	__split_huge_pmd(vma, vmf->pmd, vmf->address);
	return VM_FAULT_FALLBACK;
}

/**
 * __split_huge_pmd() - replace the PMD leaf covering @address by a table of
 * 512 PTEs mapping the same pages with the same permissions.  The folio is
 * not split.  No-op if the PMD is not a leaf any more.  Notifier
 * subscriptions get MMU_NOTIFY_CLEAR over the PMD range.
 * Context: mmap_lock held (or rmap locks), no spinlock (the notifier may
 * sleep); takes the PMD lock.
 */
void __split_huge_pmd(struct vm_area_struct *vma, pmd_t *pmdp, unsigned long address)
{
	struct mm_struct *mm = vma->vm_mm;
	struct pinmm *m = mm->machine;
	unsigned long haddr = address & PMD_MASK;
	struct mmu_notifier_range range;
	spinlock_t *ptl;
	pmd_t old;
	struct page *pt;
	pte_t *ptes;
	uint64_t keep;

	/* Linux notifies CLEAR over the PMD range, before the PMD lock. */
	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, haddr, haddr + PMD_SIZE);
	mmu_notifier_invalidate_range_start(&range);
	ptl = pmd_lock(mm, pmdp);
	old = pmdp_get(pmdp);
	if (!pmd_leaf(old)) {
		spin_unlock(ptl);
		mmu_notifier_invalidate_range_end(&range);
		return;
	}
	pt = pgtable_trans_huge_withdraw(mm, pmdp);
	ptes = (pte_t *)pfn_to_virt(m, page_to_pfn_m(m, pt));
	keep = pmd_val(old) & (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED |
			       _PAGE_DIRTY | _PAGE_SOFT_DIRTY | _PAGE_NX | _PAGE_PROTNONE);

	if (pmd_special(old)) {
		/* Huge zero folio: 512 PTEs of the small zero page. */
		for (int i = 0; i < PTRS_PER_PTE; i++)
			ptes[i] = pte_mkspecial(__pte(((uint64_t)m->zero_pfn << PAGE_SHIFT) |
						      (keep & ~(uint64_t)_PAGE_RW)));
	} else {
		struct page *head = pfn_to_page_m(m, pmd_pfn(old));
		struct folio *folio = page_folio(head);
		bool anon = folio_test_anon(folio);
		bool exclusive = anon && PageAnonExclusive(head);

		/* Each PTE mapping holds a reference, the PMD held one. */
		folio_ref_add(folio, HPAGE_PMD_NR - 1);
		for (int i = 0; i < PTRS_PER_PTE; i++) {
			if (exclusive)
				SetPageAnonExclusive(head + i);
			ptes[i] = __pte(((uint64_t)(pmd_pfn(old) + i) << PAGE_SHIFT) | keep);
		}
		if (anon)
			folio_add_anon_rmap_ptes(folio, head, HPAGE_PMD_NR, vma, haddr, false);
		else
			folio_add_file_rmap_ptes(folio, head, HPAGE_PMD_NR, vma);
		folio_remove_rmap_pmd(folio, vma);
		if (exclusive)		/* folio_remove_rmap_pmd cleared the head's bit */
			SetPageAnonExclusive(head);
	}
	/* The filled table is published by one release store of the PMD. */
	set_pmd(pmdp, __pmd(((uint64_t)page_to_pfn_m(m, pt) << PAGE_SHIFT) | _PAGE_TABLE));
	spin_unlock(ptl);
	mmu_notifier_invalidate_range_end(&range);
	count_vm_event(m, THP_SPLIT_PMD);
}

/**
 * split_huge_pmd_address() - split the PMD mapping covering @address, if any.
 * Context: mmap_lock held.
 */
void split_huge_pmd_address(struct vm_area_struct *vma, unsigned long address)
{
	pmd_t *pmd = pmd_offset_lookup(vma->vm_mm, address);

	if (pmd && pmd_leaf(pmdp_get(pmd)))
		__split_huge_pmd(vma, pmd, address);
}

/**
 * move_huge_pmd() - move the PMD-mapped THP (or huge zero page) at
 * @old_pmd to the empty @new_pmd, with its deposited PTE table: mremap()
 * of a whole, 2 MiB aligned THP.  The folio, its mapcount and its pins
 * are untouched.
 * Context: mmap_lock held for writing and the VMA's rmap locks for
 * writing (mremap.c); takes both PMD locks (double_pt_lock()).
 * Return: true if moved; false if @new_pmd is not empty or @old_pmd is no
 * longer a leaf (the caller splits and moves PTEs).
 */
bool move_huge_pmd(struct vm_area_struct *vma, unsigned long old_addr, unsigned long new_addr,
		   pmd_t *old_pmd, pmd_t *new_pmd)
{
	struct mm_struct *mm = vma->vm_mm;
	spinlock_t *old_ptl, *new_ptl;
	pmd_t pmd;
	bool moved = false;

	VM_BUG_ON((old_addr | new_addr) & ~PMD_MASK);
	if (!pmd_none(pmdp_get(new_pmd)))
		return false;
	old_ptl = pmd_lockptr(mm, old_pmd);
	new_ptl = pmd_lockptr(mm, new_pmd);
	double_pt_lock(old_ptl, new_ptl);	/* two PMD tables of one mm */
	if (pmd_leaf(pmdp_get(old_pmd)) && pmd_none(pmdp_get(new_pmd))) {
		pmd = pmdp_huge_get_and_clear(old_pmd);
		/* The deposit lives with the PMD table: it changes tables too. */
		if (new_ptl != old_ptl)
			pgtable_trans_huge_deposit(mm, new_pmd,
						   pgtable_trans_huge_withdraw(mm, old_pmd));
		set_pmd(new_pmd, pmd);
		moved = true;
	}
	double_pt_unlock(old_ptl, new_ptl);
	return moved;
}

/**
 * vma_adjust_trans_huge() - before a VMA boundary moves to @start or @end,
 * split PMD mappings that would straddle it.
 * Context: mmap_lock held for writing.
 */
void vma_adjust_trans_huge(struct vm_area_struct *vma, unsigned long start,
			   unsigned long end)
{
	if (!IS_ALIGNED(start, PMD_SIZE))
		split_huge_pmd_address(vma, start);
	if (end != start && !IS_ALIGNED(end, PMD_SIZE))
		split_huge_pmd_address(vma, end);
}

/**
 * zap_huge_pmd() - unmap a whole PMD leaf.
 * Context: mmap_lock held or rmap locks; takes the PMD lock.
 * Return: true if it did; false if the PMD is no longer a leaf (an rmap
 * walker split it meanwhile): the caller must zap the PTEs instead.
 */
bool zap_huge_pmd(struct vm_area_struct *vma, pmd_t *pmdp, unsigned long addr)
{
	struct mm_struct *mm = vma->vm_mm;
	struct pinmm *m = mm->machine;
	spinlock_t *ptl = pmd_lock(mm, pmdp);
	pmd_t old = pmdp_get(pmdp);
	struct folio *folio;
	struct page *pt;

	if (!pmd_leaf(old)) {
		spin_unlock(ptl);
		return false;
	}
	old = pmdp_huge_get_and_clear(pmdp);
	pt = pgtable_trans_huge_withdraw(mm, pmdp);
	spin_unlock(ptl);
	pte_free_rcu(mm, pt);
	if (pmd_special(old))
		return true;
	folio = page_folio(pfn_to_page_m(m, pmd_pfn(old)));
	if (!folio_test_anon(folio) && pmd_dirty(old))
		folio_mark_dirty(folio);
	folio_remove_rmap_pmd(folio, vma);
	add_mm_counter(mm, folio_test_anon(folio) ? MM_ANONPAGES : MM_FILEPAGES,
		       -(long)HPAGE_PMD_NR);
	if (folio_maybe_dma_pinned(folio))
		count_vm_event(m, PINNED_PAGE_DETACHED);
	folio_put(folio);
	return true;
}

/**
 * copy_huge_pmd() - fork: share a PMD-mapped THP with the child, write-
 * protected in both.  A THP that may be pinned is not shared: the source
 * PMD is split and -EAGAIN tells the caller to copy at PTE level (which
 * copies every pinned page for the child).
 * Context: source mmap_lock held for writing, write_protect_seq odd.
 * Return: 0, -EAGAIN, -ENOMEM.
 */
int copy_huge_pmd(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma,
		  pmd_t *dst_pmd, pmd_t *src_pmd, unsigned long addr)
{
	struct mm_struct *dst_mm = dst_vma->vm_mm, *src_mm = src_vma->vm_mm;
	struct pinmm *m = src_mm->machine;
	spinlock_t *src_ptl, *dst_ptl;
	struct folio *folio;
	struct page *pt;
	pmd_t pmd;

	pt = pte_alloc_one(dst_mm);
	if (!pt)
		return -ENOMEM;
	dst_ptl = pmd_lock(dst_mm, dst_pmd);
	src_ptl = pmd_lockptr(src_mm, src_pmd);
	spin_lock_nested(src_ptl, SINGLE_DEPTH_NESTING);	/* child's, then parent's */
	pmd = pmdp_get(src_pmd);
	if (!pmd_leaf(pmd)) {
		spin_unlock(src_ptl);
		spin_unlock(dst_ptl);
		pte_free_rcu(dst_mm, pt);
		return -EAGAIN;
	}
	if (!pmd_special(pmd)) {
		folio = page_folio(pfn_to_page_m(m, pmd_pfn(pmd)));
		folio_get(folio);
		if (folio_try_dup_anon_rmap_pmd(folio, &folio->page, src_vma)) {
			folio_put(folio);
			spin_unlock(src_ptl);
			spin_unlock(dst_ptl);
			pte_free_rcu(dst_mm, pt);
			__split_huge_pmd(src_vma, src_pmd, addr);
			return -EAGAIN;
		}
		add_mm_counter(dst_mm, MM_ANONPAGES, HPAGE_PMD_NR);
		count_vm_events(m, FORK_COW_SHARE, HPAGE_PMD_NR);
	}
	pmdp_set_wrprotect(src_pmd);
	pgtable_trans_huge_deposit(dst_mm, dst_pmd, pt);
	set_pmd(dst_pmd, pmd_wrprotect(pmdp_get(src_pmd)));
	spin_unlock(src_ptl);
	spin_unlock(dst_ptl);
	return 0;
}

/**
 * change_huge_pmd() - apply @newprot to a whole PMD leaf (mprotect).
 * Context: mmap_lock held for writing.
 * Return: 1 if a leaf was changed, 0 if there was none.
 */
int change_huge_pmd(struct vm_area_struct *vma, pmd_t *pmdp, unsigned long addr,
		    pgprot_t newprot, bool writable_ok)
{
	struct mm_struct *mm = vma->vm_mm;
	spinlock_t *ptl = pmd_lock(mm, pmdp);
	pmd_t pmd = pmdp_get(pmdp), entry;
	bool was_write = pmd_write(pmd);

	if (!pmd_leaf(pmd) && !pmd_protnone(pmd)) {
		spin_unlock(ptl);
		return 0;
	}
	entry = pmd_modify(pmd, newprot);
	if (!pmd_special(pmd) && (pgprot_val(newprot) & _PAGE_PRESENT) && writable_ok &&
	    !(vma_soft_dirty_enabled(vma) && !pmd_soft_dirty(pmd))) {
		struct page *head = pfn_to_page_m(mm->machine, pmd_pfn(pmd));
		if (was_write || PageAnonExclusive(head))
			entry = pmd_mkwrite(entry);
	}
	if (pmd_special(pmd))
		entry = pmd_wrprotect(entry);
	set_pmd(pmdp, entry);
	spin_unlock(ptl);
	return 1;
}
