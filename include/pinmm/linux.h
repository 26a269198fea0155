/* SPDX-License-Identifier: MIT */
/*
 * <pinmm/linux.h> - the kernel-facing API with Linux's names
 * (../shared/spec/api.md §2).
 *
 * Driver-style code (a DIO path, an RDMA registration, an ODP mirror)
 * includes this header and reads like kernel code.  Each Linux name is a
 * macro over an exported pinmm_-prefixed symbol, so the names never collide
 * with a host program's own symbols unless that program includes this header.
 * Functions that Linux runs on current->mm act on the process set with
 * pinmm_set_current() on the calling thread.
 */
#ifndef PINMM_LINUX_H
#define PINMM_LINUX_H

#include <pinmm/pinmm.h>

#ifdef __cplusplus
extern "C" {
#endif

struct page;
struct folio;
struct mm_struct;

/* Caller-visible FOLL_* flags (values as in include/linux/mm_types.h). */
enum {
	FOLL_WRITE = 1 << 0,
	FOLL_GET = 1 << 1,
	FOLL_DUMP = 1 << 2,
	FOLL_FORCE = 1 << 3,
	FOLL_NOWAIT = 1 << 4,
	FOLL_NOFAULT = 1 << 5,
	FOLL_HWPOISON = 1 << 6,
	FOLL_ANON = 1 << 7,
	FOLL_LONGTERM = 1 << 8,
	FOLL_SPLIT_PMD = 1 << 9,
	FOLL_PCI_P2PDMA = 1 << 10,
	FOLL_INTERRUPTIBLE = 1 << 11,
	FOLL_HONOR_NUMA_FAULT = 1 << 12,
};
/* Internal FOLL_* flags (mm/internal.h values).  Callers must not pass them. */
enum {
	FOLL_TOUCH = 1 << 16,
	FOLL_TRIED = 1 << 17,
	FOLL_REMOTE = 1 << 18,
	FOLL_PIN = 1 << 19,
	FOLL_FAST_ONLY = 1 << 20,
	FOLL_UNLOCKABLE = 1 << 21,
	FOLL_MADV_POPULATE = 1 << 22,
};
#define INTERNAL_GUP_FLAGS (FOLL_TOUCH | FOLL_TRIED | FOLL_REMOTE | FOLL_PIN | \
			    FOLL_FAST_ONLY | FOLL_UNLOCKABLE | FOLL_MADV_POPULATE)

#define GUP_PIN_COUNTING_BIAS (1U << 10)
#ifndef PAGE_SHIFT
#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#endif

PINMM_API struct mm_struct *pinmm_proc_mm(struct pinmm_proc *p);

PINMM_API long pinmm_get_user_pages(unsigned long start, unsigned long nr_pages,
				    unsigned int gup_flags, struct page **pages);
PINMM_API long pinmm_get_user_pages_remote(struct mm_struct *mm, unsigned long start,
					   unsigned long nr_pages, unsigned int gup_flags,
					   struct page **pages, int *locked);
PINMM_API long pinmm_get_user_pages_unlocked(unsigned long start, unsigned long nr_pages,
					     struct page **pages, unsigned int gup_flags);
PINMM_API int pinmm_get_user_pages_fast(unsigned long start, int nr_pages,
					unsigned int gup_flags, struct page **pages);
PINMM_API int pinmm_get_user_pages_fast_only(unsigned long start, int nr_pages,
					     unsigned int gup_flags, struct page **pages);
PINMM_API long pinmm_pin_user_pages(unsigned long start, unsigned long nr_pages,
				    unsigned int gup_flags, struct page **pages);
PINMM_API long pinmm_pin_user_pages_remote(struct mm_struct *mm, unsigned long start,
					   unsigned long nr_pages, unsigned int gup_flags,
					   struct page **pages, int *locked);
PINMM_API long pinmm_pin_user_pages_unlocked(unsigned long start, unsigned long nr_pages,
					     struct page **pages, unsigned int gup_flags);
PINMM_API int pinmm_pin_user_pages_fast(unsigned long start, int nr_pages,
					unsigned int gup_flags, struct page **pages);

PINMM_API void pinmm_unpin_user_page(struct page *page);
PINMM_API void pinmm_unpin_user_pages(struct page **pages, unsigned long npages);
PINMM_API void pinmm_unpin_user_pages_dirty_lock(struct page **pages, unsigned long npages,
						 bool make_dirty);
PINMM_API void pinmm_unpin_user_page_range_dirty_lock(struct page *page,
						      unsigned long npages, bool make_dirty);
PINMM_API void pinmm_unpin_folio(struct folio *folio);
PINMM_API void pinmm_unpin_folios(struct folio **folios, unsigned long nfolios);
PINMM_API void pinmm_put_page(struct page *page);
PINMM_API void pinmm_get_page(struct page *page);

PINMM_API struct folio *pinmm_page_folio(struct page *page);
PINMM_API unsigned long pinmm_page_to_pfn(struct page *page);
PINMM_API bool pinmm_folio_maybe_dma_pinned(struct folio *folio);
PINMM_API int pinmm_folio_ref_count(struct folio *folio);
PINMM_API void *pinmm_kmap_local_page(struct page *page);
PINMM_API void pinmm_kunmap_local(void *addr);
PINMM_API bool pinmm_set_page_dirty_lock(struct page *page);

PINMM_API void pinmm_mmap_read_lock(struct mm_struct *mm);
PINMM_API void pinmm_mmap_read_unlock(struct mm_struct *mm);

#define get_user_pages			pinmm_get_user_pages
#define get_user_pages_remote		pinmm_get_user_pages_remote
#define get_user_pages_unlocked		pinmm_get_user_pages_unlocked
#define get_user_pages_fast		pinmm_get_user_pages_fast
#define get_user_pages_fast_only	pinmm_get_user_pages_fast_only
#define pin_user_pages			pinmm_pin_user_pages
#define pin_user_pages_remote		pinmm_pin_user_pages_remote
#define pin_user_pages_unlocked		pinmm_pin_user_pages_unlocked
#define pin_user_pages_fast		pinmm_pin_user_pages_fast
#define unpin_user_page			pinmm_unpin_user_page
#define unpin_user_pages		pinmm_unpin_user_pages
#define unpin_user_pages_dirty_lock	pinmm_unpin_user_pages_dirty_lock
#define unpin_user_page_range_dirty_lock pinmm_unpin_user_page_range_dirty_lock
#define unpin_folio			pinmm_unpin_folio
#define unpin_folios			pinmm_unpin_folios
#define put_page			pinmm_put_page
#define get_page			pinmm_get_page
#define page_folio			pinmm_page_folio
#define page_to_pfn			pinmm_page_to_pfn
#define folio_maybe_dma_pinned		pinmm_folio_maybe_dma_pinned
#define folio_ref_count			pinmm_folio_ref_count
#define kmap_local_page			pinmm_kmap_local_page
#define kunmap_local			pinmm_kunmap_local
#define set_page_dirty_lock		pinmm_set_page_dirty_lock
#define mmap_read_lock			pinmm_mmap_read_lock
#define mmap_read_unlock		pinmm_mmap_read_unlock

#ifdef __cplusplus
}
#endif
#endif /* PINMM_LINUX_H */
