/* SPDX-License-Identifier: MIT */
/*
 * test_hugetlb_pin.c - GUP and pins on hugetlb pages: slow GUP and GUP-fast
 * on PMD (2 MiB) and PUD (1 GiB) leaves, exact pin counts, a pinned page
 * at munmap, fork and unshare, FOLL_LONGTERM migration out of ZONE_MOVABLE.
 */
#include "helpers.h"
#include <stdlib.h>
#include <pinmm/linux.h>

#define HP2M (2 * MiB)

static long vm(struct pinmm *m, const char *name)
{
	long v = pinmm_vmstat(m, name);

	assert_true(v >= 0);
	return v;
}

static long map_huge(struct pinmm_proc *p, size_t len, int flags)
{
	return pinmm_mmap(p, 0, len, PROT_READ | PROT_WRITE,
			  MAP_ANONYMOUS | MAP_HUGETLB | flags, -1, 0);
}

static struct page **pages_alloc(size_t n)
{
	struct page **pages = calloc(n, sizeof(*pages));

	assert_non_null(pages);
	return pages;
}

/* GUP-fast over a whole 2 MiB page: 512 subpages, one folio, exact pincount. */
static void test_pin_fast_pmd(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=2", "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m);
	long a = map_huge(p, HP2M, MAP_PRIVATE);
	struct page **pages = pages_alloc(512);
	struct pinmm_page_info pi;
	long before;

	(void)state;
	test_store8(p, (unsigned long)a + 5 * 4096, 0x42);
	before = vm(m, "gup_fast_fallback");
	assert_int_equal(pin_user_pages_fast((unsigned long)a, 512, FOLL_WRITE | FOLL_LONGTERM,
					     pages), 512);
	assert_int_equal(vm(m, "gup_fast_fallback"), before);	/* no slow path needed */
	for (int i = 1; i < 512; i++)
		assert_ptr_equal(page_folio(pages[i]), page_folio(pages[0]));
	assert_int_equal(page_to_pfn(pages[7]), page_to_pfn(pages[0]) + 7);
	assert_int_equal(((uint8_t *)kmap_local_page(pages[5]))[0], 0x42);
	assert_int_equal(pinmm_page_info(p, (unsigned long)a, &pi), 0);
	assert_int_equal(pi.pincount, 512);
	assert_true(pi.maybe_dma_pinned && pi.hugetlb);
	unpin_user_pages(pages, 512);
	assert_int_equal(pinmm_page_info(p, (unsigned long)a, &pi), 0);
	assert_int_equal(pi.pincount, 0);
	assert_int_equal(pi.refcount, 1);
	free(pages);
	test_shutdown_clean(m);
}

/* The slow path faults the page in and returns every subpage of the range. */
static void test_pin_slow_faults_in(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=2", "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m);
	long a = map_huge(p, 2 * HP2M, MAP_SHARED);
	struct page **pages = pages_alloc(1024);
	struct pinmm_page_info pi;
	long n, before;

	(void)state;
	/* Across the boundary of two huge pages, starting mid-page. */
	mmap_read_lock(pinmm_proc_mm(p));
	n = pin_user_pages((unsigned long)a + HP2M - 8 * 4096, 16, FOLL_WRITE, pages);
	mmap_read_unlock(pinmm_proc_mm(p));
	assert_int_equal(n, 16);
	assert_ptr_not_equal(page_folio(pages[7]), page_folio(pages[8]));
	assert_int_equal(pinmm_page_info(p, (unsigned long)a, &pi), 0);
	assert_int_equal(pi.pincount, 8);
	assert_false(pi.anon);
	assert_int_equal(pinmm_page_info(p, (unsigned long)a + HP2M, &pi), 0);
	assert_int_equal(pi.pincount, 8);
	unpin_user_pages(pages, 16);
	/* A writable long-term pin of shared hugetlb needs no slow path (§3.4). */
	before = vm(m, "gup_fast_fallback");
	assert_int_equal(pin_user_pages_fast((unsigned long)a, 512, FOLL_WRITE | FOLL_LONGTERM,
					     pages), 512);
	assert_int_equal(vm(m, "gup_fast_fallback"), before);
	unpin_user_pages(pages, 512);
	/* FOLL_SPLIT_PMD on hugetlb: -EOPNOTSUPP, as Linux. */
	mmap_read_lock(pinmm_proc_mm(p));
	assert_int_equal(get_user_pages((unsigned long)a, 1, FOLL_SPLIT_PMD, pages), -EOPNOTSUPP);
	mmap_read_unlock(pinmm_proc_mm(p));
	/* GUP (FOLL_GET) adds references, not pins. */
	assert_int_equal(get_user_pages_fast((unsigned long)a, 3, 0, pages), 3);
	assert_int_equal(pinmm_page_info(p, (unsigned long)a, &pi), 0);
	assert_int_equal(pi.pincount, 0);
	assert_false(pi.maybe_dma_pinned);
	for (int i = 0; i < 3; i++)
		put_page(pages[i]);
	free(pages);
	test_shutdown_clean(m);
}

