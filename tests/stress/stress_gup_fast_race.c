/* SPDX-License-Identifier: MIT */
/*
 * stress_gup_fast_race.c - GUP-fast (pin_user_pages_fast / get_user_pages_fast)
 * racing against everything that changes page tables under it: munmap +
 * mmap(MAP_FIXED), mprotect toggling, fork + exit of children,
 * MADV_DONTNEED, THP creation and PMD splits (partial mprotect, munmap and
 * DONTNEED inside a THP), folio splits and migration (when the library has
 * pinmm_split_huge_page / pinmm_migrate_page), and FOLL_LONGTERM's own
 * migration out of ZONE_MOVABLE.  Threads play CPUs of one process.
 *
 * Address space of the process (every region a separate VMA):
 *
 *   own4k[i], ownthp[i]  owned by pinner thread i: only that thread stores
 *                        there, no mutator unmaps or mprotects them (fork
 *                        still copies them, and may split their THPs);
 *   chaos4k, chaosthp    shared: every mutation happens here.
 *
 * Invariants (each failure is a counted violation; the test fails on any):
 *  V1 every page returned is a valid frame (inside the memmap), not free
 *     (PG_buddy), not a page-table page, and its folio's refcount is > 0;
 *  V2 a FOLL_PIN page is folio_maybe_dma_pinned() while we hold the pin
 *     (except the shared zero page, which is never pinned);
 *  V3 owned regions, pinned with FOLL_PIN (R/O or FOLL_WRITE, short- or
 *     long-term): the pinned page holds the stamp the thread stored through
 *     the MMU just before the pin (the pin is of the page mapped there), a
 *     store through the MMU after the pin is visible through
 *     kmap_local_page() of the pinned page, and (not under TSan) a "DMA"
 *     write through the pin is visible to a load through the MMU;
 *  V4 a pin held across later iterations, forks and THP splits still sees
 *     exactly what the process sees (coherence while pinned);
 *  V5 at the end: nr_foll_pin_acquired == nr_foll_pin_released,
 *     pinmm_audit() == 0 and pinmm_shutdown() == 0.
 *
 * Test 2 (fork_vs_pin) is the write_protect_seq check on its own: pinners
 * pin their owned pages with FOLL_WRITE while a thread forks in a loop and
 * the children write into their copies; a parent's store after the pin
 * must stay visible through the pin, and no child store may reach it.
 *
 * Duration: test 1 (bias pin tracking) runs PINMM_STRESS_SECONDS (default
 * 5); test 2 (fork_vs_pin) and test 3 (test 1 again with exact pin
 * tracking) a third of that each; each runs on (at most 60 s more) until
 * every race of its stress_run() event list has happened.  Seed:
 * PINMM_SEED.  The 60-second run (test 1 alone races for the full 60 s):
 *
 *     PINMM_STRESS_SECONDS=60 build/tests/stress_gup_fast_race
 */
#include "mm.h"
#include "stress_common.h"

#define NR_PINNERS	2
#define NR_MUTATORS	2
#define OWN4K_PAGES	64UL
#define OWNTHP_SIZE	(4 * MiB)
#define CHAOS4K_SIZE	(4 * MiB)
#define CHAOSTHP_SIZE	(16 * MiB)
#define OWN_BASE	0x100000000UL		/* + i * OWN_STRIDE */
#define OWN_STRIDE	0x010000000UL
#define CHAOS4K_BASE	0x200000000UL
#define CHAOSTHP_BASE	0x240000000UL
#define MAX_BATCH	600			/* pages in one GUP call */
#define HOLD_MAX	8			/* batches a pinner keeps */

enum batch_kind { B_CHAOS, B_OWNED };

struct batch {
	enum batch_kind kind;
	unsigned int flags;		/* FOLL_* of the call */
	bool pin;			/* pin_user_pages_fast, else GUP */
	unsigned long addr;
	int nr;
	struct page *pages[MAX_BATCH];
};

struct race_cfg {
	const char *name;
	unsigned int nr_pinners, nr_mutators;
	bool chaos;			/* pinners also pin chaos regions, mutators mutate */
	bool fork_only;			/* mutators only fork (test 2) */
	double share;			/* of PINMM_STRESS_SECONDS */
	unsigned int thread_seed_base;
};

