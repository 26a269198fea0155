/* SPDX-License-Identifier: MIT */
/*
 * script_svg.c - the picture commands of the scenario language:
 *
 *   show svg FILE [P...]          the address space of the processes
 *   show svg FILE cache FD [P]    the page cache of FD's file
 *   snapshot NAME [P...]          a checkpoint picture
 *   step NAME COMMAND...          COMMAND between a before and an after picture
 *
 * Without P the pictures show every live process the script has named
 * (its process variables) and the current process.  A relative FILE goes
 * under the directory of `pinmm run --svg DIR`, if given.  `snapshot` and
 * `step` write DIR/NN-NAME.svg (NN counts the pictures of the run) when
 * --svg is given, and every picture goes into the --html report; without
 * either option they only run (step runs its COMMAND).  The drawing itself
 * is svg_addr.c and svg_cache.c; doc/SCENARIOS.md has the rules.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "report.h"
#include "svg.h"

#define MAX_PROCS 16

struct proc_ref {
	struct pinmm_proc *p;
	const char *label;
};

/* The processes named by argv[from..argc), or every live one the script knows. */
static int pick_procs(struct script *s, int argc, char **argv, int from,
		      struct proc_ref *out)
{
	int n = 0;
	bool cur_seen = false;

	if (from < argc) {
		for (int i = from; i < argc; i++) {
			struct var *v = var_find(s, argv[i]);

			if (!v || v->kind != V_PROC || !v->proc || n == MAX_PROCS)
				return script_syntax(s, "'%s' is not a live process", argv[i]);
			out[n].p = v->proc;
			out[n++].label = v->name;
		}
		return n;
	}
	/* Variables are kept newest first: list them in creation order. */
	for (struct var *v = s->vars; v; v = v->next)
		if (v->kind == V_PROC && v->proc && n < MAX_PROCS)
			n++;
	int k = n;

	for (struct var *v = s->vars; v; v = v->next) {
		if (v->kind != V_PROC || !v->proc || k == 0)
			continue;
		k--;
		out[k].p = v->proc;
		out[k].label = v->name;
		cur_seen |= v->proc == s->cur;
	}
	if (s->cur && !cur_seen && n < MAX_PROCS) {
		out[n].p = s->cur;
		out[n++].label = "current";
	}
	return n;
}

static struct svg_doc *draw_procs(struct script *s, const char *title,
				  const struct proc_ref *procs, int n, int *err)
{
	struct svg_doc *d = svg_doc_new(title);

	*err = d ? 0 : -ENOMEM;
	if (!d)
		return NULL;
	if (n == 0)
		svg_heading(d, "note", "no process");
	for (int i = 0; i < n && !*err; i++)
		*err = svg_add_addr_space(d, procs[i].p, procs[i].label);
	svg_doc_legend(d, SVG_LEGEND_ADDR);
	if (*err) {
		svg_doc_free(d);
		return NULL;
	}
	return d;
}

/* @file under --svg DIR when it is relative; free() the result. */
static char *out_path(struct script *s, const char *file)
{
	char *path = NULL;

	if (s->opts->svg_dir && file[0] != '/') {
		if (asprintf(&path, "%s/%s", s->opts->svg_dir, file) < 0)
			return NULL;
		return path;
	}
	return strdup(file);
}

/* Write @d (or the pair @d/@after) to @file; report it as @name. */
static int emit(struct script *s, const char *file, const char *name, struct svg_doc *d,
		struct svg_doc *after)
{
	char *buf = NULL, *path;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (!f)
		return -ENOMEM;
	rc = after ? svg_write_pair(f, name, d, after) : svg_doc_write(d, f);
	fclose(f);
	if (rc || !buf) {
		free(buf);
		return rc ? rc : -ENOMEM;
	}
	if (file) {
		FILE *out;

		path = out_path(s, file);
		out = path ? fopen(path, "w") : NULL;
		if (!out) {	/* the runner reports "show: ENOENT" and stops */
			rc = path ? -errno : -ENOMEM;
			free(path);
			free(buf);
			return rc;
		}
		fputs(buf, out);
		rc = fclose(out) ? -EIO : 0;
		free(path);
	}
	if (!rc && s->opts->report) {
		char *inline_svg = strstr(buf, "<svg");

		memmove(buf, inline_svg, strlen(inline_svg) + 1);
		report_add_picture(s->opts->report, s->file, s->line, name, buf);
		buf = NULL;
	}
	free(buf);
	return rc;
}

