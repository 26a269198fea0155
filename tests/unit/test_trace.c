/* SPDX-License-Identifier: MIT */
/*
 * test_trace.c - trace files (doc/TRACING.md): a workload with tracing on
 * (faults, a GUP-fast pin that faults, unpin, fork and COW, a dirtying
 * store into a pinfs file and its writeback), the file parsed back with
 * json-c and checked for structure (every event's fields, B/E balance and
 * non-decreasing ts per track, X durations >= 0, a thread_name for every
 * tid) and for the order of known events.  Also: full buffers drop and
 * count, pinmm_trace_flush() errors, no file without trace.file.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <json-c/json.h>

#include "gup_helpers.h"

struct ev {
	const char *name, *cat;
	char ph;
	double ts, dur;
	long tid;
	struct json_object *args;
};

struct trace {
	struct json_object *root;
	struct ev *ev;
	int n;
	long events, dropped;
};

static char trace_path[256];

static void trace_path_init(const char *tag)
{
	const char *dir = getenv("TMPDIR");

	snprintf(trace_path, sizeof(trace_path), "%s/pinmm-test-trace-%s-%d.json",
		 dir ? dir : "/tmp", tag, (int)getpid());
	unlink(trace_path);
}

static struct json_object *field(struct json_object *o, const char *key, enum json_type t)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, t))
		fail_msg("event %s: no %s of type %s", json_object_to_json_string(o), key,
			 json_type_to_name(t));
	return v;
}

static double number(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		fail_msg("event %s: %s is not a number", json_object_to_json_string(o), key);
	return json_object_get_double(v);
}

static long arg(const struct ev *e, const char *key)
{
	return json_object_get_int64(field(e->args, key, json_type_int));
}

/*
 * Parse and check the structure: every rule of doc/TRACING.md "The
 * schema" that holds for any trace.
 */
static void trace_load(struct trace *t)
{
	struct json_object *evs, *other;
	long tid_named[64] = { 0 }, nonmeta = 0;
	int nnamed = 0;

	memset(t, 0, sizeof(*t));
	t->root = json_object_from_file(trace_path);
	if (!t->root)
		fail_msg("%s: not JSON: %s", trace_path, json_util_get_last_err());
	evs = field(t->root, "traceEvents", json_type_array);
	assert_string_equal(json_object_get_string(field(t->root, "displayTimeUnit",
							 json_type_string)), "ns");
	other = field(t->root, "otherData", json_type_object);
	t->events = json_object_get_int64(field(other, "events", json_type_int));
	t->dropped = json_object_get_int64(field(other, "dropped_events", json_type_int));
	assert_string_equal(json_object_get_string(field(other, "clock", json_type_string)),
			    "CLOCK_MONOTONIC");
	t->n = (int)json_object_array_length(evs);
	t->ev = calloc((size_t)t->n + 1, sizeof(*t->ev));
	assert_non_null(t->ev);
	for (int i = 0; i < t->n; i++) {
		struct json_object *o = json_object_array_get_idx(evs, (size_t)i);
		struct ev *e = &t->ev[i];
		const char *ph = json_object_get_string(field(o, "ph", json_type_string));

		assert_int_equal(strlen(ph), 1);
		e->ph = ph[0];
		e->name = json_object_get_string(field(o, "name", json_type_string));
		e->cat = json_object_get_string(field(o, "cat", json_type_string));
		e->ts = number(o, "ts");
		e->tid = json_object_get_int64(field(o, "tid", json_type_int));
		assert_int_equal(json_object_get_int(field(o, "pid", json_type_int)), 1);
		e->args = field(o, "args", json_type_object);
		assert_true(e->ts >= 0);
		switch (e->ph) {
		case 'X':
			e->dur = number(o, "dur");
			assert_true(e->dur >= 0);
			break;
		case 'i':
			assert_string_equal(json_object_get_string(field(o, "s", json_type_string)),
					    "t");
			break;
		case 'C':
			field(e->args, "pages", json_type_int);
			break;
		case 'M':
			/* Metadata comes before every other event. */
			assert_true(i == 0 || t->ev[i - 1].ph == 'M');
			if (!strcmp(e->name, "thread_name")) {
				assert_true(nnamed < 64);
				tid_named[nnamed++] = e->tid;
			}
			field(e->args, "name", json_type_string);
			break;
		case 'B':
		case 'E':
			break;
		default:
			fail_msg("unexpected ph '%c'", e->ph);
		}
	}
	/* Per track: a thread_name, B/E balanced, ts never decreasing. */
	for (int k = 0; k < nnamed; k++) {
		double last = -1;
		int depth = 0;

		for (int j = 0; j < t->n; j++) {
			const struct ev *f = &t->ev[j];

			if (f->ph == 'M' || f->tid != tid_named[k])
				continue;
			assert_true(f->ts >= last);
			last = f->ts;
			depth += f->ph == 'B' ? 1 : f->ph == 'E' ? -1 : 0;
			assert_true(depth >= 0);
		}
		assert_int_equal(depth, 0);
	}
	for (int i = 0; i < t->n; i++) {
		bool named = false;

		if (t->ev[i].ph == 'M')
			continue;
		nonmeta++;
		for (int k = 0; k < nnamed; k++)
			named |= tid_named[k] == t->ev[i].tid;
		if (!named)
			fail_msg("tid %ld (event %s) has no thread_name", t->ev[i].tid,
				 t->ev[i].name);
	}
	assert_int_equal(nonmeta, t->events);	/* otherData.events counts them */
}