struct race {
	struct pinmm *m;
	struct pinmm_proc *p;
	const struct race_cfg *cfg;
	uint64_t seed;
	struct stress_start st;
	/* statistics */
	_Atomic long iterations, pin_calls, get_calls, pages_pinned, pages_got;
	_Atomic long coherence_checks, held_checks, short_owned, errors_chaos;
	_Atomic long remaps, mprotects, dontneeds, populates, forks, splits, migrates;
	_Atomic long split_ok, migrate_ok;
};

struct thread_arg {
	struct race *r;
	unsigned int idx;
	struct stress_rng rng;
};

static unsigned long own4k(unsigned i) { return OWN_BASE + i * OWN_STRIDE; }
static unsigned long ownthp(unsigned i) { return OWN_BASE + i * OWN_STRIDE + 0x4000000UL; }

/* V1/V2: is @page something GUP may hand out? */
static bool check_page(struct pinmm *m, struct page *page, bool pin, const char *what)
{
	struct folio *folio;
	unsigned long pfn;

	if (!stress_check(page != NULL, "%s: NULL page", what))
		return false;
	if (!stress_check(page >= m->memmap && page < m->memmap + m->nr_pages,
			  "%s: page %p outside the memmap", what, (void *)page))
		return false;
	pfn = page_to_pfn_m(m, page);
	folio = page_folio(page);
	if (!stress_check(!PageBuddy(&folio->page) && !PageBuddy(page),
			  "%s: pfn %#lx is free (buddy)", what, pfn))
		return false;
	if (!stress_check(!PageTable(page) && !PageTable(&folio->page),
			  "%s: pfn %#lx is a page-table page", what, pfn))
		return false;
	if (!stress_check(folio_ref_count(folio) > 0, "%s: pfn %#lx refcount %d", what,
			  pfn, folio_ref_count(folio)))
		return false;
	if (pin && !is_zero_folio(folio) &&
	    !stress_check(folio_maybe_dma_pinned(folio),
			  "%s: pfn %#lx pinned but not maybe_dma_pinned (ref %d)", what, pfn,
			  folio_ref_count(folio)))
		return false;
	return true;
}

static uint64_t page_word(struct page *page)
{
	return __atomic_load_n((uint64_t *)pinmm_kmap_local_page(page), __ATOMIC_RELAXED);
}

static uint64_t mmu_load64(struct pinmm_proc *p, unsigned long addr, bool *ok)
{
	uint64_t v = 0;

	*ok = pinmm_load(p, addr, &v, sizeof(v)) == sizeof(v);
	return v;
}

static bool mmu_store64(struct pinmm_proc *p, unsigned long addr, uint64_t v)
{
	return pinmm_store(p, addr, &v, sizeof(v)) == sizeof(v);
}

static void release_batch(struct race *r, struct batch *b, bool recheck)
{
	if (b->nr <= 0)
		return;
	if (recheck) {
		for (int k = 0; k < b->nr; k++)
			check_page(r->m, b->pages[k], b->pin, "held");
	}
	if (recheck && b->kind == B_OWNED) {
		/* V4: while pinned, the pinned page is what the process sees. */
		for (int k = 0; k < b->nr; k++) {
			bool ok;
			uint64_t seen = mmu_load64(r->p, b->addr + (unsigned long)k * PAGE_SIZE, &ok);

			if (stress_check(ok, "held owned load failed at %#lx",
					 b->addr + (unsigned long)k * PAGE_SIZE))
				stress_check(page_word(b->pages[k]) == seen,
					     "held pin incoherent at %#lx: pin %#llx mmu %#llx",
					     b->addr + (unsigned long)k * PAGE_SIZE,
					     (unsigned long long)page_word(b->pages[k]),
					     (unsigned long long)seen);
			atomic_fetch_add_explicit(&r->held_checks, 1, memory_order_relaxed);
		}
	}
	if (b->pin) {
		pinmm_unpin_user_pages(b->pages, (unsigned long)b->nr);
	} else {
		for (int k = 0; k < b->nr; k++)
			pinmm_put_page(b->pages[k]);
	}
	b->nr = 0;
}

static unsigned int random_pin_flags(struct stress_rng *rng, bool *pin)
{
	switch (stress_below(rng, 6)) {
	case 0: *pin = true; return FOLL_WRITE;
	case 1: *pin = true; return 0;
	case 2: *pin = true; return FOLL_WRITE | FOLL_LONGTERM;
	case 3: *pin = true; return FOLL_LONGTERM;
	case 4: *pin = false; return FOLL_WRITE;
	default: *pin = false; return 0;
	}
}

