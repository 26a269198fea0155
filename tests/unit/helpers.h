/* SPDX-License-Identifier: MIT */
/*
 * helpers.h - shared set-up for the cmocka unit tests.
 *
 * Tests include <stdarg.h>, <stddef.h>, <setjmp.h>, <stdint.h> and
 * <cmocka.h> through this header.  Each test boots its own machine so that
 * tests are independent; pinmm_shutdown() must return 0 at the end
 * (test_shutdown_clean()), which checks that nothing leaked.
 */
#ifndef PINMM_TEST_HELPERS_H
#define PINMM_TEST_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>
#include <pinmm/pinmm.h>

#define KiB (1024UL)
#define MiB (1024UL * 1024)
#define GiB (1024UL * 1024 * 1024)

/* Boot a machine from "key=value" pairs (NULL-terminated); asserts success. */
struct pinmm *test_boot(const char *kv, ...);
/* Boot with ram=256M, debug=2 (full auditor). */
struct pinmm *test_boot_small(void);
/* A process made current on this thread. */
struct pinmm_proc *test_proc(struct pinmm *m);
/* Shut down and assert a clean audit (0). */
void test_shutdown_clean(struct pinmm *m);
/* Anonymous private RW mapping of @len bytes. */
unsigned long test_mmap_anon(struct pinmm_proc *p, size_t len);
/* Seconds for stress tests: PINMM_STRESS_SECONDS or @dflt. */
double test_stress_seconds(double dflt);
/* One byte through the MMU; asserts success. */
void test_store8(struct pinmm_proc *p, unsigned long addr, uint8_t v);
uint8_t test_load8(struct pinmm_proc *p, unsigned long addr);

/*
 * A temporary directory holding a pinfs image path, for cmocka
 * setup/teardown: *state becomes a struct test_imgdir; the image file and
 * the directory are removed at teardown.
 */
struct test_imgdir {
	char dir[64];
	char img[128];
};
int test_imgdir_setup(void **state);
int test_imgdir_teardown(void **state);

#endif
