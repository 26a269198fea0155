/* SPDX-License-Identifier: MIT */
/*
 * <pinmm/pinmm.h> - the machine, processes, "syscalls" and introspection.
 *
 * This header is the public contract of libpinmm (../shared/spec/api.md §1).
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
#ifndef FALLOC_FL_KEEP_SIZE
#define FALLOC_FL_KEEP_SIZE	0x01
#define FALLOC_FL_PUNCH_HOLE	0x02
#endif

#define PINMM_VERSION_MAJOR 0
#define PINMM_VERSION_MINOR 1
#define PINMM_VERSION_PATCH 0

struct pinmm;		/* one simulated machine */
struct pinmm_proc;	/* one process: an mm plus a file table */

enum pinmm_thp_mode { PINMM_THP_NEVER, PINMM_THP_MADVISE, PINMM_THP_ALWAYS };
enum pinmm_pin_tracking { PINMM_PIN_BIAS, PINMM_PIN_EXACT, PINMM_PIN_MAPCOUNT };
enum pinmm_fs_policy {
	PINMM_FS_LEGACY, PINMM_FS_LINUX, PINMM_FS_HOLDOFF,
	PINMM_FS_BOUNCE, PINMM_FS_LEASE, PINMM_FS_BUSYBLOCKS,
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
	uint64_t reserved[10];
};

/** pinmm_config_default() - fill @cfg with the documented defaults. */
PINMM_API void pinmm_config_default(struct pinmm_config *cfg);
/**
 * pinmm_config_set() - set one key ("ram", "zone.movable", "thp", ...).
 * Return: 0, or -EINVAL for an unknown key or a bad value (a message naming
 * the key and the value is printed to stderr).
 */
PINMM_API int pinmm_config_set(struct pinmm_config *cfg, const char *key,
			       const char *value);
/**
 * pinmm_config_get() - format the value of @key into @buf.
 * Return: length written, -EINVAL for an unknown key, -ERANGE if @len is short.
 */
PINMM_API int pinmm_config_get(const struct pinmm_config *cfg, const char *key,
			       char *buf, size_t len);
/** pinmm_config_keys() - NULL-terminated array of every known key. */
PINMM_API const char *const *pinmm_config_keys(void);

PINMM_API int pinmm_boot(const struct pinmm_config *cfg, struct pinmm **out);
/**
 * pinmm_shutdown() - exit every process and tear the machine down.
 * Return: 0 when every frame is free and every pin released; otherwise
 * -EBUSY after printing a leak report to stderr.  The machine is gone either
 * way.
 */
PINMM_API int pinmm_shutdown(struct pinmm *m);
/** pinmm_machine_config() - the configuration the machine was booted with. */
PINMM_API const struct pinmm_config *pinmm_machine_config(struct pinmm *m);

PINMM_API int pinmm_proc_create(struct pinmm *m, struct pinmm_proc **out);
PINMM_API int pinmm_fork(struct pinmm_proc *parent, struct pinmm_proc **child);
PINMM_API int pinmm_exit(struct pinmm_proc *p);
PINMM_API void pinmm_set_current(struct pinmm_proc *p);
PINMM_API struct pinmm_proc *pinmm_current(void);
/** pinmm_proc_pid() - the process id (>= 1) of @p. */
PINMM_API int pinmm_proc_pid(struct pinmm_proc *p);
/** pinmm_proc_machine() - the machine @p runs on. */
PINMM_API struct pinmm *pinmm_proc_machine(struct pinmm_proc *p);
/** pinmm_proc_pinned_vm() - pages @p has charged as long-term pinned (mm->pinned_vm). */
PINMM_API long pinmm_proc_pinned_vm(struct pinmm_proc *p);
/** pinmm_proc_set_rlimit_memlock() - per-process RLIMIT_MEMLOCK in bytes. */
PINMM_API int pinmm_proc_set_rlimit_memlock(struct pinmm_proc *p, uint64_t bytes);

PINMM_API long pinmm_mmap(struct pinmm_proc *p, unsigned long addr, size_t len,
			  int prot, int flags, int fd, long off);
PINMM_API int pinmm_munmap(struct pinmm_proc *p, unsigned long addr, size_t len);
PINMM_API int pinmm_mprotect(struct pinmm_proc *p, unsigned long addr, size_t len,
			     int prot);
PINMM_API int pinmm_madvise(struct pinmm_proc *p, unsigned long addr, size_t len,
			    int advice);

PINMM_API int pinmm_open(struct pinmm_proc *p, const char *path, int flags,
			 unsigned mode);
PINMM_API int pinmm_memfd_create(struct pinmm_proc *p, const char *name,
				 unsigned flags);
PINMM_API int pinmm_close(struct pinmm_proc *p, int fd);
PINMM_API long pinmm_pread(struct pinmm_proc *p, int fd, void *buf, size_t len,
			   long off);
PINMM_API long pinmm_pwrite(struct pinmm_proc *p, int fd, const void *buf,
			    size_t len, long off);
PINMM_API int pinmm_ftruncate(struct pinmm_proc *p, int fd, long len);
PINMM_API int pinmm_fallocate(struct pinmm_proc *p, int fd, int mode, long off,
			      long len);
