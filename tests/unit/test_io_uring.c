/* SPDX-License-Identifier: MIT */
/*
 * Description: io_uring-style fixed buffers (<pinmm/io_uring.h>):
 * registration rules of io_uring/rsrc.c (validation, -EBUSY, -ENXIO, all or
 * nothing), FOLL_WRITE|FOLL_LONGTERM pins charged to mm->pinned_vm against
 * RLIMIT_MEMLOCK, READ_FIXED/WRITE_FIXED data paths and their bounds,
 * buffers that outlive munmap() of their range, fork with registered
 * buffers (the pinned pages are copied for the child), the ring's lifetime
 * (destroy, exit, inherited descriptors) and a clean shutdown.
 */
#include "helpers.h"

#include <stdlib.h>
#include <pinmm/io_uring.h>
#include "machine.h"	/* mm->pinned_vm: not observable through the API */

#define PG 4096UL

static struct pinmm *boot(void)
{
	return test_boot("ram=256M", "debug=2", "quiet=1", NULL);
}

static long pinned_vm(struct pinmm_proc *p)
{
	return atomic_long_read(&p->mm->pinned_vm);
}

static long pins_outstanding(struct pinmm *m)
{
	return pinmm_vmstat(m, "nr_foll_pin_acquired") - pinmm_vmstat(m, "nr_foll_pin_released");
}

static struct pinmm_page_info info(struct pinmm_proc *p, unsigned long addr)
{
	struct pinmm_page_info pi;

	assert_int_equal(pinmm_page_info(p, addr, &pi), 0);
	return pi;
}

static unsigned long map_filled(struct pinmm_proc *p, unsigned long n, int c)
{
	unsigned long a = test_mmap_anon(p, n * PG);
	char buf[PG];

	memset(buf, c, PG);
	for (unsigned long i = 0; i < n; i++)
		assert_int_equal(pinmm_store(p, a + i * PG, buf, PG), PG);
	return a;
}

static void test_create_destroy(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m);
	int ring, fd;

	(void)state;
	assert_int_equal(pinmm_uring_create(p, 0), -EINVAL);
	assert_int_equal(pinmm_uring_create(p, IORING_MAX_ENTRIES + 1), -EINVAL);
	assert_int_equal(pinmm_uring_create(NULL, 8), -EINVAL);
	ring = pinmm_uring_create(p, 8);
	assert_true(ring >= 0);
	assert_int_equal(pinmm_uring_nr_buffers(p, ring), 0);
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_READ, MAP_SHARED, ring, 0), -ENODEV);
	fd = pinmm_memfd_create(p, "f", 0);
	assert_int_equal(pinmm_uring_nr_buffers(p, fd), -EBADF);
	assert_int_equal(pinmm_uring_destroy(p, fd), -EBADF);
	assert_int_equal(pinmm_uring_unregister_buffers(p, ring), -ENXIO);
	assert_int_equal(pinmm_uring_destroy(p, ring), 0);
	assert_int_equal(pinmm_uring_destroy(p, ring), -EBADF);
	assert_int_equal(pinmm_uring_nr_buffers(p, ring), -EBADF);
	test_shutdown_clean(m);
}

