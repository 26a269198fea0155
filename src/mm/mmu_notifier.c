/* SPDX-License-Identifier: MIT */
/*
 * mmu_notifier.c - MMU interval notifiers (doc/GUP-SEMANTICS.md §7.2): the per-mm
 * "collision-retry lock that allows many writers" that lets a device
 * mirror CPU page tables without pinning.
 *
 * Every path that changes a user mapping brackets the change with
 * mmu_notifier_invalidate_range_start()/_end() (mm.h); when the mm has no
 * subscriptions that costs one load (mm_has_notifiers()).  Otherwise:
 *
 *  - the mm's sequence number @invalidate_seq starts at 2; it is even while
 *    no invalidation that overlaps a subscription runs, odd while at least
 *    one does.  While it is odd the subscription list is frozen: inserts and
 *    removes are queued on @deferred and applied by the last range_end;
 *  - an invalidation that overlaps subscriptions makes the seq odd and
 *    calls each overlapping subscription's ->invalidate(sub, range, seq),
 *    which stores the odd seq in the subscription (mmu_interval_set_seq())
 *    under the driver's own lock;
 *  - a reader takes seq = mmu_interval_read_begin() (sleeping while an
 *    invalidation of its subscription is in progress), builds its mirror,
 *    and under the driver lock trusts it only if mmu_interval_read_retry()
 *    says that no ->invalidate stored a new seq meanwhile.  Subscription
 *    seqs are always odd and the idle mm seq is even, so a reader that began
 *    during an invalidation always sees a difference.
 *
 * Differences from Linux: no classic mmu_notifier_ops (only interval
 * subscriptions exist), the subscriptions are a list rather than an
 * interval tree, the "spinlock" is a mutex and the waiters evaluate their
 * condition under it (wait_event_lock() rather than Linux's wait_event()),
 * and the first registration excludes concurrent invalidations with the
 * mmap_lock plus a pass over the VMAs' rmap locks instead of
 * mm_take_all_locks() (see mmu_notifier_register()).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include "trace.h"
#include "mm.h"
#include "fs.h"
#include "wait.h"

BUILD_BUG_ON(MMU_NOTIFY_EXCLUSIVE + 1 != NR_MMU_NOTIFY_EVENTS);

/*
 * struct mmu_notifier_subscriptions - the per-mm notifier state, hung off
 * mm->notifier_subscriptions on the first insert and freed by the last
 * mmdrop().
 *
 * @lock (a leaf: never held across a callback or another lock) protects
 * every field below it.  @itree is the list of inserted subscriptions
 * (linked through sub->__node[0]); it only changes while @invalidate_seq is
 * even, and may then be walked without @lock by an invalidation that made
 * the seq odd.  @deferred (linked through sub->__deferred[0]) holds the
 * subscriptions to insert or remove at the final range_end.  @wq is
 * woken (all) whenever @invalidate_seq moves from odd to even; its sleepers
 * wait with @lock (wait_event_lock()).
 */
struct mmu_notifier_subscriptions {
	struct mutex lock;
	wait_queue_head_t wq;
	unsigned long invalidate_seq;
	unsigned long active_invalidate_ranges;
	struct mmu_interval_notifier *itree;
	struct mmu_interval_notifier *deferred;
};

/* sub->__state bits (under subscriptions->lock). */
#define SUB_IN_TREE	0x1	/* on the itree list */
#define SUB_DEFERRED	0x2	/* on the deferred list: insert if !IN_TREE, else remove */
#define SUB_INSERTED	0x4	/* between insert and remove (API misuse check) */

static inline struct mmu_interval_notifier **sub_next(struct mmu_interval_notifier *sub)
{
	return (struct mmu_interval_notifier **)&sub->__node[0];
}
static inline struct mmu_interval_notifier **sub_deferred_next(struct mmu_interval_notifier *sub)
{
	return (struct mmu_interval_notifier **)&sub->__deferred[0];
}

static inline struct mmu_notifier_subscriptions *mm_subs(struct mm_struct *mm)
{
	return __atomic_load_n((struct mmu_notifier_subscriptions **)&mm->notifier_subscriptions,
			       __ATOMIC_ACQUIRE);
}

