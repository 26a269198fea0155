/* SPDX-License-Identifier: MIT */
/*
 * kthread.h - the machine's own threads: the writeback flusher, ksmd,
 * khugepaged, a pinfs DIO engine, an RDMA peer (kernel/kthread.c).
 *
 * kthread_start() and kthread_join() are pthread_create() and
 * pthread_join() everywhere but in an explorer's run child, where such a
 * thread is a participant of the controlled scheduler (doc/EXPLORE.md
 * section 1, "Background threads"): it runs only when it holds the token.
 * Unlike Linux's kthread_run()/kthread_stop(), there is no should-stop
 * flag here: the caller tells the thread to stop its own way (a
 * completion, a flag) and then joins it.
 */
#ifndef PINMM_KTHREAD_H
#define PINMM_KTHREAD_H

#include <pthread.h>

int kthread_start(pthread_t *th, void *(*fn)(void *arg), void *arg);
void kthread_join(pthread_t th);

/* kernel/explore.c: the scheduler's side; -ENOSYS: not its thread. */
void explore_kthreads_begin(void);
int explore_kthread_start(pthread_t *th, void *(*fn)(void *arg), void *arg);
int explore_kthread_join(pthread_t th);

#endif /* PINMM_KTHREAD_H */
