/* SPDX-License-Identifier: MIT */
/*
 * gup.c - get_user_pages / pin_user_pages: argument validation, the slow
 * path (VMA checks, page-table lookup under locks, faults on demand) and
 * the exported entry points with Linux 6.x's flags, lock protocol and
 * return conventions (doc/GUP-SEMANTICS.md §1, §4).
 *
 *   exported fn -> is_valid_gup_args -> __gup_longterm_locked (gup_longterm.c)
 *                  -> __get_user_pages_locked -> __get_user_pages
 *                     -> check_vma_flags, follow_page_mask, faultin_page
 *
 * A fault that has to wait for storage (pinfs) may release mmap_lock and
 * answer VM_FAULT_RETRY: only when GUP allowed it (FOLL_UNLOCKABLE: the
 * _unlocked forms, GUP-fast's slow remainder, a caller's @locked), after
 * which __get_user_pages_locked() retakes the lock and faults that page
 * again with FOLL_TRIED, and *locked tells the caller the lock was dropped.
 * FOLL_NOWAIT faults never wait: such a page is not returned
 * (doc/LOCKING.md, "mmap_lock in the fault path").
 */
#include <errno.h>
#include "mm.h"
#include "gup.h"
#include "hugetlb.h"
#include "pin_policy.h"
#include "provenance.h"
#include "rcu.h"

/**
 * is_valid_gup_args() - §1.3, in Linux's order.  ORs @to_set (and
 * FOLL_UNLOCKABLE when @locked is given) into *@gup_flags_p.
 * Context: any.
 * Return: true if valid; false after a WARN.
 */
bool is_valid_gup_args(struct page **pages, int *locked, unsigned int *gup_flags_p,
		       unsigned int to_set)
{
	unsigned int gup_flags = *gup_flags_p;

	if (WARN_ON_ONCE(gup_flags & INTERNAL_GUP_FLAGS))
		return false;
	gup_flags |= to_set;
	if (locked) {
		if (WARN_ON_ONCE(*locked != 1))
			return false;
		gup_flags |= FOLL_UNLOCKABLE;
	}
	if (WARN_ON_ONCE((gup_flags & (FOLL_PIN | FOLL_GET)) == (FOLL_PIN | FOLL_GET)))
		return false;
	if (WARN_ON_ONCE(!(gup_flags & FOLL_PIN) && (gup_flags & FOLL_LONGTERM)))
		return false;
	if (WARN_ON_ONCE((gup_flags & (FOLL_GET | FOLL_PIN)) && !pages))
		return false;
	if (WARN_ON_ONCE((gup_flags & FOLL_LONGTERM) && (gup_flags & FOLL_PCI_P2PDMA)))
		return false;
	*gup_flags_p = gup_flags;
	return true;
}

/* §5.4: writable long-term pins need a mapping without dirty tracking. */
static bool writable_file_mapping_allowed(struct vm_area_struct *vma, unsigned int flags)
{
	if ((flags & (FOLL_PIN | FOLL_LONGTERM)) != (FOLL_PIN | FOLL_LONGTERM))
		return true;
	return !vma_needs_dirty_tracking(vma);
}

/*
 * Long-term pins of file pages that the filesystem may free or move under
 * them: any on fsdax (the pinned page is the block itself and truncate
 * would have to wait for the pin, §5.3), writable ones of dirty-tracked
 * mappings (§5.4).  fs.pinned_policy decides them (pin_policy.c).
 */
static bool longterm_file_pin(struct vm_area_struct *vma, unsigned int flags)
{
	if (!(flags & FOLL_LONGTERM))
		return false;
	if (vma_is_fsdax(vma))
		return true;
	return (flags & FOLL_WRITE) && !vma_is_anonymous(vma) &&
	       !writable_file_mapping_allowed(vma, flags);
}

/**
 * check_vma_flags() - may GUP with @gup_flags touch @vma at all?  §4.3.
 * Context: mmap_lock held.
 * Return: 0, -EFAULT, -EOPNOTSUPP (FOLL_LONGTERM on fsdax, unless
 * fs.pinned_policy is "lease"), -EPERM (lease policy: a long-term file
 * pin without a lease).
 */
