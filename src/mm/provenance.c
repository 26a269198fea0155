/* SPDX-License-Identifier: MIT */
/*
 * provenance.c - pin provenance: who holds each outstanding FOLL_PIN
 * reference.  None of Linux's tools has this; page_owner records who
 * allocated a page, not who pinned it.
 *
 * With pin.provenance=1 every pin adds to a record keyed by (folio pfn,
 * caller, process, flags): the pinning call's return address, the process
 * whose memory was pinned, its FOLL_* flags and the time of the first pin.
 * An unpin cannot tell which caller's pin it releases (pins are
 * interchangeable references), so it retires pins from the oldest record
 * of that folio first.  pinmm_shutdown()'s leak report and `pinmm` list
 * the records that are left.
 *
 * Cost when off: the hooks in pin_tracking.c test m->provenance (NULL) and
 * the GUP entry points store their return address in a thread-local only
 * when pinmm_provenance_users is non-zero.
 *
 * Locking: prov->lock (a spinlock, leaf: taken by GUP-fast inside
 * rcu_read_lock() and under PTE locks) protects the hash table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "init.h"
#include "mm.h"
#include "provenance.h"
#include "symbolize.h"

struct pin_record {
	struct pin_record *next;
	unsigned long pfn;		/* folio head */
	int pid;
	unsigned int flags;
	const void *caller;
	uint64_t when_ns;
	int refs;
};

#define PROV_BUCKETS 4096

struct provenance {
	spinlock_t lock;
	struct pin_record *bucket[PROV_BUCKETS];
	long nr_records;
};

__thread struct pin_ctx pinmm_pin_ctx;
atomic_t pinmm_provenance_users;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static size_t hash_pfn(unsigned long pfn)
{
	return (size_t)((pfn * 0x9e3779b97f4a7c15ULL) >> 52) & (PROV_BUCKETS - 1);
}

/**
 * provenance_init() - set up records for @m when cfg.pin_provenance.
 * Context: boot.
 * Return: 0 or -ENOMEM.
 */
int provenance_init(struct pinmm *m)
{
	struct provenance *prov;

	if (!m->cfg.pin_provenance)
		return 0;
	prov = kzalloc(sizeof(*prov));
	if (!prov)
		return -ENOMEM;
	spin_lock_init(&prov->lock);
	m->provenance = prov;
	atomic_inc(&pinmm_provenance_users);
	return 0;
}

void provenance_exit(struct pinmm *m)
{
	struct provenance *prov = m->provenance;

	if (!prov)
		return;
	for (size_t i = 0; i < PROV_BUCKETS; i++) {
		struct pin_record *r = prov->bucket[i], *next;
		for (; r; r = next) {
			next = r->next;
			free(r);
		}
	}
	spin_lock_destroy(&prov->lock);
	free(prov);
	m->provenance = NULL;
	atomic_dec(&pinmm_provenance_users);
}

/**
 * provenance_pin() - @refs new pins on @folio by the current pin context.
 * Context: any; called from the pin accounting with no pinmm lock needed.
 */
void provenance_pin(struct pinmm *m, struct folio *folio, int refs)
{
	struct provenance *prov = m->provenance;
	unsigned long pfn = folio_pfn(folio);
	struct pin_ctx *ctx = &pinmm_pin_ctx;
	struct pin_record *r;
	size_t h = hash_pfn(pfn);

	spin_lock(&prov->lock);
	for (r = prov->bucket[h]; r; r = r->next)
		if (r->pfn == pfn && r->caller == ctx->caller && r->pid == ctx->pid &&
		    r->flags == ctx->flags)
			break;
	if (!r) {
		r = kzalloc(sizeof(*r));
		if (!r) {
			spin_unlock(&prov->lock);
			return;		/* a lost record, never lost accounting */
		}
		r->pfn = pfn;
		r->pid = ctx->pid;
		r->flags = ctx->flags;
		r->caller = ctx->caller;
		r->when_ns = now_ns();
		/* Append: the oldest record of a folio comes first. */
		{
			struct pin_record **pp = &prov->bucket[h];
			while (*pp)
				pp = &(*pp)->next;
			*pp = r;
		}
		prov->nr_records++;
	}
	r->refs += refs;
	spin_unlock(&prov->lock);
}

