/* SPDX-License-Identifier: MIT */
/*
 * test_pinfs_shift.c - fallocate FALLOC_FL_COLLAPSE_RANGE and
 * FALLOC_FL_INSERT_RANGE on both pinfs mounts (/data/: page cache,
 * /dax/: fsdax): the errno of every bad case (ext4's, measured on the
 * host: see the table in doc/PINFS.md), nothing changed by a refused
 * call; the data moves (read back through pread and through a mapping
 * made before the call), across the direct/indirect boundary both ways;
 * on /data/ it survives a remount and the image passes fsck.
 */
#include "dax_helpers.h"

#include <unistd.h>

/* The largest pinfs file: 12 direct, 1024 indirect, 1024^2 double-indirect blocks. */
#define PINFS_MAX_FILESIZE_TEST ((12L + 1024 + 1024L * 1024) * 4096)
#define COLLAPSE FALLOC_FL_COLLAPSE_RANGE
#define INSERT FALLOC_FL_INSERT_RANGE

static const char *const mounts[] = { "/data/", "/dax/" };

/* A machine with the mount @mnt only (pinmm_pinfs_statfs() reports /data/ if mounted). */
static struct pinmm *sh_boot(const char *img, const char *mnt)
{
	char i[160];

	if (strcmp(mnt, "/data/"))
		return test_boot("ram=256M", "debug=2", "quiet=1", "pmem=64M", NULL);
	snprintf(i, sizeof(i), "pinfs.image=%s", img);
	return test_boot("ram=256M", "debug=2", "quiet=1", "pinfs.size=8M", i, NULL);
}

/* A file of @pages pages, page k filled with 'A' + k. */
static int sh_file(struct pinmm_proc *p, const char *mnt, const char *name, int pages)
{
	char path[64], buf[4096];
	int fd;

	snprintf(path, sizeof(path), "%s%s", mnt, name);
	fd = pinmm_open(p, path, O_CREAT | O_RDWR | O_TRUNC, 0644);
	assert_true(fd >= 0);
	for (int k = 0; k < pages; k++) {
		memset(buf, 'A' + k, sizeof(buf));
		assert_int_equal(pinmm_pwrite(p, fd, buf, PG, (long)k * PG), PG);
	}
	return fd;
}

/* The file is @want (one letter per page, '0' for a zero page). */
static void sh_expect(struct pinmm_proc *p, int fd, const char *want)
{
	char buf[4096];
	size_t n = strlen(want);

	assert_int_equal(pinmm_fstat_size(p, fd), (long)(n * PG));
	for (size_t k = 0; k < n; k++) {
		char c = want[k] == '0' ? 0 : want[k];

		assert_int_equal(pinmm_pread(p, fd, buf, PG, (long)(k * PG)), PG);
		for (size_t i = 0; i < PG; i += 1021)
			if (buf[i] != c)
				fail_msg("page %zu byte %zu: %#x, want %#x", k, i, buf[i], c);
	}
}

