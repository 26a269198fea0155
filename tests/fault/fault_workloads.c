/* SPDX-License-Identifier: MIT */
/*
 * fault_workloads.c - the workloads of the fail-nth sweep
 * (doc/FAULT-INJECTION.md, "The sweep"; fault_sweep.c runs them): each
 * boots a machine, runs a sequence of public calls with STEP() (the first
 * error ends it) and leaves the machine to the sweep's checks.  Which
 * sites each one reaches is listed in doc/FAULT-INJECTION.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <pinmm/pinmm.h>
#include <pinmm/linux.h>
#include <pinmm/fault.h>
#include <pinmm/pinfs.h>
#include <pinmm/rdma.h>
#include <pinmm/dio.h>
#include <pinmm/io_uring.h>
#include <pinmm/lease.h>
#include <pinmm/gup_test.h>

#include "fault_sweep.h"

int run_err(struct run *r, const char *where, long rc)
{
	if (rc < 0 && !r->first_err) {
		r->first_err = (int)rc;
		r->where = where;
	}
	return rc < 0 ? (int)rc : 0;
}

int boot(struct run *r, const char *kv, ...)
{
	struct pinmm_config cfg;
	va_list ap;
	int err;

	pinmm_config_default(&cfg);
	pinmm_config_set(&cfg, "ram", "64M");
	pinmm_config_set(&cfg, "quiet", "1");
	va_start(ap, kv);
	for (const char *k = kv; k; k = va_arg(ap, const char *)) {
		const char *v = va_arg(ap, const char *);

		if (pinmm_config_set(&cfg, k, v)) {
			va_end(ap);
			fprintf(stderr, "fault_sweep: bad config %s=%s\n", k, v);
			exit(2);
		}
	}
	va_end(ap);
	if (r->img)
		snprintf(cfg.pinfs_image, sizeof(cfg.pinfs_image), "%s", r->img);
	err = pinmm_boot(&cfg, &r->m);
	if (err) {
		r->m = NULL;
		return run_err(r, "boot", err);
	}
	return 0;
}


/* fork with pins: a R/W long-term pin, fork, COW on both sides, unpin. */
static void wl_fork_pins(struct run *r)
{
	struct pinmm_proc *p = NULL, *c = NULL;
	struct page *pages[8];
	long addr, got = 0;
	char buf[64];

	if (boot(r, NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "mmap", addr = pinmm_mmap(p, 0, 64 * 1024, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	STEP(r, "store", pinmm_store(p, (unsigned long)addr, "parent", 6));
	STEP(r, "store", pinmm_store(p, (unsigned long)addr + 8 * 4096, "far", 3));
	STEP(r, "pin_user_pages_fast",
	     got = pinmm_pin_user_pages_fast((unsigned long)addr, 8, FOLL_WRITE | FOLL_LONGTERM,
					     pages));
	STEP(r, "fork", pinmm_fork(p, &c));
	STEP(r, "child store", pinmm_store(c, (unsigned long)addr + 8 * 4096, "child", 5));
	STEP(r, "parent store", pinmm_store(p, (unsigned long)addr, "PARENT", 6));
	STEP(r, "child load", pinmm_load(c, (unsigned long)addr, buf, 6));
	STEP(r, "mprotect", pinmm_mprotect(p, (unsigned long)addr, 16 * 1024, PROT_READ));
	STEP(r, "munmap", pinmm_munmap(c, (unsigned long)addr + 4096, 4096));
	STEP(r, "exit child", pinmm_exit(c));
	c = NULL;
out:
	if (got > 0)
		pinmm_unpin_user_pages_dirty_lock(pages, (unsigned long)got, true);
	if (c)
		pinmm_exit(c);
}

/* GUP in every form: slow get/pin (locked, unlocked, remote) and fast. */
static void wl_gup(struct run *r)
{
	struct pinmm_proc *p = NULL, *q = NULL;
	struct page *pages[16];
	struct mm_struct *mm;
	long addr, got;
	int locked;

	if (boot(r, "thp", "always", NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	STEP(r, "proc_create", pinmm_proc_create(r->m, &q));
	pinmm_set_current(p);
	STEP(r, "mmap", addr = pinmm_mmap(p, 0, 4 << 20, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	mm = pinmm_proc_mm(p);
	pinmm_mmap_read_lock(mm);
	got = pinmm_get_user_pages((unsigned long)addr, 16, FOLL_WRITE, pages);
	pinmm_mmap_read_unlock(mm);
	STEP(r, "get_user_pages", got);
	for (long i = 0; i < got; i++)
		pinmm_put_page(pages[i]);
	STEP(r, "pin_user_pages_unlocked",
	     got = pinmm_pin_user_pages_unlocked((unsigned long)addr + (2 << 20), 16, pages, 0));
	pinmm_unpin_user_pages(pages, (unsigned long)got);
	STEP(r, "get_user_pages_fast",
	     got = pinmm_get_user_pages_fast((unsigned long)addr + 64 * 4096, 16, 0, pages));
	for (long i = 0; i < got; i++)
		pinmm_put_page(pages[i]);
	pinmm_set_current(q);
	locked = 1;
	pinmm_mmap_read_lock(mm);
	got = pinmm_pin_user_pages_remote(mm, (unsigned long)addr + 128 * 4096, 16,
					  FOLL_WRITE | FOLL_LONGTERM, pages, &locked);
	if (locked)
		pinmm_mmap_read_unlock(mm);
	STEP(r, "pin_user_pages_remote", got);
	pinmm_unpin_user_pages_dirty_lock(pages, (unsigned long)got, true);
	pinmm_set_current(p);
	STEP(r, "split_huge_page", pinmm_split_huge_page(p, (unsigned long)addr + (2 << 20)) == -EINVAL
				   ? 0 : 0);
out:
	return;
}

/* FOLL_LONGTERM pins of MOVABLE memory migrate first; then compaction. */
static void wl_longterm_migrate(struct run *r)
{
	struct pinmm_proc *p = NULL;
	struct pinmm_migrate_stats st;
	struct page *pages[32], *thp_page;
	long addr, got = 0, got2 = 0, thp;

	if (boot(r, "zone.movable", "32M", NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "mmap", addr = pinmm_mmap(p, 0, 32 * 4096, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	for (int i = 0; i < 32; i++)
		STEP(r, "store", pinmm_store(p, (unsigned long)addr + i * 4096UL, &i, sizeof(i)));
	STEP(r, "pin_user_pages_fast(LONGTERM)",
	     got = pinmm_pin_user_pages_fast((unsigned long)addr, 32, FOLL_WRITE | FOLL_LONGTERM,
					     pages));
	STEP(r, "migrate_page", pinmm_migrate_page(p, (unsigned long)addr, NULL) == -EAGAIN ? 0 : 0);
	/* a THP in ZONE_MOVABLE: the long-term pin migrates the large folio */
	STEP(r, "mmap(thp)", thp = pinmm_mmap(p, 0, 4 << 20, PROT_READ | PROT_WRITE,
					      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	thp = (thp + (2 << 20) - 1) & ~((2L << 20) - 1);
	STEP(r, "madvise(HUGEPAGE)", pinmm_madvise(p, (unsigned long)thp, 2 << 20, MADV_HUGEPAGE));
	STEP(r, "store(thp)", pinmm_store(p, (unsigned long)thp, "T", 1));
	STEP(r, "pin_user_pages_fast(LONGTERM thp)",
	     got2 = pinmm_pin_user_pages_fast((unsigned long)thp, 1, FOLL_WRITE | FOLL_LONGTERM,
					      &thp_page));
	STEP(r, "compact", pinmm_compact(r->m, &st));
out:
	if (got2 > 0)
		pinmm_unpin_user_page(thp_page);
	if (got > 0)
		pinmm_unpin_user_pages(pages, (unsigned long)got);
}

/* pinfs: write, fsync (acknowledged), truncate, punch, a shared mapping. */
static void wl_pinfs(struct run *r)
{
	struct pinmm_proc *p = NULL;
	static unsigned char buf[16 * 4096];
	long addr, written;
	int fd = -1;

	if (boot(r, "pinfs.size", "16M", NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "open", fd = pinmm_open(p, "/data/f", O_RDWR | O_CREAT, 0600));
	memset(buf, 0x5a, sizeof(buf));
	/* a short write (a page-cache allocation failed part way) is legal */
	STEP(r, "pwrite", written = pinmm_pwrite(p, fd, buf, sizeof(buf), 0));
	STEP(r, "fsync", pinmm_fsync(p, fd));
	r->acked = true;
	r->acked_byte = 0x5a;
	/* what fsync acknowledged and later steps leave alone */
	r->acked_len = written < 8 * 4096 ? written : 8 * 4096;
	STEP(r, "mmap", addr = pinmm_mmap(p, 0, sizeof(buf), PROT_READ | PROT_WRITE, MAP_SHARED,
					  fd, 0));
	STEP(r, "store", pinmm_store(p, (unsigned long)addr + 12 * 4096, "shared", 6));
	STEP(r, "ftruncate", pinmm_ftruncate(p, fd, 14 * 4096 + 100));
	STEP(r, "punch", pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					 9 * 4096 + 10, 4096));
	STEP(r, "sync", pinmm_sync(r->m));
	STEP(r, "reclaim", pinmm_reclaim(r->m, 64));
out:
	if (fd >= 0 && r->m)
		pinmm_close(p, fd);
}

/* RDMA: a pinned MR and an ODP MR, remote writes, deregistration. */
static void wl_rdma(struct run *r)
{
	struct pinmm_proc *p = NULL;
	struct pinmm_rdma_mr_info mi;
	uint32_t k1 = 0, k2 = 0;
	long addr;
	int pd = -1;

	if (boot(r, NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "mmap", addr = pinmm_mmap(p, 0, 64 * 4096, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	STEP(r, "alloc_pd", pd = pinmm_rdma_alloc_pd(p));
	STEP(r, "reg_mr", pinmm_rdma_reg_mr(p, pd, (unsigned long)addr, 32 * 4096,
					    IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE, &mi));
	k1 = mi.rkey;
	STEP(r, "reg_mr(odp)", pinmm_rdma_reg_mr(p, pd, (unsigned long)addr + 32 * 4096, 32 * 4096,
						 IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE |
						 IB_ACCESS_ON_DEMAND, &mi));
	k2 = mi.rkey;
	STEP(r, "remote_write", pinmm_rdma_remote_write(p, pd, k1, (uint64_t)addr + 100, "abc", 3));
	STEP(r, "remote_write(odp)", pinmm_rdma_remote_write(p, pd, k2, (uint64_t)addr + 33 * 4096,
							     "def", 3));
	STEP(r, "dereg_mr", pinmm_rdma_dereg_mr(p, pd, k1));
	k1 = 0;
out:
	if (k1)
		pinmm_rdma_dereg_mr(p, pd, k1);
	if (pd >= 0 && r->m)
		pinmm_rdma_dealloc_pd(p, pd);
}

/*
 * Swap: pageout (THP split, swap slots), fork (entries duplicated), swap-in
 * by loads, GUP and COW, reclaim, clear_refs, munmap.  Whatever fails, a
 * load that succeeds must read what was stored: no page is lost.
 */
long data_lost;

/* A load that succeeds must read what was stored: else a lost page. */
static void load_check(struct run *r, struct pinmm_proc *p, unsigned long a, char want)
{
	char c = 0;

	if (pinmm_load(p, a, &c, 1) == 1 && c != want) {
		printf("# %#lx reads %#x, stored %#x (lost page, after %s)\n", a,
		       (unsigned char)c, (unsigned char)want, r->where ? r->where : "no error");
		data_lost++;
	}
}

static void wl_swap(struct run *r)
{
	struct pinmm_proc *p = NULL, *c = NULL;
	struct page *page;
	long addr, got = 0;
	unsigned long a = 0;
	int stored = 0;

	if (boot(r, "thp", "always", "swap", "4M", NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "mmap", addr = pinmm_mmap(p, 0, 4 << 20, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	a = ((unsigned long)addr + (2 << 20) - 1) & ~((2UL << 20) - 1);
	for (; stored < 8; stored++)
		STEP(r, "store", pinmm_store(p, a + (unsigned long)stored * 4096,
					     &"abcdefgh"[stored], 1));
	STEP(r, "clear_refs", pinmm_clear_refs(p, 4));
	STEP(r, "pageout", pinmm_madvise(p, a, 2 << 20, 21 /* MADV_PAGEOUT */));
	STEP(r, "fork", pinmm_fork(p, &c));
	load_check(r, c, a + 4096, 'b');
	STEP(r, "parent store", pinmm_store(p, a, "A", 1));
	STEP(r, "pin_user_pages_fast",
	     got = pinmm_pin_user_pages_fast(a + 2 * 4096, 1, FOLL_LONGTERM, &page));
	STEP(r, "reclaim", pinmm_reclaim(r->m, 64));
	load_check(r, c, a, 'a');
	STEP(r, "munmap", pinmm_munmap(p, a + 3 * 4096, 4096));
	STEP(r, "exit child", pinmm_exit(c));
	c = NULL;
out:
	if (r->m && p && stored == 8) {
		load_check(r, p, a + 2 * 4096, 'c');
		load_check(r, p, a + 7 * 4096, 'h');
	}
	if (got > 0)
		pinmm_unpin_user_page(page);
	if (c)
		pinmm_exit(c);
}

/*
 * Set-up a workload does without the countdown (the sweep would otherwise
 * spend one run per fallible call of it).  A site named by the site phase
 * (armed_site) stays armed: failing it there is the point.
 */
const char *armed_site;

long injection_hold(void)
{
	long held = pinmm_fail_nth_get();

	pinmm_fail_nth_set(0);
	return held;
}

void injection_release(long held)
{
	pinmm_fail_nth_set(held);
}

/* Wait for an O_DIRECT request with a deadline: a lost completion is a finding. */
static long dio_wait_bounded(struct pinmm_dio *d)
{
	struct timespec tick = { .tv_nsec = 1000 * 1000 };

	for (int i = 0; i < 20000 && !pinmm_dio_done(d); i++)
		nanosleep(&tick, NULL);
	if (!pinmm_dio_done(d)) {
		printf("Bail out! an O_DIRECT request did not complete in 20 s\n");
		exit(1);
	}
	return pinmm_dio_wait(d);
}

/*
 * O_DIRECT: a synchronous write (pinmm_pwrite() on an O_DIRECT descriptor),
 * an asynchronous write and read through the engine thread, fsync.
 */
static void wl_dio(struct run *r)
{
	struct pinmm_proc *p = NULL;
	struct pinmm_dio *d;
	static unsigned char buf[8 * 4096];
	long a;
	int fd = -1;

	if (boot(r, "pinfs.size", "16M", NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "mmap", a = pinmm_mmap(p, 0, 16 * 4096, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	memset(buf, 0x5a, sizeof(buf));
	STEP(r, "store", pinmm_store(p, (unsigned long)a, buf, sizeof(buf)));
	STEP(r, "open(O_DIRECT)", fd = pinmm_open(p, "/data/f", O_RDWR | O_CREAT | O_DIRECT,
						  0600));
	STEP(r, "pwrite(O_DIRECT)", pinmm_pwrite(p, fd, buf, 4 * 4096, 0) == 4 * 4096 ? 0 : -EIO);
	STEP(r, "dio_submit(write)", pinmm_dio_submit(p, fd, PINMM_DIO_WRITE, (unsigned long)a,
						      sizeof(buf), 0, &d));
	STEP(r, "dio_wait(write)", dio_wait_bounded(d) == (long)sizeof(buf) ? 0 : -EIO);
	STEP(r, "fsync", pinmm_fsync(p, fd));
	r->acked = true;
	r->acked_byte = 0x5a;
	r->acked_len = sizeof(buf);
	STEP(r, "dio_submit(read)", pinmm_dio_submit(p, fd, PINMM_DIO_READ,
						     (unsigned long)a + 8 * 4096, 2 * 4096, 4096,
						     &d));
	STEP(r, "dio_wait(read)", dio_wait_bounded(d));
	STEP(r, "pread(O_DIRECT)", pinmm_pread(p, fd, buf, 4096, 4096));
out:
	if (fd >= 0 && r->m)
		pinmm_close(p, fd);
}

/* io_uring fixed buffers: registration pins, fixed read and write, unregister. */
static void wl_io_uring(struct run *r)
{
	struct pinmm_proc *p = NULL, *c = NULL;
	struct iovec iov[2];
	static unsigned char buf[4 * 4096];
	long a;
	int fd = -1, ring = -1;

	if (boot(r, "pinfs.size", "16M", NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "open", fd = pinmm_open(p, "/data/u", O_RDWR | O_CREAT, 0600));
	memset(buf, 0x33, sizeof(buf));
	STEP(r, "pwrite", pinmm_pwrite(p, fd, buf, sizeof(buf), 0));
	STEP(r, "mmap", a = pinmm_mmap(p, 0, 8 * 4096, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	STEP(r, "uring_create", ring = pinmm_uring_create(p, 8));
	iov[0].iov_base = (void *)a;
	iov[0].iov_len = 4 * 4096;
	iov[1].iov_base = (void *)(a + 4 * 4096);
	iov[1].iov_len = 4 * 4096;
	STEP(r, "register_buffers", pinmm_uring_register_buffers(p, ring, iov, 2));
	STEP(r, "read_fixed", pinmm_uring_read_fixed(p, ring, fd, 0, (unsigned long)a, 4 * 4096, 0));
	STEP(r, "write_fixed", pinmm_uring_write_fixed(p, ring, fd, 1, (unsigned long)a + 4 * 4096,
						       2 * 4096, 4096));
	STEP(r, "fork", pinmm_fork(p, &c));
	STEP(r, "exit child", pinmm_exit(c));
	c = NULL;
	STEP(r, "unregister_buffers", pinmm_uring_unregister_buffers(p, ring));
out:
	if (c)
		pinmm_exit(c);
	if (ring >= 0 && r->m)
		pinmm_uring_destroy(p, ring);
	if (fd >= 0 && r->m)
		pinmm_close(p, fd);
}

/*
 * RDMA of another process (pinmm_rdma_reg_mr_remote()), a peer thread
 * running READs and WRITEs against it, and an ODP region faulted in by
 * remote operations on both read and write.
 */
static void wl_rdma_remote(struct run *r)
{
	struct pinmm_proc *p = NULL, *q = NULL;
	struct pinmm_rdma_mr_info mi;
	struct pinmm_rdma_peer_cfg pc = { 0 };
	struct pinmm_rdma_peer_stats ps;
	struct pinmm_rdma_peer *peer = NULL;
	uint32_t k1 = 0, k2 = 0;
	static char c[20 * 4096];
	long b, own;
	int pd = -1;

	if (boot(r, NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	STEP(r, "proc_create", pinmm_proc_create(r->m, &q));
	pinmm_set_current(p);
	STEP(r, "mmap(target)", b = pinmm_mmap(q, 0, 32 * 4096, PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	STEP(r, "alloc_pd", pd = pinmm_rdma_alloc_pd(p));
	STEP(r, "reg_mr_remote", pinmm_rdma_reg_mr_remote(p, pd, q, (unsigned long)b, 8 * 4096,
							  IB_ACCESS_LOCAL_WRITE |
							  IB_ACCESS_REMOTE_WRITE |
							  IB_ACCESS_REMOTE_READ, &mi));
	k1 = mi.rkey;
	pc.rkey = k1;
	pc.iova = (uint64_t)b;
	pc.length = 8 * 4096;
	pc.write_pct = 50;
	pc.max_ops = 16;
	STEP(r, "peer_start", pinmm_rdma_peer_start(p, pd, &pc, &peer));
	STEP(r, "peer_wait", pinmm_rdma_peer_wait(peer, &ps));
	peer = NULL;
	STEP(r, "mmap(own)", own = pinmm_mmap(p, 0, 32 * 4096, PROT_READ | PROT_WRITE,
					      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	STEP(r, "reg_mr(odp)", pinmm_rdma_reg_mr(p, pd, (unsigned long)own, 32 * 4096,
						 IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE |
						 IB_ACCESS_REMOTE_READ | IB_ACCESS_ON_DEMAND, &mi));
	k2 = mi.rkey;
	STEP(r, "remote_read(odp)", pinmm_rdma_remote_read(p, pd, k2, (uint64_t)own, c, sizeof(c)));
	STEP(r, "remote_write(odp)", pinmm_rdma_remote_write(p, pd, k2, (uint64_t)own + 25 * 4096,
							     "odp", 3));
	STEP(r, "munmap(odp)", pinmm_munmap(p, (unsigned long)own + 25 * 4096, 4096));
	STEP(r, "exit target", pinmm_exit(q));
	STEP(r, "dereg_mr(remote)", pinmm_rdma_dereg_mr(p, pd, k1));
	k1 = 0;
out:
	if (peer)
		pinmm_rdma_peer_stop(peer, &ps);
	if (k1)
		pinmm_rdma_dereg_mr(p, pd, k1);
	if (pd >= 0 && r->m)
		pinmm_rdma_dealloc_pd(p, pd);
}

/* mremap (grow in place, move, move FIXED) and KSM merging, COW, fork. */
static void wl_mremap_ksm(struct run *r)
{
	struct pinmm_proc *p = NULL, *c = NULL;
	unsigned long a = 0, hole;
	long addr, na;
	int stored = 0;

	if (boot(r, NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "mmap", addr = pinmm_mmap(p, 0, 64 * 4096, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	a = (unsigned long)addr;
	STEP(r, "munmap", pinmm_munmap(p, a + 16 * 4096, 48 * 4096));
	hole = a + 32 * 4096;
	for (; stored < 16; stored++)
		STEP(r, "store", pinmm_store(p, a + (unsigned long)stored * 4096,
					     stored < 8 ? "K" : &"abcdefgh"[stored - 8], 1));
	STEP(r, "madvise(MERGEABLE)", pinmm_madvise(p, a, 16 * 4096, MADV_MERGEABLE));
	STEP(r, "ksm_scan", pinmm_ksm_scan(r->m, 2));
	STEP(r, "fork", pinmm_fork(p, &c));
	STEP(r, "store(ksm)", pinmm_store(p, a + 4096, "k", 1));
	STEP(r, "mremap(grow)", na = pinmm_mremap(p, a, 16 * 4096, 24 * 4096, 0, 0));
	STEP(r, "mremap(move)", na = pinmm_mremap(p, a, 24 * 4096, 24 * 4096,
						  MREMAP_MAYMOVE | MREMAP_FIXED, hole));
	a = (unsigned long)na;
	STEP(r, "mremap(shrink)", pinmm_mremap(p, a, 24 * 4096, 12 * 4096, 0, 0));
	STEP(r, "madvise(UNMERGEABLE)", pinmm_madvise(c, (unsigned long)addr, 16 * 4096,
						      MADV_UNMERGEABLE));
	load_check(r, c, (unsigned long)addr + 4096, 'K');
	STEP(r, "exit child", pinmm_exit(c));
	c = NULL;
out:
	if (r->m && p && stored == 16) {
		load_check(r, p, a, 'K');
		load_check(r, p, a + 9 * 4096, 'b');
	}
	if (c)
		pinmm_exit(c);
}

/*
 * Files beyond the plain pinfs workload: a preallocated range, a block
 * past the double-indirect boundary and its punch, streamed writeback
 * (writeback.latency_us), a long-term pin of a shared file page written
 * back under the bounce policy with pin provenance on, a private file
 * mapping written (COW of a file page), fork with open files, a memfd.
 */
static void wl_files(struct run *r)
{
	struct pinmm_proc *p = NULL, *c = NULL;
	static unsigned char buf[4 * 4096];
	const long dind = (12 + 1024 + 4) * 4096L;	/* PINFS_DIND_FIRST + 4 blocks */
	struct page *page;
	long a, pa, got = 0;
	int fd = -1, mfd = -1, gfd = -1;

	if (boot(r, "pinfs.size", "16M", "writeback.latency_us", "1", "pin.provenance", "1",
		 "fs.pinned_policy", "bounce", "writeback.interval_ms", "2", NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "open", fd = pinmm_open(p, "/data/f", O_RDWR | O_CREAT, 0600));
	memset(buf, 0x5a, sizeof(buf));
	STEP(r, "pwrite", pinmm_pwrite(p, fd, buf, sizeof(buf), 0) == sizeof(buf) ? 0 : -EIO);
	STEP(r, "fallocate", pinmm_fallocate(p, fd, 0, 8 * 4096, 8 * 4096));
	STEP(r, "pwrite(dind)", pinmm_pwrite(p, fd, buf, 4096, dind));
	/* let the flusher (every 2 ms) write some of it back: at most 1 s */
	for (int i = 0; i < 1000 && pinmm_vmstat(r->m, "nr_dirty") > 0; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 1000 * 1000 }, NULL);
	STEP(r, "fsync", pinmm_fsync(p, fd));
	r->acked = true;
	r->acked_byte = 0x5a;
	r->acked_len = sizeof(buf);
	STEP(r, "punch(dind)", pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					       dind, 4096));
	STEP(r, "mmap(shared)", a = pinmm_mmap(p, 0, 4 * 4096, PROT_READ | PROT_WRITE,
					       MAP_SHARED, fd, 0));
	STEP(r, "pin_user_pages_fast(file)",
	     got = pinmm_pin_user_pages_fast((unsigned long)a + 8192, 1, FOLL_WRITE, &page));
	STEP(r, "store(shared)", pinmm_store(p, (unsigned long)a + 8192, "\x5a", 1));
	STEP(r, "fsync(pinned)", pinmm_fsync(p, fd));
	STEP(r, "mmap(private)", pa = pinmm_mmap(p, 0, 4 * 4096, PROT_READ | PROT_WRITE,
						 MAP_PRIVATE, fd, 0));
	STEP(r, "store(private)", pinmm_store(p, (unsigned long)pa, "priv", 4));
	STEP(r, "memfd_create", mfd = pinmm_memfd_create(p, "sweep", 0));
	STEP(r, "ftruncate(memfd)", pinmm_ftruncate(p, mfd, 4 * 4096));
	STEP(r, "pwrite(memfd)", pinmm_pwrite(p, mfd, "memfd", 5, 4096));
	STEP(r, "fork", pinmm_fork(p, &c));
	STEP(r, "exit child", pinmm_exit(c));
	c = NULL;
	STEP(r, "sync", pinmm_sync(r->m));
	/* a file with a double-indirect block, evicted at close, truncated reloaded */
	STEP(r, "open(g)", gfd = pinmm_open(p, "/data/g", O_RDWR | O_CREAT, 0600));
	STEP(r, "pwrite(g dind)", pinmm_pwrite(p, gfd, buf, 4096, dind));
	STEP(r, "close(g)", pinmm_close(p, gfd));
	STEP(r, "reopen(g)", gfd = pinmm_open(p, "/data/g", O_RDWR, 0));
	STEP(r, "ftruncate(g)", pinmm_ftruncate(p, gfd, 0));
out:
	if (c)
		pinmm_exit(c);
	if (got > 0)
		pinmm_unpin_user_page(page);
	if (gfd >= 0 && r->m)
		pinmm_close(p, gfd);
	if (mfd >= 0 && r->m)
		pinmm_close(p, mfd);
	if (fd >= 0 && r->m)
		pinmm_close(p, fd);
}

/* Layout leases: a leased long-term pin of a shared mapping, broken by truncate. */
static void lease_broken(struct pinmm_lease *l, void *arg)
{
	*(struct pinmm_lease **)arg = NULL;
	pinmm_lease_put(l);
}

static void wl_lease(struct run *r)
{
	struct pinmm_proc *p = NULL;
	struct pinmm_lease *l = NULL;
	static unsigned char buf[8 * 4096];
	struct page *pages[8];
	long a;
	int fd = -1;

	if (boot(r, "pinfs.size", "16M", "fs.pinned_policy", "lease", "lease_break_ms", "100",
		 NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "open", fd = pinmm_open(p, "/data/l", O_RDWR | O_CREAT, 0600));
	memset(buf, 0x11, sizeof(buf));
	STEP(r, "pwrite", pinmm_pwrite(p, fd, buf, sizeof(buf), 0));
	STEP(r, "mmap(shared)", a = pinmm_mmap(p, 0, sizeof(buf), PROT_READ | PROT_WRITE,
					       MAP_SHARED, fd, 0));
	STEP(r, "lease_get", pinmm_lease_get(p, fd, lease_broken, &l, &l));
	STEP(r, "pin_user_pages_leased", pinmm_pin_user_pages_leased(l, (unsigned long)a, 8,
								     FOLL_WRITE, pages));
	STEP(r, "ftruncate(break)", pinmm_ftruncate(p, fd, 4096));
out:
	if (l)
		pinmm_lease_put(l);
	if (fd >= 0 && r->m)
		pinmm_close(p, fd);
}

/* DAX: a shared mapping of a /dax/ file and a private one written over a hole. */
static void wl_dax(struct run *r)
{
	struct pinmm_proc *p = NULL;
	long a, pa;
	int fd = -1;

	if (boot(r, "pmem", "16M", NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "open", fd = pinmm_open(p, "/dax/x", O_RDWR | O_CREAT, 0600));
	STEP(r, "ftruncate", pinmm_ftruncate(p, fd, 8 * 4096));
	STEP(r, "mmap(shared)", a = pinmm_mmap(p, 0, 8 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
					       fd, 0));
	STEP(r, "store(shared)", pinmm_store(p, (unsigned long)a, "dax", 3));
	STEP(r, "mmap(private)", pa = pinmm_mmap(p, 0, 8 * 4096, PROT_READ | PROT_WRITE,
						 MAP_PRIVATE, fd, 0));
	STEP(r, "store(private hole)", pinmm_store(p, (unsigned long)pa + 4 * 4096, "cow", 3));
	STEP(r, "fsync", pinmm_fsync(p, fd));
out:
	if (fd >= 0 && r->m)
		pinmm_close(p, fd);
}

/* The gup_test device (benchmarks, a long-term test) and compaction of free-able memory. */
static void wl_gup_test_compact(struct run *r)
{
	struct pinmm_proc *p = NULL;
	struct pinmm_migrate_stats st;
	struct gup_test g = { 0 };
	struct pin_longterm_test lt = { 0 };
	long a, small, big, held, err;
	int dev = -1;

	if (boot(r, "zone.movable", "32M", NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "mmap", a = pinmm_mmap(p, 0, 16 * 4096, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	STEP(r, "populate", pinmm_madvise(p, (unsigned long)a, 16 * 4096, MADV_POPULATE_WRITE));
	STEP(r, "gup_test_open", dev = pinmm_gup_test_open(p));
	g.addr = (unsigned long)a;
	g.size = 16 * 4096;
	g.nr_pages_per_call = 4;
	STEP(r, "PIN_FAST_BENCHMARK", pinmm_gup_test_ioctl(dev, PIN_FAST_BENCHMARK, &g));
	lt.addr = (unsigned long)a;
	lt.size = 8 * 4096;
	lt.flags = PIN_LONGTERM_TEST_FLAG_USE_WRITE;
	STEP(r, "PIN_LONGTERM_TEST_START", pinmm_gup_test_ioctl(dev, PIN_LONGTERM_TEST_START, &lt));
	STEP(r, "PIN_LONGTERM_TEST_STOP", pinmm_gup_test_ioctl(dev, PIN_LONGTERM_TEST_STOP));
	/* compaction with holes to fill: every 4th of 64 pages freed */
	STEP(r, "mmap(small)", small = pinmm_mmap(p, 0, 64 * 4096, PROT_READ | PROT_WRITE,
						  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	STEP(r, "populate", pinmm_madvise(p, (unsigned long)small, 64 * 4096,
					  MADV_POPULATE_WRITE));
	for (int i = 0; i < 64; i += 4)
		STEP(r, "dontneed", pinmm_madvise(p, (unsigned long)small + i * 4096UL, 4096,
						  MADV_DONTNEED));
	STEP(r, "compact", pinmm_compact(r->m, &st));
	/*
	 * More than 1024 movable folios (compaction's candidate list grows
	 * past its first 1024 entries), every 16th freed, compacted with the
	 * countdown held: one run per candidate would be over a thousand runs.
	 * The site phase fails the list's growth by name.
	 */
	held = injection_hold();
	big = pinmm_mmap(p, 0, 1100 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	if (big > 0 && !pinmm_madvise(p, (unsigned long)big, 1100 * 4096, MADV_POPULATE_WRITE))
		for (int i = 0; i < 1100; i += 16)
			pinmm_madvise(p, (unsigned long)big + i * 4096UL, 4096, MADV_DONTNEED);
	err = big < 0 ? big : pinmm_compact(r->m, &st);
	injection_release(held);
	STEP(r, "compact(big)", err);
out:
	if (dev >= 0 && r->m)
		pinmm_gup_test_close(dev);
}

/*
 * Mounting an existing image (fsck at mount), reading it back, the
 * auditor, and fsck of the unmounted image through the public call.  The
 * image is made first with the countdown held.
 */
static void wl_remount(struct run *r)
{
	struct pinmm_proc *p = NULL;
	static unsigned char buf[2 * 4096];
	const long dind = (12 + 1024 + 4) * 4096L;
	long held, a;
	int fd = -1, err;

	held = injection_hold();
	err = boot(r, "pinfs.size", "16M", NULL);
	if (!err && !pinmm_proc_create(r->m, &p)) {
		fd = pinmm_open(p, "/data/f", O_RDWR | O_CREAT, 0600);
		memset(buf, 0x5a, sizeof(buf));
		if (fd >= 0 && pinmm_pwrite(p, fd, buf, sizeof(buf), 0) == sizeof(buf) &&
		    pinmm_pwrite(p, fd, buf, 4096, dind) == 4096 && !pinmm_fsync(p, fd)) {
			r->acked = true;
			r->acked_byte = 0x5a;
			r->acked_len = sizeof(buf);
		}
		pinmm_open(p, "/data/other", O_RDWR | O_CREAT, 0600);
	}
	if (r->m)
		err = pinmm_shutdown(r->m);
	r->m = NULL;
	p = NULL;
	fd = -1;
	injection_release(held);
	if (err || !r->acked) {
		/* only a site the site phase named can fail here */
		if (!armed_site) {
			printf("Bail out! remount: making the image failed (%d)\n", err);
			exit(1);
		}
		run_err(r, "making the image", err ? err : -EIO);
		return;
	}
	/* fsck of the unmounted image, as `pinmm fsck` runs it */
	STEP(r, "pinfs_check_image", pinfs_check_image(r->img, false, NULL));
	if (boot(r, NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "open", fd = pinmm_open(p, "/data/f", O_RDWR, 0));
	STEP(r, "pread", pinmm_pread(p, fd, buf, sizeof(buf), 0));
	STEP(r, "pread(dind)", pinmm_pread(p, fd, buf, 4096, dind));
	STEP(r, "mmap", a = pinmm_mmap(p, 0, 2 * 4096, PROT_READ, MAP_SHARED, fd, 0));
	STEP(r, "load", pinmm_load(p, (unsigned long)a, buf, 1));
	STEP(r, "audit", pinmm_audit(r->m));
out:
	if (fd >= 0 && r->m)
		pinmm_close(p, fd);
}

const struct workload workloads[] = {
	{ "fork_pins", wl_fork_pins, false },
	{ "gup", wl_gup, false },
	{ "longterm_migrate", wl_longterm_migrate, false },
	{ "pinfs", wl_pinfs, true },
	{ "rdma", wl_rdma, false },
	{ "swap", wl_swap, false },
	{ "dio", wl_dio, true },
	{ "io_uring", wl_io_uring, true },
	{ "rdma_remote", wl_rdma_remote, false },
	{ "mremap_ksm", wl_mremap_ksm, false },
	{ "files", wl_files, true },
	{ "lease", wl_lease, true },
	{ "dax", wl_dax, false },
	{ "gup_test_compact", wl_gup_test_compact, false },
	{ "remount", wl_remount, true },
	{ "thp_collapse", wl_thp_collapse, false },
	{ "hugetlb", wl_hugetlb, false },
	{ "file_pin", wl_file_pin, false },
};

const size_t nr_workloads = sizeof(workloads) / sizeof(workloads[0]);
