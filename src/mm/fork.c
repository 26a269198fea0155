/* SPDX-License-Identifier: MIT */
/*
 * fork.c - duplicating an address space: dup_mm() and copy_page_range().
 *
 * Private (COW) memory is shared write-protected between parent and child;
 * the first write on either side copies (memory.c).  The exception is the
 * reason pinning exists: an exclusive anonymous page that may be pinned is
 * copied for the child at once, and the parent keeps its writable mapping,
 * so that DMA through the pin and the parent's later writes stay coherent
 * (§6.1).  MAP_SHARED memory is really shared (the child re-faults it from
 * the page cache), and VM_DONTCOPY VMAs are left out.
 *
 * The copy of COW mappings runs inside the source mm's write_protect_seq
 * write section, so that a concurrent GUP-fast FOLL_PIN notices and backs
 * off (§3.2).
 */
#include <errno.h>
#include <string.h>
#include "trace.h"
#include "mm.h"
#include "fs.h"
#include "hugetlb.h"
#include "swap.h"


/*
 * Copy one present PTE.  Returns 0, or -EAGAIN with *@prealloc needed: the
 * page must be copied and no preallocated page was at hand.
 */
static int copy_present_pte(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma,
			    pte_t *dst_pte, pte_t *src_pte, unsigned long addr,
			    struct folio **prealloc)
{
	struct mm_struct *src_mm = src_vma->vm_mm, *dst_mm = dst_vma->vm_mm;
	struct pinmm *m = src_mm->machine;
	pte_t pte = ptep_get(src_pte);
	struct page *page = vm_normal_page(src_vma, addr, pte);
	struct folio *folio;

	if (!page) {		/* zero page and friends */
		set_pte(dst_pte, pte);
		return 0;
	}
	folio = page_folio(page);
	if (folio_test_anon(folio)) {
		folio_get(folio);
		/* (c) W2: a maybe-pinned exclusive page is copied, not shared. */
		if (folio_try_dup_anon_rmap_pte(folio, page, src_vma)) {
			struct folio *new = *prealloc;

			folio_put(folio);
			if (!new)
				return -EAGAIN;
			/* Maybe pinned: the child gets its own copy now. */
			*prealloc = NULL;
			memcpy(folio_address(new), page_address(page), PAGE_SIZE);
			folio_add_new_anon_rmap(new, dst_vma, addr, true);
			add_mm_counter(dst_mm, MM_ANONPAGES, 1);
			pte = pfn_pte(folio_pfn(new), dst_vma->vm_page_prot);
			if (dst_vma->vm_flags & VM_WRITE)
				pte = pte_mkdirty(pte_mkwrite(pte));
			set_pte(dst_pte, pte);
			count_vm_event(m, FORK_COW_COPY);
			return 0;
		}
		add_mm_counter(dst_mm, MM_ANONPAGES, 1);
		count_vm_event(m, FORK_COW_SHARE);
	} else {
		folio_get(folio);
		folio_add_file_rmap_pte(folio, page, dst_vma);
		add_mm_counter(dst_mm, folio_test_SwapBacked(folio) ? MM_SHMEMPAGES : MM_FILEPAGES, 1);
	}
	if (is_cow_mapping(src_vma->vm_flags) && pte_write(pte)) {
		ptep_set_wrprotect(src_pte);
		pte = pte_wrprotect(ptep_get(src_pte));
	}
	set_pte(dst_pte, pte_mkold(pte));
	return 0;
}

