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

#include "init.h"
#include "machine.h"
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

/* ->exit of order[n - 1] down to order[0]: 0, or -EBUSY if one was unclean. */
static int initcalls_exit(struct pinmm *m, const struct pinmm_initcall **order, int n)
{
	int ret = 0;

	while (n-- > 0)
		if (order[n]->exit && order[n]->exit(m))
			ret = -EBUSY;
	return ret;
}

static void machine_free(struct pinmm *m)
{
	mutex_destroy(&m->huge_zero_lock);
	mutex_destroy(&m->proc_lock);
	vmstat_exit(m);
	free(m);
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
	m = calloc(1, sizeof(*m));
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
 * Order: the initcalls' ->shutdown (RDMA peers are reaped), processes
 * exit, then the initcalls' ->exit from the top layer down: filesystems
 * unmount, pins must be balanced (nr_foll_pin_acquired ==
 * nr_foll_pin_released), RCU callbacks run (page tables are freed by
 * call_rcu), the zero pages are dropped, and every frame of NORMAL, CMA
 * and MOVABLE must be free.  A leak report goes to stderr.  The machine is
 * freed either way.
 * Context: any thread.
 * Return: 0 when clean; -EBUSY after a leak report; -EINVAL for NULL.
 */
int pinmm_shutdown(struct pinmm *m)
{
	const struct pinmm_initcall *order[PINMM_MAX_INITCALLS];
	int n, ret;

	pinmm_thread_enter();
	if (!m)
		return -EINVAL;
	n = initcalls_sorted(order);
	for (int i = n - 1; i >= 0; i--)
		if (order[i]->shutdown)
			order[i]->shutdown(m);
	pinmm_procs_exit_all(m);
	ret = initcalls_exit(m, order, n);
	if (ret)
		fprintf(stderr, "pinmm: shutdown: machine was not clean (seed %" PRIu64 ")\n",
			m->cfg.seed);
	machine_free(m);
	return ret;
}
