/* SPDX-License-Identifier: MIT */
/*
 * <pinmm/lease.h> - layout leases for long-term pins of file pages (the
 * fs.pinned_policy=lease boot option), and the "device" side of pinned
 * pages: pinmm_dma_write()/pinmm_dma_read().
 *
 * The lease is the 2019 proposal (Weiny's F_LAYOUT RFC with Kara's rules;
 * never merged in Linux): a long-term pin of pages of a pinfs file needs a
 * lease on that file - a writable pin of a page-cache file on /data/, any
 * long-term pin of a DAX file on /dax/; truncate, hole punch and block
 * reallocation break the lease (on both mounts); the holder gets a callback and cfg.lease_break_ms (machine clock)
 * to release it; a holder that does not is revoked and its pins are
 * fenced: later device writes through them are dropped and counted.
 * doc/PIN-POLICIES.md describes the protocol.
 */
#ifndef PINMM_LEASE_H
#define PINMM_LEASE_H

#include <pinmm/pinmm.h>

#ifdef __cplusplus
extern "C" {
#endif

struct page;
struct pinmm_lease;

/* pinmm_lease_state() */
enum pinmm_lease_state {
	PINMM_LEASE_ACTIVE,	/* pins may be taken */
	PINMM_LEASE_BREAKING,	/* broken: release before the deadline */
	PINMM_LEASE_REVOKED,	/* deadline passed: pins fenced */
};

typedef void (*pinmm_lease_break_fn)(struct pinmm_lease *l, void *arg);

/**
 * pinmm_lease_get() - take a layout lease on the pinfs file behind @fd.
 * @p: the process that will pin (its memory maps the file).
 * @fd: a descriptor of a pinfs file, on /data/ or /dax/.
 * @break_fn: called once when the lease is broken (from the thread that
 *	truncates or punches, holding no pinmm lock: it may call
 *	pinmm_lease_put() directly); may be NULL.
 * @arg: passed to @break_fn.
 * @out: the lease.
 *
 * Context: any thread.
 * Return: 0; -EOPNOTSUPP (policy is not lease), -EBADF, -EINVAL (not a
 * pinfs file - e.g. tmpfs, whose layout nobody breaks -, NULL argument),
 * -ENOMEM, -ESRCH.
 */
PINMM_API int pinmm_lease_get(struct pinmm_proc *p, int fd, pinmm_lease_break_fn break_fn,
			      void *arg, struct pinmm_lease **out);
/**
 * pinmm_lease_put() - release the lease and every pin taken under it
 * (dirtying the pages, unless the lease was revoked).  A breaker waiting
 * for this lease proceeds at once.  @l is freed.
 * @l: the lease.
 *
 * Context: any thread, also from the lease's own break callback.
 * Return: 0, -EINVAL (NULL).
 */
PINMM_API int pinmm_lease_put(struct pinmm_lease *l);
/**
 * pinmm_pin_user_pages_leased() - FOLL_PIN|FOLL_LONGTERM pin of @nr_pages
 * pages at @start of the lease holder's memory, all of them pages of the
 * leased file (a MAP_SHARED mapping of it, or for /dax/ the frames
 * themselves; writable ones are allowed).
 * The pins belong to the lease: pinmm_lease_put() releases them; do not
 * unpin them yourself.
 * @l: the lease.
 * @start: first user address in the holder's memory.
 * @nr_pages: how many pages.
 * @gup_flags: FOLL_WRITE and other caller flags; FOLL_LONGTERM is implied.
 * @pages: receives the pages.
 *
 * Context: any thread, not holding the holder's mmap_lock: GUP runs as the
 *	lease holder's process, taking its mmap_lock for reading.
 * Return: pages pinned (as pin_user_pages()), -EAGAIN (lease broken or
 * revoked), -EINVAL (a page is not of the leased file), or GUP's errors.
 */
PINMM_API long pinmm_pin_user_pages_leased(struct pinmm_lease *l, unsigned long start,
					   unsigned long nr_pages, unsigned int gup_flags,
					   struct page **pages);
/**
 * pinmm_lease_state() - where the lease is in its life.
 * @l: the lease.
 *
 * Context: any thread; a snapshot (a break may start right after).
 * Return: an enum pinmm_lease_state, or -EINVAL for NULL.
 */
PINMM_API int pinmm_lease_state(struct pinmm_lease *l);

/*
 * struct pinmm_lease_info - a lease's life so far (pinmm_lease_info()).
 * @state: an enum pinmm_lease_state.
 * @writable: taken through a writable descriptor (writable pins allowed).
 * @breaks: times it was broken (0 or 1: a broken lease is not broken again).
 * @broken_ns: CLOCK_MONOTONIC time of the break notice (0: never broken).
 * @revoked_ns: time of the revocation (0: not revoked).
 * @etxtbsy: conflicting operations it made fail with ETXTBSY (lease.outcome
 *	fail or unbreakable).
 * @why: what broke it ("truncate", "hole punch", "collapse range",
 *	"insert range"); empty before.
 * @lease_pins: pins taken with pinmm_pin_user_pages_leased().
 * @file_pins: file_pin records (vaddr_pin_pages()) attached to it.
 */
struct pinmm_lease_info {
	int state;
	bool writable;
	int breaks;
	uint64_t broken_ns;
	uint64_t revoked_ns;
	long etxtbsy;
	char why[16];
	unsigned long lease_pins;
	unsigned long file_pins;
};

/**
 * pinmm_lease_info() - what happened to @l so far.
 * @l: the lease.
 * @info: filled in.
 *
 * Context: any thread; a snapshot.
 * Return: 0, -EINVAL (NULL).
 */
PINMM_API int pinmm_lease_info(struct pinmm_lease *l, struct pinmm_lease_info *info);

/**
 * pinmm_lease_wait_break() - wait for the break notice of @l (the event a
 * holder without a callback waits for; Weiny's RFC signalled SIGIO).
 * @l: the lease.
 * @timeout_ms: the deadline, from now.
 *
 * Context: any thread, not the breaking one; sleeps.
 * Return: 0 once @l is broken or revoked (at once if it already is),
 * -ETIMEDOUT at the deadline, -EINVAL (NULL).
 */
PINMM_API int pinmm_lease_wait_break(struct pinmm_lease *l, unsigned int timeout_ms);

/*
 * struct pinmm_file_pin_info - one file_pin record (the RFC's
 * /proc/<pid>/file_pins line): the pins of one vaddr_pin_pages() call.
 * @pid: the process whose memory is pinned.
 * @addr: first user address pinned.
 * @nr_pages: pages pinned.
 * @writable: FOLL_WRITE pins.
 * @revoked: its lease was revoked: detached from the file, device accesses
 *	through it are refused; the pins stay until vaddr_unpin_pages().
 * @file: the leased file ("" for a record of anonymous memory only).
 * @owner: the owning file (@f_owner: "[infinibandevent]" for an RDMA PD).
 * @age_ms: milliseconds since the pins were taken.
 */
struct pinmm_file_pin_info {
	int pid;
	unsigned long addr;
	unsigned long nr_pages;
	bool writable;
	bool revoked;
	char file[64];
	char owner[64];
	uint64_t age_ms;
};

/**
 * pinmm_file_pins() - list the file_pin records of machine @m, optionally
 * only those of process @pid and/or of the file at @path.
 * @m: the machine.
 * @pid: a pid, or -1 for every process.
 * @path: a file ("/dax/f"), or NULL for every file.
 * @out: receives up to @max records, oldest first (may be NULL if @max 0).
 * @max: room in @out.
 *
 * Context: any thread.
 * Return: the number of matching records (may exceed @max), -EINVAL (NULL
 * @m, NULL @out with @max, or @path not an absolute path).
 */
PINMM_API long pinmm_file_pins(struct pinmm *m, int pid, const char *path,
			       struct pinmm_file_pin_info *out, size_t max);

/**
 * pinmm_dma_write() - a device writes @len bytes at @off into a pinned page.
 * The way every pinned-page user of pinmm (the O_DIRECT engine, RDMA
 * peers, tests) stores into a page behind the CPU's back.
 * @page: a pinned page.
 * @off: byte offset in the page.
 * @buf: the bytes.
 * @len: how many; @off + @len at most 4096.
 *
 * Context: any thread (a device); does not sleep.
 * Return: 0; -EPERM when the page's pin was fenced by a lease revocation
 * (the write is dropped and counted: lease_fenced_writes/bytes); -EINVAL
 * (NULL, @off + @len beyond the page).
 */
PINMM_API int pinmm_dma_write(struct page *page, size_t off, const void *buf, size_t len);
/**
 * pinmm_dma_read() - a device reads @len bytes at @off of a pinned page.
 * @page: a pinned page.
 * @off: byte offset in the page.
 * @buf: receives the bytes.
 * @len: how many; @off + @len at most 4096.
 *
 * Reads are fenced like writes: a device cannot read a page through a pin
 * of a revoked lease (PIN-POLICIES.md).
 *
 * Context: any thread (a device); does not sleep.
 * Return: 0; -EPERM when the page's pin was fenced by a lease revocation
 * (nothing is copied; counted: lease_fenced_reads); -EINVAL (NULL,
 * @off + @len beyond the page).
 */
PINMM_API int pinmm_dma_read(struct page *page, size_t off, void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif /* PINMM_LEASE_H */
