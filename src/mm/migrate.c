/* SPDX-License-Identifier: MIT */
/*
 * migrate.c - moving a folio's contents to another folio (migration), and
 * splitting a large folio into small ones; both replace every mapping by a
 * migration entry first, so that nothing can find the folio while its
 * refcount is frozen, and both fail with -EAGAIN on a folio that may be
 * pinned or that has any reference they cannot account for (§6.4, §6.5).
 *
 * Protocol for one folio (folio locked, caller holds one reference):
 *  1. try_to_migrate(): every PTE mapping becomes a migration entry (PMD
 *     mappings are split first); an exclusive anonymous page is made
 *     shareable with folio_try_share_anon_rmap_pte(), which fails if the
 *     folio may be pinned -> restore, -EAGAIN;
 *  2. freeze the refcount at exactly the references we know of (ours, and
 *     the page cache's) -> any GUP reference makes this fail -> restore;
 *     for a page-cache folio under i_pages_lock, so that the lockless
 *     lookup's folio_try_get() fails until the cache points at the copy
 *     (doc/MEMORY-ORDERING.md (r)); legacy.migrate_no_freeze only compares
 *     the count (before Linux 2.6.27's lockless page cache, the lookup took
 *     the lock the check was made under);
 *  3. copy (migration) or rewrite the struct pages (split);
 *  4. remove_migration_ptes(): map the new folio(s) where the entries are.
 */
#include <errno.h>
#include <string.h>
#include "trace.h"
#include "mm.h"
#include "pagemap.h"

/* A range of file/anon offsets to walk: [index, index + nr) at pfn. */
struct mig_range {
	struct anon_vma *anon_vma;		/* or */
	struct address_space *mapping;
	pgoff_t index;
	unsigned long nr;
	unsigned long pfn;
	/* try_to_migrate */
	bool failed;
	/* remove_migration_ptes: the destination's first page, NULL = same pfns */
	struct page *dst;
};

typedef void (*mig_fn)(struct vm_area_struct *vma, unsigned long addr, pte_t *pte,
		       struct mig_range *r);

static void walk_vma_range(struct vm_area_struct *vma, struct mig_range *r,
			   mig_fn fn, bool want_migration)
{
	struct mm_struct *mm = vma->vm_mm;
	pgoff_t vfirst = vma->vm_pgoff, vlast = vma->vm_pgoff + vma_pages(vma) - 1;
	pgoff_t first = max(r->index, vfirst), last = min(r->index + r->nr - 1, vlast);
	struct mmu_notifier_range range;
	unsigned long start, end;

	if (first > last)
		return;
	start = vma->vm_start + ((first - vfirst) << PAGE_SHIFT);
	end = vma->vm_start + ((last - vfirst + 1) << PAGE_SHIFT);
	/*
	 * try_to_migrate: MMU_NOTIFY_MIGRATE over the folio's range in this
	 * VMA (owner NULL: not a device-private migration).  Restoring
	 * mappings (remove_migration_ptes) needs no notification.
	 */
	if (!want_migration) {
		mmu_notifier_range_init(&range, MMU_NOTIFY_MIGRATE, 0, mm, start, end);
		mmu_notifier_invalidate_range_start(&range);
	}
	for (unsigned long a = start, next; a < end && !r->failed; a = next) {
		spinlock_t *ptl;
		pte_t *pte;
		pmd_t *pmd;

		next = pmd_addr_end(a, end);
		pmd = pmd_lookup_next(mm, a, end, &next);

		if (!pmd)
			continue;
		if (pmd_leaf(pmdp_get(pmd))) {
			if (want_migration)
				continue;
			/* A PMD mapping of this range: split it first. */
			__split_huge_pmd(vma, pmd, a);
		}
		pte = pte_offset_map_lock(mm, pmd, a, &ptl);
		if (!pte)
			continue;
		for (unsigned long b = a; b < next && !r->failed; b += PAGE_SIZE, pte++) {
			pte_t e = ptep_get(pte);
			unsigned long pfn;

			if (want_migration) {
				if (!is_migration_entry(e))
					continue;
				pfn = swp_offset(e);
			} else {
				if (!pte_present(e) || pte_special(e))
					continue;
				pfn = pte_pfn(e);
			}
			if (pfn < r->pfn || pfn >= r->pfn + r->nr)
				continue;
			fn(vma, b, pte, r);
		}
		pte_unmap_unlock(pte - 1, ptl);
	}
	if (!want_migration)
		mmu_notifier_invalidate_range_end(&range);
}

