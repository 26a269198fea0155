/* SPDX-License-Identifier: MIT */
/*
 * rmap.c - reverse mapping: from a folio to every PTE/PMD that maps it.
 *
 * Mapcounts (all -1 based, as in Linux):
 *   small folio:  folio->_mapcount counts its PTE mappings;
 *   large folio:  page->_mapcount per subpage counts PTE mappings of that
 *                 page, _entire_mapcount counts PMD mappings, and
 *                 _large_mapcount counts every mapping (PTE or PMD) once.
 * Every mapping holds one folio reference; the rmap calls here do not
 * touch refcounts.
 *
 * Anonymous rmap: one anon_vma per fork family (DESIGN.md).  A walk visits
 * every VMA on the anon_vma's list under anon_vma->rwsem and looks for
 * the folio at the address its index gives in that VMA.  File rmap: every
 * VMA on mapping->i_mmap under i_mmap_rwsem.
 *
 * PageAnonExclusive (per page): set when a page is mapped by exactly one
 * mm (a fresh anonymous fault, a COW copy, a reused page); cleared by fork
 * when the page becomes shared.  A page that may be pinned never loses it
 * (folio_try_dup_anon_rmap_*() and folio_try_share_anon_rmap_*() fail with
 * -EBUSY instead): §4.5 and §6 of the semantics note.
 */
#include <errno.h>
#include <stdlib.h>
#include "mm.h"
#include "fs.h"

struct anon_vma *anon_vma_alloc(void)
{
	struct anon_vma *av = kzalloc(sizeof(*av));

	if (!av)
		return NULL;
	init_rwsem(&av->rwsem);
	INIT_LIST_HEAD(&av->vmas);
	atomic_set(&av->refcount, 1);
	return av;
}

void get_anon_vma(struct anon_vma *av)
{
	VM_BUG_ON(atomic_read(&av->refcount) <= 0);
	atomic_inc(&av->refcount);
}

/**
 * put_anon_vma() - drop a reference; the last one frees the anon_vma.
 * Context: any; the anon_vma must not be on any VMA's list by then.
 */
void put_anon_vma(struct anon_vma *av)
{
	if (atomic_dec_and_test(&av->refcount)) {
		VM_BUG_ON(!list_empty(&av->vmas));
		destroy_rwsem(&av->rwsem);
		free(av);
	}
}

/**
 * anon_vma_link() - put @vma on @av's VMA list (vma->anon_vma == @av).
 * Context: mmap_lock held.
 */
void anon_vma_link(struct vm_area_struct *vma, struct anon_vma *av)
{
	down_write(&av->rwsem);
	list_add_tail(&vma->anon_vma_node, &av->vmas);
	up_write(&av->rwsem);
}

/**
 * unlink_anon_vma() - take @vma off its anon_vma's list; the VMA keeps its
 * reference until it is freed.
 * Context: mmap_lock held for writing.
 */
void unlink_anon_vma(struct vm_area_struct *vma)
{
	struct anon_vma *av = vma->anon_vma;

	down_write(&av->rwsem);
	list_del_init(&vma->anon_vma_node);
	up_write(&av->rwsem);
}

/**
 * anon_vma_prepare() - give @vma an anon_vma before its first anonymous page.
 * Context: mmap_lock held for reading; takes mm->page_table_lock.
 * Return: 0 or -ENOMEM.
 */
int anon_vma_prepare(struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;
	struct anon_vma *av;

	/* Pairs with the smp_store_release below (another fault's install). */
	if (likely(smp_load_acquire(&vma->anon_vma)))
		return 0;
	av = anon_vma_alloc();
	if (!av)
		return -ENOMEM;
	down_write(&av->rwsem);
	spin_lock(&mm->page_table_lock);
	if (!vma->anon_vma) {
		vma->anon_vma_fork_id = 0;	/* its own anon_vma */
		list_add_tail(&vma->anon_vma_node, &av->vmas);
		smp_store_release(&vma->anon_vma, av);
		av = NULL;
	}
	spin_unlock(&mm->page_table_lock);
	if (av) {
		up_write(&av->rwsem);
		put_anon_vma(av);
	} else {
		up_write(&vma->anon_vma->rwsem);
	}
	return 0;
}

