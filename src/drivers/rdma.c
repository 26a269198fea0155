/* SPDX-License-Identifier: MIT */
/*
 * rdma.c - a verbs-like RDMA model (Linux drivers/infiniband/core: uverbs
 * protection domains, ib_umem registration, lkeys/rkeys) and the remote
 * peers that use it.  On-demand regions live in rdma_odp.c.
 *
 * Protection domains: a PD is an anonymous-inode file in the allocating
 * process's file table, like the uverbs file and io_uring rings; its
 * ->release (last close: dealloc, pinmm_close(), exit, the exit of a child
 * that inherited it) deregisters every region.  Peers hold a reference on
 * the PD's state, never on the file, so a PD whose owner exited keeps
 * answering its peers with refusals (-EKEYREVOKED).
 *
 * Keys: one table for the whole library, not one per machine: keys are
 * unique across machines, and a key of one machine presented to a PD of
 * another is refused as a key of another PD (-EPERM).
 * A key is (slot index << 8) | 8-bit variant, as an mlx5 mkey is; the
 * variant changes on every reuse of a slot, and each slot remembers which
 * variants it issued, so a deregistered key is told from one that never
 * existed.  A lookup checks the key, then the PD, and takes an in-flight
 * reference on the region under the table lock.
 *
 * Pinned registration (ib_umem_get()): validate, charge pinned_vm against
 * RLIMIT_MEMLOCK first (-ENOMEM), then pin_user_pages_fast() in chunks with
 * FOLL_LONGTERM (| FOLL_WRITE when writable); a short pin unwinds and is
 * -EFAULT.  Remote registration pins another process's memory:
 * mmget_not_zero(), mmap_read_lock(), pin_user_pages_remote() (FOLL_REMOTE),
 * and keeps mmgrab() on the target mm while the pins live.
 *
 * Deregistration (ib_umem_release()): unlink from the PD, free the key (new
 * operations are refused as revoked), wait until no operation is in
 * flight, then unpin physically contiguous runs with
 * unpin_user_page_range_dirty_lock(make_dirty = writable) and uncharge.
 *
 * Remote operations move bytes through kmap_local_page() of the pinned
 * pages, as DMA would: the process's page tables are not consulted, so
 * after munmap() or a COW in the process the region still reaches the pages
 * registered.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <pinmm/lease.h>
#include "rdma_internal.h"
#include "gup.h"
#include "fs.h"
#include "init.h"
#include "rcu.h"

#define RDMA_SUPPORTED_ACCESS (IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | \
			       IB_ACCESS_REMOTE_READ | IB_ACCESS_ON_DEMAND)
#define RDMA_KNOWN_ACCESS (RDMA_SUPPORTED_ACCESS | IB_ACCESS_REMOTE_ATOMIC | \
			   IB_ACCESS_MW_BIND | IB_ZERO_BASED | IB_ACCESS_HUGETLB)
#define RDMA_WRITABLE_ACCESS (IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE)
#define RDMA_PIN_CHUNK 512UL		/* PAGE_SIZE / sizeof(struct page *) */
#define RDMA_MAX_KEY_SLOTS (1U << 24)

/* ------------------------------------------------------------------ */
/* Keys                                                                 */

struct rdma_key_slot {
	struct rdma_mr *mr;		/* NULL: free */
	uint8_t gen;			/* variant of the current / last key */
	uint64_t issued[4];		/* variants ever issued from this slot */
};

static struct {
	struct mutex lock;
	struct rdma_key_slot *slots;
	uint32_t nr;			/* slots allocated (slot 0 unused) */
	uint32_t cursor;		/* where the next search starts */
} rdma_keys = { .lock = __MUTEX_INITIALIZER(rdma_keys.lock), .nr = 0, .cursor = 1 };

