/* SPDX-License-Identifier: MIT */
/*
 * Description: soft-dirty tracking and pinmm_clear_refs() (src/mm/
 * soft_dirty.c): new mappings read soft-dirty; clear_refs 4 clears the bit
 * and write-protects; the next write faults and sets it again without a
 * copy; mprotect(R/O) -> mprotect(R/W) then leaves the PTE read-only in a
 * writable VMA (what cow.c's clear_softdirty() relies on) and a R/O pin of
 * that exclusive page does not unshare; the bit survives swap-out and a
 * clean page swaps back in read-only; pinned pages are not
 * write-protected (pte_is_pinned); FOLL_FORCE writes take the fault that
 * sets the bit (can_follow_write_pte); shared mappings write-notify; bad
 * input.
 */
#include "gup_helpers.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define sd_boot(...) test_boot("ram=256M", "debug=2", "thp=never", __VA_ARGS__, NULL)

static void test_clear_and_refault(void **state)
{
	struct pinmm *m = sd_boot("quiet=1");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 2 * PG);
	struct pinmm_page_info pi;
	unsigned long pfn;

	(void)state;
	/* A new VMA is soft-dirty everywhere, populated or not. */
	assert_true(gh_info(p, a).soft_dirty);
	test_store8(p, a, 1);
	pfn = gh_info(p, a).pfn;
	assert_int_equal(pinmm_clear_refs(p, PINMM_CLEAR_REFS_SOFT_DIRTY), 0);
	pi = gh_info(p, a);
	assert_false(pi.soft_dirty);
	assert_false(pi.writable);
	assert_true(pi.present && pi.anon_exclusive);
	assert_false(gh_info(p, a + PG).soft_dirty);	/* hole: VM_SOFTDIRTY gone */
	/* The write faults, reuses the exclusive page and sets the bit. */
	test_store8(p, a, 2);
	pi = gh_info(p, a);
	assert_true(pi.soft_dirty && pi.writable);
	assert_int_equal(pi.pfn, pfn);
	assert_int_equal(gh_vm(m, "cow_fault"), 0);
	/* A read does not. */
	assert_int_equal(test_load8(p, a + PG), 0);
	assert_false(gh_info(p, a + PG).soft_dirty);
	test_shutdown_clean(m);
}

/* cow.c's RO_PIN_TEST_RO_EXCLUSIVE sequence. */
static void test_mprotect_keeps_ro(void **state)
{
	struct pinmm *m = sd_boot("quiet=1");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, PG), b = test_mmap_anon(p, PG);
	struct page *page;
	long unshare;

	(void)state;
	test_store8(p, a, 1);
	test_store8(p, b, 1);
	/* Without soft-dirty tracking mprotect() makes it writable at once. */
	assert_int_equal(pinmm_mprotect(p, b, PG, PROT_READ), 0);
	assert_int_equal(pinmm_mprotect(p, b, PG, PROT_READ | PROT_WRITE), 0);
	assert_true(gh_info(p, b).writable);

	assert_int_equal(pinmm_mprotect(p, a, PG, PROT_READ), 0);
	assert_int_equal(pinmm_clear_refs(p, PINMM_CLEAR_REFS_SOFT_DIRTY), 0);
	assert_int_equal(pinmm_mprotect(p, a, PG, PROT_READ | PROT_WRITE), 0);
	assert_false(gh_info(p, a).writable);		/* R/O PTE, writable VMA */
	assert_true(gh_info(p, a).anon_exclusive);
	/* A R/O pin of the exclusive page: no unshare, the pin follows writes. */
	unshare = gh_vm(m, "unshare_fault");
	assert_int_equal(pin_user_pages_fast(a, 1, FOLL_LONGTERM, &page), 1);
	assert_int_equal(gh_vm(m, "unshare_fault"), unshare);
	test_store8(p, a, 0x6b);
	assert_int_equal(((uint8_t *)kmap_local_page(page))[0], 0x6b);
	unpin_user_page(page);
	test_shutdown_clean(m);
}

/* The soft-dirty bit lives on in the swap entry. */
static void test_soft_dirty_through_swap(void **state)
{
	struct pinmm *m = sd_boot("swap=4M");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 2 * PG);
	struct pinmm_page_info pi;

	(void)state;
	test_store8(p, a, 1);
	test_store8(p, a + PG, 2);
	assert_int_equal(pinmm_clear_refs(p, PINMM_CLEAR_REFS_SOFT_DIRTY), 0);
	test_store8(p, a, 3);				/* dirty again */
	assert_int_equal(pinmm_madvise(p, a, 2 * PG, MADV_PAGEOUT), 0);
	pi = gh_info(p, a);
	assert_true(pi.swapped && pi.soft_dirty);
	pi = gh_info(p, a + PG);
	assert_true(pi.swapped);
	assert_false(pi.soft_dirty);
	/* Exclusive, yet swapped in read-only: tracking needs the write fault. */
	assert_int_equal(test_load8(p, a + PG), 2);
	pi = gh_info(p, a + PG);
	assert_true(pi.anon_exclusive);
	assert_false(pi.writable || pi.soft_dirty);
	assert_int_equal(test_load8(p, a), 3);
	assert_true(gh_info(p, a).writable);
	/* clear_refs clears it in a swap entry too. */
	assert_int_equal(pinmm_madvise(p, a, PG, MADV_PAGEOUT), 0);
	assert_true(gh_info(p, a).soft_dirty);
	assert_int_equal(pinmm_clear_refs(p, PINMM_CLEAR_REFS_SOFT_DIRTY), 0);
	assert_false(gh_info(p, a).soft_dirty);
	assert_true(gh_info(p, a).swapped);
	test_shutdown_clean(m);
}

