/* SPDX-License-Identifier: MIT */
/*
 * test_explore.c - the explorer's scheduler and driver (kernel/explore.c,
 * init/explore_run.c, doc/EXPLORE.md) on small programs with a known
 * answer: an ABBA lock order deadlocks and is reported as a deadlock, a
 * wait nobody wakes too, a completion never does; a reader descheduled
 * inside its RCU section neither deadlocks synchronize_rcu() nor is
 * outlived by it; a BUG ends one run with its message and the schedule
 * replays it with the same trace hash; a loop without progress is a
 * livelock; bad options and schedules are -EINVAL; checks between steps
 * run only where no thread holds a lock or is inside an RCU section; the
 * run's clock moves only when a timed wait expires.
 * Each run is a forked child with its own deadline, so none of these can
 * hang the test.
 */
#include "helpers.h"
#include <string.h>

#include <pinmm/explore.h>
#include "explore.h"
#include "pin_policy.h"
#include "rcu.h"
#include "wait.h"
#include <unistd.h>

static struct {
	struct mutex a, b;
	wait_queue_head_t wq;
	struct completion done;
	int flag, inside, violation;
} g;

static int setup_common(bool legacy, void **state)
{
	(void)legacy;
	memset(&g, 0, sizeof(g));
	/* One init site: a and b are one lock class for the validator. */
	for (struct mutex *m = &g.a; m; m = m == &g.a ? &g.b : NULL)
		mutex_init(m);
	init_waitqueue_head(&g.wq);
	init_completion(&g.done);
	*state = &g;
	return 0;
}

static int check_violation(void *state, char *msg, size_t len)
{
	(void)state;
	if (g.violation)
		snprintf(msg, len, "violation %d", g.violation);
	return g.violation;
}

/* ABBA */
static void abba_thread(void *state, int idx)
{
	struct mutex *first = idx ? &g.b : &g.a, *second = idx ? &g.a : &g.b;

	(void)state;
	/*
	 * Two locks of one class, the second annotated as nested: the lock
	 * validator accepts that in either order (as Linux's lockdep accepts
	 * a wrong *_nested() annotation), so the deadlock is the explorer's to
	 * find - a run with both orders one after the other does not reveal it.
	 */
	mutex_lock(first);
	mutex_lock_nested(second, SINGLE_DEPTH_NESTING);
	mutex_unlock(second);
	mutex_unlock(first);
}

static void test_abba_deadlock(void **state)
{
	const struct pinmm_explore_prog prog = { .name = "abba", .nr_threads = 2,
		.setup = setup_common, .thread = abba_thread, .check = check_violation };
	struct pinmm_explore_result r;
	struct pinmm_explore_opts o;
	(void)state;

	test_explore_opts(&o, PINMM_EXPLORE_DFS, 100);
	assert_int_equal(pinmm_explore(&prog, &o, &r), 0);
	assert_int_equal(r.verdict, PINMM_EXPLORE_DEADLOCK);
	assert_non_null(strstr(r.message, "T0 mutex_lock"));
	assert_non_null(strstr(r.message, "T1 mutex_lock"));
	assert_true(r.runs > 1);	/* run 0 (non-preemptive) is fine */
}

/* A waker that forgets wake_up(): some schedules leave the sleeper asleep. */
static void lost_wakeup_thread(void *state, int idx)
{
	(void)state;
	if (idx == 0)
		wait_event(&g.wq, READ_ONCE(g.flag));
	else
		WRITE_ONCE(g.flag, 1);
}

static void completion_thread(void *state, int idx)
{
	(void)state;
	if (idx == 0)
		wait_for_completion(&g.done);
	else
		complete(&g.done);
}

static void test_waits(void **state)
{
	const struct pinmm_explore_prog lost = { .name = "lost", .nr_threads = 2,
		.setup = setup_common, .thread = lost_wakeup_thread, .check = check_violation };
	const struct pinmm_explore_prog comp = { .name = "completion", .nr_threads = 2,
		.setup = setup_common, .thread = completion_thread, .check = check_violation };
	struct pinmm_explore_result r;
	struct pinmm_explore_opts o;
	(void)state;

	test_explore_opts(&o, PINMM_EXPLORE_DFS, 1000);
	assert_int_equal(pinmm_explore(&lost, &o, &r), 0);
	assert_int_equal(r.verdict, PINMM_EXPLORE_DEADLOCK);
	assert_non_null(strstr(r.message, "T0 wait"));
	assert_int_equal(pinmm_explore(&comp, &o, &r), 0);
	assert_int_equal(r.verdict, PINMM_EXPLORE_PASS);
	assert_true(r.runs > 2);	/* the whole bounded tree, not one schedule */
}

