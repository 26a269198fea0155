/* SPDX-License-Identifier: MIT */
/*
 * explore.c - the controlled scheduler of the interleaving explorer
 * (doc/EXPLORE.md; its protocol in doc/MEMORY-ORDERING.md "Explorer token"
 * and doc/LOCKING.md).
 *
 * Owns: the participating threads of one run, the token that lets exactly
 * one of them run between two scheduling points, the runnable test of a
 * point (a lock acquire is runnable while the lock is free, a wait once
 * woken, synchronize_rcu() once no older reader is inside its section), the
 * pick strategies that run inside the child (random, PCT, guided), the
 * step record and trace hash in the shared page (explore_run.h), the run's
 * clock, the join of a returning participant's thread before the next
 * step (so that its exit lands at a step the schedule decides), and the
 * machine's background threads as participants (kthread.h: adopted at the
 * run, timers the strategy fires, joins that cannot deadlock).
 * Does not own: forking, oracles, the auditor, the parent's search (DFS,
 * shrink): init/explore_run.c.  It only decides when the controller may run
 * the run's step check (no participant holds a lock or is inside an RCU
 * read-side section) and hands it the token for that.
 *
 * Every participant's state below is protected by sched.lock.  A
 * participant holds the token from the moment the scheduler picks it
 * (sched.cur == its index) until its next point; the real pthread lock
 * operations in locking.h therefore never block in a run: the point before
 * an acquire is not picked while the lock's owner field says it is held,
 * and that field is only written by the token holder.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "explore_internal.h"
#include "rcu.h"
#include "lockdep.h"
#include "locking.h"
#include "kthread.h"

_Atomic int explore_enabled;

struct explore_sched sched = { .lock = PTHREAD_MUTEX_INITIALIZER, .ctl_cv = PTHREAD_COND_INITIALIZER };

__thread struct ethread *self;

static const char *const kind_names[EP_NR_KINDS] = {
	[EP_START] = "start", [EP_SPIN_LOCK] = "spin_lock",
	[EP_MUTEX_LOCK] = "mutex_lock", [EP_RWSEM_READ] = "down_read",
	[EP_RWSEM_WRITE] = "down_write", [EP_TRYLOCK] = "trylock",
	[EP_UNLOCK] = "unlock", [EP_SEQ_WRITE] = "seq_write",
	[EP_SEQ_READ] = "seq_read", [EP_REF] = "ref",
	[EP_PTE_READ] = "pte_read", [EP_PTE_WRITE] = "pte_write",
	[EP_RCU_LOCK] = "rcu_lock", [EP_RCU_UNLOCK] = "rcu_unlock",
	[EP_WAIT] = "wait", [EP_WAIT_TIMED] = "wait_timed",
	[EP_SYNC_RCU] = "synchronize_rcu", [EP_USER] = "user",
	[EP_SPIN] = "spin",
};

/* The ordinal of @obj in order of first appearance in this run (0: none). */
static uint32_t obj_ordinal(const void *obj)
{
	uint32_t h;

	if (!obj)
		return 0;
	h = (uint32_t)(((uintptr_t)obj >> 3) * 2654435761u) % OBJ_SLOTS;
	for (uint32_t i = 0; i < OBJ_SLOTS; i++, h = (h + 1) % OBJ_SLOTS) {
		if (sched.objs[h] == obj)
			return sched.ords[h];
		if (!sched.objs[h]) {
			if (sched.nr_objs + 1 >= OBJ_SLOTS * 3 / 4)
				return UINT32_MAX;	/* table full: one shared ordinal */
			sched.objs[h] = obj;
			sched.ords[h] = ++sched.nr_objs;
			return sched.ords[h];
		}
	}
	return UINT32_MAX;
}

