/* SPDX-License-Identifier: MIT */
/*
 * Description: GUP conformance, GUP-fast (doc/GUP-SEMANTICS.md §3).
 * Populated anon memory is pinned without the slow path; unpopulated,
 * zero-page, read-only-for-write and non-exclusive read-only entries are
 * handed to the slow path which still returns the right pages;
 * get_user_pages_fast_only never falls back; PMD leaves are pinned whole;
 * writable long-term pins of file pages: shmem passes, a dirty-tracked
 * mapping falls back and gets -EFAULT; the answers equal the slow path's.
 * Public API, except the simulated dirty-tracked mapping ("mm.h").
 */
#include "gup_helpers.h"

#include "mm.h"

#define fallbacks(m) gh_vm(m, "gup_fast_fallback")

/* Populated, writable, exclusive anon memory: no slow path at all. */
static void test_populated_no_fallback(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 8 * PG);
	struct page *pg[8];
	long fb, slow, calls;
	(void)state;

	for (int i = 0; i < 8; i++)
		test_store8(p, a + i * PG, (uint8_t)i);
	calls = gh_vm(m, "gup_fast_calls");
	fb = fallbacks(m);
	slow = gh_vm(m, "gup_slow_calls");
	assert_int_equal(pin_user_pages_fast(a, 8, FOLL_WRITE, pg), 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(page_to_pfn(pg[i]), gh_info(p, a + i * PG).pfn);
	unpin_user_pages(pg, 8);
	assert_int_equal(pin_user_pages_fast(a, 8, FOLL_WRITE | FOLL_LONGTERM, pg), 8);
	unpin_user_pages(pg, 8);
	assert_int_equal(pin_user_pages_fast(a, 8, 0, pg), 8);
	unpin_user_pages(pg, 8);
	assert_int_equal(get_user_pages_fast(a, 8, FOLL_WRITE, pg), 8);
	for (int i = 0; i < 8; i++)
		put_page(pg[i]);
	assert_int_equal(get_user_pages_fast_only(a, 8, FOLL_WRITE, pg), 8);
	for (int i = 0; i < 8; i++)
		put_page(pg[i]);
	assert_int_equal(fallbacks(m), fb);
	assert_int_equal(gh_vm(m, "gup_slow_calls"), slow);
	assert_int_equal(gh_vm(m, "gup_fast_calls"), calls + 5);
	gh_done(m);
}

/* Unpopulated memory and the zero page go to the slow path. */
static void test_fallback_unpopulated_and_zero(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);
	struct page *pg[4];
	long fb;
	(void)state;

	test_store8(p, a, 1);
	(void)test_load8(p, a + 2 * PG);	/* zero page */
	fb = fallbacks(m);
	/* [data, none, zero, none] read pin: fast stops at page 1. */
	assert_int_equal(pin_user_pages_fast(a, 4, 0, pg), 4);
	assert_int_equal(fallbacks(m), fb + 1);
	assert_int_equal(page_to_pfn(pg[0]), gh_info(p, a).pfn);
	for (int i = 1; i < 4; i++) {
		assert_true(gh_info(p, a + i * PG).zero_page);
		assert_int_equal(page_to_pfn(pg[i]), gh_info(p, a + i * PG).pfn);
	}
	unpin_user_pages(pg, 4);
	/* Zero page only: fast cannot grab the special PTE. */
	assert_int_equal(pin_user_pages_fast(a + 2 * PG, 1, 0, pg), 1);
	assert_int_equal(fallbacks(m), fb + 2);
	unpin_user_page(pg[0]);
	/* Write pin over zero/none: the slow path faults real pages. */
	assert_int_equal(pin_user_pages_fast(a + PG, 3, FOLL_WRITE, pg), 3);
	assert_int_equal(fallbacks(m), fb + 3);
	for (int i = 1; i < 4; i++) {
		struct pinmm_page_info pi = gh_info(p, a + i * PG);

		assert_false(pi.zero_page);
		assert_true(pi.writable);
		assert_int_equal(pi.pfn, page_to_pfn(pg[i - 1]));
	}
	unpin_user_pages(pg, 3);
	gh_done(m);
}

