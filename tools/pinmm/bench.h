/* SPDX-License-Identifier: MIT */
/*
 * bench.h - shared declarations of `pinmm bench`:
 *   bench_cmd.c         the command, the result rows, text and JSON output
 *   bench_sim.c         the simulated machine and the gup_test loop
 *   bench_gup.c         `pinmm bench gup`
 *   bench_foundation.c  F1-F5: boot, memmap, fault-in
 *   bench_pin.c         P1-P10, U1-U2, C1, X1: pinning
 *   bench_trace.c       T1-T4: tracepoints off and on
 *   bench_uring.c       pinmm's io_uring fixed-buffer registration, timed
 *                       exactly as host.c times the host's
 *   bench_bound.c       the physical bound of a GUP-fast page
 *   host.c              the host kernel's side
 *
 * host.c measures the real kernel the tool runs on, in the same process
 * and the same run as the simulated figures: anonymous page faults with
 * stores, and page pinning through io_uring fixed-buffer registration
 * (the kernel pins with FOLL_WRITE | FOLL_LONGTERM).  It never invents a
 * number: when something is unavailable it says why.  See doc/BENCH.md.
 */
#ifndef PINMM_BENCH_H
#define PINMM_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>

/* What the output reports about the host. */
struct host_info {
	int nproc;		/* online CPUs */
	char kernel[96];	/* uname -r */
	char cpu[128];		/* model name from /proc/cpuinfo */
	char thp[32];		/* the bracketed word of THP "enabled" */
};

void host_info_get(struct host_info *hi);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* Resident set size of this process from /proc/self/statm, bytes; -1 on error. */
long host_rss_bytes(void);

/* A counter of /proc/vmstat, or -1 when absent or unreadable. */
long host_vmstat(const char *name);

/*
 * host_fault_in() - map @bytes of fresh MAP_PRIVATE|MAP_ANONYMOUS memory
 * (MADV_HUGEPAGE if @thp, else MADV_NOHUGEPAGE), store one byte to every
 * 4 KiB page and time the stores; unmap (untimed).
 * Return: 0 and *@ns, or a negative errno.
 */
int host_fault_in(size_t bytes, bool thp, uint64_t *ns);

/* One io_uring fixed-buffer registration measurement. */
struct host_pin {
	bool ok;		/* false: @why says why, no figure is valid */
	char why[192];
	size_t bytes;		/* per repeat */
	bool thp;
	int repeats;		/* timed repeats (after one warm-up) */
	uint64_t reg_ns[16];	/* io_uring_register_buffers per repeat */
	uint64_t unreg_ns[16];	/* io_uring_unregister_buffers per repeat */
	long pins_acquired;	/* /proc/vmstat nr_foll_pin_acquired delta of one registration, -1 unknown */
	long pins_released;	/* nr_foll_pin_released delta of one unregistration, -1 unknown */
	bool memlock_raised;	/* RLIMIT_MEMLOCK was raised for the test */
};

/*
 * host_uring_pin() - register a pre-faulted fresh anonymous buffer of
 * @bytes as io_uring fixed buffers (iovecs of at most 1 GiB), then
 * unregister it; one warm-up, @repeats timed.  @r->ok is false when
 * io_uring is unavailable (not built, ENOSYS, EPERM, RLIMIT_MEMLOCK).
 */
void host_uring_pin(size_t bytes, bool thp, int repeats, struct host_pin *r);

/*
 * host_uring_pin_small() - register and unregister one 4 KiB buffer
 * @calls times (after a warm-up); the mean time per register+unregister
 * pair, and of the registration alone.
 */
void host_uring_pin_small(int calls, struct host_pin *r, double *reg_ns_per_call);

/*
 * host_uring_pin_threads() - @nthreads threads, each with its own ring,
 * register disjoint parts of one @bytes buffer at the same time.
 * *@wall_ns is the wall time from the common start to the last
 * registration-plus-unregistration done (best of @repeats).
 */
void host_uring_pin_threads(size_t bytes, int nthreads, int repeats,
			    struct host_pin *r, uint64_t *wall_ns);

