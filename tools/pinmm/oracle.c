/* SPDX-License-Identifier: MIT */
/*
 * oracle.c - the data-integrity oracle (oracle.h): the shadow record of
 * what was written where, and the checker that classifies every word of a
 * file read back from the image.
 *
 * Word layout (64 bits):  magic:12 | kind:2 | file id:10 | page:16 | gen:24
 *
 * Per word found at (file F, page P), with the shadow page S:
 *   - equal to S.exp (the last acknowledged write, or 0 after a punch)  ok
 *   - zero where S.exp is not                                           lost
 *   - no magic                                                          misplaced
 *   - magic, but naming another (file, page) than S's tag               misplaced
 *   - right tag, generation newer than anything written here            misplaced
 *   - right tag, generation <= S.floor (zeroed by truncate/punch since) lost
 *   - right tag, generation older than S.exp's                          lost
 *   - right tag, between S.exp's and the newest written here            ok (unexpected)
 * A page whose right-tag words carry more than one generation is torn: the
 * write units are whole pages, so a mix is half of one and half of another;
 * its torn bytes are the words not of the newest generation in it.
 *
 * A write acknowledged to its writer but not expected to persist because
 * the page was truncated or punched after the writer got hold of it (and
 * not dropped by a fence) landed in an orphaned page: it is counted per
 * file (orphan_writes) and reported, not excused.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"

#define MAGIC		0xA5CULL
#define W_MAGIC(w)	((w) >> 52)
#define W_KIND(w)	((unsigned)(((w) >> 50) & 0x3))
#define W_FID(w)	((int)(((w) >> 40) & 0x3ff))
#define W_PAGE(w)	((unsigned long)(((w) >> 24) & 0xffff))
#define W_GEN(w)	((uint32_t)((w) & 0xffffff))
#define TAG(fid, pg)	(((uint32_t)(fid) << 16) | (uint32_t)((pg) & 0xffff))
#define W_TAG(w)	TAG(W_FID(w), W_PAGE(w))
#define PENDING		UINT64_MAX
#define WORDS		(ORACLE_PAGE / 8)

struct shadow_page {
	uint64_t exp;		/* every word of the page should be this (0: zeros) */
	uint32_t tag;		/* the (file, page) its data describes */
	uint32_t floor;		/* generations <= floor were zeroed since */
	uint32_t max;		/* newest generation any write put here */
	uint64_t evt_epoch;	/* end epoch of the last layout change, PENDING */
};

struct shadow_file {
	char path[128];
	int fid;
	unsigned long npages;	/* expected size */
	long orphan_writes;	/* acknowledged writes into pages the file had cut */
	unsigned long cap;
	struct shadow_page *pg;
};

struct oracle {
	pthread_mutex_t lock;
	struct shadow_file files[ORACLE_MAX_FILES];
	int nfiles;
	uint32_t gen;
	uint64_t epoch;
};

struct oracle *oracle_new(void)
{
	struct oracle *o = calloc(1, sizeof(*o));

	if (o)
		pthread_mutex_init(&o->lock, NULL);
	return o;
}

void oracle_free(struct oracle *o)
{
	if (!o)
		return;
	for (int i = 0; i < o->nfiles; i++)
		free(o->files[i].pg);
	pthread_mutex_destroy(&o->lock);
	free(o);
}

static struct shadow_file *file_of(struct oracle *o, int fid)
{
	return fid >= 1 && fid <= o->nfiles ? &o->files[fid - 1] : NULL;
}

/* Make page @page exist in the shadow (not in the expected size). */
static struct shadow_page *page_of(struct shadow_file *f, unsigned long page)
{
	if (page >= f->cap) {
		unsigned long cap = f->cap ? f->cap : 64;
		struct shadow_page *n;

		while (cap <= page)
			cap *= 2;
		n = realloc(f->pg, cap * sizeof(*n));
		if (!n)
			return NULL;
		for (unsigned long i = f->cap; i < cap; i++)
			n[i] = (struct shadow_page){ .tag = TAG(f->fid, i) };
		f->pg = n;
		f->cap = cap;
	}
	return &f->pg[page];
}

