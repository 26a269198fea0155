/* SPDX-License-Identifier: MIT */
/*
 * wait.h - wait queues and completions: the one way pinmm code sleeps until
 * a condition holds (Linux: include/linux/wait.h, completion.h).
 *
 * A wait_queue_head_t is a condition variable with a mutex of its own,
 * @lock.  There are two ways to sleep on it:
 *
 *  - wait_event(wq, cond), wait_event_timeout(wq, cond, ns): the caller
 *    holds no lock for @cond.  @cond is evaluated with @wq->lock held, and
 *    the wakers take @wq->lock, so a waker that makes @cond true and then
 *    calls wake_up*() is never missed.  @cond must not sleep or take a lock
 *    (@wq->lock is a leaf); it may have a side effect that ends the wait
 *    (folio_lock() uses test_and_set_bit()).  It reads data that other
 *    threads change outside @wq->lock, so through atomics or READ_ONCE().
 *  - wait_event_lock(wq, cond, lock), wait_event_lock_timeout(): the caller
 *    holds the mutex @lock that protects @cond (Linux's
 *    wait_event_lock_irq()).  @lock is released while sleeping and held
 *    whenever @cond is evaluated and on return.  Every sleeper of one queue
 *    passes the same @lock (a POSIX condition variable allows only one
 *    mutex at a time), and a waker changes @cond and calls wake_up*()
 *    with @lock held (both checked with CONFIG_DEBUG_VM).
 *
 * wake_up() wakes one sleeper, wake_up_all() every sleeper.  A sleeper
 * re-checks @cond after every wake-up, so a spurious wake-up (POSIX allows
 * them) costs one re-check.  Timeouts are relative, in nanoseconds of
 * CLOCK_MONOTONIC; the _timeout forms return 0 when the time ran out with
 * @cond false, else the time left (at least 1), as Linux's do in jiffies.
 *
 * @sleepers counts the threads inside a wait_event*() (changed under the
 * lock they sleep with), so that a hot wake path can skip an empty queue:
 * the waker makes @cond true, then smp_mb(), then waitqueue_active()
 * (wq_has_sleeper() does both); the sleeper's increment is seq_cst and
 * comes before its first evaluation of @cond.  folio_unlock() is the user.
 */
#ifndef PINMM_WAIT_H
#define PINMM_WAIT_H

#include <pthread.h>
#include <time.h>
#include "locking.h"

typedef struct wait_queue_head {
	struct mutex lock;		/* wait_event() sleepers and every waker */
	pthread_cond_t cond;		/* waited on with CLOCK_MONOTONIC */
	atomic_int sleepers;		/* threads inside a wait_event*() */
	struct mutex *_Atomic bound;	/* debug: the mutex sleepers use */
} wait_queue_head_t;

#define __WAIT_QUEUE_HEAD_INITIALIZER(name) {				\
	.lock = __MUTEX_INITIALIZER(name.lock),				\
	.cond = PTHREAD_COND_INITIALIZER,				\
}
/* A statically initialised wait queue, as Linux's DECLARE_WAIT_QUEUE_HEAD(). */
#define DECLARE_WAIT_QUEUE_HEAD(name)					\
	wait_queue_head_t name = __WAIT_QUEUE_HEAD_INITIALIZER(name)

void init_waitqueue_head(wait_queue_head_t *wq);
void destroy_waitqueue_head(wait_queue_head_t *wq);
void wake_up(wait_queue_head_t *wq);
void wake_up_all(wait_queue_head_t *wq);

/*
 * Whether a thread is inside a wait_event*() on @wq: a plain (relaxed)
 * read; the caller orders it after its change of the condition.
 */
static inline bool waitqueue_active(wait_queue_head_t *wq)
{
	return atomic_load_explicit(&wq->sleepers, memory_order_relaxed) != 0;
}

/* waitqueue_active() after a full barrier that orders the caller's change. */
static inline bool wq_has_sleeper(wait_queue_head_t *wq)
{
	smp_mb();
	return waitqueue_active(wq);
}

