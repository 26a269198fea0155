/* SPDX-License-Identifier: MIT */
/*
 * trace_json.c - a machine's trace buffers as one Trace Event Format file
 * (the JSON object form), written with json-c.  The schema is in
 * doc/TRACING.md; keep the two together.
 *
 *   {"traceEvents": [ M events naming the process and every thread track,
 *                     then every recorded event ordered by ts ],
 *    "displayTimeUnit": "ns",
 *    "otherData": { clock, counts, drops, buffer size, seed }}
 *
 * Timestamps are microseconds since the machine booted, with three decimals
 * (whole nanoseconds).  Events of equal ts are ordered longest first, so
 * that an enclosing span precedes the spans it contains.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "machine.h"
#include "trace_internal.h"

#define TRACE_PID	1	/* the machine is the file's one process */

const char *const trace_counter_names[NR_TRACE_COUNTERS] = {
	[TRACE_CTR_PINNED] = "pinned", [TRACE_CTR_DIRTY] = "dirty",
	[TRACE_CTR_FREE] = "free",
};

static const char *const cat_names[NR_TRACE_CATS + 1] = {
	[TRACE_CAT_FAULT] = "fault", [TRACE_CAT_GUP] = "gup", [TRACE_CAT_PIN] = "pin",
	[TRACE_CAT_FORK] = "fork", [TRACE_CAT_WRITEBACK] = "writeback",
	[TRACE_CAT_RECLAIM] = "reclaim", [TRACE_CAT_MIGRATE] = "migrate",
	[TRACE_CAT_LEASE] = "lease", [TRACE_CAT_NOTIFIER] = "notifier",
	[TRACE_CAT_DEVICE] = "device", [NR_TRACE_CATS] = "counter",
};

struct trace_ref {
	const struct trace_rec *r;
	int tid;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct trace_ref *x = a, *y = b;

	if (x->r->ts != y->r->ts)
		return x->r->ts < y->r->ts ? -1 : 1;
	if (x->r->ph == 'X' && y->r->ph == 'X' && x->r->dur != y->r->dur)
		return x->r->dur > y->r->dur ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->r < y->r ? -1 : x->r > y->r;	/* record order within a buffer */
}

/* ns as microseconds with three decimals, exactly (no binary rounding in the text). */
static struct json_object *json_us(uint64_t ns)
{
	char s[32];

	snprintf(s, sizeof(s), "%" PRIu64 ".%03u", ns / 1000, (unsigned)(ns % 1000));
	return json_object_new_double_s((double)ns / 1000.0, s);
}

