/* SPDX-License-Identifier: MIT */
/*
 * script_mm.c - writeback, cache dropping, migration, compaction, zone
 * offlining, THP split and runtime THP policy in the scenario language,
 * written against <pinmm/pinmm.h> only:
 *
 *   sync                         pinmm_sync(): write back every filesystem
 *   drop_caches [-> N]           pinmm_drop_caches(): pages dropped
 *   compact [FIELD] [-> N]       pinmm_compact(): migrated (or scanned,
 *                                failed_pinned, failed_busy)
 *   migrate [P] ADDR ZONE        pinmm_migrate_page()
 *   offline_zone ZONE            pinmm_offline_zone()
 *   split_thp [P] ADDR           pinmm_split_huge_page()
 *   thp_set KEY VALUE            pinmm_thp_set(): thp or thp.<size>K
 *   pinned_vm [P] -> N           pinmm_proc_pinned_vm()
 *
 * `reclaim`, `pageout` and `clear_refs` are in script_swap.c; `fsync` in
 * script_files.c.  Every command needs a booted machine; failures of the
 * library come back as -errno for `expect error`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static int cmd_sync(struct script *s, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (script_need_machine(s))
		return SCRIPT_SYNTAX;
	return pinmm_sync(s->m);
}

static int cmd_drop_caches(struct script *s, int argc, char **argv)
{
	long n;

	(void)argc;
	(void)argv;
	if (script_need_machine(s))
		return SCRIPT_SYNTAX;
	n = pinmm_drop_caches(s->m);
	if (n < 0)
		return (int)n;
	return s->bind ? var_bind_int(s, n) : 0;
}

/* The fields of struct pinmm_migrate_stats, by name. */
static const struct {
	const char *name;
	size_t off;
} migrate_fields[] = {
	{ "migrated", offsetof(struct pinmm_migrate_stats, migrated) },
	{ "scanned", offsetof(struct pinmm_migrate_stats, scanned) },
	{ "failed_pinned", offsetof(struct pinmm_migrate_stats, failed_pinned) },
	{ "failed_busy", offsetof(struct pinmm_migrate_stats, failed_busy) },
};

static int cmd_compact(struct script *s, int argc, char **argv)
{
	struct pinmm_migrate_stats st = { 0 };
	const char *field = argc > 1 ? argv[1] : "migrated";
	size_t i;
	int rc;

	if (script_need_machine(s))
		return SCRIPT_SYNTAX;
	for (i = 0; i < ARRAY_SIZE(migrate_fields); i++)
		if (!strcmp(field, migrate_fields[i].name))
			break;
	if (i == ARRAY_SIZE(migrate_fields))
		return script_syntax(s, "compact: no field '%s' (migrated, scanned, failed_pinned, failed_busy)",
				     field);
	rc = pinmm_compact(s->m, &st);
	if (rc)
		return rc;
	script_out(s, "compact: scanned %ld, migrated %ld, failed: %ld pinned, %ld busy\n",
		   st.scanned, st.migrated, st.failed_pinned, st.failed_busy);
	return s->bind ? var_bind_int(s, *(long *)((char *)&st + migrate_fields[i].off)) : 0;
}

/* `migrate [P] ADDR ZONE` */
static int cmd_migrate(struct script *s, int argc, char **argv)
{
	struct pinmm_proc *p;
	long long addr;
	int i = 1;

	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (argc - i != 2)
		return script_syntax(s, "usage: %s", script_usage_of("migrate"));
	if (arg_int(s, argv[i], &addr))
		return SCRIPT_SYNTAX;
	return pinmm_migrate_page(p, (unsigned long)addr, argv[i + 1]);
}

static int cmd_offline_zone(struct script *s, int argc, char **argv)
{
	struct pinmm_migrate_stats st = { 0 };
	int rc;

	(void)argc;
	if (script_need_machine(s))
		return SCRIPT_SYNTAX;
	rc = pinmm_offline_zone(s->m, argv[1], &st);
	if (rc == 0 || rc == -EBUSY)
		script_out(s, "offline_zone %s: migrated %ld, failed: %ld pinned, %ld busy\n",
			   argv[1], st.migrated, st.failed_pinned, st.failed_busy);
	return rc;
}

/* `split_thp [P] ADDR` */
static int cmd_split_thp(struct script *s, int argc, char **argv)
{
	struct pinmm_proc *p;
	long long addr;
	int i = 1;

	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (argc - i != 1)
		return script_syntax(s, "usage: %s", script_usage_of("split_thp"));
	if (arg_int(s, argv[i], &addr))
		return SCRIPT_SYNTAX;
	return pinmm_split_huge_page(p, (unsigned long)addr);
}

static int cmd_thp_set(struct script *s, int argc, char **argv)
{
	(void)argc;
	if (script_need_machine(s))
		return SCRIPT_SYNTAX;
	return pinmm_thp_set(s->m, argv[1], argv[2]);
}

/* `pinned_vm [P] -> N` */
static int cmd_pinned_vm(struct script *s, int argc, char **argv)
{
	struct pinmm_proc *p;
	long n;
	int i = 1;

	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (i != argc)
		return script_syntax(s, "usage: %s", script_usage_of("pinned_vm"));
	n = pinmm_proc_pinned_vm(p);
	return n < 0 ? (int)n : var_bind_int(s, n);
}

static const struct script_cmd mm_cmds[] = {
	{ "sync", cmd_sync, BIND_NONE, "sync   (write back every filesystem)", SCRIPT_ARGS(0, 0) },
	{ "drop_caches", cmd_drop_caches, BIND_OPTIONAL, "drop_caches [-> N]   (sync, drop clean unmapped cache pages)",
	  SCRIPT_ARGS(0, 0) },
	{ "compact", cmd_compact, BIND_OPTIONAL,
	  "compact [migrated|scanned|failed_pinned|failed_busy] [-> N]", SCRIPT_ARGS(0, 1) },
	{ "migrate", cmd_migrate, BIND_NONE, "migrate [P] ADDR ZONE   (ZONE: normal, movable, cma)" },
	{ "offline_zone", cmd_offline_zone, BIND_NONE, "offline_zone ZONE", SCRIPT_ARGS(1, 1) },
	{ "split_thp", cmd_split_thp, BIND_NONE, "split_thp [P] ADDR" },
	{ "thp_set", cmd_thp_set, BIND_NONE, "thp_set thp|thp.<SIZE>K VALUE   (always, madvise, never, inherit)",
	  SCRIPT_ARGS(2, 2) },
	{ "pinned_vm", cmd_pinned_vm, BIND_REQUIRED, "pinned_vm [P] -> N   (pages charged to mm->pinned_vm)" },
	{ NULL, NULL, BIND_NONE, NULL },
};

static const struct script_group mm_group = {
	.title = "Writeback, reclaim, migration (<pinmm/pinmm.h>)",
	.order = 25,
	.cmds = mm_cmds,
};
SCRIPT_GROUP(mm_group);