/* RCU: the writer's grace period outlasts every reader that began before it. */
static void rcu_thread(void *state, int idx)
{
	(void)state;
	pinmm_thread_enter();
	if (idx == 0) {
		rcu_read_lock();
		WRITE_ONCE(g.inside, 1);
		pinmm_explore_point();
		WRITE_ONCE(g.inside, 0);
		rcu_read_unlock();
	} else {
		int before = READ_ONCE(g.inside);

		synchronize_rcu();
		if (before && READ_ONCE(g.inside))
			g.violation = 1;
	}
}

static void test_rcu(void **state)
{
	const struct pinmm_explore_prog prog = { .name = "rcu", .nr_threads = 2,
		.setup = setup_common, .thread = rcu_thread, .check = check_violation };
	struct pinmm_explore_result r;
	struct pinmm_explore_opts o;
	(void)state;

	test_explore_opts(&o, PINMM_EXPLORE_DFS, 1000);
	assert_int_equal(pinmm_explore(&prog, &o, &r), 0);
	assert_int_equal(r.verdict, PINMM_EXPLORE_PASS);
	assert_true(r.runs > 2);
}

/* A BUG that needs one thread preempted inside its two steps. */
static void bug_thread(void *state, int idx)
{
	(void)state;
	if (idx == 0) {
		WRITE_ONCE(g.flag, 1);
		pinmm_explore_point();
		WRITE_ONCE(g.flag, 0);
	} else {
		pinmm_explore_point();
		BUG_ON(READ_ONCE(g.flag) == 1);
	}
}

static void test_bug_and_replay(void **state)
{
	const struct pinmm_explore_prog prog = { .name = "bug", .nr_threads = 2,
		.setup = setup_common, .thread = bug_thread, .check = check_violation };
	struct pinmm_explore_result r, r2;
	struct pinmm_explore_opts o;
	(void)state;

	test_explore_opts(&o, PINMM_EXPLORE_RANDOM, 200);
	assert_int_equal(pinmm_explore(&prog, &o, &r), 0);
	assert_int_equal(r.verdict, PINMM_EXPLORE_BUG);
	assert_non_null(strstr(r.message, "BUG at"));
	assert_true(r.schedule[0] != '\0');
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pinmm_explore_replay(&prog, &o, r.schedule, &r2), 0);
		assert_int_equal(r2.verdict, PINMM_EXPLORE_BUG);
		assert_int_equal(r2.steps, r.steps);
		assert_true(r2.trace_hash == r.trace_hash);
		assert_string_equal(r2.schedule, r.schedule);
	}
	r2 = r;
	assert_int_equal(pinmm_explore_shrink(&prog, &o, &r2), 0);
	assert_int_equal(r2.verdict, PINMM_EXPLORE_BUG);
	assert_true(r2.preemptions <= r.preemptions);
	assert_true(r2.preemptions >= 1);
}

/* Waiting for a flag that never comes, at a point each time round. */
static void spin_thread(void *state, int idx)
{
	(void)state;
	if (idx == 0)
		while (!READ_ONCE(g.flag))
			pinmm_explore_point();
}

static void test_livelock_and_bad_input(void **state)
{
	const struct pinmm_explore_prog prog = { .name = "spin", .nr_threads = 2,
		.setup = setup_common, .thread = spin_thread, .check = check_violation };
	struct pinmm_explore_prog bad = prog;
	struct pinmm_explore_result r;
	struct pinmm_explore_opts o;
	(void)state;

	test_explore_opts(&o, PINMM_EXPLORE_RANDOM, 3);
	assert_int_equal(pinmm_explore(&prog, &o, &r), 0);
	assert_int_equal(r.verdict, PINMM_EXPLORE_LIVELOCK);
	assert_int_equal(r.steps, o.step_budget);
	/* Letters past the program's threads name background threads (none here). */
	assert_int_equal(pinmm_explore_replay(&prog, &o, "i3", &r), -EINVAL);
	assert_int_equal(pinmm_explore_replay(&prog, &o, "c3", &r), 0);
	assert_int_equal(r.verdict, PINMM_EXPLORE_DIVERGED);
	assert_int_equal(pinmm_explore_replay(&prog, &o, "a0", &r), -EINVAL);
	assert_int_equal(pinmm_explore_replay(&prog, &o, "ab", &r), 0);
	assert_int_equal(r.verdict, PINMM_EXPLORE_LIVELOCK);	/* then non-preemptive */
	bad.nr_threads = 0;
	assert_int_equal(pinmm_explore(&bad, &o, &r), -EINVAL);
	o.depth = 0;
	assert_int_equal(pinmm_explore(&prog, &o, &r), -EINVAL);
	assert_string_equal(pinmm_explore_verdict_name(PINMM_EXPLORE_DEADLOCK), "deadlock");
	assert_string_equal(pinmm_explore_verdict_name((enum pinmm_explore_verdict)99), "?");
}

