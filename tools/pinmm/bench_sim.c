/* SPDX-License-Identifier: MIT */
/*
 * bench_sim.c - the simulated side of `pinmm bench`: a machine booted with
 * one pre-faulted region, and the loop of the kernel's mm/gup_test.c run
 * on it (doc/BENCH.md, "The gup loop").
 *
 * Each thread owns a disjoint, PMD-aligned part of the region; every repeat
 * is acquire (timed), release (timed), separated by barriers, and the
 * figure of a phase is its wall time over all threads.  Repeat 0 is an
 * untimed warm-up after which every page is checked pinned (or referenced).
 * Only the public API (<pinmm/pinmm.h>, <pinmm/linux.h>) is used.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "bench.h"

const char *const bench_api_name[] = {
	[API_GUP_FAST] = "get_user_pages_fast",
	[API_PIN_FAST] = "pin_user_pages_fast",
	[API_GUP] = "get_user_pages",
	[API_PIN] = "pin_user_pages",
};

/* What gup_test would call the command. */
const char *gup_test_cmd(enum gup_api api, bool longterm)
{
	switch (api) {
	case API_GUP_FAST: return "GUP_FAST_BENCHMARK";
	case API_PIN_FAST: return longterm ? "PIN_FAST_BENCHMARK+FOLL_LONGTERM" : "PIN_FAST_BENCHMARK";
	case API_GUP: return "GUP_BASIC_TEST";
	case API_PIN: return longterm ? "PIN_LONGTERM_BENCHMARK" : "PIN_BASIC_TEST";
	}
	return "?";
}

static bool api_slow(enum gup_api api)
{
	return api == API_GUP || api == API_PIN;
}

unsigned int gup_flags_of(const struct gup_cfg *c)
{
	return (c->write ? FOLL_WRITE : 0) | (c->longterm ? FOLL_LONGTERM : 0) | c->extra_flags;
}

/* ---- the simulated machine with one populated region ----------------- */

const char *sim_trace_file;

int sim_boot(uint64_t ram, bool thp, struct pinmm **m)
{
	struct pinmm_config cfg;
	char buf[32];
	int ret;

	pinmm_config_default(&cfg);
	snprintf(buf, sizeof(buf), "%" PRIu64, ram);
	if (pinmm_config_set(&cfg, "ram", buf) ||
	    pinmm_config_set(&cfg, "debug", "0") ||
	    pinmm_config_set(&cfg, "thp", thp ? "madvise" : "never") ||
	    pinmm_config_set(&cfg, "rlimit.memlock", "unlimited") ||
	    pinmm_config_set(&cfg, "quiet", "1"))
		return -EINVAL;
	if (sim_trace_file && (pinmm_config_set(&cfg, "trace.file", sim_trace_file) ||
			       pinmm_config_set(&cfg, "trace.buffer_size", "64M")))
		return -EINVAL;
	ret = pinmm_boot(&cfg, m);
	if (ret)
		fprintf(stderr, "pinmm: bench: boot (ram %" PRIu64 " MiB) failed: %s\n",
			ram / MiB, pinmm_strerror(ret));
	return ret;
}

/* Simulated RAM for a region: the region, its page tables, slack. */
uint64_t ram_for(size_t bytes)
{
	uint64_t ram = bytes + bytes / 8 + 256 * MiB;

	return (ram + PMD_BYTES - 1) & ~(uint64_t)(PMD_BYTES - 1);
}

