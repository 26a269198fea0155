/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h - the differential fuzzer of `pinmm fuzz --diff` (doc/DIFF.md
 * "Differential fuzzing"): the program generator (fuzz_gen.c), the
 * delta-debugging shrinker (fuzz_shrink.c) and the command (fuzz_cmd.c).
 * fuzz_gen.c and fuzz_shrink.c need only the C library, so that a test can
 * build the shrinker on its own.
 */
#ifndef PINMM_TOOL_FUZZ_H
#define PINMM_TOOL_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * fuzz_gen() - program @index of seed @seed as the text of a script
 * (malloc'ed, lines ended by '\n'); the same seed and index give the same
 * text byte for byte.  Return: the text, or NULL when out of memory.
 */
char *fuzz_gen(uint64_t seed, uint64_t index);

/*
 * A program as lines for the shrinker.  @keep[i] false means line i is
 * dropped; fuzz_prog_text() joins the kept lines.  Comment lines ('#')
 * and the "boot" line are never dropped.
 */
struct fuzz_prog {
	char **line;
	int n;
};

int fuzz_prog_split(const char *text, struct fuzz_prog *p);
void fuzz_prog_free(struct fuzz_prog *p);
char *fuzz_prog_text(const struct fuzz_prog *p, const bool *keep);

/*
 * The shrinker's question: does the program made of the kept lines still
 * show the difference?  @arg is the caller's.
 */
typedef bool (*fuzz_pred)(const struct fuzz_prog *p, const bool *keep, void *arg);

int fuzz_shrink(const struct fuzz_prog *p, bool *keep, fuzz_pred pred, void *arg,
		long *tests);

#endif /* PINMM_TOOL_FUZZ_H */