static inline bool subs_invalidating(const struct mmu_notifier_subscriptions *subs)
{
	return subs->invalidate_seq & 1;
}

static inline bool sub_overlaps(const struct mmu_interval_notifier *sub,
				unsigned long start, unsigned long end)
{
	/* [start, end) against [sub->start, sub->last] */
	return sub->start <= end - 1 && sub->last >= start;
}

static void itree_insert(struct mmu_notifier_subscriptions *subs,
			 struct mmu_interval_notifier *sub)
{
	*sub_next(sub) = subs->itree;
	subs->itree = sub;
	sub->__state |= SUB_IN_TREE;
}

static void itree_remove(struct mmu_notifier_subscriptions *subs,
			 struct mmu_interval_notifier *sub)
{
	struct mmu_interval_notifier **pp;

	for (pp = &subs->itree; *pp; pp = sub_next(*pp)) {
		if (*pp == sub) {
			*pp = *sub_next(sub);
			*sub_next(sub) = NULL;
			sub->__state &= ~SUB_IN_TREE;
			return;
		}
	}
	VM_BUG_ON(1);
}

static void deferred_del(struct mmu_notifier_subscriptions *subs,
			 struct mmu_interval_notifier *sub)
{
	struct mmu_interval_notifier **pp;

	for (pp = &subs->deferred; *pp; pp = sub_deferred_next(*pp)) {
		if (*pp == sub) {
			*pp = *sub_deferred_next(sub);
			*sub_deferred_next(sub) = NULL;
			sub->__state &= ~SUB_DEFERRED;
			return;
		}
	}
	VM_BUG_ON(1);
}

static void deferred_add(struct mmu_notifier_subscriptions *subs,
			 struct mmu_interval_notifier *sub)
{
	*sub_deferred_next(sub) = subs->deferred;
	subs->deferred = sub;
	sub->__state |= SUB_DEFERRED;
}

/* ------------------------------------------------------------------ */
/* The invalidation side                                                */

/*
 * Step 1 of an invalidation (under the lock): count it active; if any
 * subscription overlaps, make the seq odd (freezing the list).  Returns
 * the first overlapping subscription (or NULL) and the seq to hand out.
 */
static struct mmu_interval_notifier *
mn_itree_inv_start(struct mmu_notifier_subscriptions *subs,
		   const struct mmu_notifier_range *range, unsigned long *seq)
{
	struct mmu_interval_notifier *sub, *first = NULL;

	mutex_lock(&subs->lock);
	subs->active_invalidate_ranges++;
	for (sub = subs->itree; sub; sub = *sub_next(sub)) {
		if (sub_overlaps(sub, range->start, range->end)) {
			first = sub;
			break;
		}
	}
	if (first)
		subs->invalidate_seq |= 1;
	*seq = subs->invalidate_seq;
	mutex_unlock(&subs->lock);
	return first;
}

/*
 * Final step: the last active invalidation makes the seq even again,
 * applies the deferred inserts and removes, and wakes every waiter
 * (mmu_interval_read_begin(), mmu_interval_notifier_remove()).
 */
static void mn_itree_inv_end(struct mmu_notifier_subscriptions *subs)
{
	struct mmu_interval_notifier *sub, *next;

	mutex_lock(&subs->lock);
	VM_BUG_ON(subs->active_invalidate_ranges == 0);
	if (--subs->active_invalidate_ranges || !subs_invalidating(subs)) {
		mutex_unlock(&subs->lock);
		return;
	}
	subs->invalidate_seq++;			/* even: the list thaws */
	for (sub = subs->deferred; sub; sub = next) {
		next = *sub_deferred_next(sub);
		*sub_deferred_next(sub) = NULL;
		sub->__state &= ~SUB_DEFERRED;
		if (sub->__state & SUB_IN_TREE)
			itree_remove(subs, sub);
		else
			itree_insert(subs, sub);
	}
	subs->deferred = NULL;
	wake_up_all(&subs->wq);
	mutex_unlock(&subs->lock);
}

