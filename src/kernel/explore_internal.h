/* SPDX-License-Identifier: MIT */
/*
 * explore_internal.h - the controlled scheduler's state, shared by the
 * files of src/kernel that implement it: explore.c (the token, points,
 * strategies, a run's threads), explore_kthread.c (the machine's own
 * threads as participants).  Not for use outside them.
 *
 * Every field of struct ethread and of sched is under sched.lock; the token
 * protocol is doc/MEMORY-ORDERING.md "(q) Explorer token".
 */
#ifndef PINMM_EXPLORE_INTERNAL_H
#define PINMM_EXPLORE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "explore_run.h"

#define OBJ_SLOTS	4096	/* object ordinals: open addressing */

struct ethread {
	pthread_t th;
	pthread_cond_t cv;
	int idx;
	bool done;
	enum explore_kind kind;		/* the point it stopped at */
	const void *obj;
	bool woken;			/* EP_WAIT*: a wake-up came */
	bool timed_out;			/* EP_WAIT_TIMED: picked as expired */
	int rcu_nest;			/* read-side nesting */
	uint64_t rcu_since;		/* rcu clock at the outermost lock */
	uint64_t sync_gen;		/* EP_SYNC_RCU: readers up to here */
	int held;			/* locks held at its point (lockdep's count) */
	bool joined;			/* returned, and its thread is gone */
	/* A background thread (kthread.c; "Background threads" below): */
	bool bg;
	bool released;			/* runs unscheduled from now on */
	long ticks;			/* its timer may still fire this often */
};

#define CUR_CONTROLLER	(-2)	/* sched.cur: the controller runs a step check */
#define CUR_REAP	(-3)	/* sched.cur: the controller joins sched.reap */

struct explore_sched {
	pthread_mutex_t lock;
	pthread_cond_t ctl_cv;		/* the controller: all threads done */
	struct explore_shm *shm;
	int nr, nr_done;
	int cur;			/* token holder, -1 none */
	struct ethread t[PINMM_EXPLORE_MAX_THREADS];
	void (*fn)(void *arg, int idx);
	void *arg;
	uint64_t rng;
	int prio[PINMM_EXPLORE_MAX_THREADS];	/* PCT */
	long change[EXPLORE_MAX_DEPTH];		/* PCT change points */
	uint64_t rcu_clock;
	uint64_t clock_ns;			/* the run's clock (explore.h) */
	int (*check)(void *arg, int *verdict, char *msg, size_t len);
	void *check_arg;
	int after_check;			/* who gets the token after it */
	int reap;				/* CUR_REAP: the thread that returned */
	const void *objs[OBJ_SLOTS];
	uint32_t ords[OBJ_SLOTS];
	uint32_t nr_objs;
	int nr_prog;			/* t[0..nr_prog): the program's threads */
	bool over;			/* the threads' phase of the run has ended */
};

/* The one scheduler of a run child (explore.c). */
extern struct explore_sched sched;
/* The participant the calling thread is, or NULL. */
extern __thread struct ethread *self;

static inline uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* One step: pick who runs next and hand it the token (explore.c). */
void schedule_next(struct ethread *me);

/* explore_kthread.c: the setup's background threads at explore_threads_run(). */
int kthreads_pending(void);
void kthreads_adopt(int nr);
void kthreads_after(void);

#endif /* PINMM_EXPLORE_INTERNAL_H */
