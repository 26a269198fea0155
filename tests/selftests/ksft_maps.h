/* SPDX-License-Identifier: MIT */
/* ksft_maps.h - /proc/self/maps questions of the selftest ports (ksft_maps.c). */
#ifndef PINMM_KSFT_MAPS_H
#define PINMM_KSFT_MAPS_H

#include <stdbool.h>

struct pinmm_proc;

/* Is [start, end) of @p inside a single mapping? */
bool ksft_range_in_one_vma(struct pinmm_proc *p, unsigned long start, unsigned long end);

#endif
