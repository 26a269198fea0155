/* SPDX-License-Identifier: MIT */
/*
 * dio.c - O_DIRECT on pinfs: asynchronous requests on pinned user memory
 * (pinmm_dio_submit/wait/done, <pinmm/dio.h>), served by one I/O thread
 * per mount, and synchronous uncached I/O for pread/pwrite on an O_DIRECT
 * descriptor.
 *
 * The issue: "Direct I/O as Linux does it: O_DIRECT reads and writes pin
 * the user buffer with pin_user_pages_fast (FOLL_WRITE for reads into
 * memory) and release it with unpin_user_pages_dirty_lock — the seeds'
 * case 1 — running asynchronously so that it can overlap writeback,
 * reclaim and truncate."
 *
 * One request, on the I/O thread (dio_transfer()):
 *   i_rwsem of the file (shared for a read, exclusive for a write: the
 *     inode_dio_wait() role - truncate of the file waits for it)
 *   write back dirty cached pages of the range (filemap_write_and_wait_range)
 *   map the blocks (a write allocates; a read of a hole reads zeroes)
 *   device latency (cfg.dio_latency_us): the request is in flight
 *   move each block between the image and the pinned page through
 *     pinmm_dma_write()/pinmm_dma_read() - the device's access, which a
 *     revoked lease fences
 *   after a write: extend i_size, invalidate cached pages of the range
 *
 * It does not own pinning (gup), the block map (bmap.c) or the image I/O
 * (super.c: pinfs_io).
 *
 * Locking: engine->lock protects engine->queue and engine->stop; the I/O
 * thread sleeps on engine->wait with it (wait_event_lock()).  dio->done
 * completes a request: dio->result is written before complete_all() and
 * read after the wait.  dio_engine_lock (global) serialises starting an
 * engine.  No lock is held across I/O.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pinmm/dio.h>
#include <pinmm/lease.h>
#include <pinmm/linux.h>

#include "trace.h"
#include "pin_policy.h"
#include "pinfs.h"
#include "rcu.h"
#include "wait.h"
#include "fault_inject.h"
#include "kthread.h"

struct pinfs_dio_engine {
	pthread_t thread;
	struct mutex lock;
	wait_queue_head_t wait;		/* the I/O thread, for work or stop */
	struct list_head queue;		/* struct pinmm_dio */
	bool stop;
};

struct pinmm_dio {
	struct pinfs_sb_info *sbi;
	struct file *file;		/* referenced until wait */
	int rw;
	long long off;
	size_t len;
	struct page **pages;
	unsigned long nr;
	struct completion done;
	long result;			/* before @done completes */
	struct list_head node;		/* engine->queue */
};

static DEFINE_MUTEX(dio_engine_lock);

/*
 * Move [off, off + len) of @file between the image and either @pages
 * (device access to pinned pages) or @host (a host buffer).  Page-aligned.
 * Return: bytes, or -errno.
 */
static long dio_transfer(struct file *file, int rw, long long off, size_t len,
			 struct page **pages, uint8_t *host)
{
	struct address_space *mapping = file->f_mapping;
	struct inode *inode = mapping->host;
	struct pinfs_inode_info *pi = PINFS_I(inode);
	struct pinfs_sb_info *sbi = PINFS_SB(inode->i_sb);
	struct pinmm *m = inode->i_sb->machine;
	struct writeback_control wbc = { .sync_mode = WB_SYNC_ALL };
	bool write = rw == PINMM_DIO_WRITE;
	size_t bytes = len, npg;
	pgoff_t first = (pgoff_t)(off >> PAGE_SHIFT);
	uint32_t *blks = NULL;
	uint8_t *buf = NULL;
	long ret = 0;

	if (write)
		down_write(&inode->i_rwsem);
	else
		down_read(&inode->i_rwsem);
	if (!write) {
		long long size = READ_ONCE(inode->i_size);

		if (off >= size)
			goto out;
		if ((long long)bytes > size - off)
			bytes = (size_t)(size - off);
	} else if (off + (long long)len > PINFS_MAX_FILESIZE) {
		ret = -EFBIG;
		goto out;
	}
	npg = (bytes + PAGE_SIZE - 1) >> PAGE_SHIFT;

	/* As Linux: dirty cached data of the range reaches the image first. */
	ret = filemap_writeback_range(mapping, first, first + npg - 1, &wbc);
	if (ret)
		goto out;
	blks = kcalloc(npg, sizeof(*blks));
	buf = kmalloc(PAGE_SIZE);
	if (!blks || !buf) {
		ret = -ENOMEM;
		goto out;
	}
	mutex_lock(&pi->map_lock);
	for (size_t i = 0; i < npg && !ret; i++)
		ret = pinfs_get_block(pi, first + i, write, &blks[i], NULL);
	if (write)
		pi->meta_dirty = true;
	mutex_unlock(&pi->map_lock);
	if (ret)
		goto out;