/* Could @t run past its point now?  sched.lock held. */
static bool runnable(const struct ethread *t)
{
	if (t->done)
		return false;
	switch (t->kind) {
	case EP_SPIN_LOCK:
		return !atomic_load_explicit(&((spinlock_t *)t->obj)->owner, memory_order_relaxed);
	case EP_MUTEX_LOCK:
		return !atomic_load_explicit(&((struct mutex *)t->obj)->owner, memory_order_relaxed);
	case EP_RWSEM_READ:
		return !atomic_load_explicit(&((struct rw_semaphore *)t->obj)->owner,
					     memory_order_relaxed);
	case EP_RWSEM_WRITE: {
		struct rw_semaphore *sem = (struct rw_semaphore *)t->obj;

		return !atomic_load_explicit(&sem->owner, memory_order_relaxed) &&
		       !atomic_load_explicit(&sem->readers, memory_order_relaxed);
	}
	case EP_WAIT:
	case EP_WAIT_TIMED:
		return t->woken || t->timed_out;
	case EP_SYNC_RCU:
		for (int i = 0; i < sched.nr; i++) {
			const struct ethread *u = &sched.t[i];

			if (u != t && !u->done && u->rcu_nest && u->rcu_since <= t->sync_gen)
				return false;
		}
		return true;
	default:
		return true;
	}
}

/* Are all the program's threads done?  sched.lock held. */
static bool prog_done(void)
{
	for (int i = 0; i < sched.nr_prog; i++)
		if (!sched.t[i].done)
			return false;
	return true;
}

/*
 * runnable(), and a background thread's timed sleep: its timer may fire
 * (the strategy may pick it) while it has ticks left and a program thread
 * still runs.  sched.lock held.
 */
static bool may_run(const struct ethread *t, bool ending)
{
	if (t->bg && !t->done && t->kind == EP_WAIT_TIMED && !t->woken && !t->timed_out)
		return !ending && t->ticks > 0;
	return runnable(t);
}

/* Every live thread sleeps in a wait: the run is idle.  sched.lock held. */
static bool all_idle(void)
{
	for (int i = 0; i < sched.nr; i++) {
		const struct ethread *t = &sched.t[i];

		if (!t->done && t->kind != EP_WAIT && t->kind != EP_WAIT_TIMED)
			return false;
	}
	return true;
}

/* Finish the run from inside the scheduler: the verdict, then exit. */
static __attribute__((noreturn)) void finish(int verdict, const char *msg)
{
	struct explore_shm *shm = sched.shm;

	shm->verdict = verdict;
	snprintf(shm->msg, sizeof(shm->msg), "%s", msg);
	_exit(0);
}

static __attribute__((noreturn)) void finish_deadlock(void)
{
	char msg[PINMM_EXPLORE_MSG_MAX];
	size_t n = 0;

	n += (size_t)snprintf(msg, sizeof(msg), "all threads blocked:");
	for (int i = 0; i < sched.nr && n < sizeof(msg); i++) {
		const struct ethread *t = &sched.t[i];

		if (!t->done)
			n += (size_t)snprintf(msg + n, sizeof(msg) - n, " T%d %s #%u;", i,
					      kind_names[t->kind], obj_ordinal(t->obj));
	}
	finish(PINMM_EXPLORE_DEADLOCK, msg);
}

/* PCT: the highest-priority runnable thread, after this step's changes. */
static int pick_pct(unsigned mask, int prev, long step)
{
	struct explore_shm *shm = sched.shm;
	int best = -1;

	for (int j = 0; j < shm->depth - 1; j++)
		if (sched.change[j] == step && prev != EXPLORE_NONE)
			sched.prio[prev] = shm->depth - 1 - j;	/* below every start value */
	for (int i = 0; i < sched.nr; i++)
		if (((mask >> i) & 1) && (best < 0 || sched.prio[i] > sched.prio[best]))
			best = i;
	return best;
}