static int do_gup(struct batch *b)
{
	if (b->pin)
		return pinmm_pin_user_pages_fast(b->addr, b->nr, b->flags, b->pages);
	return pinmm_get_user_pages_fast(b->addr, b->nr, b->flags, b->pages);
}

/* Pin a random range of a chaos region: only V1/V2 can be checked. */
static void chaos_pin(struct thread_arg *t, struct batch *b)
{
	struct race *r = t->r;
	bool thp = stress_below(&t->rng, 2);
	unsigned long size = thp ? CHAOSTHP_SIZE : CHAOS4K_SIZE;
	unsigned long base = thp ? CHAOSTHP_BASE : CHAOS4K_BASE;
	unsigned long maxn = thp ? MAX_BATCH : 64;
	unsigned long n = 1 + stress_below(&t->rng, maxn);
	unsigned long first = stress_below(&t->rng, size / PAGE_SIZE - n + 1);
	int ret;

	b->kind = B_CHAOS;
	b->flags = random_pin_flags(&t->rng, &b->pin);
	b->addr = base + first * PAGE_SIZE;
	b->nr = (int)n;
	ret = do_gup(b);
	atomic_fetch_add_explicit(b->pin ? &r->pin_calls : &r->get_calls, 1, memory_order_relaxed);
	if (ret <= 0) {
		/* -EFAULT (hole, PROT_READ with FOLL_WRITE), -ENOMEM: legitimate. */
		stress_check(ret == 0 || ret == -EFAULT || ret == -ENOMEM || ret == -EAGAIN,
			     "chaos GUP at %#lx n %lu flags %#x: %d", b->addr, n, b->flags, ret);
		atomic_fetch_add_explicit(&r->errors_chaos, 1, memory_order_relaxed);
		b->nr = 0;
		return;
	}
	stress_check(ret <= (int)n, "GUP returned %d > %lu", ret, n);
	b->nr = ret;
	atomic_fetch_add_explicit(b->pin ? &r->pages_pinned : &r->pages_got, ret,
				  memory_order_relaxed);
	for (int k = 0; k < ret; k++)
		check_page(r->m, b->pages[k], b->pin, "chaos");
}

/*
 * Stamp, pin, check (V3).  Stamps: 0xA0 + thread index in the top byte, a
 * sequence number, and the page index, so that no two stores ever write
 * the same value; children write values with a 0xC1 top byte, which no
 * pinner ever writes.
 */
