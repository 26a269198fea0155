/* SPDX-License-Identifier: MIT */
/*
 * script_flow.c - loading a script: the lexer, parameters ($NAME), `param`,
 * `include FILE`, and the blocks `repeat N { ... }` and
 * `for V in A B C { ... }`.
 *
 * Control flow is expanded when the script is loaded, before anything
 * runs: each iteration of a block becomes its own copy of the body's
 * lines, with the loop variable substituted, and an included file's lines
 * are spliced in where the include stood.  Every expanded line keeps the
 * name of the file it was written in and its line number there, so that a
 * message about the third iteration of a loop in an included file still
 * names that file and line.  The runner (script.c) then checks and runs a
 * flat list of lines, as it always did; nothing of the language's commands
 * changes.  Parameters are therefore text, not values: `$V` and `${V}` are
 * replaced by the word they stand for before the line is split into words
 * (doc/SCENARIOS.md, "Control flow").
 *
 * Limits keep a hostile script (tests/fuzz) cheap: MAX_LINES expanded
 * lines, MAX_DEPTH nested includes, 4 MiB per file (script_text.c), only regular
 * files included (not /dev/zero or a FIFO), and include cycles are refused
 * with the FILE:LINE of the include that closes the cycle.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "script_flow.h"

#define MAX_LINES	200000	/* lines after expansion */
#define MAX_DEPTH	16	/* nested includes */
#define MAX_MACROS	256	/* parameters and loop variables in scope */

/* A parameter or loop variable: NAME stands for VALUE. */
struct macro {
	char *name;
	char *value;
	const char *file;	/* where a `param` defined it; NULL: -D or a loop */
	int line;
};

/*
 * A file read once: its name in messages and, per line, the index of the
 * first sline made from that line (-1: none yet), so that a file included
 * many times (from a loop) has its syntax errors reported once.
 */
struct seen {
	struct seen *next;
	char *real;
	const char *name;	/* owned by sfile.files */
	int *first;
	int n;
};

/* One source file, split into lines. */
struct rawfile {
	const char *name;
	char *real;		/* realpath(), for include cycles */
	char *buf;
	char **lines;
	int *first;		/* its struct seen's */
	int n;
};

struct loader {
	struct script *s;
	struct sfile *sf;
	struct macro m[MAX_MACROS];
	int nm;
	struct seen *seen;
	struct rawfile *stack[MAX_DEPTH];	/* files being expanded */
	int depth;
	bool fatal;		/* MAX_LINES reached: stop expanding */
	int loops;		/* repeat/for blocks being expanded */
	int thread;		/* the thread block being expanded, -1, or SLINE_ALWAYS */
	int ngroups;
	bool group_open;	/* the last top-level item was a thread block */
};

/* ---- files ------------------------------------------------------------------- */

static void rawfile_free(struct rawfile *rf)
{
	free(rf->real);
	free(rf->buf);
	free(rf->lines);
	free(rf);
}

/* The struct seen of the file @rf is (a new one the first time). */
static struct seen *seen_get(struct loader *l, struct rawfile *rf, const char *path)
{
	struct seen *sn;
	char **files;

	for (sn = l->seen; sn; sn = sn->next)
		if (!strcmp(sn->real, rf->real) && sn->n == rf->n)
			return sn;
	sn = calloc(1, sizeof(*sn));
	files = realloc(l->sf->files, (l->sf->nfiles + 1) * sizeof(*files));
	if (files)
		l->sf->files = files;
	if (!sn || !files || !(sn->real = strdup(rf->real)) ||
	    !(sn->first = malloc((rf->n ? rf->n : 1) * sizeof(*sn->first))) ||
	    !(files[l->sf->nfiles] = strdup(strcmp(path, "-") ? path : "<stdin>"))) {
		if (sn) {
			free(sn->real);
			free(sn->first);
		}
		free(sn);
		return NULL;
	}
	sn->name = files[l->sf->nfiles++];
	sn->n = rf->n;
	for (int i = 0; i < rf->n; i++)
		sn->first[i] = -1;
	sn->next = l->seen;
	l->seen = sn;
	return sn;
}

static void seen_free(struct loader *l)
{
	while (l->seen) {
		struct seen *sn = l->seen;

		l->seen = sn->next;
		free(sn->real);
		free(sn->first);
		free(sn);
	}
}

