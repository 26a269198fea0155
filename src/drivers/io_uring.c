/* SPDX-License-Identifier: MIT */
/*
 * io_uring.c - io_uring-style fixed buffers (Linux io_uring/rsrc.c and the
 * READ_FIXED/WRITE_FIXED paths of io_uring/rw.c): the classic long-term pin
 * user.
 *
 * A ring (struct io_ring_ctx) lives behind an anonymous-inode file in the
 * creating process's file table; its ->release unregisters the buffers, so
 * the ring goes with the last close: pinmm_uring_destroy(), the process's
 * exit (files_close_all()), or the exit of a child that inherited it.
 *
 * Registration (io_sqe_buffers_register): each iovec is validated as
 * io_buffer_validate() does, its pages are pinned as io_pin_pages() pins
 * them, with pin_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM) running as the
 * registering process (a short pin is undone and is -EFAULT), the pages
 * are charged to that process's mm->pinned_vm against its RLIMIT_MEMLOCK
 * (account_pinned_vm(), -ENOMEM), and the buffer keeps a bio_vec per page
 * while the page array of the pin call is freed.  Unlike Linux, a huge page
 * shared by two buffers is charged twice (Linux's io_buffer_account_pin()
 * charges a compound page once per registration), and the pages of a large
 * folio are not coalesced into one bio_vec (io_coalesce_buffer()): every
 * page keeps its own pin and its own bio_vec.
 *
 * I/O: a fixed read or write looks up the buffer, checks that [addr,
 * addr + len) lies inside it (io_import_fixed(): -EFAULT), and copies
 * between the file and the pinned pages through kmap_local_page() without
 * touching the process's page tables: DMA.  Pages a read wrote into are
 * unpinned with unpin_user_pages_dirty_lock(make_dirty = true).
 *
 * Locking: ctx->uring_lock serialises registration, unregistration and the
 * fixed I/O of one ring (the buffers cannot go away under an I/O).  Order:
 * uring_lock > mmap_lock, uring_lock > i_rwsem.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pinmm/io_uring.h>
#include "gup.h"
#include "fs.h"
#include "rcu.h"
#include "fault_inject.h"

/*
 * struct io_mapped_ubuf - one registered buffer.
 * @ubuf, @len: the user range.
 * @nr_pages: pages pinned, covering [ubuf & PAGE_MASK, PAGE_ALIGN(ubuf+len)).
 * @bvec: one bio_vec per pinned page, as Linux's imu->bvec[] (not coalesced).
 * @written: per page, a fixed read wrote into it (unpin dirty).
 */
struct bio_vec {
	struct page *bv_page;
	unsigned int bv_len;
	unsigned int bv_offset;
};

struct io_mapped_ubuf {
	unsigned long ubuf;
	size_t len;
	unsigned long nr_pages;
	struct bio_vec *bvec;
	bool *written;
};

/*
 * struct io_ring_ctx - one ring.
 * @user_bufs: @nr_user_bufs slots (NULL: sparse), uring_lock.
 * @mm_account: the mm the buffers are charged to (mmgrab()'d), with
 * @acct_pages pages charged; uring_lock.
 */
struct io_ring_ctx {
	struct pinmm *machine;
	unsigned int sq_entries;
	struct mutex uring_lock;
	struct io_mapped_ubuf **user_bufs;
	unsigned int nr_user_bufs;
	struct mm_struct *mm_account;
	unsigned long acct_pages;
};

static void io_buffer_unmap(struct io_mapped_ubuf *imu)
{
	for (unsigned long i = 0; i < imu->nr_pages; i++) {
		if (imu->written[i])
			unpin_user_pages_dirty_lock(&imu->bvec[i].bv_page, 1, true);
		else
			unpin_user_page(imu->bvec[i].bv_page);
	}
	free(imu->bvec);
	free(imu->written);
	free(imu);
}

