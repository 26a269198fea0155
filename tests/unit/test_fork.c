/* SPDX-License-Identifier: MIT */
/*
 * Description: fork (dup_mm, copy_page_range): the child's address space
 * has the parent's VMAs and contents, MADV_DONTFORK ranges are absent from
 * it and MADV_DOFORK brings them back, MAP_SHARED memory (shared anonymous
 * and memfd) stays shared in both directions, fork chains reach the
 * grandchild, and exits on either side free exactly what they should.
 */
#include "helpers.h"

#include "mm.h"
#include "rcu.h"

#define PG 4096UL

static struct pinmm *boot(void)
{
	return test_boot("ram=256M", "debug=2", "thp=never", NULL);
}

static struct pinmm_proc *fork_of(struct pinmm_proc *p)
{
	struct pinmm_proc *c = NULL;

	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_non_null(c);
	return c;
}

static void test_fork_copies_address_space(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m), *c;
	unsigned long a = (unsigned long)test_mmap_anon(p, 16 * PG);
	long ro = pinmm_mmap(p, 0, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t v = 1;

	for (int i = 0; i < 16; i += 2)
		test_store8(p, a + i * PG + i, (uint8_t)(0x80 + i));
	c = fork_of(p);
	assert_int_equal(c->mm->map_count, p->mm->map_count);
	assert_int_equal(c->mm->total_vm, p->mm->total_vm);
	for (int i = 0; i < 16; i++)
		assert_int_equal(test_load8(c, a + i * PG + i), i % 2 ? 0 : 0x80 + i);
	/* Protections come along. */
	assert_int_equal(pinmm_store(c, ro, &v, 1), -EFAULT);
	assert_int_equal(pinmm_load(c, ro, &v, 1), 1);
	/* A mapping made after fork is the parent's only. */
	long late = test_mmap_anon(p, PG);
	assert_int_equal(pinmm_load(c, late, &v, 1), -EFAULT);
	/* Errors. */
	assert_int_equal(pinmm_fork(NULL, &c), -EINVAL);
	assert_int_equal(pinmm_fork(p, NULL), -EINVAL);
	assert_int_equal(pinmm_exit(c), 0);
	assert_int_equal(pinmm_exit(c), -ESRCH);
	assert_int_equal(pinmm_fork(c, &c), -ESRCH);
	test_shutdown_clean(m);
}

static void test_fork_chain(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m), *c, *g;
	unsigned long a = (unsigned long)test_mmap_anon(p, 4 * PG);
	struct pinmm_page_info pi;

	test_store8(p, a, 1);
	c = fork_of(p);
	test_store8(c, a + PG, 2);		/* child-only page */
	g = fork_of(c);
	assert_int_equal(test_load8(g, a), 1);
	assert_int_equal(test_load8(g, a + PG), 2);
	assert_int_equal(pinmm_page_info(g, a, &pi), 0);
	assert_int_equal(pi.mapcount, 3);
	/* Parent exits first: the rest keep their memory. */
	assert_int_equal(pinmm_exit(p), 0);
	assert_int_equal(pinmm_page_info(g, a, &pi), 0);
	assert_int_equal(pi.mapcount, 2);
	assert_int_equal(pi.refcount, 2);
	/* Grandchild writes; the child still sees the old value. */
	test_store8(g, a, 3);
	assert_int_equal(test_load8(c, a), 1);
	/* Child exits: the grandchild's pages are all its own now. */
	assert_int_equal(pinmm_exit(c), 0);
	assert_int_equal(pinmm_page_info(g, a + PG, &pi), 0);
	assert_int_equal(pi.mapcount, 1);
	assert_int_equal(pi.refcount, 1);
	assert_false(pi.writable);
	long reuse0 = pinmm_vmstat(m, "cow_reuse"), cow0 = pinmm_vmstat(m, "cow_fault");
	test_store8(g, a + PG, 4);
	assert_int_equal(pinmm_vmstat(m, "cow_reuse"), reuse0 + 1);
	assert_int_equal(pinmm_vmstat(m, "cow_fault"), cow0);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 2);
	assert_int_equal(pinmm_exit(g), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 0);
	test_shutdown_clean(m);
}

