/* SPDX-License-Identifier: MIT */
/*
 * script_io.c - asynchronous O_DIRECT and io_uring fixed buffers in the
 * scenario language, written against <pinmm/dio.h> and <pinmm/io_uring.h>:
 *
 *   dio read|write [P] F ADDR LEN OFF -> D
 *                         pinmm_dio_submit(): the buffer is pinned, the
 *                         transfer lands after dio.latency_us
 *   dio_done D -> X       pinmm_dio_done(): 1 when complete
 *   dio_wait D [-> N]     pinmm_dio_wait(): bytes moved; the pins go
 *
 *   uring create [P] [ENTRIES] -> R
 *   uring register [P] R ADDR LEN [ADDR LEN...]
 *   uring read|write [P] R F INDEX ADDR LEN OFF [-> N]
 *   uring nr [P] R -> N
 *   uring unregister [P] R
 *   uring destroy [P] R
 *   uring exit [P]
 *
 * Synchronous O_DIRECT is `pread`/`pwrite` on a descriptor opened with
 * `direct` (script_files.c).  A DIO request is bound to an integer
 * variable (its number in this script); requests not waited for when the
 * machine goes away are waited for then, so that their pins are released
 * before the leak check of shutdown.  A ring is a descriptor: a plain
 * integer.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <pinmm/dio.h>
#include <pinmm/io_uring.h>

#include "tool.h"

#define MAX_DIOS 64
#define MAX_URING_BUFS 16

struct dio_tab {
	struct pinmm_dio *d[MAX_DIOS];	/* index = number - 1 */
};

static const struct script_group io_group;

/* A descriptor argument: a value no int holds is no descriptor (EBADF). */
static int as_fd(long long v)
{
	return v < 0 || v > INT_MAX ? -1 : (int)v;
}

static struct dio_tab *tab(struct script *s)
{
	void **slot = script_private(s, &io_group);

	if (slot && !*slot)
		*slot = calloc(1, sizeof(struct dio_tab));
	return slot ? *slot : NULL;
}

/* The request bound to variable @name, or a syntax error. */
static int dio_arg(struct script *s, const char *name, int *idx)
{
	struct dio_tab *t = tab(s);
	struct var *v = var_find(s, name);

	if (!t || !v || v->kind != V_INT || v->ival < 1 || v->ival > MAX_DIOS ||
	    !t->d[v->ival - 1])
		return script_syntax(s, "'%s' is not a DIO request in flight", name);
	*idx = (int)v->ival - 1;
	return 0;
}

/* `dio read|write [P] F ADDR LEN OFF -> D` */
static int cmd_dio(struct script *s, int argc, char **argv)
{
	struct dio_tab *t = tab(s);
	struct pinmm_proc *p;
	long long fd, addr, len, off;
	int i = 2, slot = -1, rw;
	long rc;

	if (argc < 2 || (strcmp(argv[1], "read") && strcmp(argv[1], "write")))
		return script_syntax(s, "usage: %s", script_usage_of("dio"));
	rw = !strcmp(argv[1], "read") ? PINMM_DIO_READ : PINMM_DIO_WRITE;
	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (argc - i != 4)
		return script_syntax(s, "usage: %s", script_usage_of("dio"));
	if (arg_int(s, argv[i], &fd) || arg_int(s, argv[i + 1], &addr) ||
	    arg_int(s, argv[i + 2], &len) || arg_int(s, argv[i + 3], &off))
		return SCRIPT_SYNTAX;
	if (len < 0)
		return -EINVAL;
	for (int k = 0; t && k < MAX_DIOS && slot < 0; k++)
		if (!t->d[k])
			slot = k;
	if (slot < 0)
		return t ? script_syntax(s, "more than %d DIO requests in flight", MAX_DIOS) : -ENOMEM;
	rc = pinmm_dio_submit(p, as_fd(fd), rw, (unsigned long)addr, (size_t)len, (long)off,
			      &t->d[slot]);
	return rc ? (int)rc : var_bind_int(s, slot + 1);
}

static int cmd_dio_done(struct script *s, int argc, char **argv)
{
	int idx, rc;

	(void)argc;
	if (dio_arg(s, argv[1], &idx))
		return SCRIPT_SYNTAX;
	rc = pinmm_dio_done(tab(s)->d[idx]);
	return rc < 0 ? rc : var_bind_int(s, rc);
}

static int cmd_dio_wait(struct script *s, int argc, char **argv)
{
	struct dio_tab *t;
	int idx;
	long n;

	(void)argc;
	if (dio_arg(s, argv[1], &idx))
		return SCRIPT_SYNTAX;
	t = tab(s);
	n = pinmm_dio_wait(t->d[idx]);
	t->d[idx] = NULL;		/* freed by the wait, whatever it returned */
	if (n < 0)
		return (int)n;
	return s->bind ? var_bind_int(s, n) : 0;
}

/* The machine goes away: wait for what is still in flight (its pins go). */
static void io_machine_gone(struct script *s)
{
	void **slot = script_private(s, &io_group);
	struct dio_tab *t = slot ? *slot : NULL;

	for (int k = 0; t && k < MAX_DIOS; k++) {
		if (!t->d[k])
			continue;
		pinmm_dio_wait(t->d[k]);
		t->d[k] = NULL;
	}
}

static void io_script_end(struct script *s)
{
	void **slot = script_private(s, &io_group);

	if (slot) {
		free(*slot);
		*slot = NULL;
	}
}

/* ---- io_uring ------------------------------------------------------------------ */

