/* SPDX-License-Identifier: MIT */
/*
 * host_table.c - host mode of the script runner (`pinmm run --host`): the
 * HOST_CMD registry, dispatch and refusals, and the per-script session
 * (agent processes, scratch directories, vmstat baseline) with its cleanup.
 *
 * Each host_*.c file registers the host handlers of the commands it can run
 * on the real kernel with HOST_CMD(), and the commands the host cannot
 * express with HOST_REFUSE() and the reason.  A command with neither is
 * refused too, with a generic reason: nothing is ever silently skipped.
 * Refusals are found before the script runs where the command alone
 * decides (script_host_precheck()), and while it runs where an argument
 * does (a pin without FOLL_LONGTERM, an unobservable page field); either
 * way the message is "FILE:LINE: 'cmd' cannot run on the host: REASON" and
 * the exit status 2.
 *
 * The session lives in the script's private slot of host_group and ends
 * with the script (script_end hook): every agent is killed and reaped and
 * the scratch directories are removed, whatever way the script ended.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"
#include "host.h"

extern const struct host_cmd *const __start_pinmm_host_cmds[] __attribute__((weak));
extern const struct host_cmd *const __stop_pinmm_host_cmds[] __attribute__((weak));

static const struct host_cmd *host_find(const char *name)
{
	const struct host_cmd *const *p;

	/* arrays of entries may be aligned wider than a pointer: skip the gaps */
	for (p = __start_pinmm_host_cmds; p && p < __stop_pinmm_host_cmds; p++)
		if (*p && !strcmp((*p)->name, name))
			return *p;
	return NULL;
}

/**
 * host_refuse() - refuse line's command @cmd on the host, saying why.
 * Context: a host handler or the pre-check.
 * Return: SCRIPT_REFUSED (the runner prints the message and exits 2).
 */
int host_refuse(struct script *s, const char *cmd, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(s->errmsg, sizeof(s->errmsg), "'%s' cannot run on the host: %s", cmd, why);
	return SCRIPT_REFUSED;
}

static int refuse_cmd(struct script *s, const char *name, const struct host_cmd *h)
{
	return host_refuse(s, name, "%s", h && h->refuse ? h->refuse :
			   "a pinmm-specific command with no host-kernel equivalent");
}

/**
 * script_host_precheck() - whether the host can run command @name at all.
 * Context: the runner's syntax pre-check, in host mode.
 * Return: 0, or SCRIPT_REFUSED with the message in s->errmsg.
 */
int script_host_precheck(struct script *s, const char *name)
{
	const struct host_cmd *h = host_find(name);

	return h && h->fn ? 0 : refuse_cmd(s, name, h);
}

/**
 * script_host_dispatch() - run one command on the host.
 * Context: script_dispatch(), in host mode, after the shape checks.
 * Return: as a command handler.
 */
int script_host_dispatch(struct script *s, int argc, char **argv)
{
	const struct host_cmd *h = host_find(argv[0]);

	if (!h || !h->fn)
		return refuse_cmd(s, argv[0], h);
	return h->fn(s, argc, argv);
}

/* ---- the session -------------------------------------------------------------- */

static void host_end(struct script *s);

static const struct script_cmd no_cmds[] = { { NULL, NULL, BIND_NONE, NULL } };

static const struct script_group host_group = {
	.title = "Host mode (pinmm run --host)",
	.order = 90,
	.cmds = no_cmds,
	.script_end = host_end,
};
SCRIPT_GROUP(host_group);

/**
 * host_session() - the host state of @s, created on first use.
 * Context: host handlers.
 * Return: the session, or NULL when out of memory.
 */
struct host_session *host_session(struct script *s)
{
	void **slot = script_private(s, &host_group);
	struct host_session *hs;

	if (!slot)
		return NULL;
	if (*slot)
		return *slot;
	hs = calloc(1, sizeof(*hs));
	if (!hs)
		return NULL;
	hs->cur = -1;
	hs->vm_base_acquired = -1;
	*slot = hs;
	return hs;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	return remove(path) ? 0 : 0;
}

