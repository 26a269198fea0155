/* SPDX-License-Identifier: MIT */
/*
 * Description: GUP conformance, fork with pinned pages
 * (doc/GUP-SEMANTICS.md §6.1, the cow.c selftest checks).  A maybe-pinned
 * exclusive anon page is copied for the child at fork and the parent keeps
 * its pinned page writable and exclusive; writes by the parent (and by the
 * device) stay coherent with the pin, writes by the child never show
 * through it.  A pinned THP subpage makes fork copy the whole THP for the
 * child.  Without MMF_HAS_PINNED (FOLL_GET only) fork shares as usual.
 * Public API only.
 */
#include "gup_helpers.h"

/* Write pin, fork: child copies, parent keeps the pinned page. */
static void pinned_then_fork(unsigned int pin_flags)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m), *c = NULL;
	unsigned long a = test_mmap_anon(p, 2 * PG);
	struct pinmm_page_info pp, cp;
	struct page *page = NULL;
	long copies, shares;

	gh_store(p, a, "P0");
	gh_store(p, a + PG, "Q0");
	assert_int_equal(gh_pup(p, a, 1, pin_flags, &page), 1);
	copies = gh_vm(m, "fork_cow_copy");
	shares = gh_vm(m, "fork_cow_share");
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(gh_vm(m, "fork_cow_copy"), copies + 1);
	assert_int_equal(gh_vm(m, "fork_cow_share"), shares + 1);	/* a + PG */

	pp = gh_info(p, a);
	cp = gh_info(c, a);
	assert_int_equal(pp.pfn, page_to_pfn(page));
	assert_true(pp.writable);
	assert_true(pp.anon_exclusive);
	assert_true(pp.maybe_dma_pinned);
	assert_int_not_equal(cp.pfn, pp.pfn);
	assert_true(cp.anon_exclusive);
	assert_false(cp.maybe_dma_pinned);
	gh_expect(c, a, "P0");
	/* The unpinned page is COW-shared. */
	assert_int_equal(gh_info(c, a + PG).pfn, gh_info(p, a + PG).pfn);

	/* cow.c: only the parent's writes are visible through the pin. */
	gh_store(p, a, "P1");
	gh_kexpect(page, 0, "P1");
	gh_store(c, a, "C1");
	gh_kexpect(page, 0, "P1");
	gh_expect(c, a, "C1");
	gh_kstore(page, 0, "D1");
	gh_expect(p, a, "D1");
	gh_expect(c, a, "C1");
	assert_int_equal(gh_info(p, a).pfn, page_to_pfn(page));

	/* A second fork while still pinned: same story. */
	{
		struct pinmm_proc *c2 = NULL;

		assert_int_equal(pinmm_fork(p, &c2), 0);
		assert_int_equal(gh_info(p, a).pfn, page_to_pfn(page));
		assert_int_not_equal(gh_info(c2, a).pfn, page_to_pfn(page));
		gh_expect(c2, a, "D1");
		assert_int_equal(pinmm_exit(c2), 0);
	}
	unpin_user_page(page);
	assert_int_equal(pinmm_exit(c), 0);
	gh_done(m);
}

static void test_fork_write_pinned(void **state)
{
	(void)state;
	pinned_then_fork(FOLL_WRITE);
}

static void test_fork_ro_pinned(void **state)
{
	(void)state;
	pinned_then_fork(0);
}

static void test_fork_longterm_pinned(void **state)
{
	(void)state;
	pinned_then_fork(FOLL_LONGTERM);
}

/* A pin taken by GUP-fast is honoured the same way. */
static void test_fork_fast_pinned(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m), *c = NULL;
	unsigned long a = test_mmap_anon(p, PG);
	struct page *page = NULL;
	(void)state;

	gh_store(p, a, "F0");
	assert_int_equal(pin_user_pages_fast(a, 1, FOLL_WRITE | FOLL_LONGTERM, &page), 1);
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(gh_info(p, a).pfn, page_to_pfn(page));
	assert_int_not_equal(gh_info(c, a).pfn, page_to_pfn(page));
	gh_store(c, a, "C");
	gh_store(p, a, "P");
	gh_kexpect(page, 0, "P");
	unpin_user_page(page);
	assert_int_equal(pinmm_exit(c), 0);
	gh_done(m);
}