static int copy_pte_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma,
			  pmd_t *dst_pmd, pmd_t *src_pmd, unsigned long addr,
			  unsigned long end)
{
	struct mm_struct *dst_mm = dst_vma->vm_mm, *src_mm = src_vma->vm_mm;
	struct pinmm *m = src_mm->machine;
	struct folio *prealloc = NULL;
	int ret = 0;

again:
	if (__pte_alloc(dst_mm, dst_pmd)) {
		ret = -ENOMEM;
		goto out;
	}
	{
		spinlock_t *dst_ptl, *src_ptl;
		pte_t *dst_pte = pte_offset_map_lock(dst_mm, dst_pmd, addr, &dst_ptl);
		pte_t *src_pte;

		if (!dst_pte) {
			ret = -ENOMEM;
			goto out;
		}
		src_pte = pte_offset_map_lock_nested(src_mm, src_pmd, addr, &src_ptl,
						     SINGLE_DEPTH_NESTING);	/* parent's under child's */
		if (!src_pte) {
			pte_unmap_unlock(dst_pte, dst_ptl);
			goto out;
		}
		for (; addr < end; addr += PAGE_SIZE, src_pte++, dst_pte++) {
			pte_t pte = ptep_get(src_pte);

			if (pte_none(pte))
				continue;
			if (is_swapfile_entry(pte)) {
				/*
				 * copy_nonpresent_pte(): one more entry for the
				 * slot; neither side may come back exclusive.
				 */
				if (swap_duplicate(m, pte))
					continue;
				if (pte_swp_exclusive(pte)) {
					pte = pte_swp_clear_exclusive(pte);
					set_pte(src_pte, pte);
				}
				set_pte(dst_pte, pte);
				continue;
			}
			if (!pte_present(pte)) {
				/*
				 * Migration entry: both sides wait for the same folio.
				 * In a COW mapping the page is shared from now on, so a
				 * writable or exclusive entry becomes a plain read entry
				 * in both (else both would come back AnonExclusive and
				 * the child's write would reuse the parent's page).
				 */
				if (is_migration_entry(pte) && swp_type(pte) != SWP_MIGRATION_READ &&
				    is_cow_mapping(src_vma->vm_flags)) {
					pte = swp_entry_to_pte(SWP_MIGRATION_READ, swp_offset(pte));
					set_pte(src_pte, pte);
				}
				set_pte(dst_pte, pte);
				continue;
			}
			if (copy_present_pte(dst_vma, src_vma, dst_pte, src_pte, addr, &prealloc)) {
				pte_unmap_unlock(src_pte, src_ptl);
				pte_unmap_unlock(dst_pte, dst_ptl);
				prealloc = folio_alloc(m, GFP_HIGHUSER_MOVABLE, 0);
				if (!prealloc) {
					ret = -ENOMEM;
					goto out;
				}
				goto again;
			}
		}
		pte_unmap_unlock(src_pte, src_ptl);
		pte_unmap_unlock(dst_pte, dst_ptl);
	}
out:
	if (prealloc)
		folio_put(prealloc);
	return ret;
}

static int copy_pmd_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma,
			  unsigned long addr, unsigned long end)
{
	struct mm_struct *dst_mm = dst_vma->vm_mm, *src_mm = src_vma->vm_mm;

	for (unsigned long next; addr < end; addr = next) {
		pmd_t *src_pmd, *dst_pmd;
		pmd_t pmd;
		int err;

		next = pmd_addr_end(addr, end);
		src_pmd = pmd_lookup_next(src_mm, addr, end, &next);

		if (!src_pmd)
			continue;
		pmd = pmdp_get(src_pmd);
		if (pmd_none(pmd))
			continue;
		dst_pmd = pmd_alloc(dst_mm, addr);
		if (!dst_pmd)
			return -ENOMEM;
		if (pmd_leaf(pmd)) {
			VM_BUG_ON(next - addr != PMD_SIZE);
			err = copy_huge_pmd(dst_vma, src_vma, dst_pmd, src_pmd, addr);
			if (err == -ENOMEM)
				return err;
			if (!err)
				continue;
			/* -EAGAIN: split (maybe pinned); copy the PTEs. */
		}
		err = copy_pte_range(dst_vma, src_vma, dst_pmd, src_pmd, addr, next);
		if (err)
			return err;
	}
	return 0;
}

/**
 * copy_page_range() - copy @src_vma's page tables into @dst_vma's mm.
 * Context: source mmap_lock held for writing, destination mm private.
 * Return: 0 or -ENOMEM.
 */
