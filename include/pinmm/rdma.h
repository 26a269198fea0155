/* SPDX-License-Identifier: MIT */
/*
 * <pinmm/rdma.h> - a verbs-like RDMA model: protection domains, memory
 * regions over user memory, lkeys and rkeys, and remote peers that read
 * and write registered memory at any time (the ib_umem / ib_uverbs and
 * ib_umem_odp users of Linux, doc/GUP-SEMANTICS.md §5,
 * §7 and §8.1).
 *
 * A protection domain is a descriptor in the process's file table (as
 * libibverbs' uverbs file and io_uring rings are): it is shared with
 * children at fork, and its last close (pinmm_rdma_dealloc_pd(),
 * pinmm_close(), the process's exit) deregisters every memory region on it.
 *
 * Two kinds of memory region:
 *  - pinned (the default, RDMA case 2 of pin_user_pages.rst): registration
 *    pins every page with FOLL_PIN | FOLL_LONGTERM (| FOLL_WRITE when the
 *    region is writable) and charges the registering process's
 *    mm->pinned_vm against its RLIMIT_MEMLOCK.  Remote accesses go straight
 *    to the pinned pages, as DMA does: after munmap() or fork() they keep
 *    reaching the pages that were registered.  Deregistration revokes the
 *    keys, waits for remote operations in flight, then unpins the pages
 *    (dirty when the region was writable) and uncharges them.
 *  - on-demand (IB_ACCESS_ON_DEMAND, ODP, case 3): no pins and no
 *    pinned_vm charge.  The "device" keeps its own translation table for
 *    the region, filled by hmm_range_fault() on a device page fault and
 *    cleared by an MMU interval notifier whenever the CPU mapping changes;
 *    a remote access always reaches the page the process sees now.
 *
 * Remote peers model the other side of a connection: threads (or one-shot
 * calls) that present an rkey and an iova (the registered virtual address,
 * as in verbs) to a protection domain.  An access that names an unknown
 * key, a deregistered key, a key of another protection domain, bytes past
 * the end of the region, or a right the region does not grant is refused
 * and counted; it never touches memory.
 *
 * Under fs.pinned_policy=lease a pinned region takes its pages with
 * vaddr_pin_pages() (<pinmm/linux.h>), owned by the protection domain's
 * file: a range over a pinfs file needs the registering target's layout
 * lease on it (pinmm_lease_get()).  When that lease is revoked the region's
 * keys are invalidated: remote operations in flight finish, every later
 * one completes with a remote access error (-EREMOTEIO, verbs'
 * IBV_WC_REM_ACCESS_ERR), and the owner gets an asynchronous event
 * (pinmm_rdma_get_async_event()).  The region stays registered, holding
 * its fenced pins, until it is deregistered or its PD's file goes at its
 * last reference.
 *
 * All functions return >= 0 on success and a negative errno on failure.
 */
#ifndef PINMM_RDMA_H
#define PINMM_RDMA_H

#include <pinmm/pinmm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Access flags, with the values of Linux's enum ib_access_flags. */
#ifndef IB_ACCESS_LOCAL_WRITE
#define IB_ACCESS_LOCAL_WRITE	(1U << 0)
#define IB_ACCESS_REMOTE_WRITE	(1U << 1)
#define IB_ACCESS_REMOTE_READ	(1U << 2)
#define IB_ACCESS_REMOTE_ATOMIC	(1U << 3)	/* not modelled: -EOPNOTSUPP */
#define IB_ACCESS_MW_BIND	(1U << 4)	/* not modelled: -EOPNOTSUPP */
#define IB_ZERO_BASED		(1U << 5)	/* not modelled: -EOPNOTSUPP */
#define IB_ACCESS_ON_DEMAND	(1U << 6)
#define IB_ACCESS_HUGETLB	(1U << 7)	/* not modelled: -EOPNOTSUPP */
#endif

/* Largest region (the model's bound; a 64-bit length is otherwise legal). */
#define PINMM_RDMA_MAX_MR_SIZE	(1ULL << 36)

/*
 * struct pinmm_rdma_mr_info - what registration returns and
 * pinmm_rdma_query_mr() reports.
 * @lkey, @rkey: the keys (equal, as with most HCAs; never 0).
 * @iova: the registered virtual address; remote accesses name bytes of the
 *	region by it.
 * @length: bytes registered.
 * @access: IB_ACCESS_* flags.
 * @npages: pages the region covers.
 * @on_demand: an ODP region (no pins).
 * @remote: registered over another process's memory.
 * @target_pid: pid of the process whose memory the region covers.
 * @inflight: remote operations currently inside the region.
 * @device_faults: ODP device page faults taken (0 for pinned regions).
 * @invalidations: ODP notifier invalidations that hit the region.
 * @mapped_pages: ODP: valid device translations now; pinned: @npages.
 */
