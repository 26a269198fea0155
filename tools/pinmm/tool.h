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
int pinmm_cmd_diff(int argc, char **argv);	/* diff_cmd.c: pinmm vs the host kernel */
int pinmm_cmd_explore(int argc, char **argv);	/* explore_cmd.c */
int pinmm_cmd_fuzz(int argc, char **argv);	/* fuzz_cmd.c: pinmm vs the host, generated */

/*
 * struct trace_files - the trace files of a command's machines, one per
 * machine in boot order: FILE, FILE-2.json, ... (trace_files.c).
 * @base: FILE of --trace, or NULL: no machine traces.
 * @boots: machines given a file so far.
 */
struct trace_files {
	const char *base;
	int boots;
};
int trace_file_name(const char *base, int n, char *out, size_t len);
int trace_files_next(struct trace_files *t, struct pinmm_config *cfg);

/* Options of `pinmm run`, shared by every file of one invocation. */
struct run_opts {
	bool tap;		/* TAP output */
	bool verbose;		/* echo each line before running it */
	bool quiet;		/* no per-file summary */
	const char *trace;	/* --trace FILE: trace.file of every machine booted */
	int trace_boots;	/* machines booted so far under --trace */
	int tap_n;		/* number of the last TAP test point */
	/* Pictures and the HTML report (script_svg.c, report.h). */
	const char *svg_dir;	/* --svg DIR: where pictures go */
	struct report *report;	/* --html FILE: what the run records, or NULL */
	int svg_n;		/* checkpoint pictures taken so far */
	const char *const *defines;	/* -D NAME=VALUE, as given */
	int ndefines;
	bool host;		/* run on the host kernel (host_table.c) */
	struct diff_log *log;	/* records each line's outcome (diff_cmd.c) */
	struct run_json *json;	/* --json recorder (script_json.c), or NULL */
	/* `pinmm explore FILE` (explore_script.c): print nothing; the first
	 * failed expectation or error, "FILE:LINE: ...", goes to @first_fail. */
	bool silent;
	char first_fail[256];
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

struct script_private;
struct report;

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
	struct script_private *priv;	/* command groups' state (script_private()) */
	int nexpect;		/* expectations checked */
	int nfailed;		/* expectations failed */
	char errmsg[512];	/* message of the last syntax error */
	struct script_thread *thread;	/* inside a `thread NAME { }` block, or NULL */
	struct var *vars_shared;	/* thread: the main script's variables from here on */
};

/*
 * Return values of command handlers: 0 on success, a negative errno when a
 * library call failed (the runner reports it, or matches `expect error`),
 * or SCRIPT_SYNTAX after script_syntax() recorded a message.
 */
#define SCRIPT_SYNTAX 100000
/* A handler in host mode: the host cannot run this line (message in errmsg). */
#define SCRIPT_REFUSED 100001

typedef int (*cmd_fn)(struct script *s, int argc, char **argv);

enum cmd_bind { BIND_NONE, BIND_OPTIONAL, BIND_REQUIRED };

/*
 * struct script_cmd - one command of the language.
 * @name: the first word of the line.
 * @fn: the handler; argv[0] is @name.
 * @bind: whether the line may or must end in "-> NAME".
 * @usage: its usage line(s), printed by `pinmm help commands` and in
 *	"usage: ..." syntax errors.
 * @check_args, @min_args, @max_args: with SCRIPT_ARGS(MIN, MAX) in the
 *	table, the runner checks that MIN..MAX words follow @name before
 *	calling @fn, and reports "usage: USAGE" otherwise; without it @fn
 *	checks its arguments itself.
 */
struct script_cmd {
	const char *name;
	cmd_fn fn;
	enum cmd_bind bind;
	const char *usage;
	bool check_args;
	int min_args, max_args;
};

#define SCRIPT_ARGS(lo, hi) .check_args = true, .min_args = (lo), .max_args = (hi)

/*
 * struct script_subcmd - a form of `show` or `expect` that a command group
 * adds, e.g. "show mr MR" or "expect pd [P] PD CHECK...".
 * @parent: "show" or "expect".
 * @name: the word after it ("mr").
 * @fn: the handler; argv[0] is @parent, argv[1] is @name.
 * @usage: the form, appended to the usage of @parent.
 *
 * `PARENT NAME ARG...` reaches @fn when PARENT's own forms do not claim it
 * and ARG (argv[2]) is not a comparison operator, so `expect pd == 3` still
 * compares a variable called pd.
 */
