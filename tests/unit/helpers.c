/* SPDX-License-Identifier: MIT */
#include "helpers.h"
#include <pinmm/dio.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

struct pinmm *test_boot(const char *kv, ...)
{
	struct pinmm_config cfg;
	struct pinmm *m = NULL;
	va_list ap;

	pinmm_config_default(&cfg);
	va_start(ap, kv);
	for (const char *s = kv; s; s = va_arg(ap, const char *)) {
		char key[128];
		const char *eq = strchr(s, '=');
		assert_non_null(eq);
		assert_true((size_t)(eq - s) < sizeof(key));
		memcpy(key, s, eq - s);
		key[eq - s] = 0;
		assert_int_equal(pinmm_config_set(&cfg, key, eq + 1), 0);
	}
	va_end(ap);
	assert_int_equal(pinmm_boot(&cfg, &m), 0);
	assert_non_null(m);
	return m;
}

struct pinmm *test_boot_small(void)
{
	return test_boot("ram=256M", "debug=2", NULL);
}

struct pinmm_proc *test_proc(struct pinmm *m)
{
	struct pinmm_proc *p = NULL;
	assert_int_equal(pinmm_proc_create(m, &p), 0);
	assert_non_null(p);
	pinmm_set_current(p);
	return p;
}

void test_shutdown_clean(struct pinmm *m)
{
	pinmm_set_current(NULL);
	assert_int_equal(pinmm_shutdown(m), 0);
}

unsigned long test_mmap_anon(struct pinmm_proc *p, size_t len)
{
	long a = pinmm_mmap(p, 0, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(a > 0);
	return (unsigned long)a;
}

double test_stress_seconds(double dflt)
{
	const char *s = getenv("PINMM_STRESS_SECONDS");
	return s ? atof(s) : dflt;
}

double test_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

void test_poll_pause(void)
{
	struct timespec ts = { .tv_nsec = 100000 };

	nanosleep(&ts, NULL);
}

bool test_expired(double deadline_ms, const char *what)
{
	if (test_now_ms() <= deadline_ms)
		return false;
	fprintf(stderr, "# timed out waiting for %s\n", what);
	return true;
}

int test_timedjoin(pthread_t t, unsigned int ms, void **ret)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return pthread_timedjoin_np(t, ret, &ts);
}

long test_dio_wait(struct pinmm_dio *d)
{
	TEST_WAIT_UNTIL(pinmm_dio_done(d) != 0, TEST_WAIT_MS, "a direct I/O request to complete");
	return pinmm_dio_wait(d);
}

void test_store8(struct pinmm_proc *p, unsigned long addr, uint8_t v)
{
	assert_int_equal(pinmm_store(p, addr, &v, 1), 1);
}

uint8_t test_load8(struct pinmm_proc *p, unsigned long addr)
{
	uint8_t v = 0;
	assert_int_equal(pinmm_load(p, addr, &v, 1), 1);
	return v;
}

int test_imgdir_setup(void **state)
{
	struct test_imgdir *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	strcpy(t->dir, "/tmp/pinmm-test-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->img, sizeof(t->img), "%s/img", t->dir);
	*state = t;
	return 0;
}

int test_imgdir_teardown(void **state)
{
	struct test_imgdir *t = *state;

	unlink(t->img);
	rmdir(t->dir);
	free(t);
	return 0;
}

void test_explore_opts(struct pinmm_explore_opts *o, enum pinmm_explore_strategy s,
		       long runs)
{
	pinmm_explore_defaults(o);
	o->strategy = s;
	o->runs = runs;
	o->preemptions = 2;
	o->step_budget = 2000;
	o->run_timeout_ms = 5000;
}