static void mn_itree_invalidate(struct mmu_notifier_subscriptions *subs,
				const struct mmu_notifier_range *range)
{
	struct pinmm *m = range->mm->machine;
	struct mmu_interval_notifier *sub;
	unsigned long cur_seq;

	sub = mn_itree_inv_start(subs, range, &cur_seq);	/* (h) I2 */
	/* (h) I3: the list is frozen (seq odd) for as long as we walk it. */
	for (; sub; sub = *sub_next(sub)) {
		bool ret;

		if (!sub_overlaps(sub, range->start, range->end))
			continue;
		atomic_long_inc(&m->mmu_notifier_events[range->event]);
		ret = sub->ops->invalidate(sub, range, cur_seq);
		/* Only a non-blockable range may fail; pinmm has none. */
		WARN_ON(!ret && (range->flags & MMU_NOTIFIER_RANGE_BLOCKABLE));
	}
}

#undef mmu_notifier_range_init
/**
 * mmu_notifier_range_init() - describe an invalidation of [@start, @end).
 * Context: any.
 */
void mmu_notifier_range_init(struct mmu_notifier_range *range, enum mmu_notifier_event event,
			     unsigned int flags, struct mm_struct *mm,
			     unsigned long start, unsigned long end)
{
	__mmu_notifier_range_init(range, event, flags, mm, start, end);
}
#define mmu_notifier_range_init __mmu_notifier_range_init

/**
 * __mmu_notifier_invalidate_range_start() - tell every overlapping
 * subscription that the mappings of the range are about to change.
 * Context: may sleep (the callbacks may): no spinlock held; mmap_lock or
 * rmap locks may be held.  Called through the mm.h wrapper only when the
 * mm has notifiers.
 */
void __mmu_notifier_invalidate_range_start(struct mmu_notifier_range *range)
{
	struct mmu_notifier_subscriptions *subs = mm_subs(range->mm);
	struct trace_span sp;

	VM_BUG_ON(range->flags & MMU_NOTIFIER_RANGE_ACTIVE);
	VM_BUG_ON(range->end <= range->start);
	range->flags |= MMU_NOTIFIER_RANGE_BLOCKABLE | MMU_NOTIFIER_RANGE_ACTIVE;
	trace_span_begin(&sp);
	mn_itree_invalidate(subs, range);
	TRACE_SPAN_END(range->mm->machine, &sp, TRACE_CAT_NOTIFIER, "mmu_notifier_invalidate",
		       { "start", (int64_t)range->start }, { "end", (int64_t)range->end },
		       { "event", range->event });
}

/**
 * __mmu_notifier_invalidate_range_end() - the mappings of the range have
 * changed: the last active invalidation thaws the subscription list.
 * Context: as for the start.  Called only for a range whose start ran.
 */
void __mmu_notifier_invalidate_range_end(struct mmu_notifier_range *range)
{
	VM_BUG_ON(!(range->flags & MMU_NOTIFIER_RANGE_ACTIVE));
	mn_itree_inv_end(mm_subs(range->mm));	/* (h) I5 */
	range->flags &= ~MMU_NOTIFIER_RANGE_ACTIVE;
}

/**
 * mmu_notifier_release() - the address space is being torn down:
 * MMU_NOTIFY_RELEASE over all of it, before exit_mmap() zaps anything.
 * Context: exit_mmap(), mm_users is 0; may sleep.  Subscriptions stay
 * inserted (their owners still remove them, safely, later).
 */
void mmu_notifier_release(struct mm_struct *mm)
{
	struct mmu_notifier_range range;

	if (!mm_has_notifiers(mm))
		return;
	mmu_notifier_range_init(&range, MMU_NOTIFY_RELEASE, 0, mm, 0, ULONG_MAX);
	__mmu_notifier_invalidate_range_start(&range);
	__mmu_notifier_invalidate_range_end(&range);
}

/**
 * mmu_notifier_mm_destroy() - free the notifier state of @mm.
 * Context: the last mmdrop(); every subscription has been removed (each
 * holds an mm_count reference).
 */
