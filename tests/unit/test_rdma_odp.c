/* SPDX-License-Identifier: MIT */
/*
 * test_rdma_odp.c - on-demand paging memory regions (IB_ACCESS_ON_DEMAND):
 * no pins, a device translation table filled by hmm_range_fault() on
 * device page faults and cleared by the interval notifier.  The mirror
 * must never read or write stale pages across munmap, COW after fork,
 * migration, THP split, truncation of a memfd and writeback, also while a
 * peer thread writes during concurrent invalidations.
 */
#include "gup_helpers.h"
#include <pinmm/rdma.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define RW (IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_READ)
#define ODP (RW | IB_ACCESS_ON_DEMAND)

static long pins_out(struct pinmm *m)
{
	return gh_vm(m, "nr_foll_pin_acquired") - gh_vm(m, "nr_foll_pin_released");
}

static struct pinmm_rdma_mr_info query(struct pinmm_proc *p, int pd, uint32_t lkey)
{
	struct pinmm_rdma_mr_info q;

	assert_int_equal(pinmm_rdma_query_mr(p, pd, lkey, &q), 0);
	return q;
}

static uint8_t rread8(struct pinmm_proc *p, int pd, uint32_t rkey, unsigned long iova)
{
	uint8_t v = 0xcc;

	assert_int_equal(pinmm_rdma_remote_read(p, pd, rkey, iova, &v, 1), 1);
	return v;
}

static void rwrite8(struct pinmm_proc *p, int pd, uint32_t rkey, unsigned long iova, uint8_t v)
{
	assert_int_equal(pinmm_rdma_remote_write(p, pd, rkey, iova, &v, 1), 1);
}

static void test_odp_basic(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 16 * PG);
	struct pinmm_rdma_mr_info mr, q;
	struct pinmm_rdma_stats st;
	char buf[3 * 4096];
	int pd = pinmm_rdma_alloc_pd(p);
	(void)state;

	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, 16 * PG, ODP, &mr), 0);
	assert_true(mr.on_demand);
	assert_int_equal(mr.mapped_pages, 0);
	assert_int_equal(pinmm_proc_pinned_vm(p), 0);
	assert_int_equal(pins_out(m), 0);

	/* First access: one device page fault maps the pages of the access. */
	memset(buf, 0x3c, sizeof(buf));
	assert_int_equal(pinmm_rdma_remote_write(p, pd, mr.rkey, a + PG, buf, 2 * PG + 8),
			 2 * PG + 8);
	q = query(p, pd, mr.lkey);
	assert_int_equal(q.device_faults, 1);
	assert_int_equal(q.mapped_pages, 3);
	assert_int_equal(test_load8(p, a + PG), 0x3c);
	assert_int_equal(test_load8(p, a + 3 * PG + 7), 0x3c);
	assert_int_equal(test_load8(p, a + 3 * PG + 8), 0);
	/* Hits: no further faults. */
	assert_int_equal(rread8(p, pd, mr.rkey, a + 2 * PG), 0x3c);
	test_store8(p, a + 2 * PG, 0x7e);
	assert_int_equal(rread8(p, pd, mr.rkey, a + 2 * PG), 0x7e);
	assert_int_equal(query(p, pd, mr.lkey).device_faults, 1);
	/* A read fault maps the zero page read-only; the write refaults. */
	assert_int_equal(rread8(p, pd, mr.rkey, a + 8 * PG), 0);
	assert_int_equal(query(p, pd, mr.lkey).device_faults, 2);
	rwrite8(p, pd, mr.rkey, a + 8 * PG, 0x21);
	assert_int_equal(query(p, pd, mr.lkey).device_faults, 3);
	assert_int_equal(test_load8(p, a + 8 * PG), 0x21);
	assert_false(gh_info(p, a + PG).maybe_dma_pinned);
	assert_int_equal(pins_out(m), 0);

	st = (struct pinmm_rdma_stats){ 0 };
	assert_int_equal(pinmm_rdma_pd_stats(p, pd, &st), 0);
	assert_int_equal(st.device_faults, 3);
	assert_int_equal(st.refused, 0);
	/* An ODP region on unmapped or read-only memory for writing is refused. */
	long ro = pinmm_mmap(p, 0, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, (unsigned long)ro, PG, ODP, NULL), -EFAULT);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, (unsigned long)ro, PG,
					   IB_ACCESS_REMOTE_READ | IB_ACCESS_ON_DEMAND, &q), 0);
	assert_int_equal(rread8(p, pd, q.rkey, (unsigned long)ro), 0);
	assert_int_equal(pinmm_rdma_remote_write(p, pd, q.rkey, (uint64_t)ro, buf, 1), -EACCES);
	assert_int_equal(pinmm_munmap(p, a + 15 * PG, PG), 0);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, 16 * PG, ODP, NULL), -EFAULT);
	assert_int_equal(pinmm_rdma_dereg_mr(p, pd, q.lkey), 0);
	assert_int_equal(pinmm_rdma_dereg_mr(p, pd, mr.lkey), 0);
	assert_int_equal(pinmm_rdma_dereg_mr(p, pd, mr.lkey), -ENOENT);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

