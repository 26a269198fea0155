/* SPDX-License-Identifier: MIT */
/*
 * explore_run.h - between the explorer's driver (init/explore_run.c, the
 * parent that forks one child per run) and its scheduler (kernel/explore.c,
 * inside the child): the page both processes share.
 *
 * The parent fills the "in" half before fork(); the child fills the "out"
 * half as it runs, step by step, so that a child killed by a BUG (abort) or
 * by the parent's deadline still leaves its schedule and verdict behind.
 */
#ifndef PINMM_EXPLORE_RUN_H
#define PINMM_EXPLORE_RUN_H

#include <stdint.h>
#include <pinmm/explore.h>

#include "explore.h"

#define EXPLORE_MAX_STEPS	65536
#define EXPLORE_DEFAULT		0xff	/* guide: the non-preemptive choice */
#define EXPLORE_NONE		0xff	/* prev: the controller (first step) */
#define EXPLORE_MAX_DEPTH	16

/* How the child picks the next thread. */
enum explore_pick {
	EXPLORE_PICK_RANDOM,
	EXPLORE_PICK_PCT,
	EXPLORE_PICK_GUIDED,	/* guide[] then the non-preemptive default */
};

struct explore_shm {
	/* in: written by the parent before fork() */
	enum explore_pick pick;
	uint64_t seed;
	int depth;			/* PCT */
	long pct_steps;			/* PCT: k, the expected run length */
	long step_budget;
	bool exact;			/* GUIDED: an unrunnable guide diverges */
	long nr_guide;
	int trace_fd;			/* -1: no text trace */
	bool check_every_step;		/* run the step check between quiet steps */
	long kthread_ticks;		/* a background thread's timer fires so often */
	uint8_t guide[EXPLORE_MAX_STEPS];
	/* out: written by the child as it runs */
	int verdict;			/* enum pinmm_explore_verdict */
	long steps;
	uint64_t hash;
	long checks;			/* step checks run */
	char msg[PINMM_EXPLORE_MSG_MAX];
	uint8_t choice[EXPLORE_MAX_STEPS];
	uint8_t enabled[EXPLORE_MAX_STEPS];	/* bit mask of runnable threads */
	uint8_t prev[EXPLORE_MAX_STEPS];	/* who reached the point */
};

/*
 * explore_threads_run() - run @nr participating threads, thread i calling
 * @fn(@arg, i), under the controlled scheduler described by @shm, until
 * all of them return and every background thread (kthread.h: the setup's,
 * adopted as threads @nr, @nr + 1, ..., and those started during the run)
 * sleeps.  A deadlock, a livelock or a divergence does not return: the
 * verdict goes to @shm and the process exits (_exit(0)).
 * Context: a run child, single-threaded on entry.
 */
void explore_threads_run(struct explore_shm *shm, int nr,
			 void (*fn)(void *arg, int idx), void *arg);

/*
 * explore_set_step_check() - with shm->check_every_step, explore_threads_run()
 * calls @check(@arg, verdict, msg, len) from the controlling thread after
 * each step at which every live participant is stopped at a point holding
 * no lock (lockdep's count) and outside any RCU read-side section.  A
 * non-zero return ends the run with *verdict and the message, prefixed by
 * the step.  Context: a run child, before explore_threads_run().
 */
void explore_set_step_check(int (*check)(void *arg, int *verdict, char *msg, size_t len),
			    void *arg);

/* The non-preemptive choice: @prev if runnable, else the lowest runnable. */
static inline int explore_default_choice(unsigned mask, int prev)
{
	if (prev != EXPLORE_NONE && (mask >> prev) & 1)
		return prev;
	return mask ? __builtin_ctz(mask) : -1;
}

/* Step @s of @shm switched away from a thread that could have gone on. */
static inline bool explore_is_preemption(const struct explore_shm *shm, long s)
{
	int p = shm->prev[s];

	return p != EXPLORE_NONE && ((shm->enabled[s] >> p) & 1) && shm->choice[s] != p;
}

#endif /* PINMM_EXPLORE_RUN_H */
