/* SPDX-License-Identifier: MIT */
/*
 * script_cmds.c - the scenario language's commands for machines, processes and memory: boot, shutdown, audit, proc,
 * fork, exit, use, rlimit, mmap, munmap, mprotect, madvise, store, load,
 * touch, let and vmstat, and the flag-name tables they share with the
 * other command files.  Each command file registers its own table
 * (SCRIPT_GROUP(), script_table.c).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

const struct name_val prot_names[] = {
	{ "read", PROT_READ }, { "write", PROT_WRITE }, { "exec", PROT_EXEC },
	{ "none", PROT_NONE }, { NULL, 0 },
};

const struct name_val map_names[] = {
	{ "private", MAP_PRIVATE }, { "shared", MAP_SHARED },
	{ "shared_validate", MAP_SHARED_VALIDATE },
	{ "anonymous", MAP_ANONYMOUS }, { "anon", MAP_ANONYMOUS },
	{ "fixed_noreplace", MAP_FIXED_NOREPLACE }, { "fixed", MAP_FIXED },
	{ "populate", MAP_POPULATE }, { "noreserve", MAP_NORESERVE },
	{ "locked", MAP_LOCKED }, { "growsdown", MAP_GROWSDOWN },
	{ "hugetlb", MAP_HUGETLB }, { "huge_2mb", MAP_HUGE_2MB }, { "huge_1gb", MAP_HUGE_1GB },
	{ "sync", MAP_SYNC }, { NULL, 0 },
};

const struct name_val madv_names[] = {
	{ "normal", MADV_NORMAL }, { "random", MADV_RANDOM },
	{ "sequential", MADV_SEQUENTIAL }, { "willneed", MADV_WILLNEED },
	{ "dontneed", MADV_DONTNEED }, { "free", MADV_FREE },
	{ "remove", MADV_REMOVE }, { "dontfork", MADV_DONTFORK },
	{ "dofork", MADV_DOFORK }, { "mergeable", MADV_MERGEABLE },
	{ "unmergeable", MADV_UNMERGEABLE }, { "hugepage", MADV_HUGEPAGE },
	{ "nohugepage", MADV_NOHUGEPAGE }, { "dontdump", MADV_DONTDUMP },
	{ "dodump", MADV_DODUMP }, { "wipeonfork", MADV_WIPEONFORK },
	{ "keeponfork", MADV_KEEPONFORK }, { "cold", MADV_COLD },
	{ "pageout", MADV_PAGEOUT }, { "populate_read", MADV_POPULATE_READ },
	{ "populate_write", MADV_POPULATE_WRITE },
#ifdef MADV_COLLAPSE
	{ "collapse", MADV_COLLAPSE },
#endif
	{ NULL, 0 },
};

/* ---- small helpers ---------------------------------------------------------- */

/* PROT as letters ("rw", "r-x", "none") or names ("read,write", PROT_READ|...). */
int arg_prot(struct script *s, const char *tok, int *prot)
{
	const char *p = tok;
	long v;
	int rc;

	*prot = 0;
	for (; *p == 'r' || *p == 'w' || *p == 'x' || *p == '-'; p++)
		*prot |= *p == 'r' ? PROT_READ : *p == 'w' ? PROT_WRITE :
			 *p == 'x' ? PROT_EXEC : 0;
	if (!*p && p != tok)
		return 0;
	rc = arg_flags(s, tok, prot_names, "PROT_", &v);
	*prot = (int)v;
	return rc;
}

/* Forget a process that has gone away (exit). */
static void proc_gone(struct script *s, struct pinmm_proc *p)
{
	for (struct var *v = s->vars; v; v = v->next)
		if (v->kind == V_PROC && v->proc == p)
			v->proc = NULL;
	if (s->cur == p)
		s->cur = NULL;
}

static int new_proc_var(struct script *s, const char *name, struct pinmm_proc *p)
{
	struct var *v = var_set(s, name, V_PROC);

	if (!v)
		return -ENOMEM;
	v->proc = p;
	s->cur = p;
	return 0;
}

/**
 * script_name_parse() - whether @name may name a new variable or process:
 * letters, digits and '_', not starting with a digit.
 * Context: proc, fork and let handlers, simulated and host (host_cmds.c).
 * Return: 0, or SCRIPT_SYNTAX ("bad name").
 */
int script_name_parse(struct script *s, const char *name)
{
	for (const char *c = name; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '_')
			return script_syntax(s, "bad name '%s'", name);
	if (!name[0] || isdigit((unsigned char)name[0]))
		return script_syntax(s, "bad name '%s'", name);
	return 0;
}

