/* SPDX-License-Identifier: MIT */
/*
 * test_lockdep.c - the lock validator (src/kernel/lockdep.c): every kind
 * of report provoked on purpose, without the deadlock it predicts
 * happening (AB-BA across two threads run one after the other, a 3-lock
 * cycle, unlock of a lock not held or held by another thread, a lock held
 * at thread exit, sleeping under a spinlock and in an RCU read-side
 * section, recursion on a class), each checked through the counters and
 * the report text with both sites named; and no report for the legal
 * patterns (nesting annotations, trylock in reverse order, readers of one
 * rwsem in two threads at once, many locks of a class under a nest lock).
 *
 * Each test makes its locks at init sites of its own, so its classes and
 * edges are new to the process-wide graph.  The suite's strict mode
 * (PINMM_LOCKDEP_STRICT=1, which aborts on a report) is turned off here.
 */
#include "helpers.h"
#include <stdlib.h>
#include <string.h>

#include "lockdep.h"
#include "locking.h"
#include "rcu.h"
#include "wait.h"

#define JOIN_MS	10000

static char report[8192];

static long count(enum lockdep_report kind)
{
	return lockdep_report_count(kind);
}

/* The latest report's text, with @a and @b (and @c unless NULL) in it. */
static void assert_report_names(const char *banner, const char *a, const char *b, const char *c)
{
	lockdep_last_report(report, sizeof(report));
	if (!strstr(report, banner) || !strstr(report, a) || !strstr(report, b) ||
	    (c && !strstr(report, c)))
		fail_msg("report lacks \"%s\" / \"%s\" / \"%s\" / \"%s\":\n%s",
			 banner, a, b, c ? c : "", report);
}

static void run_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, fn, arg), 0);
	if (test_timedjoin(t, JOIN_MS, NULL))
		fail_msg("lockdep test thread did not finish in %d ms", JOIN_MS);
}

static int setup(void **state)
{
	(void)state;
	if (!lockdep_enabled())
		skip();
	return 0;
}

/* ------------------------------------------------------------------ */
/* AB-BA across two threads                                             */

static struct mutex ab_a, ab_b;

static void *ab_thread(void *arg)
{
	(void)arg;
	mutex_lock(&ab_a);
	mutex_lock(&ab_b);
	mutex_unlock(&ab_b);
	mutex_unlock(&ab_a);
	return NULL;
}

static void *ba_thread(void *arg)
{
	(void)arg;
	mutex_lock(&ab_b);
	mutex_lock(&ab_a);		/* closes the cycle: reported here */
	mutex_unlock(&ab_a);
	mutex_unlock(&ab_b);
	return NULL;
}

static void test_abba_two_threads(void **state)
{
	long before = count(LOCKDEP_CIRCULAR);

	(void)state;
	mutex_init(&ab_a);
	mutex_init(&ab_b);
	run_thread(ab_thread, NULL);	/* records ab_a -> ab_b */
	assert_int_equal(count(LOCKDEP_CIRCULAR), before);
	run_thread(ba_thread, NULL);	/* never runs beside ab_thread */
	assert_int_equal(count(LOCKDEP_CIRCULAR), before + 1);
	assert_report_names("WARNING: possible circular locking dependency detected",
			    "(ab_thread)", "(ba_thread)", "&ab_a");
	assert_non_null(strstr(report, "&ab_b"));
	/* The same inversion again: counted once. */
	run_thread(ba_thread, NULL);
	assert_int_equal(count(LOCKDEP_CIRCULAR), before + 1);
}

/* ------------------------------------------------------------------ */
/* A cycle of three                                                     */

static void lock_pair(struct mutex *outer, struct mutex *inner)
{
	mutex_lock(outer);
	mutex_lock(inner);
	mutex_unlock(inner);
	mutex_unlock(outer);
}

static void test_three_lock_cycle(void **state)
{
	struct mutex x, y, z;
	long before = count(LOCKDEP_CIRCULAR);

	(void)state;
	mutex_init(&x);
	mutex_init(&y);
	mutex_init(&z);
	lock_pair(&x, &y);
	lock_pair(&y, &z);
	assert_int_equal(count(LOCKDEP_CIRCULAR), before);
	mutex_lock(&z);
	mutex_lock(&x);			/* x -> y -> z recorded: z -> x closes it */
	mutex_unlock(&x);
	mutex_unlock(&z);
	assert_int_equal(count(LOCKDEP_CIRCULAR), before + 1);
	assert_report_names("possible circular locking dependency", "&x", "&y", "&z");
	assert_non_null(strstr(report, "(lock_pair)"));
	assert_non_null(strstr(report, "(test_three_lock_cycle)"));
}

