/* SPDX-License-Identifier: MIT */
/*
 * stress_fault_race.c - concurrent page faults on one process: every
 * thread owns a region (half small pages, half THP-eligible) and keeps a
 * shadow copy of what it stored there; threads store, load and verify,
 * MADV_DONTNEED and munmap + mmap(MAP_FIXED) parts of their own region
 * (which must then read as zeros), and fork: the child must see exactly
 * the forking thread's shadow (COW snapshot), the child's stores must not
 * reach the parent and the parent's later stores must not reach the child.
 * Meanwhile a "prober" thread reads pinmm_page_info() across everybody's
 * regions and loads through the MMU where it may (racing faults, COW
 * breaks and THP splits), and a fork thread forks the whole process and
 * lets the children write into their copies of every region.  The
 * machine traces (trace.file, 256K buffers that fill and drop) and the
 * prober flushes the trace now and then while the others record: under
 * TSan that checks the trace buffers' protocol (MEMORY-ORDERING.md (p)).
 *
 * Checked: every load matches the owner's shadow; fork snapshots are
 * exact; pinmm_page_info() of a present page has refcount > 0 and
 * mapcount > 0; at the end pinmm_audit() == 0, the pin counters balance and
 * pinmm_shutdown() == 0.
 *
 * Duration: PINMM_STRESS_SECONDS (default 5), longer (at most 60 s more)
 * until each race of stress_run()'s event list has happened; seed:
 * PINMM_SEED.
 */
#include <pinmm/linux.h>
#include "stress_common.h"

#define NR_OWNERS	3
#define REGION_SIZE	(8 * MiB)		/* 4 MiB small pages + 4 MiB THP */
#define REGION_PAGES	(REGION_SIZE / PAGE_SIZE)
#define REGION_BASE	0x300000000UL
#define REGION_STRIDE	0x040000000UL		/* 1 GiB apart */
#define SLOT(a)		((a) & ~(PAGE_SIZE - 1))

struct fault_race {
	struct pinmm *m;
	struct pinmm_proc *p;
	uint64_t seed;
	struct stress_start st;
	_Atomic long stores, loads, dontneeds, remaps, self_forks, forks, probes;
	_Atomic long snapshot_checks;
	_Atomic long trace_flushes;	/* pinmm_trace_flush() while the others record */
};

struct owner {
	struct fault_race *r;
	unsigned idx;
	struct stress_rng rng;
	uint64_t *shadow;	/* one 64-bit word per page, at offset (idx * 8) */
	uint64_t seq;
};

static unsigned long region(unsigned idx) { return REGION_BASE + idx * REGION_STRIDE; }

/* The word a thread owns in each page: so threads never share bytes. */
static unsigned long word_addr(unsigned idx, unsigned long pg)
{
	return region(idx) + pg * PAGE_SIZE + (pg % 64) * 64;
}

static bool load64(struct pinmm_proc *p, unsigned long a, uint64_t *v)
{
	return pinmm_load(p, a, v, sizeof(*v)) == sizeof(*v);
}

static bool store64(struct pinmm_proc *p, unsigned long a, uint64_t v)
{
	return pinmm_store(p, a, &v, sizeof(v)) == sizeof(v);
}

static void verify_range(struct owner *o, struct pinmm_proc *p, unsigned long first,
			 unsigned long n, const uint64_t *shadow, const char *what)
{
	struct fault_race *r = o->r;

	for (unsigned long pg = first; pg < first + n; pg++) {
		uint64_t v = ~0ULL;

		if (!stress_check(load64(p, word_addr(o->idx, pg), &v), "%s: load %#lx", what,
				  word_addr(o->idx, pg)))
			continue;
		stress_check(v == shadow[pg], "%s: owner %u page %lu reads %#llx, want %#llx",
			     what, o->idx, pg, (unsigned long long)v,
			     (unsigned long long)shadow[pg]);
		atomic_fetch_add_explicit(&r->loads, 1, memory_order_relaxed);
	}
}

