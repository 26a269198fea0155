/* SPDX-License-Identifier: MIT */
/*
 * Description: the public contract as an outside program sees it: this
 * file includes only <pinmm/pinmm.h> and <pinmm/debug.h> (plus libc and
 * cmocka) and links the shared library.  It checks the Foundation's "done when" list: zero-page
 * reads, write faults, COW after fork in both directions, MAP_SHARED
 * across fork, munmap, mprotect, MADV_DONTNEED, memfd mappings, and a
 * clean pinmm_shutdown() once every process has exited; and the
 * introspection call the pinmm tool's bench uses, pinmm_debug_memmap().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include <pinmm/debug.h>
#include <pinmm/pinmm.h>

#define PG 4096UL

static struct pinmm *boot(void)
{
	struct pinmm_config cfg;
	struct pinmm *m = NULL;

	pinmm_config_default(&cfg);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "256M"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "debug", "2"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "thp", "never"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "no.such.key", "1"), -EINVAL);
	assert_int_equal(pinmm_boot(&cfg, &m), 0);
	assert_non_null(m);
	return m;
}

static struct pinmm_page_info info(struct pinmm_proc *p, unsigned long addr)
{
	struct pinmm_page_info pi;

	assert_int_equal(pinmm_page_info(p, addr, &pi), 0);
	return pi;
}

static void put8(struct pinmm_proc *p, unsigned long addr, uint8_t v)
{
	assert_int_equal(pinmm_store(p, addr, &v, 1), 1);
}

static uint8_t get8(struct pinmm_proc *p, unsigned long addr)
{
	uint8_t v = 0xff;

	assert_int_equal(pinmm_load(p, addr, &v, 1), 1);
	return v;
}

static void test_zero_page_and_write_fault(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = NULL;
	struct pinmm_page_info pi;
	long a;

	assert_int_equal(pinmm_proc_create(m, &p), 0);
	a = pinmm_mmap(p, 0, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(a > 0);
	assert_false(info(p, a).present);
	assert_int_equal(get8(p, a), 0);
	pi = info(p, a);
	assert_true(pi.present && pi.zero_page && !pi.writable);
	put8(p, a, 0x42);
	pi = info(p, a);
	assert_true(pi.present && pi.writable && pi.anon && pi.anon_exclusive && !pi.zero_page);
	assert_int_equal(pi.refcount, 1);
	assert_int_equal(pi.mapcount, 1);
	assert_int_equal(get8(p, a), 0x42);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 1);
	assert_int_equal(pinmm_vmstat(m, "no_such_counter"), -ENOENT);
	assert_int_equal(pinmm_page_info(p, a + 4 * PG, &pi), -EFAULT);
	assert_int_equal(pinmm_exit(p), 0);
	assert_int_equal(pinmm_shutdown(m), 0);
}

static void test_cow_both_directions(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = NULL, *c = NULL;
	long a;

	assert_int_equal(pinmm_proc_create(m, &p), 0);
	a = pinmm_mmap(p, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	put8(p, a, 'A');
	put8(p, a + PG, 'B');
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(info(p, a).pfn, info(c, a).pfn);
	assert_false(info(p, a).writable || info(c, a).writable);
	assert_int_equal(info(p, a).mapcount, 2);
	/* Parent writes page 0, child writes page 1. */
	put8(p, a, 'P');
	put8(c, a + PG, 'C');
	assert_int_equal(get8(c, a), 'A');
	assert_int_equal(get8(p, a), 'P');
	assert_int_equal(get8(p, a + PG), 'B');
	assert_int_equal(get8(c, a + PG), 'C');
	assert_true(info(p, a).pfn != info(c, a).pfn);
	assert_true(info(p, a + PG).pfn != info(c, a + PG).pfn);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 4);
	assert_int_equal(pinmm_exit(c), 0);
	assert_int_equal(pinmm_exit(p), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 0);
	assert_int_equal(pinmm_shutdown(m), 0);
}

static void test_shared_across_fork(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = NULL, *c = NULL;
	int fd;
	long a, s;
	char buf[8];

	assert_int_equal(pinmm_proc_create(m, &p), 0);
	a = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fd = pinmm_memfd_create(p, "outside", 0);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd, PG), 0);
	s = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(a > 0 && s > 0);
	assert_int_equal(pinmm_fork(p, &c), 0);
	put8(c, a, 'c');
	assert_int_equal(get8(p, a), 'c');
	put8(p, a, 'p');
	assert_int_equal(get8(c, a), 'p');
	/* memfd: mapping, pwrite/pread and the other process agree. */
	assert_int_equal(pinmm_store(c, s, "memfd", 5), 5);
	assert_int_equal(pinmm_pread(p, fd, buf, 5, 0), 5);
	assert_memory_equal(buf, "memfd", 5);
	assert_int_equal(pinmm_pwrite(p, fd, "MEMFD", 5, 0), 5);
	assert_int_equal(pinmm_load(c, s, buf, 5), 5);
	assert_memory_equal(buf, "MEMFD", 5);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 0);
	assert_int_equal(pinmm_exit(p), 0);
	assert_int_equal(pinmm_exit(c), 0);
	assert_int_equal(pinmm_shutdown(m), 0);
}

