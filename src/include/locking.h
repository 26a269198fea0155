/* SPDX-License-Identifier: MIT */
/*
 * locking.h - spinlock_t, mutex, rw_semaphore and seqcount_t over pthreads,
 * with owner tracking for the lockdep-style assertions that CONFIG_DEBUG_VM
 * compiles in (lockdep_assert_held() and friends), and the hooks of the
 * lock validator (lockdep.h; CONFIG_LOCKDEP): every lock operation below is
 * a macro that passes its call site, so that a report names file:line and
 * function of each acquisition.  Sleeping until a
 * condition holds is wait.h's (wait queues, completions), on these mutexes.
 * Code outside this header, wait.h and their .c files uses no pthread lock
 * or condition variable directly (tests/docs/check_locking.py).
 *
 * The lock order is documented in doc/LOCKING.md.
 */
#ifndef PINMM_LOCKING_H
#define PINMM_LOCKING_H

#include <pthread.h>
#include <sched.h>
#include "atomic.h"
#include "bug.h"
#include "explore.h"
#include "lockdep.h"

/* A small per-thread id (>= 1) used for lock ownership. */
int pinmm_tid(void);
/*
 * Spinlocks the calling thread holds (Linux's atomic context): code that
 * may wait for another thread's progress - an RCU grace period - checks it.
 */
extern __thread int pinmm_spin_depth;

/*
 * spinlock_t - 8 bytes, so that it fits in a struct page (the split
 * page-table lock lives in the page-table page's struct page): the lock
 * word, which is the holder's pinmm_tid() (0: free), and the lock's class
 * for the validator (lockdep.h).
 */
typedef struct {
	_Atomic int owner;		/* pinmm_tid() of the holder, 0 if free */
	struct lockdep_map dep_map;
} spinlock_t;

/* Which validator kind a lock is, from its C type (lockdep_set_class()). */
#define __lock_kind(l) _Generic((l),					\
	spinlock_t *: LD_SPIN,						\
	struct mutex *: LD_MUTEX,					\
	struct rw_semaphore *: LD_RWSEM)

/*
 * lockdep_set_class() - give @l the class of @key (a static struct
 * lock_class_key) instead of the class of its init site, as Linux's: for
 * locks initialised in one place that must be told apart.
 */