struct pinmm_rdma_mr_info {
	uint32_t lkey;
	uint32_t rkey;
	uint64_t iova;
	uint64_t length;
	unsigned int access;
	unsigned long npages;
	bool on_demand;
	bool remote;
	int target_pid;
	int inflight;
	long device_faults;
	long invalidations;
	unsigned long mapped_pages;
	bool lease_revoked;	/* its layout lease was revoked: keys refuse */
};

/*
 * struct pinmm_rdma_stats - per protection domain counters.  Refused
 * operations are counted on the domain they were presented to; faults and
 * invalidations on the domain owning the region.
 */
struct pinmm_rdma_stats {
	long remote_reads;		/* completed RDMA READs */
	long remote_writes;		/* completed RDMA WRITEs */
	long bytes_read;
	long bytes_written;
	long refused;			/* total of the refused_* below */
	long refused_bad_key;		/* never issued: -ENOKEY */
	long refused_revoked;		/* deregistered: -EKEYREVOKED */
	long refused_wrong_pd;		/* key of another domain: -EPERM */
	long refused_range;		/* outside the region: -ERANGE */
	long refused_access;		/* right not granted: -EACCES */
	long refused_fault;		/* ODP fault failed (unmapped...): -EFAULT */
	long device_faults;		/* ODP device page faults */
	long fault_retries;		/* hmm_range_fault -EBUSY / read_retry */
	long invalidations;		/* ODP invalidate callbacks hitting a region */
	long invalidated_pages;		/* device translations cleared */
	long mrs_registered;		/* since allocation */
	long mrs_live;
	long refused_lease;		/* lease revoked: -EREMOTEIO */
	long mrs_revoked;		/* regions whose lease was revoked */
	long revoke_drains;		/* revocations that waited for operations in flight */
	long events_lost;		/* async events dropped: ring full */
};

/* Asynchronous events (ibv_get_async_event()). */
enum pinmm_rdma_event_type {
	PINMM_RDMA_EVENT_MR_LEASE_REVOKED = 1,	/* like IBV_EVENT_QP_ACCESS_ERR */
};

/*
 * struct pinmm_rdma_async_event - one event of a protection domain.
 * @type: an enum pinmm_rdma_event_type.
 * @lkey: the region concerned.
 * @time_ns: CLOCK_MONOTONIC time it was raised.
 */
struct pinmm_rdma_async_event {
	int type;
	uint32_t lkey;
	uint64_t time_ns;
};

/**
 * pinmm_rdma_alloc_pd() - ibv_alloc_pd(): a new protection domain, a
 * descriptor in @p's file table.
 * Context: any thread.
 * Return: the descriptor; -EINVAL (NULL @p), -ESRCH, -EMFILE, -ENOMEM.
 */
PINMM_API int pinmm_rdma_alloc_pd(struct pinmm_proc *p);

/**
 * pinmm_rdma_dealloc_pd() - ibv_dealloc_pd(): close the descriptor.
 * Context: any thread.
 * Return: 0; -EBUSY (regions are still registered), -EBADF (not a
 * protection domain), -EINVAL, -ESRCH.
 */
PINMM_API int pinmm_rdma_dealloc_pd(struct pinmm_proc *p, int pd);

/**
 * pinmm_rdma_reg_mr() - ibv_reg_mr(): register [@addr, @addr + @len) of @p.
 * @p: the registering process (its memory, its pinned_vm, its RLIMIT_MEMLOCK).
 * @pd: a protection domain descriptor of @p.
 * @addr: page aligned start (the iova of the region).
 * @len: page aligned length, > 0.
 * @access: IB_ACCESS_* flags; REMOTE_WRITE requires LOCAL_WRITE.
 * @out: the keys and geometry (may be NULL).
 *
 * Pinned: pin_user_pages_fast(FOLL_LONGTERM [| FOLL_WRITE]) of every page
 * after charging them to @p's pinned_vm.  ODP: an interval notifier over
 * the range; every page must be mapped by a VMA allowing the access.
 *
 * Context: any thread; may sleep.
 * Return: 0; -EINVAL (zero, unaligned or overflowing range, unknown flags,
 * REMOTE_WRITE without LOCAL_WRITE), -EOPNOTSUPP (a known flag the model
 * does not support), -EFAULT (unmapped, PROT_NONE, VM_IO/PFNMAP, not
 * writable for a writable region, or a writable shared file mapping of a
 * filesystem with writeback, outside the lease policy), -EPERM (lease
 * policy: a pinfs file range without the target's active layout lease),
 * -ENOMEM (RLIMIT_MEMLOCK or memory), -EBADF (@pd), -ESRCH.
 */
