/* SPDX-License-Identifier: MIT */
/*
 * script_pin.c - pinning commands of the scenario language, written as a
 * driver would use <pinmm/linux.h>: pin and gup (every pin_user_pages* and
 * get_user_pages* form, with the mmap lock taken where Linux requires it),
 * unpin (unpin_user_pages*, unpin_user_page, unpin_folio, unpin_folios),
 * put/get (put_page/get_page), dirty (set_page_dirty_lock), dma (device
 * access through pinmm_dma_write/pinmm_dma_read, fenced by lease
 * revocation) and kmap (the kernel's CPU through kmap_local_page).  A page-array variable remembers how many pins
 * and references each of its pages holds, so releases can be checked.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <pinmm/lease.h>

#include "tool.h"

const struct name_val foll_names[] = {
	{ "WRITE", FOLL_WRITE }, { "GET", FOLL_GET }, { "DUMP", FOLL_DUMP },
	{ "FORCE", FOLL_FORCE }, { "NOWAIT", FOLL_NOWAIT },
	{ "NOFAULT", FOLL_NOFAULT }, { "HWPOISON", FOLL_HWPOISON },
	{ "ANON", FOLL_ANON }, { "LONGTERM", FOLL_LONGTERM },
	{ "SPLIT_PMD", FOLL_SPLIT_PMD }, { "PCI_P2PDMA", FOLL_PCI_P2PDMA },
	{ "INTERRUPTIBLE", FOLL_INTERRUPTIBLE },
	{ "HONOR_NUMA_FAULT", FOLL_HONOR_NUMA_FAULT },
	/* internal flags: callers must not pass them (useful to test -EINVAL) */
	{ "TOUCH", FOLL_TOUCH }, { "TRIED", FOLL_TRIED }, { "REMOTE", FOLL_REMOTE },
	{ "PIN", FOLL_PIN }, { "FAST_ONLY", FOLL_FAST_ONLY },
	{ "UNLOCKABLE", FOLL_UNLOCKABLE }, { "MADV_POPULATE", FOLL_MADV_POPULATE },
	{ NULL, 0 },
};

struct gup_req {
	bool pin;
	enum gup_variant variant;
	struct pinmm_proc *caller;	/* current while calling */
	struct pinmm_proc *target;	/* whose memory (differs only for remote=Q) */
	unsigned long start;
	long nr;
	unsigned int flags;
};

/**
 * gup_args_parse() - the words of `pin`/`gup` after [P]: ADDR NPAGES, then
 * a variant (fast, fast_only for gup, unlocked, remote, remote=Q) and FOLL_
 * flags in any order.  Shared by the simulated handler and the host's
 * (host_cmds.c), so that the two give the same errors.
 * @s: the script.
 * @argc: words of the line.
 * @argv: the words; argv[0] names the command.
 * @i: the index of ADDR.
 * @pin: `pin` (FOLL_PIN) rather than `gup`.
 * @g: the result; @g->remote is remote=Q's Q, for the caller to resolve.
 * Context: a command handler.
 * Return: 0, or SCRIPT_SYNTAX with the message set.
 */
int gup_args_parse(struct script *s, int argc, char **argv, int i, bool pin,
		   struct gup_args *g)
{
	long long start, nr;

	memset(g, 0, sizeof(*g));
	if (argc - i < 2)
		return script_syntax(s, "usage: %s", script_find_cmd(argv[0])->usage);
	if (arg_int(s, argv[i], &start) || arg_int(s, argv[i + 1], &nr))
		return SCRIPT_SYNTAX;
	if (nr < 0 || nr > (1 << 20))
		return script_syntax(s, "page count %lld out of range (0..1M)", nr);
	g->start = (unsigned long)start;
	g->nr = (long)nr;
	for (i += 2; i < argc; i++) {
		const char *tok = argv[i], *v;
		long flags;

		if (!strcmp(tok, "fast"))
			g->variant = GUP_FAST;
		else if (!strcmp(tok, "fast_only") && !pin)
			g->variant = GUP_FAST_ONLY;
		else if (!strcmp(tok, "unlocked"))
			g->variant = GUP_UNLOCKED;
		else if (!strcmp(tok, "remote"))
			g->variant = GUP_REMOTE;
		else if (arg_kv(tok, "remote", &v)) {
			g->variant = GUP_REMOTE;
			g->remote = v;
		} else if (arg_flags(s, tok, foll_names, "FOLL_", &flags)) {
			return SCRIPT_SYNTAX;
		} else {
			g->flags |= (unsigned int)flags;
		}
	}
	return 0;
}

