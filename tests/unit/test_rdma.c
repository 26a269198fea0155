/* SPDX-License-Identifier: MIT */
/*
 * test_rdma.c - pinned RDMA memory regions (<pinmm/rdma.h>): protection
 * domains as descriptors, registration with FOLL_PIN | FOLL_LONGTERM and
 * pinned_vm against RLIMIT_MEMLOCK, keys and their refusals, access flags,
 * regions that survive munmap and fork, deregistration that waits for
 * remote operations in flight, the bad inputs of the issue, and clean
 * shutdown with regions and peers left behind.
 */
#include "gup_helpers.h"
#include <pinmm/rdma.h>
#include <time.h>
#include <stdatomic.h>
#include "mm.h"		/* only to mark a VMA VM_IO: there is no public way */
#include "../../src/drivers/rdma_internal.h"	/* rdma_last_put_hook */

#define RW (IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_READ)

static long pins_out(struct pinmm *m)
{
	return gh_vm(m, "nr_foll_pin_acquired") - gh_vm(m, "nr_foll_pin_released");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Wait (with a deadline) until @peer has completed @n operations. */
#define PEER_WAIT_OPS(peer, ps, n, what)						\
	TEST_WAIT_UNTIL((assert_int_equal(pinmm_rdma_peer_progress((peer), &(ps)), 0),	\
			 (ps).ops >= (n)), TEST_WAIT_MS, (what))

static struct pinmm_rdma_stats pd_stats(struct pinmm_proc *p, int pd)
{
	struct pinmm_rdma_stats st;

	assert_int_equal(pinmm_rdma_pd_stats(p, pd, &st), 0);
	return st;
}

static void test_lifecycle(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 16 * PG);
	struct pinmm_rdma_mr_info mr, q;
	char buf[64], out[64];
	int pd;
	(void)state;

	pd = pinmm_rdma_alloc_pd(p);
	assert_true(pd >= 0);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, 16 * PG, RW, &mr), 0);
	assert_int_not_equal(mr.lkey, 0);
	assert_int_equal(mr.lkey, mr.rkey);
	assert_int_equal(mr.iova, a);
	assert_int_equal(mr.length, 16 * PG);
	assert_int_equal(mr.npages, 16);
	assert_false(mr.on_demand);
	assert_int_equal(mr.target_pid, pinmm_proc_pid(p));
	assert_int_equal(pinmm_proc_pinned_vm(p), 16);
	assert_int_equal(pins_out(m), 16);
	assert_true(gh_info(p, a).maybe_dma_pinned);
	assert_true(gh_info(p, a + 15 * PG).maybe_dma_pinned);

	/* A remote write is seen by the CPU, a CPU store by a remote read. */
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(pinmm_rdma_remote_write(p, pd, mr.rkey, a + PG - 8, buf, 32), 32);
	assert_int_equal(test_load8(p, a + PG - 8), 0x5a);
	assert_int_equal(test_load8(p, a + PG + 23), 0x5a);
	test_store8(p, a + 3 * PG, 0x77);
	assert_int_equal(pinmm_rdma_remote_read(p, pd, mr.rkey, a + 3 * PG, out, 1), 1);
	assert_int_equal(out[0], 0x77);

	assert_int_equal(pinmm_rdma_query_mr(p, pd, mr.lkey, &q), 0);
	assert_int_equal(q.inflight, 0);
	assert_int_equal(q.mapped_pages, 16);
	struct pinmm_rdma_stats st = pd_stats(p, pd);
	assert_int_equal(st.remote_writes, 1);
	assert_int_equal(st.remote_reads, 1);
	assert_int_equal(st.bytes_written, 32);
	assert_int_equal(st.mrs_live, 1);
	/* The PD is not deallocated while regions are registered. */
	assert_int_equal(pinmm_rdma_dealloc_pd(p, pd), -EBUSY);

	assert_int_equal(pinmm_rdma_dereg_mr(p, pd, mr.lkey), 0);
	assert_int_equal(pinmm_proc_pinned_vm(p), 0);
	assert_int_equal(pins_out(m), 0);
	assert_false(gh_info(p, a).maybe_dma_pinned);
	/* Writable regions unpin dirty. */
	assert_true(gh_info(p, a).dirty);
	assert_int_equal(pinmm_rdma_query_mr(p, pd, mr.lkey, &q), -ENOENT);
	assert_int_equal(pinmm_rdma_dealloc_pd(p, pd), 0);
	assert_int_equal(pinmm_rdma_dealloc_pd(p, pd), -EBADF);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

