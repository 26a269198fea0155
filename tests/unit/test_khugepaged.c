/* SPDX-License-Identifier: MIT */
/*
 * Description: collapsing PTE-mapped anonymous memory into a PMD-mapped
 * THP, as Linux 6.x: MADV_COLLAPSE of small pages and of a PTE-mapped
 * 2 MiB folio (contents kept, old pages freed, new folio exclusive), its
 * answers (whatever thp= says; -EINVAL for VM_NOHUGEPAGE, shared, file and
 * never-touched ranges; a range of zero pages only collapses, as Linux 6.18
 * which dropped SCAN_PAGE_RO; ranges without a whole aligned PMD
 * ignored; -ENOMEM for an unmapped hole; -EAGAIN while a page is pinned or
 * GUP-referenced, with the pin still coherent, then success once it is
 * released); khugepaged (pinmm_khugepaged_scan()): registration by
 * MADV_HUGEPAGE, max_ptes_none, pinned pages refused, fork registering the
 * child; the periodic khugepaged thread (khugepaged.scan_sleep_ms) doing
 * its work without an explicit scan; -ENOMEM when the THP cannot be
 * allocated; the counters.
 */
#include <stdio.h>

#include <pinmm/fault.h>

#include "helpers.h"
#include "gup_helpers.h"

#include "mm.h"

/* A 2 MiB-aligned range of @nr_huge PMDs, each page written "page <i>". */
static unsigned long small_pages(struct pinmm_proc *p, int nr_huge)
{
	size_t len = (size_t)nr_huge * HPAGE_SIZE;
	unsigned long raw = test_mmap_anon(p, len + HPAGE_SIZE);
	unsigned long a = (raw + HPAGE_SIZE - 1) & ~(HPAGE_SIZE - 1);

	for (unsigned long i = 0; i < len / PG; i++) {
		char buf[32];

		snprintf(buf, sizeof(buf), "page %lu", i);
		gh_store(p, a + i * PG + 8, buf);
	}
	assert_false(gh_info(p, a).huge_mapped);
	assert_int_equal(gh_info(p, a).folio_order, 0);
	return a;
}

static void expect_pages(struct pinmm_proc *p, unsigned long a, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		char buf[32];

		snprintf(buf, sizeof(buf), "page %lu", i);
		gh_expect(p, a + i * PG + 8, buf);
	}
}

static void expect_collapsed(struct pinmm_proc *p, unsigned long a)
{
	struct pinmm_page_info pi = gh_info(p, a + 3 * PG);

	assert_true(pi.present && pi.huge_mapped && pi.anon && pi.anon_exclusive);
	assert_int_equal(pi.folio_order, 9);
	assert_int_equal(pi.mapcount, 1);
	assert_true(pi.writable);
}

static void test_collapse_small_pages(void **state)
{
	/* thp=never: MADV_COLLAPSE ignores the policy (Linux 6.x). */
	struct pinmm *m = gh_boot("thp=never");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = small_pages(p, 2);
	long anon = gh_vm(m, "nr_anon_pages");
	(void)state;

	assert_int_equal(pinmm_madvise(p, a, 2 * HPAGE_SIZE, MADV_COLLAPSE), 0);
	expect_collapsed(p, a);
	expect_collapsed(p, a + HPAGE_SIZE);
	expect_pages(p, a, 2 * HPAGE_NR);
	assert_int_equal(gh_vm(m, "thp_collapse_alloc"), 2);
	assert_int_equal(gh_vm(m, "nr_anon_transparent_hugepages"), 2);
	assert_int_equal(gh_vm(m, "nr_anon_pages"), anon);
	/* Already PMD-mapped: success, nothing allocated. */
	assert_int_equal(pinmm_madvise(p, a, HPAGE_SIZE, MADV_COLLAPSE), 0);
	assert_int_equal(gh_vm(m, "thp_collapse_alloc"), 2);
	/* The new THP behaves: a write reuses it, a split keeps contents. */
	gh_store(p, a + 5 * PG + 8, "written");
	assert_int_equal(pinmm_mprotect(p, a + PG, PG, PROT_READ), 0);
	gh_expect(p, a + 5 * PG + 8, "written");
	gh_done(m);
}

