/* SPDX-License-Identifier: MIT */
/*
 * fuzz_shrink.c - delta debugging (ddmin, Zeller and Hildebrandt 2002)
 * over the lines of a generated program, for `pinmm fuzz --diff`.
 *
 * The shrinker removes lines while a predicate (the caller's: "pinmm and
 * the host still differ at the same kind of observable") holds, and stops
 * when removing any single remaining line, with the lines that depend on
 * it, makes the predicate false: the result is 1-minimal.
 *
 * Programs stay valid: a line that defines a name (`-> NAME`, `proc NAME`,
 * `fork P NAME`) takes every later line that uses NAME with it, so that
 * no candidate refers to a variable or process nobody made.  Comments and
 * the `boot` line are never removed.  The predicate sees only the kept
 * lines and decides everything else (a candidate that is now a syntax
 * error on both sides is "not interesting" there).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/**
 * fuzz_prog_split() - split @text into lines.
 * Context: any.
 * Return: 0, or -1 without memory (@p is then empty).
 */
int fuzz_prog_split(const char *text, struct fuzz_prog *p)
{
	int cap = 0;

	memset(p, 0, sizeof(*p));
	while (*text) {
		size_t n = strcspn(text, "\n");

		if (p->n == cap) {
			char **v = realloc(p->line, (size_t)(cap = cap * 2 + 16) * sizeof(*v));

			if (!v)
				goto oom;
			p->line = v;
		}
		p->line[p->n] = strndup(text, n);
		if (!p->line[p->n])
			goto oom;
		p->n++;
		text += n + (text[n] == '\n');
	}
	return 0;
oom:
	fuzz_prog_free(p);
	return -1;
}

/**
 * fuzz_prog_free() - free what fuzz_prog_split() made.
 * Context: any.  Return: nothing.
 */
void fuzz_prog_free(struct fuzz_prog *p)
{
	for (int i = 0; i < p->n; i++)
		free(p->line[i]);
	free(p->line);
	memset(p, 0, sizeof(*p));
}

/**
 * fuzz_prog_text() - the kept lines of @p as one text (all when @keep is
 * NULL).
 * Context: any.
 * Return: the text (the caller frees it), or NULL without memory.
 */
char *fuzz_prog_text(const struct fuzz_prog *p, const bool *keep)
{
	size_t len = 1, at = 0;
	char *t;

	for (int i = 0; i < p->n; i++)
		len += strlen(p->line[i]) + 1;
	t = malloc(len);
	if (!t)
		return NULL;
	for (int i = 0; i < p->n; i++) {
		size_t n = strlen(p->line[i]);

		if (keep && !keep[i])
			continue;
		memcpy(t + at, p->line[i], n);
		t[at + n] = '\n';
		at += n + 1;
	}
	t[at] = '\0';
	return t;
}

static bool fixed_line(const char *l)
{
	l += strspn(l, " \t");
	return !*l || *l == '#' || !strncmp(l, "boot", 4);
}

/* The name line @l defines, into @out ("" when none). */
static void defined_name(const char *l, char *out, size_t len)
{
	const char *arrow = strstr(l, "->"), *w = NULL;
	char a[32] = "", b[32] = "", c[32] = "";

	*out = '\0';
	if (arrow) {
		w = arrow + 2 + strspn(arrow + 2, " \t");
		snprintf(out, len, "%.*s", (int)strcspn(w, " \t"), w);
		return;
	}
	sscanf(l, "%31s %31s %31s", a, b, c);
	if (!strcmp(a, "proc"))
		snprintf(out, len, "%s", b);
	else if (!strcmp(a, "fork"))
		snprintf(out, len, "%s", c[0] ? c : b);
}

