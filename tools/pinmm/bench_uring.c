/* SPDX-License-Identifier: MIT */
/*
 * bench_uring.c - pinmm's own io_uring fixed-buffer registration, timed
 * exactly as host.c times the host kernel's, so that the two can be
 * divided: the same buffer size, the same split into iovecs of at most
 * 1 GiB, a pre-faulted region, one warm-up, then per repeat one timed
 * register call and one timed unregister call (CLOCK_MONOTONIC around
 * the call only).
 *
 * Both sides do the same work: pinmm_uring_register_buffers() pins every
 * page with pin_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM) as Linux's
 * io_pin_pages() does, charges the pages against RLIMIT_MEMLOCK and fills a
 * bio_vec array (src/drivers/io_uring.c).  One difference stays: Linux
 * coalesces the pages of a THP into one bio_vec and drops the extra pins;
 * pinmm does not, so only 4K buffers are compared.
 *
 * The timing loops themselves are here too, and host.c calls the same
 * ones through its own struct uring_side: one loop times both sides.  The
 * results use struct host_pin of bench.h.  Only the public API
 * (<pinmm/io_uring.h>) is used.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pinmm/io_uring.h>
#include "tool.h"
#include "bench.h"

#define SIM_URING_ENTRIES 8
#define SIM_URING_MAX_IOV 64

/* ---- the timing loops of both sides ------------------------------------- */

int uring_time_repeats(const struct uring_side *s, void *ring, const struct iovec *iov,
		       unsigned int nr, int repeats, struct host_pin *r)
{
	for (int i = 0; i < repeats; i++) {
		uint64_t t0 = bench_now_ns(), t1;
		int ret = s->reg(ring, iov, nr);

		t1 = bench_now_ns();
		if (ret)
			return ret;
		r->reg_ns[i] = t1 - t0;
		t0 = bench_now_ns();
		s->unreg(ring);
		r->unreg_ns[i] = bench_now_ns() - t0;
	}
	r->repeats = repeats;
	return 0;
}

int uring_time_small(const struct uring_side *s, void *ring, const struct iovec *iov,
		     int calls, struct host_pin *r, double *reg_ns_per_call)
{
	uint64_t treg = 0, t0, t1;

	for (int i = -calls / 10 - 1; i < calls; i++) {	/* the first tenth warms up */
		int ret;

		t0 = bench_now_ns();
		ret = s->reg(ring, iov, 1);
		t1 = bench_now_ns();
		if (ret)
			return ret;
		s->unreg(ring);
		if (i >= 0) {
			treg += t1 - t0;
			r->unreg_ns[0] += bench_now_ns() - t1;
		}
	}
	r->reg_ns[0] = treg;
	r->repeats = 1;
	*reg_ns_per_call = (double)treg / calls;
	return 0;
}

void uring_time_thread(const struct uring_side *s, void *ring, pthread_barrier_t *bar,
		       const struct iovec *iov, unsigned int nr, int repeats,
		       struct uring_times *t)
{
	for (int i = -1; i < repeats; i++) {		/* -1: warm-up */
		uint64_t t0;

		pthread_barrier_wait(bar);
		t0 = bench_now_ns();
		if (!t->err) {
			int ret = s->reg(ring, iov, nr);

			if (ret)
				t->err = ret;
			else
				s->unreg(ring);
		}
		if (i >= 0) {
			t->start[i] = t0;
			t->end[i] = bench_now_ns();
		}
	}
}

uint64_t uring_time_wall(struct uring_times *const *t, int n, int repeats, struct host_pin *r)
{
	uint64_t best = 0;

	for (int k = 0; k < repeats; k++) {
		uint64_t s = t[0]->start[k], e = t[0]->end[k];

		for (int i = 1; i < n; i++) {
			s = t[i]->start[k] < s ? t[i]->start[k] : s;
			e = t[i]->end[k] > e ? t[i]->end[k] : e;
		}
		r->reg_ns[k] = e - s;
		if (!best || e - s < best)
			best = e - s;
	}
	r->repeats = repeats;
	return best;
}

/* ---- pinmm's side ---------------------------------------------------------- */

struct sim_ring {
	struct pinmm_proc *p;
	int fd;
};

static int sim_reg(void *ring, const struct iovec *iov, unsigned int nr)
{
	struct sim_ring *sr = ring;

	return pinmm_uring_register_buffers(sr->p, sr->fd, iov, nr);
}

