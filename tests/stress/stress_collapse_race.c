/* SPDX-License-Identifier: MIT */
/*
 * stress_collapse_race.c - THP collapse (MADV_COLLAPSE and the khugepaged
 * thread) against GUP-fast pins, PMD splits, the huge zero page write
 * fault, fork and munmap (doc/MEMORY-ORDERING.md (m) and (e)).
 *
 * Owner threads each own a region of two PMDs in one process (with
 * MADV_HUGEPAGE, so khugepaged scans it and faults may map THPs or the
 * huge zero page) and keep a shadow of the 8 bytes at the start of every
 * page.  They store, load and verify; pin a page with
 * pin_user_pages_fast() and, while holding the pin, store through the
 * process and check that the pin sees every store (a collapse that copied
 * a pinned page would break this); split a PMD mapping with a one-page
 * mprotect; drop a whole PMD and read then write it (huge zero PMD, then
 * the Linux 6.11 write fault that maps a fresh THP); munmap and map a PMD
 * again; fork and check the child's snapshot.  A collapser thread runs
 * MADV_COLLAPSE on random PMDs of the regions and khugepaged passes, and
 * the khugepaged thread (khugepaged.scan_sleep_ms=1) scans too.
 *
 * Checked: every load matches the shadow; pin coherence; fork snapshots;
 * MADV_COLLAPSE answers only 0, EAGAIN, EINVAL or ENOMEM; at the end
 * pinmm_audit() == 0, the pin counters balance and pinmm_shutdown() == 0.
 * Events that must happen: collapses (MADV_COLLAPSE and khugepaged),
 * collapses refused because of a pin or reference, GUP-fast fallbacks,
 * PMD splits, huge-zero writes that mapped a THP, pin coherence checks.
 *
 * Duration: PINMM_STRESS_SECONDS (default 5), longer (at most 60 s more)
 * until each race of stress_run()'s event list has happened; seed:
 * PINMM_SEED.
 */
#include <errno.h>
#include <pinmm/linux.h>
#include "stress_common.h"

#define NR_OWNERS	2
#define HP		(2UL << 20)
#define REGION_PMDS	2
#define REGION_SIZE	(REGION_PMDS * HP)
#define REGION_PAGES	(REGION_SIZE / PAGE_SIZE)
#define REGION_BASE	0x400000000UL
#define REGION_STRIDE	0x001000000UL

struct collapse_race {
	struct pinmm *m;
	struct pinmm_proc *p;
	uint64_t seed;
	struct stress_start st;
	_Atomic long loads, pins, coherence_checks, splits, zero_writes, zero_thps, remaps,
		forks, collapse_ok, collapse_again, collapse_calls;
};

struct owner {
	struct collapse_race *r;
	unsigned idx;
	struct stress_rng rng;
	uint64_t shadow[REGION_PAGES];
	uint64_t seq;
};

static unsigned long region(unsigned idx)
{
	return REGION_BASE + idx * REGION_STRIDE;
}

static uint64_t next_value(struct owner *o)
{
	return ++o->seq | ((uint64_t)(o->idx + 1) << 56);
}

/* Hold a GUP-fast pin across stores by the process: the pin sees them all. */
static void owner_pin(struct owner *o)
{
	struct collapse_race *r = o->r;
	unsigned i = (unsigned)stress_below(&o->rng, REGION_PAGES);
	unsigned long a = region(o->idx) + i * PAGE_SIZE;
	struct page *page;
	uint64_t *kva;

	if (pin_user_pages_fast(a, 1, FOLL_WRITE | FOLL_LONGTERM, &page) != 1)
		return;
	atomic_fetch_add(&r->pins, 1);
	kva = kmap_local_page(page);
	stress_check(__atomic_load_n(kva, __ATOMIC_RELAXED) == o->shadow[i],
		     "pinned page %u reads %#llx, shadow %#llx", i,
		     (unsigned long long)__atomic_load_n(kva, __ATOMIC_RELAXED),
		     (unsigned long long)o->shadow[i]);
	for (int k = 0; k < 4; k++) {
		struct timespec ts = { .tv_nsec = 300 * 1000 };

		o->shadow[i] = next_value(o);
		stress_store64(r->p, a, o->shadow[i]);
		stress_check(__atomic_load_n(kva, __ATOMIC_RELAXED) == o->shadow[i],
			     "pin of page %u lost the process's store (collapsed under a pin?)", i);
		atomic_fetch_add(&r->coherence_checks, 1);
		nanosleep(&ts, NULL);		/* let the collapser try this range */
	}
	kunmap_local(kva);
	unpin_user_page(page);
}

