/* SPDX-License-Identifier: MIT */
/*
 * ksm.c - kernel samepage merging: MADV_MERGEABLE / MADV_UNMERGEABLE and a
 * ksmd pass (pinmm_ksm_scan()) that finds anonymous pages with equal
 * contents and maps them all to one write-protected KSM page; a write to
 * it copies (COW), a FOLL_PIN of it unshares first.
 *
 * Ownership and lifetime:
 *   - struct ksm (one per machine, m->ksm, made at the first MADV_MERGEABLE
 *     or scan, freed at shutdown) holds the stable table: a hash of
 *     stable nodes by content checksum, each naming one KSM folio by pfn.
 *   - A KSM folio is an anonymous folio whose ->mapping is its stable
 *     node | PAGE_MAPPING_KSM instead of an anon_vma; it holds no
 *     reference on an anon_vma and the node holds no reference on it.  It
 *     is freed like any page when its last mapping and reference go; the
 *     node is then stale (its pfn no longer leads to a folio pointing back
 *     at it) and the next pass frees it (Linux's get_ksm_page() test).
 *   - The unstable table lives for one pass: candidates of the pass, each
 *     holding a folio reference (so the page cannot be reused in place and
 *     its contents stay what was hashed), dropped at the end of the pass.
 *
 * One page at @addr of a VM_MERGEABLE VMA, in a pass (mmap_lock held for
 * reading):
 *  1. write_protect_page(): under the PTE lock, clear the PTE (seq_cst),
 *     full barrier, refuse if the folio has any reference beyond its
 *     mappings (a GUP reference or a pin: counted ksm_pinned_skip), make
 *     an exclusive page shareable (folio_try_share_anon_rmap_pte, which
 *     refuses a maybe-pinned page), install it read-only and clean - the
 *     (d) protocol of MEMORY-ORDERING.md, as Linux's write_protect_page().
 *     From here on nobody can write the page: a process write faults and
 *     copies (our reference defeats reuse), a FOLL_PIN unshares.
 *  2. checksum; a stable node with equal contents -> replace_page(): map
 *     the KSM folio read-only at @addr instead (re-checking the PTE).
 *  3. else an unstable candidate with equal contents -> make this page the
 *     KSM folio (folio lock held while ->mapping changes) under a new
 *     stable node; the candidate merges into it when its own VMA is next
 *     scanned.  4. else this page becomes a candidate.
 *
 * Differences from Linux (doc/DESIGN.md): no rmap_items, so KSM folios are
 * invisible to rmap walks - they are never migrated, compacted or swapped
 * (Linux can); only small anonymous pages merge (Linux splits THPs);
 * scanned pages are write-protected before they are hashed (Linux hashes
 * racily and requires an unchanged checksum across two passes), so a
 * scanned page that stays unique takes one write fault, reusing it; the
 * second page of a pair found in the unstable table merges on its next
 * scan rather than at once.
 */
#include <errno.h>
#include <string.h>
#include <pthread.h>
#include "trace.h"
#include "init.h"
#include "mm.h"
#include "rcu.h"
#include "wait.h"
#include "kthread.h"

#define KSM_BUCKETS	256

struct ksm_stable_node {
	struct list_head hnode;		/* ksm->stable[checksum % KSM_BUCKETS] */
	unsigned long kpfn;
	uint32_t checksum;
};

struct ksm_candidate {
	struct list_head hnode;		/* unstable[checksum % KSM_BUCKETS] */
	struct folio *folio;		/* a reference held for the pass */
	uint32_t checksum;
};

/*
 * struct ksm - a machine's merging state.  @lock (mutex) serialises passes
 * and guards @stable and the nodes; taken before any mmap_lock.
 */
