/* SPDX-License-Identifier: MIT */
/*
 * svg_doc.c - the SVG document behind every picture: rows of page cells,
 * headings, the rule that collapses long identical runs, the legend, and
 * the before/after pair.
 *
 * The body is written to a memory stream as the sections are added, and
 * the <svg> element around it is written last, once the height is known.
 * The look is one <style> block of classes (the cell states), so a cell is
 * a <rect> with classes and a <title>, and the file stays small: about
 * 150 bytes a cell, one row per 64 pages, long identical runs collapsed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"

struct svg_doc {
	char *title;
	FILE *body;
	char *buf;
	size_t len;
	int y;			/* next free line, pixels */
};

/* Fill by the main state (later rules win), outlines and marks by extras. */
static const char svg_style[] =
	"text{font-family:monospace;font-size:11px;fill:#222}"
	".heading{font-size:13px;font-weight:bold}.vma{font-size:11px;fill:#124}"
	".note{fill:#666;font-style:italic}.label{font-size:8px;fill:#111;font-weight:bold}"
	"rect.page{stroke:#bbb;stroke-width:0.5;fill:#fafafa}"
	"rect.page.present{fill:#9ecae1}rect.page.file{fill:#a1d99b}"
	"rect.page.clean{fill:#a1d99b}rect.page.dirty{fill:#fdae6b}"
	"rect.page.writeback{fill:#9e9ac8}rect.page.nodisk{fill:#e31a1c}"
	"rect.page.thp{fill:#4292c6}rect.page.zero{fill:#e0e0e0}"
	"rect.page.cow{fill:#fdd0a2}rect.page.ksm{fill:#c994c7}"
	"rect.page.hugetlb{fill:#2171b5}rect.page.swapped{fill:#fff;stroke:#555;"
	"stroke-dasharray:2 1}rect.page.orphaned{fill:#67000d}"
	"rect.page.pinned{stroke:#d7301f;stroke-width:2}"
	"rect.folio{fill:none;stroke:#08306b;stroke-width:1.5}"
	"circle.excl{fill:#08306b}rect.band{fill:#eef3f8;stroke:#9db}";

struct svg_doc *svg_doc_new(const char *title)
{
	struct svg_doc *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->title = strdup(title ? title : "pinmm");
	d->body = open_memstream(&d->buf, &d->len);
	if (!d->title || !d->body) {
		if (d->body)
			fclose(d->body);
		free(d->buf);
		free(d->title);
		free(d);
		return NULL;
	}
	d->y = 24;
	return d;
}

void svg_doc_free(struct svg_doc *d)
{
	if (!d)
		return;
	if (d->body)
		fclose(d->body);
	free(d->buf);
	free(d->title);
	free(d);
}

void svg_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			/* XML 1.0 has no place for other control characters. */
			fputc((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t' ? '?' : *s, f);
		}
	}
}

void svg_heading(struct svg_doc *d, const char *cls, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	d->y += !strcmp(cls, "heading") ? 8 : 0;
	fprintf(d->body, "<text class=\"%s\" x=\"8\" y=\"%d\">", cls, d->y + 10);
	svg_escape(d->body, line);
	fputs("</text>\n", d->body);
	d->y += 16;
}

/* The outline of each run of cells of one large folio within the row. */
static void row_folios(struct svg_doc *d, const struct svg_cell *cells, int n, int y)
{
	for (int i = 0; i < n;) {
		int j = i + 1;

		if (!cells[i].folio) {
			i++;
			continue;
		}
		while (j < n && cells[j].folio == cells[i].folio)
			j++;
		fprintf(d->body, "<rect class=\"folio\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n",
			SVG_LEFT + i * SVG_CELL, y, (j - i) * SVG_CELL, SVG_CELL);
		i = j;
	}
}

void svg_row(struct svg_doc *d, unsigned long first_addr, const struct svg_cell *cells, int n)
{
	int y = d->y;

	fprintf(d->body, "<text x=\"8\" y=\"%d\">%#lx</text>\n", y + 10, first_addr);
	for (int i = 0; i < n; i++) {
		const struct svg_cell *c = &cells[i];
		int x = SVG_LEFT + i * SVG_CELL;

		fprintf(d->body, "<g><rect class=\"page %s\" x=\"%d\" y=\"%d\" width=\"%d\" "
			"height=\"%d\"/>", c->cls, x, y, SVG_CELL, SVG_CELL);
		if (strstr(c->cls, "excl"))
			fprintf(d->body, "<circle class=\"excl\" cx=\"%d\" cy=\"%d\" r=\"1.5\"/>",
				x + 3, y + 3);
		if (c->label[0])
			fprintf(d->body, "<text class=\"label\" x=\"%d\" y=\"%d\">%s</text>",
				x + 2, y + 10, c->label);
		fputs("<title>", d->body);
		svg_escape(d->body, c->title);
		fputs("</title></g>\n", d->body);
	}
	row_folios(d, cells, n, y);
	d->y += SVG_CELL + 2;
}

/* How many cells from @i on have the signature of cells[@i]. */
static long run_length(const struct svg_cell *cells, long i, long n)
{
	long r = 1;

	while (i + r < n && !strcmp(cells[i + r].sig, cells[i].sig))
		r++;
	return r;
}