static int parse_gup(struct script *s, int argc, char **argv, struct gup_req *r)
{
	struct gup_args g;
	struct var *old;
	int i = 1;

	if (arg_proc(s, argc, argv, &i, &r->caller))
		return SCRIPT_SYNTAX;
	r->target = r->caller;
	if (gup_args_parse(s, argc, argv, i, r->pin, &g))
		return SCRIPT_SYNTAX;
	if (g.remote) {
		struct var *q = var_find(s, g.remote);

		if (!q || q->kind != V_PROC || !q->proc)
			return script_syntax(s, "remote=%s: not a live process", g.remote);
		r->target = q->proc;
	}
	r->variant = g.variant;
	r->start = g.start;
	r->nr = g.nr;
	r->flags = g.flags;
	old = var_find(s, s->bind);
	if (old && old->kind == V_PAGES && old->npages)
		return script_syntax(s, "%s still holds pages; unpin or put them first", s->bind);
	return 0;
}

/* The locked forms need mmap_read_lock() held, as in Linux. */
static long gup_locked(const struct gup_req *r, struct page **pages)
{
	struct mm_struct *mm = pinmm_proc_mm(r->target);
	int locked = 1;
	long ret;

	mmap_read_lock(mm);
	if (r->variant == GUP_REMOTE)
		ret = r->pin ? pin_user_pages_remote(mm, r->start, r->nr, r->flags, pages, &locked)
			     : get_user_pages_remote(mm, r->start, r->nr, r->flags, pages, &locked);
	else
		ret = r->pin ? pin_user_pages(r->start, r->nr, r->flags, pages)
			     : get_user_pages(r->start, r->nr, r->flags, pages);
	/* a remote GUP may drop the lock and say so through @locked */
	if (locked)
		mmap_read_unlock(mm);
	return ret;
}

static long gup_call(const struct gup_req *r, struct page **pages)
{
	pinmm_set_current(r->caller);
	switch (r->variant) {
	case GUP_FAST:
		return r->pin ? pin_user_pages_fast(r->start, (int)r->nr, r->flags, pages)
			      : get_user_pages_fast(r->start, (int)r->nr, r->flags, pages);
	case GUP_FAST_ONLY:
		return get_user_pages_fast_only(r->start, (int)r->nr, r->flags, pages);
	case GUP_UNLOCKED:
		return r->pin ? pin_user_pages_unlocked(r->start, r->nr, pages, r->flags)
			      : get_user_pages_unlocked(r->start, r->nr, pages, r->flags);
	default:
		return gup_locked(r, pages);
	}
}

static int do_gup(struct script *s, int argc, char **argv, bool pin)
{
	struct gup_req r = { .pin = pin };
	struct page **pages;
	struct var *v = NULL;
	long ret;

	if (parse_gup(s, argc, argv, &r))
		return SCRIPT_SYNTAX;
	pages = calloc(r.nr ? r.nr : 1, sizeof(*pages));
	if (!pages)
		return -ENOMEM;
	ret = gup_call(&r, pages);
	if (s->cur)
		pinmm_set_current(s->cur);
	if (ret < 0) {
		free(pages);
		return (int)ret;
	}
	v = var_set(s, s->bind, V_PAGES);
	if (!v) {
		/* nowhere to keep them: give back what was taken, leak nothing */
		if (pin)
			unpin_user_pages(pages, (unsigned long)ret);
		else
			for (long k = 0; k < ret; k++)
				put_page(pages[k]);
		free(pages);
		return -ENOMEM;
	}
	v->pages = pages;
	v->npages = ret;
	v->pinned = pin && ret > 0;
	v->refs = !pin && ret > 0;
	if (ret == 0)
		var_release_pages(v);
	return 0;
}

