/* SPDX-License-Identifier: MIT */
/*
 * test_dio.c - O_DIRECT on pinfs (<pinmm/dio.h>): asynchronous reads and
 * writes on pinned process memory, alignment and argument errors, the
 * cache flush before and invalidation after, reads stopping at EOF,
 * overlap with writeback and reclaim while a request is in flight, pins
 * released at wait, pages dirtied by a read, and synchronous pread/pwrite
 * on an O_DIRECT descriptor.
 */
#include "helpers.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <pinmm/dio.h>
#include <pinmm/linux.h>
#include <pinmm/pinfs.h>

#define PG 4096UL


static struct pinmm *boot_dio_wb(const char *img, const char *latency_us,
				 const char *wb_latency_us)
{
	struct pinmm_config cfg;
	struct pinmm *m;

	pinmm_config_default(&cfg);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "256M"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "debug", "2"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "quiet", "1"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "pinfs.image", img), 0);
	assert_int_equal(pinmm_config_set(&cfg, "pinfs.size", "8M"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "dio.latency_us", latency_us), 0);
	assert_int_equal(pinmm_config_set(&cfg, "writeback.latency_us", wb_latency_us), 0);
	assert_int_equal(pinmm_boot(&cfg, &m), 0);
	return m;
}

static struct pinmm *boot_dio(const char *img, const char *latency_us)
{
	return boot_dio_wb(img, latency_us, "0");
}

static void fill(char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(seed * 131 + i * 7 + (i >> 12));
}

static void pins_balanced(struct pinmm *m)
{
	assert_int_equal(pinmm_vmstat(m, "nr_foll_pin_acquired"),
			 pinmm_vmstat(m, "nr_foll_pin_released"));
}

/* ------------------------------------------------------------------ */

static void test_dio_write_read(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_dio(t->img, "0");
	struct pinmm_proc *p = test_proc(m);
	size_t len = 4 * PG;
	char *src = malloc(len), *got = malloc(len);
	unsigned long a = test_mmap_anon(p, len), b = test_mmap_anon(p, len);
	struct pinmm_dio *d;
	int fd = pinmm_open(p, "/data/f", O_RDWR | O_CREAT | O_DIRECT, 0644);
	int bfd = pinmm_open(p, "/data/f", O_RDONLY, 0);

	assert_true(fd >= 0 && bfd >= 0);
	fill(src, len, 1);
	assert_int_equal(pinmm_store(p, a, src, len), (long)len);
	assert_int_equal(pinmm_dio_submit(p, fd, PINMM_DIO_WRITE, a, len, 0, &d), 0);
	assert_int_equal(test_dio_wait(d), (long)len);
	assert_int_equal(pinmm_fstat_size(p, fd), (long)len);
	/* Buffered reader sees it: the write went to the blocks. */
	assert_int_equal(pinmm_pread(p, bfd, got, len, 0), (long)len);
	assert_memory_equal(got, src, len);

	/* Read two pages at offset 4096 into another buffer. */
	assert_int_equal(pinmm_dio_submit(p, fd, PINMM_DIO_READ, b, 2 * PG, (long)PG, &d), 0);
	assert_int_equal(test_dio_wait(d), (long)(2 * PG));
	assert_int_equal(pinmm_load(p, b, got, 2 * PG), (long)(2 * PG));
	assert_memory_equal(got, src + PG, 2 * PG);
	assert_int_equal(pinmm_vmstat(m, "dio_reads"), 1);
	assert_int_equal(pinmm_vmstat(m, "dio_writes"), 1);
	assert_int_equal(pinmm_vmstat(m, "dio_bytes"), (long)(len + 2 * PG));
	pins_balanced(m);

	free(src);
	free(got);
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(pinmm_close(p, bfd), 0);
	test_shutdown_clean(m);
}