/*
 * host_cpu_scaling() - throughput of two threads running a pure compute
 * loop relative to one (2.0: two idle CPUs; ~1.0: only one is free).
 * The calibration for every multi-thread figure of the same run.
 */
double host_cpu_scaling(void);

/* The 1-minute load average, -1 if unknown. */
double host_loadavg(void);

/* Median and minimum of @n values (the array is sorted in place). */
double bench_median(double *v, int n);
double bench_min(const double *v, int n);

/* bench_rdma.c: `pinmm bench rdma`. */
int bench_rdma(int argc, char **argv);

/* ---- shared by the bench_*.c files ------------------------------------ */

struct pinmm;
struct pinmm_proc;
struct page;

#define MiB		(1UL << 20)
#define GiB		(1UL << 30)
#define PMD_BYTES	(2UL << 20)
#define BENCH_MAX_REP	16
#define BENCH_MAX_THREADS 64

enum gup_api { API_GUP_FAST, API_PIN_FAST, API_GUP, API_PIN };

extern const char *const bench_api_name[];

struct gup_cfg {
	size_t bytes;
	long per_call;			/* pages per call; <= 0: the whole range */
	int repeats;
	bool write;
	bool longterm;
	enum gup_api api;
	bool thp;			/* -t: thp=madvise + MADV_HUGEPAGE */
	bool nothp;			/* -T: MADV_NOHUGEPAGE */
	int threads;
	unsigned int extra_flags;	/* -F */
};

static inline bool api_pins(enum gup_api api)
{
	return api == API_PIN_FAST || api == API_PIN;
}

/* bench_sim.c: a booted machine with one pre-faulted region. */
struct sim_env {
	struct pinmm *m;
	struct pinmm_proc *p;
	unsigned long addr;		/* PMD-aligned start of the region */
	size_t bytes;
	bool thp;
	long thp_pmds;			/* PMD-mapped THPs backing the region */
	long mthp_folios;		/* sim_env_setup_mthp(): folios of that size */
	uint64_t populate_ns;
};

/* One run of the gup loop. */
struct gup_run {
	int repeats;
	double acq_ns[BENCH_MAX_REP];	/* wall time of the acquire phase */
	double rel_ns[BENCH_MAX_REP];	/* wall time of the release phase */
	long pages;			/* per repeat, all threads */
	long calls;			/* calls of one repeat, all threads */
	long verified;			/* warm-up: pages seen pinned / referenced */
	long vm_acquired;		/* sim nr_foll_pin_acquired delta, warm-up */
	long vm_released;
	long vm_fallback;		/* sim gup_fast_fallback delta, whole run */
	int err;			/* first failure, negative errno */
	char errmsg[160];
};

/* Medians of a run, per page and per call. */
struct gup_summary {
	double acq_med_ns, acq_min_ns, rel_med_ns, rel_min_ns;
	double acq_ns_page, rel_ns_page;	/* medians per page */
	double acq_ns_call;			/* median per call */
};

unsigned int gup_flags_of(const struct gup_cfg *c);
const char *gup_test_cmd(enum gup_api api, bool longterm);
int sim_boot(uint64_t ram, bool thp, struct pinmm **m);
uint64_t ram_for(size_t bytes);
int sim_env_setup(struct sim_env *e, size_t bytes, bool thp, bool nothp);
int sim_env_setup_mthp(struct sim_env *e, size_t bytes, unsigned kb);
int sim_env_teardown(struct sim_env *e);
int sim_gup_run(struct sim_env *e, const struct gup_cfg *c, struct gup_run *r);
void gup_summarise(const struct gup_run *r, struct gup_summary *s);
/* sim_gup_run() + every page verified + gup_summarise(); EXIT_* status. */
int run_or_fail(struct sim_env *e, const struct gup_cfg *c, struct gup_summary *s,
		struct gup_run *r);

/*
 * One side's io_uring registration.  host.c (liburing) and bench_uring.c
 * (pinmm's model) each provide one, and the same loops below time both, so
 * both sides are timed the same way by construction.
 */
