/* SPDX-License-Identifier: MIT */
/*
 * process.c - processes: creation, fork, exit and the per-thread
 * `current` that <pinmm/linux.h> acts on.
 *
 * A process is an mm plus a file table.  pinmm_exit() tears both down but
 * keeps the struct pinmm_proc (marked exited, every call on it answers
 * -ESRCH) until the machine shuts down, so that a stale pointer held by a
 * user program never turns into a use-after-free.
 */
#include <errno.h>
#include <stdlib.h>
#include "mm.h"
#include "fs.h"
#include "rcu.h"

__thread struct pinmm_proc *pinmm_current_proc;

static struct pinmm_proc *proc_alloc(struct pinmm *m)
{
	struct pinmm_proc *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->machine = m;
	mutex_init(&p->files_lock);
	p->rlimit_memlock = m->cfg.rlimit_memlock;
	INIT_LIST_HEAD(&p->node);
	return p;
}

static void proc_register(struct pinmm *m, struct pinmm_proc *p)
{
	mutex_lock(&m->proc_lock);
	p->pid = ++m->next_pid;
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
		free(p);
		return -ENOMEM;
	}
	p->mm->owner = p;
	proc_register(m, p);
	*out = p;
	return 0;
}

/**
 * pinmm_fork() - a child of @parent: COW copy of private memory, shared
 * MAP_SHARED memory, the same open files; VM_DONTCOPY ranges left out.
 * Context: any thread; takes @parent's mmap_lock for writing.
 * Return: 0, -EINVAL, -ESRCH, -ENOMEM.
 */
int pinmm_fork(struct pinmm_proc *parent, struct pinmm_proc **child)
{
	struct pinmm_proc *p;
	int err = 0;

	pinmm_thread_enter();
	if (!parent || !child)
		return -EINVAL;
	if (parent->exited)
		return -ESRCH;
	p = proc_alloc(parent->machine);
	if (!p)
		return -ENOMEM;
	p->rlimit_memlock = parent->rlimit_memlock;
	p->mm = dup_mm(parent->mm, &err);
	if (!p->mm) {
		mutex_destroy(&p->files_lock);
		free(p);
		return err;
	}
	p->mm->owner = p;
	err = files_dup(p, parent);
	if (err) {
		mmput(p->mm);
		mutex_destroy(&p->files_lock);
		free(p);
		return err;
	}
	proc_register(parent->machine, p);
	*child = p;
	pinmm_debug_boundary(parent->machine);
	return 0;
}

/*
 * Tear @p down.  @exited is set and @mm cleared under proc_lock, which
 * is what a reader of another process's mm (RDMA remote registration)
 * takes: a process seen alive under it has a live mm.
 */
static void do_exit(struct pinmm_proc *p)
{
	struct pinmm *m = p->machine;

	mutex_lock(&m->proc_lock);
	p->exited = true;	/* pinmm_exit() claimed it already; shutdown did not */
	mutex_unlock(&m->proc_lock);
	files_close_all(p);
	p->mm->owner = NULL;
	mmput(p->mm);
	mutex_lock(&m->proc_lock);
	p->mm = NULL;
	mutex_unlock(&m->proc_lock);
}

/**
 * pinmm_exit() - the process exits: its files are closed and its address
 * space torn down (pinned pages survive until unpinned).
 * Context: any thread.
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
	p->exited = true;	/* claim it: a racing exit answers -ESRCH */
	mutex_unlock(&m->proc_lock);
	do_exit(p);
	if (pinmm_current_proc == p)
		pinmm_current_proc = NULL;
	pinmm_debug_boundary(m);
	return 0;
}

/**
 * pinmm_procs_exit_all() - shutdown: exit every live process and free all
 * process structures.
 * Context: machine shutdown; no other thread uses the machine.
 */
void pinmm_procs_exit_all(struct pinmm *m)
{
	struct pinmm_proc *p, *tmp;

	list_for_each_entry(p, &m->procs, node)
		if (!p->exited)
			do_exit(p);
	list_for_each_entry_safe(p, tmp, &m->procs, node) {
		list_del(&p->node);
		mutex_destroy(&p->files_lock);
		free(p->files);
		free(p);
	}
	pinmm_current_proc = NULL;
}

void pinmm_set_current(struct pinmm_proc *p)
{
	pinmm_thread_enter();
	pinmm_current_proc = p;
}

struct pinmm_proc *pinmm_current(void)
{
	return pinmm_current_proc;
}

int pinmm_proc_pid(struct pinmm_proc *p)
{
	return p ? p->pid : -EINVAL;
}

struct pinmm *pinmm_proc_machine(struct pinmm_proc *p)
{
	return p ? p->machine : NULL;
}

/**
 * pinmm_proc_set_rlimit_memlock() - RLIMIT_MEMLOCK of @p, in bytes.
 * Context: any.
 * Return: 0, -EINVAL.
 */
int pinmm_proc_set_rlimit_memlock(struct pinmm_proc *p, uint64_t bytes)
{
	if (!p)
		return -EINVAL;
	p->rlimit_memlock = bytes;
	return 0;
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
	if (p->exited || !p->mm)
		return -ESRCH;
	return atomic_long_read(&p->mm->pinned_vm);
}

/**
 * pinmm_proc_mm() - the mm of @p, for the kernel-facing API.
 * Context: any.
 * Return: the mm, or NULL after exit.
 */
struct mm_struct *pinmm_proc_mm(struct pinmm_proc *p)
{
	return p ? p->mm : NULL;
}
