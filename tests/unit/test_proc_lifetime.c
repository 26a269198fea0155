/* SPDX-License-Identifier: MIT */
/*
 * test_proc_lifetime.c - the lifetime of a process and of its mm.
 *
 * A struct pinmm_proc is freed at its last reference: the process's own
 * (dropped by pinmm_exit()), the handle (pinmm_proc_put()) and any taken
 * with pinmm_proc_get().  The mm_struct outlives it while a remote user
 * holds pinmm_mmget().  Under ASan a use of a freed process or mm is a
 * failure of these tests; in every build, the host memory of a fork+exit
 * loop that releases its handles stays bounded, and a fork+exit loop on a
 * 64 MiB machine never fails for frames that only wait for RCU callbacks.
 */
#include <pinmm/linux.h>
#include <malloc.h>

#include "helpers.h"
#include "machine.h"
#include "rcu.h"

#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#define PG 4096UL

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* Resident host memory of this program, in bytes (/proc/self/statm). */
/*
 * Host heap in use (malloc's arenas and mmapped chunks).  Not the resident
 * set: that also counts the frames of the simulated RAM a run has touched,
 * which grows with the order the page allocator hands frames out in (the
 * per-CPU lists rotate them), not with leaked host objects.
 */
static long host_heap(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (long)(mi.uordblks + mi.hblkhd);
}

/* A reference keeps an exited process's handle answering -ESRCH. */
static void test_get_keeps_handle(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	struct mm_struct *mm;
	char buf[8];

	(void)state;
	assert_ptr_equal(pinmm_proc_get(p), p);
	pinmm_proc_put(p);		/* the handle: the get keeps it */
	assert_int_equal(pinmm_exit(p), 0);
	assert_int_equal(pinmm_exit(p), -ESRCH);
	assert_int_equal(pinmm_load(p, 0x10000, buf, 1), -ESRCH);
	assert_int_equal(pinmm_mmget(p, &mm), -ESRCH);
	assert_int_equal(pinmm_mmget(NULL, &mm), -EINVAL);
	assert_int_equal(pinmm_mmget(p, NULL), -EINVAL);
	assert_null(pinmm_proc_mm(p));
	pinmm_proc_put(p);		/* the last reference frees it */
	pinmm_proc_put(NULL);
	pinmm_mmput(NULL);
	test_shutdown_clean(m);
}

/* A handle released before the exit: the process lives until pinmm_exit(). */
static void test_put_before_exit(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, PG);

	(void)state;
	assert_ptr_equal(pinmm_proc_get(p), p);
	pinmm_proc_put(p);
	test_store8(p, a, 7);
	assert_int_equal(test_load8(p, a), 7);
	assert_int_equal(pinmm_exit(p), 0);	/* frees it: the get was the handle */
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 0);
	test_shutdown_clean(m);
}

/*
 * A remote user's pinmm_mmget() keeps the address space after the process
 * exited and was freed: pin_user_pages_remote() works, sees the data, and
 * the last pinmm_mmput() tears the mm down.
 */
static void test_mmget_outlives_proc(void **state)
{
	struct pinmm *m = test_boot("ram=64M", "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 2 * PG);
	struct mm_struct *mm;
	struct page *pages[2];
	long n;

	(void)state;
	test_store8(p, a, 0x5a);
	test_store8(p, a + PG, 0xa5);
	assert_int_equal(pinmm_mmget(p, &mm), 0);
	assert_int_equal(pinmm_exit(p), 0);
	pinmm_proc_put(p);			/* the process is gone */
	assert_int_equal(pinmm_audit(m), 0);	/* its mm is still audited */
	mmap_read_lock(mm);
	n = pin_user_pages_remote(mm, a, 2, FOLL_WRITE, pages, NULL);
	mmap_read_unlock(mm);
	assert_int_equal(n, 2);
	assert_int_equal(((unsigned char *)kmap_local_page(pages[0]))[0], 0x5a);
	assert_int_equal(((unsigned char *)kmap_local_page(pages[1]))[0], 0xa5);
	pinmm_mmput(mm);			/* the last user: torn down */
	assert_true(folio_maybe_dma_pinned(page_folio(pages[0])));
	unpin_user_pages(pages, 2);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 0);
	test_shutdown_clean(m);
}

/*
 * Remote GUP on the mm of an exited process, without a user reference (the
 * handle keeps the structure): -ESRCH, not a walk of freed page tables.
 */
static void test_remote_gup_after_exit(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, PG);
	struct mm_struct *mm = pinmm_proc_mm(p);
	struct page *page;
	long n;

	(void)state;
	test_store8(p, a, 1);
	assert_int_equal(pinmm_exit(p), 0);
	mmap_read_lock(mm);
	n = pin_user_pages_remote(mm, a, 1, FOLL_WRITE, &page, NULL);
	assert_int_equal(n, -ESRCH);
	n = get_user_pages_remote(mm, a, 1, 0, &page, NULL);
	assert_int_equal(n, -ESRCH);
	mmap_read_unlock(mm);
	pinmm_proc_put(p);
	test_shutdown_clean(m);
}

