/* SPDX-License-Identifier: MIT */
/*
 * mmap.c - pinmm_mmap() and pinmm_munmap(): creating and destroying VMAs
 * with Linux's argument checks and error codes, the top-down search for a
 * free range, and the page protections a VMA's flags give its PTEs.
 */
#include <errno.h>
#include "mm.h"
#include "pagemap.h"
#include "hugetlb.h"
#include "rcu.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif
#ifndef MAP_UNINITIALIZED
#define MAP_UNINITIALIZED 0x4000000
#endif
#define MAP_TYPE_MASK 0x0f
#define MMAP_MIN_ADDR 0x10000UL

/* Flags MAP_SHARED_VALIDATE accepts (LEGACY_MAP_MASK | MAP_SYNC). */
#define LEGACY_MAP_MASK (MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | \
			 MAP_DENYWRITE | MAP_EXECUTABLE | MAP_UNINITIALIZED | \
			 MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | \
			 MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB)

/**
 * vm_get_page_prot() - the PTE protection for VMA flags (x86's
 * protection_map): private writable mappings start read-only (COW).
 * Context: any.
 * Return: the pgprot.
 */
pgprot_t vm_get_page_prot(vm_flags_t vm_flags)
{
	uint64_t prot;

	if (!(vm_flags & VM_ACCESS_FLAGS))
		return PAGE_NONE;
	prot = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;
	if ((vm_flags & VM_WRITE) && (vm_flags & VM_SHARED))
		prot |= _PAGE_RW;
	if (!(vm_flags & VM_EXEC))
		prot |= _PAGE_NX;
	return __pgprot(prot);
}

/**
 * vma_needs_dirty_tracking() - does the filesystem need to see the first
 * write to each page of this shared mapping (page_mkwrite / writeback)?
 * Context: mmap_lock held.
 * Return: true for shared mappings of files with writeback.
 */
bool vma_needs_dirty_tracking(const struct vm_area_struct *vma)
{
	if ((vma->vm_flags & (VM_SHARED | VM_WRITE)) != (VM_SHARED | VM_WRITE))
		return false;
	if (vma->vm_ops && vma->vm_ops->page_mkwrite)
		return true;
	if ((vma->vm_flags & (VM_PFNMAP | VM_HUGETLB)) || !vma->vm_file)
		return false;	/* hugetlbfs has no writeback */
	return !shmem_mapping(vma->vm_file->f_mapping) &&
	       !(vma->vm_file->f_mapping->flags & (1UL << AS_DAX));
}

bool vma_is_fsdax(const struct vm_area_struct *vma)
{
	return vma->vm_file && (vma->vm_file->f_mapping->flags & (1UL << AS_DAX));
}

/**
 * vma_set_page_prot() - set vm_page_prot from vm_flags; writable shared
 * mappings that need dirty tracking or soft-dirty tracking map read-only
 * first (write-notify).
 * Context: mmap_lock held for writing.
 */
void vma_set_page_prot(struct vm_area_struct *vma)
{
	pgprot_t prot = vm_get_page_prot(vma->vm_flags);

	/* vma_wants_writenotify(): also while soft-dirty tracking is on. */
	if (vma_needs_dirty_tracking(vma) ||
	    ((vma->vm_flags & (VM_SHARED | VM_WRITE)) == (VM_SHARED | VM_WRITE) &&
	     vma_soft_dirty_enabled(vma)))
		pgprot_val(prot) &= ~_PAGE_RW;
	/* rmap walkers (migration's restore) read it under rmap locks only. */
	WRITE_ONCE(pgprot_val(vma->vm_page_prot), pgprot_val(prot));
}

static vm_flags_t calc_vm_prot_bits(int prot)
{
	return ((prot & PROT_READ) ? VM_READ : 0) | ((prot & PROT_WRITE) ? VM_WRITE : 0) |
	       ((prot & PROT_EXEC) ? VM_EXEC : 0);
}

static bool range_free(struct mm_struct *mm, unsigned long addr, unsigned long len)
{
	return addr >= MMAP_MIN_ADDR && addr + len <= TASK_SIZE && addr + len > addr &&
	       !find_vma_intersection(mm, addr, addr + len);
}

/* Top-down search below mm->mmap_base for a gap of @len bytes. */
static unsigned long unmapped_area_topdown(struct mm_struct *mm, unsigned long len,
					   unsigned long align)
{
	unsigned long high = mm->mmap_base;
	struct vm_area_struct *vma;

	list_for_each_entry_reverse(vma, &mm->mmap_list, vm_list) {
		if (vma->vm_start >= high)
			continue;
		if (vma->vm_end <= high) {
			unsigned long cand = ALIGN_DOWN(high - len, align);
			if (high >= len && cand >= vma->vm_end && cand >= MMAP_MIN_ADDR)
				return cand;
		}
		high = min(high, vma->vm_start);
	}
	if (high >= len + MMAP_MIN_ADDR)
		return ALIGN_DOWN(high - len, align);
	return 0;
}