static void owned_pin(struct thread_arg *t, struct batch *b, uint64_t *seq)
{
	struct race *r = t->r;
	bool thp = stress_below(&t->rng, 2);
	unsigned long base = thp ? ownthp(t->idx) : own4k(t->idx);
	unsigned long npages = thp ? OWNTHP_SIZE / PAGE_SIZE : OWN4K_PAGES;
	unsigned long n = 1 + stress_below(&t->rng, thp ? MAX_BATCH : 16);
	unsigned long first = stress_below(&t->rng, npages - n + 1);
	uint64_t tag = (uint64_t)(0xA0 + t->idx) << 56;
	uint64_t stamps[MAX_BATCH];
	int ret;

	b->kind = B_OWNED;
	b->pin = true;
	b->flags = stress_below(&t->rng, 2) ? FOLL_WRITE : 0;
	if (!r->cfg->fork_only && stress_below(&t->rng, 4) == 0)
		b->flags |= FOLL_LONGTERM;
	if (r->cfg->fork_only)
		b->flags |= FOLL_WRITE;
	b->addr = base + first * PAGE_SIZE;
	b->nr = (int)n;

	for (unsigned long k = 0; k < n; k++) {
		uint64_t v = tag | ((++*seq) << 12) | k;

		stamps[k] = v;
		if (!stress_check(mmu_store64(r->p, b->addr + k * PAGE_SIZE, v),
				  "owned store at %#lx", b->addr + k * PAGE_SIZE)) {
			b->nr = 0;
			return;
		}
	}
	ret = pinmm_pin_user_pages_fast(b->addr, (int)n, b->flags, b->pages);
	atomic_fetch_add_explicit(&r->pin_calls, 1, memory_order_relaxed);
	if (ret == -ENOMEM && (b->flags & FOLL_LONGTERM)) {
		/* A page we still pin elsewhere cannot leave ZONE_MOVABLE. */
		b->nr = 0;
		return;
	}
	if (!stress_check(ret > 0, "owned pin at %#lx n %lu flags %#x: %d", b->addr, n,
			  b->flags, ret)) {
		b->nr = 0;
		return;
	}
	if (ret != (int)n)
		atomic_fetch_add_explicit(&r->short_owned, 1, memory_order_relaxed);
	b->nr = ret;
	atomic_fetch_add_explicit(&r->pages_pinned, ret, memory_order_relaxed);

	for (int k = 0; k < ret; k++) {
		unsigned long a = b->addr + (unsigned long)k * PAGE_SIZE;
		struct page *pg = b->pages[k];
		bool ok;
		uint64_t v, seen;

		if (!check_page(r->m, pg, true, "owned"))
			continue;
		/* The pin is of the page the stamp went into. */
		v = page_word(pg);
		stress_check(v == stamps[k], "owned pin at %#lx (flags %#x) holds %#llx, "
			     "not our stamp %#llx", a, b->flags, (unsigned long long)v,
			     (unsigned long long)stamps[k]);
		/* A store through the MMU after the pin lands in the pinned page. */
		v = tag | ((++*seq) << 12) | (unsigned long)k;
		if (!stress_check(mmu_store64(r->p, a, v), "owned store at %#lx", a))
			continue;
		stress_check(page_word(pg) == v,
			     "pin at %#lx (flags %#x) incoherent after store: pin %#llx want %#llx",
			     a, b->flags, (unsigned long long)page_word(pg),
			     (unsigned long long)v);
		if (!STRESS_TSAN) {
			/* "DMA" through the pin is what the process then loads. */
			v = tag | ((++*seq) << 12) | (unsigned long)k;
			__atomic_store_n((uint64_t *)pinmm_kmap_local_page(pg), v,
					 __ATOMIC_RELAXED);
			seen = mmu_load64(r->p, a, &ok);
			stress_check(ok && seen == v,
				     "DMA write through pin at %#lx not seen: mmu %#llx want %#llx",
				     a, (unsigned long long)seen, (unsigned long long)v);
		}
		atomic_fetch_add_explicit(&r->coherence_checks, 1, memory_order_relaxed);
	}
}

static void *pinner_thread(void *arg)
{
	struct thread_arg *t = arg;
	struct race *r = t->r;
	struct batch *held = calloc(HOLD_MAX, sizeof(*held));
	struct batch *cur = calloc(1, sizeof(*cur));
	uint64_t seq = 0;

	assert_non_null(held);
	assert_non_null(cur);
	pinmm_set_current(r->p);
	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		unsigned slot = (unsigned)stress_below(&t->rng, HOLD_MAX);

		if (r->cfg->chaos && stress_below(&t->rng, 10) < 6)
			chaos_pin(t, cur);
		else
			owned_pin(t, cur, &seq);
		if (cur->nr > 0 && stress_below(&t->rng, 3) == 0) {
			/* Keep this batch for a while; release what was there. */
			release_batch(r, &held[slot], true);
			held[slot] = *cur;
			cur->nr = 0;
		} else {
			release_batch(r, cur, false);
		}
		atomic_fetch_add_explicit(&r->iterations, 1, memory_order_relaxed);
	}
	for (unsigned i = 0; i < HOLD_MAX; i++)
		release_batch(r, &held[i], true);
	free(held);
	free(cur);
	pinmm_set_current(NULL);
	return NULL;
}

/* A random page-aligned subrange of a chaos region. */
static void chaos_range(struct stress_rng *rng, unsigned long *start, unsigned long *len,
			bool *thp)
{
	unsigned long size, base, maxn, n;

	*thp = stress_below(rng, 3) != 0;
	size = *thp ? CHAOSTHP_SIZE : CHAOS4K_SIZE;
	base = *thp ? CHAOSTHP_BASE : CHAOS4K_BASE;
	maxn = *thp ? 1024 : 128;
	n = 1 + stress_below(rng, maxn);
	/* Half the THP-region ranges start inside a 2 MiB block: PMD splits. */
	*start = base + stress_below(rng, size / PAGE_SIZE - n + 1) * PAGE_SIZE;
	*len = n * PAGE_SIZE;
}

