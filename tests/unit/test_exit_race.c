/* SPDX-License-Identifier: MIT */
/*
 * test_exit_race.c - pinmm_exit() against calls running on other threads.
 *
 * A call on a process (through its handle, or on `current`) holds an
 * mm_users reference for as long as it runs, so a pinmm_exit() on another
 * thread never frees the address space under it: the call completes on
 * the whole mm, or - once the exit has happened - answers -ESRCH.  Any
 * other result (-EFAULT from a torn-down mm, a WARN, a crash, an ASan
 * use-after-free) is the bug these tests exist for.
 *
 * The races are real threads: each round makes a fresh process, lets a
 * worker loop on it and exits the process after a varying delay; the
 * worker's last result must be -ESRCH and every earlier one a success.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <pinmm/linux.h>
#include "helpers.h"

#define RACE_PAGES	512			/* 2 MiB: a long GUP-fast walk */
#define RACE_LEN	(RACE_PAGES * PAGE_SIZE)
#define RACE_ROUNDS	200
#define RACE_DEADLINE_S	20.0			/* whole test, all rounds */

enum race_op { OP_PIN_FAST, OP_GUP_UNLOCKED, OP_LOAD, OP_PAGE_INFO };

struct race {
	struct pinmm_proc *p;
	unsigned long addr;
	enum race_op op;
	atomic_bool started;
	long ok;		/* successful calls before the exit was seen */
	long last;		/* the first result that was not a success */
	struct page *pages[RACE_PAGES];
	char buf[RACE_LEN];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One call of @r->op; returns its result and releases what it took. */
static long race_call(struct race *r)
{
	struct pinmm_page_info info;
	long n;

	switch (r->op) {
	case OP_PIN_FAST:
		n = pin_user_pages_fast(r->addr, RACE_PAGES, FOLL_WRITE, r->pages);
		if (n > 0)
			unpin_user_pages(r->pages, (unsigned long)n);
		return n == RACE_PAGES ? 0 : (n > 0 ? -EPROTO : n);
	case OP_GUP_UNLOCKED:
		n = get_user_pages_unlocked(r->addr, 64, r->pages, FOLL_WRITE);
		for (long i = 0; i < n; i++)
			put_page(r->pages[i]);
		return n == 64 ? 0 : (n > 0 ? -EPROTO : n);
	case OP_LOAD:
		n = pinmm_load(r->p, r->addr, r->buf, RACE_LEN);
		return n == (long)RACE_LEN ? 0 : (n >= 0 ? -EPROTO : n);
	case OP_PAGE_INFO:
		n = pinmm_page_info(r->p, r->addr + RACE_LEN - PAGE_SIZE, &info);
		return n == 0 && !info.present ? -EPROTO : n;
	}
	return -EINVAL;
}

static void *race_worker(void *arg)
{
	struct race *r = arg;
	long ret;

	pinmm_set_current(r->p);
	atomic_store(&r->started, true);
	while ((ret = race_call(r)) == 0)
		r->ok++;
	r->last = ret;
	pinmm_set_current(NULL);
	return NULL;
}

/*
 * RACE_ROUNDS rounds of: a new process with RACE_LEN populated bytes, a
 * worker looping @op on it, pinmm_exit() after a delay that grows with the
 * round (so that some exits land before the first call, most during one).
 */
static void exit_race(enum race_op op)
{
	struct pinmm *m = test_boot("ram=256M", "debug=1", "quiet=1", NULL);
	struct race *r = calloc(1, sizeof(*r));
	double deadline = now_s() + RACE_DEADLINE_S;
	long raced = 0, rounds = 0;

	assert_non_null(r);
	for (int round = 0; round < RACE_ROUNDS && now_s() < deadline; round++) {
		pthread_t tid;
		volatile unsigned long spin;

		assert_int_equal(pinmm_proc_create(m, &r->p), 0);
		r->addr = (unsigned long)pinmm_mmap(r->p, 0, RACE_LEN, PROT_READ | PROT_WRITE,
						    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
						    -1, 0);
		assert_true((long)r->addr > 0);
		r->op = op;
		r->ok = 0;
		r->last = 1;
		atomic_store(&r->started, false);
		assert_int_equal(pthread_create(&tid, NULL, race_worker, r), 0);
		while (!atomic_load(&r->started))
			if (now_s() > deadline + 10)
				fail_msg("round %d: the worker did not start", round);
		for (spin = 0; spin < (unsigned long)round * 500; spin++)
			;
		assert_int_equal(pinmm_exit(r->p), 0);
		pthread_join(tid, NULL);
		if (r->last != -ESRCH)
			fail_msg("round %d: op %d returned %ld after %ld successes, "
				 "want only successes, then -ESRCH", round, op, r->last, r->ok);
		raced += r->ok > 0;
		rounds++;
	}
	print_message("# op %d: %ld rounds, %ld with calls before the exit\n", op, rounds,
		      raced);
	assert_true(raced > 0);		/* the race happened */
	assert_int_equal(pinmm_vmstat(m, "nr_foll_pin_acquired"),
			 pinmm_vmstat(m, "nr_foll_pin_released"));
	free(r);
	test_shutdown_clean(m);
}

static void test_exit_vs_pin_user_pages_fast(void **state)
{
	(void)state;
	exit_race(OP_PIN_FAST);
}

static void test_exit_vs_get_user_pages_unlocked(void **state)
{
	(void)state;
	exit_race(OP_GUP_UNLOCKED);
}

static void test_exit_vs_load(void **state)
{
	(void)state;
	exit_race(OP_LOAD);
}

static void test_exit_vs_page_info(void **state)
{
	(void)state;
	exit_race(OP_PAGE_INFO);
}

static void *exit_thread(void *p)
{
	return (void *)(long)pinmm_exit(p);
}

/*
 * A thread whose `current` another thread exited: every call on current
 * answers -ESRCH (not -EFAULT, not a WARN), and the mm handle is gone.
 */
static void test_current_exited_elsewhere(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m);	/* current on this thread */
	unsigned long a = test_mmap_anon(p, 16 * PAGE_SIZE);
	struct page *pages[16];
	long warns;
	pthread_t tid;

	(void)state;
	test_store8(p, a, 1);
	warns = pinmm_vmstat(m, "warn_count");
	assert_int_equal(pthread_create(&tid, NULL, exit_thread, p), 0);
	pthread_join(tid, NULL);
	assert_ptr_equal(pinmm_current(), p);
	assert_int_equal(pin_user_pages_fast(a, 16, FOLL_WRITE, pages), -ESRCH);
	assert_int_equal(get_user_pages_fast(a, 16, 0, pages), -ESRCH);
	assert_int_equal(get_user_pages_fast_only(a, 16, 0, pages), -ESRCH);
	assert_int_equal(pin_user_pages_unlocked(a, 16, pages, FOLL_WRITE), -ESRCH);
	assert_int_equal(get_user_pages_unlocked(a, 16, pages, 0), -ESRCH);
	assert_null(pinmm_proc_mm(p));
	assert_int_equal(pinmm_load(p, a, pages, 1), -ESRCH);
	assert_int_equal(pinmm_exit(p), -ESRCH);
	assert_int_equal(pinmm_vmstat(m, "warn_count"), warns);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 0);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_vs_pin_user_pages_fast),
		cmocka_unit_test(test_exit_vs_get_user_pages_unlocked),
		cmocka_unit_test(test_exit_vs_load),
		cmocka_unit_test(test_exit_vs_page_info),
		cmocka_unit_test(test_current_exited_elsewhere),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
