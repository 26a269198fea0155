/* SPDX-License-Identifier: MIT */
/*
 * Description: MMU interval notifiers (doc/GUP-SEMANTICS.md §7.2): the per-mm sequence
 * (even when idle, odd while an invalidation of some subscription runs),
 * read_begin/read_retry collisions, inserts and removes deferred while
 * an invalidation runs in another thread, insert's errors, and one
 * invalidation with the right event and range for every path that changes
 * a mapping: munmap, mprotect, MADV_DONTNEED, fork COW, write-fault COW,
 * unshare, migration, THP split, truncate and punch of a memfd mapping,
 * and exit (RELEASE); none for changes outside the subscription.
 */
#include "helpers.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <pinmm/linux.h>
#include <pinmm/mmu_notifier.h>

#define PG 4096UL

#define MAX_LOG 64

/* A recording "driver": logs every invalidation under its user lock. */
struct rec {
	struct mmu_interval_notifier sub;
	pthread_mutex_t lock;
	int n;
	struct {
		enum mmu_notifier_event event;
		unsigned long start, end, seq;
		bool ro;
	} log[MAX_LOG];
	/* blocking mode: the callback waits for @release */
	volatile int entered;
	volatile int release;
	bool block;
};

static bool rec_invalidate(struct mmu_interval_notifier *sub,
			   const struct mmu_notifier_range *range, unsigned long cur_seq)
{
	struct rec *r = (struct rec *)sub;

	pthread_mutex_lock(&r->lock);
	mmu_interval_set_seq(sub, cur_seq);
	if (r->n < MAX_LOG) {
		r->log[r->n].event = range->event;
		r->log[r->n].start = range->start;
		r->log[r->n].end = range->end;
		r->log[r->n].seq = cur_seq;
		r->log[r->n].ro = mmu_notifier_range_update_to_read_only(range);
	}
	r->n++;
	pthread_mutex_unlock(&r->lock);
	if (r->block) {
		double end = test_now_ms() + TEST_WAIT_MS;

		__atomic_store_n(&r->entered, 1, __ATOMIC_SEQ_CST);
		/* On a deadline the callback gives up; the test then fails. */
		while (!__atomic_load_n(&r->release, __ATOMIC_SEQ_CST) &&
		       !test_expired(end, "the test to release a blocked callback"))
			usleep(1000);
	}
	return true;
}

static const struct mmu_interval_notifier_ops rec_ops = { .invalidate = rec_invalidate };

static void rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
}

static int rec_count(struct rec *r, enum mmu_notifier_event ev)
{
	int c = 0;

	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < r->n && i < MAX_LOG; i++)
		c += r->log[i].event == ev;
	pthread_mutex_unlock(&r->lock);
	return c;
}

/* Is there a logged event @ev with exactly [start, end)? */
static bool rec_has(struct rec *r, enum mmu_notifier_event ev, unsigned long start,
		    unsigned long end)
{
	bool found = false;

	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < r->n && i < MAX_LOG; i++)
		if (r->log[i].event == ev && r->log[i].start == start && r->log[i].end == end)
			found = true;
	pthread_mutex_unlock(&r->lock);
	return found;
}

static void rec_reset(struct rec *r)
{
	pthread_mutex_lock(&r->lock);
	r->n = 0;
	pthread_mutex_unlock(&r->lock);
}