static void anon_stat(struct folio *folio, long nr)
{
	struct pinmm *m = folio_machine(folio);

	if (folio_test_anon(folio))
		mod_vm_stat(m, NR_ANON_PAGES, nr);
}

/* Set mapping and index of a new anonymous folio; takes an anon_vma ref. */
static void folio_set_anon(struct folio *folio, struct vm_area_struct *vma,
			   unsigned long address)
{
	struct anon_vma *av = smp_load_acquire(&vma->anon_vma);

	VM_BUG_ON(!av);
	get_anon_vma(av);
	folio->index = linear_page_index(vma, address);
	/*
	 * Release: a scanner that takes a speculative reference on any folio
	 * (compaction's zone_next_folio()) and sees the anon mapping with an
	 * acquire load sees ->index too.
	 */
	smp_store_release(&folio->mapping,
			  (struct address_space *)((unsigned long)av | PAGE_MAPPING_ANON));
}

/**
 * folio_add_new_anon_rmap() - first mapping of a freshly allocated
 * anonymous folio: by one PTE (small), by one PTE per page (an mTHP,
 * order below the PMD order) or by one PMD (PMD order).
 * Context: page-table lock held; the folio is not yet visible.
 */
void folio_add_new_anon_rmap(struct folio *folio, struct vm_area_struct *vma,
			     unsigned long address, bool exclusive)
{
	unsigned long nr = folio_nr_pages(folio);

	folio_set_anon(folio, vma, address);
	SetPageSwapBacked(&folio->page);
	if (!folio_test_large(folio)) {
		atomic_set(&folio->_mapcount, 0);
	} else if (folio_order(folio) < HPAGE_PMD_ORDER) {
		for (unsigned long i = 0; i < nr; i++) {
			atomic_set(&folio_page(folio, i)->_mapcount, 0);
			if (exclusive)
				SetPageAnonExclusive(folio_page(folio, i));
		}
		atomic_set(&folio->_nr_pages_mapped, (int)nr);
		atomic_set(&folio->_large_mapcount, (int)nr - 1);
	} else {
		atomic_set(&folio->_entire_mapcount, 0);
		atomic_set(&folio->_large_mapcount, 0);
		mod_vm_stat(folio_machine(folio), NR_ANON_THPS, 1);
	}
	if (folio_test_large(folio))
		count_mthp_stat(folio_machine(folio), folio_order(folio), MTHP_STAT_NR_ANON, 1);
	if (exclusive)
		SetPageAnonExclusive(&folio->page);
	anon_stat(folio, (long)nr);
}

static void add_ptes(struct folio *folio, struct page *page, int nr)
{
	long newly = 0;

	if (!folio_test_large(folio)) {
		VM_BUG_ON(nr != 1);
		if (atomic_inc_and_test(&folio->_mapcount))
			newly = 1;
	} else {
		for (int i = 0; i < nr; i++) {
			if (atomic_inc_and_test(&page[i]._mapcount)) {
				atomic_inc(&folio->_nr_pages_mapped);
				if (folio_entire_mapcount(folio) == 0)
					newly++;
			}
		}
		atomic_add(nr, &folio->_large_mapcount);
	}
	anon_stat(folio, newly);
}

/**
 * folio_add_anon_rmap_ptes() - @nr more PTE mappings of pages of an
 * existing anonymous folio (fork, split, remap after migration).
 * Context: page-table lock held.
 */
void folio_add_anon_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *vma, unsigned long address,
			      bool exclusive)
{
	VM_BUG_ON_FOLIO(!folio_test_anon(folio), folio);
	add_ptes(folio, page, nr);
	if (exclusive)
		for (int i = 0; i < nr; i++)
			SetPageAnonExclusive(&page[i]);
}

