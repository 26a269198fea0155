/* SPDX-License-Identifier: MIT */
/*
 * tool.h - shared declarations of the pinmm command-line tool.
 *
 * The tool is a client of the public API only (<pinmm/pinmm.h> and
 * <pinmm/linux.h>).  This header declares the subcommand entry points, the
 * scenario-script runner's context (struct script), its variables, the
 * argument helpers every command uses, and the command table.  The language
 * itself is documented in doc/SCENARIOS.md.
 */
#ifndef PINMM_TOOL_H
#define PINMM_TOOL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <pinmm/pinmm.h>
#include <pinmm/linux.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* Comparisons of expect lines (script_expect.c), shared by every command group. */
enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_BAD };
extern const char *const op_text[];
enum cmp_op parse_op(const char *t);
bool cmp_int(long long a, enum cmp_op op, long long b);

/* Exit statuses of the tool. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* failed expectation or runtime failure */
	EXIT_USAGE = 2,		/* usage or syntax error */
};

/* Subcommands. */
int pinmm_cmd_run(int argc, char **argv);
int pinmm_cmd_demo(int argc, char **argv);		/* demo.c: the guided tour */
int pinmm_cmd_demo_table(int argc, char **argv);	/* demo_table.c: `pinmm demo` */
int pinmm_cmd_bench(int argc, char **argv);	/* bench_cmd.c, weak default in main.c */
int pinmm_cmd_tracking(int argc, char **argv);	/* tracking_cmd.c */
int pinmm_cmd_fsck(int argc, char **argv);	/* fsck_cmd.c */
int pinmm_cmd_torture(int argc, char **argv);	/* torture_cmd.c */

/* Options of `pinmm run`, shared by every file of one invocation. */
struct run_opts {
	bool tap;		/* TAP output */
	bool verbose;		/* echo each line before running it */
	bool quiet;		/* no per-file summary */
	int tap_n;		/* number of the last TAP test point */
};

/* Run one script; @path "-" is stdin.  Return: EXIT_OK, EXIT_FAIL or EXIT_USAGE. */
int script_run_file(struct run_opts *o, const char *path);

/* ---- the runner's context ---------------------------------------------- */

enum var_kind { V_INT, V_BYTES, V_PROC, V_PAGES };

/*
 * struct var - a named script variable.  An int holds an address, an fd, a
 * count or any number; bytes hold data read by load/pread; a process is
 * dead (proc == NULL) after `exit` or shutdown; a page array holds what the
 * last pin/gup returned until unpin/put have released every pin and
 * reference it stands for.
 */
struct var {
	struct var *next;
	char *name;
	enum var_kind kind;
	long long ival;
	unsigned char *data;
	size_t len;
	struct pinmm_proc *proc;
	struct page **pages;
	long npages;
	bool pinned;		/* each page holds one pin from pin_* */
	int refs;		/* plain references per page (gup, get) */
};

struct script {
	struct run_opts *opts;
	const char *file;
	int line;
	const char *text;	/* the current line, comment stripped */
	const char *bind;	/* NAME of a trailing "-> NAME", or NULL */
	struct pinmm_config cfg;
	struct pinmm *m;	/* the booted machine, or NULL */
	struct pinmm_proc *cur;	/* the current process, or NULL */
	struct var *vars;
	struct rdma_objs *rdma;	/* MRs, peers, notifiers (script_rdma.c) */
	int nexpect;		/* expectations checked */
	int nfailed;		/* expectations failed */
	char errmsg[512];	/* message of the last syntax error */
};

/*
 * Return values of command handlers: 0 on success, a negative errno when a
 * library call failed (the runner reports it, or matches `expect error`),
 * or SCRIPT_SYNTAX after script_syntax() recorded a message.
 */
#define SCRIPT_SYNTAX 100000

typedef int (*cmd_fn)(struct script *s, int argc, char **argv);

enum cmd_bind { BIND_NONE, BIND_OPTIONAL, BIND_REQUIRED };

struct script_cmd {
	const char *name;
	cmd_fn fn;
	enum cmd_bind bind;
	const char *usage;
};

/* The command tables (script_cmds.c, _files.c, _pin.c, _expect.c, _show.c, _rdma.c). */
extern const struct script_cmd script_mem_cmds[];
extern const struct script_cmd script_file_cmds[];
extern const struct script_cmd script_pin_cmds[];
extern const struct script_cmd script_expect_cmds[];
extern const struct script_cmd script_show_cmds[];
extern const struct script_cmd script_rdma_cmds[];
const struct script_cmd *script_find_cmd(const char *name);
void script_print_commands(FILE *f);

/* RDMA and notifier objects (script_rdma.c). */
struct rdma_objs;
void script_rdma_machine_gone(struct script *s, bool final);
bool script_rdma_owns(int argc, char **argv);
int script_rdma_show(struct script *s, int argc, char **argv);
int script_rdma_expect(struct script *s, int argc, char **argv);

/* ---- helpers (script.c) --------------------------------------------------- */

int script_syntax(struct script *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void script_out(struct script *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void script_check(struct script *s, bool ok, const char *detail);
int script_dispatch(struct script *s, int argc, char **argv);

struct var *var_find(struct script *s, const char *name);
struct var *var_set(struct script *s, const char *name, enum var_kind kind);
int var_bind_int(struct script *s, long long v);
int var_bind_bytes(struct script *s, const unsigned char *buf, size_t len);
void var_release_pages(struct var *v);
/* script_pin.c: unpin/put what page variables hold (a script stopped early). */
void script_release_pages(struct script *s);
void vars_machine_gone(struct script *s);
void script_format_value(const struct var *v, char *buf, size_t len);

int script_need_machine(struct script *s);
int arg_proc(struct script *s, int argc, char **argv, int *i,
	     struct pinmm_proc **p);
int arg_int(struct script *s, const char *tok, long long *out);
int arg_data(struct script *s, const char *tok, unsigned char **buf, size_t *len);
bool arg_is_data(struct script *s, const char *tok);
bool arg_kv(const char *tok, const char *key, const char **val);

struct name_val {
	const char *name;
	long val;
};
int arg_flags(struct script *s, const char *tok, const struct name_val *tab,
	      const char *prefix, long *out);
const char *flags_name(const struct name_val *tab, long v, char *buf, size_t len);
int errno_from_name(const char *name);

/* Flag tables shared by commands and demo. */
extern const struct name_val prot_names[];
extern const struct name_val map_names[];
extern const struct name_val madv_names[];
extern const struct name_val foll_names[];

/* Page-state table rows, shared by `show page` and the demo (script_show.c). */
const char *page_table_header(void);
void page_table_row(char *buf, size_t len, unsigned long addr,
		    const struct pinmm_page_info *pi);

/* A growable string for messages. */
struct strbuf {
	char *buf;
	size_t len, cap;
};
void sb_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sb_free(struct strbuf *sb);

#endif /* PINMM_TOOL_H */
