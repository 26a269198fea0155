/* SPDX-License-Identifier: MIT */
/*
 * pin_policy.c - the pinned-page policies of fs.pinned_policy, where they
 * act on mm paths: holdoff waits (with a hashed wait queue woken by the
 * unpin path), device write units, torn-write detection and bounce copies
 * around ->writepage, the report of Kara's failure, and the long-term
 * file pin rule.
 *
 * The issue, quoted per policy (doc/PIN-POLICIES.md has the details):
 *
 *  legacy   "pre-5.7 Linux: pins are plain references and nothing tells
 *           them apart ... Kara's failure must reproduce: a DIO read into
 *           a MAP_SHARED file mapping while reclaim cleans the page and
 *           strips its block mapping, then the release dirties a page with
 *           no blocks. pinmm detects and reports it (counter, message, lost
 *           bytes) and does not crash."
 *  linux    "today's Linux: reclaim leaves maybe-pinned folios and their
 *           private state alone (Linux 6.4+); writeback still writes pinned
 *           pages. Detect torn writes (the page changed while its I/O was
 *           in flight) and count them."
 *  holdoff  "writeback, reclaim, migration and unmapping wait for pinned
 *           pages to be released, up to a deadline (cfg.holdoff_ms); report
 *           the stalls"
 *  bounce   "writeback of a maybe-pinned page writes a stable copy; never
 *           torn; report bounce bytes"
 *  lease    see pin_lease.c;  busyblocks  see src/fs/pinfs/busy.c.
 *
 * It does not own the decisions' call sites (page-writeback.c, vmscan.c,
 * migrate/compaction, gup.c, pinfs), leases (pin_lease.c) or pin counting
 * (pin_tracking.c, which calls pin_policy_unpin_notify()).
 *
 * Locking: holdoff_wq[i].lock protects nothing but the sleep/wake-up
 * handshake of its bucket (like folio_wait_table); it is a leaf lock.
 * dwu_lock[i] makes one device write unit into a page of its bucket
 * atomic for the bounce copy and the torn-write snapshot; a leaf lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "explore.h"
#include "fault_inject.h"
#include "pin_policy.h"
#include "wait.h"

uint64_t pin_policy_now_ns(void)
{
	struct timespec ts;
	uint64_t ns;

	if (explore_now(&ns))	/* a participant of an explorer run: its clock */
		return ns;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* holdoff: a hashed wait queue keyed by folio, like folio_wait_table   */

#define HOLDOFF_WQ_BITS	6
#define HOLDOFF_WQ_SIZE	(1u << HOLDOFF_WQ_BITS)
/* Re-check at least this often: mapcount tracking can miss a wake-up. */
#define HOLDOFF_POLL_NS	(10ull * 1000 * 1000)

static wait_queue_head_t holdoff_wq[HOLDOFF_WQ_SIZE];
static pthread_once_t holdoff_once = PTHREAD_ONCE_INIT;
atomic_t pin_policy_holdoff_waiters;

static void holdoff_wq_init(void)
{
	for (unsigned int i = 0; i < HOLDOFF_WQ_SIZE; i++)
		init_waitqueue_head(&holdoff_wq[i]);
}

static wait_queue_head_t *holdoff_bucket(const struct folio *folio)
{
	uintptr_t h = (uintptr_t)folio / sizeof(struct page);

	h ^= h >> HOLDOFF_WQ_BITS;
	return &holdoff_wq[h & (HOLDOFF_WQ_SIZE - 1)];
}

/**
 * __pin_policy_unpin_wake() - wake whoever waits for @folio's pins.
 * @folio: the folio whose pins were just released (may be freed already:
 *	only its address is used).
 *
 * Context: any; no lock needed.  Called through pin_policy_unpin_notify()
 * only while a holdoff waiter exists.
 */
void __pin_policy_unpin_wake(const struct folio *folio)
{
	pthread_once(&holdoff_once, holdoff_wq_init);
	wake_up_all(holdoff_bucket(folio));
}

static const char *const holdoff_what[] = {
	[HOLDOFF_WRITEBACK] = "writeback", [HOLDOFF_RECLAIM] = "reclaim",
	[HOLDOFF_MIGRATE] = "migration", [HOLDOFF_TRUNCATE] = "truncate",
};

