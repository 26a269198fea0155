/* SPDX-License-Identifier: MIT */
/*
 * rdma_odp.c - on-demand paging memory regions (Linux ib_umem_odp and the
 * mlx5 page-fault path): "mirror, don't pin", case 3 of pin_user_pages.rst.
 *
 * An ODP region takes no pins and charges nothing.  The "device" keeps its
 * own translation table for the region, odp->pfns[], one hmm pfn per page
 * (HMM_PFN_VALID | HMM_PFN_WRITE | pfn), guarded by odp->umem_mutex, the
 * driver's "user lock" of the interval-notifier protocol
 * (doc/GUP-SEMANTICS.md §7.2, §7.3):
 *
 *  - a remote access looks its page up under umem_mutex; a missing entry
 *    (or a read-only one for a write) is a device page fault: read_begin,
 *    mmap_read_lock of the region's mm, hmm_range_fault() over the pages
 *    the access still needs with HMM_PFN_REQ_FAULT (| HMM_PFN_REQ_WRITE),
 *    -EBUSY retried, then umem_mutex and mmu_interval_read_retry(): a
 *    collision retries, otherwise the entries are programmed;
 *  - the bytes are moved through kmap_local_page(hmm_pfn_to_page()) while
 *    umem_mutex is still held, so an invalidation (which needs the same
 *    lock before the CPU mapping may change) cannot free or move the page
 *    under the access;
 *  - ->invalidate takes umem_mutex, calls mmu_interval_set_seq(), marks
 *    pages the device wrote dirty (ib_umem_odp_unmap_dma_pages()) and
 *    clears the entries of the range.
 *
 * A fault the CPU could not take either (unmapped, PROT_NONE, beyond EOF,
 * write to a read-only VMA, the mm gone) refuses the access with -EFAULT.
 * Retries are bounded by HMM_RANGE_DEFAULT_TIMEOUT (then -EBUSY, counted
 * as a refused fault).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rdma_internal.h"
#include "fault_inject.h"

#define ODP_FAULT_MAX_PAGES 512UL	/* pages one device fault may map */

/*
 * struct rdma_odp - the device side of an ODP region.
 * @pfns, @dirty, @mapped: umem_mutex.
 */
struct rdma_odp {
	struct mmu_interval_notifier notifier;
	struct rdma_mr *mr;
	struct mutex umem_mutex;
	unsigned long *pfns;
	unsigned long *dirty;		/* bitmap: the device wrote through it */
	unsigned long mapped;		/* valid entries */
	atomic_long_t faults;
	atomic_long_t invalidations;
};

#define BITS_PER_UL (8 * sizeof(unsigned long))

static bool odp_test_dirty(struct rdma_odp *odp, unsigned long idx)
{
	return odp->dirty[idx / BITS_PER_UL] & (1UL << (idx % BITS_PER_UL));
}

static void odp_set_dirty(struct rdma_odp *odp, unsigned long idx, bool on)
{
	if (on)
		odp->dirty[idx / BITS_PER_UL] |= 1UL << (idx % BITS_PER_UL);
	else
		odp->dirty[idx / BITS_PER_UL] &= ~(1UL << (idx % BITS_PER_UL));
}

/* Clear entries [first, last] of the device table; umem_mutex held. */
static unsigned long odp_unmap(struct rdma_odp *odp, unsigned long first, unsigned long last)
{
	struct mm_struct *mm = odp->mr->mm;
	unsigned long n = 0;

	lockdep_assert_held(&odp->umem_mutex);
	for (unsigned long i = first; i <= last; i++) {
		if (!(odp->pfns[i] & HMM_PFN_VALID))
			continue;
		if (odp_test_dirty(odp, i)) {
			struct page *page = hmm_pfn_to_page(mm, odp->pfns[i]);

			/* Still mapped: invalidate_range_start runs first. */
			if (page)
				folio_mark_dirty(page_folio(page));
			odp_set_dirty(odp, i, false);
		}
		odp->pfns[i] = 0;
		n++;
	}
	odp->mapped -= n;
	return n;
}

/* ->invalidate: stop device access to the intersection. */
static bool rdma_odp_invalidate(struct mmu_interval_notifier *sub,
				const struct mmu_notifier_range *range, unsigned long cur_seq)
{
	struct rdma_odp *odp = container_of(sub, struct rdma_odp, notifier);
	struct rdma_mr *mr = odp->mr;
	unsigned long start = max(range->start, (unsigned long)mr->iova);
	unsigned long end = min(range->end, (unsigned long)(mr->iova + mr->length));
	unsigned long n = 0;

	if (range->flags & MMU_NOTIFIER_RANGE_BLOCKABLE)
		mutex_lock(&odp->umem_mutex);
	else if (!mutex_trylock(&odp->umem_mutex))
		return false;
	mmu_interval_set_seq(sub, cur_seq);
	if (start < end)
		n = odp_unmap(odp, (start - mr->iova) >> PAGE_SHIFT,
			      (end - 1 - mr->iova) >> PAGE_SHIFT);
	mutex_unlock(&odp->umem_mutex);
	atomic_long_inc(&odp->invalidations);
	rdma_count(mr->pd, RS_INVALIDATIONS, 1);
	rdma_count(mr->pd, RS_INVALIDATED_PAGES, (long)n);
	return true;
}