int check_vma_flags(struct vm_area_struct *vma, unsigned int gup_flags)
{
	vm_flags_t vm_flags = vma->vm_flags;
	bool write = gup_flags & FOLL_WRITE;
	bool foreign = gup_flags & FOLL_REMOTE;

	(void)foreign;		/* no protection keys */
	if (vm_flags & (VM_IO | VM_PFNMAP))
		return -EFAULT;
	if ((gup_flags & FOLL_ANON) && !vma_is_anonymous(vma))
		return -EFAULT;
	if ((gup_flags & FOLL_SPLIT_PMD) && is_vm_hugetlb_page(vma))
		return -EOPNOTSUPP;	/* hugetlb leaves are never split */
	/* fs.pinned_policy: fsdax needs a lease, the page cache depends. */
	if (longterm_file_pin(vma, gup_flags)) {
		int err = pin_policy_longterm_file(vma, gup_flags);

		if (err)
			return err;
	}
	if (write) {
		if (!(vm_flags & VM_WRITE)) {
			if (!(gup_flags & FOLL_FORCE))
				return -EFAULT;
			/* Forced writes only break COW; never into shared mappings. */
			if (!is_cow_mapping(vm_flags))
				return -EFAULT;
		}
	} else if (!(vm_flags & VM_READ)) {
		if (!(gup_flags & FOLL_FORCE))
			return -EFAULT;
		if (!(vm_flags & VM_MAYREAD))
			return -EFAULT;
	}
	return 0;
}

/* §4.3: may FOLL_FORCE write through this read-only entry? */
static bool can_follow_write_common(struct page *page, struct vm_area_struct *vma,
				    unsigned int flags)
{
	if (!(flags & FOLL_FORCE))
		return false;
	if (vma->vm_flags & (VM_MAYSHARE | VM_SHARED))
		return false;
	if (!(vma->vm_flags & VM_MAYWRITE))
		return false;
	if (vma->vm_flags & VM_WRITE)
		return false;		/* writable VMAs take the write fault */
	if (!page || !PageAnon(page) || !PageAnonExclusive(page))
		return false;
	return true;
}

/* ... and no soft-dirty tracking waits for this write's fault. */
static bool can_follow_write_pte(pte_t pte, struct page *page,
				 struct vm_area_struct *vma, unsigned int flags)
{
	if (pte_write(pte))
		return true;
	return can_follow_write_common(page, vma, flags) &&
	       (!vma_soft_dirty_enabled(vma) || pte_soft_dirty(pte));
}

static bool can_follow_write_pmd(pmd_t pmd, struct page *page,
				 struct vm_area_struct *vma, unsigned int flags)
{
	if (pmd_write(pmd))
		return true;
	return can_follow_write_common(page, vma, flags) &&
	       (!vma_soft_dirty_enabled(vma) || pmd_soft_dirty(pmd));
}

/**
 * gup_must_unshare() - must a read-only pin of @page first unshare it?
 * §4.5.  @vma is NULL for GUP-fast.
 * Context: page-table lock held, or GUP-fast after grabbing the folio.
 * Return: true when an unshare fault (or the slow path) is needed.
 */
bool gup_must_unshare(struct vm_area_struct *vma, unsigned int flags, struct page *page)
{
	if ((flags & (FOLL_WRITE | FOLL_PIN)) != FOLL_PIN)
		return false;
	if (!PageAnon(page)) {
		if (!(flags & FOLL_LONGTERM))
			return false;
		if (!vma)
			return true;
		return is_cow_mapping(vma->vm_flags);
	}
	/* Pairs with the write barrier after ClearPageAnonExclusive (A3). */
	smp_rmb();
	return !PageAnonExclusive(page);
}

static bool gup_can_follow_protnone(struct vm_area_struct *vma, unsigned int flags)
{
	if (!(flags & FOLL_HONOR_NUMA_FAULT))
		return true;
	return !(vma->vm_flags & VM_ACCESS_FLAGS);
}

static struct page *no_page_table(struct vm_area_struct *vma, unsigned int flags)
{
	if ((flags & FOLL_DUMP) && (vma_is_anonymous(vma) || !vma->vm_ops->fault))
		return ERR_PTR(-EFAULT);
	return NULL;
}

