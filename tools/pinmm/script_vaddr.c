/* SPDX-License-Identifier: MIT */
/*
 * script_vaddr.c - file_pin records in the scenario language: the
 * vaddr_pin_pages() family of <pinmm/linux.h> (Weiny's 2019 proposal, as
 * pinmm implements it; doc/PIN-POLICIES.md "file_pin"), with the owner
 * file taken by fget() and dropped by fput() as a driver would:
 *
 *   vpin [P] OWNER ADDR NPAGES [FLAGS] [remote=Q] -> V
 *         vaddr_pin_pages() of P's memory (remote=Q: vaddr_pin_pages_remote()
 *         of Q's, under mmap_read_lock()), the pins owned by the file
 *         behind P's descriptor OWNER; V numbers the record
 *   vunpin V [dirty]
 *         vaddr_unpin_pages() of the whole record, then fput() of the owner
 *
 * Under fs.pinned_policy=lease a file-backed range needs a layout lease
 * (`lease get`) held by the pinned process; the records are listed by
 * `file_pins`.  Records still held when the machine goes away are released
 * first, so that shutdown's leak check sees what the script leaked itself.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#define MAX_VPINS 32

struct vpin {
	struct page **pages;
	unsigned long npages;
	struct vaddr_pin owner;
};

struct vpin_tab {
	struct vpin v[MAX_VPINS];	/* index = number - 1; pages NULL: free */
};

static const struct script_group vaddr_group;

static struct vpin_tab *tab(struct script *s)
{
	void **slot = script_private(s, &vaddr_group);

	if (slot && !*slot)
		*slot = calloc(1, sizeof(struct vpin_tab));
	return slot ? *slot : NULL;
}

static void vpin_release(struct vpin *v, bool dirty)
{
	vaddr_unpin_pages(v->pages, v->npages, &v->owner, dirty);
	fput(v->owner.f_owner);
	free(v->pages);
	memset(v, 0, sizeof(*v));
}

/* Pin @v->npages at @addr of @q (the current process's unless remote). */
static long vpin_call(struct pinmm_proc *p, struct pinmm_proc *q,
		      unsigned long addr, unsigned int flags, struct vpin *v)
{
	struct pinmm_proc *old = pinmm_current();
	long n;

	pinmm_set_current(p);
	if (q) {
		int locked = 1;

		v->owner.mm = pinmm_proc_mm(q);
		if (!v->owner.mm) {
			n = -ESRCH;
		} else {
			mmap_read_lock(v->owner.mm);
			n = vaddr_pin_pages_remote(v->owner.mm, addr, v->npages, flags, v->pages,
						   &locked, &v->owner);
			if (locked)
				mmap_read_unlock(v->owner.mm);
		}
	} else {
		n = vaddr_pin_pages(addr, v->npages, flags, v->pages, &v->owner);
	}
	pinmm_set_current(old);
	return n;
}

/* vpin [P] OWNER ADDR NPAGES [FLAGS] [remote=Q] -> V */
static int cmd_vpin(struct script *s, int argc, char **argv)
{
	struct vpin_tab *t = tab(s);
	struct pinmm_proc *p, *q = NULL;
	long long fd, addr, npages;
	long flags = 0, n;
	const char *val;
	struct vpin *v = NULL;
	int i = 1, slot;

	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (argc - i < 3 || argc - i > 5)
		return script_syntax(s, "usage: %s", script_usage_of("vpin"));
	if (arg_int(s, argv[i], &fd) || arg_int(s, argv[i + 1], &addr) ||
	    arg_int(s, argv[i + 2], &npages))
		return SCRIPT_SYNTAX;
	for (int k = i + 3; k < argc; k++) {
		struct var *qv;

		if (arg_kv(argv[k], "remote", &val)) {
			qv = var_find(s, val);
			if (!qv || qv->kind != V_PROC || !qv->proc)
				return script_syntax(s, "remote=%s: not a live process", val);
			q = qv->proc;
		} else if (arg_flags(s, argv[k], foll_names, "FOLL_", &flags)) {
			return SCRIPT_SYNTAX;
		}
	}
	if (npages < 1 || npages > 4096)
		return script_syntax(s, "vpin: NPAGES %lld outside 1..4096", npages);
	for (slot = 0; t && slot < MAX_VPINS && t->v[slot].pages; slot++)
		;
	if (!t)
		return -ENOMEM;
	if (slot == MAX_VPINS)
		return script_syntax(s, "more than %d vpin records", MAX_VPINS);
	v = &t->v[slot];
	v->npages = (unsigned long)npages;
	v->pages = calloc(v->npages, sizeof(*v->pages));
	if (!v->pages)
		return -ENOMEM;
	v->owner.f_owner = pinmm_fget(p, fd < 0 || fd > INT_MAX ? -1 : (int)fd);
	if (!v->owner.f_owner) {
		free(v->pages);
		memset(v, 0, sizeof(*v));
		return -EBADF;
	}
	n = vpin_call(p, q, (unsigned long)addr, (unsigned int)flags, v);
	if (n < 0) {
		fput(v->owner.f_owner);
		free(v->pages);
		memset(v, 0, sizeof(*v));
		return (int)n;
	}
	return var_bind_int(s, slot + 1);
}

/* vunpin V [dirty] */
static int cmd_vunpin(struct script *s, int argc, char **argv)
{
	struct vpin_tab *t = tab(s);
	struct var *var = var_find(s, argv[1]);

	if (argc == 3 && strcmp(argv[2], "dirty"))
		return script_syntax(s, "usage: %s", script_usage_of("vunpin"));
	if (!t || !var || var->kind != V_INT || var->ival < 1 || var->ival > MAX_VPINS ||
	    !t->v[var->ival - 1].pages)
		return script_syntax(s, "'%s' is not a vpin record", argv[1]);
	vpin_release(&t->v[var->ival - 1], argc == 3);
	return 0;
}

static void vaddr_machine_gone(struct script *s)
{
	void **slot = script_private(s, &vaddr_group);
	struct vpin_tab *t = slot ? *slot : NULL;

	for (int k = 0; t && k < MAX_VPINS; k++)
		if (t->v[k].pages)
			vpin_release(&t->v[k], false);
}

static void vaddr_script_end(struct script *s)
{
	void **slot = script_private(s, &vaddr_group);

	if (slot) {
		free(*slot);
		*slot = NULL;
	}
}

static const struct script_cmd vaddr_cmds[] = {
	{ "vpin", cmd_vpin, BIND_REQUIRED,
	  "vpin [P] OWNER ADDR NPAGES [FLAGS] [remote=Q] -> V   (vaddr_pin_pages, a file_pin)" },
	{ "vunpin", cmd_vunpin, BIND_NONE, "vunpin V [dirty]", SCRIPT_ARGS(1, 2) },
	{ NULL, NULL, BIND_NONE, NULL },
};

static const struct script_group vaddr_group = {
	.title = "Pins owned by a file (vaddr_pin_pages, <pinmm/linux.h>)",
	.order = 31,
	.cmds = vaddr_cmds,
	.machine_gone = vaddr_machine_gone,
	.script_end = vaddr_script_end,
};
SCRIPT_GROUP(vaddr_group);
