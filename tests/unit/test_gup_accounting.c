/* SPDX-License-Identifier: MIT */
/*
 * Description: GUP conformance, pin accounting (doc/GUP-SEMANTICS.md §2,
 * §1.6).  GUP_PIN_COUNTING_BIAS on small folios, exact per-page _pincount
 * on THPs, nr_foll_pin_acquired/released per page, the zero page that is
 * never pinned, FOLL_GET that never counts, unpinning what was not pinned
 * (WARN once, counted, no corruption), a refcount at the edge of overflow,
 * MMF_HAS_PINNED, and the release family: unpin_user_pages (NULL entries,
 * coalescing), the dirty_lock variants, unpin_folio(s), get/put_page.
 * Mostly public API; the overflow and MMF_HAS_PINNED checks use "mm.h".
 */
#include "gup_helpers.h"

#include <limits.h>

#include "mm.h"

struct counters {
	long acq, rel, not_pinned;
};

static struct counters counters(struct pinmm *m)
{
	struct counters c = {
		gh_vm(m, "nr_foll_pin_acquired"),
		gh_vm(m, "nr_foll_pin_released"),
		gh_vm(m, "unpin_not_pinned"),
	};
	return c;
}

#define assert_counters(m, base, dacq, drel, dnp) do {				\
	struct counters __c = counters(m);					\
	assert_int_equal(__c.acq - (base).acq, (dacq));				\
	assert_int_equal(__c.rel - (base).rel, (drel));				\
	assert_int_equal(__c.not_pinned - (base).not_pinned, (dnp));		\
} while (0)

/* §2.1/§2.2: +1024 per pin on a small folio, exact count read back. */
static void test_small_folio_bias(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 2 * PG);
	struct page *pg[2], *pg2[2];
	struct counters c;
	struct pinmm_page_info pi;
	(void)state;

	test_store8(p, a, 1);
	test_store8(p, a + PG, 2);
	c = counters(m);
	pi = gh_info(p, a);
	assert_int_equal(pi.refcount, 1);
	assert_false(pi.maybe_dma_pinned);

	assert_int_equal(gh_pup(p, a, 2, FOLL_WRITE, pg), 2);
	pi = gh_info(p, a);
	assert_int_equal(pi.refcount, 1 + 1024);
	assert_int_equal(pi.pincount, 1);
	assert_true(pi.maybe_dma_pinned);
	assert_int_equal(folio_ref_count(page_folio(pg[0])), 1 + 1024);
	assert_true(folio_maybe_dma_pinned(page_folio(pg[0])));
	assert_counters(m, c, 2, 0, 0);

	/* A second pin by the fast path. */
	assert_int_equal(pin_user_pages_fast(a, 2, 0, pg2), 2);
	assert_ptr_equal(pg2[0], pg[0]);
	assert_int_equal(gh_info(p, a).refcount, 1 + 2048);
	assert_int_equal(gh_info(p, a).pincount, 2);
	assert_counters(m, c, 4, 0, 0);

	unpin_user_pages(pg2, 2);
	assert_int_equal(gh_info(p, a).refcount, 1 + 1024);
	assert_counters(m, c, 4, 2, 0);
	unpin_user_page(pg[0]);
	unpin_user_page(pg[1]);
	pi = gh_info(p, a + PG);
	assert_int_equal(pi.refcount, 1);
	assert_int_equal(pi.pincount, 0);
	assert_false(pi.maybe_dma_pinned);
	assert_counters(m, c, 4, 4, 0);
	gh_done(m);
}

