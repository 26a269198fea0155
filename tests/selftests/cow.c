/* SPDX-License-Identifier: MIT */
/*
 * cow.c - port of the long-term pin cases of Linux's
 * tools/testing/selftests/mm/cow.c to pinmm (own code, same structure and
 * test names): the R/O long-term GUP and GUP-fast pins through gup_test's
 * PIN_LONGTERM_TEST_{START,READ,STOP}, which a stock kernel only runs with
 * CONFIG_GUP_TEST and debugfs, and the two io_uring fixed-buffer cases.
 * Each case takes the pin, modifies the memory through the page tables and
 * checks that the modification is visible through the pin: the pin must
 * not point at a page the process has since replaced by COW or unsharing.
 *
 * Memory: anonymous base pages, PMD-mapped THP, PTE-mapped THP, a single
 * PTE of a THP, a partially shared THP, and (non-anonymous) the shared zero
 * page, the huge zero page, memfd and tmpfile private mappings, each also
 * swapped out with MADV_PAGEOUT first (the machine boots with swap) and
 * R/O-mapped through soft-dirty tracking (clear_refs 4), and a THP half of
 * which was moved by mremap().  THP sizes are detected as the kernel's
 * test detects hugepages-<size>kB: from the machine's thp.<size>K keys
 * (16K .. 2048K); each size runs with that size always and the PMD size
 * never (pinmm_thp_set(), the sysfs write), so the mTHP sizes run the
 * PTE-mapped cases.  Hugetlb pages run for every size the machine has a
 * pool for (anonymous MAP_HUGETLB, and private mappings of an MFD_HUGETLB
 * memfd), as the kernel's run_with_hugetlb() and run_with_memfd_hugetlb()
 * over detect_hugetlb_page_sizes().  The machine gets a 2 MiB pool only:
 * the io_uring cases move the whole buffer through a pinfs file, minutes
 * for a 1 GiB page (PUD leaves are covered by tests/unit/test_hugetlb*.c).
 *
 * The anonymous THP collapse cases (MADV_COLLAPSE before fork, and after
 * fork with the THP fully, lower-half or upper-half COW-shared) run as in
 * the original; their child's memcmp is done by the port from outside the
 * child (see child_memcmp_start()).
 *
 * pinmm addition: "R/O GUP pin on R/O-mapped shared page after child write"
 * - the child writes its copy (COW in the child) before the parent pins.
 */
#include "kselftest.h"

static size_t pagesize;
static int pagemap_fd = -1;
static size_t pmdsize;
static int nr_thpsizes;
static size_t thpsizes[20];
static bool has_huge_zeropage;
static int nr_hugetlbsizes;
static size_t hugetlbsizes[2];
static int gup_fd;

static void clear_softdirty(void)
{
	/* echo 4 > /proc/self/clear_refs */
	if (pinmm_clear_refs(self, PINMM_CLEAR_REFS_SOFT_DIRTY))
		ksft_exit_fail_msg("clear_refs failed\n");
}

#ifndef LOCAL_CONFIG_HAVE_LIBURING
#define LOCAL_CONFIG_HAVE_LIBURING 1
#endif

#ifdef LOCAL_CONFIG_HAVE_LIBURING
static void do_test_iouring(char *mem, size_t size, bool use_fork)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	ssize_t cur, total;
	struct iovec iov;
	char *tmp;
	int ret, fd;
	FILE *file;

	file = tmpfile();
	if (!file) {
		ksft_perror("tmpfile() failed");
		log_test_result(KSFT_FAIL);
		return;
	}
	fd = fileno(file);

	tmp = malloc(size);
	if (!tmp) {
		ksft_print_msg("malloc() failed\n");
		log_test_result(KSFT_FAIL);
		goto close_file;
	}

	/* Skip on errors, as we might just lack kernel support. */
	ret = io_uring_queue_init(1, &ring, 0);
	if (ret < 0) {
		ksft_print_msg("io_uring_queue_init() failed\n");
		log_test_result(KSFT_SKIP);
		goto free_tmp;
	}

	/*
	 * Register the range as a fixed buffer. This will FOLL_WRITE | FOLL_PIN
	 * | FOLL_LONGTERM the range.
	 */
	iov.iov_base = mem;
	iov.iov_len = size;
	ret = io_uring_register_buffers(&ring, &iov, 1);
	if (ret) {
		ksft_print_msg("io_uring_register_buffers() failed\n");
		log_test_result(KSFT_SKIP);
		goto queue_exit;
	}

	if (use_fork) {
		/*
		 * fork() and keep the child alive until we're done. Note that
		 * we expect the pinned page to not get shared with the child.
		 */
		ret = fork();
		if (ret < 0) {
			ksft_perror("fork() failed");
			log_test_result(KSFT_FAIL);
			goto unregister_buffers;
		}
	} else {
		/* Map the page R/O into the page table. */
		ret = mprotect(mem, size, PROT_READ);
		if (ret) {
			ksft_perror("mprotect() failed");
			log_test_result(KSFT_FAIL);
			goto unregister_buffers;
		}

		clear_softdirty();
		ret = mprotect(mem, size, PROT_READ | PROT_WRITE);
		if (ret) {
			ksft_perror("mprotect() failed");
			log_test_result(KSFT_FAIL);
			goto unregister_buffers;
		}
	}

	/*
	 * Modify the page and write page content as observed by the fixed
	 * buffer pin to the file so we can verify it.
	 */
	memset(mem, 0xff, size);
	sqe = io_uring_get_sqe(&ring);
	if (!sqe) {
		ksft_print_msg("io_uring_get_sqe() failed\n");
		log_test_result(KSFT_FAIL);
		goto quit_child;
	}
	io_uring_prep_write_fixed(sqe, fd, mem, size, 0, 0);

	ret = io_uring_submit(&ring);
	if (ret < 0) {
		ksft_print_msg("io_uring_submit() failed\n");
		log_test_result(KSFT_FAIL);
		goto quit_child;
	}

	ret = io_uring_wait_cqe(&ring, &cqe);
	if (ret < 0) {
		ksft_print_msg("io_uring_wait_cqe() failed\n");
		log_test_result(KSFT_FAIL);
		goto quit_child;
	}

	if (cqe->res != (long)size) {
		ksft_print_msg("write_fixed failed\n");
		log_test_result(KSFT_FAIL);
		goto quit_child;
	}
	io_uring_cqe_seen(&ring, cqe);

	/* Read back the file content to the temporary buffer. */
	total = 0;
	while (total < (ssize_t)size) {
		cur = pread(fd, tmp + total, size - total, total);
		if (cur < 0) {
			ksft_perror("pread() failed\n");
			log_test_result(KSFT_FAIL);
			goto quit_child;
		}
		total += cur;
	}

	/* Finally, check if we read what we expected. */
	if (!memcmp(mem, tmp, size)) {
		log_test_result(KSFT_PASS);
	} else {
		ksft_print_msg("Longtom R/W pin is not reliable\n");
		log_test_result(KSFT_FAIL);
	}

