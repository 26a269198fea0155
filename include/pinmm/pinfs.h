/* SPDX-License-Identifier: MIT */
/*
 * <pinmm/pinfs.h> - pinfs, the block filesystem mounted at /data/ when the
 * configuration key pinfs.image names a host image file: its counters,
 * fault injection for the image I/O, and the image checker behind
 * `pinmm fsck` (doc/PINFS.md).
 */
#ifndef PINMM_PINFS_PUBLIC_H
#define PINMM_PINFS_PUBLIC_H

#include <stdbool.h>
#include <stdio.h>
#include <pinmm/pinmm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Event counters of a mounted pinfs (struct pinmm_pinfs_stat.events[]). */
enum pinmm_pinfs_stat_item {
	PINMM_PINFS_READS,		/* blocks read from the image */
	PINMM_PINFS_WRITES,		/* blocks written to the image */
	PINMM_PINFS_IO_ERRORS,		/* image operations that failed */
	PINMM_PINFS_WRITEBACK,		/* folios written back */
	PINMM_PINFS_WB_ERRORS,		/* folios whose writeback failed (kept dirty) */
	PINMM_PINFS_MKWRITE,		/* page_mkwrite calls */
	PINMM_PINFS_MKWRITE_ALLOC,	/* ... that allocated a block for a hole */
	PINMM_PINFS_DIRTY_NO_PRIVATE,	/* folio dirtied without its block mapping */
	PINMM_PINFS_PRIVATE_ATTACH,	/* block mappings attached to folios */
	PINMM_PINFS_PRIVATE_RELEASE,	/* ... stripped by reclaim / invalidation */
	PINMM_PINFS_NR_STATS
};

/*
 * struct pinmm_pinfs_stat - what statfs(2) would say, plus the counters.
 */
struct pinmm_pinfs_stat {
	uint64_t block_size;
	uint64_t blocks;		/* in the image */
	uint64_t free_blocks;
	uint64_t data_blocks;		/* blocks usable for data (after metadata) */
	uint64_t inodes;
	uint64_t free_inodes;
	long events[PINMM_PINFS_NR_STATS];
};

/**
 * pinmm_pinfs_statfs() - sizes and counters of the pinfs mounted at /data/.
 * @m: the machine.
 * @st: filled with the sizes and the event counters.
 *
 * Context: any thread; a snapshot.
 * Return: 0; -ENOENT when no pinfs is mounted; -EINVAL for NULL.
 */
PINMM_API int pinmm_pinfs_statfs(struct pinmm *m, struct pinmm_pinfs_stat *st);

/**
 * pinmm_pinfs_inject() - make image I/O fail with EIO.
 * @op: "read", "write" or "any".
 * @after: this many further operations of that kind succeed first.
 * @m: the machine.
 * @nr: then this many fail; -1 until the next call; 0 clears the fault.
 *
 * Context: any thread; affects every thread's image I/O from the next one.
 * Return: 0; -ENOENT (no pinfs), -EINVAL.
 */
PINMM_API int pinmm_pinfs_inject(struct pinmm *m, const char *op, long after, long nr);

/**
 * pinfs_check_image() - check (and with @repair fix) a pinfs image file.
 * @path: the image.
 * @repair: fix what can be fixed: clear bad pointers, free orphans,
 *	rebuild the bitmap and counters, mark the image clean.
 * @report: one line per problem, or NULL for silence.
 *
 * Cost is bounded by the image: an image smaller than its super block says
 * is refused (-EUCLEAN) before anything is sized by the super block, and
 * a repair never grows the file.
 *
 * Context: any thread, no machine needed; the image must not be mounted.
 * Return: 0 clean; the number of problems found (> 0; with @repair they
 * were fixed); -EUCLEAN when the file is not a usable pinfs image (bad
 * magic or layout, or smaller than its super block says); -ENOMEM;
 * -errno when it cannot be opened or read.
 */
PINMM_API int pinfs_check_image(const char *path, bool repair, FILE *report);

#ifdef __cplusplus
}
#endif

#endif /* PINMM_PINFS_PUBLIC_H */
