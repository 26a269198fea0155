/* SPDX-License-Identifier: MIT */
/*
 * hmm.c - hmm_range_fault() (doc/GUP-SEMANTICS.md §7.3): snapshot the CPU page tables of a
 * range into an array of "hmm pfns" for a device mirror, faulting pages in
 * where the caller asks, without taking any page reference or pin.  The
 * result is valid only until the next invalidation of the driver's interval
 * subscription; the driver checks mmu_interval_read_retry() under its own
 * lock before programming the device (Documentation/mm/hmm.rst).
 *
 * The walk reads each PTE table under its PTE lock and each PMD leaf under
 * its PMD lock, so every entry is a consistent snapshot; faults run with
 * no page-table lock held and restart the walk at the faulted address
 * (the internal -EBUSY), after re-checking the subscription's seq.
 */
#include <errno.h>
#include <sched.h>
#include "mm.h"

#define HMM_NEED_FAULT		0x1
#define HMM_NEED_WRITE_FAULT	0x2

/* Where the walk stopped and why (internal). */
struct hmm_walk {
	struct hmm_range *range;
	unsigned long last;		/* restart address */
};

static inline unsigned long *hmm_pfn_of(struct hmm_range *range, unsigned long addr)
{
	return &range->hmm_pfns[(addr - range->start) >> PAGE_SHIFT];
}

/* What the caller asks for this page, against what the CPU maps. */
static unsigned int hmm_pte_need_fault(const struct hmm_range *range,
				       unsigned long pfn_req_flags, unsigned long cpu_flags)
{
	pfn_req_flags &= range->pfn_flags_mask;
	pfn_req_flags |= range->default_flags;
	if (!(pfn_req_flags & HMM_PFN_REQ_FAULT))
		return 0;
	if ((pfn_req_flags & HMM_PFN_REQ_WRITE) && !(cpu_flags & HMM_PFN_WRITE))
		return HMM_NEED_FAULT | HMM_NEED_WRITE_FAULT;
	if (!(cpu_flags & HMM_PFN_VALID))
		return HMM_NEED_FAULT;
	return 0;
}

static unsigned int hmm_range_need_fault(const struct hmm_range *range, unsigned long start,
					 unsigned long end, unsigned long cpu_flags)
{
	unsigned int required = 0;

	/* Fast path (Linux): nothing can need a fault unless asked for. */
	if (!((range->default_flags | range->pfn_flags_mask) & HMM_PFN_REQ_FAULT))
		return 0;
	for (unsigned long a = start; a < end; a += PAGE_SIZE) {
		required |= hmm_pte_need_fault(range, *hmm_pfn_of((struct hmm_range *)range, a),
					       cpu_flags);
		if (required & HMM_NEED_WRITE_FAULT)
			break;
	}
	return required;
}

static void hmm_pfns_fill(struct hmm_range *range, unsigned long start, unsigned long end,
			  unsigned long val)
{
	for (unsigned long a = start; a < end; a += PAGE_SIZE)
		*hmm_pfn_of(range, a) = val;
}

/*
 * Fault [addr, end) in as the caller asked, then restart the walk there.
 * Return: -EBUSY (restart), -EPERM, -EFAULT.
 */
static int hmm_vma_fault(struct hmm_walk *w, struct vm_area_struct *vma, unsigned long addr,
			 unsigned long end, unsigned int required)
{
	unsigned int fault_flags = FAULT_FLAG_REMOTE;

	VM_BUG_ON(!required);
	w->last = addr;
	if (required & HMM_NEED_WRITE_FAULT) {
		if (!(vma->vm_flags & VM_WRITE))
			return -EPERM;
		fault_flags |= FAULT_FLAG_WRITE;
	}
	for (; addr < end; addr += PAGE_SIZE)
		if (handle_mm_fault(vma, addr, fault_flags) & VM_FAULT_ERROR)
			return -EFAULT;
	return -EBUSY;
}

/* No mapping (or no table) for [addr, end) of @vma. */
static int hmm_walk_hole(struct hmm_walk *w, struct vm_area_struct *vma, unsigned long addr,
			 unsigned long end)
{
	struct hmm_range *range = w->range;
	unsigned int required = hmm_range_need_fault(range, addr, end, 0);

	if (required)
		return hmm_vma_fault(w, vma, addr, end, required);
	hmm_pfns_fill(range, addr, end, 0);
	return 0;
}

