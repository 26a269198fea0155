/* SPDX-License-Identifier: MIT */
/*
 * Description: pinmm_madvise() against madvise(2): every advice value the
 * machine knows, Linux's error codes (unknown advice and unaligned start
 * -EINVAL, holes -ENOMEM with the advice still applied to mapped parts,
 * POPULATE_READ/WRITE -EINVAL on PROT_NONE and on read-only memory for
 * writing), MADV_DONTNEED zero-filling private anonymous memory and
 * re-reading file data for file mappings, and MADV_POPULATE_*.
 */
#include "helpers.h"

#include "mm.h"

#define PG 4096UL
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif

static struct pinmm_page_info info(struct pinmm_proc *p, unsigned long addr)
{
	struct pinmm_page_info pi;

	assert_int_equal(pinmm_page_info(p, addr, &pi), 0);
	return pi;
}

static void test_madvise_errors(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = (unsigned long)test_mmap_anon(p, 4 * PG);
	static const int hints[] = { MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED };

	/* Unknown advice, before anything else is looked at. */
	assert_int_equal(pinmm_madvise(p, a, PG, 9999), -EINVAL);
	assert_int_equal(pinmm_madvise(p, a, PG, -1), -EINVAL);
	assert_int_equal(pinmm_madvise(p, a + 1, PG, 9999), -EINVAL);
	/* Unaligned start. */
	assert_int_equal(pinmm_madvise(p, a + 1, PG, MADV_DONTNEED), -EINVAL);
	assert_int_equal(pinmm_madvise(p, a + 1, PG, MADV_NORMAL), -EINVAL);
	/* Wrapping ranges. */
	assert_int_equal(pinmm_madvise(p, a, (size_t)-1, MADV_NORMAL), -EINVAL);
	assert_int_equal(pinmm_madvise(p, a, ~0UL - a + PG, MADV_NORMAL), -EINVAL);
	/* Zero length is a successful no-op, even unmapped. */
	assert_int_equal(pinmm_madvise(p, a, 0, MADV_DONTNEED), 0);
	assert_int_equal(pinmm_madvise(p, 0x1000000UL, 0, MADV_DONTNEED), 0);
	/* Unmapped: -ENOMEM for every advice. */
	assert_int_equal(pinmm_madvise(p, 0x1000000UL, PG, MADV_NORMAL), -ENOMEM);
	assert_int_equal(pinmm_madvise(p, 0x1000000UL, PG, MADV_DONTNEED), -ENOMEM);
	assert_int_equal(pinmm_madvise(p, 0x1000000UL, PG, MADV_POPULATE_READ), -ENOMEM);
	assert_int_equal(pinmm_madvise(p, a + 4 * PG, PG, MADV_WILLNEED), -ENOMEM);
	assert_int_equal(pinmm_madvise(p, a - PG, 2 * PG, MADV_NORMAL), -ENOMEM);
	/* Plain hints succeed on mapped memory and change nothing. */
	for (unsigned i = 0; i < ARRAY_SIZE(hints); i++)
		assert_int_equal(pinmm_madvise(p, a, 4 * PG, hints[i]), 0);
	/* An unaligned length rounds up. */
	assert_int_equal(pinmm_madvise(p, a, 1, MADV_NORMAL), 0);
	assert_int_equal(pinmm_madvise(p, a + 3 * PG, PG + 1, MADV_NORMAL), -ENOMEM);
	assert_int_equal(pinmm_madvise(NULL, a, PG, MADV_NORMAL), -EINVAL);
	assert_int_equal(p->mm->map_count, 1);
	test_shutdown_clean(m);
}

