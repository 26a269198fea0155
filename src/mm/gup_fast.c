/* SPDX-License-Identifier: MIT */
/*
 * gup_fast.c - GUP-fast: a lockless walk of current's page tables that
 * grabs pages without taking mmap_lock, and falls back to the slow path
 * for everything it cannot decide from the page-table entries alone (§3).
 *
 * Safety (doc/MEMORY-ORDERING.md (a)-(c); steps B1-B5 and R0-R3 below):
 *  - the walk runs inside rcu_read_lock(); page-table pages are freed only
 *    after a grace period, so every table read here is still a table;
 *  - each entry is read once (untorn); a folio is grabbed speculatively
 *    (add-unless-zero), then the PMD and the PTE are read again: if either
 *    changed, the grab is undone.  Everything that must not race with a new
 *    pin clears the entry first and checks for pins second;
 *  - FOLL_PIN walks are bracketed by mm->write_protect_seq: if fork is
 *    write-protecting this mm, or did so meanwhile, every pin taken here is
 *    dropped and the slow path (which excludes fork) does the work.
 */
#include <errno.h>
#include "gup.h"
#include "dax.h"
#include "provenance.h"
#include "rcu.h"

#define FOLL_FAST_WHITELIST (FOLL_WRITE | FOLL_LONGTERM | FOLL_FORCE | FOLL_PIN | \
			     FOLL_GET | FOLL_FAST_ONLY | FOLL_NOFAULT | \
			     FOLL_PCI_P2PDMA | FOLL_HONOR_NUMA_FAULT)

/*
 * gup_fast_folio_allowed() - §3.4: without the VMA, only anonymous, shmem
 * and hugetlb folios may take a writable long-term pin; a truncated folio (no
 * mapping) never.  shmem is recognised by PG_swapbacked on a file folio,
 * which avoids dereferencing a mapping that may be going away.
 */
static bool gup_fast_folio_allowed(struct folio *folio, unsigned int flags)
{
	unsigned long mapping;

	if ((flags & (FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE)) !=
	    (FOLL_PIN | FOLL_LONGTERM | FOLL_WRITE))
		return true;
	/* hugetlbfs does no writeback: its pages may be pinned so (§3.4). */
	if (folio_test_Hugetlb(folio))
		return true;
	mapping = (unsigned long)READ_ONCE(folio->mapping);
	if (!mapping)
		return false;
	if (mapping & PAGE_MAPPING_FLAGS)
		return (mapping & PAGE_MAPPING_FLAGS) == PAGE_MAPPING_ANON;
	return folio_test_SwapBacked(folio);
}

/*
 * How many PTEs from @ptep on (at most @max) map the pages that follow
 * @page inside its (speculatively read) large folio, with exactly @pte's
 * bits: a run GUP-fast can grab with one atomic (Linux's folio_pte_batch()).
 * Only a hint: B4 re-reads every PTE of the run after the grab.
 */
static int gup_fast_pte_batch(struct pinmm *m, pte_t *ptep, pte_t pte, struct page *page,
			      int max)
{
	struct folio *folio = page_folio(page);
	long left;
	int nr = 1;

	if (max <= 1 || !folio_test_large(folio))
		return 1;
	left = (long)folio_nr_pages(folio) - (long)folio_page_idx(folio, page);
	if (left < max)
		max = (int)left;
	while (nr < max &&
	       pte_val(ptep_get_lockless(ptep + nr)) == pte_val(pte) + ((uint64_t)nr << PAGE_SHIFT))
		nr++;
	return nr;
}