static void test_register_validation(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_filled(p, 4, 1);
	int ring = pinmm_uring_create(p, 8);
	struct iovec iov[3];

	(void)state;
	iov[0] = (struct iovec){ (void *)a, PG };
	assert_int_equal(pinmm_uring_register_buffers(p, ring, iov, 0), -EINVAL);
	assert_int_equal(pinmm_uring_register_buffers(p, ring, iov, IORING_MAX_REG_BUFFERS + 1),
			 -EINVAL);
	assert_int_equal(pinmm_uring_register_buffers(p, ring, NULL, 1), -EFAULT);
	iov[0] = (struct iovec){ NULL, PG };
	assert_int_equal(pinmm_uring_register_buffers(p, ring, iov, 1), -EFAULT);
	iov[0] = (struct iovec){ (void *)a, 0 };
	assert_int_equal(pinmm_uring_register_buffers(p, ring, iov, 1), -EFAULT);
	iov[0] = (struct iovec){ (void *)a, (1UL << 30) + 1 };
	assert_int_equal(pinmm_uring_register_buffers(p, ring, iov, 1), -EFAULT);
	iov[0] = (struct iovec){ (void *)(~0UL - PG), PG };
	assert_int_equal(pinmm_uring_register_buffers(p, ring, iov, 1), -EOVERFLOW);
	/* Unmapped: -EFAULT, and the good buffers before it are released. */
	iov[0] = (struct iovec){ (void *)a, 2 * PG };
	iov[1] = (struct iovec){ NULL, 0 };		/* sparse slot */
	iov[2] = (struct iovec){ (void *)(a + 3 * PG), 2 * PG };	/* runs off the end */
	assert_int_equal(pinmm_uring_register_buffers(p, ring, iov, 3), -EFAULT);
	assert_int_equal(pins_outstanding(m), 0);
	assert_int_equal(pinned_vm(p), 0);
	assert_int_equal(pinmm_uring_nr_buffers(p, ring), 0);
	/* Read-only and PROT_NONE memory cannot be pinned for write. */
	assert_int_equal(pinmm_mprotect(p, a + 3 * PG, PG, PROT_READ), 0);
	iov[0] = (struct iovec){ (void *)(a + 3 * PG), PG };
	assert_int_equal(pinmm_uring_register_buffers(p, ring, iov, 1), -EFAULT);
	assert_int_equal(pinmm_mprotect(p, a + 3 * PG, PG, PROT_NONE), 0);
	assert_int_equal(pinmm_uring_register_buffers(p, ring, iov, 1), -EFAULT);
	assert_int_equal(pins_outstanding(m), 0);
	/* Success, then -EBUSY. */
	iov[0] = (struct iovec){ (void *)a, 2 * PG };
	iov[2] = (struct iovec){ (void *)(a + 2 * PG), 1 };
	assert_int_equal(pinmm_uring_register_buffers(p, ring, iov, 3), 0);
	assert_int_equal(pinmm_uring_nr_buffers(p, ring), 3);
	assert_int_equal(pinmm_uring_register_buffers(p, ring, iov, 3), -EBUSY);
	assert_int_equal(pins_outstanding(m), 3);
	assert_int_equal(pinned_vm(p), 3);
	assert_int_equal(pinmm_uring_unregister_buffers(p, ring), 0);
	assert_int_equal(pinmm_uring_unregister_buffers(p, ring), -ENXIO);
	assert_int_equal(pins_outstanding(m), 0);
	assert_int_equal(pinned_vm(p), 0);
	assert_int_equal(pinmm_uring_destroy(p, ring), 0);
	test_shutdown_clean(m);
}

static void test_accounting(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_filled(p, 16, 1);
	int ring = pinmm_uring_create(p, 8);
	struct iovec iov[2] = {
		{ (void *)a, 8 * PG },
		/* Unaligned: 2 bytes straddling a page boundary are 2 pages. */
		{ (void *)(a + 9 * PG - 1), 2 },
	};

	(void)state;
	assert_int_equal(pinmm_proc_set_rlimit_memlock(p, 9 * PG), 0);
	assert_int_equal(pinmm_uring_register_buffers(p, ring, iov, 2), -ENOMEM);
	assert_int_equal(pinned_vm(p), 0);
	assert_int_equal(pins_outstanding(m), 0);
	assert_int_equal(pinmm_proc_set_rlimit_memlock(p, 10 * PG), 0);
	assert_int_equal(pinmm_uring_register_buffers(p, ring, iov, 2), 0);
	assert_int_equal(pinned_vm(p), 10);
	assert_int_equal(pins_outstanding(m), 10);
	assert_true(info(p, a).maybe_dma_pinned);
	assert_true(info(p, a + 9 * PG).maybe_dma_pinned);
	assert_false(info(p, a + 10 * PG).maybe_dma_pinned);
	/* A second ring is charged to the same mm: over the limit. */
	{
		int ring2 = pinmm_uring_create(p, 1);
		struct iovec one = { (void *)(a + 12 * PG), PG };

		assert_int_equal(pinmm_uring_register_buffers(p, ring2, &one, 1), -ENOMEM);
		assert_int_equal(pinmm_proc_set_rlimit_memlock(p, PINMM_RLIM_INFINITY), 0);
		assert_int_equal(pinmm_uring_register_buffers(p, ring2, &one, 1), 0);
		assert_int_equal(pinned_vm(p), 11);
		assert_int_equal(pinmm_uring_destroy(p, ring2), 0);
		assert_int_equal(pinned_vm(p), 10);
	}
	assert_int_equal(pinmm_uring_destroy(p, ring), 0);
	assert_int_equal(pinned_vm(p), 0);
	assert_int_equal(pins_outstanding(m), 0);
	test_shutdown_clean(m);
}

