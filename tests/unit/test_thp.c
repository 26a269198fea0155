/* SPDX-License-Identifier: MIT */
/*
 * Description: anonymous transparent huge pages: the thp=always, madvise
 * (+MADV_HUGEPAGE / MADV_NOHUGEPAGE) and never policies; the huge zero
 * folio on a read and a new THP on the following write (Linux >= 6.11;
 * the PMD split plus small COW where the policy no longer allows a THP); PMD splits on partial munmap, mprotect and DONTNEED;
 * fork sharing a THP and the COW after it; splitting the folio itself; and
 * the counters thp_fault_alloc, thp_split_pmd and thp_split_page.
 */
#include "helpers.h"

#include "mm.h"

#define PG 4096UL
#define HPAGE (2 * MiB)

static struct pinmm_page_info info(struct pinmm_proc *p, unsigned long addr)
{
	struct pinmm_page_info pi;

	assert_int_equal(pinmm_page_info(p, addr, &pi), 0);
	return pi;
}

/* A 2 MiB-aligned anonymous mapping of @n huge pages (plus flags). */
static unsigned long map_huge(struct pinmm_proc *p, int n)
{
	long a = pinmm_mmap(p, 0, n * HPAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(a > 0);
	assert_int_equal(a & (long)(HPAGE - 1), 0);
	return (unsigned long)a;
}

static long stat(struct pinmm *m, const char *name)
{
	long v = pinmm_vmstat(m, name);

	assert_true(v >= 0);
	return v;
}

static void test_thp_always(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=2", "thp=always", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_huge(p, 2);
	struct pinmm_page_info pi;

	test_store8(p, a + 12345, 0x11);
	pi = info(p, a + 5 * PG);
	assert_true(pi.present && pi.huge_mapped && pi.anon && pi.writable);
	assert_int_equal(pi.folio_order, 9);
	assert_true(pi.anon_exclusive);
	assert_int_equal(pi.mapcount, 1);
	assert_int_equal(stat(m, "thp_fault_alloc"), 1);
	assert_int_equal(stat(m, "nr_anon_transparent_hugepages"), 1);
	assert_int_equal(stat(m, "nr_anon_pages"), 512);
	/* Each subpage is the head's pfn + index. */
	assert_int_equal(info(p, a + 511 * PG).pfn, info(p, a).pfn + 511);
	/* The whole huge page is zero but the byte written. */
	assert_int_equal(test_load8(p, a + 12345), 0x11);
	assert_int_equal(test_load8(p, a + HPAGE - 1), 0);
	/* The second 2 MiB is untouched. */
	assert_false(info(p, a + HPAGE).present);

	/* A VMA smaller than 2 MiB gets small pages. */
	long s = pinmm_mmap(p, 0, HPAGE - PG, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	test_store8(p, (unsigned long)s, 1);
	pi = info(p, (unsigned long)s);
	assert_false(pi.huge_mapped);
	assert_int_equal(pi.folio_order, 0);
	/* MADV_NOHUGEPAGE wins over thp=always. */
	assert_int_equal(pinmm_madvise(p, a + HPAGE, HPAGE, MADV_NOHUGEPAGE), 0);
	test_store8(p, a + HPAGE, 1);
	assert_false(info(p, a + HPAGE).huge_mapped);
	assert_int_equal(stat(m, "thp_fault_alloc"), 1);
	/* Shared anonymous memory is never THP here. */
	long sh = pinmm_mmap(p, 0, HPAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	test_store8(p, (unsigned long)sh, 1);
	assert_false(info(p, (unsigned long)sh).huge_mapped);
	assert_int_equal(pinmm_munmap(p, a, 2 * HPAGE), 0);
	assert_int_equal(stat(m, "nr_anon_transparent_hugepages"), 0);
	test_shutdown_clean(m);
}

static void test_thp_madvise_and_never(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=2", "thp=madvise", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_huge(p, 2);

	/* madvise policy without the advice: small pages. */
	test_store8(p, a, 1);
	assert_false(info(p, a).huge_mapped);
	assert_int_equal(stat(m, "thp_fault_alloc"), 0);
	/* With MADV_HUGEPAGE on the second half: huge. */
	assert_int_equal(pinmm_madvise(p, a + HPAGE, HPAGE, MADV_HUGEPAGE), 0);
	test_store8(p, a + HPAGE + 1, 1);
	assert_true(info(p, a + HPAGE).huge_mapped);
	assert_int_equal(stat(m, "thp_fault_alloc"), 1);
	test_shutdown_clean(m);

	m = test_boot("ram=256M", "debug=2", "thp=never", NULL);
	p = test_proc(m);
	a = map_huge(p, 1);
	assert_int_equal(pinmm_madvise(p, a, HPAGE, MADV_HUGEPAGE), 0);
	test_store8(p, a, 1);
	assert_false(info(p, a).huge_mapped);
	assert_int_equal(info(p, a).folio_order, 0);
	assert_int_equal(stat(m, "thp_fault_alloc"), 0);
	test_shutdown_clean(m);
}

static void test_huge_zero_then_write(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=2", "thp=always", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_huge(p, 1);
	struct pinmm_page_info pi;
	long split0;

	assert_int_equal(test_load8(p, a + 3 * PG), 0);
	pi = info(p, a + 3 * PG);
	assert_true(pi.present && pi.huge_mapped && pi.zero_page && !pi.writable);
	assert_int_equal(pi.folio_order, 9);
	assert_int_equal(stat(m, "thp_zero_page_alloc"), 1);
	assert_int_equal(stat(m, "thp_fault_alloc"), 0);
	assert_int_equal(stat(m, "nr_anon_pages"), 0);

	/* Write (Linux 6.11+): a fresh zeroed THP replaces the huge zero PMD. */
	split0 = stat(m, "thp_split_pmd");
	test_store8(p, a + 3 * PG + 1, 0x33);
	assert_int_equal(stat(m, "thp_split_pmd"), split0);
	assert_int_equal(stat(m, "thp_fault_alloc"), 1);
	pi = info(p, a + 3 * PG);
	assert_false(pi.zero_page);
	assert_true(pi.huge_mapped && pi.anon && pi.writable && pi.anon_exclusive);
	assert_int_equal(pi.folio_order, 9);
	assert_int_equal(stat(m, "nr_anon_pages"), 512);
	assert_int_equal(test_load8(p, a + 3 * PG + 1), 0x33);
	assert_int_equal(test_load8(p, a + 4 * PG), 0);

	/* Where the policy no longer allows a THP: split, one small page. */
	unsigned long c = map_huge(p, 1);
	assert_int_equal(test_load8(p, c), 0);
	assert_true(info(p, c).huge_mapped && info(p, c).zero_page);
	assert_int_equal(pinmm_madvise(p, c, HPAGE, MADV_NOHUGEPAGE), 0);
	test_store8(p, c + 3 * PG + 1, 0x44);
	assert_int_equal(stat(m, "thp_split_pmd"), split0 + 1);
	pi = info(p, c + 3 * PG);
	assert_false(pi.huge_mapped || pi.zero_page);
	assert_true(pi.anon && pi.writable);
	assert_int_equal(pi.folio_order, 0);
	pi = info(p, c + 4 * PG);
	assert_true(pi.present && pi.zero_page && !pi.huge_mapped && !pi.writable);
	assert_int_equal(stat(m, "nr_anon_pages"), 513);
	/* A second huge region reuses the same huge zero folio. */
	unsigned long b = map_huge(p, 1);
	assert_int_equal(test_load8(p, b), 0);
	assert_int_equal(stat(m, "thp_zero_page_alloc"), 1);
	test_shutdown_clean(m);
}

static void fill_huge(struct pinmm_proc *p, unsigned long a)
{
	for (unsigned long off = 0; off < HPAGE; off += PG)
		test_store8(p, a + off, (uint8_t)(off >> 12));
}

static void check_huge(struct pinmm_proc *p, unsigned long a, unsigned long skip_from,
		       unsigned long skip_to)
{
	for (unsigned long off = 0; off < HPAGE; off += PG)
		if (off < skip_from || off >= skip_to)
			assert_int_equal(test_load8(p, a + off), (uint8_t)(off >> 12));
}

static void test_pmd_split_partial_ops(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=2", "thp=always", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_huge(p, 3);
	struct pinmm_page_info pi;
	uint8_t v = 0;
	long split0;

	for (int i = 0; i < 3; i++)
		fill_huge(p, a + i * HPAGE);
	assert_int_equal(stat(m, "thp_fault_alloc"), 3);
	split0 = stat(m, "thp_split_pmd");

	/* Partial munmap of the first THP. */
	assert_int_equal(pinmm_munmap(p, a + 10 * PG, PG), 0);
	assert_int_equal(stat(m, "thp_split_pmd"), split0 + 1);
	pi = info(p, a);
	assert_false(pi.huge_mapped);
	assert_int_equal(pi.folio_order, 9);	/* the folio stays whole */
	assert_true(pi.writable && pi.anon_exclusive);
	assert_int_equal(pi.mapcount, 1);
	assert_int_equal(pinmm_load(p, a + 10 * PG, &v, 1), -EFAULT);
	check_huge(p, a, 10 * PG, 11 * PG);
	assert_int_equal(stat(m, "nr_anon_pages"), 3 * 512 - 1);

	/* Partial mprotect of the second. */
	assert_int_equal(pinmm_mprotect(p, a + HPAGE + 100 * PG, PG, PROT_READ), 0);
	assert_int_equal(stat(m, "thp_split_pmd"), split0 + 2);
	assert_false(info(p, a + HPAGE).huge_mapped);
	assert_false(info(p, a + HPAGE + 100 * PG).writable);
	assert_true(info(p, a + HPAGE + 101 * PG).writable);
	assert_int_equal(pinmm_store(p, a + HPAGE + 100 * PG, &v, 1), -EFAULT);
	check_huge(p, a + HPAGE, 0, 0);
	/* An mprotect of a whole PMD does not split. */
	assert_int_equal(pinmm_mprotect(p, a + 2 * HPAGE, HPAGE, PROT_READ), 0);
	assert_int_equal(stat(m, "thp_split_pmd"), split0 + 2);
	pi = info(p, a + 2 * HPAGE);
	assert_true(pi.huge_mapped && !pi.writable);
	assert_int_equal(pinmm_mprotect(p, a + 2 * HPAGE, HPAGE, PROT_READ | PROT_WRITE), 0);
	assert_true(info(p, a + 2 * HPAGE).writable);

	/* Partial DONTNEED of the third: those pages read zero again. */
	assert_int_equal(pinmm_madvise(p, a + 2 * HPAGE + 4 * PG, 2 * PG, MADV_DONTNEED), 0);
	assert_int_equal(stat(m, "thp_split_pmd"), split0 + 3);
	assert_false(info(p, a + 2 * HPAGE + 4 * PG).present);
	assert_int_equal(test_load8(p, a + 2 * HPAGE + 4 * PG), 0);
	assert_int_equal(test_load8(p, a + 2 * HPAGE + 5 * PG), 0);
	check_huge(p, a + 2 * HPAGE, 4 * PG, 6 * PG);
	/* Whole-THP DONTNEED frees the folio without a split. */
	assert_int_equal(pinmm_munmap(p, a, 3 * HPAGE), 0);
	assert_int_equal(stat(m, "nr_anon_pages"), 0);
	assert_int_equal(stat(m, "nr_anon_transparent_hugepages"), 0);
	test_shutdown_clean(m);
}

static void test_thp_fork(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=2", "thp=always", NULL);
	struct pinmm_proc *p = test_proc(m), *c = NULL;
	unsigned long a = map_huge(p, 1);
	struct pinmm_page_info pi, ci;
	long split0;

	fill_huge(p, a);
	assert_int_equal(pinmm_fork(p, &c), 0);
	pi = info(p, a + 7 * PG);
	ci = info(c, a + 7 * PG);
	/* Shared by one PMD in each, read-only, not exclusive. */
	assert_true(ci.huge_mapped && pi.huge_mapped);
	assert_int_equal(ci.pfn, pi.pfn);
	assert_false(pi.writable || ci.writable);
	assert_false(pi.anon_exclusive || ci.anon_exclusive);
	assert_int_equal(pi.mapcount, 2);
	assert_int_equal(pi.refcount, 2);
	check_huge(c, a, 0, 0);

	/* COW in the child: PMD split in the child, one page copied. */
	split0 = stat(m, "thp_split_pmd");
	test_store8(c, a + 7 * PG, 0xee);
	assert_int_equal(stat(m, "thp_split_pmd"), split0 + 1);
	ci = info(c, a + 7 * PG);
	assert_int_equal(ci.folio_order, 0);
	assert_true(ci.writable && ci.anon_exclusive);
	assert_true(ci.pfn != pi.pfn);
	ci = info(c, a + 8 * PG);
	assert_false(ci.huge_mapped);
	assert_int_equal(ci.folio_order, 9);
	assert_int_equal(ci.pfn, pi.pfn + 1);
	/* The parent still maps the THP by its PMD. */
	pi = info(p, a + 7 * PG);
	assert_true(pi.huge_mapped);
	assert_int_equal(test_load8(p, a + 7 * PG), 7);
	assert_int_equal(test_load8(c, a + 7 * PG), 0xee);

	/* Parent COW: its PMD is split too, and one page copied. */
	test_store8(p, a + 9 * PG, 0xdd);
	assert_false(info(p, a).huge_mapped);
	assert_int_equal(info(p, a + 9 * PG).folio_order, 0);
	assert_int_equal(test_load8(c, a + 9 * PG), 9);
	assert_int_equal(pinmm_exit(c), 0);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

static void test_split_huge_page(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=2", "thp=always", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_huge(p, 1);
	struct pinmm_page_info pi;
	long sp0 = stat(m, "thp_split_page");
	int ret;

	fill_huge(p, a);
	assert_int_equal(pinmm_split_huge_page(p, a + HPAGE), -EFAULT);
	ret = pinmm_split_huge_page(p, a + 3 * PG);
	assert_int_equal(ret, 0);
	assert_int_equal(stat(m, "thp_split_page"), sp0 + 1);
	for (unsigned long off = 0; off < HPAGE; off += 64 * PG) {
		pi = info(p, a + off);
		assert_true(pi.present && pi.anon && pi.anon_exclusive && pi.writable);
		assert_false(pi.huge_mapped);
		assert_int_equal(pi.folio_order, 0);
		assert_int_equal(pi.refcount, 1);
		assert_int_equal(pi.mapcount, 1);
	}
	check_huge(p, a, 0, 0);
	assert_int_equal(stat(m, "nr_anon_transparent_hugepages"), 0);
	assert_int_equal(stat(m, "nr_anon_pages"), 512);
	/* Small pages now: a partial munmap frees exactly one page. */
	long free0 = stat(m, "nr_free_pages");
	assert_int_equal(pinmm_munmap(p, a + PG, PG), 0);
	assert_int_equal(stat(m, "nr_free_pages"), free0 + 1);
	assert_int_equal(stat(m, "nr_anon_pages"), 511);
	/* Not a THP any more. */
	assert_int_equal(pinmm_split_huge_page(p, a), -EINVAL);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thp_always),
		cmocka_unit_test(test_thp_madvise_and_never),
		cmocka_unit_test(test_huge_zero_then_write),
		cmocka_unit_test(test_pmd_split_partial_ops),
		cmocka_unit_test(test_thp_fork),
		cmocka_unit_test(test_split_huge_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
