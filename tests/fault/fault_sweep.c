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
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <pinmm/pinmm.h>
#include <pinmm/linux.h>
#include <pinmm/fault.h>
#include <pinmm/pinfs.h>
#include <pinmm/rdma.h>

/* One run: the machine (NULL when boot failed) and what the workload saw. */
struct run {
	struct pinmm *m;
	const char *img;	/* pinfs image, or NULL */
	int first_err;		/* first error a call returned (0: none) */
	const char *where;	/* which step returned it */
	/* pinfs: what a completed fsync acknowledged */
	bool acked;
	unsigned char acked_byte;
	long acked_len;
};

static int run_err(struct run *r, const char *where, long rc)
{
	if (rc < 0 && !r->first_err) {
		r->first_err = (int)rc;
		r->where = where;
	}
	return rc < 0 ? (int)rc : 0;
}

#define STEP(r, what, call) do {				\
		long __rc = (call);				\
		if (__rc < 0) {					\
			run_err((r), (what), __rc);		\
			goto out;				\
		}						\
	} while (0)

static int boot(struct run *r, const char *kv, ...)
{
	struct pinmm_config cfg;
	va_list ap;
	int err;

	pinmm_config_default(&cfg);
	pinmm_config_set(&cfg, "ram", "64M");
	pinmm_config_set(&cfg, "quiet", "1");
	va_start(ap, kv);
	for (const char *k = kv; k; k = va_arg(ap, const char *)) {
		const char *v = va_arg(ap, const char *);

		if (pinmm_config_set(&cfg, k, v)) {
			va_end(ap);
			fprintf(stderr, "fault_sweep: bad config %s=%s\n", k, v);
			exit(2);
		}
	}
	va_end(ap);
	if (r->img)
		snprintf(cfg.pinfs_image, sizeof(cfg.pinfs_image), "%s", r->img);
	err = pinmm_boot(&cfg, &r->m);
	if (err) {
		r->m = NULL;
		return run_err(r, "boot", err);
	}
	return 0;
}

/* ---- workloads ------------------------------------------------------------- */