static void test_read_write_fixed(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_filled(p, 4, 0x11);
	unsigned long base = a + 100;			/* unaligned buffer */
	int ring = pinmm_uring_create(p, 8);
	struct iovec iov = { (void *)base, 3 * PG };
	char src[2 * PG], buf[2 * PG];
	int fd, rofd;

	(void)state;
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (char)(i * 7);
	fd = pinmm_memfd_create(p, "data", 0);
	assert_int_equal(pinmm_pwrite(p, fd, src, sizeof(src), 0), sizeof(src));
	assert_int_equal(pinmm_uring_register_buffers(p, ring, &iov, 1), 0);

	/* File -> pinned pages, across a page boundary; the process sees it. */
	assert_int_equal(pinmm_uring_read_fixed(p, ring, fd, 0, base + 10, 2 * PG, 0), 2 * PG);
	assert_int_equal(pinmm_load(p, base + 10, buf, 2 * PG), 2 * PG);
	assert_memory_equal(buf, src, 2 * PG);
	assert_int_equal(test_load8(p, base + 9), 0x11);
	/* Short at EOF, 0 past it. */
	assert_int_equal(pinmm_uring_read_fixed(p, ring, fd, 0, base, PG, PG + 50), PG - 50);
	assert_int_equal(pinmm_uring_read_fixed(p, ring, fd, 0, base, PG, 4 * PG), 0);

	/* Pinned pages -> file: a store by the process is what gets written. */
	test_store8(p, base + 5, 0xab);
	assert_int_equal(pinmm_uring_write_fixed(p, ring, fd, 0, base, 3 * PG, PG), 3 * PG);
	assert_int_equal(pinmm_pread(p, fd, buf, 16, PG), 16);
	assert_int_equal((unsigned char)buf[5], 0xab);
	assert_int_equal(pinmm_fstat_size(p, fd), 4 * PG);

	/* Bounds: the whole range must lie in the buffer. */
	assert_int_equal(pinmm_uring_read_fixed(p, ring, fd, 0, base - 1, 10, 0), -EFAULT);
	assert_int_equal(pinmm_uring_read_fixed(p, ring, fd, 0, base + 3 * PG - 9, 10, 0), -EFAULT);
	assert_int_equal(pinmm_uring_write_fixed(p, ring, fd, 0, base, 3 * PG + 1, 0), -EFAULT);
	assert_int_equal(pinmm_uring_read_fixed(p, ring, fd, 0, ~0UL - 4, 10, 0), -EFAULT);
	assert_int_equal(pinmm_uring_read_fixed(p, ring, fd, 1, base, 10, 0), -EFAULT);
	assert_int_equal(pinmm_uring_read_fixed(p, ring, fd, 0, base + 3 * PG - 10, 10, 0), 10);
	/* Files. */
	assert_int_equal(pinmm_uring_read_fixed(p, ring, 77, 0, base, 10, 0), -EBADF);
	assert_int_equal(pinmm_uring_read_fixed(p, ring, fd, 0, base, 10, -1), -EINVAL);
	assert_int_equal(pinmm_uring_read_fixed(p, ring, ring, 0, base, 10, 0), -EINVAL);
	rofd = pinmm_open(p, "/tmp/ro", O_RDWR | O_CREAT, 0600);
	assert_true(rofd >= 0);
	assert_int_equal(pinmm_close(p, rofd), 0);
	rofd = pinmm_open(p, "/tmp/ro", O_RDONLY, 0);
	assert_int_equal(pinmm_uring_write_fixed(p, ring, rofd, 0, base, 10, 0), -EBADF);
	assert_int_equal(pinmm_uring_read_fixed(p, ring, rofd, 0, base, 10, 0), 0);
	assert_int_equal(pinmm_uring_read_fixed(p, fd, fd, 0, base, 10, 0), -EBADF);

	/* After unregister the data stays in the process's memory. */
	assert_int_equal(pinmm_uring_read_fixed(p, ring, fd, 0, base, 16, PG), 16);
	assert_int_equal(pinmm_uring_unregister_buffers(p, ring), 0);
	assert_int_equal(test_load8(p, base + 5), 0xab);
	assert_int_equal(pinmm_uring_read_fixed(p, ring, fd, 0, base, 10, 0), -EFAULT);
	assert_int_equal(pinmm_uring_destroy(p, ring), 0);
	test_shutdown_clean(m);
}