PINMM_API int pinmm_rdma_reg_mr(struct pinmm_proc *p, int pd, unsigned long addr,
				size_t len, unsigned int access,
				struct pinmm_rdma_mr_info *out);

/**
 * pinmm_rdma_reg_mr_remote() - register memory of another process.
 * @p: the registering process, owner of @pd; charged as pinmm_rdma_reg_mr().
 * @pd: a protection domain descriptor of @p.
 * @target: the process whose memory is registered (same machine).
 * @addr, @len, @access, @out: as pinmm_rdma_reg_mr(), addresses in @target.
 *
 * Pinned: mmget_not_zero(target mm), mmap_read_lock, pin_user_pages_remote
 * (FOLL_LONGTERM [| FOLL_WRITE], FOLL_REMOTE semantics); the region keeps
 * an mm_count reference (mmgrab) on the target mm while the pins live.
 * The target's exit tears its address space down but the pinned pages stay
 * reachable through the region until it is deregistered.
 *
 * Context: any thread; takes @target's mmap_lock for reading.
 * Return: as pinmm_rdma_reg_mr(); -ESRCH also when @target has exited,
 * -EINVAL when @target is on another machine.
 */
PINMM_API int pinmm_rdma_reg_mr_remote(struct pinmm_proc *p, int pd,
				       struct pinmm_proc *target, unsigned long addr,
				       size_t len, unsigned int access,
				       struct pinmm_rdma_mr_info *out);

/**
 * pinmm_rdma_dereg_mr() - ibv_dereg_mr(): revoke the keys (new remote
 * operations are refused with -EKEYREVOKED), wait for operations in flight,
 * then unpin (dirty when writable) and uncharge, or remove the notifier.
 * Context: any thread; may sleep.
 * Return: 0; -ENOENT (@lkey is not a live region of @pd: never registered,
 * already deregistered), -EBADF, -EINVAL, -ESRCH.
 */
PINMM_API int pinmm_rdma_dereg_mr(struct pinmm_proc *p, int pd, uint32_t lkey);

/**
 * pinmm_rdma_query_mr() - the live state of region @lkey of @pd.
 * Context: any thread.
 * Return: 0; -ENOENT, -EBADF, -EINVAL, -ESRCH.
 */
PINMM_API int pinmm_rdma_query_mr(struct pinmm_proc *p, int pd, uint32_t lkey,
				  struct pinmm_rdma_mr_info *out);

/**
 * pinmm_rdma_pd_stats() - the counters of protection domain @pd.
 * Context: any thread.
 * Return: 0; -EBADF, -EINVAL, -ESRCH.
 */
PINMM_API int pinmm_rdma_pd_stats(struct pinmm_proc *p, int pd,
				  struct pinmm_rdma_stats *out);

/**
 * pinmm_rdma_get_async_event() - ibv_get_async_event(): the oldest unread
 * event of @pd (64 are kept; older ones are dropped and counted).
 * @p: the PD's process.
 * @pd: its descriptor.
 * @ev: receives the event.
 * @timeout_ms: how long to wait for one (0: do not wait).
 *
 * Context: any thread; sleeps.
 * Return: 0; -ETIMEDOUT (none by the deadline), -EBADF, -EINVAL, -ESRCH.
 */
PINMM_API int pinmm_rdma_get_async_event(struct pinmm_proc *p, int pd,
					 struct pinmm_rdma_async_event *ev,
					 unsigned int timeout_ms);

/**
 * pinmm_rdma_remote_write() - one RDMA WRITE from a remote peer connected
 * to @pd: @len bytes of @buf to the region @rkey at @iova.
 * Context: any thread; may sleep (ODP device page fault).
 * Return: @len; refused: -ENOKEY, -EKEYREVOKED, -EREMOTEIO (the region's
 * layout lease was revoked), -EPERM (other domain),
 * -ERANGE (past the end, before the start, or wrapping), -EACCES (no
 * IB_ACCESS_REMOTE_WRITE), -EFAULT (ODP: the page cannot be faulted in);
 * -EINVAL (NULL @buf with a length), -EBADF, -ESRCH.
 */
