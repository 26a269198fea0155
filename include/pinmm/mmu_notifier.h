/* SPDX-License-Identifier: MIT */
/*
 * <pinmm/mmu_notifier.h> - MMU interval notifiers and hmm_range_fault(),
 * with Linux's names and contracts (doc/GUP-SEMANTICS.md
 * §7): the "mirror, don't pin" model of on-demand paging.
 *
 * A driver embeds a struct mmu_interval_notifier, inserts it over a range
 * of an mm, and mirrors the CPU page tables into its device with
 * hmm_range_fault() under the read_begin/read_retry protocol; its
 * ->invalidate callback runs before any mapping of the range changes.
 */
#ifndef PINMM_MMU_NOTIFIER_H
#define PINMM_MMU_NOTIFIER_H

#include <pinmm/linux.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mmu_notifier_event {
	MMU_NOTIFY_UNMAP = 0,
	MMU_NOTIFY_CLEAR,
	MMU_NOTIFY_PROTECTION_VMA,
	MMU_NOTIFY_PROTECTION_PAGE,
	MMU_NOTIFY_SOFT_DIRTY,
	MMU_NOTIFY_RELEASE,
	MMU_NOTIFY_MIGRATE,
	MMU_NOTIFY_EXCLUSIVE,
};

#define MMU_NOTIFIER_RANGE_BLOCKABLE (1 << 0)

struct vm_area_struct;

struct mmu_notifier_range {
	struct mm_struct *mm;
	unsigned long start;
	unsigned long end;		/* exclusive */
	unsigned int flags;
	enum mmu_notifier_event event;
	void *owner;
	/* MMU_NOTIFY_PROTECTION_VMA: the VMA (new flags), else NULL */
	const struct vm_area_struct *vma;
};

struct mmu_interval_notifier;

struct mmu_interval_notifier_ops {
	/*
	 * Called before the mappings of the range change.  Take the driver's
	 * user lock, call mmu_interval_set_seq(sub, cur_seq), stop device
	 * access to the intersection, return true.  Returning false is only
	 * allowed for a range without MMU_NOTIFIER_RANGE_BLOCKABLE.
	 */
	bool (*invalidate)(struct mmu_interval_notifier *interval_sub,
			   const struct mmu_notifier_range *range,
			   unsigned long cur_seq);
};

/*
 * struct mmu_interval_notifier - one subscription.  Embedded by drivers;
 * every field is private to the library.
 */
struct mmu_interval_notifier {
	unsigned long start;		/* first address */
	unsigned long last;		/* last address (inclusive) */
	const struct mmu_interval_notifier_ops *ops;
	struct mm_struct *mm;
	unsigned long invalidate_seq;
	void *__node[2];		/* the mm's subscription list */
	void *__deferred[2];		/* deferred insert/remove list */
	int __state;
};

/**
 * mmu_interval_notifier_insert() - subscribe to invalidations of a range.
 * @interval_sub: the caller's subscription (embedded in its object).
 * @mm: the address space; the caller holds an mm_users reference.
 * @start: first address of the range.
 * @length: bytes in the range (not zero).
 * @ops: ->invalidate, called before any mapping of the range changes.
 *
 * The subscription joins the mm's list when no invalidation is running;
 * until read_begin/read_retry succeed, no mirror of the range is valid.
 *
 * Context: may sleep; takes @mm's mmap_lock for writing on the first
 *	subscription of the mm; must not hold it.
 * Return: 0, -EOVERFLOW (zero @length or a wrapping range), -EINVAL
 *	(@mm has no users left), -ENOMEM.
 */
PINMM_API int pinmm_mmu_interval_notifier_insert(struct mmu_interval_notifier *interval_sub,
						 struct mm_struct *mm, unsigned long start,
						 unsigned long length,
						 const struct mmu_interval_notifier_ops *ops);
/**
 * mmu_interval_notifier_insert_locked() - mmu_interval_notifier_insert()
 * for a caller that already holds @mm's mmap_lock for writing.
 * @interval_sub: the subscription.
 * @mm: the address space (mm_users reference held).
 * @start: first address.
 * @length: bytes (not zero).
 * @ops: the callbacks.
 *
 * Context: @mm's mmap_lock held for writing.
 * Return: as mmu_interval_notifier_insert().
 */
PINMM_API int pinmm_mmu_interval_notifier_insert_locked(struct mmu_interval_notifier *interval_sub,
							struct mm_struct *mm, unsigned long start,
							unsigned long length,
							const struct mmu_interval_notifier_ops *ops);
/**
 * mmu_interval_notifier_remove() - unsubscribe; afterwards no callback of
 * @interval_sub runs or will run, and the mm reference insert took is dropped.
 * @interval_sub: an inserted subscription (also valid after the mm exited).
 *
 * Context: may sleep (waits for running invalidations); never from an
 *	->invalidate callback.
 */
PINMM_API void pinmm_mmu_interval_notifier_remove(struct mmu_interval_notifier *interval_sub);
/**
 * mmu_interval_read_begin() - start reading the CPU page tables of the range.
 * @interval_sub: the subscription.
 *
 * Context: may sleep: waits while an invalidation of this subscription is
 *	running; hold no lock that ->invalidate takes.
 * Return: the sequence number to pass to mmu_interval_read_retry().
 */
PINMM_API unsigned long pinmm_mmu_interval_read_begin(struct mmu_interval_notifier *interval_sub);
/**
 * mmu_interval_read_retry() - did an invalidation start since read_begin?
 * @interval_sub: the subscription.
 * @seq: what mmu_interval_read_begin() returned.
 *
 * Context: the driver's user lock held (the lock its ->invalidate takes),
 *	so that a false answer stays true until the lock is dropped.
 * Return: true when the mirror must be rebuilt from read_begin.
 */
