/* SPDX-License-Identifier: MIT */
/*
 * madvise.c - pinmm_madvise(): MADV_DONTNEED, MADV_DONTFORK/DOFORK,
 * MADV_HUGEPAGE/NOHUGEPAGE, MADV_MERGEABLE/UNMERGEABLE (ksm.c),
 * MADV_POPULATE_READ/WRITE, MADV_PAGEOUT (swap-out, vmscan_anon.c) and
 * MADV_COLLAPSE (khugepaged.c), with Linux's
 * error codes.  DONTNEED drops the pages of the range: private anonymous
 * memory reads as zeros afterwards, file mappings re-fault from the page
 * cache; a pinned page is detached, not freed.
 */
#include <errno.h>
#include "mm.h"
#include "fs.h"
#include "hugetlb.h"
#include "rcu.h"
#include "swap.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif

static bool madvise_write_lock(int advice)
{
	switch (advice) {
	case MADV_DONTFORK:
	case MADV_DOFORK:
	case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE:
	case MADV_MERGEABLE:
	case MADV_UNMERGEABLE:
		return true;
	default:
		return false;
	}
}

static bool madvise_known(int advice)
{
	switch (advice) {
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_WILLNEED:
	case MADV_DONTNEED:
	case MADV_DONTFORK:
	case MADV_DOFORK:
	case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE:
	case MADV_POPULATE_READ:
	case MADV_POPULATE_WRITE:
	case MADV_MERGEABLE:
	case MADV_UNMERGEABLE:
	case MADV_PAGEOUT:
	case MADV_COLLAPSE:
		return true;
	default:
		return false;
	}
}

/* Change VMA flags over [start, end) of @vma, splitting as needed. */
static int madvise_update_flags(struct vm_area_struct *vma, unsigned long start,
				unsigned long end, vm_flags_t newflags)
{
	int err;

	if (newflags == vma->vm_flags)
		return 0;
	err = vma_isolate_range(vma, start, end);
	if (err)
		return err;
	WRITE_ONCE(vma->vm_flags, newflags);	/* rmap walkers read it racily */
	vma_try_merge(vma);
	return 0;
}

static int madvise_populate(struct vm_area_struct *vma, unsigned long start,
			    unsigned long end, bool write)
{
	long ret;

	if (vma->vm_flags & (VM_IO | VM_PFNMAP))
		return -EINVAL;
	/* check_vma_flags() with FOLL_MADV_POPULATE: -EINVAL on failure. */
	if (write) {
		if (!(vma->vm_flags & VM_WRITE))
			return -EINVAL;
	} else if (!(vma->vm_flags & VM_READ)) {
		return -EINVAL;
	}
	ret = populate_range(vma, start, end, write, true);
	return (int)ret;
}