static int cmd_pin(struct script *s, int argc, char **argv)
{
	return do_gup(s, argc, argv, true);
}

static int cmd_gup(struct script *s, int argc, char **argv)
{
	return do_gup(s, argc, argv, false);
}

/* ---- releasing ------------------------------------------------------------------ */

static int arg_pages(struct script *s, const char *name, struct var **out)
{
	struct var *v = var_find(s, name);

	if (!v || v->kind != V_PAGES)
		return script_syntax(s, "'%s' is not a page array (from pin or gup)", name);
	if (!v->npages)
		return script_syntax(s, "%s holds no pages", name);
	*out = v;
	return 0;
}

static void drop_if_unused(struct var *v)
{
	if (!v->pinned && v->refs == 0)
		var_release_pages(v);
}

/*
 * unpin_user_page() of one entry, or with @folio unpin_folio() of its
 * folio (the same one pin): the entry leaves the array.
 */
static int unpin_one(struct script *s, struct var *v, const char *idx, bool folio)
{
	long long i;

	if (arg_int(s, idx, &i))
		return SCRIPT_SYNTAX;
	if (i < 0 || i >= v->npages)
		return script_syntax(s, "page=%lld outside %s[0..%ld)", i, v->name, v->npages);
	if (v->refs)
		return script_syntax(s, "%s also holds references; put them first", v->name);
	if (folio)
		unpin_folio(page_folio(v->pages[i]));
	else
		unpin_user_page(v->pages[i]);
	memmove(&v->pages[i], &v->pages[i + 1], (v->npages - i - 1) * sizeof(*v->pages));
	if (--v->npages == 0)
		var_release_pages(v);
	return 0;
}

static int unpin_folio_list(struct var *v)
{
	struct folio **folios = calloc(v->npages, sizeof(*folios));

	if (!folios)
		return -ENOMEM;
	for (long i = 0; i < v->npages; i++)
		folios[i] = page_folio(v->pages[i]);
	unpin_folios(folios, (unsigned long)v->npages);
	free(folios);
	return 0;
}

static int cmd_unpin(struct script *s, int argc, char **argv)
{
	bool dirty = false, dirty_lock = false, range = false, folios = false, one_folio = false;
	struct var *v = NULL;
	const char *idx = NULL;
	int rc = 0;

	if (argc < 2)
		return script_syntax(s, "usage: %s", script_find_cmd("unpin")->usage);
	if (arg_pages(s, argv[1], &v))
		return SCRIPT_SYNTAX;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "dirty") || !strcmp(argv[i], "clean")) {
			dirty_lock = true;
			dirty = argv[i][0] == 'd';
		} else if (!strcmp(argv[i], "range")) {
			range = true;
		} else if (!strcmp(argv[i], "folios")) {
			folios = true;
		} else if (arg_kv(argv[i], "folio", &idx)) {
			one_folio = true;
		} else if (!arg_kv(argv[i], "page", &idx)) {
			return script_syntax(s, "unpin: unknown option '%s'", argv[i]);
		}
	}
	if (!v->pinned)
		return script_syntax(s, "%s is not pinned (gup references are released with put)", v->name);
	if (idx)
		return unpin_one(s, v, idx, one_folio);
	if (range)
		unpin_user_page_range_dirty_lock(v->pages[0], (unsigned long)v->npages, dirty);
	else if (folios)
		rc = unpin_folio_list(v);
	else if (dirty_lock)
		unpin_user_pages_dirty_lock(v->pages, (unsigned long)v->npages, dirty);
	else
		unpin_user_pages(v->pages, (unsigned long)v->npages);
	if (rc)
		return rc;
	v->pinned = false;
	drop_if_unused(v);
	return 0;
}

/*
 * A script that stops on an error gives back the pins and references its
 * page variables hold, so that the final shutdown reports the error and not
 * a cascade of leaks that only the early stop caused.
 */
