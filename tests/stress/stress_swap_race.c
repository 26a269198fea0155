/* SPDX-License-Identifier: MIT */
/*
 * stress_swap_race.c - swap-out against swap-in, fork and pins.
 *
 * Owner threads each own a region of one process and keep a shadow of what
 * they stored in it; they store, load and verify (swap-in faults), fork
 * (the child must see the region as it was, through duplicated swap
 * entries and the swap cache, and its stores must not reach the parent),
 * and pin pages with pin_user_pages_fast() (GUP-fast bails out on swap
 * entries, the slow path faults them in), then check that the pin and the
 * process see the same page while a swapper thread pages the regions out
 * with MADV_PAGEOUT and runs pinmm_reclaim() across every process: a pinned
 * page must never be swapped out (pswpout_pinned_skip), so a store by the
 * process must always be visible through the pin.
 *
 * Checked: every load matches the shadow; fork snapshots; pin coherence;
 * at the end pinmm_audit() == 0 (swap counts included), the pin counters
 * balance and pinmm_shutdown() == 0 (no leaked frame or swap slot).
 *
 * Duration: PINMM_STRESS_SECONDS (default 5), longer (at most 60 s more)
 * until each race of stress_run()'s event list has happened; seed:
 * PINMM_SEED.
 */
#include <pinmm/linux.h>
#include "stress_common.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define NR_OWNERS	2
#define REGION_PAGES	64
#define REGION_SIZE	(REGION_PAGES * PAGE_SIZE)
#define REGION_BASE	0x400000000UL
#define REGION_STRIDE	0x001000000UL

struct swap_race {
	struct pinmm *m;
	struct pinmm_proc *p;
	uint64_t seed;
	struct stress_start st;
	_Atomic long loads, forks, fork_checks, pins, coherence_checks, pageouts;
};

struct owner {
	struct swap_race *r;
	unsigned idx;
	struct stress_rng rng;
	uint64_t shadow[REGION_PAGES];
	uint64_t seq;
};

static unsigned long region(unsigned idx)
{
	return REGION_BASE + idx * REGION_STRIDE;
}

/* The child sees the snapshot; its stores stay its own. */
static void owner_fork(struct owner *o)
{
	struct swap_race *r = o->r;
	struct pinmm_proc *c;
	unsigned long base = region(o->idx);

	if (pinmm_fork(r->p, &c))
		return;
	atomic_fetch_add(&r->forks, 1);
	for (unsigned i = 0; i < REGION_PAGES; i += 7) {
		uint64_t v = stress_load64(c, base + i * PAGE_SIZE);

		stress_check(v == o->shadow[i], "child page %u: %#llx, shadow %#llx", i,
			     (unsigned long long)v, (unsigned long long)o->shadow[i]);
		stress_store64(c, base + i * PAGE_SIZE, ~o->shadow[i]);
	}
	atomic_fetch_add(&r->fork_checks, 1);
	stress_check(pinmm_exit(c) == 0, "child exit");
	for (unsigned i = 0; i < REGION_PAGES; i += 7)
		stress_check(stress_load64(r->p, base + i * PAGE_SIZE) == o->shadow[i],
			     "child's store reached the parent at page %u", i);
}

/* Pin a page (maybe swapped out), then the pin and the process must agree. */
static void owner_pin(struct owner *o)
{
	struct swap_race *r = o->r;
	unsigned i = (unsigned)stress_below(&o->rng, REGION_PAGES);
	unsigned long a = region(o->idx) + i * PAGE_SIZE;
	bool write = stress_below(&o->rng, 2);
	struct page *page;
	uint64_t *kva;

	if (pin_user_pages_fast(a, 1, FOLL_LONGTERM | (write ? FOLL_WRITE : 0), &page) != 1)
		return;
	atomic_fetch_add(&r->pins, 1);
	kva = kmap_local_page(page);
	stress_check(__atomic_load_n(kva, __ATOMIC_RELAXED) == o->shadow[i],
		     "pinned page %u reads %#llx, shadow %#llx", i,
		     (unsigned long long)*kva, (unsigned long long)o->shadow[i]);
	for (int k = 0; k < 4; k++) {
		struct timespec ts = { .tv_nsec = 200 * 1000 };

		o->shadow[i] = ++o->seq | ((uint64_t)o->idx << 56);
		stress_store64(r->p, a, o->shadow[i]);		/* may swap in or COW: must not */
		stress_check(__atomic_load_n(kva, __ATOMIC_RELAXED) == o->shadow[i],
			     "pin of page %u lost the process's store", i);
		atomic_fetch_add(&r->coherence_checks, 1);
		nanosleep(&ts, NULL);			/* let the swapper see the pin */
	}
	unpin_user_page(page);
}

