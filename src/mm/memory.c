/* SPDX-License-Identifier: MIT */
/*
 * memory.c - page faults at PTE level and the tearing down of mappings.
 *
 * handle_mm_fault() is entered with mmap_lock held for reading, by the
 * simulated MMU (access.c) and by GUP; a file fault allowed to retry may
 * return VM_FAULT_RETRY with it released (filemap_fault()).  Anonymous read faults map the
 * shared zero page; write faults get a fresh zeroed page; write faults on
 * read-only private pages copy unless the page is exclusive (or can be
 * made so); unshare faults (GUP's read-only pins) copy a non-exclusive
 * page but leave the new PTE read-only.  File faults go through the
 * filesystem's ->fault and, for shared writable mappings, ->page_mkwrite.
 *
 * Every PTE mapping of a page holds one reference on its folio and one
 * mapcount; zapping drops both.  A pinned page therefore outlives its last
 * mapping (the pin is a reference): it is "detached", not freed.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include "mm.h"
#include "trace.h"
#include "fs.h"
#include "swap.h"
#include "hugetlb.h"

static inline pte_t mk_pte(struct page *page, pgprot_t prot)
{
	return pfn_pte(page_to_pfn(page), prot);
}

static enum mm_counter mm_counter_of(struct folio *folio)
{
	if (folio_test_anon(folio))
		return MM_ANONPAGES;
	if (folio_test_SwapBacked(folio))
		return MM_SHMEMPAGES;
	return MM_FILEPAGES;
}

/**
 * vm_normal_page() - the page a present PTE maps.
 * Context: PTE lock held, or a lockless walk that re-checks the entry.
 * Return: the page, or NULL for special entries (zero page, PFN maps).
 * A devmap entry (fsdax frame) is not special: its struct page is returned
 * and handled like any file page (reference and mapcount per mapping).
 */
struct page *vm_normal_page(struct vm_area_struct *vma, unsigned long addr, pte_t pte)
{
	struct pinmm *m = vma->vm_mm->machine;
	unsigned long pfn = pte_pfn(pte);

	if (pte_special(pte))
		return NULL;
	if (unlikely(!pfn_valid_m(m, pfn)))
		return NULL;
	return pfn_to_page_m(m, pfn);
}

struct page *vm_normal_page_pmd(struct vm_area_struct *vma, unsigned long addr, pmd_t pmd)
{
	struct pinmm *m = vma->vm_mm->machine;
	unsigned long pfn = pmd_pfn(pmd);

	if (pmd_special(pmd) || !pfn_valid_m(m, pfn))
		return NULL;
	return pfn_to_page_m(m, pfn);
}

/* A migration entry is replaced under the PTE lock when migration ends. */
static void migration_entry_wait(struct mm_struct *mm, pmd_t *pmd, unsigned long addr)
{
	for (int spins = 0; ; spins++) {
		spinlock_t *ptl;
		pte_t *pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
		bool still;

		if (!pte)
			return;
		still = is_migration_entry(ptep_get(pte));
		pte_unmap_unlock(pte, ptl);
		if (!still)
			return;
		sched_yield();
	}
}

/* Anonymous page fault on an empty PTE. */
static vm_fault_t do_anonymous_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	struct pinmm *m = mm->machine;
	struct folio *folio;
	spinlock_t *ptl;
	pte_t *pte, entry;

	if (__pte_alloc(mm, vmf->pmd))
		return VM_FAULT_OOM;

	if (!(vmf->flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE))) {
		/* Read fault: the shared zero page, read-only and special. */
		entry = pte_mkspecial(pfn_pte(m->zero_pfn, vma->vm_page_prot));
		entry = pte_wrprotect(entry);
		pte = pte_offset_map_lock(mm, vmf->pmd, vmf->address, &ptl);
		if (!pte)
			return 0;
		if (pte_none(ptep_get(pte))) {
			set_pte(pte, pte_mkyoung(entry));
			count_vm_event(m, ZERO_PAGE_MAPPED);
		}
		pte_unmap_unlock(pte, ptl);
		return 0;
	}

	if (anon_vma_prepare(vma))
		return VM_FAULT_OOM;
	/* An mTHP where the per-size policy allows one (mthp.c), else a page. */
	folio = alloc_anon_folio(vmf);
	if (!folio)
		return VM_FAULT_OOM;
	if (!map_anon_folio_ptes(vmf, folio, ALIGN_DOWN(vmf->address, folio_size(folio))))
		folio_put(folio);	/* raced: the access is retried */
	return 0;
}

