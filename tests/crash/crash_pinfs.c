/* SPDX-License-Identifier: MIT */
/*
 * crash_pinfs.c - pinfs crash consistency (doc/PINFS.md, "Crash
 * consistency"): a power cut at every image write of a workload.
 *
 * The workload (create, write, fsync, truncate, punch, fallocate with
 * collapse and insert, unlink, sync over five files, one with an indirect
 * block, on a 1 MiB image that a filler file mostly occupies, so that
 * freed blocks are soon reused) is
 * first run whole to count its image block writes N.  Then, for k = 1 ..
 * N, it runs again with power lost at write k (pinfs_power_cut(): writes
 * k, k+1, ... never reach the image, as with dm-flakey's drop_writes), and
 * in a second pass with write k torn (only its first 512*j bytes land).
 * The cut is armed after the filler is on disk; the unmount's own writes
 * are counted, so the last cuts fall in it.
 *
 * While it runs, the harness keeps a model: every write's bytes (a
 * pattern unique to the operation and the offset), every size the file
 * had, and each acknowledgement - fsync() or pinmm_sync() returning 0 -
 * with the count of image writes at its return.  An acknowledgement counts
 * if it returned before write k.  After the cut:
 *   1. fsck without repair (its problems are counted: a cut image may need
 *      repair), then `fsck --repair`, then fsck again: it must be clean;
 *   2. every in-use inode of the image has a name of the workload;
 *   3. the image mounts; each acknowledged file exists (unless unlinked
 *      before the cut), its size is one it had - the acknowledged size if
 *      no later operation changed the size - and every acknowledged byte
 *      that no later operation touched reads back exactly;
 *   4. every byte of every file is 0 or a byte some write put at that
 *      offset of that file: never another file's data or stale blocks.
 *
 * A third pass models a volatile write cache: at each cut, the writes
 * issued since the last flush are recorded (pinfs_power_cut_cache()) and
 * the image is rebuilt with subsets of them lost (pinfs_power_cut_apply()),
 * every subset of up to 4 such writes, else 8 seeded random subsets; each
 * image is checked as above.
 *
 * Usage: crash_pinfs [--long]  (--long tears each write at 7 offsets and
 * tries every subset of up to 8 cached writes, else 64 random ones)
 * Prints TAP.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pinmm/pinmm.h>
#include <pinmm/linux.h>
#include <pinmm/pinfs.h>
#include "pinfs.h"

#define NFILES		5
#define MAXSZ		(96 * 1024)
#define MAXOPS		64
#define MAXSIZES	64
#define MAXACKS		32
#define FILLER_BLOCKS	212
#define MAXFILLER	(FILLER_BLOCKS * 4096)

enum op_kind { OP_CREATE, OP_WRITE, OP_TRUNC, OP_PUNCH, OP_FALLOC, OP_SHIFT, OP_UNLINK };
#define MAXDELTAS	16

struct op {
	int file;
	enum op_kind kind;
	long lo, hi;		/* bytes touched: [lo, hi) */
	long w_start;		/* image writes before the call */
	bool size_changed;
};

struct ack {
	int file;
	long w_ret;		/* image writes when it returned */
	int nops;		/* operations before it */
	long size;
	unsigned char *data;
};

struct fmodel {
	const char *name;
	int fd;
	long size;
	long cap;		/* bytes the model holds */
	unsigned char *cur;
	uint64_t *wmask;	/* bit j: write op j put its pattern here */
	long sizes[MAXSIZES];
	int nsizes;
	bool unlinked;
};

static struct model {
	struct fmodel f[NFILES];
	struct op ops[MAXOPS];
	int nops;
	struct ack acks[MAXACKS];
	int nacks;
	int nwrites;		/* write ops so far (pattern ids) */
	long deltas[MAXDELTAS];	/* a byte at i may be a write's byte for i + delta */
	int ndeltas;
	const char *failed;	/* a workload call that failed before the cut */
} M;

static const char *const names[NFILES] = { "filler", "a", "b", "c", "d" };
static char img[256], base_img[256];

/* Copy the image file @from over @to. */
static int copy_file(const char *from, const char *to)
{
	static char buf[1 << 16];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	long n = 0;

	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return in < 0 || out < 0 || n < 0 ? -1 : 0;
}
static struct pinmm_proc *proc;

static unsigned char pattern(int wop, long i)
{
	return (unsigned char)(1 + (wop * 37 + i / 16) % 255);
}

