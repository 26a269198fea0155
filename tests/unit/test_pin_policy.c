/* SPDX-License-Identifier: MIT */
/*
 * test_pin_policy.c - the six fs.pinned_policy values on real pinfs files:
 * legacy reproduces Kara's 2018 failure (reported; data lost with an oops
 * recorded when pinfs is mounted dirty_no_blocks=bug, written when remap);
 * linux keeps pinned pages from reclaim and detects torn writes; holdoff
 * makes writeback, reclaim, migration and truncate wait, with a deadline;
 * bounce never tears, its copy never splits a device write unit; lease breaks, revokes and fences; busyblocks keeps
 * the blocks under a pinned truncated page.  Also the writable long-term
 * pin rule on pinfs per policy (pin_user_pages, GUP-fast, io_uring).
 */
#include "helpers.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <pinmm/dio.h>
#include <pinmm/io_uring.h>
#include <pinmm/lease.h>
#include <pinmm/linux.h>
#include <pinmm/pinfs.h>

#define PG 4096UL


/* Boot on @img with fs.pinned_policy=@policy and "key", "value" pairs. */
static struct pinmm *boot_policy(const char *img, const char *policy, ...)
{
	struct pinmm_config cfg;
	struct pinmm *m;
	const char *k;
	va_list ap;

	pinmm_config_default(&cfg);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "256M"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "debug", "1"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "quiet", "1"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "pinfs.image", img), 0);
	assert_int_equal(pinmm_config_set(&cfg, "pinfs.size", "8M"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "fs.pinned_policy", policy), 0);
	va_start(ap, policy);
	while ((k = va_arg(ap, const char *)))
		assert_int_equal(pinmm_config_set(&cfg, k, va_arg(ap, const char *)), 0);
	va_end(ap);
	assert_int_equal(pinmm_boot(&cfg, &m), 0);
	return m;
}

/* pin_user_pages() with the caller's mmap_lock, as Linux requires. */
static long pin1(struct pinmm_proc *p, unsigned long addr, unsigned int flags, struct page **pg)
{
	long r;

	mmap_read_lock(pinmm_proc_mm(p));
	r = pin_user_pages(addr, 1, flags, pg);
	mmap_read_unlock(pinmm_proc_mm(p));
	return r;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void fill(char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(seed * 131 + i * 7 + (i >> 9) + 1);
}

/* Offset of @pat in the image file, or -1. */
static long image_find(const char *img, const void *pat, size_t len)
{
	struct stat st;
	char *buf;
	long found = -1;
	int fd = open(img, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
	for (long i = 0; i + (long)len <= st.st_size; i += 512) {
		if (!memcmp(buf + i, pat, len)) {
			found = i;
			break;
		}
	}
	free(buf);
	close(fd);
	return found;
}

/* Does the image hold @pat at byte @off? */
static bool image_at(const char *img, long off, const void *pat, size_t len)
{
	char *buf = malloc(len);
	int fd = open(img, O_RDONLY);
	bool eq;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, off), (long)len);
	eq = !memcmp(buf, pat, len);
	free(buf);
	close(fd);
	return eq;
}

/* A pinfs file of one page with @seed's pattern, synced; MAP_SHARED RW. */
static unsigned long shared_file_page(struct pinmm_proc *p, const char *path, unsigned seed,
				      int *fdp)
{
	char *x = malloc(PG);
	int fd = pinmm_open(p, path, O_RDWR | O_CREAT, 0644);
	long a;

	assert_true(fd >= 0);
	fill(x, PG, seed);
	assert_int_equal(pinmm_pwrite(p, fd, x, PG, 0), (long)PG);
	assert_int_equal(pinmm_fsync(p, fd), 0);
	a = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(a > 0);
	free(x);
	*fdp = fd;
	return (unsigned long)a;
}

/* An O_DIRECT source file of one page with @seed's pattern. */
static int dio_source(struct pinmm_proc *p, const char *path, unsigned seed)
{
	char *x = malloc(PG);
	int fd = pinmm_open(p, path, O_RDWR | O_CREAT | O_DIRECT, 0644);

	assert_true(fd >= 0);
	fill(x, PG, seed);
	assert_int_equal(pinmm_pwrite(p, fd, x, PG, 0), (long)PG);
	free(x);
	return fd;
}

