/* SPDX-License-Identifier: MIT */
/*
 * host.c - the host-kernel side of `pinmm bench`: what the real kernel
 * under the tool does for the same work, measured in the same run.
 *
 *  - anonymous faults: a fresh MAP_PRIVATE|MAP_ANONYMOUS mapping, one store
 *    per 4 KiB page;
 *  - page pinning: io_uring_register_buffers() of a pre-faulted fresh
 *    anonymous buffer.  The kernel pins every page of a fixed buffer with
 *    pin_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM) (io_pin_pages()), so
 *    registration time is the real kernel's long-term pin of that size plus
 *    io_uring's own bookkeeping, and unregistration is its unpin.
 *    /proc/vmstat nr_foll_pin_acquired/released before and after show that
 *    the pages really were pinned.
 *
 * Nothing here fakes a figure: when io_uring is missing (not built with
 * liburing, ENOSYS, EPERM) or RLIMIT_MEMLOCK is too low and cannot be
 * raised, the result says "unavailable" and why.
 * Does not own: the simulated side and the output (bench_*.c), nor the
 * timing loops, which bench_uring.c shares with pinmm's side.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

#include "bench.h"

#define HOST_PAGE	4096UL
#define HOST_PMD	(2UL << 20)
#define URING_MAX_IOV	(1UL << 30)	/* io_uring: each fixed buffer <= 1 GiB */

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double bench_median(double *v, int n)
{
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n & 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double bench_min(const double *v, int n)
{
	double m = n > 0 ? v[0] : 0;

	for (int i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

static void read_first_line_matching(const char *path, const char *key,
				     char *out, size_t len)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon;

		if (strncmp(line, key, strlen(key)))
			continue;
		colon = strchr(line, ':');
		if (!colon)
			continue;
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		colon[strcspn(colon, "\n")] = 0;
		snprintf(out, len, "%s", colon);
		break;
	}
	fclose(f);
}

void host_info_get(struct host_info *hi)
{
	struct utsname u;
	char buf[128] = "", *l, *r;
	FILE *f;

	memset(hi, 0, sizeof(*hi));
	hi->nproc = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (!uname(&u))
		snprintf(hi->kernel, sizeof(hi->kernel), "%s", u.release);
	snprintf(hi->cpu, sizeof(hi->cpu), "unknown");
	read_first_line_matching("/proc/cpuinfo", "model name", hi->cpu, sizeof(hi->cpu));
	snprintf(hi->thp, sizeof(hi->thp), "unknown");
	f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (f) {
		if (fgets(buf, sizeof(buf), f)) {
			l = strchr(buf, '[');
			r = l ? strchr(l, ']') : NULL;
			if (l && r) {
				*r = 0;
				snprintf(hi->thp, sizeof(hi->thp), "%s", l + 1);
			}
		}
		fclose(f);
	}
}

long host_rss_bytes(void)
{
	unsigned long size, resident;
	FILE *f = fopen("/proc/self/statm", "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%lu %lu", &size, &resident);
	fclose(f);
	if (n != 2)
		return -1;
	return (long)(resident * (unsigned long)sysconf(_SC_PAGESIZE));
}

/*
 * /proc/vmstat folds per-CPU deltas lazily, so a read can be off by up to
 * the per-CPU threshold times the CPUs; writing /proc/sys/vm/stat_refresh
 * (root) folds them first.  Without it the cross-check is approximate.
 */
static void host_vmstat_refresh(void)
{
	FILE *f = fopen("/proc/sys/vm/stat_refresh", "w");

	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
}

long host_vmstat(const char *name)
{
	char key[128];
	long val, ret = -1;
	FILE *f;

	host_vmstat_refresh();
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fscanf(f, "%127s %ld", key, &val) == 2) {
		if (!strcmp(key, name)) {
			ret = val;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* A fresh anonymous mapping of @bytes, PMD-aligned; unmap @base, @maplen. */
static char *host_map(size_t bytes, bool thp, void **base, size_t *maplen)
{
	size_t len = bytes + HOST_PMD;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *a;

	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)p + HOST_PMD - 1) & ~(uintptr_t)(HOST_PMD - 1));
	madvise(a, bytes, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	*base = p;
	*maplen = len;
	return a;
}

static void host_touch(char *a, size_t bytes)
{
	for (size_t off = 0; off < bytes; off += HOST_PAGE)
		*(volatile char *)(a + off) = 1;
}

int host_fault_in(size_t bytes, bool thp, uint64_t *ns)
{
	void *base;
	size_t maplen;
	char *a = host_map(bytes, thp, &base, &maplen);
	uint64_t t0;

	if (!a)
		return -errno;
	t0 = bench_now_ns();
	host_touch(a, bytes);
	*ns = bench_now_ns() - t0;
	munmap(base, maplen);
	return 0;
}

struct spin_arg {
	pthread_barrier_t *bar;
	uint64_t ns;
	unsigned long sink;	/* the loop's result, so that it is not dead code */
};

static void *spin_fn(void *arg)
{
	struct spin_arg *a = arg;
	volatile unsigned long x = 0;
	uint64_t t0;

	if (a->bar)
		pthread_barrier_wait(a->bar);
	t0 = bench_now_ns();
	for (unsigned long i = 0; i < 100000000UL; i++)
		x += i;
	a->ns = bench_now_ns() - t0;
	a->sink = x;
	return NULL;
}

double host_cpu_scaling(void)
{
	struct spin_arg one = { NULL, 0, 0 }, two[2];
	pthread_barrier_t bar;
	pthread_t tid[2];
	uint64_t best1 = 0, best2 = 0;

	/* Best of three alone, best of two pairs: preemption only slows a run down. */
	spin_fn(&one);					/* warm-up */
	for (int k = 0; k < 3; k++) {
		spin_fn(&one);
		if (!best1 || one.ns < best1)
			best1 = one.ns;
	}
	pthread_barrier_init(&bar, NULL, 2);
	for (int k = 0; k < 2; k++) {
		uint64_t t0 = bench_now_ns(), wall;

		for (int i = 0; i < 2; i++) {
			two[i].bar = &bar;
			if (pthread_create(&tid[i], NULL, spin_fn, &two[i])) {
				pthread_barrier_destroy(&bar);
				return 0;
			}
		}
		for (int i = 0; i < 2; i++)
			pthread_join(tid[i], NULL);
		wall = bench_now_ns() - t0;
		if (!best2 || wall < best2)
			best2 = wall;
	}
	pthread_barrier_destroy(&bar);
	return best2 ? 2.0 * (double)best1 / (double)best2 : 0;
}

double host_loadavg(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

#ifdef HAVE_LIBURING

/* Make RLIMIT_MEMLOCK cover @bytes if possible; false with @why if not. */
static bool host_memlock(size_t bytes, struct host_pin *r)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl))
		return true;		/* let registration tell */
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= bytes + (1 << 20))
		return true;
	if (geteuid() == 0) {
		struct rlimit inf = { RLIM_INFINITY, RLIM_INFINITY };

		if (!setrlimit(RLIMIT_MEMLOCK, &inf)) {
			r->memlock_raised = true;
			return true;
		}
	}
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= bytes + (1 << 20)) {
		rl.rlim_cur = rl.rlim_max;
		if (!setrlimit(RLIMIT_MEMLOCK, &rl)) {
			r->memlock_raised = true;
			return true;
		}
	}
	/* io_uring does not charge a CAP_IPC_LOCK holder: still try. */
	return true;
}

