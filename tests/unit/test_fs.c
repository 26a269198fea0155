/* SPDX-License-Identifier: MIT */
/*
 * Description: the VFS, tmpfs and the page cache through the file calls of
 * <pinmm/pinmm.h> (open, pread/pwrite, ftruncate, fallocate, unlink, fd
 * tables, fstatfs), plus the internals with no public handle: the page
 * index radix tree, the folio lock and partial truncation of a large folio.
 */
#include "helpers.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include <pinmm/io_uring.h>
#include <pinmm/pinfs.h>

#include "pagemap.h"

#define PG 4096L

static void fill(unsigned char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(seed + i * 7 + (i >> 12));
}

static bool all_zero(const unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i])
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* open                                                                */

static void test_open_create_excl_trunc(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	char buf[8] = { 0 };
	int fd, fd2;

	assert_int_equal(pinmm_open(p, "/tmp/a", O_RDWR, 0), -ENOENT);
	fd = pinmm_open(p, "/tmp/a", O_RDWR | O_CREAT, 0644);
	assert_int_equal(fd, 0);
	assert_int_equal(pinmm_pwrite(p, fd, "hello", 5, 0), 5);
	assert_int_equal(pinmm_open(p, "/tmp/a", O_RDWR | O_CREAT | O_EXCL, 0644), -EEXIST);

	/* The same name reaches the same inode. */
	fd2 = pinmm_open(p, "/tmp/a", O_RDONLY, 0);
	assert_int_equal(fd2, 1);
	assert_int_equal(pinmm_pread(p, fd2, buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "hello", 5);

	/* Same name on the other tmpfs is another file. */
	assert_int_equal(pinmm_open(p, "/dev/shm/a", O_RDONLY, 0), -ENOENT);

	/* O_TRUNC empties it for every open file. */
	fd = pinmm_open(p, "/tmp/a", O_RDWR | O_TRUNC, 0);
	assert_int_equal(fd, 2);
	assert_int_equal(pinmm_fstat_size(p, fd2), 0);
	assert_int_equal(pinmm_pread(p, fd2, buf, sizeof(buf), 0), 0);

	assert_int_equal(pinmm_close(p, 0), 0);
	assert_int_equal(pinmm_close(p, 1), 0);
	assert_int_equal(pinmm_close(p, 2), 0);
	test_shutdown_clean(m);
}

static void test_open_paths(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	char longname[300];

	assert_int_equal(pinmm_open(p, NULL, O_RDONLY, 0), -EFAULT);
	assert_int_equal(pinmm_open(NULL, "/tmp/x", O_RDONLY, 0), -EINVAL);
	/* Not mounted (pinfs is not configured), or no filesystem at all. */
	assert_int_equal(pinmm_open(p, "/data/x", O_RDWR | O_CREAT, 0600), -ENOENT);
	assert_int_equal(pinmm_open(p, "/dax/x", O_RDWR | O_CREAT, 0600), -ENOENT);
	assert_int_equal(pinmm_open(p, "/home/x", O_RDWR | O_CREAT, 0600), -ENOENT);
	assert_int_equal(pinmm_open(p, "tmp/x", O_RDWR | O_CREAT, 0600), -ENOENT);
	assert_int_equal(pinmm_open(p, "/tmp", O_RDWR | O_CREAT, 0600), -ENOENT);
	/* Flat directories. */
	assert_int_equal(pinmm_open(p, "/tmp/d/x", O_RDWR | O_CREAT, 0600), -ENOENT);
	assert_int_equal(pinmm_open(p, "/tmp/", O_RDWR | O_CREAT, 0600), -EISDIR);
	assert_int_equal(pinmm_open(p, "/dev/shm/", O_RDWR, 0), -EISDIR);
	memset(longname, 'n', sizeof(longname));
	memcpy(longname, "/tmp/", 5);
	longname[5 + 256] = 0;
	assert_int_equal(pinmm_open(p, longname, O_RDWR | O_CREAT, 0600), -ENAMETOOLONG);
	/* Bad access mode. */
	assert_int_equal(pinmm_open(p, "/tmp/x", O_ACCMODE | O_CREAT, 0600), -EINVAL);

	assert_int_equal(pinmm_open(p, "/dev/shm/ok", O_RDWR | O_CREAT, 0600), 0);
	test_shutdown_clean(m);
}

/* ------------------------------------------------------------------ */
/* pread / pwrite                                                      */

static void test_rw_across_pages_and_holes(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	size_t len = 3 * PG + 123;
	unsigned char *in = malloc(len), *out = malloc(10 * PG);
	long off = 5 * PG - 77;		/* straddles page 4/5 */
	int fd;

	fill(in, len, 3);
	fd = pinmm_open(p, "/dev/shm/rw", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pwrite(p, fd, in, len, off), (long)len);
	assert_int_equal(pinmm_fstat_size(p, fd), off + (long)len);
	/* Pages 4..8 exist; 0..3 are a hole and were not allocated. */
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 5);
	assert_int_equal(pinmm_vmstat(m, "nr_file_pages"), 5);

	memset(out, 0xff, 10 * PG);
	assert_int_equal(pinmm_pread(p, fd, out, 10 * PG, 0), off + (long)len);
	assert_true(all_zero(out, (size_t)off));
	assert_memory_equal(out + off, in, len);
	/* Reading a hole allocates nothing. */
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 5);

	/* Byte-granular reads in the middle and at EOF. */
	assert_int_equal(pinmm_pread(p, fd, out, 1, off + 4096), 1);
	assert_int_equal(out[0], in[4096]);
	assert_int_equal(pinmm_pread(p, fd, out, 100, off + (long)len - 10), 10);
	assert_memory_equal(out, in + len - 10, 10);
	assert_int_equal(pinmm_pread(p, fd, out, 100, off + (long)len), 0);
	assert_int_equal(pinmm_pread(p, fd, out, 100, 1L << 40), 0);

	/* Overwrite inside a page keeps its neighbours. */
	assert_int_equal(pinmm_pwrite(p, fd, "XY", 2, off + 10), 2);
	assert_int_equal(pinmm_pread(p, fd, out, 14, off + 8), 14);
	assert_int_equal(out[0], in[8]);
	assert_memory_equal(out + 2, "XY", 2);
	assert_int_equal(out[4], in[12]);
	assert_int_equal(pinmm_fstat_size(p, fd), off + (long)len);

	free(in);
	free(out);
	test_shutdown_clean(m);
}

