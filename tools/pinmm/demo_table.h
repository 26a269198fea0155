/* SPDX-License-Identifier: MIT */
/*
 * demo_table.h - what the demo's workload (demo_table.c) and its report
 * (demo_report.c) share: the geometry of the victim file, the cases, the
 * rows (a policy and a pinfs mount option), and one result per row x case.
 */
#ifndef PINMM_DEMO_TABLE_H
#define PINMM_DEMO_TABLE_H

#include <stdbool.h>
#include "oracle.h"

#define PG	4096UL
#define NPG	8UL		/* victim file: pages [0, NC) CPU, [NC, NPG) device */
#define NC	2UL
#define ND	(NPG - NC)
#define CUT	(NPG - 2)	/* truncate cuts [CUT, NPG) */
#define SLACK	96		/* free blocks left by the ballast file */

enum dcase { C_DIO, C_RDMA, C_ODP, NR_CASES };
enum event { E_WRITEBACK, E_RECLAIM, E_PUNCH, E_TRUNCATE, NR_EVENTS };

/*
 * A row of the tables: fs.pinned_policy and the pinfs mount option
 * pinfs.dirty_no_blocks (what writeback does with a dirty page that lost
 * its blocks: doc/PINFS.md).  legacy runs with both options.
 */
struct demo_row {
	const char *policy, *no_blocks;
};
extern const struct demo_row demo_rows[];
#define NR_ROWS 7
extern const char *const case_names[];
extern const char *const case_titles[];

/*
 * demo_trace - the trace files of `pinmm demo --trace FILE`: every machine
 * the demo boots (each run and its remount, then the rows of (d)) gets
 * trace_files_next() before pinmm_boot().  base NULL: no trace.
 */
struct trace_files;
extern struct trace_files demo_trace;

struct dt_opts {
	bool json, quick, check, verbose;
	const char *policy, *dcase;
	const char *html;		/* --html FILE */
	int iters;
};

struct dt_result {
	int row, dcase;
	bool ran;
	int refused;			/* registration refused: its errno */
	int error;			/* a step failed: its errno */
	char errwhat[96];
	char note[64];
	struct oracle_report rep;
	long ctr_lost, no_blocks, oops, torn_writes, torn_bytes, stalls, stall_ns, timeouts;
	long bounce_bytes, breaks, revocations, fenced, fenced_bytes, busy_now, busy_released;
	long dev_bytes, dev_writes, dev_dropped, dev_refused, odp_faults, odp_inval;
	double seconds, max_op_ms;
	int fsck;
	long messages;			/* lines the library printed on stderr */
	long missed_windows;		/* DIO iterations run again: the event missed the DIO */
	long filler_pages;		/* pages the filler wrote into freed blocks */
	int traces[2];			/* --trace: its machines' numbers (run, remount), 0 none */
};

/* demo_lease.c: table (d), the layout-lease outcomes (free() the results). */
struct demo_lease;
struct demo_lease *demo_lease_run(bool quick);
void demo_lease_print(const struct demo_lease *d);
struct json_object;
void demo_lease_json_rows(const struct demo_lease *d, struct json_object *rows, bool with_case);
/* Its verdicts; returns the rows whose promise does not hold. */
int demo_lease_verdicts(const struct demo_lease *d, bool print);

/* demo_report.c */
/* obj["traces"] = the files of machines @n[0..count) of demo_trace (0: none); not without --trace. */
void demo_json_traces(struct json_object *obj, const int *n, int count);
void demo_print_traces(void);
void demo_print_table(const struct dt_opts *opt, const struct dt_result *res, int dcase);
void demo_print_json(const struct dt_result *res, int n, const struct demo_lease *lease);
/* html_demo.c: the tables with bar charts as one HTML page, (d) too when @dl; 0 or -errno. */
int demo_write_html(const char *path, const struct dt_result *res, int iters,
		    const struct demo_lease *dl);
/* Verdicts; returns the failed ones (a refusal Linux makes is not one). */
int demo_verdicts(const struct dt_result *res, bool print);

#endif /* PINMM_DEMO_TABLE_H */
