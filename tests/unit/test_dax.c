/* SPDX-License-Identifier: MIT */
/*
 * test_dax.c - pinfs in DAX mode at /dax/ on the pmem region: file pages
 * are the device frames themselves (no page cache), faults map them with
 * devmap entries, truncate and hole punch wait for pinned frames up to
 * dax.truncate_wait_ms, FOLL_LONGTERM is refused (under the lease policy
 * it needs a lease: test_dax_lease.c), GUP-fast leaves long-term pins of
 * devmap pages to the slow path, private mappings copy on write, and
 * shutdown finds every frame idle.
 */
#include "dax_helpers.h"

#include <pthread.h>
#include <unistd.h>

static struct pinmm *dax_boot(const char *extra)
{
	return extra ? test_boot("ram=256M", "debug=2", "quiet=1", "pmem=64M", extra, NULL) :
		       test_boot("ram=256M", "debug=2", "quiet=1", "pmem=64M", NULL);
}

static void test_dax_read_write(void **state)
{
	struct pinmm *m = dax_boot(NULL);
	struct pinmm_proc *p = test_proc(m);
	uint64_t free0 = free_blocks(m);
	char in[10000], out[10000];
	int fd;

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)(i * 7);
	fd = pinmm_open(p, "/dax/rw", O_CREAT | O_RDWR, 0644);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_pwrite(p, fd, in, sizeof(in), 100), sizeof(in));
	assert_int_equal(pinmm_fstat_size(p, fd), 10100);
	memset(out, 0, sizeof(out));
	assert_int_equal(pinmm_pread(p, fd, out, sizeof(out), 100), sizeof(out));
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(pinmm_pread(p, fd, out, 100, 0), 100);
	for (int i = 0; i < 100; i++)
		assert_int_equal(out[i], 0);
	assert_int_equal(free_blocks(m), free0 - 3);
	assert_int_equal(gh_vm(m, "nr_file_pages"), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(pinmm_unlink(p, "/dax/rw"), 0);
	assert_int_equal(free_blocks(m), free0);
	test_shutdown_clean(m);
}

