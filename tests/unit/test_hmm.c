/* SPDX-License-Identifier: MIT */
/*
 * Description: hmm_range_fault() (doc/GUP-SEMANTICS.md §7.3) and a small mirror driver that
 * follows Documentation/mm/hmm.rst: read_begin, mmap_read_lock,
 * hmm_range_fault, -EBUSY retry, driver lock + read_retry, then program
 * the "device" page table; its ->invalidate clears the device entries under
 * the same lock.  The "device" reads and writes memory through
 * kmap_local_page(hmm_pfn_to_page()).  Across munmap, fork COW, migration,
 * THP split and truncate it must never see stale data: after each event it
 * re-faults and sees the CPU's current pages.  Plus the per-entry flags and
 * the error returns.
 */
#include "helpers.h"

#include <limits.h>
#include <pthread.h>
#include <pinmm/linux.h>
#include <pinmm/mmu_notifier.h>

#define PG 4096UL
#define NPAGES 1024

struct mirror {
	struct mmu_interval_notifier sub;
	pthread_mutex_t lock;		/* the "user lock" */
	struct mm_struct *mm;
	unsigned long start, npages;
	unsigned long dev[NPAGES];	/* device page table: hmm pfns, 0 = none */
	int invalidations;
	int faults;			/* hmm_range_fault calls */
};

static bool mirror_invalidate(struct mmu_interval_notifier *sub,
			      const struct mmu_notifier_range *range, unsigned long cur_seq)
{
	struct mirror *mr = (struct mirror *)sub;
	unsigned long s = range->start > mr->start ? range->start : mr->start;
	unsigned long e = mr->start + mr->npages * PG;

	if (range->end < e)
		e = range->end;
	pthread_mutex_lock(&mr->lock);
	mmu_interval_set_seq(sub, cur_seq);
	for (unsigned long a = s; a < e; a += PG)
		mr->dev[(a - mr->start) / PG] = 0;
	mr->invalidations++;
	pthread_mutex_unlock(&mr->lock);
	return true;
}

static const struct mmu_interval_notifier_ops mirror_ops = { .invalidate = mirror_invalidate };

static void mirror_init(struct mirror *mr, struct pinmm_proc *p, unsigned long start,
			unsigned long npages)
{
	memset(mr, 0, sizeof(*mr));
	pthread_mutex_init(&mr->lock, NULL);
	mr->mm = pinmm_proc_mm(p);
	mr->start = start;
	mr->npages = npages;
	assert_true(npages <= NPAGES);
	assert_int_equal(mmu_interval_notifier_insert(&mr->sub, mr->mm, start, npages * PG,
						      &mirror_ops), 0);
}

static void mirror_fini(struct mirror *mr)
{
	mmu_interval_notifier_remove(&mr->sub);
}

/* hmm.rst's loop: fault [addr, addr + n pages) into the device table. */
static int mirror_fault(struct mirror *mr, unsigned long addr, unsigned long n, bool write)
{
	unsigned long pfns[NPAGES];
	struct hmm_range range = {
		.notifier = &mr->sub,
		.start = addr,
		.end = addr + n * PG,
		.hmm_pfns = pfns,
		.default_flags = HMM_PFN_REQ_FAULT | (write ? HMM_PFN_REQ_WRITE : 0),
		.pfn_flags_mask = 0,
	};
	int ret;

	for (int tries = 0; ; tries++) {
		assert_true(tries < 1000);
		range.notifier_seq = mmu_interval_read_begin(&mr->sub);
		mmap_read_lock(mr->mm);
		ret = hmm_range_fault(&range);
		mmap_read_unlock(mr->mm);
		mr->faults++;
		if (ret == -EBUSY)
			continue;
		if (ret)
			return ret;
		pthread_mutex_lock(&mr->lock);
		if (mmu_interval_read_retry(&mr->sub, range.notifier_seq)) {
			pthread_mutex_unlock(&mr->lock);
			continue;
		}
		for (unsigned long i = 0; i < n; i++)
			mr->dev[(addr - mr->start) / PG + i] = pfns[i];
		pthread_mutex_unlock(&mr->lock);
		return 0;
	}
}

