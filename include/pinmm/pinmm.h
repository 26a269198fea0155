/* SPDX-License-Identifier: MIT */
/*
 * <pinmm/pinmm.h> - the machine, processes, "syscalls" and introspection.
 *
 * This header is the public contract of libpinmm (doc/API.md §1).
 * Every function returns >= 0 on success (0, a count or an address) and a
 * negative errno on failure; the library never sets errno.  Every function is
 * thread-safe unless its comment says otherwise, and a calling thread needs no
 * registration of its own.
 */
#ifndef PINMM_PINMM_H
#define PINMM_PINMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/mman.h>
#include <fcntl.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PINMM_API __attribute__((visibility("default")))

/*
 * Linux's values for the constants this API takes, for programs whose
 * feature-test macros hide them in the system headers (strict -std=c11
 * hides MAP_ANONYMOUS, the MADV_* advice and memfd flags).
 */
#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS		0x20
#endif
#ifndef MAP_NORESERVE
#define MAP_NORESERVE		0x4000
#endif
#ifndef MAP_POPULATE
#define MAP_POPULATE		0x8000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE	0x03
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif
#ifndef MADV_DONTNEED
#define MADV_DONTNEED		4
#endif
#ifndef MADV_DONTFORK
#define MADV_DONTFORK		10
#define MADV_DOFORK		11
#endif
#ifndef MADV_HUGEPAGE
#define MADV_HUGEPAGE		14
#define MADV_NOHUGEPAGE		15
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#define MADV_POPULATE_WRITE	23
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC		0x0001U
#define MFD_ALLOW_SEALING	0x0002U
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB		0x0004U
#endif
#ifndef MAP_HUGETLB
#define MAP_HUGETLB		0x40000
#endif
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT		26
#define MAP_HUGE_MASK		0x3f
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB		(21 << MAP_HUGE_SHIFT)
#define MAP_HUGE_1GB		(30 << MAP_HUGE_SHIFT)
#endif
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_SHIFT		MAP_HUGE_SHIFT
#define MFD_HUGE_MASK		MAP_HUGE_MASK
#define MFD_HUGE_2MB		MAP_HUGE_2MB
#define MFD_HUGE_1GB		MAP_HUGE_1GB
#endif
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE	0x01
#define FALLOC_FL_PUNCH_HOLE	0x02
#endif

#define PINMM_VERSION_MAJOR 0
#define PINMM_VERSION_MINOR 1
#define PINMM_VERSION_PATCH 0

struct pinmm;		/* one simulated machine */
struct pinmm_proc;	/* one process: an mm plus a file table */

/* PINMM_THP_INHERIT is valid only for the per-size keys thp.<size>K. */
enum pinmm_thp_mode { PINMM_THP_NEVER, PINMM_THP_MADVISE, PINMM_THP_ALWAYS, PINMM_THP_INHERIT };
/* Anonymous THP folio orders with a thp.<size>K key: 2 (16K) .. 9 (2048K, the PMD size). */
#define PINMM_THP_MIN_ORDER	2
#define PINMM_THP_NR_SIZES	8
enum pinmm_pin_tracking { PINMM_PIN_BIAS, PINMM_PIN_EXACT, PINMM_PIN_MAPCOUNT };
enum pinmm_fs_policy {
	PINMM_FS_LEGACY, PINMM_FS_LINUX, PINMM_FS_HOLDOFF,
	PINMM_FS_BOUNCE, PINMM_FS_LEASE, PINMM_FS_BUSYBLOCKS,
};
/*
 * pinfs.dirty_no_blocks: what pinfs writeback does with a dirty page that
 * lost its block mapping (doc/PINFS.md): map the block again, as the
 * generic block_write_full_page() path does, or BUG as ext4 of 2011-2023
 * did in page_buffers() (pinmm records the oops; the data is dropped).
 */
enum pinmm_pinfs_no_blocks { PINMM_NOBLK_REMAP, PINMM_NOBLK_BUG };
/*
 * lease.outcome: what a truncate or hole punch does to a layout lease whose
 * holder did not release it by lease_break_ms (doc/PIN-POLICIES.md "lease").
 */
enum pinmm_lease_outcome {
	PINMM_LEASE_WAIT, PINMM_LEASE_FAIL, PINMM_LEASE_REVOKE, PINMM_LEASE_UNBREAKABLE,
};

#define PINMM_PATH_MAX 1024
#define PINMM_RLIM_INFINITY (~0ULL)

/*
 * struct pinmm_config - a complete machine description.
 *
 * Declare one (on the stack is fine), fill it with pinmm_config_default(),
 * then change keys with pinmm_config_set().  Fields may be read directly;
 * set them through pinmm_config_set() so that values are validated.
 */
