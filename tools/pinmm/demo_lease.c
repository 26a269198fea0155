/* SPDX-License-Identifier: MIT */
/*
 * demo_lease.c - `pinmm demo --case lease`: the layout-lease outcomes of
 * issue 12 with real RDMA memory regions and remote peers.  One row per
 * lease.outcome (wait, fail, revoke, unbreakable) on each pinfs mount
 * (/data/: page cache, /dax/: fsdax), and an ODP row per mount beside
 * them (no pin, no lease).
 *
 * Each row boots a machine with fs.pinned_policy=lease and the row's
 * outcome, maps a file of DL_PAGES pages, takes a layout lease, registers
 * an MR over the mapping (pinmm_rdma_reg_mr(): vaddr_pin_pages() under
 * the lease) and starts a peer writing 512-byte operations in a loop.
 * The owner answers the break notice only under wait (it deregisters and
 * puts the lease DL_OWNER_MS after the notice); then the file is
 * truncated to zero.  Afterwards another file takes blocks (on /dax/
 * until it owns one the truncate freed), the peer keeps writing a while,
 * and the oracle reads the other file back (misplaced: bytes that are not
 * its own) and, when the truncate failed, checks that a last acknowledged
 * RDMA write is in the file (lost: bytes missing).  Every figure is read
 * from the library (the truncate's return and time, vmstat, the PD's
 * counters, pread): nothing depends on the row but the configuration.
 * `pinmm demo` runs the table after (a)-(c); --check asserts what each
 * outcome's mechanism promises (dl_verdict()).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pinmm/lease.h>
#include <pinmm/rdma.h>

#include "demo_table.h"
#include "json_out.h"
#include "progress.h"
#include "tool.h"

#define DL_PAGES	4
#define DL_OWNER_MS	30
/* dl_peer_settle(): the peer's operations to wait for after the event, and how long. */
#define DL_PEER_ATTEMPTS	2
#define DL_PEER_DEADLINE_MS	10000
#define DL_OTHER_MAX	(16384L * 4096)
#define DL_ACCESS (IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_READ)

struct dl_row {
	const char *outcome;	/* NULL: the ODP row */
	const char *mnt;
};

static const struct dl_row dl_rows[] = {
	{ "wait", "/data/" }, { "fail", "/data/" }, { "revoke", "/data/" },
	{ "unbreakable", "/data/" }, { NULL, "/data/" },
	{ "wait", "/dax/" }, { "fail", "/dax/" }, { "revoke", "/dax/" },
	{ "unbreakable", "/dax/" }, { NULL, "/dax/" },
};
#define DL_NR_ROWS (sizeof(dl_rows) / sizeof(dl_rows[0]))

struct dl_result {
	int error;		/* a step failed: its errno */
	const char *errwhat;
	int truncate_ret;
	double stall_ms;
	long etxtbsy, revoked_mrs, rem_access_errors, fenced, writes_before;
	long bytes_after;	/* peer bytes the PD counted after the truncate */
	long misplaced, lost;
	long odp_invalidations, breaks;
	int trace;		/* --trace: its machine's number, 0 none */
};

struct dl_owner {
	struct pinmm_proc *p;
	int pd;
	uint32_t key;
	struct pinmm_lease *l;
	int ok;
};

static double dl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Under wait: on the notice, deregister and put the lease, DL_OWNER_MS later. */
static void *dl_owner(void *arg)
{
	struct dl_owner *o = arg;
	int waited = pinmm_lease_wait_break(o->l, 10000);

	usleep(DL_OWNER_MS * 1000);
	pinmm_rdma_dereg_mr(o->p, o->pd, o->key);
	o->ok = !waited && !pinmm_lease_put(o->l);
	return NULL;
}

static int dl_fail(struct dl_result *r, int err, const char *what)
{
	if (!r->error) {
		r->error = err ? err : -EIO;
		r->errwhat = what;
	}
	return r->error;
}

/*
 * Let the peer act on the new layout: at least DL_PEER_ATTEMPTS of its
 * operations (completed or refused) after the event, and no less than the
 * pause of the mode.  A fixed sleep alone was not enough on a loaded
 * machine: the peer thread could miss the window, and the revoke row's
 * "remote access errors > 0" then failed for want of an attempt, not of a
 * refusal.  Waits at most DL_PEER_DEADLINE_MS; a peer that makes no
 * attempt by then fails the row.
 */