/**
 * pin_policy_holdoff_wait() - holdoff: wait for @folio's pins to go.
 * @folio: a folio the caller holds a reference to (not locked: the pin
 *	holder's unpin_user_pages_dirty_lock() takes the folio lock).
 * @why: the waiting path, for the report.
 *
 * Under fs.pinned_policy=holdoff a maybe-pinned folio makes the caller
 * sleep until the last pin is released or cfg.holdoff_ms passed; each wait
 * counts holdoff_stalls and its time in holdoff_stall_ns; reaching the
 * deadline counts holdoff_timeouts and prints one line, and the caller then
 * proceeds as the linux policy does.
 *
 * Context: may sleep; no spinlock, no folio lock held.
 * Return: true if @folio is not (or no longer) maybe pinned, or the policy
 * is not holdoff; false at the deadline.
 */
bool pin_policy_holdoff_wait(struct folio *folio, enum holdoff_reason why)
{
	struct pinmm *m = folio_machine(folio);
	uint64_t start, deadline, now;
	wait_queue_head_t *wq;
	bool timed_out = false;

	if (fs_pinned_policy(m) != PINMM_FS_HOLDOFF || !folio_maybe_dma_pinned(folio))
		return true;
	pthread_once(&holdoff_once, holdoff_wq_init);
	wq = holdoff_bucket(folio);
	start = pin_policy_now_ns();
	deadline = start + m->cfg.holdoff_ms * 1000000ull;

	atomic_inc(&pin_policy_holdoff_waiters);
	/* Pairs with the unpin: either it sees the waiter or we see the put. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	while (folio_maybe_dma_pinned(folio)) {
		now = pin_policy_now_ns();
		if (now >= deadline) {
			timed_out = true;
			break;
		}
		wait_event_timeout(wq, !folio_maybe_dma_pinned(folio),
				   min(deadline - now, HOLDOFF_POLL_NS));
	}
	atomic_dec(&pin_policy_holdoff_waiters);

	now = pin_policy_now_ns();
	count_vm_event(m, HOLDOFF_STALLS);
	count_vm_events(m, HOLDOFF_STALL_NS, (long)(now - start));
	if (timed_out) {
		count_vm_event(m, HOLDOFF_TIMEOUTS);
		pr_diag(m, "holdoff: %s of pinned pfn %#lx gave up after %llu ms "
			"(pin still held); proceeding\n", holdoff_what[why], folio_pfn(folio),
			(unsigned long long)m->cfg.holdoff_ms);
	}
	return !timed_out;
}

/* ------------------------------------------------------------------ */
/* device write units                                                   */

/*
 * A device write unit is one pinmm_dma_write() into one page (a DIO
 * completion, an RDMA peer's write, a leased device): a device writes a
 * page as a whole.  Each page hashes to one of dwu_lock[]; the unit's copy
 * and every reader that must see a page as one state of its units (the
 * bounce copy, the torn-write snapshot) take it.  It is a leaf lock held
 * only across a memcpy of at most one page.
 */
#define DWU_BITS	6
#define DWU_SIZE	(1u << DWU_BITS)

static spinlock_t dwu_lock[DWU_SIZE];
static pthread_once_t dwu_once = PTHREAD_ONCE_INIT;

static void dwu_init(void)
{
	for (unsigned int i = 0; i < DWU_SIZE; i++)
		spin_lock_init(&dwu_lock[i]);
}

static spinlock_t *dwu_lock_of(const struct page *page)
{
	uintptr_t h = (uintptr_t)page / sizeof(struct page);

	pthread_once(&dwu_once, dwu_init);
	h ^= h >> DWU_BITS;
	return &dwu_lock[h & (DWU_SIZE - 1)];
}

/**
 * pin_policy_dma_copy() - one device write unit: @len bytes of @buf at
 * @off of @page, atomic with respect to pin_policy_stable_copy().
 * @page: a page the device holds (pinned, or faulted in for ODP).
 * @off: offset in the page.
 * @buf: the data.
 * @len: bytes; @off + @len <= PAGE_SIZE (the caller checked).
 *
 * Context: any; takes the page's device-write-unit lock (a leaf).
 */
void pin_policy_dma_copy(struct page *page, size_t off, const void *buf, size_t len)
{
	spinlock_t *l = dwu_lock_of(page);

	spin_lock(l);
	memcpy((char *)page_address(page) + off, buf, len);
	spin_unlock(l);
}

/*
 * Copy @folio to @dst page by page, each page between device write units
 * (never half of one): what a bounce buffer must hold, and what the torn
 * write detector compares with.
 */
static void pin_policy_stable_copy(struct folio *folio, void *dst)
{
	for (unsigned long i = 0; i < folio_nr_pages(folio); i++) {
		struct page *page = folio_page(folio, i);
		spinlock_t *l = dwu_lock_of(page);

		spin_lock(l);
		memcpy((char *)dst + i * PAGE_SIZE, page_address(page), PAGE_SIZE);
		spin_unlock(l);
	}
}

/* ------------------------------------------------------------------ */
/* writeback: torn-write detection and bounce copies                    */

/**
 * pin_policy_writeback_begin() - before ->writepage of a locked folio.
 * @folio: locked, PG_writeback set.
 * @c: per-call state, filled here.
 * @wbc: the pass; wbc->bounce is set under the bounce policy.
 *
 * Only maybe-pinned folios are looked at: after folio_mkclean() no CPU
 * store can change the page without faulting into ->page_mkwrite (which
 * waits for the folio lock), so only a pin holder's device can.  Under
 * bounce ->writepage gets a stable copy, taken between device write units
 * (pin_policy_stable_copy()).  Under every policy the detector snapshots
 * the bytes ->writepage is about to read -- the page, or the bounce copy
 * -- for pin_policy_writeback_end() to compare.
 *
 * Context: folio locked; may allocate.
 */
void pin_policy_writeback_begin(struct folio *folio, struct pin_wb_ctx *c,
				struct writeback_control *wbc)
{
	struct pinmm *m = folio_machine(folio);
	size_t size = folio_size(folio);

	c->bounce = NULL;
	c->snap = NULL;
	if (!folio_maybe_dma_pinned(folio))
		return;
	if (fs_pinned_policy(m) == PINMM_FS_BOUNCE) {
		c->bounce = kmalloc(size);
		if (c->bounce) {
			pin_policy_stable_copy(folio, c->bounce);
			wbc->bounce = c->bounce;
			count_vm_events(m, BOUNCE_PAGES, (long)folio_nr_pages(folio));
			count_vm_events(m, BOUNCE_BYTES, (long)size);
		}
		/* No memory for a copy: the page itself is written, and watched. */
	}
	c->snap = kmalloc(size);
	if (c->snap && c->bounce)
		memcpy(c->snap, c->bounce, size);	/* the I/O source */
	else if (c->snap)
		pin_policy_stable_copy(folio, c->snap);
}

/**
 * pin_policy_writeback_end() - after ->writepage: count a torn write.
 * @folio: the folio, still locked.
 * @c: the state of pin_policy_writeback_begin().
 * @wbc: the pass (wbc->bounce is cleared).
 * @err: ->writepage's result; a failed write tore nothing on disk.
 *
 * A torn write is an I/O whose source (the page, or its bounce copy)
 * changed while the I/O was in flight: the image holds a mix of old and
 * new bytes.  Counts torn_writes and the changed bytes in torn_bytes, and
 * prints one line.
 *
 * Context: folio locked.
 */
void pin_policy_writeback_end(struct folio *folio, struct pin_wb_ctx *c,
			      struct writeback_control *wbc, int err)
{
	struct pinmm *m = folio_machine(folio);
	const uint8_t *src = c->bounce ? c->bounce : folio_address(folio);

	wbc->bounce = NULL;
	if (c->snap) {
		const uint8_t *a = c->snap;
		size_t size = folio_size(folio), diff = 0;

		for (size_t i = 0; i < size; i++)
			diff += a[i] != src[i];
		if (diff && !err) {
			struct address_space *mapping = folio_mapping(folio);

			count_vm_event(m, TORN_WRITES);
			count_vm_events(m, TORN_BYTES, (long)diff);
			pr_diag(m, "torn write: %s offset %lld: %zu bytes changed by a "
				"pin holder while the page was being written%s\n",
				mapping ? mapping->host->name : "?", folio_pos(folio), diff,
				c->bounce ? " (bounce copy)" : "");
		}
		free(c->snap);
		c->snap = NULL;
	}
	free(c->bounce);
	c->bounce = NULL;
}

/* ------------------------------------------------------------------ */
/* legacy: Kara's failure                                               */

/**
 * pin_policy_report_no_blocks() - a folio was dirtied without its block
 * mapping while maybe pinned (Kara, January 2018).
 * @mapping: its address space.
 * @folio: the folio (locked by the dirtier, as set_page_dirty_lock()).
 *
 * Counts pinned_dirty_no_blocks and prints the file and offset.  What
 * writeback then does with the folio is the filesystem's business (pinfs:
 * the pinfs.dirty_no_blocks mount option); data that never reaches disk is
 * counted by pin_policy_data_lost() when the folio leaves the cache.
 *
 * Context: folio locked.
 */
void pin_policy_report_no_blocks(struct address_space *mapping, struct folio *folio)
{
	struct pinmm *m = folio_machine(folio);

	count_vm_event(m, PINNED_DIRTY_NO_BLOCKS);
	pr_diag(m, "pinned page of %s at offset %lld dirtied without its block mapping\n",
		mapping->host->name, folio_pos(folio));
}

/**
 * pin_policy_data_lost() - a folio whose dirty data writeback did not
 * write (PG_nodisk: the filesystem dropped it) leaves the page cache
 * without having been written since: those bytes are lost for good.
 * @folio: the folio.
 *
 * Context: folio locked, being removed from its mapping.
 */
void pin_policy_data_lost(struct folio *folio)
{
	struct pinmm *m = folio_machine(folio);

	count_vm_events(m, LOST_BYTES, (long)folio_size(folio));
	pr_diag(m, "pfn %#lx left the page cache with data that never reached "
		"disk (%zu bytes lost)\n", folio_pfn(folio), folio_size(folio));
}

/* ------------------------------------------------------------------ */
/* GUP: long-term pins of file pages the filesystem may move or free    */

/**
 * pin_policy_longterm_file() - may this long-term pin of a file mapping
 * go ahead?  The one place fs.pinned_policy decides it, for both kinds of
 * file page (§5.3, §5.4).
 * @vma: an fsdax mapping (any FOLL_LONGTERM pin: the pinned page is the
 *	block itself), or a dirty-tracked shared file mapping
 *	(vma_needs_dirty_tracking(); FOLL_PIN|FOLL_LONGTERM|FOLL_WRITE).
 * @gup_flags: the pin's flags.
 *
 * lease: only inside pinmm_pin_user_pages_leased() for a lease on this
 * file held by the pinning process, else -EPERM (Weiny's 2019 RFC; on
 * fsdax read-only pins too, because a read-only pin of a DAX page holds
 * the block as much as a writable one does);
 * every other policy refuses fsdax with -EOPNOTSUPP (Linux: nothing can
 * break a long-term pin of a DAX page), and for the page cache:
 * linux: -EFAULT, Linux 6.5+'s answer (io_uring registration and
 * gup_test go through here too);
 * legacy (before 6.5 nothing refused them), holdoff, bounce and
 * busyblocks: yes - those designs are answers for pinned file pages,
 * long-term ones included, so the pin goes ahead and the policy copes.
 *
 * Context: mmap_lock held.
 * Return: 0, -EFAULT, -EOPNOTSUPP or -EPERM.
 */
int pin_policy_longterm_file(struct vm_area_struct *vma, unsigned int gup_flags)
{
	bool dax = vma_is_fsdax(vma);

	(void)gup_flags;
	switch (fs_pinned_policy(vma->vm_mm->machine)) {
	case PINMM_FS_LEASE:
		return lease_covers_vma(vma) ? 0 : -EPERM;
	case PINMM_FS_LINUX:
		return dax ? -EOPNOTSUPP : -EFAULT;
	default:
		return dax ? -EOPNOTSUPP : 0;
	}
}
