/* SPDX-License-Identifier: MIT */
/*
 * dax.c - the memory-management side of fsdax: device (pmem) frames used
 * directly as file pages.  Grabbing an idle frame for a fault, inserting
 * it with a devmap PTE, the final put that makes it idle again (never the
 * buddy allocator), whether a frame's block may be freed (idle, or pinned
 * only through revoked layout leases), waiting for that with a deadline
 * (dax_layout_busy_page() + wait_page_idle()), and the shutdown check of
 * device frames.
 *
 * It does not own the filesystem side (fs/pinfs/dax.c: block mapping,
 * read/write, truncate), the generic fault code (memory.c), GUP, or leases
 * (pin_lease.c: breaking them, fencing revoked pins).
 *
 * Frame states and the rules for @mapping/@index: see dax.h.  The number
 * of busy frames is the state counter NR_DAX_BUSY ("nr_dax_busy"): +1 on
 * every 0 -> 1 transition (only dax_grab_frame() makes one), -1 in
 * free_zone_device_folio() (the 1 -> 0 transition of folio_put()).
 */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "dax.h"
#include "fs.h"
#include "pin_policy.h"

/**
 * free_zone_device_folio() - the last reference to a device frame is gone.
 * @folio: an order-0 ZONE_DEVICE folio with refcount 0.
 *
 * Linux: free_zone_device_folio() -> the pgmap's ->page_free (fsdax: wake
 * the truncate waiter).  The frame stays with its owner: PG_devmap,
 * @mapping and @index are kept (the filesystem disowns the frame when it
 * frees the block); transient flags are cleared with atomic bit
 * operations, because a DAX fault may grab the frame again at any moment.
 * Waiters poll the refcount, so there is nothing to wake.  A frame whose
 * block its file freed while a revoked lease still pinned it carries a
 * hold (PG_private + struct folio_orphan, fs/pinfs/busy.c): the block is
 * freed now, from the last unpin.
 *
 * Context: any (called from folio_put()).
 */
void free_zone_device_folio(struct folio *folio)
{
	struct pinmm *m = folio_machine(folio);

	VM_BUG_ON_FOLIO(folio_test_large(folio), folio);
	WARN(atomic_read(&folio->_mapcount) != -1,
	     "dax: pfn %#lx idle but still mapped (mapcount %d)", folio_pfn(folio),
	     atomic_read(&folio->_mapcount) + 1);
	clear_bit(PG_dirty, &folio->flags);
	clear_bit(PG_referenced, &folio->flags);
	clear_bit(PG_anon_exclusive, &folio->flags);
	mod_vm_stat(m, NR_DAX_BUSY, -1);
	/* The hold of a revoked frame's block (MEMORY-ORDERING "DAX block hold" 3). */
	if (unlikely(test_bit(PG_private, &folio->flags))) {
		struct folio_orphan *o = READ_ONCE(folio->private);

		folio->private = NULL;
		clear_bit(PG_private, &folio->flags);
		if (o && o->free_folio)
			o->free_folio(folio, o);
	}
}

/**
 * dax_frame_prepare() - make the struct page of device frame @pfn an idle
 * order-0 folio the first time its block is allocated in this boot.
 * @m: the machine.
 * @pfn: a ZONE_DEVICE pfn.
 *
 * The memmap of the region is never initialised at boot (it reads as
 * zero, which is not a valid page: _mapcount must be -1); PG_devmap marks
 * a prepared frame.  Later allocations of the block find it prepared, and
 * idle: a frame still referenced by the fenced pins of a revoked lease
 * keeps its block allocated until its final put (fs/pinfs/busy.c).
 *
 * Context: the block was just allocated (pi->map_lock held): nobody else
 * can reach the frame.
 */
void dax_frame_prepare(struct pinmm *m, unsigned long pfn)
{
	struct page *page = pfn_to_page_m(m, pfn);

	VM_BUG_ON(pfn_zone_idx(m, pfn) != ZONE_DEVICE);
	if (PageDevmap(page))
		return;
	WRITE_ONCE(page->compound_head, 0);
	WRITE_ONCE(page->mapping, NULL);
	page->index = 0;
	page->private = 0;
	atomic_set(&page->_mapcount, -1);
	atomic_set(&page->_refcount, 0);
	page->pinmm_data = 0;
	WRITE_ONCE(page->flags, BIT(PG_devmap));
}

/**
 * dax_grab_frame() - take a reference to the device frame @pfn for a DAX
 * fault, making it the page of @mapping at @index.
 * @m: the machine.
 * @pfn: a ZONE_DEVICE pfn that holds the file block.
 * @mapping: the DAX file's address space.
 * @index: the page offset in the file.
 *
 * The only 0 -> 1 transition of a device frame.  @mapping/@index are
 * stored unconditionally: every racer stores the same values, because the
 * block cannot change owner while the caller holds dax_sem for reading.
 *
 * Context: the inode's dax_sem held (read or write).
 * Return: the folio, with one more reference.
 */
struct folio *dax_grab_frame(struct pinmm *m, unsigned long pfn, struct address_space *mapping,
			     pgoff_t index)
{
	struct page *page = pfn_to_page_m(m, pfn);
	struct folio *folio = (struct folio *)page;

	VM_BUG_ON(pfn_zone_idx(m, pfn) != ZONE_DEVICE);
	VM_BUG_ON_PAGE(!PageDevmap(page), page);	/* dax_frame_prepare() */
	if (atomic_fetch_add(&folio->_refcount, 1) == 0)
		mod_vm_stat(m, NR_DAX_BUSY, 1);
	WRITE_ONCE(folio->mapping, mapping);
	folio->index = index;
	return folio;
}

