/* SPDX-License-Identifier: MIT */
/*
 * machine.c - boot and shutdown of a machine (struct pinmm), the registry
 * of booted machines behind page_machine(), the per-machine random number
 * generator and the public audit wrappers.
 *
 * Boot reserves host address space only (MAP_NORESERVE): simulated RAM and
 * the memmap cost host memory for what is touched.  Shutdown exits every
 * process, unmounts, waits for RCU callbacks, then checks that every frame
 * is back in the buddy allocator and every pin was released.
 * Does not own: zones' free lists (page_alloc.c), processes (process.c),
 * mounts (vfs.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fs.h"
#include "pinfs.h"
#include "provenance.h"
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

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct machine_slot registry[PINMM_MAX_MACHINES];
static _Atomic int registry_used;		/* slots ever used (high-water) */
static _Atomic int nr_machines;			/* registry_lock for writes */
static _Atomic int nr_quiet_machines;		/* registry_lock for writes */

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

/**
 * pinmm_machines_quiet() - whether WARN splats are suppressed.
 *
 * Context: any; lock-free.
 * Return: true when at least one machine is booted and every booted
 * machine was booted with quiet=1.
 */
bool pinmm_machines_quiet(void)
{
	int n = atomic_load_explicit(&nr_machines, memory_order_relaxed);

	return n > 0 && atomic_load_explicit(&nr_quiet_machines, memory_order_relaxed) == n;
}

static int registry_add(struct pinmm *m)
{
	int ret = -ENOSPC;

	pthread_mutex_lock(&registry_lock);
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
		atomic_fetch_add(&nr_machines, 1);
		if (m->cfg.quiet)
			atomic_fetch_add(&nr_quiet_machines, 1);
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&registry_lock);
	return ret;
}

static void registry_del(struct pinmm *m)
{
	pthread_mutex_lock(&registry_lock);
	for (int i = 0; i < PINMM_MAX_MACHINES; i++) {
		struct machine_slot *s = &registry[i];

		if (atomic_load_explicit(&s->m, memory_order_relaxed) != m)
			continue;
		atomic_store_explicit(&s->start, 0, memory_order_relaxed);
		atomic_store_explicit(&s->end, 0, memory_order_relaxed);
		atomic_store_explicit(&s->m, NULL, memory_order_release);
		atomic_fetch_sub(&nr_machines, 1);
		if (m->cfg.quiet)
			atomic_fetch_sub(&nr_quiet_machines, 1);
		break;
	}
	pthread_mutex_unlock(&registry_lock);
}

