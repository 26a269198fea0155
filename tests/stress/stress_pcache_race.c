/* SPDX-License-Identifier: MIT */
/*
 * stress_pcache_race.c - the lockless page-cache lookup (filemap_get_folio(),
 * doc/MEMORY-ORDERING.md (r)) against migration of the page it looks up
 * and against the index's nodes being created and freed under it.
 *
 * File A (tmpfs, NR_PAGES pages, mapped MAP_SHARED) holds its page index
 * as a tag at the start of every page.  Lookup threads take references
 * with pinmm_find_get_page() (the lockless lookup) and read the tag
 * through them, or read it with pinmm_pread() (the same lookup inside
 * generic_file_read()); a migrator moves random pages of A between the
 * normal and movable zones, freezing each one's refcount.  File B is
 * truncated to nothing and written at a far offset again and again, so
 * that the index grows three levels and is freed (call_rcu) while lookup
 * threads walk it.
 *
 * Checked: every lookup of A finds its page and reads its tag (a reference
 * on a freed and reused frame would read something else); the races
 * happened (migrations succeeded and were refused, lookups looked again:
 * pgcache_lookup_retry, B's index freed under lookups); at the end
 * pinmm_audit() == 0 and pinmm_shutdown() == 0.  Runs under TSan with the
 * stress suite (the liburcu model of tsan_rcu_model.h covers the nodes'
 * call_rcu hand-off).
 *
 * Duration: PINMM_STRESS_SECONDS (default 5), longer (at most 60 s more)
 * until every event has happened; seed: PINMM_SEED.
 */
#include <fcntl.h>
#include <pinmm/linux.h>
#include "stress_common.h"

#define NR_LOOKUPS	2
#define NR_THREADS	(NR_LOOKUPS + 2)
#define NR_PAGES	16
#define PG		4096UL
#define B_FAR		(5000UL * PG)	/* offset 5000: a three-level index */

struct race {
	struct pinmm *m;
	struct pinmm_proc *p;
	int fd_a, fd_b;
	unsigned long addr;
	uint64_t seed;
	struct stress_start st;
	_Atomic long lookups, preads, b_lookups, b_found, b_cycles;
};

struct worker {
	struct race *r;
	unsigned idx;
	struct stress_rng rng;
};

static void lookup_a(struct race *r, struct worker *w)
{
	unsigned long i = stress_below(&w->rng, NR_PAGES);
	struct page *page;
	uint64_t tag = ~0ULL;
	char *kaddr;
	int err = pinmm_find_get_page(r->p, r->fd_a, i, &page);

	if (!stress_check(err == 0, "find_get_page(A, %lu): %d", i, err))
		return;
	kaddr = pinmm_kmap_local_page(page);
	memcpy(&tag, kaddr, sizeof(tag));
	pinmm_kunmap_local(kaddr);
	pinmm_put_page(page);
	stress_check(tag == i, "page %lu of A holds tag %#llx", i, (unsigned long long)tag);
	atomic_fetch_add(&r->lookups, 1);
}

static void pread_a(struct race *r, struct worker *w)
{
	unsigned long i = stress_below(&w->rng, NR_PAGES);
	uint64_t tag = ~0ULL;
	long n = pinmm_pread(r->p, r->fd_a, &tag, sizeof(tag), (long)(i * PG));

	stress_check(n == (long)sizeof(tag) && tag == i, "pread of page %lu of A: %ld, %#llx",
		     i, n, (unsigned long long)tag);
	atomic_fetch_add(&r->preads, 1);
}

/* B's only page comes and goes: found or not, and never a crash. */
static void lookup_b(struct race *r)
{
	struct page *page;
	int err = pinmm_find_get_page(r->p, r->fd_b, B_FAR / PG, &page);

	if (!stress_check(err == 0 || err == -ENOENT, "find_get_page(B): %d", err))
		return;
	atomic_fetch_add(&r->b_lookups, 1);
	if (!err) {
		atomic_fetch_add(&r->b_found, 1);
		pinmm_put_page(page);
	}
}

static void *lookup_thread(void *arg)
{
	struct worker *w = arg;
	struct race *r = w->r;

	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		switch (stress_below(&w->rng, 4)) {
		case 0:
			pread_a(r, w);
			break;
		case 1:
			lookup_b(r);
			break;
		default:
			lookup_a(r, w);
		}
	}
	return NULL;
}

static void *migrate_thread(void *arg)
{
	struct worker *w = arg;
	struct race *r = w->r;

	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		unsigned long i = stress_below(&w->rng, NR_PAGES);
		int ret = pinmm_migrate_page(r->p, r->addr + i * PG,
					     stress_below(&w->rng, 2) ? "movable" : "normal");

		stress_check(ret == 0 || ret == -EAGAIN || ret == -ENOMEM || ret == -EINVAL,
			     "migrate page %lu of A: %d", i, ret);
	}
	return NULL;
}