/*
 * `show svg` under run --json: the file written, the picture's kind, the
 * processes drawn (and for a page cache, the descriptor).
 */
static void svg_json(struct script *s, const char *file, const struct proc_ref *procs, int n,
		     long long fd)
{
	struct json_object *d, *arr;
	char *path;

	if (!script_json_on(s))
		return;
	d = json_object_new_object();
	path = out_path(s, file);
	jset_str(d, "file", path ? path : file);
	free(path);
	jset_str(d, "picture", fd < 0 ? "address_space" : "page_cache");
	if (fd >= 0)
		jset_int(d, "fd", fd);
	arr = json_object_new_array();
	for (int i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		jset_str(o, "name", procs[i].label);
		jset_int(o, "pid", pinmm_proc_pid(procs[i].p));
		json_object_array_add(arr, o);
	}
	jset(d, "processes", arr);
	script_json_show(s, "svg", d);
}

static int show_svg_cache(struct script *s, int argc, char **argv)
{
	struct svg_held held[MAX_PROCS];
	struct pinmm_proc *p = s->cur;
	struct svg_doc *d;
	long long fd;
	int nheld = 0, rc;

	if (argc < 5 || argc > 6 || arg_int(s, argv[4], &fd))
		return script_syntax(s, "usage: show svg FILE cache FD [P]");
	if (argc == 6) {
		struct var *v = var_find(s, argv[5]);

		if (!v || v->kind != V_PROC || !v->proc)
			return script_syntax(s, "'%s' is not a live process", argv[5]);
		p = v->proc;
	}
	if (!p)
		return script_syntax(s, "no current process");
	for (struct var *v = s->vars; v && nheld < MAX_PROCS; v = v->next)
		if (v->kind == V_PAGES && v->npages > 0)
			held[nheld++] = (struct svg_held){ v->name, v->pages, v->npages };
	d = svg_doc_new(argv[2]);
	if (!d)
		return -ENOMEM;
	rc = svg_add_page_cache(d, p, (int)fd, argv[2], held, nheld);
	svg_doc_legend(d, SVG_LEGEND_CACHE);
	if (!rc)
		rc = emit(s, argv[2], argv[2], d, NULL);
	svg_doc_free(d);
	if (!rc)
		svg_json(s, argv[2], &(struct proc_ref){ p, argc == 6 ? argv[5] : "current" }, 1,
			 fd);
	return rc;
}

/* show svg FILE [P...] | show svg FILE cache FD [P] */
static int show_svg(struct script *s, int argc, char **argv)
{
	struct proc_ref procs[MAX_PROCS];
	struct svg_doc *d;
	int n, rc;

	if (argc < 3)
		return script_syntax(s, "usage: show svg FILE [P...] | show svg FILE cache FD [P]");
	if (argc >= 4 && !strcmp(argv[3], "cache"))
		return show_svg_cache(s, argc, argv);
	n = pick_procs(s, argc, argv, 3, procs);
	if (n < 0 || n == SCRIPT_SYNTAX)
		return SCRIPT_SYNTAX;
	d = draw_procs(s, argv[2], procs, n, &rc);
	if (!d)
		return rc;
	rc = emit(s, argv[2], argv[2], d, NULL);
	svg_doc_free(d);
	if (!rc)
		svg_json(s, argv[2], procs, n, -1);
	return rc;
}

