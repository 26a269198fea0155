/* SPDX-License-Identifier: MIT */
/*
 * host_cmds.c - host handlers of the machine, process, memory and pin
 * commands: boot, shutdown, proc, fork, exit, use, mmap, munmap, mprotect,
 * madvise, pageout, mremap, store, load, touch, pin, unpin, vmstat, and the
 * commands whose simulated handler needs no machine (let, echo, print).
 * Each one parses its line with the simulated handler's parse step (the
 * *_args_parse() functions of tool.h) and sends the operation to the agent
 * of the process (host_agent.c).
 *
 * What the host cannot express is refused here with the reason: boot keys
 * that configure something the host kernel does not have, pins other than
 * the FOLL_WRITE | FOLL_LONGTERM pin of an io_uring fixed buffer, plain
 * GUP references, DMA through a page array, and pinmm's own debugging.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "host.h"

/* ---- machine ---------------------------------------------------------------- */

/* The THP mode the host runs with ("always", "madvise", "never"). */
static void host_thp_mode(char *buf, size_t len)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	char line[128] = "", *l, *r;

	snprintf(buf, len, "never");
	if (!f)
		return;
	if (fgets(line, sizeof(line), f) && (l = strchr(line, '[')) && (r = strchr(l, ']')))
		snprintf(buf, len, "%.*s", (int)(r - l - 1), l + 1);
	fclose(f);
}

/*
 * boot on the host: the host is already running, so boot only checks that
 * the configuration asked for is one the host has.  Keys that do not change
 * what a script observes (ram, debug, seed, ...) pass; thp must equal the
 * host's mode; pinfs.image makes /data/ exist (on the host's disk
 * filesystem); everything else describes a pinmm-only machine.
 */
static int host_boot(struct script *s, int argc, char **argv)
{
	static const char *const neutral[] = {
		"ram", "debug", "seed", "quiet", "nr_cpus", "pin.provenance", "pin.tracking",
		"pinfs.size",
	};

	for (int i = 1; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		size_t n = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
		bool ok = false;
		char mode[32];

		for (size_t k = 0; k < ARRAY_SIZE(neutral); k++)
			ok |= strlen(neutral[k]) == n && !strncmp(argv[i], neutral[k], n);
		if (ok)
			continue;
		if (eq && n == 3 && !strncmp(argv[i], "thp", 3)) {
			host_thp_mode(mode, sizeof(mode));
			if (!strcmp(eq + 1, mode))
				continue;
			return host_refuse(s, "boot", "thp=%s, but the host's THP mode is \"%s\"",
					   eq + 1, mode);
		}
		if (eq && n == 11 && !strncmp(argv[i], "pinfs.image", 11)) {
			host_session(s)->pinfs = true;	/* /data/ on the host's disk */
			continue;
		}
		if (eq && n == 16 && !strncmp(argv[i], "fs.pinned_policy", 16) &&
		    !strcmp(eq + 1, "linux"))
			continue;
		return host_refuse(s, "boot", "%.*s configures a pinmm machine the host kernel "
				   "does not have (a pinning policy other than Linux's, zones, "
				   "pmem/DAX, pinfs, hugetlb pools, mTHP sizes)", (int)n, argv[i]);
	}
	return 0;
}

/* shutdown on the host: every process of the script ends. */
static int host_shutdown(struct script *s, int argc, char **argv)
{
	struct host_session *hs = host_session(s);

	if (!hs)
		return -ENOMEM;
	for (int i = 0; i < hs->nprocs; i++)
		host_agent_kill(&hs->procs[i].ag);
	hs->cur = -1;
	for (int i = 0; i < HOST_MAX_PINS; i++)
		hs->pins[i].name[0] = '\0';
	return 0;
}

/* ---- processes ---------------------------------------------------------------- */