struct pinmm_config {
	uint64_t ram;			/* bytes of simulated RAM, all zones */
	uint64_t zone_movable;		/* bytes of ram that are ZONE_MOVABLE */
	uint64_t zone_cma;		/* bytes of ram that are a CMA area */
	uint64_t pmem;			/* persistent-memory region for DAX */
	enum pinmm_thp_mode thp;
	enum pinmm_pin_tracking pin_tracking;
	enum pinmm_fs_policy fs_policy;
	char pinfs_image[PINMM_PATH_MAX];
	uint64_t pinfs_size;
	uint64_t rlimit_memlock;	/* bytes, or PINMM_RLIM_INFINITY */
	int debug;			/* 0 none, 1 cheap checks, 2 full auditor */
	uint64_t seed;
	bool pin_provenance;		/* record an owner for every pin */
	bool quiet;			/* do not print WARN splats (still counted) */
	uint64_t holdoff_ms;		/* deadline for the holdoff policy */
	uint64_t lease_break_ms;	/* lease-break deadline */
	uint64_t writeback_interval_ms;	/* periodic writeback of pinfs, 0 = off */
	uint64_t pinfs_fail_read;	/* pinfs.fail_io: the Nth image read fails */
	uint64_t pinfs_fail_write;	/* ... the Nth image write fails (0 = off) */
	uint64_t dax_truncate_wait_ms;	/* DAX truncate/punch: wait for pinned frames */
	uint64_t dio_latency_us;	/* O_DIRECT device latency per request */
	uint64_t writeback_latency_us;	/* writeback I/O time of one page */
	enum pinmm_pinfs_no_blocks pinfs_no_blocks;	/* pinfs.dirty_no_blocks */
	int nr_cpus;			/* simulated CPUs: per-CPU page lists, counters */
	uint32_t fail_ppm;		/* fail.probability, parts per million */
	uint64_t shutdown_wait_ms;	/* shutdown.wait_ms: held-lock deadline */
	uint64_t fail_nth;		/* fail.nth: booting thread's Nth call fails */
	uint64_t fail_seed;		/* fail.seed */
	uint64_t fail_times;		/* fail.times: at most this many (0 = no limit) */
	char fail_site[32];		/* fail.site: filter on kind, file, function */
	uint64_t swap;			/* bytes of swap space, 0 = no swap */
	uint64_t swap_latency_us;	/* swap device time per page read/written */
	uint64_t khugepaged_scan_sleep_ms;	/* khugepaged thread period, 0 = no thread */
	uint64_t khugepaged_pages_to_scan;	/* PTEs per khugepaged wake-up */
	uint64_t khugepaged_max_ptes_none;	/* khugepaged limits (not MADV_COLLAPSE) */
	uint64_t khugepaged_max_ptes_swap;
	uint64_t khugepaged_max_ptes_shared;
	uint64_t ksm_sleep_ms;		/* ksmd thread period (a pass each), 0 = none */
	/* thp.<size>K: per-size anonymous THP policy, [order - PINMM_THP_MIN_ORDER] */
	enum pinmm_thp_mode thp_size[PINMM_THP_NR_SIZES];
	uint64_t hugepages_2m;		/* hugepages.2M: 2 MiB hugetlb pool size */
	uint64_t hugepages_1g;		/* hugepages.1G: 1 GiB hugetlb pool size */
	enum pinmm_lease_outcome lease_outcome;	/* lease.outcome */
	char trace_file[PINMM_PATH_MAX];	/* trace.file: Trace Event Format output, "" = off */
	uint64_t trace_buffer_size;	/* trace.buffer_size: bytes per thread buffer */
	/* legacy.*: one historical race each, the decision before its fix (doc/EXPLORE.md) */
	bool legacy_cow_mapcount;	/* legacy.cow_mapcount: COW reuse by mapcount */
	bool legacy_gup_fast_no_seq;	/* legacy.gup_fast_no_seq: no write_protect_seq */
	bool legacy_gup_fast_no_recheck;	/* legacy.gup_fast_no_recheck: no PTE recheck */
	bool legacy_migrate_no_freeze;	/* legacy.migrate_no_freeze: check, do not freeze */
};

/**
 * pinmm_config_default() - fill @cfg with the documented defaults.
 * @cfg: the configuration to fill
 *
 * ram 4G, no MOVABLE/CMA/pmem, thp madvise, pin.tracking bias,
 * fs.pinned_policy linux, rlimit.memlock 8M, debug 1, seed 1, no periodic
 * writeback, no injected pinfs I/O errors, dax.truncate_wait_ms 1000,
 * nr_cpus 4, shutdown.wait_ms 1000, no failure injection (fail.*).
 * Context: any.
 */
PINMM_API void pinmm_config_default(struct pinmm_config *cfg);
/**
 * pinmm_config_set() - set one key of @cfg from its text form.
 * @cfg: the configuration
 * @key: one of pinmm_config_keys()
 * @value: the value ("4G", "madvise", "on", ...)
 *
 * Checks the value on its own; how keys relate to each other (zones inside
 * ram) is checked when the machine boots.
 * Context: any.
 * Return: 0; -EINVAL for an unknown key or a bad value, after printing a
 * message naming both to stderr.
 */
PINMM_API int pinmm_config_set(struct pinmm_config *cfg, const char *key,
			       const char *value);
/**
 * pinmm_config_get() - the text form of @key's value, which
 * pinmm_config_set() accepts back.
 * @cfg: the configuration
 * @key: one of pinmm_config_keys()
 * @buf: output buffer
 * @len: its size
 *
 * Context: any.
 * Return: length written (without the NUL), -EINVAL for an unknown key,
 * -ERANGE if @len is too short for the value and its NUL.
 */
PINMM_API int pinmm_config_get(const struct pinmm_config *cfg, const char *key,
			       char *buf, size_t len);
/**
 * pinmm_config_keys() - every key pinmm_config_set() knows.
 *
 * Context: any.
 * Return: a NULL-terminated static array.
 */
PINMM_API const char *const *pinmm_config_keys(void);

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
PINMM_API int pinmm_boot(const struct pinmm_config *cfg, struct pinmm **out);
/**
 * pinmm_shutdown() - exit every process and tear the machine down.
 * @m: the machine; no other thread may use it any more.
 *
 * Processes exit, filesystems unmount (writing back what is dirty), RCU
 * callbacks run, then the audit: every frame must be free and
 * nr_foll_pin_acquired == nr_foll_pin_released.
 *
 * Context: any thread, holding no lock of the machine.
 * Return: 0 when every frame is free and every pin released; otherwise
 * -EBUSY after printing a leak report to stderr; -EINVAL for NULL.  The
 * machine is gone either way, except after -EDEADLK: an mmap_lock of the
 * machine stayed held (by the caller, mmap_read_lock()) for
 * shutdown.wait_ms; the holder is named on stderr, nothing was torn down,
 * and pinmm_shutdown() may be called again after the unlock.  A failed
 * final writeback of pinfs is -EIO (the machine is gone).
 */
