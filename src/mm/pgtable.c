/* SPDX-License-Identifier: MIT */
/*
 * pgtable.c - page-table pages: allocation, split locks, the locked walk,
 * THP deposit of PTE tables, and RCU-deferred freeing.
 *
 * Page-table pages are frames of the simulated memory.  Upper levels are
 * installed under mm->page_table_lock; a PTE table is installed into an
 * empty PMD under that PMD table's split lock (the PMD lock), which is also
 * the lock for PMD leaf entries.  Every table is freed through call_rcu(),
 * so a walker inside rcu_read_lock() (GUP-fast) never reads freed memory:
 * see doc/MEMORY-ORDERING.md, "page-table lifetime".
 */
#include <errno.h>
#include "mm.h"
#include "rcu.h"

BUILD_BUG_ON(sizeof(struct rcu_head) > sizeof(struct list_head));

/**
 * pt_page_of() - the struct page of the page-table page holding an entry.
 * Context: any.
 * Return: the page-table page.
 */
struct page *pt_page_of(struct pinmm *m, const void *entryp)
{
	unsigned long pfn = (unsigned long)((const char *)entryp - (const char *)m->mem) >> PAGE_SHIFT;

	return pfn_to_page_m(m, pfn);
}

/**
 * pmd_lockptr() - the split lock protecting the PMD entry at @pmdp.
 * Context: any.
 * Return: the PMD table page's lock.
 */
spinlock_t *pmd_lockptr(struct mm_struct *mm, pmd_t *pmdp)
{
	return &pt_page_of(mm->machine, pmdp)->ptl;
}

/**
 * pte_lockptr() - the split lock of the PTE table a PMD entry points to.
 * Context: any; @pmdval must be a table entry read by the caller.
 * Return: the PTE table page's lock.
 */
spinlock_t *pte_lockptr(struct mm_struct *mm, pmd_t pmdval)
{
	return &pfn_to_page_m(mm->machine, pmd_pfn(pmdval))->ptl;
}

/**
 * pte_alloc_one() - allocate a zeroed page-table page for @mm.
 * Context: may sleep (zone lock).
 * Return: the page, or NULL when memory is exhausted.
 */
struct page *pte_alloc_one(struct mm_struct *mm)
{
	struct pinmm *m = mm->machine;
	struct page *pt = alloc_pages(m, GFP_PGTABLE, 0);

	if (!pt)
		return NULL;
	SetPageTable(pt);
	spin_lock_init(&pt->ptl);
	pt->index = 0;		/* head of the THP deposit list (pfn + 1) */
	mod_vm_stat(m, NR_PAGETABLE, 1);
	atomic_long_inc(&mm->pgtables_pages);
	return pt;
}

static void pt_free_rcu_cb(struct rcu_head *head)
{
	struct page *pt = container_of((struct list_head *)head, struct page, lru);
	struct pinmm *m = page_machine(pt);

	spin_lock_destroy(&pt->ptl);
	pt->private = 0;
	ClearPageTable(pt);
	INIT_LIST_HEAD(&pt->lru);
	mod_vm_stat(m, NR_PAGETABLE, -1);
	__free_pages(pt, 0);
	/* after the free: an allocator that saw the count waits for this */
	atomic_long_dec(&m->nr_rcu_free_pending);
}

/**
 * pte_free_rcu() - free a page-table page after an RCU grace period.
 * Context: the table must already be unreachable from @mm's page tables.
 */
void pte_free_rcu(struct mm_struct *mm, struct page *pt)
{
	VM_BUG_ON(!PageTable(pt));
	VM_BUG_ON(pt->index != 0);	/* deposited tables must be withdrawn */
	atomic_long_dec(&mm->pgtables_pages);
	atomic_long_inc(&mm->machine->nr_rcu_free_pending);
	call_rcu((struct rcu_head *)&pt->lru, pt_free_rcu_cb);
}

static inline uint64_t table_entry(struct pinmm *m, struct page *pt)
{
	return ((uint64_t)page_to_pfn_m(m, pt) << PAGE_SHIFT) | _PAGE_TABLE;
}

pgd_t *pgd_offset(struct mm_struct *mm, unsigned long addr)
{
	return (pgd_t *)mm->pgd + pgd_index(addr);
}

pud_t *pud_offset(struct mm_struct *mm, pgd_t *pgd, unsigned long addr)
{
	return (pud_t *)table_of(mm->machine, pgd_val(pgdp_get(pgd))) + pud_index(addr);
}

pmd_t *pmd_offset(struct mm_struct *mm, pud_t *pud, unsigned long addr)
{
	return (pmd_t *)table_of(mm->machine, pud_val(pudp_get(pud))) + pmd_index(addr);
}