/* Pinned regions stop migration; charge against RLIMIT_MEMLOCK. */
static void test_memlock(void **state)
{
	struct pinmm *m = gh_boot("zone.movable=64M");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 32 * PG);
	struct pinmm_rdma_mr_info mr, mr2;
	int pd = pinmm_rdma_alloc_pd(p);
	(void)state;

	assert_int_equal(pinmm_proc_set_rlimit_memlock(p, 8 * PG), 0);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, 16 * PG, RW, &mr), -ENOMEM);
	assert_int_equal(pinmm_proc_pinned_vm(p), 0);
	assert_int_equal(pins_out(m), 0);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, 8 * PG, RW, &mr), 0);
	assert_int_equal(pinmm_proc_pinned_vm(p), 8);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a + 8 * PG, PG, RW, &mr2), -ENOMEM);
	assert_int_equal(pinmm_proc_pinned_vm(p), 8);
	/* The pinned page cannot move; an unpinned one can. */
	assert_int_equal(pinmm_migrate_page(p, a, NULL), -EAGAIN);
	test_store8(p, a + 20 * PG, 1);
	assert_int_equal(pinmm_migrate_page(p, a + 20 * PG, NULL), 0);
	assert_int_equal(pinmm_rdma_dereg_mr(p, pd, mr.lkey), 0);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a + 8 * PG, 8 * PG, RW, &mr2), 0);
	assert_int_equal(pinmm_proc_pinned_vm(p), 8);
	assert_int_equal(pinmm_rdma_dereg_mr(p, pd, mr2.lkey), 0);
	assert_int_equal(pinmm_proc_pinned_vm(p), 0);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

static void test_access_flags(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);
	long ro = pinmm_mmap(p, 0, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct pinmm_rdma_mr_info mr, rmr;
	char buf[8] = "remote!", out[8];
	int pd = pinmm_rdma_alloc_pd(p);
	(void)state;

	assert_true(ro > 0);
	/* ib_check_mr_access(): REMOTE_WRITE needs LOCAL_WRITE. */
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, PG, IB_ACCESS_REMOTE_WRITE, &mr), -EINVAL);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, PG, 1U << 12, &mr), -EINVAL);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, PG, IB_ACCESS_REMOTE_ATOMIC |
					   IB_ACCESS_LOCAL_WRITE, &mr), -EOPNOTSUPP);

	/* A remote-read-only region refuses remote writes. */
	test_store8(p, a, 0x11);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, 4 * PG, IB_ACCESS_REMOTE_READ, &mr), 0);
	assert_int_equal(pinmm_rdma_remote_write(p, pd, mr.rkey, a, buf, 8), -EACCES);
	assert_int_equal(test_load8(p, a), 0x11);
	assert_int_equal(pinmm_rdma_remote_read(p, pd, mr.rkey, a, out, 1), 1);
	assert_int_equal(out[0], 0x11);
	/* Local write only: no remote access at all. */
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, PG, IB_ACCESS_LOCAL_WRITE, &rmr), 0);
	assert_int_equal(pinmm_rdma_remote_read(p, pd, rmr.rkey, a, out, 1), -EACCES);
	assert_int_equal(pinmm_rdma_remote_write(p, pd, rmr.rkey, a, buf, 1), -EACCES);
	assert_int_equal(pinmm_rdma_dereg_mr(p, pd, rmr.lkey), 0);
	assert_int_equal(pd_stats(p, pd).refused_access, 3);

	/* Read-only memory: a read-only region (no FOLL_WRITE), not a writable one. */
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, (unsigned long)ro, 2 * PG, RW, &rmr), -EFAULT);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, (unsigned long)ro, 2 * PG,
					   IB_ACCESS_REMOTE_READ, &rmr), 0);
	assert_int_equal(pinmm_rdma_remote_read(p, pd, rmr.rkey, (uint64_t)ro, out, 8), 8);
	assert_int_equal(out[0], 0);
	assert_int_equal(pinmm_proc_pinned_vm(p), 6);
	assert_int_equal(pinmm_rdma_dereg_mr(p, pd, rmr.lkey), 0);
	assert_int_equal(pinmm_rdma_dereg_mr(p, pd, mr.lkey), 0);
	assert_int_equal(pins_out(m), 0);
	assert_int_equal(pinmm_proc_pinned_vm(p), 0);
	test_shutdown_clean(m);
}