/**
 * proc_args_end() - after the [P] of fork, exit or use: the word at @i must
 * be the one at @end (the child's name, or the end of the line).
 * Context: fork/exit/use handlers, simulated and host (host_cmds.c).
 * Return: 0, or SCRIPT_SYNTAX (argv[@i] is not a process).
 */
int proc_args_end(struct script *s, char **argv, int i, int end)
{
	return i == end ? 0 : script_syntax(s, "%s is not a process", argv[i]);
}

static int check_new_name(struct script *s, const char *name)
{
	struct var *v = var_find(s, name);

	if (script_name_parse(s, name))
		return SCRIPT_SYNTAX;
	if (v && v->kind == V_PROC && v->proc)
		return script_syntax(s, "process %s already exists", name);
	if (v && v->kind == V_PAGES && v->npages)
		return script_syntax(s, "%s still holds pages; unpin or put them first", name);
	return 0;
}

/* ---- machine -------------------------------------------------------------------- */

/* The trace file of the @n-th machine a `pinmm run --trace FILE` boots (trace_files.c). */
static int trace_file_of_boot(struct script *s, int n)
{
	char path[PINMM_PATH_MAX];
	int rc = trace_file_name(s->opts->trace, n, path, sizeof(path));

	return rc ? rc : pinmm_config_set(&s->cfg, "trace.file", path);
}

static int cmd_boot(struct script *s, int argc, char **argv)
{
	bool sized = false;
	int rc;

	if (s->m)
		return script_syntax(s, "a machine is already booted (shutdown first)");
	pinmm_config_default(&s->cfg);
	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		char *key;

		if (!eq || eq == argv[i])
			return script_syntax(s, "boot takes KEY=VALUE arguments, not '%s'", argv[i]);
		key = strndup(argv[i], eq - argv[i]);
		if (!key)
			return -ENOMEM;
		rc = pinmm_config_set(&s->cfg, key, eq + 1);
		sized |= !strcmp(key, "pinfs.size");
		free(key);
		if (rc)
			return rc;
	}
	if (s->opts->trace) {	/* pinmm run --trace FILE (doc/TRACING.md) */
		rc = trace_file_of_boot(s, s->opts->trace_boots + 1);
		if (rc)
			return rc;
		s->opts->trace_boots++;
	}
	rc = script_default_image(s, sized);	/* /data/ without pinfs.image */
	if (rc)
		return rc;
	rc = pinmm_boot(&s->cfg, &s->m);
	if (rc)
		script_default_image_gone(s);
	return rc;
}

static int cmd_shutdown(struct script *s, int argc, char **argv)
{
	int rc;

	if (script_need_machine(s))
		return SCRIPT_SYNTAX;
	script_groups_machine_gone(s);
	rc = pinmm_shutdown(s->m);
	s->m = NULL;
	s->cur = NULL;
	vars_machine_gone(s);
	return rc;
}

static int cmd_audit(struct script *s, int argc, char **argv)
{
	int rc;

	if (script_need_machine(s))
		return SCRIPT_SYNTAX;
	rc = pinmm_audit(s->m);
	if (rc < 0)
		return rc;
	return var_bind_int(s, pinmm_audit_errors(s->m));
}

/* ---- processes ------------------------------------------------------------------ */

static int cmd_proc(struct script *s, int argc, char **argv)
{
	struct pinmm_proc *p;
	int rc;

	if (script_need_machine(s) || check_new_name(s, argv[1]))
		return SCRIPT_SYNTAX;
	rc = pinmm_proc_create(s->m, &p);
	return rc ? rc : new_proc_var(s, argv[1], p);
}

static int cmd_fork(struct script *s, int argc, char **argv)
{
	struct pinmm_proc *parent, *child;
	int i = 1, rc;

	if (arg_proc(s, argc - 1, argv, &i, &parent) || proc_args_end(s, argv, i, argc - 1) ||
	    check_new_name(s, argv[argc - 1]))
		return SCRIPT_SYNTAX;
	rc = pinmm_fork(parent, &child);
	return rc ? rc : new_proc_var(s, argv[argc - 1], child);
}

static int cmd_exit(struct script *s, int argc, char **argv)
{
	struct pinmm_proc *p;
	int i = 1, rc;

	if (arg_proc(s, argc, argv, &i, &p) || proc_args_end(s, argv, i, argc))
		return SCRIPT_SYNTAX;
	rc = pinmm_exit(p);
	if (rc == 0)
		proc_gone(s, p);
	return rc;
}

