/* SPDX-License-Identifier: MIT */
/*
 * html_trace.c - the timeline section of the HTML report, drawn as inline
 * SVG from a Trace Event Format file (the JSON that Perfetto and
 * chrome://tracing load, written by `pinmm run --trace`).
 *
 * Read with json-c: {"traceEvents": [...]} or a bare array of events,
 * each {name, cat, ph, ts, dur, pid, tid, args}.  One track per (pid,
 * tid), named by "M" thread_name metadata; "X" spans and "B"/"E" pairs
 * (matched per track, innermost first) as bars; "i"/"I" instants as ticks;
 * "C" counters as step lines, one per counter and argument.  Times are
 * microseconds; the picture spans the first to the last event.  At most
 * TL_MAX_EVENTS events are drawn per timeline; its summary says how many
 * were left out.
 *
 * A run that booted several machines under --trace wrote one file each
 * (trace_files.c): the section has one timeline per machine, in boot
 * order, each a div #timeline-N with an svg #timeline-svg-N.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "report.h"

#define TL_WIDTH	1200	/* pixels of time */
#define TL_LEFT		180	/* track names */
#define TL_TRACK	18
#define TL_COUNTER	40
#define TL_MAX_TRACKS	64
#define TL_MAX_EVENTS	20000
#define TL_MAX_DEPTH	32

struct tl_track {
	long long pid, tid;
	char name[64];
	double open[TL_MAX_DEPTH];	/* ts of unmatched B events */
	const char *open_name[TL_MAX_DEPTH];
	int depth;
};

struct tl {
	FILE *f;
	struct tl_track tracks[TL_MAX_TRACKS];
	int ntracks;
	double t0, t1;
	long drawn, dropped;
	long nspans, ninstants, ncounters;
};

static const char *str_of(json_object *ev, const char *key, const char *def)
{
	json_object *v;

	if (!json_object_object_get_ex(ev, key, &v) || !json_object_is_type(v, json_type_string))
		return def;
	return json_object_get_string(v);
}

