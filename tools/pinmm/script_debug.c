/* SPDX-License-Identifier: MIT */
/*
 * script_debug.c - fault injection and introspection in the scenario
 * language, written against <pinmm/fault.h>, <pinmm/pinfs.h>,
 * <pinmm/debug.h> and <pinmm/pinmm.h>:
 *
 *   fail nth N                 pinmm_fail_nth_set(): the Nth fallible call
 *                              of the script's thread fails
 *   fail left -> N             pinmm_fail_nth_get()
 *   fail set KEY VALUE         pinmm_fail_configure() (fail.probability...)
 *   fail injected -> N         pinmm_fail_injected()
 *   fail sites [FILTER] [-> N] pinmm_fail_sites(): the sites reached
 *   fail reset                 pinmm_fail_reset()
 *   pinfs stat [FIELD -> X]    pinmm_pinfs_statfs()
 *   pinfs inject read|write|any AFTER NR
 *                              pinmm_pinfs_inject()
 *   fsck PATH [repair] [-> N]  pinfs_check_image() of an unmounted image
 *   fstatfs [P] F FIELD -> X   pinmm_fstatfs()
 *   memmap FIELD -> X          pinmm_debug_memmap()
 *   version                    pinmm_version()
 *   trace flush                pinmm_trace_flush(): write trace.file now
 *
 * Fault injection is library-wide, not per machine: a script that armed
 * it is disarmed (pinmm_fail_reset()) when it ends, so that the next file
 * of the same `pinmm run` starts clean.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pinmm/debug.h>
#include <pinmm/fault.h>
#include <pinmm/pinfs.h>

#include "tool.h"

static const struct script_group debug_group;

struct field {
	const char *name;
	long long val;
};

/* Bind the field @name of @f (@n of them) to the script's -> NAME. */
static int bind_field(struct script *s, const char *what, const struct field *f, int n,
		      const char *name)
{
	struct strbuf sb = { 0 };
	int rc;

	for (int k = 0; k < n; k++)
		if (!strcmp(f[k].name, name))
			return var_bind_int(s, f[k].val);
	for (int k = 0; k < n; k++)
		sb_printf(&sb, "%s%s", k ? ", " : "", f[k].name);
	rc = script_syntax(s, "%s has no field '%s' (%s)", what, name, sb.buf ? sb.buf : "");
	sb_free(&sb);
	return rc;
}

/* ---- fault injection ------------------------------------------------------------- */

struct sites_walk {
	struct script *s;
	const char *filter;
	long n;
};

static void print_site(const struct pinmm_fail_site *site, void *arg)
{
	struct sites_walk *w = arg;

	if (!site->calls)
		return;
	if (w->filter && !strstr(site->kind, w->filter) && !strstr(site->file, w->filter) &&
	    !strstr(site->func, w->filter))
		return;
	w->n++;
	script_out(w->s, "  %-10s %s:%d %s: %ld calls, %ld failed\n", site->kind, site->file,
		   site->line, site->func, site->calls, site->failed);
}

static int cmd_fail(struct script *s, int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";
	void **armed = script_private(s, &debug_group);
	long long v;

	if (!armed)
		return -ENOMEM;
	if (!strcmp(op, "nth") && argc == 3 && !s->bind) {
		if (arg_int(s, argv[2], &v))
			return SCRIPT_SYNTAX;
		*armed = armed;
		return pinmm_fail_nth_set((long)v);
	}
	if (!strcmp(op, "set") && argc == 4 && !s->bind) {
		*armed = armed;
		return pinmm_fail_configure(argv[2], argv[3]);
	}
	if (!strcmp(op, "reset") && argc == 2 && !s->bind) {
		pinmm_fail_reset();
		return 0;
	}
	if (!strcmp(op, "left") && argc == 2 && s->bind)
		return var_bind_int(s, pinmm_fail_nth_get());
	if (!strcmp(op, "injected") && argc == 2 && s->bind)
		return var_bind_int(s, pinmm_fail_injected());
	if (!strcmp(op, "sites") && argc <= 3) {
		struct sites_walk w = { .s = s, .filter = argc == 3 ? argv[2] : NULL };

		pinmm_fail_sites(print_site, &w);
		return s->bind ? var_bind_int(s, w.n) : 0;
	}
	return script_syntax(s, "usage: %s", script_usage_of("fail"));
}