static int pick(unsigned mask, int prev, long step)
{
	struct explore_shm *shm = sched.shm;

	switch (shm->pick) {
	case EXPLORE_PICK_RANDOM: {
		int k = (int)(splitmix64(&sched.rng) % (uint64_t)__builtin_popcount(mask));

		for (int i = 0; i < sched.nr; i++)
			if (((mask >> i) & 1) && k-- == 0)
				return i;
		return -1;
	}
	case EXPLORE_PICK_PCT:
		return pick_pct(mask, prev, step);
	case EXPLORE_PICK_GUIDED:
	default:
		if (step < shm->nr_guide && shm->guide[step] != EXPLORE_DEFAULT) {
			int g = shm->guide[step];

			if (g < sched.nr && ((mask >> g) & 1))
				return g;
			if (shm->exact)
				return -1;
		}
		return explore_default_choice(mask, prev);
	}
}

/*
 * May the controller look at the machine now?  Every live participant is
 * stopped at a point (the caller is about to hand the token on), none holds
 * a lock or is inside an RCU read-side section: no update a lock or RCU
 * protects is half done.  sched.lock held.
 */
static bool quiet(void)
{
	for (int i = 0; i < sched.nr; i++) {
		const struct ethread *t = &sched.t[i];

		if (!t->done && (t->held || t->rcu_nest))
			return false;
	}
	return true;
}

/*
 * One step: pick the thread that runs next and hand it the token; if @me
 * is still alive, sleep until the token comes back.  sched.lock held.
 */
void schedule_next(struct ethread *me)
{
	struct explore_shm *shm = sched.shm;
	long s = shm->steps;
	int prev = me ? me->idx : EXPLORE_NONE;
	unsigned mask = 0, spinning = 0;
	bool ending = prog_done();
	int c;

	if (s >= shm->step_budget)
		finish(PINMM_EXPLORE_LIVELOCK, "step budget used up");
	for (int i = 0; i < sched.nr; i++)
		if (may_run(&sched.t[i], ending)) {
			if (sched.t[i].kind == EP_SPIN)
				spinning |= 1u << i;
			else
				mask |= 1u << i;
		}
	/* A busy-wait runs only when nobody it could be waiting for can. */
	if (!mask)
		mask = spinning;
	if (!mask && ending && all_idle()) {
		/* Background threads asleep for good: the threads' phase is over. */
		sched.over = true;
		sched.cur = -1;
		pthread_cond_signal(&sched.ctl_cv);
		goto wait;
	}
	if (!mask) {
		/* Time passes only when nothing else can run: expire the first timed wait. */
		for (int i = 0; i < sched.nr && !mask; i++)
			if (!sched.t[i].done && sched.t[i].kind == EP_WAIT_TIMED) {
				sched.t[i].timed_out = true;
				mask = 1u << i;
			}
		if (!mask)
			finish_deadlock();
	}
	c = pick(mask, prev, s);
	if (c < 0)
		finish(PINMM_EXPLORE_DIVERGED, "replay: the recorded thread cannot run here");
	if (sched.t[c].bg && sched.t[c].kind == EP_WAIT_TIMED && !sched.t[c].woken &&
	    !sched.t[c].timed_out) {
		sched.t[c].timed_out = true;	/* its timer fired */
		sched.t[c].ticks--;
	}
	shm->prev[s] = (uint8_t)prev;
	shm->enabled[s] = (uint8_t)mask;
	shm->choice[s] = (uint8_t)c;
	{
		/* FNV-1a over (thread, kind, object ordinal) of the step. */
		uint32_t ord = obj_ordinal(sched.t[c].obj);
		uint8_t rec[6] = { (uint8_t)c, (uint8_t)sched.t[c].kind, (uint8_t)ord,
				   (uint8_t)(ord >> 8), (uint8_t)(ord >> 16), (uint8_t)(ord >> 24) };

		for (size_t i = 0; i < sizeof(rec); i++)
			shm->hash = (shm->hash ^ rec[i]) * 0x100000001b3ull;
		if (shm->trace_fd >= 0)
			dprintf(shm->trace_fd, "%ld T%d %s #%u\n", s, c,
				kind_names[sched.t[c].kind], ord);
	}
	shm->steps = s + 1;
	if (shm->check_every_step && sched.check && quiet()) {
		/* The controller checks first, then hands the token to c. */
		sched.after_check = c;
		sched.cur = CUR_CONTROLLER;
		pthread_cond_signal(&sched.ctl_cv);
	} else {
		sched.cur = c;
		pthread_cond_signal(&sched.t[c].cv);
	}
wait:
	if (me) {
		while (sched.cur != me->idx && !me->released)
			pthread_cond_wait(&me->cv, &sched.lock);
		if (me->released)
			self = NULL;	/* kthread_join() let it go: unscheduled */
	}
}