PINMM_API int pinmm_shutdown(struct pinmm *m);
/**
 * pinmm_machine_config() - the configuration @m was booted with.
 * @m: the machine
 *
 * Context: any.
 * Return: a pointer valid until pinmm_shutdown(); NULL for a NULL @m.
 */
PINMM_API const struct pinmm_config *pinmm_machine_config(struct pinmm *m);
/**
 * pinmm_thp_set() - change an anonymous THP policy of a running machine,
 * as writing Linux's /sys/kernel/mm/transparent_hugepage/enabled or
 * hugepages-<size>kB/enabled does.
 * @m: the machine
 * @key: "thp" or "thp.<size>K" (16K .. 2048K)
 * @value: as pinmm_config_set() takes for @key
 *
 * Later faults use the new policy; folios already mapped stay as they are.
 * pinmm_machine_config() shows the change.
 * Context: any; concurrent faults see the old or the new value.
 * Return: 0; -EINVAL for another key, a bad value or NULL arguments
 * (nothing changed).
 */
PINMM_API int pinmm_thp_set(struct pinmm *m, const char *key, const char *value);

/**
 * pinmm_proc_create() - a new process with an empty address space and file
 * table.
 * @m: the machine.
 * @out: receives the process.  The handle is a reference: it stays valid
 *	until it is released with pinmm_proc_put() (or the machine shuts
 *	down); the process is freed once it has exited and every reference
 *	is released.
 *
 * Context: any thread.
 * Return: 0, -EINVAL (NULL argument), -ENOMEM.
 */
PINMM_API int pinmm_proc_create(struct pinmm *m, struct pinmm_proc **out);
/**
 * pinmm_fork() - fork(2): a child of @parent.
 * @parent: the process that forks.
 * @child: receives the child, a handle to release with pinmm_proc_put()
 *	as pinmm_proc_create()'s.
 *
 * Private memory is copied on write (a page that may be DMA-pinned is copied
 * for the child at once, as Linux does), MAP_SHARED memory is shared, open
 * files are shared, MADV_DONTFORK ranges are left out.
 *
 * Context: any thread; takes @parent's mmap_lock for writing and holds a
 *	reference on its mm, so a concurrent pinmm_exit() of @parent waits for
 *	the copy before the parent's memory is torn down.
 * Return: 0, -EINVAL, -ESRCH (@parent has exited), -ENOMEM.
 */
PINMM_API int pinmm_fork(struct pinmm_proc *parent, struct pinmm_proc **child);
/**
 * pinmm_exit() - the process exits: files closed, address space torn down
 * once the calls still running on it (on other threads) have returned.
 * Later calls on @p, or on a thread whose current process is @p, answer
 * -ESRCH while the handle is held; pinmm_proc_put() then frees the exited
 * process (Linux's reaping of a zombie).
 * @p: the process.
 *
 * Context: any thread, also one whose current process is @p (the calls it
 *	then makes answer -ESRCH).
 * Return: 0, -EINVAL, -ESRCH (already exited).
 */
PINMM_API int pinmm_exit(struct pinmm_proc *p);
/**
 * pinmm_proc_get() - take one more reference on the handle @p (Linux's
 * get_task_struct()), for a thread or a driver that may still use @p after
 * its creator released it.
 * @p: a process the caller holds a reference on; NULL is ignored.
 *
 * Context: any thread.
 * Return: @p.
 */
PINMM_API struct pinmm_proc *pinmm_proc_get(struct pinmm_proc *p);
/**
 * pinmm_proc_put() - release a reference on @p: the handle from
 * pinmm_proc_create() or pinmm_fork(), or one from pinmm_proc_get().
 * @p: the process, or NULL.
 *
 * The last reference of an exited process frees it; a process that has not
 * exited lives on (pinmm_exit() then frees it).  After the last put the
 * handle must not be used (nor be any thread's current process).  Every
 * process is freed at pinmm_shutdown() whatever its references, so no
 * reference may be released after it.
 *
 * Context: any thread; must not hold a lock of @p's mm.
 */
PINMM_API void pinmm_proc_put(struct pinmm_proc *p);
/**
 * pinmm_set_current() - make @p the calling thread's current process, the
 * one the <pinmm/linux.h> calls act on (Linux's current->mm).
 * @p: the process, or NULL for none.
 *
 * Context: any thread; affects only the calling thread.
 */
PINMM_API void pinmm_set_current(struct pinmm_proc *p);
/**
 * pinmm_current() - the calling thread's current process.
 *
 * Context: any thread.
 * Return: the process set by pinmm_set_current(), or NULL.
 */
PINMM_API struct pinmm_proc *pinmm_current(void);
/**
 * pinmm_proc_pid() - the process id of @p.
 * @p: the process.
 *
 * Context: any thread.
 * Return: the pid (>= 1), -EINVAL for NULL.
 */
PINMM_API int pinmm_proc_pid(struct pinmm_proc *p);
/**
 * pinmm_proc_machine() - the machine @p runs on.
 * @p: the process.
 *
 * Context: any thread.
 * Return: the machine, NULL for NULL.
 */
PINMM_API struct pinmm *pinmm_proc_machine(struct pinmm_proc *p);
/**
 * pinmm_proc_pinned_vm() - pages charged to @p's mm->pinned_vm by
 * long-term pin users (io_uring buffers, RDMA registrations).
 * @p: the process.
 *
 * Context: any.
 * Return: the page count, -EINVAL, -ESRCH after exit.
 */
