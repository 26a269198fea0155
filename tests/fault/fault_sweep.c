/* SPDX-License-Identifier: MIT */
/*
 * fault_sweep.c - the fail-nth sweep (doc/FAULT-INJECTION.md): every
 * workload below is run with its 1st, 2nd, ... fallible call failing
 * (pinmm_fail_nth_set(), counted from before boot) until a run completes
 * without reaching the armed failure.  After each run:
 *   - every call either succeeded or returned a negative errno (a crash or
 *     an assertion is a failure of the whole program);
 *   - if the machine booted, pinmm_audit() finds it consistent and
 *     pinmm_shutdown() finds no leaked frame or pin (0, or -EIO when the
 *     injected image error made the final writeback fail);
 *   - for the pinfs workload, a remount without injection reads back every
 *     byte that a completed fsync acknowledged.
 * Host memory leaks are LeakSanitizer's part (the ASan build runs this).
 *
 * Usage: fault_sweep [WORKLOAD...] [--max N]; with no WORKLOAD, all.
 * Environment: PINMM_FAULT_MAX caps the runs per workload (default 5000).
 * Prints TAP: one point per workload and a summary of the sites reached.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pinmm/pinmm.h>
#include <pinmm/fault.h>
#include <pinmm/pinfs.h>

#include "fault_sweep.h"

/* ---- the sweep --------------------------------------------------------------- */

static char imgdir[64];

/* After a run with pinfs: remount without injection, check acknowledged data. */
static const char *check_pinfs_acked(const struct run *r)
{
	static char why[160];
	static unsigned char buf[8 * 4096];
	struct pinmm_config cfg;
	struct pinmm_proc *p;
	struct pinmm *m;
	int fd, err;
	long n;

	if (!r->acked)
		return NULL;
	pinmm_config_default(&cfg);
	pinmm_config_set(&cfg, "ram", "64M");
	pinmm_config_set(&cfg, "quiet", "1");
	snprintf(cfg.pinfs_image, sizeof(cfg.pinfs_image), "%s", r->img);
	err = pinmm_boot(&cfg, &m);
	if (err) {
		/* the image may need fsck after a failed unmount; repair, retry */
		if (pinfs_check_image(r->img, true, NULL) < 0 || pinmm_boot(&cfg, &m)) {
			snprintf(why, sizeof(why), "remount failed: %s", pinmm_strerror(err));
			return why;
		}
	}
	why[0] = '\0';
	if (pinmm_proc_create(m, &p) == 0) {
		fd = pinmm_open(p, "/data/f", O_RDONLY, 0);
		n = fd < 0 ? fd : pinmm_pread(p, fd, buf, (size_t)r->acked_len, 0);
		if (n != r->acked_len)
			snprintf(why, sizeof(why), "acknowledged file: read %ld of %ld", n,
				 r->acked_len);
		for (long i = 0; !why[0] && i < r->acked_len; i++)
			if (buf[i] != r->acked_byte)
				snprintf(why, sizeof(why), "acknowledged byte %ld lost: %#x", i,
					 buf[i]);
	}
	if (pinmm_shutdown(m) && !why[0])
		snprintf(why, sizeof(why), "remount shutdown leaked");
	return why[0] ? why : NULL;
}

/*
 * After one run: audit, shutdown, acknowledged data.  @fired: the armed
 * failure was injected (then a final writeback -EIO is accepted).
 * Return: the problems found (printed).
 */
static int check_run(const struct workload *w, struct run *r, const char *label, bool fired,
		     long *shutdown_eio)
{
	int bad = 0, rc;

	if (r->m) {
		rc = pinmm_audit(r->m);
		if (rc) {
			printf("# %s %s: audit %s after %s\n", w->name, label, pinmm_strerror(rc),
			       r->where ? r->where : "(no error)");
			bad++;
		}
		rc = pinmm_shutdown(r->m);
		/*
		 * -EIO: the final writeback met (or reported again) the
		 * injected image error; a leak is -EBUSY whatever else.
		 */
		if (rc == -EIO && fired)
			(*shutdown_eio)++;
		else if (rc) {
			printf("# %s %s: shutdown %s (leak) after %s %s\n", w->name, label,
			       pinmm_strerror(rc), r->where ? r->where : "(no error)",
			       r->first_err ? pinmm_strerror(r->first_err) : "");
			bad++;
		}
	}
	if (w->pinfs) {
		const char *why = check_pinfs_acked(r);

		if (why) {
			printf("# %s %s: %s\n", w->name, label, why);
			bad++;
		}
	}
	return bad;
}

