/* SPDX-License-Identifier: MIT */
/*
 * script_rdma.h - what the RDMA and MMU-notifier command files of the
 * scenario language share (script_rdma.c, script_rdma_mr.c,
 * script_rdma_remote.c, script_mmu_notifier.c); the rest of the tool does
 * not include it.
 *
 * MRs, peers and notifiers are "objects" kept in a per-script table
 * (script_rdma.c), each bound to an integer variable of the same name; the
 * `show` and `expect` forms read an object's observables as a list of
 * fields.
 */
#ifndef PINMM_SCRIPT_RDMA_H
#define PINMM_SCRIPT_RDMA_H

#include <stdint.h>

#include <pinmm/rdma.h>

#include "json_out.h"
#include "tool.h"

enum obj_kind { OBJ_MR, OBJ_PEER, OBJ_NOTIFIER };

struct snotifier;

/* struct obj - an MR, a peer or a notifier of the script. */
struct obj {
	struct obj *next;
	char *name;
	enum obj_kind kind;
	long long val;			/* the value bound to the variable */
	struct pinmm_proc *proc;	/* MR, peer: the PD's process */
	int pd;
	uint32_t key;			/* MR */
	struct pinmm_rdma_peer *peer;	/* NULL once stopped */
	long max_ops;			/* peer: its ops=N, 0 if none */
	struct pinmm_rdma_peer_stats final;
	struct snotifier *notif;
};

/* The object table (script_rdma.c). */
struct obj *rdma_obj_find(struct script *s, const char *name, enum obj_kind kind);
int rdma_obj_arg(struct script *s, const char *name, enum obj_kind kind, struct obj **out);
struct obj *rdma_obj_new(struct script *s, enum obj_kind kind);
void rdma_obj_free(struct script *s, struct obj *o);
long rdma_next_id(struct script *s);

/*
 * One observable of an object: a number, a name (str != NULL) or a yes/no
 * (flag: val is 0 or 1; a boolean under `run --json`).
 */
struct field {
	const char *name;
	long long val;
	const char *str;
	bool flag;
};

#define FIELD(n, v) { n, (long long)(v), NULL, false }
#define FLAG(n, v) { n, (long long)!!(v), NULL, true }
#define MAX_FIELDS 24

/* The show/expect forms over fields (script_rdma.c; script_lease.c too). */
int fields_expect(struct script *s, const struct field *f, int n, int argc, char **argv,
		  int first);
void show_fields(struct script *s, const char *what, const char *title, const struct field *f,
		 int n, struct json_object *data);
void fields_json(struct json_object *o, const struct field *f, int n);
struct json_object *show_json_named(struct script *s, const char *name);

/* Protection domains and memory regions (script_rdma_mr.c). */
int rdma_cmd_pd(struct script *s, int argc, char **argv);
int rdma_cmd_reg_mr(struct script *s, int argc, char **argv);
int rdma_cmd_dereg_mr(struct script *s, int argc, char **argv);
int rdma_mr_fields(struct obj *o, struct pinmm_rdma_mr_info *mi, struct field *f);
int rdma_pd_fields(struct pinmm_proc *p, int pd, struct field *f);
int rdma_show_mr(struct script *s, struct obj *o);

/* Remote operations and peers (script_rdma_remote.c). */
int rdma_cmd_rdma(struct script *s, int argc, char **argv);
int rdma_cmd_peer(struct script *s, int argc, char **argv);
int rdma_peer_fields(struct obj *o, struct field *f);

/* Interval notifiers (script_mmu_notifier.c). */
int rdma_cmd_notify(struct script *s, int argc, char **argv);
int rdma_cmd_unnotify(struct script *s, int argc, char **argv);
int rdma_cmd_mirror(struct script *s, int argc, char **argv);
int rdma_cmd_mmu_events(struct script *s, int argc, char **argv);
void rdma_notifier_free(struct snotifier *n);
int rdma_notifier_fields(struct snotifier *nt, struct field *f);
int rdma_show_notifier(struct script *s, struct obj *o);

#endif /* PINMM_SCRIPT_RDMA_H */