static void test_rw_errors(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	char buf[16];
	int rw, ro, wo;

	rw = pinmm_open(p, "/tmp/e", O_RDWR | O_CREAT, 0600);
	ro = pinmm_open(p, "/tmp/e", O_RDONLY, 0);
	wo = pinmm_open(p, "/tmp/e", O_WRONLY, 0);
	assert_true(rw >= 0 && ro >= 0 && wo >= 0);

	assert_int_equal(pinmm_pwrite(p, ro, "x", 1, 0), -EBADF);
	assert_int_equal(pinmm_pread(p, wo, buf, 1, 0), -EBADF);
	assert_int_equal(pinmm_pwrite(p, wo, "abc", 3, 0), 3);
	assert_int_equal(pinmm_pread(p, ro, buf, 3, 0), 3);

	assert_int_equal(pinmm_pread(p, rw, buf, 1, -1), -EINVAL);
	assert_int_equal(pinmm_pwrite(p, rw, buf, 1, -1), -EINVAL);
	assert_int_equal(pinmm_pread(p, rw, NULL, 1, 0), -EFAULT);
	assert_int_equal(pinmm_pwrite(p, rw, NULL, 1, 0), -EFAULT);
	assert_int_equal(pinmm_pread(p, rw, NULL, 0, 0), 0);
	assert_int_equal(pinmm_pwrite(p, rw, NULL, 0, 0), 0);
	assert_int_equal(pinmm_fstat_size(p, rw), 3);

	assert_int_equal(pinmm_pread(p, 99, buf, 1, 0), -EBADF);
	assert_int_equal(pinmm_pread(p, -1, buf, 1, 0), -EBADF);
	assert_int_equal(pinmm_pwrite(p, 1000000, buf, 1, 0), -EBADF);
	assert_int_equal(pinmm_close(p, 99), -EBADF);
	assert_int_equal(pinmm_close(p, -3), -EBADF);
	assert_int_equal(pinmm_fstat_size(p, 99), -EBADF);
	assert_int_equal(pinmm_fsync(p, 99), -EBADF);
	assert_int_equal(pinmm_fsync(p, rw), 0);
	assert_int_equal(pinmm_ftruncate(p, 99, 0), -EBADF);
	assert_int_equal(pinmm_fallocate(p, 99, 0, 0, 1), -EBADF);

	assert_int_equal(pinmm_pread(NULL, rw, buf, 1, 0), -EINVAL);
	assert_int_equal(pinmm_close(NULL, rw), -EINVAL);

	/* Closing twice. */
	assert_int_equal(pinmm_close(p, ro), 0);
	assert_int_equal(pinmm_close(p, ro), -EBADF);
	assert_int_equal(pinmm_pread(p, ro, buf, 1, 0), -EBADF);
	test_shutdown_clean(m);
}

