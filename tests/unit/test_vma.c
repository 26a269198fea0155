/* SPDX-License-Identifier: MIT */
/*
 * Description: the VMA tree of an mm (vma.c) driven through mmap, mprotect,
 * madvise and munmap: adjacent compatible anonymous mappings merge, an
 * mprotect of the middle splits one VMA into three and undoing it merges
 * them back, incompatible neighbours stay apart, many VMAs stay consistent
 * between the rb-tree and the list, and pinmm_page_info() answers -EFAULT
 * outside every VMA.  Internal state is read through "mm.h".
 */
#include "helpers.h"

#include "mm.h"

#define PG 4096UL

struct span { unsigned long start, end; vm_flags_t flags; };

/* Copy up to @max VMAs of @p; returns how many there are. */
static int vmas(struct pinmm_proc *p, struct span *out, int max)
{
	struct vm_area_struct *vma;
	int n = 0;

	mmap_read_lock(p->mm);
	for_each_vma(p->mm, vma) {
		if (n < max)
			out[n] = (struct span){ vma->vm_start, vma->vm_end, vma->vm_flags };
		n++;
	}
	assert_int_equal(n, p->mm->map_count);
	mmap_read_unlock(p->mm);
	return n;
}

static struct vm_area_struct *lookup(struct pinmm_proc *p, unsigned long addr)
{
	struct vm_area_struct *vma;

	mmap_read_lock(p->mm);
	vma = vma_lookup(p->mm, addr);
	mmap_read_unlock(p->mm);
	return vma;
}

