/* SPDX-License-Identifier: MIT */
/*
 * script_expect.c - expectations of the scenario language: on values
 * (expect X == "text"), on errors (expect error EFAULT load A 1), on page
 * state (expect page A present !writable pincount=1), on page arrays, on
 * vmstat counters, on memory and file contents; plus `info`, which reads one
 * field of struct pinmm_page_info into a variable.  Each expect line is one
 * test point: a failure is counted and reported, and the script goes on.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "tool.h"

const char *const op_text[] = { "==", "!=", "<", "<=", ">", ">=" };

/* parse_op() - "==" (or "="), "!=", "<", "<=", ">", ">="; OP_BAD otherwise. */
enum cmp_op parse_op(const char *t)
{
	if (!strcmp(t, "==") || !strcmp(t, "="))
		return OP_EQ;
	for (int i = OP_NE; i < OP_BAD; i++)
		if (!strcmp(t, op_text[i]))
			return (enum cmp_op)i;
	return OP_BAD;
}

/* cmp_int() - a OP b. */
bool cmp_int(long long a, enum cmp_op op, long long b)
{
	switch (op) {
	case OP_EQ: return a == b;
	case OP_NE: return a != b;
	case OP_LT: return a < b;
	case OP_LE: return a <= b;
	case OP_GT: return a > b;
	case OP_GE: return a >= b;
	default: return false;
	}
}

static int bad_op(struct script *s, const char *t)
{
	return script_syntax(s, "'%s' is not a comparison (== != < <= > >=)", t);
}

static void format_data(const unsigned char *d, size_t len, char *buf, size_t size)
{
	struct var tmp = { .kind = V_BYTES, .data = (unsigned char *)d, .len = len };

	script_format_value(&tmp, buf, size);
}

/**
 * script_check_data() - compare observed bytes with @want as one test point;
 * equal only when lengths and bytes match.
 * Context: expect handlers (expect mem/file, values; host_pages.c).
 * Return: nothing; the result is counted by script_check().
 */
void script_check_data(struct script *s, const unsigned char *got, size_t glen,
		       enum cmp_op op, const unsigned char *want, size_t wlen)
{
	bool eq = glen == wlen && !memcmp(got, want, wlen);
	char g[160], w[160], detail[400];

	format_data(got, glen, g, sizeof(g));
	format_data(want, wlen, w, sizeof(w));
	snprintf(detail, sizeof(detail), "expected %s%s, observed %s",
		 op == OP_EQ ? "" : "not ", w, g);
	script_json_values(s, detail + strlen("expected "), g);
	script_check(s, op == OP_EQ ? eq : !eq, detail);
}

/* The --json values of an integer comparison: "OP WANT" and "GOT". */
static void values_int(struct script *s, enum cmp_op op, long long want, long long got)
{
	char w[48], g[24];

	if (!script_json_on(s))
		return;
	snprintf(w, sizeof(w), "%s %lld", op_text[op], want);
	snprintf(g, sizeof(g), "%lld", got);
	script_json_values(s, w, g);
}

/* ---- expect error / expect ok ---------------------------------------------------- */

static int expect_error(struct script *s, int argc, char **argv)
{
	int want = errno_from_name(argv[2]);
	int rc = script_dispatch(s, argc - 3, argv + 3);
	char detail[160];

	if (rc == SCRIPT_SYNTAX || rc == SCRIPT_REFUSED)
		return rc;
	if (rc == 0)
		snprintf(detail, sizeof(detail), "expected %s (%d), but %s succeeded",
			 pinmm_strerror(-want), -want, argv[3]);
	else
		snprintf(detail, sizeof(detail), "expected %s (%d), observed %s (%d)",
			 pinmm_strerror(-want), -want, pinmm_strerror(rc), rc);
	script_json_values(s, pinmm_strerror(-want), rc ? pinmm_strerror(rc) : "success");
	script_check(s, rc == -want, detail);
	return 0;
}

static int expect_ok(struct script *s, int argc, char **argv)
{
	int rc = script_dispatch(s, argc - 2, argv + 2);
	char detail[160];

	if (rc == SCRIPT_SYNTAX || rc == SCRIPT_REFUSED)
		return rc;
	snprintf(detail, sizeof(detail), "expected success, observed %s (%d)",
		 pinmm_strerror(rc), rc);
	script_json_values(s, "success", rc ? pinmm_strerror(rc) : "success");
	script_check(s, rc == 0, detail);
	return 0;
}

/* ---- page state ------------------------------------------------------------------- */

