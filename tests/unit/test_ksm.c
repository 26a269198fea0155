/* SPDX-License-Identifier: MIT */
/*
 * Description: KSM (MADV_MERGEABLE / MADV_UNMERGEABLE, pinmm_ksm_scan())
 * with Linux's pin rules: equal anonymous pages of mergeable memory, in one
 * process or several, end up mapped read-only to one KSM page; a write
 * copies it (cow_ksm); a page that is pinned or GUP-referenced is never
 * merged (ksm_pinned_skip) and merges once released; a R/O FOLL_PIN of a
 * KSM page unshares it (the pin is on a private copy) while a R/O GUP
 * reference does not; MADV_UNMERGEABLE and mremap break KSM pages;
 * MADV_MERGEABLE on shared memory and on a private fsdax mapping (whose
 * COW copies are anonymous pages, but in a DAX VMA) is accepted and
 * ignored, as Linux's vma_ksm_compatible(); fork shares KSM
 * pages; the counters ksm_pages_shared / ksm_pages_sharing; the periodic
 * ksmd thread (ksm.sleep_ms) merging without a pinmm_ksm_scan() call.
 */
#include <stdio.h>

#include "helpers.h"
#include "gup_helpers.h"

#include "mm.h"

#define NSAME	8
#define NUNIQ	4

/* Page i of @a: the same bytes for i < NSAME, unique bytes after. */
static void fill(struct pinmm_proc *p, unsigned long a)
{
	for (unsigned long i = 0; i < NSAME + NUNIQ; i++) {
		char buf[64];

		memset(buf, 0, sizeof(buf));
		snprintf(buf, sizeof(buf), i < NSAME ? "same" : "unique %lu", i);
		assert_int_equal(pinmm_store(p, a + i * PG + 100, buf, sizeof(buf)), (long)sizeof(buf));
	}
}

static unsigned long mergeable(struct pinmm_proc *p)
{
	unsigned long a = test_mmap_anon(p, (NSAME + NUNIQ) * PG);

	fill(p, a);
	assert_int_equal(pinmm_madvise(p, a, (NSAME + NUNIQ) * PG, MADV_MERGEABLE), 0);
	return a;
}

static void test_ksm_merge(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = mergeable(p), kpfn;
	struct pinmm_page_info pi;
	long merged;
	(void)state;

	assert_int_equal(pinmm_ksm_scan(NULL, 1), -EINVAL);
	assert_int_equal(pinmm_ksm_scan(m, 0), -EINVAL);
	merged = pinmm_ksm_scan(m, 3);
	assert_int_equal(merged, NSAME - 1);
	pi = gh_info(p, a);
	assert_true(pi.ksm && pi.anon && !pi.writable && !pi.anon_exclusive);
	kpfn = pi.pfn;
	for (int i = 0; i < NSAME; i++) {
		pi = gh_info(p, a + i * PG);
		assert_true(pi.ksm);
		assert_int_equal(pi.pfn, kpfn);
		assert_int_equal(pi.mapcount, NSAME);
		assert_int_equal(pi.refcount, NSAME);
	}
	for (int i = NSAME; i < NSAME + NUNIQ; i++)
		assert_false(gh_info(p, a + i * PG).ksm);
	assert_int_equal(gh_vm(m, "ksm_pages_shared"), 1);
	assert_int_equal(gh_vm(m, "ksm_pages_sharing"), NSAME - 1);
	gh_expect(p, a + 3 * PG + 100, "same");
	/* More passes merge nothing more. */
	assert_int_equal(pinmm_ksm_scan(m, 2), 0);
	gh_done(m);
}

static void test_ksm_cow(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = mergeable(p), kpfn;
	long cow;
	(void)state;

	assert_int_equal(pinmm_ksm_scan(m, 3), NSAME - 1);
	kpfn = gh_info(p, a).pfn;
	cow = gh_vm(m, "cow_ksm");
	gh_store(p, a + 2 * PG + 100, "mine");
	assert_int_equal(gh_vm(m, "cow_ksm"), cow + 1);
	assert_false(gh_info(p, a + 2 * PG).ksm);
	assert_int_not_equal(gh_info(p, a + 2 * PG).pfn, kpfn);
	assert_true(gh_info(p, a + 2 * PG).anon_exclusive);
	gh_expect(p, a + 2 * PG + 100, "mine");
	gh_expect(p, a + 1 * PG + 100, "same");
	assert_int_equal(gh_info(p, a).mapcount, NSAME - 1);
	/* Even the last mapping of a KSM page copies on write. */
	for (int i = 0; i < NSAME; i++) {
		char w[8];

		snprintf(w, sizeof(w), "w%d", i);
		if (i != 2)
			gh_store(p, a + i * PG + 100, w);
	}
	assert_int_equal(gh_vm(m, "cow_ksm"), cow + NSAME);
	assert_int_equal(pinmm_ksm_scan(m, 1), 0);
	assert_int_equal(gh_vm(m, "ksm_pages_shared"), 0);
	gh_done(m);
}