/* Keys: another PD's, never issued, revoked; out-of-range accesses. */
static void test_keys_and_range(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 8 * PG);
	struct pinmm_rdma_mr_info mr;
	int pd1 = pinmm_rdma_alloc_pd(p), pd2 = pinmm_rdma_alloc_pd(p);
	char buf[2 * 4096] = { 1 };
	struct pinmm_rdma_stats st;
	(void)state;

	assert_true(pd1 >= 0 && pd2 >= 0 && pd1 != pd2);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd1, a + PG, 4 * PG, RW, &mr), 0);
	assert_int_equal(pinmm_rdma_remote_write(p, pd2, mr.rkey, a + PG, buf, 8), -EPERM);
	assert_int_equal(pinmm_rdma_remote_read(p, pd2, mr.rkey, a + PG, buf, 8), -EPERM);
	assert_int_equal(pinmm_rdma_dereg_mr(p, pd2, mr.lkey), -ENOENT);
	assert_int_equal(pinmm_rdma_remote_write(p, pd1, 0, a + PG, buf, 8), -ENOKEY);
	assert_int_equal(pinmm_rdma_remote_write(p, pd1, 0xfffffff0u, a + PG, buf, 8), -ENOKEY);
	assert_int_equal(pinmm_rdma_remote_write(p, pd1, mr.rkey ^ 0x80, a + PG, buf, 8), -ENOKEY);

	/* Range: before, past the end, straddling the end, wrapping. */
	assert_int_equal(pinmm_rdma_remote_write(p, pd1, mr.rkey, a, buf, 8), -ERANGE);
	assert_int_equal(pinmm_rdma_remote_write(p, pd1, mr.rkey, a + PG - 1, buf, 2), -ERANGE);
	assert_int_equal(pinmm_rdma_remote_read(p, pd1, mr.rkey, a + 5 * PG, buf, 1), -ERANGE);
	assert_int_equal(pinmm_rdma_remote_read(p, pd1, mr.rkey, a + 5 * PG - 4, buf, 8), -ERANGE);
	assert_int_equal(pinmm_rdma_remote_read(p, pd1, mr.rkey, UINT64_MAX - 2, buf, 8), -ERANGE);
	assert_int_equal(pinmm_rdma_remote_read(p, pd1, mr.rkey, a + PG, buf,
						SIZE_MAX - 4), -ERANGE);
	/* The last bytes and a zero-length access at the end are fine. */
	assert_int_equal(pinmm_rdma_remote_write(p, pd1, mr.rkey, a + 5 * PG - 8192, buf, 8192),
			 8192);
	assert_int_equal(pinmm_rdma_remote_read(p, pd1, mr.rkey, a + 5 * PG, buf, 0), 0);
	assert_int_equal(pinmm_rdma_remote_read(p, pd1, mr.rkey, a + PG, NULL, 8), -EINVAL);

	assert_int_equal(pinmm_rdma_dereg_mr(p, pd1, mr.lkey), 0);
	assert_int_equal(pinmm_rdma_remote_write(p, pd1, mr.rkey, a + PG, buf, 8), -EKEYREVOKED);
	assert_int_equal(pinmm_rdma_remote_read(p, pd2, mr.rkey, a + PG, buf, 8), -EKEYREVOKED);
	/* Double deregistration. */
	assert_int_equal(pinmm_rdma_dereg_mr(p, pd1, mr.lkey), -ENOENT);
	assert_int_equal(pinmm_rdma_dereg_mr(p, pd1, 0), -ENOENT);

	st = pd_stats(p, pd1);
	assert_int_equal(st.refused_bad_key, 3);
	assert_int_equal(st.refused_range, 6);
	assert_int_equal(st.refused_revoked, 1);
	assert_int_equal(st.remote_writes, 1);
	assert_int_equal(st.refused, 10);
	st = pd_stats(p, pd2);
	assert_int_equal(st.refused_wrong_pd, 2);
	assert_int_equal(st.refused_revoked, 1);
	assert_int_equal(st.refused, 3);
	assert_int_equal(pins_out(m), 0);
	test_shutdown_clean(m);
}

