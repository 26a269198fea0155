/* SPDX-License-Identifier: MIT */
/*
 * fuzz_api.c - libFuzzer target: the public API driven by a byte stream.
 *
 * Each input boots a small machine (64 MiB of RAM, a 1 MiB pinfs at
 * /data/; the first byte picks THP mode, pin tracking, the pinned-page
 * policy of the file systems and a MOVABLE zone) and decodes the rest into
 * a sequence of up to FUZZ_OPS calls with fuzzed arguments: mmap, munmap,
 * mprotect, madvise, fork, exit, load, store, GUP fast/slow/unlocked/
 * remote as get or pin (FOLL_LONGTERM included), unpin/put, file
 * open/pread/pwrite/ftruncate/punch/fsync/unlink/close on pinfs and tmpfs,
 * memfd, O_DIRECT submit/wait, RDMA PD/MR registration (pinned and ODP),
 * remote RDMA reads and writes, migration, compaction, THP split,
 * reclaim, drop_caches and sync.  Addresses are mostly inside or near
 * regions an earlier mmap returned, sometimes anything.
 *
 * Checked for every input, beyond "no crash, no sanitizer report, no
 * leak": every call returns success or a negative errno; after unpinning
 * and putting every page the harness still holds and waiting for every
 * O_DIRECT request, pinmm_audit() == 0 and pinmm_shutdown() == 0.  A
 * violation calls abort(), which libFuzzer records as a crash.
 *
 * The harness keeps the API's contract for the caller's own side (a pin
 * is released exactly once, an exited process is not used again, an
 * O_DIRECT request is waited for exactly once, before its process exits),
 * so that whatever fails is the library's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pinmm/pinmm.h>
#include <pinmm/linux.h>
#include <pinmm/dio.h>
#include <pinmm/rdma.h>

#include "fuzz_common.h"

#define FUZZ_OPS	256
#define NPROC		4
#define NREGION		8
#define NPIN		16
#define PIN_MAX		64
#define NFD		8
#define NDIO		4
#define NMR		8
#define IO_MAX		(3 * 4096 + 100)


struct region { int proc; unsigned long addr; size_t len; };
struct pinrec { struct page *pages[PIN_MAX]; long n; bool pin; };
struct fdrec { int proc; int fd; };
struct diorec { int proc; struct pinmm_dio *d; };
struct mrrec { int proc; int pd; uint32_t lkey, rkey; uint64_t iova, len; };

struct fz {
	const uint8_t *d;
	size_t n, pos;
	struct pinmm *m;
	struct pinmm_proc *procs[NPROC];
	int pd[NPROC];
	struct region reg[NREGION];
	int nreg;
	struct pinrec pins[NPIN];
	struct fdrec fds[NFD];
	struct diorec dios[NDIO];
	struct mrrec mrs[NMR];
};

static const char *image_path;
static unsigned char iobuf[IO_MAX];

static bool trace;	/* PINMM_FUZZ_TRACE: print every call's result */

static long ck(long rc, const char *what)
{
	if (trace)
		fprintf(stderr, "fuzz_api: %s -> %ld\n", what, rc);
	return fuzz_ck(rc, what);
}

/* ---- the byte stream ------------------------------------------------------ */

static uint8_t u8(struct fz *f)
{
	return f->pos < f->n ? f->d[f->pos++] : 0;
}

static uint16_t u16(struct fz *f)
{
	uint16_t lo = u8(f);

	return (uint16_t)(lo | u8(f) << 8);
}

static uint64_t u64(struct fz *f)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)u8(f) << (8 * i);
	return v;
}

/* A live process's slot, or -1. */
static int pick_proc(struct fz *f)
{
	int i = u8(f) % NPROC;

	for (int k = 0; k < NPROC; k++, i = (i + 1) % NPROC)
		if (f->procs[i])
			return i;
	return -1;
}