PINMM_API long pinmm_proc_pinned_vm(struct pinmm_proc *p);
/**
 * pinmm_proc_set_rlimit_memlock() - RLIMIT_MEMLOCK of @p, in bytes.
 * @p: the process.
 * @bytes: the limit, or PINMM_RLIM_INFINITY.
 *
 * Context: any.
 * Return: 0, -EINVAL.
 */
PINMM_API int pinmm_proc_set_rlimit_memlock(struct pinmm_proc *p, uint64_t bytes);

/**
 * pinmm_mmap() - mmap(2) for process @p.
 * @p: the process.
 * @addr: a hint, or the exact address with MAP_FIXED / MAP_FIXED_NOREPLACE.
 * @len: bytes (rounded up to whole pages).
 * @prot: PROT_* bits.
 * @flags: MAP_PRIVATE or MAP_SHARED (or MAP_SHARED_VALIDATE) with
 *	MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_POPULATE, ...
 * @fd: a descriptor for a file mapping, -1 for anonymous memory.
 * @off: file offset, page aligned.
 *
 * Context: process context; takes the mmap_lock.
 * Return: the address, or -EINVAL (zero length, unaligned offset or fixed
 * address, no or two mapping types), -ENOMEM (no room), -EEXIST
 * (MAP_FIXED_NOREPLACE over a mapping), -EBADF, -EACCES (file access mode),
 * -EOVERFLOW (offset + length wraps), -EOPNOTSUPP (unknown flags with
 * MAP_SHARED_VALIDATE), -ESRCH (exited process).
 */
PINMM_API long pinmm_mmap(struct pinmm_proc *p, unsigned long addr, size_t len,
			  int prot, int flags, int fd, long off);
/**
 * pinmm_munmap() - munmap(2) for process @p.
 * @p: the process.
 * @addr: page-aligned start.
 * @len: bytes (rounded up to whole pages); unmapped holes are fine.
 *
 * Context: process context; takes the mmap_lock for writing.
 * Return: 0, -EINVAL (unaligned, zero length, beyond the user range),
 * -ENOMEM, -ESRCH.
 */
PINMM_API int pinmm_munmap(struct pinmm_proc *p, unsigned long addr, size_t len);
/**
 * pinmm_mremap() - mremap(2) for process @p: shrink, grow or move a mapping.
 * @p: the process.
 * @old_addr: page-aligned start of the range, inside one mapping.
 * @old_len: its length (rounded up to whole pages); 0 duplicates a shared
 *	mapping at a new address.
 * @new_len: the new length (rounded up), not 0.
 * @flags: 0, or MREMAP_MAYMOVE (the mapping may move if it cannot grow
 *	in place), with MREMAP_FIXED (move to exactly @new_addr, unmapping
 *	what is there) and/or MREMAP_DONTUNMAP (move and leave the old range
 *	mapped and empty; @new_len must equal @old_len).
 * @new_addr: the target with MREMAP_FIXED, a hint with MREMAP_DONTUNMAP,
 *	otherwise ignored.
 *
 * Pages move with their page-table entries, never copied: a pinned page
 * stays pinned and is the page mapped at the new address; subscribed MMU
 * notifiers see MMU_NOTIFY_UNMAP over the old range.
 *
 * Context: process context; takes the mmap_lock for writing.
 * Return: the address of the mapping now, or -EINVAL (unknown flags,
 * unaligned address, zero new length, FIXED or DONTUNMAP without MAYMOVE,
 * DONTUNMAP with a resize or on a PFN map, overlapping old and new
 * ranges, duplicating a private mapping), -EFAULT (nothing mapped at
 * @old_addr, the range crosses the end of its mapping, growing a
 * VM_DONTEXPAND or PFN map), -ENOMEM (cannot grow in place without
 * MREMAP_MAYMOVE, no free range, out of memory or map count; the old
 * mapping is then unchanged), -ESRCH (exited process).
 */
PINMM_API long pinmm_mremap(struct pinmm_proc *p, unsigned long old_addr, size_t old_len,
			    size_t new_len, int flags, unsigned long new_addr);
/**
 * pinmm_mprotect() - mprotect(2) for process @p.
 * @p: the process.
 * @addr: page-aligned start.
 * @len: bytes (rounded up); the whole range must be mapped.
 * @prot: PROT_NONE or PROT_READ/PROT_WRITE/PROT_EXEC bits.
 *
 * Context: process context; takes the mmap_lock for writing.
 * Return: 0, -EINVAL (unaligned start, unknown prot bits), -ENOMEM (part of
 * the range unmapped, or it wraps), -EACCES (permission the mapping can
 * never have, e.g. PROT_WRITE on a read-only shared file), -ESRCH.
 */
PINMM_API int pinmm_mprotect(struct pinmm_proc *p, unsigned long addr, size_t len,
			     int prot);
/**
 * pinmm_madvise() - madvise(2) for process @p.
 * @p: the process.
 * @addr: page-aligned start.
 * @len: bytes (rounded up).
 * @advice: MADV_DONTNEED, MADV_DONTFORK/DOFORK, MADV_HUGEPAGE/NOHUGEPAGE,
 *	MADV_POPULATE_READ/WRITE, MADV_PAGEOUT (swap out the anonymous pages
 *	only this process maps; pinned ones stay), MADV_COLLAPSE (make every
 *	2 MiB-aligned part a PMD-mapped THP, whatever thp= says; -EAGAIN
 *	while a page of it is pinned or referenced, -EBUSY, -ENOMEM for no
 *	2 MiB block, -EINVAL for a VM_NOHUGEPAGE, file or shared mapping or
 *	a range that cannot be collapsed), ...
 *
 * Context: process context; takes mmap_lock (for writing for advice that
 * changes VMA flags).
 * Return: 0; -EINVAL (unaligned start, unknown advice, range wraps, advice
 * not applicable to the mapping); -ENOMEM (part of the range is unmapped:
 * the advice was still applied to the mapped parts); -EFAULT (populating
 * faulted with SIGBUS/SIGSEGV); -ESRCH.
 */
