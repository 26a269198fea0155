/* SPDX-License-Identifier: MIT */
/*
 * bug.c - BUG() and WARN(): the reporting half of bug.h.
 *
 * Owns the process-global warning counter and the count of booted (and of
 * quiet) machines: whether a splat is printed is decided by the machines
 * that are booted (cfg.quiet, pinmm_machines_quiet()); counting never
 * stops.  Does not own the checks themselves (the VM_* macros at their call
 * sites) nor dump_page(), which knows struct page (mm/debug.c).  A printed
 * splat ends with the call trace, functions named (symbolize.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bug.h"
#include "explore.h"
#include "machine.h"
#include "symbolize.h"

/* WARNs since the process started, all machines.  Atomic, relaxed. */
static atomic_long_t pinmm_warnings;
/* Booted machines, and those booted with quiet=1 (mm_init.c's registry). */
static _Atomic int nr_machines;
static _Atomic int nr_quiet_machines;

/**
 * pinmm_warn_machine_add() - count a booted machine for WARN printing.
 * @quiet: its cfg.quiet.
 *
 * Context: boot, under the machine registry lock.
 */
void pinmm_warn_machine_add(bool quiet)
{
	atomic_fetch_add(&nr_machines, 1);
	if (quiet)
		atomic_fetch_add(&nr_quiet_machines, 1);
}

/**
 * pinmm_warn_machine_del() - undo pinmm_warn_machine_add() at shutdown.
 * @quiet: the machine's cfg.quiet.
 *
 * Context: shutdown, under the machine registry lock.
 */
void pinmm_warn_machine_del(bool quiet)
{
	atomic_fetch_sub(&nr_machines, 1);
	if (quiet)
		atomic_fetch_sub(&nr_quiet_machines, 1);
}

/**
 * pinmm_machines_quiet() - whether WARN splats are suppressed.
 *
 * Context: any; lock-free.
 * Return: true when at least one machine is booted and every booted
 * machine was booted with quiet=1.
 */
bool pinmm_machines_quiet(void)
{
	int n = atomic_load_explicit(&nr_machines, memory_order_relaxed);

	return n > 0 && atomic_load_explicit(&nr_quiet_machines, memory_order_relaxed) == n;
}

/**
 * pinmm_bug() - report a BUG_ON() and abort the process.
 * @file: source file of the check
 * @line: its line
 * @cond: the text of the condition that was true
 *
 * Context: any.  Never returns.
 */
void pinmm_bug(const char *file, int line, const char *cond)
{
	explore_note_bug(file, line, cond);
	fflush(stdout);
	fprintf(stderr, "pinmm: BUG at %s:%d: %s\n", file, line, cond);
	pinmm_dump_stack(stderr, __builtin_return_address(0));
	fflush(stderr);
	abort();
}

/**
 * pinmm_count_warn() - count one warning without printing anything.
 *
 * Context: any; lock-free.
 */
void pinmm_count_warn(void)
{
	atomic_long_inc(&pinmm_warnings);
}

/**
 * pinmm_warn() - report a WARN_ON(): print a splat (unless quiet) and count it.
 * @file: source file of the check
 * @line: its line
 * @cond: the text of the condition that was true
 *
 * Context: any; must not be called with the machine registry lock held.
 */
void pinmm_warn(const char *file, int line, const char *cond)
{
	pinmm_count_warn();
	if (pinmm_machines_quiet())
		return;
	fprintf(stderr, "pinmm: WARNING at %s:%d: %s\n", file, line, cond);
	pinmm_dump_stack(stderr, __builtin_return_address(0));
}

/**
 * pinmm_warn_fmt() - report a WARN() with a printf-style message.
 * @file: source file of the check
 * @line: its line
 * @fmt: message format
 *
 * Context: any; must not be called with the machine registry lock held.
 */
void pinmm_warn_fmt(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	pinmm_count_warn();
	if (pinmm_machines_quiet())
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "pinmm: WARNING at %s:%d: %s\n", file, line, msg);
	pinmm_dump_stack(stderr, __builtin_return_address(0));
}

/**
 * pinmm_oops() - record a BUG() of machine @m that the model survives.
 * @m: the machine.
 * @file: source file of the BUG
 * @line: its line
 * @fmt: what the kernel would have printed, printf-style
 *
 * Where Linux hits a BUG() that pinmm models as a behaviour (pinfs with
 * pinfs.dirty_no_blocks=bug: ext4's page_buffers() on a page without
 * buffers), the kernel would oops and the writeback thread would die with
 * the page locked.  pinmm counts vmstat "oops", prints "pinmm: oops: kernel
 * BUG at ..." (unless cfg.quiet) and returns: the caller goes on as the
 * data would, never reaching disk (doc/DESIGN.md).
 *
 * Context: any.
 */
void pinmm_oops(struct pinmm *m, const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	count_vm_event(m, OOPS);
	if (m->cfg.quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "pinmm: oops: kernel BUG at %s:%d: %s\n", file, line, msg);
}

/**
 * pinmm_warn_count() - WARNs counted since the process started.
 *
 * Context: any.
 * Return: the count, all machines together.
 */
long pinmm_warn_count(void)
{
	return atomic_long_read(&pinmm_warnings);
}

/**
 * pr_diag() - see machine.h.
 * Context: any.
 */
void pr_diag(struct pinmm *m, const char *fmt, ...)
{
	va_list ap;

	if (m && m->cfg.quiet)
		return;
	va_start(ap, fmt);
	fputs("pinmm: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}
