/* SPDX-License-Identifier: MIT */
/*
 * fsck.c - the pinfs image checker: `pinmm fsck IMAGE [--repair]` and the
 * full check every mount of an existing image runs first.
 *
 * Passes, in order:
 *   1. super block: magic (a damaged magic is restored when the checksum
 *      computed with the right one matches), checksum, layout, image size;
 *      a file that is not pinfs, or whose layout makes no sense, is fatal;
 *   2. inodes: orphans (in use, no link), names (empty, duplicate), size,
 *      then every block pointer of the direct, indirect and double-indirect
 *      levels: out of the data area, or referencing a block already
 *      referenced (two files sharing a block, an indirect block pointing at
 *      itself or at its parent: the "loops" of a fixed-depth tree);
 *   3. the bitmap against the references: referenced-but-free, leaked;
 *      free counters.
 * Repair clears bad and duplicate pointers (the first reference wins),
 * frees orphans, renames nameless and duplicate entries "ino<N>", rebuilds
 * the bitmap and counters from the references (zeroing every block it
 * frees, so that a free block reads as zeroes) and marks the image clean.
 *
 * It works on a file descriptor alone, with its own buffers: nothing of a
 * mounted file system is used, so a mount can run it before trusting any
 * byte of the image.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault_inject.h"
#include "pinfs.h"

#define FSCK_REPORT_MAX	64		/* problem lines printed, then a summary */

struct fsck {
	int fd;
	bool repair;
	FILE *report;
	long lines;
	struct pinfs_fsck_result *res;
	struct pinfs_dsuper ds;
	uint64_t file_blocks;		/* whole blocks present in the file */
	uint8_t *refs;			/* per block: 0, 1, 2 = more than one */
	uint8_t *bitmap;
	uint8_t *itable;
	bool *itable_dirty;
	char **names;			/* open-addressing set of names in use */
	size_t names_cap;
	bool oom;			/* a name could not be recorded */
	int zero_err;			/* zeroing a freed block failed */
};

static const uint8_t fsck_zero[PINFS_BLOCK_SIZE];

static void problem(struct fsck *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct fsck *f, const char *fmt, ...)
{
	va_list ap;

	f->res->problems++;
	if (!f->report)
		return;
	if (f->lines++ == FSCK_REPORT_MAX) {
		fprintf(f->report, "pinfs fsck: (more problems not shown)\n");
		return;
	}
	if (f->lines > FSCK_REPORT_MAX)
		return;
	fputs("pinfs fsck: ", f->report);
	va_start(ap, fmt);
	vfprintf(f->report, fmt, ap);
	va_end(ap);
	fputc('\n', f->report);
}

