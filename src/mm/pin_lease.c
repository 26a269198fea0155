/* SPDX-License-Identifier: MIT */
/*
 * pin_lease.c - layout leases for long-term pins of file pages, lease
 * breaking with a deadline, revocation with fencing, and the device side
 * of pinned pages (pinmm_dma_write/read).
 *
 * The issue: "lease — a long-term pin of file pages requires a layout
 * lease (the 2019 proposal: the pinning call takes or is handed a lease
 * object tied to the file). Truncate, hole punch and block reallocation
 * break the lease: the holder gets a callback and a deadline in the
 * machine's clock; a holder that does not release in time is revoked and
 * its pins are fenced — later device writes through them are dropped and
 * counted, and never reach blocks that now belong to someone else."
 *
 * One mechanism for every kind of file page: the lease knows a file, its
 * pins and its state, never whether the file is in the page cache (/data/)
 * or on pmem (/dax/, fsdax, where Weiny proposed it).  A file can be
 * leased when its filesystem breaks leases before changing the layout
 * (AS_LAYOUT_LEASE on its mapping).
 *
 * Kara's rules of 2019 are followed: the lease is mandatory (under this
 * policy GUP refuses a writable long-term pin of a pinfs file, and any
 * long-term pin of a DAX file, without one: -EPERM), it is held until
 * every pin taken under it is released (the lease owns its pins:
 * pinmm_lease_put() releases them), and pins are tracked per lease.
 * Breaking is a notification plus a deadline (Chinner); what happens at
 * the deadline is the machine's lease.outcome: revoke (the default: the
 * pins are fenced and detached, truncate goes on), wait (truncate waits
 * for the release however long it takes, Linux's DAX behaviour), fail
 * (truncate fails with ETXTBSY while the lease holds pins, Weiny's RFC)
 * or unbreakable (no notice: every conflicting truncate fails at once).
 * vaddr_pin_pages() records (file_pin.c) are pins of a lease too: they
 * keep it from being released, and a revocation detaches and fences them.
 *
 * It does not own the GUP check (gup.c calls pin_policy.c, which asks
 * lease_covers_vma()), truncation (pinfs calls lease_break_wait() for both
 * of its mounts; DAX then asks lease_fenced_pins() whether a frame still
 * pinned may be freed), or pin counting.
 *
 * Locking: see file_pin.h.  Breakers sleep on lease_wq with lease_lock
 * (wait_event_lock_timeout()), as do pinmm_lease_wait_break() callers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pinmm/lease.h>
#include <pinmm/linux.h>

#include "trace.h"
#include "fault_inject.h"
#include "file_pin.h"
#include "pin_policy.h"
#include "rcu.h"

DEFINE_MUTEX(lease_lock);
DECLARE_WAIT_QUEUE_HEAD(lease_wq);	/* lease released, broken; notice returned */
LIST_HEAD(lease_list);			/* lease_lock */
LIST_HEAD(file_pin_list);		/* lease_lock */
atomic_t nr_revoked;			/* revoked leases and records holding pins */
static __thread struct pinmm_lease *lease_current;

static void lease_unref(struct pinmm_lease *l)
{
	if (!atomic_dec_and_test(&l->refs))
		return;
	fput(l->file);
	pinmm_proc_put(l->p);
	free(l->pins);
	free(l);
}

/**
 * pinmm_lease_get() - see <pinmm/lease.h>.
 * Context: any thread.
 */
int pinmm_lease_get(struct pinmm_proc *p, int fd, pinmm_lease_break_fn break_fn,
		    void *arg, struct pinmm_lease **out)
{
	struct pinmm_lease *l;
	struct file *file;

	pinmm_thread_enter();
	if (!p || !out)
		return -EINVAL;
	if (p->exited)
		return -ESRCH;
	if (fs_pinned_policy(p->machine) != PINMM_FS_LEASE)
		return -EOPNOTSUPP;
	file = fget(p, fd);
	if (!file)
		return -EBADF;
	if (!test_bit(AS_LAYOUT_LEASE, &file->f_mapping->flags)) {
		fput(file);
		return -EINVAL;
	}
	l = kzalloc(sizeof(*l));
	if (!l) {
		fput(file);
		return -ENOMEM;
	}
	l->m = p->machine;
	l->p = pinmm_proc_get(p);	/* the holder may release its handle */
	l->file = file;
	l->inode = file->f_inode;
	l->break_fn = break_fn;
	l->arg = arg;
	l->writable = (file->f_flags & O_ACCMODE) != O_RDONLY;
	l->state = PINMM_LEASE_ACTIVE;
	atomic_set(&l->refs, 1);
	mutex_lock(&lease_lock);
	list_add_tail(&l->node, &lease_list);
	mutex_unlock(&lease_lock);
	*out = l;
	return 0;
}

