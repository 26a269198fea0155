/* SPDX-License-Identifier: MIT */
/*
 * script_text.c - the text of scripts: reading a file (at most
 * MAX_FILE_BYTES, so that `include /dev/zero` or a huge file cannot eat
 * the host's memory), splitting a line into words, stripping its comment,
 * where an included file is, and removing a script's $SCRATCH directory.
 * The loader (script_flow.c) builds the expanded script from these.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "script_flow.h"

#define MAX_FILE_BYTES	(4 << 20)	/* one script or included file */

/* ---- lexer ------------------------------------------------------------------ */

/*
 * Split @line into raw tokens (quotes kept, decoded later by the argument
 * helpers).  A '#' outside quotes starts a comment.  Return: the number of
 * tokens, or -1 with @err set.
 */
int script_lex_line(const char *line, char **argv, const char **err)
{
	const char *p = line;
	int argc = 0;

	for (;;) {
		const char *start;
		bool inq = false;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			return argc;
		if (argc == MAX_TOKENS) {
			*err = "too many words on one line";
			goto fail;
		}
		start = p;
		while (*p && (inq || (!isspace((unsigned char)*p) && *p != '#'))) {
			if (inq && *p == '\\' && p[1])
				p++;
			else if (*p == '"')
				inq = !inq;
			p++;
		}
		if (inq) {
			*err = "unterminated string";
			goto fail;
		}
		argv[argc] = strndup(start, p - start);
		if (!argv[argc]) {
			*err = "out of memory";
			goto fail;
		}
		argc++;
	}
fail:
	while (argc > 0)
		free(argv[--argc]);
	return -1;
}

void script_free_words(int argc, char **argv)
{
	while (argc > 0)
		free(argv[--argc]);
}

/* The text of @line without its comment and surrounding blanks. */
char *script_strip_comment(const char *line)
{
	const char *p = line, *end;
	bool inq = false;

	while (isspace((unsigned char)*p))
		p++;
	for (end = p; *end && (inq || *end != '#'); end++) {
		if (inq && *end == '\\' && end[1])
			end++;
		else if (*end == '"')
			inq = !inq;
	}
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	return strndup(p, end - p);
}

/* ---- files ------------------------------------------------------------------- */

/*
 * script_slurp() - the whole of @path ("-": stdin), NUL-terminated.
 * Return: the text (malloc), or NULL with errno set (EFBIG past
 * MAX_FILE_BYTES, EIO on a read error, or the open's error).
 */
char *script_slurp(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	size_t len = 0, cap = 4096;
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(cap);
	while (buf) {
		size_t n = fread(buf + len, 1, cap - len - 1, f);

		len += n;
		if (n == 0)
			break;
		if (len > MAX_FILE_BYTES) {
			free(buf);
			buf = NULL;
			errno = EFBIG;
			break;
		}
		if (cap - len - 1 == 0) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (buf && ferror(f)) {
		free(buf);
		buf = NULL;
		errno = EIO;
	}
	if (f != stdin)
		fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

/*
 * script_relative_path() - the path of @name relative to the directory of
 * the file @from (an absolute @name, or @from "<stdin>" or NULL: @name).
 * Return: the path (malloc), or NULL when out of memory.
 */
char *script_relative_path(const char *from, const char *name)
{
	char *dir, *copy, *out = NULL;

	if (name[0] == '/' || !from || !strcmp(from, "<stdin>"))
		return strdup(name);
	copy = strdup(from);
	if (!copy)
		return NULL;
	dir = dirname(copy);
	if (!strcmp(dir, "."))
		out = strdup(name);
	else if (asprintf(&out, "%s/%s", dir, name) < 0)
		out = NULL;
	free(copy);
	return out;
}

/* script_remove_dir() - remove the files of directory @dir, then @dir. */
void script_remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char *p;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (asprintf(&p, "%s/%s", dir, e->d_name) >= 0) {
			unlink(p);
			free(p);
		}
	}
	if (d)
		closedir(d);
	rmdir(dir);
}
