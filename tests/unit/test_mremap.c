/* SPDX-License-Identifier: MIT */
/*
 * Description: pinmm_mremap() against mremap(2) in Linux 6.x: the
 * argument checks and their error codes, shrinking, growing in place,
 * moving (MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP, duplicating a
 * shared mapping with old_len 0), page-table moves at the PTE level, of
 * whole PTE tables and of PMD-mapped THPs, a THP of which only part moves,
 * pinned pages staying pinned at the new address, the rmap after a move
 * (migration, truncate of a shared file mapping, fork), MMU-notifier
 * events, and an allocation failure at every site of a move leaving the
 * old mapping as it was.
 */
#include "helpers.h"
#include "gup_helpers.h"

#include <pinmm/fault.h>
#include "mm.h"

static long mremap_(struct pinmm_proc *p, unsigned long a, size_t ol, size_t nl, int fl,
		    unsigned long na)
{
	return pinmm_mremap(p, a, ol, nl, fl, na);
}

/* Is any VMA covering @addr? */
static bool mapped(struct pinmm_proc *p, unsigned long addr)
{
	struct pinmm_page_info pi;
	int e = pinmm_page_info(p, addr, &pi);

	assert_true(e == 0 || e == -EFAULT);
	return e == 0;
}

/* Fill @n pages at @a with a per-page pattern keyed by @key. */
static void fill(struct pinmm_proc *p, unsigned long a, unsigned long n, unsigned key)
{
	for (unsigned long i = 0; i < n; i++) {
		uint64_t v = ((uint64_t)key << 32) | i;

		assert_int_equal(pinmm_store(p, a + i * PG + 8 * (i % 500), &v, sizeof(v)),
				 (long)sizeof(v));
	}
}

static void check(struct pinmm_proc *p, unsigned long a, unsigned long n, unsigned key)
{
	for (unsigned long i = 0; i < n; i++) {
		uint64_t v = 0, want = ((uint64_t)key << 32) | i;

		assert_int_equal(pinmm_load(p, a + i * PG + 8 * (i % 500), &v, sizeof(v)),
				 (long)sizeof(v));
		if (v != want)
			fail_msg("page %lu at %#lx reads %#llx, want %#llx", i, a + i * PG,
				 (unsigned long long)v, (unsigned long long)want);
	}
}

/* A free, 2 MiB-aligned address for @len bytes (mapped, then unmapped). */
static unsigned long free_aligned(struct pinmm_proc *p, size_t len)
{
	unsigned long raw = test_mmap_anon(p, len + HPAGE_SIZE);
	unsigned long a = (raw + HPAGE_SIZE - 1) & ~(HPAGE_SIZE - 1);

	assert_int_equal(pinmm_munmap(p, raw, len + HPAGE_SIZE), 0);
	return a;
}

static void test_mremap_errors(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG), b;
	(void)state;

	fill(p, a, 4, 1);
	assert_int_equal(mremap_(NULL, a, PG, PG, 0, 0), -EINVAL);
	assert_int_equal(mremap_(p, a, PG, PG, 8, 0), -EINVAL);
	assert_int_equal(mremap_(p, a + 1, PG, PG, 0, 0), -EINVAL);
	assert_int_equal(mremap_(p, a, PG, 0, MREMAP_MAYMOVE, 0), -EINVAL);
	assert_int_equal(mremap_(p, a, PG, PG, MREMAP_FIXED, a + 64 * PG), -EINVAL);
	assert_int_equal(mremap_(p, a, PG, PG, MREMAP_DONTUNMAP, a + 64 * PG), -EINVAL);
	assert_int_equal(mremap_(p, a, PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0),
			 -EINVAL);
	assert_int_equal(mremap_(p, a, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, a + 64 * PG + 1),
			 -EINVAL);
	/* The new address is only checked when it means something. */
	assert_int_equal(mremap_(p, a, PG, PG, 0, 12345), (long)a);
	/* Fixed target beyond the user range, or overlapping the source. */
	assert_int_equal(mremap_(p, a, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, TASK_SIZE),
			 -EINVAL);
	assert_int_equal(mremap_(p, a, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, a + PG),
			 -EINVAL);
	/* Nothing mapped at the old address. */
	assert_int_equal(mremap_(p, a + 64 * PG, PG, 2 * PG, MREMAP_MAYMOVE, 0), -EFAULT);
	/* Duplicating a private mapping. */
	assert_int_equal(mremap_(p, a, 0, PG, MREMAP_MAYMOVE, 0), -EINVAL);
	/* Growing a range that crosses its VMA's end. */
	assert_int_equal(mremap_(p, a + 2 * PG, 4 * PG, 8 * PG, MREMAP_MAYMOVE, 0), -EFAULT);
	/* Growing in place with the next page mapped, no MAYMOVE. */
	b = (unsigned long)pinmm_mmap(p, a + 4 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
				      MAP_FIXED_NOREPLACE, -1, 0);
	assert_int_equal(b, a + 4 * PG);
	assert_int_equal(mremap_(p, a, 4 * PG, 8 * PG, 0, 0), -ENOMEM);
	check(p, a, 4, 1);		/* every failure above changed nothing */
	assert_false(mapped(p, a + 5 * PG));
	pinmm_set_current(NULL);
	assert_int_equal(pinmm_exit(p), 0);
	assert_int_equal(mremap_(p, a, PG, PG, 0, 0), -ESRCH);
	gh_done(m);
}