static void add_pmd(struct folio *folio)
{
	if (atomic_inc_and_test(&folio->_entire_mapcount)) {
		long nr = (long)folio_nr_pages(folio) - atomic_read(&folio->_nr_pages_mapped);
		anon_stat(folio, nr);
		if (folio_test_anon(folio))
			mod_vm_stat(folio_machine(folio), NR_ANON_THPS, 1);
	}
	atomic_inc(&folio->_large_mapcount);
}

void folio_add_anon_rmap_pmd(struct folio *folio, struct vm_area_struct *vma,
			     unsigned long address, bool exclusive)
{
	VM_BUG_ON_FOLIO(!folio_test_anon(folio), folio);
	add_pmd(folio);
	if (exclusive)
		SetPageAnonExclusive(&folio->page);
}

void folio_add_file_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *vma)
{
	add_ptes(folio, page, nr);
}

void folio_add_file_rmap_pmd(struct folio *folio, struct vm_area_struct *vma)
{
	add_pmd(folio);
}

/**
 * folio_remove_rmap_ptes() - @nr PTE mappings of pages of @folio are gone.
 * PageAnonExclusive of a page whose last mapping goes is cleared.
 * Context: page-table lock held.
 */
void folio_remove_rmap_ptes(struct folio *folio, struct page *page, int nr,
			    struct vm_area_struct *vma)
{
	long gone = 0;

	if (!folio_test_large(folio)) {
		VM_BUG_ON(nr != 1);
		VM_BUG_ON_FOLIO(atomic_read(&folio->_mapcount) < 0, folio);
		if (atomic_add_negative(-1, &folio->_mapcount)) {
			gone = 1;
			ClearPageAnonExclusive(page);
		}
	} else {
		for (int i = 0; i < nr; i++) {
			VM_BUG_ON_PAGE(atomic_read(&page[i]._mapcount) < 0, &page[i]);
			if (atomic_add_negative(-1, &page[i]._mapcount)) {
				atomic_dec(&folio->_nr_pages_mapped);
				if (folio_entire_mapcount(folio) == 0) {
					gone++;
					ClearPageAnonExclusive(&page[i]);
				}
			}
		}
		atomic_sub(nr, &folio->_large_mapcount);
		/*
		 * Some pages unmapped, some still mapped: queue an anonymous
		 * folio for splitting (mthp.c), so that the unmapped pages can
		 * be freed.
		 */
		if (gone && folio_test_anon(folio) && folio_entire_mapcount(folio) == 0 &&
		    atomic_read(&folio->_nr_pages_mapped) > 0)
			deferred_split_folio(folio);
	}
	anon_stat(folio, -gone);
}

void folio_remove_rmap_pmd(struct folio *folio, struct vm_area_struct *vma)
{
	VM_BUG_ON_FOLIO(folio_entire_mapcount(folio) <= 0, folio);
	if (atomic_add_negative(-1, &folio->_entire_mapcount)) {
		long nr = (long)folio_nr_pages(folio) - atomic_read(&folio->_nr_pages_mapped);
		anon_stat(folio, -nr);
		if (folio_test_anon(folio))
			mod_vm_stat(folio_machine(folio), NR_ANON_THPS, -1);
		ClearPageAnonExclusive(&folio->page);
	}
	atomic_dec(&folio->_large_mapcount);
}

/* Does the source mm's pinning history force a copy of @folio at fork? */
static bool folio_needs_cow_for_dma(struct vm_area_struct *vma, struct folio *folio)
{
	if (!test_bit(MMF_HAS_PINNED, &vma->vm_mm->flags))
		return false;
	return folio_maybe_dma_pinned(folio);
}

/**
 * folio_try_dup_anon_rmap_ptes() - fork: the child maps @nr pages too.
 * Context: source PTE lock held, inside the write_protect_seq write section.
 * Return: 0, or -EBUSY when a page is exclusive and the folio may be
 * pinned: the caller must give the child a copy.
 */
int folio_try_dup_anon_rmap_ptes(struct folio *folio, struct page *page, int nr,
				 struct vm_area_struct *src_vma)
{
	bool maybe_pinned = folio_needs_cow_for_dma(src_vma, folio);

