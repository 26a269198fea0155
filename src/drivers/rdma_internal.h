/* SPDX-License-Identifier: MIT */
/*
 * rdma_internal.h - what the RDMA model's files share: rdma_pd.c
 * (protection domains), rdma_mr.c (keys, regions, in-flight references),
 * rdma_rw.c (the remote READ/WRITE data path), rdma_peer.c (peer threads)
 * and rdma_odp.c (on-demand regions).
 *
 * Lock order: pd->lock > rdma key table lock; mr->lock is a leaf held with
 * no other lock; odp->umem_mutex is a leaf taken by the interval
 * notifier's ->invalidate under any mm lock, so it is never held while
 * taking an mm lock (doc/LOCKING.md).
 */
#ifndef PINMM_RDMA_INTERNAL_H
#define PINMM_RDMA_INTERNAL_H

#include <pinmm/rdma.h>
#include "mm.h"
#include "wait.h"

enum rdma_stat {
	RS_READS, RS_WRITES, RS_BYTES_READ, RS_BYTES_WRITTEN,
	RS_REFUSED, RS_BAD_KEY, RS_REVOKED, RS_WRONG_PD, RS_RANGE, RS_ACCESS, RS_FAULT,
	RS_DEVICE_FAULTS, RS_FAULT_RETRIES, RS_INVALIDATIONS, RS_INVALIDATED_PAGES,
	RS_MRS_REGISTERED, RS_MRS_LIVE,
	RS_LEASE_REVOKED, RS_MRS_REVOKED, RS_REVOKE_DRAINS, RS_EVENTS_LOST,
	RS_NR
};

#define RDMA_NR_EVENTS 64

/*
 * struct rdma_pd - a protection domain.  Referenced by its file (until the
 * last close) and by every peer connected to it.
 * @lock protects @mrs, @closed and the async event ring @ev (@ev_head
 * first unread, @ev_count unread; the oldest is dropped when full).
 * @file: the PD's file, not referenced (it owns the PD): the owner of the
 *	regions' vaddr_pin_pages() records under the lease policy.
 */
struct rdma_pd {
	struct pinmm *machine;
	atomic_t refs;
	struct mutex lock;
	struct list_head mrs;
	bool closed;
	struct file *file;
	struct pinmm_rdma_async_event ev[RDMA_NR_EVENTS];
	unsigned int ev_head, ev_count;
	wait_queue_head_t ev_wait;	/* sleeps with @lock */
	atomic_long_t st[RS_NR];
};

struct rdma_odp;

/*
 * struct rdma_mr - one memory region.  Immutable after registration except
 * @inflight and @pd_node.  @inflight is raised under the key table lock
 * while the key is live; its last reference is dropped under @lock, where
 * rdma_mr_destroy() waits for zero on @wait (doc/MEMORY-ORDERING.md (i)).
 * @mm: the mm whose memory is registered (mmgrab()'d for the region's life).
 * @mm_account: pinned regions: the mm charged in pinned_vm (mmgrab()'d).
 */
struct rdma_mr {
	struct rdma_pd *pd;
	uint32_t key;
	uint64_t iova;
	uint64_t length;
	unsigned int access;
	unsigned long npages;
	bool writable;
	bool remote;
	int target_pid;
	struct mm_struct *mm;
	struct mm_struct *mm_account;
	struct page **pages;
	struct rdma_odp *odp;
	bool file_pinned;		/* pages pinned by vaddr_pin_pages() */
	bool lease_revoked;		/* rdma key table lock: keys refuse (-EREMOTEIO) */
	struct list_head pd_node;
	atomic_t inflight;
	struct mutex lock;
	wait_queue_head_t wait;		/* sleeps with @lock */
};

static inline void rdma_count(struct rdma_pd *pd, enum rdma_stat s, long n)
{
	atomic_long_add(n, &pd->st[s]);
}

/* rdma_pd.c */
struct file *rdma_pd_fget(struct pinmm_proc *p, int fd);
void rdma_pd_put(struct rdma_pd *pd);
void rdma_pd_event(struct rdma_pd *pd, int type, uint32_t key);

/* rdma_mr.c */
int rdma_mr_get(struct rdma_pd *pd, uint32_t key, struct rdma_mr **out);
void rdma_mr_put(struct rdma_mr *mr);
void rdma_mr_destroy(struct rdma_mr *mr);

/* rdma_rw.c */
long rdma_remote_op(struct rdma_pd *pd, uint32_t rkey, uint64_t iova, void *buf,
		    size_t len, bool write, unsigned int hold_us);
void rdma_hold(unsigned int us);

/* rdma_odp.c */
int rdma_odp_init(struct rdma_mr *mr);
void rdma_odp_release(struct rdma_mr *mr);
long rdma_odp_copy(struct rdma_mr *mr, unsigned long off, void *buf, size_t len,
		   bool write, unsigned int hold_us);
void rdma_odp_query(struct rdma_mr *mr, struct pinmm_rdma_mr_info *info);

/*
 * Test-only injection point: when set, the putter that drops a region's
 * last in-flight reference calls it just before its final access to the
 * region (the unlock of @lock).  tests/unit/test_rdma.c uses it to check
 * that deregistration cannot free the region before that access.
 */
extern void (*_Atomic rdma_last_put_hook)(void);

#endif /* PINMM_RDMA_INTERNAL_H */
