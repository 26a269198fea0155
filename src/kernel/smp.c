/* SPDX-License-Identifier: MIT */
/*
 * smp.c - CPU slots of threads (smp.h): assigned on a thread's first
 * per-CPU access, the lowest free one, and given back by a pthread key
 * destructor when the thread exits, so that the threads alive at one time
 * spread over the CPUs of a machine.
 *
 * With every slot taken (more than PINMM_MAX_CPUS live threads) a thread
 * shares the slot pinmm_tid() picks, without owning it.
 */
#include <pthread.h>
#include <stdint.h>

#include "smp.h"
#include "atomic.h"
#include "bug.h"
#include "locking.h"

BUILD_BUG_ON(PINMM_MAX_CPUS > 64);	/* one 64-bit word of owners */

__thread int pinmm_cpu_slot;
static _Atomic uint64_t cpu_slots_owned;	/* bit s: a live thread owns slot s */
static pthread_key_t cpu_slot_key;
static pthread_once_t cpu_slot_once = PTHREAD_ONCE_INIT;

/* Thread exit: give the slot back (the key's value is slot + 1). */
static void cpu_slot_release(void *arg)
{
	uint64_t bit = 1ULL << ((uintptr_t)arg - 1);

	atomic_fetch_and_explicit(&cpu_slots_owned, ~bit, memory_order_relaxed);
}

static void cpu_slot_key_create(void)
{
	BUG_ON(pthread_key_create(&cpu_slot_key, cpu_slot_release) != 0);
}

/**
 * __pinmm_cpu_slot_assign() - give the calling thread its CPU slot.
 *
 * Called once per thread by raw_smp_processor_id().
 * Context: any thread without a slot; lock-free.
 * Return: the slot, in [0, PINMM_MAX_CPUS).
 */
int __pinmm_cpu_slot_assign(void)
{
	uint64_t owned = atomic_load_explicit(&cpu_slots_owned, memory_order_relaxed);
	int s;

	pthread_once(&cpu_slot_once, cpu_slot_key_create);
	for (;;) {
		if (owned == UINT64_MAX) {
			s = (pinmm_tid() - 1) % PINMM_MAX_CPUS;	/* shared, not owned */
			break;
		}
		s = __builtin_ctzll(~owned);
		if (atomic_compare_exchange_weak_explicit(&cpu_slots_owned, &owned,
							  owned | (1ULL << s),
							  memory_order_relaxed,
							  memory_order_relaxed)) {
			BUG_ON(pthread_setspecific(cpu_slot_key, (void *)(uintptr_t)(s + 1)) != 0);
			break;
		}
	}
	pinmm_cpu_slot = s + 1;
	return s;
}
