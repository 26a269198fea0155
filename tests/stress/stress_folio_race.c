/* SPDX-License-Identifier: MIT */
/*
 * stress_folio_race.c - GUP-fast pins against everything that splits,
 * copies, moves or frees an anonymous folio, for folios of every
 * anonymous order (0 and 2..9: Linux has no order-1 anonymous folio).
 *
 * One process holds a slot per order and copy: a VMA of exactly 2^order
 * pages, aligned to its size, so that its faults make folios of that
 * order (thp.16K .. thp.2048K always; the order-0 slots have
 * MADV_NOHUGEPAGE).  Every page holds its own address as a tag, or 0
 * (just faulted, or discarded).  Pinner threads pin random runs with
 * pin_user_pages_fast() (writable, long-term, or read-only), check the
 * tag of every pinned page through the pin, and unpin.  Mutator threads
 * run operations from ops[] on random slots: partial munmap, partial
 * MADV_DONTNEED, the deferred split scan (pinmm_reclaim()), a direct
 * split, a fork whose child writes its copy (COW of one page of a large
 * folio; the parent must never see the child's tag), migration between
 * zones, collapse (refault part of a 2 MiB slot, whose holes refill with
 * mTHPs, then MADV_COLLAPSE it into a PMD THP) and refill (unmap the
 * slot, map it again, fault and tag it: the old folios are freed).
 *
 * To add an operation (the hugetlb work will): write
 * `static void op_x(struct race *r, struct worker *w, unsigned slot)` and
 * add a row to ops[]; stress_run() then also requires that it ran.
 *
 * Checked: every tag seen through a pin or a load is the page's address
 * or 0; the races happened (pins on every order, split refused while
 * pinned, GUP-fast falling back, a pinned page outliving its mapping,
 * migration refused, each operation); at the end pinmm_audit() == 0, the
 * pin counters balance and pinmm_shutdown() == 0.
 *
 * Duration: PINMM_STRESS_SECONDS (default 5), longer (at most 60 s more)
 * until every event has happened; seed: PINMM_SEED.
 */
#include <pinmm/linux.h>
#include "stress_common.h"
#include "mm.h"

#define NR_PINNERS	2
#define NR_MUTATORS	2
#define SLOT_BASE	0x600000000UL
#define SLOT_STRIDE	(4UL << 20)	/* 2 MiB aligned, with a gap */
#define CHILD_TAG	(1ULL << 63)
#define MAX_RUN		32

/* Anonymous folio orders: no order 1 (Linux neither). */
static const unsigned slot_orders[] = { 0, 2, 3, 4, 5, 6, 7, 8, 9 };
#define NR_ORDERS	ARRAY_SIZE(slot_orders)
#define NR_SLOTS	(2 * NR_ORDERS)

struct race {
	struct pinmm *m;
	struct pinmm_proc *p;
	uint64_t seed;
	struct stress_start st;
	_Atomic long pins_by_order[10];
	_Atomic long tag_checks;
	/*
	 * Page contents: a slot's tags are written (refill) and read (tag
	 * checks, the parent's load after a child's write) under its mutex,
	 * as owned memory in the other stress tests, so that TSan sees no
	 * race on simulated RAM; folios themselves are never protected by it.
	 */
	pthread_mutex_t slot_lock[NR_SLOTS];
};

struct worker {
	struct race *r;
	unsigned idx;
	struct stress_rng rng;
};

static unsigned slot_order(unsigned slot)
{
	return slot_orders[slot % NR_ORDERS];
}

static unsigned long slot_addr(unsigned slot)
{
	return SLOT_BASE + slot * SLOT_STRIDE;
}

static unsigned long slot_pages(unsigned slot)
{
	return 1UL << slot_order(slot);
}

static bool tag_ok(uint64_t tag, unsigned long addr)
{
	return tag == 0 || tag == addr;
}

