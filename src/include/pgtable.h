/* SPDX-License-Identifier: MIT */
/*
 * pgtable.h - x86-64-style page-table entries and the page-table walk.
 *
 * Page-table pages are frames of the simulated memory (PG_pgtable), one
 * 4 KiB table of 512 64-bit entries per level.  Entries are read with one
 * untorn load (ptep_get / pmdp_get_lockless) and written with one store or
 * cmpxchg, so a lockless walker under rcu_read_lock() always sees a
 * complete entry; tables are freed only after an RCU grace period
 * (doc/MEMORY-ORDERING.md, "page-table lifetime").
 */
#ifndef PINMM_PGTABLE_H
#define PINMM_PGTABLE_H

#include "machine.h"
#include "explore.h"

#define _PAGE_BIT_PRESENT	0
#define _PAGE_BIT_RW		1
#define _PAGE_BIT_USER		2
#define _PAGE_BIT_PWT		3
#define _PAGE_BIT_PCD		4
#define _PAGE_BIT_ACCESSED	5
#define _PAGE_BIT_DIRTY		6
#define _PAGE_BIT_PSE		7	/* huge leaf at PMD/PUD level */
#define _PAGE_BIT_GLOBAL	8
#define _PAGE_BIT_SPECIAL	9	/* software: no struct page to follow */
#define _PAGE_BIT_SOFT_DIRTY	11
#define _PAGE_BIT_DEVMAP	57	/* software: ZONE_DEVICE frame */
#define _PAGE_BIT_NX		63
#define _PAGE_BIT_PROTNONE	_PAGE_BIT_GLOBAL	/* only when !present */

#define _PAGE_PRESENT	BIT_ULL(_PAGE_BIT_PRESENT)
#define _PAGE_RW	BIT_ULL(_PAGE_BIT_RW)
#define _PAGE_USER	BIT_ULL(_PAGE_BIT_USER)
#define _PAGE_ACCESSED	BIT_ULL(_PAGE_BIT_ACCESSED)
#define _PAGE_DIRTY	BIT_ULL(_PAGE_BIT_DIRTY)
#define _PAGE_PSE	BIT_ULL(_PAGE_BIT_PSE)
#define _PAGE_SPECIAL	BIT_ULL(_PAGE_BIT_SPECIAL)
#define _PAGE_SOFT_DIRTY BIT_ULL(_PAGE_BIT_SOFT_DIRTY)
#define _PAGE_DEVMAP	BIT_ULL(_PAGE_BIT_DEVMAP)
#define _PAGE_NX	BIT_ULL(_PAGE_BIT_NX)
#define _PAGE_PROTNONE	BIT_ULL(_PAGE_BIT_PROTNONE)
#define PTE_PFN_MASK	0x000ffffffffff000ULL
#define _PAGE_TABLE	(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY)

#define __pte(x) ((pte_t){ (x) })
#define __pmd(x) ((pmd_t){ (x) })
#define __pud(x) ((pud_t){ (x) })
#define __pgd(x) ((pgd_t){ (x) })
#define __pgprot(x) ((pgprot_t){ (x) })
#define pte_val(x) ((x).pte)
#define pmd_val(x) ((x).pmd)
#define pud_val(x) ((x).pud)
#define pgd_val(x) ((x).pgd)
#define pgprot_val(x) ((x).pgprot)

#define PAGE_NONE	__pgprot(_PAGE_PROTNONE | _PAGE_ACCESSED)
#define PAGE_READONLY	__pgprot(_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX)
#define PAGE_SHARED	__pgprot(_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_RW | _PAGE_NX)
#define PAGE_COPY	PAGE_READONLY

/* Index of @addr within the table of each level. */
static inline unsigned pgd_index(unsigned long a) { return (a >> PGDIR_SHIFT) & 511; }
static inline unsigned pud_index(unsigned long a) { return (a >> PUD_SHIFT) & 511; }
static inline unsigned pmd_index(unsigned long a) { return (a >> PMD_SHIFT) & 511; }
static inline unsigned pte_index(unsigned long a) { return (a >> PAGE_SHIFT) & 511; }

