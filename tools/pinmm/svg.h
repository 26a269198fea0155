/* SPDX-License-Identifier: MIT */
/*
 * svg.h - pictures of memory as small hand-written SVG (doc/SCENARIOS.md,
 * "Pictures").
 *
 * A struct svg_doc collects sections - the address space of a process
 * (svg_addr.c), the page cache of a file (svg_cache.c) - each drawn as rows
 * of page cells, and writes them as one standalone SVG document with a
 * legend (svg_doc.c).  Everything drawn comes from the public
 * introspection API (pinmm_page_info(), <pinmm/debug.h>); the pictures
 * never look inside the library.
 *
 * Every cell carries the CSS classes of its states ("page anon present
 * pinned cow") and a <title> naming its address and counts, so a browser
 * shows them on hover and a test can find them.
 */
#ifndef PINMM_TOOL_SVG_H
#define PINMM_TOOL_SVG_H

#include <stdio.h>

#include "tool.h"

/* Geometry: 64 cells of 4 KiB per row (256 KiB), CELL pixels square. */
#define SVG_ROW_CELLS	64
#define SVG_CELL	12
#define SVG_LEFT	150	/* room for the row's address */
#define SVG_WIDTH	(SVG_LEFT + SVG_ROW_CELLS * SVG_CELL + 20)

/*
 * A run of this many identical pages or more (a whole row at least) is
 * drawn as its first row and one line saying how many identical pages
 * follow; see svg_collapse_run().
 */
#define SVG_COLLAPSE_MIN	(2 * SVG_ROW_CELLS)
/* Pages looked at per VMA at most; the rest is summarised in one line. */
#define SVG_VMA_MAX_PAGES	(1L << 18)

struct svg_doc;

/* One page cell: its classes (space-separated), its tooltip, a label. */
struct svg_cell {
	char cls[128];
	char title[256];
	char label[12];		/* drawn inside the cell: a pin count */
	unsigned long folio;	/* cells with the same nonzero id share an outline */
	char sig[160];		/* identical runs compare this (no address, no pfn) */
};

/* svg_doc.c: the document */
struct svg_doc *svg_doc_new(const char *title);
void svg_doc_free(struct svg_doc *d);
/* Append a heading line (class "heading") or a note line (class "note"). */
void svg_heading(struct svg_doc *d, const char *cls, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Draw @n cells starting at @first_addr (4 KiB apart), @n at most
 * SVG_ROW_CELLS, as one row labelled with @first_addr.
 */
void svg_row(struct svg_doc *d, unsigned long first_addr, const struct svg_cell *cells, int n);
/*
 * Draw a run of @n cells (a VMA's, or a file's): rows of SVG_ROW_CELLS,
 * collapsing every run of at least SVG_COLLAPSE_MIN identical cells
 * (same sig) after its first row into one note line.
 */
void svg_cells(struct svg_doc *d, unsigned long first_addr, const struct svg_cell *cells, long n);
/* The legend: which states the picture's cell classes stand for. */
enum svg_legend { SVG_LEGEND_ADDR = 1, SVG_LEGEND_CACHE = 2 };
void svg_doc_legend(struct svg_doc *d, unsigned int which);
/* Write the whole document (XML declaration, style, sections). */
int svg_doc_write(struct svg_doc *d, FILE *out);
/* The document as a string without the XML declaration (for HTML); free() it. */
char *svg_doc_string(struct svg_doc *d);
/* A before/after pair: two documents side by side under @title. */
int svg_write_pair(FILE *out, const char *title, struct svg_doc *before, struct svg_doc *after);
/* Write @s to @f with &, <, >, " escaped. */
void svg_escape(FILE *f, const char *s);

/* svg_addr.c: the address space of @p (every VMA) as one section. */
int svg_add_addr_space(struct svg_doc *d, struct pinmm_proc *p, const char *label);

/*
 * svg_cache.c: the page cache of @fd of @p, pages [0, file size), and
 * the pages of @held (a script's page arrays) that left every cache while
 * held (orphaned).
 */
struct svg_held {
	const char *name;
	struct page **pages;
	long npages;
};
int svg_add_page_cache(struct svg_doc *d, struct pinmm_proc *p, int fd, const char *label,
		       const struct svg_held *held, int nheld);

#endif /* PINMM_TOOL_SVG_H */
