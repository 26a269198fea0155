/* SPDX-License-Identifier: MIT */
/*
 * script.c - the scenario-script runner: syntax pre-check, the line loop,
 * error reporting, expectation accounting and TAP output.
 *
 * A script is read whole, expanded (parameters, `include`, `repeat` and
 * `for`: script_flow.c) and checked (lexing, command names, "-> NAME"
 * bindings, `expect error` names) before its first line runs, so a typo on
 * line 90 costs nothing at run time.  Each line is then dispatched to a
 * command looked up in the registry (script_table.c), which every command
 * file fills with SCRIPT_GROUP(); the runner names none of them.  Values, variables
 * and argument parsing live in script_vars.c; the language is documented in
 * doc/SCENARIOS.md.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report.h"
#include "script_flow.h"

/* ---- messages --------------------------------------------------------------- */

/*
 * The threads of a `thread` group share stdout, stderr, the TAP counter and
 * the --explore record: each message goes out whole under this lock.
 */
static pthread_mutex_t out_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

/* "thread NAME: " inside a thread block, else "". */
static const char *thread_prefix(struct script *s, char *buf, size_t len)
{
	if (!s->thread)
		return "";
	snprintf(buf, len, "thread %s: ", s->thread->st->name);
	return buf;
}

/* `pinmm explore FILE`: keep the first failure as the run's message. */
static void note_first_fail(struct script *s, const char *what, const char *detail)
{
	char tp[80];

	if (s->opts->first_fail[0])
		return;
	snprintf(s->opts->first_fail, sizeof(s->opts->first_fail), "%s:%d: %s%s%s%s",
		 s->file, s->line, thread_prefix(s, tp, sizeof(tp)), what,
		 detail ? ": " : "", detail ? detail : "");
}

int script_syntax(struct script *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
	return SCRIPT_SYNTAX;
}

/* Informational output; in TAP mode every line becomes a "# " diagnostic. */
void script_out(struct script *s, const char *fmt, ...)
{
	char *msg = NULL, *line, *nl;
	va_list ap;
	int n;

	if (s->opts->silent)
		return;
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	pthread_mutex_lock(&out_lock);
	if (s->thread && s->opts->json) {
		/* --json records the main line; a thread's output is not in it */
	} else if (!s->thread && script_json_output(s)) {
		/* the JSON document owns stdout */
	} else if (!s->opts->tap) {
		fputs(msg, stdout);
	} else {
		for (line = msg; *line; line = nl + 1) {
			nl = strchr(line, '\n');
			if (!nl) {
				printf("# %s\n", line);
				break;
			}
			printf("# %.*s\n", (int)(nl - line), line);
		}
	}
	pthread_mutex_unlock(&out_lock);
	free(msg);
}

static void tap_point(struct script *s, bool ok, const char *what)
{
	s->opts->tap_n++;
	printf("%s %d - %s:%d %s\n", ok ? "ok" : "not ok", s->opts->tap_n,
	       s->file, s->line, what);
}

/* Record the outcome of one expectation; @detail says expected vs observed. */
void script_check(struct script *s, bool ok, const char *detail)
{
	char tp[80];

	s->nexpect++;
	if (!ok)
		s->nfailed++;
	pthread_mutex_lock(&out_lock);
	if (s->opts->silent) {
		if (!ok)
			note_first_fail(s, s->text, detail);
		goto out;
	}
	if (!s->thread) {
		/* Records of the main line only: a thread's lines interleave. */
		if (s->opts->log)
			diff_log_check(s, ok, detail);
		report_expect(s, ok, detail);
		script_json_expect(s, ok, detail);
	}
	if (s->opts->tap) {
		tap_point(s, ok, s->text);
		if (!ok && detail)
			printf("# %s\n", detail);
		goto out;
	}
	fflush(stdout);
	if (!ok)
		fprintf(stderr, "%s:%d: %sexpectation failed: %s\n%s%s%s", s->file,
			s->line, thread_prefix(s, tp, sizeof(tp)), s->text, detail ? "    " : "",
			detail ? detail : "", detail ? "\n" : "");
out:
	pthread_mutex_unlock(&out_lock);
}

/* A script-level error: a syntax error or a library call that failed. */
void script_error(struct script *s, const char *fmt, ...)
{
	char msg[768], tp[80];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&out_lock);
	if (s->opts->silent) {
		note_first_fail(s, msg, NULL);
		pthread_mutex_unlock(&out_lock);
		return;
	}
	thread_prefix(s, tp, sizeof(tp));
	fflush(stdout);
	fprintf(stderr, "%s:%d: %s%s\n", s->file, s->line, s->thread ? tp : "", msg);
	if (!s->thread)
		script_json_error(s, msg);
	if (s->opts->tap) {
		s->opts->tap_n++;
		printf("not ok %d - %s:%d: %s%s\n", s->opts->tap_n, s->file, s->line,
		       s->thread ? tp : "", msg);
	}
	pthread_mutex_unlock(&out_lock);
}