/* Give @mr a key.  Return: 0, -ENOMEM. */
static int rdma_key_alloc(struct rdma_mr *mr)
{
	struct rdma_key_slot *s;
	uint32_t idx = 0;

	mutex_lock(&rdma_keys.lock);
	for (uint32_t n = 1; n < rdma_keys.nr; n++) {
		uint32_t i = 1 + (rdma_keys.cursor - 1 + n - 1) % (rdma_keys.nr - 1);

		if (!rdma_keys.slots[i].mr) {
			idx = i;
			break;
		}
	}
	if (!idx) {
		uint32_t nr = rdma_keys.nr ? rdma_keys.nr * 2 : 64;

		if (nr > RDMA_MAX_KEY_SLOTS ||
		    !(s = realloc(rdma_keys.slots, nr * sizeof(*s)))) {
			mutex_unlock(&rdma_keys.lock);
			return -ENOMEM;
		}
		memset(s + rdma_keys.nr, 0, (nr - rdma_keys.nr) * sizeof(*s));
		idx = rdma_keys.nr ? rdma_keys.nr : 1;
		rdma_keys.slots = s;
		rdma_keys.nr = nr;
	}
	s = &rdma_keys.slots[idx];
	s->gen++;
	s->issued[s->gen / 64] |= 1ULL << (s->gen % 64);
	s->mr = mr;
	mr->key = idx << 8 | s->gen;
	rdma_keys.cursor = idx + 1 < rdma_keys.nr ? idx + 1 : 1;
	mutex_unlock(&rdma_keys.lock);
	return 0;
}

/* Revoke @mr's key: from now on lookups answer -EKEYREVOKED. */
static void rdma_key_free(struct rdma_mr *mr)
{
	mutex_lock(&rdma_keys.lock);
	rdma_keys.slots[mr->key >> 8].mr = NULL;
	mutex_unlock(&rdma_keys.lock);
}

/*
 * Find the region of @key for an operation presented to @pd and take an
 * in-flight reference on it.  Return: 0, -ENOKEY, -EKEYREVOKED, -EPERM.
 */
static int rdma_mr_get(struct rdma_pd *pd, uint32_t key, struct rdma_mr **out)
{
	uint32_t idx = key >> 8;
	uint8_t gen = key & 0xff;
	struct rdma_key_slot *s;
	int ret = 0;

	mutex_lock(&rdma_keys.lock);
	if (!idx || idx >= rdma_keys.nr) {
		ret = -ENOKEY;
		goto out;
	}
	s = &rdma_keys.slots[idx];
	if (s->mr && s->gen == gen) {
		if (s->mr->pd != pd) {
			ret = -EPERM;
			goto out;
		}
		atomic_inc(&s->mr->inflight);	/* (1) only while the key is live */
		*out = s->mr;
	} else {
		ret = s->issued[gen / 64] & (1ULL << (gen % 64)) ? -EKEYREVOKED : -ENOKEY;
	}
out:
	mutex_unlock(&rdma_keys.lock);
	return ret;
}

void (*_Atomic rdma_last_put_hook)(void);

/*
 * Drop an in-flight reference (doc/MEMORY-ORDERING.md, "RDMA region
 * in-flight references").  Only the last reference is dropped under
 * @mr->lock: rdma_mr_destroy() reads zero under that lock, so by the time
 * it can free @mr the last putter has unlocked it and touches it no more.
 */
static void rdma_mr_put(struct rdma_mr *mr)
{
	void (*hook)(void);

	/* (3a) not the last reference: the count cannot reach zero here. */
	if (atomic_add_unless(&mr->inflight, -1, 1))
		return;
	/* (3b) perhaps the last one: decrement, wake and unlock under the lock. */
	mutex_lock(&mr->lock);
	if (atomic_dec_and_test(&mr->inflight)) {
		wake_up_all(&mr->wait);
		hook = atomic_load(&rdma_last_put_hook);
		if (hook)
			hook();
	}
	mutex_unlock(&mr->lock);		/* (3c) the putter's last touch */
}

/* ------------------------------------------------------------------ */
/* Regions                                                              */

/* Unpin physically contiguous runs, dirty when the region was writable. */
static void rdma_umem_release(struct rdma_mr *mr)
{
	unsigned long i = 0;

	while (i < mr->npages) {
		unsigned long n = 1;

		while (i + n < mr->npages && mr->pages[i + n] == mr->pages[i] + n)
			n++;
		unpin_user_page_range_dirty_lock(mr->pages[i], n, mr->writable);
		i += n;
	}
}

