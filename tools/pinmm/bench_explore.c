/* SPDX-License-Identifier: MIT */
/*
 * bench_explore.c - `pinmm bench explore`: the interleaving explorer's
 * figures (doc/EXPLORE.md, doc/BENCH.md "explore").
 *
 *   E1  schedules per second: runs of each built-in race with the fix
 *       (nothing to find, so every run goes to the end), random strategy;
 *   E2  time to the first violation of each race in legacy mode, for each
 *       strategy (random, pct depth 3, exhaustive with 2 preemptions), seed 1,
 *       capped at --runs runs and --seconds seconds;
 *   E3  the cost of the points when explore mode is off: the points one
 *       pin_user_pages_fast()+unpin of one page passes (counted by running
 *       it as a one-thread explore program), and, in E3_ROUNDS interleaved
 *       rounds of this process, the time of that call pair with explore
 *       off, of the check each point inlines (a relaxed load of a global
 *       flag and a not-taken branch, timed in a loop of the same code
 *       here) and of one off point through pinmm_explore_point() (a
 *       library call: an upper bound).  The overhead bound of a round is
 *       points x check / call; printed: the median and the range over the
 *       rounds.  No build without the points exists to compare with, so
 *       the bound is computed, not a difference of two measured builds.
 *
 * Every figure is measured in this run; none is asserted.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "explore_races.h"

#define PG 4096UL

static int bench_explore_usage(FILE *f, int ret)
{
	fputs("usage: pinmm bench explore [--runs N] [--seconds S]\n"
	      "  E2's caps per race and strategy (default 2000 runs, 60 s).\n", f);
	return ret;
}

/* E3's program: one thread pinning and unpinning one page, @iters times. */
static struct {
	struct pinmm *m;
	struct pinmm_proc *p;
	unsigned long addr;
	long iters;
} e3;

static int e3_setup(bool legacy, void **state)
{
	struct pinmm_config cfg;
	long a;
	int err;

	(void)legacy;
	pinmm_config_default(&cfg);
	if (pinmm_config_set(&cfg, "ram", "64M") || pinmm_config_set(&cfg, "quiet", "1"))
		return -EINVAL;
	err = pinmm_boot(&cfg, &e3.m);
	if (!err)
		err = pinmm_proc_create(e3.m, &e3.p);
	if (err)
		return err;
	a = pinmm_mmap(e3.p, 0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a < 0)
		return (int)a;
	e3.addr = (unsigned long)a;
	*state = &e3;
	return pinmm_store(e3.p, e3.addr, "x", 1) == 1 ? 0 : -EFAULT;
}

static void e3_loop(long iters)
{
	struct page *page;

	pinmm_set_current(e3.p);
	for (long i = 0; i < iters; i++)
		if (pinmm_pin_user_pages_fast(e3.addr, 1, FOLL_WRITE, &page) == 1)
			pinmm_unpin_user_page(page);
	pinmm_set_current(NULL);
}

static void e3_thread(void *state, int idx)
{
	(void)state;
	(void)idx;
	e3_loop(e3.iters);
}

static int e3_check(void *state, char *msg, size_t len)
{
	(void)state;
	(void)msg;
	(void)len;
	return 0;
}

#define E3_ROUNDS	21

/* The check every wrapper inlines when explore is off: explore_on(). */
static _Atomic int e3_flag;

static long e3_check_loop(long n)
{
	long taken = 0;

	for (long i = 0; i < n; i++) {
		if (__builtin_expect(atomic_load_explicit(&e3_flag, memory_order_relaxed), 0))
			taken++;
		__asm__ __volatile__("" ::: "memory");	/* reload, as between real points */
	}
	return taken;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median and range of @v[0..n), sorted in place. */
static void print_spread(const char *what, double *v, int n, const char *unit)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	printf("E3  %-44s %8.2f %s (min %.2f, max %.2f, %d rounds)\n", what, v[n / 2], unit,
	       v[0], v[n - 1], n);
}