quit_child:
	if (use_fork)
		wait(&ret);
unregister_buffers:
	io_uring_unregister_buffers(&ring);
queue_exit:
	io_uring_queue_exit(&ring);
free_tmp:
	free(tmp);
close_file:
	fclose(file);
}

static void test_iouring_ro(char *mem, size_t size, bool is_hugetlb)
{
	do_test_iouring(mem, size, false);
}

static void test_iouring_fork(char *mem, size_t size, bool is_hugetlb)
{
	do_test_iouring(mem, size, true);
}

#endif /* LOCAL_CONFIG_HAVE_LIBURING */

enum ro_pin_test {
	RO_PIN_TEST,
	RO_PIN_TEST_SHARED,
	RO_PIN_TEST_PREVIOUSLY_SHARED,
	RO_PIN_TEST_RO_EXCLUSIVE,
	RO_PIN_TEST_SHARED_CHILD_WROTE,		/* pinmm addition */
};

static void do_test_ro_pin(char *mem, size_t size, enum ro_pin_test test,
			   bool fast)
{
	struct pin_longterm_test args;
	char *tmp;
	__u64 tmp_val;
	int ret;

	if (gup_fd < 0) {
		ksft_print_msg("gup_test not available\n");
		log_test_result(KSFT_SKIP);
		return;
	}

	tmp = malloc(size);
	if (!tmp) {
		ksft_perror("malloc() failed\n");
		log_test_result(KSFT_FAIL);
		return;
	}

	switch (test) {
	case RO_PIN_TEST:
		break;
	case RO_PIN_TEST_SHARED:
	case RO_PIN_TEST_PREVIOUSLY_SHARED:
	case RO_PIN_TEST_SHARED_CHILD_WROTE:
		/*
		 * Share the pages with our child. As the pages are not pinned,
		 * this should just work.
		 */
		ret = fork();
		if (ret < 0) {
			ksft_perror("fork() failed");
			log_test_result(KSFT_FAIL);
			goto free_tmp;
		}

		if (test == RO_PIN_TEST_SHARED_CHILD_WROTE) {
			/* The child writes its copy: COW in the child. */
			proc_memset(ksft_last_child, mem, 0x22, size);
		}

		if (test == RO_PIN_TEST_PREVIOUSLY_SHARED) {
			/*
			 * Tell the child to quit now and wait until it quit.
			 * The pages should now be mapped R/O into our page
			 * tables, but they are no longer shared.
			 */
			wait(&ret);
			if (!WIFEXITED(ret))
				ksft_print_msg("[INFO] wait() failed\n");
		}
		break;
	case RO_PIN_TEST_RO_EXCLUSIVE:
		/*
		 * Map the page R/O into the page table. Enable softdirty
		 * tracking to stop the page from getting mapped R/W immediately
		 * again by mprotect() optimizations.
		 */
		ret = mprotect(mem, size, PROT_READ);
		clear_softdirty();
		ret |= mprotect(mem, size, PROT_READ | PROT_WRITE);
		if (ret) {
			ksft_perror("mprotect() failed");
			log_test_result(KSFT_FAIL);
			goto free_tmp;
		}
		break;
	default:
		assert(false);
	}

	/* Take a R/O pin. This should trigger unsharing. */
	args.addr = (__u64)(uintptr_t)mem;
	args.size = size;
	args.flags = fast ? PIN_LONGTERM_TEST_FLAG_USE_FAST : 0;
	ret = ioctl(gup_fd, PIN_LONGTERM_TEST_START, &args);
	if (ret) {
		if (errno == EINVAL)
			ret = KSFT_SKIP;
		else
			ret = KSFT_FAIL;
		ksft_perror("PIN_LONGTERM_TEST_START failed");
		log_test_result(ret);
		goto wait;
	}

	/* Modify the page. */
	memset(mem, 0xff, size);

	/*
	 * Read back the content via the pin to the temporary buffer and
	 * test if we observed the modification.
	 */
	tmp_val = (__u64)(uintptr_t)tmp;
	ret = ioctl(gup_fd, PIN_LONGTERM_TEST_READ, &tmp_val);
	if (ret) {
		ksft_perror("PIN_LONGTERM_TEST_READ failed");
		log_test_result(KSFT_FAIL);
	} else {
		if (!memcmp(mem, tmp, size)) {
			log_test_result(KSFT_PASS);
		} else {
			ksft_print_msg("Longterm R/O pin is not reliable\n");
			log_test_result(KSFT_FAIL);
		}
	}

	ret = ioctl(gup_fd, PIN_LONGTERM_TEST_STOP);
	if (ret)
		ksft_perror("PIN_LONGTERM_TEST_STOP failed");
wait:
	switch (test) {
	case RO_PIN_TEST_SHARED:
	case RO_PIN_TEST_SHARED_CHILD_WROTE:
		wait(&ret);
		if (!WIFEXITED(ret))
			ksft_perror("wait() failed");
		break;
	default:
		break;
	}
free_tmp:
	free(tmp);
}

static void test_ro_pin_on_shared(char *mem, size_t size, bool is_hugetlb)
{
	do_test_ro_pin(mem, size, RO_PIN_TEST_SHARED, false);
}

static void test_ro_fast_pin_on_shared(char *mem, size_t size, bool is_hugetlb)
{
	do_test_ro_pin(mem, size, RO_PIN_TEST_SHARED, true);
}

static void test_ro_pin_on_ro_previously_shared(char *mem, size_t size,
		bool is_hugetlb)
{
	do_test_ro_pin(mem, size, RO_PIN_TEST_PREVIOUSLY_SHARED, false);
}