/* Map the slot afresh (MAP_FIXED replaces what is there) and tag it. */
static void slot_fill(struct race *r, unsigned slot)
{
	unsigned long a = slot_addr(slot), len = slot_pages(slot) * PAGE_SIZE;
	long ret = pinmm_mmap(r->p, a, len, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

	if (!stress_check(ret == (long)a, "mmap slot %u: %ld", slot, ret))
		return;
	if (slot_order(slot) == 0) {
		/* A partial munmap (not under the slot lock) may beat it: -ENOMEM. */
		ret = pinmm_madvise(r->p, a, len, MADV_NOHUGEPAGE);
		stress_check(ret == 0 || ret == -ENOMEM, "NOHUGEPAGE: %ld", ret);
	}
	for (unsigned long x = a; x < a + len; x += PAGE_SIZE) {
		uint64_t v = x;

		/* A concurrent partial munmap may have removed the page. */
		(void)pinmm_store(r->p, x, &v, sizeof(v));
	}
}

/* A random sub-range of the slot: [*start, *start + *n pages). */
static void slot_part(struct worker *w, unsigned slot, unsigned long *start, unsigned long *n)
{
	unsigned long pages = slot_pages(slot), first = stress_below(&w->rng, pages);

	*n = 1 + stress_below(&w->rng, min(pages - first, (unsigned long)MAX_RUN));
	*start = slot_addr(slot) + first * PAGE_SIZE;
}

/* ---- operations (the table is ops[] below) ----------------------------- */

static void op_partial_munmap(struct race *r, struct worker *w, unsigned slot)
{
	unsigned long a, n;

	slot_part(w, slot, &a, &n);
	stress_check(pinmm_munmap(r->p, a, n * PAGE_SIZE) == 0, "partial munmap");
}

static void op_dontneed(struct race *r, struct worker *w, unsigned slot)
{
	unsigned long a, n;
	int ret;

	slot_part(w, slot, &a, &n);
	ret = pinmm_madvise(r->p, a, n * PAGE_SIZE, MADV_DONTNEED);
	stress_check(ret == 0 || ret == -ENOMEM, "MADV_DONTNEED: %d", ret);
}

static void op_deferred_split(struct race *r, struct worker *w, unsigned slot)
{
	(void)w;
	(void)slot;
	stress_check(pinmm_reclaim(r->m, 64) >= 0, "pinmm_reclaim");
}

static void op_split(struct race *r, struct worker *w, unsigned slot)
{
	unsigned long a, n;
	int ret;

	slot_part(w, slot, &a, &n);
	ret = pinmm_split_huge_page(r->p, a);
	stress_check(ret == 0 || ret == -EAGAIN || ret == -EINVAL || ret == -EFAULT,
		     "split: %d", ret);
}

/* The child writes its own tag into one page: COW of a page of the folio. */
static void op_cow(struct race *r, struct worker *w, unsigned slot)
{
	struct pinmm_proc *c;
	unsigned long a, n;
	uint64_t v;

	slot_part(w, slot, &a, &n);
	if (pinmm_fork(r->p, &c))
		return;
	v = a | CHILD_TAG;
	(void)pinmm_store(c, a, &v, sizeof(v));
	stress_check(pinmm_exit(c) == 0, "child exit");
	pinmm_proc_put(c);
	pthread_mutex_lock(&r->slot_lock[slot]);
	if (pinmm_load(r->p, a, &v, sizeof(v)) == (long)sizeof(v))
		stress_check(tag_ok(v, a), "parent sees %#llx at %#lx after the child's write",
			     (unsigned long long)v, a);
	pthread_mutex_unlock(&r->slot_lock[slot]);
}

static void op_migrate(struct race *r, struct worker *w, unsigned slot)
{
	unsigned long a, n;
	int ret;

	slot_part(w, slot, &a, &n);
	ret = pinmm_migrate_page(r->p, a, stress_below(&w->rng, 2) ? "movable" : "normal");
	stress_check(ret == 0 || ret == -EAGAIN || ret == -EFAULT || ret == -ENOMEM ||
		     ret == -EINVAL, "migrate: %d", ret);
}

/*
 * Collapse the 2 MiB slot of the same copy: first fault a random run of it
 * again (after a partial DONTNEED or split its holes refill with mTHPs of
 * whatever orders fit), then MADV_COLLAPSE, which refuses while any page
 * is pinned and otherwise copies every tag into the new THP.
 */
static void op_collapse(struct race *r, struct worker *w, unsigned slot)
{
	unsigned long a, n;
	int ret;

	slot = slot - slot % NR_ORDERS + (NR_ORDERS - 1);
	slot_part(w, slot, &a, &n);
	pthread_mutex_lock(&r->slot_lock[slot]);
	for (unsigned long x = a; x < a + n * PAGE_SIZE; x += PAGE_SIZE) {
		uint64_t v = x;

		(void)pinmm_store(r->p, x, &v, sizeof(v));
	}
	pthread_mutex_unlock(&r->slot_lock[slot]);
	ret = pinmm_madvise(r->p, slot_addr(slot), PMD_SIZE, MADV_COLLAPSE);
	stress_check(ret == 0 || ret == -EAGAIN || ret == -EINVAL || ret == -ENOMEM ||
		     ret == -EBUSY, "MADV_COLLAPSE: %d", ret);
}

static void op_refill(struct race *r, struct worker *w, unsigned slot)
{
	(void)w;
	pthread_mutex_lock(&r->slot_lock[slot]);
	slot_fill(r, slot);
	pthread_mutex_unlock(&r->slot_lock[slot]);
}

struct folio_op {
	const char *name;
	void (*fn)(struct race *r, struct worker *w, unsigned slot);
	_Atomic long done;
};

static struct folio_op ops[] = {
	{ "op partial_munmap", op_partial_munmap, 0 },
	{ "op dontneed", op_dontneed, 0 },
	{ "op deferred_split", op_deferred_split, 0 },
	{ "op split", op_split, 0 },
	{ "op cow", op_cow, 0 },
	{ "op migrate", op_migrate, 0 },
	{ "op collapse", op_collapse, 0 },
	{ "op refill", op_refill, 0 },
};

/* ---- threads ------------------------------------------------------------- */

static void pin_and_check(struct worker *w)
{
	static const unsigned int kinds[] = { FOLL_WRITE, FOLL_WRITE | FOLL_LONGTERM, 0 };
	struct race *r = w->r;
	unsigned slot = (unsigned)stress_below(&w->rng, NR_SLOTS);
	struct page *pages[MAX_RUN];
	unsigned long a, n;
	int got;

	slot_part(w, slot, &a, &n);
	got = pin_user_pages_fast(a, (int)n, kinds[stress_below(&w->rng, 3)], pages);
	if (got <= 0)
		return;		/* -EFAULT: that part is unmapped just now */
	pthread_mutex_lock(&r->slot_lock[slot]);
	for (int i = 0; i < got; i++) {
		uint64_t *k = kmap_local_page(pages[i]);
		uint64_t tag = __atomic_load_n(k, __ATOMIC_RELAXED);
		unsigned order = folio_order(page_folio(pages[i]));	/* stable: pinned */

		kunmap_local(k);
		stress_check(tag_ok(tag, a + (unsigned long)i * PAGE_SIZE),
			     "pinned page of %#lx holds %#llx", a + (unsigned long)i * PAGE_SIZE,
			     (unsigned long long)tag);
		if (order < 10)
			atomic_fetch_add(&r->pins_by_order[order], 1);
	}
	pthread_mutex_unlock(&r->slot_lock[slot]);
	atomic_fetch_add(&r->tag_checks, got);
	if (stress_below(&w->rng, 2))
		sched_yield();		/* hold the pins across some mutations */
	unpin_user_pages(pages, (unsigned long)got);
}

static void *pinner_thread(void *arg)
{
	struct worker *w = arg;

	pinmm_set_current(w->r->p);
	pthread_barrier_wait(&w->r->st.barrier);
	while (!stress_should_stop(&w->r->st))
		pin_and_check(w);
	pinmm_set_current(NULL);
	return NULL;
}

static void *mutator_thread(void *arg)
{
	struct worker *w = arg;
	struct race *r = w->r;

	pinmm_set_current(r->p);
	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		/* Refill more often than anything else: folios must keep coming. */
		unsigned i = (unsigned)stress_below(&w->rng, ARRAY_SIZE(ops) + 2);
		struct folio_op *op = &ops[i < ARRAY_SIZE(ops) ? i : ARRAY_SIZE(ops) - 1];
		unsigned slot = (unsigned)stress_below(&w->rng, NR_SLOTS);

		op->fn(r, w, slot);
		atomic_fetch_add(&op->done, 1);
	}
	pinmm_set_current(NULL);
	return NULL;
}

