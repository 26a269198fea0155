/* SPDX-License-Identifier: MIT */
/*
 * helpers.h - shared set-up for the cmocka unit tests.
 *
 * Tests include <stdarg.h>, <stddef.h>, <setjmp.h>, <stdint.h> and
 * <cmocka.h> through this header.  Each test boots its own machine so that
 * tests are independent; pinmm_shutdown() must return 0 at the end
 * (test_shutdown_clean()), which checks that nothing leaked.
 */
#ifndef PINMM_TEST_HELPERS_H
#define PINMM_TEST_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <cmocka.h>
#include <pinmm/pinmm.h>
#include <pinmm/explore.h>

#define KiB (1024UL)
#define MiB (1024UL * 1024)
#define GiB (1024UL * 1024 * 1024)

/* Boot a machine from "key=value" pairs (NULL-terminated); asserts success. */
struct pinmm *test_boot(const char *kv, ...);
/* Boot with ram=256M, debug=2 (full auditor). */
struct pinmm *test_boot_small(void);
/* A process made current on this thread. */
struct pinmm_proc *test_proc(struct pinmm *m);
/* Shut down and assert a clean audit (0). */
void test_shutdown_clean(struct pinmm *m);
/* Anonymous private RW mapping of @len bytes. */
unsigned long test_mmap_anon(struct pinmm_proc *p, size_t len);
/* Seconds for stress tests: PINMM_STRESS_SECONDS or @dflt. */
double test_stress_seconds(double dflt);
/* One byte through the MMU; asserts success. */
void test_store8(struct pinmm_proc *p, unsigned long addr, uint8_t v);
uint8_t test_load8(struct pinmm_proc *p, unsigned long addr);

/*
 * Deadlines for every wait of a test (no test may hang until meson's
 * timeout).  TEST_WAIT_MS is the default: generous, so that only a real
 * hang trips it, also under ASan/TSan on a loaded machine.
 */
#define TEST_WAIT_MS 60000
/* CLOCK_MONOTONIC in milliseconds. */
double test_now_ms(void);
/* The pause between two polls of a wait (about 100 us). */
void test_poll_pause(void);
/*
 * TEST_WAIT_UNTIL() - poll @cond (an expression, re-evaluated each time)
 * until it holds; fail the test with "timed out after @ms ms waiting for
 * @what" if it does not.  Only from the test's own thread (cmocka fails
 * by longjmp); other threads use test_expired().
 */
#define TEST_WAIT_UNTIL(cond, ms, what)						\
	do {									\
		double wu_end_ = test_now_ms() + (ms);				\
		while (!(cond)) {						\
			if (test_now_ms() > wu_end_)				\
				fail_msg("timed out after %d ms waiting for %s",	\
					 (int)(ms), (what));			\
			test_poll_pause();					\
		}								\
	} while (0)
/*
 * test_expired() - for a thread other than the test's: true (after
 * printing "# timed out waiting for @what" on stderr) once the
 * test_now_ms() time @deadline_ms has passed.  The thread then gives up
 * and reports the failure to the test thread, which asserts on it.
 */
bool test_expired(double deadline_ms, const char *what);
/* pthread_join() @t within @ms milliseconds: 0, or the errno (ETIMEDOUT). */
int test_timedjoin(pthread_t t, unsigned int ms, void **ret);
/*
 * TEST_JOIN() - join thread @t within TEST_WAIT_MS, else fail the test
 * naming @what (the thread is left behind; the process ends soon).
 */
#define TEST_JOIN(t, what)							\
	do {									\
		int tj_ = test_timedjoin((t), TEST_WAIT_MS, NULL);		\
		if (tj_)							\
			fail_msg("%s: thread not finished after %d ms (%s)",	\
				 (what), TEST_WAIT_MS, strerror(tj_));		\
	} while (0)
struct pinmm_dio;
/*
 * test_dio_wait() - pinmm_dio_wait() once the request completed, failing
 * the test if it does not within TEST_WAIT_MS.
 */
long test_dio_wait(struct pinmm_dio *d);

/*
 * A temporary directory holding a pinfs image path, for cmocka
 * setup/teardown: *state becomes a struct test_imgdir; the image file and
 * the directory are removed at teardown.
 */
struct test_imgdir {
	char dir[64];
	char img[128];
};
int test_imgdir_setup(void **state);
int test_imgdir_teardown(void **state);

/*
 * The explorer tests' options: pinmm_explore_defaults(), then strategy @s,
 * @runs runs, 2 preemptions, a 2000-step budget and a 5 s run deadline.
 */
void test_explore_opts(struct pinmm_explore_opts *o, enum pinmm_explore_strategy s,
		       long runs);

#endif