/* One pinned subpage: the child gets a copy of the whole THP. */
static void test_fork_thp_pinned(void **state)
{
	struct pinmm *m = gh_boot("thp=madvise");
	struct pinmm_proc *p = test_proc(m), *c = NULL;
	unsigned long h = gh_thp(p, 1);
	unsigned long pfn0 = gh_info(p, h).pfn;
	struct page *page = NULL;
	long copies;
	(void)state;

	gh_store(p, h + 7 * PG, "T0");
	gh_store(p, h + 300 * PG, "T300");
	assert_int_equal(gh_pup(p, h + 7 * PG, 1, FOLL_WRITE, &page), 1);
	copies = gh_vm(m, "fork_cow_copy");
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(gh_vm(m, "fork_cow_copy"), copies + HPAGE_NR);
	for (unsigned long i = 0; i < HPAGE_NR; i += 37) {
		struct pinmm_page_info pp = gh_info(p, h + i * PG), cp = gh_info(c, h + i * PG);

		assert_int_equal(pp.pfn, pfn0 + i);
		assert_true(pp.writable);
		assert_true(pp.anon_exclusive);
		assert_true(cp.present);
		assert_true(cp.anon_exclusive);
		assert_int_not_equal(cp.pfn, pp.pfn);
		assert_false(cp.maybe_dma_pinned);
	}
	gh_expect(c, h + 300 * PG, "T300");
	gh_expect(c, h + 7 * PG, "T0");
	assert_int_equal(test_load8(c, h), 0x5a);

	gh_store(c, h + 7 * PG, "child");
	gh_store(p, h + 7 * PG, "parent");
	gh_kexpect(page, 0, "parent");
	gh_kstore(page, 0, "dev");
	gh_expect(p, h + 7 * PG, "dev");
	gh_expect(c, h + 7 * PG, "child");
	assert_int_equal(gh_info(p, h + 7 * PG).pincount, 1);
	unpin_user_page(page);
	assert_int_equal(pinmm_exit(c), 0);
	gh_done(m);
}

/* FOLL_GET only: no MMF_HAS_PINNED, fork shares, the reference goes stale. */
static void test_fork_get_only_shares(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m), *c = NULL;
	unsigned long a = test_mmap_anon(p, PG);
	struct page *page = NULL;
	long copies, shares;
	unsigned long pfn;
	(void)state;

	gh_store(p, a, "G0");
	assert_int_equal(gh_gup(p, a, 1, FOLL_WRITE, &page), 1);
	pfn = page_to_pfn(page);
	copies = gh_vm(m, "fork_cow_copy");
	shares = gh_vm(m, "fork_cow_share");
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(gh_vm(m, "fork_cow_copy"), copies);
	assert_int_equal(gh_vm(m, "fork_cow_share"), shares + 1);
	assert_int_equal(gh_info(c, a).pfn, pfn);
	assert_int_equal(gh_info(p, a).pfn, pfn);
	assert_false(gh_info(p, a).anon_exclusive);
	assert_false(gh_info(p, a).writable);

	/* The parent's next write copies: the FOLL_GET page is left behind. */
	gh_store(p, a, "G1");
	assert_int_not_equal(gh_info(p, a).pfn, pfn);
	gh_kexpect(page, 0, "G0");
	gh_expect(c, a, "G0");
	put_page(page);
	assert_int_equal(pinmm_exit(c), 0);
	gh_done(m);
}

/* A pin on another page of the process does not stop sharing of this one. */
static void test_fork_only_pinned_pages_copied(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m), *c = NULL;
	unsigned long a = test_mmap_anon(p, 8 * PG);
	struct page *page = NULL;
	long copies, shares;
	(void)state;

	for (int i = 0; i < 8; i++)
		test_store8(p, a + i * PG, (uint8_t)i);
	assert_int_equal(pin_user_pages_fast(a + 4 * PG, 1, FOLL_WRITE, &page), 1);
	copies = gh_vm(m, "fork_cow_copy");
	shares = gh_vm(m, "fork_cow_share");
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(gh_vm(m, "fork_cow_copy") - copies, 1);
	assert_int_equal(gh_vm(m, "fork_cow_share") - shares, 7);
	/* After unpinning, the next fork shares everything. */
	unpin_user_page(page);
	assert_int_equal(pinmm_exit(c), 0);
	copies = gh_vm(m, "fork_cow_copy");
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(gh_vm(m, "fork_cow_copy"), copies);
	assert_int_equal(gh_info(c, a + 4 * PG).pfn, gh_info(p, a + 4 * PG).pfn);
	assert_int_equal(pinmm_exit(c), 0);
	gh_done(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_write_pinned),
		cmocka_unit_test(test_fork_ro_pinned),
		cmocka_unit_test(test_fork_longterm_pinned),
		cmocka_unit_test(test_fork_fast_pinned),
		cmocka_unit_test(test_fork_thp_pinned),
		cmocka_unit_test(test_fork_get_only_shares),
		cmocka_unit_test(test_fork_only_pinned_pages_copied),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