static void debug_script_end(struct script *s)
{
	void **armed = script_private(s, &debug_group);

	if (armed && *armed)
		pinmm_fail_reset();
	if (armed)
		*armed = NULL;
}

/* ---- pinfs ------------------------------------------------------------------------- */

static const char *const pinfs_events[PINMM_PINFS_NR_STATS] = {
	"reads", "writes", "io_errors", "writeback", "wb_errors", "mkwrite",
	"mkwrite_alloc", "dirty_no_private", "private_attach", "private_release",
};

static int pinfs_stat(struct script *s, int argc, char **argv)
{
	struct field f[6 + PINMM_PINFS_NR_STATS];
	struct pinmm_pinfs_stat st;
	int n = 0, rc;

	if ((argc == 2) == !!s->bind || argc > 3)
		return script_syntax(s, "usage: %s", script_usage_of("pinfs"));
	rc = pinmm_pinfs_statfs(s->m, &st);
	if (rc)
		return rc;
	f[n++] = (struct field){ "block_size", (long long)st.block_size };
	f[n++] = (struct field){ "blocks", (long long)st.blocks };
	f[n++] = (struct field){ "free_blocks", (long long)st.free_blocks };
	f[n++] = (struct field){ "data_blocks", (long long)st.data_blocks };
	f[n++] = (struct field){ "inodes", (long long)st.inodes };
	f[n++] = (struct field){ "free_inodes", (long long)st.free_inodes };
	for (int k = 0; k < PINMM_PINFS_NR_STATS; k++)
		f[n++] = (struct field){ pinfs_events[k], st.events[k] };
	if (argc == 3)
		return bind_field(s, "pinfs stat", f, n, argv[2]);
	for (int k = 0; k < n; k++)
		script_out(s, "%s%s %lld%s", k % 4 ? "  " : "", f[k].name, f[k].val,
			   k % 4 == 3 || k == n - 1 ? "\n" : "");
	return 0;
}

static int cmd_pinfs(struct script *s, int argc, char **argv)
{
	long long after, nr;

	if (script_need_machine(s))
		return SCRIPT_SYNTAX;
	if (argc >= 2 && !strcmp(argv[1], "stat"))
		return pinfs_stat(s, argc, argv);
	if (argc == 5 && !strcmp(argv[1], "inject") && !s->bind) {
		if (arg_int(s, argv[3], &after) || arg_int(s, argv[4], &nr))
			return SCRIPT_SYNTAX;
		return pinmm_pinfs_inject(s->m, argv[2], (long)after, (long)nr);
	}
	return script_syntax(s, "usage: %s", script_usage_of("pinfs"));
}

/* `fsck PATH [repair] [-> N]`: PATH is a word or a "quoted string". */
static int cmd_fsck(struct script *s, int argc, char **argv)
{
	unsigned char *buf;
	size_t len;
	char *path;
	int rc;

	if (argc == 3 && strcmp(argv[2], "repair"))
		return script_syntax(s, "usage: %s", script_usage_of("fsck"));
	if (argv[1][0] == '"') {
		rc = arg_data(s, argv[1], &buf, &len);
		if (rc)
			return rc;
		if (!len || memchr(buf, '\0', len)) {
			free(buf);
			return script_syntax(s, "fsck: bad path");
		}
		path = strndup((char *)buf, len);
		free(buf);
	} else {
		path = strdup(argv[1]);
	}
	if (!path)
		return -ENOMEM;
	/* The checker's report lines go to stdout, but not into TAP. */
	rc = pinfs_check_image(path, argc == 3, s->opts->tap ? NULL : stdout);
	free(path);
	if (rc < 0)
		return rc;
	return s->bind ? var_bind_int(s, rc) : 0;
}

/* ---- introspection ------------------------------------------------------------------ */