static void test_mremap_shrink_grow(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 8 * PG);
	unsigned long pfn;
	(void)state;

	fill(p, a, 8, 2);
	pfn = gh_info(p, a).pfn;
	/* Shrink: the tail is unmapped, the head stays. */
	assert_int_equal(mremap_(p, a, 8 * PG, 3 * PG, 0, 0), (long)a);
	assert_false(mapped(p, a + 3 * PG));
	check(p, a, 3, 2);
	/* Unaligned lengths round up. */
	assert_int_equal(mremap_(p, a, 3 * PG - 100, 2 * PG + 1, 0, 0), (long)a);
	/* Grow in place into the free range above: same pages, zeros after. */
	assert_int_equal(mremap_(p, a, 3 * PG, 6 * PG, 0, 0), (long)a);
	check(p, a, 3, 2);
	assert_int_equal(gh_info(p, a).pfn, pfn);
	assert_int_equal(test_load8(p, a + 5 * PG), 0);
	test_store8(p, a + 5 * PG, 7);
	/* Same length: nothing to do. */
	assert_int_equal(mremap_(p, a, 6 * PG, 6 * PG, MREMAP_MAYMOVE, 0), (long)a);
	gh_done(m);
}

static void test_mremap_move(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 16 * PG), n, pfn[16];
	struct pinmm_page_info pi;
	long anon;
	(void)state;

	fill(p, a, 16, 3);
	for (int i = 0; i < 16; i++)
		pfn[i] = gh_info(p, a + i * PG).pfn;
	/* Block growth in place, so that MAYMOVE moves. */
	assert_int_equal(pinmm_mmap(p, a + 16 * PG, PG, PROT_READ,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
			 (long)(a + 16 * PG));
	anon = gh_vm(m, "nr_anon_pages");
	n = (unsigned long)mremap_(p, a, 16 * PG, 32 * PG, MREMAP_MAYMOVE, 0);
	assert_true((long)n > 0 && n != a);
	assert_false(mapped(p, a));
	check(p, n, 16, 3);
	for (int i = 0; i < 16; i++) {
		pi = gh_info(p, n + i * PG);
		assert_int_equal(pi.pfn, pfn[i]);	/* moved, not copied */
		assert_true(pi.anon_exclusive && pi.writable);
		assert_int_equal(pi.mapcount, 1);
		assert_int_equal(pi.refcount, 1);
	}
	assert_int_equal(gh_vm(m, "nr_anon_pages"), anon);
	/* Written at the new address: no COW, the same frames. */
	fill(p, n, 16, 4);
	assert_int_equal(gh_info(p, n + 3 * PG).pfn, pfn[3]);
	assert_int_equal(test_load8(p, n + 20 * PG), 0);
	/* MREMAP_FIXED over an existing mapping replaces it; shrink + move. */
	assert_int_equal(mremap_(p, n, 32 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, a),
			 (long)a);
	check(p, a, 4, 4);
	assert_false(mapped(p, n));
	assert_false(mapped(p, a + 4 * PG));
	gh_done(m);
}