	if (m->cfg.dio_latency_us) {
		might_sleep();
		usleep((useconds_t)m->cfg.dio_latency_us);
	}	/* in flight */

	for (size_t i = 0; i < npg && !ret; i++) {
		size_t n = min(PAGE_SIZE, bytes - i * PAGE_SIZE);

		if (write) {
			if (pages)
				ret = pinmm_dma_read(pages[i], 0, buf, PAGE_SIZE);
			else
				memcpy(buf, host + i * PAGE_SIZE, PAGE_SIZE);
			if (!ret)
				ret = pinfs_io(sbi, PINFS_IO_WRITE, buf, blks[i], 1);
		} else {
			if (blks[i])
				ret = pinfs_io(sbi, PINFS_IO_READ, buf, blks[i], 1);
			else
				memset(buf, 0, PAGE_SIZE);
			if (ret)
				break;
			if (n < PAGE_SIZE)
				memset(buf + n, 0, PAGE_SIZE - n);	/* past EOF */
			if (pages)
				ret = pinmm_dma_write(pages[i], 0, buf, PAGE_SIZE);
			else
				memcpy(host + i * PAGE_SIZE, buf, n);
		}
	}
	if (!ret && write) {
		if (off + (long long)len > inode->i_size)
			WRITE_ONCE(inode->i_size, off + (long long)len);
		/* Cached copies of the range are stale now. */
		truncate_inode_pages_range(mapping, off, off + (long long)len - 1);
	}
	if (!ret) {
		count_vm_event(m, write ? DIO_WRITES : DIO_READS);
		count_vm_events(m, DIO_BYTES, (long)bytes);
		ret = (long)bytes;
	}
out:
	if (write)
		up_write(&inode->i_rwsem);
	else
		up_read(&inode->i_rwsem);
	free(blks);
	free(buf);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The I/O thread                                                       */

static void *dio_thread(void *arg)
{
	struct pinfs_dio_engine *e = arg;
	struct trace_span sp;
	bool named = false;
	struct pinmm *m;

	pinmm_thread_enter();
	fail_task_set_name("dio");
	mutex_lock(&e->lock);
	for (;;) {
		struct pinmm_dio *d;

		wait_event_lock(&e->wait, !list_empty(&e->queue) || e->stop, &e->lock);
		if (list_empty(&e->queue))
			break;		/* stop, and drained */
		d = list_first_entry(&e->queue, struct pinmm_dio, node);
		list_del_init(&d->node);
		mutex_unlock(&e->lock);

		m = d->file->f_inode->i_sb->machine;
		if (!named) {
			trace_thread_name(m, "dio engine");
			named = true;
		}
		trace_span_begin(&sp);
		d->result = dio_transfer(d->file, d->rw, d->off, d->len, d->pages, NULL);
		TRACE_SPAN_END(m, &sp, TRACE_CAT_DEVICE, "dio_transfer", { "rw", d->rw },
			       { "off", (int64_t)d->off }, { "len", (int64_t)d->len },
			       { "ret", d->result });
		complete_all(&d->done);

		mutex_lock(&e->lock);
	}
	mutex_unlock(&e->lock);
	lockdep_thread_exit(__func__);	/* a kernel thread ends holding nothing */
	return NULL;
}

static struct pinfs_dio_engine *dio_engine_get(struct pinfs_sb_info *sbi)
{
	struct pinfs_dio_engine *e;

