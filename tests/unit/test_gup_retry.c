/* SPDX-License-Identifier: MIT */
/*
 * Description: faults that wait for storage, per GUP entry point
 * (linux-gup-semantics.md §1.5, §4.4; doc/LOCKING.md "mmap_lock in the
 * fault path").  Every case starts from a pinfs file whose pages are not
 * in the page cache, so a fault has to read the image:
 *   - FOLL_NOWAIT does not wait: 0 pages, nothing read, mmap_lock kept;
 *   - forms that may drop the lock (a caller's @locked, the _unlocked
 *     forms, GUP-fast's fallback, the simulated MMU) release it for the
 *     read and fault the page again: two faults per page, *locked == 0;
 *   - forms that may not (get_user_pages, pin_user_pages, a NULL @locked)
 *     read with the lock held: one fault per page.
 *   - a fault on a cached folio someone else has locked waits for it
 *     without mmap_lock when it may, and not at all with FOLL_NOWAIT.
 * Public API, except the mmap_lock state check and taking a folio lock
 * ("fs.h").
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <sys/mman.h>

#include "gup_helpers.h"
#include <pinmm/pinfs.h>

#include "pagemap.h"

#define NPG 3

struct env {
	struct pinmm *m;
	struct pinmm_proc *p;
	struct mm_struct *mm;
	unsigned long addr;
	int fd;
	long faults, majors, reads;	/* counters when the case started */
};

static long pinfs_reads(struct pinmm *m)
{
	struct pinmm_pinfs_stat st;

	assert_int_equal(pinmm_pinfs_statfs(m, &st), 0);
	return st.events[PINMM_PINFS_READS];
}

/* Page i of the file is filled with 'A' + i. */
static uint8_t pattern(int i)
{
	return (uint8_t)('A' + i);
}

/*
 * Boot with a pinfs image, write NPG pages to /data/f, write them back and
 * drop them from the cache, map the file (@flags: MAP_SHARED/MAP_PRIVATE).
 */
