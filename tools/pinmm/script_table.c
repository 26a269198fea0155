/* SPDX-License-Identifier: MIT */
/*
 * script_table.c - the command registry of the scenario language.
 *
 * Each file of commands (script_cmds.c, script_files.c, script_pin.c,
 * script_expect.c, script_show.c, the RDMA files, ...) describes its
 * commands in a struct script_group and registers it with SCRIPT_GROUP(),
 * which puts a pointer to the group into the "pinmm_script_groups" linker
 * section.  This file walks that section: it looks commands up by name,
 * finds the show/expect forms groups add (`show mr MR`), composes usage
 * lines, prints `pinmm help commands`, runs the groups' hooks when a
 * machine goes away or a script ends, and keeps each group's per-script
 * state.  Neither it nor the runner (script.c) names any group: adding a
 * subsystem's commands touches only the subsystem's own file and the
 * tool's meson.build.
 *
 * The registry is built on first use and never changes afterwards; the
 * tool calls it from the runner's thread only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "script_flow.h"

/* Defined by the linker for the section SCRIPT_GROUP() places groups in. */
extern const struct script_group *const __start_pinmm_script_groups[]
	__attribute__((weak));
extern const struct script_group *const __stop_pinmm_script_groups[]
	__attribute__((weak));

/* The most groups the tool may register (a build-time limit, see below). */
#define MAX_GROUPS 32
/* Usage lines of forms added to show/expect wrap before this column. */
#define USAGE_WIDTH 80

/* struct script_private - one group's state in one script. */
struct script_private {
	struct script_private *next;
	const struct script_group *group;
	void *data;
};

/* A composed usage: a command's own line plus the forms groups add. */
struct usage_text {
	struct usage_text *next;
	const struct script_cmd *cmd;
	char *text;
};

static struct {
	bool ready;
	int n;
	const struct script_group *g[MAX_GROUPS];	/* by order */
	struct usage_text *usages;
} reg;

static void registry_bug(const char *what, const char *name)
{
	fprintf(stderr, "pinmm: script command table: %s '%s'\n", what, name);
	abort();
}

static const struct script_cmd *find_in(int upto, const char *name)
{
	for (int i = 0; i < upto; i++)
		for (const struct script_cmd *c = reg.g[i]->cmds; c->name; c++)
			if (!strcmp(c->name, name))
				return c;
	return NULL;
}

/*
 * Collect the groups in @order (stable), and refuse a command or form
 * registered twice: two groups claiming one name is a bug of the tool,
 * found the first time it runs any script or prints its help.
 */
static void registry_init(void)
{
	const struct script_group *const *p;

	if (reg.ready)
		return;
	for (p = __start_pinmm_script_groups; p && p < __stop_pinmm_script_groups; p++) {
		int i = reg.n;

		if (reg.n == MAX_GROUPS)
			registry_bug("too many groups at", (*p)->title);
		while (i > 0 && reg.g[i - 1]->order > (*p)->order) {
			reg.g[i] = reg.g[i - 1];
			i--;
		}
		reg.g[i] = *p;
		reg.n++;
	}
	for (int i = 0; i < reg.n; i++) {
		for (const struct script_cmd *c = reg.g[i]->cmds; c->name; c++)
			if (find_in(i + 1, c->name) != c)
				registry_bug("command registered twice:", c->name);
		for (int j = 0; j < i; j++)
			for (const struct script_subcmd *a = reg.g[i]->subcmds; a && a->name; a++)
				for (const struct script_subcmd *b = reg.g[j]->subcmds; b && b->name; b++)
					if (!strcmp(a->parent, b->parent) && !strcmp(a->name, b->name))
						registry_bug("form registered twice:", a->usage);
	}
	reg.ready = true;
}

/**
 * script_find_cmd() - the command called @name.
 * Return: its table entry, or NULL when no group registers it.
 */
const struct script_cmd *script_find_cmd(const char *name)
{
	registry_init();
	return find_in(reg.n, name);
}

/**
 * script_find_subcmd() - the registered form `argv[0] argv[1] ...` is, if
 * any: argv[0] is show or expect, argv[1] the form's name, and argv[2]
 * exists and is not a comparison operator.
 * Return: the form, or NULL (the parent command handles the line itself).
 */