static void add_size(struct fmodel *f)
{
	for (int i = 0; i < f->nsizes; i++)
		if (f->sizes[i] == f->size)
			return;
	if (f->nsizes < MAXSIZES)
		f->sizes[f->nsizes++] = f->size;
}

static void model_reset(void)
{
	struct fmodel keep[NFILES];

	for (int i = 0; i < M.nacks; i++)
		free(M.acks[i].data);
	memcpy(keep, M.f, sizeof(keep));
	memset(&M, 0, sizeof(M));
	for (int i = 0; i < NFILES; i++) {
		struct fmodel *f = &M.f[i];

		f->cap = i ? MAXSZ : MAXFILLER;
		f->cur = keep[i].cur ? keep[i].cur : malloc((size_t)f->cap);
		f->wmask = keep[i].wmask ? keep[i].wmask : malloc((size_t)f->cap * 8);
		if (!f->cur || !f->wmask) {
			perror("crash_pinfs: malloc");
			exit(2);
		}
		memset(f->cur, 0, (size_t)f->cap);
		memset(f->wmask, 0, (size_t)f->cap * 8);
		M.f[i].name = names[i];
		M.f[i].fd = -1;
		add_size(&M.f[i]);
	}
	M.ndeltas = 1;		/* deltas[0] = 0: the offset it was written at */
}

static struct op *op_begin(int file, enum op_kind kind, long lo, long hi)
{
	struct op *o = &M.ops[M.nops++];

	o->file = file;
	o->kind = kind;
	o->lo = lo;
	o->hi = hi;
	o->w_start = pinfs_image_writes();
	return o;
}

/* A failed call is a finding only before the cut (armed at @cut). */
static void call_failed(const char *what, long rc, long cut)
{
	if (!M.failed && (!cut || pinfs_image_writes() < cut)) {
		static char why[128];

		snprintf(why, sizeof(why), "%s returned %s before the cut", what,
			 pinmm_strerror((int)rc));
		M.failed = why;
	}
}

static void do_open(int fi, long cut)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/data/%s", names[fi]);
	op_begin(fi, OP_CREATE, 0, 0);
	fd = pinmm_open(proc, path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		call_failed("open", fd, cut);
	M.f[fi].fd = fd;
}

static void do_write(int fi, long off, long len, long cut)
{
	struct fmodel *f = &M.f[fi];
	int wop = M.nwrites++;
	unsigned char *buf = malloc((size_t)len);
	struct op *o = op_begin(fi, OP_WRITE, off, off + len);
	long rc;

	for (long i = 0; i < len; i++) {
		buf[i] = pattern(wop, off + i);
		f->wmask[off + i] |= 1ull << wop;
	}
	rc = pinmm_pwrite(proc, f->fd, buf, (size_t)len, off);
	if (rc != len)
		call_failed("pwrite", rc < 0 ? rc : -EIO, cut);
	memcpy(f->cur + off, buf, (size_t)len);
	if (off + len > f->size) {
		f->size = off + len;
		o->size_changed = true;
		add_size(f);
	}
	free(buf);
}

static void do_truncate(int fi, long size, long cut)
{
	struct fmodel *f = &M.f[fi];
	struct op *o = op_begin(fi, OP_TRUNC, size, MAXSZ);
	int rc = pinmm_ftruncate(proc, f->fd, size);

	if (rc)
		call_failed("ftruncate", rc, cut);
	if (size < f->size)
		memset(f->cur + size, 0, (size_t)(f->size - size));
	o->size_changed = size != f->size;
	f->size = size;
	add_size(f);
}

static void do_fallocate(int fi, int mode, long off, long len, long cut)
{
	struct fmodel *f = &M.f[fi];
	bool punch = mode & FALLOC_FL_PUNCH_HOLE;
	struct op *o = op_begin(fi, punch ? OP_PUNCH : OP_FALLOC, off, punch ? off + len : off);
	int rc = pinmm_fallocate(proc, f->fd, mode, off, len);

	if (rc)
		call_failed("fallocate", rc, cut);
	if (punch) {
		long end = off + len < f->size ? off + len : f->size;

		if (end > off)
			memset(f->cur + off, 0, (size_t)(end - off));
	} else if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > f->size) {
		f->size = off + len;
		o->size_changed = true;
		add_size(f);
	}
}

