/* SPDX-License-Identifier: MIT */
/*
 * script_remap.c - scenario commands for moving and merging memory:
 *   mremap [P] ADDR OLDLEN NEWLEN [maymove] [dontunmap] [fixed=ADDR] [-> X]
 *                            pinmm_mremap(); X is the mapping's new address
 *   ksm_scan [N] [-> X]      N passes of ksmd (pinmm_ksm_scan(), default 1);
 *                            X is the number of pages merged
 *   khugepaged_scan [N] [-> X]  N passes of khugepaged
 *                            (pinmm_khugepaged_scan(), default 1); X is the
 *                            number of huge pages made by collapsing
 * MADV_MERGEABLE / MADV_UNMERGEABLE are `madvise ... mergeable`; `show
 * page` marks KSM pages "ksm" and `expect page ... ksm=1` checks one.
 * MADV_COLLAPSE is `madvise ... collapse`.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "tool.h"

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

/**
 * mremap_args_parse() - the words of `mremap` from argv[@i] on: ADDR OLDLEN
 * NEWLEN [maymove] [dontunmap] [fixed=ADDR], into @r (r->flags in MREMAP_*).
 * Context: mremap handlers, simulated and host (host_cmds.c).
 * Return: 0, or SCRIPT_SYNTAX (also for a negative address or length).
 */
int mremap_args_parse(struct script *s, int argc, char **argv, int i, struct mremap_args *r)
{
	const char *v;

	*r = (struct mremap_args){ 0 };
	if (argc - i < 3)
		return script_syntax(s, "usage: %s", script_find_cmd("mremap")->usage);
	if (arg_int(s, argv[i], &r->addr) || arg_int(s, argv[i + 1], &r->old_len) ||
	    arg_int(s, argv[i + 2], &r->new_len))
		return SCRIPT_SYNTAX;
	for (i += 3; i < argc; i++) {
		if (!strcmp(argv[i], "maymove")) {
			r->flags |= MREMAP_MAYMOVE;
		} else if (!strcmp(argv[i], "dontunmap")) {
			r->flags |= MREMAP_DONTUNMAP;
		} else if (arg_kv(argv[i], "fixed", &v)) {
			if (arg_int(s, v, &r->to))
				return SCRIPT_SYNTAX;
			r->flags |= MREMAP_FIXED;
		} else {
			return script_syntax(s, "mremap: unknown option '%s'", argv[i]);
		}
	}
	if (r->addr < 0 || r->old_len < 0 || r->new_len < 0 || r->to < 0)
		return script_syntax(s, "mremap: negative address or length");
	return 0;
}

static int cmd_mremap(struct script *s, int argc, char **argv)
{
	struct mremap_args r;
	struct pinmm_proc *p;
	long ret;
	int i = 1;

	if (arg_proc(s, argc, argv, &i, &p) || mremap_args_parse(s, argc, argv, i, &r))
		return SCRIPT_SYNTAX;
	ret = pinmm_mremap(p, (unsigned long)r.addr, (size_t)r.old_len, (size_t)r.new_len,
			   r.flags, (unsigned long)r.to);
	return script_bind_addr(s, "mremap", ret);
}

/* ksm_scan and khugepaged_scan: PASSES passes of the daemon named by argv[0]. */
static int cmd_daemon_scan(struct script *s, int argc, char **argv)
{
	bool ksm = !strcmp(argv[0], "ksm_scan");
	long long passes = 1;
	long ret;

	if (argc > 2)
		return script_syntax(s, "usage: %s", script_find_cmd(argv[0])->usage);
	if (script_need_machine(s) || (argc == 2 && arg_int(s, argv[1], &passes)))
		return SCRIPT_SYNTAX;
	if (passes < 1 || passes > 1000)
		return script_syntax(s, "%s: passes %lld out of range [1, 1000]", argv[0], passes);
	ret = ksm ? pinmm_ksm_scan(s->m, (int)passes) : pinmm_khugepaged_scan(s->m, (int)passes);
	if (ret < 0)
		return (int)ret;
	if (!s->bind && s->opts->verbose)
		script_out(s, "  %s: %ld %s\n", argv[0], ret,
			   ksm ? "pages merged" : "huge pages collapsed");
	return var_bind_int(s, ret);
}

static const struct script_cmd remap_cmds[] = {
	{ "mremap", cmd_mremap, BIND_OPTIONAL,
	  "mremap [P] ADDR OLDLEN NEWLEN [maymove] [dontunmap] [fixed=ADDR] [-> X]" },
	{ "ksm_scan", cmd_daemon_scan, BIND_OPTIONAL, "ksm_scan [PASSES] [-> X]   (run ksmd)" },
	{ "khugepaged_scan", cmd_daemon_scan, BIND_OPTIONAL,
	  "khugepaged_scan [PASSES] [-> X]   (run khugepaged)" },
	{ NULL, NULL, BIND_NONE, NULL },
};

static const struct script_group remap_group = {
	.title = "Moving and merging memory",
	.order = 15,
	.cmds = remap_cmds,
};
SCRIPT_GROUP(remap_group);