int oracle_add_file(struct oracle *o, const char *path)
{
	struct shadow_file *f;
	int fid;

	pthread_mutex_lock(&o->lock);
	if (o->nfiles == ORACLE_MAX_FILES) {
		pthread_mutex_unlock(&o->lock);
		return -ENOSPC;
	}
	fid = ++o->nfiles;
	f = &o->files[fid - 1];
	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->fid = fid;
	pthread_mutex_unlock(&o->lock);
	return fid;
}

void oracle_set_tag(struct oracle *o, int fid, unsigned long page, int tag_fid,
		    unsigned long tag_page)
{
	struct shadow_file *f = file_of(o, fid);
	struct shadow_page *s;

	pthread_mutex_lock(&o->lock);
	if (f && (s = page_of(f, page)))
		s->tag = TAG(tag_fid, tag_page);
	pthread_mutex_unlock(&o->lock);
}

uint32_t oracle_next_gen(struct oracle *o)
{
	return __atomic_add_fetch(&o->gen, 1, __ATOMIC_RELAXED) & 0xffffff;
}

uint64_t oracle_epoch(struct oracle *o)
{
	return __atomic_load_n(&o->epoch, __ATOMIC_ACQUIRE);
}

uint64_t oracle_word(enum oracle_kind kind, int fid, unsigned long page, uint32_t gen)
{
	return MAGIC << 52 | (uint64_t)(kind & 3) << 50 | (uint64_t)(fid & 0x3ff) << 40 |
	       (uint64_t)(page & 0xffff) << 24 | (gen & 0xffffff);
}

uint64_t oracle_word_for(struct oracle *o, int fid, unsigned long page,
			 enum oracle_kind kind, uint32_t gen)
{
	struct shadow_file *f = file_of(o, fid);
	struct shadow_page *s;
	uint32_t tag = TAG(fid, page);

	pthread_mutex_lock(&o->lock);
	if (f && (s = page_of(f, page)))
		tag = s->tag;
	pthread_mutex_unlock(&o->lock);
	return oracle_word(kind, (int)(tag >> 16), tag & 0xffff, gen);
}

void oracle_fill(void *buf, size_t len, uint64_t word)
{
	uint64_t *w = buf;

	for (size_t i = 0; i < len / 8; i++)
		w[i] = word;
}

void oracle_wrote(struct oracle *o, int fid, unsigned long page, uint64_t word,
		  uint64_t pin_epoch, unsigned int flags)
{
	struct shadow_file *f = file_of(o, fid);
	struct shadow_page *s;
	bool expected;

	pthread_mutex_lock(&o->lock);
	if (!f || !(s = page_of(f, page))) {
		pthread_mutex_unlock(&o->lock);
		return;
	}
	if (W_GEN(word) > s->max)
		s->max = W_GEN(word);
	expected = !(flags & ORACLE_DROPPED) &&
		   (pin_epoch == ORACLE_NOW || s->evt_epoch == 0 ||
		    (s->evt_epoch != PENDING && pin_epoch >= s->evt_epoch)) &&
		   (pin_epoch == ORACLE_NOW || page < f->npages);
	/*
	 * Acknowledged, yet the page it reached is no longer the file's: a
	 * cut or punch of it began and ended after the writer got hold of
	 * it, before the write was acknowledged: an orphaned page.
	 */
	if (!(flags & ORACLE_DROPPED) && pin_epoch != ORACLE_NOW && s->evt_epoch &&
	    s->evt_epoch != PENDING && pin_epoch < s->evt_epoch)
		f->orphan_writes++;
	if (expected && (!s->exp || W_GEN(word) >= W_GEN(s->exp))) {
		s->exp = word;
		if (page >= f->npages)
			f->npages = page + 1;	/* a write extends the file */
	}
	pthread_mutex_unlock(&o->lock);
}

