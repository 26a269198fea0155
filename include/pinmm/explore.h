/* SPDX-License-Identifier: MIT */
/*
 * <pinmm/explore.h> - the deterministic interleaving explorer
 * (doc/EXPLORE.md).
 *
 * A race program is a setup (boot a machine, build the state the race
 * needs), 2 to PINMM_EXPLORE_MAX_THREADS thread bodies and an oracle.  The
 * explorer runs the bodies under a controlled scheduler that lets exactly
 * one of them run between two scheduling points (lock acquire/release,
 * refcount RMW, PTE read/write, RCU read-side begin/end, waits), chooses
 * at every point who runs next by a strategy, and records the choices as a
 * schedule string that replays the same interleaving.  Every run is a
 * forked child: a BUG, a deadlock, a livelock (step budget) or a hang
 * (wall-clock deadline) ends that run with a verdict, never the caller.
 */
#ifndef PINMM_EXPLORE_PUBLIC_H
#define PINMM_EXPLORE_PUBLIC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <pinmm/pinmm.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PINMM_EXPLORE_MAX_THREADS	8
#define PINMM_EXPLORE_SCHED_MAX		4096	/* schedule string bytes */
#define PINMM_EXPLORE_MSG_MAX		256

/*
 * struct pinmm_explore_prog - a race program.
 * @name: its name (pinmm explore --race NAME).
 * @nr_threads: participating threads, 2..PINMM_EXPLORE_MAX_THREADS.
 * @setup: boot and prepare, unscheduled; @legacy selects the historical
 *	behaviour the program exists for.  Return 0 and *@state, or -errno.
 * @thread: the body of participating thread @idx.
 * @check: the oracle, after every thread has returned: 0 when the data
 *	are right, else non-zero with a message in @msg.
 * @machine: the machine to audit after the oracle, asked after it (may
 *	return NULL: no machine, or the oracle shut it down).
 * @setup_error: optional: after @setup failed, write why into @msg (a
 *	script's FILE:LINE and message); NULL: the errno's name is the message.
 * @invariant: optional, with pinmm_explore_opts.check_every_step: a check
 *	of the program's own (read-only!) that must hold between steps; run
 *	from the controlling thread while every participant is stopped at a
 *	point and none holds a lock or is inside an RCU read-side section.
 *	0 when it holds, else non-zero with a message in @msg.
 */
struct pinmm_explore_prog {
	const char *name;
	int nr_threads;
	int (*setup)(bool legacy, void **state);
	void (*thread)(void *state, int idx);
	int (*check)(void *state, char *msg, size_t len);
	struct pinmm *(*machine)(void *state);
	void (*setup_error)(char *msg, size_t len);
	int (*invariant)(void *state, char *msg, size_t len);
};

enum pinmm_explore_strategy {
	PINMM_EXPLORE_RANDOM,	/* uniform among the runnable, seeded */
	PINMM_EXPLORE_PCT,	/* Burckhardt et al. 2010, depth d */
	PINMM_EXPLORE_DFS,	/* exhaustive: every schedule, preemption-bounded */
};

enum pinmm_explore_verdict {
	PINMM_EXPLORE_PASS,	/* every run clean */
	PINMM_EXPLORE_ORACLE,	/* the program's oracle failed */
	PINMM_EXPLORE_BUG,	/* a BUG() fired */
	PINMM_EXPLORE_WARN,	/* a WARN() fired */
	PINMM_EXPLORE_AUDIT,	/* the machine's auditor found errors */
	PINMM_EXPLORE_DEADLOCK,	/* every live thread blocked */
	PINMM_EXPLORE_LIVELOCK,	/* step budget used up */
	PINMM_EXPLORE_HANG,	/* the run's wall-clock deadline passed */
	PINMM_EXPLORE_CRASH,	/* the run child died otherwise */
	PINMM_EXPLORE_DIVERGED,	/* replay: a recorded choice was not runnable */
	PINMM_EXPLORE_SETUP,	/* setup failed */
};

/*
 * struct pinmm_explore_opts - how to explore.
 * @legacy: pass to the program's setup.
 * @strategy, @seed: the strategy; run i uses a seed derived from @seed and i.
 * @depth: PCT's d (>= 1).
 * @preemptions: DFS's preemption bound.
 * @runs: at most this many runs; @seconds: or at most this long (0 = no limit).
 * @step_budget: scheduling points per run before a livelock verdict.
 * @run_timeout_ms: wall-clock deadline of one run.
 * @trace: when set, replay writes one line per step here; pinmm_explore()
 *	writes every run's steps, each run headed by a line `run N`.
 * @check_every_step: after every step at which no participant holds a lock
 *	or is inside an RCU read-side section, run the program's invariant and
 *	the auditor (verdicts ORACLE and AUDIT, naming the step); needs the
 *	lock validator (CONFIG_LOCKDEP): without it, pinmm_explore() and
 *	pinmm_explore_replay() return -EOPNOTSUPP.
 * @progress: when set, pinmm_explore() calls it after every run with the
 *	runs made and the seconds spent (`pinmm explore`'s progress line);
 *	@progress_arg is passed through.
 * @log: when set, pinmm_explore() writes one line per run here: `run N
 *	VERDICT steps S hash H SCHEDULE` (the whole schedule, never cut short),
 *	so that two searches can be compared run for run.
 * @kthread_ticks: how often each background thread's periodic timer (the
 *	writeback flusher's, ksmd's, khugepaged's sleep) may fire at a
 *	strategy's choice while the program's threads run (default 1); once
 *	used up, it fires only when no thread can run (doc/EXPLORE.md 1).
 */
