/* SPDX-License-Identifier: MIT */
/*
 * trace_internal.h - the trace buffers of a machine, shared by trace.c
 * (recording) and trace_json.c (the file).  doc/TRACING.md,
 * doc/MEMORY-ORDERING.md "Trace buffers".
 */
#ifndef PINMM_TRACE_INTERNAL_H
#define PINMM_TRACE_INTERNAL_H

#include "locking.h"
#include "trace.h"

/* One event.  @name and the argument names point to literals. */
struct trace_rec {
	uint64_t ts;			/* CLOCK_MONOTONIC ns */
	uint64_t dur;			/* 'X': ns; 'C': the counter's value */
	const char *name;
	struct trace_arg args[TRACE_MAX_ARGS];
	char ph;			/* 'X', 'i' or 'C' */
	uint8_t cat;			/* enum trace_cat; NR_TRACE_CATS for 'C' */
};

/*
 * struct trace_buf - one thread's events of one machine.  Written only by
 * that thread (@rec[@head], then @head with release); read by flushes
 * (@head with acquire, then @rec[0, head)).  Never wraps: full means drop.
 */
struct trace_buf {
	struct trace_buf *next;		/* immutable once published */
	uint64_t serial;		/* the owning thread (trace.c) */
	int tid;			/* the track id in the file: 1, 2, ... */
	int host_tid;			/* pinmm_tid() of the owner */
	int cpu;			/* its CPU slot (smp.h) */
	_Atomic(const char *) name;	/* trace_thread_name(), or NULL */
	_Atomic unsigned long head;	/* records published */
	atomic_long_t dropped;		/* events that found the buffer full */
	struct trace_rec rec[];
};

enum trace_counter { TRACE_CTR_PINNED, TRACE_CTR_DIRTY, TRACE_CTR_FREE, NR_TRACE_COUNTERS };
extern const char *const trace_counter_names[NR_TRACE_COUNTERS];

/*
 * struct pinmm_trace - m->trace of a machine booted with trace.file.
 * @lock serialises making buffers (pushing onto @bufs); @flush_lock
 * serialises writing the file.  @flush_lock nests outside nothing and
 * @lock is never taken under it (doc/LOCKING.md).
 */
struct pinmm_trace {
	spinlock_t lock;	/* taken by tracepoints under any lock */
	struct mutex flush_lock;
	struct trace_buf *_Atomic bufs;	/* newest first; pushed under @lock */
	int nr_bufs;			/* @lock */
	uint64_t gen;			/* unique per boot (trace.c) */
	uint64_t t0;			/* boot time, trace_clock_ns() */
	unsigned long nr_recs;		/* records per buffer */
	atomic_long_t nomem_drops;	/* events of threads whose buffer malloc failed */
	atomic_long_t last[NR_TRACE_COUNTERS];	/* last value written per counter */
	char path[];
};

/* trace_json.c: write every published record of @t to t->path. */
int trace_write_file(struct pinmm *m, struct pinmm_trace *t);

#endif /* PINMM_TRACE_INTERNAL_H */