static const char *uring_reason(int err, char *buf, size_t len)
{
	switch (err) {
	case -ENOSYS:
		return "io_uring not supported by this kernel (ENOSYS)";
	case -EPERM:
		return "io_uring not permitted (EPERM: kernel.io_uring_disabled or a seccomp filter)";
	case -ENOMEM:
		return "ENOMEM: RLIMIT_MEMLOCK too low for the buffer and cannot be raised (not root)";
	case -EFAULT:
		return "EFAULT: the kernel refused to pin the buffer";
	default:
		snprintf(buf, len, "io_uring error %d (%s)", -err, strerror(-err));
		return buf;
	}
}

static int host_reg(void *ring, const struct iovec *iov, unsigned int nr)
{
	int ret = io_uring_register_buffers(ring, iov, nr);

	return ret < 0 ? ret : 0;
}

static void host_unreg(void *ring)
{
	io_uring_unregister_buffers(ring);
}

/* The timing loops are bench_uring.c's, shared with pinmm's side. */
static const struct uring_side host_side = { .reg = host_reg, .unreg = host_unreg };

static void fill_iov(char *a, size_t bytes, struct iovec *iov, unsigned *nr)
{
	unsigned n = 0;

	for (size_t off = 0; off < bytes; off += URING_MAX_IOV, n++) {
		iov[n].iov_base = a + off;
		iov[n].iov_len = bytes - off < URING_MAX_IOV ? bytes - off : URING_MAX_IOV;
	}
	*nr = n;
}