/* R/O PTE with FOLL_WRITE, and R/O pins of non-exclusive pages. */
static void test_fallback_after_fork(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m), *c = NULL;
	unsigned long a = test_mmap_anon(p, 2 * PG);
	struct page *pg[2], *g = NULL;
	unsigned long shared0, shared1;
	long fb, unshare, cow;
	(void)state;

	gh_store(p, a, "A");
	gh_store(p, a + PG, "B");
	assert_int_equal(pinmm_fork(p, &c), 0);
	pinmm_set_current(p);
	shared0 = gh_info(p, a).pfn;
	shared1 = gh_info(p, a + PG).pfn;

	/* FOLL_GET of a shared page needs no unshare: fast succeeds. */
	fb = fallbacks(m);
	assert_int_equal(get_user_pages_fast(a, 1, 0, &g), 1);
	assert_int_equal(page_to_pfn(g), shared0);
	put_page(g);
	assert_int_equal(fallbacks(m), fb);

	/* R/O pin of a non-exclusive page: fallback, unshare. */
	unshare = gh_vm(m, "unshare_fault");
	assert_int_equal(pin_user_pages_fast(a, 1, 0, pg), 1);
	assert_int_equal(fallbacks(m), fb + 1);
	assert_int_equal(gh_vm(m, "unshare_fault"), unshare + 1);
	assert_int_not_equal(page_to_pfn(pg[0]), shared0);
	assert_int_equal(page_to_pfn(pg[0]), gh_info(p, a).pfn);
	gh_kexpect(pg[0], 0, "A");

	/* Write pin of a R/O PTE: fallback, COW broken. */
	cow = gh_vm(m, "cow_fault");
	assert_int_equal(pin_user_pages_fast(a + PG, 1, FOLL_WRITE, pg + 1), 1);
	assert_int_equal(fallbacks(m), fb + 2);
	assert_int_equal(gh_vm(m, "cow_fault"), cow + 1);
	assert_int_not_equal(page_to_pfn(pg[1]), shared1);
	assert_true(gh_info(p, a + PG).writable);
	gh_kstore(pg[1], 0, "W");
	gh_expect(p, a + PG, "W");
	gh_expect(c, a + PG, "B");
	gh_expect(c, a, "A");

	/* Now both pages are exclusive: no more fallbacks. */
	unpin_user_pages(pg, 2);
	assert_int_equal(pin_user_pages_fast(a, 2, 0, pg), 2);
	assert_int_equal(fallbacks(m), fb + 2);
	unpin_user_pages(pg, 2);
	assert_int_equal(pinmm_exit(c), 0);
	gh_done(m);
}

/* get_user_pages_fast_only: short counts, possibly 0, never the slow path. */
static void test_fast_only_never_falls_back(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);
	struct page *pg[4] = { 0 };
	long fb, slow;
	(void)state;

	test_store8(p, a, 1);
	test_store8(p, a + PG, 1);
	test_store8(p, a + 3 * PG, 1);
	fb = fallbacks(m);
	slow = gh_vm(m, "gup_slow_calls");
	assert_int_equal(get_user_pages_fast_only(a, 4, 0, pg), 2);
	put_page(pg[0]);
	put_page(pg[1]);
	assert_int_equal(get_user_pages_fast_only(a + 2 * PG, 2, 0, pg), 0);
	assert_false(gh_info(p, a + 2 * PG).present);	/* not faulted */
	/* R/O PTE for a write: 0 as well. */
	assert_int_equal(pinmm_mprotect(p, a, 4 * PG, PROT_READ), 0);
	assert_int_equal(get_user_pages_fast_only(a, 1, FOLL_WRITE, pg), 0);
	assert_int_equal(fallbacks(m), fb);
	assert_int_equal(gh_vm(m, "gup_slow_calls"), slow);
	assert_int_equal(gh_info(p, a).refcount, 1);
	gh_done(m);
}