/* Read @path and split it into lines. */
static int rawfile_read(struct loader *l, const char *path, struct rawfile **out)
{
	struct rawfile *rf = calloc(1, sizeof(*rf));
	struct seen *sn;
	int cap = 0;

	if (!rf)
		return -ENOMEM;
	errno = 0;
	rf->buf = script_slurp(path);
	if (!rf->buf) {
		int err = errno ? -errno : -ENOMEM;

		rawfile_free(rf);
		return err;
	}
	rf->real = strcmp(path, "-") ? realpath(path, NULL) : strdup("-");
	if (!rf->real)
		goto nomem;
	for (char *line = rf->buf, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (rf->n == cap) {
			char **nl = realloc(rf->lines, (cap = cap ? cap * 2 : 64) * sizeof(*nl));

			if (!nl)
				goto nomem;
			rf->lines = nl;
		}
		rf->lines[rf->n++] = line;
	}
	sn = seen_get(l, rf, path);
	if (!sn)
		goto nomem;
	rf->name = sn->name;
	rf->first = sn->first;
	*out = rf;
	return 0;
nomem:
	rawfile_free(rf);
	return -ENOMEM;
}

/* ---- parameters ---------------------------------------------------------------- */

static bool is_ident_char(int c, bool first)
{
	return isalpha(c) || c == '_' || (!first && isdigit(c));
}

bool script_is_ident(const char *t)
{
	if (!is_ident_char((unsigned char)*t, true))
		return false;
	while (*++t)
		if (!is_ident_char((unsigned char)*t, false))
			return false;
	return true;
}

static struct macro *macro_find(struct loader *l, const char *name, size_t len)
{
	for (int i = l->nm - 1; i >= 0; i--)
		if (strlen(l->m[i].name) == len && !strncmp(l->m[i].name, name, len))
			return &l->m[i];
	return NULL;
}

static int macro_push(struct loader *l, const char *name, const char *value,
		      const char *file, int line)
{
	struct macro *m;

	if (l->nm == MAX_MACROS)
		return script_syntax(l->s, "more than %d parameters and loop variables", MAX_MACROS);
	m = &l->m[l->nm];
	m->name = strdup(name);
	m->value = strdup(value);
	m->file = file;
	m->line = line;
	if (!m->name || !m->value) {
		free(m->name);
		free(m->value);
		return -ENOMEM;
	}
	l->nm++;
	return 0;
}

static void macro_pop(struct loader *l)
{
	l->nm--;
	free(l->m[l->nm].name);
	free(l->m[l->nm].value);
}

/* $SCRATCH: a private directory for this script, made on first use. */
static const char *scratch_dir(struct loader *l)
{
	char tmpl[] = "/tmp/pinmm-script-XXXXXX";

	if (!l->sf->scratch && mkdtemp(tmpl))
		l->sf->scratch = strdup(tmpl);
	return l->sf->scratch;
}

/*
 * Replace every $NAME and ${NAME} in @in by its value.  A '$' that starts
 * no name stays as it is.  Return: the new text (malloc), or NULL with a
 * syntax error recorded (or -ENOMEM in *@err).
 */
static char *substitute(struct loader *l, const char *in, int *err)
{
	struct strbuf sb = { 0 };

	sb_printf(&sb, "%s", "");
	for (const char *p = in; *p; p++) {
		const char *name, *end, *val;
		bool brace;
		struct macro *m;

		if (*p != '$' || !(is_ident_char((unsigned char)p[1], true) || p[1] == '{')) {
			sb_printf(&sb, "%c", *p);
			continue;
		}
		brace = p[1] == '{';
		name = p + 1 + brace;
		for (end = name; is_ident_char((unsigned char)*end, end == name); end++)
			;
		if (brace && (*end != '}' || end == name)) {
			*err = script_syntax(l->s, "'${' must be followed by NAME and '}'");
			goto fail;
		}
		m = macro_find(l, name, end - name);
		if (m)
			val = m->value;
		else if (end - name == 7 && !strncmp(name, "SCRATCH", 7))
			val = scratch_dir(l);
		else
			val = NULL;
		if (!val) {
			*err = script_syntax(l->s, "undefined parameter '$%.*s' (param NAME VALUE, or -D NAME=VALUE)",
					     (int)(end - name), name);
			goto fail;
		}
		sb_printf(&sb, "%s", val);
		p = end - 1 + brace;
	}
	if (!sb.buf)
		*err = -ENOMEM;
	return sb.buf;
fail:
	sb_free(&sb);
	return NULL;
}

