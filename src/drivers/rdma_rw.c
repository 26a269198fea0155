/* SPDX-License-Identifier: MIT */
/*
 * rdma_rw.c - the RDMA data path: one remote READ or WRITE presented to a
 * protection domain (by the public calls or a peer thread, rdma_peer.c):
 * key, PD, access and range checks, then the transfer with an in-flight
 * reference on the region (rdma_mr.c), and the refusal counters.
 *
 * Remote operations move bytes through kmap_local_page() of the pinned
 * pages, as DMA would: the process's page tables are not consulted, so
 * after munmap() or a COW in the process the region still reaches the pages
 * registered.  On-demand regions go through the device's own translation
 * table instead (rdma_odp.c).
 */
#include <errno.h>
#include <time.h>

#include <pinmm/lease.h>
#include "trace.h"
#include "rdma_internal.h"
#include "fs.h"

/**
 * rdma_hold() - the "device" holds the page it is transferring for @us
 * microseconds (a peer's hold_us), widening the window of a race under test.
 * @us: microseconds; 0 returns at once.
 *
 * Context: any; sleeps.
 */
void rdma_hold(unsigned int us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };

	if (us) {
		might_sleep();
		nanosleep(&ts, NULL);
	}
}

/*
 * Pinned region: the "device" moves the bytes through the pinned pages.
 * Writes and reads go through pinmm_dma_write()/pinmm_dma_read(), so that
 * a page whose layout lease was revoked (fs.pinned_policy=lease) is
 * fenced: the access is refused, counted there, and the operation fails
 * with -EIO as a remote access error would.
 */
static long rdma_umem_copy(struct rdma_mr *mr, unsigned long off, void *buf, size_t len,
			   bool write, unsigned int hold_us)
{
	size_t done = 0;

	while (done < len) {
		unsigned long boff = off + done;
		size_t poff = boff & ~PAGE_MASK;
		size_t chunk = min(len - done, PAGE_SIZE - poff);
		struct page *page = mr->pages[boff >> PAGE_SHIFT];

		if (write) {
			if (pinmm_dma_write(page, poff, (char *)buf + done, chunk))
				return -EIO;
		} else if (pinmm_dma_read(page, poff, (char *)buf + done, chunk)) {
			return -EIO;
		}
		if (!done)
			rdma_hold(hold_us);
		done += chunk;
	}
	return (long)len;
}

static void rdma_refuse(struct rdma_pd *pd, int err)
{
	enum rdma_stat s;

	switch (err) {
	case -ENOKEY: s = RS_BAD_KEY; break;
	case -EKEYREVOKED: s = RS_REVOKED; break;
	case -EREMOTEIO: s = RS_LEASE_REVOKED; break;
	case -EPERM: s = RS_WRONG_PD; break;
	case -ERANGE: s = RS_RANGE; break;
	case -EACCES: s = RS_ACCESS; break;
	default: s = RS_FAULT; break;
	}
	rdma_count(pd, s, 1);
	rdma_count(pd, RS_REFUSED, 1);
}

static long __rdma_remote_op(struct rdma_pd *pd, uint32_t rkey, uint64_t iova, void *buf,
			     size_t len, bool write, unsigned int hold_us)
{
	struct rdma_mr *mr;
	uint64_t off;
	long ret;

	ret = rdma_mr_get(pd, rkey, &mr);
	if (ret)
		goto refuse;
	if (!(mr->access & (write ? IB_ACCESS_REMOTE_WRITE : IB_ACCESS_REMOTE_READ))) {
		ret = -EACCES;
		goto put;
	}
	off = iova - mr->iova;
	if (iova < mr->iova || off > mr->length || len > mr->length - off) {
		ret = -ERANGE;
		goto put;
	}
	if (mr->odp)
		ret = rdma_odp_copy(mr, off, buf, len, write, hold_us);
	else
		ret = rdma_umem_copy(mr, off, buf, len, write, hold_us);
	if (ret >= 0) {
		/* Counted while the reference is held: a revocation that drained
		 * the region sees every operation that reached its pages. */
		rdma_count(pd, write ? RS_WRITES : RS_READS, 1);
		rdma_count(pd, write ? RS_BYTES_WRITTEN : RS_BYTES_READ, ret);
	}
put:
	rdma_mr_put(mr);
	if (ret < 0)
		goto refuse;
	return ret;
refuse:
	rdma_refuse(pd, (int)ret);
	return ret;
}

/**
 * rdma_remote_op() - one RDMA READ or WRITE presented to @pd: key, PD,
 * access and range checks, then the transfer with an in-flight reference
 * on the region.
 * @pd: the protection domain the operation arrives at.
 * @rkey: the region's key.
 * @iova: where, as a registered virtual address.
 * @buf: the bytes (WRITE) or their destination (READ).
 * @len: how many.
 * @write: WRITE rather than READ.
 * @hold_us: how long the "device" holds the first page of the transfer.
 *
 * Context: any thread; may sleep (ODP device faults); no lock held.
 * Return: @len, or -ENOKEY, -EKEYREVOKED, -EREMOTEIO, -EPERM, -EACCES, -ERANGE, -EIO,
 * -EFAULT, -EBUSY (counted as refusals of @pd).
 */
long rdma_remote_op(struct rdma_pd *pd, uint32_t rkey, uint64_t iova, void *buf,
			   size_t len, bool write, unsigned int hold_us)
{
	struct trace_span sp;
	long ret;

	trace_span_begin(&sp);
	ret = __rdma_remote_op(pd, rkey, iova, buf, len, write, hold_us);
	TRACE_SPAN_END(pd->machine, &sp, TRACE_CAT_DEVICE,
		       write ? "rdma_remote_write" : "rdma_remote_read", { "rkey", rkey },
		       { "iova", (int64_t)iova }, { "len", (int64_t)len }, { "ret", ret });
	return ret;
}

static long rdma_remote_op_fd(struct pinmm_proc *p, int pdfd, uint32_t rkey, uint64_t iova,
			      void *buf, size_t len, bool write)
{
	struct file *file;
	long ret;

	if (!buf && len)
		return -EINVAL;
	file = rdma_pd_fget(p, pdfd);
	if (IS_ERR(file))
		return PTR_ERR(file);
	ret = rdma_remote_op(file->private_data, rkey, iova, buf, len, write, 0);
	fput(file);
	return ret;
}

/**
 * pinmm_rdma_remote_write() - one RDMA WRITE presented to @pd.
 * @p: the PD's process.
 * @pd: the PD descriptor.
 * @rkey: the target region.
 * @iova: where, as a registered virtual address.
 * @buf: the bytes.
 * @len: how many.
 *
 * Context: any thread; may sleep.
 * Return: @len or -errno (see <pinmm/rdma.h>).
 */
long pinmm_rdma_remote_write(struct pinmm_proc *p, int pd, uint32_t rkey, uint64_t iova,
			     const void *buf, size_t len)
{
	return rdma_remote_op_fd(p, pd, rkey, iova, (void *)buf, len, true);
}

/**
 * pinmm_rdma_remote_read() - one RDMA READ presented to @pd.
 * @p: the PD's process.
 * @pd: the PD descriptor.
 * @rkey: the source region.
 * @iova: where, as a registered virtual address.
 * @buf: destination.
 * @len: bytes.
 *
 * Context: any thread; may sleep.
 * Return: @len or -errno.
 */
long pinmm_rdma_remote_read(struct pinmm_proc *p, int pd, uint32_t rkey, uint64_t iova,
			    void *buf, size_t len)
{
	return rdma_remote_op_fd(p, pd, rkey, iova, buf, len, false);
}
