/* SPDX-License-Identifier: MIT */
/*
 * test_rdma_lease.c - RDMA memory regions under fs.pinned_policy=lease, on
 * both pinfs mounts: registration over a file mapping goes through
 * vaddr_pin_pages() owned by the PD's file (-EPERM without the lease, one
 * file_pin record with it); a revoked lease invalidates the keys (the
 * peer's next operation is a remote access error, -EREMOTEIO), raises an
 * async event, and nothing the peer sends afterwards reaches the blocks
 * another file then owns; deregistration after revocation releases the
 * pins; the PD's last file reference, not close(), tears the regions
 * down; fail/unbreakable leave the region working, wait lets the owner
 * deregister first.
 */
#include "rdma_lease_helpers.h"

#include <pthread.h>

static const char *const mounts[] = { "/data/", "/dax/" };

static long pins_out(struct pinmm *m)
{
	return gh_vm(m, "nr_foll_pin_acquired") - gh_vm(m, "nr_foll_pin_released");
}

/* Registration needs the lease; the record; Kara's rule; dereg. */
static void required_on(const char *img, const char *mnt)
{
	struct pinmm *m = rl_boot(img, "revoke", "2000");
	struct pinmm_file_pin_info fpi[2];
	struct pinmm_rdma_mr_info mr;
	struct pinmm_proc *p = test_proc(m);
	char path[64], buf[8];
	struct rl r = { 0 };
	long a;
	int fd, pd;

	/* Without a lease: -EPERM, nothing pinned. */
	snprintf(path, sizeof(path), "%sno", mnt);
	fd = pinmm_open(p, path, O_CREAT | O_RDWR, 0644);
	assert_int_equal(pinmm_ftruncate(p, fd, PG), 0);
	a = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	pd = pinmm_rdma_alloc_pd(p);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, (unsigned long)a, PG, RL_ACCESS, &mr), -EPERM);
	assert_int_equal(pins_out(m), 0);
	/* Anonymous memory needs none. */
	a = (long)test_mmap_anon(p, PG);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, (unsigned long)a, PG, RL_ACCESS, &mr), 0);
	assert_int_equal(pinmm_rdma_dereg_mr(p, pd, mr.lkey), 0);

	rl_setup(m, &r, mnt, "f");
	snprintf(path, sizeof(path), "%sf", mnt);
	assert_int_equal(pinmm_file_pins(m, -1, path, fpi, 2), 1);
	assert_string_equal(fpi[0].owner, "anon_inode:[infinibandevent]");
	assert_int_equal(fpi[0].nr_pages, RL_PAGES);
	assert_true(fpi[0].writable);
	assert_int_equal(pinmm_rdma_remote_write(r.p, r.pd, r.mr.rkey, r.addr + PG, "peer", 5), 5);
	assert_int_equal(pinmm_pread(r.p, r.fd, buf, 5, PG), 5);
	assert_string_equal(buf, "peer");
	assert_int_equal(pinmm_lease_put(r.l), -EBUSY);	/* the MR's pins hold it */
	assert_int_equal(pinmm_rdma_dereg_mr(r.p, r.pd, r.mr.lkey), 0);
	assert_int_equal(pinmm_file_pins(m, -1, NULL, fpi, 2), 0);
	assert_int_equal(pinmm_lease_put(r.l), 0);
	assert_int_equal(pins_out(m), 0);
	assert_int_equal(pinmm_rdma_dealloc_pd(p, pd), 0);
	assert_int_equal(pinmm_rdma_dealloc_pd(r.p, r.pd), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(pinmm_close(r.p, r.fd), 0);
	test_shutdown_clean(m);
}

static void test_required_data(void **s) { required_on(((struct test_imgdir *)*s)->img, mounts[0]); }
static void test_required_dax(void **s) { required_on(((struct test_imgdir *)*s)->img, mounts[1]); }

/*
 * A peer writes in a loop; the holder ignores the break; at lease_break_ms
 * the lease is revoked: the MR's keys refuse, the owner gets the event,
 * the blocks go to another file, and the peer's later writes land nowhere
 * (the oracle: the other file's bytes, and bytes_written frozen).
 */
