/* SPDX-License-Identifier: MIT */
/*
 * <pinmm/io_uring.h> - io_uring-style fixed buffers: the long-term pin user
 * of Linux's io_uring/rsrc.c.
 *
 * A ring is a descriptor in the process's file table (io_uring_setup()
 * returns one too): it is shared with children at fork and released with
 * its last close, which unregisters its buffers; a process's exit closes
 * its descriptors.  Registering buffers pins every page of every buffer with
 * pin_user_pages(FOLL_WRITE | FOLL_LONGTERM) under mmap_read_lock of the
 * registering process and charges the pages to that process's
 * mm->pinned_vm against its RLIMIT_MEMLOCK.  READ_FIXED / WRITE_FIXED move
 * data between a file and the pinned pages directly through
 * kmap_local_page(), as a device's DMA would: the process's page tables are
 * not consulted, so the buffers keep working after munmap() of the range.
 *
 * All functions return >= 0 on success and a negative errno on failure.
 */
#ifndef PINMM_IO_URING_H
#define PINMM_IO_URING_H

#include <sys/uio.h>
#include <pinmm/pinmm.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IORING_MAX_ENTRIES	32768
#define IORING_MAX_REG_BUFFERS	(1U << 14)
#define IORING_MAX_BUFFER_SIZE	(1UL << 30)	/* SZ_1G: larger is -EFAULT */

/**
 * pinmm_uring_create() - io_uring_setup(): a new ring in @p's file table.
 * @p: the process.
 * @entries: submission queue size, 1..IORING_MAX_ENTRIES.
 *
 * Context: any thread.
 * Return: the ring descriptor; -EINVAL (NULL @p, bad @entries), -ESRCH,
 * -EMFILE, -ENOMEM.
 */
PINMM_API int pinmm_uring_create(struct pinmm_proc *p, unsigned int entries);

/**
 * pinmm_uring_register_buffers() - IORING_REGISTER_BUFFERS.
 * @p: the calling process (its memory is pinned and charged).
 * @ring: the ring descriptor.
 * @iov: @nr buffers in @p's address space.  A NULL base with length 0 is
 *	an empty (sparse) slot.
 * @nr: 1..IORING_MAX_REG_BUFFERS.
 *
 * All or nothing: on error every buffer of this call is released again.
 *
 * Context: any thread; takes @p's mmap_lock for reading.
 * Return: 0; -EBADF (not a ring), -EBUSY (buffers already registered),
 * -EINVAL (@nr), -EFAULT (NULL @iov, NULL base with a length, length 0 or
 * over 1 GiB, a page that cannot be pinned: unmapped, PROT_NONE, or a
 * writable shared mapping of a regular filesystem), -EOVERFLOW (range wraps),
 * -ENOMEM (RLIMIT_MEMLOCK exceeded, out of memory), -ESRCH, -EOPNOTSUPP
 * (a /dax/ mapping, outside fs.pinned_policy=lease), -EPERM (lease policy:
 * a pinfs mapping whose long-term pin needs a layout lease; a registration
 * cannot carry one).
 */
PINMM_API int pinmm_uring_register_buffers(struct pinmm_proc *p, int ring,
					   const struct iovec *iov, unsigned int nr);

/**
 * pinmm_uring_unregister_buffers() - IORING_UNREGISTER_BUFFERS: unpin (dirty
 * for pages a fixed read wrote into) and uncharge every buffer.
 * Context: any thread.
 * Return: 0; -EBADF, -ENXIO (nothing registered), -ESRCH.
 */
PINMM_API int pinmm_uring_unregister_buffers(struct pinmm_proc *p, int ring);

/**
 * pinmm_uring_read_fixed() - IORING_OP_READ_FIXED: read @len bytes of file
 * @fd at @off into registered buffer @buf_index at address @addr.
 * @addr, @len must lie inside the registered buffer.
 *
 * Context: any thread.
 * Return: bytes read (short at EOF); -EBADF (@ring or @fd, or @fd not open
 * for reading), -EFAULT (@buf_index out of range or empty, range outside
 * the buffer), -EINVAL (negative @off, file cannot be read), -ESRCH, or the
 * file's error.
 */
PINMM_API long pinmm_uring_read_fixed(struct pinmm_proc *p, int ring, int fd,
				      unsigned int buf_index, unsigned long addr,
				      size_t len, long off);

/**
 * pinmm_uring_write_fixed() - IORING_OP_WRITE_FIXED: write @len bytes from
 * registered buffer @buf_index at @addr to file @fd at @off.
 * Context: any thread.
 * Return: bytes written; errors as pinmm_uring_read_fixed() (-EBADF when
 * @fd is not open for writing).
 */
PINMM_API long pinmm_uring_write_fixed(struct pinmm_proc *p, int ring, int fd,
				       unsigned int buf_index, unsigned long addr,
				       size_t len, long off);

/**
 * pinmm_uring_nr_buffers() - number of registered buffer slots of @ring.
 * Context: any thread.
 * Return: the number (0 when none); -EBADF, -ESRCH.
 */
PINMM_API int pinmm_uring_nr_buffers(struct pinmm_proc *p, int ring);

/**
 * pinmm_uring_destroy() - close the ring descriptor (io_uring_queue_exit());
 * the ring and its buffers go with the last reference (a forked child may
 * still hold one).
 * Context: any thread.
 * Return: 0; -EBADF (not a ring), -ESRCH.
 */
PINMM_API int pinmm_uring_destroy(struct pinmm_proc *p, int ring);

/**
 * pinmm_uring_exit_proc() - process exit: close every ring descriptor of
 * @p.  Exit closes all descriptors anyway (files_close_all()), so calling
 * this first only makes the order explicit; it is safe to call at any time
 * and more than once.
 * Context: exit path of @p; no other thread uses @p's file table.
 */
PINMM_API void pinmm_uring_exit_proc(struct pinmm_proc *p);

#ifdef __cplusplus
}
#endif
#endif /* PINMM_IO_URING_H */
