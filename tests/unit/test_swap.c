/* SPDX-License-Identifier: MIT */
/*
 * Description: swap with Linux 6.x semantics (src/mm/swapfile.c,
 * swap_state.c, vmscan_anon.c): MADV_PAGEOUT and pinmm_reclaim() swap
 * anonymous pages out, faults and GUP bring them back; the exclusive bit of
 * the swap entry makes the page come back PageAnonExclusive (a R/O pin does
 * not unshare); fork duplicates entries and clears the bit in both; a folio
 * shared through the swap cache is copied on write; maybe-pinned folios are
 * never swapped out (pswpout_pinned_skip); MADV_PAGEOUT leaves folios other
 * processes map; THPs are split first; munmap/DONTNEED/exit free slots;
 * swap full and allocation failures lose no page; bad input.
 */
#include "gup_helpers.h"

#include <stdlib.h>
#include <pinmm/fault.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define swap_boot(...) test_boot("ram=256M", "debug=2", "thp=never", __VA_ARGS__, NULL)

static void fill(struct pinmm_proc *p, unsigned long a, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i += PG)
		test_store8(p, a + i, (uint8_t)(seed + i / PG));
}

static void check(struct pinmm_proc *p, unsigned long a, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i += PG)
		assert_int_equal(test_load8(p, a + i), (uint8_t)(seed + i / PG));
}

static void test_swap_config(void **state)
{
	struct pinmm_config cfg;
	struct pinmm *m;
	struct pinmm_proc *p;
	unsigned long a;

	(void)state;
	pinmm_config_default(&cfg);
	assert_int_equal(cfg.swap, 0);
	assert_int_equal(pinmm_config_set(&cfg, "swap", "1K"), -EINVAL);	/* not pages */
	assert_int_equal(pinmm_config_set(&cfg, "swap", "1T"), -EINVAL);	/* too big */
	assert_int_equal(pinmm_config_set(&cfg, "swap", "-4M"), -EINVAL);
	assert_int_equal(pinmm_config_set(&cfg, "swap.latency_us", "x"), -EINVAL);
	assert_int_equal(pinmm_config_set(&cfg, "swap", "16M"), 0);
	assert_int_equal(cfg.swap, 16 * MiB);
	assert_int_equal(pinmm_config_set(&cfg, "swap.latency_us", "5"), 0);
	assert_int_equal(cfg.swap_latency_us, 5);

	/* No swap (the default): MADV_PAGEOUT succeeds and changes nothing. */
	m = test_boot("ram=256M", "debug=2", NULL);
	p = test_proc(m);
	a = test_mmap_anon(p, 2 * PG);
	fill(p, a, 2 * PG, 7);
	assert_int_equal(pinmm_madvise(p, a, 2 * PG, MADV_PAGEOUT), 0);
	assert_true(gh_info(p, a).present);
	assert_false(gh_info(p, a).swapped);
	assert_int_equal(gh_vm(m, "pswpout"), 0);
	assert_int_equal(pinmm_reclaim(m, 16), 0);
	check(p, a, 2 * PG, 7);
	test_shutdown_clean(m);
}

static void test_pageout_and_fault_back(void **state)
{
	struct pinmm *m = swap_boot("swap=4M");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);
	struct pinmm_page_info pi;
	long freed = gh_vm(m, "nr_free_pages");

	(void)state;
	fill(p, a, 4 * PG, 0x30);
	freed = gh_vm(m, "nr_free_pages");
	assert_int_equal(pinmm_madvise(p, a, 4 * PG, MADV_PAGEOUT), 0);
	pi = gh_info(p, a + PG);
	assert_true(pi.swapped);
	assert_false(pi.present);
	assert_true(pi.anon_exclusive);		/* the entry's exclusive bit */
	assert_int_equal(gh_vm(m, "pswpout"), 4);
	assert_int_equal(gh_vm(m, "nr_swap_used"), 4);
	assert_int_equal(gh_vm(m, "nr_swapcached"), 0);
	assert_int_equal(gh_vm(m, "nr_free_pages"), freed + 4);
	assert_int_equal(pinmm_audit(m), 0);

	/* A read fault brings it back exclusive and writable: no COW later. */
	assert_int_equal(test_load8(p, a + PG), 0x31);
	pi = gh_info(p, a + PG);
	assert_true(pi.present && pi.anon_exclusive && pi.writable);
	assert_false(pi.swapped);
	assert_int_equal(gh_vm(m, "pswpin"), 1);
	assert_int_equal(gh_vm(m, "nr_swap_used"), 3);
	assert_int_equal(gh_vm(m, "nr_swapcached"), 0);
	/* A write fault too. */
	test_store8(p, a + 2 * PG, 0x99);
	assert_true(gh_info(p, a + 2 * PG).writable);
	assert_int_equal(gh_vm(m, "cow_fault"), 0);
	assert_int_equal(test_load8(p, a + 2 * PG), 0x99);
	check(p, a + 3 * PG, PG, 0x33);
	check(p, a, PG, 0x30);
	assert_int_equal(gh_vm(m, "nr_swap_used"), 0);
	test_shutdown_clean(m);
}