static bool gup_fast_pte_range(struct pinmm *m, pmd_t pmd, pmd_t *pmdp, unsigned long addr,
			       unsigned long end, unsigned int flags, struct page **pages,
			       int *nr)
{
	pte_t *ptep = (pte_t *)table_of(m, pmd_val(pmd)) + pte_index(addr);
	bool write = flags & FOLL_WRITE;
	int n = *nr;		/* in a register: pages[] may alias *nr */
	bool ok = false;
	struct folio *folio;
	int batch;

	do {
		pte_t pte = ptep_get_lockless(ptep);	/* B1 */
		struct page *page;

		/* B2: decide from the entry alone.  protnone: the slow path must see the VMA (a PROT_NONE VMA fails). */
		if (pte_protnone(pte))
			goto out;
		if (!pte_access_permitted(pte, write))
			goto out;
		if (pte_special(pte))
			goto out;		/* zero page, PFN maps */
		/* fsdax: only the slow path can apply the VMA rules (§3.3). */
		if (pte_devmap(pte) && (flags & FOLL_LONGTERM))
			goto out;
		if (unlikely(!pfn_valid_m(m, pte_pfn(pte))))
			goto out;
		page = pfn_to_page_m(m, pte_pfn(pte));
		/* The struct page a few PTEs ahead: its cache line is the cost. */
		if (likely(addr + 4 * PAGE_SIZE < end)) {
			pte_t ahead = ptep_get_lockless(ptep + 4);

			if (pte_present(ahead) && pfn_valid_m(m, pte_pfn(ahead)))
				__builtin_prefetch(pfn_to_page_m(m, pte_pfn(ahead)), 1);
		}
		/* A run of PTEs of one large folio: one grab for all of it. */
		batch = gup_fast_pte_batch(m, ptep, pte, page, (int)((end - addr) >> PAGE_SHIFT));
		folio = try_grab_folio_fast(m, page, batch, flags);	/* B3 */
		if (!folio)
			goto out;
		/*
		 * B4: the entries (and their table) still what we grabbed through?
		 * legacy.gup_fast_no_recheck skips it, as GUP-fast did before the
		 * generic RCU walk (Linux 3.19): the grab may then land on a
		 * frame freed and reused since B1.
		 */
		if (m->cfg.legacy_gup_fast_no_recheck)
			goto grabbed;
		if (unlikely(pmd_val(pmd) != pmd_val(pmdp_get_lockless(pmdp))) ||
		    unlikely(folio_page_idx(folio, page) + batch > folio_nr_pages(folio)))
			goto undo;
		for (int i = 0; i < batch; i++)
			if (unlikely(pte_val(ptep_get(ptep + i)) !=
				     pte_val(pte) + ((uint64_t)i << PAGE_SHIFT)))
				goto undo;
		if (!gup_fast_folio_allowed(folio, flags))
			goto undo;
grabbed:
		for (int i = 0; i < batch; i++) {
			/* B5: a read-only pin needs an exclusive anon page. */
			if (!pte_write(pte) && gup_must_unshare(NULL, flags, page + i)) {
				__gup_put_folio(m, folio, batch - i, flags, false);
				goto out;
			}
			pages[n++] = page + i;
		}
		ptep += batch - 1;
		addr += (unsigned long)(batch - 1) << PAGE_SHIFT;
	} while (ptep++, addr += PAGE_SIZE, addr != end);
	ok = true;
out:
	*nr = n;
	return ok;
undo:
	__gup_put_folio(m, folio, batch, flags, false);
	goto out;
}

/*
 * The end of a leaf (PMD or PUD) grab: keep the @refs references taken on
 * @folio from @page on if the entry was unchanged when re-read (B4), the
 * folio may be pinned so without the VMA (§3.4), and a read-only entry
 * needs no unshare (B5); else drop them.  Return: true if kept (@pages
 * filled, *@nr advanced).
 */
static bool gup_fast_leaf_keep(struct pinmm *m, struct folio *folio, struct page *page,
			       int refs, bool unchanged, bool writable, unsigned int flags,
			       struct page **pages, int *nr)
{
	struct page **out = pages + *nr;	/* pages[] may alias *nr */

	if (unlikely(!unchanged) || !gup_fast_folio_allowed(folio, flags) ||
	    (!writable && gup_must_unshare(NULL, flags, &folio->page))) {
		__gup_put_folio(m, folio, refs, flags, false);
		return false;
	}
	for (int i = 0; i < refs; i++)
		out[i] = page + i;
	*nr += refs;
	return true;
}

static bool gup_fast_pmd_leaf(struct pinmm *m, pmd_t orig, pmd_t *pmdp, unsigned long addr,
			      unsigned long end, unsigned int flags, struct page **pages,
			      int *nr)
{
	struct page *page;
	struct folio *folio;
	int refs;

	if (!pmd_access_permitted(orig, flags & FOLL_WRITE))
		return false;
	if (pmd_special(orig))
		return false;		/* huge zero folio */
	if (pmd_devmap(orig) && (flags & FOLL_LONGTERM))
		return false;		/* fsdax: the slow path decides */
	page = pfn_to_page_m(m, pmd_pfn(orig) + pte_index(addr));
	refs = (int)((end - addr) >> PAGE_SHIFT);
	folio = try_grab_folio_fast(m, page, refs, flags);
	if (!folio)
		return false;
	return gup_fast_leaf_keep(m, folio, page, refs,
				  pmd_val(orig) == pmd_val(pmdp_get(pmdp)), pmd_write(orig),
				  flags, pages, nr);
}

