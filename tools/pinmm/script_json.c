/* SPDX-License-Identifier: MIT */
/*
 * script_json.c - the results recorder behind `pinmm run --json`.
 *
 * The runner reports into it at four places, one call each: an executed
 * line with its outcome (script.c run_line), an expectation with its
 * expected and observed values (script.c script_check), a `show` as a
 * json-c object (script_show.c and the show forms each group registers:
 * script_rdma*.c, script_lease.c, script_svg.c ...), and a
 * script-level error (script.c script_error).  Items reported while a line
 * runs wait in a pending list and are attached to that line when it ends.
 * At the end of the run one document goes to stdout or to the --json=FILE
 * (schema in doc/SCENARIOS.md, "Machine-readable results").
 *
 * Owns the document tree; struct run_opts points at it for the whole run.
 * Single-threaded, like the runner.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "tool.h"

struct run_json {
	struct json_object *doc;	/* the whole document */
	struct json_object *scripts;	/* doc["scripts"] */
	struct json_object *cur;	/* the script running now */
	struct json_object *lines;	/* cur["lines"] */
	struct json_object *errors;	/* cur["errors"] */
	struct json_object *pending_expect;	/* of the line running now */
	struct json_object *pending_show;
	const char *path;		/* --json=FILE, or NULL for stdout */
	const char *exp_want, *exp_got;	/* values for the next script_check */
	long nshows;			/* shows recorded so far */
};

static const char *const status_name[] = {
	[EXIT_OK] = "ok", [EXIT_FAIL] = "fail", [EXIT_USAGE] = "usage",
};

/**
 * script_json_start() - turn the recorder on for this run.
 * @o: the run's options.
 * @path: the file to write at the end, or NULL for stdout.
 *
 * Context: pinmm run, before the first script.
 * Return: 0, or -ENOMEM.
 */
int script_json_start(struct run_opts *o, const char *path)
{
	struct run_json *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->doc = json_object_new_object();
	j->scripts = json_object_new_array();
	if (!j->doc || !j->scripts) {
		json_object_put(j->doc);
		json_object_put(j->scripts);
		free(j);
		return -ENOMEM;
	}
	jset_str(j->doc, "pinmm", pinmm_version());
	jset(j->doc, "scripts", j->scripts);
	j->path = path;
	o->json = j;
	return 0;
}

/**
 * script_json_begin() - a script starts.
 * @o: the run's options.
 * @path: the script's path as given ("-" for stdin).
 *
 * Context: script_run_file(), before the script is read.
 */
void script_json_begin(struct run_opts *o, const char *path)
{
	struct run_json *j = o->json;
	struct json_object *params;

	if (!j)
		return;
	j->cur = json_object_new_object();
	j->lines = json_object_new_array();
	j->errors = json_object_new_array();
	jset_str(j->cur, "path", path);
	params = json_object_new_object();
	for (int i = 0; i < o->ndefines; i++) {	/* NAME=VALUE, checked by main.c */
		const char *d = o->defines[i], *eq = strchr(d, '=');
		char name[128];

		if (!eq || (size_t)(eq - d) >= sizeof(name))
			continue;
		memcpy(name, d, (size_t)(eq - d));
		name[eq - d] = '\0';
		jset_str(params, name, eq + 1);	/* a later -D NAME wins, as in the run */
	}
	jset(j->cur, "parameters", params);
	jset(j->cur, "lines", j->lines);
	jset(j->cur, "errors", j->errors);
	json_object_array_add(j->scripts, j->cur);
}

/**
 * script_json_end() - the script @s ended with @status.
 *
 * Context: script_run_file(), after the final shutdown.
 */
void script_json_end(struct script *s, int status)
{
	struct run_json *j = s->opts->json;

	if (!j || !j->cur)
		return;
	jset_str(j->cur, "status", status_name[status]);
	jset_int(j->cur, "exit", status);
	jset_int(j->cur, "expectations", s->nexpect);
	jset_int(j->cur, "failed", s->nfailed);
	j->cur = NULL;
}

static struct json_object *take(struct json_object **list)
{
	struct json_object *l = *list;

	*list = NULL;
	return l ? l : json_object_new_array();
}

/**
 * script_json_line() - the line @s->line ran; @rc is what its command returned.
 * @argc, @argv: its words, "-> NAME" split off.
 *
 * Context: run_line(), once per executed line.
 */
void script_json_line(struct script *s, int argc, char **argv, int rc)
{
	struct run_json *j = s->opts->json;
	struct json_object *l;

	if (!j || !j->cur)
		return;
	l = json_object_new_object();
	jset_str(l, "file", s->file);
	jset_int(l, "line", s->line);
	jset_str(l, "text", s->text);
	jset_str(l, "command", argc > 0 ? argv[0] : "");
	if (rc == 0) {
		jset_str(l, "outcome", "ok");
	} else if (rc == SCRIPT_SYNTAX) {
		jset_str(l, "outcome", "syntax");
		jset_str(l, "message", s->errmsg);
	} else {
		jset_str(l, "outcome", "error");
		jset_int(l, "errno", -rc);
		jset_str(l, "error", pinmm_strerror(rc));
	}
	if (s->bind)
		jset_str(l, "bind", s->bind);
	jset(l, "expectations", take(&j->pending_expect));
	jset(l, "shows", take(&j->pending_show));
	json_object_array_add(j->lines, l);
}