/* The building blocks of the wait_event*() macros; not for direct use. */
struct wait_deadline {
	struct timespec until;		/* CLOCK_MONOTONIC */
};
void __wait_enter(wait_queue_head_t *wq, struct mutex *lock, const struct lockdep_site *site);
void __wait_leave(wait_queue_head_t *wq, struct mutex *lock);
void __wait_sleep(wait_queue_head_t *wq, struct mutex *lock, const struct wait_deadline *d);
void __wait_deadline_set(struct wait_deadline *d, uint64_t timeout_ns);
uint64_t __wait_deadline_left(const struct wait_deadline *d);

#define __wait_event(wq, condition, lock) do {				\
	__wait_enter((wq), (lock), LOCKDEP_SITE);					\
	while (!(condition))						\
		__wait_sleep((wq), (lock), NULL);			\
	__wait_leave((wq), (lock));					\
} while (0)

#define __wait_event_timeout(wq, condition, lock, timeout_ns) __extension__({ \
	struct wait_deadline __d;					\
	uint64_t __left;						\
									\
	__wait_deadline_set(&__d, (timeout_ns));			\
	__wait_enter((wq), (lock), LOCKDEP_SITE);					\
	for (;;) {							\
		bool __c = (condition);					\
									\
		__left = __wait_deadline_left(&__d);			\
		if (__c) {						\
			__left = __left ? __left : 1;			\
			break;						\
		}							\
		if (!__left)						\
			break;						\
		__wait_sleep((wq), (lock), &__d);			\
	}								\
	__wait_leave((wq), (lock));					\
	__left;								\
})

/**
 * wait_event() - sleep until @condition is true.
 * @wq: the wait queue the wakers of @condition wake.
 * @condition: a C expression, evaluated under @wq->lock until true.
 *
 * Context: may sleep; no lock that a waker needs held.
 */
#define wait_event(wq, condition) do {					\
	wait_queue_head_t *__wq = (wq);					\
									\
	__wait_event(__wq, condition, &__wq->lock);			\
} while (0)

/**
 * wait_event_timeout() - sleep until @condition is true or @timeout_ns
 * nanoseconds have passed.
 * @wq: the wait queue the wakers of @condition wake.
 * @condition: a C expression, evaluated under @wq->lock.
 * @timeout_ns: relative timeout (CLOCK_MONOTONIC).
 *
 * Context: may sleep; no lock that a waker needs held.
 * Return: 0 if @condition was false when the time ran out, else the
 * nanoseconds left (at least 1).
 */
#define wait_event_timeout(wq, condition, timeout_ns) __extension__({	\
	wait_queue_head_t *__wq = (wq);					\
									\
	__wait_event_timeout(__wq, condition, &__wq->lock, (timeout_ns)); \
})

/**
 * wait_event_lock() - sleep until @condition is true, with @lock held
 * around every evaluation of it.
 * @wq: the wait queue.
 * @condition: a C expression protected by @lock.
 * @lock: a mutex the caller holds; released while sleeping.
 *
 * Context: may sleep; @lock held on entry and on return.
 */
#define wait_event_lock(wq, condition, lock)				\
	__wait_event((wq), condition, (lock))

/**
 * wait_event_lock_timeout() - wait_event_lock() for at most @timeout_ns.
 * @wq: the wait queue.
 * @condition: a C expression protected by @lock.
 * @lock: a mutex the caller holds; released while sleeping.
 * @timeout_ns: relative timeout (CLOCK_MONOTONIC).
 *
 * Context: may sleep; @lock held on entry and on return.
 * Return: 0 if @condition was false when the time ran out, else the
 * nanoseconds left (at least 1).
 */
#define wait_event_lock_timeout(wq, condition, lock, timeout_ns)	\
	__wait_event_timeout((wq), condition, (lock), (timeout_ns))

/*
 * struct completion - a one-way event: complete() lets one waiter through,
 * complete_all() every present and future waiter until
 * reinit_completion().  @done counts completions not yet consumed
 * (UINT_MAX: complete_all()); it is protected by @wait.lock.
 */
struct completion {
	unsigned int done;
	wait_queue_head_t wait;
};

void init_completion(struct completion *x);
void reinit_completion(struct completion *x);
void destroy_completion(struct completion *x);
void complete(struct completion *x);
void complete_all(struct completion *x);
void wait_for_completion(struct completion *x);
uint64_t wait_for_completion_timeout(struct completion *x, uint64_t timeout_ns);
bool try_wait_for_completion(struct completion *x);
bool completion_done(struct completion *x);

#endif /* PINMM_WAIT_H */
