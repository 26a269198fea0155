/* SPDX-License-Identifier: MIT */
/*
 * hugetlb_fault.c - page tables of hugetlb VMAs: the fault
 * (hugetlb_fault, hugetlb_no_page, hugetlb_wp), tearing down
 * (unmap_hugepage_range), fork (copy_hugetlb_page_range), mprotect
 * (hugetlb_change_protection) and GUP's slow-path lookup
 * (hugetlb_follow_page_mask).
 *
 * A hugetlb entry is one PMD leaf (2 MiB) or one PUD leaf (1 GiB), handled
 * as a pte_t through huge_pte_offset(): it is never split and has no
 * deposited table.  Every mapping holds one folio reference and one
 * "entire" mapcount (_entire_mapcount and _large_mapcount both count
 * mappings; per-page _mapcount stays -1), as Linux's hugetlb rmap.
 *
 * Faults on one (file, index) are serialised by the hugetlb fault mutex
 * (hugetlb.c), taken under mmap_lock for reading and before the
 * page-table lock, so that two faults never both allocate for one index
 * and a reservation is consumed once.
 */
#include <errno.h>
#include <string.h>

#include "gup.h"
#include "pagemap.h"
#include "hugetlb.h"

/**
 * huge_pte_offset() - the entry that maps the huge page of size @sz at
 * @addr, without allocating: a PMD slot for 2 MiB, a PUD slot for 1 GiB.
 * @mm: the address space.
 * @addr: the address.
 * @sz: PMD_SIZE or PUD_SIZE.
 *
 * Context: mmap_lock held.
 * Return: the entry (as a pte_t), or NULL when the upper levels are absent.
 */
pte_t *huge_pte_offset(struct mm_struct *mm, unsigned long addr, unsigned long sz)
{
	if (sz == PUD_SIZE)
		return (pte_t *)pud_offset_lookup(mm, addr);
	return (pte_t *)pmd_offset_lookup(mm, addr);
}

/**
 * huge_pte_alloc() - as huge_pte_offset(), allocating upper levels.
 * @mm: the address space.
 * @addr: the address.
 * @sz: PMD_SIZE or PUD_SIZE.
 *
 * Context: mmap_lock held; takes mm->page_table_lock.
 * Return: the entry, or NULL on -ENOMEM.
 */
pte_t *huge_pte_alloc(struct mm_struct *mm, unsigned long addr, unsigned long sz)
{
	if (sz == PUD_SIZE)
		return (pte_t *)pud_alloc(mm, addr);
	return (pte_t *)pmd_alloc(mm, addr);
}

/**
 * huge_pte_lockptr() - the lock of a hugetlb entry: the split PMD lock for
 * 2 MiB, mm->page_table_lock for 1 GiB (as Linux).
 * @h: the entry's hstate.
 * @mm: the address space.
 * @ptep: the entry.
 *
 * Context: any.
 * Return: the lock (not taken).
 */
spinlock_t *huge_pte_lockptr(struct hstate *h, struct mm_struct *mm, pte_t *ptep)
{
	if (h->order == HPAGE_PMD_ORDER)
		return pmd_lockptr(mm, (pmd_t *)ptep);
	return &mm->page_table_lock;
}

static pte_t make_huge_pte(struct vm_area_struct *vma, struct folio *folio, bool writable)
{
	pte_t e = __pte(pmd_val(pfn_pmd(folio_pfn(folio), vma->vm_page_prot)));

	e = pte_mkyoung(e);
	if (writable)
		e = pte_mkdirty(pte_mkwrite(e));
	else
		e = pte_wrprotect(e);
	return e;
}

/* Linux's hugetlb_add_new_anon_rmap(): first mapping of a new anon folio. */
static void hugetlb_add_new_anon_rmap(struct folio *folio, struct vm_area_struct *vma,
				      unsigned long haddr)
{
	struct anon_vma *av = smp_load_acquire(&vma->anon_vma);

	get_anon_vma(av);
	folio->index = linear_page_index(vma, haddr);
	atomic_set(&folio->_entire_mapcount, 0);
	atomic_set(&folio->_large_mapcount, 0);
	SetPageAnonExclusive(&folio->page);
	smp_store_release(&folio->mapping,
			  (struct address_space *)((unsigned long)av | PAGE_MAPPING_ANON));
}

/* One more mapping of a page-cache or anon hugetlb folio. */
static void hugetlb_add_rmap(struct folio *folio)
{
	atomic_inc(&folio->_entire_mapcount);
	atomic_inc(&folio->_large_mapcount);
}

static void hugetlb_remove_rmap(struct folio *folio)
{
	VM_BUG_ON_FOLIO(folio_entire_mapcount(folio) <= 0, folio);
	if (atomic_add_negative(-1, &folio->_entire_mapcount))
		ClearPageAnonExclusive(&folio->page);
	atomic_dec(&folio->_large_mapcount);
}