/**
 * get_unmapped_area() - choose the address of a new mapping of @len bytes:
 * @addr itself with MAP_FIXED / MAP_FIXED_NOREPLACE, else @addr as a hint,
 * else the highest free range below mmap_base (2 MiB aligned for a large
 * anonymous mapping when @thp_ok).
 * Context: mmap_lock held for writing.
 * Return: the address, or -ENOMEM / -EINVAL.
 */
long get_unmapped_area(struct mm_struct *mm, unsigned long addr,
			      unsigned long len, int flags, bool thp_ok)
{
	unsigned long a;

	if (len > TASK_SIZE - MMAP_MIN_ADDR)
		return -ENOMEM;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		/* Linux (__get_unmapped_area) checks the range, then alignment. */
		if (addr > TASK_SIZE - len)
			return -ENOMEM;
		if (!PAGE_ALIGNED(addr))
			return -EINVAL;
		return (long)addr;
	}
	if (addr) {
		addr = PAGE_ALIGN(addr);
		if (range_free(mm, addr, len))
			return (long)addr;
	}
	/* Large anonymous mappings get 2 MiB alignment, as Linux gives THP. */
	if (thp_ok && len >= PMD_SIZE) {
		a = unmapped_area_topdown(mm, len, PMD_SIZE);
		if (a)
			return (long)a;
	}
	a = unmapped_area_topdown(mm, len, PAGE_SIZE);
	return a ? (long)a : -ENOMEM;
}

/*
 * Linux's hugetlb_get_unmapped_area(): a fixed address must be huge-page
 * aligned (-EINVAL), a hint is rounded up to a huge page, a free range is
 * searched with huge-page alignment.
 */
static long hugetlb_get_unmapped_area(struct mm_struct *mm, unsigned long addr,
				      unsigned long len, int flags, unsigned long hsz)
{
	unsigned long a;

	if (len & (hsz - 1))
		return -EINVAL;
	if (len > TASK_SIZE - MMAP_MIN_ADDR)
		return -ENOMEM;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr & (hsz - 1))
			return -EINVAL;
		return get_unmapped_area(mm, addr, len, flags, false);
	}
	if (addr) {
		a = ALIGN(addr, hsz);
		if (a >= addr && range_free(mm, a, len))
			return (long)a;
	}
	a = unmapped_area_topdown(mm, len, hsz);
	return a ? (long)a : -ENOMEM;
}

/**
 * do_munmap() - unmap [start, start+len) of @mm, splitting VMAs at the
 * edges.  Pages pinned by GUP stay alive through their pins; notifier
 * subscriptions get MMU_NOTIFY_UNMAP over [start, start+len) around the zap.
 * Context: mmap_lock held for writing.
 * Return: 0 or -ENOMEM (a VMA could not be split).
 */
int do_munmap(struct mm_struct *mm, unsigned long start, size_t len)
{
	unsigned long end = start + len;
	struct vm_area_struct *vma, *prev, *next, *tmp;
	struct mmu_notifier_range range;
	LIST_HEAD(detached);
	unsigned long floor, ceiling;
	int err;

	mmap_assert_write_locked(mm);
	vma = find_vma(mm, start);
	if (!vma || vma->vm_start >= end)
		return 0;
	if (vma->vm_start < start) {
		if (mm->map_count >= MAX_MAP_COUNT)
			return -ENOMEM;
		err = split_vma(vma, start, 0);
		if (err)
			return err;
	}
	vma = find_vma(mm, end - 1);
	if (vma && vma->vm_start < end && vma->vm_end > end) {
		err = split_vma(vma, end, 1);
		if (err)
			return err;
	}
	vma = find_vma(mm, start);
	prev = vma_prev(vma);
	floor = prev ? prev->vm_end : 0;
	mmu_notifier_range_init(&range, MMU_NOTIFY_UNMAP, 0, mm, start, end);
	mmu_notifier_invalidate_range_start(&range);
	for (next = vma; next && next->vm_start < end; next = vma_next(next))
		zap_page_range_single(next, next->vm_start, next->vm_end, NULL);
	mmu_notifier_invalidate_range_end(&range);
	while (vma && vma->vm_start < end) {
		tmp = vma_next(vma);
		vma_unlink(mm, vma);
		mm->total_vm -= vma_pages(vma);
		list_add_tail(&vma->vm_list, &detached);
		vma = tmp;
	}
	ceiling = vma ? vma->vm_start : TASK_SIZE;
	free_pgtables(mm, floor, ceiling, start, end);
	list_for_each_entry_safe(vma, tmp, &detached, vm_list) {
		list_del(&vma->vm_list);
		remove_vma(vma);
	}
	return 0;
}

