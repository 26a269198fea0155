/* SPDX-License-Identifier: MIT */
/*
 * init.h - initcalls: how a subsystem joins the boot and shutdown of a
 * machine without the init layer (src/init/) knowing it by name.
 *
 * A subsystem registers one hook per concern with pinmm_initcall(); the
 * linker gathers them in the "pinmm_initcalls" section (as Linux gathers
 * its initcall levels), and init/main.c runs them:
 *
 *   pinmm_boot():      ->init     in increasing level; when one fails, the
 *                                 ->exit of every hook already initialised,
 *                                 in decreasing level, and the error;
 *   pinmm_shutdown():  ->shutdown in decreasing level (stop activity while
 *                                 processes still exist), then every
 *                                 process exits, then ->exit in decreasing
 *                                 level (undo ->init; report what is still
 *                                 held and return -EBUSY for it).
 *
 * Levels are banded by layer, so that a lower layer is up before a higher
 * one and down after it: INITCALL_KERNEL(n) < INITCALL_MM(n) < INITCALL_FS(n) <
 * INITCALL_DRIVERS(n).  Two hooks never share a level (boot checks it):
 * the order inside a band is written down, not left to the link order.
 * The levels in use (doc/DESIGN.md "Layers"):
 *
 *   INITCALL_KERNEL(1)   tracing: buffers; the file at exit (kernel/trace.c)
 *   INITCALL_MM(1)       memory: host RAM and memmap, zones, buddy
 *                        allocator, page_machine()    (mm/mm_init.c)
 *   INITCALL_MM(2)       the zero page                (mm/mm_init.c)
 *   INITCALL_MM(3)       pin accounting, provenance   (mm/provenance.c)
 *   INITCALL_MM(4)       tmpfs's internal mount       (mm/shmem.c)
 *   INITCALL_MM(5)       KSM state, the ksmd thread   (mm/ksm.c)
 *   INITCALL_MM(6)       the swap device              (mm/swapfile.c)
 *   INITCALL_MM(7)       khugepaged and its thread    (mm/khugepaged.c)
 *   INITCALL_MM(9)       the deferred split queue     (mm/mthp.c)
 *   INITCALL_MM(10)      hugetlb pools                (mm/hugetlb.c)
 *   INITCALL_MM(11)      hugetlbfs internal mounts    (mm/hugetlbfs.c)
 *   INITCALL_FS(1)       the VFS namespace            (fs/vfs.c)
 *   INITCALL_FS(2)       pinfs mounts                 (fs/pinfs/super.c)
 *   INITCALL_DRIVERS(1)  RDMA peers (shutdown only)   (drivers/rdma_peer.c)
 *
 * The archive must be linked whole (src/meson.build does) so that a hook
 * is present even when nothing else of its file is referenced.
 */
#ifndef PINMM_INIT_H
#define PINMM_INIT_H

struct pinmm;

#define INITCALL_KERNEL(n)	(n)
#define INITCALL_MM(n)		(100 + (n))
#define INITCALL_FS(n)		(200 + (n))
#define INITCALL_DRIVERS(n)	(300 + (n))

/*
 * struct pinmm_initcall - one subsystem's part in boot and shutdown.
 * @name: for messages.
 * @level: INITCALL_*(n), unique.
 * @init: boot; 0 or -errno (the boot then fails with it).  May be NULL.
 * @shutdown: first step of shutdown, before processes exit.  May be NULL.
 * @exit: undo @init (also when a later hook's @init failed); 0, or -EBUSY
 *	after reporting on stderr something still held.  May be NULL.
 */
struct pinmm_initcall {
	const char *name;
	int level;
	int (*init)(struct pinmm *m);
	void (*shutdown)(struct pinmm *m);
	int (*exit)(struct pinmm *m);
};

/* Register the hook @id (a C identifier, unique in its file). */
#define pinmm_initcall(id, lvl, init_fn, shutdown_fn, exit_fn)		\
	static const struct pinmm_initcall __initcall_##id = {		\
		.name = #id, .level = (lvl), .init = (init_fn),		\
		.shutdown = (shutdown_fn), .exit = (exit_fn),		\
	};								\
	static const struct pinmm_initcall *const __initcall_ptr_##id	\
		__attribute__((section("pinmm_initcalls"), used)) =	\
		&__initcall_##id

#endif /* PINMM_INIT_H */
