/* SPDX-License-Identifier: MIT */
/*
 * hugetlb_resv.c - hugetlb reservations, as Linux keeps them: mmap()
 * reserves every huge page of the mapping (-ENOMEM when the pool's free,
 * unreserved pages cannot cover it), a fault consumes the reservation of
 * its index, MAP_NORESERVE reserves nothing (the fault then takes an
 * unreserved free page or raises SIGBUS).
 *
 * Shared mappings (and hugetlbfs files) keep their reservations in the
 * inode's resv_map: a set bit is an index that holds a reservation or a
 * page-cache page.  Truncation and hole punch clear bits and give back
 * the reservations that no page consumed.
 *
 * Private mappings keep them in the VMA that called mmap() (the "owner",
 * HPAGE_RESV_OWNER): a set bit is an index whose reservation a fault
 * consumed; when the VMA goes, the unconsumed rest is given back.  A child
 * made by fork() owns no reservation: its COW copies are taken from the
 * unreserved free pages, and fail with SIGBUS when there are none.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hugetlb.h"

#define BITS_PER_ULONG (8 * sizeof(unsigned long))

/**
 * resv_map_alloc() - an empty reservation map of pages of @h.
 * @h: the hstate.
 *
 * Context: any.
 * Return: the map with one reference, or NULL.
 */
struct resv_map *resv_map_alloc(struct hstate *h)
{
	struct resv_map *map = kzalloc(sizeof(*map));

	if (!map)
		return NULL;
	spin_lock_init(&map->lock);
	atomic_set(&map->refs, 1);
	map->h = h;
	return map;
}

/**
 * resv_map_put() - drop a reference; the last frees the map.
 * @map: the map, or NULL.
 *
 * Context: any.
 */
void resv_map_put(struct resv_map *map)
{
	if (!map || !atomic_dec_and_test(&map->refs))
		return;
	spin_lock_destroy(&map->lock);
	free(map->bits);
	free(map);
}

/* Make room for index @to - 1; may allocate.  Return: 0 or -ENOMEM. */
static int resv_map_grow(struct resv_map *map, pgoff_t to)
{
	unsigned long words = (to + BITS_PER_ULONG - 1) / BITS_PER_ULONG;
	unsigned long *bits, *old = NULL;

	if (to <= READ_ONCE(map->nbits))
		return 0;
	bits = kcalloc(words, sizeof(unsigned long));
	if (!bits)
		return -ENOMEM;
	spin_lock(&map->lock);
	if (map->nbits < words * BITS_PER_ULONG) {
		if (map->bits)
			memcpy(bits, map->bits, map->nbits / BITS_PER_ULONG * sizeof(unsigned long));
		old = map->bits;
		map->bits = bits;
		WRITE_ONCE(map->nbits, words * BITS_PER_ULONG);
		bits = old;
	}
	spin_unlock(&map->lock);
	free(bits);
	return 0;
}

static bool __resv_test(struct resv_map *map, pgoff_t idx)
{
	return idx < map->nbits &&
	       (map->bits[idx / BITS_PER_ULONG] >> (idx % BITS_PER_ULONG)) & 1;
}

/* Bits set in [from, to); map->lock held. */
static long __resv_count(struct resv_map *map, pgoff_t from, pgoff_t to)
{
	long n = 0;

	for (pgoff_t i = from; i < to && i < map->nbits; i++)
		n += __resv_test(map, i);
	return n;
}

/* Set [from, to), grown beforehand; map->lock held.  Return: newly set. */
static long __resv_set(struct resv_map *map, pgoff_t from, pgoff_t to)
{
	long n = 0;

	for (pgoff_t i = from; i < to; i++) {
		unsigned long bit = 1UL << (i % BITS_PER_ULONG);

		if (!(map->bits[i / BITS_PER_ULONG] & bit)) {
			map->bits[i / BITS_PER_ULONG] |= bit;
			n++;
		}
	}
	return n;
}

/**
 * resv_map_test() - is bit @idx of @map set?
 * @map: the map.
 * @idx: huge page index.
 *
 * Context: any; takes map->lock.
 * Return: true if set.
 */
bool resv_map_test(struct resv_map *map, pgoff_t idx)
{
	bool ret;

	spin_lock(&map->lock);
	ret = __resv_test(map, idx);
	spin_unlock(&map->lock);
	return ret;
}

/**
 * resv_map_clear_range() - clear the bits of [@from, @to).
 * @map: the map.
 * @from: first huge page index.
 * @to: one past the last (~0UL: to the end).
 *
 * Context: any; takes map->lock.
 * Return: how many were set.
 */
long resv_map_clear_range(struct resv_map *map, pgoff_t from, pgoff_t to)
{
	long n = 0;

	spin_lock(&map->lock);
	for (pgoff_t i = from; i < to && i < map->nbits; i++) {
		unsigned long bit = 1UL << (i % BITS_PER_ULONG);

		if (map->bits[i / BITS_PER_ULONG] & bit) {
			map->bits[i / BITS_PER_ULONG] &= ~bit;
			n++;
		}
	}
	spin_unlock(&map->lock);
	return n;
}

