/* SPDX-License-Identifier: MIT */
/*
 * atomic.h - kernel-named atomics over C11 <stdatomic.h>.
 *
 * Ordering follows Linux: atomic_read/set and the void RMW operations are
 * relaxed; value-returning RMW operations (*_return, cmpxchg, xchg,
 * *_and_test, add_unless) are fully ordered (seq_cst).
 */
#ifndef PINMM_ATOMIC_H
#define PINMM_ATOMIC_H

#include <stdatomic.h>
#include "compiler.h"

typedef _Atomic int atomic_t;
typedef _Atomic long atomic_long_t;

#define __RLX memory_order_relaxed
#define __SC memory_order_seq_cst

static inline int atomic_read(const atomic_t *v) { return atomic_load_explicit((atomic_t *)v, __RLX); }
static inline void atomic_set(atomic_t *v, int i) { atomic_store_explicit(v, i, __RLX); }
static inline void atomic_add(int i, atomic_t *v) { atomic_fetch_add_explicit(v, i, __RLX); }
static inline void atomic_sub(int i, atomic_t *v) { atomic_fetch_sub_explicit(v, i, __RLX); }
static inline void atomic_inc(atomic_t *v) { atomic_add(1, v); }
static inline void atomic_dec(atomic_t *v) { atomic_sub(1, v); }
/*
 * Atomic arithmetic wraps (C11 defines it for atomics, Linux relies on it:
 * an overflowed refcount reads negative); the returned value is computed
 * the same way, in unsigned arithmetic, never as signed overflow.
 */
static inline int atomic_add_return(int i, atomic_t *v)
{
	return (int)((unsigned)atomic_fetch_add_explicit(v, i, __SC) + (unsigned)i);
}
static inline int atomic_sub_return(int i, atomic_t *v)
{
	return (int)((unsigned)atomic_fetch_sub_explicit(v, i, __SC) - (unsigned)i);
}
static inline int atomic_inc_return(atomic_t *v) { return atomic_add_return(1, v); }
static inline int atomic_dec_return(atomic_t *v) { return atomic_sub_return(1, v); }
static inline bool atomic_dec_and_test(atomic_t *v) { return atomic_sub_return(1, v) == 0; }
static inline bool atomic_sub_and_test(int i, atomic_t *v) { return atomic_sub_return(i, v) == 0; }
static inline bool atomic_inc_and_test(atomic_t *v) { return atomic_add_return(1, v) == 0; }
static inline bool atomic_add_negative(int i, atomic_t *v) { return atomic_add_return(i, v) < 0; }
static inline int atomic_cmpxchg(atomic_t *v, int old, int new)
{
	atomic_compare_exchange_strong_explicit(v, &old, new, __SC, __SC);
	return old;
}
static inline int atomic_xchg(atomic_t *v, int new) { return atomic_exchange_explicit(v, new, __SC); }
/* Add @a unless the value is @u; true if the add happened. */
static inline bool atomic_add_unless(atomic_t *v, int a, int u)
{
	int c = atomic_read(v);
	do {
		if (unlikely(c == u))
			return false;
	} while (!atomic_compare_exchange_weak_explicit(v, &c, c + a, __SC, __RLX));
	return true;
}

static inline long atomic_long_read(const atomic_long_t *v) { return atomic_load_explicit((atomic_long_t *)v, __RLX); }
static inline void atomic_long_set(atomic_long_t *v, long i) { atomic_store_explicit(v, i, __RLX); }
static inline void atomic_long_add(long i, atomic_long_t *v) { atomic_fetch_add_explicit(v, i, __RLX); }
static inline void atomic_long_sub(long i, atomic_long_t *v) { atomic_fetch_sub_explicit(v, i, __RLX); }
static inline void atomic_long_inc(atomic_long_t *v) { atomic_long_add(1, v); }
static inline void atomic_long_dec(atomic_long_t *v) { atomic_long_sub(1, v); }
static inline long atomic_long_add_return(long i, atomic_long_t *v)
{
	return (long)((unsigned long)atomic_fetch_add_explicit(v, i, __SC) + (unsigned long)i);
}
static inline long atomic_long_sub_return(long i, atomic_long_t *v)
{
	return (long)((unsigned long)atomic_fetch_sub_explicit(v, i, __SC) - (unsigned long)i);
}

/* Bit operations on an unsigned long word (flags). */
static inline bool test_bit(int nr, const unsigned long *addr)
{
	return (__atomic_load_n(addr, __ATOMIC_RELAXED) >> nr) & 1;
}
static inline void set_bit(int nr, unsigned long *addr) { __atomic_fetch_or(addr, 1UL << nr, __ATOMIC_RELAXED); }
static inline void clear_bit(int nr, unsigned long *addr) { __atomic_fetch_and(addr, ~(1UL << nr), __ATOMIC_RELAXED); }
static inline bool test_and_set_bit(int nr, unsigned long *addr)
{
	return (__atomic_fetch_or(addr, 1UL << nr, __ATOMIC_SEQ_CST) >> nr) & 1;
}
static inline bool test_and_clear_bit(int nr, unsigned long *addr)
{
	return (__atomic_fetch_and(addr, ~(1UL << nr), __ATOMIC_SEQ_CST) >> nr) & 1;
}
static inline void clear_bit_unlock(int nr, unsigned long *addr)
{
	__atomic_fetch_and(addr, ~(1UL << nr), __ATOMIC_RELEASE);
}
static inline bool test_and_set_bit_lock(int nr, unsigned long *addr)
{
	return (__atomic_fetch_or(addr, 1UL << nr, __ATOMIC_ACQUIRE) >> nr) & 1;
}
/* Non-atomic variants: the caller owns the word exclusively. */
static inline void __set_bit(int nr, unsigned long *addr) { *addr |= 1UL << nr; }
static inline void __clear_bit(int nr, unsigned long *addr) { *addr &= ~(1UL << nr); }

#define cmpxchg64(ptr, old, new) __extension__({			\
	__typeof__(*(ptr)) __old = (old);				\
	__atomic_compare_exchange_n((ptr), &__old, (new), false,	\
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
	__old;								\
})
#define xchg(ptr, v) __atomic_exchange_n((ptr), (v), __ATOMIC_SEQ_CST)

#endif /* PINMM_ATOMIC_H */
