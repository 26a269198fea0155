/* SPDX-License-Identifier: MIT */
/*
 * diff.h - running one script on pinmm and on the host kernel and comparing
 * what each side observed: diff_cmd.c (`pinmm diff`) has them, and
 * `pinmm fuzz --diff` (fuzz_cmd.c) uses them.  Rules: doc/DIFF.md.
 */
#ifndef PINMM_TOOL_DIFF_H
#define PINMM_TOOL_DIFF_H

#include <stdbool.h>
#include <stdio.h>

enum obs_kind { OBS_LINE, OBS_CHECK, OBS_STATE };

/* One observable: a line's outcome, an expectation's result, an observe line. */
struct obs {
	int line;
	enum obs_kind kind;
	bool ok;
	bool relational;	/* a pfn check: compare pass/fail only */
	char *text;		/* outcome, failure detail, or the observe tuple */
	char cmd[32];		/* the command of the line ("expect ok X": X) */
};

struct diff_log {
	struct obs *v;
	int n, cap;
	bool oom;
};

/* One side's run of one script. */
struct diff_side {
	const char *name;	/* "pinmm" or "host" */
	struct diff_log log;
	int status;		/* script_run_file()'s exit status */
	double secs;
	FILE *err;		/* the run's stderr, shown when it could not run */
};

/* An allow-list entry: "NAME.pinmm:LINE", "CMD" or "CMD:FIELD", and why. */
struct diff_allow {
	struct diff_allow *next;
	char *where;
	char *reason;
};

/* The first difference that counts, for the fuzzer's shrinker. */
struct diff_first {
	int line;		/* 0: none */
	enum obs_kind kind;
	char cmd[32];
	char field[32];		/* which field or outcome differs */
};

int diff_allow_load(const char *path, struct diff_allow **out);
void diff_allow_free(struct diff_allow *a);
void diff_run_side(struct diff_side *sd, const char *path, bool host);
void diff_side_free(struct diff_side *sd);
void diff_print_err(struct diff_side *sd, FILE *to);
int diff_compare(const char *file, const struct diff_side *sim, const struct diff_side *host,
		 const struct diff_allow *allow, FILE *out, struct diff_first *first,
		 int *nallowed);
double diff_now(void);

#endif /* PINMM_TOOL_DIFF_H */
