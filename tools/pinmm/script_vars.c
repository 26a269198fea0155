/* SPDX-License-Identifier: MIT */
/*
 * script_vars.c - values of the scenario language: variables, integer
 * expressions (decimal/hex numbers with K/M/G/T suffixes, + - * / % and
 * parentheses over variables), data arguments ("text", BYTE*COUNT, a data
 * variable), flag words (FOLL_WRITE|FOLL_LONGTERM, private,anonymous) and
 * error names.  No library state lives here beyond what variables point to.
 *
 * Expressions are evaluated in signed 64-bit arithmetic that never wraps:
 * a result outside [LLONG_MIN, LLONG_MAX] (including LLONG_MIN / -1 and a
 * suffix that shifts a number out of range) is an "arithmetic overflow"
 * error at the script's FILE:LINE, and nesting deeper than EXPR_MAX_DEPTH
 * (parentheses or unary minus) is refused instead of exhausting the stack.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tool.h"

/* ---- strbuf -------------------------------------------------------------- */

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = sb->cap - sb->len;

		va_start(ap, fmt);
		n = vsnprintf(sb->buf ? sb->buf + sb->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			sb->len += n;
			return;
		}
		size_t cap = (sb->cap + n + 1) * 2;
		char *nb = realloc(sb->buf, cap);

		if (!nb)
			return;
		sb->buf = nb;
		sb->cap = cap;
	}
}

