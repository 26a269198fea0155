/* SPDX-License-Identifier: MIT */
/*
 * vma.c - the VMA tree of an mm: lookup, link/unlink, split and merge.
 *
 * Each mm keeps its VMAs twice: in a red-black tree keyed by vm_start for
 * O(log n) lookup, and in an address-ordered list for iteration.  Both are
 * changed only under mmap_lock held for writing and read under it held for
 * reading.  Linking a VMA also links it into its rmap lists: the anon_vma's
 * VMA list and the file's i_mmap list.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "mm.h"
#include "fs.h"
#include "hugetlb.h"

/**
 * vm_area_alloc() - a zeroed VMA of @mm, linked nowhere.
 * Context: any.
 * Return: the VMA, or NULL.
 */
struct vm_area_struct *vm_area_alloc(struct mm_struct *mm)
{
	struct vm_area_struct *vma = kzalloc(sizeof(*vma));

	if (!vma)
		return NULL;
	vma->vm_mm = mm;
	RB_CLEAR_NODE(&vma->vm_rb);
	INIT_LIST_HEAD(&vma->vm_list);
	INIT_LIST_HEAD(&vma->anon_vma_node);
	INIT_LIST_HEAD(&vma->shared_node);
	return vma;
}

/**
 * vm_area_dup() - copy of @orig's fields, linked nowhere, holding no
 * references (the caller takes the file and anon_vma references it needs).
 * Context: any.
 * Return: the copy, or NULL.
 */
struct vm_area_struct *vm_area_dup(struct vm_area_struct *orig)
{
	struct vm_area_struct *vma = kmalloc(sizeof(*vma));

	if (!vma)
		return NULL;
	/*
	 * Not the rmap list nodes: a sibling VMA leaving @orig's anon_vma or
	 * file rewrites them under the rmap locks, which we do not hold (a
	 * data race on pointers the copy would reinitialise anyway).
	 */
	memcpy(vma, orig, offsetof(struct vm_area_struct, anon_vma_node));
	vma->vm_private_data = orig->vm_private_data;
	RB_CLEAR_NODE(&vma->vm_rb);
	INIT_LIST_HEAD(&vma->vm_list);
	INIT_LIST_HEAD(&vma->anon_vma_node);
	INIT_LIST_HEAD(&vma->shared_node);
	return vma;
}

void vm_area_free(struct vm_area_struct *vma)
{
	free(vma);
}

/**
 * find_vma() - the first VMA that ends above @addr.
 * Context: mmap_lock held.
 * Return: the VMA (which may start above @addr), or NULL.
 */
struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr)
{
	struct rb_node *node = mm->mm_rb.rb_node;
	struct vm_area_struct *best = NULL;

	mmap_assert_locked(mm);
	while (node) {
		struct vm_area_struct *vma = rb_entry(node, struct vm_area_struct, vm_rb);

		if (vma->vm_end > addr) {
			best = vma;
			if (vma->vm_start <= addr)
				break;
			node = node->rb_left;
		} else {
			node = node->rb_right;
		}
	}
	return best;
}

/**
 * vma_lookup() - the VMA containing @addr.
 * Context: mmap_lock held.
 * Return: the VMA or NULL.
 */
struct vm_area_struct *vma_lookup(struct mm_struct *mm, unsigned long addr)
{
	struct vm_area_struct *vma = find_vma(mm, addr);

	if (vma && vma->vm_start > addr)
		return NULL;
	return vma;
}

/**
 * find_vma_intersection() - the first VMA overlapping [start, end).
 * Context: mmap_lock held.
 * Return: the VMA or NULL.
 */
struct vm_area_struct *find_vma_intersection(struct mm_struct *mm,
					     unsigned long start, unsigned long end)
{
	struct vm_area_struct *vma = find_vma(mm, start);

	if (vma && vma->vm_start >= end)
		return NULL;
	return vma;
}

