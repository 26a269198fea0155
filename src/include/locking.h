/* SPDX-License-Identifier: MIT */
/*
 * locking.h - spinlock_t, mutex, rw_semaphore and seqcount_t over pthreads,
 * with owner tracking for the lockdep-style assertions that CONFIG_DEBUG_VM
 * compiles in (lockdep_assert_held() and friends).  Sleeping until a
 * condition holds is wait.h's (wait queues, completions), on these mutexes.
 * Code outside this header, wait.h and their .c files uses no pthread lock
 * or condition variable directly (tests/docs/check_locking.py).
 *
 * The lock order is documented in doc/LOCKING.md.
 */
#ifndef PINMM_LOCKING_H
#define PINMM_LOCKING_H

#include <pthread.h>
#include "atomic.h"
#include "bug.h"
#include "explore.h"

/* A small per-thread id (>= 1) used for lock ownership. */
int pinmm_tid(void);
/*
 * Spinlocks the calling thread holds (Linux's atomic context): code that
 * may wait for another thread's progress - an RCU grace period - checks it.
 */
extern __thread int pinmm_spin_depth;

/*
 * spinlock_t - 8 bytes, so that it fits in a struct page (the split
 * page-table lock lives in the page-table page's struct page).
 */
typedef struct {
	pthread_spinlock_t lock;
	_Atomic int owner;		/* pinmm_tid() of the holder, 0 if free */
} spinlock_t;

static inline void spin_lock_init(spinlock_t *l)
{
	pthread_spin_init(&l->lock, PTHREAD_PROCESS_PRIVATE);
	atomic_store_explicit(&l->owner, 0, memory_order_relaxed);
}
static inline void spin_lock_destroy(spinlock_t *l) { pthread_spin_destroy(&l->lock); }
static inline void spin_lock(spinlock_t *l)
{
	explore_point(EP_SPIN_LOCK, l);
	VM_BUG_ON(atomic_load_explicit(&l->owner, memory_order_relaxed) == pinmm_tid());
	pthread_spin_lock(&l->lock);
	atomic_store_explicit(&l->owner, pinmm_tid(), memory_order_relaxed);
	pinmm_spin_depth++;
}
static inline bool spin_trylock(spinlock_t *l)
{
	explore_point(EP_TRYLOCK, l);
	if (pthread_spin_trylock(&l->lock))
		return false;
	atomic_store_explicit(&l->owner, pinmm_tid(), memory_order_relaxed);
	pinmm_spin_depth++;
	return true;
}
static inline void spin_unlock(spinlock_t *l)
{
	VM_BUG_ON(atomic_load_explicit(&l->owner, memory_order_relaxed) != pinmm_tid());
	pinmm_spin_depth--;
	atomic_store_explicit(&l->owner, 0, memory_order_relaxed);
	pthread_spin_unlock(&l->lock);
	explore_point(EP_UNLOCK, l);
}
static inline bool spin_is_locked_by_me(spinlock_t *l)
{
	return atomic_load_explicit(&l->owner, memory_order_relaxed) == pinmm_tid();
}
#define assert_spin_locked(l) VM_BUG_ON(!spin_is_locked_by_me(l))

struct mutex {
	pthread_mutex_t lock;
	_Atomic int owner;
};
/* Static initialisers, as Linux's __MUTEX_INITIALIZER() and DEFINE_MUTEX(). */
#define __MUTEX_INITIALIZER(name) { .lock = PTHREAD_MUTEX_INITIALIZER }
#define DEFINE_MUTEX(name) struct mutex name = __MUTEX_INITIALIZER(name)