static struct page *follow_page_pte(struct vm_area_struct *vma, unsigned long address,
				    pmd_t *pmd, unsigned int flags)
{
	struct mm_struct *mm = vma->vm_mm;
	struct pinmm *m = mm->machine;
	struct folio *folio;
	struct page *page;
	spinlock_t *ptl;
	pte_t *ptep, pte;
	int ret;

	ptep = pte_offset_map_lock(mm, pmd, address, &ptl);
	if (!ptep)
		return no_page_table(vma, flags);
	pte = ptep_get(ptep);
	if (!pte_present(pte))
		goto no_page;
	if (pte_protnone(pte) && !gup_can_follow_protnone(vma, flags))
		goto no_page;
	page = vm_normal_page(vma, address, pte);
	if ((flags & FOLL_WRITE) && !can_follow_write_pte(pte, page, vma, flags)) {
		page = NULL;
		goto out;
	}
	if (!page) {
		if (flags & FOLL_DUMP) {
			page = ERR_PTR(-EFAULT);
			goto out;
		}
		if (pte_pfn(pte) == m->zero_pfn) {
			page = m->zero_page;
		} else {
			page = ERR_PTR(-EEXIST);
			goto out;
		}
	}
	if (!pte_write(pte) && gup_must_unshare(vma, flags, page)) {
		page = ERR_PTR(-EMLINK);
		goto out;
	}
	folio = page_folio(page);
	VM_BUG_ON_PAGE((flags & FOLL_PIN) && PageAnon(page) && !PageAnonExclusive(page), page);
	ret = try_grab_folio(m, folio, 1, flags);
	if (unlikely(ret)) {
		page = ERR_PTR(ret);
		goto out;
	}
	if ((flags & FOLL_TOUCH) && !is_zero_folio(folio)) {
		if ((flags & FOLL_WRITE) && !pte_dirty(pte) && !folio_test_Dirty(folio))
			folio_mark_dirty(folio);
		folio_mark_accessed(folio);
	}
out:
	pte_unmap_unlock(ptep, ptl);
	return page;
no_page:
	pte_unmap_unlock(ptep, ptl);
	if (!pte_none(pte))
		return NULL;
	return no_page_table(vma, flags);
}

static struct page *follow_huge_pmd(struct vm_area_struct *vma, unsigned long addr,
				    pmd_t pmdval, unsigned int flags, unsigned long *page_mask)
{
	struct pinmm *m = vma->vm_mm->machine;
	struct page *page = pfn_to_page_m(m, pmd_pfn(pmdval) + pte_index(addr));
	struct folio *folio = page_folio(page);
	int ret;

	if ((flags & FOLL_WRITE) && !can_follow_write_pmd(pmdval, &folio->page, vma, flags))
		return NULL;
	if (pmd_special(pmdval) && (flags & FOLL_DUMP))
		return ERR_PTR(-EFAULT);
	if (pmd_protnone(pmdval) && !gup_can_follow_protnone(vma, flags))
		return NULL;
	if (!pmd_write(pmdval) && gup_must_unshare(vma, flags, &folio->page))
		return ERR_PTR(-EMLINK);
	VM_BUG_ON_PAGE((flags & FOLL_PIN) && folio_test_anon(folio) &&
		       !PageAnonExclusive(&folio->page), page);
	ret = try_grab_folio(m, folio, 1, flags);
	if (ret)
		return ERR_PTR(ret);
	if ((flags & FOLL_TOUCH) && !is_zero_folio(folio)) {
		if ((flags & FOLL_WRITE) && !pmd_dirty(pmdval) && !folio_test_Dirty(folio))
			folio_mark_dirty(folio);
		folio_mark_accessed(folio);
	}
	*page_mask = HPAGE_PMD_NR - 1;
	return page;
}

/**
 * follow_page_mask() - the page mapped at @address with a reference of the
 * kind in @flags, under the page-table locks.  §4.2.
 * Context: mmap_lock held.
 * Return: the page; NULL when a fault is needed; ERR_PTR(-EMLINK) when an
 * unshare fault is needed; ERR_PTR(-EEXIST) for an entry without a struct
 * page; other ERR_PTRs.
 */