static void test_fd_lowest_free(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	int fd;

	for (int i = 0; i < 40; i++)
		assert_int_equal(pinmm_open(p, "/tmp/f", O_RDWR | O_CREAT, 0600), i);
	assert_int_equal(pinmm_close(p, 7), 0);
	assert_int_equal(pinmm_close(p, 3), 0);
	assert_int_equal(pinmm_open(p, "/tmp/f", O_RDONLY, 0), 3);
	assert_int_equal(pinmm_open(p, "/tmp/f", O_RDONLY, 0), 7);
	assert_int_equal(pinmm_open(p, "/tmp/f", O_RDONLY, 0), 40);

	/* The table is bounded. */
	for (;;) {
		fd = pinmm_open(p, "/tmp/f", O_RDONLY, 0);
		if (fd < 0)
			break;
	}
	assert_int_equal(fd, -EMFILE);
	test_shutdown_clean(m);
}

/* ------------------------------------------------------------------ */
/* ftruncate, fallocate, unlink                                        */

static void test_ftruncate_shrink_extend(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	size_t len = 8 * PG;
	unsigned char *in = malloc(len), *out = malloc(len);
	int fd, ro;

	fill(in, len, 9);
	fd = pinmm_open(p, "/dev/shm/t", O_RDWR | O_CREAT, 0600);
	ro = pinmm_open(p, "/dev/shm/t", O_RDONLY, 0);
	assert_int_equal(pinmm_pwrite(p, fd, in, len, 0), (long)len);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 8);

	assert_int_equal(pinmm_ftruncate(p, fd, -1), -EINVAL);
	assert_int_equal(pinmm_ftruncate(p, ro, 0), -EINVAL);

	/* Shrink to the middle of page 2: pages 3..7 go, page 2 is cut. */
	assert_int_equal(pinmm_ftruncate(p, fd, 2 * PG + 100), 0);
	assert_int_equal(pinmm_fstat_size(p, fd), 2 * PG + 100);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 3);
	assert_int_equal(pinmm_pread(p, fd, out, len, 0), 2 * PG + 100);
	assert_memory_equal(out, in, 2 * PG + 100);

	/* Extend again: what was cut off reads as zeroes. */
	assert_int_equal(pinmm_ftruncate(p, fd, (long)len), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 3);
	memset(out, 0xff, len);
	assert_int_equal(pinmm_pread(p, fd, out, len, 0), (long)len);
	assert_memory_equal(out, in, 2 * PG + 100);
	assert_true(all_zero(out + 2 * PG + 100, len - 2 * PG - 100));

	assert_int_equal(pinmm_ftruncate(p, fd, 0), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_file_pages"), 0);
	free(in);
	free(out);
	test_shutdown_clean(m);
}

