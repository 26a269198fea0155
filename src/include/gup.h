/* SPDX-License-Identifier: MIT */
/*
 * gup.h - the internal interfaces of the GUP/PUP subsystem (mm/gup*.c),
 * shared by the slow path, the fast path, the long-term path and the
 * in-library users (io_uring-style buffers, gup_test, DIO, RDMA).
 */
#ifndef PINMM_GUP_H
#define PINMM_GUP_H

#include "mm.h"
#include "trace.h"

bool is_valid_gup_args(struct page **pages, int *locked, unsigned int *gup_flags_p,
		       unsigned int to_set);
int check_vma_flags(struct vm_area_struct *vma, unsigned int gup_flags);
bool gup_must_unshare(struct vm_area_struct *vma, unsigned int flags, struct page *page);
struct page *follow_page_mask(struct vm_area_struct *vma, unsigned long address,
			      unsigned int flags, unsigned long *page_mask);
long __get_user_pages(struct mm_struct *mm, unsigned long start, unsigned long nr_pages,
		      unsigned int gup_flags, struct page **pages, int *locked);
long __get_user_pages_locked(struct mm_struct *mm, unsigned long start,
			     unsigned long nr_pages, struct page **pages,
			     int *locked, unsigned int flags);
/* gup_longterm.c: FOLL_LONGTERM's migrate-and-retry loop (§5.2). */
long __gup_longterm_locked(struct mm_struct *mm, unsigned long start,
			   unsigned long nr_pages, struct page **pages,
			   int *locked, unsigned int gup_flags);
/* gup_fast.c */
int gup_fast_fallback(unsigned long start, unsigned long nr_pages,
		      unsigned int gup_flags, struct page **pages);
/* unpin.c: release @npages pins taken on @mm's machine. */
void unpin_user_pages_m(struct pinmm *m, struct page **pages, unsigned long npages);

/*
 * trace_pins() - a "pin" or "unpin" instant (trace.h, doc/TRACING.md) for
 * @nr pages from @pages[0], one per call; with pin.provenance on, the
 * pinning caller's address too (unpin.c).
 */
void __trace_pins(struct pinmm *m, const char *name, struct page **pages, long nr);
static inline void trace_pins(struct pinmm *m, const char *name, struct page **pages, long nr)
{
	if (trace_enabled() && pages && nr > 0)
		__trace_pins(m, name, pages, nr);
}

/*
 * Per-process locked-memory accounting for long-term pin users that charge
 * it (io_uring buffers, RDMA MRs, gup_test): mm->pinned_vm against the
 * owner's RLIMIT_MEMLOCK.  Return: 0 or -ENOMEM.
 */
int account_pinned_vm(struct pinmm_proc *p, unsigned long npages);
void unaccount_pinned_vm(struct mm_struct *mm, unsigned long npages);

#endif /* PINMM_GUP_H */
