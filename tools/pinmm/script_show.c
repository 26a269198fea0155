/* SPDX-License-Identifier: MIT */
/*
 * script_show.c - output commands of the scenario language: echo, print and
 * show (page state as a table, vmstat counters, page arrays, the machine
 * configuration, variables).  Also the page-table row formatter the demo
 * uses, so the two print page state the same way.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "tool.h"

const char *page_table_header(void)
{
	return "address         pres wr anon excl zero dirty lru pinned "
	       "      pfn   ref map pin ord zone";
}

static const char *yn(bool b)
{
	return b ? "yes" : "-";
}

void page_table_row(char *buf, size_t len, unsigned long addr,
		    const struct pinmm_page_info *pi)
{
	if (!pi->present) {
		snprintf(buf, len, "%#-15lx  -   (%s)%s", addr,
			 pi->swapped ? pi->anon_exclusive ? "swapped, exclusive" : "swapped"
				     : "not present", pi->swapped && pi->soft_dirty ? " soft-dirty" : "");
		return;
	}
	snprintf(buf, len,
		 "%#-15lx %-4s %-2s %-4s %-4s %-4s %-5s %-3s %-6s %9lx %5d %3d %3d %3d %s%s%s%s%s",
		 addr, yn(pi->present), pi->writable ? "w" : "-", yn(pi->anon),
		 yn(pi->anon_exclusive), yn(pi->zero_page), yn(pi->dirty), yn(pi->lru),
		 yn(pi->maybe_dma_pinned), pi->pfn, pi->refcount, pi->mapcount,
		 pi->pincount, pi->folio_order, pi->zone ? pi->zone : "-",
		 pi->shmem ? " shmem" : pi->huge_mapped ? " pmd" : "",
		 pi->soft_dirty ? " sd" : "", pi->ksm ? " ksm" : "", pi->hugetlb ? " hugetlb" : "");
}

static int cmd_echo(struct script *s, int argc, char **argv)
{
	struct strbuf sb = { 0 };

	for (int i = 1; i < argc; i++) {
		unsigned char *buf;
		size_t len;

		if (argv[i][0] == '"' && arg_data(s, argv[i], &buf, &len) == 0) {
			sb_printf(&sb, "%s%.*s", i > 1 ? " " : "", (int)len, (char *)buf);
			free(buf);
		} else {
			sb_printf(&sb, "%s%s", i > 1 ? " " : "", argv[i]);
		}
	}
	script_out(s, "%s\n", sb.buf ? sb.buf : "");
	sb_free(&sb);
	return 0;
}

static int cmd_print(struct script *s, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct var *v = var_find(s, argv[i]);
		char val[256];
		long long n;

		if (v) {
			script_format_value(v, val, sizeof(val));
		} else if (arg_is_data(s, argv[i])) {
			unsigned char *buf;
			size_t len;
			struct var tmp = { .kind = V_BYTES };

			int rc = arg_data(s, argv[i], &buf, &len);

			if (rc)
				return rc;
			tmp.data = buf;
			tmp.len = len;
			script_format_value(&tmp, val, sizeof(val));
			free(buf);
		} else {
			struct var tmp = { .kind = V_INT };

			if (arg_int(s, argv[i], &n))
				return SCRIPT_SYNTAX;
			tmp.ival = n;
			script_format_value(&tmp, val, sizeof(val));
		}
		script_out(s, "%s = %s\n", argv[i], val);
	}
	return 0;
}

/* ---- show ------------------------------------------------------------------------ */