/* The AnonExclusive bit survives swap: a R/O pin does not unshare. */
static void test_swapin_ro_pin_keeps_exclusive(void **state)
{
	struct pinmm *m = swap_boot("swap=4M");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, PG);
	struct page *page;
	long unshare;

	(void)state;
	test_store8(p, a, 1);
	assert_int_equal(pinmm_madvise(p, a, PG, MADV_PAGEOUT), 0);
	assert_true(gh_info(p, a).swapped);
	unshare = gh_vm(m, "unshare_fault");
	/* Slow GUP faults the entry in (GUP-fast bails on it). */
	assert_int_equal(pin_user_pages_fast(a, 1, FOLL_LONGTERM, &page), 1);
	assert_int_equal(gh_vm(m, "unshare_fault"), unshare);
	assert_true(gh_vm(m, "gup_fast_fallback") > 0);
	assert_int_equal(page_to_pfn(page), gh_info(p, a).pfn);
	/* The process writes; the pin sees it (same page, no COW). */
	test_store8(p, a, 0x5a);
	assert_int_equal(((uint8_t *)kmap_local_page(page))[0], 0x5a);
	assert_int_equal(page_to_pfn(page), gh_info(p, a).pfn);
	unpin_user_page(page);
	test_shutdown_clean(m);
}

static void test_fork_duplicates_entries(void **state)
{
	struct pinmm *m = swap_boot("swap=4M");
	struct pinmm_proc *p = test_proc(m), *c;
	unsigned long a = test_mmap_anon(p, PG);
	struct pinmm_page_info pp, pc;

	(void)state;
	test_store8(p, a, 0x11);
	assert_int_equal(pinmm_madvise(p, a, PG, MADV_PAGEOUT), 0);
	assert_true(gh_info(p, a).anon_exclusive);
	assert_int_equal(pinmm_fork(p, &c), 0);
	/* copy_nonpresent_pte(): one slot, two entries, neither exclusive. */
	pp = gh_info(p, a);
	pc = gh_info(c, a);
	assert_true(pp.swapped && pc.swapped);
	assert_false(pp.anon_exclusive || pc.anon_exclusive);
	assert_int_equal(gh_vm(m, "nr_swap_used"), 1);
	assert_int_equal(pinmm_audit(m), 0);

	/* Parent reads: the page comes back shared, read-only, still cached. */
	assert_int_equal(test_load8(p, a), 0x11);
	pp = gh_info(p, a);
	assert_true(pp.present);
	assert_false(pp.anon_exclusive || pp.writable);
	assert_int_equal(gh_vm(m, "nr_swapcached"), 1);
	/* The child's fault finds the same folio in the swap cache. */
	assert_int_equal(test_load8(c, a), 0x11);
	pc = gh_info(c, a);
	assert_int_equal(pc.pfn, pp.pfn);
	assert_int_equal(pc.mapcount, 2);
	assert_int_equal(gh_vm(m, "pswpin"), 1);
	assert_int_equal(gh_vm(m, "nr_swap_used"), 0);
	assert_int_equal(gh_vm(m, "nr_swapcached"), 0);
	/* The parent's write copies; the child keeps the old data. */
	test_store8(p, a, 0x22);
	assert_true(gh_info(p, a).pfn != pc.pfn);
	assert_int_equal(test_load8(c, a), 0x11);
	assert_int_equal(pinmm_exit(c), 0);
	test_shutdown_clean(m);
}

/* A write to a folio shared through the swap cache must copy. */
static void test_fork_swapcache_write_copies(void **state)
{
	struct pinmm *m = swap_boot("swap=4M");
	struct pinmm_proc *p = test_proc(m), *c;
	unsigned long a = test_mmap_anon(p, PG);
	long cow;

	(void)state;
	test_store8(p, a, 0x41);
	assert_int_equal(pinmm_madvise(p, a, PG, MADV_PAGEOUT), 0);
	assert_int_equal(pinmm_fork(p, &c), 0);
	cow = gh_vm(m, "cow_fault");
	/* Write fault on the entry while the child still references the slot. */
	test_store8(p, a, 0x42);
	assert_int_equal(gh_vm(m, "cow_fault"), cow + 1);
	assert_true(gh_info(p, a).anon_exclusive);
	assert_int_equal(test_load8(c, a), 0x41);
	assert_int_equal(test_load8(p, a), 0x42);
	assert_int_equal(pinmm_exit(c), 0);
	test_shutdown_clean(m);
}

