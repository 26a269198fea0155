/* SPDX-License-Identifier: MIT */
/*
 * test_hugetlb.c - hugetlb pools, MAP_HUGETLB mappings and their
 * reservations, faults, bad input, fork and COW (mm/hugetlb*.c).  Pins,
 * hugetlbfs files and memfds are in test_hugetlb_pin.c and
 * test_hugetlb_fs.c.
 */
#include "helpers.h"
#include <pinmm/linux.h>

#define HP2M (2 * MiB)

static long vm(struct pinmm *m, const char *name)
{
	long v = pinmm_vmstat(m, name);

	assert_true(v >= 0);
	return v;
}
#define FREE2M(m) vm((m), "free_hugepages_2048kB")
#define RSVD2M(m) vm((m), "resv_hugepages_2048kB")

static long map_huge(struct pinmm_proc *p, size_t len, int flags)
{
	return pinmm_mmap(p, 0, len, PROT_READ | PROT_WRITE,
			  MAP_ANONYMOUS | MAP_HUGETLB | flags, -1, 0);
}

/* The pool comes from the keys; the counters read as sysfs's. */
static void test_pool_counters(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=4", "debug=2", NULL);
	char buf[32];

	(void)state;
	assert_int_equal(vm(m, "nr_hugepages_2048kB"), 4);
	assert_int_equal(FREE2M(m), 4);
	assert_int_equal(RSVD2M(m), 0);
	assert_int_equal(vm(m, "surplus_hugepages_2048kB"), 0);
	assert_int_equal(vm(m, "nr_hugepages_1048576kB"), 0);
	assert_true(pinmm_config_get(pinmm_machine_config(m), "hugepages.2M", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "4");
	test_shutdown_clean(m);
}

static void test_config_bad_values(void **state)
{
	struct pinmm_config cfg;

	(void)state;
	pinmm_config_default(&cfg);
	assert_int_equal(cfg.hugepages_2m, 0);
	assert_int_equal(cfg.hugepages_1g, 0);
	assert_int_equal(pinmm_config_set(&cfg, "hugepages.2M", "-1"), -EINVAL);
	assert_int_equal(pinmm_config_set(&cfg, "hugepages.2M", "lots"), -EINVAL);
	assert_int_equal(pinmm_config_set(&cfg, "hugepages.4M", "1"), -EINVAL);
	assert_int_equal(pinmm_config_set(&cfg, "hugepages.1G", "2"), 0);
	assert_int_equal(cfg.hugepages_1g, 2);
}

/* A pool larger than memory gets what fits (Linux: nr_hugepages reads back less). */
static void test_pool_larger_than_ram(void **state)
{
	struct pinmm *m = test_boot("ram=64M", "hugepages.2M=1000", "quiet=1", NULL);

	(void)state;
	assert_true(vm(m, "nr_hugepages_2048kB") > 0);
	assert_true(vm(m, "nr_hugepages_2048kB") < 32);
	test_shutdown_clean(m);
}

/* mmap reserves, the fault consumes the reservation, munmap gives the page back. */
static void test_private_reserve_fault_unmap(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=4", "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m);
	struct pinmm_page_info pi;
	long a = map_huge(p, 2 * HP2M, MAP_PRIVATE);

	(void)state;
	assert_true(a > 0);
	assert_int_equal(a % HP2M, 0);
	assert_int_equal(RSVD2M(m), 2);
	assert_int_equal(FREE2M(m), 4);
	test_store8(p, (unsigned long)a + 12345, 0x5a);
	assert_int_equal(RSVD2M(m), 1);
	assert_int_equal(FREE2M(m), 3);
	assert_int_equal(test_load8(p, (unsigned long)a + 12345), 0x5a);
	assert_int_equal(test_load8(p, (unsigned long)a + 12346), 0);
	assert_int_equal(pinmm_page_info(p, (unsigned long)a + 8192, &pi), 0);
	assert_true(pi.present && pi.hugetlb && pi.anon && pi.anon_exclusive && pi.writable);
	assert_true(pi.huge_mapped);
	assert_int_equal(pi.folio_order, 9);
	assert_int_equal(pi.mapcount, 1);
	assert_int_equal(pi.refcount, 1);
	assert_int_equal(pinmm_audit(m), 0);
	assert_int_equal(pinmm_munmap(p, (unsigned long)a, 2 * HP2M), 0);
	assert_int_equal(RSVD2M(m), 0);
	assert_int_equal(FREE2M(m), 4);
	test_shutdown_clean(m);
}