void sb_free(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

/* ---- variables ------------------------------------------------------------- */

struct var *var_find(struct script *s, const char *name)
{
	for (struct var *v = s->vars; v; v = v->next)
		if (!strcmp(v->name, name))
			return v;
	return NULL;
}

/* Drop the tool's array of page pointers (not the references it held). */
void var_release_pages(struct var *v)
{
	free(v->pages);
	v->pages = NULL;
	v->npages = 0;
	v->pinned = false;
	v->refs = 0;
}

/*
 * Is @v one of the variables @s created itself?  A thread block sees the
 * main script's variables (s->vars_shared on) but binds its own in front of
 * them, so that threads never write one list node concurrently; the join
 * moves them to the main script (script_thread.c).
 */
static bool var_own(struct script *s, const struct var *v)
{
	for (const struct var *o = s->vars; o && o != s->vars_shared; o = o->next)
		if (o == v)
			return true;
	return false;
}

/* Find or create @name and reset it to an empty value of @kind. */
struct var *var_set(struct script *s, const char *name, enum var_kind kind)
{
	struct var *v = var_find(s, name);

	if (v && s->thread && !var_own(s, v))
		v = NULL;	/* a thread's binding shadows the setup's */
	if (!v) {
		v = calloc(1, sizeof(*v));
		if (!v)
			return NULL;
		v->name = strdup(name);
		if (!v->name) {
			free(v);
			return NULL;
		}
		v->next = s->vars;
		s->vars = v;
	}
	var_release_pages(v);
	free(v->data);
	v->data = NULL;
	v->len = 0;
	v->proc = NULL;
	v->ival = 0;
	v->kind = kind;
	return v;
}

/* Bind the value of the current line's "-> NAME", if it has one. */
int var_bind_int(struct script *s, long long val)
{
	struct var *v;

	if (!s->bind)
		return 0;
	v = var_set(s, s->bind, V_INT);
	if (!v)
		return -ENOMEM;
	v->ival = val;
	return 0;
}

int var_bind_bytes(struct script *s, const unsigned char *buf, size_t len)
{
	struct var *v;

	if (!s->bind)
		return 0;
	v = var_set(s, s->bind, V_BYTES);
	if (!v)
		return -ENOMEM;
	v->data = malloc(len ? len : 1);
	if (!v->data)
		return -ENOMEM;
	memcpy(v->data, buf, len);
	v->len = len;
	return 0;
}

/* The machine is gone: its processes and page references with it. */
void vars_machine_gone(struct script *s)
{
	for (struct var *v = s->vars; v; v = v->next) {
		if (v->kind == V_PROC)
			v->proc = NULL;
		if (v->kind == V_PAGES)
			var_release_pages(v);
	}
}

static void format_bytes(const unsigned char *d, size_t len, char *buf, size_t size)
{
	size_t shown = len > 48 ? 48 : len, n = 0;
	bool text = true;

	for (size_t i = 0; i < shown; i++)
		if (!isprint(d[i]))
			text = false;
	if (text) {
		n = snprintf(buf, size, "\"%.*s\"", (int)shown, (const char *)d);
	} else {
		for (size_t i = 0; i < shown && n + 4 < size; i++)
			n += snprintf(buf + n, size - n, "%s%02x", i ? " " : "", d[i]);
	}
	if (shown < len && n < size)
		snprintf(buf + n, size - n, "... (%zu bytes)", len);
}

void script_format_value(const struct var *v, char *buf, size_t len)
{
	switch (v->kind) {
	case V_INT:
		if (v->ival >= 10 || v->ival <= -10)
			snprintf(buf, len, "%lld (0x%llx)", v->ival,
				 (unsigned long long)v->ival);
		else
			snprintf(buf, len, "%lld", v->ival);
		break;
	case V_BYTES:
		format_bytes(v->data, v->len, buf, len);
		break;
	case V_PROC:
		if (v->proc)
			snprintf(buf, len, "process, pid %d", pinmm_proc_pid(v->proc));
		else
			snprintf(buf, len, "process (exited)");
		break;
	case V_PAGES:
		snprintf(buf, len, "%ld page%s (%s, %d extra reference%s each)",
			 v->npages, v->npages == 1 ? "" : "s",
			 v->pinned ? "pinned" : "not pinned", v->refs,
			 v->refs == 1 ? "" : "s");
		break;
	}
}

/* ---- machine and process arguments ------------------------------------------- */

int script_need_machine(struct script *s)
{
	if (!s->m)
		return script_syntax(s, "no machine: use 'boot' first");
	return 0;
}

/*
 * arg_proc() - an optional process name at argv[*i].  When argv[*i] names a
 * process variable it is consumed; otherwise the current process is used.
 */
int arg_proc(struct script *s, int argc, char **argv, int *i, struct pinmm_proc **p)
{
	struct var *v = *i < argc ? var_find(s, argv[*i]) : NULL;

	if (script_need_machine(s))
		return SCRIPT_SYNTAX;
	if (v && v->kind == V_PROC) {
		if (!v->proc)
			return script_syntax(s, "process %s has exited", v->name);
		*p = v->proc;
		(*i)++;
		return 0;
	}
	if (!s->cur)
		return script_syntax(s, "no current process: create one with 'proc NAME'");
	*p = s->cur;
	return 0;
}

/* ---- integer expressions ------------------------------------------------------- */

/* How deeply parentheses and unary minus may nest (the message says 64). */
#define EXPR_MAX_DEPTH 64

struct expr {
	struct script *s;
	const char *p;
	int err;
	int depth;
};

static const struct {
	const char *name;
	long long val;
} constants[] = {
	{ "PAGE_SIZE", 4096 },
	{ "PMD_SIZE", 2 << 20 },
	{ "PUD_SIZE", 1LL << 30 },
	{ "GUP_PIN_COUNTING_BIAS", GUP_PIN_COUNTING_BIAS },
};

static long long expr_sum(struct expr *e);

static long long expr_fail(struct expr *e, const char *fmt, const char *what)
{
	if (!e->err)
		e->err = script_syntax(e->s, fmt, what);
	return 0;
}

static long long expr_number(struct expr *e)
{
	char *end;
	unsigned long long v;
	int base = (e->p[0] == '0' && (e->p[1] == 'x' || e->p[1] == 'X')) ? 16 : 10;

	int shift = 0;

	errno = 0;
	v = strtoull(e->p, &end, base);
	if (errno)
		return expr_fail(e, "number out of range: %s", e->p);
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 'T': case 't': shift = 40; end++; break;
	}
	if (isalnum((unsigned char)*end) || *end == '_')
		return expr_fail(e, "bad number near '%s'", e->p);
	if (v > ((unsigned long long)LLONG_MAX >> shift))
		return expr_fail(e, "arithmetic overflow: number out of range: %s", e->p);
	e->p = end;
	return (long long)(v << shift);
}