/*
 * Tear down a region already unlinked from its PD: revoke the key, wait
 * for operations in flight, release the memory.
 */
static void rdma_mr_destroy(struct rdma_mr *mr)
{
	struct rdma_pd *pd = mr->pd;

	rdma_key_free(mr);			/* (2) no new reference from here on */
	mutex_lock(&mr->lock);			/* (4) zero is read under the lock */
	wait_event_lock(&mr->wait, !atomic_read(&mr->inflight), &mr->lock);
	mutex_unlock(&mr->lock);		/* (5) the last putter is gone */
	if (mr->odp) {
		rdma_odp_release(mr);
	} else {
		rdma_umem_release(mr);
		unaccount_pinned_vm(mr->mm_account, mr->npages);
		mmdrop(mr->mm_account);
	}
	mmdrop(mr->mm);
	free(mr->pages);
	destroy_waitqueue_head(&mr->wait);
	mutex_destroy(&mr->lock);
	free(mr);
	rdma_count(pd, RS_MRS_LIVE, -1);
}

static void rdma_pd_put(struct rdma_pd *pd)
{
	if (atomic_dec_and_test(&pd->refs)) {
		mutex_destroy(&pd->lock);
		free(pd);
	}
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

/* The PD behind @fd of @p, its file referenced, or an ERR_PTR. */
static struct file *rdma_pd_fget(struct pinmm_proc *p, int fd)
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
	pd = calloc(1, sizeof(*pd));
	if (!pd)
		return -ENOMEM;
	pd->machine = p->machine;
	atomic_set(&pd->refs, 1);
	mutex_init(&pd->lock);
	INIT_LIST_HEAD(&pd->mrs);
	file = anon_inode_getfile("[infinibandevent]", &rdma_pd_fops, pd, O_RDWR);
	if (!file) {
		mutex_destroy(&pd->lock);
		free(pd);
		return -ENOMEM;
	}
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

static int rdma_check_access(unsigned int access)
{
	if (access & ~RDMA_KNOWN_ACCESS)
		return -EINVAL;
	if (access & ~RDMA_SUPPORTED_ACCESS)
		return -EOPNOTSUPP;
	/* ib_check_mr_access(): remote write needs local write. */
	if ((access & IB_ACCESS_REMOTE_WRITE) && !(access & IB_ACCESS_LOCAL_WRITE))
		return -EINVAL;
	return 0;
}

static int rdma_check_range(unsigned long addr, size_t len)
{
	unsigned long end;

	if (!len || !PAGE_ALIGNED(addr) || !PAGE_ALIGNED(len))
		return -EINVAL;
	if (__builtin_add_overflow(addr, len, &end) || end > TASK_SIZE)
		return -EINVAL;
	if (len > PINMM_RDMA_MAX_MR_SIZE)
		return -EINVAL;
	return 0;
}

/* Pin @mr's pages of @p's own mm with pin_user_pages_fast(). */
static int rdma_pin_local(struct rdma_mr *mr, struct pinmm_proc *p, unsigned int gup_flags)
{
	struct pinmm_proc *saved = pinmm_current_proc;
	unsigned long done = 0;
	int ret = 0;

	pinmm_current_proc = p;	/* the registration runs as a syscall of @p */
	while (done < mr->npages) {
		int n = (int)min(mr->npages - done, RDMA_PIN_CHUNK);
		int got = pin_user_pages_fast(mr->iova + done * PAGE_SIZE, n, gup_flags,
					      mr->pages + done);

		if (got <= 0) {
			ret = got ? got : -EFAULT;
			break;
		}
		done += (unsigned long)got;
	}
	pinmm_current_proc = saved;
	if (ret && done)
		unpin_user_pages(mr->pages, done);
	return ret;
}

/* Pin @mr's pages of another mm: pin_user_pages_remote() under its lock. */
static int rdma_pin_remote(struct rdma_mr *mr, unsigned int gup_flags)
{
	struct mm_struct *mm = mr->mm;
	unsigned long done = 0;
	int ret = 0;

	if (!mmget_not_zero(mm))
		return -ESRCH;
	mmap_read_lock(mm);
	while (done < mr->npages) {
		long got = pin_user_pages_remote(mm, mr->iova + done * PAGE_SIZE,
						 mr->npages - done, gup_flags,
						 mr->pages + done, NULL);

		if (got <= 0) {
			ret = got ? (int)got : -EFAULT;
			break;
		}
		done += (unsigned long)got;
	}
	mmap_read_unlock(mm);
	mmput(mm);
	if (ret && done)
		unpin_user_pages(mr->pages, done);
	return ret;
}

/*
 * The mm of @t with an mm_users reference (mmget_not_zero()), or NULL once
 * @t has exited.  pinmm_exit() claims a process under the machine's
 * proc_lock before tearing it down, and do_exit() clears @t->mm under it,
 * so a process seen alive under the lock still owns a live mm.
 */
static struct mm_struct *rdma_target_mm(struct pinmm_proc *t)
{
	struct mm_struct *mm = NULL;

	mutex_lock(&t->machine->proc_lock);
	if (!t->exited && t->mm && mmget_not_zero(t->mm))
		mm = t->mm;
	mutex_unlock(&t->machine->proc_lock);
	return mm;
}

static int rdma_reg(struct pinmm_proc *p, int pdfd, struct pinmm_proc *target,
		    unsigned long addr, size_t len, unsigned int access,
		    struct pinmm_rdma_mr_info *out, bool remote)
{
	struct mm_struct *tmm;
	struct rdma_mr *mr;
	struct rdma_pd *pd;
	struct file *file;
	int ret;

	file = rdma_pd_fget(p, pdfd);
	if (IS_ERR(file))
		return (int)PTR_ERR(file);
	pd = file->private_data;
	ret = rdma_check_access(access);
	if (!ret)
		ret = rdma_check_range(addr, len);
	if (!ret && !target)
		ret = -EINVAL;
	if (!ret && target->machine != p->machine)
		ret = -EINVAL;
	if (ret)
		goto out_fput;
	tmm = rdma_target_mm(target);
	if (!tmm) {
		ret = -ESRCH;
		goto out_fput;
	}
	mr = calloc(1, sizeof(*mr));
	if (!mr) {
		ret = -ENOMEM;
		goto out_mmput;
	}
	mr->pd = pd;
	mr->iova = addr;
	mr->length = len;
	mr->access = access;
	mr->npages = len >> PAGE_SHIFT;
	mr->writable = access & RDMA_WRITABLE_ACCESS;
	mr->remote = remote;
	mr->target_pid = target->pid;
	mr->mm = tmm;
	mmgrab(tmm);
	INIT_LIST_HEAD(&mr->pd_node);
	mutex_init(&mr->lock);
	init_waitqueue_head(&mr->wait);

	if (access & IB_ACCESS_ON_DEMAND) {
		ret = rdma_odp_init(mr);
		if (ret)
			goto out_free;
	} else {
		unsigned int gup_flags = FOLL_LONGTERM | (mr->writable ? FOLL_WRITE : 0);

		mr->pages = calloc(mr->npages, sizeof(*mr->pages));
		if (!mr->pages) {
			ret = -ENOMEM;
			goto out_free;
		}
		/* ib_umem_get(): charge first, then pin. */
		ret = account_pinned_vm(p, mr->npages);
		if (ret)
			goto out_free;
		mr->mm_account = p->mm;
		mmgrab(p->mm);
		ret = remote ? rdma_pin_remote(mr, gup_flags) :
			       rdma_pin_local(mr, p, gup_flags);
		if (ret) {
			unaccount_pinned_vm(mr->mm_account, mr->npages);
			mmdrop(mr->mm_account);
			goto out_free;
		}
	}

	ret = rdma_key_alloc(mr);
	if (!ret) {
		mutex_lock(&pd->lock);
		if (pd->closed) {
			ret = -EBADF;
		} else {
			list_add_tail(&mr->pd_node, &pd->mrs);
			rdma_count(pd, RS_MRS_REGISTERED, 1);
			rdma_count(pd, RS_MRS_LIVE, 1);
		}
		mutex_unlock(&pd->lock);
		if (ret) {
			rdma_count(pd, RS_MRS_LIVE, 1);	/* destroy drops it */
			rdma_mr_destroy(mr);
			goto out_mmput;
		}
	} else {
		if (mr->odp) {
			rdma_odp_release(mr);
		} else {
			rdma_umem_release(mr);
			unaccount_pinned_vm(mr->mm_account, mr->npages);
			mmdrop(mr->mm_account);
		}
		goto out_free;
	}
	if (out)
		*out = (struct pinmm_rdma_mr_info){
			.lkey = mr->key, .rkey = mr->key, .iova = mr->iova,
			.length = mr->length, .access = mr->access, .npages = mr->npages,
			.on_demand = mr->odp != NULL, .remote = remote,
			.target_pid = mr->target_pid,
			.mapped_pages = mr->odp ? 0 : mr->npages,
		};
	mmput(tmm);
	fput(file);
	pinmm_debug_boundary(p->machine);
	return 0;

out_free:
	mmdrop(mr->mm);
	free(mr->pages);
	destroy_waitqueue_head(&mr->wait);
	mutex_destroy(&mr->lock);
	free(mr);
out_mmput:
	mmput(tmm);
out_fput:
	fput(file);
	pinmm_debug_boundary(p->machine);
	return ret;
}

/**
 * pinmm_rdma_reg_mr() - register [@addr, @addr + @len) of @p on @pd.
 * @p: the registering process.
 * @pd: its PD descriptor.
 * @addr: page-aligned start.
 * @len: page-aligned length.
 * @access: IB_ACCESS_* flags.
 * @out: keys and geometry, or NULL.
 *
 * Context: any thread; may sleep.
 * Return: 0 or -errno (see <pinmm/rdma.h>).
 */
int pinmm_rdma_reg_mr(struct pinmm_proc *p, int pd, unsigned long addr, size_t len,
		      unsigned int access, struct pinmm_rdma_mr_info *out)
{
	return rdma_reg(p, pd, p, addr, len, access, out, false);
}

/**
 * pinmm_rdma_reg_mr_remote() - register memory of @target on @p's @pd.
 * @p: the registering process (charged).
 * @pd: its PD descriptor.
 * @target: the process whose memory is pinned (or mirrored, with ODP).
 * @addr: page-aligned start in @target.
 * @len: page-aligned length.
 * @access: IB_ACCESS_* flags.
 * @out: keys and geometry, or NULL.
 *
 * Context: any thread; takes @target's mmap_lock for reading.
 * Return: 0 or -errno (see <pinmm/rdma.h>).
 */
int pinmm_rdma_reg_mr_remote(struct pinmm_proc *p, int pd, struct pinmm_proc *target,
			     unsigned long addr, size_t len, unsigned int access,
			     struct pinmm_rdma_mr_info *out)
{
	if (!target)
		return -EINVAL;
	return rdma_reg(p, pd, target, addr, len, access, out, true);
}

/* The live region @lkey of @pd, or NULL; pd->lock held. */
static struct rdma_mr *rdma_pd_find(struct rdma_pd *pd, uint32_t lkey)
{
	struct rdma_mr *mr;

	lockdep_assert_held(&pd->lock);
	list_for_each_entry(mr, &pd->mrs, pd_node)
		if (mr->key == lkey)
			return mr;
	return NULL;
}

/**
 * pinmm_rdma_dereg_mr() - deregister region @lkey of @pd.
 * @p: the process.
 * @pd: its PD descriptor.
 * @lkey: the region.
 *
 * Context: any thread; sleeps until remote operations in flight finish.
 * Return: 0, -ENOENT, -EBADF, -EINVAL, -ESRCH.
 */
int pinmm_rdma_dereg_mr(struct pinmm_proc *p, int pd, uint32_t lkey)
{
	struct file *file = rdma_pd_fget(p, pd);
	struct rdma_mr *mr;
	struct rdma_pd *d;

	if (IS_ERR(file))
		return (int)PTR_ERR(file);
	d = file->private_data;
	mutex_lock(&d->lock);
	mr = rdma_pd_find(d, lkey);
	if (mr)
		list_del_init(&mr->pd_node);
	mutex_unlock(&d->lock);
	if (mr)
		rdma_mr_destroy(mr);
	fput(file);
	pinmm_debug_boundary(p->machine);
	return mr ? 0 : -ENOENT;
}

/**
 * pinmm_rdma_query_mr() - the live state of region @lkey.
 * @p: the process.
 * @pd: its PD descriptor.
 * @lkey: the region.
 * @out: filled in.
 *
 * Context: any thread.
 * Return: 0, -ENOENT, -EBADF, -EINVAL, -ESRCH.
 */
int pinmm_rdma_query_mr(struct pinmm_proc *p, int pd, uint32_t lkey,
			struct pinmm_rdma_mr_info *out)
{
	struct file *file;
	struct rdma_mr *mr;
	struct rdma_pd *d;

	if (!out)
		return -EINVAL;
	file = rdma_pd_fget(p, pd);
	if (IS_ERR(file))
		return (int)PTR_ERR(file);
	d = file->private_data;
	mutex_lock(&d->lock);
	mr = rdma_pd_find(d, lkey);
	if (mr) {
		*out = (struct pinmm_rdma_mr_info){
			.lkey = mr->key, .rkey = mr->key, .iova = mr->iova,
			.length = mr->length, .access = mr->access, .npages = mr->npages,
			.on_demand = mr->odp != NULL, .remote = mr->remote,
			.target_pid = mr->target_pid, .inflight = atomic_read(&mr->inflight),
			.mapped_pages = mr->npages,
		};
		if (mr->odp)
			rdma_odp_query(mr, out);
	}
	mutex_unlock(&d->lock);
	fput(file);
	return mr ? 0 : -ENOENT;
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
	};
	return 0;
}

