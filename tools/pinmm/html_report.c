/* SPDX-License-Identifier: MIT */
/*
 * html_report.c - the self-contained HTML page of `pinmm run --html`: the
 * script table (each executed line and its outcome), the pictures taken at
 * each checkpoint, and the timelines of the run's traces (one per machine).  `pinmm demo
 * --html` uses the same frame (html_begin/html_end) for its policy table
 * (html_demo.c).
 *
 * Self-contained: the CSS, the script and every picture are inline; the
 * page loads nothing.  The script records any JavaScript error or
 * console.error in the page itself (#js-errors) and sets #js-status to
 * "js-ok" once it ran, so a headless browser's dump of the DOM tells
 * whether the page rendered cleanly (tests/tool/test_html_report.sh).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static const char html_css[] =
	"body{font-family:sans-serif;margin:1.5em;color:#222;max-width:1900px}"
	"h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}h3{font-size:1em}"
	"table{border-collapse:collapse;font-size:13px}"
	"td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top;text-align:left}"
	"th{background:#eef}td.num{text-align:right;font-family:monospace}"
	"tr.ok td.outcome{color:#1a7f37}tr.failed td{background:#fff0f0}"
	"tr.failed td.outcome,tr.error td.outcome{color:#b00;font-weight:bold}"
	"tr.error td{background:#fde2e2}code,pre{font-family:monospace;font-size:12px;margin:0}"
	"figure.picture{border:1px solid #ddd;margin:1em 0;padding:.5em;overflow-x:auto}"
	"figcaption{font-weight:bold;margin-bottom:.4em}.muted{color:#666}"
	"#js-errors li{color:#b00}.chart-row{display:flex;flex-wrap:wrap;gap:1em}"
	".chart-row figure{margin:0}figure.picture svg,#timeline svg{max-width:100%;height:auto}"
	"body.only-failures tr.ok{display:none}";

/* Runs before the body: capture errors into the page, mark that JS ran. */
static const char html_js[] =
	"(function(){\n"
	"  var pending = [];\n"
	"  function show(msg) {\n"
	"    var li = document.createElement('li'); li.className = 'js-error';\n"
	"    li.textContent = msg; document.getElementById('js-errors').appendChild(li);\n"
	"  }\n"
	"  function mark(msg) {\n"
	"    if (document.getElementById('js-errors')) show(String(msg));\n"
	"    else pending.push(String(msg));\n"
	"  }\n"
	"  window.onerror = function(m, src, line) { mark('error: ' + m + ' line ' + line); };\n"
	"  var ce = console.error;\n"
	"  console.error = function() {\n"
	"    mark(Array.prototype.join.call(arguments, ' '));\n"
	"    return ce.apply(console, arguments);\n"
	"  };\n"
	"  document.addEventListener('DOMContentLoaded', function() {\n"
	"    pending.forEach(show);\n"
	"    var rows = document.querySelectorAll('#script-table tr.line');\n"
	"    var bad = document.querySelectorAll('#script-table tr.failed, #script-table tr.error');\n"
	"    var sum = document.getElementById('js-summary');\n"
	"    if (sum && document.getElementById('script-table'))\n"
	"      sum.textContent = rows.length + ' lines run, ' + bad.length + ' not ok';\n"
	"    var box = document.getElementById('only-failures');\n"
	"    if (box) box.addEventListener('change', function() {\n"
	"      document.body.classList.toggle('only-failures', box.checked); });\n"
	"    document.getElementById('js-status').textContent = 'js-ok';\n"
	"  });\n"
	"})();\n";

void html_escape(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

void html_begin(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
	html_escape(f, title);
	fprintf(f, "</title>\n<style>%s</style>\n<script>\n%s</script>\n</head>\n<body>\n<h1>",
		html_css, html_js);
	html_escape(f, title);
	fprintf(f, "</h1>\n<p class=\"muted\">%s. <span id=\"js-status\">js-not-run</span> "
		"<span id=\"js-summary\"></span></p>\n<ul id=\"js-errors\"></ul>\n",
		pinmm_version());
}

void html_end(FILE *f)
{
	fputs("</body>\n</html>\n", f);
}

static const char *status_class(enum report_status st)
{
	return st == REP_OK ? "ok" : st == REP_EXPECT_FAILED ? "failed" : "error";
}

static void script_table(FILE *f, const struct report *r)
{
	int failed = 0;

	for (int i = 0; i < r->nlines; i++)
		failed += r->lines[i].status != REP_OK;
	fprintf(f, "<h2 id=\"script\">Script</h2>\n<p>%d lines run, %d not ok. "
		"<label><input type=\"checkbox\" id=\"only-failures\"> only the lines not ok"
		"</label></p>\n<table id=\"script-table\">\n<tr><th>where</th><th>line</th>"
		"<th>outcome</th></tr>\n", r->nlines, failed);
	for (int i = 0; i < r->nlines; i++) {
		const struct report_line *l = &r->lines[i];

		fprintf(f, "<tr class=\"line %s\"><td class=\"num\">", status_class(l->status));
		html_escape(f, l->file);
		fprintf(f, ":%d</td><td><code>", l->line);
		html_escape(f, l->text);
		fprintf(f, "</code></td><td class=\"outcome\">%s", l->status == REP_OK ?
			(l->nexpect ? "ok (expectation met)" : "ok") :
			l->status == REP_EXPECT_FAILED ? "expectation failed" : "error");
		if (l->detail) {
			fputs("<pre class=\"detail\">", f);
			html_escape(f, l->detail);
			fputs("</pre>", f);
		}
		for (int k = 0; k < r->npics; k++)
			if (r->pics[k].line == l->line && !strcmp(r->pics[k].file, l->file))
				fprintf(f, " <a href=\"#pic-%d\">picture</a>", k + 1);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void pictures(FILE *f, const struct report *r)
{
	fputs("<h2 id=\"pictures-title\">Pictures</h2>\n<section id=\"pictures\">\n", f);
	if (!r->npics)
		fputs("<p class=\"no-pictures\">No picture was taken: the scripts have no "
		      "<code>snapshot</code>, <code>step</code> or <code>show svg</code> line.</p>\n",
		      f);
	for (int k = 0; k < r->npics; k++) {
		const struct report_pic *p = &r->pics[k];

		fprintf(f, "<figure class=\"picture\" id=\"pic-%d\"><figcaption>", k + 1);
		html_escape(f, p->file);
		fprintf(f, ":%d ", p->line);
		html_escape(f, p->name);
		fprintf(f, "</figcaption>\n%s</figure>\n", p->svg);
	}
	fputs("</section>\n", f);
}

int html_write_run(const char *path, const struct report *r, const char *trace, int ntraces)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -errno;
	html_begin(f, "pinmm run report");
	script_table(f, r);
	pictures(f, r);
	html_timeline(f, trace, ntraces);
	html_end(f);
	rc = ferror(f) ? -EIO : 0;
	if (fclose(f))
		rc = -EIO;
	return rc;
}