#define lockdep_set_class(l, key)					\
	lockdep_init_map(&(l)->dep_map, #key, (key), __lock_kind(l))

/*
 * The class of each lock is its init site: every init macro below passes a
 * static key of its own and the stringified lock (Linux's spin_lock_init()).
 */
/* A statically initialised spinlock: its own class, named at first use. */
#define DEFINE_SPINLOCK(name) spinlock_t name = { 0 }

#define spin_lock_init(l) do {						\
	static struct lock_class_key __key;				\
									\
	__spin_lock_init((l), #l, &__key);				\
} while (0)
static inline void __spin_lock_init(spinlock_t *l, const char *name, struct lock_class_key *key)
{
	atomic_store_explicit(&l->owner, 0, memory_order_relaxed);
	atomic_store_explicit(&l->dep_map.class_idx, 0, memory_order_relaxed);
	lockdep_init_map(&l->dep_map, name, key, LD_SPIN);
}
static inline void spin_lock_destroy(spinlock_t *l) { (void)l; }
static inline bool __spin_trylock_raw(spinlock_t *l, int tid)
{
	int free = 0;

	return atomic_compare_exchange_strong_explicit(&l->owner, &free, tid,
						       memory_order_acquire,
						       memory_order_relaxed);
}
static inline void __spin_lock(spinlock_t *l, unsigned int subclass,
			       const struct lockdep_site *site)
{
	int tid = pinmm_tid();
	unsigned int spins = 0;

	explore_point(EP_SPIN_LOCK, l);
	lock_acquire(&l->dep_map, NULL, l, LD_SPIN, subclass, false, false, NULL, site);
	VM_BUG_ON(atomic_load_explicit(&l->owner, memory_order_relaxed) == tid);
	while (!__spin_trylock_raw(l, tid)) {
		/* Wait for the word to read free; give the CPU away now and then. */
		while (atomic_load_explicit(&l->owner, memory_order_relaxed))
			if (++spins % 256 == 0)
				sched_yield();
	}
	pinmm_spin_depth++;
}
static inline bool __spin_trylock(spinlock_t *l, const struct lockdep_site *site)
{
	explore_point(EP_TRYLOCK, l);
	if (!__spin_trylock_raw(l, pinmm_tid()))
		return false;
	lock_acquire(&l->dep_map, NULL, l, LD_SPIN, 0, false, true, NULL, site);
	pinmm_spin_depth++;
	return true;
}
static inline void __spin_unlock(spinlock_t *l, const struct lockdep_site *site)
{
	if (!lock_release(&l->dep_map, l, site))
		return;		/* not ours: reported, and left alone */
	VM_BUG_ON(atomic_load_explicit(&l->owner, memory_order_relaxed) != pinmm_tid());
	pinmm_spin_depth--;
	atomic_store_explicit(&l->owner, 0, memory_order_release);
	explore_point(EP_UNLOCK, l);
}
#define spin_lock(l)			__spin_lock((l), 0, LOCKDEP_SITE)
#define spin_lock_nested(l, sub)	__spin_lock((l), (sub), LOCKDEP_SITE)
#define spin_trylock(l)			__spin_trylock((l), LOCKDEP_SITE)
#define spin_unlock(l)			__spin_unlock((l), LOCKDEP_SITE)
static inline bool spin_is_locked_by_me(spinlock_t *l)
{
	return atomic_load_explicit(&l->owner, memory_order_relaxed) == pinmm_tid();
}
#define assert_spin_locked(l) VM_BUG_ON(!spin_is_locked_by_me(l))

/*
 * struct mutex - a pthread mutex, its holder and its class.  @dep_name
 * names the class of a statically initialised mutex (DEFINE_MUTEX()),
 * which is keyed by its address.
 */
struct mutex {
	pthread_mutex_t lock;
	_Atomic int owner;
	struct lockdep_map dep_map;
	const char *dep_name;
};
/* Static initialisers, as Linux's __MUTEX_INITIALIZER() and DEFINE_MUTEX(). */
#define __MUTEX_INITIALIZER(name) { .lock = PTHREAD_MUTEX_INITIALIZER, .dep_name = #name }
#define DEFINE_MUTEX(name) struct mutex name = __MUTEX_INITIALIZER(name)

#define mutex_init(m) do {						\
	static struct lock_class_key __key;				\
									\
	__mutex_init((m), #m, &__key);					\
} while (0)
static inline void __mutex_init(struct mutex *m, const char *name, struct lock_class_key *key)
{
	pthread_mutex_init(&m->lock, NULL);
	atomic_store_explicit(&m->owner, 0, memory_order_relaxed);
	atomic_store_explicit(&m->dep_map.class_idx, 0, memory_order_relaxed);
	m->dep_name = name;
	lockdep_init_map(&m->dep_map, name, key, LD_MUTEX);
}
static inline void mutex_destroy(struct mutex *m) { pthread_mutex_destroy(&m->lock); }
static inline void __mutex_lock(struct mutex *m, unsigned int subclass,
				const struct lockdep_site *site, bool sleeps)
{
	explore_point(EP_MUTEX_LOCK, m);
	if (sleeps)
		lockdep_might_sleep(site, "mutex_lock");
	lock_acquire(&m->dep_map, m->dep_name, m, LD_MUTEX, subclass, false, false, NULL, site);
	VM_BUG_ON(atomic_load_explicit(&m->owner, memory_order_relaxed) == pinmm_tid());
	pthread_mutex_lock(&m->lock);
	atomic_store_explicit(&m->owner, pinmm_tid(), memory_order_relaxed);
}
static inline bool __mutex_trylock(struct mutex *m, const struct lockdep_site *site)
{
	explore_point(EP_TRYLOCK, m);
	if (pthread_mutex_trylock(&m->lock))
		return false;
	lock_acquire(&m->dep_map, m->dep_name, m, LD_MUTEX, 0, false, true, NULL, site);
	atomic_store_explicit(&m->owner, pinmm_tid(), memory_order_relaxed);
	return true;
}
static inline void __mutex_unlock(struct mutex *m, const struct lockdep_site *site)
{
	if (!lock_release(&m->dep_map, m, site))
		return;		/* not ours: reported, and left alone */
	VM_BUG_ON(atomic_load_explicit(&m->owner, memory_order_relaxed) != pinmm_tid());
	atomic_store_explicit(&m->owner, 0, memory_order_relaxed);
	pthread_mutex_unlock(&m->lock);
	explore_point(EP_UNLOCK, m);
}
#define mutex_lock(m)			__mutex_lock((m), 0, LOCKDEP_SITE, true)
#define mutex_lock_nested(m, sub)	__mutex_lock((m), (sub), LOCKDEP_SITE, true)
/*
 * mutex_lock_nosleep() - take a mutex that stands for one of Linux's
 * spinlocks: held only around short sections that never sleep (a wait
 * queue's lock, which pthread_cond_wait() needs to be a mutex, around the
 * waker's bookkeeping), so that taking it is allowed where sleeping is not
 * (under a PTE lock, as Linux's wake_up() is).  The validator still orders
 * it; it does not count the acquisition as a sleep.
 */
#define mutex_lock_nosleep(m)		__mutex_lock((m), 0, LOCKDEP_SITE, false)
#define mutex_trylock(m)		__mutex_trylock((m), LOCKDEP_SITE)
#define mutex_unlock(m)			__mutex_unlock((m), LOCKDEP_SITE)
static inline bool mutex_is_locked_by_me(struct mutex *m)
{
	return atomic_load_explicit(&m->owner, memory_order_relaxed) == pinmm_tid();
}
/* The calling thread holds spinlock or mutex @l (CONFIG_DEBUG_VM). */
#define lockdep_assert_held(l) VM_BUG_ON(!_Generic((l),			\
	spinlock_t *: spin_is_locked_by_me,				\
	struct mutex *: mutex_is_locked_by_me)(l))