static void dl_peer_settle(struct pinmm_proc *p, int pd, bool quick, struct dl_result *r)
{
	struct pinmm_rdma_stats s0 = { 0 }, s = { 0 };
	double t0 = dl_now_ms(), pause = quick ? 5 : 20;

	pinmm_rdma_pd_stats(p, pd, &s0);
	for (;;) {
		double t;

		usleep(1000);
		t = dl_now_ms() - t0;
		pinmm_rdma_pd_stats(p, pd, &s);
		if (t >= pause && s.remote_writes + s.refused + s.remote_reads -
					  (s0.remote_writes + s0.refused + s0.remote_reads) >=
				  DL_PEER_ATTEMPTS)
			return;
		if (t >= DL_PEER_DEADLINE_MS) {
			dl_fail(r, -ETIMEDOUT, "the peer's attempts after the event");
			return;
		}
	}
}

/*
 * Fill a new file with 'O': 64 pages on /data/; on /dax/ until one of
 * @pfn is its block, or the device is full (under revoke those blocks are
 * held until the revoked pins go: test_dax_lease checks they never come).
 */
static int dl_other(struct pinmm_proc *p, const char *mnt, const unsigned long *pfn,
		    struct dl_result *r, long *len)
{
	char path[64], buf[4096], got[4096];
	bool dax = !strcmp(mnt, "/dax/"), reused = false;
	int fd;

	snprintf(path, sizeof(path), "%sother", mnt);
	fd = pinmm_open(p, path, O_CREAT | O_RDWR, 0644);
	if (fd < 0)
		return dl_fail(r, fd, "open other");
	memset(buf, 'O', sizeof(buf));
	*len = 0;
	while (*len < (dax ? DL_OTHER_MAX : 64 * (long)PG) && !reused) {
		struct pinmm_page_info pi;
		long a;

		if (pinmm_pwrite(p, fd, buf, PG, *len) != (long)PG)
			break;		/* ENOSPC */
		a = pinmm_mmap(p, 0, PG, PROT_READ, MAP_SHARED, fd, *len);
		*len += (long)PG;
		if (a <= 0)
			return dl_fail(r, (int)a, "mmap other");
		if (dax && pinmm_load(p, (unsigned long)a, got, 1) == 1 &&
		    !pinmm_page_info(p, (unsigned long)a, &pi))
			for (int k = 0; k < DL_PAGES; k++)
				reused |= pi.pfn == pfn[k];
		pinmm_munmap(p, (unsigned long)a, PG);
	}
	return fd;
}

/* The misplaced bytes of the other file: those that are not 'O'. */
static void dl_check_other(struct pinmm_proc *p, int fd, long len, struct dl_result *r)
{
	char got[4096];

	for (long o = 0; o < len; o += (long)PG) {
		if (pinmm_pread(p, fd, got, PG, o) != (long)PG) {
			dl_fail(r, -EIO, "pread other");
			return;
		}
		for (size_t i = 0; i < PG; i++)
			r->misplaced += got[i] != 'O';
	}
}

/* Boot @cfg; under --trace, note the machine's number (its trace file). */
static int dl_boot(struct pinmm_config *cfg, struct dl_result *r, struct pinmm **m)
{
	r->trace = demo_trace.base ? demo_trace.boots : 0;
	return pinmm_boot(cfg, m);
}

