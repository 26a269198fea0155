/* SPDX-License-Identifier: MIT */
/*
 * mm_init.c - a machine's memory at boot and shutdown: the host
 * reservations behind RAM and the memmap, the zone layout, the registry of
 * booted machines behind page_machine(), and the zero page.  Two initcalls
 * (init.h): "memory" and "zero_page".
 *
 * Boot reserves host address space only (MAP_NORESERVE): simulated RAM and
 * the memmap cost host memory for what is touched.  At shutdown, once every
 * process has exited and every filesystem is unmounted, "zero_page" drops
 * the zero pages and waits for RCU callbacks (page tables are freed by
 * call_rcu), and "memory" checks that every frame is back in the buddy
 * allocator before it releases the host memory.
 * Does not own: zones' free lists (page_alloc.c), the huge zero folio's
 * allocation (huge_memory.c).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>

#include "init.h"
#include "mm.h"
#include "rcu.h"

/*
 * The registry: one slot per booted machine, [start, end) being the host
 * range of its memmap.  Writers hold registry_lock; page_machine() reads
 * locklessly.  A slot is published by storing @m and @end, then @start
 * with release (read with acquire); it is retired by clearing @start and
 * @end first.  A lookup racing with a retirement can only be for a page of
 * a machine being shut down, which is a use-after-free of the caller's.
 */
#define PINMM_MAX_MACHINES	64

struct machine_slot {
	_Atomic uintptr_t start;
	_Atomic uintptr_t end;
	struct pinmm *_Atomic m;
};

static DEFINE_MUTEX(registry_lock);
static struct machine_slot registry[PINMM_MAX_MACHINES];
static _Atomic int registry_used;		/* slots ever used (high-water) */

/**
 * page_machine() - the machine whose memmap contains @page.
 * @page: a struct page pointer
 *
 * Context: any; lock-free (a few loads per booted machine).
 * Return: the machine, or NULL if @page belongs to none.
 */
struct pinmm *page_machine(const struct page *page)
{
	uintptr_t p = (uintptr_t)page;
	int n = atomic_load_explicit(&registry_used, memory_order_acquire);

	for (int i = 0; i < n; i++) {
		struct machine_slot *s = &registry[i];
		uintptr_t start = atomic_load_explicit(&s->start, memory_order_acquire);

		if (p >= start && p < atomic_load_explicit(&s->end, memory_order_relaxed) &&
		    start)
			return atomic_load_explicit(&s->m, memory_order_relaxed);
	}
	return NULL;
}

static int registry_add(struct pinmm *m)
{
	int ret = -ENOSPC;

	mutex_lock(&registry_lock);
	for (int i = 0; i < PINMM_MAX_MACHINES; i++) {
		struct machine_slot *s = &registry[i];

		if (atomic_load_explicit(&s->m, memory_order_relaxed))
			continue;
		atomic_store_explicit(&s->m, m, memory_order_relaxed);
		atomic_store_explicit(&s->end, (uintptr_t)m->memmap + m->memmap_bytes,
				      memory_order_relaxed);
		/* Pairs with the acquire load of @start in page_machine(). */
		atomic_store_explicit(&s->start, (uintptr_t)m->memmap, memory_order_release);
		if (i >= atomic_load_explicit(&registry_used, memory_order_relaxed))
			atomic_store_explicit(&registry_used, i + 1, memory_order_release);
		pinmm_warn_machine_add(m->cfg.quiet);
		ret = 0;
		break;
	}
	mutex_unlock(&registry_lock);
	return ret;
}

static void registry_del(struct pinmm *m)
{
	mutex_lock(&registry_lock);
	for (int i = 0; i < PINMM_MAX_MACHINES; i++) {
		struct machine_slot *s = &registry[i];

		if (atomic_load_explicit(&s->m, memory_order_relaxed) != m)
			continue;
		atomic_store_explicit(&s->start, 0, memory_order_relaxed);
		atomic_store_explicit(&s->end, 0, memory_order_relaxed);
		atomic_store_explicit(&s->m, NULL, memory_order_release);
		pinmm_warn_machine_del(m->cfg.quiet);
		break;
	}
	mutex_unlock(&registry_lock);
}

