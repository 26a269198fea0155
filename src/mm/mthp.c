/* SPDX-License-Identifier: MIT */
/*
 * mthp.c - multi-size anonymous THP (mTHP): the per-size policy
 * (thp.<size>K keys), fault-time allocation of a folio of order 2..8
 * mapped by PTEs, and the deferred split queue of partially mapped
 * anonymous large folios.
 *
 * Policy (Linux's thp_vma_allowable_orders()): each order has its own
 * mode, never / always / madvise / inherit, inherit taking the `thp` key's
 * mode.  An order is allowed in a VMA when its mode is always, or madvise
 * and the VMA has MADV_HUGEPAGE; never with MADV_NOHUGEPAGE, never for a
 * shared or file VMA.  The PMD order (thp.2048K, default inherit) governs
 * the PMD fault in huge_memory.c; orders 2..8 the PTE fault here.
 *
 * Fault (Linux's alloc_anon_folio()): on a write fault to an empty PTE, the
 * highest allowed order whose naturally aligned range lies in the VMA and
 * whose PTEs are all none is tried first, then each lower one; an order
 * whose allocation fails counts anon_fault_fallback.  The folio is zeroed,
 * gets one reference and one mapcount per PTE, and one rmap call for the
 * batch; the PTEs are set under one PTE lock.
 *
 * Deferred split: when PTE unmapping leaves an anonymous large folio with
 * some pages mapped and some not (partial munmap, MADV_DONTNEED, a COW of
 * one page, mremap of part), rmap.c queues it here.  deferred_split_scan()
 * (run by pinmm_reclaim(), as Linux's shrinker runs under memory pressure)
 * splits each queued folio into small folios so that the unmapped pages
 * are freed; a folio that may be pinned or is otherwise busy stays queued
 * and counts split_failed.  Queue links live in the third page of the
 * folio (folio_deferred_list()), as Linux's _deferred_list.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "mm.h"
#include "init.h"
#include "rcu.h"

/* Bit of folio->_flags_1 (page[1].flags): on the deferred split queue. */
#define FOLIO_PARTIALLY_MAPPED	(1UL << 62)

/* The deferred split queue's links: page[2].mapping and page[2].index. */
static inline struct list_head *folio_deferred_list(struct folio *folio)
{
	BUILD_BUG_ON(offsetof(struct page, index) !=
		     offsetof(struct page, mapping) + sizeof(void *));
	return (struct list_head *)(void *)&folio_page(folio, 2)->mapping;
}

/*
 * (3) of MEMORY-ORDERING.md (n) when called from the final put.  Acquire:
 * pairs with the release in clear_partially_mapped(), so that a freeing
 * thread that finds the bit clear (and skips the lock) is ordered after
 * the scan's last write to the queue links.
 */
static bool folio_test_partially_mapped(const struct folio *folio)
{
	return __atomic_load_n(&folio->_flags_1, __ATOMIC_ACQUIRE) & FOLIO_PARTIALLY_MAPPED;
}

/**
 * thp_order_mode() - the effective policy of anonymous folios of @order.
 * @m: the machine
 * @order: PINMM_THP_MIN_ORDER .. HPAGE_PMD_ORDER
 *
 * Context: any.
 * Return: PINMM_THP_NEVER, _MADVISE or _ALWAYS (inherit resolved).
 */
enum pinmm_thp_mode thp_order_mode(struct pinmm *m, unsigned int order)
{
	enum pinmm_thp_mode mode;

	if (order < PINMM_THP_MIN_ORDER || order > HPAGE_PMD_ORDER)
		return PINMM_THP_NEVER;
	/* pinmm_thp_set() may change both at any time (WRITE_ONCE). */
	mode = READ_ONCE(m->cfg.thp_size[order - PINMM_THP_MIN_ORDER]);
	return mode == PINMM_THP_INHERIT ? READ_ONCE(m->cfg.thp) : mode;
}

/**
 * pinmm_thp_set() - change the THP policy @key of a running machine.
 * @m: the machine
 * @key: "thp" or "thp.<size>K"
 * @value: a value pinmm_config_set() accepts for @key
 *
 * The value is checked by pinmm_config_set() on a copy of the THP fields;
 * only the field of @key is then stored, with one WRITE_ONCE, so that two
 * concurrent calls on different keys do not undo each other.
 * Context: any; faults read the policy with READ_ONCE.
 * Return: 0; -EINVAL (bad key or value, NULL arguments; nothing changed).
 */