static void sim_unreg(void *ring)
{
	struct sim_ring *sr = ring;

	pinmm_uring_unregister_buffers(sr->p, sr->fd);
}

static const struct uring_side sim_side = { .reg = sim_reg, .unreg = sim_unreg };

static void sim_fill_iov(unsigned long a, size_t bytes, struct iovec *iov, unsigned int *nr)
{
	unsigned int n = 0;

	for (size_t off = 0; off < bytes && n < SIM_URING_MAX_IOV; off += IORING_MAX_BUFFER_SIZE, n++) {
		iov[n].iov_base = (void *)(a + off);
		iov[n].iov_len = bytes - off < IORING_MAX_BUFFER_SIZE ? bytes - off :
				 IORING_MAX_BUFFER_SIZE;
	}
	*nr = n;
}

static void sim_uring_fail(struct host_pin *r, const char *what, int err)
{
	snprintf(r->why, sizeof(r->why), "pinmm %s: %s", what, pinmm_strerror(err));
}

/**
 * sim_uring_pin() - register @e's whole region as fixed buffers of one
 * ring and unregister it: one warm-up, then @repeats timed.
 * @e: a set-up environment (pre-faulted region, RLIMIT_MEMLOCK unlimited).
 * @repeats: 1..BENCH_MAX_REP.
 * @r: the result; @r->ok false with @r->why on failure.
 *
 * Context: the bench's main thread; sets and clears the current process.
 */
void sim_uring_pin(struct sim_env *e, int repeats, struct host_pin *r)
{
	struct iovec iov[SIM_URING_MAX_IOV];
	struct sim_ring sr = { .p = e->p };
	unsigned int nr;
	long acq0, rel0;
	int ring, ret;

	memset(r, 0, sizeof(*r));
	r->bytes = e->bytes;
	r->thp = e->thp;
	r->pins_acquired = r->pins_released = -1;
	if (repeats > BENCH_MAX_REP)
		repeats = BENCH_MAX_REP;
	if (e->bytes > SIM_URING_MAX_IOV * IORING_MAX_BUFFER_SIZE) {
		snprintf(r->why, sizeof(r->why), "buffer larger than 64 GiB");
		return;
	}
	pinmm_set_current(e->p);
	ring = pinmm_uring_create(e->p, SIM_URING_ENTRIES);
	if (ring < 0) {
		sim_uring_fail(r, "io_uring set-up", ring);
		goto out;
	}
	sim_fill_iov(e->addr, e->bytes, iov, &nr);

	/* Warm-up, and the machine's own pin counters as a cross-check. */
	acq0 = pinmm_vmstat(e->m, "nr_foll_pin_acquired");
	ret = pinmm_uring_register_buffers(e->p, ring, iov, nr);
	if (ret) {
		sim_uring_fail(r, "io_uring registration", ret);
		goto close;
	}
	r->pins_acquired = pinmm_vmstat(e->m, "nr_foll_pin_acquired") - acq0;
	rel0 = pinmm_vmstat(e->m, "nr_foll_pin_released");
	pinmm_uring_unregister_buffers(e->p, ring);
	r->pins_released = pinmm_vmstat(e->m, "nr_foll_pin_released") - rel0;

	sr.fd = ring;
	ret = uring_time_repeats(&sim_side, &sr, iov, nr, repeats, r);
	if (ret)
		sim_uring_fail(r, "io_uring registration", ret);
	r->ok = !ret;
close:
	pinmm_uring_destroy(e->p, ring);
out:
	pinmm_set_current(NULL);
}

/**
 * sim_uring_pin_small() - register and unregister the region's first
 * 4 KiB page as one fixed buffer @calls times, after @calls / 10 + 1
 * untimed calls, as host_uring_pin_small() does.
 * @e: a set-up environment.
 * @calls: timed calls, >= 1.
 * @r: the result (@r->reg_ns[0]: the sum of the registrations).
 * @reg_ns_per_call: the mean registration time.
 *
 * Context: the bench's main thread; sets and clears the current process.
 */
