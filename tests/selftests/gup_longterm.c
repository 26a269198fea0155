/* SPDX-License-Identifier: MIT */
/*
 * gup_longterm.c - port of Linux's tools/testing/selftests/mm/gup_longterm.c
 * to pinmm (own code, same structure and test names): which file mappings
 * accept long-term pins.  R/O long-term pins and pins in MAP_PRIVATE
 * mappings must always work; R/W long-term pins in MAP_SHARED mappings only
 * on filesystems without dirty tracking (tmpfs, hugetlbfs) and fail with
 * -EFAULT elsewhere (§5.4).  Every case runs through gup_test's
 * PIN_LONGTERM_TEST_START (GUP and GUP-fast) and through io_uring fixed
 * buffer registration, which always pins R/W.
 *
 * Files: memfd and tmpfile() are tmpfs here; the "local tmpfile" is created
 * with mkstemp() in the current directory, which on pinmm is the block
 * filesystem pinfs at /data/ (a regular filesystem with writeback, expected
 * to refuse R/W shared long-term pins with -EFAULT, as ext4/xfs/btrfs do
 * in the original).  The machine is booted with pinfs on a temporary image
 * so that those cases run.  As in the original, the filesystem type comes
 * from fstatfs() (pinmm_fstatfs()).  hugetlb: an MFD_HUGETLB memfd of
 * every size with a pool (the machine gets a 2 MiB one), as the original's
 * run_with_memfd_hugetlb().
 *
 * pinmm addition: the same matrix on anonymous memory (private and shared
 * anonymous), where every long-term pin is allowed.
 */
#include "kselftest.h"

#define HUGETLBFS_MAGIC		PINMM_HUGETLBFS_MAGIC

static size_t pagesize;
static int nr_hugetlbsizes;
static size_t hugetlbsizes[2];
static int gup_fd;

static long get_fs_type(int fd)
{
	struct statfs fs;
	int ret;

	do {
		ret = fstatfs(fd, &fs);
	} while (ret && errno == EINTR);

	return ret ? 0 : fs.f_type;
}

static bool fs_is_unknown(long fs_type)
{
	/*
	 * We only support some filesystems in our tests when dealing with
	 * R/W long-term pinning. For these filesystems, we can be fairly sure
	 * whether they support it or not.
	 */
	switch (fs_type) {
	case TMPFS_MAGIC:
	case HUGETLBFS_MAGIC:
	case PINFS_MAGIC:
		return false;
	default:
		return true;
	}
}

static bool fs_supports_writable_longterm_pinning(long fs_type)
{
	assert(!fs_is_unknown(fs_type));
	switch (fs_type) {
	case TMPFS_MAGIC:
	case HUGETLBFS_MAGIC:
		return true;
	default:
		return false;
	}
}

enum test_type {
	TEST_TYPE_RO,
	TEST_TYPE_RO_FAST,
	TEST_TYPE_RW,
	TEST_TYPE_RW_FAST,
	TEST_TYPE_IOURING,
};