int pinmm_thp_set(struct pinmm *m, const char *key, const char *value)
{
	struct pinmm_config tmp;	/* about 1 KiB: only the THP fields matter */
	int ret;

	pinmm_thread_enter();
	if (!m || !key || !value || strncmp(key, "thp", 3) || (key[3] && key[3] != '.'))
		return -EINVAL;
	pinmm_config_default(&tmp);
	tmp.thp = READ_ONCE(m->cfg.thp);
	for (int i = 0; i < PINMM_THP_NR_SIZES; i++)
		tmp.thp_size[i] = READ_ONCE(m->cfg.thp_size[i]);
	ret = pinmm_config_set(&tmp, key, value);
	if (ret)
		return ret;
	if (!key[3]) {
		WRITE_ONCE(m->cfg.thp, tmp.thp);
		return 0;
	}
	for (int i = 0; i < PINMM_THP_NR_SIZES; i++)
		if (tmp.thp_size[i] != READ_ONCE(m->cfg.thp_size[i]))
			WRITE_ONCE(m->cfg.thp_size[i], tmp.thp_size[i]);
	return 0;
}

/**
 * thp_vma_allowable_orders() - which of @orders (a bit mask) the policy
 * allows for anonymous faults in @vma, ignoring addresses.
 * @vma: the VMA
 * @orders: candidate orders, bit n for order n
 *
 * Context: mmap_lock held.
 * Return: the allowed subset of @orders.
 */
unsigned long thp_vma_allowable_orders(struct vm_area_struct *vma, unsigned long orders)
{
	struct pinmm *m = vma->vm_mm->machine;
	unsigned long allowed = 0;

	if (!vma_is_anonymous(vma) || (vma->vm_flags & (VM_NOHUGEPAGE | VM_SHARED)))
		return 0;
	for (unsigned int o = PINMM_THP_MIN_ORDER; o <= HPAGE_PMD_ORDER; o++) {
		enum pinmm_thp_mode mode;

		if (!(orders & BIT(o)))
			continue;
		mode = thp_order_mode(m, o);
		if (mode == PINMM_THP_ALWAYS ||
		    (mode == PINMM_THP_MADVISE && (vma->vm_flags & VM_HUGEPAGE)))
			allowed |= BIT(o);
	}
	return allowed;
}

/*
 * Linux's thp_vma_suitable_order(): the aligned range of @order around
 * @addr lies in @vma, and its pages get indices aligned to the order (an
 * anonymous VMA moved by mremap() may not give them).
 */
static bool thp_vma_suitable_order(struct vm_area_struct *vma, unsigned long addr,
				   unsigned int order)
{
	unsigned long nr = 1UL << order, haddr = ALIGN_DOWN(addr, nr << PAGE_SHIFT);

	if (((vma->vm_start >> PAGE_SHIFT) - vma->vm_pgoff) & (nr - 1))
		return false;
	return haddr >= vma->vm_start && haddr + (nr << PAGE_SHIFT) <= vma->vm_end;
}

static bool pte_range_none(pte_t *pte, unsigned long nr)
{
	for (unsigned long i = 0; i < nr; i++)
		if (!pte_none(ptep_get(pte + i)))
			return false;
	return true;
}

/*
 * The orders of @allowed whose aligned range at vmf->address has only
 * empty PTEs (read under the PTE lock: a hint, rechecked when mapping).
 */
static unsigned long orders_with_empty_ptes(struct vm_fault *vmf, unsigned long allowed)
{
	struct mm_struct *mm = vmf->vma->vm_mm;
	unsigned long ok = 0;
	spinlock_t *ptl;
	pte_t *pte;

	pte = pte_offset_map_lock(mm, vmf->pmd, vmf->address & PMD_MASK, &ptl);
	if (!pte)
		return 0;
	for (unsigned int o = HPAGE_PMD_ORDER - 1; o >= PINMM_THP_MIN_ORDER; o--) {
		unsigned long nr = 1UL << o;
		unsigned long addr = ALIGN_DOWN(vmf->address, nr << PAGE_SHIFT);

		if ((allowed & BIT(o)) && pte_range_none(pte + pte_index(addr), nr))
			ok |= BIT(o);
	}
	pte_unmap_unlock(pte, ptl);
	return ok;
}

/**
 * alloc_anon_folio() - the folio for a write fault on an empty anonymous
 * PTE: the largest allowed and suitable mTHP order that can be allocated,
 * else an order-0 folio.
 * @vmf: the fault; vmf->pmd points to a PTE table
 *
 * Context: mmap_lock held for reading; may sleep.
 * Return: a zeroed folio with one reference, or NULL (out of memory).
 */