PINMM_API bool pinmm_mmu_interval_read_retry(struct mmu_interval_notifier *interval_sub,
					     unsigned long seq);
/**
 * mmu_interval_check_retry() - the same test without the user lock.
 * @interval_sub: the subscription.
 * @seq: what mmu_interval_read_begin() returned.
 *
 * Context: any thread.
 * Return: true (reliably) when a retry is needed; false is only a hint.
 */
PINMM_API bool pinmm_mmu_interval_check_retry(struct mmu_interval_notifier *interval_sub,
					      unsigned long seq);
/**
 * mmu_interval_set_seq() - record, from ->invalidate, that the range changes.
 * @interval_sub: the subscription being invalidated.
 * @cur_seq: the value ->invalidate was given.
 *
 * Context: inside ->invalidate, under the driver's user lock.
 */
PINMM_API void pinmm_mmu_interval_set_seq(struct mmu_interval_notifier *interval_sub,
					  unsigned long cur_seq);
/**
 * mmu_notifier_range_update_to_read_only() - is this invalidation only a
 * write-protection of the range?
 * @range: the range ->invalidate was given.
 *
 * Context: inside ->invalidate.
 * Return: true iff @range is MMU_NOTIFY_PROTECTION_VMA and the VMA's new
 *	flags are not writable.
 */
PINMM_API bool pinmm_mmu_notifier_range_update_to_read_only(const struct mmu_notifier_range *range);

#define mmu_interval_notifier_insert		pinmm_mmu_interval_notifier_insert
#define mmu_interval_notifier_insert_locked	pinmm_mmu_interval_notifier_insert_locked
#define mmu_interval_notifier_remove		pinmm_mmu_interval_notifier_remove
#define mmu_interval_read_begin			pinmm_mmu_interval_read_begin
#define mmu_interval_read_retry			pinmm_mmu_interval_read_retry
#define mmu_interval_check_retry		pinmm_mmu_interval_check_retry
#define mmu_interval_set_seq			pinmm_mmu_interval_set_seq
#define mmu_notifier_range_update_to_read_only	pinmm_mmu_notifier_range_update_to_read_only

/* ---- HMM ---------------------------------------------------------------- */

/*
 * The bits of an hmm_pfns[] entry (Linux's enum hmm_pfn_flags).  Macros, not
 * an enum: ISO C limits enumerators to the range of int, and these use the
 * top bits of an unsigned long.
 */
#define HMM_PFN_VALID		(1UL << 63)
#define HMM_PFN_WRITE		(1UL << 62)
#define HMM_PFN_ERROR		(1UL << 61)
#define HMM_PFN_ORDER_SHIFT	56
#define HMM_PFN_REQ_FAULT	HMM_PFN_VALID
#define HMM_PFN_REQ_WRITE	HMM_PFN_WRITE
#define HMM_PFN_FLAGS		(0xFFUL << HMM_PFN_ORDER_SHIFT)

/* Milliseconds drivers bound their retry loops with. */
#define HMM_RANGE_DEFAULT_TIMEOUT 1000

struct hmm_range {
	struct mmu_interval_notifier *notifier;
	unsigned long notifier_seq;
	unsigned long start;		/* page aligned */
	unsigned long end;		/* exclusive, page aligned */
	unsigned long *hmm_pfns;	/* one per page: request in, pfn | flags out */
	unsigned long default_flags;
	unsigned long pfn_flags_mask;
	void *dev_private_owner;
};

/**
 * hmm_range_fault() - fill range->hmm_pfns with the CPU's view of the
 * range, faulting where requested; takes no page references.
 * @range: the range, its notifier and notifier_seq from read_begin.
 *
 * Context: mmap_read_lock(range->notifier->mm) held; may fault (sleep).
 * Return: 0, -EBUSY (an invalidation collided: retry from read_begin),
 * -EFAULT, -EPERM (write requested on a read-only VMA), -ENOMEM, -EINVAL.
 */
PINMM_API int pinmm_hmm_range_fault(struct hmm_range *range);
#define hmm_range_fault pinmm_hmm_range_fault

static inline unsigned long hmm_pfn_to_pfn(unsigned long hmm_pfn)
{
	return hmm_pfn & ~HMM_PFN_FLAGS;
}
static inline unsigned int hmm_pfn_to_map_order(unsigned long hmm_pfn)
{
	return (hmm_pfn >> HMM_PFN_ORDER_SHIFT) & 0x1F;
}
/* The struct page behind a VALID entry, for the "device" to access. */
/**
 * hmm_pfn_to_page() - the struct page behind a VALID hmm_pfns[] entry.
 * @mm: the mirrored mm (pinmm needs it to find the machine; Linux does not).
 * @hmm_pfn: an entry filled by hmm_range_fault().
 *
 * Context: the driver's user lock held with read_retry() false, or the
 *	device otherwise excluded from the range's invalidations.
 * Return: the page, or NULL when @hmm_pfn is not VALID or out of range.
 */
PINMM_API struct page *pinmm_hmm_pfn_to_page(struct mm_struct *mm, unsigned long hmm_pfn);
#define hmm_pfn_to_page pinmm_hmm_pfn_to_page

/* Counters of invalidations delivered, per event (tests, the tool). */
/**
 * pinmm_mmu_notifier_events() - invalidations delivered so far for @event.
 * @m: the machine.
 * @event: an enum mmu_notifier_event.
 *
 * Context: any thread.
 * Return: the count, or -EINVAL for an unknown event.
 */
PINMM_API long pinmm_mmu_notifier_events(struct pinmm *m, enum mmu_notifier_event event);

#ifdef __cplusplus
}
#endif
#endif /* PINMM_MMU_NOTIFIER_H */
