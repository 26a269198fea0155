/* SPDX-License-Identifier: MIT */
/*
 * trace.c - tracepoints (trace.h): per-thread event buffers of a machine
 * booted with trace.file, and pinmm_trace_flush().  trace_json.c turns the
 * buffers into the Trace Event Format file (doc/TRACING.md).
 *
 * Off: every tracepoint is one load and one not-taken branch on
 * pinmm_trace_users (0 while no machine traces).  On: a thread's first
 * event of a machine makes it a buffer of trace.buffer_size bytes (under
 * t->lock, once per thread and machine); every later event is written into
 * it without a lock or a read-modify-write: the thread is the buffer's only
 * writer, and it publishes each record with a release store of @head that
 * a flush pairs with an acquire load (doc/MEMORY-ORDERING.md "Trace
 * buffers", steps T1-T3).  A full buffer drops the event and counts it in
 * @dropped; records are never overwritten, so a flush may read them while
 * the threads go on.
 *
 * Buffers are host mmap(MAP_POPULATE), not kmalloc(): tracing must not move
 * the fail.nth count of a fault-injection sweep (doc/FAULT-INJECTION.md),
 * and populating the buffer when it is made keeps the host's first-touch
 * page faults off the recording path.
 * A failed mmap() leaves the thread without a buffer: its events are
 * counted as dropped.
 *
 * Clock: CLOCK_MONOTONIC (trace_clock_ns()), the clock of every deadline
 * and stall time of the machine (pin_policy_now_ns(), wait.h), so that a
 * span of a lease break lines up with the waits it contains; pinmm has no
 * simulated clock.  Timestamps are written relative to the boot.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

#include "init.h"
#include "locking.h"
#include "machine.h"
#include "rcu.h"
#include "trace_internal.h"

atomic_t pinmm_trace_users;

/*
 * Each machine's trace gets a generation, so that a thread's cached buffer
 * of a machine that is gone (its struct pinmm may be reused at the same
 * address) is never taken for the current one's.
 */
static _Atomic uint64_t trace_next_gen = 1;
/* A thread's identity for its buffers: never reused, unlike thread ids. */
static _Atomic uint64_t trace_next_serial = 1;
static __thread uint64_t trace_serial;
static __thread struct {
	uint64_t gen;
	struct trace_buf *buf;
} trace_cache;

uint64_t trace_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_serial(void)
{
	if (unlikely(!trace_serial))
		trace_serial = atomic_fetch_add_explicit(&trace_next_serial, 1,
							 memory_order_relaxed);
	return trace_serial;
}

/* Slow path: the calling thread's buffer of @t, made on first use. */
static size_t trace_buf_bytes(const struct pinmm_trace *t)
{
	return sizeof(struct trace_buf) + t->nr_recs * sizeof(struct trace_rec);
}

static struct trace_buf *trace_buf_new(struct pinmm_trace *t)
{
	uint64_t serial = thread_serial();
	struct trace_buf *b;

	spin_lock(&t->lock);
	for (b = atomic_load_explicit(&t->bufs, memory_order_relaxed); b; b = b->next)
		if (b->serial == serial)
			goto out;
	/* Populated now: a first touch per page on the hot path costs more. */
	b = mmap(NULL, trace_buf_bytes(t), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (b == MAP_FAILED) {
		b = NULL;
		atomic_long_inc(&t->nomem_drops);	/* this event only */
		goto out;
	}
	b->serial = serial;
	b->tid = ++t->nr_bufs;	/* track ids 1, 2, ... in order of first event */
	b->host_tid = pinmm_tid();
	b->cpu = raw_smp_processor_id();
	atomic_init(&b->head, 0);
	atomic_init(&b->dropped, 0);
	atomic_init(&b->name, NULL);
	b->next = atomic_load_explicit(&t->bufs, memory_order_relaxed);
	/* T0: the buffer is complete before a flush can find it (T3 pairs). */
	atomic_store_explicit(&t->bufs, b, memory_order_release);
out:
	spin_unlock(&t->lock);
	return b;
}

/* The calling thread's buffer of machine @m, or NULL when @m does not trace. */
static struct trace_buf *trace_buf_get(struct pinmm *m)
{
	struct pinmm_trace *t = m ? m->trace : NULL;