void oracle_layout_begin(struct oracle *o, int fid, unsigned long first, unsigned long n,
			 long new_npages)
{
	struct shadow_file *f = file_of(o, fid);
	uint32_t floor = __atomic_load_n(&o->gen, __ATOMIC_RELAXED) & 0xffffff;
	unsigned long end = first + n;

	pthread_mutex_lock(&o->lock);
	if (!f) {
		pthread_mutex_unlock(&o->lock);
		return;
	}
	o->epoch++;
	if (new_npages >= 0 && (unsigned long)new_npages < f->npages && end < f->npages)
		end = f->npages;
	for (unsigned long i = first; i < end; i++) {
		struct shadow_page *s = page_of(f, i);

		if (!s)
			break;
		s->exp = 0;
		s->floor = floor;
		s->evt_epoch = PENDING;
	}
	if (new_npages >= 0)
		f->npages = (unsigned long)new_npages;
	pthread_mutex_unlock(&o->lock);
}

void oracle_layout_end(struct oracle *o, int fid, unsigned long first, unsigned long n)
{
	struct shadow_file *f = file_of(o, fid);

	pthread_mutex_lock(&o->lock);
	if (f) {
		o->epoch++;
		for (unsigned long i = first; i < f->cap; i++)
			if (f->pg[i].evt_epoch == PENDING && (i < first + n || i >= f->npages))
				f->pg[i].evt_epoch = o->epoch;
	}
	pthread_mutex_unlock(&o->lock);
}

unsigned long oracle_npages(struct oracle *o, int fid)
{
	struct shadow_file *f = file_of(o, fid);

	return f ? f->npages : 0;
}

const char *oracle_path(struct oracle *o, int fid)
{
	struct shadow_file *f = file_of(o, fid);

	return f ? f->path : NULL;
}

/* ---- the checker ------------------------------------------------------------ */

static void problem(struct oracle_report *r, const struct shadow_file *f, unsigned long page,
		    const char *what, uint64_t found, uint64_t exp)
{
	static const char *const kinds[] = { "?", "cpu", "dio", "device" };

	if (r->nproblems >= (int)(sizeof(r->problems) / sizeof(r->problems[0])))
		return;
	snprintf(r->problems[r->nproblems++], sizeof(r->problems[0]),
		 "%.60s page %lu: %s (found %s file %d page %lu gen %u; expected %s gen %u)",
		 f->path, page, what, W_MAGIC(found) == MAGIC ? kinds[W_KIND(found)] : "raw",
		 W_FID(found), W_PAGE(found), W_GEN(found), exp ? kinds[W_KIND(exp)] : "zeros",
		 W_GEN(exp));
}

enum verdict { V_OK, V_LOST, V_MISPLACED, V_UNEXPECTED };

static enum verdict classify(const struct shadow_page *s, uint64_t w)
{
	if (w == s->exp)
		return V_OK;
	if (!w)
		return V_LOST;
	if (W_MAGIC(w) != MAGIC || W_TAG(w) != s->tag || W_GEN(w) > s->max)
		return V_MISPLACED;
	if (W_GEN(w) <= s->floor || (s->exp && W_GEN(w) < W_GEN(s->exp)))
		return V_LOST;
	return V_UNEXPECTED;
}