/* Fork from the owner thread: the child's view of our region is our shadow. */
static void self_fork(struct owner *o)
{
	struct fault_race *r = o->r;
	struct pinmm_proc *child = NULL;
	uint64_t *snap;
	unsigned long first, n;
	int err = pinmm_fork(r->p, &child);

	if (!stress_check(err == 0 || err == -ENOMEM, "fork: %d", err) || err)
		return;
	atomic_fetch_add_explicit(&r->self_forks, 1, memory_order_relaxed);
	snap = malloc(REGION_PAGES * sizeof(*snap));
	assert_non_null(snap);
	memcpy(snap, o->shadow, REGION_PAGES * sizeof(*snap));
	n = 1 + stress_below(&o->rng, 64);
	first = stress_below(&o->rng, REGION_PAGES - n + 1);
	/* 1: the child sees the snapshot. */
	verify_range(o, child, first, n, snap, "child snapshot");
	/* 2: the child writes its copy; the parent must not see it. */
	for (unsigned long pg = first; pg < first + n; pg += 1 + stress_below(&o->rng, 4)) {
		uint64_t v = (0xC0ULL << 56) | (++o->seq << 12) | pg;

		if (stress_check(store64(child, word_addr(o->idx, pg), v), "child store"))
			snap[pg] = v;
	}
	verify_range(o, r->p, first, n, o->shadow, "parent after child stores");
	/* 3: the parent writes; the child must keep its own values. */
	for (unsigned long pg = first; pg < first + n; pg += 1 + stress_below(&o->rng, 3)) {
		uint64_t v = ((uint64_t)(0xA0 + o->idx) << 56) | (++o->seq << 12) | pg;

		if (stress_check(store64(r->p, word_addr(o->idx, pg), v), "parent store"))
			o->shadow[pg] = v;
	}
	verify_range(o, child, first, n, snap, "child after parent stores");
	atomic_fetch_add_explicit(&r->snapshot_checks, 1, memory_order_relaxed);
	stress_check(pinmm_exit(child) == 0, "child exit");
	free(snap);
}

static void *owner_thread(void *arg)
{
	struct owner *o = arg;
	struct fault_race *r = o->r;
	unsigned long base = region(o->idx);

	pinmm_set_current(r->p);
	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		unsigned long n = 1 + stress_below(&o->rng, 64);
		unsigned long first = stress_below(&o->rng, REGION_PAGES - n + 1);
		unsigned op = (unsigned)stress_below(&o->rng, 20);
		int e;

		if (op < 10) {
			for (unsigned long pg = first; pg < first + n; pg++) {
				uint64_t v = ((uint64_t)(0xA0 + o->idx) << 56) | (++o->seq << 12) | pg;

				if (stress_check(store64(r->p, word_addr(o->idx, pg), v),
						 "store %#lx", word_addr(o->idx, pg)))
					o->shadow[pg] = v;
				atomic_fetch_add_explicit(&r->stores, 1, memory_order_relaxed);
			}
		} else if (op < 15) {
			verify_range(o, r->p, first, n, o->shadow, "load");
		} else if (op < 17) {
			e = pinmm_madvise(r->p, base + first * PAGE_SIZE, n * PAGE_SIZE,
					  MADV_DONTNEED);
			if (stress_check(e == 0, "DONTNEED: %d", e))
				memset(&o->shadow[first], 0, n * sizeof(uint64_t));
			atomic_fetch_add_explicit(&r->dontneeds, 1, memory_order_relaxed);
		} else if (op < 19) {
			unsigned long a = base + first * PAGE_SIZE;
			long got;

			e = pinmm_munmap(r->p, a, n * PAGE_SIZE);
			stress_check(e == 0, "munmap: %d", e);
			got = pinmm_mmap(r->p, a, n * PAGE_SIZE, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			stress_check(got == (long)a, "mmap fixed: %ld", got);
			if (a >= base + REGION_SIZE / 2)
				pinmm_madvise(r->p, a, n * PAGE_SIZE, MADV_HUGEPAGE);
			memset(&o->shadow[first], 0, n * sizeof(uint64_t));
			atomic_fetch_add_explicit(&r->remaps, 1, memory_order_relaxed);
		} else {
			self_fork(o);
		}
	}
	verify_range(o, r->p, 0, REGION_PAGES, o->shadow, "final");
	pinmm_set_current(NULL);
	return NULL;
}