/**
 * vma_hugecache_offset() - the huge page index in the file of @address.
 * @h: the VMA's hstate.
 * @vma: a hugetlb VMA.
 * @address: an address inside it.
 *
 * Context: mmap_lock held.
 * Return: the index.
 */
pgoff_t vma_hugecache_offset(struct hstate *h, struct vm_area_struct *vma,
			     unsigned long address)
{
	return ((address - vma->vm_start) >> (PAGE_SHIFT + h->order)) +
	       (vma->vm_pgoff >> h->order);
}

/**
 * vma_resv_map() - the owner's reservation map of a private hugetlb VMA.
 * @vma: the VMA.
 *
 * Context: mmap_lock held.
 * Return: the map, or NULL (shared VMA, MAP_NORESERVE, a fork child).
 */
struct resv_map *vma_resv_map(struct vm_area_struct *vma)
{
	if (vma->vm_flags & VM_MAYSHARE)
		return NULL;
	return (struct resv_map *)((unsigned long)vma->vm_private_data & ~HPAGE_RESV_MASK);
}

/**
 * is_vma_resv_set() - does private hugetlb @vma carry @flag?
 * @vma: the VMA.
 * @flag: HPAGE_RESV_OWNER or HPAGE_RESV_UNMAPPED.
 *
 * Context: mmap_lock held.
 * Return: true if so.
 */
bool is_vma_resv_set(struct vm_area_struct *vma, unsigned long flag)
{
	if (vma->vm_flags & VM_MAYSHARE)
		return false;
	return (unsigned long)READ_ONCE(vma->vm_private_data) & flag;
}

/**
 * set_vma_resv_flags() - add HPAGE_RESV_* @flags to private hugetlb @vma.
 * @vma: the VMA.
 * @flags: the flags.
 *
 * Context: mmap_lock held, or (HPAGE_RESV_UNMAPPED on another process's
 * VMA) the anon_vma lock of the family, as Linux's unmap_ref_private().
 */
void set_vma_resv_flags(struct vm_area_struct *vma, unsigned long flags)
{
	WRITE_ONCE(vma->vm_private_data,
		   (void *)((unsigned long)vma->vm_private_data | flags));
}

/**
 * hugetlb_reserve_pages() - reserve huge pages [@from, @to) of @inode for
 * a new mapping (or the file itself when @vma is NULL).
 * @inode: a hugetlbfs inode.
 * @from: first huge page index.
 * @to: one past the last.
 * @vma: the new VMA (not yet linked), or NULL.
 * @vm_flags: its flags: VM_NORESERVE reserves nothing; VM_MAYSHARE (or no
 *	VMA) reserves in the inode's map, else the VMA becomes the owner of
 *	a new private map.
 *
 * Context: mmap_lock held for writing (with a VMA).
 * Return: 0; -ENOMEM (the pool cannot cover it, or no memory for the map).
 */
long hugetlb_reserve_pages(struct inode *inode, pgoff_t from, pgoff_t to,
			   struct vm_area_struct *vma, vm_flags_t vm_flags)
{
	struct hstate *h = hstate_inode(inode);
	struct pinmm *m = inode->i_sb->machine;
	struct resv_map *map;
	long chg;
	int err;

	if (from > to)
		return -EINVAL;
	if (vm_flags & VM_NORESERVE)
		return 0;
	if (!vma || (vm_flags & VM_MAYSHARE)) {
		map = inode_resv_map(inode);
		if (resv_map_grow(map, to))
			return -ENOMEM;
		spin_lock(&map->lock);
		chg = (long)(to - from) - __resv_count(map, from, to);
		err = hugetlb_acct_memory(m, h, chg);
		if (!err)
			__resv_set(map, from, to);
		spin_unlock(&map->lock);
		return err;
	}
	map = resv_map_alloc(h);
	if (!map)
		return -ENOMEM;
	if (resv_map_grow(map, to) || hugetlb_acct_memory(m, h, (long)(to - from))) {
		resv_map_put(map);
		return -ENOMEM;
	}
	vma->vm_private_data = (void *)((unsigned long)map | HPAGE_RESV_OWNER);
	return 0;
}

/**
 * hugetlb_unreserve_pages() - huge pages [@start, @end) of @inode left the
 * file (truncate, hole punch); @freed of them were page-cache pages.
 * @inode: a hugetlbfs inode.
 * @start: first huge page index.
 * @end: one past the last (~0UL: to the end).
 * @freed: page-cache pages removed from the range.
 *
 * The indices that were reserved but never instantiated give their
 * reservation back to the pool.
 * Context: i_rwsem held for writing.
 */