/* munmap: the device loses the pages; a later access faults and fails. */
static void test_odp_munmap(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 8 * PG);
	struct pinmm_rdma_mr_info mr, q;
	struct pinmm_rdma_stats st;
	uint8_t v;
	int pd = pinmm_rdma_alloc_pd(p);
	(void)state;

	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, 8 * PG, ODP, &mr), 0);
	for (int i = 0; i < 8; i++)
		rwrite8(p, pd, mr.rkey, a + i * PG, (uint8_t)(i + 1));
	assert_int_equal(query(p, pd, mr.lkey).mapped_pages, 8);
	long inv0 = query(p, pd, mr.lkey).invalidations;
	assert_int_equal(pinmm_munmap(p, a + 2 * PG, 4 * PG), 0);
	q = query(p, pd, mr.lkey);
	assert_true(q.invalidations > inv0);
	assert_int_equal(q.mapped_pages, 4);
	/* Never stale: the old page is not read, the access is refused. */
	assert_int_equal(pinmm_rdma_remote_read(p, pd, mr.rkey, a + 3 * PG, &v, 1), -EFAULT);
	assert_int_equal(pinmm_rdma_remote_write(p, pd, mr.rkey, a + 3 * PG, &v, 1), -EFAULT);
	assert_int_equal(rread8(p, pd, mr.rkey, a + 7 * PG), 8);
	st = (struct pinmm_rdma_stats){ 0 };
	assert_int_equal(pinmm_rdma_pd_stats(p, pd, &st), 0);
	assert_int_equal(st.refused_fault, 2);
	/* New memory at the address: the mirror follows the process. */
	assert_int_equal(pinmm_mmap(p, a + 2 * PG, 4 * PG, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
			 (long)(a + 2 * PG));
	assert_int_equal(rread8(p, pd, mr.rkey, a + 3 * PG), 0);
	rwrite8(p, pd, mr.rkey, a + 4 * PG, 0x44);
	assert_int_equal(test_load8(p, a + 4 * PG), 0x44);
	/* MADV_DONTNEED: same story, zero-fill afterwards. */
	assert_int_equal(pinmm_madvise(p, a, 2 * PG, MADV_DONTNEED), 0);
	assert_int_equal(rread8(p, pd, mr.rkey, a), 0);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

/* COW after fork: the device follows the parent's new page. */
static void test_odp_fork_cow(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m), *c = NULL;
	unsigned long a = test_mmap_anon(p, 4 * PG);
	struct pinmm_rdma_mr_info mr;
	int pd = pinmm_rdma_alloc_pd(p);
	(void)state;

	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, 4 * PG, ODP, &mr), 0);
	for (int i = 0; i < 4; i++)
		rwrite8(p, pd, mr.rkey, a + i * PG, 'A');
	long inv0 = query(p, pd, mr.lkey).invalidations;
	long cow0 = gh_vm(m, "fork_cow_share");
	assert_int_equal(pinmm_fork(p, &c), 0);
	/* Nothing pinned: fork shares the pages COW and write-protects them. */
	assert_true(gh_vm(m, "fork_cow_share") - cow0 >= 4);
	assert_true(query(p, pd, mr.lkey).invalidations > inv0);

	/* Parent writes page 0 (COW copy): the device must see the copy. */
	test_store8(p, a, 'P');
	assert_int_equal(rread8(p, pd, mr.rkey, a), 'P');
	assert_int_equal(test_load8(c, a), 'A');
	/* A remote write to a still-shared page breaks COW for the parent. */
	rwrite8(p, pd, mr.rkey, a + PG, 'R');
	assert_int_equal(test_load8(p, a + PG), 'R');
	assert_int_equal(test_load8(c, a + PG), 'A');
	/* The child writes page 2: the device keeps the parent's page. */
	test_store8(c, a + 2 * PG, 'C');
	assert_int_equal(rread8(p, pd, mr.rkey, a + 2 * PG), 'A');
	rwrite8(p, pd, mr.rkey, a + 2 * PG, 'r');
	assert_int_equal(test_load8(p, a + 2 * PG), 'r');
	assert_int_equal(test_load8(c, a + 2 * PG), 'C');
	/* Parent's CPU write after a remote read of a shared page. */
	assert_int_equal(rread8(p, pd, mr.rkey, a + 3 * PG), 'A');
	test_store8(p, a + 3 * PG, 'Q');
	assert_int_equal(rread8(p, pd, mr.rkey, a + 3 * PG), 'Q');
	assert_int_equal(test_load8(c, a + 3 * PG), 'A');
	assert_int_equal(pinmm_exit(c), 0);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