static void test_fallocate(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	size_t len = 6 * PG;
	unsigned char *in = malloc(len), *out = malloc(len);
	int fd, ro;

	fd = pinmm_open(p, "/tmp/fa", O_RDWR | O_CREAT, 0600);
	ro = pinmm_open(p, "/tmp/fa", O_RDONLY, 0);

	/* Mode 0 allocates and grows. */
	assert_int_equal(pinmm_fallocate(p, fd, 0, PG, 2 * PG), 0);
	assert_int_equal(pinmm_fstat_size(p, fd), 3 * PG);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 2);
	/* KEEP_SIZE allocates beyond EOF without growing. */
	assert_int_equal(pinmm_fallocate(p, fd, FALLOC_FL_KEEP_SIZE, 4 * PG, 10), 0);
	assert_int_equal(pinmm_fstat_size(p, fd), 3 * PG);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 3);
	/* Allocating what exists changes nothing. */
	assert_int_equal(pinmm_fallocate(p, fd, 0, 0, 2 * PG), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 4);

	/* Errors. */
	assert_int_equal(pinmm_fallocate(p, fd, 0, -1, 10), -EINVAL);
	assert_int_equal(pinmm_fallocate(p, fd, 0, 0, 0), -EINVAL);
	assert_int_equal(pinmm_fallocate(p, fd, 0, 0, -5), -EINVAL);
	assert_int_equal(pinmm_fallocate(p, ro, 0, 0, 10), -EBADF);
	assert_int_equal(pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE, 0, 10), -EOPNOTSUPP);
	assert_int_equal(pinmm_fallocate(p, fd, FALLOC_FL_ZERO_RANGE, 0, 10), -EOPNOTSUPP);
	assert_int_equal(pinmm_fallocate(p, fd, FALLOC_FL_COLLAPSE_RANGE, 0, PG), -EOPNOTSUPP);
	assert_int_equal(pinmm_fallocate(p, fd, 0, 0x7fffffffffffffffL, 2), -EFBIG);

	/* Punch: partial pages zeroed in place, whole pages dropped. */
	fill(in, len, 1);
	assert_int_equal(pinmm_pwrite(p, fd, in, len, 0), (long)len);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 6);
	assert_int_equal(pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					 PG + 10, 3 * PG), 0);
	assert_int_equal(pinmm_fstat_size(p, fd), (long)len);
	/* Pages 2 and 3 are gone; 1 and 4 are partly zeroed. */
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 4);
	assert_int_equal(pinmm_pread(p, fd, out, len, 0), (long)len);
	assert_memory_equal(out, in, PG + 10);
	assert_true(all_zero(out + PG + 10, 3 * PG));
	assert_memory_equal(out + 4 * PG + 10, in + 4 * PG + 10, 2 * PG - 10);

	free(in);
	free(out);
	test_shutdown_clean(m);
}

static void test_unlink_open_file_survives(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	char buf[8] = { 0 };
	int fd;

	fd = pinmm_open(p, "/dev/shm/u", O_RDWR | O_CREAT, 0600);
	assert_int_equal(pinmm_pwrite(p, fd, "data", 4, PG), 4);
	assert_int_equal(pinmm_unlink(p, "/dev/shm/u"), 0);
	assert_int_equal(pinmm_unlink(p, "/dev/shm/u"), -ENOENT);
	assert_int_equal(pinmm_open(p, "/dev/shm/u", O_RDWR, 0), -ENOENT);

	/* Still readable and writable through the descriptor. */
	assert_int_equal(pinmm_pread(p, fd, buf, 4, PG), 4);
	assert_memory_equal(buf, "data", 4);
	assert_int_equal(pinmm_pwrite(p, fd, "more", 4, 2 * PG), 4);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 2);

	/* A new file of the same name is a different file. */
	int fd2 = pinmm_open(p, "/dev/shm/u", O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd2 >= 0);
	assert_int_equal(pinmm_fstat_size(p, fd2), 0);

	/* The last close frees the pages of the unlinked one. */
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 0);

	assert_int_equal(pinmm_unlink(p, "/tmp/nothing"), -ENOENT);
	assert_int_equal(pinmm_unlink(p, "/nowhere/x"), -ENOENT);
	assert_int_equal(pinmm_unlink(p, "/tmp/"), -EISDIR);
	assert_int_equal(pinmm_unlink(p, NULL), -EFAULT);
	test_shutdown_clean(m);
}

