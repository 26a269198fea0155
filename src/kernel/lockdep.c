/* SPDX-License-Identifier: MIT */
/*
 * lockdep.c - the lock validator (Linux's kernel/locking/lockdep.c, in a
 * much smaller form): lock classes, a per-thread stack of held locks and a
 * process-wide dependency graph of classes, checked on every acquire.
 *
 * Owns: the class table, the graph (an edge "A -> B" means some thread
 * took a lock of class B while holding one of class A; the first time is
 * recorded with both acquisition sites), the report counters and the text
 * of the latest report.  All of them live for the process, across every
 * machine booted in it ("the order graph across all runs").
 *
 * Locking: graph_lock (a raw pthread mutex: the validator cannot validate
 * itself) serialises class registration, edge insertion, the cycle search
 * and reports.  The fast path takes no lock: a class index is published
 * with a release store (key->class_idx, map->class_idx, class->sub[]) after
 * the class is filled in, and an edge is looked up in edge_hash, whose
 * slots go once from 0 to their final value (release) and are never
 * cleared.  Per-thread state (held locks, RCU nesting) is thread-local.
 *
 * What is checked, and what Linux checks that pinmm does not: doc/DESIGN.md
 * ("Lock validator"); how to read a report: doc/LOCKING.md.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lockdep.h"
#include "locking.h"
#include "machine.h"

/* Reports so far, per kind; [NR_LOCKDEP_REPORTS] is the total. */
static atomic_long_t report_counts[NR_LOCKDEP_REPORTS + 1];

/**
 * lockdep_report_count() - reports made since the process started.
 * @kind: one kind, or NR_LOCKDEP_REPORTS for all of them together.
 *
 * Every distinct problem is reported (and counted) once.
 *
 * Context: any; lock-free.
 * Return: the count; 0 for a @kind out of range.
 */
long lockdep_report_count(enum lockdep_report kind)
{
	if ((unsigned int)kind > NR_LOCKDEP_REPORTS)
		return 0;
	return atomic_long_read(&report_counts[kind]);
}

/**
 * lockdep_enabled() - whether this build validates locks.
 *
 * Context: any.
 * Return: true with CONFIG_LOCKDEP (meson option lockdep).
 */
bool lockdep_enabled(void)
{
	return CONFIG_LOCKDEP;
}

#if CONFIG_LOCKDEP

#define MAX_LOCKDEP_CLASSES	4096U
#define MAX_LOCK_DEPTH		48
#define EDGE_HASH_SIZE		32768U		/* power of two */
#define MAX_REPORT_SIGS		1024U
#define REPORT_BYTES		8192U

struct lock_edge {
	unsigned int to;			/* class index */
	const struct lockdep_site *prev_site;	/* where the held lock was taken */
	const struct lockdep_site *next_site;	/* where the new lock was taken */
	int tid;				/* the thread that did it first */
};

struct lock_class {
	const void *key;		/* a lock_class_key, or a static lock */
	const char *name;
	unsigned int subclass;
	enum lockdep_lock_kind kind;
	/* Class index of each subclass (sub[0]: the subclass-0 class). */
	_Atomic unsigned int sub[MAX_LOCKDEP_SUBCLASSES];
	struct lock_edge *edges;	/* graph_lock */
	unsigned int nr_edges, max_edges;
};

/* Index 0 is "no class". */
static struct lock_class classes[MAX_LOCKDEP_CLASSES];
static unsigned int nr_classes = 1;		/* graph_lock */
static pthread_mutex_t graph_lock = PTHREAD_MUTEX_INITIALIZER;

/* (from << 32 | to) of every edge; 0: empty slot.  Written under graph_lock. */
static _Atomic uint64_t edge_hash[EDGE_HASH_SIZE];
static unsigned int nr_edges;			/* graph_lock */

struct report_sig {
	enum lockdep_report kind;
	uintptr_t a, b;
};
static struct report_sig report_sigs[MAX_REPORT_SIGS];	/* graph_lock */
static unsigned int nr_report_sigs;
static char report_buf[REPORT_BYTES];			/* graph_lock */
static size_t report_len;
static char last_report[REPORT_BYTES];			/* graph_lock */

