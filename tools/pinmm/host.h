/* SPDX-License-Identifier: MIT */
/*
 * host.h - the host backend of scenario scripts (`pinmm run --host`,
 * `pinmm diff`): the protocol between the runner and the agent processes
 * that stand for the script's processes on the real kernel, the agent's
 * client side, the host command registry and the page observations.
 *
 * Split: host_agent.c is the agent (a forked process that executes one
 * request at a time) and its client (send, wait with a deadline, notice a
 * dead agent); host_table.c is the HOST_CMD registry, the session (agents,
 * pins, scratch directories, cleanup) and the refusal messages;
 * host_cmds.c and host_files.c are the handlers of the memory, process,
 * file and pin commands; host_pages.c answers show/expect/info about pages
 * from /proc/PID/pagemap, /proc/kpageflags and /proc/kpagecount.
 */
#ifndef PINMM_TOOL_HOST_H
#define PINMM_TOOL_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Requests an agent understands. */
enum host_op {
	HOP_MMAP = 1, HOP_MUNMAP, HOP_MPROTECT, HOP_MADVISE, HOP_STORE, HOP_LOAD,
	HOP_TOUCH, HOP_FORK, HOP_EXIT, HOP_MEMFD, HOP_OPEN, HOP_CLOSE, HOP_PWRITE,
	HOP_PREAD, HOP_FTRUNCATE, HOP_UNLINK, HOP_PIN, HOP_UNPIN, HOP_FSYNC,
	HOP_MREMAP, HOP_FALLOCATE, HOP_FSIZE,
};

/* The most payload bytes one request or response carries. */
#define HOST_MSG_DATA	(60 * 1024)
/* The most long-term pins (io_uring fixed-buffer slots) one agent holds. */
#define HOST_MAX_PINS	64
/* How long one request may take before its agent counts as hung. */
#define HOST_TIMEOUT_MS	10000

struct host_req {
	int32_t op;
	int32_t pad;
	uint64_t a[6];		/* op-specific arguments */
	uint32_t len;		/* bytes of @data used */
	unsigned char data[HOST_MSG_DATA];
};

struct host_resp {
	int64_t ret;		/* >= 0 result, or a negative errno */
	uint32_t len;
	unsigned char data[HOST_MSG_DATA];
};

#define HOST_REQ_HDR	offsetof(struct host_req, data)
#define HOST_RESP_HDR	offsetof(struct host_resp, data)

/* struct host_agent - the runner's handle on one agent process. */
struct host_agent {
	pid_t pid;
	int sock;		/* SOCK_SEQPACKET to the agent; -1 when dead */
	bool direct_child;	/* forked by the runner (waitpid works) */
};

int host_agent_spawn(struct host_agent *ag);
long host_agent_call(struct host_agent *ag, const struct host_req *rq,
		     struct host_resp *rs, struct host_agent *forked);
void host_agent_kill(struct host_agent *ag);
const char *host_agent_death(void);

/* ---- the runner's side: needs tool.h ---------------------------------------- */
#ifdef PINMM_TOOL_H

/*
 * struct host_cmd - what a command does in host mode, registered with
 * HOST_CMD() or HOST_REFUSE() into the "pinmm_host_cmds" section.
 * @name: the command.
 * @fn: its host handler (called like a script_cmd handler), or NULL.
 * @refuse: with @fn NULL, why the host cannot run it.
 */
struct host_cmd {
	const char *name;
	cmd_fn fn;
	const char *refuse;
};

#define HOST_CMD(n, f)							\
	static const struct host_cmd __host_cmd_##f = { n, f, NULL };	\
	static const struct host_cmd *const __host_cmd_p_##f		\
	__attribute__((section("pinmm_host_cmds"), used)) = &__host_cmd_##f

#define HOST_REFUSE(id, n, why)						\
	static const struct host_cmd __host_refuse_##id = { n, NULL, why };	\
	static const struct host_cmd *const __host_refuse_p_##id	\
	__attribute__((section("pinmm_host_cmds"), used)) = &__host_refuse_##id

/* One script process on the host. */
struct host_proc {
	char name[64];
	struct host_agent ag;
};

/* One long-term pin: an io_uring fixed-buffer slot of a process. */
struct host_pin {
	char name[64];
	int proc;		/* index into procs */
	long slot;
	unsigned long addr;
	long npages;
};

#define HOST_MAX_PROCS	64

struct host_session {
	struct host_proc procs[HOST_MAX_PROCS];
	int nprocs;
	int cur;		/* index of the current process, or -1 */
	struct host_pin pins[HOST_MAX_PINS];
	char scratch[2][128];	/* [0] tmpfs (/tmp, /dev/shm paths), [1] disk */
	bool pinfs;		/* booted with pinfs.image: /data/ exists */
	long vm_base_acquired, vm_base_released;
	struct host_req rq;
	struct host_resp rs;
};

struct host_session *host_session(struct script *s);
int host_refuse(struct script *s, const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int host_arg_proc(struct script *s, int argc, char **argv, int *i, struct host_proc **p);
long host_call(struct script *s, struct host_proc *p, int op, const uint64_t *args,
	       int nargs, const void *data, size_t len);
int host_map_path(struct script *s, const char *path, char *out, size_t len);
long host_script_vmstat(struct script *s, const char *name);
void host_vmstat_baseline(struct host_session *hs);
long host_load(struct script *s, struct host_proc *p, unsigned long addr, size_t len,
	       unsigned char **out);
int host_bind_bytes(struct script *s, long ret, unsigned char *buf);
struct host_pin *host_find_pin(struct script *s, const char *name);
long host_pread(struct script *s, struct host_proc *p, int fd, long off, size_t len,
		unsigned char **out);
int host_page_info(struct script *s, struct host_proc *p, unsigned long addr,
		   struct pinmm_page_info *pi);

#endif /* PINMM_TOOL_H */
#endif /* PINMM_TOOL_HOST_H */
