/* SPDX-License-Identifier: MIT */
/*
 * test_page_alloc.c - the buddy allocator (src/mm/page_alloc.c): split and
 * merge, zone fallback, memalloc_pin, __GFP_ZERO, large folio layout,
 * exhaustion, poisoning (use-after-free detection), counter balance, host
 * memory returned, and a 16 GiB boot that touches little host memory.
 * Tests of the buddy lists' layout turn the per-CPU lists off
 * (buddy_only()); test_page_pcp.c tests those lists.
 */
#include "helpers.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "mm.h"

static unsigned long pfn_of(struct pinmm *m, struct page *p)
{
	return page_to_pfn_m(m, p);
}

static bool in_zone(struct pinmm *m, struct page *p, enum zone_type z)
{
	return pfn_zone_idx(m, pfn_of(m, p)) == z;
}

/* Snapshot of every free_area count of every zone. */
struct snap {
	unsigned long nr_free[MAX_NR_ZONES][NR_PAGE_ORDERS];
	long free_pages;
};

static void take_snap(struct pinmm *m, struct snap *s)
{
	for (int z = 0; z < MAX_NR_ZONES; z++)
		for (int o = 0; o < NR_PAGE_ORDERS; o++)
			s->nr_free[z][o] = m->zones[z].free_area[o].nr_free;
	s->free_pages = pinmm_vmstat(m, "nr_free_pages");
}

/* Send every allocation and free of @m straight to the buddy lists. */
static void buddy_only(struct pinmm *m)
{
	for (int z = 0; z < MAX_NR_ZONES; z++)
		zone_pcp_disable(m, &m->zones[z]);
}

static void buddy_only_end(struct pinmm *m)
{
	for (int z = 0; z < MAX_NR_ZONES; z++)
		zone_pcp_enable(m, &m->zones[z]);
}

static void check_balance(struct pinmm *m)
{
	long sum = 0;

	for (int z = 0; z < MAX_NR_ZONES; z++)
		sum += zone_free_pages(m, (enum zone_type)z);
	assert_int_equal(sum, pinmm_vmstat(m, "nr_free_pages"));
	assert_int_equal(pinmm_vmstat(m, "pgalloc") - pinmm_vmstat(m, "pgfree"),
			 page_alloc_check_leaks(m, false));
}

static void test_split_merge(void **state)
{
	struct pinmm *m = test_boot_small();
	struct snap before, after;
	struct page *p[5];

	(void)state;
	buddy_only(m);
	take_snap(m, &before);
	p[0] = alloc_pages(m, GFP_KERNEL, 0);
	assert_non_null(p[0]);
	assert_int_equal(page_ref_count(p[0]), 1);
	assert_int_equal(atomic_read(&p[0]->_mapcount), -1);
	assert_false(PageBuddy(p[0]));
	assert_int_equal(pinmm_vmstat(m, "nr_free_pages"), before.free_pages - 1);
	/* The zero page took pfn 0 and left its buddy pfn 1 on the order-0 list. */
	assert_int_equal(before.nr_free[ZONE_NORMAL][0], 1);
	assert_int_equal(pfn_of(m, p[0]), m->zero_pfn ^ 1);
	assert_int_equal(m->zones[ZONE_NORMAL].free_area[0].nr_free, 0);
	p[1] = alloc_pages(m, GFP_KERNEL, 0);
	p[2] = alloc_pages(m, GFP_KERNEL, 3);
	p[3] = alloc_pages(m, GFP_KERNEL, 9);
	p[4] = alloc_pages(m, GFP_KERNEL, MAX_PAGE_ORDER);	/* ram=256M: no 1G block */
	assert_null(p[4]);
	for (int i = 0; i < 4; i++)
		assert_non_null(p[i]);
	/* Blocks are aligned to their order. */
	assert_int_equal(pfn_of(m, p[2]) & 7, 0);
	assert_int_equal(pfn_of(m, p[3]) & 511, 0);
	check_balance(m);
	__free_pages(p[1], 0);
	__free_pages(p[3], 9);
	__free_pages(p[0], 0);
	__free_pages(p[2], 3);
	take_snap(m, &after);
	/* Everything merged back to the boot layout. */
	assert_memory_equal(&before, &after, sizeof(before));
	check_balance(m);
	buddy_only_end(m);
	test_shutdown_clean(m);
}

static void test_refcount_free(void **state)
{
	struct pinmm *m = test_boot_small();
	struct page *p = alloc_pages(m, GFP_KERNEL, 2);
	long free0;

	(void)state;
	assert_non_null(p);
	free0 = pinmm_vmstat(m, "nr_free_pages");
	atomic_inc(&p->_refcount);		/* a second reference */
	__free_pages(p, 2);
	assert_int_equal(pinmm_vmstat(m, "nr_free_pages"), free0);
	__free_pages(p, 2);
	assert_int_equal(pinmm_vmstat(m, "nr_free_pages"), free0 + 4);
	test_shutdown_clean(m);
}

