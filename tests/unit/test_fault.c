/* SPDX-License-Identifier: MIT */
/*
 * Description: page faults through the simulated MMU (pinmm_load/store):
 * an anonymous read maps the shared zero page read-only without touching
 * its refcount; a write maps a fresh zeroed exclusive page; PROT_NONE,
 * stores to PROT_READ and accesses outside every VMA are -EFAULT (SIGSEGV);
 * accesses crossing pages and VMAs; private file mappings read the page
 * cache and COW it to anonymous memory on write; shared memfd mappings and
 * pread/pwrite see each other.
 */
#include "helpers.h"

#include <stdlib.h>

#include "mm.h"

#define PG 4096UL

static struct pinmm_page_info info(struct pinmm_proc *p, unsigned long addr)
{
	struct pinmm_page_info pi;

	assert_int_equal(pinmm_page_info(p, addr, &pi), 0);
	return pi;
}

static void test_read_maps_zero_page(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=2", "thp=never", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = (unsigned long)test_mmap_anon(p, 8 * PG);
	struct pinmm_page_info pi, pj;
	long free0 = pinmm_vmstat(m, "nr_free_pages");
	int zref = page_ref_count(m->zero_page);
	unsigned char buf[PG];

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(pinmm_load(p, a, buf, PG), (long)PG);
	for (size_t i = 0; i < PG; i++)
		assert_int_equal(buf[i], 0);
	pi = info(p, a);
	assert_true(pi.present);
	assert_true(pi.zero_page);
	assert_false(pi.writable);
	assert_false(pi.anon);
	assert_int_equal(pi.pfn, m->zero_pfn);
	assert_int_equal(pi.mapcount, 0);
	/* All read pages share the one zero page; no frame was allocated... */
	assert_int_equal(test_load8(p, a + 5 * PG + 17), 0);
	pj = info(p, a + 5 * PG);
	assert_int_equal(pj.pfn, pi.pfn);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 0);
	assert_int_equal(pinmm_vmstat(m, "zero_page_mapped"), 2);
	/* ...except page tables. */
	assert_true(pinmm_vmstat(m, "nr_free_pages") >= free0 - 4);
	/* The zero page's refcount is not touched by mapping it. */
	assert_int_equal(page_ref_count(m->zero_page), zref);
	assert_int_equal(pi.refcount, zref);
	/* Unmapping does not touch it either. */
	assert_int_equal(pinmm_munmap(p, a, 8 * PG), 0);
	assert_int_equal(page_ref_count(m->zero_page), zref);
	test_shutdown_clean(m);
}

static void test_write_fault_fresh_page(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=2", "thp=never", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = (unsigned long)test_mmap_anon(p, 4 * PG);
	struct pinmm_page_info pi;
	unsigned char buf[PG];
	long cow0;

	/* Write straight into an untouched page. */
	test_store8(p, a + 100, 0x42);
	pi = info(p, a);
	assert_true(pi.present && pi.writable && pi.anon && pi.anon_exclusive);
	assert_false(pi.zero_page);
	assert_true(pi.dirty);
	assert_int_equal(pi.refcount, 1);
	assert_int_equal(pi.mapcount, 1);
	assert_int_equal(pi.folio_order, 0);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 1);
	/* The rest of the page is zero (fresh frames are zeroed). */
	assert_int_equal(pinmm_load(p, a, buf, PG), (long)PG);
	for (size_t i = 0; i < PG; i++)
		assert_int_equal(buf[i], i == 100 ? 0x42 : 0);

	/* Read first, then write: the zero page is replaced (copied). */
	assert_int_equal(test_load8(p, a + PG), 0);
	assert_true(info(p, a + PG).zero_page);
	cow0 = pinmm_vmstat(m, "cow_fault");
	test_store8(p, a + PG + 1, 9);
	pi = info(p, a + PG);
	assert_false(pi.zero_page);
	assert_true(pi.anon && pi.anon_exclusive && pi.writable);
	assert_int_equal(pi.refcount, 1);
	assert_int_equal(pinmm_vmstat(m, "cow_fault"), cow0 + 1);
	assert_int_equal(test_load8(p, a + PG), 0);
	assert_int_equal(test_load8(p, a + PG + 1), 9);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 2);
	/* A second write to a writable page takes no fault. */
	long faults = pinmm_vmstat(m, "pgfault");
	test_store8(p, a + PG + 2, 10);
	assert_int_equal(pinmm_vmstat(m, "pgfault"), faults);
	test_shutdown_clean(m);
}

