/* SPDX-License-Identifier: MIT */
/*
 * fuzz_cmd.c - `pinmm fuzz --diff --seed S --count N`: differential
 * fuzzing of pinmm against the host kernel (doc/DIFF.md "Differential
 * fuzzing").
 *
 * Each program that fuzz_gen.c makes from (S, index) is written to a
 * scratch file and run on both sides with diff_run_side(), the two logs
 * compared with diff_compare() exactly as `pinmm diff` compares them.
 *  - A side that refuses the program (exit 2: a syntax error, a line the
 *    host cannot run) means the generator left the comparable subset: a
 *    generator refusal, counted, reported and saved, never skipped.
 *  - A difference the allow-list (--allow) excuses counts as allowed.
 *  - A difference that does not come back on two re-runs during which the
 *    host's khugepaged collapsed nothing is counted as unreproducible and
 *    saved as unstable-S-I.pinmm.
 *  - Any other difference is a divergence: the program is shrunk with
 *    fuzz_shrink() while the first difference keeps its kind, command and
 *    field, and the minimal script is written to DIR (default
 *    ./fuzz-out/) as fuzz-S-I.pinmm with a header naming the difference.
 * The summary gives the programs run, each side's seconds and programs per
 * second, divergences found/allowed/not allowed and generator refusals.
 * Exit: 0 none unallowed and no refusal, 1 otherwise, 2 usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"
#include "diff.h"
#include "fuzz.h"
#include "progress.h"

struct fuzz_run {
	uint64_t seed;
	const char *out_dir;
	struct diff_allow *allow;
	bool verbose;
	char path[300];		/* the scratch file a program is run from */
	char name[64];		/* "fuzz-S-I.pinmm", its name in messages */
	double secs[2];		/* pinmm, host */
	long collapsed;		/* thp_collapse_alloc during the last host run */
	long ran, found, allowed, bad, refused, unstable, shrink_tests;
};

/* A counter of /proc/vmstat, or -1. */
static long vmstat_get(const char *name)
{
	FILE *f = fopen("/proc/vmstat", "r");
	char key[64];
	long v, got = -1;

	while (f && fscanf(f, "%63s %ld", key, &v) == 2)
		if (!strcmp(key, name)) {
			got = v;
			break;
		}
	if (f)
		fclose(f);
	return got;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int rc = 0;

	if (!f)
		return -errno;
	if (fputs(text, f) < 0)
		rc = -EIO;
	if (fclose(f) && !rc)
		rc = -errno;
	return rc;
}

/* Run @text on both sides; compare unless a side refused it (return 2). */
static int run_both(struct fuzz_run *r, const char *text, struct diff_first *first,
		    int *nallowed, FILE *out, struct diff_side *sim, struct diff_side *host)
{
	int bad;

	memset(sim, 0, sizeof(*sim));
	memset(host, 0, sizeof(*host));
	sim->name = "pinmm";
	host->name = "host";
	if (write_file(r->path, text))
		return -1;
	diff_run_side(sim, r->path, false);
	r->collapsed = vmstat_get("thp_collapse_alloc");
	diff_run_side(host, r->path, true);
	r->collapsed = vmstat_get("thp_collapse_alloc") - r->collapsed;
	r->secs[0] += sim->secs;
	r->secs[1] += host->secs;
	if (sim->status == EXIT_USAGE || host->status == EXIT_USAGE || sim->log.oom ||
	    host->log.oom)
		return 2;
	bad = diff_compare(r->name, sim, host, r->allow, out, first, nallowed);
	return bad ? 1 : 0;
}

struct shrink_arg {
	struct fuzz_run *r;
	struct diff_first want;
};

