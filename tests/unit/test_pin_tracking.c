/* SPDX-License-Identifier: MIT */
/*
 * Description: pin-tracking strategies (pin.tracking=bias|exact|mapcount)
 * run through the same workloads.  Asserts where each strategy gives false
 * positives (bias: >= 1024 plain references look pinned; mapcount: any
 * plain get_user_pages reference looks pinned), that none gives a false
 * negative in single-threaded use, that exact has no false positives, and
 * what pinmm_page_info() reports as refcount and pincount under each.
 * Public API only.
 */
#include "gup_helpers.h"

static const char *const strategies[] = {
	"pin.tracking=bias", "pin.tracking=exact", "pin.tracking=mapcount",
};
enum { BIAS, EXACT, MAPCOUNT, NR_STRATEGIES };

/* One pin on a small folio: refcount and pincount per strategy. */
static void test_small_pin_per_strategy(void **state)
{
	static const int pin_ref[NR_STRATEGIES] = { 1024, 1, 1 };
	(void)state;

	for (int s = 0; s < NR_STRATEGIES; s++) {
		struct pinmm *m = gh_boot(strategies[s]);
		struct pinmm_proc *p = test_proc(m);
		unsigned long a = test_mmap_anon(p, PG);
		struct page *pg[2];
		struct pinmm_page_info pi;

		test_store8(p, a, 1);
		pi = gh_info(p, a);
		assert_false(pi.maybe_dma_pinned);
		assert_int_equal(pi.pincount, 0);

		assert_int_equal(gh_pup(p, a, 1, FOLL_WRITE, pg), 1);
		pi = gh_info(p, a);
		assert_true(pi.maybe_dma_pinned);	/* no false negative */
		assert_int_equal(pi.refcount, 1 + pin_ref[s]);
		assert_int_equal(pi.pincount, 1);
		assert_int_equal(pin_user_pages_fast(a, 1, 0, pg + 1), 1);
		pi = gh_info(p, a);
		assert_int_equal(pi.refcount, 1 + 2 * pin_ref[s]);
		assert_int_equal(pi.pincount, 2);
		unpin_user_pages(pg, 2);
		pi = gh_info(p, a);
		assert_false(pi.maybe_dma_pinned);
		assert_int_equal(pi.refcount, 1);
		assert_int_equal(pi.pincount, 0);
		assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"), 2);
		assert_int_equal(gh_vm(m, "nr_foll_pin_released"), 2);
		gh_done(m);
	}
}

/* Plain references: which strategies see a pin that is not there. */
static void test_false_positives(void **state)
{
	/* maybe pinned with 1 plain ref / with 1024 plain refs */
	static const bool fp_one[NR_STRATEGIES] = { false, false, true };
	static const bool fp_many[NR_STRATEGIES] = { true, false, true };
	static struct page *refs[1024];
	(void)state;

	for (int s = 0; s < NR_STRATEGIES; s++) {
		struct pinmm *m = gh_boot(strategies[s]);
		struct pinmm_proc *p = test_proc(m);
		unsigned long a = test_mmap_anon(p, PG);

		test_store8(p, a, 1);
		assert_int_equal(gh_gup(p, a, 1, 0, refs), 1);
		assert_int_equal(gh_info(p, a).maybe_dma_pinned, fp_one[s]);
		assert_int_equal(folio_maybe_dma_pinned(page_folio(refs[0])), fp_one[s]);
		for (int i = 1; i < 1024; i++)
			assert_int_equal(get_user_pages_fast(a, 1, 0, refs + i), 1);
		assert_int_equal(gh_info(p, a).refcount, 1025);
		assert_int_equal(gh_info(p, a).maybe_dma_pinned, fp_many[s]);
		if (s == BIAS)
			assert_int_equal(gh_info(p, a).pincount, 1);	/* 1025 / 1024 */
		if (s == EXACT)
			assert_int_equal(gh_info(p, a).pincount, 0);
		for (int i = 0; i < 1024; i++)
			put_page(refs[i]);
		assert_false(gh_info(p, a).maybe_dma_pinned);
		assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"), 0);
		gh_done(m);
	}
}