struct page *follow_page_mask(struct vm_area_struct *vma, unsigned long address,
			      unsigned int flags, unsigned long *page_mask)
{
	struct mm_struct *mm = vma->vm_mm;
	pmd_t *pmd, pmdval;
	spinlock_t *ptl;
	struct page *page;

	*page_mask = 0;
	if (is_vm_hugetlb_page(vma)) {
		page = hugetlb_follow_page_mask(vma, address, flags, page_mask);
		return page ? page : no_page_table(vma, flags);
	}
	pmd = pmd_offset_lookup(mm, address);
	if (!pmd)
		return no_page_table(vma, flags);
	pmdval = pmdp_get(pmd);
	if (pmd_none(pmdval) || !pmd_present(pmdval))
		return no_page_table(vma, flags);
	if (!pmd_leaf(pmdval))
		return follow_page_pte(vma, address, pmd, flags);
	if (pmd_protnone(pmdval) && !gup_can_follow_protnone(vma, flags))
		return no_page_table(vma, flags);

	ptl = pmd_lock(mm, pmd);
	pmdval = pmdp_get(pmd);
	if (!pmd_leaf(pmdval)) {
		spin_unlock(ptl);
		return follow_page_pte(vma, address, pmd, flags);
	}
	if (flags & FOLL_SPLIT_PMD) {
		spin_unlock(ptl);
		__split_huge_pmd(vma, pmd, address);
		return follow_page_pte(vma, address, pmd, flags);
	}
	page = follow_huge_pmd(vma, address, pmdval, flags, page_mask);
	spin_unlock(ptl);
	return page;
}

/**
 * faultin_page() - fault in the page GUP could not follow.  §4.4.
 * @locked: set to 0 when the fault released mmap_lock.
 * Context: mmap_lock held for reading; released when *@locked becomes 0.
 * Return: 0 (look again), -EBUSY (VM_FAULT_RETRY: the page is not there
 * yet; mmap_lock released unless FOLL_NOWAIT), -EFAULT, -ENOMEM,
 * -EHWPOISON.
 */
static int faultin_page(struct vm_area_struct *vma, unsigned long address,
			unsigned int flags, bool unshare, int *locked)
{
	unsigned int fault_flags = 0;
	vm_fault_t ret;

	if (flags & FOLL_NOFAULT)
		return -EFAULT;
	if (flags & FOLL_WRITE)
		fault_flags |= FAULT_FLAG_WRITE;
	if (flags & FOLL_REMOTE)
		fault_flags |= FAULT_FLAG_REMOTE;
	if (flags & FOLL_UNLOCKABLE)
		fault_flags |= FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE;
	if (flags & FOLL_NOWAIT)
		fault_flags |= FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_RETRY_NOWAIT;
	if (flags & FOLL_TRIED)
		fault_flags |= FAULT_FLAG_TRIED;
	if (unshare) {
		fault_flags |= FAULT_FLAG_UNSHARE;
		VM_BUG_ON(fault_flags & FAULT_FLAG_WRITE);
	}
	ret = handle_mm_fault(vma, address, fault_flags);
	if (ret & VM_FAULT_ERROR) {
		if (ret & VM_FAULT_OOM)
			return -ENOMEM;
		if (ret & VM_FAULT_HWPOISON)
			return (flags & FOLL_HWPOISON) ? -EHWPOISON : -EFAULT;
		return -EFAULT;
	}
	if (ret & VM_FAULT_RETRY) {
		/* @vma may be gone now: only *locked is touched. */
		if (!(fault_flags & FAULT_FLAG_RETRY_NOWAIT))
			*locked = 0;
		return -EBUSY;
	}
	return 0;
}

/**
 * __get_user_pages() - the per-page loop.  §4.2.
 * @locked: set to 0 when a fault released mmap_lock (the loop stops there).
 * Context: mmap_lock held for reading; released when *@locked becomes 0.
 * Return: number of pages processed if >= 1, else the first error (or 0
 * for nr_pages == 0, or when the first page's fault asked for a retry).
 */