/* Still the same kind of difference: kind, command and field. */
static bool still_differs(const struct fuzz_prog *p, const bool *keep, void *arg)
{
	struct shrink_arg *sa = arg;
	struct diff_side sim, host;
	struct diff_first d;
	char *text = fuzz_prog_text(p, keep);
	int rc = text ? run_both(sa->r, text, &d, NULL, NULL, &sim, &host) : -1;

	diff_side_free(&sim);
	diff_side_free(&host);
	free(text);
	/* a run during which khugepaged collapsed pages proves nothing */
	return rc == 1 && !sa->r->collapsed && d.kind == sa->want.kind &&
	       !strcmp(d.cmd, sa->want.cmd) && !strcmp(d.field, sa->want.field);
}

static void save(struct fuzz_run *r, const char *file, const char *header, const char *text)
{
	char path[512];
	FILE *f;

	mkdir(r->out_dir, 0777);
	snprintf(path, sizeof(path), "%s/%s", r->out_dir, file);
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "pinmm: fuzz: %s: %s\n", path, strerror(errno));
		return;
	}
	fprintf(f, "%s%s", header, text);
	fclose(f);
	printf("%s: written\n", path);
}

static void divergence(struct fuzz_run *r, uint64_t index, const char *text,
		       const struct diff_first *first)
{
	static const char *const kind[] = { "outcome", "expectation", "state" };
	struct shrink_arg sa = { .r = r, .want = *first };
	struct fuzz_prog p;
	struct diff_side sim, host;
	char header[1024], file[96], *small = NULL;
	bool *keep;
	long tests = 0;
	FILE *diffs;
	double secs[2] = { r->secs[0], r->secs[1] };	/* shrinking is not counted */

	if (fuzz_prog_split(text, &p))
		return;
	diffs = tmpfile();
	keep = malloc((size_t)p.n + 1);
	if (keep) {
		memset(keep, 1, (size_t)p.n + 1);
		if (!fuzz_shrink(&p, keep, still_differs, &sa, &tests))
			small = fuzz_prog_text(&p, keep);
	}
	r->shrink_tests += tests;
	memcpy(r->secs, secs, sizeof(secs));
	/* the minimal program's differences, for the header */
	if (small && diffs) {
		int na = 0;

		run_both(r, small, NULL, &na, diffs, &sim, &host);
		diff_side_free(&sim);
		diff_side_free(&host);
	}
	snprintf(header, sizeof(header),
		 "# Found by pinmm fuzz --diff --seed %" PRIu64 " (program %" PRIu64 "),\n"
		 "# shrunk in %ld runs: pinmm and the host differ at the %s of '%s' (%s).\n",
		 r->seed, index, tests, kind[first->kind], first->cmd, first->field);
	if (diffs) {
		char line[600];

		rewind(diffs);
		while (fgets(line, sizeof(line), diffs) &&
		       strlen(header) + strlen(line) + 4 < sizeof(header)) {
			strcat(header, "# ");
			strcat(header, line);
		}
		fclose(diffs);
	}
	snprintf(file, sizeof(file), "fuzz-%" PRIu64 "-%" PRIu64 ".pinmm", r->seed, index);
	save(r, file, header, small ? small : text);
	free(small);
	free(keep);
	fuzz_prog_free(&p);
}

/*
 * Whether the difference @first comes back on two more runs during which
 * the host's khugepaged collapsed nothing: the host is not deterministic
 * everywhere (khugepaged collapses MADV_HUGEPAGE ranges on its own
 * schedule, and one of its passes may catch several runs in a row), and
 * only a difference that reproduces without it is a divergence worth
 * shrinking.  Up to six re-runs; re-runs are not counted in the timings.
 */
static bool reproduces(struct fuzz_run *r, const char *text, const struct diff_first *first)
{
	double secs[2] = { r->secs[0], r->secs[1] };
	long collapsed = r->collapsed;
	int quiet = 0;
	bool same = true;

	for (int k = 0; k < 6 && same && quiet < 2; k++) {
		struct diff_side sim, host;
		struct diff_first d;
		int rc = run_both(r, text, &d, NULL, NULL, &sim, &host);

		diff_side_free(&sim);
		diff_side_free(&host);
		if (r->collapsed)
			continue;	/* khugepaged was at work: no verdict */
		quiet++;
		same = rc == 1 && d.kind == first->kind && !strcmp(d.cmd, first->cmd) &&
		       !strcmp(d.field, first->field);
	}
	memcpy(r->secs, secs, sizeof(secs));
	r->collapsed = collapsed;
	return same && quiet == 2;
}