static inline unsigned long pgd_addr_end(unsigned long a, unsigned long end)
{
	unsigned long b = (a + PGDIR_SIZE) & PGDIR_MASK;
	return (b - 1 < end - 1) ? b : end;
}
static inline unsigned long pud_addr_end(unsigned long a, unsigned long end)
{
	unsigned long b = (a + PUD_SIZE) & PUD_MASK;
	return (b - 1 < end - 1) ? b : end;
}
static inline unsigned long pmd_addr_end(unsigned long a, unsigned long end)
{
	unsigned long b = (a + PMD_SIZE) & PMD_MASK;
	return (b - 1 < end - 1) ? b : end;
}

/* One untorn read / write of an entry. */
static inline pte_t ptep_get(const pte_t *ptep) { explore_point(EP_PTE_READ, ptep); return __pte(__atomic_load_n(&ptep->pte, __ATOMIC_RELAXED)); }
/*
 * The lockless walker's read (GUP-fast step B1) acquires: a PTE is
 * installed by a release store (set_pte) after the page's contents and its
 * struct page were written (fault's zero-fill or copy, migration's copy),
 * and GUP-fast's caller reads those contents with no lock held.  Linux
 * relies on the address dependency of READ_ONCE; C11 does not, so the
 * pairing is explicit.  Free on x86-64 (a plain mov).
 */
static inline pte_t ptep_get_lockless(const pte_t *ptep) { explore_point(EP_PTE_READ, ptep); return __pte(__atomic_load_n(&ptep->pte, __ATOMIC_ACQUIRE)); }
/*
 * Upper-level entries are read with acquire: a table is published by a
 * release store of the entry pointing to it (after its contents and its
 * split lock were initialised), so a walker that follows an entry sees the
 * table as it was published.  Free on x86 (plain loads).
 */
static inline pmd_t pmdp_get(const pmd_t *pmdp) { explore_point(EP_PTE_READ, pmdp); return __pmd(__atomic_load_n(&pmdp->pmd, __ATOMIC_ACQUIRE)); }
static inline pmd_t pmdp_get_lockless(const pmd_t *pmdp) { return pmdp_get(pmdp); }
static inline pud_t pudp_get(const pud_t *pudp) { return __pud(__atomic_load_n(&pudp->pud, __ATOMIC_ACQUIRE)); }
static inline pgd_t pgdp_get(const pgd_t *pgdp) { return __pgd(__atomic_load_n(&pgdp->pgd, __ATOMIC_ACQUIRE)); }
static inline void set_pte(pte_t *ptep, pte_t pte) { explore_point(EP_PTE_WRITE, ptep); __atomic_store_n(&ptep->pte, pte.pte, __ATOMIC_RELEASE); }
static inline void set_pmd(pmd_t *pmdp, pmd_t pmd) { explore_point(EP_PTE_WRITE, pmdp); __atomic_store_n(&pmdp->pmd, pmd.pmd, __ATOMIC_RELEASE); }
static inline void set_pud(pud_t *pudp, pud_t pud) { __atomic_store_n(&pudp->pud, pud.pud, __ATOMIC_RELEASE); }
static inline void set_pgd(pgd_t *pgdp, pgd_t pgd) { __atomic_store_n(&pgdp->pgd, pgd.pgd, __ATOMIC_RELEASE); }
/* Clear and return the old value atomically (hardware may set A/D bits). */
static inline pte_t ptep_get_and_clear(pte_t *ptep) { explore_point(EP_PTE_WRITE, ptep); return __pte(__atomic_exchange_n(&ptep->pte, 0, __ATOMIC_SEQ_CST)); }
static inline pmd_t pmdp_huge_get_and_clear(pmd_t *pmdp) { explore_point(EP_PTE_WRITE, pmdp); return __pmd(__atomic_exchange_n(&pmdp->pmd, 0, __ATOMIC_SEQ_CST)); }
static inline void pte_clear(pte_t *ptep) { set_pte(ptep, __pte(0)); }
static inline void pmd_clear(pmd_t *pmdp) { set_pmd(pmdp, __pmd(0)); }
static inline void ptep_set_wrprotect(pte_t *ptep) { explore_point(EP_PTE_WRITE, ptep); __atomic_fetch_and(&ptep->pte, ~_PAGE_RW, __ATOMIC_SEQ_CST); }
static inline void pmdp_set_wrprotect(pmd_t *pmdp) { explore_point(EP_PTE_WRITE, pmdp); __atomic_fetch_and(&pmdp->pmd, ~_PAGE_RW, __ATOMIC_SEQ_CST); }