void mmu_notifier_mm_destroy(struct mm_struct *mm)
{
	struct mmu_notifier_subscriptions *subs = mm_subs(mm);

	if (!subs)
		return;
	VM_BUG_ON(subs->itree || subs->deferred || subs->active_invalidate_ranges);
	destroy_waitqueue_head(&subs->wq);
	mutex_destroy(&subs->lock);
	free(subs);
	mm->notifier_subscriptions = NULL;
}

/* ------------------------------------------------------------------ */
/* Registration                                                         */

/*
 * A path that changes mappings decides whether to notify with one
 * mm_has_notifiers() load.  Once the pointer is published, an invalidation
 * that loaded NULL must not still be running when the first subscription
 * becomes visible to its owner, or the owner could mirror a mapping that is
 * being changed without a callback.  Every such path holds the mmap_lock or
 * the rmap lock (anon_vma->rwsem, i_mmap_rwsem) of the VMA it changes, and
 * loads the pointer under it: holding the mmap_lock for writing and taking
 * each VMA's rmap locks once for writing waits those out (Linux:
 * mm_take_all_locks()).
 */
static void mm_drain_invalidations(struct mm_struct *mm)
{
	struct vm_area_struct *vma;

	mmap_assert_write_locked(mm);
	for_each_vma(mm, vma) {
		if (vma->vm_file && vma->vm_file->f_mapping) {
			down_write(&vma->vm_file->f_mapping->i_mmap_rwsem);
			up_write(&vma->vm_file->f_mapping->i_mmap_rwsem);
		}
		if (vma->anon_vma) {
			down_write(&vma->anon_vma->rwsem);
			up_write(&vma->anon_vma->rwsem);
		}
	}
}

/* Context: mmap_lock held for writing.  Return: 0 or -ENOMEM. */
static int mmu_notifier_register(struct mm_struct *mm)
{
	struct mmu_notifier_subscriptions *subs;

	mmap_assert_write_locked(mm);
	if (mm_subs(mm))
		return 0;
	subs = kzalloc(sizeof(*subs));
	if (!subs)
		return -ENOMEM;
	mutex_init(&subs->lock);
	init_waitqueue_head(&subs->wq);
	subs->invalidate_seq = 2;
	/* Publish the initialised state: pairs with mm_has_notifiers(). */
	__atomic_store_n((struct mmu_notifier_subscriptions **)&mm->notifier_subscriptions,
			 subs, __ATOMIC_RELEASE);
	mm_drain_invalidations(mm);
	return 0;
}

static int __mmu_interval_notifier_insert(struct mmu_interval_notifier *sub,
					  struct mm_struct *mm,
					  struct mmu_notifier_subscriptions *subs,
					  unsigned long start, unsigned long last,
					  const struct mmu_interval_notifier_ops *ops)
{
	sub->mm = mm;
	sub->ops = ops;
	sub->start = start;
	sub->last = last;
	sub->__node[0] = sub->__node[1] = NULL;
	sub->__deferred[0] = sub->__deferred[1] = NULL;
	sub->__state = SUB_INSERTED;
	mmgrab(mm);		/* pairs with mmdrop() in remove */

	/*
	 * During an invalidation the new subscription is given the current
	 * seq; if the list is frozen it joins at the final range_end,
	 * otherwise it joins now and the seq is forced odd so that
	 * read_begin waits for the running invalidations to finish.  Idle:
	 * seq - 1, odd and different from the current seq.
	 */
	mutex_lock(&subs->lock);
	if (subs->active_invalidate_ranges) {
		if (subs_invalidating(subs)) {
			deferred_add(subs, sub);
		} else {
			subs->invalidate_seq |= 1;
			itree_insert(subs, sub);
		}
		__atomic_store_n(&sub->invalidate_seq, subs->invalidate_seq, __ATOMIC_RELAXED);
	} else {
		WARN_ON(subs_invalidating(subs));
		__atomic_store_n(&sub->invalidate_seq, subs->invalidate_seq - 1, __ATOMIC_RELAXED);
		itree_insert(subs, sub);
	}
	mutex_unlock(&subs->lock);
	return 0;
}

