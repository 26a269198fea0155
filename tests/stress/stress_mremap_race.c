/* SPDX-License-Identifier: MIT */
/*
 * stress_mremap_race.c - mremap() moving a region between three address
 * slots while GUP-fast pins and gets its pages, the MMU loads from it, a
 * thread forks the process, another migrates its pages and swaps parts of
 * it out (MADV_PAGEOUT, swap-in on the next touch); and ksmd
 * merging a second, MADV_MERGEABLE region of equal pages while the same
 * pinners pin them (a pin must keep a page from merging, a R/O pin must
 * unshare a KSM page, a write pin must copy it).
 *
 * The region: REGION_PAGES pages, half small pages and half THP-eligible,
 * page i holding the word tag(i) at offset word_off(i), written once
 * before the threads start and never again.  The slots: A and B 2 MiB
 * aligned (moves between them move PMD-mapped THPs and whole PTE tables),
 * C five pages off 2 MiB alignment (moves to and from it go PTE by PTE and
 * split THPs).  The mover moves the whole region to another slot (plain,
 * or with MREMAP_DONTUNMAP, which leaves the old slot mapped and empty),
 * or moves a random part of it to the same offset of another slot and
 * back (PMD splits at its edges).
 *
 * The KSM region: KSM_PAGES pages all holding KSM_TAG at word_off(0),
 * mergeable; a ksm thread runs passes and now and then MADV_UNMERGEABLE
 * + MADV_MERGEABLE on part of it.  Every reader of it must see KSM_TAG.
 *
 * Invariant checked by every reader: page i of any slot, when mapped,
 * holds tag(i) or zero (a page faulted into an emptied slot) - through a
 * GUP-fast pin or get (kmap of the returned page), through a slow-path
 * pin, through pinmm_load(), and in forked children.  Pins are sometimes
 * held across later moves and re-checked.  At the end: the region reads
 * tag(i) everywhere at its final slot, the pin counters balance,
 * pinmm_audit() == 0 and pinmm_shutdown() == 0.
 *
 * Duration: PINMM_STRESS_SECONDS (default 5), longer (at most 60 s more)
 * until each race of the event list has happened; seed: PINMM_SEED.
 */
#include "mm.h"
#include "stress_common.h"

#define REGION_SIZE	(8 * MiB)
#define REGION_PAGES	(REGION_SIZE / PAGE_SIZE)
#define NR_SLOTS	3
#define NR_PINNERS	2
#define MAX_BATCH	64
#define HOLD_MAX	4
#define KSM_BASE	0x3c0000000UL
#define KSM_PAGES	256UL
#define KSM_TAG		0x4B534D4B534D4B53ULL

static const unsigned long slot_base[NR_SLOTS] = {
	0x300000000UL,			/* A */
	0x340000000UL,			/* B */
	0x380000000UL + 5 * PAGE_SIZE,	/* C: not 2 MiB aligned */
};

struct mremap_race {
	struct pinmm *m;
	struct pinmm_proc *p;
	uint64_t seed;
	struct stress_start st;
	_Atomic int cur;		/* slot the region is in (mover's view) */
	_Atomic long moves, aligned_moves, unaligned_moves, dontunmap_moves, partial_moves;
	_Atomic long pages_pinned, pages_got, slow_pins, loads, forks, child_loads;
	_Atomic long migrate_ok, held_across_move;
	_Atomic long ksm_passes, ksm_pins, ksm_unmerges, pageouts;
};

struct worker {
	struct mremap_race *r;
	unsigned idx;
	struct stress_rng rng;
};

static uint64_t tag(unsigned long i) { return (0xABULL << 56) | (i << 8) | 0x5A; }
static unsigned long word_off(unsigned long i) { return (i % 64) * 64; }

/* Check the word of page @i of a slot as seen through @what. */
static void check_word(uint64_t v, unsigned long i, const char *what)
{
	stress_check(v == 0 || v == tag(i), "%s: page %lu holds %#llx, want %#llx or 0", what, i,
		     (unsigned long long)v, (unsigned long long)tag(i));
}

static void check_page(struct page *page, unsigned long i, const char *what)
{
	uint64_t v;
	char *k = kmap_local_page(page);

	memcpy(&v, k + word_off(i), sizeof(v));
	kunmap_local(k);
	check_word(v, i, what);
}