static void save_unstable(struct fuzz_run *r, uint64_t index, const char *text)
{
	char file[96];

	snprintf(file, sizeof(file), "unstable-%" PRIu64 "-%" PRIu64 ".pinmm", r->seed, index);
	save(r, file, "# A difference that did not reproduce on two more runs without a\n"
		"# khugepaged collapse on the host.\n", text);
}

static void one(struct fuzz_run *r, uint64_t index)
{
	struct diff_side sim, host;
	struct diff_first first;
	int nallowed = 0, rc;
	long collapsed;
	char *text = fuzz_gen(r->seed, index);

	if (!text) {
		fprintf(stderr, "pinmm: fuzz: out of memory\n");
		r->refused++;
		return;
	}
	snprintf(r->name, sizeof(r->name), "fuzz-%" PRIu64 "-%" PRIu64 ".pinmm", r->seed, index);
	rc = run_both(r, text, &first, &nallowed, r->verbose ? stdout : NULL, &sim, &host);
	collapsed = r->collapsed;
	if (rc == 2) {
		char file[96];

		r->refused++;
		printf("%s: generator refusal: a side could not run the program:\n", r->name);
		fflush(stdout);
		diff_print_err(sim.status == EXIT_USAGE ? &sim : &host, stdout);
		snprintf(file, sizeof(file), "refused-%" PRIu64 "-%" PRIu64 ".pinmm", r->seed, index);
		save(r, file, "# A program one side refused (a generator bug).\n", text);
	} else if (rc == 1 && !reproduces(r, text, &first)) {
		r->ran++;
		r->unstable++;
		printf("%s: a difference that did not reproduce (host khugepaged collapsed %ld "
		       "huge pages during that run); not counted as a divergence:\n",
		       r->name, collapsed);
		diff_compare(r->name, &sim, &host, r->allow, stdout, NULL, NULL);
		save_unstable(r, index, text);
	} else if (rc == 1) {
		r->ran++;
		r->found++;
		r->bad++;
		if (!r->verbose)
			diff_compare(r->name, &sim, &host, r->allow, stdout, NULL, NULL);
		diff_side_free(&sim);
		diff_side_free(&host);
		divergence(r, index, text, &first);
	} else if (rc == 0) {
		r->ran++;
		if (nallowed) {
			r->found++;
			r->allowed++;
		}
	} else {
		fprintf(stderr, "pinmm: fuzz: %s: %s\n", r->path, strerror(errno));
		r->refused++;
	}
	diff_side_free(&sim);
	diff_side_free(&host);
	free(text);
}

static void fuzz_usage(FILE *f)
{
	fputs("Usage: pinmm fuzz --diff --seed S --count N [--out DIR] [--allow FILE] [-v]\n"
	      "       pinmm fuzz --seed S --print I\n"
	      "\n"
	      "Generate N random scripts from seed S (programs 0..N-1), run each on\n"
	      "pinmm and on the host kernel and compare them as 'pinmm diff' does.\n"
	      "A difference is shrunk (delta debugging) to a minimal script written\n"
	      "to DIR (default ./fuzz-out/).  Differences the allow-list FILE excuses\n"
	      "('NAME.pinmm:LINE', 'CMD' or 'CMD:FIELD' REASON lines) do not count.\n"
	      "A program a side refuses is a generator bug: reported and counted.\n"
	      "--print I writes program I of seed S and runs nothing.\n"
	      "\n"
	      "Exit status: 0 no unallowed difference and no refusal, 1 otherwise,\n"
	      "2 a usage error.  Rules and figures: doc/DIFF.md.\n", f);
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || end == s || *end || *s == '-' ? -1 : 0;
}

/**
 * pinmm_cmd_fuzz() - `pinmm fuzz`.
 * Context: the tool's main thread.
 * Return: EXIT_OK, EXIT_FAIL or EXIT_USAGE.
 */
