/* SPDX-License-Identifier: MIT */
/*
 * mprotect.c - pinmm_mprotect(): new VMA permissions and the page-table
 * walk that applies them (change_protection()).
 *
 * Removing write permission write-protects every PTE.  Adding it makes a
 * PTE writable at once only where no fault is needed to stay correct: an
 * exclusive anonymous page, or a shared page without write-notify, and
 * never a page whose soft-dirty bit was cleared (clear_refs).  All
 * other pages stay read-only and take a write fault (COW or page_mkwrite)
 * on the first write, as in Linux (can_change_pte_writable()).
 */
#include <errno.h>
#include "mm.h"
#include "fs.h"
#include "hugetlb.h"
#include "rcu.h"


static bool can_change_pte_writable(struct vm_area_struct *vma, unsigned long addr,
				    pte_t pte)
{
	struct page *page;

	if (!(vma->vm_flags & VM_WRITE) || pte_protnone(pte))
		return false;
	/* Soft-dirty tracking needs the write fault (clear_refs 4). */
	if (pte_needs_soft_dirty_wp(vma, pte))
		return false;
	if (vma->vm_flags & VM_SHARED)
		return !vma_needs_dirty_tracking(vma) || pte_dirty(pte);
	page = vm_normal_page(vma, addr, pte);
	return page && PageAnon(page) && PageAnonExclusive(page);
}

static long change_pte_range(struct vm_area_struct *vma, pmd_t *pmd,
			     unsigned long addr, unsigned long end, pgprot_t newprot)
{
	struct mm_struct *mm = vma->vm_mm;
	spinlock_t *ptl;
	pte_t *pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	long pages = 0;

	if (!pte)
		return 0;
	for (; addr < end; addr += PAGE_SIZE, pte++) {
		pte_t old = ptep_get(pte), new;

		if (!pte_present(old))
			continue;
		/* Clear first so a racing hardware A/D update is not lost. */
		old = ptep_get_and_clear(pte);
		new = pte_modify(old, newprot);
		if (pte_special(old))
			new = pte_wrprotect(new);
		else if (!pte_write(new) && can_change_pte_writable(vma, addr, new))
			new = pte_mkwrite(new);
		set_pte(pte, new);
		pages++;
	}
	pte_unmap_unlock(pte, ptl);
	return pages;
}

/**
 * change_protection() - apply vma->vm_page_prot to [start, end) of @vma.
 * Context: mmap_lock held for writing; vm_flags already updated.
 * Return: number of entries changed.
 */
long change_protection(struct vm_area_struct *vma, unsigned long start,
		       unsigned long end, vm_flags_t newflags)
{
	struct mm_struct *mm = vma->vm_mm;
	pgprot_t newprot = vma->vm_page_prot;
	long pages = 0;

	if (is_vm_hugetlb_page(vma))
		return hugetlb_change_protection(vma, start, end, newprot);
	for (unsigned long a = start, next; a < end; a = next) {
		pmd_t *pmd;
		pmd_t pmdval;

		next = pmd_addr_end(a, end);
		pmd = pmd_lookup_next(mm, a, end, &next);

		if (!pmd)
			continue;
		pmdval = pmdp_get(pmd);
		if (pmd_none(pmdval))
			continue;
		if (pmd_leaf(pmdval)) {
			if (IS_ALIGNED(a, PMD_SIZE) && next - a == PMD_SIZE) {
				if (change_huge_pmd(vma, pmd, a, newprot,
						    (newflags & VM_WRITE) && !(newflags & VM_SHARED))) {
					pages++;
					continue;
				}
				/* Split by an rmap walker meanwhile: change the PTEs. */
			} else {
				__split_huge_pmd(vma, pmd, a);
			}
		}
		pages += change_pte_range(vma, pmd, a, next, newprot);
	}
	return pages;
}

static int mprotect_fixup(struct vm_area_struct *vma, unsigned long start,
			  unsigned long end, vm_flags_t newflags)
{
	struct mmu_notifier_range range;
	int err;

	if (newflags == vma->vm_flags)
		return 0;
	err = vma_isolate_range(vma, start, end);
	if (err)
		return err;
	WRITE_ONCE(vma->vm_flags, newflags);	/* rmap walkers read it racily */
	vma_set_page_prot(vma);
	/* Linux: change_pmd_range(); the VMA already carries the new flags. */
	mmu_notifier_range_init(&range, MMU_NOTIFY_PROTECTION_VMA, 0, vma->vm_mm, start, end);
	range.vma = vma;
	mmu_notifier_invalidate_range_start(&range);
	change_protection(vma, start, end, newflags);
	mmu_notifier_invalidate_range_end(&range);
	vma_try_merge(vma);
	return 0;
}

/**
 * pinmm_mprotect() - mprotect(2) for process @p.
 * Context: process context; takes the mmap_lock for writing.
 * Return: 0, -EINVAL (unaligned start, unknown prot bits), -ENOMEM (part of
 * the range unmapped, or it wraps), -EACCES (permission the mapping can
 * never have, e.g. PROT_WRITE on a read-only shared file), -ESRCH.
 */
int pinmm_mprotect(struct pinmm_proc *p, unsigned long start, size_t len, int prot)
{
	struct mm_struct *mm;
	struct vm_area_struct *vma;
	unsigned long end, next;
	int err = 0;

	pinmm_thread_enter();
	if (!p)
		return -EINVAL;
	if (READ_ONCE(p->exited))
		return -ESRCH;
	if (!PAGE_ALIGNED(start))
		return -EINVAL;
	if (!len)
		return 0;
	len = PAGE_ALIGN(len);
	end = start + len;
	if (end <= start)
		return -ENOMEM;
	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
		return -EINVAL;

	mm = get_proc_mm(p);	/* held for the call: exit cannot free it */
	if (!mm)
		return -ESRCH;
	mmap_write_lock(mm);
	vma = find_vma(mm, start);
	if (!vma || vma->vm_start > start) {
		err = -ENOMEM;
		goto out;
	}
	for (unsigned long a = start; a < end; a = next) {
		vm_flags_t newflags;

		vma = find_vma(mm, a);
		if (!vma || vma->vm_start > a) {
			err = -ENOMEM;
			break;
		}
		next = min(end, vma->vm_end);
		newflags = (vma->vm_flags & ~VM_ACCESS_FLAGS) |
			   ((prot & PROT_READ) ? VM_READ : 0) |
			   ((prot & PROT_WRITE) ? VM_WRITE : 0) |
			   ((prot & PROT_EXEC) ? VM_EXEC : 0);
		/* Each VM_x needs its VM_MAYx (VM_MAYx == VM_x << 4). */
		if ((newflags & ~(newflags >> 4)) & VM_ACCESS_FLAGS) {
			err = -EACCES;
			break;
		}
		/*
		 * Linux's mprotect_fixup(): memory turning writable is committed
		 * (VM_ACCOUNT); anonymous memory turning read-only before its
		 * first fault (no anon_vma) is uncommitted.  The flag decides
		 * merges as in Linux.
		 */
		if (newflags & VM_WRITE) {
			if (!(vma->vm_flags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED |
					       VM_NORESERVE)))
				newflags |= VM_ACCOUNT;
		} else if ((vma->vm_flags & VM_ACCOUNT) && vma_is_anonymous(vma) &&
			   !vma->anon_vma) {
			newflags &= ~VM_ACCOUNT;
		}
		err = mprotect_fixup(vma, a, next, newflags);
		if (err)
			break;
	}
out:
	mmap_write_unlock(mm);
	mmput(mm);
	pinmm_debug_boundary(p->machine);
	return err;
}