/* Split the PMD mapping of one PMD (if it is PMD-mapped) with mprotect. */
static void owner_split(struct owner *o)
{
	struct collapse_race *r = o->r;
	unsigned long pmd = region(o->idx) + stress_below(&o->rng, REGION_PMDS) * HP;
	unsigned long a = pmd + (1 + stress_below(&o->rng, 510)) * PAGE_SIZE;

	stress_check(pinmm_mprotect(r->p, a, PAGE_SIZE, PROT_READ) == 0, "mprotect RO");
	stress_check(pinmm_mprotect(r->p, a, PAGE_SIZE, PROT_READ | PROT_WRITE) == 0,
		     "mprotect RW");
	atomic_fetch_add(&r->splits, 1);
}

/* Drop one PMD, read it (huge zero PMD), write it (a new THP, 6.11+). */
static void owner_zero_write(struct owner *o)
{
	struct collapse_race *r = o->r;
	unsigned n = (unsigned)stress_below(&o->rng, REGION_PMDS);
	unsigned long pmd = region(o->idx) + n * HP;
	struct pinmm_page_info pi;
	unsigned first = n * (HP / PAGE_SIZE);

	stress_check(pinmm_madvise(r->p, pmd, HP, MADV_DONTNEED) == 0, "MADV_DONTNEED");
	for (unsigned i = 0; i < HP / PAGE_SIZE; i++)
		o->shadow[first + i] = 0;
	stress_check(stress_load64(r->p, pmd + 5 * PAGE_SIZE) == 0, "dropped PMD reads 0");
	o->shadow[first + 3] = next_value(o);
	stress_store64(r->p, pmd + 3 * PAGE_SIZE, o->shadow[first + 3]);
	atomic_fetch_add(&r->zero_writes, 1);
	if (pinmm_page_info(r->p, pmd + 3 * PAGE_SIZE, &pi) == 0 && pi.huge_mapped &&
	    pi.folio_order == 9)
		atomic_fetch_add(&r->zero_thps, 1);
}