static void env_init(struct env *e, void **state, int flags)
{
	struct test_imgdir *t = *state;
	char buf[PG], image[160];
	int fd;

	snprintf(image, sizeof(image), "pinfs.image=%s", t->img);
	e->m = test_boot("ram=256M", "debug=1", "quiet=1", image, "pinfs.size=8M", NULL);
	e->p = test_proc(e->m);
	e->mm = pinmm_proc_mm(e->p);
	fd = pinmm_open(e->p, "/data/f", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	for (int i = 0; i < NPG; i++) {
		memset(buf, pattern(i), sizeof(buf));
		assert_int_equal(pinmm_pwrite(e->p, fd, buf, PG, (long)(i * PG)), PG);
	}
	assert_true(pinmm_drop_caches(e->m) >= NPG);
	e->addr = (unsigned long)pinmm_mmap(e->p, 0, NPG * PG, PROT_READ | PROT_WRITE,
					     flags, fd, 0);
	assert_true((long)e->addr > 0);
	e->fd = fd;
	for (int i = 0; i < NPG; i++)
		assert_false(gh_info(e->p, e->addr + i * PG).present);
	e->faults = gh_vm(e->m, "pgfault");
	e->majors = gh_vm(e->m, "pgmajfault");
	e->reads = pinfs_reads(e->m);
}

static void env_done(struct env *e)
{
	assert_int_equal(pinmm_munmap(e->p, e->addr, NPG * PG), 0);
	assert_int_equal(pinmm_close(e->p, e->fd), 0);
	test_shutdown_clean(e->m);
}

/* Faults and image reads since the case started. */
static void expect_counts(struct env *e, long faults, long majors, long reads)
{
	assert_int_equal(gh_vm(e->m, "pgfault") - e->faults, faults);
	assert_int_equal(gh_vm(e->m, "pgmajfault") - e->majors, majors);
	assert_int_equal(pinfs_reads(e->m) - e->reads, reads);
}

/* Page @i is the file's and mapped at its address; drop the reference. */
static void check_page(struct env *e, struct page *page, int i, bool pinned)
{
	uint8_t *v = kmap_local_page(page);

	assert_int_equal(v[0], pattern(i));
	assert_int_equal(v[PG - 1], pattern(i));
	kunmap_local(v);
	assert_int_equal(page_to_pfn(page), gh_info(e->p, e->addr + i * PG).pfn);
	if (pinned)
		unpin_user_page(page);
	else
		put_page(page);
}

static void check_pages(struct env *e, struct page **pg, int n, bool pinned)
{
	for (int i = 0; i < n; i++)
		check_page(e, pg[i], i, pinned);
}

/* pg[0] from a get_user_pages form, pg[1..] from a pin_user_pages form. */
static void check_get_then_pins(struct env *e, struct page **pg)
{
	check_page(e, pg[0], 0, false);
	for (int i = 1; i < NPG; i++)
		check_page(e, pg[i], i, true);
}

static bool mmap_locked(struct env *e)
{
	return rwsem_is_locked(&e->mm->mmap_lock);
}

/* get_user_pages(FOLL_NOWAIT): Linux's answer, 0, without reading. */
static void test_nowait_get_user_pages(void **state)
{
	struct page *pg[NPG];
	struct env e;

	env_init(&e, state, MAP_SHARED);
	mmap_read_lock(e.mm);
	assert_int_equal(get_user_pages(e.addr, 1, FOLL_NOWAIT, pg), 0);
	assert_true(mmap_locked(&e));
	/* The fault ran and gave up: a major fault, no image read. */
	expect_counts(&e, 1, 1, 0);
	/* Without FOLL_NOWAIT the same call reads, with the lock held. */
	assert_int_equal(get_user_pages(e.addr, 1, 0, pg), 1);
	assert_true(mmap_locked(&e));
	mmap_read_unlock(e.mm);
	expect_counts(&e, 2, 2, 1);
	check_pages(&e, pg, 1, false);
	/* Cached and mapped now: FOLL_NOWAIT has nothing to wait for. */
	mmap_read_lock(e.mm);
	assert_int_equal(get_user_pages(e.addr, 1, FOLL_NOWAIT, pg), 1);
	mmap_read_unlock(e.mm);
	check_pages(&e, pg, 1, false);
	env_done(&e);
}

/* FOLL_NOWAIT with a @locked pointer: 0, and the lock stays held. */
static void test_nowait_remote_locked(void **state)
{
	struct page *pg[NPG];
	struct env e;
	int locked = 1;

	env_init(&e, state, MAP_SHARED);
	mmap_read_lock(e.mm);
	assert_int_equal(get_user_pages_remote(e.mm, e.addr, NPG, FOLL_NOWAIT, pg, &locked), 0);
	assert_int_equal(locked, 1);
	assert_int_equal(pin_user_pages_remote(e.mm, e.addr, NPG, FOLL_NOWAIT, pg, &locked), 0);
	assert_int_equal(locked, 1);
	assert_true(mmap_locked(&e));
	mmap_read_unlock(e.mm);
	expect_counts(&e, 2, 2, 0);
	env_done(&e);
}

/* get/pin_user_pages_remote with @locked: the lock is dropped for the read. */
static void remote_locked(void **state, bool pin)
{
	struct page *pg[NPG];
	struct env e;
	int locked = 1;
	long r;

	env_init(&e, state, MAP_SHARED);
	mmap_read_lock(e.mm);
	if (pin)
		r = pin_user_pages_remote(e.mm, e.addr, NPG, FOLL_WRITE, pg, &locked);
	else
		r = get_user_pages_remote(e.mm, e.addr, NPG, FOLL_WRITE, pg, &locked);
	assert_int_equal(r, NPG);
	/* Dropped and not retaken for us: the caller must not unlock. */
	assert_int_equal(locked, 0);
	assert_false(mmap_locked(&e));
	/* Each page: the first fault reads and retries, the second maps. */
	expect_counts(&e, 2 * NPG, NPG, NPG);
	check_pages(&e, pg, NPG, pin);
	env_done(&e);
}

static void test_get_user_pages_remote_locked(void **state)
{
	remote_locked(state, false);
}

static void test_pin_user_pages_remote_locked(void **state)
{
	remote_locked(state, true);
}

/* Without @locked, remote GUP may not drop the lock: one fault per page. */
static void test_remote_null_locked(void **state)
{
	struct page *pg[NPG];
	struct env e;

	env_init(&e, state, MAP_SHARED);
	mmap_read_lock(e.mm);
	assert_int_equal(pin_user_pages_remote(e.mm, e.addr, NPG, 0, pg, NULL), NPG);
	assert_true(mmap_locked(&e));
	mmap_read_unlock(e.mm);
	expect_counts(&e, NPG, NPG, NPG);
	check_pages(&e, pg, NPG, true);
	env_done(&e);
}

/* The plain forms run under the caller's lock and keep it. */
static void test_locked_forms(void **state)
{
	struct page *pg[NPG];
	struct env e;

	env_init(&e, state, MAP_PRIVATE);
	mmap_read_lock(e.mm);
	assert_int_equal(get_user_pages(e.addr, 1, 0, pg), 1);
	assert_int_equal(pin_user_pages(e.addr + PG, 2, 0, pg + 1), 2);
	assert_true(mmap_locked(&e));
	mmap_read_unlock(e.mm);
	expect_counts(&e, NPG, NPG, NPG);
	check_get_then_pins(&e, pg);
	env_done(&e);
}

/* The _unlocked forms take the lock, drop it for each read, finish. */
static void test_unlocked_forms(void **state)
{
	struct page *pg[NPG];
	struct env e;

	env_init(&e, state, MAP_SHARED);
	assert_int_equal(get_user_pages_unlocked(e.addr, 1, pg, 0), 1);
	expect_counts(&e, 2, 1, 1);
	assert_int_equal(pin_user_pages_unlocked(e.addr + PG, 2, pg + 1, FOLL_WRITE), 2);
	expect_counts(&e, 2 * NPG, NPG, NPG);
	assert_false(mmap_locked(&e));
	check_get_then_pins(&e, pg);
	env_done(&e);
}

/* GUP-fast finds nothing and falls back to the slow path, which may retry. */
static void test_fast_fallback(void **state)
{
	struct page *pg[NPG];
	struct env e;

	env_init(&e, state, MAP_SHARED);
	/* The _fast_only form never faults: nothing, and nothing read. */
	assert_int_equal(get_user_pages_fast_only(e.addr, NPG, 0, pg), 0);
	expect_counts(&e, 0, 0, 0);
	assert_int_equal(get_user_pages_fast(e.addr, NPG, 0, pg), NPG);
	assert_false(mmap_locked(&e));
	expect_counts(&e, 2 * NPG, NPG, NPG);
	check_pages(&e, pg, NPG, false);
	/* Cached and mapped: GUP-fast alone. */
	assert_int_equal(pin_user_pages_fast(e.addr, NPG, 0, pg), NPG);
	expect_counts(&e, 2 * NPG, NPG, NPG);
	check_pages(&e, pg, NPG, true);
	env_done(&e);
}

/* GUP-fast's fallback with FOLL_LONGTERM (migration loop) after a retry. */
static void test_fast_longterm_fallback(void **state)
{
	struct page *pg[NPG];
	struct env e;

	env_init(&e, state, MAP_PRIVATE);
	assert_int_equal(pin_user_pages_fast(e.addr, NPG, FOLL_LONGTERM, pg), NPG);
	assert_false(mmap_locked(&e));
	/* Per page: read (retry), map, then the unshare fault of §4.5. */
	expect_counts(&e, 3 * NPG, NPG, NPG);
	check_pages(&e, pg, NPG, true);
	env_done(&e);
}

/* The simulated MMU: a load and a store complete after a retry each. */
static void test_mmu_access(void **state)
{
	uint8_t buf[2 * PG];
	struct env e;

	env_init(&e, state, MAP_SHARED);
	assert_int_equal(pinmm_load(e.p, e.addr + 10, buf, 2 * PG - 10), 2 * PG - 10);
	assert_int_equal(buf[0], pattern(0));
	assert_int_equal(buf[2 * PG - 11], pattern(1));
	/* Per page: the first fault reads and retries, the second maps. */
	expect_counts(&e, 4, 2, 2);
	/* A write fault in a shared mapping (->page_mkwrite after the retry). */
	memset(buf, 'z', sizeof(buf));
	assert_int_equal(pinmm_store(e.p, e.addr + 2 * PG, buf, 1), 1);
	expect_counts(&e, 6, 3, 3);
	assert_true(gh_info(e.p, e.addr + 2 * PG).writable);
	assert_int_equal(test_load8(e.p, e.addr + 2 * PG + 1), pattern(2));
	assert_int_equal(test_load8(e.p, e.addr + 2 * PG), 'z');
	assert_false(mmap_locked(&e));
	env_done(&e);
}

/* ------------------------------------------------------------------ */
/* A cached folio whose lock someone else holds                         */

struct locker {
	struct env *e;
	unsigned int flags;
	bool unlocked_form;
	bool load;		/* pinmm_load() instead of GUP */
	long ret;
	atomic_bool done;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Poll @cond for up to 5 s. */
#define WAIT_UNTIL(cond) ({						\
	double __end = now_s() + 5.0;					\
	bool __ok;							\
	while (!(__ok = (cond)) && now_s() < __end)			\
		sched_yield();						\
	__ok;								\
})

