/* SPDX-License-Identifier: MIT */
/*
 * fault_inject.c - the decision behind should_fail() (fault_inject.h) and
 * the public calls of <pinmm/fault.h>.
 *
 * State:
 *  - fail_nth_countdown (thread-local): 0 disarmed; N > 0 means the Nth
 *    should_fail() of this thread from now fails.  Only its own thread
 *    touches it.
 *  - fail_attr (library-wide): probability in parts per million, remaining
 *    failures (times), matching calls to let through first (space), the
 *    generator state, the site filter and the thread filter (task).  Written under
 *    fail_attr_lock; read on the failure path under the same lock (the
 *    generator must advance atomically with the decision, for a seed to
 *    give one sequence).  fail_attr_armed is its lock-free summary, read
 *    relaxed by should_fail(): a stale answer only delays arming or
 *    disarming by a call.
 *  - the sites: the "pinmm_fail_sites" section, delimited by the
 *    __start_/__stop_ symbols the linker defines for it.
 *
 * Counting is per site (relaxed atomics) and in fail_total.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pinmm/fault.h>
#include "fault_inject.h"
#include "locking.h"
#include "machine.h"
#include "rcu.h"

_Thread_local long fail_nth_countdown;
int fail_attr_armed;
/* This thread's name for fail.task; "" for the application's threads. */
static _Thread_local const char *fail_task_name = "";

#define FAIL_FILTER_MAX 64

static struct {
	uint32_t ppm;			/* probability, parts per million */
	long times;			/* failures left; -1: no limit */
	uint64_t rng;			/* xorshift64* state, never 0 */
	long space;			/* matching calls still let through */
	char filter[FAIL_FILTER_MAX];
	char task[FAIL_FILTER_MAX];	/* only threads whose name contains it */
} fail_attr = { .times = -1, .rng = 0x9e3779b97f4a7c15ull };
static DEFINE_SPINLOCK(fail_attr_lock);	/* under any lock, spinlocks too */
static long fail_total;

/* Defined by the linker for the section FAIL_SITE() places sites in. */
extern struct fail_site __start_pinmm_fail_sites[] __attribute__((weak));
extern struct fail_site __stop_pinmm_fail_sites[] __attribute__((weak));

static uint64_t fail_rand(void)
{
	uint64_t x = fail_attr.rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	fail_attr.rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/*
 * The filter: a substring of the site's kind, file or function, or
 * "FILE:LINE" - one site (FILE a substring of its source path).
 */
static bool site_matches(const struct fail_site *site, const char *filter)
{
	const char *colon = strrchr(filter, ':');
	char file[FAIL_FILTER_MAX];

	if (!filter[0])
		return true;
	if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
		memcpy(file, filter, (size_t)(colon - filter));
		file[colon - filter] = '\0';
		return site->line == atoi(colon + 1) && strstr(site->file, file);
	}
	return strstr(site->kind, filter) || strstr(site->file, filter) ||
	       strstr(site->func, filter);
}

/* fail.task: like Linux's task-filter, only the threads it names fail. */
static bool task_matches(const char *task)
{
	return !task[0] || (fail_task_name[0] && strstr(fail_task_name, task));
}

/* The attribute path: filter, times, probability.  Called with the lock. */
static bool attr_should_fail(const struct fail_site *site)
{
	if (!fail_attr.ppm || !fail_attr.times || !site_matches(site, fail_attr.filter) ||
	    !task_matches(fail_attr.task))
		return false;
	if (fail_attr.space > 0) {	/* Linux's "space", one unit per call */
		fail_attr.space--;
		return false;
	}
	if (fail_rand() % 1000000u >= fail_attr.ppm)
		return false;
	if (fail_attr.times > 0 && --fail_attr.times == 0)
		__atomic_store_n(&fail_attr_armed, 0, __ATOMIC_RELAXED);
	return true;
}