/* Map @page of the locked @folio at vmf->address; consumes the fault's ref. */
static vm_fault_t finish_fault(struct vm_fault *vmf, struct folio *folio,
			       struct page *page, bool write, bool new_anon)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	spinlock_t *ptl;
	pte_t *pte, entry;

	if (__pte_alloc(mm, vmf->pmd))
		return VM_FAULT_OOM;
	pte = pte_offset_map_lock(mm, vmf->pmd, vmf->address, &ptl);
	if (!pte)
		return VM_FAULT_NOPAGE;
	if (!pte_none(ptep_get(pte))) {
		pte_unmap_unlock(pte, ptl);
		return VM_FAULT_NOPAGE;
	}
	entry = pte_mkyoung(mk_pte(page, vma->vm_page_prot));
	if (write)
		entry = maybe_mkwrite(pte_mkdirty(entry), vma);
	if (new_anon) {
		folio_add_new_anon_rmap(folio, vma, vmf->address, true);
		add_mm_counter(mm, MM_ANONPAGES, 1);
	} else {
		folio_add_file_rmap_pte(folio, page, vma);
		add_mm_counter(mm, mm_counter_of(folio), 1);
	}
	set_pte(pte, entry);
	pte_unmap_unlock(pte, ptl);
	return 0;
}

/* ->fault, returning a locked folio with a reference in vmf->folio. */
static vm_fault_t __do_fault(struct vm_fault *vmf)
{
	vm_fault_t ret = vmf->vma->vm_ops->fault(vmf);

	if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY))
		return ret;
	if (!(ret & VM_FAULT_LOCKED))
		folio_lock(vmf->folio);
	if (!vmf->page)
		vmf->page = folio_page(vmf->folio, vmf->pgoff - vmf->folio->index);
	return ret;
}

static vm_fault_t do_read_fault(struct vm_fault *vmf)
{
	vm_fault_t ret = __do_fault(vmf);
	struct folio *folio = vmf->folio;

	if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY))
		return ret;
	ret = finish_fault(vmf, folio, vmf->page, false, false);
	folio_unlock(folio);
	if (ret)
		folio_put(folio);
	return ret & ~VM_FAULT_NOPAGE;
}

/* Private file mapping, write fault on a hole: copy the cache page. */
static vm_fault_t do_cow_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct pinmm *m = vma->vm_mm->machine;
	struct folio *new, *folio;
	vm_fault_t ret;

	if (anon_vma_prepare(vma))
		return VM_FAULT_OOM;
	new = folio_alloc(m, GFP_HIGHUSER_MOVABLE, 0);
	if (!new)
		return VM_FAULT_OOM;
	ret = __do_fault(vmf);
	if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) {
		folio_put(new);
		return ret;
	}
	folio = vmf->folio;
	memcpy(folio_address(new), page_address(vmf->page), PAGE_SIZE);
	folio_unlock(folio);
	folio_put(folio);
	ret = finish_fault(vmf, new, &new->page, true, true);
	if (ret)
		folio_put(new);
	else
		count_vm_event(m, COW_FAULT);
	return ret & ~VM_FAULT_NOPAGE;
}

/* ->page_mkwrite: called with the folio unlocked, returns it locked. */
static vm_fault_t do_page_mkwrite(struct vm_fault *vmf, struct folio *folio)
{
	vm_fault_t ret;

	vmf->folio = folio;
	vmf->flags |= FAULT_FLAG_MKWRITE;
	ret = vmf->vma->vm_ops->page_mkwrite(vmf);
	vmf->flags &= ~FAULT_FLAG_MKWRITE;
	if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE))
		return ret;
	if (!(ret & VM_FAULT_LOCKED))
		folio_lock(folio);
	if (!folio->mapping) {		/* truncated meanwhile */
		folio_unlock(folio);
		return VM_FAULT_NOPAGE;
	}
	return VM_FAULT_LOCKED;
}

