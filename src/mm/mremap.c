/* SPDX-License-Identifier: MIT */
/*
 * mremap.c - pinmm_mremap(): shrinking, growing and moving a mapping with
 * Linux 6.x's flags (MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP), its
 * argument checks and its error codes.
 *
 * A move never copies data: it gives the range a new VMA at the new address
 * (same file, operations and anon_vma; the offset chosen so that every
 * page keeps its index, so the rmap still finds it), moves the page-table
 * entries across, then unmaps the old range.  The entries move at the
 * largest level the two addresses allow:
 *
 *   - a whole PMD-mapped THP (both addresses 2 MiB aligned over the
 *     extent): the PMD entry moves, with its deposited PTE table
 *     (move_huge_pmd(), huge_memory.c);
 *   - a whole PTE table (same alignment, a table under the PMD): the PMD
 *     entry moves and the table goes with it (move_normal_pmd());
 *   - otherwise PTE by PTE (move_ptes()), a PMD-mapped THP that only
 *     partly moves being split into PTEs first (the folio stays large).
 *
 * Pages are not touched: their references, pins, mapcounts,
 * PageAnonExclusive and the mm's RSS counters stay what they were, so a
 * page pinned before the move is the page mapped at the new address.
 *
 * Invariants and ordering:
 *  1. mmap_lock is held for writing throughout: no fault, GUP slow path or
 *     other VMA change runs in this mm meanwhile.
 *  2. Each extent moves under the rmap locks of the VMA (i_mmap_rwsem,
 *     then anon_vma->rwsem, for writing), so an rmap walker (migration,
 *     reclaim, split, folio_mkclean) sees every entry of the extent either
 *     at its old or at its new address, never in neither.  Linux takes
 *     them only when the walk order could miss an entry (need_rmap_locks);
 *     pinmm always does.
 *  3. Two table locks of the same mm nest only here, under (1), taken in
 *     address order (double_pt_lock()).
 *  4. Every entry is cleared (seq_cst exchange) before it is written at
 *     the new place (release store): a GUP-fast walker that read it at the
 *     old address sees the change at its re-check (MEMORY-ORDERING.md (b))
 *     and backs off; one that re-checked before the clear pinned a page
 *     that stays mapped, at the new address.
 *  5. Subscribed MMU notifiers get MMU_NOTIFY_UNMAP over the old range
 *     around the whole move, as Linux's move_page_tables() sends it.
 *  6. If page tables cannot be allocated half-way, the entries already
 *     moved are moved back and the new VMA is unmapped instead of the old:
 *     the call fails with -ENOMEM and the old mapping is as it was.
 */
#include <errno.h>
#include "mm.h"
#include "fs.h"
#include "rcu.h"

#ifndef MREMAP_MAYMOVE
#define MREMAP_MAYMOVE		1
#endif
#ifndef MREMAP_FIXED
#define MREMAP_FIXED		2
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP	4
#endif

/* Bytes from @old_addr that can move as one unit: up to either PMD edge. */
static unsigned long get_extent(unsigned long old_addr, unsigned long old_end,
				unsigned long new_addr)
{
	unsigned long extent = pmd_addr_end(old_addr, old_end) - old_addr;
	unsigned long to_new_edge = PMD_SIZE - (new_addr & ~PMD_MASK);

	return min(extent, to_new_edge);
}

/*
 * Move the PTEs of [@old_addr, @old_end), all under @old_pmd, to the table
 * under @new_pmd.  Return: 0, or -EAGAIN when @old_pmd is no longer a PTE
 * table (an rmap walker split or zapped it before we took the locks).
 */
