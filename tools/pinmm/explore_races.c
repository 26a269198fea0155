/* SPDX-License-Identifier: MIT */
/*
 * explore_races.c - the built-in race programs of `pinmm explore --race`
 * (doc/EXPLORE.md "The races"): each is a historical pin race of Linux,
 * written as a setup, two or more thread bodies and an oracle over the
 * public API, and each has a legacy.* configuration key that restores the
 * one decision its fix changed.  The explorer finds the interleaving in
 * legacy mode; with the fix no interleaving violates.
 *
 * Every program boots a small, quiet machine with no background threads
 * (writeback, ksmd, khugepaged, DIO engine, RDMA peer all off), except
 * kara-2018-flusher, whose writeback flusher thread is a participant of
 * the scheduler like the program's own threads (doc/EXPLORE.md 1).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pinmm/lease.h>

#include "explore_races.h"

#define PG	4096UL
#define ORIGINAL "ORIGINAL"
#define LEN	8

/*
 * A quiet 64M machine with the key/value pairs of @kv (NULL-terminated);
 * with @image, a pinfs on /data/ whose image file is removed once mounted
 * (the machine keeps it open), so that no run leaves a file behind.
 */
static int boot_kv(const char *const *kv, const char *image, struct pinmm **m)
{
	struct pinmm_config cfg;
	int err;

	pinmm_config_default(&cfg);
	if (pinmm_config_set(&cfg, "ram", "64M") || pinmm_config_set(&cfg, "quiet", "1") ||
	    pinmm_config_set(&cfg, "nr_cpus", "2"))
		return -EINVAL;
	for (; kv[0]; kv += 2)
		if (pinmm_config_set(&cfg, kv[0], kv[1]))
			return -EINVAL;
	if (image && (pinmm_config_set(&cfg, "pinfs.image", image) ||
		      pinmm_config_set(&cfg, "pinfs.size", "4M")))
		return -EINVAL;
	err = pinmm_boot(&cfg, m);
	if (image)
		unlink(image);
	return err;
}

/* A quiet 64M machine with @legacy_key set to @legacy. */
static int boot(const char *legacy_key, bool legacy, struct pinmm **m)
{
	const char *kv[] = { legacy_key, legacy ? "1" : "0", NULL };

	return boot_kv(kv, NULL, m);
}

/* A fresh pinfs image path for this run child. */
static const char *run_image(void)
{
	static char path[256];
	const char *dir = getenv("TMPDIR");

	snprintf(path, sizeof(path), "%s/pinmm-explore-%d.img", dir && *dir ? dir : "/tmp",
		 (int)getpid());
	unlink(path);
	return path;
}

/* A process with one private anonymous page holding ORIGINAL. */
static int proc_with_page(struct pinmm *m, struct pinmm_proc **p, unsigned long *addr)
{
	long a;
	int err = pinmm_proc_create(m, p);

	if (err)
		return err;
	a = pinmm_mmap(*p, 0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a < 0)
		return (int)a;
	*addr = (unsigned long)a;
	return pinmm_store(*p, *addr, ORIGINAL, LEN) == LEN ? 0 : -EFAULT;
}

/* pin_user_pages_fast(FOLL_WRITE) of one page of @p, as @p's thread. */
static int pin_fast(struct pinmm_proc *p, unsigned long addr, struct page **page)
{
	int ret;

	pinmm_set_current(p);
	ret = pinmm_pin_user_pages_fast(addr, 1, FOLL_WRITE, page);
	pinmm_set_current(NULL);
	return ret;
}

/* ------------------------------------------------------------------ */
/* (a) CVE-2020-29374: COW reuse decided by the mapcount                */

/*
 * The parent writes its page after fork; the child meanwhile takes a GUP
 * reference (vmsplice) on the shared page, unmaps it and reads through the
 * reference.  Once the child has unmapped, the mapcount is 1: legacy reuse
 * gives the parent the page the child still reads, so the child sees the
 * parent's later write.  The oracle: the child reads what was there at fork.
 */
struct cow_state {
	struct pinmm *m;
	struct pinmm_proc *parent, *child;
	unsigned long addr;
	long gup;
	char seen[LEN + 1];
};

static int cow_setup(bool legacy, void **state)
{
	static struct cow_state s;
	int err = boot("legacy.cow_mapcount", legacy, &s.m);

	if (!err)
		err = proc_with_page(s.m, &s.parent, &s.addr);
	if (!err)
		err = pinmm_fork(s.parent, &s.child);
	*state = &s;
	return err;
}

