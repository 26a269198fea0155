/* SPDX-License-Identifier: MIT */
/*
 * trace.h - tracepoints (src/kernel/trace.c): spans, instants and counters
 * written as a Trace Event Format file that Perfetto and chrome://tracing
 * load (doc/TRACING.md).
 *
 * A machine booted with trace.file set traces; any other costs one
 * predictable branch per tracepoint on @pinmm_trace_users, a global that
 * is 0 unless some machine traces (as Linux's static keys cost a patched
 * NOP).  When some machine traces, a tracepoint of a machine that does not
 * finds m->trace NULL in the out-of-line part and returns.
 *
 * Usage, around an operation of machine @m:
 *
 *	struct trace_span sp;
 *
 *	trace_span_begin(&sp);
 *	...
 *	TRACE_SPAN_END(m, &sp, TRACE_CAT_FAULT, "handle_mm_fault",
 *		       { "addr", addr }, { "flags", flags });
 *
 *	TRACE_INSTANT(m, TRACE_CAT_PIN, "pin", { "pfn", pfn }, { "refs", refs });
 *
 * Names and argument names must be string literals (or other storage that
 * outlives the machine): records keep the pointers.  At most
 * TRACE_MAX_ARGS arguments, signed 64-bit values.
 *
 * Each thread records into a buffer of its own (per machine), lock-free;
 * a full buffer drops and counts (doc/MEMORY-ORDERING.md "Trace buffers").
 */
#ifndef PINMM_TRACE_H
#define PINMM_TRACE_H

#include <stdint.h>

#include "atomic.h"
#include "compiler.h"

struct pinmm;

/* The "cat" field of each event; trace.c names them. */
enum trace_cat {
	TRACE_CAT_FAULT,	/* page faults, COW */
	TRACE_CAT_GUP,		/* get_user_pages* / pin_user_pages* calls */
	TRACE_CAT_PIN,		/* pin and unpin instants */
	TRACE_CAT_FORK,		/* copy_page_range at fork */
	TRACE_CAT_WRITEBACK,
	TRACE_CAT_RECLAIM,
	TRACE_CAT_MIGRATE,	/* migration, compaction, zone offlining */
	TRACE_CAT_LEASE,	/* layout lease breaks */
	TRACE_CAT_NOTIFIER,	/* mmu notifier invalidations */
	TRACE_CAT_DEVICE,	/* DIO, RDMA, ksmd, khugepaged work */
	NR_TRACE_CATS
};

#define TRACE_MAX_ARGS	4

struct trace_arg {
	const char *name;	/* NULL: unused slot */
	int64_t value;
};

/* Number of machines booted with trace.file; 0: every tracepoint is off. */
extern atomic_t pinmm_trace_users;

static inline bool trace_enabled(void)
{
	return unlikely(atomic_read(&pinmm_trace_users) != 0);
}

/* CLOCK_MONOTONIC in nanoseconds (the trace's clock, doc/TRACING.md). */
uint64_t trace_clock_ns(void);

/* A span being timed: @start is 0 when tracing was off at its beginning. */
struct trace_span {
	uint64_t start;
};

static inline void trace_span_begin(struct trace_span *sp)
{
	sp->start = trace_enabled() ? trace_clock_ns() : 0;
}

void __trace_span_end(struct pinmm *m, uint64_t start, enum trace_cat cat,
		      const char *name, const struct trace_arg *args);
void __trace_instant(struct pinmm *m, enum trace_cat cat, const char *name,
		     const struct trace_arg *args);

/* End @sp: one "X" event of machine @m, then the counters are sampled. */
#define TRACE_SPAN_END(m, sp, cat, name, ...) do {				\
	if (unlikely((sp)->start))						\
		__trace_span_end((m), (sp)->start, (cat), (name),		\
			(const struct trace_arg[TRACE_MAX_ARGS]){ __VA_ARGS__ }); \
} while (0)

/* One "i" event (thread scope) of machine @m, now. */
#define TRACE_INSTANT(m, cat, name, ...) do {					\
	if (trace_enabled())							\
		__trace_instant((m), (cat), (name),				\
			(const struct trace_arg[TRACE_MAX_ARGS]){ __VA_ARGS__ }); \
} while (0)

/*
 * trace_thread_name() - name the calling thread's track of machine @m
 * ("ksmd", "writeback", "rdma peer"): the "M" thread_name event.  @name
 * must outlive the machine (a literal).  No-op when @m does not trace.
 */
void trace_thread_name(struct pinmm *m, const char *name);

#endif /* PINMM_TRACE_H */
