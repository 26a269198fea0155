/* SPDX-License-Identifier: MIT */
/*
 * filemap.c - the page cache: folios of a file indexed by page offset in
 * mapping->i_pages, the folio lock and its wait queues, dirty and accessed
 * state, truncation and the generic fault handler.
 *
 * It does not own the tree itself (page_index.c), the read/write copy
 * paths (read_write.c), filesystems (shmem.c, pinfs), or the page tables
 * (memory.c: unmap_mapping_range(), PTE setup).
 *
 * Design notes
 *
 * A page-cache folio is in one of these states:
 *
 *   (new) --filemap_add_folio--> CACHED --filemap_remove_folio--> DETACHED
 *                                  |  ^                              |
 *                read_folio / fill |  | (always)                     | last
 *                                  v  |                              v folio_put
 *                              CACHED+UPTODATE                    (freed)
 *
 * Invariants:
 *  1. A CACHED folio of order n is entered at the 2^n offsets from
 *     folio->index (which is a multiple of 2^n), has folio->mapping set to
 *     its mapping, and holds 2^n references for the cache (one per page,
 *     as in Linux: split_folio() and migration count on it).
 *  2. mapping->nrpages is the number of pages (not folios) in the index.
 *  3. Entering and leaving the cache happens with the folio locked, so a
 *     holder of the folio lock who sees folio->mapping == mapping knows the
 *     folio is cached there.
 *  4. NR_FILE_PAGES counts cached pages; NR_SHMEM the subset in shmem
 *     mappings; NR_DIRTY the dirty pages of non-shmem mappings (tmpfs pages
 *     are never written back, as Linux's noop_dirty_folio does not count
 *     them either), also in mapping->nr_dirty.
 *  5. A fault never maps a folio at or beyond EOF: filemap_fault() checks
 *     i_size after locking the folio, and truncation lowers i_size before
 *     it unmaps and removes folios under their lock.
 *  6. The index changes only under i_pages_lock, but one offset is looked
 *     up without it (filemap_get_folio(), doc/MEMORY-ORDERING.md (r)): a
 *     folio is pointed away from (migration, split) only while its
 *     refcount is frozen, so a speculative reference fails or stops the
 *     move.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "pagemap.h"
#include "pin_policy.h"
#include "wait.h"
#include "rcu.h"

/* ------------------------------------------------------------------ */
/* The folio lock                                                      */

/*
 * Sleepers on a folio lock wait on one of a few hashed queues, keyed by the
 * folio's address; a wake-up wakes the whole queue and each sleeper
 * re-checks its own folio.  The queue's sleeper count lets folio_unlock()
 * skip the queue when nobody sleeps (wait.h):
 *
 *   sleeper (wait_event)                 unlocker
 *   sleepers++ (seq_cst)                 clear PG_locked (release)
 *   test_and_set PG_locked (seq_cst)     smp_mb()
 *   fails: sleep (drops the queue lock)  waitqueue_active() -> wake_up_all()
 *
 * Either the unlocker sees the sleeper's increment, and then it wakes
 * after taking the queue lock, which the sleeper holds until it sleeps; or
 * the sleeper's test_and_set sees PG_locked clear.  The queue lock is a
 * leaf held for a few instructions.
 */
#define FOLIO_WAIT_HASH_BITS	6
#define FOLIO_WAIT_HASH_SIZE	(1U << FOLIO_WAIT_HASH_BITS)

static wait_queue_head_t folio_wait_table[FOLIO_WAIT_HASH_SIZE];
static pthread_once_t folio_wait_once = PTHREAD_ONCE_INIT;

static void folio_wait_table_init(void)
{
	for (unsigned int i = 0; i < FOLIO_WAIT_HASH_SIZE; i++)
		init_waitqueue_head(&folio_wait_table[i]);
}

static wait_queue_head_t *folio_waitqueue(const struct folio *folio)
{
	uintptr_t key = (uintptr_t)folio / sizeof(struct page);

	key *= 0x9e3779b97f4a7c15ULL;		/* golden-ratio hash */
	pthread_once(&folio_wait_once, folio_wait_table_init);
	return &folio_wait_table[key >> (64 - FOLIO_WAIT_HASH_BITS)];
}

