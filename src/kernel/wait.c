/* SPDX-License-Identifier: MIT */
/*
 * wait.c - wait queues and completions over a pthread condition variable
 * (the interface and its rules are in wait.h).
 *
 * Every sleep of the library goes through __wait_sleep(): it hands the
 * mutex's owner (locking.h) back while the thread sleeps and takes it again
 * on wake-up, so lockdep_assert_held() stays true for the code around a
 * wait and false for the threads that take the mutex meanwhile.  Timed
 * sleeps use pthread_cond_clockwait() on CLOCK_MONOTONIC, which lets a
 * queue be initialised statically (DECLARE_WAIT_QUEUE_HEAD()) and keeps
 * deadlines immune to changes of the wall clock.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <time.h>

#include "wait.h"

#define NSEC_PER_SEC	1000000000ull

/**
 * init_waitqueue_head() - initialise a wait queue with no sleepers.
 * @wq: the queue.
 *
 * Context: any; @wq is not in use.
 */
void init_waitqueue_head(wait_queue_head_t *wq)
{
	mutex_init(&wq->lock);
	BUG_ON(pthread_cond_init(&wq->cond, NULL) != 0);
	atomic_store_explicit(&wq->sleepers, 0, memory_order_relaxed);
	atomic_store_explicit(&wq->bound, NULL, memory_order_relaxed);
}

/**
 * destroy_waitqueue_head() - release what init_waitqueue_head() set up.
 * @wq: a queue nobody sleeps on or wakes any more.
 *
 * Context: any.
 */
void destroy_waitqueue_head(wait_queue_head_t *wq)
{
	VM_BUG_ON(waitqueue_active(wq));
	pthread_cond_destroy(&wq->cond);
	mutex_destroy(&wq->lock);
}

/* Wake one sleeper (@all false) or every sleeper; @wq->lock held. */
static void __wake_up_locked(wait_queue_head_t *wq, bool all)
{
	lockdep_assert_held(&wq->lock);
	explore_wake(wq);
	if (all)
		pthread_cond_broadcast(&wq->cond);
	else
		pthread_cond_signal(&wq->cond);
}

/*
 * A waker of a wait_event_lock() queue must hold the sleepers' mutex, or a
 * sleeper between its check of the condition and its sleep misses the
 * wake-up.  Known once a sleeper has bound the queue to its mutex.
 */
static void wake_up_check(wait_queue_head_t *wq)
{
	struct mutex *bound = atomic_load_explicit(&wq->bound, memory_order_relaxed);

	VM_BUG_ON(bound && bound != &wq->lock && !mutex_is_locked_by_me(bound));
}

/**
 * wake_up() - wake one thread sleeping on @wq.
 * @wq: the queue.
 *
 * The caller has made a sleeper's condition true; a wait_event_lock()
 * queue's waker holds the sleepers' mutex (checked with CONFIG_DEBUG_VM).
 *
 * Context: any; takes @wq->lock (a leaf).
 */
void wake_up(wait_queue_head_t *wq)
{
	wake_up_check(wq);
	mutex_lock_nosleep(&wq->lock);
	__wake_up_locked(wq, false);
	mutex_unlock(&wq->lock);
}

/**
 * wake_up_all() - wake every thread sleeping on @wq.
 * @wq: the queue.
 *
 * As wake_up(), for every sleeper.
 *
 * Context: any; takes @wq->lock (a leaf).
 */
void wake_up_all(wait_queue_head_t *wq)
{
	wake_up_check(wq);
	mutex_lock_nosleep(&wq->lock);
	__wake_up_locked(wq, true);
	mutex_unlock(&wq->lock);
}

/**
 * __wait_enter() - start a wait_event*(): hold @lock, count the sleeper.
 * @wq: the queue.
 * @lock: &@wq->lock (taken here), or the caller's mutex (held).
 * @site: the wait_event*() call site, for the lock validator: a sleep
 * inside rcu_read_lock() or under a spinlock is reported there.
 *
 * The seq_cst increment comes before the first evaluation of the
 * condition (wq_has_sleeper() pairs with it).
 *
 * Context: may sleep.
 */