/*
 * A folio taken by alloc_hugetlb_folio() is not going to be used: give it
 * back, and give back the reservation it consumed (Linux's
 * restore_reserve_on_error()).  Private: the index is unconsumed again;
 * shared: the index is still covered, without a page, so reserved.
 */
static void hugetlb_backout(struct vm_area_struct *vma, unsigned long haddr,
			    struct folio *folio)
{
	struct hstate *h = folio_hstate(folio);
	bool restore = folio->private == HUGETLB_RESTORE_RESERVE;

	folio->private = NULL;
	if (restore && !(vma->vm_flags & VM_MAYSHARE)) {
		pgoff_t idx = vma_hugecache_offset(h, vma, haddr);

		resv_map_clear_range(vma_resv_map(vma), idx, idx + 1);
	}
	folio_put(folio);	/* back on the free list: the reserve fits again */
	if (restore)
		hugetlb_acct_memory(vma->vm_mm->machine, h, 1);
}

static void copy_huge_folio(struct pinmm *m, struct folio *dst, struct folio *src)
{
	memcpy(pfn_to_virt(m, folio_pfn(dst)), pfn_to_virt(m, folio_pfn(src)),
	       folio_nr_pages(src) << PAGE_SHIFT);
}

/*
 * Linux's unmap_ref_private(): the owner of a private mapping must COW a
 * page a fork child still maps, and the pool is empty.  The owner's
 * reliability wins: the page is unmapped from every other private VMA of
 * the file that maps it, and those VMAs get HPAGE_RESV_UNMAPPED (their
 * next fault there is SIGBUS).
 */
static void unmap_ref_private(struct vm_area_struct *vma, struct folio *folio,
			      unsigned long haddr)
{
	struct address_space *mapping = vma->vm_file->f_mapping;
	struct hstate *h = hstate_vma(vma);
	pgoff_t pgoff = linear_page_index(vma, haddr);
	struct zap_details details = { .single_folio = folio, .even_cows = true };
	struct vm_area_struct *iter;

	down_read(&mapping->i_mmap_rwsem);
	list_for_each_entry(iter, &mapping->i_mmap, shared_node) {
		unsigned long a;

		if (iter == vma || (iter->vm_flags & VM_MAYSHARE) ||
		    is_vma_resv_set(iter, HPAGE_RESV_OWNER))
			continue;
		if (pgoff < iter->vm_pgoff || pgoff >= iter->vm_pgoff + vma_pages(iter))
			continue;
		a = iter->vm_start + ((pgoff - iter->vm_pgoff) << PAGE_SHIFT);
		unmap_hugepage_range(iter, a, a + huge_page_size(h), &details);
	}
	up_read(&mapping->i_mmap_rwsem);
}

/*
 * Linux's hugetlb_wp(): a write (or, with FAULT_FLAG_UNSHARE, a read-only
 * pin) on a read-only entry of a private mapping: reuse the anon folio if
 * this is its only mapping, else copy it.  Shared mappings just become
 * writable.  Called with the fault mutex held, not the page-table lock.
 */
