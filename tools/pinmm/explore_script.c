/* SPDX-License-Identifier: MIT */
/*
 * explore_script.c - `pinmm explore FILE`: a scenario script with one group
 * of `thread NAME { ... }` blocks as a race program of the explorer
 * (<pinmm/explore.h>, doc/EXPLORE.md "Races as scripts").
 *
 *   setup   = the lines before the group (they boot the machine), run in
 *             each run's child before the scheduler starts;
 *   threads = the blocks, one participant each, their lines run through
 *             the same runner as `pinmm run` (script_thread.c);
 *   check   = the lines after the group: a failed expectation, or an error
 *             of any line (a thread's too), is the run's violation, with
 *             its FILE:LINE and detail as the message;
 *   machine = the machine the setup booted, audited after the check;
 *   invariant = the `always { }` lines (--check-every-step: between steps).
 *
 * The script is loaded and pre-checked once, in the parent; each forked run
 * child inherits the loaded lines and runs them silently (run_opts.silent:
 * the first failure is recorded, nothing is printed).  The legacy switch is
 * whatever boot key the script sets (`boot legacy.cow_mapcount=$LEGACY`,
 * then -D LEGACY=1): the program's own legacy flag is unused.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "explore_script.h"
#include "script_flow.h"

/* The one script of this process (explore's callbacks take no argument). */
static struct {
	struct run_opts opts;
	struct script s;
	struct sfile sf;
	int first, end;			/* the group: lines [first, end) */
	int t0, n;			/* its blocks: sf.threads[t0 .. t0 + n) */
	struct script_thread t[SCRIPT_MAX_THREADS];
} xs;

/* What may not follow the group: the explorer audits the machine after it. */
static const char *const not_after[] = { "boot", "shutdown", NULL };

static int xs_setup(bool legacy, void **state)
{
	int status = EXIT_OK;

	(void)legacy;
	xs.opts.silent = true;
	for (int i = 0; i < xs.first && status == EXIT_OK; i++)
		if (xs.sf.lines[i].thread != SLINE_ALWAYS)
			status = script_run_line(&xs.s, &xs.sf.lines[i]);
	*state = &xs;
	if (status != EXIT_OK || xs.s.nfailed)
		return -EINVAL;		/* an expectation of the setup is not the race's */
	if (!xs.s.m) {
		snprintf(xs.opts.first_fail, sizeof(xs.opts.first_fail),
			 "%s: the lines before the thread blocks boot no machine", xs.s.file);
		return -EINVAL;
	}
	/*
	 * A boot without pinfs.image made a /data/ image in a directory of
	 * its own, removed when the machine goes - which a run child, ending
	 * in _exit(), never sees.  The mounted pinfs keeps the image open, so
	 * remove it now: a search of thousands of runs leaves nothing behind.
	 */
	script_default_image_gone(&xs.s);
	for (int i = 0; i < xs.n; i++)
		script_thread_begin(&xs.t[i], &xs.s, &xs.sf, xs.t0 + i, xs.first, xs.end);
	return 0;
}

static void xs_setup_error(char *msg, size_t len)
{
	if (xs.opts.first_fail[0])
		snprintf(msg, len, "setup: %s", xs.opts.first_fail);
}

static void xs_thread(void *state, int idx)
{
	(void)state;
	script_thread_lines(&xs.t[idx]);
}

static int xs_check(void *state, char *msg, size_t len)
{
	int status = EXIT_OK;

	(void)state;
	for (int i = 0; i < xs.n; i++) {
		script_thread_end(&xs.t[i]);
		if (xs.t[i].status != EXIT_OK)
			status = xs.t[i].status;
	}
	if (status == EXIT_OK)
		status = script_run_always(&xs.s, &xs.sf, xs.first);
	for (int i = xs.end; i < xs.sf.nlines && status == EXIT_OK; i++)
		status = script_run_line(&xs.s, &xs.sf.lines[i]);
	if (status == EXIT_OK && !xs.s.nfailed)
		return 0;
	snprintf(msg, len, "%s", xs.opts.first_fail[0] ? xs.opts.first_fail
						   : "the checks after the threads failed");
	return 1;
}

/*
 * --check-every-step: the `always { }` lines between two quiet steps, from
 * the controlling thread (every thread block is stopped at a point).
 */
static int xs_invariant(void *state, char *msg, size_t len)
{
	(void)state;
	if (script_run_always(&xs.s, &xs.sf, xs.first) == EXIT_OK && !xs.s.nfailed)
		return 0;
	snprintf(msg, len, "%s", xs.opts.first_fail[0] ? xs.opts.first_fail
						   : "an always check failed");
	return 1;
}

static struct pinmm *xs_machine(void *state)
{
	(void)state;
	return xs.s.m;
}

/* The script's one group, checked for what explore needs. */
static int find_group(const char *name)
{
	int groups = 0;

	for (int i = 0, end, t0; i < xs.sf.nlines; i++) {
		if (xs.sf.lines[i].thread < 0)
			continue;
		if (!groups++) {
			xs.first = i;
			xs.n = script_group_span(&xs.sf, i, &xs.end, &xs.t0);
		}
		script_group_span(&xs.sf, i, &end, &t0);
		i = end - 1;
	}
	if (groups != 1) {
		fprintf(stderr, "pinmm: explore: %s: needs exactly one group of thread blocks "
			"(thread NAME { ... }), found %d\n", name, groups);
		return EXIT_USAGE;
	}
	for (int i = xs.end; i < xs.sf.nlines; i++) {
		const struct sline *sl = &xs.sf.lines[i];

		if (sl->thread == SLINE_ALWAYS) {
			fprintf(stderr, "%s:%d: an always block after the thread blocks: "
				"pinmm explore checks the ones before them\n", sl->file, sl->no);
			return EXIT_USAGE;
		}
		for (int k = 0; not_after[k]; k++) {
			if (strcmp(sl->argv[0], not_after[k]))
				continue;
			fprintf(stderr, "%s:%d: '%s' after the thread blocks: pinmm explore "
				"audits the machine after the checks\n", sl->file, sl->no,
				not_after[k]);
			return EXIT_USAGE;
		}
	}
	return EXIT_OK;
}

int explore_script_load(const char *path, const char *const *defines, int ndefines,
			struct pinmm_explore_prog *prog)
{
	int status;

	memset(&xs, 0, sizeof(xs));
	xs.opts.defines = defines;
	xs.opts.ndefines = ndefines;
	xs.s.opts = &xs.opts;
	xs.s.file = path;
	xs.s.text = "";
	pinmm_config_default(&xs.s.cfg);
	status = script_prepare(&xs.s, path, &xs.sf);
	if (status < 0) {
		fprintf(stderr, "pinmm: explore: %s: %s\n", path, strerror(-status));
		return EXIT_USAGE;
	}
	if (status == EXIT_OK)
		status = find_group(path);
	if (status != EXIT_OK)
		return status;
	memset(prog, 0, sizeof(*prog));
	prog->name = path;
	prog->nr_threads = xs.n;
	prog->setup = xs_setup;
	prog->thread = xs_thread;
	prog->check = xs_check;
	prog->machine = xs_machine;
	prog->setup_error = xs_setup_error;
	prog->invariant = xs_invariant;
	return EXIT_OK;
}

void explore_script_unload(void)
{
	script_unload(&xs.sf);
}