/**
 * __should_fail() - the slow path of should_fail(): something is armed.
 * @site: the site being evaluated.
 *
 * Context: any thread; takes fail_attr_lock when attributes are armed.
 * Return: true to inject a failure at @site.
 */
bool __should_fail(struct fail_site *site)
{
	bool fail = false;

	if (fail_nth_countdown > 0 && --fail_nth_countdown == 0)
		fail = true;
	if (!fail && __atomic_load_n(&fail_attr_armed, __ATOMIC_RELAXED)) {
		spin_lock(&fail_attr_lock);
		fail = attr_should_fail(site);
		spin_unlock(&fail_attr_lock);
	}
	if (fail) {
		__atomic_fetch_add(&site->failed, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&fail_total, 1, __ATOMIC_RELAXED);
	}
	return fail;
}

/**
 * fail_task_set_name() - name the calling library thread for fail.task.
 * @name: a string that outlives the thread ("flusher", "dio", "rdma_peer").
 *
 * Threads of the library (writeback flushers, the O_DIRECT engine, RDMA
 * peers) call this first; the application's threads stay unnamed, so
 * fail.task=NAME injects only into the library's threads of that name,
 * whatever fallible call they make.
 *
 * Context: the thread itself, before its first fallible call.
 */
void fail_task_set_name(const char *name)
{
	fail_task_name = name ? name : "";
}

/**
 * pinmm_fail_nth_set() - see <pinmm/fault.h>.
 * Context: any thread; affects only the calling thread.
 */
int pinmm_fail_nth_set(long nth)
{
	if (nth < 0)
		return -EINVAL;
	fail_nth_countdown = nth;
	return 0;
}

/**
 * pinmm_fail_nth_get() - see <pinmm/fault.h>.
 * Context: any thread.
 */
long pinmm_fail_nth_get(void)
{
	return fail_nth_countdown;
}