/* @mthp_kb: 0, or the folio size (KiB) the region is faulted in with. */
static int env_setup(struct sim_env *e, size_t bytes, bool thp, bool nothp, unsigned mthp_kb)
{
	long a;
	int ret;
	uint64_t t0;
	const char one = 1;
	char key[64];

	memset(e, 0, sizeof(*e));
	e->bytes = bytes;
	e->thp = thp;
	ret = sim_boot(ram_for(bytes), thp, &e->m);
	if (ret)
		return ret;
	snprintf(key, sizeof(key), "thp.%uK", mthp_kb);
	if (mthp_kb && (ret = pinmm_thp_set(e->m, key, "always")))
		goto fail;
	ret = pinmm_proc_create(e->m, &e->p);
	if (ret)
		goto fail;
	pinmm_set_current(e->p);
	a = pinmm_mmap(e->p, 0, bytes + PMD_BYTES, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a < 0) {
		ret = (int)a;
		goto fail;
	}
	e->addr = ((unsigned long)a + PMD_BYTES - 1) & ~(PMD_BYTES - 1);
	if (thp || nothp) {
		ret = pinmm_madvise(e->p, e->addr, bytes, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
		if (ret)
			goto fail;
	}
	/* Pre-fault from "userspace", as gup_test does: one store per page. */
	t0 = bench_now_ns();
	for (size_t off = 0; off < bytes; off += PAGE_SIZE) {
		long n = pinmm_store(e->p, e->addr + off, &one, 1);

		if (n != 1) {
			ret = n < 0 ? (int)n : -EFAULT;
			goto fail;
		}
	}
	e->populate_ns = bench_now_ns() - t0;
	e->thp_pmds = pinmm_vmstat(e->m, "nr_anon_transparent_hugepages");
	if (mthp_kb) {
		snprintf(key, sizeof(key), "hugepages-%ukB/stats/nr_anon", mthp_kb);
		e->mthp_folios = pinmm_vmstat(e->m, key);
	}
	return 0;
fail:
	fprintf(stderr, "pinmm: bench: setting up a %zu MiB region failed: %s\n",
		bytes / MiB, pinmm_strerror(ret));
	pinmm_shutdown(e->m);
	e->m = NULL;
	return ret;
}

int sim_env_setup(struct sim_env *e, size_t bytes, bool thp, bool nothp)
{
	return env_setup(e, bytes, thp, nothp, 0);
}

/**
 * sim_env_setup_mthp() - sim_env_setup() on a thp=never machine whose
 * thp.<@kb>K is always: the region is faulted in as @kb KiB folios,
 * mapped by PTEs; e->mthp_folios says how many there are.
 * Context: the bench's main thread.
 * Return: 0 or -errno (message on stderr).
 */
int sim_env_setup_mthp(struct sim_env *e, size_t bytes, unsigned kb)
{
	return env_setup(e, bytes, false, false, kb);
}

int sim_env_teardown(struct sim_env *e)
{
	int ret = 0;

	if (e->m) {
		pinmm_set_current(NULL);
		ret = pinmm_shutdown(e->m);
		if (ret)
			fprintf(stderr, "pinmm: bench: shutdown reported %s\n", pinmm_strerror(ret));
	}
	e->m = NULL;
	return ret;
}

/* ---- the gup_test loop --------------------------------------------------- */

struct worker {
	const struct gup_cfg *c;
	struct sim_env *e;
	pthread_barrier_t *bar;
	unsigned long start;
	long npages;
	struct page **pages;
	long calls;
	long verified;
	int err;
	char errmsg[160];
	uint64_t a0[BENCH_MAX_REP + 1], a1[BENCH_MAX_REP + 1];
	uint64_t r0[BENCH_MAX_REP + 1], r1[BENCH_MAX_REP + 1];
};

static long gup_call(enum gup_api api, unsigned long addr, long n, unsigned int flags,
		     struct page **pages)
{
	switch (api) {
	case API_GUP_FAST:
		return get_user_pages_fast(addr, (int)n, flags, pages);
	case API_PIN_FAST:
		return pin_user_pages_fast(addr, (int)n, flags, pages);
	case API_GUP:
		return get_user_pages(addr, (unsigned long)n, flags, pages);
	case API_PIN:
		return pin_user_pages(addr, (unsigned long)n, flags, pages);
	}
	return -EINVAL;
}

/* Acquire the worker's range; return pages acquired (all on success). */
static long worker_acquire(struct worker *w)
{
	const struct gup_cfg *c = w->c;
	unsigned int flags = gup_flags_of(c);
	long per = c->per_call > 0 ? c->per_call : w->npages;
	long done = 0, calls = 0;

	if (!api_slow(c->api) && per > 0x7fffffffL)
		per = 0x7fffffffL;
	while (done < w->npages) {
		long n = w->npages - done < per ? w->npages - done : per;
		long got = gup_call(c->api, w->start + ((unsigned long)done << PAGE_SHIFT), n,
				    flags, w->pages + done);

		calls++;
		if (got > 0)
			done += got;
		if (got != n) {
			/* gup_test stops at the first short call. */
			w->err = got < 0 ? (int)got : -EFAULT;
			snprintf(w->errmsg, sizeof(w->errmsg),
				 "%s(%#lx, %ld) returned %ld (%s)", bench_api_name[c->api],
				 w->start + ((unsigned long)(done - (got > 0 ? got : 0)) << PAGE_SHIFT),
				 n, got, got < 0 ? pinmm_strerror((int)got) : "short");
			break;
		}
	}
	w->calls = calls;
	return done;
}

static void worker_release(struct worker *w, long n)
{
	if (api_pins(w->c->api)) {
		unpin_user_pages(w->pages, (unsigned long)n);
	} else {
		for (long i = 0; i < n; i++)
			put_page(w->pages[i]);
	}
}

static long worker_verify(struct worker *w, long n)
{
	long ok = 0;

	for (long i = 0; i < n; i++) {
		struct folio *f = page_folio(w->pages[i]);

		if (api_pins(w->c->api) ? folio_maybe_dma_pinned(f) : folio_ref_count(f) >= 2)
			ok++;
	}
	return ok;
}

/*
 * Each repeat: B1, acquire (timed), verify on the warm-up, B2, release
 * (timed), B3.  The main thread waits at the barriers too, reading the
 * machine's counters between phases.
 */
static void *worker_fn(void *arg)
{
	struct worker *w = arg;
	const struct gup_cfg *c = w->c;
	struct mm_struct *mm = pinmm_proc_mm(w->e->p);

	pinmm_set_current(w->e->p);
	for (int k = 0; k <= c->repeats; k++) {
		long got = 0;

		pthread_barrier_wait(w->bar);
		if (!w->err) {
			if (api_slow(c->api))
				mmap_read_lock(mm);
			w->a0[k] = bench_now_ns();
			got = worker_acquire(w);
			w->a1[k] = bench_now_ns();
			if (api_slow(c->api))
				mmap_read_unlock(mm);
			if (k == 0)
				w->verified = worker_verify(w, got);
		}
		pthread_barrier_wait(w->bar);
		w->r0[k] = bench_now_ns();
		if (got)
			worker_release(w, got);
		w->r1[k] = bench_now_ns();
		pthread_barrier_wait(w->bar);
	}
	pinmm_set_current(NULL);
	return NULL;
}

int sim_gup_run(struct sim_env *e, const struct gup_cfg *c, struct gup_run *r)
{
	struct worker w[BENCH_MAX_THREADS];
	pthread_t tid[BENCH_MAX_THREADS];
	pthread_barrier_t bar;
	long npages = (long)(c->bytes >> PAGE_SHIFT);
	long part, fb0, acq0, rel0;
	int nt = c->threads;

	memset(r, 0, sizeof(*r));
	r->repeats = c->repeats;
	/* Disjoint parts, PMD-aligned so that no THP is shared. */
	part = npages / nt;
	if (part >= (long)(PMD_BYTES >> PAGE_SHIFT))
		part &= ~((long)(PMD_BYTES >> PAGE_SHIFT) - 1);
	pthread_barrier_init(&bar, NULL, (unsigned)nt + 1);
	for (int i = 0; i < nt; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].c = c;
		w[i].e = e;
		w[i].bar = &bar;
		w[i].start = e->addr + ((unsigned long)(i * part) << PAGE_SHIFT);
		w[i].npages = i == nt - 1 ? npages - i * part : part;
		w[i].pages = calloc((size_t)w[i].npages + 1, sizeof(struct page *));
		if (!w[i].pages) {
			fprintf(stderr, "pinmm: bench: out of memory\n");
			exit(EXIT_FAIL);
		}
	}
	fb0 = pinmm_vmstat(e->m, "gup_fast_fallback");
	for (int i = 0; i < nt; i++) {
		if (pthread_create(&tid[i], NULL, worker_fn, &w[i])) {
			fprintf(stderr, "pinmm: bench: pthread_create failed\n");
			exit(EXIT_FAIL);
		}
	}
	for (int k = 0; k <= c->repeats; k++) {
		/* Acquiring never moves the released count, nor releasing the acquired. */
		acq0 = pinmm_vmstat(e->m, "nr_foll_pin_acquired");
		rel0 = pinmm_vmstat(e->m, "nr_foll_pin_released");
		pthread_barrier_wait(&bar);		/* B1 */
		pthread_barrier_wait(&bar);		/* B2: acquired */
		if (k == 0)
			r->vm_acquired = pinmm_vmstat(e->m, "nr_foll_pin_acquired") - acq0;
		pthread_barrier_wait(&bar);		/* B3: released */
		if (k == 0)
			r->vm_released = pinmm_vmstat(e->m, "nr_foll_pin_released") - rel0;
	}
	for (int i = 0; i < nt; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&bar);
	r->vm_fallback = pinmm_vmstat(e->m, "gup_fast_fallback") - fb0;

	for (int k = 1; k <= c->repeats; k++) {
		uint64_t a0 = w[0].a0[k], a1 = w[0].a1[k], r0 = w[0].r0[k], r1 = w[0].r1[k];

		for (int i = 1; i < nt; i++) {
			a0 = w[i].a0[k] < a0 ? w[i].a0[k] : a0;
			a1 = w[i].a1[k] > a1 ? w[i].a1[k] : a1;
			r0 = w[i].r0[k] < r0 ? w[i].r0[k] : r0;
			r1 = w[i].r1[k] > r1 ? w[i].r1[k] : r1;
		}
		r->acq_ns[k - 1] = (double)(a1 - a0);
		r->rel_ns[k - 1] = (double)(r1 - r0);
	}
	r->pages = npages;
	for (int i = 0; i < nt; i++) {
		r->calls += w[i].calls;
		r->verified += w[i].verified;
		if (w[i].err && !r->err) {
			r->err = w[i].err;
			snprintf(r->errmsg, sizeof(r->errmsg), "%s", w[i].errmsg);
		}
		free(w[i].pages);
	}
	return r->err;
}

