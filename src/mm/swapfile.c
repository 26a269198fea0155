/* SPDX-License-Identifier: MIT */
/*
 * swapfile.c - the swap device of a machine: slot allocation, per-slot
 * swap counts (swap_map), the swap cache, slot I/O, and the leak check at
 * shutdown.  Linux splits this over mm/swapfile.c and mm/swap_state.c.
 *
 * A slot's life, as in Linux:
 *   folio_alloc_swap()      swap-out: a free slot, SWAP_HAS_CACHE, the
 *                           folio enters the swap cache (one reference)
 *   swap_duplicate()        each PTE that becomes an entry for the slot
 *                           (try_to_unmap) and each fork copy: count + 1
 *   swap_remove_mapping()   the written folio leaves the cache and is freed;
 *                           the slot lives on with its count
 *   swapcache_prepare()     swap-in of a slot without a cached folio: the
 *                           reader sets SWAP_HAS_CACHE, reads the slot into
 *                           a new folio, swap_add_read_folio()
 *   swap_free()             a swapped-in PTE no longer references the slot
 *   free_swap_and_cache()   zap (munmap, DONTNEED, exit) of an entry
 *   folio_free_swap()       no entry references the slot any more: the
 *                           folio leaves the cache, the slot is free
 * A slot is free when its count is 0 and no folio is cached for it.
 *
 * Fault injection: slot allocation is the "swap_slot" site (swap full).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fault_inject.h"
#include "init.h"
#include "swap.h"

static struct swap_info_struct *swap_info(struct pinmm *m)
{
	return m ? m->swap : NULL;
}

/**
 * swap_enabled() - has machine @m a swap device?
 * Context: any.
 * Return: true when booted with swap > 0.
 */
bool swap_enabled(struct pinmm *m)
{
	return swap_info(m) != NULL;
}

/**
 * swap_init() - create the swap device of @m from cfg.swap (boot).
 * Context: boot, single-threaded.
 * Return: 0 (also without swap); -ENOMEM.
 */
