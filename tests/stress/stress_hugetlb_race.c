/* SPDX-License-Identifier: MIT */
/*
 * stress_hugetlb_race.c - GUP-fast on 2 MiB hugetlb pages racing against
 * what changes hugetlb page tables: faults, COW after fork, munmap +
 * mmap(MAP_FIXED), truncation and MADV_DONTNEED of a shared hugetlbfs
 * file, and FOLL_LONGTERM's migration of hugetlb pages out of ZONE_MOVABLE
 * (the pool fills MOVABLE first).  Threads play CPUs of one process.
 *
 *   own      a private MAP_HUGETLB region of the owner thread: it stores
 *            (shadowed), loads, pins (short- or long-term) and forks, the
 *            child writing its copies;
 *   chaos    a shared MFD_HUGETLB file mapping that the mutator unmaps and
 *            maps again, truncates and regrows, and MADV_DONTNEEDs, while
 *            the pinner pins it with GUP-fast.
 *
 * Invariants (each failure a counted violation):
 *  V1 every page a pin returns is a hugetlb page of a folio with refcount
 *     > 0 that is maybe-DMA-pinned while the pin is held;
 *  V2 owned region: the pinned page holds what the owner stored, and the
 *     owner's later store is visible through the pin (a COW or a
 *     migration must not have replaced the pinned page);
 *  V3 a fork child sees the snapshot, and its stores never reach the parent;
 *  V4 at the end: pins acquired == released, pinmm_audit() == 0, the pool
 *     is whole again and pinmm_shutdown() == 0.
 *
 * Duration: PINMM_STRESS_SECONDS (default 5), longer (at most 60 s more)
 * until each race of the event list happened; seed: PINMM_SEED.
 */
#include "mm.h"
#include "stress_common.h"

#define HP		(2 * MiB)
#define OWN_PAGES	4
#define CHAOS_PAGES	4
#define OWN_BASE	0x400000000UL
#define CHAOS_BASE	0x500000000UL
#define POOL		40

struct htlb_race {
	struct pinmm *m;
	struct pinmm_proc *p;
	int chaos_fd;
	uint64_t seed;
	struct stress_start st;
	uint64_t shadow[OWN_PAGES];
	uint64_t seq;
	_Atomic long forks, coherence_checks, chaos_pins, remaps, truncates, dontneeds;
};

struct worker {
	struct htlb_race *r;
	struct stress_rng rng;
};

static void check_pinned(struct page *page)
{
	struct folio *folio = page_folio(page);

	stress_check(folio_ref_count(folio) > 0, "pinned hugetlb page with refcount %d",
		     folio_ref_count(folio));
	stress_check(folio_maybe_dma_pinned(folio), "pinned page not maybe-DMA-pinned");
}

static void owner_pin(struct worker *w)
{
	struct htlb_race *r = w->r;
	unsigned i = (unsigned)stress_below(&w->rng, OWN_PAGES);
	unsigned long a = OWN_BASE + i * HP;
	unsigned int flags = FOLL_WRITE | (stress_below(&w->rng, 2) ? FOLL_LONGTERM : 0);
	struct page *page;
	uint64_t *kva;

	if (pin_user_pages_fast(a, 1, flags, &page) != 1)
		return;		/* no pool page outside MOVABLE: -ENOMEM */
	check_pinned(page);
	kva = kmap_local_page(page);
	stress_check(__atomic_load_n(kva, __ATOMIC_RELAXED) == r->shadow[i],
		     "pinned huge page %u reads %#llx, shadow %#llx", i,
		     (unsigned long long)*kva, (unsigned long long)r->shadow[i]);
	r->shadow[i] = ++r->seq;
	stress_store64(r->p, a, r->shadow[i]);
	stress_check(__atomic_load_n(kva, __ATOMIC_RELAXED) == r->shadow[i],
		     "pin of huge page %u lost the process's store", i);
	atomic_fetch_add(&r->coherence_checks, 1);
	unpin_user_page(page);
}

