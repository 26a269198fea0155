/* SPDX-License-Identifier: MIT */
/*
 * test_pinfs.c - pinfs at /data/: files, persistence across shutdown and
 * boot, shared mappings with page_mkwrite and writeback through rmap,
 * private mappings, truncate and hole punch, ENOSPC, injected EIO,
 * corrupt images and fsck, reclaim and drop_caches.
 *
 * Every test works in its own mkdtemp() directory under /tmp, removed at
 * the end; image contents are checked with host pread().
 */
#include "helpers.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include <pinmm/linux.h>
#include <pinmm/lease.h>
#include <pinmm/pinfs.h>


static int boot_img(const char *img, const char *size, struct pinmm **out)
{
	struct pinmm_config cfg;

	pinmm_config_default(&cfg);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "256M"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "debug", "2"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "quiet", "1"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "pinfs.image", img), 0);
	assert_int_equal(pinmm_config_set(&cfg, "pinfs.size", size ? size : "8M"), 0);
	*out = NULL;
	return pinmm_boot(&cfg, out);
}

static struct pinmm *boot_ok(const char *img, const char *size)
{
	struct pinmm *m;

	assert_int_equal(boot_img(img, size, &m), 0);
	return m;
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
	for (long i = 0; i + (long)len <= st.st_size; i++) {
		if (!memcmp(buf + i, pat, len)) {
			found = i;
			break;
		}
	}
	free(buf);
	close(fd);
	return found;
}

static uint64_t free_blocks(struct pinmm *m)
{
	struct pinmm_pinfs_stat st;

	assert_int_equal(pinmm_pinfs_statfs(m, &st), 0);
	return st.free_blocks;
}

static long pinfs_event(struct pinmm *m, enum pinmm_pinfs_stat_item i)
{
	struct pinmm_pinfs_stat st;

	assert_int_equal(pinmm_pinfs_statfs(m, &st), 0);
	return st.events[i];
}

static void fill(char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(seed * 131 + i * 7 + (i >> 12));
}

/* ------------------------------------------------------------------ */

static void test_rw_unlink_persist(void **state)
{
	struct test_imgdir *t = *state;
	static char wbuf[40000], rbuf[40000];
	struct pinmm *m = boot_ok(t->img, NULL);
	struct pinmm_proc *p = test_proc(m);
	uint64_t f0 = free_blocks(m);
	int fd;

	fill(wbuf, sizeof(wbuf), 1);
	fd = pinmm_open(p, "/data/a", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pwrite(p, fd, wbuf, sizeof(wbuf), 100), sizeof(wbuf));
	assert_int_equal(pinmm_fstat_size(p, fd), 100 + sizeof(wbuf));
	assert_int_equal(pinmm_pread(p, fd, rbuf, sizeof(rbuf), 100), sizeof(rbuf));
	assert_memory_equal(wbuf, rbuf, sizeof(rbuf));
	assert_true(free_blocks(m) < f0);
	assert_int_equal(pinmm_close(p, fd), 0);

	/* A second file, removed again: its blocks come back. */
	fd = pinmm_open(p, "/data/b", O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_open(p, "/data/b", O_RDWR | O_CREAT | O_EXCL, 0600), -EEXIST);
	assert_int_equal(pinmm_pwrite(p, fd, wbuf, 8192, 0), 8192);
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(pinmm_unlink(p, "/data/b"), 0);
	assert_int_equal(pinmm_open(p, "/data/b", O_RDWR, 0), -ENOENT);
	assert_int_equal(pinmm_unlink(p, "/data/b"), -ENOENT);
	test_shutdown_clean(m);
	assert_int_equal(pinfs_check_image(t->img, false, NULL), 0);

	/* Boot again on the same image: the data is there. */
	m = boot_ok(t->img, NULL);
	p = test_proc(m);
	fd = pinmm_open(p, "/data/a", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_fstat_size(p, fd), 100 + sizeof(wbuf));
	memset(rbuf, 0, sizeof(rbuf));
	assert_int_equal(pinmm_pread(p, fd, rbuf, sizeof(rbuf), 100), sizeof(rbuf));
	assert_memory_equal(wbuf, rbuf, sizeof(rbuf));
	assert_int_equal(pinmm_pread(p, fd, rbuf, 100, 0), 100);
	for (int i = 0; i < 100; i++)
		assert_int_equal(rbuf[i], 0);
	assert_true(pinfs_event(m, PINMM_PINFS_READS) > 0);
	assert_int_equal(pinmm_open(p, "/data/b", O_RDONLY, 0), -ENOENT);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
	assert_int_equal(pinfs_check_image(t->img, false, NULL), 0);
}