/*
 * A PUD leaf: a 1 GiB hugetlb page.  Same protocol as a PMD leaf (B2-B5 of
 * doc/MEMORY-ORDERING.md (a)): decide from the entry, grab the folio for
 * every subpage in range, re-read the PUD, undo if it changed.
 */
static bool gup_fast_pud_leaf(struct pinmm *m, pud_t orig, pud_t *pudp, unsigned long addr,
			      unsigned long end, unsigned int flags, struct page **pages,
			      int *nr)
{
	struct page *page;
	struct folio *folio;
	int refs;

	if (!pmd_access_permitted(__pmd(pud_val(orig)), flags & FOLL_WRITE))
		return false;
	if (pud_special(orig) || pud_devmap(orig))
		return false;
	page = pfn_to_page_m(m, pud_pfn(orig) + ((addr & ~PUD_MASK) >> PAGE_SHIFT));
	refs = (int)((end - addr) >> PAGE_SHIFT);
	folio = try_grab_folio_fast(m, page, refs, flags);	/* B3 */
	if (!folio)
		return false;
	return gup_fast_leaf_keep(m, folio, page, refs,
				  pud_val(orig) == pud_val(pudp_get(pudp)), pud_write(orig),
				  flags, pages, nr);
}

static void gup_fast_range(struct mm_struct *mm, unsigned long addr, unsigned long end,
			   unsigned int flags, struct page **pages, int *nr)
{
	struct pinmm *m = mm->machine;

	do {
		unsigned long pud_end = pud_addr_end(addr, end);
		pgd_t pgd = pgdp_get(pgd_offset(mm, addr));
		pmd_t *pmds;
		pud_t *pudp, pud;

		if (!pgd_present(pgd))
			return;
		pudp = (pud_t *)table_of(m, pgd_val(pgd)) + pud_index(addr);
		pud = pudp_get(pudp);	/* B1 */
		if (!pud_present(pud) || pud_protnone(pud))
			return;
		if (pud_leaf(pud)) {
			if (!gup_fast_pud_leaf(m, pud, pudp, addr, pud_end, flags, pages, nr))
				return;
			addr = pud_end;
			continue;
		}
		pmds = (pmd_t *)table_of(m, pud_val(pud));
		do {
			unsigned long next = pmd_addr_end(addr, pud_end);
			pmd_t *pmdp = pmds + pmd_index(addr);
			pmd_t pmd = pmdp_get_lockless(pmdp);

			if (!pmd_present(pmd))
				return;
			if (pmd_leaf(pmd)) {
				if (pmd_protnone(pmd))
					return;
				if (!gup_fast_pmd_leaf(m, pmd, pmdp, addr, next, flags, pages, nr))
					return;
			} else if (!gup_fast_pte_range(m, pmd, pmdp, addr, next, flags, pages, nr)) {
				return;
			}
			addr = next;
		} while (addr != pud_end);
	} while (addr != end);
}

/*
 * gup_fast() - the lockless part.  Returns pages grabbed (a leading
 * prefix of the range); 0 if fork raced with a FOLL_PIN walk.
 */
static int gup_fast(struct mm_struct *mm, unsigned long start, unsigned long end,
		    unsigned int flags, struct page **pages)
{
	/* legacy.gup_fast_no_seq: before Linux 5.11 fork was not looked at. */
	bool seq_check = (flags & FOLL_PIN) && !mm->machine->cfg.legacy_gup_fast_no_seq;
	unsigned seq = 0;
	int nr = 0;

	if (seq_check) {
		/* (c) R1 */
		if (!raw_seqcount_try_begin(&mm->write_protect_seq, &seq))
			return 0;
	}
	rcu_read_lock();
	gup_fast_range(mm, start, end, flags, pages, &nr);	/* (c) R2 */
	rcu_read_unlock();
	/* One counter update per call (Linux: per-CPU node stats). */
	if ((flags & FOLL_PIN) && nr)
		count_vm_events(mm->machine, NR_FOLL_PIN_ACQUIRED, nr);
	/* (c) R3 */
	if (seq_check && read_seqcount_retry(&mm->write_protect_seq, seq)) {
		/* fork write-protected meanwhile: the pages may be shared now. */
		unpin_user_pages_m(mm->machine, pages, (unsigned long)nr);
		return 0;
	}
	return nr;
}

/* gup_fast_fallback() on @mm, which the caller holds a reference on. */
static int gup_fast_fallback_mm(struct mm_struct *mm, unsigned long start,
				unsigned long nr_pages, unsigned int gup_flags,
				struct page **pages)
{
	unsigned long len, end;
	int nr_pinned, locked = 0;
	long ret;

