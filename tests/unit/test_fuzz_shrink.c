/* SPDX-License-Identifier: MIT */
/*
 * test_fuzz_shrink.c - the differential fuzzer's shrinker and generator
 * (tools/pinmm/fuzz_shrink.c, fuzz_gen.c) on their own, with synthetic
 * predicates whose minimum is known: ddmin must reach exactly it, never
 * offer a candidate in which a line uses a name whose defining line was
 * dropped, and the generator must be deterministic.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fuzz.h"

/* The kept lines, one per line, without the never-dropped ones. */
static char *kept(const struct fuzz_prog *p, const bool *keep)
{
	return fuzz_prog_text(p, keep);
}

static bool has_line(const struct fuzz_prog *p, const bool *keep, const char *line)
{
	for (int i = 0; i < p->n; i++)
		if (keep[i] && !strcmp(p->line[i], line))
			return true;
	return false;
}

struct want {
	const char *const *lines;	/* all must be kept */
	long calls;
	bool dangling;			/* a candidate used a dropped definition */
};

/* Interesting while every wanted line is kept; checks candidates are valid. */
static bool wants_all(const struct fuzz_prog *p, const bool *keep, void *arg)
{
	struct want *w = arg;

	w->calls++;
	/* "use X" needs "def X" kept; "fork P C" needs "proc P" */
	for (int i = 0; i < p->n; i++) {
		char name[32];

		if (!keep[i] || sscanf(p->line[i], "use %31s", name) != 1)
			continue;
		char def[64];

		snprintf(def, sizeof(def), "def -> %s", name);
		if (!has_line(p, keep, def))
			w->dangling = true;
	}
	for (const char *const *l = w->lines; *l; l++)
		if (!has_line(p, keep, *l))
			return false;
	return true;
}

static void test_known_minimum(void **state)
{
	static const char text[] =
		"# a header comment\n"
		"boot ram=64M\n"
		"noise 1\n"
		"def -> A\n"
		"noise 2\n"
		"def -> B\n"
		"noise 3\n"
		"use A\n"
		"noise 4\n"
		"use B\n"
		"target 1\n"
		"noise 5\n"
		"noise 6\n"
		"target 2\n"
		"noise 7\n";
	static const char *const lines[] = { "use B", "target 1", "target 2", NULL };
	struct want w = { .lines = lines };
	struct fuzz_prog p;
	bool keep[32];
	long tests = 0;
	char *got;

	(void)state;
	assert_int_equal(fuzz_prog_split(text, &p), 0);
	assert_int_equal(p.n, 15);
	memset(keep, 1, sizeof(keep));
	assert_true(wants_all(&p, keep, &w));
	assert_int_equal(fuzz_shrink(&p, keep, wants_all, &w, &tests), 0);
	got = kept(&p, keep);
	/* the minimum: the comment, boot, B's definition and the wanted lines */
	assert_string_equal(got, "# a header comment\nboot ram=64M\ndef -> B\nuse B\n"
				 "target 1\ntarget 2\n");
	assert_false(w.dangling);
	assert_int_equal(tests, w.calls - 1);
	assert_true(tests > 0);
	free(got);
	fuzz_prog_free(&p);
}

/* Interesting while at least two "x" lines are kept: any two is 1-minimal. */
static bool two_x(const struct fuzz_prog *p, const bool *keep, void *arg)
{
	int n = 0;

	(void)arg;
	for (int i = 0; i < p->n; i++)
		n += keep[i] && p->line[i][0] == 'x';
	return n >= 2;
}

static void test_one_minimal(void **state)
{
	struct fuzz_prog p;
	char text[4096] = "boot\n";
	bool keep[200];
	int n = 0;

	(void)state;
	for (int i = 0; i < 120; i++)
		strcat(text, i % 7 == 3 ? "x\n" : "y\n");
	assert_int_equal(fuzz_prog_split(text, &p), 0);
	memset(keep, 1, sizeof(keep));
	assert_int_equal(fuzz_shrink(&p, keep, two_x, NULL, NULL), 0);
	for (int i = 0; i < p.n; i++)
		n += keep[i];
	assert_int_equal(n, 3);	/* boot and two x */
	assert_true(two_x(&p, keep, NULL));
	fuzz_prog_free(&p);
}

/* Interesting while "unpin PG1" is kept: its pin and process must stay. */
static bool keeps_unpin(const struct fuzz_prog *p, const bool *keep, void *arg)
{
	(void)arg;
	return has_line(p, keep, "unpin PG1");
}

static void test_generated_closure(void **state)
{
	struct fuzz_prog p;
	bool *keep;
	int idx = -1, n = 0;

	(void)state;
	/* the first program of seed 1 that unpins PG1 */
	for (uint64_t i = 0; i < 200 && idx < 0; i++) {
		char *t = fuzz_gen(1, i);

		assert_non_null(t);
		if (strstr(t, "unpin PG1\n"))
			idx = (int)i;
		if (idx < 0)
			free(t);
		else {
			assert_int_equal(fuzz_prog_split(t, &p), 0);
			free(t);
		}
	}
	assert_true(idx >= 0);
	keep = malloc((size_t)p.n);
	assert_non_null(keep);
	memset(keep, 1, (size_t)p.n);
	assert_int_equal(fuzz_shrink(&p, keep, keeps_unpin, NULL, NULL), 0);
	for (int i = 0; i < p.n; i++) {
		if (!keep[i])
			continue;
		n++;
		/* what is left: comments, boot, proc P, the pin and the unpin */
		assert_true(p.line[i][0] == '#' || !strncmp(p.line[i], "boot", 4) ||
			    !strcmp(p.line[i], "proc P") || strstr(p.line[i], "-> PG1") ||
			    !strcmp(p.line[i], "unpin PG1") || !strncmp(p.line[i], "fork ", 5));
	}
	assert_true(n >= 5);
	free(keep);
	fuzz_prog_free(&p);
}

static void test_generator_deterministic(void **state)
{
	char *a = fuzz_gen(42, 7), *b = fuzz_gen(42, 7), *c = fuzz_gen(42, 8);

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_non_null(strstr(a, "# pinmm fuzz --diff --seed 42: program 7\nboot "));
	free(a);
	free(b);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_minimum),
		cmocka_unit_test(test_one_minimal),
		cmocka_unit_test(test_generated_closure),
		cmocka_unit_test(test_generator_deterministic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