/* ---- expansion ------------------------------------------------------------------ */

static int emit(struct loader *l, struct rawfile *rf, int i, char *text, int argc, char **argv)
{
	struct sfile *sf = l->sf;
	struct sline *sl;

	if (sf->nlines == MAX_LINES) {
		free(text);
		script_free_words(argc, argv);
		l->fatal = true;
		return script_syntax(l->s, "the script expands to more than %d lines", MAX_LINES);
	}
	if (sf->nlines == sf->cap) {
		struct sline *nl = realloc(sf->lines, (sf->cap ? sf->cap * 2 : 64) * sizeof(*nl));

		if (!nl)
			goto nomem;
		sf->lines = nl;
		sf->cap = sf->cap ? sf->cap * 2 : 64;
	}
	sl = &sf->lines[sf->nlines];
	sl->argv = malloc(argc * sizeof(char *));
	if (!sl->argv)
		goto nomem;
	memcpy(sl->argv, argv, argc * sizeof(char *));
	sl->file = rf->name;
	sl->no = i + 1;
	sl->origin = rf->first[i];
	sl->bad = false;
	sl->thread = l->thread;
	if (l->thread < 0)
		l->group_open = false;	/* a line between blocks ends their group */
	if (rf->first[i] < 0)
		rf->first[i] = sf->nlines;
	sl->text = text;
	sl->argc = argc;
	sf->nlines++;
	return 0;
nomem:
	free(text);
	script_free_words(argc, argv);
	return -ENOMEM;
}

/* Report the syntax error recorded in s->errmsg at @file:@no. */
static int report(struct loader *l, const char *file, int no, int rc)
{
	if (rc == SCRIPT_SYNTAX) {
		l->s->file = file;
		l->s->line = no;
		script_error(l->s, "syntax error: %s", l->s->errmsg);
	}
	return rc;
}

/* Line @i of @rf opens a block (`repeat N {`, `for V in ... {`, `thread NAME {`)? */
static bool opens_block(int argc, char **argv)
{
	return argc >= 2 && !strcmp(argv[argc - 1], "{") &&
	       (!strcmp(argv[0], "repeat") || !strcmp(argv[0], "for") ||
		!strcmp(argv[0], "thread") || !strcmp(argv[0], "always"));
}

static bool closes_block(int argc, char **argv)
{
	return argc == 1 && !strcmp(argv[0], "}");
}

/* The raw words of line @i of @rf (before substitution). Return: argc or -1. */
static int raw_words(struct rawfile *rf, int i, char **argv)
{
	const char *err;

	return script_lex_line(rf->lines[i], argv, &err);
}

/* The line after the '}' that closes the block opened on line @open, or -1. */
static int block_end(struct rawfile *rf, int open, int hi)
{
	char *argv[MAX_TOKENS];
	int depth = 1;

	for (int i = open + 1; i < hi; i++) {
		int argc = raw_words(rf, i, argv);

		if (argc > 0) {
			depth += opens_block(argc, argv);
			depth -= closes_block(argc, argv);
		}
		script_free_words(argc > 0 ? argc : 0, argv);
		if (depth == 0)
			return i;
	}
	return -1;
}

static int expand(struct loader *l, struct rawfile *rf, int lo, int hi);
static int expand_file(struct loader *l, const char *path, const char *from, int from_line);

static int do_repeat(struct loader *l, struct rawfile *rf, int i, int end, int argc, char **argv)
{
	long long n;
	int rc = 0;

	if (argc != 3)
		return script_syntax(l->s, "usage: repeat COUNT {");
	if (arg_int(l->s, argv[1], &n))
		return SCRIPT_SYNTAX;
	if (n < 0 || n > MAX_LINES)
		return script_syntax(l->s, "repeat count %lld outside 0..%d", n, MAX_LINES);
	l->loops++;
	for (long long k = 0; k < n && rc == 0 && !l->fatal; k++)
		rc = expand(l, rf, i + 1, end);
	l->loops--;
	return rc;
}