static void *host_reserve(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void host_release(struct pinmm *m)
{
	if (m->mem)
		munmap(m->mem, m->mem_bytes);
	if (m->memmap)
		munmap(m->memmap, m->memmap_bytes);
	m->mem = NULL;
	m->memmap = NULL;
}

/*
 * Initcall "memory": RAM and memmap, the zones (low to high pfn: NORMAL |
 * CMA | MOVABLE, together cfg.ram, then DEVICE for cfg.pmem), the buddy
 * allocator, and the registry slot.  Only host address space is reserved;
 * a 16 GiB machine boots in milliseconds.  Return: 0; -ENOMEM when the
 * host refuses the reservation; -ENOSPC with PINMM_MAX_MACHINES machines
 * booted; an error of page_alloc_init().
 */
static int memory_init(struct pinmm *m)
{
	const struct pinmm_config *cfg = &m->cfg;
	unsigned long ram_pages, normal, cma, movable;
	int ret;

	ram_pages = cfg->ram >> PAGE_SHIFT;
	cma = cfg->zone_cma >> PAGE_SHIFT;
	movable = cfg->zone_movable >> PAGE_SHIFT;
	normal = ram_pages - cma - movable;
	m->nr_pages = ram_pages + (cfg->pmem >> PAGE_SHIFT);
	m->mem_bytes = m->nr_pages << PAGE_SHIFT;
	m->memmap_bytes = PAGE_ALIGN(m->nr_pages * sizeof(struct page));
	m->mem = host_reserve(m->mem_bytes);
	m->memmap = host_reserve(m->memmap_bytes);
	if (!m->mem || !m->memmap) {
		fprintf(stderr, "pinmm: boot: cannot reserve %zu + %zu bytes of host "
			"address space\n", m->mem_bytes, m->memmap_bytes);
		ret = -ENOMEM;
		goto out_release;
	}

	m->zones[ZONE_NORMAL].start_pfn = 0;
	m->zones[ZONE_NORMAL].end_pfn = normal;
	m->zones[ZONE_CMA].start_pfn = normal;
	m->zones[ZONE_CMA].end_pfn = normal + cma;
	m->zones[ZONE_MOVABLE].start_pfn = normal + cma;
	m->zones[ZONE_MOVABLE].end_pfn = ram_pages;
	m->zones[ZONE_DEVICE].start_pfn = ram_pages;
	m->zones[ZONE_DEVICE].end_pfn = m->nr_pages;
	ret = page_alloc_init(m);
	if (ret)
		goto out_release;
	ret = registry_add(m);
	if (ret) {
		fprintf(stderr, "pinmm: boot: already %d machines booted\n", PINMM_MAX_MACHINES);
		page_alloc_exit(m);
		goto out_release;
	}
	return 0;

out_release:
	host_release(m);
	return ret;
}

/*
 * Frames that leaked (a pin never released) still hold host objects: an
 * anonymous folio holds a reference on its anon_vma until it is freed,
 * which a leaked folio never is.  Drop those references, so that a leak
 * of frames does not also leak host memory; the frames themselves go with
 * the memmap.  Walks the buddy zones' struct pages (only on a leak).
 * Context: shutdown, after the leak report.
 */
static void leaked_frames_release(struct pinmm *m)
{
	for (unsigned long pfn = 0; pfn < m->zones[ZONE_MOVABLE].end_pfn; pfn++) {
		struct page *page = pfn_to_page_m(m, pfn);
		struct folio *folio = (struct folio *)page;
		struct anon_vma *av;

		if (PageTail(page) || !page_ref_count(page))
			continue;
		av = folio_anon_vma(folio);
		if (!av)
			continue;
		WRITE_ONCE(folio->mapping, NULL);
		put_anon_vma(av);
	}
}

/*
 * Exit of "memory": every frame of NORMAL, CMA and MOVABLE must be free
 * and every device frame idle (page_alloc_check_leaks() reports what is
 * not), then the allocator and the host memory go.  Return: 0, or -EBUSY
 * after a leak report.
 */
static int memory_exit(struct pinmm *m)
{
	long leaked = page_alloc_check_leaks(m, true);

	if (leaked) {
		fprintf(stderr, "pinmm: shutdown: %ld frames leaked\n", leaked);
		leaked_frames_release(m);
	}
	registry_del(m);
	page_alloc_exit(m);
	host_release(m);
	return leaked ? -EBUSY : 0;
}

pinmm_initcall(memory, INITCALL_MM(1), memory_init, NULL, memory_exit);

/* The zero page is read-only on the host in debug: a write to it crashes. */
static void zero_page_protect(struct pinmm *m, bool ro)
{
	if (CONFIG_DEBUG_VM && m->debug >= 1)
		mprotect(pfn_to_virt(m, m->zero_pfn), PAGE_SIZE,
			 ro ? PROT_READ : PROT_READ | PROT_WRITE);
}

static int zero_page_init(struct pinmm *m)
{
	struct page *page = alloc_pages(m, __GFP_ZERO | __GFP_ZONE_ONLY |
					__GFP_ZONE(ZONE_NORMAL), 0);

	if (!page)
		return -ENOMEM;
	SetPageReserved(page);
	SetPageZero(page);
	SetPageUptodate(page);
	m->zero_page = page;
	m->zero_pfn = page_to_pfn_m(m, page);
	zero_page_protect(m, true);
	return 0;
}

/* Drop the machine's reference; false if someone else still holds one. */
static bool zero_page_free(struct pinmm *m)
{
	struct page *page = m->zero_page;
	int ref;

	if (!page)
		return true;
	zero_page_protect(m, false);
	m->zero_page = NULL;
	ref = page_ref_count(page);
	if (ref != 1) {
		fprintf(stderr, "pinmm: shutdown: zero page (pfn %#lx) has refcount %d, "
			"expected 1 (the machine's)\n", m->zero_pfn, ref);
		return false;
	}
	ClearPageReserved(page);
	ClearPageZero(page);
	ClearPageUptodate(page);
	atomic_set(&page->_refcount, 0);
	free_pages_prepared(m, page, 0);
	return true;
}

static bool huge_zero_free(struct pinmm *m)
{
	struct folio *folio = m->huge_zero_folio;
	int ref;

	if (!folio)
		return true;
	m->huge_zero_folio = NULL;
	ref = folio_ref_count(folio);
	folio_clear_Zero(folio);
	folio_clear_Reserved(folio);
	if (ref != 1) {
		fprintf(stderr, "pinmm: shutdown: huge zero folio (pfn %#lx) has refcount %d, "
			"expected 1 (the machine's)\n", folio_pfn(folio), ref);
		folio_put(folio);
		return false;
	}
	folio_put(folio);
	return true;
}

/*
 * Exit of "zero_page": RCU callbacks run first (page tables are freed by
 * call_rcu; their frames must be back before the leak check of "memory"),
 * then the huge zero folio and the zero page are dropped, then the frees
 * those queued.  Return: 0, or
 * -EBUSY when a zero page was still referenced.
 */
static int zero_page_exit(struct pinmm *m)
{
	bool clean = true;

	rcu_barrier();
	if (!huge_zero_free(m))
		clean = false;
	if (!zero_page_free(m))
		clean = false;
	/* Frees queued by the steps above (none expected; cheap). */
	rcu_barrier();
	return clean ? 0 : -EBUSY;
}

pinmm_initcall(zero_page, INITCALL_MM(2), zero_page_init, NULL, zero_page_exit);