/* Device access to one byte, faulting on a missing (or read-only) entry. */
static int mirror_access(struct mirror *mr, unsigned long addr, bool write, uint8_t *val)
{
	unsigned long i = (addr - mr->start) / PG;

	for (;;) {
		unsigned long e;
		int ret;

		pthread_mutex_lock(&mr->lock);
		e = mr->dev[i];
		if ((e & HMM_PFN_VALID) && (!write || (e & HMM_PFN_WRITE))) {
			uint8_t *kaddr = kmap_local_page(hmm_pfn_to_page(mr->mm, e));

			if (write)
				kaddr[addr % PG] = *val;
			else
				*val = kaddr[addr % PG];
			kunmap_local(kaddr);
			pthread_mutex_unlock(&mr->lock);
			return 0;
		}
		pthread_mutex_unlock(&mr->lock);
		ret = mirror_fault(mr, addr & ~(PG - 1), 1, write);
		if (ret)
			return ret;
	}
}

static uint8_t mirror_read(struct mirror *mr, unsigned long addr)
{
	uint8_t v = 0;

	assert_int_equal(mirror_access(mr, addr, false, &v), 0);
	return v;
}

static unsigned long mirror_entry(struct mirror *mr, unsigned long addr)
{
	unsigned long e;

	pthread_mutex_lock(&mr->lock);
	e = mr->dev[(addr - mr->start) / PG];
	pthread_mutex_unlock(&mr->lock);
	return e;
}

/* ---- hmm_range_fault() itself ------------------------------------------ */

