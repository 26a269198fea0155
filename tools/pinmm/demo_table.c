/* SPDX-License-Identifier: MIT */
/*
 * demo_table.c - `pinmm demo` (the main job): the three pin users of the
 * seeds -- a DIO reader (short-term pin), a long-term "RDMA" writer and an
 * ODP (notifier) user -- run against writeback, reclaim, hole punch and
 * truncate under each fs.pinned_policy, on a fresh pinfs image each; the
 * data-integrity oracle (oracle.c) checks every byte after sync, shutdown
 * and a new boot on the same image.  One table per case, policies as rows,
 * then the verdicts of the issue.  doc/DEMO.md explains every column.
 * `pinmm demo --tour` is the guided tour of demo.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pinmm/dio.h>
#include <pinmm/lease.h>
#include <pinmm/pinfs.h>
#include <pinmm/rdma.h>

#include "oracle.h"
#include "tool.h"

#include "demo_table.h"
#include "json_out.h"
#include "progress.h"

struct run {
	const struct dt_opts *opt;
	struct dt_result *res;
	enum dcase dcase;
	char dir[64], img[128];
	struct pinmm *m;
	struct pinmm_proc *p;
	struct oracle *o;
	int vfid, sfid, rfid, zfid;
	int vfd, sfd, rfd, zfd;
	unsigned long vmap, rpages;
	unsigned char *buf;
	/* the device side of cases (b) and (c) */
	pthread_mutex_t dev_lock;
	pthread_t dev_thread;
	bool dev_started, stop, live, use_lease;
	int pd;
	uint32_t rkey;
	uint64_t iova, pin_epoch;
	struct pinmm_lease *lease;
	/* dio: the DIO completed before the event it was meant to straddle */
	bool missed;
};

/* Repeats of a DIO iteration whose event did not land inside the DIO. */
#define DIO_WINDOW_TRIES 8

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int fail(struct run *r, int rc, const char *what)
{
	if (!r->res->error) {
		r->res->error = rc ? rc : -EPROTO;
		snprintf(r->res->errwhat, sizeof(r->res->errwhat), "%s", what);
	}
	return r->res->error;
}

static int boot(struct run *r, int row, bool latencies)
{
	/* dio.latency_us, writeback.latency_us: see dio_iteration() */
	static const char *lat[NR_CASES][2] = { { "60000", "25000" }, { "0", "10000" },
						{ "0", "10000" } };
	static const char *qlat[NR_CASES][2] = { { "50000", "20000" }, { "0", "5000" },
						 { "0", "5000" } };
	struct pinmm_config cfg;
	const char *(*l)[2] = r->opt->quick ? qlat : lat;
	/* Above the DIO latency: holdoff waits out a short-term pin; a long-term one never ends. */
	const char *hold = r->dcase == C_DIO ? "200" : r->opt->quick ? "20" : "40";
	int rc;

	pinmm_config_default(&cfg);
	if ((rc = pinmm_config_set(&cfg, "ram", "64M")) ||
	    (rc = pinmm_config_set(&cfg, "quiet", "1")) ||
	    (rc = pinmm_config_set(&cfg, "pinfs.image", r->img)) ||
	    (rc = pinmm_config_set(&cfg, "pinfs.size", "8M")) ||
	    (rc = pinmm_config_set(&cfg, "fs.pinned_policy", demo_rows[row].policy)) ||
	    (rc = pinmm_config_set(&cfg, "pinfs.dirty_no_blocks", demo_rows[row].no_blocks)) ||
	    (rc = pinmm_config_set(&cfg, "holdoff_ms", hold)) ||
	    (rc = pinmm_config_set(&cfg, "lease_break_ms", r->opt->quick ? "20" : "40")) ||
	    (latencies && (rc = pinmm_config_set(&cfg, "dio.latency_us", l[r->dcase][0]))) ||
	    (latencies && (rc = pinmm_config_set(&cfg, "writeback.latency_us", l[r->dcase][1]))) ||
	    (rc = trace_files_next(&demo_trace, &cfg)))
		return rc;
	if (demo_trace.base)	/* latencies: the run's machine; without: the remount */
		r->res->traces[!latencies] = demo_trace.boots;
	if ((rc = pinmm_boot(&cfg, &r->m)))
		return rc;
	rc = pinmm_proc_create(r->m, &r->p);
	if (!rc)
		rc = pinmm_proc_set_rlimit_memlock(r->p, 1ULL << 30);
	return rc;
}

/* ---- writers and events ------------------------------------------------------- */