/**
 * folio_trylock() - take the folio lock if it is free.
 * @folio: a folio the caller holds a reference on.
 *
 * Context: any.
 * Return: true if the lock was taken.
 */
bool folio_trylock(struct folio *folio)
{
	return !test_and_set_bit_lock(PG_locked, &folio->flags);
}

/**
 * folio_lock() - take the folio lock, sleeping while someone else has it.
 * @folio: a folio the caller holds a reference on.
 *
 * Context: may sleep; see the lock order in fs.h (below mmap_lock and
 * i_rwsem, above i_mmap_rwsem and the page-table locks).
 */
void folio_lock(struct folio *folio)
{
	if (likely(folio_trylock(folio)))
		return;
	wait_event(folio_waitqueue(folio), !test_and_set_bit(PG_locked, &folio->flags));
}

/**
 * folio_unlock() - release the folio lock and wake its sleepers.
 * @folio: a folio locked by the caller.
 *
 * Context: any.
 */
void folio_unlock(struct folio *folio)
{
	wait_queue_head_t *q;

	VM_BUG_ON_FOLIO(!folio_test_Locked(folio), folio);
	clear_bit_unlock(PG_locked, &folio->flags);
	/* Order the clear before reading sleepers; pairs with folio_lock(). */
	smp_mb();
	q = folio_waitqueue(folio);
	if (waitqueue_active(q))
		wake_up_all(q);
}

/* ------------------------------------------------------------------ */
/* Dirty and accessed state                                            */

/* Dirty pages of this mapping are counted in NR_DIRTY (invariant 4). */
static bool mapping_accounts_dirty(const struct address_space *mapping)
{
	return mapping && !shmem_mapping(mapping);
}

/**
 * filemap_dirty_folio() - set PG_dirty and count the folio dirty once.
 * @mapping: the folio's mapping.
 * @folio: the folio.
 *
 * The default ->dirty_folio; a filesystem with its own may call it.
 *
 * Context: any; the caller keeps the folio from being truncated (folio
 * lock, or a mapped PTE's reference).
 * Return: true if the folio was clean before.
 */
bool filemap_dirty_folio(struct address_space *mapping, struct folio *folio)
{
	long nr = (long)folio_nr_pages(folio);

	if (test_and_set_bit(PG_dirty, &folio->flags))
		return false;
	if (mapping_accounts_dirty(mapping)) {
		mod_vm_stat(folio_machine(folio), NR_DIRTY, nr);
		atomic_long_add(nr, &mapping->nr_dirty);
	}
	return true;
}

/**
 * folio_mark_dirty() - the folio's contents changed.
 * @folio: the folio.
 *
 * Anonymous and detached folios just get PG_dirty; page-cache folios go
 * through their mapping's ->dirty_folio, or filemap_dirty_folio().
 *
 * Context: any.
 * Return: true if the folio was clean before.
 */
bool folio_mark_dirty(struct folio *folio)
{
	struct address_space *mapping = folio_mapping(folio);

	if (!mapping)
		return !test_and_set_bit(PG_dirty, &folio->flags);
	if (mapping->a_ops && mapping->a_ops->dirty_folio)
		return mapping->a_ops->dirty_folio(mapping, folio);
	return filemap_dirty_folio(mapping, folio);
}

/**
 * folio_clear_dirty_for_io() - clear PG_dirty before writing the folio back.
 * @folio: a locked page-cache folio.
 *
 * Context: folio locked.
 * Return: true if the folio was dirty (its count in NR_DIRTY is dropped).
 */
bool folio_clear_dirty_for_io(struct folio *folio)
{
	struct address_space *mapping = folio_mapping(folio);
	long nr = (long)folio_nr_pages(folio);

	VM_BUG_ON_FOLIO(!folio_test_Locked(folio), folio);
	if (!test_and_clear_bit(PG_dirty, &folio->flags))
		return false;
	if (mapping_accounts_dirty(mapping)) {
		mod_vm_stat(folio_machine(folio), NR_DIRTY, -nr);
		atomic_long_sub(nr, &mapping->nr_dirty);
	}
	return true;
}

