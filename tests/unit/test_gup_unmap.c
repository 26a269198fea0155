/* SPDX-License-Identifier: MIT */
/*
 * Description: GUP conformance, unmapping under a pin
 * (doc/GUP-SEMANTICS.md §6.8, §6.9).  munmap, MADV_DONTNEED, exit and
 * truncate remove the mapping even though the page is pinned; the pin keeps
 * the old page alive (refcount keeps the pin, pinned_page_detached counts
 * it), the process re-faults a new zero-filled page, device writes through
 * kmap_local_page go to the old page only, and the last unpin frees it so
 * that shutdown is clean.  Small pages and THPs.  Public API only.
 */
#include "gup_helpers.h"

static void test_munmap_under_pin(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 2 * PG);
	struct page *pg[2];
	long det;
	(void)state;

	gh_store(p, a, "M0");
	gh_store(p, a + PG, "M1");
	assert_int_equal(gh_pup(p, a, 2, FOLL_WRITE, pg), 2);
	det = gh_vm(m, "pinned_page_detached");
	assert_int_equal(pinmm_munmap(p, a, 2 * PG), 0);
	assert_int_equal(gh_vm(m, "pinned_page_detached"), det + 2);
	/* No mapping, no page table reference: only the pin holds it. */
	assert_int_equal(folio_ref_count(page_folio(pg[0])), (int)GUP_PIN_COUNTING_BIAS);
	assert_true(folio_maybe_dma_pinned(page_folio(pg[0])));
	assert_int_equal(pinmm_load(p, a, (char[2]){ 0 }, 1), -EFAULT);
	gh_kexpect(pg[0], 0, "M0");
	gh_kstore(pg[1], 0, "dev");
	gh_kexpect(pg[1], 0, "dev");
	assert_int_equal(pinmm_audit(m), 0);

	/* The address space moves on: a new mapping there is zero-filled. */
	assert_int_equal(pinmm_mmap(p, a, 2 * PG, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), (long)a);
	assert_int_equal(test_load8(p, a), 0);
	test_store8(p, a + PG, 1);
	assert_int_not_equal(gh_info(p, a + PG).pfn, page_to_pfn(pg[1]));
	gh_kexpect(pg[1], 0, "dev");
	unpin_user_pages_dirty_lock(pg, 2, true);
	gh_done(m);
}

static void test_dontneed_under_pin(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, PG);
	struct page *page = NULL;
	unsigned long pfn;
	long det;
	(void)state;

	gh_store(p, a, "D0");
	pfn = gh_info(p, a).pfn;
	assert_int_equal(pin_user_pages_fast(a, 1, FOLL_WRITE | FOLL_LONGTERM, &page), 1);
	det = gh_vm(m, "pinned_page_detached");
	assert_int_equal(pinmm_madvise(p, a, PG, MADV_DONTNEED), 0);
	assert_int_equal(gh_vm(m, "pinned_page_detached"), det + 1);
	assert_false(gh_info(p, a).present);
	assert_int_equal(folio_ref_count(page_folio(page)), (int)GUP_PIN_COUNTING_BIAS);

	/* Re-fault: a new zero-filled page; the pinned one is not it. */
	assert_int_equal(test_load8(p, a), 0);
	gh_store(p, a, "new");
	assert_int_not_equal(gh_info(p, a).pfn, pfn);
	gh_kexpect(page, 0, "D0");
	gh_kstore(page, 0, "lost");
	gh_expect(p, a, "new");
	unpin_user_page(page);
	gh_done(m);
}

static void test_exit_under_pin(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);
	struct page *pg[4];
	long det;
	(void)state;

	for (int i = 0; i < 4; i++)
		test_store8(p, a + i * PG, (uint8_t)(0x10 + i));
	assert_int_equal(gh_pup(p, a, 4, FOLL_WRITE, pg), 4);
	det = gh_vm(m, "pinned_page_detached");
	pinmm_set_current(NULL);
	assert_int_equal(pinmm_exit(p), 0);
	assert_int_equal(gh_vm(m, "pinned_page_detached"), det + 4);
	for (int i = 0; i < 4; i++) {
		unsigned char *k = kmap_local_page(pg[i]);

		assert_int_equal(k[0], 0x10 + i);
		k[1] = 0xee;
		kunmap_local(k);
		assert_int_equal(folio_ref_count(page_folio(pg[i])), (int)GUP_PIN_COUNTING_BIAS);
	}
	assert_int_equal(pinmm_audit(m), 0);
	unpin_user_pages(pg, 4);
	assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"), gh_vm(m, "nr_foll_pin_released"));
	gh_done(m);
}