/* Files left in the directories are freed at shutdown. */
static void test_files_freed_at_shutdown(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	char page[4096];
	int fd;

	memset(page, 7, sizeof(page));
	fd = pinmm_open(p, "/tmp/keep", O_RDWR | O_CREAT, 0600);
	for (long i = 0; i < 16; i++)
		assert_int_equal(pinmm_pwrite(p, fd, page, sizeof(page), i * PG), PG);
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_true(pinmm_open(p, "/dev/shm/open", O_RDWR | O_CREAT, 0600) >= 0);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 16);
	test_shutdown_clean(m);
}

static void test_fork_shares_files(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m), *c = NULL;
	char buf[8] = { 0 };
	int fd;

	fd = pinmm_open(p, "/tmp/shared", O_RDWR | O_CREAT, 0600);
	assert_int_equal(pinmm_fork(p, &c), 0);
	/* Same descriptor number, same open file. */
	assert_int_equal(pinmm_pwrite(c, fd, "child", 5, 0), 5);
	assert_int_equal(pinmm_pread(p, fd, buf, 5, 0), 5);
	assert_memory_equal(buf, "child", 5);
	/* Closing in the child leaves the parent's descriptor alone. */
	assert_int_equal(pinmm_close(c, fd), 0);
	assert_int_equal(pinmm_pread(p, fd, buf, 5, 0), 5);
	/* New descriptors are per process. */
	assert_int_equal(pinmm_open(c, "/tmp/other", O_RDWR | O_CREAT, 0600), fd);
	assert_int_equal(pinmm_exit(c), 0);
	assert_int_equal(pinmm_pread(c, fd, buf, 5, 0), -ESRCH);
	assert_int_equal(pinmm_open(c, "/tmp/x", O_RDWR | O_CREAT, 0600), -ESRCH);
	assert_int_equal(pinmm_pread(p, fd, buf, 5, 0), 5);
	test_shutdown_clean(m);
}

struct race_arg {
	struct pinmm_proc *p;
	int fd;
	int id;
	volatile bool *stop;
};

static void *race_io(void *v)
{
	struct race_arg *a = v;
	unsigned char buf[3 * 4096];
	unsigned seed = (unsigned)a->id * 7919u;

	while (!*a->stop) {
		long off, n;

		seed = seed * 1103515245u + 12345u;
		off = (long)(seed >> 8) % (16 * PG);
		if (a->id == 0) {
			/* Truncator: shrink and regrow the file. */
			assert_int_equal(pinmm_ftruncate(a->p, a->fd, off), 0);
			assert_int_equal(pinmm_fallocate(a->p, a->fd,
					 FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off / 2, PG), 0);
		} else if (a->id & 1) {
			memset(buf, a->id, sizeof(buf));
			n = pinmm_pwrite(a->p, a->fd, buf, sizeof(buf), off);
			assert_int_equal(n, (long)sizeof(buf));
		} else {
			n = pinmm_pread(a->p, a->fd, buf, sizeof(buf), off);
			assert_true(n >= 0 && n <= (long)sizeof(buf));
			/* Every byte is 0 (hole, truncated) or some writer's id. */
			for (long i = 0; i < n; i++)
				assert_true(buf[i] == 0 || (buf[i] & 1));
		}
	}
	return NULL;
}