/* ---- syntax pre-check --------------------------------------------------------- */

/* Split off a trailing "-> NAME".  Return: new argc, or -1 if malformed. */
static int split_bind(int argc, char **argv, const char **bind)
{
	*bind = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "->"))
			continue;
		if (i != argc - 2 || !script_is_ident(argv[argc - 1]))
			return -1;
		*bind = argv[argc - 1];
		return i;
	}
	return argc;
}

/* Check the shape of one command line without running it. */
static int precheck(struct script *s, int argc, char **argv, const char *bind)
{
	const struct script_cmd *c;

	if (argc == 0)
		return script_syntax(s, "missing command");
	if (!strcmp(argv[0], "expect") && argc >= 2 && !strcmp(argv[1], "error")) {
		if (argc < 4)
			return script_syntax(s, "usage: expect error ENAME COMMAND...");
		if (!errno_from_name(argv[2]))
			return script_syntax(s, "unknown error name '%s'", argv[2]);
		return precheck(s, argc - 3, argv + 3, bind);
	}
	if (!strcmp(argv[0], "expect") && argc >= 2 && !strcmp(argv[1], "ok")) {
		if (argc < 3)
			return script_syntax(s, "usage: expect ok COMMAND...");
		return precheck(s, argc - 2, argv + 2, bind);
	}
	if (!strcmp(argv[0], "step") && argc >= 3)	/* step NAME COMMAND... */
		return precheck(s, argc - 2, argv + 2, bind);
	if (!strcmp(argv[0], "try") && argc >= 2)	/* try COMMAND... */
		return precheck(s, argc - 1, argv + 1, bind);
	if (!strcmp(argv[0], "when") && argc >= 3)	/* when NAME COMMAND... */
		return precheck(s, argc - 2, argv + 2, bind);
	if (!strcmp(argv[0], "expect") && bind)
		return script_syntax(s, "only 'expect error|ok COMMAND' may end in '-> NAME'");
	c = script_find_cmd(argv[0]);
	if (!c)
		return script_syntax(s, "unknown command '%s'", argv[0]);
	if (c->bind == BIND_NONE && bind)
		return script_syntax(s, "%s does not produce a value (no '-> NAME')", argv[0]);
	if (c->bind == BIND_REQUIRED && !bind)
		return script_syntax(s, "%s needs '-> NAME' at the end; usage: %s",
				     argv[0], script_usage(c));
	return s->opts->host ? script_host_precheck(s, argv[0]) : 0;
}

static int sfile_check(struct script *s, struct sfile *sf)
{
	int bad = 0;

	for (int i = 0; i < sf->nlines; i++) {
		struct sline *sl = &sf->lines[i];
		const char *bind;
		int argc = split_bind(sl->argc, sl->argv, &bind), rc;

		s->file = sl->file;
		s->line = sl->no;
		if (argc < 0)
			rc = script_syntax(s, "'->' must be followed by one NAME at the end of the line");
		else
			rc = precheck(s, argc, sl->argv, bind);
		sl->bad = rc == SCRIPT_SYNTAX || rc == SCRIPT_REFUSED;
		/* A loop's later copies of a bad line were reported with the first. */
		if (sl->bad && (sl->origin < 0 || !sf->lines[sl->origin].bad)) {
			if (rc == SCRIPT_REFUSED)
				script_error(s, "%s", s->errmsg);
			else
				script_error(s, "syntax error: %s", s->errmsg);
		}
		bad += sl->bad;
	}
	return bad ? SCRIPT_SYNTAX : 0;
}

/* ---- running ------------------------------------------------------------------ */

/* Run one command (argv[0] is its name); `expect` forms recurse through here. */
int script_dispatch(struct script *s, int argc, char **argv)
{
	const struct script_cmd *c = script_find_cmd(argv[0]);

	if (!c)
		return script_syntax(s, "unknown command '%s'", argv[0]);
	if (c->bind == BIND_NONE && s->bind)
		return script_syntax(s, "%s does not produce a value", argv[0]);
	if (c->bind == BIND_REQUIRED && !s->bind)
		return script_syntax(s, "%s needs '-> NAME'", argv[0]);
	if (c->check_args && (argc - 1 < c->min_args || argc - 1 > c->max_args))
		return script_syntax(s, "usage: %s", script_usage(c));
	if (s->opts->host)
		return script_host_dispatch(s, argc, argv);
	return c->fn(s, argc, argv);
}