static int insert_check(struct mm_struct *mm, unsigned long start, unsigned long length,
			unsigned long *last)
{
	if (length == 0 || __builtin_add_overflow(start, length - 1, last))
		return -EOVERFLOW;
	/* The caller must hold an mm_users reference (mmget()). */
	if (WARN_ON(atomic_read(&mm->mm_users) <= 0))
		return -EINVAL;
	return 0;
}

/**
 * pinmm_mmu_interval_notifier_insert() - subscribe @interval_sub to
 * invalidations of [@start, @start + @length) of @mm.
 * Context: may sleep; takes @mm's mmap_lock for writing on the first
 * subscription of the mm; the caller holds an mm_users reference.
 * Return: 0; -EOVERFLOW (zero length or the range wraps); -EINVAL
 * (mm_users is 0); -ENOMEM.  The subscription may join the mm's list only
 * when the running invalidations end: use read_begin/read_retry before
 * trusting any mirror of the range.
 */
int pinmm_mmu_interval_notifier_insert(struct mmu_interval_notifier *interval_sub,
				       struct mm_struct *mm, unsigned long start,
				       unsigned long length,
				       const struct mmu_interval_notifier_ops *ops)
{
	struct mmu_notifier_subscriptions *subs;
	unsigned long last;
	int ret;

	ret = insert_check(mm, start, length, &last);
	if (ret)
		return ret;
	subs = mm_subs(mm);
	if (!subs) {
		mmap_write_lock(mm);
		ret = mmu_notifier_register(mm);
		mmap_write_unlock(mm);
		if (ret)
			return ret;
		subs = mm_subs(mm);
	}
	return __mmu_interval_notifier_insert(interval_sub, mm, subs, start, last, ops);
}

/**
 * pinmm_mmu_interval_notifier_insert_locked() - as
 * pinmm_mmu_interval_notifier_insert() for a caller that holds the mmap_lock.
 * Context: @mm's mmap_lock held for writing.
 * Return: as pinmm_mmu_interval_notifier_insert().
 */
int pinmm_mmu_interval_notifier_insert_locked(struct mmu_interval_notifier *interval_sub,
					      struct mm_struct *mm, unsigned long start,
					      unsigned long length,
					      const struct mmu_interval_notifier_ops *ops)
{
	unsigned long last;
	int ret;

	mmap_assert_write_locked(mm);
	ret = insert_check(mm, start, length, &last);
	if (ret)
		return ret;
	ret = mmu_notifier_register(mm);
	if (ret)
		return ret;
	return __mmu_interval_notifier_insert(interval_sub, mm, mm_subs(mm), start, last, ops);
}

/**
 * pinmm_mmu_interval_notifier_remove() - unsubscribe; afterwards no
 * callback of @interval_sub runs or will run.
 * Context: may sleep (waits for the running invalidations when the list is
 * frozen); never from an ->invalidate callback.  Drops the mm reference
 * insert took, so it is safe after the mm has exited.
 */
void pinmm_mmu_interval_notifier_remove(struct mmu_interval_notifier *interval_sub)
{
	struct mm_struct *mm = interval_sub->mm;
	struct mmu_notifier_subscriptions *subs = mm_subs(mm);
	unsigned long seq = 0;

	VM_BUG_ON(!(interval_sub->__state & SUB_INSERTED));
	mutex_lock(&subs->lock);
	if (subs_invalidating(subs)) {
		if (!(interval_sub->__state & SUB_IN_TREE)) {
			/* Cancel a still-deferred insert: it never ran. */
			deferred_del(subs, interval_sub);
		} else {
			if (!(interval_sub->__state & SUB_DEFERRED))
				deferred_add(subs, interval_sub);
			seq = subs->invalidate_seq;
		}
	} else {
		VM_BUG_ON(!(interval_sub->__state & SUB_IN_TREE));
		itree_remove(subs, interval_sub);
	}
	/* A callback may be running on it: wait for the seq to move on. */
	wait_event_lock(&subs->wq, !seq || subs->invalidate_seq != seq, &subs->lock);
	interval_sub->__state = 0;
	mutex_unlock(&subs->lock);
	mmdrop(mm);
}