/* Linux's pin rule: a maybe-pinned folio gets no swap slot. */
static void test_pinned_not_swapped(void **state)
{
	struct pinmm *m = swap_boot("swap=4M");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 2 * PG);
	struct page *page;

	(void)state;
	fill(p, a, 2 * PG, 3);
	assert_int_equal(pin_user_pages_fast(a, 1, FOLL_WRITE | FOLL_LONGTERM, &page), 1);
	assert_int_equal(pinmm_madvise(p, a, 2 * PG, MADV_PAGEOUT), 0);
	assert_true(gh_info(p, a).present);
	assert_false(gh_info(p, a).swapped);
	assert_true(gh_info(p, a + PG).swapped);
	assert_int_equal(gh_vm(m, "pswpout_pinned_skip"), 1);
	/* Global reclaim keeps it too. */
	assert_int_equal(pinmm_reclaim(m, 8), 0);
	assert_int_equal(gh_vm(m, "pswpout_pinned_skip"), 2);
	assert_int_equal(page_to_pfn(page), gh_info(p, a).pfn);
	unpin_user_page(page);
	assert_int_equal(pinmm_madvise(p, a, PG, MADV_PAGEOUT), 0);
	assert_true(gh_info(p, a).swapped);
	check(p, a, 2 * PG, 3);
	test_shutdown_clean(m);
}

/* MADV_PAGEOUT leaves folios mapped by others; reclaim takes them. */
static void test_pageout_shared(void **state)
{
	struct pinmm *m = swap_boot("swap=4M");
	struct pinmm_proc *p = test_proc(m), *c;
	unsigned long a = test_mmap_anon(p, PG);
	long s;

	(void)state;
	test_store8(p, a, 0x77);
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(pinmm_madvise(p, a, PG, MADV_PAGEOUT), 0);
	assert_true(gh_info(p, a).present);
	assert_int_equal(gh_vm(m, "pswpout"), 0);
	/* pinmm_reclaim() unmaps it from both processes. */
	assert_int_equal(pinmm_reclaim(m, 1), 1);
	assert_true(gh_info(p, a).swapped && gh_info(c, a).swapped);
	assert_int_equal(test_load8(c, a), 0x77);
	assert_int_equal(test_load8(p, a), 0x77);
	assert_int_equal(pinmm_exit(c), 0);

	/* Shared anonymous memory is shmem: not paged out by pinmm. */
	s = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(s > 0);
	test_store8(p, (unsigned long)s, 1);
	assert_int_equal(pinmm_madvise(p, (unsigned long)s, PG, MADV_PAGEOUT), 0);
	assert_true(gh_info(p, (unsigned long)s).present);
	test_shutdown_clean(m);
}

static void test_thp_split_on_pageout(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=2", "thp=always", "swap=8M", NULL);
	struct pinmm_proc *p = test_proc(m);
	long r = pinmm_mmap(p, 0, 4 * MiB, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long a = ((unsigned long)r + HPAGE_SIZE - 1) & ~(HPAGE_SIZE - 1);

	(void)state;
	assert_true(r > 0);
	fill(p, a, HPAGE_SIZE, 0);
	assert_true(gh_info(p, a).huge_mapped);
	assert_int_equal(pinmm_madvise(p, a, HPAGE_SIZE, MADV_PAGEOUT), 0);
	assert_true(gh_vm(m, "thp_split_page") >= 1);
	assert_int_equal(gh_vm(m, "pswpout"), HPAGE_NR);
	for (unsigned long i = 0; i < HPAGE_SIZE; i += PG)
		assert_true(gh_info(p, a + i).swapped);
	check(p, a, HPAGE_SIZE, 0);
	test_shutdown_clean(m);
}

/* munmap, MADV_DONTNEED and exit give the slots back. */
static void test_zap_frees_slots(void **state)
{
	struct pinmm *m = swap_boot("swap=4M");
	struct pinmm_proc *p = test_proc(m), *q;
	unsigned long a = test_mmap_anon(p, 4 * PG), b;

	(void)state;
	fill(p, a, 4 * PG, 1);
	assert_int_equal(pinmm_madvise(p, a, 4 * PG, MADV_PAGEOUT), 0);
	assert_int_equal(gh_vm(m, "nr_swap_used"), 4);
	assert_int_equal(pinmm_madvise(p, a, PG, MADV_DONTNEED), 0);
	assert_int_equal(gh_vm(m, "nr_swap_used"), 3);
	assert_int_equal(test_load8(p, a), 0);		/* zero-filled */
	assert_int_equal(pinmm_munmap(p, a + PG, PG), 0);
	assert_int_equal(gh_vm(m, "nr_swap_used"), 2);
	assert_int_equal(pinmm_proc_create(m, &q), 0);
	pinmm_set_current(q);
	b = test_mmap_anon(q, 2 * PG);
	fill(q, b, 2 * PG, 9);
	assert_int_equal(pinmm_madvise(q, b, 2 * PG, MADV_PAGEOUT), 0);
	assert_int_equal(gh_vm(m, "nr_swap_used"), 4);
	assert_int_equal(pinmm_exit(q), 0);
	assert_int_equal(gh_vm(m, "nr_swap_used"), 2);
	pinmm_set_current(p);
	check(p, a + 2 * PG, 2 * PG, 3);
	test_shutdown_clean(m);
}

/* Swap full: reclaim keeps the page (no page lost); injection likewise. */
static void test_swap_full(void **state)
{
	struct pinmm *m = swap_boot("swap=12K");	/* header + 2 slots */
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);

	(void)state;
	fill(p, a, 4 * PG, 0x60);
	assert_int_equal(pinmm_madvise(p, a, 4 * PG, MADV_PAGEOUT), 0);
	assert_int_equal(gh_vm(m, "nr_swap_used"), 2);
	assert_true(gh_info(p, a + 2 * PG).present && gh_info(p, a + 3 * PG).present);
	assert_int_equal(pinmm_reclaim(m, 4), 0);
	check(p, a, 4 * PG, 0x60);
	assert_int_equal(gh_vm(m, "nr_swap_used"), 0);

	/* The "swap_slot" site: allocation fails, the pages stay mapped. */
	assert_int_equal(pinmm_fail_configure("fail.filter", "swap_slot"), 0);
	assert_int_equal(pinmm_fail_configure("fail.probability", "100"), 0);
	assert_int_equal(pinmm_madvise(p, a, 4 * PG, MADV_PAGEOUT), 0);
	pinmm_fail_reset();
	for (int i = 0; i < 4; i++)
		assert_true(gh_info(p, a + i * PG).present);
	assert_int_equal(gh_vm(m, "pswpout"), 2);
	check(p, a, 4 * PG, 0x60);
	test_shutdown_clean(m);
}