long __get_user_pages(struct mm_struct *mm, unsigned long start, unsigned long nr_pages,
		      unsigned int gup_flags, struct page **pages, int *locked)
{
	struct vm_area_struct *vma = NULL;
	long ret = 0, i = 0;

	if (!nr_pages)
		return 0;
	start &= PAGE_MASK;
	VM_BUG_ON(!!pages != !!(gup_flags & (FOLL_GET | FOLL_PIN)));
	do {
		struct page *page;
		unsigned long page_mask, page_increm;

		if (!vma || start >= vma->vm_end) {
			vma = vma_lookup(mm, start);
			if (gup_flags & FOLL_MADV_POPULATE) {
				if (!vma) {
					ret = -ENOMEM;
					goto out;
				}
				if (check_vma_flags(vma, gup_flags)) {
					ret = -EINVAL;
					goto out;
				}
			} else {
				if (!vma) {
					ret = -EFAULT;
					goto out;
				}
				ret = check_vma_flags(vma, gup_flags);
				if (ret)
					goto out;
			}
		}
retry:
		page = follow_page_mask(vma, start, gup_flags, &page_mask);
		if (!page || PTR_ERR(page) == -EMLINK) {
			ret = faultin_page(vma, start, gup_flags, PTR_ERR(page) == -EMLINK,
					   locked);
			if (!ret)
				goto retry;
			if (ret == -EBUSY)
				ret = 0;	/* not an error: a retry (or NOWAIT) */
			goto out;
		} else if (PTR_ERR(page) == -EEXIST) {
			if (pages) {
				ret = -EEXIST;
				goto out;
			}
			page_mask = 0;		/* no struct page: skip it */
		} else if (IS_ERR(page)) {
			ret = PTR_ERR(page);
			goto out;
		}
		page_increm = 1 + (~(start >> PAGE_SHIFT) & page_mask);
		if (page_increm > nr_pages)
			page_increm = nr_pages;
		if (pages && !IS_ERR(page)) {
			struct folio *folio = page_folio(page);

			if (page_increm > 1 &&
			    try_grab_folio(mm->machine, folio, (int)page_increm - 1, gup_flags)) {
				gup_put_folio(mm->machine, folio, 1, gup_flags);
				ret = -EFAULT;
				goto out;
			}
			for (unsigned long j = 0; j < page_increm; j++)
				pages[i + j] = page + j;
		}
		i += page_increm;
		start += page_increm * PAGE_SIZE;
		nr_pages -= page_increm;
	} while (nr_pages);
out:
	return i ? i : ret;
}

/*
 * A fault released mmap_lock after @done pages: retake it and fault the page
 * that asked for the retry with FOLL_TRIED (which never releases it again
 * in pinmm's handlers; the loop covers a handler that would).
 * Return: 1, or an error / 0 from __get_user_pages(); mmap_lock held.
 */
static long gup_retry_one(struct mm_struct *mm, unsigned long start, unsigned int flags,
			  struct page **pages, int *locked)
{
	long ret;

	do {
		mmap_read_lock(mm);		/* step F3 (doc/LOCKING.md) */
		*locked = 1;
		ret = __get_user_pages(mm, start, 1, flags | FOLL_TRIED, pages, locked);
		VM_BUG_ON(!*locked && ret != 0);
	} while (!*locked);
	return ret;
}

