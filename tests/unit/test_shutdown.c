/* SPDX-License-Identifier: MIT */
/*
 * test_shutdown.c - what pinmm_shutdown() reports and what it never does.
 *
 * - a final writeback that fails (the data of a file evicted at shutdown,
 *   or the unmount's metadata) is an error return, not only a message;
 * - a caller that still holds an mmap read lock makes shutdown give up
 *   with -EDEADLK (not a leak's -EBUSY) after shutdown.wait_ms, naming the
 *   holder, the machine still booted, instead of waiting forever; after
 *   the unlock shutdown completes;
 * - a shutdown that finds leaked pins frees all the host memory of the
 *   machine anyway (LeakSanitizer in the ASan build);
 * - the fail.* configuration keys arm injection from a boot string.
 */
#include <pinmm/fault.h>
#include <pinmm/linux.h>
#include "helpers.h"
#include "locking.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define PG 4096UL

static struct pinmm *boot_img(const char *img, const char *extra)
{
	struct pinmm_config cfg;
	struct pinmm *m;

	pinmm_fail_reset();		/* nothing left armed by a failed test */
	pinmm_config_default(&cfg);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "128M"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "quiet", "1"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "pinfs.image", img), 0);
	assert_int_equal(pinmm_config_set(&cfg, "pinfs.size", "16M"), 0);
	if (extra)
		assert_int_equal(pinmm_config_set(&cfg, "shutdown.wait_ms", extra), 0);
	assert_int_equal(pinmm_boot(&cfg, &m), 0);
	return m;
}

/* Dirty file data whose writeback at shutdown fails: -EIO, not 0. */
static void test_writeback_error_returned(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_img(t->img, NULL);
	struct pinmm_proc *p = test_proc(m);
	char buf[2 * PG];
	int fd;

	memset(buf, 0x3c, sizeof(buf));
	fd = pinmm_open(p, "/data/f", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pwrite(p, fd, buf, sizeof(buf), 0), (long)sizeof(buf));
	/* No fsync: the data is written back when shutdown closes the file. */
	assert_int_equal(pinmm_fail_configure("fail.site", "pinfs_io"), 0);
	assert_int_equal(pinmm_fail_configure("fail.probability", "100"), 0);
	assert_int_equal(pinmm_shutdown(m), -EIO);
	assert_true(pinmm_fail_injected() > 0);
	pinmm_fail_reset();
	/* The same workload without the failure shuts down cleanly. */
	m = boot_img(t->img, NULL);
	p = test_proc(m);
	fd = pinmm_open(p, "/data/g", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pwrite(p, fd, buf, sizeof(buf), 0), (long)sizeof(buf));
	test_shutdown_clean(m);
}

static void *shutdown_thread(void *m)
{
	return (void *)(long)pinmm_shutdown(m);
}

/*
 * A held mmap read lock: -EDEADLK after the deadline - not the leak's
 * -EBUSY, since the machine is intact - and stderr names the holder.
 */
static void test_held_mmap_lock(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_img(t->img, "200");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, PG);
	struct mm_struct *mm = pinmm_proc_mm(p);
	char log[512] = "", want[64];
	FILE *cap = tmpfile();
	int saved = dup(2);
	pthread_t tid;
	void *ret;
	double t0;
	int err;

	assert_non_null(cap);
	assert_true(saved >= 0);
	test_store8(p, a, 9);
	mmap_read_lock(mm);
	fflush(stderr);
	assert_true(dup2(fileno(cap), 2) >= 0);
	t0 = test_now_ms();
	assert_int_equal(pthread_create(&tid, NULL, shutdown_thread, m), 0);
	err = test_timedjoin(tid, 30000, &ret);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	if (err)
		fail_msg("pinmm_shutdown() still waiting on a held mmap_lock after 30 s");
	assert_int_equal((long)ret, -EDEADLK);
	assert_true(test_now_ms() - t0 >= 190);
	rewind(cap);
	assert_true(fread(log, 1, sizeof(log) - 1, cap) > 0);
	fclose(cap);
	/* the holder: one reader, this thread */
	snprintf(want, sizeof(want), "by 1 thread(s), the latest tid %d", pinmm_tid());
	if (!strstr(log, want) || !strstr(log, "still booted"))
		fail_msg("shutdown message does not name the holder (%s): %s", want, log);
	mmap_read_unlock(mm);
	/* Nothing was torn down: the process and its memory are still there. */
	assert_int_equal(test_load8(p, a), 9);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

/* Leaked pins: -EBUSY, and (ASan) no host memory leaked with them. */
static void test_leaked_pins_free_host_memory(void **state)
{
	struct pinmm *m = test_boot("ram=64M", "quiet=1", "pin.tracking=exact",
				    "pin.provenance=1", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);
	struct page *pages[4];

	(void)state;
	test_store8(p, a, 1);
	assert_int_equal(pin_user_pages_fast(a, 4, FOLL_WRITE | FOLL_LONGTERM, pages), 4);
	/* never unpinned */
	assert_int_equal(pinmm_shutdown(m), -EBUSY);
}

/* fail.* keys in the boot configuration arm injection. */
static void test_fail_config_keys(void **state)
{
	struct pinmm_config cfg;
	struct pinmm *m;
	char buf[64];

	(void)state;
	pinmm_fail_reset();
	pinmm_config_default(&cfg);
	assert_int_equal(pinmm_config_set(&cfg, "fail.probability", "101"), -EINVAL);
	assert_int_equal(pinmm_config_set(&cfg, "fail.site",
					  "0123456789012345678901234567890123456789"), -EINVAL);
	assert_int_equal(pinmm_config_set(&cfg, "fail.probability", "12.5"), 0);
	assert_int_equal(pinmm_config_get(&cfg, "fail.probability", buf, sizeof(buf)), 7);
	assert_string_equal(buf, "12.5000");
	pinmm_config_default(&cfg);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "64M"), 0);
	/* fail.nth=1: the very first fallible call of boot fails. */
	assert_int_equal(pinmm_config_set(&cfg, "fail.nth", "1"), 0);
	assert_int_equal(pinmm_boot(&cfg, &m), -ENOMEM);
	assert_int_equal(pinmm_fail_injected(), 1);
	pinmm_fail_reset();
	/* Every slab site of pinmm_proc_create fails; then nothing fails. */
	pinmm_config_default(&cfg);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "64M"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "fail.probability", "100"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "fail.site", "proc_alloc"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "fail.seed", "7"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "fail.times", "2"), 0);
	assert_int_equal(pinmm_boot(&cfg, &m), 0);
	{
		struct pinmm_proc *p;

		assert_int_equal(pinmm_proc_create(m, &p), -ENOMEM);
		assert_int_equal(pinmm_proc_create(m, &p), -ENOMEM);
		assert_int_equal(pinmm_proc_create(m, &p), 0);	/* fail.times spent */
		assert_int_equal(pinmm_fail_injected(), 2);
	}
	pinmm_fail_reset();
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_writeback_error_returned,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_held_mmap_lock,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test(test_leaked_pins_free_host_memory),
		cmocka_unit_test(test_fail_config_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