/* ------------------------------------------------------------------ */
/* Remote operations                                                    */

void rdma_hold(unsigned int us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };

	if (us)
		nanosleep(&ts, NULL);
}

/*
 * Pinned region: the "device" moves the bytes through the pinned pages.
 * Writes go through pinmm_dma_write(), so that a page whose layout lease
 * was revoked (fs.pinned_policy=lease) is fenced: the write is dropped,
 * counted there, and the operation fails with -EIO as a remote access
 * error would.
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
		} else {
			pinmm_dma_read(page, poff, (char *)buf + done, chunk);
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
	case -EPERM: s = RS_WRONG_PD; break;
	case -ERANGE: s = RS_RANGE; break;
	case -EACCES: s = RS_ACCESS; break;
	default: s = RS_FAULT; break;
	}
	rdma_count(pd, s, 1);
	rdma_count(pd, RS_REFUSED, 1);
}

/*
 * One RDMA READ or WRITE presented to @pd: key, PD, access and range
 * checks, then the transfer with an in-flight reference on the region.
 */
static long rdma_remote_op(struct rdma_pd *pd, uint32_t rkey, uint64_t iova, void *buf,
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
put:
	rdma_mr_put(mr);
	if (ret < 0)
		goto refuse;
	rdma_count(pd, write ? RS_WRITES : RS_READS, 1);
	rdma_count(pd, write ? RS_BYTES_WRITTEN : RS_BYTES_READ, ret);
	return ret;
refuse:
	rdma_refuse(pd, (int)ret);
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

/* ------------------------------------------------------------------ */
/* Peers                                                                */

/*
 * struct pinmm_rdma_peer - one peer thread.  @node links it on
 * rdma_peers.list (under rdma_peers.lock) from start until the caller's
 * stop or wait, or until the shutdown of @machine reaps it.
 */
struct pinmm_rdma_peer {
	struct rdma_pd *pd;
	struct pinmm *machine;
	struct list_head node;
	struct pinmm_rdma_peer_cfg cfg;
	pthread_t thread;
	atomic_bool stop;
	atomic_bool done;
	atomic_long_t ops, reads, writes, refused, sweeps;
	atomic_int last_error;
	struct timespec t0, t1;
	unsigned char *buf;
};

/* Every peer not yet stopped, of every machine. */
static struct {
	struct mutex lock;
	struct list_head list;
} rdma_peers = { __MUTEX_INITIALIZER(rdma_peers.lock), LIST_HEAD_INIT(rdma_peers.list) };

static void rdma_peer_link(struct pinmm_rdma_peer *peer)
{
	mutex_lock(&rdma_peers.lock);
	list_add_tail(&peer->node, &rdma_peers.list);
	mutex_unlock(&rdma_peers.lock);
}

static void rdma_peer_unlink(struct pinmm_rdma_peer *peer)
{
	mutex_lock(&rdma_peers.lock);
	list_del_init(&peer->node);
	mutex_unlock(&rdma_peers.lock);
}

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) * 1e-9;
}