/* §2.2: pins on a THP are counted per page, exactly. */
static void test_thp_pincount_per_page(void **state)
{
	struct pinmm *m = gh_boot("thp=madvise");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = gh_thp(p, 1);
	static struct page *pg[HPAGE_NR];
	struct pinmm_page_info pi;
	struct counters c = counters(m);
	int ref0;
	(void)state;

	ref0 = gh_info(p, a).refcount;
	assert_int_equal(gh_pup(p, a + 5 * PG, 3, FOLL_WRITE, pg), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(page_to_pfn(pg[i]), gh_info(p, a + (5 + i) * PG).pfn);
	pi = gh_info(p, a + 100 * PG);
	assert_int_equal(pi.pincount, 3);
	assert_int_equal(pi.refcount, ref0 + 3);
	assert_true(pi.maybe_dma_pinned);
	assert_counters(m, c, 3, 0, 0);
	/* Page-by-page release balances the multi-page pin. */
	for (int i = 0; i < 3; i++)
		unpin_user_page(pg[i]);
	pi = gh_info(p, a);
	assert_int_equal(pi.pincount, 0);
	assert_int_equal(pi.refcount, ref0);
	assert_false(pi.maybe_dma_pinned);
	assert_counters(m, c, 3, 3, 0);

	/* The whole THP: 512 pins, released by one coalesced call. */
	assert_int_equal(pin_user_pages_fast(a, HPAGE_NR, FOLL_WRITE, pg), HPAGE_NR);
	assert_int_equal(gh_info(p, a).pincount, HPAGE_NR);
	assert_int_equal(gh_info(p, a).refcount, ref0 + HPAGE_NR);
	assert_counters(m, c, 3 + HPAGE_NR, 3, 0);
	unpin_user_pages(pg, HPAGE_NR);
	assert_int_equal(gh_info(p, a).pincount, 0);
	assert_int_equal(gh_info(p, a).refcount, ref0);
	assert_counters(m, c, 3 + HPAGE_NR, 3 + HPAGE_NR, 0);
	gh_done(m);
}

/* §2.3 and v6.5: the shared zero page is never pinned. */
static void test_zero_page_never_pinned(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 2 * PG);
	struct page *pg[2];
	struct pinmm_page_info z;
	struct counters c;
	(void)state;

	/* A read fault maps the zero page. */
	assert_int_equal(test_load8(p, a), 0);
	z = gh_info(p, a);
	assert_true(z.zero_page);
	c = counters(m);

	assert_int_equal(gh_pup(p, a, 2, 0, pg), 2);
	assert_int_equal(page_to_pfn(pg[0]), z.pfn);
	/* a + PG was faulted by the pin: a read fault, the zero page too. */
	assert_int_equal(page_to_pfn(pg[1]), z.pfn);
	assert_int_equal(gh_info(p, a).refcount, z.refcount);
	assert_false(gh_info(p, a).maybe_dma_pinned);
	assert_counters(m, c, 0, 0, 0);
	/* Unpinning it is a no-op, not an "unpin of an unpinned page". */
	unpin_user_pages(pg, 2);
	assert_int_equal(gh_info(p, a).refcount, z.refcount);
	assert_counters(m, c, 0, 0, 0);

	/* GUP-fast falls back for the special PTE and gives the same answer. */
	assert_int_equal(pin_user_pages_fast(a, 1, 0, pg), 1);
	assert_int_equal(page_to_pfn(pg[0]), z.pfn);
	unpin_user_page(pg[0]);
	assert_counters(m, c, 0, 0, 0);

	/* FOLL_GET does take a reference on it. */
	assert_int_equal(gh_gup(p, a, 1, 0, pg), 1);
	assert_int_equal(page_to_pfn(pg[0]), z.pfn);
	assert_int_equal(gh_info(p, a).refcount, z.refcount + 1);
	put_page(pg[0]);
	assert_int_equal(gh_info(p, a).refcount, z.refcount);
	assert_counters(m, c, 0, 0, 0);
	gh_done(m);
}

/* FOLL_GET never touches the pin counters; GET and PIN refs coexist. */
static void test_get_never_counts_and_mixing(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, PG);
	struct page *g = NULL, *g2 = NULL, *q = NULL;
	struct counters c;
	(void)state;

	test_store8(p, a, 3);
	c = counters(m);
	assert_int_equal(gh_gup(p, a, 1, FOLL_WRITE, &g), 1);
	assert_int_equal(get_user_pages_fast(a, 1, 0, &g2), 1);
	assert_ptr_equal(g, g2);
	assert_int_equal(gh_info(p, a).refcount, 3);
	assert_false(gh_info(p, a).maybe_dma_pinned);
	assert_counters(m, c, 0, 0, 0);

	assert_int_equal(pin_user_pages_unlocked(a, 1, &q, FOLL_WRITE), 1);
	assert_ptr_equal(q, g);
	assert_int_equal(gh_info(p, a).refcount, 3 + 1024);
	assert_int_equal(gh_info(p, a).pincount, 1);
	assert_counters(m, c, 1, 0, 0);
	put_page(g);
	put_page(g2);
	assert_int_equal(gh_info(p, a).refcount, 1 + 1024);
	assert_true(gh_info(p, a).maybe_dma_pinned);
	get_page(q);
	assert_int_equal(folio_ref_count(page_folio(q)), 2 + 1024);
	put_page(q);
	unpin_user_page(q);
	assert_int_equal(gh_info(p, a).refcount, 1);
	assert_counters(m, c, 1, 1, 0);
	gh_done(m);
}