static const struct mmu_interval_notifier_ops rdma_odp_ops = {
	.invalidate = rdma_odp_invalidate,
};

/* Every page of [start, end) mapped by a VMA the device may use. */
static int odp_check_vmas(struct mm_struct *mm, unsigned long start, unsigned long end,
			  bool writable)
{
	unsigned long addr = start;

	mmap_assert_locked(mm);
	while (addr < end) {
		struct vm_area_struct *vma = find_vma(mm, addr);

		if (!vma || vma->vm_start > addr)
			return -EFAULT;
		if (vma->vm_flags & (VM_IO | VM_PFNMAP | VM_MIXEDMAP))
			return -EFAULT;
		if (!(vma->vm_flags & VM_READ) || (writable && !(vma->vm_flags & VM_WRITE)))
			return -EFAULT;
		addr = vma->vm_end;
	}
	return 0;
}

/**
 * rdma_odp_init() - set up the device table and the interval notifier of
 * an ODP region (mr->mm, iova, length, npages, writable filled in).
 * @mr: the region.
 *
 * Context: takes mr->mm's mmap_lock for reading.
 * Return: 0, -EFAULT (a page the device could never use), -ESRCH (the mm
 * has no users any more), -ENOMEM.
 */
int rdma_odp_init(struct rdma_mr *mr)
{
	struct mm_struct *mm = mr->mm;
	struct rdma_odp *odp;
	int ret;

	odp = kzalloc(sizeof(*odp));
	if (!odp)
		return -ENOMEM;
	odp->pfns = kcalloc(mr->npages, sizeof(*odp->pfns));
	odp->dirty = kcalloc((mr->npages + BITS_PER_UL - 1) / BITS_PER_UL, sizeof(unsigned long));
	if (!odp->pfns || !odp->dirty) {
		ret = -ENOMEM;
		goto free;
	}
	odp->mr = mr;
	mutex_init(&odp->umem_mutex);
	if (!mmget_not_zero(mm)) {
		ret = -ESRCH;
		goto destroy;
	}
	mmap_read_lock(mm);
	ret = odp_check_vmas(mm, mr->iova, mr->iova + mr->length, mr->writable);
	mmap_read_unlock(mm);
	if (!ret)
		ret = mmu_interval_notifier_insert(&odp->notifier, mm, mr->iova, mr->length,
						   &rdma_odp_ops);
	mmput(mm);
	if (ret)
		goto destroy;
	mr->odp = odp;
	return 0;
destroy:
	mutex_destroy(&odp->umem_mutex);
free:
	free(odp->pfns);
	free(odp->dirty);
	free(odp);
	return ret;
}

/**
 * rdma_odp_release() - tear an ODP region down (no operation in flight).
 * @mr: the region.
 *
 * Pages the device wrote are marked dirty while still mapped (an entry
 * valid under umem_mutex has not been invalidated), then the notifier is
 * removed: afterwards no callback runs.
 *
 * Context: may sleep; not from a notifier callback.
 */
