/* SPDX-License-Identifier: MIT */
/*
 * stress_exit_race.c - pinmm_exit() racing every API family.
 *
 * Round after round, an exiter thread makes a fresh process and lets one
 * worker per API family loop on it - each worker with the process as its
 * `current` - then exits the process after a random delay.  The families:
 * faults (stores and loads through the MMU), GUP slow (pin/get _unlocked,
 * and get_user_pages() under a caller-held mmap_lock), GUP-fast (pin, get,
 * fast_only), pins held across the exit and unpinned after it, VMA calls
 * (mmap, munmap, mprotect, madvise), fork (the child written and exited),
 * files (memfd, ftruncate, pwrite, pread, a shared mapping of it, close)
 * and introspection (page_info, pinned_vm, migrate_page).
 *
 * Checked: a call on the process either works on the whole, live address
 * space or answers -ESRCH (a file call may also find its descriptor closed
 * by the exit: -EBADF); -ESRCH never comes before the exit started; every
 * worker sees the exit (no call keeps working on an exited process); at the
 * end pinmm_audit() == 0, the pin counters balance, pinmm_shutdown() == 0.
 * The races happened: per family, calls succeeded and calls met the exit,
 * and some calls began before pinmm_exit() and returned successfully after
 * it had returned (the address space outlived the exit for them).
 *
 * Duration: PINMM_STRESS_SECONDS (default 5); seed: PINMM_SEED.
 */
#include <pinmm/linux.h>
#include "stress_common.h"

enum family { F_FAULT, F_GUP_SLOW, F_GUP_FAST, F_PIN, F_VMA, F_FORK, F_FILE, F_INFO, NR_FAMILIES };

static const char *const family_name[NR_FAMILIES] = {
	"faults", "gup-slow", "gup-fast", "pin/unpin", "vma", "fork", "files", "page_info",
};

#define REGION_BASE	0x100000000UL
#define REGION_STRIDE	0x010000000UL
#define REGION_PAGES	256UL
#define REGION_SIZE	(REGION_PAGES * PAGE_SIZE)
#define MAX_PINS	32
#define ROUND_TIMEOUT_S	20.0	/* a worker that never meets the exit: violation */

struct exit_race {
	struct pinmm *m;
	struct pinmm_proc *_Atomic p;	/* this round's process; NULL: stop */
	uint64_t seed;
	struct stress_start st;
	pthread_barrier_t round_start, round_end;
	_Atomic bool exit_begun, exit_done;
	double round_deadline;
	_Atomic long rounds;
	_Atomic long ok[NR_FAMILIES];		/* calls that worked */
	_Atomic long met_exit[NR_FAMILIES];	/* rounds in which the family saw -ESRCH */
	_Atomic long outlived[NR_FAMILIES];	/* worked across a whole pinmm_exit() */
};

struct worker {
	struct exit_race *r;
	enum family fam;
	struct stress_rng rng;
	struct page *pages[MAX_PINS];
	long held;				/* F_PIN: pins kept across calls */
	bool began_before_exit;
};

static unsigned long region(enum family f) { return REGION_BASE + f * REGION_STRIDE; }

static void op_begin(struct worker *w)
{
	w->began_before_exit = !atomic_load(&w->r->exit_begun);
}

/*
 * Judge one result.  Return: true to go on, false when the call met the
 * exit (or broke a rule: counted as a violation, and the round ends too).
 */
static bool judge(struct worker *w, long ret, const char *what)
{
	struct exit_race *r = w->r;
	bool begun = atomic_load(&r->exit_begun);

	if (ret >= 0) {
		atomic_fetch_add_explicit(&r->ok[w->fam], 1, memory_order_relaxed);
		if (w->began_before_exit && atomic_load(&r->exit_done))
			atomic_fetch_add_explicit(&r->outlived[w->fam], 1, memory_order_relaxed);
		return true;
	}
	if (ret == -ESRCH || (ret == -EBADF && w->fam == F_FILE)) {
		stress_check(begun, "%s: %s: %ld before the exit", family_name[w->fam], what,
			     ret);
		atomic_fetch_add_explicit(&r->met_exit[w->fam], 1, memory_order_relaxed);
		return false;
	}
	stress_violation("%s: %s: %ld (%s)", family_name[w->fam], what, ret,
			 begun ? "exit begun" : "live process");
	return false;
}

/* Page-granular result: @n of @want pages, or an error. */
static long full(long n, long want)
{
	return n == want || n < 0 ? n : -EPROTO;
}

