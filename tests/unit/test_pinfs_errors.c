/* SPDX-License-Identifier: MIT */
/*
 * test_pinfs_errors.c - pinfs operations meeting an injected image I/O
 * error (<pinmm/fault.h>, or pinmm_pinfs_inject() to let the first few
 * I/Os through) change nothing or finish what they report, and fsync
 * reports a writeback error once per open file, as Linux's errseq_t does
 * (doc/PINFS.md, "Errors").
 */
#include "helpers.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <pinmm/fault.h>
#include <pinmm/linux.h>
#include <pinmm/pinfs.h>

#include "pinfs.h"

static struct pinmm *boot_ok(const char *img)
{
	char kv[PINMM_PATH_MAX + 16];

	snprintf(kv, sizeof(kv), "pinfs.image=%s", img);
	return test_boot("ram=64M", "quiet=1", "writeback.interval_ms=0", "pinfs.size=4M", kv,
			 NULL);
}

/* The next image I/O of any thread fails with -EIO, once. */
static void fail_next_image_io(void)
{
	pinmm_fail_reset();
	assert_int_equal(pinmm_fail_configure("fail.filter", "pinfs_io"), 0);
	assert_int_equal(pinmm_fail_configure("fail.times", "1"), 0);
	assert_int_equal(pinmm_fail_configure("fail.probability", "100"), 0);
}

static uint64_t free_blocks(struct pinmm *m)
{
	struct pinmm_pinfs_stat st;

	assert_int_equal(pinmm_pinfs_statfs(m, &st), 0);
	return st.free_blocks;
}

static void fill(char *buf, size_t len, char c)
{
	memset(buf, c, len);
}

/*
 * A writeback error is reported by the next fsync of every file that was
 * open when it happened, once each; a file opened after someone saw it
 * does not report it.
 */
