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

void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* A number for JSON: null when not measured. */
void json_num(FILE *f, double v, bool valid)
{
	if (valid)
		fprintf(f, "%.6g", v);
	else
		fputs("null", f);
}

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

void print_machine_json(FILE *f, const struct host_info *hi)
{
	fputs("\"machine\": {\"nproc\": ", f);
	fprintf(f, "%d, \"kernel\": ", hi->nproc);
	json_str(f, hi->kernel);
	fputs(", \"cpu\": ", f);
	json_str(f, hi->cpu);
	fputs(", \"host_thp\": ", f);
	json_str(f, hi->thp);
	fprintf(f, ", \"libpinmm\": ");
	json_str(f, pinmm_version());
	fprintf(f, ", \"debug_vm\": %s, \"liburing\": %s}",
		CONFIG_DEBUG_VM ? "true" : "false",
#ifdef HAVE_LIBURING
		"true"
#else
		"false"
#endif
		);
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
	printf("{");
	print_machine_json(stdout, hi);
	printf(",\n \"host_measured\": %s,\n \"results\": [\n", host ? "true" : "false");
	for (int i = 0; i < nrows; i++) {
		const struct row *w = &rows[i];

		printf("  {\"id\": ");
		json_str(stdout, w->id);
		printf(", \"name\": ");
		json_str(stdout, w->name);
		printf(", \"unit\": ");
		json_str(stdout, w->unit);
		printf(", \"target\": ");
		json_str(stdout, w->target);
		printf(", \"pinmm\": ");
		json_num(stdout, w->measured, true);
		printf(", \"host\": ");
		json_num(stdout, w->host, w->has_host);
		printf(", \"bound\": ");
		json_num(stdout, w->bound, w->has_bound);
		printf(", \"ratio\": ");
		json_num(stdout, w->ratio, w->has_ratio);
		printf(", \"ratio_of\": ");
		if (w->has_ratio)
			json_str(stdout, w->has_host ? "host" : "bound");
		else
			fputs("null", stdout);
		printf(", \"verdict\": ");
		json_str(stdout, verdict_name[w->verdict]);
		printf(", \"note\": ");
		json_str(stdout, w->note);
		printf("}%s\n", i + 1 < nrows ? "," : "");
	}
	printf(" ]}\n");
}

static void bench_usage(FILE *f)
{
	fputs("Usage: pinmm bench [--json] [--host | --no-host]\n"
	      "       pinmm bench gup [OPTIONS]   (see 'pinmm bench gup --help')\n"
	      "       pinmm bench rdma [OPTIONS]  (see 'pinmm bench rdma --help')\n"
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
	bool json = false, host = true;
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
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			bench_usage(stdout);
			return EXIT_OK;
		} else if (argv[i][0] == '-')
			return bench_usage_error("unknown option '%s'", argv[i]);
		else
			return bench_usage_error("unknown mode '%s' (modes: gup, rdma, explore)", argv[i]);
	}
	host_info_get(&hi);
	nrows = 0;
	ret = std_boot();
	if (!ret)
		ret = std_fault(host);
	if (!ret)
		ret = std_pin(host);
	if (ret)
		return ret;
	if (json)
		print_json(&hi, host);
	else
		print_table(&hi, host);
	return EXIT_OK;
}