	if (!t)
		return NULL;
	if (likely(trace_cache.gen == t->gen && trace_cache.buf))
		return trace_cache.buf;
	trace_cache.buf = trace_buf_new(t);
	trace_cache.gen = trace_cache.buf ? t->gen : 0;
	return trace_cache.buf;
}

/* Append one record; a full buffer counts a drop (never blocks, never grows). */
static void trace_emit(struct pinmm *m, char ph, enum trace_cat cat, const char *name,
		       uint64_t ts, uint64_t dur, const struct trace_arg *args)
{
	struct trace_buf *b = trace_buf_get(m);
	struct pinmm_trace *t;
	struct trace_rec *r;
	unsigned long i;

	if (!b)
		return;
	t = m->trace;
	/* T1: only this thread writes @head; a relaxed load sees its own last store. */
	i = atomic_load_explicit(&b->head, memory_order_relaxed);
	if (i >= t->nr_recs) {
		atomic_fetch_add_explicit(&b->dropped, 1, memory_order_relaxed);
		return;
	}
	r = &b->rec[i];
	r->ts = ts;
	r->dur = dur;
	r->name = name;
	r->ph = ph;
	r->cat = (uint8_t)cat;
	for (int a = 0; a < TRACE_MAX_ARGS; a++)
		r->args[a] = args ? args[a] : (struct trace_arg){ NULL, 0 };
	/* T2: publish the record; pairs with T3 in trace_json.c. */
	atomic_store_explicit(&b->head, i + 1, memory_order_release);
}

/*
 * Counter tracks: sampled at every span end, written only when the value
 * changed since the last sample of any thread (an exchange on @last, so
 * that two threads seeing one change write it once).
 */
static void trace_counters(struct pinmm *m, uint64_t now)
{
	struct pinmm_trace *t = m->trace;
	long v[NR_TRACE_COUNTERS];

	v[TRACE_CTR_PINNED] = vm_stat_snapshot(m, NR_FOLL_PIN_ACQUIRED) -
			      vm_stat_snapshot(m, NR_FOLL_PIN_RELEASED);
	v[TRACE_CTR_DIRTY] = vm_stat_snapshot(m, NR_DIRTY);
	v[TRACE_CTR_FREE] = vm_stat_snapshot(m, NR_FREE_PAGES);
	for (int c = 0; c < NR_TRACE_COUNTERS; c++) {
		if (atomic_long_read(&t->last[c]) == v[c] ||
		    atomic_exchange_explicit(&t->last[c], v[c], memory_order_relaxed) == v[c])
			continue;
		trace_emit(m, 'C', NR_TRACE_CATS, trace_counter_names[c], now, (uint64_t)v[c],
			   NULL);
	}
}

/**
 * __trace_span_end() - record a span of machine @m (TRACE_SPAN_END()).
 * @m: the machine; nothing is recorded when it does not trace
 * @start: trace_clock_ns() at the span's beginning
 * @cat: its category
 * @name: its name (a literal)
 * @args: TRACE_MAX_ARGS arguments, unused ones with a NULL name
 *
 * Context: any; lock-free after the thread's first event of @m.
 */
void __trace_span_end(struct pinmm *m, uint64_t start, enum trace_cat cat,
		      const char *name, const struct trace_arg *args)
{
	uint64_t now;

	if (!m || !m->trace)
		return;
	now = trace_clock_ns();
	trace_emit(m, 'X', cat, name, start, now - start, args);
	trace_counters(m, now);
}

/**
 * __trace_instant() - record an instant event of machine @m (TRACE_INSTANT()).
 * @m: the machine; nothing is recorded when it does not trace
 * @cat: its category
 * @name: its name (a literal)
 * @args: TRACE_MAX_ARGS arguments, unused ones with a NULL name
 *
 * Context: any; lock-free after the thread's first event of @m.
 */
void __trace_instant(struct pinmm *m, enum trace_cat cat, const char *name,
		     const struct trace_arg *args)
{
	if (!m || !m->trace)
		return;
	trace_emit(m, 'i', cat, name, trace_clock_ns(), 0, args);
}

/**
 * trace_thread_name() - name the calling thread's track of machine @m.
 * @m: the machine
 * @name: the track's name, a literal ("ksmd")
 *
 * Context: any; takes the machine's trace lock on the thread's first event.
 */
void trace_thread_name(struct pinmm *m, const char *name)
{
	struct trace_buf *b = trace_buf_get(m);

	if (b)
		atomic_store_explicit(&b->name, name, memory_order_relaxed);
}

/**
 * pinmm_trace_flush() - write machine @m's trace file now.
 * @m: a machine booted with trace.file
 *
 * Writes every event recorded since boot to trace.file (replacing it), in
 * the Trace Event Format (doc/TRACING.md); recording goes on.  Shutdown
 * writes the file once more, complete.
 * Context: any thread; may run while other threads record (they are not
 * stopped, events they publish after the flush began may be missing from
 * this file).  Serialised with other flushes of @m by its trace lock.
 * Return: 0; -EINVAL for NULL, -ENOENT when @m was booted without
 * trace.file, -ENOMEM, or the -errno of opening or writing the file.
 */
int pinmm_trace_flush(struct pinmm *m)
{
	struct pinmm_trace *t;
	int ret;

	pinmm_thread_enter();
	if (!m)
		return -EINVAL;
	t = m->trace;
	if (!t)
		return -ENOENT;
	mutex_lock(&t->flush_lock);
	ret = trace_write_file(m, t);
	mutex_unlock(&t->flush_lock);
	return ret;
}

static int trace_init(struct pinmm *m)
{
	struct pinmm_trace *t;
	size_t len = strlen(m->cfg.trace_file);

	if (!len)
		return 0;
	t = calloc(1, sizeof(*t) + len + 1);
	if (!t)
		return -ENOMEM;
	memcpy(t->path, m->cfg.trace_file, len + 1);
	spin_lock_init(&t->lock);
	mutex_init(&t->flush_lock);
	t->gen = atomic_fetch_add_explicit(&trace_next_gen, 1, memory_order_relaxed);
	t->nr_recs = m->cfg.trace_buffer_size / sizeof(struct trace_rec);
	t->t0 = trace_clock_ns();
	for (int c = 0; c < NR_TRACE_COUNTERS; c++)
		atomic_long_set(&t->last[c], LONG_MIN);
	m->trace = t;
	atomic_inc(&pinmm_trace_users);
	return 0;
}

/*
 * Last of every ->exit (the lowest level): the file then holds the final
 * writeback and the teardown of every process.  An unwritable file is
 * reported, not an unclean machine.
 */
static int trace_exit(struct pinmm *m)
{
	struct pinmm_trace *t = m->trace;
	struct trace_buf *b;
	int ret;

	if (!t)
		return 0;
	ret = pinmm_trace_flush(m);
	if (ret)
		fprintf(stderr, "pinmm: trace: cannot write %s: %s\n", t->path, strerror(-ret));
	atomic_dec(&pinmm_trace_users);
	m->trace = NULL;
	b = atomic_load_explicit(&t->bufs, memory_order_relaxed);
	while (b) {
		struct trace_buf *next = b->next;

		munmap(b, trace_buf_bytes(t));
		b = next;
	}
	mutex_destroy(&t->flush_lock);
	spin_lock_destroy(&t->lock);
	free(t);
	return 0;
}

pinmm_initcall(trace, INITCALL_KERNEL(1), trace_init, NULL, trace_exit);