/**
 * vma_rmap_lock() - the rmap locks of @vma for writing, around a change of
 * its boundaries (rmap walkers read vm_start/vm_end/vm_pgoff under these
 * locks, never under mmap_lock) or a move of its page-table entries
 * (mremap).  Order: i_mmap_rwsem, then anon_vma->rwsem.
 * Context: mmap_lock held for writing.
 */
void vma_rmap_lock(struct vm_area_struct *vma)
{
	if (vma->vm_file)
		down_write(&vma->vm_file->f_mapping->i_mmap_rwsem);
	if (vma->anon_vma)
		down_write(&vma->anon_vma->rwsem);
}

/**
 * vma_rmap_unlock() - release what vma_rmap_lock() took.
 * Context: mmap_lock held for writing.
 */
void vma_rmap_unlock(struct vm_area_struct *vma)
{
	if (vma->anon_vma)
		up_write(&vma->anon_vma->rwsem);
	if (vma->vm_file)
		up_write(&vma->vm_file->f_mapping->i_mmap_rwsem);
}

/* Tree and list only. */
static void vma_tree_insert(struct mm_struct *mm, struct vm_area_struct *vma)
{
	struct rb_node **link = &mm->mm_rb.rb_node, *parent = NULL;
	struct vm_area_struct *prev = NULL;

	while (*link) {
		struct vm_area_struct *cur;

		parent = *link;
		cur = rb_entry(parent, struct vm_area_struct, vm_rb);
		VM_BUG_ON(cur->vm_start < vma->vm_end && vma->vm_start < cur->vm_end);
		if (vma->vm_start < cur->vm_start) {
			link = &parent->rb_left;
		} else {
			prev = cur;
			link = &parent->rb_right;
		}
	}
	rb_link_node(&vma->vm_rb, parent, link);
	rb_insert_color(&vma->vm_rb, &mm->mm_rb);
	/* prev is the closest VMA below, found on the way down. */
	if (prev)
		list_add(&vma->vm_list, &prev->vm_list);
	else
		list_add(&vma->vm_list, &mm->mmap_list);
	mm->map_count++;
}

static void vma_tree_remove(struct mm_struct *mm, struct vm_area_struct *vma)
{
	rb_erase(&vma->vm_rb, &mm->mm_rb);
	RB_CLEAR_NODE(&vma->vm_rb);
	list_del_init(&vma->vm_list);
	mm->map_count--;
}

/* Add to the rmap lists; the locks of vma_rmap_lock() held. */
static void vma_rmap_add_locked(struct vm_area_struct *vma)
{
	if (vma->vm_file)
		list_add_tail(&vma->shared_node, &vma->vm_file->f_mapping->i_mmap);
	if (vma->anon_vma)
		list_add_tail(&vma->anon_vma_node, &vma->anon_vma->vmas);
}

static void vma_rmap_del_locked(struct vm_area_struct *vma)
{
	if (vma->vm_file)
		list_del_init(&vma->shared_node);
	if (vma->anon_vma)
		list_del_init(&vma->anon_vma_node);
}

/**
 * vma_link() - insert @vma into @mm's tree and list and into its rmap
 * lists.  The range must be free.
 * Context: mmap_lock held for writing.
 */
void vma_link(struct mm_struct *mm, struct vm_area_struct *vma)
{
	mmap_assert_write_locked(mm);
	vma_tree_insert(mm, vma);
	vma_rmap_lock(vma);
	vma_rmap_add_locked(vma);
	vma_rmap_unlock(vma);
}

/**
 * vma_unlink() - remove @vma from @mm's tree, list and rmap lists.  The
 * VMA keeps its file and anon_vma references.
 * Context: mmap_lock held for writing.
 */
void vma_unlink(struct mm_struct *mm, struct vm_area_struct *vma)
{
	mmap_assert_write_locked(mm);
	vma_tree_remove(mm, vma);
	vma_rmap_lock(vma);
	vma_rmap_del_locked(vma);
	vma_rmap_unlock(vma);
}

/**
 * split_vma() - split @vma at @addr into two VMAs.
 * @new_below: the new VMA takes the lower part (else the upper part).
 * Context: mmap_lock held for writing.
 * Return: 0, -EINVAL for an address not strictly inside, -ENOMEM.
 */
