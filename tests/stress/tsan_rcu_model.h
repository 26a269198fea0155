/* SPDX-License-Identifier: MIT */
/*
 * tsan_rcu_model.h - the TSan model of liburcu's call_rcu() hand-off and
 * grace periods, for a TSan build of a program that drives libpinmm from
 * several threads: the stress tests (through stress_common.h) and the
 * pinmm tool (`pinmm torture`, tools/pinmm/torture_tsan.c).  Include it in
 * exactly one translation unit of the executable; it is empty unless the
 * compiler instruments for ThreadSanitizer.
 */
#ifndef PINMM_TSAN_RCU_MODEL_H
#define PINMM_TSAN_RCU_MODEL_H

#include <stdatomic.h>
#include <stdlib.h>

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#ifndef STRESS_TSAN
#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
#define STRESS_TSAN 1
#else
#define STRESS_TSAN 0
#endif
#endif

#if STRESS_TSAN
/*
 * TSan model of liburcu (TSan builds of the stress tests only).
 *
 * liburcu 0.13 is not instrumented: the hand-off of an object from
 * call_rcu() to the call_rcu thread (a wait-free queue inside the library)
 * and the grace period (membarrier + futexes) are invisible to TSan.  It
 * then reports every access made before call_rcu() - and every lockless
 * read made under rcu_read_lock() - as racing with the callback's free
 * and with whatever the freed frame is reused for.  These definitions
 * interpose the library's exported entry points (pinmm calls them through
 * <urcu.h> without _LGPL_SOURCE, so the executable's definitions win) and
 * tell TSan what liburcu guarantees:
 *
 *  - call_rcu(head, f): release on @head; the callback acquires @head
 *    before f runs (the queue hand-off: exact, per object);
 *  - rcu_read_unlock(): release on a global "grace period" token; each
 *    callback, and synchronize_rcu() on return, acquire it.  This is a
 *    superset of the real guarantee (a callback is ordered after the
 *    readers that were running when call_rcu() was called, not after all
 *    readers), so it can hide a race whose two accesses are separated by a
 *    grace period; it cannot create false reports;
 *  - rcu_barrier(): acquires a token every callback releases when done.
 *
 * Nothing of pinmm's own synchronisation is modelled here: its locks and
 * atomics are instrumented.  See tests/tsan.supp for the suppressions that
 * remain.
 */
#include <dlfcn.h>

struct rcu_head;
typedef void (*stress_rcu_cb_t)(struct rcu_head *);

void __tsan_acquire(void *addr);
void __tsan_release(void *addr);

void urcu_memb_read_unlock(void);
void urcu_memb_call_rcu(struct rcu_head *head, stress_rcu_cb_t func);
void urcu_memb_barrier(void);
void urcu_memb_synchronize_rcu(void);

static char stress_rcu_gp_token, stress_rcu_cb_token;

/* One trampoline per distinct callback function (pinmm has one). */
#define STRESS_RCU_SLOTS 8
static _Atomic(stress_rcu_cb_t) stress_rcu_funcs[STRESS_RCU_SLOTS];

#define STRESS_RCU_TRAMP(i)						\
static void stress_rcu_tramp##i(struct rcu_head *head)			\
{									\
	stress_rcu_cb_t f = atomic_load_explicit(&stress_rcu_funcs[i],	\
						 memory_order_relaxed);	\
	__tsan_acquire(head);						\
	__tsan_acquire(&stress_rcu_gp_token);				\
	f(head);							\
	__tsan_release(&stress_rcu_cb_token);				\
}
STRESS_RCU_TRAMP(0) STRESS_RCU_TRAMP(1) STRESS_RCU_TRAMP(2) STRESS_RCU_TRAMP(3)
STRESS_RCU_TRAMP(4) STRESS_RCU_TRAMP(5) STRESS_RCU_TRAMP(6) STRESS_RCU_TRAMP(7)

static const stress_rcu_cb_t stress_rcu_tramps[STRESS_RCU_SLOTS] = {
	stress_rcu_tramp0, stress_rcu_tramp1, stress_rcu_tramp2, stress_rcu_tramp3,
	stress_rcu_tramp4, stress_rcu_tramp5, stress_rcu_tramp6, stress_rcu_tramp7,
};

static void *stress_rcu_real(_Atomic(void *) *cache, const char *name)
{
	void *fn = atomic_load_explicit(cache, memory_order_relaxed);

	if (!fn) {
		fn = dlsym(RTLD_NEXT, name);
		if (!fn)
			abort();
		atomic_store_explicit(cache, fn, memory_order_relaxed);
	}
	return fn;
}

static stress_rcu_cb_t stress_rcu_tramp_for(stress_rcu_cb_t func)
{
	for (int i = 0; i < STRESS_RCU_SLOTS; i++) {
		stress_rcu_cb_t cur = atomic_load_explicit(&stress_rcu_funcs[i],
							   memory_order_relaxed);

		if (cur == func)
			return stress_rcu_tramps[i];
		if (!cur && atomic_compare_exchange_strong_explicit(&stress_rcu_funcs[i], &cur,
				func, memory_order_relaxed, memory_order_relaxed))
			return stress_rcu_tramps[i];
		if (cur == func)
			return stress_rcu_tramps[i];
	}
	return func;	/* out of slots: unannotated */
}

void urcu_memb_read_unlock(void)
{
	static _Atomic(void *) real;

	__tsan_release(&stress_rcu_gp_token);
	((void (*)(void))stress_rcu_real(&real, "urcu_memb_read_unlock"))();
}

void urcu_memb_call_rcu(struct rcu_head *head, stress_rcu_cb_t func)
{
	static _Atomic(void *) real;

	__tsan_release(head);
	((void (*)(struct rcu_head *, stress_rcu_cb_t))
	 stress_rcu_real(&real, "urcu_memb_call_rcu"))(head, stress_rcu_tramp_for(func));
}

void urcu_memb_barrier(void)
{
	static _Atomic(void *) real;

	((void (*)(void))stress_rcu_real(&real, "urcu_memb_barrier"))();
	__tsan_acquire(&stress_rcu_cb_token);
}

void urcu_memb_synchronize_rcu(void)
{
	static _Atomic(void *) real;

	((void (*)(void))stress_rcu_real(&real, "urcu_memb_synchronize_rcu"))();
	__tsan_acquire(&stress_rcu_gp_token);
}
#endif /* STRESS_TSAN */

#endif /* PINMM_TSAN_RCU_MODEL_H */
