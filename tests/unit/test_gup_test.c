/* SPDX-License-Identifier: MIT */
/*
 * Description: the gup_test facility (<pinmm/gup_test.h>): every one of the
 * nine commands with the kernel's behaviour (chunking by nr_pages_per_call,
 * size written back, pins released, which_pages zeroing), the argument
 * checks (-EINVAL, -EFAULT, -EBADF), the long-term test pin (START / READ /
 * STOP, double START, release on close, on exit, shared across fork).
 */
#include "helpers.h"

#include <limits.h>
#include <pinmm/gup_test.h>
#include <pinmm/linux.h>

#define PG 4096UL
#define NPAGES 16

static struct pinmm *boot(void)
{
	return test_boot("ram=256M", "debug=2", "quiet=1", NULL);
}

/* An anonymous RW mapping of @n pages with page i filled with (i + 1). */
static unsigned long map_filled(struct pinmm_proc *p, unsigned long n)
{
	unsigned long a = test_mmap_anon(p, n * PG);
	char buf[PG];

	for (unsigned long i = 0; i < n; i++) {
		memset(buf, (int)(i + 1), PG);
		assert_int_equal(pinmm_store(p, a + i * PG, buf, PG), PG);
	}
	return a;
}

static bool pinned(struct pinmm_proc *p, unsigned long addr)
{
	struct pinmm_page_info pi;

	assert_int_equal(pinmm_page_info(p, addr, &pi), 0);
	return pi.maybe_dma_pinned;
}

static long pins_outstanding(struct pinmm *m)
{
	return pinmm_vmstat(m, "nr_foll_pin_acquired") - pinmm_vmstat(m, "nr_foll_pin_released");
}

static void test_open_close(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m);
	int fd, memfd;

	(void)state;
	fd = pinmm_gup_test_open(p);
	assert_true(fd >= 0);
	memfd = pinmm_memfd_create(p, "x", 0);
	assert_true(memfd >= 0);
	/* Not a gup_test file. */
	assert_int_equal(pinmm_gup_test_ioctl(memfd, PIN_LONGTERM_TEST_STOP), -EBADF);
	assert_int_equal(pinmm_gup_test_close(memfd), -EBADF);
	assert_int_equal(pinmm_gup_test_ioctl(99, PIN_LONGTERM_TEST_STOP), -EBADF);
	/* It cannot be mapped, read or written. */
	assert_int_equal(pinmm_mmap(p, 0, PG, PROT_READ, MAP_SHARED, fd, 0), -ENODEV);
	assert_int_equal(pinmm_pread(p, fd, &(char){ 0 }, 1, 0), -EINVAL);
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_STOP), 0);
	assert_int_equal(pinmm_gup_test_close(fd), 0);
	assert_int_equal(pinmm_gup_test_close(fd), -EBADF);
	assert_int_equal(pinmm_gup_test_open(NULL), -EINVAL);
	/* ioctl acts on the current process. */
	fd = pinmm_gup_test_open(p);
	pinmm_set_current(NULL);
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_STOP), -ESRCH);
	assert_int_equal(pinmm_gup_test_close(fd), -ESRCH);
	pinmm_set_current(p);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

