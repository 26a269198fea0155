/* SPDX-License-Identifier: MIT */
/*
 * bench_cmd.c - `pinmm bench`: the library's speed and memory figures, each
 * compared only with something that does the same work, in the same run.
 *
 *   pinmm bench [--json] [--no-host]     the standard set: one table of
 *                                        target, measured, host or bound,
 *                                        ratio, verdict
 *   pinmm bench gup [OPTIONS]            a gup_test-equivalent run (bench_gup.c)
 *   pinmm bench rdma [OPTIONS]           RDMA registration (bench_rdma.c)
 *   pinmm bench explore [OPTIONS]        the interleaving explorer (bench_explore.c)
 *
 * This file holds the command, the rows of the standard set and their text
 * and JSON output.  A row has a host figure when the host kernel did the
 * same work (io_uring fixed-buffer registration against pinmm's own), or a
 * physical bound (bench_bound.c) when the host has no path for it; the
 * ratio is pinmm over that one, and absent when there is neither.  Targets
 * are reported, never asserted: the exit status is 0 unless a measurement
 * could not be made (1) or the usage is wrong (2).  See doc/BENCH.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tool.h"
#include "bench.h"
#include "json_out.h"
#include "progress.h"

static const char *fmt_num(char *buf, size_t len, double v)
{
	if (v != 0 && v < 0.1)
		snprintf(buf, len, "%.3f", v);
	else if (v < 10)
		snprintf(buf, len, "%.2f", v);
	else if (v < 1000)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.0f", v);
	return buf;
}

struct json_object *machine_json(const struct host_info *hi)
{
	struct json_object *o = json_object_new_object();

	jset_int(o, "nproc", hi->nproc);
	jset_str(o, "kernel", hi->kernel);
	jset_str(o, "cpu", hi->cpu);
	jset_str(o, "host_thp", hi->thp);
	jset_str(o, "libpinmm", pinmm_version());
	jset_bool(o, "debug_vm", CONFIG_DEBUG_VM);
#ifdef HAVE_LIBURING
	jset_bool(o, "liburing", true);
#else
	jset_bool(o, "liburing", false);
#endif
	return o;
}

void print_machine_line(FILE *f, const struct host_info *hi)
{
	time_t now = time(NULL);
	char date[32];

	strftime(date, sizeof(date), "%Y-%m-%d %H:%M", localtime(&now));
	fprintf(f, "# %s  host: %d CPUs (nproc), %s, Linux %s, THP %s; libpinmm %s%s\n",
		date, hi->nproc, hi->cpu, hi->kernel, hi->thp, pinmm_version(),
		CONFIG_DEBUG_VM ? " (CONFIG_DEBUG_VM build: not a speed build)" : "");
}

int bench_usage_error(const char *fmt, const char *arg)
{
	fputs("pinmm: bench: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'pinmm bench --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

bool parse_long(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end)
		return false;
	*out = v;
	return true;
}

/* ---- the rows of the standard set --------------------------------------- */

static const char *const verdict_name[] = { "info", "met", "missed", "n/a" };

#define MAX_ROWS 24
static struct row rows[MAX_ROWS];
static int nrows;

struct row *add_row(const char *id, const char *name, const char *unit,
		    const char *target, double measured)
{
	struct row *w = &rows[nrows++];

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->name = name;
	w->unit = unit;
	w->target = target;
	w->measured = measured;
	w->verdict = V_INFO;
	return w;
}

void row_host(struct row *w, bool ok, double host)
{
	if (!ok)
		return;
	w->has_host = true;
	w->host = host;
	if (host > 0) {
		w->has_ratio = true;
		w->ratio = w->measured / host;
	}
}

void row_bound(struct row *w, double bound)
{
	w->has_bound = true;
	w->bound = bound;
	if (bound > 0 && !w->has_host) {
		w->has_ratio = true;
		w->ratio = w->measured / bound;
	}
}

enum verdict le(double v, double lim)
{
	return v <= lim ? V_MET : V_MISSED;
}

double host_median(const uint64_t *ns, int n)
{
	double v[BENCH_MAX_REP];

	for (int i = 0; i < n; i++)
		v[i] = (double)ns[i];
	return bench_median(v, n);
}

static void print_table(const struct host_info *hi, bool host)
{
	char m[32], h[32], b[32], q[32];

	print_machine_line(stdout, hi);
	printf("# targets are reported, not asserted; ratio = pinmm / host where the host kernel "
	       "did the same work in this run, else pinmm / the physical bound measured in this "
	       "run%s\n", host ? "" : "; host side skipped (--no-host)");
	printf("%-3s %-38s %-8s %-13s %10s %10s %10s %7s  %-7s\n", "id", "benchmark", "unit",
	       "target", "pinmm", "host", "bound", "ratio", "verdict");
	for (int i = 0; i < nrows; i++) {
		const struct row *w = &rows[i];

		if (!strcmp(w->id, "X1"))
			continue;
		printf("%-3s %-38s %-8s %-13s %10s %10s %10s %7s  %-7s\n", w->id, w->name, w->unit,
		       w->target, fmt_num(m, sizeof(m), w->measured),
		       w->has_host ? fmt_num(h, sizeof(h), w->host) : "-",
		       w->has_bound ? fmt_num(b, sizeof(b), w->bound) : "-",
		       w->has_ratio ? fmt_num(q, sizeof(q), w->ratio) : "-",
		       verdict_name[w->verdict]);
	}
	printf("notes:\n");
	for (int i = 0; i < nrows; i++)
		if (rows[i].note[0])
			printf("  %s: %s\n", rows[i].id, rows[i].note);
}

