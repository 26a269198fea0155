/* SPDX-License-Identifier: MIT */
/*
 * stress_alloc_race.c - the buddy allocator and RCU freeing of page tables
 * under concurrency.
 *
 * Mapper threads each own a few 1 GiB-aligned slots: they map a region in a
 * slot (small pages or THP), fault it in, maybe fork, and unmap it again.
 * Because nothing else lives in that 1 GiB, munmap's free_pgtables() frees
 * the PTE tables and the PMD table of the slot through call_rcu(), while
 * walker threads run GUP-fast (get_user_pages_fast and pin_user_pages_fast)
 * over the very same slots: the lockless walk must only ever see live
 * tables or fail, never a freed frame.  A process thread creates, forks
 * and exits whole processes (exit frees every table of an mm at once), and
 * allocations of order 0 (faults, tables) and order 9 (THPs) split and
 * merge buddies concurrently.
 *
 * Checked: every page GUP returns is a valid, in-use, non-table frame with
 * refcount > 0 (pinned while pinned); every page a mapper reads holds what
 * it stored; after the threads stop and an rcu_barrier(), the free page
 * count and the page-table page count are back to the values before the
 * run (free-page balance); pins balance, pinmm_audit() == 0 and
 * pinmm_shutdown() == 0.
 *
 * Duration: PINMM_STRESS_SECONDS (default 5), longer (at most 60 s more)
 * until each race of stress_run()'s event list has happened; seed:
 * PINMM_SEED.
 */
#include "mm.h"
#include "rcu.h"
#include "stress_common.h"

#define NR_MAPPERS	3
#define NR_WALKERS	2
#define SLOTS_PER	2
#define NR_SLOTS	(NR_MAPPERS * SLOTS_PER)
#define SLOT_BASE	(16UL * GiB)
#define SLOT_ADDR(s)	(SLOT_BASE + (unsigned long)(s) * GiB)
#define MAX_PAGES	256

struct alloc_race {
	struct pinmm *m;
	struct pinmm_proc *p;
	uint64_t seed;
	struct stress_start st;
	_Atomic unsigned long slot_len[NR_SLOTS];	/* 0: not mapped (hint only) */
	_Atomic long maps, unmaps, faults, walks, pages_seen, procs, forks;
};

struct worker {
	struct alloc_race *r;
	unsigned idx;
	struct stress_rng rng;
};

static bool page_ok(struct pinmm *m, struct page *page, bool pin)
{
	struct folio *folio;

	if (!stress_check(page >= m->memmap && page < m->memmap + m->nr_pages,
			  "page %p outside the memmap", (void *)page))
		return false;
	folio = page_folio(page);
	return stress_check(!PageBuddy(page) && !PageBuddy(&folio->page),
			    "pfn %#lx is free", page_to_pfn_m(m, page)) &&
	       stress_check(!PageTable(page), "pfn %#lx is a page table",
			    page_to_pfn_m(m, page)) &&
	       stress_check(folio_ref_count(folio) > 0, "pfn %#lx refcount %d",
			    page_to_pfn_m(m, page), folio_ref_count(folio)) &&
	       stress_check(!pin || is_zero_folio(folio) || folio_maybe_dma_pinned(folio),
			    "pfn %#lx not pinned", page_to_pfn_m(m, page));
}

static void *mapper_thread(void *arg)
{
	struct worker *w = arg;
	struct alloc_race *r = w->r;

	pinmm_set_current(r->p);
	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		unsigned slot = w->idx * SLOTS_PER + (unsigned)stress_below(&w->rng, SLOTS_PER);
		bool thp = stress_below(&w->rng, 2);
		unsigned long len = (thp ? (1 + stress_below(&w->rng, 4)) * PMD_SIZE :
				     (1 + stress_below(&w->rng, 512)) * PAGE_SIZE);
		/* Anywhere in the slot (2 MiB aligned for THP): several PMD entries. */
		unsigned long off = ALIGN_DOWN(stress_below(&w->rng, GiB - len), thp ? PMD_SIZE : PAGE_SIZE);
		unsigned long a = SLOT_ADDR(slot) + off;
		long got = pinmm_mmap(r->p, a, len, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

		if (!stress_check(got == (long)a, "mmap %#lx+%#lx: %ld", a, len, got))
			continue;
		if (thp)
			pinmm_madvise(r->p, a, len, MADV_HUGEPAGE);
		atomic_fetch_add(&r->maps, 1);
		atomic_store(&r->slot_len[slot], (off + len) | 1);
		for (unsigned long x = a; x < a + len; x += thp ? PAGE_SIZE * 37 : PAGE_SIZE) {
			uint64_t v = x ^ r->seed, back = 0;

			if (stress_check(pinmm_store(r->p, x, &v, sizeof(v)) == sizeof(v), "store") &&
			    stress_check(pinmm_load(r->p, x, &back, sizeof(back)) == sizeof(back),
					 "load"))
				stress_check(back == v, "%#lx reads %#llx want %#llx", x,
					     (unsigned long long)back, (unsigned long long)v);
			atomic_fetch_add_explicit(&r->faults, 1, memory_order_relaxed);
		}
		if (stress_below(&w->rng, 8) == 0)
			pinmm_madvise(r->p, a, len, MADV_DONTNEED);
		atomic_store(&r->slot_len[slot], 0);
		/* The whole slot: frees the PTE tables and the slot's PMD table. */
		stress_check(pinmm_munmap(r->p, SLOT_ADDR(slot), GiB) == 0, "munmap slot");
		atomic_fetch_add(&r->unmaps, 1);
	}
	pinmm_set_current(NULL);
	return NULL;
}