/* ------------------------------------------------------------------ */
/* The reader side                                                      */

/**
 * pinmm_mmu_interval_read_begin() - start a read of the CPU page tables
 * for the subscription's range.
 * Context: may sleep: waits while an invalidation of this subscription is
 * in progress; no locks an invalidation might need.
 * Return: the seq to pass to mmu_interval_read_retry().
 */
unsigned long pinmm_mmu_interval_read_begin(struct mmu_interval_notifier *interval_sub)
{
	struct mmu_notifier_subscriptions *subs = mm_subs(interval_sub->mm);
	unsigned long seq;

	/*
	 * If the subscription's seq equals the mm's current (odd) seq, an
	 * ->invalidate of this subscription has stored it (or insert gave it
	 * during an invalidation): sleep until the last range_end.  The seq
	 * returned is the pre-sleep one, which the wake-up made stale only if
	 * another invalidation collided; read_retry catches that.
	 */
	mutex_lock(&subs->lock);
	seq = __atomic_load_n(&interval_sub->invalidate_seq, __ATOMIC_RELAXED);
	wait_event_lock(&subs->wq, seq != subs->invalidate_seq, &subs->lock);
	mutex_unlock(&subs->lock);
	return seq;
}

/**
 * pinmm_mmu_interval_read_retry() - did an invalidation collide with the
 * read that began with @seq?
 * Context: the driver's user lock held (the one its ->invalidate takes).
 * Return: true if the mirror must be rebuilt from read_begin.
 */
bool pinmm_mmu_interval_read_retry(struct mmu_interval_notifier *interval_sub,
				   unsigned long seq)
{
	return __atomic_load_n(&interval_sub->invalidate_seq, __ATOMIC_RELAXED) != seq;
}

/**
 * pinmm_mmu_interval_check_retry() - lockless early hint of a collision.
 * Context: any.
 * Return: true (reliable) if a retry is needed; false is only a hint.
 */
bool pinmm_mmu_interval_check_retry(struct mmu_interval_notifier *interval_sub,
				    unsigned long seq)
{
	return __atomic_load_n(&interval_sub->invalidate_seq, __ATOMIC_RELAXED) != seq;
}

/**
 * pinmm_mmu_interval_set_seq() - record the invalidation's seq in the
 * subscription, so that concurrent readers retry.
 * Context: from ->invalidate, under the driver's user lock.
 */
void pinmm_mmu_interval_set_seq(struct mmu_interval_notifier *interval_sub,
				unsigned long cur_seq)
{
	__atomic_store_n(&interval_sub->invalidate_seq, cur_seq, __ATOMIC_RELAXED);
}

/**
 * pinmm_mmu_notifier_range_update_to_read_only() - is the invalidation an
 * mprotect that leaves the range readable (so a mirror may downgrade
 * rather than drop its entries)?
 * Context: from ->invalidate.
 * Return: true iff the event is MMU_NOTIFY_PROTECTION_VMA and the VMA
 * still has VM_READ.
 */
bool pinmm_mmu_notifier_range_update_to_read_only(const struct mmu_notifier_range *range)
{
	if (!range->vma || range->event != MMU_NOTIFY_PROTECTION_VMA)
		return false;
	return range->vma->vm_flags & VM_READ;
}

/**
 * pinmm_mmu_notifier_events() - invalidations of @event delivered to
 * subscriptions of @m's address spaces (one per ->invalidate call).
 * Context: any.
 * Return: the count, or -EINVAL for an unknown event.
 */
long pinmm_mmu_notifier_events(struct pinmm *m, enum mmu_notifier_event event)
{
	if (!m || (unsigned)event >= NR_MMU_NOTIFY_EVENTS)
		return -EINVAL;
	return atomic_long_read(&m->mmu_notifier_events[event]);
}
