/* SPDX-License-Identifier: MIT */
/*
 * gup_helpers.h - small helpers shared by the GUP conformance tests
 * (test_gup_*.c, test_pin_tracking.c).  Everything here goes through the
 * public API only: <pinmm/pinmm.h> and <pinmm/linux.h>.
 */
#ifndef PINMM_TEST_GUP_HELPERS_H
#define PINMM_TEST_GUP_HELPERS_H

#include "helpers.h"
#include <pinmm/linux.h>

#define PG 4096UL
#define HPAGE_SIZE (2 * MiB)
#define HPAGE_NR 512

/* Boot ram=256M, debug=2 plus extra "key=value" strings (at least one). */
#define gh_boot(...) test_boot("ram=256M", "debug=2", __VA_ARGS__, NULL)
#define gh_boot0() test_boot("ram=256M", "debug=2", NULL)

static inline struct pinmm_page_info gh_info(struct pinmm_proc *p, unsigned long addr)
{
	struct pinmm_page_info pi;

	assert_int_equal(pinmm_page_info(p, addr, &pi), 0);
	return pi;
}

static inline long gh_vm(struct pinmm *m, const char *name)
{
	long v = pinmm_vmstat(m, name);

	assert_true(v >= 0);
	return v;
}

/* Slow-path entry points with current's mmap_lock held, as Linux requires. */
static inline long gh_gup(struct pinmm_proc *p, unsigned long start, unsigned long n,
			  unsigned int flags, struct page **pages)
{
	struct mm_struct *mm = pinmm_proc_mm(p);
	long r;

	mmap_read_lock(mm);
	r = get_user_pages(start, n, flags, pages);
	mmap_read_unlock(mm);
	return r;
}

static inline long gh_pup(struct pinmm_proc *p, unsigned long start, unsigned long n,
			  unsigned int flags, struct page **pages)
{
	struct mm_struct *mm = pinmm_proc_mm(p);
	long r;

	mmap_read_lock(mm);
	r = pin_user_pages(start, n, flags, pages);
	mmap_read_unlock(mm);
	return r;
}

/* Fill / check a pattern through the process's MMU. */
static inline void gh_store(struct pinmm_proc *p, unsigned long addr, const char *s)
{
	long n = (long)strlen(s) + 1;

	assert_int_equal(pinmm_store(p, addr, s, (size_t)n), n);
}

static inline void gh_expect(struct pinmm_proc *p, unsigned long addr, const char *s)
{
	char buf[128] = { 0 };
	long n = (long)strlen(s) + 1;

	assert_true(n <= (long)sizeof(buf));
	assert_int_equal(pinmm_load(p, addr, buf, (size_t)n), n);
	assert_string_equal(buf, s);
}

/* Through the pinned page itself, as a device would. */
static inline void gh_kstore(struct page *page, unsigned long off, const char *s)
{
	char *k = kmap_local_page(page);

	assert_non_null(k);
	memcpy(k + off, s, strlen(s) + 1);
	kunmap_local(k);
}

static inline void gh_kexpect(struct page *page, unsigned long off, const char *s)
{
	char *k = kmap_local_page(page);

	assert_non_null(k);
	assert_string_equal(k + off, s);
	kunmap_local(k);
}

/*
 * A 2 MiB-aligned anonymous private range of @nr_huge PMD-sized chunks with
 * MADV_HUGEPAGE, each faulted in as a PMD-mapped THP (asserted).  The
 * surrounding alignment slack stays mapped (freed at exit).
 */
static inline unsigned long gh_thp(struct pinmm_proc *p, int nr_huge)
{
	size_t len = (size_t)nr_huge * HPAGE_SIZE;
	unsigned long raw = test_mmap_anon(p, len + HPAGE_SIZE);
	unsigned long a = (raw + HPAGE_SIZE - 1) & ~(HPAGE_SIZE - 1);

	assert_int_equal(pinmm_madvise(p, a, len, MADV_HUGEPAGE), 0);
	for (int i = 0; i < nr_huge; i++) {
		struct pinmm_page_info pi;

		test_store8(p, a + (unsigned long)i * HPAGE_SIZE, 0x5a);
		pi = gh_info(p, a + (unsigned long)i * HPAGE_SIZE + 7 * PG);
		assert_true(pi.present);
		assert_int_equal(pi.folio_order, 9);
		assert_true(pi.huge_mapped);
	}
	return a;
}

/* Audit, then shut down: everything must have been released. */
static inline void gh_done(struct pinmm *m)
{
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

#endif