static void img_path(const struct workload *w, char *img, size_t size)
{
	snprintf(img, size, "%s/%s.img", imgdir, w->name);
}

static int sweep(const struct workload *w, long max, long *runs_out, long *inj_out)
{
	char img[128], label[32];
	long n, shutdown_eio = 0;
	int bad = 0;

	img_path(w, img, sizeof(img));
	for (n = 1; n <= max; n++) {
		struct run r = { .img = w->pinfs ? img : NULL };
		bool fired;

		if (w->pinfs)
			unlink(img);
		pinmm_fail_nth_set(n);
		w->fn(&r);
		fired = pinmm_fail_nth_get() == 0;
		pinmm_fail_nth_set(0);
		snprintf(label, sizeof(label), "nth=%ld", n);
		bad += check_run(w, &r, label, fired, &shutdown_eio);
		if (getenv("PINMM_FAULT_VERBOSE"))
			printf("# %s nth=%ld: %s%s %s\n", w->name, n, fired ? "injected" : "complete",
			       r.where ? ", failed at" : "", r.where ? r.where : "");
		if (!fired)
			break;
		(*inj_out)++;
	}
	if (w->pinfs)
		unlink(img);
	if (shutdown_eio)
		printf("# %s: %ld runs ended with shutdown -EIO (final writeback failed)\n",
		       w->name, shutdown_eio);
	*runs_out = n;
	if (n > max) {
		printf("# %s: still reaching new sites after %ld runs (raise PINMM_FAULT_MAX)\n",
		       w->name, max);
		bad++;
	}
	return bad;
}

/*
 * The thread phase: the library's own threads never arm fail-nth, so for
 * each workload and each library thread name, fail that thread's 1st,
 * 2nd, ... matching fallible call (fail.task=NAME, fail.space=k-1,
 * fail.times=1, probability 100) until a run injects nothing.  The
 * threads run on their own clocks (the flusher's period, the engine's
 * queue), so which call is the kth varies between runs; every run is
 * checked as in the sweep all the same.
 */
static const char *const task_names[] = { "flusher", "dio", "rdma_peer" };

static int thread_phase(const struct workload *w, long max, long *runs, long *inj)
{
	long shutdown_eio = 0;
	char img[128], label[64], space[24];
	int bad = 0;

	img_path(w, img, sizeof(img));
	for (size_t t = 0; t < sizeof(task_names) / sizeof(task_names[0]); t++) {
		for (long k = 0; k < max; k++) {
			struct run r = { .img = w->pinfs ? img : NULL };
			long before = pinmm_fail_injected();
			bool fired;

			if (w->pinfs)
				unlink(img);
			snprintf(space, sizeof(space), "%ld", k);
			pinmm_fail_configure("fail.task", task_names[t]);
			pinmm_fail_configure("fail.space", space);
			pinmm_fail_configure("fail.times", "1");
			pinmm_fail_configure("fail.probability", "100");
			w->fn(&r);
			pinmm_fail_configure("fail.probability", "0");
			pinmm_fail_configure("fail.task", "");
			pinmm_fail_configure("fail.space", "0");
			fired = pinmm_fail_injected() > before;
			snprintf(label, sizeof(label), "task=%s space=%ld", task_names[t], k);
			bad += check_run(w, &r, label, fired, &shutdown_eio);
			(*runs)++;
			if (getenv("PINMM_FAULT_VERBOSE"))
				printf("# %s %s: %s%s %s\n", w->name, label,
				       fired ? "injected" : "not reached",
				       r.where ? ", failed at" : "", r.where ? r.where : "");
			if (!fired)
				break;
			(*inj)++;
		}
	}
	if (w->pinfs)
		unlink(img);
	return bad;
}

/* ---- sites ------------------------------------------------------------------- */

