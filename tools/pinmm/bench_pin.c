/* SPDX-License-Identifier: MIT */
/*
 * bench_pin.c - the pinning rows of `pinmm bench` ("Page pinning", item 10),
 * on 1 GiB pre-faulted.  Each figure is compared only with something that
 * does the same work, measured in the same run:
 *
 *   P5, P6, U1, U2  pinmm's io_uring fixed-buffer registration
 *                   (bench_uring.c) against the host kernel's
 *                   io_uring_register_buffers of the same size (host.c):
 *                   ratio = pinmm / host;
 *   P1-P4, P7, P8,  GUP-fast, get/put and single-page calls, which have no
 *   P10             host path without CONFIG_GUP_TEST: against the
 *                   physical bound of bench_bound.c: ratio = pinmm / bound;
 *   P11, P12        GUP-fast on 2 MiB hugetlb pages: against P1/P2 (4K)
 *                   of the same run: ratio = hugetlb / 4K;
 *   P9              2 threads vs 1: no ratio; the target is 0.95 x C1, the
 *                   CPU check of the same run.
 *
 * X1 cross-checks in /proc/vmstat that the host really pinned.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"
#include "bench.h"

/* The simulated figures of one std_pin() run. */
struct pin_sim {
	struct gup_summary pf, gf, lt, one, th1, th2, thp, m64, htlb;
	struct host_pin u4, us, ut1, ut2;	/* pinmm io_uring: 1 GiB, 4 KiB, 1 and 2 rings */
	double us_call;
	uint64_t ut1_ns, ut2_ns;
	double cpu_scale, cpu_scale2, load;
};

/* The host's figures: io_uring registration only. */
struct pin_host {
	struct host_pin h4, hs, ht1, ht2;
	double hs_call;
	uint64_t ht1_ns, ht2_ns;
};

/*
 * The region of sim_env_setup() backed by 2 MiB hugetlb pages: a pool of
 * exactly the region's pages, one MAP_HUGETLB mapping, one store per page.
 */
static int sim_env_setup_hugetlb(struct sim_env *e, size_t bytes)
{
	struct pinmm_config cfg;
	char ram[32], pool[32];
	const char one = 1;
	long a;
	int ret;

	memset(e, 0, sizeof(*e));
	e->bytes = bytes;
	pinmm_config_default(&cfg);
	snprintf(ram, sizeof(ram), "%" PRIu64, ram_for(bytes));
	snprintf(pool, sizeof(pool), "%zu", bytes / PMD_BYTES);
	if (pinmm_config_set(&cfg, "ram", ram) || pinmm_config_set(&cfg, "debug", "0") ||
	    pinmm_config_set(&cfg, "rlimit.memlock", "unlimited") ||
	    pinmm_config_set(&cfg, "quiet", "1") || pinmm_config_set(&cfg, "hugepages.2M", pool))
		return -EINVAL;
	ret = pinmm_boot(&cfg, &e->m);
	if (!ret)
		ret = pinmm_proc_create(e->m, &e->p);
	if (ret)
		goto fail;
	pinmm_set_current(e->p);
	a = pinmm_mmap(e->p, 0, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);
	ret = a < 0 ? (int)a : 0;
	e->addr = (unsigned long)a;
	for (size_t off = 0; !ret && off < bytes; off += PAGE_SIZE)
		if (pinmm_store(e->p, e->addr + off, &one, 1) != 1)
			ret = -EFAULT;
	if (!ret)
		return 0;
fail:
	fprintf(stderr, "pinmm: bench: setting up a %zu MiB hugetlb region failed: %s\n",
		bytes / MiB, pinmm_strerror(ret));
	if (e->m)
		pinmm_shutdown(e->m);
	e->m = NULL;
	return ret;
}