/* Reads everybody's pages: page_info and loads race with the owners. */
static void *prober_thread(void *arg)
{
	struct owner *o = arg;
	struct fault_race *r = o->r;

	pinmm_set_current(r->p);
	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		unsigned idx = (unsigned)stress_below(&o->rng, NR_OWNERS);
		unsigned long pg = stress_below(&o->rng, REGION_PAGES);
		unsigned long a = region(idx) + pg * PAGE_SIZE;
		struct pinmm_page_info info;
		int e;

		memset(&info, 0, sizeof(info));
		e = pinmm_page_info(r->p, a, &info);
		/* -EFAULT: the owner is between munmap and mmap right now. */
		if (stress_check(e == 0 || e == -EFAULT, "page_info: %d", e) && !e && info.present &&
		    !info.zero_page) {
			stress_check(info.refcount > 0, "page_info %#lx: refcount %d", a,
				     info.refcount);
			stress_check(info.mapcount > 0, "page_info %#lx: mapcount %d", a,
				     info.mapcount);
		}
		/* A load of a byte nobody owns (offset 4095 is never a word). */
		if (stress_below(&o->rng, 2)) {
			uint8_t v = 0xff;
			long n = pinmm_load(r->p, a + PAGE_SIZE - 1, &v, 1);

			stress_check(n == 1 || n == -EFAULT, "probe load: %ld", n);
			stress_check(n != 1 || v == 0, "probe load %#lx: %#x", a + PAGE_SIZE - 1, v);
		}
		/* The trace buffers read while their threads record (MEMORY-ORDERING.md (p)). */
		if (!stress_below(&o->rng, 512)) {
			e = pinmm_trace_flush(r->m);
			if (stress_check(e == 0, "pinmm_trace_flush: %d", e))
				atomic_fetch_add_explicit(&r->trace_flushes, 1,
							  memory_order_relaxed);
		}
		atomic_fetch_add_explicit(&r->probes, 1, memory_order_relaxed);
	}
	pinmm_set_current(NULL);
	return NULL;
}

/* Whole-process forks whose children write into their copies. */
static void *forker_thread(void *arg)
{
	struct owner *o = arg;
	struct fault_race *r = o->r;

	pinmm_set_current(r->p);
	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		struct pinmm_proc *child = NULL;
		int e = pinmm_fork(r->p, &child);

		if (!stress_check(e == 0 || e == -ENOMEM, "fork: %d", e) || e)
			continue;
		for (int k = 0; k < 16; k++) {
			unsigned idx = (unsigned)stress_below(&o->rng, NR_OWNERS);
			unsigned long pg = stress_below(&o->rng, REGION_PAGES);
			uint64_t v = (0xC1ULL << 56) | stress_below(&o->rng, 1UL << 40);

			pinmm_store(child, word_addr(idx, pg), &v, sizeof(v));
		}
		stress_check(pinmm_exit(child) == 0, "child exit");
		atomic_fetch_add_explicit(&r->forks, 1, memory_order_relaxed);
	}
	pinmm_set_current(NULL);
	return NULL;
}