/* No memory for the swap-in: the fault's -ENOMEM, the entry stays. */
static void test_swapin_enomem(void **state)
{
	struct pinmm *m = swap_boot("swap=4M");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, PG);
	struct page *page;

	(void)state;
	test_store8(p, a, 0x4d);
	assert_int_equal(pinmm_madvise(p, a, PG, MADV_PAGEOUT), 0);
	assert_int_equal(pinmm_fail_configure("fail.filter", "page_alloc"), 0);
	assert_int_equal(pinmm_fail_configure("fail.probability", "100"), 0);
	assert_int_equal(gh_pup(p, a, 1, FOLL_WRITE, &page), -ENOMEM);
	pinmm_fail_reset();
	assert_true(gh_info(p, a).swapped);
	assert_int_equal(gh_vm(m, "nr_swap_used"), 1);
	assert_int_equal(gh_vm(m, "nr_swapcached"), 0);
	assert_int_equal(test_load8(p, a), 0x4d);
	test_shutdown_clean(m);
}

static void test_pageout_bad_input(void **state)
{
	struct pinmm *m = swap_boot("swap=4M");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 2 * PG);

	(void)state;
	fill(p, a, 2 * PG, 5);
	assert_int_equal(pinmm_madvise(p, a + 1, PG, MADV_PAGEOUT), -EINVAL);
	assert_int_equal(pinmm_madvise(p, 0x1000000UL, PG, MADV_PAGEOUT), -ENOMEM);
	/* A hole after the mapping: -ENOMEM, the mapped part still paged out. */
	assert_int_equal(pinmm_madvise(p, a, 3 * PG, MADV_PAGEOUT), -ENOMEM);
	assert_true(gh_info(p, a).swapped);
	assert_int_equal(pinmm_madvise(NULL, a, PG, MADV_PAGEOUT), -EINVAL);
	/* Unpopulated and zero-page ranges: nothing to do. */
	{
		unsigned long z = test_mmap_anon(p, 2 * PG);

		assert_int_equal(test_load8(p, z), 0);
		assert_int_equal(pinmm_madvise(p, z, 2 * PG, MADV_PAGEOUT), 0);
		assert_true(gh_info(p, z).zero_page);
	}
	check(p, a, 2 * PG, 5);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swap_config),
		cmocka_unit_test(test_pageout_and_fault_back),
		cmocka_unit_test(test_swapin_ro_pin_keeps_exclusive),
		cmocka_unit_test(test_fork_duplicates_entries),
		cmocka_unit_test(test_fork_swapcache_write_copies),
		cmocka_unit_test(test_pinned_not_swapped),
		cmocka_unit_test(test_pageout_shared),
		cmocka_unit_test(test_thp_split_on_pageout),
		cmocka_unit_test(test_zap_frees_slots),
		cmocka_unit_test(test_swap_full),
		cmocka_unit_test(test_swapin_enomem),
		cmocka_unit_test(test_pageout_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