/* A fixed read dirties the page cache page it wrote into, at unpin. */
static void test_read_fixed_dirties(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m);
	int fd = pinmm_memfd_create(p, "shared", 0), src = pinmm_memfd_create(p, "src", 0);
	int ring = pinmm_uring_create(p, 8);
	struct iovec iov;
	long a;

	(void)state;
	assert_int_equal(pinmm_ftruncate(p, fd, PG), 0);
	assert_int_equal(pinmm_pwrite(p, src, "hello", 5, 0), 5);
	a = pinmm_mmap(p, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(a > 0);
	/* tmpfs MAP_SHARED may be pinned R/W long-term. */
	iov = (struct iovec){ (void *)a, PG };
	assert_int_equal(pinmm_uring_register_buffers(p, ring, &iov, 1), 0);
	assert_int_equal(pinmm_uring_read_fixed(p, ring, src, 0, (unsigned long)a, 5, 0), 5);
	assert_int_equal(pinmm_uring_unregister_buffers(p, ring), 0);
	assert_true(info(p, (unsigned long)a).dirty);
	/* The file itself has the data: the page is its page cache page. */
	{
		char buf[5];

		assert_int_equal(pinmm_pread(p, fd, buf, 5, 0), 5);
		assert_memory_equal(buf, "hello", 5);
	}
	assert_int_equal(pinmm_uring_destroy(p, ring), 0);
	test_shutdown_clean(m);
}

/* The pins keep the pages: munmap() detaches them, I/O still works. */
static void test_survives_munmap(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_filled(p, 2, 0x5a);
	int ring = pinmm_uring_create(p, 8), fd = pinmm_memfd_create(p, "f", 0);
	struct iovec iov = { (void *)a, 2 * PG };
	long detached0 = pinmm_vmstat(m, "pinned_page_detached");
	char buf[2 * PG], want[2 * PG];

	(void)state;
	assert_int_equal(pinmm_uring_register_buffers(p, ring, &iov, 1), 0);
	assert_int_equal(pinmm_munmap(p, a, 2 * PG), 0);
	assert_int_equal(pinmm_vmstat(m, "pinned_page_detached") - detached0, 2);
	assert_int_equal(pinmm_load(p, a, buf, 1), -EFAULT);
	assert_int_equal(pinmm_uring_write_fixed(p, ring, fd, 0, a, 2 * PG, 0), 2 * PG);
	assert_int_equal(pinmm_pread(p, fd, buf, 2 * PG, 0), 2 * PG);
	memset(want, 0x5a, sizeof(want));
	assert_memory_equal(buf, want, 2 * PG);
	/* A fixed read into the detached pages, and back out. */
	assert_int_equal(pinmm_pwrite(p, fd, "xyz", 3, 0), 3);
	assert_int_equal(pinmm_uring_read_fixed(p, ring, fd, 0, a + PG, 3, 0), 3);
	assert_int_equal(pinmm_uring_write_fixed(p, ring, fd, 0, a + PG, 3, 10), 3);
	assert_int_equal(pinmm_pread(p, fd, buf, 3, 10), 3);
	assert_memory_equal(buf, "xyz", 3);
	/* A new mapping at the address is not the buffer. */
	assert_int_equal(test_mmap_anon(p, 2 * PG) != 0, 1);
	assert_int_equal(pins_outstanding(m), 2);
	assert_int_equal(pinmm_uring_unregister_buffers(p, ring), 0);
	assert_int_equal(pins_outstanding(m), 0);
	assert_int_equal(pinned_vm(p), 0);
	test_shutdown_clean(m);
}