void sim_uring_pin_small(struct sim_env *e, int calls, struct host_pin *r,
			 double *reg_ns_per_call)
{
	struct iovec iov = { .iov_base = (void *)e->addr, .iov_len = PAGE_SIZE };
	struct sim_ring sr = { .p = e->p };
	int ring, ret;

	memset(r, 0, sizeof(*r));
	r->bytes = PAGE_SIZE;
	r->pins_acquired = r->pins_released = -1;
	*reg_ns_per_call = 0;
	pinmm_set_current(e->p);
	ring = pinmm_uring_create(e->p, SIM_URING_ENTRIES);
	if (ring < 0) {
		sim_uring_fail(r, "io_uring set-up", ring);
		goto out;
	}
	sr.fd = ring;
	ret = uring_time_small(&sim_side, &sr, &iov, calls, r, reg_ns_per_call);
	if (ret)
		sim_uring_fail(r, "io_uring registration", ret);
	r->ok = !ret;
	pinmm_uring_destroy(e->p, ring);
out:
	pinmm_set_current(NULL);
}

struct sim_uring_thread {
	struct sim_env *e;
	pthread_barrier_t *bar;
	unsigned long a;
	size_t bytes;
	int repeats;
	struct uring_times times;
};

static void *sim_uring_thread_fn(void *arg)
{
	struct sim_uring_thread *t = arg;
	struct iovec iov[SIM_URING_MAX_IOV];
	struct sim_ring sr = { .p = t->e->p };
	unsigned int nr;
	int ring;

	pinmm_set_current(t->e->p);
	ring = pinmm_uring_create(t->e->p, SIM_URING_ENTRIES);
	t->times.err = ring < 0 ? ring : 0;
	sr.fd = ring;
	sim_fill_iov(t->a, t->bytes, iov, &nr);
	uring_time_thread(&sim_side, &sr, t->bar, iov, nr, t->repeats, &t->times);
	if (ring >= 0)
		pinmm_uring_destroy(t->e->p, ring);
	pinmm_set_current(NULL);
	return NULL;
}

/**
 * sim_uring_pin_threads() - @nthreads threads of @e's process, each with
 * its own ring, register and unregister disjoint parts of the region at
 * the same time, as host_uring_pin_threads() does on the host.
 * @e: a set-up environment.
 * @nthreads: 1..BENCH_MAX_THREADS.
 * @repeats: 1..BENCH_MAX_REP, after one warm-up.
 * @r: the result (@r->reg_ns[k]: wall time of repeat k).
 * @wall_ns: the best wall time from the common start to the last thread done.
 *
 * Context: the bench's main thread; starts and joins the threads.
 */
void sim_uring_pin_threads(struct sim_env *e, int nthreads, int repeats,
			   struct host_pin *r, uint64_t *wall_ns)
{
	struct sim_uring_thread t[BENCH_MAX_THREADS];
	struct uring_times *times[BENCH_MAX_THREADS];
	pthread_t tid[BENCH_MAX_THREADS];
	pthread_barrier_t bar;
	size_t part;

	memset(r, 0, sizeof(*r));
	r->bytes = e->bytes;
	r->pins_acquired = r->pins_released = -1;
	*wall_ns = 0;
	if (nthreads < 1 || nthreads > BENCH_MAX_THREADS || repeats < 1 || repeats > BENCH_MAX_REP) {
		snprintf(r->why, sizeof(r->why), "bad thread or repeat count");
		return;
	}
	part = (e->bytes / (size_t)nthreads) & ~(PAGE_SIZE - 1);
	pthread_barrier_init(&bar, NULL, (unsigned int)nthreads);
	for (int i = 0; i < nthreads; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].e = e;
		t[i].bar = &bar;
		t[i].a = e->addr + (unsigned long)i * part;
		t[i].bytes = i == nthreads - 1 ? e->bytes - (size_t)i * part : part;
		t[i].repeats = repeats;
		if (pthread_create(&tid[i], NULL, sim_uring_thread_fn, &t[i])) {
			/* The barrier would never open: cannot happen short of ENOMEM. */
			fprintf(stderr, "pinmm: bench: pthread_create failed\n");
			exit(EXIT_FAIL);
		}
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&bar);
	for (int i = 0; i < nthreads; i++) {
		if (t[i].times.err) {
			sim_uring_fail(r, "io_uring registration", t[i].times.err);
			return;
		}
		times[i] = &t[i].times;
	}
	*wall_ns = uring_time_wall(times, nthreads, repeats, r);
	r->ok = true;
}