int copy_page_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma)
{
	struct mm_struct *src_mm = src_vma->vm_mm;
	bool is_cow = is_cow_mapping(src_vma->vm_flags);
	struct mmu_notifier_range range;
	struct trace_span sp;
	int ret;

	/* Shared file/shmem mappings re-fault in the child from the cache. */
	if (!(src_vma->vm_flags & (VM_PFNMAP | VM_MIXEDMAP)) && !src_vma->anon_vma)
		return 0;
	/*
	 * COW write-protects the parent's PTEs: subscriptions of the parent
	 * re-inspect them (Linux: MMU_NOTIFY_PROTECTION_PAGE over the VMA,
	 * before the write_protect_seq section).
	 */
	if (is_cow) {
		mmu_notifier_range_init(&range, MMU_NOTIFY_PROTECTION_PAGE, 0, src_mm,
					src_vma->vm_start, src_vma->vm_end);
		mmu_notifier_invalidate_range_start(&range);
		raw_write_seqcount_begin(&src_mm->write_protect_seq);	/* (c) W1 */
	}
	trace_span_begin(&sp);
	if (is_vm_hugetlb_page(src_vma))
		ret = copy_hugetlb_page_range(dst_vma, src_vma);
	else
		ret = copy_pmd_range(dst_vma, src_vma, src_vma->vm_start, src_vma->vm_end);
	TRACE_SPAN_END(src_mm->machine, &sp, TRACE_CAT_FORK, "copy_page_range",
		       { "start", (int64_t)src_vma->vm_start }, { "end", (int64_t)src_vma->vm_end },
		       { "cow", is_cow }, { "ret", ret });
	if (is_cow) {
		raw_write_seqcount_end(&src_mm->write_protect_seq);	/* (c) W3 */
		mmu_notifier_invalidate_range_end(&range);
	}
	return ret;
}

/**
 * dup_mm() - the child's copy of @oldmm.
 * Context: may sleep; takes @oldmm's mmap_lock for writing.
 * Return: the new mm, or NULL with *@err set (-ENOMEM).
 */
struct mm_struct *dup_mm(struct mm_struct *oldmm, int *err)
{
	struct mm_struct *mm = mm_alloc(oldmm->machine);
	struct vm_area_struct *vma;
	unsigned long fork_id = 0;
	int ret = 0;

	if (!mm) {
		*err = -ENOMEM;
		return NULL;
	}
	mmap_write_lock(oldmm);
	mmap_write_lock_nested(mm, SINGLE_DEPTH_NESTING);	/* private to us: no deadlock */
	/* The child inherits MMF_HAS_PINNED? Linux does not: a fresh mm has no pins. */
	mm->mmap_base = oldmm->mmap_base;
	khugepaged_fork(mm, oldmm);
	list_for_each_entry(vma, &oldmm->mmap_list, vm_list) {
		struct vm_area_struct *new;

		if (vma->vm_flags & VM_DONTCOPY)
			continue;
		new = vm_area_dup(vma);
		if (!new) {
			ret = -ENOMEM;
			break;
		}
		new->vm_mm = mm;
		if (new->anon_vma) {
			get_anon_vma(new->anon_vma);
			/* Linux's anon_vma_fork(): a new anon_vma per child VMA */
			new->anon_vma_fork_id = ++fork_id;
		}
		if (new->vm_file)
			get_file(new->vm_file);
		if (is_vm_hugetlb_page(new))
			hugetlb_dup_vma_private(new);	/* the child owns no reserve */
		if (new->vm_ops && new->vm_ops->open)
			new->vm_ops->open(new);
		vma_link(mm, new);
		mm->total_vm += vma_pages(new);
		ret = copy_page_range(new, vma);
		if (ret)
			break;
	}
	mmap_write_unlock(mm);
	mmap_write_unlock(oldmm);
	if (ret) {
		mmput(mm);
		*err = ret;
		return NULL;
	}
	return mm;
}
