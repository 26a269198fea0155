/* SPDX-License-Identifier: MIT */
/*
 * script_observe.c - `observe ADDR [NPAGES]`: one canonical line of page
 * state that pinmm and the host kernel can both report, for `pinmm diff`
 * and the differential fuzzer (doc/DIFF.md "Observables").
 *
 * For every live process of the script, in the order of their names, and
 * each page of the range, one tuple:
 *
 *   NAME+OFF novma                 no VMA covers the page
 *   NAME+OFF - [swapped]           no page mapped (swapped out or not)
 *   NAME+OFF FLAGS map=N ord=O page=pK mem=HASH
 *
 * FLAGS are `anon` and `shmem` when set; map= is the page's mapcount,
 * ord= the order of its folio (a THP has 9: whether a PMD or PTEs map it
 * is not observable on the host, whose kpageflags THP bit describes the
 * folio, not the mapping), mem= an FNV-1a hash of its 4096
 * bytes as the process reads them (or the errno name when the read fails,
 * a PROT_NONE page).  Frame numbers are never printed: page=pK names the
 * K-th distinct frame met on this line, so "the same page in P and C" and
 * "another page" compare across the two sides while the numbers, and what
 * a freed frame is reused for later, do not.
 *
 * Under `pinmm diff` (s->opts->log) the line goes into the diff log as a
 * state observable; otherwise it is printed as "observe: LINE".  The host
 * side answers from pagemap/kpageflags/kpagecount (host_page_info()) and
 * the agent's own loads; pinmm's side from pinmm_page_info() and
 * pinmm_load().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "host.h"

#define OBSERVE_MAX_PAGES	512
#define OBSERVE_MAX_PROCS	HOST_MAX_PROCS

/* One process as either side knows it. */
struct obs_proc {
	const char *name;
	struct pinmm_proc *sim;
	struct host_proc *host;
};

struct frames {
	unsigned long pfn[OBSERVE_MAX_PAGES * 4];
	int n;
};

static int frame_label(struct frames *fr, unsigned long pfn)
{
	for (int i = 0; i < fr->n; i++)
		if (fr->pfn[i] == pfn)
			return i;
	if (fr->n == (int)(sizeof(fr->pfn) / sizeof(fr->pfn[0])))
		return -1;
	fr->pfn[fr->n] = pfn;
	return fr->n++;
}

static unsigned int fnv1a(const unsigned char *p, size_t n)
{
	unsigned int h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct obs_proc *)a)->name, ((const struct obs_proc *)b)->name);
}

/* The live processes of the script, sorted by name; return how many. */
static int live_procs(struct script *s, struct obs_proc *v)
{
	int n = 0;

	if (s->opts->host) {
		struct host_session *hs = host_session(s);

		for (int i = 0; hs && i < hs->nprocs && n < OBSERVE_MAX_PROCS; i++)
			if (hs->procs[i].name[0] && hs->procs[i].ag.sock >= 0)
				v[n++] = (struct obs_proc){ .name = hs->procs[i].name,
							    .host = &hs->procs[i] };
	} else {
		for (struct var *x = s->vars; x && n < OBSERVE_MAX_PROCS; x = x->next)
			if (x->kind == V_PROC && x->proc)
				v[n++] = (struct obs_proc){ .name = x->name, .sim = x->proc };
	}
	qsort(v, (size_t)n, sizeof(*v), by_name);
	return n;
}

/* The page state and content hash of one page; rc as pinmm_page_info(). */
static int observe_page(struct script *s, const struct obs_proc *p, unsigned long a,
			struct pinmm_page_info *pi, char *mem, size_t memlen)
{
	unsigned char *buf = NULL;
	long got;
	int rc;

	if (p->host)
		rc = host_page_info(s, p->host, a, pi);
	else
		rc = pinmm_page_info(p->sim, a, pi);
	if (rc || !pi->present)
		return rc;
	if (p->host) {
		got = host_load(s, p->host, a, 4096, &buf);
	} else {
		buf = malloc(4096);
		got = buf ? pinmm_load(p->sim, a, buf, 4096) : -ENOMEM;
	}
	if (got == 4096)
		snprintf(mem, memlen, "%08x", fnv1a(buf, 4096));
	else
		snprintf(mem, memlen, "%s", got < 0 ? pinmm_strerror((int)got) : "short");
	free(buf);
	return 0;
}

static int cmd_observe(struct script *s, int argc, char **argv)
{
	struct obs_proc procs[OBSERVE_MAX_PROCS];
	struct strbuf sb = { 0 };
	struct frames *fr;
	long long addr, n = 1;
	int nprocs, rc = 0;

	if (argc < 2 || argc > 3 || arg_int(s, argv[1], &addr) ||
	    (argc == 3 && arg_int(s, argv[2], &n)))
		return argc < 2 || argc > 3 ? script_syntax(s, "usage: observe ADDR [NPAGES]") :
		       SCRIPT_SYNTAX;
	if (n < 1 || n > OBSERVE_MAX_PAGES || addr % 4096)
		return script_syntax(s, "observe: ADDR must be page-aligned and NPAGES 1..%d",
				     OBSERVE_MAX_PAGES);
	fr = calloc(1, sizeof(*fr));
	if (!fr)
		return -ENOMEM;
	nprocs = live_procs(s, procs);
	for (int k = 0; k < nprocs && !rc; k++) {
		for (long long pg = 0; pg < n; pg++) {
			unsigned long a = (unsigned long)(addr + pg * 4096);
			struct pinmm_page_info pi;
			char mem[32] = "";

			sb_printf(&sb, "%s%s+%lld", sb.len ? "; " : "", procs[k].name, pg * 4096);
			rc = observe_page(s, &procs[k], a, &pi, mem, sizeof(mem));
			if (rc == -EFAULT) {
				sb_printf(&sb, " novma");
				rc = 0;
				continue;
			}
			if (rc)
				break;
			if (!pi.present) {
				sb_printf(&sb, " -%s", pi.swapped ? " swapped" : "");
				continue;
			}
			sb_printf(&sb, "%s%s map=%d ord=%d page=p%d mem=%s",
				  pi.anon ? " anon" : "", pi.shmem ? " shmem" : "",
				  pi.mapcount, pi.folio_order,
				  frame_label(fr, pi.pfn), mem);
		}
	}
	free(fr);
	if (!rc) {
		if (s->opts->log)
			diff_log_state(s, sb.len ? sb.buf : "(no process)");
		else
			script_out(s, "observe: %s\n", sb.len ? sb.buf : "(no process)");
	}
	sb_free(&sb);
	return rc;
}

HOST_CMD("observe", cmd_observe);

static const struct script_cmd observe_cmds[] = {
	{ "observe", cmd_observe, BIND_NONE,
	  "observe ADDR [NPAGES]   (every process's pages, canonical: doc/DIFF.md)" },
	{ NULL, NULL, BIND_NONE, NULL },
};

static const struct script_group observe_group = {
	.title = "Observing for pinmm diff",
	.order = 41,
	.cmds = observe_cmds,
};
SCRIPT_GROUP(observe_group);