static long mmap_region(struct pinmm_proc *p, struct file *file, unsigned long addr,
			unsigned long len, vm_flags_t vm_flags, pgoff_t pgoff, int flags)
{
	struct mm_struct *mm = p->mm;
	struct vm_area_struct *vma;
	long err;

	if (flags & MAP_FIXED_NOREPLACE) {
		if (find_vma_intersection(mm, addr, addr + len))
			return -EEXIST;
	} else if (flags & MAP_FIXED) {
		err = do_munmap(mm, addr, len);
		if (err)
			return err;
	}
	if (mm->map_count >= MAX_MAP_COUNT)
		return -ENOMEM;
	if (file && (!file->f_op || !file->f_op->mmap))
		return -ENODEV;		/* not a mappable file */
	vma = vm_area_alloc(mm);
	if (!vma)
		return -ENOMEM;
	vma->vm_start = addr;
	vma->vm_end = addr + len;
	/* A new mapping is all soft-dirty until the next clear_refs. */
	vma->vm_flags = vm_flags | VM_SOFTDIRTY;
	vma->vm_pgoff = pgoff;
	if (file) {
		vma->vm_file = file;
		get_file(file);
		err = file->f_op->mmap(file, vma);
		if (err) {
			fput(file);
			vm_area_free(vma);
			return err;
		}
	} else if (vm_flags & VM_SHARED) {
		err = shmem_zero_setup(vma);
		if (err) {
			vm_area_free(vma);
			return err;
		}
	} else {
		vma->vm_pgoff = addr >> PAGE_SHIFT;
	}
	vma_set_page_prot(vma);
	vma_link(mm, vma);
	mm->total_vm += len >> PAGE_SHIFT;
	vma_try_merge(vma);
	return (long)addr;
}

/**
 * pinmm_mmap() - mmap(2) for process @p.
 * Context: process context; takes the mmap_lock.
 * Return: the address, or -EINVAL (zero length, unaligned offset or fixed
 * address, no or two mapping types), -ENOMEM (no room), -EEXIST
 * (MAP_FIXED_NOREPLACE over a mapping), -EBADF, -EACCES (file access mode),
 * -EOVERFLOW (offset + length wraps), -EOPNOTSUPP (unknown flags with
 * MAP_SHARED_VALIDATE), -ESRCH (exited process).
 */