static void test_hmm_flags_and_errors(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 8 * PG), pfns[8], r;
	struct mirror mr;
	struct hmm_range range;
	int ret;

	(void)state;
	mirror_init(&mr, p, a, 8);
	test_store8(p, a, 0x11);

	/* Snapshot without faulting: page 0 present+writable, the rest none. */
	memset(&range, 0, sizeof(range));
	range.notifier = &mr.sub;
	range.start = a;
	range.end = a + 8 * PG;
	range.hmm_pfns = pfns;
	range.notifier_seq = mmu_interval_read_begin(&mr.sub);
	memset(pfns, 0, sizeof(pfns));
	mmap_read_lock(mr.mm);
	assert_int_equal(hmm_range_fault(&range), 0);
	mmap_read_unlock(mr.mm);
	assert_true(pfns[0] & HMM_PFN_VALID);
	assert_true(pfns[0] & HMM_PFN_WRITE);
	assert_int_equal(hmm_pfn_to_map_order(pfns[0]), 0);
	for (int i = 1; i < 8; i++)
		assert_int_equal(pfns[i], 0);
	assert_int_equal(*(uint8_t *)kmap_local_page(hmm_pfn_to_page(mr.mm, pfns[0])), 0x11);

	/* Per-page requests: page 1 read (zero page), page 2 write. */
	memset(pfns, 0, sizeof(pfns));
	pfns[1] = HMM_PFN_REQ_FAULT;
	pfns[2] = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;
	range.pfn_flags_mask = ~0UL;
	range.notifier_seq = mmu_interval_read_begin(&mr.sub);
	mmap_read_lock(mr.mm);
	assert_int_equal(hmm_range_fault(&range), 0);
	mmap_read_unlock(mr.mm);
	assert_true(pfns[1] & HMM_PFN_VALID);
	assert_false(pfns[1] & HMM_PFN_WRITE);		/* the zero page */
	assert_int_equal(*(uint8_t *)kmap_local_page(hmm_pfn_to_page(mr.mm, pfns[1])), 0);
	assert_true((pfns[2] & (HMM_PFN_VALID | HMM_PFN_WRITE)) == (HMM_PFN_VALID | HMM_PFN_WRITE));
	assert_int_equal(pfns[3], 0);
	/* No references taken: the page's count is the mapping's only. */
	assert_int_equal(folio_ref_count(page_folio(hmm_pfn_to_page(mr.mm, pfns[2]))), 1);

	/* A stale seq: -EBUSY before walking. */
	r = mmu_interval_read_begin(&mr.sub);
	assert_int_equal(pinmm_madvise(p, a, PG, MADV_DONTNEED), 0);
	range.notifier_seq = r;
	mmap_read_lock(mr.mm);
	assert_int_equal(hmm_range_fault(&range), -EBUSY);
	mmap_read_unlock(mr.mm);

	/* Bad ranges. */
	range.notifier_seq = mmu_interval_read_begin(&mr.sub);
	mmap_read_lock(mr.mm);
	range.start = a + 1;
	assert_int_equal(hmm_range_fault(&range), -EINVAL);
	range.start = a;
	range.end = a;
	assert_int_equal(hmm_range_fault(&range), -EINVAL);
	range.end = a + 8 * PG;
	mmap_read_unlock(mr.mm);

	/* Write on a read-only VMA: -EPERM; read is fine. */
	assert_int_equal(pinmm_mprotect(p, a + 4 * PG, 4 * PG, PROT_READ), 0);
	assert_int_equal(mirror_fault(&mr, a + 4 * PG, 4, true), -EPERM);
	assert_int_equal(mirror_fault(&mr, a + 4 * PG, 4, false), 0);
	assert_true(mirror_entry(&mr, a + 4 * PG) & HMM_PFN_VALID);
	/* PROT_NONE (no VM_READ): -EFAULT when faulting, ERROR otherwise. */
	assert_int_equal(pinmm_mprotect(p, a + 4 * PG, 4 * PG, PROT_NONE), 0);
	assert_int_equal(mirror_fault(&mr, a + 4 * PG, 4, false), -EFAULT);
	range.default_flags = 0;
	range.pfn_flags_mask = 0;
	range.notifier_seq = mmu_interval_read_begin(&mr.sub);
	mmap_read_lock(mr.mm);
	ret = hmm_range_fault(&range);
	mmap_read_unlock(mr.mm);
	assert_int_equal(ret, 0);
	assert_int_equal(pfns[5], HMM_PFN_ERROR);
	/* No VMA at all: the same rule. */
	assert_int_equal(pinmm_munmap(p, a + 6 * PG, 2 * PG), 0);
	assert_int_equal(mirror_fault(&mr, a + 6 * PG, 2, false), -EFAULT);
	range.notifier_seq = mmu_interval_read_begin(&mr.sub);
	mmap_read_lock(mr.mm);
	assert_int_equal(hmm_range_fault(&range), 0);
	mmap_read_unlock(mr.mm);
	assert_int_equal(pfns[7], HMM_PFN_ERROR);
	mirror_fini(&mr);
	test_shutdown_clean(m);
}

static void test_hmm_thp_order(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=2", "thp=always", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * MiB), h, e, pfn0;
	struct mirror mr;

	(void)state;
	h = (a + 2 * MiB - 1) & ~(2 * MiB - 1);
	test_store8(p, h + 3 * PG, 0x5a);
	mirror_init(&mr, p, h, 512);
	assert_int_equal(mirror_fault(&mr, h, 512, false), 0);
	e = mirror_entry(&mr, h + 3 * PG);
	assert_int_equal(hmm_pfn_to_map_order(e), 9);
	assert_true(e & HMM_PFN_WRITE);
	pfn0 = hmm_pfn_to_pfn(mirror_entry(&mr, h));
	assert_int_equal(hmm_pfn_to_pfn(e), pfn0 + 3);
	assert_int_equal(mirror_read(&mr, h + 3 * PG), 0x5a);

	/* Split the THP: the mirror is invalidated and re-faults order 0. */
	assert_int_equal(pinmm_split_huge_page(p, h), 0);
	assert_int_equal(mirror_entry(&mr, h + 3 * PG), 0);
	test_store8(p, h + 3 * PG, 0x5b);
	assert_int_equal(mirror_read(&mr, h + 3 * PG), 0x5b);
	e = mirror_entry(&mr, h + 3 * PG);
	assert_int_equal(hmm_pfn_to_map_order(e), 0);
	mirror_fini(&mr);
	test_shutdown_clean(m);
}

/* ---- the mirror never sees stale data ------------------------------------ */

