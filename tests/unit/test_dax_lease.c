/* SPDX-License-Identifier: MIT */
/*
 * test_dax_lease.c - layout leases on the DAX mount (/dax/), where Weiny's
 * 2019 RFC proposed them: under fs.pinned_policy=lease a long-term pin of
 * fsdax pages needs a lease on the file (slow GUP, GUP-fast and io_uring
 * registration alike, read-only pins too); truncate and hole punch break
 * the lease through the same break/revoke path as the page cache; a
 * holder that releases in time lets the blocks go at once, one that does
 * not is revoked at lease_break_ms, its pins are fenced (later device
 * reads and writes refused and counted), and the truncate completes while
 * the blocks stay allocated until its last unpin, so no other file can
 * get them meanwhile.
 * Outside the lease policy fsdax keeps Linux's -EOPNOTSUPP.
 */
#include "dax_helpers.h"

#include <pthread.h>
#include <unistd.h>
#include <sys/uio.h>

#include <pinmm/io_uring.h>
#include <pinmm/lease.h>

static struct pinmm *lease_boot(const char *policy, const char *break_ms)
{
	char pol[64], brk[64];

	snprintf(pol, sizeof(pol), "fs.pinned_policy=%s", policy);
	snprintf(brk, sizeof(brk), "lease_break_ms=%s", break_ms);
	/* A plain pin left on a frame would make DAX truncate wait this long. */
	return test_boot("ram=256M", "debug=2", "quiet=1", "pmem=16M", pol, brk,
			 "dax.truncate_wait_ms=3000", NULL);
}

/* IORING_REGISTER_BUFFERS of @len bytes at @addr; unregistered again on success. */
static int uring_register(struct pinmm_proc *p, unsigned long addr, size_t len)
{
	struct iovec iov = { .iov_base = (void *)addr, .iov_len = len };
	int ring = pinmm_uring_create(p, 8), r;

	assert_true(ring >= 0);
	r = pinmm_uring_register_buffers(p, ring, &iov, 1);
	if (!r)
		assert_int_equal(pinmm_uring_unregister_buffers(p, ring), 0);
	assert_int_equal(pinmm_uring_destroy(p, ring), 0);
	return r;
}

/* The page of /dax/ file @fd (@pages long) whose block is frame @pg, or -1. */
static long file_page_of(struct pinmm_proc *p, int fd, long pages, struct page *pg)
{
	long a = pinmm_mmap(p, 0, (size_t)pages * PG, PROT_READ, MAP_SHARED, fd, 0), found = -1;

	assert_true(a > 0);
	for (long i = 0; i < pages && found < 0; i++) {
		unsigned long va = (unsigned long)a + (unsigned long)i * PG;

		assert_int_equal(test_load8(p, va), 'O');
		if (gh_info(p, va).pfn == page_to_pfn(pg))
			found = i;
	}
	assert_int_equal(pinmm_munmap(p, (unsigned long)a, (size_t)pages * PG), 0);
	return found;
}

/*
 * Fill the DAX device with /dax/<name>, page by page of 'O', until it is
 * full; none of its blocks may be the one behind the fenced frame @pg,
 * whose block the revoked holder still pins.  Return: the descriptor;
 * *@pages the number of pages written.
 */
static int fill_device(struct pinmm_proc *p, const char *name, struct page *pg, long *pages)
{
	char path[64], buf[4096];
	long o;
	int fd;

	snprintf(path, sizeof(path), "/dax/%s", name);
	fd = pinmm_open(p, path, O_CREAT | O_RDWR, 0644);
	assert_true(fd >= 0);
	memset(buf, 'O', sizeof(buf));
	for (o = 0; o < (long)(PMEM_PAGES * PG); o += (long)PG)
		if (pinmm_pwrite(p, fd, buf, PG, o) != (long)PG)
			break;
	assert_true(o > 0);
	assert_true(o < (long)(PMEM_PAGES * PG));	/* it did run out of blocks */
	*pages = o / (long)PG;
	if (file_page_of(p, fd, *pages, pg) >= 0)
		fail_msg("the block of revoked pfn %#lx was reused while still pinned",
			 page_to_pfn(pg));
	return fd;
}