/* ------------------------------------------------------------------ */
/* Releases that do not match an acquisition                            */

static void test_unlock_not_held(void **state)
{
	struct mutex m;
	spinlock_t s;
	long before = count(LOCKDEP_BAD_UNLOCK);

	(void)state;
	mutex_init(&m);
	spin_lock_init(&s);
	mutex_unlock(&m);		/* never taken */
	assert_int_equal(count(LOCKDEP_BAD_UNLOCK), before + 1);
	assert_report_names("WARNING: bad unlock balance detected!", "&m",
			    "(test_unlock_not_held)", NULL);
	spin_unlock(&s);
	assert_int_equal(count(LOCKDEP_BAD_UNLOCK), before + 2);
	/* Left alone: both still work. */
	mutex_lock(&m);
	mutex_unlock(&m);
	spin_lock(&s);
	spin_unlock(&s);
	assert_int_equal(count(LOCKDEP_BAD_UNLOCK), before + 2);
	mutex_destroy(&m);
}

static struct mutex other_m;
static atomic_int other_state;		/* 1: other_m held; 2: may release */

static void *holder_thread(void *arg)
{
	double deadline = test_now_ms() + JOIN_MS;

	(void)arg;
	mutex_lock(&other_m);
	atomic_store(&other_state, 1);
	while (atomic_load(&other_state) != 2)
		if (test_expired(deadline, "the main thread's unlock attempt"))
			break;
	mutex_unlock(&other_m);
	return NULL;
}

static void test_unlock_by_other_thread(void **state)
{
	long before = count(LOCKDEP_BAD_UNLOCK);
	pthread_t t;

	(void)state;
	mutex_init(&other_m);
	atomic_store(&other_state, 0);
	assert_int_equal(pthread_create(&t, NULL, holder_thread, NULL), 0);
	TEST_WAIT_UNTIL(atomic_load(&other_state) == 1, JOIN_MS, "the holder thread");
	mutex_unlock(&other_m);		/* held by the other thread */
	assert_int_equal(count(LOCKDEP_BAD_UNLOCK), before + 1);
	assert_report_names("bad unlock balance", "&other_m", "(test_unlock_by_other_thread)", NULL);
	assert_true(mutex_trylock(&other_m) == false);	/* still the holder's */
	atomic_store(&other_state, 2);
	if (test_timedjoin(t, JOIN_MS, NULL))
		fail_msg("holder thread did not finish");
	assert_int_equal(count(LOCKDEP_BAD_UNLOCK), before + 1);
}

/* ------------------------------------------------------------------ */
/* A thread that exits holding a lock                                   */

static struct mutex leaked;

static void *leaking_thread(void *arg)
{
	(void)arg;
	mutex_lock(&leaked);
	return NULL;			/* the key destructor reports it */
}

static void test_held_at_thread_exit(void **state)
{
	long before = count(LOCKDEP_HELD_AT_EXIT);

	(void)state;
	mutex_init(&leaked);
	run_thread(leaking_thread, NULL);
	assert_int_equal(count(LOCKDEP_HELD_AT_EXIT), before + 1);
	assert_report_names("exiting with locks still held", "&leaked", "(leaking_thread)", NULL);
}

/* ------------------------------------------------------------------ */
/* Sleeping in atomic context                                           */

static void test_sleep_under_spinlock(void **state)
{
	spinlock_t s;
	struct mutex m;
	long before = count(LOCKDEP_SLEEP_SPIN);

	(void)state;
	spin_lock_init(&s);
	mutex_init(&m);
	spin_lock(&s);
	mutex_lock(&m);
	mutex_unlock(&m);
	spin_unlock(&s);
	assert_int_equal(count(LOCKDEP_SLEEP_SPIN), before + 1);
	assert_report_names("BUG: sleeping function called from invalid context",
			    "holds spinlock &s", "mutex_lock at", NULL);
	/* Both sites, in this function, on two different lines. */
	assert_non_null(strstr(report, "test_lockdep.c"));
	assert_non_null(strstr(strstr(report, "test_lockdep.c") + 1, "test_lockdep.c"));

	spin_lock(&s);
	might_sleep();
	spin_unlock(&s);
	assert_int_equal(count(LOCKDEP_SLEEP_SPIN), before + 2);
	mutex_destroy(&m);
}

