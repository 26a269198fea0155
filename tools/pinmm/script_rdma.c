/* SPDX-License-Identifier: MIT */
/*
 * script_rdma.c - RDMA and MMU-notifier commands of the scenario language,
 * written against <pinmm/rdma.h> and <pinmm/mmu_notifier.h> only:
 *
 *   pd alloc|dealloc       protection domains (descriptors of a process)
 *   reg_mr, dereg_mr       pinned, on-demand (odp) and remote (remote=Q) MRs
 *   rdma read|write        one remote operation presented to a PD by rkey
 *   peer start|stop|wait   asynchronous remote peers
 *   notify, unnotify       an interval notifier that logs invalidations
 *
 * plus the forms `show mr|pd|peer|notifier` and `expect mr|pd|peer|notifier`,
 * which this file registers with the group (script_table.c).
 *
 * MRs, peers and notifiers are "objects" kept in a per-script table, each
 * bound to an integer variable of the same name (an MR's value is its rkey,
 * so `rdma write PD MR ...` works and a literal key tests a bad one; a
 * peer's or notifier's value is its number).  Before a machine shuts down
 * the script removes its notifiers (their memory is the script's) and
 * forgets its peers: pinmm_shutdown() stops and frees peers still running.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pinmm/mmu_notifier.h>
#include <pinmm/rdma.h>

#include "tool.h"

#define NR_EVENTS (MMU_NOTIFY_EXCLUSIVE + 1)
#define NLOG 32			/* events a notifier remembers */
#define RW_ACCESS (IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_READ)

static const char *const event_names[NR_EVENTS] = {
	[MMU_NOTIFY_UNMAP] = "UNMAP", [MMU_NOTIFY_CLEAR] = "CLEAR",
	[MMU_NOTIFY_PROTECTION_VMA] = "PROTECTION_VMA",
	[MMU_NOTIFY_PROTECTION_PAGE] = "PROTECTION_PAGE",
	[MMU_NOTIFY_SOFT_DIRTY] = "SOFT_DIRTY", [MMU_NOTIFY_RELEASE] = "RELEASE",
	[MMU_NOTIFY_MIGRATE] = "MIGRATE", [MMU_NOTIFY_EXCLUSIVE] = "EXCLUSIVE",
};

static const struct name_val access_names[] = {
	{ "LOCAL_WRITE", IB_ACCESS_LOCAL_WRITE }, { "REMOTE_WRITE", IB_ACCESS_REMOTE_WRITE },
	{ "REMOTE_READ", IB_ACCESS_REMOTE_READ }, { "REMOTE_ATOMIC", IB_ACCESS_REMOTE_ATOMIC },
	{ "MW_BIND", IB_ACCESS_MW_BIND }, { "ZERO_BASED", IB_ZERO_BASED },
	{ "ON_DEMAND", IB_ACCESS_ON_DEMAND }, { "HUGETLB", IB_ACCESS_HUGETLB },
	{ NULL, 0 },
};

/* ---- the object table ------------------------------------------------------- */

struct nevent {
	enum mmu_notifier_event event;
	unsigned long start, end;
};

/* A script's interval notifier: records every invalidation it is sent. */
struct snotifier {
	struct mmu_interval_notifier sub;
	struct script *s;
	const char *name;
	bool log;			/* print each event as it arrives */
	bool inserted;
	pthread_mutex_t lock;		/* a leaf: taken inside ->invalidate */
	long events;
	long per_event[NR_EVENTS];
	struct nevent ring[NLOG];	/* the last NLOG events */
};

enum obj_kind { OBJ_MR, OBJ_PEER, OBJ_NOTIFIER };

static const char *const kind_names[] = { "an MR", "a peer", "a notifier" };

struct obj {
	struct obj *next;
	char *name;
	enum obj_kind kind;
	long long val;			/* the value bound to the variable */
	struct pinmm_proc *proc;	/* MR, peer: the PD's process */
	int pd;
	uint32_t key;			/* MR */
	struct pinmm_rdma_peer *peer;	/* NULL once stopped */
	struct pinmm_rdma_peer_stats final;
	struct snotifier *notif;
};

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
static struct obj *obj_find(struct script *s, const char *name, enum obj_kind kind)
{
	struct obj *o = obj_lookup(s, name);
	struct var *v = var_find(s, name);