static void test_mremap_dontunmap(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG), n, pfn;
	(void)state;

	fill(p, a, 4, 5);
	pfn = gh_info(p, a + PG).pfn;
	n = (unsigned long)mremap_(p, a, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
	assert_true((long)n > 0 && n != a);
	check(p, n, 4, 5);
	assert_int_equal(gh_info(p, n + PG).pfn, pfn);
	/* The old range is still mapped, empty: it faults in zeros. */
	assert_true(mapped(p, a));
	assert_false(gh_info(p, a).present);
	assert_int_equal(test_load8(p, a + PG + 8), 0);
	fill(p, a, 4, 6);
	check(p, n, 4, 5);
	check(p, a, 4, 6);
	/* Fork: both ranges are copied, each with its own contents. */
	{
		struct pinmm_proc *c = NULL;

		assert_int_equal(pinmm_fork(p, &c), 0);
		check(c, n, 4, 5);
		check(c, a, 4, 6);
		fill(c, n, 4, 7);
		check(p, n, 4, 5);
		assert_int_equal(pinmm_exit(c), 0);
	}
	gh_done(m);
}

static void test_mremap_pinned(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG), n;
	struct page *pg[2];
	struct pinmm_page_info pi;
	(void)state;

	gh_store(p, a + PG, "before");
	assert_int_equal(gh_pup(p, a + PG, 2, FOLL_WRITE | FOLL_LONGTERM, pg), 2);
	n = (unsigned long)mremap_(p, a, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED,
				   free_aligned(p, 4 * PG));
	assert_true((long)n > 0);
	pi = gh_info(p, n + PG);
	assert_true(pi.maybe_dma_pinned);
	assert_int_equal(pi.pfn, page_to_pfn(pg[0]));
	/* The device writes through its pin; the process reads it at n. */
	gh_kstore(pg[0], 0, "from the device");
	gh_expect(p, n + PG, "from the device");
	/* And the process writes at n; the device reads it. */
	gh_store(p, n + 2 * PG, "for the device");
	gh_kexpect(pg[1], 0, "for the device");
	/* Fork after the move: a pinned exclusive page is copied for the child. */
	{
		struct pinmm_proc *c = NULL;

		assert_int_equal(pinmm_fork(p, &c), 0);
		gh_expect(c, n + PG, "from the device");
		assert_int_not_equal(gh_info(c, n + PG).pfn, page_to_pfn(pg[0]));
		assert_int_equal(pinmm_exit(c), 0);
	}
	unpin_user_pages(pg, 2);
	assert_false(gh_info(p, n + PG).maybe_dma_pinned);
	gh_done(m);
}

static void test_mremap_thp_whole(void **state)
{
	struct pinmm *m = gh_boot("thp=madvise");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = gh_thp(p, 1), t = free_aligned(p, HPAGE_SIZE), pfn;
	long splits = gh_vm(m, "thp_split_pmd");
	struct pinmm_page_info pi;
	(void)state;

	fill(p, a, HPAGE_NR, 8);
	pfn = gh_info(p, a).pfn;
	assert_int_equal(mremap_(p, a, HPAGE_SIZE, HPAGE_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, t),
			 (long)t);
	pi = gh_info(p, t + 100 * PG);
	assert_true(pi.huge_mapped);		/* the PMD moved, not split */
	assert_int_equal(pi.pfn, pfn + 100);
	assert_int_equal(gh_vm(m, "thp_split_pmd"), splits);
	check(p, t, HPAGE_NR, 8);
	/* The moved THP still splits and COWs correctly. */
	assert_int_equal(pinmm_mprotect(p, t + PG, PG, PROT_READ), 0);
	assert_int_equal(gh_vm(m, "thp_split_pmd"), splits + 1);
	check(p, t, HPAGE_NR, 8);
	gh_done(m);
}

