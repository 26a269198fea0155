/* SPDX-License-Identifier: MIT */
/*
 * Description: the auditor (debug.c, pinmm_audit()): it finds nothing on
 * healthy machines across a long mix of operations, and it catches
 * deliberately corrupted state (a bumped mapcount, a lowered refcount, a
 * writable PTE on a COW-shared page, a PTE outside every VMA, a wrong
 * anonymous index, a wrong map_count), each repaired afterwards so that
 * shutdown stays clean.
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

static struct page *page_at(struct pinmm *m, struct pinmm_proc *p, unsigned long addr)
{
	struct pinmm_page_info pi = info(p, addr);

	assert_true(pi.present && !pi.zero_page);
	return pfn_to_page_m(m, pi.pfn);
}

static pte_t *pte_at(struct pinmm_proc *p, unsigned long addr)
{
	pmd_t *pmd = pmd_offset_lookup(p->mm, addr);

	assert_non_null(pmd);
	assert_false(pmd_leaf(pmdp_get(pmd)));
	return pte_offset(p->mm, pmdp_get(pmd), addr);
}

static void test_audit_healthy(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=1", "thp=always", NULL);
	struct pinmm_proc *p = test_proc(m), *c = NULL, *g = NULL;
	unsigned long a = (unsigned long)test_mmap_anon(p, 8 * MiB);
	int fd = pinmm_memfd_create(p, "h", 0);
	long f, pf;

	assert_int_equal(pinmm_audit(m), 0);
	assert_int_equal(pinmm_ftruncate(p, fd, 16 * PG), 0);
	f = pinmm_mmap(p, 0, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	pf = pinmm_mmap(p, 0, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	for (unsigned long off = 0; off < 8 * MiB; off += 37 * PG)
		test_store8(p, a + off, 1);
	assert_int_equal(test_load8(p, a + 3 * MiB + 5), 0);
	for (int i = 0; i < 16; i++) {
		test_store8(p, f + i * PG, (uint8_t)i);
		if (i % 2)
			test_store8(p, pf + i * PG, (uint8_t)i);
		else
			(void)test_load8(p, pf + i * PG);
	}
	assert_int_equal(pinmm_audit(m), 0);
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(pinmm_audit(m), 0);
	test_store8(c, a + 37 * PG, 2);
	test_store8(p, a + 74 * PG, 2);
	assert_int_equal(pinmm_fork(c, &g), 0);
	assert_int_equal(pinmm_mprotect(p, a + 5 * PG, 3 * PG, PROT_READ), 0);
	assert_int_equal(pinmm_madvise(c, a + 2 * MiB, 2 * MiB, MADV_DONTNEED), 0);
	assert_int_equal(pinmm_munmap(g, a + 1 * MiB, 3 * PG), 0);
	assert_int_equal(pinmm_mprotect(g, pf, 16 * PG, PROT_READ), 0);
	assert_int_equal(pinmm_madvise(p, pf, 4 * PG, MADV_DONTNEED), 0);
	assert_int_equal(pinmm_audit(m), 0);
	assert_int_equal(pinmm_exit(c), 0);
	assert_int_equal(pinmm_audit(m), 0);
	assert_int_equal(pinmm_munmap(p, a, 8 * MiB), 0);
	assert_int_equal(pinmm_audit(m), 0);
	assert_int_equal(pinmm_audit_errors(m), 0);
	assert_int_equal(pinmm_audit(NULL), -EINVAL);
	test_shutdown_clean(m);
}

static void test_audit_catches_mapcount(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=1", "thp=never", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = (unsigned long)test_mmap_anon(p, 2 * PG);
	struct page *page;
	long e0;

	test_store8(p, a, 1);
	page = page_at(m, p, a);
	e0 = pinmm_audit_errors(m);
	atomic_inc(&page->_mapcount);
	assert_int_equal(pinmm_audit(m), -EUCLEAN);
	assert_true(pinmm_audit_errors(m) > e0);
	atomic_dec(&page->_mapcount);
	e0 = pinmm_audit_errors(m);
	assert_int_equal(pinmm_audit(m), 0);
	assert_int_equal(pinmm_audit_errors(m), e0);

	/* Too few mappings counted is caught too. */
	atomic_dec(&page->_mapcount);
	assert_int_equal(pinmm_audit(m), -EUCLEAN);
	atomic_inc(&page->_mapcount);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

