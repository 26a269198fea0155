/* SPDX-License-Identifier: MIT */
/*
 * explore_cmd.c - `pinmm explore`: run a built-in race program under the
 * interleaving explorer (<pinmm/explore.h>, doc/EXPLORE.md, man pinmm(1)).
 *
 *   pinmm explore --list
 *   pinmm explore --race NAME [--legacy] [--strategy random|pct|exhaustive]
 *                 [--depth D] [--preemptions P] [--runs N] [--seconds T]
 *                 [--seed S] [--budget STEPS] [--shrink]
 *   pinmm explore --race NAME --replay SCHEDULE [--legacy] [--trace FILE]
 *
 * `exhaustive` is the bounded depth-first search (`dfs` is accepted as its
 * old name).  On a terminal, a progress line on stderr counts the runs.
 * Prints the verdict, and for a violation the schedule, its steps,
 * preemptions and trace hash.  Exit status: 0 no violation, 1 a violation
 * (the schedule printed reproduces it), 2 usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explore_races.h"
#include "progress.h"

static void explore_usage(FILE *f)
{
	fputs("usage: pinmm explore --list\n"
	      "       pinmm explore --race NAME [--legacy] [--strategy random|pct|exhaustive]\n"
	      "                     [--depth D] [--preemptions P] [--runs N] [--seconds T]\n"
	      "                     [--seed S] [--budget STEPS] [--shrink]\n"
	      "       pinmm explore --race NAME --replay SCHEDULE [--legacy] [--trace FILE]\n"
	      "Exit status: 0 no violation, 1 a violation found, 2 usage error.\n", f);
}

static int explore_bad(const char *what, const char *arg)
{
	fprintf(stderr, "pinmm: explore: %s '%s'\n", what, arg ? arg : "");
	explore_usage(stderr);
	return EXIT_USAGE;
}

/* A whole non-negative decimal number in [0, max]. */
static bool num_arg(const char *s, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > max)
		return false;
	*out = v;
	return true;
}

static void print_result(const char *race, const struct pinmm_explore_opts *o,
			 const char *what, const struct pinmm_explore_result *r)
{
	printf("race %s (%s) %s: %s after %ld run%s, %.2f s\n", race,
	       o->legacy ? "legacy" : "fixed", what, pinmm_explore_verdict_name(r->verdict),
	       r->runs, r->runs == 1 ? "" : "s", r->seconds);
	if (r->verdict == PINMM_EXPLORE_PASS)
		return;
	printf("message: %s\n", r->message);
	printf("schedule: %s\n", r->schedule);
	printf("steps: %ld preemptions: %ld trace-hash: %016" PRIx64 "\n", r->steps,
	       r->preemptions, r->trace_hash);
}

/* The progress line (a terminal only): runs made of the budget, rate, time. */
struct explore_progress_line {
	struct progress p;
	long budget;
};

static void explore_progress(void *arg, long runs, double seconds)
{
	struct explore_progress_line *l = arg;

	progress_show(&l->p, 200, "run %ld of at most %ld, %.0f runs/s, %.1f s", runs,
		      l->budget, seconds > 0 ? (double)runs / seconds : 0.0, seconds);
}

static int do_list(void)
{
	for (const struct explore_race *r = explore_races; r->prog.name; r++)
		printf("%-16s %-26s %s\n", r->prog.name, r->legacy_key, r->summary);
	return EXIT_OK;
}

int pinmm_cmd_explore(int argc, char **argv)
{
	const char *race = NULL, *replay = NULL, *trace = NULL;
	const struct explore_race *er;
	struct pinmm_explore_result r;
	struct pinmm_explore_opts o;
	struct explore_progress_line prog;
	bool shrink = false;
	FILE *tf = NULL;
	long v;
	int err;

	pinmm_explore_defaults(&o);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *n = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--list"))
			return do_list();
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			explore_usage(stdout);
			return EXIT_OK;
		}
		if (!strcmp(a, "--legacy")) {
			o.legacy = true;
		} else if (!strcmp(a, "--shrink")) {
			shrink = true;
		} else if (!n) {
			return explore_bad("missing value or unknown option", a);
		} else if (!strcmp(a, "--race")) {
			race = argv[++i];
		} else if (!strcmp(a, "--replay")) {
			replay = argv[++i];
		} else if (!strcmp(a, "--trace")) {
			trace = argv[++i];
		} else if (!strcmp(a, "--strategy")) {
			i++;
			if (!strcmp(n, "random"))
				o.strategy = PINMM_EXPLORE_RANDOM;
			else if (!strcmp(n, "pct"))
				o.strategy = PINMM_EXPLORE_PCT;
			else if (!strcmp(n, "exhaustive") || !strcmp(n, "dfs"))
				o.strategy = PINMM_EXPLORE_DFS;
			else
				return explore_bad("unknown strategy", n);
		} else if (!strcmp(a, "--depth") && num_arg(n, 16, &v) && v >= 1) {
			o.depth = (int)v, i++;
		} else if (!strcmp(a, "--preemptions") && num_arg(n, 64, &v)) {
			o.preemptions = (int)v, i++;
		} else if (!strcmp(a, "--runs") && num_arg(n, 100000000, &v) && v >= 1) {
			o.runs = v, i++;
		} else if (!strcmp(a, "--seconds") && num_arg(n, 86400, &v)) {
			o.seconds = (double)v, i++;
		} else if (!strcmp(a, "--seed") && num_arg(n, LONG_MAX, &v)) {
			o.seed = (uint64_t)v, i++;
		} else if (!strcmp(a, "--budget") && num_arg(n, 65536, &v) && v >= 1) {
			o.step_budget = v, i++;
		} else {
			return explore_bad("bad option or value", a);
		}
	}
	if (!race)
		return explore_bad("no --race given", "");
	er = explore_race_find(race);
	if (!er)
		return explore_bad("unknown race (see --list)", race);
	if (replay) {
		if (trace) {
			tf = strcmp(trace, "-") ? fopen(trace, "w") : stdout;
			if (!tf) {
				fprintf(stderr, "pinmm: explore: cannot open '%s': %s\n", trace,
					strerror(errno));
				return EXIT_FAIL;
			}
			o.trace = tf;
		}
		err = pinmm_explore_replay(&er->prog, &o, replay, &r);
		if (tf && tf != stdout)
			fclose(tf);
		if (err == -EINVAL)
			return explore_bad("bad schedule", replay);
		if (err) {
			fprintf(stderr, "pinmm: explore: %s\n", strerror(-err));
			return EXIT_FAIL;
		}
		print_result(race, &o, "replay", &r);
		return r.verdict == PINMM_EXPLORE_PASS ? EXIT_OK : EXIT_FAIL;
	}
	progress_begin(&prog.p, "pinmm explore", 0);
	prog.budget = o.runs;
	o.progress = explore_progress;
	o.progress_arg = &prog;
	err = pinmm_explore(&er->prog, &o, &r);
	progress_clear(&prog.p);
	o.progress = NULL;
	if (!err && shrink && r.verdict != PINMM_EXPLORE_PASS) {
		print_result(race, &o, "explore", &r);
		err = pinmm_explore_shrink(&er->prog, &o, &r);
		if (!err)
			print_result(race, &o, "shrunk", &r);
	} else if (!err) {
		print_result(race, &o, "explore", &r);
	}
	if (err) {
		fprintf(stderr, "pinmm: explore: %s\n", strerror(-err));
		return err == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
	}
	return r.verdict == PINMM_EXPLORE_PASS ? EXIT_OK : EXIT_FAIL;
}