/*
 * The revoked holder's last unpin freed the block behind @pg: the full
 * device has exactly @held more free blocks, and the next page of
 * /dax/<name> (@fd, @pages written) can use it.
 */
static void block_back(struct pinmm *m, struct pinmm_proc *p, int fd, long pages,
		       struct page *pg, uint64_t held)
{
	char buf[4096];

	assert_int_equal(gh_vm(m, "busy_blocks"), 0);
	assert_int_equal(gh_vm(m, "busy_blocks_released"), (long)held);
	assert_int_equal(free_blocks(m), held);
	memset(buf, 'O', sizeof(buf));
	for (uint64_t i = 0; i < held; i++)
		assert_int_equal(pinmm_pwrite(p, fd, buf, PG, (pages + (long)i) * (long)PG),
				 (long)PG);
	/* reused now, by the other file */
	assert_true(file_page_of(p, fd, pages + (long)held, pg) >= pages);
	assert_int_equal(free_blocks(m), 0);
}

struct brk {
	int calls;		/* atomic: the releaser thread polls it */
	bool release;		/* put the lease from the callback */
	struct pinmm_lease *l;
	int delay_ms;		/* releaser: put this long after the break */
	int released;
};

static void on_break(struct pinmm_lease *l, void *arg)
{
	struct brk *b = arg;

	__atomic_add_fetch(&b->calls, 1, __ATOMIC_SEQ_CST);
	if (b->release)
		assert_int_equal(pinmm_lease_put(l), 0);
}

/* A holder that releases @delay_ms after its break callback ran. */
static void *release_after_break(void *arg)
{
	struct brk *b = arg;
	struct timespec tick = { 0, 1000000L }, d = { 0, b->delay_ms * 1000000L };
	double t0 = now_ms();

	while (!__atomic_load_n(&b->calls, __ATOMIC_SEQ_CST)) {
		if (now_ms() - t0 > 5000)
			return NULL;		/* the test fails on b->released */
		nanosleep(&tick, NULL);
	}
	nanosleep(&d, NULL);
	b->released = pinmm_lease_put(b->l) == 0;
	return NULL;
}

/*
 * Without a lease every long-term pin of the DAX file is refused (-EPERM):
 * slow GUP, GUP-fast (falls back to the slow path, which refuses), read-only
 * long-term pins, io_uring registration, and a lease held by another
 * process does not help.  With a lease the pins are taken in place.
 */