/**
 * __explore_point() - stop at a scheduling point (explore_point()).
 * @kind: what the caller is about to do.
 * @obj: the object it does it on.
 *
 * Context: a participant holding the token; returns holding it again.
 * Other threads pass through.
 */
void __explore_point(enum explore_kind kind, const void *obj)
{
	struct ethread *me = self;

	if (!me)
		return;
	pthread_mutex_lock(&sched.lock);
	if (kind == EP_RCU_LOCK && me->rcu_nest++ == 0)
		me->rcu_since = ++sched.rcu_clock;
	else if (kind == EP_RCU_UNLOCK)
		me->rcu_nest--;
	me->kind = kind;
	me->obj = obj;
	me->held = lockdep_depth();
	schedule_next(me);
	pthread_mutex_unlock(&sched.lock);
}

/**
 * __explore_participant() - whether the caller is a thread of the run.
 *
 * Context: any.
 * Return: true for a participant.
 */
bool __explore_participant(void)
{
	return self != NULL;
}

/**
 * __explore_wake() - mark the participants sleeping on @wq woken.
 * @wq: a wait queue (wait.c calls this wherever it signals).
 *
 * Context: any.
 */
void __explore_wake(const void *wq)
{
	pthread_mutex_lock(&sched.lock);
	for (int i = 0; i < sched.nr; i++) {
		struct ethread *t = &sched.t[i];

		if (!t->done && (t->kind == EP_WAIT || t->kind == EP_WAIT_TIMED) && t->obj == wq)
			t->woken = true;
	}
	pthread_mutex_unlock(&sched.lock);
}

/**
 * __explore_wait() - a participant's sleep on @wq (wait.c's __wait_sleep()).
 * @wq: the wait queue.
 * @timed: the sleep has a deadline.
 * @timed_out: set when the scheduler let the deadline pass instead.
 *
 * The caller has released the queue's mutex (without a point in between:
 * it still holds the token, so no wake-up can be lost).
 * Context: a participant; returns holding the token.
 */
void __explore_wait(const void *wq, bool timed, bool *timed_out)
{
	struct ethread *me = self;

	pthread_mutex_lock(&sched.lock);
	me->woken = false;
	me->timed_out = false;
	me->kind = timed ? EP_WAIT_TIMED : EP_WAIT;
	me->obj = wq;
	me->held = lockdep_depth();
	schedule_next(me);
	*timed_out = me->timed_out && !me->woken;
	pthread_mutex_unlock(&sched.lock);
}

/**
 * __explore_synchronize_rcu() - a grace period as a scheduler wait: until
 * no other participant is inside a read-side section that began before.
 *
 * Context: a participant outside any read-side section.
 */
void __explore_synchronize_rcu(void)
{
	struct ethread *me = self;

	pthread_mutex_lock(&sched.lock);
	me->sync_gen = sched.rcu_clock;
	me->kind = EP_SYNC_RCU;
	me->obj = NULL;
	me->held = lockdep_depth();
	schedule_next(me);
	pthread_mutex_unlock(&sched.lock);
}

