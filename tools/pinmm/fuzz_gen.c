/* SPDX-License-Identifier: MIT */
/*
 * fuzz_gen.c - the program generator of `pinmm fuzz --diff`: random but
 * valid scenario scripts (doc/SCENARIOS.md) that pinmm and the host kernel
 * can both run (doc/DIFF.md "Differential fuzzing").
 *
 * A program boots one machine (THP in madvise mode, the host's; a pinfs
 * image when it uses /data/), starts process P, maybe opens files (a
 * memfd, a /dev/shm/ file, a /data/ file) and then runs 8-30 operations
 * over at most three processes (P and the children C1, C2 it forks):
 * mmap, stores, write touches, fork at any point, exit, long-term
 * R/W pins (io_uring on the host) and unpin, mprotect round trips,
 * MADV_DONTNEED, partial munmap, MADV_HUGEPAGE/NOHUGEPAGE on 2 MiB-aligned
 * regions, mremap (grow in place, shrink, move to a fixed address, a
 * pure move of a whole slot across its VMAs and holes),
 * pwrite and ftruncate, with `observe` lines at random points and at the
 * end.  Every mapping sits at a fixed address (one 16 MiB slot per
 * mapping, MAP_FIXED_NOREPLACE), so the two sides have the same layout and
 * a range means the same thing on both.
 *
 * Operations that may fail are wrapped in `expect ok`, so a failure is a
 * compared observable and the program goes on.  The generator keeps a
 * model of each process's mapped pages and protections only to choose
 * operations that make sense (a pin starts on a writable page, so its
 * `-> PG` is bound and its `unpin` valid); the model is never an oracle.
 * Never generated, because the two sides cannot be compared on them:
 * read-only and short-term pins (the host pins only LONGTERM,WRITE), read
 * faults on anonymous memory (a host booted with pvm_no_zero_page=1 maps
 * no zero page), read faults on file mappings (the host maps the cached
 * pages around the fault, pinmm does not: doc/DESIGN.md "Faults and
 * COW"), KSM, swap and khugepaged.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define NSLOT		6
#define NPROC		3
#define NFILE		3
#define NPIN		16
#define SLOT_PAGES	1024		/* a THP slot maps 4 MiB */
#define SLOT_BASE	0x300000000000ul
#define SLOT_STRIDE	0x1000000ul

enum kind { K_NONE, K_ANON, K_THP, K_FSHARED, K_FPRIVATE };
enum prot { PR_NONE = 1, PR_R, PR_RW };
enum ftype { F_MEMFD, F_SHM, F_DATA };

struct gproc {
	bool live;
	enum kind kind[NSLOT];
	int file[NSLOT];
	unsigned char prot[NSLOT][SLOT_PAGES];	/* 0: unmapped */
	/*
	 * The model may be wrong about the slot: a resizing mremap needs one
	 * VMA, and VMAs merge or not by rules the model does not follow (fork,
	 * VM_ACCOUNT).  No pins there: an unbound `-> PG` would make its
	 * unpin a syntax error.
	 */
	bool shaky[NSLOT];
};

struct gen {
	uint64_t rng;
	char *buf;
	size_t len, cap;
	bool oom;
	struct gproc proc[NPROC];
	int nprocs;			/* created so far: P, C1, C2 */
	enum ftype ftype[NFILE];
	int fpages[NFILE];
	int nfiles;
	struct { int proc, slot; bool live; } pin[NPIN];
	int npins;
	int nstore;
};

static const char *const proc_name[NPROC] = { "P", "C1", "C2" };
static const char *const prot_name[] = { "", "none", "r", "rw" };
static const int thp_pages[] = { 0, 1, 2, 255, 511, 512, 513, 1023 };

