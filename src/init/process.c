/* SPDX-License-Identifier: MIT */
/*
 * process.c - processes: creation, fork and exit (Linux's kernel/fork.c
 * and kernel/exit.c).  The handles and the per-thread `current` are the
 * ground layer's (kernel/machine.c); the mm references a call takes,
 * get_proc_mm() and get_current_mm(), are mm's (mm/mm_struct.c).
 *
 * A process is an mm plus a file table.  pinmm_exit() closes the files and
 * drops the process's own mm_users reference; the address space is torn
 * down by the last mmput(), which may come later from a call still running
 * on another thread.
 *
 * The struct pinmm_proc itself is reference counted (@usage, Linux's
 * task_struct usage): one reference is the process being alive (dropped
 * by pinmm_exit()), one is the caller's handle (dropped by
 * pinmm_proc_put(), Linux's reaping by wait()), and pinmm_proc_get() adds
 * more.  The last put unlinks the process and frees it with its file table
 * and its mm_count reference on the mm, so fork+exit loops that release
 * their handles run in bounded host memory.  While the handle is held, an
 * exited process answers -ESRCH to every call, and @p->mm never changes
 * (the process holds an mm_count reference on it).  Shutdown frees every
 * process whatever its count (doc/DESIGN.md "Process and mm lifetimes").
 *
 * Every call that works on a process's memory runs as a syscall of that
 * process: it takes an mm_users reference with get_proc_mm() (for
 * `current`, get_current_mm()) on entry and drops it with mmput() on
 * return, so a concurrent pinmm_exit() never frees the address space under
 * a fault, a GUP walk or a load.
 */
#include <errno.h>
#include <stdlib.h>
#include "mm.h"
#include "fs.h"
#include "rcu.h"
#include "fault_inject.h"

static struct pinmm_proc *proc_alloc(struct pinmm *m)
{
	struct pinmm_proc *p = kzalloc(sizeof(*p));

	if (!p)
		return NULL;
	p->machine = m;
	mutex_init(&p->files_lock);
	p->rlimit_memlock = m->cfg.rlimit_memlock;
	INIT_LIST_HEAD(&p->node);
	atomic_set(&p->usage, 2);	/* alive + the caller's handle */
	return p;
}

/* Free a process nobody refers to any more (or everything, at shutdown). */
static void proc_free(struct pinmm_proc *p)
{
	mmdrop(p->mm);
	mutex_destroy(&p->files_lock);
	kfree(p->files);
	kfree(p);
}

/* Drop a reference on @p; the last unlinks and frees it. */
/*
 * proc_release() - the last reference of @p went (kernel/machine.c's
 * pinmm_proc_put(), through pinmm_proc_release, which pinmm_boot() sets):
 * unlink and free it.
 */
void proc_release(struct pinmm_proc *p)
{
	struct pinmm *m = p->machine;

	VM_BUG_ON(!READ_ONCE(p->exited));
	mutex_lock(&m->proc_lock);
	list_del(&p->node);
	mutex_unlock(&m->proc_lock);
	proc_free(p);
}

static void proc_register(struct pinmm *m, struct pinmm_proc *p)
{
	mutex_lock(&m->proc_lock);
	p->pid = ++m->next_pid;
	p->mm->owner_pid = p->pid;
	list_add_tail(&p->node, &m->procs);
	mutex_unlock(&m->proc_lock);
}

/**
 * pinmm_proc_create() - a new process with an empty address space.
 * Context: any thread.
 * Return: 0, -EINVAL, -ENOMEM.
 */
int pinmm_proc_create(struct pinmm *m, struct pinmm_proc **out)
{
	struct pinmm_proc *p;

	pinmm_thread_enter();
	if (!m || !out)
		return -EINVAL;
	p = proc_alloc(m);
	if (!p)
		return -ENOMEM;
	p->mm = mm_alloc(m);
	if (!p->mm) {
		mutex_destroy(&p->files_lock);
		kfree(p);
		return -ENOMEM;
	}
	mmgrab(p->mm);		/* @p->mm stays valid memory until @p is freed */
	proc_register(m, p);
	*out = p;
	return 0;
}

/**
 * pinmm_fork() - a child of @parent: COW copy of private memory, shared
 * MAP_SHARED memory, the same open files; VM_DONTCOPY ranges left out.
 * Context: any thread; takes @parent's mmap_lock for writing and holds an
 * mm_users reference on @parent's mm (a concurrent exit of @parent waits
 * for the copy to finish before the parent's memory is torn down).
 * Return: 0, -EINVAL, -ESRCH, -ENOMEM.
 */