static void test_errseq_once_per_file(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_ok(t->img);
	struct pinmm_proc *p = test_proc(m);
	static char a[4096];
	int fd1, fd2, fd3;

	fill(a, sizeof(a), 'a');
	fd1 = pinmm_open(p, "/data/f", O_RDWR | O_CREAT, 0600);
	fd2 = pinmm_open(p, "/data/f", O_RDWR, 0);
	assert_true(fd1 >= 0 && fd2 >= 0);
	assert_int_equal(pinmm_pwrite(p, fd1, a, sizeof(a), 0), sizeof(a));
	fail_next_image_io();
	assert_int_equal(pinmm_sync(m), -EIO);		/* writeback fails, page stays dirty */
	assert_int_equal(pinmm_fail_injected(), 1);
	pinmm_fail_reset();

	assert_int_equal(pinmm_fsync(p, fd1), -EIO);	/* fd1 sees it ... */
	assert_int_equal(pinmm_fsync(p, fd1), 0);	/* ... once */
	assert_int_equal(pinmm_fsync(p, fd2), -EIO);	/* fd2 sees it too, once */
	assert_int_equal(pinmm_fsync(p, fd2), 0);
	fd3 = pinmm_open(p, "/data/f", O_RDWR, 0);	/* after it was seen */
	assert_true(fd3 >= 0);
	assert_int_equal(pinmm_fsync(p, fd3), 0);

	/* A second error after the first was seen: every file reports it again. */
	assert_int_equal(pinmm_pwrite(p, fd3, a, 100, 0), 100);
	fail_next_image_io();
	assert_int_equal(pinmm_fsync(p, fd3), -EIO);
	pinmm_fail_reset();
	assert_int_equal(pinmm_fsync(p, fd1), -EIO);
	assert_int_equal(pinmm_fsync(p, fd2), -EIO);
	assert_int_equal(pinmm_fsync(p, fd3), 0);
	assert_int_equal(pinmm_fsync(p, fd1), 0);
	for (int fd = fd1; fd <= fd3; fd++)
		assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

/* An error nobody has reported yet reaches a file opened after it (Linux 4.16+). */
static void test_errseq_unseen_reaches_new_file(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_ok(t->img);
	struct pinmm_proc *p = test_proc(m);
	static char a[4096];
	int fd, fd2;

	fill(a, sizeof(a), 'u');
	fd = pinmm_open(p, "/data/u", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pwrite(p, fd, a, sizeof(a), 0), sizeof(a));
	fail_next_image_io();
	assert_int_equal(pinmm_sync(m), -EIO);
	pinmm_fail_reset();
	fd2 = pinmm_open(p, "/data/u", O_RDWR, 0);	/* after the error, before anyone saw it */
	assert_true(fd2 >= 0);
	assert_int_equal(pinmm_fsync(p, fd2), -EIO);
	assert_int_equal(pinmm_fsync(p, fd2), 0);
	assert_int_equal(pinmm_fsync(p, fd), -EIO);
	assert_int_equal(pinmm_fsync(p, fd), 0);
	assert_int_equal(pinmm_close(p, fd2), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

/*
 * fallocate whose third zeroing write fails: -EIO, and the file is as
 * before - size, contents, and the blocks it had allocated given back.
 */
static void test_fallocate_eio_changes_nothing(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_ok(t->img);
	struct pinmm_proc *p = test_proc(m);
	static char a[4096], r[8 * 4096];
	uint64_t f0;
	int fd;

	fill(a, sizeof(a), 'x');
	fd = pinmm_open(p, "/data/fa", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pwrite(p, fd, a, sizeof(a), 0), sizeof(a));
	assert_int_equal(pinmm_fsync(p, fd), 0);
	f0 = free_blocks(m);

	assert_int_equal(pinmm_pinfs_inject(m, "write", 2, 1), 0);
	assert_int_equal(pinmm_fallocate(p, fd, 0, 4096, 6 * 4096), -EIO);
	assert_int_equal(pinmm_fstat_size(p, fd), 4096);
	assert_int_equal(free_blocks(m), f0);		/* nothing kept allocated */
	assert_int_equal(pinmm_pread(p, fd, r, sizeof(r), 0), 4096);
	assert_memory_equal(r, a, sizeof(a));

	/* Without the fault it completes. */
	assert_int_equal(pinmm_fallocate(p, fd, 0, 4096, 6 * 4096), 0);
	assert_int_equal(pinmm_fstat_size(p, fd), 7 * 4096);
	assert_int_equal(free_blocks(m), f0 - 6);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
	assert_int_equal(pinfs_check_image(t->img, false, NULL), 0);
}

/*
 * write() whose page read fails: nothing changes when it is the first
 * page; a short count when a later page fails, with exactly the bytes
 * it reports written.
 */
static void test_write_eio_changes_nothing_or_is_short(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_ok(t->img);
	struct pinmm_proc *p = test_proc(m);
	static char a[2 * 4096], b[4096], r[2 * 4096], want[2 * 4096];
	int fd;

	fill(a, sizeof(a), 'o');
	fill(b, sizeof(b), 'n');
	fd = pinmm_open(p, "/data/w", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pwrite(p, fd, a, sizeof(a), 0), sizeof(a));
	assert_int_equal(pinmm_fsync(p, fd), 0);
	assert_true(pinmm_drop_caches(m) >= 2);

	fail_next_image_io();				/* the read of page 0 */
	assert_int_equal(pinmm_pwrite(p, fd, b, 100, 50), -EIO);
	pinmm_fail_reset();
	assert_int_equal(pinmm_fstat_size(p, fd), sizeof(a));
	assert_int_equal(pinmm_pread(p, fd, r, sizeof(r), 0), sizeof(r));
	assert_memory_equal(r, a, sizeof(a));

	assert_true(pinmm_drop_caches(m) >= 2);
	assert_int_equal(pinmm_pinfs_inject(m, "read", 1, 1), 0);	/* page 1's read */
	assert_int_equal(pinmm_pwrite(p, fd, b, 200, 4096 - 100), 100);
	memcpy(want, a, sizeof(want));
	memcpy(want + 4096 - 100, b, 100);
	assert_int_equal(pinmm_pread(p, fd, r, sizeof(r), 0), sizeof(r));
	assert_memory_equal(r, want, sizeof(want));
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

/*
 * fsync whose data write fails: -EIO, the image keeps the file as its
 * last fsync left it (no new size or block map without the data), the
 * page stays dirty, and the next fsync completes it.
 */
static void test_fsync_eio_leaves_image_as_before(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_ok(t->img);
	struct pinmm_proc *p = test_proc(m);
	static char a[4096], b[3 * 4096], r[4 * 4096];
	int fd;

	fill(a, sizeof(a), 'a');
	fill(b, sizeof(b), 'b');
	fd = pinmm_open(p, "/data/s", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pwrite(p, fd, a, sizeof(a), 0), sizeof(a));
	assert_int_equal(pinmm_fsync(p, fd), 0);
	assert_int_equal(pinmm_pwrite(p, fd, b, sizeof(b), 4096), sizeof(b));
	fail_next_image_io();				/* the first data write */
	pinfs_power_cut(0, 0);
	assert_int_equal(pinmm_fsync(p, fd), -EIO);
	pinmm_fail_reset();
	/* the other two pages were written: only data, no metadata */
	assert_int_equal(pinfs_image_writes(), 2);
	assert_int_equal(pinmm_vmstat(m, "nr_dirty"), 1);

	/* power lost now: the image must show the file as the last fsync left it */
	pinfs_power_cut(1, 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	pinmm_shutdown(m);
	pinfs_power_cut(0, 0);
	assert_true(pinfs_check_image(t->img, true, NULL) >= 0);
	m = boot_ok(t->img);
	p = test_proc(m);
	fd = pinmm_open(p, "/data/s", O_RDWR, 0);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_fstat_size(p, fd), 4096);
	assert_int_equal(pinmm_pread(p, fd, r, sizeof(r), 0), 4096);
	assert_memory_equal(r, a, sizeof(a));

	/* and a retried fsync completes what the failed one could not */
	assert_int_equal(pinmm_pwrite(p, fd, b, sizeof(b), 4096), sizeof(b));
	fail_next_image_io();
	assert_int_equal(pinmm_fsync(p, fd), -EIO);
	pinmm_fail_reset();
	assert_int_equal(pinmm_fsync(p, fd), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
	m = boot_ok(t->img);
	p = test_proc(m);
	fd = pinmm_open(p, "/data/s", O_RDONLY, 0);
	assert_int_equal(pinmm_pread(p, fd, r, sizeof(r), 0), sizeof(r));
	assert_memory_equal(r, a, sizeof(a));
	assert_memory_equal(r + 4096, b, sizeof(b));
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

/*
 * Injection into a library thread (fail.task, <pinmm/fault.h>): the
 * writeback flusher's image write fails.  The application's threads are
 * not failed by a fail.task filter; the flusher's error is recorded for
 * fsync (errseq: reported once), the page stays dirty and a later pass
 * writes it, and nothing acknowledged is lost across a remount.
 */
static void test_flusher_failure_reported(void **state)
{
	struct test_imgdir *t = *state;
	char kv[PINMM_PATH_MAX + 16];
	static char a[4096], b[4096];
	struct pinmm_proc *p;
	struct pinmm *m;
	int fd, i;

	snprintf(kv, sizeof(kv), "pinfs.image=%s", t->img);
	/* No flusher: the application's own writeback is not failed. */
	m = boot_ok(t->img);
	p = test_proc(m);
	pinmm_fail_reset();
	assert_int_equal(pinmm_fail_configure("fail.task", "flusher"), 0);
	assert_int_equal(pinmm_fail_configure("fail.filter", "pinfs_io"), 0);
	assert_int_equal(pinmm_fail_configure("fail.probability", "100"), 0);
	fd = pinmm_open(p, "/data/f", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	fill(a, sizeof(a), 'f');
	assert_int_equal(pinmm_pwrite(p, fd, a, sizeof(a), 0), sizeof(a));
	assert_int_equal(pinmm_fsync(p, fd), 0);
	assert_int_equal(pinmm_fail_injected(), 0);
	pinmm_fail_reset();
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);

	/* A flusher every 10 ms: its first image write fails. */
	m = test_boot("ram=64M", "quiet=1", "writeback.interval_ms=10", "pinfs.size=4M", kv, NULL);
	p = test_proc(m);
	fd = pinmm_open(p, "/data/f", O_RDWR, 0);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_fail_configure("fail.task", "flusher"), 0);
	assert_int_equal(pinmm_fail_configure("fail.filter", "pinfs_io"), 0);
	assert_int_equal(pinmm_fail_configure("fail.times", "1"), 0);
	assert_int_equal(pinmm_fail_configure("fail.probability", "100"), 0);
	fill(a, sizeof(a), 'g');
	assert_int_equal(pinmm_pwrite(p, fd, a, sizeof(a), 0), sizeof(a));
	for (i = 0; i < 10000 && pinmm_fail_injected() < 1; i++)
		usleep(1000);
	if (pinmm_fail_injected() < 1)
		fail_msg("the flusher made no image write in 10 s");
	/* a later pass writes the page that stayed dirty */
	for (i = 0; i < 10000 && pinmm_vmstat(m, "nr_dirty") > 0; i++)
		usleep(1000);
	assert_int_equal(pinmm_vmstat(m, "nr_dirty"), 0);
	pinmm_fail_reset();
	assert_int_equal(pinmm_fsync(p, fd), -EIO);	/* the flusher's error, once */
	assert_int_equal(pinmm_fsync(p, fd), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);

	m = boot_ok(t->img);
	p = test_proc(m);
	fd = pinmm_open(p, "/data/f", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pread(p, fd, b, sizeof(b), 0), sizeof(b));
	assert_memory_equal(a, b, sizeof(b));
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_errseq_once_per_file, test_imgdir_setup,
						test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_errseq_unseen_reaches_new_file,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_fallocate_eio_changes_nothing,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_write_eio_changes_nothing_or_is_short,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_fsync_eio_leaves_image_as_before,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_flusher_failure_reported,
						test_imgdir_setup, test_imgdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
