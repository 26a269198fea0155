/* SPDX-License-Identifier: MIT */
/*
 * debug_info.c - the implementation of <pinmm/debug.h>: how a machine is
 * built, for tools and benchmarks (the figures Linux prints at boot,
 * "Memory: ...K/...K available", and keeps in debugfs).
 *
 * Everything reported here is fixed between pinmm_boot() and
 * pinmm_shutdown(), so no lock is taken.
 */
#include <errno.h>

#include <pinmm/debug.h>

#include "mm.h"

/**
 * pinmm_debug_memmap() - the size of @m's frames and of its memmap.
 * @m: a booted machine.
 * @info: filled on success; untouched on error.
 *
 * Context: any thread; takes no lock (the memmap is sized once, at boot).
 * Return: 0, or -EINVAL when @m or @info is NULL.
 */
int pinmm_debug_memmap(struct pinmm *m, struct pinmm_memmap_info *info)
{
	if (!m || !info)
		return -EINVAL;
	info->nr_pages = m->nr_pages;
	info->mem_bytes = m->mem_bytes;
	info->memmap_bytes = m->memmap_bytes;
	info->page_struct_bytes = sizeof(struct page);
	return 0;
}
