/* SPDX-License-Identifier: MIT */
/*
 * bug.h - BUG/WARN and the VM_* debug assertions.
 *
 * BUG_ON() is always compiled: it marks states the code cannot continue
 * from.  WARN_ON()/WARN_ON_ONCE() print a splat with file and line, count
 * the event in the machine-independent warning counter and continue.
 * VM_BUG_ON()/VM_WARN_ON*() are real checks only with CONFIG_DEBUG_VM (the
 * meson option debug_vm); without it they still type-check their argument.
 */
#ifndef PINMM_BUG_H
#define PINMM_BUG_H

#include "compiler.h"

__cold __attribute__((noreturn)) void pinmm_bug(const char *file, int line,
						const char *cond);
__cold void pinmm_warn(const char *file, int line, const char *cond);
__cold __printf(3, 4) void pinmm_warn_fmt(const char *file, int line,
					  const char *fmt, ...);
/* Number of WARNs since the process started (all machines). */
long pinmm_warn_count(void);

#define BUG() pinmm_bug(__FILE__, __LINE__, "BUG()")
#define BUG_ON(cond) do { if (unlikely(cond)) pinmm_bug(__FILE__, __LINE__, #cond); } while (0)

#define WARN_ON(cond) __extension__({					\
	bool __w = !!(cond);						\
	if (unlikely(__w))						\
		pinmm_warn(__FILE__, __LINE__, #cond);			\
	unlikely(__w);							\
})
#define WARN_ON_ONCE(cond) __extension__({				\
	static bool __warned;						\
	bool __w = !!(cond);						\
	if (unlikely(__w) && !__atomic_exchange_n(&__warned, true, __ATOMIC_RELAXED)) \
		pinmm_warn(__FILE__, __LINE__, #cond);			\
	unlikely(__w);							\
})
#define WARN(cond, ...) __extension__({					\
	bool __w = !!(cond);						\
	if (unlikely(__w))						\
		pinmm_warn_fmt(__FILE__, __LINE__, __VA_ARGS__);	\
	unlikely(__w);							\
})

#if CONFIG_DEBUG_VM
#define VM_BUG_ON(cond) BUG_ON(cond)
#define VM_WARN_ON(cond) (void)WARN_ON(cond)
#define VM_WARN_ON_ONCE(cond) (void)WARN_ON_ONCE(cond)
#define VM_BUG_ON_PAGE(cond, page) do {					\
	if (unlikely(cond)) {						\
		dump_page((page), #cond);				\
		pinmm_bug(__FILE__, __LINE__, #cond);			\
	}								\
} while (0)
#define VM_BUG_ON_FOLIO(cond, folio) VM_BUG_ON_PAGE(cond, &(folio)->page)
#define VM_WARN_ON_ONCE_FOLIO(cond, folio) VM_WARN_ON_ONCE(cond)
#else
#define VM_BUG_ON(cond) ((void)sizeof(!!(cond)))
#define VM_WARN_ON(cond) ((void)sizeof(!!(cond)))
#define VM_WARN_ON_ONCE(cond) ((void)sizeof(!!(cond)))
#define VM_BUG_ON_PAGE(cond, page) ((void)sizeof(!!(cond)), (void)(page))
#define VM_BUG_ON_FOLIO(cond, folio) ((void)sizeof(!!(cond)), (void)(folio))
#define VM_WARN_ON_ONCE_FOLIO(cond, folio) ((void)sizeof(!!(cond)), (void)(folio))
#endif

struct page;
/* mm/debug.c: the state of @page (and its folio) on stderr. */
void dump_page(const struct page *page, const char *reason);

#endif /* PINMM_BUG_H */