static void test_access_errors(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = (unsigned long)test_mmap_anon(p, 4 * PG);
	long none, ro;
	uint8_t v = 1;

	none = pinmm_mmap(p, 0, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = pinmm_mmap(p, 0, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(none > 0 && ro > 0);

	/* PROT_NONE: neither load nor store. */
	assert_int_equal(pinmm_load(p, none, &v, 1), -EFAULT);
	assert_int_equal(pinmm_store(p, none, &v, 1), -EFAULT);
	assert_false(info(p, none).present);
	/* PROT_READ: loads work (zero), stores fault and leave no page. */
	assert_int_equal(pinmm_load(p, ro, &v, 1), 1);
	assert_int_equal(v, 0);
	v = 1;
	assert_int_equal(pinmm_store(p, ro, &v, 1), -EFAULT);
	assert_true(info(p, ro).zero_page);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 0);
	/* Outside every VMA, including just past the end. */
	assert_int_equal(pinmm_load(p, a + 4 * PG, &v, 1), -EFAULT);
	assert_int_equal(pinmm_store(p, a + 4 * PG, &v, 1), -EFAULT);
	assert_int_equal(pinmm_load(p, 0, &v, 1), -EFAULT);
	assert_int_equal(pinmm_load(p, 0x7ffffffff000UL, &v, 1), -EFAULT);
	assert_int_equal(pinmm_load(p, ~0UL - 3, &v, 1), -EFAULT);
	/* Bad arguments. */
	assert_int_equal(pinmm_load(NULL, a, &v, 1), -EINVAL);
	assert_int_equal(pinmm_load(p, a, NULL, 1), -EINVAL);
	assert_int_equal(pinmm_load(p, a, NULL, 0), 0);
	/* mprotect to PROT_NONE after a write: the page stays, access faults. */
	test_store8(p, a, 5);
	assert_int_equal(pinmm_mprotect(p, a, PG, PROT_NONE), 0);
	assert_int_equal(pinmm_load(p, a, &v, 1), -EFAULT);
	assert_int_equal(pinmm_mprotect(p, a, PG, PROT_READ), 0);
	assert_int_equal(test_load8(p, a), 5);
	test_shutdown_clean(m);
}

static void test_cross_page_access(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = (unsigned long)test_mmap_anon(p, 4 * PG);
	size_t len = 2 * PG + 200;
	unsigned char *in = malloc(4 * PG), *out = malloc(4 * PG);

	for (size_t i = 0; i < len; i++)
		in[i] = (unsigned char)(i * 13 + 7);
	/* Starts 100 bytes before a page end and covers three pages. */
	assert_int_equal(pinmm_store(p, a + PG - 100, in, len), (long)len);
	memset(out, 0, len);
	assert_int_equal(pinmm_load(p, a + PG - 100, out, len), (long)len);
	assert_memory_equal(in, out, len);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 4);

	/* Running off the end of the VMA: -EFAULT, earlier pages written. */
	memset(in, 0x77, len);
	assert_int_equal(pinmm_store(p, a + 3 * PG + 10, in, PG), -EFAULT);
	assert_int_equal(test_load8(p, a + 3 * PG + 10), 0x77);
	assert_int_equal(test_load8(p, a + 4 * PG - 1), 0x77);
	assert_int_equal(pinmm_load(p, a + 3 * PG, out, 2 * PG), -EFAULT);

	/* A read-only page in the middle stops a store there. */
	assert_int_equal(pinmm_mprotect(p, a + 2 * PG, PG, PROT_READ), 0);
	memset(in, 0x11, len);
	assert_int_equal(pinmm_store(p, a + PG, in, 2 * PG), -EFAULT);
	assert_int_equal(test_load8(p, a + 2 * PG - 1), 0x11);
	assert_int_equal(test_load8(p, a + 2 * PG), (unsigned char)(((PG + 100) * 13 + 7) & 0xff));
	/* Loads across VMAs with different protections are fine. */
	assert_int_equal(pinmm_load(p, a + PG, out, 3 * PG), (long)(3 * PG));
	free(in);
	free(out);
	test_shutdown_clean(m);
}

