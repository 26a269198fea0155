/* SPDX-License-Identifier: MIT */
/*
 * diff_cmd.c - `pinmm diff [--allow FILE] [-v] SCRIPT...`: run each script
 * on pinmm and on the host kernel and print every observable that differs.
 * Running and comparing are in diff_run.c (shared with `pinmm fuzz --diff`);
 * the rules are in doc/DIFF.md.  Exit: 0 equal, 1 a difference, 2 a usage
 * or syntax error or a script the host cannot run.
 */
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "diff.h"

static int diff_one(const char *path, const struct diff_allow *allow, bool verbose)
{
	struct diff_side sim = { .name = "pinmm" }, host = { .name = "host" };
	int bad, status;

	diff_run_side(&sim, path, false);
	diff_run_side(&host, path, true);
	if (sim.status == EXIT_USAGE || host.status == EXIT_USAGE || sim.log.oom || host.log.oom) {
		diff_print_err(sim.status == EXIT_USAGE ? &sim : &host, stderr);
		if (sim.log.oom || host.log.oom)
			fprintf(stderr, "pinmm: diff: %s: out of memory\n", path);
		status = EXIT_USAGE;
	} else {
		bad = diff_compare(path, &sim, &host, allow, stdout, NULL, NULL);
		status = bad ? EXIT_FAIL : EXIT_OK;
		printf("%s: %s (%d observables; pinmm %.3f s, host %.3f s)\n", path,
		       bad ? "differs" : "same", sim.log.n, sim.secs, host.secs);
		if (verbose && bad) {
			diff_print_err(&sim, stderr);
			diff_print_err(&host, stderr);
		}
	}
	diff_side_free(&sim);
	diff_side_free(&host);
	return status;
}

static void diff_usage(FILE *f)
{
	fputs("Usage: pinmm diff [--allow FILE] [-v] SCRIPT...\n"
	      "\n"
	      "Run each script on pinmm and on the host kernel (as 'pinmm run --host')\n"
	      "and print every observable that differs: a line's outcome or an\n"
	      "expectation's result, with FILE:LINE and both values.  Differences\n"
	      "listed in the allow-list FILE ('NAME.pinmm:LINE REASON' lines) are\n"
	      "printed as 'allowed: REASON' and do not count; so are those an entry\n"
	      "'CMD' or 'CMD:FIELD' names by the line's command and what differs.\n"
	      "\n"
	      "Exit status: 0 no difference, 1 a difference, 2 a usage or syntax\n"
	      "error or a script the host cannot run.  Rules: doc/DIFF.md.\n", f);
}

/**
 * pinmm_cmd_diff() - `pinmm diff`.
 * Context: the tool's main thread.
 * Return: EXIT_OK, EXIT_FAIL or EXIT_USAGE (the worst over the scripts).
 */
int pinmm_cmd_diff(int argc, char **argv)
{
	struct diff_allow *allow = NULL;
	bool verbose = false;
	int i, status = EXIT_OK;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--allow") && i + 1 < argc) {
			int rc = diff_allow_load(argv[++i], &allow);

			if (rc) {
				fprintf(stderr, "pinmm: diff: %s: %s\n", argv[i], strerror(-rc));
				return EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbose = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			diff_usage(stdout);
			return EXIT_OK;
		} else {
			fprintf(stderr, "pinmm: diff: unknown option '%s'\n", argv[i]);
			diff_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i == argc) {
		diff_usage(stderr);
		return EXIT_USAGE;
	}
	for (; i < argc; i++) {
		int rc = diff_one(argv[i], allow, verbose);

		if (rc == EXIT_USAGE || (rc == EXIT_FAIL && status == EXIT_OK))
			status = rc;
	}
	diff_allow_free(allow);
	return status;
}
