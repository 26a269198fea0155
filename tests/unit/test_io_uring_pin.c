/* SPDX-License-Identifier: MIT */
/*
 * Description: how io_uring fixed-buffer registration pins, as Linux's
 * io_pin_pages() does: pin_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM),
 * so pre-faulted anonymous memory is pinned by GUP-fast without touching
 * the slow path, and memory not yet faulted falls back to it; the memlock
 * charge of every page; and the per-page bio_vecs of a buffer that starts
 * and ends inside a page (fixed I/O through them lands at the right bytes).
 * Only the public API is used.
 */
#include "helpers.h"

#include <pinmm/io_uring.h>

#define PG 4096UL

static struct pinmm *boot(void)
{
	return test_boot("ram=256M", "debug=2", "quiet=1", NULL);
}

static void fill(struct pinmm_proc *p, unsigned long a, unsigned long n, int c)
{
	char buf[PG];

	memset(buf, c, PG);
	for (unsigned long i = 0; i < n; i++)
		assert_int_equal(pinmm_store(p, a + i * PG, buf, PG), PG);
}

/* Pre-faulted: one GUP-fast call pins the whole buffer, no slow path. */
static void test_register_uses_gup_fast(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 64 * PG);
	struct iovec iov = { .iov_base = (void *)a, .iov_len = 64 * PG };
	long fast0, slow0, fb0, acq0;
	int ring;

	(void)state;
	fill(p, a, 64, 0x5a);
	ring = pinmm_uring_create(p, 8);
	assert_true(ring >= 0);
	fast0 = pinmm_vmstat(m, "gup_fast_calls");
	slow0 = pinmm_vmstat(m, "gup_slow_calls");
	fb0 = pinmm_vmstat(m, "gup_fast_fallback");
	acq0 = pinmm_vmstat(m, "nr_foll_pin_acquired");
	assert_int_equal(pinmm_uring_register_buffers(p, ring, &iov, 1), 0);
	assert_int_equal(pinmm_vmstat(m, "gup_fast_calls") - fast0, 1);
	assert_int_equal(pinmm_vmstat(m, "gup_fast_fallback") - fb0, 0);
	assert_int_equal(pinmm_vmstat(m, "gup_slow_calls") - slow0, 0);
	assert_int_equal(pinmm_vmstat(m, "nr_foll_pin_acquired") - acq0, 64);
	assert_int_equal(pinmm_proc_pinned_vm(p), 64);
	assert_int_equal(pinmm_uring_unregister_buffers(p, ring), 0);
	assert_int_equal(pinmm_proc_pinned_vm(p), 0);
	assert_int_equal(pinmm_uring_destroy(p, ring), 0);
	test_shutdown_clean(m);
}

/* Not faulted yet: GUP-fast falls back, and the registration still pins all. */
static void test_register_unfaulted_falls_back(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 16 * PG);
	struct iovec iov = { .iov_base = (void *)a, .iov_len = 16 * PG };
	long fb0, acq0;
	int ring;

	(void)state;
	ring = pinmm_uring_create(p, 8);
	assert_true(ring >= 0);
	fb0 = pinmm_vmstat(m, "gup_fast_fallback");
	acq0 = pinmm_vmstat(m, "nr_foll_pin_acquired");
	assert_int_equal(pinmm_uring_register_buffers(p, ring, &iov, 1), 0);
	assert_true(pinmm_vmstat(m, "gup_fast_fallback") - fb0 >= 1);
	assert_int_equal(pinmm_vmstat(m, "nr_foll_pin_acquired") - acq0, 16);
	assert_int_equal(pinmm_proc_pinned_vm(p), 16);
	assert_int_equal(pinmm_uring_destroy(p, ring), 0);
	assert_int_equal(pinmm_proc_pinned_vm(p), 0);
	test_shutdown_clean(m);
}

/*
 * A buffer from byte 100 of one page to byte 99 of the fourth: four pinned
 * pages and bio_vecs; a fixed write and read across the page boundaries
 * move exactly the bytes asked for.
 */
static void test_unaligned_buffer_bvecs(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);
	unsigned long base = a + 100;
	struct iovec iov = { .iov_base = (void *)base, .iov_len = 3 * PG };
	char out[3 * PG], in[3 * PG];
	int ring, fd;

	(void)state;
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7 + 3);
	assert_int_equal(pinmm_store(p, base, out, sizeof(out)), sizeof(out));
	ring = pinmm_uring_create(p, 8);
	assert_true(ring >= 0);
	assert_int_equal(pinmm_uring_register_buffers(p, ring, &iov, 1), 0);
	assert_int_equal(pinmm_proc_pinned_vm(p), 4);
	fd = pinmm_memfd_create(p, "f", 0);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd, 4 * PG), 0);
	/* The whole buffer to the file, then its middle back over itself, shifted. */
	assert_int_equal(pinmm_uring_write_fixed(p, ring, fd, 0, base, 3 * PG, 0), 3 * PG);
	assert_int_equal(pinmm_pread(p, fd, in, sizeof(in), 0), sizeof(in));
	assert_memory_equal(in, out, sizeof(out));
	assert_int_equal(pinmm_uring_read_fixed(p, ring, fd, 0, base + PG - 100, PG, 5), PG);
	assert_int_equal(pinmm_load(p, base + PG - 100, in, PG), PG);
	assert_memory_equal(in, out + 5, PG);
	/* One byte past the buffer's end is outside it. */
	assert_int_equal(pinmm_uring_write_fixed(p, ring, fd, 0, base, 3 * PG + 1, 0), -EFAULT);
	assert_int_equal(pinmm_uring_destroy(p, ring), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_uses_gup_fast),
		cmocka_unit_test(test_register_unfaulted_falls_back),
		cmocka_unit_test(test_unaligned_buffer_bvecs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
