/* SPDX-License-Identifier: MIT */
/*
 * torture_ops.c - what one worker of `pinmm torture` does, and its oracle.
 *
 * A worker owns one process P with a 2 MiB anonymous private region (THP
 * eligible, so the chaos thread finds huge pages to split and move), a
 * 256 KiB pinfs file /data/tN mapped MAP_SHARED, an O_DIRECT descriptor of
 * the same file, an RDMA protection domain with an on-demand-paging region
 * over the whole anonymous region, and up to TT_MAX_LPINS long-term
 * FOLL_WRITE pins.  Two host buffers, shadow and fshadow, hold what the
 * region and the file must contain; every operation that moves data updates
 * them, every load, pread, kmap of a pinned page and RDMA READ is compared
 * with them.  The rules the oracle relies on (doc/TORTURE.md, "The oracle"):
 *
 *  - MADV_DONTNEED and munmap+mmap of private anon memory read zeroes after;
 *    a long-term pin on a page zapped that way keeps the old page, so device
 *    writes through it no longer reach the region (the pin is "detached").
 *  - fork: the child reads the parent's bytes as they were at fork time;
 *    a page the parent holds pinned R/W stays the parent's, so later device
 *    writes through the pin show in the parent and never in the child.
 *  - ftruncate down and up again, and hole punching, read zeroes.
 *  - O_DIRECT moves file blocks to and from the region; RDMA WRITE/READ
 *    move bytes to and from the region, pinned or on demand.
 *  - Nothing the chaos thread does (migration, compaction, THP split,
 *    reclaim, writeback, drop_caches) changes a byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pinmm/dio.h>
#include <pinmm/lease.h>
#include <pinmm/rdma.h>

#include "torture.h"

#define PG	4096UL
#define REG_PAGES (TT_REG_LEN / PG)
#define FILE_PAGES (TT_FILE_LEN / PG)
#define MAX_BATCH 16

static void fill_random(struct tt_worker *w, unsigned char *b, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint64_t r = tt_rand(&w->rng);

		for (int k = 0; k < 8 && i < len; k++, i++)
			b[i] = (unsigned char)(r >> (8 * k));
	}
}

/*
 * Set @len bytes at @off of shadow @sh (w->shadow, w->fshadow or the fork
 * child's copy) from @src, or to zeroes for a NULL @src; remember which
 * operation last wrote each page, for the violation message.
 */
static void set_shadow(struct tt_worker *w, unsigned char *sh, size_t off,
		       const void *src, size_t len)
{
	const char **last = sh == w->fshadow ? w->flast : w->last;

	if (src)
		memcpy(sh + off, src, len);
	else
		memset(sh + off, 0, len);
	for (size_t pg = off / PG; pg * PG < off + len; pg++)
		last[pg] = w->cur_op;
}

static const char *last_writer(struct tt_worker *w, const unsigned char *want)
{
	if (want >= w->fshadow && want < w->fshadow + TT_FILE_LEN)
		return w->flast[(size_t)(want - w->fshadow) / PG];
	if (want >= w->shadow && want < w->shadow + TT_REG_LEN)
		return w->last[(size_t)(want - w->shadow) / PG];
	if (want >= w->buf2 && want < w->buf2 + TT_REG_LEN)
		return w->last[(size_t)(want - w->buf2) / PG];
	return NULL;
}

/* Compare @len observed bytes with @want; report the first difference. */
static bool check(struct tt_worker *w, const char *op, unsigned long addr,
		  const unsigned char *want, const unsigned char *got, size_t len)
{
	size_t i, bad = 0, first = 0;

	if (!memcmp(want, got, len))
		return true;
	for (i = 0; i < len; i++)
		if (want[i] != got[i] && !bad++)
			first = i;
	tt_violation(w->t, "thread %d op %s addr 0x%lx: expected 0x%02x observed 0x%02x "
		     "(%zu of %zu bytes differ; the page was last written by %s)", w->id, op,
		     addr + first, want[first], got[first], bad, len,
		     last_writer(w, want + first) ? last_writer(w, want + first) : "nobody");
	return false;
}

