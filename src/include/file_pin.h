/* SPDX-License-Identifier: MIT */
/*
 * file_pin.h - what pin_lease.c (layout leases, breaking, fencing) and
 * file_pin.c (vaddr_pin_pages(), file_pin records, their listing) share,
 * and the internal entry the RDMA driver registers memory regions with.
 *
 * Locking: lease_lock (a leaf mutex, pin_lease.c) protects lease_list,
 * file_pin_list, every lease's @state..@nr_file_pins and every record's
 * @lease, @revoked, @notified and @notifying; lease_wq is woken (all)
 * whenever one of those changes in a way a sleeper waits for (a lease
 * released or broken, a revocation notice returned).  No callback runs
 * under lease_lock.
 */
#ifndef PINMM_FILE_PIN_H
#define PINMM_FILE_PIN_H

#include <pinmm/lease.h>
#include <pinmm/linux.h>

#include "fs.h"
#include "locking.h"
#include "wait.h"

enum { LEASE_RELEASED = 3 };	/* after enum pinmm_lease_state */

struct pinmm_lease {
	struct pinmm *m;
	struct pinmm_proc *p;		/* referenced (pinmm_proc_get()) */
	struct file *file;		/* referenced */
	struct inode *inode;
	pinmm_lease_break_fn break_fn;
	void *arg;
	bool writable;			/* taken through a writable descriptor */
	int state;			/* lease_lock */
	uint64_t deadline_ns;		/* lease_lock; while BREAKING */
	uint64_t broken_ns, revoked_ns;	/* lease_lock */
	int breaks;			/* lease_lock */
	long etxtbsy;			/* lease_lock */
	char why[16];			/* lease_lock */
	struct page **pins;		/* lease_lock */
	unsigned long nr_pins, cap;
	unsigned long nr_file_pins;	/* lease_lock: records attached */
	atomic_t refs;			/* holder + breakers in progress */
	struct list_head node;		/* lease_list */
};

/*
 * struct file_pin - the pins of one vaddr_pin_pages() call.
 * @lease: the lease it is attached to (lease_lock); NULL for a record of
 *	anonymous memory only, or once revoked (detached from the file).
 * @file: the leased file (referenced), NULL for anonymous memory only.
 * @f_owner: the owner; referenced when @owner_ref.
 * @mm: the pinned address space (mmgrab()'d).
 * @revoked: its lease was revoked: its pages are fenced (lease_lock).
 * @revoked_fn: told once, with no lock held, that the record was revoked
 *	(the RDMA driver invalidates the region's keys); @notified and
 *	@notifying (lease_lock) make vaddr_unpin_pages() wait for it.
 */
struct file_pin {
	struct list_head node;		/* file_pin_list, lease_lock */
	struct pinmm *m;
	struct pinmm_lease *lease;
	struct file *file;
	struct file *f_owner;
	bool owner_ref;
	struct mm_struct *mm;
	int pid;
	unsigned long addr, nr_pages;
	struct page **pages;
	bool writable;
	bool revoked, notified, notifying;
	uint64_t created_ns;
	void (*revoked_fn)(void *arg);
	void *revoked_arg;
};

extern struct mutex lease_lock;
extern wait_queue_head_t lease_wq;
extern struct list_head lease_list, file_pin_list;
extern atomic_t nr_revoked;	/* revoked leases and records still holding pins */

/* pin_lease.c: the active lease of @mm's process on @inode, or NULL (lease_lock). */
struct pinmm_lease *lease_find_active(struct inode *inode, struct mm_struct *mm, bool write);
/* file_pin.c: is a vaddr_pin_pages() call that checked @vma's mm running here? */
bool vaddr_pin_covers_vma(struct vm_area_struct *vma);
/* file_pin.c: tell the owners of revoked records (no lock held). */
void file_pin_notify_revoked(void);

/*
 * vaddr_pin_pages_owned() - vaddr_pin_pages_remote() for a driver whose
 * f_owner tears its pins down itself at its last fput() (the RDMA PD): no
 * reference is taken on @vp->f_owner, and @revoked_fn(@arg) runs once if
 * the lease is revoked.  Same locking and returns.
 */
long vaddr_pin_pages_owned(struct mm_struct *mm, unsigned long addr, unsigned long nr_pages,
			   unsigned int gup_flags, struct page **pages, struct vaddr_pin *vp,
			   void (*revoked_fn)(void *arg), void *arg);

#endif /* PINMM_FILE_PIN_H */
