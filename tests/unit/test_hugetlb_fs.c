/* SPDX-License-Identifier: MIT */
/*
 * test_hugetlb_fs.c - hugetlbfs files (/dev/hugepages) and MFD_HUGETLB
 * memfds: sizes, read/write, reservations of shared files, truncation and
 * hole punch (with a pinned page), fallocate (mm/hugetlbfs.c).
 */
#include "helpers.h"
#include <stdio.h>
#include <pinmm/linux.h>
#include <pinmm/dio.h>

#define HP2M (2 * MiB)

static long vm(struct pinmm *m, const char *name)
{
	long v = pinmm_vmstat(m, name);

	assert_true(v >= 0);
	return v;
}
#define FREE2M(m) vm((m), "free_hugepages_2048kB")
#define RSVD2M(m) vm((m), "resv_hugepages_2048kB")

static void test_memfd_hugetlb(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=4", "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m);
	int fd = pinmm_memfd_create(p, "buf", MFD_HUGETLB | MFD_HUGE_2MB | MFD_CLOEXEC);
	struct pinmm_statfs st;
	char buf[8] = { 0 };
	long a;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(pinmm_fstatfs(p, fd, &st), 0);
	assert_int_equal(st.f_type, PINMM_HUGETLBFS_MAGIC);
	/* Sizes are whole huge pages; write() is not supported, as Linux. */
	assert_int_equal(pinmm_ftruncate(p, fd, 4096), -EINVAL);
	assert_int_equal(pinmm_ftruncate(p, fd, 2 * HP2M), 0);
	assert_int_equal(pinmm_pwrite(p, fd, "x", 1, 0), -EINVAL);
	assert_int_equal(pinmm_fstat_size(p, fd), 2 * HP2M);
	a = pinmm_mmap(p, 0, 2 * HP2M, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(a > 0);
	assert_int_equal(a % HP2M, 0);
	assert_int_equal(RSVD2M(m), 2);
	assert_int_equal(pinmm_store(p, (unsigned long)a + HP2M + 10, "hello", 5), 5);
	assert_int_equal(pinmm_pread(p, fd, buf, 5, HP2M + 10), 5);
	assert_string_equal(buf, "hello");
	/* A hole reads as zeroes. */
	assert_int_equal(pinmm_pread(p, fd, buf, 4, 0), 4);
	assert_int_equal(buf[0] | buf[1] | buf[2] | buf[3], 0);
	/* An offset that is not a whole huge page: -EINVAL. */
	assert_int_equal(pinmm_mmap(p, 0, HP2M, PROT_READ, MAP_SHARED, fd, 4096), -EINVAL);
	assert_int_equal(pinmm_munmap(p, (unsigned long)a, 2 * HP2M), 0);
	/* The file keeps its page and its other reservation. */
	assert_int_equal(FREE2M(m), 3);
	assert_int_equal(RSVD2M(m), 1);
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(FREE2M(m), 4);
	assert_int_equal(RSVD2M(m), 0);
	/* A size the machine has no pool for. */
	assert_int_equal(pinmm_memfd_create(p, "x", MFD_HUGETLB | (25U << MFD_HUGE_SHIFT)), -ENODEV);
	assert_int_equal(pinmm_memfd_create(p, "x", MFD_HUGETLB | 0x100), -EINVAL);
	test_shutdown_clean(m);
}

