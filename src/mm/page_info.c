/* SPDX-License-Identifier: MIT */
/*
 * page_info.c - pinmm_page_info(): what a user can observe about the page
 * mapped at an address (in the spirit of /proc/PID/pagemap and kpageflags).
 */
#include <errno.h>
#include <string.h>
#include "mm.h"
#include "hugetlb.h"
#include "rcu.h"
#include "swap.h"

static void fill_page(struct pinmm *m, struct page *page, struct pinmm_page_info *out)
{
	struct folio *folio = page_folio(page);

	out->pfn = page_to_pfn_m(m, page);
	out->zero_page = is_zero_folio(folio);
	out->anon = folio_test_anon(folio);
	out->anon_exclusive = out->anon && PageAnonExclusive(page);
	out->shmem = !out->anon && folio_test_SwapBacked(folio);
	out->ksm = folio_test_ksm(folio);
	out->dirty = folio_test_Dirty(folio);
	out->writeback = folio_test_Writeback(folio);
	out->lru = folio_test_LRU(folio);
	out->maybe_dma_pinned = !out->zero_page && folio_maybe_dma_pinned(folio);
	out->refcount = folio_ref_count(folio);
	out->pincount = folio_pincount_m(m, folio);
	out->mapcount = out->zero_page ? 0 : page_mapcount(page);
	out->folio_order = (int)folio_order(folio);
	out->zone = zone_name(pfn_zone_idx(m, out->pfn));
	out->hugetlb = folio_test_Hugetlb(folio);
}

/* A hugetlb VMA: one PMD or PUD leaf per huge page. */
static void hugetlb_page_info(struct vm_area_struct *vma, unsigned long addr,
			      struct pinmm_page_info *out)
{
	struct mm_struct *mm = vma->vm_mm;
	struct hstate *h = hstate_vma(vma);
	pte_t *ptep = huge_pte_offset(mm, addr, huge_page_size(h));
	spinlock_t *ptl;
	pte_t e;

	if (!ptep)
		return;
	ptl = huge_pte_lockptr(h, mm, ptep);
	spin_lock(ptl);
	e = ptep_get(ptep);
	if (pte_present(e)) {
		struct page *page = pfn_to_page_m(mm->machine, pte_pfn(e) +
						  ((addr & ~huge_page_mask(h)) >> PAGE_SHIFT));

		out->present = true;	/* as pagemap: a PROT_NONE PTE is present */
		out->writable = pte_write(e);
		out->huge_mapped = true;
		out->soft_dirty = pte_soft_dirty(e);
		fill_page(mm->machine, page, out);
		out->dirty |= pte_dirty(e);
		if (out->anon)	/* exclusivity is the head's */
			out->anon_exclusive = PageAnonExclusive(&page_folio(page)->page);
	}
	spin_unlock(ptl);
}

/**
 * pinmm_page_info() - the state of the page mapped at @addr in @p.
 * Context: process context; takes mmap_lock for reading and the page's
 * table lock.
 * Return: 0 (present is false for an unpopulated address inside a VMA),
 * -EFAULT when no VMA covers @addr, -EINVAL for NULL arguments, -ESRCH.
 */
int pinmm_page_info(struct pinmm_proc *p, unsigned long addr, struct pinmm_page_info *out)
{
	struct mm_struct *mm;
	struct pinmm *m;
	struct vm_area_struct *vma;
	spinlock_t *ptl;
	pmd_t *pmd, pmdval;
	int ret = 0;

	pinmm_thread_enter();
	if (!p || !out)
		return -EINVAL;
	if (READ_ONCE(p->exited))
		return -ESRCH;
	memset(out, 0, sizeof(*out));
	out->zone = "";
	if (addr >= TASK_SIZE)
		return -EFAULT;
	mm = get_proc_mm(p);	/* held for the call: exit cannot free it */
	if (!mm)
		return -ESRCH;
	m = mm->machine;
	mmap_read_lock(mm);
	vma = vma_lookup(mm, addr);
	if (!vma) {
		ret = -EFAULT;
		goto out;
	}
	if (is_vm_hugetlb_page(vma)) {
		hugetlb_page_info(vma, addr, out);
		goto out;
	}
	pmd = pmd_offset_lookup(mm, addr);
	if (!pmd)
		goto out;
	pmdval = pmdp_get(pmd);
	if (pmd_leaf(pmdval)) {
		ptl = pmd_lock(mm, pmd);
		pmdval = pmdp_get(pmd);
		if (pmd_leaf(pmdval)) {
			struct page *page = pfn_to_page_m(m, pmd_pfn(pmdval) + pte_index(addr));

			out->present = true;	/* as pagemap: a PROT_NONE PMD is present */
			out->writable = pmd_write(pmdval);
			out->huge_mapped = true;
			out->soft_dirty = pmd_soft_dirty(pmdval);
			fill_page(m, page, out);
			out->dirty |= pmd_dirty(pmdval);
			if (out->anon)	/* PMD mapping: exclusivity is the head's */
				out->anon_exclusive = PageAnonExclusive(&page_folio(page)->page);
			spin_unlock(ptl);
			goto out;
		}
		spin_unlock(ptl);
	}
	{
		pte_t *pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
		pte_t e;

		if (!pte)
			goto out;
		e = ptep_get(pte);
		if (pte_present(e)) {
			out->present = true;	/* as pagemap: a PROT_NONE PTE is present */
			out->writable = pte_write(e);
			out->soft_dirty = pte_soft_dirty(e);
			fill_page(m, pfn_to_page_m(m, pte_pfn(e)), out);
			out->dirty |= pte_dirty(e);
		} else if (is_swapfile_entry(e)) {
			/* The entry's exclusive bit: PageAnonExclusive at swap-in. */
			out->swapped = true;
			out->anon = true;
			out->anon_exclusive = pte_swp_exclusive(e);
			out->soft_dirty = pte_swp_soft_dirty(e);
		}
		pte_unmap_unlock(pte, ptl);
	}
out:
	/* pagemap: every page of a VMA not yet tracked reads soft-dirty. */
	if (vma && (vma->vm_flags & VM_SOFTDIRTY))
		out->soft_dirty = true;
	mmap_read_unlock(mm);
	mmput(mm);
	return ret;
}
