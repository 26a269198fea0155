/* SPDX-License-Identifier: MIT */
/*
 * host_agent.c - the processes that stand for a script's processes on the
 * host kernel, and the runner's side of talking to them.
 *
 * An agent is a forked copy of the tool that loops: receive one request on
 * its SOCK_SEQPACKET socket, execute it with the real system call (or a real
 * CPU load/store through a pointer), send one response.  `fork` in a script
 * is a real fork() of the agent: the child gets a fresh socket pair whose
 * runner end travels back to the runner with SCM_RIGHTS.  Stores and loads
 * run under a SIGSEGV/SIGBUS handler that turns a fault into -EFAULT, as the
 * simulated store/load return it.  Long-term pins are io_uring fixed
 * buffers (the kernel pins them with FOLL_WRITE | FOLL_LONGTERM), one
 * sparse-table slot per script pin, so that unpinning one leaves the others.
 *
 * The runner never waits without a deadline: every call polls for
 * HOST_TIMEOUT_MS and a silent, closed or reset agent is killed and reported
 * as dead.  An agent whose runner went away sees EOF and exits; the agent
 * forked by the runner also dies with it (PR_SET_PDEATHSIG).
 *
 * The agent uses system calls and memcpy only (no malloc): the runner may
 * have threads left from a simulated machine, and only the forking thread
 * exists in the child.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/io_uring.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "host.h"

/* ---- the agent -------------------------------------------------------------- */

/* The agent's socket: high, so that the script's files get the low numbers. */
#define AGENT_SOCK_FD	1000

static sigjmp_buf fault_jmp;
static volatile sig_atomic_t fault_armed;

