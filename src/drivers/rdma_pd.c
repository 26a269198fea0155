/* SPDX-License-Identifier: MIT */
/*
 * rdma_pd.c - RDMA protection domains (Linux uverbs: ib_alloc_pd(), the
 * uverbs file): allocation, the PD file and its last close, the counters.
 * Regions are in rdma_mr.c, the data path in rdma_rw.c, peers in
 * rdma_peer.c.
 *
 * A PD is an anonymous-inode file in the allocating process's file table,
 * like the uverbs file and io_uring rings; its ->release (last close:
 * dealloc, pinmm_close(), exit, the exit of a child that inherited it)
 * deregisters every region.  Peers hold a reference on the PD's state
 * (@refs), never on the file, so a PD whose owner exited keeps answering
 * its peers with refusals (-EKEYREVOKED).
 */
#include <errno.h>
#include <stdlib.h>

#include "rdma_internal.h"
#include "fault_inject.h"
#include "fs.h"
#include "pin_policy.h"
#include "rcu.h"

/**
 * rdma_pd_put() - drop a reference on @pd's state; the last frees it.
 * @pd: the PD (its file's reference, or a peer's).
 *
 * Context: any; no lock held.
 */
void rdma_pd_put(struct rdma_pd *pd)
{
	if (atomic_dec_and_test(&pd->refs)) {
		destroy_waitqueue_head(&pd->ev_wait);
		mutex_destroy(&pd->lock);
		free(pd);
	}
}

/**
 * rdma_pd_event() - raise an asynchronous event on @pd (dropping the
 * oldest unread one when the ring is full).
 * @pd: the protection domain.
 * @type: an enum pinmm_rdma_event_type.
 * @key: the region concerned.
 *
 * Context: any; no RDMA lock held (takes pd->lock).
 */
void rdma_pd_event(struct rdma_pd *pd, int type, uint32_t key)
{
	struct pinmm_rdma_async_event ev = { .type = type, .lkey = key,
					     .time_ns = pin_policy_now_ns() };

	mutex_lock(&pd->lock);
	if (pd->ev_count == RDMA_NR_EVENTS) {
		pd->ev_head = (pd->ev_head + 1) % RDMA_NR_EVENTS;
		pd->ev_count--;
		rdma_count(pd, RS_EVENTS_LOST, 1);
	}
	pd->ev[(pd->ev_head + pd->ev_count++) % RDMA_NR_EVENTS] = ev;
	wake_up_all(&pd->ev_wait);
	mutex_unlock(&pd->lock);
}

/**
 * pinmm_rdma_get_async_event() - the oldest unread event of @pd.
 * @p: the process.
 * @pd: its PD descriptor.
 * @ev: filled in.
 * @timeout_ms: how long to wait.
 *
 * Context: any thread; sleeps on the PD's event queue.
 * Return: 0, -ETIMEDOUT, -EBADF, -EINVAL, -ESRCH.
 */