int pinmm_cmd_fuzz(int argc, char **argv)
{
	struct fuzz_run r = { .out_dir = "fuzz-out" };
	uint64_t count = 0, print = 0;
	bool diff = false, have_seed = false, have_count = false, have_print = false;
	struct progress pg;
	const char *tmp = getenv("TMPDIR");
	char tdir[200];
	double t0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;

		if (!strcmp(a, "--diff")) {
			diff = true;
		} else if (!strcmp(a, "--seed") && more && !parse_u64(argv[i + 1], &r.seed)) {
			have_seed = true;
			i++;
		} else if (!strcmp(a, "--count") && more && !parse_u64(argv[i + 1], &count)) {
			have_count = true;
			i++;
		} else if (!strcmp(a, "--print") && more && !parse_u64(argv[i + 1], &print)) {
			have_print = true;
			i++;
		} else if (!strcmp(a, "--out") && more) {
			r.out_dir = argv[++i];
		} else if (!strcmp(a, "--allow") && more) {
			int rc = diff_allow_load(argv[++i], &r.allow);

			if (rc) {
				fprintf(stderr, "pinmm: fuzz: %s: %s\n", argv[i], strerror(-rc));
				diff_allow_free(r.allow);
				return EXIT_USAGE;
			}
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			r.verbose = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fuzz_usage(stdout);
			diff_allow_free(r.allow);
			return EXIT_OK;
		} else {
			fprintf(stderr, "pinmm: fuzz: bad or incomplete option '%s'\n", a);
			fuzz_usage(stderr);
			diff_allow_free(r.allow);
			return EXIT_USAGE;
		}
	}
	if (have_print && have_seed) {
		char *text = fuzz_gen(r.seed, print);

		diff_allow_free(r.allow);
		if (!text)
			return EXIT_FAIL;
		fputs(text, stdout);
		free(text);
		return EXIT_OK;
	}
	if (!diff || !have_seed || !have_count || count == 0) {
		fprintf(stderr, "pinmm: fuzz: needs --diff, --seed S and --count N (N > 0)\n");
		fuzz_usage(stderr);
		diff_allow_free(r.allow);
		return EXIT_USAGE;
	}
	snprintf(tdir, sizeof(tdir), "%s/pinmm-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tdir)) {
		fprintf(stderr, "pinmm: fuzz: cannot make a scratch directory: %s\n", strerror(errno));
		diff_allow_free(r.allow);
		return EXIT_FAIL;
	}
	snprintf(r.path, sizeof(r.path), "%s/program.pinmm", tdir);
	progress_begin(&pg, "pinmm fuzz", (long)count);
	t0 = diff_now();
	for (uint64_t i = 0; i < count; i++) {
		progress_show(&pg, 250, "program %" PRIu64 "/%" PRIu64 "  divergences %ld  "
			      "refusals %ld", i, count, r.bad, r.refused);
		one(&r, i);
	}
	progress_clear(&pg);
	unlink(r.path);
	rmdir(tdir);
	printf("pinmm fuzz --diff --seed %" PRIu64 ": %" PRIu64 " programs, %ld run on both sides "
	       "in %.1f s\n", r.seed, count, r.ran, diff_now() - t0);
	printf("  pinmm: %.2f s, %.1f programs/s; host: %.2f s, %.1f programs/s\n",
	       r.secs[0], r.secs[0] > 0 ? (double)count / r.secs[0] : 0.0,
	       r.secs[1], r.secs[1] > 0 ? (double)count / r.secs[1] : 0.0);
	printf("  divergences: %ld found, %ld allowed, %ld not allowed (shrinking: %ld runs); "
	       "generator refusals: %ld; unreproducible differences: %ld\n", r.found, r.allowed,
	       r.bad, r.shrink_tests, r.refused, r.unstable);
	diff_allow_free(r.allow);
	return r.bad || r.refused ? EXIT_FAIL : EXIT_OK;
}
