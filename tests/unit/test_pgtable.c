/* SPDX-License-Identifier: MIT */
/*
 * Description: page-table pages (pgtable.c): faults allocate PTE, PMD and
 * PUD tables; munmap frees the PTE tables of the range and the PMD table
 * of a whole free 1 GiB span, so nr_page_table_pages returns to its
 * baseline once the RCU-deferred frees have run; a neighbour sharing a
 * table keeps it; THP deposits are accounted and freed; exit frees every
 * table; and pending RCU frees at shutdown leak nothing.
 */
#include "helpers.h"

#include "mm.h"
#include "rcu.h"

#define PG 4096UL

static long ptpages(struct pinmm *m)
{
	rcu_barrier();	/* tables are freed after a grace period */
	return pinmm_vmstat(m, "nr_page_table_pages");
}

static void test_pgtable_alloc_free_1g(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=2", "thp=never", NULL);
	long t0 = ptpages(m);
	struct pinmm_proc *p = test_proc(m);
	const unsigned long small = 0x10000000UL, big = 0x40000000UL;
	long base;

	/* A new process has exactly its PGD. */
	assert_int_equal(ptpages(m), t0 + 1);
	assert_int_equal(atomic_long_read(&p->mm->pgtables_pages), 1);
	/* One page in PUD slot 0: PUD, PMD and PTE tables. */
	assert_int_equal(pinmm_mmap(p, small, PG, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), (long)small);
	test_store8(p, small, 1);
	base = ptpages(m);
	assert_int_equal(base, t0 + 4);

	/* A whole 1 GiB-aligned GiB, touched in 16 different 2 MiB spans. */
	assert_int_equal(pinmm_mmap(p, big, GiB, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), (long)big);
	for (int i = 0; i < 16; i++)
		test_store8(p, big + i * 64 * MiB + i * PG, 1);
	/* One PMD table + 16 PTE tables (the PUD table is shared). */
	assert_int_equal(ptpages(m), base + 17);
	assert_int_equal(atomic_long_read(&p->mm->pgtables_pages), 4 + 17);
	assert_non_null(pmd_offset_lookup(p->mm, big));

	assert_int_equal(pinmm_munmap(p, big, GiB), 0);
	assert_int_equal(ptpages(m), base);
	assert_int_equal(atomic_long_read(&p->mm->pgtables_pages), 4);
	/* The PUD entry of that GiB is empty again. */
	mmap_read_lock(p->mm);
	assert_null(pmd_offset_lookup(p->mm, big));
	mmap_read_unlock(p->mm);
	assert_int_equal(test_load8(p, small), 1);

	/* Exit frees everything, PGD included. */
	assert_int_equal(pinmm_exit(p), 0);
	assert_int_equal(ptpages(m), t0);
	test_shutdown_clean(m);
}

static void test_pgtable_shared_table_kept(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=2", "thp=never", NULL);
	struct pinmm_proc *p = test_proc(m);
	const unsigned long b = 0x20000000UL;
	long t;

	/* Two VMAs in one 2 MiB span share one PTE table. */
	assert_int_equal(pinmm_mmap(p, b, 4 * PG, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), (long)b);
	assert_int_equal(pinmm_mmap(p, b + 8 * PG, 4 * PG, PROT_READ,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), (long)(b + 8 * PG));
	test_store8(p, b, 1);
	assert_int_equal(test_load8(p, b + 8 * PG), 0);
	t = ptpages(m);
	/* Unmapping one keeps the table the other still uses. */
	assert_int_equal(pinmm_munmap(p, b, 4 * PG), 0);
	assert_int_equal(ptpages(m), t);
	assert_int_equal(test_load8(p, b + 8 * PG), 0);
	/*
	 * Unmapping the other (the only VMA left) frees the PTE, PMD and PUD
	 * tables: only the PGD remains.
	 */
	assert_int_equal(pinmm_munmap(p, b + 8 * PG, 4 * PG), 0);
	assert_int_equal(ptpages(m), t - 3);
	assert_int_equal(atomic_long_read(&p->mm->pgtables_pages), 1);
	/* Mapping and touching again rebuilds them. */
	assert_int_equal(pinmm_mmap(p, b, PG, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), (long)b);
	assert_int_equal(test_load8(p, b), 0);
	assert_int_equal(ptpages(m), t);
	test_shutdown_clean(m);
}

static void test_pgtable_thp_deposit(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=2", "thp=always", NULL);
	struct pinmm_proc *p = test_proc(m);
	long a, t0, t1;

	a = test_mmap_anon(p, 4 * MiB);
	t0 = ptpages(m);
	test_store8(p, (unsigned long)a, 1);
	test_store8(p, (unsigned long)a + 2 * MiB, 1);
	t1 = ptpages(m);
	/* PUD + PMD tables, and one deposited PTE table per THP. */
	assert_int_equal(t1, t0 + 2 + 2);
	/* Splitting a PMD uses its deposit: no new table. */
	assert_int_equal(pinmm_mprotect(p, (unsigned long)a, PG, PROT_READ), 0);
	assert_int_equal(ptpages(m), t1);
	assert_int_equal(pinmm_munmap(p, (unsigned long)a, 4 * MiB), 0);
	assert_int_equal(ptpages(m), t0);
	test_shutdown_clean(m);
}

static void test_pgtable_rcu_pending_at_shutdown(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=1", "thp=never", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = (unsigned long)test_mmap_anon(p, 64 * MiB);

	for (unsigned long off = 0; off < 64 * MiB; off += 2 * MiB)
		test_store8(p, a + off, 1);
	/* Frees queued behind a grace period, then shutdown right away. */
	assert_int_equal(pinmm_munmap(p, a, 64 * MiB), 0);
	a = (unsigned long)test_mmap_anon(p, 8 * MiB);
	for (unsigned long off = 0; off < 8 * MiB; off += 2 * MiB)
		test_store8(p, a + off, 1);
	assert_int_equal(pinmm_exit(p), 0);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pgtable_alloc_free_1g),
		cmocka_unit_test(test_pgtable_shared_table_kept),
		cmocka_unit_test(test_pgtable_thp_deposit),
		cmocka_unit_test(test_pgtable_rcu_pending_at_shutdown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