static int add(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, key, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* Append @v to the array @a; a NULL @v (a failed allocation) is an error. */
static int push(struct json_object *a, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_array_add(a, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static struct json_object *meta_event(const char *what, int tid, const char *name)
{
	struct json_object *e = json_object_new_object(), *args = json_object_new_object();

	if (!e || !args || add(args, "name", json_object_new_string(name)) ||
	    add(e, "name", json_object_new_string(what)) ||
	    add(e, "cat", json_object_new_string("__metadata")) ||
	    add(e, "ph", json_object_new_string("M")) || add(e, "ts", json_us(0)) ||
	    add(e, "pid", json_object_new_int(TRACE_PID)) ||
	    add(e, "tid", json_object_new_int(tid)) || add(e, "args", args)) {
		json_object_put(e);
		return NULL;
	}
	return e;
}

static struct json_object *rec_event(const struct pinmm_trace *t, const struct trace_ref *ref)
{
	const struct trace_rec *r = ref->r;
	struct json_object *e = json_object_new_object(), *args = json_object_new_object();
	char ph[2] = { r->ph, 0 };
	int err;

	if (!e || !args)
		goto fail;
	err = add(e, "name", json_object_new_string(r->name)) ||
	      add(e, "cat", json_object_new_string(cat_names[r->cat])) ||
	      add(e, "ph", json_object_new_string(ph)) ||
	      add(e, "ts", json_us(r->ts - t->t0)) ||
	      add(e, "pid", json_object_new_int(TRACE_PID)) ||
	      add(e, "tid", json_object_new_int(ref->tid));
	if (!err && r->ph == 'X')
		err = add(e, "dur", json_us(r->dur));
	if (!err && r->ph == 'i')
		err = add(e, "s", json_object_new_string("t"));
	if (!err && r->ph == 'C')
		err = add(args, "pages", json_object_new_int64((int64_t)r->dur));
	for (int a = 0; !err && a < TRACE_MAX_ARGS; a++)
		if (r->args[a].name)
			err = add(args, r->args[a].name, json_object_new_int64(r->args[a].value));
	if (err || add(e, "args", args))
		goto fail;
	return e;
fail:
	json_object_put(args);
	json_object_put(e);
	return NULL;
}

static struct json_object *other_data(struct pinmm *m, const struct pinmm_trace *t,
				      long events, long dropped, int threads)
{
	struct json_object *o = json_object_new_object();

	if (!o || add(o, "generator", json_object_new_string("pinmm")) ||
	    add(o, "clock", json_object_new_string("CLOCK_MONOTONIC")) ||
	    add(o, "ts_origin", json_object_new_string("machine boot")) ||
	    add(o, "events", json_object_new_int64(events)) ||
	    add(o, "dropped_events", json_object_new_int64(dropped)) ||
	    add(o, "buffer_bytes", json_object_new_int64((int64_t)m->cfg.trace_buffer_size)) ||
	    add(o, "threads", json_object_new_int(threads)) ||
	    add(o, "seed", json_object_new_uint64(m->cfg.seed))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* The whole document; NULL on allocation failure. */
static struct json_object *trace_document(struct pinmm *m, struct pinmm_trace *t)
{
	struct json_object *root = json_object_new_object(), *ev = json_object_new_array();
	struct trace_ref *refs = NULL;
	long n = 0, cap = 0, dropped = atomic_long_read(&t->nomem_drops);
	int threads = 0;
	char tname[64];

	if (!root || !ev) {
		json_object_put(ev);
		goto fail_root;
	}
	if (add(root, "traceEvents", ev))	/* add() dropped @ev */
		goto fail_root;
	if (push(ev, meta_event("process_name", 0, "pinmm machine")))
		goto fail;
	/* T3: acquire the list, then each @head; records below it are complete. */
	for (struct trace_buf *b = atomic_load_explicit(&t->bufs, memory_order_acquire); b;
	     b = b->next) {
		unsigned long h = atomic_load_explicit(&b->head, memory_order_acquire);
		const char *name = atomic_load_explicit(&b->name, memory_order_relaxed);
		struct trace_ref *nr;

		threads++;
		dropped += atomic_long_read(&b->dropped);
		if (!name) {
			snprintf(tname, sizeof(tname), "thread %d (cpu %d)", b->host_tid, b->cpu);
			name = tname;
		}
		if (push(ev, meta_event("thread_name", b->tid, name)))
			goto fail;
		if (n + (long)h > cap) {
			cap = (n + (long)h) * 2 + 16;
			nr = realloc(refs, (size_t)cap * sizeof(*refs));
			if (!nr)
				goto fail;
			refs = nr;
		}
		for (unsigned long i = 0; i < h; i++)
			refs[n++] = (struct trace_ref){ &b->rec[i], b->tid };
	}
	if (n)	/* refs is NULL when no thread recorded anything */
		qsort(refs, (size_t)n, sizeof(*refs), ref_cmp);
	for (long i = 0; i < n; i++)
		if (push(ev, rec_event(t, &refs[i])))
			goto fail;
	free(refs);
	if (add(root, "displayTimeUnit", json_object_new_string("ns")) ||
	    add(root, "otherData", other_data(m, t, n, dropped, threads)))
		goto fail_root;
	return root;
fail:
	free(refs);
fail_root:
	json_object_put(root);
	return NULL;
}

/**
 * trace_write_file() - write @t's published events to t->path.
 * @m: the machine
 * @t: its trace
 *
 * Context: under t->flush_lock.
 * Return: 0, -ENOMEM, or the -errno of fopen()/fwrite()/fclose().
 */
int trace_write_file(struct pinmm *m, struct pinmm_trace *t)
{
	struct json_object *root = trace_document(m, t);
	const char *s;
	size_t len;
	FILE *f;
	int ret = 0;

	if (!root)
		return -ENOMEM;
	s = json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (!s) {
		json_object_put(root);
		return -ENOMEM;
	}
	f = fopen(t->path, "w");
	if (!f) {
		ret = -errno;
	} else {
		if (fwrite(s, 1, len, f) != len || fputc('\n', f) == EOF)
			ret = -(errno ? errno : EIO);
		if (fclose(f) && !ret)
			ret = -(errno ? errno : EIO);
	}
	json_object_put(root);
	return ret;
}
