/* SPDX-License-Identifier: MIT */
/*
 * page-writeback.c - writing dirty page-cache folios to their filesystem:
 * one folio (writeback_folio()), a range of a mapping, error reporting to
 * fsync, the registry of filesystems that write back, their periodic
 * flusher threads, and pinmm_sync().
 *
 * It does not own the filesystems' ->writepage (pinfs), the page cache
 * (filemap.c), write-protecting mappings (rmap.c: folio_mkclean()) or
 * reclaim (vmscan.c).
 *
 * Writing one folio, as Linux's folio_clear_dirty_for_io() + ->writepage:
 *
 *   folio_lock
 *   folio_mkclean()        every shared PTE write-protected and clean: the
 *                          next store faults (->page_mkwrite) and re-dirties
 *   clear PG_dirty          (a dirty PTE found by mkclean re-dirtied it first)
 *   set PG_writeback
 *   ->writepage()          real I/O to the image
 *   on error: PG_dirty again and AS_EIO on the mapping (nothing is lost;
 *             the next fsync reports the error once)
 *   clear PG_writeback, folio_unlock
 *
 * The I/O is synchronous, so PG_writeback is only ever seen by a thread
 * that looks at the folio without its lock (pinmm_page_info, reclaim).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "trace.h"
#include "fault_inject.h"
#include "pin_policy.h"
#include "rcu.h"
#include "wait.h"
#include "writeback.h"
#include "kthread.h"

/* ------------------------------------------------------------------ */
/* Errors                                                              */

/**
 * mapping_set_error() - remember a writeback error for the next fsync.
 * @mapping: the address space.
 * @err: 0 (nothing), -ENOSPC, or another error (reported as -EIO).
 *
 * Context: any.
 */
void mapping_set_error(struct address_space *mapping, int err)
{
	if (!err)
		return;
	errseq_set(&mapping->wb_err, err == -ENOSPC ? err : -EIO);	/* per open file */
	set_bit(err == -ENOSPC ? AS_ENOSPC : AS_EIO, &mapping->flags);
}

/**
 * filemap_check_errors() - report, and forget, a remembered writeback error.
 * @mapping: the address space.
 *
 * Context: any.
 * Return: 0, -ENOSPC or -EIO (each error is reported once).
 */
int filemap_check_errors(struct address_space *mapping)
{
	int err = 0;

	if (test_and_clear_bit(AS_ENOSPC, &mapping->flags))
		err = -ENOSPC;
	if (test_and_clear_bit(AS_EIO, &mapping->flags))
		err = -EIO;
	return err;
}

/* ------------------------------------------------------------------ */
/* One folio                                                           */

/*
 * Policy point: may this writeback pass leave @folio dirty?  Linux writes
 * every dirty folio, pinned or not (Kara's proposal to skip pinned folios
 * in background writeback was not merged); the pinned-page policies hook
 * in here.
 */
static bool writeback_folio_may_skip(struct folio *folio, struct writeback_control *wbc)
{
	(void)folio;
	(void)wbc;
	return false;
}

static int __writeback_folio(struct folio *folio, struct writeback_control *wbc)
{
	struct address_space *mapping;
	struct pinmm *m = folio_machine(folio);
	long nr = (long)folio_nr_pages(folio);
	struct pin_wb_ctx pctx;
	int err;

	/* holdoff: wait (unlocked: the unpin takes the folio lock) for the pin. */
	if (folio_test_Dirty(folio))
		pin_policy_holdoff_wait(folio, HOLDOFF_WRITEBACK);
	if (wbc->sync_mode == WB_SYNC_NONE) {
		if (!folio_trylock(folio))
			return 0;
	} else {
		folio_lock(folio);
	}
	mapping = folio_mapping(folio);
	if (!mapping || !folio_test_Dirty(folio) || !mapping->a_ops ||
	    !mapping->a_ops->writepage) {
		folio_unlock(folio);
		return 0;
	}
	if (writeback_folio_may_skip(folio, wbc)) {
		wbc->nr_skipped++;
		folio_unlock(folio);
		return 0;
	}
	/* A store through a PTE that mkclean finds dirty re-dirties the folio. */
	if (folio_mkclean(folio))
		folio_mark_dirty(folio);
	folio_clear_dirty_for_io(folio);
	folio_set_Writeback(folio);
	mod_vm_stat(m, NR_WRITEBACK, nr);

	/* bounce: a stable copy; otherwise torn-write detection (pin_policy.c). */
	pin_policy_writeback_begin(folio, &pctx, wbc);
	err = mapping->a_ops->writepage(folio, wbc);
	pin_policy_writeback_end(folio, &pctx, wbc, err);
	if (err) {
		folio_mark_dirty(folio);
		mapping_set_error(mapping, err);
		wbc->nr_failed++;
	} else {
		wbc->nr_written++;
	}

	mod_vm_stat(m, NR_WRITEBACK, -nr);
	folio_clear_Writeback(folio);
	folio_unlock(folio);
	return err;
}