static void check_page(const struct shadow_file *f, unsigned long page,
		       const struct shadow_page *s, const uint64_t *w, struct oracle_report *r)
{
	long lost = 0, mis = 0, unexp = 0, torn = 0;
	uint32_t newest = 0, oldest = UINT32_MAX;
	uint64_t first_bad = 0;

	for (size_t i = 0; i < WORDS; i++) {
		enum verdict v = classify(s, w[i]);

		if (v != V_OK && !first_bad)
			first_bad = w[i] ? w[i] : 1;
		lost += v == V_LOST;
		mis += v == V_MISPLACED;
		unexp += v == V_UNEXPECTED;
		if (w[i] && W_MAGIC(w[i]) == MAGIC && W_TAG(w[i]) == s->tag) {
			if (W_GEN(w[i]) > newest)
				newest = W_GEN(w[i]);
			if (W_GEN(w[i]) < oldest)
				oldest = W_GEN(w[i]);
		}
	}
	if (newest && oldest != newest) {
		for (size_t i = 0; i < WORDS; i++)
			torn += w[i] && W_MAGIC(w[i]) == MAGIC && W_TAG(w[i]) == s->tag &&
				W_GEN(w[i]) != newest;
		r->torn_pages++;
		r->torn_bytes += torn * 8;
		problem(r, f, page, "torn", first_bad == 1 ? 0 : first_bad, s->exp);
	}
	r->pages++;
	r->bytes += ORACLE_PAGE;
	r->unexpected_bytes += unexp * 8;
	if (lost) {
		r->lost_pages++;
		r->lost_bytes += lost * 8;
		if (!(newest && oldest != newest))
			problem(r, f, page, "lost", first_bad == 1 ? 0 : first_bad, s->exp);
	}
	if (mis) {
		r->misplaced_pages++;
		r->misplaced_bytes += mis * 8;
		problem(r, f, page, "misplaced", first_bad == 1 ? 0 : first_bad, s->exp);
	}
}

void oracle_check_buf(struct oracle *o, int fid, const void *data, size_t size,
		      struct oracle_report *r)
{
	struct shadow_file *f = file_of(o, fid);
	uint64_t *page = malloc(ORACLE_PAGE);
	unsigned long npages;

	if (!f || !page) {
		r->read_errors++;
		free(page);
		return;
	}
	pthread_mutex_lock(&o->lock);
	r->orphan_writes += f->orphan_writes;
	r->orphan_bytes += f->orphan_writes * (long)ORACLE_PAGE;
	npages = (size + ORACLE_PAGE - 1) / ORACLE_PAGE;
	if (f->npages > npages)
		npages = f->npages;
	for (unsigned long i = 0; i < npages; i++) {
		size_t off = i * ORACLE_PAGE, n = 0;
		struct shadow_page zero = { .tag = TAG(fid, i) }, *s = &zero;

		if (off < size)
			n = size - off < ORACLE_PAGE ? size - off : ORACLE_PAGE;
		memset(page, 0, ORACLE_PAGE);
		memcpy(page, (const char *)data + off, n);
		if (i < f->cap) {
			s = &f->pg[i];
			if (i >= f->npages) {	/* past the expected end: zeros */
				zero = *s;
				zero.exp = 0;
				s = &zero;
			}
		}
		check_page(f, i, s, page, r);
	}
	pthread_mutex_unlock(&o->lock);
	free(page);
}

int oracle_check(struct oracle *o, struct pinmm_proc *p, struct oracle_report *r)
{
	int rc = 0;

	for (int fid = 1; fid <= o->nfiles; fid++) {
		const char *path = o->files[fid - 1].path;
		int fd = pinmm_open(p, path, O_RDONLY, 0);
		long size;
		char *buf;

		r->files++;
		if (fd < 0) {
			r->read_errors++;
			rc = fd;
			continue;
		}
		size = pinmm_fstat_size(p, fd);
		buf = size > 0 ? malloc((size_t)size) : NULL;
		if (size > 0 && buf) {
			long got = 0;

			while (got < size) {
				size_t chunk = size - got > (1L << 20) ? (1UL << 20) : (size_t)(size - got);
				long n = pinmm_pread(p, fd, buf + got, chunk, got);

				if (n <= 0) {
					r->read_errors++;
					rc = n < 0 ? (int)n : -EIO;
					break;
				}
				got += n;
			}
			oracle_check_buf(o, fid, buf, (size_t)got, r);
		} else if (size == 0) {
			oracle_check_buf(o, fid, "", 0, r);
		} else {
			r->read_errors++;
			rc = size < 0 ? (int)size : -ENOMEM;
		}
		free(buf);
		pinmm_close(p, fd);
	}
	return rc;
}