static vm_fault_t hugetlb_wp(struct vm_area_struct *vma, unsigned long haddr, pte_t *ptep,
			     unsigned int flags)
{
	struct mm_struct *mm = vma->vm_mm;
	struct pinmm *m = mm->machine;
	struct hstate *h = hstate_vma(vma);
	bool unshare = flags & FAULT_FLAG_UNSHARE;
	spinlock_t *ptl = huge_pte_lockptr(h, mm, ptep);
	struct mmu_notifier_range range;
	struct folio *old, *new;
	bool outside_reserve;
	pte_t entry;

	spin_lock(ptl);
retry:
	entry = ptep_get(ptep);
	if (!pte_present(entry) || (pte_write(entry) && !unshare)) {
		spin_unlock(ptl);
		return 0;
	}
	if (vma->vm_flags & VM_MAYSHARE) {
		if (!unshare)
			set_pte(ptep, pte_mkyoung(pte_mkdirty(pte_mkwrite(entry))));
		spin_unlock(ptl);
		return 0;
	}
	old = page_folio(pfn_to_page_m(m, pte_pfn(entry)));
	if (folio_test_anon(old) && folio_mapcount(old) == 1) {
		/* Only this mapping: the page is ours (Linux does not look at refcounts). */
		SetPageAnonExclusive(&old->page);
		if (!unshare && (vma->vm_flags & VM_WRITE))
			set_pte(ptep, pte_mkyoung(pte_mkdirty(pte_mkwrite(entry))));
		spin_unlock(ptl);
		count_vm_event(m, COW_REUSE);
		return 0;
	}
	/* The owner copies without touching its reserves if the page is anon. */
	outside_reserve = is_vma_resv_set(vma, HPAGE_RESV_OWNER) && folio_test_anon(old);
	folio_get(old);
	spin_unlock(ptl);

	if (anon_vma_prepare(vma)) {
		folio_put(old);
		return VM_FAULT_OOM;
	}
	new = alloc_hugetlb_folio(vma, haddr, outside_reserve);
	if (IS_ERR(new)) {
		if (outside_reserve) {
			unmap_ref_private(vma, old, haddr);
			folio_put(old);
			spin_lock(ptl);
			if (pte_val(ptep_get(ptep)) == pte_val(entry))
				goto retry;	/* now mapped only here: reused */
			spin_unlock(ptl);
			return 0;
		}
		folio_put(old);
		count_vm_event(m, HUGETLB_SIGBUS);
		return VM_FAULT_SIGBUS;
	}
	copy_huge_folio(m, new, old);

	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, haddr, haddr + huge_page_size(h));
	mmu_notifier_invalidate_range_start(&range);
	spin_lock(ptl);
	if (pte_val(ptep_get(ptep)) != pte_val(entry)) {
		spin_unlock(ptl);
		mmu_notifier_invalidate_range_end(&range);
		hugetlb_backout(vma, haddr, new);
		folio_put(old);
		return 0;
	}
	new->private = NULL;
	hugetlb_add_new_anon_rmap(new, vma, haddr);
	ptep_get_and_clear(ptep);
	hugetlb_remove_rmap(old);
	set_pte(ptep, make_huge_pte(vma, new, !unshare && (vma->vm_flags & VM_WRITE)));
	spin_unlock(ptl);
	mmu_notifier_invalidate_range_end(&range);
	if (folio_maybe_dma_pinned(old))
		count_vm_event(m, PINNED_PAGE_DETACHED);
	folio_put(old);		/* the mapping's reference */
	folio_put(old);		/* ours */
	count_vm_event(m, unshare ? UNSHARE_FAULT : COW_FAULT);
	count_vm_event(m, HUGETLB_COW);
	return 0;
}

/*
 * Linux's hugetlb_no_page(): the entry is none.  Shared: the page-cache
 * page, allocated (from the index's reservation) and added if absent.
 * Private: the page-cache page mapped read-only if the file has one, else
 * a new anon page.  Fault mutex held.
 */
static vm_fault_t hugetlb_no_page(struct vm_area_struct *vma, unsigned long haddr,
				  pgoff_t idx, pte_t *ptep, unsigned int flags)
{
	struct mm_struct *mm = vma->vm_mm;
	struct pinmm *m = mm->machine;
	struct hstate *h = hstate_vma(vma);
	struct inode *inode = vma->vm_file->f_inode;
	struct address_space *mapping = vma->vm_file->f_mapping;
	bool shared = vma->vm_flags & VM_MAYSHARE;
	bool write = flags & FAULT_FLAG_WRITE;
	bool new_anon = false, writable;
	struct folio *folio;
	spinlock_t *ptl;

	if (is_vma_resv_set(vma, HPAGE_RESV_UNMAPPED))
		goto sigbus;
	if (idx >= (unsigned long)((READ_ONCE(inode->i_size) + huge_page_size(h) - 1) >>
				   (PAGE_SHIFT + h->order)))
		goto sigbus;
	folio = hugetlbfs_pagecache_get(mapping, h, idx);
	if (!folio) {
		if (!shared && anon_vma_prepare(vma))
			return VM_FAULT_OOM;
		folio = alloc_hugetlb_folio(vma, haddr, false);
		if (IS_ERR(folio))
			goto sigbus;
		memset(pfn_to_virt(m, folio_pfn(folio)), 0, huge_page_size(h));
		if (shared) {
			if (hugetlb_add_to_page_cache(folio, mapping, idx)) {
				hugetlb_backout(vma, haddr, folio);
				return VM_FAULT_OOM;
			}
			folio->private = NULL;
		} else {
			new_anon = true;
		}
	}

	ptl = huge_pte_lockptr(h, mm, ptep);
	spin_lock(ptl);
	if (!pte_none(ptep_get(ptep))) {
		spin_unlock(ptl);
		if (new_anon)
			hugetlb_backout(vma, haddr, folio);
		else
			folio_put(folio);
		return 0;
	}
	if (new_anon) {
		folio->private = NULL;
		hugetlb_add_new_anon_rmap(folio, vma, haddr);
		writable = write && (vma->vm_flags & VM_WRITE);
	} else {
		hugetlb_add_rmap(folio);
		writable = shared && (vma->vm_flags & VM_WRITE) && (vma->vm_flags & VM_SHARED);
	}
	set_pte(ptep, make_huge_pte(vma, folio, writable));
	spin_unlock(ptl);
	if (!new_anon && !shared && write)
		return hugetlb_wp(vma, haddr, ptep, flags);
	return 0;

sigbus:
	count_vm_event(m, HUGETLB_SIGBUS);
	return VM_FAULT_SIGBUS;
}