/* One benchmark/basic command over NPAGES pages in chunks of 3. */
static void run_cmd(unsigned long cmd, unsigned int gup_flags, unsigned int test_flags,
		    bool pins)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_filled(p, NPAGES);
	long acq0 = pinmm_vmstat(m, "nr_foll_pin_acquired");
	struct gup_test gup = {
		.addr = a, .size = NPAGES * PG, .nr_pages_per_call = 3,
		.gup_flags = gup_flags, .test_flags = test_flags,
		.which_pages = { 1, NPAGES, NPAGES + 1, 0, 1000 },
	};
	int fd = pinmm_gup_test_open(p);

	assert_true(fd >= 0);
	assert_int_equal(pinmm_gup_test_ioctl(fd, cmd, &gup), 0);
	assert_int_equal(gup.size, NPAGES * PG);
	assert_true(gup.get_delta_usec < 10000000);
	assert_true(gup.put_delta_usec < 10000000);
	assert_int_equal(pinmm_vmstat(m, "nr_foll_pin_acquired") - acq0, pins ? NPAGES : 0);
	assert_int_equal(pins_outstanding(m), 0);
	for (unsigned long i = 0; i < NPAGES; i++)
		assert_false(pinned(p, a + i * PG));
	if (cmd == DUMP_USER_PAGES_TEST) {
		/* Out-of-range page numbers were zeroed, the rest kept. */
		assert_int_equal(gup.which_pages[0], 1);
		assert_int_equal(gup.which_pages[1], NPAGES);
		assert_int_equal(gup.which_pages[2], 0);
		assert_int_equal(gup.which_pages[4], 0);
	} else {
		assert_int_equal(gup.which_pages[2], NPAGES + 1);
	}
	assert_int_equal(pinmm_gup_test_close(fd), 0);
	test_shutdown_clean(m);
}

static void test_gup_fast_benchmark(void **s) { (void)s; run_cmd(GUP_FAST_BENCHMARK, FOLL_WRITE, 0, false); }
static void test_pin_fast_benchmark(void **s) { (void)s; run_cmd(PIN_FAST_BENCHMARK, FOLL_WRITE, 0, true); }
static void test_pin_longterm_benchmark(void **s) { (void)s; run_cmd(PIN_LONGTERM_BENCHMARK, FOLL_WRITE, 0, true); }
static void test_gup_basic(void **s) { (void)s; run_cmd(GUP_BASIC_TEST, 0, 0, false); }
static void test_pin_basic(void **s) { (void)s; run_cmd(PIN_BASIC_TEST, FOLL_WRITE, 0, true); }
static void test_dump_get(void **s) { (void)s; run_cmd(DUMP_USER_PAGES_TEST, 0, 0, false); }
static void test_dump_pin(void **s)
{
	(void)s;
	run_cmd(DUMP_USER_PAGES_TEST, 0, GUP_TEST_FLAG_DUMP_PAGES_USE_PIN, true);
}


/* Chunking stops at the first short call; size says how far it got. */
static void test_partial_size(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_filled(p, 8);
	struct gup_test gup = { .addr = a, .size = 8 * PG, .nr_pages_per_call = 2 };
	int fd = pinmm_gup_test_open(p);

	(void)state;
	/* Unmap pages 5..7: the third chunk [4,6) is short, the loop stops. */
	assert_int_equal(pinmm_munmap(p, a + 5 * PG, 3 * PG), 0);
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_BASIC_TEST, &gup), 0);
	assert_int_equal(gup.size, 6 * PG);
	assert_int_equal(pins_outstanding(m), 0);

	/* Whole range in one call; the fast path stops at the hole as well. */
	gup = (struct gup_test){ .addr = a, .size = 8 * PG, .nr_pages_per_call = 8 };
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_FAST_BENCHMARK, &gup), 0);
	assert_int_equal(gup.size, 8 * PG);	/* one call covered the range */
	assert_int_equal(pins_outstanding(m), 0);

	/* nr_pages_per_call 0: nothing is taken. */
	gup = (struct gup_test){ .addr = a, .size = 4 * PG, .nr_pages_per_call = 0 };
	assert_int_equal(pinmm_gup_test_ioctl(fd, GUP_BASIC_TEST, &gup), 0);
	assert_int_equal(gup.size, 0);

	/* A range that starts in a hole: the first call fails, size 0. */
	gup = (struct gup_test){ .addr = a + 5 * PG, .size = 2 * PG, .nr_pages_per_call = 1 };
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_BASIC_TEST, &gup), 0);
	assert_int_equal(gup.size, 0);
	assert_int_equal(pinmm_gup_test_close(fd), 0);
	test_shutdown_clean(m);
}