/* A read fault maps a zeroed page (no zero page for hugetlb); re-use keeps nothing. */
static void test_pages_are_zeroed_on_reuse(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=1", "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m);
	long a = map_huge(p, HP2M, MAP_PRIVATE);
	long b;

	(void)state;
	test_store8(p, (unsigned long)a + 777, 0xee);
	assert_int_equal(pinmm_munmap(p, (unsigned long)a, HP2M), 0);
	b = map_huge(p, HP2M, MAP_PRIVATE);
	assert_true(b > 0);
	assert_int_equal(test_load8(p, (unsigned long)b + 777), 0);
	test_shutdown_clean(m);
}

/* The pool cannot cover the mapping: -ENOMEM at mmap time. */
static void test_reserve_enomem(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=2", NULL);
	struct pinmm_proc *p = test_proc(m);
	long a;

	(void)state;
	assert_int_equal(map_huge(p, 3 * HP2M, MAP_PRIVATE), -ENOMEM);
	assert_int_equal(RSVD2M(m), 0);
	a = map_huge(p, 2 * HP2M, MAP_SHARED);
	assert_true(a > 0);
	assert_int_equal(RSVD2M(m), 2);
	assert_int_equal(map_huge(p, HP2M, MAP_PRIVATE), -ENOMEM);
	assert_int_equal(map_huge(p, HP2M, MAP_SHARED), -ENOMEM);
	assert_int_equal(pinmm_munmap(p, (unsigned long)a, 2 * HP2M), 0);
	/* The shared anon file went with the mapping: its reservations too. */
	assert_int_equal(RSVD2M(m), 0);
	test_shutdown_clean(m);
}

/* MAP_NORESERVE: mmap succeeds, the fault finds no page and is SIGBUS. */
static void test_noreserve_sigbus(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=1", NULL);
	struct pinmm_proc *p = test_proc(m);
	long a = map_huge(p, HP2M, MAP_PRIVATE);
	long b = map_huge(p, HP2M, MAP_PRIVATE | MAP_NORESERVE);
	uint8_t v = 1;
	struct page *page;

	(void)state;
	assert_true(a > 0 && b > 0);
	assert_int_equal(RSVD2M(m), 1);
	assert_int_equal(pinmm_store(p, (unsigned long)b, &v, 1), -EFAULT);
	assert_int_equal(vm(m, "hugetlb_sigbus"), 1);
	/* GUP reports the SIGBUS as -EFAULT, as Linux. */
	assert_int_equal(pin_user_pages_fast((unsigned long)b, 1, FOLL_WRITE, &page), -EFAULT);
	test_store8(p, (unsigned long)a, 2);
	/* With the reserved page back, the unreserved one can be had. */
	assert_int_equal(pinmm_munmap(p, (unsigned long)a, HP2M), 0);
	test_store8(p, (unsigned long)b, 3);
	assert_int_equal(FREE2M(m), 0);
	test_shutdown_clean(m);
}