	for (int i = 0; i < nr; i++)
		if (PageAnonExclusive(&page[i]) && maybe_pinned)
			return -EBUSY;
	for (int i = 0; i < nr; i++)
		ClearPageAnonExclusive(&page[i]);
	add_ptes(folio, page, nr);
	return 0;
}

int folio_try_dup_anon_rmap_pmd(struct folio *folio, struct page *page,
				struct vm_area_struct *src_vma)
{
	if (PageAnonExclusive(page) && folio_needs_cow_for_dma(src_vma, folio))
		return -EBUSY;
	ClearPageAnonExclusive(page);
	add_pmd(folio);
	return 0;
}

/**
 * folio_try_share_anon_rmap_pte() - an exclusive anon page is about to be
 * unmapped in a way that lets it come back shared (migration): clear
 * PageAnonExclusive unless the folio may be pinned.
 * Context: PTE lock held and the PTE already cleared (step A1 of
 * doc/MEMORY-ORDERING.md (d), "Unshare / PageAnonExclusive").
 * Return: 0, or -EBUSY when maybe pinned (the caller restores the PTE).
 */
int folio_try_share_anon_rmap_pte(struct folio *folio, struct page *page)
{
	/* A2: the cleared PTE is visible before we look at the pin count. */
	smp_mb();
	if (folio_maybe_dma_pinned(folio))
		return -EBUSY;
	ClearPageAnonExclusive(page);
	/* A3 -> A4: the cleared bit before any PTE the caller restores. */
	smp_mb__after_atomic();
	return 0;
}

int folio_try_share_anon_rmap_pmd(struct folio *folio, struct page *page)
{
	return folio_try_share_anon_rmap_pte(folio, page);
}

/* Address of the folio's first page in @vma; may lie outside the VMA. */
static unsigned long vma_address_of(struct vm_area_struct *vma, pgoff_t index)
{
	return vma->vm_start + ((index - vma->vm_pgoff) << PAGE_SHIFT);
}

static bool vma_overlaps_folio(struct vm_area_struct *vma, struct folio *folio)
{
	pgoff_t first = folio->index, last = first + folio_nr_pages(folio) - 1;
	pgoff_t vfirst = vma->vm_pgoff, vlast = vma->vm_pgoff + vma_pages(vma) - 1;

	return first <= vlast && last >= vfirst;
}

/**
 * rmap_walk() - call @rwc->rmap_one for every VMA that may map @folio.
 * Context: the caller holds a folio reference (and usually the folio lock);
 * takes anon_vma->rwsem or i_mmap_rwsem for reading.
 */
void rmap_walk(struct folio *folio, struct rmap_walk_control *rwc)
{
	struct vm_area_struct *vma;

	if (folio_test_anon(folio)) {
		struct anon_vma *av = folio_anon_vma(folio);

		if (!av)
			return;
		down_read(&av->rwsem);
		list_for_each_entry(vma, &av->vmas, anon_vma_node) {
			if (!vma_overlaps_folio(vma, folio))
				continue;
			if (!rwc->rmap_one(folio, vma, vma_address_of(vma, folio->index), rwc->arg))
				break;
			if (rwc->done && rwc->done(folio))
				break;
		}
		up_read(&av->rwsem);
	} else {
		struct address_space *mapping = folio_mapping(folio);

		if (!mapping)
			return;
		down_read(&mapping->i_mmap_rwsem);
		list_for_each_entry(vma, &mapping->i_mmap, shared_node) {
			if (!vma_overlaps_folio(vma, folio))
				continue;
			if (!rwc->rmap_one(folio, vma, vma_address_of(vma, folio->index), rwc->arg))
				break;
			if (rwc->done && rwc->done(folio))
				break;
		}
		up_read(&mapping->i_mmap_rwsem);
	}
}

/*
 * One walk over the page tables of @vma for the pages of @folio
 * (page_vma_mapped_walk, simplified): calls @fn (pvmw_fn, mm.h) for each
 * PTE or PMD that maps a page of the folio, with the table's lock held.
 */