/* __io_sqe_buffers_unregister(): uring_lock held. */
static void io_sqe_buffers_unregister(struct io_ring_ctx *ctx)
{
	lockdep_assert_held(&ctx->uring_lock);
	for (unsigned int i = 0; i < ctx->nr_user_bufs; i++)
		if (ctx->user_bufs[i])
			io_buffer_unmap(ctx->user_bufs[i]);
	free(ctx->user_bufs);
	ctx->user_bufs = NULL;
	ctx->nr_user_bufs = 0;
	if (ctx->mm_account) {
		unaccount_pinned_vm(ctx->mm_account, ctx->acct_pages);
		mmdrop(ctx->mm_account);
		ctx->mm_account = NULL;
		ctx->acct_pages = 0;
	}
}

static int io_buffer_validate(const struct iovec *iov)
{
	unsigned long tmp, acct_len = iov->iov_len + (PAGE_SIZE - 1);

	if (!iov->iov_base)
		return iov->iov_len ? -EFAULT : 0;
	if (!iov->iov_len)
		return -EFAULT;
	if (iov->iov_len > IORING_MAX_BUFFER_SIZE)
		return -EFAULT;
	if (__builtin_add_overflow((unsigned long)iov->iov_base, acct_len, &tmp))
		return -EOVERFLOW;
	return 0;
}

/*
 * Pin and charge one buffer (io_sqe_buffer_register()).  Runs as @p (its
 * current); GUP-fast takes @p's mmap_lock itself when it falls back.
 */
