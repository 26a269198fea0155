/* SPDX-License-Identifier: MIT */
/*
 * Description: multi-size anonymous THP (src/mm/mthp.c): fault-time
 * allocation of the highest allowed order that fits the VMA and empty
 * PTEs, fallback order by order (anon_fault_fallback), the madvise and
 * MADV_NOHUGEPAGE rules; what meets a PTE-mapped mTHP: partial munmap and
 * MADV_DONTNEED (deferred split queue, split by reclaim), partial mprotect,
 * COW of one page after fork, fork of a pinned mTHP (copied page by page),
 * exact pincount and split refused while pinned, migration of a whole
 * mTHP, swap-out (split first: swpout_fallback), mremap of part, KSM
 * (skips large folios), soft-dirty per page, and the per-size counters.
 */
#include "gup_helpers.h"
#include <stdio.h>

#define K64 (64 * KiB)

static struct pinmm_page_info info(struct pinmm_proc *p, unsigned long a)
{
	return gh_info(p, a);
}

/* An anonymous mapping of @len bytes whose start is aligned to @align. */
static unsigned long map_aligned(struct pinmm_proc *p, size_t len, size_t align)
{
	long a = pinmm_mmap(p, 0, len + align, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long s;

	assert_true(a > 0);
	s = ((unsigned long)a + align - 1) & ~(align - 1);
	if (s > (unsigned long)a)
		assert_int_equal(pinmm_munmap(p, (unsigned long)a, s - (unsigned long)a), 0);
	if (s + len < (unsigned long)a + len + align)
		assert_int_equal(pinmm_munmap(p, s + len, (unsigned long)a + len + align - s - len),
				 0);
	return s;
}

static long st(struct pinmm *m, const char *size, const char *item)
{
	char name[96];

	snprintf(name, sizeof(name), "hugepages-%s/stats/%s", size, item);
	return gh_vm(m, name);
}

/* Fill [a, a + len) with a pattern derived from the address. */
static void fill(struct pinmm_proc *p, unsigned long a, size_t len)
{
	for (unsigned long x = a; x < a + len; x += PG)
		test_store8(p, x + 7, (uint8_t)(x >> 12));
}

static void check(struct pinmm_proc *p, unsigned long a, size_t len)
{
	for (unsigned long x = a; x < a + len; x += PG)
		assert_int_equal(test_load8(p, x + 7), (uint8_t)(x >> 12));
}

static void test_fault_alloc(void **state)
{
	struct pinmm *m = gh_boot("thp=never", "thp.64K=always");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_aligned(p, 4 * K64, K64);
	struct pinmm_page_info pi;

	(void)state;
	test_store8(p, a + 5 * PG, 0x5a);
	pi = info(p, a + 5 * PG);
	assert_true(pi.present && pi.anon && pi.writable && pi.anon_exclusive);
	assert_false(pi.huge_mapped);
	assert_int_equal(pi.folio_order, 4);
	assert_int_equal(pi.mapcount, 1);
	/* All 16 PTEs were set by the fault, consecutive pfns, zeroed. */
	for (int i = 0; i < 16; i++) {
		pi = info(p, a + i * PG);
		assert_true(pi.present);
		assert_int_equal(pi.pfn, info(p, a).pfn + i);
		assert_int_equal(test_load8(p, a + i * PG + 100), 0);
	}
	assert_false(info(p, a + K64).present);
	assert_int_equal(test_load8(p, a + 5 * PG), 0x5a);
	assert_int_equal(st(m, "64kB", "anon_fault_alloc"), 1);
	assert_int_equal(st(m, "64kB", "nr_anon"), 1);
	assert_int_equal(st(m, "16kB", "anon_fault_alloc"), 0);
	assert_int_equal(gh_vm(m, "nr_anon_pages"), 16);
	/* The PMD counters are not mTHP ones. */
	assert_int_equal(gh_vm(m, "thp_fault_alloc"), 0);
	assert_int_equal(gh_vm(m, "nr_anon_transparent_hugepages"), 0);
	/* A read fault maps the zero page, as Linux does. */
	assert_true(info(p, a + K64).zero_page == false);
	(void)test_load8(p, a + K64);
	assert_true(info(p, a + K64).zero_page);
	assert_int_equal(pinmm_munmap(p, a, 4 * K64), 0);
	assert_int_equal(st(m, "64kB", "nr_anon"), 0);
	test_shutdown_clean(m);
}

/* Highest allowed order first; orders whose range is not free are skipped. */
static void test_fault_orders(void **state)
{
	struct pinmm *m = gh_boot("thp=never", "thp.16K=always", "thp.64K=always",
				  "thp.1024K=always");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_aligned(p, 2 * MiB, 2 * MiB);

	(void)state;
	test_store8(p, a + 3 * PG, 1);
	assert_int_equal(info(p, a).folio_order, 8);
	assert_int_equal(st(m, "1024kB", "anon_fault_alloc"), 1);
	/* Second half: one zero-page PTE in the way of 1024K and 64K. */
	(void)test_load8(p, a + MiB + PG);
	test_store8(p, a + MiB + 2 * PG, 2);
	assert_int_equal(info(p, a + MiB + 2 * PG).folio_order, 0);
	/* ... but 16K at +8 pages is free; 64K at +16 pages too. */
	test_store8(p, a + MiB + 8 * PG, 3);
	assert_int_equal(info(p, a + MiB + 8 * PG).folio_order, 2);
	test_store8(p, a + MiB + 16 * PG, 4);
	assert_int_equal(info(p, a + MiB + 16 * PG).folio_order, 4);
	assert_int_equal(st(m, "16kB", "anon_fault_alloc"), 1);
	assert_int_equal(st(m, "64kB", "anon_fault_alloc"), 1);
	assert_int_equal(st(m, "1024kB", "anon_fault_fallback"), 0);
	test_shutdown_clean(m);
}

/* The VMA edge, madvise and MADV_NOHUGEPAGE, shared memory. */
static void test_fault_policy(void **state)
{
	struct pinmm *m = gh_boot("thp=always", "thp.64K=madvise", "thp.16K=inherit");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_aligned(p, 8 * K64, K64);
	long s;

	(void)state;
	/* thp.64K=madvise without MADV_HUGEPAGE: 16K (inherit -> always). */
	test_store8(p, a, 1);
	assert_int_equal(info(p, a).folio_order, 2);
	assert_int_equal(pinmm_madvise(p, a + K64, K64, MADV_HUGEPAGE), 0);
	test_store8(p, a + K64, 1);
	assert_int_equal(info(p, a + K64).folio_order, 4);
	assert_int_equal(pinmm_madvise(p, a + 2 * K64, K64, MADV_NOHUGEPAGE), 0);
	test_store8(p, a + 2 * K64, 1);
	assert_int_equal(info(p, a + 2 * K64).folio_order, 0);
	/* A 12 KiB VMA holds no aligned 16K range. */
	s = pinmm_mmap(p, 0, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(s > 0);
	test_store8(p, (unsigned long)s + PG, 1);
	assert_int_equal(info(p, (unsigned long)s + PG).folio_order, 0);
	/* Shared anonymous memory is never an anonymous mTHP. */
	s = pinmm_mmap(p, 0, 4 * K64, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(s > 0);
	test_store8(p, (unsigned long)s, 1);
	assert_int_equal(info(p, (unsigned long)s).folio_order, 0);
	test_shutdown_clean(m);
}

/* An order whose allocation fails counts anon_fault_fallback; the next is tried. */
static void test_fault_fallback(void **state)
{
	struct pinmm *m = gh_boot("thp=never", "thp.32K=always", "thp.64K=always",
				  "fail.site=alloc_anon_folio", "fail.probability=100",
				  "fail.times=1", "quiet=1");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_aligned(p, 2 * K64, K64);

	(void)state;
	test_store8(p, a, 1);
	assert_int_equal(info(p, a).folio_order, 3);
	assert_int_equal(st(m, "64kB", "anon_fault_fallback"), 1);
	assert_int_equal(st(m, "32kB", "anon_fault_alloc"), 1);
	assert_int_equal(st(m, "32kB", "anon_fault_fallback"), 0);
	test_shutdown_clean(m);
}

/* Partial munmap: the folio is queued, reclaim splits it, the hole is freed. */
static void test_partial_munmap_deferred_split(void **state)
{
	struct pinmm *m = gh_boot("thp=never", "thp.64K=always");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_aligned(p, 2 * K64, K64);
	long free_before;

	(void)state;
	fill(p, a, 2 * K64);
	assert_int_equal(st(m, "64kB", "nr_anon"), 2);
	assert_int_equal(pinmm_munmap(p, a + 4 * PG, 8 * PG), 0);
	assert_int_equal(info(p, a).folio_order, 4);	/* not split yet */
	assert_int_equal(gh_vm(m, "nr_anon_pages"), 24);
	assert_int_equal(st(m, "64kB", "split_deferred"), 1);
	assert_int_equal(st(m, "64kB", "nr_anon_partially_mapped"), 1);
	/* Unmapping more of a queued folio does not queue it twice. */
	assert_int_equal(pinmm_munmap(p, a + 12 * PG, PG), 0);
	assert_int_equal(st(m, "64kB", "split_deferred"), 1);
	free_before = gh_vm(m, "nr_free_pages");
	assert_true(pinmm_reclaim(m, 64) >= 0);
	assert_int_equal(st(m, "64kB", "split"), 1);
	assert_int_equal(st(m, "64kB", "nr_anon_partially_mapped"), 0);
	assert_int_equal(st(m, "64kB", "nr_anon"), 1);
	assert_int_equal(gh_vm(m, "nr_free_pages") - free_before, 9);
	assert_int_equal(info(p, a).folio_order, 0);
	assert_int_equal(info(p, a + 15 * PG).folio_order, 0);
	check(p, a, 4 * PG);
	check(p, a + 13 * PG, 3 * PG + K64);
	/* The untouched folio stays whole. */
	assert_int_equal(info(p, a + K64).folio_order, 4);
	test_shutdown_clean(m);
}

/* A queued folio freed before the scan leaves the queue. */
static void test_deferred_then_freed(void **state)
{
	struct pinmm *m = gh_boot("thp=never", "thp.16K=always");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_aligned(p, 16 * KiB, 16 * KiB);

	(void)state;
	fill(p, a, 16 * KiB);
	assert_int_equal(pinmm_madvise(p, a, PG, MADV_DONTNEED), 0);
	assert_int_equal(st(m, "16kB", "nr_anon_partially_mapped"), 1);
	assert_int_equal(pinmm_munmap(p, a, 16 * KiB), 0);
	assert_int_equal(st(m, "16kB", "nr_anon_partially_mapped"), 0);
	assert_int_equal(st(m, "16kB", "nr_anon"), 0);
	assert_true(pinmm_reclaim(m, 16) >= 0);
	assert_int_equal(st(m, "16kB", "split"), 0);
	test_shutdown_clean(m);
}

/* Partial mprotect: the folio stays whole, each part gets its protection. */
static void test_partial_mprotect(void **state)
{
	struct pinmm *m = gh_boot("thp=never", "thp.64K=always");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_aligned(p, K64, K64);
	uint8_t b = 1;

	(void)state;
	fill(p, a, K64);
	assert_int_equal(pinmm_mprotect(p, a + 4 * PG, 4 * PG, PROT_READ), 0);
	assert_int_equal(info(p, a + 4 * PG).folio_order, 4);
	assert_false(info(p, a + 4 * PG).writable);
	assert_true(info(p, a).writable);
	assert_true(pinmm_store(p, a + 5 * PG, &b, 1) < 0);
	test_store8(p, a + 9 * PG, 9);
	assert_int_equal(st(m, "64kB", "split_deferred"), 0);
	assert_int_equal(pinmm_mprotect(p, a + 4 * PG, 4 * PG, PROT_READ | PROT_WRITE), 0);
	test_store8(p, a + 5 * PG, 5);
	assert_int_equal(info(p, a + 5 * PG).folio_order, 4);
	assert_int_equal(gh_vm(m, "cow_fault"), 0);
	test_shutdown_clean(m);
}

/* COW after fork copies just the written page; the folio stays shared. */
static void test_partial_cow(void **state)
{
	struct pinmm *m = gh_boot("thp=never", "thp.64K=always");
	struct pinmm_proc *p = test_proc(m), *c;
	unsigned long a = map_aligned(p, K64, K64);

	(void)state;
	fill(p, a, K64);
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(info(c, a).pfn, info(p, a).pfn);
	assert_int_equal(info(p, a).mapcount, 2);
	assert_false(info(p, a).anon_exclusive);
	test_store8(c, a + 3 * PG, 0xcc);
	assert_int_equal(gh_vm(m, "cow_fault"), 1);
	assert_int_equal(info(c, a + 3 * PG).folio_order, 0);
	assert_int_equal(info(c, a + 4 * PG).folio_order, 4);
	assert_int_equal(info(p, a + 3 * PG).folio_order, 4);
	assert_int_equal(info(p, a + 3 * PG).mapcount, 1);
	/* Both still map all pages of it: not partially mapped. */
	assert_int_equal(st(m, "64kB", "split_deferred"), 0);
	assert_int_equal(test_load8(p, a + 3 * PG + 7), (uint8_t)((a + 3 * PG) >> 12));
	/* The parent's write copies too (a large folio is not reused when shared). */
	test_store8(p, a + 6 * PG, 0x66);
	assert_int_equal(gh_vm(m, "cow_fault"), 2);
	assert_int_equal(test_load8(c, a + 6 * PG + 7), (uint8_t)((a + 6 * PG) >> 12));
	assert_int_equal(pinmm_exit(c), 0);
	pinmm_proc_put(c);
	/* After the child is gone the parent maps 15 of 16 pages: queued. */
	assert_int_equal(st(m, "64kB", "split_deferred"), 1);
	check(p, a, 6 * PG);
	test_shutdown_clean(m);
}

/* Exact pincount, maybe_dma_pinned on every page, split refused while pinned. */
static void test_pins(void **state)
{
	struct pinmm *m = gh_boot("thp=never", "thp.64K=always");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_aligned(p, K64, K64);
	struct page *pages[16];

	(void)state;
	fill(p, a, K64);
	assert_int_equal(pin_user_pages_fast(a + 2 * PG, 5, FOLL_WRITE, pages), 5);
	assert_int_equal(info(p, a).pincount, 5);
	for (int i = 0; i < 16; i++)
		assert_true(info(p, a + i * PG).maybe_dma_pinned);
	assert_int_equal(pinmm_split_huge_page(p, a), -EAGAIN);
	assert_int_equal(st(m, "64kB", "split_failed"), 1);
	/* Partial unmap while pinned: queued, but the scan cannot split it. */
	assert_int_equal(pinmm_munmap(p, a + 12 * PG, 4 * PG), 0);
	assert_true(pinmm_reclaim(m, 16) >= 0);
	assert_int_equal(st(m, "64kB", "split"), 0);
	assert_int_equal(st(m, "64kB", "split_failed"), 2);
	assert_int_equal(st(m, "64kB", "nr_anon_partially_mapped"), 1);
	unpin_user_pages(pages, 5);
	assert_int_equal(info(p, a).pincount, 0);
	assert_false(info(p, a).maybe_dma_pinned);
	assert_true(pinmm_reclaim(m, 16) >= 0);
	assert_int_equal(st(m, "64kB", "split"), 1);
	assert_int_equal(st(m, "64kB", "nr_anon_partially_mapped"), 0);
	check(p, a, 12 * PG);
	test_shutdown_clean(m);
}

/* GUP-fast over runs of several folios: per-folio batches, exact counts. */
static void test_gup_fast_batches(void **state)
{
	struct pinmm *m = gh_boot("thp=never", "thp.64K=always");
	struct pinmm_proc *p = test_proc(m), *c;
	unsigned long a = map_aligned(p, 2 * K64, K64);
	struct page *pages[32];

	(void)state;
	fill(p, a, 2 * K64);
	/* Pages 12..19: the end of one folio, the start of the next. */
	assert_int_equal(pin_user_pages_fast(a + 12 * PG, 8, FOLL_WRITE, pages), 8);
	assert_int_equal(info(p, a).pincount, 4);
	assert_int_equal(info(p, a + K64).pincount, 4);
	for (int i = 0; i < 8; i++)
		assert_int_equal(pinmm_page_to_pfn(pages[i]), info(p, a + (12 + i) * PG).pfn);
	unpin_user_pages(pages, 8);
	assert_int_equal(info(p, a).pincount, 0);
	/* R/O pin of a shared mTHP: every page is unshared (copied) first. */
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(pin_user_pages_fast(a, 16, FOLL_LONGTERM, pages), 16);
	for (int i = 0; i < 16; i++) {
		struct pinmm_page_info pi = info(p, a + i * PG);

		assert_true(pi.anon_exclusive);
		assert_int_equal(pi.folio_order, 0);
		assert_int_equal(pinmm_page_to_pfn(pages[i]), pi.pfn);
		assert_int_not_equal(pi.pfn, info(c, a + i * PG).pfn);
	}
	assert_int_equal(info(c, a).pincount, 0);
	assert_int_equal(gh_vm(m, "unshare_fault"), 16);
	unpin_user_pages(pages, 16);
	assert_int_equal(pinmm_exit(c), 0);
	pinmm_proc_put(c);
	test_shutdown_clean(m);
}

/* fork with a pinned exclusive mTHP: the child gets copies, page by page. */
static void test_fork_pinned(void **state)
{
	struct pinmm *m = gh_boot("thp=never", "thp.32K=always");
	struct pinmm_proc *p = test_proc(m), *c;
	unsigned long a = map_aligned(p, 32 * KiB, 32 * KiB);
	struct page *pages[1];

	(void)state;
	fill(p, a, 32 * KiB);
	assert_int_equal(pin_user_pages_fast(a, 1, FOLL_WRITE | FOLL_LONGTERM, pages), 1);
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(gh_vm(m, "fork_cow_copy"), 8);
	for (int i = 0; i < 8; i++) {
		assert_int_not_equal(info(c, a + i * PG).pfn, info(p, a + i * PG).pfn);
		assert_true(info(p, a + i * PG).anon_exclusive);
	}
	check(c, a, 32 * KiB);
	assert_int_equal(info(p, a).folio_order, 3);
	unpin_user_pages(pages, 1);
	assert_int_equal(pinmm_exit(c), 0);
	pinmm_proc_put(c);
	test_shutdown_clean(m);
}

/* A whole mTHP migrates as one folio (FOLL_LONGTERM out of MOVABLE too). */
static void test_migrate(void **state)
{
	struct pinmm *m = gh_boot("thp=never", "thp.64K=always", "zone.movable=64M");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_aligned(p, K64, K64);
	struct page *pages[16];
	unsigned long pfn;

	(void)state;
	fill(p, a, K64);
	pfn = info(p, a).pfn;
	assert_string_equal(info(p, a).zone, "movable");
	assert_int_equal(pinmm_migrate_page(p, a + 3 * PG, "normal"), 0);
	assert_int_not_equal(info(p, a).pfn, pfn);
	assert_int_equal(info(p, a).folio_order, 4);
	assert_int_equal(st(m, "64kB", "nr_anon"), 1);
	check(p, a, K64);
	assert_int_equal(pinmm_migrate_page(p, a, "movable"), 0);
	assert_string_equal(info(p, a).zone, "movable");
	assert_int_equal(pin_user_pages_fast(a, 16, FOLL_WRITE | FOLL_LONGTERM, pages), 16);
	assert_string_equal(info(p, a).zone, "normal");
	assert_int_equal(info(p, a).folio_order, 4);
	assert_int_equal(info(p, a).pincount, 16);
	check(p, a, K64);
	unpin_user_pages(pages, 16);
	test_shutdown_clean(m);
}

/* Swap-out splits an mTHP first (pinmm swaps small folios only). */
static void test_swapout(void **state)
{
	struct pinmm *m = gh_boot("thp=never", "thp.64K=always", "swap=16M");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_aligned(p, K64, K64);

	(void)state;
	fill(p, a, K64);
	assert_int_equal(pinmm_madvise(p, a, K64, MADV_PAGEOUT), 0);
	assert_int_equal(st(m, "64kB", "swpout_fallback"), 1);
	assert_int_equal(st(m, "64kB", "swpout"), 0);
	assert_int_equal(st(m, "64kB", "split"), 1);
	assert_true(info(p, a).swapped);
	check(p, a, K64);
	test_shutdown_clean(m);
}

/* mremap of part of an mTHP moves its PTEs; the folio stays whole. */
static void test_mremap_part(void **state)
{
	struct pinmm *m = gh_boot("thp=never", "thp.64K=always");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_aligned(p, K64, K64);
	unsigned long pfn;
	long b;

	(void)state;
	fill(p, a, K64);
	pfn = info(p, a + 4 * PG).pfn;
	b = pinmm_mremap(p, a + 4 * PG, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED,
			 a + 16 * K64);
	assert_int_equal(b, (long)(a + 16 * K64));
	assert_int_equal(info(p, (unsigned long)b).pfn, pfn);
	assert_int_equal(info(p, (unsigned long)b).folio_order, 4);
	assert_int_equal(info(p, (unsigned long)b).mapcount, 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(test_load8(p, (unsigned long)b + i * PG + 7),
				 (uint8_t)((a + (4 + i) * PG) >> 12));
	/* Every page is still mapped once: nothing to split. */
	assert_int_equal(st(m, "64kB", "split_deferred"), 0);
	assert_int_equal(pinmm_munmap(p, (unsigned long)b, 4 * PG), 0);
	assert_int_equal(st(m, "64kB", "split_deferred"), 1);
	test_shutdown_clean(m);
}

/* KSM leaves large folios alone (doc/DESIGN.md: Linux splits them first). */
static void test_ksm_skips(void **state)
{
	struct pinmm *m = gh_boot("thp=never", "thp.16K=always");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_aligned(p, 4 * 16 * KiB, 16 * KiB);

	(void)state;
	for (unsigned long x = a; x < a + 4 * 16 * KiB; x += PG)
		test_store8(p, x, 0x42);
	assert_int_equal(pinmm_madvise(p, a, 4 * 16 * KiB, MADV_MERGEABLE), 0);
	assert_int_equal(pinmm_ksm_scan(m, 3), 0);
	assert_false(info(p, a).ksm);
	assert_int_equal(info(p, a).folio_order, 2);
	test_shutdown_clean(m);
}

/* Soft-dirty: clear_refs write-protects the PTEs; one write marks one page. */
static void test_soft_dirty(void **state)
{
	struct pinmm *m = gh_boot("thp=never", "thp.32K=always");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_aligned(p, 32 * KiB, 32 * KiB);

	(void)state;
	fill(p, a, 32 * KiB);
	assert_true(info(p, a + PG).soft_dirty);
	assert_int_equal(pinmm_clear_refs(p, PINMM_CLEAR_REFS_SOFT_DIRTY), 0);
	for (int i = 0; i < 8; i++)
		assert_false(info(p, a + i * PG).soft_dirty);
	test_store8(p, a + 5 * PG, 0x55);
	for (int i = 0; i < 8; i++)
		assert_int_equal(info(p, a + i * PG).soft_dirty, i == 5);
	/* The exclusive folio was reused in place, not copied or split. */
	assert_int_equal(info(p, a + 5 * PG).folio_order, 3);
	assert_int_equal(info(p, a + 5 * PG).pfn, info(p, a).pfn + 5);
	assert_int_equal(gh_vm(m, "cow_fault"), 0);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fault_alloc),
		cmocka_unit_test(test_fault_orders),
		cmocka_unit_test(test_fault_policy),
		cmocka_unit_test(test_fault_fallback),
		cmocka_unit_test(test_partial_munmap_deferred_split),
		cmocka_unit_test(test_deferred_then_freed),
		cmocka_unit_test(test_partial_mprotect),
		cmocka_unit_test(test_partial_cow),
		cmocka_unit_test(test_pins),
		cmocka_unit_test(test_gup_fast_batches),
		cmocka_unit_test(test_fork_pinned),
		cmocka_unit_test(test_migrate),
		cmocka_unit_test(test_swapout),
		cmocka_unit_test(test_mremap_part),
		cmocka_unit_test(test_ksm_skips),
		cmocka_unit_test(test_soft_dirty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