/* fork(): the pinned pages are copied for the child, not COW-shared. */
static void test_fork_registered(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m), *child;
	unsigned long a = map_filled(p, 2, 0x33);
	int ring = pinmm_uring_create(p, 8), fd = pinmm_memfd_create(p, "f", 0);
	struct iovec iov = { (void *)a, 2 * PG };
	long copies0;
	char c;

	(void)state;
	assert_int_equal(pinmm_uring_register_buffers(p, ring, &iov, 1), 0);
	copies0 = pinmm_vmstat(m, "fork_cow_copy");
	assert_int_equal(pinmm_fork(p, &child), 0);
	assert_true(pinmm_vmstat(m, "fork_cow_copy") - copies0 >= 2);
	assert_int_not_equal(info(p, a).pfn, info(child, a).pfn);
	assert_false(info(child, a).maybe_dma_pinned);
	assert_true(info(p, a).maybe_dma_pinned);
	/* The parent's pages are still the buffer: its write goes out. */
	test_store8(p, a, 0x44);
	test_store8(child, a, 0x55);
	assert_int_equal(pinmm_uring_write_fixed(p, ring, fd, 0, a, 1, 0), 1);
	assert_int_equal(pinmm_pread(p, fd, &c, 1, 0), 1);
	assert_int_equal((unsigned char)c, 0x44);
	/* A fixed read reaches the parent only. */
	assert_int_equal(pinmm_pwrite(p, fd, "\x66", 1, 0), 1);
	assert_int_equal(pinmm_uring_read_fixed(p, ring, fd, 0, a, 1, 0), 1);
	assert_int_equal(test_load8(p, a), 0x66);
	assert_int_equal(test_load8(child, a), 0x55);
	/* The child inherited the ring descriptor: the ring's buffers are the
	 * parent's pages, and the child's exit does not unregister them. */
	assert_int_equal(pinmm_uring_nr_buffers(child, ring), 1);
	assert_int_equal(pinmm_exit(child), 0);
	assert_int_equal(pins_outstanding(m), 2);
	assert_int_equal(pinmm_uring_destroy(p, ring), 0);
	assert_int_equal(pins_outstanding(m), 0);
	test_shutdown_clean(m);
}

/* The child holds the last reference: its exit releases the parent's pins. */
static void test_parent_exits_first(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m), *child;
	unsigned long a = map_filled(p, 2, 0x33);
	int ring = pinmm_uring_create(p, 8);
	struct iovec iov = { (void *)a, 2 * PG };

	(void)state;
	assert_int_equal(pinmm_uring_register_buffers(p, ring, &iov, 1), 0);
	assert_int_equal(pinmm_fork(p, &child), 0);
	pinmm_set_current(child);
	assert_int_equal(pinmm_exit(p), 0);
	assert_int_equal(pins_outstanding(m), 2);
	assert_int_equal(pinmm_exit(child), 0);
	assert_int_equal(pins_outstanding(m), 0);
	test_shutdown_clean(m);
}