static void check_ksm_page(struct page *page, const char *what)
{
	uint64_t v;
	char *k = kmap_local_page(page);

	memcpy(&v, k + word_off(0), sizeof(v));
	kunmap_local(k);
	stress_check(v == KSM_TAG, "%s: KSM region page holds %#llx", what,
		     (unsigned long long)v);
}

/* ksmd: passes, and unmerging/re-merging part of the KSM region. */
static void *ksm_thread(void *arg)
{
	struct worker *w = arg;
	struct mremap_race *r = w->r;

	pinmm_set_current(r->p);
	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		long n = pinmm_ksm_scan(r->m, 1);

		stress_check(n >= 0, "ksm_scan: %ld", n);
		atomic_fetch_add(&r->ksm_passes, 1);
		if (stress_below(&w->rng, 4) == 0) {
			unsigned long first = stress_below(&w->rng, KSM_PAGES - 16);
			unsigned long a = KSM_BASE + first * PAGE_SIZE;
			int e = pinmm_madvise(r->p, a, 16 * PAGE_SIZE, MADV_UNMERGEABLE);

			stress_check(e == 0, "UNMERGEABLE: %d", e);
			e = pinmm_madvise(r->p, a, 16 * PAGE_SIZE, MADV_MERGEABLE);
			stress_check(e == 0, "MERGEABLE: %d", e);
			atomic_fetch_add(&r->ksm_unmerges, 1);
		}
	}
	pinmm_set_current(NULL);
	return NULL;
}

/* Pins of the KSM region: R/O or FOLL_WRITE, fast or slow, short. */
static void pin_ksm_region(struct worker *w)
{
	struct mremap_race *r = w->r;
	struct page *pages[16];
	unsigned long n = 1 + stress_below(&w->rng, 16);
	unsigned long a = KSM_BASE + stress_below(&w->rng, KSM_PAGES - n + 1) * PAGE_SIZE;
	unsigned int fl = stress_below(&w->rng, 2) ? FOLL_WRITE : 0;
	long got = pinmm_pin_user_pages_fast(a, (int)n, fl, pages);

	if (got <= 0)
		return;
	for (long k = 0; k < got; k++) {
		check_ksm_page(pages[k], "KSM region pin");
		stress_check(!folio_test_ksm(page_folio(pages[k])), "a FOLL_PIN holds a KSM page");
	}
	atomic_fetch_add(&r->ksm_pins, got);
	pinmm_unpin_user_pages(pages, (unsigned long)got);
}

/* The mover: whole moves between slots, partial moves out and back. */
static void *mover_thread(void *arg)
{
	struct worker *w = arg;
	struct mremap_race *r = w->r;

	pinmm_set_current(r->p);
	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		int cur = atomic_load(&r->cur);
		int to = (cur + 1 + (int)stress_below(&w->rng, NR_SLOTS - 1)) % NR_SLOTS;
		unsigned long from_a = slot_base[cur], to_a = slot_base[to];
		long got;

		if (stress_below(&w->rng, 3)) {
			bool keep = stress_below(&w->rng, 3) == 0;
			int fl = MREMAP_MAYMOVE | MREMAP_FIXED | (keep ? MREMAP_DONTUNMAP : 0);

			got = pinmm_mremap(r->p, from_a, REGION_SIZE, REGION_SIZE, fl, to_a);
			if (!stress_check(got == (long)to_a, "move %d -> %d: %ld", cur, to, got))
				continue;
			atomic_store(&r->cur, to);
			atomic_fetch_add(&r->moves, 1);
			atomic_fetch_add(cur == 2 || to == 2 ? &r->unaligned_moves : &r->aligned_moves, 1);
			if (keep)
				atomic_fetch_add(&r->dontunmap_moves, 1);
		} else {
			unsigned long n = 1 + stress_below(&w->rng, REGION_PAGES / 2);
			unsigned long first = stress_below(&w->rng, REGION_PAGES - n + 1);
			unsigned long off = first * PAGE_SIZE, len = n * PAGE_SIZE;

			got = pinmm_mremap(r->p, from_a + off, len, len,
					   MREMAP_MAYMOVE | MREMAP_FIXED, to_a + off);
			if (!stress_check(got == (long)(to_a + off), "part out: %ld", got))
				continue;
			got = pinmm_mremap(r->p, to_a + off, len, len,
					   MREMAP_MAYMOVE | MREMAP_FIXED, from_a + off);
			stress_check(got == (long)(from_a + off), "part back: %ld", got);
			atomic_fetch_add(&r->partial_moves, 1);
		}
	}
	pinmm_set_current(NULL);
	return NULL;
}

