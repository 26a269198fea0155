/* SPDX-License-Identifier: MIT */
/*
 * Description: GUP conformance, the slow path (doc/GUP-SEMANTICS.md §4).
 * Faults on demand, COW breaking by write pins after fork, the unshare
 * fault of read-only pins on shared anon pages (and no copy for exclusive
 * ones), FOLL_LONGTERM read-only pins in COW mappings (zero page, MAP_PRIVATE
 * memfd page) that break COW early, the remote forms on another process
 * with and without a `locked` pointer, the *_unlocked forms, and
 * FOLL_SPLIT_PMD.  Public API only.
 */
#include "gup_helpers.h"

/* A write pin faults the page in: present, writable, exclusive, zeroed. */
static void test_faults_on_demand(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);
	long faults = gh_vm(m, "pgfault");
	struct page *pg[4];
	struct pinmm_page_info pi;
	(void)state;

	for (int i = 0; i < 4; i++)
		assert_false(gh_info(p, a + i * PG).present);
	assert_int_equal(gh_pup(p, a, 4, FOLL_WRITE, pg), 4);
	assert_true(gh_vm(m, "pgfault") >= faults + 4);
	for (int i = 0; i < 4; i++) {
		unsigned char *k = kmap_local_page(pg[i]);

		pi = gh_info(p, a + i * PG);
		assert_true(pi.present);
		assert_true(pi.writable);
		assert_true(pi.anon_exclusive);
		assert_false(pi.zero_page);
		assert_int_equal(pi.pfn, page_to_pfn(pg[i]));
		for (int j = 0; j < (int)PG; j++)
			assert_int_equal(k[j], 0);
		kunmap_local(k);
	}
	/* The pages are the process's memory, both ways. */
	gh_kstore(pg[1], 100, "dma");
	gh_expect(p, a + PG + 100, "dma");
	gh_store(p, a + 3 * PG, "cpu");
	gh_kexpect(pg[3], 0, "cpu");
	unpin_user_pages(pg, 4);
	gh_done(m);
}

/* FOLL_WRITE after fork: COW is broken, the pin is the parent's own page. */
static void test_write_pin_breaks_cow_after_fork(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m), *c = NULL;
	unsigned long a = test_mmap_anon(p, PG);
	struct page *page = NULL;
	struct pinmm_page_info pp, cp;
	long cow;
	(void)state;

	gh_store(p, a, "P0");
	assert_int_equal(pinmm_fork(p, &c), 0);
	pp = gh_info(p, a);
	cp = gh_info(c, a);
	assert_int_equal(pp.pfn, cp.pfn);
	assert_false(pp.anon_exclusive);
	assert_false(pp.writable);
	cow = gh_vm(m, "cow_fault");

	pinmm_set_current(p);
	assert_int_equal(gh_pup(p, a, 1, FOLL_WRITE, &page), 1);
	assert_int_equal(gh_vm(m, "cow_fault"), cow + 1);
	pp = gh_info(p, a);
	assert_int_equal(pp.pfn, page_to_pfn(page));
	assert_true(pp.anon_exclusive);
	assert_true(pp.writable);
	assert_int_not_equal(pp.pfn, gh_info(c, a).pfn);
	gh_kexpect(page, 0, "P0");

	gh_store(p, a, "P1");
	gh_kexpect(page, 0, "P1");
	gh_kstore(page, 0, "D1");
	gh_expect(p, a, "D1");
	gh_store(c, a, "C1");
	gh_kexpect(page, 0, "D1");
	gh_expect(c, a, "C1");
	unpin_user_page(page);
	assert_int_equal(pinmm_exit(c), 0);
	gh_done(m);
}

