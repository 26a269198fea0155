/* SPDX-License-Identifier: MIT */
/*
 * torture_cmd.c - `pinmm torture`: every operation of the machine at once,
 * across threads, with a data-integrity oracle and invariant checkpoints
 * (doc/TORTURE.md).
 *
 * Threads: the main thread boots the machine, sets up the workers, prints
 * the progress line and stops everything when the time is up; T workers
 * (torture_ops.c) each run random operations on their own process; one
 * chaos thread runs machine-wide operations (compaction, reclaim, sync,
 * drop_caches, migration and THP split at random addresses of the workers'
 * processes) and every ~2 s a checkpoint:
 *
 *   1. chaos sets ckpt_req; each worker, between two operations, sees it,
 *      marks itself parked and waits until ckpt_req is cleared;
 *   2. chaos waits (30 s deadline) until every worker is parked: a worker
 *      still busy then is reported stuck with the operation it is in, and
 *      the run stops (its threads are not joined: the process exits);
 *   3. with the workers parked chaos runs pinmm_audit() and the vmstat
 *      checks, reads the host RSS, then clears ckpt_req and wakes them.
 */
/*
 * Under ASan or TSan the host RSS is mostly the sanitizer's: shadow memory
 * grows with every distinct address the run touches, and TSan keeps a sync
 * object per address ever used atomically (every struct page of the
 * memmap, in time).  The RSS bound is then not checked; the bound on the
 * live heap below is, in every build.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TORTURE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TORTURE_SANITIZED 1
#endif
#endif

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef TORTURE_SANITIZED
/*
 * The sanitizer allocator's count, from ASan's and TSan's runtimes
 * (<sanitizer/allocator_interface.h>, which gcc does not install).
 */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#include "json_out.h"
#include "progress.h"
#include "tool.h"
#include "torture.h"

#define CKPT_MS		2000
#define STUCK_MS	30000
#define PROGRESS_MS	2000

/*
 * RSS bound after warm-up.  Host memory of a run is the touched part of the
 * simulated RAM (frames are host pages touched on first use and reused
 * after free), the per-worker shadows and buffers (allocated at set-up,
 * before the first checkpoint) and the library's metadata.  Once every
 * worker has cycled through its region, file and a fork (the warm-up),
 * the frame allocator reuses freed frames; what may still grow is the set
 * of distinct frames touched, bounded by the peak of live memory: per
 * worker 2 MiB region + 2 MiB child copy + 256 KiB file cache + migration
 * targets, about 5 MiB.  A leak of one small allocation per operation, at
 * the 10^4-10^5 operations per second a run does, exceeds the bound within
 * seconds; growth beyond 16 MiB + 5 MiB per worker is flagged.
 */
#define RSS_BOUND(t)	((16L << 20) + (long)(t)->nthreads * (5L << 20))
#define WARMUP_MS	10000
/*
 * The warm-up ends at the first checkpoint after a quarter of the run, at
 * least WARMUP_MS; the bound is only checked on runs of RSS_MIN_RUN_MS or
 * more, since a shorter run is still growing into its working set (and
 * under TSan, into the shadow memory of what it touches).
 */
#define RSS_MIN_RUN_MS	60000

const char *const tt_op_name[TO_NR] = {
	[TO_LOAD] = "load", [TO_STORE] = "store", [TO_FORK] = "fork",
	[TO_GUP_FAST] = "gup_fast", [TO_GUP_SLOW] = "gup_slow",
	[TO_PIN_FAST] = "pin_fast", [TO_PIN_SLOW] = "pin_slow",
	[TO_PIN_LONG] = "pin_long", [TO_DMA_WRITE] = "dma_write",
	[TO_UNPIN] = "unpin", [TO_MUNMAP] = "munmap", [TO_MPROTECT] = "mprotect",
	[TO_DONTNEED] = "dontneed", [TO_PWRITE] = "pwrite", [TO_PREAD] = "pread",
	[TO_FMAP] = "fmap", [TO_TRUNCATE] = "truncate", [TO_PUNCH] = "punch",
	[TO_FSYNC] = "fsync", [TO_DIO_READ] = "dio_read", [TO_DIO_WRITE] = "dio_write",
	[TO_RDMA_MR] = "rdma_mr", [TO_RDMA_ODP] = "rdma_odp",
	[TO_MIGRATE] = "migrate", [TO_SPLIT_THP] = "split_thp",
	[TO_COMPACT] = "compact", [TO_RECLAIM] = "reclaim", [TO_SYNC] = "sync",
	[TO_DROP_CACHES] = "drop_caches", [TO_AUDIT] = "audit",
};