static void *gup_thread(void *arg)
{
	struct locker *l = arg;
	struct page *page = NULL;

	pinmm_set_current(l->e->p);
	if (l->load) {
		char c;

		l->ret = pinmm_load(l->e->p, l->e->addr, &c, 1);
	} else if (l->unlocked_form) {
		l->ret = get_user_pages_unlocked(l->e->addr, 1, &page, l->flags);
	} else {
		mmap_read_lock(l->e->mm);
		l->ret = get_user_pages(l->e->addr, 1, l->flags, &page);
		mmap_read_unlock(l->e->mm);
	}
	if (page && l->ret == 1)
		put_page(page);
	pinmm_set_current(NULL);
	atomic_store(&l->done, true);
	return NULL;
}

/* Read page 0 into the cache (not mapped) and lock its folio. */
static struct folio *lock_cached_folio(struct env *e)
{
	struct file *file = fget(e->p, e->fd);
	struct folio *folio;
	char c;

	assert_non_null(file);
	assert_int_equal(pinmm_pread(e->p, e->fd, &c, 1, 0), 1);
	folio = filemap_get_folio(file->f_mapping, 0);
	assert_non_null(folio);
	fput(file);
	folio_lock(folio);
	return folio;
}

/*
 * The _unlocked form waits for the folio lock with mmap_lock released: a
 * writer could get in meanwhile.
 */