static void *walker_thread(void *arg)
{
	struct worker *w = arg;
	struct alloc_race *r = w->r;
	struct page **pages = calloc(MAX_PAGES, sizeof(*pages));

	assert_non_null(pages);
	pinmm_set_current(r->p);
	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		unsigned slot = (unsigned)stress_below(&w->rng, NR_SLOTS);
		unsigned long hint = atomic_load(&r->slot_len[slot]) & ~1UL;
		unsigned long span = hint ? hint : GiB;
		int n = 1 + (int)stress_below(&w->rng, MAX_PAGES);
		unsigned long a = SLOT_ADDR(slot) +
				  stress_below(&w->rng, span / PAGE_SIZE) * PAGE_SIZE;
		bool pin = stress_below(&w->rng, 2);
		unsigned flags = (stress_below(&w->rng, 2) ? FOLL_WRITE : 0);
		int got;

		if (a + (unsigned long)n * PAGE_SIZE > SLOT_ADDR(slot) + GiB)
			n = 1;
		/* FAST_ONLY half the time: the lockless walk alone, no fallback. */
		if (!pin && stress_below(&w->rng, 2))
			got = pinmm_get_user_pages_fast_only(a, n, flags, pages);
		else if (pin)
			got = pinmm_pin_user_pages_fast(a, n, flags, pages);
		else
			got = pinmm_get_user_pages_fast(a, n, flags, pages);
		atomic_fetch_add_explicit(&r->walks, 1, memory_order_relaxed);
		if (got <= 0)
			continue;
		stress_check(got <= n, "GUP %d > %d", got, n);
		for (int k = 0; k < got; k++)
			page_ok(r->m, pages[k], pin);
		atomic_fetch_add_explicit(&r->pages_seen, got, memory_order_relaxed);
		if (pin) {
			pinmm_unpin_user_pages(pages, (unsigned long)got);
		} else {
			for (int k = 0; k < got; k++)
				pinmm_put_page(pages[k]);
		}
	}
	free(pages);
	pinmm_set_current(NULL);
	return NULL;
}

/* Whole address spaces come and go: exit frees every table at once. */
static void *proc_thread(void *arg)
{
	struct worker *w = arg;
	struct alloc_race *r = w->r;

	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		struct pinmm_proc *q = NULL, *c = NULL;
		unsigned long len = (1 + stress_below(&w->rng, 8)) * PMD_SIZE;
		long a;

		if (!stress_check(pinmm_proc_create(r->m, &q) == 0, "proc_create"))
			continue;
		a = pinmm_mmap(q, 0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		if (stress_check(a > 0, "mmap: %ld", a)) {
			if (stress_below(&w->rng, 2))
				pinmm_madvise(q, (unsigned long)a, len, MADV_HUGEPAGE);
			for (unsigned long x = 0; x < len; x += PAGE_SIZE * 17) {
				uint8_t v = 1;

				pinmm_store(q, (unsigned long)a + x, &v, 1);
			}
			if (stress_below(&w->rng, 2) && pinmm_fork(q, &c) == 0) {
				uint8_t v = 2;

				pinmm_store(c, (unsigned long)a, &v, 1);
				atomic_fetch_add(&r->forks, 1);
			}
		}
		if (c)
			stress_check(pinmm_exit(c) == 0, "exit child");
		stress_check(pinmm_exit(q) == 0, "exit");
		atomic_fetch_add(&r->procs, 1);
	}
	return NULL;
}