/**
 * folio_mark_accessed() - note a use of the folio: first referenced, then
 * active on a second use.
 * @folio: the folio.
 *
 * Context: any.
 */
void folio_mark_accessed(struct folio *folio)
{
	if (!folio_test_Referenced(folio)) {
		folio_set_Referenced(folio);
	} else if (!folio_test_Active(folio)) {
		folio_set_Active(folio);
		folio_clear_Referenced(folio);
	}
}

/* ------------------------------------------------------------------ */
/* The cache                                                           */

/**
 * address_space_init() - set up an empty page cache for @host.
 * @mapping: the address space, usually &host->i_data.
 * @host: the inode.
 *
 * Context: @mapping is not yet visible to anyone else.
 */
void address_space_init(struct address_space *mapping, struct inode *host)
{
	mapping->host = host;
	spin_lock_init(&mapping->i_pages_lock);
	page_index_init(&mapping->i_pages);
	mapping->nrpages = 0;
	init_rwsem(&mapping->i_mmap_rwsem);
	INIT_LIST_HEAD(&mapping->i_mmap);
	mapping->a_ops = NULL;
	mapping->flags = 0;
	atomic_long_set(&mapping->nr_dirty, 0);
}

/**
 * address_space_destroy() - release what address_space_init() set up.
 * @mapping: an address space whose cache is empty.
 *
 * Context: nobody else can reach @mapping (inode eviction).
 */
void address_space_destroy(struct address_space *mapping)
{
	VM_BUG_ON(mapping->nrpages);
	page_index_destroy(&mapping->i_pages);
	spin_lock_destroy(&mapping->i_pages_lock);
	destroy_rwsem(&mapping->i_mmap_rwsem);
}

static struct pinmm *mapping_machine(const struct address_space *mapping)
{
	return mapping->host->i_sb->machine;
}

/*
 * The first cached folio at an offset in [*index, last], referenced, with
 * *index set to the offset found.  A folio whose refcount is frozen (being
 * split or migrated) is about to be replaced: wait for that.
 */
static struct folio *filemap_get_next_folio(struct address_space *mapping,
					    pgoff_t *index, pgoff_t last)
{
	struct folio *folio;

	for (;;) {
		pgoff_t i = *index;

		spin_lock(&mapping->i_pages_lock);
		folio = page_index_next(&mapping->i_pages, &i, last);
		if (folio && !folio_try_get(folio)) {
			spin_unlock(&mapping->i_pages_lock);
			sched_yield();
			continue;
		}
		spin_unlock(&mapping->i_pages_lock);
		if (folio)
			*index = i;
		return folio;
	}
}

/**
 * filemap_get_folio() - look a folio up in the page cache, without a lock.
 * @mapping: the address space.
 * @index: page offset.
 *
 * Linux's filemap_get_entry(), the speculative lookup of the lockless page
 * cache (doc/MEMORY-ORDERING.md (r)): under rcu_read_lock(), R1 load the
 * slot; R2 folio_try_get(), which fails while the refcount is 0 (the folio
 * is free, or frozen by migration, split or reclaim: look again); R3 load
 * the slot again: a different entry means the folio left this offset
 * between R1 and R2, so drop the reference and look again.  What is
 * returned was in the cache, referenced, at R3: an updater that replaces
 * or removes it must first freeze its refcount under i_pages_lock, which
 * fails against our reference (R2 before the freeze) or makes R2 fail.
 *
 * Context: any; may not be called with i_pages_lock held (it does not
 * take it).
 * Return: the folio covering @index with a reference held (it may be
 * large: its first offset is folio->index), or NULL.
 */
struct folio *filemap_get_folio(struct address_space *mapping, pgoff_t index)
{
	struct folio *folio;

	rcu_read_lock();
	for (;;) {
		folio = page_index_load(&mapping->i_pages, index);	/* R1 */
		if (!folio)
			break;
		if (!folio_try_get(folio)) {				/* R2 */
			count_vm_event(mapping_machine(mapping), PGCACHE_LOOKUP_RETRY);
			explore_point(EP_SPIN, folio);
			continue;
		}
		if (likely(folio == page_index_load(&mapping->i_pages, index)))	/* R3 */
			break;
		/* Moved: the put may free it, so not inside the section. */
		count_vm_event(mapping_machine(mapping), PGCACHE_LOOKUP_RETRY);
		rcu_read_unlock();
		folio_put(folio);
		rcu_read_lock();
	}
	rcu_read_unlock();
	return folio;
}