#define MAX_SITES	512

/* Per site (in pinmm_fail_sites() order): its identity and who reached it. */
static struct site_rec {
	char file[96];
	char func[48];
	const char *kind;
	int line;
	long calls, failed;
	unsigned int reached_by;	/* bit i: workloads[i] evaluated it */
} sites[MAX_SITES];
static long nsites;

static void snap_site(const struct pinmm_fail_site *s, void *arg)
{
	long *i = arg;

	if (*i < MAX_SITES) {
		struct site_rec *r = &sites[*i];
		const char *src = strstr(s->file, "src/");

		snprintf(r->file, sizeof(r->file), "%s", src ? src : s->file);
		snprintf(r->func, sizeof(r->func), "%s", s->func);
		r->kind = s->kind;
		r->line = s->line;
		r->calls = s->calls;
		r->failed = s->failed;
	}
	(*i)++;
}

/* Refresh sites[] from the library; workload @wi (or -1) is the one that just ran. */
static void snap_sites(int wi)
{
	long before[MAX_SITES], n = 0;

	for (long i = 0; i < nsites; i++)
		before[i] = sites[i].calls;
	pinmm_fail_sites(snap_site, &n);
	if (n > MAX_SITES) {
		printf("Bail out! %ld sites, raise MAX_SITES\n", n);
		exit(2);
	}
	for (long i = 0; wi >= 0 && i < n && i < nsites; i++)
		if (sites[i].calls > before[i])
			sites[i].reached_by |= 1u << wi;
	nsites = n;
}

/*
 * The site phase: a site some workload reached but the fail-nth sweep
 * never failed - one reached only from the library's own threads (the
 * flusher, the O_DIRECT engine, RDMA peers), whose countdown the sweep does
 * not arm, or only during set-up the sweep holds the countdown for - is
 * failed once by name (fail.site=FILE:LINE, probability 100, times 1),
 * whichever thread reaches it first, and the run checked as in the sweep.
 */
static int site_phase(const struct workload *wl, size_t nwl, long *runs, long *inj)
{
	long shutdown_eio = 0;
	int bad = 0;

	for (long i = 0; i < nsites; i++) {
		struct site_rec *sr = &sites[i];
		char filter[160], label[200], img[128];

		if (sr->failed || !sr->reached_by)
			continue;
		for (size_t k = 0; k < nwl; k++) {
			const struct workload *w = &wl[k];
			struct run r = { 0 };
			long before = pinmm_fail_injected();
			bool fired;

			if (!(sr->reached_by & (1u << k)))
				continue;
			img_path(w, img, sizeof(img));
			r.img = w->pinfs ? img : NULL;
			if (w->pinfs)
				unlink(img);
			snprintf(filter, sizeof(filter), "%.95s:%d", sr->file, sr->line);
			if (pinmm_fail_configure("fail.site", filter) ||
			    pinmm_fail_configure("fail.times", "1") ||
			    pinmm_fail_configure("fail.probability", "100")) {
				printf("# site %s: filter too long\n", filter);
				bad++;
				break;
			}
			armed_site = filter;
			w->fn(&r);
			armed_site = NULL;
			fired = pinmm_fail_injected() > before;
			pinmm_fail_configure("fail.probability", "0");
			pinmm_fail_configure("fail.site", "");
			snprintf(label, sizeof(label), "site %.159s", filter);
			bad += check_run(w, &r, label, fired, &shutdown_eio);
			if (w->pinfs)
				unlink(img);
			(*runs)++;
			if (getenv("PINMM_FAULT_VERBOSE"))
				printf("# %s %s (%s): %s%s %s\n", w->name, label, sr->func,
				       fired ? "injected" : "not reached",
				       r.where ? ", failed at" : "", r.where ? r.where : "");
			if (fired) {
				(*inj)++;
				break;
			}
		}
	}
	return bad;
}

/*
 * Sites the sweep cannot reach or cannot fail are listed, each with its
 * reason, in the table of doc/FAULT-INJECTION.md ("Exceptions"): rows
 * "| `FILE` | `FUNCTION()` | reason |".  Return: whether @sr is listed.
 */