static void test_ro_fast_pin_on_ro_previously_shared(char *mem, size_t size,
		bool is_hugetlb)
{
	do_test_ro_pin(mem, size, RO_PIN_TEST_PREVIOUSLY_SHARED, true);
}

static void test_ro_pin_on_ro_exclusive(char *mem, size_t size,
		bool is_hugetlb)
{
	do_test_ro_pin(mem, size, RO_PIN_TEST_RO_EXCLUSIVE, false);
}

static void test_ro_fast_pin_on_ro_exclusive(char *mem, size_t size,
		bool is_hugetlb)
{
	do_test_ro_pin(mem, size, RO_PIN_TEST_RO_EXCLUSIVE, true);
}

static void test_ro_pin_on_shared_child_wrote(char *mem, size_t size, bool is_hugetlb)
{
	do_test_ro_pin(mem, size, RO_PIN_TEST_SHARED_CHILD_WROTE, false);
}

static void test_ro_fast_pin_on_shared_child_wrote(char *mem, size_t size, bool is_hugetlb)
{
	do_test_ro_pin(mem, size, RO_PIN_TEST_SHARED_CHILD_WROTE, true);
}

typedef void (*test_fn)(char *mem, size_t size, bool hugetlb);

static void do_run_with_base_page(test_fn fn, bool swapout)
{
	char *mem;
	int ret;

	mem = mmap(NULL, pagesize, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		ksft_perror("mmap() failed");
		log_test_result(KSFT_FAIL);
		return;
	}

	ret = madvise(mem, pagesize, MADV_NOHUGEPAGE);
	/* Ignore if not around on a kernel. */
	if (ret && errno != EINVAL) {
		ksft_perror("MADV_NOHUGEPAGE failed");
		log_test_result(KSFT_FAIL);
		goto munmap;
	}

	/* Populate a base page. */
	memset(mem, 1, pagesize);

	if (swapout) {
		madvise(mem, pagesize, MADV_PAGEOUT);
		if (!pagemap_is_swapped(pagemap_fd, mem)) {
			ksft_print_msg("MADV_PAGEOUT did not work, is swap enabled?\n");
			log_test_result(KSFT_SKIP);
			goto munmap;
		}
	}

	fn(mem, pagesize, false);
munmap:
	munmap(mem, pagesize);
}

static void run_with_base_page(test_fn fn, const char *desc)
{
	log_test_start("%s ... with base page", desc);
	do_run_with_base_page(fn, false);
}

static void run_with_base_page_swap(test_fn fn, const char *desc)
{
	log_test_start("%s ... with swapped out base page", desc);
	do_run_with_base_page(fn, true);
}

enum thp_run {
	THP_RUN_PMD,
	THP_RUN_PMD_SWAPOUT,
	THP_RUN_PTE,
	THP_RUN_PTE_SWAPOUT,
	THP_RUN_SINGLE_PTE,
	THP_RUN_SINGLE_PTE_SWAPOUT,
	THP_RUN_PARTIAL_MREMAP,
	THP_RUN_PARTIAL_SHARED,
};

static void do_run_with_thp(test_fn fn, enum thp_run thp_run, size_t thpsize)
{
	char *mem, *mmap_mem, *tmp, *mremap_mem = MAP_FAILED;
	size_t size, mmap_size, mremap_size;
	int ret;

	/* For alignment purposes, we need twice the thp size. */
	mmap_size = 2 * thpsize;
	mmap_mem = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mmap_mem == MAP_FAILED) {
		ksft_perror("mmap() failed");
		log_test_result(KSFT_FAIL);
		return;
	}

	/* We need a THP-aligned memory area. */
	mem = (char *)(((uintptr_t)mmap_mem + thpsize) & ~(thpsize - 1));

	ret = madvise(mem, thpsize, MADV_HUGEPAGE);
	if (ret) {
		ksft_perror("MADV_HUGEPAGE failed");
		log_test_result(KSFT_FAIL);
		goto munmap;
	}

	/*
	 * Try to populate a THP. Touch the first sub-page and test if
	 * we get the last sub-page populated automatically.
	 */
	memset(mem, 1, 1);
	if (!pagemap_is_populated(pagemap_fd, mem + thpsize - pagesize)) {
		ksft_print_msg("Did not get a THP populated\n");
		log_test_result(KSFT_SKIP);
		goto munmap;
	}
	memset(mem, 1, thpsize);

	size = thpsize;
	switch (thp_run) {
	case THP_RUN_PMD:
	case THP_RUN_PMD_SWAPOUT:
		assert(thpsize == pmdsize);
		break;
	case THP_RUN_PTE:
	case THP_RUN_PTE_SWAPOUT:
		/*
		 * Trigger PTE-mapping the THP by temporarily mapping a single
		 * subpage R/O.
		 */
		ret = mprotect(mem + pagesize, pagesize, PROT_READ);
		if (ret) {
			ksft_perror("mprotect() failed");
			log_test_result(KSFT_FAIL);
			goto munmap;
		}
		ret = mprotect(mem + pagesize, pagesize, PROT_READ | PROT_WRITE);
		if (ret) {
			ksft_perror("mprotect() failed");
			log_test_result(KSFT_FAIL);
			goto munmap;
		}
		break;
	case THP_RUN_SINGLE_PTE:
	case THP_RUN_SINGLE_PTE_SWAPOUT:
		/*
		 * Discard all but a single subpage of that PTE-mapped THP. What
		 * remains is a single PTE mapping a single subpage.
		 */
		ret = madvise(mem + pagesize, thpsize - pagesize, MADV_DONTNEED);
		if (ret) {
			ksft_perror("MADV_DONTNEED failed");
			log_test_result(KSFT_FAIL);
			goto munmap;
		}
		size = pagesize;
		break;
	case THP_RUN_PARTIAL_MREMAP:
		/*
		 * Move the second half of the THP to a fresh location: its
		 * PMD mapping is split and half of its PTEs now live
		 * elsewhere; the test runs on the half that stayed.
		 */
		mremap_size = thpsize / 2;
		mremap_mem = mmap(NULL, mremap_size, PROT_NONE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mremap_mem == MAP_FAILED) {
			ksft_perror("mmap() failed");
			log_test_result(KSFT_FAIL);
			goto munmap;
		}
		tmp = mremap(mem + mremap_size, mremap_size, mremap_size,
			     MREMAP_MAYMOVE | MREMAP_FIXED, mremap_mem);
		if (tmp != mremap_mem) {
			ksft_perror("mremap() failed");
			log_test_result(KSFT_FAIL);
			goto munmap;
		}
		size = mremap_size;
		break;
	case THP_RUN_PARTIAL_SHARED:
		/*
		 * Share the first page of the THP with a child and quit the
		 * child. This will result in some parts of the THP never
		 * have been shared.
		 */
		ret = madvise(mem + pagesize, thpsize - pagesize, MADV_DONTFORK);
		if (ret) {
			ksft_perror("MADV_DONTFORK failed");
			log_test_result(KSFT_FAIL);
			goto munmap;
		}
		ret = fork();
		if (ret < 0) {
			ksft_perror("fork() failed");
			log_test_result(KSFT_FAIL);
			goto munmap;
		}
		wait(&ret);
		/* Allow for sharing all pages again. */
		ret = madvise(mem + pagesize, thpsize - pagesize, MADV_DOFORK);
		if (ret) {
			ksft_perror("MADV_DOFORK failed");
			log_test_result(KSFT_FAIL);
			goto munmap;
		}
		break;
	default:
		assert(false);
	}

	switch (thp_run) {
	case THP_RUN_PMD_SWAPOUT:
	case THP_RUN_PTE_SWAPOUT:
	case THP_RUN_SINGLE_PTE_SWAPOUT:
		madvise(mem, size, MADV_PAGEOUT);
		if (!range_is_swapped(mem, size)) {
			ksft_print_msg("MADV_PAGEOUT did not work, is swap enabled?\n");
			log_test_result(KSFT_SKIP);
			goto munmap;
		}
		break;
	default:
		break;
	}

	fn(mem, size, false);