static int move_ptes(struct vm_area_struct *vma, pmd_t *old_pmd, unsigned long old_addr,
		     unsigned long old_end, pmd_t *new_pmd, unsigned long new_addr)
{
	struct mm_struct *mm = vma->vm_mm;
	spinlock_t *old_ptl, *new_ptl;
	pte_t *old_pte, *new_pte;
	pmd_t old_pmdval, new_pmdval;

	vma_rmap_lock(vma);
	/* The new table is ours: installed by this call, under (1). */
	new_pmdval = pmdp_get(new_pmd);
	VM_BUG_ON(!pmd_present(new_pmdval) || pmd_leaf(new_pmdval));
	new_ptl = pte_lockptr(mm, new_pmdval);
	old_pmdval = pmdp_get_lockless(old_pmd);
	if (!pmd_present(old_pmdval) || pmd_leaf(old_pmdval)) {
		vma_rmap_unlock(vma);
		return -EAGAIN;
	}
	old_ptl = pte_lockptr(mm, old_pmdval);
	double_pt_lock(old_ptl, new_ptl);			/* (3) */
	if (pmd_val(pmdp_get(old_pmd)) != pmd_val(old_pmdval)) {
		double_pt_unlock(old_ptl, new_ptl);
		vma_rmap_unlock(vma);
		return -EAGAIN;
	}
	old_pte = pte_offset(mm, old_pmdval, old_addr);
	new_pte = pte_offset(mm, new_pmdval, new_addr);
	for (; old_addr < old_end; old_addr += PAGE_SIZE, old_pte++, new_pte++) {
		pte_t e;

		if (pte_none(ptep_get(old_pte)))
			continue;
		e = ptep_get_and_clear(old_pte);	/* (4) */
		VM_BUG_ON(!pte_none(ptep_get(new_pte)));
		set_pte(new_pte, e);
	}
	double_pt_unlock(old_ptl, new_ptl);
	vma_rmap_unlock(vma);
	return 0;
}

/*
 * Move a whole PTE table: the PMD entry pointing to it moves.  Return:
 * false when the new PMD is not empty (a table an earlier munmap left) or
 * the old one is no longer a table; the caller then moves PTEs.
 */
static bool move_normal_pmd(struct vm_area_struct *vma, pmd_t *old_pmd, pmd_t *new_pmd)
{
	struct mm_struct *mm = vma->vm_mm;
	spinlock_t *old_ptl, *new_ptl;
	bool moved = false;
	pmd_t pmd;

	if (!pmd_none(pmdp_get(new_pmd)))
		return false;
	vma_rmap_lock(vma);
	old_ptl = pmd_lockptr(mm, old_pmd);
	new_ptl = pmd_lockptr(mm, new_pmd);
	double_pt_lock(old_ptl, new_ptl);			/* (3) */
	pmd = pmdp_get(old_pmd);
	if (pmd_present(pmd) && !pmd_leaf(pmd) && pmd_none(pmdp_get(new_pmd))) {
		pmd = pmdp_huge_get_and_clear(old_pmd);		/* (4) */
		set_pmd(new_pmd, pmd);
		moved = true;
	}
	double_pt_unlock(old_ptl, new_ptl);
	vma_rmap_unlock(vma);
	return moved;
}

/**
 * move_page_tables() - move the entries of [@old_addr, @old_addr + @len)
 * of @vma to @new_addr in @new_vma (same mm).
 * Context: mmap_lock held for writing; takes the rmap locks and table
 * locks (invariants 2-5 of the file comment).
 * Return: the bytes moved from the start: @len, or less when a page table
 * could not be allocated.
 */
static unsigned long move_page_tables(struct vm_area_struct *vma, unsigned long old_addr,
				      struct vm_area_struct *new_vma, unsigned long new_addr,
				      unsigned long len)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long old_end = old_addr + len, start = old_addr, extent;
	struct mmu_notifier_range range;

	mmap_assert_write_locked(mm);
	if (!len)
		return 0;
	mmu_notifier_range_init(&range, MMU_NOTIFY_UNMAP, 0, mm, old_addr, old_end);
	mmu_notifier_invalidate_range_start(&range);	/* (5) */
	for (; old_addr < old_end; old_addr += extent, new_addr += extent) {
		pmd_t *old_pmd, *new_pmd;
		pmd_t pmdval;

		extent = get_extent(old_addr, old_end, new_addr);
		old_pmd = pmd_offset_lookup(mm, old_addr);
		if (!old_pmd)
			continue;
		new_pmd = pmd_alloc(mm, new_addr);
		if (!new_pmd)
			break;
again:
		pmdval = pmdp_get(old_pmd);
		if (pmd_leaf(pmdval)) {
			if (extent == PMD_SIZE) {
				bool moved;

				vma_rmap_lock(vma);
				moved = move_huge_pmd(vma, old_addr, new_addr, old_pmd, new_pmd);
				vma_rmap_unlock(vma);
				if (moved)
					continue;
			}
			/* Only part of the THP moves: map it by PTEs first. */
			__split_huge_pmd(vma, old_pmd, old_addr);
		} else if (extent == PMD_SIZE && pmd_present(pmdval)) {
			if (move_normal_pmd(vma, old_pmd, new_pmd))
				continue;
		}
		if (pmd_none(pmdp_get(old_pmd)))
			continue;
		if (__pte_alloc(mm, new_pmd))
			break;
		if (move_ptes(vma, old_pmd, old_addr, old_addr + extent, new_pmd, new_addr) < 0)
			goto again;
	}
	mmu_notifier_invalidate_range_end(&range);
	return old_addr - start;
}