static vm_fault_t do_shared_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	vm_fault_t ret = __do_fault(vmf), tmp;
	struct folio *folio = vmf->folio;

	if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY))
		return ret;
	if (vma->vm_ops->page_mkwrite) {
		folio_unlock(folio);
		tmp = do_page_mkwrite(vmf, folio);
		if (tmp & (VM_FAULT_ERROR | VM_FAULT_NOPAGE)) {
			folio_put(folio);
			return tmp & ~VM_FAULT_NOPAGE;
		}
	}
	ret = finish_fault(vmf, folio, vmf->page, true, false);
	if (!ret)
		folio_mark_dirty(folio);
	folio_unlock(folio);
	if (ret)
		folio_put(folio);
	return ret & ~VM_FAULT_NOPAGE;
}

static vm_fault_t do_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;

	if (!vma->vm_ops->fault)
		return VM_FAULT_SIGBUS;
	if (!(vmf->flags & FAULT_FLAG_WRITE))
		return do_read_fault(vmf);
	if (!(vma->vm_flags & VM_SHARED))
		return do_cow_fault(vmf);
	return do_shared_fault(vmf);
}

/* Make the present PTE writable in place (the page is ours). */
static void wp_page_reuse(struct vm_fault *vmf)
{
	pte_t entry = ptep_get(vmf->pte);

	entry = pte_mkyoung(maybe_mkwrite(pte_mkdirty(entry), vmf->vma));
	set_pte(vmf->pte, entry);
}

/* Copy the page behind a read-only PTE into a new exclusive anon page. */
static vm_fault_t __wp_page_copy(struct vm_fault *vmf, struct page *old_page)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	struct pinmm *m = mm->machine;
	bool unshare = vmf->flags & FAULT_FLAG_UNSHARE;
	struct folio *old = old_page ? page_folio(old_page) : NULL;
	struct folio *new;
	struct mmu_notifier_range range;
	spinlock_t *ptl;
	pte_t *pte, entry, cur;

	/*
	 * The reference before the PTE lock goes, as Linux's do_wp_page():
	 * under the lock the PTE's mapping holds the folio, after it a split
	 * or migration may unmap it and freeze its count at 0.
	 */
	if (old)
		folio_get(old);		/* keep the source alive while copying */
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	if (anon_vma_prepare(vma))
		goto oom;
	new = folio_alloc(m, GFP_HIGHUSER_MOVABLE | (old ? 0 : __GFP_ZERO), 0);
	if (!new)
		goto oom;
	if (old)
		memcpy(folio_address(new), page_address(old_page), PAGE_SIZE);

	/*
	 * The PTE will map another page: notify before re-taking the PTE
	 * lock (callbacks may sleep), end after dropping it.
	 */
	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, vmf->address,
				vmf->address + PAGE_SIZE);
	mmu_notifier_invalidate_range_start(&range);
	pte = pte_offset_map_lock(mm, vmf->pmd, vmf->address, &ptl);
	if (!pte)
		goto lost;
	cur = ptep_get(pte);
	if (pte_val(cur) != pte_val(vmf->orig_pte)) {
		pte_unmap_unlock(pte, ptl);
		goto lost;
	}
	entry = pte_mkyoung(mk_pte(&new->page, vma->vm_page_prot));
	if (unshare) {
		/* Keep the old write-protection and soft-dirty state. */
		entry = pte_wrprotect(entry);
		if (pte_soft_dirty(cur))
			pte_val(entry) |= _PAGE_SOFT_DIRTY;
	} else {
		entry = maybe_mkwrite(pte_mkdirty(entry), vma);
	}
	cur = ptep_get_and_clear(pte);
	folio_add_new_anon_rmap(new, vma, vmf->address, true);
	if (old) {
		if (!folio_test_anon(old)) {
			add_mm_counter(mm, mm_counter_of(old), -1);
			add_mm_counter(mm, MM_ANONPAGES, 1);
		}
		folio_remove_rmap_pte(old, old_page, vma);
	} else {
		add_mm_counter(mm, MM_ANONPAGES, 1);
	}
	set_pte(pte, entry);
	pte_unmap_unlock(pte, ptl);
	mmu_notifier_invalidate_range_end(&range);
	if (old) {
		folio_put(old);		/* the old mapping's reference */
		folio_put(old);		/* ours */
	}
	count_vm_event(m, unshare ? UNSHARE_FAULT : COW_FAULT);
	return 0;
