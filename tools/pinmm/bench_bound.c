/* SPDX-License-Identifier: MIT */
/*
 * bench_bound.c - the physical bound of a GUP-fast page on this CPU.
 *
 * GUP-fast, get/put and single-page calls have no host counterpart that a
 * process can time without CONFIG_GUP_TEST and root, and io_uring
 * registration does other work besides.  So those rows are reported against
 * the least work any implementation must do per page, measured in the same
 * run on arrays of the same size as the benchmark's region:
 *
 *   acquire, 4K:  read one 8-byte page-table entry, turn it into the
 *                 address of a 64-byte struct page, one atomic add on that
 *                 struct (lock xadd on x86), store the pointer in the
 *                 output array;
 *   release, 4K:  load the pointer from the array, one atomic subtract;
 *   acquire, THP: read one PMD entry and add once per 512 pages, store the
 *                 512 pointers;
 *   release, THP: load each pointer and check that it lies in the folio (as
 *                 unpin_user_pages() must, to find the run), one atomic
 *                 subtract per 512 pages.
 *
 * The struct pages are laid out in frame order and every entry maps the
 * next frame, the best case for the caches: the bound is a floor, not an
 * estimate of what Linux pays.  No locking, no checks, no accounting.
 * Times are CLOCK_MONOTONIC around the whole loop; one warm-up pass, then
 * the best of @repeats: a floor is its fastest pass.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "bench.h"

#define BOUND_PAGE_SHIFT	12
#define BOUND_PMD_PAGES		512

/* The size of Linux's x86-64 struct page; only the first word is used. */
struct bound_page {
	long ref;
	char pad[56];
} __attribute__((aligned(64)));

struct bound_arrays {
	long n;				/* pages */
	uint64_t *pte;			/* n entries */
	uint64_t *pmd;			/* n / 512 entries */
	struct bound_page *memmap;	/* n */
	struct bound_page **out;	/* n */
};

static uint64_t bound_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);	/* READ_ONCE() */
}

static void bound_acq_4k(struct bound_arrays *a)
{
	for (long i = 0; i < a->n; i++) {
		struct bound_page *pg = a->memmap + (bound_load(&a->pte[i]) >> BOUND_PAGE_SHIFT);

		__atomic_fetch_add(&pg->ref, 1, __ATOMIC_RELAXED);
		a->out[i] = pg;
	}
}

static void bound_rel_4k(struct bound_arrays *a)
{
	for (long i = 0; i < a->n; i++)
		__atomic_fetch_sub(&a->out[i]->ref, 1, __ATOMIC_RELAXED);
}

static void bound_acq_thp(struct bound_arrays *a)
{
	for (long j = 0; j < a->n / BOUND_PMD_PAGES; j++) {
		struct bound_page *head = a->memmap + (bound_load(&a->pmd[j]) >> BOUND_PAGE_SHIFT);
		struct bound_page **out = a->out + j * BOUND_PMD_PAGES;

		__atomic_fetch_add(&head->ref, BOUND_PMD_PAGES, __ATOMIC_RELAXED);
		for (long k = 0; k < BOUND_PMD_PAGES; k++)
			out[k] = head + k;
	}
}

/* The region is all THP: each 512-entry chunk is one folio. */
static void bound_rel_thp(struct bound_arrays *a)
{
	for (long i = 0; i < a->n; i += BOUND_PMD_PAGES) {
		struct bound_page *head = a->out[i];
		long run = 0;

		/* Branch-free so that the compiler may vectorise it. */
		for (long k = 0; k < BOUND_PMD_PAGES; k++)
			run += (unsigned long)(a->out[i + k] - head) < BOUND_PMD_PAGES;
		__atomic_fetch_sub(&head->ref, run, __ATOMIC_RELAXED);
	}
}

/* Best ns per page of @fn over @repeats passes after one warm-up. */
static double bound_time(struct bound_arrays *a, void (*fn)(struct bound_arrays *),
			 void (*undo)(struct bound_arrays *), int repeats)
{
	double v[BENCH_MAX_REP];

	for (int k = -1; k < repeats; k++) {
		uint64_t t0 = bench_now_ns(), t1;

		fn(a);
		t1 = bench_now_ns();
		if (k >= 0)
			v[k] = (double)(t1 - t0) / (double)a->n;
		if (undo)
			undo(a);
	}
	return bench_min(v, repeats);
}

/* Release timings need acquired entries first (untimed). */
static double bound_time_rel(struct bound_arrays *a, void (*acq)(struct bound_arrays *),
			     void (*rel)(struct bound_arrays *), int repeats)
{
	double v[BENCH_MAX_REP];

	for (int k = -1; k < repeats; k++) {
		uint64_t t0, t1;

		acq(a);
		t0 = bench_now_ns();
		rel(a);
		t1 = bench_now_ns();
		if (k >= 0)
			v[k] = (double)(t1 - t0) / (double)a->n;
	}
	return bench_min(v, repeats);
}

/**
 * phys_bound_measure() - measure the four bounds over @bytes of 4 KiB pages.
 * @bytes: the region size the rows measure (a multiple of 2 MiB).
 * @repeats: 1..BENCH_MAX_REP timed passes.
 * @b: the result, ns per page.
 *
 * Context: the bench's main thread.
 * Return: 0, -EINVAL, or -ENOMEM.
 */
int phys_bound_measure(size_t bytes, int repeats, struct phys_bound *b)
{
	struct bound_arrays a;
	int ret = -ENOMEM;

	memset(b, 0, sizeof(*b));
	if (repeats < 1 || repeats > BENCH_MAX_REP || bytes % PMD_BYTES || !bytes)
		return -EINVAL;
	a.n = (long)(bytes >> BOUND_PAGE_SHIFT);
	a.pte = aligned_alloc(64, (size_t)a.n * sizeof(*a.pte));
	a.pmd = aligned_alloc(64, (size_t)(a.n / BOUND_PMD_PAGES) * sizeof(*a.pmd));
	a.memmap = aligned_alloc(64, (size_t)a.n * sizeof(*a.memmap));
	a.out = aligned_alloc(64, (size_t)a.n * sizeof(*a.out));
	if (!a.pte || !a.pmd || !a.memmap || !a.out)
		goto out;
	memset(a.memmap, 0, (size_t)a.n * sizeof(*a.memmap));
	memset(a.out, 0, (size_t)a.n * sizeof(*a.out));
	/* Present, writable, accessed, dirty (0x67) entries mapping frame i. */
	for (long i = 0; i < a.n; i++)
		a.pte[i] = ((uint64_t)i << BOUND_PAGE_SHIFT) | 0x67;
	for (long j = 0; j < a.n / BOUND_PMD_PAGES; j++)
		a.pmd[j] = ((uint64_t)(j * BOUND_PMD_PAGES) << BOUND_PAGE_SHIFT) | 0xe7;

	b->acq_4k = bound_time(&a, bound_acq_4k, bound_rel_4k, repeats);
	b->rel_4k = bound_time_rel(&a, bound_acq_4k, bound_rel_4k, repeats);
	b->acq_thp = bound_time(&a, bound_acq_thp, bound_rel_thp, repeats);
	b->rel_thp = bound_time_rel(&a, bound_acq_thp, bound_rel_thp, repeats);
	b->repeats = repeats;
	ret = 0;
	/* Every add was undone: a check that the loops did what they say. */
	for (long i = 0; i < a.n; i++) {
		if (a.memmap[i].ref) {
			ret = -EFAULT;
			break;
		}
	}
out:
	free(a.pte);
	free(a.pmd);
	free(a.memmap);
	free(a.out);
	return ret;
}