/*
 * fallocate collapse (@collapse) or insert of [@off, @off + @len): the
 * model moves the bytes; until a later ack, a cut image may hold the file
 * before or after the move, so each byte from @off on may be a write's byte
 * of either place (wmask of both, and the delta in M.deltas).
 */
static void do_shift(int fi, bool collapse, long off, long len, long cut)
{
	struct fmodel *f = &M.f[fi];
	struct op *o = op_begin(fi, OP_SHIFT, off, f->cap);
	long old = f->size, d = collapse ? len : -len;
	int rc = pinmm_fallocate(proc, f->fd, collapse ? FALLOC_FL_COLLAPSE_RANGE :
				 FALLOC_FL_INSERT_RANGE, off, len);
	int nd = M.ndeltas;

	if (rc)
		call_failed(collapse ? "fallocate collapse" : "fallocate insert", rc, cut);
	if (collapse) {
		memmove(f->cur + off, f->cur + off + len, (size_t)(old - off - len));
		memset(f->cur + old - len, 0, (size_t)len);
		for (long i = off; i + len < f->cap; i++)
			f->wmask[i] |= f->wmask[i + len];
		f->size = old - len;
	} else {
		memmove(f->cur + off + len, f->cur + off, (size_t)(old - off));
		memset(f->cur + off, 0, (size_t)len);
		for (long i = f->cap - 1; i >= off + len; i--)
			f->wmask[i] |= f->wmask[i - len];
		f->size = old + len;
	}
	for (int k = 0; k < nd && M.ndeltas < MAXDELTAS; k++)
		M.deltas[M.ndeltas++] = M.deltas[k] + d;
	o->size_changed = true;
	add_size(f);
}

static void record_ack(int fi)
{
	struct ack *a = &M.acks[M.nacks++];
	struct fmodel *f = &M.f[fi];

	a->file = fi;
	a->w_ret = pinfs_image_writes();
	a->nops = M.nops;
	a->size = f->size;
	a->data = malloc((size_t)f->size + 1);
	memcpy(a->data, f->cur, (size_t)f->size);
}

static void do_fsync(int fi, long cut)
{
	int rc = pinmm_fsync(proc, M.f[fi].fd);

	if (rc)
		call_failed("fsync", rc, cut);
	else
		record_ack(fi);
}

static void do_sync(struct pinmm *m, long cut)
{
	int rc = pinmm_sync(m);

	if (rc) {
		call_failed("sync", rc, cut);
		return;
	}
	for (int i = 0; i < NFILES; i++)
		if (M.f[i].fd >= 0 && !M.f[i].unlinked)
			record_ack(i);
}

static void do_unlink(int fi, long cut)
{
	char path[64];
	int rc;

	snprintf(path, sizeof(path), "/data/%s", names[fi]);
	op_begin(fi, OP_UNLINK, 0, MAXSZ);
	rc = pinmm_unlink(proc, path);
	if (rc)
		call_failed("unlink", rc, cut);
	M.f[fi].unlinked = true;
}

static void do_close(int fi)
{
	if (M.f[fi].fd >= 0)
		pinmm_close(proc, M.f[fi].fd);
	M.f[fi].fd = -1;
}

static int boot_image(struct pinmm **m)
{
	struct pinmm_config cfg;

	pinmm_config_default(&cfg);
	pinmm_config_set(&cfg, "ram", "64M");
	pinmm_config_set(&cfg, "quiet", "1");
	pinmm_config_set(&cfg, "pinfs.size", "1M");
	pinmm_config_set(&cfg, "writeback.interval_ms", "0");	/* no flusher: one order */
	pinmm_config_set(&cfg, "pinfs.image", img);
	return pinmm_boot(&cfg, m);
}

/*
 * One run: a fresh image, the filler, then the cut armed at @cut (0: count
 * only) with @tear bytes, the workload and the unmount.  Return the image
 * writes counted; -1 if setup failed.
 */