static void test_mirror_munmap(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);
	struct mirror mr;
	long b;

	(void)state;
	mirror_init(&mr, p, a, 4);
	test_store8(p, a + PG, 0x42);
	assert_int_equal(mirror_read(&mr, a + PG), 0x42);
	assert_int_equal(pinmm_munmap(p, a, 4 * PG), 0);
	assert_int_equal(mirror_entry(&mr, a + PG), 0);
	assert_int_equal(mirror_fault(&mr, a + PG, 1, false), -EFAULT);
	/* A new mapping at the same address: the mirror sees its contents. */
	b = pinmm_mmap(p, a, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		       -1, 0);
	assert_int_equal(b, (long)a);
	assert_int_equal(mirror_read(&mr, a + PG), 0);
	test_store8(p, a + PG, 0x43);
	/* The zero page was mapped: the write replaced it, the mirror follows. */
	assert_int_equal(mirror_read(&mr, a + PG), 0x43);
	mirror_fini(&mr);
	test_shutdown_clean(m);
}

static void test_mirror_cow(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m), *child;
	unsigned long a = test_mmap_anon(p, 4 * PG);
	struct mirror mr;
	uint8_t v;

	(void)state;
	mirror_init(&mr, p, a, 4);
	test_store8(p, a, 'X');
	test_store8(p, a + PG, 'x');
	assert_int_equal(mirror_read(&mr, a), 'X');
	assert_true(mirror_entry(&mr, a) & HMM_PFN_WRITE);

	/* fork write-protects the parent: the mirror drops its entries. */
	assert_int_equal(pinmm_fork(p, &child), 0);
	assert_int_equal(mirror_entry(&mr, a), 0);
	assert_int_equal(mirror_read(&mr, a), 'X');
	assert_false(mirror_entry(&mr, a) & HMM_PFN_WRITE);

	/* Parent writes: COW gives it a new page; the mirror follows. */
	test_store8(p, a, 'Y');
	assert_int_equal(mirror_read(&mr, a), 'Y');
	/* The child's write does not reach the parent's mirror. */
	test_store8(child, a, 'Z');
	assert_int_equal(mirror_read(&mr, a), 'Y');
	assert_int_equal(test_load8(child, a), 'Z');

	/* A device write on a COW-shared page breaks COW for the parent. */
	v = 'D';
	assert_int_equal(mirror_access(&mr, a + PG, true, &v), 0);
	assert_int_equal(test_load8(p, a + PG), 'D');
	assert_int_equal(test_load8(child, a + PG), 'x');
	/* ... and the child's later write is not seen by the device. */
	test_store8(child, a + PG, 'c');
	assert_int_equal(mirror_read(&mr, a + PG), 'D');

	pinmm_set_current(p);
	assert_int_equal(pinmm_exit(child), 0);
	mirror_fini(&mr);
	test_shutdown_clean(m);
}

static void test_mirror_migrate(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG), old;
	struct mirror mr;
	uint8_t v;

	(void)state;
	mirror_init(&mr, p, a, 4);
	test_store8(p, a + 2 * PG, 0x77);
	assert_int_equal(mirror_read(&mr, a + 2 * PG), 0x77);
	old = hmm_pfn_to_pfn(mirror_entry(&mr, a + 2 * PG));
	assert_int_equal(pinmm_migrate_page(p, a + 2 * PG, "normal"), 0);
	assert_int_equal(mirror_entry(&mr, a + 2 * PG), 0);
	/* The device writes the new page; the CPU sees it. */
	v = 0x78;
	assert_int_equal(mirror_access(&mr, a + 2 * PG, true, &v), 0);
	assert_int_not_equal(hmm_pfn_to_pfn(mirror_entry(&mr, a + 2 * PG)), old);
	assert_int_equal(test_load8(p, a + 2 * PG), 0x78);
	mirror_fini(&mr);
	test_shutdown_clean(m);
}

