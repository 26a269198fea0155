/* SPDX-License-Identifier: MIT */
/*
 * stress_pcp_race.c - the per-CPU page lists (src/mm/page_pcp.c) under
 * concurrency: allocator threads on more threads than CPUs (nr_cpus=2, so
 * CPUs are shared and the trylock fallback to the buddy lists runs), each
 * allocating and freeing order-0 pages (through the pcp lists) and order
 * 1-3 blocks (buddy only) of ZONE_NORMAL and ZONE_MOVABLE, while a drainer
 * thread runs drain_all_pages() and zone_pcp_disable()/zone_pcp_enable().
 *
 * Checked: every page handed out is in use (refcount 1, neither PG_buddy
 * nor PG_pcp) and holds what its owner wrote until freed; zone_free_pages()
 * never exceeds the zone; after the threads stop, nothing is left on the
 * pcp lists once drained, the buddy count equals the free count, the free
 * count and pgalloc - pgfree are back to the values before the run, and
 * pinmm_audit() == 0, pinmm_shutdown() == 0.
 * Events that must happen: allocations, frees, drains that moved pages
 * while the allocators ran, disable/enable cycles.
 *
 * Duration: PINMM_STRESS_SECONDS (default 5); seed: PINMM_SEED.
 */
#include "mm.h"
#include "stress_common.h"

#define NR_ALLOCATORS	3
#define NTHREADS	(NR_ALLOCATORS + 1)
#define HELD_MAX	64

struct pcp_race {
	struct pinmm *m;
	struct stress_start st;
	_Atomic long allocs, frees, drained_pages, drains, disables;
};

struct worker {
	struct pcp_race *r;
	unsigned idx;
	struct stress_rng rng;
};

static bool page_in_use(struct pinmm *m, struct page *page)
{
	return stress_check(page_ref_count(page) == 1 && !PageBuddy(page) && !PagePcp(page),
			    "pfn %#lx handed out: refcount %d flags %#lx",
			    page_to_pfn_m(m, page), page_ref_count(page), page->flags);
}

static void *allocator_thread(void *arg)
{
	struct worker *w = arg;
	struct pcp_race *r = w->r;
	struct page *held[HELD_MAX] = { 0 };
	unsigned order[HELD_MAX] = { 0 };
	uint64_t stamp[HELD_MAX] = { 0 };

	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		unsigned s = (unsigned)stress_below(&w->rng, HELD_MAX);

		if (held[s]) {
			uint64_t *va = pfn_to_virt(r->m, page_to_pfn_m(r->m, held[s]));

			stress_check(*va == stamp[s], "pfn %#lx reads %#llx, owner wrote %#llx",
				     page_to_pfn_m(r->m, held[s]), (unsigned long long)*va,
				     (unsigned long long)stamp[s]);
			__free_pages(held[s], order[s]);
			held[s] = NULL;
			atomic_fetch_add_explicit(&r->frees, 1, memory_order_relaxed);
			continue;
		}
		order[s] = stress_below(&w->rng, 4) ? 0 : 1 + (unsigned)stress_below(&w->rng, 3);
		held[s] = alloc_pages(r->m, stress_below(&w->rng, 2) ? GFP_HIGHUSER_MOVABLE :
					    GFP_KERNEL, order[s]);
		if (!stress_check(held[s] != NULL, "alloc order %u failed", order[s]))
			continue;
		page_in_use(r->m, held[s]);
		stamp[s] = stress_rand(&w->rng);
		*(uint64_t *)pfn_to_virt(r->m, page_to_pfn_m(r->m, held[s])) = stamp[s];
		atomic_fetch_add_explicit(&r->allocs, 1, memory_order_relaxed);
	}
	for (unsigned s = 0; s < HELD_MAX; s++)
		if (held[s])
			__free_pages(held[s], order[s]);
	return NULL;
}