/**
 * __explore_now() - the run's clock, for a participant (explore_now()).
 * @ns: set to the clock in nanoseconds (CLOCK_MONOTONIC's scale).
 *
 * Context: any.
 * Return: false when the caller is not a participant (@ns untouched).
 */
bool __explore_now(uint64_t *ns)
{
	if (!self)
		return false;
	pthread_mutex_lock(&sched.lock);
	*ns = sched.clock_ns;
	pthread_mutex_unlock(&sched.lock);
	return true;
}

/**
 * __explore_clock_advance() - a timed wait expired: its deadline is now.
 * @ns: the deadline; the clock never goes back.
 *
 * Context: a participant holding the token.
 */
void __explore_clock_advance(uint64_t ns)
{
	pthread_mutex_lock(&sched.lock);
	if (ns > sched.clock_ns)
		sched.clock_ns = ns;
	pthread_mutex_unlock(&sched.lock);
}

/**
 * explore_note_bug() - record a BUG() of a run child as its verdict.
 * @file: where
 * @line: its line
 * @cond: the condition
 *
 * Context: any; the caller aborts next.
 */
void explore_note_bug(const char *file, int line, const char *cond)
{
	if (!sched.shm)
		return;
	sched.shm->verdict = PINMM_EXPLORE_BUG;
	snprintf(sched.shm->msg, sizeof(sched.shm->msg), "BUG at %s:%d: %s", file, line, cond);
}

static void *participant(void *arg)
{
	struct ethread *me = arg;

	self = me;
	pthread_mutex_lock(&sched.lock);
	while (sched.cur != me->idx)
		pthread_cond_wait(&me->cv, &sched.lock);
	pthread_mutex_unlock(&sched.lock);
	sched.fn(sched.arg, me->idx);
	pthread_mutex_lock(&sched.lock);
	VM_WARN_ON(me->rcu_nest);
	me->done = true;
	sched.nr_done++;
	/* The controller joins this thread, then hands the token on. */
	sched.reap = me->idx;
	sched.cur = CUR_REAP;
	pthread_cond_signal(&sched.ctl_cv);
	pthread_mutex_unlock(&sched.lock);
	self = NULL;
	return NULL;
}

/*
 * A participant returned: wait until its thread is gone, then let the
 * strategy pick the next one.  The exit of a thread frees its glibc arena
 * and tcache, its liburcu registration and its lock validator state; done
 * while the others still ran, it would land at a step the host decides,
 * and the next allocations (their addresses, so the object ordinals, and
 * which memory a later step reuses) would differ from one invocation to
 * the next.  sched.lock held on entry and return.
 */
static void reap_participant(void)
{
	struct ethread *t = &sched.t[sched.reap];

	pthread_mutex_unlock(&sched.lock);
	BUG_ON(pthread_join(t->th, NULL) != 0);
	pthread_mutex_lock(&sched.lock);
	t->joined = true;
	sched.cur = -1;
	schedule_next(NULL);	/* or, the last program thread, ends the threads' phase */
}

/**
 * explore_set_step_check() - the check run between quiet steps when the
 * run's shared page asks for it (explore_run.h).
 * @check: the check; non-zero ends the run with *verdict and its message.
 * @arg: its argument.
 *
 * Context: a run child, before explore_threads_run().
 */
void explore_set_step_check(int (*check)(void *arg, int *verdict, char *msg, size_t len),
			    void *arg)
{
	sched.check = check;
	sched.check_arg = arg;
}

/*
 * The controller's turn between two steps: the check runs without
 * sched.lock (it takes the machine's locks; every participant waits for the
 * token), then the token goes to the thread the strategy picked.
 * sched.lock held on entry and return.
 */
