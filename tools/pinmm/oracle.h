/* SPDX-License-Identifier: MIT */
/*
 * oracle.h - the data-integrity oracle of `pinmm demo`: a shadow record of
 * every page the CPU, an O_DIRECT request or a pinned "device" wrote into
 * pinfs files, and a checker that reads the files back (after sync,
 * shutdown and a fresh boot on the same image) and reports lost, torn and
 * misplaced bytes.
 *
 * Every writer writes self-describing pages: each 8-byte word of a page
 * encodes (magic, writer kind, file id, page index, generation), so a word
 * found anywhere says where it was meant to go and how new it is.  The
 * shadow keeps, per file and page, the word the last acknowledged write
 * unit (a whole page) left there, the newest generation any write -- even
 * one not expected to persist -- put there, and a floor below which data
 * is stale (a truncate or hole punch zeroed the page).  doc/DEMO.md
 * defines the categories; oracle.c implements them.
 *
 * Thread-safe: writers on several threads may record concurrently.
 */
#ifndef PINMM_TOOL_ORACLE_H
#define PINMM_TOOL_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <pinmm/pinmm.h>

#define ORACLE_PAGE		4096UL
#define ORACLE_MAX_FILES	16

/* Writer kinds, as encoded in a word. */
enum oracle_kind {
	ORACLE_CPU = 1,		/* pwrite or stores through a mapping */
	ORACLE_DIO = 2,		/* O_DIRECT */
	ORACLE_DEVICE = 3,	/* a device (RDMA peer, pinmm_dma_write) */
};

/* oracle_wrote() flags */
#define ORACLE_DROPPED	0x1	/* the policy dropped it: not expected to persist */

/* Pass as pin_epoch for a write that pinned nothing (CPU, synchronous I/O). */
#define ORACLE_NOW	UINT64_MAX

/*
 * struct oracle_report - what the checker found.  Bytes are counted in
 * whole words (8 bytes).  A torn page may also have lost bytes.
 */
struct oracle_report {
	long files, pages, bytes;	/* checked */
	long lost_bytes, lost_pages;	/* older, stale or zero where newer was acked */
	long torn_pages, torn_bytes;	/* one page, words of different write units */
	long misplaced_bytes, misplaced_pages;	/* another file/page, or never written here */
	long unexpected_bytes;		/* writes not expected to persist that did */
	long orphan_writes, orphan_bytes;	/* acknowledged writes into orphaned pages */
	long read_errors;		/* files that could not be read */
	int nproblems;
	char problems[4][224];		/* the first few, for humans */
};

struct oracle;

struct oracle *oracle_new(void);
void oracle_free(struct oracle *o);

/* Register a file (its path on the machine); returns its file id (>= 1) or -ENOSPC. */
int oracle_add_file(struct oracle *o, const char *path);
/* Page @page of @fid holds data describing (@tag_fid, @tag_page) (a staging file). */
void oracle_set_tag(struct oracle *o, int fid, unsigned long page, int tag_fid,
		    unsigned long tag_page);

/* A new generation for one write unit (global, increasing from 1). */
uint32_t oracle_next_gen(struct oracle *o);
/* The layout epoch now: pass it as the pin epoch of a pin taken now. */
uint64_t oracle_epoch(struct oracle *o);

/* Encode one word; fill @len bytes of @buf with it. */
uint64_t oracle_word(enum oracle_kind kind, int fid, unsigned long page, uint32_t gen);
void oracle_fill(void *buf, size_t len, uint64_t word);
/* The word page @page of @fid should carry for a write of @kind and @gen. */
uint64_t oracle_word_for(struct oracle *o, int fid, unsigned long page,
			 enum oracle_kind kind, uint32_t gen);

/*
 * oracle_wrote() - a write of one whole page completed and was acknowledged.
 * @word: what was written (every word of the page).
 * @pin_epoch: oracle_epoch() when the writer got hold of the page (pinned
 *	it, registered it, faulted it); ORACLE_NOW when it pinned nothing.  A
 *	layout change (truncate, punch) of the page that ended after that
 *	epoch means the write went to a page the file no longer has: it is
 *	recorded as not expected to persist, and counted as an acknowledged
 *	write into an orphaned page (orphan_writes) unless ORACLE_DROPPED.
 * @flags: ORACLE_DROPPED.
 */
void oracle_wrote(struct oracle *o, int fid, unsigned long page, uint64_t word,
		  uint64_t pin_epoch, unsigned int flags);

/*
 * A layout change of @fid: pages [@first, @first + @n) are zeroed (punch)
 * or cut (truncate: @new_npages >= 0 is the new size in pages).  Call
 * oracle_layout_begin() right before the operation and oracle_layout_end()
 * right after it: writes recorded in between, or pinned before its end,
 * are not expected to persist in the range.  Growing a file is
 * oracle_layout_begin(o, fid, 0, 0, new_npages) alone.
 */
void oracle_layout_begin(struct oracle *o, int fid, unsigned long first, unsigned long n,
			 long new_npages);
void oracle_layout_end(struct oracle *o, int fid, unsigned long first, unsigned long n);

/* Expected size of @fid in pages. */
unsigned long oracle_npages(struct oracle *o, int fid);
const char *oracle_path(struct oracle *o, int fid);

/* Check @size bytes of @data as the contents of @fid (missing bytes read as zero). */
void oracle_check_buf(struct oracle *o, int fid, const void *data, size_t size,
		      struct oracle_report *r);
/* Read every registered file as @p with pinmm_pread() and check it. */
int oracle_check(struct oracle *o, struct pinmm_proc *p, struct oracle_report *r);

/* One-line summary; the problems, one per line, with @indent. */
void oracle_report_print(FILE *f, const struct oracle_report *r, const char *indent);

/* Synthetic states with known damage; 0 when every count is right. */
int oracle_selftest(FILE *out);

#endif /* PINMM_TOOL_ORACLE_H */