void oracle_report_print(FILE *f, const struct oracle_report *r, const char *indent)
{
	fprintf(f, "%soracle: %ld files, %ld pages: lost %ld B (%ld pages), torn %ld pages "
		"(%ld B), misplaced %ld B (%ld pages), unexpected-but-present %ld B, "
		"acknowledged into orphaned pages %ld writes (%ld B)%s\n",
		indent, r->files, r->pages, r->lost_bytes, r->lost_pages, r->torn_pages,
		r->torn_bytes, r->misplaced_bytes, r->misplaced_pages, r->unexpected_bytes,
		r->orphan_writes, r->orphan_bytes, r->read_errors ? ", READ ERRORS" : "");
	for (int i = 0; i < r->nproblems; i++)
		fprintf(f, "%s  %s\n", indent, r->problems[i]);
}

/* ---- self-test ---------------------------------------------------------------- */

static int expect(FILE *out, const char *what, long got, long want)
{
	if (got == want)
		return 0;
	fprintf(out, "oracle selftest: %s: got %ld, want %ld\n", what, got, want);
	return 1;
}

/*
 * File A (8 pages) and B (2 pages); A's image state has: page 0 right,
 * page 1 an older generation (lost), page 2 zeros where a write was acked
 * (lost), page 3 B's data (misplaced), page 4 half old, half new (torn,
 * and the old half lost), page 5 punched and then written by a pinned
 * device (not expected; present: fine), page 6 punched but still holding
 * pre-punch data (lost), page 7 bytes of no writer (misplaced).  A
 * dropped (fenced) write of A's page 0 found in B is misplaced.
 */
