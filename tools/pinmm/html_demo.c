/* SPDX-License-Identifier: MIT */
/*
 * html_demo.c - `pinmm demo --html FILE`: the policy tables of the demo as
 * one self-contained page, with a bar chart per case and measure - stall,
 * lost and misplaced bytes, device throughput - one bar per policy row;
 * then table (d), the layout-lease outcomes, with charts of the truncate's
 * stall, misplaced and lost bytes and the peer's bytes after the truncate,
 * one bar per mount and outcome.
 *
 * Every figure comes from the struct dt_result the demo filled while it
 * ran (demo_table.c) and, for (d), from the rows demo_lease_json_rows()
 * gives (demo_lease.c): the same numbers the text tables print
 * (demo_report.c, demo_lease_print()), nothing measured again.  Bars are inline SVG scaled to
 * the largest value of their chart; a chart whose values are all zero
 * says so instead of drawing empty bars.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "demo_table.h"
#include "json_out.h"
#include "report.h"

#define BAR_W		200	/* pixels for the largest bar */
#define BAR_H		16
#define BAR_LEFT	130

struct measure {
	const char *id, *title, *unit;
	double (*get)(const struct dt_result *r);
};

static double m_stall(const struct dt_result *r) { return r->stall_ns / 1e6; }
static double m_lost(const struct dt_result *r) { return (double)r->rep.lost_bytes; }
static double m_misplaced(const struct dt_result *r) { return (double)r->rep.misplaced_bytes; }
static double m_mbps(const struct dt_result *r)
{
	return r->seconds > 0 ? r->dev_bytes / r->seconds / 1e6 : 0.0;
}

static const struct measure measures[] = {
	{ "stall", "writeback stall", "ms", m_stall },
	{ "lost", "lost bytes (oracle)", "B", m_lost },
	{ "misplaced", "misplaced bytes (oracle)", "B", m_misplaced },
	{ "throughput", "device throughput", "MB/s", m_mbps },
};

static const char *row_label(int row, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", demo_rows[row].policy,
		 !strcmp(demo_rows[row].policy, "legacy") ? "+" : "",
		 !strcmp(demo_rows[row].policy, "legacy") ? demo_rows[row].no_blocks : "");
	return buf;
}

/*
 * One bar chart: @n bars, @labels[i] and @values[i] (in @unit), scaled to
 * the largest; id "chart-@id".  A chart whose values are all zero says so.
 */
static void bar_chart(FILE *f, const char *id, const char *caption, const char *unit,
		      char (*labels)[48], const double *values, int n)
{
	double max = 0;
	int y = 2;

	for (int i = 0; i < n; i++)
		max = values[i] > max ? values[i] : max;
	fputs("<figure class=\"chart\"><figcaption>", f);
	html_escape(f, caption);
	fprintf(f, " (%s)</figcaption>\n", unit);
	if (max <= 0)
		fprintf(f, "<p class=\"chart-zero\">0 for every row</p>\n");
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"bar-chart\" "
		"id=\"chart-%s\" width=\"%d\" height=\"%d\"><style>text{font:11px monospace}"
		".bar{fill:#4292c6}.bar.zero{fill:#ccc}</style>\n", id, BAR_LEFT + BAR_W + 90,
		n * (BAR_H + 4) + 4);
	for (int i = 0; i < n; i++) {
		double v = values[i], w = max > 0 ? v / max * BAR_W : 0;

		fputs("<text x=\"2\" y=\"", f);
		fprintf(f, "%d\">", y + 12);
		html_escape(f, labels[i]);
		fprintf(f, "</text><rect class=\"bar%s\" x=\"%d\" y=\"%d\" width=\"%.1f\" "
			"height=\"%d\"><title>", v > 0 ? "" : " zero", BAR_LEFT, y, w < 1 ? 1 : w,
			BAR_H);
		html_escape(f, labels[i]);
		fprintf(f, ": %.2f %s</title></rect>", v, unit);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\">%.*f</text>\n", BAR_LEFT + (w < 1 ? 1 : w) + 4,
			y + 12, v == (long)v ? 0 : 2, v);
		y += BAR_H + 4;
	}
	fputs("</svg></figure>\n", f);
}

