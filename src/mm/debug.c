/* SPDX-License-Identifier: MIT */
/*
 * debug.c - the auditor: a full cross-check of VMAs, page tables, rmap,
 * refcounts and mapcounts of a machine, run by pinmm_audit() and, with
 * debug=2, at every API boundary; and dump_page() (Linux's mm/debug.c),
 * the state of one page for VM_BUG_ON_PAGE() and leak reports.
 *
 * Checks (each failure is printed with the pfn or address and counted):
 *  V1  each mm's VMA list is sorted, non-overlapping, page aligned, and
 *      matches the rb-tree in-order walk and map_count;
 *  V2  every VMA with an anon_vma is on that anon_vma's list, every file
 *      VMA on its mapping's i_mmap list;
 *  P1  no present entry maps an address outside every VMA;
 *  P2  every present entry maps a valid, allocated frame (refcount > 0);
 *  P3  a writable entry in a private mapping maps an exclusive anonymous
 *      page; the zero page is never mapped writable;
 *  P4  an anonymous page is mapped only in VMAs of its own anon_vma, at
 *      the address its index gives; a file page only at its file offset;
 *  M1  for every mapped folio: the mapcount of each page equals the number
 *      of PTE mappings found plus the folio's PMD mappings found;
 *  M2  refcount >= number of mappings found (each mapping holds one);
 *  S1  every swap entry is inside a VMA and names a slot in use;
 *  S2  (whole machine) no slot has more swap entries than its swap count
 *      (counts only rise before an entry appears, fall after it went).
 *
 * The audit takes every live mm's mmap_lock for writing, in process-list
 * order, under a global audit mutex; GUP-fast and unpinning may still run
 * and only move refcounts above the mapping count, which M2 tolerates.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mm.h"
#include "fs.h"
#include "rcu.h"
#include "swap.h"

static DEFINE_MUTEX(audit_mutex);

struct audit_entry {
	unsigned long pfn;	/* key + 1; 0 = empty slot */
	int ptes;		/* PTE mappings of this page */
	int pmds;		/* PMD mappings of the folio headed here */
};

struct audit {
	struct pinmm *m;
	long problems;
	struct audit_entry *tab;
	size_t cap, used;
	int *swap_refs;		/* entries found per slot (audit_machine) */
};

#define AUDIT_FAIL(a, ...) do {						\
	if ((a)->problems++ < 32) {					\
		fprintf(stderr, "pinmm: audit: " __VA_ARGS__);		\
		fputc('\n', stderr);					\
	}								\
} while (0)

static struct audit_entry *audit_slot(struct audit *a, unsigned long pfn)
{
	size_t i;

	if (a->used * 2 >= a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 1024;
		struct audit_entry *nt = kcalloc(ncap, sizeof(*nt));
		if (!nt)
			return NULL;
		for (size_t j = 0; j < a->cap; j++) {
			if (!a->tab[j].pfn)
				continue;
			i = (a->tab[j].pfn * 0x9e3779b97f4a7c15ULL) & (ncap - 1);
			while (nt[i].pfn)
				i = (i + 1) & (ncap - 1);
			nt[i] = a->tab[j];
		}
		free(a->tab);
		a->tab = nt;
		a->cap = ncap;
	}
	i = ((pfn + 1) * 0x9e3779b97f4a7c15ULL) & (a->cap - 1);
	while (a->tab[i].pfn && a->tab[i].pfn != pfn + 1)
		i = (i + 1) & (a->cap - 1);
	if (!a->tab[i].pfn) {
		a->tab[i].pfn = pfn + 1;
		a->used++;
	}
	return &a->tab[i];
}

/* Lookup only: never inserts, so it is safe while iterating over a->tab. */
static struct audit_entry *audit_find(struct audit *a, unsigned long pfn)
{
	size_t i;

	if (!a->cap)
		return NULL;
	i = ((pfn + 1) * 0x9e3779b97f4a7c15ULL) & (a->cap - 1);
	while (a->tab[i].pfn) {
		if (a->tab[i].pfn == pfn + 1)
			return &a->tab[i];
		i = (i + 1) & (a->cap - 1);
	}
	return NULL;
}