static inline void mutex_init(struct mutex *m)
{
	pthread_mutex_init(&m->lock, NULL);
	atomic_store_explicit(&m->owner, 0, memory_order_relaxed);
}
static inline void mutex_destroy(struct mutex *m) { pthread_mutex_destroy(&m->lock); }
static inline void mutex_lock(struct mutex *m)
{
	explore_point(EP_MUTEX_LOCK, m);
	VM_BUG_ON(atomic_load_explicit(&m->owner, memory_order_relaxed) == pinmm_tid());
	pthread_mutex_lock(&m->lock);
	atomic_store_explicit(&m->owner, pinmm_tid(), memory_order_relaxed);
}
static inline bool mutex_trylock(struct mutex *m)
{
	explore_point(EP_TRYLOCK, m);
	if (pthread_mutex_trylock(&m->lock))
		return false;
	atomic_store_explicit(&m->owner, pinmm_tid(), memory_order_relaxed);
	return true;
}
static inline void mutex_unlock(struct mutex *m)
{
	VM_BUG_ON(atomic_load_explicit(&m->owner, memory_order_relaxed) != pinmm_tid());
	atomic_store_explicit(&m->owner, 0, memory_order_relaxed);
	pthread_mutex_unlock(&m->lock);
	explore_point(EP_UNLOCK, m);
}
static inline bool mutex_is_locked_by_me(struct mutex *m)
{
	return atomic_load_explicit(&m->owner, memory_order_relaxed) == pinmm_tid();
}
#define lockdep_assert_held(m) VM_BUG_ON(!mutex_is_locked_by_me(m))

/*
 * struct rw_semaphore - writer-preferring reader/writer lock.  @readers
 * counts current readers (debug assertions only); @owner is the writer.
 */
struct rw_semaphore {
	pthread_rwlock_t lock;
	_Atomic int owner;
	_Atomic int readers;
	_Atomic int last_reader;	/* pinmm_tid() of the latest down_read() */
};
void init_rwsem(struct rw_semaphore *sem);
static inline void destroy_rwsem(struct rw_semaphore *sem) { pthread_rwlock_destroy(&sem->lock); }
static inline void down_read(struct rw_semaphore *sem)
{
	explore_point(EP_RWSEM_READ, sem);
	VM_BUG_ON(atomic_load_explicit(&sem->owner, memory_order_relaxed) == pinmm_tid());
	pthread_rwlock_rdlock(&sem->lock);
	atomic_fetch_add_explicit(&sem->readers, 1, memory_order_relaxed);
	atomic_store_explicit(&sem->last_reader, pinmm_tid(), memory_order_relaxed);
}
static inline bool down_read_trylock(struct rw_semaphore *sem)
{
	explore_point(EP_TRYLOCK, sem);
	if (pthread_rwlock_tryrdlock(&sem->lock))
		return false;
	atomic_fetch_add_explicit(&sem->readers, 1, memory_order_relaxed);
	atomic_store_explicit(&sem->last_reader, pinmm_tid(), memory_order_relaxed);
	return true;
}
static inline void up_read(struct rw_semaphore *sem)
{
	atomic_fetch_sub_explicit(&sem->readers, 1, memory_order_relaxed);
	pthread_rwlock_unlock(&sem->lock);
	explore_point(EP_UNLOCK, sem);
}
static inline void down_write(struct rw_semaphore *sem)
{
	explore_point(EP_RWSEM_WRITE, sem);
	VM_BUG_ON(atomic_load_explicit(&sem->owner, memory_order_relaxed) == pinmm_tid());
	pthread_rwlock_wrlock(&sem->lock);
	atomic_store_explicit(&sem->owner, pinmm_tid(), memory_order_relaxed);
}
static inline bool down_write_trylock(struct rw_semaphore *sem)
{
	explore_point(EP_TRYLOCK, sem);
	if (pthread_rwlock_trywrlock(&sem->lock))
		return false;
	atomic_store_explicit(&sem->owner, pinmm_tid(), memory_order_relaxed);
	return true;
}
static inline void up_write(struct rw_semaphore *sem)
{
	VM_BUG_ON(atomic_load_explicit(&sem->owner, memory_order_relaxed) != pinmm_tid());
	atomic_store_explicit(&sem->owner, 0, memory_order_relaxed);
	pthread_rwlock_unlock(&sem->lock);
	explore_point(EP_UNLOCK, sem);
}
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