#define DEFINE_ENTRY_TESTS(lvl, T)					\
static inline bool lvl##_none(T e) { return lvl##_val(e) == 0; }	\
static inline bool lvl##_present(T e) { return (lvl##_val(e) & (_PAGE_PRESENT | _PAGE_PROTNONE)) != 0; } \
static inline bool lvl##_protnone(T e) { return (lvl##_val(e) & (_PAGE_PRESENT | _PAGE_PROTNONE)) == _PAGE_PROTNONE; } \
static inline bool lvl##_write(T e) { return (lvl##_val(e) & _PAGE_RW) != 0; } \
static inline bool lvl##_dirty(T e) { return (lvl##_val(e) & _PAGE_DIRTY) != 0; } \
static inline bool lvl##_young(T e) { return (lvl##_val(e) & _PAGE_ACCESSED) != 0; } \
static inline bool lvl##_special(T e) { return (lvl##_val(e) & _PAGE_SPECIAL) != 0; } \
static inline bool lvl##_devmap(T e) { return (lvl##_val(e) & _PAGE_DEVMAP) != 0; } \
static inline bool lvl##_soft_dirty(T e) { return (lvl##_val(e) & _PAGE_SOFT_DIRTY) != 0; } \
static inline unsigned long lvl##_pfn(T e) { return (lvl##_val(e) & PTE_PFN_MASK) >> PAGE_SHIFT; } \
static inline T lvl##_mkwrite(T e) { lvl##_val(e) |= _PAGE_RW; return e; } \
static inline T lvl##_wrprotect(T e) { lvl##_val(e) &= ~_PAGE_RW; return e; } \
static inline T lvl##_mkdirty(T e) { lvl##_val(e) |= _PAGE_DIRTY | _PAGE_SOFT_DIRTY; return e; } \
static inline T lvl##_mkclean(T e) { lvl##_val(e) &= ~_PAGE_DIRTY; return e; } \
static inline T lvl##_mkyoung(T e) { lvl##_val(e) |= _PAGE_ACCESSED; return e; } \
static inline T lvl##_mkold(T e) { lvl##_val(e) &= ~_PAGE_ACCESSED; return e; } \
static inline T lvl##_mkspecial(T e) { lvl##_val(e) |= _PAGE_SPECIAL; return e; } \
static inline T lvl##_mkdevmap(T e) { lvl##_val(e) |= _PAGE_DEVMAP; return e; } \
static inline T lvl##_clear_soft_dirty(T e) { lvl##_val(e) &= ~_PAGE_SOFT_DIRTY; return e; }

DEFINE_ENTRY_TESTS(pte, pte_t)
DEFINE_ENTRY_TESTS(pmd, pmd_t)
DEFINE_ENTRY_TESTS(pud, pud_t)

