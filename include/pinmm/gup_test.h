/* SPDX-License-Identifier: MIT */
/*
 * <pinmm/gup_test.h> - the kernel's gup_test facility (CONFIG_GUP_TEST,
 * /sys/kernel/debug/gup_test) with Linux's ABI: the same nine command
 * numbers, struct gup_test and struct pin_longterm_test, so that Linux's
 * self-tests (tools/testing/selftests/mm/{gup_test,cow,gup_longterm}.c) port
 * to pinmm nearly line for line:
 *
 *	gup_fd = pinmm_gup_test_open(p);		// open("/sys/kernel/debug/gup_test")
 *	ret = pinmm_gup_test_ioctl(gup_fd, PIN_LONGTERM_TEST_START, &args);
 *	...
 *	pinmm_gup_test_close(gup_fd);			// release: stops the test pin
 *
 * The "file" is a real descriptor in the process's file table: it is shared
 * with children at fork and closed (released) when the process exits, and
 * pinmm_close() closes it as well.  Like ioctl(2), pinmm_gup_test_ioctl()
 * and pinmm_gup_test_close() act on the calling thread's current process
 * (pinmm_set_current()).  The argument structures are the caller's (host)
 * memory, read and written back as the kernel's copy_from_user() /
 * copy_to_user() of the ioctl argument would; the addresses *inside* them
 * (.addr, the __u64 of PIN_LONGTERM_TEST_READ) are addresses in the current
 * process's simulated address space.
 *
 * Unlike the kernel (one global test pin per kernel), the long-term test
 * pin state is per machine.  Long-term test pins are not charged to
 * pinned_vm, as in Linux.
 */
#ifndef PINMM_GUP_TEST_H
#define PINMM_GUP_TEST_H

#include <stdint.h>
#include <sys/ioctl.h>
#include <linux/types.h>
#include <pinmm/pinmm.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GUP_FAST_BENCHMARK	_IOWR('g', 1, struct gup_test)
#define PIN_FAST_BENCHMARK	_IOWR('g', 2, struct gup_test)
#define PIN_LONGTERM_BENCHMARK	_IOWR('g', 3, struct gup_test)
#define GUP_BASIC_TEST		_IOWR('g', 4, struct gup_test)
#define PIN_BASIC_TEST		_IOWR('g', 5, struct gup_test)
#define DUMP_USER_PAGES_TEST	_IOWR('g', 6, struct gup_test)
#define PIN_LONGTERM_TEST_START	_IOW('g', 7, struct pin_longterm_test)
#define PIN_LONGTERM_TEST_STOP	_IO('g', 8)
#define PIN_LONGTERM_TEST_READ	_IOW('g', 9, __u64)

#define GUP_TEST_MAX_PAGES_TO_DUMP		8

#define GUP_TEST_FLAG_DUMP_PAGES_USE_PIN	0x1

/*
 * struct gup_test - argument of the six benchmark/basic commands.
 * @get_delta_usec: out: time of the acquisition loop.
 * @put_delta_usec: out: time of the release.
 * @addr: start address in the process.
 * @size: in: bytes to cover; out: bytes actually covered.
 * @nr_pages_per_call: chunk size of each get/pin call.
 * @gup_flags: FOLL_* passed to the call (FOLL_WRITE = 0x1, ...).
 * @test_flags: GUP_TEST_FLAG_*.
 * @which_pages: 1-based page numbers to dump_page() (0: unused).
 */
struct gup_test {
	__u64 get_delta_usec;
	__u64 put_delta_usec;
	__u64 addr;
	__u64 size;
	__u32 nr_pages_per_call;
	__u32 gup_flags;
	__u32 test_flags;
	__u32 which_pages[GUP_TEST_MAX_PAGES_TO_DUMP];
};

#define PIN_LONGTERM_TEST_FLAG_USE_WRITE	1
#define PIN_LONGTERM_TEST_FLAG_USE_FAST		2

/* struct pin_longterm_test - argument of PIN_LONGTERM_TEST_START. */
struct pin_longterm_test {
	__u64 addr;
	__u64 size;
	__u32 flags;
};

/**
 * pinmm_gup_test_open() - open the gup_test "debugfs file" in @p.
 * @p: the process whose file table receives the descriptor.
 *
 * Context: any thread.
 * Return: a descriptor (>= 0, in @p's table), -EINVAL (NULL @p), -ESRCH
 * (exited), -EMFILE, -ENOMEM.
 */
PINMM_API int pinmm_gup_test_open(struct pinmm_proc *p);

/**
 * pinmm_gup_test_ioctl() - ioctl(2) on a gup_test descriptor of the
 * current process.
 * @fd: the descriptor from pinmm_gup_test_open().
 * @cmd: one of the nine commands above.
 * @...: a pointer to the command's argument (struct gup_test,
 *	struct pin_longterm_test, or __u64); nothing for PIN_LONGTERM_TEST_STOP.
 *
 * Context: a thread with a current process; may sleep.
 * Return: 0 or a negative errno: -EBADF (@fd is not a gup_test file),
 * -ESRCH (no current process), -EINVAL (unknown command and the kernel's
 * argument checks), -EFAULT (argument pointer NULL, or a bad user address),
 * -ENOMEM, or the error of the pinning call.
 */
PINMM_API long pinmm_gup_test_ioctl(int fd, unsigned long cmd, ...);

/**
 * pinmm_gup_test_close() - close a gup_test descriptor of the current
 * process; the last close releases the file, which stops a long-term test
 * pin (as the debugfs file's ->release does).
 * @fd: the descriptor.
 *
 * Context: a thread with a current process.
 * Return: 0, -ESRCH, -EBADF.
 */
PINMM_API int pinmm_gup_test_close(int fd);

#ifdef __cplusplus
}
#endif
#endif /* PINMM_GUP_TEST_H */