static void set_vm_io(struct pinmm_proc *p, unsigned long addr)
{
	struct mm_struct *mm = pinmm_proc_mm(p);
	struct vm_area_struct *vma;

	mmap_write_lock(mm);
	vma = find_vma(mm, addr);
	assert_non_null(vma);
	vma->vm_flags |= VM_IO;
	mmap_write_unlock(mm);
}

/* The issue's bad inputs: each refused, nothing leaks, the auditor passes. */
static void test_bad_inputs(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 8 * PG);
	long none = pinmm_mmap(p, 0, 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long io = test_mmap_anon(p, 2 * PG);
	struct pinmm_rdma_mr_info mr;
	int pd = pinmm_rdma_alloc_pd(p);
	int memfd = pinmm_memfd_create(p, "x", 0);
	(void)state;

	assert_true(none > 0 && memfd >= 0);
	/* Left unpopulated: a real VM_IO mapping has special PTEs GUP-fast refuses. */
	set_vm_io(p, io);
	/* Unmapped (a hole after munmap), partly unmapped, PROT_NONE, VM_IO. */
	assert_int_equal(pinmm_munmap(p, a + 4 * PG, 4 * PG), 0);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a + 4 * PG, PG, RW, &mr), -EFAULT);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, 8 * PG, RW, &mr), -EFAULT);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, (unsigned long)none, PG, RW, &mr), -EFAULT);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, (unsigned long)none, PG,
					   IB_ACCESS_REMOTE_READ, &mr), -EFAULT);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, io, PG, RW, &mr), -EFAULT);
	/* Zero, unaligned, overflowing, beyond the address space. */
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, 0, RW, &mr), -EINVAL);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a + 1, PG, RW, &mr), -EINVAL);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, PG + 1, RW, &mr), -EINVAL);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, ~0UL & ~(PG - 1), 2 * PG, RW, &mr), -EINVAL);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, (size_t)0 - PG, RW, &mr), -EINVAL);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, 0x7ffffffff000UL, 2 * PG, RW, &mr), -EINVAL);
	/* Unknown access flags. */
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, PG, 0x80000000u, &mr), -EINVAL);
	/* Not a PD, no process. */
	assert_int_equal(pinmm_rdma_reg_mr(p, memfd, a, PG, RW, &mr), -EBADF);
	assert_int_equal(pinmm_rdma_reg_mr(p, 999, a, PG, RW, &mr), -EBADF);
	assert_int_equal(pinmm_rdma_reg_mr(NULL, pd, a, PG, RW, &mr), -EINVAL);
	assert_int_equal(pinmm_rdma_dereg_mr(p, memfd, 1), -EBADF);
	assert_int_equal(pinmm_rdma_remote_write(p, memfd, 1, a, "x", 1), -EBADF);
	assert_int_equal(pinmm_rdma_dealloc_pd(p, memfd), -EBADF);
	assert_int_equal(pinmm_rdma_pd_stats(p, pd, NULL), -EINVAL);
	assert_int_equal(pinmm_rdma_alloc_pd(NULL), -EINVAL);

	assert_int_equal(pinmm_proc_pinned_vm(p), 0);
	assert_int_equal(pins_out(m), 0);
	assert_int_equal(pd_stats(p, pd).mrs_registered, 0);
	assert_int_equal(pinmm_audit(m), 0);
	/* Shut down with the VM_IO VMA cleared again: the auditor knows no PFN maps. */
	test_shutdown_clean(m);
}