struct ksm {
	struct mutex lock;
	struct list_head stable[KSM_BUCKETS];
	struct list_head unstable[KSM_BUCKETS];
	long merged;			/* pages merged during the current call */
	/* The periodic ksmd (ksm.sleep_ms): boot starts it, shutdown joins it. */
	pthread_t thread;
	bool has_thread;
	struct completion stop;		/* completed to stop @thread */
};


static struct ksm *ksm_of(struct pinmm *m)
{
	struct ksm *k = smp_load_acquire((struct ksm **)&m->ksm), *new;

	if (k)
		return k;
	new = kzalloc(sizeof(*new));
	if (!new)
		return NULL;
	mutex_init(&new->lock);
	for (int i = 0; i < KSM_BUCKETS; i++) {
		INIT_LIST_HEAD(&new->stable[i]);
		INIT_LIST_HEAD(&new->unstable[i]);
	}
	if (!__atomic_compare_exchange_n((struct ksm **)&m->ksm, &k, new, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		mutex_destroy(&new->lock);
		kfree(new);
		return k;
	}
	return new;
}

static uint32_t page_checksum(const void *p)
{
	const uint64_t *w = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < PAGE_SIZE / sizeof(*w); i++)
		h = (h ^ w[i]) * 0x100000001b3ULL;
	return (uint32_t)(h ^ (h >> 32));
}

static struct ksm_stable_node *folio_stable_node(const struct folio *folio)
{
	unsigned long mapping = (unsigned long)READ_ONCE(folio->mapping);

	if ((mapping & PAGE_MAPPING_FLAGS) != PAGE_MAPPING_KSM)
		return NULL;
	return (struct ksm_stable_node *)(mapping & ~PAGE_MAPPING_FLAGS);
}

/* The live KSM folio of @node with a reference, or NULL if it is stale. */
static struct folio *get_ksm_folio(struct pinmm *m, struct ksm_stable_node *node)
{
	struct folio *folio = page_folio(pfn_to_page_m(m, node->kpfn));

	if (!folio_try_get(folio))
		return NULL;
	if (folio_stable_node(folio) != node) {
		folio_put(folio);
		return NULL;
	}
	return folio;
}

/*
 * Step 1.  Return: the read-only entry now mapping @page, or pte 0 when
 * the page may not merge (pinned or referenced, changed, not exclusive to
 * share).  Context: mmap_lock held; caller holds one folio reference.
 */
static pte_t write_protect_page(struct vm_area_struct *vma, unsigned long addr,
				struct page *page, pmd_t *pmd)
{
	struct mm_struct *mm = vma->vm_mm;
	struct folio *folio = page_folio(page);
	struct mmu_notifier_range range;
	pte_t *pte, e, ro = __pte(0);
	spinlock_t *ptl;

	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, addr, addr + PAGE_SIZE);
	mmu_notifier_invalidate_range_start(&range);
	pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	if (!pte)
		goto out;
	e = ptep_get(pte);
	if (!pte_present(e) || pte_pfn(e) != page_to_pfn_m(mm->machine, page))
		goto unlock;
	e = ptep_get_and_clear(pte);			/* (d) A1 */
	smp_mb();					/* (d) A2 */
	/* Mappings plus our reference: anything more is GUP or a pin. */
	if (folio_ref_count(folio) != folio_mapcount(folio) + 1 ||
	    folio_maybe_dma_pinned(folio)) {
		set_pte(pte, e);
		count_vm_event(mm->machine, KSM_PINNED_SKIP);
		goto unlock;
	}
	if (PageAnonExclusive(page) && folio_try_share_anon_rmap_pte(folio, page)) {
		set_pte(pte, e);			/* (d) A2: maybe pinned */
		count_vm_event(mm->machine, KSM_PINNED_SKIP);
		goto unlock;
	}
	if (pte_dirty(e))
		folio_set_Dirty(folio);
	ro = pte_mkclean(pte_wrprotect(e));
	set_pte(pte, ro);				/* (d) A4 */
unlock:
	pte_unmap_unlock(pte, ptl);