PINMM_API long pinmm_rdma_remote_write(struct pinmm_proc *p, int pd, uint32_t rkey,
				       uint64_t iova, const void *buf, size_t len);

/**
 * pinmm_rdma_remote_read() - one RDMA READ: @len bytes of region @rkey at
 * @iova into @buf.
 * Context: any thread; may sleep.
 * Return: @len; errors as pinmm_rdma_remote_write() (-EACCES: no
 * IB_ACCESS_REMOTE_READ).
 */
PINMM_API long pinmm_rdma_remote_read(struct pinmm_proc *p, int pd, uint32_t rkey,
				      uint64_t iova, void *buf, size_t len);

/*
 * Remote peers: a thread issuing a workload of RDMA READ/WRITE operations
 * against one region through a protection domain, asynchronously.
 */
struct pinmm_rdma_peer;

/*
 * struct pinmm_rdma_peer_cfg - the workload.
 * @rkey, @iova, @length: the window [iova, iova + length) operated on.
 * @op_size: bytes per operation (0: 4096); the window is swept in order,
 *	one operation after the other, wrapping at its end (a "sweep").
 * @write_pct: percentage of operations that are WRITEs (0..100).
 * @max_ops: stop after this many operations (0: run until stopped).
 * @hold_us: each operation holds the region this long mid-transfer (a
 *	slow DMA; lets tests catch an operation in flight).
 * @pattern: byte written; 0: the sweep number plus one (mod 256, never 0).
 * @stop_on_error: stop at the first refused operation.
 * @seed: for the READ/WRITE choice.
 */
struct pinmm_rdma_peer_cfg {
	uint32_t rkey;
	uint64_t iova;
	uint64_t length;
	size_t op_size;
	int write_pct;
	long max_ops;
	unsigned int hold_us;
	uint8_t pattern;
	bool stop_on_error;
	uint64_t seed;
};

struct pinmm_rdma_peer_stats {
	long ops;			/* completed operations */
	long reads, writes;
	long refused;
	int last_error;			/* errno of the last refused operation */
	long sweeps;			/* completed sweeps of the window */
	double seconds;			/* running time */
};

/**
 * pinmm_rdma_peer_start() - start a peer thread against @pd of @p.
 * The peer keeps the protection domain's state (not its descriptor) alive;
 * after the descriptor's last close its operations are refused.
 * pinmm_shutdown() stops and frees the peers of its machine still running
 * (their handles are invalid afterwards); stop or wait for a peer first to
 * read its final counters.
 * Context: any thread.
 * Return: 0; -EINVAL (@cfg: NULL, empty window, @write_pct), -EBADF,
 * -ESRCH, -ENOMEM, -EAGAIN (thread creation).
 */
PINMM_API int pinmm_rdma_peer_start(struct pinmm_proc *p, int pd,
				    const struct pinmm_rdma_peer_cfg *cfg,
				    struct pinmm_rdma_peer **out);
/**
 * pinmm_rdma_peer_wait() - wait until the peer has finished on its own
 * (@max_ops reached or @stop_on_error), then as pinmm_rdma_peer_stop().
 * Context: any thread; the peer is freed.
 * Return: 0; -EINVAL (NULL, or @max_ops == 0 without @stop_on_error).
 */
PINMM_API int pinmm_rdma_peer_wait(struct pinmm_rdma_peer *peer,
				   struct pinmm_rdma_peer_stats *out);
/**
 * pinmm_rdma_peer_stop() - stop the peer (after its current operation),
 * join it, report and free it.
 * Context: any thread.
 * Return: 0; -EINVAL.
 */
PINMM_API int pinmm_rdma_peer_stop(struct pinmm_rdma_peer *peer,
				   struct pinmm_rdma_peer_stats *out);
/**
 * pinmm_rdma_peer_progress() - the peer's counters so far, while it runs.
 * @peer: a running (or finished, not yet waited for) peer.
 * @out: a snapshot of its counters.
 *
 * Context: any thread; does not wait for the peer.
 * Return: 0; -EINVAL.
 */
PINMM_API int pinmm_rdma_peer_progress(struct pinmm_rdma_peer *peer,
				       struct pinmm_rdma_peer_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* PINMM_RDMA_H */