/* A pinned page outlives munmap and goes back to the pool at the last unpin. */
static void test_pinned_at_munmap(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=1", "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m);
	long a = map_huge(p, HP2M, MAP_PRIVATE);
	struct page *page;

	(void)state;
	test_store8(p, (unsigned long)a + 100, 0x77);
	assert_int_equal(pin_user_pages_fast((unsigned long)a, 1, FOLL_WRITE, &page), 1);
	assert_int_equal(pinmm_munmap(p, (unsigned long)a, HP2M), 0);
	assert_int_equal(vm(m, "pinned_page_detached"), 1);
	assert_int_equal(vm(m, "free_hugepages_2048kB"), 0);
	assert_int_equal(((uint8_t *)kmap_local_page(page))[100], 0x77);
	assert_int_equal(pinmm_audit(m), 0);
	unpin_user_page(page);
	assert_int_equal(vm(m, "free_hugepages_2048kB"), 1);
	test_shutdown_clean(m);
}

/* GUP-fast on a PUD leaf: a 1 GiB page, pins across the whole range. */
static void test_pin_fast_pud(void **state)
{
	struct pinmm *m = test_boot("ram=3G", "hugepages.1G=1", "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m);
	long a = map_huge(p, GiB, MAP_SHARED | MAP_HUGE_1GB);
	struct page **pages = pages_alloc(1024);
	struct pinmm_page_info pi;
	long before;

	(void)state;
	test_store8(p, (unsigned long)a + 300 * MiB, 0x11);
	before = vm(m, "gup_fast_fallback");
	assert_int_equal(pin_user_pages_fast((unsigned long)a + 300 * MiB, 1024, FOLL_WRITE,
					     pages), 1024);
	assert_int_equal(vm(m, "gup_fast_fallback"), before);
	assert_int_equal(((uint8_t *)kmap_local_page(pages[0]))[0], 0x11);
	assert_int_equal(page_to_pfn(pages[1023]), page_to_pfn(pages[0]) + 1023);
	assert_int_equal(pinmm_page_info(p, (unsigned long)a, &pi), 0);
	assert_int_equal(pi.pincount, 1024);
	assert_int_equal(pi.folio_order, 18);
	unpin_user_pages(pages, 1024);
	/* The slow path on a PUD leaf too. */
	mmap_read_lock(pinmm_proc_mm(p));
	assert_int_equal(pin_user_pages((unsigned long)a + GiB - 2 * 4096, 2, 0, pages), 2);
	mmap_read_unlock(pinmm_proc_mm(p));
	assert_int_equal(page_to_pfn(pages[1]), page_to_pfn(pages[0]) + 1);
	unpin_user_pages(pages, 2);
	free(pages);
	test_shutdown_clean(m);
}

/*
 * fork with a pinned private page: the child gets a copy at fork
 * (copy_hugetlb_page_range), the parent keeps its pinned page writable.
 */
static void test_fork_copies_pinned(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=3", "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m), *c;
	long a = map_huge(p, HP2M, MAP_PRIVATE);
	struct pinmm_page_info pi, ci;
	struct page *page;

	(void)state;
	test_store8(p, (unsigned long)a, 1);
	assert_int_equal(pin_user_pages_fast((unsigned long)a, 1, FOLL_WRITE, &page), 1);
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(vm(m, "fork_cow_copy"), 512);
	assert_int_equal(pinmm_page_info(p, (unsigned long)a, &pi), 0);
	assert_int_equal(pinmm_page_info(c, (unsigned long)a, &ci), 0);
	assert_true(pi.writable && pi.anon_exclusive);
	assert_true(ci.present && ci.anon_exclusive);
	assert_int_not_equal(pi.pfn, ci.pfn);
	assert_int_equal(test_load8(c, (unsigned long)a), 1);
	/* The device's write is seen by the parent only. */
	((uint8_t *)kmap_local_page(page))[0] = 2;
	assert_int_equal(test_load8(p, (unsigned long)a), 2);
	assert_int_equal(test_load8(c, (unsigned long)a), 1);
	unpin_user_page(page);
	assert_int_equal(pinmm_exit(c), 0);
	test_shutdown_clean(m);
}

/*
 * A read-only FOLL_PIN on a private page shared with a child after fork
 * must unshare it first (gup_must_unshare): the parent gets its own copy,
 * exclusive, still mapped read-only; the child keeps the old page.
 */