static bool site_excepted(const struct site_rec *sr, const char *doc)
{
	char pat[200];

	if (!doc)
		return false;
	snprintf(pat, sizeof(pat), "| `%.95s` | `%.47s()` |", sr->file, sr->func);
	return strstr(doc, pat) != NULL;
}

static char *read_doc(const char *path)
{
	FILE *f = path ? fopen(path, "r") : NULL;
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	const char *e = getenv("PINMM_FAULT_MAX");
	const char *docpath = getenv("PINMM_FAULT_EXCEPTIONS");
	long max = e ? atol(e) : 5000, total_runs = 0, total_inj = 0;
	long reached = 0, failed_sites = 0, unreached = 0, excepted = 0, unfailed = 0;
	size_t nwl = nr_workloads;
	int n = 0, failed = 0, bad;
	bool all = argc < 2;
	char *doc = read_doc(docpath);

	snprintf(imgdir, sizeof(imgdir), "%s/pinmm-fault.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(imgdir)) {
		perror("fault_sweep: mkdtemp");
		return 2;
	}
	pinmm_fail_reset();
	snap_sites(-1);
	for (size_t i = 0; i < nwl; i++) {
		const struct workload *w = &workloads[i];
		bool chosen = all;
		long runs = 0, inj = 0;

		for (int a = 1; a < argc; a++)
			chosen |= !strcmp(argv[a], w->name);
		if (!chosen)
			continue;
		data_lost = 0;
		bad = sweep(w, max, &runs, &inj);
		bad += thread_phase(w, max, &runs, &inj) + (int)data_lost;
		snap_sites((int)i);
		total_runs += runs;
		total_inj += inj;
		n++;
		printf("%s %d - %s: %ld runs, %ld with an injected failure, %d problems\n",
		       bad ? "not ok" : "ok", n, w->name, runs, inj, bad);
		failed += bad != 0;
	}
	{
		long runs = 0, inj = 0;

		bad = site_phase(workloads, nwl, &runs, &inj);
		snap_sites(-1);
		total_runs += runs;
		total_inj += inj;
		n++;
		printf("%s %d - sites failed by name (library threads, held set-up): %ld runs, "
		       "%ld with an injected failure, %d problems\n", bad ? "not ok" : "ok", n,
		       runs, inj, bad);
		failed += bad != 0;
	}
	for (long i = 0; i < nsites; i++) {
		const struct site_rec *sr = &sites[i];

		reached += sr->calls > 0;
		failed_sites += sr->failed > 0;
		if (getenv("PINMM_FAULT_SITES")) {
			printf("# site %-10s %s:%d %s() calls %ld failed %ld by", sr->kind, sr->file,
			       sr->line, sr->func, sr->calls, sr->failed);
			for (size_t k = 0; k < nwl; k++)
				if (sr->reached_by & (1u << k))
					printf(" %s", workloads[k].name);
			printf("\n");
		}
		if (!sr->calls) {
			if (site_excepted(sr, doc)) {
				excepted++;
			} else {
				unreached++;
				if (all)
					printf("# never reached, not an exception: %s %s:%d %s()\n",
					       sr->kind, sr->file, sr->line, sr->func);
			}
		} else if (!sr->failed && site_excepted(sr, doc)) {
			excepted++;
		} else if (!sr->failed) {
			unfailed++;
			if (all)
				printf("# reached but never failed: %s %s:%d %s()\n", sr->kind,
				       sr->file, sr->line, sr->func);
		}
	}
	printf("# sites compiled / reached: %ld / %ld (%ld failed at least once; %ld listed "
	       "exceptions)\n", nsites, reached, failed_sites, excepted);
	printf("# runs: %ld, with an injected failure: %ld\n", total_runs, total_inj);
	if (all) {
		n++;
		if (!doc)
			printf("# PINMM_FAULT_EXCEPTIONS does not name doc/FAULT-INJECTION.md\n");
		bad = !doc || unreached || unfailed;
		printf("%s %d - every compiled site reached and failed, or a listed exception "
		       "(%ld unreached, %ld never failed)\n", bad ? "not ok" : "ok", n, unreached,
		       unfailed);
		failed += bad;
	}
	free(doc);
	rmdir(imgdir);
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