/**
 * pinmm_lease_put() - see <pinmm/lease.h>.
 * @l: the lease.
 *
 * Kara's rule: a lease with file_pin records attached cannot go (-EBUSY);
 * a revoked lease has none (they were detached).
 *
 * Context: any thread, also from the lease's break callback.
 * Return: 0, -EINVAL, -EBUSY.
 */
int pinmm_lease_put(struct pinmm_lease *l)
{
	struct page **pins;
	unsigned long nr;
	bool revoked;

	pinmm_thread_enter();
	if (!l)
		return -EINVAL;
	mutex_lock(&lease_lock);
	if (l->state == LEASE_RELEASED) {
		mutex_unlock(&lease_lock);
		return -EINVAL;
	}
	if (l->nr_file_pins) {
		mutex_unlock(&lease_lock);
		return -EBUSY;
	}
	revoked = l->state == PINMM_LEASE_REVOKED;
	l->state = LEASE_RELEASED;
	pins = l->pins;
	nr = l->nr_pins;
	l->pins = NULL;
	l->nr_pins = l->cap = 0;
	list_del_init(&l->node);
	if (revoked)
		atomic_dec(&nr_revoked);
	wake_up_all(&lease_wq);
	mutex_unlock(&lease_lock);

	/* A fenced page's contents are nobody's: do not dirty it. */
	if (nr)
		pinmm_unpin_user_pages_dirty_lock(pins, nr, !revoked);
	free(pins);
	lease_unref(l);
	return 0;
}

/**
 * pinmm_lease_state() - see <pinmm/lease.h>.
 * Context: any thread.
 */
int pinmm_lease_state(struct pinmm_lease *l)
{
	int s;

	if (!l)
		return -EINVAL;
	mutex_lock(&lease_lock);
	s = l->state;
	mutex_unlock(&lease_lock);
	return s;
}

/* Remember @nr pins in @l; false without memory. */
static bool lease_add_pins(struct pinmm_lease *l, struct page **pages, unsigned long nr)
{
	if (l->nr_pins + nr > l->cap) {
		unsigned long cap = max(l->cap * 2, l->nr_pins + nr);
		struct page **n = krealloc(l->pins, cap * sizeof(*n));

		if (!n)
			return false;
		l->pins = n;
		l->cap = cap;
	}
	memcpy(l->pins + l->nr_pins, pages, nr * sizeof(*pages));
	l->nr_pins += nr;
	return true;
}

/**
 * pinmm_pin_user_pages_leased() - see <pinmm/lease.h>.
 * Context: any thread; runs GUP as the lease holder's process.
 */
long pinmm_pin_user_pages_leased(struct pinmm_lease *l, unsigned long start,
				 unsigned long nr_pages, unsigned int gup_flags,
				 struct page **pages)
{
	struct pinmm_proc *saved;
	long ret;
	int state;

	pinmm_thread_enter();
	if (!l || !pages)
		return -EINVAL;
	state = pinmm_lease_state(l);
	if (state != PINMM_LEASE_ACTIVE)
		return state < 0 ? state : -EAGAIN;
	saved = pinmm_current();
	pinmm_set_current(l->p);
	lease_current = l;
	pinmm_mmap_read_lock(pinmm_proc_mm(l->p));
	ret = pinmm_pin_user_pages(start, nr_pages, gup_flags | FOLL_LONGTERM, pages);
	pinmm_mmap_read_unlock(pinmm_proc_mm(l->p));
	lease_current = NULL;
	pinmm_set_current(saved);
	if (ret <= 0)
		return ret;
	for (long i = 0; i < ret; i++) {
		if (pinmm_page_folio(pages[i])->mapping != l->inode->i_mapping) {
			pinmm_unpin_user_pages(pages, (unsigned long)ret);
			return -EINVAL;
		}
	}
	mutex_lock(&lease_lock);
	if (!lease_add_pins(l, pages, (unsigned long)ret)) {
		mutex_unlock(&lease_lock);
		pinmm_unpin_user_pages(pages, (unsigned long)ret);
		return -ENOMEM;
	}
	mutex_unlock(&lease_lock);
	return ret;
}

