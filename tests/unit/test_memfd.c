/* SPDX-License-Identifier: MIT */
/*
 * Description: memfd_create() and tmpfs files mapped into processes:
 * MAP_SHARED mappings and the page cache see each other's writes, a
 * MAP_PRIVATE write stays private, truncation reaches mappings (SIGBUS
 * beyond EOF) and shared anonymous memory is tmpfs underneath.
 */
#include "helpers.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define PG 4096L

static void test_memfd_basic(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	char buf[16] = { 0 };
	int fd, fd2;

	fd = pinmm_memfd_create(p, "buf", 0);
	assert_int_equal(fd, 0);
	assert_int_equal(pinmm_fstat_size(p, fd), 0);
	assert_int_equal(pinmm_pwrite(p, fd, "memfd!", 6, 3 * PG), 6);
	assert_int_equal(pinmm_fstat_size(p, fd), 3 * PG + 6);
	assert_int_equal(pinmm_pread(p, fd, buf, sizeof(buf), 3 * PG), 6);
	assert_memory_equal(buf, "memfd!", 6);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 1);

	/* Not in any directory. */
	assert_int_equal(pinmm_open(p, "/dev/shm/memfd:buf", O_RDONLY, 0), -ENOENT);
	assert_int_equal(pinmm_open(p, "/tmp/memfd:buf", O_RDONLY, 0), -ENOENT);

	/* Two memfds of one name are two files. */
	fd2 = pinmm_memfd_create(p, "buf", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_int_equal(fd2, 1);
	assert_int_equal(pinmm_fstat_size(p, fd2), 0);

	assert_int_equal(pinmm_ftruncate(p, fd, PG), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 0);
	assert_int_equal(pinmm_fallocate(p, fd2, 0, 0, 2 * PG), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 2);

	/* Closing the only descriptor frees everything. */
	assert_int_equal(pinmm_close(p, fd2), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 0);
	test_shutdown_clean(m);
}

static void test_memfd_errors(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	char name[300];

	assert_int_equal(pinmm_memfd_create(NULL, "x", 0), -EINVAL);
	assert_int_equal(pinmm_memfd_create(p, NULL, 0), -EFAULT);
	assert_int_equal(pinmm_memfd_create(p, "x", 0x100), -EINVAL);
	/* MFD_HUGETLB is accepted (api.md §4); a size without an hstate is -ENODEV. */
	assert_int_equal(pinmm_memfd_create(p, "x", MFD_HUGETLB | (22U << MFD_HUGE_SHIFT)), -ENODEV);
	assert_int_equal(pinmm_memfd_create(p, "x", MFD_HUGE_2MB), -EINVAL);
	memset(name, 'a', sizeof(name));
	name[249] = 0;
	assert_int_equal(pinmm_memfd_create(p, name, 0), 0);
	name[249] = 'a';
	name[250] = 0;
	assert_int_equal(pinmm_memfd_create(p, name, 0), -EINVAL);
	assert_int_equal(pinmm_memfd_create(p, "", 0), 1);
	test_shutdown_clean(m);
}

static void test_memfd_fork(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m), *c = NULL;
	char buf[4] = { 0 };
	int fd;

	fd = pinmm_memfd_create(p, "forked", 0);
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	/* The child's descriptor keeps the file. */
	assert_int_equal(pinmm_pwrite(c, fd, "abc", 3, 0), 3);
	assert_int_equal(pinmm_pread(c, fd, buf, 3, 0), 3);
	assert_memory_equal(buf, "abc", 3);
	assert_int_equal(pinmm_exit(c), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 0);
	test_shutdown_clean(m);
}

/* ------------------------------------------------------------------ */
/* With mappings (mm's mmap.c and memory.c)                            */

