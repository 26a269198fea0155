/* SPDX-License-Identifier: MIT */
/*
 * explore_kthread.c - the machine's own threads as participants of an
 * explorer's run (kthread.h, doc/EXPLORE.md section 1 "Background
 * threads"): adoption of the setup's threads at the run, threads a
 * participant starts during it, their joins.  The scheduler's state is
 * explore.c's (explore_internal.h), under sched.lock.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "explore_internal.h"
#include "kthread.h"
#include "lockdep.h"
#include "locking.h"

/*
 * A thread the machine starts for itself (the writeback flusher, ksmd,
 * khugepaged, a pinfs DIO engine, an RDMA peer) is started through
 * kthread_start().  In a run child it is a participant too: one started by
 * the setup waits, without running, until explore_threads_run() adopts it
 * as thread nr, nr + 1, ... in the order the setup started them; one that a
 * participant starts during the run takes the next index at once.  Both
 * orders are the program's, so the indices (schedule letters) replay.
 * After the run, kthread_start() makes plain unscheduled threads.
 */
enum kt_phase { KT_OFF, KT_SETUP, KT_RUN, KT_AFTER };

#define KT_SLOTS	(2 * PINMM_EXPLORE_MAX_THREADS)

/* One background thread of a run child; under sched.lock. */
struct kslot {
	pthread_t th;
	pthread_cond_t cv;		/* until adopted or released */
	bool cv_ready;
	bool used;			/* started, not yet joined */
	bool released;			/* kthread_join() let it run unscheduled */
	int idx;			/* its sched.t[] index, -1 until adopted */
	unsigned long seq;		/* start order */
	void *(*fn)(void *arg);
	void *arg;
};

static struct {
	enum kt_phase phase;
	struct kslot slot[KT_SLOTS];
	unsigned long seq;
} kt;				/* under sched.lock */

/**
 * explore_kthreads_begin() - schedule the background threads this process
 * starts from now on (kthread_start()).
 *
 * Context: a run child, before its setup, single-threaded.
 */
void explore_kthreads_begin(void)
{
	kt.phase = KT_SETUP;
}

/* Started by the setup, not released: adopted at the run.  sched.lock held. */
static bool kslot_pending(const struct kslot *ks)
{
	return ks->used && !ks->released && ks->idx < 0;
}

int kthreads_pending(void)
{
	int n = 0;

	for (int k = 0; k < KT_SLOTS; k++)
		n += kslot_pending(&kt.slot[k]);
	return n;
}

/* @ks becomes participant @idx, not yet started (EP_START).  sched.lock held. */
static void kthread_attach(struct kslot *ks, int idx)
{
	struct ethread *t = &sched.t[idx];

	memset(t, 0, sizeof(*t));
	t->idx = idx;
	t->kind = EP_START;
	t->bg = true;
	t->ticks = sched.shm->kthread_ticks;
	BUG_ON(pthread_cond_init(&t->cv, NULL) != 0);
	ks->idx = idx;
	pthread_cond_broadcast(&ks->cv);
}

/* explore_threads_run(): the setup's threads become t[nr...], in start order. */
void kthreads_adopt(int nr)
{
	pthread_mutex_lock(&sched.lock);
	for (int idx = nr; idx < sched.nr; idx++) {
		struct kslot *first = NULL;

		for (int k = 0; k < KT_SLOTS; k++)
			if (kslot_pending(&kt.slot[k]) && (!first || kt.slot[k].seq < first->seq))
				first = &kt.slot[k];
		kthread_attach(first, idx);
	}
	kt.phase = KT_RUN;
	pthread_mutex_unlock(&sched.lock);
}

/*
 * PCT: a thread started during the run gets a start priority at a random
 * rank among the others' (the ones at or above it move up one), so the
 * priorities stay distinct.  sched.lock held.
 */
static void pct_insert(int idx)
{
	int depth = sched.shm->depth;
	int r;

	if (sched.shm->pick != EXPLORE_PICK_PCT)
		return;
	r = (int)(splitmix64(&sched.rng) % (uint64_t)(idx + 1));
	for (int i = 0; i < idx; i++)
		if (sched.prio[i] >= depth + r)
			sched.prio[i]++;
	sched.prio[idx] = depth + r;
}

