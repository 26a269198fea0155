/* SPDX-License-Identifier: MIT */
/*
 * explore_run.c - the explorer's driver (<pinmm/explore.h>, doc/EXPLORE.md):
 * one forked child per run, the search over runs (random and PCT seeds,
 * preemption-bounded DFS), replay and shrink, and the schedule string.
 *
 * Owns: the shared page (explore_run.h) between parent and run child, the
 * child's life (setup, the scheduled threads, oracle, auditor, WARN count)
 * and its verdict.  Does not own the scheduler (kernel/explore.c) nor any
 * race program (the tool's explore_races.c).
 *
 * Why fork: a BUG() aborts the process; in a child it ends one run and
 * leaves the run's schedule in the shared page.  A deadlocked or livelocked
 * run exits from inside the scheduler; a run stuck where no point is (a
 * busy loop) is killed at its deadline.  The parent never boots a machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "explore_run.h"
#include "bug.h"
#include "lockdep.h"
#include "kthread.h"

struct child_ctx {
	const struct pinmm_explore_prog *prog;
	void *state;
	long warns;		/* WARNs before the threads started */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void child_body(void *arg, int idx)
{
	struct child_ctx *c = arg;

	c->prog->thread(c->state, idx);
}

/*
 * The check between two steps (--check-every-step): the program's
 * invariant, the auditor, new WARNs.  The controller runs it while every
 * participant is stopped at a point holding no lock (kernel/explore.c).
 */
static int step_check(void *arg, int *verdict, char *msg, size_t len)
{
	struct child_ctx *c = arg;
	struct pinmm *m = c->prog->machine ? c->prog->machine(c->state) : NULL;

	if (c->prog->invariant && c->prog->invariant(c->state, msg, len)) {
		*verdict = PINMM_EXPLORE_ORACLE;
		return 1;
	}
	if (m && pinmm_audit(m)) {
		*verdict = PINMM_EXPLORE_AUDIT;
		snprintf(msg, len, "the auditor found %ld problems", pinmm_audit_errors(m));
		return 1;
	}
	if (pinmm_warn_count() != c->warns) {
		*verdict = PINMM_EXPLORE_WARN;
		snprintf(msg, len, "%ld WARNs", pinmm_warn_count() - c->warns);
		return 1;
	}
	return 0;
}

/* The run child: setup, the scheduled threads, then the checks. */
static __attribute__((noreturn)) void child_main(const struct pinmm_explore_prog *prog,
						 bool legacy, struct explore_shm *shm)
{
	struct child_ctx c = { .prog = prog };
	char msg[PINMM_EXPLORE_MSG_MAX] = "";
	struct pinmm *m;
	long warns;
	int err;

	explore_rcu_defer_begin();
	explore_kthreads_begin();	/* the machine's threads become participants */
	err = prog->setup(legacy, &c.state);
	if (err) {
		shm->verdict = PINMM_EXPLORE_SETUP;
		snprintf(shm->msg, sizeof(shm->msg), "setup: %s", strerror(-err));
		if (prog->setup_error)
			prog->setup_error(shm->msg, sizeof(shm->msg));
		_exit(0);
	}
	warns = pinmm_warn_count();
	c.warns = warns;
	explore_set_step_check(step_check, &c);
	explore_threads_run(shm, prog->nr_threads, child_body, &c);
	if (prog->check(c.state, msg, sizeof(msg))) {
		shm->verdict = PINMM_EXPLORE_ORACLE;
		snprintf(shm->msg, sizeof(shm->msg), "%s", msg);
	} else if ((m = prog->machine ? prog->machine(c.state) : NULL) && pinmm_audit(m)) {
		/* Asked after the oracle, which may have shut the machine down. */
		shm->verdict = PINMM_EXPLORE_AUDIT;
		snprintf(shm->msg, sizeof(shm->msg), "the auditor found %ld problems",
			 pinmm_audit_errors(m));
	} else if (pinmm_warn_count() != warns) {
		shm->verdict = PINMM_EXPLORE_WARN;
		snprintf(shm->msg, sizeof(shm->msg), "%ld WARNs", pinmm_warn_count() - warns);
	}
	_exit(0);
}

/*
 * One run in a child along what the "in" half of @shm says; the verdict
 * and the record are in @shm afterwards.  Return 0 or -errno (fork failed).
 */
static int run_one(const struct pinmm_explore_prog *prog, const struct pinmm_explore_opts *o,
		   struct explore_shm *shm)
{
	struct pollfd pfd;
	int pipefd[2], status, rc;
	pid_t pid;

