/* SPDX-License-Identifier: MIT */
/*
 * explore_cmd.c - `pinmm explore`: run a built-in race program under the
 * interleaving explorer (<pinmm/explore.h>, doc/EXPLORE.md, man pinmm(1)).
 *
 *   pinmm explore --list
 *   pinmm explore --race NAME [--legacy] [--strategy random|pct|exhaustive]
 *                 [--depth D] [--preemptions P] [--runs N] [--seconds T]
 *                 [--seed S] [--budget STEPS] [--shrink] [--check-every-step]
 *                 [--log FILE] [--trace FILE]
 *   pinmm explore --race NAME --replay SCHEDULE [--legacy] [--trace FILE]
 *   pinmm explore FILE [-D NAME=VALUE]... [the same options but --legacy]
 *   pinmm explore --replay SCHEDULE FILE [-D NAME=VALUE]... [--trace FILE]
 *
 * FILE is a scenario script with one group of `thread NAME { }` blocks
 * (explore_script.c); its legacy switch is a -D parameter of its boot line.
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
#include "explore_script.h"
#include "script_flow.h"
#include "progress.h"

static void explore_usage(FILE *f)
{
	fputs("usage: pinmm explore --list\n"
	      "       pinmm explore --race NAME [--legacy] [--strategy random|pct|exhaustive]\n"
	      "                     [--depth D] [--preemptions P] [--runs N] [--seconds T]\n"
	      "                     [--seed S] [--budget STEPS] [--shrink] [--check-every-step]\n"
	      "       pinmm explore --race NAME --replay SCHEDULE [--legacy] [--trace FILE]\n"
	      "       pinmm explore FILE [-D NAME=VALUE]... [--strategy S] [--depth D] [--runs N]\n"
	      "                     [--seconds T] [--seed S] [--preemptions P] [--budget STEPS] [--shrink]\n"
	      "                     [--check-every-step]\n"
	      "       (a search also takes --log FILE, one line per run, and --trace FILE)\n"
	      "       pinmm explore --replay SCHEDULE FILE [-D NAME=VALUE]... [--trace FILE]\n"
	      "FILE: a script with one group of 'thread NAME { }' blocks (doc/EXPLORE.md).\n"
	      "--strategy dfs is exhaustive (the preemption-bounded search).\n"
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

/* The strategy named @s ("exhaustive" is the preemption-bounded DFS). */
static bool parse_strategy(const char *s, enum pinmm_explore_strategy *out)
{
	if (!strcmp(s, "random"))
		*out = PINMM_EXPLORE_RANDOM;
	else if (!strcmp(s, "pct"))
		*out = PINMM_EXPLORE_PCT;
	else if (!strcmp(s, "dfs") || !strcmp(s, "exhaustive"))
		*out = PINMM_EXPLORE_DFS;
	else
		return false;
	return true;
}