/* The chart of measure @m in case @dcase: one bar per row that ran. */
static void chart(FILE *f, const struct dt_result *res, int dcase, const struct measure *m)
{
	char labels[NR_ROWS][48], id[64], caption[96];
	double values[NR_ROWS];
	int n = 0;

	for (int row = 0; row < NR_ROWS; row++) {
		const struct dt_result *r = &res[row * NR_CASES + dcase];

		if (!r->ran)
			continue;
		row_label(row, labels[n], sizeof(labels[n]));
		values[n++] = m->get(r);
	}
	snprintf(id, sizeof(id), "%s-%s", m->id, case_names[dcase]);
	snprintf(caption, sizeof(caption), "%s: %s", case_names[dcase], m->title);
	bar_chart(f, id, caption, m->unit, labels, values, n);
}

static const char *outcome(const struct dt_result *s)
{
	if (s->error)
		return "error";
	if (s->refused)
		return "refused";
	if (s->rep.misplaced_bytes)
		return "MISPLACED";
	if (s->rep.lost_bytes || s->rep.torn_pages)
		return "DATA LOSS";
	return "intact";
}

static void table(FILE *f, const struct dt_result *res, int dcase)
{
	char label[48];

	fprintf(f, "<table class=\"policy-table\" id=\"policy-table-%s\">\n<tr><th>policy</th>"
		"<th>outcome</th><th>lost B</th><th>torn pages</th><th>misplaced B</th>"
		"<th>stall ms</th><th>max op ms</th><th>bounce KiB</th><th>MB/s</th>"
		"<th>seconds</th></tr>\n", case_names[dcase]);
	for (int row = 0; row < NR_ROWS; row++) {
		const struct dt_result *r = &res[row * NR_CASES + dcase];

		if (!r->ran)
			continue;
		fprintf(f, "<tr><td>%s</td><td>%s</td><td class=\"num\">%ld</td><td class=\"num\">"
			"%ld</td><td class=\"num\">%ld</td><td class=\"num\">%.0f</td><td class=\"num\">"
			"%.0f</td><td class=\"num\">%ld</td><td class=\"num\">%.2f</td>"
			"<td class=\"num\">%.2f</td></tr>\n", row_label(row, label, sizeof(label)),
			outcome(r), r->rep.lost_bytes, r->rep.torn_pages, r->rep.misplaced_bytes,
			m_stall(r), r->max_op_ms, r->bounce_bytes / 1024, m_mbps(r), r->seconds);
	}
	fputs("</table>\n", f);
}

/* ---- table (d): the layout-lease outcomes (demo_lease.c) ------------------------ */

static const char *jstr_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

static double jnum_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : 0;
}

/* Columns of table (d): the key of demo_lease_json_rows() and the heading. */
static const struct { const char *key, *head; } lease_cols[] = {
	{ "truncate", "truncate" }, { "stall_ms", "stall ms" }, { "etxtbsy", "ETXTBSY" },
	{ "revoked_mrs", "revoked MRs" }, { "remote_access_errors", "rem. acc. err" },
	{ "fenced_writes", "fenced" }, { "bytes_after", "B after" },
	{ "misplaced", "misplaced B" }, { "lost", "lost B" },
	{ "lease_breaks", "breaks" }, { "odp_invalidations", "inval" },
};

/* Charts of table (d): one bar per row (mount and outcome). */
static const struct { const char *key, *id, *title, *unit; } lease_charts[] = {
	{ "stall_ms", "stall-lease", "lease: truncate stall", "ms" },
	{ "misplaced", "misplaced-lease", "lease: misplaced bytes (oracle)", "B" },
	{ "lost", "lost-lease", "lease: lost bytes (last acknowledged write)", "B" },
	{ "bytes_after", "after-lease", "lease: peer bytes counted after the truncate", "B" },
};

#define LEASE_MAX_ROWS 16

/*
 * Table (d) with its charts, from the rows demo_lease_json_rows() gives:
 * the figures the text table prints, each row with its verdict.
 */