static void test_dontneed_private_anon(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=2", "thp=never", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = (unsigned long)test_mmap_anon(p, 8 * PG);
	long free0;

	for (int i = 0; i < 8; i++)
		test_store8(p, a + i * PG + 1, 0xab);
	free0 = pinmm_vmstat(m, "nr_free_pages");
	assert_int_equal(pinmm_madvise(p, a + 2 * PG, 4 * PG, MADV_DONTNEED), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_free_pages"), free0 + 4);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 4);
	for (int i = 0; i < 8; i++) {
		bool dropped = i >= 2 && i < 6;
		assert_int_equal(info(p, a + i * PG).present, !dropped);
		assert_int_equal(test_load8(p, a + i * PG + 1), dropped ? 0 : 0xab);
	}
	/* The VMA itself is untouched: same count, writes work again. */
	assert_int_equal(p->mm->map_count, 1);
	test_store8(p, a + 3 * PG, 1);
	assert_true(info(p, a + 3 * PG).anon_exclusive);

	/* Across a hole: applied to the mapped parts, then -ENOMEM. */
	assert_int_equal(pinmm_munmap(p, a + 6 * PG, PG), 0);
	assert_int_equal(pinmm_madvise(p, a, 8 * PG, MADV_DONTNEED), -ENOMEM);
	assert_false(info(p, a).present);
	assert_false(info(p, a + 7 * PG).present);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 0);

	/* After fork, DONTNEED in the child leaves the parent's data alone. */
	struct pinmm_proc *c = NULL;
	test_store8(p, a, 0x11);
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(pinmm_madvise(c, a, PG, MADV_DONTNEED), 0);
	assert_int_equal(test_load8(c, a), 0);
	assert_int_equal(test_load8(p, a), 0x11);
	assert_int_equal(info(p, a).mapcount, 1);
	test_shutdown_clean(m);
}

static void test_dontneed_file_mappings(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	int fd = pinmm_memfd_create(p, "d", 0);
	char buf[8];
	long priv, shared;

	assert_int_equal(pinmm_pwrite(p, fd, "filedata", 8, 0), 8);
	priv = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	shared = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(priv > 0 && shared > 0);

	/* Private file: the COW copy is dropped, the file data comes back. */
	assert_int_equal(pinmm_store(p, priv, "PRIVATE!", 8), 8);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 1);
	assert_int_equal(pinmm_madvise(p, priv, PG, MADV_DONTNEED), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 0);
	assert_int_equal(pinmm_load(p, priv, buf, 8), 8);
	assert_memory_equal(buf, "filedata", 8);
	assert_false(info(p, priv).anon);

	/* Shared file: the data written through the mapping stays in the file. */
	assert_int_equal(pinmm_store(p, shared, "SHARED!!", 8), 8);
	assert_int_equal(pinmm_madvise(p, shared, PG, MADV_DONTNEED), 0);
	assert_false(info(p, shared).present);
	assert_int_equal(pinmm_load(p, shared, buf, 8), 8);
	assert_memory_equal(buf, "SHARED!!", 8);
	assert_int_equal(pinmm_pread(p, fd, buf, 8, 0), 8);
	assert_memory_equal(buf, "SHARED!!", 8);
	/* And the private mapping re-reads the new file contents. */
	assert_int_equal(pinmm_load(p, priv, buf, 8), 8);
	assert_memory_equal(buf, "SHARED!!", 8);

	/* Shared anonymous memory is a file too: DONTNEED keeps the data. */
	long sa = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	test_store8(p, sa, 0x5a);
	assert_int_equal(pinmm_madvise(p, sa, PG, MADV_DONTNEED), 0);
	assert_int_equal(test_load8(p, sa), 0x5a);
	test_shutdown_clean(m);
}

static void test_dontneed_locked(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	long a = pinmm_mmap(p, 0, 2 * PG, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);

	assert_true(a > 0);
	/* MAP_LOCKED populates. */
	assert_true(info(p, a).present);
	assert_int_equal(pinmm_madvise(p, a, PG, MADV_DONTNEED), -EINVAL);
	assert_true(info(p, a).present);
	test_shutdown_clean(m);
}

