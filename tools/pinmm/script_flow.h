/* SPDX-License-Identifier: MIT */
/*
 * script_flow.h - loading a script: lexing, parameters, `include`, and the
 * `repeat` / `for` blocks, expanded into the flat list of lines that the
 * runner (script.c) checks and runs.  Only script.c, script_flow.c and
 * script_text.c include it.
 */
#ifndef PINMM_SCRIPT_FLOW_H
#define PINMM_SCRIPT_FLOW_H

#include <pthread.h>
#include <stdatomic.h>

#include "tool.h"

/* The most words one line may have. */
#define MAX_TOKENS 64

/*
 * struct sline - one command line after expansion.
 * @file: the file the line comes from (an included file's own name).
 * @no: its line number in @file.
 * @text: the line with comment and blanks stripped and parameters
 *	substituted, for messages and TAP.
 * @argc, @argv: its raw tokens (quotes kept; decoded by the argument helpers).
 * @origin: index of the first copy of the same source line when this one
 *	is a later copy (a loop's next iteration), else -1: a syntax error
 *	of a copy is reported once, at the first copy that has it.
 * @bad: the pre-check reported a syntax error on this line.
 * @thread: index in sfile.threads of the `thread NAME { }` block the line
 *	is in, -1 (setup and checks: the main line of the script), or
 *	SLINE_ALWAYS in an `always { }` block (run after each group's join,
 *	and under `pinmm explore --check-every-step` between steps).
 */
#define SLINE_ALWAYS	(-2)
struct sline {
	const char *file;
	int no;
	int origin;
	bool bad;
	int thread;
	char *text;
	int argc;
	char **argv;
};

/*
 * struct sthread - one `thread NAME { ... }` block.
 * @name: NAME; @file, @no: where its block opens.
 * @group: consecutive blocks form a group (0, 1, ...): they run together
 *	and are joined before the next line of the script.
 */
struct sthread {
	char *name;
	const char *file;
	int no;
	int group;
};

/* struct sfile - a loaded script: its expanded lines and what they point to. */
struct sfile {
	struct sthread *threads;	/* the thread blocks, in order */
	int nthreads;
	struct sline *lines;
	int nlines, cap;
	char **files;		/* names of the files read, for sline.file */
	int nfiles;
	char *scratch;		/* the $SCRATCH directory, or NULL */
};

/*
 * script_load() - read the script @path ("-": stdin) and expand it into @sf.
 * Syntax errors are reported (FILE:LINE) as they are found.
 * Return: 0, SCRIPT_SYNTAX, or -errno (the file cannot be read: -ENOENT...).
 */
int script_load(struct script *s, const char *path, struct sfile *sf);
/* script_unload() - free @sf and remove its $SCRATCH directory. */
void script_unload(struct sfile *sf);

/* The most thread blocks one group may have (the explorer's limit too). */
#define SCRIPT_MAX_THREADS 8

/*
 * script_run_line() - run one line of @sf as @s (script.c).
 * Return: 0, EXIT_FAIL or EXIT_USAGE (the error is reported).
 */
int script_run_line(struct script *s, struct sline *sl);

/*
 * script_prepare() - load @path into @sf and pre-check every line (syntax
 * errors reported with FILE:LINE).  Return: 0, EXIT_USAGE, or -errno when
 * the file cannot be read.
 */
int script_prepare(struct script *s, const char *path, struct sfile *sf);

/*
 * script_run_group() - run the thread group that starts at line @first of
 * @sf, one pthread per block, free-running, and join them (script_thread.c).
 * *@next is the first line after the group.  A thread still running at
 * the deadline ends the process (EXIT_FAIL) with its FILE:LINE.
 * Return: EXIT_OK, EXIT_FAIL or EXIT_USAGE (the worst of the threads).
 */
int script_run_group(struct script *s, struct sfile *sf, int first, int *next);

/*
 * The group of line @first: its lines are [@first, *@end), its blocks
 * sf->threads[*@t0 .. *@t0 + return value).  Return: the number of blocks.
 */
int script_group_span(const struct sfile *sf, int first, int *end, int *t0);

/*
 * script_run_always() - run the `always { }` lines of @sf before line
 * @upto as @s.  Return: EXIT_OK, EXIT_FAIL or EXIT_USAGE.
 */
int script_run_always(struct script *s, struct sfile *sf, int upto);

/*
 * struct script_thread - the runner's state of one thread block while it
 * runs: its own copy of the script (line, message, bind, current process,
 * variables it sets), the main script it came from, and its lines.
 */
struct script_thread {
	struct script s;
	struct script *main;
	const struct sthread *st;
	struct sfile *sf;
	int idx;			/* in sf->threads */
	int lo, hi;			/* its group's lines */
	_Atomic int at;			/* line being run, for the deadline */
	int status;
	pthread_t th;
	bool done;
};

/* Begin @t from @main's current state (before the group starts). */
void script_thread_begin(struct script_thread *t, struct script *main, struct sfile *sf,
			 int idx, int lo, int hi);
/* Run @t's lines; the first error stops it.  Return: its status. */
int script_thread_lines(struct script_thread *t);
/* After the join: @t's variables and expectation counts go to its main script. */
void script_thread_end(struct script_thread *t);

/* The text of scripts (script_text.c). */
int script_lex_line(const char *line, char **argv, const char **err);
void script_free_words(int argc, char **argv);
char *script_strip_comment(const char *line);
char *script_slurp(const char *path);
char *script_relative_path(const char *from, const char *name);
void script_remove_dir(const char *dir);

/* script_is_ident() - is @t a NAME: [A-Za-z_][A-Za-z0-9_]*? */
bool script_is_ident(const char *t);

/* script_error() - print "FILE:LINE: message" (and a TAP "not ok" point). */
void script_error(struct script *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* PINMM_SCRIPT_FLOW_H */