/* A PMD leaf mapping [addr, end) (a part of it). */
static int hmm_walk_pmd_leaf(struct hmm_walk *w, struct vm_area_struct *vma, pmd_t *pmdp,
			     unsigned long addr, unsigned long end, bool *again)
{
	struct mm_struct *mm = vma->vm_mm;
	struct hmm_range *range = w->range;
	spinlock_t *ptl = pmd_lock(mm, pmdp);
	pmd_t pmd = pmdp_get(pmdp);
	unsigned long cpu_flags, pfn;
	unsigned int required;

	if (!pmd_leaf(pmd)) {		/* split meanwhile: walk the PTEs */
		spin_unlock(ptl);
		*again = true;
		return 0;
	}
	cpu_flags = pmd_protnone(pmd) ? 0 :
		    HMM_PFN_VALID | (pmd_write(pmd) ? HMM_PFN_WRITE : 0) |
		    ((unsigned long)HPAGE_PMD_ORDER << HMM_PFN_ORDER_SHIFT);
	required = hmm_range_need_fault(range, addr, end, cpu_flags);
	if (required) {
		spin_unlock(ptl);
		return hmm_vma_fault(w, vma, addr, addr + PAGE_SIZE, required);
	}
	pfn = pmd_pfn(pmd) + ((addr & ~PMD_MASK) >> PAGE_SHIFT);
	for (; addr < end; addr += PAGE_SIZE, pfn++)
		*hmm_pfn_of(range, addr) = pfn | cpu_flags;
	spin_unlock(ptl);
	return 0;
}

/* The PTEs of one table for [addr, end). */
static int hmm_walk_ptes(struct hmm_walk *w, struct vm_area_struct *vma, pmd_t *pmdp,
			 unsigned long addr, unsigned long end, bool *again)
{
	struct mm_struct *mm = vma->vm_mm;
	struct pinmm *m = mm->machine;
	struct hmm_range *range = w->range;
	spinlock_t *ptl;
	pte_t *pte = pte_offset_map_lock(mm, pmdp, addr, &ptl);

	if (!pte) {			/* none, a leaf again, or changed */
		*again = true;
		return 0;
	}
	for (; addr < end; addr += PAGE_SIZE, pte++) {
		unsigned long *hmm_pfn = hmm_pfn_of(range, addr);
		pte_t e = ptep_get(pte);
		unsigned long cpu_flags;
		unsigned int required;

		if (pte_none(e)) {
			required = hmm_pte_need_fault(range, *hmm_pfn, 0);
			if (required)
				goto fault;
			*hmm_pfn = 0;
			continue;
		}
		if (!pte_present(e)) {
			if (is_migration_entry(e)) {
				/* Wait for the migration to finish, then restart. */
				pte_unmap_unlock(pte, ptl);
				w->last = addr;
				sched_yield();
				return -EBUSY;
			}
			required = hmm_pte_need_fault(range, *hmm_pfn, 0);
			if (required)
				goto fault;
			*hmm_pfn = 0;
			continue;
		}
		cpu_flags = pte_protnone(e) ? 0 :
			    HMM_PFN_VALID | (pte_write(e) ? HMM_PFN_WRITE : 0);
		required = hmm_pte_need_fault(range, *hmm_pfn, cpu_flags);
		if (required)
			goto fault;
		/* Special entries other than the zero page: not for devices. */
		if (!vm_normal_page(vma, addr, e) && pte_pfn(e) != m->zero_pfn) {
			*hmm_pfn = HMM_PFN_ERROR;
			continue;
		}
		*hmm_pfn = pte_pfn(e) | cpu_flags;
		continue;
fault:
		pte_unmap_unlock(pte, ptl);
		return hmm_vma_fault(w, vma, addr, addr + PAGE_SIZE, required);
	}
	pte_unmap_unlock(pte, ptl);
	return 0;
}

