/* SPDX-License-Identifier: MIT */
/*
 * file_pin.c - vaddr_pin_pages(): long-term pins owned by a file (the
 * Aug 2019 RFC of Weiny and Hubbard, never merged in Linux), the file_pin
 * records that track them per lease, and their listing (the RFC's
 * /proc/<pid>/file_pins).
 *
 * A vaddr_pin_pages() call checks, under the pinned mm's mmap_lock, that
 * every VMA of the range that maps a file whose filesystem breaks layouts
 * (AS_LAYOUT_LEASE: pinfs, both mounts) is covered by an active layout
 * lease of the process owning that mm (pin_lease.c) - writable for a
 * writable pin - and that at most one such file is involved; then it pins
 * with FOLL_PIN | FOLL_LONGTERM while this thread is marked as checked, so
 * that the policy check of GUP (pin_policy_longterm_file()) lets the file
 * pages through; then it attaches a record to the lease, re-checking
 * under lease_lock that the lease is still active (a break may have begun
 * after the check: the pins are released again, -EPERM).
 *
 * Records belong to their owner file: vaddr_unpin_pages() with the same
 * owner and mm releases them.  A lease with records attached cannot be
 * released (-EBUSY; Kara: the lease is held as long as its pins); a
 * revoked lease detaches its records and fences their pages
 * (lease_fenced_pins()), and each record's owner is told once through its
 * revoked_fn, outside every lock, before the truncate that revoked it
 * changes the layout.  Anonymous and shmem ranges need no lease; their
 * records are kept (and listed with an empty file) so that unpinning works
 * the same way.
 *
 * It does not own leases, breaking or fencing (pin_lease.c), GUP (gup.c)
 * or the RDMA regions that use it (drivers/rdma_mr.c).
 *
 * Locking: file_pin.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault_inject.h"
#include "file_pin.h"
#include "mm.h"
#include "pin_policy.h"
#include "rcu.h"

/* The mm whose leases this thread's vaddr_pin_pages() call checked. */
static __thread struct mm_struct *vaddr_pin_checked;

/**
 * vaddr_pin_covers_vma() - does the vaddr_pin_pages() call running on
 * this thread cover @vma (its leases were checked)?
 * @vma: a file mapping GUP is about to pin long-term.
 *
 * Context: mmap_lock of @vma's mm held.
 * Return: true if so.
 */
bool vaddr_pin_covers_vma(struct vm_area_struct *vma)
{
	return vaddr_pin_checked && vaddr_pin_checked == vma->vm_mm;
}

/**
 * pinmm_fget() - see <pinmm/linux.h>.
 * @p: the process.
 * @fd: the descriptor.
 *
 * Context: any thread.
 * Return: the file, referenced, or NULL.
 */
struct file *pinmm_fget(struct pinmm_proc *p, int fd)
{
	pinmm_thread_enter();
	if (!p || READ_ONCE(p->exited))
		return NULL;
	return fget(p, fd);
}

/* Does @vma map a file whose layout leases are broken (pinfs)? */
static struct inode *vma_leased_inode(struct vm_area_struct *vma)
{
	struct file *f = vma->vm_file;

	if (!f || !test_bit(AS_LAYOUT_LEASE, &f->f_mapping->flags))
		return NULL;
	return f->f_inode;
}

/*
 * Check the leases of [addr, addr + nr_pages pages) of @mm.
 * Return: 0 with *@inode the one leased file (or NULL), -EPERM, -EINVAL.
 * mmap_lock held.
 */
static int vaddr_pin_check(struct mm_struct *mm, unsigned long addr, unsigned long nr_pages,
			   bool write, struct inode **inode)
{
	unsigned long end = addr + (nr_pages << PAGE_SHIFT);
	struct vm_area_struct *vma;
	int ret = 0;

	*inode = NULL;
	mutex_lock(&lease_lock);
	for (vma = find_vma(mm, addr); vma && vma->vm_start < end;
	     vma = find_vma(mm, vma->vm_end)) {
		struct inode *in = vma_leased_inode(vma);

		if (!in)
			continue;
		if (*inode && *inode != in) {
			ret = -EINVAL;
			break;
		}
		*inode = in;
		if (!lease_find_active(in, mm, write)) {
			ret = -EPERM;
			break;
		}
	}
	mutex_unlock(&lease_lock);
	return ret;
}