/* Unmap one PMD and map it again: every page of it reads 0. */
static void owner_remap(struct owner *o)
{
	struct collapse_race *r = o->r;
	unsigned n = (unsigned)stress_below(&o->rng, REGION_PMDS);
	unsigned long pmd = region(o->idx) + n * HP;
	long a;

	stress_check(pinmm_munmap(r->p, pmd, HP) == 0, "munmap");
	a = pinmm_mmap(r->p, pmd, HP, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	stress_check(a == (long)pmd, "mmap again at %#lx: %ld", pmd, a);
	stress_check(pinmm_madvise(r->p, pmd, HP, MADV_HUGEPAGE) == 0, "MADV_HUGEPAGE");
	for (unsigned i = 0; i < HP / PAGE_SIZE; i++)
		o->shadow[n * (HP / PAGE_SIZE) + i] = 0;
	atomic_fetch_add(&r->remaps, 1);
}

/* The child sees the snapshot; its stores stay its own. */
static void owner_fork(struct owner *o)
{
	struct collapse_race *r = o->r;
	unsigned long base = region(o->idx);
	struct pinmm_proc *c;

	if (pinmm_fork(r->p, &c))
		return;
	atomic_fetch_add(&r->forks, 1);
	for (unsigned i = 0; i < REGION_PAGES; i += 37) {
		stress_check(stress_load64(c, base + i * PAGE_SIZE) == o->shadow[i],
			     "child page %u", i);
		stress_store64(c, base + i * PAGE_SIZE, ~o->shadow[i]);
	}
	stress_check(pinmm_exit(c) == 0, "child exit");
	for (unsigned i = 0; i < REGION_PAGES; i += 37)
		stress_check(stress_load64(r->p, base + i * PAGE_SIZE) == o->shadow[i],
			     "child's store reached the parent at page %u", i);
}

static void *owner_thread(void *arg)
{
	struct owner *o = arg;
	struct collapse_race *r = o->r;
	unsigned long base = region(o->idx);

	pinmm_set_current(r->p);
	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		unsigned i = (unsigned)stress_below(&o->rng, REGION_PAGES);
		unsigned op = (unsigned)stress_below(&o->rng, 100);

		if (op < 30) {
			o->shadow[i] = next_value(o);
			stress_store64(r->p, base + i * PAGE_SIZE, o->shadow[i]);
		} else if (op < 60) {
			uint64_t v = stress_load64(r->p, base + i * PAGE_SIZE);

			stress_check(v == o->shadow[i], "page %u of owner %u: %#llx, shadow %#llx",
				     i, o->idx, (unsigned long long)v,
				     (unsigned long long)o->shadow[i]);
			atomic_fetch_add(&r->loads, 1);
		} else if (op < 80) {
			owner_pin(o);
		} else if (op < 90) {
			owner_split(o);
		} else if (op < 95) {
			owner_zero_write(o);
		} else if (op < 98) {
			owner_remap(o);
		} else {
			owner_fork(o);
		}
	}
	pinmm_set_current(NULL);
	return NULL;
}

static void *collapser_thread(void *arg)
{
	struct owner *o = arg;
	struct collapse_race *r = o->r;

	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		unsigned idx = (unsigned)stress_below(&o->rng, NR_OWNERS);
		unsigned long pmd = region(idx) + stress_below(&o->rng, REGION_PMDS) * HP;
		int ret;

		if (!stress_below(&o->rng, 8)) {
			stress_check(pinmm_khugepaged_scan(r->m, 1) >= 0, "pinmm_khugepaged_scan");
			continue;
		}
		if (stress_below(&o->rng, 2)) {
			struct timespec ts = { .tv_nsec = 50 * 1000 };

			nanosleep(&ts, NULL);	/* leave the owners time to run */
		}
		ret = pinmm_madvise(r->p, pmd, HP, MADV_COLLAPSE);
		atomic_fetch_add(&r->collapse_calls, 1);
		/* EINVAL: nothing there yet; ENOMEM: between munmap and mmap. */
		stress_check(ret == 0 || ret == -EAGAIN || ret == -EINVAL || ret == -ENOMEM,
			     "MADV_COLLAPSE: %d", ret);
		if (ret == 0)
			atomic_fetch_add(&r->collapse_ok, 1);
		if (ret == -EAGAIN)
			atomic_fetch_add(&r->collapse_again, 1);
	}
	return NULL;
}

