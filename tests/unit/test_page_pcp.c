/* SPDX-License-Identifier: MIT */
/*
 * test_page_pcp.c - the per-CPU page lists (src/mm/page_pcp.c) and the
 * CPU a thread runs on (src/kernel/smp.c): refill in batches, parking on
 * free, the high watermark, drains, zone_pcp_disable(), the drain before
 * an allocation fails, exact free counts with pages parked, and per-CPU
 * vmstat shares summed on read.
 */
#include "helpers.h"
#include <pthread.h>

#include "mm.h"

static struct per_cpu_pages *my_pcp(struct pinmm *m, enum zone_type z)
{
	return &m->zones[z].pcp[smp_processor_id_m(m)];
}

/* Free counts: buddy + pcp, and vmstat agrees with the zones. */
static void check_counts(struct pinmm *m, long want_free)
{
	long sum = 0;

	for (int z = 0; z < MAX_NR_ZONES; z++)
		sum += zone_free_pages(m, (enum zone_type)z);
	assert_int_equal(sum, want_free);
	assert_int_equal(pinmm_vmstat(m, "nr_free_pages"), want_free);
}

static void test_refill_and_park(void **state)
{
	struct pinmm *m = test_boot("ram=64M", "debug=1", NULL);
	struct zone *zone = &m->zones[ZONE_NORMAL];
	struct per_cpu_pages *pcp = my_pcp(m, ZONE_NORMAL);
	long free0, buddy0;
	struct page *p;

	(void)state;
	drain_all_pages(m, NULL);
	free0 = zone_free_pages(m, ZONE_NORMAL);
	buddy0 = atomic_long_read(&zone->nr_free);
	assert_int_equal(free0, buddy0);
	assert_true(pcp->batch >= 1);
	assert_int_equal(pcp->high, 6 * pcp->batch);

	/* An empty list is refilled with one batch; one page is handed out. */
	p = alloc_pages(m, GFP_KERNEL, 0);
	assert_non_null(p);
	assert_false(PagePcp(p));
	assert_false(PageBuddy(p));
	assert_int_equal(pcp->count, pcp->batch - 1);
	assert_int_equal(atomic_long_read(&zone->nr_free), buddy0 - pcp->batch);
	check_counts(m, free0 - 1);	/* 64M: NORMAL is the only zone */
	assert_int_equal(zone_free_pages(m, ZONE_NORMAL), free0 - 1);

	/* A free parks the page on this CPU's list, head first (hot). */
	__free_pages(p, 0);
	assert_true(PagePcp(p));
	assert_int_equal(pcp->count, pcp->batch);
	assert_ptr_equal(list_first_entry(&pcp->list, struct page, lru), p);
	assert_int_equal(zone_free_pages(m, ZONE_NORMAL), free0);
	/* ... and the next allocation takes it back. */
	assert_ptr_equal(alloc_pages(m, GFP_KERNEL, 0), p);
	__free_pages(p, 0);

	/* A drain returns every parked page to the buddy lists. */
	assert_int_equal(drain_all_pages(m, NULL), pcp->batch);
	assert_int_equal(pcp->count, 0);
	assert_false(PagePcp(p));
	assert_int_equal(atomic_long_read(&zone->nr_free), buddy0);
	test_shutdown_clean(m);
}

static void test_high_watermark(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=1", NULL);
	struct per_cpu_pages *pcp = my_pcp(m, ZONE_NORMAL);
	int nr = 3 * pcp->high, maxcount = 0;
	struct page **pages = calloc((size_t)nr, sizeof(*pages));
	long free0;

	(void)state;
	assert_non_null(pages);
	free0 = pinmm_vmstat(m, "nr_free_pages");
	for (int i = 0; i < nr; i++) {
		pages[i] = alloc_pages(m, GFP_KERNEL, 0);
		assert_non_null(pages[i]);
		assert_true(pcp->count < pcp->batch);	/* refilled one batch at a time */
	}
	check_counts(m, free0 - nr);
	for (int i = 0; i < nr; i++) {
		__free_pages(pages[i], 0);
		assert_true(pcp->count <= pcp->high);
		if (pcp->count > maxcount)
			maxcount = pcp->count;
	}
	/* The list filled up to high, then gave back a batch each time. */
	assert_int_equal(maxcount, pcp->high);
	assert_true(pcp->count > pcp->high - pcp->batch);
	check_counts(m, free0);
	free(pages);
	test_shutdown_clean(m);
}