/* §4.5: a R/O pin of a shared anon page unshares (copies) first. */
static void test_ro_pin_unshares_shared_page(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m), *c = NULL;
	unsigned long a = test_mmap_anon(p, PG);
	struct page *page = NULL, *fast = NULL;
	struct pinmm_page_info pp;
	unsigned long shared_pfn;
	long unshare;
	(void)state;

	gh_store(p, a, "S0");
	assert_int_equal(pinmm_fork(p, &c), 0);
	shared_pfn = gh_info(p, a).pfn;
	unshare = gh_vm(m, "unshare_fault");

	pinmm_set_current(p);
	assert_int_equal(gh_pup(p, a, 1, 0, &page), 1);
	assert_int_equal(gh_vm(m, "unshare_fault"), unshare + 1);
	pp = gh_info(p, a);
	assert_int_not_equal(pp.pfn, shared_pfn);
	assert_int_equal(pp.pfn, page_to_pfn(page));
	assert_true(pp.anon_exclusive);
	assert_false(pp.writable);		/* unshare keeps the write-protection */
	assert_true(pp.maybe_dma_pinned);
	assert_int_equal(gh_info(c, a).pfn, shared_pfn);
	gh_kexpect(page, 0, "S0");

	/* Later writes by the process land in the pinned page (reuse). */
	gh_store(p, a, "S1");
	assert_int_equal(gh_info(p, a).pfn, page_to_pfn(page));
	gh_kexpect(page, 0, "S1");
	gh_expect(c, a, "S0");
	/* A second R/O pin, by GUP-fast, gets the same page. */
	assert_int_equal(pin_user_pages_fast(a, 1, 0, &fast), 1);
	assert_ptr_equal(fast, page);
	unpin_user_page(fast);
	unpin_user_page(page);
	assert_int_equal(pinmm_exit(c), 0);
	gh_done(m);
}

/* R/O pins of exclusive pages do not copy. */
static void test_ro_pin_exclusive_no_copy(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 2 * PG);
	struct page *pg[2];
	long unshare = gh_vm(m, "unshare_fault"), cow;
	unsigned long pfn;
	(void)state;

	gh_store(p, a, "E0");
	pfn = gh_info(p, a).pfn;
	assert_true(gh_info(p, a).anon_exclusive);
	assert_int_equal(gh_pup(p, a, 1, 0, pg), 1);
	assert_int_equal(page_to_pfn(pg[0]), pfn);
	assert_int_equal(gh_vm(m, "unshare_fault"), unshare);
	assert_int_equal(gh_info(p, a).pfn, pfn);
	/* Even after mprotect made the PTE read-only. */
	assert_int_equal(pinmm_mprotect(p, a, 2 * PG, PROT_READ), 0);
	assert_int_equal(gh_pup(p, a, 1, FOLL_LONGTERM, pg + 1), 1);
	assert_ptr_equal(pg[1], pg[0]);
	assert_int_equal(gh_vm(m, "unshare_fault"), unshare);
	/* Write access back: the write fault reuses the pinned page. */
	assert_int_equal(pinmm_mprotect(p, a, 2 * PG, PROT_READ | PROT_WRITE), 0);
	cow = gh_vm(m, "cow_fault");
	gh_store(p, a, "E1");
	assert_int_equal(gh_vm(m, "cow_fault"), cow);
	assert_int_equal(gh_info(p, a).pfn, pfn);
	gh_kexpect(pg[0], 0, "E1");
	unpin_user_pages(pg, 2);
	gh_done(m);
}

/* §4.5: R/O FOLL_LONGTERM of the zero page in a private mapping unshares. */
static void test_longterm_ro_zero_page_unshares(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 2 * PG);
	struct page *pg[2];
	struct pinmm_page_info pi;
	unsigned long zpfn;
	(void)state;

	assert_int_equal(test_load8(p, a), 0);
	zpfn = gh_info(p, a).pfn;
	assert_true(gh_info(p, a).zero_page);
	/* A short-term R/O pin gets the zero page itself. */
	assert_int_equal(gh_pup(p, a, 1, 0, pg), 1);
	assert_int_equal(page_to_pfn(pg[0]), zpfn);
	unpin_user_page(pg[0]);

	assert_int_equal(gh_pup(p, a, 1, FOLL_LONGTERM, pg), 1);
	pi = gh_info(p, a);
	assert_false(pi.zero_page);
	assert_true(pi.anon);
	assert_true(pi.anon_exclusive);
	assert_int_not_equal(page_to_pfn(pg[0]), zpfn);
	assert_int_equal(pi.pfn, page_to_pfn(pg[0]));
	assert_true(pi.maybe_dma_pinned);
	gh_kexpect(pg[0], 0, "");
	gh_store(p, a, "later");
	gh_kexpect(pg[0], 0, "later");
	/* The fast path gives the same answer for an unpopulated page. */
	assert_int_equal(pin_user_pages_fast(a + PG, 1, FOLL_LONGTERM, pg + 1), 1);
	assert_false(gh_info(p, a + PG).zero_page);
	assert_int_equal(gh_info(p, a + PG).pfn, page_to_pfn(pg[1]));
	unpin_user_pages(pg, 2);
	gh_done(m);
}