static void trace_free(struct trace *t)
{
	json_object_put(t->root);
	free(t->ev);
	unlink(trace_path);
}

/* The first event named @name (and @ph) at or after index @from; fails if none. */
static int find(const struct trace *t, int from, char ph, const char *name)
{
	for (int i = from; i < t->n; i++)
		if (t->ev[i].ph == ph && !strcmp(t->ev[i].name, name))
			return i;
	fail_msg("no '%c' event %s after index %d", ph, name, from);
	return -1;
}

/* Does span @outer contain event @in (same track, within its time)? */
static bool contains(const struct ev *outer, const struct ev *in)
{
	return outer->tid == in->tid && in->ts >= outer->ts &&
	       in->ts + in->dur <= outer->ts + outer->dur + 0.0005;
}

static void test_trace_workload(void **state)
{
	struct pinmm_proc *p, *c;
	struct trace t;
	struct page *page;
	unsigned long a, f;
	char kv[300], img[300], image[320];
	int fd, pin_fast, fault, pin, unpin, fork_span, cow, wb, store, i;
	long pinned_max = 0;

	(void)state;
	trace_path_init("workload");
	snprintf(kv, sizeof(kv), "trace.file=%s", trace_path);
	snprintf(img, sizeof(img), "%s.img", trace_path);
	unlink(img);
	snprintf(image, sizeof(image), "pinfs.image=%s", img);
	{
		struct pinmm *m = gh_boot(kv, "quiet=1", image, "pinfs.size=8M");

		p = test_proc(m);
		/* 1. A fault, then a GUP-fast pin of an untouched page: it must fault. */
		a = test_mmap_anon(p, 4 * PG);
		test_store8(p, a, 1);
		assert_int_equal(pin_user_pages_fast(a + PG, 1, FOLL_WRITE, &page), 1);
		unpin_user_page(page);
		/* 2. fork, then a COW write fault in the child. */
		assert_int_equal(pinmm_fork(p, &c), 0);
		test_store8(c, a, 2);
		assert_int_equal(pinmm_exit(c), 0);
		/* 3. A dirtying store into a shared pinfs mapping, then its writeback. */
		fd = pinmm_open(p, "/data/traced", O_RDWR | O_CREAT, 0600);
		assert_true(fd >= 0);
		assert_int_equal(pinmm_ftruncate(p, fd, (long)PG), 0);
		f = (unsigned long)pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		assert_true((long)f > 0);
		test_store8(p, f, 3);
		assert_int_equal(pinmm_fsync(p, fd), 0);
		assert_int_equal(pinmm_close(p, fd), 0);
		/* A flush now; shutdown writes the file again, complete. */
		assert_int_equal(pinmm_trace_flush(m), 0);
		assert_int_equal(access(trace_path, R_OK), 0);
		test_shutdown_clean(m);
	}
	unlink(img);
	trace_load(&t);
	assert_int_equal(t.dropped, 0);

	/* The pin: its GUP-fast span contains the fault and the pin instant. */
	pin_fast = find(&t, 0, 'X', "pin_user_pages_fast");
	assert_int_equal(arg(&t.ev[pin_fast], "start"), (long)(a + PG));
	assert_int_equal(arg(&t.ev[pin_fast], "nr_pages"), 1);
	assert_int_equal(arg(&t.ev[pin_fast], "ret"), 1);
	assert_true(arg(&t.ev[pin_fast], "gup_flags") & FOLL_PIN);
	fault = -1;
	for (i = pin_fast + 1; i < t.n && t.ev[i].ts <= t.ev[pin_fast].ts + t.ev[pin_fast].dur;
	     i++)
		if (t.ev[i].ph == 'X' && !strcmp(t.ev[i].name, "handle_mm_fault") &&
		    arg(&t.ev[i], "address") == (long)(a + PG))
			fault = i;
	assert_true(fault > pin_fast);
	assert_true(contains(&t.ev[pin_fast], &t.ev[fault]));
	pin = find(&t, pin_fast, 'i', "pin");
	assert_true(t.ev[pin].ts >= t.ev[fault].ts + t.ev[fault].dur);
	assert_true(contains(&t.ev[pin_fast], &t.ev[pin]));
	assert_int_equal(arg(&t.ev[pin], "nr_pages"), 1);
	unpin = find(&t, pin, 'i', "unpin");
	assert_int_equal(arg(&t.ev[unpin], "pfn"), arg(&t.ev[pin], "pfn"));
	/* The pinned-pages counter went to 1 in between, and back to 0. */
	for (i = pin_fast; i < unpin; i++)
		if (t.ev[i].ph == 'C' && !strcmp(t.ev[i].name, "pinned"))
			pinned_max = arg(&t.ev[i], "pages");
	assert_int_equal(pinned_max, 1);
	i = find(&t, unpin, 'C', "pinned");
	assert_int_equal(arg(&t.ev[i], "pages"), 0);

	/* fork copied the VMA, then the child's write copied the page. */
	fork_span = find(&t, unpin, 'X', "copy_page_range");
	assert_int_equal(arg(&t.ev[fork_span], "cow"), 1);
	cow = find(&t, fork_span, 'X', "wp_page_copy");
	assert_true(t.ev[cow].ts >= t.ev[fork_span].ts + t.ev[fork_span].dur);
	assert_int_equal(arg(&t.ev[cow], "address"), (long)a);
	fault = -1;
	for (i = fork_span; i < cow; i++)
		if (t.ev[i].ph == 'X' && !strcmp(t.ev[i].name, "handle_mm_fault"))
			fault = i;
	assert_true(fault >= 0 && contains(&t.ev[fault], &t.ev[cow]));

	/* The dirtying store's fault, then the writeback of that page. */
	store = -1;
	for (i = cow; i < t.n; i++)
		if (t.ev[i].ph == 'X' && !strcmp(t.ev[i].name, "handle_mm_fault") &&
		    arg(&t.ev[i], "address") == (long)f)
			store = i;
	assert_true(store > cow);
	wb = find(&t, store, 'X', "writeback_folio");
	assert_true(t.ev[wb].ts >= t.ev[store].ts + t.ev[store].dur);
	assert_int_equal(arg(&t.ev[wb], "index"), 0);
	assert_int_equal(arg(&t.ev[wb], "ret"), 0);
	i = find(&t, store, 'C', "dirty");
	assert_int_equal(arg(&t.ev[i], "pages"), 1);
	i = find(&t, wb, 'C', "dirty");
	assert_int_equal(arg(&t.ev[i], "pages"), 0);
	/* The categories of doc/TRACING.md. */
	assert_string_equal(t.ev[pin_fast].cat, "gup");
	assert_string_equal(t.ev[pin].cat, "pin");
	assert_string_equal(t.ev[cow].cat, "fault");
	assert_string_equal(t.ev[wb].cat, "writeback");
	trace_free(&t);
}

