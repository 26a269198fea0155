/* SPDX-License-Identifier: MIT */
/*
 * mm_struct.c - address-space lifetime: allocation, the two reference
 * counts, and teardown.
 *
 * mm_users counts the processes (and remote pinners holding mmget()) that
 * use the address space; when it drops to zero exit_mmap() unmaps every
 * VMA.  mm_count counts references to the structure itself (mmgrab());
 * the last mmdrop() frees it.  mm_users holds one mm_count reference.
 * A call on a process takes its mm_users reference with get_proc_mm()
 * (Linux's get_task_mm()); processes are created and ended by
 * init/process.c.
 *
 * Every mm is on its machine's mm_list (under proc_lock) from mm_alloc()
 * to the last mmdrop(), so the auditor and shutdown see an address space
 * that a remote user (pinmm_mmget()) keeps after its process was freed.
 */
#include <errno.h>
#include <stdlib.h>
#include "mm.h"
#include "fs.h"
#include "fault_inject.h"

/**
 * mm_alloc() - a new, empty address space with its own PGD.
 * Context: may sleep.
 * Return: the mm with mm_users = mm_count = 1, or NULL.
 */
struct mm_struct *mm_alloc(struct pinmm *m)
{
	struct mm_struct *mm = kzalloc(sizeof(*mm));
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
	mutex_lock(&m->proc_lock);
	list_add_tail(&mm->mmlist, &m->mm_list);
	mutex_unlock(&m->proc_lock);
	return mm;
}

void mmgrab(struct mm_struct *mm)
{
	atomic_inc(&mm->mm_count);
}

/**
 * mmdrop() - drop a structure reference; the last frees @mm.
 * Context: any; exit_mmap() must have run; takes the machine's proc_lock
 * for the last reference, so the caller must not hold it.
 */
void mmdrop(struct mm_struct *mm)
{
	if (atomic_dec_and_test(&mm->mm_count)) {
		struct pinmm *m = mm->machine;

		VM_BUG_ON(mm->pgd);
		mutex_lock(&m->proc_lock);
		list_del(&mm->mmlist);
		mutex_unlock(&m->proc_lock);
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

/**
 * get_proc_mm() - an mm_users reference on @p's address space, Linux's
 * get_task_mm(): what a call on @p holds while it uses @p's memory.
 * @p: the process; the caller keeps it valid (holds its handle or a
 * pinmm_proc_get() reference).
 *
 * Context: any; lock-free.  The reference is dropped with mmput(), which
 * must not be called with the mm's mmap_lock held.
 * Return: @p's mm, or NULL when @p has exited (or its last user is tearing
 * the address space down).
 */
struct mm_struct *get_proc_mm(struct pinmm_proc *p)
{
	/* MEMORY-ORDERING.md (j) caller 1: a fast refusal; mm_users decides. */
	if (READ_ONCE(p->exited))
		return NULL;
	/* (j) caller 2: p->mm is immutable and mm_count-pinned by @p. */
	if (!mmget_not_zero(p->mm))
		return NULL;
	return p->mm;
}

/**
 * get_current_mm() - get_proc_mm() of the calling thread's `current`.
 * @err: set to -EFAULT when the thread has no current process, -ESRCH
 * when it has exited.
 *
 * Context: any thread.
 * Return: the mm with an mm_users reference (drop it with mmput()), or
 * NULL with *@err set.
 */
struct mm_struct *get_current_mm(int *err)
{
	struct pinmm_proc *p = pinmm_current_proc;
	struct mm_struct *mm;

	if (!p) {
		*err = -EFAULT;
		return NULL;
	}
	mm = get_proc_mm(p);
	if (!mm)
		*err = -ESRCH;
	return mm;
}

/**
 * pinmm_proc_pinned_vm() - pages charged to @p's mm->pinned_vm by
 * long-term pin users (io_uring buffers, RDMA registrations).
 * Context: any.
 * Return: the page count, -EINVAL, -ESRCH after exit.
 */
long pinmm_proc_pinned_vm(struct pinmm_proc *p)
{
	if (!p)
		return -EINVAL;
	if (READ_ONCE(p->exited))
		return -ESRCH;
	return atomic_long_read(&p->mm->pinned_vm);
}

/**
 * pinmm_proc_mm() - the mm of @p, for the kernel-facing API.
 * Context: any.  No reference is taken: the structure stays valid until
 * shutdown, but the address space is torn down when @p exits unless the
 * caller holds an mm_users reference.
 * Return: the mm, or NULL after exit.
 */
struct mm_struct *pinmm_proc_mm(struct pinmm_proc *p)
{
	return p && !READ_ONCE(p->exited) ? p->mm : NULL;
}