static void test_double_free_parked(void **state)
{
	struct pinmm *m = test_boot("ram=64M", "debug=1", "quiet=1", NULL);
	struct page *p = alloc_pages(m, GFP_KERNEL, 0);
	long w0 = pinmm_vmstat(m, "warn_count"), free0;

	(void)state;
	assert_non_null(p);
	__free_pages(p, 0);
	assert_true(PagePcp(p));
	free0 = pinmm_vmstat(m, "nr_free_pages");
	free_pages_prepared(m, p, 0);		/* a second free of a parked page */
	assert_int_equal(pinmm_vmstat(m, "warn_count"), w0 + 1);
	assert_int_equal(pinmm_vmstat(m, "nr_free_pages"), free0);
	test_shutdown_clean(m);
}

static void test_disable(void **state)
{
	struct pinmm *m = test_boot("ram=64M", "debug=1", NULL);
	struct per_cpu_pages *pcp = my_pcp(m, ZONE_NORMAL);
	struct zone *zone = &m->zones[ZONE_NORMAL];
	struct page *p = alloc_pages(m, GFP_KERNEL, 0);

	(void)state;
	assert_non_null(p);
	assert_true(pcp->count > 0);
	zone_pcp_disable(m, zone);
	assert_int_equal(pcp->count, 0);
	__free_pages(p, 0);			/* straight to the buddy lists */
	assert_int_equal(pcp->count, 0);
	assert_true(PageBuddy(p));
	p = alloc_pages(m, GFP_KERNEL, 0);
	assert_int_equal(pcp->count, 0);
	zone_pcp_disable(m, zone);		/* nests */
	zone_pcp_enable(m, zone);
	__free_pages(p, 0);
	assert_int_equal(pcp->count, 0);
	zone_pcp_enable(m, zone);
	p = alloc_pages(m, GFP_KERNEL, 0);
	assert_int_equal(pcp->count, pcp->batch - 1);
	__free_pages(p, 0);
	test_shutdown_clean(m);
}

struct hoard {
	struct pinmm *m;
	unsigned int cpu;
	long parked;
};

/* On another CPU: take every MOVABLE page, then free them all (parked). */
static void *hoard_fn(void *arg)
{
	struct hoard *h = arg;
	struct zone *zone = &h->m->zones[ZONE_MOVABLE];
	long n = (long)zone->managed_pages;
	struct page **pages = calloc((size_t)n, sizeof(*pages));

	h->cpu = smp_processor_id_m(h->m);
	for (long i = 0; i < n; i++)
		pages[i] = alloc_pages(h->m, __GFP_ZONE_ONLY | __GFP_ZONE(ZONE_MOVABLE), 0);
	for (long i = 0; i < n; i++)
		if (pages[i])
			__free_pages(pages[i], 0);
	h->parked = READ_ONCE(zone->pcp[h->cpu].count);
	free(pages);
	return NULL;
}