/* Migration: an ODP page moves (a pinned one would not); the device follows. */
static void test_odp_migrate(void **state)
{
	struct pinmm *m = gh_boot("zone.movable=64M");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);
	struct pinmm_rdma_mr_info mr;
	int pd = pinmm_rdma_alloc_pd(p);
	(void)state;

	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, 4 * PG, ODP, &mr), 0);
	rwrite8(p, pd, mr.rkey, a + 10, 0x5e);
	unsigned long pfn = gh_info(p, a).pfn;
	long faults = query(p, pd, mr.lkey).device_faults;
	assert_int_equal(pinmm_migrate_page(p, a, NULL), 0);
	assert_int_not_equal(gh_info(p, a).pfn, pfn);
	assert_int_equal(query(p, pd, mr.lkey).mapped_pages, 0);
	assert_int_equal(rread8(p, pd, mr.rkey, a + 10), 0x5e);
	assert_int_equal(query(p, pd, mr.lkey).device_faults, faults + 1);
	rwrite8(p, pd, mr.rkey, a + 11, 0x5f);
	assert_int_equal(test_load8(p, a + 11), 0x5f);
	/* And back. */
	assert_int_equal(pinmm_migrate_page(p, a, NULL), 0);
	test_store8(p, a + 12, 0x60);
	assert_int_equal(rread8(p, pd, mr.rkey, a + 12), 0x60);
	rwrite8(p, pd, mr.rkey, a + 13, 0x61);
	assert_int_equal(test_load8(p, a + 13), 0x61);
	assert_int_equal(pins_out(m), 0);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

