/* SPDX-License-Identifier: MIT */
/*
 * explore_script.h - `pinmm explore FILE`: a script's thread group as a race
 * program (explore_script.c, doc/EXPLORE.md "Races as scripts").
 */
#ifndef PINMM_TOOL_EXPLORE_SCRIPT_H
#define PINMM_TOOL_EXPLORE_SCRIPT_H

#include <pinmm/explore.h>
#include "tool.h"

/*
 * explore_script_load() - load and pre-check the script @path with the
 * parameters @defines (NAME=VALUE), and describe it as @prog.  Errors
 * (syntax, no or several thread groups) are printed with FILE:LINE.
 * Return: EXIT_OK, or EXIT_USAGE.
 */
int explore_script_load(const char *path, const char *const *defines, int ndefines,
			struct pinmm_explore_prog *prog);

/* explore_script_unload() - free what explore_script_load() read. */
void explore_script_unload(void);

#endif /* PINMM_TOOL_EXPLORE_SCRIPT_H */