PINMM_API int pinmm_madvise(struct pinmm_proc *p, unsigned long addr, size_t len,
			    int advice);
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25	/* Linux's value; older C libraries lack it */
#endif
/* pinmm_clear_refs() @what: the values of /proc/PID/clear_refs. */
#define PINMM_CLEAR_REFS_ALL		1	/* referenced/young bits, all pages */
#define PINMM_CLEAR_REFS_ANON		2	/* ... of anonymous mappings */
#define PINMM_CLEAR_REFS_MAPPED		3	/* ... of file mappings */
#define PINMM_CLEAR_REFS_SOFT_DIRTY	4	/* soft-dirty bits; write-protects */
#define PINMM_CLEAR_REFS_MM_HIWATER_RSS	5	/* peak RSS (not kept: no-op) */
/**
 * pinmm_clear_refs() - write @what to /proc/PID/clear_refs of @p.
 * @p: the process.
 * @what: PINMM_CLEAR_REFS_* (1-5).
 *
 * 4 clears the soft-dirty bit of every PTE/PMD and swap entry and
 * write-protects the PTEs, so that the next write faults and sets it again
 * (Linux's clear_soft_dirty(); writable PTEs of maybe-pinned pages in
 * private mappings of an mm that ever pinned are left alone, as Linux's
 * pte_is_pinned() does).  1-3 clear the accessed bits and PG_referenced.
 * Context: process context; takes the mmap_lock for writing.
 * Return: 0; -EINVAL for a NULL @p or @what outside 1-5; -ESRCH.
 */
PINMM_API int pinmm_clear_refs(struct pinmm_proc *p, int what);

/**
 * pinmm_open() - open a file of the machine's namespace.
 * @p: the process.
 * @path: absolute path in the machine's namespace: /dev/shm/NAME and
 *	/tmp/NAME (tmpfs), /data/NAME (pinfs, when pinfs.image is set),
 *	/dax/NAME (pinfs in DAX mode, when pmem is set), /dev/hugepages/NAME
 *	and /dev/hugepages1G/NAME (hugetlbfs, 2 MiB and 1 GiB pages).
 * @flags: O_RDONLY, O_WRONLY or O_RDWR, with O_CREAT, O_EXCL, O_TRUNC.
 * @mode: stored with a new file, not enforced.
 *
 * Context: any thread.
 * Return: the lowest free descriptor; -EINVAL (NULL @p, bad access mode),
 * -ESRCH (exited), -EFAULT (NULL @path), -ENOENT, -EEXIST, -EISDIR,
 * -ENAMETOOLONG, -EMFILE, -ENOMEM.
 */
PINMM_API int pinmm_open(struct pinmm_proc *p, const char *path, int flags,
			 unsigned mode);
/**
 * pinmm_memfd_create() - an anonymous tmpfs file, opened read-write.
 * @p: the process.
 * @name: for debugging; the file is called "memfd:<name>".
 * @flags: MFD_CLOEXEC, MFD_ALLOW_SEALING.
 *
 * Context: any thread.
 * Return: the descriptor; -EINVAL (NULL @p, other flags, name over 249
 * bytes), -ESRCH, -EFAULT (NULL @name), -EMFILE, -ENOMEM.
 */
PINMM_API int pinmm_memfd_create(struct pinmm_proc *p, const char *name,
				 unsigned flags);
/**
 * pinmm_close() - close a descriptor.
 * @p: the process.
 * @fd: the descriptor.
 *
 * Mappings of the file stay valid; the file goes with its last reference.
 *
 * Context: any thread.
 * Return: 0; -EINVAL (NULL @p), -ESRCH, -EBADF.
 */
PINMM_API int pinmm_close(struct pinmm_proc *p, int fd);
/**
 * pinmm_pread() - read from a file at an offset.
 * @p: the process.
 * @fd: a descriptor open for reading.
 * @buf: destination (host memory).
 * @len: bytes wanted (at most MAX_RW_COUNT are read).
 * @off: file offset.
 *
 * Holes read as zeroes; reading stops at EOF.
 *
 * Context: any thread.
 * Return: bytes read (0 at EOF or for @len 0); -EINVAL (NULL @p, negative
 * @off), -ESRCH, -EBADF (bad @fd, not open for reading), -EFAULT (NULL
 * @buf), -EIO, -ENOMEM.
 */
PINMM_API long pinmm_pread(struct pinmm_proc *p, int fd, void *buf, size_t len,
			   long off);
/**
 * pinmm_pwrite() - write to a file at an offset.
 * @p: the process.
 * @fd: a descriptor open for writing.
 * @buf: source (host memory).
 * @len: bytes to write (at most MAX_RW_COUNT are written).
 * @off: file offset; the file grows to cover what was written.
 *
 * Context: any thread.
 * Return: bytes written (0 for @len 0); -EINVAL (NULL @p, negative @off),
 * -ESRCH, -EBADF (bad @fd, not open for writing), -EFAULT (NULL @buf),
 * -EFBIG, -ENOSPC.
 */
PINMM_API long pinmm_pwrite(struct pinmm_proc *p, int fd, const void *buf,
			    size_t len, long off);
