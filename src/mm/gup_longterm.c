/* SPDX-License-Identifier: MIT */
/*
 * gup_longterm.c - FOLL_LONGTERM: pins that may be held indefinitely must
 * not sit on memory that has to stay movable (ZONE_MOVABLE, CMA) or on
 * device memory.  __gup_longterm_locked() pins the range with allocations
 * steered away from movable memory (memalloc_pin_save()), then checks every
 * folio; offenders are unpinned, migrated to ZONE_NORMAL, and the whole
 * range is pinned again (§5.2).  Also the pinned_vm / RLIMIT_MEMLOCK
 * accounting that long-term users charge.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include "fault_inject.h"
#include "gup.h"
#include "dax.h"
#include "hugetlb.h"

#define NR_MAX_MIGRATE_RETRY 10

/*
 * May @folio stay where it is under a long-term pin?  fsdax frames are not
 * long-term pinnable (folio_is_longterm_pinnable()) and cannot migrate
 * either (they are the file's storage): check_vma_flags() refuses the pin
 * before any is taken, unless a layout lease covers it (lease policy);
 * then they are left alone here.
 */
static bool longterm_pin_may_stay(struct pinmm *m, struct folio *folio)
{
	if (folio_is_longterm_pinnable(m, folio))
		return true;
	return folio_is_fsdax(folio) && dax_longterm_pin_allowed(m);
}

/*
 * check_and_migrate_movable_pages() - keep the pins if every folio may be
 * pinned long-term (0).  Otherwise unpin everything, migrate the offenders
 * and return -EAGAIN so the caller pins again; -ENOMEM if a folio could not
 * be migrated (pinned by someone else, or no memory).
 */
static long check_and_migrate_movable_pages(struct pinmm *m, unsigned long nr,
					    struct page **pages)
{
	struct folio **movable;
	unsigned long nr_movable = 0;
	struct folio *prev = NULL;
	long ret = -EAGAIN;

	for (unsigned long i = 0; i < nr; i++) {
		struct folio *folio = page_folio(pages[i]);

		if (folio == prev)
			continue;
		prev = folio;
		if (!longterm_pin_may_stay(m, folio))
			nr_movable++;
	}
	if (!nr_movable)
		return 0;

	movable = kcalloc(nr_movable, sizeof(*movable));
	nr_movable = 0;
	prev = NULL;
	for (unsigned long i = 0; i < nr; i++) {
		struct folio *folio = page_folio(pages[i]);

		if (folio == prev)
			continue;
		prev = folio;
		if (!longterm_pin_may_stay(m, folio) && movable) {
			folio_get(folio);	/* the isolation reference */
			movable[nr_movable++] = folio;
		}
	}
	/* Every pin goes: the caller pins the whole range again. */
	unpin_user_pages_m(m, pages, nr);
	for (unsigned long i = 0; i < nr; i++)
		pages[i] = NULL;
	if (!movable)
		return -ENOMEM;

	for (unsigned long i = 0; i < nr_movable; i++) {
		struct folio *folio = movable[i], *dst = NULL;
		unsigned long n = folio_nr_pages(folio);

		if (folio_test_hugetlb(folio)) {
			/* Into a pool page outside MOVABLE/CMA; consumes our reference. */
			dst = hugetlb_migrate_folio(folio);
		} else {
			for (int tries = 0; tries < NR_MAX_MIGRATE_RETRY; tries++) {
				dst = migrate_folio_alloc(folio, GFP_KERNEL | __GFP_NOWARN);
				if (!IS_ERR(dst) || PTR_ERR(dst) != -EAGAIN)
					break;
				sched_yield();
			}
			if (IS_ERR(dst))
				folio_put(folio);
		}
		if (IS_ERR(dst)) {
			ret = -ENOMEM;
			continue;
		}
		count_vm_events(m, LONGTERM_MIGRATE, (long)n);
		folio_put(dst);		/* the isolation reference moved to dst */
	}
	free(movable);
	return ret;
}

/**
 * __gup_longterm_locked() - pin_user_pages*'s core: without FOLL_LONGTERM
 * just __get_user_pages_locked(); with it, the migrate-and-retry loop.
 * Context: as __get_user_pages_locked().
 * Return: pages pinned (leading successes) or -errno; -ENOMEM when a
 * movable folio could not be migrated.
 */
long __gup_longterm_locked(struct mm_struct *mm, unsigned long start,
			   unsigned long nr_pages, struct page **pages,
			   int *locked, unsigned int gup_flags)
{
	unsigned int flags;
	long rc, nr_pinned;

	if (!(gup_flags & FOLL_LONGTERM))
		return __get_user_pages_locked(mm, start, nr_pages, pages, locked, gup_flags);

	flags = memalloc_pin_save();
	do {
		nr_pinned = __get_user_pages_locked(mm, start, nr_pages, pages, locked,
						    gup_flags);
		if (nr_pinned <= 0) {
			rc = nr_pinned;
			break;
		}
		/* FOLL_LONGTERM implies FOLL_PIN */
		rc = check_and_migrate_movable_pages(mm->machine, (unsigned long)nr_pinned, pages);
	} while (rc == -EAGAIN);
	memalloc_pin_restore(flags);
	return rc ? rc : nr_pinned;
}

/**
 * account_pinned_vm() - charge @npages to @p's mm->pinned_vm, refusing to
 * exceed RLIMIT_MEMLOCK (as io_uring and RDMA do).
 * Context: any.
 * Return: 0, or -ENOMEM (nothing charged).
 */
int account_pinned_vm(struct pinmm_proc *p, unsigned long npages)
{
	struct mm_struct *mm = p->mm;
	uint64_t limit = p->rlimit_memlock;
	unsigned long lim_pages = limit == PINMM_RLIM_INFINITY ? ~0UL :
				  (unsigned long)(limit >> PAGE_SHIFT);
	long cur = atomic_long_read(&mm->pinned_vm);

	do {
		if ((unsigned long)cur + npages > lim_pages || (unsigned long)cur + npages < npages)
			return -ENOMEM;
	} while (!atomic_compare_exchange_weak(&mm->pinned_vm, &cur, cur + (long)npages));
	return 0;
}

void unaccount_pinned_vm(struct mm_struct *mm, unsigned long npages)
{
	VM_WARN_ON(atomic_long_read(&mm->pinned_vm) < (long)npages);
	atomic_long_sub((long)npages, &mm->pinned_vm);
}