/* P1-P10 and U1-U2 on the simulated side: 4K first, then THP, then hugetlb. */
static int pin_sim_run(struct pin_sim *s)
{
	const size_t bytes = GiB;
	struct gup_cfg c = {
		.bytes = bytes, .per_call = 512, .repeats = 5, .write = true,
		.api = API_PIN_FAST, .threads = 1,
	};
	struct gup_run r;
	struct sim_env e;
	int ret;

	if (sim_env_setup(&e, bytes, false, false))
		return EXIT_FAIL;
	ret = run_or_fail(&e, &c, &s->pf, &r);			/* pin_fast 4K, -n 512 */
	if (!ret) {
		c.api = API_GUP_FAST;
		ret = run_or_fail(&e, &c, &s->gf, &r);
	}
	if (!ret) {
		c.api = API_PIN;
		c.longterm = true;
		ret = run_or_fail(&e, &c, &s->lt, &r);
	}
	if (!ret) {
		c.api = API_PIN_FAST;
		c.longterm = false;
		c.per_call = 1;
		c.repeats = 3;
		ret = run_or_fail(&e, &c, &s->one, &r);
	}
	/* P9, bracketed by the CPU check (C1): other load on the host shows. */
	s->load = host_loadavg();
	s->cpu_scale = host_cpu_scaling();
	if (!ret) {
		c.per_call = 512;
		c.repeats = 5;
		ret = run_or_fail(&e, &c, &s->th1, &r);
	}
	if (!ret) {
		c.threads = 2;
		ret = run_or_fail(&e, &c, &s->th2, &r);
	}
	s->cpu_scale2 = host_cpu_scaling();
	if (!ret) {
		/* The same calls and timing as the host's io_uring below. */
		sim_uring_pin(&e, 5, &s->u4);
		sim_uring_pin_small(&e, 2000, &s->us, &s->us_call);
		sim_uring_pin_threads(&e, 1, 3, &s->ut1, &s->ut1_ns);
		sim_uring_pin_threads(&e, 2, 3, &s->ut2, &s->ut2_ns);
		if (!s->u4.ok || !s->us.ok || !s->ut1.ok || !s->ut2.ok) {
			fprintf(stderr, "pinmm: bench: %s\n", !s->u4.ok ? s->u4.why :
				!s->us.ok ? s->us.why : !s->ut1.ok ? s->ut1.why : s->ut2.why);
			ret = EXIT_FAIL;
		}
	}
	if (sim_env_teardown(&e) && !ret)
		ret = EXIT_FAIL;
	if (ret)
		return ret;

	if (sim_env_setup(&e, bytes, true, false))
		return EXIT_FAIL;
	c.threads = 1;
	c.thp = true;
	ret = run_or_fail(&e, &c, &s->thp, &r);
	if (!ret && e.thp_pmds < (long)(bytes / PMD_BYTES)) {
		fprintf(stderr, "pinmm: bench: only %ld of %zu PMDs were THP\n", e.thp_pmds,
			bytes / PMD_BYTES);
		ret = EXIT_FAIL;
	}
	if (sim_env_teardown(&e) && !ret)
		ret = EXIT_FAIL;
	if (ret)
		return ret;

	/* M1/M2: the same loop over 64 KiB folios mapped by PTEs. */
	if (sim_env_setup_mthp(&e, bytes, 64))
		return EXIT_FAIL;
	c.thp = false;
	ret = run_or_fail(&e, &c, &s->m64, &r);
	if (!ret && e.mthp_folios != (long)(bytes / (64 << 10))) {
		fprintf(stderr, "pinmm: bench: only %ld of %zu 64 KiB folios\n", e.mthp_folios,
			bytes / (64 << 10));
		ret = EXIT_FAIL;
	}
	if (sim_env_teardown(&e) && !ret)
		ret = EXIT_FAIL;
	if (ret)
		return ret;

	if (sim_env_setup_hugetlb(&e, bytes))
		return EXIT_FAIL;
	c.thp = false;
	ret = run_or_fail(&e, &c, &s->htlb, &r);
	if (sim_env_teardown(&e) && !ret)
		ret = EXIT_FAIL;
	return ret;
}

/* pin_user_pages_fast on 64 KiB folios against 4K pages of the same run (M1, M2). */
static void pin_rows_mthp(const struct pin_sim *s)
{
	struct row *w;

	w = add_row("M1", "pin_user_pages_fast 64K-folio acquire", "ns/page", "<= P1",
		    s->m64.acq_ns_page);
	w->verdict = le(w->measured, s->pf.acq_ns_page);
	snprintf(w->note, sizeof(w->note), "thp.64K=always, PTE-mapped, -n 512, median of 5; "
		 "P1 (4K) of this run %.2f", s->pf.acq_ns_page);
	w = add_row("M2", "pin_user_pages_fast 64K-folio release", "ns/page", "<= P2",
		    s->m64.rel_ns_page);
	w->verdict = le(w->measured, s->pf.rel_ns_page);
	snprintf(w->note, sizeof(w->note), "unpin_user_pages; P2 (4K) of this run %.2f",
		 s->pf.rel_ns_page);
}

static void pin_host_run(struct pin_host *h)
{
	host_uring_pin(GiB, false, 5, &h->h4);
	host_uring_pin_small(2000, &h->hs, &h->hs_call);
	host_uring_pin_threads(GiB, 1, 3, &h->ht1, &h->ht1_ns);
	host_uring_pin_threads(GiB, 2, 3, &h->ht2, &h->ht2_ns);
}