static void test_ksm_pinned_not_merged(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = mergeable(p);
	struct page *page, *got;
	long skip;
	(void)state;

	/* A long-term pin and a plain GUP reference: neither page merges. */
	assert_int_equal(gh_pup(p, a + 1 * PG, 1, FOLL_WRITE | FOLL_LONGTERM, &page), 1);
	assert_int_equal(gh_gup(p, a + 2 * PG, 1, 0, &got), 1);
	skip = gh_vm(m, "ksm_pinned_skip");
	assert_int_equal(pinmm_ksm_scan(m, 3), NSAME - 3);
	assert_true(gh_vm(m, "ksm_pinned_skip") > skip);
	assert_false(gh_info(p, a + 1 * PG).ksm);
	assert_false(gh_info(p, a + 2 * PG).ksm);
	assert_true(gh_info(p, a + 1 * PG).writable);	/* left as it was */
	/* The pin still sees what the process writes. */
	gh_store(p, a + 1 * PG + 100, "same");
	gh_kexpect(page, 100, "same");
	unpin_user_page(page);
	put_page(got);
	assert_int_equal(pinmm_ksm_scan(m, 3), 2);
	assert_true(gh_info(p, a + 1 * PG).ksm && gh_info(p, a + 2 * PG).ksm);
	gh_done(m);
}

static void test_ksm_pin_unshares(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = mergeable(p), kpfn;
	struct page *pin, *ref;
	(void)state;

	assert_int_equal(pinmm_ksm_scan(m, 3), NSAME - 1);
	kpfn = gh_info(p, a).pfn;
	/* R/O GUP (FOLL_GET) returns the KSM page itself, as Linux does. */
	assert_int_equal(gh_gup(p, a + 4 * PG, 1, 0, &ref), 1);
	assert_int_equal(page_to_pfn(ref), kpfn);
	put_page(ref);
	/* R/O FOLL_PIN must not pin a shared page: it unshares first. */
	assert_int_equal(gh_pup(p, a + 5 * PG, 1, FOLL_LONGTERM, &pin), 1);
	assert_int_not_equal(page_to_pfn(pin), kpfn);
	assert_false(gh_info(p, a + 5 * PG).ksm);
	assert_true(gh_info(p, a + 5 * PG).anon_exclusive);
	assert_int_equal(gh_info(p, a + 5 * PG).pfn, page_to_pfn(pin));
	gh_kexpect(pin, 100, "same");
	/* The process's later write reaches the pinned page: no second copy. */
	gh_store(p, a + 5 * PG + 100, "after");
	gh_kexpect(pin, 100, "after");
	/* GUP-fast takes the same path. */
	unpin_user_page(pin);
	assert_int_equal(pin_user_pages_fast(a + 6 * PG, 1, 0, &pin), 1);
	assert_int_not_equal(page_to_pfn(pin), kpfn);
	unpin_user_page(pin);
	assert_true(gh_info(p, a).ksm);
	gh_done(m);
}

static void test_ksm_unmerge_and_mremap(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = mergeable(p), n;
	(void)state;

	assert_int_equal(pinmm_ksm_scan(m, 3), NSAME - 1);
	assert_int_equal(pinmm_madvise(p, a, 2 * PG, MADV_UNMERGEABLE), 0);
	assert_false(gh_info(p, a).ksm);
	assert_false(gh_info(p, a + PG).ksm);
	gh_expect(p, a + PG + 100, "same");
	assert_true(gh_info(p, a + 2 * PG).ksm);
	/* Unmergeable now: a scan leaves those two alone. */
	assert_int_equal(pinmm_ksm_scan(m, 2), 0);
	assert_false(gh_info(p, a).ksm);
	/* mremap gives the moved KSM pages private copies. */
	n = test_mmap_anon(p, 4 * PG);
	assert_int_equal(pinmm_mremap(p, a + 2 * PG, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED,
				      n), (long)n);
	for (int i = 0; i < 4; i++) {
		assert_false(gh_info(p, n + i * PG).ksm);
		gh_expect(p, n + i * PG + 100, "same");
	}
	gh_done(m);
}