static void folio_walk_vma(struct folio *folio, struct vm_area_struct *vma,
			   unsigned long faddr, pvmw_fn fn, void *arg)
{
	struct mm_struct *mm = vma->vm_mm;
	struct pinmm *m = mm->machine;
	unsigned long fpfn = folio_pfn(folio), nr = folio_nr_pages(folio);
	unsigned long start = max(faddr, vma->vm_start);
	unsigned long end = min(faddr + (nr << PAGE_SHIFT), vma->vm_end);

	for (unsigned long a = start; a < end; a = pmd_addr_end(a, end)) {
		unsigned long next = pmd_addr_end(a, end);
		pmd_t *pmd = pmd_offset_lookup(mm, a);
		spinlock_t *ptl;
		pmd_t pmdval;
		pte_t *pte;

		if (!pmd)
			continue;
		pmdval = pmdp_get(pmd);
		if (pmd_leaf(pmdval)) {
			ptl = pmd_lock(mm, pmd);
			pmdval = pmdp_get(pmd);
			if (pmd_leaf(pmdval) && pmd_pfn(pmdval) == fpfn) {
				bool go = fn(vma, a & PMD_MASK, NULL, pmd, &folio->page, arg);
				spin_unlock(ptl);
				if (!go)
					return;
				continue;
			}
			spin_unlock(ptl);
			if (pmd_leaf(pmdp_get(pmd)))
				continue;
		}
		pte = pte_offset_map_lock(mm, pmd, a, &ptl);
		if (!pte)
			continue;
		for (unsigned long b = a; b < next; b += PAGE_SIZE, pte++) {
			pte_t e = ptep_get(pte);
			unsigned long pfn;

			if (!pte_present(e))
				continue;
			pfn = pte_pfn(e);
			if (pfn < fpfn || pfn >= fpfn + nr)
				continue;
			if (!fn(vma, b, pte, NULL, pfn_to_page_m(m, pfn), arg)) {
				spin_unlock(ptl);
				return;
			}
		}
		spin_unlock(ptl);
	}
}

/*
 * @event: notify MMU notifier subscriptions with this event over the
 * folio's range in each VMA walked (-1: the walk changes nothing);
 * @shared_only: skip VMAs without VM_SHARED (folio_mkclean()).
 */
struct walk_arg {
	pvmw_fn fn;
	void *arg;
	int event;
	bool shared_only;
};

static bool walk_one(struct folio *folio, struct vm_area_struct *vma,
		     unsigned long address, void *arg)
{
	struct walk_arg *wa = arg;
	struct mmu_notifier_range range;
	unsigned long start, end;

	if (wa->shared_only && !(READ_ONCE(vma->vm_flags) & VM_SHARED))
		return true;
	if (wa->event < 0) {
		folio_walk_vma(folio, vma, address, wa->fn, wa->arg);
		return true;
	}
	/*
	 * Linux's try_to_unmap_one / page_mkclean_one: the notifier runs
	 * before the walk takes any page-table lock (callbacks may sleep);
	 * we hold the anon_vma or i_mmap rwsem for reading, as Linux does.
	 */
	start = max(address, vma->vm_start);
	end = min(address + folio_size(folio), vma->vm_end);
	if (start >= end)
		return true;
	mmu_notifier_range_init(&range, (enum mmu_notifier_event)wa->event, 0, vma->vm_mm,
				start, end);
	mmu_notifier_invalidate_range_start(&range);
	folio_walk_vma(folio, vma, address, wa->fn, wa->arg);
	mmu_notifier_invalidate_range_end(&range);
	return true;
}

/**
 * folio_walk_all_notify() - call @fn for every PTE/PMD mapping @folio in
 * every VMA rmap finds, each VMA's range bracketed by MMU notifier @event
 * (-1: none); @shared_only skips private VMAs.
 * Context: folio locked (or otherwise kept mapped-stable by the caller);
 * no spinlock held; takes the anon_vma/i_mmap rwsem and page-table locks.
 */
void folio_walk_all_notify(struct folio *folio, pvmw_fn fn, void *arg, int event,
			   bool shared_only)
{
	struct walk_arg wa = { fn, arg, event, shared_only };
	struct rmap_walk_control rwc = { .arg = &wa, .rmap_one = walk_one };

	rmap_walk(folio, &rwc);
}

