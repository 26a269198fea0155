/* SPDX-License-Identifier: MIT */
/*
 * kthread.c - start and join the machine's own threads (kthread.h): plain
 * pthreads, or, in an explorer's run child, participants of the controlled
 * scheduler (kernel/explore.c, doc/EXPLORE.md section 1).
 *
 * Owns nothing but the choice between the two; the scheduler's side
 * (adoption, ticks, the join as a scheduler wait) is explore.c's.
 */
#include <errno.h>

#include "kthread.h"

/**
 * kthread_start() - start @fn(@arg) as one of the machine's threads.
 * @th: its pthread, for kthread_join().
 * @fn: the thread function.
 * @arg: its argument.
 *
 * Context: any.
 * Return: 0, or -EAGAIN when no thread can be started.
 */
int kthread_start(pthread_t *th, void *(*fn)(void *arg), void *arg)
{
	int err = explore_kthread_start(th, fn, arg);

	if (err != -ENOSYS)
		return err;
	return pthread_create(th, NULL, fn, arg) ? -EAGAIN : 0;
}

/**
 * kthread_join() - wait for the exit of a thread kthread_start() started.
 * @th: the thread; the caller has told it to stop.
 *
 * Context: may sleep; not from @th itself.
 */
void kthread_join(pthread_t th)
{
	if (explore_kthread_join(th) == -ENOSYS)
		pthread_join(th, NULL);
}