static void test_locked_folio_drops_mmap_lock(void **state)
{
	struct locker l = { .unlocked_form = true };
	struct folio *folio;
	pthread_t th;
	struct env e;
	bool released;

	env_init(&e, state, MAP_SHARED);
	l.e = &e;
	folio = lock_cached_folio(&e);
	e.faults = gh_vm(e.m, "pgfault");
	assert_int_equal(pthread_create(&th, NULL, gup_thread, &l), 0);
	/* The fault began; the lock must come free while it waits. */
	assert_true(WAIT_UNTIL(gh_vm(e.m, "pgfault") > e.faults));
	released = WAIT_UNTIL(!rwsem_is_locked(&e.mm->mmap_lock));
	assert_false(atomic_load(&l.done));
	folio_unlock(folio);
	folio_put(folio);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(released);
	assert_int_equal(l.ret, 1);
	/* The waiting attempt and the one with FAULT_FLAG_TRIED. */
	assert_int_equal(gh_vm(e.m, "pgfault") - e.faults, 2);
	env_done(&e);
}

/* FOLL_NOWAIT does not wait for the folio lock at all. */
static void test_locked_folio_nowait(void **state)
{
	struct locker l = { .flags = FOLL_NOWAIT };
	struct folio *folio;
	pthread_t th;
	struct env e;
	bool returned;

	env_init(&e, state, MAP_SHARED);
	l.e = &e;
	folio = lock_cached_folio(&e);
	assert_int_equal(pthread_create(&th, NULL, gup_thread, &l), 0);
	returned = WAIT_UNTIL(atomic_load(&l.done));
	folio_unlock(folio);	/* lets a waiting GUP (the bug) finish */
	folio_put(folio);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(returned);
	assert_int_equal(l.ret, 0);
	assert_false(gh_info(e.p, e.addr).present);
	env_done(&e);
}

/*
 * The VMA goes away while the fault waits without mmap_lock: the retry
 * looks it up again and fails cleanly (-EFAULT), for GUP and the MMU.
 */
static void vma_gone_during_wait(void **state, bool load)
{
	struct locker l = { .unlocked_form = true, .load = load };
	struct folio *folio;
	pthread_t th;
	struct env e;
	bool released;
	long faults;

	env_init(&e, state, MAP_SHARED);
	l.e = &e;
	folio = lock_cached_folio(&e);
	faults = gh_vm(e.m, "pgfault");
	assert_int_equal(pthread_create(&th, NULL, gup_thread, &l), 0);
	assert_true(WAIT_UNTIL(gh_vm(e.m, "pgfault") > faults));
	released = WAIT_UNTIL(!rwsem_is_locked(&e.mm->mmap_lock));
	if (released)
		assert_int_equal(pinmm_munmap(e.p, e.addr, NPG * PG), 0);
	assert_false(atomic_load(&l.done));
	folio_unlock(folio);
	folio_put(folio);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(released);
	assert_int_equal(l.ret, -EFAULT);
	/* env_done()'s munmap of nothing is fine too. */
	env_done(&e);
}

static void test_vma_gone_gup(void **state)
{
	vma_gone_during_wait(state, false);
}

static void test_vma_gone_load(void **state)
{
	vma_gone_during_wait(state, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nowait_get_user_pages,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_nowait_remote_locked,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_get_user_pages_remote_locked,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_pin_user_pages_remote_locked,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_remote_null_locked,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_locked_forms,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_unlocked_forms,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_fast_fallback,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_fast_longterm_fallback,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_mmu_access,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_locked_folio_drops_mmap_lock,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_locked_folio_nowait,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_vma_gone_gup,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_vma_gone_load,
						test_imgdir_setup, test_imgdir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