enum field_type { F_BOOL, F_INT, F_ULONG, F_STR };

static const struct page_field {
	const char *name;
	enum field_type type;
	size_t off;
} page_fields[] = {
#define PF(n, t) { #n, t, offsetof(struct pinmm_page_info, n) }
	PF(present, F_BOOL), PF(writable, F_BOOL), PF(anon, F_BOOL),
	PF(anon_exclusive, F_BOOL), PF(zero_page, F_BOOL), PF(dirty, F_BOOL),
	PF(writeback, F_BOOL), PF(lru, F_BOOL), PF(maybe_dma_pinned, F_BOOL),
	PF(huge_mapped, F_BOOL), PF(soft_dirty, F_BOOL), PF(shmem, F_BOOL),
	PF(swapped, F_BOOL), PF(ksm, F_BOOL), PF(hugetlb, F_BOOL),
	PF(pfn, F_ULONG), PF(refcount, F_INT), PF(pincount, F_INT),
	PF(mapcount, F_INT), PF(folio_order, F_INT), PF(zone, F_STR),
#undef PF
	{ "pinned", F_BOOL, offsetof(struct pinmm_page_info, maybe_dma_pinned) },
	{ NULL, F_BOOL, 0 },
};

static const struct page_field *find_field(const char *name, size_t n)
{
	for (const struct page_field *f = page_fields; f->name; f++)
		if (strlen(f->name) == n && !strncmp(f->name, name, n))
			return f;
	return NULL;
}

static long long field_int(const struct pinmm_page_info *pi, const struct page_field *f)
{
	const char *base = (const char *)pi + f->off;

	switch (f->type) {
	case F_BOOL: return *(const bool *)base;
	case F_INT: return *(const int *)base;
	case F_ULONG: return (long long)*(const unsigned long *)base;
	default: return 0;
	}
}

/**
 * page_info_json() - every field of @pi as a JSON object, named as in
 * `expect page` checks (for `show page` under run --json).
 *
 * Context: any command.  Return: a new object.
 */
struct json_object *page_info_json(const struct pinmm_page_info *pi)
{
	struct json_object *o = json_object_new_object();

	for (const struct page_field *f = page_fields; f->name; f++) {
		if (!strcmp(f->name, "pinned"))
			continue;	/* an alias of maybe_dma_pinned */
		if (f->type == F_STR)
			jset(o, f->name, pi->zone ? jstr(pi->zone) : NULL);
		else if (f->type == F_BOOL)
			jset_bool(o, f->name, field_int(pi, f));
		else
			jset_int(o, f->name, field_int(pi, f));
	}
	return o;
}

/* One check such as "present", "!writable", "pincount>=1", "zone=movable". */
static int page_check(struct script *s, const struct pinmm_page_info *pi,
		      const char *tok, struct strbuf *fails, struct strbuf *seen)
{
	bool neg = tok[0] == '!';
	const char *name = tok + neg;
	size_t n = strcspn(name, "=!<>");
	const struct page_field *f = find_field(name, n);
	const char *rest = name + n;
	size_t oplen = strspn(rest, "=!<>");
	char opbuf[3] = "";
	long long want, got;
	enum cmp_op op;

	if (!f)
		return script_syntax(s, "unknown page field in '%s'", tok);
	if (f->type == F_STR)
		sb_printf(seen, "%s%s=%s", seen->len ? " " : "", f->name,
			  pi->zone ? pi->zone : "(none)");
	else
		sb_printf(seen, "%s%s=%lld", seen->len ? " " : "", f->name, field_int(pi, f));
	if (!*rest) {
		if (f->type != F_BOOL)
			return script_syntax(s, "'%s' needs a comparison, e.g. %s=1", tok, f->name);
		if (field_int(pi, f) == !neg)
			return 0;
		sb_printf(fails, "%s%s: expected %s, observed %s", fails->len ? "; " : "",
			  f->name, neg ? "false" : "true", neg ? "true" : "false");
		return 0;
	}
	if (neg || oplen > 2)
		return bad_op(s, tok);
	memcpy(opbuf, rest, oplen);
	op = parse_op(opbuf);
	if (op == OP_BAD)
		return bad_op(s, opbuf);
	if (f->type == F_STR) {
		const char *zone = pi->zone ? pi->zone : "(none)";
		bool eq = !strcmp(zone, rest + oplen);

		if (op != OP_EQ && op != OP_NE)
			return bad_op(s, opbuf);
		if (eq != (op == OP_EQ))
			sb_printf(fails, "%s%s: expected %s%s, observed %s", fails->len ? "; " : "",
				  f->name, op == OP_EQ ? "" : "not ", rest + oplen, zone);
		return 0;
	}
	if (arg_int(s, rest + oplen, &want))
		return SCRIPT_SYNTAX;
	got = field_int(pi, f);
	if (!cmp_int(got, op, want))
		sb_printf(fails, "%s%s: expected %s %lld, observed %lld", fails->len ? "; " : "",
			  f->name, op_text[op], want, got);
	return 0;
}