lost:
	mmu_notifier_invalidate_range_end(&range);
	folio_put(new);
	if (old)
		folio_put(old);
	return 0;
oom:
	if (old)
		folio_put(old);
	return VM_FAULT_OOM;
}

/* Shared mapping write to a write-protected PTE (write-notify). */
/* The COW copy (or unshare) of a write fault, as a "wp_page_copy" span. */
static vm_fault_t wp_page_copy(struct vm_fault *vmf, struct page *old_page)
{
	struct pinmm *m = vmf->vma->vm_mm->machine;
	struct trace_span sp;
	vm_fault_t ret;

	trace_span_begin(&sp);
	ret = __wp_page_copy(vmf, old_page);
	TRACE_SPAN_END(m, &sp, TRACE_CAT_FAULT, "wp_page_copy",
		       { "address", (int64_t)vmf->address },
		       { "unshare", !!(vmf->flags & FAULT_FLAG_UNSHARE) }, { "ret", ret });
	return ret;
}

static vm_fault_t wp_page_shared(struct vm_fault *vmf, struct page *page)
{
	struct vm_area_struct *vma = vmf->vma;
	struct folio *folio = page ? page_folio(page) : NULL;
	vm_fault_t ret;

	if (!folio) {
		wp_page_reuse(vmf);
		pte_unmap_unlock(vmf->pte, vmf->ptl);
		return 0;
	}
	folio_get(folio);
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	if (vma->vm_ops && vma->vm_ops->page_mkwrite) {
		ret = do_page_mkwrite(vmf, folio);
		if (ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE)) {
			folio_put(folio);
			return ret & ~VM_FAULT_NOPAGE;
		}
	} else {
		folio_lock(folio);
	}
	vmf->pte = pte_offset_map_lock(vma->vm_mm, vmf->pmd, vmf->address, &vmf->ptl);
	if (vmf->pte) {
		if (pte_val(ptep_get(vmf->pte)) == pte_val(vmf->orig_pte))
			wp_page_reuse(vmf);
		pte_unmap_unlock(vmf->pte, vmf->ptl);
	}
	folio_mark_dirty(folio);
	folio_unlock(folio);
	folio_put(folio);
	return 0;
}

/*
 * Linux 6.14+ __wp_can_reuse_large_anon_folio(): a PTE-mapped large anon
 * folio that only this mm maps, with no reference but its mappings (no
 * GUP reference, no pin, not in the swap cache), is reused by a write
 * fault instead of copied.  Linux knows which mms map a large folio
 * (folio->_mm_id, "maybe mapped shared"); pinmm counts the folio's pages
 * this PTE table maps, under its lock: when they are all of the folio's
 * mappings, no other mm (and no other range of this one) maps it.  Found
 * by pinmm fuzz --diff (a THP shared at fork, the child gone).
 */
static bool wp_can_reuse_large_anon_folio(struct vm_fault *vmf, struct folio *folio)
{
	int mapcount = folio_mapcount(folio), n = 0;
	unsigned long pfn = folio_pfn(folio), nr = folio_nr_pages(folio);
	pte_t *table = vmf->pte - pte_index(vmf->address);

	if (mapcount <= 1 || folio_entire_mapcount(folio) || folio_test_SwapCache(folio) ||
	    folio_ref_count(folio) != mapcount)
		return false;
	for (int i = 0; i < PTRS_PER_PTE; i++) {
		pte_t e = ptep_get(&table[i]);

		if (pte_present(e) && pte_pfn(e) - pfn < nr)
			n++;
	}
	return n == mapcount && folio_ref_count_acquire(folio) == mapcount;
}