static int show_page(struct script *s, int argc, char **argv)
{
	struct page_args pa;
	struct pinmm_proc *p;
	long long addr, n;
	int i = 2;

	if (arg_proc(s, argc, argv, &i, &p) || page_args_parse(s, argc, argv, i, &pa))
		return SCRIPT_SYNTAX;
	addr = pa.addr;
	n = pa.npages;
	struct json_object *rows = script_json_on(s) ? json_object_new_array() : NULL;

	script_out(s, "%s\n", page_table_header());
	for (long long k = 0; k < n; k++) {
		unsigned long a = (unsigned long)(addr + k * 4096);
		struct pinmm_page_info pi;
		struct json_object *o = NULL;
		char row[200];
		int rc = pinmm_page_info(p, a, &pi);

		if (rc && rc != -EFAULT) {
			json_object_put(rows);
			return rc;
		}
		if (rows) {
			o = rc ? json_object_new_object() : page_info_json(&pi);
			jset_int(o, "addr", (long long)a);
			jset_bool(o, "vma", rc == 0);
			json_object_array_add(rows, o);
		}
		if (rc == -EFAULT) {
			script_out(s, "%#-15lx  (no vma)\n", a);
			continue;
		}
		page_table_row(row, sizeof(row), a, &pi);
		script_out(s, "%s\n", row);
	}
	if (rows) {
		struct json_object *d = json_object_new_object();

		jset_int(d, "pid", pinmm_proc_pid(p));
		jset(d, "pages", rows);
		script_json_show(s, "page", d);
	}
	return 0;
}

struct vmstat_filter {
	struct script *s;
	const char *prefix;
	struct json_object *counters;	/* under run --json */
};

static void show_counter(const char *name, long value, void *arg)
{
	struct vmstat_filter *f = arg;

	if (f->prefix && strncmp(name, f->prefix, strlen(f->prefix)))
		return;
	script_out(f->s, "%s %ld\n", name, value);
	if (f->counters)
		jset_int(f->counters, name, value);
}

static int show_vmstat(struct script *s, int argc, char **argv)
{
	struct vmstat_filter f = { .s = s, .prefix = argc > 2 ? argv[2] : NULL };

	if (argc > 3 || script_need_machine(s))
		return argc > 3 ? script_syntax(s, "usage: show vmstat [PREFIX]") : SCRIPT_SYNTAX;
	if (script_json_on(s))
		f.counters = json_object_new_object();
	pinmm_vmstat_foreach(s->m, show_counter, &f);
	if (f.counters)
		script_json_show(s, "vmstat", f.counters);
	return 0;
}

static int show_pages(struct script *s, int argc, char **argv)
{
	struct var *v = argc == 3 ? var_find(s, argv[2]) : NULL;
	char val[128];

	if (!v || v->kind != V_PAGES)
		return script_syntax(s, "usage: show pages PG");
	struct json_object *arr = script_json_on(s) ? json_object_new_array() : NULL;

	script_format_value(v, val, sizeof(val));
	script_out(s, "%s: %s\n", v->name, val);
	for (long i = 0; i < v->npages; i++) {
		struct folio *f = page_folio(v->pages[i]);

		script_out(s, "  [%ld] pfn %#lx folio refcount %d%s\n", i,
			   page_to_pfn(v->pages[i]), folio_ref_count(f),
			   folio_maybe_dma_pinned(f) ? " maybe_dma_pinned" : "");
		if (arr) {
			struct json_object *o = json_object_new_object();

			jset_int(o, "pfn", (long long)page_to_pfn(v->pages[i]));
			jset_int(o, "refcount", folio_ref_count(f));
			jset_bool(o, "maybe_dma_pinned", folio_maybe_dma_pinned(f));
			json_object_array_add(arr, o);
		}
	}
	if (arr) {
		struct json_object *d = json_object_new_object();

		jset_str(d, "name", v->name);
		jset_bool(d, "pinned", v->pinned);
		jset_int(d, "refs", v->refs);
		jset(d, "pages", arr);
		script_json_show(s, "pages", d);
	}
	return 0;
}

static int show_config(struct script *s, int argc, char **argv)
{
	const struct pinmm_config *cfg = s->m ? pinmm_machine_config(s->m) : &s->cfg;
	const char *const *keys = pinmm_config_keys();
	struct json_object *d = script_json_on(s) ? json_object_new_object() : NULL;
	char val[PINMM_PATH_MAX + 1];

	for (; keys && *keys; keys++) {
		bool wanted = argc == 2;

		for (int i = 2; i < argc; i++)
			wanted |= !strcmp(argv[i], *keys);
		if (!wanted || pinmm_config_get(cfg, *keys, val, sizeof(val)) < 0)
			continue;
		script_out(s, "%s=%s\n", *keys, val);
		if (d)
			jset_str(d, *keys, val);
	}
	if (d)
		script_json_show(s, "config", d);
	return 0;
}