static void *drainer_thread(void *arg)
{
	struct worker *w = arg;
	struct pcp_race *r = w->r;
	struct pinmm *m = r->m;

	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		struct zone *zone = &m->zones[stress_below(&w->rng, 2) ? ZONE_NORMAL : ZONE_MOVABLE];
		long n;

		if (stress_below(&w->rng, 4) == 0) {
			zone_pcp_disable(m, zone);
			/* Disabled: the lists of the zone stay empty. */
			stress_check(zone_pcp_pages(m, zone) == 0, "zone %s: %ld pcp pages while "
				     "disabled", zone->name, zone_pcp_pages(m, zone));
			zone_pcp_enable(m, zone);
			atomic_fetch_add_explicit(&r->disables, 1, memory_order_relaxed);
			continue;
		}
		n = drain_all_pages(m, zone);
		atomic_fetch_add_explicit(&r->drains, 1, memory_order_relaxed);
		if (n > 0)
			atomic_fetch_add_explicit(&r->drained_pages, n, memory_order_relaxed);
		stress_check(zone_free_pages(m, zone->idx) <= (long)zone->managed_pages,
			     "zone %s: %ld free of %lu", zone->name, zone_free_pages(m, zone->idx),
			     zone->managed_pages);
	}
	return NULL;
}

static void test_pcp_race(void **state)
{
	struct pcp_race *r = calloc(1, sizeof(*r));
	struct worker w[NTHREADS];
	pthread_t tids[NTHREADS];
	long free0, free1, used0, used1;
	char seedbuf[64];
	uint64_t seed;
	double t0;

	(void)state;
	assert_non_null(r);
	seed = stress_seed("pcp_race");
	snprintf(seedbuf, sizeof(seedbuf), "seed=%llu", (unsigned long long)seed);
	r->m = test_boot("ram=128M", "zone.movable=32M", "nr_cpus=2", "debug=1", "quiet=1",
			 seedbuf, NULL);
	free0 = pinmm_vmstat(r->m, "nr_free_pages");
	used0 = pinmm_vmstat(r->m, "pgalloc") - pinmm_vmstat(r->m, "pgfree");

	stress_start_init(&r->st, NTHREADS);
	r->st.deadline = stress_now() + stress_seconds() + STRESS_EXTRA_SECONDS;
	for (unsigned i = 0; i < NTHREADS; i++) {
		w[i].r = r;
		w[i].idx = i;
		stress_rng_init(&w[i].rng, seed, i);
		assert_int_equal(pthread_create(&tids[i], NULL, i < NR_ALLOCATORS ?
						allocator_thread : drainer_thread, &w[i]), 0);
	}
	t0 = stress_now();
	{
		const struct stress_event ev[] = {
			{ "allocations", &r->allocs },
			{ "frees", &r->frees },
			{ "pages drained from pcp lists while allocators ran", &r->drained_pages },
			{ "zone_pcp_disable/enable cycles", &r->disables },
		};
		stress_run(&r->st, stress_seconds(), tids, NTHREADS, ev, ARRAY_SIZE(ev));
	}
	free1 = pinmm_vmstat(r->m, "nr_free_pages");
	used1 = pinmm_vmstat(r->m, "pgalloc") - pinmm_vmstat(r->m, "pgfree");
	printf("# pcp_race: %.1f s: %ld allocs, %ld frees, %ld drains moved %ld pages, "
	       "%ld disable cycles; free pages %ld -> %ld\n", stress_now() - t0, r->allocs,
	       r->frees, r->drains, r->drained_pages, r->disables, free0, free1);
	/* Exact with pages still parked: readers add the pcp lists. */
	stress_check(free1 == free0, "free pages %ld, before the run %ld", free1, free0);
	stress_check(used1 == used0, "pgalloc - pgfree %ld, before the run %ld", used1, used0);
	drain_all_pages(r->m, NULL);
	for (int z = 0; z < ZONE_DEVICE; z++) {
		struct zone *zone = &r->m->zones[z];

		stress_check(zone_pcp_pages(r->m, zone) == 0, "zone %s: pcp pages after drain",
			     zone->name);
		stress_check(atomic_long_read(&zone->nr_free) == zone_free_pages(r->m, zone->idx),
			     "zone %s: buddy count %ld, free count %ld", zone->name,
			     atomic_long_read(&zone->nr_free), zone_free_pages(r->m, zone->idx));
	}
	stress_check(pinmm_vmstat(r->m, "nr_free_pages") == free0, "free pages after drain");
	stress_check(pinmm_audit(r->m) == 0, "pinmm_audit()");
	printf("# pcp_race: violations %ld\n", atomic_load(&stress_violations));
	stress_check(pinmm_shutdown(r->m) == 0, "pinmm_shutdown()");
	assert_int_equal(atomic_load(&stress_violations), 0);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pcp_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