/* Drop @vma's anon_vma: it maps nothing any more (MREMAP_DONTUNMAP). */
static void vma_drop_anon_vma(struct vm_area_struct *vma)
{
	struct anon_vma *av = vma->anon_vma;

	if (!av)
		return;
	unlink_anon_vma(vma);
	WRITE_ONCE(vma->anon_vma, NULL);
	put_anon_vma(av);
}

/*
 * move_vma() - move [@old_addr, +@old_len) of @vma to a new VMA of
 * @new_len bytes at @new_addr (a free range).  Return: @new_addr, or
 * -ENOMEM with the old range unchanged (6).
 */
static long move_vma(struct vm_area_struct *vma, unsigned long old_addr,
		     unsigned long old_len, unsigned long new_len, unsigned long new_addr,
		     int flags)
{
	struct mm_struct *mm = vma->vm_mm;
	pgoff_t pgoff = vma->vm_pgoff + ((old_addr - vma->vm_start) >> PAGE_SHIFT);
	struct vm_area_struct *new_vma;
	unsigned long moved;
	long ret = (long)new_addr;

	/* Unmapping the old range may split its VMA in three. */
	if (mm->map_count >= MAX_MAP_COUNT - 3)
		return -ENOMEM;
	/*
	 * KSM pages do not move (Linux's prep_move_vma()): the range gets
	 * private copies first; the VMA stays mergeable.
	 */
	if (vma->vm_flags & VM_MERGEABLE) {
		int err = break_ksm(vma, old_addr, old_addr + old_len);

		if (err)
			return err;
	}
	new_vma = copy_vma(vma, new_addr, new_len, pgoff);
	if (!new_vma)
		return -ENOMEM;
	mm->total_vm += new_len >> PAGE_SHIFT;
	moved = move_page_tables(vma, old_addr, new_vma, new_addr, old_len);
	if (moved < old_len) {
		/* (6): back to where they were, then undo the new VMA. */
		move_page_tables(new_vma, new_addr, vma, old_addr, moved);
		ret = -ENOMEM;
		old_addr = new_addr;
		old_len = new_len;
	} else if (flags & MREMAP_DONTUNMAP) {
		/* The old range stays mapped, empty: it faults in anew. */
		WRITE_ONCE(vma->vm_flags, vma->vm_flags & ~VM_LOCKED);
		if (vma->vm_start == old_addr && vma->vm_end == old_addr + old_len)
			vma_drop_anon_vma(vma);
		vma_try_merge(new_vma);
		return ret;
	}
	/* A failure to split here only leaves the old range mapped. */
	do_munmap(mm, old_addr, old_len);
	if (ret >= 0) {
		new_vma = vma_lookup(mm, new_addr);
		if (new_vma)
			vma_try_merge(new_vma);
	}
	return ret;
}

/* Linux's remap_is_valid(): can [@addr, +@old_len) of @vma become @new_len? */
static int remap_is_valid(struct vm_area_struct *vma, unsigned long addr,
			  unsigned long old_len, unsigned long new_len, int flags)
{
	pgoff_t pgoff;

	/* old_len 0 duplicates a mapping: only shared ones may. */
	if (!old_len && !(vma->vm_flags & (VM_SHARED | VM_MAYSHARE)))
		return -EINVAL;
	if ((flags & MREMAP_DONTUNMAP) && (vma->vm_flags & (VM_DONTEXPAND | VM_PFNMAP)))
		return -EINVAL;
	if (old_len > vma->vm_end - addr)	/* across a VMA boundary */
		return -EFAULT;
	if (new_len == old_len)
		return 0;
	pgoff = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
	if (pgoff + (new_len >> PAGE_SHIFT) < pgoff)
		return -EINVAL;
	if (vma->vm_flags & (VM_DONTEXPAND | VM_PFNMAP))
		return -EFAULT;
	return 0;
}

/* A new address for the moved range: the caller's with MREMAP_FIXED (or
 * as a hint with MREMAP_DONTUNMAP), else any free one. */
static long remap_new_addr(struct vm_area_struct *vma, unsigned long new_addr,
			   unsigned long new_len, int flags)
{
	int map_flags = (flags & MREMAP_FIXED) ? MAP_FIXED : 0;

	if (!(flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)))
		new_addr = 0;
	return get_unmapped_area(vma->vm_mm, new_addr, new_len, map_flags,
				 vma_is_anonymous(vma) && !(vma->vm_flags & VM_SHARED));
}

