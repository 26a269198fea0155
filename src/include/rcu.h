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

extern __thread bool pinmm_thread_registered;
void __pinmm_thread_register(void);

/* Call at every public entry point before anything that may use RCU. */
static inline void pinmm_thread_enter(void)
{
	if (unlikely(!pinmm_thread_registered))
		__pinmm_thread_register();
}

#define rcu_read_lock_held() rcu_read_ongoing()

#endif /* PINMM_RCU_H */
