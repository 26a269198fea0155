/* SPDX-License-Identifier: MIT */
/*
 * symbolize.h - code addresses to function names, and call traces
 * (src/kernel/symbolize.c).
 *
 * Used by the WARN/BUG splats (bug.c) and by pin provenance (mm/provenance.c)
 * so that both name functions rather than raw addresses.
 */
#ifndef PINMM_SYMBOLIZE_H
#define PINMM_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* How to name a code address (pinmm_symbolize()). */
enum {
	SYM_RETURN_ADDR = 1 << 0,	/* @addr is a return address: its line is the call's */
	SYM_SHORT_FILE = 1 << 1,	/* only the base name of the source file */
};

int pinmm_symbolize(const void *addr, unsigned int flags, char *buf, size_t len);
void pinmm_dump_stack(FILE *out, const void *from);

#endif /* PINMM_SYMBOLIZE_H */
