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

static struct pinmm *boot_ok(const char *img)
{
	struct pinmm_config cfg;
	struct pinmm *m = NULL;

	pinmm_config_default(&cfg);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "64M"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "quiet", "1"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "writeback.interval_ms", "0"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "pinfs.image", img), 0);
	assert_int_equal(pinmm_config_set(&cfg, "pinfs.size", "4M"), 0);
	assert_int_equal(pinmm_boot(&cfg, &m), 0);
	return m;
}

/* The next image I/O of any thread fails with -EIO, once. */
static void fail_next_image_io(void)
{
	pinmm_fail_reset();
	assert_int_equal(pinmm_fail_configure("fail.filter", "pinfs_io"), 0);
	assert_int_equal(pinmm_fail_configure("fail.times", "1"), 0);
	assert_int_equal(pinmm_fail_configure("fail.probability", "100"), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_errseq_once_per_file, test_imgdir_setup,
						test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_errseq_unseen_reaches_new_file,
						test_imgdir_setup, test_imgdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
