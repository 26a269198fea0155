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
 * owner and mm releases them, whole or in part (a record keeping some of
 * its pages is cut to the runs it keeps: file_pin_split()).  A lease with records attached cannot be
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

/* A piece never linked: only its memory. */
static void file_pin_free_piece(struct file_pin *fp)
{
	free(fp->pages);
	free(fp);
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
 * One record a vaddr_unpin_pages() call releases pages of: @gone[i] says
 * slot i of @fp goes, @nr_gone how many do.
 */
struct unpin_part {
	struct file_pin *fp;
	bool *gone;
	unsigned long nr_gone;
};

/* Is @fp a record of @owner (and of @mm, unless NULL)? */
static bool file_pin_owned(struct file_pin *fp, struct file *owner, struct mm_struct *mm)
{
	return fp->f_owner == owner && (!mm || fp->mm == mm);
}

static void unpin_parts_free(struct unpin_part *parts, unsigned long n)
{
	for (unsigned long k = 0; k < n; k++)
		free(parts[k].gone);
}

/*
 * Give each of @pages[0..nr) a slot of a record of @owner/@mm still
 * holding it: first a record pinning exactly @pages (the common whole
 * unpin), else the first record, oldest first, with a free slot of that
 * page.  Return: the records touched (in @parts), -ENOENT if a page has no
 * slot, -ENOMEM.  lease_lock held.
 */
static long unpin_match(struct page **pages, unsigned long nr, struct file *owner,
			struct mm_struct *mm, struct unpin_part *parts)
{
	unsigned long n = 0;
	struct file_pin *fp;

	lockdep_assert_held(&lease_lock);
	list_for_each_entry(fp, &file_pin_list, node) {
		if (file_pin_owned(fp, owner, mm) && fp->nr_pages == nr &&
		    !memcmp(fp->pages, pages, nr * sizeof(*pages))) {
			parts[0] = (struct unpin_part){ .fp = fp, .nr_gone = nr };
			return 1;	/* gone == NULL: the whole record */
		}
	}
	for (unsigned long i = 0; i < nr; i++) {
		bool found = false;

		list_for_each_entry(fp, &file_pin_list, node) {
			unsigned long k, j;

			if (!file_pin_owned(fp, owner, mm))
				continue;
			for (k = 0; k < n && parts[k].fp != fp; k++)
				;
			for (j = 0; j < fp->nr_pages; j++)
				if (fp->pages[j] == pages[i] && (k == n || !parts[k].gone[j]))
					break;
			if (j == fp->nr_pages)
				continue;
			if (k == n) {
				parts[n] = (struct unpin_part){ .fp = fp };
				parts[n].gone = kcalloc(fp->nr_pages, sizeof(bool));
				if (!parts[n].gone) {
					unpin_parts_free(parts, n);
					return -ENOMEM;
				}
				n++;
			}
			parts[k].gone[j] = true;
			parts[k].nr_gone++;
			found = true;
			break;
		}
		if (!found) {
			unpin_parts_free(parts, n);
			return -ENOENT;
		}
	}
	return (long)n;
}

/* Pieces @part leaves of its record: runs of slots still pinned. */
static unsigned long unpin_runs(const struct unpin_part *part)
{
	unsigned long runs = 0;

	for (unsigned long j = 0; part->gone && j < part->fp->nr_pages; j++)
		runs += !part->gone[j] && (j == 0 || part->gone[j - 1]);
	return runs;
}

/*
 * A new record for slots [@first, @first + @nr) of @fp, with its own
 * references; NULL on -ENOMEM.  lease_lock held.
 */
static struct file_pin *file_pin_piece(struct file_pin *fp, unsigned long first,
				       unsigned long nr)
{
	struct file_pin *piece = kzalloc(sizeof(*piece));

	if (!piece)
		return NULL;
	*piece = *fp;
	piece->pages = kcalloc(nr, sizeof(*piece->pages));
	if (!piece->pages) {
		free(piece);
		return NULL;
	}
	memcpy(piece->pages, fp->pages + first, nr * sizeof(*piece->pages));
	piece->addr = fp->addr + (first << PAGE_SHIFT);
	piece->nr_pages = nr;
	INIT_LIST_HEAD(&piece->node);
	return piece;
}

/*
 * Split @part's record into the runs it keeps: the first run stays in the
 * record (shrunk), each later one becomes a new record after it, holding
 * its own references, counted by the lease (or among the revoked).  The
 * slots that go are appended to @out.  Return: 0, -ENOMEM (nothing
 * changed).  lease_lock held.
 */
static int file_pin_split(struct unpin_part *part, struct page **out, unsigned long *nr_out)
{
	struct file_pin *fp = part->fp, **more, *prev = fp;
	unsigned long runs = unpin_runs(part), made = 0, keep = 0, j, start;
	struct page **kept;
	int ret = -ENOMEM;

	more = kcalloc(runs, sizeof(*more));
	if (!more)
		return -ENOMEM;
	kept = kcalloc(fp->nr_pages, sizeof(*kept));
	if (!kept)
		goto out;
	/* Allocate every later run first, so that a failure changes nothing. */
	for (j = 0; j < fp->nr_pages; j = start) {
		for (; j < fp->nr_pages && part->gone[j]; j++)
			;
		for (start = j; start < fp->nr_pages && !part->gone[start]; start++)
			;
		if (j == start)
			break;
		if (keep++ == 0)
			continue;		/* the first run: the record itself */
		more[made] = file_pin_piece(fp, j, start - j);
		if (!more[made])
			goto out;
		made++;
	}
	for (j = 0, keep = 0; j < fp->nr_pages; j++) {
		if (part->gone[j])
			out[(*nr_out)++] = fp->pages[j];
	}
	for (unsigned long k = 0; k < made; k++) {
		if (more[k]->file)
			get_file(more[k]->file);
		if (more[k]->owner_ref)
			get_file(more[k]->f_owner);
		mmgrab(more[k]->mm);
		if (more[k]->lease)
			more[k]->lease->nr_file_pins++;
		if (more[k]->revoked)
			atomic_inc(&nr_revoked);
		list_add(&more[k]->node, &prev->node);
		prev = more[k];
	}
	/* The record keeps its first run. */
	for (j = 0; part->gone[j]; j++)
		;
	for (start = j; start < fp->nr_pages && !part->gone[start]; start++)
		kept[keep++] = fp->pages[start];
	memcpy(fp->pages, kept, keep * sizeof(*kept));
	fp->addr += j << PAGE_SHIFT;
	fp->nr_pages = keep;
	made = 0;
	ret = 0;
out:
	while (made)
		file_pin_free_piece(more[--made]);
	free(kept);
	free(more);
	return ret;
}

/*
 * Remove @fp, all of whose pins go, from the list and its lease.  Return:
 * was it revoked?  lease_lock held.
 */
static bool file_pin_unlink(struct file_pin *fp)
{
	list_del_init(&fp->node);
	if (fp->lease)
		fp->lease->nr_file_pins--;
	if (fp->revoked)
		atomic_dec(&nr_revoked);
	return fp->revoked;
}

/*
 * The common case, with no allocation (so that it cannot fail): @pages is
 * exactly one record's array.  Return: true if it was (and is released).
 */
static bool vaddr_unpin_whole(struct page **pages, unsigned long nr, struct vaddr_pin *vp,
			      bool make_dirty)
{
	struct file_pin *fp, *found;
	bool revoked;

	mutex_lock(&lease_lock);
retry:
	found = NULL;
	list_for_each_entry(fp, &file_pin_list, node) {
		if (file_pin_owned(fp, vp->f_owner, vp->mm) && fp->nr_pages == nr &&
		    !memcmp(fp->pages, pages, nr * sizeof(*pages))) {
			found = fp;
			break;
		}
	}
	if (!found) {
		mutex_unlock(&lease_lock);
		return false;
	}
	found->notified = true;		/* too late for a notice now */
	if (found->notifying) {
		wait_event_lock(&lease_wq, !found->notifying, &lease_lock);
		goto retry;
	}
	revoked = file_pin_unlink(found);
	wake_up_all(&lease_wq);
	mutex_unlock(&lease_lock);
	unpin_user_pages_dirty_lock(found->pages, found->nr_pages, make_dirty && !revoked);
	file_pin_free(found);
	return true;
}

/**
 * pinmm_vaddr_unpin_pages() - see <pinmm/linux.h> (vaddr_unpin_pages()).
 * @pages: pages pinned by vaddr_pin_pages() calls of this owner.
 * @nr_pages: their number.
 * @vaddr_pin: the owner of those calls.
 * @make_dirty: dirty them first (not the pages of a revoked record).
 *
 * A record all of whose pages go is freed; one that keeps some is cut to
 * the runs it keeps (head or tail: shrunk; middle: split in two).
 *
 * Context: any thread; may wait for a revocation notice on a record.
 */
void pinmm_vaddr_unpin_pages(struct page **pages, unsigned long nr_pages,
			     struct vaddr_pin *vaddr_pin, bool make_dirty)
{
	struct page **clean = NULL, **dirty = NULL;
	unsigned long nr_clean = 0, nr_dirty = 0;
	struct file_pin **gone_fp = NULL;
	unsigned long nr_freed = 0;
	struct unpin_part *parts;
	long n, k;

	pinmm_thread_enter();
	if (!pages || !nr_pages || !vaddr_pin || !pages[0])
		return;
	if (vaddr_unpin_whole(pages, nr_pages, vaddr_pin, make_dirty))
		return;		/* one record's array: nothing to allocate */
	parts = kcalloc(nr_pages, sizeof(*parts));
	clean = kcalloc(nr_pages, sizeof(*clean));
	dirty = kcalloc(nr_pages, sizeof(*dirty));
	gone_fp = kcalloc(nr_pages, sizeof(*gone_fp));
	if (!parts || !clean || !dirty || !gone_fp)
		goto out;	/* -ENOMEM: the pins stay, listed */
	mutex_lock(&lease_lock);
retry:
	n = unpin_match(pages, nr_pages, vaddr_pin->f_owner, vaddr_pin->mm, parts);
	if (n < 0) {
		mutex_unlock(&lease_lock);
		if (n == -ENOENT)
			count_vm_event(page_machine(pages[0]), FILE_PIN_UNKNOWN_UNPINS);
		goto out;
	}
	/* A record being told of its revocation first finishes that. */
	for (k = 0; k < n; k++) {
		struct file_pin *fp = parts[k].fp;

		if (!parts[k].gone || parts[k].nr_gone == fp->nr_pages)
			fp->notified = true;	/* too late for a notice now */
	}
	for (k = 0; k < n; k++) {
		if (parts[k].fp->notifying) {
			struct file_pin *fp = parts[k].fp;

			unpin_parts_free(parts, (unsigned long)n);
			wait_event_lock(&lease_wq, !fp->notifying, &lease_lock);
			goto retry;
		}
	}
	/* Split first: a record that cannot be split (-ENOMEM) stays as it was. */
	for (k = 0; k < n; k++) {
		struct unpin_part *part = &parts[k];
		struct page **out = part->fp->revoked || !make_dirty ? clean : dirty;
		unsigned long *nr_out = out == clean ? &nr_clean : &nr_dirty;

		if (!part->gone || part->nr_gone == part->fp->nr_pages)
			continue;
		if (file_pin_split(part, out, nr_out))
			pr_diag(page_machine(pages[0]), "vaddr_unpin_pages: -ENOMEM splitting a "
				"file_pin; %lu pins stay\n", part->nr_gone);
	}
	for (k = 0; k < n; k++) {
		struct file_pin *fp = parts[k].fp;

		if (parts[k].gone && parts[k].nr_gone != fp->nr_pages)
			continue;
		if (file_pin_unlink(fp) || !make_dirty) {
			memcpy(clean + nr_clean, fp->pages, fp->nr_pages * sizeof(*clean));
			nr_clean += fp->nr_pages;
		} else {
			memcpy(dirty + nr_dirty, fp->pages, fp->nr_pages * sizeof(*dirty));
			nr_dirty += fp->nr_pages;
		}
		gone_fp[nr_freed++] = fp;
	}
	wake_up_all(&lease_wq);
	mutex_unlock(&lease_lock);
	unpin_parts_free(parts, (unsigned long)n);
	if (nr_dirty)
		unpin_user_pages_dirty_lock(dirty, nr_dirty, true);
	if (nr_clean)
		unpin_user_pages_dirty_lock(clean, nr_clean, false);
	while (nr_freed)
		file_pin_free(gone_fp[--nr_freed]);
out:
	free(gone_fp);
	free(dirty);
	free(clean);
	free(parts);
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