/**
 * do_wp_page() - write (or unshare) fault on a present, read-only PTE.
 * Context: PTE lock held on entry; released on return.
 * Return: 0, or VM_FAULT_OOM when a copy cannot be allocated.
 */
vm_fault_t do_wp_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct pinmm *m = vma->vm_mm->machine;
	bool unshare = vmf->flags & FAULT_FLAG_UNSHARE;
	struct page *page = vm_normal_page(vma, vmf->address, vmf->orig_pte);
	struct folio *folio;

	if (vma->vm_flags & (VM_SHARED | VM_MAYSHARE)) {
		if (unshare) {		/* nothing to unshare in a shared mapping */
			pte_unmap_unlock(vmf->pte, vmf->ptl);
			return 0;
		}
		return wp_page_shared(vmf, page);
	}
	if (page && PageAnon(page)) {
		folio = page_folio(page);
		/* A KSM page is shared by content: always copied (Linux). */
		if (folio_test_ksm(folio)) {
			count_vm_event(m, COW_KSM);
			return wp_page_copy(vmf, page);
		}
		if (PageAnonExclusive(page))
			goto reuse;
		/* wp_can_reuse_anon_folio(): the swap cache's reference may go. */
		if (folio_test_SwapCache(folio) && !folio_test_large(folio) &&
		    folio_ref_count(folio) <= 2 && folio_trylock(folio)) {
			folio_free_swap(folio);
			folio_unlock(folio);
		}
		/*
		 * Reuse a small folio nobody else references: our mapping holds
		 * the only reference (no other mapping, no GUP reference, no pin).
		 * legacy.cow_mapcount: before Linux 5.8 the mapcount alone
		 * decided, blind to a GUP reference (CVE-2020-29374).
		 */
		if (!folio_test_large(folio) &&
		    (m->cfg.legacy_cow_mapcount || folio_ref_count_acquire(folio) == 1) &&
		    folio_mapcount(folio) == 1) {
			SetPageAnonExclusive(page);
			goto reuse;
		}
		if (folio_test_large(folio) && !m->cfg.legacy_cow_mapcount &&
		    wp_can_reuse_large_anon_folio(vmf, folio)) {
			SetPageAnonExclusive(page);
			goto reuse;
		}
	} else if (unshare && !is_cow_mapping(vma->vm_flags)) {
		pte_unmap_unlock(vmf->pte, vmf->ptl);
		return 0;
	}
	return wp_page_copy(vmf, page);

reuse:
	if (!unshare) {
		wp_page_reuse(vmf);
		count_vm_event(m, COW_REUSE);
	}
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	return 0;
}

static vm_fault_t handle_pte_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	pte_t entry;

	if (pmd_none(pmdp_get(vmf->pmd))) {
		if (vma_is_anonymous(vma))
			return do_anonymous_page(vmf);
		return do_fault(vmf);
	}
	vmf->pte = pte_offset_map_lock(mm, vmf->pmd, vmf->address, &vmf->ptl);
	if (!vmf->pte)
		return 0;		/* PMD changed under us: retry */
	entry = ptep_get(vmf->pte);
	vmf->orig_pte = entry;
	if (pte_none(entry)) {
		pte_unmap_unlock(vmf->pte, vmf->ptl);
		if (vma_is_anonymous(vma))
			return do_anonymous_page(vmf);
		return do_fault(vmf);
	}
	if (!pte_present(entry)) {
		pte_unmap_unlock(vmf->pte, vmf->ptl);
		if (is_migration_entry(entry))
			migration_entry_wait(mm, vmf->pmd, vmf->address);
		else if (is_swapfile_entry(entry))
			return do_swap_page(vmf);
		return 0;
	}
	if (pte_protnone(entry)) {
		/* PROT_NONE VMA: callers check VMA access before faulting. */
		pte_unmap_unlock(vmf->pte, vmf->ptl);
		return VM_FAULT_SIGSEGV;
	}
	if (vmf->flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE)) {
		if (!pte_write(entry))
			return do_wp_page(vmf);
		if (vmf->flags & FAULT_FLAG_WRITE)
			entry = pte_mkdirty(entry);
	}
	entry = pte_mkyoung(entry);
	/* Only A/D bits change; a racing hardware update is harmless. */
	set_pte(vmf->pte, entry);
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	return 0;
}


