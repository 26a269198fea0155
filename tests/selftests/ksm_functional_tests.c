/* SPDX-License-Identifier: MIT */
/*
 * ksm_functional_tests.c - port of Linux's
 * tools/testing/selftests/mm/ksm_functional_tests.c to pinmm (own code,
 * same structure and test names): merge a range of equal pages, then
 * check that MADV_UNMERGEABLE leaves no pfn mapped twice, also after part
 * of the range was discarded.  ksmd is pinmm_ksm_scan(); "wait for two
 * full scans" is two passes, checked on ksm_full_scans.  pinmm has no
 * userfaultfd and no prctl(PR_SET_MEMORY_MERGE): those cases SKIP the way
 * the original does when the kernel lacks them.
 *
 * pinmm additions, on KSM's pin rules (GUP-SEMANTICS.md §6.6): a range
 * with one pinned page merges every page but that one; a R/O long-term
 * pin of a merged page pins a private copy and leaves the other pages
 * merged.
 */
#include "kselftest.h"
#include <pinmm/linux.h>

#define KiB 1024u
#define MiB (1024 * KiB)

static int pagemap_fd = -1;
static size_t pagesize = 4096;

static bool range_maps_duplicates(char *addr, unsigned long size)
{
	unsigned long offs_a, offs_b, pfn_a, pfn_b;

	/* Does any pfn appear twice in the range? (KSM pages do.) */
	for (offs_a = 0; offs_a < size; offs_a += pagesize) {
		pfn_a = pagemap_get_pfn(pagemap_fd, addr + offs_a);
		if (pfn_a == -1ul || !pfn_a)
			continue;
		for (offs_b = offs_a + pagesize; offs_b < size; offs_b += pagesize) {
			pfn_b = pagemap_get_pfn(pagemap_fd, addr + offs_b);
			if (pfn_b == -1ul || !pfn_b)
				continue;
			if (pfn_a == pfn_b)
				return true;
		}
	}
	return false;
}

static int ksm_merge(void)
{
	long start_scans = pinmm_vmstat(ksft_machine, "ksm_full_scans");

	if (start_scans < 0 || pinmm_ksm_scan(ksft_machine, 2) < 0)
		return -1;
	return pinmm_vmstat(ksft_machine, "ksm_full_scans") >= start_scans + 2 ? 0 : -1;
}

static char *mmap_and_merge_range(char val, unsigned long size)
{
	char *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (map == MAP_FAILED) {
		ksft_test_result_fail("mmap() failed\n");
		return MAP_FAILED;
	}
	if (madvise(map, size, MADV_NOHUGEPAGE) && errno != EINVAL) {
		ksft_test_result_fail("MADV_NOHUGEPAGE failed\n");
		goto unmap;
	}
	memset(map, val, size);
	if (madvise(map, size, MADV_MERGEABLE)) {
		ksft_test_result_fail("MADV_MERGEABLE failed\n");
		goto unmap;
	}
	if (ksm_merge()) {
		ksft_test_result_fail("Running KSM failed\n");
		goto unmap;
	}
	return map;
unmap:
	munmap(map, size);
	return MAP_FAILED;
}

static void test_unmerge(void)
{
	const unsigned int size = 2 * MiB;
	char *map;

	ksft_print_msg("[RUN] %s\n", __func__);
	map = mmap_and_merge_range(0xcf, size);
	if (map == MAP_FAILED)
		return;
	if (!range_maps_duplicates(map, size)) {
		ksft_test_result_fail("Pages were not merged\n");
		goto unmap;
	}
	if (madvise(map, size, MADV_UNMERGEABLE)) {
		ksft_test_result_fail("MADV_UNMERGEABLE failed\n");
		goto unmap;
	}
	ksft_test_result(!range_maps_duplicates(map, size), "Pages were unmerged\n");
unmap:
	munmap(map, size);
}