/* pte_is_pinned(): a maybe-pinned page stays writable (and soft-dirty). */
static void test_pinned_not_write_protected(void **state)
{
	struct pinmm *m = sd_boot("quiet=1");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 2 * PG);
	struct page *page;

	(void)state;
	test_store8(p, a, 1);
	test_store8(p, a + PG, 1);
	assert_int_equal(pin_user_pages_fast(a, 1, FOLL_WRITE | FOLL_LONGTERM, &page), 1);
	assert_int_equal(pinmm_clear_refs(p, PINMM_CLEAR_REFS_SOFT_DIRTY), 0);
	assert_true(gh_info(p, a).writable && gh_info(p, a).soft_dirty);
	assert_false(gh_info(p, a + PG).writable || gh_info(p, a + PG).soft_dirty);
	unpin_user_page(page);
	test_shutdown_clean(m);
}

/* can_follow_write_pte(): FOLL_FORCE takes the fault soft-dirty needs. */
static void test_force_write_sets_soft_dirty(void **state)
{
	struct pinmm *m = sd_boot("quiet=1");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, PG);
	struct page *page;

	(void)state;
	test_store8(p, a, 1);
	assert_int_equal(pinmm_mprotect(p, a, PG, PROT_READ), 0);
	assert_int_equal(pinmm_clear_refs(p, PINMM_CLEAR_REFS_SOFT_DIRTY), 0);
	assert_false(gh_info(p, a).soft_dirty);
	/* The exclusive anon page could be written without a fault... */
	assert_int_equal(gh_gup(p, a, 1, FOLL_WRITE | FOLL_FORCE, &page), 1);
	/* ...but tracking wants the write seen: the fault set the bit. */
	assert_true(gh_info(p, a).soft_dirty);
	assert_false(gh_info(p, a).writable);		/* still a R/O VMA */
	put_page(page);
	test_shutdown_clean(m);
}

/* Shared writable mappings write-notify while tracking is on. */
static void test_shared_mapping(void **state)
{
	struct pinmm *m = sd_boot("quiet=1");
	struct pinmm_proc *p = test_proc(m);
	long s = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned long a = (unsigned long)s;

	(void)state;
	assert_true(s > 0);
	test_store8(p, a, 1);
	assert_true(gh_info(p, a).writable);
	assert_int_equal(pinmm_clear_refs(p, PINMM_CLEAR_REFS_SOFT_DIRTY), 0);
	assert_false(gh_info(p, a).writable || gh_info(p, a).soft_dirty);
	assert_int_equal(pinmm_mprotect(p, a, PG, PROT_READ), 0);
	assert_int_equal(pinmm_mprotect(p, a, PG, PROT_READ | PROT_WRITE), 0);
	assert_false(gh_info(p, a).writable);
	test_store8(p, a, 2);
	assert_true(gh_info(p, a).writable && gh_info(p, a).soft_dirty);
	assert_int_equal(test_load8(p, a), 2);
	test_shutdown_clean(m);
}

static void test_clear_refs_bad_input(void **state)
{
	struct pinmm *m = sd_boot("quiet=1");
	struct pinmm_proc *p = test_proc(m), *q;
	unsigned long a = test_mmap_anon(p, PG);

	(void)state;
	test_store8(p, a, 1);
	assert_int_equal(pinmm_clear_refs(NULL, 4), -EINVAL);
	assert_int_equal(pinmm_clear_refs(p, 0), -EINVAL);
	assert_int_equal(pinmm_clear_refs(p, 6), -EINVAL);
	assert_int_equal(pinmm_clear_refs(p, -1), -EINVAL);
	/* Rejected calls change nothing. */
	assert_true(gh_info(p, a).writable && gh_info(p, a).soft_dirty);
	/* 1-3 age pages, 5 (peak RSS) is accepted: no soft-dirty change. */
	for (int w = 1; w <= 5; w++)
		if (w != 4)
			assert_int_equal(pinmm_clear_refs(p, w), 0);
	assert_true(gh_info(p, a).writable && gh_info(p, a).soft_dirty);
	assert_int_equal(test_load8(p, a), 1);
	assert_int_equal(pinmm_proc_create(m, &q), 0);
	assert_int_equal(pinmm_exit(q), 0);
	assert_int_equal(pinmm_clear_refs(q, 4), -ESRCH);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clear_and_refault),
		cmocka_unit_test(test_mprotect_keeps_ro),
		cmocka_unit_test(test_soft_dirty_through_swap),
		cmocka_unit_test(test_pinned_not_write_protected),
		cmocka_unit_test(test_force_write_sets_soft_dirty),
		cmocka_unit_test(test_shared_mapping),
		cmocka_unit_test(test_clear_refs_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