/* THP split under an ODP mirror. */
static void test_odp_thp_split(void **state)
{
	struct pinmm *m = gh_boot("thp=always");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 2 * HPAGE_SIZE);
	struct pinmm_rdma_mr_info mr;
	int pd = pinmm_rdma_alloc_pd(p);
	(void)state;

	assert_int_equal(pinmm_madvise(p, a, 2 * HPAGE_SIZE, MADV_POPULATE_WRITE), 0);
	assert_true(gh_info(p, a).huge_mapped);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, 2 * HPAGE_SIZE, ODP, &mr), 0);
	rwrite8(p, pd, mr.rkey, a + 5 * PG, 0x11);
	rwrite8(p, pd, mr.rkey, a + HPAGE_SIZE + PG, 0x22);
	long inv0 = query(p, pd, mr.lkey).invalidations;
	assert_int_equal(pinmm_split_huge_page(p, a), 0);
	assert_false(gh_info(p, a).huge_mapped);
	assert_true(query(p, pd, mr.lkey).invalidations > inv0);
	assert_int_equal(rread8(p, pd, mr.rkey, a + 5 * PG), 0x11);
	test_store8(p, a + 5 * PG, 0x33);
	assert_int_equal(rread8(p, pd, mr.rkey, a + 5 * PG), 0x33);
	/* Free one subpage of the split THP: the device must not keep it. */
	assert_int_equal(pinmm_madvise(p, a + 5 * PG, PG, MADV_DONTNEED), 0);
	assert_int_equal(rread8(p, pd, mr.rkey, a + 5 * PG), 0);
	assert_int_equal(rread8(p, pd, mr.rkey, a + HPAGE_SIZE + PG), 0x22);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

/* Truncation of a memfd mapping: beyond EOF is refused, then fresh zeros. */
static void test_odp_truncate(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	struct pinmm_rdma_mr_info mr;
	int pd = pinmm_rdma_alloc_pd(p);
	int fd = pinmm_memfd_create(p, "odp", 0);
	char c = 0;
	long a;
	uint8_t v;
	(void)state;

	assert_true(fd >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd, 4 * PG), 0);
	a = pinmm_mmap(p, 0, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(a > 0);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, (unsigned long)a, 4 * PG, ODP, &mr), 0);
	rwrite8(p, pd, mr.rkey, (unsigned long)a + PG, 'm');
	assert_int_equal(pinmm_pread(p, fd, &c, 1, PG), 1);
	assert_int_equal(c, 'm');
	assert_true(gh_info(p, (unsigned long)a + PG).dirty);

	assert_int_equal(pinmm_ftruncate(p, fd, 0), 0);
	assert_int_equal(query(p, pd, mr.lkey).mapped_pages, 0);
	assert_int_equal(pinmm_rdma_remote_read(p, pd, mr.rkey, (uint64_t)a + PG, &v, 1), -EFAULT);
	assert_int_equal(pinmm_ftruncate(p, fd, 4 * PG), 0);
	assert_int_equal(rread8(p, pd, mr.rkey, (unsigned long)a + PG), 0);
	rwrite8(p, pd, mr.rkey, (unsigned long)a + 2 * PG, 'n');
	assert_int_equal(pinmm_pread(p, fd, &c, 1, 2 * PG), 1);
	assert_int_equal(c, 'n');
	/* A write through the file is seen by the device. */
	assert_int_equal(pinmm_pwrite(p, fd, "w", 1, 3 * PG), 1);
	assert_int_equal(rread8(p, pd, mr.rkey, (unsigned long)a + 3 * PG), 'w');
	/* Hole punch. */
	assert_int_equal(pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					 2 * PG, PG), 0);
	assert_int_equal(rread8(p, pd, mr.rkey, (unsigned long)a + 2 * PG), 0);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

/*
 * Writeback: once a file page is cleaned and write-protected, a device
 * write must fault again so that the page is dirtied again (never lost).
 * Needs pinfs (a filesystem with writeback); skipped when it cannot mount.
 */