/* §4.5/§5.5: R/O FOLL_LONGTERM in a MAP_PRIVATE memfd mapping pins an anon copy. */
static void test_longterm_ro_private_file_cow_early(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	struct page *pg[2];
	char buf[8] = { 0 };
	long f;
	int fd;
	(void)state;

	fd = pinmm_memfd_create(p, "priv", 0);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd, (long)(2 * PG)), 0);
	assert_int_equal(pinmm_pwrite(p, fd, "file", 5, 0), 5);
	assert_int_equal(pinmm_pwrite(p, fd, "file", 5, (long)PG), 5);
	f = pinmm_mmap(p, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_true(f > 0);
	gh_expect(p, (unsigned long)f, "file");
	gh_expect(p, (unsigned long)f + PG, "file");
	assert_false(gh_info(p, (unsigned long)f).anon);

	/* Short-term R/O pin: the page-cache page as it is. */
	assert_int_equal(gh_pup(p, (unsigned long)f + PG, 1, 0, pg + 1), 1);
	assert_false(gh_info(p, (unsigned long)f + PG).anon);
	assert_int_equal(gh_info(p, (unsigned long)f + PG).pfn, page_to_pfn(pg[1]));
	unpin_user_page(pg[1]);

	/* Long-term R/O pin: COW broken early, an anon copy is pinned. */
	assert_int_equal(gh_pup(p, (unsigned long)f, 1, FOLL_LONGTERM, pg), 1);
	assert_true(gh_info(p, (unsigned long)f).anon);
	assert_true(gh_info(p, (unsigned long)f).anon_exclusive);
	assert_int_equal(gh_info(p, (unsigned long)f).pfn, page_to_pfn(pg[0]));
	gh_kexpect(pg[0], 0, "file");
	/* The pin keeps observing what the process writes there ... */
	gh_store(p, (unsigned long)f, "proc");
	gh_kexpect(pg[0], 0, "proc");
	/* ... and the file is untouched. */
	assert_int_equal(pinmm_pread(p, fd, buf, 5, 0), 5);
	assert_string_equal(buf, "file");
	unpin_user_page(pg[0]);
	assert_int_equal(pinmm_close(p, fd), 0);
	gh_done(m);
}

/* Remote forms on another process's mm. */
static void test_remote_forms(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *drv = test_proc(m);
	struct pinmm_proc *tgt = test_proc(m);
	struct mm_struct *mm = pinmm_proc_mm(tgt);
	unsigned long a = test_mmap_anon(tgt, 4 * PG);
	struct page *pg[4] = { 0 };
	int locked;
	long r;
	(void)state;

	gh_store(tgt, a, "T0");
	pinmm_set_current(drv);		/* the caller is another process */

	/* get_user_pages_remote, locked == NULL: lock held throughout. */
	mmap_read_lock(mm);
	r = get_user_pages_remote(mm, a, 2, FOLL_WRITE, pg, NULL);
	mmap_read_unlock(mm);
	assert_int_equal(r, 2);
	gh_kexpect(pg[0], 0, "T0");
	assert_int_equal(page_to_pfn(pg[1]), gh_info(tgt, a + PG).pfn);	/* faulted in */
	put_page(pg[0]);
	put_page(pg[1]);

	/* pin_user_pages_remote with a locked pointer. */
	locked = 1;
	mmap_read_lock(mm);
	r = pin_user_pages_remote(mm, a + PG, 3, FOLL_WRITE | FOLL_LONGTERM, pg, &locked);
	if (locked)
		mmap_read_unlock(mm);
	assert_int_equal(r, 3);
	for (int i = 0; i < 3; i++) {
		struct pinmm_page_info pi = gh_info(tgt, a + (1 + i) * PG);

		assert_int_equal(pi.pfn, page_to_pfn(pg[i]));
		assert_true(pi.maybe_dma_pinned);
	}
	gh_kstore(pg[2], 0, "remote");
	gh_expect(tgt, a + 3 * PG, "remote");
	unpin_user_pages(pg, 3);

	/* pin_user_pages_remote, locked == NULL. */
	mmap_read_lock(mm);
	r = pin_user_pages_remote(mm, a, 1, 0, pg, NULL);
	mmap_read_unlock(mm);
	assert_int_equal(r, 1);
	gh_kexpect(pg[0], 0, "T0");
	unpin_user_page(pg[0]);

	/* get_user_pages_remote with a locked pointer, error case. */
	locked = 1;
	mmap_read_lock(mm);
	r = get_user_pages_remote(mm, 0x10000, 1, 0, pg, &locked);
	if (locked)
		mmap_read_unlock(mm);
	assert_int_equal(r, -EFAULT);
	gh_done(m);
}

