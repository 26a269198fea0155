/* SPDX-License-Identifier: MIT */
/*
 * lockdep.h - the lock validator's interface (src/kernel/lockdep.c), as
 * Linux's <linux/lockdep.h>: lock classes, the acquire/release hooks that
 * the wrappers of locking.h call, might_sleep() and the report counters.
 *
 * A lock class is the set of locks initialised at one place: the init
 * macros of locking.h pass a static struct lock_class_key of the call site
 * and the stringified lock expression, which names the class.  A lock
 * initialised statically (DEFINE_MUTEX()) or never initialised is its own
 * class, keyed by its address.  A class has up to MAX_LOCKDEP_SUBCLASSES
 * subclasses (the *_nested() forms): each is a class of its own in the
 * dependency graph, named "name/N".
 *
 * With CONFIG_LOCKDEP (meson option lockdep, default: on with debug_vm)
 * every acquire and release goes through lock_acquire()/lock_release();
 * without it the hooks are empty inlines and the sites are NULL, so the
 * wrappers compile to what they were before.  A later interleaving
 * scheduler hooks the same two functions (doc/LOCKING.md).
 */
#ifndef PINMM_LOCKDEP_H
#define PINMM_LOCKDEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "atomic.h"

#ifndef CONFIG_LOCKDEP
#define CONFIG_LOCKDEP 0
#endif

#define MAX_LOCKDEP_SUBCLASSES	8U
#define SINGLE_DEPTH_NESTING	1

/* One per lock initialisation site (static storage): the class index. */
struct lock_class_key {
	_Atomic unsigned int class_idx;		/* 0 until first registered */
};

/* What a lock carries for the validator: its class (0: not yet known). */
struct lockdep_map {
	_Atomic unsigned int class_idx;
};

/* An acquisition or sleep site: static, one per call site. */
struct lockdep_site {
	const char *file;
	int line;
	const char *func;
};

enum lockdep_lock_kind {
	LD_SPIN,		/* spinlock_t: may not sleep under it */
	LD_MUTEX,		/* struct mutex */
	LD_RWSEM,		/* struct rw_semaphore */
};

/* The kinds of report; NR_LOCKDEP_REPORTS counts them all together. */
enum lockdep_report {
	LOCKDEP_CIRCULAR,	/* a cycle in the class dependency graph */
	LOCKDEP_RECURSION,	/* a class taken again while held */
	LOCKDEP_BAD_UNLOCK,	/* release of a lock this thread does not hold */
	LOCKDEP_HELD_AT_EXIT,	/* a thread ended holding a lock */
	LOCKDEP_SLEEP_SPIN,	/* a sleep while holding a spinlock */
	LOCKDEP_SLEEP_RCU,	/* a sleep inside rcu_read_lock() */
	LOCKDEP_OVERFLOW,	/* a table of the validator is full */
	NR_LOCKDEP_REPORTS
};

#if CONFIG_LOCKDEP

#define LOCKDEP_SITE (__extension__({					\
	static const struct lockdep_site __lds = { __FILE__, __LINE__, __func__ }; \
	&__lds;								\
}))

void lockdep_init_map(struct lockdep_map *map, const char *name,
		      struct lock_class_key *key, enum lockdep_lock_kind kind);
void lock_acquire(struct lockdep_map *map, const char *static_name, const void *instance,
		  enum lockdep_lock_kind kind, unsigned int subclass, bool read,
		  bool trylock, const void *nest_lock, const struct lockdep_site *site);
bool lock_release(struct lockdep_map *map, const void *instance,
		  const struct lockdep_site *site);
bool lock_is_held_by_me(const void *instance);
void lockdep_might_sleep(const struct lockdep_site *site, const char *what);
void lockdep_rcu_read_lock(const struct lockdep_site *site);
void lockdep_rcu_read_unlock(void);
void lockdep_thread_exit(const char *who);
int lockdep_depth(void);

#define might_sleep() lockdep_might_sleep(LOCKDEP_SITE, __func__)

#else /* !CONFIG_LOCKDEP */

#define LOCKDEP_SITE ((const struct lockdep_site *)NULL)

static inline void lockdep_init_map(struct lockdep_map *map, const char *name,
				    struct lock_class_key *key, enum lockdep_lock_kind kind)
{
	(void)map; (void)name; (void)key; (void)kind;
}
static inline void lock_acquire(struct lockdep_map *map, const char *static_name,
				const void *instance, enum lockdep_lock_kind kind,
				unsigned int subclass, bool read, bool trylock,
				const void *nest_lock, const struct lockdep_site *site)
{
	(void)map; (void)static_name; (void)instance; (void)kind;
	(void)subclass; (void)read; (void)trylock; (void)nest_lock; (void)site;
}
static inline bool lock_release(struct lockdep_map *map, const void *instance,
				const struct lockdep_site *site)
{
	(void)map; (void)instance; (void)site;
	return true;
}
static inline void lockdep_might_sleep(const struct lockdep_site *site, const char *what)
{
	(void)site; (void)what;
}
static inline void lockdep_rcu_read_lock(const struct lockdep_site *site) { (void)site; }
static inline void lockdep_rcu_read_unlock(void) { }
static inline void lockdep_thread_exit(const char *who) { (void)who; }
static inline int lockdep_depth(void) { return 0; }

#define might_sleep() do { } while (0)

#endif /* CONFIG_LOCKDEP */

/* Reports and the class graph: also in builds without the validator. */
long lockdep_report_count(enum lockdep_report kind);
size_t lockdep_last_report(char *buf, size_t size);
int lockdep_graph_dump(FILE *f);
bool lockdep_enabled(void);

#endif /* PINMM_LOCKDEP_H */
