/* SPDX-License-Identifier: MIT */
/*
 * bench.h - shared declarations of `pinmm bench` (bench_cmd.c) and its
 * host-kernel side (host.c).
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
#include <stdint.h>

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

#endif /* PINMM_BENCH_H */