	if (!o || o->kind != kind || !v || v->kind != V_INT || v->ival != o->val)
		return NULL;
	return o;
}

static int obj_arg(struct script *s, const char *name, enum obj_kind kind, struct obj **out)
{
	*out = obj_find(s, name, kind);
	if (!*out)
		return script_syntax(s, "'%s' is not %s", name ? name : "", kind_names[kind]);
	return 0;
}

static void notifier_free(struct snotifier *n)
{
	if (!n)
		return;
	if (n->inserted)
		mmu_interval_notifier_remove(&n->sub);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

/* Unlink and free @o; a running peer is stopped (its counters are lost). */
static void obj_free(struct script *s, struct obj *o)
{
	for (struct obj **pp = &objs(s, false)->list; *pp; pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	if (o->peer)
		pinmm_rdma_peer_stop(o->peer, NULL);
	notifier_free(o->notif);
	free(o->name);
	free(o);
}

/* A new object for the line's "-> NAME"; a previous one of that name goes. */
static struct obj *obj_new(struct script *s, enum obj_kind kind)
{
	struct obj *o, *old = obj_lookup(s, s->bind);
	struct rdma_objs *t = objs(s, true);

	if (!t)
		return NULL;
	if (old)
		obj_free(s, old);
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
		obj_free(s, o);
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


/* One observable of an object: a number, or a name (str != NULL). */
struct field {
	const char *name;
	long long val;
	const char *str;
};

#define FIELD(n, v) { n, (long long)(v), NULL }
#define MAX_FIELDS 24

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
static int fields_expect(struct script *s, const struct field *f, int n, int argc, char **argv,
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

/* ---- protection domains ------------------------------------------------------------- */

static int cmd_pd(struct script *s, int argc, char **argv)
{
	bool alloc = argc > 1 && !strcmp(argv[1], "alloc");
	struct pinmm_proc *p;
	long long pd;
	int i = 2, ret;

	if (argc < 2 || (!alloc && strcmp(argv[1], "dealloc")))
		return script_syntax(s, "usage: %s", script_find_cmd("pd")->usage);
	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (alloc) {
		if (i != argc)
			return script_syntax(s, "usage: pd alloc [P] -> PD");
		ret = pinmm_rdma_alloc_pd(p);
		return ret < 0 ? ret : var_bind_int(s, ret);
	}
	if (s->bind)
		return script_syntax(s, "pd dealloc does not produce a value");
	if (i != argc - 1 || arg_int(s, argv[i], &pd))
		return script_syntax(s, "usage: pd dealloc [P] PD");
	return pinmm_rdma_dealloc_pd(p, (int)pd);
}

/* ---- memory regions ------------------------------------------------------------------ */

struct reg_args {
	struct pinmm_proc *p, *target;
	long long pd, addr, len;
	long access;
};

static int reg_option(struct script *s, const char *tok, struct reg_args *a)
{
	const char *v;
	struct var *q;

	if (!strcmp(tok, "odp")) {
		a->access |= IB_ACCESS_ON_DEMAND;
		return 0;
	}
	if (arg_kv(tok, "access", &v)) {
		long odp = a->access & IB_ACCESS_ON_DEMAND;

		if (arg_flags(s, v, access_names, "IB_ACCESS_", &a->access))
			return SCRIPT_SYNTAX;
		a->access |= odp;
		return 0;
	}
	if (arg_kv(tok, "remote", &v)) {
		q = var_find(s, v);
		if (!q || q->kind != V_PROC || !q->proc)
			return script_syntax(s, "remote=%s: not a live process", v);
		a->target = q->proc;
		return 0;
	}
	return script_syntax(s, "reg_mr: unknown option '%s'", tok);
}

static int cmd_reg_mr(struct script *s, int argc, char **argv)
{
	struct reg_args a = { .access = RW_ACCESS };
	struct pinmm_rdma_mr_info info;
	struct obj *o;
	int i = 1, ret;

	if (arg_proc(s, argc, argv, &i, &a.p))
		return SCRIPT_SYNTAX;
	if (argc - i < 3 || arg_int(s, argv[i], &a.pd) || arg_int(s, argv[i + 1], &a.addr) ||
	    arg_int(s, argv[i + 2], &a.len))
		return script_syntax(s, "usage: %s", script_find_cmd("reg_mr")->usage);
	for (i += 3; i < argc; i++)
		if (reg_option(s, argv[i], &a))
			return SCRIPT_SYNTAX;
	if (a.target)
		ret = pinmm_rdma_reg_mr_remote(a.p, (int)a.pd, a.target, (unsigned long)a.addr,
					       (size_t)a.len, (unsigned int)a.access, &info);
	else
		ret = pinmm_rdma_reg_mr(a.p, (int)a.pd, (unsigned long)a.addr, (size_t)a.len,
					(unsigned int)a.access, &info);
	if (ret)
		return ret;
	o = obj_new(s, OBJ_MR);
	if (!o) {
		pinmm_rdma_dereg_mr(a.p, (int)a.pd, info.lkey);
		return -ENOMEM;
	}
	o->proc = a.p;
	o->pd = (int)a.pd;
	o->key = info.lkey;
	o->val = info.rkey;
	if (s->opts->verbose)
		script_out(s, "  reg_mr -> key %#x, %lu pages%s%s\n", info.lkey, info.npages,
			   info.on_demand ? ", on demand" : ", pinned", info.remote ? ", remote" : "");
	return var_bind_int(s, info.rkey);
}

/* dereg_mr MR  or  dereg_mr [P] PD KEY (an MR is kept: a second dereg is ENOENT). */
static int cmd_dereg_mr(struct script *s, int argc, char **argv)
{
	struct obj *o = argc == 2 ? obj_find(s, argv[1], OBJ_MR) : NULL;
	struct pinmm_proc *p;
	long long pd, key;
	int i = 1;

	if (o)
		return pinmm_rdma_dereg_mr(o->proc, o->pd, o->key);
	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (argc - i != 2 || arg_int(s, argv[i], &pd) || arg_int(s, argv[i + 1], &key))
		return script_syntax(s, "usage: %s", script_find_cmd("dereg_mr")->usage);
	return pinmm_rdma_dereg_mr(p, (int)pd, (uint32_t)key);
}

/* ---- remote operations --------------------------------------------------------------- */

static int rdma_write(struct script *s, struct pinmm_proc *p, long long pd, long long key,
		      long long iova, const char *data)
{
	unsigned char *buf;
	size_t len;
	long ret;
	int rc = arg_data(s, data, &buf, &len);

	if (rc)
		return rc;
	ret = pinmm_rdma_remote_write(p, (int)pd, (uint32_t)key, (uint64_t)iova, buf, len);
	free(buf);
	return ret < 0 ? (int)ret : 0;
}

static int rdma_read(struct script *s, struct pinmm_proc *p, long long pd, long long key,
		     long long iova, const char *lentok)
{
	unsigned char *buf;
	long long len;
	long ret;
	int rc;

	if (arg_int(s, lentok, &len))
		return SCRIPT_SYNTAX;
	if (len < 0 || len > (64LL << 20))
		return script_syntax(s, "rdma read length %lld out of range (0..64M)", len);
	buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	ret = pinmm_rdma_remote_read(p, (int)pd, (uint32_t)key, (uint64_t)iova, buf, (size_t)len);
	rc = ret < 0 ? (int)ret : var_bind_bytes(s, buf, (size_t)ret);
	free(buf);
	return rc;
}

static int cmd_rdma(struct script *s, int argc, char **argv)
{
	bool write = argc > 1 && !strcmp(argv[1], "write");
	struct pinmm_proc *p;
	long long pd, key, iova;
	int i = 2;

	if (argc < 2 || (!write && strcmp(argv[1], "read")))
		return script_syntax(s, "usage: %s", script_find_cmd("rdma")->usage);
	if (write && s->bind)
		return script_syntax(s, "rdma write does not produce a value");
	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (argc - i != 4 || arg_int(s, argv[i], &pd) || arg_int(s, argv[i + 1], &key) ||
	    arg_int(s, argv[i + 2], &iova))
		return script_syntax(s, "usage: %s", script_find_cmd("rdma")->usage);
	return write ? rdma_write(s, p, pd, key, iova, argv[i + 3])
		     : rdma_read(s, p, pd, key, iova, argv[i + 3]);
}

/* ---- peers ------------------------------------------------------------------------------- */

static int peer_option(struct script *s, const char *tok, struct pinmm_rdma_peer_cfg *cfg)
{
	const char *v;
	long long n;

	if (!strcmp(tok, "stop_on_error")) {
		cfg->stop_on_error = true;
		return 0;
	}
	if (!(v = strchr(tok, '=')) || arg_int(s, v + 1, &n))
		return v ? SCRIPT_SYNTAX : script_syntax(s, "peer: unknown option '%s'", tok);
	if (arg_kv(tok, "op", &v))
		cfg->op_size = (size_t)n;
	else if (arg_kv(tok, "write", &v))
		cfg->write_pct = (int)n;
	else if (arg_kv(tok, "ops", &v))
		cfg->max_ops = (long)n;
	else if (arg_kv(tok, "hold", &v))
		cfg->hold_us = (unsigned int)n;
	else if (arg_kv(tok, "pattern", &v))
		cfg->pattern = (uint8_t)n;
	else if (arg_kv(tok, "seed", &v))
		cfg->seed = (uint64_t)n;
	else
		return script_syntax(s, "peer: unknown option '%s'", tok);
	return 0;
}

static int peer_start(struct script *s, int argc, char **argv)
{
	struct pinmm_rdma_peer_cfg cfg = { .write_pct = 50 };
	struct pinmm_rdma_peer *peer;
	struct pinmm_proc *p;
	long long pd, key, iova, len;
	struct obj *o;
	int i = 2, ret;

	if (!s->bind)
		return script_syntax(s, "peer start needs '-> PEER'");
	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (argc - i < 4 || arg_int(s, argv[i], &pd) || arg_int(s, argv[i + 1], &key) ||
	    arg_int(s, argv[i + 2], &iova) || arg_int(s, argv[i + 3], &len))
		return script_syntax(s, "usage: %s", script_find_cmd("peer")->usage);
	cfg.rkey = (uint32_t)key;
	cfg.iova = (uint64_t)iova;
	cfg.length = (uint64_t)len;
	for (i += 4; i < argc; i++)
		if (peer_option(s, argv[i], &cfg))
			return SCRIPT_SYNTAX;
	ret = pinmm_rdma_peer_start(p, (int)pd, &cfg, &peer);
	if (ret)
		return ret;
	o = obj_new(s, OBJ_PEER);
	if (!o) {
		pinmm_rdma_peer_stop(peer, NULL);
		return -ENOMEM;
	}
	o->proc = p;
	o->pd = (int)pd;
	o->peer = peer;
	o->val = ++objs(s, false)->next_id;
	return var_bind_int(s, o->val);
}

/* peer stop|wait PEER: the final counters stay for show/expect peer. */
static int peer_finish(struct script *s, int argc, char **argv, bool wait)
{
	struct obj *o;
	int ret;

	if (argc != 3 || s->bind)
		return script_syntax(s, "usage: peer %s PEER", wait ? "wait" : "stop");
	if (obj_arg(s, argv[2], OBJ_PEER, &o))
		return SCRIPT_SYNTAX;
	if (!o->peer)
		return script_syntax(s, "peer %s has already finished", argv[2]);
	ret = wait ? pinmm_rdma_peer_wait(o->peer, &o->final)
		   : pinmm_rdma_peer_stop(o->peer, &o->final);
	if (ret == 0)
		o->peer = NULL;
	return ret;
}

static int cmd_peer(struct script *s, int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";

	if (!strcmp(what, "start"))
		return peer_start(s, argc, argv);
	if (!strcmp(what, "stop") || !strcmp(what, "wait"))
		return peer_finish(s, argc, argv, what[0] == 'w');
	return script_syntax(s, "usage: %s", script_find_cmd("peer")->usage);
}

static void peer_stats(struct obj *o, struct pinmm_rdma_peer_stats *ps)
{
	if (o->peer)
		pinmm_rdma_peer_progress(o->peer, ps);
	else
		*ps = o->final;
}

/* ---- notifiers ------------------------------------------------------------------------- */

static void nevent_text(const struct nevent *e, char *buf, size_t len)
{
	if (e->end - e->start >= (1UL << 40))
		snprintf(buf, len, "%s [%#lx, %#lx) (the whole address space)",
			 event_names[e->event], e->start, e->end);
	else
		snprintf(buf, len, "%s [%#lx, %#lx) %lu page%s", event_names[e->event], e->start,
			 e->end, (e->end - e->start) / 4096, e->end - e->start == 4096 ? "" : "s");
}

/*
 * ->invalidate: record the event.  Runs inside the mm operation (mmap or
 * rmap locks held, possibly in a peer's thread); the lock is a leaf.
 */
static bool snotifier_invalidate(struct mmu_interval_notifier *sub,
				 const struct mmu_notifier_range *range, unsigned long cur_seq)
{
	struct snotifier *n = (struct snotifier *)sub;	/* first member */
	struct nevent e = { range->event, range->start, range->end };

	pthread_mutex_lock(&n->lock);
	mmu_interval_set_seq(sub, cur_seq);
	if (e.event < NR_EVENTS)
		n->per_event[e.event]++;
	n->ring[n->events % NLOG] = e;
	n->events++;
	pthread_mutex_unlock(&n->lock);
	if (n->log) {
		char text[96];

		nevent_text(&e, text, sizeof(text));
		script_out(n->s, "  notifier %s: %s\n", n->name, text);
	}
	return true;
}

static const struct mmu_interval_notifier_ops snotifier_ops = {
	.invalidate = snotifier_invalidate,
};

/* notify [P] ADDR LEN [log] -> N */
static int cmd_notify(struct script *s, int argc, char **argv)
{
	struct pinmm_proc *p;
	struct snotifier *n;
	long long addr, len;
	struct obj *o;
	bool log = false;
	int i = 1, ret;

	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (argc - i == 3 && !strcmp(argv[argc - 1], "log")) {
		log = true;
		argc--;
	}
	if (argc - i != 2 || arg_int(s, argv[i], &addr) || arg_int(s, argv[i + 1], &len))
		return script_syntax(s, "usage: %s", script_find_cmd("notify")->usage);
	if (!pinmm_proc_mm(p))
		return -ESRCH;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	pthread_mutex_init(&n->lock, NULL);
	n->s = s;
	n->log = log;
	ret = mmu_interval_notifier_insert(&n->sub, pinmm_proc_mm(p), (unsigned long)addr,
					   (unsigned long)len, &snotifier_ops);
	if (ret || !(o = obj_new(s, OBJ_NOTIFIER))) {
		n->inserted = !ret;
		notifier_free(n);
		return ret ? ret : -ENOMEM;
	}
	n->inserted = true;
	n->name = o->name;
	o->notif = n;
	o->val = ++objs(s, false)->next_id;
	return var_bind_int(s, o->val);
}

static int cmd_unnotify(struct script *s, int argc, char **argv)
{
	struct obj *o;

	if (argc != 2)
		return script_syntax(s, "usage: unnotify N");
	if (obj_arg(s, argv[1], OBJ_NOTIFIER, &o))
		return SCRIPT_SYNTAX;
	obj_free(s, o);
	return 0;
}

/* ---- the fields of each object ---------------------------------------------------------- */

static int mr_fields(struct obj *o, struct pinmm_rdma_mr_info *mi, struct field *f)
{
	int n = 0, ret = pinmm_rdma_query_mr(o->proc, o->pd, o->key, mi);

	if (ret)
		return ret;
	f[n++] = (struct field)FIELD("key", mi->lkey);
	f[n++] = (struct field)FIELD("iova", mi->iova);
	f[n++] = (struct field)FIELD("length", mi->length);
	f[n++] = (struct field)FIELD("access", mi->access);
	f[n++] = (struct field)FIELD("pages", mi->npages);
	f[n++] = (struct field)FIELD("pinned", mi->on_demand ? 0 : mi->npages);
	f[n++] = (struct field)FIELD("mapped", mi->mapped_pages);
	f[n++] = (struct field)FIELD("device_faults", mi->device_faults);
	f[n++] = (struct field)FIELD("invalidations", mi->invalidations);
	f[n++] = (struct field)FIELD("inflight", mi->inflight);
	f[n++] = (struct field)FIELD("odp", mi->on_demand);
	f[n++] = (struct field)FIELD("remote", mi->remote);
	f[n++] = (struct field)FIELD("target_pid", mi->target_pid);
	return n;
}

static int pd_fields(struct pinmm_proc *p, int pd, struct field *f)
{
	struct pinmm_rdma_stats st;
	int n = 0, ret = pinmm_rdma_pd_stats(p, pd, &st);

	if (ret)
		return ret;
	f[n++] = (struct field)FIELD("reads", st.remote_reads);
	f[n++] = (struct field)FIELD("writes", st.remote_writes);
	f[n++] = (struct field)FIELD("bytes_read", st.bytes_read);
	f[n++] = (struct field)FIELD("bytes_written", st.bytes_written);
	f[n++] = (struct field)FIELD("refused", st.refused);
	f[n++] = (struct field)FIELD("refused_bad_key", st.refused_bad_key);
	f[n++] = (struct field)FIELD("refused_revoked", st.refused_revoked);
	f[n++] = (struct field)FIELD("refused_wrong_pd", st.refused_wrong_pd);
	f[n++] = (struct field)FIELD("refused_range", st.refused_range);
	f[n++] = (struct field)FIELD("refused_access", st.refused_access);
	f[n++] = (struct field)FIELD("refused_fault", st.refused_fault);
	f[n++] = (struct field)FIELD("device_faults", st.device_faults);
	f[n++] = (struct field)FIELD("fault_retries", st.fault_retries);
	f[n++] = (struct field)FIELD("invalidations", st.invalidations);
	f[n++] = (struct field)FIELD("invalidated_pages", st.invalidated_pages);
	f[n++] = (struct field)FIELD("mrs_registered", st.mrs_registered);
	f[n++] = (struct field)FIELD("mrs", st.mrs_live);
	return n;
}

static int peer_fields(struct obj *o, struct field *f)
{
	struct pinmm_rdma_peer_stats ps;
	int n = 0;

	peer_stats(o, &ps);
	f[n++] = (struct field)FIELD("ops", ps.ops);
	f[n++] = (struct field)FIELD("reads", ps.reads);
	f[n++] = (struct field)FIELD("writes", ps.writes);
	f[n++] = (struct field)FIELD("refused", ps.refused);
	f[n++] = (struct field)FIELD("sweeps", ps.sweeps);
	f[n++] = (struct field)FIELD("running", o->peer != NULL);
	f[n++] = (struct field){ "last_error", -ps.last_error, pinmm_strerror(-ps.last_error) };
	return n;
}

static int notifier_fields(struct snotifier *nt, struct field *f)
{
	struct nevent last = { 0 };
	int n = 0;

	pthread_mutex_lock(&nt->lock);
	if (nt->events)
		last = nt->ring[(nt->events - 1) % NLOG];
	f[n++] = (struct field)FIELD("events", nt->events);
	f[n++] = (struct field){ "last", 0, nt->events ? event_names[last.event] : "NONE" };
	f[n++] = (struct field)FIELD("last_start", last.start);
	f[n++] = (struct field)FIELD("last_end", last.end);
	/* per event, by name: unmap>=1, PROTECTION_VMA==0 (names match any case) */
	for (int e = 0; e < NR_EVENTS; e++)
		f[n++] = (struct field)FIELD(event_names[e], nt->per_event[e]);
	pthread_mutex_unlock(&nt->lock);
	return n;
}

/* ---- show / expect ---------------------------------------------------------------------- */

static void access_text(unsigned int access, char *buf, size_t len)
{
	flags_name(access_names, access, buf, len);
}

static int show_mr(struct script *s, struct obj *o)
{
	struct pinmm_rdma_mr_info mi;
	struct field f[MAX_FIELDS];
	char acc[128];
	int n = mr_fields(o, &mi, f);

	if (n < 0)
		return n;
	access_text(mi.access, acc, sizeof(acc));
	script_out(s, "mr %s: key %#x, %s, iova %#llx, %llu bytes, access %s\n", o->name, mi.lkey,
		   mi.on_demand ? "on demand" : "pinned", (unsigned long long)mi.iova,
		   (unsigned long long)mi.length, acc);
	if (mi.remote)
		script_out(s, "  remote: over the memory of pid %d\n", mi.target_pid);
	script_out(s, "  pages %lu pinned %lu mapped %lu device_faults %ld invalidations %ld "
		   "inflight %d\n", mi.npages, mi.on_demand ? 0 : mi.npages, mi.mapped_pages,
		   mi.device_faults, mi.invalidations, mi.inflight);
	return 0;
}

static void show_fields(struct script *s, const char *title, const struct field *f, int n)
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
}

static int show_notifier(struct script *s, struct obj *o)
{
	struct snotifier *nt = o->notif;
	struct nevent ring[NLOG];
	long events, first;

	pthread_mutex_lock(&nt->lock);
	events = nt->events;
	memcpy(ring, nt->ring, sizeof(ring));
	pthread_mutex_unlock(&nt->lock);
	script_out(s, "notifier %s: [%#lx, %#lx], %ld event%s\n", o->name, nt->sub.start,
		   nt->sub.last + 1, events, events == 1 ? "" : "s");
	first = events > NLOG ? events - NLOG : 0;
	for (long k = first; k < events; k++) {
		char text[96];

		nevent_text(&ring[k % NLOG], text, sizeof(text));
		script_out(s, "  %ld: %s\n", k + 1, text);
	}
	return 0;
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
		return pd_fields(p, pd, f);
	}
	if (argc < 3)
		return script_syntax(s, "usage: %s %s NAME", argv[0], what);
	if (obj_arg(s, argv[2], !strcmp(what, "mr") ? OBJ_MR : !strcmp(what, "peer") ? OBJ_PEER :
		    OBJ_NOTIFIER, &o))
		return SCRIPT_SYNTAX;
	*out = o;
	if (o->kind == OBJ_MR)
		return mr_fields(o, &mi, f);
	if (o->kind == OBJ_PEER)
		return peer_fields(o, f);
	return notifier_fields(o->notif, f);
}

/* show mr MR | show pd [P] PD | show peer PEER | show notifier N */
static int rdma_show(struct script *s, int argc, char **argv)
{
	struct field f[MAX_FIELDS];
	struct obj *o;
	int first, n = object_fields(s, argc, argv, f, &first, &o);

	if (n < 0 || n == SCRIPT_SYNTAX)
		return n;
	if (first != argc)
		return script_syntax(s, "show %s: too many arguments", argv[1]);
	if (o && o->kind == OBJ_MR)
		return show_mr(s, o);
	if (o && o->kind == OBJ_NOTIFIER)
		return show_notifier(s, o);
	if (o) {
		char title[64];

		snprintf(title, sizeof(title), "peer %s", argv[2]);
		show_fields(s, title, f, n);
	} else {
		char title[64];

		snprintf(title, sizeof(title), "pd %s", argv[argc - 1]);
		show_fields(s, title, f, n);
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
	{ "pd", cmd_pd, BIND_OPTIONAL, "pd alloc [P] -> PD | pd dealloc [P] PD" },
	{ "reg_mr", cmd_reg_mr, BIND_REQUIRED,
	  "reg_mr [P] PD ADDR LEN [access=FLAGS] [odp] [remote=Q] -> MR" },
	{ "dereg_mr", cmd_dereg_mr, BIND_NONE, "dereg_mr MR | dereg_mr [P] PD KEY" },
	{ "rdma", cmd_rdma, BIND_OPTIONAL,
	  "rdma write [P] PD RKEY IOVA DATA | rdma read [P] PD RKEY IOVA LEN [-> X]" },
	{ "peer", cmd_peer, BIND_OPTIONAL,
	  "peer start [P] PD RKEY IOVA LEN [op=N] [write=PCT] [ops=N] [hold=US]\n"
	  "    [pattern=B] [seed=N] [stop_on_error] -> PEER | peer stop|wait PEER" },
	{ "notify", cmd_notify, BIND_REQUIRED, "notify [P] ADDR LEN [log] -> N" },
	{ "unnotify", cmd_unnotify, BIND_NONE, "unnotify N" },
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
