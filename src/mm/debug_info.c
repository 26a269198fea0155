/* SPDX-License-Identifier: MIT */
/*
 * debug_info.c - the implementation of <pinmm/debug.h>: how a machine is
 * built, for tools and benchmarks (the figures Linux prints at boot,
 * "Memory: ...K/...K available", and keeps in debugfs).
 *
 * The memmap figures are fixed between pinmm_boot() and pinmm_shutdown(),
 * so no lock is taken for them.  The snapshots of a process's VMAs, of a
 * file's page cache and of a held page's owner (what `pinmm` draws as
 * pictures, tools/pinmm/svg_*.c) take the locks a reader of
 * /proc/PID/maps or of the page cache takes, and report one moment.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <pinmm/debug.h>

#include "mm.h"
#include "hugetlb.h"
#include "pagemap.h"
#include "rcu.h"

/**
 * pinmm_debug_memmap() - the size of @m's frames and of its memmap.
 * @m: a booted machine.
 * @info: filled on success; untouched on error.
 *
 * Context: any thread; takes no lock (the memmap is sized once, at boot).
 * Return: 0, or -EINVAL when @m or @info is NULL.
 */
int pinmm_debug_memmap(struct pinmm *m, struct pinmm_memmap_info *info)
{
	if (!m || !info)
		return -EINVAL;
	info->nr_pages = m->nr_pages;
	info->mem_bytes = m->mem_bytes;
	info->memmap_bytes = m->memmap_bytes;
	info->page_struct_bytes = sizeof(struct page);
	return 0;
}

static void fill_vma(const struct vm_area_struct *vma, struct pinmm_vma_info *o)
{
	vm_flags_t f = vma->vm_flags;

	memset(o, 0, sizeof(*o));
	o->start = vma->vm_start;
	o->end = vma->vm_end;
	o->prot = ((f & VM_READ) ? PROT_READ : 0) | ((f & VM_WRITE) ? PROT_WRITE : 0) |
		  ((f & VM_EXEC) ? PROT_EXEC : 0);
	o->shared = f & VM_SHARED;
	o->anon = !vma->vm_file;
	o->hugetlb = is_vm_hugetlb_page(vma);
	o->hugepage = f & VM_HUGEPAGE;
	o->nohugepage = f & VM_NOHUGEPAGE;
	o->mergeable = f & VM_MERGEABLE;
	o->locked = f & VM_LOCKED;
	if (vma->vm_file) {
		o->pgoff = vma->vm_pgoff;
		/* A longer name is cut, as the struct's doc allows. */
		snprintf(o->name, sizeof(o->name), "%.*s", (int)sizeof(o->name) - 1,
			 vma->vm_file->f_inode->name);
	}
}

/**
 * pinmm_debug_vmas() - the VMAs of @p in address order (/proc/PID/maps).
 * @p: the process.
 * @out: an array of @max entries, filled with the first VMAs.
 * @max: its size; 0 (with @out NULL) asks for the count only.
 *
 * Context: process context; takes mmap_lock for reading.
 * Return: the number of VMAs (only the first @max are filled), -EINVAL,
 * -ESRCH (exited process).
 */
int pinmm_debug_vmas(struct pinmm_proc *p, struct pinmm_vma_info *out, int max)
{
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	int n = 0;

	pinmm_thread_enter();
	if (!p || max < 0 || (max > 0 && !out))
		return -EINVAL;
	if (READ_ONCE(p->exited))
		return -ESRCH;
	mm = get_proc_mm(p);	/* held for the call: exit cannot free it */
	if (!mm)
		return -ESRCH;
	mmap_read_lock(mm);
	list_for_each_entry(vma, &mm->mmap_list, vm_list) {
		if (n < max)
			fill_vma(vma, &out[n]);
		n++;
	}
	mmap_read_unlock(mm);
	mmput(mm);
	return n;
}

/**
 * pinmm_debug_cache_page() - the page cache of @fd's file at offset @index.
 * @p: the process that owns @fd.
 * @fd: an open file descriptor of @p.
 * @index: a page offset into the file.
 * @out: filled on success (@out->cached false when nothing is cached).
 *
 * The lookup holds its own folio reference while it reads the folio, and
 * reports the refcount without it.
 *
 * Context: any thread; takes p->files_lock and i_pages_lock.
 * Return: 0, -EBADF, -EINVAL, -ESRCH.
 */
int pinmm_debug_cache_page(struct pinmm_proc *p, int fd, unsigned long index,
			   struct pinmm_cache_page_info *out)
{
	struct folio *folio;
	struct file *file;
	struct pinmm *m;

	pinmm_thread_enter();
	if (!p || !out)
		return -EINVAL;
	if (READ_ONCE(p->exited))
		return -ESRCH;
	file = fget(p, fd);
	if (!file)
		return -EBADF;
	memset(out, 0, sizeof(*out));
	folio = filemap_get_folio(file->f_mapping, index);
	if (folio) {
		struct page *page = folio_page(folio, index - folio->index);

		m = folio_machine(folio);
		out->cached = true;
		out->uptodate = folio_test_Uptodate(folio);
		out->dirty = folio_test_Dirty(folio);
		out->writeback = folio_test_Writeback(folio);
		out->nodisk = folio_test_NoDisk(folio);
		out->maybe_dma_pinned = folio_maybe_dma_pinned(folio);
		out->pfn = page_to_pfn_m(m, page);
		out->refcount = folio_ref_count(folio) - 1;	/* not ours */
		out->pincount = folio_pincount_m(m, folio);
		out->mapcount = page_mapcount(page);
		out->folio_order = (int)folio_order(folio);
		out->folio_index = folio->index;
		folio_put(folio);
	}
	fput(file);
	return 0;
}

/**
 * pinmm_debug_page_owner() - where a page the caller holds belongs.
 * @page: a page on which the caller holds a reference or a pin.
 * @out: filled on success.
 *
 * A file folio keeps @mapping while it is in the cache; removal from the
 * cache (filemap_remove_folio()) clears it, so a held file folio without a
 * mapping is one its file let go of.
 *
 * Context: any thread; takes no lock.
 * Return: 0, or -EINVAL for NULL arguments.
 */
int pinmm_debug_page_owner(struct page *page, struct pinmm_page_owner_info *out)
{
	struct address_space *mapping;
	struct folio *folio;

	if (!page || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	folio = page_folio(page);
	out->zero_page = is_zero_folio(folio);
	out->anon = folio_test_anon(folio);
	if (out->zero_page || out->anon || folio_test_SwapCache(folio))
		return 0;
	mapping = READ_ONCE(folio->mapping);
	if (mapping) {
		out->in_page_cache = true;
		out->ino = mapping->host->i_ino;
		out->index = READ_ONCE(folio->index) + folio_page_idx(folio, page);
	} else if (!folio_test_Devmap(folio)) {	/* DAX frames keep theirs */
		out->orphaned = true;
	}
	return 0;
}