/**
 * hugetlb_fault() - handle_mm_fault() for a hugetlb VMA.
 * @mm: the VMA's mm.
 * @vma: the VMA.
 * @address: the faulting address.
 * @flags: FAULT_FLAG_*.
 *
 * Context: mmap_lock held for reading; takes the fault mutex of the index.
 * Return: 0, VM_FAULT_OOM, or VM_FAULT_SIGBUS (beyond the file, empty pool
 * for a MAP_NORESERVE or child COW fault, page taken by the owner).
 */
vm_fault_t hugetlb_fault(struct mm_struct *mm, struct vm_area_struct *vma,
			 unsigned long address, unsigned int flags)
{
	struct hstate *h = hstate_vma(vma);
	unsigned long haddr = address & huge_page_mask(h);
	pgoff_t idx = vma_hugecache_offset(h, vma, haddr);
	struct mutex *fault_mutex;
	vm_fault_t ret = 0;
	pte_t *ptep;
	pte_t entry;

	mmap_assert_locked(mm);
	count_vm_event(mm->machine, PGFAULT);
	fault_mutex = hugetlb_fault_mutex(mm->machine, vma->vm_file->f_mapping, idx);
	mutex_lock(fault_mutex);
	ptep = huge_pte_alloc(mm, haddr, huge_page_size(h));
	if (!ptep) {
		ret = VM_FAULT_OOM;
		goto out;
	}
	entry = ptep_get(ptep);
	if (pte_none(entry)) {
		ret = hugetlb_no_page(vma, haddr, idx, ptep, flags);
	} else if ((flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE)) && !pte_write(entry)) {
		ret = hugetlb_wp(vma, haddr, ptep, flags);
	} else {
		spinlock_t *ptl = huge_pte_lockptr(h, mm, ptep);

		spin_lock(ptl);
		entry = ptep_get(ptep);
		if (pte_present(entry)) {
			entry = pte_mkyoung(entry);
			if (flags & FAULT_FLAG_WRITE)
				entry = pte_mkdirty(entry);
			set_pte(ptep, entry);
		}
		spin_unlock(ptl);
	}
out:
	mutex_unlock(fault_mutex);
	return ret;
}

/**
 * unmap_hugepage_range() - unmap the huge pages of [@start, @end) of @vma
 * (rounded out to whole huge pages).
 * @vma: a hugetlb VMA.
 * @start: first address.
 * @end: end address.
 * @details: NULL for all; with ->single_folio only entries mapping that
 *	folio (and the VMA is marked HPAGE_RESV_UNMAPPED); without ->even_cows
 *	private anon copies are kept (truncation).
 *
 * A pinned folio stays allocated (the pin is a reference) and returns to
 * the pool at its last unpin.
 * Context: mmap_lock held, or the VMA kept alive by i_mmap_rwsem.
 */
void unmap_hugepage_range(struct vm_area_struct *vma, unsigned long start,
			  unsigned long end, struct zap_details *details)
{
	struct mm_struct *mm = vma->vm_mm;
	struct pinmm *m = mm->machine;
	struct hstate *h = hstate_vma(vma);
	unsigned long sz = huge_page_size(h);

	start &= huge_page_mask(h);
	end = ALIGN(end, sz);
	for (unsigned long a = start; a < end; a += sz) {
		pte_t *ptep = huge_pte_offset(mm, a, sz);
		struct folio *folio;
		spinlock_t *ptl;
		pte_t entry;

		if (!ptep || pte_none(ptep_get(ptep)))
			continue;
		ptl = huge_pte_lockptr(h, mm, ptep);
		spin_lock(ptl);
		entry = ptep_get(ptep);
		if (!pte_present(entry)) {
			/* A migration entry holds no reference (hugetlb_migrate_folio()). */
			if (!details || !details->single_folio)
				pte_clear(ptep);
			spin_unlock(ptl);
			continue;
		}
		folio = page_folio(pfn_to_page_m(m, pte_pfn(entry)));
		if (details && details->single_folio && details->single_folio != folio) {
			spin_unlock(ptl);
			continue;
		}
		if (details && !details->even_cows && folio_test_anon(folio)) {
			spin_unlock(ptl);
			continue;
		}
		ptep_get_and_clear(ptep);
		if (details && details->single_folio)
			set_vma_resv_flags(vma, HPAGE_RESV_UNMAPPED);
		hugetlb_remove_rmap(folio);
		spin_unlock(ptl);
		if (folio_maybe_dma_pinned(folio))
			count_vm_event(m, PINNED_PAGE_DETACHED);
		folio_put(folio);
	}
}