/* @fd < 0: anonymous memory (pinmm addition). */
static void do_test(int fd, size_t size, enum test_type type, bool shared)
{
	long fs_type = fd >= 0 ? get_fs_type(fd) : TMPFS_MAGIC;
	bool should_work;
	char *mem;
	int ret;

	if (fd >= 0) {
		if (ftruncate(fd, size)) {
			ksft_test_result_fail("ftruncate() failed (%s)\n", pinmm_strerror(-errno));
			return;
		}

		if (fallocate(fd, 0, 0, size)) {
			ksft_test_result_fail("fallocate() failed (%s)\n", pinmm_strerror(-errno));
			return;
		}
	}

	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   (shared ? MAP_SHARED : MAP_PRIVATE) | (fd < 0 ? MAP_ANONYMOUS : 0), fd, 0);
	if (mem == MAP_FAILED) {
		ksft_test_result_fail("mmap() failed (%s)\n", pinmm_strerror(-errno));
		return;
	}

	/* Fault in the page such that GUP-fast can pin it directly. */
	memset(mem, 0, size);

	switch (type) {
	case TEST_TYPE_RO:
	case TEST_TYPE_RO_FAST:
		/*
		 * Cover more cases regarding unsharing decisions when
		 * long-term R/O pinning by mapping the page R/O.
		 */
		ret = mprotect(mem, size, PROT_READ);
		if (ret) {
			ksft_test_result_fail("mprotect() failed (%s)\n", pinmm_strerror(-errno));
			goto munmap;
		}
		/* FALLTHROUGH */
	case TEST_TYPE_RW:
	case TEST_TYPE_RW_FAST: {
		struct pin_longterm_test args;
		const bool fast = type == TEST_TYPE_RO_FAST ||
				  type == TEST_TYPE_RW_FAST;
		const bool rw = type == TEST_TYPE_RW ||
				type == TEST_TYPE_RW_FAST;

		if (gup_fd < 0) {
			ksft_test_result_skip("gup_test not available\n");
			break;
		}

		if (rw && shared && fs_is_unknown(fs_type)) {
			ksft_test_result_skip("Unknown filesystem\n");
			goto munmap;
		}
		/*
		 * R/O pinning or pinning in a private mapping is always
		 * expected to work. Otherwise, we expect long-term R/W pinning
		 * to only succeed for special fielesystems.
		 */
		should_work = !shared || !rw ||
			      fs_supports_writable_longterm_pinning(fs_type);

		args.addr = (__u64)(uintptr_t)mem;
		args.size = size;
		args.flags = fast ? PIN_LONGTERM_TEST_FLAG_USE_FAST : 0;
		args.flags |= rw ? PIN_LONGTERM_TEST_FLAG_USE_WRITE : 0;
		ret = ioctl(gup_fd, PIN_LONGTERM_TEST_START, &args);
		if (ret && errno == EINVAL) {
			ksft_test_result_skip("PIN_LONGTERM_TEST_START failed (EINVAL)\n");
			break;
		} else if (ret && errno == EFAULT) {
			ksft_test_result(!should_work, "Should have failed\n");
			break;
		} else if (ret) {
			ksft_test_result_fail("PIN_LONGTERM_TEST_START failed (%s)\n",
					      pinmm_strerror(-errno));
			break;
		}

		if (ioctl(gup_fd, PIN_LONGTERM_TEST_STOP))
			ksft_print_msg("[INFO] PIN_LONGTERM_TEST_STOP failed (%s)\n",
				       pinmm_strerror(-errno));

		ksft_test_result(should_work, "Should have worked\n");
		break;
	}
	case TEST_TYPE_IOURING: {
		struct io_uring ring;
		struct iovec iov;

		/* io_uring always pins pages writable. */
		if (shared && fs_is_unknown(fs_type)) {
			ksft_test_result_skip("Unknown filesystem\n");
			goto munmap;
		}
		should_work = !shared ||
			      fs_supports_writable_longterm_pinning(fs_type);

		/* Skip on errors, as we might just lack kernel support. */
		ret = io_uring_queue_init(1, &ring, 0);
		if (ret < 0) {
			ksft_test_result_skip("io_uring_queue_init() failed (%s)\n",
					      pinmm_strerror(ret));
			break;
		}
		/*
		 * Register the range as a fixed buffer. This will FOLL_WRITE |
		 * FOLL_PIN | FOLL_LONGTERM the range.
		 */
		iov.iov_base = mem;
		iov.iov_len = size;
		ret = io_uring_register_buffers(&ring, &iov, 1);
		/* Only new kernels return EFAULT. */
		if (ret && (errno == ENOSPC || errno == EOPNOTSUPP ||
			    errno == EFAULT)) {
			ksft_test_result(!should_work, "Should have failed (%s)\n",
					 pinmm_strerror(-errno));
		} else if (ret) {
			/*
			 * We might just lack support or have insufficient
			 * MEMLOCK limits.
			 */
			ksft_test_result_skip("io_uring_register_buffers() failed (%s)\n",
					      pinmm_strerror(ret));
		} else {
			ksft_test_result(should_work, "Should have worked\n");
			io_uring_unregister_buffers(&ring);
		}

		io_uring_queue_exit(&ring);
		break;
	}
	default:
		assert(false);
	}

munmap:
	munmap(mem, size);
}

typedef void (*test_fn)(int fd, size_t size);

static void run_with_memfd(test_fn fn, const char *desc)
{
	int fd;

	ksft_print_msg("[RUN] %s ... with memfd\n", desc);

	fd = memfd_create("test", 0);
	if (fd < 0) {
		ksft_test_result_fail("memfd_create() failed (%s)\n", pinmm_strerror(-errno));
		return;
	}

	fn(fd, pagesize);
	close(fd);
}

static void run_with_memfd_hugetlb(test_fn fn, const char *desc, size_t hugetlbsize)
{
	int flags = MFD_HUGETLB;
	int fd;

	ksft_print_msg("[RUN] %s ... with memfd hugetlb (%zu kB)\n", desc, hugetlbsize / 1024);

	flags |= __builtin_ctzll(hugetlbsize) << MFD_HUGE_SHIFT;

	fd = memfd_create("test", flags);
	if (fd < 0) {
		ksft_test_result_skip("memfd_create() failed (%s)\n", pinmm_strerror(-errno));
		return;
	}

	fn(fd, hugetlbsize);
	close(fd);
}

static void run_with_tmpfile(test_fn fn, const char *desc)
{
	FILE *file;
	int fd;

	ksft_print_msg("[RUN] %s ... with tmpfile\n", desc);

	file = tmpfile();
	if (!file) {
		ksft_test_result_fail("tmpfile() failed (%s)\n", pinmm_strerror(-errno));
		return;
	}

	fd = fileno(file);
	if (fd < 0) {
		ksft_test_result_fail("fileno() failed (%s)\n", pinmm_strerror(-errno));
		goto close;
	}

	fn(fd, pagesize);
close:
	fclose(file);
}