static void test_zone_fallback(void **state)
{
	struct pinmm *m = test_boot("ram=128M", "zone.movable=8M", "zone.cma=8M",
				    "debug=1", NULL);
	enum { NR = 3000 };
	static struct page *pages[NR];
	int n = 0, in_mov = 0, in_cma = 0, in_norm = 0;
	struct page *p;
	unsigned int old;

	(void)state;
	/* Unmovable: NORMAL only. */
	p = alloc_pages(m, GFP_KERNEL, 0);
	assert_true(in_zone(m, p, ZONE_NORMAL));
	__free_pages(p, 0);
	/* Movable: MOVABLE first. */
	p = alloc_pages(m, __GFP_MOVABLE, 0);
	assert_true(in_zone(m, p, ZONE_MOVABLE));
	__free_pages(p, 0);
	/* memalloc_pin strips __GFP_MOVABLE. */
	old = memalloc_pin_save();
	p = alloc_pages(m, __GFP_MOVABLE, 0);
	memalloc_pin_restore(old);
	assert_true(in_zone(m, p, ZONE_NORMAL));
	__free_pages(p, 0);
	assert_int_equal(pinmm_memalloc_pin, 0);
	/* One zone only. */
	p = alloc_pages(m, __GFP_ZONE_ONLY | __GFP_ZONE(ZONE_CMA), 0);
	assert_true(in_zone(m, p, ZONE_CMA));
	__free_pages(p, 0);
	assert_null(alloc_pages(m, __GFP_ZONE_ONLY | __GFP_ZONE(ZONE_DEVICE), 0));
	/* 16M of movable allocations: MOVABLE (2048 pages), then CMA, then NORMAL. */
	for (n = 0; n < NR; n++) {
		pages[n] = alloc_pages(m, __GFP_MOVABLE, 0);
		assert_non_null(pages[n]);
		if (in_zone(m, pages[n], ZONE_MOVABLE)) {
			in_mov++;
			assert_int_equal(in_cma + in_norm, 0);
		} else if (in_zone(m, pages[n], ZONE_CMA)) {
			in_cma++;
			assert_int_equal(in_norm, 0);
		} else {
			in_norm++;
		}
	}
	assert_int_equal(in_mov, 2048);
	assert_int_equal(in_cma, 2048 < NR - 2048 ? 2048 : NR - 2048);
	assert_int_equal(zone_free_pages(m, ZONE_MOVABLE), 0);
	assert_null(alloc_pages(m, __GFP_ZONE_ONLY | __GFP_ZONE(ZONE_MOVABLE), 0));
	check_balance(m);
	for (int i = 0; i < NR; i++)
		__free_pages(pages[i], 0);
	check_balance(m);
	test_shutdown_clean(m);
}

static void test_exhaustion(void **state)
{
	struct pinmm *m = test_boot("ram=64M", "debug=0", NULL);
	long free0 = zone_free_pages(m, ZONE_NORMAL), n = 0;
	struct page **pages = calloc((size_t)free0 + 1, sizeof(*pages));

	(void)state;
	assert_non_null(pages);
	assert_null(alloc_pages(m, GFP_KERNEL, MAX_PAGE_ORDER + 1));
	while ((pages[n] = alloc_pages(m, GFP_KERNEL, 0)) != NULL)
		n++;
	assert_int_equal(n, free0);
	assert_int_equal(zone_free_pages(m, ZONE_NORMAL), 0);
	assert_null(alloc_pages(m, __GFP_MOVABLE, 0));
	assert_null(folio_alloc(m, GFP_TRANSHUGE, 9));
	check_balance(m);
	for (long i = n - 1; i >= 0; i--)
		__free_pages(pages[i], 0);
	assert_int_equal(zone_free_pages(m, ZONE_NORMAL), free0);
	/* Fully merged again: a 32M block is available. */
	assert_non_null(pages[0] = alloc_pages(m, GFP_KERNEL, 13));
	__free_pages(pages[0], 13);
	free(pages);
	test_shutdown_clean(m);
}