PINMM_API int pinmm_fsync(struct pinmm_proc *p, int fd);
/** pinmm_unlink() - remove a name from a tmpfs directory. */
PINMM_API int pinmm_unlink(struct pinmm_proc *p, const char *path);
/** pinmm_fstat_size() - current size of the file behind @fd. */
PINMM_API long pinmm_fstat_size(struct pinmm_proc *p, int fd);

/*
 * The process's CPU touching its own memory through the simulated MMU.
 * Return: bytes moved, or -EFAULT where a real process would get SIGSEGV or
 * SIGBUS (bytes before the faulting page have been moved).
 */
PINMM_API long pinmm_load(struct pinmm_proc *p, unsigned long addr, void *buf,
			  size_t len);
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
};
/**
 * pinmm_page_info() - what a user can observe about the page at @addr.
 * Return: 0 (also for an unmapped address: present is then false), -EFAULT
 * when @addr is outside every VMA, -EINVAL for a NULL @out.
 */
PINMM_API int pinmm_page_info(struct pinmm_proc *p, unsigned long addr,
			      struct pinmm_page_info *out);
/** pinmm_vmstat() - a named counter; -ENOENT if the name is unknown. */
PINMM_API long pinmm_vmstat(struct pinmm *m, const char *name);
/**
 * pinmm_vmstat_foreach() - call @fn for every counter, in a stable order.
 * Return: number of counters.
 */
PINMM_API int pinmm_vmstat_foreach(struct pinmm *m,
				   void (*fn)(const char *name, long value, void *arg),
				   void *arg);
/**
 * pinmm_audit() - cross-check VMAs, page tables, rmap, refcounts and
 * mapcounts of the whole machine now.  Problems are printed to stderr.
 * Return: 0 if consistent, -EUCLEAN with the number of problems otherwise
 * (see pinmm_audit_errors()).
 */
PINMM_API int pinmm_audit(struct pinmm *m);
/** pinmm_audit_errors() - problems found by audits since boot. */
PINMM_API long pinmm_audit_errors(struct pinmm *m);

/*
 * The page cache of block filesystems (pinfs at /data/; tmpfs has nothing
 * to write back or reclaim).
 */
/**
 * pinmm_sync() - write every dirty file page and all metadata to storage
 * (sync(2)); written pages are write-protected again in every mapping.
 * Return: 0, or -EIO when some writeback failed (those pages stay dirty).
 */
PINMM_API int pinmm_sync(struct pinmm *m);
/**
 * pinmm_drop_caches() - sync, then drop every clean, unmapped page-cache
 * page (echo 3 > /proc/sys/vm/drop_caches).
 * Return: pages dropped, or a negative errno.
 */
PINMM_API long pinmm_drop_caches(struct pinmm *m);
/**
 * pinmm_reclaim() - reclaim up to @nr_pages clean page-cache pages,
 * unmapping mapped ones first; dirty, under-writeback and maybe-DMA-pinned
 * pages are skipped.
 * Return: pages reclaimed, or a negative errno.
 */
PINMM_API long pinmm_reclaim(struct pinmm *m, long nr_pages);

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
 * pinmm_migrate_page() - move the folio mapped at @addr in @p to a free
 * folio in zone @zone ("normal", "movable", "cma"; NULL: any other zone).
 * Return: 0, -EFAULT (nothing mapped), -EAGAIN (pinned or busy), -ENOMEM,
 * -EINVAL (zero page, bad zone).
 */
PINMM_API int pinmm_migrate_page(struct pinmm_proc *p, unsigned long addr, const char *zone);
/**
 * pinmm_offline_zone() - move every user folio out of @zone (memory
 * offline, CMA allocation); pinned ones stay and are counted.
 * Return: 0 when the zone is empty of user folios, -EBUSY otherwise.
 */
PINMM_API int pinmm_offline_zone(struct pinmm *m, const char *zone,
				 struct pinmm_migrate_stats *st);
/**
 * pinmm_compact() - compact every zone: move folios from the top of each
 * zone to free frames at its bottom.  Pinned folios are skipped.
 * Return: 0, -EINVAL.
 */
PINMM_API int pinmm_compact(struct pinmm *m, struct pinmm_migrate_stats *st);
/**
 * pinmm_split_huge_page() - split the THP mapped at @addr into small
 * folios (the debugfs split_huge_pages knob).
 * Return: 0, -EAGAIN (pinned or busy), -EFAULT, -EINVAL (not a THP).
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
	char caller_name[96];		/* symbol+offset when it can be resolved */
	uint64_t when_ns;		/* CLOCK_MONOTONIC at pin time */
	int refs;			/* pins this record stands for */
};
/**
 * pinmm_pin_owners() - call @fn for every outstanding pin record.
 * Return: number of records, or -ENODATA when provenance is off.
 */
PINMM_API long pinmm_pin_owners(struct pinmm *m,
				void (*fn)(const struct pinmm_pin_owner *o, void *arg),
				void *arg);

/** pinmm_strerror() - "EFAULT" for -EFAULT and so on; never NULL. */
PINMM_API const char *pinmm_strerror(int err);
/** pinmm_version() - "major.minor.patch". */
PINMM_API const char *pinmm_version(void);

#ifdef __cplusplus
}
#endif
#endif /* PINMM_PINMM_H */