static long long expr_name(struct expr *e)
{
	const char *start = e->p;
	char name[64];
	struct var *v;
	size_t n;

	while (isalnum((unsigned char)*e->p) || *e->p == '_')
		e->p++;
	n = e->p - start;
	if (n >= sizeof(name))
		return expr_fail(e, "name too long: %s", start);
	memcpy(name, start, n);
	name[n] = '\0';
	v = var_find(e->s, name);
	if (!v) {
		for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++)
			if (!strcmp(constants[i].name, name))
				return constants[i].val;
		return expr_fail(e, "undefined variable '%s'", name);
	}
	switch (v->kind) {
	case V_INT:
		return v->ival;
	case V_PAGES:
		return v->npages;
	case V_PROC:
		return v->proc ? pinmm_proc_pid(v->proc) : 0;
	default:
		return expr_fail(e, "'%s' holds data, not a number", name);
	}
}

/* The checked operations: 0 and *res, or -ERANGE when the result does not fit. */
static int checked_add(long long a, long long b, long long *res)
{
	if ((b > 0 && a > LLONG_MAX - b) || (b < 0 && a < LLONG_MIN - b))
		return -ERANGE;
	*res = a + b;
	return 0;
}

static int checked_sub(long long a, long long b, long long *res)
{
	if ((b < 0 && a > LLONG_MAX + b) || (b > 0 && a < LLONG_MIN + b))
		return -ERANGE;
	*res = a - b;
	return 0;
}

static int checked_mul(long long a, long long b, long long *res)
{
	if (a && b) {
		if (a > 0 ? (b > 0 ? a > LLONG_MAX / b : b < LLONG_MIN / a)
			  : (b > 0 ? a < LLONG_MIN / b : a < LLONG_MAX / b))
			return -ERANGE;
	}
	*res = a * b;
	return 0;
}

/* Division truncates toward zero, as C's; % -1 is 0 (no trap on LLONG_MIN). */
static int checked_div(long long a, long long b, bool mod, long long *res)
{
	if (b == -1) {
		if (mod) {
			*res = 0;
			return 0;
		}
		return checked_sub(0, a, res);
	}
	*res = mod ? a % b : a / b;
	return 0;
}

static long long expr_overflow(struct expr *e, const char *what)
{
	return expr_fail(e, "arithmetic overflow in %s", what);
}

static long long expr_atom(struct expr *e)
{
	long long v;

	if (*e->p == '-' || *e->p == '(') {
		if (++e->depth > EXPR_MAX_DEPTH)
			return expr_fail(e, "expression nested more than 64 deep at '%.20s'",
					 e->p);
	}
	if (*e->p == '-') {
		e->p++;
		v = expr_atom(e);
		e->depth--;
		if (!e->err && checked_sub(0, v, &v))
			return expr_overflow(e, "unary minus");
		return v;
	}
	if (*e->p == '(') {
		e->p++;
		v = expr_sum(e);
		e->depth--;
		if (e->err)
			return 0;
		if (*e->p != ')')
			return expr_fail(e, "missing ')' in '%s'", e->p);
		e->p++;
		return v;
	}
	if (isdigit((unsigned char)*e->p))
		return expr_number(e);
	if (isalpha((unsigned char)*e->p) || *e->p == '_')
		return expr_name(e);
	return expr_fail(e, "expected a number or a variable at '%s'",
			 *e->p ? e->p : "end of value");
}