void host_uring_pin(size_t bytes, bool thp, int repeats, struct host_pin *r)
{
	struct io_uring ring;
	struct iovec iov[64];
	unsigned nr;
	void *base;
	size_t maplen;
	char *a, tmp[96];
	long acq0, acq1, rel0, rel1;
	int ret;

	memset(r, 0, sizeof(*r));
	r->bytes = bytes;
	r->thp = thp;
	r->pins_acquired = r->pins_released = -1;
	if (repeats > 16)
		repeats = 16;
	if (bytes > 64 * URING_MAX_IOV) {
		snprintf(r->why, sizeof(r->why), "buffer larger than 64 GiB");
		return;
	}
	host_memlock(bytes, r);
	ret = io_uring_queue_init(8, &ring, 0);
	if (ret < 0) {
		snprintf(r->why, sizeof(r->why), "%s", uring_reason(ret, tmp, sizeof(tmp)));
		return;
	}
	a = host_map(bytes, thp, &base, &maplen);
	if (!a) {
		snprintf(r->why, sizeof(r->why), "mmap of the buffer failed: %s", strerror(errno));
		io_uring_queue_exit(&ring);
		return;
	}
	host_touch(a, bytes);
	fill_iov(a, bytes, iov, &nr);

	/* Warm-up, and the vmstat cross-check. */
	acq0 = host_vmstat("nr_foll_pin_acquired");
	ret = io_uring_register_buffers(&ring, iov, nr);
	if (ret < 0) {
		snprintf(r->why, sizeof(r->why), "%s", uring_reason(ret, tmp, sizeof(tmp)));
		goto out;
	}
	acq1 = host_vmstat("nr_foll_pin_acquired");
	rel0 = host_vmstat("nr_foll_pin_released");
	io_uring_unregister_buffers(&ring);
	rel1 = host_vmstat("nr_foll_pin_released");
	if (acq0 >= 0 && acq1 >= 0)
		r->pins_acquired = acq1 - acq0;
	if (rel0 >= 0 && rel1 >= 0)
		r->pins_released = rel1 - rel0;

	ret = uring_time_repeats(&host_side, &ring, iov, nr, repeats, r);
	if (ret)
		snprintf(r->why, sizeof(r->why), "%s", uring_reason(ret, tmp, sizeof(tmp)));
	r->ok = !ret;
out:
	munmap(base, maplen);
	io_uring_queue_exit(&ring);
}

void host_uring_pin_small(int calls, struct host_pin *r, double *reg_ns_per_call)
{
	struct io_uring ring;
	struct iovec iov;
	void *base;
	size_t maplen;
	char *a, tmp[96];
	int ret;

	memset(r, 0, sizeof(*r));
	r->bytes = HOST_PAGE;
	r->pins_acquired = r->pins_released = -1;
	*reg_ns_per_call = 0;
	ret = io_uring_queue_init(8, &ring, 0);
	if (ret < 0) {
		snprintf(r->why, sizeof(r->why), "%s", uring_reason(ret, tmp, sizeof(tmp)));
		return;
	}
	a = host_map(HOST_PAGE, false, &base, &maplen);
	if (!a) {
		snprintf(r->why, sizeof(r->why), "mmap failed: %s", strerror(errno));
		io_uring_queue_exit(&ring);
		return;
	}
	host_touch(a, HOST_PAGE);
	iov.iov_base = a;
	iov.iov_len = HOST_PAGE;
	ret = uring_time_small(&host_side, &ring, &iov, calls, r, reg_ns_per_call);
	if (ret)
		snprintf(r->why, sizeof(r->why), "%s", uring_reason(ret, tmp, sizeof(tmp)));
	r->ok = !ret;
	munmap(base, maplen);
	io_uring_queue_exit(&ring);
}

