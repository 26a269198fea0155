/* SPDX-License-Identifier: MIT */
/*
 * diff_cmd.c - `pinmm diff [--allow FILE] [-v] SCRIPT...`: run each script
 * on pinmm and on the host kernel and print every observable that differs;
 * the running and comparing are shared with `pinmm fuzz --diff`
 * (fuzz_cmd.c, through diff.h).
 *
 * The runner calls diff_log_line() after each line, diff_log_check() for
 * each expectation (script.c) and diff_log_state() for each `observe` line
 * (script_observe.c), so one run leaves a list of observables in execution
 * order: a line's outcome (ok, an errno name, a syntax error), an
 * expectation's result (passed, or failed with its detail) and observed
 * page states.  The two lists are walked side by side; the comparison rules
 * are in doc/DIFF.md:
 *  - outcomes are equal when they name the same result;
 *  - expectations are equal when both pass, or both fail with the same
 *    detail, except that a check on pfn compares only pass/fail (PFNs are
 *    relations, never numbers);
 *  - observed states are equal when their canonical texts are;
 *  - when one side stopped (a failing line), the first unmatched line is a
 *    difference and the walk ends.
 * A difference that an allow-list entry matches (by NAME.pinmm:LINE, or by
 * the command of the line and the field that differs) is printed as
 * "allowed: REASON" and does not count.  The output of the scripts
 * themselves (show, echo, print) is discarded: it is not an observable.
 * Exit of `pinmm diff`: 0 equal, 1 a difference, 2 a usage or syntax error
 * or a script the host cannot run.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"
#include "diff.h"

/* The command a line runs: "expect ok X ..." and "expect error E X ..." run X. */
static void line_cmd(const char *text, char *out, size_t len)
{
	char w[3][32] = { "", "", "" };
	int n = 0;
	const char *p = text;

	while (n < 3) {
		size_t k;

		p += strspn(p, " \t");
		k = strcspn(p, " \t");
		if (!k)
			break;
		snprintf(w[n++], sizeof(w[0]), "%.*s", (int)k, p);
		p += k;
	}
	if (!strcmp(w[0], "expect") && !strcmp(w[1], "ok"))
		snprintf(out, len, "%s", w[2]);
	else if (!strcmp(w[0], "expect") && !strcmp(w[1], "error")) {
		p += strspn(p, " \t");
		snprintf(out, len, "%.*s", (int)strcspn(p, " \t"), p);
	} else
		snprintf(out, len, "%s", w[0]);
}

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
	line_cmd(s->text ? s->text : "", l->v[l->n].cmd, sizeof(l->v[l->n].cmd));
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

/**
 * diff_log_state() - record the canonical page state an `observe` line saw.
 * Context: script_observe.c, when s->opts->log is set.
 * Return: nothing; out of memory marks the log, and the diff gives up.
 */
void diff_log_state(struct script *s, const char *text)
{
	struct obs *o = log_add(s, OBS_STATE);

	if (!o)
		return;
	o->ok = true;
	o->text = strdup(text);
	if (!o->text)
		s->opts->log->oom = true;
}

static void log_free(struct diff_log *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i].text);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- the allow-list --------------------------------------------------------------- */

/**
 * diff_allow_load() - add the entries of the allow-list file @path to *@out:
 * lines "WHERE REASON", '#' comments, WHERE being NAME.pinmm:LINE, CMD or
 * CMD:FIELD (doc/DIFF.md).
 * Context: command-line parsing.
 * Return: 0, or a negative errno (the file cannot be read, no memory).
 */
int diff_allow_load(const char *path, struct diff_allow **out)
{
	FILE *f = fopen(path, "r");
	char line[1024];

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *w = line + strspn(line, " \t"), *r;
		struct diff_allow *a;

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

/**
 * diff_allow_free() - free an allow-list.
 * Context: any.  Return: nothing.
 */
void diff_allow_free(struct diff_allow *a)
{
	while (a) {
		struct diff_allow *next = a->next;

		free(a->where);
		free(a->reason);
		free(a);
		a = next;
	}
}

static const char *allowed(const struct diff_allow *a, const char *file,
			   const struct diff_first *d)
{
	const char *base = strrchr(file, '/');
	char where[512], cf[80];

	snprintf(where, sizeof(where), "%s:%d", base ? base + 1 : file, d->line);
	snprintf(cf, sizeof(cf), "%s:%s", d->cmd, d->field);
	for (; a; a = a->next)
		if (!strcmp(a->where, where) || !strcmp(a->where, d->cmd) || !strcmp(a->where, cf))
			return a->reason;
	return NULL;
}

/* ---- running and comparing --------------------------------------------------------- */

/**
 * diff_now() - a monotonic clock in seconds.
 * Context: any.  Return: the time.
 */
double diff_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/**
 * diff_run_side() - run @path on pinmm (@host false) or on the host, its
 * standard output discarded and its standard error kept in sd->err.
 * Context: the tool's main thread.
 * Return: nothing; sd->status, sd->secs and sd->log hold the result.
 */
void diff_run_side(struct diff_side *sd, const char *path, bool host)
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
	t0 = diff_now();
	sd->status = script_run_file(&o, path);
	sd->secs = diff_now() - t0;
	fflush(stdout);
	fflush(stderr);
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	close(out);
	close(err);
	if (null >= 0)
		close(null);
}

/**
 * diff_side_free() - free what diff_run_side() kept.
 * Context: any.  Return: nothing.
 */
void diff_side_free(struct diff_side *sd)
{
	if (sd->err)
		fclose(sd->err);
	sd->err = NULL;
	log_free(&sd->log);
}

