/* SPDX-License-Identifier: MIT */
/*
 * rcu.c - per-thread set-up: liburcu registration on first entry into the
 * library (undone by a pthread key destructor when the thread exits), the
 * small thread ids used for lock ownership, __init_rwsem(), and call_rcu()
 * and rcu_barrier() with an explorer run child's kept callbacks.
 *
 * Does not own any RCU-protected data: the users of rcu_read_lock() and
 * call_rcu() document their own objects.
 */
#include <pthread.h>
#include <stdlib.h>

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

/* ---- an explorer's run child: callbacks kept until its threads are done ---- */

/*
 * From before its setup, a run child's call_rcu() keeps the callbacks here
 * instead of handing them to liburcu's worker, whose grace periods end when
 * the host decides (doc/EXPLORE.md section 1 "RCU callbacks wait for the
 * end of the run"); the controller runs them when the run's threads are
 * done, and rcu_barrier() after that.
 */
struct deferred_cb {
	struct rcu_head *head;
	void (*func)(struct rcu_head *head);
};

/* Raw: call_rcu() is called under any lock, the validator's included. */
static struct {
	pthread_mutex_t lock;
	bool on;			/* a run child, from before its setup */
	struct deferred_cb *v;
	size_t n, cap;
} rcu_defer = { .lock = PTHREAD_MUTEX_INITIALIZER };

/**
 * explore_rcu_defer_begin() - keep this process's RCU callbacks from now
 * on, for explore_threads_run() to run when the threads are done.
 * Context: a run child, before its setup, single-threaded.
 */
void explore_rcu_defer_begin(void)
{
	rcu_defer.on = true;
}

/**
 * explore_rcu_defer() - keep a call_rcu() callback of a run child.
 * @head: the object's rcu_head.
 * @func: its callback.
 * Context: any (rcu.h's call_rcu()).
 * Return: true when kept; false outside a run child or out of memory (the
 *	caller hands it to liburcu: correct, only no longer in step order).
 */
bool explore_rcu_defer(struct rcu_head *head, void (*func)(struct rcu_head *head))
{
	bool kept = false;

	if (!rcu_defer.on)
		return false;
	pthread_mutex_lock(&rcu_defer.lock);
	if (rcu_defer.n == rcu_defer.cap) {
		size_t cap = rcu_defer.cap ? rcu_defer.cap * 2 : 64;
		struct deferred_cb *v = realloc(rcu_defer.v, cap * sizeof(*v));

		if (v) {
			rcu_defer.v = v;
			rcu_defer.cap = cap;
		}
	}
	if (rcu_defer.n < rcu_defer.cap) {
		rcu_defer.v[rcu_defer.n++] = (struct deferred_cb){ head, func };
		kept = true;
	}
	pthread_mutex_unlock(&rcu_defer.lock);
	return kept;
}

/**
 * explore_rcu_flush() - run the callbacks a run child kept: one grace
 * period, then each in the order queued, including any a callback queues.
 * Called when the run's threads are done (no participant is left inside a
 * read-side section) and by rcu_barrier() after that (an oracle that shuts
 * the machine down waits for the frees as anywhere else).
 * Context: a run child outside its threads' phase, or any process (no-op);
 * may sleep; not inside a read-side section.
 */
void explore_rcu_flush(void)
{
	for (;;) {
		struct deferred_cb *v;
		size_t n;

		pthread_mutex_lock(&rcu_defer.lock);
		v = rcu_defer.v;
		n = rcu_defer.n;
		rcu_defer.v = NULL;
		rcu_defer.n = rcu_defer.cap = 0;
		pthread_mutex_unlock(&rcu_defer.lock);
		if (!n) {
			free(v);
			return;
		}
		urcu_memb_synchronize_rcu();
		for (size_t i = 0; i < n; i++)
			v[i].func(v[i].head);
		free(v);
	}
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