struct uring_side {
	int (*reg)(void *ring, const struct iovec *iov, unsigned int nr);	/* 0, -errno */
	void (*unreg)(void *ring);
};

/* @repeats timed register / unregister pairs (after the caller's warm-up). */
int uring_time_repeats(const struct uring_side *s, void *ring, const struct iovec *iov,
		       unsigned int nr, int repeats, struct host_pin *r);
/* @calls / 10 + 1 untimed pairs, then @calls timed; the mean registration. */
int uring_time_small(const struct uring_side *s, void *ring, const struct iovec *iov,
		     int calls, struct host_pin *r, double *reg_ns_per_call);
/* What one thread of the many-rings test measured. */
struct uring_times {
	int err;			/* first failure, -errno */
	uint64_t start[BENCH_MAX_REP], end[BENCH_MAX_REP];
};

/* One thread of the many-rings test: a warm-up, then @repeats, each after @bar. */
void uring_time_thread(const struct uring_side *s, void *ring, pthread_barrier_t *bar,
		       const struct iovec *iov, unsigned int nr, int repeats,
		       struct uring_times *t);
/*
 * The wall time of each repeat, from the earliest start to the latest end
 * of the @n threads, into @r->reg_ns[]; returns the best.
 */
uint64_t uring_time_wall(struct uring_times *const *t, int n, int repeats, struct host_pin *r);

/* bench_uring.c: pinmm's io_uring, the same calls and timing as host.c. */
void sim_uring_pin(struct sim_env *e, int repeats, struct host_pin *r);
void sim_uring_pin_small(struct sim_env *e, int calls, struct host_pin *r,
			 double *reg_ns_per_call);
void sim_uring_pin_threads(struct sim_env *e, int nthreads, int repeats,
			   struct host_pin *r, uint64_t *wall_ns);

/*
 * bench_bound.c: the physical bound of GUP-fast, measured on arrays of the
 * same size (see bench_bound.c).  ns per page, best of the repeats.
 */
struct phys_bound {
	double acq_4k;		/* PTE read + atomic on a 64-byte struct + store */
	double rel_4k;		/* array load + atomic */
	double acq_thp;		/* PMD read + one atomic per 512 pages + a store per page */
	double rel_thp;		/* array load and compare per page + one atomic per 512 */
	int repeats;
};

int phys_bound_measure(size_t bytes, int repeats, struct phys_bound *b);

/* bench_cmd.c: rows of the standard set, and output helpers. */
enum verdict { V_INFO, V_MET, V_MISSED, V_NA };

struct row {
	const char *id;
	const char *name;
	const char *unit;
	const char *target;		/* text, "-" for none */
	double measured;
	bool has_host;
	double host;			/* the host kernel, same work, same run */
	bool has_bound;
	double bound;			/* the physical bound, same run */
	bool has_ratio;
	double ratio;			/* measured / host, else measured / bound */
	enum verdict verdict;
	char note[256];
};

struct row *add_row(const char *id, const char *name, const char *unit,
		    const char *target, double measured);
/* The host did the same work: the ratio is measured / host. */
void row_host(struct row *w, bool ok, double host);
/* No host path: the ratio is measured / the physical bound. */
void row_bound(struct row *w, double bound);
enum verdict le(double v, double lim);
double host_median(const uint64_t *ns, int n);

/* The "machine" member of every bench JSON document (json_out.h). */
struct json_object *machine_json(const struct host_info *hi);
void print_machine_line(FILE *f, const struct host_info *hi);
int bench_usage_error(const char *fmt, const char *arg);
bool parse_long(const char *s, long *out);

/* The commands and row groups. */
int bench_gup(int argc, char **argv);		/* bench_gup.c */
int bench_explore(int argc, char **argv);	/* bench_explore.c */
int std_boot(void);				/* bench_foundation.c */
int std_fault(bool host);
int std_pin(bool host);				/* bench_pin.c */
int std_trace(void);				/* bench_trace.c: T1-T4 */
/* bench_sim.c: non-NULL: sim_boot() sets trace.file to it (buffers 64M). */
extern const char *sim_trace_file;

#endif /* PINMM_BENCH_H */