static int do_for(struct loader *l, struct rawfile *rf, int i, int end, int argc, char **argv)
{
	int rc = 0;

	if (argc < 4 || strcmp(argv[2], "in"))
		return script_syntax(l->s, "usage: for NAME in WORD... {");
	if (!script_is_ident(argv[1]))
		return script_syntax(l->s, "'%s' is not a NAME for a loop variable", argv[1]);
	for (int k = 3; k < argc - 1 && rc == 0; k++) {
		rc = macro_push(l, argv[1], argv[k], NULL, 0);
		if (rc)
			return rc;
		l->loops++;
		rc = expand(l, rf, i + 1, end);
		l->loops--;
		macro_pop(l);
	}
	return rc;
}

/*
 * `thread NAME {`: the block's lines run on their own CPU (a pthread, or a
 * participant of the explorer); consecutive blocks form one group.
 */
static int do_thread(struct loader *l, struct rawfile *rf, int i, int end, int argc, char **argv)
{
	struct sfile *sf = l->sf;
	struct sthread *st;
	int group, rc, in_group = 0;

	if (argc != 3)
		return script_syntax(l->s, "usage: thread NAME {");
	if (!script_is_ident(argv[1]))
		return script_syntax(l->s, "'%s' is not a NAME for a thread", argv[1]);
	if (l->loops)
		return script_syntax(l->s, "thread %s: a thread block cannot be inside "
				     "repeat or for", argv[1]);
	group = l->group_open ? l->ngroups - 1 : l->ngroups;
	for (int k = 0; k < sf->nthreads; k++) {
		if (sf->threads[k].group != group)
			continue;
		if (!strcmp(sf->threads[k].name, argv[1]))
			return script_syntax(l->s, "thread %s already defined at %s:%d", argv[1],
					     sf->threads[k].file, sf->threads[k].no);
		in_group++;
	}
	if (in_group == SCRIPT_MAX_THREADS)
		return script_syntax(l->s, "more than %d thread blocks in one group",
				     SCRIPT_MAX_THREADS);
	st = realloc(sf->threads, (sf->nthreads + 1) * sizeof(*st));
	if (!st)
		return -ENOMEM;
	sf->threads = st;
	st = &sf->threads[sf->nthreads];
	st->name = strdup(argv[1]);
	if (!st->name)
		return -ENOMEM;
	st->file = rf->name;
	st->no = i + 1;
	st->group = group;
	if (!l->group_open)
		l->ngroups++;
	l->thread = sf->nthreads++;
	rc = expand(l, rf, i + 1, end);
	l->thread = -1;
	l->group_open = true;
	return rc;
}

/* `always {`: checks that hold between the steps of the thread group. */
static int do_always(struct loader *l, struct rawfile *rf, int i, int end, int argc)
{
	int rc;

	if (argc != 2)
		return script_syntax(l->s, "usage: always {");
	if (l->loops)
		return script_syntax(l->s, "an always block cannot be inside repeat or for");
	l->thread = SLINE_ALWAYS;
	rc = expand(l, rf, i + 1, end);
	l->thread = -1;
	return rc;
}

/*
 * What may not stand in a thread block: words about the whole script or
 * machine, and the pictures (`snapshot`, `step`: one numbered sequence of
 * the main line).
 */
static const char *const not_in_thread[] = {
	"thread", "boot", "include", "shutdown", "snapshot", "step", NULL
};

/* `param NAME VALUE...`: a default that -D NAME=VALUE overrides. */
static int do_param(struct loader *l, struct rawfile *rf, int i, const char *text)
{
	const char *p = text + strlen("param");
	const char *name, *end;
	struct macro *m;
	char *nm;
	int rc;

	while (isspace((unsigned char)*p))
		p++;
	name = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	end = p;
	while (isspace((unsigned char)*p))
		p++;
	if (end == name || !*p)
		return script_syntax(l->s, "usage: param NAME DEFAULT...");
	nm = strndup(name, end - name);
	if (!nm)
		return -ENOMEM;
	if (!script_is_ident(nm)) {
		rc = script_syntax(l->s, "'%s' is not a parameter NAME", nm);
		free(nm);
		return rc;
	}
	m = macro_find(l, nm, strlen(nm));
	if (!m || m->file == NULL) {
		rc = m ? 0 : macro_push(l, nm, p, rf->name, i + 1);
	} else if (m->file == rf->name && m->line == i + 1) {
		rc = 0;		/* the same line again (a loop, an include) */
	} else {
		rc = script_syntax(l->s, "parameter %s already defined at %s:%d", nm, m->file, m->line);
	}
	free(nm);
	return rc;
}