munmap:
	munmap(mmap_mem, mmap_size);
	if (mremap_mem != MAP_FAILED)
		munmap(mremap_mem, mremap_size);
}

static void run_with_thp(test_fn fn, const char *desc, size_t size)
{
	log_test_start("%s ... with THP (%zu kB)",
		desc, size / 1024);
	do_run_with_thp(fn, THP_RUN_PMD, size);
}

static void run_with_thp_swap(test_fn fn, const char *desc, size_t size)
{
	log_test_start("%s ... with swapped-out THP (%zu kB)",
		desc, size / 1024);
	do_run_with_thp(fn, THP_RUN_PMD_SWAPOUT, size);
}

static void run_with_pte_mapped_thp(test_fn fn, const char *desc, size_t size)
{
	log_test_start("%s ... with PTE-mapped THP (%zu kB)",
		desc, size / 1024);
	do_run_with_thp(fn, THP_RUN_PTE, size);
}

static void run_with_pte_mapped_thp_swap(test_fn fn, const char *desc, size_t size)
{
	log_test_start("%s ... with swapped-out, PTE-mapped THP (%zu kB)",
		desc, size / 1024);
	do_run_with_thp(fn, THP_RUN_PTE_SWAPOUT, size);
}

static void run_with_single_pte_of_thp(test_fn fn, const char *desc, size_t size)
{
	log_test_start("%s ... with single PTE of THP (%zu kB)",
		desc, size / 1024);
	do_run_with_thp(fn, THP_RUN_SINGLE_PTE, size);
}

static void run_with_single_pte_of_thp_swap(test_fn fn, const char *desc, size_t size)
{
	log_test_start("%s ... with single PTE of swapped-out THP (%zu kB)",
		desc, size / 1024);
	do_run_with_thp(fn, THP_RUN_SINGLE_PTE_SWAPOUT, size);
}

static void run_with_partial_mremap_thp(test_fn fn, const char *desc, size_t size)
{
	log_test_start("%s ... with partially mremap()'ed THP (%zu kB)",
		desc, size / 1024);
	do_run_with_thp(fn, THP_RUN_PARTIAL_MREMAP, size);
}

static void run_with_partial_shared_thp(test_fn fn, const char *desc, size_t size)
{
	log_test_start("%s ... with partially shared THP (%zu kB)",
		desc, size / 1024);
	do_run_with_thp(fn, THP_RUN_PARTIAL_SHARED, size);
}

struct test_case {
	const char *desc;
	test_fn fn;
};

/*
 * Test cases that are specific to anonymous pages: pages in private mappings
 * that may get shared via COW during fork().
 */
static const struct test_case anon_test_cases[] = {
#ifdef LOCAL_CONFIG_HAVE_LIBURING
	/*
	 * Take a R/W longterm pin and then map the page R/O into the page
	 * table to trigger a write fault on next access. When modifying the
	 * page, the page content must be visible via the pin.
	 */
	{
		"R/O-mapping a page registered as iouring fixed buffer",
		test_iouring_ro,
	},
	/*
	 * Take a R/W longterm pin and then fork() a child. When modifying the
	 * page, the page content must be visible via the pin. We expect the
	 * pinned page to not get shared with the child.
	 */
	{
		"fork() with an iouring fixed buffer",
		test_iouring_fork,
	},

#endif /* LOCAL_CONFIG_HAVE_LIBURING */
	/*
	 * Take a R/O longterm pin on a R/O-mapped shared anonymous page.
	 * When modifying the page via the page table, the page content change
	 * must be visible via the pin.
	 */
	{
		"R/O GUP pin on R/O-mapped shared page",
		test_ro_pin_on_shared,
	},
	/* Same as above, but using GUP-fast. */
	{
		"R/O GUP-fast pin on R/O-mapped shared page",
		test_ro_fast_pin_on_shared,
	},
	/*
	 * Take a R/O longterm pin on a R/O-mapped exclusive anonymous page that
	 * was previously shared. When modifying the page via the page table,
	 * the page content change must be visible via the pin.
	 */
	{
		"R/O GUP pin on R/O-mapped previously-shared page",
		test_ro_pin_on_ro_previously_shared,
	},
	/* Same as above, but using GUP-fast. */
	{
		"R/O GUP-fast pin on R/O-mapped previously-shared page",
		test_ro_fast_pin_on_ro_previously_shared,
	},
	/*
	 * Take a R/O longterm pin on a R/O-mapped exclusive anonymous page.
	 * When modifying the page via the page table, the page content change
	 * must be visible via the pin.
	 */
	{
		"R/O GUP pin on R/O-mapped exclusive page",
		test_ro_pin_on_ro_exclusive,
	},
	/* Same as above, but using GUP-fast. */
	{
		"R/O GUP-fast pin on R/O-mapped exclusive page",
		test_ro_fast_pin_on_ro_exclusive,
	},
	/*
	 * pinmm: the page was shared with a child that then wrote (and so
	 * COW-copied) its side; the parent's page is mapped R/O and possibly
	 * still looks shared.  The pin must see the parent's later write.
	 */
	{
		"R/O GUP pin on R/O-mapped shared page after child write",
		test_ro_pin_on_shared_child_wrote,
	},
	{
		"R/O GUP-fast pin on R/O-mapped shared page after child write",
		test_ro_fast_pin_on_shared_child_wrote,
	},
};

