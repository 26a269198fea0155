/* SPDX-License-Identifier: MIT */
/*
 * rdma_mr.c - RDMA memory regions (Linux drivers/infiniband/core: ib_umem
 * registration, lkeys/rkeys): keys, registration, the in-flight references
 * of remote operations, deregistration.  Protection domains are in
 * rdma_pd.c, the data path in rdma_rw.c, on-demand regions in rdma_odp.c.
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
 * Under fs.pinned_policy=lease registration pins with vaddr_pin_pages()
 * (src/mm/file_pin.c) instead, owned by the PD's file, in one call under
 * the target mm's mmap_lock: a pinfs file range needs the target's active
 * layout lease on that file (-EPERM otherwise).  If the lease is revoked,
 * rdma_mr_lease_revoked() runs before the truncate changes the layout:
 * it invalidates the keys (new operations get -EREMOTEIO, a remote access
 * error), waits for operations in flight, and raises an async event.  The
 * region keeps its (fenced) pins until deregistration or the PD's last
 * fput() - the record holds no reference on the PD file, so the file's
 * last reference still tears the regions down (Gunthorpe).
 *
 * Deregistration (ib_umem_release()): unlink from the PD, free the key (new
 * operations are refused as revoked), wait until no operation is in
 * flight, then unpin physically contiguous runs with
 * unpin_user_page_range_dirty_lock(make_dirty = writable) and uncharge.
 * The labels (1)-(5) are the steps of doc/MEMORY-ORDERING.md (i).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rdma_internal.h"
#include "fault_inject.h"
#include "gup.h"
#include "file_pin.h"
#include "fs.h"
#include "pin_policy.h"

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
		    !(s = krealloc(rdma_keys.slots, nr * sizeof(*s)))) {
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

/**
 * rdma_mr_get() - find the region of @key for an operation presented to
 * @pd and take an in-flight reference on it (step (1)).
 * @pd: the PD the operation arrives at.
 * @key: the rkey presented.
 * @out: the region, referenced (rdma_mr_put() it).
 *
 * Context: any; takes the key-table lock.
 * Return: 0, -ENOKEY, -EKEYREVOKED, -EREMOTEIO (lease revoked), -EPERM.
 */
int rdma_mr_get(struct rdma_pd *pd, uint32_t key, struct rdma_mr **out)
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
		if (s->mr->lease_revoked) {
			ret = -EREMOTEIO;
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

/**
 * rdma_mr_put() - drop an in-flight reference (doc/MEMORY-ORDERING.md (i),
 * steps (3a)-(3c)).
 * @mr: a region referenced by rdma_mr_get().
 *
 * Only the last reference is dropped under @mr->lock: rdma_mr_destroy()
 * reads zero under that lock, so by the time it can free @mr the last
 * putter has unlocked it and touches it no more.
 *
 * Context: any; no lock held (takes @mr->lock for the last reference).
 */
void rdma_mr_put(struct rdma_mr *mr)
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

	if (mr->file_pinned) {
		struct vaddr_pin vp = { .f_owner = mr->pd->file, .mm = mr->mm };

		vaddr_unpin_pages(mr->pages, mr->npages, &vp, mr->writable);
		return;
	}
	while (i < mr->npages) {
		unsigned long n = 1;

		while (i + n < mr->npages && mr->pages[i + n] == mr->pages[i] + n)
			n++;
		unpin_user_page_range_dirty_lock(mr->pages[i], n, mr->writable);
		i += n;
	}
}

/* Unmirror an ODP region, or unpin and uncharge a pinned one. */
static void rdma_mr_release_memory(struct rdma_mr *mr)
{
	if (mr->odp) {
		rdma_odp_release(mr);
	} else {
		rdma_umem_release(mr);
		unaccount_pinned_vm(mr->mm_account, mr->npages);
		mmdrop(mr->mm_account);
	}
}