static void on_fault(int sig)
{
	if (fault_armed)
		siglongjmp(fault_jmp, sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Copy @len bytes with a real CPU access; a fault becomes -EFAULT. */
static long guarded_copy(void *dst, const void *src, size_t len)
{
	if (sigsetjmp(fault_jmp, 1)) {
		fault_armed = 0;
		return -EFAULT;
	}
	fault_armed = 1;
	memcpy(dst, src, len);
	fault_armed = 0;
	return (long)len;
}

/* Touch one byte per page from @addr: read it, and write it back if @write. */
static long guarded_touch(unsigned long addr, unsigned long len, bool write)
{
	volatile unsigned char *p;
	unsigned long a;

	if (sigsetjmp(fault_jmp, 1)) {
		fault_armed = 0;
		return -EFAULT;
	}
	fault_armed = 1;
	for (a = addr & ~4095UL; a < addr + len; a += 4096) {
		unsigned char b;

		p = (volatile unsigned char *)a;
		b = *p;
		if (write)
			*p = b;
	}
	fault_armed = 0;
	return 0;
}

struct agent_state {
	int sock;
	int ring;		/* io_uring fd, or -1 before the first pin */
	bool slot_used[HOST_MAX_PINS];
};

/*
 * The ring is only a file descriptor: buffers are registered with
 * io_uring_register(2) and no ring is ever mmap()ed, so pinning adds no
 * mapping to the script's address space (an mmap()ed ring could land in a
 * hole the script made, and a pin across that hole would then succeed).
 */
static int ring_register(int fd, unsigned op, void *arg, unsigned n)
{
	return syscall(__NR_io_uring_register, fd, op, arg, n) < 0 ? -errno : 0;
}

/*
 * A fixed buffer is pinned whole or not at all, where pin_user_pages()
 * pins up to the first page that fails and returns that short count.  Find
 * the longest prefix of @iov that pins (bisection: each try faults in and
 * pins only pages before the failing one, as pin_user_pages() would) and
 * leave it registered in @up's slot.  Return: 0, or -EFAULT (no page pins).
 */
static int pin_prefix(struct agent_state *st, struct io_uring_rsrc_update2 *up,
		      struct iovec *iov)
{
	struct iovec none = { NULL, 0 };
	size_t lo = 0, hi = iov->iov_len / 4096;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		iov->iov_len = mid * 4096;
		up->data = (__u64)(uintptr_t)iov;
		if (ring_register(st->ring, IORING_REGISTER_BUFFERS_UPDATE, up, sizeof(*up))) {
			hi = mid;
			continue;
		}
		lo = mid;
		up->data = (__u64)(uintptr_t)&none;
		ring_register(st->ring, IORING_REGISTER_BUFFERS_UPDATE, up, sizeof(*up));
	}
	if (!lo)
		return -EFAULT;
	iov->iov_len = lo * 4096;
	up->data = (__u64)(uintptr_t)iov;
	return ring_register(st->ring, IORING_REGISTER_BUFFERS_UPDATE, up, sizeof(*up));
}

static long agent_pin(struct agent_state *st, unsigned long addr, unsigned long len)
{
	struct iovec iov = { (void *)addr, len };
	__u64 tag = 0;
	struct io_uring_rsrc_update2 up = {
		.data = (__u64)(uintptr_t)&iov, .tags = (__u64)(uintptr_t)&tag, .nr = 1,
	};
	int slot, rc;

	if (st->ring < 0) {
		struct io_uring_params p = { 0 };
		struct io_uring_rsrc_register rr = {
			.nr = HOST_MAX_PINS, .flags = IORING_RSRC_REGISTER_SPARSE,
		};

		st->ring = (int)syscall(__NR_io_uring_setup, 4, &p);
		if (st->ring < 0)
			return st->ring = -1, -errno;
		rc = ring_register(st->ring, IORING_REGISTER_BUFFERS2, &rr, sizeof(rr));
		if (rc) {
			close(st->ring);
			st->ring = -1;
			return rc;
		}
	}
	for (slot = 0; slot < HOST_MAX_PINS && st->slot_used[slot]; slot++)
		;
	if (slot == HOST_MAX_PINS)
		return -ENOSPC;
	up.offset = (unsigned)slot;
	rc = ring_register(st->ring, IORING_REGISTER_BUFFERS_UPDATE, &up, sizeof(up));
	if (rc == -EFAULT && len > 4096)
		rc = pin_prefix(st, &up, &iov);
	if (rc)
		return rc;
	st->slot_used[slot] = true;
	return (long)(iov.iov_len / 4096) * HOST_MAX_PINS + slot;
}

static long agent_unpin(struct agent_state *st, unsigned long slot)
{
	struct iovec iov = { NULL, 0 };
	__u64 tag = 0;
	struct io_uring_rsrc_update2 up = {
		.offset = (unsigned)slot, .data = (__u64)(uintptr_t)&iov,
		.tags = (__u64)(uintptr_t)&tag, .nr = 1,
	};
	int rc;

	if (slot >= HOST_MAX_PINS || !st->slot_used[slot] || st->ring < 0)
		return -EINVAL;
	rc = ring_register(st->ring, IORING_REGISTER_BUFFERS_UPDATE, &up, sizeof(up));
	if (rc)
		return rc;
	st->slot_used[slot] = false;
	return 0;
}

/* The child of a fork owns no ring: the parent's pins stay the parent's. */
static void agent_forget_ring(struct agent_state *st)
{
	if (st->ring >= 0)
		close(st->ring);
	st->ring = -1;
	memset(st->slot_used, 0, sizeof(st->slot_used));
}

static long sys_ret(long r)
{
	return r < 0 ? -errno : r;
}

static int send_fd(int sock, int fd, const void *buf, size_t len)
{
	char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* A socket pair, then fork(): sv[0] is the parent's end, sv[1] the child's. */
static pid_t fork_pair(int sv[2])
{
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	pid = fork();
	if (pid < 0) {
		pid = -errno;
		close(sv[0]);
		close(sv[1]);
	}
	return pid;
}

/*
 * fork: the child continues the loop on a new socket; the parent answers
 * with the child's pid and passes the runner's end of that socket.
 */
static long agent_fork(struct agent_state *st, struct host_resp *rs, bool *sent)
{
	int sv[2];
	pid_t pid = fork_pair(sv);

	if (pid < 0)
		return pid;
	if (pid == 0) {
		close(st->sock);
		close(sv[0]);
		st->sock = sv[1];
		agent_forget_ring(st);
		*sent = true;	/* the child answers nothing for this request */
		return 0;
	}
	close(sv[1]);
	rs->ret = pid;
	rs->len = 0;
	*sent = true;
	send_fd(st->sock, sv[0], rs, HOST_RESP_HDR);
	close(sv[0]);
	return pid;
}

static long agent_exec(struct agent_state *st, struct host_req *rq, struct host_resp *rs,
		       bool *sent)
{
	const uint64_t *a = rq->a;
	char path[4096];

	rs->len = 0;
	switch (rq->op) {
	case HOP_MMAP: {
		void *p = mmap((void *)a[0], a[1], (int)a[2], (int)a[3], (int)a[4], (off_t)a[5]);

		return p == MAP_FAILED ? -errno : (long)p;
	}
	case HOP_MUNMAP:
		return sys_ret(munmap((void *)a[0], a[1]));
	case HOP_MPROTECT:
		return sys_ret(mprotect((void *)a[0], a[1], (int)a[2]));
	case HOP_MADVISE:
		return sys_ret(madvise((void *)a[0], a[1], (int)a[2]));
	case HOP_STORE:
		return guarded_copy((void *)a[0], rq->data, rq->len);
	case HOP_LOAD: {
		long r = guarded_copy(rs->data, (void *)a[0], a[1] > HOST_MSG_DATA ? 0 : a[1]);

		if (r > 0)
			rs->len = (uint32_t)r;
		return r;
	}
	case HOP_TOUCH:
		return guarded_touch(a[0], a[1], a[2]);
	case HOP_FORK:
		return agent_fork(st, rs, sent);
	case HOP_EXIT:
		_exit(0);
	case HOP_MEMFD:
		snprintf(path, sizeof(path), "%.*s", (int)rq->len, (char *)rq->data);
		return sys_ret(memfd_create(path, (unsigned)a[0]));
	case HOP_OPEN:
		snprintf(path, sizeof(path), "%.*s", (int)rq->len, (char *)rq->data);
		return sys_ret(open(path, (int)a[0], (mode_t)a[1]));
	case HOP_CLOSE:
		return sys_ret(close((int)a[0]));
	case HOP_PWRITE:
		return sys_ret(pwrite((int)a[0], rq->data, rq->len, (off_t)a[1]));
	case HOP_PREAD: {
		long r = sys_ret(pread((int)a[0], rs->data, a[2] > HOST_MSG_DATA ? 0 : a[2],
				       (off_t)a[1]));

		if (r > 0)
			rs->len = (uint32_t)r;
		return r;
	}
	case HOP_FTRUNCATE:
		return sys_ret(ftruncate((int)a[0], (off_t)a[1]));
	case HOP_FSYNC:
		return sys_ret(fsync((int)a[0]));
	case HOP_UNLINK:
		snprintf(path, sizeof(path), "%.*s", (int)rq->len, (char *)rq->data);
		return sys_ret(unlink(path));
	case HOP_MREMAP: {
		void *p = mremap((void *)a[0], a[1], a[2], (int)a[3], (void *)a[4]);

		return p == MAP_FAILED ? -errno : (long)p;
	}
	case HOP_FALLOCATE:
		return sys_ret(fallocate((int)a[0], (int)a[1], (off_t)a[2], (off_t)a[3]));
	case HOP_FSIZE: {
		struct stat sb;

		return fstat((int)a[0], &sb) ? -errno : (long)sb.st_size;
	}
	case HOP_PIN:
		return agent_pin(st, a[0], a[1]);
	case HOP_UNPIN:
		return agent_unpin(st, a[0]);
	default:
		return -EINVAL;
	}
}

static __attribute__((noreturn)) void agent_loop(int sock)
{
	static struct host_req rq;
	static struct host_resp rs;
	static struct agent_state st;
	struct sigaction sa = { .sa_handler = on_fault };

	st.sock = sock;
	st.ring = -1;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGCHLD, SIG_IGN);	/* forked agents are reaped by the kernel */
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		ssize_t n = recv(st.sock, &rq, sizeof(rq), 0);
		bool sent = false;

		if (n <= 0)
			_exit(0);	/* the runner has gone */
		if ((size_t)n < HOST_REQ_HDR || rq.len > (size_t)n - HOST_REQ_HDR) {
			rs.ret = -EINVAL;
			rs.len = 0;
		} else {
			rs.ret = agent_exec(&st, &rq, &rs, &sent);
		}
		if (!sent)
			send(st.sock, &rs, HOST_RESP_HDR + rs.len, MSG_NOSIGNAL);
	}
}