static void test_alloc_race(void **state)
{
	enum { NTHREADS = NR_MAPPERS + NR_WALKERS + 1 };
	struct alloc_race *r = calloc(1, sizeof(*r));
	struct worker w[NTHREADS];
	pthread_t tids[NTHREADS];
	long free0, pt0, free1, pt1, acquired, released, hzp;
	char seedbuf[32];
	double t0;

	(void)state;
	assert_non_null(r);
	r->seed = stress_seed("alloc_race");
	snprintf(seedbuf, sizeof(seedbuf), "seed=%llu", (unsigned long long)r->seed);
	r->m = test_boot("ram=512M", "thp=madvise", "debug=1", "quiet=1", seedbuf, NULL);
	r->p = test_proc(r->m);
	/* Warm up: the PUD table above the slots exists from now on. */
	assert_int_equal(pinmm_mmap(r->p, SLOT_ADDR(0), PAGE_SIZE, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
			 (long)SLOT_ADDR(0));
	test_store8(r->p, SLOT_ADDR(0), 1);
	assert_int_equal(pinmm_munmap(r->p, SLOT_ADDR(0), GiB), 0);
	rcu_barrier();
	free0 = pinmm_vmstat(r->m, "nr_free_pages");
	pt0 = pinmm_vmstat(r->m, "nr_page_table_pages");

	stress_start_init(&r->st, NTHREADS);
	r->st.deadline = stress_now() + stress_seconds() + STRESS_EXTRA_SECONDS;
	for (unsigned i = 0; i < NTHREADS; i++) {
		w[i].r = r;
		w[i].idx = i < NR_MAPPERS ? i : i - NR_MAPPERS;
		stress_rng_init(&w[i].rng, r->seed, i);
		assert_int_equal(pthread_create(&tids[i], NULL,
						i < NR_MAPPERS ? mapper_thread :
						i < NR_MAPPERS + NR_WALKERS ? walker_thread :
						proc_thread, &w[i]), 0);
	}
	t0 = stress_now();
	{
		/* The races this test exists for. */
		const struct stress_event ev[] = {
			{ "slot unmaps (page tables freed by RCU)", &r->unmaps },
			{ "GUP-fast walks", &r->walks },
			{ "forks", &r->forks },
			{ "process exits", &r->procs },
			{ "thp_fault_alloc", NULL, r->m },
		};
		stress_run(&r->st, stress_seconds(), tids, NTHREADS, ev, ARRAY_SIZE(ev));
	}
	rcu_barrier();		/* every table freed by call_rcu is back */
	free1 = pinmm_vmstat(r->m, "nr_free_pages");
	pt1 = pinmm_vmstat(r->m, "nr_page_table_pages");
	acquired = pinmm_vmstat(r->m, "nr_foll_pin_acquired");
	released = pinmm_vmstat(r->m, "nr_foll_pin_released");
	/* The huge zero folio, once allocated (a read fault), stays until shutdown. */
	hzp = pinmm_vmstat(r->m, "thp_zero_page_alloc") * (long)HPAGE_PMD_NR;
	printf("# alloc_race: %.1f s: %ld maps, %ld slot unmaps, %ld faults, %ld GUP walks "
	       "(%ld pages), %ld processes, %ld forks; pgalloc %ld, pgfree %ld, "
	       "thp_fault_alloc %ld; free pages %ld -> %ld (huge zero folio %ld), "
	       "page tables %ld -> %ld\n",
	       stress_now() - t0, r->maps, r->unmaps, r->faults, r->walks, r->pages_seen,
	       r->procs, r->forks, pinmm_vmstat(r->m, "pgalloc"), pinmm_vmstat(r->m, "pgfree"),
	       pinmm_vmstat(r->m, "thp_fault_alloc"), free0, free1, hzp, pt0, pt1);
	stress_check(free1 + hzp == free0, "free pages %ld (+%ld huge zero), before the run %ld",
		     free1, hzp, free0);
	stress_check(pt1 == pt0, "page-table pages %ld, before the run %ld", pt1, pt0);
	stress_check(acquired == released, "pins %ld != %ld", acquired, released);
	stress_check(pinmm_audit(r->m) == 0, "pinmm_audit()");
	printf("# alloc_race: violations %ld\n", atomic_load(&stress_violations));
	pinmm_set_current(NULL);
	stress_check(pinmm_shutdown(r->m) == 0, "pinmm_shutdown()");
	free(r);
	assert_int_equal(atomic_load(&stress_violations), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