int swap_init(struct pinmm *m)
{
	struct swap_info_struct *si;
	unsigned long slots = m->cfg.swap >> PAGE_SHIFT;

	if (slots < 2)		/* slot 0 is the header: no usable slot */
		return 0;
	si = kzalloc(sizeof(*si));
	if (!si)
		return -ENOMEM;
	si->machine = m;
	si->max = slots;
	si->cluster_next = 1;
	si->latency_us = m->cfg.swap_latency_us;
	si->swap_map = kcalloc(slots, sizeof(*si->swap_map));
	si->swap_cache = kcalloc(slots, sizeof(*si->swap_cache));
	si->audit_refs = kcalloc(slots, sizeof(*si->audit_refs));
	si->data_bytes = slots << PAGE_SHIFT;
	si->data = mmap(NULL, si->data_bytes, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (si->data == MAP_FAILED)
		si->data = NULL;
	if (!si->swap_map || !si->swap_cache || !si->audit_refs || !si->data) {
		if (si->data)
			munmap(si->data, si->data_bytes);
		kfree(si->audit_refs);
		kfree(si->swap_map);
		kfree(si->swap_cache);
		kfree(si);
		return -ENOMEM;
	}
	spin_lock_init(&si->lock);
	m->swap = si;
	return 0;
}

/**
 * swap_exit() - free the swap device (shutdown, after swap_check_leaks()).
 * Context: shutdown, single-threaded.
 */
void swap_exit(struct pinmm *m)
{
	struct swap_info_struct *si = swap_info(m);

	if (!si)
		return;
	munmap(si->data, si->data_bytes);
	spin_lock_destroy(&si->lock);
	kfree(si->swap_map);
	kfree(si->swap_cache);
	kfree(si->audit_refs);
	kfree(si);
	m->swap = NULL;
}

/**
 * swap_check_leaks() - count slots still in use (shutdown: every process
 * has exited, so every count must be 0 and the cache empty).
 * @report: print the first leaked slots to stderr.
 * Context: no other thread uses the machine.
 * Return: slots in use.
 */
long swap_check_leaks(struct pinmm *m, bool report)
{
	struct swap_info_struct *si = swap_info(m);
	long leaked = 0;

	if (!si)
		return 0;
	spin_lock(&si->lock);
	for (unsigned long off = 1; off < si->max; off++) {
		unsigned int v = si->swap_map[off];

		if (!v)
			continue;
		if (report && leaked < 8)
			fprintf(stderr, "pinmm: shutdown: swap slot %lu leaked: count %u%s\n", off,
				v & SWAP_COUNT_MASK, (v & SWAP_HAS_CACHE) ? ", in the swap cache" : "");
		leaked++;
	}
	spin_unlock(&si->lock);
	return leaked;
}

/* Release a slot whose count and cache are both gone (si->lock held). */
static void swap_slot_release(struct swap_info_struct *si, unsigned long off)
{
	assert_spin_locked(&si->lock);
	VM_BUG_ON(si->swap_map[off] || si->swap_cache[off]);
	si->inuse_pages--;
	mod_vm_stat(si->machine, NR_SWAP_USED, -1);
}

/* Valid slot of an entry of this device, or 0. */
static unsigned long entry_offset(struct swap_info_struct *si, pte_t entry)
{
	unsigned long off;

	if (!si || !is_swapfile_entry(entry))
		return 0;
	off = swp_offset(entry);
	return off && off < si->max ? off : 0;
}

static void add_to_swap_cache_locked(struct swap_info_struct *si, struct folio *folio,
				     unsigned long off)
{
	assert_spin_locked(&si->lock);
	VM_BUG_ON(si->swap_cache[off]);
	si->swap_cache[off] = folio;
	folio->private = (void *)off;
	folio_set_SwapCache(folio);
	mod_vm_stat(si->machine, NR_SWAPCACHE, 1);
}

static void delete_from_swap_cache_locked(struct swap_info_struct *si, struct folio *folio)
{
	unsigned long off = folio_swap_offset(folio);

	assert_spin_locked(&si->lock);
	VM_BUG_ON(si->swap_cache[off] != folio);
	si->swap_cache[off] = NULL;
	si->swap_map[off] &= ~SWAP_HAS_CACHE;
	folio_clear_SwapCache(folio);
	folio->private = NULL;
	mod_vm_stat(si->machine, NR_SWAPCACHE, -1);
	if (!si->swap_map[off])
		swap_slot_release(si, off);
}

/**
 * folio_alloc_swap() - give the small anonymous @folio a swap slot and put
 * it in the swap cache (add_to_swap()).  The cache takes a reference.
 * Context: folio locked, not in the swap cache.
 * Return: 0; -ENOMEM when swap is full, absent, or the "swap_slot"
 * fault-injection site fires.
 */
int folio_alloc_swap(struct folio *folio)
{
	struct pinmm *m = folio_machine(folio);
	struct swap_info_struct *si = swap_info(m);
	unsigned long off = 0;

	VM_BUG_ON_FOLIO(folio_test_large(folio) || folio_test_SwapCache(folio), folio);
	if (!si || should_fail(FAIL_SITE("swap_slot")))
		return -ENOMEM;
	spin_lock(&si->lock);
	for (unsigned long i = 0; i < si->max - 1 && si->inuse_pages < si->max - 1; i++) {
		unsigned long cand = si->cluster_next;

		si->cluster_next = cand + 1 < si->max ? cand + 1 : 1;
		if (!si->swap_map[cand]) {
			off = cand;
			break;
		}
	}
	if (!off) {
		spin_unlock(&si->lock);
		return -ENOMEM;
	}
	si->swap_map[off] = SWAP_HAS_CACHE;
	si->inuse_pages++;
	mod_vm_stat(m, NR_SWAP_USED, 1);
	folio_get(folio);
	add_to_swap_cache_locked(si, folio, off);
	spin_unlock(&si->lock);
	return 0;
}

/**
 * swap_duplicate() - one more swap entry references the slot of @entry
 * (try_to_unmap, fork's copy_nonpresent_pte).
 * Context: the page-table lock of an entry that already references the
 * slot, or the locked folio in the swap cache for the slot.
 * Return: 0; -EINVAL for an entry whose slot is free (a bug) or not ours.
 */
int swap_duplicate(struct pinmm *m, pte_t entry)
{
	struct swap_info_struct *si = swap_info(m);
	unsigned long off = entry_offset(si, entry);
	int ret = 0;

	if (!off)
		return -EINVAL;
	spin_lock(&si->lock);
	if (WARN(!si->swap_map[off], "swap: duplicate of free slot %lu", off))
		ret = -EINVAL;
	else
		si->swap_map[off]++;
	spin_unlock(&si->lock);
	return ret;
}

/* Drop one count; true when the slot has none left but a cached folio. */
static bool swap_put_count(struct swap_info_struct *si, unsigned long off)
{
	unsigned int v;

	assert_spin_locked(&si->lock);
	v = si->swap_map[off];
	if (WARN(!(v & SWAP_COUNT_MASK), "swap: free of slot %lu without a count", off))
		return false;
	si->swap_map[off] = --v;
	if (!v)
		swap_slot_release(si, off);
	return v == SWAP_HAS_CACHE;
}

/**
 * swap_free() - the swap entry @entry no longer references its slot
 * (swap-in mapped the page, or a failed unmap restores the PTE).
 * Context: the page-table lock of the entry, or the folio lock.
 */
void swap_free(struct pinmm *m, pte_t entry)
{
	struct swap_info_struct *si = swap_info(m);
	unsigned long off = entry_offset(si, entry);

	if (!off)
		return;
	spin_lock(&si->lock);
	swap_put_count(si, off);
	spin_unlock(&si->lock);
}

/**
 * free_swap_and_cache() - zap of a swap entry: drop its count; when it was
 * the last and a folio is cached for the slot, try to take the folio out of
 * the swap cache too (Linux's __try_to_reclaim_swap(); a busy folio stays
 * and leaves the cache when its owner is done with it).
 * Context: the page-table lock of the (cleared) entry may be held.
 */
void free_swap_and_cache(struct pinmm *m, pte_t entry)
{
	struct swap_info_struct *si = swap_info(m);
	unsigned long off = entry_offset(si, entry);
	struct folio *folio = NULL;

	if (!off)
		return;
	spin_lock(&si->lock);
	if (swap_put_count(si, off)) {
		folio = si->swap_cache[off];
		if (folio && !folio_try_get(folio))
			folio = NULL;
	}
	spin_unlock(&si->lock);
	if (!folio)
		return;
	if (folio_trylock(folio)) {
		folio_free_swap(folio);
		folio_unlock(folio);
	}
	folio_put(folio);
}

/**
 * folio_free_swap() - take @folio out of the swap cache and free its slot
 * if no swap entry references the slot any more.  The slot's copy is gone
 * afterwards, so the folio is dirty again.
 * Context: folio locked.
 * Return: true if the folio left the swap cache.
 */
bool folio_free_swap(struct folio *folio)
{
	struct swap_info_struct *si = swap_info(folio_machine(folio));
	unsigned long off;
	bool freed = false;

	VM_BUG_ON_FOLIO(!folio_test_Locked(folio), folio);
	if (!si || !folio_test_SwapCache(folio) || folio_test_Writeback(folio))
		return false;
	off = folio_swap_offset(folio);
	spin_lock(&si->lock);
	if (si->swap_map[off] == SWAP_HAS_CACHE && si->swap_cache[off] == folio) {
		delete_from_swap_cache_locked(si, folio);
		freed = true;
	}
	spin_unlock(&si->lock);
	if (freed) {
		folio_mark_dirty(folio);
		folio_put(folio);	/* the cache's reference; the caller holds one */
	}
	return freed;
}

/**
 * swap_remove_mapping() - __remove_mapping() for a written, unmapped
 * swap-cache folio: freeze the refcount at the cache's plus the caller's,
 * so that a GUP reference, a pin or a swap-in lookup keeps the folio; then
 * the folio leaves the cache and the caller's put frees it.
 * Context: folio locked, caller holds one reference.
 * Return: true if removed.
 */
bool swap_remove_mapping(struct folio *folio)
{
	struct swap_info_struct *si = swap_info(folio_machine(folio));

	if (!si || !folio_test_SwapCache(folio) || folio_mapped(folio))
		return false;
	spin_lock(&si->lock);
	if (!folio_ref_freeze(folio, 2)) {
		spin_unlock(&si->lock);
		return false;
	}
	/* Frozen first, then dirty: a writer that dirtied and let go is seen. */
	if (folio_test_Dirty(folio)) {
		folio_ref_unfreeze(folio, 2);
		spin_unlock(&si->lock);
		return false;
	}
	delete_from_swap_cache_locked(si, folio);
	folio_ref_unfreeze(folio, 1);
	spin_unlock(&si->lock);
	return true;
}

/**
 * swap_entry_count() - the swap count of slot @offset (no cache bit).
 * Context: any; a snapshot.
 * Return: the count, or -EINVAL for a slot that does not exist.
 */
int swap_entry_count(struct pinmm *m, unsigned long offset)
{
	struct swap_info_struct *si = swap_info(m);
	int n;

	if (!si || !offset || offset >= si->max)
		return -EINVAL;
	spin_lock(&si->lock);
	n = (int)(si->swap_map[offset] & SWAP_COUNT_MASK);
	spin_unlock(&si->lock);
	return n;
}

/**
 * swap_cache_get_folio() - the folio cached for slot @offset, with a
 * reference.
 * Context: any; takes si->lock.
 * Return: the folio, or NULL (none cached, or frozen by a removal).
 */
struct folio *swap_cache_get_folio(struct pinmm *m, unsigned long offset)
{
	struct swap_info_struct *si = swap_info(m);
	struct folio *folio;

	if (!si || !offset || offset >= si->max)
		return NULL;
	spin_lock(&si->lock);
	folio = si->swap_cache[offset];
	if (folio && !folio_try_get(folio))
		folio = NULL;
	spin_unlock(&si->lock);
	return folio;
}

/**
 * swapcache_prepare() - claim slot @offset for reading it into a new folio.
 * Context: any; takes si->lock.
 * Return: 0 (claimed: SWAP_HAS_CACHE set); -EEXIST when a folio is or is
 * being cached for it (look it up again); -ENOENT when no entry references
 * the slot any more (the PTE changed).
 */
int swapcache_prepare(struct pinmm *m, unsigned long offset)
{
	struct swap_info_struct *si = swap_info(m);
	int ret = 0;

	if (!si || !offset || offset >= si->max)
		return -ENOENT;
	spin_lock(&si->lock);
	if (si->swap_map[offset] & SWAP_HAS_CACHE)
		ret = -EEXIST;
	else if (!si->swap_map[offset])
		ret = -ENOENT;
	else
		si->swap_map[offset] |= SWAP_HAS_CACHE;
	spin_unlock(&si->lock);
	return ret;
}

/**
 * swapcache_clear() - give up a claim of swapcache_prepare() (allocation
 * of the folio failed).
 * Context: any; takes si->lock.
 */
void swapcache_clear(struct pinmm *m, unsigned long offset)
{
	struct swap_info_struct *si = swap_info(m);

	spin_lock(&si->lock);
	si->swap_map[offset] &= ~SWAP_HAS_CACHE;
	if (!si->swap_map[offset])
		swap_slot_release(si, offset);
	spin_unlock(&si->lock);
}

static void swap_io_delay(struct swap_info_struct *si)
{
	if (si->latency_us) {
		might_sleep();
		usleep((useconds_t)si->latency_us);
	}
}

/**
 * swap_add_read_folio() - read slot @offset (claimed by swapcache_prepare())
 * into the new, locked @folio and put it in the swap cache (the cache takes
 * a reference).  Counts pswpin.
 * Context: folio locked and not yet visible to anyone.
 */
void swap_add_read_folio(struct folio *folio, unsigned long offset)
{
	struct swap_info_struct *si = swap_info(folio_machine(folio));

	swap_io_delay(si);
	memcpy(folio_address(folio), si->data + (offset << PAGE_SHIFT), PAGE_SIZE);
	folio_set_Uptodate(folio);
	folio_set_SwapBacked(folio);
	folio_get(folio);
	spin_lock(&si->lock);
	add_to_swap_cache_locked(si, folio, offset);
	spin_unlock(&si->lock);
	count_vm_event(si->machine, PSWPIN);
}

/**
 * swap_writepage() - write the swap-cache @folio to its slot and clean it.
 * Counts pswpout.
 * Context: folio locked, unmapped, in the swap cache.
 */
void swap_writepage(struct folio *folio)
{
	struct swap_info_struct *si = swap_info(folio_machine(folio));
	unsigned long off = folio_swap_offset(folio);

	folio_set_Writeback(folio);
	folio_clear_Dirty(folio);
	memcpy(si->data + (off << PAGE_SHIFT), folio_address(folio), PAGE_SIZE);
	swap_io_delay(si);
	folio_clear_Writeback(folio);
	count_vm_event(si->machine, PSWPOUT);
}

/*
 * Exit of the "swap" initcall, after every process has exited: every slot
 * must be free (a leaked slot is reported like a leaked frame), then the
 * device goes.  Return: 0, or -EBUSY after a leak report.
 */
/*
 * A folio whose last swap entry went while someone held its lock
 * (free_swap_and_cache() only trylocks) stays in the swap cache with no
 * user; Linux's reclaim frees it later from the LRU.  pinmm has no anon
 * LRU: shutdown frees such orphans before it counts leaks.
 */
static void swap_cache_reclaim_orphans(struct pinmm *m)
{
	struct swap_info_struct *si = swap_info(m);

	if (!si)
		return;
	for (unsigned long off = 1; off < si->max; off++) {
		struct folio *folio = NULL;

		spin_lock(&si->lock);
		if (si->swap_map[off] == SWAP_HAS_CACHE && si->swap_cache[off] &&
		    folio_try_get(si->swap_cache[off]))
			folio = si->swap_cache[off];
		spin_unlock(&si->lock);
		if (!folio)
			continue;
		folio_lock(folio);
		folio_free_swap(folio);
		folio_unlock(folio);
		folio_put(folio);
	}
}

static int swap_exit_hook(struct pinmm *m)
{
	long leaked;

	swap_cache_reclaim_orphans(m);
	leaked = swap_check_leaks(m, true);

	if (leaked)
		fprintf(stderr, "pinmm: shutdown: %ld swap slots leaked\n", leaked);
	swap_exit(m);
	return leaked ? -EBUSY : 0;
}

pinmm_initcall(swap, INITCALL_MM(6), swap_init, NULL, swap_exit_hook);