static void test_gfp_zero(void **state)
{
	struct pinmm *m = test_boot_small();
	struct page *a, *b, *keep;
	unsigned char *va;

	(void)state;
	a = alloc_pages(m, GFP_KERNEL, 0);
	keep = alloc_pages(m, GFP_KERNEL, 0);	/* a's buddy: a stays order 0 when freed */
	va = pfn_to_virt(m, pfn_of(m, a));
	memset(va, 0xff, PAGE_SIZE);
	__free_pages(a, 0);
	b = alloc_pages(m, __GFP_ZERO, 0);
	assert_ptr_equal(a, b);			/* LIFO free list */
	for (int i = 0; i < (int)PAGE_SIZE; i++)
		assert_int_equal(va[i], 0);
	__free_pages(b, 0);
	__free_pages(keep, 0);
	/* A large dirty block freed is given back to the host and reads as zero. */
	a = alloc_pages(m, GFP_KERNEL, 9);
	va = pfn_to_virt(m, pfn_of(m, a));
	memset(va, 0x5a, PMD_SIZE);
	__free_pages(a, 9);
	for (size_t i = 0; i < PMD_SIZE; i += 512)
		assert_int_equal(va[i], 0);
	b = alloc_pages(m, __GFP_ZERO, 9);
	va = pfn_to_virt(m, pfn_of(m, b));
	for (size_t i = 0; i < PMD_SIZE; i += 64)
		assert_int_equal(va[i], 0);
	__free_pages(b, 9);
	test_shutdown_clean(m);
}

static void test_large_folio(void **state)
{
	struct pinmm *m = test_boot("ram=2G", "zone.movable=1G", NULL);
	struct folio *f;

	(void)state;
	for (unsigned order = 1; order <= MAX_PAGE_ORDER; order += (order < 9 ? 1 : 9)) {
		f = folio_alloc(m, __GFP_MOVABLE, order);
		assert_non_null(f);
		assert_true(in_zone(m, &f->page, ZONE_MOVABLE));
		assert_true(folio_test_large(f));
		assert_true(folio_test_LargeRmappable(f));
		assert_int_equal(folio_order(f), order);
		assert_int_equal(folio_nr_pages(f), 1UL << order);
		assert_int_equal(f->_folio_nr_pages, 1UL << order);
		assert_int_equal(folio_ref_count(f), 1);
		assert_int_equal(folio_mapcount(f), 0);
		assert_int_equal(folio_entire_mapcount(f), 0);
		assert_int_equal(atomic_read(&f->_nr_pages_mapped), 0);
		assert_int_equal(atomic_read(&f->_pincount), 0);
		assert_false(folio_mapped(f));
		assert_null(folio_mapping(f));
		assert_false(folio_test_anon(f));
		for (unsigned long i = 1; i < folio_nr_pages(f); i++) {
			struct page *t = folio_page(f, i);

			assert_true(PageTail(t));
			assert_ptr_equal(page_folio(t), f);
			assert_int_equal(page_ref_count(t), 0);
			assert_int_equal(atomic_read(&t->_mapcount), -1);
			assert_int_equal(page_mapcount(t), 0);
		}
		assert_false(PageTail(&f->page));
		folio_get(f);
		folio_put(f);
		assert_int_equal(folio_ref_count(f), 1);
		folio_put(f);
		check_balance(m);
	}
	/* Order 0 with __GFP_COMP is a small folio. */
	f = folio_alloc(m, GFP_KERNEL, 0);
	assert_false(folio_test_large(f));
	assert_int_equal(folio_nr_pages(f), 1);
	folio_put(f);
	/* A freed large folio's pages can be handed out as small ones. */
	f = folio_alloc(m, __GFP_ZONE_ONLY | __GFP_ZONE(ZONE_NORMAL), 9);
	{
		unsigned long pfn = folio_pfn(f);
		struct snap s;

		folio_put(f);
		take_snap(m, &s);
		struct page *p = alloc_pages(m, GFP_KERNEL, 0);

		assert_false(PageTail(p));
		assert_ptr_equal(page_folio(p), (struct folio *)p);
		(void)pfn;
		__free_pages(p, 0);
	}
	test_shutdown_clean(m);
}

static void test_poison(void **state)
{
	struct pinmm *m = test_boot("ram=64M", "debug=2", "quiet=1", NULL);
	struct page *a, *keep, *b;
	unsigned char *va;
	long w0;

	(void)state;
	a = alloc_pages(m, GFP_KERNEL, 0);
	keep = alloc_pages(m, GFP_KERNEL, 0);
	va = pfn_to_virt(m, pfn_of(m, a));
	__free_pages(a, 0);
	if (!CONFIG_DEBUG_VM) {
		__free_pages(keep, 0);
		test_shutdown_clean(m);
		skip();
	}
	assert_true(PagePoisoned(a));
	assert_true(PagePcp(a));		/* parked on this CPU's list */
	for (int i = 0; i < (int)PAGE_SIZE; i++)
		assert_int_equal(va[i], 0x6b);
	/* A clean reuse does not warn. */
	w0 = pinmm_vmstat(m, "warn_count");
	b = alloc_pages(m, GFP_KERNEL, 0);
	assert_ptr_equal(a, b);
	assert_false(PagePoisoned(b));
	assert_int_equal(pinmm_vmstat(m, "warn_count"), w0);
	/* A write after free is caught at the next allocation. */
	__free_pages(b, 0);
	va[100] = 1;
	b = alloc_pages(m, GFP_KERNEL, 0);
	assert_ptr_equal(a, b);
	assert_int_equal(pinmm_vmstat(m, "warn_count"), w0 + 1);
	/* A double free is reported, not corrupting the allocator. */
	__free_pages(b, 0);
	free_pages_prepared(m, b, 0);
	assert_int_equal(pinmm_vmstat(m, "warn_count"), w0 + 2);
	check_balance(m);
	__free_pages(keep, 0);
	test_shutdown_clean(m);
}