/* An address: mostly page-granular near a region an mmap returned. */
static unsigned long pick_addr(struct fz *f)
{
	uint8_t sel = u8(f);
	struct region *r;

	if (sel >= 0xf0 || !f->nreg)
		return (unsigned long)u64(f);
	r = &f->reg[sel % f->nreg];
	if (sel & 0x80)		/* unaligned */
		return r->addr + u16(f) % (r->len + 8192);
	return r->addr + ((unsigned long)u8(f) % (r->len / 4096 + 2)) * 4096 -
	       (sel & 0x40 ? 4096 : 0);
}

/* A length: mostly a few pages, sometimes odd, zero or huge. */
static size_t pick_len(struct fz *f)
{
	uint8_t sel = u8(f);

	if (sel < 0xe0)
		return ((size_t)(sel % 32) + 1) * 4096;
	if (sel < 0xf0)
		return u16(f);
	if (sel < 0xf8)
		return 0;
	return (size_t)u64(f);
}

static unsigned int pick_foll(struct fz *f)
{
	static const unsigned int ok = FOLL_WRITE | FOLL_FORCE | FOLL_NOWAIT | FOLL_NOFAULT |
		FOLL_HWPOISON | FOLL_ANON | FOLL_LONGTERM | FOLL_SPLIT_PMD |
		FOLL_INTERRUPTIBLE | FOLL_HONOR_NUMA_FAULT | FOLL_DUMP | FOLL_PCI_P2PDMA;
	uint16_t v = u16(f);

	if ((v & 0xf000) == 0xf000)
		return (unsigned int)u64(f);	/* anything, internal flags too */
	return v & ok;
}

static void add_region(struct fz *f, int proc, long addr, size_t len)
{
	struct region *r = &f->reg[f->nreg < NREGION ? f->nreg++ : (size_t)addr / 4096 % NREGION];

	r->proc = proc;
	r->addr = (unsigned long)addr;
	r->len = len > (1u << 24) ? 1u << 24 : len;
}

static struct pinrec *free_pinrec(struct fz *f)
{
	for (int i = 0; i < NPIN; i++)
		if (!f->pins[i].n)
			return &f->pins[i];
	return NULL;
}

static void release_pins(struct pinrec *r, uint8_t how)
{
	if (r->n <= 0)
		return;
	if (!r->pin) {
		for (long i = 0; i < r->n; i++)
			pinmm_put_page(r->pages[i]);
	} else if (how % 3 == 0) {
		pinmm_unpin_user_pages(r->pages, (unsigned long)r->n);
	} else if (how % 3 == 1) {
		pinmm_unpin_user_pages_dirty_lock(r->pages, (unsigned long)r->n, how & 4);
	} else {
		for (long i = 0; i < r->n; i++)
			pinmm_unpin_user_page(r->pages[i]);
	}
	r->n = 0;
}

static void wait_dios(struct fz *f, int proc)
{
	for (int i = 0; i < NDIO; i++) {
		if (f->dios[i].d && (proc < 0 || f->dios[i].proc == proc)) {
			ck(pinmm_dio_wait(f->dios[i].d), "dio_wait");
			f->dios[i].d = NULL;
		}
	}
}

/* Forget what process @i owned (it exited). */
static void proc_gone(struct fz *f, int i)
{
	f->procs[i] = NULL;
	f->pd[i] = -1;
	for (int k = 0; k < NFD; k++)
		if (f->fds[k].proc == i)
			f->fds[k].fd = -1;
	for (int k = 0; k < NMR; k++)
		if (f->mrs[k].proc == i)
			f->mrs[k].pd = -1;
}

static int pick_fd(struct fz *f, int proc)
{
	uint8_t sel = u8(f);

	for (int k = 0; k < NFD; k++) {
		struct fdrec *r = &f->fds[(sel + k) % NFD];

		if (r->fd >= 0 && r->proc == proc)
			return r->fd;
	}
	return sel & 0x80 ? (int)(sel & 0x7f) - 8 : -1;
}

/* ---- operations --------------------------------------------------------------- */

