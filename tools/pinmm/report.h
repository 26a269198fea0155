/* SPDX-License-Identifier: MIT */
/*
 * report.h - the self-contained HTML report of `pinmm run --html` and
 * `pinmm demo --html` (doc/SCENARIOS.md, "HTML report").
 *
 * A run records, per executed line, its outcome (report_rec.c, through
 * two hooks in script.c), and per picture (`snapshot`, `step`, `show svg`)
 * the inline SVG (script_svg.c).  At the end html_report.c writes one page
 * with inline CSS, JS and SVG: the script table, the pictures, the
 * timeline of the run's trace (html_trace.c) and, for the demo, the policy
 * table with bar charts (html_demo.c).
 */
#ifndef PINMM_TOOL_REPORT_H
#define PINMM_TOOL_REPORT_H

#include <stdio.h>

#include "tool.h"

enum report_status { REP_OK, REP_EXPECT_FAILED, REP_ERROR };

struct report_line {
	char *file;
	int line;
	char *text;
	enum report_status status;
	char *detail;		/* failed expectations' values, or the error */
	int nexpect;		/* expectations this line checked */
};

struct report_pic {
	char *file;
	int line;
	char *name;
	char *svg;		/* the picture, an <svg> element */
};

struct report {
	struct report_line *lines;
	int nlines, cap_lines;
	struct report_pic *pics;
	int npics, cap_pics;
	int cur;		/* index of the line being run, or -1 */
};

/* report_rec.c: recording (every function ignores a NULL report) */
struct report *report_new(void);
void report_free(struct report *r);
/* script.c hooks: a line starts; a line ended with @rc (0, SCRIPT_SYNTAX, -errno). */
void report_line_begin(struct script *s);
void report_line_end(struct script *s, int rc);
/* script.c hook: an expectation of the current line was checked. */
void report_expect(struct script *s, bool ok, const char *detail);
/* script_svg.c: a picture taken on the current line (@svg is taken over). */
void report_add_picture(struct report *r, const char *file, int line, const char *name,
			char *svg);

/* html_report.c */
void html_begin(FILE *f, const char *title);
void html_end(FILE *f);
void html_escape(FILE *f, const char *s);
/*
 * The report of a `pinmm run`: scripts, pictures, the timelines of the
 * @ntraces machines whose first trace file is @trace (or NULL).
 */
int html_write_run(const char *path, const struct report *r, const char *trace, int ntraces);

/* html_trace.c: the timeline section, one timeline per machine's trace file. */
void html_timeline(FILE *f, const char *trace, int n);

#endif /* PINMM_TOOL_REPORT_H */