static void dl_run(const struct dl_row *row, bool quick, struct dl_result *r)
{
	char dir[64] = "/tmp/pinmm-demo-lease-XXXXXX", img[128], path[64];
	const char *brk = quick ? "20" : "40";
	struct pinmm_rdma_peer_stats ps;
	struct pinmm_rdma_stats st0, st1;
	struct pinmm_rdma_mr_info mi;
	struct pinmm_rdma_peer *peer = NULL;
	struct pinmm_lease *l = NULL;
	struct pinmm_config cfg;
	struct dl_owner own = { 0 };
	unsigned long pfn[DL_PAGES] = { 0 };
	struct pinmm_proc *p;
	struct pinmm *m;
	pthread_t owner;
	bool owner_started = false, mr_live = false;
	long addr, olen = 0;
	int fd, pd, ofd = -1, rc;
	char buf[4096];
	double t0;

	if (!mkdtemp(dir)) {
		dl_fail(r, -errno, "mkdtemp");
		return;
	}
	snprintf(img, sizeof(img), "%s/img", dir);
	pinmm_config_default(&cfg);
	if ((rc = pinmm_config_set(&cfg, "ram", "256M")) ||
	    (rc = pinmm_config_set(&cfg, "pmem", "16M")) ||
	    (rc = pinmm_config_set(&cfg, "quiet", "1")) ||
	    (rc = pinmm_config_set(&cfg, "pinfs.image", img)) ||
	    (rc = pinmm_config_set(&cfg, "pinfs.size", "8M")) ||
	    (rc = pinmm_config_set(&cfg, "rlimit.memlock", "unlimited")) ||
	    (rc = pinmm_config_set(&cfg, "fs.pinned_policy", "lease")) ||
	    (rc = pinmm_config_set(&cfg, "lease_break_ms", brk)) ||
	    (rc = pinmm_config_set(&cfg, "dax.truncate_wait_ms", "3000")) ||
	    (row->outcome && (rc = pinmm_config_set(&cfg, "lease.outcome", row->outcome))) ||
	    (rc = trace_files_next(&demo_trace, &cfg)) ||
	    (rc = dl_boot(&cfg, r, &m))) {
		dl_fail(r, rc, "boot");
		rmdir(dir);
		return;
	}
	if ((rc = pinmm_proc_create(m, &p))) {
		dl_fail(r, rc, "proc");
		goto out_machine;
	}
	pinmm_set_current(p);
	snprintf(path, sizeof(path), "%sv", row->mnt);
	fd = pinmm_open(p, path, O_CREAT | O_RDWR, 0644);
	memset(buf, 'a', sizeof(buf));
	for (int i = 0; fd >= 0 && i < DL_PAGES; i++)
		if (pinmm_pwrite(p, fd, buf, PG, (long)i * (long)PG) != (long)PG)
			fd = -EIO;
	addr = fd < 0 ? fd : pinmm_mmap(p, 0, DL_PAGES * PG, PROT_READ | PROT_WRITE,
					MAP_SHARED, fd, 0);
	pd = pinmm_rdma_alloc_pd(p);
	if (fd < 0 || addr <= 0 || pd < 0) {
		dl_fail(r, fd < 0 ? fd : addr <= 0 ? (int)addr : pd, "file, mapping or PD");
		goto out_proc;
	}
	if (row->outcome && (rc = pinmm_lease_get(p, fd, NULL, NULL, &l))) {
		dl_fail(r, rc, "lease_get");
		goto out_proc;
	}
	rc = pinmm_rdma_reg_mr(p, pd, (unsigned long)addr, DL_PAGES * PG,
			       DL_ACCESS | (row->outcome ? 0 : IB_ACCESS_ON_DEMAND), &mi);
	if (rc) {
		dl_fail(r, rc, "reg_mr");
		goto out_proc;
	}
	mr_live = true;
	for (int i = 0; i < DL_PAGES; i++) {	/* the frames (DAX: the blocks) */
		unsigned long a = (unsigned long)addr + (unsigned long)i * PG;
		struct pinmm_page_info pi;

		if (pinmm_load(p, a, buf, 1) == 1 && !pinmm_page_info(p, a, &pi))
			pfn[i] = pi.pfn;
	}
	rc = pinmm_rdma_peer_start(p, pd, &(struct pinmm_rdma_peer_cfg){
		.rkey = mi.rkey, .iova = mi.iova, .length = DL_PAGES * PG, .op_size = 512,
		.write_pct = 100, .hold_us = 20 }, &peer);
	if (rc) {
		dl_fail(r, rc, "peer_start");
		goto out_proc;
	}
	usleep(quick ? 5000 : 20000);
	if (row->outcome && !strcmp(row->outcome, "wait")) {
		own = (struct dl_owner){ .p = p, .pd = pd, .key = mi.lkey, .l = l };
		if (pthread_create(&owner, NULL, dl_owner, &own)) {
			dl_fail(r, -EAGAIN, "owner thread");
			goto out_peer;
		}
		owner_started = true;
	}

	/* The event. */
	st0 = (struct pinmm_rdma_stats){ 0 };
	pinmm_rdma_pd_stats(p, pd, &st0);
	t0 = dl_now_ms();
	r->truncate_ret = pinmm_ftruncate(p, fd, 0);
	r->stall_ms = dl_now_ms() - t0;
	if (owner_started) {
		pthread_join(owner, NULL);
		owner_started = false;
		mr_live = false;
		l = NULL;
		if (!own.ok)
			dl_fail(r, -EIO, "owner");
	}
	pinmm_rdma_pd_stats(p, pd, &st0);
	r->writes_before = st0.remote_writes;
	if (!r->truncate_ret) {
		ofd = dl_other(p, row->mnt, pfn, r, &olen);
		if (ofd < 0)
			goto out_peer;
	}
	dl_peer_settle(p, pd, quick, r);	/* the peer writes into whatever it holds now */
out_peer:
	pinmm_rdma_peer_stop(peer, &ps);
	pinmm_rdma_pd_stats(p, pd, &st1);
	r->bytes_after = st1.bytes_written - st0.bytes_written;
	r->revoked_mrs = st1.mrs_revoked;
	r->rem_access_errors = st1.refused_lease;
	r->odp_invalidations = st1.invalidations;
	r->etxtbsy = pinmm_vmstat(m, "lease_etxtbsy");
	r->breaks = pinmm_vmstat(m, "lease_breaks");
	r->fenced = pinmm_vmstat(m, "lease_fenced_writes");
	if (ofd >= 0) {
		dl_check_other(p, ofd, olen, r);
		pinmm_close(p, ofd);
	}
	if (r->truncate_ret && mr_live) {
		/* The file kept its data: a last acknowledged write must be there. */
		char want[64], got[64];

		memset(want, 'Z', sizeof(want));
		if (pinmm_rdma_remote_write(p, pd, mi.rkey, mi.iova + PG, want, sizeof(want)) !=
			    (long)sizeof(want) ||
		    pinmm_pread(p, fd, got, sizeof(got), (long)PG) != (long)sizeof(got))
			dl_fail(r, -EIO, "last write");
		else
			for (size_t i = 0; i < sizeof(got); i++)
				r->lost += got[i] != want[i];
	}
out_proc:
	if (mr_live)
		pinmm_rdma_dereg_mr(p, pd, mi.lkey);
	if (l)
		pinmm_lease_put(l);
	pinmm_exit(p);
	pinmm_proc_put(p);
out_machine:
	if (pinmm_shutdown(m))
		dl_fail(r, -EIO, "shutdown (a leak)");
	unlink(img);
	rmdir(dir);
}