	/* (c) R0 */
	if ((gup_flags & FOLL_PIN) && !test_bit(MMF_HAS_PINNED, &mm->flags))
		set_bit(MMF_HAS_PINNED, &mm->flags);
	pin_ctx_set(mm, gup_flags);
	start &= PAGE_MASK;
	if (nr_pages > (~0UL >> PAGE_SHIFT))
		return -EOVERFLOW;
	len = nr_pages << PAGE_SHIFT;
	if (__builtin_add_overflow(start, len, &end))
		return -EOVERFLOW;
	if (end > TASK_SIZE_MAX)
		return -EFAULT;

	count_vm_event(mm->machine, GUP_FAST_CALLS);
	nr_pinned = len ? gup_fast(mm, start, end, gup_flags, pages) : 0;
	if (gup_flags & FOLL_PIN)
		trace_pins(mm->machine, "pin", pages, nr_pinned);
	if ((unsigned long)nr_pinned == nr_pages || (gup_flags & FOLL_FAST_ONLY))
		return nr_pinned;

	count_vm_event(mm->machine, GUP_FAST_FALLBACK);
	start += (unsigned long)nr_pinned << PAGE_SHIFT;
	pages += nr_pinned;
	ret = __gup_longterm_locked(mm, start, nr_pages - nr_pinned, pages, &locked,
				    gup_flags | FOLL_TOUCH | FOLL_UNLOCKABLE);
	if (ret < 0) {
		/* The caller must release what was pinned: no error then. */
		if (nr_pinned)
			return nr_pinned;
		return (int)ret;
	}
	return (int)ret + nr_pinned;
}

/**
 * gup_fast_fallback() - GUP-fast, then the slow path for the rest.  §1.5.
 * Context: must not hold current's mmap_lock (the slow remainder takes it,
 * and the mm_users reference this call holds on current's mm is dropped
 * on return, which may tear an exited process's mm down).
 * Return: pages grabbed (a leading prefix); an error only if none was;
 * -ESRCH when current has exited.
 */
int gup_fast_fallback(unsigned long start, unsigned long nr_pages,
		      unsigned int gup_flags, struct page **pages)
{
	struct trace_span sp;
	struct mm_struct *mm;
	int ret;

	if (WARN_ON_ONCE(gup_flags & ~FOLL_FAST_WHITELIST))
		return -EINVAL;
	mm = get_current_mm(&ret);
	if (!mm) {
		WARN_ON_ONCE(ret == -EFAULT);
		return ret;
	}
	trace_span_begin(&sp);
	ret = gup_fast_fallback_mm(mm, start, nr_pages, gup_flags, pages);
	TRACE_SPAN_END(mm->machine, &sp, TRACE_CAT_GUP,
		       (gup_flags & FOLL_PIN) ? "pin_user_pages_fast" : "get_user_pages_fast",
		       { "start", (int64_t)start }, { "nr_pages", (int64_t)nr_pages },
		       { "gup_flags", gup_flags }, { "ret", ret });
	mmput(mm);
	return ret;
}

int pinmm_get_user_pages_fast(unsigned long start, int nr_pages,
			      unsigned int gup_flags, struct page **pages)
{
	pinmm_thread_enter();
	if (!is_valid_gup_args(pages, NULL, &gup_flags, FOLL_GET))
		return -EINVAL;
	/* A negative count wraps to a huge one: -EOVERFLOW, as in Linux. */
	return gup_fast_fallback(start, (unsigned long)(long)nr_pages, gup_flags, pages);
}

int pinmm_get_user_pages_fast_only(unsigned long start, int nr_pages,
				   unsigned int gup_flags, struct page **pages)
{
	pinmm_thread_enter();
	if (!is_valid_gup_args(pages, NULL, &gup_flags, FOLL_GET | FOLL_FAST_ONLY))
		return -EINVAL;
	/* A negative count wraps to a huge one: -EOVERFLOW, as in Linux. */
	return gup_fast_fallback(start, (unsigned long)(long)nr_pages, gup_flags, pages);
}

int pinmm_pin_user_pages_fast(unsigned long start, int nr_pages,
			      unsigned int gup_flags, struct page **pages)
{
	pinmm_thread_enter();
	PIN_CTX_CALLER();
	if (!is_valid_gup_args(pages, NULL, &gup_flags, FOLL_PIN))
		return -EINVAL;
	/* A negative count wraps to a huge one: -EOVERFLOW, as in Linux. */
	return gup_fast_fallback(start, (unsigned long)(long)nr_pages, gup_flags, pages);
}
