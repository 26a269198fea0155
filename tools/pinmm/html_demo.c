/* SPDX-License-Identifier: MIT */
/*
 * html_demo.c - `pinmm demo --html FILE`: the policy table of the demo as
 * one self-contained page, with a bar chart per case and measure - stall,
 * lost and misplaced bytes, device throughput - one bar per policy row.
 *
 * Every figure comes from the struct dt_result the demo filled while it
 * ran (demo_table.c): the same numbers the text table prints
 * (demo_report.c), nothing measured again.  Bars are inline SVG scaled to
 * the largest value of their chart; a chart whose values are all zero
 * says so instead of drawing empty bars.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "demo_table.h"
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

static void chart(FILE *f, const struct dt_result *res, int dcase, const struct measure *m)
{
	double max = 0;
	int nbars = 0, y;
	char label[48];

	for (int row = 0; row < NR_ROWS; row++) {
		const struct dt_result *r = &res[row * NR_CASES + dcase];

		if (!r->ran)
			continue;
		nbars++;
		if (m->get(r) > max)
			max = m->get(r);
	}
	fprintf(f, "<figure class=\"chart\"><figcaption>%s: %s (%s)</figcaption>\n",
		case_names[dcase], m->title, m->unit);
	if (max <= 0)
		fprintf(f, "<p class=\"chart-zero\">0 for every policy</p>\n");
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"bar-chart\" "
		"id=\"chart-%s-%s\" width=\"%d\" height=\"%d\"><style>text{font:11px monospace}"
		".bar{fill:#4292c6}.bar.zero{fill:#ccc}</style>\n", m->id, case_names[dcase],
		BAR_LEFT + BAR_W + 90, nbars * (BAR_H + 4) + 4);
	y = 2;
	for (int row = 0; row < NR_ROWS; row++) {
		const struct dt_result *r = &res[row * NR_CASES + dcase];
		double v, w;

		if (!r->ran)
			continue;
		v = m->get(r);
		w = max > 0 ? v / max * BAR_W : 0;
		fprintf(f, "<text x=\"2\" y=\"%d\">%s</text>", y + 12,
			row_label(row, label, sizeof(label)));
		fprintf(f, "<rect class=\"bar%s\" x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\">"
			"<title>%s: %.2f %s</title></rect>", v > 0 ? "" : " zero", BAR_LEFT, y,
			w < 1 ? 1 : w, BAR_H, label, v, m->unit);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\">%.*f</text>\n", BAR_LEFT + (w < 1 ? 1 : w) + 4,
			y + 12, v == (long)v ? 0 : 2, v);
		y += BAR_H + 4;
	}
	fputs("</svg></figure>\n", f);
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

/**
 * demo_write_html() - the demo's results as a self-contained HTML page.
 * @path: the file to write.
 * @res: NR_ROWS * NR_CASES results, row-major; rows that did not run
 *	(ran false) are left out.
 * @iters: iterations per run, for the heading.
 *
 * Context: after the demo ran; writes @path only.
 * Return: 0, or a negative errno when @path cannot be written.
 */
int demo_write_html(const char *path, const struct dt_result *res, int iters)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -errno;
	html_begin(f, "pinmm demo: what does the filesystem do with a pinned page?");
	fprintf(f, "<p>Each row is one run of the case under a fs.pinned_policy (%d iterations "
		"a run); the figures are the ones the demo measured and printed "
		"(doc/DEMO.md explains each).</p>\n<section id=\"policy-table\">\n", iters);
	for (int c = 0; c < NR_CASES; c++) {
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
	fputs("</section>\n", f);
	html_end(f);
	rc = ferror(f) ? -EIO : 0;
	if (fclose(f))
		rc = -EIO;
	return rc;
}
