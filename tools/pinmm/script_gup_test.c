/* SPDX-License-Identifier: MIT */
/*
 * script_gup_test.c - the gup_test device in the scenario language, written
 * against <pinmm/gup_test.h> only (Linux's /sys/kernel/debug/gup_test ABI):
 *
 *   gup_test open [P] -> G
 *   gup_test close [P] G
 *   gup_test TEST [P] G ADDR LEN [flags=FOLL...] [per_call=N] [pin]
 *            [which=I,J...] [-> BYTES]       (per_call defaults to 1)
 *                 TEST: gup_fast_benchmark, pin_fast_benchmark,
 *                 pin_longterm_benchmark, gup_basic, pin_basic, dump;
 *                 BYTES is what the kernel writes back to .size
 *   gup_test longterm_start [P] G ADDR LEN [write] [fast]
 *   gup_test longterm_stop [P] G
 *   gup_test longterm_read [P] G ADDR      copy the pinned pages to ADDR
 *
 * The ioctl acts on the calling thread's current process, as ioctl(2)
 * does: each command makes P (or the script's current process) current for
 * the call and restores the previous one afterwards.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <pinmm/gup_test.h>

#include "tool.h"

static const struct {
	const char *name;
	unsigned long cmd;
} tests[] = {
	{ "gup_fast_benchmark", GUP_FAST_BENCHMARK },
	{ "pin_fast_benchmark", PIN_FAST_BENCHMARK },
	{ "pin_longterm_benchmark", PIN_LONGTERM_BENCHMARK },
	{ "gup_basic", GUP_BASIC_TEST },
	{ "pin_basic", PIN_BASIC_TEST },
	{ "dump", DUMP_USER_PAGES_TEST },
};

static int gt_usage(struct script *s)
{
	return script_syntax(s, "usage: %s", script_usage_of("gup_test"));
}

/* `which=1,2,3`: up to GUP_TEST_MAX_PAGES_TO_DUMP 1-based page numbers. */
static int parse_which(struct script *s, const char *val, struct gup_test *g)
{
	char *copy = strdup(val), *tok, *save = NULL;
	int n = 0, rc = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
		long long v;

		if (n == GUP_TEST_MAX_PAGES_TO_DUMP)
			rc = script_syntax(s, "which= takes at most %d pages", GUP_TEST_MAX_PAGES_TO_DUMP);
		else if (arg_int(s, tok, &v))
			rc = SCRIPT_SYNTAX;
		else if (v < 0 || v > UINT_MAX)
			rc = script_syntax(s, "which=: page number %lld out of range", v);
		else
			g->which_pages[n++] = (__u32)v;
	}
	free(copy);
	return rc;
}

/* The options after ADDR LEN of a benchmark/basic/dump test. */
static int parse_test_opts(struct script *s, int argc, char **argv, int i, struct gup_test *g)
{
	for (; i < argc; i++) {
		const char *val;
		long long v;
		long flags;

		if (arg_kv(argv[i], "flags", &val)) {
			if (arg_flags(s, val, foll_names, "FOLL_", &flags))
				return SCRIPT_SYNTAX;
			g->gup_flags = (__u32)flags;
		} else if (arg_kv(argv[i], "per_call", &val)) {
			if (arg_int(s, val, &v))
				return SCRIPT_SYNTAX;
			if (v < 0 || v > UINT_MAX)
				return script_syntax(s, "per_call=%lld out of range", v);
			g->nr_pages_per_call = (__u32)v;
		} else if (arg_kv(argv[i], "which", &val)) {
			if (parse_which(s, val, g))
				return SCRIPT_SYNTAX;
		} else if (!strcmp(argv[i], "pin")) {
			g->test_flags |= GUP_TEST_FLAG_DUMP_PAGES_USE_PIN;
		} else {
			return gt_usage(s);
		}
	}
	return 0;
}

/* ioctl(@fd, @cmd, @arg) with @p current, as the process's own thread. */
static long gt_ioctl(struct pinmm_proc *p, int fd, unsigned long cmd, void *arg)
{
	struct pinmm_proc *old = pinmm_current();
	long rc;

	pinmm_set_current(p);
	rc = arg ? pinmm_gup_test_ioctl(fd, cmd, arg) : pinmm_gup_test_ioctl(fd, cmd);
	pinmm_set_current(old);
	return rc;
}