/* Read blocks, zero-filling what lies beyond the end of the file. */
static int read_blocks(struct fsck *f, void *buf, uint64_t blk, size_t nr)
{
	size_t len = nr * PINFS_BLOCK_SIZE, done = 0;
	off_t off = (off_t)(blk << PINFS_BLOCK_SHIFT);

	while (done < len) {
		ssize_t n = pread(f->fd, (char *)buf + done, len - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -EIO;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	memset((char *)buf + done, 0, len - done);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Pass 1: the super block                                             */

static int check_super(struct fsck *f, uint8_t *buf, bool *write_sb)
{
	struct pinfs_dsuper *s = &f->ds;
	const char *why;
	struct stat st;
	int err;

	if (fstat(f->fd, &st))
		return -errno;
	f->file_blocks = (uint64_t)st.st_size >> PINFS_BLOCK_SHIFT;
	err = read_blocks(f, buf, 0, 1);
	if (err)
		return err;
	pinfs_super_decode(s, buf);
	if (s->magic != PINFS_MAGIC) {
		uint8_t fixed[PINFS_BLOCK_SIZE];

		memcpy(fixed, buf, sizeof(fixed));
		fixed[0] = (uint8_t)PINFS_MAGIC;
		fixed[1] = (uint8_t)(PINFS_MAGIC >> 8);
		fixed[2] = (uint8_t)(PINFS_MAGIC >> 16);
		fixed[3] = (uint8_t)(PINFS_MAGIC >> 24);
		if (pinfs_super_csum(fixed) != s->checksum || !s->checksum) {
			f->res->fatal = f->res->bad_magic = true;
			problem(f, "bad magic %#x: not a pinfs image", s->magic);
			return 0;
		}
		problem(f, "bad magic %#x (the checksum says pinfs: restoring it)", s->magic);
		f->res->bad_magic = true;
		s->magic = PINFS_MAGIC;
		*write_sb = true;
	} else if (pinfs_super_csum(buf) != s->checksum) {
		problem(f, "super block checksum %#x, computed %#x", s->checksum,
			pinfs_super_csum(buf));
		*write_sb = true;
	}
	why = pinfs_geometry_check(s);
	if (why) {
		f->res->fatal = true;
		problem(f, "super block: %s", why);
		return 0;
	}
	/*
	 * Before anything is sized by the super block: a file system larger
	 * than its image is refused, as e2fsck refuses a device smaller than
	 * its super block.  Repairing it would mean growing the image to a
	 * size only the (possibly forged) super block vouches for, so fsck
	 * never does; every later allocation is thereby bounded by the image
	 * (at most one byte per block the image holds).
	 */
	if (f->file_blocks < s->block_count) {
		f->res->fatal = true;
		problem(f, "image truncated or super block corrupt: the image holds %llu blocks, "
			"the super block describes %llu (fsck does not grow an image)",
			(unsigned long long)f->file_blocks, (unsigned long long)s->block_count);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Pass 2: inodes and block pointers                                   */

/*
 * One pointer found at @where.  Return true if it may be followed (valid
 * and first reference); a bad one is cleared when repairing (*changed).
 */
static bool check_ptr(struct fsck *f, uint32_t *ptr, const char *who, const char *where,
		      uint64_t idx, bool *changed)
{
	uint32_t b = *ptr;

	if (!b)
		return false;
	if (b < f->ds.data_start || b >= f->ds.block_count) {
		problem(f, "%s: %s[%llu] = %u out of range [%llu, %llu)", who, where,
			(unsigned long long)idx, b, (unsigned long long)f->ds.data_start,
			(unsigned long long)f->ds.block_count);
	} else if (f->refs[b]) {
		problem(f, "%s: %s[%llu] = %u already referenced (shared block or loop)",
			who, where, (unsigned long long)idx, b);
		if (f->refs[b] < 2)
			f->refs[b]++;
	} else {
		f->refs[b] = 1;
		return true;
	}
	if (f->repair) {
		*ptr = 0;
		*changed = true;
	}
	return false;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/*
 * Check the pointers inside indirect block @blk (already counted); @depth
 * 1: they point to data, 2: to indirect blocks.  Rewrites it when repaired.
 */
static int check_ind(struct fsck *f, uint32_t blk, int depth, const char *who)
{
	uint8_t *raw = kmalloc(PINFS_BLOCK_SIZE);
	bool changed = false;
	int err;

	if (!raw)
		return -ENOMEM;
	err = read_blocks(f, raw, blk, 1);
	for (unsigned int i = 0; !err && i < PINFS_PTRS; i++) {
		uint32_t p = get32(raw + 4 * i);
		bool follow = check_ptr(f, &p, who, depth == 2 ? "dind" : "ind", i, &changed);

		put32(raw + 4 * i, p);
		if (follow && depth == 2)
			err = check_ind(f, p, 1, who);
	}
	if (!err && changed)
		err = pinfs_write_raw(f->fd, raw, blk, 1);
	free(raw);
	return err;
}

/* Insert @name into the set; false if it is there already. */
static bool name_add(struct fsck *f, const char *name)
{
	uint32_t h = pinfs_crc32(name, strlen(name));

	for (size_t i = h % f->names_cap;; i = (i + 1) % f->names_cap) {
		if (!f->names[i]) {
			f->names[i] = kstrdup(name);
			/* out of memory: the check cannot finish (-ENOMEM) */
			f->oom |= !f->names[i];
			return true;
		}
		if (!strcmp(f->names[i], name))
			return false;
	}
}

static int check_inode(struct fsck *f, uint32_t slot)
{
	uint8_t *raw = f->itable + (size_t)slot * PINFS_INODE_SIZE;
	struct pinfs_dinode d;
	bool changed = false, follow;
	char who[PINFS_NAME_MAX + 32];
	int err = 0;

	pinfs_inode_decode(&d, raw);
	if (!d.mode)
		return 0;
	snprintf(who, sizeof(who), "inode %u \"%s\"", slot + 1, d.name);
	if (!d.nlink) {
		problem(f, "%s: in use but not linked (orphan)", who);
		if (f->repair) {
			memset(raw, 0, PINFS_INODE_SIZE);
			f->itable_dirty[slot / PINFS_INODES_PER_BLOCK] = true;
			return 0;	/* its blocks become free */
		}
	} else if (!d.name[0] || !name_add(f, d.name)) {
		problem(f, "%s: %s name", who, d.name[0] ? "duplicate" : "empty");
		if (f->repair) {
			/*
			 * "ino<N>" may itself be taken (another file may be
			 * called that): add ".<k>" until the name is new, so
			 * that one repair always converges.
			 */
			snprintf(d.name, sizeof(d.name), "ino%u", slot + 1);
			for (unsigned int k = 1; !name_add(f, d.name); k++)
				snprintf(d.name, sizeof(d.name), "ino%u.%u", slot + 1, k);
			changed = true;
		}
	}
	if (d.size > (uint64_t)PINFS_MAX_FILESIZE) {
		problem(f, "%s: size %llu beyond the largest file", who,
			(unsigned long long)d.size);
		if (f->repair) {
			d.size = (uint64_t)PINFS_MAX_FILESIZE;
			changed = true;
		}
	}
	for (unsigned int i = 0; i < PINFS_NDIR; i++)
		check_ptr(f, &d.direct[i], who, "direct", i, &changed);
	follow = check_ptr(f, &d.ind, who, "ind", 0, &changed);
	if (follow)
		err = check_ind(f, d.ind, 1, who);
	follow = check_ptr(f, &d.dind, who, "dind", 0, &changed);
	if (!err && follow)
		err = check_ind(f, d.dind, 2, who);
	if (changed) {
		pinfs_inode_encode(&d, raw);
		f->itable_dirty[slot / PINFS_INODES_PER_BLOCK] = true;
	}
	return err;
}

/* ------------------------------------------------------------------ */
/* Pass 3: bitmap and counters                                         */

static void check_bitmap(struct fsck *f, uint64_t *nfree)
{
	uint64_t referenced_free = 0, leaked = 0;

	*nfree = 0;
	for (uint64_t b = 0; b < f->ds.block_count; b++) {
		bool used = f->bitmap[b / 8] & (1u << (b % 8));
		bool ref = f->refs[b] != 0;

		if (!ref)
			(*nfree)++;
		if (ref == used)
			continue;
		if (ref) {
			if (!referenced_free++ || f->lines < FSCK_REPORT_MAX)
				problem(f, "block %llu in use but marked free",
					(unsigned long long)b);
			else
				f->res->problems++;
		} else {
			if (!leaked++ || f->lines < FSCK_REPORT_MAX)
				problem(f, "block %llu marked in use but unreferenced (leaked)",
					(unsigned long long)b);
			else
				f->res->problems++;
		}
		if (f->repair) {
			if (ref) {
				f->bitmap[b / 8] |= (uint8_t)(1u << (b % 8));
			} else {
				/*
				 * A free block reads as zeroes (doc/PINFS.md, "Crash
				 * consistency"): a leaked one may hold a file's data.
				 */
				f->bitmap[b / 8] &= (uint8_t)~(1u << (b % 8));
				if (!f->zero_err)
					f->zero_err = pinfs_write_raw(f->fd, fsck_zero, b, 1);
			}
		}
	}
}

static int fsck_write_back(struct fsck *f, uint8_t *sbuf)
{
	int err;

	err = pinfs_write_raw(f->fd, f->bitmap, f->ds.bitmap_start, f->ds.bitmap_blocks);
	for (uint32_t b = 0; !err && b < f->ds.itable_blocks; b++)
		if (f->itable_dirty[b])
			err = pinfs_write_raw(f->fd, f->itable + (size_t)b * PINFS_BLOCK_SIZE,
					      f->ds.itable_start + b, 1);
	if (!err) {
		f->ds.flags |= PINFS_SB_CLEAN;
		pinfs_super_encode(&f->ds, sbuf);
		err = pinfs_write_raw(f->fd, sbuf, 0, 1);
	}
	if (!err && fsync(f->fd))
		err = -EIO;
	return err;
}

static void fsck_free(struct fsck *f)
{
	for (size_t i = 0; f->names && i < f->names_cap; i++)
		free(f->names[i]);
	free(f->names);
	free(f->refs);
	free(f->bitmap);
	free(f->itable);
	free(f->itable_dirty);
}

/**
 * pinfs_fsck_fd() - check the pinfs image open on @fd.
 * @fd: the image (open read-write when @repair).
 * @repair: fix what can be fixed and mark the image clean.
 * @report: a line per problem, or NULL.
 * @res: the outcome: problems found, repaired, fatal, and the free block
 *	and inode counts computed from the references.
 *
 * Context: may sleep (host I/O); no pinfs state is used.
 * Return: 0 when the check ran (see @res), -ENOMEM, or -EIO when the
 * image cannot be read or the repair cannot be written.
 */
int pinfs_fsck_fd(int fd, bool repair, FILE *report, struct pinfs_fsck_result *res)
{
	struct fsck f = { .fd = fd, .repair = repair, .report = report, .res = res };
	uint8_t sbuf[PINFS_BLOCK_SIZE];
	bool write_sb = false;
	uint64_t nfree;
	uint32_t used = 0;
	int err;

	memset(res, 0, sizeof(*res));
	err = check_super(&f, sbuf, &write_sb);
	if (err || res->fatal)
		return err;
	f.refs = kcalloc(f.ds.block_count, 1);
	f.bitmap = kmalloc((size_t)f.ds.bitmap_blocks * PINFS_BLOCK_SIZE);
	f.itable = kmalloc((size_t)f.ds.itable_blocks * PINFS_BLOCK_SIZE);
	f.itable_dirty = kcalloc(f.ds.itable_blocks, sizeof(bool));
	f.names_cap = (size_t)f.ds.inode_count * 2 + 1;
	f.names = kcalloc(f.names_cap, sizeof(*f.names));
	if (!f.refs || !f.bitmap || !f.itable || !f.itable_dirty || !f.names) {
		fsck_free(&f);
		return -ENOMEM;
	}
	err = read_blocks(&f, f.bitmap, f.ds.bitmap_start, f.ds.bitmap_blocks);
	if (!err)
		err = read_blocks(&f, f.itable, f.ds.itable_start, f.ds.itable_blocks);
	memset(f.refs, 1, f.ds.data_start);	/* super block, bitmap, inode table */

	for (uint32_t i = 0; !err && i < f.ds.inode_count; i++) {
		err = check_inode(&f, i);
		if (!err && f.oom)
			err = -ENOMEM;
	}
	for (uint32_t i = 0; !err && i < f.ds.inode_count; i++)
		used += f.itable[(size_t)i * PINFS_INODE_SIZE] ||
			f.itable[(size_t)i * PINFS_INODE_SIZE + 1] ||
			f.itable[(size_t)i * PINFS_INODE_SIZE + 2] ||
			f.itable[(size_t)i * PINFS_INODE_SIZE + 3];
	if (!err) {
		check_bitmap(&f, &nfree);
		res->free_blocks = nfree;
		res->free_inodes = f.ds.inode_count - used;
		if ((f.ds.flags & PINFS_SB_CLEAN) &&
		    (f.ds.free_blocks != nfree || f.ds.free_inodes != res->free_inodes))
			problem(&f, "free counters %llu blocks / %u inodes, counted %llu / %u",
				(unsigned long long)f.ds.free_blocks, f.ds.free_inodes,
				(unsigned long long)nfree, res->free_inodes);
		if (!(f.ds.flags & PINFS_SB_CLEAN) && report)
			fprintf(report, "pinfs fsck: note: not cleanly unmounted\n");
	}
	if (!err && repair && (res->problems || write_sb || !(f.ds.flags & PINFS_SB_CLEAN))) {
		f.ds.free_blocks = nfree;
		f.ds.free_inodes = res->free_inodes;
		err = f.zero_err ?: fsck_write_back(&f, sbuf);
		if (!err)
			res->repaired = res->problems;
	}
	fsck_free(&f);
	return err;
}

/**
 * pinfs_check_image() - check (and with @repair fix) the image at @path.
 * @path: the image file.
 * @repair: fix what can be fixed.
 * @report: a line per problem and a summary, or NULL.
 *
 * Context: any thread; the image must not be mounted.
 * Return: 0 clean; the number of problems found (repaired with @repair);
 * -EUCLEAN when it is not a usable pinfs image; -errno when it cannot be
 * opened, read or (repairing) written.
 */
int pinfs_check_image(const char *path, bool repair, FILE *report)
{
	struct pinfs_fsck_result res;
	int fd, err;

	if (!path)
		return -EINVAL;
	fd = open(path, (repair ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = pinfs_fsck_fd(fd, repair, report, &res);
	close(fd);
	if (err)
		return err;
	if (report)
		fprintf(report, "pinfs fsck: %s: %ld problem%s found%s\n", path, res.problems,
			res.problems == 1 ? "" : "s",
			res.fatal ? ", not a usable pinfs image" :
			res.repaired ? ", repaired" : "");
	if (res.fatal)
		return -EUCLEAN;
	return res.problems > INT32_MAX ? INT32_MAX : (int)res.problems;
}
