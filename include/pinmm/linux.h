/* SPDX-License-Identifier: MIT */
/*
 * <pinmm/linux.h> - the kernel-facing API with Linux's names
 * (doc/API.md §2).
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
struct file;

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

/**
 * pinmm_proc_mm() - the address space of a simulated process.
 * @p: the process.
 *
 * The mm_struct to pass to the *_remote() GUP forms, mmap_read_lock() and
 * the MMU-notifier and HMM calls.  No reference is taken: the mm is valid
 * while @p has not exited; a caller that may race with the exit of @p
 * (remote pinning from another thread) takes pinmm_mmget() instead.
 *
 * Context: any thread.
 * Return: the mm, or NULL when @p is NULL or has no mm any more.
 */
PINMM_API struct mm_struct *pinmm_proc_mm(struct pinmm_proc *p);
/**
 * pinmm_mmget() - an mm_users reference on the address space of @p, as
 * Linux's get_task_mm(): what a remote user (a driver pinning another
 * process's memory) holds across mmap_read_lock() and
 * pin_user_pages_remote().
 * @p: the process; the caller holds its handle or a pinmm_proc_get()
 *	reference.
 * @mmp: receives the mm.
 *
 * The address space stays mapped while the reference is held, also after
 * @p exits or is freed; the last pinmm_mmput() then tears it down.
 *
 * Context: any thread.
 * Return: 0, -EINVAL (NULL argument), -ESRCH when @p has exited.
 */
PINMM_API int pinmm_mmget(struct pinmm_proc *p, struct mm_struct **mmp);
/**
 * pinmm_mmput() - drop a reference from pinmm_mmget() (Linux's mmput()).
 * @mm: the mm, or NULL.
 *
 * Context: any thread; must not hold mmap_read_lock(@mm): the last user's
 *	put tears the address space down.
 */
PINMM_API void pinmm_mmput(struct mm_struct *mm);

/**
 * get_user_pages() - take a reference (FOLL_GET) on the pages of current's mm.
 * @start: first user address (page aligned by the callee).
 * @nr_pages: how many pages from @start.
 * @gup_flags: FOLL_* caller flags (FOLL_WRITE, FOLL_FORCE, FOLL_LONGTERM, ...);
 *	internal flags such as FOLL_PIN are refused.
 * @pages: array of at least @nr_pages entries, or NULL to only fault in.
 *
 * Faults the pages in as the CPU would (write faults break COW with
 * FOLL_WRITE, unshare is not done for FOLL_GET) and takes one ordinary page
 * reference on each, released with put_page().  With FOLL_NOWAIT a page that
 * would need I/O is not waited for and the call stops there.
 *
 * Context: a thread with pinmm_set_current() set, holding
 *	mmap_read_lock(current's mm); the lock is still held on return.
 * Return: the number of pages taken (which may be fewer than @nr_pages, or 0
 *	with FOLL_NOWAIT), -EINVAL for bad flags or arguments, -EFAULT when no
 *	page could be taken from an unmapped or inaccessible address (or no
 *	current process), -ENOMEM, -EHWPOISON (FOLL_HWPOISON).
 */
PINMM_API long pinmm_get_user_pages(unsigned long start, unsigned long nr_pages,
				    unsigned int gup_flags, struct page **pages);
/**
 * get_user_pages_remote() - get_user_pages() on another process's mm.
 * @mm: the target address space (pinmm_proc_mm()); the caller keeps it alive.
 * @start: first user address.
 * @nr_pages: how many pages.
 * @gup_flags: FOLL_* caller flags; FOLL_REMOTE is implied.
 * @pages: array of @nr_pages entries, or NULL.
 * @locked: NULL, or an int that is 1 on entry.  When a fault must wait for
 *	I/O or a locked folio, GUP drops mmap_lock, waits, retakes it and
 *	retries; if it returns with the lock released it sets *@locked to 0.
 *
 * Context: any thread, holding mmap_read_lock(@mm).  On return the lock is
 *	held unless *@locked was set to 0.
 * Return: pages taken, or -EINVAL, -EFAULT, -ENOMEM, -EHWPOISON as
 *	get_user_pages().
 */
PINMM_API long pinmm_get_user_pages_remote(struct mm_struct *mm, unsigned long start,
					   unsigned long nr_pages, unsigned int gup_flags,
					   struct page **pages, int *locked);