/**
 * filemap_add_folio() - enter a new folio into the page cache.
 * @mapping: the address space.
 * @folio: a locked folio that belongs to no mapping.
 * @index: page offset; a multiple of the folio's size in pages.
 *
 * Sets folio->mapping and folio->index, takes the cache's references (one
 * per page) and counts NR_FILE_PAGES (and NR_SHMEM for a shmem mapping).
 *
 * Context: folio locked; takes i_pages_lock.
 * Return: 0; -EEXIST if one of the offsets is cached already; -ENOMEM.
 */
int filemap_add_folio(struct address_space *mapping, struct folio *folio,
		      pgoff_t index)
{
	unsigned long nr = folio_nr_pages(folio);
	struct pinmm *m = folio_machine(folio);
	int err;

	VM_BUG_ON_FOLIO(!folio_test_Locked(folio), folio);
	VM_BUG_ON_FOLIO(folio->mapping, folio);
	VM_BUG_ON_FOLIO(index & (nr - 1), folio);

	folio_ref_add(folio, (int)nr);
	folio->index = index;
	WRITE_ONCE(folio->mapping, mapping);

	spin_lock(&mapping->i_pages_lock);
	err = page_index_insert(&mapping->i_pages, index, nr, folio);
	if (!err)
		mapping->nrpages += nr;
	spin_unlock(&mapping->i_pages_lock);

	if (err) {
		WRITE_ONCE(folio->mapping, NULL);
		folio_put_refs(folio, (int)nr);
		return err;
	}
	mod_vm_stat(m, NR_FILE_PAGES, (long)nr);
	if (shmem_mapping(mapping))
		mod_vm_stat(m, NR_SHMEM, (long)nr);
	return 0;
}

/**
 * filemap_remove_folio() - take a folio out of the page cache.
 * @folio: a locked page-cache folio; it should be unmapped.
 *
 * Clears folio->mapping, drops its dirty count and the cache's references.
 *
 * Context: folio locked; takes i_pages_lock.
 */
void filemap_remove_folio(struct folio *folio)
{
	struct address_space *mapping = folio->mapping;
	unsigned long nr = folio_nr_pages(folio);
	struct pinmm *m = folio_machine(folio);

	VM_BUG_ON_FOLIO(!folio_test_Locked(folio), folio);
	VM_BUG_ON_FOLIO(!mapping || folio_test_anon(folio), folio);

	folio_clear_dirty_for_io(folio);
	/* Data a legacy writeback had to skip never reached disk. */
	if (unlikely(folio_test_NoDisk(folio))) {
		folio_clear_NoDisk(folio);
		pin_policy_data_lost(folio);
	}

	spin_lock(&mapping->i_pages_lock);
	for (unsigned long i = 0; i < nr; i++) {
		void *old = page_index_delete(&mapping->i_pages, folio->index + i);

		VM_BUG_ON_FOLIO(old != folio, folio);
		(void)old;
	}
	mapping->nrpages -= nr;
	spin_unlock(&mapping->i_pages_lock);

	WRITE_ONCE(folio->mapping, NULL);
	mod_vm_stat(m, NR_FILE_PAGES, -(long)nr);
	if (shmem_mapping(mapping))
		mod_vm_stat(m, NR_SHMEM, -(long)nr);
	folio_put_refs(folio, (int)nr);
}

/**
 * filemap_split_folio_entries() - point the offsets of a folio that was
 * just split at the small folios it became.
 * @mapping: the address space.
 * @folio: the former head, now a small folio at its old index.
 * @old_nr: pages the folio had.
 *
 * For split_folio() on a page-cache folio, once the new folios are set up
 * (mapping and index set, each holding its own cache reference: invariant
 * 1) and before their refcounts are unfrozen.  The former head keeps one
 * cache reference; the other old_nr - 1 went to the new folios.
 *
 * Context: refcount frozen; i_pages_lock held by the caller.
 */
