/* SPDX-License-Identifier: MIT */
/*
 * Description: pinmm_mprotect() against mprotect(2): error codes
 * (unaligned -EINVAL, unknown prot bits -EINVAL, holes -ENOMEM, -EACCES
 * for PROT_WRITE on a shared mapping of a read-only file), downgrades
 * write-protecting present PTEs, upgrades making exclusive anonymous pages
 * writable at once while shared-COW and page-cache pages keep faulting,
 * and PROT_NONE keeping the pages but refusing access.
 */
#include "helpers.h"

#include "mm.h"

#define PG 4096UL

static struct pinmm_page_info info(struct pinmm_proc *p, unsigned long addr)
{
	struct pinmm_page_info pi;

	assert_int_equal(pinmm_page_info(p, addr, &pi), 0);
	return pi;
}

static void test_mprotect_errors(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = (unsigned long)test_mmap_anon(p, 4 * PG);
	uint8_t v = 1;

	assert_int_equal(pinmm_mprotect(p, a + 1, PG, PROT_READ), -EINVAL);
	assert_int_equal(pinmm_mprotect(p, a, PG, 0x100), -EINVAL);
	assert_int_equal(pinmm_mprotect(p, a, PG, PROT_READ | 0x80), -EINVAL);
	/* Zero length: success without looking at the range. */
	assert_int_equal(pinmm_mprotect(p, 0x1000000UL, 0, PROT_READ), 0);
	/* Wrapping: -ENOMEM. */
	assert_int_equal(pinmm_mprotect(p, a, ~0UL - a + PG, PROT_READ), -ENOMEM);
	/* Unmapped, partly unmapped at either end, or a hole in the middle. */
	assert_int_equal(pinmm_mprotect(p, 0x1000000UL, PG, PROT_READ), -ENOMEM);
	assert_int_equal(pinmm_mprotect(p, a - PG, 2 * PG, PROT_READ), -ENOMEM);
	assert_true(info(p, a).present == false);
	assert_int_equal(pinmm_store(p, a, &v, 1), 1);	/* start untouched */
	assert_int_equal(pinmm_munmap(p, a + 2 * PG, PG), 0);
	/* The part before the hole is changed (Linux), then -ENOMEM. */
	assert_int_equal(pinmm_mprotect(p, a, 4 * PG, PROT_READ), -ENOMEM);
	assert_int_equal(pinmm_store(p, a, &v, 1), -EFAULT);
	assert_int_equal(pinmm_store(p, a + 3 * PG, &v, 1), 1);
	assert_int_equal(pinmm_mprotect(p, a + 3 * PG, 2 * PG, PROT_READ), -ENOMEM);
	assert_int_equal(pinmm_mprotect(NULL, a, PG, PROT_READ), -EINVAL);
	test_shutdown_clean(m);
}

static void test_mprotect_eacces(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	int rw = pinmm_open(p, "/tmp/ro", O_RDWR | O_CREAT, 0644), ro;
	long sh, pr;

	assert_int_equal(pinmm_ftruncate(p, rw, 2 * PG), 0);
	ro = pinmm_open(p, "/tmp/ro", O_RDONLY, 0);
	sh = pinmm_mmap(p, 0, 2 * PG, PROT_READ, MAP_SHARED, ro, 0);
	pr = pinmm_mmap(p, 0, 2 * PG, PROT_READ, MAP_PRIVATE, ro, 0);
	assert_true(sh > 0 && pr > 0);
	/* Shared mapping of a read-only file can never be writable. */
	assert_int_equal(pinmm_mprotect(p, sh, PG, PROT_READ | PROT_WRITE), -EACCES);
	assert_int_equal(pinmm_mprotect(p, sh, 2 * PG, PROT_WRITE), -EACCES);
	/* Other changes are fine. */
	assert_int_equal(pinmm_mprotect(p, sh, PG, PROT_NONE), 0);
	assert_int_equal(pinmm_mprotect(p, sh, PG, PROT_READ | PROT_EXEC), 0);
	/* A private one can: writes COW. */
	assert_int_equal(pinmm_mprotect(p, pr, PG, PROT_READ | PROT_WRITE), 0);
	test_store8(p, pr, 1);
	assert_true(info(p, pr).anon);
	/* Shared read-write file: fine. */
	long w = pinmm_mmap(p, 0, PG, PROT_READ, MAP_SHARED, rw, 0);
	assert_int_equal(pinmm_mprotect(p, w, PG, PROT_READ | PROT_WRITE), 0);
	test_store8(p, w, 'w');
	char c;
	assert_int_equal(pinmm_pread(p, rw, &c, 1, 0), 1);
	assert_int_equal(c, 'w');
	test_shutdown_clean(m);
}