static void test_dax_mmap_shared(void **state)
{
	struct pinmm *m = dax_boot(NULL);
	struct pinmm_proc *p = test_proc(m);
	long file0 = gh_vm(m, "nr_file_pages");
	struct pinmm_page_info info;
	unsigned long addr;
	char buf[16];
	int fd;

	(void)state;
	fd = dax_file(p, "shared", 4, &addr);
	gh_store(p, addr + PG + 10, "through-mmap");
	info = gh_info(p, addr + PG);
	assert_true(info.present);
	assert_string_equal(info.zone, "device");
	assert_true(pfn_in_pmem(info.pfn));
	assert_false(info.anon);
	assert_int_equal(info.mapcount, 1);
	assert_int_equal(info.refcount, 1);
	assert_int_equal(gh_vm(m, "nr_file_pages"), file0);
	assert_int_equal(gh_vm(m, "nr_dax_busy"), 1);
	assert_true(gh_vm(m, "dax_fault") >= 1);
	/* The store is in the frame: pread sees it. */
	assert_int_equal(pinmm_pread(p, fd, buf, 13, PG + 10), 13);
	assert_string_equal(buf, "through-mmap");
	/* And a write() is seen through the mapping. */
	assert_int_equal(pinmm_pwrite(p, fd, "by-write", 9, 3 * PG), 9);
	gh_expect(p, addr + 3 * PG, "by-write");
	/* The frame is the storage: it never migrates. */
	assert_int_equal(pinmm_migrate_page(p, addr + PG, "normal"), -EBUSY);
	assert_int_equal(gh_info(p, addr + PG).pfn, info.pfn);
	assert_int_equal(pinmm_audit(m), 0);
	assert_int_equal(pinmm_munmap(p, addr, 4 * PG), 0);
	assert_int_equal(gh_vm(m, "nr_dax_busy"), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

static void test_dax_truncate_unpinned(void **state)
{
	struct pinmm *m = dax_boot(NULL);
	struct pinmm_proc *p = test_proc(m);
	uint64_t free0 = free_blocks(m);
	unsigned long addr;
	char c;
	int fd;

	(void)state;
	fd = dax_file(p, "trunc", 8, &addr);
	for (int i = 0; i < 8; i++)
		test_store8(p, addr + (unsigned long)i * PG, 'x');
	assert_int_equal(free_blocks(m), free0 - 8);
	assert_int_equal(pinmm_ftruncate(p, fd, 2 * PG + 100), 0);
	assert_int_equal(free_blocks(m), free0 - 3);
	assert_int_equal(pinmm_load(p, addr + 5 * PG, &c, 1), -EFAULT);	/* SIGBUS */
	assert_int_equal(test_load8(p, addr + 2 * PG), 'x');
	assert_int_equal(test_load8(p, addr + 2 * PG + 100), 0);	/* zeroed tail */
	assert_int_equal(gh_vm(m, "dax_truncate_waits"), 0);
	/* Hole punch of pages 0-1. */
	assert_int_equal(pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
					 2 * PG), 0);
	assert_int_equal(free_blocks(m), free0 - 1);
	assert_int_equal(pinmm_munmap(p, addr, 8 * PG), 0);
	assert_int_equal(pinmm_ftruncate(p, fd, 0), 0);
	assert_int_equal(free_blocks(m), free0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

struct unpinner {
	struct page *page;
	int delay_ms;
};

static void *unpin_later(void *arg)
{
	struct unpinner *u = arg;
	struct timespec ts = { 0, u->delay_ms * 1000000L };

	nanosleep(&ts, NULL);
	unpin_user_page(u->page);
	return NULL;
}

static void test_dax_truncate_waits_for_pin(void **state)
{
	struct pinmm *m = dax_boot(NULL);
	struct pinmm_proc *p = test_proc(m);
	uint64_t free0 = free_blocks(m);
	struct unpinner u = { .delay_ms = 50 };
	unsigned long addr;
	pthread_t th;
	double t0;
	int fd;

	(void)state;
	fd = dax_file(p, "wait", 2, &addr);
	assert_int_equal(pin_user_pages_fast(addr + PG, 1, FOLL_WRITE, &u.page), 1);
	assert_true(pfn_in_pmem(page_to_pfn(u.page)));
	assert_true(folio_maybe_dma_pinned(page_folio(u.page)));
	assert_int_equal(pthread_create(&th, NULL, unpin_later, &u), 0);
	t0 = now_ms();
	assert_int_equal(pinmm_ftruncate(p, fd, 0), 0);
	assert_true(now_ms() - t0 >= 40);
	TEST_JOIN(th, "the delayed unpinner");
	assert_int_equal(gh_vm(m, "dax_truncate_waits"), 1);
	assert_int_equal(gh_vm(m, "dax_truncate_timeouts"), 0);
	assert_int_equal(free_blocks(m), free0);
	assert_int_equal(gh_vm(m, "nr_dax_busy"), 0);
	assert_int_equal(pinmm_munmap(p, addr, 2 * PG), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

static void test_dax_truncate_deadline(void **state)
{
	struct pinmm *m = dax_boot("dax.truncate_wait_ms=100");
	struct pinmm_proc *p = test_proc(m);
	uint64_t free0 = free_blocks(m);
	struct page *page;
	unsigned long addr;
	double t0;
	int fd;

	(void)state;
	fd = dax_file(p, "deadline", 4, &addr);
	assert_int_equal(pin_user_pages_fast(addr + 2 * PG, 1, 0, &page), 1);
	t0 = now_ms();
	assert_int_equal(pinmm_ftruncate(p, fd, PG), -EBUSY);
	assert_true(now_ms() - t0 >= 90);
	assert_int_equal(gh_vm(m, "dax_truncate_timeouts"), 1);
	/* Nothing changed: size, blocks, data (refaulted). */
	assert_int_equal(pinmm_fstat_size(p, fd), 4 * PG);
	assert_int_equal(free_blocks(m), free0 - 4);
	assert_int_equal(test_load8(p, addr + 2 * PG), 'c');
	/* The pinned frame is the page the mapping finds again. */
	assert_int_equal(gh_info(p, addr + 2 * PG).pfn, page_to_pfn(page));
	assert_int_equal(pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					 2 * PG, PG), -EBUSY);
	assert_int_equal(gh_vm(m, "dax_truncate_timeouts"), 2);
	unpin_user_page(page);
	assert_int_equal(pinmm_ftruncate(p, fd, PG), 0);
	assert_int_equal(free_blocks(m), free0 - 1);
	assert_int_equal(pinmm_munmap(p, addr, 4 * PG), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

static void test_dax_longterm_refused(void **state)
{
	struct pinmm *m = dax_boot(NULL);
	struct pinmm_proc *p = test_proc(m);
	struct page *pages[2];
	unsigned long addr;
	long fb;
	int fd;

	(void)state;
	fd = dax_file(p, "longterm", 2, &addr);
	test_store8(p, addr, 1);
	test_store8(p, addr + PG, 1);
	fb = gh_vm(m, "gup_fast_fallback");
	assert_int_equal(pin_user_pages_fast(addr, 2, FOLL_WRITE | FOLL_LONGTERM, pages),
			 -EOPNOTSUPP);
	assert_true(gh_vm(m, "gup_fast_fallback") > fb);	/* fast fell back */
	assert_int_equal(gh_pup(p, addr, 2, FOLL_WRITE | FOLL_LONGTERM, pages), -EOPNOTSUPP);
	assert_int_equal(gh_pup(p, addr, 2, FOLL_LONGTERM, pages), -EOPNOTSUPP);
	assert_int_equal(gh_vm(m, "nr_foll_pin_acquired"), gh_vm(m, "nr_foll_pin_released"));
	assert_int_equal(gh_info(p, addr).refcount, 1);
	/* Short-term pins through the slow path are fine. */
	assert_int_equal(gh_pup(p, addr, 2, FOLL_WRITE, pages), 2);
	unpin_user_pages(pages, 2);
	assert_int_equal(pinmm_munmap(p, addr, 2 * PG), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

static void test_dax_gup_fast_pins_devmap(void **state)
{
	struct pinmm *m = dax_boot(NULL);
	struct pinmm_proc *p = test_proc(m);
	struct page *pages[3];
	unsigned long addr;
	long fb, calls;
	int fd;

	(void)state;
	fd = dax_file(p, "fast", 3, &addr);
	for (int i = 0; i < 3; i++)
		test_store8(p, addr + (unsigned long)i * PG, 'z');
	fb = gh_vm(m, "gup_fast_fallback");
	calls = gh_vm(m, "gup_fast_calls");
	assert_int_equal(pin_user_pages_fast(addr, 3, FOLL_WRITE, pages), 3);
	assert_int_equal(gh_vm(m, "gup_fast_fallback"), fb);
	assert_true(gh_vm(m, "gup_fast_calls") > calls);
	for (int i = 0; i < 3; i++) {
		struct pinmm_page_info info = gh_info(p, addr + (unsigned long)i * PG);

		assert_int_equal(page_to_pfn(pages[i]), info.pfn);
		assert_true(info.maybe_dma_pinned);
		assert_string_equal(info.zone, "device");
	}
	/* get_user_pages_fast (FOLL_GET) too. */
	assert_int_equal(get_user_pages_fast(addr, 1, 0, &pages[0]), 1);
	put_page(pages[0]);
	unpin_user_pages(pages, 3);
	assert_int_equal(gh_info(p, addr).refcount, 1);
	assert_int_equal(pinmm_munmap(p, addr, 3 * PG), 0);
	assert_int_equal(gh_vm(m, "nr_dax_busy"), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

static void test_dax_private_cow(void **state)
{
	struct pinmm *m = dax_boot(NULL);
	struct pinmm_proc *p = test_proc(m);
	uint64_t free0;
	struct pinmm_page_info info;
	char buf[8];
	long a;
	int fd;

	(void)state;
	fd = dax_file(p, "private", 1, NULL);
	assert_int_equal(pinmm_pwrite(p, fd, "orig", 5, 0), 5);
	assert_int_equal(pinmm_ftruncate(p, fd, 3 * PG), 0);	/* pages 1-2: holes */
	free0 = free_blocks(m);
	a = pinmm_mmap(p, 0, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_true(a > 0);
	gh_expect(p, (unsigned long)a, "orig");
	info = gh_info(p, (unsigned long)a);
	assert_string_equal(info.zone, "device");
	assert_false(info.writable);
	gh_store(p, (unsigned long)a, "priv");
	info = gh_info(p, (unsigned long)a);
	assert_true(info.anon);
	assert_string_not_equal(info.zone, "device");
	assert_int_equal(pinmm_pread(p, fd, buf, 5, 0), 5);
	assert_string_equal(buf, "orig");
	/* A write fault on a hole copies zeroes and allocates nothing. */
	gh_store(p, (unsigned long)a + 2 * PG, "anon");
	assert_true(gh_info(p, (unsigned long)a + 2 * PG).anon);
	assert_int_equal(free_blocks(m), free0);
	assert_true(gh_vm(m, "cow_fault") >= 2);
	assert_int_equal(pinmm_audit(m), 0);
	assert_int_equal(pinmm_munmap(p, (unsigned long)a, 3 * PG), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

static void test_dax_fork_shared(void **state)
{
	struct pinmm *m = dax_boot(NULL);
	struct pinmm_proc *p = test_proc(m), *c;
	unsigned long addr;
	int fd;

	(void)state;
	fd = dax_file(p, "fork", 1, &addr);
	gh_store(p, addr, "parent");
	assert_int_equal(pinmm_fork(p, &c), 0);
	assert_false(gh_info(c, addr).present);		/* refaulted, not copied */
	gh_expect(c, addr, "parent");
	assert_int_equal(gh_info(c, addr).pfn, gh_info(p, addr).pfn);
	gh_store(c, addr, "child");
	gh_expect(p, addr, "child");
	assert_int_equal(gh_info(p, addr).refcount, 2);
	assert_int_equal(pinmm_exit(c), 0);
	pinmm_set_current(p);
	assert_int_equal(gh_info(p, addr).refcount, 1);
	assert_int_equal(pinmm_close(p, fd), 0);
	test_shutdown_clean(m);
}

/* Unlinked while mapped and pinned: the blocks outlive nothing they should. */
static void test_dax_unlink_mapped(void **state)
{
	struct pinmm *m = dax_boot(NULL);
	struct pinmm_proc *p = test_proc(m);
	uint64_t free0 = free_blocks(m);
	struct page *page;
	unsigned long addr;
	int fd;

	(void)state;
	fd = dax_file(p, "gone", 2, &addr);
	test_store8(p, addr, 'q');
	assert_int_equal(pin_user_pages_fast(addr, 1, FOLL_WRITE, &page), 1);
	assert_int_equal(pinmm_unlink(p, "/dax/gone"), 0);
	assert_int_equal(pinmm_close(p, fd), 0);
	assert_int_equal(test_load8(p, addr + PG), 'b');
	unpin_user_page(page);
	assert_int_equal(pinmm_munmap(p, addr, 2 * PG), 0);	/* last reference */
	assert_int_equal(free_blocks(m), free0);
	assert_int_equal(gh_vm(m, "nr_dax_busy"), 0);
	test_shutdown_clean(m);
}

static void test_dax_no_pmem(void **state)
{
	struct pinmm *m = gh_boot("quiet=1");
	struct pinmm_proc *p = test_proc(m);

	(void)state;
	assert_true(pinmm_open(p, "/dax/x", O_CREAT | O_RDWR, 0644) < 0);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dax_read_write),
		cmocka_unit_test(test_dax_mmap_shared),
		cmocka_unit_test(test_dax_truncate_unpinned),
		cmocka_unit_test(test_dax_truncate_waits_for_pin),
		cmocka_unit_test(test_dax_truncate_deadline),
		cmocka_unit_test(test_dax_longterm_refused),
		cmocka_unit_test(test_dax_gup_fast_pins_devmap),
		cmocka_unit_test(test_dax_private_cow),
		cmocka_unit_test(test_dax_fork_shared),
		cmocka_unit_test(test_dax_unlink_mapped),
		cmocka_unit_test(test_dax_no_pmem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