/* pread, pwrite, ftruncate and punch racing on one file. */
static void test_io_truncate_race(void **state)
{
	/*
	 * debug=1: the boundary auditor excludes faults (mmap_lock) but not
	 * truncation's zaps (i_mmap_rwsem), so it would see transient states;
	 * the machine is audited once everything is quiet instead.
	 */
	struct pinmm *m = test_boot("ram=256M", "debug=1", NULL);
	struct pinmm_proc *p = test_proc(m);
	struct race_arg args[5];
	pthread_t t[5];
	volatile bool stop = false;
	int fd;

	fd = pinmm_open(p, "/tmp/race", O_RDWR | O_CREAT, 0600);
	for (int i = 0; i < 5; i++) {
		args[i] = (struct race_arg){ p, fd, i, &stop };
		pthread_create(&t[i], NULL, race_io, &args[i]);
	}
	usleep(300 * 1000);
	stop = true;
	for (int i = 0; i < 5; i++)
		TEST_JOIN(t[i], "an I/O racer after the stop");
	assert_int_equal(pinmm_audit(m), 0);
	assert_int_equal(pinmm_ftruncate(p, fd, 0), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 0);
	test_shutdown_clean(m);
}

/* ------------------------------------------------------------------ */
/* Internals                                                           */

static void test_page_index(void **state)
{
	static const pgoff_t idx[] = { 0, 1, 63, 64, 65, 4095, 4096, 262143,
				       1UL << 30, (1UL << 36) + 5, ~0UL - 1, ~0UL };
	struct page_index pi;
	int items[ARRAY_SIZE(idx)];
	pgoff_t i;

	page_index_init(&pi);
	assert_null(page_index_lookup(&pi, 0));
	i = 0;
	assert_null(page_index_next(&pi, &i, ~0UL));

	for (size_t k = 0; k < ARRAY_SIZE(idx); k++)
		assert_int_equal(page_index_insert(&pi, idx[k], 1, &items[k]), 0);
	for (size_t k = 0; k < ARRAY_SIZE(idx); k++) {
		assert_ptr_equal(page_index_lookup(&pi, idx[k]), &items[k]);
		assert_int_equal(page_index_insert(&pi, idx[k], 1, &items[k]), -EEXIST);
	}
	assert_null(page_index_lookup(&pi, 2));
	assert_null(page_index_lookup(&pi, 1UL << 31));

	/* In-order iteration finds each once. */
	size_t k = 0;
	i = 0;
	for (;;) {
		void *it = page_index_next(&pi, &i, ~0UL);

		if (!it)
			break;
		assert_true(k < ARRAY_SIZE(idx));
		assert_int_equal(i, idx[k]);
		assert_ptr_equal(it, &items[k]);
		k++;
		if (i == ~0UL)
			break;
		i++;
	}
	assert_int_equal(k, ARRAY_SIZE(idx));
	/* Bounded ranges. */
	i = 66;
	assert_ptr_equal(page_index_next(&pi, &i, 5000), &items[5]);
	assert_int_equal(i, 4095);
	i = 4097;
	assert_null(page_index_next(&pi, &i, 262142));

	/* A multi-page entry is all or nothing. */
	assert_int_equal(page_index_insert(&pi, 60, 8, &items[0]), -EEXIST);
	assert_null(page_index_lookup(&pi, 60));
	assert_int_equal(page_index_insert(&pi, 512, 512, &items[1]), 0);
	assert_ptr_equal(page_index_lookup(&pi, 512), &items[1]);
	assert_ptr_equal(page_index_lookup(&pi, 1023), &items[1]);
	assert_null(page_index_lookup(&pi, 1024));
	assert_ptr_equal(page_index_replace(&pi, 700, &items[2]), &items[1]);
	assert_ptr_equal(page_index_lookup(&pi, 700), &items[2]);
	assert_null(page_index_replace(&pi, 1024, &items[2]));
	for (i = 512; i < 1024; i++)
		assert_non_null(page_index_delete(&pi, i));

	/* Deleting everything collapses the tree. */
	for (size_t n = 0; n < ARRAY_SIZE(idx); n++) {
		assert_ptr_equal(page_index_delete(&pi, idx[n]), &items[n]);
		assert_null(page_index_delete(&pi, idx[n]));
	}
	assert_true(page_index_empty(&pi));
	assert_int_equal(pi.height, 0);

	/* Dense fill, then destroy with entries in. */
	for (i = 0; i < 10000; i++)
		assert_int_equal(page_index_insert(&pi, i * 3, 1, &items[0]), 0);
	page_index_destroy(&pi);
	assert_true(page_index_empty(&pi));
}