void gup_summarise(const struct gup_run *r, struct gup_summary *s)
{
	double a[BENCH_MAX_REP], b[BENCH_MAX_REP];

	memcpy(a, r->acq_ns, sizeof(a));
	memcpy(b, r->rel_ns, sizeof(b));
	s->acq_min_ns = bench_min(a, r->repeats);
	s->rel_min_ns = bench_min(b, r->repeats);
	s->acq_med_ns = bench_median(a, r->repeats);
	s->rel_med_ns = bench_median(b, r->repeats);
	s->acq_ns_page = r->pages ? s->acq_med_ns / (double)r->pages : 0;
	s->rel_ns_page = r->pages ? s->rel_med_ns / (double)r->pages : 0;
	s->acq_ns_call = r->calls ? s->acq_med_ns / (double)r->calls : 0;
}

int run_or_fail(struct sim_env *e, const struct gup_cfg *c, struct gup_summary *s,
		       struct gup_run *r)
{
	if (sim_gup_run(e, c, r)) {
		fprintf(stderr, "pinmm: bench: %s\n", r->errmsg);
		return EXIT_FAIL;
	}
	if (r->verified != r->pages) {
		fprintf(stderr, "pinmm: bench: only %ld of %ld pages verified after %s\n",
			r->verified, r->pages, bench_api_name[c->api]);
		return EXIT_FAIL;
	}
	gup_summarise(r, s);
	return EXIT_OK;
}