void script_release_pages(struct script *s)
{
	for (struct var *v = s->vars; v; v = v->next) {
		if (v->kind != V_PAGES || !v->npages)
			continue;
		if (v->pinned)
			unpin_user_pages(v->pages, (unsigned long)v->npages);
		for (; v->refs > 0; v->refs--)
			for (long i = 0; i < v->npages; i++)
				put_page(v->pages[i]);
		var_release_pages(v);
	}
}

static int cmd_put(struct script *s, int argc, char **argv)
{
	struct var *v = NULL;

	if (argc != 2)
		return script_syntax(s, "usage: %s", script_find_cmd("put")->usage);
	if (arg_pages(s, argv[1], &v))
		return SCRIPT_SYNTAX;
	if (v->refs == 0)
		return script_syntax(s, "%s holds pins, not references: use unpin", v->name);
	for (long i = 0; i < v->npages; i++)
		put_page(v->pages[i]);
	v->refs--;
	drop_if_unused(v);
	return 0;
}

static int cmd_get(struct script *s, int argc, char **argv)
{
	struct var *v = NULL;

	if (argc != 2)
		return script_syntax(s, "usage: %s", script_find_cmd("get")->usage);
	if (arg_pages(s, argv[1], &v))
		return SCRIPT_SYNTAX;
	for (long i = 0; i < v->npages; i++)
		get_page(v->pages[i]);
	v->refs++;
	return 0;
}

/*
 * find_get_page [P] FD INDEX -> PG: pinmm_find_get_page(), the page
 * cache's lockless lookup, keeping the reference (`put PG` drops it).
 */
static int cmd_find_get_page(struct script *s, int argc, char **argv)
{
	struct pinmm_proc *p;
	struct page **pages;
	struct var *old, *v;
	long long fd, index;
	int i = 1, rc;

	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (argc - i != 2)
		return script_syntax(s, "usage: %s", script_find_cmd(argv[0])->usage);
	if (arg_int(s, argv[i], &fd) || arg_int(s, argv[i + 1], &index))
		return SCRIPT_SYNTAX;
	if (fd < 0 || fd > INT_MAX || index < 0)
		return script_syntax(s, "descriptor %lld or page index %lld out of range", fd,
				     index);
	old = var_find(s, s->bind);
	if (old && old->kind == V_PAGES && old->npages)
		return script_syntax(s, "%s still holds pages; unpin or put them first", s->bind);
	pages = calloc(1, sizeof(*pages));
	if (!pages)
		return -ENOMEM;
	rc = pinmm_find_get_page(p, (int)fd, (unsigned long)index, pages);
	if (rc) {
		free(pages);
		return rc;
	}
	v = var_set(s, s->bind, V_PAGES);
	if (!v) {
		put_page(pages[0]);
		free(pages);
		return -ENOMEM;
	}
	v->pages = pages;
	v->npages = 1;
	v->pinned = false;
	v->refs = 1;
	return 0;
}

static int cmd_dirty(struct script *s, int argc, char **argv)
{
	struct var *v = NULL;

	if (argc != 2)
		return script_syntax(s, "usage: %s", script_find_cmd("dirty")->usage);
	if (arg_pages(s, argv[1], &v))
		return SCRIPT_SYNTAX;
	for (long i = 0; i < v->npages; i++)
		set_page_dirty_lock(v->pages[i]);
	return 0;
}

/* ---- device access ------------------------------------------------------------- */

/* The kernel's CPU copies through kmap_local_page(): no lease fence applies. */
static int kmap_copy(struct page *page, size_t in, unsigned char *buf, size_t n, bool to_page)
{
	unsigned char *kaddr = kmap_local_page(page);

	if (to_page)
		memcpy(kaddr + in, buf, n);
	else
		memcpy(buf, kaddr + in, n);
	kunmap_local(kaddr);
	return 0;
}

