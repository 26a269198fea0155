/* SPDX-License-Identifier: MIT */
/*
 * khugepaged.h - between the khugepaged scanner (mm/khugepaged.c) and the
 * collapse it runs (mm/collapse.c): Linux's scan results and
 * collapse_control.  MADV_COLLAPSE and registration are declared in mm.h.
 */
#ifndef PINMM_KHUGEPAGED_H
#define PINMM_KHUGEPAGED_H

#include "mm_types.h"

enum scan_result {
	SCAN_FAIL,
	SCAN_SUCCEED,
	SCAN_PMD_NULL,
	SCAN_PMD_NONE,
	SCAN_PMD_MAPPED,
	SCAN_EXCEED_NONE_PTE,
	SCAN_EXCEED_SWAP_PTE,
	SCAN_EXCEED_SHARED_PTE,
	SCAN_PTE_NON_PRESENT,
	SCAN_LACK_REFERENCED_PAGE,
	SCAN_PAGE_NULL,
	SCAN_PAGE_COUNT,
	SCAN_PAGE_LOCK,
	SCAN_PAGE_ANON,
	SCAN_ANY_PROCESS,
	SCAN_VMA_NULL,
	SCAN_VMA_CHECK,
	SCAN_ADDRESS_RANGE,
	SCAN_ALLOC_HUGE_PAGE_FAIL,
};

/* Who collapses: khugepaged applies the max_ptes_* limits, MADV_COLLAPSE not. */
struct collapse_control {
	bool is_khugepaged;
};

/*
 * thp_vma_allowable_collapse() - may PMD ranges of @vma (with flags
 * @flags) be collapsed; @enforce_sysfs applies thp= (khugepaged).
 * Context: mmap_lock held.
 */
bool thp_vma_allowable_collapse(struct vm_area_struct *vma, vm_flags_t flags,
				bool enforce_sysfs);
int hpage_collapse_scan_pmd(struct mm_struct *mm, struct vm_area_struct *vma,
			    unsigned long haddr, bool *mmap_locked,
			    struct collapse_control *cc);

#endif /* PINMM_KHUGEPAGED_H */