/**
 * script_json_values() - expected and observed values of the next check.
 * @expected, @observed: text as the script would print it; copied at once.
 *
 * Context: an expect form, just before script_check().
 */
void script_json_values(struct script *s, const char *expected, const char *observed)
{
	struct run_json *j = s->opts->json;

	if (!j || s->thread)
		return;
	free((char *)j->exp_want);
	free((char *)j->exp_got);
	j->exp_want = expected ? strdup(expected) : NULL;
	j->exp_got = observed ? strdup(observed) : NULL;
}

/**
 * script_json_expect() - one expectation of the running line was checked.
 * @ok: it held.
 * @detail: the runner's message ("expected X, observed Y"), or NULL.
 *
 * Context: script_check().
 */
void script_json_expect(struct script *s, bool ok, const char *detail)
{
	struct run_json *j = s->opts->json;
	struct json_object *e;

	if (!j)
		return;
	e = json_object_new_object();
	jset_str(e, "file", s->file);
	jset_int(e, "line", s->line);
	jset_str(e, "text", s->text);
	jset_str(e, "result", ok ? "pass" : "fail");
	if (j->exp_want)
		jset_str(e, "expected", j->exp_want);
	if (j->exp_got)
		jset_str(e, "observed", j->exp_got);
	if (detail && detail[0])
		jset_str(e, "detail", detail);
	if (!j->pending_expect)
		j->pending_expect = json_object_new_array();
	json_object_array_add(j->pending_expect, e);
	script_json_values(s, NULL, NULL);
}

/**
 * script_json_on() - whether shows should build their structured form.
 *
 * Context: any command.
 */
bool script_json_on(struct script *s)
{
	/* A thread block's lines are not recorded: they interleave. */
	return s->opts->json != NULL && !s->thread;
}

/**
 * script_json_show() - record a `show` as data.
 * @what: its form ("page", "vmstat", ...).
 * @data: the data; the recorder takes the reference.
 *
 * Context: a show form, when script_json_on().
 */
void script_json_show(struct script *s, const char *what, struct json_object *data)
{
	struct run_json *j = s->opts->json;
	struct json_object *o;

	if (!j || s->thread) {
		json_object_put(data);
		return;
	}
	o = json_object_new_object();
	jset_str(o, "show", what);
	jset(o, "data", data);
	if (!j->pending_show)
		j->pending_show = json_object_new_array();
	json_object_array_add(j->pending_show, o);
	j->nshows++;
}

/**
 * script_json_shows() - how many shows the run recorded so far (0 without
 * --json); cmd_show() checks that a form it dispatched recorded one.
 *
 * Context: any command.
 */
long script_json_shows(struct script *s)
{
	struct run_json *j = s->opts->json;

	return j ? j->nshows : 0;
}

/**
 * script_json_output() - whether the JSON document owns stdout.
 *
 * Return: true under --json without FILE: script_out() and the summary
 * line print nothing.
 * Context: script_out(), script_run_file().
 */
bool script_json_output(struct script *s)
{
	struct run_json *j = s->opts->json;

	return j && !j->path;
}

/**
 * script_json_error() - a script-level error (syntax, failed call, leak).
 * @msg: the message printed with it.
 *
 * Context: script_error().
 */
void script_json_error(struct script *s, const char *msg)
{
	struct run_json *j = s->opts->json;
	struct json_object *e;

	if (!j || !j->cur)
		return;
	e = json_object_new_object();
	jset_str(e, "file", s->file);
	jset_int(e, "line", s->line);
	jset_str(e, "message", msg);
	json_object_array_add(j->errors, e);
}

/**
 * script_json_finish() - write the document and turn the recorder off.
 * @status: the run's exit status.
 *
 * Context: pinmm run, after the last script.
 * Return: @status, or EXIT_FAIL when the document could not be written.
 */
int script_json_finish(struct run_opts *o, int status)
{
	struct run_json *j = o->json;
	FILE *f;
	int rc;

	if (!j)
		return status;
	o->json = NULL;
	jset_str(j->doc, "status", status_name[status]);
	jset_int(j->doc, "exit", status);
	f = j->path ? fopen(j->path, "w") : stdout;
	if (!f) {
		fprintf(stderr, "pinmm: %s: %s\n", j->path, strerror(errno));
		json_object_put(j->doc);
		rc = -EIO;
	} else {
		rc = json_print(f, j->doc, true);
		if (f != stdout && fclose(f))
			rc = -EIO;
		if (rc)
			fprintf(stderr, "pinmm: %s: write error\n", j->path ? j->path : "stdout");
	}
	json_object_put(j->pending_expect);
	json_object_put(j->pending_show);
	free((char *)j->exp_want);
	free((char *)j->exp_got);
	free(j);
	return rc ? EXIT_FAIL : status;
}