static long map_fixed(struct pinmm_proc *p, unsigned long addr, size_t len, int prot)
{
	return pinmm_mmap(p, addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

static void test_adjacent_anon_merge(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	unsigned long b = 0x10000000UL;
	struct span s[4];

	assert_int_equal(map_fixed(p, b, 4 * PG, PROT_READ | PROT_WRITE), (long)b);
	/* Right after it: one VMA. */
	assert_int_equal(map_fixed(p, b + 4 * PG, 4 * PG, PROT_READ | PROT_WRITE), (long)(b + 4 * PG));
	assert_int_equal(vmas(p, s, 4), 1);
	assert_int_equal(s[0].start, b);
	assert_int_equal(s[0].end, b + 8 * PG);
	/* Right before it: still one. */
	assert_int_equal(map_fixed(p, b - 2 * PG, 2 * PG, PROT_READ | PROT_WRITE), (long)(b - 2 * PG));
	assert_int_equal(vmas(p, s, 4), 1);
	assert_int_equal(s[0].start, b - 2 * PG);
	/* Filling a gap between two VMAs merges all three. */
	assert_int_equal(map_fixed(p, b + 10 * PG, 2 * PG, PROT_READ | PROT_WRITE), (long)(b + 10 * PG));
	assert_int_equal(vmas(p, s, 4), 2);
	assert_int_equal(map_fixed(p, b + 8 * PG, 2 * PG, PROT_READ | PROT_WRITE), (long)(b + 8 * PG));
	assert_int_equal(vmas(p, s, 4), 1);
	assert_int_equal(s[0].end, b + 12 * PG);

	/* Different protection: no merge. */
	assert_int_equal(map_fixed(p, b + 12 * PG, PG, PROT_READ), (long)(b + 12 * PG));
	assert_int_equal(vmas(p, s, 4), 2);
	/* Shared anonymous next to private: no merge. */
	assert_int_equal(pinmm_mmap(p, b - 3 * PG, PG, PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0), (long)(b - 3 * PG));
	assert_int_equal(vmas(p, s, 4), 3);
	/* Top-down allocations land next to each other and merge too. */
	long x = test_mmap_anon(p, 3 * PG), y = test_mmap_anon(p, 5 * PG);
	assert_int_equal(y + 5 * (long)PG, x);
	assert_int_equal(vmas(p, s, 4), 4);
	assert_ptr_equal(lookup(p, x), lookup(p, y));
	test_shutdown_clean(m);
}

static void test_merge_keeps_data_and_anon_vma(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	unsigned long b = 0x10000000UL;
	struct vm_area_struct *v;

	/* Both halves have pages (each its own anon_vma) before they meet. */
	assert_int_equal(map_fixed(p, b, 2 * PG, PROT_READ | PROT_WRITE), (long)b);
	test_store8(p, b, 1);
	assert_int_equal(map_fixed(p, b + 4 * PG, 2 * PG, PROT_READ | PROT_WRITE), (long)(b + 4 * PG));
	test_store8(p, b + 4 * PG, 2);
	assert_int_equal(map_fixed(p, b + 2 * PG, 2 * PG, PROT_READ | PROT_WRITE), (long)(b + 2 * PG));
	/*
	 * Linux does not merge VMAs with different anon_vmas (their pages'
	 * rmap would be lost): at least the outer two stay separate.
	 */
	v = lookup(p, b);
	assert_non_null(v);
	assert_non_null(v->anon_vma);
	assert_true(v->vm_end <= b + 4 * PG);
	assert_int_equal(test_load8(p, b), 1);
	assert_int_equal(test_load8(p, b + 4 * PG), 2);
	assert_int_equal(pinmm_audit(m), 0);
	test_shutdown_clean(m);
}

static void test_mprotect_split_and_merge_back(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = (unsigned long)test_mmap_anon(p, 16 * PG);
	struct span s[4];

	for (int i = 0; i < 16; i++)
		test_store8(p, a + i * PG, (uint8_t)i);
	assert_int_equal(vmas(p, s, 4), 1);

	assert_int_equal(pinmm_mprotect(p, a + 4 * PG, 8 * PG, PROT_READ), 0);
	assert_int_equal(vmas(p, s, 4), 3);
	assert_int_equal(s[0].start, a);
	assert_int_equal(s[0].end, a + 4 * PG);
	assert_int_equal(s[1].start, a + 4 * PG);
	assert_int_equal(s[1].end, a + 12 * PG);
	assert_int_equal(s[2].end, a + 16 * PG);
	assert_true(s[0].flags & VM_WRITE);
	assert_false(s[1].flags & VM_WRITE);
	assert_true(s[2].flags & VM_WRITE);
	/* The middle's pgoff follows its start (anonymous: address >> 12). */
	assert_int_equal(lookup(p, a + 4 * PG)->vm_pgoff, (a + 4 * PG) >> PAGE_SHIFT);

	/* Splitting further: the head of the middle back to RW merges left. */
	assert_int_equal(pinmm_mprotect(p, a + 4 * PG, 2 * PG, PROT_READ | PROT_WRITE), 0);
	assert_int_equal(vmas(p, s, 4), 3);
	assert_int_equal(s[0].end, a + 6 * PG);
	/* The rest back: one VMA again. */
	assert_int_equal(pinmm_mprotect(p, a + 6 * PG, 6 * PG, PROT_READ | PROT_WRITE), 0);
	assert_int_equal(vmas(p, s, 4), 1);
	assert_int_equal(s[0].start, a);
	assert_int_equal(s[0].end, a + 16 * PG);
	for (int i = 0; i < 16; i++)
		assert_int_equal(test_load8(p, a + i * PG), i);

	/* madvise flags split the same way and merge back. */
	assert_int_equal(pinmm_madvise(p, a + PG, PG, MADV_DONTFORK), 0);
	assert_int_equal(vmas(p, s, 4), 3);
	assert_true(s[1].flags & VM_DONTCOPY);
	assert_int_equal(pinmm_madvise(p, a + PG, PG, MADV_DOFORK), 0);
	assert_int_equal(vmas(p, s, 4), 1);
	/* A no-op mprotect does not split. */
	assert_int_equal(pinmm_mprotect(p, a + 3 * PG, PG, PROT_READ | PROT_WRITE), 0);
	assert_int_equal(vmas(p, s, 4), 1);
	test_shutdown_clean(m);
}

static void test_file_vma_split_pgoff(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	int fd = pinmm_memfd_create(p, "v", 0);
	char buf[8];
	long a;

	assert_int_equal(pinmm_ftruncate(p, fd, 16 * PG), 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(pinmm_pwrite(p, fd, &(char){ (char)('a' + i) }, 1, i * PG), 1);
	a = pinmm_mmap(p, 0, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4 * PG);
	assert_true(a > 0);
	assert_int_equal(pinmm_munmap(p, a + 2 * PG, PG), 0);
	/* The upper part keeps mapping the right file offsets. */
	assert_int_equal(lookup(p, a + 3 * PG)->vm_pgoff, 7);
	assert_int_equal(pinmm_load(p, a + 3 * PG, buf, 1), 1);
	assert_int_equal(buf[0], 'h');
	assert_int_equal(pinmm_load(p, a + PG, buf, 1), 1);
	assert_int_equal(buf[0], 'f');
	/* Re-mapping the hole with the matching offset merges back. */
	assert_int_equal(pinmm_mmap(p, a + 2 * PG, PG, PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_FIXED, fd, 6 * PG), a + 2 * (long)PG);
	assert_ptr_equal(lookup(p, a), lookup(p, a + 7 * PG));
	/* A wrong offset does not merge. */
	assert_int_equal(pinmm_mmap(p, a + 8 * PG, PG, PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_FIXED, fd, 0), a + 8 * (long)PG);
	assert_ptr_not_equal(lookup(p, a), lookup(p, a + 8 * PG));
	assert_int_equal(pinmm_load(p, a + 8 * PG, buf, 1), 1);
	assert_int_equal(buf[0], 'a');
	test_shutdown_clean(m);
}

static void test_many_vmas(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=1", NULL);
	struct pinmm_proc *p = test_proc(m);
	const int n = 600;
	unsigned long a = (unsigned long)test_mmap_anon(p, 2 * n * PG);
	struct span s[1];

	/* Every other page read-only: 2n VMAs alternating. */
	for (int i = 0; i < n; i++)
		assert_int_equal(pinmm_mprotect(p, a + (2 * i + 1) * PG, PG, PROT_READ), 0);
	assert_int_equal(vmas(p, s, 1), 2 * n);
	assert_int_equal(pinmm_audit(m), 0);
	/* Every lookup finds the VMA it should. */
	for (int i = 0; i < 2 * n; i++) {
		struct vm_area_struct *v = lookup(p, a + i * PG + 123);
		assert_non_null(v);
		assert_int_equal(v->vm_start, a + i * PG);
		assert_int_equal(!!(v->vm_flags & VM_WRITE), i % 2 == 0);
	}
	/* Unmap every fourth page: holes in the tree. */
	for (int i = 0; i < 2 * n; i += 4)
		assert_int_equal(pinmm_munmap(p, a + i * PG, PG), 0);
	assert_int_equal(vmas(p, s, 1), 2 * n - n / 2);
	assert_int_equal(pinmm_audit(m), 0);
	for (int i = 0; i < 2 * n; i++) {
		struct pinmm_page_info pi;
		int r = pinmm_page_info(p, a + i * PG, &pi);
		assert_int_equal(r, i % 4 == 0 ? -EFAULT : 0);
	}
	/* Restore everything writable: holes keep the pieces apart. */
	for (int i = 0; i < 2 * n; i += 4)
		assert_int_equal(pinmm_mprotect(p, a + (i + 1) * PG, 3 * PG,
						PROT_READ | PROT_WRITE), 0);
	assert_int_equal(vmas(p, s, 1), n / 2);
	assert_int_equal(pinmm_munmap(p, a, 2 * n * PG), 0);
	assert_int_equal(vmas(p, s, 1), 0);
	assert_true(RB_EMPTY_ROOT(&p->mm->mm_rb));
	test_shutdown_clean(m);
}

static void test_page_info_outside_vmas(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	struct pinmm_page_info pi;
	unsigned long a = (unsigned long)test_mmap_anon(p, 4 * PG);

	assert_int_equal(pinmm_page_info(p, a, &pi), 0);
	assert_false(pi.present);
	assert_int_equal(pinmm_page_info(p, a + 4 * PG - 1, &pi), 0);
	assert_int_equal(pinmm_page_info(p, a + 4 * PG, &pi), -EFAULT);
	assert_int_equal(pinmm_page_info(p, a - 1, &pi), -EFAULT);
	assert_int_equal(pinmm_page_info(p, 0, &pi), -EFAULT);
	assert_int_equal(pinmm_page_info(p, ~0UL, &pi), -EFAULT);
	assert_int_equal(pinmm_page_info(p, a, NULL), -EINVAL);
	assert_int_equal(pinmm_munmap(p, a + PG, PG), 0);
	assert_int_equal(pinmm_page_info(p, a + PG, &pi), -EFAULT);
	assert_false(pi.present);
	test_shutdown_clean(m);
}

/* Direct split/merge through the internal interface. */
static void test_split_vma_internal(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = (unsigned long)test_mmap_anon(p, 8 * PG);
	struct vm_area_struct *v, *merged;

	mmap_write_lock(p->mm);
	v = vma_lookup(p->mm, a);
	assert_int_equal(split_vma(v, a, 0), -EINVAL);		/* not strictly inside */
	assert_int_equal(split_vma(v, a + 8 * PG, 0), -EINVAL);
	assert_int_equal(split_vma(v, a + 100, 0), -EINVAL);	/* unaligned */
	assert_int_equal(split_vma(v, a + 3 * PG, 0), 0);
	assert_int_equal(p->mm->map_count, 2);
	assert_int_equal(v->vm_end, a + 3 * PG);
	assert_int_equal(vma_next(v)->vm_start, a + 3 * PG);
	assert_int_equal(vma_next(v)->vm_pgoff, v->vm_pgoff + 3);
	assert_int_equal(audit_mm(p->mm), 0);
	merged = vma_try_merge(v);
	assert_ptr_equal(merged, v);
	assert_int_equal(p->mm->map_count, 1);
	assert_int_equal(v->vm_end, a + 8 * PG);
	assert_int_equal(split_vma(v, a + 5 * PG, 1), 0);	/* new one below */
	assert_int_equal(p->mm->map_count, 2);
	assert_ptr_equal(vma_lookup(p->mm, a + 5 * PG), v);
	assert_int_equal(v->vm_pgoff, (a + 5 * PG) >> PAGE_SHIFT);
	merged = vma_try_merge(v);
	assert_int_equal(merged->vm_start, a);
	assert_int_equal(merged->vm_end, a + 8 * PG);
	assert_int_equal(p->mm->map_count, 1);
	assert_null(find_vma_intersection(p->mm, a - PG, a));
	assert_ptr_equal(find_vma_intersection(p->mm, a - PG, a + 1), merged);
	assert_ptr_equal(find_vma(p->mm, 0), merged);
	assert_null(find_vma(p->mm, a + 8 * PG));
	mmap_write_unlock(p->mm);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adjacent_anon_merge),
		cmocka_unit_test(test_merge_keeps_data_and_anon_vma),
		cmocka_unit_test(test_mprotect_split_and_merge_back),
		cmocka_unit_test(test_file_vma_split_pgoff),
		cmocka_unit_test(test_many_vmas),
		cmocka_unit_test(test_page_info_outside_vmas),
		cmocka_unit_test(test_split_vma_internal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