out:
	mmu_notifier_invalidate_range_end(&range);
	return ro;
}

/*
 * Step 2: map @kfolio at @addr instead of @page, whose entry must still be
 * @orig.  Return: true if replaced.  Context: mmap_lock held; references
 * held on both folios.
 */
static bool replace_page(struct vm_area_struct *vma, unsigned long addr, struct page *page,
			 struct folio *kfolio, pmd_t *pmd, pte_t orig)
{
	struct mm_struct *mm = vma->vm_mm;
	struct pinmm *m = mm->machine;
	struct folio *folio = page_folio(page);
	struct mmu_notifier_range range;
	bool done = false;
	spinlock_t *ptl;
	pte_t *pte, new;

	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, mm, addr, addr + PAGE_SIZE);
	mmu_notifier_invalidate_range_start(&range);
	pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	if (!pte)
		goto out;
	if (pte_val(ptep_get(pte)) == pte_val(orig)) {
		new = pte_wrprotect(pfn_pte(folio_pfn(kfolio), vma->vm_page_prot));
		if (pte_soft_dirty(orig))
			pte_val(new) |= _PAGE_SOFT_DIRTY;
		folio_get(kfolio);			/* the new mapping's */
		folio_add_anon_rmap_pte(kfolio, &kfolio->page, vma, addr, false);
		ptep_get_and_clear(pte);
		folio_remove_rmap_pte(folio, page, vma);
		set_pte(pte, pte_mkyoung(new));
		folio_put(folio);			/* the old mapping's */
		done = true;
	}
	pte_unmap_unlock(pte, ptl);
out:
	mmu_notifier_invalidate_range_end(&range);
	if (done)
		count_vm_event(m, KSM_PAGES_MERGED);
	return done;
}

/* Step 3: @folio (write-protected, our reference) becomes a KSM folio. */
static struct ksm_stable_node *stable_node_create(struct ksm *k, struct folio *folio,
						  uint32_t checksum)
{
	struct pinmm *m = folio_machine(folio);
	struct ksm_stable_node *node;
	struct anon_vma *av;

	if (!folio_trylock(folio))
		return NULL;
	av = folio_anon_vma(folio);
	if (!av || folio_test_large(folio)) {
		folio_unlock(folio);
		return NULL;
	}
	node = kzalloc(sizeof(*node));
	if (!node) {
		folio_unlock(folio);
		return NULL;
	}
	node->kpfn = folio_pfn(folio);
	node->checksum = checksum;
	smp_store_release(&folio->mapping,
			  (struct address_space *)((unsigned long)node | PAGE_MAPPING_KSM));
	folio_unlock(folio);
	put_anon_vma(av);		/* a KSM folio holds no anon_vma */
	list_add(&node->hnode, &k->stable[checksum % KSM_BUCKETS]);
	mod_vm_stat(m, KSM_PAGES_SHARED, 1);
	return node;
}

static bool same_contents(struct folio *a, struct folio *b)
{
	return !memcmp(folio_address(a), folio_address(b), PAGE_SIZE);
}

/* Steps 1-4 for the small anonymous page mapped at @addr. */
static void cmp_and_merge_page(struct ksm *k, struct vm_area_struct *vma, unsigned long addr,
			       pmd_t *pmd, struct page *page)
{
	struct pinmm *m = vma->vm_mm->machine;
	struct folio *folio = page_folio(page);
	struct ksm_stable_node *node;
	struct ksm_candidate *c;
	uint32_t sum;
	pte_t ro;

	ro = write_protect_page(vma, addr, page, pmd);
	if (!pte_val(ro))
		return;
	sum = page_checksum(folio_address(folio));
	list_for_each_entry(node, &k->stable[sum % KSM_BUCKETS], hnode) {
		struct folio *kfolio;
		bool merged;

		if (node->checksum != sum || !(kfolio = get_ksm_folio(m, node)))
			continue;
		merged = same_contents(folio, kfolio) &&
			 replace_page(vma, addr, page, kfolio, pmd, ro);
		folio_put(kfolio);
		if (merged) {
			k->merged++;
			return;
		}
	}
	list_for_each_entry(c, &k->unstable[sum % KSM_BUCKETS], hnode) {
		if (c->checksum != sum || c->folio == folio || !same_contents(folio, c->folio))
			continue;
		/* The candidate merges into us when its VMA is scanned next. */
		stable_node_create(k, folio, sum);
		list_del(&c->hnode);
		folio_put(c->folio);
		kfree(c);
		return;
	}
	c = kzalloc(sizeof(*c));
	if (!c)
		return;
	folio_get(folio);
	c->folio = folio;
	c->checksum = sum;
	list_add(&c->hnode, &k->unstable[sum % KSM_BUCKETS]);
}