static void audit_vmas(struct audit *a, struct mm_struct *mm)
{
	struct vm_area_struct *vma, *prev = NULL;
	struct rb_node *node = rb_first(&mm->mm_rb);
	int count = 0;

	for_each_vma(mm, vma) {
		count++;
		if (!PAGE_ALIGNED(vma->vm_start) || !PAGE_ALIGNED(vma->vm_end) ||
		    vma->vm_start >= vma->vm_end || vma->vm_end > TASK_SIZE)
			AUDIT_FAIL(a, "V1: bad VMA [%#lx, %#lx)", vma->vm_start, vma->vm_end);
		if (prev && prev->vm_end > vma->vm_start)
			AUDIT_FAIL(a, "V1: VMAs overlap or unsorted at %#lx", vma->vm_start);
		if (!node || rb_entry(node, struct vm_area_struct, vm_rb) != vma)
			AUDIT_FAIL(a, "V1: rb-tree and list disagree at %#lx", vma->vm_start);
		if (node)
			node = rb_next(node);
		if (vma->anon_vma) {
			struct vm_area_struct *v;
			bool found = false;
			down_read(&vma->anon_vma->rwsem);
			list_for_each_entry(v, &vma->anon_vma->vmas, anon_vma_node)
				found |= v == vma;
			up_read(&vma->anon_vma->rwsem);
			if (!found)
				AUDIT_FAIL(a, "V2: VMA %#lx not on its anon_vma list", vma->vm_start);
		}
		if (vma->vm_file) {
			struct address_space *mapping = vma->vm_file->f_mapping;
			struct vm_area_struct *v;
			bool found = false;
			down_read(&mapping->i_mmap_rwsem);
			list_for_each_entry(v, &mapping->i_mmap, shared_node)
				found |= v == vma;
			up_read(&mapping->i_mmap_rwsem);
			if (!found)
				AUDIT_FAIL(a, "V2: VMA %#lx not on its file's i_mmap", vma->vm_start);
		}
		prev = vma;
	}
	if (node)
		AUDIT_FAIL(a, "V1: rb-tree has VMAs the list lacks");
	if (count != mm->map_count)
		AUDIT_FAIL(a, "V1: map_count %d but %d VMAs", mm->map_count, count);
}

/* P2-P4 for one mapped page; records it for M1/M2. */
static void audit_mapped(struct audit *a, struct vm_area_struct *vma, unsigned long addr,
			 unsigned long pfn, bool writable, bool special, bool pmd)
{
	struct pinmm *m = a->m;
	struct page *page;
	struct folio *folio;
	struct audit_entry *e;

	if (!vma) {
		AUDIT_FAIL(a, "P1: %#lx mapped (pfn %#lx) outside every VMA", addr, pfn);
		return;
	}
	if (pfn == m->zero_pfn || special) {
		if (writable)
			AUDIT_FAIL(a, "P3: zero/special page writable at %#lx", addr);
		return;
	}
	if (!pfn_valid_m(m, pfn)) {
		AUDIT_FAIL(a, "P2: %#lx maps invalid pfn %#lx", addr, pfn);
		return;
	}
	page = pfn_to_page_m(m, pfn);
	folio = page_folio(page);
	if (folio_ref_count(folio) <= 0 || PageBuddy(&folio->page)) {
		AUDIT_FAIL(a, "P2: %#lx maps free pfn %#lx (refcount %d)", addr, pfn,
			   folio_ref_count(folio));
		return;
	}
	if (folio_test_ksm(folio)) {
		/* Shared by content: any VMA, any index, never writable. */
		if (writable)
			AUDIT_FAIL(a, "P3: KSM pfn %#lx writable at %#lx", pfn, addr);
	} else if (folio_test_anon(folio)) {
		if (folio_anon_vma(folio) != vma->anon_vma)
			AUDIT_FAIL(a, "P4: anon pfn %#lx at %#lx: anon_vma mismatch", pfn, addr);
		if (folio->index + folio_page_idx(folio, page) != linear_page_index(vma, addr))
			AUDIT_FAIL(a, "P4: anon pfn %#lx at %#lx: index %#lx != %#lx", pfn, addr,
				   folio->index + folio_page_idx(folio, page),
				   linear_page_index(vma, addr));
		if (writable && !(vma->vm_flags & VM_SHARED) &&
		    !PageAnonExclusive(pmd ? &folio->page : page))
			AUDIT_FAIL(a, "P3: writable non-exclusive anon pfn %#lx at %#lx", pfn, addr);
	} else {
		struct address_space *mapping = folio_mapping(folio);

		if (vma->vm_file && mapping && mapping != vma->vm_file->f_mapping)
			AUDIT_FAIL(a, "P4: file pfn %#lx at %#lx belongs to another file", pfn, addr);
		if (mapping && folio->index + folio_page_idx(folio, page) != linear_page_index(vma, addr))
			AUDIT_FAIL(a, "P4: file pfn %#lx at %#lx: wrong offset", pfn, addr);
		if (writable && is_cow_mapping(vma->vm_flags))
			AUDIT_FAIL(a, "P3: writable page-cache pfn %#lx in private mapping", pfn);
	}
	e = audit_slot(a, pmd ? page_to_pfn_m(m, &folio->page) : pfn);
	if (!e)
		return;
	if (pmd)
		e->pmds++;
	else
		e->ptes++;
}