/* PMD leaves: every subpage exact, pins counted per page, no fallback. */
static void test_thp_leaf(void **state)
{
	struct pinmm *m = gh_boot("thp=madvise");
	struct pinmm_proc *p = test_proc(m);
	unsigned long h = gh_thp(p, 2);
	unsigned long pfn0 = gh_info(p, h).pfn, pfn1 = gh_info(p, h + HPAGE_SIZE).pfn;
	static struct page *pg[HPAGE_NR + 8];
	long fb = fallbacks(m);
	int n = HPAGE_NR;
	(void)state;

	/* From the middle of the first THP into the second. */
	assert_int_equal(pin_user_pages_fast(h + 500 * PG, 20, FOLL_WRITE, pg), 20);
	for (int i = 0; i < 20; i++) {
		unsigned long want = i < 12 ? pfn0 + 500 + i : pfn1 + (i - 12);

		assert_int_equal(page_to_pfn(pg[i]), want);
	}
	assert_int_equal(gh_info(p, h).pincount, 12);
	assert_int_equal(gh_info(p, h + HPAGE_SIZE).pincount, 8);
	assert_true(gh_info(p, h).huge_mapped);
	unpin_user_pages(pg, 20);
	assert_int_equal(get_user_pages_fast(h, n, 0, pg), n);
	for (int i = 0; i < n; i++)
		put_page(pg[i]);
	assert_int_equal(fallbacks(m), fb);
	assert_int_equal(gh_info(p, h).pincount, 0);
	gh_done(m);
}

/* Writable long-term pins of shmem are fine in GUP-fast. */
static void test_longterm_write_shmem(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	struct page *pg[2];
	long f, fb, ro;
	int fd;
	(void)state;

	fd = pinmm_memfd_create(p, "lt", 0);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd, (long)(2 * PG)), 0);
	f = pinmm_mmap(p, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(f > 0);
	gh_store(p, (unsigned long)f, "x");
	gh_store(p, (unsigned long)f + PG, "y");
	fb = fallbacks(m);
	assert_int_equal(pin_user_pages_fast((unsigned long)f, 2,
					     FOLL_WRITE | FOLL_LONGTERM, pg), 2);
	assert_int_equal(fallbacks(m), fb);
	gh_kexpect(pg[1], 0, "y");
	unpin_user_pages(pg, 2);
	/* R/O long-term through a writable PTE: nothing to unshare, fast. */
	assert_int_equal(pin_user_pages_fast((unsigned long)f, 1, FOLL_LONGTERM, pg), 1);
	assert_int_equal(fallbacks(m), fb);
	unpin_user_page(pg[0]);
	/* Through a read-only PTE, fast cannot know whether the VMA is a COW
	 * mapping (§3.3 step 7) and falls back; the slow path sees a shared
	 * mapping and pins the page-cache page as it is. */
	ro = pinmm_mmap(p, 0, PG, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(ro > 0);
	gh_expect(p, (unsigned long)ro, "x");
	assert_false(gh_info(p, (unsigned long)ro).writable);
	assert_int_equal(pin_user_pages_fast((unsigned long)ro, 1, FOLL_LONGTERM, pg), 1);
	assert_int_equal(fallbacks(m), fb + 1);
	assert_false(gh_info(p, (unsigned long)ro).anon);
	assert_int_equal(page_to_pfn(pg[0]), gh_info(p, (unsigned long)f).pfn);
	unpin_user_page(pg[0]);
	/* A short-term R/O pin needs no VMA: fast. */
	assert_int_equal(pin_user_pages_fast((unsigned long)ro, 1, 0, pg), 1);
	assert_int_equal(fallbacks(m), fb + 1);
	unpin_user_page(pg[0]);
	assert_int_equal(pinmm_close(p, fd), 0);
	gh_done(m);
}

static vm_fault_t fake_mkwrite(struct vm_fault *vmf)
{
	(void)vmf;
	return 0;
}

/*
 * A dirty-tracked shared file mapping (regular-fs MAP_SHARED).  pinmm has
 * no writeback filesystem yet, so one is simulated on a memfd page: the
 * VMA gains ->page_mkwrite (vma_needs_dirty_tracking()) and the folio
 * loses PG_swapbacked (not shmem for gup_fast_folio_allowed()).
 */
static void test_longterm_write_dirty_tracked_refused(void **state)
{
	static struct vm_operations_struct ops;
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	struct mm_struct *mm = pinmm_proc_mm(p);
	const struct vm_operations_struct *saved;
	struct vm_area_struct *vma;
	struct page *pg[1] = { 0 };
	struct folio *folio;
	long f, fb;
	int fd;
	(void)state;

	fd = pinmm_memfd_create(p, "dt", 0);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd, (long)PG), 0);
	f = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(f > 0);
	gh_store(p, (unsigned long)f, "dt");
	assert_int_equal(get_user_pages_fast((unsigned long)f, 1, 0, pg), 1);
	folio = page_folio(pg[0]);
	put_page(pg[0]);

	mmap_write_lock(mm);
	vma = find_vma(mm, (unsigned long)f);
	saved = vma->vm_ops;
	ops = *saved;
	ops.page_mkwrite = fake_mkwrite;
	vma->vm_ops = &ops;
	mmap_write_unlock(mm);
	folio_clear_SwapBacked(folio);

	fb = fallbacks(m);
	assert_int_equal(pin_user_pages_fast((unsigned long)f, 1, FOLL_WRITE | FOLL_LONGTERM, pg),
			 -EFAULT);
	assert_int_equal(fallbacks(m), fb + 1);
	assert_int_equal(gh_pup(p, (unsigned long)f, 1, FOLL_WRITE | FOLL_LONGTERM, pg), -EFAULT);
	/* Short-term writable and long-term read-only pins are allowed. */
	assert_int_equal(pin_user_pages_fast((unsigned long)f, 1, FOLL_WRITE, pg), 1);
	unpin_user_page(pg[0]);
	assert_int_equal(gh_pup(p, (unsigned long)f, 1, FOLL_LONGTERM, pg), 1);
	unpin_user_page(pg[0]);
	assert_int_equal(gh_info(p, (unsigned long)f).pincount, 0);

	folio_set_SwapBacked(folio);
	mmap_write_lock(mm);
	vma->vm_ops = saved;
	mmap_write_unlock(mm);
	assert_int_equal(pinmm_close(p, fd), 0);
	gh_done(m);
}