/* Length rounds up to the huge page size; fixed/misaligned addresses. */
static void test_alignment(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=4", "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m);
	long a = map_huge(p, 4096, MAP_PRIVATE), b, c;

	(void)state;
	assert_true(a > 0);
	assert_int_equal(a % HP2M, 0);
	assert_int_equal(RSVD2M(m), 1);
	test_store8(p, (unsigned long)a + HP2M - 1, 7);		/* the whole 2 MiB is mapped */
	/* Fixed at a misaligned address: -EINVAL; a hint is rounded up. */
	assert_int_equal(pinmm_mmap(p, (unsigned long)a + 3 * HP2M + 4096, HP2M,
				    PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED, -1, 0),
			 -EINVAL);
	b = pinmm_mmap(p, 0x200000000UL + 4096, HP2M, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	assert_int_equal(b, 0x200000000UL + HP2M);
	c = pinmm_mmap(p, 0x300000000UL, HP2M, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED, -1, 0);
	assert_int_equal(c, 0x300000000UL);
	/* munmap / mprotect of part of a huge page: -EINVAL, nothing changes. */
	assert_int_equal(pinmm_munmap(p, (unsigned long)a, 4096), -EINVAL);
	assert_int_equal(pinmm_munmap(p, (unsigned long)a + 4096, HP2M - 4096), -EINVAL);
	assert_int_equal(pinmm_mprotect(p, (unsigned long)a, 4096, PROT_READ), -EINVAL);
	assert_int_equal(test_load8(p, (unsigned long)a + HP2M - 1), 7);
	test_store8(p, (unsigned long)a, 8);
	/* Whole pages are fine; a length past the end rounds up too. */
	assert_int_equal(pinmm_mprotect(p, (unsigned long)a, HP2M, PROT_READ), 0);
	assert_int_equal(pinmm_store(p, (unsigned long)a, "x", 1), -EFAULT);
	assert_int_equal(pinmm_munmap(p, (unsigned long)b, 4096 * 3), -EINVAL);
	assert_int_equal(pinmm_munmap(p, (unsigned long)b, HP2M), 0);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

static void test_bad_size_bits(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=1", NULL);
	struct pinmm_proc *p = test_proc(m);
	int fd = pinmm_open(p, "/dev/shm/x", O_RDWR | O_CREAT, 0600);

	(void)state;
	/* 4 MiB, 64 KiB: sizes this machine has no hstate for. */
	assert_int_equal(map_huge(p, HP2M, MAP_PRIVATE | (22 << MAP_HUGE_SHIFT)), -EINVAL);
	assert_int_equal(map_huge(p, HP2M, MAP_PRIVATE | (16 << MAP_HUGE_SHIFT)), -EINVAL);
	/* MAP_HUGETLB on a file of another filesystem. */
	assert_true(fd >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd, HP2M), 0);
	assert_int_equal(pinmm_mmap(p, 0, HP2M, PROT_READ, MAP_SHARED | MAP_HUGETLB, fd, 0),
			 -EINVAL);
	/* An explicit 2 MiB size is the default one; 1 GiB has an empty pool. */
	assert_true(map_huge(p, HP2M, MAP_PRIVATE | MAP_HUGE_2MB) > 0);
	assert_int_equal(map_huge(p, HP2M, MAP_PRIVATE | MAP_HUGE_1GB), -ENOMEM);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

/* Without a pool: MAP_HUGETLB fails with -ENOMEM, MAP_NORESERVE faults SIGBUS. */
static void test_empty_pool(void **state)
{
	struct pinmm *m = test_boot("ram=256M", NULL);
	struct pinmm_proc *p = test_proc(m);
	long a;
	uint8_t v = 0;

	(void)state;
	assert_int_equal(map_huge(p, HP2M, MAP_PRIVATE), -ENOMEM);
	assert_int_equal(map_huge(p, HP2M, MAP_SHARED), -ENOMEM);
	a = map_huge(p, HP2M, MAP_PRIVATE | MAP_NORESERVE);
	assert_true(a > 0);
	assert_int_equal(pinmm_load(p, (unsigned long)a, &v, 1), -EFAULT);
	test_shutdown_clean(m);
}

/* MADV_DONTNEED: aligned start only, end rounded down; MERGEABLE ignored. */
static void test_madvise(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=3", "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m);
	long a = map_huge(p, 2 * HP2M, MAP_PRIVATE);

	(void)state;
	test_store8(p, (unsigned long)a, 1);
	test_store8(p, (unsigned long)a + HP2M, 2);
	assert_int_equal(FREE2M(m), 1);
	assert_int_equal(pinmm_madvise(p, (unsigned long)a + 4096, HP2M, MADV_DONTNEED), -EINVAL);
	/* Rounded down to nothing: the page stays. */
	assert_int_equal(pinmm_madvise(p, (unsigned long)a, HP2M - 4096, MADV_DONTNEED), 0);
	assert_int_equal(test_load8(p, (unsigned long)a), 1);
	assert_int_equal(pinmm_madvise(p, (unsigned long)a, HP2M + 4096, MADV_DONTNEED), 0);
	assert_int_equal(FREE2M(m), 2);
	assert_int_equal(test_load8(p, (unsigned long)a + HP2M), 2);
	assert_int_equal(test_load8(p, (unsigned long)a), 0);
	assert_int_equal(pinmm_madvise(p, (unsigned long)a, 2 * HP2M, MADV_MERGEABLE), 0);
	assert_int_equal(pinmm_madvise(p, (unsigned long)a, 2 * HP2M, MADV_NOHUGEPAGE), 0);
	/* hugetlb mremap is not modelled: -EINVAL, the mapping unchanged. */
	assert_int_equal(pinmm_mremap(p, (unsigned long)a, 2 * HP2M, 2 * HP2M, MREMAP_MAYMOVE,
				      0), -EINVAL);
	assert_int_equal(test_load8(p, (unsigned long)a + HP2M), 2);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

/* fork: private pages are shared read-only, a write copies; shared ones stay shared. */
static void test_fork_cow_and_shared(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=4", "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m), *c;
	long priv = map_huge(p, HP2M, MAP_PRIVATE), shr = map_huge(p, HP2M, MAP_SHARED);
	struct pinmm_page_info pi;

	(void)state;
	test_store8(p, (unsigned long)priv, 1);
	test_store8(p, (unsigned long)shr, 2);
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(pinmm_page_info(p, (unsigned long)priv, &pi), 0);
	assert_false(pi.writable);
	assert_int_equal(pi.mapcount, 2);
	assert_int_equal(test_load8(c, (unsigned long)priv), 1);
	test_store8(c, (unsigned long)priv, 3);			/* child copies */
	assert_int_equal(FREE2M(m), 1);
	assert_int_equal(test_load8(p, (unsigned long)priv), 1);
	test_store8(p, (unsigned long)priv, 4);			/* parent reuses */
	assert_int_equal(FREE2M(m), 1);
	assert_int_equal(test_load8(c, (unsigned long)priv), 3);
	test_store8(c, (unsigned long)shr, 5);
	assert_int_equal(test_load8(p, (unsigned long)shr), 5);
	assert_int_equal(pinmm_audit(m), 0);
	assert_int_equal(pinmm_exit(c), 0);
	assert_int_equal(FREE2M(m), 2);
	test_shutdown_clean(m);
}