static int cmd_fstatfs(struct script *s, int argc, char **argv)
{
	struct pinmm_statfs st;
	struct pinmm_proc *p;
	struct field f[8];
	long long fd;
	int i = 1, n = 0, rc;

	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (argc - i != 2)
		return script_syntax(s, "usage: %s", script_usage_of("fstatfs"));
	if (arg_int(s, argv[i], &fd))
		return SCRIPT_SYNTAX;
	rc = pinmm_fstatfs(p, fd < 0 || fd > 1 << 30 ? -1 : (int)fd, &st);
	if (rc)
		return rc;
	f[n++] = (struct field){ "type", st.f_type };
	f[n++] = (struct field){ "bsize", st.f_bsize };
	f[n++] = (struct field){ "blocks", (long long)st.f_blocks };
	f[n++] = (struct field){ "bfree", (long long)st.f_bfree };
	f[n++] = (struct field){ "bavail", (long long)st.f_bavail };
	f[n++] = (struct field){ "files", (long long)st.f_files };
	f[n++] = (struct field){ "ffree", (long long)st.f_ffree };
	f[n++] = (struct field){ "namelen", st.f_namelen };
	return bind_field(s, "fstatfs", f, n, argv[i + 1]);
}

static int cmd_memmap(struct script *s, int argc, char **argv)
{
	struct pinmm_memmap_info mi;
	struct field f[4];
	int rc;

	(void)argc;
	if (script_need_machine(s))
		return SCRIPT_SYNTAX;
	rc = pinmm_debug_memmap(s->m, &mi);
	if (rc)
		return rc;
	f[0] = (struct field){ "nr_pages", (long long)mi.nr_pages };
	f[1] = (struct field){ "mem_bytes", (long long)mi.mem_bytes };
	f[2] = (struct field){ "memmap_bytes", (long long)mi.memmap_bytes };
	f[3] = (struct field){ "page_struct_bytes", (long long)mi.page_struct_bytes };
	return bind_field(s, "memmap", f, 4, argv[1]);
}

static int cmd_version(struct script *s, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	script_out(s, "pinmm %s\n", pinmm_version());
	return 0;
}

static int cmd_trace(struct script *s, int argc, char **argv)
{
	(void)argc;
	if (strcmp(argv[1], "flush"))
		return script_syntax(s, "usage: %s", script_usage_of("trace"));
	if (script_need_machine(s))
		return SCRIPT_SYNTAX;
	return pinmm_trace_flush(s->m);
}

static const struct script_cmd debug_cmds[] = {
	{ "fail", cmd_fail, BIND_OPTIONAL,
	  "fail nth N | fail set KEY VALUE | fail reset | fail left -> N |\n"
	  "  fail injected -> N | fail sites [FILTER] [-> N]" },
	{ "pinfs", cmd_pinfs, BIND_OPTIONAL,
	  "pinfs stat [FIELD -> X] | pinfs inject read|write|any AFTER NR" },
	{ "fsck", cmd_fsck, BIND_OPTIONAL, "fsck PATH [repair] [-> PROBLEMS]   (an unmounted pinfs image)",
	  SCRIPT_ARGS(1, 2) },
	{ "fstatfs", cmd_fstatfs, BIND_REQUIRED,
	  "fstatfs [P] F FIELD -> X   (type, bsize, blocks, bfree, bavail, files, ffree, namelen)" },
	{ "memmap", cmd_memmap, BIND_REQUIRED,
	  "memmap FIELD -> X   (nr_pages, mem_bytes, memmap_bytes, page_struct_bytes)", SCRIPT_ARGS(1, 1) },
	{ "version", cmd_version, BIND_NONE, "version", SCRIPT_ARGS(0, 0) },
	{ "trace", cmd_trace, BIND_NONE,
	  "trace flush   (write the machine's trace.file now: -ENOENT without one)",
	  SCRIPT_ARGS(1, 1) },
	{ NULL, NULL, BIND_NONE, NULL },
};

static const struct script_group debug_group = {
	.title = "Fault injection and introspection (<pinmm/fault.h>, <pinmm/pinfs.h>, <pinmm/debug.h>)",
	.order = 70,
	.cmds = debug_cmds,
	.script_end = debug_script_end,
};
SCRIPT_GROUP(debug_group);