const struct script_subcmd *script_find_subcmd(int argc, char **argv)
{
	registry_init();
	if (argc < 3 || parse_op(argv[2]) != OP_BAD)
		return NULL;
	for (int i = 0; i < reg.n; i++)
		for (const struct script_subcmd *f = reg.g[i]->subcmds; f && f->name; f++)
			if (!strcmp(f->parent, argv[0]) && !strcmp(f->name, argv[1]))
				return f;
	return NULL;
}

/*
 * Append the forms groups add to @c: each group's forms start a new line
 * ("  " indented) and are joined by " | ", wrapping before USAGE_WIDTH.
 */
static char *compose_usage(const struct script_cmd *c)
{
	struct strbuf sb = { 0 };

	sb_printf(&sb, "%s", c->usage);
	for (int i = 0; i < reg.n; i++) {
		size_t col = 0;

		for (const struct script_subcmd *f = reg.g[i]->subcmds; f && f->name; f++) {
			if (strcmp(f->parent, c->name))
				continue;
			if (col && col + 3 + strlen(f->usage) + 2 > USAGE_WIDTH) {
				sb_printf(&sb, " |\n  ");
				col = 2;
			} else {
				sb_printf(&sb, col ? " | " : " |\n  ");
				col += col ? 3 : 2;
			}
			sb_printf(&sb, "%s", f->usage);
			col += strlen(f->usage);
		}
	}
	return sb.buf;
}

/**
 * script_usage() - the usage of @c, with the show/expect forms that groups
 * register appended.
 * Return: the text (lives as long as the program); @c->usage when no
 * group adds a form, or when composing ran out of memory.
 */
const char *script_usage(const struct script_cmd *c)
{
	struct usage_text *u;
	bool forms = false;

	registry_init();
	for (u = reg.usages; u; u = u->next)
		if (u->cmd == c)
			return u->text;
	for (int i = 0; i < reg.n && !forms; i++)
		for (const struct script_subcmd *f = reg.g[i]->subcmds; f && f->name; f++)
			forms |= !strcmp(f->parent, c->name);
	if (!forms)
		return c->usage;
	u = calloc(1, sizeof(*u));
	if (!u || !(u->text = compose_usage(c))) {
		free(u);
		return c->usage;
	}
	u->cmd = c;
	u->next = reg.usages;
	reg.usages = u;
	return u->text;
}

/* script_usage_of() - script_usage() of the command @name (which exists). */
const char *script_usage_of(const char *name)
{
	const struct script_cmd *c = script_find_cmd(name);

	return c ? script_usage(c) : name;
}

/* script_print_commands() - `pinmm help commands`: every group's commands. */
void script_print_commands(FILE *f)
{
	registry_init();
	for (int i = 0; i < reg.n; i++) {
		if (!reg.g[i]->cmds->name)
			continue;	/* a group of hooks only (host mode) */
		fprintf(f, "%s:\n", reg.g[i]->title);
		for (const struct script_cmd *c = reg.g[i]->cmds; c->name; c++)
			fprintf(f, "  %s\n", script_usage(c));
	}
}

/* script_groups_machine_gone() - the script's machine is about to shut down. */
void script_groups_machine_gone(struct script *s)
{
	registry_init();
	for (int i = 0; i < reg.n; i++)
		if (reg.g[i]->machine_gone)
			reg.g[i]->machine_gone(s);
}

/* script_groups_end() - the script ends: groups free their state. */
void script_groups_end(struct script *s)
{
	registry_init();
	for (int i = 0; i < reg.n; i++)
		if (reg.g[i]->script_end)
			reg.g[i]->script_end(s);
	while (s->priv) {
		struct script_private *p = s->priv;

		s->priv = p->next;
		free(p);
	}
}

/**
 * script_private() - the slot where group @g keeps its state for @s.
 * The slot starts NULL; the group frees what it stores there in its
 * ->script_end hook.
 * Return: the slot, or NULL when out of memory.
 */
void **script_private(struct script *s, const struct script_group *g)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct script_private *p;

	if (s->thread)
		s = s->thread->main;	/* one slot per script, shared by its threads */
	pthread_mutex_lock(&lock);
	for (p = s->priv; p; p = p->next)
		if (p->group == g)
			goto out;
	p = calloc(1, sizeof(*p));
	if (!p) {
		pthread_mutex_unlock(&lock);
		return NULL;
	}
	p->group = g;
	p->next = s->priv;
	s->priv = p;
out:
	pthread_mutex_unlock(&lock);
	return &p->data;
}