/**
 * script_page_field() - numeric field @name of @pi into *@v.
 * Context: info handlers, simulated and host (host_pages.c).
 * Return: 0, or -EINVAL for no such numeric field.
 */
int script_page_field(const struct pinmm_page_info *pi, const char *name, long long *v)
{
	const struct page_field *f = find_field(name, strlen(name));

	if (!f || f->type == F_STR)
		return -EINVAL;
	*v = field_int(pi, f);
	return 0;
}

/* One test point of CHECKs (@want as written, @seen, @fails); frees the three. */
static int checks_done(struct script *s, int rc, struct strbuf *fails, struct strbuf *want,
		       struct strbuf *seen)
{
	if (!rc) {
		script_json_values(s, want->buf, seen->buf);
		script_check(s, fails->len == 0, fails->buf);
	}
	sb_free(fails);
	sb_free(want);
	sb_free(seen);
	return rc;
}

/**
 * script_page_checks() - the @n CHECKs @tok of one `expect page` line on
 * @pi, recorded as one test point.
 * Context: expect handlers, simulated and host (host_pages.c).
 * Return: 0, or SCRIPT_SYNTAX for a malformed check (nothing recorded).
 */
int script_page_checks(struct script *s, const struct pinmm_page_info *pi, int n,
		       char **tok)
{
	struct strbuf fails = { 0 }, want = { 0 }, seen = { 0 };
	int rc = 0;

	for (int k = 0; k < n && !rc; k++) {
		sb_printf(&want, "%s%s", want.len ? " " : "", tok[k]);
		rc = page_check(s, pi, tok[k], &fails, &seen);
	}
	return checks_done(s, rc, &fails, &want, &seen);
}

/* The most rows one `show page` prints (16 MiB of 4 KiB pages). */
#define SHOW_PAGE_MAX 4096

/**
 * page_args_parse() - the words after [P] of `expect page` (ADDR CHECK...),
 * `info` (ADDR FIELD, a numeric field) or `show page` (ADDR [NPAGES]), by
 * argv[0]; the CHECKs or the FIELD are left in pa->checks, pa->nchecks.
 * Context: page handlers, simulated (here, script_show.c) and host (host_pages.c).
 * Return: 0, or SCRIPT_SYNTAX.
 */
int page_args_parse(struct script *s, int argc, char **argv, int i, struct page_args *pa)
{
	const struct page_field *f;
	int n = argc - i;

	*pa = (struct page_args){ .npages = 1, .nchecks = n - 1, .checks = argv + i + 1 };
	if (!strcmp(argv[0], "info")) {
		if (n != 2 || arg_int(s, argv[i], &pa->addr))
			return script_syntax(s, "usage: info [P] ADDR FIELD -> X");
		f = find_field(argv[i + 1], strlen(argv[i + 1]));
		if (!f || f->type == F_STR)
			return script_syntax(s, "'%s' is not a numeric page field", argv[i + 1]);
		return 0;
	}
	if (!strcmp(argv[0], "expect")) {
		if (n < 2)
			return script_syntax(s, "usage: expect page [P] ADDR CHECK...");
		return arg_int(s, argv[i], &pa->addr);
	}
	pa->nchecks = 0;
	if (n < 1 || n > 2 || arg_int(s, argv[i], &pa->addr) ||
	    (n == 2 && arg_int(s, argv[i + 1], &pa->npages)))
		return script_syntax(s, "usage: show page [P] ADDR [NPAGES]");
	if (pa->npages < 1 || pa->npages > SHOW_PAGE_MAX)
		return script_syntax(s, "show page prints 1 to %d pages, not %lld",
				     SHOW_PAGE_MAX, pa->npages);
	if (pa->addr < 0 || pa->addr > LLONG_MAX - pa->npages * 4096)
		return script_syntax(s, "show page range at %lld out of range", pa->addr);
	return 0;
}