static int cmd_use(struct script *s, int argc, char **argv)
{
	struct pinmm_proc *p;
	int i = 1;

	if (arg_proc(s, argc, argv, &i, &p) || proc_args_end(s, argv, i, argc))
		return SCRIPT_SYNTAX;
	s->cur = p;
	pinmm_set_current(p);
	return 0;
}

static int cmd_rlimit(struct script *s, int argc, char **argv)
{
	struct pinmm_proc *p;
	const char *val;
	long long bytes;
	int i = 1;

	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (i != argc - 1 || !arg_kv(argv[i], "memlock", &val))
		return script_syntax(s, "usage: rlimit [P] memlock=SIZE|unlimited");
	if (!strcmp(val, "unlimited") || !strcmp(val, "infinity"))
		bytes = (long long)PINMM_RLIM_INFINITY;
	else if (arg_int(s, val, &bytes))
		return SCRIPT_SYNTAX;
	return pinmm_proc_set_rlimit_memlock(p, (uint64_t)bytes);
}

/* ---- memory ---------------------------------------------------------------------- */

/* mmap_arg() - one argument of `mmap` (len=, prot=, flags=, ...) into @a. */
int mmap_arg(struct script *s, const char *tok, struct mmap_args *a)
{
	const char *v;

	if (arg_kv(tok, "len", &v))
		return arg_int(s, v, &a->len);
	if (arg_kv(tok, "addr", &v))
		return arg_int(s, v, &a->addr);
	if (arg_kv(tok, "fd", &v))
		return arg_int(s, v, &a->fd);
	if (arg_kv(tok, "off", &v))
		return arg_int(s, v, &a->off);
	if (arg_kv(tok, "prot", &v))
		return arg_prot(s, v, &a->prot);
	if (arg_kv(tok, "flags", &v)) {
		a->have_flags = true;
		return arg_flags(s, v, map_names, "MAP_", &a->flags);
	}
	if (strchr(tok, '='))
		return script_syntax(s, "unknown mmap argument '%s'", tok);
	return arg_int(s, tok, &a->len);
}

/**
 * mmap_args_parse() - the words of `mmap` from argv[@i] on, into @a, with
 * the default flags (MAP_SHARED for a file, else private anonymous).
 * Context: mmap handlers, simulated and host (host_cmds.c).
 * Return: 0, or SCRIPT_SYNTAX.
 */
int mmap_args_parse(struct script *s, int argc, char **argv, int i, struct mmap_args *a)
{
	*a = (struct mmap_args){ .fd = -1, .prot = PROT_READ | PROT_WRITE, .len = -1 };
	for (; i < argc; i++)
		if (mmap_arg(s, argv[i], a))
			return SCRIPT_SYNTAX;
	if (a->len < 0)
		return script_syntax(s, "usage: %s", script_find_cmd("mmap")->usage);
	if (!a->have_flags)
		a->flags = a->fd >= 0 ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS;
	return 0;
}

/**
 * script_bind_addr() - the result @ret of mapping call @what (mmap,
 * mremap): an error, or an address bound to the line's "-> X" (printed
 * under -v when there is none).
 * Context: mmap and mremap handlers (script_remap.c).
 * Return: 0, or a negative errno.
 */
int script_bind_addr(struct script *s, const char *what, long ret)
{
	if (ret < 0 && ret > -4096)
		return (int)ret;
	if (!s->bind && s->opts->verbose)
		script_out(s, "  %s -> 0x%lx\n", what, ret);
	return var_bind_int(s, ret);
}

static int cmd_mmap(struct script *s, int argc, char **argv)
{
	struct mmap_args a;
	struct pinmm_proc *p;
	long ret;
	int i = 1;

	if (arg_proc(s, argc, argv, &i, &p) || mmap_args_parse(s, argc, argv, i, &a))
		return SCRIPT_SYNTAX;
	ret = pinmm_mmap(p, (unsigned long)a.addr, (size_t)a.len, a.prot, (int)a.flags,
			 (int)a.fd, (long)a.off);
	return script_bind_addr(s, "mmap", ret);
}

/**
 * range_args_parse() - the words of munmap, mprotect, madvise or pageout
 * (argv[0]) from argv[@i] on: ADDR LEN, then PROT (mprotect) or ADVICE
 * (madvise), into @r; r->arg is the protection, the advice, MADV_PAGEOUT
 * for pageout and 0 for munmap.
 * Context: range handlers, simulated (here, script_swap.c) and host (host_cmds.c).
 * Return: 0, or SCRIPT_SYNTAX.
 */