/* Unpinning what was not pinned: WARN (once), counted, nothing changes. */
static void test_unpin_not_pinned(void **state)
{
	struct pinmm *m = gh_boot("quiet=1", "thp=madvise");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, PG);
	unsigned long h = gh_thp(p, 1);
	struct page *g = NULL, *t = NULL, *arr[2];
	struct counters c;
	long warns;
	int tref;
	(void)state;

	test_store8(p, a, 9);
	assert_int_equal(gh_gup(p, a, 1, 0, &g), 1);
	assert_int_equal(gh_gup(p, h, 1, 0, &t), 1);
	tref = gh_info(p, h).refcount;
	c = counters(m);
	warns = gh_vm(m, "warn_count");

	unpin_user_page(g);
	assert_counters(m, c, 0, 0, 1);
	assert_int_equal(gh_info(p, a).refcount, 2);
	unpin_user_page(g);
	assert_counters(m, c, 0, 0, 2);
	arr[0] = g;
	arr[1] = t;
	unpin_user_pages(arr, 2);
	assert_counters(m, c, 0, 0, 4);
	unpin_folio(page_folio(t));
	assert_counters(m, c, 0, 0, 5);
	assert_int_equal(gh_info(p, a).refcount, 2);
	assert_int_equal(gh_info(p, h).refcount, tref);
	assert_int_equal(gh_info(p, h).pincount, 0);
	/* WARN_ON_ONCE: at most one splat per site, never one per call. */
	assert_true(gh_vm(m, "warn_count") - warns <= 2);
	assert_int_equal(pinmm_audit(m), 0);

	/* A real pin on top is still accounted exactly. */
	assert_int_equal(gh_pup(p, a, 1, 0, arr), 1);
	assert_int_equal(gh_info(p, a).refcount, 2 + 1024);
	unpin_user_page(arr[0]);
	assert_counters(m, c, 1, 1, 5);
	put_page(g);
	put_page(t);
	assert_int_equal(gh_info(p, a).refcount, 1);
	gh_done(m);
}

/*
 * §2.3: a refcount that reads <= 0 (overflowed) makes try_grab_folio fail:
 * -ENOMEM from the slow path; GUP-fast falls back and gets the same.
 * Linux has no pre-check for the +1024 itself: a pin from just below
 * INT_MAX succeeds and wraps, and the wrapped count still reads "pinned".
 */
static void test_refcount_overflow(void **state)
{
	struct pinmm *m = gh_boot("quiet=1");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, PG);
	struct page *g = NULL, *q = NULL, *r = NULL;
	struct folio *folio;
	struct counters c;
	int extra;
	(void)state;

	test_store8(p, a, 5);
	assert_int_equal(gh_gup(p, a, 1, 0, &g), 1);
	folio = page_folio(g);
	/* Park the refcount just below INT_MAX (internal: "mm.h"). */
	extra = INT_MAX - 100 - folio_ref_count(folio);
	folio_ref_add(folio, extra);
	c = counters(m);

	assert_int_equal(gh_pup(p, a, 1, 0, &q), 1);	/* wraps */
	assert_true(folio_ref_count(folio) < 0);
	assert_true(folio_maybe_dma_pinned(folio));
	assert_counters(m, c, 1, 0, 0);
	/* Now the count reads negative: every grab is refused. */
	assert_int_equal(gh_pup(p, a, 1, 0, &r), -ENOMEM);
	assert_int_equal(gh_gup(p, a, 1, 0, &r), -ENOMEM);
	assert_int_equal(pin_user_pages_fast(a, 1, 0, &r), -ENOMEM);
	assert_int_equal(get_user_pages_fast(a, 1, 0, &r), -ENOMEM);
	assert_int_equal(get_user_pages_fast_only(a, 1, 0, &r), 0);
	assert_null(r);
	assert_counters(m, c, 1, 0, 0);

	/*
	 * Undo the parked references first: releasing through
	 * folio_put_refs() while the count reads negative would trip UBSan
	 * in atomic_sub_return() (plain int arithmetic, see the report).
	 */
	folio_ref_sub(folio, extra);
	assert_int_equal(folio_ref_count(folio), 2 + 1024);
	unpin_user_page(q);
	assert_int_equal(folio_ref_count(folio), 2);
	assert_counters(m, c, 1, 1, 0);
	put_page(g);
	assert_int_equal(gh_info(p, a).refcount, 1);
	gh_done(m);
}