/* ---- the runner's side ------------------------------------------------------ */

static char death[160];

/**
 * host_agent_death() - why the last call found its agent dead or hung.
 * Context: the runner's thread, after host_agent_call() failed.
 * Return: a static description ("pid N killed by signal 11 (...)").
 */
const char *host_agent_death(void)
{
	return death;
}

/**
 * host_agent_spawn() - fork a new agent for a script's `proc`.
 * Context: the runner's thread.
 * Return: 0, or a negative errno.
 */
int host_agent_spawn(struct host_agent *ag)
{
	pid_t parent = getpid();
	int sv[2];
	pid_t pid;

	fflush(NULL);
	pid = fork_pair(sv);
	if (pid < 0)
		return pid;
	if (pid == 0) {
		/* the agent keeps only its socket, as fd AGENT_SOCK_FD, so that
		 * it holds no end of another agent's socket */
		if (dup2(sv[1], AGENT_SOCK_FD) < 0)
			_exit(127);
		close_range(3, AGENT_SOCK_FD - 1, 0);
		close_range(AGENT_SOCK_FD + 1, ~0U, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		agent_loop(AGENT_SOCK_FD);
	}
	close(sv[1]);
	ag->pid = pid;
	ag->sock = sv[0];
	ag->direct_child = true;
	return 0;
}

/**
 * host_agent_kill() - kill an agent that is hung or no longer needed, and
 * reap it when the runner forked it; @ag is marked dead.
 * Context: the runner's thread.
 * Return: nothing; safe on an agent already dead.
 */
void host_agent_kill(struct host_agent *ag)
{
	if (ag->sock >= 0)
		close(ag->sock);
	ag->sock = -1;
	if (ag->pid > 0) {
		kill(ag->pid, SIGKILL);
		if (ag->direct_child)
			waitpid(ag->pid, NULL, 0);
	}
	ag->pid = 0;
}

static void agent_died(struct host_agent *ag, const char *why)
{
	struct timespec ms = { 0, 1000000 };
	pid_t got = 0;
	int status = 0;

	/* its socket closes before its exit status exists: wait up to 1 s */
	for (int i = 0; ag->direct_child && ag->pid > 0 && i < 1000 && !got; i++) {
		got = waitpid(ag->pid, &status, WNOHANG);
		if (!got)
			nanosleep(&ms, NULL);
	}
	if (got == ag->pid) {
		if (WIFSIGNALED(status))
			snprintf(death, sizeof(death), "pid %d killed by signal %d (%s)",
				 ag->pid, WTERMSIG(status), strsignal(WTERMSIG(status)));
		else
			snprintf(death, sizeof(death), "pid %d exited with status %d",
				 ag->pid, WEXITSTATUS(status));
		ag->pid = 0;
	} else {
		snprintf(death, sizeof(death), "pid %d %s", ag->pid, why);
	}
	host_agent_kill(ag);
}

static long recv_resp(struct host_agent *ag, struct host_resp *rs, int *fd)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { rs, sizeof(*rs) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct pollfd pfd = { .fd = ag->sock, .events = POLLIN };
	struct cmsghdr *c;
	ssize_t n;
	int r;

	do
		r = poll(&pfd, 1, HOST_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		agent_died(ag, "did not answer within the deadline and was killed");
		return -ETIMEDOUT;
	}
	n = recvmsg(ag->sock, &mh, MSG_CMSG_CLOEXEC);
	if (n <= 0 || (size_t)n < HOST_RESP_HDR) {
		agent_died(ag, "closed its connection");
		return -ECHILD;
	}
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_type == SCM_RIGHTS && fd)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	if (rs->len > (size_t)n - HOST_RESP_HDR)
		rs->len = (uint32_t)((size_t)n - HOST_RESP_HDR);
	return 0;
}