/**
 * provenance_unpin() - @refs pins on @folio released: retire them from the
 * folio's oldest records.
 * Context: any.
 */
void provenance_unpin(struct pinmm *m, struct folio *folio, int refs)
{
	struct provenance *prov = m->provenance;
	unsigned long pfn = folio_pfn(folio);
	struct pin_record **pp;

	spin_lock(&prov->lock);
	pp = &prov->bucket[hash_pfn(pfn)];
	while (*pp && refs > 0) {
		struct pin_record *r = *pp;

		if (r->pfn != pfn) {
			pp = &r->next;
			continue;
		}
		if (r->refs > refs) {
			r->refs -= refs;
			refs = 0;
			break;
		}
		refs -= r->refs;
		*pp = r->next;
		free(r);
		prov->nr_records--;
	}
	spin_unlock(&prov->lock);
}

/**
 * pinmm_pin_owners() - call @fn for every outstanding pin record.
 * Context: any thread; @fn runs with the record table locked and must not
 * pin or unpin.
 * Return: number of records, -ENODATA when provenance is off, -EINVAL.
 */
long pinmm_pin_owners(struct pinmm *m, void (*fn)(const struct pinmm_pin_owner *o, void *arg),
		      void *arg)
{
	struct provenance *prov;
	long n = 0;

	if (!m)
		return -EINVAL;
	prov = m->provenance;
	if (!prov)
		return -ENODATA;
	spin_lock(&prov->lock);
	for (size_t i = 0; i < PROV_BUCKETS; i++) {
		for (struct pin_record *r = prov->bucket[i]; r; r = r->next) {
			struct pinmm_pin_owner o = {
				.pfn = r->pfn, .pid = r->pid, .gup_flags = r->flags,
				.caller = r->caller, .when_ns = r->when_ns, .refs = r->refs,
			};
			pinmm_symbolize(r->caller, SYM_RETURN_ADDR | SYM_SHORT_FILE,
					o.caller_name, sizeof(o.caller_name));
			if (fn)
				fn(&o, arg);
			n++;
		}
	}
	spin_unlock(&prov->lock);
	return n;
}

static void report_one(const struct pinmm_pin_owner *o, void *arg)
{
	FILE *out = arg;

	fprintf(out, "pinmm:   pfn %#lx: %d pin(s) by %s, pid %d, gup_flags %#x, at %.3f s\n",
		o->pfn, o->refs, o->caller_name, o->pid, o->gup_flags, (double)o->when_ns / 1e9);
}

/**
 * provenance_report() - print the outstanding pins' owners (leak report).
 * Context: shutdown.
 */
void provenance_report(struct pinmm *m, FILE *out)
{
	if (!m->provenance) {
		fprintf(out, "pinmm:   (boot with pin.provenance=1 to see who holds these pins)\n");
		return;
	}
	pinmm_pin_owners(m, report_one, out);
}

/*
 * Exit of the "pins" initcall, after every process has exited and every
 * filesystem is unmounted: nr_foll_pin_acquired must equal
 * nr_foll_pin_released; when it does not, the outstanding pins' owners are
 * reported.  Then the records go.  Return: 0, or -EBUSY after the report.
 */
static int pins_exit(struct pinmm *m)
{
	long acquired = vm_stat_snapshot(m, NR_FOLL_PIN_ACQUIRED);
	long released = vm_stat_snapshot(m, NR_FOLL_PIN_RELEASED);
	int ret = 0;

	if (acquired != released) {
		fprintf(stderr, "pinmm: shutdown: pins unbalanced: nr_foll_pin_acquired %ld, "
			"nr_foll_pin_released %ld (%ld outstanding)\n",
			acquired, released, acquired - released);
		provenance_report(m, stderr);
		ret = -EBUSY;
	}
	provenance_exit(m);
	return ret;
}

pinmm_initcall(pins, INITCALL_MM(3), provenance_init, NULL, pins_exit);