static void revoke_on(const char *img, const char *mnt)
{
	struct pinmm *m = rl_boot(img, "revoke", "100");
	struct pinmm_rdma_peer_stats ps;
	struct pinmm_rdma_async_event ev;
	struct pinmm_rdma_stats st0, st1;
	struct pinmm_rdma_mr_info q;
	struct pinmm_file_pin_info fpi;
	struct pinmm_rdma_peer *peer;
	struct pinmm_lease_info li;
	unsigned long pfn[RL_PAGES];
	char path[64], buf[4096], got[4096];
	int ofd, reused = 0;
	long olen = 0;
	double stall;
	struct rl r = { 0 };
	double t0;

	rl_setup(m, &r, mnt, "v");
	for (int i = 0; i < RL_PAGES; i++)
		pfn[i] = gh_info(r.p, r.addr + (unsigned long)i * PG).pfn;
	assert_int_equal(pinmm_rdma_peer_start(r.p, r.pd, &(struct pinmm_rdma_peer_cfg){
		.rkey = r.mr.rkey, .iova = r.addr, .length = RL_PAGES * PG, .op_size = 512,
		.write_pct = 100, .pattern = 'P', .hold_us = 50 }, &peer), 0);
	t0 = now_ms();
	do {
		assert_int_equal(pinmm_rdma_peer_progress(peer, &ps), 0);
		if (now_ms() - t0 > TEST_WAIT_MS)
			fail_msg("the peer made no progress");
	} while (ps.ops < 20);

	t0 = now_ms();
	assert_int_equal(pinmm_ftruncate(r.p, r.fd, 0), 0);
	stall = now_ms() - t0;
	assert_true(stall >= 100);
	st0 = rl_stats(&r);		/* the revocation notice has returned */
	assert_int_equal(pinmm_lease_info(r.l, &li), 0);
	assert_int_equal(li.state, PINMM_LEASE_REVOKED);
	assert_int_equal(st0.mrs_revoked, 1);
	assert_int_equal(pinmm_rdma_get_async_event(r.p, r.pd, &ev, 1000), 0);
	assert_int_equal(ev.type, PINMM_RDMA_EVENT_MR_LEASE_REVOKED);
	assert_int_equal(ev.lkey, r.mr.lkey);
	assert_true(ev.time_ns >= li.revoked_ns);
	assert_int_equal(pinmm_rdma_get_async_event(r.p, r.pd, &ev, 0), -ETIMEDOUT);
	assert_int_equal(pinmm_rdma_query_mr(r.p, r.pd, r.mr.lkey, &q), 0);
	assert_true(q.lease_revoked);
	assert_int_equal(pinmm_file_pins(m, -1, NULL, &fpi, 1), 1);
	assert_true(fpi.revoked);

	/*
	 * Another file takes blocks: on /dax/ until the device is full, and it
	 * never gets the revoked frames' blocks (held until the last unpin);
	 * on /data/ 64 pages.
	 */
	snprintf(path, sizeof(path), "%sother", mnt);
	ofd = pinmm_open(r.p, path, O_CREAT | O_RDWR, 0644);
	memset(buf, 'O', sizeof(buf));
	for (long o = 0, n = 64; !reused && n == 64; o += 64 * (long)PG) {
		long oa;

		for (n = 0; n < 64; n++)	/* the freed blocks come last: up to ENOSPC */
			if (pinmm_pwrite(r.p, ofd, buf, PG, o + n * (long)PG) != (long)PG)
				break;
		olen = o + n * (long)PG;
		if (strcmp(mnt, "/dax/")) {
			reused = 1;	/* the page cache: no frame is a block */
			break;
		}
		if (!n)
			break;
		oa = pinmm_mmap(r.p, 0, (size_t)n * PG, PROT_READ, MAP_SHARED, ofd, o);
		assert_true(oa > 0);
		for (unsigned long i = 0; i < (unsigned long)n; i++) {
			(void)test_load8(r.p, (unsigned long)oa + i * PG);
			for (int k = 0; k < RL_PAGES; k++)
				reused += gh_info(r.p, (unsigned long)oa + i * PG).pfn == pfn[k];
		}
		assert_int_equal(pinmm_munmap(r.p, (unsigned long)oa, (size_t)n * PG), 0);
	}
	if (!strcmp(mnt, "/dax/")) {
		assert_int_equal(reused, 0);
		assert_int_equal(gh_vm(m, "busy_blocks"), RL_PAGES);
	} else {
		assert_true(reused > 0);	/* the oracle is about those blocks */
	}
	/* The peer keeps writing: every operation now is a remote access error. */
	t0 = now_ms();
	do {
		assert_int_equal(pinmm_rdma_peer_progress(peer, &ps), 0);
		if (now_ms() - t0 > TEST_WAIT_MS)
			fail_msg("the peer was never refused");
	} while (ps.refused < 50 || ps.last_error != EREMOTEIO);	/* EIO: fenced in flight */
	assert_int_equal(pinmm_rdma_peer_stop(peer, &ps), 0);
	assert_int_equal(ps.last_error, EREMOTEIO);	/* an errno */
	st1 = rl_stats(&r);
	assert_true(st1.refused_lease >= 50);
	assert_int_equal(st1.bytes_written, st0.bytes_written);	/* nothing landed */
	assert_int_equal(st1.remote_writes, st0.remote_writes);
	assert_true(st0.remote_writes >= 20);
	for (long o = 0; o < olen; o += (long)PG) {
		assert_int_equal(pinmm_pread(r.p, ofd, got, PG, o), (long)PG);
		assert_memory_equal(got, buf, PG);
	}
	print_message("# %s revoke: truncate stalled %.0f ms; %ld peer writes before, %ld refused "
		      "after (EREMOTEIO), %ld bytes after revocation; other file %ld pages intact, "
		      "%d held DAX frames reused\n", mnt, stall, st0.remote_writes, st1.refused_lease,
		      st1.bytes_written - st0.bytes_written, olen / (long)PG,
		      strcmp(mnt, "/dax/") ? 0 : reused);
	/* One-shot operations too. */
	assert_int_equal(pinmm_rdma_remote_read(r.p, r.pd, r.mr.rkey, r.addr, got, 8), -EREMOTEIO);

	/* Deregistration after revocation: the last pins go. */
	assert_int_equal(pinmm_rdma_dereg_mr(r.p, r.pd, r.mr.lkey), 0);
	assert_int_equal(pinmm_rdma_dereg_mr(r.p, r.pd, r.mr.lkey), -ENOENT);
	assert_int_equal(pinmm_file_pins(m, -1, NULL, &fpi, 1), 0);
	assert_int_equal(pins_out(m), 0);
	if (!strcmp(mnt, "/dax/")) {	/* ... and free the held blocks */
		assert_int_equal(gh_vm(m, "busy_blocks"), 0);
		assert_int_equal(gh_vm(m, "busy_blocks_released"), RL_PAGES);
	}
	assert_int_equal(pinmm_lease_put(r.l), 0);
	assert_int_equal(pinmm_rdma_dealloc_pd(r.p, r.pd), 0);
	assert_int_equal(pinmm_close(r.p, ofd), 0);
	assert_int_equal(pinmm_close(r.p, r.fd), 0);
	test_shutdown_clean(m);
}