static int uring_usage(struct script *s)
{
	return script_syntax(s, "usage: %s", script_usage_of("uring"));
}

/* `uring register [P] R ADDR LEN [ADDR LEN...]` from argv[i] on. */
static int uring_register(struct script *s, struct pinmm_proc *p, int ring, int argc,
			  char **argv, int i)
{
	struct iovec iov[MAX_URING_BUFS];
	unsigned int nr = 0;

	if ((argc - i) % 2 || argc == i || (argc - i) / 2 > MAX_URING_BUFS)
		return script_syntax(s, "uring register: 1 to %d ADDR LEN pairs", MAX_URING_BUFS);
	for (; i < argc; i += 2, nr++) {
		long long a, l;

		if (arg_int(s, argv[i], &a) || arg_int(s, argv[i + 1], &l))
			return SCRIPT_SYNTAX;
		if (l < 0)
			return -EINVAL;
		iov[nr].iov_base = (void *)(unsigned long)a;
		iov[nr].iov_len = (size_t)l;
	}
	return pinmm_uring_register_buffers(p, ring, iov, nr);
}

/* `uring read|write [P] R F INDEX ADDR LEN OFF [-> N]` from argv[i] (at F) on. */
static int uring_rw(struct script *s, struct pinmm_proc *p, int ring, bool write, int argc,
		    char **argv, int i)
{
	long long fd, idx, addr, len, off;
	long n;

	if (argc - i != 5)
		return uring_usage(s);
	if (arg_int(s, argv[i], &fd) || arg_int(s, argv[i + 1], &idx) ||
	    arg_int(s, argv[i + 2], &addr) || arg_int(s, argv[i + 3], &len) ||
	    arg_int(s, argv[i + 4], &off))
		return SCRIPT_SYNTAX;
	if (idx < 0 || idx > IORING_MAX_REG_BUFFERS || len < 0)
		return -EINVAL;
	if (write)
		n = pinmm_uring_write_fixed(p, ring, as_fd(fd), (unsigned int)idx,
					    (unsigned long)addr, (size_t)len, (long)off);
	else
		n = pinmm_uring_read_fixed(p, ring, as_fd(fd), (unsigned int)idx,
					   (unsigned long)addr, (size_t)len, (long)off);
	if (n < 0)
		return (int)n;
	return s->bind ? var_bind_int(s, n) : 0;
}

static int cmd_uring(struct script *s, int argc, char **argv)
{
	struct pinmm_proc *p;
	const char *op = argc > 1 ? argv[1] : "";
	long long v;
	int i = 2, ring, rc;

	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (!strcmp(op, "exit")) {
		if (i != argc || s->bind)
			return uring_usage(s);
		pinmm_uring_exit_proc(p);
		return 0;
	}
	if (!strcmp(op, "create")) {
		if (argc - i > 1 || !s->bind)
			return uring_usage(s);
		v = 8;
		if (i < argc && arg_int(s, argv[i], &v))
			return SCRIPT_SYNTAX;
		if (v < 0 || v > IORING_MAX_ENTRIES * 2LL)
			return -EINVAL;
		rc = pinmm_uring_create(p, (unsigned int)v);
		return rc < 0 ? rc : var_bind_int(s, rc);
	}
	if (i == argc || arg_int(s, argv[i], &v))
		return i == argc ? uring_usage(s) : SCRIPT_SYNTAX;
	ring = as_fd(v);
	i++;
	if (!strcmp(op, "register") && !s->bind)
		return uring_register(s, p, ring, argc, argv, i);
	if ((!strcmp(op, "read") || !strcmp(op, "write")))
		return uring_rw(s, p, ring, !strcmp(op, "write"), argc, argv, i);
	if (i != argc)
		return uring_usage(s);
	if (!strcmp(op, "nr") && s->bind) {
		rc = pinmm_uring_nr_buffers(p, ring);
		return rc < 0 ? rc : var_bind_int(s, rc);
	}
	if (!strcmp(op, "unregister") && !s->bind)
		return pinmm_uring_unregister_buffers(p, ring);
	if (!strcmp(op, "destroy") && !s->bind)
		return pinmm_uring_destroy(p, ring);
	return uring_usage(s);
}

static const struct script_cmd io_cmds[] = {
	{ "dio", cmd_dio, BIND_REQUIRED, "dio read|write [P] F ADDR LEN OFF -> D   (async O_DIRECT)" },
	{ "dio_done", cmd_dio_done, BIND_REQUIRED, "dio_done D -> X   (1: complete, 0: in flight)",
	  SCRIPT_ARGS(1, 1) },
	{ "dio_wait", cmd_dio_wait, BIND_OPTIONAL, "dio_wait D [-> N]   (bytes moved; unpins)",
	  SCRIPT_ARGS(1, 1) },
	{ "uring", cmd_uring, BIND_OPTIONAL,
	  "uring create [P] [ENTRIES] -> R | uring register [P] R ADDR LEN [ADDR LEN...] |\n"
	  "  uring read|write [P] R F INDEX ADDR LEN OFF [-> N] | uring nr [P] R -> N |\n"
	  "  uring unregister [P] R | uring destroy [P] R | uring exit [P]" },
	{ NULL, NULL, BIND_NONE, NULL },
};

static const struct script_group io_group = {
	.title = "O_DIRECT and io_uring (<pinmm/dio.h>, <pinmm/io_uring.h>)",
	.order = 32,
	.cmds = io_cmds,
	.machine_gone = io_machine_gone,
	.script_end = io_script_end,
};
SCRIPT_GROUP(io_group);