static int parse_long(const char *value, long min, long max, long *out)
{
	char *end;
	long v;

	if (!value || !*value)
		return -EINVAL;
	errno = 0;
	v = strtol(value, &end, 0);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Parse "12.5" (percent) into parts per million. */
static int parse_percent(const char *value, uint32_t *ppm)
{
	char *end;
	double v;

	if (!value || !*value)
		return -EINVAL;
	errno = 0;
	v = strtod(value, &end);
	if (errno || *end || !(v >= 0.0 && v <= 100.0))
		return -EINVAL;
	*ppm = (uint32_t)(v * 10000.0 + 0.5);
	return 0;
}

/**
 * pinmm_fail_configure() - see <pinmm/fault.h>.
 * Context: any thread; takes fail_attr_lock.
 */
int pinmm_fail_configure(const char *key, const char *value)
{
	uint32_t ppm;
	long v;
	int err = 0;

	if (!key || !value)
		return -EINVAL;
	spin_lock(&fail_attr_lock);
	if (!strcmp(key, "fail.probability")) {
		err = parse_percent(value, &ppm);
		if (!err)
			fail_attr.ppm = ppm;
	} else if (!strcmp(key, "fail.times")) {
		err = parse_long(value, -1, LONG_MAX, &v);
		if (!err)
			fail_attr.times = v;
	} else if (!strcmp(key, "fail.seed")) {
		err = parse_long(value, 0, LONG_MAX, &v);
		if (!err)
			fail_attr.rng = (uint64_t)v * 0x9e3779b97f4a7c15ull + 1;
	} else if (!strcmp(key, "fail.nth")) {
		err = parse_long(value, 0, LONG_MAX, &v);
		if (!err)
			fail_nth_countdown = v;
	} else if (!strcmp(key, "fail.filter") || !strcmp(key, "fail.site")) {
		if (strlen(value) >= sizeof(fail_attr.filter))
			err = -EINVAL;
		else
			strcpy(fail_attr.filter, value);
	} else if (!strcmp(key, "fail.space")) {
		err = parse_long(value, 0, LONG_MAX, &v);
		if (!err)
			fail_attr.space = v;
	} else if (!strcmp(key, "fail.task")) {
		if (strlen(value) >= sizeof(fail_attr.task))
			err = -EINVAL;
		else
			strcpy(fail_attr.task, value);
	} else {
		err = -EINVAL;
	}
	__atomic_store_n(&fail_attr_armed, fail_attr.ppm && fail_attr.times != 0,
			 __ATOMIC_RELAXED);
	spin_unlock(&fail_attr_lock);
	return err;
}

/**
 * fail_attr_from_config() - arm injection from a boot configuration's
 * fail.* keys; keys left at their defaults change nothing, so that a
 * machine booted without them keeps what pinmm_fail_configure() or
 * pinmm_fail_nth_set() armed.
 * @cfg: the configuration pinmm_boot() was given.
 *
 * fail.nth arms the calling (booting) thread's fail-nth, counted from here;
 * fail.probability > 0 arms the library-wide attributes with fail.seed,
 * fail.times (0: no limit) and fail.site (the filter).
 *
 * Context: pinmm_boot(); takes fail_attr_lock.
 * Return: 0, or -EINVAL for a fail.site too long for the filter.
 */
int fail_attr_from_config(const struct pinmm_config *cfg)
{
	if (strlen(cfg->fail_site) >= sizeof(fail_attr.filter))
		return -EINVAL;
	if (cfg->fail_nth)
		fail_nth_countdown = (long)cfg->fail_nth;
	if (!cfg->fail_ppm)
		return 0;
	spin_lock(&fail_attr_lock);
	fail_attr.ppm = cfg->fail_ppm;
	fail_attr.times = cfg->fail_times ? (long)cfg->fail_times : -1;
	fail_attr.rng = cfg->fail_seed * 0x9e3779b97f4a7c15ull + 1;
	strcpy(fail_attr.filter, cfg->fail_site);
	__atomic_store_n(&fail_attr_armed, 1, __ATOMIC_RELAXED);
	spin_unlock(&fail_attr_lock);
	return 0;
}

/**
 * pinmm_fail_sites() - see <pinmm/fault.h>.
 * Context: any thread.
 */
long pinmm_fail_sites(void (*fn)(const struct pinmm_fail_site *site, void *arg), void *arg)
{
	long n = 0;

	if (!__start_pinmm_fail_sites)
		return 0;
	for (struct fail_site *s = __start_pinmm_fail_sites; s < __stop_pinmm_fail_sites; s++) {
		struct pinmm_fail_site out = {
			.kind = s->kind, .file = s->file, .func = s->func, .line = s->line,
			.calls = __atomic_load_n(&s->calls, __ATOMIC_RELAXED),
			.failed = __atomic_load_n(&s->failed, __ATOMIC_RELAXED),
		};

		if (fn)
			fn(&out, arg);
		n++;
	}
	return n;
}

/**
 * pinmm_fail_injected() - see <pinmm/fault.h>.
 * Context: any thread.
 */
long pinmm_fail_injected(void)
{
	return __atomic_load_n(&fail_total, __ATOMIC_RELAXED);
}

/**
 * pinmm_fail_reset() - see <pinmm/fault.h>.
 * Context: any thread; no other thread inside the library.
 */
void pinmm_fail_reset(void)
{
	spin_lock(&fail_attr_lock);
	fail_attr.ppm = 0;
	fail_attr.times = -1;
	fail_attr.filter[0] = '\0';
	fail_attr.task[0] = '\0';
	fail_attr.space = 0;
	__atomic_store_n(&fail_attr_armed, 0, __ATOMIC_RELAXED);
	spin_unlock(&fail_attr_lock);
	fail_nth_countdown = 0;
	__atomic_store_n(&fail_total, 0, __ATOMIC_RELAXED);
	if (!__start_pinmm_fail_sites)
		return;
	for (struct fail_site *s = __start_pinmm_fail_sites; s < __stop_pinmm_fail_sites; s++) {
		__atomic_store_n(&s->calls, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s->failed, 0, __ATOMIC_RELAXED);
	}
}