static void test_collapse_holes_and_zero_pages(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long raw = test_mmap_anon(p, 2 * HPAGE_SIZE);
	unsigned long a = (raw + HPAGE_SIZE - 1) & ~(HPAGE_SIZE - 1);
	char buf[8];
	(void)state;

	gh_store(p, a + 7 * PG, "seven");
	assert_int_equal(pinmm_load(p, a + 9 * PG, buf, 1), 1);	/* zero page */
	assert_true(gh_info(p, a + 9 * PG).zero_page);
	assert_int_equal(pinmm_madvise(p, a, HPAGE_SIZE, MADV_COLLAPSE), 0);
	expect_collapsed(p, a);
	gh_expect(p, a + 7 * PG, "seven");
	assert_int_equal(pinmm_load(p, a + 9 * PG, buf, 8), 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(buf[i], 0);
	gh_done(m);
}

static void test_collapse_pte_mapped_thp(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = gh_thp(p, 1);
	unsigned long old_pfn;
	struct pinmm_page_info pi;
	(void)state;

	for (unsigned long i = 0; i < HPAGE_NR; i++) {
		char s[32];

		snprintf(s, sizeof(s), "page %lu", i);
		gh_store(p, a + i * PG + 8, s);
	}
	/* Split the PMD mapping: one 2 MiB folio under 512 PTEs. */
	assert_int_equal(pinmm_mprotect(p, a + PG, PG, PROT_READ), 0);
	assert_int_equal(pinmm_mprotect(p, a + PG, PG, PROT_READ | PROT_WRITE), 0);
	pi = gh_info(p, a);
	assert_false(pi.huge_mapped);
	assert_int_equal(pi.folio_order, 9);
	old_pfn = pi.pfn;
	assert_int_equal(pinmm_madvise(p, a, HPAGE_SIZE, MADV_COLLAPSE), 0);
	expect_collapsed(p, a);
	assert_true(gh_info(p, a).pfn != old_pfn);	/* Linux copies, too */
	expect_pages(p, a, HPAGE_NR);
	assert_int_equal(gh_vm(m, "nr_anon_transparent_hugepages"), 1);
	gh_done(m);	/* the old folio was freed: no leak */
}

/* A pin on one page: refused (-EAGAIN), nothing changed, pin coherent. */
static void collapse_refused_while_pinned(struct pinmm *m, struct pinmm_proc *p,
					  unsigned long a, bool large)
{
	struct page *pin;
	struct pinmm_page_info before, after;
	long refused = gh_vm(m, "thp_collapse_refused_refcount");

	assert_int_equal(gh_pup(p, a + 5 * PG, 1, FOLL_WRITE | FOLL_LONGTERM, &pin), 1);
	before = gh_info(p, a + 5 * PG);
	assert_true(before.maybe_dma_pinned);
	assert_int_equal(pinmm_madvise(p, a, HPAGE_SIZE, MADV_COLLAPSE), -EAGAIN);
	assert_true(gh_vm(m, "thp_collapse_refused_refcount") > refused);
	after = gh_info(p, a + 5 * PG);
	assert_false(after.huge_mapped);
	assert_int_equal(after.pfn, before.pfn);
	assert_int_equal(after.folio_order, large ? 9 : 0);
	assert_true(after.maybe_dma_pinned && after.writable);
	assert_int_equal(after.refcount, before.refcount);
	/* The pin and the mapping still see the same page, both ways. */
	gh_store(p, a + 5 * PG + 64, "from the process");
	gh_kexpect(pin, 64, "from the process");
	gh_kstore(pin, 200, "from the device");
	gh_expect(p, a + 5 * PG + 200, "from the device");
	unpin_user_page(pin);
	assert_int_equal(pinmm_madvise(p, a, HPAGE_SIZE, MADV_COLLAPSE), 0);
	expect_collapsed(p, a);
	gh_expect(p, a + 5 * PG + 200, "from the device");
}

static void test_collapse_pinned(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = small_pages(p, 1), b;
	struct page *got;
	(void)state;

	collapse_refused_while_pinned(m, p, a, false);
	expect_pages(p, a, 5);
	/* A PTE-mapped 2 MiB folio with one page pinned (exact _pincount). */
	b = gh_thp(p, 1);
	assert_int_equal(pinmm_mprotect(p, b + PG, PG, PROT_READ), 0);
	assert_int_equal(pinmm_mprotect(p, b + PG, PG, PROT_READ | PROT_WRITE), 0);
	collapse_refused_while_pinned(m, p, b, true);
	/* A plain GUP reference (FOLL_GET) refuses too, as Linux's refcount test. */
	a = small_pages(p, 1);
	assert_int_equal(gh_gup(p, a + 9 * PG, 1, 0, &got), 1);
	assert_int_equal(pinmm_madvise(p, a, HPAGE_SIZE, MADV_COLLAPSE), -EAGAIN);
	put_page(got);
	assert_int_equal(pinmm_madvise(p, a, HPAGE_SIZE, MADV_COLLAPSE), 0);
	gh_done(m);
}

static void test_collapse_errors(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = small_pages(p, 1), raw;
	long s;
	(void)state;

	/* VM_NOHUGEPAGE: -EINVAL, nothing collapsed. */
	assert_int_equal(pinmm_madvise(p, a, HPAGE_SIZE, MADV_NOHUGEPAGE), 0);
	assert_int_equal(pinmm_madvise(p, a, HPAGE_SIZE, MADV_COLLAPSE), -EINVAL);
	assert_false(gh_info(p, a).huge_mapped);
	assert_int_equal(pinmm_madvise(p, a, HPAGE_SIZE, MADV_HUGEPAGE), 0);
	/* A range that holds no whole aligned PMD is ignored. */
	assert_int_equal(pinmm_madvise(p, a + PG, HPAGE_SIZE - 2 * PG, MADV_COLLAPSE), 0);
	assert_false(gh_info(p, a).huge_mapped);
	/* Part of the range unmapped: what is mapped is done, then -ENOMEM. */
	assert_int_equal(pinmm_munmap(p, a + HPAGE_SIZE, HPAGE_SIZE), 0);
	assert_int_equal(pinmm_madvise(p, a, 2 * HPAGE_SIZE, MADV_COLLAPSE), -ENOMEM);
	expect_collapsed(p, a);
	/* Never touched: no page table -> -EINVAL, as Linux's SCAN_PMD_NONE. */
	raw = test_mmap_anon(p, 2 * HPAGE_SIZE);
	raw = (raw + HPAGE_SIZE - 1) & ~(HPAGE_SIZE - 1);
	assert_int_equal(pinmm_madvise(p, raw, HPAGE_SIZE, MADV_COLLAPSE), -EINVAL);
	/*
	 * Only one zero page mapped, nothing writable: Linux 6.18 collapses it
	 * (no SCAN_PAGE_RO any more; MADV_COLLAPSE has no max_ptes_none).
	 */
	{
		char c;

		assert_int_equal(pinmm_load(p, raw + 3 * PG, &c, 1), 1);
		assert_int_equal(pinmm_madvise(p, raw, HPAGE_SIZE, MADV_COLLAPSE), 0);
		assert_true(gh_info(p, raw).huge_mapped);
		assert_int_equal(pinmm_load(p, raw + 3 * PG, &c, 1), 1);
		assert_int_equal(c, 0);
	}
	/* Shared anonymous memory (shmem): -EINVAL, as without CONFIG_SHMEM. */
	s = pinmm_mmap(p, 0, 4 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(s > 0);
	gh_store(p, ((unsigned long)s + HPAGE_SIZE - 1) & ~(HPAGE_SIZE - 1), "shared");
	assert_int_equal(pinmm_madvise(p, (unsigned long)s, 4 * MiB, MADV_COLLAPSE), -EINVAL);
	/* A private file mapping (memfd): -EINVAL, no file THP collapse. */
	{
		int fd = pinmm_memfd_create(p, "collapse", 0);
		long f;

		assert_true(fd >= 0);
		assert_int_equal(pinmm_ftruncate(p, fd, 4 * MiB), 0);
		f = pinmm_mmap(p, 0, 4 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		assert_true(f > 0);
		gh_store(p, (unsigned long)f + HPAGE_SIZE, "private copy");
		assert_int_equal(pinmm_madvise(p, (unsigned long)f, 4 * MiB, MADV_COLLAPSE),
				 -EINVAL);
		assert_int_equal(pinmm_close(p, fd), 0);
	}
	/* Unaligned start: -EINVAL as for any advice; nothing mapped: -ENOMEM. */
	assert_int_equal(pinmm_madvise(p, a + 1, PG, MADV_COLLAPSE), -EINVAL);
	assert_int_equal(pinmm_madvise(p, a + HPAGE_SIZE, HPAGE_SIZE, MADV_COLLAPSE), -ENOMEM);
	assert_int_equal(gh_vm(m, "thp_collapse_alloc_failed"), 0);
	gh_done(m);
}

static void test_collapse_shared_after_fork(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m), *c;
	unsigned long a = small_pages(p, 1);
	(void)state;

	/* The upper half is not shared with the child, so a PTE stays writable. */
	assert_int_equal(pinmm_madvise(p, a + HPAGE_SIZE / 2, HPAGE_SIZE / 2, MADV_DONTFORK), 0);
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(pinmm_madvise(p, a, HPAGE_SIZE, MADV_DOFORK), 0);
	assert_int_equal(pinmm_madvise(p, a, HPAGE_SIZE, MADV_COLLAPSE), 0);
	expect_collapsed(p, a);
	/* The parent's writes stay its own; the child keeps the old pages. */
	gh_store(p, a + 8, "parent");
	gh_expect(c, a + 8, "page 0");
	gh_expect(p, a + 8, "parent");
	expect_pages(c, a, HPAGE_NR / 2);
	assert_int_equal(pinmm_exit(c), 0);
	gh_done(m);
}

static void test_khugepaged_scan(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m), *c;
	unsigned long a = small_pages(p, 2);
	(void)state;

	assert_int_equal(pinmm_khugepaged_scan(NULL, 1), -EINVAL);
	assert_int_equal(pinmm_khugepaged_scan(m, 0), -EINVAL);
	/* thp=madvise without MADV_HUGEPAGE: not registered, nothing done. */
	assert_int_equal(pinmm_khugepaged_scan(m, 1), 0);
	assert_false(gh_info(p, a).huge_mapped);
	assert_int_equal(pinmm_madvise(p, a, 2 * HPAGE_SIZE, MADV_HUGEPAGE), 0);
	assert_int_equal(pinmm_khugepaged_scan(m, 1), 2);
	expect_collapsed(p, a);
	expect_collapsed(p, a + HPAGE_SIZE);
	expect_pages(p, a, 2 * HPAGE_NR);
	assert_int_equal(gh_vm(m, "khugepaged_pages_collapsed"), 2);
	assert_true(gh_vm(m, "khugepaged_full_scans") >= 1);
	assert_int_equal(pinmm_khugepaged_scan(m, 2), 0);
	/*
	 * fork registers the child.  Its write split its PMD: 511 PTEs still
	 * map the parent's folio, more than max_ptes_shared (256) allows.
	 */
	assert_int_equal(pinmm_fork(p, &c), 0);
	gh_store(c, a + 8, "child");		/* COW splits the child's PMD */
	assert_false(gh_info(c, a).huge_mapped);
	assert_int_equal(pinmm_khugepaged_scan(m, 1), 0);
	assert_true(gh_vm(m, "thp_scan_exceed_share_pte") > 0);
	/*
	 * Drop all but the child's own page (not the whole 2 MiB: that would
	 * free the PTE table, and the next fault would map a THP itself).
	 */
	assert_int_equal(pinmm_madvise(c, a + PAGE_SIZE, HPAGE_SIZE - PAGE_SIZE,
				       MADV_DONTNEED), 0);
	assert_int_equal(pinmm_khugepaged_scan(m, 1), 1);	/* the child's range */
	assert_true(gh_info(c, a).huge_mapped);
	gh_expect(c, a + 8, "child");
	gh_expect(p, a + 8, "page 0");
	assert_int_equal(pinmm_exit(c), 0);
	/* The exited child's slot goes at the next pass. */
	assert_int_equal(pinmm_khugepaged_scan(m, 1), 0);
	gh_done(m);
}

static void test_khugepaged_limits(void **state)
{
	struct pinmm *m = gh_boot("khugepaged.max_ptes_none=0");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = small_pages(p, 1), b;
	struct page *pin;
	(void)state;

	assert_int_equal(pinmm_madvise(p, a, HPAGE_SIZE, MADV_DONTNEED), 0);
	gh_store(p, a + 8, "only");
	assert_int_equal(pinmm_madvise(p, a, HPAGE_SIZE, MADV_HUGEPAGE), 0);
	assert_int_equal(pinmm_khugepaged_scan(m, 1), 0);
	assert_true(gh_vm(m, "thp_scan_exceed_none_pte") > 0);
	assert_false(gh_info(p, a).huge_mapped);
	/* MADV_COLLAPSE has no such limit. */
	assert_int_equal(pinmm_madvise(p, a, HPAGE_SIZE, MADV_COLLAPSE), 0);
	gh_expect(p, a + 8, "only");
	/* A pinned page: khugepaged leaves the range alone. */
	b = small_pages(p, 1);
	assert_int_equal(pinmm_madvise(p, b, HPAGE_SIZE, MADV_HUGEPAGE), 0);
	assert_int_equal(gh_pup(p, b + 2 * PG, 1, FOLL_LONGTERM, &pin), 1);
	assert_int_equal(pinmm_khugepaged_scan(m, 1), 0);
	assert_false(gh_info(p, b).huge_mapped);
	gh_kexpect(pin, 8, "page 2");
	unpin_user_page(pin);
	assert_int_equal(pinmm_khugepaged_scan(m, 1), 1);
	assert_true(gh_info(p, b).huge_mapped);
	gh_done(m);
}

static void test_khugepaged_thread(void **state)
{
	struct pinmm *m = gh_boot("khugepaged.scan_sleep_ms=5", "khugepaged.pages_to_scan=512");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = small_pages(p, 2);
	(void)state;

	assert_int_equal(pinmm_madvise(p, a, 2 * HPAGE_SIZE, MADV_HUGEPAGE), 0);
	/* The counter moves after the PMD is set: wait for it, then look. */
	TEST_WAIT_UNTIL(gh_vm(m, "khugepaged_pages_collapsed") == 2, 10000,
			"khugepaged's thread to collapse both ranges");
	assert_true(gh_info(p, a).huge_mapped && gh_info(p, a + HPAGE_SIZE).huge_mapped);
	expect_pages(p, a, 2 * HPAGE_NR);
	gh_done(m);	/* stops the thread */
}

static void test_collapse_enomem(void **state)
{
	struct pinmm *m = gh_boot("quiet=1");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = small_pages(p, 1);
	(void)state;

	/* The next frame allocation of collapse.c fails, once. */
	pinmm_fail_reset();
	assert_int_equal(pinmm_fail_configure("fail.filter", "collapse.c"), 0);
	assert_int_equal(pinmm_fail_configure("fail.times", "1"), 0);
	assert_int_equal(pinmm_fail_configure("fail.probability", "100"), 0);
	assert_int_equal(pinmm_madvise(p, a, HPAGE_SIZE, MADV_COLLAPSE), -ENOMEM);
	pinmm_fail_reset();
	assert_int_equal(gh_vm(m, "thp_collapse_alloc_failed"), 1);
	assert_false(gh_info(p, a).huge_mapped);
	expect_pages(p, a, HPAGE_NR);
	assert_int_equal(pinmm_madvise(p, a, HPAGE_SIZE, MADV_COLLAPSE), 0);
	expect_collapsed(p, a);
	gh_done(m);
}

/*
 * A hugetlb mapping is never collapsed or scanned: MADV_COLLAPSE is
 * -EINVAL (Linux's thp_vma_allowable_order() refuses VM_HUGETLB) and the
 * huge page stays as it was.
 */
static void test_collapse_hugetlb(void **state)
{
	struct pinmm *m = gh_boot("hugepages.2M=2");
	struct pinmm_proc *p = test_proc(m);
	long a = pinmm_mmap(p, 0, HPAGE_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	unsigned long pfn;
	(void)state;

	assert_true(a > 0);
	gh_store(p, (unsigned long)a + 8, "hugetlb");
	pfn = gh_info(p, (unsigned long)a).pfn;
	assert_true(gh_info(p, (unsigned long)a).hugetlb);
	assert_int_equal(pinmm_madvise(p, (unsigned long)a, HPAGE_SIZE, MADV_COLLAPSE), -EINVAL);
	assert_int_equal(pinmm_khugepaged_scan(m, 2), 0);
	assert_int_equal(gh_info(p, (unsigned long)a).pfn, pfn);
	gh_expect(p, (unsigned long)a + 8, "hugetlb");
	gh_done(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collapse_small_pages),
		cmocka_unit_test(test_collapse_holes_and_zero_pages),
		cmocka_unit_test(test_collapse_pte_mapped_thp),
		cmocka_unit_test(test_collapse_pinned),
		cmocka_unit_test(test_collapse_errors),
		cmocka_unit_test(test_collapse_shared_after_fork),
		cmocka_unit_test(test_khugepaged_scan),
		cmocka_unit_test(test_khugepaged_limits),
		cmocka_unit_test(test_khugepaged_thread),
		cmocka_unit_test(test_collapse_enomem),
		cmocka_unit_test(test_collapse_hugetlb),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