/* A call that cannot fail in this set-up failed: the shadow is now unknown. */
static bool must(struct tt_worker *w, enum tt_op op, const char *what, long rc)
{
	if (rc >= 0)
		return true;
	tt_count_err(&w->st[op], rc);
	tt_violation(w->t, "thread %d op %s: %s failed: %s", w->id, tt_op_name[op], what,
		     pinmm_strerror((int)rc));
	return false;
}

/* A random range of the anon region: page aligned start, 1..@maxp pages. */
static void rand_pages(struct tt_worker *w, unsigned long maxp, unsigned long *pg,
		       unsigned long *n)
{
	*n = 1 + tt_below(&w->rng, maxp);
	*pg = tt_below(&w->rng, REG_PAGES - *n + 1);
}

/* A random byte range of a buffer of @size bytes, at most @max long. */
static void rand_bytes(struct tt_worker *w, size_t size, size_t max, size_t *off,
		       size_t *len)
{
	*len = 1 + tt_below(&w->rng, max);
	*off = tt_below(&w->rng, size - *len + 1);
}

/* Long-term pins on pages in [@off, @off + @len) of the region lose their page. */
static void detach_pins(struct tt_worker *w, unsigned long off, unsigned long len)
{
	for (int i = 0; i < w->nlpins; i++) {
		unsigned long a = w->lpins[i].addr - w->base;

		if (a >= off && a < off + len)
			w->lpins[i].attached = false;
	}
}