static void folio_walk_all(struct folio *folio, pvmw_fn fn, void *arg)
{
	folio_walk_all_notify(folio, fn, arg, -1, false);
}

static bool unmap_one(struct vm_area_struct *vma, unsigned long addr,
		      pte_t *pte, pmd_t *pmd, struct page *page, void *arg)
{
	struct folio *folio = page_folio(page);
	struct mm_struct *mm = vma->vm_mm;
	int *count = arg;

	if (pmd) {
		pmd_t old = pmdp_huge_get_and_clear(pmd);
		struct page *dep = pgtable_trans_huge_withdraw(mm, pmd);

		pte_free_rcu(mm, dep);
		if (pmd_dirty(old))
			folio_mark_dirty(folio);
		folio_remove_rmap_pmd(folio, vma);
		add_mm_counter(mm, folio_test_anon(folio) ? MM_ANONPAGES : MM_FILEPAGES,
			       -(long)HPAGE_PMD_NR);
		folio_put(folio);
	} else {
		pte_t old = ptep_get_and_clear(pte);

		if (pte_dirty(old))
			folio_mark_dirty(folio);
		folio_remove_rmap_pte(folio, page, vma);
		add_mm_counter(mm, folio_test_anon(folio) ? MM_ANONPAGES : MM_FILEPAGES, -1);
		folio_put(folio);
	}
	(*count)++;
	return true;
}

/**
 * try_to_unmap() - remove every mapping of @folio; MMU_NOTIFY_CLEAR for
 * the folio's range in each VMA.
 * Context: folio locked, a folio reference held by the caller; no spinlock.
 */
void try_to_unmap(struct folio *folio)
{
	int count = 0;

	folio_walk_all_notify(folio, unmap_one, &count, MMU_NOTIFY_CLEAR, false);
}

static bool mkclean_one(struct vm_area_struct *vma, unsigned long addr,
			pte_t *pte, pmd_t *pmd, struct page *page, void *arg)
{
	int *cleaned = arg;

	if (!(vma->vm_flags & VM_SHARED))
		return true;
	if (pmd) {
		pmd_t v = pmdp_get(pmd);
		if (pmd_write(v) || pmd_dirty(v)) {
			set_pmd(pmd, pmd_mkclean(pmd_wrprotect(v)));
			(*cleaned)++;
		}
	} else {
		pte_t v = ptep_get(pte);
		if (pte_write(v) || pte_dirty(v)) {
			/* Atomically, so that a racing hardware dirty bit is not lost. */
			pte_t old = ptep_get_and_clear(pte);
			set_pte(pte, pte_mkclean(pte_wrprotect(old)));
			(*cleaned)++;
		}
	}
	return true;
}

/**
 * folio_mkclean() - write-protect and clean every shared mapping of @folio,
 * so that the next write faults and re-dirties it (writeback);
 * MMU_NOTIFY_PROTECTION_PAGE for the folio's range in each shared VMA.
 * Context: folio locked; no spinlock.
 * Return: number of entries cleaned.
 */
int folio_mkclean(struct folio *folio)
{
	int cleaned = 0;

	if (!folio_mapped(folio))
		return 0;
	folio_walk_all_notify(folio, mkclean_one, &cleaned, MMU_NOTIFY_PROTECTION_PAGE, true);
	return cleaned;
}

static bool count_one(struct vm_area_struct *vma, unsigned long addr,
		      pte_t *pte, pmd_t *pmd, struct page *page, void *arg)
{
	(*(int *)arg)++;
	return true;
}

/**
 * folio_rmap_count_mappings() - count the PTE/PMD entries that map @folio,
 * found through rmap (the auditor compares this with the mapcount).
 * Context: caller must prevent concurrent mapping changes.
 * Return: the count.
 */
int folio_rmap_count_mappings(struct folio *folio)
{
	int n = 0;

	folio_walk_all(folio, count_one, &n);
	return n;
}