static void test_mmap_shared_writeback(void **state)
{
	struct test_imgdir *t = *state;
	static const char msg1[] = "pinfs-shared-mapping-first";
	static const char msg2[] = "PINFS-SHARED-MAPPING-AGAIN";
	struct pinmm *m = boot_ok(t->img, NULL);
	struct pinmm_proc *p = test_proc(m);
	struct pinmm_page_info pi;
	uint64_t f0;
	long addr;
	int fd;

	fd = pinmm_open(p, "/data/m", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd, 4 * 4096), 0);	/* all holes */
	f0 = free_blocks(m);
	addr = pinmm_mmap(p, 0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(addr > 0);

	/* A read fault maps the hole read-only; nothing is allocated. */
	assert_int_equal(test_load8(p, (unsigned long)addr), 0);
	assert_int_equal(pinmm_page_info(p, (unsigned long)addr, &pi), 0);
	assert_true(pi.present);
	assert_false(pi.writable);
	assert_int_equal(free_blocks(m), f0);

	/* First store: page_mkwrite allocates the block and dirties the page. */
	assert_int_equal(pinmm_store(p, (unsigned long)addr + 8, msg1, sizeof(msg1)),
			 sizeof(msg1));
	assert_int_equal(free_blocks(m), f0 - 1);
	assert_int_equal(pinfs_event(m, PINMM_PINFS_MKWRITE_ALLOC), 1);
	assert_int_equal(pinmm_page_info(p, (unsigned long)addr, &pi), 0);
	assert_true(pi.writable);
	assert_true(pi.dirty);
	assert_int_equal(image_find(t->img, msg1, sizeof(msg1)), -1);

	/* Writeback: real I/O to the image, PTE write-protected and clean. */
	assert_int_equal(pinmm_sync(m), 0);
	assert_true(image_find(t->img, msg1, sizeof(msg1)) > 0);
	assert_int_equal(pinmm_page_info(p, (unsigned long)addr, &pi), 0);
	assert_true(pi.present);
	assert_false(pi.writable);
	assert_false(pi.dirty);
	assert_int_equal(pinmm_vmstat(m, "nr_dirty"), 0);

	/* The next store faults again and re-dirties; fsync writes it. */
	assert_int_equal(pinmm_store(p, (unsigned long)addr + 8, msg2, sizeof(msg2)),
			 sizeof(msg2));
	assert_int_equal(pinmm_page_info(p, (unsigned long)addr, &pi), 0);
	assert_true(pi.writable);
	assert_true(pi.dirty);
	assert_int_equal(pinfs_event(m, PINMM_PINFS_MKWRITE), 2);
	assert_int_equal(pinfs_event(m, PINMM_PINFS_MKWRITE_ALLOC), 1);
	assert_int_equal(pinmm_fsync(p, fd), 0);
	assert_true(image_find(t->img, msg2, sizeof(msg2)) > 0);
	assert_int_equal(pinfs_event(m, PINMM_PINFS_DIRTY_NO_PRIVATE), 0);

	assert_int_equal(pinmm_munmap(p, (unsigned long)addr, 4 * 4096), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
	assert_int_equal(pinfs_check_image(t->img, false, NULL), 0);
}

static void test_mmap_private(void **state)
{
	struct test_imgdir *t = *state;
	static const char secret[] = "private-cow-copy-never-on-disk";
	static char buf[4096];
	struct pinmm *m = boot_ok(t->img, NULL);
	struct pinmm_proc *p = test_proc(m);
	long addr;
	int fd;

	memset(buf, 'A', sizeof(buf));
	fd = pinmm_open(p, "/data/p", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pwrite(p, fd, buf, sizeof(buf), 0), sizeof(buf));
	assert_int_equal(pinmm_fsync(p, fd), 0);
	addr = pinmm_mmap(p, 0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_true(addr > 0);
	assert_int_equal(pinmm_store(p, (unsigned long)addr, secret, sizeof(secret)),
			 sizeof(secret));
	assert_int_equal(pinmm_sync(m), 0);
	assert_int_equal(pinmm_fsync(p, fd), 0);
	assert_int_equal(image_find(t->img, secret, sizeof(secret)), -1);
	assert_int_equal(pinmm_pread(p, fd, buf, 16, 0), 16);
	assert_int_equal(buf[0], 'A');
	assert_int_equal(pinfs_event(m, PINMM_PINFS_MKWRITE), 0);
	assert_int_equal(pinmm_munmap(p, (unsigned long)addr, 4096), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
	assert_int_equal(image_find(t->img, secret, sizeof(secret)), -1);
}

static void test_truncate_punch(void **state)
{
	struct test_imgdir *t = *state;
	static char buf[20 * 4096], rbuf[4096];
	struct pinmm *m = boot_ok(t->img, NULL);
	struct pinmm_proc *p = test_proc(m);
	uint64_t f0 = free_blocks(m), f1;
	int fd;

	fill(buf, sizeof(buf), 3);
	fd = pinmm_open(p, "/data/t", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pwrite(p, fd, buf, sizeof(buf), 0), sizeof(buf));
	f1 = free_blocks(m);
	assert_int_equal(f0 - f1, 20 + 1);		/* 20 data + 1 indirect */

	/* Punch pages 2..5 plus half a page on each side. */
	assert_int_equal(pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					 2 * 4096 - 100, 4 * 4096 + 200), 0);
	assert_int_equal(free_blocks(m), f1 + 4);
	assert_int_equal(pinmm_fstat_size(p, fd), sizeof(buf));
	assert_int_equal(pinmm_pread(p, fd, rbuf, 4096, 3 * 4096), 4096);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(rbuf[i], 0);
	assert_int_equal(pinmm_pread(p, fd, rbuf, 200, 2 * 4096 - 200), 200);
	assert_memory_equal(rbuf, buf + 2 * 4096 - 200, 100);
	for (int i = 100; i < 200; i++)
		assert_int_equal(rbuf[i], 0);

	/* Truncate into the middle of a page, then to 0: everything back. */
	assert_int_equal(pinmm_ftruncate(p, fd, 13 * 4096 + 10), 0);
	assert_int_equal(free_blocks(m), f1 + 4 + 6);
	assert_int_equal(pinmm_ftruncate(p, fd, 14 * 4096), 0);
	assert_int_equal(pinmm_pread(p, fd, rbuf, 20, 13 * 4096), 20);
	assert_memory_equal(rbuf, buf + 13 * 4096, 10);
	for (int i = 10; i < 20; i++)
		assert_int_equal(rbuf[i], 0);
	assert_int_equal(pinmm_ftruncate(p, fd, 0), 0);
	assert_int_equal(free_blocks(m), f0);

	/* fallocate allocates zeroed blocks. */
	assert_int_equal(pinmm_fallocate(p, fd, 0, 0, 3 * 4096), 0);
	assert_int_equal(free_blocks(m), f0 - 3);
	assert_int_equal(pinmm_fstat_size(p, fd), 3 * 4096);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
	assert_int_equal(pinfs_check_image(t->img, false, NULL), 0);
}

static void test_enospc(void **state)
{
	struct test_imgdir *t = *state;
	static char buf[4096];
	struct pinmm *m = boot_ok(t->img, "1M");
	struct pinmm_proc *p = test_proc(m);
	long ret = 0, off = 0, addr;
	int fd, fd2;

	memset(buf, 'z', sizeof(buf));
	fd = pinmm_open(p, "/data/big", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	while ((ret = pinmm_pwrite(p, fd, buf, sizeof(buf), off)) > 0)
		off += ret;
	assert_int_equal(ret, -ENOSPC);
	assert_int_equal(free_blocks(m), 0);
	assert_true(off > 200 * 4096);

	/* A store into a hole of a shared mapping: SIGBUS (-EFAULT). */
	fd2 = pinmm_open(p, "/data/hole", O_RDWR | O_CREAT, 0600);
	assert_true(fd2 >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd2, 4096), 0);
	addr = pinmm_mmap(p, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	assert_true(addr > 0);
	assert_int_equal(pinmm_store(p, (unsigned long)addr, "x", 1), -EFAULT);
	assert_int_equal(pinmm_fallocate(p, fd2, 0, 0, 4096), -ENOSPC);
	assert_int_equal(pinmm_munmap(p, (unsigned long)addr, 4096), 0);

	/* Freeing space makes it work again. */
	assert_int_equal(pinmm_ftruncate(p, fd, 0), 0);
	assert_int_equal(pinmm_pwrite(p, fd2, buf, 10, 0), 10);
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(pinmm_close(p, fd2), 0);
	test_shutdown_clean(m);
	assert_int_equal(pinfs_check_image(t->img, false, NULL), 0);
}

static void test_eio_injection(void **state)
{
	struct test_imgdir *t = *state;
	static char a[8192], b[8192], r[8192];
	struct pinmm *m = boot_ok(t->img, NULL);
	struct pinmm_proc *p = test_proc(m);
	int fd;

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	fd = pinmm_open(p, "/data/e", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pwrite(p, fd, a, sizeof(a), 0), sizeof(a));
	assert_int_equal(pinmm_fsync(p, fd), 0);

	assert_int_equal(pinmm_pwrite(p, fd, b, sizeof(b), 0), sizeof(b));
	assert_int_equal(pinmm_pinfs_inject(m, "write", 0, -1), 0);
	assert_int_equal(pinmm_fsync(p, fd), -EIO);
	assert_int_equal(pinmm_vmstat(m, "nr_dirty"), 2);	/* kept dirty */
	assert_int_equal(pinmm_sync(m), -EIO);
	assert_int_equal(pinmm_vmstat(m, "nr_dirty"), 2);
	assert_int_equal(pinmm_pinfs_inject(m, "write", 0, 0), 0);	/* fault clears */
	assert_int_equal(pinmm_fsync(p, fd), -EIO);	/* the sync's error, once */
	assert_int_equal(pinmm_fsync(p, fd), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_dirty"), 0);
	/* Both dirty folios failed in the fsync, and again in the sync. */
	assert_int_equal(pinfs_event(m, PINMM_PINFS_WB_ERRORS), 4);

	/* One failed write, then retry succeeds: reported exactly once. */
	assert_int_equal(pinmm_pwrite(p, fd, a, 100, 0), 100);
	assert_int_equal(pinmm_pinfs_inject(m, "write", 0, 1), 0);
	assert_int_equal(pinmm_fsync(p, fd), -EIO);
	assert_int_equal(pinmm_fsync(p, fd), 0);

	/* A read error is -EIO to pread, and the next read works. */
	assert_true(pinmm_drop_caches(m) >= 2);
	assert_int_equal(pinmm_pinfs_inject(m, "read", 0, 1), 0);
	assert_int_equal(pinmm_pread(p, fd, r, 4096, 0), -EIO);
	assert_int_equal(pinmm_pread(p, fd, r, sizeof(r), 0), sizeof(r));
	assert_memory_equal(r, a, 100);
	assert_memory_equal(r + 100, b + 100, sizeof(r) - 100);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);

	/* Everything acknowledged by fsync is on the image. */
	m = boot_ok(t->img, NULL);
	p = test_proc(m);
	fd = pinmm_open(p, "/data/e", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pread(p, fd, r, sizeof(r), 0), sizeof(r));
	assert_memory_equal(r, a, 100);
	assert_memory_equal(r + 100, b + 100, sizeof(r) - 100);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

static void test_fail_io_config(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm_config cfg;
	struct pinmm *m = NULL;
	struct pinmm_proc *p;
	char buf[64];
	int fd;

	pinmm_config_default(&cfg);
	assert_int_equal(pinmm_config_set(&cfg, "pinfs.fail_io", "read:2,write:1"), 0);
	assert_int_equal(pinmm_config_get(&cfg, "pinfs.fail_io", buf, sizeof(buf)), 14);
	assert_string_equal(buf, "read:2,write:1");
	assert_int_equal(pinmm_config_set(&cfg, "pinfs.fail_io", "sideways:1"), -EINVAL);
	assert_int_equal(pinmm_config_set(&cfg, "writeback.interval_ms", "20"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "pinfs.fail_io", "write:1"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "pinfs.image", t->img), 0);
	assert_int_equal(pinmm_config_set(&cfg, "pinfs.size", "4M"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "256M"), 0);
	assert_int_equal(pinmm_boot(&cfg, &m), 0);
	p = test_proc(m);
	fd = pinmm_open(p, "/data/f", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pwrite(p, fd, "hello", 5, 0), 5);
	assert_int_equal(pinmm_fsync(p, fd), -EIO);	/* the first write failed */
	assert_int_equal(pinmm_fsync(p, fd), 0);
	/* The flusher writes new dirty data in the background. */
	assert_int_equal(pinmm_pwrite(p, fd, "world", 5, 0), 5);
	for (int i = 0; i < 200 && pinmm_vmstat(m, "nr_dirty"); i++)
		usleep(10000);
	assert_int_equal(pinmm_vmstat(m, "nr_dirty"), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

/*
 * A punch or truncate whose partial-page read fails changes nothing: before
 * the fix the punch freed the middle before failing on the head page, and
 * the truncate changed the size and never zeroed the tail (the old bytes
 * came back when the file grew again, also after a remount).
 */
static void test_failed_partial_read_changes_nothing(void **state)
{
	struct test_imgdir *t = *state;
	static char buf[4 * 4096], back[4 * 4096];
	struct pinmm *m = boot_ok(t->img, NULL);
	struct pinmm_proc *p = test_proc(m);
	int fd;

	fill(buf, sizeof(buf), 11);
	fd = pinmm_open(p, "/data/pp", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pwrite(p, fd, buf, sizeof(buf), 0), sizeof(buf));
	assert_int_equal(pinmm_fsync(p, fd), 0);

	/* Punch [100, 3 pages + 100): the head page's read fails. */
	assert_true(pinmm_drop_caches(m) >= 0);
	assert_int_equal(pinmm_pinfs_inject(m, "read", 0, 1), 0);
	assert_int_equal(pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					 100, 3 * 4096), -EIO);
	assert_int_equal(pinmm_pinfs_inject(m, "read", 0, 0), 0);
	assert_int_equal(pinmm_pread(p, fd, back, sizeof(back), 0), sizeof(back));
	assert_memory_equal(back, buf, sizeof(buf));

	/* Truncate to 1 page + 10: the read of page 1 fails. */
	assert_int_equal(pinmm_fsync(p, fd), 0);
	assert_true(pinmm_drop_caches(m) >= 0);
	assert_int_equal(pinmm_pinfs_inject(m, "read", 0, 1), 0);
	assert_int_equal(pinmm_ftruncate(p, fd, 4096 + 10), -EIO);
	assert_int_equal(pinmm_pinfs_inject(m, "read", 0, 0), 0);
	assert_int_equal(pinmm_fstat_size(p, fd), sizeof(buf));
	assert_int_equal(pinmm_pread(p, fd, back, sizeof(back), 0), sizeof(back));
	assert_memory_equal(back, buf, sizeof(buf));

	/* Done for real, then grown again: the cut tail reads as zeroes. */
	assert_int_equal(pinmm_ftruncate(p, fd, 4096 + 10), 0);
	assert_int_equal(pinmm_ftruncate(p, fd, 2 * 4096), 0);
	assert_int_equal(pinmm_pread(p, fd, back, 2 * 4096, 0), 2 * 4096);
	assert_memory_equal(back, buf, 4096 + 10);
	for (size_t i = 4096 + 10; i < 2 * 4096; i++)
		assert_int_equal(back[i], 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);

	/* ... and after a remount. */
	m = boot_ok(t->img, NULL);
	p = test_proc(m);
	fd = pinmm_open(p, "/data/pp", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pread(p, fd, back, 2 * 4096, 0), 2 * 4096);
	assert_memory_equal(back, buf, 4096 + 10);
	for (size_t i = 4096 + 10; i < 2 * 4096; i++)
		assert_int_equal(back[i], 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

/*
 * Between reading the page a truncate cuts and zeroing its tail, reclaim can
 * strip the page's block mapping (release_folio runs before reclaim sees
 * the truncate's reference, as in Linux).  The zeroes must still reach the
 * disk: before the fix they were left in a clean page and the old bytes
 * came back after drop_caches.  The lease break callback, which runs
 * between the two steps, is where the reclaim is made to happen.
 */
struct strip_ctx {
	struct pinmm *m;
	struct pinmm_lease *l;
	long reclaimed;
};

static void strip_on_break(struct pinmm_lease *l, void *arg)
{
	struct strip_ctx *c = arg;

	c->reclaimed = pinmm_reclaim(c->m, 1L << 20);
	assert_int_equal(pinmm_lease_put(l), 0);
	c->l = NULL;
}

static void test_truncate_tail_zeroed_after_strip(void **state)
{
	struct test_imgdir *t = *state;
	static char buf[3 * 4096], back[2 * 4096];
	struct strip_ctx c = { 0 };
	struct pinmm_config cfg;
	struct pinmm_proc *p;
	struct pinmm *m;
	int fd;

	pinmm_config_default(&cfg);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "256M"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "quiet", "1"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "pinfs.image", t->img), 0);
	assert_int_equal(pinmm_config_set(&cfg, "pinfs.size", "8M"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "fs.pinned_policy", "lease"), 0);
	assert_int_equal(pinmm_boot(&cfg, &m), 0);
	p = test_proc(m);
	c.m = m;
	memset(buf, 0x6b, sizeof(buf));
	fd = pinmm_open(p, "/data/strip", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pwrite(p, fd, buf, sizeof(buf), 0), sizeof(buf));
	assert_int_equal(pinmm_fsync(p, fd), 0);
	assert_true(pinmm_drop_caches(m) >= 0);
	assert_int_equal(pinmm_lease_get(p, fd, strip_on_break, &c, &c.l), 0);

	/* page 2 leaves the file (a lease break), page 1 is cut at 10 */
	assert_int_equal(pinmm_ftruncate(p, fd, 4096 + 10), 0);
	assert_null(c.l);			/* the break ran ... */
	assert_true(c.reclaimed >= 0);		/* ... and reclaim with it */
	assert_int_equal(pinmm_fsync(p, fd), 0);
	assert_true(pinmm_drop_caches(m) >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd, 2 * 4096), 0);
	assert_int_equal(pinmm_pread(p, fd, back, sizeof(back), 0), sizeof(back));
	assert_memory_equal(back, buf, 4096 + 10);
	for (size_t i = 4096 + 10; i < sizeof(back); i++)
		if (back[i]) {
			print_error("byte %zu is %#x after the truncate, not 0\n", i,
				    (unsigned char)back[i]);
			fail();
		}
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

/* ------------------------------------------------------------------ */
/* Corrupt images                                                      */

static uint64_t le64_at(const char *img, off_t off)
{
	uint8_t b[8];
	uint64_t v = 0;
	int fd = open(img, O_RDONLY);

	assert_int_equal(pread(fd, b, 8, off), 8);
	close(fd);
	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static void put_le32_at(const char *img, off_t off, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	int fd = open(img, O_RDWR);

	assert_int_equal(pwrite(fd, b, 4, off), 4);
	close(fd);
}

/* An image with one file "f" of @pages pages; returns the inode offset. */
static off_t make_image(const char *img, int pages)
{
	static char buf[16 * 4096];
	struct pinmm *m;
	struct pinmm_proc *p;
	int fd;

	unlink(img);
	m = boot_ok(img, NULL);
	p = test_proc(m);
	fill(buf, sizeof(buf), 9);
	fd = pinmm_open(p, "/data/f", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pwrite(p, fd, buf, (size_t)pages * 4096, 0), pages * 4096);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
	assert_int_equal(pinfs_check_image(img, false, NULL), 0);
	return (off_t)(le64_at(img, 40) * 4096);	/* itable_start; slot 0 */
}

static void expect_bad_then_repair(const char *img, int boot_err)
{
	struct pinmm *m;

	assert_int_equal(boot_img(img, NULL, &m), boot_err);
	assert_null(m);
	assert_true(pinfs_check_image(img, false, NULL) > 0);
	assert_true(pinfs_check_image(img, true, NULL) > 0);
	assert_int_equal(pinfs_check_image(img, false, NULL), 0);
	m = boot_ok(img, NULL);
	test_shutdown_clean(m);
	assert_int_equal(pinfs_check_image(img, false, NULL), 0);
}

static void test_corrupt_images(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m;
	off_t ino;
	uint32_t ind;
	int fd;

	/* Bad magic: -EINVAL; the checksum proves it was pinfs: repaired. */
	make_image(t->img, 2);
	put_le32_at(t->img, 0, 0xdeadbeef);
	expect_bad_then_repair(t->img, -EINVAL);

	/* Out-of-range block pointer in an inode. */
	ino = make_image(t->img, 2);
	put_le32_at(t->img, ino + 16 + 4, 0x7ffffff0);
	expect_bad_then_repair(t->img, -EUCLEAN);

	/* An indirect block that points at itself (a loop). */
	ino = make_image(t->img, 14);
	ind = (uint32_t)le64_at(t->img, ino + 64) & 0xffffffffu;
	assert_true(ind > 0);
	put_le32_at(t->img, (off_t)ind * 4096 + 4, ind);
	expect_bad_then_repair(t->img, -EUCLEAN);

	/* Two files sharing a block, a leaked block. */
	ino = make_image(t->img, 3);
	put_le32_at(t->img, ino + 16 + 8, (uint32_t)le64_at(t->img, ino + 16) & 0xffffffffu);
	expect_bad_then_repair(t->img, -EUCLEAN);

	/* Not a pinfs image at all: refused, and fsck cannot help. */
	fd = open(t->img, O_RDWR | O_TRUNC);
	for (int i = 0; i < 64; i++)
		assert_int_equal(write(fd, "garbage!garbage!garbage!garbage!", 32), 32);
	close(fd);
	assert_int_equal(boot_img(t->img, NULL, &m), -EINVAL);
	assert_int_equal(pinfs_check_image(t->img, true, NULL), -EUCLEAN);
	assert_int_equal(pinfs_check_image("/nonexistent/pinfs.img", false, NULL), -ENOENT);
}

static off_t file_size(const char *img)
{
	struct stat st;

	assert_int_equal(stat(img, &st), 0);
	return st.st_size;
}

/*
 * An image smaller than its super block says (truncated, or a forged super
 * block) is refused by mount and by fsck, and --repair leaves it as it is:
 * fsck never grows an image (it used to extend a forged 4 KiB image to the
 * 16 TiB its super block claimed, spending seconds and gigabytes first).
 */
static void test_image_smaller_than_super(void **state)
{
	struct test_imgdir *t = *state;
	uint8_t sb[4096];
	struct pinmm *m;
	int fd;

	make_image(t->img, 3);
	fd = open(t->img, O_RDWR);
	assert_int_equal(ftruncate(fd, 1024 * 1024), 0);
	close(fd);
	assert_int_equal(boot_img(t->img, NULL, &m), -EUCLEAN);
	assert_null(m);
	assert_int_equal(pinfs_check_image(t->img, false, NULL), -EUCLEAN);
	assert_int_equal(pinfs_check_image(t->img, true, NULL), -EUCLEAN);
	assert_int_equal(file_size(t->img), 1024 * 1024);

	/*
	 * A forged super block in a 4 KiB file: a consistent layout for
	 * 2^32 - 16 blocks (valid magic, geometry and checksum).
	 */
	make_image(t->img, 1);
	fd = open(t->img, O_RDWR);
	assert_int_equal(pread(fd, sb, sizeof(sb), 0), (ssize_t)sizeof(sb));
	{
		struct pinfs_forged { uint64_t blocks; } forged = { 0xfffffff0ull };
		uint64_t inodes = 1u << 20, bitmap = (forged.blocks + 32767) / 32768;
		uint64_t itable_start = 1 + bitmap, itable_blocks = inodes / 16;
		uint64_t data_start = itable_start + itable_blocks;

		for (int i = 0; i < 8; i++) {
			sb[16 + i] = (uint8_t)(forged.blocks >> (8 * i));
			sb[40 + i] = (uint8_t)(itable_start >> (8 * i));
			sb[56 + i] = (uint8_t)(data_start >> (8 * i));
		}
		for (int i = 0; i < 4; i++) {
			sb[24 + i] = (uint8_t)(inodes >> (8 * i));
			sb[28 + i] = (uint8_t)(bitmap >> (8 * i));
			sb[48 + i] = (uint8_t)(itable_blocks >> (8 * i));
		}
	}
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(pwrite(fd, sb, sizeof(sb), 0), (ssize_t)sizeof(sb));
	close(fd);
	/* the checksum is stale: fsck would fix it, so the layout is what is judged */
	assert_int_equal(pinfs_check_image(t->img, false, NULL), -EUCLEAN);
	assert_int_equal(pinfs_check_image(t->img, true, NULL), -EUCLEAN);
	assert_int_equal(file_size(t->img), 4096);
	assert_int_equal(boot_img(t->img, NULL, &m), -EUCLEAN);
	assert_int_equal(file_size(t->img), 4096);
}

/*
 * fsck renames a nameless or duplicate entry "ino<N>"; when a file already
 * has that name the repair must pick another, or the duplicate survives
 * every repair and mount refuses the image forever.
 */
static void test_repair_name_collision(void **state)
{
	struct test_imgdir *t = *state;
	struct pinmm *m;
	struct pinmm_proc *p;
	off_t itable;
	int fd;

	unlink(t->img);
	m = boot_ok(t->img, NULL);
	p = test_proc(m);
	fd = pinmm_open(p, "/data/ino2", O_RDWR | O_CREAT, 0600);	/* slot 0 */
	assert_true(fd >= 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	fd = pinmm_open(p, "/data/b", O_RDWR | O_CREAT, 0600);	/* slot 1, inode 2 */
	assert_true(fd >= 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
	assert_int_equal(pinfs_check_image(t->img, false, NULL), 0);

	/* Inode 2 loses its name: the repair's "ino2" is taken by inode 1. */
	itable = (off_t)(le64_at(t->img, 40) * 4096);
	put_le32_at(t->img, itable + 256 + 80, 0);
	assert_true(pinfs_check_image(t->img, true, NULL) > 0);
	assert_int_equal(pinfs_check_image(t->img, false, NULL), 0);
	m = boot_ok(t->img, NULL);
	p = test_proc(m);
	fd = pinmm_open(p, "/data/ino2", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	fd = pinmm_open(p, "/data/ino2.1", O_RDONLY, 0);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

/* ------------------------------------------------------------------ */
/* Reclaim                                                             */

static void test_reclaim(void **state)
{
	struct test_imgdir *t = *state;
	static char buf[4 * 4096];
	struct pinmm *m = boot_ok(t->img, NULL);
	struct pinmm_proc *p = test_proc(m);
	struct pinmm_page_info pi;
	struct page *page;
	long file0, addr;
	int fd;

	fill(buf, sizeof(buf), 5);
	fd = pinmm_open(p, "/data/r", O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pwrite(p, fd, buf, sizeof(buf), 0), sizeof(buf));
	assert_int_equal(pinmm_fsync(p, fd), 0);
	assert_int_equal(pinfs_event(m, PINMM_PINFS_PRIVATE_ATTACH), 4);
	file0 = pinmm_vmstat(m, "nr_file_pages");
	addr = pinmm_mmap(p, 0, sizeof(buf), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(addr > 0);

	test_load8(p, (unsigned long)addr);				/* page 0: mapped clean */
	test_store8(p, (unsigned long)addr + 4096, 0x5a);		/* page 1: dirty */
	assert_int_equal(pinmm_pin_user_pages_fast((unsigned long)addr + 2 * 4096, 1, 0,
						   &page), 1);		/* page 2: pinned */
	/* page 3: cached, clean, unmapped */

	assert_int_equal(pinmm_reclaim(m, 100), 2);
	assert_int_equal(pinmm_vmstat(m, "nr_file_pages"), file0 - 2);
	assert_int_equal(pinfs_event(m, PINMM_PINFS_PRIVATE_RELEASE), 2);
	assert_int_equal(pinmm_page_info(p, (unsigned long)addr, &pi), 0);
	assert_false(pi.present);
	assert_int_equal(pinmm_page_info(p, (unsigned long)addr + 4096, &pi), 0);
	assert_true(pi.present && pi.dirty);
	assert_int_equal(pinmm_page_info(p, (unsigned long)addr + 2 * 4096, &pi), 0);
	assert_true(pi.present && pi.maybe_dma_pinned);

	/* Unpinned, it goes too; the dirty page stays until written back. */
	pinmm_unpin_user_page(page);
	assert_int_equal(pinmm_reclaim(m, 100), 1);
	assert_int_equal(pinmm_reclaim(m, 100), 0);

	/* The data comes back from the image. */
	assert_int_equal(test_load8(p, (unsigned long)addr + 3 * 4096), (uint8_t)buf[3 * 4096]);
	assert_int_equal(test_load8(p, (unsigned long)addr + 4096), 0x5a);

	/* drop_caches writes back, then drops clean unmapped pages only. */
	assert_int_equal(pinmm_drop_caches(m), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_dirty"), 0);
	assert_int_equal(pinmm_munmap(p, (unsigned long)addr, sizeof(buf)), 0);
	assert_int_equal(pinmm_drop_caches(m), 2);
	assert_int_equal(pinmm_vmstat(m, "nr_file_pages"), file0 - 4);
	assert_int_equal(pinmm_pread(p, fd, buf, 1, 4096), 1);
	assert_int_equal(buf[0], 0x5a);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
	assert_int_equal(pinfs_check_image(t->img, false, NULL), 0);
}

static void test_no_pinfs(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_pinfs_stat st;

	(void)state;
	assert_int_equal(pinmm_pinfs_statfs(m, &st), -ENOENT);
	assert_int_equal(pinmm_pinfs_inject(m, "read", 0, 1), -ENOENT);
	assert_int_equal(pinmm_sync(m), 0);
	assert_int_equal(pinmm_drop_caches(m), 0);
	assert_int_equal(pinmm_reclaim(m, 10), 0);
	assert_int_equal(pinmm_reclaim(m, 0), -EINVAL);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rw_unlink_persist, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_mmap_shared_writeback, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_mmap_private, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_truncate_punch, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_failed_partial_read_changes_nothing,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_truncate_tail_zeroed_after_strip,
						test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_image_smaller_than_super, test_imgdir_setup,
						test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_repair_name_collision, test_imgdir_setup,
						test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_enospc, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_eio_injection, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_fail_io_config, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_images, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test_setup_teardown(test_reclaim, test_imgdir_setup, test_imgdir_teardown),
		cmocka_unit_test(test_no_pinfs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
