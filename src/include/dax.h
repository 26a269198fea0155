/* SPDX-License-Identifier: MIT */
/*
 * dax.h - fsdax frames: the struct pages of the ZONE_DEVICE (pmem) region
 * used directly as file pages by pinfs in DAX mode (/dax/), with no page
 * cache (mm/dax.c owns the frame side, fs/pinfs/dax.c the filesystem side).
 *
 * Life of a device frame (Linux 6.15+ "properly refcounted fsdax pages"):
 *   idle     refcount 0, PG_devmap, not in any allocator.  @mapping/@index
 *            still name the file block the frame holds (or NULL).
 *   busy     refcount > 0: one reference per PTE mapping (with a mapcount,
 *            like any file page), plus GUP references and pins.
 * Only the DAX fault takes a frame from idle to busy (dax_grab_frame(),
 * under the inode's dax_sem held for reading); the final folio_put() makes
 * it idle again through free_zone_device_folio(), never the buddy
 * allocator.  A frame's @mapping/@index change only while no one can grab
 * it: at the fault that grabs it (same values for every racer) or with
 * dax_sem held for writing and the frame not busy (dax_frame_busy(): idle,
 * or pinned only by revoked layout leases, whose device writes are fenced)
 * or pinned and being disowned at eviction.
 */
#ifndef PINMM_DAX_H
#define PINMM_DAX_H

#include <time.h>
#include "mm.h"

struct address_space;

/* Is @folio a ZONE_DEVICE frame (pfn range; never a large folio)? */
static inline bool folio_is_zone_device(const struct folio *folio)
{
	struct pinmm *m = folio_machine(folio);

	return pfn_zone_idx(m, folio_pfn(folio)) == ZONE_DEVICE;
}

/* An fsdax file page: a device frame that DAX has handed out. */
static inline bool folio_is_fsdax(const struct folio *folio)
{
	return folio_is_zone_device(folio) && folio_test_Devmap(folio);
}

/*
 * May FOLL_LONGTERM pins of fsdax pages exist?  Only under the lease
 * policy, and then only pins taken under a lease (pin_policy.c).
 */
static inline bool dax_longterm_pin_allowed(const struct pinmm *m)
{
	return m->cfg.fs_policy == PINMM_FS_LEASE;
}

/* mm/dax.c */
void free_zone_device_folio(struct folio *folio);
void dax_frame_prepare(struct pinmm *m, unsigned long pfn);
struct folio *dax_grab_frame(struct pinmm *m, unsigned long pfn,
			     struct address_space *mapping, pgoff_t index);
vm_fault_t dax_insert_folio(struct vm_fault *vmf, struct folio *folio, bool write);
void dax_deadline(struct timespec *ts, uint64_t ms);
bool dax_frame_busy(struct folio *folio);
int dax_wait_folio_idle(struct folio *folio, const struct timespec *deadline);
long dax_check_device_leaks(struct pinmm *m, bool report);

#endif /* PINMM_DAX_H */
