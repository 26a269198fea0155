/* SPDX-License-Identifier: MIT */
/*
 * torture_tsan.c - in a TSan build of the pinmm tool, the model of
 * liburcu that the stress tests use (tests/stress/tsan_rcu_model.h), so
 * that `pinmm torture` under TSan does not report page-table pages freed
 * by call_rcu() and reused as user pages as races: TSan cannot see the
 * grace period inside the uninstrumented liburcu.  Empty otherwise.
 */
#include "../../tests/stress/tsan_rcu_model.h"

/* Keep the translation unit non-empty in a build without TSan (ISO C). */
extern int pinmm_torture_tsan_model;