/* ------------------------------------------------------------------ */
/* legacy and linux: Kara's failure                                     */

/*
 * A DIO read from /data/src into a MAP_SHARED page of /data/buf; while it
 * is in flight, sync cleans the page and reclaim unmaps it and strips its
 * block mapping; then the DIO lands and its release dirties the page.
 * Returns whether the DIO data reached the image.
 */
static bool kara_sequence(struct pinmm *m, struct pinmm_proc *p, long *reclaimed)
{
	char *x = malloc(PG), *y = malloc(PG), *img = malloc(PG);
	const char *path = pinmm_machine_config(m)->pinfs_image;
	struct pinmm_dio *d;
	int bfd, sfd = dio_source(p, "/data/src", 11);
	unsigned long a = shared_file_page(p, "/data/buf", 12, &bfd);
	long off;
	bool reached;

	fill(x, PG, 11);
	fill(y, PG, 13);
	fill(img, PG, 12);
	off = image_find(path, img, PG);	/* the buffer page's block */
	assert_true(off > 0);
	/* The page has its block mapping (page_mkwrite) and is dirty. */
	assert_int_equal(pinmm_store(p, a, y, PG), (long)PG);
	assert_int_equal(pinmm_dio_submit(p, sfd, PINMM_DIO_READ, a, PG, 0, &d), 0);
	assert_int_equal(pinmm_sync(m), 0);		/* clean, write-protected */
	*reclaimed = pinmm_reclaim(m, 1000);		/* unmap + release_folio */
	assert_int_equal(pinmm_dio_done(d), 0);		/* still in flight */
	assert_int_equal(test_dio_wait(d), (long)PG);	/* dirty_lock release */
	assert_int_equal(pinmm_sync(m), 0);
	reached = image_at(path, off, x, PG);
	if (!reached)	/* what is there: the last write that had blocks */
		assert_true(image_at(path, off, y, PG));
	assert_int_equal(pinmm_munmap(p, a, PG), 0);
	assert_int_equal(pinmm_close(p, bfd), 0);
	assert_int_equal(pinmm_close(p, sfd), 0);
	free(x);
	free(y);
	free(img);
	return reached;
}

/*
 * Kara's sequence under legacy on a pinfs mounted with
 * pinfs.dirty_no_blocks=@option: reclaim strips the pinned page either
 * way; @lost says whether the DIO's data must be lost (with an oops).
 */
static void legacy_kara(const char *img, const char *option, bool lost)
{
	struct pinmm *m = boot_policy(img, "legacy", "dio.latency_us", "300000",
				      "pinfs.dirty_no_blocks", option, NULL);
	struct pinmm_proc *p = test_proc(m);
	long reclaimed;
	bool reached = kara_sequence(m, p, &reclaimed);

	/* Reclaim could not drop it (the pin's reference) but stripped it. */
	assert_int_equal(reclaimed, 0);
	assert_int_equal(pinmm_vmstat(m, "pinned_dirty_no_blocks"), 1);
	assert_int_equal(pinmm_vmstat(m, "oops"), lost ? 1 : 0);
	assert_int_equal(pinmm_vmstat(m, "lost_bytes"), lost ? (long)PG : 0);
	assert_int_equal(reached, !lost);	/* did the DIO's data get to disk? */
	test_shutdown_clean(m);
}

/* bug (ext4 of 2011-2023): an oops is recorded, the DIO's data is lost. */
static void test_legacy_kara_failure(void **state)
{
	legacy_kara(((struct test_imgdir *)*state)->img, "bug", true);
}

/*
 * remap (the generic block path): the same strip, but writeback maps the
 * block again and nothing is lost -- the loss above is the filesystem's
 * choice, not the policy's.
 */
static void test_legacy_kara_remap(void **state)
{
	legacy_kara(((struct test_imgdir *)*state)->img, "remap", false);
}

static void test_linux_kara_safe(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_policy(t->img, "linux", "dio.latency_us", "300000", NULL);
	struct pinmm_proc *p = test_proc(m);
	long reclaimed;
	bool reached = kara_sequence(m, p, &reclaimed);

	assert_int_equal(pinmm_vmstat(m, "pinned_dirty_no_blocks"), 0);
	assert_int_equal(pinmm_vmstat(m, "lost_bytes"), 0);
	assert_true(reached);
	test_shutdown_clean(m);
}