static void test_dio_errors(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_dio(t->img, "0");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);
	struct pinmm_dio *d = NULL;
	int fd = pinmm_open(p, "/data/e", O_RDWR | O_CREAT | O_DIRECT, 0644);
	int nfd = pinmm_open(p, "/data/e", O_RDWR, 0);
	int ro = pinmm_open(p, "/data/e", O_RDONLY | O_DIRECT, 0);
	int tfd = pinmm_open(p, "/tmp/x", O_RDWR | O_CREAT | O_DIRECT, 0644);
	char buf[100];

	assert_true(fd >= 0 && nfd >= 0 && ro >= 0 && tfd >= 0);
	assert_int_equal(pinmm_dio_submit(p, fd, PINMM_DIO_READ, a + 1, PG, 0, &d), -EINVAL);
	assert_int_equal(pinmm_dio_submit(p, fd, PINMM_DIO_READ, a, 100, 0, &d), -EINVAL);
	assert_int_equal(pinmm_dio_submit(p, fd, PINMM_DIO_READ, a, PG, 10, &d), -EINVAL);
	assert_int_equal(pinmm_dio_submit(p, fd, PINMM_DIO_READ, a, 0, 0, &d), -EINVAL);
	assert_int_equal(pinmm_dio_submit(p, fd, 7, a, PG, 0, &d), -EINVAL);
	assert_int_equal(pinmm_dio_submit(p, fd, PINMM_DIO_READ, a, PG, -4096, &d), -EINVAL);
	assert_int_equal(pinmm_dio_submit(p, nfd, PINMM_DIO_READ, a, PG, 0, &d), -EINVAL);
	assert_int_equal(pinmm_dio_submit(p, tfd, PINMM_DIO_READ, a, PG, 0, &d), -EINVAL);
	assert_int_equal(pinmm_dio_submit(p, ro, PINMM_DIO_WRITE, a, PG, 0, &d), -EBADF);
	assert_int_equal(pinmm_dio_submit(p, 99, PINMM_DIO_READ, a, PG, 0, &d), -EBADF);
	assert_int_equal(pinmm_dio_submit(NULL, fd, PINMM_DIO_READ, a, PG, 0, &d), -EINVAL);
	/* The buffer runs into unmapped memory: nothing stays pinned. */
	assert_int_equal(pinmm_munmap(p, a + 2 * PG, 2 * PG), 0);
	assert_int_equal(pinmm_dio_submit(p, fd, PINMM_DIO_READ, a, 4 * PG, 0, &d), -EFAULT);
	pins_balanced(m);
	assert_int_equal(pinmm_dio_wait(NULL), -EINVAL);
	assert_int_equal(pinmm_dio_done(NULL), -EINVAL);
	/* Synchronous pread/pwrite on O_DIRECT: aligned only. */
	assert_int_equal(pinmm_pwrite(p, fd, buf, sizeof(buf), 0), -EINVAL);
	assert_int_equal(pinmm_pread(p, fd, buf, sizeof(buf), 0), -EINVAL);

	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(pinmm_close(p, nfd), 0);
	assert_int_equal(pinmm_close(p, ro), 0);
	assert_int_equal(pinmm_close(p, tfd), 0);
	test_shutdown_clean(m);
}

/* The cache is flushed before a DIO read and invalidated after a write. */
static void test_dio_cache_coherence(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_dio(t->img, "0");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 2 * PG);
	char *x = malloc(2 * PG), *y = malloc(2 * PG), *got = malloc(2 * PG);
	struct pinmm_dio *d;
	int fd = pinmm_open(p, "/data/c", O_RDWR | O_CREAT | O_DIRECT, 0644);
	int bfd = pinmm_open(p, "/data/c", O_RDWR, 0);

	fill(x, 2 * PG, 2);
	fill(y, 2 * PG, 3);
	/* Buffered write: dirty in the cache only. */
	assert_int_equal(pinmm_pwrite(p, bfd, x, 2 * PG, 0), (long)(2 * PG));
	assert_int_equal(pinmm_dio_submit(p, fd, PINMM_DIO_READ, a, 2 * PG, 0, &d), 0);
	assert_int_equal(test_dio_wait(d), (long)(2 * PG));
	assert_int_equal(pinmm_load(p, a, got, 2 * PG), (long)(2 * PG));
	assert_memory_equal(got, x, 2 * PG);
	/* The cache holds x; a DIO write of y must not leave it stale. */
	assert_int_equal(pinmm_pread(p, bfd, got, 2 * PG, 0), (long)(2 * PG));
	assert_int_equal(pinmm_store(p, a, y, 2 * PG), (long)(2 * PG));
	assert_int_equal(pinmm_dio_submit(p, fd, PINMM_DIO_WRITE, a, 2 * PG, 0, &d), 0);
	assert_int_equal(test_dio_wait(d), (long)(2 * PG));
	assert_int_equal(pinmm_pread(p, bfd, got, 2 * PG, 0), (long)(2 * PG));
	assert_memory_equal(got, y, 2 * PG);
	/* Synchronous O_DIRECT pread with a host buffer. */
	memset(got, 0, 2 * PG);
	assert_int_equal(pinmm_pread(p, fd, got, 2 * PG, 0), (long)(2 * PG));
	assert_memory_equal(got, y, 2 * PG);
	assert_int_equal(pinmm_pwrite(p, fd, x, PG, (long)PG), (long)PG);
	assert_int_equal(pinmm_pread(p, bfd, got, PG, (long)PG), (long)PG);
	assert_memory_equal(got, x, PG);
	pins_balanced(m);

	free(x);
	free(y);
	free(got);
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(pinmm_close(p, bfd), 0);
	test_shutdown_clean(m);
}