static void test_private_file_mapping(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	struct pinmm_page_info pi;
	char buf[16];
	int fd = pinmm_open(p, "/tmp/pf", O_RDWR | O_CREAT, 0600);
	long a;

	assert_int_equal(pinmm_pwrite(p, fd, "file data", 9, 0), 9);
	assert_int_equal(pinmm_pwrite(p, fd, "second", 6, PG), 6);
	a = pinmm_mmap(p, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_true(a > 0);

	/* Read: the page-cache page itself, read-only, not anonymous. */
	assert_int_equal(pinmm_load(p, a, buf, 9), 9);
	assert_memory_equal(buf, "file data", 9);
	pi = info(p, a);
	assert_true(pi.present);
	assert_false(pi.anon || pi.writable || pi.zero_page);
	assert_int_equal(pi.mapcount, 1);
	assert_int_equal(pi.refcount, 2);	/* page cache + mapping */
	unsigned long cache_pfn = pi.pfn;

	/* Write: COW into a private anonymous page. */
	assert_int_equal(pinmm_store(p, a + 5, "DATA", 4), 4);
	pi = info(p, a);
	assert_true(pi.anon && pi.anon_exclusive && pi.writable);
	assert_true(pi.pfn != cache_pfn);
	assert_int_equal(pinmm_load(p, a, buf, 9), 9);
	assert_memory_equal(buf, "file DATA", 9);
	/* The file is unchanged. */
	assert_int_equal(pinmm_pread(p, fd, buf, 9, 0), 9);
	assert_memory_equal(buf, "file data", 9);
	/* Write to a page never read: copied straight from the cache. */
	assert_int_equal(pinmm_store(p, a + PG, "S", 1), 1);
	assert_int_equal(pinmm_load(p, a + PG, buf, 6), 6);
	assert_memory_equal(buf, "Second", 6);
	assert_int_equal(pinmm_pread(p, fd, buf, 6, PG), 6);
	assert_memory_equal(buf, "second", 6);
	/* Later file writes are not seen through the private copy. */
	assert_int_equal(pinmm_pwrite(p, fd, "XXXX", 4, 0), 4);
	assert_int_equal(pinmm_load(p, a, buf, 4), 4);
	assert_memory_equal(buf, "file", 4);
	/* Beyond EOF (within the mapping's last page): zeros. */
	assert_int_equal(test_load8(p, a + PG + 100), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 2);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

static void test_shared_memfd_mapping(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	struct pinmm_page_info pi;
	int fd = pinmm_memfd_create(p, "shm", 0);
	char buf[16];
	long a, b;

	assert_int_equal(pinmm_ftruncate(p, fd, 4 * PG), 0);
	a = pinmm_mmap(p, 0, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	b = pinmm_mmap(p, 0, 2 * PG, PROT_READ, MAP_SHARED, fd, 2 * PG);
	assert_true(a > 0 && b > 0);

	assert_int_equal(pinmm_store(p, a + 2 * PG + 3, "hello", 5), 5);
	assert_int_equal(pinmm_pread(p, fd, buf, 5, 2 * PG + 3), 5);
	assert_memory_equal(buf, "hello", 5);
	/* The second mapping sees the same page. */
	assert_int_equal(pinmm_load(p, b + 3, buf, 5), 5);
	assert_memory_equal(buf, "hello", 5);
	pi = info(p, a + 2 * PG);
	assert_true(pi.present && pi.writable && pi.shmem && !pi.anon);
	assert_int_equal(pi.mapcount, 2);
	assert_int_equal(pi.pfn, info(p, b).pfn);
	/* pwrite is seen through the mapping. */
	assert_int_equal(pinmm_pwrite(p, fd, "world", 5, 3), 5);
	assert_int_equal(pinmm_load(p, a + 3, buf, 5), 5);
	assert_memory_equal(buf, "world", 5);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 0);
	/* Beyond EOF after truncation: SIGBUS. */
	assert_int_equal(pinmm_ftruncate(p, fd, PG), 0);
	assert_int_equal(pinmm_load(p, a + 2 * PG, buf, 1), -EFAULT);
	assert_int_equal(pinmm_load(p, a, buf, 1), 1);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_maps_zero_page),
		cmocka_unit_test(test_write_fault_fresh_page),
		cmocka_unit_test(test_access_errors),
		cmocka_unit_test(test_cross_page_access),
		cmocka_unit_test(test_private_file_mapping),
		cmocka_unit_test(test_shared_memfd_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