static bool do_fault(struct worker *w, struct pinmm_proc *p)
{
	unsigned long a = region(F_FAULT) + stress_below(&w->rng, REGION_PAGES) * PAGE_SIZE;
	uint64_t v = stress_rand(&w->rng), got = 0;

	op_begin(w);
	if (!judge(w, full(pinmm_store(p, a, &v, sizeof(v)), sizeof(v)), "store"))
		return false;
	op_begin(w);
	if (!judge(w, full(pinmm_load(p, a, &got, sizeof(got)), sizeof(got)), "load"))
		return false;
	return stress_check(got == v, "load %#lx: %#llx, stored %#llx", a,
			    (unsigned long long)got, (unsigned long long)v);
}

static bool do_gup_slow(struct worker *w, struct pinmm_proc *p)
{
	unsigned long n = 1 + stress_below(&w->rng, MAX_PINS);
	unsigned long a = region(F_GUP_SLOW) +
			  stress_below(&w->rng, REGION_PAGES - n + 1) * PAGE_SIZE;
	struct mm_struct *mm;
	long got;

	op_begin(w);
	switch (stress_below(&w->rng, 3)) {
	case 0:
		got = pin_user_pages_unlocked(a, n, w->pages, FOLL_WRITE);
		if (got > 0)
			unpin_user_pages(w->pages, (unsigned long)got);
		return judge(w, full(got, (long)n), "pin_user_pages_unlocked");
	case 1:
		got = get_user_pages_unlocked(a, n, w->pages, FOLL_WRITE);
		for (long i = 0; i < got; i++)
			put_page(w->pages[i]);
		return judge(w, full(got, (long)n), "get_user_pages_unlocked");
	default:
		/* The caller's mmap_lock keeps exit_mmap() out; no mm reference. */
		mm = pinmm_proc_mm(p);
		if (!mm)
			return judge(w, -ESRCH, "pinmm_proc_mm");
		mmap_read_lock(mm);
		got = get_user_pages(a, n, FOLL_WRITE, w->pages);
		mmap_read_unlock(mm);
		for (long i = 0; i < got; i++)
			put_page(w->pages[i]);
		return judge(w, full(got, (long)n), "get_user_pages");
	}
}

static bool do_gup_fast(struct worker *w, struct pinmm_proc *p)
{
	int n = 1 + (int)stress_below(&w->rng, MAX_PINS);
	unsigned long a = region(F_GUP_FAST) +
			  stress_below(&w->rng, REGION_PAGES - (unsigned long)n + 1) * PAGE_SIZE;
	long got;

	(void)p;
	op_begin(w);
	switch (stress_below(&w->rng, 3)) {
	case 0:
		got = pin_user_pages_fast(a, n, FOLL_WRITE, w->pages);
		if (got > 0)
			unpin_user_pages(w->pages, (unsigned long)got);
		return judge(w, full(got, n), "pin_user_pages_fast");
	case 1:
		got = get_user_pages_fast(a, n, FOLL_WRITE, w->pages);
		for (long i = 0; i < got; i++)
			put_page(w->pages[i]);
		return judge(w, full(got, n), "get_user_pages_fast");
	default:
		/* May take fewer (not present yet): any count is a success. */
		got = get_user_pages_fast_only(a, n, 0, w->pages);
		for (long i = 0; i < got; i++)
			put_page(w->pages[i]);
		return judge(w, got, "get_user_pages_fast_only");
	}
}

/* Pins are kept across calls, and across the exit: unpinned afterwards. */
static void drop_pins(struct worker *w)
{
	if (w->held)
		unpin_user_pages_dirty_lock(w->pages, (unsigned long)w->held, true);
	w->held = 0;
}

static bool do_pin(struct worker *w, struct pinmm_proc *p)
{
	int n = 1 + (int)stress_below(&w->rng, MAX_PINS);
	unsigned long a = region(F_PIN) +
			  stress_below(&w->rng, REGION_PAGES - (unsigned long)n + 1) * PAGE_SIZE;
	long got;

	(void)p;
	drop_pins(w);
	op_begin(w);
	got = pin_user_pages_fast(a, n, FOLL_WRITE | FOLL_LONGTERM, w->pages);
	if (got > 0)
		w->held = got;
	return judge(w, full(got, n), "pin_user_pages_fast(LONGTERM)");
}

