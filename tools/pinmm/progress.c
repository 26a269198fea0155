/* SPDX-License-Identifier: MIT */
/*
 * progress.c - the tool's progress line (progress.h).
 *
 * Owns nothing but a line of standard error while a long run goes on.  The
 * line starts with "\r" and ends with an erase-to-end-of-line, so the next
 * update overwrites it; progress_clear() erases it before the run prints
 * its results or a message must start on a clean line.  Everything here is
 * a no-op unless isatty(STDERR_FILENO) said yes at progress_begin().
 * Single-threaded: the caller's main loop updates it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/**
 * progress_begin() - start a progress line for a run called @what.
 * @total: the number of steps progress_step() will count, or 0.
 *
 * Context: the run's main thread.
 */
void progress_begin(struct progress *p, const char *what, long total)
{
	p->on = isatty(STDERR_FILENO);
	p->what = what;
	p->total = total;
	p->done = 0;
	p->last_ms = 0;
	p->shown = false;
}

static void draw(struct progress *p, const char *fmt, va_list ap)
{
	fprintf(stderr, "\r%s: ", p->what);
	if (p->total > 0)
		fprintf(stderr, "[%ld/%ld] ", p->done, p->total);
	vfprintf(stderr, fmt, ap);
	fputs("\033[K", stderr);
	fflush(stderr);
	p->shown = true;
	p->last_ms = mono_ms();
}

/**
 * progress_step() - one more step begins; the line names it.
 * @fmt: what the step is, printf-style.
 *
 * Context: the run's main thread.
 */
void progress_step(struct progress *p, const char *fmt, ...)
{
	va_list ap;

	p->done++;
	if (!p->on)
		return;
	va_start(ap, fmt);
	draw(p, fmt, ap);
	va_end(ap);
}

/**
 * progress_show() - rewrite the line, at most once per @interval_ms.
 * @fmt: the state to show, printf-style.
 *
 * Context: the run's main thread.
 */
void progress_show(struct progress *p, long interval_ms, const char *fmt, ...)
{
	va_list ap;

	if (!p->on || (p->shown && mono_ms() - p->last_ms < interval_ms))
		return;
	va_start(ap, fmt);
	draw(p, fmt, ap);
	va_end(ap);
}

/**
 * progress_clear() - erase the line, if one is shown.
 *
 * Context: the run's main thread, before printing results or a message.
 */
void progress_clear(struct progress *p)
{
	if (!p->on || !p->shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->shown = false;
}
