/* SPDX-License-Identifier: MIT */
/*
 * Description: pinmm_mmap() and pinmm_munmap() against mmap(2)/munmap(2):
 * every error code Linux returns (and for which reason), address selection
 * (hint honoured when free, top-down placement, MAP_FIXED replacing,
 * MAP_FIXED_NOREPLACE refusing), MAP_POPULATE, and partial unmaps.
 */
#include <time.h>

#include "helpers.h"

#include "mm.h"

#define PG 4096UL
#define USER_TOP 0x7ffffffff000UL	/* TASK_SIZE (doc/API.md §5) */

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif

static long anon(struct pinmm_proc *p, unsigned long addr, size_t len, int extra)
{
	return pinmm_mmap(p, addr, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);
}

static bool present(struct pinmm_proc *p, unsigned long addr)
{
	struct pinmm_page_info pi;

	assert_int_equal(pinmm_page_info(p, addr, &pi), 0);
	return pi.present;
}

static int nr_vmas(struct pinmm_proc *p)
{
	return p->mm->map_count;
}

static void test_mmap_einval(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	int fd = pinmm_memfd_create(p, "f", 0);

	assert_true(fd >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd, 16 * PG), 0);

	/* Zero length. */
	assert_int_equal(anon(p, 0, 0, 0), -EINVAL);
	assert_int_equal(pinmm_mmap(p, 0, 0, PROT_READ, MAP_SHARED, fd, 0), -EINVAL);
	/* Offset not a multiple of the page size (anon or file). */
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_READ, MAP_PRIVATE, fd, 1), -EINVAL);
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_READ, MAP_PRIVATE, fd, PG / 2), -EINVAL);
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 100),
			 -EINVAL);
	/* No mapping type, and the undefined types (MAP_TYPE values 4..15). */
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_READ, MAP_ANONYMOUS, -1, 0), -EINVAL);
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_READ, 0, fd, 0), -EINVAL);
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_READ, 0x04 | MAP_ANONYMOUS, -1, 0), -EINVAL);
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_READ, 0x0f | MAP_ANONYMOUS, -1, 0), -EINVAL);
	/*
	 * MAP_SHARED|MAP_PRIVATE is 0x03 == MAP_SHARED_VALIDATE in Linux, a
	 * valid type: it must be accepted as a shared mapping.
	 */
	long a = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(a > 0);
	assert_true(p->mm->mmap_list.next != &p->mm->mmap_list);
	{
		struct vm_area_struct *vma;

		mmap_read_lock(p->mm);
		vma = vma_lookup(p->mm, (unsigned long)a);
		assert_non_null(vma);
		assert_true(vma->vm_flags & VM_SHARED);
		mmap_read_unlock(p->mm);
	}
	/* MAP_FIXED at an unaligned address. */
	assert_int_equal(anon(p, 0x10000001UL, PG, MAP_FIXED), -EINVAL);
	assert_int_equal(anon(p, 0x10000800UL, PG, MAP_FIXED_NOREPLACE), -EINVAL);
	/* NULL process. */
	assert_int_equal(anon(NULL, 0, PG, 0), -EINVAL);
	test_shutdown_clean(m);
}

static void test_mmap_enomem_eexist(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	long a;

	/* MAP_FIXED beyond the user address space. */
	assert_int_equal(anon(p, USER_TOP, PG, MAP_FIXED), -ENOMEM);
	assert_int_equal(anon(p, USER_TOP - PG, 2 * PG, MAP_FIXED), -ENOMEM);
	assert_int_equal(anon(p, 0xffff800000000000UL, PG, MAP_FIXED), -ENOMEM);
	/* Linux checks the range before the alignment (__get_unmapped_area). */
	assert_int_equal(anon(p, USER_TOP + 1, PG, MAP_FIXED), -ENOMEM);
	/* The last page below TASK_SIZE is usable. */
	a = anon(p, USER_TOP - PG, PG, MAP_FIXED);
	assert_int_equal(a, (long)(USER_TOP - PG));
	test_store8(p, USER_TOP - 1, 0x5a);
	assert_int_equal(test_load8(p, USER_TOP - 1), 0x5a);
	/* A length that rounds up to 0 (or larger than the address space). */
	assert_int_equal(anon(p, 0, (size_t)-1, 0), -ENOMEM);
	assert_int_equal(anon(p, 0, USER_TOP + PG, 0), -ENOMEM);

	/* MAP_FIXED_NOREPLACE over an existing mapping, fully or partly. */
	a = anon(p, 0x20000000UL, 4 * PG, MAP_FIXED);
	assert_int_equal(a, 0x20000000L);
	test_store8(p, 0x20000000UL + PG, 7);
	assert_int_equal(anon(p, 0x20000000UL, 4 * PG, MAP_FIXED_NOREPLACE), -EEXIST);
	assert_int_equal(anon(p, 0x20000000UL + 3 * PG, 4 * PG, MAP_FIXED_NOREPLACE), -EEXIST);
	assert_int_equal(anon(p, 0x20000000UL - PG, 2 * PG, MAP_FIXED_NOREPLACE), -EEXIST);
	/* ...and the old mapping is intact. */
	assert_int_equal(test_load8(p, 0x20000000UL + PG), 7);
	/* Right next to it is fine. */
	assert_int_equal(anon(p, 0x20000000UL + 4 * PG, PG, MAP_FIXED_NOREPLACE),
			 (long)(0x20000000UL + 4 * PG));
	test_shutdown_clean(m);
}