static void test_fork_dontfork(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m), *c;
	unsigned long a = (unsigned long)test_mmap_anon(p, 8 * PG);
	struct pinmm_page_info pi;
	uint8_t v;

	for (int i = 0; i < 8; i++)
		test_store8(p, a + i * PG, (uint8_t)(i + 1));
	assert_int_equal(pinmm_madvise(p, a + 2 * PG, 3 * PG, MADV_DONTFORK), 0);
	c = fork_of(p);
	for (int i = 0; i < 8; i++) {
		bool gone = i >= 2 && i < 5;
		assert_int_equal(pinmm_page_info(c, a + i * PG, &pi), gone ? -EFAULT : 0);
		assert_int_equal(pinmm_load(c, a + i * PG, &v, 1), gone ? -EFAULT : 1);
		if (!gone)
			assert_int_equal(v, i + 1);
	}
	/* The child can map something else there. */
	assert_int_equal(pinmm_mmap(c, a + 2 * PG, PG, PROT_READ,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0),
			 (long)(a + 2 * PG));
	/* The parent's pages in the range were not shared: still writable. */
	assert_int_equal(pinmm_page_info(p, a + 3 * PG, &pi), 0);
	assert_true(pi.writable && pi.anon_exclusive);
	assert_int_equal(pi.mapcount, 1);
	assert_int_equal(pinmm_exit(c), 0);

	/* MADV_DOFORK on part of it: that part comes back. */
	assert_int_equal(pinmm_madvise(p, a + 3 * PG, PG, MADV_DOFORK), 0);
	c = fork_of(p);
	assert_int_equal(pinmm_load(c, a + 2 * PG, &v, 1), -EFAULT);
	assert_int_equal(pinmm_load(c, a + 3 * PG, &v, 1), 1);
	assert_int_equal(v, 4);
	assert_int_equal(pinmm_load(c, a + 4 * PG, &v, 1), -EFAULT);
	test_shutdown_clean(m);
}

static void test_fork_shared_anon(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m), *c;
	struct pinmm_page_info pi, ci;
	long a = pinmm_mmap(p, 0, 4 * PG, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	assert_true(a > 0);
	test_store8(p, a, 'p');
	c = fork_of(p);
	/* Both directions, on a page touched before and one after fork. */
	assert_int_equal(test_load8(c, a), 'p');
	test_store8(c, a, 'c');
	assert_int_equal(test_load8(p, a), 'c');
	test_store8(c, a + 2 * PG, 'C');
	assert_int_equal(test_load8(p, a + 2 * PG), 'C');
	test_store8(p, a + 3 * PG, 'P');
	assert_int_equal(test_load8(c, a + 3 * PG), 'P');
	assert_int_equal(pinmm_page_info(p, a, &pi), 0);
	assert_int_equal(pinmm_page_info(c, a, &ci), 0);
	assert_int_equal(pi.pfn, ci.pfn);
	assert_true(pi.shmem && !pi.anon && pi.writable && ci.writable);
	assert_int_equal(pi.mapcount, 2);
	/* No COW happened anywhere. */
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 0);
	/* Survives the exit of the creator. */
	assert_int_equal(pinmm_exit(p), 0);
	assert_int_equal(test_load8(c, a + 3 * PG), 'P');
	test_shutdown_clean(m);
}

static void test_fork_shared_memfd(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m), *c;
	int fd = pinmm_memfd_create(p, "s", 0);
	char buf[8];
	long a;

	assert_int_equal(pinmm_ftruncate(p, fd, 2 * PG), 0);
	a = pinmm_mmap(p, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(a > 0);
	assert_int_equal(pinmm_close(p, fd), 0);	/* the mapping keeps the file */
	c = fork_of(p);
	assert_int_equal(pinmm_store(c, a + PG, "child", 5), 5);
	assert_int_equal(pinmm_load(p, a + PG, buf, 5), 5);
	assert_memory_equal(buf, "child", 5);
	assert_int_equal(pinmm_store(p, a, "parent", 6), 6);
	assert_int_equal(pinmm_load(c, a, buf, 6), 6);
	assert_memory_equal(buf, "parent", 6);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 2);
	assert_int_equal(pinmm_exit(c), 0);
	assert_int_equal(pinmm_exit(p), 0);
	/* Last mapping gone with the last descriptor: the file is freed. */
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 0);
	test_shutdown_clean(m);
}

static void test_fork_exit_frees(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m), *c;
	unsigned long a = (unsigned long)test_mmap_anon(p, 32 * PG);
	long free0, pt0;

	for (int i = 0; i < 32; i++)
		test_store8(p, a + i * PG, 1);
	free0 = pinmm_vmstat(m, "nr_free_pages");
	pt0 = pinmm_vmstat(m, "nr_page_table_pages");
	for (int round = 0; round < 3; round++) {
		c = fork_of(p);
		/* The child copies half the pages. */
		for (int i = 0; i < 32; i += 2)
			test_store8(c, a + i * PG, 2);
		assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 48);
		assert_int_equal(pinmm_exit(c), 0);
		assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 32);
		rcu_barrier();
		assert_int_equal(pinmm_vmstat(m, "nr_free_pages"), free0);
		assert_int_equal(pinmm_vmstat(m, "nr_page_table_pages"), pt0);
	}
	/* Everything back to exclusive in the parent: writes reuse. */
	long cow0 = pinmm_vmstat(m, "cow_fault");
	for (int i = 0; i < 32; i++)
		test_store8(p, a + i * PG, 3);
	assert_int_equal(pinmm_vmstat(m, "cow_fault"), cow0);
	assert_int_equal(pinmm_exit(p), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_anon_pages"), 0);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_copies_address_space),
		cmocka_unit_test(test_fork_chain),
		cmocka_unit_test(test_fork_dontfork),
		cmocka_unit_test(test_fork_shared_anon),
		cmocka_unit_test(test_fork_shared_memfd),
		cmocka_unit_test(test_fork_exit_frees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