int range_args_parse(struct script *s, int argc, char **argv, int i, struct range_args *r)
{
	bool pageout = !strcmp(argv[0], "pageout");
	bool extra = !pageout && strcmp(argv[0], "munmap");
	int prot;

	*r = (struct range_args){ .arg = pageout ? MADV_PAGEOUT : 0 };
	if (argc - i != (extra ? 3 : 2))
		return pageout ? script_syntax(s, "usage: pageout [P] ADDR LEN") :
		       script_syntax(s, "usage: %s", script_find_cmd(argv[0])->usage);
	if (arg_int(s, argv[i], &r->addr) || arg_int(s, argv[i + 1], &r->len))
		return SCRIPT_SYNTAX;
	if (!strcmp(argv[0], "mprotect")) {
		if (arg_prot(s, argv[argc - 1], &prot))
			return SCRIPT_SYNTAX;
		r->arg = prot;
	} else if (extra && arg_flags(s, argv[argc - 1], madv_names, "MADV_", &r->arg)) {
		return SCRIPT_SYNTAX;
	}
	return 0;
}

/* munmap, mprotect and madvise [P] ADDR LEN [PROT|ADVICE]. */
static int cmd_range(struct script *s, int argc, char **argv)
{
	struct range_args r;
	struct pinmm_proc *p;
	int i = 1;

	if (arg_proc(s, argc, argv, &i, &p) || range_args_parse(s, argc, argv, i, &r))
		return SCRIPT_SYNTAX;
	if (!strcmp(argv[0], "munmap"))
		return pinmm_munmap(p, (unsigned long)r.addr, (size_t)r.len);
	if (!strcmp(argv[0], "mprotect"))
		return pinmm_mprotect(p, (unsigned long)r.addr, (size_t)r.len, (int)r.arg);
	return pinmm_madvise(p, (unsigned long)r.addr, (size_t)r.len, (int)r.arg);
}

/**
 * mem_args_parse() - the words of store, load or touch (argv[0]) from
 * argv[@i] on into @m: ADDR DATA (store; m->data allocated, free()),
 * ADDR LEN with LEN in 0..64M (load), ADDR LEN [read|write] (touch).
 * Context: store/load/touch handlers, simulated and host (host_cmds.c).
 * Return: 0, SCRIPT_SYNTAX, or -ENOMEM.
 */
int mem_args_parse(struct script *s, int argc, char **argv, int i, struct mem_args *m)
{
	*m = (struct mem_args){ 0 };
	if (!strcmp(argv[0], "touch")) {
		if (argc - i == 3 && (!strcmp(argv[argc - 1], "write") ||
				      !strcmp(argv[argc - 1], "read")))
			m->write = !strcmp(argv[--argc], "write");
		if (argc - i != 2 || arg_int(s, argv[i], &m->addr) ||
		    arg_int(s, argv[i + 1], &m->len))
			return script_syntax(s, "usage: %s", script_find_cmd("touch")->usage);
		if (m->addr < 0 || m->len < 0 || m->len > LLONG_MAX - m->addr)
			return script_syntax(s, "touch range [%lld, +%lld) out of range",
					     m->addr, m->len);
		return 0;
	}
	if (argc - i != 2)
		return script_syntax(s, "usage: %s", script_find_cmd(argv[0])->usage);
	if (arg_int(s, argv[i], &m->addr))
		return SCRIPT_SYNTAX;
	if (!strcmp(argv[0], "store")) {
		size_t len;
		int rc = arg_data(s, argv[i + 1], &m->data, &len);

		m->len = (long long)len;
		return rc;
	}
	if (arg_int(s, argv[i + 1], &m->len))
		return SCRIPT_SYNTAX;
	if (m->len < 0 || m->len > (64LL << 20))
		return script_syntax(s, "load length %lld out of range (0..64M)", m->len);
	return 0;
}

static int cmd_store(struct script *s, int argc, char **argv)
{
	struct mem_args m;
	struct pinmm_proc *p;
	long ret;
	int i = 1, rc;

	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	rc = mem_args_parse(s, argc, argv, i, &m);
	if (rc)
		return rc;
	ret = pinmm_store(p, (unsigned long)m.addr, m.data, (size_t)m.len);
	free(m.data);
	return ret < 0 ? (int)ret : 0;
}

static int cmd_load(struct script *s, int argc, char **argv)
{
	struct mem_args m;
	struct pinmm_proc *p;
	unsigned char *buf;
	long ret;
	int i = 1, rc;

	if (arg_proc(s, argc, argv, &i, &p) || mem_args_parse(s, argc, argv, i, &m))
		return SCRIPT_SYNTAX;
	buf = malloc(m.len ? m.len : 1);
	if (!buf)
		return -ENOMEM;
	ret = pinmm_load(p, (unsigned long)m.addr, buf, (size_t)m.len);
	rc = ret < 0 ? (int)ret : var_bind_bytes(s, buf, (size_t)ret);
	free(buf);
	return rc;
}