struct script_subcmd {
	const char *parent;
	const char *name;
	cmd_fn fn;
	const char *usage;
};

/*
 * struct script_group - the commands one file of the tool contributes,
 * registered with SCRIPT_GROUP(); the runner's core knows no group by name.
 * @title: its heading in `pinmm help commands`.
 * @order: where the heading goes (smaller first).
 * @cmds: its commands, ended by an entry whose name is NULL.
 * @subcmds: its show/expect forms, ended by a NULL name; may be NULL.
 * @machine_gone: called before the script's machine shuts down (the
 *	`shutdown` command, or the end of the script); may be NULL.
 * @script_end: called when the script ends, after the machine is gone,
 *	to free what the group keeps in script_private(); may be NULL.
 */
struct script_group {
	const char *title;
	int order;
	const struct script_cmd *cmds;
	const struct script_subcmd *subcmds;
	void (*machine_gone)(struct script *s);
	void (*script_end)(struct script *s);
};

/*
 * SCRIPT_GROUP(g) - register the struct script_group @g: a pointer to it
 * goes into the "pinmm_script_groups" section, which the linker collects
 * from every object of the tool (script_table.c walks it).
 */
#define SCRIPT_GROUP(g)							\
	static const struct script_group *const __script_group_##g	\
	__attribute__((section("pinmm_script_groups"), used)) = &(g)

/* The registry (script_table.c). */
const struct script_cmd *script_find_cmd(const char *name);
const struct script_subcmd *script_find_subcmd(int argc, char **argv);
const char *script_usage(const struct script_cmd *c);
const char *script_usage_of(const char *name);
void script_print_commands(FILE *f);
void script_groups_machine_gone(struct script *s);
void script_groups_end(struct script *s);
void **script_private(struct script *s, const struct script_group *g);
/* script_files.c: a fresh /data/ image when the boot names none; its removal. */
int script_default_image(struct script *s, bool sized);
void script_default_image_gone(struct script *s);

/* ---- the --json results recorder (script_json.c) ---- */

struct json_object;
int script_json_start(struct run_opts *o, const char *path);
void script_json_begin(struct run_opts *o, const char *path);
void script_json_end(struct script *s, int status);
int script_json_finish(struct run_opts *o, int status);
void script_json_line(struct script *s, int argc, char **argv, int rc);
void script_json_values(struct script *s, const char *expected, const char *observed);
void script_json_expect(struct script *s, bool ok, const char *detail);
bool script_json_on(struct script *s);
void script_json_show(struct script *s, const char *what, struct json_object *data);
long script_json_shows(struct script *s);
bool script_json_output(struct script *s);
void script_json_error(struct script *s, const char *msg);
/* Every field of a page's state, as `expect page` names them (script_expect.c). */
struct json_object *page_info_json(const struct pinmm_page_info *pi);

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

/* Arguments of `mmap` and PROT words, shared with host mode (script_cmds.c). */
struct mmap_args {
	long long len, addr, fd, off;
	int prot;
	long flags;
	bool have_flags;
};
int mmap_arg(struct script *s, const char *tok, struct mmap_args *a);
int mmap_args_parse(struct script *s, int argc, char **argv, int i, struct mmap_args *a);
int arg_prot(struct script *s, const char *tok, int *prot);
int arg_string(struct script *s, const char *tok, char **out);	/* script_files.c */
int open_args_parse(struct script *s, int argc, char **argv, int i, long *flags,
		    unsigned *mode, char **path);	/* script_files.c */

/* Flag tables shared by commands and demo. */
extern const struct name_val prot_names[];
extern const struct name_val map_names[];
extern const struct name_val madv_names[];
extern const struct name_val foll_names[];
extern const struct name_val open_names[];	/* script_files.c */
extern const struct name_val memfd_names[];
extern const struct name_val falloc_names[];

/* `expect mem|file`, parsed and checked the same on both sides (script_expect.c). */
struct expect_bytes {
	long long where, off;		/* ADDR, or F and OFF */
	enum cmp_op op;			/* OP_EQ or OP_NE */
	const char *text;		/* DATA as written */
	unsigned char *want;		/* DATA decoded (malloc()ed) */
	size_t wlen;
};
int expect_bytes_parse(struct script *s, int argc, char **argv, int i, bool file,
		       struct expect_bytes *e);
void expect_bytes_check(struct script *s, struct expect_bytes *e, bool file,
			const unsigned char *got, long ret);