static long long expr_product(struct expr *e)
{
	long long v = expr_atom(e);

	while (!e->err && (*e->p == '*' || *e->p == '/' || *e->p == '%')) {
		char op = *e->p++;
		long long r = expr_atom(e);
		int rc;

		if (e->err)
			return 0;
		if (op != '*' && r == 0)
			return expr_fail(e, "division by zero%s", "");
		rc = op == '*' ? checked_mul(v, r, &v) : checked_div(v, r, op == '%', &v);
		if (rc)
			return expr_overflow(e, op == '*' ? "'*'" : op == '/' ? "'/'" : "'%'");
	}
	return v;
}

static long long expr_sum(struct expr *e)
{
	long long v = expr_product(e);

	while (!e->err && (*e->p == '+' || *e->p == '-')) {
		char op = *e->p++;
		long long r = expr_product(e);

		if (e->err)
			return 0;
		if (op == '+' ? checked_add(v, r, &v) : checked_sub(v, r, &v))
			return expr_overflow(e, op == '+' ? "'+'" : "'-'");
	}
	return v;
}

/* arg_int() - evaluate an integer expression such as "A+4K" or "2*PAGE_SIZE". */
int arg_int(struct script *s, const char *tok, long long *out)
{
	struct expr e = { .s = s, .p = tok };

	*out = expr_sum(&e);
	if (!e.err && *e.p)
		return script_syntax(s, "unexpected '%s' in value '%s'", e.p, tok);
	return e.err;
}

/* ---- data arguments ---------------------------------------------------------- */

bool arg_is_data(struct script *s, const char *tok)
{
	struct var *v = var_find(s, tok);

	return tok[0] == '"' || (v && v->kind == V_BYTES);
}