static void test_bad_args(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_filled(p, 4);
	struct gup_test gup = { .addr = a, .size = ~0ULL, .nr_pages_per_call = 1 };
	int fd = pinmm_gup_test_open(p);

	(void)state;
	/* addr + size overflows. */
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_BASIC_TEST, &gup), -EINVAL);
	gup.addr = ~0ULL - PG;
	gup.size = 2 * PG;
	assert_int_equal(pinmm_gup_test_ioctl(fd, GUP_FAST_BENCHMARK, &gup), -EINVAL);
	/* Unknown commands. */
	assert_int_equal(pinmm_gup_test_ioctl(fd, _IOWR('g', 10, struct gup_test), &gup), -EINVAL);
	assert_int_equal(pinmm_gup_test_ioctl(fd, 0, &gup), -EINVAL);
	assert_int_equal(pinmm_gup_test_ioctl(fd, _IOWR('g', 1, __u64), &gup), -EINVAL);
	/* NULL argument: copy_from_user fails. */
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_BASIC_TEST, NULL), -EFAULT);
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_START, NULL), -EFAULT);
	/* A page array kvmalloc() would refuse. */
	gup = (struct gup_test){ .addr = 0, .size = 1UL << 46, .nr_pages_per_call = 1 };
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_BASIC_TEST, &gup), -ENOMEM);
	/* Internal flags make every call return 0: nothing taken. */
	gup = (struct gup_test){ .addr = a, .size = 4 * PG, .nr_pages_per_call = 1,
				 .gup_flags = 1u << 19 /* FOLL_PIN */ };
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_BASIC_TEST, &gup), 0);
	assert_int_equal(gup.size, 0);
	assert_int_equal(pins_outstanding(m), 0);
	assert_int_equal(pinmm_gup_test_close(fd), 0);
	test_shutdown_clean(m);
}

static void test_longterm_errors(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_filled(p, 4);
	struct pin_longterm_test args = { .addr = a, .size = 4 * PG };
	__u64 dst = a;
	int fd = pinmm_gup_test_open(p);

	(void)state;
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_READ, &dst), -EINVAL);
	args.addr = a + 1;
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_START, &args), -EINVAL);
	args.addr = a;
	args.size = PG + 1;
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_START, &args), -EINVAL);
	args.size = 0;
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_START, &args), -EINVAL);
	args.size = (__u64)LONG_MAX + 1;
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_START, &args), -EINVAL);
	args.size = 4 * PG;
	args.flags = 4;
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_START, &args), -EINVAL);
	args.flags = 0;
	/* Unmapped range: the pinning call's error. */
	args.addr = a + 2 * PG;
	assert_int_equal(pinmm_munmap(p, a + 3 * PG, PG), 0);
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_START, &args), -EFAULT);
	assert_int_equal(pins_outstanding(m), 0);
	args.flags = PIN_LONGTERM_TEST_FLAG_USE_FAST;
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_START, &args), -EFAULT);
	assert_int_equal(pins_outstanding(m), 0);
	/* Nothing held after failures: READ is still -EINVAL. */
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_READ, &dst), -EINVAL);
	/* Double START. */
	args = (struct pin_longterm_test){ .addr = a, .size = 2 * PG };
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_START, &args), 0);
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_START, &args), -EINVAL);
	/* READ to an unmapped destination. */
	dst = a + 3 * PG;
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_READ, &dst), -EFAULT);
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_READ, NULL), -EFAULT);
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_STOP), 0);
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_STOP), 0);
	assert_int_equal(pins_outstanding(m), 0);
	assert_int_equal(pinmm_gup_test_close(fd), 0);
	test_shutdown_clean(m);
}