static void host_end(struct script *s)
{
	void **slot = script_private(s, &host_group);
	struct host_session *hs = slot ? *slot : NULL;

	if (!hs)
		return;
	for (int i = 0; i < hs->nprocs; i++)
		host_agent_kill(&hs->procs[i].ag);
	for (int i = 0; i < 2; i++)
		if (hs->scratch[i][0])
			nftw(hs->scratch[i], rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(hs);
	*slot = NULL;
}

/**
 * host_arg_proc() - the optional [P] at argv[*i], as arg_proc() does it.
 * Context: host handlers.
 * Return: 0 (and *i advanced past a name), or SCRIPT_SYNTAX.
 */
int host_arg_proc(struct script *s, int argc, char **argv, int *i, struct host_proc **p)
{
	struct host_session *hs = host_session(s);

	if (!hs)
		return script_syntax(s, "out of memory");
	if (*i < argc) {
		for (int k = 0; k < hs->nprocs; k++) {
			if (strcmp(hs->procs[k].name, argv[*i]))
				continue;
			if (hs->procs[k].ag.sock < 0)
				return script_syntax(s, "process %s has exited", argv[*i]);
			*p = &hs->procs[k];
			(*i)++;
			return 0;
		}
	}
	if (hs->cur < 0 || hs->procs[hs->cur].ag.sock < 0)
		return script_syntax(s, "no current process: create one with 'proc NAME'");
	*p = &hs->procs[hs->cur];
	return 0;
}

/**
 * host_call() - send request @op with @args and @data to @p's agent.
 * Context: host handlers.  The response is in host_session(s)->rs.
 * Return: the result, or a negative errno; a dead or hung agent is reported
 * on stderr, and the caller gets -ECHILD or -ETIMEDOUT.
 */
long host_call(struct script *s, struct host_proc *p, int op, const uint64_t *args,
	       int nargs, const void *data, size_t len)
{
	struct host_session *hs = host_session(s);
	long rc;

	if (len > HOST_MSG_DATA)
		return -E2BIG;
	memset(&hs->rq, 0, HOST_REQ_HDR);
	hs->rq.op = op;
	for (int k = 0; k < nargs && k < 6; k++)
		hs->rq.a[k] = args[k];
	hs->rq.len = (uint32_t)len;
	if (len)
		memcpy(hs->rq.data, data, len);
	rc = host_agent_call(&p->ag, &hs->rq, &hs->rs, NULL);
	if (rc == -ECHILD || rc == -ETIMEDOUT)
		fprintf(stderr, "%s:%d: host process %s died: %s\n", s->file, s->line,
			p->name, host_agent_death());
	return rc;
}

/* The mount points of pinmm's VFS and where they live on the host. */
static const struct {
	const char *prefix;
	int scratch;		/* 0 tmpfs, 1 disk */
} mounts[] = {
	{ "/dev/shm/", 0 }, { "/tmp/", 0 }, { "/data/", 1 },
};

/**
 * host_map_path() - where the script's @path lives on the host.  pinmm's
 * tmpfs mounts (/dev/shm/, /tmp/) map into a scratch directory on the
 * host's tmpfs, pinfs's /data/ (booted with pinfs.image) into one on the
 * disk filesystem of /var/tmp;
 * the mount directory is made on first use, nothing below it, and both are
 * removed when the script ends.  A path under no mount maps to a directory
 * that does not exist (ENOENT, as pinmm answers).  /dax/ is refused.
 * Context: host handlers (open, unlink).
 * Return: 0, SCRIPT_REFUSED, or a negative errno.
 */
int host_map_path(struct script *s, const char *path, char *out, size_t len)
{
	static const char *const base[2] = { "/dev/shm", "/var/tmp" };
	struct host_session *hs = host_session(s);
	const char *mnt = "/no-such-mount/";
	int k = 1;

	if (!hs)
		return -ENOMEM;
	if (!strncmp(path, "/dax/", 5))
		return host_refuse(s, "open", "/dax/ is pinfs on DAX (pmem); the host has no "
				   "DAX filesystem");
	for (size_t i = 0; i < ARRAY_SIZE(mounts); i++)
		if (!strncmp(path, mounts[i].prefix, strlen(mounts[i].prefix)) &&
		    (mounts[i].scratch == 0 || hs->pinfs)) {
			mnt = mounts[i].prefix;
			k = mounts[i].scratch;
		}
	if (!hs->scratch[k][0]) {
		snprintf(hs->scratch[k], sizeof(hs->scratch[k]), "%s/pinmm-host.XXXXXX", base[k]);
		if (!mkdtemp(hs->scratch[k])) {
			hs->scratch[k][0] = '\0';
			return -errno;
		}
	}
	if ((size_t)snprintf(out, len, "%s%s", hs->scratch[k], mnt) >= len)
		return -ENAMETOOLONG;
	if (strcmp(mnt, "/no-such-mount/")) {
		char *q = out + strlen(hs->scratch[k]);

		/* make SCRATCH/dev/ and SCRATCH/dev/shm/ (or /tmp/, /data/) */
		for (q = strchr(q + 1, '/'); q; q = strchr(q + 1, '/')) {
			*q = '\0';
			if (mkdir(out, 0755) && errno != EEXIST)
				return -errno;
			*q = '/';
		}
	}
	if ((size_t)snprintf(out, len, "%s%s", hs->scratch[k], path) >= len)
		return -ENAMETOOLONG;
	if (!strcmp(mnt, "/no-such-mount/") &&
	    (size_t)snprintf(out, len, "%s/no-such-mount%s", hs->scratch[k], path) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * One counter of /proc/vmstat, or -ENOENT.  The host keeps per-CPU deltas
 * of its node counters and folds them in only now and then; writing
 * vm.stat_refresh (root) folds them first, so the value includes the
 * script's last operation.
 */
static long read_vmstat(const char *name)
{
	int rfd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);
	char key[128];
	long v, found = -ENOENT;
	FILE *f;

	if (rfd >= 0) {
		ssize_t w = write(rfd, "1\n", 2);	/* may fail: then it lags */

		(void)w;
		close(rfd);
	}
	f = fopen("/proc/vmstat", "r");

	if (!f)
		return -errno;
	while (fscanf(f, "%127s %ld", key, &v) == 2)
		if (!strcmp(key, name)) {
			found = v;
			break;
		}
	fclose(f);
	return found;
}

/**
 * host_script_vmstat() - counter @name as the script sees it on the host: the
 * pin counters nr_foll_pin_acquired/released as deltas since the script's
 * first process started (they are system-wide, so other pinning on the
 * machine adds to them); no other counter is offered.
 * Context: host handlers.
 * Return: the value, or -ENOENT for a counter the host mode does not offer.
 */
long host_script_vmstat(struct script *s, const char *name)
{
	struct host_session *hs = host_session(s);
	long v;

	if (!hs)
		return -ENOMEM;
	if (strcmp(name, "nr_foll_pin_acquired") && strcmp(name, "nr_foll_pin_released"))
		return -ENOENT;
	v = read_vmstat(name);
	if (v < 0)
		return v;
	if (hs->vm_base_acquired < 0)
		return 0;
	return v - (name[12] == 'a' ? hs->vm_base_acquired : hs->vm_base_released);
}

/**
 * host_vmstat_baseline() - the first process starts: the vmstat deltas of
 * host_script_vmstat() count from here (later calls change nothing).
 * Context: host handlers (proc).
 * Return: nothing.
 */
void host_vmstat_baseline(struct host_session *hs)
{
	if (hs->vm_base_acquired >= 0)
		return;
	hs->vm_base_acquired = read_vmstat("nr_foll_pin_acquired");
	hs->vm_base_released = read_vmstat("nr_foll_pin_released");
}

/* ---- what the host cannot run, and why ---------------------------------------------- */

HOST_REFUSE(audit, "audit", "it checks pinmm's own invariants; the host kernel has no such audit");
HOST_REFUSE(gup, "gup", "plain GUP references (FOLL_GET) are kernel-internal on the host");
HOST_REFUSE(get, "get", "plain GUP references (FOLL_GET) are kernel-internal on the host");
HOST_REFUSE(put, "put", "plain GUP references (FOLL_GET) are kernel-internal on the host");
HOST_REFUSE(dirty, "dirty", "the pages of an io_uring fixed buffer are not the script's to dirty");
HOST_REFUSE(dma, "dma", "device DMA into pinned pages needs a device; the host offers none");
HOST_REFUSE(rlimit, "rlimit", "RLIMIT_MEMLOCK of the host processes is left as the host sets it");
HOST_REFUSE(ksm_scan, "ksm_scan", "ksmd runs on the host's own schedule; a script cannot make it scan now");
HOST_REFUSE(khugepaged_scan, "khugepaged_scan", "khugepaged runs on the host's own schedule; "
	    "a script cannot make it scan now");
HOST_REFUSE(reclaim, "reclaim", "it would reclaim the whole host's memory, not the script's");
#define RDMA_WHY "RDMA needs an RDMA device (and pinmm's simulated HCA); the host has none"
HOST_REFUSE(pd, "pd", RDMA_WHY);
HOST_REFUSE(reg_mr, "reg_mr", RDMA_WHY);
HOST_REFUSE(dereg_mr, "dereg_mr", RDMA_WHY);
HOST_REFUSE(rdma, "rdma", RDMA_WHY);
HOST_REFUSE(peer, "peer", RDMA_WHY);
HOST_REFUSE(async_event, "async_event", RDMA_WHY);
HOST_REFUSE(notify, "notify", "MMU notifiers are kernel-internal on the host");
HOST_REFUSE(unnotify, "unnotify", "MMU notifiers are kernel-internal on the host");
HOST_REFUSE(lease, "lease", "layout leases of pinned DAX/pinfs files exist only in pinmm");
HOST_REFUSE(file_pins, "file_pins", "file_pin records of pinfs exist only in pinmm");