static void walk_range(struct mig_range *r, mig_fn fn, bool want_migration)
{
	struct vm_area_struct *vma;

	if (r->anon_vma) {
		down_read(&r->anon_vma->rwsem);
		list_for_each_entry(vma, &r->anon_vma->vmas, anon_vma_node)
			walk_vma_range(vma, r, fn, want_migration);
		up_read(&r->anon_vma->rwsem);
	} else if (r->mapping) {
		down_read(&r->mapping->i_mmap_rwsem);
		list_for_each_entry(vma, &r->mapping->i_mmap, shared_node)
			walk_vma_range(vma, r, fn, want_migration);
		up_read(&r->mapping->i_mmap_rwsem);
	}
}

static void migrate_one(struct vm_area_struct *vma, unsigned long addr, pte_t *pte,
			struct mig_range *r)
{
	struct mm_struct *mm = vma->vm_mm;
	pte_t old = ptep_get_and_clear(pte);	/* (d) A1: clear first */
	struct page *page = pfn_to_page_m(mm->machine, pte_pfn(old));
	struct folio *folio = page_folio(page);
	bool exclusive = folio_test_anon(folio) && PageAnonExclusive(page);
	unsigned type;

	if (exclusive && folio_try_share_anon_rmap_pte(folio, page)) {
		set_pte(pte, old);		/* maybe pinned: leave it */
		r->failed = true;
		return;
	}
	if (pte_dirty(old)) {
		if (folio_test_anon(folio))
			folio_set_Dirty(folio);
		else
			folio_mark_dirty(folio);
	}
	type = pte_write(old) ? SWP_MIGRATION_WRITE :
	       exclusive ? SWP_MIGRATION_READ_EXCLUSIVE : SWP_MIGRATION_READ;
	set_pte(pte, swp_entry_to_pte(type, pte_pfn(old)));
	folio_remove_rmap_pte(folio, page, vma);
	add_mm_counter(mm, folio_test_anon(folio) ? MM_ANONPAGES :
		       folio_test_SwapBacked(folio) ? MM_SHMEMPAGES : MM_FILEPAGES, -1);
	folio_put(folio);			/* the mapping's reference */
}

static void restore_one(struct vm_area_struct *vma, unsigned long addr, pte_t *pte,
			struct mig_range *r)
{
	struct mm_struct *mm = vma->vm_mm;
	pte_t e = ptep_get(pte);
	unsigned long i = swp_offset(e) - r->pfn;
	struct page *page = r->dst ? r->dst + i : pfn_to_page_m(mm->machine, swp_offset(e));
	struct folio *folio = page_folio(page);
	unsigned type = swp_type(e);
	/*
	 * Under the rmap lock, not mmap_lock: mprotect may be changing both
	 * words right now (WRITE_ONCE); as Linux's remove_migration_pte(),
	 * read each once.
	 */
	pgprot_t prot = { READ_ONCE(pgprot_val(vma->vm_page_prot)) };
	pte_t new = pte_mkyoung(pfn_pte(page_to_pfn_m(mm->machine, page), prot));