void __wait_enter(wait_queue_head_t *wq, struct mutex *lock, const struct lockdep_site *site)
{
	lockdep_might_sleep(site, "wait_event");
	if (lock == &wq->lock)
		mutex_lock(lock);
	else
		lockdep_assert_held(lock);
#if CONFIG_DEBUG_VM
	{
		struct mutex *bound = NULL;

		/* One condition variable, one mutex (POSIX). */
		if (!atomic_compare_exchange_strong(&wq->bound, &bound, lock))
			VM_BUG_ON(bound != lock);
	}
#endif
	atomic_fetch_add_explicit(&wq->sleepers, 1, memory_order_seq_cst);
}

/**
 * __wait_leave() - end a wait_event*() started by __wait_enter().
 * @wq: the queue.
 * @lock: as passed to __wait_enter(); released here if it is @wq's.
 *
 * Context: @lock held.
 */
void __wait_leave(wait_queue_head_t *wq, struct mutex *lock)
{
	atomic_fetch_sub_explicit(&wq->sleepers, 1, memory_order_relaxed);
	if (lock == &wq->lock)
		mutex_unlock(lock);
}

/*
 * A participant of an explorer run sleeps in the scheduler instead: the
 * mutex is released for real (no point in between, so no wake-up is lost),
 * the scheduler runs others until a wake_up*() on @wq (or, for a timed
 * sleep, until nothing else can run: the deadline is then made to have
 * passed), and the mutex is taken again through mutex_lock()'s point.
 */
static void explore_sleep(wait_queue_head_t *wq, struct mutex *lock,
			  const struct wait_deadline *d)
{
	bool timed_out = false;

	/* Released for the validator too: mutex_lock() below takes it anew. */
	lock_release(&lock->dep_map, lock, LOCKDEP_SITE);
	atomic_store_explicit(&lock->owner, 0, memory_order_relaxed);
	pthread_mutex_unlock(&lock->lock);
	__explore_wait(wq, d != NULL, &timed_out);
	if (timed_out)	/* the run's clock (explore.h) moves to the deadline */
		__explore_clock_advance((uint64_t)d->until.tv_sec * NSEC_PER_SEC +
					(uint64_t)d->until.tv_nsec);
	mutex_lock(lock);
}

/**
 * __wait_sleep() - sleep once on @wq, releasing @lock meanwhile.
 * @wq: the queue.
 * @lock: the mutex the sleeper holds (its owner is cleared while asleep).
 * @d: the deadline, or NULL for none.
 *
 * Returns on a wake-up, a spurious wake-up or the deadline; the caller
 * re-evaluates its condition and the deadline.
 *
 * Context: @lock held on entry and on return.
 */
void __wait_sleep(wait_queue_head_t *wq, struct mutex *lock, const struct wait_deadline *d)
{
	int err;

	lockdep_assert_held(lock);
	if (explore_participant()) {
		explore_sleep(wq, lock, d);
		return;
	}
	atomic_store_explicit(&lock->owner, 0, memory_order_relaxed);
	if (d)
		err = pthread_cond_clockwait(&wq->cond, &lock->lock, CLOCK_MONOTONIC, &d->until);
	else
		err = pthread_cond_wait(&wq->cond, &lock->lock);
	BUG_ON(err && err != ETIMEDOUT);
	atomic_store_explicit(&lock->owner, pinmm_tid(), memory_order_relaxed);
}

/* CLOCK_MONOTONIC, or for an explorer participant the run's clock. */
static void wait_clock(struct timespec *ts)
{
	uint64_t ns;

	if (explore_now(&ns)) {
		ts->tv_sec = (time_t)(ns / NSEC_PER_SEC);
		ts->tv_nsec = (long)(ns % NSEC_PER_SEC);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, ts);
}

/**
 * __wait_deadline_set() - the CLOCK_MONOTONIC time @timeout_ns from now.
 * @d: filled in.
 * @timeout_ns: relative timeout; absurdly large values saturate.
 *
 * Context: any.
 */
void __wait_deadline_set(struct wait_deadline *d, uint64_t timeout_ns)
{
	const uint64_t max_sec = (uint64_t)INT32_MAX;	/* 68 years: "forever" */
	uint64_t sec = timeout_ns / NSEC_PER_SEC;

	wait_clock(&d->until);
	if (sec > max_sec)
		sec = max_sec;
	d->until.tv_sec += (time_t)sec;
	d->until.tv_nsec += (long)(timeout_ns % NSEC_PER_SEC);
	if (d->until.tv_nsec >= (long)NSEC_PER_SEC) {
		d->until.tv_sec++;
		d->until.tv_nsec -= (long)NSEC_PER_SEC;
	}
}

