/* SPDX-License-Identifier: MIT */
/*
 * rcu.h - pinmm's use of liburcu (memb flavor, through <urcu.h>'s
 * kernel-named mapping: rcu_read_lock, call_rcu, synchronize_rcu, ...).
 *
 * Every thread that enters the library is registered with liburcu on its
 * first call (pinmm_thread_enter()); registration is undone when the thread
 * exits.  Users never see any of this.
 */
#ifndef PINMM_RCU_H
#define PINMM_RCU_H

#include <urcu.h>
#include "compiler.h"
#include "explore.h"
#include "lockdep.h"

extern __thread bool pinmm_thread_registered;
void __pinmm_thread_register(void);

/* Call at every public entry point before anything that may use RCU. */
static inline void pinmm_thread_enter(void)
{
	if (unlikely(!pinmm_thread_registered))
		__pinmm_thread_register();
}

#define rcu_read_lock_held() rcu_read_ongoing()

/*
 * The read-side section and the waits for a grace period, seen by the
 * lock validator (lockdep.h) and by the explorer (explore.h).  The
 * validator remembers the outermost rcu_read_lock()'s site, so that a
 * sleep inside the section names it, and synchronize_rcu()/rcu_barrier()
 * are sleeps.  For the explorer the read side is a pair of scheduling
 * points, and synchronize_rcu() in a run is a scheduler wait
 * (__explore_synchronize_rcu()): a reader descheduled inside its section
 * must not make a participant wait for ever.
 */
#undef rcu_read_lock
#undef rcu_read_unlock
#undef synchronize_rcu
#undef rcu_barrier
#define rcu_read_lock() do {						\
	urcu_memb_read_lock();						\
	lockdep_rcu_read_lock(LOCKDEP_SITE);				\
	explore_point(EP_RCU_LOCK, NULL);				\
} while (0)
#define rcu_read_unlock() do {						\
	explore_point(EP_RCU_UNLOCK, NULL);				\
	lockdep_rcu_read_unlock();					\
	urcu_memb_read_unlock();					\
} while (0)
void pinmm_synchronize_rcu(void);
#define synchronize_rcu() do {						\
	might_sleep();							\
	pinmm_synchronize_rcu();					\
} while (0)
void pinmm_rcu_barrier(void);
#define rcu_barrier() do {						\
	might_sleep();							\
	pinmm_rcu_barrier();						\
} while (0)

/*
 * call_rcu() - liburcu's, except in an explorer's run child, where the
 * callbacks wait until the run's threads are done (rcu.c,
 * explore_rcu_defer()): liburcu's worker thread would run them whenever
 * its grace period ended, and a frame freed by one then - a page table -
 * could be handed out or not at the same step of the same schedule, so a
 * schedule would not decide its run.  doc/EXPLORE.md section 1.
 */
#undef call_rcu
void pinmm_call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head));
#define call_rcu(head, func) pinmm_call_rcu(head, func)

#endif /* PINMM_RCU_H */