static void populate(struct race *r, struct stress_rng *rng, unsigned long start,
		     unsigned long len)
{
	/* Touch a few pages; at a 2 MiB boundary of the THP region: a THP. */
	for (unsigned long a = start; a < start + len; a += PAGE_SIZE) {
		if (IS_ALIGNED(a, PMD_SIZE) || stress_below(rng, 8) == 0) {
			uint8_t v = (uint8_t)stress_rand(rng);

			pinmm_store(r->p, a, &v, 1);	/* may fail during PROT_READ */
		}
	}
}

static void map_chaos(struct race *r, unsigned long start, unsigned long len, bool thp)
{
	long a = pinmm_mmap(r->p, start, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

	stress_check(a == (long)start, "mmap(MAP_FIXED) %#lx+%#lx: %ld", start, len, a);
	if (thp)
		pinmm_madvise(r->p, start, len, MADV_HUGEPAGE);
}

static void fork_and_exit(struct race *r, struct stress_rng *rng)
{
	struct pinmm_proc *child = NULL;
	int err = pinmm_fork(r->p, &child);

	if (!stress_check(err == 0 || err == -ENOMEM, "fork: %d", err) || err)
		return;
	atomic_fetch_add_explicit(&r->forks, 1, memory_order_relaxed);
	/* The child writes into its copies: none of it may reach a parent pin. */
	for (unsigned i = 0; i < r->cfg->nr_pinners; i++) {
		for (int k = 0; k < 4; k++) {
			bool thp = stress_below(rng, 2);
			unsigned long base = thp ? ownthp(i) : own4k(i);
			unsigned long np = thp ? OWNTHP_SIZE / PAGE_SIZE : OWN4K_PAGES;
			uint64_t v = (0xC1ULL << 56) | stress_below(rng, 1UL << 40);

			pinmm_store(child, base + stress_below(rng, np) * PAGE_SIZE, &v, sizeof(v));
		}
	}
	if (stress_below(rng, 2)) {
		uint8_t v = 0xCC;
		unsigned long s, l;
		bool thp;

		chaos_range(rng, &s, &l, &thp);
		pinmm_store(child, s, &v, 1);
	}
	stress_check(pinmm_exit(child) == 0, "child exit");
}

static void *mutator_thread(void *arg)
{
	struct thread_arg *t = arg;
	struct race *r = t->r;

	pinmm_set_current(r->p);
	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		unsigned long s, l;
		bool thp;
		unsigned op;
		int e;

		if (r->cfg->fork_only) {
			fork_and_exit(r, &t->rng);
			continue;
		}
		chaos_range(&t->rng, &s, &l, &thp);
		/* Mutator 0 leans on unmap/DONTNEED, mutator 1 on fork/mprotect. */
		op = (unsigned)stress_below(&t->rng, 16);
		if (t->idx % 2 == 1 && op < 4)
			op = 12;	/* fork */
		switch (op) {
		case 0: case 1: case 2:
			stress_check(pinmm_munmap(r->p, s, l) == 0, "munmap %#lx+%#lx", s, l);
			map_chaos(r, s, l, thp);
			populate(r, &t->rng, s, l);
			atomic_fetch_add_explicit(&r->remaps, 1, memory_order_relaxed);
			break;
		case 3: case 4: case 5:
			/* -ENOMEM: the other mutator has a hole in the range right now. */
			e = pinmm_mprotect(r->p, s, l, PROT_READ);
			stress_check(e == 0 || e == -ENOMEM, "mprotect RO: %d", e);
			if (stress_below(&t->rng, 2))
				populate(r, &t->rng, s, l);	/* read-only: faults fail */
			e = pinmm_mprotect(r->p, s, l, PROT_READ | PROT_WRITE);
			stress_check(e == 0 || e == -ENOMEM, "mprotect RW: %d", e);
			atomic_fetch_add_explicit(&r->mprotects, 1, memory_order_relaxed);
			break;
		case 6: case 7: case 8:
			e = pinmm_madvise(r->p, s, l, MADV_DONTNEED);
			stress_check(e == 0 || e == -ENOMEM, "DONTNEED: %d", e);
			atomic_fetch_add_explicit(&r->dontneeds, 1, memory_order_relaxed);
			break;
		case 9: case 10: case 11:
			populate(r, &t->rng, s, l);
			atomic_fetch_add_explicit(&r->populates, 1, memory_order_relaxed);
			break;
		case 12: case 13:
			fork_and_exit(r, &t->rng);
			break;
		default:
			if (stress_below(&t->rng, 2)) {
				e = pinmm_split_huge_page(r->p, s & PMD_MASK);

				stress_check(e == 0 || e == -EAGAIN || e == -EFAULT || e == -EINVAL,
					     "split_huge_page: %d", e);
				atomic_fetch_add_explicit(&r->splits, 1, memory_order_relaxed);
				if (!e)
					atomic_fetch_add_explicit(&r->split_ok, 1, memory_order_relaxed);
			} else {
				e = pinmm_migrate_page(r->p, s, NULL);

				stress_check(e == 0 || e == -EAGAIN || e == -EFAULT || e == -EINVAL ||
					     e == -ENOMEM, "migrate_page: %d", e);
				atomic_fetch_add_explicit(&r->migrates, 1, memory_order_relaxed);
				if (!e)
					atomic_fetch_add_explicit(&r->migrate_ok, 1, memory_order_relaxed);
			}
			break;
		}
	}
	pinmm_set_current(NULL);
	return NULL;
}