static bool do_vma(struct worker *w, struct pinmm_proc *p)
{
	unsigned long n = 1 + stress_below(&w->rng, 16);
	unsigned long a = region(F_VMA) + stress_below(&w->rng, REGION_PAGES - n + 1) * PAGE_SIZE;
	long ret;

	op_begin(w);
	switch (stress_below(&w->rng, 5)) {
	case 0:
		ret = pinmm_munmap(p, a, n * PAGE_SIZE);
		if (!judge(w, ret, "munmap"))
			return false;
		op_begin(w);
		ret = pinmm_mmap(p, a, n * PAGE_SIZE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		return judge(w, ret == (long)a || ret < 0 ? ret : -EPROTO, "mmap");
	case 1:
		ret = pinmm_mprotect(p, a, n * PAGE_SIZE, PROT_READ);
		if (!judge(w, ret, "mprotect(READ)"))
			return false;
		op_begin(w);
		return judge(w, pinmm_mprotect(p, a, n * PAGE_SIZE, PROT_READ | PROT_WRITE),
			     "mprotect(RW)");
	case 2:
		return judge(w, pinmm_madvise(p, a, n * PAGE_SIZE, MADV_POPULATE_WRITE),
			     "MADV_POPULATE_WRITE");
	case 3:
		return judge(w, pinmm_madvise(p, a, n * PAGE_SIZE, MADV_DONTNEED),
			     "MADV_DONTNEED");
	default:
		ret = pinmm_mmap(p, 0, n * PAGE_SIZE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		return judge(w, ret, "mmap(POPULATE)");
	}
}

static bool do_fork(struct worker *w, struct pinmm_proc *p)
{
	struct pinmm_proc *child = NULL;
	unsigned long a = region(F_FORK) + stress_below(&w->rng, REGION_PAGES) * PAGE_SIZE;
	uint64_t v = stress_rand(&w->rng);
	int err;

	op_begin(w);
	err = pinmm_fork(p, &child);
	if (err == -ENOMEM)
		return true;
	if (!judge(w, err, "fork"))
		return false;
	/* The child is a process of its own: the parent's exit is no concern. */
	stress_check(pinmm_store(child, a, &v, sizeof(v)) == sizeof(v), "child store");
	stress_check(pinmm_exit(child) == 0, "child exit");
	return true;
}

static bool do_file(struct worker *w, struct pinmm_proc *p)
{
	char buf[64] = "exit race", back[64];
	long fd, a;

	op_begin(w);
	fd = pinmm_memfd_create(p, "exit_race", 0);
	if (!judge(w, fd, "memfd_create"))
		return false;
	op_begin(w);
	if (!judge(w, pinmm_ftruncate(p, (int)fd, 2 * PAGE_SIZE), "ftruncate"))
		return false;
	op_begin(w);
	if (!judge(w, full(pinmm_pwrite(p, (int)fd, buf, sizeof(buf), 100), sizeof(buf)),
		   "pwrite"))
		return false;
	op_begin(w);
	if (!judge(w, full(pinmm_pread(p, (int)fd, back, sizeof(back), 100), sizeof(back)),
		   "pread"))
		return false;
	stress_check(!memcmp(buf, back, sizeof(buf)), "pread: other bytes");
	op_begin(w);
	a = pinmm_mmap(p, 0, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
	if (!judge(w, a, "mmap(memfd)"))
		return false;
	op_begin(w);
	if (!judge(w, full(pinmm_store(p, (unsigned long)a + PAGE_SIZE, buf, 8), 8),
		   "store(memfd)"))
		return false;
	op_begin(w);
	if (!judge(w, pinmm_munmap(p, (unsigned long)a, 2 * PAGE_SIZE), "munmap(memfd)"))
		return false;
	op_begin(w);
	return judge(w, pinmm_close(p, (int)fd), "close");
}

static bool do_info(struct worker *w, struct pinmm_proc *p)
{
	unsigned long a = region(F_INFO) + stress_below(&w->rng, REGION_PAGES) * PAGE_SIZE;
	struct pinmm_page_info info;
	long ret;

	op_begin(w);
	switch (stress_below(&w->rng, 4)) {
	case 0:
		ret = pinmm_page_info(p, a, &info);
		return judge(w, ret, "page_info");
	case 1:
		return judge(w, pinmm_proc_pinned_vm(p), "pinned_vm");
	case 2:
		return judge(w, full(pinmm_store(p, a, &a, sizeof(a)), sizeof(a)), "store");
	default:
		ret = pinmm_migrate_page(p, a, NULL);
		/* Not populated, pinned or busy, no room: all fine here. */
		if (ret == -EFAULT || ret == -EAGAIN || ret == -ENOMEM)
			ret = 0;
		return judge(w, ret, "migrate_page");
	}
}

static bool (*const family_op[NR_FAMILIES])(struct worker *, struct pinmm_proc *) = {
	do_fault, do_gup_slow, do_gup_fast, do_pin, do_vma, do_fork, do_file, do_info,
};

static void *worker_thread(void *arg)
{
	struct worker *w = arg;
	struct exit_race *r = w->r;

	for (;;) {
		struct pinmm_proc *p;

		pthread_barrier_wait(&r->round_start);
		p = atomic_load(&r->p);
		if (!p)
			break;
		pinmm_set_current(p);
		while (family_op[w->fam](w, p)) {
			if (stress_now() > r->round_deadline) {
				stress_violation("%s: still working %.0f s into the round",
						 family_name[w->fam], ROUND_TIMEOUT_S);
				break;
			}
		}
		drop_pins(w);		/* after the exit: the pages outlived it */
		pinmm_set_current(NULL);
		pthread_barrier_wait(&r->round_end);
	}
	return NULL;
}

static struct pinmm_proc *round_proc(struct exit_race *r)
{
	struct pinmm_proc *p = NULL;

	assert_int_equal(pinmm_proc_create(r->m, &p), 0);
	for (int f = 0; f < NR_FAMILIES; f++)
		assert_int_equal(pinmm_mmap(p, region(f), REGION_SIZE, PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
				 (long)region(f));
	return p;
}

static void test_exit_race(void **state)
{
	struct exit_race *r = calloc(1, sizeof(*r));
	struct worker w[NR_FAMILIES];
	pthread_t tids[NR_FAMILIES];
	struct stress_rng rng;
	char seedbuf[32];
	long acquired, released, outlived = 0;
	double t0;

	(void)state;
	assert_non_null(r);
	r->seed = stress_seed("exit_race");
	stress_rng_init(&rng, r->seed, NR_FAMILIES);
	snprintf(seedbuf, sizeof(seedbuf), "seed=%llu", (unsigned long long)r->seed);
	r->m = test_boot("ram=512M", "debug=1", "quiet=1", seedbuf, NULL);
	stress_start_init(&r->st, 1);
	r->st.deadline = stress_now() + stress_seconds();
	pthread_barrier_init(&r->round_start, NULL, NR_FAMILIES + 1);
	pthread_barrier_init(&r->round_end, NULL, NR_FAMILIES + 1);
	for (int f = 0; f < NR_FAMILIES; f++) {
		w[f] = (struct worker){ .r = r, .fam = (enum family)f };
		stress_rng_init(&w[f].rng, r->seed, (unsigned)f);
		assert_int_equal(pthread_create(&tids[f], NULL, worker_thread, &w[f]), 0);
	}
	t0 = stress_now();
	while (!stress_should_stop(&r->st)) {
		struct pinmm_proc *p = round_proc(r);
		/* Exit after 0..2 ms: before, during and after the first calls. */
		double exit_at = stress_now() + (double)stress_below(&rng, 2000) * 1e-6;

		atomic_store(&r->exit_begun, false);
		atomic_store(&r->exit_done, false);
		r->round_deadline = stress_now() + ROUND_TIMEOUT_S;
		atomic_store(&r->p, p);
		pthread_barrier_wait(&r->round_start);
		while (stress_now() < exit_at)
			;
		atomic_store(&r->exit_begun, true);
		stress_check(pinmm_exit(p) == 0, "pinmm_exit");
		atomic_store(&r->exit_done, true);
		pthread_barrier_wait(&r->round_end);
		atomic_fetch_add(&r->rounds, 1);
	}
	atomic_store(&r->p, NULL);
	pthread_barrier_wait(&r->round_start);
	for (int f = 0; f < NR_FAMILIES; f++)
		pthread_join(tids[f], NULL);

	printf("# exit_race: %.1f s, %ld rounds\n", stress_now() - t0, r->rounds);
	for (int f = 0; f < NR_FAMILIES; f++) {
		printf("#   %-10s %8ld calls worked, met the exit in %5ld rounds, "
		       "%5ld calls outlived an exit\n", family_name[f], r->ok[f], r->met_exit[f],
		       r->outlived[f]);
		/* The races happened: each family worked and met the exit. */
		stress_check(r->ok[f] > 0, "%s: no call worked", family_name[f]);
		stress_check(r->met_exit[f] > 0, "%s: never met the exit", family_name[f]);
		outlived += r->outlived[f];
	}
	stress_check(outlived > 0, "no call was running across a pinmm_exit()");
	acquired = pinmm_vmstat(r->m, "nr_foll_pin_acquired");
	released = pinmm_vmstat(r->m, "nr_foll_pin_released");
	stress_check(acquired == released, "pins %ld != %ld", acquired, released);
	stress_check(pinmm_audit(r->m) == 0, "pinmm_audit()");
	printf("# exit_race: violations %ld\n", atomic_load(&stress_violations));
	stress_check(pinmm_shutdown(r->m) == 0, "pinmm_shutdown()");
	pthread_barrier_destroy(&r->round_start);
	pthread_barrier_destroy(&r->round_end);
	free(r);
	assert_int_equal(atomic_load(&stress_violations), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