/* The thread of a kslot: wait for adoption (or release), run, leave. */
static void *kthread_main(void *arg)
{
	struct kslot *ks = arg;
	void *(*fn)(void *arg);
	struct ethread *me;
	void *ret, *fn_arg;

	pthread_mutex_lock(&sched.lock);
	while (ks->idx < 0 && !ks->released)
		pthread_cond_wait(&ks->cv, &sched.lock);
	if (!ks->released) {
		me = &sched.t[ks->idx];
		self = me;
		while (sched.cur != me->idx && !me->released)
			pthread_cond_wait(&me->cv, &sched.lock);
		if (me->released)
			self = NULL;
	}
	fn = ks->fn;
	fn_arg = ks->arg;
	pthread_mutex_unlock(&sched.lock);
	ret = fn(fn_arg);
	me = self;
	if (me) {
		pthread_mutex_lock(&sched.lock);
		VM_WARN_ON(me->rcu_nest);
		me->done = true;
		sched.nr_done++;
		/* Its joiners (explore_kthread_join()) wait on its ethread. */
		for (int i = 0; i < sched.nr; i++)
			if (sched.t[i].kind == EP_WAIT && sched.t[i].obj == me)
				sched.t[i].woken = true;
		schedule_next(NULL);
		pthread_mutex_unlock(&sched.lock);
		self = NULL;
	}
	return ret;
}

/**
 * explore_kthread_start() - start @fn(@arg) as a background thread of this
 * run child (kthread_start()).
 * @th: its pthread.
 * @fn: the thread function.
 * @arg: its argument.
 *
 * In the setup the thread waits for explore_threads_run() to adopt it; a
 * participant's start makes it the next participant at once.
 * Context: any.
 * Return: 0; -ENOSYS when the scheduler does not take it (not a run child,
 * the run is over, or the caller is not a participant during the run: a
 * plain thread then); -EAGAIN when no thread index or pthread is left.
 */
int explore_kthread_start(pthread_t *th, void *(*fn)(void *arg), void *arg)
{
	struct kslot *ks = NULL;
	int err = 0;

	pthread_mutex_lock(&sched.lock);
	if (kt.phase == KT_OFF || kt.phase == KT_AFTER || (kt.phase == KT_RUN && !self)) {
		err = -ENOSYS;
		goto out;
	}
	for (int k = 0; k < KT_SLOTS && !ks; k++)
		if (!kt.slot[k].used)
			ks = &kt.slot[k];
	if (!ks || (kt.phase == KT_RUN && sched.nr >= PINMM_EXPLORE_MAX_THREADS)) {
		err = -EAGAIN;
		goto out;
	}
	if (!ks->cv_ready) {
		BUG_ON(pthread_cond_init(&ks->cv, NULL) != 0);
		ks->cv_ready = true;
	}
	ks->used = true;
	ks->released = false;
	ks->idx = -1;
	ks->seq = kt.seq++;
	ks->fn = fn;
	ks->arg = arg;
	if (kt.phase == KT_RUN) {
		int idx = sched.nr++;

		kthread_attach(ks, idx);
		pct_insert(idx);
	}
	if (pthread_create(&ks->th, NULL, kthread_main, ks)) {
		if (ks->idx >= 0) {
			sched.t[ks->idx].done = true;	/* never runs */
			sched.nr_done++;
		}
		ks->used = false;
		err = -EAGAIN;
		goto out;
	}
	*th = ks->th;
out:
	pthread_mutex_unlock(&sched.lock);
	return err;
}

/**
 * explore_kthread_join() - wait for a background thread's exit (kthread_join()).
 * @th: a thread explore_kthread_start() started.
 *
 * The caller has told it to stop.  A participant waits in the scheduler
 * (a wait on the thread) while it runs to its end.  Any other caller - the
 * setup, the checks after the run - lets it run unscheduled (so a stop at
 * unmount or shutdown cannot deadlock), then joins it.
 * Context: may sleep.
 * Return: 0, or -ENOSYS when @th is not one of them (the caller joins it).
 */
int explore_kthread_join(pthread_t th)
{
	struct kslot *ks = NULL;

	pthread_mutex_lock(&sched.lock);
	for (int k = 0; k < KT_SLOTS && !ks; k++)
		if (kt.slot[k].used && pthread_equal(kt.slot[k].th, th))
			ks = &kt.slot[k];
	if (!ks) {
		pthread_mutex_unlock(&sched.lock);
		return -ENOSYS;
	}
	if (ks->idx >= 0 && !ks->released && self && kt.phase == KT_RUN) {
		struct ethread *t = &sched.t[ks->idx], *me = self;

		while (!t->done) {
			me->woken = false;
			me->timed_out = false;
			me->kind = EP_WAIT;
			me->obj = t;
			me->held = lockdep_depth();
			schedule_next(me);
		}
	} else if (!ks->released && !(ks->idx >= 0 && sched.t[ks->idx].done)) {
		ks->released = true;
		if (ks->idx >= 0) {
			sched.t[ks->idx].released = true;
			pthread_cond_signal(&sched.t[ks->idx].cv);
		}
		pthread_cond_broadcast(&ks->cv);
	}
	pthread_mutex_unlock(&sched.lock);
	pthread_join(th, NULL);
	pthread_mutex_lock(&sched.lock);
	ks->used = false;
	pthread_mutex_unlock(&sched.lock);
	return 0;
}

/* The threads' phase of the run is over: threads started from now on run unscheduled. */
void kthreads_after(void)
{
	kt.phase = KT_AFTER;
}
