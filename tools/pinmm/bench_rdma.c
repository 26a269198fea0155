/* SPDX-License-Identifier: MIT */
/*
 * bench_rdma.c - `pinmm bench rdma`: the RDMA figures of the issue "The
 * long-term and mirror cases", measured on simulated machines through the
 * public API only (<pinmm/rdma.h>).
 *
 *  R1  register + deregister 1 GiB of pre-faulted 4 KiB pages (pinned MR:
 *      pin_user_pages_fast(FOLL_LONGTERM | FOLL_WRITE) + pinned_vm, then
 *      unpin dirty), µs each, best of the repeats;
 *  R2  the same on THP-backed memory;
 *  R3  register + deregister 1 GiB ODP (no pins: notifier insert/remove);
 *  W1-W4  a remote peer thread doing 4 KiB RDMA WRITEs, sweeping a 64 MiB
 *      region, for a fixed time: on a pinned MR and on an ODP MR, each
 *      without and with a concurrent invalidator thread (MADV_DONTNEED of
 *      one 2 MiB slice of the region after another, and mprotect of the
 *      whole region to the same protection): operations/s, and for ODP
 *      invalidations/s and device page faults/s.
 *
 * Exit status: 0 measured, 1 a measurement failed, 2 usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pinmm/rdma.h>
#include "bench.h"
#include "json_out.h"
#include "progress.h"
#include "tool.h"

#define B_MiB (1024ULL * 1024)
#define B_GiB (1024ULL * B_MiB)
#define RDMA_RW (IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_READ)

int bench_rdma(int argc, char **argv);

static int rb_boot(uint64_t ram, const char *thp, struct pinmm **m)
{
	struct pinmm_config cfg;
	char buf[32];

	pinmm_config_default(&cfg);
	snprintf(buf, sizeof(buf), "%" PRIu64, ram);
	if (pinmm_config_set(&cfg, "ram", buf) || pinmm_config_set(&cfg, "debug", "0") ||
	    pinmm_config_set(&cfg, "thp", thp) ||
	    pinmm_config_set(&cfg, "rlimit.memlock", "unlimited") ||
	    pinmm_config_set(&cfg, "quiet", "1"))
		return -EINVAL;
	return pinmm_boot(&cfg, m);
}

struct reg_result {
	double reg_us, dereg_us;	/* best of the repeats */
	long pages;
};