long pinmm_mmap(struct pinmm_proc *p, unsigned long addr, size_t len, int prot,
		int flags, int fd, long off)
{
	struct file *file = NULL;
	vm_flags_t vm_flags;
	int type = flags & MAP_TYPE_MASK;
	unsigned long hsz = 0;		/* huge page size of a hugetlb mapping */
	bool populate;
	pgoff_t pgoff;
	long ret;

	pinmm_thread_enter();
	if (!p)
		return -EINVAL;
	if (READ_ONCE(p->exited))
		return -ESRCH;
	if (!len)
		return -EINVAL;
	if (off < 0 || (off & ~PAGE_MASK))
		return -EINVAL;
	len = PAGE_ALIGN(len);
	if (!len)
		return -ENOMEM;
	pgoff = (unsigned long)off >> PAGE_SHIFT;
	if (pgoff + (len >> PAGE_SHIFT) < pgoff)
		return -EOVERFLOW;
	if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE)
		return -EINVAL;
	if (type == MAP_SHARED_VALIDATE && (flags & ~(LEGACY_MAP_MASK | MAP_SYNC | MAP_FIXED_NOREPLACE)))
		return -EOPNOTSUPP;

	vm_flags = calc_vm_prot_bits(prot) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
	if ((flags & (MAP_ANONYMOUS | MAP_HUGETLB)) == (MAP_ANONYMOUS | MAP_HUGETLB)) {
		/* Linux's ksys_mmap_pgoff(): an unlinked hugetlbfs file, reserved at ->mmap. */
		int err;
		struct hstate *h = hstate_from_flags(p->machine, (unsigned long)flags, &err);

		if (!h)
			return err;
		hsz = huge_page_size(h);
		if (len > ALIGN_DOWN(TASK_SIZE, hsz))
			return -ENOMEM;
		len = ALIGN(len, hsz);
		file = hugetlb_file_setup(p->machine, "anon_hugepage", (long long)len, h);
		if (IS_ERR(file))
			return PTR_ERR(file);
		if (type != MAP_PRIVATE)
			vm_flags |= VM_SHARED | VM_MAYSHARE;
	} else if (!(flags & MAP_ANONYMOUS)) {
		unsigned acc;

		file = fget(p, fd);
		if (!file)
			return -EBADF;
		if (is_file_hugepages(file)) {
			hsz = huge_page_size(hstate_inode(file->f_inode));
			if (len > ALIGN_DOWN(TASK_SIZE, hsz)) {
				ret = -ENOMEM;
				goto out_file;
			}
			len = ALIGN(len, hsz);
		} else if (flags & MAP_HUGETLB) {
			ret = -EINVAL;		/* MAP_HUGETLB on a file of another fs */
			goto out_file;
		}
		acc = file->f_flags & O_ACCMODE;
		if (acc == O_WRONLY) {
			ret = -EACCES;
			goto out_file;
		}
		if (type != MAP_PRIVATE) {
			if ((prot & PROT_WRITE) && acc != O_RDWR) {
				ret = -EACCES;
				goto out_file;
			}
			vm_flags |= VM_SHARED | VM_MAYSHARE;
			if (acc != O_RDWR)
				vm_flags &= ~(VM_MAYWRITE | VM_SHARED);
		}
	} else if (type != MAP_PRIVATE) {
		vm_flags |= VM_SHARED | VM_MAYSHARE;
		pgoff = 0;
	}
	if (flags & MAP_NORESERVE)
		vm_flags |= VM_NORESERVE;
	if (flags & MAP_GROWSDOWN)
		vm_flags |= VM_GROWSDOWN;
	if (flags & MAP_LOCKED)
		vm_flags |= VM_LOCKED;
	/* Linux's accountable_mapping(): private writable memory is committed */
	if (!hsz && (vm_flags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) == VM_WRITE)
		vm_flags |= VM_ACCOUNT;

	if (!get_proc_mm(p)) {	/* held for the call: exit cannot free it */
		ret = -ESRCH;
		goto out_file;
	}
	mmap_write_lock(p->mm);
	if (hsz)
		ret = hugetlb_get_unmapped_area(p->mm, addr, len, flags, hsz);
	else
		ret = get_unmapped_area(p->mm, addr, len, flags,
					!file && !(vm_flags & VM_SHARED));
	if (ret >= 0)
		ret = mmap_region(p, file, (unsigned long)ret, len, vm_flags, pgoff, flags);
	populate = ret >= 0 && ((flags & (MAP_POPULATE | MAP_NONBLOCK)) == MAP_POPULATE ||
				(flags & MAP_LOCKED));
	mmap_write_unlock(p->mm);

	if (populate) {
		/* Like mm_populate(): best effort, errors are not reported. */
		unsigned long a = (unsigned long)ret, end = a + len;

		mmap_read_lock(p->mm);
		while (a < end) {
			struct vm_area_struct *vma = find_vma(p->mm, a);

			if (!vma || vma->vm_start >= end)
				break;
			a = max(a, vma->vm_start);
			if (vma->vm_flags & VM_ACCESS_FLAGS)
				populate_range(vma, a, min(end, vma->vm_end),
					       is_cow_mapping(vma->vm_flags) &&
					       (vma->vm_flags & VM_WRITE), false);
			a = vma->vm_end;
		}
		mmap_read_unlock(p->mm);
	}
	mmput(p->mm);
	pinmm_debug_boundary(p->machine);
out_file:
	if (file)
		fput(file);
	return ret;
}

/**
 * pinmm_munmap() - munmap(2) for process @p.
 * Context: process context; takes the mmap_lock for writing.
 * Return: 0, -EINVAL (unaligned, zero length, beyond the user range),
 * -ENOMEM, -ESRCH.
 */
int pinmm_munmap(struct pinmm_proc *p, unsigned long addr, size_t len)
{
	int ret;

	pinmm_thread_enter();
	if (!p)
		return -EINVAL;
	if (READ_ONCE(p->exited))
		return -ESRCH;
	if (!PAGE_ALIGNED(addr) || addr > TASK_SIZE || len > TASK_SIZE - addr)
		return -EINVAL;
	len = PAGE_ALIGN(len);
	if (!len)
		return -EINVAL;
	if (!get_proc_mm(p))	/* held for the call: exit cannot free it */
		return -ESRCH;
	mmap_write_lock(p->mm);
	ret = do_munmap(p->mm, addr, len);
	mmap_write_unlock(p->mm);
	mmput(p->mm);
	pinmm_debug_boundary(p->machine);
	return ret;
}