/* Every refused call of the table changes nothing. */
static void errors_on(const char *img, const char *mnt)
{
	struct pinmm *m = sh_boot(img, mnt);
	struct pinmm_proc *p = test_proc(m);
	int fd = sh_file(p, mnt, "e", 8), ro;
	char path[64];
	static const struct {
		int mode;
		long off, len;
		int err;
	} bad[] = {
		{ COLLAPSE, 100, PG, -EINVAL },		/* offset not a block multiple */
		{ COLLAPSE, 0, 100, -EINVAL },		/* length not a block multiple */
		{ COLLAPSE, 7 * PG, PG, -EINVAL },	/* reaches EOF: a truncate */
		{ COLLAPSE, 7 * PG, 2 * PG, -EINVAL },	/* past EOF */
		{ COLLAPSE, 0, 8 * PG, -EINVAL },	/* the whole file */
		{ COLLAPSE | FALLOC_FL_KEEP_SIZE, 0, PG, -EOPNOTSUPP },
		{ COLLAPSE | INSERT, 0, PG, -EOPNOTSUPP },
		{ COLLAPSE | FALLOC_FL_PUNCH_HOLE, 0, PG, -EOPNOTSUPP },
		{ INSERT, 100, PG, -EINVAL },
		{ INSERT, 0, 100, -EINVAL },
		{ INSERT, 8 * PG, PG, -EINVAL },	/* at EOF */
		{ INSERT, 16 * PG, PG, -EINVAL },	/* past EOF */
		{ INSERT | FALLOC_FL_KEEP_SIZE, 0, PG, -EOPNOTSUPP },
		{ INSERT, 0, 0, -EINVAL },
		{ INSERT, -PG, PG, -EINVAL },
		/* the file would outgrow the largest pinfs file */
		{ INSERT, 0, (long)PINFS_MAX_FILESIZE_TEST - 4 * PG, -EFBIG },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = pinmm_fallocate(p, fd, bad[i].mode, bad[i].off, bad[i].len);

		if (r != bad[i].err)
			fail_msg("case %zu (mode %#x off %ld len %ld): %d, want %d", i, bad[i].mode,
				 bad[i].off, bad[i].len, r, bad[i].err);
	}
	sh_expect(p, fd, "ABCDEFGH");
	snprintf(path, sizeof(path), "%se", mnt);
	ro = pinmm_open(p, path, O_RDONLY, 0);
	assert_int_equal(pinmm_fallocate(p, ro, COLLAPSE, 0, PG), -EBADF);
	assert_int_equal(pinmm_fallocate(p, ro, INSERT, 0, PG), -EBADF);
	sh_expect(p, fd, "ABCDEFGH");
	assert_int_equal(pinmm_close(p, ro), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

/*
 * Collapse and insert in the direct blocks, then across the boundary of
 * the indirect block both ways; a mapping made before each call sees the
 * moved data; free blocks come back.
 */
static void moves_on(const char *img, const char *mnt)
{
	struct pinmm *m = sh_boot(img, mnt);
	struct pinmm_proc *p = test_proc(m);
	int fd = sh_file(p, mnt, "m", 8);
	uint64_t before = free_blocks(m);
	long a = pinmm_mmap(p, 0, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	assert_true(a > 0);
	assert_int_equal(test_load8(p, (unsigned long)a + PG), 'B');	/* cached / mapped */
	assert_int_equal(pinmm_fallocate(p, fd, COLLAPSE, PG, PG), 0);
	sh_expect(p, fd, "ACDEFGH");
	assert_int_equal(test_load8(p, (unsigned long)a + PG), 'C');
	assert_int_equal(free_blocks(m), before + 1);
	assert_int_equal(pinmm_fallocate(p, fd, INSERT, 0, 2 * PG), 0);
	assert_int_equal(free_blocks(m), before + 1);	/* an insert allocates nothing */
	sh_expect(p, fd, "00ACDEFGH");
	/* (a DAX read fault of the hole allocates its block: PINFS.md) */
	assert_int_equal(test_load8(p, (unsigned long)a + 2 * PG), 'A');
	assert_int_equal(test_load8(p, (unsigned long)a), 0);
	/* Writes into the inserted hole and at the end still work. */
	test_store8(p, (unsigned long)a, 'z');
	assert_int_equal(pinmm_munmap(p, (unsigned long)a, 8 * PG), 0);
	assert_int_equal(pinmm_close(p, fd), 0);

	/* 14 pages: 12 direct, 2 in the indirect block. */
	fd = sh_file(p, mnt, "big", 14);
	before = free_blocks(m);
	assert_int_equal(pinmm_fallocate(p, fd, COLLAPSE, 4 * PG, 3 * PG), 0);	/* ind -> direct */
	sh_expect(p, fd, "ABCDHIJKLMN");
	/* the indirect block maps nothing now: freed with the 3 blocks */
	assert_int_equal(free_blocks(m), before + 4);
	assert_int_equal(pinmm_fallocate(p, fd, INSERT, PG, 5 * PG), 0);	/* direct -> ind */
	sh_expect(p, fd, "A00000BCDHIJKLMN");
	assert_int_equal(free_blocks(m), before + 3);	/* the indirect block again */
	assert_int_equal(pinmm_fsync(p, fd), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);

	if (strcmp(mnt, "/data/"))
		return;			/* pmem does not outlive the machine */
	assert_int_equal(pinfs_check_image(img, false, NULL), 0);
	m = sh_boot(img, mnt);
	p = test_proc(m);
	fd = pinmm_open(p, "/data/big", O_RDWR, 0);
	assert_true(fd >= 0);
	sh_expect(p, fd, "A00000BCDHIJKLMN");
	fd = pinmm_open(p, "/data/m", O_RDWR, 0);
	assert_true(fd >= 0);
	{
		char c;

		assert_int_equal(pinmm_pread(p, fd, &c, 1, 0), 1);
		assert_int_equal(c, 'z');
	}
	test_shutdown_clean(m);
}

static void test_errors_data(void **s)
{
	errors_on(((struct test_imgdir *)*s)->img, mounts[0]);
}

static void test_errors_dax(void **s)
{
	errors_on(((struct test_imgdir *)*s)->img, mounts[1]);
}

static void test_moves_data(void **s)
{
	moves_on(((struct test_imgdir *)*s)->img, mounts[0]);
}

static void test_moves_dax(void **s)
{
	moves_on(((struct test_imgdir *)*s)->img, mounts[1]);
}

#define T(f) cmocka_unit_test_setup_teardown(f, test_imgdir_setup, test_imgdir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_errors_data),
		T(test_errors_dax),
		T(test_moves_data),
		T(test_moves_dax),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
