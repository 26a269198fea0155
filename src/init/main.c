/* SPDX-License-Identifier: MIT */
/*
 * main.c - boot and shutdown of a machine (struct pinmm): the machine
 * structure itself, and the initcalls (init.h) that bring every subsystem
 * up and down.  This file names no subsystem: each one registers its hooks
 * with pinmm_initcall() beside its own code, at a level of its layer.
 *
 * Boot: the structure, then every ->init in increasing level; a failure
 * undoes the hooks already run, in decreasing level.  Shutdown: every
 * ->shutdown in decreasing level (stop what still runs: RDMA peers), every
 * process exits (process.c), then every ->exit in decreasing level; each
 * ->exit reports on stderr what it finds still held (frames, pins, zero
 * page references) and the machine is then "not clean".  The machine is
 * freed either way.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <time.h>

#include "fault_inject.h"
#include "init.h"
#include "mm.h"
#include "pin_policy.h"
#include "rcu.h"

#define PINMM_MAX_INITCALLS	32

/* Defined by the linker for the section pinmm_initcall() places hooks in. */
extern const struct pinmm_initcall *const __start_pinmm_initcalls[] __attribute__((weak));
extern const struct pinmm_initcall *const __stop_pinmm_initcalls[] __attribute__((weak));

/*
 * The registered hooks in increasing level, in @order; returns how many.
 * Two hooks at one level are a registration bug (their order would be the
 * link order): BUG.
 */
static int initcalls_sorted(const struct pinmm_initcall **order)
{
	int n = 0;

	if (!__start_pinmm_initcalls)
		return 0;
	for (const struct pinmm_initcall *const *c = __start_pinmm_initcalls;
	     c < __stop_pinmm_initcalls; c++) {
		int i = n++;

		BUG_ON(n > PINMM_MAX_INITCALLS);
		/* Insertion sort: a handful of hooks. */
		while (i > 0 && order[i - 1]->level > (*c)->level) {
			order[i] = order[i - 1];
			i--;
		}
		BUG_ON(i > 0 && order[i - 1]->level == (*c)->level);
		order[i] = *c;
	}
	return n;
}

/*
 * ->exit of order[n - 1] down to order[0]: 0; -EBUSY if one found
 * something still held (a leak); else the first other error (the final
 * writeback's -EIO).
 */
static int initcalls_exit(struct pinmm *m, const struct pinmm_initcall **order, int n)
{
	int ret = 0;

	while (n-- > 0) {
		int e = order[n]->exit ? order[n]->exit(m) : 0;

		if (e == -EBUSY || (e && !ret))
			ret = e;
	}
	return ret;
}

/* Name the holder of a held mmap_lock for the message of shutdown_wait_unlocked(). */
static void describe_holder(const struct rw_semaphore *sem, char *buf, size_t size)
{
	int writer = atomic_load_explicit(&sem->owner, memory_order_relaxed);
	int readers = atomic_load_explicit(&sem->readers, memory_order_relaxed);
	int last = atomic_load_explicit(&sem->last_reader, memory_order_relaxed);

	if (writer)
		snprintf(buf, size, "for writing by tid %d%s", writer,
			 writer == pinmm_tid() ? ", the calling thread" : "");
	else
		snprintf(buf, size, "for reading by %d thread(s), the latest tid %d%s", readers,
			 last, last == pinmm_tid() ? ", the calling thread" : "");
}

/*
 * Shutdown needs the mmap_lock of every address space for writing (the
 * last mmput() runs exit_mmap()).  A caller that still holds one, as
 * mmap_read_lock() lets it, would make it wait forever: wait for each at
 * most cfg.shutdown_wait_ms, then name the holder and give up with
 * -EDEADLK before anything is torn down.  This is not a leak (-EBUSY, the
 * machine gone): the machine stays booted, for a pinmm_shutdown() after
 * the unlock.  Context: shutdown; no other thread may take new locks of
 * the machine, so a lock free once stays free.
 */
static int shutdown_wait_unlocked(struct pinmm *m)
{
	uint64_t deadline = pin_policy_now_ns() + m->cfg.shutdown_wait_ms * 1000000ull;
	struct timespec tick = { .tv_nsec = 1000 * 1000 };
	struct mm_struct *mm;
	char holder[96];
	int ret = 0;

	mutex_lock(&m->proc_lock);
	list_for_each_entry(mm, &m->mm_list, mmlist) {
		if (!atomic_read(&mm->mm_users))
			continue;
		while (!down_write_trylock(&mm->mmap_lock)) {
			if (pin_policy_now_ns() >= deadline) {
				describe_holder(&mm->mmap_lock, holder, sizeof(holder));
				fprintf(stderr, "pinmm: shutdown: the mmap_lock of pid %d's mm is "
					"still held %s after %" PRIu64 " ms; nothing torn down, "
					"the machine is still booted: unlock it and call "
					"pinmm_shutdown() again\n", mm->owner_pid, holder,
					m->cfg.shutdown_wait_ms);
				ret = -EDEADLK;
				goto out;
			}
			might_sleep();
			nanosleep(&tick, NULL);
		}
		up_write(&mm->mmap_lock);
	}
out:
	mutex_unlock(&m->proc_lock);
	return ret;
}