/* [P] from argv[@i] and the words of `expect page` or `info`, then the page. */
static int page_line(struct script *s, int argc, char **argv, int i, struct page_args *pa,
		     struct pinmm_page_info *pi)
{
	struct pinmm_proc *p;

	if (arg_proc(s, argc, argv, &i, &p) || page_args_parse(s, argc, argv, i, pa))
		return SCRIPT_SYNTAX;
	return pinmm_page_info(p, (unsigned long)pa->addr, pi);
}

static int expect_page(struct script *s, int argc, char **argv)
{
	struct pinmm_page_info pi;
	struct page_args pa;
	int rc = page_line(s, argc, argv, 2, &pa, &pi);

	return rc ? rc : script_page_checks(s, &pi, pa.nchecks, pa.checks);
}

/**
 * pages_check_parse() - one CHECK of `expect pages`: pinned, !pinned,
 * count OP N or refcount OP N (every page), into @c.
 * Context: expect handlers, simulated and host (host_pages.c).
 * Return: 0, or SCRIPT_SYNTAX.
 */
int pages_check_parse(struct script *s, const char *tok, struct pages_check *c)
{
	const char *name = tok + (tok[0] == '!');
	size_t n = strcspn(name, "=!<>");
	size_t oplen = strspn(name + n, "=!<>");
	char opbuf[3] = "";

	*c = (struct pages_check){ .what = PAGES_PINNED, .neg = tok[0] == '!' };
	if (n == 6 && !strncmp(name, "pinned", 6) && !name[n])
		return 0;
	if (c->neg || oplen == 0 || oplen > 2)
		return script_syntax(s, "expect pages: bad check '%s'", tok);
	memcpy(opbuf, name + n, oplen);
	c->op = parse_op(opbuf);
	if (c->op == OP_BAD)
		return bad_op(s, opbuf);
	if (arg_int(s, name + n + oplen, &c->want))
		return SCRIPT_SYNTAX;
	if (n == 5 && !strncmp(name, "count", 5))
		c->what = PAGES_COUNT;
	else if (n == 8 && !strncmp(name, "refcount", 8))
		c->what = PAGES_REFCOUNT;
	else
		return script_syntax(s, "expect pages: unknown check '%s'", tok);
	return 0;
}

/* One parsed check @c on the @npages @pages, its failure added to @fails. */
static void pages_check(const struct pages_check *c, struct page **pages, long npages,
			struct strbuf *fails)
{
	if (c->what == PAGES_COUNT) {
		if (!cmp_int(npages, c->op, c->want))
			sb_printf(fails, "%scount: expected %s %lld, observed %ld",
				  fails->len ? "; " : "", op_text[c->op], c->want, npages);
		return;
	}
	for (long i = 0; i < npages; i++) {
		struct folio *f = page_folio(pages[i]);
		int rc = folio_ref_count(f);

		if (c->what == PAGES_PINNED && folio_maybe_dma_pinned(f) == c->neg) {
			sb_printf(fails, "%spage %ld: expected %spinned", fails->len ? "; " : "",
				  i, c->neg ? "not " : "");
			break;
		}
		if (c->what == PAGES_REFCOUNT && !cmp_int(rc, c->op, c->want)) {
			sb_printf(fails, "%spage %ld: refcount expected %s %lld, observed %d",
				  fails->len ? "; " : "", i, op_text[c->op], c->want, rc);
			break;
		}
	}
}

/**
 * script_pages_checks() - the @n CHECKs @tok of one `expect pages` line on
 * a page array of @npages @pages, recorded as one test point; @pages may be
 * NULL when every CHECK is a count (the host's).
 * Context: expect handlers, simulated and host (host_pages.c).
 * Return: 0, or SCRIPT_SYNTAX for a malformed check (nothing recorded).
 */
int script_pages_checks(struct script *s, int n, char **tok, struct page **pages, long npages)
{
	struct strbuf fails = { 0 }, want = { 0 }, seen = { 0 };
	struct pages_check c;
	int rc = 0;

	for (int i = 0; i < n && !rc; i++) {
		sb_printf(&want, "%s%s", want.len ? " " : "", tok[i]);
		rc = pages_check_parse(s, tok[i], &c);
		if (!rc)
			pages_check(&c, pages, npages, &fails);
	}
	if (!rc)
		sb_printf(&seen, "count=%ld%s%s", npages, fails.len ? "; " : "",
			  fails.len ? fails.buf : "");
	return checks_done(s, rc, &fails, &want, &seen);
}

