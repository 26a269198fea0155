/* SPDX-License-Identifier: MIT */
/*
 * report_rec.c - what a `pinmm run --html` records while the scripts run:
 * one entry per executed line with its outcome (ok, a failed expectation
 * with its values, an error), and the pictures taken on the way.
 *
 * script.c calls report_line_begin()/report_line_end() around each line
 * and report_expect() from script_check(); each does nothing when the run
 * keeps no report (opts->report NULL), so a plain run pays one test.
 * Running out of memory drops entries, never the run.
 */
#include <stdlib.h>
#include <string.h>

#include "report.h"

struct report *report_new(void)
{
	struct report *r = calloc(1, sizeof(*r));

	if (r)
		r->cur = -1;
	return r;
}

void report_free(struct report *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->nlines; i++) {
		free(r->lines[i].file);
		free(r->lines[i].text);
		free(r->lines[i].detail);
	}
	for (int i = 0; i < r->npics; i++) {
		free(r->pics[i].file);
		free(r->pics[i].name);
		free(r->pics[i].svg);
	}
	free(r->lines);
	free(r->pics);
	free(r);
}

/* Grow @*arr (of @size-byte items) to hold one more than @n; false if out of memory. */
static bool grow(void **arr, int n, int *cap, size_t size)
{
	void *na;

	if (n < *cap)
		return true;
	na = realloc(*arr, (size_t)(*cap ? *cap * 2 : 64) * size);
	if (!na)
		return false;
	*arr = na;
	*cap = *cap ? *cap * 2 : 64;
	return true;
}

void report_line_begin(struct script *s)
{
	struct report *r = s->opts->report;
	struct report_line *l;

	if (!r)
		return;
	r->cur = -1;
	if (!grow((void **)&r->lines, r->nlines, &r->cap_lines, sizeof(*r->lines)))
		return;
	l = &r->lines[r->nlines];
	memset(l, 0, sizeof(*l));
	l->file = strdup(s->file);
	l->line = s->line;
	l->text = strdup(s->text ? s->text : "");
	r->cur = r->nlines++;
}

/* Append @msg to the current line's detail, one message a line. */
static void add_detail(struct report_line *l, const char *msg)
{
	size_t old = l->detail ? strlen(l->detail) : 0;
	char *nd = realloc(l->detail, old + strlen(msg) + 2);

	if (!nd)
		return;
	if (old)
		nd[old++] = '\n';
	strcpy(nd + old, msg);
	l->detail = nd;
}

void report_expect(struct script *s, bool ok, const char *detail)
{
	struct report *r = s->opts->report;
	struct report_line *l;

	if (!r || r->cur < 0)
		return;
	l = &r->lines[r->cur];
	l->nexpect++;
	if (ok)
		return;
	l->status = REP_EXPECT_FAILED;
	add_detail(l, detail ? detail : "expectation failed");
}

void report_line_end(struct script *s, int rc)
{
	struct report *r = s->opts->report;
	char msg[640];

	if (!r || r->cur < 0 || rc == 0)
		return;
	if (rc == SCRIPT_SYNTAX)
		snprintf(msg, sizeof(msg), "syntax error: %s", s->errmsg);
	else
		snprintf(msg, sizeof(msg), "error: %s (%d)", pinmm_strerror(rc), rc);
	r->lines[r->cur].status = REP_ERROR;
	add_detail(&r->lines[r->cur], msg);
}

void report_add_picture(struct report *r, const char *file, int line, const char *name,
			char *svg)
{
	struct report_pic *p;

	if (!r || !grow((void **)&r->pics, r->npics, &r->cap_pics, sizeof(*r->pics))) {
		free(svg);
		return;
	}
	p = &r->pics[r->npics++];
	p->file = strdup(file);
	p->line = line;
	p->name = strdup(name);
	p->svg = svg;
}