static void *rdma_peer_thread(void *arg)
{
	struct pinmm_rdma_peer *peer = arg;
	const struct pinmm_rdma_peer_cfg *cfg = &peer->cfg;
	uint64_t rng = cfg->seed ? cfg->seed : 0x9e3779b97f4a7c15ULL;
	uint64_t off = 0;
	long sweep = 0;
	int filled = -1;

	pinmm_thread_enter();
	for (long i = 0; !atomic_load_explicit(&peer->stop, memory_order_relaxed); i++) {
		size_t n = (size_t)min((uint64_t)cfg->op_size, cfg->length - off);
		bool write;
		long ret;

		if (cfg->max_ops && i >= cfg->max_ops)
			break;
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		write = (int)(rng % 100) < cfg->write_pct;
		if (write) {
			int pat = cfg->pattern ? cfg->pattern : (int)(sweep % 255) + 1;

			if (pat != filled) {
				memset(peer->buf, pat, cfg->op_size);
				filled = pat;
			}
		}
		ret = rdma_remote_op(peer->pd, cfg->rkey, cfg->iova + off, peer->buf, n, write,
				     cfg->hold_us);
		if (ret < 0) {
			atomic_long_inc(&peer->refused);
			atomic_store(&peer->last_error, (int)-ret);
			if (cfg->stop_on_error)
				break;
		} else {
			atomic_long_inc(&peer->ops);
			atomic_long_inc(write ? &peer->writes : &peer->reads);
		}
		off += n;
		if (off >= cfg->length) {
			off = 0;
			sweep++;
			atomic_long_set(&peer->sweeps, sweep);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &peer->t1);
	atomic_store(&peer->done, true);
	return NULL;
}

/**
 * pinmm_rdma_peer_start() - a peer thread working on @pd of @p.
 * @p: the PD's process.
 * @pd: the PD descriptor.
 * @cfg: the workload.
 * @out: the peer.
 *
 * Context: any thread.
 * Return: 0, -EINVAL, -EBADF, -ESRCH, -ENOMEM, -EAGAIN.
 */
int pinmm_rdma_peer_start(struct pinmm_proc *p, int pd, const struct pinmm_rdma_peer_cfg *cfg,
			  struct pinmm_rdma_peer **out)
{
	struct pinmm_rdma_peer *peer;
	struct file *file;
	struct rdma_pd *d;

	if (!cfg || !out || !cfg->length || cfg->write_pct < 0 || cfg->write_pct > 100 ||
	    cfg->max_ops < 0)
		return -EINVAL;
	file = rdma_pd_fget(p, pd);
	if (IS_ERR(file))
		return (int)PTR_ERR(file);
	d = file->private_data;
	peer = calloc(1, sizeof(*peer));
	if (!peer) {
		fput(file);
		return -ENOMEM;
	}
	peer->cfg = *cfg;
	if (!peer->cfg.op_size)
		peer->cfg.op_size = PAGE_SIZE;
	peer->buf = malloc(peer->cfg.op_size);
	if (!peer->buf) {
		free(peer);
		fput(file);
		return -ENOMEM;
	}
	peer->pd = d;
	peer->machine = d->machine;
	INIT_LIST_HEAD(&peer->node);
	atomic_inc(&d->refs);
	fput(file);
	/* Here, not in the thread: progress() reads it without a lock. */
	clock_gettime(CLOCK_MONOTONIC, &peer->t0);
	if (pthread_create(&peer->thread, NULL, rdma_peer_thread, peer)) {
		rdma_pd_put(d);
		free(peer->buf);
		free(peer);
		return -EAGAIN;
	}
	rdma_peer_link(peer);
	*out = peer;
	return 0;
}

/**
 * pinmm_rdma_peer_progress() - the counters of a running (or finished) peer.
 * @peer: the peer.
 * @out: filled in.
 *
 * Context: any thread; lockless reads.
 * Return: 0, -EINVAL.
 */
int pinmm_rdma_peer_progress(struct pinmm_rdma_peer *peer, struct pinmm_rdma_peer_stats *out)
{
	struct timespec now;

	if (!peer || !out)
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &now);
	*out = (struct pinmm_rdma_peer_stats){
		.ops = atomic_long_read(&peer->ops),
		.reads = atomic_long_read(&peer->reads),
		.writes = atomic_long_read(&peer->writes),
		.refused = atomic_long_read(&peer->refused),
		.last_error = atomic_load(&peer->last_error),
		.sweeps = atomic_long_read(&peer->sweeps),
	};
	if (atomic_load(&peer->done))
		now = peer->t1;
	out->seconds = ts_diff(&peer->t0, &now);
	return 0;
}

