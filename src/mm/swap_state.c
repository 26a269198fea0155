/* SPDX-License-Identifier: MIT */
/*
 * swap_state.c - swap-in: do_swap_page(), the fault on a swap entry.
 *
 * Linux 6.x's rules, which keep pins reliable across swap:
 *  - the folio comes from the swap cache, or is read into a new folio that
 *    enters the swap cache (no SWP_SYNCHRONOUS_IO bypass in pinmm);
 *  - the page is mapped exclusive (PageAnonExclusive) when the entry had
 *    the exclusive bit (it was exclusive when swapped out, so no other
 *    process can map it) or when nobody but us holds the folio (refcount 1
 *    after the swap cache let go of it).  An exclusive page is mapped
 *    writable at once in a writable VMA unless soft-dirty tracking needs
 *    the write fault (pte_needs_soft_dirty_wp), and a later R/O pin of it
 *    does not unshare;
 *  - otherwise the page is mapped read-only and shared, and a write fault
 *    goes on into do_wp_page() (copy, or reuse if it can be made ours);
 *  - the soft-dirty bit of the entry carries over to the PTE.
 * After mapping, the entry's swap count is dropped and the folio leaves the
 * swap cache when no other entry references its slot (doc/DESIGN.md: pinmm
 * behaves as Linux does when swap is at least half full).
 */
#include <errno.h>
#include <sched.h>

#include "swap.h"

/*
 * The folio for slot @off, locked and with a reference: from the swap
 * cache, or read from the slot.  NULL with *@ret set: 0 to retry the fault
 * (the entry changed, or another thread is bringing the slot in), or
 * VM_FAULT_OOM.
 */
static struct folio *swapin_folio(struct pinmm *m, unsigned long off, vm_fault_t *ret)
{
	struct folio *folio = swap_cache_get_folio(m, off);
	int err;

	*ret = 0;
	if (folio) {
		folio_lock(folio);
		return folio;
	}
	err = swapcache_prepare(m, off);
	if (err) {
		if (err == -EEXIST)
			sched_yield();	/* cached or being read: look again */
		return NULL;
	}
	folio = folio_alloc(m, GFP_HIGHUSER_MOVABLE, 0);
	if (!folio) {
		swapcache_clear(m, off);
		*ret = VM_FAULT_OOM;
		return NULL;
	}
	folio_set_Locked(folio);	/* nobody can see it yet */
	swap_add_read_folio(folio, off);
	count_vm_event(m, PGMAJFAULT);
	return folio;
}

/**
 * do_swap_page() - fault on a swap entry (vmf->orig_pte).
 * Context: mmap_lock held for reading; no page-table lock held.  Takes the
 * folio lock and the PTE lock.
 * Return: 0 (mapped, or raced: the access is retried), VM_FAULT_OOM when
 * no folio can be allocated for the read, VM_FAULT_SIGBUS for an entry of
 * a device that does not exist.
 */
vm_fault_t do_swap_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	struct pinmm *m = mm->machine;
	pte_t entry = vmf->orig_pte, pte;
	unsigned long off = swp_offset(entry);
	bool exclusive;
	struct folio *folio;
	struct page *page;
	vm_fault_t ret;

	if (!swap_enabled(m) || swap_entry_count(m, off) < 0)
		return VM_FAULT_SIGBUS;
	if (anon_vma_prepare(vma))
		return VM_FAULT_OOM;
	folio = swapin_folio(m, off, &ret);
	if (!folio)
		return ret;
	/* Left the cache (the slot was freed) while we waited for the lock. */
	if (!folio_test_SwapCache(folio) || folio_swap_offset(folio) != off)
		goto out_unlock;
	vmf->pte = pte_offset_map_lock(mm, vmf->pmd, vmf->address, &vmf->ptl);
	if (!vmf->pte)
		goto out_unlock;
	if (pte_val(ptep_get(vmf->pte)) != pte_val(entry)) {
		pte_unmap_unlock(vmf->pte, vmf->ptl);
		goto out_unlock;
	}
	page = &folio->page;
	exclusive = pte_swp_exclusive(entry);
	swap_free(m, entry);
	folio_free_swap(folio);

	pte = pfn_pte(folio_pfn(folio), vma->vm_page_prot);
	if (pte_swp_soft_dirty(entry))
		pte_val(pte) |= _PAGE_SOFT_DIRTY;
	/* Certainly ours: the entry says so, or nobody else holds the folio. */
	if (exclusive || folio_ref_count(folio) == 1) {
		if ((vma->vm_flags & VM_WRITE) && !pte_needs_soft_dirty_wp(vma, pte)) {
			pte = pte_mkwrite(pte);
			if (vmf->flags & FAULT_FLAG_WRITE) {
				pte = pte_mkdirty(pte);
				vmf->flags &= ~FAULT_FLAG_WRITE;
			}
		}
		exclusive = true;
	}
	if (!folio_test_anon(folio))
		folio_add_new_anon_rmap(folio, vma, vmf->address, exclusive);
	else
		folio_add_anon_rmap_ptes(folio, page, 1, vma, vmf->address, exclusive);
	add_mm_counter(mm, MM_ANONPAGES, 1);
	set_pte(vmf->pte, pte);		/* our reference is the mapping's now */
	folio_unlock(folio);
	if (vmf->flags & FAULT_FLAG_WRITE) {
		/* Shared with another process: break COW now, PTE lock held. */
		vmf->orig_pte = pte;
		return do_wp_page(vmf);
	}
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	return 0;

out_unlock:
	folio_unlock(folio);
	folio_put(folio);
	return 0;
}