static void cow_thread(void *state, int idx)
{
	struct cow_state *s = state;
	struct mm_struct *mm = pinmm_proc_mm(s->child);
	struct page *page;
	char *kaddr;

	if (idx == 0) {
		pinmm_store(s->parent, s->addr, "SECRET!!", LEN);
		return;
	}
	pinmm_mmap_read_lock(mm);
	s->gup = pinmm_get_user_pages_remote(mm, s->addr, 1, 0, &page, NULL);
	pinmm_mmap_read_unlock(mm);
	if (s->gup != 1)
		return;
	pinmm_munmap(s->child, s->addr, PG);
	kaddr = pinmm_kmap_local_page(page);
	memcpy(s->seen, kaddr, LEN);
	pinmm_kunmap_local(kaddr);
	pinmm_put_page(page);
}

static int cow_check(void *state, char *msg, size_t len)
{
	struct cow_state *s = state;

	if (s->gup != 1) {
		snprintf(msg, len, "child's get_user_pages_remote returned %ld", s->gup);
		return 1;
	}
	if (memcmp(s->seen, ORIGINAL, LEN)) {
		snprintf(msg, len, "child read \"%.8s\" through its GUP reference, "
			 "written by the parent after fork", s->seen);
		return 1;
	}
	return 0;
}

static struct pinmm *cow_machine(void *state)
{
	return ((struct cow_state *)state)->m;
}

/* ------------------------------------------------------------------ */
/* (b) GUP-fast against fork's COW, without write_protect_seq           */

/*
 * One thread pins the parent's exclusive page with pin_user_pages_fast()
 * for write, the other forks.  Fork copies a page that is pinned when it
 * looks; GUP-fast that read the still-writable PTE before fork
 * write-protected it, and pins after fork looked, leaves a pin on a page
 * fork shares: the parent's next write copies away from it.  The oracle,
 * after both: the parent writes, then "DMA" writes through the pin; the
 * parent must read the DMA data.
 */
struct gf_state {
	struct pinmm *m;
	struct pinmm_proc *parent, *child;
	unsigned long addr;
	struct page *page;
	int pinned;
	int forked;
};

static int gf_setup(bool legacy, void **state)
{
	static struct gf_state s;
	int err = boot("legacy.gup_fast_no_seq", legacy, &s.m);

	if (!err)
		err = proc_with_page(s.m, &s.parent, &s.addr);
	*state = &s;
	return err;
}

static void gf_thread(void *state, int idx)
{
	struct gf_state *s = state;

	if (idx == 0)
		s->pinned = pin_fast(s->parent, s->addr, &s->page);
	else
		s->forked = pinmm_fork(s->parent, &s->child);
}

static int gf_check(void *state, char *msg, size_t len)
{
	struct gf_state *s = state;
	char seen[LEN + 1] = "";
	char *kaddr;

	if (s->pinned != 1 || s->forked) {
		snprintf(msg, len, "pin_user_pages_fast %d, fork %d", s->pinned, s->forked);
		return 1;
	}
	pinmm_store(s->parent, s->addr + 64, "P", 1);
	kaddr = pinmm_kmap_local_page(s->page);
	memcpy(kaddr, "DMA-DATA", LEN);
	pinmm_kunmap_local(kaddr);
	pinmm_load(s->parent, s->addr, seen, LEN);
	pinmm_unpin_user_page(s->page);
	if (memcmp(seen, "DMA-DATA", LEN)) {
		snprintf(msg, len, "parent reads \"%.8s\": its write copied the page away "
			 "from the pin GUP-fast took during fork", seen);
		return 1;
	}
	return 0;
}

static struct pinmm *gf_machine(void *state)
{
	return ((struct gf_state *)state)->m;
}

/* ------------------------------------------------------------------ */
/* (c) GUP-fast without the PTE recheck, against munmap                 */

/*
 * Process P has a populated page; thread 0 pins it with GUP-fast, thread
 * 1 unmaps it and then lets process V fault a page of its own (the page
 * allocator hands out the frame P just freed).  GUP-fast that read P's
 * PTE before the unmap and grabs its reference after the frame went to V
 * holds V's page: without the recheck it keeps it.  The oracle: a "DMA"
 * write through whatever was pinned must not appear in V's memory.
 */
