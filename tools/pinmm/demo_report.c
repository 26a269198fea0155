/* SPDX-License-Identifier: MIT */
/*
 * demo_report.c - the output of `pinmm demo`: one table per case with the
 * policies as rows (legacy once per pinfs.dirty_no_blocks option), the JSON
 * form, and the verdicts --check asserts (the promises: legacy
 * shows Kara's failure, and data loss with an oops where the filesystem
 * BUGs; no other row loses promised data or misplaces any; a case that did
 * not run is never a PASS).  doc/DEMO.md reads it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "demo_table.h"
#include "json_out.h"
#include "tool.h"

const struct demo_row demo_rows[NR_ROWS] = {
	{ "legacy", "bug" }, { "legacy", "remap" }, { "linux", "remap" },
	{ "holdoff", "remap" }, { "bounce", "remap" }, { "lease", "remap" },
	{ "busyblocks", "remap" },
};
const char *const case_names[] = { "dio", "rdma", "odp" };
const char *const case_titles[] = {
	"(a) DIO reader: O_DIRECT read into a MAP_SHARED pinfs mapping (short-term pin)",
	"(b) RDMA writer: pinned MR over a MAP_SHARED pinfs mapping, peer writing (long-term pin)",
	"(c) ODP: on-demand MR (MMU notifier, no pin) over the same mapping, peer writing",
};

/*
 * The promises of the issue, per row and case:
 *  - a run that failed: FAIL;
 *  - a registration refused: never a PASS.  linux/rdma refused with
 *    -EFAULT is Linux 6.5's answer ("refused, as Linux does"); any other
 *    refusal means the promise was not tested: FAIL;
 *  - legacy/dio on a pinfs that BUGs (dirty_no_blocks=bug): Kara's
 *    failure, the oops and data loss in the oracle;
 *  - legacy/dio on a pinfs that maps again (remap): Kara's failure and
 *    nothing lost;
 *  - every other row, and ODP under legacy: no misplaced, lost or torn
 *    bytes in the oracle;
 *  - legacy/rdma: no promise (NONE, not printed);
 *  - and every image passes fsck.
 * @what gets the sentence (may be NULL).
 */
enum verdict { VERDICT_PASS, VERDICT_FAIL, VERDICT_REFUSED, VERDICT_NONE };
static const char *const verdict_names[] = { "PASS", "FAIL", "refused", "none" };

static enum verdict verdict(const struct dt_result *s, char *what, size_t len)
{
	const char *pol = demo_rows[s->row].policy, *nb = demo_rows[s->row].no_blocks;
	const char *cs = case_names[s->dcase];
	bool legacy = !strcmp(pol, "legacy"), ok;
	char buf[200], label[32];

	if (!what) {
		what = buf;
		len = sizeof(buf);
	}
	/* legacy runs once per mount option: name it */
	snprintf(label, sizeof(label), "%s%s%s", pol, legacy ? "+" : "", legacy ? nb : "");
	pol = label;
	if (s->error) {
		snprintf(what, len, "%s/%s: the run failed at %s (%s)", pol, cs, s->errwhat,
			 pinmm_strerror(s->error));
		return VERDICT_FAIL;
	}
	if (s->refused) {
		bool linux_rule = !strcmp(demo_rows[s->row].policy, "linux") &&
				  s->refused == -EFAULT;

		snprintf(what, len, "%s/%s: registration refused (-%s)%s", pol, cs,
			 pinmm_strerror(s->refused), linux_rule ?
			 ": the writable long-term pin of a shared file mapping (6.5); nothing ran" :
			 ": the case did not run, its promise is untested");
		return linux_rule ? VERDICT_REFUSED : VERDICT_FAIL;
	}
	if (legacy && s->dcase == C_DIO && !strcmp(nb, "bug")) {
		ok = s->no_blocks > 0 && s->oops > 0 && s->rep.lost_bytes > 0;
		snprintf(what, len, "%s/dio: Kara's failure (pinned_dirty_no_blocks %ld), the oops "
			 "(%ld) and data loss (oracle: %ld B lost) [reclaim windows missed and "
			 "rerun: %ld]", pol, s->no_blocks, s->oops, s->rep.lost_bytes,
			 s->missed_windows);
	} else if (legacy && s->dcase == C_DIO) {
		ok = s->no_blocks > 0 && !s->oops && !s->rep.misplaced_bytes &&
		     !s->rep.lost_bytes && !s->rep.torn_pages;
		snprintf(what, len, "%s/dio: Kara's failure (pinned_dirty_no_blocks %ld), "
			 "no oops (%ld), nothing lost (%ld B), misplaced (%ld B) or torn (%ld)"
			 " [reclaim windows missed and rerun: %ld]", pol,
			 s->no_blocks, s->oops, s->rep.lost_bytes, s->rep.misplaced_bytes,
			 s->rep.torn_pages, s->missed_windows);
	} else if (!legacy || s->dcase == C_ODP) {
		ok = !s->rep.misplaced_bytes && !s->rep.lost_bytes && !s->rep.torn_pages;
		snprintf(what, len, "%s/%s: no misplaced (%ld B), lost (%ld B) or torn (%ld pages) "
			 "bytes", pol, cs, s->rep.misplaced_bytes, s->rep.lost_bytes,
			 s->rep.torn_pages);
	} else {
		return VERDICT_NONE;	/* legacy/rdma: no promise */
	}
	if (ok && s->fsck != 0) {
		ok = false;
		snprintf(what, len, "%s/%s: fsck of the image after the run: %d", pol, cs, s->fsck);
	}
	return ok ? VERDICT_PASS : VERDICT_FAIL;
}