static void test_no_poison_debug0(void **state)
{
	struct pinmm *m = test_boot("ram=64M", "debug=0", NULL);
	struct page *a = alloc_pages(m, GFP_KERNEL, 0), *keep = alloc_pages(m, GFP_KERNEL, 0);
	unsigned char *va = pfn_to_virt(m, pfn_of(m, a));

	(void)state;
	va[0] = 0x11;
	__free_pages(a, 0);
	assert_false(PagePoisoned(a));
	assert_int_equal(va[0], 0x11);
	__free_pages(keep, 0);
	test_shutdown_clean(m);
}

static long rss_bytes(void)
{
	long size, resident;
	FILE *f = fopen("/proc/self/statm", "r");

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%ld %ld", &size, &resident), 2);
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

static void test_big_boot_is_lazy(void **state)
{
	long rss0 = rss_bytes(), rss1;
	struct pinmm *m = test_boot("ram=16G", "zone.movable=4G", "pmem=4G", NULL);
	struct folio *f;

	(void)state;
	assert_int_equal(pinmm_vmstat(m, "nr_free_pages"), 16 * GiB / 4096 - 1);
	/* A 1G folio touches 16M of memmap but no frames; freeing it is cheap. */
	f = folio_alloc(m, __GFP_MOVABLE, MAX_PAGE_ORDER);
	assert_non_null(f);
	assert_int_equal(pfn_of(m, &f->page) & (HPAGE_PUD_NR - 1), 0);
	folio_put(f);
	f = folio_alloc(m, __GFP_MOVABLE | __GFP_ZERO, 9);	/* known zero: no memset */
	folio_put(f);
	rss1 = rss_bytes();
	print_message("# 16G boot: rss %ld KiB -> %ld KiB\n", rss0 >> 10, rss1 >> 10);
	assert_true(rss1 - rss0 < 300 * (long)MiB);
	test_shutdown_clean(m);
}

struct race_arg {
	struct pinmm *m;
	unsigned seed;
};

static void *race_fn(void *p)
{
	struct race_arg *a = p;
	struct page *held[16] = { 0 };
	unsigned ord[16] = { 0 };

	for (int i = 0; i < 20000; i++) {
		int slot = rand_r(&a->seed) % 16;

		if (held[slot]) {
			__free_pages(held[slot], ord[slot]);
			held[slot] = NULL;
		} else {
			ord[slot] = (unsigned)rand_r(&a->seed) % 10;
			held[slot] = alloc_pages(a->m, (i & 1) ? __GFP_MOVABLE : GFP_KERNEL,
						 ord[slot]);
			if (held[slot])
				*(volatile char *)pfn_to_virt(a->m, page_to_pfn_m(a->m, held[slot])) = 1;
		}
	}
	for (int s = 0; s < 16; s++)
		if (held[s])
			__free_pages(held[s], ord[s]);
	return NULL;
}

/* Concurrent allocation and freeing keeps the free lists consistent. */
static void test_concurrent(void **state)
{
	struct pinmm *m = test_boot("ram=128M", "zone.movable=32M", "debug=1", NULL);
	struct race_arg args[4];
	pthread_t th[4];
	struct snap before, after;

	(void)state;
	drain_all_pages(m, NULL);	/* boot's pages parked on CPU lists */
	take_snap(m, &before);
	for (int i = 0; i < 4; i++) {
		args[i] = (struct race_arg){ m, 1000u + (unsigned)i };
		assert_int_equal(pthread_create(&th[i], NULL, race_fn, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		TEST_JOIN(th[i], "an allocator thread");
	drain_all_pages(m, NULL);
	take_snap(m, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	check_balance(m);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_merge),
		cmocka_unit_test(test_refcount_free),
		cmocka_unit_test(test_zone_fallback),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_gfp_zero),
		cmocka_unit_test(test_large_folio),
		cmocka_unit_test(test_poison),
		cmocka_unit_test(test_no_poison_debug0),
		cmocka_unit_test(test_big_boot_is_lazy),
		cmocka_unit_test(test_concurrent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