	if (type == SWP_MIGRATION_WRITE && (READ_ONCE(vma->vm_flags) & VM_WRITE))
		new = pte_mkdirty(pte_mkwrite(new));
	folio_get(folio);
	if (folio_test_anon(folio))
		folio_add_anon_rmap_pte(folio, page, vma, addr, type != SWP_MIGRATION_READ);
	else
		folio_add_file_rmap_pte(folio, page, vma);
	add_mm_counter(mm, folio_test_anon(folio) ? MM_ANONPAGES :
		       folio_test_SwapBacked(folio) ? MM_SHMEMPAGES : MM_FILEPAGES, 1);
	set_pte(pte, new);
}

static void range_of(struct mig_range *r, struct folio *folio)
{
	memset(r, 0, sizeof(*r));
	r->anon_vma = folio_anon_vma(folio);
	r->mapping = r->anon_vma ? NULL : folio_mapping(folio);
	r->index = folio->index;
	r->nr = folio_nr_pages(folio);
	r->pfn = folio_pfn(folio);
}

/**
 * try_to_migrate() - replace every mapping of @folio by migration entries.
 * Context: folio locked, caller holds a reference.
 * Return: 0, or -EAGAIN when an exclusive page may be pinned (entries
 * already made are turned back into mappings).
 */
static int try_to_migrate(struct folio *folio, struct mig_range *r)
{
	range_of(r, folio);
	if (!folio_mapped(folio))
		return 0;
	walk_range(r, migrate_one, false);
	if (r->failed) {
		r->failed = false;
		r->dst = NULL;
		walk_range(r, restore_one, true);
		return -EAGAIN;
	}
	return 0;
}

/*
 * Step 2: freeze @src's refcount at @expected.  legacy.migrate_no_freeze
 * (doc/EXPLORE.md §5) only checks it: a speculative folio_try_get() after
 * the check still succeeds, and a lockless lookup that also finds the old
 * folio in its slot keeps a reference on the page being replaced.
 */
static bool migrate_ref_freeze(struct pinmm *m, struct folio *src, int expected)
{
	if (unlikely(m->cfg.legacy_migrate_no_freeze))
		return folio_ref_count(src) == expected;
	return folio_ref_freeze(src, expected);
}

/* After step 3: leave @src with only the caller's reference of @expected. */
static void migrate_ref_unfreeze(struct pinmm *m, struct folio *src, int expected)
{
	if (unlikely(m->cfg.legacy_migrate_no_freeze)) {
		if (expected > 1)
			folio_ref_sub(src, expected - 1);	/* not frozen: others may hold it */
		return;
	}
	folio_ref_unfreeze(src, 1);
}

static int __migrate_folio_to(struct folio *src, struct folio *dst)
{
	struct pinmm *m = folio_machine(src);
	struct address_space *mapping = folio_mapping(src);
	unsigned long nr = folio_nr_pages(src);
	struct mig_range r;
	int expected = 1 + (mapping ? (int)nr : 0);
	const unsigned long move = BIT(PG_dirty) | BIT(PG_uptodate) | BIT(PG_swapbacked) |
				   BIT(PG_referenced) | BIT(PG_active) | BIT(PG_private) |
				   BIT(PG_mappedtodisk) | BIT(PG_nodisk);

	VM_BUG_ON(folio_nr_pages(dst) != nr);
	if (try_to_migrate(src, &r))
		goto fail;
	if (mapping)
		spin_lock(&mapping->i_pages_lock);
	if (!migrate_ref_freeze(m, src, expected)) {
		if (mapping)
			spin_unlock(&mapping->i_pages_lock);
		r.dst = NULL;
		walk_range(&r, restore_one, true);
		goto fail;
	}
	memcpy(folio_address(dst), folio_address(src), nr << PAGE_SHIFT);
	dst->index = src->index;
	/* Atomic RMWs: others test_bit() these words concurrently. */
	__atomic_fetch_or(&dst->flags, READ_ONCE(src->flags) & move, __ATOMIC_RELAXED);
	dst->private = src->private;
	if (folio_test_anon(src)) {
		get_anon_vma(folio_anon_vma(src));
		if (folio_test_large(src))
			count_mthp_stat(m, folio_order(src), MTHP_STAT_NR_ANON, 1);
	} else if (mapping) {
		folio_ref_add(dst, (int)nr);	/* the cache's references */
		/* MEMORY-ORDERING.md (r) U3: lockless lookups fail on src now. */
		VM_BUG_ON_FOLIO(!m->cfg.legacy_migrate_no_freeze && folio_ref_count(src), src);
		for (unsigned long i = 0; i < nr; i++)
			page_index_replace(&mapping->i_pages, src->index + i, dst);
	}
	WRITE_ONCE(dst->mapping, src->mapping);
	if (mapping) {
		src->mapping = NULL;
		spin_unlock(&mapping->i_pages_lock);
	}
	__atomic_fetch_and(&src->flags, ~move, __ATOMIC_RELAXED);
	src->private = NULL;
	/* Back from 0 with just our reference; the cache's moved to dst. */
	migrate_ref_unfreeze(m, src, expected);
	r.dst = &dst->page;
	if (mapping) {
		r.mapping = mapping;
		r.anon_vma = NULL;
	}
	walk_range(&r, restore_one, true);
	count_vm_events(m, PGMIGRATE_SUCCESS, (long)nr);
	return 0;
fail:
	count_vm_events(m, PGMIGRATE_FAIL, (long)nr);
	return -EAGAIN;
}

