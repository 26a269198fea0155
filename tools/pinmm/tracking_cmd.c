/* SPDX-License-Identifier: MIT */
/*
 * tracking_cmd.c - `pinmm tracking`: the three pin-counting strategies
 * (pin.tracking = bias | exact | mapcount) on the same workloads.
 *
 * For each workload the truth is known (is the page pinned or not?) and
 * folio_maybe_dma_pinned() is asked; a "yes" for an unpinned page is a
 * false positive (harmless but costly: fork copies, migration refuses), a
 * "no" for a pinned page is a false negative (the bug pinning exists to
 * prevent).  A racing workload samples the answer while another thread
 * forks and exits children that map the pinned page.  Costs: pin+unpin
 * time per page with GUP-fast, and the memory each strategy needs.
 *
 * Uses only the public API.  doc/PIN-TRACKING.md explains the results.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "json_out.h"
#include "progress.h"
#include "tool.h"

static const char *const strategies[] = { "bias", "exact", "mapcount" };
#define NR_STRATEGIES 3

struct tr_env {
	struct pinmm *m;
	struct pinmm_proc *p;
	unsigned long buf;
};

static int env_boot(struct tr_env *e, const char *strategy)
{
	struct pinmm_config cfg;
	int ret;

	pinmm_config_default(&cfg);
	if (pinmm_config_set(&cfg, "ram", "512M") || pinmm_config_set(&cfg, "debug", "0") ||
	    pinmm_config_set(&cfg, "quiet", "1") ||
	    pinmm_config_set(&cfg, "pin.tracking", strategy))
		return -EINVAL;
	ret = pinmm_boot(&cfg, &e->m);
	if (ret)
		return ret;
	ret = pinmm_proc_create(e->m, &e->p);
	if (ret)
		return ret;
	pinmm_set_current(e->p);
	e->buf = (unsigned long)pinmm_mmap(e->p, 0, 64UL << 20, PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if ((long)e->buf < 0)
		return (int)(long)e->buf;
	return (int)pinmm_store(e->p, e->buf, "x", 1) == 1 ? 0 : -EFAULT;
}

static int env_down(struct tr_env *e)
{
	pinmm_set_current(NULL);
	return pinmm_shutdown(e->m);
}

static bool maybe_pinned(struct page *pg)
{
	return folio_maybe_dma_pinned(page_folio(pg));
}

/*
 * A workload: sets up its state, returns the page to ask about and the
 * truth, then undoes everything in teardown so that shutdown is clean.
 */
struct workload {
	const char *name;
	const char *what;
	bool truth;				/* pinned? */
	int (*run)(struct tr_env *e, bool *answer);
};

static int wl_pinned(struct tr_env *e, bool *answer)
{
	struct page *pg;

	if (pin_user_pages_fast(e->buf, 1, FOLL_WRITE, &pg) != 1)
		return -EFAULT;
	*answer = maybe_pinned(pg);
	unpin_user_page(pg);
	return 0;
}

static int wl_gets(struct tr_env *e, bool *answer, int n)
{
	struct page **pg = calloc((size_t)n, sizeof(*pg));
	int got = 0, ret = 0;

	if (!pg)
		return -ENOMEM;
	for (; got < n; got++)
		if (get_user_pages_fast(e->buf, 1, 0, &pg[got]) != 1) {
			ret = -EFAULT;
			break;
		}
	if (!ret)
		*answer = maybe_pinned(pg[0]);
	for (int i = 0; i < got; i++)
		put_page(pg[i]);
	free(pg);
	return ret;
}

static int wl_one_get(struct tr_env *e, bool *answer)
{
	return wl_gets(e, answer, 1);
}

static int wl_many_gets(struct tr_env *e, bool *answer)
{
	return wl_gets(e, answer, 1100);
}