/* Handle line @i of @rf; *@next is where expansion goes on. */
static int expand_line(struct loader *l, struct rawfile *rf, int i, int hi, int *next)
{
	char *raw[MAX_TOKENS], *argv[MAX_TOKENS], *text = NULL, *stripped;
	const char *err = "out of memory";
	int rawc, argc, rc = 0, end;

	*next = i + 1;
	l->s->file = rf->name;
	l->s->line = i + 1;
	rawc = script_lex_line(rf->lines[i], raw, &err);
	if (rawc < 0)
		return script_syntax(l->s, "%s", err);
	if (rawc == 0)
		return 0;
	stripped = script_strip_comment(rf->lines[i]);
	if (stripped)
		text = substitute(l, stripped, &rc);
	else
		rc = -ENOMEM;
	free(stripped);
	if (!text)
		goto out_raw;
	if (closes_block(rawc, raw)) {
		rc = script_syntax(l->s, "'}' without a block to close");
		goto out_raw;
	}
	if (l->thread != -1) {
		for (int k = 0; not_in_thread[k]; k++) {
			if (strcmp(raw[0], not_in_thread[k]) && strcmp(raw[0], "always"))
				continue;
			if (l->thread == SLINE_ALWAYS)
				rc = script_syntax(l->s, "'%s' inside an always block (it holds "
						   "checks of the booted machine)", raw[0]);
			else
				rc = script_syntax(l->s, "'%s' inside thread %s (a thread block "
						   "runs commands of one CPU on the booted machine)",
						   raw[0], l->sf->threads[l->thread].name);
			/* A nested block is skipped whole: its '}' is not an error of its own. */
			end = opens_block(rawc, raw) ? block_end(rf, i, hi) : -1;
			if (end >= 0)
				*next = end + 1;
			goto out_raw;
		}
	}
	if ((!strcmp(raw[0], "repeat") || !strcmp(raw[0], "for")) && !opens_block(rawc, raw)) {
		rc = script_syntax(l->s, "usage: repeat COUNT { | for NAME in WORD... {   ('{' ends the line)");
		goto out_raw;
	}
	if (!strcmp(raw[0], "thread") && !opens_block(rawc, raw)) {
		rc = script_syntax(l->s, "usage: thread NAME {   ('{' ends the line)");
		goto out_raw;
	}
	if (!strcmp(raw[0], "always") && !opens_block(rawc, raw)) {
		rc = script_syntax(l->s, "usage: always {   ('{' ends the line)");
		goto out_raw;
	}
	if (!strcmp(raw[0], "param")) {
		rc = do_param(l, rf, i, text);
		goto out_raw;
	}
	argc = script_lex_line(text, argv, &err);
	if (argc < 0) {
		rc = script_syntax(l->s, "%s", err);
		goto out_raw;
	}
	if (opens_block(rawc, raw)) {
		end = block_end(rf, i, hi);
		if (end < 0) {
			rc = script_syntax(l->s, "'{' is never closed (a line '}' ends the block)");
		} else {
			*next = end + 1;
			if (!strcmp(raw[0], "repeat"))
				rc = do_repeat(l, rf, i, end, argc, argv);
			else if (!strcmp(raw[0], "thread"))
				rc = do_thread(l, rf, i, end, argc, argv);
			else if (!strcmp(raw[0], "always"))
				rc = do_always(l, rf, i, end, argc);
			else
				rc = do_for(l, rf, i, end, argc, argv);
		}
		script_free_words(argc, argv);
	} else if (!strcmp(raw[0], "include")) {
		if (argc != 2)
			rc = script_syntax(l->s, "usage: include FILE");
		else
			rc = expand_file(l, argv[1], rf->name, i + 1);
		script_free_words(argc, argv);
	} else if (argc > 0) {
		rc = emit(l, rf, i, text, argc, argv);
		text = NULL;
	} else {
		script_free_words(argc, argv);
	}
out_raw:
	free(text);
	script_free_words(rawc, raw);
	return rc;
}