static void test_revoke_data(void **s) { revoke_on(((struct test_imgdir *)*s)->img, mounts[0]); }
static void test_revoke_dax(void **s) { revoke_on(((struct test_imgdir *)*s)->img, mounts[1]); }

/* Teardown at the last reference of the PD's file, not at close(). */
static void last_fput_on(const char *img, const char *mnt)
{
	struct pinmm *m = rl_boot(img, "revoke", "2000");
	struct pinmm_file_pin_info fpi;
	struct file *f;
	struct rl r = { 0 };

	rl_setup(m, &r, mnt, "c");
	f = pinmm_fget(r.p, r.pd);
	assert_non_null(f);
	assert_int_equal(pinmm_close(r.p, r.pd), 0);
	assert_int_equal(pinmm_file_pins(m, -1, NULL, &fpi, 1), 1);	/* still registered */
	assert_int_equal(pinmm_lease_put(r.l), -EBUSY);
	fput(f);							/* the last one */
	assert_int_equal(pinmm_file_pins(m, -1, NULL, &fpi, 1), 0);
	assert_int_equal(pins_out(m), 0);
	assert_int_equal(pinmm_lease_put(r.l), 0);
	assert_int_equal(pinmm_close(r.p, r.fd), 0);
	test_shutdown_clean(m);
}