static void test_munmap_mprotect_dontneed(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = NULL;
	uint8_t v = 1;
	long a, f;
	int fd;
	char buf[4];

	assert_int_equal(pinmm_proc_create(m, &p), 0);
	a = pinmm_mmap(p, 0, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < 4; i++)
		put8(p, a + i * PG, (uint8_t)(i + 1));
	/* munmap */
	assert_int_equal(pinmm_munmap(p, a + PG, PG), 0);
	assert_int_equal(pinmm_load(p, a + PG, &v, 1), -EFAULT);
	assert_int_equal(pinmm_munmap(p, a + 1, PG), -EINVAL);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 3);
	/* mprotect */
	assert_int_equal(pinmm_mprotect(p, a, PG, PROT_READ), 0);
	assert_int_equal(pinmm_store(p, a, &v, 1), -EFAULT);
	assert_int_equal(get8(p, a), 1);
	assert_int_equal(pinmm_mprotect(p, a, 2 * PG, PROT_READ), -ENOMEM);
	assert_int_equal(pinmm_mprotect(p, a, PG, PROT_NONE), 0);
	assert_int_equal(pinmm_load(p, a, &v, 1), -EFAULT);
	assert_int_equal(pinmm_mprotect(p, a, PG, PROT_READ | PROT_WRITE), 0);
	put8(p, a, 9);
	/* MADV_DONTNEED: private anonymous memory reads zero afterwards. */
	assert_int_equal(pinmm_madvise(p, a + 2 * PG, 2 * PG, MADV_DONTNEED), 0);
	assert_int_equal(get8(p, a + 2 * PG), 0);
	assert_int_equal(get8(p, a + 3 * PG), 0);
	assert_int_equal(get8(p, a), 9);
	assert_int_equal(pinmm_madvise(p, a, 4 * PG, MADV_DONTNEED), -ENOMEM);
	assert_int_equal(pinmm_madvise(p, a, PG, 12345), -EINVAL);
	/* ...and a private file mapping re-reads the file. */
	fd = pinmm_memfd_create(p, "f", 0);
	assert_int_equal(pinmm_pwrite(p, fd, "file", 4, 0), 4);
	f = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_int_equal(pinmm_store(p, f, "priv", 4), 4);
	assert_int_equal(pinmm_madvise(p, f, PG, MADV_DONTNEED), 0);
	assert_int_equal(pinmm_load(p, f, buf, 4), 4);
	assert_memory_equal(buf, "file", 4);
	assert_int_equal(pinmm_audit(m), 0);
	assert_int_equal(pinmm_exit(p), 0);
	assert_int_equal(pinmm_exit(p), -ESRCH);
	assert_int_equal(pinmm_shutdown(m), 0);
}

static void test_mmap_errors(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = NULL;

	assert_int_equal(pinmm_proc_create(m, &p), 0);
	assert_int_equal(pinmm_mmap(p, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), -EINVAL);
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_READ, MAP_ANONYMOUS, -1, 0), -EINVAL);
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_READ, MAP_PRIVATE, 42, 0), -EBADF);
	assert_int_equal(pinmm_mmap(p, 0x7ffffffff000UL, PG, PROT_READ,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), -ENOMEM);
	assert_true(strcmp(pinmm_strerror(-EFAULT), "EFAULT") == 0);
	assert_non_null(pinmm_version());
	/* Shutdown exits the processes still running. */
	assert_int_equal(pinmm_shutdown(m), 0);
}

/* pinmm_debug_memmap(): 64 bytes of memmap per frame, as boot sized it. */
static void test_debug_memmap(void **state)
{
	struct pinmm_memmap_info mi;
	struct pinmm *m = boot();
	unsigned char untouched[sizeof(mi)];

	memset(&mi, 0xa5, sizeof(mi));
	memcpy(untouched, &mi, sizeof(mi));
	assert_int_equal(pinmm_debug_memmap(NULL, &mi), -EINVAL);
	assert_int_equal(pinmm_debug_memmap(m, NULL), -EINVAL);
	assert_memory_equal(&mi, untouched, sizeof(mi));

	assert_int_equal(pinmm_debug_memmap(m, &mi), 0);
	assert_int_equal(mi.nr_pages, (256UL << 20) / PG);	/* ram=256M, no pmem */
	assert_int_equal(mi.mem_bytes, 256UL << 20);
	assert_int_equal(mi.page_struct_bytes, 64);
	assert_int_equal(mi.memmap_bytes, mi.nr_pages * 64);
	assert_int_equal(pinmm_shutdown(m), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zero_page_and_write_fault),
		cmocka_unit_test(test_cow_both_directions),
		cmocka_unit_test(test_shared_across_fork),
		cmocka_unit_test(test_munmap_mprotect_dontneed),
		cmocka_unit_test(test_mmap_errors),
		cmocka_unit_test(test_debug_memmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