static int hexval(int c)
{
	if (isdigit(c))
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode "..." at @tok into @out (at least strlen(tok) bytes); return the rest. */
static const char *decode_string(const char *tok, unsigned char *out, size_t *len)
{
	const char *p = tok + 1;
	size_t n = 0;

	for (; *p && *p != '"'; p++) {
		if (*p != '\\' || !p[1]) {
			out[n++] = *p;
			continue;
		}
		switch (*++p) {
		case 'n': out[n++] = '\n'; break;
		case 't': out[n++] = '\t'; break;
		case 'r': out[n++] = '\r'; break;
		case '0': out[n++] = '\0'; break;
		case 'x':
			if (hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
				out[n++] = hexval(p[1]) * 16 + hexval(p[2]);
				p += 2;
				break;
			}
			/* fall through */
		default: out[n++] = *p; break;
		}
	}
	*len = n;
	return *p ? p + 1 : p;
}

static int repeat(struct script *s, unsigned char **buf, size_t *len, long long count)
{
	unsigned char *nb;

	if (count < 0 || count > (64LL << 20))
		return script_syntax(s, "repeat count %lld out of range (0..64M)", count);
	if (*len == 0 || count == 1)
		return 0;
	nb = malloc(*len * count + 1);
	if (!nb)
		return -ENOMEM;
	for (long long i = 0; i < count; i++)
		memcpy(nb + i * *len, *buf, *len);
	free(*buf);
	*buf = nb;
	*len *= count;
	return 0;
}

/*
 * arg_data() - bytes given as "text" (escapes \n \t \0 \xHH), "text"*COUNT,
 * BYTE*COUNT (e.g. 0xab*4K) or a data variable.  *buf is malloc()ed.
 */
int arg_data(struct script *s, const char *tok, unsigned char **buf, size_t *len)
{
	struct var *v = var_find(s, tok);
	const char *rest = "";
	long long count = 1, byte;
	char *star;
	int rc;

	*buf = malloc(strlen(tok) + (v && v->kind == V_BYTES ? v->len : 0) + 1);
	if (!*buf)
		return -ENOMEM;
	if (v && v->kind == V_BYTES) {
		memcpy(*buf, v->data, v->len);
		*len = v->len;
	} else if (tok[0] == '"') {
		rest = decode_string(tok, *buf, len);
	} else if ((star = strchr(tok, '*'))) {
		char *left = strndup(tok, star - tok);

		rc = left ? arg_int(s, left, &byte) : -ENOMEM;
		free(left);
		if (rc)
			goto fail;
		if (byte < 0 || byte > 255) {
			rc = script_syntax(s, "byte value %lld out of range in '%s'", byte, tok);
			goto fail;
		}
		(*buf)[0] = (unsigned char)byte;
		*len = 1;
		rest = star;
	} else {
		rc = script_syntax(s, "'%s' is not data: use \"text\", BYTE*COUNT or a data variable", tok);
		goto fail;
	}
	if (*rest == '*') {
		rc = arg_int(s, rest + 1, &count);
		if (!rc)
			rc = repeat(s, buf, len, count);
		if (rc)
			goto fail;
	} else if (*rest) {
		rc = script_syntax(s, "unexpected '%s' after string", rest);
		goto fail;
	}
	return 0;
fail:
	free(*buf);
	*buf = NULL;
	return rc;
}

/* arg_kv() - is @tok "KEY=VALUE" for this @key?  Then *val is VALUE. */
bool arg_kv(const char *tok, const char *key, const char **val)
{
	size_t n = strlen(key);

	if (strncmp(tok, key, n) || tok[n] != '=')
		return false;
	*val = tok + n + 1;
	return true;
}

/* ---- flag words --------------------------------------------------------------- */

static long flag_lookup(const struct name_val *tab, const char *prefix,
			const char *w, size_t n, bool *found)
{
	size_t pl = prefix ? strlen(prefix) : 0;

	if (pl && n > pl && !strncasecmp(w, prefix, pl)) {
		w += pl;
		n -= pl;
	}
	for (; tab->name; tab++) {
		if (strlen(tab->name) == n && !strncasecmp(tab->name, w, n)) {
			*found = true;
			return tab->val;
		}
	}
	*found = false;
	return 0;
}

/*
 * arg_flags() - OR of names from @tab separated by ',' or '|'; names are
 * case-insensitive and may carry @prefix ("FOLL_", "MAP_"...).  A number,
 * "0" or "none" are accepted too.
 */
int arg_flags(struct script *s, const char *tok, const struct name_val *tab,
	      const char *prefix, long *out)
{
	const char *p = tok;

	*out = 0;
	if (!strcasecmp(tok, "none"))
		return 0;
	while (*p) {
		size_t n = strcspn(p, ",|");
		bool found;
		long v = flag_lookup(tab, prefix, p, n, &found);

		if (!found) {
			char *w = strndup(p, n);
			long long num;
			int rc = w ? arg_int(s, w, &num) : -ENOMEM;

			if (rc == SCRIPT_SYNTAX)
				rc = script_syntax(s, "unknown flag '%s' in '%s'", w, tok);
			free(w);
			if (rc)
				return rc;
			v = (long)num;
		}
		*out |= v;
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

/* flags_name() - "WRITE|LONGTERM"-style text for @v, for messages. */
const char *flags_name(const struct name_val *tab, long v, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; tab->name && v; tab++) {
		if (!tab->val || (v & tab->val) != tab->val)
			continue;
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "|" : "", tab->name);
		v &= ~tab->val;
	}
	if (v && n < len)
		n += snprintf(buf + n, len - n, "%s0x%lx", n ? "|" : "", v);
	if (n == 0)
		snprintf(buf, len, "0");
	return buf;
}

/* errno_from_name() - 14 for "EFAULT", "-14" or "14"; 0 if unknown. */
int errno_from_name(const char *name)
{
	char *end;
	long n;

	if (!name || !*name)
		return 0;
	n = strtol(name, &end, 10);
	if (!*end)
		return n < 0 ? (int)-n : (int)n;
	for (int e = 1; e < 4096; e++)
		if (!strcasecmp(pinmm_strerror(-e), name))
			return e;
	return 0;
}