static void test_last_fput_data(void **s) { last_fput_on(((struct test_imgdir *)*s)->img, mounts[0]); }
static void test_last_fput_dax(void **s) { last_fput_on(((struct test_imgdir *)*s)->img, mounts[1]); }

/* The owner of outcome wait: on the break, deregister, then put. */
struct owner {
	struct rl *r;
	int ok;
};

static void *owner_thread(void *arg)
{
	struct owner *o = arg;
	struct timespec d = { 0, 30 * 1000000L };
	int waited = pinmm_lease_wait_break(o->r->l, TEST_WAIT_MS);

	nanosleep(&d, NULL);
	o->ok = !waited && !pinmm_rdma_dereg_mr(o->r->p, o->r->pd, o->r->mr.lkey);
	if (!o->ok)	/* late: still let the truncate go */
		pinmm_rdma_dereg_mr(o->r->p, o->r->pd, o->r->mr.lkey);
	o->ok &= !pinmm_lease_put(o->r->l);
	return NULL;
}

/* fail, unbreakable: the truncate fails, the region keeps working; wait. */
static void outcome_on(const char *img, const char *mnt, const char *outcome)
{
	struct pinmm *m = rl_boot(img, outcome, "50");
	bool wait = !strcmp(outcome, "wait");
	struct owner o;
	pthread_t t;
	struct rl r = { 0 };
	double t0;
	int ret;

	rl_setup(m, &r, mnt, "w");
	o = (struct owner){ .r = &r };
	if (wait)
		assert_int_equal(pthread_create(&t, NULL, owner_thread, &o), 0);
	t0 = now_ms();
	ret = pinmm_ftruncate(r.p, r.fd, 0);
	print_message("# %s %s: truncate returned %s after %.0f ms\n", mnt, outcome,
		      ret ? pinmm_strerror(ret) : "0", now_ms() - t0);
	if (wait) {
		TEST_JOIN(t, "owner");
		assert_true(o.ok);
		assert_int_equal(ret, 0);
		assert_int_equal(pinmm_rdma_remote_write(r.p, r.pd, r.mr.rkey, r.addr, "x", 1),
				 -EKEYREVOKED);		/* deregistered by its owner */
		assert_int_equal(rl_stats(&r).mrs_revoked, 0);
	} else {
		assert_int_equal(ret, -ETXTBSY);
		assert_int_equal(pinmm_fstat_size(r.p, r.fd), RL_PAGES * (long)PG);
		assert_int_equal(pinmm_rdma_remote_write(r.p, r.pd, r.mr.rkey, r.addr, "x", 1), 1);
		assert_int_equal(rl_stats(&r).mrs_revoked, 0);
		assert_int_equal(gh_vm(m, "lease_etxtbsy"), 1);
		assert_int_equal(pinmm_rdma_dereg_mr(r.p, r.pd, r.mr.lkey), 0);
		assert_int_equal(pinmm_lease_put(r.l), 0);
	}
	assert_int_equal(pins_out(m), 0);
	assert_int_equal(pinmm_rdma_dealloc_pd(r.p, r.pd), 0);
	assert_int_equal(pinmm_close(r.p, r.fd), 0);
	test_shutdown_clean(m);
}

#define OUT(o)									\
static void test_##o##_data(void **s) { outcome_on(((struct test_imgdir *)*s)->img, mounts[0], #o); } \
static void test_##o##_dax(void **s) { outcome_on(((struct test_imgdir *)*s)->img, mounts[1], #o); }
OUT(wait)
OUT(fail)
OUT(unbreakable)

#define T(f) cmocka_unit_test_setup_teardown(f, test_imgdir_setup, test_imgdir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_required_data), T(test_required_dax),
		T(test_revoke_data), T(test_revoke_dax),
		T(test_last_fput_data), T(test_last_fput_dax),
		T(test_wait_data), T(test_wait_dax),
		T(test_fail_data), T(test_fail_dax),
		T(test_unbreakable_data), T(test_unbreakable_dax),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