static void audit_swap_entry(struct audit *a, struct vm_area_struct *vma,
			     unsigned long addr, pte_t e)
{
	unsigned long off = swp_offset(e);
	int count = swap_entry_count(a->m, off);

	if (!vma)
		AUDIT_FAIL(a, "S1: swap entry at %#lx outside every VMA", addr);
	if (count <= 0)
		AUDIT_FAIL(a, "S1: swap entry at %#lx names slot %lu with count %d", addr, off,
			   count);
	else if (a->swap_refs)
		a->swap_refs[off]++;
}

static void audit_pgtables(struct audit *a, struct mm_struct *mm)
{
	struct pinmm *m = a->m;
	uint64_t *pgd = mm->pgd;

	for (int i = 0; i < 512; i++) {
		uint64_t *pud;

		if (!pgd[i])
			continue;
		pud = table_of(m, pgd[i]);
		for (int j = 0; j < 512; j++) {
			uint64_t *pmd;

			if (!pud[j] || !pud_present(__pud(pud[j])))
				continue;	/* empty, or a hugetlb migration entry */
			if (pud_leaf(__pud(pud[j]))) {		/* 1 GiB hugetlb page */
				unsigned long base = ((unsigned long)i << PGDIR_SHIFT) |
						     ((unsigned long)j << PUD_SHIFT);

				audit_mapped(a, vma_lookup(mm, base), base, pud_pfn(__pud(pud[j])),
					     pud_write(__pud(pud[j])), false, true);
				continue;
			}
			pmd = table_of(m, pud[j]);
			for (int k = 0; k < 512; k++) {
				unsigned long base = ((unsigned long)i << PGDIR_SHIFT) |
						     ((unsigned long)j << PUD_SHIFT) |
						     ((unsigned long)k << PMD_SHIFT);
				pmd_t pv = __pmd(__atomic_load_n(&pmd[k], __ATOMIC_RELAXED));
				pte_t *ptes;

				if (pmd_none(pv) || !pmd_present(pv))
					continue;	/* ... or a migration entry */
				if (pmd_leaf(pv)) {
					audit_mapped(a, vma_lookup(mm, base), base, pmd_pfn(pv),
						     pmd_write(pv), pmd_special(pv), true);
					continue;
				}
				ptes = (pte_t *)table_of(m, pmd_val(pv));
				for (int l = 0; l < 512; l++) {
					pte_t e = ptep_get(&ptes[l]);
					unsigned long addr = base | ((unsigned long)l << PAGE_SHIFT);

					if (is_swapfile_entry(e)) {
						audit_swap_entry(a, vma_lookup(mm, addr), addr, e);
						continue;
					}
					if (!pte_present(e))
						continue;
					audit_mapped(a, vma_lookup(mm, addr), addr, pte_pfn(e),
						     pte_write(e), pte_special(e), false);
				}
			}
		}
	}
}

static void audit_counts(struct audit *a)
{
	struct pinmm *m = a->m;

	for (size_t i = 0; i < a->cap; i++) {
		struct audit_entry *e = &a->tab[i];
		struct page *page;
		struct folio *folio;
		int expect, have;

		if (!e->pfn)
			continue;
		page = pfn_to_page_m(m, e->pfn - 1);
		folio = page_folio(page);
		if (e->ptes) {
			/*
			 * audit_find(), not audit_slot(): inserting here could
			 * grow and rehash the table under this loop (and @e).
			 */
			struct audit_entry *h = audit_find(a, page_to_pfn_m(m, &folio->page));
			expect = e->ptes + (folio_test_large(folio) && h ? h->pmds : 0);
			have = page_mapcount(page);
			if (expect != have)
				AUDIT_FAIL(a, "M1: pfn %#lx mapcount %d, mappings found %d",
					   e->pfn - 1, have, expect);
		}
		if (e->pmds && folio_entire_mapcount(folio) != e->pmds)
			AUDIT_FAIL(a, "M1: THP at pfn %#lx entire mapcount %d, PMD mappings %d",
				   e->pfn - 1, folio_entire_mapcount(folio), e->pmds);
		if (folio_ref_count(folio) < folio_mapcount(folio))
			AUDIT_FAIL(a, "M2: pfn %#lx refcount %d < mapcount %d", e->pfn - 1,
				   folio_ref_count(folio), folio_mapcount(folio));
	}
}