static int sz2ord(size_t size)
{
	return __builtin_ctzll(size / pagesize);
}

/* The thp.<size>K key of a folio size ("thp.64K"). */
static void thp_key(char *buf, size_t len, size_t size)
{
	snprintf(buf, len, "thp.%zuK", size >> 10);
}

/*
 * detect_thp_sizes() - every anonymous THP size the machine has a policy
 * key for, as the kernel's test lists hugepages-<size>kB directories.
 */
static int detect_thp_sizes(size_t sizes[], int max)
{
	unsigned long orders = 1UL << sz2ord(pmdsize);
	const char *const *keys = pinmm_config_keys();
	int count = 0;

	for (int k = 0; keys[k]; k++) {
		unsigned long kb;
		char *end;

		if (strncmp(keys[k], "thp.", 4))
			continue;
		kb = strtoul(keys[k] + 4, &end, 10);
		if (strcmp(end, "K") || !kb || (kb & (kb - 1)) || kb * 1024 < pagesize)
			continue;
		orders |= 1UL << sz2ord(kb * 1024);
	}
	for (int i = 0; orders && count < max; i++) {
		if (!(orders & (1UL << i)))
			continue;
		orders &= ~(1UL << i);
		sizes[count++] = pagesize << i;
		ksft_print_msg("[INFO] detected THP size: %zu KiB\n", (pagesize << i) >> 10);
	}
	return count;
}

/* thp_push_settings()/thp_pop_settings() for one key. */
static void thp_setting(size_t size, const char *value, char *saved, size_t len)
{
	char key[32];

	thp_key(key, sizeof(key), size);
	if (saved && pinmm_config_get(pinmm_machine_config(ksft_machine), key, saved, len) < 0)
		ksft_exit_fail_msg("cannot read %s\n", key);
	if (pinmm_thp_set(ksft_machine, key, value))
		ksft_exit_fail_msg("cannot set %s=%s\n", key, value);
}