	shm->verdict = -1;
	shm->steps = 0;
	shm->checks = 0;
	shm->msg[0] = '\0';
	if (pipe(pipefd))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return rc;
	}
	if (pid == 0) {
		close(pipefd[0]);
		if (shm->trace_fd < 0) {
			/* Splats of a violating run are its verdict, not output. */
			int devnull = open("/dev/null", O_WRONLY);

			if (devnull >= 0) {
				dup2(devnull, STDERR_FILENO);
				close(devnull);
			}
		}
		child_main(prog, o->legacy, shm);
	}
	close(pipefd[1]);
	pfd.fd = pipefd[0];
	pfd.events = POLLIN;
	rc = poll(&pfd, 1, o->run_timeout_ms > 0 ? (int)o->run_timeout_ms : -1);
	if (rc == 0) {
		kill(pid, SIGKILL);
		shm->verdict = PINMM_EXPLORE_HANG;
		snprintf(shm->msg, sizeof(shm->msg), "no progress within %ld ms",
			 o->run_timeout_ms);
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (shm->verdict == PINMM_EXPLORE_HANG)
		return 0;
	if (WIFSIGNALED(status) && shm->verdict != PINMM_EXPLORE_BUG) {
		shm->verdict = PINMM_EXPLORE_CRASH;
		snprintf(shm->msg, sizeof(shm->msg), "run child killed by signal %d",
			 WTERMSIG(status));
	} else if (WIFEXITED(status) && (WEXITSTATUS(status) != 0 || shm->verdict < 0)) {
		shm->verdict = PINMM_EXPLORE_CRASH;
		snprintf(shm->msg, sizeof(shm->msg), "run child exited with status %d",
			 WEXITSTATUS(status));
	}
	return 0;
}

/* The schedule string: runs of one thread, 'a' + index, then the length if > 1. */
static void encode(const struct explore_shm *shm, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (long s = 0; s < shm->steps;) {
		long e = s;
		int w;

		while (e < shm->steps && shm->choice[e] == shm->choice[s])
			e++;
		w = e - s > 1 ? snprintf(out + n, len - n, "%c%ld", 'a' + shm->choice[s], e - s)
			      : snprintf(out + n, len - n, "%c", 'a' + shm->choice[s]);
		if (w < 0 || (size_t)w >= len - n) {
			/* Too long to print whole: keep what fits, marked. */
			if (len > 2)
				snprintf(out + len - 2, 2, "~");
			return;
		}
		n += (size_t)w;
		s = e;
	}
}

/*
 * Parse @sched into @shm->guide; -EINVAL on a bad character or length.
 * Letters past the program's threads are background threads (kthread.h),
 * which only the run knows: a letter no thread has diverges there.
 */
static int decode(const char *sched, int nr_threads, struct explore_shm *shm)
{
	long n = 0;

	(void)nr_threads;
	nr_threads = PINMM_EXPLORE_MAX_THREADS;

	while (*sched) {
		int t = *sched++ - 'a';
		long cnt = 1;

		if (t < 0 || t >= nr_threads)
			return -EINVAL;
		if (*sched >= '0' && *sched <= '9') {
			char *end;

			cnt = strtol(sched, &end, 10);
			sched = end;
		}
		if (cnt < 1 || cnt > EXPLORE_MAX_STEPS - n)
			return -EINVAL;
		memset(shm->guide + n, t, (size_t)cnt);
		n += cnt;
	}
	shm->nr_guide = n;
	return 0;
}

/* @o->log's line for run @run in @shm: the record two searches compare. */
static void log_run(FILE *f, long run, const struct explore_shm *shm)
{
	fprintf(f, "run %ld %s steps %ld hash %016llx ", run,
		pinmm_explore_verdict_name((enum pinmm_explore_verdict)shm->verdict), shm->steps,
		(unsigned long long)shm->hash);
	for (long s = 0; s < shm->steps;) {
		long e = s;

		while (e < shm->steps && shm->choice[e] == shm->choice[s])
			e++;
		fputc('a' + shm->choice[s], f);
		if (e - s > 1)
			fprintf(f, "%ld", e - s);
		s = e;
	}
	fputc('\n', f);
	fflush(f);
}

static long count_preemptions(const struct explore_shm *shm)
{
	long p = 0;

	for (long s = 0; s < shm->steps; s++)
		p += explore_is_preemption(shm, s);
	return p;
}

/* Copy the run in @shm into @r. */
static void report(const struct explore_shm *shm, struct pinmm_explore_result *r)
{
	r->verdict = shm->verdict;
	r->steps = shm->steps;
	r->trace_hash = shm->hash;
	r->preemptions = count_preemptions(shm);
	snprintf(r->message, sizeof(r->message), "%s", shm->msg);
	encode(shm, r->schedule, sizeof(r->schedule));
}

