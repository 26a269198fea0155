/* SPDX-License-Identifier: MIT */
/*
 * provenance.h - pin owner records (src/mm/provenance.c).
 */
#ifndef PINMM_PROVENANCE_H
#define PINMM_PROVENANCE_H

#include <stdio.h>
#include "machine.h"

/* Who is pinning right now (set by the GUP entry points). */
struct pin_ctx {
	const void *caller;
	unsigned int flags;
	int pid;
};
extern __thread struct pin_ctx pinmm_pin_ctx;
/* Machines booted with pin.provenance=1; entry points record only then. */
extern atomic_t pinmm_provenance_users;

/* At an exported pinning entry point: remember the caller, cheaply. */
#define PIN_CTX_CALLER() do {						\
	if (unlikely(atomic_read(&pinmm_provenance_users)))		\
		pinmm_pin_ctx.caller = __builtin_return_address(0);	\
} while (0)
static inline void pin_ctx_set(struct mm_struct *mm, unsigned int flags)
{
	if (unlikely(atomic_read(&pinmm_provenance_users))) {
		pinmm_pin_ctx.flags = flags;
		pinmm_pin_ctx.pid = mm->owner_pid;
	}
}

int provenance_init(struct pinmm *m);
void provenance_exit(struct pinmm *m);
void provenance_pin(struct pinmm *m, struct folio *folio, int refs);
void provenance_unpin(struct pinmm *m, struct folio *folio, int refs);
void provenance_report(struct pinmm *m, FILE *out);

#endif /* PINMM_PROVENANCE_H */