static int new_proc(struct script *s, const char *name, struct host_proc **out)
{
	struct host_session *hs = host_session(s);
	int i;

	if (!hs)
		return -ENOMEM;
	if (script_name_parse(s, name))
		return SCRIPT_SYNTAX;
	for (i = 0; i < hs->nprocs; i++) {
		if (strcmp(hs->procs[i].name, name))
			continue;
		if (hs->procs[i].ag.sock >= 0)
			return script_syntax(s, "process %s already exists", name);
		break;
	}
	if (i == HOST_MAX_PROCS)
		return host_refuse(s, "proc", "more than %d processes", HOST_MAX_PROCS);
	if (strlen(name) >= sizeof(hs->procs[i].name))
		return script_syntax(s, "bad name '%s'", name);
	if (i == hs->nprocs)
		hs->nprocs++;
	snprintf(hs->procs[i].name, sizeof(hs->procs[i].name), "%s", name);
	hs->procs[i].ag.sock = -1;
	hs->procs[i].ag.pid = 0;
	hs->cur = i;
	*out = &hs->procs[i];
	return 0;
}

static int host_proc(struct script *s, int argc, char **argv)
{
	struct host_proc *p;
	int rc = new_proc(s, argv[1], &p);

	if (rc)
		return rc;
	host_vmstat_baseline(host_session(s));
	return host_agent_spawn(&p->ag);
}

static int host_fork(struct script *s, int argc, char **argv)
{
	struct host_session *hs = host_session(s);
	struct host_proc *parent, *child;
	struct host_agent ag = { .pid = 0, .sock = -1 };
	int i = 1, rc;
	long ret;

	if (host_arg_proc(s, argc - 1, argv, &i, &parent) ||
	    proc_args_end(s, argv, i, argc - 1) || script_name_parse(s, argv[argc - 1]))
		return SCRIPT_SYNTAX;
	hs->rq.op = 0;
	memset(&hs->rq, 0, HOST_REQ_HDR);
	hs->rq.op = HOP_FORK;
	ret = host_agent_call(&parent->ag, &hs->rq, &hs->rs, &ag);
	if (ret < 0)
		return (int)ret;
	rc = new_proc(s, argv[argc - 1], &child);
	if (rc) {
		host_agent_kill(&ag);
		return rc;
	}
	child->ag = ag;
	return 0;
}

static int host_exit(struct script *s, int argc, char **argv)
{
	struct host_session *hs = host_session(s);
	struct host_proc *p;
	int i = 1;

	if (host_arg_proc(s, argc, argv, &i, &p) || proc_args_end(s, argv, i, argc))
		return SCRIPT_SYNTAX;
	host_call(s, p, HOP_EXIT, NULL, 0, NULL, 0);
	for (int k = 0; k < HOST_MAX_PINS; k++)
		if (hs->pins[k].name[0] && &hs->procs[hs->pins[k].proc] == p)
			hs->pins[k].name[0] = '\0';
	if (hs->cur >= 0 && &hs->procs[hs->cur] == p)
		hs->cur = -1;
	return 0;
}

static int host_use(struct script *s, int argc, char **argv)
{
	struct host_session *hs = host_session(s);
	struct host_proc *p;
	int i = 1;

	if (host_arg_proc(s, argc, argv, &i, &p) || proc_args_end(s, argv, i, argc))
		return SCRIPT_SYNTAX;
	hs->cur = (int)(p - hs->procs);
	return 0;
}

/* ---- memory -------------------------------------------------------------------- */

/* Call @op (mmap, mremap), whose result is an address for "-> X" or an error. */
static int host_call_addr(struct script *s, struct host_proc *p, int op,
			  const uint64_t *args, int nargs)
{
	long ret = host_call(s, p, op, args, nargs, NULL, 0);

	if (ret < 0 && ret > -4096)
		return (int)ret;
	return var_bind_int(s, ret);
}

static int host_mmap(struct script *s, int argc, char **argv)
{
	struct mmap_args a;
	struct host_proc *p;
	int i = 1;

	if (host_arg_proc(s, argc, argv, &i, &p) || mmap_args_parse(s, argc, argv, i, &a))
		return SCRIPT_SYNTAX;
	return host_call_addr(s, p, HOP_MMAP, (uint64_t[]){ (uint64_t)a.addr, (uint64_t)a.len,
			      (uint64_t)a.prot, (uint64_t)a.flags, (uint64_t)a.fd,
			      (uint64_t)a.off }, 6);
}