/* touch [P] ADDR LEN [read|write]: fault in every page of a range, CPU-style. */
static int cmd_touch(struct script *s, int argc, char **argv)
{
	struct mem_args m;
	struct pinmm_proc *p;
	int i = 1;

	if (arg_proc(s, argc, argv, &i, &p) || mem_args_parse(s, argc, argv, i, &m))
		return SCRIPT_SYNTAX;
	for (long long a = m.addr & ~4095LL; a < m.addr + m.len; a += 4096) {
		unsigned char b;
		long ret = pinmm_load(p, (unsigned long)a, &b, 1);

		if (ret >= 0 && m.write)
			ret = pinmm_store(p, (unsigned long)a, &b, 1);
		if (ret < 0)
			return (int)ret;
	}
	return 0;
}

/* ---- values ------------------------------------------------------------------------ */

static int cmd_let(struct script *s, int argc, char **argv)
{
	unsigned char *buf;
	long long v;
	size_t len;
	int rc;

	if (argc != 4 || strcmp(argv[2], "="))
		return script_syntax(s, "usage: let NAME = VALUE");
	if (check_new_name(s, argv[1]))
		return SCRIPT_SYNTAX;
	if (!arg_is_data(s, argv[3])) {
		if (arg_int(s, argv[3], &v))
			return SCRIPT_SYNTAX;
		s->bind = argv[1];
		return var_bind_int(s, v);
	}
	rc = arg_data(s, argv[3], &buf, &len);
	if (rc)
		return rc;
	s->bind = argv[1];
	rc = var_bind_bytes(s, buf, len);
	free(buf);
	return rc;
}

static int cmd_vmstat(struct script *s, int argc, char **argv)
{
	long v;

	if (script_need_machine(s))
		return SCRIPT_SYNTAX;
	v = pinmm_vmstat(s->m, argv[1]);
	if (v < 0)
		return (int)v;
	return var_bind_int(s, v);
}

static const struct script_cmd mem_cmds[] = {
	{ "boot", cmd_boot, BIND_NONE, "boot [KEY=VALUE...]   (ram=256M thp=always debug=2 ...)" },
	{ "shutdown", cmd_shutdown, BIND_NONE, "shutdown", SCRIPT_ARGS(0, 0) },
	{ "audit", cmd_audit, BIND_OPTIONAL, "audit [-> ERRORS]", SCRIPT_ARGS(0, 0) },
	{ "proc", cmd_proc, BIND_NONE, "proc NAME", SCRIPT_ARGS(1, 1) },
	{ "fork", cmd_fork, BIND_NONE, "fork [PARENT] CHILD", SCRIPT_ARGS(1, 2) },
	{ "exit", cmd_exit, BIND_NONE, "exit [P]", SCRIPT_ARGS(0, 1) },
	{ "use", cmd_use, BIND_NONE, "use P", SCRIPT_ARGS(1, 1) },
	{ "rlimit", cmd_rlimit, BIND_NONE, "rlimit [P] memlock=SIZE|unlimited" },
	{ "mmap", cmd_mmap, BIND_OPTIONAL,
	  "mmap [P] LEN [prot=rw] [flags=private,anonymous] [addr=A] [fd=F] [off=N] [-> ADDR]" },
	{ "munmap", cmd_range, BIND_NONE, "munmap [P] ADDR LEN" },
	{ "mprotect", cmd_range, BIND_NONE, "mprotect [P] ADDR LEN PROT   (r, rw, rwx, none...)" },
	{ "madvise", cmd_range, BIND_NONE, "madvise [P] ADDR LEN ADVICE   (dontneed, dontfork, hugepage...)" },
	{ "store", cmd_store, BIND_NONE, "store [P] ADDR DATA   (\"text\", 0xab*4K, a data variable)" },
	{ "load", cmd_load, BIND_OPTIONAL, "load [P] ADDR LEN [-> X]" },
	{ "touch", cmd_touch, BIND_NONE, "touch [P] ADDR LEN [read|write]" },
	{ "let", cmd_let, BIND_NONE, "let NAME = VALUE" },
	{ "vmstat", cmd_vmstat, BIND_REQUIRED, "vmstat COUNTER -> X", SCRIPT_ARGS(1, 1) },
	{ NULL, NULL, BIND_NONE, NULL },
};

static const struct script_group mem_group = {
	.title = "Machines, processes and memory",
	.order = 10,
	.cmds = mem_cmds,
};
SCRIPT_GROUP(mem_group);
