/* SPDX-License-Identifier: MIT */
/*
 * script_rdma_mr.c - protection domains and memory regions in the scenario
 * language: `pd alloc|dealloc`, `reg_mr` (pinned, on-demand with `odp`, or
 * over another process's memory with `remote=Q`), `dereg_mr`, and the
 * observables of `show|expect mr` and `show|expect pd`
 * (pinmm_rdma_query_mr(), pinmm_rdma_pd_stats()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "script_rdma.h"

#define RW_ACCESS (IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_READ)

static const struct name_val access_names[] = {
	{ "LOCAL_WRITE", IB_ACCESS_LOCAL_WRITE }, { "REMOTE_WRITE", IB_ACCESS_REMOTE_WRITE },
	{ "REMOTE_READ", IB_ACCESS_REMOTE_READ }, { "REMOTE_ATOMIC", IB_ACCESS_REMOTE_ATOMIC },
	{ "MW_BIND", IB_ACCESS_MW_BIND }, { "ZERO_BASED", IB_ZERO_BASED },
	{ "ON_DEMAND", IB_ACCESS_ON_DEMAND }, { "HUGETLB", IB_ACCESS_HUGETLB },
	{ NULL, 0 },
};

/* ---- protection domains ------------------------------------------------------------- */

/* pd alloc [P] -> PD  |  pd dealloc [P] PD */
int rdma_cmd_pd(struct script *s, int argc, char **argv)
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

/* reg_mr [P] PD ADDR LEN [access=FLAGS] [odp] [remote=Q] -> MR: the MR is an object. */
int rdma_cmd_reg_mr(struct script *s, int argc, char **argv)
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
	o = rdma_obj_new(s, OBJ_MR);
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
int rdma_cmd_dereg_mr(struct script *s, int argc, char **argv)
{
	struct obj *o = argc == 2 ? rdma_obj_find(s, argv[1], OBJ_MR) : NULL;
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

/* ---- observables -------------------------------------------------------------------- */

/* rdma_mr_fields() - the observables of MR @o (@mi filled).  Return: their number, or -errno. */
int rdma_mr_fields(struct obj *o, struct pinmm_rdma_mr_info *mi, struct field *f)
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
	f[n++] = (struct field)FLAG("odp", mi->on_demand);
	f[n++] = (struct field)FLAG("remote", mi->remote);
	f[n++] = (struct field)FIELD("target_pid", mi->target_pid);
	f[n++] = (struct field)FLAG("lease_revoked", mi->lease_revoked);
	return n;
}

/* rdma_pd_fields() - the counters of PD @pd of @p.  Return: their number, or -errno. */
int rdma_pd_fields(struct pinmm_proc *p, int pd, struct field *f)
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
	f[n++] = (struct field)FIELD("refused_lease", st.refused_lease);
	f[n++] = (struct field)FIELD("mrs_revoked", st.mrs_revoked);
	f[n++] = (struct field)FIELD("revoke_drains", st.revoke_drains);
	f[n++] = (struct field)FIELD("events_lost", st.events_lost);
	return n;
}

static void access_text(unsigned int access, char *buf, size_t len)
{
	flags_name(access_names, access, buf, len);
}

/* show mr MR: the MR in three lines. */
int rdma_show_mr(struct script *s, struct obj *o)
{
	struct pinmm_rdma_mr_info mi;
	struct field f[MAX_FIELDS];
	char acc[128];
	int n = rdma_mr_fields(o, &mi, f);

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
	if (script_json_on(s)) {	/* the fields, and access as flag names */
		struct json_object *d = show_json_named(s, o->name), *names;
		char *save = NULL;

		fields_json(d, f, n);
		names = json_object_new_array();
		for (char *w = strtok_r(acc, "|", &save); w && strcmp(w, "0");
		     w = strtok_r(NULL, "|", &save))
			json_object_array_add(names, json_object_new_string(w));
		jset(d, "access_flags", names);
		script_json_show(s, "mr", d);
	}
	return 0;
}