struct demo_lease {
	bool quick;
	struct dl_result res[DL_NR_ROWS];
};

/**
 * demo_lease_run() - run every row of table (d).
 * @quick: shorter deadlines and pauses.
 *
 * Return: the results (free()), or NULL without memory.
 */
struct demo_lease *demo_lease_run(bool quick)
{
	struct demo_lease *d = calloc(1, sizeof(*d));
	struct progress prog;

	if (!d)
		return NULL;
	d->quick = quick;
	progress_begin(&prog, "pinmm demo", DL_NR_ROWS);
	for (size_t i = 0; i < DL_NR_ROWS; i++) {
		progress_step(&prog, "lease %s/%s", dl_rows[i].mnt,
			      dl_rows[i].outcome ? dl_rows[i].outcome : "odp");
		dl_run(&dl_rows[i], quick, &d->res[i]);
	}
	progress_clear(&prog);
	return d;
}

/*
 * What the mechanism of the row's configuration promises, checked against
 * what was measured; @what gets the sentence.  Every row: it ran, no byte
 * of the other file is foreign (misplaced 0), and when the truncate failed
 * the MR still works: a last acknowledged write is in the file (lost 0).
 *  - ODP (no pin, no lease): nothing to break: the truncate goes through,
 *    invalidates the device's mapping (invalidations > 0), no ETXTBSY, no
 *    MR revoked;
 *  - every lease: the truncate cannot change the layout under the MR
 *    before the lease is dealt with; unbreakable never notifies (breaks
 *    0) and refuses at once (ETXTBSY counted); the others notify (breaks
 *    1) and then, at lease_break_ms at the earliest:
 *  - wait: the owner's answer (deregister, put) lets the truncate through
 *    after the owner's delay (stall >= DL_OWNER_MS), nothing revoked;
 *  - fail: refused with ETXTBSY (counted) after the deadline, MR intact;
 *  - revoke: through after the deadline, the MR revoked, the peer's next
 *    operations are remote access errors, and no byte it sent after the
 *    truncate returned was counted as written.
 */