static void test_mprotect_downgrade_upgrade(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=2", "thp=never", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = (unsigned long)test_mmap_anon(p, 4 * PG);
	struct pinmm_page_info pi;
	unsigned long pfn;
	uint8_t v = 9;

	test_store8(p, a, 1);
	test_store8(p, a + PG, 2);
	assert_int_equal(test_load8(p, a + 2 * PG), 0);	/* zero page */

	assert_int_equal(pinmm_mprotect(p, a, 4 * PG, PROT_READ), 0);
	for (int i = 0; i < 3; i++)
		assert_false(info(p, a + i * PG).writable);
	assert_int_equal(pinmm_store(p, a, &v, 1), -EFAULT);
	assert_int_equal(test_load8(p, a), 1);
	/* Exclusivity survives the downgrade. */
	assert_true(info(p, a).anon_exclusive);

	/*
	 * PROT_NONE: pages kept, any access faults; page_info reports them
	 * present with the same page, as Linux's pagemap does for a PROT_NONE
	 * PTE (pte_present() is true for it).
	 */
	pfn = info(p, a).pfn;
	assert_int_equal(pinmm_mprotect(p, a, 4 * PG, PROT_NONE), 0);
	assert_int_equal(pinmm_load(p, a, &v, 1), -EFAULT);
	assert_true(info(p, a).present);
	assert_int_equal(info(p, a).pfn, pfn);
	assert_false(info(p, a).writable);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 2);

	/* Upgrade: exclusive anon writable at once; the zero page never is. */
	assert_int_equal(pinmm_mprotect(p, a, 4 * PG, PROT_READ | PROT_WRITE), 0);
	pi = info(p, a);
	assert_true(pi.present && pi.writable);
	pi = info(p, a + 2 * PG);
	assert_true(pi.zero_page && !pi.writable);
	assert_int_equal(test_load8(p, a + PG), 2);
	test_store8(p, a + 2 * PG, 3);
	assert_true(info(p, a + 2 * PG).anon);

	/* After fork the shared page stays read-only through an upgrade. */
	struct pinmm_proc *c = NULL;
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(pinmm_mprotect(p, a, PG, PROT_READ), 0);
	assert_int_equal(pinmm_mprotect(p, a, PG, PROT_READ | PROT_WRITE), 0);
	pi = info(p, a);
	assert_false(pi.writable);
	assert_false(pi.anon_exclusive);
	test_store8(p, a, 7);
	assert_int_equal(test_load8(c, a), 1);
	assert_int_equal(test_load8(p, a), 7);
	test_shutdown_clean(m);
}

static void test_mprotect_shared_and_file(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	int fd = pinmm_memfd_create(p, "mp", 0);
	long sh, pr;
	char c = 'x';

	assert_int_equal(pinmm_ftruncate(p, fd, PG), 0);
	sh = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	pr = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	test_store8(p, sh, 's');
	assert_int_equal(test_load8(p, pr), 's');	/* cache page, read-only */

	assert_int_equal(pinmm_mprotect(p, sh, PG, PROT_READ), 0);
	assert_false(info(p, sh).writable);
	assert_int_equal(pinmm_store(p, sh, &c, 1), -EFAULT);
	/* tmpfs needs no write-notify: upgrading makes the PTE writable. */
	assert_int_equal(pinmm_mprotect(p, sh, PG, PROT_READ | PROT_WRITE), 0);
	assert_true(info(p, sh).writable);
	/* A page-cache page in a private mapping is never made writable. */
	assert_int_equal(pinmm_mprotect(p, pr, PG, PROT_READ), 0);
	assert_int_equal(pinmm_mprotect(p, pr, PG, PROT_READ | PROT_WRITE), 0);
	assert_false(info(p, pr).writable);
	assert_false(info(p, pr).anon);
	assert_int_equal(pinmm_store(p, pr, &c, 1), 1);
	assert_true(info(p, pr).anon);
	assert_int_equal(test_load8(p, sh), 's');
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mprotect_errors),
		cmocka_unit_test(test_mprotect_eacces),
		cmocka_unit_test(test_mprotect_downgrade_upgrade),
		cmocka_unit_test(test_mprotect_shared_and_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
