/* SPDX-License-Identifier: MIT */
/*
 * khugepaged.c - the khugepaged scanner: which mms it looks at
 * (khugepaged_enter_vma(), khugepaged_fork()), a pass you can run
 * (pinmm_khugepaged_scan()) and, with khugepaged.scan_sleep_ms, a thread
 * started and stopped by the "khugepaged" initcall.  The collapse itself
 * is in collapse.c.
 *
 * An mm is registered (a khugepaged_mm_slot holding an mm_count
 * reference, Linux's mm_slot list) when one of its VMAs becomes eligible
 * under the THP policy: MADV_HUGEPAGE, a THP fault with thp=always, or
 * fork of a registered mm.  A scan walks the slots with a cursor (mm,
 * address) and looks at khugepaged.pages_to_scan PTEs per wake-up of the
 * thread (khugepaged_scan_mm_slot()); a full pass ends when the cursor
 * wraps (khugepaged_full_scans).  Slots of exited mms are freed when the
 * cursor reaches them (Linux's collect_mm_slot()), the rest at shutdown.
 *
 * Not modelled: khugepaged.alloc_sleep_millisecs and defrag (an allocation
 * failure ends the wake-up), the per-mm MMF_DISABLE_THP.
 */
#include <errno.h>
#include <pthread.h>
#include "trace.h"
#include "init.h"
#include "khugepaged.h"
#include "mm.h"
#include "rcu.h"
#include "wait.h"
#include "kthread.h"

/* One registered mm.  @mm holds an mm_count reference (mmgrab). */
struct khugepaged_mm_slot {
	struct list_head mm_node;	/* khugepaged->mm_head, @mm_lock */
	struct mm_struct *mm;
};

/*
 * struct khugepaged - a machine's khugepaged (m->khugepaged, made at boot).
 * @scan_mutex: one scan at a time (the thread or pinmm_khugepaged_scan());
 *	taken with no other lock held, before any mmap_lock.
 * @mm_lock: the slot list, the cursor (@scan_slot, @scan_address) and the
 *	MMF_VM_HUGEPAGE bits; a leaf spinlock (registration takes it under
 *	mmap_lock, scans never hold it across anything else).
 * @stop: completed at shutdown to stop @thread.
 */
struct khugepaged {
	struct mutex scan_mutex;
	spinlock_t mm_lock;
	struct list_head mm_head;
	struct khugepaged_mm_slot *scan_slot;
	unsigned long scan_address;
	long collapsed;			/* THPs made by the current scan call */
	pthread_t thread;
	bool has_thread;
	struct completion stop;
};

#define MMF_VM_HUGEPAGE	16	/* mm->flags: registered with khugepaged */

static struct khugepaged *khugepaged_of(struct pinmm *m)
{
	return m->khugepaged;
}

/* ------------------------------------------------------------------ */
/* Registration                                                         */

static void __khugepaged_enter(struct khugepaged *k, struct mm_struct *mm)
{
	struct khugepaged_mm_slot *slot;

	if (test_bit(MMF_VM_HUGEPAGE, &mm->flags))
		return;
	slot = kzalloc(sizeof(*slot));
	if (!slot)
		return;		/* as Linux: the mm is simply not scanned */
	spin_lock(&k->mm_lock);
	if (test_bit(MMF_VM_HUGEPAGE, &mm->flags)) {
		spin_unlock(&k->mm_lock);
		kfree(slot);
		return;
	}
	set_bit(MMF_VM_HUGEPAGE, &mm->flags);
	mmgrab(mm);
	slot->mm = mm;
	list_add_tail(&slot->mm_node, &k->mm_head);
	spin_unlock(&k->mm_lock);
}

/**
 * khugepaged_enter_vma() - register @vma's mm with khugepaged if @vma,
 * with the flags @vm_flags it is getting, is eligible under the THP policy
 * (thp=always, or madvise with VM_HUGEPAGE).
 * Context: mmap_lock held; takes the khugepaged list lock.
 */
void khugepaged_enter_vma(struct vm_area_struct *vma, vm_flags_t vm_flags)
{
	struct mm_struct *mm = vma->vm_mm;
	struct khugepaged *k = khugepaged_of(mm->machine);

	if (!k || test_bit(MMF_VM_HUGEPAGE, &mm->flags))
		return;
	if (thp_vma_allowable_collapse(vma, vm_flags, true))
		__khugepaged_enter(k, mm);
}

/**
 * khugepaged_fork() - the child of a registered mm is registered too
 * (Linux's khugepaged_fork()).
 * Context: fork, both mmap_locks held for writing.
 */
void khugepaged_fork(struct mm_struct *mm, struct mm_struct *oldmm)
{
	struct khugepaged *k = khugepaged_of(mm->machine);

	if (k && test_bit(MMF_VM_HUGEPAGE, &oldmm->flags))
		__khugepaged_enter(k, mm);
}