/* Run one line.  Return: 0, EXIT_FAIL or EXIT_USAGE (the script stops). */
int script_run_line(struct script *s, struct sline *sl)
{
	int argc, rc;

	s->file = sl->file;
	s->line = sl->no;
	s->text = sl->text;
	argc = split_bind(sl->argc, sl->argv, &s->bind);
	if (s->opts->verbose)
		script_out(s, "%s:%d: %s\n", s->file, s->line, sl->text);
	if (s->thread) {
		/* The report, JSON and diff records are the main line's story. */
		rc = script_dispatch(s, argc, sl->argv);
	} else {
		report_line_begin(s);
		rc = script_dispatch(s, argc, sl->argv);
		report_line_end(s, rc);
		if (s->opts->log)
			diff_log_line(s, rc);
		script_json_line(s, argc, sl->argv, rc);
	}
	if (rc == 0)
		return 0;
	if (rc == SCRIPT_REFUSED) {
		script_error(s, "%s", s->errmsg);
		return EXIT_USAGE;
	}
	if (rc == SCRIPT_SYNTAX) {
		script_error(s, "syntax error: %s", s->errmsg);
		return EXIT_USAGE;
	}
	script_error(s, "%s: %s (%d)", sl->argv[0], pinmm_strerror(rc), rc);
	return EXIT_FAIL;
}

/* Shut down a machine the script left running; leaks make it fail. */
static int final_shutdown(struct script *s)
{
	int rc;

	if (!s->m)
		return 0;
	script_groups_machine_gone(s);
	rc = pinmm_shutdown(s->m);
	s->m = NULL;
	s->cur = NULL;
	vars_machine_gone(s);
	if (rc == 0)
		return 0;
	s->text = "(end of script)";
	script_error(s, "shutdown at end of script: %s (%d)", pinmm_strerror(rc), rc);
	return EXIT_FAIL;
}

static void script_free_vars(struct script *s)
{
	while (s->vars) {
		struct var *v = s->vars;

		s->vars = v->next;
		var_release_pages(v);
		free(v->data);
		free(v->name);
		free(v);
	}
}

static int run_lines(struct script *s, struct sfile *sf)
{
	int status = EXIT_OK;

	for (int i = 0; i < sf->nlines && status == EXIT_OK;) {
		if (sf->lines[i].thread >= 0) {
			status = script_run_group(s, sf, i, &i);
			if (status == EXIT_OK)
				status = script_run_always(s, sf, i);
		} else if (sf->lines[i].thread == SLINE_ALWAYS) {
			i++;	/* after each group */
		} else {
			status = script_run_line(s, &sf->lines[i++]);
		}
	}
	if (sf->nlines) {
		s->file = sf->lines[sf->nlines - 1].file;
		s->line = sf->lines[sf->nlines - 1].no;
	}
	if (status != EXIT_OK && s->m)
		script_release_pages(s);
	if (final_shutdown(s) && status == EXIT_OK)
		status = EXIT_FAIL;
	if (status == EXIT_OK && s->nfailed)
		status = EXIT_FAIL;
	return status;
}

static void summary(struct script *s, int status)
{
	if (s->opts->quiet || s->opts->tap || script_json_output(s))
		return;
	printf("%s: %d expectation%s, %d failed%s\n", s->file, s->nexpect,
	       s->nexpect == 1 ? "" : "s", s->nfailed,
	       status == EXIT_USAGE ? " (script error)" :
	       status == EXIT_FAIL && !s->nfailed ? " (runtime error)" : "");
}

int script_prepare(struct script *s, const char *path, struct sfile *sf)
{
	int status = script_load(s, path, sf);

	if (status == 0)
		status = sfile_check(s, sf);
	return status == SCRIPT_SYNTAX ? EXIT_USAGE : status;
}

int script_run_file(struct run_opts *o, const char *path)
{
	const char *name = strcmp(path, "-") ? path : "<stdin>";
	struct script s = { .opts = o, .file = name, .text = "" };
	struct sfile sf = { 0 };
	int status;

	script_json_begin(o, path);
	pinmm_config_default(&s.cfg);
	status = script_load(&s, path, &sf);
	if (status < 0) {
		fprintf(stderr, "pinmm: %s: %s\n", name, strerror(-status));
		if (o->tap)
			printf("not ok %d - %s: cannot read\n", ++o->tap_n, name);
		script_json_error(&s, "cannot read the script");
		script_json_end(&s, EXIT_USAGE);
		script_unload(&sf);
		return EXIT_USAGE;
	}
	if (status == 0)
		status = sfile_check(&s, &sf);
	if (status == SCRIPT_SYNTAX)
		status = EXIT_USAGE;
	else
		status = run_lines(&s, &sf);
	s.file = name;
	summary(&s, status);
	script_json_end(&s, status);
	script_groups_end(&s);
	script_free_vars(&s);
	script_unload(&sf);
	return status;
}
