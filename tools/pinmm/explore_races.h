/* SPDX-License-Identifier: MIT */
/*
 * explore_races.h - the built-in race programs of `pinmm explore`
 * (explore_races.c, doc/EXPLORE.md "The races").
 */
#ifndef PINMM_TOOL_EXPLORE_RACES_H
#define PINMM_TOOL_EXPLORE_RACES_H

#include <pinmm/explore.h>
#include "tool.h"

/*
 * struct explore_race - a race program and how it is documented.
 * @prog: the program (its setup sets @legacy_key from its legacy flag).
 * @legacy_key: the configuration key restoring the pre-fix decision (or
 *	key=value when an existing key is the switch).
 * @summary: one line for `pinmm explore --list`.
 */
struct explore_race {
	struct pinmm_explore_prog prog;
	const char *legacy_key;
	const char *summary;
};

/* Terminated by an entry whose prog.name is NULL. */
extern const struct explore_race explore_races[];
const struct explore_race *explore_race_find(const char *name);

#endif /* PINMM_TOOL_EXPLORE_RACES_H */