/* Free @slot (an exited mm's, or at shutdown).  mm_lock held. */
static void collect_mm_slot(struct khugepaged *k, struct khugepaged_mm_slot *slot,
			    struct list_head *to_drop)
{
	assert_spin_locked(&k->mm_lock);
	if (k->scan_slot == slot)
		k->scan_slot = NULL;
	list_move_tail(&slot->mm_node, to_drop);
}

/* mmdrop() takes proc_lock: never under mm_lock. */
static void drop_slots(struct list_head *to_drop)
{
	struct khugepaged_mm_slot *slot, *tmp;

	list_for_each_entry_safe(slot, tmp, to_drop, mm_node) {
		list_del(&slot->mm_node);
		clear_bit(MMF_VM_HUGEPAGE, &slot->mm->flags);
		mmdrop(slot->mm);
		kfree(slot);
	}
}

/* ------------------------------------------------------------------ */
/* khugepaged                                                           */

/*
 * khugepaged_scan_mm_slot() - scan up to @pages PTEs from the cursor.
 * Context: scan_mutex held; takes mm_lock briefly and the mm's mmap_lock.
 * Return: PTEs (or VMAs) looked at.
 */
static unsigned int khugepaged_scan_mm_slot(struct khugepaged *k, unsigned int pages,
					    int *result, struct list_head *to_drop)
{
	struct collapse_control cc = { .is_khugepaged = true };
	struct khugepaged_mm_slot *slot;
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	unsigned int progress = 0;
	bool mmap_locked;

	lockdep_assert_held(&k->scan_mutex);
	spin_lock(&k->mm_lock);
	if (!k->scan_slot) {
		if (list_empty(&k->mm_head)) {
			spin_unlock(&k->mm_lock);
			return pages;
		}
		k->scan_slot = list_first_entry(&k->mm_head, struct khugepaged_mm_slot, mm_node);
		k->scan_address = 0;
	}
	slot = k->scan_slot;
	mm = slot->mm;
	spin_unlock(&k->mm_lock);

	if (!mmget_not_zero(mm)) {
		progress++;
		goto breakouterloop_mmap_lock;
	}
	mmap_read_lock(mm);
	mmap_locked = true;
	for_each_vma(mm, vma) {
		unsigned long hstart, hend;

		if (vma->vm_end <= k->scan_address)
			continue;
		progress++;
		if (!thp_vma_allowable_collapse(vma, vma->vm_flags, true))
			continue;
		hstart = ALIGN(vma->vm_start, PMD_SIZE);
		hend = vma->vm_end & PMD_MASK;
		if (hstart >= hend)
			continue;
		if (k->scan_address < hstart)
			k->scan_address = hstart;
		while (k->scan_address < hend) {
			unsigned long addr = k->scan_address;

			*result = hpage_collapse_scan_pmd(mm, vma, addr, &mmap_locked, &cc);
			if (*result == SCAN_SUCCEED) {
				k->collapsed++;
				count_vm_event(mm->machine, KHUGEPAGED_PAGES_COLLAPSED);
			}
			k->scan_address += PMD_SIZE;
			progress += HPAGE_PMD_NR;
			if (!mmap_locked)
				goto breakouterloop;	/* the VMA list may have changed */
			if (progress >= pages)
				goto breakouterloop;
		}
	}
	k->scan_address = TASK_SIZE;	/* this mm is done */
breakouterloop:
	if (mmap_locked)
		mmap_read_unlock(mm);
	mmput(mm);
breakouterloop_mmap_lock:
	spin_lock(&k->mm_lock);
	if (k->scan_slot == slot && (k->scan_address >= TASK_SIZE ||
				     atomic_read(&mm->mm_users) == 0)) {
		/* Next mm; a wrap to the head completes a full scan. */
		bool last = slot->mm_node.next == &k->mm_head;

		k->scan_slot = last ? NULL : list_entry(slot->mm_node.next,
							struct khugepaged_mm_slot, mm_node);
		k->scan_address = 0;
		if (atomic_read(&mm->mm_users) == 0)
			collect_mm_slot(k, slot, to_drop);
		if (last) {
			count_vm_event(mm->machine, KHUGEPAGED_FULL_SCANS);
			*result = SCAN_ANY_PROCESS;	/* tells the caller a pass ended */
		}
	}
	spin_unlock(&k->mm_lock);
	return progress;
}

/* One wake-up's worth (pages_to_scan); true when a full pass ended. */
static bool khugepaged_do_scan(struct pinmm *m, struct khugepaged *k, unsigned int pages)
{
	unsigned int progress = 0;
	bool pass_done = false;
	LIST_HEAD(to_drop);

	while (progress < pages && !pass_done) {
		int result = SCAN_SUCCEED;
		bool empty;

		spin_lock(&k->mm_lock);
		empty = list_empty(&k->mm_head);
		spin_unlock(&k->mm_lock);
		if (empty) {
			pass_done = true;
			break;
		}
		progress += khugepaged_scan_mm_slot(k, pages - progress, &result, &to_drop);
		if (result == SCAN_ANY_PROCESS)
			pass_done = true;
		if (result == SCAN_ALLOC_HUGE_PAGE_FAIL)
			break;
	}
	drop_slots(&to_drop);
	(void)m;
	return pass_done;
}

