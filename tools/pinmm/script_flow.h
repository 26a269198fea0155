/* SPDX-License-Identifier: MIT */
/*
 * script_flow.h - loading a script: lexing, parameters, `include`, and the
 * `repeat` / `for` blocks, expanded into the flat list of lines that the
 * runner (script.c) checks and runs.  Only script.c, script_flow.c and
 * script_text.c include it.
 */
#ifndef PINMM_SCRIPT_FLOW_H
#define PINMM_SCRIPT_FLOW_H

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
 */
struct sline {
	const char *file;
	int no;
	int origin;
	bool bad;
	char *text;
	int argc;
	char **argv;
};

/* struct sfile - a loaded script: its expanded lines and what they point to. */
struct sfile {
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
