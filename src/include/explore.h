/* SPDX-License-Identifier: MIT */
/*
 * explore.h - the scheduling points of the interleaving explorer
 * (doc/EXPLORE.md): the hooks that the lock, wait, RCU, refcount and
 * page-table wrappers call.
 *
 * Off (every process that is not an explorer's run child), a hook is one
 * relaxed load of explore_enabled and a not-taken branch.  On, the calling
 * thread - if it is one of the run's participating threads - stops at the
 * point, and the controlled scheduler (kernel/explore.c) picks which
 * participating thread runs the next segment: exactly one runs at a time.
 * A thread that is not a participant (the run's controller, liburcu's own
 * threads) passes every point untouched.
 *
 * Blocking: a participant whose point is an acquire of a lock that is held
 * (EP_SPIN_LOCK, EP_MUTEX_LOCK, EP_RWSEM_READ/WRITE), a wait not yet woken
 * (EP_WAIT) or a synchronize_rcu() with an older reader still inside its
 * section (EP_SYNC_RCU) is not picked until the object lets it through;
 * so the real pthread acquire that follows the point never blocks.
 * A busy-wait loop (EP_SPIN, before each retry) is picked only when no
 * thread at another kind of point can run: the thread it waits for gets
 * to finish, and a spin that nothing can end still ends as a livelock.
 */
#ifndef PINMM_EXPLORE_H
#define PINMM_EXPLORE_H

#include <stdatomic.h>
#include "compiler.h"

enum explore_kind {
	EP_START,		/* a participant's first point */
	EP_SPIN_LOCK,		/* acquires: blocked while the lock is held */
	EP_MUTEX_LOCK,
	EP_RWSEM_READ,
	EP_RWSEM_WRITE,
	EP_TRYLOCK,		/* never blocked: the try may fail */
	EP_UNLOCK,		/* after any release */
	EP_SEQ_WRITE,		/* write_seqcount begin/end */
	EP_SEQ_READ,		/* seqcount read/retry */
	EP_REF,			/* refcount/pincount RMW */
	EP_PTE_READ,		/* PTE/PMD load */
	EP_PTE_WRITE,		/* PTE/PMD store, exchange, cmpxchg */
	EP_RCU_LOCK,		/* rcu_read_lock(), after entering */
	EP_RCU_UNLOCK,		/* rcu_read_unlock(), before leaving */
	EP_WAIT,		/* a sleep of wait.c: blocked until woken */
	EP_WAIT_TIMED,		/* ... or picked as timed out when all are blocked */
	EP_SYNC_RCU,		/* synchronize_rcu(): blocked by older readers */
	EP_USER,		/* a race program's own point */
	EP_SPIN,		/* a busy-wait retry: runs only when nobody else can */
	EP_NR_KINDS
};

/* Non-zero only inside an explorer's run child, while its threads run. */
extern _Atomic int explore_enabled;

void __explore_point(enum explore_kind kind, const void *obj);
void __explore_wake(const void *wq);
bool __explore_participant(void);
void __explore_wait(const void *wq, bool timed, bool *timed_out);
void __explore_synchronize_rcu(void);

static __always_inline bool explore_on(void)
{
	return unlikely(atomic_load_explicit(&explore_enabled, memory_order_relaxed));
}

/*
 * explore_point() - a scheduling point of kind @kind on object @obj (a lock,
 * a wait queue, a folio, a PTE; NULL for RCU).  Context: any.
 */
static __always_inline void explore_point(enum explore_kind kind, const void *obj)
{
	if (explore_on())
		__explore_point(kind, obj);
}

/* explore_wake() - sleepers of @wq may run again.  Context: any. */
static __always_inline void explore_wake(const void *wq)
{
	if (explore_on())
		__explore_wake(wq);
}

/* explore_participant() - the caller is a thread of the scheduler. */
static __always_inline bool explore_participant(void)
{
	return explore_on() && __explore_participant();
}

/*
 * The run's clock (kernel/explore.c): a participant reads it instead of
 * CLOCK_MONOTONIC (wait.c's deadlines, pin_policy_now_ns()).  It stands
 * still while the threads run and moves only when the scheduler lets a
 * timed wait expire (nothing else can run): to that wait's deadline.  So a
 * timeout passes at a step the schedule decides, never because the host
 * was slow.  explore_now() returns false for any other thread.
 */
bool __explore_now(uint64_t *ns);
void __explore_clock_advance(uint64_t ns);

static __always_inline bool explore_now(uint64_t *ns)
{
	return explore_on() && __explore_now(ns);
}

/*
 * RCU callbacks in a run child (rcu.h's call_rcu()): from
 * explore_rcu_defer_begin() (the child, before its setup) they are kept
 * and run by the controller once the run's threads are done, so a schedule
 * alone decides what is freed when.  explore_rcu_defer() returns false
 * outside a run child (and when it cannot keep one: liburcu takes it).
 */
struct rcu_head;
void explore_rcu_defer_begin(void);
bool explore_rcu_defer(struct rcu_head *head, void (*func)(struct rcu_head *head));
void explore_rcu_flush(void);

/* bug.c: a BUG in a run child is recorded as that run's violation. */
void explore_note_bug(const char *file, int line, const char *cond);

#endif /* PINMM_EXPLORE_H */