int split_vma(struct vm_area_struct *vma, unsigned long addr, int new_below)
{
	struct mm_struct *mm = vma->vm_mm;
	struct vm_area_struct *new;

	mmap_assert_write_locked(mm);
	if (addr <= vma->vm_start || addr >= vma->vm_end || !PAGE_ALIGNED(addr))
		return -EINVAL;
	if (hugetlb_split_check(vma, addr))
		return -EINVAL;		/* Linux: hugetlb_vm_op_split() */
	new = vm_area_dup(vma);
	if (!new)
		return -ENOMEM;
	/* A PMD mapping straddling the cut becomes PTEs first. */
	vma_adjust_trans_huge(vma, addr, addr);

	if (new->anon_vma)
		get_anon_vma(new->anon_vma);
	if (new->vm_file)
		get_file(new->vm_file);

	vma_rmap_lock(vma);
	vma_tree_remove(mm, vma);
	if (new_below) {
		new->vm_end = addr;
		vma->vm_pgoff += (addr - vma->vm_start) >> PAGE_SHIFT;
		vma->vm_start = addr;
	} else {
		new->vm_start = addr;
		new->vm_pgoff += (addr - vma->vm_start) >> PAGE_SHIFT;
		vma->vm_end = addr;
	}
	vma_tree_insert(mm, vma);
	vma_tree_insert(mm, new);
	vma_rmap_add_locked(new);
	vma_rmap_unlock(vma);

	if (new->vm_ops && new->vm_ops->open)
		new->vm_ops->open(new);
	return 0;
}

/**
 * vma_isolate_range() - split @vma so that it covers exactly [start, end)
 * (a subrange of it); @vma keeps that part, new VMAs take the rest.
 * Context: mmap_lock held for writing.
 * Return: 0 or -ENOMEM.
 */