static vm_fault_t __handle_mm_fault(struct vm_area_struct *vma, unsigned long address,
				    unsigned int flags)
{
	struct mm_struct *mm = vma->vm_mm;
	struct vm_fault vmf = {
		.vma = vma,
		.address = address & PAGE_MASK,
		.real_address = address,
		.flags = flags,
		.pgoff = linear_page_index(vma, address & PAGE_MASK),
	};
	pmd_t pmdval;
	vm_fault_t ret;

	mmap_assert_locked(mm);
	VM_BUG_ON((flags & FAULT_FLAG_WRITE) && (flags & FAULT_FLAG_UNSHARE));
	if (is_vm_hugetlb_page(vma))
		return hugetlb_fault(mm, vma, address, flags);
	count_vm_event(mm->machine, PGFAULT);

	vmf.pmd = pmd_alloc(mm, address);
	if (!vmf.pmd)
		return VM_FAULT_OOM;
	pmdval = pmdp_get(vmf.pmd);
	if (pmd_none(pmdval) && vma_is_anonymous(vma) &&
	    vma_thp_allowed(vma, address & PMD_MASK)) {
		ret = do_huge_pmd_anonymous_page(&vmf);
		if (!(ret & VM_FAULT_FALLBACK))
			return ret;
	} else if (pmd_leaf(pmdval)) {
		vmf.orig_pmd = pmdval;
		if ((flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE)) && !pmd_write(pmdval)) {
			ret = do_huge_pmd_wp_page(&vmf);
			if (!(ret & VM_FAULT_FALLBACK))
				return ret;
		} else {
			spinlock_t *ptl = pmd_lock(mm, vmf.pmd);
			pmd_t cur = pmdp_get(vmf.pmd);

			if (pmd_val(cur) == pmd_val(pmdval)) {
				cur = pmd_mkyoung(cur);
				if (flags & FAULT_FLAG_WRITE)
					cur = pmd_mkdirty(cur);
				set_pmd(vmf.pmd, cur);
			}
			spin_unlock(ptl);
			return 0;
		}
	}
	return handle_pte_fault(&vmf);
}

/**
 * handle_mm_fault() - resolve a fault at @address in @vma.
 * @flags: FAULT_FLAG_*.  With FAULT_FLAG_ALLOW_RETRY a file fault that has
 *	to wait for storage may release mmap_lock for the wait (not with
 *	FAULT_FLAG_TRIED or FAULT_FLAG_RETRY_NOWAIT: filemap_fault()).
 * Context: mmap_lock held for reading.  Released on return when the
 * result has VM_FAULT_RETRY and @flags lack FAULT_FLAG_RETRY_NOWAIT: then
 * @vma may be gone, and the caller retakes the lock, looks the VMA up
 * again and faults again with FAULT_FLAG_TRIED.
 * Return: 0 (the access may be retried), VM_FAULT_RETRY, or VM_FAULT_*
 * error bits.
 */
vm_fault_t handle_mm_fault(struct vm_area_struct *vma, unsigned long address,
			   unsigned int flags)
{
	struct pinmm *m = vma->vm_mm->machine;	/* @vma may go with a dropped lock */
	struct trace_span sp;
	vm_fault_t ret;

	trace_span_begin(&sp);
	ret = __handle_mm_fault(vma, address, flags);
	TRACE_SPAN_END(m, &sp, TRACE_CAT_FAULT, "handle_mm_fault",
		       { "address", (int64_t)address }, { "flags", flags }, { "ret", ret });
	return ret;
}

/* ------------------------------------------------------------------ */
/* Tearing down                                                         */


