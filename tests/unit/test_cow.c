/* SPDX-License-Identifier: MIT */
/*
 * Description: copy-on-write of private anonymous and private file memory
 * after fork, in both directions: the state of the shared page (read-only
 * in both, not AnonExclusive, mapcount and refcount 2), the copy made by
 * the first writer, the reuse (no copy) by the last remaining mapper, and
 * the counters cow_fault, cow_reuse, fork_cow_share and nr_anon_pages.
 */
#include "helpers.h"

#include "mm.h"

#define PG 4096UL

static struct pinmm *boot(void)
{
	return test_boot("ram=256M", "debug=2", "thp=never", NULL);
}

static struct pinmm_page_info info(struct pinmm_proc *p, unsigned long addr)
{
	struct pinmm_page_info pi;

	assert_int_equal(pinmm_page_info(p, addr, &pi), 0);
	return pi;
}

static struct pinmm_proc *fork_of(struct pinmm_proc *p)
{
	struct pinmm_proc *c = NULL;

	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_non_null(c);
	assert_true(pinmm_proc_pid(c) > pinmm_proc_pid(p));
	return c;
}

static void check_shared_cow(struct pinmm_proc *a, struct pinmm_proc *b, unsigned long addr)
{
	struct pinmm_page_info x = info(a, addr), y = info(b, addr);

	assert_true(x.present && y.present);
	assert_int_equal(x.pfn, y.pfn);
	assert_false(x.writable);
	assert_false(y.writable);
	assert_true(x.anon);
	assert_false(x.anon_exclusive);
	assert_int_equal(x.mapcount, 2);
	assert_int_equal(x.refcount, 2);
}

/* Parent writes first: it copies, the child reuses the original. */
static void test_cow_parent_first(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m), *c;
	unsigned long a = (unsigned long)test_mmap_anon(p, 2 * PG);
	struct pinmm_page_info pi, ci;
	unsigned long orig;
	long cow0, reuse0, share0;

	test_store8(p, a, 'A');
	orig = info(p, a).pfn;
	share0 = pinmm_vmstat(m, "fork_cow_share");
	c = fork_of(p);
	assert_int_equal(pinmm_vmstat(m, "fork_cow_share"), share0 + 1);
	check_shared_cow(p, c, a);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 1);
	/* The untouched page is not present in either. */
	assert_false(info(c, a + PG).present);
	assert_int_equal(test_load8(c, a), 'A');

	cow0 = pinmm_vmstat(m, "cow_fault");
	reuse0 = pinmm_vmstat(m, "cow_reuse");
	test_store8(p, a, 'P');
	assert_int_equal(pinmm_vmstat(m, "cow_fault"), cow0 + 1);
	pi = info(p, a);
	ci = info(c, a);
	assert_true(pi.pfn != orig);
	assert_int_equal(ci.pfn, orig);
	assert_true(pi.writable && pi.anon_exclusive);
	assert_int_equal(pi.mapcount, 1);
	assert_int_equal(pi.refcount, 1);
	/* The child's page is now only its own, but still read-only. */
	assert_false(ci.writable);
	assert_false(ci.anon_exclusive);
	assert_int_equal(ci.mapcount, 1);
	assert_int_equal(ci.refcount, 1);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 2);
	assert_int_equal(test_load8(c, a), 'A');
	assert_int_equal(test_load8(p, a), 'P');

	/* The child's write reuses the page in place: no copy. */
	test_store8(c, a, 'C');
	assert_int_equal(pinmm_vmstat(m, "cow_fault"), cow0 + 1);
	assert_int_equal(pinmm_vmstat(m, "cow_reuse"), reuse0 + 1);
	ci = info(c, a);
	assert_int_equal(ci.pfn, orig);
	assert_true(ci.writable && ci.anon_exclusive);
	assert_int_equal(test_load8(p, a), 'P');
	assert_int_equal(test_load8(c, a), 'C');
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 2);

	assert_int_equal(pinmm_exit(c), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 1);
	assert_int_equal(pinmm_exit(p), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 0);
	test_shutdown_clean(m);
}

/* Child writes first: it copies, the parent reuses the original. */
static void test_cow_child_first(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m), *c;
	unsigned long a = (unsigned long)test_mmap_anon(p, PG);
	struct pinmm_page_info pi, ci;
	unsigned long orig;
	long cow0, reuse0;

	test_store8(p, a + 7, 'A');
	orig = info(p, a).pfn;
	c = fork_of(p);
	check_shared_cow(p, c, a);

	cow0 = pinmm_vmstat(m, "cow_fault");
	reuse0 = pinmm_vmstat(m, "cow_reuse");
	test_store8(c, a + 7, 'C');
	ci = info(c, a);
	pi = info(p, a);
	assert_true(ci.pfn != orig);
	assert_int_equal(pi.pfn, orig);
	assert_true(ci.writable && ci.anon_exclusive);
	assert_int_equal(pinmm_vmstat(m, "cow_fault"), cow0 + 1);
	assert_int_equal(test_load8(p, a + 7), 'A');
	/* The copy carries the rest of the page. */
	assert_int_equal(test_load8(c, a + 6), 0);

	test_store8(p, a + 7, 'P');
	assert_int_equal(pinmm_vmstat(m, "cow_reuse"), reuse0 + 1);
	assert_int_equal(pinmm_vmstat(m, "cow_fault"), cow0 + 1);
	assert_int_equal(info(p, a).pfn, orig);
	assert_int_equal(test_load8(c, a + 7), 'C');
	assert_int_equal(test_load8(p, a + 7), 'P');
	test_shutdown_clean(m);	/* exits both */
}