void rdma_odp_release(struct rdma_mr *mr)
{
	struct rdma_odp *odp = mr->odp;

	mutex_lock(&odp->umem_mutex);
	if (mr->npages)
		odp_unmap(odp, 0, mr->npages - 1);
	mutex_unlock(&odp->umem_mutex);
	mmu_interval_notifier_remove(&odp->notifier);
	mutex_destroy(&odp->umem_mutex);
	free(odp->pfns);
	free(odp->dirty);
	free(odp);
	mr->odp = NULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * A device page fault on entries [idx, idx + n): fault them in with
 * hmm_range_fault() and program the device table.
 * Return: 0 with umem_mutex held (the entries are current until it is
 * dropped), or -EFAULT/-EPERM/-ENOMEM/-EBUSY without it.
 */
static int odp_fault(struct rdma_odp *odp, unsigned long idx, unsigned long n, bool write)
{
	struct rdma_mr *mr = odp->mr;
	struct mm_struct *mm = mr->mm;
	uint64_t deadline = now_ms() + HMM_RANGE_DEFAULT_TIMEOUT;
	unsigned long stack_pfns[16];
	unsigned long *pfns = n <= 16 ? stack_pfns : kcalloc(n, sizeof(*pfns));
	struct hmm_range range = {
		.notifier = &odp->notifier,
		.start = mr->iova + idx * PAGE_SIZE,
		.end = mr->iova + (idx + n) * PAGE_SIZE,
		.hmm_pfns = pfns,
		.default_flags = HMM_PFN_REQ_FAULT | (write ? HMM_PFN_REQ_WRITE : 0),
		.pfn_flags_mask = 0,
	};
	int ret;

	if (!pfns)
		return -ENOMEM;
	atomic_long_inc(&odp->faults);
	rdma_count(mr->pd, RS_DEVICE_FAULTS, 1);
	for (;;) {
		if (now_ms() > deadline) {
			ret = -EBUSY;
			break;
		}
		range.notifier_seq = mmu_interval_read_begin(&odp->notifier);
		if (!mmget_not_zero(mm)) {
			ret = -EFAULT;	/* the address space is gone */
			break;
		}
		mmap_read_lock(mm);
		memset(pfns, 0, n * sizeof(*pfns));
		ret = hmm_range_fault(&range);
		mmap_read_unlock(mm);
		mmput(mm);
		if (ret == -EBUSY) {
			rdma_count(mr->pd, RS_FAULT_RETRIES, 1);
			continue;
		}
		if (ret)
			break;
		mutex_lock(&odp->umem_mutex);
		if (mmu_interval_read_retry(&odp->notifier, range.notifier_seq)) {
			mutex_unlock(&odp->umem_mutex);
			rdma_count(mr->pd, RS_FAULT_RETRIES, 1);
			continue;
		}
		for (unsigned long i = 0; i < n; i++) {
			unsigned long e = pfns[i] & (HMM_PFN_VALID | HMM_PFN_WRITE | ~HMM_PFN_FLAGS);

			if (!(e & HMM_PFN_VALID) || (pfns[i] & HMM_PFN_ERROR))
				continue;
			if (odp->pfns[idx + i] & HMM_PFN_VALID) {
				if (hmm_pfn_to_pfn(odp->pfns[idx + i]) != hmm_pfn_to_pfn(e))
					odp_unmap(odp, idx + i, idx + i);	/* cannot happen */
				else
					odp->mapped--;
			}
			odp->pfns[idx + i] = e;
			odp->mapped++;
		}
		break;
	}
	if (pfns != stack_pfns)
		free(pfns);
	return ret;
}

/**
 * rdma_odp_copy() - move bytes between @buf and the region at offset @off
 * (already range- and access-checked), faulting the device as needed.
 * @mr: an ODP region with an in-flight reference.
 * @off: byte offset in the region.
 * @buf: the peer's buffer.
 * @len: bytes.
 * @write: RDMA WRITE (else READ).
 * @hold_us: sleep this long after the first page (tests).
 *
 * Context: may sleep; takes the region mm's mmap_lock on a fault.
 * Return: @len, or -EFAULT (the CPU could not fault the page either),
 * -EPERM, -EBUSY, -ENOMEM.
 */
long rdma_odp_copy(struct rdma_mr *mr, unsigned long off, void *buf, size_t len, bool write,
		   unsigned int hold_us)
{
	struct rdma_odp *odp = mr->odp;
	size_t done = 0;

	while (done < len) {
		unsigned long boff = off + done;
		unsigned long idx = boff >> PAGE_SHIFT;
		size_t poff = boff & ~PAGE_MASK;
		size_t chunk = min(len - done, PAGE_SIZE - poff);
		unsigned long e;
		struct page *page;
		char *kaddr;

		mutex_lock(&odp->umem_mutex);
		e = odp->pfns[idx];
		if (!(e & HMM_PFN_VALID) || (write && !(e & HMM_PFN_WRITE))) {
			unsigned long last = (off + len - 1) >> PAGE_SHIFT;
			unsigned long n = min(last - idx + 1, ODP_FAULT_MAX_PAGES);
			int ret;

			mutex_unlock(&odp->umem_mutex);
			ret = odp_fault(odp, idx, n, write);
			if (ret)
				return ret == -EPERM ? -EFAULT : ret;
			e = odp->pfns[idx];
			if (!(e & HMM_PFN_VALID) || (write && !(e & HMM_PFN_WRITE))) {
				mutex_unlock(&odp->umem_mutex);
				return -EFAULT;
			}
		}
		page = hmm_pfn_to_page(mr->mm, e);
		kaddr = kmap_local_page(page);
		if (write)
			memcpy(kaddr + poff, (char *)buf + done, chunk);
		else
			memcpy((char *)buf + done, kaddr + poff, chunk);
		kunmap_local(kaddr);
		if (write)
			odp_set_dirty(odp, idx, true);
		mutex_unlock(&odp->umem_mutex);
		if (!done)
			rdma_hold(hold_us);
		done += chunk;
	}
	return (long)len;
}

/**
 * rdma_odp_query() - the device-side counters of an ODP region.
 * @mr: the region.
 * @info: filled in (device_faults, invalidations, mapped_pages).
 *
 * Context: takes umem_mutex.
 */
void rdma_odp_query(struct rdma_mr *mr, struct pinmm_rdma_mr_info *info)
{
	struct rdma_odp *odp = mr->odp;

	mutex_lock(&odp->umem_mutex);
	info->mapped_pages = odp->mapped;
	mutex_unlock(&odp->umem_mutex);
	info->device_faults = atomic_long_read(&odp->faults);
	info->invalidations = atomic_long_read(&odp->invalidations);
}