/* GUP-fast, 4K and THP, against the physical bound (P1-P4). */
static void pin_rows_gup_fast(const struct pin_sim *s, const struct phys_bound *b)
{
	struct row *w;

	w = add_row("P1", "pin_user_pages_fast 4K acquire", "ns/page", "<= 10", s->pf.acq_ns_page);
	w->verdict = le(w->measured, 10);
	row_bound(w, b->acq_4k);
	snprintf(w->note, sizeof(w->note), "-n 512, median of 5; bound: PTE read + atomic + store");
	w = add_row("P2", "pin_user_pages_fast 4K release", "ns/page", "<= 5", s->pf.rel_ns_page);
	w->verdict = le(w->measured, 5);
	row_bound(w, b->rel_4k);
	snprintf(w->note, sizeof(w->note), "unpin_user_pages; bound: array load + atomic");
	w = add_row("P3", "pin_user_pages_fast THP acquire", "ns/page", "<= 0.5", s->thp.acq_ns_page);
	w->verdict = le(w->measured, 0.5);
	row_bound(w, b->acq_thp);
	snprintf(w->note, sizeof(w->note), "-t -n 512 (one PMD per call); bound: PMD read + "
		 "one atomic per 512 pages + a store per page");
	w = add_row("P4", "pin_user_pages_fast THP release", "ns/page", "-", s->thp.rel_ns_page);
	row_bound(w, b->rel_thp);
	snprintf(w->note, sizeof(w->note), "bound: a load and compare per page + one atomic per 512");

	/* hugetlb: no physical bound of its own; compared with 4K of this run. */
	w = add_row("P11", "pin_user_pages_fast hugetlb 2M acquire", "ns/page", "<= P1",
		    s->htlb.acq_ns_page);
	w->verdict = s->htlb.acq_ns_page <= s->pf.acq_ns_page ? V_MET : V_MISSED;
	snprintf(w->note, sizeof(w->note), "MAP_HUGETLB, -n 512 (one PMD leaf per call); "
		 "P11 / P1 = %.3f", s->htlb.acq_ns_page / s->pf.acq_ns_page);
	w = add_row("P12", "pin_user_pages_fast hugetlb 2M release", "ns/page", "-",
		    s->htlb.rel_ns_page);
	snprintf(w->note, sizeof(w->note), "unpin_user_pages; P12 / P2 = %.3f",
		 s->htlb.rel_ns_page / s->pf.rel_ns_page);
}

/* get/put and single-page calls against the physical bound (P7, P8). */
static void pin_rows_calls(const struct pin_sim *s, const struct phys_bound *b)
{
	struct row *w;

	w = add_row("P7", "get_user_pages_fast 4K acquire", "ns/page", "-", s->gf.acq_ns_page);
	row_bound(w, b->acq_4k);
	snprintf(w->note, sizeof(w->note), "release (put_page each) %.2f ns/page, bound %.2f",
		 s->gf.rel_ns_page, b->rel_4k);
	w = add_row("P8", "pin_user_pages_fast, 1 page/call", "ns/call", "<= 100", s->one.acq_ns_call);
	w->verdict = le(w->measured, 100);
	row_bound(w, b->acq_4k);
	snprintf(w->note, sizeof(w->note), "-n 1 over 1 GiB; release %.2f ns/page; bound: one "
		 "page's work, no call overhead", s->one.rel_ns_page);
}

/* The slow path, pin_user_pages(W|LONGTERM), against the physical bound (P10). */
static void pin_rows_slow(const struct pin_sim *s, const struct phys_bound *b)
{
	const double npages = (double)(GiB >> PAGE_SHIFT);
	struct row *w;

	w = add_row("P10", "pin_user_pages W|LONGTERM 4K acquire", "ms/GiB", "-",
		    s->lt.acq_med_ns / 1e6);
	row_bound(w, b->acq_4k * npages / 1e6);
	snprintf(w->note, sizeof(w->note), "mmap_read_lock held, -n 512; unpin %.2f ms/GiB",
		 s->lt.rel_med_ns / 1e6);
}

/* io_uring registration of 1 GiB, pinmm's against the host's (P5, P6). */
static void pin_rows_uring(const struct pin_sim *s, const struct pin_host *h, bool host)
{
	struct row *w;

	w = add_row("P5", "io_uring register 1 GiB 4K", "ms/GiB", "<= 0.5x host",
		    host_median(s->u4.reg_ns, s->u4.repeats) / 1e6);
	row_host(w, host && h->h4.ok, host_median(h->h4.reg_ns, h->h4.repeats) / 1e6);
	w->verdict = w->has_ratio ? le(w->ratio, 0.5) : V_NA;
	snprintf(w->note, sizeof(w->note), "pin_user_pages_fast(W|LONGTERM) + memlock + bvec, "
		 "both sides; median of 5; verdict on the ratio");
	w = add_row("P6", "io_uring unregister 1 GiB 4K", "ms/GiB", "-",
		    host_median(s->u4.unreg_ns, s->u4.repeats) / 1e6);
	row_host(w, host && h->h4.ok, host_median(h->h4.unreg_ns, h->h4.repeats) / 1e6);
}

