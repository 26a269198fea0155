/* SPDX-License-Identifier: MIT */
/*
 * script_rdma.c - the RDMA and MMU-notifier command group of the scenario
 * language, written against <pinmm/rdma.h> and <pinmm/mmu_notifier.h> only:
 *
 *   pd alloc|dealloc       protection domains        (script_rdma_mr.c)
 *   reg_mr, dereg_mr       pinned, on-demand (odp) and remote (remote=Q) MRs
 *   rdma read|write        one remote operation      (script_rdma_remote.c)
 *   peer start|stop|wait   asynchronous remote peers
 *   notify, unnotify       an interval notifier that logs invalidations
 *                                                    (script_mmu_notifier.c)
 *
 * plus the forms `show mr|pd|peer|notifier` and `expect mr|pd|peer|notifier`.
 * This file holds what they share: the group's registration
 * (SCRIPT_GROUP(), script_table.c), the object table, and the field checks
 * and output of the show/expect forms.
 *
 * MRs, peers and notifiers are "objects" kept in a per-script table, each
 * bound to an integer variable of the same name (an MR's value is its rkey,
 * so `rdma write PD MR ...` works and a literal key tests a bad one; a
 * peer's or notifier's value is its number).  Before a machine shuts down
 * the script removes its notifiers (their memory is the script's) and
 * forgets its peers: pinmm_shutdown() stops and frees peers still running.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "script_rdma.h"

/* ---- the object table ------------------------------------------------------- */

static const char *const kind_names[] = { "an MR", "a peer", "a notifier" };

struct rdma_objs {
	struct obj *list;
	long next_id;
};

static const struct script_group rdma_group;

/* The script's object table; with @create, made on first use. */
static struct rdma_objs *objs(struct script *s, bool create)
{
	void **slot = script_private(s, &rdma_group);

	if (!slot)
		return NULL;
	if (!*slot && create)
		*slot = calloc(1, sizeof(struct rdma_objs));
	return *slot;
}

static struct obj *obj_lookup(struct script *s, const char *name)
{
	struct rdma_objs *t = objs(s, false);

	if (!t || !name)
		return NULL;
	for (struct obj *o = t->list; o; o = o->next)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

/* The object @name of @kind, still bound to its variable, or NULL. */
struct obj *rdma_obj_find(struct script *s, const char *name, enum obj_kind kind)
{
	struct obj *o = obj_lookup(s, name);
	struct var *v = var_find(s, name);