static void zap_pte_range(struct vm_area_struct *vma, pmd_t *pmd, unsigned long addr,
			  unsigned long end, struct zap_details *details)
{
	struct mm_struct *mm = vma->vm_mm;
	struct pinmm *m = mm->machine;
	spinlock_t *ptl;
	pte_t *pte = pte_offset_map_lock(mm, pmd, addr, &ptl);

	if (!pte)
		return;
	for (; addr < end; addr += PAGE_SIZE, pte++) {
		pte_t e = ptep_get(pte);
		struct folio *folio;
		struct page *page;

		if (pte_none(e))
			continue;
		if (!pte_present(e)) {
			/* Swap entries are private anon pages, kept like them. */
			if (is_swapfile_entry(e)) {
				if (!details || details->even_cows) {
					pte_clear(pte);
					free_swap_and_cache(m, e);
				}
				continue;
			}
			/* Migration entry: the migrating folio has no mapping here. */
			if (!details || details->even_cows || !vma_is_anonymous(vma))
				pte_clear(pte);
			continue;
		}
		page = vm_normal_page(vma, addr, e);
		if (page && details && !details->even_cows && PageAnon(page))
			continue;	/* truncation keeps private COW copies */
		e = ptep_get_and_clear(pte);
		if (!page)
			continue;
		folio = page_folio(page);
		if (!folio_test_anon(folio) && pte_dirty(e))
			folio_mark_dirty(folio);
		folio_remove_rmap_pte(folio, page, vma);
		add_mm_counter(mm, mm_counter_of(folio), -1);
		if (folio_maybe_dma_pinned(folio))
			count_vm_event(m, PINNED_PAGE_DETACHED);
		folio_put(folio);
	}
	pte_unmap_unlock(pte, ptl);
}

/*
 * Linux 6.18's try_to_free_pte() (mm/pt_reclaim.c, CONFIG_PT_RECLAIM):
 * MADV_DONTNEED over a whole PMD range frees the PTE table it left empty,
 * so that the next fault there may map a THP.  The PMD lock, then the PTE
 * lock (nested, as fork's second table lock) to see the table still empty;
 * lockless walkers recheck the PMD (pte_offset_map_lock()) and GUP-fast
 * is covered by the RCU-deferred free.
 */
static void try_to_free_pte(struct mm_struct *mm, pmd_t *pmd, unsigned long addr)
{
	spinlock_t *pml = pmd_lock(mm, pmd), *ptl;
	pmd_t pmdval = pmdp_get(pmd);
	pte_t *pte;

	if (!pmd_present(pmdval) || pmd_leaf(pmdval) || pmd_protnone(pmdval)) {
		spin_unlock(pml);
		return;
	}
	ptl = pte_lockptr(mm, pmdval);
	spin_lock_nested(ptl, SINGLE_DEPTH_NESTING);
	pte = pte_offset(mm, pmdval, addr & PMD_MASK);
	for (int i = 0; i < PTRS_PER_PTE; i++) {
		if (!pte_none(ptep_get(&pte[i]))) {
			spin_unlock(ptl);
			spin_unlock(pml);
			return;
		}
	}
	pmd_clear(pmd);
	spin_unlock(ptl);
	spin_unlock(pml);
	pte_free_rcu(mm, pfn_to_page_m(mm->machine, pmd_pfn(pmdval)));
}

/**
 * zap_page_range_single() - unmap [start, end) of @vma.
 * Context: mmap_lock held, or the VMA kept alive by the i_mmap lock
 * (unmap_mapping_range).
 */
void zap_page_range_single(struct vm_area_struct *vma, unsigned long start,
			   unsigned long end, struct zap_details *details)
{
	struct mm_struct *mm = vma->vm_mm;

	start = max(start, vma->vm_start);
	end = min(end, vma->vm_end);
	if (is_vm_hugetlb_page(vma)) {
		unmap_hugepage_range(vma, start, end, details);
		return;
	}
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
			if (a == (a & PMD_MASK) && next - a == PMD_SIZE) {
				struct page *p = vm_normal_page_pmd(vma, a, pmdval);
				if (p && details && !details->even_cows && PageAnon(p))
					continue;
				if (zap_huge_pmd(vma, pmd, a))
					continue;
				/* Split by an rmap walker meanwhile: zap the PTEs. */
			} else {
				__split_huge_pmd(vma, pmd, a);
			}
		}
		zap_pte_range(vma, pmd, a, next, details);
		if (details && details->reclaim_pt && next - a == PMD_SIZE)
			try_to_free_pte(mm, pmd, a);
	}
}

