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

#include "tool.h"

static int cmd_pageout(struct script *s, int argc, char **argv)
{
	struct range_args r;
	struct pinmm_proc *p;
	int i = 1;

	if (arg_proc(s, argc, argv, &i, &p) || range_args_parse(s, argc, argv, i, &r))
		return SCRIPT_SYNTAX;
	return pinmm_madvise(p, (unsigned long)r.addr, (size_t)r.len, (int)r.arg);
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

/**
 * clear_refs_args_parse() - the word of `clear_refs` at argv[@i]: WHAT, a
 * number or soft_dirty (PINMM_CLEAR_REFS_SOFT_DIRTY), into *@what.
 * Context: clear_refs handlers, simulated and host (host_pages.c).
 * Return: 0, or SCRIPT_SYNTAX.
 */
int clear_refs_args_parse(struct script *s, int argc, char **argv, int i, long long *what)
{
	if (argc - i != 1)
		return script_syntax(s, "usage: clear_refs [P] WHAT");
	if (!strcmp(argv[i], "soft_dirty")) {
		*what = PINMM_CLEAR_REFS_SOFT_DIRTY;
		return 0;
	}
	return arg_int(s, argv[i], what);
}

static int cmd_clear_refs(struct script *s, int argc, char **argv)
{
	struct pinmm_proc *p;
	long long what;
	int i = 1;

	if (arg_proc(s, argc, argv, &i, &p) || clear_refs_args_parse(s, argc, argv, i, &what))
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