static void op_mmap(struct fz *f, int pi)
{
	static const int flags[] = {
		MAP_PRIVATE | MAP_ANONYMOUS, MAP_SHARED | MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, MAP_SHARED | MAP_POPULATE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, MAP_SHARED_VALIDATE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, MAP_PRIVATE | MAP_NORESERVE,
	};
	uint8_t sel = u8(f);
	int fl = flags[sel % (sizeof(flags) / sizeof(flags[0]))];
	int prot = u8(f) & 7;
	size_t len = pick_len(f);
	unsigned long addr = (fl & (MAP_FIXED | MAP_FIXED_NOREPLACE)) || (sel & 0x80) ? pick_addr(f) : 0;
	int fd = fl & MAP_ANONYMOUS ? -1 : pick_fd(f, pi);
	long off = (long)(u8(f) % 8) * 4096;
	long rc;

	if (sel & 0x40)
		fl = (int)(u64(f) & 0xffffff);
	rc = ck(pinmm_mmap(f->procs[pi], addr, len, prot, fl, fd, off), "mmap");
	if (rc >= 0)
		add_region(f, pi, rc, len);
}

static void op_madvise(struct fz *f, int pi)
{
	static const int adv[] = {
		MADV_DONTNEED, MADV_DONTFORK, MADV_DOFORK, MADV_HUGEPAGE, MADV_NOHUGEPAGE,
		MADV_POPULATE_READ, MADV_POPULATE_WRITE, 0, 1, 2, 9, 12, 21, 25,
	};
	uint8_t sel = u8(f);
	unsigned long addr = pick_addr(f);
	size_t len = pick_len(f);
	int a = sel < 0xf0 ? adv[sel % (sizeof(adv) / sizeof(adv[0]))] : (int)u16(f);

	ck(pinmm_madvise(f->procs[pi], addr, len, a), "madvise");
}

static void op_gup(struct fz *f, int pi, int kind)
{
	struct pinrec *r = free_pinrec(f);
	struct pinmm_proc *p = f->procs[pi];
	unsigned long addr = pick_addr(f);
	uint8_t nsel = u8(f);
	long nr = nsel == 0xff ? -1 : nsel % (PIN_MAX + 1);
	unsigned int foll = pick_foll(f);
	bool pin = u8(f) & 1;
	struct mm_struct *mm;
	long rc;
	int locked;

	if (!r)
		return;
	pinmm_set_current(p);
	mm = pinmm_proc_mm(p);
	switch (kind) {
	case 0:		/* fast */
		rc = pin ? pinmm_pin_user_pages_fast(addr, (int)nr, foll, r->pages)
			 : pinmm_get_user_pages_fast(addr, (int)nr, foll, r->pages);
		break;
	case 1:		/* slow, under the caller's mmap lock */
		if (nr < 0)
			nr = 0;
		pinmm_mmap_read_lock(mm);
		rc = pin ? pinmm_pin_user_pages(addr, (unsigned long)nr, foll, r->pages)
			 : pinmm_get_user_pages(addr, (unsigned long)nr, foll, r->pages);
		pinmm_mmap_read_unlock(mm);
		break;
	case 2:		/* unlocked */
		if (nr < 0)
			nr = 0;
		rc = pin ? pinmm_pin_user_pages_unlocked(addr, (unsigned long)nr, r->pages, foll)
			 : pinmm_get_user_pages_unlocked(addr, (unsigned long)nr, r->pages, foll);
		break;
	default: {	/* remote: another process's mm, from the current one */
		int other = pick_proc(f);

		if (other < 0 || nr < 0)
			return;
		mm = pinmm_proc_mm(f->procs[other]);
		locked = 1;
		pinmm_mmap_read_lock(mm);
		rc = pin ? pinmm_pin_user_pages_remote(mm, addr, (unsigned long)nr, foll,
							r->pages, &locked)
			 : pinmm_get_user_pages_remote(mm, addr, (unsigned long)nr, foll,
							r->pages, &locked);
		if (locked)
			pinmm_mmap_read_unlock(mm);
		break;
	}
	}
	ck(rc, "gup");
	if (rc > nr && nr >= 0)
		fuzz_fail("gup kind %d returned %ld pages for %ld", kind, rc, nr);
	if (rc > 0) {
		r->n = rc;
		r->pin = pin;
	}
}

