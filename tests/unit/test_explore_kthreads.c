/* SPDX-License-Identifier: MIT */
/*
 * test_explore_kthreads.c - background threads (kthread.h) as participants
 * of the explorer's scheduler (kernel/explore.c, doc/EXPLORE.md section 1),
 * on small programs with a known answer:
 *  - a thread the setup starts is adopted as thread c; its periodic sleep
 *    is a timer the strategy may fire inside the program's window (found,
 *    replayed with the same trace hash); with no ticks it never fires while
 *    the program runs (the whole 2-preemption tree is clean);
 *  - when every program thread is blocked, its timer fires anyway (time
 *    passes): a wait only it ends is not a deadlock;
 *  - a stop and join from a participant is a scheduler wait; from the setup
 *    or from the checks after the run it lets the thread run unscheduled:
 *    neither deadlocks nor hangs;
 *  - a thread a participant starts during the run joins it at once; one
 *    left asleep in an untimed wait when the program is done is idle, not
 *    a deadlock;
 *  - on a booted machine: ksmd, khugepaged and the writeback flusher of
 *    the setup and the DIO engine a thread starts are threads c, d, e, f,
 *    every run passes, replays are identical, and pinmm_shutdown() after
 *    the run stops them all; an RDMA peer of the setup and one a thread
 *    starts run their workloads as participants and are waited for by
 *    participants.
 * Every run is a forked child with a deadline: none of these can hang.
 */
#include "helpers.h"
#include <string.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <pinmm/dio.h>
#include <pinmm/explore.h>
#include <pinmm/rdma.h>
#include "explore.h"
#include "kthread.h"
#include "rcu.h"
#include "wait.h"

static struct {
	pthread_t th;
	struct completion stop, third, worked;
	wait_queue_head_t wq;
	int a, seen, fires, exited, joined, flag, violation;
	bool restart;		/* setup: start and join a thread first */
} g;

/* Like the writeback flusher: one pass per period until @stop completes. */
static void *ticker(void *arg)
{
	(void)arg;
	pinmm_thread_enter();
	while (!wait_for_completion_timeout(&g.stop, 1000000000ull)) {
		g.seen = READ_ONCE(g.a);
		if (++g.fires == 3)
			complete(&g.third);
	}
	g.exited = 1;
	return NULL;
}

/* Like the DIO engine: sleeps until there is work, does it, ends. */
static void *worker(void *arg)
{
	(void)arg;
	pinmm_thread_enter();
	wait_event(&g.wq, READ_ONCE(g.flag));
	complete(&g.worked);
	g.exited = 1;
	return NULL;
}

static void g_init(void)
{
	bool restart = g.restart;

	memset(&g, 0, sizeof(g));
	g.restart = restart;
	init_completion(&g.stop);
	init_completion(&g.third);
	init_completion(&g.worked);
	init_waitqueue_head(&g.wq);
}

static int setup_ticker(bool legacy, void **state)
{
	(void)legacy;
	g_init();
	*state = &g;
	if (g.restart) {
		/* Started in the setup, stopped there: never adopted. */
		if (kthread_start(&g.th, ticker, NULL))
			return -EAGAIN;
		complete(&g.stop);
		kthread_join(g.th);
		if (!g.exited)
			return -EIO;
		reinit_completion(&g.stop);
		g.exited = 0;
	}
	return kthread_start(&g.th, ticker, NULL);
}

static int setup_plain(bool legacy, void **state)
{
	(void)legacy;
	g_init();
	*state = &g;
	return 0;
}

/* The window: g.a is 1 between two points of thread 0. */
static void window_thread(void *state, int idx)
{
	(void)state;
	if (idx == 0) {
		WRITE_ONCE(g.a, 1);
		pinmm_explore_point();
		WRITE_ONCE(g.a, 2);
	} else {
		pinmm_explore_point();
	}
}

static int check_window(void *state, char *msg, size_t len)
{
	(void)state;
	if (g.seen == 1) {
		snprintf(msg, len, "the ticker ran inside the window");
		return 1;
	}
	return 0;
}