static long gup_locked(struct mm_struct *mm, unsigned long start,
		       unsigned long nr_pages, struct page **pages,
		       int *locked, unsigned int flags)
{
	bool must_unlock = false;
	long ret, pages_done = 0;

	if (!nr_pages)
		return 0;
	if (!*locked) {
		mmap_read_lock(mm);
		must_unlock = true;
		*locked = 1;
	} else {
		mmap_assert_locked(mm);
	}
	if ((flags & FOLL_PIN) && !test_bit(MMF_HAS_PINNED, &mm->flags))
		set_bit(MMF_HAS_PINNED, &mm->flags);
	pin_ctx_set(mm, flags);
	if (pages && !(flags & FOLL_PIN))
		flags |= FOLL_GET;
	count_vm_event(mm->machine, GUP_SLOW_CALLS);
	for (;;) {
		ret = __get_user_pages(mm, start, nr_pages, flags, pages, locked);
		if (!(flags & FOLL_UNLOCKABLE)) {
			pages_done = ret;	/* no fault was allowed to drop the lock */
			break;
		}
		/* A released lock comes with the pages before it, never an error. */
		VM_BUG_ON(!*locked && (ret < 0 || (unsigned long)ret >= nr_pages));
		if (ret > 0) {
			nr_pages -= (unsigned long)ret;
			pages_done += ret;
			if (!nr_pages)
				break;
		}
		if (*locked) {
			/* An error or a FOLL_NOWAIT page: stop here. */
			if (!pages_done)
				pages_done = ret;
			break;
		}
		/* The lock was released: move to the page that asked for the retry. */
		if (pages)
			pages += ret;
		start += (unsigned long)ret << PAGE_SHIFT;
		must_unlock = true;
		ret = gup_retry_one(mm, start, flags, pages, locked);
		if (ret != 1) {
			if (!pages_done)
				pages_done = ret;
			break;
		}
		nr_pages--;
		pages_done++;
		if (!nr_pages)
			break;
		if (pages)
			pages++;
		start += PAGE_SIZE;
	}
	if (must_unlock && *locked) {
		mmap_read_unlock(mm);
		*locked = 0;
	}
	if (WARN_ON_ONCE(pages_done == 0 && !(flags & FOLL_NOWAIT)))
		return -EFAULT;
	return pages_done;
}

/**
 * __get_user_pages_locked() - the lock protocol around __get_user_pages.
 * §1.5.  With @locked pointing at 0 the mmap lock is taken here and
 * released before returning (*@locked is 0 again).  With FOLL_UNLOCKABLE
 * a fault may release the lock to wait for storage; the range is then
 * finished with the lock retaken here, and released before returning:
 * *@locked is 0 when the caller no longer holds it.
 * Context: mmap_lock held for reading unless *@locked == 0.
 * Return: as __get_user_pages; a 0 result without FOLL_NOWAIT is -EFAULT.
 */
long __get_user_pages_locked(struct mm_struct *mm, unsigned long start,
			     unsigned long nr_pages, struct page **pages,
			     int *locked, unsigned int flags)
{
	struct trace_span sp;
	long ret;

	trace_span_begin(&sp);
	ret = gup_locked(mm, start, nr_pages, pages, locked, flags);
	if (flags & FOLL_PIN)
		trace_pins(mm->machine, "pin", pages, ret);
	TRACE_SPAN_END(mm->machine, &sp, TRACE_CAT_GUP,
		       (flags & FOLL_PIN) ? "pin_user_pages" : "get_user_pages",
		       { "start", (int64_t)start }, { "nr_pages", (int64_t)nr_pages },
		       { "gup_flags", flags }, { "ret", ret });
	return ret;
}

/*
 * current's mm for one call.  A variant that takes mmap_lock itself (@get)
 * holds an mm_users reference (get_current_mm()) so that a pinmm_exit() on
 * another thread cannot tear the mm down under the walk; a variant called
 * with mmap_lock held needs none, the caller's lock excludes exit_mmap()
 * (and mmput() must not run under it).  doc/DESIGN.md, "Process and mm
 * lifetimes".
 */
static struct mm_struct *gup_current_mm(int *err, bool get)
{
	struct pinmm_proc *p = pinmm_current_proc;
	struct mm_struct *mm;

	if (get) {
		mm = get_current_mm(err);
		WARN_ON_ONCE(!mm && *err == -EFAULT);
		return mm;
	}
	*err = WARN_ON_ONCE(!p) ? -EFAULT : -ESRCH;
	return p && !READ_ONCE(p->exited) ? p->mm : NULL;
}

/*
 * A remote caller holds mmap_read_lock(@mm), which keeps exit_mmap() out;
 * an mm with no user left is being (or has been) torn down: its process
 * exited and nobody holds pinmm_mmget() on it.  The structure itself must
 * be kept by the caller (pinmm_mmget(), or the process's handle).
 */
static bool remote_mm_exited(struct mm_struct *mm)
{
	return atomic_read(&mm->mm_users) == 0;
}