static const char *outcome(const struct dt_result *s, char *buf, size_t len)
{
	if (s->error)
		snprintf(buf, len, "ERROR %s", pinmm_strerror(s->error));
	else if (s->refused)
		snprintf(buf, len, "refused (-%s)", pinmm_strerror(s->refused));
	else if (s->rep.misplaced_bytes)
		snprintf(buf, len, "MISPLACED");
	else if (s->rep.lost_bytes || s->rep.torn_pages)
		snprintf(buf, len, "DATA LOSS%s", s->oops ? ", oops" : "");
	else if (s->oops)
		snprintf(buf, len, "intact, oops");
	else
		snprintf(buf, len, "intact");
	return buf;
}

void demo_print_table(const struct dt_opts *opt, const struct dt_result *res, int dcase)
{
	static const char *extra[] = { "DIOs", "writes", "faults/inval" };
	char o[40], x[32], lease[24];

	printf("\n%s\n", case_titles[dcase]);
	printf("  %-10s %-6s %-18s %7s %5s %9s %6s %7s %4s %4s %5s %6s %6s %7s %9s %4s %6s %12s "
	       "%5s\n", "policy", "noblk", "outcome", "lost B", "torn", "misplaced", "orphW",
	       "lost B", "nobk", "oops", "tornW", "stall", "maxop", "bounce", "lease", "busy",
	       "MB/s", extra[dcase], "fsck");
	printf("  %-10s %-6s %-18s %7s %5s %9s %6s %7s %4s %4s %5s %6s %6s %7s %9s %4s %6s %12s "
	       "%5s\n", "", "wb", "", "oracle", "pages", "B", "acked", "vmstat", "", "", "(wb)",
	       "ms", "ms", "KiB", "brk/rev/fn", "", "", "", "");
	for (int pi = 0; pi < NR_ROWS; pi++) {
		const struct dt_result *s = &res[pi * NR_CASES + dcase];

		if (!s->ran)
			continue;
		if (dcase == C_ODP)
			snprintf(x, sizeof(x), "%ld/%ld", s->odp_faults, s->odp_inval);
		else
			snprintf(x, sizeof(x), "%ld", s->dev_writes);
		snprintf(lease, sizeof(lease), "%ld/%ld/%ld", s->breaks, s->revocations, s->fenced);
		printf("  %-10s %-6s %-18s %7ld %5ld %9ld %6ld %7ld %4ld %4ld %5ld %6.0f %6.0f %7ld "
		       "%9s %4ld %6.2f %12s %5s\n", demo_rows[pi].policy, demo_rows[pi].no_blocks,
		       outcome(s, o, sizeof(o)), s->rep.lost_bytes, s->rep.torn_pages,
		       s->rep.misplaced_bytes, s->rep.orphan_writes, s->ctr_lost, s->no_blocks,
		       s->oops, s->torn_writes, s->stall_ns / 1e6, s->max_op_ms,
		       s->bounce_bytes / 1024, lease, s->busy_released,
		       s->seconds > 0 ? s->dev_bytes / s->seconds / 1e6 : 0.0, x,
		       s->fsck == 0 ? "clean" : "BAD");
		if (s->note[0])
			printf("  %-10s   (%s)\n", "", s->note);
		if (s->error)
			printf("  %-10s   failed step: %s\n", "", s->errwhat);
		if (opt->verbose && s->rep.nproblems)
			oracle_report_print(stdout, &s->rep, "             ");
	}
}

/**
 * demo_json_traces() - obj["traces"]: the trace files of the machines
 * numbered @n[0..@count) by demo_trace (0: that machine did not boot).
 * @obj: a row of `pinmm demo --json`.
 * @n, @count: machine numbers (trace_files.c).
 *
 * Without --trace nothing is added.
 * Context: the demo's output, after the runs.
 */
void demo_json_traces(struct json_object *obj, const int *n, int count)
{
	struct json_object *arr;
	char path[PINMM_PATH_MAX];

	if (!demo_trace.base)
		return;
	arr = json_object_new_array();
	for (int i = 0; i < count; i++)
		if (n[i] && !trace_file_name(demo_trace.base, n[i], path, sizeof(path)))
			json_object_array_add(arr, json_object_new_string(path));
	jset(obj, "traces", arr);
}

/**
 * demo_print_traces() - under --trace, say which files the machines wrote.
 *
 * Context: the demo's text output, at the end.
 */