/* Linux's shrink_vma(): unmap the tail beyond @new_len. */
static int remap_shrink(struct mm_struct *mm, unsigned long addr, unsigned long old_len,
			unsigned long new_len)
{
	unsigned long start = addr + new_len, len = old_len - new_len;

	if (start > TASK_SIZE || len > TASK_SIZE - start)
		return -EINVAL;
	return do_munmap(mm, start, len);
}

/* MREMAP_FIXED / MREMAP_DONTUNMAP: to a given (or hinted) address. */
static long mremap_to(struct mm_struct *mm, unsigned long addr, unsigned long old_len,
		      unsigned long new_len, int flags, unsigned long new_addr)
{
	struct vm_area_struct *vma;
	long ret;

	if (new_len > TASK_SIZE || new_addr > TASK_SIZE - new_len)
		return -EINVAL;
	if (addr + old_len > new_addr && new_addr + new_len > addr)
		return -EINVAL;			/* the two ranges overlap */
	/*
	 * Linux's check_prep_vma() runs before anything is unmapped: the part
	 * that moves (the first @new_len bytes of a shrink) must lie in one
	 * VMA, or nothing changes (found by pinmm fuzz --diff).
	 */
	vma = vma_lookup(mm, addr);
	if (!vma)
		return -EFAULT;
	ret = remap_is_valid(vma, addr, min(old_len, new_len), new_len, flags);
	if (ret)
		return ret;
	if (flags & MREMAP_FIXED) {
		ret = do_munmap(mm, new_addr, new_len);
		if (ret)
			return ret;
	}
	if (old_len > new_len) {
		ret = remap_shrink(mm, addr, old_len, new_len);
		if (ret)
			return ret;
		old_len = new_len;
	}
	vma = vma_lookup(mm, addr);
	if (!vma)
		return -EFAULT;
	ret = remap_is_valid(vma, addr, old_len, new_len, flags);
	if (ret)
		return ret;
	ret = remap_new_addr(vma, new_addr, new_len, flags);
	if (ret < 0)
		return ret;
	return move_vma(vma, addr, old_len, new_len, (unsigned long)ret, flags);
}

/*
 * Linux 6.17+ remap_move(): MREMAP_FIXED with equal lengths only moves, and
 * may cover several VMAs: each part of [@start, +@len) that a VMA maps
 * moves on its own to the target, the gaps between them kept (a gap at the
 * start is -EFAULT).  Every pinmm mapping may be moved so (Linux refuses
 * only userfaultfd-armed VMAs and files whose get_unmapped_area() may
 * ignore MAP_FIXED).  Return: the first part's new address, or an errno
 * (parts already moved stay moved, as in Linux).
 */
static long remap_move(struct mm_struct *mm, unsigned long start, unsigned long len,
		       int flags, unsigned long new_addr)
{
	unsigned long end = start + len, target = new_addr, last_end = start;
	bool seen = false;
	long res = -EFAULT;

	if (len > TASK_SIZE || new_addr > TASK_SIZE - len)
		return -EINVAL;
	if (end > new_addr && new_addr + len > start)
		return -EINVAL;			/* the two ranges overlap */
	for (;;) {
		struct vm_area_struct *vma = find_vma(mm, last_end);
		unsigned long a, l, offset;
		long r;

		if (!vma || vma->vm_start >= end)
			break;
		if (!seen && start < vma->vm_start)
			return -EFAULT;		/* no gap at the start */
		if (vma->vm_flags & VM_HUGETLB)
			return -EINVAL;		/* not modelled (doc/DESIGN.md §12) */
		a = max(vma->vm_start, start);
		l = min(end, vma->vm_end) - a;
		offset = seen ? vma->vm_start - last_end : 0;
		last_end = vma->vm_end;
		r = mremap_to(mm, a, l, l, flags, target + offset);
		if (r < 0)
			return r;
		if (!seen)
			res = r;
		seen = true;
		target = (unsigned long)r + l;
		if (last_end >= end)
			break;
	}
	return res;
}

/* Can @vma grow by @delta bytes where it is? */
static bool vma_expandable(struct vm_area_struct *vma, unsigned long delta)
{
	unsigned long end = vma->vm_end + delta;

	if (end < vma->vm_end || end > TASK_SIZE)
		return false;
	return !find_vma_intersection(vma->vm_mm, vma->vm_end, end);
}