static void test_timer_fires_in_window(void **state)
{
	const struct pinmm_explore_prog prog = { .name = "window", .nr_threads = 2,
		.setup = setup_ticker, .thread = window_thread, .check = check_window };
	struct pinmm_explore_result r, again;
	struct pinmm_explore_opts o;
	char line[256], sched[PINMM_EXPLORE_SCHED_MAX];
	bool ticker_steps = false;
	FILE *trace;
	(void)state;

	g.restart = false;
	test_explore_opts(&o, PINMM_EXPLORE_RANDOM, 300);
	o.seed = 1;
	assert_int_equal(pinmm_explore(&prog, &o, &r), 0);
	assert_int_equal(r.verdict, PINMM_EXPLORE_ORACLE);
	assert_non_null(strchr(r.schedule, 'c'));	/* thread 2: the ticker */
	snprintf(sched, sizeof(sched), "%s", r.schedule);
	trace = tmpfile();
	assert_non_null(trace);
	o.trace = trace;
	assert_int_equal(pinmm_explore_replay(&prog, &o, sched, &again), 0);
	assert_int_equal(again.verdict, PINMM_EXPLORE_ORACLE);
	assert_int_equal(again.trace_hash, r.trace_hash);
	assert_int_equal(again.steps, r.steps);
	rewind(trace);
	while (fgets(line, sizeof(line), trace))
		ticker_steps |= strstr(line, " T2 wait_timed") != NULL;
	fclose(trace);
	assert_true(ticker_steps);
	o.trace = NULL;

	/* No ticks: the timer never fires while the program runs. */
	test_explore_opts(&o, PINMM_EXPLORE_DFS, 5000);
	o.kthread_ticks = 0;
	assert_int_equal(pinmm_explore(&prog, &o, &r), 0);
	assert_int_equal(r.verdict, PINMM_EXPLORE_PASS);
	assert_true(r.runs > 2);
	o.kthread_ticks = -1;
	assert_int_equal(pinmm_explore(&prog, &o, &r), -EINVAL);
}

/* Thread 0 waits for the ticker's third pass; nothing else can end it. */
static void blocked_thread(void *state, int idx)
{
	(void)state;
	if (idx == 0)
		wait_for_completion(&g.third);
}

static int check_third(void *state, char *msg, size_t len)
{
	(void)state;
	if (g.fires < 3) {
		snprintf(msg, len, "%d passes", g.fires);
		return 1;
	}
	return 0;
}

static void test_time_passes_when_blocked(void **state)
{
	const struct pinmm_explore_prog prog = { .name = "blocked", .nr_threads = 2,
		.setup = setup_ticker, .thread = blocked_thread, .check = check_third };
	struct pinmm_explore_result r;
	struct pinmm_explore_opts o;
	(void)state;

	g.restart = false;
	for (long ticks = 0; ticks <= 1; ticks++) {
		test_explore_opts(&o, PINMM_EXPLORE_DFS, 2000);
		o.kthread_ticks = ticks;
		assert_int_equal(pinmm_explore(&prog, &o, &r), 0);
		assert_int_equal(r.verdict, PINMM_EXPLORE_PASS);
		assert_true(r.runs > 1);
	}
}

/* Thread 1 stops the ticker and joins it: a scheduler wait. */
static void join_thread(void *state, int idx)
{
	(void)state;
	if (idx == 0) {
		WRITE_ONCE(g.a, 1);
		pinmm_explore_point();
		return;
	}
	complete(&g.stop);
	kthread_join(g.th);
	g.joined = 1;
}

static int check_joined(void *state, char *msg, size_t len)
{
	(void)state;
	if (!g.joined || !g.exited) {
		snprintf(msg, len, "joined %d exited %d", g.joined, g.exited);
		return 1;
	}
	return 0;
}

/* After the run, from the controller: the ticker sleeps in the scheduler. */
static int check_join_after(void *state, char *msg, size_t len)
{
	complete(&g.stop);
	kthread_join(g.th);
	g.joined = 1;
	return check_joined(state, msg, len);
}

static void test_joins(void **state)
{
	const struct pinmm_explore_prog during = { .name = "join", .nr_threads = 2,
		.setup = setup_ticker, .thread = join_thread, .check = check_joined };
	const struct pinmm_explore_prog after = { .name = "join-after", .nr_threads = 2,
		.setup = setup_ticker, .thread = window_thread, .check = check_join_after };
	struct pinmm_explore_result r;
	struct pinmm_explore_opts o;
	(void)state;

	for (int restart = 0; restart <= 1; restart++) {
		g.restart = restart;
		test_explore_opts(&o, PINMM_EXPLORE_DFS, 5000);
		assert_int_equal(pinmm_explore(&during, &o, &r), 0);
		assert_int_equal(r.verdict, PINMM_EXPLORE_PASS);
		assert_true(r.runs > 2);
		test_explore_opts(&o, PINMM_EXPLORE_PCT, 50);
		assert_int_equal(pinmm_explore(&after, &o, &r), 0);
		assert_int_equal(r.verdict, PINMM_EXPLORE_PASS);
		assert_int_equal(r.runs, 50);
	}
	g.restart = false;
}