/* Pins mixed with plain references: never a false negative. */
static void test_no_false_negatives(void **state)
{
	(void)state;

	for (int s = 0; s < NR_STRATEGIES; s++) {
		struct pinmm *m = gh_boot(strategies[s]);
		struct pinmm_proc *p = test_proc(m), *c = NULL;
		unsigned long a = test_mmap_anon(p, 4 * PG);
		struct page *pin[4], *get[4];

		for (int i = 0; i < 4; i++)
			test_store8(p, a + i * PG, (uint8_t)i);
		assert_int_equal(gh_gup(p, a, 4, 0, get), 4);
		assert_int_equal(gh_pup(p, a + PG, 2, FOLL_LONGTERM, pin), 2);
		for (int i = 1; i < 3; i++)
			assert_true(gh_info(p, a + i * PG).maybe_dma_pinned);
		/* Fork copies the pinned pages under every strategy. */
		assert_int_equal(pinmm_fork(p, &c), 0);
		for (int i = 1; i < 3; i++) {
			assert_int_equal(gh_info(p, a + i * PG).pfn, page_to_pfn(pin[i - 1]));
			assert_int_not_equal(gh_info(c, a + i * PG).pfn, page_to_pfn(pin[i - 1]));
			assert_true(gh_info(p, a + i * PG).writable);
		}
		/* ... and, for mapcount, the FOLL_GET'd ones too (false positive). */
		if (s == MAPCOUNT)
			assert_int_not_equal(gh_info(c, a).pfn, page_to_pfn(get[0]));
		else
			assert_int_equal(gh_info(c, a).pfn, page_to_pfn(get[0]));
		/* Now mapped twice: the pinned pages still read as pinned. */
		gh_store(p, a + PG, "x");
		gh_kexpect(pin[0], 0, "x");
		for (int i = 1; i < 3; i++)
			assert_true(gh_info(p, a + i * PG).maybe_dma_pinned);
		assert_int_equal(pinmm_exit(c), 0);
		unpin_user_pages(pin, 2);
		for (int i = 0; i < 4; i++)
			put_page(get[i]);
		assert_false(gh_info(p, a + PG).maybe_dma_pinned);
		gh_done(m);
	}
}

/* THP pins are counted exactly by every strategy (per page). */
static void test_thp_per_strategy(void **state)
{
	(void)state;

	for (int s = 0; s < NR_STRATEGIES; s++) {
		struct pinmm *m = gh_boot(strategies[s], "thp=madvise");
		struct pinmm_proc *p = test_proc(m);
		unsigned long h = gh_thp(p, 1);
		int ref0 = gh_info(p, h).refcount;
		struct page *pg[3];

		assert_false(gh_info(p, h).maybe_dma_pinned);
		assert_int_equal(gh_pup(p, h + 5 * PG, 3, FOLL_WRITE, pg), 3);
		assert_true(gh_info(p, h).maybe_dma_pinned);
		assert_int_equal(gh_info(p, h).pincount, 3);
		assert_int_equal(gh_info(p, h).refcount, ref0 + 3);
		unpin_user_pages(pg, 3);
		assert_false(gh_info(p, h).maybe_dma_pinned);
		assert_int_equal(gh_info(p, h).pincount, 0);
		gh_done(m);
	}
}

/*
 * Unpinning a page that holds only a plain reference: bias and exact catch
 * it (WARN, unpin_not_pinned, nothing changes); mapcount cannot tell the
 * reference from a pin and consumes it (its false positive, seen from the
 * release side).
 */
static void test_unpin_not_pinned_per_strategy(void **state)
{
	(void)state;

	for (int s = 0; s < NR_STRATEGIES; s++) {
		struct pinmm *m = gh_boot(strategies[s], "quiet=1");
		struct pinmm_proc *p = test_proc(m);
		unsigned long a = test_mmap_anon(p, PG);
		struct page *g = NULL, *q = NULL;

		test_store8(p, a, 1);
		assert_int_equal(gh_gup(p, a, 1, 0, &g), 1);
		unpin_user_page(g);
		if (s != MAPCOUNT) {
			assert_int_equal(gh_vm(m, "unpin_not_pinned"), 1);
			assert_int_equal(gh_vm(m, "nr_foll_pin_released"), 0);
			assert_int_equal(gh_info(p, a).refcount, 2);
			put_page(g);
		} else {
			assert_int_equal(gh_vm(m, "unpin_not_pinned"), 0);
			assert_int_equal(gh_vm(m, "nr_foll_pin_released"), 1);
			assert_int_equal(gh_info(p, a).refcount, 1);
			/* Rebalance the counters: a pin whose reference is
			 * dropped as a plain one. */
			assert_int_equal(gh_pup(p, a, 1, 0, &q), 1);
			put_page(q);
		}
		assert_int_equal(gh_info(p, a).refcount, 1);
		assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"),
				 gh_vm(m, "nr_foll_pin_released"));
		gh_done(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_pin_per_strategy),
		cmocka_unit_test(test_false_positives),
		cmocka_unit_test(test_no_false_negatives),
		cmocka_unit_test(test_thp_per_strategy),
		cmocka_unit_test(test_unpin_not_pinned_per_strategy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