static void *owner_thread(void *arg)
{
	struct owner *o = arg;
	struct swap_race *r = o->r;
	unsigned long base = region(o->idx);

	pinmm_set_current(r->p);
	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		unsigned i = (unsigned)stress_below(&o->rng, REGION_PAGES);
		unsigned op = (unsigned)stress_below(&o->rng, 100);

		if (op < 40) {
			o->shadow[i] = ++o->seq | ((uint64_t)o->idx << 56);
			stress_store64(r->p, base + i * PAGE_SIZE, o->shadow[i]);
		} else if (op < 85) {
			uint64_t v = stress_load64(r->p, base + i * PAGE_SIZE);

			stress_check(v == o->shadow[i], "page %u of owner %u: %#llx, shadow %#llx",
				     i, o->idx, (unsigned long long)v,
				     (unsigned long long)o->shadow[i]);
			atomic_fetch_add(&r->loads, 1);
		} else if (op < 97) {
			owner_pin(o);
		} else {
			owner_fork(o);
		}
	}
	pinmm_set_current(NULL);
	return NULL;
}

static void *swapper_thread(void *arg)
{
	struct owner *o = arg;
	struct swap_race *r = o->r;

	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		unsigned idx = (unsigned)stress_below(&o->rng, NR_OWNERS);

		if (stress_below(&o->rng, 4)) {
			stress_check(pinmm_madvise(r->p, region(idx), REGION_SIZE, MADV_PAGEOUT) == 0,
				     "MADV_PAGEOUT");
			atomic_fetch_add(&r->pageouts, 1);
		} else {
			stress_check(pinmm_reclaim(r->m, 32) >= 0, "pinmm_reclaim");
		}
	}
	return NULL;
}

static void test_swap_race(void **state)
{
	struct swap_race *r = calloc(1, sizeof(*r));
	struct owner *o = calloc(NR_OWNERS + 1, sizeof(*o));
	pthread_t tids[NR_OWNERS + 1];
	double secs = stress_seconds();
	char seedbuf[32];
	long acquired, released;

	(void)state;
	assert_non_null(r);
	assert_non_null(o);
	r->seed = stress_seed("swap_race");
	snprintf(seedbuf, sizeof(seedbuf), "seed=%llu", (unsigned long long)r->seed);
	r->m = test_boot("ram=256M", "swap=32M", "thp=never", "debug=1", "quiet=1", seedbuf,
			 NULL);
	r->p = test_proc(r->m);
	for (unsigned i = 0; i < NR_OWNERS; i++) {
		long a = pinmm_mmap(r->p, region(i), REGION_SIZE, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

		assert_int_equal(a, (long)region(i));
		for (unsigned k = 0; k < REGION_PAGES; k++) {
			o[i].shadow[k] = k + 1;
			stress_store64(r->p, region(i) + k * PAGE_SIZE, k + 1);
		}
	}
	stress_start_init(&r->st, NR_OWNERS + 1);
	r->st.deadline = stress_now() + secs + STRESS_EXTRA_SECONDS;
	for (unsigned i = 0; i <= NR_OWNERS; i++) {
		o[i].r = r;
		o[i].idx = i;
		stress_rng_init(&o[i].rng, r->seed, i);
		assert_int_equal(pthread_create(&tids[i], NULL,
						i < NR_OWNERS ? owner_thread : swapper_thread,
						&o[i]), 0);
	}
	{
		const struct stress_event ev[] = {
			{ "pswpout", NULL, r->m },
			{ "pswpin", NULL, r->m },
			{ "pswpout_pinned_skip", NULL, r->m },
			{ "gup_fast_fallback", NULL, r->m },
			{ "fork checks", &r->fork_checks },
			{ "coherence checks", &r->coherence_checks },
		};

		stress_run(&r->st, secs, tids, NR_OWNERS + 1, ev, ARRAY_SIZE(ev));
	}
	acquired = pinmm_vmstat(r->m, "nr_foll_pin_acquired");
	released = pinmm_vmstat(r->m, "nr_foll_pin_released");
	printf("# swap_race: %ld loads, %ld forks, %ld pins, %ld coherence checks, %ld pageouts;"
	       " vmstat: pswpout %ld, pswpin %ld, pswpout_pinned_skip %ld, gup_fast_fallback %ld,"
	       " nr_swap_used %ld\n", atomic_load(&r->loads), atomic_load(&r->forks),
	       atomic_load(&r->pins), atomic_load(&r->coherence_checks),
	       atomic_load(&r->pageouts), pinmm_vmstat(r->m, "pswpout"),
	       pinmm_vmstat(r->m, "pswpin"), pinmm_vmstat(r->m, "pswpout_pinned_skip"),
	       pinmm_vmstat(r->m, "gup_fast_fallback"), pinmm_vmstat(r->m, "nr_swap_used"));
	stress_check(acquired == released, "nr_foll_pin_acquired %ld != released %ld",
		     acquired, released);
	stress_check(pinmm_audit(r->m) == 0, "pinmm_audit() after the race");
	for (unsigned i = 0; i < NR_OWNERS; i++)
		for (unsigned k = 0; k < REGION_PAGES; k++)
			stress_check(stress_load64(r->p, region(i) + k * PAGE_SIZE) == o[i].shadow[k],
				     "final page %u of owner %u", k, i);
	pinmm_set_current(NULL);
	stress_check(pinmm_shutdown(r->m) == 0, "pinmm_shutdown()");
	printf("# swap_race: violations %ld\n", atomic_load(&stress_violations));
	assert_int_equal(atomic_load(&stress_violations), 0);
	free(o);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swap_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