/* R1-R3: register and deregister @bytes @repeats times. */
static int bench_reg(bool thp, bool odp, size_t bytes, int repeats, struct reg_result *r)
{
	struct pinmm *m = NULL;
	struct pinmm_proc *p = NULL;
	struct pinmm_rdma_mr_info mr;
	long a;
	int pd, ret;

	ret = rb_boot(bytes + bytes / 8 + 256 * B_MiB, thp ? "madvise" : "never", &m);
	if (ret)
		return ret;
	ret = pinmm_proc_create(m, &p);
	if (ret)
		goto out;
	a = pinmm_mmap(p, 0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a < 0) {
		ret = (int)a;
		goto out;
	}
	pinmm_madvise(p, (unsigned long)a, bytes, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	ret = pinmm_madvise(p, (unsigned long)a, bytes, MADV_POPULATE_WRITE);
	if (ret)
		goto out;
	pd = pinmm_rdma_alloc_pd(p);
	if (pd < 0) {
		ret = pd;
		goto out;
	}
	r->reg_us = r->dereg_us = 1e30;
	for (int i = 0; i < repeats; i++) {
		uint64_t t0 = bench_now_ns(), t1, t2;

		ret = pinmm_rdma_reg_mr(p, pd, (unsigned long)a, bytes,
					RDMA_RW | (odp ? IB_ACCESS_ON_DEMAND : 0), &mr);
		t1 = bench_now_ns();
		if (ret)
			goto out;
		ret = pinmm_rdma_dereg_mr(p, pd, mr.lkey);
		t2 = bench_now_ns();
		if (ret)
			goto out;
		if ((double)(t1 - t0) / 1e3 < r->reg_us)
			r->reg_us = (double)(t1 - t0) / 1e3;
		if ((double)(t2 - t1) / 1e3 < r->dereg_us)
			r->dereg_us = (double)(t2 - t1) / 1e3;
		r->pages = (long)mr.npages;
	}
out:
	if (pinmm_shutdown(m) && !ret)
		ret = -EBUSY;
	return ret;
}

struct invalidator {
	struct pinmm_proc *p;
	unsigned long a;
	size_t bytes;
	atomic_bool stop;
	long rounds;
};

static void *invalidator_thread(void *arg)
{
	struct invalidator *inv = arg;
	size_t slice = 2 * B_MiB, off = 0;

	while (!atomic_load_explicit(&inv->stop, memory_order_relaxed)) {
		pinmm_madvise(inv->p, inv->a + off, slice, MADV_DONTNEED);
		if (!(inv->rounds % 4))
			pinmm_mprotect(inv->p, inv->a, inv->bytes, PROT_READ | PROT_WRITE);
		off = (off + slice) % inv->bytes;
		inv->rounds++;
		/* About 1000 invalidations per second: a busy but not absurd mm. */
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

struct work_result {
	double ops_s, mib_s, inval_s, faults_s, retries_s;
	long refused;
};

/* W1-W4: a remote-write peer for @secs seconds. */
static int bench_work(bool odp, bool invalidate, size_t bytes, double secs,
		      struct work_result *r)
{
	struct pinmm *m = NULL;
	struct pinmm_proc *p = NULL;
	struct pinmm_rdma_mr_info mr;
	struct pinmm_rdma_peer *peer = NULL;
	struct pinmm_rdma_peer_stats ps;
	struct pinmm_rdma_stats st0, st1;
	struct invalidator inv = { 0 };
	pthread_t t;
	bool running = false;
	long a;
	int pd, ret;

	ret = rb_boot(bytes * 2 + 256 * B_MiB, "never", &m);
	if (ret)
		return ret;
	ret = pinmm_proc_create(m, &p);
	if (ret)
		goto out;
	a = pinmm_mmap(p, 0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a < 0) {
		ret = (int)a;
		goto out;
	}
	ret = pinmm_madvise(p, (unsigned long)a, bytes, MADV_POPULATE_WRITE);
	pd = pinmm_rdma_alloc_pd(p);
	if (ret || pd < 0) {
		ret = ret ? ret : pd;
		goto out;
	}
	ret = pinmm_rdma_reg_mr(p, pd, (unsigned long)a, bytes,
				RDMA_RW | (odp ? IB_ACCESS_ON_DEMAND : 0), &mr);
	if (ret)
		goto out;
	struct pinmm_rdma_peer_cfg cfg = {
		.rkey = mr.rkey, .iova = (uint64_t)a, .length = bytes, .op_size = 4096,
		.write_pct = 100, .pattern = 0x5a,
	};
	pinmm_rdma_pd_stats(p, pd, &st0);
	if (invalidate) {
		inv.p = p;
		inv.a = (unsigned long)a;
		inv.bytes = bytes;
		if (pthread_create(&t, NULL, invalidator_thread, &inv)) {
			ret = -EAGAIN;
			goto out;
		}
		running = true;
	}
	ret = pinmm_rdma_peer_start(p, pd, &cfg, &peer);
	if (ret)
		goto stop;
	struct timespec ts = { (time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9) };
	nanosleep(&ts, NULL);
	pinmm_rdma_peer_stop(peer, &ps);
	pinmm_rdma_pd_stats(p, pd, &st1);
	r->ops_s = (double)ps.ops / ps.seconds;
	r->mib_s = r->ops_s * 4096 / (double)B_MiB;
	r->inval_s = (double)(st1.invalidations - st0.invalidations) / ps.seconds;
	r->faults_s = (double)(st1.device_faults - st0.device_faults) / ps.seconds;
	r->retries_s = (double)(st1.fault_retries - st0.fault_retries) / ps.seconds;
	r->refused = ps.refused;
stop:
	if (running) {
		atomic_store(&inv.stop, true);
		pthread_join(t, NULL);
	}
	if (!ret)
		ret = pinmm_rdma_dereg_mr(p, pd, mr.lkey);
out:
	if (pinmm_shutdown(m) && !ret)
		ret = -EBUSY;
	return ret;
}

static void rdma_usage(FILE *f)
{
	fputs("Usage: pinmm bench rdma [--json] [-t SECONDS] [-r REPEATS]\n"
	      "\n"
	      "  R1  register+deregister 1 GiB pinned MR, 4 KiB pages (us)\n"
	      "  R2  the same on THP-backed memory (us)\n"
	      "  R3  register+deregister 1 GiB ODP MR (us; no pins)\n"
	      "  W1  remote 4 KiB writes on a pinned MR (ops/s)\n"
	      "  W2  the same on an ODP MR (ops/s, device faults/s)\n"
	      "  W3  pinned MR with a concurrent invalidator (MADV_DONTNEED + mprotect)\n"
	      "  W4  ODP MR with the same invalidator (ops/s, invalidations/s, faults/s)\n"
	      "\n"
	      "  -t SECONDS  duration of each W run (default 1, 0.1..30)\n"
	      "  -r REPEATS  repeats of each R run, best reported (default 3, 1..16)\n"
	      "  --json      JSON instead of the table\n", f);
}

int bench_rdma(int argc, char **argv)
{
	const char *names[] = { "4K", "THP", "ODP" };
	struct reg_result rr[3] = { 0 };
	struct work_result wr[4] = { 0 };
	double secs = 1.0;
	int repeats = 3;
	struct progress prog;
	bool json = false;
	int ret;

	for (int i = 1; i < argc; i++) {
		char *end;

		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			rdma_usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			secs = strtod(argv[++i], &end);
			if (*end || secs < 0.1 || secs > 30) {
				fprintf(stderr, "pinmm: bench rdma: -t needs 0.1..30 seconds, not '%s'\n",
					argv[i]);
				return EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "-r") && i + 1 < argc) {
			repeats = (int)strtol(argv[++i], &end, 10);
			if (*end || repeats < 1 || repeats > 16) {
				fprintf(stderr, "pinmm: bench rdma: -r needs 1..16, not '%s'\n", argv[i]);
				return EXIT_USAGE;
			}
		} else {
			fprintf(stderr, "pinmm: bench rdma: unknown argument '%s'\n", argv[i]);
			rdma_usage(stderr);
			return EXIT_USAGE;
		}
	}
	progress_begin(&prog, "pinmm bench rdma", 7);
	for (int i = 0; i < 3; i++) {
		progress_step(&prog, "R%d: register + deregister 1 GiB, %s", i + 1, names[i]);
		ret = bench_reg(i == 1, i == 2, B_GiB, repeats, &rr[i]);
		if (ret) {
			progress_clear(&prog);
			fprintf(stderr, "pinmm: bench rdma: R%d (%s) failed: %s\n", i + 1, names[i],
				pinmm_strerror(ret));
			return EXIT_FAIL;
		}
	}
	for (int i = 0; i < 4; i++) {
		progress_step(&prog, "W%d: remote writes for %.1f s", i + 1, secs);
		ret = bench_work(i & 1, i >= 2, 64 * B_MiB, secs, &wr[i]);
		if (ret) {
			progress_clear(&prog);
			fprintf(stderr, "pinmm: bench rdma: W%d failed: %s\n", i + 1,
				pinmm_strerror(ret));
			return EXIT_FAIL;
		}
	}
	progress_clear(&prog);
	/* Rows in the order of the usage text: W1 pinned, W2 ODP, W3, W4. */
	const struct work_result *w[4] = { &wr[0], &wr[1], &wr[2], &wr[3] };
	const char *wname[4] = { "pinned", "ODP", "pinned + invalidator", "ODP + invalidator" };

	if (json) {
		struct json_object *doc = json_object_new_object();
		struct json_object *reg = json_object_new_array();
		struct json_object *wr4k = json_object_new_array();
		char id[8];

		for (int i = 0; i < 3; i++) {
			struct json_object *o = json_object_new_object();

			snprintf(id, sizeof(id), "R%d", i + 1);
			jset_str(o, "id", id);
			jset_str(o, "memory", names[i]);
			jset_int(o, "pages", rr[i].pages);
			jset(o, "reg_us", jnum(rr[i].reg_us, "%.0f"));
			jset(o, "dereg_us", jnum(rr[i].dereg_us, "%.0f"));
			json_object_array_add(reg, o);
		}
		for (int i = 0; i < 4; i++) {
			struct json_object *o = json_object_new_object();

			snprintf(id, sizeof(id), "W%d", i + 1);
			jset_str(o, "id", id);
			jset_str(o, "mr", wname[i]);
			jset(o, "ops_per_s", jnum(w[i]->ops_s, "%.0f"));
			jset(o, "mib_per_s", jnum(w[i]->mib_s, "%.1f"));
			jset(o, "invalidations_per_s", jnum(w[i]->inval_s, "%.0f"));
			jset(o, "device_faults_per_s", jnum(w[i]->faults_s, "%.0f"));
			jset(o, "fault_retries_per_s", jnum(w[i]->retries_s, "%.0f"));
			jset_int(o, "refused", w[i]->refused);
			json_object_array_add(wr4k, o);
		}
		jset(doc, "register_1GiB", reg);
		jset(doc, "remote_write_4K", wr4k);
		json_print(stdout, doc, true);
		return EXIT_OK;
	}
	printf("pinmm bench rdma (simulated machines, debug=0; best of %d, %.1f s per W run)\n\n",
	       repeats, secs);
	printf("%-4s %-34s %12s %12s\n", "id", "register + deregister 1 GiB", "reg us", "dereg us");
	for (int i = 0; i < 3; i++) {
		char what[64];

		snprintf(what, sizeof(what), "%s MR (%ld pages)", names[i], rr[i].pages);
		printf("R%-3d %-34s %12.0f %12.0f\n", i + 1, what, rr[i].reg_us, rr[i].dereg_us);
	}
	printf("\n%-4s %-26s %11s %9s %11s %10s %10s %8s\n", "id", "remote 4K WRITE, 64 MiB MR",
	       "ops/s", "MiB/s", "inval/s", "faults/s", "retries/s", "refused");
	for (int i = 0; i < 4; i++)
		printf("W%-3d %-26s %11.0f %9.1f %11.0f %10.0f %10.0f %8ld\n", i + 1, wname[i],
		       w[i]->ops_s, w[i]->mib_s, w[i]->inval_s, w[i]->faults_s, w[i]->retries_s,
		       w[i]->refused);
	return EXIT_OK;
}