static int expect_pages(struct script *s, int argc, char **argv)
{
	struct var *v = argc > 2 ? var_find(s, argv[2]) : NULL;

	if (!v || v->kind != V_PAGES || argc < 4)
		return script_syntax(s, "usage: expect pages PG CHECK...");
	return script_pages_checks(s, argc - 3, argv + 3, v->pages, v->npages);
}

/* ---- counters, memory, files, values ---------------------------------------------- */

/**
 * expect_vmstat_parse() - the words of `expect vmstat NAME OP VALUE` into @e.
 * Context: expect handlers, simulated and host (host_pages.c).
 * Return: 0, or SCRIPT_SYNTAX.
 */
int expect_vmstat_parse(struct script *s, int argc, char **argv, struct expect_vmstat *e)
{
	*e = (struct expect_vmstat){ .name = argc > 2 ? argv[2] : "" };
	if (argc != 5)
		return script_syntax(s, "usage: expect vmstat NAME OP VALUE");
	e->op = parse_op(argv[3]);
	if (e->op == OP_BAD)
		return bad_op(s, argv[3]);
	return arg_int(s, argv[4], &e->want);
}

/**
 * expect_vmstat_check() - record the test point of `expect vmstat` @e with
 * the counter's value @got.
 * Context: expect handlers, simulated and host (host_pages.c).
 */
void expect_vmstat_check(struct script *s, const struct expect_vmstat *e, long got)
{
	char detail[200];

	snprintf(detail, sizeof(detail), "%s: expected %s %lld, observed %ld",
		 e->name, op_text[e->op], e->want, got);
	values_int(s, e->op, e->want, got);
	script_check(s, cmp_int(got, e->op, e->want), detail);
}

static int expect_vmstat(struct script *s, int argc, char **argv)
{
	struct expect_vmstat e;
	long got;

	if ((argc == 5 && script_need_machine(s)) || expect_vmstat_parse(s, argc, argv, &e))
		return SCRIPT_SYNTAX;
	got = pinmm_vmstat(s->m, e.name);
	if (got == -ENOENT)
		return script_syntax(s, "unknown vmstat counter '%s'", e.name);
	expect_vmstat_check(s, &e, got);
	return 0;
}

/* expect mem [P] ADDR OP DATA  /  expect file [P] F OFF OP DATA */
/**
 * expect_bytes_parse() - the words of `expect mem|file` after [P]: ADDR (or
 * F OFF), ==|!=, DATA.
 * @s: the script.
 * @argc: words of the line.
 * @argv: the words; argv[@i] is the first after [P].
 * @i: that index.
 * @file: `expect file` (F OFF) rather than `expect mem` (ADDR).
 * @e: filled in; e->want is allocated (free()).
 * Context: expect handlers, simulated and host (host_pages.c).
 * Return: 0, SCRIPT_SYNTAX, or -errno.
 */
int expect_bytes_parse(struct script *s, int argc, char **argv, int i, bool file,
		       struct expect_bytes *e)
{
	*e = (struct expect_bytes){ 0 };
	if (argc - i != (file ? 4 : 3))
		return script_syntax(s, "usage: expect %s", file ?
				     "file [P] F OFF ==|!= DATA" : "mem [P] ADDR ==|!= DATA");
	if (arg_int(s, argv[i], &e->where) || (file && arg_int(s, argv[++i], &e->off)))
		return SCRIPT_SYNTAX;
	e->op = parse_op(argv[i + 1]);
	if (e->op != OP_EQ && e->op != OP_NE)
		return bad_op(s, argv[i + 1]);
	e->text = argv[i + 2];
	return arg_data(s, e->text, &e->want, &e->wlen);
}

/**
 * expect_bytes_check() - record the test point of `expect mem|file` @e:
 * @ret bytes @got by the read, or the read's error; frees e->want.
 * Context: expect handlers, simulated and host (host_pages.c).
 */
void expect_bytes_check(struct script *s, struct expect_bytes *e, bool file,
			const unsigned char *got, long ret)
{
	if (ret < 0) {
		char detail[160];

		snprintf(detail, sizeof(detail), "%s failed: %s (%ld)",
			 file ? "pread" : "load", pinmm_strerror((int)ret), ret);
		script_json_values(s, e->text, detail);
		script_check(s, false, detail);
	} else {
		script_check_data(s, got, (size_t)ret, e->op, e->want, e->wlen);
	}
	free(e->want);
	e->want = NULL;
}

