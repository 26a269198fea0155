/* SPDX-License-Identifier: MIT */
/*
 * mm_struct.c - address-space lifetime: allocation, the two reference
 * counts, and teardown.
 *
 * mm_users counts the processes (and remote pinners holding mmget()) that
 * use the address space; when it drops to zero exit_mmap() unmaps every
 * VMA.  mm_count counts references to the structure itself (mmgrab());
 * the last mmdrop() frees it.  mm_users holds one mm_count reference.
 */
#include <errno.h>
#include <stdlib.h>
#include "mm.h"
#include "fs.h"

/**
 * mm_alloc() - a new, empty address space with its own PGD.
 * Context: may sleep.
 * Return: the mm with mm_users = mm_count = 1, or NULL.
 */
struct mm_struct *mm_alloc(struct pinmm *m)
{
	struct mm_struct *mm = calloc(1, sizeof(*mm));
	struct page *pgd;

	if (!mm)
		return NULL;
	mm->machine = m;
	pgd = pte_alloc_one(mm);
	if (!pgd) {
		free(mm);
		return NULL;
	}
	mm->pgd_pfn = page_to_pfn_m(m, pgd);
	mm->pgd = pfn_to_virt(m, mm->pgd_pfn);
	init_rwsem(&mm->mmap_lock);
	spin_lock_init(&mm->page_table_lock);
	mm->mm_rb = RB_ROOT;
	INIT_LIST_HEAD(&mm->mmap_list);
	seqcount_init(&mm->write_protect_seq);
	atomic_set(&mm->mm_users, 1);
	atomic_set(&mm->mm_count, 1);
	mm->mmap_base = TASK_SIZE & ~(PUD_SIZE - 1);	/* top-down from here */
	return mm;
}

void mmgrab(struct mm_struct *mm)
{
	atomic_inc(&mm->mm_count);
}

/**
 * mmdrop() - drop a structure reference; the last frees @mm.
 * Context: any; exit_mmap() must have run.
 */
void mmdrop(struct mm_struct *mm)
{
	if (atomic_dec_and_test(&mm->mm_count)) {
		VM_BUG_ON(mm->pgd);
		mmu_notifier_mm_destroy(mm);
		destroy_rwsem(&mm->mmap_lock);
		spin_lock_destroy(&mm->page_table_lock);
		free(mm);
	}
}

void mmget(struct mm_struct *mm)
{
	VM_BUG_ON(atomic_read(&mm->mm_users) <= 0);
	atomic_inc(&mm->mm_users);
}

/**
 * mmget_not_zero() - take a user reference unless the mm is exiting.
 * Context: caller holds an mm_count reference.
 * Return: true on success.
 */
bool mmget_not_zero(struct mm_struct *mm)
{
	return atomic_add_unless(&mm->mm_users, 1, 0);
}

/**
 * mmput() - drop a user reference; the last tears down the address space
 * and drops the mm_count reference that users hold.
 * Context: may sleep; must not hold @mm's mmap_lock.
 */
void mmput(struct mm_struct *mm)
{
	if (atomic_dec_and_test(&mm->mm_users)) {
		exit_mmap(mm);
		mmdrop(mm);
	}
}

/* Free one VMA that is no longer linked anywhere. */
void remove_vma(struct vm_area_struct *vma)
{
	if (vma->vm_ops && vma->vm_ops->close)
		vma->vm_ops->close(vma);
	if (vma->anon_vma)
		put_anon_vma(vma->anon_vma);
	if (vma->vm_file)
		fput(vma->vm_file);
	vm_area_free(vma);
}

/**
 * exit_mmap() - unmap everything and free all page tables.
 * Context: the last user is gone; takes mmap_lock for writing so that
 * remote walkers (GUP remote, rmap) are excluded.  Notifier subscriptions
 * get MMU_NOTIFY_RELEASE first, then MMU_NOTIFY_UNMAP around the zap (a
 * mirror that re-faulted in between must not keep the pages, as Linux's
 * unmap_vmas()).
 */
void exit_mmap(struct mm_struct *mm)
{
	struct vm_area_struct *vma, *tmp;
	struct mmu_notifier_range range;

	mmu_notifier_release(mm);
	mmap_write_lock(mm);
	mmu_notifier_range_init(&range, MMU_NOTIFY_UNMAP, 0, mm, 0, TASK_SIZE);
	mmu_notifier_invalidate_range_start(&range);
	list_for_each_entry(vma, &mm->mmap_list, vm_list)
		zap_page_range_single(vma, vma->vm_start, vma->vm_end, NULL);
	mmu_notifier_invalidate_range_end(&range);
	list_for_each_entry_safe(vma, tmp, &mm->mmap_list, vm_list) {
		vma_unlink(mm, vma);
		remove_vma(vma);
	}
	free_all_pgtables(mm);
	mm->total_vm = 0;
	mmap_write_unlock(mm);
}