/* *_unlocked forms: GUP takes and releases the lock itself. */
static void test_unlocked_forms(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);
	struct page *pg[4];
	(void)state;

	gh_store(p, a, "U0");
	assert_int_equal(get_user_pages_unlocked(a, 4, pg, FOLL_WRITE), 4);
	gh_kexpect(pg[0], 0, "U0");
	for (int i = 0; i < 4; i++)
		put_page(pg[i]);
	assert_int_equal(pin_user_pages_unlocked(a, 4, pg, FOLL_WRITE | FOLL_LONGTERM), 4);
	gh_kstore(pg[3], 8, "U1");
	/* The lock was released: mmap (write lock) works. */
	assert_true(test_mmap_anon(p, PG) > 0);
	gh_expect(p, a + 3 * PG + 8, "U1");
	unpin_user_pages(pg, 4);
	assert_int_equal(pin_user_pages_unlocked(0x10000, 1, pg, 0), -EFAULT);
	assert_int_equal(get_user_pages_unlocked(0x10000, 1, pg, 0), -EFAULT);
	assert_true(test_mmap_anon(p, PG) > 0);
	gh_done(m);
}

/* FOLL_SPLIT_PMD splits the PMD mapping, not the folio. */
static void test_split_pmd(void **state)
{
	struct pinmm *m = gh_boot("thp=madvise");
	struct pinmm_proc *p = test_proc(m);
	unsigned long h = gh_thp(p, 1);
	unsigned long head_pfn = gh_info(p, h).pfn;
	long splits = gh_vm(m, "thp_split_pmd");
	struct page *pg[2];
	struct pinmm_page_info pi;
	(void)state;

	gh_store(p, h + 33 * PG, "sub");
	assert_int_equal(gh_pup(p, h + 33 * PG, 2, FOLL_SPLIT_PMD | FOLL_WRITE, pg), 2);
	assert_int_equal(page_to_pfn(pg[0]), head_pfn + 33);
	assert_int_equal(page_to_pfn(pg[1]), head_pfn + 34);
	gh_kexpect(pg[0], 0, "sub");
	pi = gh_info(p, h + 33 * PG);
	assert_false(pi.huge_mapped);
	assert_int_equal(pi.folio_order, 9);
	assert_int_equal(pi.pincount, 2);
	assert_int_equal(gh_vm(m, "thp_split_pmd"), splits + 1);
	/* The rest of the THP is still mapped, now by PTEs. */
	pi = gh_info(p, h + 400 * PG);
	assert_true(pi.present);
	assert_int_equal(pi.pfn, head_pfn + 400);
	unpin_user_pages(pg, 2);
	assert_int_equal(gh_gup(p, h, 1, FOLL_SPLIT_PMD, pg), 1);
	put_page(pg[0]);
	gh_done(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_faults_on_demand),
		cmocka_unit_test(test_write_pin_breaks_cow_after_fork),
		cmocka_unit_test(test_ro_pin_unshares_shared_page),
		cmocka_unit_test(test_ro_pin_exclusive_no_copy),
		cmocka_unit_test(test_longterm_ro_zero_page_unshares),
		cmocka_unit_test(test_longterm_ro_private_file_cow_early),
		cmocka_unit_test(test_remote_forms),
		cmocka_unit_test(test_unlocked_forms),
		cmocka_unit_test(test_split_pmd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