static void file_pin_free(struct file_pin *fp)
{
	if (fp->file)
		fput(fp->file);
	if (fp->owner_ref)
		fput(fp->f_owner);
	mmdrop(fp->mm);
	free(fp->pages);
	free(fp);
}

/*
 * Attach a record of @nr pins at @addr to the active lease on @inode (or
 * to nothing, for anonymous memory).  Return: 0, -EPERM (the lease broke
 * meanwhile), -ENOMEM.
 */
static int file_pin_attach(struct mm_struct *mm, struct inode *inode, unsigned long addr,
			   unsigned long nr, unsigned int gup_flags, struct page **pages,
			   struct vaddr_pin *vp, bool owner_ref,
			   void (*revoked_fn)(void *arg), void *arg)
{
	struct file_pin *fp = kzalloc(sizeof(*fp));
	struct pinmm_lease *l = NULL;

	if (!fp)
		return -ENOMEM;
	fp->pages = kcalloc(nr, sizeof(*pages));
	if (!fp->pages) {
		free(fp);
		return -ENOMEM;
	}
	memcpy(fp->pages, pages, nr * sizeof(*pages));
	fp->m = mm->machine;
	fp->mm = mm;
	fp->addr = addr;
	fp->nr_pages = nr;
	fp->writable = gup_flags & FOLL_WRITE;
	fp->f_owner = vp->f_owner;
	fp->owner_ref = owner_ref;
	fp->revoked_fn = revoked_fn;
	fp->revoked_arg = arg;
	fp->created_ns = pin_policy_now_ns();
	mutex_lock(&lease_lock);
	if (inode) {
		l = lease_find_active(inode, mm, fp->writable);
		if (!l) {
			mutex_unlock(&lease_lock);
			free(fp->pages);
			free(fp);
			return -EPERM;
		}
		fp->lease = l;
		fp->file = l->file;
		get_file(l->file);
		fp->pid = l->p->pid;
		l->nr_file_pins++;
	} else {
		fp->pid = mm->owner_pid;
	}
	mmgrab(mm);
	if (owner_ref)
		get_file(vp->f_owner);
	list_add_tail(&fp->node, &file_pin_list);
	mutex_unlock(&lease_lock);
	return 0;
}

/* The body of the vaddr_pin_pages() family; mmap_lock of @mm held. */
static long vaddr_pin_locked(struct mm_struct *mm, unsigned long addr, unsigned long nr_pages,
			     unsigned int gup_flags, struct page **pages, int *locked,
			     struct vaddr_pin *vp, bool owner_ref,
			     void (*revoked_fn)(void *arg), void *arg)
{
	struct inode *inode;
	long ret;
	int err;

	if (!mm || !pages || !vp || !vp->f_owner || !nr_pages || !PAGE_ALIGNED(addr) ||
	    (vp->mm && vp->mm != mm) || (gup_flags & INTERNAL_GUP_FLAGS) ||
	    nr_pages > (TASK_SIZE >> PAGE_SHIFT))
		return -EINVAL;
	err = vaddr_pin_check(mm, addr, nr_pages, gup_flags & FOLL_WRITE, &inode);
	if (err)
		return err;
	vaddr_pin_checked = mm;
	ret = pin_user_pages_remote(mm, addr, nr_pages, gup_flags | FOLL_LONGTERM, pages,
				    locked);
	vaddr_pin_checked = NULL;
	if (ret <= 0)
		return ret ? ret : -EFAULT;
	if ((unsigned long)ret < nr_pages) {
		unpin_user_pages(pages, (unsigned long)ret);
		return -EFAULT;
	}
	err = file_pin_attach(mm, inode, addr, nr_pages, gup_flags, pages, vp, owner_ref,
			      revoked_fn, arg);
	if (err) {
		unpin_user_pages(pages, nr_pages);
		return err;
	}
	return ret;
}

/**
 * pinmm_vaddr_pin_pages() - see <pinmm/linux.h> (vaddr_pin_pages()).
 * @addr: first user address.
 * @nr_pages: how many pages.
 * @gup_flags: caller flags.
 * @pages: receives the pages.
 * @vaddr_pin: the owner.
 *
 * Context: a thread with a current process, not holding its mmap_lock.
 * Return: @nr_pages or -errno.
 */