/* Scan the pages of one mergeable VMA.  mmap_lock held for reading. */
static void scan_vma(struct ksm *k, struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;
	struct pinmm *m = mm->machine;

	for (unsigned long a = vma->vm_start; a < vma->vm_end; a = pmd_addr_end(a, vma->vm_end)) {
		unsigned long next = pmd_addr_end(a, vma->vm_end);
		pmd_t *pmd = pmd_offset_lookup(mm, a);

		if (!pmd || !pmd_present(pmdp_get(pmd)) || pmd_leaf(pmdp_get(pmd)))
			continue;	/* nothing there, or a THP (not merged) */
		for (unsigned long b = a; b < next; b += PAGE_SIZE) {
			struct page *page = NULL;
			spinlock_t *ptl;
			pte_t *pte = pte_offset_map_lock(mm, pmd, b, &ptl);
			pte_t e;

			if (!pte)
				break;
			e = ptep_get(pte);
			if (pte_present(e) && !pte_special(e) && pfn_valid_m(m, pte_pfn(e))) {
				struct folio *f = page_folio(pfn_to_page_m(m, pte_pfn(e)));

				if (folio_test_anon(f) && !folio_test_ksm(f) && !folio_test_large(f) &&
				    !is_zero_folio(f) && folio_try_get(f))
					page = &f->page;
			}
			pte_unmap_unlock(pte, ptl);
			if (!page)
				continue;
			cmp_and_merge_page(k, vma, b, pmd, page);
			folio_put(page_folio(page));
		}
	}
}

/* Free the stable nodes whose folio is gone; recount pages_sharing. */
static void prune_stable(struct ksm *k, struct pinmm *m)
{
	long shared = 0, sharing = 0;

	for (int i = 0; i < KSM_BUCKETS; i++) {
		struct ksm_stable_node *node, *tmp;

		list_for_each_entry_safe(node, tmp, &k->stable[i], hnode) {
			struct folio *kfolio = get_ksm_folio(m, node);

			if (!kfolio) {
				list_del(&node->hnode);
				kfree(node);
				continue;
			}
			shared++;
			sharing += max(folio_mapcount(kfolio) - 1, 0);
			folio_put(kfolio);
		}
	}
	mod_vm_stat(m, KSM_PAGES_SHARED, shared - vm_stat_snapshot(m, KSM_PAGES_SHARED));
	mod_vm_stat(m, KSM_PAGES_SHARING, sharing - vm_stat_snapshot(m, KSM_PAGES_SHARING));
}

static void drop_unstable(struct ksm *k)
{
	for (int i = 0; i < KSM_BUCKETS; i++) {
		struct ksm_candidate *c, *tmp;

		list_for_each_entry_safe(c, tmp, &k->unstable[i], hnode) {
			list_del(&c->hnode);
			folio_put(c->folio);
			kfree(c);
		}
	}
}