static bool num_of(json_object *ev, const char *key, double *out)
{
	json_object *v;

	if (!json_object_object_get_ex(ev, key, &v) ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return false;
	*out = json_object_get_double(v);
	return true;
}

static struct tl_track *track_of(struct tl *t, json_object *ev)
{
	double pid = 0, tid = 0;

	num_of(ev, "pid", &pid);
	num_of(ev, "tid", &tid);
	for (int i = 0; i < t->ntracks; i++)
		if (t->tracks[i].pid == (long long)pid && t->tracks[i].tid == (long long)tid)
			return &t->tracks[i];
	if (t->ntracks == TL_MAX_TRACKS)
		return NULL;
	struct tl_track *tr = &t->tracks[t->ntracks++];

	memset(tr, 0, sizeof(*tr));
	tr->pid = (long long)pid;
	tr->tid = (long long)tid;
	snprintf(tr->name, sizeof(tr->name), "pid %lld tid %lld", tr->pid, tr->tid);
	return tr;
}

static double xpos(const struct tl *t, double ts)
{
	double span = t->t1 > t->t0 ? t->t1 - t->t0 : 1;

	return TL_LEFT + (ts - t->t0) / span * TL_WIDTH;
}

/* A stable colour per category. */
static unsigned int hue(const char *s)
{
	unsigned int h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % 360;
}

static void span(struct tl *t, int track, double ts, double dur, const char *name,
		 const char *cat, int depth)
{
	double x = xpos(t, ts), w = xpos(t, ts + dur) - x;

	if (t->drawn >= TL_MAX_EVENTS) {
		t->dropped++;
		return;
	}
	t->drawn++;
	t->nspans++;
	fprintf(t->f, "<rect class=\"span\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
		"style=\"fill:hsl(%u,60%%,60%%)\"><title>", x, 24 + track * TL_TRACK + depth * 2,
		w < 1 ? 1 : w, TL_TRACK - 4 - depth * 2, hue(cat));
	html_escape(t->f, name);
	fprintf(t->f, " (%s) %.0f us at %.0f us</title></rect>\n", cat, dur, ts - t->t0);
}

/* Pass 1: the time range and the track names. */
static void scan(struct tl *t, json_object *events)
{
	size_t n = json_object_array_length(events);
	bool first = true;

	for (size_t i = 0; i < n; i++) {
		json_object *ev = json_object_array_get_idx(events, i);
		const char *ph = str_of(ev, "ph", "");
		double ts, dur = 0;

		if (!strcmp(ph, "M")) {
			json_object *args, *nm;
			struct tl_track *tr;

			if (strcmp(str_of(ev, "name", ""), "thread_name"))
				continue;	/* process_name, sort indexes: no track */
			tr = track_of(t, ev);
			if (tr &&
			    json_object_object_get_ex(ev, "args", &args) &&
			    json_object_object_get_ex(args, "name", &nm))
				snprintf(tr->name, sizeof(tr->name), "%s", json_object_get_string(nm));
			continue;
		}
		if (!num_of(ev, "ts", &ts))
			continue;
		if (strcmp(ph, "C"))
			track_of(t, ev);
		num_of(ev, "dur", &dur);
		if (first || ts < t->t0)
			t->t0 = ts;
		if (first || ts + dur > t->t1)
			t->t1 = ts + dur;
		first = false;
	}
}

/* Pass 2: spans and instants on their tracks. */
static void draw_events(struct tl *t, json_object *events)
{
	size_t n = json_object_array_length(events);

	for (size_t i = 0; i < n; i++) {
		json_object *ev = json_object_array_get_idx(events, i);
		const char *ph = str_of(ev, "ph", ""), *name = str_of(ev, "name", "?");
		const char *cat = str_of(ev, "cat", "");
		struct tl_track *tr;
		double ts, dur = 0;
		int k;

		if (!strcmp(ph, "M") || !strcmp(ph, "C") || !num_of(ev, "ts", &ts))
			continue;
		tr = track_of(t, ev);
		if (!tr) {
			t->dropped++;
			continue;
		}
		k = (int)(tr - t->tracks);
		if (!strcmp(ph, "X")) {
			num_of(ev, "dur", &dur);
			span(t, k, ts, dur, name, cat, tr->depth);	/* inside open B spans */
		} else if (!strcmp(ph, "B")) {
			if (tr->depth < TL_MAX_DEPTH) {
				tr->open[tr->depth] = ts;
				tr->open_name[tr->depth++] = name;
			}
		} else if (!strcmp(ph, "E")) {
			if (tr->depth > 0) {
				tr->depth--;
				span(t, k, tr->open[tr->depth], ts - tr->open[tr->depth],
				     tr->open_name[tr->depth], cat, tr->depth);
			}
		} else if (!strcmp(ph, "i") || !strcmp(ph, "I")) {
			if (t->drawn >= TL_MAX_EVENTS) {
				t->dropped++;
				continue;
			}
			t->drawn++;
			t->ninstants++;
			fprintf(t->f, "<path class=\"instant\" d=\"M%.1f %d l3 6 l-6 0 z\"><title>",
				xpos(t, ts), 24 + k * TL_TRACK + 4);
			html_escape(t->f, name);
			fprintf(t->f, " (%s) at %.0f us</title></path>\n", cat, ts - t->t0);
		}
	}
}

/* Pass 3: one step line per counter series ("name.arg"), below the tracks. */
static int draw_counters(struct tl *t, json_object *events, int y0)
{
	size_t n = json_object_array_length(events);
	char seen[16][96];
	int nseen = 0, y = y0;

	for (size_t i = 0; i < n && nseen < 16; i++) {
		json_object *ev = json_object_array_get_idx(events, i), *args;

		if (strcmp(str_of(ev, "ph", ""), "C") ||
		    !json_object_object_get_ex(ev, "args", &args) ||
		    !json_object_is_type(args, json_type_object))
			continue;
		json_object_object_foreach(args, key, val) {
			char series[96];
			bool dup = false;
			double lo = 0, hi = 0, last_x = TL_LEFT, last_y = 0;

			(void)val;
			snprintf(series, sizeof(series), "%s.%s", str_of(ev, "name", "?"), key);
			for (int k = 0; k < nseen; k++)
				dup |= !strcmp(seen[k], series);
			if (dup || nseen == 16)
				continue;
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", series);
			/* Range of the series, then its polyline. */
			for (size_t j = i; j < n; j++) {
				json_object *e = json_object_array_get_idx(events, j), *a;
				double v;

				if (strcmp(str_of(e, "ph", ""), "C") ||
				    strcmp(str_of(e, "name", ""), str_of(ev, "name", "?")) ||
				    !json_object_object_get_ex(e, "args", &a) || !num_of(a, key, &v))
					continue;
				hi = v > hi ? v : hi;
				lo = v < lo ? v : lo;
			}
			fprintf(t->f, "<text x=\"4\" y=\"%d\">", y + 14);
			html_escape(t->f, series);
			fprintf(t->f, " (max %.0f)</text>\n<polyline class=\"counter\" points=\"", hi);
			last_y = y + TL_COUNTER - 4;
			for (size_t j = i; j < n; j++) {
				json_object *e = json_object_array_get_idx(events, j), *a;
				double v, ts;

				if (strcmp(str_of(e, "ph", ""), "C") ||
				    strcmp(str_of(e, "name", ""), str_of(ev, "name", "?")) ||
				    !json_object_object_get_ex(e, "args", &a) || !num_of(a, key, &v) ||
				    !num_of(e, "ts", &ts))
					continue;
				double x = xpos(t, ts), yy = y + TL_COUNTER - 4 -
					(hi > lo ? (v - lo) / (hi - lo) * (TL_COUNTER - 8) : 0);

				fprintf(t->f, "%.1f,%.1f %.1f,%.1f ", x, last_y, x, yy);
				last_x = x;
				last_y = yy;
				t->ncounters++;
			}
			fprintf(t->f, "%.1f,%.1f\"/>\n", last_x > TL_LEFT + TL_WIDTH ? last_x :
				(double)TL_LEFT + TL_WIDTH, last_y);
			y += TL_COUNTER;
		}
	}
	return y;
}

/* The timeline of machine @idx from the file @trace: a heading, the SVG, a summary. */
static void timeline_one(FILE *f, const char *trace, int idx)
{
	json_object *root, *events = NULL;
	struct tl *t;
	int y;

	fprintf(f, "<div class=\"timeline-machine\" id=\"timeline-%d\">\n<h3>Machine %d: "
		"<code>", idx, idx);
	html_escape(f, trace);
	fputs("</code></h3>\n", f);
	if (access(trace, R_OK)) {
		fprintf(f, "<p class=\"trace-error\">No trace: %s (the machine did not boot, or "
			"could not write its file).</p>\n</div>\n", strerror(errno));
		return;
	}
	root = json_object_from_file(trace);
	if (root && json_object_is_type(root, json_type_array))
		events = root;
	else if (root)
		json_object_object_get_ex(root, "traceEvents", &events);
	t = calloc(1, sizeof(*t));
	if (!events || !json_object_is_type(events, json_type_array) || !t) {
		fputs("<p class=\"trace-error\">Cannot draw the trace ", f);
		html_escape(f, trace);
		fprintf(f, ": %s.</p>\n</div>\n", !root ? "not readable JSON" :
			!t ? "out of memory" : "no traceEvents array");
		json_object_put(root);
		free(t);
		return;
	}
	t->f = f;
	fputs("<p>Hover a bar for its name and duration.</p>\n", f);
	scan(t, events);
	/* The tracks, then the counters; the height is fixed after the fact by viewBox. */
	char *body = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&body, &len);

	if (!mem) {
		fputs("<p class=\"trace-error\">out of memory</p>\n</div>\n", f);
		json_object_put(root);
		free(t);
		return;
	}
	t->f = mem;
	for (int i = 0; i < t->ntracks; i++) {
		fprintf(mem, "<text x=\"4\" y=\"%d\">", 24 + i * TL_TRACK + 12);
		html_escape(mem, t->tracks[i].name);
		fprintf(mem, "</text><line class=\"track\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" "
			"stroke=\"#ddd\"/>\n", TL_LEFT, TL_LEFT + TL_WIDTH, 24 + (i + 1) * TL_TRACK - 1,
			24 + (i + 1) * TL_TRACK - 1);
	}
	draw_events(t, events);
	y = draw_counters(t, events, 24 + t->ntracks * TL_TRACK + 8);
	fclose(mem);
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"timeline-svg-%d\" "
		"class=\"timeline\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\"><style>"
		".span{fill-opacity:.65;stroke:#333;stroke-width:.3}.instant{fill:#d7301f}"
		".counter{fill:none;stroke:#08519c;stroke-width:1.2}text{font:11px monospace}"
		"</style>\n<text x=\"%d\" y=\"14\">0 us</text><text x=\"%d\" y=\"14\">%.0f us"
		"</text>\n", idx, TL_LEFT + TL_WIDTH + 20, y + 8, TL_LEFT + TL_WIDTH + 20, y + 8,
		TL_LEFT, TL_LEFT + TL_WIDTH - 60, t->t1 - t->t0);
	fwrite(body, 1, len, f);
	fputs("</svg>\n", f);
	fprintf(f, "<p class=\"timeline-summary\">%d tracks, %ld spans, %ld instants, %ld counter "
		"samples drawn%s", t->ntracks, t->nspans, t->ninstants, t->ncounters,
		t->dropped ? "; " : ".");
	if (t->dropped)
		fprintf(f, "%ld events not drawn (more than %d events or %d tracks).", t->dropped,
			TL_MAX_EVENTS, TL_MAX_TRACKS);
	fputs("</p>\n</div>\n", f);
	free(body);
	json_object_put(root);
	free(t);
}

/**
 * html_timeline() - the timeline section: one timeline per machine.
 * @f: the page.
 * @trace: the trace file of the first machine (trace_files.c names the
 *	others), or NULL when the run wrote none.
 * @n: the machines that traced (their files: trace_file_name(@trace, 1..@n)).
 *
 * Context: html_write_run(), writing the page.
 */
void html_timeline(FILE *f, const char *trace, int n)
{
	char path[PINMM_PATH_MAX];

	fputs("<h2 id=\"timeline-title\">Timeline</h2>\n<section id=\"timeline\">\n", f);
	if (!trace || n < 1) {
		fputs("<p class=\"no-trace\">This run wrote no trace, so there is no timeline "
		      "(run with <code>--trace FILE</code>, or <code>--timeline FILE</code> to "
		      "draw a trace written before).</p>\n</section>\n", f);
		return;
	}
	fprintf(f, "<p>%d machine%s traced, one timeline each, in boot order.</p>\n", n,
		n == 1 ? "" : "s");
	for (int i = 1; i <= n; i++) {
		if (trace_file_name(trace, i, path, sizeof(path)))
			continue;	/* too long: boot refused it, no file either */
		timeline_one(f, path, i);
	}
	fputs("</section>\n", f);
}
