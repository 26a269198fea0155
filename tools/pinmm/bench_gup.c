/* SPDX-License-Identifier: MIT */
/*
 * bench_gup.c - `pinmm bench gup`: a gup_test-equivalent run (doc/GUP-SEMANTICS.md §8.2).
 *
 * It does what the kernel's gup_test does: boot a machine (debug=0, thp as
 * -t), create a process, map the region, pre-fault it with one store per
 * page, then for each repeat acquire it in chunks of -n pages per call
 * through the chosen API (mmap_read_lock held for the slow ones), time
 * that, and time the release (the loop is in bench_sim.c).  --host also
 * registers the same size as io_uring fixed buffers on the host kernel and,
 * on the same simulated region, through pinmm's own io_uring model
 * (bench_uring.c).  A registration is not the same work as one GUP loop (it
 * also charges memlock and builds a bvec array), so the ratio printed is
 * pinmm's registration over the host's, never the GUP loop over the host's;
 * and with -t there is none, since Linux coalesces each THP into one bvec
 * and drops its extra pins while pinmm keeps one pin and one bvec per page.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "bench.h"
#include "json_out.h"
#include "progress.h"

static void gup_usage(FILE *f)
{
	fputs("Usage: pinmm bench gup [OPTIONS]\n"
	      "\n"
	      "A gup_test-equivalent benchmark (tools/testing/selftests/mm/gup_test).\n"
	      "Boots a machine (debug=0, ram sized to fit), maps and pre-faults the\n"
	      "region with one store per page, then per repeat acquires it in chunks of\n"
	      "-n pages per call (timed) and releases it (timed).  One untimed warm-up\n"
	      "repeat first verifies that every page is pinned (or referenced).\n"
	      "\n"
	      "  -m MIB   region size in MiB (default 128)\n"
	      "  -n N     pages per call (default 1; N <= 0: the whole range in one call)\n"
	      "  -r N     timed repeats (default 1, at most 16)\n"
	      "  -u       get_user_pages_fast, put_page (GUP_FAST_BENCHMARK, default)\n"
	      "  -a       pin_user_pages_fast, unpin_user_pages (PIN_FAST_BENCHMARK)\n"
	      "  -g, -U   get_user_pages under mmap_read_lock (GUP_BASIC_TEST)\n"
	      "  -p, -b   pin_user_pages under mmap_read_lock (PIN_BASIC_TEST)\n"
	      "  -L       FOLL_LONGTERM; alone: pin_user_pages (PIN_LONGTERM_BENCHMARK);\n"
	      "           with -a: pin_user_pages_fast(FOLL_LONGTERM)\n"
	      "  -w / -W  FOLL_WRITE (default) / read-only\n"
	      "  -F FLAGS extra FOLL_* flags, as a number (0x... accepted)\n"
	      "  -t / -T  THP: boot with thp=madvise and MADV_HUGEPAGE / MADV_NOHUGEPAGE\n"
	      "           (without -t the machine boots with thp=never)\n"
	      "  -j N     threads, each on its own disjoint part of the range (default 1)\n"
	      "  --host   also register the same size as io_uring fixed buffers on the\n"
	      "           host kernel and through pinmm's io_uring model, and print\n"
	      "           the ratio of those two registrations (4K only)\n"
	      "  --json   JSON instead of text\n"
	      "  -h, --help  this text\n"
	      "\n"
	      "Times are CLOCK_MONOTONIC wall times of a whole phase (all threads):\n"
	      "'get'/'put' in us per repeat as gup_test prints them, then ns per page\n"
	      "and per call; the summary gives the median and the best repeat.\n", f);
}

int bench_gup(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "host", no_argument, NULL, 'H' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gup_cfg c = {
		.bytes = 128 * MiB, .per_call = 1, .repeats = 1, .write = true,
		.api = API_GUP_FAST, .threads = 1,
	};
	bool host = false, json = false, api_set = false;
	struct host_info hi;
	struct progress prog;
	struct sim_env e;
	struct gup_run r;
	struct gup_summary s;
	struct host_pin hp = { 0 }, sp = { 0 };
	double hr = 0, hu = 0, sr = 0, su = 0;
	bool ratio;
	int opt, ret;
	long v;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:m:n:r:j:F:uagUpbLwWtTh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			if (!parse_long(optarg, &v) || v <= 0 || v > 65536)
				return bench_usage_error("gup: -m needs a size in MiB (1..65536), not '%s'", optarg);
			c.bytes = (size_t)v * MiB;
			break;
		case 'n':
			if (!parse_long(optarg, &v))
				return bench_usage_error("gup: -n needs a number of pages, not '%s'", optarg);
			c.per_call = v;
			break;
		case 'r':
			if (!parse_long(optarg, &v) || v < 1 || v > BENCH_MAX_REP)
				return bench_usage_error("gup: -r needs 1..16, not '%s'", optarg);
			c.repeats = (int)v;
			break;
		case 'j':
			if (!parse_long(optarg, &v) || v < 1 || v > BENCH_MAX_THREADS)
				return bench_usage_error("gup: -j needs 1..64 threads, not '%s'", optarg);
			c.threads = (int)v;
			break;
		case 'F':
			if (!parse_long(optarg, &v) || v < 0 || v > 0xffffffffL)
				return bench_usage_error("gup: -F needs a flags number, not '%s'", optarg);
			c.extra_flags = (unsigned int)v;
			break;
		case 'u': c.api = API_GUP_FAST; api_set = true; break;
		case 'a': c.api = API_PIN_FAST; api_set = true; break;
		case 'g': case 'U': c.api = API_GUP; api_set = true; break;
		case 'p': case 'b': c.api = API_PIN; api_set = true; break;
		case 'L': c.longterm = true; break;
		case 'w': c.write = true; break;
		case 'W': c.write = false; break;
		case 't': c.thp = true; c.nothp = false; break;
		case 'T': c.nothp = true; c.thp = false; break;
		case 'H': host = true; break;
		case 'J': json = true; break;
		case 'h':
			gup_usage(stdout);
			return EXIT_OK;
		case ':':
			return bench_usage_error("gup: option '%s' needs an argument", argv[optind - 1]);
		default:
			return bench_usage_error("gup: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bench_usage_error("gup: unexpected argument '%s'", argv[optind]);
	if (c.longterm) {
		if (!api_set || c.api == API_PIN)
			c.api = API_PIN;
		else if (c.api != API_PIN_FAST)
			return bench_usage_error("gup: -L needs a pin (FOLL_LONGTERM requires FOLL_PIN)%s", "");
	}
	if ((long)(c.bytes >> PAGE_SHIFT) < c.threads)
		return bench_usage_error("gup: fewer pages than threads%s", "");

	host_info_get(&hi);
	progress_begin(&prog, "pinmm bench gup", host ? 4 : 2);
	progress_step(&prog, "set up %zu MiB", c.bytes / MiB);
	ret = sim_env_setup(&e, c.bytes, c.thp, c.nothp);
	if (ret) {
		progress_clear(&prog);
		return EXIT_FAIL;
	}
	progress_step(&prog, "%d repeats of %s", c.repeats, gup_test_cmd(c.api, c.longterm));
	ret = sim_gup_run(&e, &c, &r);
	if (!ret && host) {
		progress_step(&prog, "io_uring registration in pinmm");
		sim_uring_pin(&e, c.repeats, &sp);
	}
	sim_env_teardown(&e);
	if (ret) {
		progress_clear(&prog);
		fprintf(stderr, "pinmm: bench: %s\n", r.errmsg);
		return EXIT_FAIL;
	}
	gup_summarise(&r, &s);
	if (host) {
		progress_step(&prog, "io_uring registration on the host");
		host_uring_pin(c.bytes, c.thp, c.repeats, &hp);
		if (hp.ok) {
			hr = host_median(hp.reg_ns, hp.repeats);
			hu = host_median(hp.unreg_ns, hp.repeats);
		}
		if (sp.ok) {
			sr = host_median(sp.reg_ns, sp.repeats);
			su = host_median(sp.unreg_ns, sp.repeats);
		}
	}
	progress_clear(&prog);
	ratio = hp.ok && sp.ok && !c.thp && hr > 0 && hu > 0;
	/* pinmm's own registration cannot be unavailable: its failure is one. */
	if (host && !sp.ok) {
		fprintf(stderr, "pinmm: bench: %s\n", sp.why);
		return EXIT_FAIL;
	}

	if (json) {
		struct json_object *doc = json_object_new_object();
		struct json_object *get = json_object_new_array();
		struct json_object *put = json_object_new_array();

		jset(doc, "machine", machine_json(&hi));
		jset_str(doc, "benchmark", gup_test_cmd(c.api, c.longterm));
		jset_str(doc, "api", bench_api_name[c.api]);
		jset_int(doc, "gup_flags", gup_flags_of(&c));
		jset_int(doc, "size_mib", (long long)(c.bytes / MiB));
		jset_int(doc, "pages", r.pages);
		jset_int(doc, "pages_per_call", c.per_call);
		jset_int(doc, "calls_per_repeat", r.calls);
		jset_int(doc, "threads", c.threads);
		jset_bool(doc, "thp", c.thp);
		jset_int(doc, "thp_pmds", e.thp_pmds);
		jset_int(doc, "repeats", r.repeats);
		for (int i = 0; i < r.repeats; i++) {
			json_object_array_add(get, jnum(r.acq_ns[i] / 1e3, "%.3f"));
			json_object_array_add(put, jnum(r.rel_ns[i] / 1e3, "%.3f"));
		}
		jset(doc, "get_us", get);
		jset(doc, "put_us", put);
		jset(doc, "get_us_median", jnum(s.acq_med_ns / 1e3, "%.3f"));
		jset(doc, "put_us_median", jnum(s.rel_med_ns / 1e3, "%.3f"));
		jset(doc, "get_us_best", jnum(s.acq_min_ns / 1e3, "%.3f"));
		jset(doc, "put_us_best", jnum(s.rel_min_ns / 1e3, "%.3f"));
		jset(doc, "get_ns_per_page", jnum(s.acq_ns_page, "%.4f"));
		jset(doc, "put_ns_per_page", jnum(s.rel_ns_page, "%.4f"));
		jset(doc, "get_ns_per_call", jnum(s.acq_ns_call, "%.2f"));
		jset_int(doc, "verified_pages", r.verified);
		jset_int(doc, "nr_foll_pin_acquired_delta", r.vm_acquired);
		jset_int(doc, "nr_foll_pin_released_delta", r.vm_released);
		jset_int(doc, "gup_fast_fallback", r.vm_fallback);
		if (host) {
			struct json_object *h = json_object_new_object();

			jset_bool(h, "available", hp.ok);
			if (hp.ok) {
				jset_str(h, "method", "io_uring_register_buffers");
				jset(h, "register_us_median", jnum(hr / 1e3, "%.3f"));
				jset(h, "unregister_us_median", jnum(hu / 1e3, "%.3f"));
				jset_int(h, "nr_foll_pin_acquired_delta", hp.pins_acquired);
				jset_int(h, "nr_foll_pin_released_delta", hp.pins_released);
				jset(h, "pinmm_register_us_median", jnum_or_null(sr / 1e3, sp.ok));
				jset(h, "pinmm_unregister_us_median", jnum_or_null(su / 1e3, sp.ok));
				jset(h, "ratio_register", jnum_or_null(sr / hr, ratio));
				jset(h, "ratio_unregister", jnum_or_null(su / hu, ratio));
			} else {
				jset_str(h, "reason", hp.why);
			}
			jset(doc, "host", h);
		}
		json_print(stdout, doc, true);
		return EXIT_OK;
	}

	print_machine_line(stdout, &hi);
	printf("%s: %s(%s%s%s), %zu MiB = %ld pages, %ld pages/call, %s pages%s, %d thread%s, %d repeat%s\n",
	       gup_test_cmd(c.api, c.longterm), bench_api_name[c.api],
	       c.write ? "FOLL_WRITE" : "0", c.longterm ? "|FOLL_LONGTERM" : "",
	       c.extra_flags ? "|-F" : "", c.bytes / MiB, r.pages, c.per_call > 0 ? c.per_call : r.pages,
	       c.thp ? "THP" : "4K", c.thp ? "" : (c.nothp ? " (MADV_NOHUGEPAGE)" : ""),
	       c.threads, c.threads > 1 ? "s" : "", c.repeats, c.repeats > 1 ? "s" : "");
	if (c.thp)
		printf("THP: %ld of %zu PMDs of the region are huge\n", e.thp_pmds, c.bytes / PMD_BYTES);
	printf("warm-up: %ld of %ld pages verified %s; machine nr_foll_pin_acquired +%ld, "
	       "released +%ld; gup_fast_fallback %ld\n", r.verified, r.pages,
	       api_pins(c.api) ? "maybe_dma_pinned" : "referenced", r.vm_acquired,
	       r.vm_released, r.vm_fallback);
	for (int i = 0; i < r.repeats; i++)
		printf("get:%10.1f put:%10.1f us   (%.2f ns/page, %.1f ns/call acquire; %.2f ns/page release)\n",
		       r.acq_ns[i] / 1e3, r.rel_ns[i] / 1e3, r.acq_ns[i] / (double)r.pages,
		       r.acq_ns[i] / (double)r.calls, r.rel_ns[i] / (double)r.pages);
	printf("median: get %.1f us (%.3f ns/page, %.1f ns/call), put %.1f us (%.3f ns/page); "
	       "best: get %.1f us, put %.1f us\n", s.acq_med_ns / 1e3, s.acq_ns_page, s.acq_ns_call,
	       s.rel_med_ns / 1e3, s.rel_ns_page, s.acq_min_ns / 1e3, s.rel_min_ns / 1e3);
	if (c.threads > 1)
		printf("throughput: %.1f Mpages/s acquire+release over %d threads\n",
		       (double)r.pages / ((s.acq_med_ns + s.rel_med_ns) / 1e3), c.threads);
	if (host) {
		if (!hp.ok) {
			printf("host: unavailable: %s\n", hp.why);
		} else {
			printf("host: io_uring_register_buffers (FOLL_WRITE|FOLL_LONGTERM), %zu MiB %s, "
			       "Linux %s: register %.1f us (%.2f ns/page), unregister %.1f us "
			       "(%.2f ns/page), median of %d; host nr_foll_pin_acquired +%ld, released +%ld\n",
			       c.bytes / MiB, c.thp ? "MADV_HUGEPAGE" : "4K", hi.kernel, hr / 1e3,
			       hr / (double)r.pages, hu / 1e3, hu / (double)r.pages, hp.repeats,
			       hp.pins_acquired, hp.pins_released);
		}
		if (!sp.ok)
			printf("pinmm io_uring: failed: %s\n", sp.why);
		else
			printf("pinmm io_uring: pinmm_uring_register_buffers on the same region: register "
			       "%.1f us (%.2f ns/page), unregister %.1f us (%.2f ns/page), median of %d\n",
			       sr / 1e3, sr / (double)r.pages, su / 1e3, su / (double)r.pages, sp.repeats);
		if (ratio)
			printf("ratio pinmm/host, io_uring registration of the same buffer: register %.3f, "
			       "unregister %.3f (< 1: pinmm is faster)\n", sr / hr, su / hu);
		else if (hp.ok && sp.ok)
			printf("no ratio: with THP Linux coalesces each folio into one bvec and "
			       "drops its extra pins, pinmm does not (doc/BENCH.md)\n");
		printf("the GUP loop above has no host counterpart without CONFIG_GUP_TEST: "
		       "no ratio (see 'pinmm bench', its physical bound)\n");
	}
	return EXIT_OK;
}
