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

/* [P], then the words of argv[0] (file_args_parse(), script_files.c). */
static int proc_and(struct script *s, int argc, char **argv, struct host_proc **p,
		    struct file_args *fa)
{
	int i = 1;

	if (host_arg_proc(s, argc, argv, &i, p))
		return SCRIPT_SYNTAX;
	return file_args_parse(s, argc, argv, i, fa);
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
	struct file_args fa;
	struct host_proc *p;
	uint64_t a;
	long r;
	int rc = proc_and(s, argc, argv, &p, &fa);

	if (rc)
		return rc;
	if (fa.flags & MFD_HUGETLB) {
		file_args_free(&fa);
		return host_refuse(s, "memfd", "hugetlb memfds need a hugetlb pool the host "
				   "may not have reserved");
	}
	a = (uint64_t)fa.flags;
	r = host_call(s, p, HOP_MEMFD, &a, 1, fa.path, strlen(fa.path));
	file_args_free(&fa);
	return bind_result(s, r);
}

/* close, fsync, ftruncate, fallocate and unlink: no value but the error. */
static int host_file_op(struct script *s, int argc, char **argv)
{
	struct file_args fa;
	struct host_proc *p;
	char mapped[512];
	uint64_t a[4];
	int rc = proc_and(s, argc, argv, &p, &fa), op, n = 1;

	if (rc)
		return rc;
	if (!strcmp(argv[0], "unlink")) {
		rc = host_map_path(s, fa.path, mapped, sizeof(mapped));
		file_args_free(&fa);
		return rc ? rc : (int)host_call(s, p, HOP_UNLINK, NULL, 0, mapped, strlen(mapped));
	}
	a[0] = (uint64_t)fa.fd;
	if (!strcmp(argv[0], "ftruncate")) {
		a[n++] = (uint64_t)fa.len;
		op = HOP_FTRUNCATE;
	} else if (!strcmp(argv[0], "fallocate")) {
		a[n++] = (uint64_t)fa.flags;
		a[n++] = (uint64_t)fa.off;
		a[n++] = (uint64_t)fa.len;
		op = HOP_FALLOCATE;
	} else {
		op = !strcmp(argv[0], "close") ? HOP_CLOSE : HOP_FSYNC;
	}
	return (int)host_call(s, p, op, a, n, NULL, 0);
}

static int host_pwrite(struct script *s, int argc, char **argv)
{
	struct file_args fa;
	struct host_proc *p;
	size_t len, done = 0;
	long ret = 0;
	int rc = proc_and(s, argc, argv, &p, &fa);

	if (rc)
		return rc;
	len = (size_t)fa.len;
	while (done < len || (len == 0 && done == 0)) {
		size_t n = len - done < HOST_MSG_DATA ? len - done : HOST_MSG_DATA;
		uint64_t a[2] = { (uint64_t)fa.fd, (uint64_t)(fa.off + (long long)done) };

		ret = host_call(s, p, HOP_PWRITE, a, 2, fa.data + done, n);
		if (ret <= 0)
			break;
		done += (size_t)ret;
	}
	file_args_free(&fa);
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
	struct file_args fa;
	struct host_proc *p;
	unsigned char *buf = NULL;
	long ret;

	if (proc_and(s, argc, argv, &p, &fa))
		return SCRIPT_SYNTAX;
	ret = host_pread(s, p, (int)fa.fd, (long)fa.off, (size_t)fa.len, &buf);
	return host_bind_bytes(s, ret, buf);
}

static int host_fsize(struct script *s, int argc, char **argv)
{
	struct file_args fa;
	struct host_proc *p;
	uint64_t a;

	if (proc_and(s, argc, argv, &p, &fa))
		return SCRIPT_SYNTAX;
	a = (uint64_t)fa.fd;
	return bind_result(s, host_call(s, p, HOP_FSIZE, &a, 1, NULL, 0));
}

HOST_CMD("open", host_open);
HOST_CMD("fsize", host_fsize);
HOST_CMD("memfd", host_memfd);
static const struct host_cmd host_close = { "close", host_file_op, NULL };
static const struct host_cmd host_fsync = { "fsync", host_file_op, NULL };
static const struct host_cmd host_ftruncate = { "ftruncate", host_file_op, NULL };
static const struct host_cmd host_fallocate = { "fallocate", host_file_op, NULL };
static const struct host_cmd host_unlink = { "unlink", host_file_op, NULL };
static const struct host_cmd *const host_file_cmds[]
	__attribute__((section("pinmm_host_cmds"), used)) = {
	&host_close, &host_fsync, &host_ftruncate, &host_fallocate, &host_unlink,
};
HOST_CMD("pwrite", host_pwrite);
HOST_CMD("pread", host_pread_cmd);