pte_t *pte_offset(struct mm_struct *mm, pmd_t pmdval, unsigned long addr)
{
	return (pte_t *)table_of(mm->machine, pmd_val(pmdval)) + pte_index(addr);
}

/**
 * pud_offset_lookup() - the PUD entry for @addr, without allocating.
 * Context: mmap_lock held, or rcu_read_lock() for a lockless walk.
 * Return: the entry, or NULL when the PGD entry is empty.
 */
pud_t *pud_offset_lookup(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgd = pgd_offset(mm, addr);

	if (!pgd_present(pgdp_get(pgd)))
		return NULL;
	return pud_offset(mm, pgd, addr);
}

/**
 * pmd_offset_lookup() - the PMD entry for @addr, without allocating.
 * Context: as pud_offset_lookup().
 * Return: the entry, or NULL when an upper level is empty or a leaf.
 */
pmd_t *pmd_offset_lookup(struct mm_struct *mm, unsigned long addr)
{
	pud_t *pud = pud_offset_lookup(mm, addr);
	pud_t pudval;

	if (!pud)
		return NULL;
	pudval = pudp_get(pud);
	if (!pud_present(pudval) || pud_leaf(pudval))
		return NULL;
	return pmd_offset(mm, pud, addr);
}

/**
 * pmd_lookup_next() - the PMD entry for @addr, or where the hole around it
 * ends, so that a walk over a huge sparse range skips empty PGD and PUD
 * ranges whole instead of looking up every 2 MiB of them.
 * @mm: the address space.
 * @addr: the address.
 * @end: the end of the caller's walk.
 * @next: set, when NULL is returned, to the end of the empty (or PUD-leaf)
 *	upper-level range containing @addr, at most @end; else left alone.
 *
 * Context: as pud_offset_lookup().
 * Return: as pmd_offset_lookup().
 */
pmd_t *pmd_lookup_next(struct mm_struct *mm, unsigned long addr, unsigned long end,
		       unsigned long *next)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	pud_t *pud;
	pud_t pudval;

	if (!pgd_present(pgdp_get(pgd))) {
		*next = pgd_addr_end(addr, end);
		return NULL;
	}
	pud = pud_offset(mm, pgd, addr);
	pudval = pudp_get(pud);
	if (!pud_present(pudval) || pud_leaf(pudval)) {
		*next = pud_addr_end(addr, end);
		return NULL;
	}
	return pmd_offset(mm, pud, addr);
}

/* Install a new table into an empty upper-level entry. */
static int upper_install(struct mm_struct *mm, uint64_t *entryp)
{
	struct page *pt;

	if (__atomic_load_n(entryp, __ATOMIC_ACQUIRE))
		return 0;
	pt = pte_alloc_one(mm);
	if (!pt)
		return -ENOMEM;
	spin_lock(&mm->page_table_lock);
	if (!__atomic_load_n(entryp, __ATOMIC_RELAXED)) {
		/* Table contents (zero) before the entry: release store. */
		__atomic_store_n(entryp, table_entry(mm->machine, pt), __ATOMIC_RELEASE);
		pt = NULL;
	}
	spin_unlock(&mm->page_table_lock);
	if (pt) {
		atomic_long_dec(&mm->pgtables_pages);
		mod_vm_stat(mm->machine, NR_PAGETABLE, -1);
		spin_lock_destroy(&pt->ptl);
		ClearPageTable(pt);
		__free_pages(pt, 0);
	}
	return 0;
}

/**
 * pud_alloc() - the PUD entry for @addr, allocating the PUD table.
 * Context: mmap_lock held.
 * Return: the entry, or NULL when out of memory.
 */
pud_t *pud_alloc(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgd = pgd_offset(mm, addr);

	if (upper_install(mm, &pgd->pgd))
		return NULL;
	return pud_offset(mm, pgd, addr);
}

/**
 * pmd_alloc() - the PMD entry for @addr, allocating PUD and PMD tables.
 * Context: mmap_lock held.
 * Return: the entry, or NULL when out of memory.
 */
pmd_t *pmd_alloc(struct mm_struct *mm, unsigned long addr)
{
	pud_t *pud = pud_alloc(mm, addr);

	if (!pud)
		return NULL;
	if (upper_install(mm, &pud->pud))
		return NULL;
	return pmd_offset(mm, pud, addr);
}

/**
 * __pte_alloc() - install a PTE table under @pmd if it is still empty.
 * Context: mmap_lock held; takes the PMD lock.
 * Return: 0 (also when somebody else installed one, or the PMD became a
 * leaf), -ENOMEM.
 */
