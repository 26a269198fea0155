/* SPDX-License-Identifier: MIT */
/*
 * rcu.c - per-thread set-up: liburcu registration on first entry into the
 * library (undone by a pthread key destructor when the thread exits), the
 * small thread ids used for lock ownership, and __init_rwsem().
 *
 * Does not own any RCU-protected data: the users of rcu_read_lock() and
 * call_rcu() document their own objects.
 */
#include <pthread.h>

#include "rcu.h"
#include "locking.h"

__thread bool pinmm_thread_registered;
__thread int pinmm_spin_depth;

static pthread_key_t rcu_unregister_key;
static pthread_once_t rcu_key_once = PTHREAD_ONCE_INIT;

/* Runs at thread exit for every thread that registered itself. */
static void rcu_thread_exit(void *arg)
{
	(void)arg;
	if (pinmm_thread_registered) {
		rcu_unregister_thread();
		pinmm_thread_registered = false;
	}
}

static void rcu_key_create(void)
{
	BUG_ON(pthread_key_create(&rcu_unregister_key, rcu_thread_exit) != 0);
}

/**
 * __pinmm_thread_register() - register the calling thread with liburcu.
 *
 * Called once per thread by pinmm_thread_enter().  The registration is
 * dropped automatically when the thread exits (pthread key destructor); the
 * main thread stays registered until the process exits.
 *
 * Context: any thread not yet registered; not inside an RCU read-side
 * critical section.
 */
void __pinmm_thread_register(void)
{
	if (pinmm_thread_registered)
		return;
	pthread_once(&rcu_key_once, rcu_key_create);
	rcu_register_thread();
	pinmm_thread_registered = true;
	/* Any non-NULL value makes the destructor run at thread exit. */
	BUG_ON(pthread_setspecific(rcu_unregister_key, (void *)1) != 0);
}

static _Atomic int pinmm_next_tid;
static __thread int pinmm_cached_tid;

/**
 * pinmm_tid() - a small id of the calling thread, >= 1, never reused.
 *
 * Context: any; lock-free.
 * Return: the id.
 */
int pinmm_tid(void)
{
	int tid = pinmm_cached_tid;

	if (likely(tid))
		return tid;
	tid = atomic_fetch_add_explicit(&pinmm_next_tid, 1, memory_order_relaxed) + 1;
	pinmm_cached_tid = tid;
	return tid;
}

/**
 * __init_rwsem() - initialise a writer-preferring reader/writer semaphore.
 * @sem: the semaphore
 * @name: the class name (init_rwsem() passes the stringified expression)
 * @key: the class key of the init site (init_rwsem() passes a static one)
 *
 * Writer preference matters: with glibc's default (reader preference) a
 * stream of faults holding mmap_lock for reading would starve munmap.
 *
 * Context: any; @sem is not in use.
 */
void __init_rwsem(struct rw_semaphore *sem, const char *name, struct lock_class_key *key)
{
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	BUG_ON(pthread_rwlock_init(&sem->lock, &attr) != 0);
	pthread_rwlockattr_destroy(&attr);
	atomic_store_explicit(&sem->owner, 0, memory_order_relaxed);
	atomic_store_explicit(&sem->readers, 0, memory_order_relaxed);
	atomic_store_explicit(&sem->last_reader, 0, memory_order_relaxed);
	atomic_store_explicit(&sem->dep_map.class_idx, 0, memory_order_relaxed);
	lockdep_init_map(&sem->dep_map, name, key, LD_RWSEM);
}

/**
 * pinmm_synchronize_rcu() - wait for the readers that are inside a read-side
 * section now (liburcu's grace period; a scheduler wait in an explorer run).
 *
 * Context: may sleep; not inside a read-side section.
 */
void pinmm_synchronize_rcu(void)
{
	if (explore_participant()) {
		__explore_synchronize_rcu();
		return;
	}
	urcu_memb_synchronize_rcu();
}

/**
 * pinmm_call_rcu() - run @func(@head) after a grace period (call_rcu()).
 * @head: the rcu_head inside the object to free.
 * @func: the callback.
 *
 * In an explorer's run child the callback is kept until the run's threads
 * are done (explore_rcu_defer()); elsewhere liburcu's worker runs it.
 * Context: any, including under spinlocks and inside a read-side section.
 */
void pinmm_call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head))
{
	if (explore_rcu_defer(head, func))
		return;
	urcu_memb_call_rcu(head, func);
}

/**
 * pinmm_rcu_barrier() - wait until every callback queued so far has run
 * (rcu_barrier()): in an explorer's run child after its threads' phase,
 * the callbacks it kept run first (explore_rcu_flush()).
 * Context: may sleep; not inside a read-side section.
 */
void pinmm_rcu_barrier(void)
{
	if (!explore_on())
		explore_rcu_flush();
	urcu_memb_barrier();
}
