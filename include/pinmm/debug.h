/* SPDX-License-Identifier: MIT */
/*
 * <pinmm/debug.h> - introspection of a machine's internals, for tools,
 * benchmarks and tests: what Linux shows in debugfs and in boot messages
 * rather than through a system call.
 *
 * The API of <pinmm/pinmm.h> says what a program can observe about its
 * memory.  This header reports how the machine itself is built - the
 * figures a user of Linux reads from the "Memory: ...K/...K available"
 * boot line or from /sys/kernel/debug.  Its structures may gain fields
 * (at the end); nothing here may be needed to use the library correctly.
 */
#ifndef PINMM_DEBUG_H
#define PINMM_DEBUG_H

#include <stddef.h>

#include <pinmm/pinmm.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * struct pinmm_memmap_info - the frames of a machine and what they cost.
 * @nr_pages: page frames, persistent memory (pmem=) included.
 * @mem_bytes: host bytes reserved for the frames themselves.
 * @memmap_bytes: host bytes of the memmap, the array of struct page that
 *	describes the frames (Linux x86-64: 64 per 4 KiB frame).
 * @page_struct_bytes: the size of one struct page.
 */
struct pinmm_memmap_info {
	unsigned long nr_pages;
	size_t mem_bytes;
	size_t memmap_bytes;
	size_t page_struct_bytes;
};

/**
 * pinmm_debug_memmap() - the size of @m's frames and of its memmap.
 * @m: a booted machine.
 * @info: filled on success; untouched on error.
 *
 * The figures are fixed from pinmm_boot() to pinmm_shutdown(): the memmap
 * is allocated once, for every frame, at boot.
 *
 * Context: any thread; takes no lock.
 * Return: 0, or -EINVAL when @m or @info is NULL.
 */
PINMM_API int pinmm_debug_memmap(struct pinmm *m, struct pinmm_memmap_info *info);

#ifdef __cplusplus
}
#endif
#endif /* PINMM_DEBUG_H */