long pinmm_vaddr_pin_pages(unsigned long addr, unsigned long nr_pages, unsigned int gup_flags,
			   struct page **pages, struct vaddr_pin *vaddr_pin)
{
	struct mm_struct *mm = current_mm();
	int locked = 1;
	long ret;

	pinmm_thread_enter();
	if (!mm)
		return -EINVAL;
	mmap_read_lock(mm);
	ret = vaddr_pin_locked(mm, addr, nr_pages, gup_flags, pages, &locked, vaddr_pin, true,
			       NULL, NULL);
	if (locked)
		mmap_read_unlock(mm);
	pinmm_debug_boundary(mm->machine);
	return ret;
}

/**
 * pinmm_vaddr_pin_pages_remote() - see <pinmm/linux.h>.
 * @mm: the address space, mmap_lock held for reading.
 * @addr: first user address.
 * @nr_pages: how many pages.
 * @gup_flags: caller flags.
 * @pages: receives the pages.
 * @locked: as pin_user_pages_remote().
 * @vaddr_pin: the owner.
 *
 * Context: any thread holding mmap_read_lock(@mm).
 * Return: @nr_pages or -errno.
 */
long pinmm_vaddr_pin_pages_remote(struct mm_struct *mm, unsigned long addr,
				  unsigned long nr_pages, unsigned int gup_flags,
				  struct page **pages, int *locked, struct vaddr_pin *vaddr_pin)
{
	pinmm_thread_enter();
	return vaddr_pin_locked(mm, addr, nr_pages, gup_flags, pages, locked, vaddr_pin, true,
				NULL, NULL);
}

/**
 * vaddr_pin_pages_owned() - see file_pin.h.
 * @mm: the address space, mmap_lock held for reading.
 * @addr: first user address.
 * @nr_pages: how many pages.
 * @gup_flags: caller flags.
 * @pages: receives the pages.
 * @vp: the owner (not referenced).
 * @revoked_fn: called once, no lock held, if the lease is revoked.
 * @arg: for @revoked_fn.
 *
 * Context: any thread holding mmap_read_lock(@mm) (kept).
 * Return: @nr_pages or -errno.
 */
long vaddr_pin_pages_owned(struct mm_struct *mm, unsigned long addr, unsigned long nr_pages,
			   unsigned int gup_flags, struct page **pages, struct vaddr_pin *vp,
			   void (*revoked_fn)(void *arg), void *arg)
{
	return vaddr_pin_locked(mm, addr, nr_pages, gup_flags, pages, NULL, vp, false,
				revoked_fn, arg);
}

/*
 * The record of @owner (and @mm, unless NULL) pinning exactly
 * @pages[0..nr).  lease_lock held.
 */
static struct file_pin *file_pin_find(struct page **pages, unsigned long nr,
				      struct file *owner, struct mm_struct *mm)
{
	struct file_pin *fp;

	lockdep_assert_held(&lease_lock);
	list_for_each_entry(fp, &file_pin_list, node)
		if (fp->f_owner == owner && (!mm || fp->mm == mm) && fp->nr_pages == nr &&
		    !memcmp(fp->pages, pages, nr * sizeof(*pages)))
			return fp;
	return NULL;
}

/**
 * pinmm_vaddr_unpin_pages() - see <pinmm/linux.h> (vaddr_unpin_pages()).
 * @pages: the pages of one vaddr_pin_pages() call.
 * @nr_pages: their number.
 * @vaddr_pin: the owner of that call.
 * @make_dirty: dirty them first (not for a revoked record).
 *
 * Context: any thread; may wait for a revocation notice on the record.
 */
void pinmm_vaddr_unpin_pages(struct page **pages, unsigned long nr_pages,
			     struct vaddr_pin *vaddr_pin, bool make_dirty)
{
	struct file_pin *fp;
	bool revoked;