/*
 * struct rw_semaphore - writer-preferring reader/writer lock.  @readers
 * counts current readers (debug assertions only); @owner is the writer.
 * Readers are non-recursive, as Linux's: a thread that takes a class for
 * reading twice is reported (a writer waiting between the two would
 * deadlock it).
 */
struct rw_semaphore {
	pthread_rwlock_t lock;
	_Atomic int owner;
	_Atomic int readers;
	_Atomic int last_reader;	/* pinmm_tid() of the latest down_read() */
	struct lockdep_map dep_map;
};
void __init_rwsem(struct rw_semaphore *sem, const char *name, struct lock_class_key *key);
#define init_rwsem(sem) do {						\
	static struct lock_class_key __key;				\
									\
	__init_rwsem((sem), #sem, &__key);				\
} while (0)
static inline void destroy_rwsem(struct rw_semaphore *sem) { pthread_rwlock_destroy(&sem->lock); }
static inline void __down_read(struct rw_semaphore *sem, unsigned int subclass,
			       const struct lockdep_site *site)
{
	explore_point(EP_RWSEM_READ, sem);
	lockdep_might_sleep(site, "down_read");
	lock_acquire(&sem->dep_map, NULL, sem, LD_RWSEM, subclass, true, false, NULL, site);
	VM_BUG_ON(atomic_load_explicit(&sem->owner, memory_order_relaxed) == pinmm_tid());
	pthread_rwlock_rdlock(&sem->lock);
	atomic_fetch_add_explicit(&sem->readers, 1, memory_order_relaxed);
	atomic_store_explicit(&sem->last_reader, pinmm_tid(), memory_order_relaxed);
}
static inline bool __down_read_trylock(struct rw_semaphore *sem, const struct lockdep_site *site)
{
	explore_point(EP_TRYLOCK, sem);
	if (pthread_rwlock_tryrdlock(&sem->lock))
		return false;
	lock_acquire(&sem->dep_map, NULL, sem, LD_RWSEM, 0, true, true, NULL, site);
	atomic_fetch_add_explicit(&sem->readers, 1, memory_order_relaxed);
	atomic_store_explicit(&sem->last_reader, pinmm_tid(), memory_order_relaxed);
	return true;
}
static inline void __up_read(struct rw_semaphore *sem, const struct lockdep_site *site)
{
	if (!lock_release(&sem->dep_map, sem, site))
		return;		/* not ours: reported, and left alone */
	atomic_fetch_sub_explicit(&sem->readers, 1, memory_order_relaxed);
	pthread_rwlock_unlock(&sem->lock);
	explore_point(EP_UNLOCK, sem);
}
static inline void __down_write(struct rw_semaphore *sem, unsigned int subclass,
				const void *nest_lock, const struct lockdep_site *site)
{
	explore_point(EP_RWSEM_WRITE, sem);
	lockdep_might_sleep(site, "down_write");
	lock_acquire(&sem->dep_map, NULL, sem, LD_RWSEM, subclass, false, false, nest_lock, site);
	VM_BUG_ON(atomic_load_explicit(&sem->owner, memory_order_relaxed) == pinmm_tid());
	pthread_rwlock_wrlock(&sem->lock);
	atomic_store_explicit(&sem->owner, pinmm_tid(), memory_order_relaxed);
}
static inline bool __down_write_trylock(struct rw_semaphore *sem, const struct lockdep_site *site)
{
	explore_point(EP_TRYLOCK, sem);
	if (pthread_rwlock_trywrlock(&sem->lock))
		return false;
	lock_acquire(&sem->dep_map, NULL, sem, LD_RWSEM, 0, false, true, NULL, site);
	atomic_store_explicit(&sem->owner, pinmm_tid(), memory_order_relaxed);
	return true;
}
static inline void __up_write(struct rw_semaphore *sem, const struct lockdep_site *site)
{
	if (!lock_release(&sem->dep_map, sem, site))
		return;		/* not ours: reported, and left alone */
	VM_BUG_ON(atomic_load_explicit(&sem->owner, memory_order_relaxed) != pinmm_tid());
	atomic_store_explicit(&sem->owner, 0, memory_order_relaxed);
	pthread_rwlock_unlock(&sem->lock);
	explore_point(EP_UNLOCK, sem);
}
#define down_read(sem)			__down_read((sem), 0, LOCKDEP_SITE)
#define down_read_nested(sem, sub)	__down_read((sem), (sub), LOCKDEP_SITE)
#define down_read_trylock(sem)		__down_read_trylock((sem), LOCKDEP_SITE)
#define up_read(sem)			__up_read((sem), LOCKDEP_SITE)
#define down_write(sem)			__down_write((sem), 0, NULL, LOCKDEP_SITE)
#define down_write_nested(sem, sub)	__down_write((sem), (sub), NULL, LOCKDEP_SITE)
/*
 * down_write_nest_lock() - take any number of rwsems of one class, in any
 * order, while holding @nest (Linux's): @nest serialises every thread that
 * does so, so they cannot deadlock among themselves.
 */