int __pte_alloc(struct mm_struct *mm, pmd_t *pmd)
{
	struct page *pt = pte_alloc_one(mm);
	spinlock_t *ptl;

	if (!pt)
		return -ENOMEM;
	ptl = pmd_lock(mm, pmd);
	if (pmd_none(pmdp_get(pmd))) {
		set_pmd(pmd, __pmd(table_entry(mm->machine, pt)));
		pt = NULL;
	}
	spin_unlock(ptl);
	if (pt) {
		pt->index = 0;
		atomic_long_dec(&mm->pgtables_pages);
		mod_vm_stat(mm->machine, NR_PAGETABLE, -1);
		spin_lock_destroy(&pt->ptl);
		ClearPageTable(pt);
		__free_pages(pt, 0);
	}
	return 0;
}

/**
 * pte_offset_map_lock() - map and lock the PTE for @addr under @pmd.
 * Context: mmap_lock held (or the VMA otherwise pinned: i_mmap / anon_vma
 * lock held for rmap walks).
 * Return: the PTE with *@ptlp held, or NULL if @pmd is not a PTE table.
 */
pte_t *pte_offset_map_lock(struct mm_struct *mm, pmd_t *pmd, unsigned long addr,
			   spinlock_t **ptlp)
{
	return pte_offset_map_lock_nested(mm, pmd, addr, ptlp, 0);
}

/**
 * pte_offset_map_lock_nested() - pte_offset_map_lock() that takes the PTE
 * lock as lock subclass @subclass (spin_lock_nested()), for a second table
 * lock taken in a fixed order under a first (fork: the parent's under the
 * child's).
 * Context: as pte_offset_map_lock().
 * Return: the PTE with *@ptlp held, or NULL if @pmd is not a PTE table.
 */
pte_t *pte_offset_map_lock_nested(struct mm_struct *mm, pmd_t *pmd, unsigned long addr,
				  spinlock_t **ptlp, unsigned int subclass)
{
	for (;;) {
		pmd_t pmdval = pmdp_get_lockless(pmd);
		spinlock_t *ptl;

		if (!pmd_present(pmdval) || pmd_leaf(pmdval) || pmd_protnone(pmdval))
			return NULL;
		ptl = pte_lockptr(mm, pmdval);
		spin_lock_nested(ptl, subclass);
		if (likely(pmd_val(pmdp_get(pmd)) == pmd_val(pmdval))) {
			*ptlp = ptl;
			return pte_offset(mm, pmdval, addr);
		}
		spin_unlock(ptl);
	}
}

/*
 * THP deposit: every PMD-mapped THP has a PTE table set aside, so that
 * splitting the PMD mapping never needs to allocate.  Deposited tables are
 * chained through page->index (pfn + 1, 0 ends the chain), headed by the
 * PMD table page's index.  PMD lock held.
 */
void pgtable_trans_huge_deposit(struct mm_struct *mm, pmd_t *pmdp, struct page *pt)
{
	struct pinmm *m = mm->machine;
	struct page *pmd_pt = pt_page_of(m, pmdp);

	assert_spin_locked(&pmd_pt->ptl);
	pt->index = pmd_pt->index;
	pmd_pt->index = page_to_pfn_m(m, pt) + 1;
}

struct page *pgtable_trans_huge_withdraw(struct mm_struct *mm, pmd_t *pmdp)
{
	struct pinmm *m = mm->machine;
	struct page *pmd_pt = pt_page_of(m, pmdp);
	struct page *pt;

	assert_spin_locked(&pmd_pt->ptl);
	VM_BUG_ON(pmd_pt->index == 0);
	pt = pfn_to_page_m(m, pmd_pt->index - 1);
	pmd_pt->index = pt->index;
	pt->index = 0;
	return pt;
}

static void free_pte_table(struct mm_struct *mm, pmd_t *pmd)
{
	pmd_t pmdval = pmdp_get(pmd);
	struct page *pt;

	if (!pmd_present(pmdval) || pmd_leaf(pmdval))
		return;
	pt = pfn_to_page_m(mm->machine, pmd_pfn(pmdval));
#if CONFIG_DEBUG_VM
	{
		pte_t *ptes = (pte_t *)table_of(mm->machine, pmd_val(pmdval));
		for (int i = 0; i < PTRS_PER_PTE; i++)
			VM_BUG_ON(!pte_none(ptep_get(&ptes[i])));
	}
#endif
	pmd_clear(pmd);
	pte_free_rcu(mm, pt);
}

static bool table_empty(uint64_t *t)
{
	for (int i = 0; i < 512; i++)
		if (__atomic_load_n(&t[i], __ATOMIC_RELAXED))
			return false;
	return true;
}

/**
 * free_pgtables() - free page tables that map nothing in [start, end) and
 * that no VMA can use: only tables whose whole span lies inside
 * [floor, ceiling), the gap between the neighbouring VMAs.
 * Context: mmap_lock held for writing; the VMAs of the range already
 * unlinked from rmap and zapped.
 */
