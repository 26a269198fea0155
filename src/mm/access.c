/* SPDX-License-Identifier: MIT */
/*
 * access.c - the simulated MMU: a process's CPU loading and storing bytes
 * of its own memory (pinmm_load / pinmm_store).
 *
 * Each page of an access is translated by walking the page tables as the
 * hardware would: a missing, non-user, protnone or (for a store) read-only
 * entry raises a fault, resolved by handle_mm_fault() after the VMA check
 * that the architecture's fault handler does (access_error()).  As that
 * handler does, faults may release mmap_lock to wait for storage
 * (FAULT_FLAG_ALLOW_RETRY); on VM_FAULT_RETRY the lock is retaken, the VMA
 * looked up again and the fault repeated with FAULT_FLAG_TRIED.  A fault
 * that cannot be resolved is -EFAULT (SIGSEGV/SIGBUS).  The bytes are
 * copied with the page's table lock held, so the copy is atomic with
 * respect to unmapping, COW and migration of that page (in hardware, the
 * TLB flush that follows a PTE change gives the same guarantee); accessed
 * and dirty bits are set as hardware sets them.
 */
#include <errno.h>
#include <string.h>
#include "mm.h"
#include "rcu.h"

/* Does @vma allow the access at all (x86: write implies read)? */
static bool access_error(struct vm_area_struct *vma, bool write)
{
	if (write)
		return !(vma->vm_flags & VM_WRITE);
	return !(vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC));
}

/*
 * Copy up to the end of the page at @addr if the translation allows it.
 * Return: bytes copied, 0 if a fault is needed.
 */
static size_t try_access(struct mm_struct *mm, unsigned long addr, void *buf,
			 size_t len, bool write)
{
	struct pinmm *m = mm->machine;
	pud_t *pud = pud_offset_lookup(mm, addr);
	pmd_t *pmd = pmd_offset_lookup(mm, addr);
	size_t off = addr & ~PAGE_MASK, n = min(len, PAGE_SIZE - off);
	spinlock_t *ptl;
	pmd_t pmdval;
	char *frame;

	if (pud && pud_leaf(pudp_get(pud))) {
		/* A 1 GiB hugetlb page: its entry is under mm->page_table_lock. */
		pud_t pudval;

		ptl = &mm->page_table_lock;
		spin_lock(ptl);
		pudval = pudp_get(pud);
		if (!pud_leaf(pudval) || !pmd_access_permitted(__pmd(pud_val(pudval)), write)) {
			spin_unlock(ptl);
			return 0;
		}
		pudval = pud_mkyoung(pudval);
		if (write)
			pudval = pud_mkdirty(pudval);
		set_pud(pud, pudval);
		frame = pfn_to_virt(m, pud_pfn(pudval) + ((addr & ~PUD_MASK) >> PAGE_SHIFT));
		goto copy;
	}
	if (!pmd)
		return 0;
	pmdval = pmdp_get(pmd);
	if (pmd_leaf(pmdval)) {
		ptl = pmd_lock(mm, pmd);
		pmdval = pmdp_get(pmd);
		if (!pmd_leaf(pmdval) || !pmd_access_permitted(pmdval, write)) {
			spin_unlock(ptl);
			return 0;
		}
		pmdval = pmd_mkyoung(pmdval);
		if (write)
			pmdval = pmd_mkdirty(pmdval);
		set_pmd(pmd, pmdval);
		frame = pfn_to_virt(m, pmd_pfn(pmdval) + ((addr & ~PMD_MASK) >> PAGE_SHIFT));
	} else {
		pte_t *pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
		pte_t e;

		if (!pte)
			return 0;
		e = ptep_get(pte);
		if (!pte_access_permitted(e, write)) {
			pte_unmap_unlock(pte, ptl);
			return 0;
		}
		e = pte_mkyoung(e);
		if (write)
			e = pte_mkdirty(e);
		set_pte(pte, e);
		frame = pfn_to_virt(m, pte_pfn(e));
	}
copy:
	if (write)
		memcpy(frame + off, buf, n);
	else
		memcpy(buf, frame + off, n);
	spin_unlock(ptl);
	return n;
}

static long mmu_access(struct pinmm_proc *p, unsigned long addr, void *buf,
		       size_t len, bool write)
{
	struct mm_struct *mm;
	size_t done = 0;

	pinmm_thread_enter();
	if (!p || (!buf && len))
		return -EINVAL;
	if (addr >= TASK_SIZE || len > TASK_SIZE - addr)
		return READ_ONCE(p->exited) ? -ESRCH : -EFAULT;
	mm = get_proc_mm(p);	/* a pinmm_exit() meanwhile cannot free it */
	if (!mm)
		return -ESRCH;
	mmap_read_lock(mm);
	while (done < len) {
		unsigned long a = addr + done;
		struct vm_area_struct *vma;
		unsigned int flags;
		vm_fault_t ret;
		size_t n;
		int tries = 0;

		n = try_access(mm, a, (char *)buf + done, len - done, write);
		if (n) {
			done += n;
			continue;
		}
		flags = FAULT_FLAG_USER | FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE |
			(write ? FAULT_FLAG_WRITE : 0);
		for (;;) {
			vma = vma_lookup(mm, a);
			if (!vma || access_error(vma, write))
				goto out;
			ret = handle_mm_fault(vma, a, flags);
			if (ret & VM_FAULT_RETRY) {
				/* mmap_lock was released: retake, look again (F3). */
				flags |= FAULT_FLAG_TRIED;
				mmap_read_lock(mm);
				continue;
			}
			if (ret & VM_FAULT_ERROR)
				goto out;
			n = try_access(mm, a, (char *)buf + done, len - done, write);
			if (n)
				break;
			if (++tries > 1000)	/* cannot make progress */
				goto out;
		}
		done += n;
	}
out:
	mmap_read_unlock(mm);
	mmput(mm);
	if (done < len)
		return -EFAULT;
	return (long)done;
}

/**
 * pinmm_load() - the process reads @len bytes at @addr into @buf.
 * Context: process context; takes mmap_lock for reading.
 * Return: @len, or -EFAULT (SIGSEGV/SIGBUS at some page; earlier pages have
 * been read), -EINVAL, -ESRCH.
 */
long pinmm_load(struct pinmm_proc *p, unsigned long addr, void *buf, size_t len)
{
	long ret = mmu_access(p, addr, buf, len, false);

	if (p && !READ_ONCE(p->exited))
		pinmm_debug_boundary(p->machine);
	return ret;
}

/**
 * pinmm_store() - the process writes @len bytes from @buf at @addr.
 * Context: process context; takes mmap_lock for reading.
 * Return: @len, or -EFAULT (earlier pages have been written), -EINVAL,
 * -ESRCH.
 */
long pinmm_store(struct pinmm_proc *p, unsigned long addr, const void *buf, size_t len)
{
	long ret = mmu_access(p, addr, (void *)buf, len, true);

	if (p && !READ_ONCE(p->exited))
		pinmm_debug_boundary(p->machine);
	return ret;
}
