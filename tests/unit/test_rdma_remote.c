/* SPDX-License-Identifier: MIT */
/*
 * test_rdma_remote.c - memory regions over another process's memory
 * (pinmm_rdma_reg_mr_remote(): pin_user_pages_remote() with the target's
 * mm, FOLL_REMOTE, an mm_count reference on the target mm while the pins
 * live).  The target's exit tears its address space down but detaches,
 * never frees, the pinned pages: the peer keeps reading and writing them
 * until deregistration, which frees them.
 */
#include "gup_helpers.h"
#include <pinmm/rdma.h>
#include <pthread.h>
#include <stdatomic.h>

#define RW (IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_READ)

static long pins_out(struct pinmm *m)
{
	return gh_vm(m, "nr_foll_pin_acquired") - gh_vm(m, "nr_foll_pin_released");
}

static struct pinmm_proc *new_proc(struct pinmm *m)
{
	struct pinmm_proc *p = NULL;

	assert_int_equal(pinmm_proc_create(m, &p), 0);
	return p;
}

static void test_remote_basic(void **state)
{
	struct pinmm *m = gh_boot("zone.movable=64M");
	struct pinmm_proc *a = test_proc(m), *b = new_proc(m);
	unsigned long buf = test_mmap_anon(b, 8 * PG);
	struct pinmm_rdma_mr_info mr;
	int pd = pinmm_rdma_alloc_pd(a);
	char c;
	(void)state;

	for (int i = 0; i < 8; i++)
		test_store8(b, buf + i * PG, (uint8_t)('a' + i));
	long migrated = gh_vm(m, "longterm_migrate");
	assert_int_equal(pinmm_rdma_reg_mr_remote(a, pd, b, buf, 8 * PG, RW, &mr), 0);
	assert_true(mr.remote);
	assert_int_equal(mr.target_pid, pinmm_proc_pid(b));
	/* The registering process is charged, not the target. */
	assert_int_equal(pinmm_proc_pinned_vm(a), 8);
	assert_int_equal(pinmm_proc_pinned_vm(b), 0);
	assert_int_equal(pins_out(m), 8);
	assert_true(gh_info(b, buf).maybe_dma_pinned);
	/* FOLL_LONGTERM moved the target's movable pages out of ZONE_MOVABLE. */
	for (int i = 0; i < 8; i++)
		assert_string_not_equal(gh_info(b, buf + i * PG).zone, "movable");
	assert_true(gh_vm(m, "longterm_migrate") >= migrated);

	assert_int_equal(pinmm_rdma_remote_read(a, pd, mr.rkey, buf + 3 * PG, &c, 1), 1);
	assert_int_equal(c, 'd');
	assert_int_equal(pinmm_rdma_remote_write(a, pd, mr.rkey, buf + 4 * PG, "X", 1), 1);
	assert_int_equal(test_load8(b, buf + 4 * PG), 'X');
	test_store8(b, buf + 5 * PG, 'Y');
	assert_int_equal(pinmm_rdma_remote_read(a, pd, mr.rkey, buf + 5 * PG, &c, 1), 1);
	assert_int_equal(c, 'Y');

	assert_int_equal(pinmm_rdma_dereg_mr(a, pd, mr.lkey), 0);
	assert_int_equal(pinmm_proc_pinned_vm(a), 0);
	assert_int_equal(pins_out(m), 0);
	assert_false(gh_info(b, buf).maybe_dma_pinned);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

static void test_remote_bad_targets(void **state)
{
	struct pinmm *m = gh_boot0(), *m2 = gh_boot0();
	struct pinmm_proc *a = test_proc(m), *b = new_proc(m), *other = new_proc(m2);
	unsigned long buf = test_mmap_anon(b, 2 * PG);
	int pd = pinmm_rdma_alloc_pd(a);
	(void)state;

	assert_int_equal(pinmm_rdma_reg_mr_remote(a, pd, NULL, buf, PG, RW, NULL), -EINVAL);
	assert_int_equal(pinmm_rdma_reg_mr_remote(a, pd, other, buf, PG, RW, NULL), -EINVAL);
	/* Unmapped in the target (mapped only in @a would not matter). */
	assert_int_equal(pinmm_rdma_reg_mr_remote(a, pd, b, buf + 2 * PG, PG, RW, NULL), -EFAULT);
	assert_int_equal(pinmm_rdma_reg_mr_remote(a, pd, b, buf, 0, RW, NULL), -EINVAL);
	assert_int_equal(pinmm_exit(b), 0);
	assert_int_equal(pinmm_rdma_reg_mr_remote(a, pd, b, buf, PG, RW, NULL), -ESRCH);
	assert_int_equal(pins_out(m), 0);
	assert_int_equal(pinmm_proc_pinned_vm(a), 0);
	assert_int_equal(pinmm_shutdown(m2), 0);
	test_shutdown_clean(m);
}

/* The target exits: its pages are detached, not freed, until deregistration. */
static void test_remote_target_exit(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *a = test_proc(m), *b = new_proc(m);
	unsigned long buf = test_mmap_anon(b, 16 * PG);
	struct pinmm_rdma_mr_info mr;
	struct pinmm_rdma_peer *peer;
	struct pinmm_rdma_peer_stats ps;
	int pd = pinmm_rdma_alloc_pd(a);
	char c;
	(void)state;

	for (int i = 0; i < 16; i++)
		test_store8(b, buf + i * PG, 0x30);
	assert_int_equal(pinmm_rdma_reg_mr_remote(a, pd, b, buf, 16 * PG, RW, &mr), 0);
	/* A peer writes throughout the target's exit. */
	struct pinmm_rdma_peer_cfg cfg = {
		.rkey = mr.rkey, .iova = buf, .length = 16 * PG, .op_size = 512,
		.write_pct = 50, .seed = 3,
	};
	assert_int_equal(pinmm_rdma_peer_start(a, pd, &cfg, &peer), 0);
	long detached = gh_vm(m, "pinned_page_detached");
	assert_int_equal(pinmm_exit(b), 0);
	assert_true(gh_vm(m, "pinned_page_detached") - detached >= 16);
	assert_int_equal(pins_out(m), 16);
	TEST_WAIT_UNTIL((assert_int_equal(pinmm_rdma_peer_progress(peer, &ps), 0),
			 ps.ops >= 5000), TEST_WAIT_MS, "5000 peer operations on detached pages");
	assert_int_equal(pinmm_rdma_peer_stop(peer, &ps), 0);
	assert_int_equal(ps.refused, 0);

	/* The pages still hold their data and take new writes. */
	assert_int_equal(pinmm_rdma_remote_write(a, pd, mr.rkey, buf + 9 * PG, "Q", 1), 1);
	assert_int_equal(pinmm_rdma_remote_read(a, pd, mr.rkey, buf + 9 * PG, &c, 1), 1);
	assert_int_equal(c, 'Q');
	assert_int_equal(pinmm_proc_pinned_vm(a), 16);
	assert_int_equal(pinmm_audit(m), 0);

	/* Deregistration frees them. */
	long free0 = gh_vm(m, "nr_free_pages");
	assert_int_equal(pinmm_rdma_dereg_mr(a, pd, mr.lkey), 0);
	assert_int_equal(pins_out(m), 0);
	assert_int_equal(gh_vm(m, "nr_free_pages"), free0 + 16);
	assert_int_equal(pinmm_proc_pinned_vm(a), 0);
	assert_int_equal(pinmm_rdma_remote_read(a, pd, mr.rkey, buf, &c, 1), -EKEYREVOKED);
	test_shutdown_clean(m);
}

/* The registering process exits first: its PD closes and the pins go. */
static void test_remote_owner_exit(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *a = test_proc(m), *b = new_proc(m);
	unsigned long buf = test_mmap_anon(b, 4 * PG);
	struct pinmm_rdma_mr_info mr;
	int pd = pinmm_rdma_alloc_pd(a);
	(void)state;

	test_store8(b, buf, 1);
	assert_int_equal(pinmm_rdma_reg_mr_remote(a, pd, b, buf, 4 * PG, RW, &mr), 0);
	assert_int_equal(pins_out(m), 4);
	assert_int_equal(pinmm_exit(a), 0);
	assert_int_equal(pins_out(m), 0);
	assert_false(gh_info(b, buf).maybe_dma_pinned);
	/* Dirty marking at unpin for a writable region. */
	assert_true(gh_info(b, buf).dirty);
	test_store8(b, buf, 2);
	assert_int_equal(test_load8(b, buf), 2);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

/* Both gone before shutdown, or left for shutdown: no leaks either way. */
static void test_remote_shutdown(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *a = test_proc(m), *b = new_proc(m), *c = new_proc(m);
	unsigned long bb = test_mmap_anon(b, 4 * PG), cb = test_mmap_anon(c, 4 * PG);
	int pd = pinmm_rdma_alloc_pd(a);
	(void)state;

	assert_int_equal(pinmm_rdma_reg_mr_remote(a, pd, b, bb, 4 * PG, RW, NULL), 0);
	assert_int_equal(pinmm_rdma_reg_mr_remote(a, pd, c, cb, 4 * PG, IB_ACCESS_REMOTE_READ,
						  NULL), 0);
	assert_int_equal(pinmm_rdma_reg_mr_remote(a, pd, c, cb, 4 * PG,
						  RW | IB_ACCESS_ON_DEMAND, NULL), 0);
	assert_int_equal(pinmm_exit(b), 0);
	assert_int_equal(pins_out(m), 8);
	test_shutdown_clean(m);
}

struct exit_race {
	struct pinmm_proc *b;
	atomic_int ready, go;
	int delay;		/* spins before the exit: moves the race window */
};

static void *exit_thread(void *arg)
{
	struct exit_race *r = arg;
	double end = test_now_ms() + TEST_WAIT_MS;

	atomic_store(&r->ready, 1);
	while (!atomic_load(&r->go))		/* spins: the race window is narrow */
		if (test_expired(end, "the go signal of the exit race"))
			break;
	for (volatile int i = 0; i < r->delay; i++)
		;
	assert_int_equal(pinmm_exit(r->b), 0);
	return NULL;
}

/*
 * Remote registration racing the target's exit: the registration reads the
 * target's mm under the machine's proc_lock with mmget_not_zero(), so it
 * either pins a live address space (-> pages detached at exit, freed by
 * deregistration) or answers -ESRCH; never a freed mm (ASan, TSan).
 */
static void test_remote_reg_races_exit(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *a = test_proc(m);
	int pd = pinmm_rdma_alloc_pd(a);
	int won = 0, lost = 0;
	(void)state;

	for (int iter = 0; iter < 200; iter++) {
		struct exit_race r = { .b = new_proc(m), .delay = iter & 2 ? iter * 40 : 0 };
		unsigned long buf = test_mmap_anon(r.b, 4 * PG);
		unsigned int acc = iter & 1 ? RW | IB_ACCESS_ON_DEMAND : RW;
		struct pinmm_rdma_mr_info mr;
		pthread_t t;
		int ret;

		test_store8(r.b, buf, 7);
		assert_int_equal(pthread_create(&t, NULL, exit_thread, &r), 0);
		TEST_WAIT_UNTIL(atomic_load(&r.ready), TEST_WAIT_MS, "the exiting thread to start");
		atomic_store(&r.go, 1);
		for (volatile int i = 0; i < (iter & 2 ? 0 : iter * 40); i++)
			;
		ret = pinmm_rdma_reg_mr_remote(a, pd, r.b, buf, 4 * PG, acc, &mr);
		TEST_JOIN(t, "the exiting thread");
		if (ret == 0) {
			char c = 0;

			won++;
			/* Pinned: the detached pages still hold the data. */
			if (!(acc & IB_ACCESS_ON_DEMAND)) {
				assert_int_equal(pinmm_rdma_remote_read(a, pd, mr.rkey, buf, &c, 1), 1);
				assert_int_equal(c, 7);
			}
			assert_int_equal(pinmm_rdma_dereg_mr(a, pd, mr.lkey), 0);
		} else {
			/* -EFAULT: the VMAs were already gone (ODP check, pin). */
			assert_true(ret == -ESRCH || ret == -EFAULT);
			lost++;
		}
		assert_int_equal(pins_out(m), 0);
	}
	print_message("# registrations won %d, refused %d\n", won, lost);
	assert_int_equal(pinmm_proc_pinned_vm(a), 0);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remote_basic),
		cmocka_unit_test(test_remote_bad_targets),
		cmocka_unit_test(test_remote_target_exit),
		cmocka_unit_test(test_remote_owner_exit),
		cmocka_unit_test(test_remote_shutdown),
		cmocka_unit_test(test_remote_reg_races_exit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