/* Thread 0 starts a worker during the run; thread 1 gives it work (or not). */
static void midrun_thread(void *state, int idx)
{
	(void)state;
	if (idx == 0) {
		if (kthread_start(&g.th, worker, NULL)) {
			g.violation = 1;
			return;
		}
		wait_for_completion(&g.worked);
		kthread_join(g.th);
		g.joined = 1;
	} else {
		mutex_lock(&g.wq.lock);
		WRITE_ONCE(g.flag, 1);
		mutex_unlock(&g.wq.lock);
		wake_up(&g.wq);
	}
}

static void idle_thread(void *state, int idx)
{
	(void)state;
	if (idx == 0 && kthread_start(&g.th, worker, NULL))
		g.violation = 1;
}

static int check_idle(void *state, char *msg, size_t len)
{
	(void)state;
	if (g.violation || g.exited) {
		snprintf(msg, len, "violation %d exited %d", g.violation, g.exited);
		return 1;
	}
	return 0;
}

static void test_started_during_run(void **state)
{
	const struct pinmm_explore_prog midrun = { .name = "midrun", .nr_threads = 2,
		.setup = setup_plain, .thread = midrun_thread, .check = check_joined };
	const struct pinmm_explore_prog idle = { .name = "idle", .nr_threads = 2,
		.setup = setup_plain, .thread = idle_thread, .check = check_idle };
	struct pinmm_explore_result r, again;
	struct pinmm_explore_opts o;
	(void)state;

	for (int s = PINMM_EXPLORE_RANDOM; s <= PINMM_EXPLORE_DFS; s++) {
		test_explore_opts(&o, s, 200);
		assert_int_equal(pinmm_explore(&midrun, &o, &r), 0);
		assert_int_equal(r.verdict, PINMM_EXPLORE_PASS);
		assert_true(r.runs > 2);
	}
	/* The worker (c) runs to its sleep before the waker (b) starts: replays. */
	test_explore_opts(&o, PINMM_EXPLORE_RANDOM, 1);
	assert_int_equal(pinmm_explore_replay(&midrun, &o, "a2c2", &r), 0);
	assert_int_equal(r.verdict, PINMM_EXPLORE_PASS);
	assert_non_null(strchr(r.schedule, 'c'));
	assert_int_equal(pinmm_explore_replay(&midrun, &o, r.schedule, &again), 0);
	assert_int_equal(again.verdict, PINMM_EXPLORE_PASS);
	assert_int_equal(again.trace_hash, r.trace_hash);

	test_explore_opts(&o, PINMM_EXPLORE_DFS, 2000);
	assert_int_equal(pinmm_explore(&idle, &o, &r), 0);
	assert_int_equal(r.verdict, PINMM_EXPLORE_PASS);
}

/* ---- The machine's own threads ----------------------------------------------- */

#define PG 4096UL

static struct {
	struct pinmm *m;
	struct pinmm_proc *p, *q;
	int fd, pd;
	unsigned long buf, anon, qa;
	long dio;
	struct pinmm_rdma_peer *peer;
	struct pinmm_rdma_peer_cfg cfg;
	struct pinmm_rdma_peer_stats st0, st1;
	int err0, err1;
} mt;

static int mt_boot(const char *const *kv, const char *image)
{
	struct pinmm_config cfg;

	pinmm_config_default(&cfg);
	if (pinmm_config_set(&cfg, "ram", "64M") || pinmm_config_set(&cfg, "quiet", "1"))
		return -EINVAL;
	for (; kv[0]; kv += 2)
		if (pinmm_config_set(&cfg, kv[0], kv[1]))
			return -EINVAL;
	if (image && (pinmm_config_set(&cfg, "pinfs.image", image) ||
		      pinmm_config_set(&cfg, "pinfs.size", "4M")))
		return -EINVAL;
	return pinmm_boot(&cfg, &mt.m);
}