static int io_sqe_buffer_register(struct io_ring_ctx *ctx, struct pinmm_proc *p,
				  const struct iovec *iov, struct io_mapped_ubuf **pimu)
{
	unsigned long ubuf = (unsigned long)iov->iov_base;
	unsigned long start = ubuf >> PAGE_SHIFT;
	unsigned long end = (ubuf + iov->iov_len + PAGE_SIZE - 1) >> PAGE_SHIFT;
	struct io_mapped_ubuf *imu;
	struct page **pages = NULL;
	long pinned;
	int ret;

	*pimu = NULL;
	if (!iov->iov_base)
		return 0;	/* sparse slot */
	imu = kzalloc(sizeof(*imu));
	if (!imu)
		return -ENOMEM;
	imu->ubuf = ubuf;
	imu->len = iov->iov_len;
	imu->nr_pages = end - start;
	pages = kcalloc(imu->nr_pages, sizeof(*pages));
	imu->bvec = kcalloc(imu->nr_pages, sizeof(*imu->bvec));
	imu->written = kcalloc(imu->nr_pages, sizeof(*imu->written));
	if (!pages || !imu->bvec || !imu->written) {
		ret = -ENOMEM;
		goto free;
	}
	/* io_validate_user_buf_range() bounds nr_pages by IORING_MAX_BUFFER_SIZE. */
	pinned = pin_user_pages_fast(ubuf & PAGE_MASK, (int)imu->nr_pages,
				     FOLL_WRITE | FOLL_LONGTERM, pages);
	if (pinned != (long)imu->nr_pages) {
		/* io_pin_pages(): a short pin is undone; the error is -EFAULT. */
		if (pinned > 0)
			unpin_user_pages(pages, (unsigned long)pinned);
		ret = pinned < 0 ? (int)pinned : -EFAULT;
		goto free;
	}
	ret = account_pinned_vm(p, imu->nr_pages);
	if (ret) {
		unpin_user_pages(pages, imu->nr_pages);
		goto free;
	}
	ctx->acct_pages += imu->nr_pages;
	for (unsigned long i = 0; i < imu->nr_pages; i++) {
		size_t off = i ? 0 : ubuf & ~PAGE_MASK;
		size_t left = iov->iov_len + (ubuf & ~PAGE_MASK) - (i << PAGE_SHIFT) - off;

		imu->bvec[i].bv_page = pages[i];
		imu->bvec[i].bv_offset = (unsigned int)off;
		imu->bvec[i].bv_len = (unsigned int)min(left, PAGE_SIZE - off);
	}
	free(pages);
	*pimu = imu;
	return 0;
free:
	free(pages);
	free(imu->bvec);
	free(imu->written);
	free(imu);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The ring file                                                        */

static void io_ring_release(struct file *file)
{
	struct io_ring_ctx *ctx = file->private_data;

	mutex_lock(&ctx->uring_lock);
	io_sqe_buffers_unregister(ctx);
	mutex_unlock(&ctx->uring_lock);
	mutex_destroy(&ctx->uring_lock);
	free(ctx);
}

/* The SQ/CQ rings are not modelled: there is no ->mmap (-ENODEV). */
static const struct file_operations io_uring_fops = {
	.release = io_ring_release,
};

/* The ring behind @fd in @p, with its file referenced, or an ERR_PTR. */
static struct file *io_uring_fget(struct pinmm_proc *p, int fd)
{
	return anon_inode_fget(p, fd, &io_uring_fops);
}

/**
 * pinmm_uring_create() - a new ring in @p's file table.
 * @p: the process.
 * @entries: 1..IORING_MAX_ENTRIES.
 *
 * Context: any thread.
 * Return: the ring descriptor; -EINVAL, -ESRCH, -EMFILE, -ENOMEM.
 */
int pinmm_uring_create(struct pinmm_proc *p, unsigned int entries)
{
	struct io_ring_ctx *ctx;
	struct file *file;
	int fd;

	pinmm_thread_enter();
	if (!p || !entries || entries > IORING_MAX_ENTRIES)
		return -EINVAL;
	if (READ_ONCE(p->exited))
		return -ESRCH;
	ctx = kzalloc(sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->machine = p->machine;
	ctx->sq_entries = entries;
	mutex_init(&ctx->uring_lock);
	file = anon_inode_getfile("[io_uring]", &io_uring_fops, ctx, O_RDWR);
	if (!file) {
		mutex_destroy(&ctx->uring_lock);
		free(ctx);
		return -ENOMEM;
	}
	fd = files_install(p, file);
	if (fd < 0)
		fput(file);
	return fd;
}

/**
 * pinmm_uring_register_buffers() - pin and charge @nr buffers of @p.
 * @p: the calling process.
 * @ring: the ring descriptor.
 * @iov: the buffers (addresses in @p).
 * @nr: 1..IORING_MAX_REG_BUFFERS.
 *
 * Context: any thread; GUP-fast takes @p's mmap_lock for reading when it falls back.
 * Return: 0 or -errno (see <pinmm/io_uring.h>); all or nothing.
 */
int pinmm_uring_register_buffers(struct pinmm_proc *p, int ring,
				 const struct iovec *iov, unsigned int nr)
{
	struct pinmm_proc *saved = pinmm_current_proc;
	struct io_ring_ctx *ctx;
	struct file *file;
	int ret = 0;

	file = io_uring_fget(p, ring);
	if (IS_ERR(file))
		return (int)PTR_ERR(file);
	ctx = file->private_data;
	mutex_lock(&ctx->uring_lock);
	if (ctx->user_bufs) {
		ret = -EBUSY;
		goto unlock;
	}
	if (!nr || nr > IORING_MAX_REG_BUFFERS) {
		ret = -EINVAL;
		goto unlock;
	}
	if (!iov) {
		ret = -EFAULT;
		goto unlock;
	}
	ctx->user_bufs = kcalloc(nr, sizeof(*ctx->user_bufs));
	if (!ctx->user_bufs) {
		ret = -ENOMEM;
		goto unlock;
	}
	ctx->mm_account = p->mm;
	mmgrab(p->mm);

	/* The registration runs as a syscall of @p. */
	pinmm_current_proc = p;
	for (unsigned int i = 0; i < nr; i++, ctx->nr_user_bufs++) {
		ret = io_buffer_validate(&iov[i]);
		if (ret)
			break;
		ret = io_sqe_buffer_register(ctx, p, &iov[i], &ctx->user_bufs[i]);
		if (ret)
			break;
	}
	pinmm_current_proc = saved;
	if (ret)
		io_sqe_buffers_unregister(ctx);
unlock:
	mutex_unlock(&ctx->uring_lock);
	fput(file);
	pinmm_debug_boundary(p->machine);
	return ret;
}

/**
 * pinmm_uring_unregister_buffers() - unpin and uncharge every buffer.
 * @p: the calling process.
 * @ring: the ring descriptor.
 *
 * Context: any thread.
 * Return: 0, -EBADF, -ENXIO (none registered), -EINVAL, -ESRCH.
 */
int pinmm_uring_unregister_buffers(struct pinmm_proc *p, int ring)
{
	struct io_ring_ctx *ctx;
	struct file *file;
	int ret = 0;

	file = io_uring_fget(p, ring);
	if (IS_ERR(file))
		return (int)PTR_ERR(file);
	ctx = file->private_data;
	mutex_lock(&ctx->uring_lock);
	if (!ctx->user_bufs)
		ret = -ENXIO;
	else
		io_sqe_buffers_unregister(ctx);
	mutex_unlock(&ctx->uring_lock);
	fput(file);
	pinmm_debug_boundary(p->machine);
	return ret;
}

/* io_import_fixed(): the registered buffer covering [addr, addr + len). */
static struct io_mapped_ubuf *io_import_fixed(struct io_ring_ctx *ctx, unsigned int index,
					      unsigned long addr, size_t len)
{
	struct io_mapped_ubuf *imu;
	unsigned long end;

	if (index >= ctx->nr_user_bufs)
		return NULL;
	imu = ctx->user_bufs[index];
	if (!imu)
		return NULL;
	if (__builtin_add_overflow(addr, len, &end))
		return NULL;
	if (addr < imu->ubuf || end > imu->ubuf + imu->len)
		return NULL;
	return imu;
}

static long io_rw_fixed(struct pinmm_proc *p, int ring, int fd, unsigned int buf_index,
			unsigned long addr, size_t len, long off, bool write)
{
	struct io_mapped_ubuf *imu;
	struct io_ring_ctx *ctx;
	struct file *rfile, *file;
	unsigned int acc;
	size_t done = 0;
	long ret = 0;

	rfile = io_uring_fget(p, ring);
	if (IS_ERR(rfile))
		return PTR_ERR(rfile);
	ctx = rfile->private_data;
	file = fget(p, fd);
	if (!file) {
		fput(rfile);
		return -EBADF;
	}
	acc = file->f_flags & O_ACCMODE;
	mutex_lock(&ctx->uring_lock);
	imu = io_import_fixed(ctx, buf_index, addr, len);
	if (!imu) {
		ret = -EFAULT;
		goto out;
	}
	if (write ? acc == O_RDONLY : acc == O_WRONLY) {
		ret = -EBADF;
		goto out;
	}
	if (off < 0 || !file->f_op || !(write ? (void *)file->f_op->write :
					 (void *)file->f_op->read)) {
		ret = -EINVAL;
		goto out;
	}
	while (done < len) {
		/* Offset of the byte at addr + done from the first pinned page. */
		unsigned long boff = (addr + done) - (imu->ubuf & PAGE_MASK);
		unsigned long idx = boff >> PAGE_SHIFT;
		size_t poff = boff & ~PAGE_MASK;
		size_t chunk = min(len - done, PAGE_SIZE - poff);
		char *kaddr = kmap_local_page(imu->bvec[idx].bv_page);
		long n;

		if (write)
			n = file->f_op->write(file, kaddr + poff, chunk, off + (long)done);
		else
			n = file->f_op->read(file, kaddr + poff, chunk, off + (long)done);
		kunmap_local(kaddr);
		if (n < 0) {
			if (!done)
				ret = n;
			break;
		}
		if (!write && n > 0)
			imu->written[idx] = true;
		done += (size_t)n;
		if ((size_t)n < chunk)
			break;
	}
	if (!ret)
		ret = (long)done;
out:
	mutex_unlock(&ctx->uring_lock);
	fput(file);
	fput(rfile);
	pinmm_debug_boundary(p->machine);
	return ret;
}

/**
 * pinmm_uring_read_fixed() - file -> registered buffer (READ_FIXED).
 * @p: the calling process.
 * @ring: the ring descriptor.
 * @fd: a file descriptor of @p open for reading.
 * @buf_index: the registered buffer.
 * @addr: where in the buffer (an address inside [iov_base, iov_base+len)).
 * @len: bytes.
 * @off: file offset.
 *
 * Context: any thread.
 * Return: bytes read, or -errno (see <pinmm/io_uring.h>).
 */
long pinmm_uring_read_fixed(struct pinmm_proc *p, int ring, int fd, unsigned int buf_index,
			    unsigned long addr, size_t len, long off)
{
	return io_rw_fixed(p, ring, fd, buf_index, addr, len, off, false);
}

/**
 * pinmm_uring_write_fixed() - registered buffer -> file (WRITE_FIXED).
 * @p: the calling process.
 * @ring: the ring descriptor.
 * @fd: a file descriptor of @p open for writing.
 * @buf_index: the registered buffer.
 * @addr: where in the buffer.
 * @len: bytes.
 * @off: file offset.
 *
 * Context: any thread.
 * Return: bytes written, or -errno.
 */
long pinmm_uring_write_fixed(struct pinmm_proc *p, int ring, int fd, unsigned int buf_index,
			     unsigned long addr, size_t len, long off)
{
	return io_rw_fixed(p, ring, fd, buf_index, addr, len, off, true);
}

/**
 * pinmm_uring_nr_buffers() - registered slots of @ring.
 * @p: the process.
 * @ring: the ring descriptor.
 *
 * Context: any thread.
 * Return: the number of slots, -EBADF, -ESRCH.
 */
int pinmm_uring_nr_buffers(struct pinmm_proc *p, int ring)
{
	struct io_ring_ctx *ctx;
	struct file *file;
	int nr;

	file = io_uring_fget(p, ring);
	if (IS_ERR(file))
		return (int)PTR_ERR(file);
	ctx = file->private_data;
	mutex_lock(&ctx->uring_lock);
	nr = (int)ctx->nr_user_bufs;
	mutex_unlock(&ctx->uring_lock);
	fput(file);
	return nr;
}

/**
 * pinmm_uring_destroy() - close the ring descriptor.
 * @p: the process.
 * @ring: the ring descriptor.
 *
 * Context: any thread.
 * Return: 0, -EBADF, -EINVAL, -ESRCH.
 */
int pinmm_uring_destroy(struct pinmm_proc *p, int ring)
{
	struct file *file = io_uring_fget(p, ring);
	int ret;

	if (IS_ERR(file))
		return (int)PTR_ERR(file);
	fput(file);
	ret = files_close(p, ring);
	pinmm_debug_boundary(p->machine);
	return ret;
}

/**
 * pinmm_uring_exit_proc() - close every ring descriptor of @p (exit).
 * @p: the exiting process.
 *
 * Context: the exit path of @p; takes p->files_lock.
 */
void pinmm_uring_exit_proc(struct pinmm_proc *p)
{
	int fd;

	pinmm_thread_enter();
	if (!p)
		return;
	for (fd = 0;; fd++) {
		bool ring;

		mutex_lock(&p->files_lock);
		if (fd >= p->nr_files) {
			mutex_unlock(&p->files_lock);
			break;
		}
		ring = p->files[fd] && p->files[fd]->f_op == &io_uring_fops;
		mutex_unlock(&p->files_lock);
		if (ring)
			files_close(p, fd);
	}
}