struct held_lock {
	const void *instance;
	unsigned int class_idx;
	enum lockdep_lock_kind kind;
	bool read;
	bool trylock;
	const struct lockdep_site *site;
};

static __thread struct held_lock held_locks[MAX_LOCK_DEPTH];
static __thread int held_depth;
static __thread bool held_overflow;		/* stopped tracking this thread */
static __thread int rcu_depth;
static __thread const struct lockdep_site *rcu_site;	/* outermost rcu_read_lock() */
static __thread bool exit_hooked;

static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
static bool dump_registered;			/* graph_lock */

/* ------------------------------------------------------------------ */
/* Reports                                                              */

static __printf(1, 2) void rp(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (report_len >= sizeof(report_buf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(report_buf + report_len, sizeof(report_buf) - report_len, fmt, ap);
	va_end(ap);
	if (n > 0)
		report_len = min(report_len + (size_t)n, sizeof(report_buf) - 1);
}

static void rp_site(const struct lockdep_site *s)
{
	if (s)
		rp("%s:%d (%s)", s->file, s->line, s->func);
	else
		rp("?");
}

static const char *class_name(unsigned int idx)
{
	return idx && idx < MAX_LOCKDEP_CLASSES && classes[idx].name ? classes[idx].name : "?";
}

/* Whether @kind/@a/@b was reported before; records it if not.  graph_lock. */
static bool report_seen(enum lockdep_report kind, uintptr_t a, uintptr_t b)
{
	unsigned int i;

	for (i = 0; i < nr_report_sigs; i++)
		if (report_sigs[i].kind == kind && report_sigs[i].a == a && report_sigs[i].b == b)
			return true;
	if (nr_report_sigs < MAX_REPORT_SIGS)
		report_sigs[nr_report_sigs++] = (struct report_sig){ kind, a, b };
	return false;
}

/* Start a report under graph_lock: the banner in Linux's words. */
static void report_begin(const char *banner)
{
	size_t i, n = strlen(banner);

	report_len = 0;
	rp("\n");
	for (i = 0; i < n; i++)
		rp("=");
	rp("\n%s\n", banner);
	for (i = 0; i < n; i++)
		rp("-");
	rp("\n");
}

static void rp_held_locks(void)
{
	int i;

	if (!held_depth) {
		rp("no locks held by thread %d.\n", pinmm_tid());
		return;
	}
	rp("%d lock%s held by thread %d:\n", held_depth, held_depth > 1 ? "s" : "", pinmm_tid());
	for (i = 0; i < held_depth; i++) {
		rp(" #%d: %s%s, taken at ", i, class_name(held_locks[i].class_idx),
		   held_locks[i].read ? " (read)" : held_locks[i].trylock ? " (trylock)" : "");
		rp_site(held_locks[i].site);
		rp("\n");
	}
}

/*
 * Finish the report under graph_lock: count it, keep its text, print it
 * through the WARN machinery (counted as a WARN; printed unless every
 * booted machine is quiet).  With PINMM_LOCKDEP_STRICT=1 in the
 * environment (the test suite's setting) it is always printed and the
 * process aborts: a report fails the test that caused it.
 */
static void report_end(enum lockdep_report kind)
{
	const char *strict = getenv("PINMM_LOCKDEP_STRICT");
	bool fatal = strict && strcmp(strict, "1") == 0;

	memcpy(last_report, report_buf, report_len + 1);
	atomic_long_inc(&report_counts[kind]);
	atomic_long_inc(&report_counts[NR_LOCKDEP_REPORTS]);
	pinmm_count_warn();
	if (fatal || !pinmm_machines_quiet()) {
		fflush(stdout);
		fprintf(stderr, "pinmm: lockdep:%s", report_buf);
		fflush(stderr);
	}
	if (fatal) {
		fprintf(stderr, "pinmm: lockdep: PINMM_LOCKDEP_STRICT=1: aborting\n");
		abort();
	}
}

/**
 * lockdep_last_report() - the text of the latest report.
 * @buf: where to copy it (NUL-terminated, truncated to @size)
 * @size: bytes at @buf
 *
 * Context: any; takes the graph lock.
 * Return: the length of the whole text (0: no report yet).
 */
size_t lockdep_last_report(char *buf, size_t size)
{
	size_t n;

	pthread_mutex_lock(&graph_lock);
	n = strlen(last_report);
	if (size) {
		size_t c = min(n, size - 1);

		memcpy(buf, last_report, c);
		buf[c] = '\0';
	}
	pthread_mutex_unlock(&graph_lock);
	return n;
}

/* A table of the validator is full: say so once; graph_lock held. */
static void report_overflow(const char *what)
{
	if (report_seen(LOCKDEP_OVERFLOW, (uintptr_t)what, 0))
		return;
	report_begin("BUG: lockdep table overflow");
	rp("%s is full: the validator stops adding to it\n", what);
	report_end(LOCKDEP_OVERFLOW);
}

/* ------------------------------------------------------------------ */
/* Classes                                                              */

static void graph_dump_at_exit(void);

/* Register the class @key/@subclass; graph_lock held.  0 when full. */
static unsigned int register_class(const void *key, const char *name, unsigned int subclass,
				   enum lockdep_lock_kind kind)
{
	struct lock_class *c;
	unsigned int i;

	for (i = 1; i < nr_classes; i++)
		if (classes[i].key == key && classes[i].subclass == subclass)
			return i;
	if (nr_classes >= MAX_LOCKDEP_CLASSES) {
		report_overflow("the class table (MAX_LOCKDEP_CLASSES)");
		return 0;
	}
	if (!dump_registered) {
		dump_registered = true;
		if (getenv("PINMM_LOCKDEP_GRAPH"))
			atexit(graph_dump_at_exit);
	}
	c = &classes[nr_classes];
	c->key = key;
	c->subclass = subclass;
	c->kind = kind;
	if (subclass) {
		char *n = malloc(strlen(name) + 12);

		if (n)
			sprintf(n, "%s/%u", name, subclass);
		c->name = n ? n : name;
	} else {
		c->name = name;
	}
	if (!subclass)
		atomic_store_explicit(&c->sub[0], nr_classes, memory_order_relaxed);
	return nr_classes++;
}

/**
 * lockdep_init_map() - give a lock the class of @key.
 * @map: the lock's map
 * @name: the class name (the stringified lock of the init site)
 * @key: the init site's static key
 * @kind: the lock's type
 *
 * Called by the init macros of locking.h and by lockdep_set_class().  The
 * first lock of a key registers the class; later ones only read it.
 *
 * Context: any; takes the graph lock the first time a key is seen.
 */
void lockdep_init_map(struct lockdep_map *map, const char *name,
		      struct lock_class_key *key, enum lockdep_lock_kind kind)
{
	unsigned int idx = atomic_load_explicit(&key->class_idx, memory_order_acquire);

	if (unlikely(!idx)) {
		pthread_mutex_lock(&graph_lock);
		idx = atomic_load_explicit(&key->class_idx, memory_order_relaxed);
		if (!idx) {
			idx = register_class(key, name, 0, kind);
			atomic_store_explicit(&key->class_idx, idx, memory_order_release);
		}
		pthread_mutex_unlock(&graph_lock);
	}
	atomic_store_explicit(&map->class_idx, idx, memory_order_release);
}

/*
 * The class of a lock that no init macro saw (DEFINE_MUTEX(),
 * DEFINE_SPINLOCK(), a static initialiser): keyed by the lock's own
 * address, as Linux does for static locks.  A spinlock has no name: its
 * class is named after the site of its first acquisition.
 */
static unsigned int static_class(struct lockdep_map *map, const char *name,
				 const void *instance, enum lockdep_lock_kind kind,
				 const struct lockdep_site *site)
{
	unsigned int idx;

	pthread_mutex_lock(&graph_lock);
	idx = atomic_load_explicit(&map->class_idx, memory_order_relaxed);
	if (!idx) {
		if (!name) {
			char *n = malloc(256);

			if (n)
				snprintf(n, 256, "lock@%s:%d", site ? site->file : "?",
					 site ? site->line : 0);
			name = n ? n : "(static lock)";
		}
		idx = register_class(instance, name, 0, kind);
		atomic_store_explicit(&map->class_idx, idx, memory_order_release);
	}
	pthread_mutex_unlock(&graph_lock);
	return idx;
}

/* The class of subclass @sub of class @base (a *_nested() acquire). */
static unsigned int subclass_of(unsigned int base, unsigned int sub)
{
	unsigned int idx;

	if (sub >= MAX_LOCKDEP_SUBCLASSES)
		sub = MAX_LOCKDEP_SUBCLASSES - 1;
	idx = atomic_load_explicit(&classes[base].sub[sub], memory_order_acquire);
	if (likely(idx))
		return idx;
	pthread_mutex_lock(&graph_lock);
	idx = atomic_load_explicit(&classes[base].sub[sub], memory_order_relaxed);
	if (!idx) {
		idx = register_class(classes[base].key, classes[base].name, sub, classes[base].kind);
		atomic_store_explicit(&classes[base].sub[sub], idx, memory_order_release);
	}
	pthread_mutex_unlock(&graph_lock);
	return idx ? idx : base;
}

static unsigned int class_of(struct lockdep_map *map, const char *static_name,
			     const void *instance, enum lockdep_lock_kind kind,
			     unsigned int subclass, const struct lockdep_site *site)
{
	unsigned int idx = atomic_load_explicit(&map->class_idx, memory_order_acquire);

	if (unlikely(!idx))
		idx = static_class(map, static_name, instance, kind, site);
	if (subclass && idx)
		idx = subclass_of(idx, subclass);
	return idx;
}

/* ------------------------------------------------------------------ */
/* The dependency graph                                                 */

static unsigned int edge_slot(uint64_t k)
{
	k ^= k >> 29;
	k *= 0xbf58476d1ce4e5b9ull;
	k ^= k >> 32;
	return (unsigned int)k & (EDGE_HASH_SIZE - 1);
}

/* Whether the edge @from -> @to is in the graph.  Lock-free. */
static bool edge_known(unsigned int from, unsigned int to)
{
	uint64_t k = (uint64_t)from << 32 | to;
	unsigned int i;

	for (i = edge_slot(k);; i = (i + 1) & (EDGE_HASH_SIZE - 1)) {
		uint64_t v = atomic_load_explicit(&edge_hash[i], memory_order_acquire);

		if (v == k)
			return true;
		if (!v)
			return false;
	}
}

/* Breadth-first search state; graph_lock. */
static unsigned int bfs_queue[MAX_LOCKDEP_CLASSES];
static unsigned int bfs_seen[MAX_LOCKDEP_CLASSES];	/* == bfs_gen: visited */
static struct lock_edge *bfs_via[MAX_LOCKDEP_CLASSES];	/* the edge into it */
static unsigned int bfs_from[MAX_LOCKDEP_CLASSES];
static unsigned int bfs_gen;

/* Whether @target is reachable from @start; fills bfs_via/bfs_from. */
static bool graph_reaches(unsigned int start, unsigned int target)
{
	unsigned int head = 0, tail = 0;

	bfs_gen++;
	bfs_seen[start] = bfs_gen;
	bfs_queue[tail++] = start;
	while (head < tail) {
		unsigned int c = bfs_queue[head++], e;

		if (c == target)
			return true;
		for (e = 0; e < classes[c].nr_edges; e++) {
			struct lock_edge *edge = &classes[c].edges[e];

			if (bfs_seen[edge->to] == bfs_gen)
				continue;
			bfs_seen[edge->to] = bfs_gen;
			bfs_via[edge->to] = edge;
			bfs_from[edge->to] = c;
			bfs_queue[tail++] = edge->to;
		}
	}
	return false;
}

/* Print the path graph_reaches() found from @start to @target, in order. */
static void rp_path(unsigned int start, unsigned int target)
{
	unsigned int path[MAX_LOCKDEP_CLASSES], n = 0, c;

	for (c = target; c != start && n < MAX_LOCKDEP_CLASSES; c = bfs_from[c])
		path[n++] = c;
	while (n--) {
		struct lock_edge *e = bfs_via[path[n]];

		rp("-> %s (taken at ", class_name(bfs_from[path[n]]));
		rp_site(e->prev_site);
		rp(")\n   then %s (taken at ", class_name(path[n]));
		rp_site(e->next_site);
		rp(", thread %d)\n", e->tid);
	}
}

static void report_circular(const struct held_lock *prev, unsigned int next,
			    const struct lockdep_site *site)
{
	report_begin("WARNING: possible circular locking dependency detected");
	rp("thread %d is trying to acquire lock:\n  %s, at ", pinmm_tid(), class_name(next));
	rp_site(site);
	rp("\nbut it already holds lock:\n  %s, taken at ", class_name(prev->class_idx));
	rp_site(prev->site);
	rp("\nwhich lock already depends on the new lock.\n\n"
	   "the existing dependency chain (recorded earlier) is:\n");
	rp_path(next, prev->class_idx);
	rp("\nother info that might help us debug this:\n");
	rp_held_locks();
	rp("\n Possible unsafe locking scenario:\n\n"
	   "       CPU0                    CPU1\n"
	   "       ----                    ----\n"
	   "  lock(%s);\n"
	   "                               lock(%s);\n"
	   "                               lock(%s);\n"
	   "  lock(%s);\n\n *** DEADLOCK ***\n",
	   class_name(prev->class_idx), class_name(next), class_name(prev->class_idx),
	   class_name(next));
	report_end(LOCKDEP_CIRCULAR);
}

/* Record @prev -> @next unless it closes a cycle (then report it). */
static void add_dependency(const struct held_lock *prev, unsigned int next,
			   const struct lockdep_site *site)
{
	struct lock_class *c = &classes[prev->class_idx];
	uint64_t k = (uint64_t)prev->class_idx << 32 | next;
	unsigned int i;

	pthread_mutex_lock(&graph_lock);
	if (edge_known(prev->class_idx, next))
		goto out;
	if (graph_reaches(next, prev->class_idx)) {
		if (!report_seen(LOCKDEP_CIRCULAR, prev->class_idx, next))
			report_circular(prev, next, site);
		goto out;
	}
	if (nr_edges >= EDGE_HASH_SIZE / 2) {
		report_overflow("the dependency table (EDGE_HASH_SIZE)");
		goto out;
	}
	if (c->nr_edges == c->max_edges) {
		unsigned int max = c->max_edges ? 2 * c->max_edges : 8;
		struct lock_edge *e = realloc(c->edges, max * sizeof(*e));

		if (!e)
			goto out;
		c->edges = e;
		c->max_edges = max;
	}
	c->edges[c->nr_edges++] = (struct lock_edge){
		.to = next, .prev_site = prev->site, .next_site = site, .tid = pinmm_tid(),
	};
	nr_edges++;
	for (i = edge_slot(k); atomic_load_explicit(&edge_hash[i], memory_order_relaxed);
	     i = (i + 1) & (EDGE_HASH_SIZE - 1))
		;
	atomic_store_explicit(&edge_hash[i], k, memory_order_release);
out:
	pthread_mutex_unlock(&graph_lock);
}

/* ------------------------------------------------------------------ */
/* Acquire and release                                                  */

static void thread_exit_hook(void *arg)
{
	(void)arg;
	lockdep_thread_exit("thread exit");
}

static void exit_key_create(void)
{
	BUG_ON(pthread_key_create(&exit_key, thread_exit_hook) != 0);
}

/* Check the thread's locks when it exits (a pthread key destructor). */
static void hook_thread_exit(void)
{
	exit_hooked = true;
	pthread_once(&exit_key_once, exit_key_create);
	BUG_ON(pthread_setspecific(exit_key, (void *)1) != 0);
}

/*
 * A class taken again while held: Linux's check_deadlock().  Allowed when
 * the caller holds @nest_lock (down_write_nest_lock()) and the lock itself
 * is not the held one.
 */
static bool check_recursion(unsigned int cls, const void *instance, bool read,
			    const void *nest_lock, const struct lockdep_site *site)
{
	int i;

	for (i = 0; i < held_depth; i++) {
		const struct held_lock *h = &held_locks[i];

		if (h->class_idx != cls)
			continue;
		if (nest_lock && h->instance != instance && lock_is_held_by_me(nest_lock))
			continue;
		pthread_mutex_lock(&graph_lock);
		if (!report_seen(LOCKDEP_RECURSION, cls, (uintptr_t)site)) {
			report_begin("WARNING: possible recursive locking detected");
			rp("thread %d is trying to acquire lock:\n  %s%s, at ", pinmm_tid(),
			   class_name(cls), read ? " (read)" : "");
			rp_site(site);
			rp("\nbut it already holds lock:\n  %s%s, taken at ", class_name(cls),
			   h->read ? " (read)" : "");
			rp_site(h->site);
			rp("\n%s\n", h->instance == instance ?
			   "the same lock: a self-deadlock." :
			   "another lock of the same class: annotate a legitimate nesting with "
			   "the *_nested() forms or lockdep_set_class().");
			rp_held_locks();
			report_end(LOCKDEP_RECURSION);
		}
		pthread_mutex_unlock(&graph_lock);
		return false;
	}
	return true;
}

/**
 * lock_acquire() - the validator's hook before a lock is taken (after, for
 * a trylock that succeeded).
 * @map: the lock's map
 * @static_name: the class name if the lock has no class yet (static locks)
 * @instance: the lock
 * @kind: its type
 * @subclass: 0, or the nesting level of a *_nested() call
 * @read: a shared (rwsem read) acquisition
 * @trylock: a trylock that succeeded: no dependency on the held locks
 * @nest_lock: NULL, or a lock whose holder may take many locks of this class
 * @site: the call site
 *
 * Checks recursion on the class and records an edge from the held locks
 * (down to the most recent one not taken by trylock, as Linux) to the
 * class, reporting a cycle; then pushes the lock on the thread's stack.
 * This is where a controlled scheduler hooks a scheduling point.
 *
 * Context: any thread; may take the graph lock.
 */
void lock_acquire(struct lockdep_map *map, const char *static_name, const void *instance,
		  enum lockdep_lock_kind kind, unsigned int subclass, bool read,
		  bool trylock, const void *nest_lock, const struct lockdep_site *site)
{
	unsigned int cls;
	struct held_lock *h;
	int i;

	if (unlikely(!exit_hooked))
		hook_thread_exit();
	if (unlikely(held_overflow))
		return;
	cls = class_of(map, static_name, instance, kind, subclass, site);
	if (unlikely(!cls))
		return;
	if (!trylock && check_recursion(cls, instance, read, nest_lock, site)) {
		for (i = held_depth - 1; i >= 0; i--) {
			if (held_locks[i].class_idx != cls &&	/* nest_lock siblings */
			    !edge_known(held_locks[i].class_idx, cls))
				add_dependency(&held_locks[i], cls, site);
			if (!held_locks[i].trylock)
				break;
		}
	}
	if (unlikely(held_depth == MAX_LOCK_DEPTH)) {
		pthread_mutex_lock(&graph_lock);
		report_overflow("a thread's held-lock stack (MAX_LOCK_DEPTH)");
		pthread_mutex_unlock(&graph_lock);
		held_overflow = true;
		return;
	}
	h = &held_locks[held_depth++];
	*h = (struct held_lock){
		.instance = instance, .class_idx = cls, .kind = kind,
		.read = read, .trylock = trylock, .site = site,
	};
}

/**
 * lock_release() - the validator's hook before a lock is released.
 * @map: the lock's map
 * @instance: the lock
 * @site: the call site
 *
 * A lock this thread does not hold (never taken, taken by another thread,
 * released twice) is reported; the caller then leaves the lock alone.
 *
 * Context: any thread.
 * Return: true if the thread held @instance (now popped), else false.
 */
bool lock_release(struct lockdep_map *map, const void *instance,
		  const struct lockdep_site *site)
{
	int i;

	for (i = held_depth - 1; i >= 0; i--) {
		if (held_locks[i].instance != instance)
			continue;
		memmove(&held_locks[i], &held_locks[i + 1],
			(size_t)(held_depth - i - 1) * sizeof(held_locks[0]));
		held_depth--;
		return true;
	}
	if (held_overflow)
		return true;	/* untracked: cannot tell */
	pthread_mutex_lock(&graph_lock);
	if (!report_seen(LOCKDEP_BAD_UNLOCK, (uintptr_t)site, 0)) {
		report_begin("WARNING: bad unlock balance detected!");
		rp("thread %d is trying to release lock %s at ", pinmm_tid(),
		   class_name(atomic_load_explicit(&map->class_idx, memory_order_acquire)));
		rp_site(site);
		rp("\nbut it does not hold it (never taken, taken by another thread, or "
		   "released twice); the lock is left as it is.\n");
		rp_held_locks();
		report_end(LOCKDEP_BAD_UNLOCK);
	}
	pthread_mutex_unlock(&graph_lock);
	return false;
}

/**
 * lock_is_held_by_me() - whether the calling thread holds @instance.
 * @instance: a lock
 *
 * Context: any; looks at the thread's own stack only.
 * Return: true if it is on the thread's held-lock stack.
 */
bool lock_is_held_by_me(const void *instance)
{
	int i;

	for (i = 0; i < held_depth; i++)
		if (held_locks[i].instance == instance)
			return true;
	return false;
}

/**
 * lockdep_depth() - how many locks the calling thread holds.
 *
 * Context: any.
 * Return: the depth of its held-lock stack.
 */
int lockdep_depth(void)
{
	return held_depth;
}

/**
 * lockdep_might_sleep() - a sleep is about to happen at @site.
 * @site: the call site of the sleeping operation
 * @what: the operation, for the report
 *
 * Reports a sleep inside an RCU read-side section (naming the outermost
 * rcu_read_lock()) or while holding a spinlock (naming where it was taken),
 * once per rcu_read_lock() site or spinlock acquisition site: the first
 * sleep of such a section stands for the others.
 * Called by mutex and rwsem acquisitions, the wait_event*() family,
 * synchronize_rcu(), rcu_barrier() and might_sleep().
 *
 * Context: any thread.
 */
void lockdep_might_sleep(const struct lockdep_site *site, const char *what)
{
	const struct held_lock *spin = NULL;
	int i;

	for (i = held_depth - 1; i >= 0 && !spin; i--)
		if (held_locks[i].kind == LD_SPIN)
			spin = &held_locks[i];
	if (likely(!spin && !rcu_depth))
		return;
	pthread_mutex_lock(&graph_lock);
	if (rcu_depth && !report_seen(LOCKDEP_SLEEP_RCU, (uintptr_t)rcu_site, 0)) {
		report_begin("BUG: sleeping function called from invalid context");
		rp("%s at ", what);
		rp_site(site);
		rp("\nthread %d, RCU read-side nesting %d, expected 0:\n"
		   "rcu_read_lock() taken at ", pinmm_tid(), rcu_depth);
		rp_site(rcu_site);
		rp("\n");
		rp_held_locks();
		report_end(LOCKDEP_SLEEP_RCU);
	}
	if (spin && !report_seen(LOCKDEP_SLEEP_SPIN, (uintptr_t)spin->site, spin->class_idx)) {
		report_begin("BUG: sleeping function called from invalid context");
		rp("%s at ", what);
		rp_site(site);
		rp("\nthread %d holds spinlock %s, taken at ", pinmm_tid(),
		   class_name(spin->class_idx));
		rp_site(spin->site);
		rp("\n");
		rp_held_locks();
		report_end(LOCKDEP_SLEEP_SPIN);
	}
	pthread_mutex_unlock(&graph_lock);
}

/**
 * lockdep_rcu_read_lock() - rcu_read_lock() was called at @site.
 * @site: its call site
 *
 * Context: any thread, after entering the read-side section.
 */
void lockdep_rcu_read_lock(const struct lockdep_site *site)
{
	if (!rcu_depth++)
		rcu_site = site;
}

/**
 * lockdep_rcu_read_unlock() - rcu_read_unlock() is being called.
 *
 * Context: any thread, inside a read-side section.
 */
void lockdep_rcu_read_unlock(void)
{
	if (rcu_depth)
		rcu_depth--;
}

/**
 * lockdep_thread_exit() - the calling thread ends: it must hold no lock.
 * @who: the thread's exit point, for the report
 *
 * Called by every thread's pthread key destructor (any thread that took a
 * lock) and by the exit points of the simulated kernel threads.  Each held
 * lock is reported (once per class) and forgotten.
 *
 * Context: the exiting thread.
 */
void lockdep_thread_exit(const char *who)
{
	if (!held_depth && !rcu_depth)
		return;
	pthread_mutex_lock(&graph_lock);
	if (!report_seen(LOCKDEP_HELD_AT_EXIT,
			 held_depth ? held_locks[0].class_idx : 0, (uintptr_t)rcu_site)) {
		report_begin("WARNING: a thread is exiting with locks still held!");
		rp("thread %d, at %s:\n", pinmm_tid(), who);
		rp_held_locks();
		if (rcu_depth) {
			rp("and an RCU read-side section (nesting %d) entered at ", rcu_depth);
			rp_site(rcu_site);
			rp("\n");
		}
		report_end(LOCKDEP_HELD_AT_EXIT);
	}
	pthread_mutex_unlock(&graph_lock);
	held_depth = 0;
	rcu_depth = 0;
}

/* ------------------------------------------------------------------ */
/* The graph as DOT                                                     */

/**
 * lockdep_graph_dump() - write the class dependency graph in DOT.
 * @f: the stream
 *
 * One node per class (label: the class name), one edge per dependency
 * (label: where the second lock was first taken under the first).
 *
 * Context: any; takes the graph lock.
 * Return: 0, or -EIO if writing failed.
 */
int lockdep_graph_dump(FILE *f)
{
	unsigned int i, e;

	pthread_mutex_lock(&graph_lock);
	fprintf(f, "digraph lockdep {\n");
	for (i = 1; i < nr_classes; i++)
		fprintf(f, "  c%u [label=\"%s\"];\n", i, classes[i].name);
	for (i = 1; i < nr_classes; i++)
		for (e = 0; e < classes[i].nr_edges; e++) {
			const struct lockdep_site *s = classes[i].edges[e].next_site;

			fprintf(f, "  c%u -> c%u [label=\"%s:%d\"];\n", i, classes[i].edges[e].to,
				s ? s->file : "?", s ? s->line : 0);
		}
	fprintf(f, "}\n");
	pthread_mutex_unlock(&graph_lock);
	return ferror(f) ? -EIO : 0;
}

/* atexit(): PINMM_LOCKDEP_GRAPH=FILE gets the graph. */
static void graph_dump_at_exit(void)
{
	const char *path = getenv("PINMM_LOCKDEP_GRAPH");
	FILE *f;

	if (!path || !*path)
		return;
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "pinmm: lockdep: cannot write %s\n", path);
		return;
	}
	lockdep_graph_dump(f);
	fclose(f);
}

#else /* !CONFIG_LOCKDEP */

/**
 * lockdep_last_report() - no validator in this build: no report.
 * @buf: set to ""
 * @size: bytes at @buf
 *
 * Context: any.
 * Return: 0.
 */
size_t lockdep_last_report(char *buf, size_t size)
{
	if (size)
		buf[0] = '\0';
	return 0;
}

/**
 * lockdep_graph_dump() - no validator in this build: an empty graph.
 * @f: the stream
 *
 * Context: any.
 * Return: 0, or -EIO if writing failed.
 */
int lockdep_graph_dump(FILE *f)
{
	fprintf(f, "digraph lockdep {\n}\n");
	return ferror(f) ? -EIO : 0;
}

#endif /* CONFIG_LOCKDEP */