/**
 * dax_insert_folio() - map @folio at vmf->address with a devmap PTE
 * (Linux: vmf_insert_page_mkwrite() / insert_page_into_pte_locked() of
 * refcounted fsdax pages).
 * @vmf: the fault.
 * @folio: a device frame from dax_grab_frame(); its reference is consumed
 *         (kept by the new mapping, dropped when the PTE was already set).
 * @write: map it writable (and dirty) if the VMA allows.
 *
 * The entry is not special: vm_normal_page() and GUP find the struct page,
 * the mapping holds a reference and a mapcount like any file page.
 *
 * Context: mmap_lock held for reading; dax_sem held for reading.
 * Return: VM_FAULT_NOPAGE (the entry is in place, ours or a racer's), or
 * VM_FAULT_OOM.
 */
vm_fault_t dax_insert_folio(struct vm_fault *vmf, struct folio *folio, bool write)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	spinlock_t *ptl;
	pte_t *pte, entry;

	if (__pte_alloc(mm, vmf->pmd)) {
		folio_put(folio);
		return VM_FAULT_OOM;
	}
	entry = pte_mkdevmap(pte_mkyoung(pfn_pte(folio_pfn(folio), vma->vm_page_prot)));
	if (write)
		entry = maybe_mkwrite(pte_mkdirty(entry), vma);
	pte = pte_offset_map_lock(mm, vmf->pmd, vmf->address, &ptl);
	if (!pte) {
		folio_put(folio);
		return VM_FAULT_NOPAGE;
	}
	if (!pte_none(ptep_get(pte))) {
		pte_unmap_unlock(pte, ptl);
		folio_put(folio);
		return VM_FAULT_NOPAGE;
	}
	folio_add_file_rmap_pte(folio, &folio->page, vma);
	add_mm_counter(mm, MM_FILEPAGES, 1);
	set_pte(pte, entry);
	pte_unmap_unlock(pte, ptl);
	count_vm_event(mm->machine, DAX_FAULT);
	return VM_FAULT_NOPAGE;
}

/**
 * dax_deadline() - CLOCK_MONOTONIC now + @ms.
 * @ts: result.
 * @ms: milliseconds.
 *
 * Context: any.
 */
void dax_deadline(struct timespec *ts, uint64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static bool deadline_passed(const struct timespec *d)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > d->tv_sec || (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

/**
 * dax_frame_busy() - may a device still reach the block behind @folio?
 * @folio: a device frame.
 *
 * An idle frame (refcount 0) is not busy.  Neither is, under the lease
 * policy, a frame all of whose pins belong to revoked leases: they are
 * fenced (pinmm_dma_write() and pinmm_dma_read() refuse them), so the
 * file may let go of the frame at once - the DAX form of a truncated
 * page-cache folio that a revoked lease still pins.  Its block stays
 * allocated until the last unpin (free_zone_device_folio()), so no other
 * file gets it meanwhile.  Other references (a GUP reference, a pin outside the lease)
 * keep the frame busy.
 *
 * Context: any; stable only while no new reference can appear (the range
 * unmapped, dax_sem held for writing).
 * Return: true if the block must not be freed yet.
 */
bool dax_frame_busy(struct folio *folio)
{
	struct pinmm *m = folio_machine(folio);
	unsigned long fenced;

	if (!folio_ref_count_acquire(folio))
		return false;
	fenced = lease_fenced_pins(m, &folio->page);
	return !fenced || (unsigned long)folio_pincount_m(m, folio) > fenced;
}

/**
 * dax_wait_folio_idle() - wait until no device can reach the device frame
 * any more (dax_frame_busy(); Linux: ___wait_var_event(page refcount == 0),
 * killable there; here bounded by @deadline).
 * @folio: a device frame that is no longer mapped (so no new reference
 *         can appear: faults are excluded by dax_sem, GUP-fast finds no
 *         entry and folio_try_get() fails on 0).
 * @deadline: CLOCK_MONOTONIC time to give up at.
 *
 * Polls every 200 us; the unpinning thread does not wake anybody.
 *
 * Context: may sleep; dax_sem held for writing.
 * Return: 0 when idle (or fenced), -EBUSY at the deadline.
 */
int dax_wait_folio_idle(struct folio *folio, const struct timespec *deadline)
{
	const struct timespec tick = { 0, 200 * 1000 };

	while (dax_frame_busy(folio)) {
		if (deadline_passed(deadline))
			return -EBUSY;
		might_sleep();
		nanosleep(&tick, NULL);
	}
	return 0;
}

/**
 * dax_check_device_leaks() - device frames still referenced (shutdown).
 * @m: the machine, with every process gone and every filesystem unmounted.
 * @report: describe the first few busy frames on stderr.
 *
 * Device frames are never free in the buddy sense; a leak is a frame that
 * did not return to idle (refcount 0).  The count is NR_DAX_BUSY; only
 * with @report and a non-zero count is the memmap of the region read.
 *
 * Context: shutdown.
 * Return: the number of busy device frames.
 */
long dax_check_device_leaks(struct pinmm *m, bool report)
{
	struct zone *zone = &m->zones[ZONE_DEVICE];
	long busy = vm_stat_snapshot(m, NR_DAX_BUSY);
	int printed = 0;

	if (!busy || !report)
		return busy;
	fprintf(stderr, "pinmm: leak: zone device: %ld frames still referenced\n", busy);
	for (unsigned long pfn = zone->start_pfn; pfn < zone->end_pfn && printed < 8; pfn++) {
		struct page *page = pfn_to_page_m(m, pfn);

		if (!PageDevmap(page) || !page_ref_count(page))
			continue;
		fprintf(stderr, "pinmm: leak: pfn %#lx zone device:\n", pfn);
		dump_page(page, "busy DAX frame");
		printed++;
	}
	return busy;
}