int pinmm_rdma_get_async_event(struct pinmm_proc *p, int pd, struct pinmm_rdma_async_event *ev,
			       unsigned int timeout_ms)
{
	uint64_t deadline = pin_policy_now_ns() + timeout_ms * 1000000ull;
	struct file *file;
	struct rdma_pd *d;
	int ret = 0;

	if (!ev)
		return -EINVAL;
	file = rdma_pd_fget(p, pd);
	if (IS_ERR(file))
		return (int)PTR_ERR(file);
	d = file->private_data;
	mutex_lock(&d->lock);
	while (!d->ev_count) {
		uint64_t now = pin_policy_now_ns();

		if (now >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		wait_event_lock_timeout(&d->ev_wait, d->ev_count, &d->lock, deadline - now);
	}
	if (!ret) {
		*ev = d->ev[d->ev_head];
		d->ev_head = (d->ev_head + 1) % RDMA_NR_EVENTS;
		d->ev_count--;
	}
	mutex_unlock(&d->lock);
	fput(file);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The PD file                                                          */

static void rdma_pd_release(struct file *file)
{
	struct rdma_pd *pd = file->private_data;
	struct rdma_mr *mr;

	mutex_lock(&pd->lock);
	pd->closed = true;
	mutex_unlock(&pd->lock);
	for (;;) {
		mutex_lock(&pd->lock);
		mr = list_first_entry_or_null(&pd->mrs, struct rdma_mr, pd_node);
		if (mr)
			list_del_init(&mr->pd_node);
		mutex_unlock(&pd->lock);
		if (!mr)
			break;
		rdma_mr_destroy(mr);
	}
	rdma_pd_put(pd);
}

/* A PD cannot be mapped: no ->mmap (-ENODEV). */
static const struct file_operations rdma_pd_fops = {
	.release = rdma_pd_release,
};

/**
 * rdma_pd_fget() - the PD file behind descriptor @fd of @p.
 * @p: the process.
 * @fd: the descriptor.
 *
 * Context: any.
 * Return: the file, referenced (fput() it), or ERR_PTR(-EBADF, -EINVAL,
 * -ESRCH).
 */
struct file *rdma_pd_fget(struct pinmm_proc *p, int fd)
{
	return anon_inode_fget(p, fd, &rdma_pd_fops);
}

/**
 * pinmm_rdma_alloc_pd() - a new protection domain in @p's file table.
 * @p: the process.
 *
 * Context: any thread.
 * Return: the descriptor; -EINVAL, -ESRCH, -EMFILE, -ENOMEM.
 */
int pinmm_rdma_alloc_pd(struct pinmm_proc *p)
{
	struct rdma_pd *pd;
	struct file *file;
	int fd;

	pinmm_thread_enter();
	if (!p)
		return -EINVAL;
	if (READ_ONCE(p->exited))
		return -ESRCH;
	pd = kzalloc(sizeof(*pd));
	if (!pd)
		return -ENOMEM;
	pd->machine = p->machine;
	atomic_set(&pd->refs, 1);
	mutex_init(&pd->lock);
	INIT_LIST_HEAD(&pd->mrs);
	init_waitqueue_head(&pd->ev_wait);
	file = anon_inode_getfile("[infinibandevent]", &rdma_pd_fops, pd, O_RDWR);
	if (!file) {
		destroy_waitqueue_head(&pd->ev_wait);
		mutex_destroy(&pd->lock);
		free(pd);
		return -ENOMEM;
	}
	pd->file = file;
	fd = files_install(p, file);
	if (fd < 0)
		fput(file);
	return fd;
}

/**
 * pinmm_rdma_dealloc_pd() - close the PD descriptor.
 * @p: the process.
 * @pd: the descriptor.
 *
 * Context: any thread.
 * Return: 0, -EBUSY (regions registered), -EBADF, -EINVAL, -ESRCH.
 */
int pinmm_rdma_dealloc_pd(struct pinmm_proc *p, int pd)
{
	struct file *file = rdma_pd_fget(p, pd);
	struct rdma_pd *d;
	bool busy;
	int ret;

	if (IS_ERR(file))
		return (int)PTR_ERR(file);
	d = file->private_data;
	mutex_lock(&d->lock);
	busy = !list_empty(&d->mrs);
	mutex_unlock(&d->lock);
	fput(file);
	if (busy)
		return -EBUSY;
	ret = files_close(p, pd);
	pinmm_debug_boundary(p->machine);
	return ret;
}

/**
 * pinmm_rdma_pd_stats() - the counters of @pd.
 * @p: the process.
 * @pd: its PD descriptor.
 * @out: filled in.
 *
 * Context: any thread.
 * Return: 0, -EBADF, -EINVAL, -ESRCH.
 */
int pinmm_rdma_pd_stats(struct pinmm_proc *p, int pd, struct pinmm_rdma_stats *out)
{
	struct file *file;
	struct rdma_pd *d;
	long v[RS_NR];

	if (!out)
		return -EINVAL;
	file = rdma_pd_fget(p, pd);
	if (IS_ERR(file))
		return (int)PTR_ERR(file);
	d = file->private_data;
	for (int i = 0; i < RS_NR; i++)
		v[i] = atomic_long_read(&d->st[i]);
	fput(file);
	*out = (struct pinmm_rdma_stats){
		.remote_reads = v[RS_READS], .remote_writes = v[RS_WRITES],
		.bytes_read = v[RS_BYTES_READ], .bytes_written = v[RS_BYTES_WRITTEN],
		.refused = v[RS_REFUSED], .refused_bad_key = v[RS_BAD_KEY],
		.refused_revoked = v[RS_REVOKED], .refused_wrong_pd = v[RS_WRONG_PD],
		.refused_range = v[RS_RANGE], .refused_access = v[RS_ACCESS],
		.refused_fault = v[RS_FAULT], .device_faults = v[RS_DEVICE_FAULTS],
		.fault_retries = v[RS_FAULT_RETRIES], .invalidations = v[RS_INVALIDATIONS],
		.invalidated_pages = v[RS_INVALIDATED_PAGES],
		.mrs_registered = v[RS_MRS_REGISTERED], .mrs_live = v[RS_MRS_LIVE],
		.refused_lease = v[RS_LEASE_REVOKED], .mrs_revoked = v[RS_MRS_REVOKED],
		.revoke_drains = v[RS_REVOKE_DRAINS], .events_lost = v[RS_EVENTS_LOST],
	};
	return 0;
}