static void test_audit_catches_refcount(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=1", "thp=never", NULL);
	struct pinmm_proc *p = test_proc(m), *c = NULL;
	unsigned long a = (unsigned long)test_mmap_anon(p, PG);
	struct folio *folio;

	test_store8(p, a, 1);
	assert_int_equal(pinmm_fork(p, &c), 0);
	folio = page_folio(page_at(m, p, a));
	assert_int_equal(folio_ref_count(folio), 2);
	/* Two mappings but one reference: M2. */
	folio_ref_sub(folio, 1);
	assert_int_equal(pinmm_audit(m), -EUCLEAN);
	folio_ref_add(folio, 1);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

static void test_audit_catches_writable_shared(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=1", "thp=never", NULL);
	struct pinmm_proc *p = test_proc(m), *c = NULL;
	unsigned long a = (unsigned long)test_mmap_anon(p, PG);
	pte_t *pte;

	test_store8(p, a, 1);
	assert_int_equal(pinmm_fork(p, &c), 0);
	mmap_write_lock(p->mm);
	pte = pte_at(p, a);
	assert_false(pte_write(ptep_get(pte)));
	set_pte(pte, pte_mkwrite(ptep_get(pte)));	/* COW-shared but writable: P3 */
	mmap_write_unlock(p->mm);
	assert_int_equal(pinmm_audit(m), -EUCLEAN);
	mmap_write_lock(p->mm);
	set_pte(pte, pte_wrprotect(ptep_get(pte)));
	mmap_write_unlock(p->mm);
	assert_int_equal(pinmm_audit(m), 0);

	/* The zero page mapped writable is caught as well. */
	unsigned long z = (unsigned long)test_mmap_anon(p, PG);
	assert_int_equal(test_load8(p, z), 0);
	mmap_write_lock(p->mm);
	pte = pte_at(p, z);
	set_pte(pte, pte_mkwrite(ptep_get(pte)));
	mmap_write_unlock(p->mm);
	assert_int_equal(pinmm_audit(m), -EUCLEAN);
	mmap_write_lock(p->mm);
	set_pte(pte, pte_wrprotect(ptep_get(pte)));
	mmap_write_unlock(p->mm);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

static void test_audit_catches_vma_problems(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=1", "thp=never", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = (unsigned long)test_mmap_anon(p, 2 * PG);
	struct vm_area_struct *v;
	struct folio *folio;

	test_store8(p, a, 1);
	test_store8(p, a + PG, 1);

	/* A mapped page outside every VMA: P1. */
	mmap_write_lock(p->mm);
	v = vma_lookup(p->mm, a);
	v->vm_end = a + PG;
	mmap_write_unlock(p->mm);
	assert_int_equal(pinmm_audit(m), -EUCLEAN);
	mmap_write_lock(p->mm);
	v->vm_end = a + 2 * PG;
	mmap_write_unlock(p->mm);
	assert_int_equal(pinmm_audit(m), 0);

	/* map_count disagreeing with the list: V1. */
	mmap_write_lock(p->mm);
	p->mm->map_count++;
	mmap_write_unlock(p->mm);
	assert_int_equal(pinmm_audit(m), -EUCLEAN);
	mmap_write_lock(p->mm);
	p->mm->map_count--;
	mmap_write_unlock(p->mm);
	assert_int_equal(pinmm_audit(m), 0);

	/* An anonymous page at an address its index does not give: P4. */
	folio = page_folio(page_at(m, p, a + PG));
	folio->index++;
	assert_int_equal(pinmm_audit(m), -EUCLEAN);
	folio->index--;
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_healthy),
		cmocka_unit_test(test_audit_catches_mapcount),
		cmocka_unit_test(test_audit_catches_refcount),
		cmocka_unit_test(test_audit_catches_writable_shared),
		cmocka_unit_test(test_audit_catches_vma_problems),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