/* A 64K buffer holds a few hundred events: the rest is dropped, counted, the file valid. */
static void test_trace_drops(void **state)
{
	struct pinmm_proc *p;
	struct pinmm *m;
	struct trace t;
	char kv[300];
	unsigned long a;
	const unsigned long n = 2000;

	(void)state;
	trace_path_init("drops");
	snprintf(kv, sizeof(kv), "trace.file=%s", trace_path);
	m = gh_boot(kv, "trace.buffer_size=64K");
	p = test_proc(m);
	a = test_mmap_anon(p, n * PG);
	for (unsigned long i = 0; i < n; i++)
		test_store8(p, a + i * PG, 1);
	test_shutdown_clean(m);
	trace_load(&t);
	assert_true(t.dropped > 0);
	assert_true(t.events > 0 && t.events < (long)n);
	assert_true(t.events + t.dropped >= (long)n);	/* one fault span per page at least */
	trace_free(&t);
}

/* Off: no file, and pinmm_trace_flush() says why; bad input is -EINVAL. */
static void test_trace_off(void **state)
{
	struct pinmm *m;

	(void)state;
	assert_int_equal(pinmm_trace_flush(NULL), -EINVAL);
	m = gh_boot0();
	assert_int_equal(pinmm_trace_flush(m), -ENOENT);
	test_shutdown_clean(m);
	/* An unwritable path: the flush fails with the errno, shutdown stays clean. */
	m = gh_boot("trace.file=/nonexistent-dir/x.json");
	assert_int_equal(pinmm_trace_flush(m), -ENOENT);
	test_shutdown_clean(m);
}

/* The config keys: bounds and round trip. */
static void test_trace_config(void **state)
{
	struct pinmm_config cfg;
	char buf[64];

	(void)state;
	pinmm_config_default(&cfg);
	assert_int_equal(pinmm_config_get(&cfg, "trace.buffer_size", buf, sizeof(buf)), 2);
	assert_string_equal(buf, "4M");
	assert_int_equal(pinmm_config_get(&cfg, "trace.file", buf, sizeof(buf)), 0);
	assert_int_equal(pinmm_config_set(&cfg, "trace.buffer_size", "32K"), -EINVAL);
	assert_int_equal(pinmm_config_set(&cfg, "trace.buffer_size", "2G"), -EINVAL);
	assert_int_equal(pinmm_config_set(&cfg, "trace.buffer_size", "65537"), -EINVAL);
	assert_int_equal(pinmm_config_set(&cfg, "trace.buffer_size", "64K"), 0);
	assert_int_equal(cfg.trace_buffer_size, 64 * KiB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trace_workload),
		cmocka_unit_test(test_trace_drops),
		cmocka_unit_test(test_trace_off),
		cmocka_unit_test(test_trace_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