/**
 * pinmm_lease_info() - see <pinmm/lease.h>.
 * @l: the lease.
 * @info: filled in.
 *
 * Context: any thread.
 * Return: 0, -EINVAL.
 */
int pinmm_lease_info(struct pinmm_lease *l, struct pinmm_lease_info *info)
{
	if (!l || !info)
		return -EINVAL;
	mutex_lock(&lease_lock);
	*info = (struct pinmm_lease_info){
		.state = l->state,
		.writable = l->writable, .breaks = l->breaks, .broken_ns = l->broken_ns,
		.revoked_ns = l->revoked_ns, .etxtbsy = l->etxtbsy,
		.lease_pins = l->nr_pins, .file_pins = l->nr_file_pins,
	};
	memcpy(info->why, l->why, sizeof(info->why));
	mutex_unlock(&lease_lock);
	return 0;
}

/**
 * pinmm_lease_wait_break() - see <pinmm/lease.h>.
 * @l: the lease.
 * @timeout_ms: deadline from now.
 *
 * Context: any thread but the breaker; sleeps on lease_wq.
 * Return: 0, -ETIMEDOUT, -EINVAL.
 */
int pinmm_lease_wait_break(struct pinmm_lease *l, unsigned int timeout_ms)
{
	uint64_t deadline;
	int ret = 0;

	if (!l)
		return -EINVAL;
	deadline = pin_policy_now_ns() + timeout_ms * 1000000ull;
	mutex_lock(&lease_lock);
	while (!l->breaks && l->state == PINMM_LEASE_ACTIVE) {
		uint64_t now = pin_policy_now_ns();

		if (now >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		wait_event_lock_timeout(&lease_wq, l->breaks || l->state != PINMM_LEASE_ACTIVE,
					&lease_lock, deadline - now);
	}
	mutex_unlock(&lease_lock);
	return ret;
}

/**
 * lease_find_active() - the active lease on @inode held by the process
 * whose address space is @mm, writable if @write.
 * @inode: the leased file.
 * @mm: the pinned address space.
 * @write: a writable pin is wanted.
 *
 * Context: lease_lock held.
 * Return: the lease, or NULL.
 */
struct pinmm_lease *lease_find_active(struct inode *inode, struct mm_struct *mm, bool write)
{
	struct pinmm_lease *l;

	lockdep_assert_held(&lease_lock);
	list_for_each_entry(l, &lease_list, node)
		if (l->inode == inode && l->state == PINMM_LEASE_ACTIVE &&
		    pinmm_proc_mm(l->p) == mm && (l->writable || !write))
			return l;
	return NULL;
}

/**
 * lease_covers_vma() - is this thread inside pinmm_pin_user_pages_leased()
 * for a lease on @vma's file, held by the process whose memory @vma is,
 * or inside a vaddr_pin_pages() call that checked the leases of @vma's mm?
 * @vma: a file mapping (page cache or fsdax).
 *
 * Context: mmap_lock held (by GUP on this thread).
 * Return: true if so.
 */
bool lease_covers_vma(struct vm_area_struct *vma)
{
	struct pinmm_lease *l = lease_current;

	if (!l)
		return vaddr_pin_covers_vma(vma);
	return vma->vm_file && vma->vm_file->f_inode == l->inode &&
	       vma->vm_mm == pinmm_proc_mm(l->p);
}

/* Pins of @l a conflicting truncate must respect (lease_lock held). */
static bool lease_has_pins(struct pinmm_lease *l)
{
	return l->nr_pins || l->nr_file_pins;
}

/*
 * The deadline passed with @l still held: revoke it.  Its own pins stay
 * with it (fenced until pinmm_lease_put()), its file_pin records are
 * detached from it and fenced (until vaddr_unpin_pages()).  lease_lock.
 */
static void lease_revoke(struct pinmm_lease *l, const char *why)
{
	struct pinmm *m = l->m;
	struct file_pin *fp;
	unsigned long detached = 0;

	l->state = PINMM_LEASE_REVOKED;
	l->revoked_ns = pin_policy_now_ns();
	atomic_inc(&nr_revoked);
	list_for_each_entry(fp, &file_pin_list, node) {
		if (fp->lease != l)
			continue;
		fp->lease = NULL;
		fp->revoked = true;
		atomic_inc(&nr_revoked);
		detached++;
	}
	l->nr_file_pins = 0;
	count_vm_event(m, LEASE_REVOCATIONS);
	pr_diag(m, "lease: %s of %s: holder (pid %d) did not release in %llu ms; "
		"revoked, %lu pins fenced, %lu file_pins detached\n", why, l->inode->name,
		l->p->pid, (unsigned long long)m->cfg.lease_break_ms, l->nr_pins, detached);
}

/*
 * At @l's deadline: what lease.outcome says.  Return: 0 (revoked), or
 * -ETXTBSY (fail, with pins: the lease is active again).  lease_lock.
 */
static int lease_deadline(struct pinmm_lease *l, const char *why)
{
	if (l->m->cfg.lease_outcome == PINMM_LEASE_FAIL && lease_has_pins(l)) {
		l->state = PINMM_LEASE_ACTIVE;
		l->etxtbsy++;
		count_vm_event(l->m, LEASE_ETXTBSY);
		return -ETXTBSY;
	}
	lease_revoke(l, why);
	return 0;
}

/*
 * lease.outcome unbreakable: any active lease on @inode makes the
 * conflicting operation fail at once, without a notice.  lease_lock.
 */
static int lease_unbreakable(struct inode *inode)
{
	struct pinmm_lease *l;
	int ret = 0;

	list_for_each_entry(l, &lease_list, node) {
		if (l->inode != inode || l->state != PINMM_LEASE_ACTIVE)
			continue;
		l->etxtbsy++;
		ret = -ETXTBSY;
	}
	if (ret)
		count_vm_event(inode->i_sb->machine, LEASE_ETXTBSY);
	return ret;
}

static int __lease_break_wait(struct inode *inode, const char *why)
{
	struct pinmm *m = inode->i_sb->machine;
	struct pinmm_lease **brk = NULL, *l;
	size_t nr = 0, cap = 0;
	uint64_t start;
	int ret = 0;

	if (fs_pinned_policy(m) != PINMM_FS_LEASE)
		return 0;
	start = pin_policy_now_ns();
	mutex_lock(&lease_lock);
	if (m->cfg.lease_outcome == PINMM_LEASE_UNBREAKABLE) {
		ret = lease_unbreakable(inode);
		mutex_unlock(&lease_lock);
		return ret;
	}
	list_for_each_entry(l, &lease_list, node) {
		if (l->inode != inode || l->state != PINMM_LEASE_ACTIVE)
			continue;
		if (nr == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct pinmm_lease **n = krealloc(brk, ncap * sizeof(*n));

			if (!n)
				break;		/* the rest stay unbroken */
			brk = n;
			cap = ncap;
		}
		l->state = PINMM_LEASE_BREAKING;
		l->broken_ns = start;
		l->deadline_ns = start + m->cfg.lease_break_ms * 1000000ull;
		l->breaks++;
		snprintf(l->why, sizeof(l->why), "%s", why);
		atomic_inc(&l->refs);
		brk[nr++] = l;
		count_vm_event(m, LEASE_BREAKS);
	}
	wake_up_all(&lease_wq);		/* pinmm_lease_wait_break() */
	mutex_unlock(&lease_lock);

	for (size_t i = 0; i < nr; i++)
		if (brk[i]->break_fn)
			brk[i]->break_fn(brk[i], brk[i]->arg);

	mutex_lock(&lease_lock);
	for (size_t i = 0; i < nr; i++) {
		l = brk[i];
		while (l->state == PINMM_LEASE_BREAKING) {
			uint64_t now = pin_policy_now_ns();

			if (m->cfg.lease_outcome == PINMM_LEASE_WAIT) {
				wait_event_lock(&lease_wq, l->state != PINMM_LEASE_BREAKING,
						&lease_lock);
				continue;
			}
			if (now >= l->deadline_ns) {
				ret = lease_deadline(l, why) ?: ret;
				break;
			}
			wait_event_lock_timeout(&lease_wq, l->state != PINMM_LEASE_BREAKING,
						&lease_lock, l->deadline_ns - now);
		}
	}
	mutex_unlock(&lease_lock);
	if (nr)
		count_vm_events(m, LEASE_BREAK_STALL_NS, (long)(pin_policy_now_ns() - start));
	file_pin_notify_revoked();
	for (size_t i = 0; i < nr; i++)
		lease_unref(brk[i]);
	free(brk);
	return ret;
}

/**
 * lease_fenced_pins() - how many pins do revoked leases and revoked
 * file_pin records hold on @page?
 * @m: its machine.
 * @page: the page a device is about to write, or a DAX frame whose block
 *	truncate wants to free.
 *
 * Device accesses through a fenced pin are refused (pinmm_dma_write(),
 * pinmm_dma_read()), so a frame whose every pin is fenced need not hold
 * up truncate: DAX lets the file go of it at once, and keeps its block
 * allocated until the last unpin (mm/dax.c, fs/pinfs/busy.c).
 *
 * Context: any; takes lease_lock only while a revoked lease or record
 *	exists.
 * Return: the number of such pins (0: not fenced).
 */
/**
 * lease_break_wait() - break every lease on @inode and wait.
 * @inode: the file whose layout changes (truncate, punch, reallocation),
 *	in the page cache or on pmem alike.
 * @why: for the message and the lease's record.
 *
 * lease.outcome unbreakable: -ETXTBSY at once if a lease is active.
 * Otherwise each active lease goes BREAKING (lease_breaks) with a
 * deadline of cfg.lease_break_ms on the machine clock, its break time is
 * recorded and its callback runs (here, no lock held).  Then wait until
 * each is released; at the deadline of one still held: wait on (outcome
 * wait), -ETXTBSY with the lease active again (fail, while it holds pins),
 * or revoke it (revoke; fail without pins): its pins are fenced, its
 * file_pin records detached, their owners told.  Leases already broken or
 * revoked are not broken again.  The caller then changes the layout (a
 * DAX caller may free the blocks under fenced frames: lease_fenced_pins())
 * or, on -ETXTBSY, changes nothing.  The time spent waiting is counted
 * (lease_break_stall_ns).  No-op unless the policy is lease.
 *
 * Context: may sleep; i_rwsem held for writing; no folio lock.
 * Return: 0, -ETXTBSY.
 */
int lease_break_wait(struct inode *inode, const char *why)
{
	struct trace_span sp;
	int ret;

	trace_span_begin(&sp);
	ret = __lease_break_wait(inode, why);
	TRACE_SPAN_END(inode->i_sb->machine, &sp, TRACE_CAT_LEASE, "lease_break",
		       { "ino", (int64_t)inode->i_ino }, { "ret", ret });
	return ret;
}

unsigned long lease_fenced_pins(struct pinmm *m, struct page *page)
{
	struct pinmm_lease *l;
	struct file_pin *fp;
	unsigned long pins = 0;

	if (!atomic_read(&nr_revoked))
		return 0;
	mutex_lock(&lease_lock);
	list_for_each_entry(l, &lease_list, node) {
		if (l->m != m || l->state != PINMM_LEASE_REVOKED)
			continue;
		for (unsigned long i = 0; i < l->nr_pins; i++)
			pins += l->pins[i] == page;
	}
	list_for_each_entry(fp, &file_pin_list, node) {
		if (fp->m != m || !fp->revoked)
			continue;
		for (unsigned long i = 0; i < fp->nr_pages; i++)
			pins += fp->pages[i] == page;
	}
	mutex_unlock(&lease_lock);
	return pins;
}

/**
 * pinmm_dma_write() - see <pinmm/lease.h>.
 * Context: any thread (a device).
 */
int pinmm_dma_write(struct page *page, size_t off, const void *buf, size_t len)
{
	struct pinmm *m;

	if (!page || (!buf && len) || off > PAGE_SIZE || len > PAGE_SIZE - off)
		return -EINVAL;
	m = page_machine(page);
	if (lease_page_fenced(m, page)) {
		count_vm_event(m, LEASE_FENCED_WRITES);
		count_vm_events(m, LEASE_FENCED_BYTES, (long)len);
		return -EPERM;
	}
	pin_policy_dma_copy(page, off, buf, len);	/* one device write unit */
	return 0;
}

/**
 * pinmm_dma_read() - see <pinmm/lease.h>.
 * Context: any thread (a device).
 */
int pinmm_dma_read(struct page *page, size_t off, void *buf, size_t len)
{
	struct pinmm *m;

	if (!page || (!buf && len) || off > PAGE_SIZE || len > PAGE_SIZE - off)
		return -EINVAL;
	m = page_machine(page);
	if (lease_page_fenced(m, page)) {
		count_vm_event(m, LEASE_FENCED_READS);
		return -EPERM;
	}
	memcpy(buf, (const char *)page_address(page) + off, len);
	return 0;
}