/* Grow in place if the range ends with its VMA and room follows, else move. */
static long mremap_expand(struct vm_area_struct *vma, unsigned long addr,
			  unsigned long old_len, unsigned long new_len, int flags)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long delta = new_len - old_len;
	long ret;

	ret = remap_is_valid(vma, addr, old_len, new_len, flags);
	if (ret)
		return ret;
	if (vma->vm_end - addr == old_len && vma_expandable(vma, delta)) {
		unsigned long old_end = vma->vm_end;

		vma_expand_end(vma, old_end + delta);
		mm->total_vm += delta >> PAGE_SHIFT;
		vma = vma_try_merge(vma);
		if (vma->vm_flags & VM_LOCKED)	/* mlock'ed memory stays populated */
			populate_range(vma, old_end, old_end + delta,
				       is_cow_mapping(vma->vm_flags) && (vma->vm_flags & VM_WRITE),
				       false);
		return (long)addr;
	}
	if (!(flags & MREMAP_MAYMOVE))
		return -ENOMEM;
	ret = remap_new_addr(vma, 0, new_len, flags);
	if (ret < 0)
		return ret;
	return move_vma(vma, addr, old_len, new_len, (unsigned long)ret, flags);
}

/* Linux's check_mremap_params(). */
static int check_mremap_params(unsigned long addr, size_t old_len, size_t new_len,
			       int flags, unsigned long new_addr)
{
	if (flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP))
		return -EINVAL;
	if (!PAGE_ALIGNED(addr))
		return -EINVAL;
	if (!PAGE_ALIGN(new_len))		/* zero, or wraps */
		return -EINVAL;
	if (!(flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)))
		return 0;
	if (!PAGE_ALIGNED(new_addr))
		return -EINVAL;
	if (!(flags & MREMAP_MAYMOVE))
		return -EINVAL;
	if ((flags & MREMAP_DONTUNMAP) && old_len != new_len)
		return -EINVAL;
	return 0;
}

/**
 * pinmm_mremap() - mremap(2) for process @p.
 * Context: process context; takes the mmap_lock for writing.
 * Return: the (new) address, or -EINVAL (bad flags, unaligned address,
 * zero new length, overlapping ranges, DONTUNMAP with a resize or on a
 * PFN map, duplicating a private mapping), -EFAULT (no mapping at
 * @old_addr, the range crosses its end, growing a VM_DONTEXPAND/PFN map),
 * -ENOMEM (no room and no MREMAP_MAYMOVE, no free range, out of memory or
 * map count), -ESRCH (exited process).
 */
long pinmm_mremap(struct pinmm_proc *p, unsigned long old_addr, size_t old_len,
		  size_t new_len, int flags, unsigned long new_addr)
{
	struct mm_struct *mm;
	struct vm_area_struct *vma;
	long ret;

	pinmm_thread_enter();
	if (!p)
		return -EINVAL;
	if (READ_ONCE(p->exited))
		return -ESRCH;
	ret = check_mremap_params(old_addr, old_len, new_len, flags, new_addr);
	if (ret)
		return ret;
	old_len = PAGE_ALIGN(old_len);
	new_len = PAGE_ALIGN(new_len);
	if (!get_proc_mm(p))	/* held for the call: exit cannot free it */
		return -ESRCH;
	mm = p->mm;
	mmap_write_lock(mm);
	if ((flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) && mm->map_count + 2 >= MAX_MAP_COUNT - 3) {
		ret = -ENOMEM;
		goto out;
	}
	if ((flags & MREMAP_FIXED) && old_len == new_len) {
		ret = remap_move(mm, old_addr, old_len, flags, new_addr);
		goto out;
	}
	vma = vma_lookup(mm, old_addr);
	if (!vma) {
		ret = -EFAULT;
		goto out;
	}
	if (vma->vm_flags & VM_HUGETLB) {
		ret = -EINVAL;		/* hugetlb mremap is not modelled (doc/DESIGN.md §12) */
		goto out;
	}
	if (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP))
		ret = mremap_to(mm, old_addr, old_len, new_len, flags, new_addr);
	else if (old_len == new_len)
		ret = (long)old_addr;
	else if (old_len > new_len) {
		ret = remap_shrink(mm, old_addr, old_len, new_len);
		if (!ret)
			ret = (long)old_addr;
	} else
		ret = mremap_expand(vma, old_addr, old_len, new_len, flags);
out:
	mmap_write_unlock(mm);
	mmput(mm);
	pinmm_debug_boundary(p->machine);
	return ret;
}