static int madvise_vma(struct vm_area_struct *vma, unsigned long start,
		       unsigned long end, int advice)
{
	vm_flags_t flags = vma->vm_flags;
	struct mmu_notifier_range range;

	switch (advice) {
	case MADV_DONTNEED:
		if (flags & VM_HUGETLB) {
			/*
			 * Linux's madvise_dontneed_free_valid_vma(): a huge-page
			 * aligned start; the end is rounded down to whole pages.
			 */
			struct hstate *h = hstate_vma(vma);

			if (start & ~huge_page_mask(h))
				return -EINVAL;
			end = ALIGN_DOWN(end, huge_page_size(h));
			if (end <= start)
				return 0;
		} else if (flags & (VM_LOCKED | VM_PFNMAP)) {
			return -EINVAL;
		}
		mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, vma->vm_mm, start, end);
		mmu_notifier_invalidate_range_start(&range);
		{
			/* Linux's madvise_dontneed_single_vma(): empty tables go */
			struct zap_details details = { .even_cows = true,
						       .reclaim_pt = !(flags & VM_HUGETLB) };

			zap_page_range_single(vma, start, end, &details);
		}
		mmu_notifier_invalidate_range_end(&range);
		return 0;
	case MADV_DONTFORK:
		if (flags & VM_IO)
			return -EINVAL;
		return madvise_update_flags(vma, start, end, flags | VM_DONTCOPY);
	case MADV_DOFORK:
		if (flags & VM_IO)
			return -EINVAL;
		return madvise_update_flags(vma, start, end, flags & ~VM_DONTCOPY);
	case MADV_HUGEPAGE:
		/* Linux's hugepage_madvise(): khugepaged learns of the VMA now. */
		khugepaged_enter_vma(vma, (flags & ~VM_NOHUGEPAGE) | VM_HUGEPAGE);
		return madvise_update_flags(vma, start, end,
					    (flags & ~VM_NOHUGEPAGE) | VM_HUGEPAGE);
	case MADV_NOHUGEPAGE:
		return madvise_update_flags(vma, start, end,
					    (flags & ~VM_HUGEPAGE) | VM_NOHUGEPAGE);
	case MADV_MERGEABLE:
	case MADV_UNMERGEABLE: {
		int err = ksm_madvise(vma, start, end, advice, &flags);

		return err ? err : madvise_update_flags(vma, start, end, flags);
	}
	case MADV_POPULATE_READ:
		return madvise_populate(vma, start, end, false);
	case MADV_POPULATE_WRITE:
		return madvise_populate(vma, start, end, true);
	case MADV_PAGEOUT: {
		long ret = madvise_pageout(vma, start, end);

		return ret < 0 ? (int)ret : 0;
	}
	case MADV_COLLAPSE:	/* drops and retakes mmap_lock (read) */
		return madvise_collapse(vma, start, end);
	default:	/* NORMAL, RANDOM, SEQUENTIAL, WILLNEED: hints only */
		return 0;
	}
}

/**
 * pinmm_madvise() - madvise(2) for process @p.
 * Context: process context; takes mmap_lock (for writing for advice that
 * changes VMA flags).
 * Return: 0; -EINVAL (unaligned start, unknown advice, range wraps, advice
 * not applicable to the mapping); -ENOMEM (part of the range is unmapped:
 * the advice was still applied to the mapped parts); -EFAULT (populating
 * faulted with SIGBUS/SIGSEGV); -ESRCH.
 */
int pinmm_madvise(struct pinmm_proc *p, unsigned long start, size_t len, int advice)
{
	struct mm_struct *mm;
	unsigned long end;
	bool write;
	int err = 0, unmapped = 0;

	pinmm_thread_enter();
	if (!p)
		return -EINVAL;
	if (READ_ONCE(p->exited))
		return -ESRCH;
	if (!madvise_known(advice))
		return -EINVAL;
	if (!PAGE_ALIGNED(start))
		return -EINVAL;
	/* A length that rounds up to 0 wrapped: -EINVAL, as Linux. */
	if (len && !PAGE_ALIGN(len))
		return -EINVAL;
	len = PAGE_ALIGN(len);
	end = start + len;
	if (end < start)
		return -EINVAL;
	if (end == start)
		return 0;

	mm = get_proc_mm(p);	/* held for the call: exit cannot free it */
	if (!mm)
		return -ESRCH;
	write = madvise_write_lock(advice);
	if (write)
		mmap_write_lock(mm);
	else
		mmap_read_lock(mm);
	for (unsigned long a = start; a < end;) {
		struct vm_area_struct *vma = find_vma(mm, a);
		unsigned long s, e;

		if (!vma || vma->vm_start >= end) {
			unmapped = 1;
			break;
		}
		if (vma->vm_start > a) {
			unmapped = 1;
			/* madvise_populate() stops at the first hole. */
			if (advice == MADV_POPULATE_READ || advice == MADV_POPULATE_WRITE)
				break;
		}
		s = max(a, vma->vm_start);
		e = min(end, vma->vm_end);
		err = madvise_vma(vma, s, e, advice);
		if (err)
			break;
		a = e;
	}
	if (write)
		mmap_write_unlock(mm);
	else
		mmap_read_unlock(mm);
	mmput(mm);
	pinmm_debug_boundary(p->machine);
	if (err)
		return err;
	return unmapped ? -ENOMEM : 0;
}