static inline bool pgd_none(pgd_t e) { return pgd_val(e) == 0; }
static inline bool pgd_present(pgd_t e) { return pgd_val(e) & _PAGE_PRESENT; }
static inline unsigned long pgd_pfn(pgd_t e) { return (pgd_val(e) & PTE_PFN_MASK) >> PAGE_SHIFT; }
/* A leaf (huge) entry at PMD or PUD level. */
static inline bool pmd_leaf(pmd_t e) { return pmd_present(e) && (pmd_val(e) & _PAGE_PSE); }
static inline bool pud_leaf(pud_t e) { return pud_present(e) && (pud_val(e) & _PAGE_PSE); }
static inline bool pmd_trans_huge(pmd_t e) { return pmd_leaf(e); }

/* An entry with the user bit, present, and writable if @write. */
static inline bool pte_access_permitted(pte_t pte, bool write)
{
	uint64_t need = _PAGE_PRESENT | _PAGE_USER | (write ? _PAGE_RW : 0);
	return (pte_val(pte) & need) == need;
}
static inline bool pmd_access_permitted(pmd_t pmd, bool write)
{
	uint64_t need = _PAGE_PRESENT | _PAGE_USER | (write ? _PAGE_RW : 0);
	return (pmd_val(pmd) & need) == need;
}

static inline pte_t pfn_pte(unsigned long pfn, pgprot_t prot)
{
	return __pte(((uint64_t)pfn << PAGE_SHIFT) | pgprot_val(prot));
}
static inline pmd_t pfn_pmd(unsigned long pfn, pgprot_t prot)
{
	return __pmd(((uint64_t)pfn << PAGE_SHIFT) | pgprot_val(prot) | _PAGE_PSE);
}
static inline pte_t pte_modify(pte_t pte, pgprot_t newprot)
{
	uint64_t keep = PTE_PFN_MASK | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_SPECIAL |
			_PAGE_SOFT_DIRTY | _PAGE_DEVMAP;
	return __pte((pte_val(pte) & keep) | pgprot_val(newprot));
}
static inline pmd_t pmd_modify(pmd_t pmd, pgprot_t newprot)
{
	uint64_t keep = PTE_PFN_MASK | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_SPECIAL |
			_PAGE_SOFT_DIRTY | _PAGE_DEVMAP | _PAGE_PSE;
	return __pmd((pmd_val(pmd) & keep) | pgprot_val(newprot));
}

/*
 * Non-present, non-none entries: "swap" entries.  pinmm uses them for
 * migration entries only.  Layout: bits 1-5 type, bits 12-51 offset (pfn);
 * bits 0 and 8 (PRESENT, PROTNONE) are clear.
 */
typedef struct { unsigned long val; } swp_entry_t;
enum { SWP_MIGRATION_READ = 1, SWP_MIGRATION_READ_EXCLUSIVE = 2, SWP_MIGRATION_WRITE = 3 };
static inline bool is_swap_pte(pte_t pte) { return !pte_none(pte) && !pte_present(pte); }
static inline pte_t swp_entry_to_pte(unsigned type, unsigned long offset)
{
	return __pte(((uint64_t)type << 1) | ((uint64_t)offset << PAGE_SHIFT));
}
static inline unsigned swp_type(pte_t pte) { return (pte_val(pte) >> 1) & 0x1f; }
static inline unsigned long swp_offset(pte_t pte) { return pte_pfn(pte); }
static inline bool is_migration_entry(pte_t pte)
{
	unsigned t = swp_type(pte);
	return is_swap_pte(pte) && t >= SWP_MIGRATION_READ && t <= SWP_MIGRATION_WRITE;
}
static inline bool is_pmd_migration_entry(pmd_t pmd)
{
	return is_migration_entry(__pte(pmd_val(pmd)));
}

/* ------------------------------------------------------------------ */
/* Walking (pgtable.c)                                                  */

/* Host address of the table a non-leaf entry points to. */
static inline uint64_t *table_of(struct pinmm *m, uint64_t entry)
{
	return (uint64_t *)pfn_to_virt(m, (entry & PTE_PFN_MASK) >> PAGE_SHIFT);
}