/* ksmd, khugepaged, a pinfs with its flusher; a file of 'F's to read by DIO. */
static int setup_machine(bool legacy, void **state)
{
	const char *kv[] = { "ksm.sleep_ms", "20", "khugepaged.scan_sleep_ms", "20",
			     "writeback.interval_ms", "20", NULL };
	static char image[256], data[PG];
	const char *dir = getenv("TMPDIR");
	long a;
	int err;

	(void)legacy;
	memset(&mt, 0, sizeof(mt));
	*state = &mt;
	snprintf(image, sizeof(image), "%s/pinmm-kthreads-%d.img", dir && *dir ? dir : "/tmp",
		 (int)getpid());
	unlink(image);
	err = mt_boot(kv, image);
	unlink(image);		/* the machine keeps it open */
	if (!err)
		err = pinmm_proc_create(mt.m, &mt.p);
	if (err)
		return err;
	mt.fd = pinmm_open(mt.p, "/data/f", O_RDWR | O_CREAT | O_DIRECT, 0644);
	if (mt.fd < 0)
		return mt.fd;
	memset(data, 'F', PG);
	if (pinmm_pwrite(mt.p, mt.fd, data, PG, 0) != (long)PG)
		return -EIO;
	a = pinmm_mmap(mt.p, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (a < 0)
		return (int)a;
	mt.buf = (unsigned long)a;
	mt.anon = mt.buf + PG;
	return 0;
}

static void machine_thread(void *state, int idx)
{
	struct pinmm_dio *d;

	(void)state;
	if (idx == 0) {
		/* The first DIO starts the mount's DIO engine: thread f. */
		mt.dio = pinmm_dio_submit(mt.p, mt.fd, PINMM_DIO_READ, mt.buf, PG, 0, &d);
		if (!mt.dio)
			mt.dio = pinmm_dio_wait(d);
	} else {
		mt.err1 = pinmm_store(mt.p, mt.anon, "anon", 4) == 4 ? 0 : -EFAULT;
		if (!mt.err1)
			mt.err1 = pinmm_sync(mt.m);
	}
}

static int check_machine(void *state, char *msg, size_t len)
{
	char seen[8] = "";
	int err;

	(void)state;
	pinmm_load(mt.p, mt.buf, seen, sizeof(seen));
	/*
	 * Stops ksmd, khugepaged, the flusher and the DIO engine (joins from
	 * outside the run: they are released).  The page tables the exits
	 * free by call_rcu() are kept in a run child (doc/EXPLORE.md 1); the
	 * shutdown's rcu_barrier() runs them, so the leak check passes.
	 */
	err = pinmm_shutdown(mt.m);
	mt.m = NULL;
	if (mt.dio != (long)PG || mt.err1 || memcmp(seen, "FFFFFFFF", 8) || err) {
		snprintf(msg, len, "dio %ld, store+sync %d, read \"%.8s\", shutdown %d", mt.dio,
			 mt.err1, seen, err);
		return 1;
	}
	return 0;
}

static struct pinmm *mt_machine(void *state)
{
	(void)state;
	return mt.m;
}

/* Which threads the step trace of replaying @sched shows (bit i: T<i>). */
static unsigned traced_threads(const struct pinmm_explore_prog *prog, const char *sched,
			       struct pinmm_explore_result *r)
{
	struct pinmm_explore_opts o;
	unsigned seen = 0;
	char line[256];
	FILE *trace = tmpfile();
	int t;

	assert_non_null(trace);
	test_explore_opts(&o, PINMM_EXPLORE_RANDOM, 1);
	o.trace = trace;
	assert_int_equal(pinmm_explore_replay(prog, &o, sched, r), 0);
	rewind(trace);
	while (fgets(line, sizeof(line), trace))
		if (sscanf(line, "%*s T%d", &t) == 1 && t >= 0 && t < 8)
			seen |= 1u << t;
	fclose(trace);
	return seen;
}

static void test_machine_threads(void **state)
{
	const struct pinmm_explore_prog prog = { .name = "machine", .nr_threads = 2,
		.setup = setup_machine, .thread = machine_thread, .check = check_machine,
		.machine = mt_machine };
	struct pinmm_explore_result r, again;
	struct pinmm_explore_opts o;
	(void)state;

	for (int s = PINMM_EXPLORE_RANDOM; s <= PINMM_EXPLORE_PCT; s++) {
		test_explore_opts(&o, s, 20);
		o.step_budget = 20000;
		o.run_timeout_ms = 10000;
		assert_int_equal(pinmm_explore(&prog, &o, &r), 0);
		if (r.verdict != PINMM_EXPLORE_PASS)
			fail_msg("%s: %s", pinmm_explore_verdict_name(r.verdict), r.message);
		assert_int_equal(r.runs, 20);
	}
	/* a, b; c ksmd, d khugepaged, e the flusher (boot order); f the DIO engine. */
	assert_int_equal(traced_threads(&prog, "a", &r), 0x3f);
	assert_int_equal(r.verdict, PINMM_EXPLORE_PASS);
	assert_int_equal(traced_threads(&prog, r.schedule, &again), 0x3f);
	assert_int_equal(again.trace_hash, r.trace_hash);
}

/* RDMA: a peer of the setup (c), waited for by thread 1; one thread 0 starts. */
static int setup_rdma(bool legacy, void **state)
{
	const char *kv[] = { NULL };
	struct pinmm_rdma_mr_info mr;
	long a;
	int err;

	(void)legacy;
	memset(&mt, 0, sizeof(mt));
	*state = &mt;
	err = mt_boot(kv, NULL);
	if (!err)
		err = pinmm_proc_create(mt.m, &mt.q);
	if (!err)
		err = pinmm_proc_create(mt.m, &mt.p);
	if (err)
		return err;
	a = pinmm_mmap(mt.q, 0, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (a < 0)
		return (int)a;
	mt.qa = (unsigned long)a;
	if (pinmm_store(mt.q, mt.qa, "in Q", 4) != 4)
		return -EFAULT;
	mt.pd = pinmm_rdma_alloc_pd(mt.p);
	if (mt.pd < 0)
		return mt.pd;
	err = pinmm_rdma_reg_mr_remote(mt.p, mt.pd, mt.q, mt.qa, 4 * PG,
				       IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_READ |
				       IB_ACCESS_REMOTE_WRITE, &mr);
	if (err)
		return err;
	mt.cfg = (struct pinmm_rdma_peer_cfg){ .rkey = mr.rkey, .iova = mt.qa, .length = 4 * PG,
					       .write_pct = 50, .max_ops = 6, .seed = 7 };
	return pinmm_rdma_peer_start(mt.p, mt.pd, &mt.cfg, &mt.peer);
}

static void rdma_thread(void *state, int idx)
{
	struct pinmm_rdma_peer_cfg cfg = mt.cfg;
	struct pinmm_rdma_peer *peer;

	(void)state;
	if (idx == 1) {
		mt.err1 = pinmm_rdma_peer_wait(mt.peer, &mt.st1);	/* a join: scheduled */
		return;
	}
	cfg.max_ops = 3;
	cfg.seed = 9;
	mt.err0 = pinmm_rdma_peer_start(mt.p, mt.pd, &cfg, &peer);
	if (!mt.err0)
		mt.err0 = pinmm_rdma_peer_wait(peer, &mt.st0);
}

static int check_rdma(void *state, char *msg, size_t len)
{
	(void)state;
	if (mt.err0 || mt.err1 || mt.st0.ops != 3 || mt.st1.ops != 6 || mt.st0.refused ||
	    mt.st1.refused) {
		snprintf(msg, len, "err %d/%d ops %ld/%ld refused %ld/%ld", mt.err0, mt.err1,
			 mt.st0.ops, mt.st1.ops, mt.st0.refused, mt.st1.refused);
		return 1;
	}
	return 0;
}

static void test_rdma_peers(void **state)
{
	const struct pinmm_explore_prog prog = { .name = "rdma", .nr_threads = 2,
		.setup = setup_rdma, .thread = rdma_thread, .check = check_rdma,
		.machine = mt_machine };
	struct pinmm_explore_result r, again;
	struct pinmm_explore_opts o;
	(void)state;

	for (int s = PINMM_EXPLORE_RANDOM; s <= PINMM_EXPLORE_PCT; s++) {
		test_explore_opts(&o, s, 30);
		o.step_budget = 20000;
		assert_int_equal(pinmm_explore(&prog, &o, &r), 0);
		if (r.verdict != PINMM_EXPLORE_PASS)
			fail_msg("%s: %s", pinmm_explore_verdict_name(r.verdict), r.message);
	}
	/* c: the setup's peer; d: thread 0's. */
	assert_int_equal(traced_threads(&prog, "b", &r), 0xf);
	assert_int_equal(r.verdict, PINMM_EXPLORE_PASS);
	assert_int_equal(traced_threads(&prog, r.schedule, &again), 0xf);
	assert_int_equal(again.trace_hash, r.trace_hash);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_fires_in_window),
		cmocka_unit_test(test_time_passes_when_blocked),
		cmocka_unit_test(test_joins),
		cmocka_unit_test(test_started_during_run),
		cmocka_unit_test(test_machine_threads),
		cmocka_unit_test(test_rdma_peers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