/**
 * audit_mm() - check one mm (V1, V2, P1-P4; M1/M2 only see this mm).
 * Context: caller holds @mm's mmap_lock.
 * Return: problems found.
 */
long audit_mm(struct mm_struct *mm)
{
	struct audit a = { .m = mm->machine };

	audit_vmas(&a, mm);
	audit_pgtables(&a, mm);
	free(a.tab);
	return a.problems;
}

/**
 * audit_machine() - check every address space of @m that is not torn
 * down, and mapcounts across all of them.
 * Context: process context; takes the mmap_lock of every mm that has users
 * for writing.
 * Return: problems found (also added to the machine's audit error count).
 */
long audit_machine(struct pinmm *m)
{
	struct audit a = { .m = m };
	struct mm_struct **mms = NULL, *mm;
	size_t n = 0, nr = 0;

	mutex_lock(&audit_mutex);
	mutex_lock(&m->proc_lock);
	list_for_each_entry(mm, &m->mm_list, mmlist)
		nr++;
	mms = calloc(nr ? nr : 1, sizeof(*mms));
	if (!mms) {
		mutex_unlock(&m->proc_lock);
		mutex_unlock(&audit_mutex);
		return 0;
	}
	/*
	 * An exited process's mm stays mapped while a call or a remote user
	 * (pinmm_mmget()) still holds it, also after the process itself was
	 * freed (process.c): audit every mm that has users.  An mm whose last
	 * user is tearing it down is skipped; under its write lock a NULL pgd
	 * means exit_mmap() has run.
	 */
	list_for_each_entry(mm, &m->mm_list, mmlist)
		if (atomic_read(&mm->mm_users) > 0)
			mms[n++] = mm;
	if (swap_enabled(m)) {		/* ours while audit_mutex is held */
		a.swap_refs = m->swap->audit_refs;
		memset(a.swap_refs, 0, m->swap->max * sizeof(*a.swap_refs));
	}
	/* Any number of mmap_locks, in list order: audit_mutex serialises audits. */
	for (size_t i = 0; i < n; i++)
		down_write_nest_lock(&mms[i]->mmap_lock, &audit_mutex);
	for (size_t i = 0; i < n; i++) {
		if (!mms[i]->pgd)
			continue;
		audit_vmas(&a, mms[i]);
		audit_pgtables(&a, mms[i]);
	}
	audit_counts(&a);
	for (unsigned long off = 1; a.swap_refs && off < m->swap->max; off++)
		if (a.swap_refs[off] && a.swap_refs[off] > swap_entry_count(m, off))
			AUDIT_FAIL(&a, "S2: swap slot %lu has %d entries, count %d", off,
				   a.swap_refs[off], swap_entry_count(m, off));
	for (size_t i = 0; i < n; i++)
		mmap_write_unlock(mms[i]);
	mutex_unlock(&m->proc_lock);
	mutex_unlock(&audit_mutex);
	free(mms);
	free(a.tab);
	if (a.problems)
		atomic_long_add(a.problems, &m->audit_errors);
	return a.problems;
}

/**
 * pinmm_debug_boundary() - at an API boundary: full audit when debug >= 2.
 * A failed audit is a WARN (printed, counted), never a crash.
 * Context: process context, no pinmm locks held.
 */
void pinmm_debug_boundary(struct pinmm *m)
{
	if (m && m->debug >= 2) {
		long n = audit_machine(m);
		WARN(n, "auditor found %ld problem(s)", n);
	}
}

/**
 * pinmm_audit() - cross-check the whole machine now (audit_machine()).
 * @m: the machine
 *
 * Problems are printed to stderr and added to pinmm_audit_errors() (by
 * audit_machine()).
 * Context: any thread; takes the locks of every process in turn.
 * Return: 0 if consistent, -EUCLEAN if problems were found, -EINVAL for NULL.
 */
int pinmm_audit(struct pinmm *m)
{
	long problems;

	pinmm_thread_enter();
	if (!m)
		return -EINVAL;
	/* audit_machine() adds what it finds to m->audit_errors itself. */
	problems = audit_machine(m);
	return problems > 0 ? -EUCLEAN : 0;
}

/**
 * pinmm_audit_errors() - problems found by audits of @m since boot.
 * @m: the machine
 *
 * Context: any.
 * Return: the count, -EINVAL for NULL.
 */