/* ------------------------------------------------------------------ */
/* Exported entry points (doc/API.md §2)                                    */

long pinmm_get_user_pages_remote(struct mm_struct *mm, unsigned long start,
				 unsigned long nr_pages, unsigned int gup_flags,
				 struct page **pages, int *locked)
{
	int local_locked = 1;

	pinmm_thread_enter();
	if (!mm)
		return -EINVAL;
	if (!is_valid_gup_args(pages, locked, &gup_flags, FOLL_TOUCH | FOLL_REMOTE))
		return -EINVAL;
	if (remote_mm_exited(mm))
		return -ESRCH;
	return __get_user_pages_locked(mm, start, nr_pages, pages,
				       locked ? locked : &local_locked, gup_flags);
}

long pinmm_get_user_pages(unsigned long start, unsigned long nr_pages,
			  unsigned int gup_flags, struct page **pages)
{
	struct mm_struct *mm;
	int locked = 1, err;

	pinmm_thread_enter();
	if (!is_valid_gup_args(pages, NULL, &gup_flags, FOLL_TOUCH))
		return -EINVAL;
	mm = gup_current_mm(&err, false);
	if (!mm)
		return err;
	return __get_user_pages_locked(mm, start, nr_pages, pages, &locked, gup_flags);
}

long pinmm_get_user_pages_unlocked(unsigned long start, unsigned long nr_pages,
				   struct page **pages, unsigned int gup_flags)
{
	struct mm_struct *mm;
	int locked = 0, err;
	long ret;

	pinmm_thread_enter();
	if (!is_valid_gup_args(pages, NULL, &gup_flags, FOLL_TOUCH | FOLL_UNLOCKABLE))
		return -EINVAL;
	mm = gup_current_mm(&err, true);
	if (!mm)
		return err;
	ret = __get_user_pages_locked(mm, start, nr_pages, pages, &locked, gup_flags);
	mmput(mm);
	return ret;
}

long pinmm_pin_user_pages_remote(struct mm_struct *mm, unsigned long start,
				 unsigned long nr_pages, unsigned int gup_flags,
				 struct page **pages, int *locked)
{
	int local_locked = 1;

	pinmm_thread_enter();
	PIN_CTX_CALLER();
	if (!mm)
		return 0;
	if (!is_valid_gup_args(pages, locked, &gup_flags,
			       FOLL_PIN | FOLL_TOUCH | FOLL_REMOTE))
		return 0;
	if (remote_mm_exited(mm))
		return -ESRCH;
	return __gup_longterm_locked(mm, start, nr_pages, pages,
				     locked ? locked : &local_locked, gup_flags);
}

long pinmm_pin_user_pages(unsigned long start, unsigned long nr_pages,
			  unsigned int gup_flags, struct page **pages)
{
	struct mm_struct *mm;
	int locked = 1, err;

	pinmm_thread_enter();
	PIN_CTX_CALLER();
	if (!is_valid_gup_args(pages, NULL, &gup_flags, FOLL_PIN))
		return 0;
	mm = gup_current_mm(&err, false);
	if (!mm)
		return err;
	return __gup_longterm_locked(mm, start, nr_pages, pages, &locked, gup_flags);
}

long pinmm_pin_user_pages_unlocked(unsigned long start, unsigned long nr_pages,
				   struct page **pages, unsigned int gup_flags)
{
	struct mm_struct *mm;
	int locked = 0, err;
	long ret;

	pinmm_thread_enter();
	PIN_CTX_CALLER();
	if (!is_valid_gup_args(pages, NULL, &gup_flags,
			       FOLL_PIN | FOLL_TOUCH | FOLL_UNLOCKABLE))
		return 0;
	mm = gup_current_mm(&err, true);
	if (!mm)
		return err;
	ret = __gup_longterm_locked(mm, start, nr_pages, pages, &locked, gup_flags);
	mmput(mm);
	return ret;
}

void pinmm_mmap_read_lock(struct mm_struct *mm)
{
	pinmm_thread_enter();
	mmap_read_lock(mm);
}

void pinmm_mmap_read_unlock(struct mm_struct *mm)
{
	mmap_read_unlock(mm);
}