static void test_sleep_in_rcu_read_side(void **state)
{
	wait_queue_head_t wq;
	struct mutex m;
	long before = count(LOCKDEP_SLEEP_RCU);

	(void)state;
	pinmm_thread_enter();
	init_waitqueue_head(&wq);
	mutex_init(&m);
	rcu_read_lock();
	mutex_lock(&m);
	mutex_unlock(&m);
	rcu_read_unlock();
	assert_int_equal(count(LOCKDEP_SLEEP_RCU), before + 1);
	assert_report_names("sleeping function called from invalid context",
			    "rcu_read_lock() taken at", "mutex_lock at", NULL);
	assert_non_null(strstr(report, "(test_sleep_in_rcu_read_side)"));

	rcu_read_lock();
	wait_event(&wq, true);		/* a wait, even one that need not sleep */
	rcu_read_unlock();
	assert_int_equal(count(LOCKDEP_SLEEP_RCU), before + 2);
	assert_report_names("sleeping function", "wait_event at", "rcu_read_lock() taken at", NULL);

	/* Outside the section: nothing. */
	mutex_lock(&m);
	mutex_unlock(&m);
	assert_int_equal(count(LOCKDEP_SLEEP_RCU), before + 2);
	destroy_waitqueue_head(&wq);
	mutex_destroy(&m);
}

/* ------------------------------------------------------------------ */
/* Recursion                                                            */

/* Two locks of one class: one init site. */
static void init_same_class(struct mutex *m)
{
	mutex_init(m);
}

static void test_recursion_on_class(void **state)
{
	struct mutex m1, m2;
	struct rw_semaphore sem;
	long before = count(LOCKDEP_RECURSION);

	(void)state;
	init_same_class(&m1);
	init_same_class(&m2);
	mutex_lock(&m1);
	mutex_lock(&m2);
	mutex_unlock(&m2);
	mutex_unlock(&m1);
	assert_int_equal(count(LOCKDEP_RECURSION), before + 1);
	assert_report_names("WARNING: possible recursive locking detected", "  m, at ",
			    "(test_recursion_on_class)", "another lock of the same class");

	/* rwsem readers are not recursive (Linux): read, then read again. */
	init_rwsem(&sem);
	down_read(&sem);
	down_read(&sem);
	up_read(&sem);
	up_read(&sem);
	assert_int_equal(count(LOCKDEP_RECURSION), before + 2);
	assert_report_names("possible recursive locking", "&sem (read)", "the same lock", NULL);
	destroy_rwsem(&sem);
}

/* ------------------------------------------------------------------ */
/* Legal patterns: no report                                            */

static void init_same_rwsem_class(struct rw_semaphore *sem)
{
	init_rwsem(sem);
}

static struct lock_class_key own_key;

static void test_nested_annotation(void **state)
{
	struct mutex m1, m2, m3;
	struct rw_semaphore s1, s2;
	long before = count(NR_LOCKDEP_REPORTS);

	(void)state;
	init_same_class(&m1);
	init_same_class(&m2);
	mutex_lock(&m1);
	mutex_lock_nested(&m2, SINGLE_DEPTH_NESTING);
	mutex_unlock(&m2);
	mutex_unlock(&m1);
	init_same_rwsem_class(&s1);
	init_same_rwsem_class(&s2);
	down_write(&s1);
	down_write_nested(&s2, SINGLE_DEPTH_NESTING);
	up_write(&s2);
	up_write(&s1);
	/* A class of its own for one lock of an init site. */
	init_same_class(&m3);
	lockdep_set_class(&m3, &own_key);
	mutex_lock(&m1);
	mutex_lock(&m3);
	mutex_unlock(&m3);
	mutex_unlock(&m1);
	assert_int_equal(count(NR_LOCKDEP_REPORTS), before);
	destroy_rwsem(&s1);
	destroy_rwsem(&s2);
}

static struct mutex try_a, try_b;