int pinmm_fork(struct pinmm_proc *parent, struct pinmm_proc **child)
{
	struct mm_struct *oldmm;
	struct pinmm_proc *p;
	int err = 0;

	pinmm_thread_enter();
	if (!parent || !child)
		return -EINVAL;
	oldmm = get_proc_mm(parent);
	if (!oldmm)
		return -ESRCH;
	p = proc_alloc(parent->machine);
	if (!p) {
		err = -ENOMEM;
		goto out;
	}
	p->rlimit_memlock = parent->rlimit_memlock;
	p->mm = dup_mm(oldmm, &err);
	if (!p->mm)
		goto free_proc;
	err = files_dup(p, parent);
	if (err) {
		mmput(p->mm);
		goto free_proc;
	}
	mmgrab(p->mm);
	proc_register(parent->machine, p);
	*child = p;
	mmput(oldmm);
	pinmm_debug_boundary(parent->machine);
	return 0;

free_proc:
	mutex_destroy(&p->files_lock);
	kfree(p);
out:
	mmput(oldmm);
	return err;
}

/*
 * Tear @p down.  @exited is set under proc_lock first, so that new calls
 * answer -ESRCH; then the files are closed and the process's own mm_users
 * reference dropped.  A call that got its reference before that keeps the
 * address space alive until it returns: its mmput() is then the last and
 * runs exit_mmap().  @p->mm itself (the structure) stays, see the header.
 */
static void do_exit(struct pinmm_proc *p)
{
	struct pinmm *m = p->machine;

	/* MEMORY-ORDERING.md (j) exit 1 (pinmm_exit() claimed it already). */
	mutex_lock(&m->proc_lock);
	WRITE_ONCE(p->exited, true);
	mutex_unlock(&m->proc_lock);
	files_close_all(p);	/* (j) exit 2 */
	mmput(p->mm);		/* (j) exit 3: the last user tears it down */
}

/**
 * pinmm_exit() - the process exits: its files are closed and its address
 * space torn down (pinned pages survive until unpinned).
 * @p: the process.
 *
 * Calls on @p that are running on other threads keep the address space
 * until they return (the last of them tears it down); calls that start
 * later, on the handle or on a thread whose `current` is @p, answer
 * -ESRCH.  The exit drops the process's own reference: the structure is
 * freed when the handle is released as well (pinmm_proc_put()).
 *
 * Context: any thread; must not hold a lock of @p's mm.  If @p is the
 * calling thread's `current`, the thread has no current process after.
 * Return: 0, -EINVAL, -ESRCH (already exited).
 */
int pinmm_exit(struct pinmm_proc *p)
{
	struct pinmm *m;

	pinmm_thread_enter();
	if (!p)
		return -EINVAL;
	m = p->machine;
	mutex_lock(&m->proc_lock);
	if (p->exited) {
		mutex_unlock(&m->proc_lock);
		return -ESRCH;
	}
	WRITE_ONCE(p->exited, true);	/* claim it: a racing exit answers -ESRCH */
	mutex_unlock(&m->proc_lock);
	do_exit(p);
	if (pinmm_current_proc == p)
		pinmm_current_proc = NULL;
	pinmm_debug_boundary(m);
	pinmm_proc_put(p);			/* the alive reference */
	return 0;
}

/**
 * pinmm_mmget() - an mm_users reference on @p's address space, for a
 * remote user (Linux's get_task_mm()).
 * @p: the process; the caller holds its handle or a reference.
 * @mmp: receives the mm.
 *
 * While the reference is held the address space stays mapped, also after
 * @p exits or is freed: pin_user_pages_remote() and mmap_read_lock() on it
 * are safe.  Drop it with pinmm_mmput().
 *
 * Context: any thread.
 * Return: 0, -EINVAL, -ESRCH when @p has exited.
 */
int pinmm_mmget(struct pinmm_proc *p, struct mm_struct **mmp)
{
	struct mm_struct *mm;

	pinmm_thread_enter();
	if (!p || !mmp)
		return -EINVAL;
	mm = get_proc_mm(p);
	if (!mm)
		return -ESRCH;
	*mmp = mm;
	return 0;
}

/**
 * pinmm_mmput() - drop a reference from pinmm_mmget(); the last user of an
 * exited process's address space tears it down.
 * @mm: the mm, or NULL.
 *
 * Context: any thread; must not hold @mm's mmap_lock.
 */
void pinmm_mmput(struct mm_struct *mm)
{
	pinmm_thread_enter();
	if (mm)
		mmput(mm);
}

/**
 * pinmm_procs_exit_all() - shutdown: exit every live process and free all
 * process structures, whatever references are still held on them.
 * Context: machine shutdown; no other thread uses the machine.
 */
void pinmm_procs_exit_all(struct pinmm *m)
{
	struct pinmm_proc *p, *tmp;

	list_for_each_entry(p, &m->procs, node)
		if (!p->exited)
			do_exit(p);
	mutex_lock(&m->proc_lock);
	list_for_each_entry_safe(p, tmp, &m->procs, node) {
		list_del(&p->node);
		mutex_unlock(&m->proc_lock);
		proc_free(p);
		mutex_lock(&m->proc_lock);
	}
	mutex_unlock(&m->proc_lock);
	pinmm_current_proc = NULL;
}
