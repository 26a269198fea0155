/* SPDX-License-Identifier: MIT */
/*
 * script_lease.c - layout leases and file_pin records in the scenario
 * language, written against <pinmm/lease.h> and <pinmm/rdma.h> only:
 *
 *   lease get [P] FD -> L     take a layout lease (pinmm_lease_get())
 *   lease put L               release it (EBUSY while file_pins hold it)
 *   lease wait L MS           wait for its break notice, ETIMEDOUT at MS
 *   file_pins [all|P] [FILE] [json]
 *                             list file_pin records, text or JSON
 *   async_event [P] PD MS -> K
 *                             the PD's next async event (a revoked MR's key)
 *
 * plus `show lease L` and `expect lease L CHECK...` over state, breaks,
 * etxtbsy, lease_pins, file_pins, writable, broken, revoked.  A lease is
 * bound to an integer variable (its number); the script puts the leases
 * still held before the machine shuts down.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pinmm/lease.h>

#include "json_out.h"
#include "script_rdma.h"

#define MAX_LEASES 32

struct lease_tab {
	struct pinmm_lease *l[MAX_LEASES];	/* index = number - 1 */
};

static const struct script_group lease_group;

static struct lease_tab *tab(struct script *s)
{
	void **slot = script_private(s, &lease_group);

	if (slot && !*slot)
		*slot = calloc(1, sizeof(struct lease_tab));
	return slot ? *slot : NULL;
}

/* The lease bound to variable @name, or a syntax error. */
static int lease_arg(struct script *s, const char *name, struct pinmm_lease **out, int *idx)
{
	struct lease_tab *t = tab(s);
	struct var *v = var_find(s, name);

	if (!t || !v || v->kind != V_INT || v->ival < 1 || v->ival > MAX_LEASES ||
	    !t->l[v->ival - 1])
		return script_syntax(s, "'%s' is not a lease", name ? name : "");
	*idx = (int)v->ival - 1;
	*out = t->l[*idx];
	return 0;
}

static int lease_get(struct script *s, int argc, char **argv)
{
	struct lease_tab *t = tab(s);
	struct pinmm_proc *p;
	long long fd;
	int i = 2, slot = -1, ret;

	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (i != argc - 1 || arg_int(s, argv[i], &fd) || !s->bind)
		return script_syntax(s, "usage: lease get [P] FD -> L");
	for (int k = 0; t && k < MAX_LEASES && slot < 0; k++)
		if (!t->l[k])
			slot = k;
	if (slot < 0)
		return -ENOMEM;
	ret = pinmm_lease_get(p, (int)fd, NULL, NULL, &t->l[slot]);
	return ret ? ret : var_bind_int(s, slot + 1);
}

/* lease get|put|wait */
static int lease_cmd(struct script *s, int argc, char **argv)
{
	struct pinmm_lease *l;
	long long ms;
	int idx, ret;

	if (argc >= 2 && !strcmp(argv[1], "get"))
		return lease_get(s, argc, argv);
	if (s->bind)
		return script_syntax(s, "lease %s does not produce a value",
				     argc > 1 ? argv[1] : "");
	if (argc == 3 && !strcmp(argv[1], "put")) {
		if (lease_arg(s, argv[2], &l, &idx))
			return SCRIPT_SYNTAX;
		ret = pinmm_lease_put(l);
		if (!ret)
			tab(s)->l[idx] = NULL;
		return ret;
	}
	if (argc == 4 && !strcmp(argv[1], "wait")) {
		if (lease_arg(s, argv[2], &l, &idx) || arg_int(s, argv[3], &ms))
			return SCRIPT_SYNTAX;
		return pinmm_lease_wait_break(l, (unsigned int)ms);
	}
	return script_syntax(s, "usage: %s", script_find_cmd("lease")->usage);
}

static const char *const state_names[] = { "active", "breaking", "revoked" };

static int lease_fields(struct pinmm_lease *l, struct field *f)
{
	struct pinmm_lease_info li;
	int n = 0, ret = pinmm_lease_info(l, &li);

	if (ret)
		return ret;
	f[n++] = (struct field){ "state", li.state,
				 li.state >= 0 && li.state < 3 ? state_names[li.state] : "?" };
	f[n++] = (struct field)FLAG("writable", li.writable);
	f[n++] = (struct field)FIELD("breaks", li.breaks);
	f[n++] = (struct field)FLAG("broken", li.broken_ns != 0);
	f[n++] = (struct field)FLAG("revoked", li.revoked_ns != 0);
	f[n++] = (struct field)FIELD("etxtbsy", li.etxtbsy);
	f[n++] = (struct field)FIELD("lease_pins", li.lease_pins);
	f[n++] = (struct field)FIELD("file_pins", li.file_pins);
	f[n++] = (struct field){ "why", 0, li.why[0] ? li.why : "-" };
	return n;
}

/* show lease L | expect lease L CHECK... */
static int lease_show_expect(struct script *s, int argc, char **argv)
{
	struct field f[MAX_FIELDS];
	struct pinmm_lease *l;
	char title[64];
	int idx, n;

	if (argc < 3 || lease_arg(s, argv[2], &l, &idx))
		return argc < 3 ? script_syntax(s, "usage: %s lease L", argv[0]) : SCRIPT_SYNTAX;
	n = lease_fields(l, f);
	if (n < 0)
		return n;
	if (!strcmp(argv[0], "expect"))
		return fields_expect(s, f, n, argc, argv, 3);
	if (argc != 3)
		return script_syntax(s, "show lease: too many arguments");
	snprintf(title, sizeof(title), "lease %s", argv[2]);
	show_fields(s, "lease", title, f, n, show_json_named(s, argv[2]));
	return 0;
}