static void test_odp_writeback(void **state)
{
	char img[] = "/tmp/pinmm-odp-XXXXXX";
	int hfd = mkstemp(img);
	struct pinmm_config cfg;
	struct pinmm *m = NULL;
	struct pinmm_proc *p;
	struct pinmm_rdma_mr_info mr;
	char c = 0;
	long a;
	int fd, pd;
	(void)state;

	assert_true(hfd >= 0);
	close(hfd);
	unlink(img);		/* pinfs runs mkfs on an image that does not exist */
	pinmm_config_default(&cfg);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "256M"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "debug", "2"), 0);
	if (pinmm_config_set(&cfg, "pinfs.image", img) ||
	    pinmm_config_set(&cfg, "pinfs.size", "16M") || pinmm_boot(&cfg, &m)) {
		unlink(img);
		skip();
	}
	p = test_proc(m);
	fd = pinmm_open(p, "/data/odp", O_RDWR | O_CREAT, 0600);
	if (fd < 0) {
		test_shutdown_clean(m);
		unlink(img);
		skip();
	}
	pd = pinmm_rdma_alloc_pd(p);
	assert_int_equal(pinmm_ftruncate(p, fd, 2 * PG), 0);
	a = pinmm_mmap(p, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(a > 0);
	/* A pinned writable region on a writeback file is refused (§5.4). */
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, (unsigned long)a, 2 * PG, RW, NULL), -EFAULT);
	/* An ODP one is the supported way. */
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, (unsigned long)a, 2 * PG, ODP, &mr), 0);
	rwrite8(p, pd, mr.rkey, (unsigned long)a, 'x');
	assert_true(gh_info(p, (unsigned long)a).dirty);
	long faults = query(p, pd, mr.lkey).device_faults;
	assert_int_equal(pinmm_fsync(p, fd), 0);
	assert_false(gh_info(p, (unsigned long)a).dirty);
	assert_false(gh_info(p, (unsigned long)a).writable);
	/* The read may use the clean page; the write must fault and redirty it. */
	assert_int_equal(rread8(p, pd, mr.rkey, (unsigned long)a), 'x');
	rwrite8(p, pd, mr.rkey, (unsigned long)a, 'y');
	assert_true(query(p, pd, mr.lkey).device_faults > faults);
	assert_true(gh_info(p, (unsigned long)a).dirty);
	assert_int_equal(pinmm_fsync(p, fd), 0);
	assert_int_equal(pinmm_pread(p, fd, &c, 1, 0), 1);
	assert_int_equal(c, 'y');
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
	unlink(img);
}

struct invalidator {
	struct pinmm_proc *p;
	unsigned long a;
	int npages;
	atomic_bool stop;
	atomic_long rounds;
};

static void *invalidate_thread(void *arg)
{
	struct invalidator *inv = arg;
	unsigned int seed = 7;

	while (!atomic_load(&inv->stop)) {
		unsigned long addr = inv->a + (rand_r(&seed) % inv->npages) * PG;
		int r = pinmm_migrate_page(inv->p, addr, NULL);

		assert_true(r == 0 || r == -EAGAIN || r == -EFAULT || r == -EINVAL);
		/* Same protection again: a PROTECTION_VMA invalidation, data kept. */
		if ((inv->rounds % 8) == 0)
			assert_int_equal(pinmm_mprotect(inv->p, inv->a, 4 * PG,
							PROT_READ | PROT_WRITE), 0);
		inv->rounds++;
	}
	return NULL;
}

/*
 * A peer sweeps the region with writes (byte = sweep number) while another
 * thread migrates its pages: after the last sweep, every byte the CPU sees
 * is the last sweep's value - no write landed in a page the CPU lost.
 */