struct held {
	struct page *pages[MAX_BATCH];
	unsigned long first;
	long nr, moves_at_pin;
};

static void release(struct mremap_race *r, struct held *h)
{
	for (long k = 0; k < h->nr; k++)
		check_page(h->pages[k], h->first + (unsigned long)k, "held pin");
	if (h->nr > 0 && atomic_load(&r->moves) != h->moves_at_pin)
		atomic_fetch_add(&r->held_across_move, 1);
	pinmm_unpin_user_pages(h->pages, (unsigned long)h->nr);
	h->nr = 0;
}

/* GUP-fast pins and gets (and slow-path pins) anywhere in any slot. */
static void *pinner_thread(void *arg)
{
	struct worker *w = arg;
	struct mremap_race *r = w->r;
	struct held hold[HOLD_MAX];
	struct page *pages[MAX_BATCH];

	memset(hold, 0, sizeof(hold));
	pinmm_set_current(r->p);
	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		int s = (int)stress_below(&w->rng, NR_SLOTS);
		unsigned long n = 1 + stress_below(&w->rng, MAX_BATCH);
		unsigned long first = stress_below(&w->rng, REGION_PAGES - n + 1);
		unsigned long a = slot_base[s] + first * PAGE_SIZE;
		unsigned op = (unsigned)stress_below(&w->rng, 4);
		unsigned int fl = stress_below(&w->rng, 2) ? FOLL_LONGTERM : 0;
		long got;

		if (stress_below(&w->rng, 4) == 0) {
			pin_ksm_region(w);
			continue;
		}
		if (op == 0) {		/* get, not pin */
			got = pinmm_get_user_pages_fast(a, (int)n, 0, pages);
			for (long k = 0; k < got; k++) {
				check_page(pages[k], first + (unsigned long)k, "GUP-fast get");
				pinmm_put_page(pages[k]);
			}
			if (got > 0)
				atomic_fetch_add(&r->pages_got, got);
			continue;
		}
		if (op == 1) {		/* slow path under mmap_lock */
			struct mm_struct *mm = pinmm_proc_mm(r->p);

			pinmm_mmap_read_lock(mm);
			got = pinmm_pin_user_pages(a, n, fl, pages);
			pinmm_mmap_read_unlock(mm);
			if (got > 0)
				atomic_fetch_add(&r->slow_pins, got);
		} else {
			got = pinmm_pin_user_pages_fast(a, (int)n, fl, pages);
		}
		if (got <= 0)
			continue;	/* -EFAULT: nothing mapped there now */
		atomic_fetch_add(&r->pages_pinned, got);
		for (long k = 0; k < got; k++) {
			check_page(pages[k], first + (unsigned long)k, "pin");
			stress_check(folio_maybe_dma_pinned(page_folio(pages[k])) ||
				     is_zero_folio(page_folio(pages[k])),
				     "pinned page not maybe_dma_pinned");
		}
		if (stress_below(&w->rng, 2)) {
			struct held *h = &hold[stress_below(&w->rng, HOLD_MAX)];

			release(r, h);
			memcpy(h->pages, pages, (size_t)got * sizeof(pages[0]));
			h->first = first;
			h->nr = got;
			h->moves_at_pin = atomic_load(&r->moves);
		} else {
			pinmm_unpin_user_pages(pages, (unsigned long)got);
		}
	}
	for (int i = 0; i < HOLD_MAX; i++)
		release(r, &hold[i]);
	pinmm_set_current(NULL);
	return NULL;
}