struct folio *alloc_anon_folio(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct pinmm *m = vma->vm_mm->machine;
	unsigned long orders;

	orders = thp_vma_allowable_orders(vma, BIT(HPAGE_PMD_ORDER) - 1);
	for (unsigned int o = PINMM_THP_MIN_ORDER; o < HPAGE_PMD_ORDER; o++)
		if ((orders & BIT(o)) && !thp_vma_suitable_order(vma, vmf->address, o))
			orders &= ~BIT(o);
	if (orders)
		orders = orders_with_empty_ptes(vmf, orders);
	for (unsigned int o = HPAGE_PMD_ORDER - 1; orders && o >= PINMM_THP_MIN_ORDER; o--) {
		struct folio *folio;

		if (!(orders & BIT(o)))
			continue;
		folio = folio_alloc(m, GFP_TRANSHUGE | __GFP_ZERO, o);
		if (folio)
			return folio;
		count_mthp_stat(m, o, MTHP_STAT_ANON_FAULT_FALLBACK, 1);
	}
	return folio_alloc(m, GFP_HIGHUSER_MOVABLE | __GFP_ZERO, 0);
}

/**
 * map_anon_folio_ptes() - map every page of the fresh anonymous @folio at
 * @addr (aligned to its size) by PTEs, if all those PTEs are still none:
 * one reference and one mapcount per PTE, one rmap call for the batch.
 * @vmf: the fault
 * @folio: from alloc_anon_folio(), holding one reference
 * @addr: the folio's first address
 *
 * Context: mmap_lock held for reading; takes the PTE lock.
 * Return: true if mapped (the reference went to the mappings); false if
 * a PTE was filled meanwhile (the caller drops @folio and retries).
 */
bool map_anon_folio_ptes(struct vm_fault *vmf, struct folio *folio, unsigned long addr)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	unsigned long nr = folio_nr_pages(folio);
	spinlock_t *ptl;
	pte_t *pte;

	pte = pte_offset_map_lock(mm, vmf->pmd, addr, &ptl);
	if (!pte)
		return false;
	if (!pte_range_none(pte, nr)) {
		pte_unmap_unlock(pte, ptl);
		return false;
	}
	if (nr > 1)
		folio_ref_add(folio, (int)nr - 1);
	folio_add_new_anon_rmap(folio, vma, addr, true);
	add_mm_counter(mm, MM_ANONPAGES, (long)nr);
	for (unsigned long i = 0; i < nr; i++) {
		pte_t entry = pfn_pte(folio_pfn(folio) + i, vma->vm_page_prot);

		if (vma->vm_flags & VM_WRITE)
			entry = pte_mkdirty(pte_mkwrite(entry));
		set_pte(pte + i, pte_mkyoung(entry));
	}
	pte_unmap_unlock(pte, ptl);
	if (nr > 1)
		count_mthp_stat(mm->machine, folio_order(folio), MTHP_STAT_ANON_FAULT_ALLOC, 1);
	return true;
}

/* ------------------------------------------------------------------ */
/* The deferred split queue                                             */

/**
 * deferred_split_folio() - queue the anonymous large @folio, which just
 * became partially mapped, for splitting (no-op if already queued).
 * @folio: anonymous, order >= 2
 *
 * Context: PTE lock held (rmap.c); takes split_queue_lock.
 */
void deferred_split_folio(struct folio *folio)
{
	struct pinmm *m = folio_machine(folio);

	if (folio_order(folio) < PINMM_THP_MIN_ORDER || folio_test_partially_mapped(folio))
		return;
	spin_lock(&m->split_queue_lock);
	if (!folio_test_partially_mapped(folio)) {
		__atomic_fetch_or(&folio->_flags_1, FOLIO_PARTIALLY_MAPPED, __ATOMIC_RELAXED);
		count_mthp_stat(m, folio_order(folio), MTHP_STAT_SPLIT_DEFERRED, 1);
		count_mthp_stat(m, folio_order(folio), MTHP_STAT_NR_ANON_PARTIALLY_MAPPED, 1);
		list_add_tail(folio_deferred_list(folio), &m->split_queue);
		m->split_queue_len++;
	}
	spin_unlock(&m->split_queue_lock);
}

/* Leave the partially-mapped state.  Context: split_queue_lock held. */
static void clear_partially_mapped(struct pinmm *m, struct folio *folio)
{
	unsigned int order = folio_order(folio);

	assert_spin_locked(&m->split_queue_lock);
	count_mthp_stat(m, order, MTHP_STAT_NR_ANON_PARTIALLY_MAPPED, -1);
	/*
	 * (2) of MEMORY-ORDERING.md (n): release, and the last access to the
	 * folio: a freeing thread that sees the bit clear skips the lock and
	 * may reuse the struct pages at once.
	 */
	__atomic_fetch_and(&folio->_flags_1, ~FOLIO_PARTIALLY_MAPPED, __ATOMIC_RELEASE);
}

/**
 * folio_undo_deferred_split() - take @folio off the deferred split queue
 * (and clear its partially-mapped state): it is being freed or split.
 * @folio: a large folio
 *
 * Context: nobody else can map @folio (refcount 0 or frozen); takes
 * split_queue_lock.
 */