void filemap_split_folio_entries(struct address_space *mapping,
				 struct folio *folio, unsigned long old_nr)
{
	assert_spin_locked(&mapping->i_pages_lock);
	for (unsigned long i = 1; i < old_nr; i++) {
		struct folio *part = page_folio(folio_page(folio, i));
		void *old = page_index_replace(&mapping->i_pages, folio->index + i, part);

		VM_BUG_ON(old != folio);
		(void)old;
	}
}

/**
 * filemap_count() - number of cached folios with a page in [@start, @end].
 * @mapping: the address space.
 * @start: first page offset.
 * @end: last page offset (inclusive).
 *
 * Context: any; takes i_pages_lock.
 * Return: the number of folios (a large folio counts once).
 */
unsigned long filemap_count(struct address_space *mapping, pgoff_t start, pgoff_t end)
{
	unsigned long count = 0;
	pgoff_t index = start;
	struct folio *folio;

	spin_lock(&mapping->i_pages_lock);
	while ((folio = page_index_next(&mapping->i_pages, &index, end))) {
		pgoff_t next = folio->index + folio_nr_pages(folio);

		count++;
		if (next <= index || next == 0)
			break;
		index = next;
	}
	spin_unlock(&mapping->i_pages_lock);
	return count;
}

/**
 * filemap_for_each() - call @fn once for each cached folio, in offset order.
 * @mapping: the address space.
 * @fn: called with the folio, its first offset and @arg; it must not sleep
 *	or take i_pages_lock (it may take a reference).
 * @arg: passed to @fn.
 *
 * Context: takes i_pages_lock around the walk.
 */
void filemap_for_each(struct address_space *mapping,
		      void (*fn)(struct folio *folio, pgoff_t index, void *arg), void *arg)
{
	pgoff_t index = 0;
	struct folio *folio;

	spin_lock(&mapping->i_pages_lock);
	while ((folio = page_index_next(&mapping->i_pages, &index, ~0UL))) {
		pgoff_t next = folio->index + folio_nr_pages(folio);

		fn(folio, folio->index, arg);
		if (next <= index || next == 0)
			break;
		index = next;
	}
	spin_unlock(&mapping->i_pages_lock);
}

/**
 * __filemap_get_folio() - find, and with FGP_CREAT create, the folio at
 * @index.
 * @mapping: the address space.
 * @index: page offset.
 * @fgp_flags: FGP_LOCK to return it locked; FGP_CREAT to allocate an
 *	order-0 folio when none is cached (it comes back locked and, unless
 *	the allocation zeroed it, not uptodate).
 * @gfp: allocation flags for FGP_CREAT.
 *
 * A new folio of a shmem mapping is PG_swapbacked.  A folio found locked
 * is re-checked after locking: if truncation took it out meanwhile, the
 * lookup starts over.
 *
 * Context: may sleep (folio lock).
 * Return: a referenced folio covering @index; ERR_PTR(-ENOENT) when there
 * is none and !FGP_CREAT; ERR_PTR(-ENOMEM).
 */
struct folio *__filemap_get_folio(struct address_space *mapping, pgoff_t index,
				  unsigned int fgp_flags, gfp_t gfp)
{
	struct folio *folio;
	int err;

repeat:
	folio = filemap_get_folio(mapping, index);
	if (folio) {
		if (fgp_flags & FGP_LOCK) {
			folio_lock(folio);
			if (unlikely(folio->mapping != mapping)) {
				folio_unlock(folio);
				folio_put(folio);
				goto repeat;
			}
		}
		return folio;
	}
	if (!(fgp_flags & FGP_CREAT))
		return ERR_PTR(-ENOENT);

	folio = folio_alloc(mapping_machine(mapping), gfp, 0);
	if (!folio)
		return ERR_PTR(-ENOMEM);
	if (shmem_mapping(mapping))
		folio_set_SwapBacked(folio);
	if (gfp & __GFP_ZERO)
		folio_set_Uptodate(folio);
	folio_lock(folio);
	err = filemap_add_folio(mapping, folio, index);
	if (err) {
		folio_unlock(folio);
		folio_put(folio);
		if (err == -EEXIST)
			goto repeat;
		return ERR_PTR(err);
	}
	if (!(fgp_flags & FGP_LOCK))
		folio_unlock(folio);
	return folio;
}