/*
 * Fork copies a maybe-pinned exclusive anon page for the child (Linux's
 * copy_hugetlb_page_range() with hugetlb_try_dup_anon_rmap() failing).
 * Return: 0 or -ENOMEM (the pool has no page for the copy).
 */
static int hugetlb_copy_for_child(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma,
				  unsigned long addr, pte_t *dst_pte, pte_t *src_pte,
				  struct folio *src_folio)
{
	struct pinmm *m = src_vma->vm_mm->machine;
	struct hstate *h = hstate_vma(src_vma);
	struct folio *new = alloc_hugetlb_folio(dst_vma, addr, false);
	spinlock_t *dst_ptl, *src_ptl;

	if (IS_ERR(new))
		return -ENOMEM;
	copy_huge_folio(m, new, src_folio);
	new->private = NULL;
	dst_ptl = huge_pte_lockptr(h, dst_vma->vm_mm, dst_pte);
	src_ptl = huge_pte_lockptr(h, src_vma->vm_mm, src_pte);
	spin_lock(dst_ptl);
	spin_lock_nested(src_ptl, SINGLE_DEPTH_NESTING);	/* parent's under child's */
	hugetlb_add_new_anon_rmap(new, dst_vma, addr);
	set_pte(dst_pte, make_huge_pte(dst_vma, new, dst_vma->vm_flags & VM_WRITE));
	spin_unlock(src_ptl);
	spin_unlock(dst_ptl);
	count_vm_events(m, FORK_COW_COPY, (long)pages_per_huge_page(h));
	return 0;
}

/**
 * copy_hugetlb_page_range() - fork: the child's entries for a hugetlb VMA.
 * @dst_vma: the child's VMA.
 * @src_vma: the parent's.
 *
 * Shared mappings share the pages.  Private ones share them write-
 * protected in both (COW), except an exclusive anon page that may be
 * pinned: the child gets a copy, as Linux.
 * Context: source mmap_lock held for writing, write_protect_seq odd (COW).
 * Return: 0 or -ENOMEM.
 */
int copy_hugetlb_page_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma)
{
	struct mm_struct *src_mm = src_vma->vm_mm, *dst_mm = dst_vma->vm_mm;
	struct pinmm *m = src_mm->machine;
	struct hstate *h = hstate_vma(src_vma);
	unsigned long sz = huge_page_size(h);
	bool cow = is_cow_mapping(src_vma->vm_flags);

	for (unsigned long a = src_vma->vm_start; a < src_vma->vm_end; a += sz) {
		pte_t *src_pte = huge_pte_offset(src_mm, a, sz), *dst_pte;
		spinlock_t *src_ptl, *dst_ptl;
		struct folio *folio;
		pte_t entry;
		int err;

		if (!src_pte || pte_none(ptep_get(src_pte)))
			continue;
		dst_pte = huge_pte_alloc(dst_mm, a, sz);
		if (!dst_pte)
			return -ENOMEM;
		dst_ptl = huge_pte_lockptr(h, dst_mm, dst_pte);
		src_ptl = huge_pte_lockptr(h, src_mm, src_pte);
		spin_lock(dst_ptl);
		spin_lock_nested(src_ptl, SINGLE_DEPTH_NESTING);	/* parent's under child's */
		entry = ptep_get(src_pte);
		if (!pte_present(entry)) {
			/* Mid-migration: the child gets the entry, read-only if COW. */
			if (is_migration_entry(entry)) {
				if (cow && swp_type(entry) == SWP_MIGRATION_WRITE) {
					entry = swp_entry_to_pte(SWP_MIGRATION_READ, swp_offset(entry));
					set_pte(src_pte, entry);
				}
				set_pte(dst_pte, entry);
			}
			spin_unlock(src_ptl);
			spin_unlock(dst_ptl);
			continue;
		}
		folio = page_folio(pfn_to_page_m(m, pte_pfn(entry)));
		if (cow && folio_test_anon(folio) && PageAnonExclusive(&folio->page) &&
		    test_bit(MMF_HAS_PINNED, &src_mm->flags) && folio_maybe_dma_pinned(folio)) {
			spin_unlock(src_ptl);
			spin_unlock(dst_ptl);
			err = hugetlb_copy_for_child(dst_vma, src_vma, a, dst_pte, src_pte, folio);
			if (err)
				return err;
			continue;
		}
		folio_get(folio);
		hugetlb_add_rmap(folio);
		if (cow) {
			ClearPageAnonExclusive(&folio->page);
			entry = pte_wrprotect(entry);
			set_pte(src_pte, entry);
			count_vm_events(m, FORK_COW_SHARE, (long)pages_per_huge_page(h));
		}
		set_pte(dst_pte, entry);
		spin_unlock(src_ptl);
		spin_unlock(dst_ptl);
	}
	return 0;
}