/* @race NULL: @file is a script (its legacy switch is its own business). */
static void print_result(const char *race, const char *file,
			 const struct pinmm_explore_opts *o,
			 const char *what, const struct pinmm_explore_result *r)
{
	if (race)
		printf("race %s (%s) %s: ", race, o->legacy ? "legacy" : "fixed", what);
	else
		printf("script %s %s: ", file, what);
	printf("%s after %ld run%s, %.2f s\n", pinmm_explore_verdict_name(r->verdict),
	       r->runs, r->runs == 1 ? "" : "s", r->seconds);
	if (o->check_every_step)
		printf("step checks: %ld\n", r->checks);
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

/* -D NAME=VALUE or -DNAME=VALUE: into @defines; false when malformed. */
static bool define_arg(int argc, char **argv, int *i, const char **defines, int *nd)
{
	const char *d = argv[*i][2] ? argv[*i] + 2 : (*i + 1 < argc ? argv[++*i] : NULL);
	const char *eq = d ? strchr(d, '=') : NULL;
	char name[128];

	if (!eq || eq == d || (size_t)(eq - d) >= sizeof(name))
		return false;
	memcpy(name, d, (size_t)(eq - d));
	name[eq - d] = '\0';
	if (!script_is_ident(name))
		return false;
	defines[(*nd)++] = d;
	return true;
}

static int explore_main(int argc, char **argv, const char **defines);
static int run_prog(const struct pinmm_explore_prog *prog, const char *race, const char *file,
		    struct pinmm_explore_opts *o, const char *replay, const char *trace,
		    bool shrink);

int pinmm_cmd_explore(int argc, char **argv)
{
	const char **defines = calloc((size_t)argc + 1, sizeof(*defines));
	int rc;

	if (!defines)
		return EXIT_FAIL;
	rc = explore_main(argc, argv, defines);
	free(defines);
	return rc;
}

static int explore_main(int argc, char **argv, const char **defines)
{
	const char *race = NULL, *replay = NULL, *trace = NULL, *file = NULL, *log = NULL;
	const struct explore_race *er = NULL;
	struct pinmm_explore_prog sprog;
	const struct pinmm_explore_prog *prog;
	struct pinmm_explore_opts o;
	bool shrink = false;
	int nd = 0;
	long v;
	int err;

	pinmm_explore_defaults(&o);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *n = i + 1 < argc ? argv[i + 1] : NULL;

		if (a[0] != '-' || !strcmp(a, "-")) {
			if (file)
				return explore_bad("more than one FILE", a);
			file = a;
			continue;
		}
		if (!strncmp(a, "-D", 2)) {
			if (!define_arg(argc, argv, &i, defines, &nd))
				return explore_bad("-D wants NAME=VALUE", a);
			continue;
		}
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
		} else if (!strcmp(a, "--check-every-step")) {
			o.check_every_step = true;
		} else if (!n) {
			return explore_bad("missing value or unknown option", a);
		} else if (!strcmp(a, "--race")) {
			race = argv[++i];
		} else if (!strcmp(a, "--replay")) {
			replay = argv[++i];
		} else if (!strcmp(a, "--trace")) {
			trace = argv[++i];
		} else if (!strcmp(a, "--log")) {
			log = argv[++i];
		} else if (!strcmp(a, "--strategy")) {
			i++;
			if (!parse_strategy(n, &o.strategy))
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
	if (race && file)
		return explore_bad("give --race NAME or FILE, not both", file);
	if (!race && !file)
		return explore_bad("no --race NAME or FILE given", "");
	if (file && o.legacy)
		return explore_bad("--legacy is for --race; a script's legacy switch is a -D "
				   "parameter of its boot line", "--legacy");
	if (race && nd)
		return explore_bad("-D is for a script FILE", defines[0]);
	if (log && replay)
		return explore_bad("--log is for a search, not --replay", log);
	if (race) {
		er = explore_race_find(race);
		if (!er)
			return explore_bad("unknown race (see --list)", race);
		prog = &er->prog;
	} else {
		err = explore_script_load(file, defines, nd, &sprog);
		if (err)
			return err;
		prog = &sprog;
	}
	if (log) {
		o.log = strcmp(log, "-") ? fopen(log, "w") : stdout;
		if (!o.log) {
			fprintf(stderr, "pinmm: explore: cannot open '%s': %s\n", log,
				strerror(errno));
			return EXIT_FAIL;
		}
	}
	err = run_prog(prog, race, file, &o, replay, trace, shrink);
	if (o.log && o.log != stdout)
		fclose(o.log);
	if (file)
		explore_script_unload();
	return err;
}

static int run_prog(const struct pinmm_explore_prog *prog, const char *race, const char *file,
		    struct pinmm_explore_opts *o, const char *replay, const char *trace,
		    bool shrink)
{
	struct pinmm_explore_result r;
	struct explore_progress_line pl;
	FILE *tf = NULL;
	int err;

	if (trace) {
		tf = strcmp(trace, "-") ? fopen(trace, "w") : stdout;
		if (!tf) {
			fprintf(stderr, "pinmm: explore: cannot open '%s': %s\n", trace,
				strerror(errno));
			return EXIT_FAIL;
		}
		o->trace = tf;
	}
	if (replay) {
		err = pinmm_explore_replay(prog, o, replay, &r);
		if (tf && tf != stdout)
			fclose(tf);
		if (err == -EINVAL)
			return explore_bad("bad schedule", replay);
		if (err == -EOPNOTSUPP)
			return explore_bad("--check-every-step needs the lock validator "
					   "(a -Dlockdep=true build)", "");
		if (err) {
			fprintf(stderr, "pinmm: explore: %s\n", strerror(-err));
			return EXIT_FAIL;
		}
		print_result(race, file, o, "replay", &r);
		return r.verdict == PINMM_EXPLORE_PASS ? EXIT_OK : EXIT_FAIL;
	}
	progress_begin(&pl.p, "pinmm explore", 0);
	pl.budget = o->runs;
	o->progress = explore_progress;
	o->progress_arg = &pl;
	err = pinmm_explore(prog, o, &r);
	progress_clear(&pl.p);
	o->progress = NULL;
	o->trace = NULL;	/* shrink and its replays write no trace */
	if (tf && tf != stdout)
		fclose(tf);
	if (!err && shrink && r.verdict != PINMM_EXPLORE_PASS) {
		print_result(race, file, o, "explore", &r);
		err = pinmm_explore_shrink(prog, o, &r);
		if (!err)
			print_result(race, file, o, "shrunk", &r);
	} else if (!err) {
		print_result(race, file, o, "explore", &r);
	}
	if (err == -EOPNOTSUPP)
		return explore_bad("--check-every-step needs the lock validator "
				   "(a -Dlockdep=true build)", "");
	if (err) {
		fprintf(stderr, "pinmm: explore: %s\n", strerror(-err));
		return err == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
	}
	return r.verdict == PINMM_EXPLORE_PASS ? EXIT_OK : EXIT_FAIL;
}
