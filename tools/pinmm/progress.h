/* SPDX-License-Identifier: MIT */
/*
 * progress.h - one progress line for the tool's long runs (progress.c).
 *
 * `pinmm demo`, `bench`, `tracking` and `torture` report where they are on
 * a line of standard error that is rewritten in place ("\r", erase to the
 * end of line) -- only when standard error is a terminal.  In a pipe or a
 * file nothing of it is written, not even the erasing.
 */
#ifndef PINMM_TOOL_PROGRESS_H
#define PINMM_TOOL_PROGRESS_H

#include <stdbool.h>

struct progress {
	bool on;		/* standard error is a terminal */
	const char *what;	/* "pinmm demo" */
	long total;		/* steps, or 0 when not counted */
	long done;		/* steps taken */
	long long last_ms;	/* when the line was last written */
	bool shown;		/* a line is on the screen */
};

void progress_begin(struct progress *p, const char *what, long total);
void progress_step(struct progress *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void progress_show(struct progress *p, long interval_ms, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void progress_clear(struct progress *p);

#endif /* PINMM_TOOL_PROGRESS_H */