/* Loads through the MMU, forks whose children load, migrations. */
static void *other_thread(void *arg)
{
	struct worker *w = arg;
	struct mremap_race *r = w->r;

	pinmm_set_current(r->p);
	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		int s = (int)stress_below(&w->rng, NR_SLOTS);
		unsigned long i = stress_below(&w->rng, REGION_PAGES);
		unsigned long a = slot_base[s] + i * PAGE_SIZE;
		unsigned op = (unsigned)stress_below(&w->rng, 8);
		uint64_t v = 0;

		if (op < 5) {
			if (pinmm_load(r->p, a + word_off(i), &v, sizeof(v)) == sizeof(v)) {
				check_word(v, i, "load");
				atomic_fetch_add(&r->loads, 1);
			}
		} else if (op == 5) {
			unsigned long n = 1 + stress_below(&w->rng, 32);
			int e;

			if (i + n > REGION_PAGES)
				n = REGION_PAGES - i;
			/* -ENOMEM, -EINVAL: the range is half moved or unmapped now. */
			e = pinmm_madvise(r->p, a, n * PAGE_SIZE, MADV_PAGEOUT);
			stress_check(e == 0 || e == -ENOMEM || e == -EINVAL, "pageout: %d", e);
			atomic_fetch_add(&r->pageouts, 1);
		} else if (op < 7) {
			struct pinmm_page_info pi;
			int e;

			if (pinmm_page_info(r->p, a, &pi) || !pi.present)
				continue;
			e = pinmm_migrate_page(r->p, a, pi.zone);
			stress_check(e == 0 || e == -EAGAIN || e == -EFAULT || e == -ENOMEM ||
				     e == -EINVAL, "migrate: %d", e);
			if (!e)
				atomic_fetch_add(&r->migrate_ok, 1);
		} else {
			struct pinmm_proc *child = NULL;
			int e = pinmm_fork(r->p, &child);

			if (!stress_check(e == 0 || e == -ENOMEM, "fork: %d", e) || e)
				continue;
			for (int k = 0; k < 16; k++) {
				s = (int)stress_below(&w->rng, NR_SLOTS);
				i = stress_below(&w->rng, REGION_PAGES);
				if (pinmm_load(child, slot_base[s] + i * PAGE_SIZE + word_off(i), &v,
					       sizeof(v)) == sizeof(v)) {
					check_word(v, i, "child load");
					atomic_fetch_add(&r->child_loads, 1);
				}
			}
			stress_check(pinmm_exit(child) == 0, "child exit");
			atomic_fetch_add(&r->forks, 1);
		}
	}
	pinmm_set_current(NULL);
	return NULL;
}