static void test_folio_race(void **state)
{
	struct race *r = calloc(1, sizeof(*r));
	struct worker w[NR_PINNERS + NR_MUTATORS];
	pthread_t tids[NR_PINNERS + NR_MUTATORS];
	struct stress_event ev[NR_ORDERS + ARRAY_SIZE(ops) + 7];
	static char order_names[NR_ORDERS][32];
	double secs = stress_seconds();
	unsigned nev = 0;
	char seedbuf[32];
	long acquired, released;

	(void)state;
	assert_non_null(r);
	r->seed = stress_seed("folio_race");
	snprintf(seedbuf, sizeof(seedbuf), "seed=%llu", (unsigned long long)r->seed);
	r->m = test_boot("ram=512M", "zone.movable=128M", "thp=never", "thp.16K=always",
			 "thp.32K=always", "thp.64K=always", "thp.128K=always", "thp.256K=always",
			 "thp.512K=always", "thp.1024K=always", "thp.2048K=always", "debug=1",
			 "quiet=1", seedbuf, NULL);
	r->p = test_proc(r->m);
	for (unsigned s = 0; s < NR_SLOTS; s++) {
		pthread_mutex_init(&r->slot_lock[s], NULL);
		slot_fill(r, s);
	}
	stress_start_init(&r->st, NR_PINNERS + NR_MUTATORS);
	r->st.deadline = stress_now() + secs + STRESS_EXTRA_SECONDS;
	for (unsigned i = 0; i < NR_PINNERS + NR_MUTATORS; i++) {
		w[i].r = r;
		w[i].idx = i;
		stress_rng_init(&w[i].rng, r->seed, i);
		assert_int_equal(pthread_create(&tids[i], NULL,
						i < NR_PINNERS ? pinner_thread : mutator_thread,
						&w[i]), 0);
	}
	for (unsigned o = 0; o < NR_ORDERS; o++) {
		snprintf(order_names[o], sizeof(order_names[o]), "pins on order-%u folios",
			 slot_orders[o]);
		ev[nev++] = (struct stress_event){ order_names[o],
						   &r->pins_by_order[slot_orders[o]], NULL };
	}
	for (unsigned i = 0; i < ARRAY_SIZE(ops); i++)
		ev[nev++] = (struct stress_event){ ops[i].name, &ops[i].done, NULL };
	ev[nev++] = (struct stress_event){ "thp_split_page", NULL, r->m };
	ev[nev++] = (struct stress_event){ "thp_split_page_failed", NULL, r->m };
	ev[nev++] = (struct stress_event){ "hugepages-64kB/stats/split_deferred", NULL, r->m };
	ev[nev++] = (struct stress_event){ "gup_fast_fallback", NULL, r->m };
	ev[nev++] = (struct stress_event){ "pinned_page_detached", NULL, r->m };
	ev[nev++] = (struct stress_event){ "pgmigrate_fail", NULL, r->m };
	ev[nev++] = (struct stress_event){ "thp_collapse_alloc", NULL, r->m };
	stress_run(&r->st, secs, tids, NR_PINNERS + NR_MUTATORS, ev, nev);

	acquired = pinmm_vmstat(r->m, "nr_foll_pin_acquired");
	released = pinmm_vmstat(r->m, "nr_foll_pin_released");
	printf("# folio_race: %ld tag checks; pins by order:", atomic_load(&r->tag_checks));
	for (unsigned o = 0; o < NR_ORDERS; o++)
		printf(" %u:%ld", slot_orders[o], atomic_load(&r->pins_by_order[slot_orders[o]]));
	printf("\n# folio_race: ops:");
	for (unsigned i = 0; i < ARRAY_SIZE(ops); i++)
		printf(" %s %ld,", ops[i].name + 3, atomic_load(&ops[i].done));
	printf("\n# folio_race: vmstat: thp_split_page %ld, thp_split_page_failed %ld,"
	       " gup_fast_fallback %ld, pinned_page_detached %ld, pgmigrate_success %ld,"
	       " pgmigrate_fail %ld, cow_fault %ld, thp_collapse_alloc %ld,"
	       " thp_collapse_refused_refcount %ld\n", pinmm_vmstat(r->m, "thp_split_page"),
	       pinmm_vmstat(r->m, "thp_split_page_failed"),
	       pinmm_vmstat(r->m, "gup_fast_fallback"),
	       pinmm_vmstat(r->m, "pinned_page_detached"),
	       pinmm_vmstat(r->m, "pgmigrate_success"), pinmm_vmstat(r->m, "pgmigrate_fail"),
	       pinmm_vmstat(r->m, "cow_fault"), pinmm_vmstat(r->m, "thp_collapse_alloc"),
	       pinmm_vmstat(r->m, "thp_collapse_refused_refcount"));
	stress_check(acquired == released, "nr_foll_pin_acquired %ld != released %ld",
		     acquired, released);
	stress_check(pinmm_audit(r->m) == 0, "pinmm_audit() after the race");
	for (unsigned s = 0; s < NR_SLOTS; s++) {
		for (unsigned long x = slot_addr(s); x < slot_addr(s) + slot_pages(s) * PAGE_SIZE;
		     x += PAGE_SIZE) {
			uint64_t v;

			if (pinmm_load(r->p, x, &v, sizeof(v)) == (long)sizeof(v))
				stress_check(tag_ok(v, x), "final %#lx holds %#llx", x,
					     (unsigned long long)v);
		}
	}
	pinmm_set_current(NULL);
	stress_check(pinmm_shutdown(r->m) == 0, "pinmm_shutdown()");
	printf("# folio_race: violations %ld\n", atomic_load(&stress_violations));
	assert_int_equal(atomic_load(&stress_violations), 0);
	for (unsigned s = 0; s < NR_SLOTS; s++)
		pthread_mutex_destroy(&r->slot_lock[s]);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_folio_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