struct owners_walk {
	struct script *s;
	struct json_object *owners;	/* under run --json */
};

static void show_owner(const struct pinmm_pin_owner *o, void *arg)
{
	struct owners_walk *w = arg;

	script_out(w->s, "  pfn %#lx: %d pin(s) by %s, pid %d, gup_flags %#x, at %.6f s\n",
		   o->pfn, o->refs, o->caller_name, o->pid, o->gup_flags,
		   (double)o->when_ns / 1e9);
	if (w->owners) {
		struct json_object *r = json_object_new_object();

		jset_int(r, "pfn", (long long)o->pfn);
		jset_int(r, "refs", o->refs);
		jset_str(r, "caller", o->caller_name);
		jset_int(r, "pid", o->pid);
		jset_int(r, "gup_flags", o->gup_flags);
		jset(r, "at_s", jnum((double)o->when_ns / 1e9, "%.6f"));
		json_object_array_add(w->owners, r);
	}
}

/* show owners: the pin provenance records (boot with pin.provenance=1). */
static int show_owners(struct script *s)
{
	struct owners_walk w = { .s = s };
	long n;

	if (script_need_machine(s))
		return SCRIPT_SYNTAX;
	if (script_json_on(s))
		w.owners = json_object_new_array();
	script_out(s, "outstanding pins by owner:\n");
	n = pinmm_pin_owners(s->m, show_owner, &w);
	if (n == -ENODATA)
		script_out(s, "  (pin provenance is off: boot with pin.provenance=1)\n");
	else if (n == 0)
		script_out(s, "  none\n");
	if (w.owners) {
		struct json_object *d = json_object_new_object();

		jset_bool(d, "provenance", n != -ENODATA);
		jset(d, "owners", w.owners);
		script_json_show(s, "owners", d);
	}
	return 0;
}

static int show_vars(struct script *s)
{
	struct json_object *d = script_json_on(s) ? json_object_new_object() : NULL;

	for (struct var *v = s->vars; v; v = v->next) {
		char val[256];

		script_format_value(v, val, sizeof(val));
		script_out(s, "%s = %s\n", v->name, val);
		if (d && v->kind == V_INT)
			jset_int(d, v->name, v->ival);
		else if (d)
			jset_str(d, v->name, val);
	}
	if (d)
		script_json_show(s, "vars", d);
	return 0;
}

static int cmd_show(struct script *s, int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	const struct script_subcmd *sub = script_find_subcmd(argc, argv);

	if (sub) {
		/* Forms of other groups record their own data under run --json. */
		long shows = script_json_shows(s);
		int rc = sub->fn(s, argc, argv);

		if (!rc && script_json_on(s) && script_json_shows(s) == shows) {
			fprintf(stderr, "pinmm: show %s recorded no data for --json "
				"(a bug of pinmm)\n", sub->name);
			return -EPROTO;	/* the runner names FILE:LINE */
		}
		return rc;
	}
	if (!strcmp(what, "page"))
		return show_page(s, argc, argv);
	if (!strcmp(what, "vmstat"))
		return show_vmstat(s, argc, argv);
	if (!strcmp(what, "pages"))
		return show_pages(s, argc, argv);
	if (!strcmp(what, "config"))
		return show_config(s, argc, argv);
	if (!strcmp(what, "owners") && argc == 2)
		return show_owners(s);
	if (!strcmp(what, "vars") && argc == 2)
		return show_vars(s);
	return script_syntax(s, "usage: %s", script_usage_of("show"));
}

static const struct script_cmd show_cmds[] = {
	{ "echo", cmd_echo, BIND_NONE, "echo WORDS..." },
	{ "print", cmd_print, BIND_NONE, "print VALUE..." },
	{ "show", cmd_show, BIND_NONE,
	  "show page [P] ADDR [NPAGES] | show vmstat [PREFIX] | show pages PG |\n"
	  "  show config [KEY...] | show vars | show owners" },
	{ NULL, NULL, BIND_NONE, NULL },
};

static const struct script_group show_group = {
	.title = "Output",
	.order = 50,
	.cmds = show_cmds,
};
SCRIPT_GROUP(show_group);
