/* SPDX-License-Identifier: MIT */
/*
 * test_wait.c - wait queues and completions (src/kernel/wait.c): timeouts
 * end with the condition false and no sooner, a wake-up reaches every
 * sleeper that is really asleep, wait_event_lock() evaluates its
 * condition with the caller's mutex held and releases it while asleep,
 * complete() lets exactly one waiter through and complete_all() every one.
 */
#include "helpers.h"
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "wait.h"

#define NSEC_PER_MSEC	1000000ull
/* A sleeper's timeout: long enough that only a lost wake-up reaches it. */
#define SLEEP_NS	((uint64_t)TEST_WAIT_MS * NSEC_PER_MSEC)

static int sleepers(wait_queue_head_t *wq)
{
	return atomic_load(&wq->sleepers);
}

static void test_timeout_expires(void **state)
{
	wait_queue_head_t wq;
	atomic_bool never = false;
	double t0;
	uint64_t left;

	(void)state;
	init_waitqueue_head(&wq);
	t0 = test_now_ms();
	left = wait_event_timeout(&wq, atomic_load(&never), 50 * NSEC_PER_MSEC);
	assert_int_equal(left, 0);
	assert_true(test_now_ms() - t0 >= 49.9);
	assert_int_equal(sleepers(&wq), 0);
	destroy_waitqueue_head(&wq);
}

static void test_condition_already_true(void **state)
{
	wait_queue_head_t wq;
	uint64_t left;

	(void)state;
	init_waitqueue_head(&wq);
	left = wait_event_timeout(&wq, true, 1000 * NSEC_PER_MSEC);
	assert_true(left > 0 && left <= 1000 * NSEC_PER_MSEC);
	/* A zero timeout still reports a true condition as success (1). */
	assert_int_equal(wait_event_timeout(&wq, true, 0), 1);
	assert_int_equal(wait_event_timeout(&wq, false, 0), 0);
	destroy_waitqueue_head(&wq);
}

/* A statically initialised queue sleeps on CLOCK_MONOTONIC too. */
static DECLARE_WAIT_QUEUE_HEAD(static_wq);

static void test_static_queue(void **state)
{
	double t0 = test_now_ms();

	(void)state;
	assert_int_equal(wait_event_timeout(&static_wq, false, 20 * NSEC_PER_MSEC), 0);
	assert_true(test_now_ms() - t0 >= 19.9);
}

struct own_sleeper {
	wait_queue_head_t *wq;
	atomic_bool *go;
	uint64_t left;
};

static void *own_sleeper_fn(void *arg)
{
	struct own_sleeper *s = arg;

	s->left = wait_event_timeout(s->wq, atomic_load(s->go), SLEEP_NS);
	return NULL;
}

/* wake_up_all() after the condition changed reaches every sleeper. */
static void test_wake_up_all(void **state)
{
	enum { N = 4 };
	struct own_sleeper s[N];
	pthread_t t[N];
	wait_queue_head_t wq;
	atomic_bool go = false;

	(void)state;
	init_waitqueue_head(&wq);
	for (int i = 0; i < N; i++) {
		s[i] = (struct own_sleeper){ .wq = &wq, .go = &go };
		assert_int_equal(pthread_create(&t[i], NULL, own_sleeper_fn, &s[i]), 0);
	}
	TEST_WAIT_UNTIL(sleepers(&wq) == N, TEST_WAIT_MS, "every sleeper inside wait_event");
	atomic_store(&go, true);
	wake_up_all(&wq);
	for (int i = 0; i < N; i++) {
		TEST_JOIN(t[i], "sleeper");
		assert_true(s[i].left > 0);	/* woken, not timed out */
	}
	assert_int_equal(sleepers(&wq), 0);
	destroy_waitqueue_head(&wq);
}

struct locked_sleeper {
	wait_queue_head_t wq;
	struct mutex lock;
	int value;			/* @lock */
	atomic_int evaluations;
	atomic_int unlocked_evaluations;
	bool held_on_return;
	uint64_t left;
};

static bool locked_cond(struct locked_sleeper *ls)
{
	atomic_fetch_add(&ls->evaluations, 1);
	if (!mutex_is_locked_by_me(&ls->lock))
		atomic_fetch_add(&ls->unlocked_evaluations, 1);
	return ls->value != 0;
}