/**
 * get_user_pages_unlocked() - get_user_pages() that takes mmap_lock itself.
 * @start: first user address.
 * @nr_pages: how many pages.
 * @pages: array of @nr_pages entries (required).
 * @gup_flags: FOLL_* caller flags.
 *
 * Takes current's mmap_read_lock(), may drop and retake it around I/O, and
 * releases it before returning.
 *
 * Context: a thread with a current process, NOT holding its mmap_lock.
 * Return: pages taken, or -EINVAL, -EFAULT, -ENOMEM as get_user_pages().
 */
PINMM_API long pinmm_get_user_pages_unlocked(unsigned long start, unsigned long nr_pages,
					     struct page **pages, unsigned int gup_flags);
/**
 * get_user_pages_fast() - FOLL_GET references, lockless walk first.
 * @start: first user address.
 * @nr_pages: how many pages.
 * @gup_flags: FOLL_WRITE, FOLL_LONGTERM and the other flags GUP-fast allows.
 * @pages: array of @nr_pages entries.
 *
 * Walks current's page tables under RCU without mmap_lock (GUP-fast); the
 * pages it cannot take that way are taken by the slow path with mmap_lock.
 *
 * Context: a thread with a current process, NOT holding its mmap_lock.
 * Return: pages taken (fewer than @nr_pages only when the slow path stopped
 *	early), or -EINVAL for flags GUP-fast does not allow, -EOVERFLOW for a
 *	negative @nr_pages or a range that wraps, -EFAULT (beyond the user
 *	address space, or nothing mapped), -ENOMEM.
 */
PINMM_API int pinmm_get_user_pages_fast(unsigned long start, int nr_pages,
					unsigned int gup_flags, struct page **pages);
/**
 * get_user_pages_fast_only() - the lockless walk alone, never faulting.
 * @start: first user address.
 * @nr_pages: how many pages.
 * @gup_flags: FOLL_WRITE and the flags GUP-fast allows.
 * @pages: array of @nr_pages entries.
 *
 * Context: any thread with a current process; never sleeps, takes no lock.
 * Return: the number of leading pages taken (0 when the first page is not
 *	present or needs a fault; an unmapped address is not an error), or
 *	-EINVAL for bad flags, -EOVERFLOW for a negative @nr_pages.
 */
PINMM_API int pinmm_get_user_pages_fast_only(unsigned long start, int nr_pages,
					     unsigned int gup_flags, struct page **pages);
/**
 * pin_user_pages() - pin (FOLL_PIN) the pages of current's mm for DMA.
 * @start: first user address.
 * @nr_pages: how many pages.
 * @gup_flags: FOLL_WRITE, FOLL_LONGTERM, FOLL_FORCE, ...; FOLL_GET is refused.
 * @pages: array of @nr_pages entries (required).
 *
 * Each page gains GUP_PIN_COUNTING_BIAS references (or one reference and one
 * _pincount for a large folio), so folio_maybe_dma_pinned() sees it; a
 * read-only pin of a shared anonymous page unshares it first.  FOLL_LONGTERM
 * migrates pages out of ZONE_MOVABLE/CMA first and refuses (-EFAULT) a
 * writable pin of a file that needs dirty tracking under the linux policy.
 * Release with unpin_user_page*().
 *
 * Context: a thread with a current process, holding mmap_read_lock(); still
 *	held on return.
 * Return: pages pinned, or -EINVAL, -EFAULT, -ENOMEM (including pin count
 *	overflow and failed long-term migration), -EOPNOTSUPP (FOLL_LONGTERM
 *	on fsdax without a lease-aware policy).
 */
PINMM_API long pinmm_pin_user_pages(unsigned long start, unsigned long nr_pages,
				    unsigned int gup_flags, struct page **pages);
/**
 * pin_user_pages_remote() - pin_user_pages() on another process's mm.
 * @mm: the target address space; the caller keeps it alive.
 * @start: first user address.
 * @nr_pages: how many pages.
 * @gup_flags: FOLL_* caller flags.
 * @pages: array of @nr_pages entries (required).
 * @locked: NULL, or 1 on entry; set to 0 when GUP returns with mmap_lock
 *	dropped (it drops the lock to wait for I/O, as Linux does).
 *
 * Context: any thread holding mmap_read_lock(@mm); held on return unless
 *	*@locked became 0.
 * Return: pages pinned, or the errors of pin_user_pages().
 */
PINMM_API long pinmm_pin_user_pages_remote(struct mm_struct *mm, unsigned long start,
					   unsigned long nr_pages, unsigned int gup_flags,
					   struct page **pages, int *locked);