/**
 * filemap_read_folio() - make a locked cache folio uptodate.
 * @file: the file it is read for (passed to ->read_folio).
 * @mapping: the folio's mapping.
 * @folio: a locked folio of @mapping.
 *
 * Reads through ->read_folio (which unlocks the folio) and locks it again;
 * a mapping without ->read_folio gets a zeroed folio.
 *
 * Context: folio locked on entry and on return; may sleep.
 * Return: 0; -EIO; -EAGAIN when truncation took the folio away meanwhile
 * (the caller unlocks, drops it and looks the offset up again).
 */
int filemap_read_folio(struct file *file, struct address_space *mapping,
		       struct folio *folio)
{
	int err;

	if (folio_test_Uptodate(folio))
		return 0;
	if (!mapping->a_ops || !mapping->a_ops->read_folio) {
		/* Nothing to read from: a new page of such a file is zeroes. */
		memset(folio_address(folio), 0, folio_size(folio));
		folio_set_Uptodate(folio);
		return 0;
	}
	err = mapping->a_ops->read_folio(file, folio);
	folio_lock(folio);
	if (folio->mapping != mapping)
		return -EAGAIN;
	if (err || !folio_test_Uptodate(folio))
		return -EIO;
	return 0;
}

/*
 * Does a fault on a folio of @mapping that is missing or not uptodate have
 * to wait for storage?  Only when the filesystem reads folios in (pinfs);
 * tmpfs and friends get a zeroed folio and never wait.
 */
static bool mapping_reads_storage(const struct address_space *mapping)
{
	return mapping->a_ops && mapping->a_ops->read_folio;
}

/*
 * The fault is about to wait (for storage, or for a folio lock someone
 * else holds).  On the first attempt of a fault that allows a retry, and
 * unless it asked not to wait at all, release mmap_lock for the wait: the
 * fault will then end in VM_FAULT_RETRY and be repeated with
 * FAULT_FLAG_TRIED, which never releases it again.  The file stays
 * referenced across the wait (vmf->vma may be gone once the lock is
 * dropped; only @fpin, its mapping and inode are used after that).
 *
 * Return: @fpin when already released; else the referenced file when
 * mmap_lock was released now, or NULL when it is still held.
 */
static struct file *maybe_unlock_mmap_for_io(struct vm_fault *vmf, struct file *fpin)
{
	unsigned int flags = vmf->flags;

	if (fpin)
		return fpin;
	if ((flags & FAULT_FLAG_ALLOW_RETRY) &&
	    !(flags & (FAULT_FLAG_TRIED | FAULT_FLAG_RETRY_NOWAIT))) {
		struct mm_struct *mm = vmf->vma->vm_mm;

		fpin = vmf->vma->vm_file;
		get_file(fpin);
		mmap_read_unlock(mm);		/* step F1 (doc/LOCKING.md) */
	}
	return fpin;
}

/*
 * Lock a cached @folio for the fault.  When it is locked by someone else
 * (a read in flight, truncation, writeback preparing it): with
 * FAULT_FLAG_RETRY_NOWAIT give up at once, mmap_lock still held; else wait,
 * releasing mmap_lock first when the fault allows it.
 * Return: true with the folio locked; false (not locked) for NOWAIT.
 */
static bool lock_folio_maybe_drop_mmap(struct vm_fault *vmf, struct folio *folio,
				       struct file **fpin)
{
	if (folio_trylock(folio))
		return true;
	if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT)
		return false;
	*fpin = maybe_unlock_mmap_for_io(vmf, *fpin);
	folio_lock(folio);
	return true;
}