static void test_dio_read_eof_and_hole(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_dio(t->img, "0");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);
	char *x = malloc(6000), *got = malloc(4 * PG);
	struct pinmm_dio *d;
	int fd = pinmm_open(p, "/data/eof", O_RDWR | O_CREAT | O_DIRECT, 0644);
	int bfd = pinmm_open(p, "/data/eof", O_RDWR, 0);

	fill(x, 6000, 4);
	assert_int_equal(pinmm_pwrite(p, bfd, x, 6000, 0), 6000);
	assert_int_equal(pinmm_dio_submit(p, fd, PINMM_DIO_READ, a, 4 * PG, 0, &d), 0);
	assert_int_equal(test_dio_wait(d), 6000);
	assert_int_equal(pinmm_load(p, a, got, 6000), 6000);
	assert_memory_equal(got, x, 6000);
	/* At EOF: 0 bytes. */
	assert_int_equal(pinmm_dio_submit(p, fd, PINMM_DIO_READ, a, PG, 8 * (long)PG, &d), 0);
	assert_int_equal(test_dio_wait(d), 0);
	/* A hole reads as zeroes. */
	assert_int_equal(pinmm_ftruncate(p, bfd, 16 * (long)PG), 0);
	assert_int_equal(pinmm_dio_submit(p, fd, PINMM_DIO_READ, a, PG, 10 * (long)PG, &d), 0);
	assert_int_equal(test_dio_wait(d), (long)PG);
	assert_int_equal(pinmm_load(p, a, got, PG), (long)PG);
	for (size_t i = 0; i < PG; i++)
		assert_int_equal(got[i], 0);
	pins_balanced(m);

	free(x);
	free(got);
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(pinmm_close(p, bfd), 0);
	test_shutdown_clean(m);
}

/*
 * In flight for 200 ms: the buffer is pinned meanwhile, writeback and
 * reclaim run and return; the wait releases the pins.  The buffer is a
 * MAP_SHARED pinfs mapping, so the read dirties its page (make_dirty).
 */
static void test_dio_async_overlap_and_dirty(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_dio(t->img, "200000");
	struct pinmm_proc *p = test_proc(m);
	char *x = malloc(PG), *y = malloc(PG), *got = malloc(PG);
	struct pinmm_page_info pi;
	struct pinmm_dio *d;
	int fd = pinmm_open(p, "/data/src", O_RDWR | O_CREAT | O_DIRECT, 0644);
	int sfd = pinmm_open(p, "/data/src", O_RDWR, 0);
	int bfd = pinmm_open(p, "/data/buf", O_RDWR | O_CREAT, 0644);
	unsigned long a;

	fill(x, PG, 5);
	fill(y, PG, 6);
	assert_int_equal(pinmm_pwrite(p, sfd, x, PG, 0), (long)PG);
	assert_int_equal(pinmm_pwrite(p, bfd, y, PG, 0), (long)PG);
	assert_int_equal(pinmm_fsync(p, sfd), 0);
	assert_int_equal(pinmm_fsync(p, bfd), 0);
	a = (unsigned long)pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, bfd, 0);
	assert_true((long)a > 0);
	test_load8(p, a);

	assert_int_equal(pinmm_dio_submit(p, fd, PINMM_DIO_READ, a, PG, 0, &d), 0);
	assert_int_equal(pinmm_dio_done(d), 0);
	assert_int_equal(pinmm_page_info(p, a, &pi), 0);
	assert_true(pi.maybe_dma_pinned);
	/* Overlap: both return while the request is in flight. */
	assert_int_equal(pinmm_sync(m), 0);
	assert_true(pinmm_reclaim(m, 1000) >= 0);
	assert_int_equal(pinmm_dio_done(d), 0);
	assert_int_equal(test_dio_wait(d), (long)PG);
	pins_balanced(m);
	/* Released dirty: the page reaches the file through writeback. */
	assert_int_equal(pinmm_page_info(p, a, &pi), 0);
	assert_false(pi.maybe_dma_pinned);
	assert_true(pi.dirty);
	assert_int_equal(pinmm_load(p, a, got, PG), (long)PG);
	assert_memory_equal(got, x, PG);
	assert_int_equal(pinmm_fsync(p, bfd), 0);
	assert_int_equal(pinmm_munmap(p, a, PG), 0);
	assert_true(pinmm_drop_caches(m) >= 0);
	assert_int_equal(pinmm_pread(p, bfd, got, PG, 0), (long)PG);
	assert_memory_equal(got, x, PG);

	free(x);
	free(y);
	free(got);
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(pinmm_close(p, sfd), 0);
	assert_int_equal(pinmm_close(p, bfd), 0);
	test_shutdown_clean(m);
}