/* The CHECKs ("present", "mapcount=2") of one `expect page` (script_expect.c). */
int script_page_checks(struct script *s, const struct pinmm_page_info *pi, int n,
		       char **tok);
int script_page_field(const struct pinmm_page_info *pi, const char *name, long long *v);
void script_check_data(struct script *s, const unsigned char *got, size_t glen,
		       enum cmp_op op, const unsigned char *want, size_t wlen);

/*
 * Parse steps shared by the simulated handlers and the host's (host_*.c):
 * the words after [P] into a small struct, every syntax or range error as
 * the script's FILE:LINE message; the handler of each side then acts.
 */
struct range_args {		/* munmap, mprotect, madvise, pageout */
	long long addr, len;
	long arg;		/* PROT_*, MADV_*, or 0 for munmap */
};
int range_args_parse(struct script *s, int argc, char **argv, int i,
		     struct range_args *r);			/* script_cmds.c */
struct mem_args {		/* store, load, touch */
	long long addr, len;	/* len: LEN, or the length of DATA */
	unsigned char *data;	/* store's DATA (malloc()ed) */
	bool write;		/* touch ... write */
};
int mem_args_parse(struct script *s, int argc, char **argv, int i,
		   struct mem_args *m);				/* script_cmds.c */
int script_bind_addr(struct script *s, const char *what, long ret);	/* script_cmds.c */
int script_name_parse(struct script *s, const char *name);	/* script_cmds.c */
int proc_args_end(struct script *s, char **argv, int i, int end);	/* script_cmds.c */
enum gup_variant { GUP_PLAIN, GUP_FAST, GUP_FAST_ONLY, GUP_UNLOCKED, GUP_REMOTE };
struct gup_args {		/* pin, gup: ADDR NPAGES [variant] [FLAGS] */
	unsigned long start;
	long nr;		/* 0..1M pages */
	unsigned int flags;	/* FOLL_* */
	enum gup_variant variant;
	const char *remote;	/* remote=NAME: NAME, unresolved; else NULL */
};
int gup_args_parse(struct script *s, int argc, char **argv, int i, bool pin,
		   struct gup_args *g);				/* script_pin.c */
struct mremap_args {
	long long addr, old_len, new_len, to;
	int flags;		/* MREMAP_* */
};
int mremap_args_parse(struct script *s, int argc, char **argv, int i,
		      struct mremap_args *r);			/* script_remap.c */
int clear_refs_args_parse(struct script *s, int argc, char **argv, int i,
			  long long *what);			/* script_swap.c */
struct file_args {		/* close ... unlink, memfd (script_files.c) */
	long long fd, off, len;
	long flags;		/* FALLOC_FL_* or MFD_* */
	unsigned char *data;	/* pwrite's DATA (malloc()ed), fa->len bytes */
	char *path;		/* unlink's PATH, memfd's NAME (malloc()ed) */
};
int file_args_parse(struct script *s, int argc, char **argv, int i, struct file_args *fa);
void file_args_free(struct file_args *fa);
struct page_args {		/* expect page, info, show page (script_expect.c) */
	long long addr, npages;
	int nchecks;		/* expect page: the CHECKs; info: its FIELD */
	char **checks;
};
int page_args_parse(struct script *s, int argc, char **argv, int i, struct page_args *pa);
int script_info_bind(struct script *s, int rc, const struct page_args *pa,
		     const struct pinmm_page_info *pi);
struct expect_vmstat {
	const char *name;
	enum cmp_op op;
	long long want;
};
int expect_vmstat_parse(struct script *s, int argc, char **argv, struct expect_vmstat *e);
struct pages_check {		/* one CHECK of `expect pages` (script_expect.c) */
	enum { PAGES_PINNED, PAGES_COUNT, PAGES_REFCOUNT } what;
	bool neg;		/* !pinned */
	enum cmp_op op;
	long long want;
};
int pages_check_parse(struct script *s, const char *tok, struct pages_check *c);
int script_pages_checks(struct script *s, int n, char **tok, struct page **pages, long npages);
void expect_vmstat_check(struct script *s, const struct expect_vmstat *e, long got);

/* Host mode (host_table.c) and the diff recorder (diff_cmd.c). */
int script_host_precheck(struct script *s, const char *name);
int script_host_dispatch(struct script *s, int argc, char **argv);
struct diff_log;
void diff_log_line(struct script *s, int rc);
void diff_log_check(struct script *s, bool ok, const char *detail);
void diff_log_state(struct script *s, const char *text);	/* observe */

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