static bool violates(const struct explore_shm *shm)
{
	return shm->verdict != PINMM_EXPLORE_PASS && shm->verdict != PINMM_EXPLORE_DIVERGED;
}

static struct explore_shm *shm_new(const struct pinmm_explore_opts *o)
{
	struct explore_shm *shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (shm == MAP_FAILED)
		return NULL;
	shm->step_budget = o->step_budget;
	shm->depth = o->depth;
	shm->check_every_step = o->check_every_step;
	shm->kthread_ticks = o->kthread_ticks;
	shm->trace_fd = -1;
	return shm;
}

static void shm_free(struct explore_shm *shm)
{
	munmap(shm, sizeof(*shm));
}

static int check_args(const struct pinmm_explore_prog *prog, const struct pinmm_explore_opts *o,
		      struct pinmm_explore_result *r)
{
	if (!prog || !o || !r || !prog->setup || !prog->thread || !prog->check ||
	    prog->nr_threads < 1 || prog->nr_threads > PINMM_EXPLORE_MAX_THREADS)
		return -EINVAL;
	if (o->depth < 1 || o->depth > EXPLORE_MAX_DEPTH || o->preemptions < 0 ||
	    o->step_budget < 1 || o->step_budget > EXPLORE_MAX_STEPS || o->runs < 1 ||
	    o->kthread_ticks < 0)
		return -EINVAL;
	/* Which steps are quiet is lockdep's held-lock count. */
	if (o->check_every_step && !lockdep_enabled())
		return -EOPNOTSUPP;
	memset(r, 0, sizeof(*r));
	return 0;
}

void pinmm_explore_defaults(struct pinmm_explore_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->strategy = PINMM_EXPLORE_RANDOM;
	o->seed = 1;
	o->depth = 3;
	o->preemptions = 2;
	o->runs = 1000;
	o->step_budget = 20000;
	o->run_timeout_ms = 10000;
	o->kthread_ticks = 1;
}

/*
 * DFS's next schedule after the run in @shm: the deepest step with an
 * untried alternative within the preemption bound (alternatives in the
 * order default first, then by index).  Return false when none is left.
 */
static bool dfs_next(struct explore_shm *shm, int bound)
{
	static long pre[EXPLORE_MAX_STEPS + 1];

	pre[0] = 0;
	for (long s = 0; s < shm->steps; s++)
		pre[s + 1] = pre[s] + explore_is_preemption(shm, s);
	for (long s = shm->steps - 1; s >= 0; s--) {
		unsigned mask = shm->enabled[s];
		int prev = shm->prev[s];
		int def = explore_default_choice(mask, prev);
		int order[PINMM_EXPLORE_MAX_THREADS], n = 0, pos = -1;

		order[n++] = def;
		for (int t = 0; t < PINMM_EXPLORE_MAX_THREADS; t++)
			if (((mask >> t) & 1) && t != def)
				order[n++] = t;
		for (int k = 0; k < n; k++)
			if (order[k] == shm->choice[s])
				pos = k;
		for (int k = pos + 1; k < n; k++) {
			int t = order[k];
			bool preempt = prev != EXPLORE_NONE && ((mask >> prev) & 1) && t != prev;

			if (pre[s] + preempt > bound)
				continue;
			memcpy(shm->guide, shm->choice, (size_t)s);
			shm->guide[s] = (uint8_t)t;
			shm->nr_guide = s + 1;
			return true;
		}
	}
	return false;
}

int pinmm_explore(const struct pinmm_explore_prog *prog, const struct pinmm_explore_opts *o,
		  struct pinmm_explore_result *r)
{
	double t0 = now_s();
	struct explore_shm *shm;
	long k = 0;
	int err = check_args(prog, o, r);

	if (err)
		return err;
	shm = shm_new(o);
	if (!shm)
		return -ENOMEM;
	r->verdict = PINMM_EXPLORE_PASS;
	shm->pick = EXPLORE_PICK_GUIDED;	/* run 0: non-preemptive (PCT's k, DFS's root) */
	shm->nr_guide = 0;
	shm->exact = false;
	if (o->trace) {
		fflush(o->trace);
		shm->trace_fd = fileno(o->trace);
	}
	for (long run = 0; run < o->runs; run++) {
		if (run > 0 && o->seconds > 0 && now_s() - t0 >= o->seconds)
			break;
		if (run > 0 && o->strategy != PINMM_EXPLORE_DFS) {
			shm->pick = o->strategy == PINMM_EXPLORE_PCT ? EXPLORE_PICK_PCT
								     : EXPLORE_PICK_RANDOM;
			shm->seed = mix64(o->seed * 0x100000001b3ull + (uint64_t)run);
			shm->pct_steps = k;
		}
		if (shm->trace_fd >= 0)
			dprintf(shm->trace_fd, "run %ld\n", run);
		err = run_one(prog, o, shm);
		if (err)
			break;
		if (o->log)
			log_run(o->log, run, shm);
		r->runs = run + 1;
		r->checks += shm->checks;
		if (o->progress)
			o->progress(o->progress_arg, r->runs, now_s() - t0);
		if (shm->steps > k)
			k = shm->steps;
		if (violates(shm)) {
			report(shm, r);
			break;
		}
		if (o->strategy == PINMM_EXPLORE_DFS) {
			shm->exact = true;
			if (!dfs_next(shm, o->preemptions))
				break;
		}
	}
	r->seconds = now_s() - t0;
	shm_free(shm);
	return err;
}