static void print_json(const struct host_info *hi, bool host)
{
	struct json_object *doc = json_object_new_object();
	struct json_object *res = json_object_new_array();

	jset(doc, "machine", machine_json(hi));
	jset_bool(doc, "host_measured", host);
	for (int i = 0; i < nrows; i++) {
		const struct row *w = &rows[i];
		struct json_object *o = json_object_new_object();

		jset_str(o, "id", w->id);
		jset_str(o, "name", w->name);
		jset_str(o, "unit", w->unit);
		jset_str(o, "target", w->target);
		jset(o, "pinmm", jnum_or_null(w->measured, true));
		jset(o, "host", jnum_or_null(w->host, w->has_host));
		jset(o, "bound", jnum_or_null(w->bound, w->has_bound));
		jset(o, "ratio", jnum_or_null(w->ratio, w->has_ratio));
		jset(o, "ratio_of", w->has_ratio ? jstr(w->has_host ? "host" : "bound") : NULL);
		jset_str(o, "verdict", verdict_name[w->verdict]);
		jset_str(o, "note", w->note);
		json_object_array_add(res, o);
	}
	jset(doc, "results", res);
	json_print(stdout, doc, true);
}

static void bench_usage(FILE *f)
{
	fputs("Usage: pinmm bench [--json] [--host | --no-host]\n"
	      "       pinmm bench gup [OPTIONS]   (see 'pinmm bench gup --help')\n"
	      "       pinmm bench rdma [OPTIONS]  (see 'pinmm bench rdma --help')\n"
	      "       pinmm bench trace [--json]  (rows T1-T4 only)\n"
	      "\n"
	      "Without a mode: the standard set, one table of every target of the\n"
	      "issues 'Foundation' and 'Page pinning' with the figure measured, what it\n"
	      "is compared with (the host kernel doing the same work, or the physical\n"
	      "bound of the work, both measured in the same run), the ratio, and\n"
	      "met/missed.  Runs in well under a minute and needs about 3 GiB of host\n"
	      "memory.\n"
	      "\n"
	      "  F1-F4  boot+shutdown of a 16 GiB machine, host RSS, memmap overhead\n"
	      "  F5     fault-in of 1 GiB of 4K pages, one store each (host: mmap+touch)\n"
	      "  F6     the same fault-in, 2 threads vs 1 (against the CPU check)\n"
	      "  P1-P4, P7, P8, P10  GUP-fast, get/put, single-page calls and\n"
	      "         pin_user_pages(W|LONGTERM) on 1 GiB (against the physical bound)\n"
	      "  M1, M2 pin_user_pages_fast on 1 GiB of 64 KiB folios (mTHP, PTE-mapped)\n"
	      "         against P1, P2 (4K pages) of the same run\n"
	      "  P11, P12  GUP-fast on 1 GiB of 2 MiB hugetlb pages (against P1/P2)\n"
	      "  P5, P6, U1, U2  io_uring fixed-buffer registration, pinmm's model\n"
	      "         against the host kernel's (1 GiB, one 4 KiB buffer, 2 rings)\n"
	      "  P9, C1 2 threads vs 1 (target 0.95 x C1), and the CPU check\n"
	      "  T1-T4  tracepoints: the P1 and P8 loops with tracing off (against\n"
	      "         the bound) and on (against off); 'pinmm bench trace': these alone\n"
	      "\n"
	      "  --json     the same as JSON\n"
	      "  --host     measure the host too (the default)\n"
	      "  --no-host  skip the host side\n"
	      "  -h, --help this text\n"
	      "\n"
	      "Exit status: 0 measured (targets are reported, not asserted), 1 a\n"
	      "measurement failed, 2 usage error.  doc/BENCH.md explains each figure.\n", f);
}

int pinmm_cmd_bench(int argc, char **argv)
{
	struct host_info hi;
	struct progress prog;
	bool json = false, host = true, only_trace = false;
	int ret;

	if (argc > 1 && !strcmp(argv[1], "gup"))
		return bench_gup(argc - 1, argv + 1);	/* bench_gup.c */
	if (argc > 1 && !strcmp(argv[1], "rdma"))
		return bench_rdma(argc - 1, argv + 1);	/* bench_rdma.c */
	if (argc > 1 && !strcmp(argv[1], "explore"))
		return bench_explore(argc - 1, argv + 1);	/* bench_explore.c */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--host"))
			host = true;
		else if (!strcmp(argv[i], "--no-host"))
			host = false;
		else if (!strcmp(argv[i], "trace"))
			only_trace = true;	/* T1-T4 alone */
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			bench_usage(stdout);
			return EXIT_OK;
		} else if (argv[i][0] == '-')
			return bench_usage_error("unknown option '%s'", argv[i]);
		else
			return bench_usage_error("unknown mode '%s' (modes: gup, rdma, trace, explore)",
						 argv[i]);
	}
	host_info_get(&hi);
	nrows = 0;
	progress_begin(&prog, "pinmm bench", only_trace ? 1 : 4);
	ret = 0;
	if (!only_trace) {
		progress_step(&prog, "boot and allocation");
		ret = std_boot();
	}
	if (!ret && !only_trace) {
		progress_step(&prog, "faults%s", host ? " (and the host's)" : "");
		ret = std_fault(host);
	}
	if (!ret && !only_trace) {
		progress_step(&prog, "pinning%s", host ? " (and the host's)" : "");
		ret = std_pin(host);
	}
	if (!ret) {
		progress_step(&prog, "tracepoints off and on");
		ret = std_trace();
	}
	progress_clear(&prog);
	if (ret)
		return ret;
	if (json)
		print_json(&hi, host);
	else
		print_table(&hi, host);
	return EXIT_OK;
}