/* Truncate B to nothing (its index is freed), then write its far page. */
static void *truncate_thread(void *arg)
{
	struct worker *w = arg;
	struct race *r = w->r;
	uint64_t v = 1;

	pthread_barrier_wait(&r->st.barrier);
	while (!stress_should_stop(&r->st)) {
		stress_check(pinmm_ftruncate(r->p, r->fd_b, 0) == 0, "truncate B");
		stress_check(pinmm_pwrite(r->p, r->fd_b, &v, sizeof(v), (long)B_FAR) ==
			     (long)sizeof(v), "write B");
		atomic_fetch_add(&r->b_cycles, 1);
	}
	return NULL;
}

static void test_pcache_race(void **state)
{
	struct race *r = calloc(1, sizeof(*r));
	struct worker w[NR_THREADS];
	pthread_t tids[NR_THREADS];
	double secs = stress_seconds();
	char seedbuf[32];
	long a;

	(void)state;
	assert_non_null(r);
	r->seed = stress_seed("pcache_race");
	snprintf(seedbuf, sizeof(seedbuf), "seed=%llu", (unsigned long long)r->seed);
	r->m = test_boot("ram=128M", "zone.movable=32M", "debug=1", "quiet=1", seedbuf, NULL);
	r->p = test_proc(r->m);
	r->fd_a = pinmm_open(r->p, "/dev/shm/pcache_a", O_RDWR | O_CREAT, 0644);
	r->fd_b = pinmm_open(r->p, "/dev/shm/pcache_b", O_RDWR | O_CREAT, 0644);
	assert_true(r->fd_a >= 0 && r->fd_b >= 0);
	for (uint64_t i = 0; i < NR_PAGES; i++)
		assert_int_equal(pinmm_pwrite(r->p, r->fd_a, &i, sizeof(i), (long)(i * PG)),
				 (long)sizeof(i));
	a = pinmm_mmap(r->p, 0, NR_PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd_a, 0);
	assert_true(a > 0);
	r->addr = (unsigned long)a;
	for (unsigned long i = 0; i < NR_PAGES; i++)
		assert_int_equal(stress_load64(r->p, r->addr + i * PG), i);	/* mapped */

	stress_start_init(&r->st, NR_THREADS);
	r->st.deadline = stress_now() + secs + STRESS_EXTRA_SECONDS;
	for (unsigned i = 0; i < NR_THREADS; i++) {
		w[i].r = r;
		w[i].idx = i;
		stress_rng_init(&w[i].rng, r->seed, i);
		assert_int_equal(pthread_create(&tids[i], NULL,
						i < NR_LOOKUPS ? lookup_thread :
						i == NR_LOOKUPS ? migrate_thread : truncate_thread,
						&w[i]), 0);
	}
	{
		const struct stress_event ev[] = {
			{ "lookups of A", &r->lookups, NULL },
			{ "preads of A", &r->preads, NULL },
			{ "lookups of B that found its page", &r->b_found, NULL },
			{ "truncations of B", &r->b_cycles, NULL },
			{ "pgmigrate_success", NULL, r->m },
			{ "pgmigrate_fail", NULL, r->m },
			{ "pgcache_lookup_retry", NULL, r->m },
		};

		stress_run(&r->st, secs, tids, NR_THREADS, ev, ARRAY_SIZE(ev));
	}
	printf("# pcache_race: lookups %ld, preads %ld, B lookups %ld (found %ld), "
	       "B truncations %ld; pgmigrate_success %ld, pgmigrate_fail %ld, "
	       "pgcache_lookup_retry %ld\n", atomic_load(&r->lookups), atomic_load(&r->preads),
	       atomic_load(&r->b_lookups), atomic_load(&r->b_found), atomic_load(&r->b_cycles),
	       pinmm_vmstat(r->m, "pgmigrate_success"), pinmm_vmstat(r->m, "pgmigrate_fail"),
	       pinmm_vmstat(r->m, "pgcache_lookup_retry"));
	for (unsigned long i = 0; i < NR_PAGES; i++)
		stress_check(stress_load64(r->p, r->addr + i * PG) == i, "final tag of page %lu", i);
	stress_check(pinmm_audit(r->m) == 0, "pinmm_audit() after the race");
	pinmm_set_current(NULL);
	stress_check(pinmm_shutdown(r->m) == 0, "pinmm_shutdown()");
	printf("# pcache_race: violations %ld\n", atomic_load(&stress_violations));
	assert_int_equal(atomic_load(&stress_violations), 0);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pcache_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
