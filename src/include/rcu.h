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
 * The read side and synchronize_rcu() with the explorer's points
 * (explore.h): a reader descheduled inside its section must not make a
 * participant's synchronize_rcu() wait for ever, so in a run that is a
 * scheduler wait (__explore_synchronize_rcu()).
 */
#undef rcu_read_lock
#undef rcu_read_unlock
#undef synchronize_rcu
static inline void rcu_read_lock(void)
{
	urcu_memb_read_lock();
	explore_point(EP_RCU_LOCK, NULL);
}
static inline void rcu_read_unlock(void)
{
	explore_point(EP_RCU_UNLOCK, NULL);
	urcu_memb_read_unlock();
}
void pinmm_synchronize_rcu(void);
#define synchronize_rcu() pinmm_synchronize_rcu()

#endif /* PINMM_RCU_H */