/* Whether the host has a swap device (a header line and one more in /proc/swaps). */
static bool host_has_swap(void)
{
	FILE *f = fopen("/proc/swaps", "r");
	char line[256];
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		n++;
	if (f)
		fclose(f);
	return n > 1;
}

/* munmap/mprotect/madvise [P] ADDR LEN [PROT|ADVICE], and pageout [P] ADDR LEN. */
static int host_range(struct script *s, int argc, char **argv)
{
	struct range_args r;
	struct host_proc *p;
	uint64_t args[3];
	int i = 1, op;

	if (host_arg_proc(s, argc, argv, &i, &p) || range_args_parse(s, argc, argv, i, &r))
		return SCRIPT_SYNTAX;
	if (!strcmp(argv[0], "pageout") && !host_has_swap())
		return host_refuse(s, "pageout", "the host has no swap device, so anonymous "
				   "pages cannot be paged out");
	op = !strcmp(argv[0], "munmap") ? HOP_MUNMAP :
	     !strcmp(argv[0], "mprotect") ? HOP_MPROTECT : HOP_MADVISE;
	args[0] = (uint64_t)r.addr;
	args[1] = (uint64_t)r.len;
	args[2] = (uint64_t)r.arg;
	return (int)host_call(s, p, op, args, 3, NULL, 0);
}