static int bench_e3(void)
{
	const struct pinmm_explore_prog prog = { .name = "pin-loop", .nr_threads = 1,
		.setup = e3_setup, .thread = e3_thread, .check = e3_check };
	const long iters = 20000, checks = 200000, points_iters = 100;
	double call[E3_ROUNDS], check[E3_ROUNDS], libpt[E3_ROUNDS];
	double bound[E3_ROUNDS], lbound[E3_ROUNDS];
	struct pinmm_explore_result r;
	struct pinmm_explore_opts o;
	double points;
	void *state;
	long taken = 0;
	int err;

	pinmm_explore_defaults(&o);
	e3.iters = points_iters;
	err = pinmm_explore_replay(&prog, &o, "", &r);
	if (err || r.verdict != PINMM_EXPLORE_PASS) {
		printf("E3  points per pin+unpin: not measured (%s)\n",
		       err ? strerror(-err) : r.message);
		return EXIT_FAIL;
	}
	points = (double)(r.steps - 1) / (double)points_iters;	/* minus the start */
	/* The same loop with explore off, in this process. */
	err = e3_setup(false, &state);
	if (err) {
		printf("E3  not measured: boot %s\n", strerror(-err));
		return EXIT_FAIL;
	}
	e3_loop(1000);
	/* Interleaved rounds: a burst of load hits every figure of a round alike. */
	for (int i = 0; i < E3_ROUNDS; i++) {
		uint64_t t0 = bench_now_ns();

		e3_loop(iters);
		call[i] = (double)(bench_now_ns() - t0) / (double)iters;
		t0 = bench_now_ns();
		taken += e3_check_loop(checks);
		check[i] = (double)(bench_now_ns() - t0) / (double)checks;
		t0 = bench_now_ns();
		for (long k = 0; k < checks; k++)
			pinmm_explore_point();
		libpt[i] = (double)(bench_now_ns() - t0) / (double)checks;
		bound[i] = 100.0 * points * check[i] / call[i];
		lbound[i] = 100.0 * points * libpt[i] / call[i];
	}
	pinmm_shutdown(e3.m);
	printf("E3  points per pin_user_pages_fast+unpin of 1 page   %8.1f\n", points);
	print_spread("time of that call pair, explore off", call, E3_ROUNDS, "ns");
	print_spread("the inlined off check (load + branch)", check, E3_ROUNDS, "ns");
	print_spread("one off point via pinmm_explore_point()", libpt, E3_ROUNDS, "ns");
	print_spread("bound: points x check / call", bound, E3_ROUNDS, "%");
	print_spread("bound with the library call instead", lbound, E3_ROUNDS, "%");
	if (taken)
		printf("E3  (the off check saw the flag set %ld times)\n", taken);
	{
		/* Timings on a shared machine: say how shared it was. */
		FILE *f = fopen("/proc/loadavg", "r");
		double load;

		if (f && fscanf(f, "%lf", &load) == 1)
			printf("E3  (load average %.1f on %d CPUs while measured)\n", load,
			       (int)sysconf(_SC_NPROCESSORS_ONLN));
		if (f)
			fclose(f);
	}
	return EXIT_OK;
}

int bench_explore(int argc, char **argv)
{
	static const char *const strat_names[] = { "random", "pct", "exhaustive" };
	long runs = 2000, secs = 60;
	int ret = EXIT_OK;

	for (int i = 1; i < argc; i++) {
		char *end;

		if ((!strcmp(argv[i], "--runs") || !strcmp(argv[i], "--seconds")) && i + 1 < argc) {
			long v = strtol(argv[i + 1], &end, 10);

			if (*end || v < 1)
				return bench_explore_usage(stderr, EXIT_USAGE);
			*(argv[i][2] == 'r' ? &runs : &secs) = v;
			i++;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			return bench_explore_usage(stdout, EXIT_OK);
		} else {
			return bench_explore_usage(stderr, EXIT_USAGE);
		}
	}
	for (const struct explore_race *er = explore_races; er->prog.name; er++) {
		struct pinmm_explore_result r;
		struct pinmm_explore_opts o;

		pinmm_explore_defaults(&o);
		o.runs = 100;
		if (pinmm_explore(&er->prog, &o, &r) || r.verdict != PINMM_EXPLORE_PASS) {
			printf("E1  %-18s schedules/s: not measured (%s)\n", er->prog.name,
			       pinmm_explore_verdict_name(r.verdict));
			ret = EXIT_FAIL;
			continue;
		}
		printf("E1  %-18s fixed, random: %6.1f schedules/s (%ld runs, %.2f s)\n",
		       er->prog.name, (double)r.runs / r.seconds, r.runs, r.seconds);
	}
	for (const struct explore_race *er = explore_races; er->prog.name; er++) {
		for (int s = 0; s < 3; s++) {
			struct pinmm_explore_result r;
			struct pinmm_explore_opts o;

			pinmm_explore_defaults(&o);
			o.legacy = true;
			o.strategy = (enum pinmm_explore_strategy)s;
			o.runs = runs;
			o.seconds = (double)secs;
			if (pinmm_explore(&er->prog, &o, &r)) {
				ret = EXIT_FAIL;
				continue;
			}
			if (r.verdict == PINMM_EXPLORE_PASS)
				printf("E2  %-18s legacy, %-10s: none in %ld runs, %.2f s\n",
				       er->prog.name, strat_names[s], r.runs, r.seconds);
			else
				printf("E2  %-18s legacy, %-10s: %s after %ld runs, %.2f s\n",
				       er->prog.name, strat_names[s],
				       pinmm_explore_verdict_name(r.verdict), r.runs, r.seconds);
		}
	}
	if (bench_e3() != EXIT_OK)
		ret = EXIT_FAIL;
	return ret;
}