static void test_memfd_map_shared(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	char buf[8] = { 0 };
	long addr;
	int fd;

	fd = pinmm_memfd_create(p, "shared", 0);
	assert_int_equal(pinmm_ftruncate(p, fd, 4 * PG), 0);
	addr = pinmm_mmap(p, 0, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(addr > 0);

	/* Store through the mapping, pread sees it. */
	assert_int_equal(pinmm_store(p, (unsigned long)addr + PG + 5, "mapped", 6), 6);
	assert_int_equal(pinmm_pread(p, fd, buf, 6, PG + 5), 6);
	assert_memory_equal(buf, "mapped", 6);

	/* pwrite, the mapping sees it. */
	assert_int_equal(pinmm_pwrite(p, fd, "pwrite", 6, 2 * PG), 6);
	assert_int_equal(pinmm_load(p, (unsigned long)addr + 2 * PG, buf, 6), 6);
	assert_memory_equal(buf, "pwrite", 6);

	/* A read fault on a hole allocates (shmem) and reads zeroes. */
	assert_int_equal(test_load8(p, (unsigned long)addr + 3 * PG), 0);

	/* The mapping outlives the descriptor. */
	assert_int_equal(pinmm_close(p, fd), 0);
	test_store8(p, (unsigned long)addr, 42);
	assert_int_equal(test_load8(p, (unsigned long)addr), 42);

	assert_int_equal(pinmm_munmap(p, (unsigned long)addr, 4 * PG), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 0);
	test_shutdown_clean(m);
}

static void test_memfd_map_private(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	char buf[8] = { 0 };
	long addr;
	int fd;

	fd = pinmm_memfd_create(p, "private", 0);
	assert_int_equal(pinmm_pwrite(p, fd, "origin", 6, 0), 6);
	assert_int_equal(pinmm_ftruncate(p, fd, 2 * PG), 0);
	addr = pinmm_mmap(p, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_true(addr > 0);

	assert_int_equal(pinmm_load(p, (unsigned long)addr, buf, 6), 6);
	assert_memory_equal(buf, "origin", 6);
	/* The write copies; the file keeps its data. */
	assert_int_equal(pinmm_store(p, (unsigned long)addr, "privat", 6), 6);
	assert_int_equal(pinmm_pread(p, fd, buf, 6, 0), 6);
	assert_memory_equal(buf, "origin", 6);
	assert_int_equal(pinmm_load(p, (unsigned long)addr, buf, 6), 6);
	assert_memory_equal(buf, "privat", 6);

	/* A write fault on a hole of a private mapping does not reach the file. */
	test_store8(p, (unsigned long)addr + PG, 9);
	assert_int_equal(pinmm_pread(p, fd, buf, 1, PG), 1);
	assert_int_equal(buf[0], 0);

	assert_int_equal(pinmm_munmap(p, (unsigned long)addr, 2 * PG), 0);
	test_shutdown_clean(m);
}

static void test_memfd_truncate_mapped(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	char buf[4];
	long addr;
	int fd;

	fd = pinmm_memfd_create(p, "trunc", 0);
	assert_int_equal(pinmm_ftruncate(p, fd, 4 * PG), 0);
	addr = pinmm_mmap(p, 0, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(addr > 0);
	for (long i = 0; i < 4; i++)
		test_store8(p, (unsigned long)addr + i * PG, (uint8_t)(i + 1));
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 4);

	/* Beyond the new EOF the mapping faults (SIGBUS -> -EFAULT). */
	assert_int_equal(pinmm_ftruncate(p, fd, PG + 10), 0);
	assert_int_equal(pinmm_load(p, (unsigned long)addr + 2 * PG, buf, 1), -EFAULT);
	assert_int_equal(pinmm_store(p, (unsigned long)addr + 3 * PG, buf, 1), -EFAULT);
	assert_int_equal(test_load8(p, (unsigned long)addr + PG), 2);
	/* The tail of the last page was zeroed in place. */
	assert_int_equal(test_load8(p, (unsigned long)addr + PG + 100), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 2);

	/* Re-extended: the hole reads zero again. */
	assert_int_equal(pinmm_ftruncate(p, fd, 4 * PG), 0);
	assert_int_equal(test_load8(p, (unsigned long)addr + 2 * PG), 0);

	/* Punching a hole unmaps and frees the page; it comes back zeroed. */
	test_store8(p, (unsigned long)addr, 77);
	assert_int_equal(pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					 0, PG), 0);
	assert_int_equal(test_load8(p, (unsigned long)addr), 0);

	assert_int_equal(pinmm_munmap(p, (unsigned long)addr, 4 * PG), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

static void test_shared_anon_fork(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m), *c = NULL;
	struct pinmm_page_info info;
	long addr;

	addr = pinmm_mmap(p, 0, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			  -1, 0);
	assert_true(addr > 0);
	test_store8(p, (unsigned long)addr, 1);
	assert_int_equal(pinmm_page_info(p, (unsigned long)addr, &info), 0);
	assert_true(info.present);
	assert_true(info.shmem);
	assert_false(info.anon);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 1);

	assert_int_equal(pinmm_fork(p, &c), 0);
	/* Parent and child share the pages both ways. */
	test_store8(c, (unsigned long)addr + PG, 5);
	assert_int_equal(test_load8(p, (unsigned long)addr + PG), 5);
	test_store8(p, (unsigned long)addr, 6);
	assert_int_equal(test_load8(c, (unsigned long)addr), 6);

	assert_int_equal(pinmm_exit(c), 0);
	assert_int_equal(pinmm_munmap(p, (unsigned long)addr, 2 * PG), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 0);
	test_shutdown_clean(m);
}

static void test_map_tmpfs_file_readonly(void **state)
{
	struct pinmm *m = test_boot_small();
	struct pinmm_proc *p = test_proc(m);
	long addr;
	int fd, ro;

	fd = pinmm_open(p, "/dev/shm/ro", O_RDWR | O_CREAT, 0600);
	assert_int_equal(pinmm_pwrite(p, fd, "z", 1, 0), 1);
	ro = pinmm_open(p, "/dev/shm/ro", O_RDONLY, 0);
	/* A read-only descriptor cannot back a writable shared mapping. */
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0),
			 -EACCES);
	addr = pinmm_mmap(p, 0, PG, PROT_READ, MAP_SHARED, ro, 0);
	assert_true(addr > 0);
	assert_int_equal(test_load8(p, (unsigned long)addr), 'z');
	/* Unlinking the name keeps the mapping working. */
	assert_int_equal(pinmm_unlink(p, "/dev/shm/ro"), 0);
	assert_int_equal(pinmm_pwrite(p, fd, "y", 1, 0), 1);
	assert_int_equal(test_load8(p, (unsigned long)addr), 'y');
	assert_int_equal(pinmm_munmap(p, (unsigned long)addr, PG), 0);
	test_shutdown_clean(m);
}