static void test_unmerge_discarded(void)
{
	const unsigned int size = 2 * MiB;
	char *map;

	ksft_print_msg("[RUN] %s\n", __func__);
	map = mmap_and_merge_range(0xcf, size);
	if (map == MAP_FAILED)
		return;
	/* Discard half of the pages: pte_none() entries in the range. */
	if (madvise(map, size / 2, MADV_DONTNEED)) {
		ksft_test_result_fail("MADV_DONTNEED failed\n");
		goto unmap;
	}
	if (madvise(map, size, MADV_UNMERGEABLE)) {
		ksft_test_result_fail("MADV_UNMERGEABLE failed\n");
		goto unmap;
	}
	ksft_test_result(!range_maps_duplicates(map, size), "Pages were unmerged\n");
unmap:
	munmap(map, size);
}

static void test_unmerge_uffd_wp(void)
{
	ksft_print_msg("[RUN] %s\n", __func__);
	ksft_test_result_skip("__NR_userfaultfd failed\n");
}

static void test_prctl(void)
{
	ksft_print_msg("[RUN] %s\n", __func__);
	ksft_test_result_skip("PR_SET_MEMORY_MERGE not supported\n");
}

static void test_prctl_fork(void)
{
	ksft_print_msg("[RUN] %s\n", __func__);
	ksft_test_result_skip("PR_SET_MEMORY_MERGE not supported\n");
}

/* pinmm: a pinned page of the range is the one page not merged. */
static void test_pinned_not_merged(void)
{
	const unsigned int size = 64 * 4096;
	struct page *page;
	char *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long pinned_pfn, other;
	bool ok;

	ksft_print_msg("[RUN] %s\n", __func__);
	if (map == MAP_FAILED) {
		ksft_test_result_fail("mmap() failed\n");
		return;
	}
	memset(map, 0xab, size);
	if (pin_user_pages_fast((unsigned long)map + 5 * pagesize, 1,
				FOLL_WRITE | FOLL_LONGTERM, &page) != 1) {
		ksft_test_result_fail("pin_user_pages_fast() failed\n");
		goto unmap;
	}
	if (madvise(map, size, MADV_MERGEABLE) || ksm_merge()) {
		ksft_test_result_fail("merging failed\n");
		unpin_user_page(page);
		goto unmap;
	}
	pinned_pfn = pagemap_get_pfn(pagemap_fd, map + 5 * pagesize);
	other = pagemap_get_pfn(pagemap_fd, map + 6 * pagesize);
	ok = pinned_pfn == page_to_pfn(page) && pinned_pfn != other &&
	     other == pagemap_get_pfn(pagemap_fd, map + 63 * pagesize);
	unpin_user_page(page);
	ksft_test_result(ok, "A pinned page is not merged\n");
unmap:
	munmap(map, size);
}

/* pinmm: a R/O long-term pin of a KSM page pins a private copy. */
static void test_ro_pin_unshares(void)
{
	const unsigned int size = 16 * 4096;
	struct page *page;
	unsigned long kpfn;
	char *map = mmap_and_merge_range(0x5a, size);
	bool ok;

	ksft_print_msg("[RUN] %s\n", __func__);
	if (map == MAP_FAILED)
		return;
	kpfn = pagemap_get_pfn(pagemap_fd, map);
	if (pin_user_pages_fast((unsigned long)map + 3 * pagesize, 1, FOLL_LONGTERM, &page) != 1) {
		ksft_test_result_fail("pin_user_pages_fast() failed\n");
		goto unmap;
	}
	ok = page_to_pfn(page) != kpfn &&
	     pagemap_get_pfn(pagemap_fd, map + 3 * pagesize) == page_to_pfn(page) &&
	     pagemap_get_pfn(pagemap_fd, map + 4 * pagesize) == kpfn;
	unpin_user_page(page);
	ksft_test_result(ok, "A R/O pin of a KSM page pins a private copy\n");
unmap:
	munmap(map, size);
}

int main(void)
{
	static const char *const machine[] = {
		"ram", "256M", "debug", "1", "quiet", "1", "thp", "madvise", NULL,
	};

	ksft_print_header();
	ksft_set_plan(7 + 1);
	ksft_boot(machine);
	test_unmerge();
	test_unmerge_discarded();
	test_unmerge_uffd_wp();
	test_prctl();
	test_prctl_fork();
	test_pinned_not_merged();
	test_ro_pin_unshares();
	return ksft_finished();
}