long pinmm_audit_errors(struct pinmm *m)
{
	pinmm_thread_enter();
	if (!m)
		return -EINVAL;
	return atomic_long_read(&m->audit_errors);
}

static const char *const pageflag_names[__NR_PAGEFLAGS] = {
	[PG_locked] = "locked",
	[PG_writeback] = "writeback",
	[PG_referenced] = "referenced",
	[PG_uptodate] = "uptodate",
	[PG_dirty] = "dirty",
	[PG_lru] = "lru",
	[PG_head] = "head",
	[PG_active] = "active",
	[PG_private] = "private",
	[PG_reserved] = "reserved",
	[PG_swapbacked] = "swapbacked",
	[PG_anon_exclusive] = "anon_exclusive",
	[PG_buddy] = "buddy",
	[PG_pgtable] = "pgtable",
	[PG_reclaim] = "reclaim",
	[PG_mlocked] = "mlocked",
	[PG_hwpoison] = "hwpoison",
	[PG_large_rmappable] = "large_rmappable",
	[PG_isolated] = "isolated",
	[PG_poisoned] = "poisoned",
	[PG_devmap] = "devmap",
	[PG_zero] = "zero",
	[PG_mappedtodisk] = "mappedtodisk",
	[PG_pcp] = "pcp",
	[PG_swapcache] = "swapcache",
};

/* Decode @flags into "a|b|c" in @buf. */
static void format_flags(unsigned long flags, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (int bit = 0; bit < (int)(8 * sizeof(flags)) && off < len; bit++) {
		const char *name;
		char unknown[16];
		int n;

		if (!(flags & (1UL << bit)))
			continue;
		name = bit < __NR_PAGEFLAGS ? pageflag_names[bit] : NULL;
		if (!name) {
			snprintf(unknown, sizeof(unknown), "bit%d", bit);
			name = unknown;
		}
		n = snprintf(buf + off, len - off, "%s%s", off ? "|" : "", name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/**
 * dump_page() - print the state of @page (and its folio) to stderr.
 * @page: any struct page, possibly of no known machine
 * @reason: why it is dumped (printed first), or NULL
 *
 * Reads the page without locks: the output is a snapshot for debugging.
 * Context: any.
 */
void dump_page(const struct page *page, const char *reason)
{
	struct pinmm *m;
	const struct page *head;
	char flags[256];

	if (!page) {
		fprintf(stderr, "pinmm: dump_page(NULL): %s\n", reason ? reason : "");
		return;
	}
	m = page_machine(page);
	head = compound_head(page);
	format_flags(READ_ONCE(page->flags), flags, sizeof(flags));
	if (m)
		fprintf(stderr, "page:%p pfn:%#lx zone:%s", (const void *)page,
			page_to_pfn_m(m, page),
			zone_name(pfn_zone_idx(m, page_to_pfn_m(m, page))));
	else
		fprintf(stderr, "page:%p pfn:? (no machine)", (const void *)page);
	fprintf(stderr, " refcount:%d mapcount:%d mapping:%p index:%#lx private:%#lx\n",
		atomic_read(&head->_refcount), atomic_read(&page->_mapcount) + 1,
		(void *)READ_ONCE(head->mapping), (unsigned long)READ_ONCE(head->index),
		(unsigned long)READ_ONCE(page->private));
	if (head != page) {
		const struct folio *folio = (const struct folio *)head;

		fprintf(stderr, "  tail of head:%p", (const void *)head);
		if (m)
			fprintf(stderr, " (pfn:%#lx)", page_to_pfn_m(m, head));
		if (folio_test_large(folio))
			fprintf(stderr, " order:%u", folio_order(folio));
		fprintf(stderr, "\n");
	}
	if (PageHead(page)) {
		const struct folio *folio = (const struct folio *)page;

		fprintf(stderr, "  large folio order:%u nr_pages:%lu entire_mapcount:%d "
			"large_mapcount:%d nr_pages_mapped:%d pincount:%d\n",
			folio_order(folio), folio->_folio_nr_pages,
			folio_entire_mapcount(folio), folio_large_mapcount(folio),
			atomic_read(&folio->_nr_pages_mapped),
			atomic_read(&folio->_pincount));
	}
	if ((unsigned long)READ_ONCE(head->mapping) & PAGE_MAPPING_ANON)
		fprintf(stderr, "  anon anon_vma:%p\n",
			(void *)folio_anon_vma((const struct folio *)head));
	fprintf(stderr, "  flags:%#lx(%s)\n", READ_ONCE(page->flags), flags);
	if (reason)
		fprintf(stderr, "  page dumped because: %s\n", reason);
}