/**
 * migrate_folio_alloc() - migrate @src to a new folio allocated with @gfp.
 * Context: caller holds a reference to @src (not locked).
 * Return: the new folio (with the caller's reference moved to it), or an
 * ERR_PTR: -ENOMEM, -EAGAIN (pinned or busy).
 */
/**
 * migrate_folio_to() - move @src's contents, state and mappings to @dst.
 * Context: @src locked, caller holds one reference to each; @dst is new
 * (same order, not mapped, not cached).
 * Return: 0, or -EAGAIN when @src is pinned or busy (nothing changed).
 */
int migrate_folio_to(struct folio *src, struct folio *dst)
{
	struct pinmm *m = folio_machine(src);
	int64_t src_pfn = (int64_t)folio_pfn(src), dst_pfn = (int64_t)folio_pfn(dst);
	long nr = (long)folio_nr_pages(src);
	struct trace_span sp;
	int ret;

	trace_span_begin(&sp);
	ret = __migrate_folio_to(src, dst);
	TRACE_SPAN_END(m, &sp, TRACE_CAT_MIGRATE, "migrate_folio", { "src_pfn", src_pfn },
		       { "dst_pfn", dst_pfn }, { "nr_pages", nr }, { "ret", ret });
	return ret;
}

struct folio *migrate_folio_alloc(struct folio *src, gfp_t gfp)
{
	struct pinmm *m = folio_machine(src);
	unsigned int order = folio_order(src);
	struct folio *dst;
	int err;

	if (is_zero_folio(src) || folio_test_Reserved(src))
		return ERR_PTR(-EINVAL);
	/* fsdax frames are the storage itself: they never move. */
	if (pfn_zone_idx(m, folio_pfn(src)) == ZONE_DEVICE)
		return ERR_PTR(-EBUSY);
	dst = order ? folio_alloc(m, gfp | __GFP_COMP, order) : folio_alloc(m, gfp, 0);
	if (!dst)
		return ERR_PTR(-ENOMEM);
	if (order)
		folio_set_LargeRmappable(dst);
	/*
	 * Lock the new folio before it gets an index and a mapping, as
	 * Linux's migrate_folio_unmap() does: a pfn scanner (compaction,
	 * zone offlining) that takes a reference on it half-built then waits
	 * in folio_lock() for the move to finish, instead of reading ->index
	 * and ->mapping while they are written.  A trylock: a fresh folio is
	 * locked by nobody, and a scanner only locks folios with a mapping.
	 */
	if (!folio_trylock(dst)) {
		folio_put(dst);
		return ERR_PTR(-EAGAIN);
	}
	folio_lock(src);
	err = migrate_folio_to(src, dst);
	folio_unlock(src);
	folio_unlock(dst);
	if (err) {
		folio_put(dst);
		return ERR_PTR(err);
	}
	folio_put(src);
	return dst;
}