struct fault_race {
	struct pinmm_proc *p;
	unsigned long addr;
	int fd;
	int id;
	volatile bool *stop;
};

static void *fault_race_worker(void *v)
{
	struct fault_race *a = v;
	unsigned seed = (unsigned)a->id * 104729u + 1;

	while (!*a->stop) {
		long pg;
		uint8_t b = 0;

		seed = seed * 1103515245u + 12345u;
		pg = (long)(seed >> 8) % 8;
		if (a->id == 0) {
			assert_int_equal(pinmm_ftruncate(a->p, a->fd, pg * PG), 0);
			assert_int_equal(pinmm_ftruncate(a->p, a->fd, 8 * PG), 0);
			assert_int_equal(pinmm_fallocate(a->p, a->fd, FALLOC_FL_PUNCH_HOLE |
							 FALLOC_FL_KEEP_SIZE, pg * PG, 2 * PG), 0);
		} else if (a->id & 1) {
			b = (uint8_t)a->id;
			long r = pinmm_store(a->p, a->addr + (unsigned long)(pg * PG), &b, 1);
			/* Beyond EOF for a moment: SIGBUS. */
			assert_true(r == 1 || r == -EFAULT);
		} else {
			long r = pinmm_load(a->p, a->addr + (unsigned long)(pg * PG) + 1, &b, 1);
			assert_true(r == 1 || r == -EFAULT);
			assert_int_equal(b, 0);
		}
	}
	return NULL;
}

/* Faults through a shared mapping racing with truncate and hole punching. */
static void test_fault_truncate_race(void **state)
{
	/*
	 * debug=1: the boundary auditor excludes faults (mmap_lock) but not
	 * truncation's zaps (i_mmap_rwsem), so it would see transient states;
	 * the machine is audited once everything is quiet instead.
	 */
	struct pinmm *m = test_boot("ram=256M", "debug=1", NULL);
	struct pinmm_proc *p = test_proc(m);
	struct fault_race args[4];
	volatile bool stop = false;
	pthread_t t[4];
	long addr;
	int fd;

	fd = pinmm_memfd_create(p, "race", 0);
	assert_int_equal(pinmm_ftruncate(p, fd, 8 * PG), 0);
	addr = pinmm_mmap(p, 0, 8 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(addr > 0);
	for (int i = 0; i < 4; i++) {
		args[i] = (struct fault_race){ p, (unsigned long)addr, fd, i, &stop };
		pthread_create(&t[i], NULL, fault_race_worker, &args[i]);
	}
	usleep(300 * 1000);
	stop = true;
	for (int i = 0; i < 4; i++)
		TEST_JOIN(t[i], "a memfd racer after the stop");
	assert_int_equal(pinmm_audit(m), 0);
	assert_int_equal(pinmm_munmap(p, (unsigned long)addr, 8 * PG), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(pinmm_vmstat(m, "nr_shmem"), 0);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memfd_basic),
		cmocka_unit_test(test_memfd_errors),
		cmocka_unit_test(test_memfd_fork),
		cmocka_unit_test(test_memfd_map_shared),
		cmocka_unit_test(test_memfd_map_private),
		cmocka_unit_test(test_memfd_truncate_mapped),
		cmocka_unit_test(test_shared_anon_fork),
		cmocka_unit_test(test_map_tmpfs_file_readonly),
		cmocka_unit_test(test_fault_truncate_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