static void test_mremap_race(void **state)
{
	enum { NTHREADS = 1 + NR_PINNERS + 1 + 1 };
	struct mremap_race *r = calloc(1, sizeof(*r));
	struct worker w[NTHREADS];
	pthread_t tids[NTHREADS];
	char seedbuf[32];
	unsigned long base;
	long acquired, released;

	(void)state;
	assert_non_null(r);
	r->seed = stress_seed("mremap_race");
	snprintf(seedbuf, sizeof(seedbuf), "seed=%llu", (unsigned long long)r->seed);
	r->m = test_boot("ram=512M", "swap=64M", "thp=madvise", "debug=1", "quiet=1", seedbuf,
			 NULL);
	r->p = test_proc(r->m);
	base = slot_base[0];
	assert_int_equal(pinmm_mmap(r->p, base, REGION_SIZE, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), (long)base);
	/* One VMA: small pages faulted in before MADV_HUGEPAGE, THPs after. */
	for (unsigned long i = 0; i < REGION_PAGES; i++) {
		uint64_t v = tag(i);

		if (i == REGION_PAGES / 2)
			assert_int_equal(pinmm_madvise(r->p, base, REGION_SIZE, MADV_HUGEPAGE), 0);
		assert_int_equal(pinmm_store(r->p, base + i * PAGE_SIZE + word_off(i), &v, sizeof(v)),
				 (long)sizeof(v));
	}
	assert_true(pinmm_vmstat(r->m, "thp_fault_alloc") >= 1);
	assert_int_equal(pinmm_mmap(r->p, KSM_BASE, KSM_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), (long)KSM_BASE);
	for (unsigned long i = 0; i < KSM_PAGES; i++) {
		uint64_t v = KSM_TAG;

		assert_int_equal(pinmm_store(r->p, KSM_BASE + i * PAGE_SIZE + word_off(0), &v,
					     sizeof(v)), (long)sizeof(v));
	}
	assert_int_equal(pinmm_madvise(r->p, KSM_BASE, KSM_PAGES * PAGE_SIZE, MADV_MERGEABLE), 0);
	stress_start_init(&r->st, NTHREADS);
	r->st.deadline = stress_now() + stress_seconds() + STRESS_EXTRA_SECONDS;
	for (unsigned i = 0; i < NTHREADS; i++) {
		w[i].r = r;
		w[i].idx = i;
		stress_rng_init(&w[i].rng, r->seed, i);
		assert_int_equal(pthread_create(&tids[i], NULL,
						i == 0 ? mover_thread :
						i <= NR_PINNERS ? pinner_thread :
						i == NR_PINNERS + 1 ? other_thread : ksm_thread,
						&w[i]), 0);
	}
	{
		const struct stress_event ev[] = {
			{ "moves between 2 MiB-aligned slots", &r->aligned_moves },
			{ "moves to or from the unaligned slot", &r->unaligned_moves },
			{ "MREMAP_DONTUNMAP moves", &r->dontunmap_moves },
			{ "partial moves", &r->partial_moves },
			{ "pages pinned by GUP-fast or the slow path", &r->pages_pinned },
			{ "pages got by GUP-fast", &r->pages_got },
			{ "pins held across a move", &r->held_across_move },
			{ "loads", &r->loads },
			{ "forks", &r->forks },
			{ "successful migrations", &r->migrate_ok },
			{ "thp_split_pmd", NULL, r->m },
			{ "ksmd passes", &r->ksm_passes },
			{ "KSM region pins", &r->ksm_pins },
			{ "KSM unmerges", &r->ksm_unmerges },
			{ "ksm_pages_merged", NULL, r->m },
			{ "ksm_pinned_skip", NULL, r->m },
			{ "cow_ksm", NULL, r->m },
			{ "pswpout", NULL, r->m },
			{ "pswpin", NULL, r->m },
		};
		stress_run(&r->st, stress_seconds(), tids, NTHREADS, ev, ARRAY_SIZE(ev));
	}
	/* The region, wherever it is now, still holds every tag. */
	base = slot_base[atomic_load(&r->cur)];
	for (unsigned long i = 0; i < REGION_PAGES; i++) {
		uint64_t v = 0;

		assert_int_equal(pinmm_load(r->p, base + i * PAGE_SIZE + word_off(i), &v, sizeof(v)),
				 (long)sizeof(v));
		stress_check(v == tag(i), "final: page %lu holds %#llx", i, (unsigned long long)v);
	}
	for (unsigned long i = 0; i < KSM_PAGES; i++) {
		uint64_t v = 0;

		assert_int_equal(pinmm_load(r->p, KSM_BASE + i * PAGE_SIZE + word_off(0), &v,
					    sizeof(v)), (long)sizeof(v));
		stress_check(v == KSM_TAG, "final: KSM page %lu holds %#llx", i,
			     (unsigned long long)v);
	}
	acquired = pinmm_vmstat(r->m, "nr_foll_pin_acquired");
	released = pinmm_vmstat(r->m, "nr_foll_pin_released");
	stress_check(acquired == released, "pins acquired %ld released %ld", acquired, released);
	printf("# moves %ld (aligned %ld, unaligned %ld, dontunmap %ld), partial %ld, "
	       "pinned %ld, got %ld, slow pins %ld, held across a move %ld, loads %ld, "
	       "forks %ld (child loads %ld), migrations %ld, thp_split_pmd %ld; ksmd passes %ld, "
	       "merged %ld, pinned skips %ld, cow_ksm %ld, KSM region pins %ld; pageouts %ld, "
	       "pswpout %ld, pswpin %ld, pswpout_pinned_skip %ld\n",
	       atomic_load(&r->moves), atomic_load(&r->aligned_moves),
	       atomic_load(&r->unaligned_moves), atomic_load(&r->dontunmap_moves),
	       atomic_load(&r->partial_moves), atomic_load(&r->pages_pinned),
	       atomic_load(&r->pages_got), atomic_load(&r->slow_pins),
	       atomic_load(&r->held_across_move), atomic_load(&r->loads), atomic_load(&r->forks),
	       atomic_load(&r->child_loads), atomic_load(&r->migrate_ok),
	       pinmm_vmstat(r->m, "thp_split_pmd"), atomic_load(&r->ksm_passes),
	       pinmm_vmstat(r->m, "ksm_pages_merged"), pinmm_vmstat(r->m, "ksm_pinned_skip"),
	       pinmm_vmstat(r->m, "cow_ksm"), atomic_load(&r->ksm_pins),
	       atomic_load(&r->pageouts), pinmm_vmstat(r->m, "pswpout"),
	       pinmm_vmstat(r->m, "pswpin"), pinmm_vmstat(r->m, "pswpout_pinned_skip"));
	stress_check(pinmm_audit(r->m) == 0, "audit");
	pinmm_set_current(NULL);
	stress_check(pinmm_shutdown(r->m) == 0, "shutdown");
	free(r);
	printf("# mremap_race: violations %ld\n", atomic_load(&stress_violations));
	assert_int_equal(atomic_load(&stress_violations), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mremap_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