static void *host_reserve(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

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
static bool zero_page_exit(struct pinmm *m)
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

static bool huge_zero_exit(struct pinmm *m)
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

static void machine_free(struct pinmm *m)
{
	if (m->mem)
		munmap(m->mem, m->mem_bytes);
	if (m->memmap)
		munmap(m->memmap, m->memmap_bytes);
	mutex_destroy(&m->huge_zero_lock);
	mutex_destroy(&m->proc_lock);
	free(m);
}

/**
 * pinmm_boot() - boot a machine described by @cfg.
 * @cfg: a configuration from pinmm_config_default() and pinmm_config_set()
 * @out: receives the machine
 *
 * Layout, low to high pfn: NORMAL | CMA | MOVABLE (together cfg.ram) |
 * DEVICE (cfg.pmem).  Only host address space is reserved; a 16 GiB machine
 * boots in milliseconds.
 * Context: any thread.
 * Return: 0; -EINVAL for a NULL argument or an invalid configuration (a
 * message on stderr), -ENOMEM when the host refuses the reservation,
 * -ENOSPC with PINMM_MAX_MACHINES machines already booted, or an error of
 * vfs_init().
 */
int pinmm_boot(const struct pinmm_config *cfg, struct pinmm **out)
{
	unsigned long ram_pages, normal, cma, movable;
	struct pinmm *m;
	int ret;

	pinmm_thread_enter();
	if (!cfg || !out)
		return -EINVAL;
	*out = NULL;
	ret = pinmm_config_validate(cfg);
	if (ret)
		return ret;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->cfg = *cfg;
	m->debug = cfg->debug;
	mutex_init(&m->huge_zero_lock);
	mutex_init(&m->proc_lock);
	INIT_LIST_HEAD(&m->procs);
	m->next_pid = 1;
	m->rng = cfg->seed;
	atomic_long_set(&m->audit_errors, 0);
	/* warn_count reads as the WARNs since this boot (vmstat.c). */
	atomic_long_set(&m->vmstat[WARN_COUNT], -pinmm_warn_count());

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
		goto out_free;
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
		goto out_free;
	ret = registry_add(m);
	if (ret) {
		fprintf(stderr, "pinmm: boot: already %d machines booted\n", PINMM_MAX_MACHINES);
		goto out_alloc;
	}
	ret = zero_page_init(m);
	if (ret)
		goto out_unregister;
	ret = provenance_init(m);
	if (ret)
		goto out_zero;
	ret = vfs_init(m);
	if (ret)
		goto out_prov;
	ret = pinfs_init(m);		/* /data/ when cfg.pinfs_image is set */
	if (ret)
		goto out_vfs;
	*out = m;
	return 0;

out_vfs:
	vfs_exit(m);
out_prov:
	provenance_exit(m);
out_zero:
	zero_page_exit(m);
out_unregister:
	registry_del(m);
out_alloc:
	page_alloc_exit(m);
out_free:
	machine_free(m);
	return ret;
}

/**
 * pinmm_shutdown() - exit every process and tear the machine down.
 * @m: the machine; no other thread may use it any more
 *
 * Order: processes exit, filesystems unmount, RCU callbacks run (page
 * tables are freed by call_rcu), the huge zero folio and the zero page are
 * dropped, then the audit: every frame of NORMAL, CMA and MOVABLE must be
 * free and nr_foll_pin_acquired == nr_foll_pin_released.  A leak report
 * goes to stderr.  The machine is freed either way.
 * Context: any thread.
 * Return: 0 when clean; -EBUSY after a leak report; -EINVAL for NULL.
 */
int pinmm_shutdown(struct pinmm *m)
{
	long leaked, acquired, released;
	bool clean = true;

	pinmm_thread_enter();
	if (!m)
		return -EINVAL;
	rdma_shutdown(m);
	pinmm_procs_exit_all(m);
	ksm_exit(m);
	vfs_exit(m);
	rcu_barrier();

	if (!huge_zero_exit(m))
		clean = false;
	if (!zero_page_exit(m))
		clean = false;
	/* Frees queued by the steps above (none expected; cheap). */
	rcu_barrier();

	leaked = page_alloc_check_leaks(m, true);
	if (leaked) {
		fprintf(stderr, "pinmm: shutdown: %ld frames leaked\n", leaked);
		clean = false;
	}
	acquired = atomic_long_read(&m->vmstat[NR_FOLL_PIN_ACQUIRED]);
	released = atomic_long_read(&m->vmstat[NR_FOLL_PIN_RELEASED]);
	if (acquired != released) {
		fprintf(stderr, "pinmm: shutdown: pins unbalanced: nr_foll_pin_acquired %ld, "
			"nr_foll_pin_released %ld (%ld outstanding)\n",
			acquired, released, acquired - released);
		provenance_report(m, stderr);
		clean = false;
	}
	if (!clean)
		fprintf(stderr, "pinmm: shutdown: machine was not clean (seed %" PRIu64 ")\n",
			m->cfg.seed);

	provenance_exit(m);
	registry_del(m);
	page_alloc_exit(m);
	machine_free(m);
	return clean ? 0 : -EBUSY;
}

/**
 * pinmm_machine_config() - the configuration @m was booted with.
 * @m: the machine
 *
 * Context: any.
 * Return: a pointer valid until pinmm_shutdown(); NULL for a NULL @m.
 */
const struct pinmm_config *pinmm_machine_config(struct pinmm *m)
{
	pinmm_thread_enter();
	return m ? &m->cfg : NULL;
}

/**
 * pinmm_random() - the next number of @m's generator (splitmix64 seeded
 * with cfg.seed): deterministic for a given seed and call sequence.
 * @m: the machine
 *
 * Context: any; lock-free (concurrent callers each get a distinct value).
 * Return: 64 random bits.
 */
uint64_t pinmm_random(struct pinmm *m)
{
	const uint64_t gamma = 0x9e3779b97f4a7c15ULL;
	uint64_t z = __atomic_add_fetch(&m->rng, gamma, __ATOMIC_RELAXED);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
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