static int host_store(struct script *s, int argc, char **argv)
{
	struct mem_args m;
	struct host_proc *p;
	long ret = 0;
	int i = 1, rc;

	if (host_arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	rc = mem_args_parse(s, argc, argv, i, &m);
	if (rc)
		return rc;
	for (size_t off = 0; off < (size_t)m.len && ret >= 0; off += HOST_MSG_DATA) {
		size_t n = (size_t)m.len - off < HOST_MSG_DATA ? (size_t)m.len - off : HOST_MSG_DATA;
		uint64_t a = (uint64_t)m.addr + off;

		ret = host_call(s, p, HOP_STORE, &a, 1, m.data + off, n);
	}
	free(m.data);
	return ret < 0 ? (int)ret : 0;
}

/**
 * host_load() - read @len bytes at @addr of @p with real CPU loads.
 * Context: host handlers (load, expect mem); the runner's thread.
 * Return: the bytes read (malloc()ed, in *out), or a negative errno.
 */
long host_load(struct script *s, struct host_proc *p, unsigned long addr, size_t len,
	       unsigned char **out)
{
	struct host_session *hs = host_session(s);
	unsigned char *buf = malloc(len ? len : 1);
	long ret = 0;

	if (!buf)
		return -ENOMEM;
	for (size_t off = 0; off < len; off += HOST_MSG_DATA) {
		uint64_t a[2] = { addr + off, len - off < HOST_MSG_DATA ? len - off : HOST_MSG_DATA };

		ret = host_call(s, p, HOP_LOAD, a, 2, NULL, 0);
		if (ret < 0) {
			free(buf);
			return ret;
		}
		memcpy(buf + off, hs->rs.data, (size_t)ret);
	}
	*out = buf;
	return (long)len;
}

static int host_load_cmd(struct script *s, int argc, char **argv)
{
	struct mem_args m;
	struct host_proc *p;
	unsigned char *buf = NULL;
	long ret;
	int i = 1;

	if (host_arg_proc(s, argc, argv, &i, &p) || mem_args_parse(s, argc, argv, i, &m))
		return SCRIPT_SYNTAX;
	ret = host_load(s, p, (unsigned long)m.addr, (size_t)m.len, &buf);
	return host_bind_bytes(s, ret, buf);
}

/**
 * host_bind_bytes() - bind the @ret bytes at @buf (a host_load() or
 * host_pread() result) to the line's "-> NAME" and free them.
 * Context: host handlers.
 * Return: 0, or a negative errno (@ret itself when it is one).
 */
int host_bind_bytes(struct script *s, long ret, unsigned char *buf)
{
	int rc;

	if (ret < 0)
		return (int)ret;
	rc = var_bind_bytes(s, buf, (size_t)ret);
	free(buf);
	return rc;
}

static int host_touch(struct script *s, int argc, char **argv)
{
	struct mem_args m;
	struct host_proc *p;
	uint64_t a[3];
	int i = 1;

	if (host_arg_proc(s, argc, argv, &i, &p) || mem_args_parse(s, argc, argv, i, &m))
		return SCRIPT_SYNTAX;
	a[0] = (uint64_t)m.addr;
	a[1] = (uint64_t)m.len;
	a[2] = m.write;
	return (int)host_call(s, p, HOP_TOUCH, a, 3, NULL, 0);
}

/* mremap [P] ADDR OLD NEW [maymove] [dontunmap] [fixed=TO] [-> ADDR] */
static int host_mremap(struct script *s, int argc, char **argv)
{
	struct mremap_args r;
	struct host_proc *p;
	int i = 1;

	if (host_arg_proc(s, argc, argv, &i, &p) || mremap_args_parse(s, argc, argv, i, &r))
		return SCRIPT_SYNTAX;
	return host_call_addr(s, p, HOP_MREMAP, (uint64_t[]){ (uint64_t)r.addr,
			      (uint64_t)r.old_len, (uint64_t)r.new_len, (uint64_t)r.flags,
			      (uint64_t)r.to }, 5);
}

/* ---- pins ---------------------------------------------------------------------- */

/*
 * pin [P] ADDR NPAGES LONGTERM,WRITE -> PG: an io_uring fixed buffer over
 * the range, which the host kernel pins with pin_user_pages_fast(FOLL_WRITE
 * | FOLL_LONGTERM); where only a prefix pins, the agent pins that prefix
 * (the short count pin_user_pages() returns).  The variants fast/unlocked name other entry points of
 * the same pin; any other flag set has no host equivalent.
 */
static int host_pin(struct script *s, int argc, char **argv)
{
	struct host_session *hs = host_session(s);
	struct host_proc *p;
	struct gup_args g;
	long long start, nr;
	uint64_t a[2];
	long slot;
	int i = 1, k;

	if (host_arg_proc(s, argc, argv, &i, &p) || gup_args_parse(s, argc, argv, i, true, &g))
		return SCRIPT_SYNTAX;
	if (g.variant == GUP_REMOTE)
		return host_refuse(s, "pin", "a remote pin (pin_user_pages_remote) has no "
				   "host interface a script process can drive");
	if (g.flags != (FOLL_LONGTERM | FOLL_WRITE))
		return host_refuse(s, "pin", "the host pins user memory from a script process only "
				   "through io_uring fixed buffers, FOLL_WRITE|FOLL_LONGTERM; "
				   "short-term and read-only pins last only for one I/O there");
	if (g.nr == 0 || g.nr > (1 << 18))
		return host_refuse(s, "pin", "an io_uring fixed buffer holds 1 to 256K pages "
				   "(1 GiB), not %ld", g.nr);
	start = (long long)g.start;
	nr = g.nr;
	for (k = 0; k < HOST_MAX_PINS; k++)
		if (hs->pins[k].name[0] && !strcmp(hs->pins[k].name, s->bind))
			return script_syntax(s, "%s still holds pages; unpin or put them first", s->bind);
	for (k = 0; k < HOST_MAX_PINS && hs->pins[k].name[0]; k++)
		;
	if (k == HOST_MAX_PINS || strlen(s->bind) >= sizeof(hs->pins[k].name))
		return host_refuse(s, "pin", "more than %d pins at once", HOST_MAX_PINS);
	a[0] = (uint64_t)start;
	a[1] = (uint64_t)nr * 4096;
	slot = host_call(s, p, HOP_PIN, a, 2, NULL, 0);	/* pages * MAX + slot */
	if (slot < 0)
		return (int)slot;
	snprintf(hs->pins[k].name, sizeof(hs->pins[k].name), "%s", s->bind);
	hs->pins[k].proc = (int)(p - hs->procs);
	hs->pins[k].slot = slot % HOST_MAX_PINS;
	hs->pins[k].addr = (unsigned long)start;
	hs->pins[k].npages = slot / HOST_MAX_PINS;
	return 0;
}

/**
 * host_find_pin() - the long-term pin bound to variable @name.
 * Context: host handlers.
 * Return: the pin, or NULL when @name holds none.
 */
struct host_pin *host_find_pin(struct script *s, const char *name)
{
	struct host_session *hs = host_session(s);

	for (int k = 0; hs && k < HOST_MAX_PINS; k++)
		if (hs->pins[k].name[0] && !strcmp(hs->pins[k].name, name))
			return &hs->pins[k];
	return NULL;
}

static int host_unpin(struct script *s, int argc, char **argv)
{
	struct host_session *hs = host_session(s);
	struct host_pin *pin = argc > 1 ? host_find_pin(s, argv[1]) : NULL;
	uint64_t slot;
	long rc;

	if (argc < 2)
		return script_syntax(s, "usage: %s", script_find_cmd("unpin")->usage);
	if (!pin)
		return script_syntax(s, "%s holds no pages", argv[1]);
	if (argc > 3 || (argc == 3 && strcmp(argv[2], "clean")))
		return host_refuse(s, "unpin", "io_uring drops a fixed buffer's pins all at once "
				   "and without dirtying the pages (only 'unpin PG [clean]')");
	slot = (uint64_t)pin->slot;
	rc = host_call(s, &hs->procs[pin->proc], HOP_UNPIN, &slot, 1, NULL, 0);
	if (rc == 0)
		pin->name[0] = '\0';
	return (int)rc;
}

static int host_vmstat_cmd(struct script *s, int argc, char **argv)
{
	long v = host_script_vmstat(s, argv[1]);

	if (v == -ENOENT)
		return host_refuse(s, "vmstat", "the host mode offers only nr_foll_pin_acquired "
				   "and nr_foll_pin_released (as deltas since the first process)");
	return v < 0 ? (int)v : var_bind_int(s, v);
}

/* let, echo and print need no machine: the simulated handler runs as is. */
static int host_portable(struct script *s, int argc, char **argv)
{
	return script_find_cmd(argv[0])->fn(s, argc, argv);
}

HOST_CMD("boot", host_boot);
HOST_CMD("shutdown", host_shutdown);
HOST_CMD("proc", host_proc);
HOST_CMD("fork", host_fork);
HOST_CMD("exit", host_exit);
HOST_CMD("use", host_use);
HOST_CMD("mmap", host_mmap);
HOST_CMD("mremap", host_mremap);
static const struct host_cmd host_munmap = { "munmap", host_range, NULL };
static const struct host_cmd host_mprotect = { "mprotect", host_range, NULL };
static const struct host_cmd host_madvise = { "madvise", host_range, NULL };
static const struct host_cmd host_pageout = { "pageout", host_range, NULL };
static const struct host_cmd *const host_range_cmds[]
	__attribute__((section("pinmm_host_cmds"), used)) = {
	&host_munmap, &host_mprotect, &host_madvise, &host_pageout,
};
HOST_CMD("store", host_store);
HOST_CMD("load", host_load_cmd);
HOST_CMD("touch", host_touch);
HOST_CMD("pin", host_pin);
HOST_CMD("unpin", host_unpin);
HOST_CMD("vmstat", host_vmstat_cmd);
static const struct host_cmd host_let = { "let", host_portable, NULL };
static const struct host_cmd host_echo = { "echo", host_portable, NULL };
static const struct host_cmd host_print = { "print", host_portable, NULL };
static const struct host_cmd *const host_portable_cmds[]
	__attribute__((section("pinmm_host_cmds"), used)) = {
	&host_let, &host_echo, &host_print,
};
