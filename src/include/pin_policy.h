/* SPDX-License-Identifier: MIT */
/*
 * pin_policy.h - what the filesystem and mm do with pinned page-cache
 * pages, per the boot option fs.pinned_policy (doc/PIN-POLICIES.md):
 * legacy, linux (default), holdoff, bounce, lease, busyblocks.
 *
 * The policy core is src/mm/pin_policy.c (holdoff waits, torn-write
 * detection, bounce copies, Kara's-failure reporting, the long-term pin
 * rule); leases and device writes are src/mm/pin_lease.c; busy blocks are
 * src/fs/pinfs/busy.c; O_DIRECT is src/fs/pinfs/dio.c.
 */
#ifndef PINMM_PIN_POLICY_H
#define PINMM_PIN_POLICY_H

#include "pagemap.h"
#include "writeback.h"

static inline enum pinmm_fs_policy fs_pinned_policy(struct pinmm *m)
{
	return m->cfg.fs_policy;
}

/* Monotonic nanoseconds: the machine clock for deadlines and stall times. */
uint64_t pin_policy_now_ns(void);

/* holdoff: who waits for a pin to go away (for the message). */
enum holdoff_reason {
	HOLDOFF_WRITEBACK,
	HOLDOFF_RECLAIM,
	HOLDOFF_MIGRATE,
	HOLDOFF_TRUNCATE,
};

/*
 * Under the holdoff policy wait until @folio is no longer maybe DMA-pinned
 * or cfg.holdoff_ms passed; no-op (true) under other policies.  The caller
 * holds a reference and must not hold the folio lock or a spinlock.
 * Return: true if the folio is (now) unpinned, false at the deadline.
 */
bool pin_policy_holdoff_wait(struct folio *folio, enum holdoff_reason why);

/* Wake holdoff waiters of @folio: called after every pin release. */
extern atomic_t pin_policy_holdoff_waiters;
void __pin_policy_unpin_wake(const struct folio *folio);
static inline void pin_policy_unpin_notify(const struct folio *folio)
{
	if (unlikely(atomic_read(&pin_policy_holdoff_waiters)))
		__pin_policy_unpin_wake(folio);
}

/* reclaim: may reclaim ignore pins (legacy, pre-5.7: it cannot see them)? */
static inline bool pin_policy_reclaim_sees_pins(struct pinmm *m)
{
	return fs_pinned_policy(m) != PINMM_FS_LEGACY;
}

/*
 * A device write unit (pinmm_dma_write()): copy @len bytes into @page,
 * atomic for the bounce copy and the torn-write snapshot.
 */
void pin_policy_dma_copy(struct page *page, size_t off, const void *buf, size_t len);

/*
 * writeback: around ->writepage.  bounce: hand ->writepage a stable copy
 * of a maybe-pinned folio (wbc->bounce); every policy: snapshot what
 * ->writepage reads from a maybe-pinned folio and count a torn write when
 * it changed during I/O.
 */
struct pin_wb_ctx {
	void *bounce;
	void *snap;
};
void pin_policy_writeback_begin(struct folio *folio, struct pin_wb_ctx *c,
				struct writeback_control *wbc);
void pin_policy_writeback_end(struct folio *folio, struct pin_wb_ctx *c,
			      struct writeback_control *wbc, int err);

/*
 * Kara's failure: a (maybe pinned) folio of @mapping was dirtied while it
 * had no block mapping: counts pinned_dirty_no_blocks, prints a line.
 * pin_policy_data_lost(): a folio whose data the filesystem dropped
 * (PG_nodisk) leaves the cache: counts lost_bytes.
 */
void pin_policy_report_no_blocks(struct address_space *mapping, struct folio *folio);
void pin_policy_data_lost(struct folio *folio);

/*
 * GUP: a FOLL_LONGTERM pin of an fsdax mapping (§5.3), or a
 * FOLL_PIN|FOLL_LONGTERM|FOLL_WRITE pin of a dirty-tracked shared file
 * mapping (§5.4).  Return: 0 when the policy allows it (lease with a lease
 * on the file; legacy and the others for the page cache), -EOPNOTSUPP
 * (fsdax outside the lease policy), -EFAULT (page cache under linux),
 * -EPERM (lease policy without a lease).
 */
int pin_policy_longterm_file(struct vm_area_struct *vma, unsigned int gup_flags);

/* pin_lease.c */
/* Is a pinmm_pin_user_pages_leased() call for @vma's file running here? */
bool lease_covers_vma(struct vm_area_struct *vma);
/*
 * Truncate, hole punch, block reallocation of @inode (page cache or DAX):
 * break every lease on it and wait for release, then lease.outcome at the
 * deadline.  i_rwsem held.  Return: 0, or -ETXTBSY (change nothing).
 */
int lease_break_wait(struct inode *inode, const char *why);
/* Pins that revoked leases hold on @page (their device writes are dropped). */
unsigned long lease_fenced_pins(struct pinmm *m, struct page *page);
static inline bool lease_page_fenced(struct pinmm *m, struct page *page)
{
	return lease_fenced_pins(m, page) != 0;
}

#endif /* PINMM_PIN_POLICY_H */