static void test_ro_pin_unshares(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=3", "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m), *c;
	long a = map_huge(p, HP2M, MAP_PRIVATE);
	struct pinmm_page_info before, after, ci;
	struct page *page;

	(void)state;
	test_store8(p, (unsigned long)a, 5);
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(pinmm_page_info(p, (unsigned long)a, &before), 0);
	assert_false(before.anon_exclusive);
	assert_int_equal(pin_user_pages_fast((unsigned long)a, 1, 0, &page), 1);
	assert_int_equal(vm(m, "unshare_fault"), 1);
	assert_int_equal(pinmm_page_info(p, (unsigned long)a, &after), 0);
	assert_true(after.anon_exclusive && after.maybe_dma_pinned);
	assert_false(after.writable);
	assert_int_not_equal(after.pfn, before.pfn);
	assert_int_equal(page_to_pfn(page), after.pfn);
	assert_int_equal(pinmm_page_info(c, (unsigned long)a, &ci), 0);
	assert_int_equal(ci.pfn, before.pfn);
	/* The parent's later write reuses the pinned page: no second copy. */
	test_store8(p, (unsigned long)a, 6);
	assert_int_equal(pinmm_page_info(p, (unsigned long)a, &after), 0);
	assert_int_equal(page_to_pfn(page), after.pfn);
	assert_int_equal(test_load8(c, (unsigned long)a), 5);
	unpin_user_page(page);
	assert_int_equal(pinmm_exit(c), 0);
	test_shutdown_clean(m);
}

/*
 * FOLL_FORCE write into a read-only private mapping (ptrace's poke): the
 * fault copies the page, the pin gets the private copy, the mapping stays
 * read-only, and the GUP does not loop.
 */
static void test_force_write_ro_private(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=3", "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m), *c;
	long a = map_huge(p, HP2M, MAP_PRIVATE);
	struct pinmm_page_info pi;
	struct page *page;
	long n;

	(void)state;
	test_store8(p, (unsigned long)a, 3);
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(pinmm_mprotect(p, (unsigned long)a, HP2M, PROT_READ), 0);
	mmap_read_lock(pinmm_proc_mm(p));
	n = pin_user_pages((unsigned long)a, 1, FOLL_WRITE | FOLL_FORCE, &page);
	mmap_read_unlock(pinmm_proc_mm(p));
	assert_int_equal(n, 1);
	((uint8_t *)kmap_local_page(page))[0] = 4;
	assert_int_equal(pinmm_page_info(p, (unsigned long)a, &pi), 0);
	assert_false(pi.writable);
	assert_true(pi.anon_exclusive);
	assert_int_equal(test_load8(p, (unsigned long)a), 4);
	assert_int_equal(test_load8(c, (unsigned long)a), 3);
	unpin_user_page(page);
	assert_int_equal(pinmm_exit(c), 0);
	test_shutdown_clean(m);
}

/* FOLL_LONGTERM moves a hugetlb page out of ZONE_MOVABLE into a pool page elsewhere. */
static void test_longterm_migrates_out_of_movable(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "zone.movable=64M", "hugepages.2M=40",
				    "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m);
	long a = map_huge(p, HP2M, MAP_PRIVATE);
	struct pinmm_page_info pi;
	struct page *page;

	(void)state;
	test_store8(p, (unsigned long)a + 9, 0x99);
	assert_int_equal(pinmm_page_info(p, (unsigned long)a, &pi), 0);
	assert_string_equal(pi.zone, "movable");	/* the pool fills MOVABLE first */
	assert_int_equal(pin_user_pages_fast((unsigned long)a, 1, FOLL_WRITE | FOLL_LONGTERM,
					     &page), 1);
	assert_int_equal(pinmm_page_info(p, (unsigned long)a, &pi), 0);
	assert_string_equal(pi.zone, "normal");
	assert_true(pi.hugetlb && pi.maybe_dma_pinned && pi.anon_exclusive);
	assert_int_equal(page_to_pfn(page), pi.pfn);
	assert_int_equal(test_load8(p, (unsigned long)a + 9), 0x99);
	assert_int_equal(vm(m, "longterm_migrate"), 512);
	assert_int_equal(vm(m, "free_hugepages_2048kB"), 39);
	assert_int_equal(pinmm_audit(m), 0);
	unpin_user_page(page);
	test_shutdown_clean(m);
}

/* No pool page outside MOVABLE: the long-term pin fails, as Linux's -ENOMEM. */
static void test_longterm_no_target(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "zone.movable=64M", "hugepages.2M=2",
				    "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m);
	long a = map_huge(p, HP2M, MAP_PRIVATE);
	struct pinmm_page_info pi;
	struct page *page;

	(void)state;
	test_store8(p, (unsigned long)a, 1);
	assert_int_equal(pin_user_pages_fast((unsigned long)a, 1, FOLL_WRITE | FOLL_LONGTERM,
					     &page), -ENOMEM);
	assert_int_equal(pinmm_page_info(p, (unsigned long)a, &pi), 0);
	assert_int_equal(pi.pincount, 0);
	assert_string_equal(pi.zone, "movable");
	/* A short-term pin is fine there. */
	assert_int_equal(pin_user_pages_fast((unsigned long)a, 1, FOLL_WRITE, &page), 1);
	unpin_user_page(page);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_fast_pmd),
		cmocka_unit_test(test_pin_slow_faults_in),
		cmocka_unit_test(test_pinned_at_munmap),
		cmocka_unit_test(test_pin_fast_pud),
		cmocka_unit_test(test_fork_copies_pinned),
		cmocka_unit_test(test_ro_pin_unshares),
		cmocka_unit_test(test_force_write_ro_private),
		cmocka_unit_test(test_longterm_migrates_out_of_movable),
		cmocka_unit_test(test_longterm_no_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