static void owner_fork(struct worker *w)
{
	struct htlb_race *r = w->r;
	struct pinmm_proc *c;

	if (pinmm_fork(r->p, &c))
		return;		/* no free page for a pinned page's copy */
	atomic_fetch_add(&r->forks, 1);
	for (unsigned i = 0; i < OWN_PAGES; i++) {
		uint64_t v = 0;

		/* The child may have lost a page to the owner's COW: SIGBUS. */
		if (pinmm_load(c, OWN_BASE + i * HP, &v, sizeof(v)) != sizeof(v))
			continue;
		stress_check(v == r->shadow[i], "child huge page %u: %#llx, shadow %#llx", i,
			     (unsigned long long)v, (unsigned long long)r->shadow[i]);
		v = ~v;
		pinmm_store(c, OWN_BASE + i * HP, &v, sizeof(v));
	}
	stress_check(pinmm_exit(c) == 0, "child exit");
	for (unsigned i = 0; i < OWN_PAGES; i++)
		stress_check(stress_load64(r->p, OWN_BASE + i * HP) == r->shadow[i],
			     "child's store reached the parent at huge page %u", i);
}

static void *owner_thread(void *arg)
{
	struct worker *w = arg;
	struct htlb_race *r = w->r;

	pinmm_set_current(r->p);
	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		unsigned i = (unsigned)stress_below(&w->rng, OWN_PAGES);
		unsigned op = (unsigned)stress_below(&w->rng, 100);

		if (op < 30) {
			r->shadow[i] = ++r->seq;
			stress_store64(r->p, OWN_BASE + i * HP, r->shadow[i]);
		} else if (op < 60) {
			stress_check(stress_load64(r->p, OWN_BASE + i * HP) == r->shadow[i],
				     "huge page %u lost its contents", i);
		} else if (op < 92) {
			owner_pin(w);
		} else {
			owner_fork(w);
		}
	}
	pinmm_set_current(NULL);
	return NULL;
}

/* GUP-fast over the chaos mapping, whatever state it is in. */
static void *pinner_thread(void *arg)
{
	struct worker *w = arg;
	struct htlb_race *r = w->r;
	static _Thread_local struct page *pages[512];

	pinmm_set_current(r->p);
	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		unsigned long a = CHAOS_BASE + stress_below(&w->rng, CHAOS_PAGES) * HP +
				  stress_below(&w->rng, 256) * PAGE_SIZE;
		int n = pin_user_pages_fast(a, 256, FOLL_WRITE, pages);

		for (int k = 0; k < n; k++) {
			stress_check(folio_test_large(page_folio(pages[k])), "small page in hugetlb");
			check_pinned(pages[k]);
		}
		if (n > 0) {
			atomic_fetch_add(&r->chaos_pins, 1);
			unpin_user_pages(pages, (unsigned long)n);
		}
	}
	pinmm_set_current(NULL);
	return NULL;
}

static void *mutator_thread(void *arg)
{
	struct worker *w = arg;
	struct htlb_race *r = w->r;

	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		unsigned op = (unsigned)stress_below(&w->rng, 3);

		if (op == 0) {
			long a = pinmm_mmap(r->p, CHAOS_BASE, CHAOS_PAGES * HP, PROT_READ | PROT_WRITE,
					    MAP_SHARED | MAP_FIXED, r->chaos_fd, 0);

			stress_check(a == (long)CHAOS_BASE, "mmap(MAP_FIXED) of the chaos file: %ld", a);
			atomic_fetch_add(&r->remaps, 1);
		} else if (op == 1) {
			stress_check(pinmm_ftruncate(r->p, r->chaos_fd, HP) == 0, "truncate");
			stress_check(pinmm_ftruncate(r->p, r->chaos_fd, CHAOS_PAGES * HP) == 0, "regrow");
			atomic_fetch_add(&r->truncates, 1);
		} else {
			stress_check(pinmm_madvise(r->p, CHAOS_BASE, CHAOS_PAGES * HP,
						   MADV_DONTNEED) == 0, "MADV_DONTNEED");
			atomic_fetch_add(&r->dontneeds, 1);
		}
		for (unsigned i = 0; i < CHAOS_PAGES; i++) {
			uint64_t v = i;

			pinmm_store(r->p, CHAOS_BASE + i * HP, &v, sizeof(v));	/* may SIGBUS: fine */
		}
	}
	return NULL;
}