struct lock_arg {
	struct folio *folio;
	long *counter;
	int loops;
};

static void *lock_worker(void *p)
{
	struct lock_arg *a = p;

	for (int i = 0; i < a->loops; i++) {
		folio_lock(a->folio);
		long v = *a->counter;
		if (!(i & 63))
			sched_yield();
		*a->counter = v + 1;
		folio_unlock(a->folio);
	}
	return NULL;
}

static void test_folio_lock(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	struct file *file;
	struct folio *folio;
	pthread_t t[4];
	long counter = 0;
	int fd;

	fd = pinmm_open(p, "/tmp/l", O_RDWR | O_CREAT, 0600);
	assert_int_equal(pinmm_pwrite(p, fd, "x", 1, 0), 1);
	file = fget(p, fd);
	folio = filemap_get_folio(file->f_mapping, 0);
	assert_non_null(folio);

	assert_true(folio_trylock(folio));
	assert_false(folio_trylock(folio));
	folio_unlock(folio);

	struct lock_arg a = { folio, &counter, 20000 };
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, lock_worker, &a);
	for (int i = 0; i < 4; i++)
		TEST_JOIN(t[i], "a folio_lock() worker");
	assert_int_equal(counter, 4 * 20000);
	assert_false(folio_test_Locked(folio));

	folio_put(folio);
	fput(file);
	test_shutdown_clean(m);
}

/*
 * A large folio partly beyond the new size: split where possible, or else
 * zeroed in part and kept.  Either way the data below the cut survives and
 * what was cut reads as zeroes after re-extension.
 */
static void test_truncate_large_folio(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	unsigned char *in = malloc(4 * PG), *out = malloc(4 * PG);
	struct address_space *mapping;
	struct file *file;
	struct folio *folio;
	int fd;

	fd = pinmm_open(p, "/tmp/big", O_RDWR | O_CREAT, 0600);
	file = fget(p, fd);
	mapping = file->f_mapping;

	folio = folio_alloc(m, GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_ZERO, 2);
	assert_non_null(folio);
	folio_set_SwapBacked(folio);
	folio_set_Uptodate(folio);
	folio_lock(folio);
	assert_int_equal(filemap_add_folio(mapping, folio, 4), 0);
	folio_unlock(folio);
	folio_put(folio);
	assert_int_equal(filemap_count(mapping, 0, 100), 1);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 4);

	/* The cache finds it at each offset it covers. */
	for (pgoff_t i = 4; i < 8; i++) {
		struct folio *f = filemap_get_folio(mapping, i);

		assert_ptr_equal(f, folio);
		folio_put(f);
	}

	fill(in, 4 * PG, 5);
	assert_int_equal(pinmm_pwrite(p, fd, in, 4 * PG, 4 * PG), 4 * PG);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 4);

	assert_int_equal(pinmm_ftruncate(p, fd, 5 * PG + 1), 0);
	assert_int_equal(pinmm_ftruncate(p, fd, 8 * PG), 0);
	assert_int_equal(pinmm_pread(p, fd, out, 4 * PG, 4 * PG), 4 * PG);
	assert_memory_equal(out, in, PG + 1);
	assert_true(all_zero(out + PG + 1, 3 * PG - 1));

	fput(file);
	free(in);
	free(out);
	test_shutdown_clean(m);
}

/* ------------------------------------------------------------------ */
/* fstatfs                                                             */

/* fstatfs() of a new file at @path. */
static struct pinmm_statfs statfs_of_new(struct pinmm_proc *p, const char *path)
{
	struct pinmm_statfs st;
	int fd = pinmm_open(p, path, O_RDWR | O_CREAT, 0600);