/**
 * pinmm_ftruncate() - set the size of a file.
 * @p: the process.
 * @fd: a descriptor open for writing.
 * @len: the new size; pages beyond it are dropped and unmapped, a partial
 *	last page is zeroed past @len.
 *
 * Context: any thread.
 * Return: 0; -EINVAL (NULL @p, negative @len, @fd not open for writing),
 * -ESRCH, -EBADF, -EFBIG.
 */
PINMM_API int pinmm_ftruncate(struct pinmm_proc *p, int fd, long len);
/**
 * pinmm_fallocate() - allocate, punch out, collapse or insert file space.
 * @p: the process.
 * @fd: a descriptor open for writing.
 * @mode: 0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE,
 *	or (pinfs) FALLOC_FL_COLLAPSE_RANGE or FALLOC_FL_INSERT_RANGE alone.
 * @off: first byte.
 * @len: bytes (> 0).
 *
 * Context: any thread.
 * Return: 0; -EINVAL (NULL @p, negative @off, @len <= 0; a collapse or
 * insert not block-aligned, a collapse reaching EOF, an insert at or past
 * EOF), -ESRCH, -EBADF (bad @fd, not open for writing), -EFBIG,
 * -EOPNOTSUPP (other modes or combinations), -ENOSPC, -ETXTBSY (a layout
 * lease refused it), -EBUSY (DAX frames still in use at the deadline).
 */
PINMM_API int pinmm_fallocate(struct pinmm_proc *p, int fd, int mode, long off,
			      long len);
/**
 * pinmm_fsync() - write a file's dirty pages back (nothing to do on tmpfs).
 * @p: the process.
 * @fd: the descriptor.
 *
 * A writeback error is reported once to each open file that was open when
 * it happened (or opened before anyone reported it), as Linux's errseq_t.
 *
 * Context: any thread.
 * Return: 0; -EINVAL (NULL @p), -ESRCH, -EBADF, -EIO.
 */
PINMM_API int pinmm_fsync(struct pinmm_proc *p, int fd);
/**
 * pinmm_unlink() - remove a name from a directory (tmpfs or pinfs).
 * @p: the process.
 * @path: absolute path.
 *
 * Open descriptors and mappings of the file keep working.
 *
 * Context: any thread.
 * Return: 0; -EINVAL (NULL @p), -ESRCH, -EFAULT (NULL @path), -ENOENT,
 * -EISDIR, -ENAMETOOLONG, -EPERM (the filesystem cannot unlink).
 */
PINMM_API int pinmm_unlink(struct pinmm_proc *p, const char *path);
/**
 * pinmm_fstat_size() - the current size of the file behind @fd.
 * @p: the process.
 * @fd: the descriptor.
 *
 * Context: any thread.
 * Return: the size in bytes; -EINVAL (NULL @p), -ESRCH, -EBADF.
 */
PINMM_API long pinmm_fstat_size(struct pinmm_proc *p, int fd);

/*
 * Filesystem magic numbers, the f_type of struct pinmm_statfs.  tmpfs and
 * anon_inodefs have Linux's values (<linux/magic.h>); pinfs's is its
 * on-disk super block magic ("PNFS"), in /data/ and in DAX mode at /dax/.
 */
#define PINMM_TMPFS_MAGIC		0x01021994	/* /dev/shm, /tmp, memfd */
#define PINMM_PINFS_MAGIC		0x53464e50	/* /data/, /dax/ */
#define PINMM_ANON_INODE_FS_MAGIC	0x09041934	/* io_uring, gup_test, ... */
#define PINMM_HUGETLBFS_MAGIC		0x958458f6	/* /dev/hugepages, MFD_HUGETLB */

/*
 * struct pinmm_statfs - what fstatfs(2) says about a file's filesystem.
 * Sizes in @f_bsize units; a filesystem without a size or inode limit
 * (tmpfs here) reports 0 blocks and 0 files, as Linux's tmpfs does then.
 */
struct pinmm_statfs {
	long f_type;			/* PINMM_*_MAGIC */
	long f_bsize;			/* block size in bytes */
	uint64_t f_blocks;		/* blocks in the filesystem */
	uint64_t f_bfree;		/* free blocks */
	uint64_t f_bavail;		/* free blocks an unprivileged user may use */
	uint64_t f_files;		/* inodes */
	uint64_t f_ffree;		/* free inodes */
	long f_namelen;			/* longest file name */
};
/**
 * pinmm_fstatfs() - fstatfs(2): the filesystem of the file behind @fd.
 * @p: the process.
 * @fd: an open descriptor of @p (any file: tmpfs, pinfs, anonymous inode).
 * @buf: the result.
 *
 * Context: any thread.
 * Return: 0; -EINVAL (NULL @p), -ESRCH (exited), -EBADF, -EFAULT (NULL @buf).
 */
PINMM_API int pinmm_fstatfs(struct pinmm_proc *p, int fd, struct pinmm_statfs *buf);

/*
 * The process's CPU touching its own memory through the simulated MMU.
 * Return: bytes moved, or -EFAULT where a real process would get SIGSEGV or
 * SIGBUS (bytes before the faulting page have been moved).
 */
/**
 * pinmm_load() - the process reads @len bytes at @addr into @buf.
 * @p: the process (its CPU, through the simulated MMU: faults as needed).
 * @addr: user address.
 * @buf: host memory receiving the bytes.
 * @len: bytes.
 *
 * Context: process context; takes mmap_lock for reading.
 * Return: @len, or -EFAULT (SIGSEGV/SIGBUS at some page; earlier pages have
 * been read), -EINVAL, -ESRCH.
 */
PINMM_API long pinmm_load(struct pinmm_proc *p, unsigned long addr, void *buf,
			  size_t len);