static void test_mmap_file_errors(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	int rw, ro, wo;
	long a;

	rw = pinmm_open(p, "/tmp/f", O_RDWR | O_CREAT, 0644);
	assert_true(rw >= 0);
	assert_int_equal(pinmm_ftruncate(p, rw, 4 * PG), 0);
	ro = pinmm_open(p, "/tmp/f", O_RDONLY, 0);
	wo = pinmm_open(p, "/tmp/f", O_WRONLY, 0);
	assert_true(ro >= 0 && wo >= 0);

	/* Bad descriptors. */
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_READ, MAP_SHARED, 99, 0), -EBADF);
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_READ, MAP_PRIVATE, -1, 0), -EBADF);
	assert_int_equal(pinmm_close(p, wo), 0);
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_READ, MAP_SHARED, wo, 0), -EBADF);
	wo = pinmm_open(p, "/tmp/f", O_WRONLY, 0);

	/* A write-only file cannot be mapped at all (FMODE_READ). */
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_READ, MAP_SHARED, wo, 0), -EACCES);
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_READ, MAP_PRIVATE, wo, 0), -EACCES);
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_WRITE, MAP_SHARED, wo, 0), -EACCES);

	/* Shared writable needs a file open for writing... */
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0),
			 -EACCES);
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_WRITE, MAP_SHARED_VALIDATE, ro, 0),
			 -EACCES);
	/* ...a private writable mapping does not, nor does a shared read-only one. */
	a = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
	assert_true(a > 0);
	assert_int_equal(pinmm_munmap(p, (unsigned long)a, PG), 0);
	a = pinmm_mmap(p, 0, PG, PROT_READ, MAP_SHARED, ro, 0);
	assert_true(a > 0);
	assert_int_equal(pinmm_munmap(p, (unsigned long)a, PG), 0);

	/* MAP_SHARED_VALIDATE rejects flags it does not know; MAP_SHARED ignores them. */
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_READ, MAP_SHARED_VALIDATE | 0x800000, rw, 0),
			 -EOPNOTSUPP);
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_READ,
				    MAP_SHARED_VALIDATE | 0x40000000, rw, 0), -EOPNOTSUPP);
	a = pinmm_mmap(p, 0, PG, PROT_READ, MAP_SHARED | 0x800000, rw, 0);
	assert_true(a > 0);
	a = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE, rw, 0);
	assert_true(a > 0);
	test_shutdown_clean(m);
}

static void test_mmap_placement(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	long a1, a2, a3, h;

	/* Top-down: each new mapping lies below the previous one. */
	a1 = anon(p, 0, 8 * PG, 0);
	a2 = anon(p, 0, 4 * PG, 0);
	assert_true(a1 > 0 && a2 > 0);
	assert_true(a2 < a1);
	assert_int_equal(a2 + 4 * PG, a1);
	assert_true((unsigned long)a1 + 8 * PG <= USER_TOP);
	assert_true(a1 > 0x700000000000L);	/* near the top, as mmap_base is */

	/* A free hint is honoured exactly. */
	h = anon(p, 0x40000000UL, 3 * PG, 0);
	assert_int_equal(h, 0x40000000L);
	/* An unaligned hint is rounded up to the page. */
	h = anon(p, 0x50000123UL, PG, 0);
	assert_int_equal(h, 0x50001000L);
	/* A taken hint is not an error: another address is chosen. */
	a3 = anon(p, 0x40000000UL + PG, PG, 0);
	assert_true(a3 > 0);
	assert_true(a3 != 0x40000000L + (long)PG);
	assert_true((unsigned long)a3 >= 0x40000000UL + 3 * PG ||
		    (unsigned long)a3 + PG <= 0x40000000UL);
	/* A hint below mmap_min_addr is not used. */
	h = anon(p, PG, PG, 0);
	assert_true(h >= 0x10000L);

	/* Big anonymous mappings are 2 MiB aligned (THP). */
	h = anon(p, 0, 4 * MiB, 0);
	assert_true(h > 0);
	assert_int_equal(h & (long)(2 * MiB - 1), 0);
	test_shutdown_clean(m);
}