/*
 * Copy between @buf and the pages of @v seen as one buffer from @off, as a
 * device does: pinmm_dma_write()/pinmm_dma_read() per page, so that a pin
 * fenced by a lease revocation refuses (-EPERM) and each page's part is
 * one device write unit for torn-write detection.  With @cpu, as the
 * kernel's CPU does instead, through kmap_copy().
 * Return: 0, or the first error (the pages before it were copied).
 */
static int dma_copy(struct var *v, long long off, unsigned char *buf, size_t len,
		    bool to_pages, bool cpu)
{
	while (len) {
		long idx = (long)(off / 4096);
		size_t in = (size_t)(off % 4096), n = 4096 - in;
		int rc;

		if (n > len)
			n = len;
		if (cpu)
			rc = kmap_copy(v->pages[idx], in, buf, n, to_pages);
		else if (to_pages)
			rc = pinmm_dma_write(v->pages[idx], in, buf, n);
		else
			rc = pinmm_dma_read(v->pages[idx], in, buf, n);
		if (rc)
			return rc;
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

static int cmd_dma(struct script *s, int argc, char **argv)
{
	bool write = argc >= 2 && !strcmp(argv[1], "write");
	unsigned char *buf;
	struct var *v = NULL;
	long long off, len;
	size_t dlen;
	int rc;

	if (argc != 5 || (!write && strcmp(argv[1], "read")))
		return script_syntax(s, "usage: %s", script_find_cmd(argv[0])->usage);
	if (arg_pages(s, argv[2], &v) || arg_int(s, argv[3], &off))
		return SCRIPT_SYNTAX;
	if (write) {
		rc = arg_data(s, argv[4], &buf, &dlen);
		if (rc)
			return rc;
		len = (long long)dlen;
	} else {
		if (arg_int(s, argv[4], &len))
			return SCRIPT_SYNTAX;
		buf = NULL;
	}
	/* Written so that no operand near LLONG_MAX can wrap the comparison. */
	if (off < 0 || len < 0 || off > v->npages * 4096LL ||
	    len > v->npages * 4096LL - off) {
		free(buf);
		return script_syntax(s, "dma range [%lld, +%lld) outside the %ld pages of %s",
				     off, len, v->npages, v->name);
	}
	if (!write) {
		buf = malloc(len > 0 ? (size_t)len : 1);
		if (!buf)
			return -ENOMEM;
	}
	rc = dma_copy(v, off, buf, (size_t)len, write, !strcmp(argv[0], "kmap"));
	if (!rc && !write)
		rc = var_bind_bytes(s, buf, (size_t)len);
	free(buf);
	return rc;
}

static const struct script_cmd pin_cmds[] = {
	{ "pin", cmd_pin, BIND_REQUIRED,
	  "pin [P] ADDR NPAGES [FOLL_FLAGS] [fast|unlocked|remote|remote=Q] -> PG" },
	{ "gup", cmd_gup, BIND_REQUIRED,
	  "gup [P] ADDR NPAGES [FOLL_FLAGS] [fast|fast_only|unlocked|remote|remote=Q] -> PG" },
	{ "unpin", cmd_unpin, BIND_NONE, "unpin PG [dirty|clean] [range|folios|page=I|folio=I]" },
	{ "find_get_page", cmd_find_get_page, BIND_REQUIRED, "find_get_page [P] FD INDEX -> PG" },
	{ "put", cmd_put, BIND_NONE, "put PG" },
	{ "get", cmd_get, BIND_NONE, "get PG" },
	{ "dirty", cmd_dirty, BIND_NONE, "dirty PG" },
	{ "dma", cmd_dma, BIND_OPTIONAL, "dma write PG OFF DATA | dma read PG OFF LEN -> X" },
	{ "kmap", cmd_dma, BIND_OPTIONAL, "kmap write PG OFF DATA | kmap read PG OFF LEN -> X" },
	{ NULL, NULL, BIND_NONE, NULL },
};

static const struct script_group pin_group = {
	.title = "Pinning (<pinmm/linux.h>)",
	.order = 30,
	.cmds = pin_cmds,
};
SCRIPT_GROUP(pin_group);