static void test_seq_basic(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	struct mm_struct *mm = pinmm_proc_mm(p);
	unsigned long a = test_mmap_anon(p, 16 * PG), seq, seq2;
	struct rec r, other;

	(void)state;
	rec_init(&r);
	rec_init(&other);
	assert_int_equal(mmu_interval_notifier_insert(&r.sub, mm, a, 8 * PG, &rec_ops), 0);
	/* Idle: the subscription's seq is the (even) mm seq - 1, so odd. */
	seq = mmu_interval_read_begin(&r.sub);
	assert_true(seq & 1);
	assert_false(mmu_interval_read_retry(&r.sub, seq));
	assert_false(mmu_interval_check_retry(&r.sub, seq));

	/* Outside the subscription: no callback, the seq stays. */
	test_store8(p, a + 12 * PG, 1);
	assert_int_equal(pinmm_munmap(p, a + 12 * PG, 4 * PG), 0);
	assert_int_equal(r.n, 0);
	assert_false(mmu_interval_read_retry(&r.sub, seq));

	/* Inside: UNMAP with the odd seq of the invalidation. */
	test_store8(p, a, 1);
	assert_int_equal(pinmm_munmap(p, a, 2 * PG), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.log[0].event, MMU_NOTIFY_UNMAP);
	assert_int_equal(r.log[0].start, a);
	assert_int_equal(r.log[0].end, a + 2 * PG);
	assert_true(r.log[0].seq & 1);
	assert_int_not_equal(r.log[0].seq, seq);
	assert_true(mmu_interval_read_retry(&r.sub, seq));
	assert_true(mmu_interval_check_retry(&r.sub, seq));
	/* Idle again: read_begin does not sleep and returns the new seq. */
	seq2 = mmu_interval_read_begin(&r.sub);
	assert_int_equal(seq2, r.log[0].seq);
	assert_false(mmu_interval_read_retry(&r.sub, seq2));

	/* Errors. */
	assert_int_equal(mmu_interval_notifier_insert(&other.sub, mm, a, 0, &rec_ops), -EOVERFLOW);
	assert_int_equal(mmu_interval_notifier_insert(&other.sub, mm, ULONG_MAX - PG + 1, 2 * PG,
						      &rec_ops), -EOVERFLOW);
	/* The last byte of the address space is fine. */
	assert_int_equal(mmu_interval_notifier_insert(&other.sub, mm, ULONG_MAX - PG + 1, PG,
						      &rec_ops), 0);
	mmu_interval_notifier_remove(&other.sub);
	mmu_interval_notifier_remove(&r.sub);
	assert_int_equal(pinmm_mmu_notifier_events(m, MMU_NOTIFY_UNMAP), 1);
	assert_int_equal(pinmm_mmu_notifier_events(m, (enum mmu_notifier_event)99), -EINVAL);
	test_shutdown_clean(m);
}

/* ---- an invalidation blocked in its callback, other threads around it ---- */

struct thr {
	struct pinmm_proc *p;
	struct mmu_interval_notifier *sub;
	unsigned long addr, len;
	unsigned long seq;
	int ret;
	volatile int done;
};