void free_pgtables(struct mm_struct *mm, unsigned long floor, unsigned long ceiling,
		   unsigned long start, unsigned long end)
{
	struct pinmm *m = mm->machine;

	mmap_assert_write_locked(mm);
	/*
	 * Nothing can be mapped above TASK_SIZE: a ceiling there is the top
	 * of the page tables (Linux's USER_PGTABLES_CEILING), so that the
	 * tables of the topmost GiB and 512 GiB spans can be freed too.
	 */
	if (ceiling >= TASK_SIZE)
		ceiling = PTRS_PER_PGD / 2 * PGDIR_SIZE;
	floor = ALIGN(floor, PMD_SIZE);
	ceiling = ALIGN_DOWN(ceiling, PMD_SIZE);
	start = max(ALIGN_DOWN(start, PMD_SIZE), floor);
	end = min(ALIGN(end, PMD_SIZE), ceiling);
	if (start >= end)
		return;

	for (unsigned long a = start; a < end; a = pud_addr_end(a, end)) {
		pud_t *pud = pud_offset_lookup(mm, a);
		unsigned long next = pud_addr_end(a, end);
		pud_t pudval;
		pmd_t *pmds;

		if (!pud)
			continue;
		pudval = pudp_get(pud);
		if (!pud_present(pudval) || pud_leaf(pudval))
			continue;
		pmds = (pmd_t *)table_of(m, pud_val(pudval));
		for (unsigned long b = a; b < next; b = pmd_addr_end(b, next))
			free_pte_table(mm, &pmds[pmd_index(b)]);
		/* Free the PMD table if its whole 1 GiB span is free of VMAs. */
		if (ALIGN_DOWN(a, PUD_SIZE) >= ALIGN_DOWN(floor + PUD_SIZE - 1, PUD_SIZE) &&
		    ALIGN_DOWN(a, PUD_SIZE) + PUD_SIZE <= ceiling &&
		    table_empty((uint64_t *)pmds)) {
			struct page *pt = pfn_to_page_m(m, pud_pfn(pudval));
			VM_BUG_ON(pt->index != 0);
			set_pud(pud, __pud(0));
			pte_free_rcu(mm, pt);
		}
	}
	/* Free the PUD table of each 512 GiB span left without VMAs or tables. */
	for (unsigned long a = ALIGN_DOWN(start, PGDIR_SIZE); a < end; a += PGDIR_SIZE) {
		pgd_t *pgd = pgd_offset(mm, a);
		pgd_t pgdval = pgdp_get(pgd);

		if (!pgd_present(pgdval))
			continue;
		if (a < ALIGN(floor, PGDIR_SIZE) || a + PGDIR_SIZE > ceiling)
			continue;
		if (!table_empty(table_of(m, pgd_val(pgdval))))
			continue;
		set_pgd(pgd, __pgd(0));
		pte_free_rcu(mm, pfn_to_page_m(m, pgd_pfn(pgdval)));
	}
}

static void free_level(struct mm_struct *mm, uint64_t entry, int level)
{
	struct pinmm *m = mm->machine;
	uint64_t *t = table_of(m, entry);
	struct page *pt = pfn_to_page_m(m, (entry & PTE_PFN_MASK) >> PAGE_SHIFT);

	if (level > 1) {
		for (int i = 0; i < 512; i++) {
			uint64_t e = __atomic_load_n(&t[i], __ATOMIC_RELAXED);
			if (!e)
				continue;
			/* exit_mmap zapped every leaf; only tables remain. */
			VM_BUG_ON(!(e & _PAGE_PRESENT) || (e & _PAGE_PSE));
			free_level(mm, e, level - 1);
			__atomic_store_n(&t[i], 0, __ATOMIC_RELAXED);
		}
	}
	while (level == 2 && pt->index) {	/* leftover deposits */
		struct page *dep = pfn_to_page_m(m, pt->index - 1);
		pt->index = dep->index;
		dep->index = 0;
		pte_free_rcu(mm, dep);
	}
	pte_free_rcu(mm, pt);
}

/**
 * free_all_pgtables() - free every table below the PGD, and the PGD.
 * Context: last user of @mm gone (exit_mmap), every leaf already zapped.
 */
void free_all_pgtables(struct mm_struct *mm)
{
	uint64_t *pgd = mm->pgd;
	struct page *pt;

	for (int i = 0; i < 512; i++) {
		if (!pgd[i])
			continue;
		free_level(mm, pgd[i], 3);
		__atomic_store_n(&pgd[i], 0, __ATOMIC_RELAXED);
	}
	pt = pfn_to_page_m(mm->machine, mm->pgd_pfn);
	pte_free_rcu(mm, pt);
	mm->pgd = NULL;
}