static void test_mirror_truncate(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	struct mirror mr;
	unsigned long a;
	uint8_t v;
	long ret;
	int fd;

	(void)state;
	fd = pinmm_memfd_create(p, "mirror", 0);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd, 4 * PG), 0);
	ret = pinmm_mmap(p, 0, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(ret > 0);
	a = (unsigned long)ret;
	for (unsigned long i = 0; i < 4; i++)
		test_store8(p, a + i * PG, (uint8_t)(0xa0 + i));
	mirror_init(&mr, p, a, 4);
	assert_int_equal(mirror_fault(&mr, a, 4, false), 0);
	assert_int_equal(mirror_read(&mr, a + 3 * PG), 0xa3);

	/* Punch: the page cache page goes; the mirror reads the new zeros. */
	assert_int_equal(pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					 (long)PG, (long)PG), 0);
	assert_int_equal(mirror_entry(&mr, a + PG), 0);
	assert_int_equal(mirror_read(&mr, a + PG), 0);
	/* A device write lands in the file. */
	v = 0xdd;
	assert_int_equal(mirror_access(&mr, a + PG, true, &v), 0);
	assert_int_equal(pinmm_pread(p, fd, &v, 1, (long)PG), 1);
	assert_int_equal(v, 0xdd);

	/* Truncate: beyond EOF the device faults fail (SIGBUS). */
	assert_int_equal(pinmm_ftruncate(p, fd, 2 * PG), 0);
	assert_int_equal(mirror_entry(&mr, a + 3 * PG), 0);
	assert_int_equal(mirror_fault(&mr, a + 3 * PG, 1, false), -EFAULT);
	/* Grow again: new, zeroed pages. */
	assert_int_equal(pinmm_ftruncate(p, fd, 4 * PG), 0);
	assert_int_equal(mirror_read(&mr, a + 3 * PG), 0);
	assert_int_equal(mirror_read(&mr, a), 0xa0);

	mirror_fini(&mr);
	assert_int_equal(pinmm_munmap(p, a, 4 * PG), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

/* ---- a CPU thread and a device thread racing -------------------------- */

struct race {
	struct pinmm_proc *p;
	struct mirror *mr;
	unsigned long a;
	volatile int stop;
	int errors;
};

/*
 * The CPU keeps replacing the page (DONTNEED, then a write of a new value
 * v; the page value only grows).  The device reads under its lock: the value
 * it sees must never be older than what the CPU had finished writing
 * before the device's read began.
 */
static void *cpu_thread(void *arg)
{
	struct race *r = arg;

	pinmm_set_current(r->p);
	for (unsigned v = 1; v < 200; v++) {
		pinmm_madvise(r->p, r->a, PG, MADV_DONTNEED);
		test_store8(r->p, r->a, (uint8_t)v);
		if (v % 50 == 0)
			pinmm_migrate_page(r->p, r->a, "normal");
	}
	__atomic_store_n(&r->stop, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void test_mirror_race(void **state)
{
	struct pinmm *m = test_boot("ram=256M", "debug=0", NULL);
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, PG);
	struct mirror mr;
	struct race r = { .p = p, .mr = &mr, .a = a };
	pthread_t th;

	(void)state;
	test_store8(p, a, 0);
	mirror_init(&mr, p, a, 1);
	assert_int_equal(pthread_create(&th, NULL, cpu_thread, &r), 0);
	while (!__atomic_load_n(&r.stop, __ATOMIC_SEQ_CST)) {
		uint8_t seen = 0;
		int ret = mirror_access(&mr, a, false, &seen);

		/* Between DONTNEED and the write the page reads as zero. */
		if (ret)
			r.errors++;
	}
	TEST_JOIN(th, "the HMM racer after the stop");
	assert_int_equal(r.errors, 0);
	/* Quiescent: the device sees exactly the CPU's last value. */
	assert_int_equal(mirror_read(&mr, a), 199);
	mirror_fini(&mr);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmm_flags_and_errors),
		cmocka_unit_test(test_hmm_thp_order),
		cmocka_unit_test(test_mirror_munmap),
		cmocka_unit_test(test_mirror_cow),
		cmocka_unit_test(test_mirror_migrate),
		cmocka_unit_test(test_mirror_truncate),
		cmocka_unit_test(test_mirror_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