static void lease_section(FILE *f, const struct demo_lease *dl)
{
	struct json_object *rows = json_object_new_array();
	char labels[LEASE_MAX_ROWS][48];
	double values[LEASE_MAX_ROWS];
	int n;

	demo_lease_json_rows(dl, rows, false);
	n = (int)json_object_array_length(rows);
	if (n > LEASE_MAX_ROWS)
		n = LEASE_MAX_ROWS;
	fputs("<h2>(d) Layout leases (fs.pinned_policy=lease): an RDMA MR registered through a "
	      "lease, a peer writing in a loop, truncate to 0</h2>\n<table class=\"policy-table\" "
	      "id=\"policy-table-lease\">\n<tr><th>mount</th><th>outcome</th>", f);
	for (size_t k = 0; k < ARRAY_SIZE(lease_cols); k++)
		fprintf(f, "<th>%s</th>", lease_cols[k].head);
	fputs("<th>verdict</th></tr>\n", f);
	for (int i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(rows, i);

		snprintf(labels[i], sizeof(labels[i]), "%s %s", jstr_of(r, "mount"),
			 jstr_of(r, "outcome"));
		fputs("<tr><td>", f);
		html_escape(f, jstr_of(r, "mount"));
		fputs("</td><td>", f);
		html_escape(f, jstr_of(r, "outcome"));
		fputs("</td>", f);
		if (jstr_of(r, "error")[0]) {
			fprintf(f, "<td colspan=\"%zu\">failed: ", ARRAY_SIZE(lease_cols));
			html_escape(f, jstr_of(r, "error"));
			fputs("</td>", f);
		} else {
			for (size_t k = 0; k < ARRAY_SIZE(lease_cols); k++) {
				fputs("<td class=\"num\">", f);
				html_escape(f, jstr_of(r, lease_cols[k].key));
				fputs("</td>", f);
			}
		}
		fprintf(f, "<td>%s</td></tr>\n", jstr_of(r, "verdict"));
	}
	fputs("</table>\n<div class=\"chart-row\">\n", f);
	for (size_t k = 0; k < ARRAY_SIZE(lease_charts); k++) {
		for (int i = 0; i < n; i++)
			values[i] = jnum_of(json_object_array_get_idx(rows, i), lease_charts[k].key);
		bar_chart(f, lease_charts[k].id, lease_charts[k].title, lease_charts[k].unit,
			  labels, values, n);
	}
	fputs("</div>\n", f);
	json_object_put(rows);
}

/**
 * demo_write_html() - the demo's results as a self-contained HTML page.
 * @path: the file to write.
 * @res: NR_ROWS * NR_CASES results, row-major; rows that did not run
 *	(ran false) are left out; NULL when only table (d) ran.
 * @iters: iterations per run, for the heading.
 * @dl: the results of table (d), or NULL when it did not run.
 *
 * Context: after the demo ran; writes @path only.
 * Return: 0, or a negative errno when @path cannot be written.
 */
int demo_write_html(const char *path, const struct dt_result *res, int iters,
		    const struct demo_lease *dl)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -errno;
	html_begin(f, "pinmm demo: what does the filesystem do with a pinned page?");
	fprintf(f, "<p>Each row is one run of the case under a fs.pinned_policy (%d iterations "
		"a run); the figures are the ones the demo measured and printed "
		"(doc/DEMO.md explains each).</p>\n<section id=\"policy-table\">\n", iters);
	for (int c = 0; res && c < NR_CASES; c++) {
		bool any = false;

		for (int row = 0; row < NR_ROWS; row++)
			any |= res[row * NR_CASES + c].ran;
		if (!any)
			continue;
		fprintf(f, "<h2>");
		html_escape(f, case_titles[c]);
		fputs("</h2>\n", f);
		table(f, res, c);
		fputs("<div class=\"chart-row\">\n", f);
		for (size_t k = 0; k < ARRAY_SIZE(measures); k++)
			chart(f, res, c, &measures[k]);
		fputs("</div>\n", f);
	}
	if (dl)
		lease_section(f, dl);
	fputs("</section>\n", f);
	html_end(f);
	rc = ferror(f) ? -EIO : 0;
	if (fclose(f))
		rc = -EIO;
	return rc;
}
