/* SPDX-License-Identifier: MIT */
/*
 * <pinmm/dio.h> - asynchronous O_DIRECT on pinfs files (/data/), as Linux
 * does it: the user buffer (process memory) is pinned with
 * pin_user_pages_fast() - FOLL_WRITE when reading from the file into
 * memory - and a machine I/O thread moves the data directly between the
 * pinned pages and the image blocks, after cfg.dio_latency_us (config key
 * dio.latency_us) of device time, so that requests overlap writeback,
 * reclaim and truncate.  pinmm_dio_wait() releases the pins with
 * unpin_user_pages_dirty_lock(make_dirty = it was a read): the seeds'
 * case 1 of pin_user_pages.rst.
 *
 * As Linux's DIO: dirty cached pages of the file range are written back
 * before the transfer, and cached pages of the range are invalidated after
 * a write; a read stops at EOF, a write extends the file.  Synchronous
 * pinmm_pread()/pinmm_pwrite() on an O_DIRECT descriptor take host
 * buffers, so they do the same uncached block I/O without pinning
 * (offset and length must be multiples of 4096).
 */
#ifndef PINMM_DIO_H
#define PINMM_DIO_H

#include <pinmm/pinmm.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PINMM_DIO_READ	0	/* file -> memory (pins with FOLL_WRITE) */
#define PINMM_DIO_WRITE	1	/* memory -> file */

struct pinmm_dio;

/**
 * pinmm_dio_submit() - start an O_DIRECT transfer.
 * @p: the process whose memory @uaddr is.
 * @fd: a pinfs file opened with O_DIRECT (readable for READ, writable
 *	for WRITE).
 * @rw: PINMM_DIO_READ or PINMM_DIO_WRITE.
 * @uaddr: the user buffer, 4096-aligned.
 * @len: bytes, a non-zero multiple of 4096, at most 1 GiB.
 * @off: file offset, a multiple of 4096.
 * @out: the request; pass it to pinmm_dio_wait() exactly once.
 *
 * Context: any thread; does not wait for the transfer (it may wait for
 *	writeback of dirty cached pages of the range, as Linux's DIO does).
 * Return: 0; -EINVAL (alignment, @rw, not O_DIRECT, not pinfs, NULL),
 * -EBADF, -ESRCH, -EFAULT (the buffer cannot be pinned: nothing is left
 * pinned), -ENOMEM.
 */
PINMM_API long pinmm_dio_submit(struct pinmm_proc *p, int fd, int rw, unsigned long uaddr,
				size_t len, long off, struct pinmm_dio **out);
/**
 * pinmm_dio_wait() - wait for @d, release its pins (dirtying the pages of
 * a READ) and free it.
 * @d: a request from pinmm_dio_submit(), not yet waited for.
 *
 * Context: any thread; sleeps until the transfer completes.
 * Return: bytes transferred (a READ stops at EOF), or -errno (-EIO, -ENOSPC,
 * -EPERM when a fenced page dropped the device's write).
 */
PINMM_API long pinmm_dio_wait(struct pinmm_dio *d);
/**
 * pinmm_dio_done() - has @d completed (so that pinmm_dio_wait() will not block)?
 * @d: a request not yet waited for.
 *
 * Context: any thread; does not wait for the transfer.
 * Return: 1 when complete, 0 when still in flight, -EINVAL for a NULL @d.
 */
PINMM_API int pinmm_dio_done(struct pinmm_dio *d);

#ifdef __cplusplus
}
#endif
#endif /* PINMM_DIO_H */