	mutex_lock(&dio_engine_lock);
	e = sbi->dio;
	if (!e) {
		e = kzalloc(sizeof(*e));
		if (e) {
			mutex_init(&e->lock);
			init_waitqueue_head(&e->wait);
			INIT_LIST_HEAD(&e->queue);
			if (kthread_start(&e->thread, dio_thread, e)) {
				destroy_waitqueue_head(&e->wait);
				mutex_destroy(&e->lock);
				free(e);
				e = NULL;
			} else {
				sbi->dio = e;
			}
		}
	}
	mutex_unlock(&dio_engine_lock);
	return e;
}

/**
 * pinfs_dio_stop() - finish queued requests and stop the I/O thread.
 * @sbi: the file system being unmounted.
 *
 * Context: unmount; waits for the thread.
 */
void pinfs_dio_stop(struct pinfs_sb_info *sbi)
{
	struct pinfs_dio_engine *e;

	mutex_lock(&dio_engine_lock);
	e = sbi->dio;
	sbi->dio = NULL;
	mutex_unlock(&dio_engine_lock);
	if (!e)
		return;
	mutex_lock(&e->lock);
	e->stop = true;
	wake_up(&e->wait);
	mutex_unlock(&e->lock);
	kthread_join(e->thread);
	destroy_waitqueue_head(&e->wait);
	mutex_destroy(&e->lock);
	free(e);
}

/* ------------------------------------------------------------------ */
/* API                                                                  */

static bool file_is_pinfs(struct file *file)
{
	return file->f_inode->i_sb->s_op == &pinfs_sops;
}

/**
 * pinmm_dio_submit() - see <pinmm/dio.h>.
 * Context: any thread; pins as @p (current is set for the call).
 */
long pinmm_dio_submit(struct pinmm_proc *p, int fd, int rw, unsigned long uaddr,
		      size_t len, long off, struct pinmm_dio **out)
{
	struct pinfs_dio_engine *e;
	struct pinmm_proc *saved;
	struct pinmm_dio *d;
	struct file *file;
	unsigned int acc;
	long ret;

	pinmm_thread_enter();
	if (!p || !out || (rw != PINMM_DIO_READ && rw != PINMM_DIO_WRITE))
		return -EINVAL;
	if (p->exited)
		return -ESRCH;
	if (!len || (len & (PAGE_SIZE - 1)) || (uaddr & (PAGE_SIZE - 1)) || off < 0 ||
	    (off & (long)(PAGE_SIZE - 1)) || len > (1UL << 30))
		return -EINVAL;
	file = fget(p, fd);
	if (!file)
		return -EBADF;
	acc = file->f_flags & O_ACCMODE;
	if (!file_is_pinfs(file) || !(file->f_flags & O_DIRECT) ||
	    PINFS_SB(file->f_inode->i_sb)->pmem) {
		ret = -EINVAL;
		goto put_file;
	}
	if ((rw == PINMM_DIO_READ && acc == O_WRONLY) ||
	    (rw == PINMM_DIO_WRITE && acc == O_RDONLY)) {
		ret = -EBADF;
		goto put_file;
	}
	d = kzalloc(sizeof(*d));
	if (d)
		d->pages = kcalloc(len >> PAGE_SHIFT, sizeof(*d->pages));
	if (!d || !d->pages) {
		ret = -ENOMEM;
		goto free_d;
	}
	d->sbi = PINFS_SB(file->f_inode->i_sb);
	d->file = file;
	d->rw = rw;
	d->off = off;
	d->len = len;
	d->nr = len >> PAGE_SHIFT;
	init_completion(&d->done);
	INIT_LIST_HEAD(&d->node);

	saved = pinmm_current();
	pinmm_set_current(p);
	ret = pinmm_pin_user_pages_fast(uaddr, (int)d->nr,
					rw == PINMM_DIO_READ ? FOLL_WRITE : 0, d->pages);
	pinmm_set_current(saved);
	if (ret != (long)d->nr) {
		if (ret > 0)
			pinmm_unpin_user_pages(d->pages, (unsigned long)ret);
		ret = ret < 0 ? ret : -EFAULT;
		goto destroy;
	}
	e = dio_engine_get(d->sbi);
	if (!e) {
		pinmm_unpin_user_pages(d->pages, d->nr);
		ret = -ENOMEM;
		goto destroy;
	}
	mutex_lock(&e->lock);
	list_add_tail(&d->node, &e->queue);
	wake_up(&e->wait);
	mutex_unlock(&e->lock);
	*out = d;
	return 0;

destroy:
	destroy_completion(&d->done);
free_d:
	if (d)
		free(d->pages);
	free(d);
put_file:
	fput(file);
	return ret;
}

/**
 * pinmm_dio_wait() - see <pinmm/dio.h>.
 * Context: any thread; may sleep.
 */
long pinmm_dio_wait(struct pinmm_dio *d)
{
	long ret;

	pinmm_thread_enter();
	if (!d)
		return -EINVAL;
	wait_for_completion(&d->done);
	ret = d->result;
	/* Case 1 of pin_user_pages.rst: a read dirtied the pages. */
	pinmm_unpin_user_pages_dirty_lock(d->pages, d->nr, d->rw == PINMM_DIO_READ);
	fput(d->file);
	destroy_completion(&d->done);
	free(d->pages);
	free(d);
	return ret;
}

/**
 * pinmm_dio_done() - see <pinmm/dio.h>.
 * Context: any thread.
 */
int pinmm_dio_done(struct pinmm_dio *d)
{
	if (!d)
		return -EINVAL;
	return completion_done(&d->done);
}

/**
 * pinfs_dio_rw_host() - pread/pwrite on an O_DIRECT descriptor: uncached
 * block I/O from or to a host buffer (nothing to pin).
 * @file: a pinfs file opened with O_DIRECT.
 * @buf: host buffer.
 * @len: bytes, a multiple of 4096.
 * @off: offset, a multiple of 4096.
 * @write: direction.
 *
 * Context: may sleep.
 * Return: bytes, or -EINVAL (alignment) and I/O errors.
 */
long pinfs_dio_rw_host(struct file *file, void *buf, size_t len, long long off, bool write)
{
	if ((len & (PAGE_SIZE - 1)) || (off & (long long)(PAGE_SIZE - 1)))
		return -EINVAL;
	return dio_transfer(file, write ? PINMM_DIO_WRITE : PINMM_DIO_READ, off, len, NULL,
			    buf);
}