/* §2.6: every FOLL_PIN call sets MMF_HAS_PINNED first; FOLL_GET never. */
static void test_mmf_has_pinned(void **state)
{
	struct pinmm *m = gh_boot("quiet=1");
	struct pinmm_proc *p = test_proc(m), *p2, *p3;
	unsigned long a = test_mmap_anon(p, PG);
	struct page *g = NULL;
	(void)state;

	test_store8(p, a, 1);
	assert_int_equal(gh_gup(p, a, 1, 0, &g), 1);
	put_page(g);
	assert_int_equal(get_user_pages_fast(a, 1, 0, &g), 1);
	put_page(g);
	assert_false(test_bit(MMF_HAS_PINNED, &pinmm_proc_mm(p)->flags));
	/* Invalid arguments: rejected before anything is set. */
	assert_int_equal(gh_pup(p, a, 1, FOLL_GET, &g), 0);
	assert_false(test_bit(MMF_HAS_PINNED, &pinmm_proc_mm(p)->flags));
	/* A pin that fails still marks the mm. */
	assert_int_equal(gh_pup(p, 0x10000, 1, 0, &g), -EFAULT);
	assert_true(test_bit(MMF_HAS_PINNED, &pinmm_proc_mm(p)->flags));

	p2 = test_proc(m);
	assert_int_equal(pin_user_pages_fast(0x10000, 1, 0, &g), -EFAULT);
	assert_true(test_bit(MMF_HAS_PINNED, &pinmm_proc_mm(p2)->flags));

	/* Never cleared, and a fork child starts without it. */
	p3 = test_proc(m);
	a = test_mmap_anon(p3, PG);
	assert_int_equal(pin_user_pages_fast(a, 1, FOLL_WRITE, &g), 1);
	unpin_user_page(g);
	assert_true(test_bit(MMF_HAS_PINNED, &pinmm_proc_mm(p3)->flags));
	gh_done(m);
}

/* §1.6: unpin_user_pages skips NULL, coalesces runs; errno-like n is refused. */
static void test_unpin_user_pages_array(void **state)
{
	struct pinmm *m = gh_boot("quiet=1", "thp=madvise");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 2 * PG);
	unsigned long h = gh_thp(p, 1);
	struct page *pg[8] = { 0 }, *arr[8];
	struct counters c;
	(void)state;

	test_store8(p, a, 1);
	test_store8(p, a + PG, 1);
	c = counters(m);
	assert_int_equal(gh_pup(p, a, 2, 0, pg), 2);
	assert_int_equal(gh_pup(p, h, 4, 0, pg + 2), 4);
	assert_int_equal(gh_info(p, h).pincount, 4);
	/* Mixed order, NULL holes, runs of the same THP. */
	arr[0] = pg[2];
	arr[1] = pg[3];
	arr[2] = NULL;
	arr[3] = pg[0];
	arr[4] = NULL;
	arr[5] = pg[4];
	arr[6] = pg[5];
	arr[7] = pg[1];
	/* An errno-like count is a caller bug: WARN, nothing released. */
	unpin_user_pages(arr, (unsigned long)-EFAULT);
	assert_counters(m, c, 6, 0, 0);
	unpin_user_pages(arr, 8);
	assert_counters(m, c, 6, 6, 0);
	assert_int_equal(gh_info(p, h).pincount, 0);
	assert_int_equal(gh_info(p, a).refcount, 1);
	assert_int_equal(gh_info(p, a + PG).refcount, 1);
	unpin_user_pages(NULL, 0);
	gh_done(m);
}