static int map_region(struct tt_worker *w)
{
	long a = pinmm_mmap(w->p, w->base, TT_REG_LEN, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

	if (a < 0)
		return (int)a;
	return pinmm_madvise(w->p, w->base, TT_REG_LEN, MADV_HUGEPAGE);
}

/* ---- CPU access ------------------------------------------------------------- */

static void op_load(struct tt_worker *w)
{
	size_t off, len;

	rand_bytes(w, TT_REG_LEN, 3 * PG, &off, &len);
	if (must(w, TO_LOAD, "load", pinmm_load(w->p, w->base + off, w->buf, len)))
		check(w, "load", w->base + off, w->shadow + off, w->buf, len);
}

static void op_store(struct tt_worker *w)
{
	size_t off, len;

	rand_bytes(w, TT_REG_LEN, 3 * PG, &off, &len);
	fill_random(w, w->buf, len);
	if (must(w, TO_STORE, "store", pinmm_store(w->p, w->base + off, w->buf, len)))
		set_shadow(w, w->shadow, off, w->buf, len);
}

/*
 * fork, then interleave parent stores, device writes through the parent's
 * long-term pins, child stores and loads on both sides; exit the child.
 */
static void op_fork(struct tt_worker *w)
{
	struct pinmm_proc *c;
	unsigned char *cs;
	int rc = pinmm_fork(w->p, &c);

	tt_count(&w->st[TO_FORK], rc);
	if (rc < 0)
		return;
	cs = w->buf2;
	memcpy(cs, w->shadow, TT_REG_LEN);
	for (int k = 0; k < 12; k++) {
		size_t off, len;
		bool child = tt_below(&w->rng, 2);
		struct pinmm_proc *p = child ? c : w->p;
		unsigned char *sh = child ? cs : w->shadow;

		rand_bytes(w, TT_REG_LEN, 2 * PG, &off, &len);
		switch (tt_below(&w->rng, 3)) {
		case 0:
			fill_random(w, w->buf, len);
			if (must(w, TO_FORK, child ? "child store" : "parent store",
				 pinmm_store(p, w->base + off, w->buf, len)))
				set_shadow(w, sh, off, w->buf, len);
			break;
		case 1:
			if (must(w, TO_FORK, child ? "child load" : "parent load",
				 pinmm_load(p, w->base + off, w->buf, len)))
				check(w, child ? "fork/child load" : "fork/parent load",
				      w->base + off, sh + off, w->buf, len);
			break;
		default:
			for (int i = 0; i < w->nlpins; i++) {
				struct tt_lpin *l = &w->lpins[i];
				unsigned char b[64];
				size_t o = tt_below(&w->rng, PG - sizeof(b));

				if (!l->attached)
					continue;
				fill_random(w, b, sizeof(b));
				if (must(w, TO_FORK, "dma_write after fork",
					 pinmm_dma_write(l->page, o, b, sizeof(b))))
					set_shadow(w, w->shadow, (l->addr - w->base) + o, b, sizeof(b));
			}
		}
	}
	if (must(w, TO_FORK, "child load", pinmm_load(c, w->base, w->buf, TT_REG_LEN)))
		check(w, "fork/child full load", w->base, cs, w->buf, TT_REG_LEN);
	must(w, TO_FORK, "child exit", pinmm_exit(c));
	pinmm_proc_put(c);	/* freed now: a long torture stays flat */
}

static void op_mprotect(struct tt_worker *w)
{
	unsigned long pg, n;
	unsigned char b = 0x5a;
	long rc;

	rand_pages(w, 8, &pg, &n);
	if (!must(w, TO_MPROTECT, "mprotect(PROT_READ)",
		  pinmm_mprotect(w->p, w->base + pg * PG, n * PG, PROT_READ)))
		return;
	rc = pinmm_store(w->p, w->base + pg * PG, &b, 1);
	if (rc != -EFAULT)
		tt_violation(w->t, "thread %d op mprotect: store into PROT_READ at 0x%lx "
			     "returned %ld, want -EFAULT", w->id, w->base + pg * PG, rc);
	if (must(w, TO_MPROTECT, "load", pinmm_load(w->p, w->base + pg * PG, w->buf, n * PG)))
		check(w, "mprotect/load", w->base + pg * PG, w->shadow + pg * PG, w->buf,
		      n * PG);
	must(w, TO_MPROTECT, "mprotect(RW)", pinmm_mprotect(w->p, w->base + pg * PG, n * PG,
							  PROT_READ | PROT_WRITE));
}

static void op_dontneed(struct tt_worker *w)
{
	unsigned long pg, n;

	rand_pages(w, 64, &pg, &n);
	if (!must(w, TO_DONTNEED, "madvise(DONTNEED)",
		  pinmm_madvise(w->p, w->base + pg * PG, n * PG, MADV_DONTNEED)))
		return;
	set_shadow(w, w->shadow, pg * PG, NULL, n * PG);
	detach_pins(w, pg * PG, n * PG);
}

static void op_munmap(struct tt_worker *w)
{
	if (!must(w, TO_MUNMAP, "munmap", pinmm_munmap(w->p, w->base, TT_REG_LEN)))
		return;
	set_shadow(w, w->shadow, 0, NULL, TT_REG_LEN);
	detach_pins(w, 0, TT_REG_LEN);
	must(w, TO_MUNMAP, "mmap again", map_region(w));
}

/* ---- GUP and pins ----------------------------------------------------------- */

/* Every page @pages[0..n) must hold the shadow of the pages at @pg. */
static void check_pages(struct tt_worker *w, const char *op, struct page **pages, long n,
			unsigned long pg)
{
	for (long i = 0; i < n; i++) {
		void *k = pinmm_kmap_local_page(pages[i]);

		check(w, op, w->base + (pg + i) * PG, w->shadow + (pg + i) * PG, k, PG);
		pinmm_kunmap_local(k);
	}
}

static void op_gup(struct tt_worker *w, bool fast)
{
	struct page *pages[MAX_BATCH];
	unsigned int flags = tt_below(&w->rng, 2) ? FOLL_WRITE : 0;
	enum tt_op op = fast ? TO_GUP_FAST : TO_GUP_SLOW;
	unsigned long pg, n;
	long got;

	rand_pages(w, MAX_BATCH, &pg, &n);
	if (fast) {
		got = pinmm_get_user_pages_fast(w->base + pg * PG, (int)n, flags, pages);
	} else {
		struct mm_struct *mm = pinmm_proc_mm(w->p);

		pinmm_mmap_read_lock(mm);
		got = pinmm_get_user_pages(w->base + pg * PG, n, flags, pages);
		pinmm_mmap_read_unlock(mm);
	}
	tt_count(&w->st[op], got);
	if (got <= 0)
		return;
	check_pages(w, tt_op_name[op], pages, got, pg);
	for (long i = 0; i < got; i++)
		pinmm_put_page(pages[i]);
}

/* A short-term FOLL_WRITE pin: check, write as a device, unpin dirty. */
static void op_pin_short(struct tt_worker *w, bool fast)
{
	struct page *pages[MAX_BATCH];
	enum tt_op op = fast ? TO_PIN_FAST : TO_PIN_SLOW;
	unsigned long pg, n;
	long got;

	rand_pages(w, MAX_BATCH, &pg, &n);
	if (fast)
		got = pinmm_pin_user_pages_fast(w->base + pg * PG, (int)n, FOLL_WRITE, pages);
	else
		got = pinmm_pin_user_pages_unlocked(w->base + pg * PG, n, pages, FOLL_WRITE);
	tt_count(&w->st[op], got);
	if (got <= 0)
		return;
	check_pages(w, tt_op_name[op], pages, got, pg);
	for (long i = 0; i < got; i++) {
		unsigned char b[128];
		size_t o = tt_below(&w->rng, PG - sizeof(b));

		fill_random(w, b, sizeof(b));
		if (fast) {
			if (must(w, op, "dma_write", pinmm_dma_write(pages[i], o, b, sizeof(b))))
				set_shadow(w, w->shadow, (pg + i) * PG + o, b, sizeof(b));
		} else {
			unsigned char *k = pinmm_kmap_local_page(pages[i]);

			memcpy(k + o, b, sizeof(b));
			pinmm_kunmap_local(k);
			set_shadow(w, w->shadow, (pg + i) * PG + o, b, sizeof(b));
		}
	}
	if (fast)
		pinmm_unpin_user_pages_dirty_lock(pages, (unsigned long)got, true);
	else
		pinmm_unpin_user_pages(pages, (unsigned long)got);
}

static void op_pin_long(struct tt_worker *w)
{
	struct tt_lpin *l;
	struct page *page;
	unsigned long pg = tt_below(&w->rng, REG_PAGES);
	int got;

	if (w->nlpins == TT_MAX_LPINS)
		return;
	got = pinmm_pin_user_pages_fast(w->base + pg * PG, 1, FOLL_WRITE | FOLL_LONGTERM, &page);
	tt_count(&w->st[TO_PIN_LONG], got);
	if (got != 1)
		return;
	l = &w->lpins[w->nlpins];
	*l = (struct tt_lpin){ .page = page, .addr = w->base + pg * PG, .attached = true };
	tt_set(&w->nlpins, w->nlpins + 1);
	check_pages(w, "pin_long", &page, 1, pg);
}

/* A device writes through a held long-term pin. */
static void op_dma_write(struct tt_worker *w)
{
	struct tt_lpin *l;
	unsigned char b[256];
	size_t o = tt_below(&w->rng, PG - sizeof(b));

	if (!w->nlpins)
		return;
	tt_count(&w->st[TO_DMA_WRITE], 0);
	l = &w->lpins[tt_below(&w->rng, (unsigned long)w->nlpins)];
	fill_random(w, b, sizeof(b));
	if (must(w, TO_DMA_WRITE, "dma_write", pinmm_dma_write(l->page, o, b, sizeof(b))) &&
	    l->attached)
		set_shadow(w, w->shadow, (l->addr - w->base) + o, b, sizeof(b));
}

static void unpin_one(struct tt_worker *w, int i)
{
	struct tt_lpin *l = &w->lpins[i];

	if (tt_below(&w->rng, 2))
		pinmm_unpin_user_page(l->page);
	else
		pinmm_unpin_user_pages_dirty_lock(&l->page, 1, true);
	*l = w->lpins[w->nlpins - 1];
	tt_set(&w->nlpins, w->nlpins - 1);
}

static void op_unpin(struct tt_worker *w)
{
	if (!w->nlpins)
		return;
	tt_count(&w->st[TO_UNPIN], 0);
	unpin_one(w, (int)tt_below(&w->rng, (unsigned long)w->nlpins));
}

/* ---- the file ---------------------------------------------------------------- */

static void op_pwrite(struct tt_worker *w)
{
	size_t off, len;

	rand_bytes(w, TT_FILE_LEN, 3 * PG, &off, &len);
	fill_random(w, w->buf, len);
	if (must(w, TO_PWRITE, "pwrite", pinmm_pwrite(w->p, w->fd, w->buf, len, (long)off)))
		set_shadow(w, w->fshadow, off, w->buf, len);
}

static void op_pread(struct tt_worker *w)
{
	size_t off, len;
	long rc;

	rand_bytes(w, TT_FILE_LEN, 3 * PG, &off, &len);
	rc = pinmm_pread(w->p, w->fd, w->buf, len, (long)off);
	if (!must(w, TO_PREAD, "pread", rc))
		return;
	if ((size_t)rc != len)
		tt_violation(w->t, "thread %d op pread: %ld bytes at %zu, want %zu", w->id,
			     rc, off, len);
	else
		check(w, "pread", off, w->fshadow + off, w->buf, len);
}

/* Store to or load from the MAP_SHARED view of the file. */
static void op_fmap(struct tt_worker *w)
{
	size_t off, len;

	rand_bytes(w, TT_FILE_LEN, 2 * PG, &off, &len);
	if (tt_below(&w->rng, 2)) {
		fill_random(w, w->buf, len);
		if (must(w, TO_FMAP, "store", pinmm_store(w->p, w->fbase + off, w->buf, len)))
			set_shadow(w, w->fshadow, off, w->buf, len);
	} else if (must(w, TO_FMAP, "load", pinmm_load(w->p, w->fbase + off, w->buf, len))) {
		check(w, "fmap/load", w->fbase + off, w->fshadow + off, w->buf, len);
	}
}

/* Cut the file to a random size and grow it back: the cut part reads zeroes. */
static void op_truncate(struct tt_worker *w)
{
	long len = (long)tt_below(&w->rng, TT_FILE_LEN);

	if (!must(w, TO_TRUNCATE, "ftruncate down", pinmm_ftruncate(w->p, w->fd, len)))
		return;
	set_shadow(w, w->fshadow, (size_t)len, NULL, TT_FILE_LEN - (size_t)len);
	if (pinmm_fstat_size(w->p, w->fd) != len)
		tt_violation(w->t, "thread %d op truncate: size %ld after ftruncate(%ld)",
			     w->id, pinmm_fstat_size(w->p, w->fd), len);
	must(w, TO_TRUNCATE, "ftruncate up", pinmm_ftruncate(w->p, w->fd, (long)TT_FILE_LEN));
}

static void op_punch(struct tt_worker *w)
{
	size_t off, len;

	rand_bytes(w, TT_FILE_LEN, 8 * PG, &off, &len);
	if (must(w, TO_PUNCH, "punch", pinmm_fallocate(w->p, w->fd, FALLOC_FL_PUNCH_HOLE |
						     FALLOC_FL_KEEP_SIZE, (long)off, (long)len)))
		set_shadow(w, w->fshadow, off, NULL, len);
}

static void op_fsync(struct tt_worker *w)
{
	must(w, TO_FSYNC, "fsync", pinmm_fsync(w->p, w->fd));
}

/* O_DIRECT between the file and the anon region (pins the region's pages). */
static void op_dio(struct tt_worker *w, int rw)
{
	enum tt_op op = rw == PINMM_DIO_READ ? TO_DIO_READ : TO_DIO_WRITE;
	unsigned long pg, n, fpg;
	struct pinmm_dio *d;
	long rc;

	rand_pages(w, 8, &pg, &n);
	fpg = tt_below(&w->rng, FILE_PAGES - n + 1);
	rc = pinmm_dio_submit(w->p, w->dfd, rw, w->base + pg * PG, n * PG, (long)(fpg * PG), &d);
	if (!must(w, op, "dio_submit", rc))
		return;
	rc = pinmm_dio_wait(d);
	if (!must(w, op, "dio_wait", rc))
		return;
	if ((unsigned long)rc != n * PG) {
		tt_violation(w->t, "thread %d op %s: %ld bytes, want %lu", w->id, tt_op_name[op],
			     rc, n * PG);
		return;
	}
	if (rw == PINMM_DIO_READ)
		set_shadow(w, w->shadow, pg * PG, w->fshadow + fpg * PG, n * PG);
	else
		set_shadow(w, w->fshadow, fpg * PG, w->shadow + pg * PG, n * PG);
}

/* ---- RDMA -------------------------------------------------------------------- */

/* A few RDMA WRITEs and READs on [@pg, @pg + @n) through @rkey at @iova. */
/*
 * An ODP transfer whose pages could not be faulted within
 * HMM_RANGE_DEFAULT_TIMEOUT (invalidations kept racing with the device
 * fault) fails with -EBUSY, as Linux's ODP fault does; the device then
 * completes the work request with an error.  That is an allowed outcome,
 * counted as the op's error.  A WRITE copies page by page, so it may have
 * reached a prefix of its bytes: what the process now sees must be the new
 * bytes up to some point and the old ones after it, and the shadow takes
 * what is there.  @soff: offset in the region; @nbuf: the bytes sent.
 */
static void odp_busy(struct tt_worker *w, enum tt_op op, size_t soff, const unsigned char *nbuf,
		     size_t len, bool write)
{
	const unsigned char *old = w->shadow + soff;
	unsigned char *now = w->buf2;
	size_t k = 0;
	long rc;

	tt_count_err(&w->st[op], -EBUSY);
	if (!write)
		return;
	rc = pinmm_load(w->p, w->base + soff, now, len);
	if (rc != (long)len) {
		tt_violation(w->t, "thread %d op %s: load after a failed ODP write: %s", w->id,
			     tt_op_name[op], pinmm_strerror((int)rc));
		return;
	}
	while (k < len && now[k] == nbuf[k])
		k++;
	if (memcmp(now + k, old + k, len - k)) {
		tt_violation(w->t, "thread %d op %s: a failed ODP write left bytes that are "
			     "neither a prefix of the new ones nor the old ones at %#lx", w->id,
			     tt_op_name[op], w->base + soff);
		return;
	}
	set_shadow(w, w->shadow, soff, now, len);
}

static void rdma_traffic(struct tt_worker *w, enum tt_op op, uint32_t rkey, uint64_t iova,
			 unsigned long pg, unsigned long n)
{
	for (int k = 0; k < 4; k++) {
		size_t off, len;
		long rc;

		rand_bytes(w, n * PG, PG, &off, &len);
		if (k & 1) {
			rc = pinmm_rdma_remote_read(w->p, w->pd, rkey, iova + off, w->buf, len);
			if (rc == -EBUSY && op == TO_RDMA_ODP)
				odp_busy(w, op, pg * PG + off, NULL, len, false);
			else if (must(w, op, "remote_read", rc))
				check(w, tt_op_name[op], w->base + pg * PG + off,
				      w->shadow + pg * PG + off, w->buf, len);
		} else {
			fill_random(w, w->buf, len);
			rc = pinmm_rdma_remote_write(w->p, w->pd, rkey, iova + off, w->buf, len);
			if (rc == -EBUSY && op == TO_RDMA_ODP)
				odp_busy(w, op, pg * PG + off, w->buf, len, true);
			else if (must(w, op, "remote_write", rc))
				set_shadow(w, w->shadow, pg * PG + off, w->buf, len);
		}
	}
}

/* A pinned memory region, registered for a few operations only. */
static void op_rdma_mr(struct tt_worker *w)
{
	struct pinmm_rdma_mr_info mr;
	unsigned long pg, n;
	int rc;

	rand_pages(w, 16, &pg, &n);
	rc = pinmm_rdma_reg_mr(w->p, w->pd, w->base + pg * PG, n * PG, IB_ACCESS_LOCAL_WRITE |
			       IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_READ, &mr);
	tt_count(&w->st[TO_RDMA_MR], rc);
	if (rc < 0)
		return;
	rdma_traffic(w, TO_RDMA_MR, mr.rkey, mr.iova, pg, n);
	must(w, TO_RDMA_MR, "dereg_mr", pinmm_rdma_dereg_mr(w->p, w->pd, mr.lkey));
}

/* The long-lived on-demand-paging region over the whole anon region. */
static void op_rdma_odp(struct tt_worker *w)
{
	unsigned long pg, n;

	rand_pages(w, 16, &pg, &n);
	tt_count(&w->st[TO_RDMA_ODP], 0);
	rdma_traffic(w, TO_RDMA_ODP, w->odp_rkey, w->odp_iova + pg * PG, pg, n);
}

/* ---- set-up, dispatch, teardown ------------------------------------------ */

int tt_worker_setup(struct tt_worker *w)
{
	struct pinmm_rdma_mr_info mr;
	char path[64];
	long a;
	int rc;

	w->shadow = calloc(1, TT_REG_LEN);
	w->fshadow = calloc(1, TT_FILE_LEN);
	w->buf = malloc(TT_REG_LEN);
	w->buf2 = malloc(TT_REG_LEN);
	w->fd = w->dfd = w->pd = -1;
	if (!w->shadow || !w->fshadow || !w->buf || !w->buf2)
		return -ENOMEM;
	if ((rc = pinmm_proc_create(w->t->m, &w->p)) ||
	    (rc = pinmm_proc_set_rlimit_memlock(w->p, PINMM_RLIM_INFINITY)))
		return rc;
	w->base = 0x40000000UL + (unsigned long)w->id * 0x1000000UL;
	if ((rc = map_region(w)))
		return rc;
	snprintf(path, sizeof(path), "/data/t%d", w->id);
	if ((w->fd = pinmm_open(w->p, path, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0)
		return w->fd;
	if ((w->dfd = pinmm_open(w->p, path, O_RDWR | O_DIRECT, 0)) < 0)
		return w->dfd;
	if ((rc = pinmm_ftruncate(w->p, w->fd, (long)TT_FILE_LEN)))
		return rc;
	a = pinmm_mmap(w->p, 0, TT_FILE_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd, 0);
	if (a < 0)
		return (int)a;
	w->fbase = (unsigned long)a;
	if ((w->pd = pinmm_rdma_alloc_pd(w->p)) < 0)
		return w->pd;
	rc = pinmm_rdma_reg_mr(w->p, w->pd, w->base, TT_REG_LEN, IB_ACCESS_ON_DEMAND |
			       IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE |
			       IB_ACCESS_REMOTE_READ, &mr);
	if (rc)
		return rc;
	w->odp_lkey = mr.lkey;
	w->odp_rkey = mr.rkey;
	w->odp_iova = mr.iova;
	w->setup_ok = true;
	return 0;
}

/*
 * Weights: data movers often, whole-region resets rarely.  @counted: the
 * dispatcher counts the attempt (the others count what they really did:
 * unpin with no pin held, for example, is not an operation).
 */
static const struct {
	enum tt_op op;
	int weight;
	bool counted;
} mix[] = {
	{ TO_LOAD, 12, true }, { TO_STORE, 12, true }, { TO_FORK, 1, false },
	{ TO_GUP_FAST, 5, false }, { TO_GUP_SLOW, 4, false }, { TO_PIN_FAST, 5, false },
	{ TO_PIN_SLOW, 4, false }, { TO_PIN_LONG, 3, false }, { TO_DMA_WRITE, 5, false },
	{ TO_UNPIN, 3, false }, { TO_MUNMAP, 1, true }, { TO_MPROTECT, 2, true },
	{ TO_DONTNEED, 2, true }, { TO_PWRITE, 6, true }, { TO_PREAD, 6, true },
	{ TO_FMAP, 6, true }, { TO_TRUNCATE, 2, true }, { TO_PUNCH, 2, true },
	{ TO_FSYNC, 2, true }, { TO_DIO_READ, 3, true }, { TO_DIO_WRITE, 3, true },
	{ TO_RDMA_MR, 3, false }, { TO_RDMA_ODP, 4, false },
};

void tt_worker_op(struct tt_worker *w)
{
	int total = 0, r;
	size_t i;

	for (i = 0; i < sizeof(mix) / sizeof(mix[0]); i++)
		total += mix[i].weight;
	r = (int)tt_below(&w->rng, (unsigned long)total);
	for (i = 0; r >= mix[i].weight; i++)
		r -= mix[i].weight;
	tt_set(&w->cur_op, tt_op_name[mix[i].op]);
	if (mix[i].counted)
		tt_count(&w->st[mix[i].op], 0);
	switch (mix[i].op) {
	case TO_LOAD: op_load(w); break;
	case TO_STORE: op_store(w); break;
	case TO_FORK: op_fork(w); break;
	case TO_GUP_FAST: op_gup(w, true); break;
	case TO_GUP_SLOW: op_gup(w, false); break;
	case TO_PIN_FAST: op_pin_short(w, true); break;
	case TO_PIN_SLOW: op_pin_short(w, false); break;
	case TO_PIN_LONG: op_pin_long(w); break;
	case TO_DMA_WRITE: op_dma_write(w); break;
	case TO_UNPIN: op_unpin(w); break;
	case TO_MUNMAP: op_munmap(w); break;
	case TO_MPROTECT: op_mprotect(w); break;
	case TO_DONTNEED: op_dontneed(w); break;
	case TO_PWRITE: op_pwrite(w); break;
	case TO_PREAD: op_pread(w); break;
	case TO_FMAP: op_fmap(w); break;
	case TO_TRUNCATE: op_truncate(w); break;
	case TO_PUNCH: op_punch(w); break;
	case TO_FSYNC: op_fsync(w); break;
	case TO_DIO_READ: op_dio(w, PINMM_DIO_READ); break;
	case TO_DIO_WRITE: op_dio(w, PINMM_DIO_WRITE); break;
	case TO_RDMA_MR: op_rdma_mr(w); break;
	case TO_RDMA_ODP: op_rdma_odp(w); break;
	default: break;
	}
	tt_set(&w->cur_op, "between operations");
}

/* Check everything one last time, release every pin and exit the process. */
void tt_worker_teardown(struct tt_worker *w)
{
	if (w->p && w->setup_ok) {
		if (pinmm_load(w->p, w->base, w->buf, TT_REG_LEN) == (long)TT_REG_LEN)
			check(w, "final load", w->base, w->shadow, w->buf, TT_REG_LEN);
		else
			tt_violation(w->t, "thread %d: final load of the region failed", w->id);
		if (pinmm_pread(w->p, w->fd, w->buf, TT_FILE_LEN, 0) == (long)TT_FILE_LEN)
			check(w, "final pread", 0, w->fshadow, w->buf, TT_FILE_LEN);
		else
			tt_violation(w->t, "thread %d: final pread of the file failed", w->id);
	}
	while (w->nlpins)
		unpin_one(w, w->nlpins - 1);
	if (w->p) {
		if (w->pd >= 0) {
			if (w->setup_ok)
				pinmm_rdma_dereg_mr(w->p, w->pd, w->odp_lkey);
			if (pinmm_rdma_dealloc_pd(w->p, w->pd))
				tt_violation(w->t, "thread %d: dealloc_pd failed", w->id);
		}
		if (w->dfd >= 0)
			pinmm_close(w->p, w->dfd);
		if (w->fd >= 0)
			pinmm_close(w->p, w->fd);
		if (pinmm_exit(w->p))
			tt_violation(w->t, "thread %d: exit of its process failed", w->id);
		tt_set(&w->p, NULL);
	}
	free(w->shadow);
	free(w->fshadow);
	free(w->buf);
	free(w->buf2);
}