/* munmap: the region keeps the registered pages; the process gets new ones. */
static void test_survives_munmap(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);
	struct pinmm_rdma_mr_info mr;
	char buf[16];
	int pd = pinmm_rdma_alloc_pd(p);
	long b;
	(void)state;

	for (int i = 0; i < 4; i++)
		test_store8(p, a + i * PG, (uint8_t)(0x40 + i));
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, 4 * PG, RW, &mr), 0);
	assert_int_equal(pinmm_munmap(p, a, 4 * PG), 0);
	assert_true(gh_vm(m, "pinned_page_detached") >= 4);
	/* The old pages are still there for the peer. */
	assert_int_equal(pinmm_rdma_remote_read(p, pd, mr.rkey, a + 2 * PG, buf, 1), 1);
	assert_int_equal(buf[0], 0x42);
	memset(buf, 0x99, sizeof(buf));
	assert_int_equal(pinmm_rdma_remote_write(p, pd, mr.rkey, a + PG, buf, 16), 16);
	/* New memory at the same address is zero and never sees the remote write. */
	b = pinmm_mmap(p, a, 4 * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	assert_int_equal(b, (long)a);
	assert_int_equal(test_load8(p, a + PG), 0);
	assert_int_equal(pinmm_rdma_remote_write(p, pd, mr.rkey, a + PG, buf, 16), 16);
	assert_int_equal(test_load8(p, a + PG), 0);
	assert_false(gh_info(p, a + PG).maybe_dma_pinned);
	assert_int_equal(pins_out(m), 4);
	assert_int_equal(pinmm_audit(m), 0);
	/* Deregistration frees the detached pages. */
	long free0 = gh_vm(m, "nr_free_pages");
	assert_int_equal(pinmm_rdma_dereg_mr(p, pd, mr.lkey), 0);
	assert_int_equal(pins_out(m), 0);
	assert_int_equal(gh_vm(m, "nr_free_pages"), free0 + 4);
	test_shutdown_clean(m);
}

/* fork: the parent's registered pages stay the parent's (copied for the child). */
static void test_survives_fork(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m), *c = NULL;
	unsigned long a = test_mmap_anon(p, 4 * PG);
	struct pinmm_rdma_mr_info mr;
	char buf[4];
	int pd = pinmm_rdma_alloc_pd(p);
	(void)state;

	for (int i = 0; i < 4; i++)
		test_store8(p, a + i * PG, 'o');
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, 4 * PG, RW, &mr), 0);
	long copies = gh_vm(m, "fork_cow_copy");
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(gh_vm(m, "fork_cow_copy") - copies, 4);
	/* Linux: the child starts with pinned_vm 0 (mm_init()). */
	assert_int_equal(pinmm_proc_pinned_vm(c), 0);
	assert_int_equal(pinmm_proc_pinned_vm(p), 4);

	/* Parent and region stay coherent both ways; the child is apart. */
	test_store8(p, a + PG, 'P');
	assert_int_equal(pinmm_rdma_remote_read(p, pd, mr.rkey, a + PG, buf, 1), 1);
	assert_int_equal(buf[0], 'P');
	assert_int_equal(pinmm_rdma_remote_write(p, pd, mr.rkey, a + 2 * PG, "R", 1), 1);
	assert_int_equal(test_load8(p, a + 2 * PG), 'R');
	assert_int_equal(test_load8(c, a + 2 * PG), 'o');
	assert_int_equal(test_load8(c, a + PG), 'o');
	test_store8(c, a + 3 * PG, 'C');
	assert_int_equal(pinmm_rdma_remote_read(p, pd, mr.rkey, a + 3 * PG, buf, 1), 1);
	assert_int_equal(buf[0], 'o');
	assert_true(gh_info(p, a).maybe_dma_pinned);
	assert_false(gh_info(c, a).maybe_dma_pinned);

	/* The child inherited the PD descriptor; its exit leaves the region alone. */
	assert_int_equal(pinmm_exit(c), 0);
	assert_int_equal(pinmm_rdma_remote_write(p, pd, mr.rkey, a, "Z", 1), 1);
	assert_int_equal(test_load8(p, a), 'Z');
	assert_int_equal(pinmm_audit(m), 0);
	assert_int_equal(pinmm_rdma_dereg_mr(p, pd, mr.lkey), 0);
	assert_int_equal(pins_out(m), 0);
	test_shutdown_clean(m);
}

