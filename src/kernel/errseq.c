/* SPDX-License-Identifier: MIT */
/*
 * errseq.c - error sequence counters (errseq.h), as Linux's lib/errseq.c
 * defines their behaviour: a writer records an error with errseq_set();
 * each reader keeps the value it last saw (errseq_sample() at open) and
 * errseq_check_and_advance() reports an error it has not seen yet, once.
 *
 * Layout of the 32-bit value:
 *   bits 0..11   the (positive) errno of the latest error
 *   bit 12       SEEN: some reader has reported the latest error
 *   bits 13..31  a counter, bumped when an error is recorded after the
 *                previous one was seen, so readers can tell them apart
 *
 * Every update is a compare-and-swap on the whole word; readers load it
 * with acquire.  No lock: doc/MEMORY-ORDERING.md (l), steps labelled.
 */
#include <stdbool.h>

#include "errseq.h"

#define ERRSEQ_ERR_BITS	12
#define ERRSEQ_ERR_MASK	((1u << ERRSEQ_ERR_BITS) - 1)
#define ERRSEQ_SEEN	(1u << ERRSEQ_ERR_BITS)
#define ERRSEQ_CTR_INC	(1u << (ERRSEQ_ERR_BITS + 1))

/**
 * errseq_set() - record error @err.
 * @eseq: the counter (mapping->wb_err).
 * @err: a negative errno; 0 or a value beyond the errno range records nothing.
 *
 * A new error after a seen one moves the counter, so every reader reports
 * it; repeating an unseen error changes nothing (readers will report one).
 *
 * Context: any; lock-free.
 * Return: the value after the update.
 */
errseq_t errseq_set(errseq_t *eseq, int err)
{
	errseq_t old = __atomic_load_n(eseq, __ATOMIC_ACQUIRE), new;

	if (err >= 0 || -err > (int)ERRSEQ_ERR_MASK)
		return old;
	do {	/* (l) writer 1 */
		new = (old & ~(ERRSEQ_ERR_MASK | ERRSEQ_SEEN)) | (errseq_t)-err;
		if (old & ERRSEQ_SEEN)
			new += ERRSEQ_CTR_INC;
		if (new == old)
			break;
	} while (!__atomic_compare_exchange_n(eseq, &old, new, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return new;
}

/**
 * errseq_sample() - the value a new reader starts from.
 * @eseq: the counter.
 *
 * An error nobody has seen yet is not included: the new reader will report
 * it once (Linux since 4.16, "errseq: Always report a writeback error
 * once").  One already seen is.
 *
 * Context: any; lock-free.
 * Return: the value to keep (file->f_wb_err).
 */
errseq_t errseq_sample(errseq_t *eseq)
{
	errseq_t old = __atomic_load_n(eseq, __ATOMIC_ACQUIRE);

	return (old & ERRSEQ_SEEN) ? old : 0;	/* (l) reader 4 */
}

/**
 * errseq_check() - has an error been recorded since @since?
 * @eseq: the counter.
 * @since: a value from errseq_sample() or errseq_check_and_advance().
 *
 * Context: any; lock-free.
 * Return: 0, or the negative errno of the latest error.
 */
int errseq_check(errseq_t *eseq, errseq_t since)
{
	errseq_t cur = __atomic_load_n(eseq, __ATOMIC_ACQUIRE);

	if (cur == since)
		return 0;
	return -(int)(cur & ERRSEQ_ERR_MASK);
}

/**
 * errseq_check_and_advance() - report an error not seen through @since,
 * once: @since moves to the current value, which is marked SEEN.
 * @eseq: the counter.
 * @since: the reader's value (file->f_wb_err), updated.
 *
 * Context: any; callers serialise updates of one @since (fsync of one
 * file runs under nothing else in pinmm: a race reports an error twice,
 * never zero times).
 * Return: 0, or the negative errno of the latest error.
 */
int errseq_check_and_advance(errseq_t *eseq, errseq_t *since)
{
	errseq_t old = __atomic_load_n(eseq, __ATOMIC_ACQUIRE), new;

	if (old == *since)		/* (l) reader 2 */
		return 0;
	new = old | ERRSEQ_SEEN;	/* (l) reader 3 */
	if (new != old)
		__atomic_compare_exchange_n(eseq, &old, new, false, __ATOMIC_ACQ_REL,
					    __ATOMIC_ACQUIRE);
	*since = new;
	return -(int)(new & ERRSEQ_ERR_MASK);
}