/* fork with pins: a R/W long-term pin, fork, COW on both sides, unpin. */
static void wl_fork_pins(struct run *r)
{
	struct pinmm_proc *p = NULL, *c = NULL;
	struct page *pages[8];
	long addr, got = 0;
	char buf[64];

	if (boot(r, NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "mmap", addr = pinmm_mmap(p, 0, 64 * 1024, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	STEP(r, "store", pinmm_store(p, (unsigned long)addr, "parent", 6));
	STEP(r, "store", pinmm_store(p, (unsigned long)addr + 8 * 4096, "far", 3));
	STEP(r, "pin_user_pages_fast",
	     got = pinmm_pin_user_pages_fast((unsigned long)addr, 8, FOLL_WRITE | FOLL_LONGTERM,
					     pages));
	STEP(r, "fork", pinmm_fork(p, &c));
	STEP(r, "child store", pinmm_store(c, (unsigned long)addr + 8 * 4096, "child", 5));
	STEP(r, "parent store", pinmm_store(p, (unsigned long)addr, "PARENT", 6));
	STEP(r, "child load", pinmm_load(c, (unsigned long)addr, buf, 6));
	STEP(r, "mprotect", pinmm_mprotect(p, (unsigned long)addr, 16 * 1024, PROT_READ));
	STEP(r, "munmap", pinmm_munmap(c, (unsigned long)addr + 4096, 4096));
	STEP(r, "exit child", pinmm_exit(c));
	c = NULL;
out:
	if (got > 0)
		pinmm_unpin_user_pages_dirty_lock(pages, (unsigned long)got, true);
	if (c)
		pinmm_exit(c);
}

/* GUP in every form: slow get/pin (locked, unlocked, remote) and fast. */
static void wl_gup(struct run *r)
{
	struct pinmm_proc *p = NULL, *q = NULL;
	struct page *pages[16];
	struct mm_struct *mm;
	long addr, got;
	int locked;

	if (boot(r, "thp", "always", NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	STEP(r, "proc_create", pinmm_proc_create(r->m, &q));
	pinmm_set_current(p);
	STEP(r, "mmap", addr = pinmm_mmap(p, 0, 4 << 20, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	mm = pinmm_proc_mm(p);
	pinmm_mmap_read_lock(mm);
	got = pinmm_get_user_pages((unsigned long)addr, 16, FOLL_WRITE, pages);
	pinmm_mmap_read_unlock(mm);
	STEP(r, "get_user_pages", got);
	for (long i = 0; i < got; i++)
		pinmm_put_page(pages[i]);
	STEP(r, "pin_user_pages_unlocked",
	     got = pinmm_pin_user_pages_unlocked((unsigned long)addr + (2 << 20), 16, pages, 0));
	pinmm_unpin_user_pages(pages, (unsigned long)got);
	STEP(r, "get_user_pages_fast",
	     got = pinmm_get_user_pages_fast((unsigned long)addr + 64 * 4096, 16, 0, pages));
	for (long i = 0; i < got; i++)
		pinmm_put_page(pages[i]);
	pinmm_set_current(q);
	locked = 1;
	pinmm_mmap_read_lock(mm);
	got = pinmm_pin_user_pages_remote(mm, (unsigned long)addr + 128 * 4096, 16,
					  FOLL_WRITE | FOLL_LONGTERM, pages, &locked);
	if (locked)
		pinmm_mmap_read_unlock(mm);
	STEP(r, "pin_user_pages_remote", got);
	pinmm_unpin_user_pages_dirty_lock(pages, (unsigned long)got, true);
	pinmm_set_current(p);
	STEP(r, "split_huge_page", pinmm_split_huge_page(p, (unsigned long)addr + (2 << 20)) == -EINVAL
				   ? 0 : 0);
out:
	return;
}

/* FOLL_LONGTERM pins of MOVABLE memory migrate first; then compaction. */
static void wl_longterm_migrate(struct run *r)
{
	struct pinmm_proc *p = NULL;
	struct pinmm_migrate_stats st;
	struct page *pages[32];
	long addr, got = 0;

	if (boot(r, "zone.movable", "32M", NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "mmap", addr = pinmm_mmap(p, 0, 32 * 4096, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	for (int i = 0; i < 32; i++)
		STEP(r, "store", pinmm_store(p, (unsigned long)addr + i * 4096UL, &i, sizeof(i)));
	STEP(r, "pin_user_pages_fast(LONGTERM)",
	     got = pinmm_pin_user_pages_fast((unsigned long)addr, 32, FOLL_WRITE | FOLL_LONGTERM,
					     pages));
	STEP(r, "migrate_page", pinmm_migrate_page(p, (unsigned long)addr, NULL) == -EAGAIN ? 0 : 0);
	STEP(r, "compact", pinmm_compact(r->m, &st));
out:
	if (got > 0)
		pinmm_unpin_user_pages(pages, (unsigned long)got);
}

/* pinfs: write, fsync (acknowledged), truncate, punch, a shared mapping. */
static void wl_pinfs(struct run *r)
{
	struct pinmm_proc *p = NULL;
	static unsigned char buf[16 * 4096];
	long addr, written;
	int fd = -1;

	if (boot(r, "pinfs.size", "16M", NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "open", fd = pinmm_open(p, "/data/f", O_RDWR | O_CREAT, 0600));
	memset(buf, 0x5a, sizeof(buf));
	/* a short write (a page-cache allocation failed part way) is legal */
	STEP(r, "pwrite", written = pinmm_pwrite(p, fd, buf, sizeof(buf), 0));
	STEP(r, "fsync", pinmm_fsync(p, fd));
	r->acked = true;
	r->acked_byte = 0x5a;
	/* what fsync acknowledged and later steps leave alone */
	r->acked_len = written < 8 * 4096 ? written : 8 * 4096;
	STEP(r, "mmap", addr = pinmm_mmap(p, 0, sizeof(buf), PROT_READ | PROT_WRITE, MAP_SHARED,
					  fd, 0));
	STEP(r, "store", pinmm_store(p, (unsigned long)addr + 12 * 4096, "shared", 6));
	STEP(r, "ftruncate", pinmm_ftruncate(p, fd, 14 * 4096 + 100));
	STEP(r, "punch", pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					 9 * 4096 + 10, 4096));
	STEP(r, "sync", pinmm_sync(r->m));
	STEP(r, "reclaim", pinmm_reclaim(r->m, 64));
out:
	if (fd >= 0 && r->m)
		pinmm_close(p, fd);
}

/* RDMA: a pinned MR and an ODP MR, remote writes, deregistration. */
static void wl_rdma(struct run *r)
{
	struct pinmm_proc *p = NULL;
	struct pinmm_rdma_mr_info mi;
	uint32_t k1 = 0, k2 = 0;
	long addr;
	int pd = -1;

	if (boot(r, NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "mmap", addr = pinmm_mmap(p, 0, 64 * 4096, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	STEP(r, "alloc_pd", pd = pinmm_rdma_alloc_pd(p));
	STEP(r, "reg_mr", pinmm_rdma_reg_mr(p, pd, (unsigned long)addr, 32 * 4096,
					    IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE, &mi));
	k1 = mi.rkey;
	STEP(r, "reg_mr(odp)", pinmm_rdma_reg_mr(p, pd, (unsigned long)addr + 32 * 4096, 32 * 4096,
						 IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE |
						 IB_ACCESS_ON_DEMAND, &mi));
	k2 = mi.rkey;
	STEP(r, "remote_write", pinmm_rdma_remote_write(p, pd, k1, (uint64_t)addr + 100, "abc", 3));
	STEP(r, "remote_write(odp)", pinmm_rdma_remote_write(p, pd, k2, (uint64_t)addr + 33 * 4096,
							     "def", 3));
	STEP(r, "dereg_mr", pinmm_rdma_dereg_mr(p, pd, k1));
	k1 = 0;
out:
	if (k1)
		pinmm_rdma_dereg_mr(p, pd, k1);
	if (pd >= 0 && r->m)
		pinmm_rdma_dealloc_pd(p, pd);
}

/*
 * Swap: pageout (THP split, swap slots), fork (entries duplicated), swap-in
 * by loads, GUP and COW, reclaim, clear_refs, munmap.  Whatever fails, a
 * load that succeeds must read what was stored: no page is lost.
 */
static long swap_lost;

static void swap_check(struct run *r, struct pinmm_proc *p, unsigned long a, char want)
{
	char c = 0;

	if (pinmm_load(p, a, &c, 1) == 1 && c != want) {
		printf("# swap: %#lx reads %#x, stored %#x (lost page, after %s)\n", a,
		       (unsigned char)c, (unsigned char)want, r->where ? r->where : "no error");
		swap_lost++;
	}
}

static void wl_swap(struct run *r)
{
	struct pinmm_proc *p = NULL, *c = NULL;
	struct page *page;
	long addr, got = 0;
	unsigned long a = 0;
	int stored = 0;

	if (boot(r, "thp", "always", "swap", "4M", NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "mmap", addr = pinmm_mmap(p, 0, 4 << 20, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	a = ((unsigned long)addr + (2 << 20) - 1) & ~((2UL << 20) - 1);
	for (; stored < 8; stored++)
		STEP(r, "store", pinmm_store(p, a + (unsigned long)stored * 4096,
					     &"abcdefgh"[stored], 1));
	STEP(r, "clear_refs", pinmm_clear_refs(p, 4));
	STEP(r, "pageout", pinmm_madvise(p, a, 2 << 20, 21 /* MADV_PAGEOUT */));
	STEP(r, "fork", pinmm_fork(p, &c));
	swap_check(r, c, a + 4096, 'b');
	STEP(r, "parent store", pinmm_store(p, a, "A", 1));
	STEP(r, "pin_user_pages_fast",
	     got = pinmm_pin_user_pages_fast(a + 2 * 4096, 1, FOLL_LONGTERM, &page));
	STEP(r, "reclaim", pinmm_reclaim(r->m, 64));
	swap_check(r, c, a, 'a');
	STEP(r, "munmap", pinmm_munmap(p, a + 3 * 4096, 4096));
	STEP(r, "exit child", pinmm_exit(c));
	c = NULL;
out:
	if (r->m && p && stored == 8) {
		swap_check(r, p, a + 2 * 4096, 'c');
		swap_check(r, p, a + 7 * 4096, 'h');
	}
	if (got > 0)
		pinmm_unpin_user_page(page);
	if (c)
		pinmm_exit(c);
}

struct workload {
	const char *name;
	void (*fn)(struct run *r);
	bool pinfs;
};

static const struct workload workloads[] = {
	{ "fork_pins", wl_fork_pins, false },
	{ "gup", wl_gup, false },
	{ "longterm_migrate", wl_longterm_migrate, false },
	{ "pinfs", wl_pinfs, true },
	{ "rdma", wl_rdma, false },
	{ "swap", wl_swap, false },
};

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

static int sweep(const struct workload *w, long max, long *runs_out, long *inj_out)
{
	char img[128];
	long n, shutdown_eio = 0;
	int bad = 0;

	snprintf(img, sizeof(img), "%s/%s.img", imgdir, w->name);
	for (n = 1; n <= max; n++) {
		struct run r = { .img = w->pinfs ? img : NULL };
		bool fired;
		int rc;

		if (w->pinfs)
			unlink(img);
		pinmm_fail_nth_set(n);
		w->fn(&r);
		fired = pinmm_fail_nth_get() == 0;
		pinmm_fail_nth_set(0);
		if (r.m) {
			rc = pinmm_audit(r.m);
			if (rc) {
				printf("# %s nth=%ld: audit %s after %s\n", w->name, n,
				       pinmm_strerror(rc), r.where ? r.where : "(no error)");
				bad++;
			}
			rc = pinmm_shutdown(r.m);
			/*
			 * -EIO: the final writeback met (or reported again) the
			 * injected image error; a leak is -EBUSY whatever else.
			 */
			if (rc == -EIO && fired)
				shutdown_eio++;
			else if (rc) {
				printf("# %s nth=%ld: shutdown %s (leak) after %s %s\n", w->name, n,
				       pinmm_strerror(rc), r.where ? r.where : "(no error)",
				       r.first_err ? pinmm_strerror(r.first_err) : "");
				bad++;
			}
		}
		if (w->pinfs) {
			const char *why = check_pinfs_acked(&r);

			if (why) {
				printf("# %s nth=%ld: %s\n", w->name, n, why);
				bad++;
			}
		}
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

struct site_tally {
	long sites, reached, failed;
};

static void tally_site(const struct pinmm_fail_site *s, void *arg)
{
	struct site_tally *t = arg;

	t->sites++;
	t->reached += s->calls > 0;
	t->failed += s->failed > 0;
	if (getenv("PINMM_FAULT_SITES"))
		printf("# site %-10s %s:%d %s() calls %ld failed %ld\n", s->kind, s->file, s->line,
		       s->func, s->calls, s->failed);
}

int main(int argc, char **argv)
{
	const char *e = getenv("PINMM_FAULT_MAX");
	long max = e ? atol(e) : 5000, total_runs = 0, total_inj = 0;
	struct site_tally t = { 0 };
	int n = 0, failed = 0;

	snprintf(imgdir, sizeof(imgdir), "%s/pinmm-fault.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(imgdir)) {
		perror("fault_sweep: mkdtemp");
		return 2;
	}
	pinmm_fail_reset();
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		const struct workload *w = &workloads[i];
		bool chosen = argc < 2;
		long runs = 0, inj = 0;
		int bad;

		for (int a = 1; a < argc; a++)
			chosen |= !strcmp(argv[a], w->name);
		if (!chosen)
			continue;
		swap_lost = 0;
		bad = sweep(w, max, &runs, &inj) + (int)swap_lost;
		total_runs += runs;
		total_inj += inj;
		n++;
		printf("%s %d - %s: %ld runs, %ld with an injected failure, %d problems\n",
		       bad ? "not ok" : "ok", n, w->name, runs, inj, bad);
		failed += bad != 0;
	}
	pinmm_fail_sites(tally_site, &t);
	printf("# sites: %ld compiled in, %ld reached by these workloads, %ld failed at least once\n",
	       t.sites, t.reached, t.failed);
	printf("# runs: %ld, with an injected failure: %ld\n", total_runs, total_inj);
	rmdir(imgdir);
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