/* The CPU stores one whole self-describing page through the mapping. */
static int cpu_write(struct run *r, unsigned long pg)
{
	uint64_t w = oracle_word_for(r->o, r->vfid, pg, ORACLE_CPU, oracle_next_gen(r->o));
	long n;

	oracle_fill(r->buf, PG, w);
	n = pinmm_store(r->p, r->vmap + pg * PG, r->buf, PG);
	if (n != (long)PG)
		return fail(r, n < 0 ? (int)n : -EIO, "CPU store into the mapping");
	oracle_wrote(r->o, r->vfid, pg, w, ORACLE_NOW, 0);
	return 0;
}

/* Write @n self-describing pages to @fd (O_DIRECT) of @fid at page @first. */
static long dio_fill(struct run *r, int fd, int fid, unsigned long first, unsigned long n)
{
	unsigned char *b = malloc(n * PG);
	uint64_t *w = calloc(n, sizeof(*w));
	long got;

	if (!b || !w) {
		free(b);
		free(w);
		return -ENOMEM;
	}
	for (unsigned long i = 0; i < n; i++) {
		w[i] = oracle_word_for(r->o, fid, first + i, ORACLE_DIO, oracle_next_gen(r->o));
		oracle_fill(b + i * PG, PG, w[i]);
	}
	got = pinmm_pwrite(r->p, fd, b, n * PG, (long)(first * PG));
	if (got == (long)(n * PG))
		for (unsigned long i = 0; i < n; i++)
			oracle_wrote(r->o, fid, first + i, w[i], ORACLE_NOW, 0);
	free(b);
	free(w);
	return got;
}

static void op_time(struct run *r, double t0)
{
	double dt = now_ms() - t0;

	if (dt > r->res->max_op_ms)
		r->res->max_op_ms = dt;
}

static int ev_sync(struct run *r)
{
	double t0 = now_ms();
	int rc = pinmm_sync(r->m);

	op_time(r, t0);
	return rc ? fail(r, rc, "sync") : 0;
}

static int ev_reclaim(struct run *r)
{
	double t0 = now_ms();
	long rc = pinmm_reclaim(r->m, 1L << 20);

	op_time(r, t0);
	return rc < 0 ? fail(r, (int)rc, "reclaim") : 0;
}

/* Punch @n pages at @first of @fid (@fd). */
static int ev_punch(struct run *r, int fid, int fd, unsigned long first, unsigned long n)
{
	double t0 = now_ms();
	int rc;

	oracle_layout_begin(r->o, fid, first, n, -1);
	rc = pinmm_fallocate(r->p, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			     (long)(first * PG), (long)(n * PG));
	oracle_layout_end(r->o, fid, first, n);
	op_time(r, t0);
	return rc ? fail(r, rc, "hole punch") : 0;
}

static int ev_truncate(struct run *r, unsigned long npages)
{
	unsigned long old = oracle_npages(r->o, r->vfid);
	double t0 = now_ms();
	int rc;

	if (npages >= old) {	/* grow back: the new pages read as zeros */
		oracle_layout_begin(r->o, r->vfid, 0, 0, (long)npages);
		rc = pinmm_ftruncate(r->p, r->vfd, (long)(npages * PG));
		return rc ? fail(r, rc, "ftruncate (grow)") : 0;
	}
	oracle_layout_begin(r->o, r->vfid, npages, old - npages, (long)npages);
	rc = pinmm_ftruncate(r->p, r->vfd, (long)(npages * PG));
	oracle_layout_end(r->o, r->vfid, npages, old - npages);
	op_time(r, t0);
	return rc ? fail(r, rc, "ftruncate") : 0;
}

/*
 * Another file takes the blocks just freed: the filler writes every free
 * block (pinfs allocates next-fit, so it wraps into the freed ones last),
 * then punches all but its last pages to make room again.  A device write
 * that reached a reused block would now show in the filler: misplaced.
 */
static int fill_reuse(struct run *r)
{
	struct pinmm_pinfs_stat st;
	unsigned long first = r->rpages, keep;
	long n, got = -ENOSPC;
	int rc = pinmm_pinfs_statfs(r->m, &st);

	if (rc)
		return fail(r, rc, "statfs");
	for (n = (long)st.free_blocks - 2; n > 0 && got == -ENOSPC; n -= 2)
		got = dio_fill(r, r->rfd, r->rfid, first, (unsigned long)n);
	if (got < 0 && got != -ENOSPC)
		return fail(r, (int)got, "filler write");
	if (got <= 0)
		return 0;
	n = got / (long)PG;
	r->rpages += (unsigned long)n;
	r->res->filler_pages += n;
	keep = n > 16 ? 16 : (unsigned long)n;
	if ((unsigned long)n > keep)
		return ev_punch(r, r->rfid, r->rfd, first, (unsigned long)n - keep);
	return 0;
}

/* ---- case (a): DIO reader ------------------------------------------------------- */