static void test_collapse_race(void **state)
{
	struct collapse_race *r = calloc(1, sizeof(*r));
	struct owner *o = calloc(NR_OWNERS + 1, sizeof(*o));
	pthread_t tids[NR_OWNERS + 1];
	double secs = stress_seconds();
	char seedbuf[32];
	long acquired, released;

	(void)state;
	assert_non_null(r);
	assert_non_null(o);
	r->seed = stress_seed("collapse_race");
	snprintf(seedbuf, sizeof(seedbuf), "seed=%llu", (unsigned long long)r->seed);
	r->m = test_boot("ram=256M", "thp=madvise", "debug=1", "quiet=1",
			 "khugepaged.scan_sleep_ms=1", "khugepaged.pages_to_scan=1024", seedbuf,
			 NULL);
	r->p = test_proc(r->m);
	for (unsigned i = 0; i < NR_OWNERS; i++) {
		long a = pinmm_mmap(r->p, region(i), REGION_SIZE, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

		assert_int_equal(a, (long)region(i));
		/* Small pages first (no MADV_HUGEPAGE yet): something to collapse. */
		for (unsigned k = 0; k < REGION_PAGES; k++) {
			o[i].shadow[k] = k + 1;
			stress_store64(r->p, region(i) + k * PAGE_SIZE, k + 1);
		}
		assert_int_equal(pinmm_madvise(r->p, region(i), REGION_SIZE, MADV_HUGEPAGE), 0);
	}
	stress_start_init(&r->st, NR_OWNERS + 1);
	r->st.deadline = stress_now() + secs + STRESS_EXTRA_SECONDS;
	for (unsigned i = 0; i <= NR_OWNERS; i++) {
		o[i].r = r;
		o[i].idx = i;
		stress_rng_init(&o[i].rng, r->seed, i);
		assert_int_equal(pthread_create(&tids[i], NULL,
						i < NR_OWNERS ? owner_thread : collapser_thread,
						&o[i]), 0);
	}
	{
		const struct stress_event ev[] = {
			{ "MADV_COLLAPSE collapses", &r->collapse_ok },
			{ "MADV_COLLAPSE refused (EAGAIN)", &r->collapse_again },
			{ "thp_collapse_refused_refcount", NULL, r->m },
			{ "khugepaged_pages_collapsed", NULL, r->m },
			{ "gup_fast_fallback", NULL, r->m },
			{ "thp_split_pmd", NULL, r->m },
			{ "huge zero writes that mapped a THP", &r->zero_thps },
			{ "pin coherence checks", &r->coherence_checks },
			{ "forks", &r->forks },
		};

		stress_run(&r->st, secs, tids, NR_OWNERS + 1, ev, ARRAY_SIZE(ev));
	}
	acquired = pinmm_vmstat(r->m, "nr_foll_pin_acquired");
	released = pinmm_vmstat(r->m, "nr_foll_pin_released");
	printf("# collapse_race: %ld loads, %ld pins, %ld coherence checks, %ld splits,"
	       " %ld zero writes (%ld THPs), %ld remaps, %ld forks; MADV_COLLAPSE %ld calls,"
	       " %ld ok, %ld EAGAIN; vmstat: thp_collapse_alloc %ld,"
	       " thp_collapse_refused_refcount %ld, khugepaged_pages_collapsed %ld,"
	       " khugepaged_full_scans %ld, gup_fast_fallback %ld, thp_split_pmd %ld\n",
	       atomic_load(&r->loads), atomic_load(&r->pins), atomic_load(&r->coherence_checks),
	       atomic_load(&r->splits), atomic_load(&r->zero_writes), atomic_load(&r->zero_thps),
	       atomic_load(&r->remaps), atomic_load(&r->forks), atomic_load(&r->collapse_calls),
	       atomic_load(&r->collapse_ok), atomic_load(&r->collapse_again),
	       pinmm_vmstat(r->m, "thp_collapse_alloc"),
	       pinmm_vmstat(r->m, "thp_collapse_refused_refcount"),
	       pinmm_vmstat(r->m, "khugepaged_pages_collapsed"),
	       pinmm_vmstat(r->m, "khugepaged_full_scans"),
	       pinmm_vmstat(r->m, "gup_fast_fallback"), pinmm_vmstat(r->m, "thp_split_pmd"));
	stress_check(acquired == released, "nr_foll_pin_acquired %ld != released %ld",
		     acquired, released);
	stress_check(pinmm_audit(r->m) == 0, "pinmm_audit() after the race");
	for (unsigned i = 0; i < NR_OWNERS; i++)
		for (unsigned k = 0; k < REGION_PAGES; k++)
			stress_check(stress_load64(r->p, region(i) + k * PAGE_SIZE) == o[i].shadow[k],
				     "final page %u of owner %u", k, i);
	pinmm_set_current(NULL);
	stress_check(pinmm_shutdown(r->m) == 0, "pinmm_shutdown()");
	printf("# collapse_race: violations %ld\n", atomic_load(&stress_violations));
	assert_int_equal(atomic_load(&stress_violations), 0);
	free(o);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collapse_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