static void test_populate(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=2", "thp=never", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = (unsigned long)test_mmap_anon(p, 4 * PG);
	long none = pinmm_mmap(p, 0, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long ro = pinmm_mmap(p, 0, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long wo = pinmm_mmap(p, 0, PG, PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct pinmm_page_info pi;

	/* POPULATE_READ: zero pages, read-only. */
	assert_int_equal(pinmm_madvise(p, a, 2 * PG, MADV_POPULATE_READ), 0);
	pi = info(p, a + PG);
	assert_true(pi.present && pi.zero_page && !pi.writable);
	assert_false(info(p, a + 2 * PG).present);
	/* POPULATE_WRITE: breaks COW of the zero page; writable exclusive. */
	assert_int_equal(pinmm_madvise(p, a, 4 * PG, MADV_POPULATE_WRITE), 0);
	for (int i = 0; i < 4; i++) {
		pi = info(p, a + i * PG);
		assert_true(pi.present && pi.writable && pi.anon && pi.anon_exclusive);
	}
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 4);

	/* PROT_NONE: -EINVAL for both. */
	assert_int_equal(pinmm_madvise(p, none, PG, MADV_POPULATE_READ), -EINVAL);
	assert_int_equal(pinmm_madvise(p, none, PG, MADV_POPULATE_WRITE), -EINVAL);
	assert_false(info(p, none).present);
	/* Read-only: readable, not writable. */
	assert_int_equal(pinmm_madvise(p, ro, PG, MADV_POPULATE_READ), 0);
	assert_int_equal(pinmm_madvise(p, ro, PG, MADV_POPULATE_WRITE), -EINVAL);
	assert_true(info(p, ro).zero_page);
	/* Write-only (x86: implies read for the MMU) populates for writing. */
	assert_int_equal(pinmm_madvise(p, wo, PG, MADV_POPULATE_WRITE), 0);
	assert_true(info(p, wo).writable);
	/* Holes: -ENOMEM. */
	assert_int_equal(pinmm_madvise(p, a + 4 * PG, PG, MADV_POPULATE_READ), -ENOMEM);
	assert_int_equal(pinmm_madvise(p, a + 3 * PG, 2 * PG, MADV_POPULATE_WRITE), -ENOMEM);

	/* A shared file mapping beyond EOF: -EFAULT (SIGBUS when touched). */
	int fd = pinmm_memfd_create(p, "pop", 0);
	assert_int_equal(pinmm_ftruncate(p, fd, PG), 0);
	long f = pinmm_mmap(p, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_int_equal(pinmm_madvise(p, f, PG, MADV_POPULATE_WRITE), 0);
	assert_true(info(p, f).writable);
	assert_int_equal(pinmm_madvise(p, f, 2 * PG, MADV_POPULATE_READ), -EFAULT);
	test_shutdown_clean(m);
}

static void test_dontfork_hugepage_flags(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = (unsigned long)test_mmap_anon(p, 4 * PG);
	struct vm_area_struct *v;

	assert_int_equal(pinmm_madvise(p, a, 4 * PG, MADV_DONTFORK), 0);
	assert_int_equal(pinmm_madvise(p, a, 4 * PG, MADV_HUGEPAGE), 0);
	mmap_read_lock(p->mm);
	v = vma_lookup(p->mm, a);
	assert_true(v->vm_flags & VM_DONTCOPY);
	assert_true(v->vm_flags & VM_HUGEPAGE);
	mmap_read_unlock(p->mm);
	assert_int_equal(pinmm_madvise(p, a, 4 * PG, MADV_NOHUGEPAGE), 0);
	assert_int_equal(pinmm_madvise(p, a, 4 * PG, MADV_DOFORK), 0);
	mmap_read_lock(p->mm);
	v = vma_lookup(p->mm, a);
	assert_false(v->vm_flags & (VM_DONTCOPY | VM_HUGEPAGE));
	assert_true(v->vm_flags & VM_NOHUGEPAGE);
	mmap_read_unlock(p->mm);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_madvise_errors),
		cmocka_unit_test(test_dontneed_private_anon),
		cmocka_unit_test(test_dontneed_file_mappings),
		cmocka_unit_test(test_dontneed_locked),
		cmocka_unit_test(test_populate),
		cmocka_unit_test(test_dontfork_hugepage_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