/*
 * Host memory of a fork+exit loop that releases each child's handle stays
 * bounded.  Before processes were freed at their last reference, 100,000
 * pairs grew the resident set by about 24 MB (400,000 by 95 MB); the heap
 * in use is what such a leak grows.
 */
#define LOOP_PAIRS	100000
#define LOOP_BOUND	(4L << 20)

static void test_fork_exit_loop_bounded(void **state)
{
	/*
	 * 64 MiB: an exited child's page tables go back through call_rcu(),
	 * and under load liburcu's callback thread can lag thousands of forks
	 * behind.  A fork must then wait for those frees (the allocator's
	 * slow path, page_alloc.c) instead of failing with -ENOMEM, as it did
	 * before with this machine size.
	 */
	struct pinmm *m = test_boot("ram=64M", "debug=1", "quiet=1", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, PG);
	long before, after;

	(void)state;
	test_store8(p, a, 1);
	/* Warm up the allocators (host malloc arenas, frame free lists). */
	for (int i = 0; i < 1000; i++) {
		struct pinmm_proc *c;

		assert_int_equal(pinmm_fork(p, &c), 0);
		assert_int_equal(pinmm_exit(c), 0);
		pinmm_proc_put(c);
	}
	before = host_heap();
	for (int i = 0; i < LOOP_PAIRS; i++) {
		struct pinmm_proc *c;

		assert_int_equal(pinmm_fork(p, &c), 0);
		assert_int_equal(pinmm_exit(c), 0);
		pinmm_proc_put(c);
	}
	after = host_heap();
	print_message("# %d fork+exit pairs: host heap %ld KiB -> %ld KiB\n", LOOP_PAIRS,
		      before >> 10, after >> 10);
	/* ASan's quarantine holds freed memory back: the bound is for real mallocs. */
	if (!SANITIZED && after - before > LOOP_BOUND)
		fail_msg("host heap grew by %ld KiB over %d fork+exit pairs (bound %ld KiB)",
			 (after - before) >> 10, LOOP_PAIRS, LOOP_BOUND >> 10);
	test_shutdown_clean(m);
}

/*
 * A reader that holds off RCU grace periods, as a slow reader (or a
 * lagging callback thread) does: page tables of the children that exit
 * meanwhile cannot be freed until it leaves.  It leaves when an
 * allocation has started waiting for those frees (the waiter needs it
 * gone), or after 30 s.
 */
static atomic_int reader_in;

static void *slow_reader(void *arg)
{
	struct pinmm *m = arg;
	double t0 = test_now_ms();

	pinmm_thread_enter();
	rcu_read_lock();
	atomic_store(&reader_in, 1);
	while (!atomic_long_read(&m->rcu_free_waits) && test_now_ms() - t0 < 30000)
		usleep(1000);
	atomic_store(&reader_in, 2);
	rcu_read_unlock();
	return NULL;
}

/*
 * fork+exit on 64 MiB while grace periods are held off: each child maps
 * 32 PTE tables (one page in each of 32 PMD ranges), freed by call_rcu()
 * at its exit, so after some 460 pairs every frame waits for the reader.
 * Before the allocator waited for pending RCU frees, that fork failed with
 * -ENOMEM; now it waits, the reader leaves, and the fork succeeds.
 */
#define SPREAD		32
#define RCU_PAIRS	20000

static void test_fork_waits_for_rcu_frees(void **state)
{
	struct pinmm *m = test_boot("ram=64M", "quiet=1", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, SPREAD * (2UL << 20));
	pthread_t tid;
	void *ret;
	int i;

	(void)state;
	for (i = 0; i < SPREAD; i++)
		test_store8(p, a + i * (2UL << 20), (char)i);
	assert_int_equal(pthread_create(&tid, NULL, slow_reader, m), 0);
	for (i = 0; i < 5000 && !atomic_load(&reader_in); i++)
		usleep(1000);
	assert_int_equal(atomic_load(&reader_in), 1);
	for (i = 0; i < RCU_PAIRS && atomic_load(&reader_in) == 1; i++) {
		struct pinmm_proc *c;
		int err = pinmm_fork(p, &c);

		if (err)
			fail_msg("fork %d: %s (%ld page-table frames waiting for RCU)", i,
				 pinmm_strerror(err), atomic_long_read(&m->nr_rcu_free_pending));
		assert_int_equal(pinmm_exit(c), 0);
		pinmm_proc_put(c);
	}
	if (test_timedjoin(tid, 60000, &ret))
		fail_msg("slow reader still running after 60 s");
	/* The race happened: some allocation found only RCU-pending frames. */
	print_message("# %d fork+exit pairs, %ld allocations waited for RCU frees\n", i,
		      atomic_long_read(&m->rcu_free_waits));
	assert_true(atomic_long_read(&m->rcu_free_waits) > 0);
	for (i = 0; i < SPREAD; i++)
		assert_int_equal(test_load8(p, a + i * (2UL << 20)), i);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_keeps_handle),
		cmocka_unit_test(test_put_before_exit),
		cmocka_unit_test(test_mmget_outlives_proc),
		cmocka_unit_test(test_remote_gup_after_exit),
		cmocka_unit_test(test_fork_exit_loop_bounded),
		cmocka_unit_test(test_fork_waits_for_rcu_frees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