static void op_file_open(struct fz *f, int pi)
{
	static const char *const dirs[] = { "/data/", "/tmp/", "/dev/shm/", "/data/", "/nope/" };
	static const int oflags[] = {
		O_RDWR | O_CREAT, O_RDONLY, O_RDWR | O_CREAT | O_DIRECT, O_WRONLY | O_CREAT | O_TRUNC,
		O_RDWR, O_RDWR | O_CREAT | O_EXCL, O_RDONLY | O_DIRECT,
	};
	uint8_t sel = u8(f), fsel = u8(f);
	char path[64];
	int slot = -1, fd;

	for (int k = 0; k < NFD; k++)
		if (f->fds[k].fd < 0)
			slot = k;
	snprintf(path, sizeof(path), "%sf%u", dirs[sel % 5], (unsigned)(sel >> 4) % 4);
	if (sel % 16 == 15) {
		fd = (int)ck(pinmm_memfd_create(f->procs[pi], "fz", u8(f) & 3), "memfd_create");
	} else {
		int fl = fsel < 0xf0 ? oflags[fsel % (sizeof(oflags) / sizeof(oflags[0]))]
				     : (int)u64(f);
		fd = (int)ck(pinmm_open(f->procs[pi], path, fl, 0644), "open");
	}
	if (fd < 0)
		return;
	if (slot < 0) {
		ck(pinmm_close(f->procs[pi], fd), "close");
		return;
	}
	f->fds[slot].proc = pi;
	f->fds[slot].fd = fd;
}

static void op_file_io(struct fz *f, int pi)
{
	struct pinmm_proc *p = f->procs[pi];
	uint8_t what = u8(f);
	int fd = pick_fd(f, pi);
	long off = (long)(u16(f) % 64) * 1024 + (what & 0x80 ? u8(f) : 0);
	size_t len = u16(f) % (IO_MAX + 1);

	if (what & 0x40)
		off = (long)u64(f);
	switch (what % 8) {
	case 0:
		ck(pinmm_pread(p, fd, iobuf, len, off), "pread");
		break;
	case 1:
		memset(iobuf, what, len);
		ck(pinmm_pwrite(p, fd, iobuf, len, off), "pwrite");
		break;
	case 2:
		ck(pinmm_ftruncate(p, fd, off), "ftruncate");
		break;
	case 3:
		ck(pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
				   (long)len), "punch");
		break;
	case 4:
		ck(pinmm_fallocate(p, fd, u8(f) & 3, off, (long)len), "fallocate");
		break;
	case 5:
		ck(pinmm_fsync(p, fd), "fsync");
		break;
	case 6:
		ck(pinmm_fstat_size(p, fd), "fstat_size");
		break;
	default:
		for (int k = 0; k < NFD; k++) {
			if (f->fds[k].fd == fd && f->fds[k].proc == pi) {
				/* O_DIRECT requests on it hold no file reference of ours. */
				ck(pinmm_close(p, fd), "close");
				f->fds[k].fd = -1;
				return;
			}
		}
		ck(pinmm_unlink(p, what & 0x10 ? "/data/f1" : "/tmp/f2"), "unlink");
		break;
	}
}

static void op_dio(struct fz *f, int pi)
{
	struct diorec *r = NULL;
	uint8_t sel = u8(f);
	int fd = pick_fd(f, pi);
	unsigned long addr = pick_addr(f);
	size_t len = sel & 0x80 ? pick_len(f) : (size_t)(sel % 4 + 1) * 4096;
	long off = (long)(u8(f) % 16) * 4096;
	long rc;

	for (int k = 0; k < NDIO; k++)
		if (!f->dios[k].d)
			r = &f->dios[k];
	if (!r) {
		wait_dios(f, -1);
		return;
	}
	rc = ck(pinmm_dio_submit(f->procs[pi], fd, sel & 1, addr, len, off, &r->d), "dio_submit");
	if (rc)
		r->d = NULL;
	else
		r->proc = pi;
}