static uint64_t rnd(struct gen *g)
{
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A number in [0, n). */
static int pick(struct gen *g, int n)
{
	return n > 0 ? (int)(rnd(g) % (uint64_t)n) : 0;
}

static void emit(struct gen *g, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (g->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(g->buf + g->len, g->cap - g->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < g->cap - g->len)
			break;
		g->cap = g->cap * 2 + 256;
		g->buf = realloc(g->buf, g->cap);	/* NULL: the caller frees nothing */
		if (!g->buf) {
			g->oom = true;
			return;
		}
	}
	g->len += (size_t)n;
}

static unsigned long addr(int slot, int page)
{
	return SLOT_BASE + (unsigned long)slot * SLOT_STRIDE + (unsigned long)page * 4096;
}

/* A length in pages as the script writes it: 2M, 12K. */
static const char *len_text(int pages, char *buf)
{
	if (pages % 256 == 0)
		sprintf(buf, "%dM", pages / 256);
	else
		sprintf(buf, "%dK", pages * 4);
	return buf;
}

static int slot_pages(enum kind k, int npages)
{
	return k == K_THP ? SLOT_PAGES : npages;
}

static bool slot_empty(const struct gproc *p, int slot)
{
	for (int i = 0; i < SLOT_PAGES; i++)
		if (p->prot[slot][i])
			return false;
	return true;
}

/* A random live process; P is always live. */
static int live_proc(struct gen *g)
{
	int v[NPROC], n = 0;

	for (int i = 0; i < g->nprocs; i++)
		if (g->proc[i].live)
			v[n++] = i;
	return v[pick(g, n)];
}

/* A slot in which process @pr maps something, or -1. */
static int used_slot(struct gen *g, int pr)
{
	int v[NSLOT], n = 0;

	for (int s = 0; s < NSLOT; s++)
		if (!slot_empty(&g->proc[pr], s))
			v[n++] = s;
	return n ? v[pick(g, n)] : -1;
}

/* A range of slot @slot of @pr: *first, *n pages (THP slots: 2 MiB or small). */
static void range(struct gen *g, int pr, int slot, int *first, int *n)
{
	const struct gproc *p = &g->proc[pr];
	int last = 0;

	if (p->kind[slot] == K_THP) {
		if (pick(g, 3) == 0) {
			*first = pick(g, 2) * 512;
			*n = 512;
		} else {
			*first = thp_pages[pick(g, 8)];
			*n = 1 + pick(g, 2);
		}
		return;
	}
	for (int i = 0; i < SLOT_PAGES; i++)
		if (p->prot[slot][i])
			last = i;
	*first = pick(g, last + 1);
	*n = 1 + pick(g, last + 1 - *first < 4 ? last + 1 - *first : 4);
}

static void set_prot(struct gproc *p, int slot, int first, int n, int prot)
{
	for (int i = first; i < first + n && i < SLOT_PAGES; i++)
		p->prot[slot][i] = (unsigned char)prot;
}

/* mprotect as Linux applies it: VMA by VMA until the first hole. */
static void apply_mprotect(struct gproc *p, int slot, int first, int n, int prot)
{
	for (int i = first; i < first + n && i < SLOT_PAGES && p->prot[slot][i]; i++)
		p->prot[slot][i] = (unsigned char)prot;
}

static bool file_backed(enum kind k)
{
	return k == K_FSHARED || k == K_FPRIVATE;
}

/* ---- the operations ------------------------------------------------------------- */

static void op_mmap(struct gen *g)
{
	int pr = live_proc(g), v[NSLOT], n = 0, slot, np, r;
	struct gproc *p = &g->proc[pr];
	char lb[16];

	for (int s = 0; s < NSLOT; s++)
		if (slot_empty(p, s))
			v[n++] = s;
	if (!n)
		return;
	slot = v[pick(g, n)];
	r = pick(g, 20);
	if (r < 10 || (!g->nfiles && r >= 13) || (pr && r >= 13))
		p->kind[slot] = K_ANON;
	else if (r < 13)
		p->kind[slot] = K_THP;
	else
		p->kind[slot] = r < 17 ? K_FSHARED : K_FPRIVATE;
	np = slot_pages(p->kind[slot], 1 + pick(g, 8));
	if (file_backed(p->kind[slot])) {
		p->file[slot] = pick(g, g->nfiles);
		emit(g, "expect ok mmap %s %s fd=F%d flags=%s,fixed_noreplace addr=%#lx\n",
		     proc_name[pr], len_text(np, lb), p->file[slot] + 1,
		     p->kind[slot] == K_FSHARED ? "shared" : "private", addr(slot, 0));
	} else {
		emit(g, "expect ok mmap %s %s flags=private,anonymous,fixed_noreplace addr=%#lx\n",
		     proc_name[pr], len_text(np, lb), addr(slot, 0));
	}
	set_prot(p, slot, 0, np, PR_RW);
	p->shaky[slot] = false;
}

static void op_store(struct gen *g, bool touch)
{
	int pr = live_proc(g), slot = used_slot(g, pr), first, n;
	char lb[16];

	if (slot < 0)
		return;
	range(g, pr, slot, &first, &n);
	/*
	 * `touch write` loads before it stores (on both sides): a read fault
	 * first, which maps the zero page on pinmm but not on a host without
	 * one, and faults around on file mappings on the host only.  So only
	 * anonymous ranges that are mapped writable are touched.
	 */
	for (int i = first; touch && i < first + n; i++)	/* past the slot: no touch */
		touch = i < SLOT_PAGES && g->proc[pr].prot[slot][i] == PR_RW &&
			!file_backed(g->proc[pr].kind[slot]);
	if (touch) {
		emit(g, "expect ok touch %s %#lx %s write\n", proc_name[pr], addr(slot, first),
		     len_text(n, lb));
	} else {
		emit(g, "expect ok store %s %#lx+%d \"s%d\"\n", proc_name[pr], addr(slot, first),
		     pick(g, 4) * 1000, ++g->nstore);
	}
}

static void op_observe(struct gen *g, int slot)
{
	int pr = live_proc(g), first, n;

	if (slot < 0)
		slot = used_slot(g, pr);
	if (slot < 0)
		return;
	range(g, pr, slot, &first, &n);
	if (n > 8)
		n = 2;
	emit(g, "observe %#lx %d\n", addr(slot, first), n);
}

static void op_fork(struct gen *g)
{
	int pr = live_proc(g), c = g->nprocs;

	if (c >= NPROC)
		return;
	g->proc[c] = g->proc[pr];
	g->nprocs++;
	emit(g, "fork %s %s\n", proc_name[pr], proc_name[c]);
}

static void unpin(struct gen *g, int k)
{
	emit(g, "unpin PG%d\n", k + 1);
	g->pin[k].live = false;
}

static void op_exit(struct gen *g)
{
	int v[NPROC], n = 0, c;

	for (int i = 1; i < g->nprocs; i++)
		if (g->proc[i].live)
			v[n++] = i;
	if (!n)
		return;
	c = v[pick(g, n)];
	for (int k = 0; k < g->npins; k++)
		if (g->pin[k].live && g->pin[k].proc == c)
			unpin(g, k);
	g->proc[c].live = false;
	emit(g, "exit %s\n", proc_name[c]);
}

static void op_pin(struct gen *g)
{
	int pr = live_proc(g), slot = used_slot(g, pr), first, n;
	struct gproc *p = &g->proc[pr];

	if (slot < 0 || g->npins == NPIN)
		return;
	range(g, pr, slot, &first, &n);
	if (n > 4)
		n = 4;
	if (p->prot[slot][first] != PR_RW || p->shaky[slot])
		return;
	if (file_backed(p->kind[slot]) && first >= g->fpages[p->file[slot]])
		return;
	emit(g, "expect ok pin %s %#lx %d LONGTERM,WRITE -> PG%d\n", proc_name[pr],
	     addr(slot, first), n, g->npins + 1);
	g->pin[g->npins].proc = pr;
	g->pin[g->npins].slot = slot;
	/* ext4 refuses long-term pins of shared file pages: no unpin then */
	g->pin[g->npins].live = !(p->kind[slot] == K_FSHARED &&
				  g->ftype[p->file[slot]] == F_DATA);
	g->npins++;
}

static void op_unpin(struct gen *g)
{
	int v[NPIN], n = 0;

	for (int k = 0; k < g->npins; k++)
		if (g->pin[k].live)
			v[n++] = k;
	if (n)
		unpin(g, v[pick(g, n)]);
}

static void op_mprotect(struct gen *g)
{
	int pr = live_proc(g), slot = used_slot(g, pr), first, n, prot = PR_NONE + pick(g, 3);
	char lb[16];

	if (slot < 0)
		return;
	range(g, pr, slot, &first, &n);
	emit(g, "expect ok mprotect %s %#lx %s %s\n", proc_name[pr], addr(slot, first),
	     len_text(n, lb), prot_name[prot]);
	apply_mprotect(&g->proc[pr], slot, first, n, prot);
	if (prot != PR_RW && pick(g, 2)) {	/* a round trip, later or now */
		if (pick(g, 2))
			op_observe(g, slot);
		emit(g, "expect ok mprotect %s %#lx %s rw\n", proc_name[pr], addr(slot, first),
		     len_text(n, lb));
		apply_mprotect(&g->proc[pr], slot, first, n, PR_RW);
	}
}

static void op_madvise(struct gen *g)
{
	int pr = live_proc(g), slot = used_slot(g, pr), first, n;
	struct gproc *p = &g->proc[pr];
	char lb[16];

	if (slot < 0)
		return;
	if (p->kind[slot] == K_THP && pick(g, 2)) {
		first = pick(g, 2) * 512;
		emit(g, "expect ok madvise %s %#lx 2M %s\n", proc_name[pr], addr(slot, first),
		     pick(g, 4) ? "hugepage" : "nohugepage");
		return;
	}
	range(g, pr, slot, &first, &n);
	emit(g, "expect ok madvise %s %#lx %s dontneed\n", proc_name[pr], addr(slot, first),
	     len_text(n, lb));
}

static void op_munmap(struct gen *g)
{
	int pr = live_proc(g), slot = used_slot(g, pr), first, n;
	char lb[16];

	if (slot < 0)
		return;
	range(g, pr, slot, &first, &n);
	emit(g, "expect ok munmap %s %#lx %s\n", proc_name[pr], addr(slot, first),
	     len_text(n, lb));
	set_prot(&g->proc[pr], slot, first, n, 0);
}

/* Whether pages [0, n) of the slot are all mapped with one protection. */
static bool whole(const struct gproc *p, int slot, int *n)
{
	int i = 0;

	while (i < SLOT_PAGES && p->prot[slot][i] == p->prot[slot][0] && p->prot[slot][0])
		i++;
	for (int k = i; k < SLOT_PAGES; k++)
		if (p->prot[slot][k])
			return false;
	*n = i;
	return i > 0;
}

/*
 * A pure move (MREMAP_FIXED, equal lengths) of a whole slot to an empty
 * one: since Linux 6.17 it may cover several VMAs and holes.
 */
static void mremap_slot(struct gen *g, int pr, int slot)
{
	struct gproc *p = &g->proc[pr];
	int to = -1, n = 0;
	char lb[16];

	for (int s = 0; s < NSLOT; s++)
		if (slot_empty(p, s) && (to < 0 || pick(g, 2)))
			to = s;
	for (int i = 0; i < SLOT_PAGES; i++)
		if (p->prot[slot][i])
			n = i + 1;
	if (to < 0 || p->kind[slot] == K_THP)
		return;
	emit(g, "expect ok mremap %s %#lx %s %s maymove fixed=%#lx\n", proc_name[pr],
	     addr(slot, 0), len_text(n, lb), lb, addr(to, 0));
	if (!p->prot[slot][0])
		return;		/* a hole at the start: EFAULT, nothing moves */
	p->kind[to] = p->kind[slot];
	p->file[to] = p->file[slot];
	p->shaky[to] = p->shaky[slot];
	memcpy(p->prot[to], p->prot[slot], sizeof(p->prot[to]));
	memset(p->prot[slot], 0, sizeof(p->prot[slot]));
}

static void op_mremap(struct gen *g)
{
	int pr = live_proc(g), slot = used_slot(g, pr), n, to = -1, nn;
	struct gproc *p = &g->proc[pr];
	char lb[16], nb[16];

	if (slot >= 0 && !pick(g, 3)) {
		mremap_slot(g, pr, slot);
		return;
	}
	if (slot < 0 || p->kind[slot] == K_THP || file_backed(p->kind[slot]) ||
	    !whole(p, slot, &n))
		return;
	nn = 1 + pick(g, 8);
	if (pick(g, 2)) {
		for (int s = 0; s < NSLOT; s++)
			if (slot_empty(p, s) && s != slot && (to < 0 || pick(g, 2)))
				to = s;
	}
	p->shaky[slot] = true;
	if (to < 0) {
		emit(g, "expect ok mremap %s %#lx %s %s\n", proc_name[pr], addr(slot, 0),
		     len_text(n, lb), len_text(nn, nb));
		if (nn > n)
			set_prot(p, slot, n, nn - n, p->prot[slot][0]);
		else
			set_prot(p, slot, nn, n - nn, 0);
		return;
	}
	emit(g, "expect ok mremap %s %#lx %s %s maymove fixed=%#lx\n", proc_name[pr],
	     addr(slot, 0), len_text(n, lb), len_text(nn, nb), addr(to, 0));
	p->kind[to] = p->kind[slot];
	p->shaky[to] = true;
	set_prot(p, to, 0, nn, p->prot[slot][0]);
	set_prot(p, slot, 0, n, 0);
}

static void op_file(struct gen *g)
{
	int f = pick(g, g->nfiles), np = 1 + pick(g, 10);
	char lb[16];

	if (!g->nfiles)
		return;
	if (pick(g, 4)) {
		emit(g, "expect ok pwrite P F%d %d \"w%d\"\n", f + 1,
		     pick(g, g->fpages[f] + 1) * 4096 + pick(g, 2) * 100, ++g->nstore);
		if (g->fpages[f] == 0)
			g->fpages[f] = 1;
		return;
	}
	emit(g, "expect ok ftruncate P F%d %s\n", f + 1, len_text(np, lb));
	g->fpages[f] = np;
}

static void open_files(struct gen *g)
{
	char lb[16];

	g->nfiles = pick(g, 3) ? pick(g, NFILE + 1) : 0;
	for (int f = 0; f < g->nfiles; f++) {
		g->ftype[f] = (enum ftype)pick(g, 3);
		g->fpages[f] = 2 + pick(g, 8);
		if (g->ftype[f] == F_MEMFD)
			emit(g, "memfd P \"m%d\" -> F%d\n", f + 1, f + 1);
		else
			emit(g, "open P %s/f%d rdwr,creat -> F%d\n",
			     g->ftype[f] == F_SHM ? "/dev/shm" : "/data", f + 1, f + 1);
		emit(g, "ftruncate P F%d %s\n", f + 1, len_text(g->fpages[f], lb));
	}
}

/**
 * fuzz_gen() - program @index of seed @seed (doc/DIFF.md).
 * Context: any thread; no global state.
 * Return: the script's text (the caller frees it), or NULL without memory.
 */
char *fuzz_gen(uint64_t seed, uint64_t index)
{
	struct gen *g = calloc(1, sizeof(*g));
	bool data = false;
	int nops;
	char *text;

	if (!g)
		return NULL;
	g->rng = seed * 0x100000001b3ull ^ (index + 1) * 0x9e3779b97f4a7c15ull;
	rnd(g);
	emit(g, "# pinmm fuzz --diff --seed %llu: program %llu\n",
	     (unsigned long long)seed, (unsigned long long)index);
	/* decide the files first: a /data/ file needs a pinfs image */
	{
		struct gen probe = *g;

		probe.buf = NULL;
		probe.cap = probe.len = 0;
		open_files(&probe);
		for (int f = 0; f < probe.nfiles; f++)
			data |= probe.ftype[f] == F_DATA;
		free(probe.buf);
	}
	emit(g, "boot ram=256M thp=madvise%s\n",
	     data ? " pinfs.image=$SCRATCH/img pinfs.size=8M" : "");
	emit(g, "proc P\n");
	g->proc[0].live = true;
	g->nprocs = 1;
	open_files(g);
	for (int k = 1 + pick(g, 2); k > 0; k--)
		op_mmap(g);
	nops = 8 + pick(g, 23);
	for (int i = 0; i < nops; i++) {
		int r = pick(g, 100);

		if (r < 18)
			op_store(g, false);
		else if (r < 23)
			op_store(g, true);
		else if (r < 36)
			op_observe(g, -1);
		else if (r < 43)
			op_fork(g);
		else if (r < 46)
			op_exit(g);
		else if (r < 56)
			op_pin(g);
		else if (r < 62)
			op_unpin(g);
		else if (r < 70)
			op_mprotect(g);
		else if (r < 78)
			op_madvise(g);
		else if (r < 83)
			op_munmap(g);
		else if (r < 88)
			op_mremap(g);
		else if (r < 93)
			op_mmap(g);
		else
			op_file(g);
	}
	for (int s = 0; s < NSLOT; s++)
		for (int pr = 0; pr < g->nprocs; pr++)
			if (g->proc[pr].live && !slot_empty(&g->proc[pr], s)) {
				emit(g, "observe %#lx %d\n", addr(s, 0),
				     g->proc[pr].kind[s] == K_THP ? 2 : 8);
				break;
			}
	for (int k = 0; k < g->npins; k++)
		if (g->pin[k].live)
			unpin(g, k);
	text = g->oom ? NULL : g->buf;
	if (g->oom)
		free(g->buf);
	free(g);
	return text;
}
