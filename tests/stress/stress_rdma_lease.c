/* SPDX-License-Identifier: MIT */
/*
 * stress_rdma_lease.c - a remote peer writing in a loop into an RDMA
 * region held by a layout lease while truncate breaks and revokes that
 * lease, round after round, alternating /data/ and /dax/.
 *
 * Each round: a file, its lease, a region over its mapping registered
 * through vaddr_pin_pages(), a peer writing 512-byte operations that hold
 * the region 20 us mid-transfer; once the peer is under way, truncate to
 * zero with lease.outcome=revoke and lease_break_ms=2.  The revocation
 * must invalidate the keys while operations may be in flight, wait for
 * them (revoke_drains), then let the truncate free the blocks; every
 * later operation is a remote access error, and not one more byte is
 * written.  Then deregistration, the lease, the file go.  TSan sees the
 * key table, the in-flight count, the lease lock and the fence.  The races
 * happened: operations completed before revocation, were refused after,
 * and some revocations found operations in flight.
 *
 * Duration: PINMM_STRESS_SECONDS (default 5).
 */
#include "rdma_lease_helpers.h"
#include "stress_common.h"

static void test_rdma_lease_revoke_race(void **state)
{
	struct pinmm *m = rl_boot(((struct test_imgdir *)*state)->img, "revoke", "2");
	long rounds = 0, ops = 0, refused = 0, drains = 0, fenced_in_flight = 0;
	double end = stress_now() + stress_seconds();
	struct pinmm_proc *p = test_proc(m);

	while (stress_now() < end || rounds < 4) {
		const char *mnt = rounds % 2 ? "/dax/" : "/data/";
		struct pinmm_rdma_stats st0, st1;
		struct pinmm_rdma_peer_stats ps;
		struct pinmm_rdma_peer *peer;
		char name[32], path[64];
		double t0;
		struct rl r = { .p = p };

		snprintf(name, sizeof(name), "r%ld", rounds);
		rl_setup(m, &r, mnt, name);
		assert_int_equal(pinmm_rdma_peer_start(r.p, r.pd, &(struct pinmm_rdma_peer_cfg){
			.rkey = r.mr.rkey, .iova = r.addr, .length = RL_PAGES * PG,
			.op_size = 512, .write_pct = 100, .hold_us = 20,
			.seed = (uint64_t)rounds }, &peer), 0);
		t0 = test_now_ms();
		do {
			assert_int_equal(pinmm_rdma_peer_progress(peer, &ps), 0);
			if (test_now_ms() - t0 > TEST_WAIT_MS)
				fail_msg("round %ld: the peer made no progress", rounds);
		} while (ps.ops < 5);
		assert_int_equal(pinmm_ftruncate(r.p, r.fd, 0), 0);
		st0 = rl_stats(&r);
		assert_int_equal(st0.mrs_revoked, 1);
		t0 = test_now_ms();
		/*
		 * An operation in flight when the pins were fenced, before the
		 * region's notice drained it, is dropped by the fence (EIO); every
		 * later one is refused at the key (EREMOTEIO).
		 */
		do {
			assert_int_equal(pinmm_rdma_peer_progress(peer, &ps), 0);
			if (test_now_ms() - t0 > TEST_WAIT_MS)
				fail_msg("round %ld: the peer was never refused", rounds);
		} while (ps.last_error != EREMOTEIO);
		assert_int_equal(pinmm_rdma_peer_stop(peer, &ps), 0);
		st1 = rl_stats(&r);
		assert_int_equal(st1.bytes_written, st0.bytes_written);
		fenced_in_flight += st1.refused_fault;
		ops += st1.remote_writes;
		refused += st1.refused_lease;
		drains += st1.revoke_drains;
		assert_int_equal(pinmm_rdma_dereg_mr(r.p, r.pd, r.mr.lkey), 0);
		assert_int_equal(pinmm_lease_put(r.l), 0);
		assert_int_equal(pinmm_rdma_dealloc_pd(r.p, r.pd), 0);
		assert_int_equal(pinmm_munmap(r.p, r.addr, RL_PAGES * PG), 0);
		assert_int_equal(pinmm_close(r.p, r.fd), 0);
		snprintf(path, sizeof(path), "%s%s", mnt, name);
		assert_int_equal(pinmm_unlink(r.p, path), 0);
		rounds++;
	}
	printf("# rdma_lease: %ld rounds, %ld writes before revocation, %ld refused after, "
	       "%ld revocations drained operations in flight, %ld writes fenced in flight\n",
	       rounds, ops, refused, drains, fenced_in_flight);
	assert_true(ops > 0);
	assert_true(refused > 0);
	assert_true(drains > 0);	/* the race this test exists for happened */
	assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"), gh_vm(m, "nr_foll_pin_released"));
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rdma_lease_revoke_race, test_imgdir_setup,
						test_imgdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