static void machine_free(struct pinmm *m)
{
	mutex_destroy(&m->huge_zero_lock);
	mutex_destroy(&m->proc_lock);
	vmstat_exit(m);
	kfree(m);
}

/**
 * pinmm_boot() - boot a machine described by @cfg.
 * @cfg: a configuration from pinmm_config_default() and pinmm_config_set()
 * @out: receives the machine
 *
 * Layout, low to high pfn: NORMAL | CMA | MOVABLE (together cfg.ram) |
 * DEVICE (cfg.pmem).  Only host address space is reserved; a 16 GiB machine
 * boots in milliseconds.
 * Context: any thread.
 * Return: 0; -EINVAL for a NULL argument or an invalid configuration (a
 * message on stderr), -ENOMEM when the host refuses the reservation,
 * -ENOSPC with 64 machines already booted, or the error of the initcall
 * that failed (an invalid pinfs image: -EINVAL, -EUCLEAN).
 */
int pinmm_boot(const struct pinmm_config *cfg, struct pinmm **out)
{
	const struct pinmm_initcall *order[PINMM_MAX_INITCALLS];
	struct pinmm *m;
	int n, i, ret = 0;

	pinmm_thread_enter();
	if (!cfg || !out)
		return -EINVAL;
	*out = NULL;
	ret = pinmm_config_validate(cfg);
	if (ret)
		return ret;
	pinmm_proc_release = proc_release;	/* the last pinmm_proc_put() */
	ret = fail_attr_from_config(cfg);	/* fail.*: boot itself may fail */
	if (ret)
		return ret;
	m = kzalloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->cfg = *cfg;
	m->debug = cfg->debug;
	m->nr_cpus = (unsigned int)cfg->nr_cpus;
	mutex_init(&m->huge_zero_lock);
	mutex_init(&m->proc_lock);
	INIT_LIST_HEAD(&m->procs);
	INIT_LIST_HEAD(&m->mm_list);
	m->next_pid = 1;
	m->rng = cfg->seed;
	atomic_long_set(&m->audit_errors, 0);
	/* warn_count reads as the WARNs since this boot (vmstat.c). */
	atomic_long_set(&m->vmstat[WARN_COUNT], -pinmm_warn_count());
	if (vmstat_init(m)) {
		machine_free(m);
		return -ENOMEM;
	}

	n = initcalls_sorted(order);
	for (i = 0; i < n; i++) {
		if (!order[i]->init)
			continue;
		ret = order[i]->init(m);
		if (ret)
			break;
	}
	if (ret) {
		initcalls_exit(m, order, i);
		machine_free(m);
		return ret;
	}
	*out = m;
	return 0;
}

/**
 * pinmm_shutdown() - exit every process and tear the machine down.
 * @m: the machine; no other thread may use it any more
 *
 * First every address space's mmap_lock must be free: a lock the caller
 * still holds (mmap_read_lock()) is waited for at most cfg.shutdown_wait_ms
 * (shutdown.wait_ms), then the holder is named on stderr and -EDEADLK is
 * returned with nothing torn down: the machine is still booted, and a
 * later pinmm_shutdown() after the unlock completes.
 *
 * Then: the initcalls' ->shutdown (RDMA peers are reaped), processes
 * exit, then the initcalls' ->exit from the top layer down: filesystems
 * unmount (with their final writeback), pins must be balanced
 * (nr_foll_pin_acquired == nr_foll_pin_released), RCU callbacks run (page
 * tables are freed by call_rcu), the zero pages are dropped, and every
 * frame of NORMAL, CMA and MOVABLE must be free.  A leak report goes to
 * stderr.  The machine and all its host memory are freed either way, also
 * when pins leaked.
 * Context: any thread; must not hold a lock of @m.
 * Return: 0 when clean; -EBUSY after a leak report (the machine is gone);
 * -EDEADLK when an mmap_lock stayed held (the machine is still booted);
 * the error of the final writeback
 * (-EIO: data or metadata did not reach a pinfs image, which may then need
 * 'pinmm fsck') when that is the only problem; -EINVAL for NULL.
 */
int pinmm_shutdown(struct pinmm *m)
{
	const struct pinmm_initcall *order[PINMM_MAX_INITCALLS];
	int n, ret;

	pinmm_thread_enter();
	if (!m)
		return -EINVAL;
	ret = shutdown_wait_unlocked(m);
	if (ret)
		return ret;
	n = initcalls_sorted(order);
	for (int i = n - 1; i >= 0; i--)
		if (order[i]->shutdown)
			order[i]->shutdown(m);
	pinmm_procs_exit_all(m);
	ret = initcalls_exit(m, order, n);
	if (ret == -EBUSY)
		fprintf(stderr, "pinmm: shutdown: machine was not clean (seed %" PRIu64 ")\n",
			m->cfg.seed);
	else if (ret)
		fprintf(stderr, "pinmm: shutdown: final writeback failed (%d)\n", ret);
	machine_free(m);
	return ret;
}
