/* SPDX-License-Identifier: MIT */
/*
 * fault_inject.h - failure injection at every fallible site of the library,
 * modelled on Linux's fault-injection framework (failslab, fail_page_alloc,
 * /proc/thread-self/fail-nth; Documentation/fault-injection/).
 *
 * A *site* is one place in the source that can fail: a host allocation
 * (kmalloc() and friends below), a frame allocation (alloc_pages()), a
 * page-table allocation, or an image I/O.  Each site is a static struct
 * fail_site placed in the "pinmm_fail_sites" section, so the whole list of
 * sites compiled into the library can be enumerated (pinmm_fail_sites()),
 * reached or not, and each site counts its calls and injected failures.
 *
 * should_fail(site) decides, in this order:
 *   1. fail-nth (per thread, like Linux's fail-nth): when the calling
 *      thread armed it with pinmm_fail_nth_set(N), its Nth should_fail()
 *      call from then on fails, once, and the counter disarms;
 *   2. the library-wide attributes (fail.probability / fail.times /
 *      fail.seed / fail.filter, set by pinmm_boot() from the configuration
 *      or by pinmm_fail_configure()): a site whose kind or file:function
 *      contains the filter fails with the given probability (percent),
 *      drawn from a seeded generator, at most `times` times; with
 *      fail.task set, only in the library threads whose name
 *      (fail_task_set_name()) contains it.
 * With nothing armed the cost is one thread-local load and one relaxed
 * global load per site.
 *
 * GNU C (statement expressions, section attributes) is confined to this
 * kernel-ism header, as in compiler.h.
 */
#ifndef PINMM_FAULT_INJECT_H
#define PINMM_FAULT_INJECT_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"

/*
 * struct fail_site - one fallible place in the source.  Static; @calls and
 * @failed are updated with relaxed atomics (statistics only).
 */
struct fail_site {
	const char *kind;	/* "slab", "page_alloc", "pgtable", "pinfs_io", ... */
	const char *file;
	const char *func;
	int line;
	long calls;		/* should_fail() evaluations */
	long failed;		/* failures injected */
} __attribute__((aligned(64)));

/* Define a site at this line of the source and yield a pointer to it. */
#define FAIL_SITE(k) __extension__({					\
	static struct fail_site __fs						\
		__attribute__((section("pinmm_fail_sites"), used)) =	\
		{ .kind = (k), .file = __FILE__, .func = __func__,	\
		  .line = __LINE__ };					\
	&__fs;								\
})

/* Armed state: per-thread fail-nth countdown, library-wide attributes. */
extern _Thread_local long fail_nth_countdown;
extern int fail_attr_armed;

bool __should_fail(struct fail_site *site);
void fail_task_set_name(const char *name);

/**
 * should_fail() - must the operation at @site fail now (injected)?
 * @site: FAIL_SITE("kind") of the caller.
 *
 * Context: any thread; never sleeps.
 * Return: true when a failure is injected; the caller then fails exactly as
 * it would on a real allocation or I/O failure.
 */
static __always_inline bool should_fail(struct fail_site *site)
{
	__atomic_fetch_add(&site->calls, 1, __ATOMIC_RELAXED);
	if (likely(!fail_nth_countdown &&
		   !__atomic_load_n(&fail_attr_armed, __ATOMIC_RELAXED)))
		return false;
	return __should_fail(site);
}

/*
 * Host allocations of library objects (Linux's slab API, without the gfp
 * argument: every one of them may fail, none sleeps for reclaim).
 */
static __always_inline void *__kmalloc(size_t size, struct fail_site *site)
{
	return should_fail(site) ? NULL : malloc(size);
}

static __always_inline void *__kzalloc(size_t size, struct fail_site *site)
{
	return should_fail(site) ? NULL : calloc(1, size);
}

static __always_inline void *__kcalloc(size_t n, size_t size, struct fail_site *site)
{
	return should_fail(site) ? NULL : calloc(n, size);
}

static __always_inline void *__krealloc(void *p, size_t size, struct fail_site *site)
{
	return should_fail(site) ? NULL : realloc(p, size);
}

static __always_inline char *__kstrdup(const char *s, struct fail_site *site)
{
	return should_fail(site) ? NULL : strdup(s);
}

#define kmalloc(size)		__kmalloc((size), FAIL_SITE("slab"))
#define kzalloc(size)		__kzalloc((size), FAIL_SITE("slab"))
#define kcalloc(n, size)	__kcalloc((n), (size), FAIL_SITE("slab"))
#define krealloc(p, size)	__krealloc((p), (size), FAIL_SITE("slab"))
#define kstrdup(s)		__kstrdup((s), FAIL_SITE("slab"))
#define kfree(p)		free(p)

/* Attributes, from the configuration (pinmm_boot()). */
struct pinmm_config;
int fail_attr_from_config(const struct pinmm_config *cfg);

#endif /* PINMM_FAULT_INJECT_H */
