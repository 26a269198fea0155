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

#include <stdbool.h>
#include <stddef.h>

#include <pinmm/pinmm.h>

struct page;

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

/*
 * struct pinmm_vma_info - one VMA of a process, as a line of
 * /proc/PID/maps shows it.
 * @start, @end: its range [start, end).
 * @prot: PROT_READ | PROT_WRITE | PROT_EXEC as it is now.
 * @pgoff: offset into the file, in pages (0 for anonymous memory).
 * @shared: MAP_SHARED.
 * @anon: no file behind it (shared anonymous memory is shmem: @anon
 *	false, @name "/dev/zero (deleted)" as Linux shows it).
 * @hugetlb: a hugetlbfs or MAP_HUGETLB mapping.
 * @hugepage, @nohugepage: MADV_HUGEPAGE / MADV_NOHUGEPAGE set on it.
 * @mergeable: MADV_MERGEABLE (KSM may merge its pages).
 * @locked: mlock()ed.
 * @name: the backing file's name, "" for private anonymous memory.
 */
struct pinmm_vma_info {
	unsigned long start, end;
	int prot;
	unsigned long pgoff;
	bool shared, anon, hugetlb, hugepage, nohugepage, mergeable, locked;
	char name[64];
};

/**
 * pinmm_debug_vmas() - the VMAs of @p in address order (/proc/PID/maps).
 * @p: the process.
 * @out: an array of @max entries, filled with the first VMAs.
 * @max: its size; 0 (with @out NULL) asks for the count only.
 *
 * One snapshot under the mmap lock: the VMAs may change as soon as it
 * returns.
 *
 * Context: process context; takes mmap_lock for reading.
 * Return: the number of VMAs (which may exceed @max: only @max were
 * filled), -EINVAL (NULL @p, @max < 0, NULL @out with @max > 0), -ESRCH
 * (exited process).
 */
PINMM_API int pinmm_debug_vmas(struct pinmm_proc *p, struct pinmm_vma_info *out,
			       int max);

/*
 * struct pinmm_cache_page_info - one page offset of a file's page cache.
 * @cached: a folio is in the cache at this offset; nothing else is set
 *	when it is false.
 * @uptodate, @dirty, @writeback: the folio's PG_uptodate, PG_dirty,
 *	PG_writeback.
 * @nodisk: dirty data that a writeback pass could not write (the legacy
 *	pin policy skips a pinned page without a block; doc/PIN-POLICIES.md).
 * @maybe_dma_pinned: folio_maybe_dma_pinned().
 * @pfn, @refcount, @pincount, @mapcount, @folio_order: as in
 *	struct pinmm_page_info (@refcount without the lookup's own reference).
 * @folio_index: the first offset of the folio (a large folio spans
 *	1 << @folio_order offsets).
 */
struct pinmm_cache_page_info {
	bool cached, uptodate, dirty, writeback, nodisk, maybe_dma_pinned;
	unsigned long pfn;
	int refcount, pincount, mapcount, folio_order;
	unsigned long folio_index;
};

/**
 * pinmm_debug_cache_page() - the page cache of @fd's file at offset @index.
 * @p: the process that owns @fd.
 * @fd: an open file descriptor of @p.
 * @index: a page offset into the file.
 * @out: filled on success (@out->cached false when nothing is cached).
 *
 * Context: any thread; takes the file table lock and i_pages_lock.
 * Return: 0, -EBADF (@fd not open), -EINVAL (NULL arguments), -ESRCH.
 */
PINMM_API int pinmm_debug_cache_page(struct pinmm_proc *p, int fd, unsigned long index,
				     struct pinmm_cache_page_info *out);

/*
 * struct pinmm_page_owner_info - what owns a page a caller holds a
 * reference or a pin on (a page from pin_user_pages() or get_page()).
 * @anon: an anonymous page.
 * @zero_page: the shared zero page.
 * @in_page_cache: a file page still in its file's page cache.
 * @orphaned: a file page that left its file's cache (truncate, hole
 *	punch, invalidation) while the caller's reference kept it alive: the
 *	"orphaned pinned page" of doc/GUP-SEMANTICS.md.
 * @ino: with @in_page_cache, the file's inode number.
 * @index: with @in_page_cache, the page's offset in the file.
 */
struct pinmm_page_owner_info {
	bool anon, zero_page, in_page_cache, orphaned;
	unsigned long ino;
	unsigned long index;
};

/**
 * pinmm_debug_page_owner() - where a page the caller holds belongs.
 * @page: a page on which the caller holds a reference or a pin.
 * @out: filled on success.
 *
 * Context: any thread; takes no lock (the caller's reference keeps the
 * folio; its mapping may change right after the call).
 * Return: 0, or -EINVAL for NULL arguments.
 */
PINMM_API int pinmm_debug_page_owner(struct page *page, struct pinmm_page_owner_info *out);

#ifdef __cplusplus
}
#endif
#endif /* PINMM_DEBUG_H */
