/* SPDX-License-Identifier: MIT */
/*
 * host_files.c - host handlers of the file commands: open, memfd, close,
 * pwrite, pread, ftruncate, fallocate, fsync, unlink and fsize, executed by the agent of the
 * process with the real system calls.  Paths live in scratch directories
 * (host_map_path(): /tmp and /dev/shm paths on tmpfs, the others on the
 * disk filesystem of /var/tmp), removed when the script ends.  O_DIRECT
 * opens pass through: where the filesystem allows it, a pread/pwrite is a
 * short-term pin of the agent's buffer by the host kernel.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "host.h"

/* [P] then exactly @n more arguments starting at *i. */
static int proc_and(struct script *s, int argc, char **argv, int n,
		    struct host_proc **p, int *i)
{
	*i = 1;
	if (host_arg_proc(s, argc, argv, i, p))
		return SCRIPT_SYNTAX;
	if (argc - *i != n)
		return script_syntax(s, "usage: %s", script_find_cmd(argv[0])->usage);
	return 0;
}

static int bind_result(struct script *s, long r)
{
	if (r < 0)
		return (int)r;
	return s->bind ? var_bind_int(s, r) : 0;
}

static int host_open(struct script *s, int argc, char **argv)
{
	struct host_proc *p;
	long flags;
	unsigned mode;
	char *path, mapped[512];
	uint64_t a[2];
	int i = 1, rc;

	if (host_arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	rc = open_args_parse(s, argc, argv, i, &flags, &mode, &path);
	if (rc)
		return rc;
	rc = host_map_path(s, path, mapped, sizeof(mapped));
	free(path);
	if (rc)
		return rc;
	a[0] = (uint64_t)flags;
	a[1] = mode;
	return bind_result(s, host_call(s, p, HOP_OPEN, a, 2, mapped, strlen(mapped)));
}

static int host_memfd(struct script *s, int argc, char **argv)
{
	struct host_proc *p;
	long flags = 0;
	uint64_t a;
	char *name;
	long r;
	int i = 1, rc;

	if (host_arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (argc - i < 1 || argc - i > 2)
		return script_syntax(s, "usage: %s", script_find_cmd("memfd")->usage);
	if (argc - i == 2 && arg_flags(s, argv[i + 1], memfd_names, "MFD_", &flags))
		return SCRIPT_SYNTAX;
	if (flags & MFD_HUGETLB)
		return host_refuse(s, "memfd", "hugetlb memfds need a hugetlb pool the host "
				   "may not have reserved");
	rc = arg_string(s, argv[i], &name);
	if (rc)
		return rc;
	a = (uint64_t)flags;
	r = host_call(s, p, HOP_MEMFD, &a, 1, name, strlen(name));
	free(name);
	return bind_result(s, r);
}

/* close F, fsync F: one descriptor. */
static int host_fd_op(struct script *s, int argc, char **argv)
{
	struct host_proc *p;
	long long fd;
	uint64_t a;
	int i;

	if (proc_and(s, argc, argv, 1, &p, &i) || arg_int(s, argv[i], &fd))
		return SCRIPT_SYNTAX;
	a = (uint64_t)fd;
	return (int)host_call(s, p, argv[0][0] == 'c' ? HOP_CLOSE : HOP_FSYNC, &a, 1, NULL, 0);
}

static int host_pwrite(struct script *s, int argc, char **argv)
{
	struct host_proc *p;
	unsigned char *buf;
	long long fd, off;
	size_t len, done = 0;
	long ret = 0;
	int i, rc;

	if (proc_and(s, argc, argv, 3, &p, &i) || arg_int(s, argv[i], &fd) ||
	    arg_int(s, argv[i + 1], &off))
		return SCRIPT_SYNTAX;
	rc = arg_data(s, argv[i + 2], &buf, &len);
	if (rc)
		return rc;
	while (done < len || (len == 0 && done == 0)) {
		size_t n = len - done < HOST_MSG_DATA ? len - done : HOST_MSG_DATA;
		uint64_t a[2] = { (uint64_t)fd, (uint64_t)(off + (long long)done) };

		ret = host_call(s, p, HOP_PWRITE, a, 2, buf + done, n);
		if (ret <= 0)
			break;
		done += (size_t)ret;
	}
	free(buf);
	if (ret < 0)
		return (int)ret;
	return var_bind_int(s, (long long)done);
}

/**
 * host_pread() - read up to @len bytes of @fd at @off in @p.
 * Context: host handlers (pread, expect file).
 * Return: the bytes read (malloc()ed, in *out), or a negative errno.
 */
long host_pread(struct script *s, struct host_proc *p, int fd, long off, size_t len,
		unsigned char **out)
{
	struct host_session *hs = host_session(s);
	unsigned char *buf = malloc(len ? len : 1);
	size_t done = 0;

	if (!buf)
		return -ENOMEM;
	while (done < len) {
		uint64_t a[3] = { (uint64_t)fd, (uint64_t)(off + (long)done),
				  len - done < HOST_MSG_DATA ? len - done : HOST_MSG_DATA };
		long ret = host_call(s, p, HOP_PREAD, a, 3, NULL, 0);

		if (ret < 0) {
			free(buf);
			return ret;
		}
		if (ret == 0)
			break;
		memcpy(buf + done, hs->rs.data, (size_t)ret);
		done += (size_t)ret;
	}
	*out = buf;
	return (long)done;
}

static int host_pread_cmd(struct script *s, int argc, char **argv)
{
	struct host_proc *p;
	unsigned char *buf = NULL;
	long long fd, off, len;
	long ret;
	int i;

	if (proc_and(s, argc, argv, 3, &p, &i) || arg_int(s, argv[i], &fd) ||
	    arg_int(s, argv[i + 1], &off) || arg_int(s, argv[i + 2], &len))
		return SCRIPT_SYNTAX;
	if (len < 0 || len > (64LL << 20))
		return script_syntax(s, "pread length %lld out of range (0..64M)", len);
	ret = host_pread(s, p, (int)fd, (long)off, (size_t)len, &buf);
	return host_bind_bytes(s, ret, buf);
}

static int host_ftruncate(struct script *s, int argc, char **argv)
{
	struct host_proc *p;
	long long fd, len;
	uint64_t a[2];
	int i;

	if (proc_and(s, argc, argv, 2, &p, &i) || arg_int(s, argv[i], &fd) ||
	    arg_int(s, argv[i + 1], &len))
		return SCRIPT_SYNTAX;
	a[0] = (uint64_t)fd;
	a[1] = (uint64_t)len;
	return (int)host_call(s, p, HOP_FTRUNCATE, a, 2, NULL, 0);
}

static int host_unlink(struct script *s, int argc, char **argv)
{
	struct host_proc *p;
	char *path = NULL, mapped[512];
	int i, rc;

	if (proc_and(s, argc, argv, 1, &p, &i))
		return SCRIPT_SYNTAX;
	rc = arg_string(s, argv[i], &path);
	if (rc)
		return rc;
	rc = host_map_path(s, path, mapped, sizeof(mapped));
	free(path);
	if (rc)
		return rc;
	return (int)host_call(s, p, HOP_UNLINK, NULL, 0, mapped, strlen(mapped));
}

static int host_fallocate(struct script *s, int argc, char **argv)
{
	struct host_proc *p;
	long long fd, off, len;
	uint64_t a[4];
	long mode;
	int i;

	if (proc_and(s, argc, argv, 4, &p, &i) || arg_int(s, argv[i], &fd) ||
	    arg_flags(s, argv[i + 1], falloc_names, "FALLOC_FL_", &mode) ||
	    arg_int(s, argv[i + 2], &off) || arg_int(s, argv[i + 3], &len))
		return SCRIPT_SYNTAX;
	a[0] = (uint64_t)fd;
	a[1] = (uint64_t)mode;
	a[2] = (uint64_t)off;
	a[3] = (uint64_t)len;
	return (int)host_call(s, p, HOP_FALLOCATE, a, 4, NULL, 0);
}

static int host_fsize(struct script *s, int argc, char **argv)
{
	struct host_proc *p;
	long long fd;
	uint64_t a;
	int i;

	if (proc_and(s, argc, argv, 1, &p, &i) || arg_int(s, argv[i], &fd))
		return SCRIPT_SYNTAX;
	a = (uint64_t)fd;
	return bind_result(s, host_call(s, p, HOP_FSIZE, &a, 1, NULL, 0));
}

HOST_CMD("open", host_open);
HOST_CMD("fallocate", host_fallocate);
HOST_CMD("fsize", host_fsize);
HOST_CMD("memfd", host_memfd);
static const struct host_cmd host_close = { "close", host_fd_op, NULL };
static const struct host_cmd host_fsync = { "fsync", host_fd_op, NULL };
static const struct host_cmd *const host_fd_cmds[]
	__attribute__((section("pinmm_host_cmds"), used)) = { &host_close, &host_fsync };
HOST_CMD("pwrite", host_pwrite);
HOST_CMD("pread", host_pread_cmd);
HOST_CMD("ftruncate", host_ftruncate);
HOST_CMD("unlink", host_unlink);