uint64_t tt_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* One attempt of an operation, and its errno when @rc < 0. */
void tt_count(struct tt_stat *st, long rc)
{
	tt_add(&st->n, 1);
	tt_count_err(st, rc);
}

void tt_count_err(struct tt_stat *st, long rc)
{
	if (rc < 0)
		tt_add(&st->err[-rc < TT_NERR ? -rc : TT_NERR - 1], 1);
}

void tt_violation(struct torture *t, const char *fmt, ...)
{
	va_list ap;
	long n = tt_add(&t->violations, 1);

	if (n >= 20)
		return;		/* the count is in the summary */
	pthread_mutex_lock(&t->report_lk);
	fputs(t->tty ? "\npinmm torture: VIOLATION: " : "pinmm torture: VIOLATION: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&t->report_lk);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}


/*
 * Live heap bound after warm-up.  The library's malloc()ed metadata (VMAs,
 * anon_vmas, page-table pages, files, pin records, notifier state) follows
 * the live state of the workers, which cycles; a leak of one allocation
 * per operation grows it without bound.  Frames are not on the heap.
 */
#define HEAP_BOUND(t)	((4L << 20) + (long)(t)->nthreads * (512L << 10))

/*
 * Bytes the program has allocated and not freed: the sanitizer allocator's
 * count in a sanitized build, glibc's in-use total otherwise.
 */
static long host_heap(void)
{
#ifdef TORTURE_SANITIZED
	return (long)__sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 mi = mallinfo2();

	return (long)(mi.uordblks + mi.hblkhd);
#endif
}

/* Resident set of this host process, in bytes (/proc/self/statm). */
static long host_rss(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size, rss = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss < 0 ? -1 : rss * sysconf(_SC_PAGESIZE);
}

static long total_ops(struct torture *t)
{
	long n = 0;

	for (int i = 0; i < t->nthreads; i++)
		for (int k = 0; k < TO_NR_WORKER; k++)
			n += tt_get(&t->w[i].st[k].n);
	for (int k = 0; k < TO_NR - TO_NR_WORKER; k++)
		n += tt_get(&t->chaos_st[k].n);
	return n;
}

/* ---- workers and the checkpoint barrier ------------------------------------- */

static void worker_park(struct tt_worker *w)
{
	struct torture *t = w->t;

	pthread_mutex_lock(&t->lk);
	w->parked = true;
	t->parked++;
	pthread_cond_broadcast(&t->cv);
	while (t->ckpt_req)
		pthread_cond_wait(&t->cv, &t->lk);
	t->parked--;
	w->parked = false;
	pthread_mutex_unlock(&t->lk);
}

static void *worker_main(void *arg)
{
	struct tt_worker *w = arg;
	struct torture *t = w->t;

	pinmm_set_current(w->p);
	while (!tt_get(&t->stop_workers)) {
		if (tt_get(&t->ckpt_req))
			worker_park(w);
		else
			tt_worker_op(w);
	}
	tt_set(&w->cur_op, "teardown");
	tt_worker_teardown(w);
	pinmm_set_current(NULL);
	tt_set(&w->done, true);
	return NULL;
}

/*
 * The pin balance.  Every FOLL_PIN reference is counted in
 * nr_foll_pin_acquired when taken and nr_foll_pin_released when dropped.
 * With the workers parked, no GUP call, DIO request or pinned RDMA region
 * is in flight (each is released inside its operation), so the pins still
 * held are exactly the workers' long-term pins.
 */
static void check_pins(struct torture *t, const char *when)
{
	long held = 0;
	long acq = pinmm_vmstat(t->m, "nr_foll_pin_acquired");
	long rel = pinmm_vmstat(t->m, "nr_foll_pin_released");

	for (int i = 0; i < t->nthreads; i++)
		held += tt_get(&t->w[i].nlpins);
	if (acq - rel != held)
		tt_violation(t, "%s: nr_foll_pin_acquired %ld - nr_foll_pin_released %ld = %ld, "
			     "but the workers hold %ld long-term pins", when, acq, rel,
			     acq - rel, held);
}

static void record_rss(struct torture *t, long t0)
{
	long rss = host_rss(), heap = host_heap();
	bool warm = now_ms() - t0 >= (t->duration_ms > 4 * WARMUP_MS ?
				      t->duration_ms / 4 : WARMUP_MS);

	if (!t->heap_first)
		t->heap_first = heap;
	if (!t->heap_base && warm)
		t->heap_base = heap;
	t->heap_last = heap;
	if (heap > t->heap_max)
		t->heap_max = heap;
	if (rss < 0)
		return;
	if (!t->rss_first)
		t->rss_first = rss;
	if (!t->rss_base && warm)
		t->rss_base = rss;
	tt_set(&t->rss_last, rss);
	if (rss > t->rss_max)
		t->rss_max = rss;
}

/* Return: false when a worker is stuck (the run must stop). */
static bool checkpoint(struct torture *t, long t0)
{
	struct timespec dl;
	bool ok = true;
	int rc;

	deadline_in(&dl, STUCK_MS);
	pthread_mutex_lock(&t->lk);
	tt_set(&t->ckpt_req, true);
	while (t->parked < t->nthreads) {
		if (pthread_cond_timedwait(&t->cv, &t->lk, &dl) == ETIMEDOUT) {
			for (int i = 0; i < t->nthreads; i++)
				if (!t->w[i].parked)
					tt_violation(t, "thread %d stuck for more than %d s in op %s",
						     i, STUCK_MS / 1000, tt_get(&t->w[i].cur_op));
			ok = false;
			break;
		}
	}
	pthread_mutex_unlock(&t->lk);
	if (ok) {
		rc = pinmm_audit(t->m);
		tt_count(&t->chaos_st[TO_AUDIT - TO_NR_WORKER], rc);
		if (rc)
			tt_violation(t, "checkpoint %ld: pinmm_audit() returned %s",
				     t->checkpoints + 1, pinmm_strerror(rc));
		check_pins(t, "checkpoint");
		record_rss(t, t0);
		tt_add(&t->checkpoints, 1);
	}
	pthread_mutex_lock(&t->lk);
	tt_set(&t->ckpt_req, false);
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->lk);
	return ok;
}

/* A random address of a live worker region, and its process. */
static struct pinmm_proc *chaos_target(struct torture *t, uint64_t *rng, unsigned long *addr)
{
	struct tt_worker *w = &t->w[tt_below(rng, (unsigned long)t->nthreads)];

	if (tt_below(rng, 4))
		*addr = w->base + tt_below(rng, TT_REG_LEN / 4096) * 4096;
	else
		*addr = w->fbase + tt_below(rng, TT_FILE_LEN / 4096) * 4096;
	return tt_get(&w->p);
}

static void *chaos_main(void *arg)
{
	struct torture *t = arg;
	uint64_t rng = t->seed * 0x9E3779B97F4A7C15ULL + 7;
	long t0 = now_ms(), next = t0 + CKPT_MS;
	struct pinmm_migrate_stats ms;
	struct tt_stat *st = t->chaos_st - TO_NR_WORKER;

	record_rss(t, t0);
	while (!tt_get(&t->stop_chaos)) {
		unsigned long addr;
		struct pinmm_proc *p = chaos_target(t, &rng, &addr);
		static const char *const zones[] = { "normal", "movable" };

		if (now_ms() >= next) {
			if (!checkpoint(t, t0)) {
				tt_set(&t->stop_chaos, true);
				break;
			}
			next = now_ms() + CKPT_MS;
		}
		switch (tt_below(&rng, 16)) {
		case 0:
			tt_count(&st[TO_COMPACT], pinmm_compact(t->m, &ms));
			break;
		case 1:
			tt_count(&st[TO_RECLAIM], pinmm_reclaim(t->m, 32));
			break;
		case 2:
			tt_count(&st[TO_SYNC], pinmm_sync(t->m));
			break;
		case 3:
			tt_count(&st[TO_DROP_CACHES], pinmm_drop_caches(t->m));
			break;
		case 4: case 5: case 6:
			tt_count(&st[TO_SPLIT_THP], pinmm_split_huge_page(p, addr));
			break;
		default:
			tt_count(&st[TO_MIGRATE],
				 pinmm_migrate_page(p, addr, zones[tt_below(&rng, 2)]));
			break;
		}
		usleep(200);	/* machine-wide work: leave the CPU to the workers */
	}
	tt_set(&t->chaos_done, true);
	return NULL;
}

/* ---- options, summary ------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("Usage: pinmm torture [--minutes N | --seconds S] [--threads T] [--seed S]\n"
	      "                     [--json] [--quiet]\n"
	      "\n"
	      "Run every operation of the machine at once on T worker threads (default 2)\n"
	      "and one chaos thread for the given time (default 1 minute), checking each\n"
	      "load against a shadow copy and the machine's invariants every 2 s.\n"
	      "Exit status: 0 no violation, 1 violations, 2 usage error.\n", f);
}

static int bad(const char *fmt, const char *arg)
{
	fputs("pinmm torture: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'pinmm torture --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

static bool parse_num(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return !errno && !*end && *out <= max;
}

static long sum_stat(struct torture *t, int op, int err)
{
	long n = 0;

	if (op >= TO_NR_WORKER)
		return err < 0 ? t->chaos_st[op - TO_NR_WORKER].n :
				 t->chaos_st[op - TO_NR_WORKER].err[err];
	for (int i = 0; i < t->nthreads; i++)
		n += err < 0 ? t->w[i].st[op].n : t->w[i].st[op].err[err];
	return n;
}

static void summary(struct torture *t, long ms, int shutdown_rc)
{
	long total = total_ops(t);
	double secs = ms / 1000.0;

	if (t->json) {
		struct json_object *doc = json_object_new_object();
		struct json_object *per_op = json_object_new_object();

		jset(doc, "seconds", jnum(secs, "%.1f"));
		jset_int(doc, "threads", t->nthreads);
		jset(doc, "seed", json_object_new_uint64(t->seed));
		jset_int(doc, "ops", total);
		jset_int(doc, "checkpoints", t->checkpoints);
		jset_int(doc, "violations", t->violations);
		jset_str(doc, "shutdown", pinmm_strerror(shutdown_rc));
		jset_int(doc, "rss_first", t->rss_first);
		jset_int(doc, "rss_last", t->rss_last);
		jset_int(doc, "rss_max", t->rss_max);
		jset_int(doc, "heap_first", t->heap_first);
		jset_int(doc, "heap_last", t->heap_last);
		jset_int(doc, "heap_max", t->heap_max);
		for (int op = 0; op < TO_NR; op++) {
			struct json_object *o = json_object_new_object();
			struct json_object *errs = json_object_new_object();

			jset_int(o, "count", sum_stat(t, op, -1));
			for (int e = 1; e < TT_NERR; e++)
				if (sum_stat(t, op, e))
					jset_int(errs, pinmm_strerror(-e), sum_stat(t, op, e));
			jset(o, "errors", errs);
			jset(per_op, tt_op_name[op], o);
		}
		jset(doc, "per_op", per_op);
		json_print(stdout, doc, false);
		return;
	}
	printf("pinmm torture: %.1f s, %d worker threads, seed %llu\n", secs, t->nthreads,
	       (unsigned long long)t->seed);
	printf("%-12s %10s  %s\n", "operation", "count", "errors");
	for (int op = 0; op < TO_NR; op++) {
		printf("%-12s %10ld ", tt_op_name[op], sum_stat(t, op, -1));
		for (int e = 1; e < TT_NERR; e++)
			if (sum_stat(t, op, e))
				printf(" %s:%ld", pinmm_strerror(-e), sum_stat(t, op, e));
		putchar('\n');
	}
	printf("operations   %ld (%.0f/s)\n", total, secs > 0 ? total / secs : 0.0);
	printf("checkpoints  %ld\n", t->checkpoints);
	printf("host RSS     first %.1f MiB, after warm-up %.1f MiB, last %.1f MiB, "
	       "max %.1f MiB\n", t->rss_first / 1048576.0, t->rss_base / 1048576.0,
	       t->rss_last / 1048576.0, t->rss_max / 1048576.0);
	printf("live heap    first %.1f MiB, after warm-up %.1f MiB, last %.1f MiB, "
	       "max %.1f MiB\n", t->heap_first / 1048576.0, t->heap_base / 1048576.0,
	       t->heap_last / 1048576.0, t->heap_max / 1048576.0);
	printf("shutdown     %s\n", pinmm_strerror(shutdown_rc));
	printf("violations   %ld\n", t->violations);
}

static int boot(struct torture *t, char *dir, char *img, size_t imglen)
{
	struct pinmm_config cfg;
	char seed[32];
	int rc;

	if (!mkdtemp(dir))
		return -errno;
	snprintf(img, imglen, "%s/pinfs.img", dir);
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)t->seed);
	pinmm_config_default(&cfg);
	if ((rc = pinmm_config_set(&cfg, "ram", "256M")) ||
	    (rc = pinmm_config_set(&cfg, "zone.movable", "64M")) ||
	    (rc = pinmm_config_set(&cfg, "quiet", "1")) ||
	    (rc = pinmm_config_set(&cfg, "seed", seed)) ||
	    (rc = pinmm_config_set(&cfg, "pinfs.image", img)) ||
	    (rc = pinmm_config_set(&cfg, "pinfs.size", "32M")))
		return rc;
	return pinmm_boot(&cfg, &t->m);
}

/* Wait until every thread is done, at most @ms; Return: false on timeout. */
static bool wait_done(struct torture *t, bool chaos, long ms)
{
	long end = now_ms() + ms;

	for (;;) {
		bool all = true;

		if (chaos)
			all = tt_get(&t->chaos_done);
		else
			for (int i = 0; i < t->nthreads; i++)
				all &= tt_get(&t->w[i].done);
		if (all)
			return true;
		if (now_ms() >= end)
			return false;
		usleep(10000);
	}
}

static void every_op_ran(struct torture *t)
{
	for (int op = 0; op < TO_NR; op++)
		if (!sum_stat(t, op, -1))
			tt_violation(t, "operation %s never ran", tt_op_name[op]);
}

static int run(struct torture *t)
{
	char dir[] = "/tmp/pinmm-torture-XXXXXX", img[64];
	struct progress prog;
	long t0, ms;
	pthread_t chaos;
	int rc, started = 0;
	bool chaos_started = false;

	if ((rc = boot(t, dir, img, sizeof(img)))) {
		fprintf(stderr, "pinmm torture: boot: %s\n", pinmm_strerror(rc));
		return EXIT_FAIL;
	}
	for (int i = 0; i < t->nthreads; i++) {
		struct tt_worker *w = &t->w[i];

		w->t = t;
		w->id = i;
		w->rng = (t->seed + 1) * 0x9E3779B97F4A7C15ULL + (uint64_t)i * 0xD1B54A32D192ED03ULL;
		w->cur_op = "set-up";
		if ((rc = tt_worker_setup(w)))
			tt_violation(t, "thread %d: set-up failed: %s", i, pinmm_strerror(rc));
	}
	t0 = now_ms();
	if (!t->violations) {
		for (; started < t->nthreads; started++)
			if (pthread_create(&t->w[started].tid, NULL, worker_main, &t->w[started]))
				break;
		chaos_started = started == t->nthreads &&
				!pthread_create(&chaos, NULL, chaos_main, t);
		if (!chaos_started) {
			tt_violation(t, "cannot start the threads");
			tt_set(&t->stop_workers, true);
			tt_set(&t->chaos_done, true);
		}
		progress_begin(&prog, "pinmm torture", 0);
		prog.on = prog.on && !t->quiet;
		while (!tt_get(&t->stop_chaos) && !tt_get(&t->chaos_done) &&
		       now_ms() - t0 < t->duration_ms) {
			usleep(50000);
			ms = now_ms() - t0;
			progress_show(&prog, PROGRESS_MS, "%lds/%lds  ops %ld (%.0f/s)  checkpoints %ld  "
				      "violations %ld  rss %.1f MiB", ms / 1000,
				      t->duration_ms / 1000, total_ops(t),
				      ms ? total_ops(t) * 1000.0 / ms : 0.0,
				      tt_get(&t->checkpoints), tt_get(&t->violations),
				      tt_get(&t->rss_last) / 1048576.0);
		}
		progress_clear(&prog);
		tt_set(&t->stop_chaos, true);
		if (!wait_done(t, true, STUCK_MS + 5000)) {
			tt_violation(t, "the chaos thread did not stop within %d s", STUCK_MS / 1000);
			goto stuck;
		}
		if (chaos_started)
			pthread_join(chaos, NULL);
	}
	ms = now_ms() - t0;
	tt_set(&t->stop_workers, true);
	if (!wait_done(t, false, STUCK_MS)) {
		for (int i = 0; i < t->nthreads; i++)
			if (!tt_get(&t->w[i].done))
				tt_violation(t, "thread %d stuck for more than %d s in op %s", i,
					     STUCK_MS / 1000, tt_get(&t->w[i].cur_op));
		goto stuck;
	}
	for (int i = 0; i < started; i++)
		pthread_join(t->w[i].tid, NULL);
	if (!started)
		for (int i = 0; i < t->nthreads; i++)
			tt_worker_teardown(&t->w[i]);
	check_pins(t, "end");
	if ((rc = pinmm_audit(t->m)))
		tt_violation(t, "final pinmm_audit() returned %s", pinmm_strerror(rc));
#ifndef TORTURE_SANITIZED
	if (t->duration_ms >= RSS_MIN_RUN_MS && t->rss_base &&
	    t->rss_last - t->rss_base > RSS_BOUND(t))
		tt_violation(t, "host RSS grew by %.1f MiB after warm-up (bound %.1f MiB)",
			     (t->rss_last - t->rss_base) / 1048576.0, RSS_BOUND(t) / 1048576.0);
#endif
	if (t->duration_ms >= RSS_MIN_RUN_MS && t->heap_base &&
	    t->heap_last - t->heap_base > HEAP_BOUND(t))
		tt_violation(t, "live heap grew by %.1f MiB after warm-up (bound %.1f MiB)",
			     (t->heap_last - t->heap_base) / 1048576.0,
			     HEAP_BOUND(t) / 1048576.0);
	if (t->duration_ms >= 3000)
		every_op_ran(t);
	rc = pinmm_shutdown(t->m);
	if (rc)
		tt_violation(t, "pinmm_shutdown() returned %s (leak)", pinmm_strerror(rc));
	unlink(img);
	rmdir(dir);
	summary(t, ms, rc);
	return t->violations ? EXIT_FAIL : EXIT_OK;
stuck:
	/* Threads are blocked inside the library: report and leave without teardown. */
	summary(t, now_ms() - t0, -EBUSY);
	fflush(NULL);
	unlink(img);
	rmdir(dir);
	_exit(EXIT_FAIL);
}

int pinmm_cmd_torture(int argc, char **argv)
{
	struct torture t = { .nthreads = 2, .seed = 1, .duration_ms = 60000 };
	unsigned long long v;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--json")) {
			t.json = true;
		} else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
			t.quiet = true;
		} else if (!strcmp(a, "--minutes") || !strcmp(a, "--seconds")) {
			bool min = a[2] == 'm';

			if (!parse_num(val, min ? 24 * 60 : 24 * 3600, &v) || !v)
				return bad(min ? "--minutes wants a number of minutes "
					   "(1..1440), not '%s'" : "--seconds wants a number "
					   "of seconds (1..86400), not '%s'", val ? val : "");
			t.duration_ms = (long)v * (min ? 60000 : 1000);
			i++;
		} else if (!strcmp(a, "--threads")) {
			if (!parse_num(val, 64, &v) || !v)
				return bad("--threads wants a number from 1 to 64, not '%s'",
					   val ? val : "");
			t.nthreads = (int)v;
			i++;
		} else if (!strcmp(a, "--seed")) {
			if (!parse_num(val, ~0ULL, &v))
				return bad("--seed wants a non-negative number, not '%s'",
					   val ? val : "");
			t.seed = v;
			i++;
		} else {
			return bad("unknown option '%s'", a);
		}
	}
	t.tty = isatty(STDERR_FILENO);
	t.w = calloc((size_t)t.nthreads, sizeof(*t.w));
	if (!t.w) {
		fputs("pinmm torture: out of memory\n", stderr);
		return EXIT_FAIL;
	}
	pthread_mutex_init(&t.lk, NULL);
	pthread_cond_init(&t.cv, NULL);
	pthread_mutex_init(&t.report_lk, NULL);
	rc = run(&t);
	free(t.w);
	return rc;
}