/* The zero page is shared by fork as it is: no copy, no refcount. */
static void test_cow_zero_page_after_fork(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m), *c;
	unsigned long a = (unsigned long)test_mmap_anon(p, PG);
	struct pinmm_page_info ci;

	/*
	 * A VMA without anon_vma (only zero-page reads) is not copied at all
	 * (Linux's vma_needs_copy()): the child faults the zero page afresh.
	 */
	assert_int_equal(test_load8(p, a), 0);
	c = fork_of(p);
	ci = info(c, a);
	assert_false(ci.present);
	assert_int_equal(test_load8(c, a), 0);
	ci = info(c, a);
	assert_true(ci.present && ci.zero_page && !ci.writable);
	assert_int_equal(pinmm_exit(c), 0);

	/* With an anon_vma the zero-page PTE is copied as it is. */
	a = (unsigned long)test_mmap_anon(p, 2 * PG);
	test_store8(p, a + PG, 5);
	assert_int_equal(test_load8(p, a), 0);
	c = fork_of(p);
	ci = info(c, a);
	assert_true(ci.present && ci.zero_page && !ci.writable);
	assert_int_equal(ci.pfn, info(p, a).pfn);
	test_store8(c, a, 1);
	ci = info(c, a);
	assert_true(ci.anon && ci.anon_exclusive && !ci.zero_page);
	assert_true(info(p, a).zero_page);
	assert_int_equal(test_load8(p, a), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 2);
	test_shutdown_clean(m);
}

/* Exclusive pages are reused without copying, also after mprotect games. */
static void test_cow_reuse_exclusive(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = (unsigned long)test_mmap_anon(p, PG);
	unsigned long pfn;
	long cow0, reuse0;

	test_store8(p, a, 1);
	pfn = info(p, a).pfn;
	assert_int_equal(pinmm_mprotect(p, a, PG, PROT_READ), 0);
	assert_false(info(p, a).writable);
	/* Exclusive anon: mprotect upgrade makes the PTE writable at once. */
	assert_int_equal(pinmm_mprotect(p, a, PG, PROT_READ | PROT_WRITE), 0);
	assert_true(info(p, a).writable);
	cow0 = pinmm_vmstat(m, "cow_fault");
	reuse0 = pinmm_vmstat(m, "cow_reuse");
	test_store8(p, a, 2);
	assert_int_equal(info(p, a).pfn, pfn);
	assert_int_equal(pinmm_vmstat(m, "cow_fault"), cow0);
	assert_int_equal(pinmm_vmstat(m, "cow_reuse"), reuse0);
	test_shutdown_clean(m);
}

/* Three generations share one page; each writer copies, the last reuses. */
static void test_cow_three_way(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m), *c, *g;
	unsigned long a = (unsigned long)test_mmap_anon(p, PG);
	unsigned long orig;
	long cow0, reuse0;

	test_store8(p, a, 'A');
	orig = info(p, a).pfn;
	c = fork_of(p);
	g = fork_of(c);
	assert_int_equal(info(g, a).pfn, orig);
	assert_int_equal(info(g, a).mapcount, 3);
	assert_int_equal(info(g, a).refcount, 3);
	cow0 = pinmm_vmstat(m, "cow_fault");
	reuse0 = pinmm_vmstat(m, "cow_reuse");
	test_store8(c, a, 'C');
	test_store8(p, a, 'P');
	assert_int_equal(pinmm_vmstat(m, "cow_fault"), cow0 + 2);
	assert_int_equal(info(g, a).mapcount, 1);
	test_store8(g, a, 'G');
	assert_int_equal(pinmm_vmstat(m, "cow_fault"), cow0 + 2);
	assert_int_equal(pinmm_vmstat(m, "cow_reuse"), reuse0 + 1);
	assert_int_equal(info(g, a).pfn, orig);
	assert_int_equal(test_load8(p, a), 'P');
	assert_int_equal(test_load8(c, a), 'C');
	assert_int_equal(test_load8(g, a), 'G');
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 3);
	test_shutdown_clean(m);
}

/* Private file COW copies are anonymous and COW-shared across fork too. */
static void test_cow_private_file_fork(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m), *c;
	int fd = pinmm_memfd_create(p, "pf", 0);
	struct pinmm_page_info pi;
	char buf[4];
	long a;

	assert_int_equal(pinmm_pwrite(p, fd, "orig", 4, 0), 4);
	a = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_true(a > 0);
	/*
	 * Fork with the page-cache page mapped: the child re-faults it from
	 * the cache (no anon_vma, nothing copied), then both map it.
	 */
	assert_int_equal(test_load8(p, a), 'o');
	c = fork_of(p);
	assert_false(info(c, a).present);
	assert_int_equal(test_load8(c, a), 'o');
	pi = info(c, a);
	assert_true(pi.present && !pi.anon && !pi.writable);
	assert_int_equal(pi.mapcount, 2);
	/* Each write gives that process its own anonymous copy. */
	assert_int_equal(pinmm_store(c, a, "kid!", 4), 4);
	assert_int_equal(pinmm_store(p, a, "dad!", 4), 4);
	assert_true(info(c, a).anon && info(p, a).anon);
	assert_true(info(c, a).pfn != info(p, a).pfn);
	assert_int_equal(pinmm_pread(p, fd, buf, 4, 0), 4);
	assert_memory_equal(buf, "orig", 4);
	assert_int_equal(pinmm_load(c, a, buf, 4), 4);
	assert_memory_equal(buf, "kid!", 4);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cow_parent_first),
		cmocka_unit_test(test_cow_child_first),
		cmocka_unit_test(test_cow_zero_page_after_fork),
		cmocka_unit_test(test_cow_reuse_exclusive),
		cmocka_unit_test(test_cow_three_way),
		cmocka_unit_test(test_cow_private_file_fork),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
