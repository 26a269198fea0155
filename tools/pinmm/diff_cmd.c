/* SPDX-License-Identifier: MIT */
/*
 * diff_cmd.c - `pinmm diff [--allow FILE] [-v] SCRIPT...`: run each script
 * on pinmm and on the host kernel and print every observable that differs.
 *
 * The runner calls diff_log_line() after each line and diff_log_check()
 * for each expectation (script.c), so one run leaves a list of observables
 * in execution order: a line's outcome (ok, an errno name, a syntax error)
 * and an expectation's result (passed, or failed with its detail).  The two
 * lists are walked side by side; the comparison rules are in doc/DIFF.md:
 *  - outcomes are equal when they name the same result;
 *  - expectations are equal when both pass, or both fail with the same
 *    detail, except that a check on pfn compares only pass/fail (PFNs are
 *    relations, never numbers);
 *  - when one side stopped (a failing line), the first unmatched line is a
 *    difference and the walk ends.
 * A difference at SCRIPT:LINE listed in the allow-list file is printed as
 * "allowed: REASON" and does not count.  Exit: 0 equal, 1 a difference,
 * 2 a usage or syntax error or a script the host cannot run.
 * The output of the scripts themselves (show, echo, print) is discarded:
 * it is not an observable.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

enum obs_kind { OBS_LINE, OBS_CHECK };

struct obs {
	int line;
	enum obs_kind kind;
	bool ok;
	bool relational;	/* a pfn check: compare pass/fail only */
	char *text;		/* outcome, or the failure detail */
};

struct diff_log {
	struct obs *v;
	int n, cap;
	bool oom;
};

static struct obs *log_add(struct script *s, enum obs_kind kind)
{
	struct diff_log *l = s->opts->log;

	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 64;
		struct obs *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			l->oom = true;
			return NULL;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = (struct obs){ .line = s->line, .kind = kind };
	return &l->v[l->n++];
}

/**
 * diff_log_line() - record that the runner finished a line with @rc (what
 * its handler returned).
 * Context: the runner (script.c), when s->opts->log is set.
 * Return: nothing; out of memory marks the log, and the diff gives up.
 */
void diff_log_line(struct script *s, int rc)
{
	struct obs *o = log_add(s, OBS_LINE);
	char buf[600];

	if (!o)
		return;
	o->ok = rc == 0;
	if (rc == 0)
		snprintf(buf, sizeof(buf), "ok");
	else if (rc == SCRIPT_SYNTAX || rc == SCRIPT_REFUSED)
		snprintf(buf, sizeof(buf), "%s", s->errmsg);
	else
		snprintf(buf, sizeof(buf), "%s", pinmm_strerror(rc));
	o->text = strdup(buf);
}

/**
 * diff_log_check() - record one expectation's result and detail.
 * Context: script_check(), when s->opts->log is set.
 * Return: nothing; out of memory marks the log, and the diff gives up.
 */
void diff_log_check(struct script *s, bool ok, const char *detail)
{
	struct obs *o = log_add(s, OBS_CHECK);

	if (!o)
		return;
	o->ok = ok;
	o->relational = strstr(s->text, "pfn") != NULL;
	o->text = strdup(ok ? "passed" : detail ? detail : "failed");
}

static void log_free(struct diff_log *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i].text);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- the allow-list --------------------------------------------------------------- */

struct allow {
	struct allow *next;
	char *where;		/* "name.pinmm:LINE" */
	char *reason;
};

static int allow_load(const char *path, struct allow **out)
{
	FILE *f = fopen(path, "r");
	char line[1024];

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *w = line + strspn(line, " \t"), *r;
		struct allow *a;

		line[strcspn(line, "\n")] = '\0';
		if (!*w || *w == '#')
			continue;
		r = w + strcspn(w, " \t");
		if (*r)
			*r++ = '\0';
		r += strspn(r, " \t");
		a = calloc(1, sizeof(*a));
		if (!a || !(a->where = strdup(w)) || !(a->reason = strdup(r))) {
			if (a)
				free(a->where);
			free(a);
			fclose(f);
			return -ENOMEM;
		}
		a->next = *out;
		*out = a;
	}
	fclose(f);
	return 0;
}

static const char *allowed(const struct allow *a, const char *file, int line)
{
	const char *base = strrchr(file, '/');
	char where[512];

	snprintf(where, sizeof(where), "%s:%d", base ? base + 1 : file, line);
	for (; a; a = a->next)
		if (!strcmp(a->where, where))
			return a->reason;
	return NULL;
}

/* ---- running and comparing --------------------------------------------------------- */

