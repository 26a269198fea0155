/* SPDX-License-Identifier: MIT */
/*
 * rdma_lease_helpers.h - what test_rdma_lease.c and stress_rdma_lease.c
 * share: a machine with both pinfs mounts under fs.pinned_policy=lease,
 * a pinfs file mapped shared, a lease on it and an RDMA region over it
 * registered through vaddr_pin_pages().
 */
#ifndef PINMM_TEST_RDMA_LEASE_HELPERS_H
#define PINMM_TEST_RDMA_LEASE_HELPERS_H

#include "dax_helpers.h"

#include <pinmm/lease.h>
#include <pinmm/rdma.h>

#define RL_PAGES 4
#define RL_ACCESS (IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_READ)

static inline struct pinmm *rl_boot(const char *img, const char *outcome, const char *break_ms)
{
	char o[64], b[64], i[160];

	snprintf(o, sizeof(o), "lease.outcome=%s", outcome);
	snprintf(b, sizeof(b), "lease_break_ms=%s", break_ms);
	snprintf(i, sizeof(i), "pinfs.image=%s", img);
	return test_boot("ram=256M", "debug=1", "quiet=1", "pmem=64M", "pinfs.size=8M",
			 "fs.pinned_policy=lease", "dax.truncate_wait_ms=3000",
			 "rlimit.memlock=unlimited", o, b, i, NULL);
}

/*
 * The set-up of one case: a file of RL_PAGES pages, mapped, leased, an MR;
 * in @r->p (a new current process when NULL).
 */
struct rl {
	struct pinmm_proc *p;
	int fd, pd;
	unsigned long addr;
	struct pinmm_lease *l;
	struct pinmm_rdma_mr_info mr;
};

static inline void rl_setup(struct pinmm *m, struct rl *r, const char *mnt, const char *name)
{
	char path[64], buf[4096];
	long a;

	if (!r->p)
		r->p = test_proc(m);
	snprintf(path, sizeof(path), "%s%s", mnt, name);
	r->fd = pinmm_open(r->p, path, O_CREAT | O_RDWR, 0644);
	assert_true(r->fd >= 0);
	for (int i = 0; i < RL_PAGES; i++) {
		memset(buf, 'a' + i, sizeof(buf));
		assert_int_equal(pinmm_pwrite(r->p, r->fd, buf, sizeof(buf), (long)i * 4096), 4096);
	}
	a = pinmm_mmap(r->p, 0, RL_PAGES * PG, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	assert_true(a > 0);
	r->addr = (unsigned long)a;
	r->pd = pinmm_rdma_alloc_pd(r->p);
	assert_true(r->pd >= 0);
	assert_int_equal(pinmm_lease_get(r->p, r->fd, NULL, NULL, &r->l), 0);
	assert_int_equal(pinmm_rdma_reg_mr(r->p, r->pd, r->addr, RL_PAGES * PG, RL_ACCESS, &r->mr),
			 0);
}

static inline struct pinmm_rdma_stats rl_stats(struct rl *r)
{
	struct pinmm_rdma_stats st;

	assert_int_equal(pinmm_rdma_pd_stats(r->p, r->pd, &st), 0);
	return st;
}

#endif