static void test_odp_concurrent_invalidations(void **state)
{
	struct pinmm *m = gh_boot("zone.movable=64M");
	struct pinmm_proc *p = test_proc(m);
	const int npages = 32, sweeps = 200;
	unsigned long a = test_mmap_anon(p, npages * PG);
	struct pinmm_rdma_mr_info mr;
	struct pinmm_rdma_peer *peer;
	struct pinmm_rdma_peer_stats ps;
	struct pinmm_rdma_stats st;
	struct invalidator inv = { .p = p, .a = a, .npages = npages };
	pthread_t t;
	int pd = pinmm_rdma_alloc_pd(p);
	(void)state;

	for (int i = 0; i < npages; i++)
		test_store8(p, a + i * PG, 0xff);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, npages * PG, ODP, &mr), 0);
	struct pinmm_rdma_peer_cfg cfg = {
		.rkey = mr.rkey, .iova = a, .length = npages * PG, .op_size = 1024,
		.write_pct = 100, .max_ops = (long)sweeps * npages * 4, .stop_on_error = true,
	};
	assert_int_equal(pthread_create(&t, NULL, invalidate_thread, &inv), 0);
	TEST_WAIT_UNTIL(atomic_load(&inv.rounds) >= 2, TEST_WAIT_MS, "two invalidation rounds");
	assert_int_equal(pinmm_rdma_peer_start(p, pd, &cfg, &peer), 0);
	/* The peer ends after max_ops, or at its first refusal (stop_on_error). */
	TEST_WAIT_UNTIL((assert_int_equal(pinmm_rdma_peer_progress(peer, &ps), 0),
			 ps.ops >= cfg.max_ops || ps.refused), TEST_WAIT_MS, "the peer's sweeps");
	assert_int_equal(pinmm_rdma_peer_wait(peer, &ps), 0);
	atomic_store(&inv.stop, true);
	TEST_JOIN(t, "the invalidating thread after the stop");
	assert_int_equal(ps.refused, 0);
	assert_int_equal(ps.sweeps, sweeps);
	for (int i = 0; i < npages; i++)
		for (int off = 0; off < (int)PG; off += 511)
			assert_int_equal(test_load8(p, a + i * PG + off), sweeps);
	assert_int_equal(pinmm_rdma_pd_stats(p, pd, &st), 0);
	assert_true(inv.rounds > 0);
	assert_true(st.invalidations > 0);
	assert_true(st.device_faults >= npages);
	print_message("# ops %ld, invalidator rounds %ld, invalidations %ld, faults %ld, retries %ld\n",
		      ps.ops, inv.rounds, st.invalidations, st.device_faults, st.fault_retries);
	assert_int_equal(pins_out(m), 0);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

/* Exit of the mirrored process: the region stays, accesses are refused. */
static void test_odp_exit(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m), *t = NULL;
	unsigned long a;
	struct pinmm_rdma_mr_info mr;
	uint8_t v;
	int pd = pinmm_rdma_alloc_pd(p);
	(void)state;

	assert_int_equal(pinmm_proc_create(m, &t), 0);
	a = test_mmap_anon(t, 4 * PG);
	test_store8(t, a, 0x42);
	assert_int_equal(pinmm_rdma_reg_mr_remote(p, pd, t, a, 4 * PG, ODP, &mr), 0);
	assert_true(mr.remote);
	assert_int_equal(rread8(p, pd, mr.rkey, a), 0x42);
	rwrite8(p, pd, mr.rkey, a + 1, 0x43);
	assert_int_equal(test_load8(t, a + 1), 0x43);
	assert_int_equal(pinmm_exit(t), 0);
	assert_int_equal(query(p, pd, mr.lkey).mapped_pages, 0);
	assert_int_equal(pinmm_rdma_remote_read(p, pd, mr.rkey, a, &v, 1), -EFAULT);
	assert_int_equal(pinmm_rdma_dereg_mr(p, pd, mr.lkey), 0);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_odp_basic),
		cmocka_unit_test(test_odp_munmap),
		cmocka_unit_test(test_odp_fork_cow),
		cmocka_unit_test(test_odp_migrate),
		cmocka_unit_test(test_odp_thp_split),
		cmocka_unit_test(test_odp_truncate),
		cmocka_unit_test(test_odp_writeback),
		cmocka_unit_test(test_odp_concurrent_invalidations),
		cmocka_unit_test(test_odp_exit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