/*
 * Checks between steps: a value that is non-zero only under a lock (or
 * inside an RCU read-side section) is never seen by the invariant, over
 * every schedule with 2 preemptions; one that is non-zero between two
 * lock-free steps is, and only with check_every_step.
 */
static void locked_thread(void *state, int idx)
{
	(void)state;
	mutex_lock(idx ? &g.b : &g.a);
	WRITE_ONCE(g.inside, READ_ONCE(g.inside) + 1);
	pinmm_explore_point();
	WRITE_ONCE(g.inside, READ_ONCE(g.inside) - 1);
	mutex_unlock(idx ? &g.b : &g.a);
	rcu_read_lock();
	WRITE_ONCE(g.flag, idx + 1);
	pinmm_explore_point();
	WRITE_ONCE(g.flag, 0);
	rcu_read_unlock();
}

static int invariant_quiet(void *state, char *msg, size_t len)
{
	(void)state;
	if (!READ_ONCE(g.inside) && !READ_ONCE(g.flag))
		return 0;
	snprintf(msg, len, "inside %d flag %d", g.inside, g.flag);
	return 1;
}

static void transient_thread(void *state, int idx)
{
	(void)state;
	if (idx == 0) {
		WRITE_ONCE(g.flag, 1);
		pinmm_explore_point();
		WRITE_ONCE(g.flag, 0);
	} else {
		pinmm_explore_point();
	}
}

static void test_step_checks(void **state)
{
	const struct pinmm_explore_prog quiet = { .name = "quiet", .nr_threads = 2,
		.setup = setup_common, .thread = locked_thread, .check = check_violation,
		.invariant = invariant_quiet };
	const struct pinmm_explore_prog transient = { .name = "transient", .nr_threads = 2,
		.setup = setup_common, .thread = transient_thread, .check = check_violation,
		.invariant = invariant_quiet };
	struct pinmm_explore_result r;
	struct pinmm_explore_opts o;
	(void)state;

	test_explore_opts(&o, PINMM_EXPLORE_DFS, 10000);
	o.check_every_step = true;
	if (!CONFIG_LOCKDEP) {
		assert_int_equal(pinmm_explore(&quiet, &o, &r), -EOPNOTSUPP);
		skip();
	}
	assert_int_equal(pinmm_explore(&quiet, &o, &r), 0);
	assert_int_equal(r.verdict, PINMM_EXPLORE_PASS);
	assert_true(r.runs > 10);
	assert_true(r.checks > 0);		/* the checks did run */
	assert_true(r.checks < r.runs * 20);	/* ... not at every one of the steps */

	assert_int_equal(pinmm_explore(&transient, &o, &r), 0);
	assert_int_equal(r.verdict, PINMM_EXPLORE_ORACLE);
	assert_non_null(strstr(r.message, "after step "));
	assert_non_null(strstr(r.message, "flag 1"));
	o.check_every_step = false;
	assert_int_equal(pinmm_explore(&transient, &o, &r), 0);
	assert_int_equal(r.verdict, PINMM_EXPLORE_PASS);
}

/*
 * The run's clock: it stands still while a thread sleeps for real (a slow
 * host), and a timed wait nobody ends expires exactly at its deadline.
 */
#define CLOCK_WAIT_NS	5000000ull
static void clock_thread(void *state, int idx)
{
	uint64_t t0, t1, t2, left;

	(void)state;
	if (idx == 1) {
		usleep(20000);		/* the host is slow: 20 ms between two points */
		return;
	}
	t0 = pin_policy_now_ns();
	pinmm_explore_point();
	t1 = pin_policy_now_ns();
	left = wait_event_timeout(&g.wq, READ_ONCE(g.flag), CLOCK_WAIT_NS);
	t2 = pin_policy_now_ns();
	if (t1 != t0)
		g.violation = 1;
	else if (left || t2 - t0 != CLOCK_WAIT_NS)
		g.violation = 2;
}

static void test_clock(void **state)
{
	const struct pinmm_explore_prog prog = { .name = "clock", .nr_threads = 2,
		.setup = setup_common, .thread = clock_thread, .check = check_violation };
	struct pinmm_explore_result r;
	struct pinmm_explore_opts o;
	(void)state;

	test_explore_opts(&o, PINMM_EXPLORE_DFS, 20);
	assert_int_equal(pinmm_explore(&prog, &o, &r), 0);
	assert_string_equal(r.message, "");
	assert_int_equal(r.verdict, PINMM_EXPLORE_PASS);
	assert_true(r.runs > 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abba_deadlock),
		cmocka_unit_test(test_waits),
		cmocka_unit_test(test_rcu),
		cmocka_unit_test(test_bug_and_replay),
		cmocka_unit_test(test_livelock_and_bad_input),
		cmocka_unit_test(test_step_checks),
		cmocka_unit_test(test_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