static void run_with_local_tmpfile(test_fn fn, const char *desc)
{
	char filename[] = "gup_longterm_tmpfile_XXXXXX";
	int fd;

	ksft_print_msg("[RUN] %s ... with local tmpfile\n", desc);

	fd = mkstemp(filename);
	if (fd < 0) {
		ksft_test_result_fail("mkstemp() failed (%s)\n", pinmm_strerror(-errno));
		return;
	}

	if (unlink(filename)) {
		ksft_test_result_fail("unlink() failed (%s)\n", pinmm_strerror(-errno));
		goto close;
	}

	fn(fd, pagesize);
close:
	close(fd);
}

/* pinmm addition: anonymous memory, no file. */
static void run_with_anon(test_fn fn, const char *desc)
{
	ksft_print_msg("[RUN] %s ... with anonymous memory\n", desc);
	fn(-1, pagesize);
}

struct test_case {
	const char *desc;
	test_fn fn;
};

static void test_shared_rw_pin(int fd, size_t size)
{
	do_test(fd, size, TEST_TYPE_RW, true);
}

static void test_shared_rw_fast_pin(int fd, size_t size)
{
	do_test(fd, size, TEST_TYPE_RW_FAST, true);
}

static void test_shared_ro_pin(int fd, size_t size)
{
	do_test(fd, size, TEST_TYPE_RO, true);
}

static void test_shared_ro_fast_pin(int fd, size_t size)
{
	do_test(fd, size, TEST_TYPE_RO_FAST, true);
}

static void test_private_rw_pin(int fd, size_t size)
{
	do_test(fd, size, TEST_TYPE_RW, false);
}

static void test_private_rw_fast_pin(int fd, size_t size)
{
	do_test(fd, size, TEST_TYPE_RW_FAST, false);
}

static void test_private_ro_pin(int fd, size_t size)
{
	do_test(fd, size, TEST_TYPE_RO, false);
}

static void test_private_ro_fast_pin(int fd, size_t size)
{
	do_test(fd, size, TEST_TYPE_RO_FAST, false);
}

static void test_shared_iouring(int fd, size_t size)
{
	do_test(fd, size, TEST_TYPE_IOURING, true);
}

static void test_private_iouring(int fd, size_t size)
{
	do_test(fd, size, TEST_TYPE_IOURING, false);
}

static const struct test_case test_cases[] = {
	{
		"R/W longterm GUP pin in MAP_SHARED file mapping",
		test_shared_rw_pin,
	},
	{
		"R/W longterm GUP-fast pin in MAP_SHARED file mapping",
		test_shared_rw_fast_pin,
	},
	{
		"R/O longterm GUP pin in MAP_SHARED file mapping",
		test_shared_ro_pin,
	},
	{
		"R/O longterm GUP-fast pin in MAP_SHARED file mapping",
		test_shared_ro_fast_pin,
	},
	{
		"R/W longterm GUP pin in MAP_PRIVATE file mapping",
		test_private_rw_pin,
	},
	{
		"R/W longterm GUP-fast pin in MAP_PRIVATE file mapping",
		test_private_rw_fast_pin,
	},
	{
		"R/O longterm GUP pin in MAP_PRIVATE file mapping",
		test_private_ro_pin,
	},
	{
		"R/O longterm GUP-fast pin in MAP_PRIVATE file mapping",
		test_private_ro_fast_pin,
	},
	{
		"io_uring fixed buffer with MAP_SHARED file mapping",
		test_shared_iouring,
	},
	{
		"io_uring fixed buffer with MAP_PRIVATE file mapping",
		test_private_iouring,
	},
};

static void run_test_case(struct test_case const *test_case)
{
	run_with_memfd(test_case->fn, test_case->desc);
	run_with_tmpfile(test_case->fn, test_case->desc);
	run_with_local_tmpfile(test_case->fn, test_case->desc);
	for (int i = 0; i < nr_hugetlbsizes; i++)
		run_with_memfd_hugetlb(test_case->fn, test_case->desc, hugetlbsizes[i]);
	run_with_anon(test_case->fn, test_case->desc);
}

static int tests_per_test_case(void)
{
	return 4 + nr_hugetlbsizes;
}

int main(int argc, char **argv)
{
	/* The local directory is pinfs, on a temporary image. */
	const char *const machine[] = {
		"ram", "256M", "debug", "2", "quiet", "1", "hugepages.2M", "2",
		"pinfs.image", ksft_pinfs_image(), "pinfs.size", "16M", NULL,
	};
	int i;

	ksft_boot(machine);
	pagesize = 4096;
	/* detect_hugetlb_page_sizes(): the sizes with a pool. */
	if (pinmm_vmstat(ksft_machine, "nr_hugepages_2048kB") > 0)
		hugetlbsizes[nr_hugetlbsizes++] = 2 * 1024 * 1024;
	if (pinmm_vmstat(ksft_machine, "nr_hugepages_1048576kB") > 0)
		hugetlbsizes[nr_hugetlbsizes++] = 1024UL * 1024 * 1024;

	ksft_print_header();
	ksft_set_plan(ARRAY_SIZE(test_cases) * tests_per_test_case() + 1);

	gup_fd = pinmm_gup_test_open(self);

	for (i = 0; i < (int)ARRAY_SIZE(test_cases); i++)
		run_test_case(&test_cases[i]);

	close(gup_fd);
	return ksft_finished();
}