int oracle_selftest(FILE *out)
{
	struct oracle *o = oracle_new();
	struct oracle_report r = { 0 }, rb = { 0 };
	uint64_t *img = calloc(8, ORACLE_PAGE), *bimg = calloc(2, ORACLE_PAGE);
	uint64_t w[8], old1, old4, pre6, b0, fenced;
	uint64_t pin;
	int a, b, bad = 0;

	if (!o || !img || !bimg) {
		oracle_free(o);
		free(img);
		free(bimg);
		return 1;
	}
	a = oracle_add_file(o, "/data/a");
	b = oracle_add_file(o, "/data/b");
	pin = oracle_epoch(o);			/* a device pins A now */
	for (unsigned long i = 0; i < 8; i++) {
		w[i] = oracle_word(ORACLE_CPU, a, i, oracle_next_gen(o));
		oracle_wrote(o, a, i, w[i], ORACLE_NOW, 0);
	}
	b0 = oracle_word(ORACLE_CPU, b, 0, oracle_next_gen(o));
	oracle_wrote(o, b, 0, b0, ORACLE_NOW, 0);
	oracle_wrote(o, b, 1, oracle_word(ORACLE_CPU, b, 1, oracle_next_gen(o)), ORACLE_NOW, 0);
	old1 = w[1];
	w[1] = oracle_word(ORACLE_DIO, a, 1, oracle_next_gen(o));
	oracle_wrote(o, a, 1, w[1], ORACLE_NOW, 0);
	w[2] = oracle_word(ORACLE_DEVICE, a, 2, oracle_next_gen(o));
	oracle_wrote(o, a, 2, w[2], pin, 0);
	old4 = w[4];
	w[4] = oracle_word(ORACLE_DEVICE, a, 4, oracle_next_gen(o));
	oracle_wrote(o, a, 4, w[4], pin, 0);
	pre6 = w[6];
	oracle_layout_begin(o, a, 5, 2, -1);	/* punch pages 5 and 6 */
	oracle_layout_end(o, a, 5, 2);
	w[5] = oracle_word(ORACLE_DEVICE, a, 5, oracle_next_gen(o));
	oracle_wrote(o, a, 5, w[5], pin, 0);	/* into the orphaned page */
	fenced = oracle_word(ORACLE_DEVICE, a, 0, oracle_next_gen(o));
	oracle_wrote(o, a, 0, fenced, pin, ORACLE_DROPPED);

	oracle_fill(img, ORACLE_PAGE, w[0]);
	oracle_fill(img + 1 * WORDS, ORACLE_PAGE, old1);
	/* page 2: zeros */
	oracle_fill(img + 3 * WORDS, ORACLE_PAGE, b0);
	oracle_fill(img + 4 * WORDS, ORACLE_PAGE / 2, old4);
	oracle_fill(img + 4 * WORDS + WORDS / 2, ORACLE_PAGE / 2, w[4]);
	oracle_fill(img + 5 * WORDS, ORACLE_PAGE, w[5]);
	oracle_fill(img + 6 * WORDS, ORACLE_PAGE, pre6);
	memset(img + 7 * WORDS, 0x5a, ORACLE_PAGE);
	oracle_check_buf(o, a, img, 8 * ORACLE_PAGE, &r);

	oracle_fill(bimg, ORACLE_PAGE, b0);
	oracle_fill(bimg + WORDS, ORACLE_PAGE, fenced);
	oracle_check_buf(o, b, bimg, 2 * ORACLE_PAGE, &rb);

	bad |= expect(out, "A pages", r.pages, 8);
	bad |= expect(out, "A lost pages (1, 2, 4, 6)", r.lost_pages, 4);
	bad |= expect(out, "A lost bytes", r.lost_bytes, 3 * 4096 + 2048);
	bad |= expect(out, "A torn pages", r.torn_pages, 1);
	bad |= expect(out, "A torn bytes", r.torn_bytes, 2048);
	bad |= expect(out, "A misplaced pages (3, 7)", r.misplaced_pages, 2);
	bad |= expect(out, "A misplaced bytes", r.misplaced_bytes, 2 * 4096);
	bad |= expect(out, "A unexpected bytes (page 5)", r.unexpected_bytes, 4096);
	bad |= expect(out, "A acknowledged writes into orphaned pages (page 5)",
		      r.orphan_writes, 1);
	bad |= expect(out, "A orphaned bytes", r.orphan_bytes, 4096);
	bad |= expect(out, "B orphaned writes (the fenced one was dropped)", rb.orphan_writes, 0);
	bad |= expect(out, "B lost", rb.lost_bytes, 0);
	bad |= expect(out, "B misplaced (the fenced write)", rb.misplaced_bytes, 4096);
	bad |= expect(out, "B torn", rb.torn_pages, 0);

	/* Truncate: pages past the new end expect zeros, or a short file. */
	memset(&r, 0, sizeof(r));
	oracle_layout_begin(o, a, 6, 0, 6);
	oracle_layout_end(o, a, 6, 0);
	oracle_check_buf(o, a, img, 6 * ORACLE_PAGE, &r);
	bad |= expect(out, "truncated A pages", r.pages, 6);
	memset(&r, 0, sizeof(r));
	oracle_fill(img + 6 * WORDS, ORACLE_PAGE, w[6]);
	oracle_check_buf(o, a, img, 7 * ORACLE_PAGE, &r);
	bad |= expect(out, "A page past the end: stale data is lost", r.lost_pages, 4);
	memset(&r, 0, sizeof(r));
	oracle_check_buf(o, a, img, 5 * ORACLE_PAGE, &r);	/* short read */
	bad |= expect(out, "A short file: page 5 missing but not expected", r.lost_pages, 3);
	if (out && !bad)
		fprintf(out, "oracle selftest: ok (lost, torn, misplaced, unexpected, "
			"orphaned, truncate, short file)\n");
	oracle_free(o);
	free(img);
	free(bimg);
	return bad;
}
