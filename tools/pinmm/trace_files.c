/* SPDX-License-Identifier: MIT */
/*
 * trace_files.c - the trace files of a command that boots several machines
 * (`pinmm run --trace FILE`, `pinmm demo --trace FILE`; doc/TRACING.md).
 *
 * Every machine gets its own file, named in boot order: the first FILE,
 * the N-th FILE with "-N" put before a ".json" ending (or appended), so
 * trace.json, trace-2.json, trace-3.json.  The commands set the machine's
 * trace.file key with trace_files_next() before pinmm_boot(); the HTML
 * report finds the files again with trace_file_name().
 *
 * Single-threaded: the commands boot their machines from one thread.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

/**
 * trace_file_name() - the trace file of the @n-th machine of @base.
 * @base: FILE as given to --trace.
 * @n: 1 for the first machine.
 * @out, @len: where the name goes.
 *
 * Context: any.
 * Return: 0, or -ENAMETOOLONG when the name does not fit @len.
 */
int trace_file_name(const char *base, int n, char *out, size_t len)
{
	size_t blen = strlen(base), stem = blen;
	int w;

	if (n == 1) {
		w = snprintf(out, len, "%s", base);
	} else {
		if (blen > 5 && !strcmp(base + blen - 5, ".json"))
			stem = blen - 5;
		w = snprintf(out, len, "%.*s-%d%s", (int)stem, base, n, base + stem);
	}
	return w < 0 || (size_t)w >= len ? -ENAMETOOLONG : 0;
}

/**
 * trace_files_next() - set trace.file of the next machine @t boots.
 * @t: the command's trace files; nothing happens when @t->base is NULL.
 * @cfg: the configuration about to be booted.
 *
 * Counts the machine: the HTML report draws @t->boots files.
 * Context: before pinmm_boot(), from the command's thread.
 * Return: 0, or the -errno of pinmm_config_set().
 */
int trace_files_next(struct trace_files *t, struct pinmm_config *cfg)
{
	char path[PINMM_PATH_MAX];
	int rc;

	if (!t->base)
		return 0;
	rc = trace_file_name(t->base, t->boots + 1, path, sizeof(path));
	if (!rc)
		rc = pinmm_config_set(cfg, "trace.file", path);
	if (!rc)
		t->boots++;
	return rc;
}