/**
 * __wait_deadline_left() - nanoseconds until @d.
 * @d: a deadline from __wait_deadline_set().
 *
 * Context: any.
 * Return: the time left, 0 once @d has passed.
 */
uint64_t __wait_deadline_left(const struct wait_deadline *d)
{
	struct timespec now;
	int64_t ns;

	wait_clock(&now);
	ns = (int64_t)(d->until.tv_sec - now.tv_sec) * (int64_t)NSEC_PER_SEC +
	     (d->until.tv_nsec - now.tv_nsec);
	return ns > 0 ? (uint64_t)ns : 0;
}

/* ------------------------------------------------------------------ */
/* Completions                                                          */

/**
 * init_completion() - a completion not yet completed.
 * @x: the completion.
 *
 * Context: any; @x is not in use.
 */
void init_completion(struct completion *x)
{
	x->done = 0;
	init_waitqueue_head(&x->wait);
}

/**
 * reinit_completion() - make a completed @x wait again.
 * @x: a completion nobody waits on.
 *
 * Context: any.
 */
void reinit_completion(struct completion *x)
{
	mutex_lock_nosleep(&x->wait.lock);
	x->done = 0;
	mutex_unlock(&x->wait.lock);
}

/**
 * destroy_completion() - release what init_completion() set up.
 * @x: a completion nobody waits on or completes any more.
 *
 * Context: any.
 */
void destroy_completion(struct completion *x)
{
	destroy_waitqueue_head(&x->wait);
}

/**
 * complete() - let one waiter of @x through (now or later).
 * @x: the completion.
 *
 * The waiter that consumes it may free @x as soon as it returns: the last
 * access here is the release of @x->wait.lock, which that waiter acquired.
 *
 * Context: any; takes @x->wait.lock.
 */
void complete(struct completion *x)
{
	mutex_lock_nosleep(&x->wait.lock);
	if (x->done != UINT_MAX)
		x->done++;
	__wake_up_locked(&x->wait, false);
	mutex_unlock(&x->wait.lock);
}

/**
 * complete_all() - let every waiter of @x through, until reinit_completion().
 * @x: the completion.
 *
 * Context: any; takes @x->wait.lock.
 */
void complete_all(struct completion *x)
{
	mutex_lock_nosleep(&x->wait.lock);
	x->done = UINT_MAX;
	__wake_up_locked(&x->wait, true);
	mutex_unlock(&x->wait.lock);
}

/* Consume one completion of @x if there is one; @x->wait.lock held. */
static bool completion_take(struct completion *x)
{
	lockdep_assert_held(&x->wait.lock);
	if (!x->done)
		return false;
	if (x->done != UINT_MAX)
		x->done--;
	return true;
}

/**
 * wait_for_completion() - sleep until @x is completed, and consume it.
 * @x: the completion.
 *
 * Context: may sleep; no lock its completer needs held.
 */
void wait_for_completion(struct completion *x)
{
	wait_event(&x->wait, completion_take(x));
}

/**
 * wait_for_completion_timeout() - wait_for_completion() for at most
 * @timeout_ns.
 * @x: the completion.
 * @timeout_ns: relative timeout (CLOCK_MONOTONIC).
 *
 * Context: may sleep; no lock its completer needs held.
 * Return: 0 if the time ran out (nothing consumed), else the nanoseconds
 * left (at least 1).
 */
uint64_t wait_for_completion_timeout(struct completion *x, uint64_t timeout_ns)
{
	return wait_event_timeout(&x->wait, completion_take(x), timeout_ns);
}

/**
 * try_wait_for_completion() - consume a completion of @x without sleeping.
 * @x: the completion.
 *
 * Context: any.
 * Return: true if one was consumed.
 */
bool try_wait_for_completion(struct completion *x)
{
	bool ret;

	mutex_lock_nosleep(&x->wait.lock);
	ret = completion_take(x);
	mutex_unlock(&x->wait.lock);
	return ret;
}

/**
 * completion_done() - whether a waiter of @x would go through now.
 * @x: the completion.
 *
 * Context: any.
 * Return: true if @x has a completion not yet consumed.
 */
bool completion_done(struct completion *x)
{
	bool ret;

	mutex_lock_nosleep(&x->wait.lock);
	ret = x->done != 0;
	mutex_unlock(&x->wait.lock);
	return ret;
}