static void test_exit_cleans_up(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m), *q = test_proc(m);
	unsigned long a = map_filled(p, 4, 1), b = map_filled(q, 4, 2);
	int r1 = pinmm_uring_create(p, 8), r2 = pinmm_uring_create(p, 8);
	int rq = pinmm_uring_create(q, 8), fd = pinmm_memfd_create(p, "keep", 0);
	struct iovec iov = { (void *)a, 4 * PG }, iovq = { (void *)b, 4 * PG };

	(void)state;
	assert_int_equal(pinmm_uring_register_buffers(p, r1, &iov, 1), 0);
	assert_int_equal(pinmm_uring_register_buffers(p, r2, &iov, 1), 0);
	assert_int_equal(pinmm_uring_register_buffers(q, rq, &iovq, 1), 0);
	assert_int_equal(pins_outstanding(m), 12);
	assert_int_equal(pinned_vm(p), 8);
	/* The exit hook closes rings, and only rings. */
	pinmm_uring_exit_proc(p);
	assert_int_equal(pinmm_uring_nr_buffers(p, r1), -EBADF);
	assert_int_equal(pinmm_uring_nr_buffers(p, r2), -EBADF);
	assert_int_equal(pinmm_fstat_size(p, fd), 0);
	assert_int_equal(pins_outstanding(m), 4);
	assert_int_equal(pinned_vm(p), 0);
	pinmm_uring_exit_proc(p);	/* idempotent */
	/* Plain exit closes q's ring through its file table. */
	assert_int_equal(pinmm_exit(q), 0);
	assert_int_equal(pins_outstanding(m), 0);
	assert_int_equal(pinmm_uring_create(q, 8), -ESRCH);
	assert_int_equal(pinmm_uring_nr_buffers(q, rq), -ESRCH);
	test_shutdown_clean(m);
}

/* Shutdown with registered buffers in several processes is clean. */
static void test_shutdown_with_buffers(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m), *child;
	unsigned long a = map_filled(p, 8, 1);
	int ring = pinmm_uring_create(p, 8);
	struct iovec iov[2] = { { (void *)a, 4 * PG }, { (void *)(a + 4 * PG), 4 * PG } };

	(void)state;
	assert_int_equal(pinmm_uring_register_buffers(p, ring, iov, 2), 0);
	assert_int_equal(pinmm_fork(p, &child), 0);
	assert_true(pinmm_uring_create(child, 4) >= 0);
	test_shutdown_clean(m);
}

/* Many buffers, the limit of slots. */
static void test_max_buffers(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_filled(p, 1, 1);
	int ring = pinmm_uring_create(p, 8);
	struct iovec *iov = calloc(IORING_MAX_REG_BUFFERS, sizeof(*iov));

	(void)state;
	assert_non_null(iov);
	for (unsigned int i = 0; i < IORING_MAX_REG_BUFFERS; i++)
		iov[i] = (struct iovec){ i % 64 ? NULL : (void *)a, i % 64 ? 0 : PG };
	assert_int_equal(pinmm_uring_register_buffers(p, ring, iov, IORING_MAX_REG_BUFFERS), 0);
	assert_int_equal(pinmm_uring_nr_buffers(p, ring), IORING_MAX_REG_BUFFERS);
	assert_int_equal(pins_outstanding(m), IORING_MAX_REG_BUFFERS / 64);
	assert_int_equal(pinmm_uring_read_fixed(p, ring, 0, 1, a, 1, 0), -EFAULT);
	free(iov);
	assert_int_equal(pinmm_uring_destroy(p, ring), 0);
	assert_int_equal(pins_outstanding(m), 0);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_destroy),
		cmocka_unit_test(test_register_validation),
		cmocka_unit_test(test_accounting),
		cmocka_unit_test(test_read_write_fixed),
		cmocka_unit_test(test_read_fixed_dirties),
		cmocka_unit_test(test_survives_munmap),
		cmocka_unit_test(test_fork_registered),
		cmocka_unit_test(test_parent_exits_first),
		cmocka_unit_test(test_exit_cleans_up),
		cmocka_unit_test(test_shutdown_with_buffers),
		cmocka_unit_test(test_max_buffers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