/**
 * pin_user_pages_unlocked() - pin_user_pages() that takes mmap_lock itself.
 * @start: first user address.
 * @nr_pages: how many pages.
 * @pages: array of @nr_pages entries.
 * @gup_flags: FOLL_* caller flags.
 *
 * Context: a thread with a current process, NOT holding its mmap_lock.
 * Return: pages pinned, or the errors of pin_user_pages().
 */
PINMM_API long pinmm_pin_user_pages_unlocked(unsigned long start, unsigned long nr_pages,
					     struct page **pages, unsigned int gup_flags);
/**
 * pin_user_pages_fast() - FOLL_PIN with the lockless walk first.
 * @start: first user address.
 * @nr_pages: how many pages.
 * @gup_flags: FOLL_WRITE, FOLL_LONGTERM, ...
 * @pages: array of @nr_pages entries.
 *
 * GUP-fast pins what it can under RCU (rechecking each PTE after taking the
 * speculative reference) and leaves the rest to the slow path; FOLL_LONGTERM
 * pages that may not be long-term pinned in place make it fall back.
 *
 * Context: a thread with a current process, NOT holding its mmap_lock.
 * Return: pages pinned, or the errors of pin_user_pages().
 */
PINMM_API int pinmm_pin_user_pages_fast(unsigned long start, int nr_pages,
					unsigned int gup_flags, struct page **pages);

/**
 * unpin_user_page() - release one pin taken by a pin_user_pages*() call.
 * @page: a page returned by a FOLL_PIN call.
 *
 * Unpinning a page that holds no pin WARNs once and is counted in vmstat's
 * unpin_not_pinned; the refcount is not touched then.
 *
 * Context: any thread; does not sleep.
 */
PINMM_API void pinmm_unpin_user_page(struct page *page);
/**
 * unpin_user_pages() - unpin_user_page() for each of @npages pages.
 * @pages: pages returned by FOLL_PIN calls (runs of one folio are batched).
 * @npages: how many.
 *
 * Context: any thread; does not sleep.
 */
PINMM_API void pinmm_unpin_user_pages(struct page **pages, unsigned long npages);
/**
 * unpin_user_pages_dirty_lock() - mark dirty (optionally), then unpin.
 * @pages: pinned pages.
 * @npages: how many.
 * @make_dirty: set_page_dirty_lock() each page first (DMA wrote to it).
 *
 * Context: a thread that may sleep (the folio lock is taken to dirty).
 */
PINMM_API void pinmm_unpin_user_pages_dirty_lock(struct page **pages, unsigned long npages,
						 bool make_dirty);
/**
 * unpin_user_page_range_dirty_lock() - unpin a physically contiguous run.
 * @page: first page of the run (all pinned).
 * @npages: pages in the run, which may cross folios.
 * @make_dirty: dirty each folio first.
 *
 * Context: a thread that may sleep.
 */
PINMM_API void pinmm_unpin_user_page_range_dirty_lock(struct page *page,
						      unsigned long npages, bool make_dirty);
/**
 * unpin_folio() - release one pin of a folio (unpin_user_page() by folio).
 * @folio: a pinned folio.
 *
 * Context: any thread; does not sleep.
 */
PINMM_API void pinmm_unpin_folio(struct folio *folio);
/**
 * unpin_folios() - unpin_folio() for each of @nfolios folios.
 * @folios: pinned folios.
 * @nfolios: how many.
 *
 * Context: any thread; does not sleep.
 */
PINMM_API void pinmm_unpin_folios(struct folio **folios, unsigned long nfolios);
/**
 * put_page() - drop a reference taken by get_page() or a FOLL_GET call.
 * @page: the page; its folio is freed when the last reference goes.
 *
 * Context: any thread.
 */
PINMM_API void pinmm_put_page(struct page *page);
/**
 * get_page() - take one more ordinary reference on a page already held.
 * @page: a page the caller holds a reference on.
 *
 * Context: any thread.
 */
PINMM_API void pinmm_get_page(struct page *page);
/**
 * pinmm_find_get_page() - a reference on the cached page of a file offset,
 * as Linux's find_get_page() (splice and other in-kernel readers).
 * @p: the process.
 * @fd: the descriptor.
 * @index: page offset in the file.
 * @pagep: set to the page on success; drop it with put_page().
 *
 * The lookup is the page cache's lockless one (doc/MEMORY-ORDERING.md
 * (r)); nothing is read in and nothing is locked: the page may be
 * truncated or migrated away after the call, as in Linux.
 *
 * Context: any thread.
 * Return: 0; -ENOENT (not cached), -EINVAL (NULL @p or @pagep), -ESRCH,
 * -EBADF.
 */