/* One small buffer, and two rings at once: pinmm's against the host's (U1, U2). */
static void pin_rows_uring_small(const struct pin_sim *s, const struct pin_host *h, bool host)
{
	double sim_scale = 0, host_scale = 0;
	struct row *w;

	w = add_row("U1", "io_uring register one 4 KiB buffer", "ns/call", "-", s->us_call);
	row_host(w, host && h->hs.ok, h->hs_call);
	snprintf(w->note, sizeof(w->note), "2000 register+unregister pairs, registration timed");
	if (s->ut2_ns)
		sim_scale = (double)s->ut1_ns / (double)s->ut2_ns;
	if (h->ht1.ok && h->ht2.ok && h->ht2_ns)
		host_scale = (double)h->ht1_ns / (double)h->ht2_ns;
	w = add_row("U2", "io_uring 2 rings vs 1, 1 GiB halves", "x", "-", sim_scale);
	row_host(w, host && host_scale > 0, host_scale);
	snprintf(w->note, sizeof(w->note), "register+unregister, best of 3; ratio = pinmm/host "
		 "scaling; see C1");
}

/**
 * std_pin() - measure and add the pinning rows.
 * @host: also measure the host kernel.
 *
 * Context: the bench's main thread.
 * Return: EXIT_OK, or EXIT_FAIL when a measurement could not be made.
 */
int std_pin(bool host)
{
	const double npages = (double)(GiB >> PAGE_SHIFT);
	struct pin_sim s;
	struct pin_host h;
	struct phys_bound b;
	double sim_scale;
	struct row *w;
	int ret;

	memset(&s, 0, sizeof(s));
	memset(&h, 0, sizeof(h));
	ret = pin_sim_run(&s);
	if (ret)
		return ret;
	ret = phys_bound_measure(GiB, 5, &b);
	if (ret) {
		fprintf(stderr, "pinmm: bench: the physical-bound loop failed: %s\n",
			pinmm_strerror(ret));
		return EXIT_FAIL;
	}
	if (host)
		pin_host_run(&h);

	pin_rows_gup_fast(&s, &b);
	pin_rows_mthp(&s);
	pin_rows_uring(&s, &h, host);
	pin_rows_calls(&s, &b);
	sim_scale = (s.th1.acq_med_ns + s.th1.rel_med_ns) / (s.th2.acq_med_ns + s.th2.rel_med_ns);
	w = add_row("P9", "2 threads vs 1, pin+unpin 4K", "x", ">= 0.95 x C1", sim_scale);
	w->verdict = sim_scale >= 0.95 * (s.cpu_scale + s.cpu_scale2) / 2 ? V_MET : V_MISSED;
	snprintf(w->note, sizeof(w->note), "disjoint halves, acquire+release throughput; no host "
		 "path; against C1 of the same run");
	pin_rows_slow(&s, &b);
	pin_rows_uring_small(&s, &h, host);
	w = add_row("C1", "CPU check: 2-thread compute loop", "x", "2.0 (idle)",
		    (s.cpu_scale + s.cpu_scale2) / 2);
	snprintf(w->note, sizeof(w->note), "what two threads can gain on this host now: %.2f "
		 "before P9, %.2f after (loadavg %.2f); P9 / C1 = %.2f", s.cpu_scale, s.cpu_scale2,
		 s.load, sim_scale / w->measured);

	/* The cross-check that both sides really pinned (or why the host could not). */
	if (host && h.h4.ok) {
		w = add_row("X1", "host pins seen in /proc/vmstat", "pages", "-",
			    (double)h.h4.pins_acquired);
		snprintf(w->note, sizeof(w->note), "one io_uring registration of 1 GiB 4K: host "
			 "nr_foll_pin_acquired +%ld, released +%ld; pinmm +%ld, +%ld (%.0f pages)%s",
			 h.h4.pins_acquired, h.h4.pins_released, s.u4.pins_acquired,
			 s.u4.pins_released, npages, h.h4.memlock_raised ? "; RLIMIT_MEMLOCK raised" : "");
	} else if (host) {
		w = add_row("X1", "host unavailable", "-", "-", 0);
		snprintf(w->note, sizeof(w->note), "host: unavailable: %s", h.h4.why);
	}
	return EXIT_OK;
}