/**
 * filemap_fault() - the generic ->fault: the page-cache folio at vmf->pgoff.
 * @vmf: the fault; vmf->vma->vm_file is the file.
 *
 * Creates the folio when it is not cached (shmem: a zeroed page, also on a
 * read fault; other filesystems: read through ->read_folio, counted as a
 * major fault).
 *
 * Waiting follows Linux's retry protocol for filesystems that read from
 * storage (tmpfs never waits for storage and keeps mmap_lock throughout):
 *  - FAULT_FLAG_RETRY_NOWAIT: a folio that would have to be read, or that
 *    is locked by someone else, is not waited for: VM_FAULT_RETRY with
 *    mmap_lock still held and nothing read (Linux would start readahead:
 *    doc/DESIGN.md);
 *  - FAULT_FLAG_ALLOW_RETRY without FAULT_FLAG_TRIED: mmap_lock is released
 *    before the wait, the folio is read (or its lock waited for) into the
 *    cache, and the fault returns VM_FAULT_RETRY with mmap_lock released;
 *    the caller faults again with FAULT_FLAG_TRIED and finds it cached;
 *  - otherwise the read happens with mmap_lock held.
 *
 * Context: mmap_lock held for reading; released on VM_FAULT_RETRY unless
 * FAULT_FLAG_RETRY_NOWAIT was set.  May sleep.
 * Return: VM_FAULT_LOCKED with vmf->folio referenced, locked and uptodate
 * and vmf->page set; VM_FAULT_RETRY (see above); VM_FAULT_SIGBUS at or
 * beyond EOF or on a read error; VM_FAULT_OOM.  VM_FAULT_MAJOR is or-ed in
 * when the folio was not cached.
 */
vm_fault_t filemap_fault(struct vm_fault *vmf)
{
	struct file *file = vmf->vma->vm_file;
	struct address_space *mapping = file->f_mapping;
	struct inode *inode = mapping->host;
	bool io = mapping_reads_storage(mapping);
	pgoff_t index = vmf->pgoff;
	struct file *fpin = NULL;
	vm_fault_t ret = 0;
	struct folio *folio;
	int err;

retry:
	if ((long long)index >= DIV_ROUND_UP(READ_ONCE(inode->i_size), (long long)PAGE_SIZE))
		goto sigbus;

	folio = filemap_get_folio(mapping, index);
	if (!folio) {
		if (!shmem_mapping(mapping) && !(ret & VM_FAULT_MAJOR)) {
			count_vm_event(mapping_machine(mapping), PGMAJFAULT);
			ret |= VM_FAULT_MAJOR;
		}
		if (io) {
			if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT)
				goto out_retry;
			fpin = maybe_unlock_mmap_for_io(vmf, fpin);
		}
		folio = __filemap_get_folio(mapping, index, FGP_LOCK | FGP_CREAT,
					    mapping_gfp_mask(mapping));
		if (IS_ERR(folio)) {
			if (fpin)
				goto out_retry;
			return VM_FAULT_OOM;
		}
	} else if (!io) {
		folio_lock(folio);
	} else if (!lock_folio_maybe_drop_mmap(vmf, folio, &fpin)) {
		folio_put(folio);
		goto out_retry;
	}

	if (unlikely(folio->mapping != mapping)) {
		/* Truncated while we slept on the lock. */
		folio_unlock(folio);
		folio_put(folio);
		goto retry;
	}
	if (io && !folio_test_Uptodate(folio)) {
		if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT) {
			folio_unlock(folio);
			folio_put(folio);
			goto out_retry;
		}
		fpin = maybe_unlock_mmap_for_io(vmf, fpin);
	}
	err = filemap_read_folio(file, mapping, folio);
	if (err) {
		folio_unlock(folio);
		folio_put(folio);
		if (err == -EAGAIN)
			goto retry;
		if (fpin)
			goto out_retry;	/* the retry reads again, and fails for good */
		return VM_FAULT_SIGBUS;
	}
	if (fpin) {
		/* The folio is cached and uptodate now: let the caller retry. */
		folio_unlock(folio);
		folio_put(folio);
		goto out_retry;
	}
	/* Invariant 5: truncation may have lowered i_size meanwhile. */
	if ((long long)index >= DIV_ROUND_UP(READ_ONCE(inode->i_size), (long long)PAGE_SIZE)) {
		folio_unlock(folio);
		folio_put(folio);
		return VM_FAULT_SIGBUS;
	}

	folio_mark_accessed(folio);
	vmf->folio = folio;
	vmf->page = folio_page(folio, index - folio->index);
	return ret | VM_FAULT_LOCKED;