	pinmm_thread_enter();
	if (!pages || !nr_pages || !vaddr_pin || !pages[0])
		return;
	mutex_lock(&lease_lock);
	fp = file_pin_find(pages, nr_pages, vaddr_pin->f_owner, vaddr_pin->mm);
	if (!fp) {
		mutex_unlock(&lease_lock);
		count_vm_event(page_machine(pages[0]), FILE_PIN_UNKNOWN_UNPINS);
		return;
	}
	fp->notified = true;		/* too late for a notice now */
	wait_event_lock(&lease_wq, !fp->notifying, &lease_lock);
	list_del_init(&fp->node);
	if (fp->lease)
		fp->lease->nr_file_pins--;
	revoked = fp->revoked;
	if (revoked)
		atomic_dec(&nr_revoked);
	wake_up_all(&lease_wq);
	mutex_unlock(&lease_lock);
	unpin_user_pages_dirty_lock(fp->pages, fp->nr_pages, make_dirty && !revoked);
	file_pin_free(fp);
}

/**
 * file_pin_notify_revoked() - run the revoked_fn of every revoked record
 * not told yet, one at a time, no lock held (a record being unpinned
 * meanwhile waits for its notice to return).
 *
 * Context: may sleep; no lease_lock.
 */
void file_pin_notify_revoked(void)
{
	for (;;) {
		struct file_pin *fp, *found = NULL;

		mutex_lock(&lease_lock);
		list_for_each_entry(fp, &file_pin_list, node) {
			if (fp->revoked && !fp->notified) {
				found = fp;
				break;
			}
		}
		if (found) {
			found->notified = true;
			found->notifying = found->revoked_fn != NULL;
		}
		mutex_unlock(&lease_lock);
		if (!found)
			return;
		if (!found->revoked_fn)
			continue;
		found->revoked_fn(found->revoked_arg);
		mutex_lock(&lease_lock);
		found->notifying = false;
		wake_up_all(&lease_wq);
		mutex_unlock(&lease_lock);
	}
}

/* Does @fp match the filter of pinmm_file_pins()? lease_lock held. */
static bool file_pin_match(struct file_pin *fp, struct pinmm *m, int pid, const char *path)
{
	char full[sizeof(fp->file->f_inode->i_sb->prefix) + sizeof(fp->file->f_inode->name)];

	if (fp->m != m || (pid >= 0 && fp->pid != pid))
		return false;
	if (!path)
		return true;
	if (!fp->file)
		return false;
	snprintf(full, sizeof(full), "%s%s", fp->file->f_inode->i_sb->prefix,
		 fp->file->f_inode->name);
	return !strcmp(full, path);
}

/**
 * pinmm_file_pins() - see <pinmm/lease.h>.
 * @m: the machine.
 * @pid: a pid or -1.
 * @path: a file or NULL.
 * @out: the records.
 * @max: room in @out.
 *
 * Context: any thread.
 * Return: matching records, or -EINVAL.
 */
long pinmm_file_pins(struct pinmm *m, int pid, const char *path,
		     struct pinmm_file_pin_info *out, size_t max)
{
	uint64_t now = pin_policy_now_ns();
	struct file_pin *fp;
	long n = 0;

	pinmm_thread_enter();
	if (!m || (!out && max) || (path && path[0] != '/'))
		return -EINVAL;
	mutex_lock(&lease_lock);
	list_for_each_entry(fp, &file_pin_list, node) {
		struct pinmm_file_pin_info *i;

		if (!file_pin_match(fp, m, pid, path))
			continue;
		if ((size_t)n < max) {
			i = &out[n];
			*i = (struct pinmm_file_pin_info){
				.pid = fp->pid, .addr = fp->addr, .nr_pages = fp->nr_pages,
				.writable = fp->writable, .revoked = fp->revoked,
				.age_ms = (now - fp->created_ns) / 1000000,
			};
			if (fp->file)
				snprintf(i->file, sizeof(i->file), "%.15s%.48s",
					 fp->file->f_inode->i_sb->prefix, fp->file->f_inode->name);
			snprintf(i->owner, sizeof(i->owner), "%.15s%.48s",
				 fp->f_owner->f_inode->i_sb ? fp->f_owner->f_inode->i_sb->prefix : "",
				 fp->f_owner->f_inode->name);
		}
		n++;
	}
	mutex_unlock(&lease_lock);
	return n;
}