/* An allocation that finds nothing drains the other CPUs' lists first. */
static void test_drain_before_failing(void **state)
{
	struct pinmm *m = test_boot("ram=64M", "zone.movable=1M", "nr_cpus=2", "debug=1", NULL);
	struct zone *zone = &m->zones[ZONE_MOVABLE];
	struct hoard h = { .m = m };
	pthread_t t;
	long n = (long)zone->managed_pages;
	struct page **mine = calloc((size_t)n, sizeof(*mine));

	(void)state;
	assert_non_null(mine);
	(void)smp_processor_id_m(m);		/* the main thread holds its slot */
	assert_int_equal(pthread_create(&t, NULL, hoard_fn, &h), 0);
	TEST_JOIN(t, "the hoarding thread");
	assert_int_not_equal(h.cpu, smp_processor_id_m(m));
	assert_true(h.parked > 0);
	assert_int_equal(zone_free_pages(m, ZONE_MOVABLE), n);
	/* Every page of the zone is free, some only on the other CPU's list. */
	for (long i = 0; i < n; i++) {
		mine[i] = alloc_pages(m, __GFP_ZONE_ONLY | __GFP_ZONE(ZONE_MOVABLE), 0);
		assert_non_null(mine[i]);
	}
	assert_int_equal(zone_free_pages(m, ZONE_MOVABLE), 0);
	assert_null(alloc_pages(m, __GFP_ZONE_ONLY | __GFP_ZONE(ZONE_MOVABLE) | __GFP_NOWARN, 0));
	for (long i = 0; i < n; i++)
		__free_pages(mine[i], 0);
	free(mine);
	test_shutdown_clean(m);
}

struct slot_arg {
	pthread_barrier_t *bar;
	int slot;
};

static void *slot_fn(void *arg)
{
	struct slot_arg *a = arg;

	a->slot = raw_smp_processor_id();
	pthread_barrier_wait(a->bar);		/* all alive at once */
	return NULL;
}

/* Threads alive at the same time have different CPU slots. */
static void test_cpu_slots(void **state)
{
	enum { N = 4 };
	struct slot_arg args[N];
	pthread_barrier_t bar;
	pthread_t t[N];
	int me = raw_smp_processor_id();

	(void)state;
	assert_true(me >= 0 && me < PINMM_MAX_CPUS);
	assert_int_equal(raw_smp_processor_id(), me);	/* stable */
	pthread_barrier_init(&bar, NULL, N);
	for (int i = 0; i < N; i++) {
		args[i] = (struct slot_arg){ &bar, -1 };
		assert_int_equal(pthread_create(&t[i], NULL, slot_fn, &args[i]), 0);
	}
	for (int i = 0; i < N; i++)
		TEST_JOIN(t[i], "a slot thread");
	pthread_barrier_destroy(&bar);
	for (int i = 0; i < N; i++) {
		assert_int_not_equal(args[i].slot, me);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(args[i].slot, args[j].slot);
	}
}

struct count_arg {
	struct pinmm *m;
	int n;
};

static void *count_fn(void *arg)
{
	struct count_arg *a = arg;

	for (int i = 0; i < a->n; i++)
		count_vm_event(a->m, COW_REUSE);
	mod_vm_stat(a->m, NR_DIRTY, -a->n);
	return NULL;
}

/* Per-CPU shares, possibly negative, sum to the exact value on read. */
static void test_vmstat_shares(void **state)
{
	struct pinmm *m = test_boot("ram=64M", "nr_cpus=3", NULL);
	struct count_arg a = { m, 1000 };
	pthread_t t[2];
	long cow0 = pinmm_vmstat(m, "cow_reuse"), dirty0 = pinmm_vmstat(m, "nr_dirty");
	int cpus_used = 0;

	(void)state;
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, count_fn, &a), 0);
	count_fn(&a);
	for (int i = 0; i < 2; i++)
		TEST_JOIN(t[i], "a counting thread");
	mod_vm_stat(m, NR_DIRTY, 3 * a.n);
	assert_int_equal(pinmm_vmstat(m, "cow_reuse"), cow0 + 3 * a.n);
	assert_int_equal(pinmm_vmstat(m, "nr_dirty"), dirty0);
	for (unsigned int cpu = 0; cpu < m->nr_cpus; cpu++)
		cpus_used += atomic_long_read(&m->vm_cpu[cpu].count[COW_REUSE]) != 0;
	assert_true(cpus_used >= 2);		/* the counts really were per CPU */
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refill_and_park),
		cmocka_unit_test(test_high_watermark),
		cmocka_unit_test(test_double_free_parked),
		cmocka_unit_test(test_disable),
		cmocka_unit_test(test_drain_before_failing),
		cmocka_unit_test(test_cpu_slots),
		cmocka_unit_test(test_vmstat_shares),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