struct side {
	const char *name;
	struct diff_log log;
	int status;
	double secs;
	FILE *err;		/* the run's stderr, shown when it could not run */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run @path on one side with its output discarded and its stderr kept. */
static void run_side(struct side *sd, const char *path, bool host)
{
	struct run_opts o = { .quiet = true, .host = host, .log = &sd->log };
	int out = dup(STDOUT_FILENO), err = dup(STDERR_FILENO);
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	double t0;

	sd->err = tmpfile();
	fflush(stdout);
	fflush(stderr);
	if (null >= 0)
		dup2(null, STDOUT_FILENO);
	if (sd->err)
		dup2(fileno(sd->err), STDERR_FILENO);
	t0 = now();
	sd->status = script_run_file(&o, path);
	sd->secs = now() - t0;
	fflush(stdout);
	fflush(stderr);
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	close(out);
	close(err);
	if (null >= 0)
		close(null);
}

static void print_err(struct side *sd)
{
	char buf[1024];
	size_t n;

	if (!sd->err)
		return;
	rewind(sd->err);
	while ((n = fread(buf, 1, sizeof(buf), sd->err)) > 0)
		fwrite(buf, 1, n, stderr);
}

static bool obs_equal(const struct obs *a, const struct obs *b)
{
	if (a->kind != b->kind || a->line != b->line || a->ok != b->ok)
		return false;
	if (a->ok || (a->kind == OBS_CHECK && a->relational))
		return true;
	return !strcmp(a->text, b->text);
}

static const char *obs_text(const struct obs *o)
{
	if (!o)
		return "(not reached: the script stopped earlier)";
	return o->text;
}

/* Compare and print; return the number of differences not allowed. */
static int compare(const char *file, struct side *sim, struct side *host,
		   const struct allow *allow)
{
	int n = sim->log.n > host->log.n ? sim->log.n : host->log.n, bad = 0;

	for (int i = 0; i < n; i++) {
		const struct obs *a = i < sim->log.n ? &sim->log.v[i] : NULL;
		const struct obs *b = i < host->log.n ? &host->log.v[i] : NULL;
		int line = a ? a->line : b->line;
		const char *why;

		if (a && b && obs_equal(a, b))
			continue;
		why = allowed(allow, file, line);
		printf("%s:%d: %s: pinmm: %s%s; host: %s%s\n", file, line,
		       a && a->kind == OBS_CHECK ? "expectation" : "outcome",
		       a && a->kind == OBS_CHECK ? (a->ok ? "passed" : "failed: ") : "",
		       a && a->kind == OBS_CHECK && a->ok ? "" : obs_text(a),
		       b && b->kind == OBS_CHECK ? (b->ok ? "passed" : "failed: ") : "",
		       b && b->kind == OBS_CHECK && b->ok ? "" : obs_text(b));
		if (why)
			printf("%s:%d: allowed: %s\n", file, line, why);
		else
			bad++;
		if (!a || !b || a->line != b->line || a->kind != b->kind)
			break;	/* the runs no longer line up */
	}
	return bad;
}

static int diff_one(const char *path, const struct allow *allow, bool verbose)
{
	struct side sim = { .name = "pinmm" }, host = { .name = "host" };
	int bad, status;

	run_side(&sim, path, false);
	run_side(&host, path, true);
	if (sim.status == EXIT_USAGE || host.status == EXIT_USAGE || sim.log.oom || host.log.oom) {
		print_err(sim.status == EXIT_USAGE ? &sim : &host);
		if (sim.log.oom || host.log.oom)
			fprintf(stderr, "pinmm: diff: %s: out of memory\n", path);
		status = EXIT_USAGE;
	} else {
		bad = compare(path, &sim, &host, allow);
		status = bad ? EXIT_FAIL : EXIT_OK;
		printf("%s: %s (%d observables; pinmm %.3f s, host %.3f s)\n", path,
		       bad ? "differs" : "same", sim.log.n, sim.secs, host.secs);
		if (verbose && bad) {
			print_err(&sim);
			print_err(&host);
		}
	}
	for (struct side *sd = &sim; sd; sd = sd == &sim ? &host : NULL) {
		if (sd->err)
			fclose(sd->err);
		log_free(&sd->log);
	}
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
	      "printed as 'allowed: REASON' and do not count.\n"
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
	struct allow *allow = NULL;
	bool verbose = false;
	int i, status = EXIT_OK;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--allow") && i + 1 < argc) {
			int rc = allow_load(argv[++i], &allow);

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
	while (allow) {
		struct allow *a = allow;

		allow = a->next;
		free(a->where);
		free(a->reason);
		free(a);
	}
	return status;
}