static void run_with_hugetlb(test_fn fn, const char *desc, size_t hugetlbsize)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB;
	char *mem, *dummy;

	log_test_start("%s ... with hugetlb (%zu kB)", desc, hugetlbsize / 1024);

	flags |= __builtin_ctzll(hugetlbsize) << MAP_HUGE_SHIFT;

	mem = mmap(NULL, hugetlbsize, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (mem == MAP_FAILED) {
		ksft_print_msg("need more free huge pages\n");
		log_test_result(KSFT_SKIP);
		return;
	}

	/* Populate a huge page. */
	memset(mem, 1, hugetlbsize);

	/*
	 * COW and unsharing need a second free huge page, else the fault
	 * would be SIGBUS: reserve one and give it back.
	 */
	dummy = mmap(NULL, hugetlbsize, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (dummy == MAP_FAILED) {
		ksft_print_msg("need more free huge pages\n");
		log_test_result(KSFT_SKIP);
		goto munmap;
	}
	munmap(dummy, hugetlbsize);

	fn(mem, hugetlbsize, true);
munmap:
	munmap(mem, hugetlbsize);
}

static void run_anon_test_case(struct test_case const *test_case)
{
	int i;

	run_with_base_page(test_case->fn, test_case->desc);
	run_with_base_page_swap(test_case->fn, test_case->desc);
	for (i = 0; i < nr_thpsizes; i++) {
		size_t size = thpsizes[i];
		char pmd_was[16], size_was[16];

		/* As the kernel's test: only this size, the PMD size never. */
		thp_setting(pmdsize, "never", pmd_was, sizeof(pmd_was));
		thp_setting(size, "always", size_was, sizeof(size_was));

		if (size == pmdsize) {
			run_with_thp(test_case->fn, test_case->desc, size);
			run_with_thp_swap(test_case->fn, test_case->desc, size);
		}

		run_with_pte_mapped_thp(test_case->fn, test_case->desc, size);
		run_with_pte_mapped_thp_swap(test_case->fn, test_case->desc, size);
		run_with_single_pte_of_thp(test_case->fn, test_case->desc, size);
		run_with_single_pte_of_thp_swap(test_case->fn, test_case->desc, size);
		run_with_partial_mremap_thp(test_case->fn, test_case->desc, size);
		run_with_partial_shared_thp(test_case->fn, test_case->desc, size);

		thp_setting(size, size_was, NULL, 0);
		thp_setting(pmdsize, pmd_was, NULL, 0);
	}
	for (i = 0; i < nr_hugetlbsizes; i++)
		run_with_hugetlb(test_case->fn, test_case->desc, hugetlbsizes[i]);
}

static void run_anon_test_cases(void)
{
	int i;

	ksft_print_msg("[INFO] Anonymous memory tests in private mappings\n");

	for (i = 0; i < (int)ARRAY_SIZE(anon_test_cases); i++)
		run_anon_test_case(&anon_test_cases[i]);
}

static int tests_per_anon_test_case(void)
{
	int tests = 2;

	tests += 6 * nr_thpsizes;
	if (pmdsize)
		tests += 2;
	tests += nr_hugetlbsizes;
	return tests;
}

/*
 * The THP collapse cases (Linux's anon_thp_test_cases).  The original's
 * child runs child_memcmp_fn(): it copies its memory when it starts and,
 * once the parent has written its own, checks that its copy did not
 * change.  Here the child runs no code: the port reads the child's memory
 * right after fork() (what the child would have copied) and compares it
 * again before wait().
 */
static char child_snapshot[2 * 1024 * 1024];

static void child_memcmp_start(char *mem, size_t size)
{
	if (size > sizeof(child_snapshot) ||
	    pinmm_load(ksft_last_child, (unsigned long)mem, child_snapshot, size) != (long)size)
		ksft_exit_fail_msg("reading the child's memory failed\n");
}

/* 0 when the child still sees its snapshot (child_memcmp_fn()'s result). */
static int child_memcmp_end(char *mem, size_t size)
{
	static char now[sizeof(child_snapshot)];

	if (pinmm_load(ksft_last_child, (unsigned long)mem, now, size) != (long)size)
		return -EFAULT;
	return __builtin_memcmp(now, child_snapshot, size) ? 1 : 0;	/* host memory */
}

enum anon_thp_collapse_test {
	ANON_THP_COLLAPSE_UNSHARED,
	ANON_THP_COLLAPSE_FULLY_SHARED,
	ANON_THP_COLLAPSE_LOWER_SHARED,
	ANON_THP_COLLAPSE_UPPER_SHARED,
};

static void do_test_anon_thp_collapse(char *mem, size_t size, enum anon_thp_collapse_test test)
{
	size_t child_off = 0, child_size = size;
	int ret;

	/*
	 * Trigger PTE-mapping the THP by temporarily mapping a single subpage
	 * R/O, such that we can try collapsing it later.
	 */
	ret = mprotect(mem + pagesize, pagesize, PROT_READ);
	if (ret) {
		ksft_perror("mprotect() failed");
		log_test_result(KSFT_FAIL);
		return;
	}
	ret = mprotect(mem + pagesize, pagesize, PROT_READ | PROT_WRITE);
	if (ret) {
		ksft_perror("mprotect() failed");
		log_test_result(KSFT_FAIL);
		return;
	}

	switch (test) {
	case ANON_THP_COLLAPSE_UNSHARED:
		/* Collapse before actually COW-sharing the page. */
		ret = madvise(mem, size, MADV_COLLAPSE);
		if (ret) {
			ksft_perror("MADV_COLLAPSE failed");
			log_test_result(KSFT_SKIP);
			return;
		}
		break;
	case ANON_THP_COLLAPSE_FULLY_SHARED:
		/* COW-share the full PTE-mapped THP. */
		break;
	case ANON_THP_COLLAPSE_LOWER_SHARED:
		/* Don't COW-share the upper part of the THP. */
		ret = madvise(mem + size / 2, size / 2, MADV_DONTFORK);
		if (ret) {
			ksft_perror("MADV_DONTFORK failed");
			log_test_result(KSFT_FAIL);
			return;
		}
		child_size = size / 2;
		break;
	case ANON_THP_COLLAPSE_UPPER_SHARED:
		/* Don't COW-share the lower part of the THP. */
		ret = madvise(mem, size / 2, MADV_DONTFORK);
		if (ret) {
			ksft_perror("MADV_DONTFORK failed");
			log_test_result(KSFT_FAIL);
			return;
		}
		child_off = size / 2;
		child_size = size / 2;
		break;
	default:
		assert(false);
	}

	ret = fork();
	if (ret < 0) {
		ksft_perror("fork() failed");
		log_test_result(KSFT_FAIL);
		return;
	}
	child_memcmp_start(mem + child_off, child_size);

	switch (test) {
	case ANON_THP_COLLAPSE_UNSHARED:
		break;
	case ANON_THP_COLLAPSE_UPPER_SHARED:
	case ANON_THP_COLLAPSE_LOWER_SHARED:
		/*
		 * Revert MADV_DONTFORK such that we merge the VMAs and are
		 * able to actually collapse.
		 */
		ret = madvise(mem, size, MADV_DOFORK);
		if (ret) {
			ksft_perror("MADV_DOFORK failed");
			log_test_result(KSFT_FAIL);
			wait(&ret);
			return;
		}
		/* FALLTHROUGH */
	case ANON_THP_COLLAPSE_FULLY_SHARED:
		/* Collapse before anyone modified the COW-shared page. */
		ret = madvise(mem, size, MADV_COLLAPSE);
		if (ret) {
			ksft_perror("MADV_COLLAPSE failed");
			log_test_result(KSFT_SKIP);
			wait(&ret);
			return;
		}
		break;
	default:
		assert(false);
	}

	/* Modify the page. */
	memset(mem, 0xff, size);
	ret = child_memcmp_end(mem + child_off, child_size);
	{
		int status;

		wait(&status);
	}
	if (!ret) {
		log_test_result(KSFT_PASS);
	} else {
		ksft_print_msg("Leak from parent into child\n");
		log_test_result(KSFT_FAIL);
	}
}

static void test_anon_thp_collapse_unshared(char *mem, size_t size, bool is_hugetlb)
{
	assert(!is_hugetlb);
	do_test_anon_thp_collapse(mem, size, ANON_THP_COLLAPSE_UNSHARED);
}

static void test_anon_thp_collapse_fully_shared(char *mem, size_t size, bool is_hugetlb)
{
	assert(!is_hugetlb);
	do_test_anon_thp_collapse(mem, size, ANON_THP_COLLAPSE_FULLY_SHARED);
}

static void test_anon_thp_collapse_lower_shared(char *mem, size_t size, bool is_hugetlb)
{
	assert(!is_hugetlb);
	do_test_anon_thp_collapse(mem, size, ANON_THP_COLLAPSE_LOWER_SHARED);
}

static void test_anon_thp_collapse_upper_shared(char *mem, size_t size, bool is_hugetlb)
{
	assert(!is_hugetlb);
	do_test_anon_thp_collapse(mem, size, ANON_THP_COLLAPSE_UPPER_SHARED);
}

/*
 * Test cases that are specific to anonymous THP: pages in private mappings
 * that may get shared via COW during fork().
 */
static const struct test_case anon_thp_test_cases[] = {
	/*
	 * Basic COW test for fork() without any GUP when collapsing a THP
	 * before fork().
	 */
	{
		"Basic COW after fork() when collapsing before fork()",
		test_anon_thp_collapse_unshared,
	},
	/* Basic COW test, but collapse after COW-sharing a full THP. */
	{
		"Basic COW after fork() when collapsing after fork() (fully shared)",
		test_anon_thp_collapse_fully_shared,
	},
	/* Basic COW test, but collapse after COW-sharing the lower half of a THP. */
	{
		"Basic COW after fork() when collapsing after fork() (lower shared)",
		test_anon_thp_collapse_lower_shared,
	},
	/* Basic COW test, but collapse after COW-sharing the upper half of a THP. */
	{
		"Basic COW after fork() when collapsing after fork() (upper shared)",
		test_anon_thp_collapse_upper_shared,
	},
};

static void run_anon_thp_test_cases(void)
{
	int i;

	if (!pmdsize)
		return;

	ksft_print_msg("[INFO] Anonymous THP tests\n");

	for (i = 0; i < (int)ARRAY_SIZE(anon_thp_test_cases); i++) {
		struct test_case const *test_case = &anon_thp_test_cases[i];

		log_test_start("%s", test_case->desc);
		do_run_with_thp(test_case->fn, THP_RUN_PMD, pmdsize);
	}
}

static int tests_per_anon_thp_test_case(void)
{
	return pmdsize ? 1 : 0;
}

typedef void (*non_anon_test_fn)(char *mem, const char *smem, size_t size);

static void test_ro_pin(char *mem, const char *smem, size_t size)
{
	do_test_ro_pin(mem, size, RO_PIN_TEST, false);
}

static void test_ro_fast_pin(char *mem, const char *smem, size_t size)
{
	do_test_ro_pin(mem, size, RO_PIN_TEST, true);
}

static void run_with_zeropage(non_anon_test_fn fn, const char *desc)
{
	char *mem, *smem;

	log_test_start("%s ... with shared zeropage", desc);

	mem = mmap(NULL, pagesize, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANON, -1, 0);
	if (mem == MAP_FAILED) {
		ksft_perror("mmap() failed");
		log_test_result(KSFT_FAIL);
		return;
	}

	smem = mmap(NULL, pagesize, PROT_READ, MAP_PRIVATE | MAP_ANON, -1, 0);
	if (smem == MAP_FAILED) {
		ksft_perror("mmap() failed");
		log_test_result(KSFT_FAIL);
		goto munmap;
	}

	/* Read from the page to populate the shared zeropage. */
	FORCE_READ(mem);
	FORCE_READ(smem);

	fn(mem, smem, pagesize);
munmap:
	munmap(mem, pagesize);
	if (smem != MAP_FAILED)
		munmap(smem, pagesize);
}

static void run_with_huge_zeropage(non_anon_test_fn fn, const char *desc)
{
	char *mem, *smem, *mmap_mem, *mmap_smem;
	size_t mmap_size;
	int ret;

	log_test_start("%s ... with huge zeropage", desc);

	if (!has_huge_zeropage) {
		ksft_print_msg("Huge zeropage not enabled\n");
		log_test_result(KSFT_SKIP);
		return;
	}

	/* For alignment purposes, we need twice the thp size. */
	mmap_size = 2 * pmdsize;
	mmap_mem = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mmap_mem == MAP_FAILED) {
		ksft_perror("mmap() failed");
		log_test_result(KSFT_FAIL);
		return;
	}
	mmap_smem = mmap(NULL, mmap_size, PROT_READ,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mmap_smem == MAP_FAILED) {
		ksft_perror("mmap() failed");
		log_test_result(KSFT_FAIL);
		goto munmap;
	}

	/* We need a THP-aligned memory area. */
	mem = (char *)(((uintptr_t)mmap_mem + pmdsize) & ~(pmdsize - 1));
	smem = (char *)(((uintptr_t)mmap_smem + pmdsize) & ~(pmdsize - 1));

	ret = madvise(mem, pmdsize, MADV_HUGEPAGE);
	if (ret) {
		ksft_perror("madvise()");
		log_test_result(KSFT_FAIL);
		goto munmap;
	}
	ret = madvise(smem, pmdsize, MADV_HUGEPAGE);
	if (ret) {
		ksft_perror("madvise()");
		log_test_result(KSFT_FAIL);
		goto munmap;
	}

	/*
	 * Read from the memory to populate the huge shared zeropage. Read from
	 * the first sub-page and test if we get another sub-page populated
	 * automatically.
	 */
	FORCE_READ(mem);
	FORCE_READ(smem);
	if (!pagemap_is_populated(pagemap_fd, mem + pagesize) ||
	    !pagemap_is_populated(pagemap_fd, smem + pagesize)) {
		ksft_test_result_skip("Did not get THPs populated\n");
		goto munmap;
	}

	fn(mem, smem, pmdsize);
munmap:
	munmap(mmap_mem, mmap_size);
	if (mmap_smem != MAP_FAILED)
		munmap(mmap_smem, mmap_size);
}