static void test_mmap_fixed_replaces(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	unsigned long base = 0x30000000UL;
	long anon_before;

	assert_int_equal(anon(p, base, 4 * PG, MAP_FIXED), (long)base);
	for (int i = 0; i < 4; i++)
		test_store8(p, base + i * PG, 0x10 + i);
	anon_before = pinmm_vmstat(m, "nr_anon_pages");
	assert_int_equal(anon_before, 4);

	/* Replace the middle two pages: fresh zero memory, old pages freed. */
	assert_int_equal(anon(p, base + PG, 2 * PG, MAP_FIXED), (long)(base + PG));
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 2);
	assert_false(present(p, base + PG));
	assert_int_equal(test_load8(p, base), 0x10);
	assert_int_equal(test_load8(p, base + PG), 0);
	assert_int_equal(test_load8(p, base + 2 * PG), 0);
	assert_int_equal(test_load8(p, base + 3 * PG), 0x13);

	/* Replace by a read-only mapping: stores now fault. */
	assert_int_equal(pinmm_mmap(p, base, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				    -1, 0), (long)base);
	uint8_t v = 1;
	assert_int_equal(pinmm_store(p, base, &v, 1), -EFAULT);
	assert_int_equal(test_load8(p, base), 0);
	test_shutdown_clean(m);
}

