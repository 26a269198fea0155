/* SPDX-License-Identifier: MIT */
/*
 * bench_trace.c - what tracepoints cost (doc/TRACING.md, rows T1-T4 of
 * `pinmm bench`): the gup loop of P1 (pin_user_pages_fast 4K, write) and
 * of P8 (one page per call) on a machine without trace.file - tracing
 * compiled in, off - against the physical bound of the same size, then
 * the same loop on a machine booted with trace.file, against the off
 * figure of the same run.
 *
 * Per GUP-fast call a traced machine records one span, one "pin" instant
 * and one "pinned" counter sample; one unpin call per repeat records one
 * instant.  The buffers (trace.buffer_size 64M per thread) hold every event
 * of these runs; the note says whether the file reported any dropped.
 * Writing the file (at shutdown) is not timed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"
#include "bench.h"

/* dropped_events of the trace file at @path, or -1 when it cannot be read. */
static long trace_file_dropped(const char *path)
{
	static const char key[] = "\"dropped_events\":";
	char buf[4096];
	long dropped = -1;
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	/* otherData is the file's last member: its tail holds the key. */
	if (fseek(f, -(long)sizeof(buf) + 1, SEEK_END))
		rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	if (strstr(buf, key))
		dropped = strtol(strstr(buf, key) + sizeof(key) - 1, NULL, 10);
	return dropped;
}

/* One run of the gup loop, on a machine that traces into @trace_file or not. */
static int trace_run(size_t bytes, long per_call, int repeats, const char *trace_file,
		     struct gup_summary *s)
{
	struct gup_cfg c = {
		.bytes = bytes, .per_call = per_call, .repeats = repeats, .write = true,
		.api = API_PIN_FAST, .threads = 1,
	};
	struct gup_run r;
	struct sim_env e;
	int ret;

	sim_trace_file = trace_file;
	ret = sim_env_setup(&e, bytes, false, false);
	sim_trace_file = NULL;
	if (ret)
		return EXIT_FAIL;
	ret = run_or_fail(&e, &c, s, &r);
	if (sim_env_teardown(&e) && !ret)
		ret = EXIT_FAIL;
	return ret;
}

/**
 * std_trace() - measure and add the rows T1-T4.
 *
 * Context: the bench's main thread.
 * Return: EXIT_OK, or EXIT_FAIL when a measurement could not be made.
 */
int std_trace(void)
{
	const size_t bytes = 256 * MiB, one_bytes = 32 * MiB;
	struct gup_summary off, on, off1, on1;
	struct phys_bound b;
	char path[128];
	long dropped, dropped1;
	struct row *w;
	int ret;

	snprintf(path, sizeof(path), "%s/pinmm-bench-trace-%d.json",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	ret = trace_run(bytes, 512, 5, NULL, &off);
	if (!ret)
		ret = trace_run(bytes, 512, 5, path, &on);
	dropped = trace_file_dropped(path);
	if (!ret)
		ret = trace_run(one_bytes, 1, 3, NULL, &off1);
	if (!ret)
		ret = trace_run(one_bytes, 1, 3, path, &on1);
	dropped1 = trace_file_dropped(path);
	unlink(path);
	if (ret)
		return ret;
	ret = phys_bound_measure(bytes, 5, &b);
	if (ret) {
		fprintf(stderr, "pinmm: bench: the physical-bound loop failed: %s\n",
			pinmm_strerror(ret));
		return EXIT_FAIL;
	}

	w = add_row("T1", "pin_user_pages_fast 4K acquire, tracing off", "ns/page", "-",
		    off.acq_ns_page);
	row_bound(w, b.acq_4k);
	snprintf(w->note, sizeof(w->note), "256 MiB, -n 512; tracing compiled in, no machine "
		 "traces; P1's loop");
	w = add_row("T2", "the same, tracing on", "ns/page", "-", on.acq_ns_page);
	row_bound(w, off.acq_ns_page);
	snprintf(w->note, sizeof(w->note), "trace.file set; ratio = T2 / T1 (the off figure of "
		 "this run, not a physical bound); dropped events %ld", dropped);
	w = add_row("T3", "pin_user_pages_fast 1 page/call, tracing off", "ns/call", "-",
		    off1.acq_ns_call);
	row_bound(w, b.acq_4k);
	snprintf(w->note, sizeof(w->note), "32 MiB, -n 1, 3 repeats; P8's loop");
	w = add_row("T4", "the same, tracing on", "ns/call", "-", on1.acq_ns_call);
	row_bound(w, off1.acq_ns_call);
	snprintf(w->note, sizeof(w->note), "a span, a pin instant and a counter sample per call; "
		 "ratio = T4 / T3; dropped events %ld", dropped1);
	return EXIT_OK;
}