/**
 * hugetlb_change_protection() - mprotect() of [@start, @end) of @vma: every
 * entry gets @newprot (private writable mappings stay read-only: their
 * write faults reuse or copy).
 * @vma: a hugetlb VMA (huge-page aligned range).
 * @start: first address.
 * @end: end address.
 * @newprot: the VMA's new page protection.
 *
 * Context: mmap_lock held for writing.
 * Return: entries changed.
 */
long hugetlb_change_protection(struct vm_area_struct *vma, unsigned long start,
			       unsigned long end, pgprot_t newprot)
{
	struct mm_struct *mm = vma->vm_mm;
	struct hstate *h = hstate_vma(vma);
	unsigned long sz = huge_page_size(h);
	long pages = 0;

	for (unsigned long a = start; a < end; a += sz) {
		pte_t *ptep = huge_pte_offset(mm, a, sz);
		spinlock_t *ptl;
		pte_t entry;

		if (!ptep)
			continue;
		ptl = huge_pte_lockptr(h, mm, ptep);
		spin_lock(ptl);
		entry = ptep_get(ptep);
		if (pte_present(entry)) {
			set_pte(ptep, __pte(pmd_val(pmd_modify(__pmd(pte_val(entry)), newprot))));
			pages++;
		} else if (is_migration_entry(entry) && swp_type(entry) == SWP_MIGRATION_WRITE &&
			   !(pgprot_val(newprot) & _PAGE_RW)) {
			set_pte(ptep, swp_entry_to_pte(SWP_MIGRATION_READ, swp_offset(entry)));
		}
		spin_unlock(ptl);
	}
	return pages;
}

/**
 * hugetlb_follow_page_mask() - follow_page_mask() on a hugetlb VMA: the
 * subpage at @address with a reference of the kind in @flags.
 * @vma: a hugetlb VMA.
 * @address: the address.
 * @flags: FOLL_*.
 * @page_mask: set to pages per huge page - 1.
 *
 * Context: mmap_lock held.
 * Return: the page; NULL when a fault is needed; ERR_PTR(-EMLINK) when an
 * unshare fault is needed; other ERR_PTRs from try_grab_folio().
 */
struct page *hugetlb_follow_page_mask(struct vm_area_struct *vma, unsigned long address,
				      unsigned int flags, unsigned long *page_mask)
{
	struct mm_struct *mm = vma->vm_mm;
	struct pinmm *m = mm->machine;
	struct hstate *h = hstate_vma(vma);
	pte_t *ptep = huge_pte_offset(mm, address, huge_page_size(h));
	struct page *page = NULL;
	struct folio *folio;
	spinlock_t *ptl;
	pte_t entry;
	int ret;

	*page_mask = 0;
	if (!ptep)
		return NULL;
	ptl = huge_pte_lockptr(h, mm, ptep);
	spin_lock(ptl);
	entry = ptep_get(ptep);
	if (!pte_present(entry) || pte_protnone(entry))
		goto out;
	folio = page_folio(pfn_to_page_m(m, pte_pfn(entry)));
	/*
	 * A write through a read-only entry: only FOLL_FORCE into a private
	 * mapping, once the fault made the page exclusively ours (Linux's
	 * can_follow_write_pte()); else fault (which copies or reuses).
	 */
	if ((flags & FOLL_WRITE) && !pte_write(entry) &&
	    !((flags & FOLL_FORCE) && is_cow_mapping(vma->vm_flags) &&
	      folio_test_anon(folio) && PageAnonExclusive(&folio->page)))
		goto out;
	if (!pte_write(entry) && gup_must_unshare(vma, flags, &folio->page)) {
		page = ERR_PTR(-EMLINK);
		goto out;
	}
	ret = try_grab_folio(m, folio, 1, flags);
	if (ret) {
		page = ERR_PTR(ret);
		goto out;
	}
	page = folio_page(folio, (address & ~huge_page_mask(h)) >> PAGE_SHIFT);
	*page_mask = pages_per_huge_page(h) - 1;
out:
	spin_unlock(ptl);
	return page;
}

/**
 * hugetlb_page_ready() - is @addr of hugetlb @vma mapped with the access
 * asked for (populate)?
 * @vma: a hugetlb VMA.
 * @addr: the address.
 * @write: writable wanted.
 *
 * Context: mmap_lock held.
 * Return: true if so.
 */