static void test_mmap_populate(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	struct pinmm_page_info pi;
	long a, f;
	int fd;

	a = anon(p, 0, 8 * PG, MAP_POPULATE);
	assert_true(a > 0);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(pinmm_page_info(p, a + i * PG, &pi), 0);
		assert_true(pi.present);
		/* A writable private mapping is populated for writing. */
		assert_true(pi.writable);
		assert_true(pi.anon && pi.anon_exclusive);
		assert_false(pi.zero_page);
	}
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 8);

	/* Read-only private: populated with the zero page. */
	a = pinmm_mmap(p, 0, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	assert_true(a > 0);
	assert_int_equal(pinmm_page_info(p, a, &pi), 0);
	assert_true(pi.present && pi.zero_page && !pi.writable);

	/* Without MAP_POPULATE nothing is mapped. */
	a = anon(p, 0, 2 * PG, 0);
	assert_false(present(p, a));

	/* Shared file mapping: the page-cache pages get mapped. */
	fd = pinmm_memfd_create(p, "pop", 0);
	assert_int_equal(pinmm_pwrite(p, fd, "abc", 3, PG), 3);
	f = pinmm_mmap(p, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	assert_true(f > 0);
	assert_int_equal(pinmm_page_info(p, f + PG, &pi), 0);
	assert_true(pi.present && !pi.anon && pi.shmem);
	assert_int_equal(pi.mapcount, 1);
	test_shutdown_clean(m);
}

static void test_munmap_errors(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	long a = anon(p, 0, 4 * PG, 0);

	assert_int_equal(pinmm_munmap(p, a + 1, PG), -EINVAL);
	assert_int_equal(pinmm_munmap(p, a, 0), -EINVAL);
	assert_int_equal(pinmm_munmap(p, USER_TOP + PG, PG), -EINVAL);
	assert_int_equal(pinmm_munmap(p, USER_TOP - PG, 2 * PG), -EINVAL);
	assert_int_equal(pinmm_munmap(p, PG, (size_t)-1 & PAGE_MASK), -EINVAL);
	assert_int_equal(pinmm_munmap(NULL, a, PG), -EINVAL);
	/* Unmapping nothing is fine. */
	assert_int_equal(pinmm_munmap(p, 0x12340000UL, 16 * PG), 0);
	assert_int_equal(pinmm_munmap(p, USER_TOP - PG, PG), 0);
	/* Unaligned length rounds up. */
	test_store8(p, a, 1);
	test_store8(p, a + PG, 2);
	assert_int_equal(pinmm_munmap(p, a, 1), 0);
	assert_int_equal(pinmm_page_info(p, a, &(struct pinmm_page_info){ 0 }), -EFAULT);
	assert_int_equal(test_load8(p, a + PG), 2);
	/* After exit: -ESRCH. */
	assert_int_equal(pinmm_exit(p), 0);
	assert_int_equal(pinmm_munmap(p, a, PG), -ESRCH);
	assert_int_equal(anon(p, 0, PG, 0), -ESRCH);
	test_shutdown_clean(m);
}

static void test_munmap_partial(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = (unsigned long)anon(p, 0, 10 * PG, 0);
	uint8_t v;

	for (int i = 0; i < 10; i++)
		test_store8(p, a + i * PG, (uint8_t)(i + 1));
	assert_int_equal(nr_vmas(p), 1);

	/* Head. */
	assert_int_equal(pinmm_munmap(p, a, PG), 0);
	assert_int_equal(nr_vmas(p), 1);
	/* Tail. */
	assert_int_equal(pinmm_munmap(p, a + 9 * PG, PG), 0);
	assert_int_equal(nr_vmas(p), 1);
	/* Middle: a hole, two VMAs. */
	assert_int_equal(pinmm_munmap(p, a + 4 * PG, 2 * PG), 0);
	assert_int_equal(nr_vmas(p), 2);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 6);

	for (int i = 0; i < 10; i++) {
		long r = pinmm_load(p, a + i * PG, &v, 1);
		if (i == 0 || i == 9 || i == 4 || i == 5) {
			assert_int_equal(r, -EFAULT);
		} else {
			assert_int_equal(r, 1);
			assert_int_equal(v, i + 1);
		}
	}
	/* A range spanning the hole and both VMAs' edges. */
	assert_int_equal(pinmm_munmap(p, a + 3 * PG, 4 * PG), 0);
	assert_int_equal(nr_vmas(p), 2);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 4);
	/* Everything, hole included. */
	assert_int_equal(pinmm_munmap(p, a, 10 * PG), 0);
	assert_int_equal(nr_vmas(p), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 0);
	assert_int_equal(p->mm->total_vm, 0);
	test_shutdown_clean(m);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A 100 TiB sparse mapping with one page at each end (found by fuzz_api,
 * doc/FUZZING.md): mprotect, fork, munmap and exit walk its page tables and
 * must skip the empty PGD and PUD ranges whole, as Linux's p?d_addr_end()
 * walks do.  Looking up every 2 MiB of it (50 million PMD lookups per walk)
 * took seconds per call, and the fuzzer's 10 s timeout at exit.
 */
static void test_huge_sparse_walks(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m), *c = NULL;
	size_t len = 100UL << 40;
	long a = pinmm_mmap(p, 0, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	double t0, dt;

	assert_true(a > 0);
	test_store8(p, (unsigned long)a, 1);
	test_store8(p, (unsigned long)a + len - PG, 2);
	t0 = now_s();
	assert_int_equal(pinmm_mprotect(p, (unsigned long)a, len, PROT_READ), 0);
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(pinmm_mprotect(c, (unsigned long)a, len, PROT_READ | PROT_WRITE), 0);
	test_store8(c, (unsigned long)a + len - PG, 3);
	assert_int_equal(pinmm_exit(c), 0);
	assert_int_equal(pinmm_munmap(p, (unsigned long)a + PG, len - PG), 0);
	dt = now_s() - t0;
	/* Four walks over 100 TiB: microseconds when holes are skipped. */
	if (dt > 0.5)
		fail_msg("walks over a 100 TiB sparse mapping took %.2f s", dt);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 1);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mmap_einval),
		cmocka_unit_test(test_mmap_enomem_eexist),
		cmocka_unit_test(test_mmap_file_errors),
		cmocka_unit_test(test_mmap_placement),
		cmocka_unit_test(test_mmap_fixed_replaces),
		cmocka_unit_test(test_mmap_populate),
		cmocka_unit_test(test_munmap_errors),
		cmocka_unit_test(test_munmap_partial),
		cmocka_unit_test(test_huge_sparse_walks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