static void test_mremap_thp_partial(void **state)
{
	struct pinmm *m = gh_boot("thp=madvise");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = gh_thp(p, 1), t, pfn;
	long splits = gh_vm(m, "thp_split_pmd");
	struct pinmm_page_info pi;
	struct page *page;
	(void)state;

	fill(p, a, HPAGE_NR, 9);
	pfn = gh_info(p, a).pfn;
	/* Move the second half elsewhere: the PMD is split, the folio not. */
	t = (unsigned long)pinmm_mmap(p, 0, HPAGE_SIZE / 2, PROT_NONE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_int_equal(mremap_(p, a + HPAGE_SIZE / 2, HPAGE_SIZE / 2, HPAGE_SIZE / 2,
				 MREMAP_MAYMOVE | MREMAP_FIXED, t), (long)t);
	assert_int_equal(gh_vm(m, "thp_split_pmd"), splits + 1);
	check(p, a, HPAGE_NR / 2, 9);
	for (unsigned long i = 0; i < HPAGE_NR / 2; i++) {
		uint64_t v = 0;

		assert_int_equal(pinmm_load(p, t + i * PG + 8 * ((i + 256) % 500), &v, 8), 8);
		assert_int_equal(v, ((uint64_t)9 << 32) | (i + 256));
	}
	pi = gh_info(p, t);
	assert_false(pi.huge_mapped);
	assert_int_equal(pi.folio_order, 9);
	assert_int_equal(pi.pfn, pfn + 256);
	/* A R/O pin at the new place pins the same page; a write still
	 * reaches it (the page stayed exclusive). */
	assert_int_equal(gh_pup(p, t + 3 * PG, 1, FOLL_LONGTERM, &page), 1);
	assert_int_equal(page_to_pfn(page), pfn + 259);
	gh_store(p, t + 3 * PG, "after pin");
	gh_kexpect(page, 0, "after pin");
	unpin_user_page(page);
	/* Migration finds both halves through the rmap. */
	assert_int_equal(pinmm_migrate_page(p, t + 5 * PG, pi.zone), 0);
	pi = gh_info(p, t + 5 * PG);
	assert_int_not_equal(pi.pfn, pfn + 261);
	assert_int_not_equal(gh_info(p, a).pfn, pfn);
	check(p, a, 3, 9);
	gh_done(m);
}

static void test_mremap_tables(void **state)
{
	struct pinmm *m = gh_boot("thp=never");
	struct pinmm_proc *p = test_proc(m);
	unsigned long n = 2 * HPAGE_NR + 40;
	unsigned long a = free_aligned(p, 3 * HPAGE_SIZE), t;
	long tables;
	(void)state;

	assert_int_equal(pinmm_mmap(p, a, n * PG, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), (long)a);
	fill(p, a, n, 10);
	/* Same alignment: whole PTE tables move; no new table is needed
	 * except the partial one at the end. */
	t = free_aligned(p, 3 * HPAGE_SIZE);
	tables = gh_vm(m, "nr_page_table_pages");
	assert_int_equal(mremap_(p, a, n * PG, n * PG, MREMAP_MAYMOVE | MREMAP_FIXED, t), (long)t);
	check(p, t, n, 10);
	assert_true(gh_vm(m, "nr_page_table_pages") <= tables + 3);
	/* Different alignment (3 pages off): PTE by PTE across tables. */
	a = t;
	t = free_aligned(p, 3 * HPAGE_SIZE) + 3 * PG;
	assert_int_equal(mremap_(p, a, n * PG, n * PG, MREMAP_MAYMOVE | MREMAP_FIXED, t), (long)t);
	check(p, t, n, 10);
	assert_false(mapped(p, a));
	gh_done(m);
}

static void test_mremap_shared_file(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	int fd = pinmm_open(p, "/dev/shm/mr", O_RDWR | O_CREAT, 0600);
	unsigned long a, n, d;
	char buf[8] = { 0 };
	(void)state;

	assert_true(fd >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd, 8 * PG), 0);
	a = (unsigned long)pinmm_mmap(p, 0, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	gh_store(p, a + 5 * PG, "shm5");
	/* Move pages 4..7 (file offsets 4..7) elsewhere. */
	n = (unsigned long)mremap_(p, a + 4 * PG, 4 * PG, 4 * PG, MREMAP_MAYMOVE |
				   MREMAP_FIXED, free_aligned(p, 4 * PG));
	gh_expect(p, n + PG, "shm5");
	gh_store(p, n + 2 * PG, "shm6");
	assert_int_equal(pinmm_pread(p, fd, buf, 5, 6 * PG), 5);
	assert_string_equal(buf, "shm6");
	/* Truncate finds the moved mapping through i_mmap at its offsets. */
	assert_int_equal(pinmm_ftruncate(p, fd, 6 * PG), 0);
	assert_false(gh_info(p, n + 2 * PG).present);
	gh_expect(p, n + PG, "shm5");
	/* old_len 0 duplicates a shared mapping: both see the same page. */
	d = (unsigned long)mremap_(p, a, 0, 2 * PG, MREMAP_MAYMOVE, 0);
	assert_true((long)d > 0 && d != a);
	gh_store(p, d + PG, "dup");
	gh_expect(p, a + PG, "dup");
	assert_int_equal(pinmm_close(p, fd), 0);
	gh_done(m);
}

/* A subscription that records the events and ranges it is sent. */
struct mr_rec {
	struct mmu_interval_notifier sub;
	int n, unmaps;
	unsigned long start, end;	/* of the last MMU_NOTIFY_UNMAP */
};

static bool mr_invalidate(struct mmu_interval_notifier *sub,
			  const struct mmu_notifier_range *range, unsigned long cur_seq)
{
	struct mr_rec *r = (struct mr_rec *)sub;

	mmu_interval_set_seq(sub, cur_seq);
	r->n++;
	if (range->event == MMU_NOTIFY_UNMAP) {
		r->unmaps++;
		r->start = range->start;
		r->end = range->end;
	}
	return true;
}

static const struct mmu_interval_notifier_ops mr_ops = { .invalidate = mr_invalidate };

static void test_mremap_notifier(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG), t = free_aligned(p, 4 * PG);
	struct mr_rec r;
	(void)state;

	fill(p, a, 4, 11);
	memset(&r, 0, sizeof(r));
	assert_int_equal(mmu_interval_notifier_insert(&r.sub, pinmm_proc_mm(p), a, 4 * PG,
						      &mr_ops), 0);
	/* The move is an unmap of the old range, sent before entries move. */
	assert_int_equal(mremap_(p, a, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, t),
			 (long)t);
	assert_true(r.unmaps >= 1);
	assert_true(r.start <= a && r.end >= a + 4 * PG);
	check(p, t, 4, 11);
	mmu_interval_notifier_remove(&r.sub);
	gh_done(m);
}