	assert_true(fd >= 0);
	assert_int_equal(pinmm_fstatfs(p, fd, &st), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	return st;
}

/* Each filesystem reports its own magic; pinfs its sizes. */
static void test_fstatfs(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm_pinfs_stat ps;
	struct pinmm_statfs st;
	struct pinmm_proc *p, *child;
	char image[160];
	struct pinmm *m;
	int fd;

	snprintf(image, sizeof(image), "pinfs.image=%s", t->img);
	m = test_boot("ram=256M", "debug=2", "quiet=1", "pmem=16M", image, "pinfs.size=8M",
		      NULL);
	p = test_proc(m);

	fd = pinmm_memfd_create(p, "x", 0);
	assert_true(fd >= 0);
	memset(&st, 0xff, sizeof(st));
	assert_int_equal(pinmm_fstatfs(p, fd, &st), 0);
	assert_int_equal(st.f_type, PINMM_TMPFS_MAGIC);
	assert_int_equal(st.f_bsize, PG);
	assert_int_equal(st.f_blocks, 0);	/* no size limit, as Linux says */
	assert_int_equal(st.f_namelen, 255);
	assert_int_equal(pinmm_close(p, fd), 0);

	assert_int_equal(statfs_of_new(p, "/tmp/t").f_type, PINMM_TMPFS_MAGIC);

	fd = pinmm_open(p, "/data/d", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pwrite(p, fd, "abc", 3, 0), 3);
	assert_int_equal(pinmm_fstatfs(p, fd, &st), 0);
	assert_int_equal(pinmm_pinfs_statfs(m, &ps), 0);
	assert_int_equal(st.f_type, PINMM_PINFS_MAGIC);
	assert_int_equal(st.f_bsize, ps.block_size);
	assert_int_equal(st.f_blocks, ps.blocks);
	assert_int_equal(st.f_bfree, ps.free_blocks);
	assert_int_equal(st.f_bavail, ps.free_blocks);
	assert_int_equal(st.f_files, ps.inodes);
	assert_int_equal(st.f_ffree, ps.free_inodes);
	assert_true(st.f_bfree < st.f_blocks && st.f_ffree < st.f_files);
	assert_int_equal(st.f_namelen, 175);
	assert_int_equal(pinmm_close(p, fd), 0);

	st = statfs_of_new(p, "/dax/x");
	assert_int_equal(st.f_type, PINMM_PINFS_MAGIC);
	assert_int_equal(st.f_blocks, 16 * MiB / PG);	/* the pmem region */

	fd = pinmm_uring_create(p, 1);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_fstatfs(p, fd, &st), 0);
	assert_int_equal(st.f_type, PINMM_ANON_INODE_FS_MAGIC);

	/* Bad input: an error, nothing written. */
	memset(&st, 0x5a, sizeof(st));
	assert_int_equal(pinmm_fstatfs(p, fd, NULL), -EFAULT);
	assert_int_equal(pinmm_fstatfs(p, 999, &st), -EBADF);
	assert_int_equal(pinmm_fstatfs(p, -1, &st), -EBADF);
	assert_int_equal(pinmm_fstatfs(NULL, fd, &st), -EINVAL);
	assert_int_equal(pinmm_fork(p, &child), 0);
	assert_int_equal(pinmm_exit(child), 0);
	assert_int_equal(pinmm_fstatfs(child, fd, &st), -ESRCH);
	assert_int_equal(st.f_type, 0x5a5a5a5a5a5a5a5aL);
	assert_int_equal(pinmm_uring_destroy(p, fd), 0);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_create_excl_trunc),
		cmocka_unit_test(test_open_paths),
		cmocka_unit_test(test_rw_across_pages_and_holes),
		cmocka_unit_test(test_rw_errors),
		cmocka_unit_test(test_fd_lowest_free),
		cmocka_unit_test(test_ftruncate_shrink_extend),
		cmocka_unit_test(test_fallocate),
		cmocka_unit_test(test_unlink_open_file_survives),
		cmocka_unit_test(test_files_freed_at_shutdown),
		cmocka_unit_test(test_fork_shares_files),
		cmocka_unit_test(test_io_truncate_race),
		cmocka_unit_test(test_page_index),
		cmocka_unit_test(test_folio_lock),
		cmocka_unit_test(test_truncate_large_folio),
		cmocka_unit_test_setup_teardown(test_fstatfs, test_imgdir_setup,
						test_imgdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