static void setup_regions(struct race *r)
{
	for (unsigned i = 0; i < r->cfg->nr_pinners; i++) {
		long a = pinmm_mmap(r->p, own4k(i), OWN4K_PAGES * PAGE_SIZE,
				    PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

		assert_int_equal(a, (long)own4k(i));
		a = pinmm_mmap(r->p, ownthp(i), OWNTHP_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		assert_int_equal(a, (long)ownthp(i));
		assert_int_equal(pinmm_madvise(r->p, ownthp(i), OWNTHP_SIZE, MADV_HUGEPAGE), 0);
	}
	map_chaos(r, CHAOS4K_BASE, CHAOS4K_SIZE, false);
	map_chaos(r, CHAOSTHP_BASE, CHAOSTHP_SIZE, true);
}

static long vmstat(struct pinmm *m, const char *name)
{
	long v = pinmm_vmstat(m, name);

	assert_true(v >= 0);
	return v;
}

static void run_race(const struct race_cfg *cfg, const char *tracking)
{
	unsigned nthreads = cfg->nr_pinners + cfg->nr_mutators;
	struct race *r = calloc(1, sizeof(*r));
	struct thread_arg *args = calloc(nthreads, sizeof(*args));
	pthread_t *tids = calloc(nthreads, sizeof(*tids));
	double secs = max(stress_seconds() * cfg->share, 1.0), t0;
	long acquired, released;
	char seedbuf[32];

	assert_non_null(r);
	assert_non_null(args);
	assert_non_null(tids);
	r->cfg = cfg;
	r->seed = stress_seed(cfg->name);
	snprintf(seedbuf, sizeof(seedbuf), "seed=%llu", (unsigned long long)r->seed);
	r->m = test_boot("ram=768M", "zone.movable=128M", "thp=madvise", "debug=1",
			 "quiet=1", tracking, seedbuf, NULL);
	r->p = test_proc(r->m);
	setup_regions(r);

	stress_start_init(&r->st, nthreads);
	r->st.deadline = stress_now() + secs + STRESS_EXTRA_SECONDS;
	for (unsigned i = 0; i < nthreads; i++) {
		args[i].r = r;
		args[i].idx = i < cfg->nr_pinners ? i : i - cfg->nr_pinners;
		stress_rng_init(&args[i].rng, r->seed, cfg->thread_seed_base + i);
		assert_int_equal(pthread_create(&tids[i], NULL,
						i < cfg->nr_pinners ? pinner_thread : mutator_thread,
						&args[i]), 0);
	}
	t0 = stress_now();
	{
		/* The races this test exists for (chaos: the first eight). */
		const struct stress_event ev[] = {
			{ "remaps", &r->remaps },
			{ "mprotects", &r->mprotects },
			{ "MADV_DONTNEEDs", &r->dontneeds },
			{ "successful migrations", &r->migrate_ok },
			{ "gup_fast_fallback", NULL, r->m },
			{ "thp_split_pmd", NULL, r->m },
			{ "thp_split_page", NULL, r->m },
			{ "longterm_migrate", NULL, r->m },
			{ "forks", &r->forks },
			{ "held-pin checks", &r->held_checks },
			{ "coherence checks", &r->coherence_checks },
		};
		unsigned first = cfg->chaos ? 0 : 8;

		stress_run(&r->st, secs, tids, nthreads, ev + first, ARRAY_SIZE(ev) - first);
	}

	acquired = vmstat(r->m, "nr_foll_pin_acquired");
	released = vmstat(r->m, "nr_foll_pin_released");
	printf("# %s [%s]: %.1f s, %ld iterations, %ld pin calls (%ld pages), "
	       "%ld gup calls (%ld pages), %ld coherence checks, %ld held-pin checks, "
	       "%ld short owned pins, %ld chaos errors\n",
	       cfg->name, tracking, stress_now() - t0, r->iterations, r->pin_calls,
	       r->pages_pinned, r->get_calls, r->pages_got, r->coherence_checks,
	       r->held_checks, r->short_owned, r->errors_chaos);
	printf("# %s: mutations: %ld remaps, %ld mprotects, %ld DONTNEEDs, %ld populates, "
	       "%ld forks, %ld folio splits (%ld ok), %ld migrations (%ld ok)\n",
	       cfg->name, r->remaps, r->mprotects, r->dontneeds, r->populates, r->forks,
	       r->splits, r->split_ok, r->migrates, r->migrate_ok);
	printf("# %s: vmstat: gup_fast_calls %ld, gup_fast_fallback %ld, thp_fault_alloc %ld, "
	       "thp_split_pmd %ld, thp_split_page %ld, fork_cow_copy %ld, longterm_migrate %ld, "
	       "pgmigrate_fail %ld, pinned_page_detached %ld, unpin_not_pinned %ld, "
	       "nr_foll_pin_acquired %ld, nr_foll_pin_released %ld\n",
	       cfg->name, vmstat(r->m, "gup_fast_calls"), vmstat(r->m, "gup_fast_fallback"),
	       vmstat(r->m, "thp_fault_alloc"), vmstat(r->m, "thp_split_pmd"),
	       vmstat(r->m, "thp_split_page"), vmstat(r->m, "fork_cow_copy"),
	       vmstat(r->m, "longterm_migrate"), vmstat(r->m, "pgmigrate_fail"),
	       vmstat(r->m, "pinned_page_detached"), vmstat(r->m, "unpin_not_pinned"),
	       acquired, released);
	stress_check(acquired == released, "nr_foll_pin_acquired %ld != released %ld",
		     acquired, released);
	stress_check(vmstat(r->m, "unpin_not_pinned") == 0, "unpin of an unpinned page");
	stress_check(pinmm_audit(r->m) == 0, "pinmm_audit() after the race");
	printf("# %s: violations %ld\n", cfg->name, atomic_load(&stress_violations));
	fflush(stdout);
	pinmm_set_current(NULL);
	stress_check(pinmm_shutdown(r->m) == 0, "pinmm_shutdown()");
	assert_int_equal(atomic_load(&stress_violations), 0);
	free(tids);
	free(args);
	free(r);
}

static void test_gup_fast_vs_mutators(void **state)
{
	static const struct race_cfg cfg = {
		.name = "gup_fast_vs_mutators", .nr_pinners = NR_PINNERS,
		.nr_mutators = NR_MUTATORS, .chaos = true, .thread_seed_base = 0, .share = 1.0,
	};

	(void)state;
	run_race(&cfg, "pin.tracking=bias");
}

static void test_gup_fast_vs_mutators_exact(void **state)
{
	static const struct race_cfg cfg = {
		.name = "gup_fast_vs_mutators_exact", .nr_pinners = NR_PINNERS,
		.nr_mutators = NR_MUTATORS, .chaos = true, .thread_seed_base = 16, .share = 0.34,
	};

	(void)state;
	run_race(&cfg, "pin.tracking=exact");
}

static void test_fork_vs_pin(void **state)
{
	static const struct race_cfg cfg = {
		.name = "fork_vs_pin", .nr_pinners = NR_PINNERS, .nr_mutators = 1,
		.chaos = false, .fork_only = true, .thread_seed_base = 32, .share = 0.34,
	};

	(void)state;
	run_race(&cfg, "pin.tracking=bias");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gup_fast_vs_mutators),
		cmocka_unit_test(test_fork_vs_pin),
		cmocka_unit_test(test_gup_fast_vs_mutators_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
