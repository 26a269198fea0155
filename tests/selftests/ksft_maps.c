/* SPDX-License-Identifier: MIT */
/*
 * ksft_maps.c - what the ported selftests read from /proc/self/maps:
 * whether a range of the process lies inside one mapping (one VMA).
 * Kept apart from kselftest.h, whose libc macros (mmap, memset, ...) must
 * not meet the kernel headers.
 */
#include <pinmm/pinmm.h>
#include <pinmm/linux.h>
#include "mm.h"
#include "ksft_maps.h"

bool ksft_range_in_one_vma(struct pinmm_proc *p, unsigned long start, unsigned long end)
{
	struct mm_struct *mm = pinmm_proc_mm(p);
	struct vm_area_struct *vma;
	bool ret;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, start);
	ret = vma && vma->vm_end >= end;
	mmap_read_unlock(mm);
	return ret;
}