/* A named file in /dev/hugepages is shared between processes through its cache. */
static void test_dev_hugepages_file(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=4", "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m), *q = test_proc(m);
	int fd = pinmm_open(p, "/dev/hugepages/db", O_RDWR | O_CREAT, 0600), fd2;
	long a, b;

	(void)state;
	assert_true(fd >= 0);
	/* A writable shared mapping extends the file. */
	a = pinmm_mmap(p, 0, HP2M, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(a > 0);
	assert_int_equal(pinmm_fstat_size(p, fd), HP2M);
	test_store8(p, (unsigned long)a + 5, 55);
	fd2 = pinmm_open(q, "/dev/hugepages/db", O_RDWR, 0);
	assert_true(fd2 >= 0);
	/* A length that is not a huge page multiple is rounded up. */
	b = pinmm_mmap(q, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	assert_true(b > 0);
	assert_int_equal(test_load8(q, (unsigned long)b + 5), 55);
	assert_int_equal(FREE2M(m), 3);
	/* A private mapping reads the cached page and copies on write. */
	b = pinmm_mmap(q, 0, HP2M, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd2, 0);
	assert_true(b > 0);
	assert_int_equal(test_load8(q, (unsigned long)b + 5), 55);
	test_store8(q, (unsigned long)b + 5, 66);
	assert_int_equal(test_load8(p, (unsigned long)a + 5), 55);
	assert_int_equal(FREE2M(m), 2);
	assert_int_equal(pinmm_audit(m), 0);
	assert_int_equal(pinmm_unlink(p, "/dev/hugepages/db"), 0);
	assert_int_equal(pinmm_open(p, "/dev/hugepages1G/none", O_RDWR, 0), -ENOENT);
	test_shutdown_clean(m);
}

/* Truncation unmaps and frees; a pinned page stays until its unpin. */
static void test_truncate_with_pin(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=3", "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m);
	int fd = pinmm_memfd_create(p, "t", MFD_HUGETLB);
	struct page *page;
	uint8_t v;
	long a;

	(void)state;
	assert_int_equal(pinmm_ftruncate(p, fd, 2 * HP2M), 0);
	a = pinmm_mmap(p, 0, 2 * HP2M, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(a > 0);
	test_store8(p, (unsigned long)a, 1);
	test_store8(p, (unsigned long)a + HP2M, 2);
	assert_int_equal(pin_user_pages_fast((unsigned long)a + HP2M, 1, FOLL_WRITE, &page), 1);
	assert_int_equal(FREE2M(m), 1);
	assert_int_equal(pinmm_ftruncate(p, fd, HP2M), 0);
	/* Beyond EOF: SIGBUS; the pinned page is detached, still readable. */
	assert_int_equal(pinmm_load(p, (unsigned long)a + HP2M, &v, 1), -EFAULT);
	assert_int_equal(((uint8_t *)kmap_local_page(page))[0], 2);
	assert_int_equal(FREE2M(m), 1);
	assert_int_equal(RSVD2M(m), 0);
	assert_int_equal(pinmm_audit(m), 0);
	unpin_user_page(page);
	assert_int_equal(FREE2M(m), 2);
	assert_int_equal(test_load8(p, (unsigned long)a), 1);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

/* Hole punch: partial huge pages are zeroed, whole ones freed; fallocate allocates. */
static void test_punch_and_fallocate(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=3", "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m);
	int fd = pinmm_memfd_create(p, "f", MFD_HUGETLB);
	long a;
	char c;

	(void)state;
	assert_int_equal(pinmm_fallocate(p, fd, 0, 0, 2 * HP2M), 0);
	assert_int_equal(pinmm_fstat_size(p, fd), 2 * HP2M);
	assert_int_equal(FREE2M(m), 1);
	a = pinmm_mmap(p, 0, 2 * HP2M, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(a > 0);
	assert_int_equal(RSVD2M(m), 0);		/* the pages are there already */
	test_store8(p, (unsigned long)a + 100, 7);
	test_store8(p, (unsigned long)a + HP2M + 100, 8);
	/* [50, 2M + 50): no whole huge page, only zeroing. */
	assert_int_equal(pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					 50, HP2M), 0);
	assert_int_equal(test_load8(p, (unsigned long)a + 100), 0);
	assert_int_equal(test_load8(p, (unsigned long)a + HP2M + 100), 8);
	assert_int_equal(FREE2M(m), 1);
	/* The whole second page. */
	assert_int_equal(pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					 HP2M, HP2M), 0);
	assert_int_equal(FREE2M(m), 2);
	assert_int_equal(pinmm_pread(p, fd, &c, 1, HP2M + 100), 1);
	assert_int_equal(c, 0);
	assert_int_equal(pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE, 0, HP2M), -EOPNOTSUPP);
	/* The pool runs dry: -ENOSPC. */
	assert_int_equal(pinmm_fallocate(p, fd, 0, 2 * HP2M, 3 * HP2M), -ENOSPC);
	assert_int_equal(pinmm_audit(m), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

/* Two shared mappings of one file reserve once. */
static void test_shared_reserves_once(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=2", NULL);
	struct pinmm_proc *p = test_proc(m);
	int fd = pinmm_memfd_create(p, "s", MFD_HUGETLB);
	long a, b;

	(void)state;
	assert_int_equal(pinmm_ftruncate(p, fd, 2 * HP2M), 0);
	a = pinmm_mmap(p, 0, 2 * HP2M, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	b = pinmm_mmap(p, 0, 2 * HP2M, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(a > 0 && b > 0);
	assert_int_equal(RSVD2M(m), 2);
	/* A private mapping of the same file needs its own: -ENOMEM. */
	assert_int_equal(pinmm_mmap(p, 0, HP2M, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0),
			 -ENOMEM);
	test_store8(p, (unsigned long)a, 1);
	assert_int_equal(test_load8(p, (unsigned long)b), 1);
	assert_int_equal(RSVD2M(m), 1);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

/*
 * Port of the kernel's selftests/mm/hugetlb_dio.c: O_DIRECT writes from a
 * hugetlb buffer, at the same four offsets, must leave the pool as they
 * found it once the buffer is unmapped (the DIO pins are released, no huge
 * page leaks).
 */
static void test_hugetlb_dio(void **state)
{
	struct test_imgdir *t = *state;
	static const struct { unsigned long start, end; } cases[] = {
		{ 0, 4096 },			/* within the first base page */
		{ 2 * 4096, HP2M },		/* from the third base page to the end */
		{ 2 * 4096, 3 * 4096 },		/* the third base page only */
		{ 0, HP2M },			/* the whole huge page */
	};
	char img_kv[200];
	struct pinmm *m;
	struct pinmm_proc *p;
	int fd;

	snprintf(img_kv, sizeof(img_kv), "pinfs.image=%s", t->img);
	m = test_boot("ram=256M", "hugepages.2M=2", "debug=2", "quiet=1", img_kv,
		      "pinfs.size=16M", NULL);
	p = test_proc(m);
	fd = pinmm_open(p, "/data/dio", O_RDWR | O_CREAT | O_DIRECT, 0644);
	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long free_before = FREE2M(m), a;
		struct pinmm_dio *d;

		a = pinmm_mmap(p, 0, HP2M, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		assert_true(a > 0);
		test_store8(p, (unsigned long)a + cases[i].start, 'A');
		assert_int_equal(pinmm_dio_submit(p, fd, PINMM_DIO_WRITE,
						  (unsigned long)a + cases[i].start,
						  cases[i].end - cases[i].start, 0, &d), 0);
		assert_int_equal(test_dio_wait(d), (long)(cases[i].end - cases[i].start));
		assert_int_equal(pinmm_munmap(p, (unsigned long)a, HP2M), 0);
		assert_int_equal(FREE2M(m), free_before);
		assert_int_equal(RSVD2M(m), 0);
	}
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memfd_hugetlb),
		cmocka_unit_test(test_dev_hugepages_file),
		cmocka_unit_test(test_truncate_with_pin),
		cmocka_unit_test(test_punch_and_fallocate),
		cmocka_unit_test(test_shared_reserves_once),
		cmocka_unit_test_setup_teardown(test_hugetlb_dio, test_imgdir_setup,
						test_imgdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
