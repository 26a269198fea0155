/* SPDX-License-Identifier: MIT */
/*
 * writeback.h - writing dirty page-cache folios back to their filesystem
 * (page-writeback.c) and reclaiming clean ones (vmscan.c).
 *
 * The filesystems that write back register their super block here
 * (wb_register_sb()); that list is what pinmm_sync(), pinmm_reclaim() and
 * pinmm_drop_caches() walk, and each registration may own a periodic
 * flusher thread (config writeback.interval_ms).
 */
#ifndef PINMM_WRITEBACK_H
#define PINMM_WRITEBACK_H

#include "pagemap.h"

/* mapping->flags: a writeback error not yet reported (Linux's AS_EIO). */
#define AS_EIO		3
#define AS_ENOSPC	4

enum writeback_sync_modes {
	WB_SYNC_NONE,	/* background: skip busy folios */
	WB_SYNC_ALL,	/* data integrity (fsync, sync, unmount): wait for each */
};

/*
 * struct writeback_control - one writeback pass.
 * @sync_mode: WB_SYNC_NONE or WB_SYNC_ALL.
 * @nr_written: folios written (out).
 * @nr_failed: folios whose ->writepage failed; they stay dirty (out).
 * @nr_skipped: folios writeback_folio_may_skip() kept back (out).
 * @bounce: set by writeback_folio() for the duration of one ->writepage:
 *	write these bytes (a stable copy of the folio, bounce policy) instead
 *	of the folio's own.
 */
struct writeback_control {
	enum writeback_sync_modes sync_mode;
	long nr_written;
	long nr_failed;
	long nr_skipped;
	const void *bounce;
};

/* page-writeback.c */
int writeback_folio(struct folio *folio, struct writeback_control *wbc);
int filemap_writeback_range(struct address_space *mapping, pgoff_t start, pgoff_t end,
			    struct writeback_control *wbc);
int filemap_write_and_wait(struct address_space *mapping);
int filemap_check_errors(struct address_space *mapping);
void mapping_set_error(struct address_space *mapping, int err);
int wb_register_sb(struct super_block *sb, unsigned long interval_ms);
void wb_unregister_sb(struct super_block *sb);
/* Call @fn for every registered super block of @m (registry lock held). */
int wb_for_each_sb(struct pinmm *m, int (*fn)(struct super_block *sb, void *arg), void *arg);
/* Call @fn for each live inode of @sb, holding a reference across the call. */
int sb_for_each_inode(struct super_block *sb, int (*fn)(struct inode *inode, void *arg),
		      void *arg);

/* vmscan.c */
#define RECLAIM_UNMAP	0x1u	/* try_to_unmap() mapped clean folios */
long shrink_mapping(struct address_space *mapping, long nr_to_scan, unsigned int flags);

#endif /* PINMM_WRITEBACK_H */
