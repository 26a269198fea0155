/* SPDX-License-Identifier: MIT */
/*
 * script_rdma_remote.c - the remote side of an MR in the scenario language:
 * `rdma read|write`, one operation presented to a PD by rkey as a remote
 * peer's request would be, and `peer start|stop|wait`, a peer thread that
 * keeps reading and writing an MR while the script goes on; plus the
 * observables of `show|expect peer` (pinmm_rdma_peer_progress(), or the
 * final counters after stop/wait).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "script_rdma.h"

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

/* rdma write [P] PD RKEY IOVA DATA  |  rdma read [P] PD RKEY IOVA LEN [-> X] */
int rdma_cmd_rdma(struct script *s, int argc, char **argv)
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

/*
 * What a script's peer may ask for, so that `peer wait` always ends within
 * seconds: at most PEER_OPS_MAX operations, each holding the region at most
 * PEER_HOLD_MAX_US, PEER_HOLD_TOTAL_US of holding in all.
 */
#define PEER_OPS_MAX		100000
#define PEER_HOLD_MAX_US	100000
#define PEER_HOLD_TOTAL_US	2000000LL

static int peer_option(struct script *s, const char *tok, struct pinmm_rdma_peer_cfg *cfg)
{
	static const struct { const char *key; long long lo, hi; } range[] = {
		{ "op", 1, PINMM_RDMA_MAX_MR_SIZE }, { "write", 0, 100 },
		{ "ops", 0, PEER_OPS_MAX }, { "hold", 0, PEER_HOLD_MAX_US },
		{ "pattern", 0, 255 }, { "seed", 0, LLONG_MAX },
	};
	const char *v;
	long long n;

	if (!strcmp(tok, "stop_on_error")) {
		cfg->stop_on_error = true;
		return 0;
	}
	if (!(v = strchr(tok, '=')) || arg_int(s, v + 1, &n))
		return v ? SCRIPT_SYNTAX : script_syntax(s, "peer: unknown option '%s'", tok);
	for (size_t k = 0; k < ARRAY_SIZE(range); k++)
		if (arg_kv(tok, range[k].key, &v) && (n < range[k].lo || n > range[k].hi))
			return script_syntax(s, "peer: %s=%lld out of range [%lld, %lld]",
					     range[k].key, n, range[k].lo, range[k].hi);
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
	if ((long long)cfg.max_ops * cfg.hold_us > PEER_HOLD_TOTAL_US)
		return script_syntax(s, "peer: ops x hold above %lld us", PEER_HOLD_TOTAL_US);
	ret = pinmm_rdma_peer_start(p, (int)pd, &cfg, &peer);
	if (ret)
		return ret;
	o = rdma_obj_new(s, OBJ_PEER);
	if (!o) {
		pinmm_rdma_peer_stop(peer, NULL);
		return -ENOMEM;
	}
	o->proc = p;
	o->pd = (int)pd;
	o->peer = peer;
	o->max_ops = cfg.max_ops;
	o->val = rdma_next_id(s);
	return var_bind_int(s, o->val);
}

/* peer stop|wait PEER: the final counters stay for show/expect peer. */
static int peer_finish(struct script *s, int argc, char **argv, bool wait)
{
	struct obj *o;
	int ret;

	if (argc != 3 || s->bind)
		return script_syntax(s, "usage: peer %s PEER", wait ? "wait" : "stop");
	if (rdma_obj_arg(s, argv[2], OBJ_PEER, &o))
		return SCRIPT_SYNTAX;
	if (!o->peer)
		return script_syntax(s, "peer %s has already finished", argv[2]);
	/* Only a peer with ops=N surely ends: stop_on_error may wait forever. */
	if (wait && !o->max_ops)
		return script_syntax(s, "peer wait needs a peer started with ops=N (else: peer stop)");
	ret = wait ? pinmm_rdma_peer_wait(o->peer, &o->final)
		   : pinmm_rdma_peer_stop(o->peer, &o->final);
	if (ret == 0)
		o->peer = NULL;
	return ret;
}

/* peer start ... -> PEER  |  peer stop|wait PEER */
int rdma_cmd_peer(struct script *s, int argc, char **argv)
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

/* rdma_peer_fields() - the counters of peer @o, live or final.  Return: their number. */
int rdma_peer_fields(struct obj *o, struct field *f)
{
	struct pinmm_rdma_peer_stats ps;
	int n = 0;

	peer_stats(o, &ps);
	f[n++] = (struct field)FIELD("ops", ps.ops);
	f[n++] = (struct field)FIELD("reads", ps.reads);
	f[n++] = (struct field)FIELD("writes", ps.writes);
	f[n++] = (struct field)FIELD("refused", ps.refused);
	f[n++] = (struct field)FIELD("sweeps", ps.sweeps);
	f[n++] = (struct field)FLAG("running", o->peer != NULL);
	f[n++] = (struct field){ "last_error", -ps.last_error, pinmm_strerror(-ps.last_error) };
	return n;
}