PINMM_API int pinmm_find_get_page(struct pinmm_proc *p, int fd, unsigned long index,
				  struct page **pagep);

/**
 * page_folio() - the folio a page belongs to.
 * @page: the page.
 *
 * Context: any thread; the caller holds a reference.
 * Return: the folio (the page itself for an order-0 page).
 */
PINMM_API struct folio *pinmm_page_folio(struct page *page);
/**
 * page_to_pfn() - the simulated physical frame number of a page.
 * @page: the page.
 *
 * Context: any thread.
 * Return: the PFN (0 is a valid frame).
 */
PINMM_API unsigned long pinmm_page_to_pfn(struct page *page);
/**
 * folio_maybe_dma_pinned() - Linux's "may this folio be pinned?" test.
 * @folio: the folio.
 *
 * For an order-0 folio: refcount >= GUP_PIN_COUNTING_BIAS under the bias
 * tracking (false positives with 1024+ ordinary references); the exact or
 * mapcount answers under the pin.tracking alternatives.  For a large folio:
 * its _pincount.
 *
 * Context: any thread; a racy snapshot unless the caller excludes new pins.
 * Return: true when the folio may be pinned.
 */
PINMM_API bool pinmm_folio_maybe_dma_pinned(struct folio *folio);
/**
 * folio_ref_count() - the folio's reference count.
 * @folio: the folio.
 *
 * Context: any thread; a snapshot.
 * Return: the count (a pin counts GUP_PIN_COUNTING_BIAS on order 0).
 */
PINMM_API int pinmm_folio_ref_count(struct folio *folio);
/**
 * kmap_local_page() - the 4096 bytes of a page, for the caller to read or
 * write as a device doing DMA would.
 * @page: a page the caller holds (pinned or referenced).
 *
 * The pinned-page policies cannot see writes made this way; device writes
 * that must be fenced by a lease go through pinmm_dma_write() instead.
 *
 * Context: any thread.
 * Return: the page's contents; release with kunmap_local().
 */
PINMM_API void *pinmm_kmap_local_page(struct page *page);
/**
 * kunmap_local() - end a kmap_local_page() mapping.
 * @addr: what kmap_local_page() returned.
 *
 * Context: the thread that mapped it.
 */
PINMM_API void pinmm_kunmap_local(void *addr);
/**
 * set_page_dirty_lock() - mark a page's folio dirty under the folio lock.
 * @page: a page the caller holds.
 *
 * For a file page, the filesystem's dirty_folio runs (this is where a page
 * whose blocks were released by writeback becomes "dirty without blocks").
 *
 * Context: a thread that may sleep.
 * Return: true when the folio was newly dirtied.
 */
PINMM_API bool pinmm_set_page_dirty_lock(struct page *page);

/**
 * mmap_read_lock() - take an mm's mmap_lock for reading.
 * @mm: the address space.
 *
 * Context: a thread that may sleep and does not hold @mm's mmap_lock.
 */
PINMM_API void pinmm_mmap_read_lock(struct mm_struct *mm);
/**
 * mmap_read_unlock() - release a read hold of @mm's mmap_lock.
 * @mm: the address space.
 *
 * Context: the thread that holds it for reading.
 */
PINMM_API void pinmm_mmap_read_unlock(struct mm_struct *mm);

/*
 * struct vaddr_pin - who owns a set of long-term pins (the Aug 2019 RFC's
 * vaddr_pin, never merged in Linux; doc/PIN-POLICIES.md "file_pin").
 * @f_owner: the file the pins belong to (an RDMA protection domain's, or
 *	any file of the pinning process); vaddr_pin_pages() keeps a reference
 *	on it until vaddr_unpin_pages(), so closing its descriptor does not
 *	end the pins.
 * @mm: the address space pinned; NULL in vaddr_pin_pages() means the
 *	current process's.
 */
struct vaddr_pin {
	struct file *f_owner;
	struct mm_struct *mm;
};

/**
 * pinmm_fget() - a reference on the file behind descriptor @fd of @p.
 * @p: the process.
 * @fd: the descriptor.
 *
 * Context: any thread.
 * Return: the file (drop it with fput()), or NULL (bad descriptor, NULL
 * @p, exited process).
 */
PINMM_API struct file *pinmm_fget(struct pinmm_proc *p, int fd);
/**
 * fput() - drop a file reference; the last one releases the file (an RDMA
 * protection domain deregisters its regions then, as uverbs does at the
 * last fput()).
 * @file: the file, or NULL (nothing happens).
 *
 * Context: any thread; may sleep.
 */