struct rc_state {
	struct pinmm *m;
	struct pinmm_proc *p, *v;
	unsigned long addr, vaddr;
	struct page *page;
	int pinned;
};

static int rc_setup(bool legacy, void **state)
{
	static struct rc_state s;
	int err = boot("legacy.gup_fast_no_recheck", legacy, &s.m);
	long a;

	if (!err)
		err = proc_with_page(s.m, &s.p, &s.addr);
	if (!err)
		err = pinmm_proc_create(s.m, &s.v);
	if (!err) {
		a = pinmm_mmap(s.v, 0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		err = a < 0 ? (int)a : 0;
		s.vaddr = (unsigned long)a;
	}
	*state = &s;
	return err;
}

static void rc_thread(void *state, int idx)
{
	struct rc_state *s = state;

	if (idx == 0) {
		s->pinned = pin_fast(s->p, s->addr, &s->page);
	} else {
		pinmm_munmap(s->p, s->addr, PG);
		pinmm_store(s->v, s->vaddr, "VICTIM!!", LEN);
	}
}

static int rc_check(void *state, char *msg, size_t len)
{
	struct rc_state *s = state;
	char seen[LEN + 1] = "";
	char *kaddr;

	if (s->pinned != 1)
		return 0;	/* unmapped first: nothing pinned, nothing to check */
	kaddr = pinmm_kmap_local_page(s->page);
	memcpy(kaddr, "DMA-DATA", LEN);
	pinmm_kunmap_local(kaddr);
	pinmm_unpin_user_page(s->page);
	pinmm_load(s->v, s->vaddr, seen, LEN);
	if (memcmp(seen, "VICTIM!!", LEN)) {
		snprintf(msg, len, "another process reads \"%.8s\": GUP-fast pinned its "
			 "page, a reuse of the frame munmap freed", seen);
		return 1;
	}
	return 0;
}

static struct pinmm *rc_machine(void *state)
{
	return ((struct rc_state *)state)->m;
}

/* ------------------------------------------------------------------ */
/* (d) Kara 2018: DIO into a MAP_SHARED file page against writeback     */

/*
 * A file page of pinfs is mapped MAP_SHARED.  Thread 0 is an O_DIRECT read
 * into that mapping: it pins the page (FOLL_PIN, short-term), the device
 * writes the data, the completion dirties the page (set_page_dirty_lock())
 * and unpins it.  Thread 1 is the flusher and kswapd: sync(), then reclaim
 * (the background writeback thread is off; its work runs here).  Under
 * fs.pinned_policy=legacy a pin is a plain reference: writeback cleans the
 * pinned page and reclaim strips its block mapping; the completion then
 * dirties a page pinfs cannot write (pinfs.dirty_no_blocks=bug, ext4's
 * answer of 2018: an oops, the data dropped).  The oracle: after the
 * threads, sync and drop the cache; the file's first bytes, read back from
 * the disk, are the device's.
 */
#define DIO_DATA 'B'

struct kara_state {
	struct pinmm *m;
	struct pinmm_proc *p;
	int fd;
	unsigned long addr;
	int pinned;
	int dma;
};

/* @interval: the writeback flusher's period ("0": no flusher thread). */
static int kara_setup_wb(bool legacy, void **state, const char *interval)
{
	static struct kara_state s;
	static char buf[PG];
	const char *kv[] = { "fs.pinned_policy", legacy ? "legacy" : "linux",
			     "pinfs.dirty_no_blocks", "bug",
			     "writeback.interval_ms", interval, NULL };
	int err = boot_kv(kv, run_image(), &s.m);
	long a;

	*state = &s;
	if (!err)
		err = pinmm_proc_create(s.m, &s.p);
	if (err)
		return err;
	s.fd = pinmm_open(s.p, "/data/victim", O_RDWR | O_CREAT, 0644);
	if (s.fd < 0)
		return s.fd;
	memset(buf, 'A', PG);
	if (pinmm_pwrite(s.p, s.fd, buf, PG, 0) != (long)PG || pinmm_fsync(s.p, s.fd))
		return -EIO;
	a = pinmm_mmap(s.p, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, s.fd, 0);
	if (a < 0)
		return (int)a;
	s.addr = (unsigned long)a;
	return 0;
}

static int kara_setup(bool legacy, void **state)
{
	return kara_setup_wb(legacy, state, "0");
}

/*
 * kara-2018-flusher: the same race with the machine's own writeback
 * flusher (writeback.interval_ms) in place of thread 1's sync(): thread 2
 * of the schedule is the flusher, started at the mount in the setup; its
 * periodic sleep is a timer the strategy may fire (doc/EXPLORE.md 1).
 * The period's value does not matter under the scheduler.
 */
static int kara_wb_setup(bool legacy, void **state)
{
	return kara_setup_wb(legacy, state, "1000");
}

static void kara_thread(void *state, int idx)
{
	struct kara_state *s = state;
	static char data[PG];
	struct page *page;

	if (idx == 1) {
		pinmm_sync(s->m);		/* the flusher: cleans the page */
		pinmm_reclaim(s->m, 1000);	/* kswapd: may strip its blocks */
		return;
	}
	if (idx == 2) {				/* kara-2018-flusher: kswapd only */
		pinmm_reclaim(s->m, 1000);
		return;
	}
	s->pinned = pin_fast(s->p, s->addr, &page);	/* the DIO read starts */
	if (s->pinned != 1)
		return;
	memset(data, DIO_DATA, PG);
	s->dma = pinmm_dma_write(page, 0, data, PG);	/* the device's data */
	pinmm_unpin_user_pages_dirty_lock(&page, 1, true);	/* completion */
}

static int kara_check(void *state, char *msg, size_t len)
{
	struct kara_state *s = state;
	char seen[LEN + 1] = "";

	if (s->pinned != 1 || s->dma) {
		snprintf(msg, len, "DIO pin %d, device write %d", s->pinned, s->dma);
		return 1;
	}
	pinmm_munmap(s->p, s->addr, PG);
	pinmm_drop_caches(s->m);		/* sync; the page leaves the cache */
	if (pinmm_pread(s->p, s->fd, seen, LEN, 0) != LEN ||
	    memcmp(seen, "BBBBBBBB", LEN)) {
		snprintf(msg, len, "the disk holds \"%.8s\", not the DIO's data: "
			 "pinned_dirty_no_blocks %ld, oops %ld, lost_bytes %ld", seen,
			 pinmm_vmstat(s->m, "pinned_dirty_no_blocks"),
			 pinmm_vmstat(s->m, "oops"), pinmm_vmstat(s->m, "lost_bytes"));
		return 1;
	}
	return 0;
}

static struct pinmm *kara_machine(void *state)
{
	return ((struct kara_state *)state)->m;
}

/* kara-2018-flusher's threads: the DIO read, kswapd (the flusher is thread 2). */
static void kara_wb_thread(void *state, int idx)
{
	kara_thread(state, idx == 0 ? 0 : 2);
}

/* ------------------------------------------------------------------ */
/* (e) migration without the refcount freeze, against a lockless lookup */

/*
 * A tmpfs page is cached and mapped.  Thread 0 looks it up with the page
 * cache's lockless lookup and keeps the reference (find_get_page(), as
 * splice does); thread 1 migrates it.  Migration freezes the old page's
 * refcount under i_pages_lock before it points the cache at the copy, so
 * a speculative reference either stops the migration (taken before the
 * freeze) or fails and looks again (during it).  legacy.migrate_no_freeze
 * only compares the count: a lookup whose reference and recheck fall
 * between that check and the switch keeps the old page.  The oracle: when
 * migration succeeded, the looked-up page is the one cached now, and a
 * write through it is what the file reads.
 */
struct mig_state {
	struct pinmm *m;
	struct pinmm_proc *p;
	int fd;
	unsigned long addr;
	struct page *page;
	int found;
	int migrated;
};

static int mig_setup(bool legacy, void **state)
{
	static struct mig_state s;
	const char *kv[] = { "legacy.migrate_no_freeze", legacy ? "1" : "0",
			     "zone.movable", "16M", NULL };	/* a zone to move to */
	int err = boot_kv(kv, NULL, &s.m);
	char seen[LEN];
	long a;

	*state = &s;
	if (!err)
		err = pinmm_proc_create(s.m, &s.p);
	if (err)
		return err;
	s.fd = pinmm_open(s.p, "/dev/shm/migrating", O_RDWR | O_CREAT, 0644);
	if (s.fd < 0)
		return s.fd;
	if (pinmm_pwrite(s.p, s.fd, ORIGINAL, LEN, 0) != LEN)
		return -EIO;
	a = pinmm_mmap(s.p, 0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, s.fd, 0);
	if (a < 0)
		return (int)a;
	s.addr = (unsigned long)a;
	return pinmm_load(s.p, s.addr, seen, LEN) == LEN ? 0 : -EFAULT;	/* mapped */
}

static void mig_thread(void *state, int idx)
{
	struct mig_state *s = state;

	if (idx == 0)
		s->found = pinmm_find_get_page(s->p, s->fd, 0, &s->page);
	else
		s->migrated = pinmm_migrate_page(s->p, s->addr, NULL);
}

static int mig_check(void *state, char *msg, size_t len)
{
	struct mig_state *s = state;
	unsigned long pfn, cached_pfn = 0;
	struct page *cached;
	char seen[LEN + 1] = "";
	char *kaddr;

	if (s->found) {
		snprintf(msg, len, "find_get_page returned %d on a cached page", s->found);
		return 1;
	}
	pfn = pinmm_page_to_pfn(s->page);
	if (!pinmm_find_get_page(s->p, s->fd, 0, &cached)) {
		cached_pfn = pinmm_page_to_pfn(cached);
		pinmm_put_page(cached);
	}
	kaddr = pinmm_kmap_local_page(s->page);
	memcpy(kaddr, "LOOKUP!!", LEN);
	pinmm_kunmap_local(kaddr);
	pinmm_put_page(s->page);
	pinmm_pread(s->p, s->fd, seen, LEN, 0);
	if (s->migrated == 0 && (pfn != cached_pfn || memcmp(seen, "LOOKUP!!", LEN))) {
		snprintf(msg, len, "the lookup kept pfn %#lx, migration cached pfn %#lx: "
			 "the file reads \"%.8s\", the write through the reference is lost",
			 pfn, cached_pfn, seen);
		return 1;
	}
	return 0;
}

static struct pinmm *mig_machine(void *state)
{
	return ((struct mig_state *)state)->m;
}

const struct explore_race explore_races[] = {
	{
		.prog = { .name = "cve-2020-29374", .nr_threads = 2, .setup = cow_setup,
			  .thread = cow_thread, .check = cow_check, .machine = cow_machine },
		.legacy_key = "legacy.cow_mapcount",
		.summary = "COW reuse by mapcount: the child reads the parent's "
			   "post-fork write through a GUP reference",
	},
	{
		.prog = { .name = "gup-fast-fork", .nr_threads = 2, .setup = gf_setup,
			  .thread = gf_thread, .check = gf_check, .machine = gf_machine },
		.legacy_key = "legacy.gup_fast_no_seq",
		.summary = "GUP-fast pins during fork's COW without write_protect_seq",
	},
	{
		.prog = { .name = "gup-fast-recheck", .nr_threads = 2, .setup = rc_setup,
			  .thread = rc_thread, .check = rc_check, .machine = rc_machine },
		.legacy_key = "legacy.gup_fast_no_recheck",
		.summary = "GUP-fast keeps a reference on a frame munmap freed and "
			   "another process reused",
	},
	{
		.prog = { .name = "kara-2018", .nr_threads = 2, .setup = kara_setup,
			  .thread = kara_thread, .check = kara_check, .machine = kara_machine },
		.legacy_key = "fs.pinned_policy=legacy",
		.summary = "DIO into a MAP_SHARED pinfs page while writeback and reclaim "
			   "strip it: the device's data never reaches disk",
	},
	{
		.prog = { .name = "kara-2018-flusher", .nr_threads = 2, .setup = kara_wb_setup,
			  .thread = kara_wb_thread, .check = kara_check,
			  .machine = kara_machine },
		.legacy_key = "fs.pinned_policy=legacy",
		.summary = "kara-2018 with the writeback flusher thread as a scheduled "
			   "participant (thread c) instead of a sync() call",
	},
	{
		.prog = { .name = "migrate-no-freeze", .nr_threads = 2, .setup = mig_setup,
			  .thread = mig_thread, .check = mig_check, .machine = mig_machine },
		.legacy_key = "legacy.migrate_no_freeze",
		.summary = "a lockless page-cache lookup keeps the page migration "
			   "replaced: a reference on a stale copy",
	},
	{ .prog = { .name = NULL } },
};

const struct explore_race *explore_race_find(const char *name)
{
	for (const struct explore_race *r = explore_races; r->prog.name; r++)
		if (!strcmp(r->prog.name, name))
			return r;
	return NULL;
}