int vma_isolate_range(struct vm_area_struct *vma, unsigned long start, unsigned long end)
{
	int err;

	if (start != vma->vm_start) {
		err = split_vma(vma, start, 1);
		if (err)
			return err;
	}
	if (end != vma->vm_end) {
		err = split_vma(vma, end, 0);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Linux 6.18's is_mergeable_anon_vma(): two anon_vmas must be the same one
 * (pinmm: the same family anon_vma and the same fork id); a VMA without one
 * may join a VMA with one unless that is a fork child (vma_is_fork_child():
 * its anon_vma_chain is not singular), whose anon_vma could not be shared.
 */
static bool anon_vma_compatible(struct vm_area_struct *a, struct vm_area_struct *b)
{
	if (a->anon_vma && b->anon_vma)
		return a->anon_vma == b->anon_vma &&
		       a->anon_vma_fork_id == b->anon_vma_fork_id;
	return !a->anon_vma_fork_id && !b->anon_vma_fork_id;
}

/* Can @b directly follow @a as one VMA? */
static bool vma_mergeable(struct vm_area_struct *a, struct vm_area_struct *b)
{
	if (a->vm_end != b->vm_start)
		return false;
	if (a->vm_flags != b->vm_flags || a->vm_file != b->vm_file ||
	    a->vm_ops != b->vm_ops)
		return false;
	if (a->vm_flags & VM_HUGETLB)
		return false;	/* VM_DONTEXPAND: Linux never merges VM_SPECIAL */
	if (pgprot_val(a->vm_page_prot) != pgprot_val(b->vm_page_prot))
		return false;
	if (a->vm_pgoff + vma_pages(a) != b->vm_pgoff)
		return false;
	return anon_vma_compatible(a, b);
}

/* Fold @next into @vma (adjacent, mergeable); @next is freed. */
static void vma_absorb_next(struct vm_area_struct *vma, struct vm_area_struct *next)
{
	struct mm_struct *mm = vma->vm_mm;

	/* Give both the same anon_vma first (one of them may have none). */
	if (!vma->anon_vma && next->anon_vma) {
		get_anon_vma(next->anon_vma);
		vma->anon_vma = next->anon_vma;
		vma->anon_vma_fork_id = next->anon_vma_fork_id;
		anon_vma_link(vma, vma->anon_vma);
	}
	/* next's range joins vma: under the rmap locks, one step. */
	vma_rmap_lock(vma);
	vma_tree_remove(mm, next);
	if (next->anon_vma)
		list_del_init(&next->anon_vma_node);
	if (next->vm_file)
		list_del_init(&next->shared_node);
	vma->vm_end = next->vm_end;
	vma_rmap_unlock(vma);

	if (next->vm_ops && next->vm_ops->close)
		next->vm_ops->close(next);
	if (next->anon_vma)
		put_anon_vma(next->anon_vma);
	if (next->vm_file)
		fput(next->vm_file);
	vm_area_free(next);
}

/**
 * vma_try_merge() - merge @vma with its neighbours where they are
 * compatible (adjacent, same flags, file, offsets and anon_vma).
 * Context: mmap_lock held for writing.
 * Return: the VMA that now covers @vma's range.
 */
struct vm_area_struct *vma_try_merge(struct vm_area_struct *vma)
{
	struct vm_area_struct *prev = vma_prev(vma), *next = vma_next(vma);

	mmap_assert_write_locked(vma->vm_mm);
	if (vma->vm_flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP | VM_DONTEXPAND))
		return vma;
	if (next && vma_mergeable(vma, next))
		vma_absorb_next(vma, next);
	if (prev && vma_mergeable(prev, vma)) {
		vma_absorb_next(prev, vma);
		vma = prev;
	}
	return vma;
}

/**
 * copy_vma() - a new VMA for [@addr, @addr + @len) with @vma's flags,
 * protections, file, operations and anon_vma, at file (or anonymous) page
 * offset @pgoff, linked into the tree and the rmap lists: the destination
 * of an mremap() move.  Unlike Linux's copy_vma() it never merges with a
 * neighbour; the caller merges once the move is complete.  As Linux's, an
 * anonymous VMA that has never been faulted (no anon_vma) takes the page
 * offset of its new address instead of @pgoff, so that it can merge with
 * neighbours there (pinmm fuzz --diff found the difference:
 * tests/scenarios/host_fuzz_mremap_unfaulted_pgoff.pinmm).
 * Context: mmap_lock held for writing; the range must be free.
 * Return: the new VMA, or NULL (out of memory).
 */
struct vm_area_struct *copy_vma(struct vm_area_struct *vma, unsigned long addr,
				unsigned long len, pgoff_t pgoff)
{
	struct vm_area_struct *new;

	mmap_assert_write_locked(vma->vm_mm);
	VM_BUG_ON(find_vma_intersection(vma->vm_mm, addr, addr + len));
	new = vm_area_dup(vma);
	if (!new)
		return NULL;
	if (vma_is_anonymous(vma) && !vma->anon_vma)
		pgoff = addr >> PAGE_SHIFT;
	new->vm_start = addr;
	new->vm_end = addr + len;
	new->vm_pgoff = pgoff;
	if (new->anon_vma)
		get_anon_vma(new->anon_vma);
	if (new->vm_file)
		get_file(new->vm_file);
	vma_link(vma->vm_mm, new);
	if (new->vm_ops && new->vm_ops->open)
		new->vm_ops->open(new);
	return new;
}

/**
 * vma_expand_end() - move @vma's end up to @end (the range above it free):
 * mremap() growing a mapping in place.
 * Context: mmap_lock held for writing; takes the rmap locks.
 */
void vma_expand_end(struct vm_area_struct *vma, unsigned long end)
{
	mmap_assert_write_locked(vma->vm_mm);
	VM_BUG_ON(end <= vma->vm_end || !PAGE_ALIGNED(end));
	VM_BUG_ON(find_vma_intersection(vma->vm_mm, vma->vm_end, end));
	vma_rmap_lock(vma);
	vma->vm_end = end;
	vma_rmap_unlock(vma);
}