/* [addr, end) lies in @vma. */
static int hmm_walk_vma(struct hmm_walk *w, struct vm_area_struct *vma, unsigned long addr,
			unsigned long end)
{
	struct mm_struct *mm = vma->vm_mm;

	while (addr < end) {
		unsigned long next = pmd_addr_end(addr, end);
		pmd_t *pmdp = pmd_lookup_next(mm, addr, end, &next);
		bool again = false;
		pmd_t pmd;
		int ret;

		if (!pmdp) {
			ret = hmm_walk_hole(w, vma, addr, next);
		} else {
			pmd = pmdp_get(pmdp);
			if (pmd_none(pmd)) {
				ret = hmm_walk_hole(w, vma, addr, next);
			} else if (!pmd_present(pmd)) {
				/* pinmm makes no PMD swap entries; Linux: error. */
				if (hmm_range_need_fault(w->range, addr, next, 0))
					return -EFAULT;
				hmm_pfns_fill(w->range, addr, next, HMM_PFN_ERROR);
				ret = 0;
			} else if (pmd_leaf(pmd)) {
				ret = hmm_walk_pmd_leaf(w, vma, pmdp, addr, next, &again);
			} else {
				ret = hmm_walk_ptes(w, vma, pmdp, addr, next, &again);
			}
		}
		if (ret)
			return ret;
		if (!again)
			addr = next;
	}
	return 0;
}

static int hmm_walk_range(struct hmm_walk *w)
{
	struct hmm_range *range = w->range;
	struct mm_struct *mm = range->notifier->mm;
	unsigned long addr = w->last, end = range->end;

	while (addr < end) {
		struct vm_area_struct *vma = find_vma(mm, addr);
		unsigned long vend;
		int ret;

		if (!vma || vma->vm_start > addr) {
			/* No VMA: -EFAULT if a fault is asked for, else errors. */
			vend = vma ? min(vma->vm_start, end) : end;
			if (hmm_range_need_fault(range, addr, vend, 0))
				return -EFAULT;
			hmm_pfns_fill(range, addr, vend, HMM_PFN_ERROR);
			addr = vend;
			continue;
		}
		vend = min(vma->vm_end, end);
		if ((vma->vm_flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP)) ||
		    !(vma->vm_flags & VM_READ)) {
			if (hmm_range_need_fault(range, addr, vend, 0))
				return -EFAULT;
			hmm_pfns_fill(range, addr, vend, HMM_PFN_ERROR);
			addr = vend;
			continue;
		}
		ret = hmm_walk_vma(w, vma, addr, vend);
		if (ret)
			return ret;
		addr = vend;
	}
	return 0;
}

/**
 * pinmm_hmm_range_fault() - fill range->hmm_pfns with the CPU's view of
 * [range->start, range->end), faulting pages in where requested
 * ((input & pfn_flags_mask) | default_flags has HMM_PFN_REQ_FAULT, and
 * HMM_PFN_REQ_WRITE for write access).  Takes no page references.
 * Context: mmap_read_lock(range->notifier->mm) held; may fault (sleep).
 * Return: 0; -EBUSY when mmu_interval_check_retry() says an invalidation
 * collided (start again from mmu_interval_read_begin()); -EFAULT (a fault
 * was requested where it cannot succeed); -EPERM (write requested on a VMA
 * without VM_WRITE); -EINVAL (unaligned or empty range).
 */
int pinmm_hmm_range_fault(struct hmm_range *range)
{
	struct mm_struct *mm;
	struct hmm_walk w;
	int ret;

	if (!range || !range->notifier || !range->hmm_pfns)
		return -EINVAL;
	if (!PAGE_ALIGNED(range->start) || !PAGE_ALIGNED(range->end) ||
	    range->end <= range->start)
		return -EINVAL;
	mm = range->notifier->mm;
	mmap_assert_locked(mm);
	w.range = range;
	w.last = range->start;
	do {
		/* If the range is already being invalidated, give up early. */
		if (mmu_interval_check_retry(range->notifier, range->notifier_seq))
			return -EBUSY;
		ret = hmm_walk_range(&w);
	} while (ret == -EBUSY);
	return ret;
}

/**
 * pinmm_hmm_pfn_to_page() - the struct page behind a VALID hmm pfn.
 * Context: the driver's lock held and read_retry() false, or the device
 * mapping otherwise known current.
 * Return: the page, or NULL if @hmm_pfn is not VALID or out of range.
 */
struct page *pinmm_hmm_pfn_to_page(struct mm_struct *mm, unsigned long hmm_pfn)
{
	unsigned long pfn = hmm_pfn_to_pfn(hmm_pfn);

	if (!(hmm_pfn & HMM_PFN_VALID) || !pfn_valid_m(mm->machine, pfn))
		return NULL;
	return pfn_to_page_m(mm->machine, pfn);
}