static long run_workload(long cut, unsigned int tear)
{
	struct pinmm *m;
	long writes;

	model_reset();
	unlink(img);
	pinfs_power_cut(0, 0);
	if (boot_image(&m))
		return -1;
	if (pinmm_proc_create(m, &proc)) {
		pinmm_shutdown(m);
		return -1;
	}
	pinmm_set_current(proc);
	/* setup, before the cut is armed: most of the image is taken */
	do_open(0, 0);
	do_fallocate(0, 0, 0, FILLER_BLOCKS * 4096L, 0);
	do_fsync(0, 0);
	do_close(0);
	if (M.failed) {
		printf("# setup: %s\n", M.failed);
		pinmm_shutdown(m);
		return -1;
	}
	model_reset();
	M.f[0].size = FILLER_BLOCKS * 4096L;	/* filler: zeroes, acknowledged */
	add_size(&M.f[0]);
	pinfs_power_cut(cut, tear);
	record_ack(0);
	M.acks[0].w_ret = 0;

	do_open(1, cut);
	do_write(1, 0, 20 * 1024, cut);
	do_fsync(1, cut);
	do_open(2, cut);
	do_write(2, 0, 60 * 1024, cut);		/* 15 blocks: an indirect block */
	do_truncate(1, 6000, cut);		/* frees 3 blocks, zeroes a tail */
	do_write(2, 60 * 1024, 20 * 1024, cut);	/* reuses them */
	do_fsync(2, cut);
	do_fallocate(2, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 8 * 1024 + 100,
		     16 * 1024, cut);
	do_write(1, 6000, 4000, cut);
	do_open(3, cut);
	do_fallocate(3, 0, 0, 16 * 1024, cut);
	do_write(3, 4096, 2048, cut);
	do_fsync(3, cut);
	do_unlink(1, cut);
	do_close(1);				/* last reference: blocks freed */
	do_open(4, cut);
	do_write(4, 0, 40 * 1024, cut);		/* reuses a's blocks */
	do_fsync(4, cut);
	do_sync(m, cut);
	do_truncate(2, 10000, cut);
	do_write(2, 12 * 1024, 4096, cut);
	do_fallocate(3, FALLOC_FL_KEEP_SIZE, 16 * 1024, 16 * 1024, cut);
	do_fsync(2, cut);
	do_write(3, 0, 4096, cut);
	do_write(4, 36 * 1024, 8 * 1024, cut);
	do_fsync(3, cut);
	do_shift(4, true, 8 * 1024, 8 * 1024, cut);	/* 44K -> 36K, blocks move down */
	do_fsync(4, cut);
	do_shift(4, false, 4 * 1024, 16 * 1024, cut);	/* 52K: into the indirect block */
	do_shift(2, false, 0, 4 * 1024, cut);
	do_fsync(4, cut);
	do_sync(m, cut);
	for (int i = 0; i < NFILES; i++)
		do_close(i);
	pinmm_shutdown(m);			/* the unmount's writes count too */
	writes = pinfs_image_writes();
	pinfs_power_cut(0, 0);
	return writes;
}

/* ---- checking a cut image ------------------------------------------------- */

static char why[512];

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
	va_list ap;

	if (why[0])
		return 1;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return 1;
}

/* Every in-use inode of the image carries a name of the workload. */
static int check_names(void)
{
	uint8_t sb[PINFS_BLOCK_SIZE];
	struct pinfs_dsuper ds;
	struct pinfs_dinode d;
	uint8_t *itab;
	int fd = open(img, O_RDONLY), bad = 0;

	if (fd < 0 || pinfs_read_raw(fd, sb, 0, 1))
		return fail("cannot read the image");
	pinfs_super_decode(&ds, sb);
	itab = malloc((size_t)ds.itable_blocks * PINFS_BLOCK_SIZE);
	if (!itab || pinfs_read_raw(fd, itab, ds.itable_start, ds.itable_blocks))
		bad = fail("cannot read the inode table");
	for (uint32_t i = 0; !bad && i < ds.inode_count; i++) {
		bool known = false;

		pinfs_inode_decode(&d, itab + (size_t)i * PINFS_INODE_SIZE);
		if (!d.mode)
			continue;
		for (int n = 0; n < NFILES; n++)
			known |= !strcmp(d.name, names[n]);
		if (!known)
			bad = fail("inode %u has a name the workload never used: \"%s\"", i + 1,
				   d.name);
	}
	free(itab);
	close(fd);
	return bad;
}