/* The next cached folio at or after *index, referenced. */
/**
 * writeback_folio() - write one dirty page-cache folio back.
 * @folio: a referenced page-cache folio, not locked by the caller.
 * @wbc: the pass; WB_SYNC_NONE skips a folio locked by someone else.
 *
 * See the file comment for the steps.  A folio that is clean, truncated
 * meanwhile, or kept back by policy is left alone.
 *
 * Context: may sleep (folio lock, I/O); no spinlocks held.
 * Return: 0 (also when there was nothing to do), or ->writepage's error.
 */
int writeback_folio(struct folio *folio, struct writeback_control *wbc)
{
	struct pinmm *m = folio_machine(folio);
	pgoff_t index = folio->index;
	long nr = (long)folio_nr_pages(folio);
	struct trace_span sp;
	int ret;

	trace_span_begin(&sp);
	ret = __writeback_folio(folio, wbc);
	TRACE_SPAN_END(m, &sp, TRACE_CAT_WRITEBACK, "writeback_folio",
		       { "index", (int64_t)index }, { "nr_pages", nr },
		       { "sync", wbc->sync_mode != WB_SYNC_NONE }, { "ret", ret });
	return ret;
}

static struct folio *next_cached_folio(struct address_space *mapping, pgoff_t *index,
				       pgoff_t end)
{
	struct folio *folio;

	for (;;) {
		pgoff_t i = *index;

		spin_lock(&mapping->i_pages_lock);
		folio = page_index_next(&mapping->i_pages, &i, end);
		if (folio && !folio_try_get(folio)) {
			spin_unlock(&mapping->i_pages_lock);
			continue;	/* being split or migrated: look again */
		}
		spin_unlock(&mapping->i_pages_lock);
		if (folio)
			*index = i;
		return folio;
	}
}

/**
 * filemap_writeback_range() - write back the dirty folios of page offsets
 * [@start, @end] of @mapping; with WB_SYNC_ALL also wait for the folios of
 * the range that another pass is writing back.
 * @mapping: the address space.
 * @start: first page offset.
 * @end: last page offset (inclusive; ~0UL for all).
 * @wbc: the pass (counts are added to).
 *
 * Errors are also remembered on the mapping for filemap_check_errors().
 *
 * Context: may sleep.
 * Return: 0 or the first error of the pass.
 */
int filemap_writeback_range(struct address_space *mapping, pgoff_t start, pgoff_t end,
			    struct writeback_control *wbc)
{
	pgoff_t index = start;
	struct folio *folio;
	int err = 0;

	/*
	 * Data integrity (WB_SYNC_ALL) must also wait for folios another
	 * pass is writing back: they are clean already but their bytes are
	 * not on the device yet (Linux: write_cache_pages() waits on them and
	 * filemap_write_and_wait_range() waits for the range).  A writeback
	 * here runs whole under the folio lock, so taking the lock waits.
	 */
	if (wbc->sync_mode != WB_SYNC_ALL && !atomic_long_read(&mapping->nr_dirty))
		return 0;
	while ((folio = next_cached_folio(mapping, &index, end))) {
		pgoff_t next = folio->index + folio_nr_pages(folio);
		int e = 0;

		if (folio_test_Dirty(folio)) {
			e = writeback_folio(folio, wbc);
		} else if (wbc->sync_mode == WB_SYNC_ALL) {
			folio_lock(folio);
			folio_unlock(folio);
		}
		folio_put(folio);
		err = err ? err : e;
		if (next <= index || next == 0 || next > end)
			break;
		index = next;
	}
	return err;
}

/**
 * filemap_write_and_wait() - write every dirty folio of @mapping (data
 * integrity) and report a writeback error once.
 * @mapping: the address space.
 *
 * Context: may sleep.
 * Return: 0, -EIO or -ENOSPC (from this pass or an earlier unreported one).
 */
int filemap_write_and_wait(struct address_space *mapping)
{
	struct writeback_control wbc = { .sync_mode = WB_SYNC_ALL };
	int err = filemap_writeback_range(mapping, 0, ~0UL, &wbc);
	int e = filemap_check_errors(mapping);

	return err ? (err == -ENOSPC ? err : -EIO) : e;
}

/* ------------------------------------------------------------------ */
/* Filesystems that write back, and their flushers                     */

/*
 * struct bdi_writeback - a registered super block.
 * @stop: the flusher sleeps on it between flushes; completed to make it exit.
 */
struct bdi_writeback {
	struct super_block *sb;
	unsigned long interval_ms;
	pthread_t thread;
	bool has_thread;
	struct completion stop;
	struct list_head node;		/* wb_list */
};

/* wb_lock protects wb_list; pinmm_sync() holds it across the whole walk. */
static DEFINE_MUTEX(wb_lock);
static LIST_HEAD(wb_list);