static void test_hugetlb_race(void **state)
{
	struct htlb_race *r = calloc(1, sizeof(*r));
	struct worker w[3];
	void *(*fn[3])(void *) = { owner_thread, pinner_thread, mutator_thread };
	pthread_t tids[3];
	double secs = stress_seconds();
	char seedbuf[32], pool[32];
	long acquired, released;

	(void)state;
	assert_non_null(r);
	r->seed = stress_seed("hugetlb_race");
	snprintf(seedbuf, sizeof(seedbuf), "seed=%llu", (unsigned long long)r->seed);
	snprintf(pool, sizeof(pool), "hugepages.2M=%d", POOL);
	r->m = test_boot("ram=256M", "zone.movable=64M", pool, "debug=1", "quiet=1", seedbuf,
			 NULL);
	r->p = test_proc(r->m);
	assert_int_equal(pinmm_mmap(r->p, OWN_BASE, OWN_PAGES * HP, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED, -1, 0),
			 (long)OWN_BASE);
	for (unsigned i = 0; i < OWN_PAGES; i++) {
		r->shadow[i] = ++r->seq;
		stress_store64(r->p, OWN_BASE + i * HP, r->shadow[i]);
	}
	r->chaos_fd = pinmm_memfd_create(r->p, "chaos", MFD_HUGETLB);
	assert_true(r->chaos_fd >= 0);
	assert_int_equal(pinmm_ftruncate(r->p, r->chaos_fd, CHAOS_PAGES * HP), 0);
	assert_int_equal(pinmm_mmap(r->p, CHAOS_BASE, CHAOS_PAGES * HP, PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_FIXED, r->chaos_fd, 0), (long)CHAOS_BASE);
	stress_start_init(&r->st, 3);
	r->st.deadline = stress_now() + secs + STRESS_EXTRA_SECONDS;
	for (unsigned i = 0; i < 3; i++) {
		w[i].r = r;
		stress_rng_init(&w[i].rng, r->seed, i);
		assert_int_equal(pthread_create(&tids[i], NULL, fn[i], &w[i]), 0);
	}
	{
		const struct stress_event ev[] = {
			{ "hugetlb_cow", NULL, r->m },
			{ "longterm_migrate", NULL, r->m },
			{ "pinned_page_detached", NULL, r->m },
			{ "forks", &r->forks },
			{ "coherence checks", &r->coherence_checks },
			{ "chaos pins", &r->chaos_pins },
			{ "remaps", &r->remaps },
			{ "truncates", &r->truncates },
		};

		stress_run(&r->st, secs, tids, 3, ev, ARRAY_SIZE(ev));
	}
	acquired = pinmm_vmstat(r->m, "nr_foll_pin_acquired");
	released = pinmm_vmstat(r->m, "nr_foll_pin_released");
	printf("# hugetlb_race: %ld forks, %ld coherence checks, %ld chaos pins, %ld remaps, "
	       "%ld truncates, %ld dontneeds; vmstat: hugetlb_cow %ld, longterm_migrate %ld, "
	       "pinned_page_detached %ld, hugetlb_sigbus %ld\n", atomic_load(&r->forks),
	       atomic_load(&r->coherence_checks), atomic_load(&r->chaos_pins),
	       atomic_load(&r->remaps), atomic_load(&r->truncates), atomic_load(&r->dontneeds),
	       pinmm_vmstat(r->m, "hugetlb_cow"), pinmm_vmstat(r->m, "longterm_migrate"),
	       pinmm_vmstat(r->m, "pinned_page_detached"), pinmm_vmstat(r->m, "hugetlb_sigbus"));
	stress_check(acquired == released, "nr_foll_pin_acquired %ld != released %ld",
		     acquired, released);
	stress_check(pinmm_audit(r->m) == 0, "pinmm_audit() after the race");
	for (unsigned i = 0; i < OWN_PAGES; i++)
		stress_check(stress_load64(r->p, OWN_BASE + i * HP) == r->shadow[i],
			     "final huge page %u", i);
	stress_check(pinmm_close(r->p, r->chaos_fd) == 0, "close");
	stress_check(pinmm_munmap(r->p, OWN_BASE, OWN_PAGES * HP) == 0, "munmap");
	stress_check(pinmm_munmap(r->p, CHAOS_BASE, CHAOS_PAGES * HP) == 0, "munmap");
	stress_check(pinmm_vmstat(r->m, "free_hugepages_2048kB") == POOL, "pool not whole: %ld",
		     pinmm_vmstat(r->m, "free_hugepages_2048kB"));
	stress_check(pinmm_vmstat(r->m, "resv_hugepages_2048kB") == 0, "reservations left");
	pinmm_set_current(NULL);
	stress_check(pinmm_shutdown(r->m) == 0, "pinmm_shutdown()");
	printf("# hugetlb_race: violations %ld\n", atomic_load(&stress_violations));
	assert_int_equal(atomic_load(&stress_violations), 0);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hugetlb_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