/**
 * pinmm_khugepaged_scan() - run @passes full passes of khugepaged now.
 * @m: the machine.
 * @passes: passes over every registered mm (>= 1).
 *
 * Context: any thread not holding an mmap_lock of @m; takes the scan
 * mutex, then each registered mm's mmap_lock (read, and write for each
 * collapse).
 * Return: THPs made by collapsing (each one counted in
 * khugepaged_pages_collapsed, as Linux's pages_collapsed), -EINVAL (NULL
 * machine, @passes < 1).
 */
long pinmm_khugepaged_scan(struct pinmm *m, int passes)
{
	struct khugepaged *k;
	long collapsed;

	pinmm_thread_enter();
	if (!m || passes < 1)
		return -EINVAL;
	k = khugepaged_of(m);
	if (!k)
		return -EINVAL;
	mutex_lock(&k->scan_mutex);
	k->collapsed = 0;
	for (int i = 0; i < passes; i++) {
		/* A pass starts at the head, as a fresh khugepaged would. */
		spin_lock(&k->mm_lock);
		k->scan_slot = NULL;
		spin_unlock(&k->mm_lock);
		while (!khugepaged_do_scan(m, k, UINT32_MAX))
			;
	}
	collapsed = k->collapsed;
	mutex_unlock(&k->scan_mutex);
	pinmm_debug_boundary(m);
	return collapsed;
}

/* The periodic thread: pages_to_scan every scan_sleep_ms until shutdown. */
static void *khugepaged_thread(void *arg)
{
	struct pinmm *m = arg;
	struct khugepaged *k = khugepaged_of(m);

	pinmm_thread_enter();
	trace_thread_name(m, "khugepaged");
	while (!wait_for_completion_timeout(&k->stop, m->cfg.khugepaged_scan_sleep_ms * 1000000ull)) {
		struct trace_span sp;

		trace_span_begin(&sp);
		mutex_lock(&k->scan_mutex);
		khugepaged_do_scan(m, k, (unsigned int)m->cfg.khugepaged_pages_to_scan);
		mutex_unlock(&k->scan_mutex);
		TRACE_SPAN_END(m, &sp, TRACE_CAT_DEVICE, "khugepaged_scan",
			       { "pages_to_scan", (int64_t)m->cfg.khugepaged_pages_to_scan });
	}
	lockdep_thread_exit(__func__);	/* a kernel thread ends holding nothing */
	return NULL;
}

static int khugepaged_init(struct pinmm *m)
{
	struct khugepaged *k = kzalloc(sizeof(*k));

	if (!k)
		return -ENOMEM;
	mutex_init(&k->scan_mutex);
	spin_lock_init(&k->mm_lock);
	INIT_LIST_HEAD(&k->mm_head);
	init_completion(&k->stop);
	m->khugepaged = k;
	if (m->cfg.khugepaged_scan_sleep_ms) {
		if (kthread_start(&k->thread, khugepaged_thread, m)) {
			m->khugepaged = NULL;
			destroy_completion(&k->stop);
			spin_lock_destroy(&k->mm_lock);
			mutex_destroy(&k->scan_mutex);
			kfree(k);
			return -EAGAIN;
		}
		k->has_thread = true;
	}
	return 0;
}

/* Stop the thread while processes still exist (it may be mid-collapse). */
static void khugepaged_shutdown(struct pinmm *m)
{
	struct khugepaged *k = khugepaged_of(m);

	if (!k || !k->has_thread)
		return;
	complete(&k->stop);
	kthread_join(k->thread);
	k->has_thread = false;
}

/* After every process exited: drop the slots' mm references. */
static int khugepaged_exit(struct pinmm *m)
{
	struct khugepaged *k = khugepaged_of(m);
	LIST_HEAD(to_drop);

	if (!k)
		return 0;
	khugepaged_shutdown(m);		/* a failed boot skips ->shutdown */
	spin_lock(&k->mm_lock);
	list_splice_init(&k->mm_head, &to_drop);
	k->scan_slot = NULL;
	spin_unlock(&k->mm_lock);
	drop_slots(&to_drop);
	destroy_completion(&k->stop);
	spin_lock_destroy(&k->mm_lock);
	mutex_destroy(&k->scan_mutex);
	m->khugepaged = NULL;
	kfree(k);
	return 0;
}
pinmm_initcall(khugepaged, INITCALL_MM(7), khugepaged_init, khugepaged_shutdown,
	       khugepaged_exit);