/**
 * diff_print_err() - copy the standard error of a side's run to @to.
 * Context: any.  Return: nothing.
 */
void diff_print_err(struct diff_side *sd, FILE *to)
{
	char buf[1024];
	size_t n;

	if (!sd->err)
		return;
	rewind(sd->err);
	while ((n = fread(buf, 1, sizeof(buf), sd->err)) > 0)
		fwrite(buf, 1, n, to);
}

static bool obs_equal(const struct obs *a, const struct obs *b)
{
	if (a->kind != b->kind || a->line != b->line || a->ok != b->ok)
		return false;
	if (a->kind == OBS_STATE)
		return !strcmp(a->text, b->text);
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

/* Whether observe segment @seg has @key ("anon", "map", "-"). */
static const char *seg_key(const char *seg, size_t len, const char *key)
{
	size_t k = strlen(key);

	for (const char *p = seg; p < seg + len; ) {
		size_t w = strcspn(p, " ;");

		if (w > len - (size_t)(p - seg))
			w = len - (size_t)(p - seg);
		if ((w == k || (w > k && p[k] == '=')) && !strncmp(p, key, k))
			return p;
		p += w + 1;
	}
	return NULL;
}

/* The first field two observe tuples differ in, by importance. */
static void state_field(const char *a, const char *b, char *out, size_t len)
{
	static const char *const keys[] = { "novma", "-", "swapped", "anon", "shmem",
					    "ord", "map", "page", "mem" };

	while (*a && *b) {
		size_t la = strcspn(a, ";"), lb = strcspn(b, ";");

		if (la != lb || strncmp(a, b, la)) {
			for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
				const char *x = seg_key(a, la, keys[k]), *y = seg_key(b, lb, keys[k]);
				size_t wx = x ? strcspn(x, " ;") : 0, wy = y ? strcspn(y, " ;") : 0;

				if (!x != !y || (x && (wx != wy || strncmp(x, y, wx)))) {
					snprintf(out, len, "%s", !strcmp(keys[k], "-") ? "present" : keys[k]);
					return;
				}
			}
			snprintf(out, len, "process");
			return;
		}
		a += la + (a[la] == ';');
		b += lb + (b[lb] == ';');
	}
	snprintf(out, len, "process");
}

/* What differs between @a and @b (either may be NULL), for the allow-list. */
static void describe(const struct obs *a, const struct obs *b, struct diff_first *d)
{
	const struct obs *o = a ? a : b;

	memset(d, 0, sizeof(*d));
	d->line = o->line;
	d->kind = o->kind;
	snprintf(d->cmd, sizeof(d->cmd), "%s", o->cmd);
	if (!a || !b || a->kind != b->kind || a->line != b->line) {
		snprintf(d->field, sizeof(d->field), "stopped");
	} else if (a->kind == OBS_STATE) {
		state_field(a->text, b->text, d->field, sizeof(d->field));
	} else if (a->kind == OBS_CHECK) {
		const struct obs *f = a->ok ? b : a;
		size_t n = strcspn(f->text, ":");

		snprintf(d->field, sizeof(d->field), "%.*s", (int)(n < 31 ? n : 31), f->text);
		for (char *p = d->field; *p; p++)
			if (isspace((unsigned char)*p))
				*p = '_';
	} else {
		snprintf(d->field, sizeof(d->field), "outcome");
	}
}

/**
 * diff_compare() - walk the two logs of @file side by side and print each
 * difference to @out (NULL: print nothing).
 * @first: if not NULL, receives the first difference that counts (line 0
 *	when none does).
 * @nallowed: if not NULL, receives how many differences the allow-list
 *	excused.
 * Context: after diff_run_side() on both sides.
 * Return: the number of differences the allow-list does not excuse.
 */
int diff_compare(const char *file, const struct diff_side *sim, const struct diff_side *host,
		 const struct diff_allow *allow, FILE *out, struct diff_first *first,
		 int *nallowed)
{
	int n = sim->log.n > host->log.n ? sim->log.n : host->log.n, bad = 0, ok = 0;

	if (first)
		memset(first, 0, sizeof(*first));
	for (int i = 0; i < n; i++) {
		const struct obs *a = i < sim->log.n ? &sim->log.v[i] : NULL;
		const struct obs *b = i < host->log.n ? &host->log.v[i] : NULL;
		static const char *const kind[] = { "outcome", "expectation", "state" };
		struct diff_first d;
		const char *why;

		if (a && b && obs_equal(a, b))
			continue;
		describe(a, b, &d);
		why = allowed(allow, file, &d);
		if (out)
			fprintf(out, "%s:%d: %s: pinmm: %s%s; host: %s%s\n", file, d.line,
				kind[(a ? a : b)->kind],
				a && a->kind == OBS_CHECK ? (a->ok ? "passed" : "failed: ") : "",
				a && a->kind == OBS_CHECK && a->ok ? "" : obs_text(a),
				b && b->kind == OBS_CHECK ? (b->ok ? "passed" : "failed: ") : "",
				b && b->kind == OBS_CHECK && b->ok ? "" : obs_text(b));
		if (why) {
			ok++;
			if (out)
				fprintf(out, "%s:%d: allowed: %s\n", file, d.line, why);
		} else {
			if (first && !bad)
				*first = d;
			bad++;
		}
		if (!a || !b || a->line != b->line || a->kind != b->kind)
			break;	/* the runs no longer line up */
	}
	if (nallowed)
		*nallowed = ok;
	return bad;
}

/* ---- the command ------------------------------------------------------------------ */

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