/**
 * pinmm_store() - the process writes @len bytes from @buf at @addr.
 * @p: the process (write faults, COW and dirty tracking as a CPU store).
 * @addr: user address.
 * @buf: host memory holding the bytes.
 * @len: bytes.
 *
 * Context: process context; takes mmap_lock for reading.
 * Return: @len, or -EFAULT (earlier pages have been written), -EINVAL,
 * -ESRCH.
 */
PINMM_API long pinmm_store(struct pinmm_proc *p, unsigned long addr,
			   const void *buf, size_t len);

struct pinmm_page_info {
	bool present;
	bool writable;
	bool anon, anon_exclusive, zero_page;
	bool dirty, writeback, lru;
	bool maybe_dma_pinned;
	unsigned long pfn;
	int  refcount;
	int  pincount;
	int  mapcount;
	int  folio_order;
	const char *zone;
	/* additions beyond api.md */
	bool huge_mapped;		/* mapped by a PMD leaf */
	bool soft_dirty;
	bool shmem;			/* tmpfs / shared anonymous page */
	bool ksm;			/* a KSM page (api.md §4) */
	bool swapped;			/* a swap entry in the page table */
	bool hugetlb;			/* a hugetlb page (api.md §4) */
};
/**
 * pinmm_page_info() - the state of the page mapped at @addr in @p.
 * @p: the process.
 * @addr: user address (any byte of the page).
 * @out: filled with what a user could observe (pagemap, kpageflags,
 *	kpagecount and the folio's counts).
 *
 * Context: process context; takes mmap_lock for reading and the page's
 * table lock.
 * Return: 0 (present is false for an unpopulated address inside a VMA),
 * -EFAULT when no VMA covers @addr, -EINVAL for NULL arguments, -ESRCH.
 */
PINMM_API int pinmm_page_info(struct pinmm_proc *p, unsigned long addr,
			      struct pinmm_page_info *out);
/**
 * pinmm_vmstat() - read one counter of @m by name.
 * @m: the machine
 * @name: a counter name (pinmm_vmstat_foreach() lists them all)
 *
 * Counters are read without a lock, each one atomically; two counters read
 * one after the other need not be mutually consistent while the machine runs.
 * Context: any.
 * Return: the value (>= 0 for every counter except transient state
 * counters), -ENOENT if @name is unknown, -EINVAL for NULL arguments.
 */
PINMM_API long pinmm_vmstat(struct pinmm *m, const char *name);
/**
 * pinmm_vmstat_foreach() - call @fn with every counter of @m.
 * @m: the machine
 * @fn: called with the name, the value and @arg
 * @arg: passed through
 *
 * Order: the vmstat items in enum order, then per zone (normal, cma,
 * movable, device) its free, used and managed page counts.
 * Context: any; @fn must not shut @m down.
 * Return: the number of counters, -EINVAL for NULL arguments.
 */
PINMM_API int pinmm_vmstat_foreach(struct pinmm *m,
				   void (*fn)(const char *name, long value, void *arg),
				   void *arg);
/**
 * pinmm_audit() - cross-check the whole machine now (audit_machine()).
 * @m: the machine
 *
 * Problems are printed to stderr and added to pinmm_audit_errors() (by
 * audit_machine()).
 * Context: any thread; takes the locks of every process in turn.
 * Return: 0 if consistent, -EUCLEAN if problems were found, -EINVAL for NULL.
 */
PINMM_API int pinmm_audit(struct pinmm *m);
/**
 * pinmm_audit_errors() - problems found by audits of @m since boot.
 * @m: the machine
 *
 * Context: any.
 * Return: the count, -EINVAL for NULL.
 */
PINMM_API long pinmm_audit_errors(struct pinmm *m);

/*
 * The page cache of block filesystems (pinfs at /data/; tmpfs has nothing
 * to write back or reclaim).
 */
/**
 * pinmm_sync() - sync(2): write back every filesystem of @m.
 * @m: the machine.
 *
 * Context: any thread.
 * Return: 0, -EIO when some writeback failed (those folios stay dirty), or
 * -EINVAL for NULL.
 */
PINMM_API int pinmm_sync(struct pinmm *m);
/**
 * pinmm_drop_caches() - sync, then drop every clean unmapped cache page.
 * @m: the machine.
 *
 * As "echo 3 > /proc/sys/vm/drop_caches": mapped and pinned pages stay.
 *
 * Context: any thread.
 * Return: pages dropped; -EIO when the sync failed (the clean pages are
 * dropped all the same, the dirty ones stay); -EINVAL.
 */
PINMM_API long pinmm_drop_caches(struct pinmm *m);
/**
 * pinmm_reclaim() - reclaim up to @nr_pages clean page-cache pages, then
 * (with swap) anonymous pages.
 * @m: the machine.
 * @nr_pages: pages wanted (> 0).
 *
 * Mapped clean pages are unmapped first; dirty, under-writeback and
 * maybe-DMA-pinned pages are skipped.  With swap, anonymous pages are
 * swapped out for the rest; maybe-DMA-pinned ones are kept.
 *
 * Context: any thread.
 * Return: pages reclaimed, or -EINVAL.
 */
PINMM_API long pinmm_reclaim(struct pinmm *m, long nr_pages);
/**
 * pinmm_ksm_scan() - run ksmd now: merge equal anonymous pages of
 * MADV_MERGEABLE memory into write-protected KSM pages.
 * @m: the machine.
 * @passes: full passes over every process (>= 1).
 *
 * A page that may be pinned, or has any other reference beyond its
 * mappings, is never merged (vmstat ksm_pinned_skip); a write to a KSM
 * page copies it, a FOLL_PIN of it unshares first.  Merging the second of
 * two equal pages may take one more pass.  ksm_pages_shared and
 * ksm_pages_sharing are recounted at the end of each pass.
 *
 * Context: any thread not holding an mmap_lock of @m; takes each
 * process's mmap_lock for reading.
 * Return: pages merged into KSM pages by these passes, -EINVAL (NULL
 * machine, @passes < 1), -ENOMEM.
 */