/* file_pins [all|P] [FILE] [json] */
static int file_pins_cmd(struct script *s, int argc, char **argv)
{
	struct pinmm_file_pin_info fp[64];
	const char *path = NULL;
	struct pinmm_proc *p = NULL;
	struct json_object *doc = NULL, *arr = NULL;
	bool json = false;
	int i = 1, pid = -1;
	long n;

	if (i < argc && !strcmp(argv[i], "all"))
		i++;
	else if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "json"))
			json = true;
		else if (argv[i][0] == '/' && !path)
			path = argv[i];
		else
			return script_syntax(s, "usage: %s", script_find_cmd("file_pins")->usage);
	}
	if (p)
		pid = pinmm_proc_pid(p);
	n = pinmm_file_pins(s->m, pid, path, fp, 64);
	if (n < 0)
		return (int)n;
	if (json || script_json_on(s)) {	/* printed with json; recorded under run --json */
		doc = json_object_new_object();
		arr = json_object_new_array();
	}
	for (long k = 0; k < n && k < 64; k++) {
		const struct pinmm_file_pin_info *r = &fp[k];

		if (arr) {
			struct json_object *o = json_object_new_object();

			jset_int(o, "pid", r->pid);
			jset_int(o, "addr", r->addr);
			jset_int(o, "pages", r->nr_pages);
			jset_bool(o, "writable", r->writable);
			jset_bool(o, "revoked", r->revoked);
			jset_str(o, "file", r->file);
			jset_str(o, "owner", r->owner);
			jset_int(o, "age_ms", (long long)r->age_ms);
			json_object_array_add(arr, o);
		}
		if (!json) {
			script_out(s, "file_pin: pid %d %#lx %lu pages %s%s file %s owner %s "
				   "age %llu ms\n", r->pid, r->addr, r->nr_pages,
				   r->writable ? "rw" : "ro", r->revoked ? " REVOKED" : "",
				   r->file[0] ? r->file : "(anon)", r->owner,
				   (unsigned long long)r->age_ms);
		}
	}
	if (doc) {
		jset(doc, "file_pins", arr);
		jset_int(doc, "count", n);
	}
	if (json) {
		script_out(s, "%s\n", json_text(doc));
	} else {
		script_out(s, "file_pins: %ld\n", n);
	}
	if (doc && script_json_on(s))	/* the document run --json records */
		script_json_show(s, "file_pins", doc);
	else
		json_object_put(doc);
	return var_bind_int(s, n);
}

/* async_event [P] PD MS -> K: the next event's region key. */
static int async_event_cmd(struct script *s, int argc, char **argv)
{
	struct pinmm_rdma_async_event ev;
	struct pinmm_proc *p;
	long long pd, ms;
	int i = 1, ret;

	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (argc - i != 2 || arg_int(s, argv[i], &pd) || arg_int(s, argv[i + 1], &ms))
		return script_syntax(s, "usage: %s", script_find_cmd("async_event")->usage);
	ret = pinmm_rdma_get_async_event(p, (int)pd, &ev, (unsigned int)ms);
	if (ret)
		return ret;
	if (s->opts->verbose)
		script_out(s, "  async_event: type %d key %#x\n", ev.type, ev.lkey);
	return var_bind_int(s, ev.lkey);
}

/* Before the machine goes: put the leases still held. */
static void lease_machine_gone(struct script *s)
{
	void **slot = script_private(s, &lease_group);
	struct lease_tab *t = slot ? *slot : NULL;

	for (int k = 0; t && k < MAX_LEASES; k++)
		if (t->l[k] && !pinmm_lease_put(t->l[k]))
			t->l[k] = NULL;
}

static void lease_script_end(struct script *s)
{
	void **slot = script_private(s, &lease_group);

	if (slot) {
		free(*slot);
		*slot = NULL;
	}
}

static const struct script_cmd lease_cmds[] = {
	{ "lease", lease_cmd, BIND_OPTIONAL,
	  "lease get [P] FD -> L | lease put L | lease wait L MS" },
	{ "file_pins", file_pins_cmd, BIND_OPTIONAL, "file_pins [all|P] [FILE] [json] [-> N]" },
	{ "async_event", async_event_cmd, BIND_OPTIONAL, "async_event [P] PD MS [-> KEY]" },
	{ NULL, NULL, BIND_NONE, NULL },
};

static const struct script_subcmd lease_subcmds[] = {
	{ "show", "lease", lease_show_expect, "show lease L" },
	{ "expect", "lease", lease_show_expect, "expect lease L CHECK..." },
	{ NULL, NULL, NULL, NULL },
};

static const struct script_group lease_group = {
	.title = "Layout leases and file_pin records (<pinmm/lease.h>)",
	.order = 65,
	.cmds = lease_cmds,
	.subcmds = lease_subcmds,
	.machine_gone = lease_machine_gone,
	.script_end = lease_script_end,
};
SCRIPT_GROUP(lease_group);