/* Deregistration waits for a peer's operation in flight. */
static void test_dereg_waits_inflight(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);
	struct pinmm_rdma_mr_info mr, q;
	struct pinmm_rdma_peer *peer;
	struct pinmm_rdma_peer_stats ps;
	int pd = pinmm_rdma_alloc_pd(p);
	double t0, t1;
	(void)state;

	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, 4 * PG, RW, &mr), 0);
	struct pinmm_rdma_peer_cfg cfg = {
		.rkey = mr.rkey, .iova = a, .length = 4 * PG, .op_size = 2 * PG,
		.write_pct = 100, .max_ops = 1, .hold_us = 300000, .pattern = 0xee,
	};
	assert_int_equal(pinmm_rdma_peer_start(p, pd, &cfg, &peer), 0);
	TEST_WAIT_UNTIL((assert_int_equal(pinmm_rdma_query_mr(p, pd, mr.lkey, &q), 0),
			 q.inflight), TEST_WAIT_MS, "the peer's operation in flight");
	t0 = now_s();
	assert_int_equal(pinmm_rdma_dereg_mr(p, pd, mr.lkey), 0);
	t1 = now_s();
	assert_true(t1 - t0 > 0.1);		/* it waited for the operation */
	PEER_WAIT_OPS(peer, ps, 1, "the peer's one operation");
	assert_int_equal(pinmm_rdma_peer_wait(peer, &ps), 0);
	assert_int_equal(ps.ops, 1);
	assert_int_equal(ps.refused, 0);
	/* Both pages of the operation were written before the unpin. */
	assert_int_equal(test_load8(p, a), 0xee);
	assert_int_equal(test_load8(p, a + 2 * PG - 1), 0xee);
	assert_int_equal(test_load8(p, a + 2 * PG), 0);
	assert_int_equal(pins_out(m), 0);
	test_shutdown_clean(m);
}

/*
 * The last in-flight reference against deregistration (issue "Trustworthy
 * results", item 1).  rdma_last_put_hook stops the putter of the last
 * reference just before its final access to the region; deregistration
 * runs meanwhile.  It must not return (and free the region) before that
 * access: the hook waits up to 200 ms for it to return, and records
 * whether it did.  Before the fix the count reached zero outside the
 * region's lock, deregistration freed the region at once, and the putter
 * then locked freed memory (ASan: heap-use-after-free; otherwise a hang
 * in about one run in ten under MALLOC_PERTURB_).
 */
static struct {
	atomic_bool armed, in_window, dereg_done, freed_early, hook_done;
} lp;

static void last_put_hook(void)
{
	double end = test_now_ms() + 200;

	if (!atomic_exchange(&lp.armed, false))
		return;
	atomic_store(&lp.in_window, true);
	while (!atomic_load(&lp.dereg_done) && test_now_ms() < end)
		test_poll_pause();
	atomic_store(&lp.freed_early, atomic_load(&lp.dereg_done));
	atomic_store(&lp.hook_done, true);
}

