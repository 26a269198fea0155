/* SPDX-License-Identifier: MIT */
/*
 * errseq.h - errseq_t, Linux's error sequence counter (lib/errseq.c): a
 * writeback error recorded once on an address space (mapping->wb_err) and
 * reported once to every open file that was open when it happened, or that
 * opened before anyone saw it (file->f_wb_err, sampled at open).
 *
 * The 32 bits: the errno in the low ERRSEQ_ERR_BITS, a SEEN flag, and a
 * counter above them that moves when a new error follows a seen one.
 */
#ifndef PINMM_ERRSEQ_H
#define PINMM_ERRSEQ_H

#include <stdint.h>

typedef uint32_t errseq_t;

errseq_t errseq_set(errseq_t *eseq, int err);
errseq_t errseq_sample(errseq_t *eseq);
int errseq_check(errseq_t *eseq, errseq_t since);
int errseq_check_and_advance(errseq_t *eseq, errseq_t *since);

#endif /* PINMM_ERRSEQ_H */