/* ------------------------------------------------------------------ */
/* linux: torn writes; bounce: none                                     */

/*
 * The device (a DIO read) writes the page 50 ms into a 300 ms writeback
 * of it.  Returns torn_writes.
 */
static long torn_sequence(struct pinmm *m, struct pinmm_proc *p, bool *image_torn)
{
	char *x = malloc(PG), *y = malloc(PG), *mix = malloc(PG);
	struct pinmm_dio *d;
	int bfd, sfd = dio_source(p, "/data/src", 21);
	unsigned long a = shared_file_page(p, "/data/buf", 22, &bfd);
	const char *img = pinmm_machine_config(m)->pinfs_image;
	long off;

	fill(x, PG, 21);
	fill(y, PG, 23);
	fill(mix, PG, 22);
	off = image_find(img, mix, PG);		/* the buffer page's block */
	assert_true(off > 0);
	memcpy(mix, y, PG / 2);
	memcpy(mix + PG / 2, x + PG / 2, PG / 2);
	assert_int_equal(pinmm_fsync(p, sfd), 0);
	assert_int_equal(pinmm_store(p, a, y, PG), (long)PG);	/* dirty: y */
	assert_int_equal(pinmm_dio_submit(p, sfd, PINMM_DIO_READ, a, PG, 0, &d), 0);
	assert_int_equal(pinmm_sync(m), 0);		/* y written while x lands */
	assert_int_equal(pinmm_dio_done(d), 1);
	/* On disk: first half of y, second half of x (torn), or all y? */
	*image_torn = image_at(img, off, mix, PG);
	if (!*image_torn)
		assert_true(image_at(img, off, y, PG));
	assert_int_equal(test_dio_wait(d), (long)PG);
	assert_int_equal(pinmm_sync(m), 0);		/* the release re-dirtied: x */
	assert_true(image_at(img, off, x, PG));
	assert_int_equal(pinmm_munmap(p, a, PG), 0);
	assert_int_equal(pinmm_close(p, bfd), 0);
	assert_int_equal(pinmm_close(p, sfd), 0);
	free(x);
	free(y);
	free(mix);
	return pinmm_vmstat(m, "torn_writes");
}

static void test_linux_torn_write(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_policy(t->img, "linux", "dio.latency_us", "50000",
				      "writeback.latency_us", "300000", NULL);
	struct pinmm_proc *p = test_proc(m);
	bool image_torn;

	assert_int_equal(torn_sequence(m, p, &image_torn), 1);
	assert_true(image_torn);
	assert_true(pinmm_vmstat(m, "torn_bytes") > 0);
	assert_true(pinmm_vmstat(m, "torn_bytes") <= (long)PG);
	assert_int_equal(pinmm_vmstat(m, "bounce_pages"), 0);
	print_message("# linux: torn_writes=%ld torn_bytes=%ld\n", pinmm_vmstat(m, "torn_writes"),
		      pinmm_vmstat(m, "torn_bytes"));
	test_shutdown_clean(m);
}

static void test_bounce_never_torn(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_policy(t->img, "bounce", "dio.latency_us", "50000",
				      "writeback.latency_us", "300000", NULL);
	struct pinmm_proc *p = test_proc(m);
	bool image_torn;

	assert_int_equal(torn_sequence(m, p, &image_torn), 0);
	assert_false(image_torn);
	assert_true(pinmm_vmstat(m, "bounce_pages") >= 1);
	assert_int_equal(pinmm_vmstat(m, "bounce_bytes"),
			 pinmm_vmstat(m, "bounce_pages") * (long)PG);
	print_message("# bounce: bounce_pages=%ld bounce_bytes=%ld torn=%ld\n",
		      pinmm_vmstat(m, "bounce_pages"), pinmm_vmstat(m, "bounce_bytes"),
		      pinmm_vmstat(m, "torn_writes"));
	test_shutdown_clean(m);
}

/*
 * bounce: the stable copy is taken between device write units.  A device
 * keeps rewriting a long-term pinned page with one of two uniform patterns
 * while writeback bounces it, again and again: every block that reaches
 * the image must be one pattern, never half of each.
 */
struct dwu_dev {
	struct page *page;
	long writes;
	bool stop;
};