static void op_rdma(struct fz *f, int pi)
{
	struct pinmm_proc *p = f->procs[pi];
	struct pinmm_rdma_mr_info info;
	uint8_t sel = u8(f);
	struct mrrec *mr = &f->mrs[u8(f) % NMR];
	long rc;

	switch (sel % 6) {
	case 0:
		if (f->pd[pi] >= 0)
			return;
		rc = ck(pinmm_rdma_alloc_pd(p), "alloc_pd");
		if (rc >= 0)
			f->pd[pi] = (int)rc;
		break;
	case 1:
	case 2: {
		unsigned long addr = pick_addr(f);
		size_t len = pick_len(f);
		unsigned int access = u8(f) & 0xff;
		int other = sel % 6 == 2 ? pick_proc(f) : -1;

		if (f->pd[pi] < 0 || mr->pd >= 0)
			return;
		if (other >= 0)
			rc = pinmm_rdma_reg_mr_remote(p, f->pd[pi], f->procs[other], addr, len,
						      access, &info);
		else
			rc = pinmm_rdma_reg_mr(p, f->pd[pi], addr, len, access, &info);
		if (ck(rc, "reg_mr") < 0)
			return;
		*mr = (struct mrrec){ .proc = pi, .pd = f->pd[pi], .lkey = info.lkey,
				      .rkey = info.rkey, .iova = info.iova, .len = info.length };
		break;
	}
	case 3:
		if (mr->pd < 0 || mr->proc != pi)
			return;
		ck(pinmm_rdma_dereg_mr(p, mr->pd, mr->lkey), "dereg_mr");
		mr->pd = -1;
		break;
	case 4:
	case 5: {
		uint64_t iova = mr->pd >= 0 ? mr->iova + u16(f) % (mr->len + 64) : u64(f);
		size_t len = u16(f) % (IO_MAX + 1);
		uint32_t rkey = mr->pd >= 0 && mr->proc == pi ? mr->rkey : (uint32_t)u64(f);

		if (f->pd[pi] < 0)
			return;
		if (sel % 6 == 4)
			ck(pinmm_rdma_remote_read(p, f->pd[pi], rkey, iova, iobuf, len), "rdma read");
		else
			ck(pinmm_rdma_remote_write(p, f->pd[pi], rkey, iova, iobuf, len),
			   "rdma write");
		break;
	}
	}
}

static void op_machine(struct fz *f, int pi)
{
	static const char *const zones[] = { NULL, "normal", "movable", "cma", "bogus" };
	struct pinmm_migrate_stats st;
	uint8_t sel = u8(f);

	unsigned long addr = pick_addr(f);

	switch (sel % 7) {
	case 0:
		ck(pinmm_migrate_page(f->procs[pi], addr, zones[u8(f) % 5]), "migrate_page");
		break;
	case 1:
		ck(pinmm_compact(f->m, &st), "compact");
		break;
	case 2:
		ck(pinmm_split_huge_page(f->procs[pi], addr), "split_huge_page");
		break;
	case 3:
		ck(pinmm_reclaim(f->m, u8(f)), "reclaim");
		break;
	case 4:
		ck(pinmm_drop_caches(f->m), "drop_caches");
		break;
	case 5:
		ck(pinmm_sync(f->m), "sync");
		break;
	default:
		ck(pinmm_offline_zone(f->m, zones[u8(f) % 4 + 1], &st), "offline_zone");
		break;
	}
}