static int gt_longterm(struct script *s, struct pinmm_proc *p, int fd, const char *op,
		       int argc, char **argv, int i)
{
	struct pin_longterm_test lt = { 0 };
	long long addr, len;

	if (!strcmp(op, "longterm_stop"))
		return i == argc ? (int)gt_ioctl(p, fd, PIN_LONGTERM_TEST_STOP, NULL) : gt_usage(s);
	if (!strcmp(op, "longterm_read")) {
		__u64 a;

		if (argc - i != 1)
			return gt_usage(s);
		if (arg_int(s, argv[i], &addr))
			return SCRIPT_SYNTAX;
		a = (__u64)addr;
		return (int)gt_ioctl(p, fd, PIN_LONGTERM_TEST_READ, &a);
	}
	if (argc - i < 2)
		return gt_usage(s);
	if (arg_int(s, argv[i], &addr) || arg_int(s, argv[i + 1], &len))
		return SCRIPT_SYNTAX;
	for (i += 2; i < argc; i++) {
		if (!strcmp(argv[i], "write"))
			lt.flags |= PIN_LONGTERM_TEST_FLAG_USE_WRITE;
		else if (!strcmp(argv[i], "fast"))
			lt.flags |= PIN_LONGTERM_TEST_FLAG_USE_FAST;
		else
			return gt_usage(s);
	}
	lt.addr = (__u64)addr;
	lt.size = (__u64)len;
	return (int)gt_ioctl(p, fd, PIN_LONGTERM_TEST_START, &lt);
}

static int cmd_gup_test(struct script *s, int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";
	struct gup_test g = { 0 };
	struct pinmm_proc *p;
	long long v, addr, len;
	size_t t;
	int i = 2, fd;
	long rc;

	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (!strcmp(op, "open")) {
		if (i != argc || !s->bind)
			return gt_usage(s);
		rc = pinmm_gup_test_open(p);
		return rc < 0 ? (int)rc : var_bind_int(s, rc);
	}
	if (i == argc)
		return gt_usage(s);
	if (arg_int(s, argv[i], &v))
		return SCRIPT_SYNTAX;
	fd = v < 0 || v > INT_MAX ? -1 : (int)v;
	i++;
	if (!strcmp(op, "close")) {
		struct pinmm_proc *old = pinmm_current();

		if (i != argc || s->bind)
			return gt_usage(s);
		pinmm_set_current(p);
		rc = pinmm_gup_test_close(fd);
		pinmm_set_current(old);
		return (int)rc;
	}
	if (!strncmp(op, "longterm_", 9))
		return s->bind ? gt_usage(s) : gt_longterm(s, p, fd, op, argc, argv, i);
	for (t = 0; t < ARRAY_SIZE(tests); t++)
		if (!strcmp(op, tests[t].name))
			break;
	if (t == ARRAY_SIZE(tests) || argc - i < 2)
		return gt_usage(s);
	if (arg_int(s, argv[i], &addr) || arg_int(s, argv[i + 1], &len) ||
	    parse_test_opts(s, argc, argv, i + 2, &g))
		return SCRIPT_SYNTAX;
	if (!g.nr_pages_per_call)
		g.nr_pages_per_call = 1;	/* as tools/testing/selftests/mm/gup_test.c */
	g.addr = (__u64)addr;
	g.size = (__u64)len;
	rc = gt_ioctl(p, fd, tests[t].cmd, &g);
	if (rc)
		return (int)rc;
	return s->bind ? var_bind_int(s, (long long)g.size) : 0;
}

static const struct script_cmd gup_test_cmds[] = {
	{ "gup_test", cmd_gup_test, BIND_OPTIONAL,
	  "gup_test open [P] -> G | gup_test close [P] G |\n"
	  "  gup_test TEST [P] G ADDR LEN [flags=FOLL...] [per_call=N] [pin] [which=I,J...] [-> BYTES]\n"
	  "    (TEST: gup_fast_benchmark, pin_fast_benchmark, pin_longterm_benchmark,\n"
	  "     gup_basic, pin_basic, dump) |\n"
	  "  gup_test longterm_start [P] G ADDR LEN [write] [fast] | gup_test longterm_stop [P] G |\n"
	  "  gup_test longterm_read [P] G ADDR" },
	{ NULL, NULL, BIND_NONE, NULL },
};

static const struct script_group gup_test_group = {
	.title = "The gup_test device (<pinmm/gup_test.h>)",
	.order = 33,
	.cmds = gup_test_cmds,
};
SCRIPT_GROUP(gup_test_group);