static void *locked_sleeper_fn(void *arg)
{
	struct locked_sleeper *ls = arg;

	mutex_lock(&ls->lock);
	ls->left = wait_event_lock_timeout(&ls->wq, locked_cond(ls), &ls->lock, SLEEP_NS);
	ls->held_on_return = mutex_is_locked_by_me(&ls->lock);
	mutex_unlock(&ls->lock);
	return NULL;
}

/*
 * wait_event_lock(): the condition is evaluated with the mutex held, the
 * mutex is free (and owned by nobody) while the sleeper sleeps, and held
 * again on return.
 */
static void test_wait_event_lock(void **state)
{
	struct locked_sleeper ls = { .value = 0 };
	pthread_t t;

	(void)state;
	init_waitqueue_head(&ls.wq);
	mutex_init(&ls.lock);
	assert_int_equal(pthread_create(&t, NULL, locked_sleeper_fn, &ls), 0);
	TEST_WAIT_UNTIL(sleepers(&ls.wq) == 1 && atomic_load(&ls.evaluations) >= 1,
			TEST_WAIT_MS, "the sleeper inside wait_event_lock");
	mutex_lock(&ls.lock);		/* free while the sleeper sleeps */
	assert_true(mutex_is_locked_by_me(&ls.lock));
	ls.value = 1;
	wake_up_all(&ls.wq);
	mutex_unlock(&ls.lock);
	TEST_JOIN(t, "locked sleeper");
	assert_true(ls.left > 0);
	assert_true(ls.held_on_return);
	assert_true(atomic_load(&ls.evaluations) >= 2);
	assert_int_equal(atomic_load(&ls.unlocked_evaluations), 0);
	mutex_destroy(&ls.lock);
	destroy_waitqueue_head(&ls.wq);
}

struct completion_waiter {
	struct completion *c;
	atomic_int *finished;
	uint64_t left;
};

static void *completion_waiter_fn(void *arg)
{
	struct completion_waiter *w = arg;

	w->left = wait_for_completion_timeout(w->c, SLEEP_NS);
	atomic_fetch_add(w->finished, 1);
	return NULL;
}

/* complete() lets one waiter through per call, and is then consumed. */
static void test_complete_one(void **state)
{
	struct completion_waiter w[2];
	atomic_int finished = 0;
	struct completion c;
	pthread_t t[2];

	(void)state;
	init_completion(&c);
	assert_false(completion_done(&c));
	for (int i = 0; i < 2; i++) {
		w[i] = (struct completion_waiter){ .c = &c, .finished = &finished };
		assert_int_equal(pthread_create(&t[i], NULL, completion_waiter_fn, &w[i]), 0);
	}
	TEST_WAIT_UNTIL(sleepers(&c.wait) == 2, TEST_WAIT_MS, "both waiters asleep");
	complete(&c);
	TEST_WAIT_UNTIL(atomic_load(&finished) == 1, TEST_WAIT_MS, "one waiter through");
	usleep(50 * 1000);
	assert_int_equal(atomic_load(&finished), 1);	/* the other still waits */
	assert_false(completion_done(&c));		/* consumed */
	complete(&c);
	for (int i = 0; i < 2; i++) {
		TEST_JOIN(t[i], "completion waiter");
		assert_true(w[i].left > 0);
	}
	assert_false(try_wait_for_completion(&c));
	destroy_completion(&c);
}

/* complete_all() lets every waiter through until reinit_completion(). */
static void test_complete_all(void **state)
{
	struct completion c;

	(void)state;
	init_completion(&c);
	assert_false(try_wait_for_completion(&c));
	assert_int_equal(wait_for_completion_timeout(&c, 10 * NSEC_PER_MSEC), 0);
	complete_all(&c);
	for (int i = 0; i < 3; i++)
		wait_for_completion(&c);
	assert_true(try_wait_for_completion(&c));
	assert_true(completion_done(&c));
	reinit_completion(&c);
	assert_false(completion_done(&c));
	assert_int_equal(wait_for_completion_timeout(&c, 10 * NSEC_PER_MSEC), 0);
	complete(&c);
	assert_true(completion_done(&c));
	assert_true(wait_for_completion_timeout(&c, 10 * NSEC_PER_MSEC) > 0);
	assert_false(completion_done(&c));
	destroy_completion(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeout_expires),
		cmocka_unit_test(test_condition_already_true),
		cmocka_unit_test(test_static_queue),
		cmocka_unit_test(test_wake_up_all),
		cmocka_unit_test(test_wait_event_lock),
		cmocka_unit_test(test_complete_one),
		cmocka_unit_test(test_complete_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