/* Whether @l uses the identifier @name outside its own definition @def. */
static bool uses(const char *l, const char *name, const char *def)
{
	size_t n = strlen(name);

	if (!n || !strcmp(name, def))
		return false;
	for (const char *p = l; (p = strstr(p, name)); p += n) {
		bool before = p == l || !(isalnum((unsigned char)p[-1]) || p[-1] == '_' ||
					  p[-1] == '$');
		bool after = !(isalnum((unsigned char)p[n]) || p[n] == '_');

		if (before && after)
			return true;
	}
	return false;
}

/* Drop every kept line that uses a name whose defining line is dropped. */
static void closure(const struct fuzz_prog *p, char (*def)[64], bool *keep)
{
	for (int i = 0; i < p->n; i++) {
		if (!keep[i] || fixed_line(p->line[i]))
			continue;
		for (int j = 0; j < i && keep[i]; j++)
			if (!keep[j] && def[j][0] && uses(p->line[i], def[j], def[i]))
				keep[i] = false;
	}
}

struct shrink {
	const struct fuzz_prog *p;
	char (*def)[64];
	fuzz_pred pred;
	void *arg;
	long tests;
	bool *cand;
};

/* Whether @keep without the units [lo, hi) of @u still shows the difference. */
static bool try_without(struct shrink *sh, bool *keep, const int *u, int lo, int hi)
{
	memcpy(sh->cand, keep, (size_t)sh->p->n * sizeof(bool));
	for (int k = lo; k < hi; k++)
		sh->cand[u[k]] = false;
	closure(sh->p, sh->def, sh->cand);
	sh->tests++;
	if (!sh->pred(sh->p, sh->cand, sh->arg))
		return false;
	memcpy(keep, sh->cand, (size_t)sh->p->n * sizeof(bool));
	return true;
}

/* The removable kept lines, in order. */
static int units(const struct fuzz_prog *p, const bool *keep, int *u)
{
	int n = 0;

	for (int i = 0; i < p->n; i++)
		if (keep[i] && !fixed_line(p->line[i]))
			u[n++] = i;
	return n;
}

/**
 * fuzz_shrink() - shrink the kept lines of @p (in @keep, all true to start
 * with, and for which @pred holds) to a 1-minimal set for which @pred
 * still holds.
 * @tests: if not NULL, receives how many times @pred was asked.
 * Context: any; @pred may run scripts.
 * Return: 0, or -1 without memory (@keep is then unchanged).
 */
int fuzz_shrink(const struct fuzz_prog *p, bool *keep, fuzz_pred pred, void *arg, long *tests)
{
	struct shrink sh = { .p = p, .pred = pred, .arg = arg };
	int *u = malloc((size_t)(p->n + 1) * sizeof(*u)), nu, gran = 2;
	bool changed = true;

	sh.def = calloc((size_t)p->n + 1, sizeof(*sh.def));
	sh.cand = malloc((size_t)p->n + 1);
	if (!u || !sh.def || !sh.cand) {
		free(u);
		free(sh.def);
		free(sh.cand);
		return -1;
	}
	for (int i = 0; i < p->n; i++)
		defined_name(p->line[i], sh.def[i], sizeof(sh.def[i]));
	/* ddmin: remove chunks (complements of the kept set) at finer grains */
	while ((nu = units(p, keep, u)) >= 2) {
		bool reduced = false;

		if (gran > nu)
			gran = nu;
		for (int c = 0; c < gran && !reduced; c++)
			reduced = try_without(&sh, keep, u, c * nu / gran, (c + 1) * nu / gran);
		if (reduced)
			gran = gran > 2 ? gran - 1 : 2;
		else if (gran >= nu)
			break;
		else
			gran = gran * 2 < nu ? gran * 2 : nu;
	}
	/* then one line at a time until no single removal keeps the difference */
	while (changed) {
		changed = false;
		nu = units(p, keep, u);
		for (int k = nu - 1; k >= 0; k--)
			if (keep[u[k]] && try_without(&sh, keep, u, k, k + 1))
				changed = true;
	}
	if (tests)
		*tests = sh.tests;
	free(u);
	free(sh.def);
	free(sh.cand);
	return 0;
}