	if (!o || o->kind != kind || !v || v->kind != V_INT || v->ival != o->val)
		return NULL;
	return o;
}

/* rdma_obj_arg() - rdma_obj_find(), or a syntax error naming what @name is not. */
int rdma_obj_arg(struct script *s, const char *name, enum obj_kind kind, struct obj **out)
{
	*out = rdma_obj_find(s, name, kind);
	if (!*out)
		return script_syntax(s, "'%s' is not %s", name ? name : "", kind_names[kind]);
	return 0;
}

/* Unlink and free @o; a running peer is stopped (its counters are lost). */
void rdma_obj_free(struct script *s, struct obj *o)
{
	for (struct obj **pp = &objs(s, false)->list; *pp; pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	if (o->peer)
		pinmm_rdma_peer_stop(o->peer, NULL);
	rdma_notifier_free(o->notif);
	free(o->name);
	free(o);
}

/* A new object for the line's "-> NAME"; a previous one of that name goes. */
struct obj *rdma_obj_new(struct script *s, enum obj_kind kind)
{
	struct obj *o, *old = obj_lookup(s, s->bind);
	struct rdma_objs *t = objs(s, true);

	if (!t)
		return NULL;
	if (old)
		rdma_obj_free(s, old);
	o = calloc(1, sizeof(*o));
	if (!o || !(o->name = strdup(s->bind))) {
		free(o);
		return NULL;
	}
	o->kind = kind;
	o->next = t->list;
	t->list = o;
	return o;
}

/* rdma_next_id() - the number of the next peer or notifier (1, 2, ...). */
long rdma_next_id(struct script *s)
{
	return ++objs(s, false)->next_id;
}

/*
 * The machine is about to shut down: remove the notifiers, forget the MRs,
 * leave running peers to pinmm_shutdown().
 */
static void rdma_machine_gone(struct script *s)
{
	struct rdma_objs *t = objs(s, false);

	while (t && t->list) {
		struct obj *o = t->list;

		o->peer = NULL;		/* reaped by pinmm_shutdown() */
		rdma_obj_free(s, o);
	}
}

/* The script ends: free the table too. */
static void rdma_script_end(struct script *s)
{
	void **slot = script_private(s, &rdma_group);

	rdma_machine_gone(s);
	if (slot) {
		free(*slot);
		*slot = NULL;
	}
}

/* ---- checks: NAME, !NAME, NAME OP VALUE ------------------------------------------ */

static const struct field *field_find(const struct field *f, int n, const char *name, size_t len)
{
	for (int i = 0; i < n; i++)
		if (strlen(f[i].name) == len && !strncasecmp(f[i].name, name, len))
			return &f[i];
	return NULL;
}

static void field_fail(struct strbuf *fails, const struct field *f, enum cmp_op op,
		       const char *want, long long wantv)
{
	if (f->str)
		sb_printf(fails, "%s%s: expected %s%s, observed %s", fails->len ? "; " : "",
			  f->name, op == OP_EQ ? "" : "not ", want, f->str);
	else
		sb_printf(fails, "%s%s: expected %s %lld, observed %lld", fails->len ? "; " : "",
			  f->name, op_text[op], wantv, f->val);
}

static int field_check(struct script *s, const struct field *f, int n, const char *tok,
		       struct strbuf *fails)
{
	bool neg = tok[0] == '!';
	const char *name = tok + neg, *rest;
	size_t len = strcspn(name, "=!<>"), oplen;
	const struct field *fd = field_find(f, n, name, len);
	char opbuf[3] = "";
	long long want;
	enum cmp_op op;

	if (!fd)
		return script_syntax(s, "unknown field in '%s'", tok);
	rest = name + len;
	if (!*rest) {
		if (fd->str)
			return script_syntax(s, "'%s' needs a comparison, e.g. %s=NAME", tok, fd->name);
		if ((fd->val != 0) != !neg)
			sb_printf(fails, "%s%s: expected %s, observed %lld", fails->len ? "; " : "",
				  fd->name, neg ? "0" : "non-zero", fd->val);
		return 0;
	}
	oplen = strspn(rest, "=!<>");
	if (neg || oplen > 2)
		return script_syntax(s, "'%s' is not a check (NAME, !NAME or NAME OP VALUE)", tok);
	memcpy(opbuf, rest, oplen);
	op = parse_op(opbuf);
	if (op == OP_BAD)
		return script_syntax(s, "'%s' is not a comparison (== != < <= > >=)", opbuf);
	rest += oplen;
	if (fd->str) {
		bool eq = !strcasecmp(fd->str, rest);

		if (op != OP_EQ && op != OP_NE)
			return script_syntax(s, "%s compares with == or != only", fd->name);
		if (eq != (op == OP_EQ))
			field_fail(fails, fd, op, rest, 0);
		return 0;
	}
	if (arg_int(s, rest, &want))
		return SCRIPT_SYNTAX;
	if (!cmp_int(fd->val, op, want))
		field_fail(fails, fd, op, rest, want);
	return 0;
}

/* Run every CHECK of argv[first..] against @f: one expectation. */
int fields_expect(struct script *s, const struct field *f, int n, int argc, char **argv,
			 int first)
{
	struct strbuf fails = { 0 };
	int rc = 0;

	if (first >= argc)
		return script_syntax(s, "expect %s: no CHECK", argv[1]);
	for (int i = first; i < argc && !rc; i++)
		rc = field_check(s, f, n, argv[i], &fails);
	if (!rc)
		script_check(s, fails.len == 0, fails.buf);
	sb_free(&fails);
	return rc;
}

/* ---- show / expect ---------------------------------------------------------------------- */

/**
 * fields_json() - add the fields @f to the JSON object @o: a number as a
 * number, a name as a string, a flag as a boolean.
 * @o: the object (a show's data).
 * @f, @n: the fields.
 *
 * Context: a show form under `run --json`.
 */
void fields_json(struct json_object *o, const struct field *f, int n)
{
	for (int i = 0; i < n; i++) {
		if (f[i].str)
			jset_str(o, f[i].name, f[i].str);
		else if (f[i].flag)
			jset_bool(o, f[i].name, f[i].val != 0);
		else
			jset_int(o, f[i].name, f[i].val);
	}
}

/**
 * show_json_named() - a show's data object that starts with "name": @name,
 * or NULL when the run records no JSON.
 *
 * Context: a show form.
 */
struct json_object *show_json_named(struct script *s, const char *name)
{
	struct json_object *d;

	if (!script_json_on(s))
		return NULL;
	d = json_object_new_object();
	jset_str(d, "name", name);
	return d;
}

/**
 * show_fields() - print @title then the fields, six to a line; under `run
 * --json` record them as the show @what (fields_json()).
 * @what: the form ("pd", "peer", "lease").
 * @title: the heading of the text.
 * @f, @n: the fields.
 * @data: the members that come before the fields (taken), or NULL.
 *
 * Context: a show form.
 */
void show_fields(struct script *s, const char *what, const char *title, const struct field *f,
		 int n, struct json_object *data)
{
	struct strbuf sb = { 0 };

	for (int i = 0; i < n; i++) {	/* six to a line */
		if (f[i].str)
			sb_printf(&sb, "%s%s %s", i % 6 ? " " : "\n  ", f[i].name, f[i].str);
		else
			sb_printf(&sb, "%s%s %lld", i % 6 ? " " : "\n  ", f[i].name, f[i].val);
	}
	script_out(s, "%s:%s\n", title, sb.buf ? sb.buf : "");
	sb_free(&sb);
	if (!script_json_on(s)) {
		json_object_put(data);
		return;
	}
	if (!data)
		data = json_object_new_object();
	fields_json(data, f, n);
	script_json_show(s, what, data);
}

/* show|expect pd [P] PD ...: the process and descriptor; *i past them. */
static int pd_arg(struct script *s, int argc, char **argv, int *i, struct pinmm_proc **p,
		  int *pd)
{
	long long v;

	if (arg_proc(s, argc, argv, i, p))
		return SCRIPT_SYNTAX;
	if (*i >= argc || arg_int(s, argv[*i], &v))
		return script_syntax(s, "usage: %s pd [P] PD ...", argv[0]);
	(*i)++;
	*pd = (int)v;
	return 0;
}

/* The fields of the object argv[2] (or of PD [P] PD); *first: the next argument. */
static int object_fields(struct script *s, int argc, char **argv, struct field *f, int *first,
			 struct obj **out)
{
	const char *what = argv[1];
	struct pinmm_rdma_mr_info mi;
	struct pinmm_proc *p = NULL;
	struct obj *o = NULL;
	int pd = 0;

	*first = 3;
	*out = NULL;
	if (!strcmp(what, "pd")) {
		*first = 2;
		if (pd_arg(s, argc, argv, first, &p, &pd))
			return SCRIPT_SYNTAX;
		return rdma_pd_fields(p, pd, f);
	}
	if (argc < 3)
		return script_syntax(s, "usage: %s %s NAME", argv[0], what);
	if (rdma_obj_arg(s, argv[2], !strcmp(what, "mr") ? OBJ_MR : !strcmp(what, "peer") ? OBJ_PEER :
		    OBJ_NOTIFIER, &o))
		return SCRIPT_SYNTAX;
	*out = o;
	if (o->kind == OBJ_MR)
		return rdma_mr_fields(o, &mi, f);
	if (o->kind == OBJ_PEER)
		return rdma_peer_fields(o, f);
	return rdma_notifier_fields(o->notif, f);
}

/* show mr MR | show pd [P] PD | show peer PEER | show notifier N */
static int rdma_show(struct script *s, int argc, char **argv)
{
	struct field f[MAX_FIELDS];
	char title[64];
	struct obj *o;
	int first, n = object_fields(s, argc, argv, f, &first, &o);

	if (n < 0 || n == SCRIPT_SYNTAX)
		return n;
	if (first != argc)
		return script_syntax(s, "show %s: too many arguments", argv[1]);
	if (o && o->kind == OBJ_MR)
		return rdma_show_mr(s, o);
	if (o && o->kind == OBJ_NOTIFIER)
		return rdma_show_notifier(s, o);
	if (o) {
		snprintf(title, sizeof(title), "peer %s", argv[2]);
		show_fields(s, "peer", title, f, n, show_json_named(s, argv[2]));
	} else {
		struct json_object *d = script_json_on(s) ? json_object_new_object() : NULL;
		struct pinmm_proc *p;
		int i = 2, pd;

		if (d && !pd_arg(s, argc, argv, &i, &p, &pd)) {	/* parsed once already */
			jset_int(d, "pid", pinmm_proc_pid(p));
			jset_int(d, "pd", pd);
		}
		snprintf(title, sizeof(title), "pd %s", argv[argc - 1]);
		show_fields(s, "pd", title, f, n, d);
	}
	return 0;
}

/* expect mr|pd|peer|notifier ... CHECK...: one expectation over the fields. */
static int rdma_expect(struct script *s, int argc, char **argv)
{
	struct field f[MAX_FIELDS];
	struct obj *o;
	int first, n = object_fields(s, argc, argv, f, &first, &o);

	if (n < 0 || n == SCRIPT_SYNTAX)
		return n;
	return fields_expect(s, f, n, argc, argv, first);
}

static const struct script_cmd rdma_cmds[] = {
	{ "pd", rdma_cmd_pd, BIND_OPTIONAL, "pd alloc [P] -> PD | pd dealloc [P] PD" },
	{ "reg_mr", rdma_cmd_reg_mr, BIND_REQUIRED,
	  "reg_mr [P] PD ADDR LEN [access=FLAGS] [odp] [remote=Q] -> MR" },
	{ "dereg_mr", rdma_cmd_dereg_mr, BIND_NONE, "dereg_mr MR | dereg_mr [P] PD KEY" },
	{ "rdma", rdma_cmd_rdma, BIND_OPTIONAL,
	  "rdma write [P] PD RKEY IOVA DATA | rdma read [P] PD RKEY IOVA LEN [-> X]" },
	{ "peer", rdma_cmd_peer, BIND_OPTIONAL,
	  "peer start [P] PD RKEY IOVA LEN [op=N] [write=PCT] [ops=N] [hold=US]\n"
	  "    [pattern=B] [seed=N] [stop_on_error] -> PEER | peer stop|wait PEER" },
	{ "notify", rdma_cmd_notify, BIND_REQUIRED, "notify [P] ADDR LEN [log] -> N" },
	{ "unnotify", rdma_cmd_unnotify, BIND_NONE, "unnotify N" },
	{ "mirror", rdma_cmd_mirror, BIND_REQUIRED, "mirror N ADDR NPAGES [write] -> X   (HMM: pages mirrored)" },
	{ "mmu_events", rdma_cmd_mmu_events, BIND_REQUIRED, "mmu_events EVENT -> X   (UNMAP, CLEAR, ...)" },
	{ NULL, NULL, BIND_NONE, NULL },
};

static const struct script_subcmd rdma_subcmds[] = {
	{ "show", "mr", rdma_show, "show mr MR" },
	{ "show", "pd", rdma_show, "show pd [P] PD" },
	{ "show", "peer", rdma_show, "show peer PEER" },
	{ "show", "notifier", rdma_show, "show notifier N" },
	{ "expect", "mr", rdma_expect, "expect mr MR CHECK..." },
	{ "expect", "pd", rdma_expect, "expect pd [P] PD CHECK..." },
	{ "expect", "peer", rdma_expect, "expect peer PEER CHECK..." },
	{ "expect", "notifier", rdma_expect, "expect notifier N CHECK..." },
	{ NULL, NULL, NULL, NULL },
};

static const struct script_group rdma_group = {
	.title = "RDMA and MMU notifiers (<pinmm/rdma.h>, <pinmm/mmu_notifier.h>)",
	.order = 60,
	.cmds = rdma_cmds,
	.subcmds = rdma_subcmds,
	.machine_gone = rdma_machine_gone,
	.script_end = rdma_script_end,
};
SCRIPT_GROUP(rdma_group);