static void *dwu_device(void *arg)
{
	struct dwu_dev *d = arg;
	char *buf[2] = { malloc(PG), malloc(PG) };

	memset(buf[0], 0xaa, PG);
	memset(buf[1], 0x55, PG);
	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		assert_int_equal(pinmm_dma_write(d->page, 0, buf[d->writes & 1], PG), 0);
		__atomic_add_fetch(&d->writes, 1, __ATOMIC_RELEASE);
	}
	free(buf[0]);
	free(buf[1]);
	return NULL;
}

static void test_bounce_copy_whole_units(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_policy(t->img, "bounce", NULL);
	struct pinmm_proc *p = test_proc(m);
	const char *img = pinmm_machine_config(m)->pinfs_image;
	char *blk = malloc(PG), *a = malloc(PG), *b = malloc(PG);
	struct dwu_dev d = { 0 };
	struct page *pg;
	pthread_t th;
	int fd, raced = 0, torn = 0;
	unsigned long addr = shared_file_page(p, "/data/buf", 31, &fd);
	long off;

	fill(blk, PG, 31);
	off = image_find(img, blk, PG);
	assert_true(off > 0);
	memset(a, 0xaa, PG);
	memset(b, 0x55, PG);
	assert_int_equal(pin1(p, addr, FOLL_WRITE | FOLL_LONGTERM, &d.page), 1);
	assert_int_equal(pthread_create(&th, NULL, dwu_device, &d), 0);
	for (double t0 = now_ms(); !__atomic_load_n(&d.writes, __ATOMIC_ACQUIRE);)
		assert_true(now_ms() - t0 < 5000);	/* the device started */
	for (int i = 0; i < 300 && torn == 0; i++) {
		long before = __atomic_load_n(&d.writes, __ATOMIC_ACQUIRE);
		int imgfd;

		/* A second pin for write: its fault makes the page dirty again. */
		assert_int_equal(pin1(p, addr, FOLL_WRITE, &pg), 1);
		unpin_user_page(pg);
		assert_int_equal(pinmm_fsync(p, fd), 0);	/* bounced writeback */
		raced += __atomic_load_n(&d.writes, __ATOMIC_ACQUIRE) != before;
		imgfd = open(img, O_RDONLY);
		assert_true(imgfd >= 0);
		assert_int_equal(pread(imgfd, blk, PG, off), (long)PG);
		close(imgfd);
		torn += memcmp(blk, a, PG) && memcmp(blk, b, PG);
	}
	__atomic_store_n(&d.stop, true, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(th, NULL), 0);
	print_message("# bounce: %d fsyncs raced the device (%ld writes), %d torn blocks, "
		      "bounce_pages=%ld torn_writes=%ld\n", raced, d.writes, torn,
		      pinmm_vmstat(m, "bounce_pages"), pinmm_vmstat(m, "torn_writes"));
	assert_true(raced > 0);			/* the race this test exists for */
	assert_int_equal(torn, 0);
	assert_true(pinmm_vmstat(m, "bounce_pages") > 0);
	assert_int_equal(pinmm_vmstat(m, "torn_writes"), 0);	/* measured: the copy is stable */
	unpin_user_page(d.page);
	assert_int_equal(pinmm_munmap(p, addr, PG), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	free(blk);
	free(a);
	free(b);
	test_shutdown_clean(m);
}

/* linux: reclaim leaves a pinned page and its block mapping alone. */
static void test_linux_reclaim_skips_pinned(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_policy(t->img, "linux", NULL);
	struct pinmm_proc *p = test_proc(m);
	struct pinmm_page_info pi;
	struct page *pg;
	int fd;
	unsigned long a = shared_file_page(p, "/data/r", 31, &fd);

	test_store8(p, a, 1);			/* block mapping attached */
	assert_int_equal(pinmm_sync(m), 0);
	assert_int_equal(pin1(p, a, FOLL_WRITE, &pg), 1);
	assert_int_equal(pinmm_reclaim(m, 1000), 0);
	assert_int_equal(pinmm_page_info(p, a, &pi), 0);
	assert_true(pi.present);
	unpin_user_pages_dirty_lock(&pg, 1, true);
	assert_int_equal(pinmm_vmstat(m, "pinned_dirty_no_blocks"), 0);
	assert_int_equal(pinmm_munmap(p, a, PG), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

/* ------------------------------------------------------------------ */
/* holdoff                                                              */

struct unpinner {
	struct page *page;
	int delay_ms;
	bool dirty;
	pthread_t th;
};

static void *unpin_later(void *arg)
{
	struct unpinner *u = arg;

	usleep((useconds_t)u->delay_ms * 1000);
	unpin_user_pages_dirty_lock(&u->page, 1, u->dirty);
	return NULL;
}

static void unpin_after(struct unpinner *u, struct page *page, int ms)
{
	u->page = page;
	u->delay_ms = ms;
	u->dirty = false;
	assert_int_equal(pthread_create(&u->th, NULL, unpin_later, u), 0);
}

static void test_holdoff_writeback_waits(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_policy(t->img, "holdoff", "holdoff_ms", "5000", NULL);
	struct pinmm_proc *p = test_proc(m);
	struct unpinner u;
	struct page *pg;
	double t0, dt;
	int fd;
	unsigned long a = shared_file_page(p, "/data/h", 41, &fd);

	test_store8(p, a, 7);
	assert_int_equal(pin1(p, a, FOLL_WRITE, &pg), 1);
	unpin_after(&u, pg, 150);
	t0 = now_ms();
	assert_int_equal(pinmm_sync(m), 0);
	dt = now_ms() - t0;
	TEST_JOIN(u.th, "the delayed unpinner");
	assert_true(dt >= 120 && dt < 4000);
	assert_true(pinmm_vmstat(m, "holdoff_stalls") >= 1);
	assert_true(pinmm_vmstat(m, "holdoff_stall_ns") >= 120L * 1000 * 1000);
	assert_int_equal(pinmm_vmstat(m, "holdoff_timeouts"), 0);
	assert_int_equal(pinmm_vmstat(m, "torn_writes"), 0);
	print_message("# holdoff writeback: sync took %.0f ms, stalls=%ld stall_ns=%ld\n", dt,
		      pinmm_vmstat(m, "holdoff_stalls"), pinmm_vmstat(m, "holdoff_stall_ns"));
	assert_int_equal(pinmm_munmap(p, a, PG), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

static void test_holdoff_deadline(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_policy(t->img, "holdoff", "holdoff_ms", "100", NULL);
	struct pinmm_proc *p = test_proc(m);
	struct page *pg;
	double t0, dt;
	int fd;
	unsigned long a = shared_file_page(p, "/data/d", 42, &fd);

	test_store8(p, a, 7);
	assert_int_equal(pin1(p, a, FOLL_WRITE, &pg), 1);
	t0 = now_ms();
	assert_int_equal(pinmm_sync(m), 0);		/* proceeds at the deadline */
	dt = now_ms() - t0;
	assert_true(dt >= 90 && dt < 3000);
	assert_int_equal(pinmm_vmstat(m, "holdoff_timeouts"), 1);
	assert_int_equal(pinmm_page_info(p, a, &(struct pinmm_page_info){ 0 }), 0);
	unpin_user_pages_dirty_lock(&pg, 1, true);
	assert_int_equal(pinmm_munmap(p, a, PG), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

static void test_holdoff_reclaim_migrate_truncate(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_policy(t->img, "holdoff", "holdoff_ms", "5000",
				      "zone.movable", "64M", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long anon = test_mmap_anon(p, PG);
	struct pinmm_page_info pi;
	struct unpinner u;
	struct page *pg;
	double t0;
	long before;
	int fd;
	unsigned long a = shared_file_page(p, "/data/rm", 43, &fd);

	/* reclaim: waits, then takes the clean page. */
	test_load8(p, a);
	assert_int_equal(pin1(p, a, 0, &pg), 1);
	unpin_after(&u, pg, 100);
	t0 = now_ms();
	assert_true(pinmm_reclaim(m, 1000) >= 1);
	assert_true(now_ms() - t0 >= 80);
	TEST_JOIN(u.th, "the delayed unpinner");
	assert_int_equal(pinmm_page_info(p, a, &pi), 0);
	assert_false(pi.present);
	assert_true(pinmm_vmstat(m, "holdoff_stalls") >= 1);

	/* migration: waits, then moves the page. */
	test_store8(p, anon, 3);
	assert_int_equal(pin1(p, anon, FOLL_WRITE, &pg), 1);
	before = pinmm_vmstat(m, "holdoff_stalls");
	unpin_after(&u, pg, 100);
	assert_int_equal(pinmm_migrate_page(p, anon, "movable"), 0);
	TEST_JOIN(u.th, "the delayed unpinner");
	assert_int_equal(pinmm_vmstat(m, "holdoff_stalls"), before + 1);
	assert_int_equal(test_load8(p, anon), 3);

	/* truncate: waits for the pinned page of the range. */
	test_load8(p, a);
	assert_int_equal(pin1(p, a, 0, &pg), 1);
	before = pinmm_vmstat(m, "holdoff_stalls");
	unpin_after(&u, pg, 100);
	t0 = now_ms();
	assert_int_equal(pinmm_ftruncate(p, fd, 0), 0);
	assert_true(now_ms() - t0 >= 80);
	TEST_JOIN(u.th, "the delayed unpinner");
	assert_int_equal(pinmm_vmstat(m, "holdoff_stalls"), before + 1);
	assert_int_equal(pinmm_vmstat(m, "holdoff_timeouts"), 0);

	assert_int_equal(pinmm_munmap(p, a, PG), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

/* ------------------------------------------------------------------ */
/* lease                                                                */

struct brk {
	int calls;
	bool release;
};

static void on_break(struct pinmm_lease *l, void *arg)
{
	struct brk *b = arg;

	b->calls++;
	if (b->release)
		assert_int_equal(pinmm_lease_put(l), 0);
}

static void test_lease_required_and_released_in_time(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_policy(t->img, "lease", "lease_break_ms", "2000", NULL);
	struct pinmm_proc *p = test_proc(m);
	struct brk b = { .release = true };
	struct pinmm_lease *l;
	struct page *pg;
	double t0;
	int fd, tfd = pinmm_open(p, "/tmp/t", O_RDWR | O_CREAT, 0644);
	unsigned long a = shared_file_page(p, "/data/l", 51, &fd);

	/* Without a lease: -EPERM (slow and fast). */
	assert_int_equal(pin1(p, a, FOLL_WRITE | FOLL_LONGTERM, &pg), -EPERM);
	assert_int_equal(pin_user_pages_fast(a, 1, FOLL_WRITE | FOLL_LONGTERM, &pg), -EPERM);
	assert_int_equal(pinmm_lease_get(p, tfd, on_break, &b, &l), -EINVAL);
	assert_int_equal(pinmm_lease_get(p, fd, on_break, &b, &l), 0);
	assert_int_equal(pinmm_pin_user_pages_leased(l, a, 1, FOLL_WRITE, &pg), 1);
	assert_int_equal(pinmm_lease_state(l), PINMM_LEASE_ACTIVE);
	assert_int_equal(pinmm_dma_write(pg, 0, "lease-ok", 8), 0);

	t0 = now_ms();
	assert_int_equal(pinmm_ftruncate(p, fd, 0), 0);	/* breaks, holder releases */
	assert_true(now_ms() - t0 < 1500);
	assert_int_equal(b.calls, 1);
	assert_int_equal(pinmm_vmstat(m, "lease_breaks"), 1);
	assert_int_equal(pinmm_vmstat(m, "lease_revocations"), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_foll_pin_acquired"),
			 pinmm_vmstat(m, "nr_foll_pin_released"));

	assert_int_equal(pinmm_munmap(p, a, PG), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(pinmm_close(p, tfd), 0);
	test_shutdown_clean(m);
}

static void test_lease_revoked_and_fenced(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_policy(t->img, "lease", "lease_break_ms", "100", NULL);
	struct pinmm_proc *p = test_proc(m);
	struct brk b = { .release = false };
	struct pinmm_lease *l;
	char *late = malloc(PG), *other = malloc(PG);
	struct page *pg;
	double t0, dt;
	long victim_blk_off;
	int fd, ofd;
	unsigned long a = shared_file_page(p, "/data/victim", 52, &fd);
	char *orig = malloc(PG);

	fill(orig, PG, 52);
	memset(late, 'L', PG);		/* a run no fill() pattern has */
	fill(other, PG, 54);
	victim_blk_off = image_find(t->img, orig, PG);
	assert_true(victim_blk_off > 0);
	assert_int_equal(pinmm_lease_get(p, fd, on_break, &b, &l), 0);
	assert_int_equal(pinmm_pin_user_pages_leased(l, a, 1, FOLL_WRITE, &pg), 1);

	t0 = now_ms();
	assert_int_equal(pinmm_ftruncate(p, fd, 0), 0);	/* waits, then revokes */
	dt = now_ms() - t0;
	assert_true(dt >= 90);
	assert_int_equal(b.calls, 1);
	assert_int_equal(pinmm_lease_state(l), PINMM_LEASE_REVOKED);
	assert_int_equal(pinmm_vmstat(m, "lease_revocations"), 1);
	assert_int_equal(pinmm_pin_user_pages_leased(l, a, 1, FOLL_WRITE, &pg), -EAGAIN);

	/* Another file gets the freed block: fill the file system. */
	ofd = pinmm_open(p, "/data/other", O_RDWR | O_CREAT, 0644);
	assert_true(ofd >= 0);
	for (long o = 0; pinmm_pwrite(p, ofd, other, PG, o) == (long)PG; o += (long)PG)
		;
	assert_int_equal(pinmm_fsync(p, ofd), 0);
	assert_true(image_at(t->img, victim_blk_off, other, PG));

	/* The late device write is dropped and counted. */
	assert_int_equal(pinmm_dma_write(pg, 0, late, PG), -EPERM);
	assert_int_equal(pinmm_vmstat(m, "lease_fenced_writes"), 1);
	assert_int_equal(pinmm_vmstat(m, "lease_fenced_bytes"), (long)PG);
	assert_int_equal(pinmm_sync(m), 0);
	assert_int_equal(image_find(t->img, late, 512), -1);
	assert_true(image_at(t->img, victim_blk_off, other, PG));
	print_message("# lease: truncate waited %.0f ms; breaks=%ld revocations=%ld fenced=%ld\n",
		      dt, pinmm_vmstat(m, "lease_breaks"), pinmm_vmstat(m, "lease_revocations"),
		      pinmm_vmstat(m, "lease_fenced_writes"));

	assert_int_equal(pinmm_lease_put(l), 0);
	assert_int_equal(pinmm_munmap(p, a, PG), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(pinmm_close(p, ofd), 0);
	free(late);
	free(other);
	free(orig);
	test_shutdown_clean(m);
}

/* ------------------------------------------------------------------ */
/* busyblocks                                                           */

static uint64_t free_blocks(struct pinmm *m)
{
	struct pinmm_pinfs_stat st;

	assert_int_equal(pinmm_pinfs_statfs(m, &st), 0);
	return st.free_blocks;
}

static void test_busyblocks(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_policy(t->img, "busyblocks", NULL);
	struct pinmm_proc *p = test_proc(m);
	char *orig = malloc(PG), *late = malloc(PG), *other = malloc(16 * PG);
	struct page *pg;
	uint64_t fb, fb2;
	long off;
	int fd, ofd;
	unsigned long a = shared_file_page(p, "/data/busy", 61, &fd);

	fill(orig, PG, 61);
	memset(late, 'L', PG);
	fill(other, 16 * PG, 63);
	off = image_find(t->img, orig, PG);
	assert_true(off > 0);
	test_store8(p, a, orig[0]);			/* block mapping attached */
	assert_int_equal(pin1(p, a, FOLL_WRITE, &pg), 1);
	fb = free_blocks(m);
	assert_int_equal(pinmm_ftruncate(p, fd, 0), 0);
	assert_int_equal(pinmm_vmstat(m, "busy_blocks"), 1);
	assert_int_equal(free_blocks(m), fb);		/* still allocated */

	/* Another file cannot get the block. */
	ofd = pinmm_open(p, "/data/other", O_RDWR | O_CREAT, 0644);
	assert_int_equal(pinmm_pwrite(p, ofd, other, 16 * PG, 0), (long)(16 * PG));
	assert_int_equal(pinmm_fsync(p, ofd), 0);
	assert_int_equal(image_find(t->img, orig, PG), off);
	fb2 = free_blocks(m);

	/* Late DMA into the orphaned page, then the last unpin frees it. */
	assert_int_equal(pinmm_dma_write(pg, 0, late, PG), 0);
	unpin_user_pages_dirty_lock(&pg, 1, true);
	assert_int_equal(pinmm_vmstat(m, "busy_blocks"), 0);
	assert_int_equal(pinmm_vmstat(m, "busy_blocks_released"), 1);
	assert_int_equal(free_blocks(m), fb2 + 1);
	assert_int_equal(pinmm_sync(m), 0);
	assert_int_equal(image_find(t->img, late, 512), -1);
	{
		char *got = malloc(16 * PG);

		assert_int_equal(pinmm_pread(p, ofd, got, 16 * PG, 0), (long)(16 * PG));
		assert_memory_equal(got, other, 16 * PG);
		free(got);
	}
	assert_int_equal(pinmm_munmap(p, a, PG), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(pinmm_close(p, ofd), 0);
	free(orig);
	free(late);
	free(other);
	test_shutdown_clean(m);
	/* The image is consistent after the unmount (fsck at the next boot). */
	m = boot_policy(t->img, "busyblocks", NULL);
	test_shutdown_clean(m);
}

/* ------------------------------------------------------------------ */
/* The writable long-term pin rule on pinfs                             */

static void longterm_rule(const char *img, const char *policy, long want_shared_write)
{
	struct pinmm *m = boot_policy(img, policy, NULL);
	struct pinmm_proc *p = test_proc(m);
	struct pinmm_page_info pi;
	struct page *pg;
	struct iovec iov;
	int fd, ring;
	unsigned long a = shared_file_page(p, "/data/lt", 71, &fd);
	long pa = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	long r;

	assert_true(pa > 0);
	r = pin1(p, a, FOLL_WRITE | FOLL_LONGTERM, &pg);
	assert_int_equal(r, want_shared_write);
	if (r == 1)
		unpin_user_pages_dirty_lock(&pg, 1, true);
	r = pin_user_pages_fast(a, 1, FOLL_WRITE | FOLL_LONGTERM, &pg);
	assert_int_equal(r, want_shared_write);
	if (r == 1)
		unpin_user_pages_dirty_lock(&pg, 1, true);
	/* Read-only long-term pins of the shared mapping: allowed. */
	assert_int_equal(pin1(p, a, FOLL_LONGTERM, &pg), 1);
	unpin_user_page(pg);
	/* Private writable: allowed, on an anonymous copy. */
	assert_int_equal(pin1(p, (unsigned long)pa, FOLL_WRITE | FOLL_LONGTERM, &pg), 1);
	assert_int_equal(pinmm_page_info(p, (unsigned long)pa, &pi), 0);
	assert_true(pi.anon);
	unpin_user_page(pg);
	/* io_uring-style registration of the shared mapping. */
	ring = pinmm_uring_create(p, 8);
	assert_true(ring >= 0);
	iov.iov_base = (void *)a;
	iov.iov_len = PG;
	r = pinmm_uring_register_buffers(p, ring, &iov, 1);
	assert_int_equal(r, want_shared_write == 1 ? 0 : -EFAULT);
	if (!r)
		assert_int_equal(pinmm_uring_unregister_buffers(p, ring), 0);
	assert_int_equal(pinmm_uring_destroy(p, ring), 0);

	assert_int_equal(pinmm_munmap(p, a, PG), 0);
	assert_int_equal(pinmm_munmap(p, (unsigned long)pa, PG), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

static void test_longterm_rule_linux(void **state)
{
	longterm_rule(((struct test_imgdir *)*state)->img, "linux", -EFAULT);
}

static void test_longterm_rule_legacy(void **state)
{
	longterm_rule(((struct test_imgdir *)*state)->img, "legacy", 1);
}

/* The 2018-19 designs let long-term pins of file pages coexist. */
static void test_longterm_rule_holdoff_bounce_busyblocks(void **state)
{
	longterm_rule(((struct test_imgdir *)*state)->img, "holdoff", 1);
	longterm_rule(((struct test_imgdir *)*state)->img, "bounce", 1);
	longterm_rule(((struct test_imgdir *)*state)->img, "busyblocks", 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_legacy_kara_failure, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_legacy_kara_remap, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_linux_kara_safe, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_linux_torn_write, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_bounce_never_torn, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_bounce_copy_whole_units, test_imgdir_setup,
						test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_linux_reclaim_skips_pinned, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_holdoff_writeback_waits, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_holdoff_deadline, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_holdoff_reclaim_migrate_truncate, test_imgdir_setup,
						test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_lease_required_and_released_in_time, test_imgdir_setup,
						test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_lease_revoked_and_fenced, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_busyblocks, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_longterm_rule_linux, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_longterm_rule_legacy, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_longterm_rule_holdoff_bounce_busyblocks,
						test_imgdir_setup, test_imgdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