static int expect_bytes(struct script *s, int argc, char **argv, bool file)
{
	struct expect_bytes e;
	struct pinmm_proc *p;
	unsigned char *got;
	long ret;
	int i = 2, rc;

	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	rc = expect_bytes_parse(s, argc, argv, i, file, &e);
	if (rc)
		return rc;
	got = malloc(e.wlen + 1);
	if (!got) {
		free(e.want);
		return -ENOMEM;
	}
	ret = file ? pinmm_pread(p, (int)e.where, got, e.wlen, (long)e.off)
		   : pinmm_load(p, (unsigned long)e.where, got, e.wlen);
	expect_bytes_check(s, &e, file, got, ret);
	free(got);
	return 0;
}

static int expect_value(struct script *s, int argc, char **argv)
{
	enum cmp_op op = argc == 4 ? parse_op(argv[2]) : OP_BAD;
	long long a, b;
	char detail[200];

	if (argc != 4)
		return script_syntax(s, "usage: expect VALUE OP VALUE (or expect error|ok|page|pages|vmstat|mem|file ...)");
	if (op == OP_BAD)
		return bad_op(s, argv[2]);
	if (arg_is_data(s, argv[1]) || arg_is_data(s, argv[3])) {
		unsigned char *x, *y;
		size_t xl, yl;
		int rc;

		if (op != OP_EQ && op != OP_NE)
			return bad_op(s, argv[2]);
		rc = arg_data(s, argv[1], &x, &xl);
		if (rc)
			return rc;
		rc = arg_data(s, argv[3], &y, &yl);
		if (!rc)
			script_check_data(s, x, xl, op, y, yl);
		free(x);
		free(y);
		return rc;
	}
	if (arg_int(s, argv[1], &a) || arg_int(s, argv[3], &b))
		return SCRIPT_SYNTAX;
	snprintf(detail, sizeof(detail), "expected %s %s %lld, observed %lld",
		 argv[1], op_text[op], b, a);
	values_int(s, op, b, a);
	script_check(s, cmp_int(a, op, b), detail);
	return 0;
}

static int cmd_expect(struct script *s, int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	const struct script_subcmd *sub;

	if (!strcmp(what, "error") && argc >= 4)
		return expect_error(s, argc, argv);
	if (!strcmp(what, "ok") && argc >= 3)
		return expect_ok(s, argc, argv);
	if (!strcmp(what, "page"))
		return expect_page(s, argc, argv);
	if (!strcmp(what, "pages"))
		return expect_pages(s, argc, argv);
	if (!strcmp(what, "vmstat"))
		return expect_vmstat(s, argc, argv);
	if (!strcmp(what, "mem") || !strcmp(what, "file"))
		return expect_bytes(s, argc, argv, what[0] == 'f');
	sub = script_find_subcmd(argc, argv);
	if (sub)
		return sub->fn(s, argc, argv);
	return expect_value(s, argc, argv);
}

/**
 * script_info_bind() - the act step of `info` once its line is read into
 * @pa and its page into @pi (@rc: how that went): bind the FIELD to "-> X".
 * Context: info handlers, simulated and host (host_pages.c).
 * Return: 0, or @rc / a negative errno.
 */
int script_info_bind(struct script *s, int rc, const struct page_args *pa,
		     const struct pinmm_page_info *pi)
{
	long long v;

	if (!rc)
		rc = script_page_field(pi, pa->checks[0], &v);
	return rc ? rc : var_bind_int(s, v);
}

/* info [P] ADDR FIELD -> X: one field of pinmm_page_info into a variable. */
static int cmd_info(struct script *s, int argc, char **argv)
{
	struct pinmm_page_info pi;
	struct page_args pa;
	int rc = page_line(s, argc, argv, 1, &pa, &pi);

	return script_info_bind(s, rc, &pa, &pi);
}

static const struct script_cmd expect_cmds[] = {
	{ "expect", cmd_expect, BIND_OPTIONAL,
	  "expect VALUE OP VALUE | expect error ENAME CMD... | expect ok CMD... |\n"
	  "  expect page [P] ADDR CHECK... | expect pages PG CHECK... |\n"
	  "  expect vmstat NAME OP VALUE | expect mem [P] ADDR OP DATA |\n"
	  "  expect file [P] F OFF OP DATA" },
	{ "info", cmd_info, BIND_REQUIRED, "info [P] ADDR FIELD -> X   (pfn, refcount, pincount...)" },
	{ NULL, NULL, BIND_NONE, NULL },
};

static const struct script_group expect_group = {
	.title = "Expectations",
	.order = 40,
	.cmds = expect_cmds,
};
SCRIPT_GROUP(expect_group);