/* START pins, a write through the page tables is seen through READ. */
static void do_longterm_read(unsigned int flags)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_filled(p, 4), dst = test_mmap_anon(p, 4 * PG);
	struct pin_longterm_test args = { .addr = a, .size = 4 * PG, .flags = flags };
	__u64 dst_val = dst;
	char buf[PG], want[PG];
	int fd = pinmm_gup_test_open(p);

	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_START, &args), 0);
	for (int i = 0; i < 4; i++)
		assert_true(pinned(p, a + i * PG));
	assert_int_equal(pins_outstanding(m), 4);
	test_store8(p, a + 2 * PG + 7, 0xee);
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_READ, &dst_val), 0);
	for (int i = 0; i < 4; i++) {
		memset(want, i + 1, PG);
		if (i == 2)
			want[7] = (char)0xee;
		assert_int_equal(pinmm_load(p, dst + i * PG, buf, PG), PG);
		assert_memory_equal(buf, want, PG);
	}
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_STOP), 0);
	assert_int_equal(pins_outstanding(m), 0);
	assert_false(pinned(p, a));
	/* Not charged to pinned_vm: even a zero RLIMIT_MEMLOCK allows it. */
	assert_int_equal(pinmm_proc_set_rlimit_memlock(p, 0), 0);
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_START, &args), 0);
	/* Close releases the test pin (->release). */
	assert_int_equal(pinmm_gup_test_close(fd), 0);
	assert_int_equal(pins_outstanding(m), 0);
	test_shutdown_clean(m);
}

static void test_longterm_read(void **s) { (void)s; do_longterm_read(0); }
static void test_longterm_read_fast(void **s) { (void)s; do_longterm_read(PIN_LONGTERM_TEST_FLAG_USE_FAST); }
static void test_longterm_read_write(void **s) { (void)s; do_longterm_read(PIN_LONGTERM_TEST_FLAG_USE_WRITE); }
static void test_longterm_read_write_fast(void **s)
{
	(void)s;
	do_longterm_read(PIN_LONGTERM_TEST_FLAG_USE_WRITE | PIN_LONGTERM_TEST_FLAG_USE_FAST);
}

/* The test pin is per machine: a second opener sees it (double START). */
static void test_longterm_shared_state(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m), *child;
	unsigned long a = map_filled(p, 2);
	struct pin_longterm_test args = { .addr = a, .size = 2 * PG };
	int fd = pinmm_gup_test_open(p), fd2 = pinmm_gup_test_open(p);

	(void)state;
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_START, &args), 0);
	assert_int_equal(pinmm_gup_test_ioctl(fd2, PIN_LONGTERM_TEST_START, &args), -EINVAL);
	/* Closing either file stops it, as the debugfs release does. */
	assert_int_equal(pinmm_gup_test_close(fd2), 0);
	assert_int_equal(pins_outstanding(m), 0);

	/* fork shares the descriptor; the child's exit does not release it. */
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_START, &args), 0);
	assert_int_equal(pinmm_fork(p, &child), 0);
	assert_int_equal(pinmm_exit(child), 0);
	assert_int_equal(pins_outstanding(m), 2);
	/* The parent's exit closes the last reference: the pin goes. */
	assert_int_equal(pinmm_exit(p), 0);
	assert_int_equal(pins_outstanding(m), 0);
	test_shutdown_clean(m);
}

/* Shutdown with a test pin held: exit of every process releases it. */
static void test_longterm_shutdown(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = map_filled(p, 2);
	struct pin_longterm_test args = { .addr = a, .size = 2 * PG };
	int fd = pinmm_gup_test_open(p);

	(void)state;
	assert_int_equal(pinmm_gup_test_ioctl(fd, PIN_LONGTERM_TEST_START, &args), 0);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_close),
		cmocka_unit_test(test_gup_fast_benchmark),
		cmocka_unit_test(test_pin_fast_benchmark),
		cmocka_unit_test(test_pin_longterm_benchmark),
		cmocka_unit_test(test_gup_basic),
		cmocka_unit_test(test_pin_basic),
		cmocka_unit_test(test_dump_get),
		cmocka_unit_test(test_dump_pin),
		cmocka_unit_test(test_partial_size),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_longterm_errors),
		cmocka_unit_test(test_longterm_read),
		cmocka_unit_test(test_longterm_read_fast),
		cmocka_unit_test(test_longterm_read_write),
		cmocka_unit_test(test_longterm_read_write_fast),
		cmocka_unit_test(test_longterm_shared_state),
		cmocka_unit_test(test_longterm_shutdown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