static void test_ksm_not_applicable(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	long a = pinmm_mmap(p, 0, (NSAME + NUNIQ) * PG, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	(void)state;

	assert_true(a > 0);
	fill(p, (unsigned long)a);
	/* Linux accepts the advice on shared memory and does nothing. */
	assert_int_equal(pinmm_madvise(p, (unsigned long)a, (NSAME + NUNIQ) * PG,
				       MADV_MERGEABLE), 0);
	assert_int_equal(pinmm_ksm_scan(m, 3), 0);
	assert_false(gh_info(p, (unsigned long)a).ksm);
	assert_int_equal(pinmm_madvise(p, (unsigned long)a, PG, MADV_UNMERGEABLE), 0);
	gh_done(m);
}

/*
 * A private mapping of a /dax/ file: the writes below give it anonymous COW
 * copies with equal contents, which KSM would merge in an ordinary VMA.
 * Linux's vma_ksm_compatible() refuses every fsdax VMA: the advice is
 * accepted (0) and the scan leaves the pages alone.
 */
static void test_ksm_not_on_dax(void **state)
{
	struct pinmm *m = gh_boot("pmem=16M");
	struct pinmm_proc *p = test_proc(m);
	int fd = pinmm_open(p, "/dax/ksm", O_RDWR | O_CREAT, 0600);
	unsigned long len = (NSAME + NUNIQ) * PG;
	long a;
	(void)state;

	assert_true(fd >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd, (long)len), 0);
	a = pinmm_mmap(p, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_true(a > 0);
	fill(p, (unsigned long)a);
	assert_true(gh_info(p, (unsigned long)a).anon);		/* COW copies */
	assert_int_equal(pinmm_madvise(p, (unsigned long)a, len, MADV_MERGEABLE), 0);
	assert_int_equal(pinmm_ksm_scan(m, 3), 0);
	for (unsigned long i = 0; i < NSAME; i++)
		assert_false(gh_info(p, (unsigned long)a + i * PG).ksm);
	assert_int_equal(pinmm_close(p, fd), 0);
	gh_done(m);
}

static void test_ksm_processes_and_fork(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m), *q = test_proc(m), *c = NULL;
	unsigned long a = test_mmap_anon(p, PG), b = test_mmap_anon(q, PG);
	unsigned long kpfn;
	(void)state;

	gh_store(p, a + 8, "shared by two processes");
	gh_store(q, b + 8, "shared by two processes");
	assert_int_equal(pinmm_madvise(p, a, PG, MADV_MERGEABLE), 0);
	assert_int_equal(pinmm_madvise(q, b, PG, MADV_MERGEABLE), 0);
	assert_int_equal(pinmm_ksm_scan(m, 3), 1);
	kpfn = gh_info(p, a).pfn;
	assert_int_equal(gh_info(q, b).pfn, kpfn);
	/* The child of p maps the KSM page too; its write copies. */
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(gh_info(c, a).pfn, kpfn);
	assert_int_equal(gh_info(c, a).mapcount, 3);
	gh_store(c, a + 8, "child");
	gh_expect(p, a + 8, "shared by two processes");
	gh_expect(q, b + 8, "shared by two processes");
	assert_int_equal(pinmm_exit(c), 0);
	assert_int_equal(pinmm_exit(q), 0);
	assert_int_equal(gh_info(p, a).mapcount, 1);
	assert_true(gh_info(p, a).ksm);
	gh_done(m);
}

static void test_ksmd_thread(void **state)
{
	struct pinmm *m = gh_boot("ksm.sleep_ms=5");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);
	(void)state;

	for (int i = 0; i < 4; i++)
		gh_store(p, a + i * PG + 100, "equal");
	assert_int_equal(pinmm_madvise(p, a, 4 * PG, MADV_MERGEABLE), 0);
	TEST_WAIT_UNTIL(gh_info(p, a).ksm && gh_info(p, a + 3 * PG).ksm, 10000,
			"ksmd's thread to merge the pages");
	assert_int_equal(gh_info(p, a).pfn, gh_info(p, a + 3 * PG).pfn);
	assert_true(gh_vm(m, "ksm_full_scans") > 0);
	gh_expect(p, a + 2 * PG + 100, "equal");
	gh_done(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ksm_merge),
		cmocka_unit_test(test_ksmd_thread),
		cmocka_unit_test(test_ksm_cow),
		cmocka_unit_test(test_ksm_pinned_not_merged),
		cmocka_unit_test(test_ksm_pin_unshares),
		cmocka_unit_test(test_ksm_unmerge_and_mremap),
		cmocka_unit_test(test_ksm_not_applicable),
		cmocka_unit_test(test_ksm_not_on_dax),
		cmocka_unit_test(test_ksm_processes_and_fork),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