static bool dl_verdict(const struct dl_row *w, const struct dl_result *r, bool quick,
		       char *what, size_t len)
{
	const char *o = w->outcome ? w->outcome : "odp";
	double brk = quick ? 20 : 40;
	bool ok;

	if (r->error) {
		snprintf(what, len, "%s%s: the row failed at %s (%s)", w->mnt, o, r->errwhat,
			 pinmm_strerror(r->error));
		return false;
	}
	if (!w->outcome) {
		ok = !r->truncate_ret && r->odp_invalidations > 0 && !r->etxtbsy &&
		     !r->revoked_mrs && !r->breaks;
		snprintf(what, len, "%sodp: truncate %s, %ld invalidations, no ETXTBSY (%ld), "
			 "breaks (%ld) or revoked MR (%ld)", w->mnt,
			 r->truncate_ret ? pinmm_strerror(r->truncate_ret) : "0",
			 r->odp_invalidations, r->etxtbsy, r->breaks, r->revoked_mrs);
	} else if (!strcmp(w->outcome, "unbreakable")) {
		ok = r->truncate_ret == -ETXTBSY && r->etxtbsy > 0 && !r->breaks &&
		     !r->revoked_mrs;
		snprintf(what, len, "%sunbreakable: truncate %s at once (%.1f ms, no notice: "
			 "breaks %ld), ETXTBSY %ld, revoked MRs %ld", w->mnt,
			 r->truncate_ret ? pinmm_strerror(r->truncate_ret) : "0", r->stall_ms,
			 r->breaks, r->etxtbsy, r->revoked_mrs);
	} else if (!strcmp(w->outcome, "wait")) {
		ok = !r->truncate_ret && r->stall_ms >= DL_OWNER_MS && r->breaks == 1 &&
		     !r->etxtbsy && !r->revoked_mrs && !r->bytes_after;
		snprintf(what, len, "%swait: truncate 0 after the owner's answer (stall %.1f ms "
			 ">= %d), breaks %ld, no ETXTBSY (%ld) or revoked MR (%ld), %ld B "
			 "after", w->mnt, r->stall_ms, DL_OWNER_MS, r->breaks, r->etxtbsy,
			 r->revoked_mrs, r->bytes_after);
	} else if (!strcmp(w->outcome, "fail")) {
		ok = r->truncate_ret == -ETXTBSY && r->stall_ms >= brk && r->breaks == 1 &&
		     r->etxtbsy > 0 && !r->revoked_mrs && !r->rem_access_errors;
		snprintf(what, len, "%sfail: truncate %s after the deadline (stall %.1f ms >= "
			 "%.0f), breaks %ld, ETXTBSY %ld, the MR intact (revoked %ld, remote "
			 "access errors %ld)", w->mnt,
			 r->truncate_ret ? pinmm_strerror(r->truncate_ret) : "0", r->stall_ms, brk,
			 r->breaks, r->etxtbsy, r->revoked_mrs, r->rem_access_errors);
	} else {	/* revoke */
		ok = !r->truncate_ret && r->stall_ms >= brk && r->breaks == 1 &&
		     r->revoked_mrs > 0 && r->rem_access_errors > 0 && !r->bytes_after &&
		     !r->etxtbsy;
		snprintf(what, len, "%srevoke: truncate 0 after the deadline (stall %.1f ms >= "
			 "%.0f), breaks %ld, revoked MRs %ld, remote access errors %ld, %ld B "
			 "after", w->mnt, r->stall_ms, brk, r->breaks, r->revoked_mrs,
			 r->rem_access_errors, r->bytes_after);
	}
	if (r->misplaced || r->lost) {
		ok = false;
		snprintf(what, len, "%s%s: %ld B misplaced, %ld B lost", w->mnt, o, r->misplaced,
			 r->lost);
	}
	return ok;
}