/* §1.6: the dirty_lock variants mark folios dirty before dropping pins. */
static void test_unpin_dirty_lock(void **state)
{
	struct pinmm *m = gh_boot("thp=madvise");
	struct pinmm_proc *p = test_proc(m);
	unsigned long h = gh_thp(p, 1);
	struct page *pg[4];
	struct counters c;
	long f;
	int fd;
	(void)state;

	fd = pinmm_memfd_create(p, "dirty", 0);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd, (long)(4 * PG)), 0);
	f = pinmm_mmap(p, 0, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(f > 0);
	for (int i = 0; i < 4; i++)
		(void)test_load8(p, (unsigned long)f + i * PG);	/* read faults */
	for (int i = 0; i < 4; i++)
		assert_false(gh_info(p, (unsigned long)f + i * PG).dirty);
	c = counters(m);

	assert_int_equal(gh_pup(p, (unsigned long)f, 4, 0, pg), 4);
	unpin_user_pages_dirty_lock(pg, 2, false);
	assert_false(gh_info(p, (unsigned long)f).dirty);
	unpin_user_pages_dirty_lock(pg + 2, 2, true);
	assert_true(gh_info(p, (unsigned long)f + 2 * PG).dirty);
	assert_true(gh_info(p, (unsigned long)f + 3 * PG).dirty);
	assert_counters(m, c, 4, 4, 0);
	assert_int_equal(gh_info(p, (unsigned long)f + 3 * PG).pincount, 0);

	/* Range form over physically contiguous subpages of a THP. */
	assert_int_equal(gh_pup(p, h + 10 * PG, 3, 0, pg), 3);
	assert_int_equal(page_to_pfn(pg[2]), page_to_pfn(pg[0]) + 2);
	unpin_user_page_range_dirty_lock(pg[0], 3, true);
	assert_int_equal(gh_info(p, h).pincount, 0);
	assert_true(gh_info(p, h).dirty);
	assert_counters(m, c, 7, 7, 0);

	/* set_page_dirty_lock on a pinned page. */
	assert_int_equal(gh_pup(p, (unsigned long)f, 1, 0, pg), 1);
	(void)set_page_dirty_lock(pg[0]);
	assert_true(gh_info(p, (unsigned long)f).dirty);
	unpin_user_page(pg[0]);
	assert_int_equal(pinmm_close(p, fd), 0);
	gh_done(m);
}

/* §1.6: unpin_folio, unpin_folios (identical neighbours coalesce, NULL skipped). */
static void test_unpin_folios(void **state)
{
	struct pinmm *m = gh_boot("thp=madvise");
	struct pinmm_proc *p = test_proc(m);
	unsigned long h = gh_thp(p, 1);
	unsigned long a = test_mmap_anon(p, PG);
	struct page *pg[4];
	struct folio *f[5];
	struct counters c;
	(void)state;

	test_store8(p, a, 1);
	c = counters(m);
	assert_int_equal(gh_pup(p, h, 3, 0, pg), 3);
	assert_int_equal(gh_pup(p, a, 1, 0, pg + 3), 1);
	unpin_folio(page_folio(pg[0]));
	assert_int_equal(gh_info(p, h).pincount, 2);
	f[0] = page_folio(pg[1]);
	f[1] = NULL;
	f[2] = page_folio(pg[2]);
	f[3] = page_folio(pg[3]);
	f[4] = NULL;
	unpin_folios(f, 5);
	assert_int_equal(gh_info(p, h).pincount, 0);
	assert_int_equal(gh_info(p, a).refcount, 1);
	assert_counters(m, c, 4, 4, 0);
	gh_done(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_folio_bias),
		cmocka_unit_test(test_thp_pincount_per_page),
		cmocka_unit_test(test_zero_page_never_pinned),
		cmocka_unit_test(test_get_never_counts_and_mixing),
		cmocka_unit_test(test_unpin_not_pinned),
		cmocka_unit_test(test_refcount_overflow),
		cmocka_unit_test(test_mmf_has_pinned),
		cmocka_unit_test(test_unpin_user_pages_array),
		cmocka_unit_test(test_unpin_dirty_lock),
		cmocka_unit_test(test_unpin_folios),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