static void run_step_check(void)
{
	struct explore_shm *shm = sched.shm;
	char msg[PINMM_EXPLORE_MSG_MAX - 32] = "";
	int verdict = PINMM_EXPLORE_AUDIT, bad;
	long step = shm->steps;

	pthread_mutex_unlock(&sched.lock);
	bad = sched.check(sched.check_arg, &verdict, msg, sizeof(msg));
	pthread_mutex_lock(&sched.lock);
	shm->checks++;
	if (bad) {
		char full[PINMM_EXPLORE_MSG_MAX];

		snprintf(full, sizeof(full), "after step %ld: %s", step, msg);
		finish(verdict, full);
	}
	sched.cur = sched.after_check;
	pthread_cond_signal(&sched.t[sched.cur].cv);
}

/* PCT's set-up: distinct start priorities >= d, d-1 change points in [0, k). */
static void pct_init(struct explore_shm *shm)
{
	int n = sched.nr;
	long k = shm->pct_steps > 0 ? shm->pct_steps : 1;

	for (int i = 0; i < n; i++)
		sched.prio[i] = shm->depth + i;
	for (int i = n - 1; i > 0; i--) {
		int j = (int)(splitmix64(&sched.rng) % (uint64_t)(i + 1));
		int tmp = sched.prio[i];

		sched.prio[i] = sched.prio[j];
		sched.prio[j] = tmp;
	}
	for (int j = 0; j < shm->depth - 1 && j < EXPLORE_MAX_DEPTH; j++)
		sched.change[j] = (long)(splitmix64(&sched.rng) % (uint64_t)k);
}

void explore_threads_run(struct explore_shm *shm, int nr,
			 void (*fn)(void *arg, int idx), void *arg)
{
	BUG_ON(nr < 1 || nr > PINMM_EXPLORE_MAX_THREADS);
	pthread_mutex_lock(&sched.lock);	/* kthreads of the setup look at nr */
	sched.shm = shm;
	sched.nr = nr + kthreads_pending();
	sched.nr_prog = nr;
	sched.over = false;
	pthread_mutex_unlock(&sched.lock);
	if (sched.nr > PINMM_EXPLORE_MAX_THREADS)
		finish(PINMM_EXPLORE_SETUP, "too many threads: the program's and "
		       "the background threads its setup started exceed 8");
	sched.nr_done = 0;
	sched.cur = -1;
	sched.fn = fn;
	sched.arg = arg;
	sched.rng = shm->seed;
	{
		/* The run's clock starts at the host's; from here only steps move it. */
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		sched.clock_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	}
	shm->steps = 0;
	shm->hash = 0xcbf29ce484222325ull;
	shm->checks = 0;
	shm->verdict = PINMM_EXPLORE_PASS;
	if (shm->pick == EXPLORE_PICK_PCT)
		pct_init(shm);
	for (int i = 0; i < nr; i++) {
		struct ethread *t = &sched.t[i];

		memset(t, 0, sizeof(*t));
		t->idx = i;
		t->kind = EP_START;
		BUG_ON(pthread_cond_init(&t->cv, NULL) != 0);
	}
	kthreads_adopt(nr);
	atomic_store(&explore_enabled, 1);
	for (int i = 0; i < nr; i++)
		BUG_ON(pthread_create(&sched.t[i].th, NULL, participant, &sched.t[i]) != 0);
	pthread_mutex_lock(&sched.lock);
	schedule_next(NULL);
	while (!sched.over || sched.cur == CUR_REAP) {
		if (sched.cur == CUR_CONTROLLER) {
			run_step_check();
			continue;
		}
		if (sched.cur == CUR_REAP) {
			reap_participant();
			continue;
		}
		pthread_cond_wait(&sched.ctl_cv, &sched.lock);
	}
	kthreads_after();	/* threads started from now on run unscheduled */
	pthread_mutex_unlock(&sched.lock);
	for (int i = 0; i < nr; i++)
		BUG_ON(!sched.t[i].joined);
	atomic_store(&explore_enabled, 0);
	explore_rcu_flush();
}