static void test_dereg_vs_last_put(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);
	struct pinmm_rdma_mr_info mr;
	struct pinmm_rdma_peer *peer;
	struct pinmm_rdma_peer_stats ps;
	int pd = pinmm_rdma_alloc_pd(p);
	(void)state;

	memset(&lp, 0, sizeof(lp));
	atomic_store(&lp.armed, true);
	atomic_store(&rdma_last_put_hook, last_put_hook);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, 4 * PG, RW, &mr), 0);
	struct pinmm_rdma_peer_cfg cfg = {
		.rkey = mr.rkey, .iova = a, .length = 4 * PG, .op_size = PG,
		.write_pct = 100, .max_ops = 1, .pattern = 0x5a,
	};
	assert_int_equal(pinmm_rdma_peer_start(p, pd, &cfg, &peer), 0);
	TEST_WAIT_UNTIL(atomic_load(&lp.in_window), TEST_WAIT_MS,
			"the peer's last put of its operation");
	assert_int_equal(pinmm_rdma_dereg_mr(p, pd, mr.lkey), 0);
	atomic_store(&lp.dereg_done, true);
	TEST_WAIT_UNTIL(atomic_load(&lp.hook_done), TEST_WAIT_MS, "the putter's hook");
	atomic_store(&rdma_last_put_hook, NULL);
	if (atomic_load(&lp.freed_early))
		fail_msg("deregistration freed the region before its last putter was done with it");
	PEER_WAIT_OPS(peer, ps, 1, "the peer's one operation");
	assert_int_equal(pinmm_rdma_peer_wait(peer, &ps), 0);
	assert_int_equal(ps.refused, 0);
	assert_int_equal(test_load8(p, a), 0x5a);
	assert_int_equal(pins_out(m), 0);
	test_shutdown_clean(m);
}

/*
 * An asynchronous peer writes while the process munmaps and finally exits:
 * its exit closes the PD, the region goes, the peer is refused from then on.
 */
static void test_peer_and_exit(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 64 * PG);
	struct pinmm_rdma_mr_info mr;
	struct pinmm_rdma_peer *peer;
	struct pinmm_rdma_peer_stats ps;
	int pd = pinmm_rdma_alloc_pd(p);
	(void)state;

	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, 64 * PG, RW, &mr), 0);
	struct pinmm_rdma_peer_cfg cfg = {
		.rkey = mr.rkey, .iova = a, .length = 64 * PG, .op_size = 1000,
		.write_pct = 70, .seed = 42,
	};
	assert_int_equal(pinmm_rdma_peer_start(p, pd, &cfg, &peer), 0);
	PEER_WAIT_OPS(peer, ps, 2000, "2000 peer operations");
	assert_int_equal(pinmm_munmap(p, a, 32 * PG), 0);
	PEER_WAIT_OPS(peer, ps, 4000, "4000 peer operations after munmap");
	assert_int_equal(ps.refused, 0);
	assert_int_equal(pinmm_exit(p), 0);
	assert_int_equal(pins_out(m), 0);
	TEST_WAIT_UNTIL((assert_int_equal(pinmm_rdma_peer_progress(peer, &ps), 0),
			 ps.refused >= 10), TEST_WAIT_MS, "10 refusals after the exit");
	assert_int_equal(pinmm_rdma_peer_stop(peer, &ps), 0);
	assert_int_equal(ps.last_error, EKEYREVOKED);
	assert_true(ps.reads > 0 && ps.writes > 0);
	test_shutdown_clean(m);
}

/*
 * Peers left running at shutdown: pinmm_shutdown() stops and frees them
 * before the processes exit (ASan/LSan would report their memory).  One
 * peer is stopped by hand first; the others are mid-operation (hold_us).
 */