/* Expand lines [@lo, @hi) of @rf; stops at the first error (reported). */
static int expand(struct loader *l, struct rawfile *rf, int lo, int hi)
{
	int bad = 0;

	for (int i = lo, next; i < hi; i = next) {
		int rc = expand_line(l, rf, i, hi, &next);

		if (rc == SCRIPT_SYNTAX && l->s->errmsg[0]) {
			report(l, rf->name, i + 1, rc);
			l->s->errmsg[0] = '\0';
			bad = 1;
			/* A block or include that failed inside reported already. */
		} else if (rc == SCRIPT_SYNTAX) {
			bad = 1;
		} else if (rc) {
			return rc;
		}
		if (l->fatal)
			break;
	}
	return bad ? SCRIPT_SYNTAX : 0;
}

/* Read and expand the file @path, included from @from:@from_line (or the top). */
static int expand_file(struct loader *l, const char *path, const char *from, int from_line)
{
	struct rawfile *rf;
	struct stat st;
	unsigned char *dec = NULL;
	char *name, *full;
	size_t len;
	int rc;

	if (from) {
		/* A quoted name: decode it as data ("a b.pinmm"). */
		if (path[0] == '"') {
			rc = arg_data(l->s, path, &dec, &len);
			if (rc)
				return rc;
			if (memchr(dec, '\0', len) || !len) {
				free(dec);
				return script_syntax(l->s, "include: bad file name");
			}
			name = strndup((char *)dec, len);
			free(dec);
		} else {
			name = strdup(path);
		}
		full = name ? script_relative_path(from, name) : NULL;
		free(name);
		if (!full)
			return -ENOMEM;
		if (l->depth == MAX_DEPTH) {
			free(full);
			return script_syntax(l->s, "includes nested deeper than %d", MAX_DEPTH);
		}
	} else {
		full = strdup(path);
		if (!full)
			return -ENOMEM;
	}
	if (from && (stat(full, &st) == 0 && !S_ISREG(st.st_mode))) {
		rc = script_syntax(l->s, "include %s: not a regular file", full);
		free(full);
		return rc;
	}
	rc = rawfile_read(l, full, &rf);
	if (rc) {
		if (from)
			rc = script_syntax(l->s, "include %s: %s", full, strerror(-rc));
		free(full);
		return rc;
	}
	free(full);
	for (int d = 0; d < l->depth; d++) {
		if (strcmp(l->stack[d]->real, rf->real))
			continue;
		rc = script_syntax(l->s, "include cycle: %s is already being read (included at %s:%d)",
				   rf->name, from, from_line);
		rawfile_free(rf);
		return rc;
	}
	l->stack[l->depth++] = rf;
	rc = expand(l, rf, 0, rf->n);
	l->depth--;
	rawfile_free(rf);
	/* Errors inside were reported with their own FILE:LINE. */
	if (rc == SCRIPT_SYNTAX)
		l->s->errmsg[0] = '\0';
	return rc;
}

int script_load(struct script *s, const char *path, struct sfile *sf)
{
	struct loader l = { .s = s, .sf = sf, .thread = -1 };
	int rc = 0;

	s->errmsg[0] = '\0';
	for (int i = 0; i < s->opts->ndefines && rc == 0; i++) {
		const char *d = s->opts->defines[i], *eq = strchr(d, '=');
		char *name = eq ? strndup(d, eq - d) : NULL;

		if (name && script_is_ident(name))
			rc = macro_push(&l, name, eq + 1, NULL, 0);
		free(name);
	}
	if (rc == 0)
		rc = expand_file(&l, path, NULL, 0);
	while (l.nm)
		macro_pop(&l);
	seen_free(&l);
	return rc;
}

void script_unload(struct sfile *sf)
{
	for (int i = 0; i < sf->nlines; i++) {
		script_free_words(sf->lines[i].argc, sf->lines[i].argv);
		free(sf->lines[i].argv);
		free(sf->lines[i].text);
	}
	free(sf->lines);
	for (int i = 0; i < sf->nfiles; i++)
		free(sf->files[i]);
	free(sf->files);
	for (int i = 0; i < sf->nthreads; i++)
		free(sf->threads[i].name);
	free(sf->threads);
	if (sf->scratch) {
		script_remove_dir(sf->scratch);
		free(sf->scratch);
	}
	memset(sf, 0, sizeof(*sf));
}