static void *wb_flusher(void *arg)
{
	struct bdi_writeback *wb = arg;

	pinmm_thread_enter();
	fail_task_set_name("flusher");
	trace_thread_name(wb->sb->machine, "writeback flusher");
	/* One flush per interval until unmount completes @stop. */
	while (!wait_for_completion_timeout(&wb->stop, wb->interval_ms * 1000000ull))
		if (wb->sb->s_op->sync_fs)
			wb->sb->s_op->sync_fs(wb->sb);	/* errors stay on the mappings */
	lockdep_thread_exit(__func__);	/* a kernel thread ends holding nothing */
	return NULL;
}

/**
 * wb_register_sb() - @sb writes back: sync, reclaim and drop_caches see it.
 * @sb: a mounted super block with ->sync_fs.
 * @interval_ms: period of a flusher thread calling ->sync_fs; 0 for none.
 *
 * Context: mount; takes wb_lock.
 * Return: 0, -ENOMEM, or -EAGAIN when the thread cannot be started (the
 * super block is then registered without one).
 */
int wb_register_sb(struct super_block *sb, unsigned long interval_ms)
{
	struct bdi_writeback *wb = kzalloc(sizeof(*wb));
	int err = 0;

	if (!wb)
		return -ENOMEM;
	wb->sb = sb;
	wb->interval_ms = interval_ms;
	init_completion(&wb->stop);
	if (interval_ms) {
		err = kthread_start(&wb->thread, wb_flusher, wb);
		wb->has_thread = !err;
	}
	mutex_lock(&wb_lock);
	list_add_tail(&wb->node, &wb_list);
	mutex_unlock(&wb_lock);
	return err;
}

/**
 * wb_unregister_sb() - stop @sb's flusher and forget it (unmount).
 * @sb: a registered super block (or not: nothing happens).
 *
 * Context: unmount; takes wb_lock; waits for the flusher to exit.
 */
void wb_unregister_sb(struct super_block *sb)
{
	struct bdi_writeback *wb, *found = NULL;

	mutex_lock(&wb_lock);
	list_for_each_entry(wb, &wb_list, node) {
		if (wb->sb == sb) {
			found = wb;
			list_del(&wb->node);
			break;
		}
	}
	mutex_unlock(&wb_lock);
	if (!found)
		return;
	if (found->has_thread) {
		complete(&found->stop);
		kthread_join(found->thread);
	}
	destroy_completion(&found->stop);
	free(found);
}

/**
 * wb_for_each_sb() - call @fn for each registered super block of @m.
 * @m: the machine.
 * @fn: returns 0 or an error; the walk goes on either way.
 * @arg: passed to @fn.
 *
 * Context: may sleep; holds wb_lock across the walk (unmount waits).
 * Return: 0 or the first error @fn returned.
 */
int wb_for_each_sb(struct pinmm *m, int (*fn)(struct super_block *sb, void *arg), void *arg)
{
	struct bdi_writeback *wb;
	int err = 0;

	mutex_lock(&wb_lock);
	list_for_each_entry(wb, &wb_list, node) {
		int e;

		if (wb->sb->machine != m)
			continue;
		e = fn(wb->sb, arg);
		err = err ? err : e;
	}
	mutex_unlock(&wb_lock);
	return err;
}

/**
 * sb_for_each_inode() - call @fn for every live inode of @sb.
 * @sb: the super block.
 * @fn: called without s_lock, holding an inode reference; returns 0 or an
 *	error (the walk goes on).
 * @arg: passed to @fn.
 *
 * Inodes whose count already reached 0 (being evicted) are skipped.
 *
 * Context: may sleep; takes s_lock to collect the inodes.
 * Return: 0, the first error of @fn, or -ENOMEM.
 */
int sb_for_each_inode(struct super_block *sb, int (*fn)(struct inode *inode, void *arg),
		      void *arg)
{
	struct inode **inodes = NULL, *inode;
	size_t nr = 0, cap = 0;
	int err = 0;

	mutex_lock(&sb->s_lock);
	list_for_each_entry(inode, &sb->s_inodes, i_sb_list) {
		if (nr == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct inode **n = krealloc(inodes, ncap * sizeof(*n));

			if (!n) {
				err = -ENOMEM;
				break;
			}
			inodes = n;
			cap = ncap;
		}
		if (atomic_add_unless(&inode->i_count, 1, 0))
			inodes[nr++] = inode;
	}
	mutex_unlock(&sb->s_lock);
	for (size_t i = 0; i < nr; i++) {
		int e = fn(inodes[i], arg);

		err = err ? err : e;
		iput(inodes[i]);
	}
	free(inodes);
	return err;
}

static int sync_sb(struct super_block *sb, void *arg)
{
	(void)arg;
	return sb->s_op->sync_fs ? sb->s_op->sync_fs(sb) : 0;
}

/**
 * pinmm_sync() - sync(2): write back every filesystem of @m.
 * @m: the machine.
 *
 * Context: any thread.
 * Return: 0, -EIO when some writeback failed (those folios stay dirty), or
 * -EINVAL for NULL.
 */
int pinmm_sync(struct pinmm *m)
{
	int err;

	pinmm_thread_enter();
	if (!m)
		return -EINVAL;
	err = wb_for_each_sb(m, sync_sb, NULL);
	return err && err != -ENOSPC ? -EIO : err;
}