sigbus:
	if (!fpin)
		return VM_FAULT_SIGBUS;
out_retry:
	/* Step F2 (doc/LOCKING.md): mmap_lock released unless RETRY_NOWAIT. */
	if (fpin)
		fput(fpin);
	return ret | VM_FAULT_RETRY;
}

/* ------------------------------------------------------------------ */
/* Truncation                                                          */

/* Zero bytes [from, to] (file offsets) of a locked folio and tell the fs. */
static void folio_zero_range_locked(struct address_space *mapping, struct folio *folio,
				    long long from, long long to)
{
	long long pos = folio_pos(folio);
	size_t off = (size_t)(from - pos), len = (size_t)(to - from + 1);

	memset((char *)folio_address(folio) + off, 0, len);
	if (mapping->a_ops && mapping->a_ops->invalidate_folio)
		mapping->a_ops->invalidate_folio(folio, off, len);
}

/**
 * truncate_inode_pages_range() - drop the cache over bytes [@lstart, @lend].
 * @mapping: the address space.
 * @lstart: first byte.
 * @lend: last byte (inclusive), or -1 for "to the end".
 *
 * First unmaps the whole pages of the range from every VMA (shared
 * mappings; private COW copies stay, as for a hole punch).  Then each cached
 * folio wholly inside is removed; a folio only partly inside has that part
 * zeroed and stays, after a large one has been split where possible (a
 * pinned large folio cannot be split: it is zeroed in part and kept).
 * Truncation to a smaller size sets i_size first and unmaps COW copies
 * beyond it itself (see shmem_setsize()).
 *
 * Context: may sleep; the caller holds i_rwsem for writing (or is evicting
 * the inode).
 */
void truncate_inode_pages_range(struct address_space *mapping, long long lstart,
				long long lend)
{
	long long hole_start, hole_end;
	pgoff_t index, last;
	struct folio *folio;

	VM_BUG_ON(lstart < 0);
	if (lend < 0 || lend > MAX_LFS_FILESIZE - 1)
		lend = MAX_LFS_FILESIZE - 1;
	if (lend < lstart)
		return;

	/* Whole pages of the range: [hole_start, hole_end). */
	hole_start = ALIGN(lstart, (long long)PAGE_SIZE);
	hole_end = ALIGN_DOWN(lend + 1, (long long)PAGE_SIZE);
	if (hole_end > hole_start)
		unmap_mapping_range(mapping, hole_start, hole_end - hole_start, false);

	index = (pgoff_t)(lstart >> PAGE_SHIFT);
	last = (pgoff_t)(lend >> PAGE_SHIFT);
	while ((folio = filemap_get_next_folio(mapping, &index, last))) {
		long long fstart, fend;
		pgoff_t next;

		folio_lock(folio);
		if (folio->mapping != mapping) {
			/* Removed while we waited; look at this offset again. */
			folio_unlock(folio);
			folio_put(folio);
			continue;
		}
		fstart = folio_pos(folio);
		fend = fstart + (long long)folio_size(folio) - 1;
		next = folio->index + folio_nr_pages(folio);

		if (fstart >= lstart && fend <= lend) {
			/* A fault may have mapped it again after the unmap above. */
			if (folio_mapped(folio))
				unmap_mapping_range(mapping, fstart, (long long)folio_size(folio),
						    false);
			if (mapping->a_ops && mapping->a_ops->invalidate_folio)
				mapping->a_ops->invalidate_folio(folio, 0, folio_size(folio));
			filemap_remove_folio(folio);
		} else if (folio_test_large(folio) && split_folio(folio) == 0) {
			/* Now small folios: visit the same offset again. */
			folio_unlock(folio);
			folio_put(folio);
			continue;
		} else {
			folio_zero_range_locked(mapping, folio,
						fstart > lstart ? fstart : lstart,
						fend < lend ? fend : lend);
		}
		folio_unlock(folio);
		folio_put(folio);
		if (next == 0 || next > last)
			break;
		index = next;
	}
}