PINMM_API long pinmm_ksm_scan(struct pinmm *m, int passes);
/**
 * pinmm_khugepaged_scan() - run khugepaged now: collapse PTE-mapped
 * anonymous memory of registered processes into PMD-mapped THPs.
 * @m: the machine.
 * @passes: full passes over every registered process (>= 1).
 *
 * A process is registered when one of its mappings becomes eligible under
 * thp= (MADV_HUGEPAGE, or a THP fault with thp=always).  A 2 MiB range is
 * collapsed when at most khugepaged.max_ptes_none of its PTEs are empty,
 * max_ptes_swap swapped out and max_ptes_shared shared, one page is young
 * and one writable, and no page is pinned or otherwise referenced (then
 * vmstat thp_collapse_refused_refcount counts it and nothing changes).
 *
 * Context: any thread not holding an mmap_lock of @m; takes each
 * registered process's mmap_lock.
 * Return: THPs made (vmstat khugepaged_pages_collapsed counts the same),
 * -EINVAL (NULL machine, @passes < 1).
 */
PINMM_API long pinmm_khugepaged_scan(struct pinmm *m, int passes);

/*
 * Moving memory (what compaction, memory offlining and CMA allocation do).
 * Pinned folios cannot move: they are counted as failed, never moved.
 */
struct pinmm_migrate_stats {
	long scanned;			/* folios looked at */
	long migrated;			/* folios moved */
	long failed_pinned;		/* refused: maybe DMA-pinned */
	long failed_busy;		/* refused: other extra references */
};
/**
 * pinmm_migrate_page() - move the folio mapped at @addr to zone @zone.
 * Context: process context; takes @p's mmap_lock for reading.
 * Return: 0, -EFAULT (nothing mapped), -EAGAIN (pinned or busy), -ENOMEM,
 * -EINVAL (zero page, bad zone, NULL process), -ESRCH.
 */
PINMM_API int pinmm_migrate_page(struct pinmm_proc *p, unsigned long addr, const char *zone);
/**
 * pinmm_offline_zone() - move every user folio out of @zone.
 * Context: any thread; takes zone and rmap locks, never mmap_lock.
 * Return: 0 when no user folio is left in the zone, -EBUSY when some could
 * not move (pinned or busy), -EINVAL for a bad zone name.
 */
PINMM_API int pinmm_offline_zone(struct pinmm *m, const char *zone,
				 struct pinmm_migrate_stats *st);
/**
 * pinmm_compact() - compact every zone of @m.
 * Context: any thread.
 * Return: 0, or -EINVAL for a NULL machine.
 */
PINMM_API int pinmm_compact(struct pinmm *m, struct pinmm_migrate_stats *st);
/**
 * pinmm_split_huge_page() - split the THP mapped at @addr.
 * Context: process context; takes @p's mmap_lock for reading.
 * Return: 0, -EAGAIN (pinned or busy), -EFAULT (nothing mapped), -EINVAL
 * (not a large folio), -ESRCH.
 */
PINMM_API int pinmm_split_huge_page(struct pinmm_proc *p, unsigned long addr);

/*
 * Pin provenance (boot with pin.provenance=1): one record per outstanding
 * FOLL_PIN reference.  Zero cost when off.
 */
struct pinmm_pin_owner {
	unsigned long pfn;
	int pid;			/* process whose memory was pinned */
	unsigned int gup_flags;		/* FOLL_* of the pinning call */
	const void *caller;		/* return address of the pinning call */
	char caller_name[96];		/* "fn+0xoff (file.c:line)" when it can be resolved */
	uint64_t when_ns;		/* CLOCK_MONOTONIC at pin time */
	int refs;			/* pins this record stands for */
};
/**
 * pinmm_pin_owners() - call @fn for every outstanding pin record.
 * Context: any thread; @fn runs with the record table locked and must not
 * pin or unpin.
 * Return: number of records, -ENODATA when provenance is off, -EINVAL.
 */
PINMM_API long pinmm_pin_owners(struct pinmm *m,
				void (*fn)(const struct pinmm_pin_owner *o, void *arg),
				void *arg);

/**
 * pinmm_strerror() - the errno name of a library return value.
 * @err: a negative errno (a positive errno is accepted too)
 *
 * Context: any; the result is a static string.
 * Return: "EFAULT" for -EFAULT, "OK" for 0, "E?" for unknown values; never
 * NULL.
 */
PINMM_API const char *pinmm_strerror(int err);
/**
 * pinmm_version() - the library version.
 *
 * Context: any.
 * Return: "major.minor.patch", a static string.
 */
PINMM_API const char *pinmm_version(void);

/**
 * pinmm_trace_flush() - write machine @m's trace file now.
 * @m: a machine booted with trace.file
 *
 * Writes every event recorded since boot to trace.file (replacing it), in
 * the Trace Event Format that Perfetto and chrome://tracing load
 * (doc/TRACING.md); recording goes on.  Shutdown writes the file once
 * more, complete.
 * Context: any thread; other threads may go on recording (events they
 * publish after the flush began may be missing from this file).
 * Return: 0; -EINVAL for NULL, -ENOENT when @m was booted without
 * trace.file, -ENOMEM, or the -errno of opening or writing the file.
 */
PINMM_API int pinmm_trace_flush(struct pinmm *m);

#ifdef __cplusplus
}
#endif
#endif /* PINMM_PINMM_H */