static void run_one(struct fz *f)
{
	for (int ops = 0; ops < FUZZ_OPS && f->pos < f->n; ops++) {
		uint8_t op = u8(f);
		int pi = pick_proc(f);
		struct pinmm_proc *p;

		if (pi < 0) {	/* everybody exited: a new process */
			if (ck(pinmm_proc_create(f->m, &f->procs[0]), "proc_create"))
				return;
			pi = 0;
		}
		p = f->procs[pi];
		pinmm_set_current(p);
		switch (op % 20) {
		case 0:
			op_mmap(f, pi);
			break;
		case 1:
		case 2: {	/* arguments decoded in order, not in a call's */
			unsigned long a = pick_addr(f);
			size_t len = pick_len(f);

			if (op % 20 == 1)
				ck(pinmm_munmap(p, a, len), "munmap");
			else
				ck(pinmm_mprotect(p, a, len, u8(f) & 7), "mprotect");
			break;
		}
		case 3:
			op_madvise(f, pi);
			break;
		case 4: {
			int slot = -1;

			for (int k = 0; k < NPROC; k++)
				if (!f->procs[k])
					slot = k;
			if (slot >= 0)
				ck(pinmm_fork(p, &f->procs[slot]), "fork");
			if (slot >= 0 && f->procs[slot])
				f->pd[slot] = -1;
			break;
		}
		case 5:
			wait_dios(f, pi);
			pinmm_set_current(NULL);
			ck(pinmm_exit(p), "exit");
			proc_gone(f, pi);
			break;
		case 6: {
			unsigned long a = pick_addr(f);

			ck(pinmm_load(p, a, iobuf, u16(f) % (IO_MAX + 1)), "load");
			break;
		}
		case 7: {
			unsigned long a = pick_addr(f);

			ck(pinmm_store(p, a, iobuf, u16(f) % (IO_MAX + 1)), "store");
			break;
		}
		case 8:
		case 9:
		case 10:
		case 11:
			op_gup(f, pi, op % 20 - 8);
			break;
		case 12: {
			struct pinrec *r = &f->pins[u8(f) % NPIN];

			release_pins(r, u8(f));
			break;
		}
		case 13:
			op_file_open(f, pi);
			break;
		case 14:
		case 15:
			op_file_io(f, pi);
			break;
		case 16:
			op_dio(f, pi);
			break;
		case 17:
			op_rdma(f, pi);
			break;
		case 18:
			op_machine(f, pi);
			break;
		default:
			wait_dios(f, -1);
			break;
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	image_path = fuzz_scratch(0, "img");
	trace = getenv("PINMM_FUZZ_TRACE") != NULL;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const thp[] = { "never", "madvise", "always" };
	static const char *const tracking[] = { "bias", "exact", "mapcount" };
	static const char *const policy[] = { "linux", "legacy", "holdoff", "bounce", "lease",
					      "busyblocks" };
	static struct fz f;
	struct pinmm_config cfg;
	uint8_t c;
	int err;

	memset(&f, 0, sizeof(f));
	f.d = data;
	f.n = size;
	for (int i = 0; i < NPROC; i++)
		f.pd[i] = -1;
	for (int i = 0; i < NFD; i++)
		f.fds[i].fd = -1;
	for (int i = 0; i < NMR; i++)
		f.mrs[i].pd = -1;
	c = u8(&f);
	pinmm_config_default(&cfg);
	pinmm_config_set(&cfg, "ram", "64M");
	pinmm_config_set(&cfg, "quiet", "1");
	pinmm_config_set(&cfg, "pinfs.size", "1M");
	pinmm_config_set(&cfg, "holdoff_ms", "5");
	pinmm_config_set(&cfg, "lease_break_ms", "5");
	pinmm_config_set(&cfg, "thp", thp[c % 3]);
	pinmm_config_set(&cfg, "pin.tracking", tracking[c / 3 % 3]);
	pinmm_config_set(&cfg, "fs.pinned_policy", policy[c / 9 % 6]);
	if (c & 0x80)
		pinmm_config_set(&cfg, "zone.movable", "32M");
	snprintf(cfg.pinfs_image, sizeof(cfg.pinfs_image), "%s", image_path);
	unlink(image_path);
	err = pinmm_boot(&cfg, &f.m);
	if (err)
		fuzz_fail("boot: %d", err);
	if (pinmm_proc_create(f.m, &f.procs[0]))
		fuzz_fail("proc_create");
	run_one(&f);
	/* The caller's side of the contract: release what it holds. */
	wait_dios(&f, -1);
	for (int i = 0; i < NPIN; i++)
		release_pins(&f.pins[i], 0);
	pinmm_set_current(NULL);
	err = pinmm_audit(f.m);
	if (err)
		fuzz_fail("audit: %d (%ld errors)", err, pinmm_audit_errors(f.m));
	err = pinmm_shutdown(f.m);
	if (err)
		fuzz_fail("shutdown: %d", err);
	return 0;
}