int pinmm_explore_replay(const struct pinmm_explore_prog *prog,
			 const struct pinmm_explore_opts *o, const char *schedule,
			 struct pinmm_explore_result *r)
{
	double t0 = now_s();
	struct explore_shm *shm;
	int err = check_args(prog, o, r);

	if (err)
		return err;
	if (!schedule)
		return -EINVAL;
	shm = shm_new(o);
	if (!shm)
		return -ENOMEM;
	err = decode(schedule, prog->nr_threads, shm);
	if (!err) {
		shm->pick = EXPLORE_PICK_GUIDED;
		shm->exact = true;
		if (o->trace) {
			fflush(o->trace);
			shm->trace_fd = fileno(o->trace);
		}
		err = run_one(prog, o, shm);
		if (!err) {
			r->runs = 1;
			report(shm, r);
			r->checks = shm->checks;
		}
	}
	r->seconds = now_s() - t0;
	shm_free(shm);
	return err;
}

int pinmm_explore_shrink(const struct pinmm_explore_prog *prog,
			 const struct pinmm_explore_opts *o, struct pinmm_explore_result *r)
{
	static uint8_t events[EXPLORE_MAX_STEPS];
	struct pinmm_explore_result best;
	struct explore_shm *shm;
	double t0 = now_s();
	long n, runs = 0;
	int err;

	if (!prog || !o || !r || r->verdict == PINMM_EXPLORE_PASS)
		return -EINVAL;
	best = *r;
	shm = shm_new(o);
	if (!shm)
		return -ENOMEM;
	err = decode(best.schedule, prog->nr_threads, shm);
	if (err)
		goto out;
	shm->pick = EXPLORE_PICK_GUIDED;
	shm->exact = true;
	err = run_one(prog, o, shm);
	runs++;
	if (err || !violates(shm)) {
		err = err ? err : -EINVAL;
		goto out;
	}
	/* The run as events: the steps that differ from the default choice. */
	n = shm->steps;
	for (long s = 0; s < n; s++)
		events[s] = shm->choice[s] == explore_default_choice(shm->enabled[s], shm->prev[s])
			    ? EXPLORE_DEFAULT : shm->choice[s];
	report(shm, &best);
	/* Greedy one-at-a-time removal, last event first. */
	for (long s = n - 1; s >= 0; s--) {
		uint8_t keep = events[s];

		if (keep == EXPLORE_DEFAULT)
			continue;
		events[s] = EXPLORE_DEFAULT;
		memcpy(shm->guide, events, (size_t)n);
		shm->nr_guide = n;
		shm->exact = false;
		err = run_one(prog, o, shm);
		runs++;
		if (err)
			goto out;
		if (violates(shm) && shm->verdict == (int)best.verdict)
			report(shm, &best);
		else
			events[s] = keep;
	}
	best.runs = r->runs + runs;
	*r = best;
out:
	r->seconds += now_s() - t0;
	shm_free(shm);
	return err;
}

void pinmm_explore_point(void)
{
	explore_point(EP_USER, NULL);
}

const char *pinmm_explore_verdict_name(enum pinmm_explore_verdict v)
{
	static const char *const names[] = {
		[PINMM_EXPLORE_PASS] = "pass", [PINMM_EXPLORE_ORACLE] = "oracle",
		[PINMM_EXPLORE_BUG] = "bug", [PINMM_EXPLORE_WARN] = "warn",
		[PINMM_EXPLORE_AUDIT] = "audit", [PINMM_EXPLORE_DEADLOCK] = "deadlock",
		[PINMM_EXPLORE_LIVELOCK] = "livelock", [PINMM_EXPLORE_HANG] = "hang",
		[PINMM_EXPLORE_CRASH] = "crash", [PINMM_EXPLORE_DIVERGED] = "diverged",
		[PINMM_EXPLORE_SETUP] = "setup",
	};

	if ((unsigned)v >= sizeof(names) / sizeof(names[0]) || !names[v])
		return "?";
	return names[v];
}