PINMM_API void fput(struct file *file);
/**
 * vaddr_pin_pages() - FOLL_PIN | FOLL_LONGTERM pin of @nr_pages pages at
 * @addr of the current process, owned by @vaddr_pin->f_owner.
 * @addr: first user address, page aligned.
 * @nr_pages: how many pages, > 0.
 * @gup_flags: FOLL_WRITE and other caller flags; FOLL_LONGTERM is implied.
 * @pages: receives the pages.
 * @vaddr_pin: the owner; @vaddr_pin->mm is NULL or the current mm.
 *
 * Every file-backed VMA of the range whose filesystem breaks layouts
 * (pinfs, /data/ and /dax/) needs a layout lease (pinmm_lease_get()) on
 * that file held by the process of the pinned mm and still active; a
 * writable pin needs a lease taken through a writable descriptor.  The
 * pins become a file_pin record of the lease's file (listed by
 * pinmm_file_pins()); anonymous and shmem pages need no lease.  All or
 * nothing: a short pin is released and fails.
 *
 * Context: a thread with a current process, not holding its mmap_lock.
 * Return: @nr_pages; -EPERM (no such lease: none, one on another file,
 * one of another process, a broken or revoked one, a read-only lease for
 * a writable pin, or any lease outside fs.pinned_policy=lease), -EINVAL
 * (NULL or unaligned argument, @f_owner NULL, @mm not the current mm, a
 * range over two leased files), -EAGAIN (the lease broke meanwhile),
 * -ENOMEM, or pin_user_pages()' errors (-EFAULT...).
 */
PINMM_API long pinmm_vaddr_pin_pages(unsigned long addr, unsigned long nr_pages,
				     unsigned int gup_flags, struct page **pages,
				     struct vaddr_pin *vaddr_pin);
/**
 * vaddr_pin_pages_remote() - vaddr_pin_pages() on @mm, another process's
 * address space.
 * @mm: the address space; its process must hold the lease.
 * @addr: first user address, page aligned.
 * @nr_pages: how many pages, > 0.
 * @gup_flags: caller flags; FOLL_LONGTERM is implied.
 * @pages: receives the pages.
 * @locked: as pin_user_pages_remote(); NULL, or 1 on entry.
 * @vaddr_pin: the owner; @vaddr_pin->mm is NULL or @mm.
 *
 * Context: any thread holding mmap_read_lock(@mm); held on return unless
 *	*@locked became 0.
 * Return: as vaddr_pin_pages().
 */
PINMM_API long pinmm_vaddr_pin_pages_remote(struct mm_struct *mm, unsigned long addr,
					    unsigned long nr_pages, unsigned int gup_flags,
					    struct page **pages, int *locked,
					    struct vaddr_pin *vaddr_pin);
/**
 * vaddr_unpin_pages() - release pins taken by vaddr_pin_pages() calls.
 * @pages: pages those calls filled in: all of one call's array, or any
 *	subset of the pages of one or more calls of this owner.
 * @nr_pages: how many.
 * @vaddr_pin: the owner given to those calls (@vaddr_pin->mm NULL: any mm
 *	of that owner).
 * @make_dirty: dirty the pages first; ignored for a file_pin whose lease
 *	was revoked (nobody owns its contents any more).
 *
 * A record all of whose pages go is freed and drops its reference on
 * @vaddr_pin->f_owner; a record that keeps some pages is cut to the runs
 * it keeps (head or tail: shrunk; middle: split in two records), as
 * pinmm_file_pins() then lists.  If one of @pages is not held by a record
 * of this owner and mm, nothing is unpinned and the call is counted as
 * file_pin_unknown_unpins (vmstat): unpinning pins one does not own would
 * corrupt someone else's.  Out of memory to split a record: that record's
 * pins stay (listed, released by a later call).
 *
 * Context: any thread; may sleep (waits for a revocation notice running on
 *	this record to return).
 */
PINMM_API void pinmm_vaddr_unpin_pages(struct page **pages, unsigned long nr_pages,
				       struct vaddr_pin *vaddr_pin, bool make_dirty);

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
#define vaddr_pin_pages			pinmm_vaddr_pin_pages
#define vaddr_pin_pages_remote		pinmm_vaddr_pin_pages_remote
#define vaddr_unpin_pages		pinmm_vaddr_unpin_pages

#ifdef __cplusplus
}
#endif
#endif /* PINMM_LINUX_H */