/*
 * Fail the 1st, 2nd, ... fallible call of a move (page tables, the VMA)
 * until one completes: each failure returns -ENOMEM with the old mapping
 * intact and nothing at the target; then the move is complete.
 */
static void test_mremap_alloc_failures(void **state)
{
	struct pinmm *m = gh_boot("thp=never");
	struct pinmm_proc *p = test_proc(m);
	unsigned long n = HPAGE_NR + 16;
	long failures = 0;
	(void)state;

	for (long nth = 1;; nth++) {
		unsigned long a = free_aligned(p, 2 * HPAGE_SIZE) + 5 * PG, t;
		long r;

		assert_int_equal(pinmm_mmap(p, a, n * PG, PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), (long)a);
		t = free_aligned(p, 2 * HPAGE_SIZE) + 9 * PG;
		fill(p, a, n, 12);
		assert_int_equal(pinmm_fail_nth_set(nth), 0);
		r = mremap_(p, a, n * PG, n * PG, MREMAP_MAYMOVE | MREMAP_FIXED, t);
		if (pinmm_fail_nth_get() != 0) {	/* nothing was failed: done */
			pinmm_fail_nth_set(0);
			assert_int_equal(r, (long)t);
			check(p, t, n, 12);
			assert_false(mapped(p, a));
			assert_int_equal(pinmm_munmap(p, t, n * PG), 0);
			break;
		}
		if (r == -ENOMEM) {
			failures++;
			check(p, a, n, 12);
			assert_false(mapped(p, t));
			assert_int_equal(pinmm_munmap(p, a, n * PG), 0);
		} else {
			/* It hit a call whose failure is absorbed (the audit's). */
			assert_int_equal(r, (long)t);
			check(p, t, n, 12);
			assert_false(mapped(p, a));
			assert_int_equal(pinmm_munmap(p, t, n * PG), 0);
		}
		assert_int_equal(pinmm_audit(m), 0);
		assert_true(nth < 200);
	}
	assert_true(failures > 0);
	pinmm_fail_reset();
	gh_done(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mremap_errors),
		cmocka_unit_test(test_mremap_shrink_grow),
		cmocka_unit_test(test_mremap_move),
		cmocka_unit_test(test_mremap_dontunmap),
		cmocka_unit_test(test_mremap_pinned),
		cmocka_unit_test(test_mremap_thp_whole),
		cmocka_unit_test(test_mremap_thp_partial),
		cmocka_unit_test(test_mremap_tables),
		cmocka_unit_test(test_mremap_shared_file),
		cmocka_unit_test(test_mremap_notifier),
		cmocka_unit_test(test_mremap_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
