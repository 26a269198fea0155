/* SPDX-License-Identifier: MIT */
/*
 * stress_common.h - what the stress tests (tests/stress/stress_*.c) share:
 * the run duration (PINMM_STRESS_SECONDS), the seed (PINMM_SEED, printed as
 * a TAP comment so that a failing run can be repeated), a per-thread
 * random number generator, violation reporting, and a thread barrier.
 *
 * Each stress test is deterministic per seed in what every thread decides
 * to do (each thread has its own generator seeded from the run seed and
 * its index); the interleaving of the threads is up to the host scheduler.
 *
 * Header-only: tests/meson.build builds each stress test from its single
 * stress_<name>.c plus tests/unit/helpers.c.
 */
#ifndef PINMM_STRESS_COMMON_H
#define PINMM_STRESS_COMMON_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "helpers.h"

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_THREAD__) || __has_feature(thread_sanitizer)
#define STRESS_TSAN 1
#else
#define STRESS_TSAN 0
#endif

/* Default duration when PINMM_STRESS_SECONDS is not set (meson sets it). */
#define STRESS_DEFAULT_SECONDS 5.0

static inline double stress_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline double stress_seconds(void)
{
	double s = test_stress_seconds(STRESS_DEFAULT_SECONDS);

	return s > 0 ? s : STRESS_DEFAULT_SECONDS;
}

/* The run's seed: PINMM_SEED, or one derived from the clock; printed. */
static inline uint64_t stress_seed(const char *test)
{
	const char *s = getenv("PINMM_SEED");
	uint64_t seed;

	if (s && *s)
		seed = strtoull(s, NULL, 0);
	else
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	printf("# %s: seed %llu (repeat with PINMM_SEED=%llu), %.1f s\n", test,
	       (unsigned long long)seed, (unsigned long long)seed, stress_seconds());
	fflush(stdout);
	return seed;
}

/* splitmix64: one independent stream per thread. */
struct stress_rng { uint64_t s; };

static inline void stress_rng_init(struct stress_rng *r, uint64_t seed, unsigned idx)
{
	r->s = seed ^ (0x9e3779b97f4a7c15ULL * (idx + 1));
}

static inline uint64_t stress_rand(struct stress_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static inline unsigned long stress_below(struct stress_rng *r, unsigned long n)
{
	return n ? (unsigned long)(stress_rand(r) % n) : 0;
}

/*
 * Violations: counted, the first few printed as TAP comments; the test
 * fails at the end if any were seen.
 */
static _Atomic long stress_violations;

#define STRESS_MAX_REPORTS 20

static __attribute__((format(printf, 3, 4), unused))
bool stress_violation_at(const char *file, int line, const char *fmt, ...)
{
	long n = atomic_fetch_add(&stress_violations, 1);
	va_list ap;

	if (n < STRESS_MAX_REPORTS) {
		flockfile(stdout);
		printf("# VIOLATION %s:%d: ", file, line);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
		fflush(stdout);
		funlockfile(stdout);
	}
	return false;
}

#define stress_violation(...) stress_violation_at(__FILE__, __LINE__, __VA_ARGS__)

/* Check @cond; on failure count a violation and evaluate to false. */
#define stress_check(cond, fmt, ...) \
	((cond) ? true : stress_violation("%s: " fmt, #cond, ##__VA_ARGS__))

/* All threads start together so that the races start at once. */
struct stress_start {
	pthread_barrier_t barrier;
	_Atomic bool stop;
	double deadline;
};

static inline void stress_start_init(struct stress_start *st, unsigned nthreads)
{
	pthread_barrier_init(&st->barrier, NULL, nthreads);
	atomic_store(&st->stop, false);
	st->deadline = 0;
}

static inline bool stress_should_stop(struct stress_start *st)
{
	if (atomic_load_explicit(&st->stop, memory_order_relaxed))
		return true;
	if (stress_now() >= st->deadline) {
		atomic_store(&st->stop, true);
		return true;
	}
	return false;
}

/*
 * The races a stress test exists for must actually happen, or a green run
 * proves nothing.  A test names each one as an event: a counter and what
 * it counts.  stress_run() lets the threads race for the run's duration
 * and then, if some event has not happened yet, for up to
 * STRESS_EXTRA_SECONDS more (a slow TSan run, an unlucky seed); then it
 * stops them, joins them with a deadline, and stress_check()s that every
 * event happened at least once.
 */
#define STRESS_EXTRA_SECONDS 60.0
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
/* Grace, past the stop, for a thread to finish its iteration and exit. */
#define STRESS_JOIN_MS 60000

/*
 * An event: @counter (the test's own) or, when it is NULL, the vmstat
 * counter @what of @m.
 */
struct stress_event {
	const char *what;
	_Atomic long *counter;
	struct pinmm *m;
};

static inline long stress_event_count(const struct stress_event *ev)
{
	return ev->counter ? atomic_load(ev->counter) : pinmm_vmstat(ev->m, ev->what);
}

static inline bool stress_events_happened(const struct stress_event *ev, unsigned n,
					  bool report)
{
	bool all = true;

	for (unsigned i = 0; i < n; i++) {
		long c = stress_event_count(&ev[i]);

		if (c > 0)
			continue;
		all = false;
		if (report)
			stress_violation("the race this test exists for did not happen: "
					 "%s = %ld after the run", ev[i].what, c);
	}
	return all;
}

/*
 * stress_run() - from the test's thread, after creating @n threads @tids
 * that poll stress_should_stop(@st), whose deadline the test set to
 * stress_now() + @secs + STRESS_EXTRA_SECONDS (a backstop) before creating
 * them: wait @secs seconds, then until every event of @ev happened (at most
 * STRESS_EXTRA_SECONDS more), stop and join the threads (one that does not
 * end within STRESS_JOIN_MS fails the test), and count a violation for
 * each event that never happened.
 */
static inline void stress_run(struct stress_start *st, double secs, pthread_t *tids,
			      unsigned n, const struct stress_event *ev, unsigned nev)
{
	double t0 = stress_now();
	struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };

	while (!atomic_load(&st->stop) && stress_now() < t0 + secs)
		nanosleep(&tick, NULL);
	while (!atomic_load(&st->stop) && !stress_events_happened(ev, nev, false) &&
	       stress_now() < t0 + secs + STRESS_EXTRA_SECONDS)
		nanosleep(&tick, NULL);
	atomic_store(&st->stop, true);
	for (unsigned i = 0; i < n; i++) {
		int err = test_timedjoin(tids[i], STRESS_JOIN_MS, NULL);

		if (err)
			fail_msg("stress thread %u not finished %d ms after the stop (%s)",
				 i, STRESS_JOIN_MS, strerror(err));
	}
	stress_events_happened(ev, nev, true);
}

#include "tsan_rcu_model.h"

/* A u64 load/store by @p's CPU at @a that must succeed (stress_check()). */
static inline uint64_t stress_load64(struct pinmm_proc *p, unsigned long a)
{
	uint64_t v = 0;

	stress_check(pinmm_load(p, a, &v, sizeof(v)) == (long)sizeof(v), "load at %#lx", a);
	return v;
}

static inline void stress_store64(struct pinmm_proc *p, unsigned long a, uint64_t v)
{
	stress_check(pinmm_store(p, a, &v, sizeof(v)) == (long)sizeof(v), "store at %#lx", a);
}

#endif /* PINMM_STRESS_COMMON_H */