/* One pass over every live process's mergeable VMAs.  ksm->lock held. */
static void ksm_do_scan(struct ksm *k, struct pinmm *m)
{
	struct pinmm_proc *p;
	struct mm_struct **mms = NULL;
	size_t n = 0, cap = 0;

	mutex_lock(&m->proc_lock);
	list_for_each_entry(p, &m->procs, node) {
		if (READ_ONCE(p->exited) || !p->mm || !mmget_not_zero(p->mm))
			continue;
		if (n == cap) {
			struct mm_struct **more = krealloc(mms, (cap ? cap * 2 : 16) * sizeof(*mms));

			if (!more) {
				mmput(p->mm);
				break;
			}
			mms = more;
			cap = cap ? cap * 2 : 16;
		}
		mms[n++] = p->mm;
	}
	mutex_unlock(&m->proc_lock);
	prune_stable(k, m);
	for (size_t i = 0; i < n; i++) {
		struct vm_area_struct *vma;

		mmap_read_lock(mms[i]);
		list_for_each_entry(vma, &mms[i]->mmap_list, vm_list)
			if (vma->vm_flags & VM_MERGEABLE)
				scan_vma(k, vma);
		mmap_read_unlock(mms[i]);
		mmput(mms[i]);
	}
	kfree(mms);
	drop_unstable(k);
	prune_stable(k, m);
	count_vm_event(m, KSM_FULL_SCANS);
}

/**
 * pinmm_ksm_scan() - run @passes passes of ksmd now.
 * @m: the machine.
 * @passes: full passes over every process's MADV_MERGEABLE memory (>= 1).
 *
 * Context: any thread, not holding an mmap_lock of @m; takes the KSM
 * mutex, then each process's mmap_lock for reading.
 * Return: pages merged into KSM pages by these passes, -EINVAL (NULL
 * machine, @passes < 1), -ENOMEM.
 */
long pinmm_ksm_scan(struct pinmm *m, int passes)
{
	struct ksm *k;
	long merged;

	pinmm_thread_enter();
	if (!m || passes < 1)
		return -EINVAL;
	k = ksm_of(m);
	if (!k)
		return -ENOMEM;
	mutex_lock(&k->lock);
	k->merged = 0;
	for (int i = 0; i < passes; i++)
		ksm_do_scan(k, m);
	merged = k->merged;
	mutex_unlock(&k->lock);
	pinmm_debug_boundary(m);
	return merged;
}

/**
 * ksm_madvise() - MADV_MERGEABLE / MADV_UNMERGEABLE: the new flags for
 * [@start, @end) of @vma (Linux's ksm_madvise()).  A VMA KSM cannot work
 * on (shared, PFN, I/O, DAX, hugetlb, mixed) keeps its flags, with
 * success; unmerging first unshares every KSM page of the range.
 * Context: mmap_lock held for writing.
 * Return: 0, -ENOMEM (unsharing ran out of memory), -EFAULT.
 */
int ksm_madvise(struct vm_area_struct *vma, unsigned long start, unsigned long end,
		int advice, vm_flags_t *flags)
{
	if (advice == MADV_MERGEABLE) {
		if ((*flags & (VM_MERGEABLE | VM_SHARED | VM_MAYSHARE | VM_PFNMAP | VM_IO |
			       VM_DONTEXPAND | VM_HUGETLB | VM_MIXEDMAP)) || vma_is_fsdax(vma))
			return 0;
		if (!ksm_of(vma->vm_mm->machine))
			return -ENOMEM;
		*flags |= VM_MERGEABLE;
		return 0;
	}
	if (!(*flags & VM_MERGEABLE))
		return 0;
	if (vma->anon_vma) {
		int err = break_ksm(vma, start, end);

		if (err)
			return err;
	}
	*flags &= ~VM_MERGEABLE;
	return 0;
}

/**
 * break_ksm() - give every KSM page mapped in [@start, @end) of @vma a
 * private copy (an unshare fault each), as Linux's break_ksm() does before
 * unmerging or moving a range.
 * Context: mmap_lock held.
 * Return: 0, -ENOMEM, -EFAULT.
 */