/* A pinned THP outlives munmap; DONTNEED of part of it splits the PMD. */
static void test_thp_unmap_under_pin(void **state)
{
	struct pinmm *m = gh_boot("thp=madvise");
	struct pinmm_proc *p = test_proc(m);
	unsigned long h = gh_thp(p, 2);
	unsigned long h2 = h + HPAGE_SIZE;
	struct page *pg[3];
	long det;
	(void)state;

	gh_store(p, h + 9 * PG, "H9");
	gh_store(p, h2 + 5 * PG, "K5");
	assert_int_equal(gh_pup(p, h + 9 * PG, 2, FOLL_WRITE, pg), 2);
	assert_int_equal(gh_pup(p, h2 + 5 * PG, 1, FOLL_WRITE, pg + 2), 1);
	det = gh_vm(m, "pinned_page_detached");

	/* munmap of the whole first THP. */
	assert_int_equal(pinmm_munmap(p, h, HPAGE_SIZE), 0);
	assert_true(gh_vm(m, "pinned_page_detached") > det);
	assert_int_equal(folio_ref_count(page_folio(pg[0])), 2);	/* two pins */
	assert_true(folio_maybe_dma_pinned(page_folio(pg[0])));
	gh_kexpect(pg[0], 0, "H9");
	gh_kstore(pg[1], 0, "dev");

	/* DONTNEED of the pinned subpage of the second THP. */
	det = gh_vm(m, "pinned_page_detached");
	assert_int_equal(pinmm_madvise(p, h2 + 5 * PG, PG, MADV_DONTNEED), 0);
	assert_true(gh_vm(m, "pinned_page_detached") > det);
	assert_false(gh_info(p, h2 + 5 * PG).present);
	assert_true(gh_info(p, h2 + 6 * PG).present);
	assert_false(gh_info(p, h2 + 6 * PG).huge_mapped);
	assert_int_equal(test_load8(p, h2 + 5 * PG), 0);
	gh_kexpect(pg[2], 0, "K5");
	assert_int_equal(gh_info(p, h2).pincount, 1);
	assert_int_equal(pinmm_audit(m), 0);

	unpin_user_pages(pg, 3);
	assert_int_equal(gh_info(p, h2).pincount, 0);
	gh_done(m);
}

/* §6.9: truncate removes a pinned page from the file; the pin keeps it. */
static void test_truncate_pinned_memfd(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	struct page *page = NULL;
	char buf[8] = { 1 };
	long f;
	int fd;
	(void)state;

	fd = pinmm_memfd_create(p, "trunc", 0);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd, (long)PG), 0);
	f = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(f > 0);
	gh_store(p, (unsigned long)f, "T0");
	assert_int_equal(gh_pup(p, (unsigned long)f, 1, FOLL_WRITE | FOLL_LONGTERM, &page), 1);

	assert_int_equal(pinmm_ftruncate(p, fd, 0), 0);
	assert_false(gh_info(p, (unsigned long)f).present);
	assert_int_equal(pinmm_load(p, (unsigned long)f, buf, 1), -EFAULT);	/* SIGBUS */
	gh_kexpect(page, 0, "T0");
	assert_true(folio_maybe_dma_pinned(page_folio(page)));
	/* Device writes now go nowhere the file can see. */
	gh_kstore(page, 0, "lost");
	assert_int_equal(pinmm_ftruncate(p, fd, (long)PG), 0);
	assert_int_equal(pinmm_pread(p, fd, buf, 5, 0), 5);
	assert_memory_equal(buf, "\0\0\0\0\0", 5);
	assert_int_equal(test_load8(p, (unsigned long)f), 0);
	assert_int_not_equal(gh_info(p, (unsigned long)f).pfn, page_to_pfn(page));
	/* GUP-fast does not pin the orphan again: it pins the new page. */
	{
		struct page *again = NULL;

		assert_int_equal(pin_user_pages_fast((unsigned long)f, 1, FOLL_WRITE, &again), 1);
		assert_ptr_not_equal(again, page);
		unpin_user_page(again);
	}
	unpin_user_pages_dirty_lock(&page, 1, true);
	assert_int_equal(pinmm_close(p, fd), 0);
	gh_done(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_munmap_under_pin),
		cmocka_unit_test(test_dontneed_under_pin),
		cmocka_unit_test(test_exit_under_pin),
		cmocka_unit_test(test_thp_unmap_under_pin),
		cmocka_unit_test(test_truncate_pinned_memfd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