/**
 * unmap_vmas() - zap [start, end) in @vma and the VMAs after it.
 * Context: mmap_lock held for writing.
 */
void unmap_vmas(struct vm_area_struct *vma, unsigned long start, unsigned long end)
{
	for (; vma && vma->vm_start < end; vma = vma_next(vma))
		zap_page_range_single(vma, start, end, NULL);
}

/**
 * unmap_mapping_range() - unmap file pages [start, start+len) (bytes) from
 * every VMA mapping @mapping (truncate, hole punch, invalidation).
 * @even_cows: also unmap private COW copies (anonymous pages).
 * Notifier subscriptions get MMU_NOTIFY_CLEAR for each VMA range zapped.
 * Context: may sleep; takes i_mmap_rwsem for reading and page-table locks.
 */
void unmap_mapping_range(struct address_space *mapping, long long start,
			 long long len, bool even_cows)
{
	pgoff_t first = (pgoff_t)(start >> PAGE_SHIFT);
	pgoff_t last = len <= 0 ? ~0UL : (pgoff_t)((start + len - 1) >> PAGE_SHIFT);
	struct zap_details details = { .even_cows = even_cows };
	struct mmu_notifier_range range;
	struct vm_area_struct *vma;

	down_read(&mapping->i_mmap_rwsem);
	list_for_each_entry(vma, &mapping->i_mmap, shared_node) {
		pgoff_t vfirst = vma->vm_pgoff, vlast = vma->vm_pgoff + vma_pages(vma) - 1;
		unsigned long s, e;

		if (first > vlast || last < vfirst)
			continue;
		s = vma->vm_start + ((max(first, vfirst) - vfirst) << PAGE_SHIFT);
		e = vma->vm_start + ((min(last, vlast) - vfirst + 1) << PAGE_SHIFT);
		mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, vma->vm_mm, s, e);
		mmu_notifier_invalidate_range_start(&range);
		zap_page_range_single(vma, s, e, &details);
		mmu_notifier_invalidate_range_end(&range);
	}
	up_read(&mapping->i_mmap_rwsem);
}

/* Is @addr mapped with at least the access asked for? */
static bool range_page_ready(struct mm_struct *mm, unsigned long addr, bool write)
{
	pmd_t *pmd = pmd_offset_lookup(mm, addr);
	pmd_t pmdval;
	pte_t pte;

	if (!pmd)
		return false;
	pmdval = pmdp_get(pmd);
	if (pmd_leaf(pmdval))
		return !write || pmd_write(pmdval);
	if (!pmd_present(pmdval))
		return false;
	pte = ptep_get(pte_offset(mm, pmdval, addr));
	return pte_present(pte) && !pte_protnone(pte) && (!write || pte_write(pte));
}

/**
 * populate_range() - fault in [start, end) of @vma (MAP_POPULATE, mlock,
 * MADV_POPULATE_*): write faults where @write, else read faults.
 * Context: mmap_lock held for reading.
 * Return: 0, -ENOMEM, -EFAULT (the fault raised SIGBUS/SIGSEGV).
 */
long populate_range(struct vm_area_struct *vma, unsigned long start,
		    unsigned long end, bool write, bool for_madvise)
{
	struct mm_struct *mm = vma->vm_mm;

	for (unsigned long a = start; a < end; a += PAGE_SIZE) {
		vm_fault_t ret;

		if (is_vm_hugetlb_page(vma) ? hugetlb_page_ready(vma, a, write) :
		    range_page_ready(mm, a, write))
			continue;
		ret = handle_mm_fault(vma, a, write ? FAULT_FLAG_WRITE : 0);
		if (ret & VM_FAULT_OOM)
			return -ENOMEM;
		if (ret & VM_FAULT_ERROR)
			return -EFAULT;
		if (!(is_vm_hugetlb_page(vma) ? hugetlb_page_ready(vma, a, write) :
		      range_page_ready(mm, a, write)))
			a -= PAGE_SIZE;		/* raced: fault again */
	}
	return 0;
}