bool hugetlb_page_ready(struct vm_area_struct *vma, unsigned long addr, bool write)
{
	pte_t *ptep = huge_pte_offset(vma->vm_mm, addr, huge_page_size(hstate_vma(vma)));
	pte_t e;

	if (!ptep)
		return false;
	e = ptep_get(ptep);
	return pte_present(e) && !pte_protnone(e) && (!write || pte_write(e));
}

/**
 * hugetlb_split_check() - may a hugetlb VMA be split at @addr?  Linux's
 * hugetlb_vm_op_split(): only on a huge page boundary.
 * @vma: the VMA.
 * @addr: where.
 *
 * Context: mmap_lock held for writing.
 * Return: 0 or -EINVAL.
 */
int hugetlb_split_check(struct vm_area_struct *vma, unsigned long addr)
{
	if (is_vm_hugetlb_page(vma) && (addr & ~huge_page_mask(hstate_vma(vma))))
		return -EINVAL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* FOLL_LONGTERM migration                                              */

/*
 * One migration of a hugetlb folio, Linux's migrate_pages() of a hugetlb
 * folio into alloc_hugetlb_folio_nodemask()'s target, with the protocol of
 * migrate.c: every mapping becomes a migration entry (an exclusive anon
 * page is made shareable, which fails if it may be pinned), the refcount
 * is frozen at the references known, contents and page-cache slots move,
 * and the entries become mappings of the new folio.  The fault mutex of
 * the page is held throughout: a fault on a migration entry waits for it.
 */
struct hugetlb_mig {
	struct folio *src, *dst;	/* dst NULL: restore src */
	struct hstate *h;
	pgoff_t pgoff;			/* base-page index of the folio */
	int entries;
	bool exclusive;			/* src was PageAnonExclusive */
	bool failed;
};

typedef void (*hmig_fn)(struct vm_area_struct *vma, unsigned long addr, pte_t *ptep,
			struct hugetlb_mig *mig);

/* Call @fn on the entry of every hugetlb VMA that maps the folio's index. */
static void hugetlb_mig_walk(struct anon_vma *av, struct address_space *mapping,
			     struct hugetlb_mig *mig, hmig_fn fn)
{
	struct rw_semaphore *sem = av ? &av->rwsem : &mapping->i_mmap_rwsem;
	struct list_head *head = av ? &av->vmas : &mapping->i_mmap;
	struct vm_area_struct *vma;

	down_read(sem);
	for (struct list_head *pos = head->next; pos != head && !mig->failed; pos = pos->next) {
		unsigned long addr, sz = huge_page_size(mig->h);
		spinlock_t *ptl;
		pte_t *ptep;

		vma = av ? list_entry(pos, struct vm_area_struct, anon_vma_node)
			 : list_entry(pos, struct vm_area_struct, shared_node);
		if (!is_vm_hugetlb_page(vma) || mig->pgoff < vma->vm_pgoff ||
		    mig->pgoff >= vma->vm_pgoff + vma_pages(vma))
			continue;
		addr = vma->vm_start + ((mig->pgoff - vma->vm_pgoff) << PAGE_SHIFT);
		ptep = huge_pte_offset(vma->vm_mm, addr, sz);
		if (!ptep)
			continue;
		ptl = huge_pte_lockptr(mig->h, vma->vm_mm, ptep);
		spin_lock(ptl);
		fn(vma, addr, ptep, mig);
		spin_unlock(ptl);
	}
	up_read(sem);
}

/* Step 1: a mapping of src becomes a migration entry. */
static void hmig_unmap_one(struct vm_area_struct *vma, unsigned long addr, pte_t *ptep,
			   struct hugetlb_mig *mig)
{
	pte_t old = ptep_get(ptep);

	if (!pte_present(old) || pte_pfn(old) != folio_pfn(mig->src))
		return;
	old = ptep_get_and_clear(ptep);
	if (folio_test_anon(mig->src) && PageAnonExclusive(&mig->src->page)) {
		if (folio_try_share_anon_rmap_pte(mig->src, &mig->src->page)) {
			set_pte(ptep, old);	/* maybe pinned: leave it */
			mig->failed = true;
			return;
		}
		mig->exclusive = true;
	}
	set_pte(ptep, swp_entry_to_pte(pte_write(old) ? SWP_MIGRATION_WRITE : SWP_MIGRATION_READ,
				       folio_pfn(mig->src)));
	hugetlb_remove_rmap(mig->src);
	folio_put(mig->src);		/* the mapping's reference; ours keeps it */
	mig->entries++;
}

/* Step 4: a migration entry becomes a mapping of dst (or of src again). */
static void hmig_remap_one(struct vm_area_struct *vma, unsigned long addr, pte_t *ptep,
			   struct hugetlb_mig *mig)
{
	struct folio *to = mig->dst ? mig->dst : mig->src;
	pte_t e = ptep_get(ptep);
	bool write;

	if (!is_migration_entry(e) || swp_offset(e) != folio_pfn(mig->src))
		return;
	write = swp_type(e) == SWP_MIGRATION_WRITE && (vma->vm_flags & VM_WRITE);
	folio_get(to);
	hugetlb_add_rmap(to);
	set_pte(ptep, make_huge_pte(vma, to, write));
}

/* The rmap root of @folio and the file whose fault mutex covers it. */
static struct address_space *hugetlb_mig_target(struct folio *folio, struct anon_vma **avp)
{
	struct address_space *key = NULL;
	struct vm_area_struct *vma;
	struct anon_vma *av;

	*avp = NULL;
	if (!folio_test_anon(folio))
		return READ_ONCE(folio->mapping);
	av = folio_anon_vma(folio);
	*avp = av;
	down_read(&av->rwsem);
	list_for_each_entry(vma, &av->vmas, anon_vma_node)
		if (is_vm_hugetlb_page(vma) && folio->index >= vma->vm_pgoff &&
		    folio->index < vma->vm_pgoff + vma_pages(vma)) {
			key = vma->vm_file->f_mapping;
			break;
		}
	up_read(&av->rwsem);
	return key;
}

/**
 * hugetlb_migrate_folio() - move hugetlb @src out of ZONE_MOVABLE/CMA for
 * a long-term pin: into a free pool page of ZONE_NORMAL that no
 * reservation needs (Linux's alloc_hugetlb_folio_nodemask()).
 * @src: the folio; the caller holds one reference (its isolation
 *	reference), which is consumed.
 *
 * Context: mmap_lock held for reading (GUP); takes the fault mutex.
 * Return: the new folio with the caller's reference, ERR_PTR(-ENOMEM)
 * when the pool has no such page, ERR_PTR(-EAGAIN) when @src has other
 * references (another pin) or went away meanwhile.
 */
struct folio *hugetlb_migrate_folio(struct folio *src)
{
	struct pinmm *m = folio_machine(src);
	struct hugetlb_mig mig = { .src = src, .h = folio_hstate(src), .pgoff = src->index };
	struct address_space *mapping, *key;
	struct anon_vma *av;
	struct mutex *fm;
	int expected;

	key = hugetlb_mig_target(src, &av);
	if (!key) {
		folio_put(src);
		return ERR_PTR(-EAGAIN);
	}
	mapping = av ? NULL : key;
	fm = hugetlb_fault_mutex(m, key, mig.pgoff >> mig.h->order);
	mutex_lock(fm);
	mig.dst = dequeue_hugetlb_folio(m, mig.h, false, true);
	if (!mig.dst) {
		mutex_unlock(fm);
		folio_put(src);
		return ERR_PTR(-ENOMEM);
	}
	hugetlb_mig_walk(av, mapping, &mig, hmig_unmap_one);
	expected = 1 + (mapping && READ_ONCE(src->mapping) == mapping);
	if (mig.failed || !folio_ref_freeze(src, expected)) {
		struct folio *dst = mig.dst;

		mig.dst = NULL;
		mig.failed = false;
		hugetlb_mig_walk(av, mapping, &mig, hmig_remap_one);
		if (mig.exclusive)
			SetPageAnonExclusive(&src->page);
		mutex_unlock(fm);
		folio_put(dst);
		folio_put(src);
		return ERR_PTR(-EAGAIN);
	}
	copy_huge_folio(m, mig.dst, src);
	mig.dst->index = src->index;
	if (av) {
		get_anon_vma(av);
		if (mig.exclusive)
			SetPageAnonExclusive(&mig.dst->page);
		smp_store_release(&mig.dst->mapping, src->mapping);
	} else if (expected == 2) {
		unsigned long nr = folio_nr_pages(src);

		folio_get(mig.dst);		/* the page cache's */
		WRITE_ONCE(mig.dst->mapping, mapping);
		spin_lock(&mapping->i_pages_lock);
		for (unsigned long i = 0; i < nr; i++)
			page_index_replace(&mapping->i_pages, src->index + i, mig.dst);
		spin_unlock(&mapping->i_pages_lock);
	}
	hugetlb_mig_walk(av, mapping, &mig, hmig_remap_one);
	mutex_unlock(fm);
	/* src: no mapping, no cache slot, refcount frozen at 0: back to the pool. */
	if (av)
		put_anon_vma(av);
	WRITE_ONCE(src->mapping, NULL);
	ClearPageAnonExclusive(&src->page);
	free_huge_folio(src);
	count_vm_event(m, PGMIGRATE_SUCCESS);
	return mig.dst;
}