static void *munmap_thread(void *arg)
{
	struct thr *t = arg;

	pinmm_set_current(t->p);
	t->ret = pinmm_munmap(t->p, t->addr, t->len);
	__atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *read_begin_thread(void *arg)
{
	struct thr *t = arg;

	t->seq = mmu_interval_read_begin(t->sub);
	__atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *remove_thread(void *arg)
{
	struct thr *t = arg;

	mmu_interval_notifier_remove(t->sub);
	__atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void wait_flag(volatile int *f)
{
	TEST_WAIT_UNTIL(__atomic_load_n(f, __ATOMIC_SEQ_CST), TEST_WAIT_MS,
			"the blocking callback to be entered");
}

static void test_seq_concurrent(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	struct mm_struct *mm = pinmm_proc_mm(p);
	unsigned long a = test_mmap_anon(p, 64 * PG), seq_before, seq;
	struct rec blk, rd, late, gone;
	struct thr tu = { .p = p, .addr = a, .len = 2 * PG };
	struct thr tr = { .p = p, .sub = &rd.sub };
	struct thr tg = { .p = p, .sub = &gone.sub };
	pthread_t th_u, th_r, th_g;

	(void)state;
	rec_init(&blk);
	rec_init(&rd);
	rec_init(&late);
	rec_init(&gone);
	blk.block = true;
	assert_int_equal(mmu_interval_notifier_insert(&blk.sub, mm, a, 4 * PG, &rec_ops), 0);
	assert_int_equal(mmu_interval_notifier_insert(&rd.sub, mm, a, 4 * PG, &rec_ops), 0);
	assert_int_equal(mmu_interval_notifier_insert(&gone.sub, mm, a + 32 * PG, 4 * PG,
						      &rec_ops), 0);
	seq_before = mmu_interval_read_begin(&rd.sub);
	test_store8(p, a, 7);

	/* munmap in another thread; the callback of @blk holds it. */
	assert_int_equal(pthread_create(&th_u, NULL, munmap_thread, &tu), 0);
	wait_flag(&blk.entered);
	assert_true(blk.log[0].seq & 1);		/* odd while it runs */

	/* @rd's callback has run (list order) or will: read_begin must wait. */
	assert_int_equal(pthread_create(&th_r, NULL, read_begin_thread, &tr), 0);
	usleep(50 * 1000);
	assert_false(__atomic_load_n(&tr.done, __ATOMIC_SEQ_CST));

	/* An insert now is deferred: its first read_begin would sleep too. */
	assert_int_equal(mmu_interval_notifier_insert(&late.sub, mm, a + 8 * PG, 4 * PG,
						      &rec_ops), 0);
	assert_int_equal(late.sub.invalidate_seq, blk.log[0].seq);
	/* A remove now waits for the invalidation to end. */
	assert_int_equal(pthread_create(&th_g, NULL, remove_thread, &tg), 0);
	usleep(50 * 1000);
	assert_false(__atomic_load_n(&tg.done, __ATOMIC_SEQ_CST));
	assert_false(__atomic_load_n(&tu.done, __ATOMIC_SEQ_CST));

	__atomic_store_n(&blk.release, 1, __ATOMIC_SEQ_CST);
	TEST_JOIN(th_u, "the munmap once the callback is released");
	TEST_JOIN(th_r, "read_begin once the invalidation ended");
	TEST_JOIN(th_g, "the remove once the invalidation ended");
	assert_true(tu.done && tr.done && tg.done);
	assert_int_equal(tu.ret, 0);
	/* The reader collided with the invalidation. */
	assert_true(mmu_interval_read_retry(&rd.sub, seq_before));
	assert_int_equal(rd.n, 1);
	assert_int_equal(tr.seq, rd.log[0].seq);

	/* The deferred insert joined at the end: it gets callbacks now. */
	blk.block = false;
	seq = mmu_interval_read_begin(&late.sub);
	test_store8(p, a + 8 * PG, 1);
	assert_int_equal(pinmm_madvise(p, a + 8 * PG, PG, MADV_DONTNEED), 0);
	assert_int_equal(late.n, 1);
	assert_true(mmu_interval_read_retry(&late.sub, seq));
	/* The removed one does not. */
	assert_int_equal(pinmm_munmap(p, a + 32 * PG, 4 * PG), 0);
	assert_int_equal(gone.n, 0);

	mmu_interval_notifier_remove(&late.sub);
	mmu_interval_notifier_remove(&rd.sub);
	mmu_interval_notifier_remove(&blk.sub);
	test_shutdown_clean(m);
}

/* Insert and remove during an invalidation that runs in another thread. */
static void test_deferred_cancel(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	struct mm_struct *mm = pinmm_proc_mm(p);
	unsigned long a = test_mmap_anon(p, 16 * PG);
	struct rec blk, tmp;
	struct thr tu = { .p = p, .addr = a, .len = PG };
	pthread_t th_u;

	(void)state;
	rec_init(&blk);
	rec_init(&tmp);
	blk.block = true;
	assert_int_equal(mmu_interval_notifier_insert(&blk.sub, mm, a, PG, &rec_ops), 0);
	test_store8(p, a, 1);
	assert_int_equal(pthread_create(&th_u, NULL, munmap_thread, &tu), 0);
	wait_flag(&blk.entered);
	/* Deferred insert, then removed before it ever joined: no wait. */
	assert_int_equal(mmu_interval_notifier_insert(&tmp.sub, mm, a, PG, &rec_ops), 0);
	mmu_interval_notifier_remove(&tmp.sub);
	assert_false(__atomic_load_n(&tu.done, __ATOMIC_SEQ_CST));
	__atomic_store_n(&blk.release, 1, __ATOMIC_SEQ_CST);
	TEST_JOIN(th_u, "the munmap once the callback is released");
	assert_int_equal(tmp.n, 0);
	mmu_interval_notifier_remove(&blk.sub);
	test_shutdown_clean(m);
}

static void test_events_munmap_mprotect_dontneed(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	struct mm_struct *mm = pinmm_proc_mm(p);
	unsigned long a = test_mmap_anon(p, 16 * PG);
	struct rec r;

	(void)state;
	rec_init(&r);
	for (unsigned long i = 0; i < 16; i++)
		test_store8(p, a + i * PG, (uint8_t)i);
	assert_int_equal(mmu_interval_notifier_insert(&r.sub, mm, a + 4 * PG, 8 * PG, &rec_ops), 0);

	assert_int_equal(pinmm_mprotect(p, a + 2 * PG, 4 * PG, PROT_READ), 0);
	assert_true(rec_has(&r, MMU_NOTIFY_PROTECTION_VMA, a + 2 * PG, a + 6 * PG));
	assert_true(r.log[0].ro);
	assert_int_equal(pinmm_mprotect(p, a + 2 * PG, 4 * PG, PROT_NONE), 0);
	assert_int_equal(r.n, 2);
	assert_false(r.log[1].ro);
	/* Same flags again: nothing changes, nothing delivered. */
	assert_int_equal(pinmm_mprotect(p, a + 2 * PG, 4 * PG, PROT_NONE), 0);
	assert_int_equal(r.n, 2);
	/* Outside the subscription. */
	assert_int_equal(pinmm_mprotect(p, a, 2 * PG, PROT_READ), 0);
	assert_int_equal(r.n, 2);

	rec_reset(&r);
	assert_int_equal(pinmm_madvise(p, a + 8 * PG, 2 * PG, MADV_DONTNEED), 0);
	assert_int_equal(r.n, 1);
	assert_true(rec_has(&r, MMU_NOTIFY_CLEAR, a + 8 * PG, a + 10 * PG));
	assert_int_equal(pinmm_madvise(p, a + 14 * PG, 2 * PG, MADV_DONTNEED), 0);
	assert_int_equal(r.n, 1);

	rec_reset(&r);
	assert_int_equal(pinmm_munmap(p, a + 10 * PG, 6 * PG), 0);
	assert_int_equal(r.n, 1);
	assert_true(rec_has(&r, MMU_NOTIFY_UNMAP, a + 10 * PG, a + 16 * PG));
	assert_int_equal(pinmm_mmu_notifier_events(m, MMU_NOTIFY_PROTECTION_VMA), 2);
	assert_int_equal(pinmm_mmu_notifier_events(m, MMU_NOTIFY_CLEAR), 1);
	assert_int_equal(pinmm_mmu_notifier_events(m, MMU_NOTIFY_UNMAP), 1);
	mmu_interval_notifier_remove(&r.sub);
	test_shutdown_clean(m);
}

static void test_events_cow(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m), *child;
	struct mm_struct *mm = pinmm_proc_mm(p);
	unsigned long a = test_mmap_anon(p, 8 * PG);
	struct page *pages[1];
	struct rec r;

	(void)state;
	rec_init(&r);
	for (unsigned long i = 0; i < 8; i++)
		test_store8(p, a + i * PG, (uint8_t)i);
	assert_int_equal(mmu_interval_notifier_insert(&r.sub, mm, a, 8 * PG, &rec_ops), 0);

	/* fork: PROTECTION_PAGE over the whole COW VMA of the parent. */
	assert_int_equal(pinmm_fork(p, &child), 0);
	assert_int_equal(r.n, 1);
	assert_true(rec_has(&r, MMU_NOTIFY_PROTECTION_PAGE, a, a + 8 * PG));
	assert_false(r.log[0].ro);

	/* Parent write: COW replaces the PTE of that page: CLEAR. */
	rec_reset(&r);
	test_store8(p, a + 3 * PG, 0x33);
	assert_int_equal(r.n, 1);
	assert_true(rec_has(&r, MMU_NOTIFY_CLEAR, a + 3 * PG, a + 4 * PG));
	/* The child's writes are not the parent's business. */
	rec_reset(&r);
	test_store8(child, a + 4 * PG, 0x44);
	assert_int_equal(r.n, 0);

	/* Unshare: a read-only pin of a shared anon page copies it. */
	rec_reset(&r);
	pinmm_set_current(p);
	assert_int_equal(pin_user_pages_fast(a + 5 * PG, 1, 0, pages), 1);
	assert_int_equal(r.n, 1);
	assert_true(rec_has(&r, MMU_NOTIFY_CLEAR, a + 5 * PG, a + 6 * PG));
	unpin_user_page(pages[0]);

	assert_int_equal(pinmm_exit(child), 0);
	mmu_interval_notifier_remove(&r.sub);
	test_shutdown_clean(m);
}

static void test_events_migrate_split(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=2", "thp=always", NULL);
	struct pinmm_proc *p = test_proc(m);
	struct mm_struct *mm = pinmm_proc_mm(p);
	unsigned long a = test_mmap_anon(p, 4 * MiB), h;
	struct rec r;

	(void)state;
	rec_init(&r);
	h = (a + 2 * MiB - 1) & ~(2 * MiB - 1);
	test_store8(p, h, 1);		/* a THP */
	test_store8(p, h + 2 * MiB - PG, 2);
	assert_int_equal(mmu_interval_notifier_insert(&r.sub, mm, h, 2 * MiB, &rec_ops), 0);

	/* Splitting the folio first splits the PMD (CLEAR), then migrates. */
	assert_int_equal(pinmm_split_huge_page(p, h), 0);
	assert_true(rec_has(&r, MMU_NOTIFY_CLEAR, h, h + 2 * MiB));
	assert_true(rec_has(&r, MMU_NOTIFY_MIGRATE, h, h + 2 * MiB));
	assert_int_equal(test_load8(p, h + 2 * MiB - PG), 2);

	/* Migrating one small page: MIGRATE over that page. */
	rec_reset(&r);
	assert_int_equal(pinmm_migrate_page(p, h + 5 * PG, "normal"), 0);
	assert_int_equal(r.n, 1);
	assert_true(rec_has(&r, MMU_NOTIFY_MIGRATE, h + 5 * PG, h + 6 * PG));
	assert_true(pinmm_mmu_notifier_events(m, MMU_NOTIFY_MIGRATE) >= 2);
	mmu_interval_notifier_remove(&r.sub);
	test_shutdown_clean(m);
}

static void test_events_pmd_split(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=2", "thp=always", NULL);
	struct pinmm_proc *p = test_proc(m);
	struct mm_struct *mm = pinmm_proc_mm(p);
	unsigned long a = test_mmap_anon(p, 4 * MiB), h;
	struct rec r;

	(void)state;
	rec_init(&r);
	h = (a + 2 * MiB - 1) & ~(2 * MiB - 1);
	test_store8(p, h, 1);
	assert_int_equal(mmu_interval_notifier_insert(&r.sub, mm, h + 8 * PG, PG, &rec_ops), 0);
	/* mprotect of part of the THP splits the PMD mapping first. */
	assert_int_equal(pinmm_mprotect(p, h, 4 * PG, PROT_READ), 0);
	assert_true(rec_has(&r, MMU_NOTIFY_CLEAR, h, h + 2 * MiB));
	/* The protection change itself does not touch the subscription. */
	assert_int_equal(rec_count(&r, MMU_NOTIFY_PROTECTION_VMA), 0);
	mmu_interval_notifier_remove(&r.sub);
	test_shutdown_clean(m);
}

static void test_events_truncate_punch(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	struct mm_struct *mm = pinmm_proc_mm(p);
	struct rec r;
	long a;
	int fd;

	(void)state;
	rec_init(&r);
	fd = pinmm_memfd_create(p, "mirror", 0);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd, 8 * PG), 0);
	a = pinmm_mmap(p, 0, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(a > 0);
	for (unsigned long i = 0; i < 8; i++)
		test_store8(p, (unsigned long)a + i * PG, (uint8_t)(i + 1));
	assert_int_equal(mmu_interval_notifier_insert(&r.sub, mm, (unsigned long)a, 8 * PG,
						      &rec_ops), 0);

	assert_int_equal(pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					 (long)PG, (long)PG), 0);
	assert_true(rec_has(&r, MMU_NOTIFY_CLEAR, (unsigned long)a + PG, (unsigned long)a + 2 * PG));
	assert_int_equal(test_load8(p, (unsigned long)a + PG), 0);

	rec_reset(&r);
	assert_int_equal(pinmm_ftruncate(p, fd, 4 * PG), 0);
	assert_true(rec_has(&r, MMU_NOTIFY_CLEAR, (unsigned long)a + 4 * PG,
			    (unsigned long)a + 8 * PG));
	mmu_interval_notifier_remove(&r.sub);
	assert_int_equal(pinmm_munmap(p, (unsigned long)a, 8 * PG), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

static void test_events_exit(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m), *q;
	struct mm_struct *mm;
	unsigned long a;
	struct rec r, late;

	(void)state;
	rec_init(&r);
	rec_init(&late);
	assert_int_equal(pinmm_proc_create(m, &q), 0);
	pinmm_set_current(q);
	mm = pinmm_proc_mm(q);
	a = test_mmap_anon(q, 4 * PG);
	test_store8(q, a, 1);
	assert_int_equal(mmu_interval_notifier_insert(&r.sub, mm, a, 4 * PG, &rec_ops), 0);
	assert_int_equal(pinmm_exit(q), 0);
	assert_true(rec_has(&r, MMU_NOTIFY_RELEASE, 0, ULONG_MAX));
	assert_int_equal(r.log[0].event, MMU_NOTIFY_RELEASE);	/* first */
	assert_int_equal(pinmm_mmu_notifier_events(m, MMU_NOTIFY_RELEASE), 1);
	/* The mm is still there (insert's mmgrab): no users, so -EINVAL. */
	assert_int_equal(mmu_interval_notifier_insert(&late.sub, mm, a, PG, &rec_ops), -EINVAL);
	/* And removing after exit is safe. */
	mmu_interval_notifier_remove(&r.sub);
	pinmm_set_current(p);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seq_basic),
		cmocka_unit_test(test_seq_concurrent),
		cmocka_unit_test(test_deferred_cancel),
		cmocka_unit_test(test_events_munmap_mprotect_dontneed),
		cmocka_unit_test(test_events_cow),
		cmocka_unit_test(test_events_migrate_split),
		cmocka_unit_test(test_events_pmd_split),
		cmocka_unit_test(test_events_truncate_punch),
		cmocka_unit_test(test_events_exit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