void svg_cells(struct svg_doc *d, unsigned long first_addr, const struct svg_cell *cells, long n)
{
	long i = 0;

	while (i < n) {
		long run = run_length(cells, i, n), end, k;

		if (run >= SVG_COLLAPSE_MIN) {
			svg_row(d, first_addr + i * 4096UL, &cells[i], SVG_ROW_CELLS);
			svg_heading(d, "note", "... %ld more identical pages (%ld KiB) up to %#lx",
				    run - SVG_ROW_CELLS, (run - SVG_ROW_CELLS) * 4,
				    first_addr + (i + run) * 4096UL);
			i += run;
			continue;
		}
		/* One row at most, ending where the next long run starts. */
		end = i + SVG_ROW_CELLS < n ? i + SVG_ROW_CELLS : n;
		for (k = i + run; k < end; k += run_length(cells, k, n)) {
			if (run_length(cells, k, n) >= SVG_COLLAPSE_MIN) {
				end = k;
				break;
			}
		}
		svg_row(d, first_addr + i * 4096UL, &cells[i], (int)(end - i));
		i = end;
	}
}

void svg_doc_legend(struct svg_doc *d, unsigned int which)
{
	static const struct { unsigned int pic; const char *cls, *text; } keys[] = {
		{ SVG_LEGEND_ADDR, "page", "in a VMA, not populated" },
		{ SVG_LEGEND_ADDR, "page present", "anonymous page" },
		{ SVG_LEGEND_ADDR, "page present file", "file or shmem page" },
		{ SVG_LEGEND_ADDR, "page present zero", "zero page" },
		{ SVG_LEGEND_ADDR, "page present thp", "THP / mTHP (folio outlined)" },
		{ SVG_LEGEND_ADDR, "page present cow", "COW-shared (mapcount > 1)" },
		{ SVG_LEGEND_ADDR, "page present excl", "AnonExclusive (dot)" },
		{ SVG_LEGEND_ADDR, "page present ksm", "KSM page" },
		{ SVG_LEGEND_ADDR, "page present hugetlb", "hugetlb page" },
		{ SVG_LEGEND_ADDR, "page swapped", "swapped out" },
		{ SVG_LEGEND_CACHE, "page", "not cached" },
		{ SVG_LEGEND_CACHE, "page clean", "clean" },
		{ SVG_LEGEND_CACHE, "page dirty", "dirty" },
		{ SVG_LEGEND_CACHE, "page writeback", "under writeback" },
		{ SVG_LEGEND_CACHE, "page nodisk", "dirty, writeback skipped it" },
		{ SVG_LEGEND_CACHE, "page orphaned", "orphaned: left the cache, held" },
		{ SVG_LEGEND_ADDR | SVG_LEGEND_CACHE, "page present pinned", "pinned (count inside)" },
	};
	int col = 0;

	svg_heading(d, "heading", "Legend");
	fprintf(d->body, "<g class=\"legend\">\n");
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		int x = 8 + col * 220;

		if (!(keys[i].pic & which))
			continue;
		fprintf(d->body, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>",
			keys[i].cls, x, d->y, SVG_CELL, SVG_CELL);
		if (strstr(keys[i].cls, "excl"))
			fprintf(d->body, "<circle class=\"excl\" cx=\"%d\" cy=\"%d\" r=\"1.5\"/>",
				x + 3, d->y + 3);
		if (strstr(keys[i].cls, "pinned"))
			fprintf(d->body, "<text class=\"label\" x=\"%d\" y=\"%d\">1</text>",
				x + 2, d->y + 10);
		fprintf(d->body, "<text x=\"%d\" y=\"%d\">%s</text>\n", x + SVG_CELL + 6,
			d->y + 10, keys[i].text);
		if (++col == 4) {
			col = 0;
			d->y += SVG_CELL + 6;
		}
	}
	fputs("</g>\n", d->body);
	if (col)
		d->y += SVG_CELL + 6;
}

/* The <svg> element with the body so far; @x, @y place a nested one. */
static int write_svg(struct svg_doc *d, FILE *out, int x, int y, const char *cls)
{
	if (fflush(d->body))
		return -EIO;
	fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"%s\" x=\"%d\" y=\"%d\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n<title>", cls, x, y,
		SVG_WIDTH, d->y + 8, SVG_WIDTH, d->y + 8);
	svg_escape(out, d->title);
	fprintf(out, "</title>\n<style>%s</style>\n", svg_style);
	fprintf(out, "<text class=\"heading\" x=\"8\" y=\"16\">");
	svg_escape(out, d->title);
	fputs("</text>\n", out);
	fwrite(d->buf, 1, d->len, out);
	fputs("</svg>\n", out);
	return ferror(out) ? -EIO : 0;
}

int svg_doc_write(struct svg_doc *d, FILE *out)
{
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	return write_svg(d, out, 0, 0, "pinmm-picture");
}

char *svg_doc_string(struct svg_doc *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	if (write_svg(d, f, 0, 0, "pinmm-picture")) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

int svg_write_pair(FILE *out, const char *title, struct svg_doc *before, struct svg_doc *after)
{
	int h, rc;

	fflush(before->body);
	fflush(after->body);
	h = (before->y > after->y ? before->y : after->y) + 40;
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"pinmm-pair\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\">\n<title>", 2 * SVG_WIDTH + 20, h,
		2 * SVG_WIDTH + 20, h);
	svg_escape(out, title);
	fprintf(out, "</title>\n<text x=\"8\" y=\"16\" style=\"font:bold 14px monospace\">");
	svg_escape(out, title);
	fputs("</text>\n", out);
	rc = write_svg(before, out, 0, 24, "pinmm-picture before");
	if (!rc)
		rc = write_svg(after, out, SVG_WIDTH + 20, 24, "pinmm-picture after");
	fputs("</svg>\n", out);
	return rc ? rc : ferror(out) ? -EIO : 0;
}