static int check_file(struct pinmm_proc *p, int fi, long cut)
{
	static unsigned char buf[MAXFILLER];
	static bool touched[MAXFILLER];
	const struct fmodel *f = &M.f[fi];
	const struct ack *a = NULL;
	bool unlinked = false, size_changed = false, size_ok = false;
	char path[64];
	long size, n;
	int fd, first = 0;

	for (int i = 0; i < M.nacks; i++)
		if (M.acks[i].file == fi && M.acks[i].w_ret < cut)
			a = &M.acks[i];
	memset(touched, 0, sizeof(touched));
	if (a)
		first = a->nops;
	for (int i = first; i < M.nops; i++) {
		const struct op *o = &M.ops[i];

		if (o->file != fi || o->w_start >= cut)
			continue;
		unlinked |= o->kind == OP_UNLINK;
		size_changed |= o->size_changed;
		for (long b = o->lo; b < o->hi && b < f->cap; b++)
			touched[b] = true;
	}
	snprintf(path, sizeof(path), "/data/%s", names[fi]);
	fd = pinmm_open(p, path, O_RDONLY, 0);
	if (fd == -ENOENT)
		return a && !unlinked ? fail("%s: acknowledged, never unlinked, missing", f->name)
				      : 0;
	if (fd < 0)
		return fail("%s: open: %s", f->name, pinmm_strerror(fd));
	size = pinmm_fstat_size(p, fd);
	for (int i = 0; i < f->nsizes; i++)
		size_ok |= f->sizes[i] == size;
	if (!size_ok || size > f->cap)
		return fail("%s: size %ld is none the file ever had", f->name, size);
	if (a && !unlinked && !size_changed && size != a->size)
		return fail("%s: size %ld, acknowledged %ld", f->name, size, a->size);
	n = pinmm_pread(p, fd, buf, (size_t)size, 0);
	pinmm_close(p, fd);
	if (n != size)
		return fail("%s: read %ld of %ld", f->name, n, size);
	for (long i = 0; i < size; i++) {
		bool ok = !buf[i];

		if (a && !unlinked && i < a->size && !touched[i]) {
			if (buf[i] != a->data[i])
				return fail("%s: acknowledged byte %ld is %#x, not %#x", f->name, i,
					    buf[i], a->data[i]);
			continue;
		}
		for (int w = 0; !ok && w < 64; w++)
			for (int k = 0; !ok && k < M.ndeltas; k++)
				ok = (f->wmask[i] >> w & 1) && pattern(w, i + M.deltas[k]) == buf[i];
		if (!ok)
			return fail("%s: byte %ld is %#x, which no write put there "
				    "(stale or foreign data)", f->name, i, buf[i]);
	}
	return 0;
}

struct tally {
	long runs, needed_repair, problems, bad;
};

/* Check the image after a run cut at @cut (LONG_MAX: not cut). */
static void check_image(long cut, struct tally *t, const char *label)
{
	struct pinmm *m;
	struct pinmm_proc *p;
	int rc, err;

	why[0] = '\0';
	t->runs++;
	if (M.failed)
		fail("%s", M.failed);
	rc = pinfs_check_image(img, false, NULL);
	if (rc < 0)
		fail("fsck: %s", pinmm_strerror(rc));
	if (rc > 0) {
		t->needed_repair++;
		t->problems += rc;
		rc = pinfs_check_image(img, true, NULL);
		if (rc < 0)
			fail("fsck --repair: %s", pinmm_strerror(rc));
		rc = pinfs_check_image(img, false, NULL);
		if (rc)
			fail("fsck after --repair: %d problems", rc);
	}
	if (!why[0])
		check_names();
	if (!why[0]) {
		err = boot_image(&m);
		if (err) {
			fail("mount after repair: %s", pinmm_strerror(err));
		} else {
			if (pinmm_proc_create(m, &p) == 0)
				for (int i = 0; i < NFILES; i++)
					check_file(p, i, cut);
			else
				fail("proc_create");
			pinmm_shutdown(m);
		}
	}
	if (why[0]) {
		t->bad++;
		printf("# %s: %s\n", label, why);
	}
}