static bool pictures_wanted(struct script *s)
{
	return s->opts->svg_dir || s->opts->report;
}

/* A picture's NAME becomes part of a file name: letters, digits, '-', '_'. */
static bool good_name(const char *name)
{
	if (!*name || strlen(name) > 64)
		return false;
	for (; *name; name++)
		if (!isalnum((unsigned char)*name) && *name != '-' && *name != '_')
			return false;
	return true;
}

/* The file of the run's next checkpoint picture: NN-NAME.svg, or NULL without --svg. */
static char *checkpoint_file(struct script *s, const char *name)
{
	char *file = NULL;

	s->opts->svg_n++;
	if (!s->opts->svg_dir)
		return NULL;
	if (asprintf(&file, "%02d-%s.svg", s->opts->svg_n, name) < 0)
		return NULL;
	return file;
}

/* snapshot NAME [P...] */
static int cmd_snapshot(struct script *s, int argc, char **argv)
{
	struct proc_ref procs[MAX_PROCS];
	struct svg_doc *d;
	char *file;
	int n, rc;

	if (!good_name(argv[1]))
		return script_syntax(s, "snapshot NAME: letters, digits, '-' and '_' only");
	n = pick_procs(s, argc, argv, 2, procs);
	if (n == SCRIPT_SYNTAX || !pictures_wanted(s))
		return n == SCRIPT_SYNTAX ? SCRIPT_SYNTAX : 0;
	d = draw_procs(s, argv[1], procs, n, &rc);
	if (!d)
		return rc;
	file = checkpoint_file(s, argv[1]);
	rc = emit(s, file, argv[1], d, NULL);
	free(file);
	svg_doc_free(d);
	return rc;
}

/* step NAME COMMAND...: the processes before and after COMMAND, side by side. */
static int cmd_step(struct script *s, int argc, char **argv)
{
	struct proc_ref procs[MAX_PROCS];
	struct svg_doc *before = NULL, *after;
	char *file, title[160];
	int n, rc, err = 0;

	if (argc < 3)
		return script_syntax(s, "usage: step NAME COMMAND...");
	if (!good_name(argv[1]))
		return script_syntax(s, "step NAME: letters, digits, '-' and '_' only");
	if (pictures_wanted(s)) {
		n = pick_procs(s, 0, NULL, 0, procs);
		snprintf(title, sizeof(title), "before: %s", argv[1]);
		before = draw_procs(s, title, procs, n, &err);
		if (!before)
			return err;
	}
	rc = script_dispatch(s, argc - 2, argv + 2);
	if (!before)
		return rc;
	/* After: every process known now (the step may have forked one). */
	n = pick_procs(s, 0, NULL, 0, procs);
	snprintf(title, sizeof(title), "after: %s", argv[1]);
	after = draw_procs(s, title, procs, n, &err);
	if (after) {
		snprintf(title, sizeof(title), "step %s: %s", argv[1], s->text);
		file = checkpoint_file(s, argv[1]);
		err = emit(s, file, title, before, after);
		free(file);
		svg_doc_free(after);
	}
	svg_doc_free(before);
	return rc ? rc : err;
}

static const struct script_cmd svg_cmds[] = {
	{ "snapshot", cmd_snapshot, BIND_NONE, "snapshot NAME [P...]", SCRIPT_ARGS(1, 17) },
	{ "step", cmd_step, BIND_OPTIONAL, "step NAME COMMAND..." },
	{ NULL, NULL, BIND_NONE, NULL },
};

static const struct script_subcmd svg_subcmds[] = {
	{ "show", "svg", show_svg, "show svg FILE [P...] | show svg FILE cache FD [P]" },
	{ NULL, NULL, NULL, NULL },
};

static const struct script_group svg_group = {
	.title = "Pictures",
	.order = 55,
	.cmds = svg_cmds,
	.subcmds = svg_subcmds,
};
SCRIPT_GROUP(svg_group);
