/* SPDX-License-Identifier: MIT */
/*
 * <pinmm/fault.h> - failure injection, as Linux's fault-injection
 * framework offers it to kernel testers (failslab, fail_page_alloc,
 * /proc/thread-self/fail-nth).
 *
 * Every fallible place of the library - a host allocation of a library
 * object, a frame or page-table allocation, an image read or write - is a
 * *site*.  A test makes the Nth fallible call of its thread fail
 * (pinmm_fail_nth_set(), deterministic), or every site matching a filter
 * fail with a probability from a seeded generator (pinmm_fail_configure(),
 * or the fail.* configuration keys at boot).  The operation that meets the
 * failure must then fail as Linux would (-ENOMEM, -EIO, a short count),
 * leave the machine consistent and leak nothing: doc/FAULT-INJECTION.md
 * describes the sweep that checks this over every site.
 *
 * Injection is library-wide, like Linux's debugfs attributes; fail-nth is
 * per thread.
 */
#ifndef PINMM_FAULT_H
#define PINMM_FAULT_H

#include <pinmm/pinmm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One site, as pinmm_fail_sites() reports it. */
struct pinmm_fail_site {
	const char *kind;	/* "slab", "page_alloc", "pgtable", "pinfs_io", ... */
	const char *file;	/* source file of the site */
	const char *func;	/* function containing it */
	int line;
	long calls;		/* times it was evaluated since the last reset */
	long failed;		/* failures injected there since the last reset */
};

/**
 * pinmm_fail_nth_set() - make the @nth fallible call of this thread fail.
 * @nth: 1 for the very next call; 0 disarms.
 *
 * As writing @nth to /proc/thread-self/fail-nth: one failure, then the
 * countdown stays at 0.  Other threads are not affected.
 *
 * Context: any thread.
 * Return: 0, or -EINVAL for a negative @nth.
 */
PINMM_API int pinmm_fail_nth_set(long nth);

/**
 * pinmm_fail_nth_get() - the calling thread's fail-nth countdown.
 *
 * Context: any thread.
 * Return: the number of fallible calls still to go before the armed
 *	failure (> 0), or 0 when the failure was injected or nothing is armed.
 */
PINMM_API long pinmm_fail_nth_get(void);

/**
 * pinmm_fail_configure() - set a library-wide injection attribute.
 * @key: "fail.probability" (percent, 0..100), "fail.times" (at most this
 *	many failures; -1 no limit), "fail.seed" (of the generator),
 *	"fail.filter" or "fail.site" (only sites whose kind, file or function
 *	contains this text, or "FILE:LINE" for one site; empty: every site),
 *	"fail.task" (only the library's own threads whose name contains this
 *	text: "flusher", "dio", "rdma_peer"; empty: every thread),
 *	"fail.space" (let this many matching calls through first, as Linux's
 *	"space" attribute with a size of one per call), "fail.nth"
 *	(as pinmm_fail_nth_set() for the calling thread).
 * @value: the value as text.
 *
 * A probability above 0 arms injection for every thread; 0 disarms it.
 *
 * Context: any thread; takes effect for calls that start afterwards.
 * Return: 0, -EINVAL for an unknown key or a bad value.
 */
PINMM_API int pinmm_fail_configure(const char *key, const char *value);

/**
 * pinmm_fail_sites() - call @fn for every site compiled into the library.
 * @fn: called with each site (reached or not) and @arg.
 * @arg: passed through.
 *
 * Context: any thread; the counts are a racy snapshot.
 * Return: the number of sites.
 */
PINMM_API long pinmm_fail_sites(void (*fn)(const struct pinmm_fail_site *site, void *arg),
				void *arg);

/**
 * pinmm_fail_injected() - failures injected since the last reset.
 *
 * Context: any thread.
 * Return: the count.
 */
PINMM_API long pinmm_fail_injected(void);

/**
 * pinmm_fail_reset() - disarm everything (attributes and this thread's
 * fail-nth) and zero every site's counts.
 *
 * Context: any thread; no other thread should be inside the library.
 */
PINMM_API void pinmm_fail_reset(void);

#ifdef __cplusplus
}
#endif
#endif /* PINMM_FAULT_H */