struct pinmm_explore_opts {
	bool legacy;
	enum pinmm_explore_strategy strategy;
	uint64_t seed;
	int depth;
	int preemptions;
	long runs;
	double seconds;
	long step_budget;
	long run_timeout_ms;
	FILE *trace;
	bool check_every_step;
	void (*progress)(void *arg, long runs, double seconds);
	void *progress_arg;
	FILE *log;
	long kthread_ticks;
};

/*
 * struct pinmm_explore_result - what exploring found.
 * @verdict: PASS, or the first violation.
 * @runs: runs made; @steps: steps of the reported run.
 * @preemptions: preemptive switches in the reported schedule.
 * @trace_hash: FNV-1a of the reported run's step trace (thread, kind,
 *	object ordinal per step): equal hashes, equal interleavings.
 * @seconds: wall time spent.
 * @checks: step checks run (--check-every-step), over all runs made.
 * @schedule: the reported run's schedule (replayable).
 * @message: what the violation was.
 */
struct pinmm_explore_result {
	enum pinmm_explore_verdict verdict;
	long runs;
	long steps;
	long preemptions;
	uint64_t trace_hash;
	double seconds;
	char schedule[PINMM_EXPLORE_SCHED_MAX];
	char message[PINMM_EXPLORE_MSG_MAX];
	long checks;
};

/**
 * pinmm_explore_defaults() - fill @o: random, seed 1, depth 3, 2
 * preemptions, 1000 runs, no time limit, 20000 steps, 10 s per run, one
 * timer tick per background thread.
 * @o: the options.
 *
 * Context: any.
 */
PINMM_API void pinmm_explore_defaults(struct pinmm_explore_opts *o);

/**
 * pinmm_explore() - run @prog under @o->strategy until a run violates or
 * the budget (runs, seconds, or DFS's whole tree) is used up.
 * @prog: the race program.
 * @o: the options.
 * @r: the result; on a violation, its schedule and message.
 *
 * Context: forks one child per run; the caller must not have booted a
 * machine that other threads are using (fork copies only the caller).
 * Return: 0 (see @r->verdict), -EINVAL for bad options, -errno when a run
 * could not be started.
 */
PINMM_API int pinmm_explore(const struct pinmm_explore_prog *prog,
			    const struct pinmm_explore_opts *o,
			    struct pinmm_explore_result *r);

/**
 * pinmm_explore_replay() - run @prog once along @schedule.
 * @prog: the race program.
 * @o: the options (@legacy, @step_budget, @trace).
 * @schedule: a schedule string from a result.
 * @r: the result of that one run.
 *
 * Context: as pinmm_explore().
 * Return: 0, -EINVAL when @schedule does not parse.
 */
PINMM_API int pinmm_explore_replay(const struct pinmm_explore_prog *prog,
				   const struct pinmm_explore_opts *o,
				   const char *schedule,
				   struct pinmm_explore_result *r);

/**
 * pinmm_explore_shrink() - minimise the violating schedule in @r: drop
 * preemptive switches one at a time while the run still violates, then
 * replace @r with the smallest violating run found.
 * @prog: the race program.
 * @o: the options.
 * @r: a violating result; updated in place.
 *
 * Context: as pinmm_explore().
 * Return: 0, -EINVAL when @r is not a violation or its schedule does not
 * parse.
 */
PINMM_API int pinmm_explore_shrink(const struct pinmm_explore_prog *prog,
				   const struct pinmm_explore_opts *o,
				   struct pinmm_explore_result *r);

/**
 * pinmm_explore_point() - a scheduling point of the race program's own
 * (between two steps of its oracle's data, say).
 *
 * Context: any; does nothing outside a run's participating threads.
 */
PINMM_API void pinmm_explore_point(void);

/**
 * pinmm_explore_verdict_name() - "pass", "oracle", "bug", ...
 * @v: a verdict.
 *
 * Context: any.
 * Return: a static string ("?" for an unknown value).
 */
PINMM_API const char *pinmm_explore_verdict_name(enum pinmm_explore_verdict v);

#ifdef __cplusplus
}
#endif

#endif /* PINMM_EXPLORE_PUBLIC_H */