static void run_with_memfd(non_anon_test_fn fn, const char *desc)
{
	char *mem, *smem;
	int fd;

	log_test_start("%s ... with memfd", desc);

	fd = memfd_create("test", 0);
	if (fd < 0) {
		ksft_perror("memfd_create() failed");
		log_test_result(KSFT_FAIL);
		return;
	}

	/* File consists of a single page filled with zeroes. */
	if (fallocate(fd, 0, 0, pagesize)) {
		ksft_perror("fallocate() failed");
		log_test_result(KSFT_FAIL);
		goto close;
	}

	/* Create a private mapping of the memfd. */
	mem = mmap(NULL, pagesize, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (mem == MAP_FAILED) {
		ksft_perror("mmap() failed");
		log_test_result(KSFT_FAIL);
		goto close;
	}
	smem = mmap(NULL, pagesize, PROT_READ, MAP_SHARED, fd, 0);
	if (smem == MAP_FAILED) {
		ksft_perror("mmap() failed");
		log_test_result(KSFT_FAIL);
		goto munmap;
	}

	/* Fault the page in. */
	FORCE_READ(mem);
	FORCE_READ(smem);

	fn(mem, smem, pagesize);
munmap:
	munmap(mem, pagesize);
	if (smem != MAP_FAILED)
		munmap(smem, pagesize);
close:
	close(fd);
}

static void run_with_tmpfile(non_anon_test_fn fn, const char *desc)
{
	char *mem, *smem;
	FILE *file;
	int fd;

	log_test_start("%s ... with tmpfile", desc);

	file = tmpfile();
	if (!file) {
		ksft_perror("tmpfile() failed");
		log_test_result(KSFT_FAIL);
		return;
	}

	fd = fileno(file);
	if (fd < 0) {
		ksft_perror("fileno() failed");
		log_test_result(KSFT_SKIP);
		return;
	}

	/* File consists of a single page filled with zeroes. */
	if (fallocate(fd, 0, 0, pagesize)) {
		ksft_perror("fallocate() failed");
		log_test_result(KSFT_FAIL);
		goto close;
	}

	/* Create a private mapping of the memfd. */
	mem = mmap(NULL, pagesize, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (mem == MAP_FAILED) {
		ksft_perror("mmap() failed");
		log_test_result(KSFT_FAIL);
		goto close;
	}
	smem = mmap(NULL, pagesize, PROT_READ, MAP_SHARED, fd, 0);
	if (smem == MAP_FAILED) {
		ksft_perror("mmap() failed");
		log_test_result(KSFT_FAIL);
		goto munmap;
	}

	/* Fault the page in. */
	FORCE_READ(mem);
	FORCE_READ(smem);

	fn(mem, smem, pagesize);
munmap:
	munmap(mem, pagesize);
	if (smem != MAP_FAILED)
		munmap(smem, pagesize);
close:
	fclose(file);
}

static void run_with_memfd_hugetlb(non_anon_test_fn fn, const char *desc,
				   size_t hugetlbsize)
{
	int flags = MFD_HUGETLB;
	char *mem, *smem;
	int fd;

	log_test_start("%s ... with memfd hugetlb (%zu kB)", desc, hugetlbsize / 1024);

	flags |= __builtin_ctzll(hugetlbsize) << MFD_HUGE_SHIFT;

	fd = memfd_create("test", flags);
	if (fd < 0) {
		ksft_perror("memfd_create() failed");
		log_test_result(KSFT_SKIP);
		return;
	}

	/* File consists of a single page filled with zeroes. */
	if (fallocate(fd, 0, 0, hugetlbsize)) {
		ksft_perror("need more free huge pages");
		log_test_result(KSFT_SKIP);
		goto close;
	}

	mem = mmap(NULL, hugetlbsize, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (mem == MAP_FAILED) {
		ksft_perror("need more free huge pages");
		log_test_result(KSFT_SKIP);
		goto close;
	}
	smem = mmap(NULL, hugetlbsize, PROT_READ, MAP_SHARED, fd, 0);
	if (smem == MAP_FAILED) {
		ksft_perror("mmap() failed");
		log_test_result(KSFT_FAIL);
		goto munmap;
	}

	/* Fault the page in. */
	FORCE_READ(mem);
	FORCE_READ(smem);

	fn(mem, smem, hugetlbsize);
munmap:
	munmap(mem, hugetlbsize);
	if (smem != MAP_FAILED)
		munmap(smem, hugetlbsize);
close:
	close(fd);
}

struct non_anon_test_case {
	const char *desc;
	non_anon_test_fn fn;
};

/*
 * Test cases that target any pages in private mappings that are not anonymous:
 * pages that may get shared via COW ndependent of fork(). This includes
 * the shared zeropage(s), pagecache pages, ...
 */
static const struct non_anon_test_case non_anon_test_cases[] = {
	/*
	 * Take a R/O longterm pin. When modifying the page via the page table,
	 * the page content change must be visible via the pin.
	 */
	{
		"R/O longterm GUP pin",
		test_ro_pin,
	},
	/* Same as above, but using GUP-fast. */
	{
		"R/O longterm GUP-fast pin",
		test_ro_fast_pin,
	},
};

static void run_non_anon_test_case(struct non_anon_test_case const *test_case)
{
	run_with_zeropage(test_case->fn, test_case->desc);
	run_with_memfd(test_case->fn, test_case->desc);
	run_with_tmpfile(test_case->fn, test_case->desc);
	if (pmdsize)
		run_with_huge_zeropage(test_case->fn, test_case->desc);
	for (int i = 0; i < nr_hugetlbsizes; i++)
		run_with_memfd_hugetlb(test_case->fn, test_case->desc, hugetlbsizes[i]);
}

static void run_non_anon_test_cases(void)
{
	int i;

	ksft_print_msg("[RUN] Non-anonymous memory tests in private mappings\n");

	for (i = 0; i < (int)ARRAY_SIZE(non_anon_test_cases); i++)
		run_non_anon_test_case(&non_anon_test_cases[i]);
}

static int tests_per_non_anon_test_case(void)
{
	int tests = 3;

	if (pmdsize)
		tests += 1;
	tests += nr_hugetlbsizes;
	return tests;
}

int main(int argc, char **argv)
{
	static const char *const machine[] = {
		"ram", "256M", "debug", "2", "quiet", "1", "thp", "madvise",
		"swap", "16M", "hugepages.2M", "4", NULL,
	};

	ksft_boot(machine);
	pagesize = 4096;
	pmdsize = 2 * 1024 * 1024;
	has_huge_zeropage = true;
	/* detect_hugetlb_page_sizes(): the sizes with a pool. */
	if (pinmm_vmstat(ksft_machine, "nr_hugepages_2048kB") > 0)
		hugetlbsizes[nr_hugetlbsizes++] = 2 * 1024 * 1024;
	if (pinmm_vmstat(ksft_machine, "nr_hugepages_1048576kB") > 0)
		hugetlbsizes[nr_hugetlbsizes++] = 1024UL * 1024 * 1024;
	gup_fd = pinmm_gup_test_open(self);

	ksft_print_header();
	/* The kernel's test makes the PMD size inherit first. */
	thp_setting(pmdsize, "inherit", NULL, 0);
	nr_thpsizes = detect_thp_sizes(thpsizes, (int)ARRAY_SIZE(thpsizes));
	ksft_set_plan(ARRAY_SIZE(anon_test_cases) * tests_per_anon_test_case() +
		      ARRAY_SIZE(anon_thp_test_cases) * tests_per_anon_thp_test_case() +
		      ARRAY_SIZE(non_anon_test_cases) * tests_per_non_anon_test_case() +
		      1 /* shutdown */);

	run_anon_test_cases();
	run_anon_thp_test_cases();
	run_non_anon_test_cases();

	close(gup_fd);
	return ksft_finished();
}