static int wl_many_mappers(struct tr_env *e, bool *answer)
{
	enum { N = 1100 };
	struct pinmm_proc **kids = calloc(N, sizeof(*kids));
	struct page *pg;
	int n = 0, ret = 0;

	if (!kids)
		return -ENOMEM;
	for (; n < N; n++)
		if (pinmm_fork(e->p, &kids[n])) {
			ret = -ENOMEM;
			break;
		}
	/* A FOLL_GET reference to ask with; then subtract it from the picture. */
	if (!ret && get_user_pages_fast(e->buf, 1, 0, &pg) == 1) {
		put_page(pg);		/* the page stays alive through its mappings */
		*answer = maybe_pinned(pg);
	} else {
		ret = -EFAULT;
	}
	for (int i = 0; i < n; i++) {
		pinmm_exit(kids[i]);
		pinmm_proc_put(kids[i]);
	}
	free(kids);
	return ret;
}

static int wl_unmapped_pin(struct tr_env *e, bool *answer)
{
	unsigned long a = (unsigned long)pinmm_mmap(e->p, 0, 4096, PROT_READ | PROT_WRITE,
						    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct page *pg;

	if (pin_user_pages_fast(a, 1, FOLL_WRITE, &pg) != 1)
		return -EFAULT;
	pinmm_munmap(e->p, a, 4096);
	*answer = maybe_pinned(pg);
	unpin_user_page(pg);
	return 0;
}

static int wl_cache_pin(struct tr_env *e, bool *answer)
{
	int fd = pinmm_memfd_create(e->p, "tracking", 0);
	struct page *pg;
	long a;

	if (fd < 0 || pinmm_ftruncate(e->p, fd, 4096))
		return -EFAULT;
	a = pinmm_mmap(e->p, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (a < 0 || pin_user_pages_fast((unsigned long)a, 1, FOLL_WRITE, &pg) != 1)
		return -EFAULT;
	*answer = maybe_pinned(pg);
	unpin_user_page(pg);
	pinmm_munmap(e->p, (unsigned long)a, 4096);
	pinmm_close(e->p, fd);
	return 0;
}

static const struct workload workloads[] = {
	{ "pinned", "one FOLL_PIN on a private page", true, wl_pinned },
	{ "one-get", "one FOLL_GET reference, no pin", false, wl_one_get },
	{ "1100-gets", "1100 FOLL_GET references, no pin", false, wl_many_gets },
	{ "1100-mappers", "page COW-shared by 1100 forked processes", false, wl_many_mappers },
	{ "pinned-unmapped", "pinned, then munmap()ed", true, wl_unmapped_pin },
	{ "pinned-pagecache", "pinned page-cache page (memfd)", true, wl_cache_pin },
};

/*
 * The race: a pinned page of a shared memfd mapping, one thread sampling
 * folio_maybe_dma_pinned(), another forking children that fault the page
 * in (a new mapping: one more reference and one more mapcount) and exit.
 * A strategy that infers pins from refcount - mapcount reads the two
 * counters at different times and can see a mapping's mapcount without its
 * reference: a false negative.
 */
struct race {
	struct tr_env *e;
	unsigned long addr;
	struct page *pg;
	atomic_bool stop;
	long samples, wrong, forks;
};

static void *race_forker(void *arg)
{
	struct race *r = arg;

	while (!atomic_load(&r->stop)) {
		struct pinmm_proc *kid;
		char c;

		if (pinmm_fork(r->e->p, &kid))
			break;
		pinmm_load(kid, r->addr, &c, 1);
		pinmm_exit(kid);
		pinmm_proc_put(kid);
		r->forks++;
	}
	return NULL;
}

static int wl_race(struct tr_env *e, double seconds, long *samples, long *wrong, long *forks)
{
	struct race r = { .e = e };
	struct timespec t0, t;
	pthread_t th;
	int fd;
	long a;

	/* Keep the fork cheap: the big private buffer is not copied. */
	pinmm_madvise(e->p, e->buf, 64UL << 20, MADV_DONTFORK);
	fd = pinmm_memfd_create(e->p, "race", 0);
	if (fd < 0 || pinmm_ftruncate(e->p, fd, 4096))
		return -EFAULT;
	a = pinmm_mmap(e->p, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (a < 0 || pin_user_pages_fast((unsigned long)a, 1, FOLL_WRITE, &r.pg) != 1)
		return -EFAULT;
	r.addr = (unsigned long)a;
	pthread_create(&th, NULL, race_forker, &r);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 1000; i++) {
			r.samples++;
			if (!maybe_pinned(r.pg))
				r.wrong++;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	unpin_user_page(r.pg);
	pinmm_munmap(e->p, r.addr, 4096);
	pinmm_close(e->p, fd);
	pinmm_madvise(e->p, e->buf, 64UL << 20, MADV_DOFORK);
	*samples = r.samples;
	*wrong = r.wrong;
	*forks = r.forks;
	return 0;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Pin + unpin cost per page over 32 MiB of populated 4 KiB pages. */
static int cost(struct tr_env *e, double *pin_ns, double *unpin_ns)
{
	enum { PAGES = 8192, CHUNK = 512, REPS = 5 };
	static struct page *pg[PAGES];
	double best_pin = 1e30, best_unpin = 1e30;

	pinmm_madvise(e->p, e->buf, 64UL << 20, MADV_NOHUGEPAGE);
	for (unsigned long a = e->buf; a < e->buf + PAGES * 4096UL; a += 4096)
		if (pinmm_store(e->p, a, "y", 1) != 1)
			return -EFAULT;
	for (int r = 0; r < REPS; r++) {
		double t0 = now_s(), t1, t2;

		for (int i = 0; i < PAGES; i += CHUNK)
			if (pin_user_pages_fast(e->buf + (unsigned long)i * 4096, CHUNK, FOLL_WRITE,
						&pg[i]) != CHUNK)
				return -EFAULT;
		t1 = now_s();
		for (int i = 0; i < PAGES; i += CHUNK)
			unpin_user_pages(&pg[i], CHUNK);
		t2 = now_s();
		if (t1 - t0 < best_pin)
			best_pin = t1 - t0;
		if (t2 - t1 < best_unpin)
			best_unpin = t2 - t1;
	}
	*pin_ns = best_pin * 1e9 / PAGES;
	*unpin_ns = best_unpin * 1e9 / PAGES;
	return 0;
}

static const char *verdict(bool truth, bool answer)
{
	if (truth == answer)
		return "ok";
	return answer ? "FALSE POSITIVE" : "FALSE NEGATIVE";
}

/**
 * pinmm_cmd_tracking() - `pinmm tracking [--json] [--race-seconds S]`.
 * Return: EXIT_OK, EXIT_FAIL if a machine could not be booted or did not
 * shut down clean, EXIT_USAGE for bad arguments.
 */
int pinmm_cmd_tracking(int argc, char **argv)
{
	struct progress prog;
	bool json = false;
	double race_s = 1.0;
	bool ans[ARRAY_SIZE(workloads)][NR_STRATEGIES];
	long samples[NR_STRATEGIES], wrong[NR_STRATEGIES], forks[NR_STRATEGIES];
	double pin_ns[NR_STRATEGIES], unpin_ns[NR_STRATEGIES];
	int rc = EXIT_OK;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--race-seconds") && i + 1 < argc) {
			race_s = atof(argv[++i]);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: pinmm tracking [--json] [--race-seconds S]\n"
			       "Compare pin.tracking=bias|exact|mapcount: wrong answers of\n"
			       "folio_maybe_dma_pinned() on fixed workloads and under a race,\n"
			       "and the cost of pin+unpin per page.\n");
			return EXIT_OK;
		} else {
			fprintf(stderr, "pinmm: tracking: unknown argument '%s' (try --help)\n", argv[i]);
			return EXIT_USAGE;
		}
	}

	progress_begin(&prog, "pinmm tracking", 2 * NR_STRATEGIES);
	for (int s = 0; s < NR_STRATEGIES; s++) {
		progress_step(&prog, "%s: workloads", strategies[s]);
		for (size_t w = 0; w < ARRAY_SIZE(workloads); w++) {
			struct tr_env e;

			if (env_boot(&e, strategies[s]) || workloads[w].run(&e, &ans[w][s])) {
				progress_clear(&prog);
				fprintf(stderr, "pinmm: tracking: %s/%s failed to run\n",
					strategies[s], workloads[w].name);
				return EXIT_FAIL;
			}
			if (env_down(&e)) {
				progress_clear(&prog);
				fprintf(stderr, "pinmm: tracking: %s/%s: shutdown not clean\n",
					strategies[s], workloads[w].name);
				rc = EXIT_FAIL;
			}
		}
		{
			struct tr_env e;

			progress_step(&prog, "%s: race for %.1f s, cost", strategies[s], race_s);
			if (env_boot(&e, strategies[s]) ||
			    wl_race(&e, race_s, &samples[s], &wrong[s], &forks[s]) ||
			    cost(&e, &pin_ns[s], &unpin_ns[s]) || env_down(&e)) {
				progress_clear(&prog);
				fprintf(stderr, "pinmm: tracking: %s: race/cost run failed\n", strategies[s]);
				return EXIT_FAIL;
			}
		}
	}
	progress_clear(&prog);

	if (json) {
		struct json_object *doc = json_object_new_object();
		struct json_object *wls = json_object_new_array();
		struct json_object *race = json_object_new_object();
		struct json_object *cost_ns = json_object_new_object();

		for (size_t w = 0; w < ARRAY_SIZE(workloads); w++) {
			struct json_object *o = json_object_new_object();

			jset_str(o, "name", workloads[w].name);
			jset_bool(o, "pinned", workloads[w].truth);
			for (int s = 0; s < NR_STRATEGIES; s++)
				jset_bool(o, strategies[s], ans[w][s]);
			json_object_array_add(wls, o);
		}
		for (int s = 0; s < NR_STRATEGIES; s++) {
			struct json_object *r = json_object_new_object();
			struct json_object *c = json_object_new_object();

			jset_int(r, "samples", samples[s]);
			jset_int(r, "false_negatives", wrong[s]);
			jset_int(r, "mapping_cycles", forks[s]);
			jset(race, strategies[s], r);
			jset(c, "pin", jnum(pin_ns[s], "%.2f"));
			jset(c, "unpin", jnum(unpin_ns[s], "%.2f"));
			jset(cost_ns, strategies[s], c);
		}
		jset(doc, "workloads", wls);
		jset(doc, "race", race);
		jset(doc, "cost_ns_per_page", cost_ns);
		json_print(stdout, doc, true);
		return rc;
	}

	printf("folio_maybe_dma_pinned() by strategy (truth in the second column)\n\n");
	printf("%-18s %-7s %-16s %-16s %-16s\n", "workload", "pinned", "bias", "exact", "mapcount");
	for (size_t w = 0; w < ARRAY_SIZE(workloads); w++) {
		printf("%-18s %-7s", workloads[w].name, workloads[w].truth ? "yes" : "no");
		for (int s = 0; s < NR_STRATEGIES; s++)
			printf(" %-16s", ans[w][s] == workloads[w].truth ? (ans[w][s] ? "yes" : "no") :
			       verdict(workloads[w].truth, ans[w][s]));
		printf("\n");
	}
	printf("\n  workloads:\n");
	for (size_t w = 0; w < ARRAY_SIZE(workloads); w++)
		printf("    %-18s %s\n", workloads[w].name, workloads[w].what);
	printf("\nrace: a pinned shared memfd page sampled for %.1f s while another thread\n"
	       "forks children that fault it in and exit (false negatives = 'not pinned')\n\n",
	       race_s);
	for (int s = 0; s < NR_STRATEGIES; s++)
		printf("  %-9s %10ld samples  %8ld false negatives  (%ld map/unmap cycles)\n",
		       strategies[s], samples[s], wrong[s], forks[s]);
	printf("\ncost: pin_user_pages_fast + unpin_user_pages, 4 KiB pages, 512 per call\n\n");
	printf("  %-9s %8s %10s   %s\n", "strategy", "pin ns", "unpin ns", "memory");
	for (int s = 0; s < NR_STRATEGIES; s++)
		printf("  %-9s %8.2f %10.2f   %s\n", strategies[s], pin_ns[s], unpin_ns[s],
		       s == 0 ? "none (folded into _refcount)" :
		       s == 1 ? "one word per page (struct page grows in Linux)" :
				"none (inferred from refcount and mapcount)");
	return rc;
}