/* A child's COW with an empty pool is SIGBUS; the parent (owner) keeps its page. */
static void test_child_cow_sigbus(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=1", NULL);
	struct pinmm_proc *p = test_proc(m), *c;
	long a = map_huge(p, HP2M, MAP_PRIVATE);
	uint8_t v = 9;

	(void)state;
	test_store8(p, (unsigned long)a, 1);
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(pinmm_store(c, (unsigned long)a, &v, 1), -EFAULT);
	assert_int_equal(test_load8(c, (unsigned long)a), 1);
	test_store8(p, (unsigned long)a, 2);	/* owner: reuses nothing, steals */
	assert_int_equal(test_load8(p, (unsigned long)a), 2);
	assert_int_equal(pinmm_exit(c), 0);
	test_shutdown_clean(m);
}

/*
 * The owner's COW with an empty pool: Linux unmaps the page from the
 * child (HPAGE_RESV_UNMAPPED) so that the owner can keep it; the child's
 * next access there is SIGBUS.
 */
static void test_owner_cow_unmaps_child(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "hugepages.2M=1", "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m), *c;
	long a = map_huge(p, HP2M, MAP_PRIVATE);
	uint8_t v;

	(void)state;
	test_store8(p, (unsigned long)a, 1);
	assert_int_equal(pinmm_fork(p, &c), 0);
	test_store8(p, (unsigned long)a, 2);
	assert_int_equal(test_load8(p, (unsigned long)a), 2);
	assert_int_equal(FREE2M(m), 0);
	assert_int_equal(pinmm_load(c, (unsigned long)a, &v, 1), -EFAULT);
	assert_int_equal(pinmm_audit(m), 0);
	assert_int_equal(pinmm_exit(c), 0);
	test_shutdown_clean(m);
}

/* 1 GiB pages: a PUD leaf, faults, fork and unmap. */
static void test_1g_pages(void **state)
{
	struct pinmm *m = test_boot("ram=3G", "hugepages.1G=2", "debug=2", NULL);
	struct pinmm_proc *p = test_proc(m), *c;
	struct pinmm_page_info pi;
	long a = map_huge(p, 1 * GiB, MAP_PRIVATE | MAP_HUGE_1GB);

	(void)state;
	assert_int_equal(vm(m, "nr_hugepages_1048576kB"), 2);
	assert_true(a > 0);
	assert_int_equal(a % GiB, 0);
	assert_int_equal(vm(m, "resv_hugepages_1048576kB"), 1);
	test_store8(p, (unsigned long)a + 512 * MiB + 3, 0x33);
	assert_int_equal(pinmm_page_info(p, (unsigned long)a + 512 * MiB, &pi), 0);
	assert_true(pi.hugetlb && pi.present && pi.huge_mapped);
	assert_int_equal(pi.folio_order, 18);
	assert_int_equal(pinmm_munmap(p, (unsigned long)a, 2 * MiB), -EINVAL);
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(test_load8(c, (unsigned long)a + 512 * MiB + 3), 0x33);
	test_store8(c, (unsigned long)a, 1);
	assert_int_equal(vm(m, "free_hugepages_1048576kB"), 0);
	assert_int_equal(pinmm_audit(m), 0);
	assert_int_equal(pinmm_exit(c), 0);
	assert_int_equal(pinmm_munmap(p, (unsigned long)a, GiB), 0);
	assert_int_equal(vm(m, "free_hugepages_1048576kB"), 2);
	assert_int_equal(vm(m, "resv_hugepages_1048576kB"), 0);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_counters),
		cmocka_unit_test(test_config_bad_values),
		cmocka_unit_test(test_pool_larger_than_ram),
		cmocka_unit_test(test_private_reserve_fault_unmap),
		cmocka_unit_test(test_pages_are_zeroed_on_reuse),
		cmocka_unit_test(test_reserve_enomem),
		cmocka_unit_test(test_noreserve_sigbus),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_bad_size_bits),
		cmocka_unit_test(test_empty_pool),
		cmocka_unit_test(test_madvise),
		cmocka_unit_test(test_fork_cow_and_shared),
		cmocka_unit_test(test_child_cow_sigbus),
		cmocka_unit_test(test_owner_cow_unmaps_child),
		cmocka_unit_test(test_1g_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