/* Many requests queued at once complete in order, and a truncate of the
 * target file waits for the requests in flight (the inode_dio_wait role). */
static void test_dio_many_and_truncate(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_dio(t->img, "20000");
	struct pinmm_proc *p = test_proc(m);
	enum { N = 8 };
	unsigned long a = test_mmap_anon(p, N * PG);
	char *x = malloc(N * PG), *got = malloc(N * PG);
	struct pinmm_dio *d[N];
	int fd = pinmm_open(p, "/data/many", O_RDWR | O_CREAT | O_DIRECT, 0644);

	fill(x, N * PG, 7);
	assert_int_equal(pinmm_store(p, a, x, N * PG), (long)(N * PG));
	for (int i = 0; i < N; i++)
		assert_int_equal(pinmm_dio_submit(p, fd, PINMM_DIO_WRITE, a + i * PG, PG,
						  (long)(i * PG), &d[i]), 0);
	/* Waits for the writes in flight that hold i_rwsem. */
	assert_int_equal(pinmm_ftruncate(p, fd, (long)(N * PG)), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(test_dio_wait(d[i]), (long)PG);
	assert_int_equal(pinmm_pread(p, fd, got, N * PG, 0), (long)(N * PG));
	assert_memory_equal(got, x, N * PG);
	pins_balanced(m);

	free(x);
	free(got);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

struct sync_arg {
	struct pinmm *m;
	int rc;
};

static void *sync_thread(void *arg)
{
	struct sync_arg *s = arg;

	s->rc = pinmm_sync(s->m);
	return NULL;
}

/*
 * An O_DIRECT read must wait for a writeback of its range that another
 * thread (sync) has already started: the page is clean then, but its
 * bytes are not on the image yet (found by `pinmm torture`: the read
 * returned the old block, zeroes).
 */
static void test_dio_read_waits_for_writeback(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m = boot_dio_wb(t->img, "0", "300000");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, PG);
	char *x = malloc(PG), *got = malloc(PG);
	struct sync_arg s = { .m = m, .rc = -1 };
	struct pinmm_dio *d;
	pthread_t th;
	int fd = pinmm_open(p, "/data/w", O_RDWR | O_CREAT | O_DIRECT, 0644);
	int bfd = pinmm_open(p, "/data/w", O_RDWR, 0);

	assert_true(fd >= 0 && bfd >= 0);
	fill(x, PG, 5);
	assert_int_equal(pinmm_pwrite(p, bfd, x, PG, 0), (long)PG);
	assert_int_equal(pthread_create(&th, NULL, sync_thread, &s), 0);
	/* The sync's write of the page takes 300 ms: wait until it is in it. */
	for (int i = 0; i < 2000 && pinmm_vmstat(m, "nr_writeback") <= 0; i++)
		usleep(1000);
	assert_true(pinmm_vmstat(m, "nr_writeback") > 0);
	assert_int_equal(pinmm_dio_submit(p, fd, PINMM_DIO_READ, a, PG, 0, &d), 0);
	assert_int_equal(pinmm_dio_wait(d), (long)PG);
	assert_int_equal(pinmm_load(p, a, got, PG), (long)PG);
	assert_memory_equal(got, x, PG);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(s.rc, 0);
	pins_balanced(m);

	free(x);
	free(got);
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(pinmm_close(p, bfd), 0);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dio_write_read, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_dio_errors, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_dio_cache_coherence, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_dio_read_eof_and_hole, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_dio_async_overlap_and_dirty, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_dio_many_and_truncate, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_dio_read_waits_for_writeback, test_imgdir_setup,
						test_imgdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
