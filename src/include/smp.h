/* SPDX-License-Identifier: MIT */
/*
 * smp.h - which simulated CPU the calling thread runs on.
 *
 * pinmm models CPUs as the threads that enter it.  Every thread gets a CPU
 * slot on its first use of per-CPU data: the lowest slot in
 * [0, PINMM_MAX_CPUS) no live thread holds, given back when the thread
 * exits (smp.c).  A machine with cfg.nr_cpus CPUs maps slot s to CPU
 * s % nr_cpus (smp_processor_id_m(), machine.h), so up to nr_cpus threads
 * that run at the same time each have a CPU of their own; more threads
 * share CPUs.  Linux pins a task to its CPU by disabling preemption around
 * per-CPU accesses; a pinmm thread cannot stop another thread that shares
 * its CPU, so per-CPU data is still protected by a lock (the pcp lists) or
 * updated with relaxed atomics (the vmstat counters) - uncontended in the
 * common case, which is what per-CPU data buys.  doc/DESIGN.md, "Per-CPU
 * data".
 */
#ifndef PINMM_SMP_H
#define PINMM_SMP_H

#include "compiler.h"

/* Upper bound of cfg.nr_cpus and of the process-wide CPU slots. */
#define PINMM_MAX_CPUS	64

extern __thread int pinmm_cpu_slot;	/* slot + 1; 0 until assigned */
int __pinmm_cpu_slot_assign(void);

/*
 * raw_smp_processor_id() - the calling thread's CPU slot, in
 * [0, PINMM_MAX_CPUS).  Stable for the life of the thread.
 */
static inline int raw_smp_processor_id(void)
{
	int s = pinmm_cpu_slot;

	if (likely(s))
		return s - 1;
	return __pinmm_cpu_slot_assign();
}

#endif /* PINMM_SMP_H */