#define down_write_nest_lock(sem, nest)	__down_write((sem), 0, (nest), LOCKDEP_SITE)
#define down_write_trylock(sem)		__down_write_trylock((sem), LOCKDEP_SITE)
#define up_write(sem)			__up_write((sem), LOCKDEP_SITE)
static inline bool rwsem_is_write_locked_by_me(struct rw_semaphore *sem)
{
	return atomic_load_explicit(&sem->owner, memory_order_relaxed) == pinmm_tid();
}
static inline bool rwsem_is_locked(struct rw_semaphore *sem)
{
	return atomic_load_explicit(&sem->readers, memory_order_relaxed) > 0 ||
	       atomic_load_explicit(&sem->owner, memory_order_relaxed) != 0;
}

/*
 * seqcount_t - a sequence counter: odd while a writer is inside.  Writers
 * serialise among themselves with a lock of their own.
 */
typedef struct { _Atomic unsigned sequence; } seqcount_t;
static inline void seqcount_init(seqcount_t *s) { atomic_store(&s->sequence, 0); }
static inline void raw_write_seqcount_begin(seqcount_t *s)
{
	explore_point(EP_SEQ_WRITE, s);
	atomic_fetch_add_explicit(&s->sequence, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);	/* seq odd before the writes */
	atomic_thread_fence(memory_order_seq_cst);
}
static inline void raw_write_seqcount_end(seqcount_t *s)
{
	explore_point(EP_SEQ_WRITE, s);
	atomic_fetch_add_explicit(&s->sequence, 1, memory_order_release);
}
static inline unsigned raw_read_seqcount(const seqcount_t *s)
{
	explore_point(EP_SEQ_READ, s);
	return atomic_load_explicit((_Atomic unsigned *)&s->sequence, memory_order_acquire);
}
/* True (and *start set) when no writer is active. */
static inline bool raw_seqcount_try_begin(const seqcount_t *s, unsigned *start)
{
	*start = raw_read_seqcount(s);
	return !(*start & 1);
}
static inline bool read_seqcount_retry(const seqcount_t *s, unsigned start)
{
	explore_point(EP_SEQ_READ, s);
	/* smp_rmb(): the section's loads before the re-read of the count. */
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit((_Atomic unsigned *)&s->sequence, memory_order_relaxed) != start;
}

#endif /* PINMM_LOCKING_H */