struct reaper {
	pthread_t th;
	struct pinmm_dio *d;	/* freed by pinmm_dio_wait(): the reaper's only */
	long ret;
	bool done;		/* pinmm_dio_wait() returned (atomic) */
};

/* The completion side of the DIO (aio_complete): release the pins as soon as it lands. */
static void *reap(void *arg)
{
	struct reaper *rp = arg;

	rp->ret = pinmm_dio_wait(rp->d);
	__atomic_store_n(&rp->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * One DIO read from the source into page p of the mapped victim, with one
 * event while it is in flight (dio.latency_us L, writeback.latency_us W,
 * L > W):
 *  writeback  sync starts L - W/2 after the submit: the DIO lands in the
 *             middle of the page's writeback (the torn-write window);
 *  reclaim    sync at once (the pinned page is clean after W), then reclaim:
 *             Kara's sequence, the DIO lands after both;
 *  punch      the page is punched, another file takes the freed blocks;
 *  truncate   the file is cut below p, another file takes the blocks.
 */
static int dio_iteration(struct run *r, int i)
{
	static const unsigned long target[NR_EVENTS] = { NC, NC + 2, NC + 3, NPG - 1 };
	const struct pinmm_config *cfg = pinmm_machine_config(r->m);
	enum event ev = (enum event)(i % NR_EVENTS);
	unsigned long p = target[ev] + (ev == E_WRITEBACK ? (unsigned long)(i / 4) % 2 : 0);
	uint64_t ws, epoch;
	struct reaper rp = { 0 };
	long rc;

	if (oracle_npages(r->o, r->vfid) < NPG && ev_truncate(r, NPG))
		return r->res->error;
	if (cpu_write(r, (unsigned long)i % NC) || ev_sync(r))
		return r->res->error;
	if (cpu_write(r, p))		/* dirty, writable, with blocks */
		return r->res->error;
	/* The source block holds what the victim's page p should become. */
	ws = oracle_word_for(r->o, r->sfid, p, ORACLE_DIO, oracle_next_gen(r->o));
	oracle_fill(r->buf, PG, ws);
	rc = pinmm_pwrite(r->p, r->sfd, r->buf, PG, (long)(p * PG));
	if (rc != (long)PG)
		return fail(r, rc < 0 ? (int)rc : -EIO, "O_DIRECT pwrite of the source");
	oracle_wrote(r->o, r->sfid, p, ws, ORACLE_NOW, 0);
	epoch = oracle_epoch(r->o);
	rc = pinmm_dio_submit(r->p, r->sfd, PINMM_DIO_READ, r->vmap + p * PG, PG,
			      (long)(p * PG), &rp.d);
	if (rc)
		return fail(r, (int)rc, "pinmm_dio_submit");
	if (pthread_create(&rp.th, NULL, reap, &rp)) {
		pinmm_dio_wait(rp.d);
		return fail(r, -EAGAIN, "pthread_create");
	}
	switch (ev) {		/* while the DIO is in flight */
	case E_WRITEBACK:
		usleep((useconds_t)(cfg->dio_latency_us - cfg->writeback_latency_us / 2));
		ev_sync(r);
		break;
	case E_RECLAIM:
		if (!ev_sync(r))
			ev_reclaim(r);
		/*
		 * Kara's sequence needs the DIO to land after the reclaim; on a
		 * loaded machine sync + reclaim can outlast the device latency.
		 * Then the iteration did not test what it exists for: the
		 * caller runs it again (the data it wrote stay in the oracle).
		 */
		/* not pinmm_dio_done(rp.d): the reaper may have freed it */
		r->missed = __atomic_load_n(&rp.done, __ATOMIC_ACQUIRE);
		break;
	case E_PUNCH:
		if (!ev_punch(r, r->vfid, r->vfd, p, 1))
			fill_reuse(r);
		break;
	default:
		if (!ev_truncate(r, CUT))
			fill_reuse(r);
		break;
	}
	pthread_join(rp.th, NULL);
	if (rp.ret == (long)PG) {
		oracle_wrote(r->o, r->vfid, p, ws, epoch, 0);
		r->res->dev_bytes += PG;
		r->res->dev_writes++;
	} else {
		oracle_wrote(r->o, r->vfid, p, ws, epoch, ORACLE_DROPPED);
		r->res->dev_dropped++;
	}
	return r->res->error;
}

/* ---- cases (b) and (c): a device writing at any time ------------------------------ */

static void *device(void *arg)
{
	struct run *r = arg;
	unsigned char *b = malloc(PG);
	unsigned long k = 0;

	while (b && !__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		unsigned long idx = k++ % ND, pg = NC + idx;
		uint64_t w, epoch;
		bool ok, dropped = false;

		pthread_mutex_lock(&r->dev_lock);
		if (!r->live) {
			pthread_mutex_unlock(&r->dev_lock);
			usleep(200);
			continue;
		}
		w = oracle_word_for(r->o, r->vfid, pg, ORACLE_DEVICE, oracle_next_gen(r->o));
		oracle_fill(b, PG, w);
		epoch = r->dcase == C_ODP ? oracle_epoch(r->o) : r->pin_epoch;
		{
			long rc = pinmm_rdma_remote_write(r->p, r->pd, r->rkey, r->iova + idx * PG,
							  b, PG);

			ok = rc == (long)PG;
			/* -EIO: the fence dropped it; -EREMOTEIO (lease revoked) and the
			 * other refusals never touched memory. */
			dropped = rc == -EIO;
		}
		pthread_mutex_unlock(&r->dev_lock);
		if (ok) {
			oracle_wrote(r->o, r->vfid, pg, w, epoch, 0);
			r->res->dev_bytes += PG;
			r->res->dev_writes++;
		} else if (dropped) {
			oracle_wrote(r->o, r->vfid, pg, w, epoch, ORACLE_DROPPED);
			r->res->dev_dropped++;
		} else {
			r->res->dev_refused++;	/* e.g. ODP fault past EOF: never written */
		}
		usleep(100);
	}
	free(b);
	return NULL;
}

/* Drop the registration (unpinning dirty, as ib_umem_release) under dev_lock. */
static void dev_release_locked(struct run *r)
{
	if (!r->live)
		return;
	{
		struct pinmm_rdma_mr_info mi;

		if (r->dcase == C_ODP && !pinmm_rdma_query_mr(r->p, r->pd, r->rkey, &mi)) {
			r->res->odp_faults += mi.device_faults;
			r->res->odp_inval += mi.invalidations;
		}
		pinmm_rdma_dereg_mr(r->p, r->pd, r->rkey);
	}
	if (r->use_lease) {	/* after the MR: its file_pin holds the lease */
		pinmm_lease_put(r->lease);
		r->lease = NULL;
	}
	r->live = false;
}

/* (Re-)register the device region [NC, NPG) of the victim's mapping. */
static int dev_register(struct run *r)
{
	unsigned int acc = IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE;
	unsigned long start = r->vmap + NC * PG;
	struct pinmm_rdma_mr_info mi;
	int rc = 0;

	pthread_mutex_lock(&r->dev_lock);
	dev_release_locked(r);
	r->pin_epoch = oracle_epoch(r->o);
	/* Under the lease policy the MR's vaddr_pin_pages() needs the lease first. */
	if (r->use_lease)
		rc = pinmm_lease_get(r->p, r->vfd, NULL, NULL, &r->lease);
	if (!rc)
		rc = pinmm_rdma_reg_mr(r->p, r->pd, start, ND * PG,
				       acc | (r->dcase == C_ODP ? IB_ACCESS_ON_DEMAND : 0), &mi);
	if (!rc) {
		r->rkey = mi.rkey;
		r->iova = mi.iova;
	} else if (r->lease) {
		pinmm_lease_put(r->lease);
		r->lease = NULL;
	}
	r->live = !rc;
	pthread_mutex_unlock(&r->dev_lock);
	return rc;
}

static int dev_setup(struct run *r)
{
	struct pinmm_rdma_mr_info mi;
	int rc;

	r->pd = pinmm_rdma_alloc_pd(r->p);
	if (r->pd < 0)
		return fail(r, r->pd, "alloc_pd");
	if (r->dcase == C_RDMA && !strcmp(demo_rows[r->res->row].policy, "lease")) {
		/* Without a lease the MR is refused: show it, then take one. */
		rc = pinmm_rdma_reg_mr(r->p, r->pd, r->vmap + NC * PG, ND * PG,
				       IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE, &mi);
		if (!rc)
			pinmm_rdma_dereg_mr(r->p, r->pd, mi.lkey);
		snprintf(r->res->note, sizeof(r->res->note), "MR via lease (no lease: %s)",
			 rc ? pinmm_strerror(rc) : "0");
		r->use_lease = true;
	}
	rc = dev_register(r);
	if (rc) {
		r->res->refused = rc;
		return 0;
	}
	if (pthread_create(&r->dev_thread, NULL, device, r))
		return fail(r, -EAGAIN, "pthread_create");
	r->dev_started = true;
	return 0;
}

static void dev_teardown(struct run *r)
{
	if (r->dev_started) {
		__atomic_store_n(&r->stop, true, __ATOMIC_RELEASE);
		pthread_join(r->dev_thread, NULL);
		r->dev_started = false;
	}
	pthread_mutex_lock(&r->dev_lock);
	dev_release_locked(r);
	pthread_mutex_unlock(&r->dev_lock);
	if (r->pd >= 0)
		pinmm_rdma_dealloc_pd(r->p, r->pd);
	r->pd = -1;
}

static int device_iteration(struct run *r, int i)
{
	enum event ev = (enum event)(i % NR_EVENTS);
	useconds_t settle = r->opt->quick ? 4000 : 8000;

	if (oracle_npages(r->o, r->vfid) < NPG && ev_truncate(r, NPG))
		return r->res->error;
	if (!r->res->refused && i > 0 && dev_register(r))
		return fail(r, -EIO, "re-registration");
	if (cpu_write(r, (unsigned long)i % NC))
		return r->res->error;
	usleep(settle);		/* the device writes */
	switch (ev) {
	case E_WRITEBACK:
		ev_sync(r);
		break;
	case E_RECLAIM:
		if (!ev_sync(r))
			ev_reclaim(r);
		break;
	case E_PUNCH:
		if (!ev_punch(r, r->vfid, r->vfd, NC + 1 + (unsigned long)(i / 4) % 3, 1))
			fill_reuse(r);
		break;
	default:
		if (!ev_truncate(r, CUT))
			fill_reuse(r);
		break;
	}
	usleep(settle);		/* ... and writes into whatever it holds now */
	return r->res->error;
}

/* ---- one run: boot, workload, release, sync, reboot, check ------------------------ */

struct trace_files demo_trace;

static void run_workload(const struct dt_opts *opt, int row, enum dcase dcase,
			 struct dt_result *res);

static long ctr(struct pinmm *m, const char *name)
{
	long v = pinmm_vmstat(m, name);

	return v < 0 ? 0 : v;
}

static void read_counters(struct run *r)
{
	struct dt_result *s = r->res;
	struct pinmm *m = r->m;

	/*
	 * Write back and drop the clean cache first: data a legacy writeback
	 * skipped is lost when its page leaves the cache, as it would at the
	 * unmount the oracle checks after; count it at the same point.
	 */
	pinmm_drop_caches(m);
	s->ctr_lost = ctr(m, "lost_bytes");
	s->no_blocks = ctr(m, "pinned_dirty_no_blocks");
	s->oops = ctr(m, "oops");
	s->torn_writes = ctr(m, "torn_writes");
	s->torn_bytes = ctr(m, "torn_bytes");
	s->stalls = ctr(m, "holdoff_stalls");
	s->stall_ns = ctr(m, "holdoff_stall_ns");
	s->timeouts = ctr(m, "holdoff_timeouts");
	s->bounce_bytes = ctr(m, "bounce_bytes");
	s->breaks = ctr(m, "lease_breaks");
	s->revocations = ctr(m, "lease_revocations");
	s->fenced = ctr(m, "lease_fenced_writes");
	s->fenced_bytes = ctr(m, "lease_fenced_bytes");
	s->busy_now = ctr(m, "busy_blocks");
	s->busy_released = ctr(m, "busy_blocks_released");
}

static int open_file(struct run *r, const char *path, int flags, int *fid)
{
	int fd = pinmm_open(r->p, path, flags | O_RDWR | O_CREAT, 0644);

	if (fd < 0)
		return fail(r, fd, path);
	*fid = oracle_add_file(r->o, path);
	return fd;
}

/* Files: the victim (mapped), the DIO source, the filler and the ballast. */
static int setup_files(struct run *r)
{
	struct pinmm_pinfs_stat st;
	long ret;
	int rc;

	if ((r->vfd = open_file(r, "/data/victim", 0, &r->vfid)) < 0 ||
	    (r->sfd = open_file(r, "/data/source", O_DIRECT, &r->sfid)) < 0 ||
	    (r->rfd = open_file(r, "/data/filler", O_DIRECT, &r->rfid)) < 0 ||
	    (r->zfd = open_file(r, "/data/ballast", O_DIRECT, &r->zfid)) < 0)
		return r->res->error;
	for (unsigned long i = 0; i < NPG; i++)
		oracle_set_tag(r->o, r->sfid, i, r->vfid, i);	/* source k -> victim k */
	for (unsigned long i = 0; i < NPG; i++) {
		uint64_t w = oracle_word_for(r->o, r->vfid, i, ORACLE_CPU, oracle_next_gen(r->o));

		oracle_fill(r->buf, PG, w);
		if ((ret = pinmm_pwrite(r->p, r->vfd, r->buf, PG, (long)(i * PG))) != (long)PG)
			return fail(r, ret < 0 ? (int)ret : -EIO, "pwrite victim");
		oracle_wrote(r->o, r->vfid, i, w, ORACLE_NOW, 0);
	}
	if ((rc = pinmm_fsync(r->p, r->vfd)))
		return fail(r, rc, "fsync victim");
	ret = pinmm_mmap(r->p, 0, NPG * PG, PROT_READ | PROT_WRITE, MAP_SHARED, r->vfd, 0);
	if (ret < 0)
		return fail(r, (int)ret, "mmap victim");
	r->vmap = (unsigned long)ret;
	/* The ballast leaves SLACK free blocks, so reuse comes quickly. */
	if ((rc = pinmm_pinfs_statfs(r->m, &st)))
		return fail(r, rc, "statfs");
	if (st.free_blocks > SLACK + 16) {
		ret = dio_fill(r, r->zfd, r->zfid, 0, st.free_blocks - SLACK - 16);
		if (ret < 0)
			return fail(r, (int)ret, "ballast write");
	}
	return ev_sync(r);
}

static void close_files(struct run *r)
{
	int *fds[] = { &r->vfd, &r->sfd, &r->rfd, &r->zfd };

	if (r->vmap)
		pinmm_munmap(r->p, r->vmap, NPG * PG);
	r->vmap = 0;
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		if (*fds[i] >= 0)
			pinmm_close(r->p, *fds[i]);
		*fds[i] = -1;
	}
}

static void shutdown_machine(struct run *r, const char *what)
{
	int rc;

	if (!r->m)
		return;
	if (r->p)
		pinmm_exit(r->p);
	r->p = NULL;
	rc = pinmm_shutdown(r->m);
	r->m = NULL;
	if (rc)
		fail(r, rc, what);
}

/*
 * The library reports each torn write, holdoff timeout, revocation and
 * Kara failure on stderr; without --verbose they go to a temporary file
 * and the table counts them.
 */
static int quiet_stderr(FILE **tmp)
{
	int saved;

	fflush(stderr);
	*tmp = tmpfile();
	if (!*tmp)
		return -1;
	saved = dup(2);
	if (saved < 0 || dup2(fileno(*tmp), 2) < 0) {
		if (saved >= 0)
			close(saved);
		fclose(*tmp);
		*tmp = NULL;
		return -1;
	}
	return saved;
}

static long restore_stderr(FILE *tmp, int saved)
{
	long lines = 0;
	int c;

	if (saved < 0)
		return 0;
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	while ((c = fgetc(tmp)) != EOF)
		lines += c == '\n';
	fclose(tmp);
	return lines;
}

static void run_one(const struct dt_opts *opt, int row, enum dcase dcase,
		    struct dt_result *res)
{
	FILE *tmp = NULL;
	int saved = opt->verbose ? -1 : quiet_stderr(&tmp);

	run_workload(opt, row, dcase, res);
	res->messages = restore_stderr(tmp, saved);
}

static void run_workload(const struct dt_opts *opt, int row, enum dcase dcase,
			 struct dt_result *res)
{
	struct run r = { .opt = opt, .res = res, .dcase = dcase, .vfd = -1, .sfd = -1,
			 .rfd = -1, .zfd = -1, .pd = -1 };
	double t0;
	int rc;

	memset(res, 0, sizeof(*res));
	res->row = row;
	res->dcase = dcase;
	res->ran = true;
	res->fsck = -1;
	pthread_mutex_init(&r.dev_lock, NULL);
	r.o = oracle_new();
	r.buf = malloc(PG);
	snprintf(r.dir, sizeof(r.dir), "/tmp/pinmm-demo-XXXXXX");
	if (!r.o || !r.buf || !mkdtemp(r.dir)) {
		fail(&r, -ENOMEM, "set-up");
		goto out_free;
	}
	snprintf(r.img, sizeof(r.img), "%s/pinfs.img", r.dir);
	if ((rc = boot(&r, row, true))) {
		fail(&r, rc, "boot");
		goto out_img;
	}
	if (setup_files(&r))
		goto out_down;
	t0 = now_ms();
	if (dcase != C_DIO && dev_setup(&r))
		goto out_dev;
	for (int i = 0; i < opt->iters && !res->error; i++) {
		int err, tries = 0;

		do {
			r.missed = false;
			err = dcase == C_DIO ? dio_iteration(&r, i) : device_iteration(&r, i);
			res->missed_windows += r.missed;
		} while (!err && r.missed && ++tries < DIO_WINDOW_TRIES);
		if (err)
			break;
	}
out_dev:
	if (dcase != C_DIO)
		dev_teardown(&r);	/* stop the device, unpin dirty */
	res->seconds = (now_ms() - t0) / 1e3;
	if (!res->error)
		ev_sync(&r);
	read_counters(&r);
out_down:
	close_files(&r);
	shutdown_machine(&r, "shutdown");
	/* A real remount: a new machine on the same image. */
	if (!res->error && !(rc = boot(&r, row, false))) {
		rc = oracle_check(r.o, r.p, &res->rep);
		if (rc)
			fail(&r, rc, "oracle read-back");
		shutdown_machine(&r, "second shutdown");
	} else if (!res->error) {
		fail(&r, rc, "reboot on the image");
	}
	res->fsck = pinfs_check_image(r.img, false, NULL);
out_img:
	unlink(r.img);
	rmdir(r.dir);
out_free:
	oracle_free(r.o);
	free(r.buf);
	pthread_mutex_destroy(&r.dev_lock);
}

/* ---- output ---------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("Usage: pinmm demo [--json] [--quick] [--check] [--verbose] [--policy P] [--case C]\n"
	      "                  [--html FILE] [--trace FILE]\n"
	      "       pinmm demo --tour\n"
	      "       pinmm demo --oracle-selftest\n"
	      "\n"
	      "The three pinned-page users (dio, rdma, odp) against writeback, reclaim, hole\n"
	      "punch and truncate under each fs.pinned_policy (legacy, linux, holdoff, bounce,\n"
	      "lease, busyblocks; legacy once per pinfs.dirty_no_blocks option, bug and remap);\n"
	      "the integrity oracle checks every byte after a remount; then table (d), the\n"
	      "layout-lease outcomes (wait, fail, revoke, unbreakable, and ODP) with real RDMA\n"
	      "MRs and peers on the page-cache and the DAX mount (--case lease: only it).\n"
	      "  --quick    fewer iterations, shorter latencies (CI)\n"
	      "  --check    exit 1 unless the promises hold (see doc/DEMO.md)\n"
	      "  --json     machine-readable rows instead of tables\n"
	      "  --verbose  list the oracle's first problems per row\n"
	      "  --html FILE  also write the tables with bar charts as one HTML page\n"
	      "  --trace FILE  write a Trace Event Format trace of every machine: FILE for\n"
	      "             the first, FILE-2.json, ... in boot order (each run, then its\n"
	      "             remount; then the rows of (d)); doc/TRACING.md\n"
	      "  --tour     the guided tour of the memory model instead\n", f);
}

static bool row_of_policy(const char *policy)
{
	for (int i = 0; i < NR_ROWS; i++)
		if (!strcmp(demo_rows[i].policy, policy))
			return true;
	return false;
}

static int index_of(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

/* --case lease: table (d) and its verdicts. */
static int lease_only(const struct dt_opts *opt)
{
	struct demo_lease *dl = demo_lease_run(opt->quick);
	int bad;

	if (!dl)
		return EXIT_FAIL;
	if (opt->html && (bad = demo_write_html(opt->html, NULL, opt->iters, dl))) {
		fprintf(stderr, "pinmm demo: cannot write %s: %s\n", opt->html, strerror(-bad));
		free(dl);
		return EXIT_FAIL;
	}
	if (opt->json) {
		struct json_object *doc = json_object_new_object();
		struct json_object *rows = json_object_new_array();

		demo_lease_json_rows(dl, rows, false);
		jset(doc, "lease_rows", rows);
		json_print(stdout, doc, false);
		bad = demo_lease_verdicts(dl, false);
	} else {
		demo_lease_print(dl);
		printf("\nVerdicts (what each lease.outcome's mechanism promises):\n");
		bad = demo_lease_verdicts(dl, true);
		demo_print_traces();
	}
	free(dl);
	return opt->check && bad ? EXIT_FAIL : EXIT_OK;
}

int pinmm_cmd_demo_table(int argc, char **argv)
{
	struct dt_opts opt = { 0 };
	struct dt_result res[NR_ROWS * NR_CASES];
	struct demo_lease *dl = NULL;
	struct progress prog;
	int cs = -1, bad, nruns = 0;
	bool lease = false, with_lease;
	double t0 = now_ms();

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--tour")) {
			return pinmm_cmd_demo(1, argv);
		} else if (!strcmp(a, "--oracle-selftest")) {
			return oracle_selftest(stdout) ? EXIT_FAIL : EXIT_OK;
		} else if (!strcmp(a, "--json")) {
			opt.json = true;
		} else if (!strcmp(a, "--quick")) {
			opt.quick = true;
		} else if (!strcmp(a, "--html") && i + 1 < argc) {
			opt.html = argv[++i];
		} else if (!strcmp(a, "--trace") && i + 1 < argc) {
			demo_trace.base = argv[++i];
		} else if (!strcmp(a, "--check")) {
			opt.check = true;
		} else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
			opt.verbose = true;
		} else if (!strcmp(a, "--policy") && i + 1 < argc) {
			opt.policy = argv[++i];
			if (!row_of_policy(opt.policy)) {
				fprintf(stderr, "pinmm demo: unknown policy '%s'\n", opt.policy);
				return EXIT_USAGE;
			}
		} else if (!strcmp(a, "--case") && i + 1 < argc) {
			opt.dcase = argv[++i];
			if (!strcmp(opt.dcase, "lease")) {
				lease = true;
			} else if ((cs = index_of(case_names, NR_CASES, opt.dcase)) < 0) {
				fprintf(stderr, "pinmm demo: unknown case '%s' (dio, rdma, odp, "
					"lease)\n", opt.dcase);
				return EXIT_USAGE;
			}
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	opt.iters = opt.quick ? NR_EVENTS : 2 * NR_EVENTS;
	if (lease)	/* (d) only: the layout-lease outcomes, demo_lease.c */
		return lease_only(&opt);
	/* (d) runs after (a)-(c) unless a case or another policy was chosen. */
	with_lease = cs < 0 && (!opt.policy || !strcmp(opt.policy, "lease"));
	if (!opt.json) {
		printf("pinmm demo: what does the filesystem do with a page a device has pinned?\n"
		       "The question of LSF/MM 2018-2019, answered with numbers.  Three users of\n"
		       "pinned pages -- an O_DIRECT read (short-term pin), an RDMA memory region\n"
		       "written by a remote peer at any time (long-term pin) and an on-demand (ODP)\n"
		       "region that pins nothing and follows MMU notifiers -- run over a MAP_SHARED\n"
		       "file on pinfs while writeback, reclaim, hole punch and truncate happen, once\n"
		       "under each answer the kernel community proposed (fs.pinned_policy; legacy\n"
		       "twice, once per answer of the filesystem to a dirty page without blocks,\n"
		       "pinfs.dirty_no_blocks: bug as ext4, remap as the generic block path).  Every\n"
		       "byte written is self-describing; after sync, shutdown and a fresh boot on the\n"
		       "same image an oracle reads it all back and counts lost, torn and misplaced\n"
		       "bytes.  doc/DEMO.md explains each column.  (%d iterations per run%s)\n",
		       opt.iters, opt.quick ? ", --quick" : "");
		fflush(stdout);
	}
	memset(res, 0, sizeof(res));
	for (int c = 0; c < NR_CASES; c++)
		for (int p = 0; p < NR_ROWS; p++)
			nruns += (cs < 0 || c == cs) &&
				 (!opt.policy || !strcmp(demo_rows[p].policy, opt.policy));
	progress_begin(&prog, "pinmm demo", nruns);
	for (int c = 0; c < NR_CASES; c++) {
		if (cs >= 0 && c != cs)
			continue;
		for (int p = 0; p < NR_ROWS; p++) {
			if (opt.policy && strcmp(demo_rows[p].policy, opt.policy))
				continue;
			progress_step(&prog, "%s/%s", demo_rows[p].policy, case_names[c]);
			run_one(&opt, p, (enum dcase)c, &res[p * NR_CASES + c]);
		}
		progress_clear(&prog);
		if (!opt.json) {
			demo_print_table(&opt, res, c);
			fflush(stdout);
		}
	}
	if (with_lease && !(dl = demo_lease_run(opt.quick)))
		return EXIT_FAIL;
	if (dl && !opt.json) {
		demo_lease_print(dl);
		fflush(stdout);
	}
	if (opt.html && (bad = demo_write_html(opt.html, res, opt.iters, dl))) {
		fprintf(stderr, "pinmm demo: cannot write %s: %s\n", opt.html, strerror(-bad));
		free(dl);
		return EXIT_FAIL;
	}
	if (opt.json) {
		demo_print_json(res, NR_ROWS * NR_CASES, dl);
		bad = demo_verdicts(res, false) + (dl ? demo_lease_verdicts(dl, false) : 0);
	} else {
		long msgs = 0;

		for (int i = 0; i < NR_ROWS * NR_CASES; i++)
			msgs += res[i].messages;
		if (msgs)
			printf("\n(%ld diagnostic lines of the library -- torn writes, holdoff timeouts, oopses,\n"
			       "revocations, Kara's failure -- were kept off the screen; --verbose shows "
			       "them.)\n", msgs);
		printf("\nVerdicts (the promises of the issue):\n");
		bad = demo_verdicts(res, true);
		if (dl) {
			printf("Table (d), what each lease.outcome's mechanism promises:\n");
			bad += demo_lease_verdicts(dl, true);
		}
		demo_print_traces();
		printf("\n%s in %.1f s\n", bad ? "Some promises do not hold" : "Every promise holds",
		       (now_ms() - t0) / 1e3);
	}
	free(dl);
	return opt.check && bad ? EXIT_FAIL : EXIT_OK;
}
