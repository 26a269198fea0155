/* SPDX-License-Identifier: MIT */
/*
 * fault_workloads_folio.c - sweep workloads for large folios, hugetlb and
 * file pins (doc/FAULT-INJECTION.md, "The sweep"): multi-size THP faults,
 * the huge zero page write fault and MADV_COLLAPSE; hugetlb pools,
 * reservations, hugetlbfs inodes and a pinned hugetlb page; and a
 * vaddr_pin_pages() file pin under a layout lease.  Same rules as
 * fault_workloads.c: STEP() ends the workload at the first error, and the
 * sweep checks what is left.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

#include <pinmm/pinmm.h>
#include <pinmm/linux.h>
#include <pinmm/lease.h>

#include "fault_sweep.h"

#define SZ_2M	(2UL << 20)

/* A 2 MiB-aligned anonymous range of @len inside a mapping twice as big. */
static long map_aligned(struct pinmm_proc *p, unsigned long len)
{
	long raw = pinmm_mmap(p, 0, len + SZ_2M, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (raw < 0)
		return raw;
	return (long)(((unsigned long)raw + SZ_2M - 1) & ~(SZ_2M - 1));
}

/*
 * Large folios: 64 KiB folios fill a 2 MiB range (PMD size off), which
 * MADV_COLLAPSE then turns into a THP; with the PMD size on, a read maps
 * the huge zero page and a write replaces it with a THP.
 */
void wl_thp_collapse(struct run *r)
{
	struct pinmm_proc *p = NULL;
	char c = 0;
	long a, z;

	if (boot(r, "thp", "madvise", "thp.64K", "always", "thp.2048K", "never", NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "mmap", a = map_aligned(p, SZ_2M));
	for (unsigned long off = 0; off < SZ_2M; off += 64 << 10)
		STEP(r, "store (mTHP fault)", pinmm_store(p, (unsigned long)a + off, "m", 1));
	STEP(r, "MADV_COLLAPSE", pinmm_madvise(p, (unsigned long)a, SZ_2M, MADV_COLLAPSE));
	STEP(r, "thp_set", pinmm_thp_set(r->m, "thp.2048K", "inherit"));
	STEP(r, "mmap", z = map_aligned(p, SZ_2M));
	STEP(r, "MADV_HUGEPAGE", pinmm_madvise(p, (unsigned long)z, SZ_2M, MADV_HUGEPAGE));
	STEP(r, "load (huge zero)", pinmm_load(p, (unsigned long)z, &c, 1));
	STEP(r, "store (huge zero wp)", pinmm_store(p, (unsigned long)z + 8, "z", 1));
out:
	return;
}

/*
 * hugetlb: the pool filled at boot, a private MAP_HUGETLB mapping (its
 * reservation map and hugetlbfs inode), fork and COW, a shared hugetlb
 * memfd, and a long-term pin of a hugetlb page that outlives munmap.
 */
void wl_hugetlb(struct run *r)
{
	struct pinmm_proc *p = NULL, *c = NULL;
	struct page *pages[1];
	long a, b, got = 0;
	int fd = -1;

	if (boot(r, "hugepages.2M", "4", NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "mmap(MAP_HUGETLB)", a = pinmm_mmap(p, 0, SZ_2M, PROT_READ | PROT_WRITE,
						     MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
						     MAP_HUGE_2MB, -1, 0));
	STEP(r, "store", pinmm_store(p, (unsigned long)a, "huge", 4));
	STEP(r, "fork", pinmm_fork(p, &c));
	STEP(r, "child store (COW)", pinmm_store(c, (unsigned long)a + 8, "child", 5));
	STEP(r, "exit child", pinmm_exit(c));
	c = NULL;
	STEP(r, "memfd_create(MFD_HUGETLB)", fd = pinmm_memfd_create(p, "h", MFD_HUGETLB));
	STEP(r, "ftruncate", pinmm_ftruncate(p, fd, (long)SZ_2M));
	STEP(r, "mmap(shared)", b = pinmm_mmap(p, 0, SZ_2M, PROT_READ | PROT_WRITE, MAP_SHARED,
					       fd, 0));
	STEP(r, "store(shared)", pinmm_store(p, (unsigned long)b + 16, "shared", 6));
	STEP(r, "pin_user_pages_fast", got = pinmm_pin_user_pages_fast((unsigned long)b, 1,
								       FOLL_WRITE | FOLL_LONGTERM,
								       pages));
	STEP(r, "munmap", pinmm_munmap(p, (unsigned long)b, SZ_2M));
out:
	if (got > 0)
		pinmm_unpin_user_pages_dirty_lock(pages, (unsigned long)got, true);
	if (c)
		pinmm_exit(c);
	if (fd >= 0 && r->m)
		pinmm_close(p, fd);
}

/*
 * A file pin: vaddr_pin_pages() of a leased /dax/ file, owned by another
 * file; then a partial unpin that splits the record.
 */
void wl_file_pin(struct run *r)
{
	struct pinmm_proc *p = NULL;
	struct pinmm_lease *l = NULL;
	struct vaddr_pin vp = { 0 };
	struct pinmm_file_pin_info fpi;
	struct page *pages[4];
	long a, got = 0;
	int fd = -1, ownfd = -1;

	if (boot(r, "pmem", "16M", "fs.pinned_policy", "lease", NULL))
		return;
	STEP(r, "proc_create", pinmm_proc_create(r->m, &p));
	pinmm_set_current(p);
	STEP(r, "open", fd = pinmm_open(p, "/dax/fp", O_RDWR | O_CREAT, 0600));
	STEP(r, "ftruncate", pinmm_ftruncate(p, fd, 4 * 4096));
	STEP(r, "mmap(shared)", a = pinmm_mmap(p, 0, 4 * 4096, PROT_READ | PROT_WRITE,
					       MAP_SHARED, fd, 0));
	STEP(r, "open(owner)", ownfd = pinmm_open(p, "/tmp/owner", O_RDWR | O_CREAT, 0600));
	vp.f_owner = pinmm_fget(p, ownfd);
	STEP(r, "fget", vp.f_owner ? 0 : -EBADF);
	STEP(r, "lease_get", pinmm_lease_get(p, fd, NULL, NULL, &l));
	STEP(r, "vaddr_pin_pages", got = vaddr_pin_pages((unsigned long)a, 4, FOLL_WRITE, pages,
							 &vp));
	/* The middle two: the record splits, unless an allocation fails (then unchanged). */
	vaddr_unpin_pages(&pages[1], 2, &vp, true);
	if (pinmm_file_pins(r->m, -1, NULL, &fpi, 1) == 2 && fpi.nr_pages == 1) {
		vaddr_unpin_pages(&pages[0], 1, &vp, true);
		vaddr_unpin_pages(&pages[3], 1, &vp, true);
		got = 0;
	}
out:
	if (got > 0)
		vaddr_unpin_pages(pages, (unsigned long)got, &vp, true);
	if (l)
		pinmm_lease_put(l);
	if (vp.f_owner)
		fput(vp.f_owner);
	if (ownfd >= 0 && r->m)
		pinmm_close(p, ownfd);
	if (fd >= 0 && r->m)
		pinmm_close(p, fd);
}