void folio_undo_deferred_split(struct folio *folio)
{
	struct pinmm *m = folio_machine(folio);

	if (folio_order(folio) < PINMM_THP_MIN_ORDER || !folio_test_partially_mapped(folio))
		return;
	spin_lock(&m->split_queue_lock);
	if (folio_test_partially_mapped(folio)) {
		struct list_head *l = folio_deferred_list(folio);

		clear_partially_mapped(m, folio);
		if (l->next != l) {
			list_del_init(l);
			m->split_queue_len--;
		}
	}
	spin_unlock(&m->split_queue_lock);
}

/* Still mapped by PTEs, but not all of its pages: worth splitting. */
static bool folio_partially_mapped_now(struct folio *folio)
{
	int mapped = atomic_read(&folio->_nr_pages_mapped);

	return folio_entire_mapcount(folio) == 0 && mapped > 0 &&
	       mapped < (int)folio_nr_pages(folio);
}

/* Back on the queue (split failed or busy), or off it (no longer partial). */
static void deferred_split_requeue(struct pinmm *m, struct folio *folio, bool keep)
{
	struct list_head *l = folio_deferred_list(folio);

	spin_lock(&m->split_queue_lock);
	if (folio_test_partially_mapped(folio)) {
		if (keep) {
			list_add_tail(l, &m->split_queue);
			m->split_queue_len++;
		} else {
			clear_partially_mapped(m, folio);
		}
	}
	spin_unlock(&m->split_queue_lock);
}

#define SPLIT_BATCH 32

/**
 * deferred_split_scan() - split up to @nr_to_scan queued folios.
 * @m: the machine
 * @nr_to_scan: folios to look at (> 0); at most the queue's length, so
 *	that a folio put back is not met again in the same scan
 *
 * Each folio is taken off the queue with a reference, locked (trylock:
 * a busy folio goes back) and split if it is still partially mapped; a
 * split refused because the folio may be pinned or has other references
 * puts it back (split_failed counts).  A folio mapped whole again (a
 * migration restored it) just leaves the queue.
 * Context: no locks held; takes split_queue_lock and, per folio, the
 * folio lock and the rmap and PTE locks of split_folio().
 * Return: folios split.
 */
long deferred_split_scan(struct pinmm *m, long nr_to_scan)
{
	struct folio *batch[SPLIT_BATCH];
	long split = 0;

	/* Each queued folio once per scan: a failed one goes back to the tail. */
	spin_lock(&m->split_queue_lock);
	nr_to_scan = min(nr_to_scan, m->split_queue_len);
	spin_unlock(&m->split_queue_lock);
	while (nr_to_scan > 0) {
		int n = 0;

		spin_lock(&m->split_queue_lock);
		while (n < SPLIT_BATCH && nr_to_scan > 0 && !list_empty(&m->split_queue)) {
			struct list_head *l = m->split_queue.next;
			/* page[2].mapping is the link: its folio starts 2 pages before. */
			struct folio *folio = (struct folio *)((struct page *)(void *)((char *)l -
						offsetof(struct page, mapping)) - 2);

			list_del_init(l);		/* (1) */
			m->split_queue_len--;
			nr_to_scan--;
			if (folio_try_get(folio)) {
				batch[n++] = folio;
			} else {
				/* Being freed: its last put finds it off the queue. */
				clear_partially_mapped(m, folio);
			}
		}
		spin_unlock(&m->split_queue_lock);
		if (!n)
			break;
		for (int i = 0; i < n; i++) {
			struct folio *folio = batch[i];

			if (!folio_trylock(folio)) {
				deferred_split_requeue(m, folio, true);
			} else if (!folio_partially_mapped_now(folio)) {
				deferred_split_requeue(m, folio, false);
				folio_unlock(folio);
			} else {
				int err = split_folio(folio);

				/* split_folio() dequeued it on success. */
				if (err)
					deferred_split_requeue(m, folio, true);
				else
					split++;
				folio_unlock(folio);
			}
			folio_put(folio);
		}
	}
	return split;
}

static int mthp_init(struct pinmm *m)
{
	spin_lock_init(&m->split_queue_lock);
	INIT_LIST_HEAD(&m->split_queue);
	m->split_queue_len = 0;
	return 0;
}

/* Every process has exited: every folio, hence every queued one, is freed. */
static int mthp_exit(struct pinmm *m)
{
	int ret = 0;

	if (m->split_queue_len || !list_empty(&m->split_queue)) {
		fprintf(stderr, "pinmm: shutdown: %ld folio(s) still on the deferred split queue\n",
			m->split_queue_len);
		ret = -EBUSY;
	}
	spin_lock_destroy(&m->split_queue_lock);
	return ret;
}

pinmm_initcall(mthp, INITCALL_MM(9), mthp_init, NULL, mthp_exit);