/**
 * split_folio() - split a large folio into order-0 folios in place.
 * Context: folio locked, caller holds one reference (which stays with the
 * first page's new folio).
 * Return: 0; -EAGAIN when the folio may be pinned or has references
 * other than its mappings, the page cache and the caller's.
 */
int split_folio(struct folio *folio)
{
	struct pinmm *m = folio_machine(folio);
	struct address_space *mapping = folio_mapping(folio);
	struct anon_vma *av = folio_anon_vma(folio);
	unsigned long nr = folio_nr_pages(folio);
	unsigned int order = folio_order(folio);
	struct page *head = &folio->page;
	int extra = mapping ? (int)nr : 0;
	unsigned long keep;
	pgoff_t index;
	struct mig_range r;

	if (!folio_test_large(folio))
		return 0;
	/* can_split_folio(): only mappings, the cache and us may hold it. */
	if (folio_mapcount(folio) != folio_ref_count(folio) - extra - 1)
		goto fail;
	if (try_to_migrate(folio, &r))
		goto fail;
	if (mapping)
		spin_lock(&mapping->i_pages_lock);
	if (!folio_ref_freeze(folio, 1 + extra)) {
		if (mapping)
			spin_unlock(&mapping->i_pages_lock);
		r.dst = NULL;
		walk_range(&r, restore_one, true);
		goto fail;
	}
	/* Frozen: nobody can map or queue it; off the deferred split queue. */
	if (av) {
		folio_undo_deferred_split(folio);
		count_mthp_stat(m, order, MTHP_STAT_NR_ANON, -1);
	}
	keep = READ_ONCE(folio->flags) & (BIT(PG_dirty) | BIT(PG_uptodate) | BIT(PG_swapbacked) |
			       BIT(PG_referenced) | BIT(PG_active) | BIT(PG_locked));
	index = folio->index;
	for (unsigned long i = nr - 1; i >= 1; i--) {
		struct page *p = head + i;
		unsigned long own = READ_ONCE(p->flags) & BIT(PG_anon_exclusive);

		WRITE_ONCE(p->flags, keep | own);
		WRITE_ONCE(p->compound_head, 0);
		p->lru.prev = NULL;
		p->private = 0;
		p->index = index + i;
		WRITE_ONCE(p->mapping, folio->mapping);
		if (av)
			get_anon_vma(av);
		atomic_set(&p->_mapcount, -1);
		p->pinmm_data = 0;
		/* cache reference + a temporary one, dropped below */
		atomic_set(&p->_refcount, (mapping ? 1 : 0) + 1);
		if (i == 1)
			break;
	}
	__atomic_fetch_and(&folio->flags, ~(BIT(PG_head) | BIT(PG_large_rmappable)),
			   __ATOMIC_RELAXED);
	if (mapping) {
		filemap_split_folio_entries(mapping, folio, nr);
		spin_unlock(&mapping->i_pages_lock);
	}
	/* The head is small now: ours plus one cache reference. */
	folio_ref_unfreeze(folio, 1 + (mapping ? 1 : 0));
	r.dst = NULL;
	walk_range(&r, restore_one, true);
	for (unsigned long i = 1; i < nr; i++) {
		struct folio *f = page_folio(head + i);
		if (keep & BIT(PG_locked))
			folio_unlock(f);
		folio_put(f);		/* the temporary reference */
	}
	count_vm_event(m, THP_SPLIT_PAGE);
	count_mthp_stat(m, order, MTHP_STAT_SPLIT, 1);
	return 0;
fail:
	count_vm_event(m, THP_SPLIT_PAGE_FAILED);
	count_mthp_stat(m, order, MTHP_STAT_SPLIT_FAILED, 1);
	return -EAGAIN;
}