/* Join a peer told to stop (or finishing on its own), report, free it. */
static void rdma_peer_reap(struct pinmm_rdma_peer *peer, struct pinmm_rdma_peer_stats *out)
{
	pthread_join(peer->thread, NULL);
	if (out)
		pinmm_rdma_peer_progress(peer, out);
	rdma_pd_put(peer->pd);
	free(peer->buf);
	free(peer);
}

/**
 * pinmm_rdma_peer_stop() - stop, join, report and free @peer.
 * @peer: the peer.
 * @out: final counters, or NULL.
 *
 * Context: any thread.
 * Return: 0, -EINVAL.
 */
int pinmm_rdma_peer_stop(struct pinmm_rdma_peer *peer, struct pinmm_rdma_peer_stats *out)
{
	if (!peer)
		return -EINVAL;
	rdma_peer_unlink(peer);
	atomic_store(&peer->stop, true);
	rdma_peer_reap(peer, out);
	return 0;
}

/**
 * pinmm_rdma_peer_wait() - wait for @peer to finish its workload, then
 * stop it.
 * @peer: the peer (max_ops or stop_on_error set).
 * @out: final counters, or NULL.
 *
 * Context: any thread.
 * Return: 0, -EINVAL.
 */
int pinmm_rdma_peer_wait(struct pinmm_rdma_peer *peer, struct pinmm_rdma_peer_stats *out)
{
	if (!peer || (!peer->cfg.max_ops && !peer->cfg.stop_on_error))
		return -EINVAL;
	rdma_peer_unlink(peer);
	rdma_peer_reap(peer, out);
	return 0;
}

/*
 * rdma_shutdown() - machine shutdown (->shutdown of the "rdma" initcall):
 * stop and reap every peer of @m the caller left running, before the
 * processes exit (their PDs' last closes then deregister every region).
 * A peer handle is invalid afterwards.  Context: pinmm_shutdown(); no
 * other thread uses @m.
 */
static void rdma_shutdown(struct pinmm *m)
{
	struct pinmm_rdma_peer *peer, *tmp;
	LIST_HEAD(reap);

	mutex_lock(&rdma_peers.lock);
	list_for_each_entry_safe(peer, tmp, &rdma_peers.list, node)
		if (peer->machine == m)
			list_move_tail(&peer->node, &reap);
	mutex_unlock(&rdma_peers.lock);
	list_for_each_entry_safe(peer, tmp, &reap, node) {
		list_del_init(&peer->node);
		atomic_store(&peer->stop, true);
		rdma_peer_reap(peer, NULL);
	}
}

pinmm_initcall(rdma, INITCALL_DRIVERS(1), NULL, rdma_shutdown, NULL);