/* The fast forms return exactly what the slow path returns. */
static void test_same_answers_as_slow(void **state)
{
	struct pinmm *m = gh_boot("thp=madvise");
	struct pinmm_proc *p = test_proc(m);
	unsigned long h = gh_thp(p, 1);
	unsigned long a = test_mmap_anon(p, 8 * PG);
	struct page *fast[8], *slow[8];
	struct { unsigned long addr; unsigned int flags; } cases[] = {
		{ a, 0 }, { a, FOLL_WRITE }, { a, FOLL_LONGTERM },
		{ h + 100 * PG, 0 }, { h + 100 * PG, FOLL_WRITE | FOLL_LONGTERM },
	};
	(void)state;

	for (int i = 0; i < 8; i += 2)
		test_store8(p, a + i * PG, (uint8_t)i);	/* odd pages: untouched */
	(void)test_load8(p, a + PG);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		assert_int_equal(gh_pup(p, cases[c].addr, 8, cases[c].flags, slow), 8);
		assert_int_equal(pin_user_pages_fast(cases[c].addr, 8, cases[c].flags, fast), 8);
		for (int i = 0; i < 8; i++)
			assert_ptr_equal(fast[i], slow[i]);
		unpin_user_pages(fast, 8);
		unpin_user_pages(slow, 8);
		assert_int_equal(gh_gup(p, cases[c].addr, 8, cases[c].flags & FOLL_WRITE, slow), 8);
		assert_int_equal(get_user_pages_fast(cases[c].addr, 8, cases[c].flags & FOLL_WRITE,
						     fast), 8);
		for (int i = 0; i < 8; i++) {
			assert_ptr_equal(fast[i], slow[i]);
			put_page(fast[i]);
			put_page(slow[i]);
		}
	}
	assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"), gh_vm(m, "nr_foll_pin_released"));
	gh_done(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_populated_no_fallback),
		cmocka_unit_test(test_fallback_unpopulated_and_zero),
		cmocka_unit_test(test_fallback_after_fork),
		cmocka_unit_test(test_fast_only_never_falls_back),
		cmocka_unit_test(test_thp_leaf),
		cmocka_unit_test(test_longterm_write_shmem),
		cmocka_unit_test(test_longterm_write_dirty_tracked_refused),
		cmocka_unit_test(test_same_answers_as_slow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
