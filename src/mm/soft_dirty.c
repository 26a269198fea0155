/* SPDX-License-Identifier: MIT */
/*
 * soft_dirty.c - pinmm_clear_refs(): Linux's /proc/PID/clear_refs
 * (fs/proc/task_mmu.c, clear_refs_write()).
 *
 * Soft-dirty tracking, as on x86-64:
 *  - the PTE bit _PAGE_SOFT_DIRTY is set with the hardware dirty bit
 *    (pte_mkdirty: every write fault and every new writable anonymous PTE)
 *    and survives in swap entries (_PAGE_SWP_SOFT_DIRTY, swap.h);
 *  - a new VMA carries VM_SOFTDIRTY: all its pages read as soft-dirty;
 *  - clear_refs 4 clears VM_SOFTDIRTY (tracking is on: vma_set_page_prot()
 *    write-protects shared writable mappings too), clears the bit of every
 *    PTE, PMD and swap entry and write-protects present PTEs, so the next
 *    write faults and sets the bit again.  While tracking is on, mprotect()
 *    does not make a PTE without the bit writable, nor does swap-in
 *    (pte_needs_soft_dirty_wp()): cow.c relies on this to get a read-only
 *    PTE in a writable VMA;
 *  - writable PTEs of maybe-pinned pages in COW mappings of an mm that has
 *    pinned are skipped (pte_is_pinned(), 2021): write-protecting them once
 *    risked a COW copy away from the pin.  Their soft-dirty bit stays set.
 */
#include <errno.h>

#include "mm.h"
#include "rcu.h"
#include "swap.h"

/* pte_is_pinned(): leave the PTE of a maybe-pinned page writable. */
static bool pte_is_pinned(struct vm_area_struct *vma, unsigned long addr, pte_t pte)
{
	struct page *page;

	if (!pte_write(pte) || !is_cow_mapping(vma->vm_flags))
		return false;
	if (!test_bit(MMF_HAS_PINNED, &vma->vm_mm->flags))
		return false;
	page = vm_normal_page(vma, addr, pte);
	return page && folio_maybe_dma_pinned(page_folio(page));
}

static void clear_refs_pte(struct vm_area_struct *vma, unsigned long addr, pte_t *pte,
			   int what)
{
	pte_t e = ptep_get(pte);

	if (what == PINMM_CLEAR_REFS_SOFT_DIRTY) {
		if (pte_present(e)) {
			if (pte_is_pinned(vma, addr, e))
				return;
			e = ptep_get_and_clear(pte);	/* keep a racing A/D update */
			set_pte(pte, pte_clear_soft_dirty(pte_wrprotect(e)));
		} else if (is_swapfile_entry(e)) {
			set_pte(pte, pte_swp_clear_soft_dirty(e));
		}
		return;
	}
	if (pte_present(e) && pte_young(e)) {
		struct page *page = vm_normal_page(vma, addr, e);

		e = ptep_get_and_clear(pte);
		set_pte(pte, pte_mkold(e));
		if (page)
			folio_clear_Referenced(page_folio(page));
	}
}

static void clear_refs_pmd(struct vm_area_struct *vma, pmd_t *pmdp, int what)
{
	pmd_t e = pmdp_get(pmdp);

	if (what == PINMM_CLEAR_REFS_SOFT_DIRTY) {
		e = pmdp_huge_get_and_clear(pmdp);
		set_pmd(pmdp, pmd_clear_soft_dirty(pmd_wrprotect(e)));
		return;
	}
	if (pmd_young(e)) {
		struct page *page = vm_normal_page_pmd(vma, 0, e);

		e = pmdp_huge_get_and_clear(pmdp);
		set_pmd(pmdp, pmd_mkold(e));
		if (page)
			folio_clear_Referenced(page_folio(page));
	}
}

static void clear_refs_vma(struct vm_area_struct *vma, int what)
{
	struct mm_struct *mm = vma->vm_mm;

	for (unsigned long a = vma->vm_start; a < vma->vm_end;) {
		unsigned long next = pmd_addr_end(a, vma->vm_end);
		pmd_t *pmd = pmd_offset_lookup(mm, a);
		spinlock_t *ptl;
		pte_t *pte;

		if (!pmd || pmd_none(pmdp_get(pmd))) {
			a = next;
			continue;
		}
		if (pmd_leaf(pmdp_get(pmd))) {
			ptl = pmd_lock(mm, pmd);
			if (pmd_leaf(pmdp_get(pmd))) {
				clear_refs_pmd(vma, pmd, what);
				spin_unlock(ptl);
				a = next;
				continue;
			}
			spin_unlock(ptl);
		}
		pte = pte_offset_map_lock(mm, pmd, a, &ptl);
		if (pte) {
			for (; a < next; a += PAGE_SIZE, pte++)
				clear_refs_pte(vma, a, pte, what);
			pte_unmap_unlock(pte, ptl);
		}
		a = next;
	}
}

/* clear_refs_test_walk(): which VMAs a request applies to. */
static bool clear_refs_wants(struct vm_area_struct *vma, int what)
{
	if (vma->vm_flags & VM_PFNMAP)
		return false;
	if (what == PINMM_CLEAR_REFS_ANON && vma->vm_file)
		return false;
	if (what == PINMM_CLEAR_REFS_MAPPED && !vma->vm_file)
		return false;
	return true;
}

/**
 * pinmm_clear_refs() - write @what to /proc/PID/clear_refs of @p.
 * @p: the process.
 * @what: PINMM_CLEAR_REFS_* (1-5).
 *
 * Context: process context; takes the mmap_lock for writing, then each
 * page-table lock; MMU_NOTIFY_SOFT_DIRTY over the address space for 4.
 * Return: 0; -EINVAL for a NULL @p or @what outside 1-5; -ESRCH.
 */
int pinmm_clear_refs(struct pinmm_proc *p, int what)
{
	struct mmu_notifier_range range;
	struct vm_area_struct *vma;
	struct mm_struct *mm;

	pinmm_thread_enter();
	if (!p || what < PINMM_CLEAR_REFS_ALL || what > PINMM_CLEAR_REFS_MM_HIWATER_RSS)
		return -EINVAL;
	if (READ_ONCE(p->exited))
		return -ESRCH;
	mm = get_proc_mm(p);
	if (!mm)
		return -ESRCH;
	if (what == PINMM_CLEAR_REFS_MM_HIWATER_RSS) {	/* no peak RSS is kept */
		mmput(mm);
		return 0;
	}
	mmap_write_lock(mm);
	if (what == PINMM_CLEAR_REFS_SOFT_DIRTY) {
		list_for_each_entry(vma, &mm->mmap_list, vm_list) {
			if (!(vma->vm_flags & VM_SOFTDIRTY))
				continue;
			vma->vm_flags &= ~VM_SOFTDIRTY;
			vma_set_page_prot(vma);
		}
		mmu_notifier_range_init(&range, MMU_NOTIFY_SOFT_DIRTY, 0, mm, 0, TASK_SIZE);
		mmu_notifier_invalidate_range_start(&range);
	}
	list_for_each_entry(vma, &mm->mmap_list, vm_list)
		if (clear_refs_wants(vma, what))
			clear_refs_vma(vma, what);
	if (what == PINMM_CLEAR_REFS_SOFT_DIRTY)
		mmu_notifier_invalidate_range_end(&range);
	mmap_write_unlock(mm);
	mmput(mm);
	pinmm_debug_boundary(p->machine);
	return 0;
}