static void test_shutdown_reaps_peers(void **state)
{
	struct pinmm *m = gh_boot0();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 16 * PG);
	struct pinmm_rdma_mr_info mr, odp;
	struct pinmm_rdma_peer *peer[4];
	struct pinmm_rdma_peer_stats ps;
	int pd = pinmm_rdma_alloc_pd(p);
	(void)state;

	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, 8 * PG, RW, &mr), 0);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a + 8 * PG, 8 * PG, RW | IB_ACCESS_ON_DEMAND,
					   &odp), 0);
	for (int i = 0; i < 4; i++) {
		/* disjoint windows: concurrent DMA to the same bytes is a real race */
		struct pinmm_rdma_peer_cfg cfg = {
			.rkey = i & 1 ? odp.rkey : mr.rkey,
			.iova = (i & 1 ? a + 8 * PG : a) + (unsigned long)(i >> 1) * 4 * PG,
			.length = 4 * PG, .op_size = 700, .write_pct = 50, .seed = (uint64_t)i + 1,
			.hold_us = i == 3 ? 200 : 0,
		};
		assert_int_equal(pinmm_rdma_peer_start(p, pd, &cfg, &peer[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		PEER_WAIT_OPS(peer[i], ps, 20, "20 operations of each peer");
	}
	assert_int_equal(pinmm_rdma_peer_stop(peer[0], &ps), 0);
	assert_true(ps.ops >= 20 && ps.refused == 0);
	/* peer[1..3] still run: shutdown reaps them, then deregisters. */
	test_shutdown_clean(m);
}

/* THP-backed regions; shutdown with regions still registered is clean. */
static void test_thp_and_shutdown(void **state)
{
	struct pinmm *m = gh_boot("thp=always");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * HPAGE_SIZE);
	struct pinmm_rdma_mr_info mr;
	int pd = pinmm_rdma_alloc_pd(p);
	char buf[8];
	(void)state;

	assert_int_equal(pinmm_madvise(p, a, 4 * HPAGE_SIZE, MADV_POPULATE_WRITE), 0);
	assert_true(gh_info(p, a).huge_mapped);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd, a, 4 * HPAGE_SIZE, RW, &mr), 0);
	assert_int_equal(pinmm_proc_pinned_vm(p), 4 * HPAGE_NR);
	assert_int_equal(gh_info(p, a + PG).pincount, HPAGE_NR);
	assert_int_equal(pinmm_split_huge_page(p, a), -EAGAIN);
	assert_int_equal(pinmm_rdma_remote_write(p, pd, mr.rkey, a + HPAGE_SIZE - 4, "abcdefgh", 8),
			 8);
	assert_int_equal(pinmm_rdma_remote_read(p, pd, mr.rkey, a + HPAGE_SIZE - 4, buf, 8), 8);
	assert_memory_equal(buf, "abcdefgh", 8);
	assert_int_equal(test_load8(p, a + HPAGE_SIZE), 'e');
	/* Another region on a second PD, left registered too. */
	assert_int_equal(pinmm_proc_set_rlimit_memlock(p, PINMM_RLIM_INFINITY), 0);
	int pd2 = pinmm_rdma_alloc_pd(p);
	assert_int_equal(pinmm_rdma_reg_mr(p, pd2, a, HPAGE_SIZE, IB_ACCESS_REMOTE_READ, NULL), 0);
	assert_int_equal(gh_info(p, a + PG).pincount, 2 * HPAGE_NR);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_memlock),
		cmocka_unit_test(test_access_flags),
		cmocka_unit_test(test_keys_and_range),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_survives_munmap),
		cmocka_unit_test(test_survives_fork),
		cmocka_unit_test(test_dereg_waits_inflight),
		cmocka_unit_test(test_dereg_vs_last_put),
		cmocka_unit_test(test_peer_and_exit),
		cmocka_unit_test(test_thp_and_shutdown),
		cmocka_unit_test(test_shutdown_reaps_peers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
