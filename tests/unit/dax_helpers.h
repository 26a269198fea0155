/* SPDX-License-Identifier: MIT */
/*
 * dax_helpers.h - helpers shared by the DAX tests (test_dax.c,
 * test_dax_lease.c): machines boot with ram=256M and pmem=64M, so the
 * pmem frames are the 64 MiB of pfns after RAM.
 */
#ifndef PINMM_TEST_DAX_HELPERS_H
#define PINMM_TEST_DAX_HELPERS_H

#include "gup_helpers.h"

#include <fcntl.h>
#include <stdio.h>
#include <time.h>

#include <pinmm/pinfs.h>

#define RAM_PAGES	(256 * MiB / PG)
#define PMEM_PAGES	(64 * MiB / PG)

static inline bool pfn_in_pmem(unsigned long pfn)
{
	return pfn >= RAM_PAGES && pfn < RAM_PAGES + PMEM_PAGES;
}

static inline uint64_t free_blocks(struct pinmm *m)
{
	struct pinmm_pinfs_stat st;

	assert_int_equal(pinmm_pinfs_statfs(m, &st), 0);
	return st.free_blocks;
}

static inline double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A /dax/ file of @pages pages (written), mapped shared RW at *addr. */
static inline int dax_file(struct pinmm_proc *p, const char *name, int pages, unsigned long *addr)
{
	char path[64], buf[4096];
	int fd;

	snprintf(path, sizeof(path), "/dax/%s", name);
	fd = pinmm_open(p, path, O_CREAT | O_RDWR, 0644);
	assert_true(fd >= 0);
	for (int i = 0; i < pages; i++) {
		memset(buf, 'a' + i, sizeof(buf));
		assert_int_equal(pinmm_pwrite(p, fd, buf, sizeof(buf), (long)i * 4096), 4096);
	}
	if (addr) {
		long a = pinmm_mmap(p, 0, (size_t)pages * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
				    fd, 0);

		assert_true(a > 0);
		*addr = (unsigned long)a;
	}
	return fd;
}

#endif