void hugetlb_unreserve_pages(struct inode *inode, pgoff_t start, pgoff_t end, long freed)
{
	struct pinmm *m = inode->i_sb->machine;
	long chg = resv_map_clear_range(inode_resv_map(inode), start, end);

	if (chg > freed)
		hugetlb_acct_memory(m, hstate_inode(inode), -(chg - freed));
}

/* Take a folio, consuming a reservation if @has_resv; set bit @idx of @map. */
static struct folio *alloc_and_commit(struct pinmm *m, struct hstate *h,
				      struct resv_map *map, pgoff_t idx, bool has_resv)
{
	struct folio *folio = dequeue_hugetlb_folio(m, h, has_resv, false);

	if (!folio)
		return ERR_PTR(-ENOSPC);
	if (has_resv)
		folio->private = HUGETLB_RESTORE_RESERVE;
	/* Commit: the shared region covers the index, the private one is consumed. */
	if (map && !resv_map_grow(map, idx + 1)) {
		spin_lock(&map->lock);
		__resv_set(map, idx, idx + 1);
		spin_unlock(&map->lock);
	}
	return folio;
}

/**
 * alloc_hugetlb_folio() - a page for the fault at @addr of @vma, from the
 * pool, consuming the reservation of its index if there is one.
 * @vma: a hugetlb VMA.
 * @addr: the faulting address.
 * @avoid_reserve: take an unreserved page even where a reservation exists
 *	(the owner's COW of a page a child still maps: Linux's outside_reserve).
 *
 * Context: mmap_lock held for reading and the fault mutex of the index.
 * Return: a folio with refcount 1 (contents not cleared; ->private is
 * HUGETLB_RESTORE_RESERVE if it consumed a reservation), or
 * ERR_PTR(-ENOSPC) when the pool cannot give one.
 */
struct folio *alloc_hugetlb_folio(struct vm_area_struct *vma, unsigned long addr,
				  bool avoid_reserve)
{
	struct hstate *h = hstate_vma(vma);
	pgoff_t idx = vma_hugecache_offset(h, vma, addr);
	struct resv_map *map;

	if (vma->vm_flags & VM_MAYSHARE)
		return alloc_hugetlb_folio_file(vma->vm_file->f_inode, idx);
	map = vma_resv_map(vma);
	return alloc_and_commit(vma->vm_mm->machine, h, map, idx,
				map && !avoid_reserve && !resv_map_test(map, idx));
}

/**
 * alloc_hugetlb_folio_file() - a page for index @idx of hugetlbfs file
 * @inode (a shared fault, fallocate): from the index's reservation if it
 * has one, else an unreserved free page; the index is then covered.
 * @inode: a hugetlbfs inode.
 * @idx: huge page index.
 *
 * Context: the fault mutex of the index held.
 * Return: as alloc_hugetlb_folio().
 */
struct folio *alloc_hugetlb_folio_file(struct inode *inode, pgoff_t idx)
{
	struct resv_map *map = inode_resv_map(inode);

	return alloc_and_commit(inode->i_sb->machine, hstate_inode(inode), map, idx,
				resv_map_test(map, idx));
}

/**
 * hugetlb_dup_vma_private() - fork: the child's copy of a private hugetlb
 * VMA owns no reservation.
 * @vma: the child's new VMA.
 *
 * Context: both mmap_locks held for writing.
 */
void hugetlb_dup_vma_private(struct vm_area_struct *vma)
{
	if (!(vma->vm_flags & VM_MAYSHARE))
		vma->vm_private_data = NULL;
}

/**
 * hugetlb_vm_op_open() - a VMA was split off an owner: both halves share
 * the owner's map.
 * @vma: the new VMA.
 *
 * Context: mmap_lock held for writing.
 */
void hugetlb_vm_op_open(struct vm_area_struct *vma)
{
	struct resv_map *map = vma_resv_map(vma);

	if (map && is_vma_resv_set(vma, HPAGE_RESV_OWNER))
		atomic_inc(&map->refs);
}

/**
 * hugetlb_vm_op_close() - an owner VMA goes: its unconsumed reservations
 * go back to the pool.
 * @vma: the VMA, unlinked.
 *
 * Context: mmap_lock held for writing.
 */
void hugetlb_vm_op_close(struct vm_area_struct *vma)
{
	struct resv_map *map = vma_resv_map(vma);
	struct hstate *h;
	pgoff_t start, end;
	long reserve;

	if (!map || !is_vma_resv_set(vma, HPAGE_RESV_OWNER))
		return;
	h = map->h;
	start = vma_hugecache_offset(h, vma, vma->vm_start);
	end = vma_hugecache_offset(h, vma, vma->vm_end);
	spin_lock(&map->lock);
	reserve = (long)(end - start) - __resv_count(map, start, end);
	spin_unlock(&map->lock);
	if (reserve > 0)
		hugetlb_acct_memory(vma->vm_mm->machine, h, -reserve);
	resv_map_put(map);
}