int break_ksm(struct vm_area_struct *vma, unsigned long start, unsigned long end)
{
	struct mm_struct *mm = vma->vm_mm;
	struct pinmm *m = mm->machine;

	for (unsigned long a = start; a < end; a += PAGE_SIZE) {
		pmd_t *pmd = pmd_offset_lookup(mm, a);
		bool ksm = false;
		spinlock_t *ptl;
		pte_t *pte;
		vm_fault_t ret;

		if (!pmd || !pmd_present(pmdp_get(pmd)) || pmd_leaf(pmdp_get(pmd)))
			continue;
		pte = pte_offset_map_lock(mm, pmd, a, &ptl);
		if (!pte)
			continue;
		if (pte_present(ptep_get(pte)) && pfn_valid_m(m, pte_pfn(ptep_get(pte))))
			ksm = folio_test_ksm(page_folio(pfn_to_page_m(m, pte_pfn(ptep_get(pte)))));
		pte_unmap_unlock(pte, ptl);
		if (!ksm)
			continue;
		ret = handle_mm_fault(vma, a, FAULT_FLAG_UNSHARE);
		if (ret & VM_FAULT_OOM)
			return -ENOMEM;
		if (ret & VM_FAULT_ERROR)
			return -EFAULT;
	}
	return 0;
}

/* ksmd: one pass per ksm.sleep_ms until shutdown completes @stop. */
static void *ksmd_fn(void *arg)
{
	struct pinmm *m = arg;
	struct ksm *k = m->ksm;

	pinmm_thread_enter();
	trace_thread_name(m, "ksmd");
	while (!wait_for_completion_timeout(&k->stop, m->cfg.ksm_sleep_ms * 1000000ull)) {
		struct trace_span sp;
		long ret;

		trace_span_begin(&sp);
		ret = pinmm_ksm_scan(m, 1);
		TRACE_SPAN_END(m, &sp, TRACE_CAT_DEVICE, "ksm_scan", { "ret", ret });
	}
	lockdep_thread_exit(__func__);	/* a kernel thread ends holding nothing */
	return NULL;
}

/* ksm initcall ->init: start ksmd when ksm.sleep_ms asks for it. */
static int ksm_init(struct pinmm *m)
{
	struct ksm *k;

	if (!m->cfg.ksm_sleep_ms)
		return 0;
	k = ksm_of(m);
	if (!k)
		return -ENOMEM;
	init_completion(&k->stop);
	if (kthread_start(&k->thread, ksmd_fn, m)) {
		destroy_completion(&k->stop);
		return -EAGAIN;
	}
	k->has_thread = true;
	return 0;
}

/* ksm initcall ->shutdown (and ->exit after a failed boot): stop ksmd. */
static void ksm_shutdown(struct pinmm *m)
{
	struct ksm *k = m->ksm;

	if (!k || !k->has_thread)
		return;
	complete(&k->stop);
	kthread_join(k->thread);
	destroy_completion(&k->stop);
	k->has_thread = false;
}

/*
 * ksm_exit() - free @m's merging state at shutdown, after every process
 * has exited (so every KSM folio is gone and every node stale).
 */
static int ksm_exit(struct pinmm *m)
{
	struct ksm *k;

	ksm_shutdown(m);
	k = m->ksm;

	if (!k)
		return 0;
	drop_unstable(k);
	for (int i = 0; i < KSM_BUCKETS; i++) {
		struct ksm_stable_node *node, *tmp;

		list_for_each_entry_safe(node, tmp, &k->stable[i], hnode) {
			list_del(&node->hnode);
			kfree(node);
		}
	}
	mutex_destroy(&k->lock);
	kfree(k);
	m->ksm = NULL;
	return 0;
}
pinmm_initcall(ksm, INITCALL_MM(5), ksm_init, ksm_shutdown, ksm_exit);