void demo_print_traces(void)
{
	char last[PINMM_PATH_MAX];

	if (!demo_trace.base || !demo_trace.boots ||
	    trace_file_name(demo_trace.base, demo_trace.boots, last, sizeof(last)))
		return;
	printf("\nTraces (Trace Event Format, doc/TRACING.md): %d machine%s, %s%s%s, in boot "
	       "order:\neach run of the tables, then its remount; then the rows of (d).\n",
	       demo_trace.boots, demo_trace.boots == 1 ? "" : "s", demo_trace.base,
	       demo_trace.boots > 1 ? " to " : "", demo_trace.boots > 1 ? last : "");
}

void demo_print_json(const struct dt_result *res, int n, const struct demo_lease *lease)
{
	struct json_object *rows = json_object_new_array();
	char o[40];

	for (int i = 0; i < n; i++) {
		const struct dt_result *s = &res[i];
		struct json_object *r;

		if (!s->ran)
			continue;
		r = json_object_new_object();
		jset_str(r, "policy", demo_rows[s->row].policy);
		jset_str(r, "dirty_no_blocks", demo_rows[s->row].no_blocks);
		jset_str(r, "case", case_names[s->dcase]);
		jset_str(r, "outcome", outcome(s, o, sizeof(o)));
		jset_str(r, "verdict", verdict_names[verdict(s, NULL, 0)]);
		jset_int(r, "refused", s->refused);
		jset_int(r, "error", s->error);
		jset_int(r, "lost_bytes", s->rep.lost_bytes);
		jset_int(r, "lost_pages", s->rep.lost_pages);
		jset_int(r, "torn_pages", s->rep.torn_pages);
		jset_int(r, "torn_bytes", s->rep.torn_bytes);
		jset_int(r, "misplaced_bytes", s->rep.misplaced_bytes);
		jset_int(r, "unexpected_bytes", s->rep.unexpected_bytes);
		jset_int(r, "orphan_writes", s->rep.orphan_writes);
		jset_int(r, "orphan_bytes", s->rep.orphan_bytes);
		jset_int(r, "pages_checked", s->rep.pages);
		jset_int(r, "oops", s->oops);
		jset_int(r, "ctr_lost_bytes", s->ctr_lost);
		jset_int(r, "pinned_dirty_no_blocks", s->no_blocks);
		jset_int(r, "torn_writes", s->torn_writes);
		jset_int(r, "torn_writes_bytes", s->torn_bytes);
		jset_int(r, "holdoff_stalls", s->stalls);
		jset_int(r, "holdoff_stall_ns", s->stall_ns);
		jset_int(r, "holdoff_timeouts", s->timeouts);
		jset(r, "max_op_ms", jnum(s->max_op_ms, "%.1f"));
		jset_int(r, "bounce_bytes", s->bounce_bytes);
		jset_int(r, "lease_breaks", s->breaks);
		jset_int(r, "lease_revocations", s->revocations);
		jset_int(r, "lease_fenced_writes", s->fenced);
		jset_int(r, "lease_fenced_bytes", s->fenced_bytes);
		jset_int(r, "busy_blocks", s->busy_now);
		jset_int(r, "busy_blocks_released", s->busy_released);
		jset_int(r, "device_bytes", s->dev_bytes);
		jset_int(r, "device_writes", s->dev_writes);
		jset_int(r, "device_dropped", s->dev_dropped);
		jset_int(r, "device_refused", s->dev_refused);
		jset_int(r, "odp_device_faults", s->odp_faults);
		jset_int(r, "odp_invalidations", s->odp_inval);
		jset(r, "seconds", jnum(s->seconds, "%.3f"));
		jset_int(r, "fsck", s->fsck);
		jset_int(r, "messages", s->messages);
		jset_int(r, "filler_pages", s->filler_pages);
		demo_json_traces(r, s->traces, 2);
		json_object_array_add(rows, r);
	}
	if (lease)	/* table (d): its rows, "case": "lease" */
		demo_lease_json_rows(lease, rows, true);
	json_print_rows(stdout, rows);
}

int demo_verdicts(const struct dt_result *res, bool print)
{
	int n[4] = { 0 };

	for (int i = 0; i < NR_ROWS * NR_CASES; i++) {
		const struct dt_result *s = &res[i];
		char what[200];
		enum verdict v;

		if (!s->ran)
			continue;
		v = verdict(s, what, sizeof(what));
		n[v]++;
		if (!print || v == VERDICT_NONE)
			continue;
		if (v == VERDICT_REFUSED)
			printf("  refused, as Linux does: %s\n", what);
		else
			printf("  %s %s\n", verdict_names[v], what);
	}
	if (print)
		printf("  (%d PASS, %d FAIL, %d refused as Linux does, %d without a promise)\n",
		       n[VERDICT_PASS], n[VERDICT_FAIL], n[VERDICT_REFUSED], n[VERDICT_NONE]);
	return n[VERDICT_FAIL];
}