/* The page-table page that @ptep / @pmdp lives in, and its split lock. */
struct page *pt_page_of(struct pinmm *m, const void *entryp);
spinlock_t *pte_lockptr(struct mm_struct *mm, pmd_t pmdval);
spinlock_t *pmd_lockptr(struct mm_struct *mm, pmd_t *pmdp);
static inline spinlock_t *pmd_lock(struct mm_struct *mm, pmd_t *pmdp)
{
	spinlock_t *ptl = pmd_lockptr(mm, pmdp);
	spin_lock(ptl);
	return ptl;
}

/*
 * Two table locks of one mm at once (mremap moving entries between two
 * tables): taken in address order, so that two movers can never wait on
 * each other whichever direction each moves in; once if they are the same
 * lock.
 */
static inline void double_pt_lock(spinlock_t *a, spinlock_t *b)
{
	if (a == b) {
		spin_lock(a);
	} else if ((uintptr_t)a < (uintptr_t)b) {
		spin_lock(a);
		spin_lock_nested(b, SINGLE_DEPTH_NESTING);
	} else {
		spin_lock(b);
		spin_lock_nested(a, SINGLE_DEPTH_NESTING);
	}
}
static inline void double_pt_unlock(spinlock_t *a, spinlock_t *b)
{
	spin_unlock(a);
	if (b != a)
		spin_unlock(b);
}

/* Lookup only: NULL where a level is absent (or is a leaf, for pmd/pte). */
pgd_t *pgd_offset(struct mm_struct *mm, unsigned long addr);
pud_t *pud_offset_lookup(struct mm_struct *mm, unsigned long addr);
pmd_t *pmd_offset_lookup(struct mm_struct *mm, unsigned long addr);
/* As pmd_offset_lookup(); on NULL, *next = the end of the empty range. */
pmd_t *pmd_lookup_next(struct mm_struct *mm, unsigned long addr, unsigned long end,
		       unsigned long *next);
pud_t *pud_offset(struct mm_struct *mm, pgd_t *pgd, unsigned long addr);
pmd_t *pmd_offset(struct mm_struct *mm, pud_t *pud, unsigned long addr);
pte_t *pte_offset(struct mm_struct *mm, pmd_t pmdval, unsigned long addr);

/* Allocating walk (mm->page_table_lock for installs): NULL on -ENOMEM. */
pud_t *pud_alloc(struct mm_struct *mm, unsigned long addr);
pmd_t *pmd_alloc(struct mm_struct *mm, unsigned long addr);
int __pte_alloc(struct mm_struct *mm, pmd_t *pmd);

/*
 * pte_offset_map_lock() - map and lock the PTE for @addr under @pmd.
 * Return: the PTE pointer with *@ptlp locked, or NULL when the PMD is none,
 * a leaf or changed under us (caller retries or treats as a hole).
 */
pte_t *pte_offset_map_lock(struct mm_struct *mm, pmd_t *pmd, unsigned long addr,
			   spinlock_t **ptlp);
/* The same, with the PTE lock taken as lock subclass @subclass (lockdep.h). */
pte_t *pte_offset_map_lock_nested(struct mm_struct *mm, pmd_t *pmd, unsigned long addr,
				  spinlock_t **ptlp, unsigned int subclass);
static inline void pte_unmap_unlock(pte_t *pte, spinlock_t *ptl)
{
	(void)pte;
	spin_unlock(ptl);
}

/* Allocate / free one page-table page (freed after an RCU grace period). */
struct page *pte_alloc_one(struct mm_struct *mm);
void pte_free_rcu(struct mm_struct *mm, struct page *pt);
/* THP: the PTE table set aside for splitting a PMD mapping (PMD lock held). */
void pgtable_trans_huge_deposit(struct mm_struct *mm, pmd_t *pmdp, struct page *pt);
struct page *pgtable_trans_huge_withdraw(struct mm_struct *mm, pmd_t *pmdp);
/* Free every page table of @mm (exit; nobody can walk it any more). */
void free_all_pgtables(struct mm_struct *mm);

#endif /* PINMM_PGTABLE_H */