static void *try_reverse_thread(void *arg)
{
	(void)arg;
	mutex_lock(&try_b);
	if (mutex_trylock(&try_a))	/* reverse order, but never waits */
		mutex_unlock(&try_a);
	mutex_unlock(&try_b);
	return NULL;
}

static void test_trylock_reverse_order(void **state)
{
	long before = count(NR_LOCKDEP_REPORTS);

	(void)state;
	mutex_init(&try_a);
	mutex_init(&try_b);
	lock_pair(&try_a, &try_b);
	run_thread(try_reverse_thread, NULL);
	lock_pair(&try_a, &try_b);	/* no try_b -> try_a edge was added */
	assert_int_equal(count(NR_LOCKDEP_REPORTS), before);
	/* The real reverse order is still caught. */
	lock_pair(&try_b, &try_a);
	assert_int_equal(count(LOCKDEP_CIRCULAR) > 0, true);
	assert_int_equal(count(NR_LOCKDEP_REPORTS), before + 1);
}

static struct rw_semaphore rr_sem;
static atomic_int rr_state;		/* 1: reader in; 2: may leave */

static void *reader_thread(void *arg)
{
	double deadline = test_now_ms() + JOIN_MS;

	(void)arg;
	down_read(&rr_sem);
	atomic_store(&rr_state, 1);
	while (atomic_load(&rr_state) != 2)
		if (test_expired(deadline, "the second reader"))
			break;
	up_read(&rr_sem);
	return NULL;
}

static void test_read_read_two_threads(void **state)
{
	struct rw_semaphore other;
	long before = count(NR_LOCKDEP_REPORTS);
	pthread_t t;

	(void)state;
	init_rwsem(&rr_sem);
	init_rwsem(&other);
	atomic_store(&rr_state, 0);
	assert_int_equal(pthread_create(&t, NULL, reader_thread, NULL), 0);
	TEST_WAIT_UNTIL(atomic_load(&rr_state) == 1, JOIN_MS, "the first reader");
	down_read(&rr_sem);		/* two readers of one rwsem at once */
	down_read(&other);		/* and a second class under it */
	up_read(&other);
	up_read(&rr_sem);
	atomic_store(&rr_state, 2);
	if (test_timedjoin(t, JOIN_MS, NULL))
		fail_msg("reader thread did not finish");
	assert_int_equal(count(NR_LOCKDEP_REPORTS), before);
	destroy_rwsem(&other);
}

static void test_nest_lock(void **state)
{
	struct mutex outer;
	struct rw_semaphore sems[4];
	long before = count(NR_LOCKDEP_REPORTS);
	int i;

	(void)state;
	mutex_init(&outer);
	for (i = 0; i < 4; i++)
		init_rwsem(&sems[i]);
	mutex_lock(&outer);
	for (i = 3; i >= 0; i--)	/* any order under the nest lock */
		down_write_nest_lock(&sems[i], &outer);
	for (i = 0; i < 4; i++)
		up_write(&sems[i]);
	mutex_unlock(&outer);
	assert_int_equal(count(NR_LOCKDEP_REPORTS), before);
	assert_int_equal(lockdep_depth(), 0);
}

/* The graph is readable as DOT, with the classes of this file in it. */
static void test_graph_dump(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	assert_int_equal(lockdep_graph_dump(f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "digraph lockdep {"));
	assert_non_null(strstr(buf, "label=\"&ab_a\""));
	assert_non_null(strstr(buf, "->"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abba_two_threads),
		cmocka_unit_test(test_three_lock_cycle),
		cmocka_unit_test(test_unlock_not_held),
		cmocka_unit_test(test_unlock_by_other_thread),
		cmocka_unit_test(test_held_at_thread_exit),
		cmocka_unit_test(test_sleep_under_spinlock),
		cmocka_unit_test(test_sleep_in_rcu_read_side),
		cmocka_unit_test(test_recursion_on_class),
		cmocka_unit_test(test_nested_annotation),
		cmocka_unit_test(test_trylock_reverse_order),
		cmocka_unit_test(test_read_read_two_threads),
		cmocka_unit_test(test_nest_lock),
		cmocka_unit_test(test_graph_dump),
	};

	unsetenv("PINMM_LOCKDEP_STRICT");	/* reports are what these tests make */
	return cmocka_run_group_tests(tests, setup, NULL);
}
