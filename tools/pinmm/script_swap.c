/* SPDX-License-Identifier: MIT */
/*
 * script_swap.c - scenario commands for swap and soft-dirty:
 *   pageout [P] ADDR LEN     madvise(MADV_PAGEOUT): swap the range out
 *   reclaim N                pinmm_reclaim(): page cache, then swap
 *   clear_refs [P] WHAT      write WHAT (1-5, or soft_dirty) to clear_refs
 * `show page` marks swapped pages; `expect page ... swapped=1` and
 * `soft_dirty=` compare the pinmm_page_info() fields.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "tool.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

static int cmd_pageout(struct script *s, int argc, char **argv)
{
	struct pinmm_proc *p;
	long long addr, len;
	int i = 1;

	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (argc - i != 2)
		return script_syntax(s, "usage: pageout [P] ADDR LEN");
	if (arg_int(s, argv[i], &addr) || arg_int(s, argv[i + 1], &len))
		return SCRIPT_SYNTAX;
	return pinmm_madvise(p, (unsigned long)addr, (size_t)len, MADV_PAGEOUT);
}

static int cmd_reclaim(struct script *s, int argc, char **argv)
{
	long long n;
	long r;

	if (argc != 2)
		return script_syntax(s, "usage: reclaim N");
	if (script_need_machine(s) || arg_int(s, argv[1], &n))
		return SCRIPT_SYNTAX;
	r = pinmm_reclaim(s->m, (long)n);
	return r < 0 ? (int)r : 0;
}

static int cmd_clear_refs(struct script *s, int argc, char **argv)
{
	struct pinmm_proc *p;
	long long what;
	int i = 1;

	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (argc - i != 1)
		return script_syntax(s, "usage: clear_refs [P] WHAT");
	if (!strcmp(argv[i], "soft_dirty"))
		what = PINMM_CLEAR_REFS_SOFT_DIRTY;
	else if (arg_int(s, argv[i], &what))
		return SCRIPT_SYNTAX;
	return pinmm_clear_refs(p, (int)what);
}

static const struct script_cmd swap_cmds[] = {
	{ "pageout", cmd_pageout, BIND_NONE, "pageout [P] ADDR LEN   (MADV_PAGEOUT: swap out)" },
	{ "reclaim", cmd_reclaim, BIND_NONE, "reclaim N   (page cache, then anon pages to swap)" },
	{ "clear_refs", cmd_clear_refs, BIND_NONE,
	  "clear_refs [P] WHAT   (1-5, soft_dirty = 4)" },
	{ NULL, NULL, BIND_NONE, NULL },
};

static const struct script_group swap_group = {
	.title = "Swap and soft-dirty",
	.order = 35,
	.cmds = swap_cmds,
};
SCRIPT_GROUP(swap_group);