/**
 * rdma_mr_destroy() - tear down a region already unlinked from its PD:
 * revoke the key, wait for operations in flight, release the memory
 * (steps (2), (4), (5)).
 * @mr: the region; freed on return.
 *
 * Context: may sleep (until remote operations in flight finish); no lock
 * held.
 */
void rdma_mr_destroy(struct rdma_mr *mr)
{
	struct rdma_pd *pd = mr->pd;

	rdma_key_free(mr);			/* (2) no new reference from here on */
	mutex_lock(&mr->lock);			/* (4) zero is read under the lock */
	wait_event_lock(&mr->wait, !atomic_read(&mr->inflight), &mr->lock);
	mutex_unlock(&mr->lock);		/* (5) the last putter is gone */
	rdma_mr_release_memory(mr);
	mmdrop(mr->mm);
	free(mr->pages);
	destroy_waitqueue_head(&mr->wait);
	mutex_destroy(&mr->lock);
	free(mr);
	rdma_count(pd, RS_MRS_LIVE, -1);
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

/**
 * rdma_mr_lease_revoked() - the layout lease under @arg's pins was revoked
 * (the revoked_fn of its file_pin record): refuse its keys from now on,
 * wait for the operations in flight, tell the owner.
 * @arg: the region.
 *
 * Runs before the revoking truncate changes the layout, so no remote
 * operation reaches the file's blocks once they can belong to another
 * file.  The region stays alive: its deregistration waits for this
 * notice to return (vaddr_unpin_pages()).
 *
 * Context: the truncating thread, no lock held but its i_rwsem; sleeps.
 */
static void rdma_mr_lease_revoked(void *arg)
{
	struct rdma_mr *mr = arg;
	bool waited;

	mutex_lock(&rdma_keys.lock);
	mr->lease_revoked = true;	/* rdma_mr_get() refuses from here on */
	mutex_unlock(&rdma_keys.lock);
	mutex_lock(&mr->lock);
	waited = atomic_read(&mr->inflight) != 0;
	wait_event_lock(&mr->wait, !atomic_read(&mr->inflight), &mr->lock);
	mutex_unlock(&mr->lock);
	if (waited)
		rdma_count(mr->pd, RS_REVOKE_DRAINS, 1);
	rdma_count(mr->pd, RS_MRS_REVOKED, 1);
	rdma_pd_event(mr->pd, PINMM_RDMA_EVENT_MR_LEASE_REVOKED, mr->key);
}

/*
 * Lease policy: pin every page of @mr with one vaddr_pin_pages() call on
 * the target mm, owned by the PD's file.
 */
static int rdma_pin_leased(struct rdma_mr *mr, unsigned int gup_flags)
{
	struct vaddr_pin vp = { .f_owner = mr->pd->file, .mm = mr->mm };
	long got;

	if (!mmget_not_zero(mr->mm))
		return -ESRCH;
	mmap_read_lock(mr->mm);
	got = vaddr_pin_pages_owned(mr->mm, mr->iova, mr->npages, gup_flags & ~FOLL_LONGTERM,
				    mr->pages, &vp, rdma_mr_lease_revoked, mr);
	mmap_read_unlock(mr->mm);
	mmput(mr->mm);
	if (got < 0)
		return (int)got;
	mr->file_pinned = true;
	return 0;
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
	mr = kzalloc(sizeof(*mr));
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

		mr->pages = kcalloc(mr->npages, sizeof(*mr->pages));
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
		if (fs_pinned_policy(p->machine) == PINMM_FS_LEASE)
			ret = rdma_pin_leased(mr, gup_flags);
		else
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
		rdma_mr_release_memory(mr);
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
		mutex_lock(&rdma_keys.lock);
		out->lease_revoked = mr->lease_revoked;
		mutex_unlock(&rdma_keys.lock);
		if (mr->odp)
			rdma_odp_query(mr, out);
	}
	mutex_unlock(&d->lock);
	fput(file);
	return mr ? 0 : -ENOENT;
}