struct uring_thread {
	pthread_barrier_t *bar;
	char *a;
	size_t bytes;
	int repeats;
	struct uring_times times;
};

static void *uring_thread_fn(void *arg)
{
	struct uring_thread *t = arg;
	struct io_uring ring;
	struct iovec iov[64];
	unsigned nr;
	int ret = io_uring_queue_init(8, &ring, 0);
	bool inited = ret >= 0;

	t->times.err = ret < 0 ? ret : 0;
	fill_iov(t->a, t->bytes, iov, &nr);
	uring_time_thread(&host_side, &ring, t->bar, iov, nr, t->repeats, &t->times);
	if (inited)
		io_uring_queue_exit(&ring);
	return NULL;
}

void host_uring_pin_threads(size_t bytes, int nthreads, int repeats,
			    struct host_pin *r, uint64_t *wall_ns)
{
	struct uring_thread t[64];
	struct uring_times *times[64];
	pthread_t tid[64];
	pthread_barrier_t bar;
	void *base;
	size_t maplen, part;
	char *a, tmp[96];
	int started = 0;

	memset(r, 0, sizeof(*r));
	r->bytes = bytes;
	r->pins_acquired = r->pins_released = -1;
	*wall_ns = 0;
	if (nthreads < 1 || nthreads > 64 || repeats > 16 || repeats < 1) {
		snprintf(r->why, sizeof(r->why), "bad thread or repeat count");
		return;
	}
	host_memlock(bytes, r);
	a = host_map(bytes, false, &base, &maplen);
	if (!a) {
		snprintf(r->why, sizeof(r->why), "mmap failed: %s", strerror(errno));
		return;
	}
	host_touch(a, bytes);
	part = (bytes / (size_t)nthreads) & ~(HOST_PAGE - 1);
	pthread_barrier_init(&bar, NULL, (unsigned)nthreads);
	for (int i = 0; i < nthreads; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].bar = &bar;
		t[i].a = a + (size_t)i * part;
		t[i].bytes = i == nthreads - 1 ? bytes - (size_t)i * part : part;
		t[i].repeats = repeats;
		if (pthread_create(&tid[i], NULL, uring_thread_fn, &t[i]))
			break;
		started++;
	}
	if (started < nthreads) {
		/* The barrier would never open: cannot happen short of ENOMEM. */
		fprintf(stderr, "pinmm: bench: pthread_create failed\n");
		exit(1);
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&bar);
	for (int i = 0; i < nthreads; i++) {
		if (t[i].times.err < 0) {
			snprintf(r->why, sizeof(r->why), "%s",
				 uring_reason(t[i].times.err, tmp, sizeof(tmp)));
			goto out;
		}
		times[i] = &t[i].times;
	}
	*wall_ns = uring_time_wall(times, nthreads, repeats, r);
	r->ok = true;
out:
	munmap(base, maplen);
}

#else /* !HAVE_LIBURING */

static void no_uring(struct host_pin *r)
{
	memset(r, 0, sizeof(*r));
	r->pins_acquired = r->pins_released = -1;
	snprintf(r->why, sizeof(r->why),
		 "pinmm was built without liburing (install liburing-dev and reconfigure)");
}

void host_uring_pin(size_t bytes, bool thp, int repeats, struct host_pin *r)
{
	no_uring(r);
	r->bytes = bytes;
	r->thp = thp;
	(void)repeats;
}

void host_uring_pin_small(int calls, struct host_pin *r, double *reg_ns_per_call)
{
	(void)calls;
	no_uring(r);
	*reg_ns_per_call = 0;
}

void host_uring_pin_threads(size_t bytes, int nthreads, int repeats,
			    struct host_pin *r, uint64_t *wall_ns)
{
	(void)nthreads;
	(void)repeats;
	no_uring(r);
	r->bytes = bytes;
	*wall_ns = 0;
}

#endif /* HAVE_LIBURING */