/**
 * demo_lease_verdicts() - check every row of @d (dl_verdict()).
 * @d: the results.
 * @print: print one line per row and a summary.
 *
 * Return: the rows whose promise does not hold.
 */
int demo_lease_verdicts(const struct demo_lease *d, bool print)
{
	int bad = 0;

	for (size_t i = 0; i < DL_NR_ROWS; i++) {
		char what[256];
		bool ok = dl_verdict(&dl_rows[i], &d->res[i], d->quick, what, sizeof(what));

		bad += !ok;
		if (print)
			printf("  %s %s\n", ok ? "PASS" : "FAIL", what);
	}
	if (print)
		printf("  (%d PASS, %d FAIL)\n", (int)DL_NR_ROWS - bad, bad);
	return bad;
}

/**
 * demo_lease_print() - table (d) as text.
 * @d: the results.
 */
void demo_lease_print(const struct demo_lease *d)
{
	printf("\n(d) Layout leases (fs.pinned_policy=lease): an RDMA MR registered through a "
	       "lease, a peer\n    writing in a loop, truncate to 0; lease_break_ms %s, the "
	       "owner answers only under wait\n"
	       "  mount  outcome      truncate  stall ms  ETXTBSY  revoked MRs  rem.acc.err  "
	       "fenced  B after  misplaced B  lost B  inval\n", d->quick ? "20" : "40");
	for (size_t i = 0; i < DL_NR_ROWS; i++) {
		const struct dl_row *w = &dl_rows[i];
		const struct dl_result *r = &d->res[i];
		const char *o = w->outcome ? w->outcome : "odp";

		if (r->error) {
			printf("  %-6s %-11s  failed: %s (%s)\n", w->mnt, o, r->errwhat,
			       pinmm_strerror(r->error));
			continue;
		}
		printf("  %-6s %-11s  %-8s  %8.1f  %7ld  %11ld  %11ld  %6ld  %7ld  %11ld  %6ld  "
		       "%5ld\n", w->mnt, o, r->truncate_ret ? pinmm_strerror(r->truncate_ret) : "0",
		       r->stall_ms, r->etxtbsy, r->revoked_mrs, r->rem_access_errors, r->fenced,
		       r->bytes_after, r->misplaced, r->lost, r->odp_invalidations);
	}
}

/**
 * demo_lease_json_rows() - append the rows of table (d) to @rows, one JSON
 * object each, with the row's verdict.
 * @d: the results.
 * @rows: a json-c array.
 * @with_case: start each row with "case": "lease" (rows inside the main
 *	table's array).
 */
void demo_lease_json_rows(const struct demo_lease *d, struct json_object *rows, bool with_case)
{
	for (size_t i = 0; i < DL_NR_ROWS; i++) {
		const struct dl_row *w = &dl_rows[i];
		const struct dl_result *r = &d->res[i];
		struct json_object *o = json_object_new_object();
		char what[256];
		bool ok = dl_verdict(w, r, d->quick, what, sizeof(what));

		if (with_case)
			jset_str(o, "case", "lease");
		jset_str(o, "mount", w->mnt);
		jset_str(o, "outcome", w->outcome ? w->outcome : "odp");
		jset_str(o, "truncate", r->truncate_ret ? pinmm_strerror(r->truncate_ret) : "0");
		jset(o, "stall_ms", jnum(r->stall_ms, "%.1f"));
		jset_int(o, "etxtbsy", r->etxtbsy);
		jset_int(o, "revoked_mrs", r->revoked_mrs);
		jset_int(o, "remote_access_errors", r->rem_access_errors);
		jset_int(o, "fenced_writes", r->fenced);
		jset_int(o, "bytes_after", r->bytes_after);
		jset_int(o, "misplaced", r->misplaced);
		jset_int(o, "lost", r->lost);
		jset_int(o, "lease_breaks", r->breaks);
		jset_int(o, "odp_invalidations", r->odp_invalidations);
		jset_str(o, "verdict", ok ? "PASS" : "FAIL");
		jset_str(o, "error", r->error ? pinmm_strerror(r->error) : "");
		demo_json_traces(o, &r->trace, 1);
		json_object_array_add(rows, o);
	}
}