static void test_fault_race(void **state)
{
	enum { NTHREADS = NR_OWNERS + 2 };
	struct fault_race *r = calloc(1, sizeof(*r));
	struct owner o[NTHREADS];
	pthread_t tids[NTHREADS];
	char seedbuf[32], tracebuf[64 + PINMM_PATH_MAX];
	double t0;
	long acquired, released;

	(void)state;
	assert_non_null(r);
	r->seed = stress_seed("fault_race");
	snprintf(seedbuf, sizeof(seedbuf), "seed=%llu", (unsigned long long)r->seed);
	/* Traced, into small buffers: recording, drops and flushes race too. */
	snprintf(tracebuf, sizeof(tracebuf), "trace.file=%s/stress_fault_race.trace.json",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	r->m = test_boot("ram=512M", "thp=madvise", "debug=1", "quiet=1", seedbuf, tracebuf,
			 "trace.buffer_size=256K", NULL);
	r->p = test_proc(r->m);
	for (unsigned i = 0; i < NR_OWNERS; i++) {
		assert_int_equal(pinmm_mmap(r->p, region(i), REGION_SIZE, PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
				 (long)region(i));
		assert_int_equal(pinmm_madvise(r->p, region(i) + REGION_SIZE / 2, REGION_SIZE / 2,
					       MADV_HUGEPAGE), 0);
	}
	stress_start_init(&r->st, NTHREADS);
	r->st.deadline = stress_now() + stress_seconds() + STRESS_EXTRA_SECONDS;
	for (unsigned i = 0; i < NTHREADS; i++) {
		o[i].r = r;
		o[i].idx = i;
		o[i].seq = 0;
		o[i].shadow = calloc(REGION_PAGES, sizeof(uint64_t));
		assert_non_null(o[i].shadow);
		stress_rng_init(&o[i].rng, r->seed, i);
		assert_int_equal(pthread_create(&tids[i], NULL,
						i < NR_OWNERS ? owner_thread :
						i == NR_OWNERS ? prober_thread : forker_thread,
						&o[i]), 0);
	}
	t0 = stress_now();
	{
		/* The races this test exists for. */
		const struct stress_event ev[] = {
			{ "MADV_DONTNEEDs", &r->dontneeds },
			{ "remaps", &r->remaps },
			{ "fork snapshot checks", &r->snapshot_checks },
			{ "whole-process forks", &r->forks },
			{ "probes", &r->probes },
			{ "trace flushes", &r->trace_flushes },
			{ "cow_fault", NULL, r->m },
			{ "thp_fault_alloc", NULL, r->m },
			{ "thp_split_pmd", NULL, r->m },
		};
		stress_run(&r->st, stress_seconds(), tids, NTHREADS, ev, ARRAY_SIZE(ev));
	}

	acquired = pinmm_vmstat(r->m, "nr_foll_pin_acquired");
	released = pinmm_vmstat(r->m, "nr_foll_pin_released");
	printf("# fault_race: %.1f s: %ld stores, %ld verified loads, %ld DONTNEEDs, %ld remaps, "
	       "%ld self-forks (%ld snapshot checks), %ld forks, %ld probes; pgfault %ld, "
	       "cow_fault %ld, cow_reuse %ld, thp_fault_alloc %ld, thp_split_pmd %ld\n",
	       stress_now() - t0, r->stores, r->loads, r->dontneeds, r->remaps, r->self_forks,
	       r->snapshot_checks, r->forks, r->probes, pinmm_vmstat(r->m, "pgfault"),
	       pinmm_vmstat(r->m, "cow_fault"), pinmm_vmstat(r->m, "cow_reuse"),
	       pinmm_vmstat(r->m, "thp_fault_alloc"), pinmm_vmstat(r->m, "thp_split_pmd"));
	stress_check(acquired == released, "pins %ld != %ld", acquired, released);
	stress_check(pinmm_audit(r->m) == 0, "pinmm_audit()");
	printf("# fault_race: violations %ld\n", atomic_load(&stress_violations));
	pinmm_set_current(NULL);
	stress_check(pinmm_shutdown(r->m) == 0, "pinmm_shutdown()");
	for (unsigned i = 0; i < NTHREADS; i++)
		free(o[i].shadow);
	free(r);
	assert_int_equal(atomic_load(&stress_violations), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fault_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