int main(int argc, char **argv)
{
	bool long_run = argc > 1 && !strcmp(argv[1], "--long");
	struct tally cut = { 0 }, torn = { 0 };
	char dir[128], label[64];
	struct timespec t0, t1;
	long n;
	struct tally reord = { 0 };
	long max_unflushed = 0;
	int tests = 4, bad = 0;

	/* the image is fsync(2)ed at every fsync: on tmpfs that costs nothing */
	snprintf(dir, sizeof(dir), "%s/pinmm-crash.XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") :
		 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
	if (!mkdtemp(dir)) {
		perror("crash_pinfs: mkdtemp");
		return 2;
	}
	snprintf(img, sizeof(img), "%s/crash.img", dir);
	snprintf(base_img, sizeof(base_img), "%s/base.img", dir);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	printf("TAP version 13\n1..%d\n", tests);

	n = run_workload(0, 0);
	if (n <= 0) {
		printf("not ok 1 - full run: %s\n", M.failed ? M.failed : "setup failed");
		return 1;
	}
	{
		struct tally full = { 0 };

		check_image(LONG_MAX, &full, "full run");
		printf("%s 1 - full run, %ld image block writes\n", full.bad ? "not ok" : "ok", n);
		bad += full.bad != 0;
	}

	for (long k = 1; k <= n; k++) {
		snprintf(label, sizeof(label), "cut at write %ld", k);
		if (run_workload(k, 0) < 0) {
			printf("# %s: setup failed\n", label);
			cut.bad++;
			continue;
		}
		check_image(k, &cut, label);
	}
	printf("%s 2 - cut at each of %ld writes: %ld runs, %ld needed repair (%ld problems), "
	       "%ld inconsistent\n", cut.bad ? "not ok" : "ok", n, cut.runs, cut.needed_repair,
	       cut.problems, cut.bad);
	bad += cut.bad != 0;

	for (long k = 1; k <= n; k++) {
		for (unsigned int j = 1; j <= 7; j++) {
			unsigned int tearb = long_run ? j * 512 : (unsigned int)(1 + k % 7) * 512;

			if (!long_run && j > 1)
				break;
			snprintf(label, sizeof(label), "write %ld torn at %u", k, tearb);
			if (run_workload(k, tearb) < 0) {
				printf("# %s: setup failed\n", label);
				torn.bad++;
				continue;
			}
			check_image(k, &torn, label);
		}
	}
	printf("%s 3 - torn write at each of %ld writes: %ld runs, %ld needed repair "
	       "(%ld problems), %ld inconsistent\n", torn.bad ? "not ok" : "ok", n, torn.runs,
	       torn.needed_repair, torn.problems, torn.bad);
	bad += torn.bad != 0;

	/*
	 * A volatile write cache: at each cut, the writes issued since the
	 * last flush may each have reached the media or not, in any order.
	 * Every subset up to 2^4 (2^8 with --long), else seeded random ones.
	 */
	for (long k = 1; k <= n; k++) {
		long u, subsets;
		uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)k + 1;
		int lim = long_run ? 8 : 4;

		pinfs_power_cut_cache(true);
		if (run_workload(k, 0) < 0) {
			printf("# reorder at write %ld: setup failed\n", k);
			reord.bad++;
			continue;
		}
		u = pinfs_power_cut_unflushed();
		if (u < 0) {
			printf("# reorder at write %ld: more unflushed writes than recorded\n", k);
			reord.bad++;
			continue;
		}
		max_unflushed = u > max_unflushed ? u : max_unflushed;
		if (u == 0 || copy_file(img, base_img)) {
			pinfs_power_cut_cache(false);
			continue;
		}
		/* all kept is the plain cut above; every other subset */
		subsets = u <= lim ? (1L << u) - 1 : (long_run ? 64 : 8);
		for (long s = 0; s < subsets; s++) {
			bool keep[256];
			uint64_t mask = (uint64_t)s;

			for (long i = 0; i < u; i++) {
				if (u > lim && !(i & 63)) {
					rng ^= rng >> 12;
					rng ^= rng << 25;
					rng ^= rng >> 27;
					mask = rng * 0x2545f4914f6cdd1dull;
				}
				keep[i] = mask >> (i & 63) & 1;
			}
			snprintf(label, sizeof(label), "cut at write %ld, cached subset %ld of %ld", k,
				 s, u);
			if (copy_file(base_img, img) || pinfs_power_cut_apply(img, keep)) {
				printf("# %s: cannot prepare the image\n", label);
				reord.bad++;
				continue;
			}
			check_image(k, &reord, label);
		}
		pinfs_power_cut_cache(false);
	}
	printf("%s 4 - volatile write cache at each of %ld cuts (up to %ld unflushed writes): "
	       "%ld images, %ld needed repair (%ld problems), %ld inconsistent\n",
	       reord.bad ? "not ok" : "ok", n, max_unflushed, reord.runs, reord.needed_repair,
	       reord.problems, reord.bad);
	bad += reord.bad != 0;
	unlink(base_img);

	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# %.1f s\n", (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	model_reset();
	unlink(img);
	rmdir(dir);
	return bad ? 1 : 0;
}