static void test_dax_lease_required(void **state)
{
	struct pinmm *m = lease_boot("lease", "2000");
	struct pinmm_proc *q, *p = test_proc(m);
	struct pinmm_lease *l, *lq;
	struct page *pages[2];
	unsigned long addr;
	char buf[16];
	long fb;
	int fd, qfd, tfd;

	(void)state;
	assert_int_equal(pinmm_proc_create(m, &q), 0);
	fd = dax_file(p, "req", 2, &addr);
	qfd = pinmm_open(q, "/dax/req", O_RDWR, 0);
	assert_true(qfd >= 0);
	assert_int_equal(pinmm_lease_get(q, qfd, NULL, NULL, &lq), 0);
	test_store8(p, addr, 'x');
	test_store8(p, addr + PG, 'y');

	fb = gh_vm(m, "gup_fast_fallback");
	assert_int_equal(pin_user_pages_fast(addr, 2, FOLL_WRITE | FOLL_LONGTERM, pages), -EPERM);
	assert_true(gh_vm(m, "gup_fast_fallback") > fb);
	assert_int_equal(gh_pup(p, addr, 2, FOLL_WRITE | FOLL_LONGTERM, pages), -EPERM);
	assert_int_equal(gh_pup(p, addr, 2, FOLL_LONGTERM, pages), -EPERM);
	assert_int_equal(pin_user_pages_fast(addr, 1, FOLL_LONGTERM, pages), -EPERM);
	assert_int_equal(uring_register(p, addr, 2 * PG), -EPERM);
	assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"), gh_vm(m, "nr_foll_pin_released"));
	assert_int_equal(gh_info(p, addr).refcount, 1);
	/* Short-term pins need no lease. */
	assert_int_equal(pin_user_pages_fast(addr, 2, FOLL_WRITE, pages), 2);
	unpin_user_pages(pages, 2);

	/* The lease: tmpfs files cannot have one, DAX files can. */
	tfd = pinmm_open(p, "/tmp/t", O_RDWR | O_CREAT, 0644);
	assert_int_equal(pinmm_lease_get(p, tfd, NULL, NULL, &l), -EINVAL);
	assert_int_equal(pinmm_lease_get(p, fd, NULL, NULL, &l), 0);
	assert_int_equal(pinmm_pin_user_pages_leased(l, addr, 2, FOLL_WRITE, pages), 2);
	for (int i = 0; i < 2; i++) {
		assert_true(pfn_in_pmem(page_to_pfn(pages[i])));	/* the block itself */
		assert_int_equal(page_to_pfn(pages[i]), gh_info(p, addr + (unsigned long)i * PG).pfn);
		assert_true(folio_maybe_dma_pinned(page_folio(pages[i])));
	}
	assert_int_equal(gh_vm(m, "longterm_migrate"), 0);
	assert_int_equal(pinmm_dma_write(pages[1], 0, "device", 7), 0);
	assert_int_equal(pinmm_pread(p, fd, buf, 7, PG), 7);
	assert_string_equal(buf, "device");
	assert_int_equal(pinmm_pin_user_pages_leased(l, addr, 1, 0, pages), 1);	/* read-only */
	/* The lease covers its own pins only: io_uring still cannot pin. */
	assert_int_equal(uring_register(p, addr, PG), -EPERM);
	assert_int_equal(pinmm_lease_put(l), 0);
	assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"), gh_vm(m, "nr_foll_pin_released"));
	assert_int_equal(gh_info(p, addr).refcount, 1);

	assert_int_equal(pinmm_lease_put(lq), 0);
	assert_int_equal(pinmm_munmap(p, addr, 2 * PG), 0);
	assert_int_equal(gh_vm(m, "nr_dax_busy"), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(pinmm_close(p, tfd), 0);
	assert_int_equal(pinmm_close(q, qfd), 0);
	test_shutdown_clean(m);
}

/* Truncate breaks the lease; the callback releases it: no wait, no revoke. */
static void test_dax_lease_truncate_released(void **state)
{
	struct pinmm *m = lease_boot("lease", "2000");
	struct pinmm_proc *p = test_proc(m);
	uint64_t free0 = free_blocks(m);
	struct brk b = { .release = true };
	struct pinmm_lease *l;
	struct page *pages[3];
	unsigned long addr;
	double dt;
	int fd;

	(void)state;
	fd = dax_file(p, "trunc-ok", 3, &addr);
	assert_int_equal(pinmm_lease_get(p, fd, on_break, &b, &l), 0);
	assert_int_equal(pinmm_pin_user_pages_leased(l, addr, 3, FOLL_WRITE, pages), 3);
	dt = now_ms();
	assert_int_equal(pinmm_ftruncate(p, fd, PG), 0);
	dt = now_ms() - dt;
	assert_true(dt < 1000);
	assert_int_equal(b.calls, 1);
	assert_int_equal(gh_vm(m, "lease_breaks"), 1);
	assert_int_equal(gh_vm(m, "lease_revocations"), 0);
	assert_int_equal(gh_vm(m, "dax_truncate_timeouts"), 0);
	assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"), gh_vm(m, "nr_foll_pin_released"));
	assert_int_equal(free_blocks(m), free0 - 1);
	assert_int_equal(test_load8(p, addr), 'a');
	print_message("# dax lease: truncate with a releasing holder took %.1f ms\n", dt);

	assert_int_equal(pinmm_munmap(p, addr, 3 * PG), 0);
	assert_int_equal(gh_vm(m, "nr_dax_busy"), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

/*
 * Truncate breaks the lease; the holder ignores it: revoked at the
 * deadline, the truncate completes although the frames are still pinned,
 * but their blocks stay allocated (busy_blocks) until the last unpin: a
 * file that fills the device never gets them.  The revoked holder's device
 * reads and writes are refused and counted.  After the holder lets go the
 * blocks are free and reusable.
 */
static void test_dax_lease_truncate_revoked(void **state)
{
	struct pinmm *m = lease_boot("lease", "100");
	struct pinmm_proc *p = test_proc(m);
	uint64_t free0 = free_blocks(m);
	struct brk b = { .release = false };
	char late[4096], got[4096];
	struct pinmm_lease *l;
	struct page *pages[2];
	unsigned long addr;
	long filled;
	double dt;
	int fd, ofd;

	(void)state;
	memset(late, 'L', sizeof(late));
	fd = dax_file(p, "victim", 2, &addr);
	assert_int_equal(pinmm_lease_get(p, fd, on_break, &b, &l), 0);
	assert_int_equal(pinmm_pin_user_pages_leased(l, addr, 2, FOLL_WRITE, pages), 2);
	assert_int_equal(pinmm_dma_write(pages[1], 0, "before", 7), 0);
	assert_int_equal(pinmm_dma_read(pages[1], 0, got, 7), 0);
	assert_string_equal(got, "before");

	dt = now_ms();
	assert_int_equal(pinmm_ftruncate(p, fd, 0), 0);	/* waits, then revokes */
	dt = now_ms() - dt;
	assert_true(dt >= 90);
	assert_true(dt < 2000);			/* never dax.truncate_wait_ms */
	assert_int_equal(b.calls, 1);
	assert_int_equal(pinmm_lease_state(l), PINMM_LEASE_REVOKED);
	assert_int_equal(gh_vm(m, "lease_revocations"), 1);
	assert_int_equal(gh_vm(m, "dax_truncate_timeouts"), 0);
	assert_int_equal(pinmm_fstat_size(p, fd), 0);
	/* Out of the file, not free: held under the fenced pins. */
	assert_int_equal(free_blocks(m), free0 - 2);
	assert_int_equal(gh_vm(m, "busy_blocks"), 2);
	assert_int_equal(pinmm_pin_user_pages_leased(l, addr, 1, FOLL_WRITE, pages), -EAGAIN);

	/* The revoked holder's device can neither write nor read the frame. */
	assert_int_equal(pinmm_dma_write(pages[1], 0, late, sizeof(late)), -EPERM);
	assert_int_equal(gh_vm(m, "lease_fenced_writes"), 1);
	assert_int_equal(gh_vm(m, "lease_fenced_bytes"), (long)PG);
	memset(got, 0, sizeof(got));
	assert_int_equal(pinmm_dma_read(pages[1], 0, got, sizeof(got)), -EPERM);
	assert_int_equal(gh_vm(m, "lease_fenced_reads"), 1);
	assert_int_equal(got[0], 0);			/* nothing copied */

	/* Another file fills the device: it never gets the held blocks. */
	ofd = fill_device(p, "other", pages[1], &filled);
	assert_int_equal(file_page_of(p, ofd, filled, pages[0]), -1);
	assert_int_equal(free_blocks(m), 0);
	assert_int_equal(pinmm_audit(m), 0);	/* a disowned frame, still pinned */
	print_message("# dax lease: truncate waited %.0f ms, revoked; fenced writes %ld "
		      "reads %ld; blocks held %ld\n", dt, gh_vm(m, "lease_fenced_writes"),
		      gh_vm(m, "lease_fenced_reads"), gh_vm(m, "busy_blocks"));

	/* The last unpin frees the blocks. */
	assert_int_equal(pinmm_lease_put(l), 0);
	assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"), gh_vm(m, "nr_foll_pin_released"));
	block_back(m, p, ofd, filled, pages[1], 2);
	assert_int_equal(pinmm_munmap(p, addr, 2 * PG), 0);
	assert_int_equal(gh_vm(m, "nr_dax_busy"), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(pinmm_close(p, ofd), 0);
	test_shutdown_clean(m);
}

/* Hole punch breaks the lease; the holder releases 30 ms later, in time. */
static void test_dax_lease_punch_released(void **state)
{
	struct pinmm *m = lease_boot("lease", "2000");
	struct pinmm_proc *p = test_proc(m);
	uint64_t free0 = free_blocks(m);
	struct brk b = { .release = false, .delay_ms = 30 };
	struct page *pg;
	unsigned long addr;
	pthread_t th;
	double dt;
	int fd;

	(void)state;
	fd = dax_file(p, "punch-ok", 3, &addr);
	assert_int_equal(pinmm_lease_get(p, fd, on_break, &b, &b.l), 0);
	assert_int_equal(pinmm_pin_user_pages_leased(b.l, addr + PG, 1, FOLL_WRITE, &pg), 1);
	assert_int_equal(pthread_create(&th, NULL, release_after_break, &b), 0);
	dt = now_ms();
	assert_int_equal(pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					 PG, PG), 0);
	dt = now_ms() - dt;
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(b.released);
	assert_true(dt >= 25);			/* it waited for the holder */
	assert_true(dt < 1500);			/* and not for the deadline */
	assert_int_equal(gh_vm(m, "lease_breaks"), 1);
	assert_int_equal(gh_vm(m, "lease_revocations"), 0);
	assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"), gh_vm(m, "nr_foll_pin_released"));
	assert_int_equal(free_blocks(m), free0 - 2);
	assert_int_equal(test_load8(p, addr), 'a');
	assert_int_equal(test_load8(p, addr + PG), 0);		/* the hole */
	assert_int_equal(test_load8(p, addr + 2 * PG), 'c');
	print_message("# dax lease: punch waited %.0f ms for a holder releasing after 30 ms\n",
		      dt);

	assert_int_equal(pinmm_munmap(p, addr, 3 * PG), 0);
	assert_int_equal(gh_vm(m, "nr_dax_busy"), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

/*
 * Hole punch with a holder that ignores the break: revoked, the page's
 * block held (never reused while pinned), the late device write and read
 * refused; the block freed at the last unpin.  A lease on
 * another file is not broken.
 */
static void test_dax_lease_punch_revoked(void **state)
{
	struct pinmm *m = lease_boot("lease", "100");
	struct pinmm_proc *p = test_proc(m);
	uint64_t free0 = free_blocks(m);
	struct brk b = { .release = false }, b2 = { .release = false };
	struct pinmm_lease *l, *l2;
	struct page *pg, *pg2;
	char got[4096];
	unsigned long addr, addr2;
	long filled;
	double dt;
	int fd, fd2, ofd;

	(void)state;
	fd = dax_file(p, "punch", 3, &addr);
	fd2 = dax_file(p, "bystander", 1, &addr2);
	assert_int_equal(pinmm_lease_get(p, fd, on_break, &b, &l), 0);
	assert_int_equal(pinmm_lease_get(p, fd2, on_break, &b2, &l2), 0);
	assert_int_equal(pinmm_pin_user_pages_leased(l, addr + PG, 1, FOLL_WRITE, &pg), 1);
	assert_int_equal(pinmm_pin_user_pages_leased(l2, addr2, 1, FOLL_WRITE, &pg2), 1);

	dt = now_ms();
	assert_int_equal(pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					 PG, PG), 0);
	dt = now_ms() - dt;
	assert_true(dt >= 90);
	assert_true(dt < 2000);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b2.calls, 0);
	assert_int_equal(pinmm_lease_state(l), PINMM_LEASE_REVOKED);
	assert_int_equal(pinmm_lease_state(l2), PINMM_LEASE_ACTIVE);
	assert_int_equal(gh_vm(m, "lease_revocations"), 1);
	/* 2 left of punch, 1 of bystander, 1 held under the fenced pin */
	assert_int_equal(free_blocks(m), free0 - 4);
	assert_int_equal(gh_vm(m, "busy_blocks"), 1);
	assert_int_equal(pinmm_fstat_size(p, fd), 3 * PG);

	assert_int_equal(pinmm_dma_write(pg, 100, "late", 4), -EPERM);
	assert_int_equal(gh_vm(m, "lease_fenced_writes"), 1);
	assert_int_equal(gh_vm(m, "lease_fenced_bytes"), 4);
	assert_int_equal(pinmm_dma_read(pg, 0, got, 16), -EPERM);
	assert_int_equal(gh_vm(m, "lease_fenced_reads"), 1);
	ofd = fill_device(p, "other", pg, &filled);
	assert_int_equal(free_blocks(m), 0);
	assert_int_equal(pinmm_audit(m), 0);
	/* The bystander's pin is not fenced. */
	assert_int_equal(pinmm_dma_write(pg2, 0, "fine", 4), 0);
	assert_int_equal(gh_vm(m, "lease_fenced_writes"), 1);
	assert_int_equal(test_load8(p, addr2), 'f');
	assert_int_equal(test_load8(p, addr), 'a');
	assert_int_equal(test_load8(p, addr + 2 * PG), 'c');

	assert_int_equal(pinmm_dma_read(pg2, 0, got, 4), 0);
	assert_int_equal(gh_vm(m, "lease_fenced_reads"), 1);

	assert_int_equal(pinmm_lease_put(l), 0);
	block_back(m, p, ofd, filled, pg, 1);
	assert_int_equal(pinmm_lease_put(l2), 0);
	assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"), gh_vm(m, "nr_foll_pin_released"));
	assert_int_equal(pinmm_munmap(p, addr, 3 * PG), 0);
	assert_int_equal(pinmm_munmap(p, addr2, PG), 0);
	assert_int_equal(gh_vm(m, "nr_dax_busy"), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(pinmm_close(p, fd2), 0);
	assert_int_equal(pinmm_close(p, ofd), 0);
	test_shutdown_clean(m);
}

/* Outside the lease policy fsdax keeps Linux's answer: no leases, -EOPNOTSUPP. */
static void test_dax_lease_outside_policy(void **state)
{
	static const char *const policies[] = { "linux", "legacy", "holdoff", "busyblocks" };

	(void)state;
	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
		struct pinmm *m = lease_boot(policies[i], "100");
		struct pinmm_proc *p = test_proc(m);
		struct pinmm_lease *l;
		struct page *pg;
		unsigned long addr;
		int fd = dax_file(p, "pol", 1, &addr);

		assert_int_equal(pinmm_lease_get(p, fd, NULL, NULL, &l), -EOPNOTSUPP);
		assert_int_equal(gh_pup(p, addr, 1, FOLL_WRITE | FOLL_LONGTERM, &pg), -EOPNOTSUPP);
		assert_int_equal(gh_pup(p, addr, 1, FOLL_LONGTERM, &pg), -EOPNOTSUPP);
		assert_int_equal(pin_user_pages_fast(addr, 1, FOLL_WRITE | FOLL_LONGTERM, &pg),
				 -EOPNOTSUPP);
		assert_int_equal(uring_register(p, addr, PG), -EOPNOTSUPP);
		assert_int_equal(pinmm_munmap(p, addr, PG), 0);
		assert_int_equal(pinmm_close(p, fd), 0);
		test_shutdown_clean(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dax_lease_required),
		cmocka_unit_test(test_dax_lease_truncate_released),
		cmocka_unit_test(test_dax_lease_truncate_revoked),
		cmocka_unit_test(test_dax_lease_punch_released),
		cmocka_unit_test(test_dax_lease_punch_revoked),
		cmocka_unit_test(test_dax_lease_outside_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