/**
 * host_agent_call() - one request, one response, with a deadline.
 * @forked: for HOP_FORK, receives the new agent.
 * Context: the runner's thread.
 * Return: the agent's result (>= 0 or a negative errno from the host), or
 * -ECHILD / -ETIMEDOUT when the agent died or hung (it is then killed, and
 * host_agent_death() says what happened).
 */
long host_agent_call(struct host_agent *ag, const struct host_req *rq,
		     struct host_resp *rs, struct host_agent *forked)
{
	int fd = -1;
	long rc;

	if (ag->sock < 0) {
		snprintf(death, sizeof(death), "is dead");
		return -ECHILD;
	}
	if (send(ag->sock, rq, HOST_REQ_HDR + rq->len, MSG_NOSIGNAL) < 0) {
		agent_died(ag, "cannot be reached");
		return -ECHILD;
	}
	if (rq->op == HOP_EXIT) {
		struct pollfd pfd = { .fd = ag->sock, .events = POLLIN };

		/* the agent exits without answering: wait for its end */
		poll(&pfd, 1, HOST_TIMEOUT_MS);
		host_agent_kill(ag);
		return 0;
	}
	rc = recv_resp(ag, rs, forked ? &fd : NULL);
	if (rc)
		return rc;
	if (forked && rs->ret > 0) {
		if (fd < 0)
			return -EPROTO;
		forked->pid = (pid_t)rs->ret;
		forked->sock = fd;
		forked->direct_child = false;
	} else if (fd >= 0) {
		close(fd);
	}
	return rs->ret;
}
