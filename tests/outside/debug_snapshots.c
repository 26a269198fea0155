/* SPDX-License-Identifier: MIT */
/*
 * Description: the snapshots of <pinmm/debug.h> that the pinmm tool draws
 * its pictures from, as an outside program sees them: pinmm_debug_vmas()
 * (the VMAs, as /proc/PID/maps), pinmm_debug_cache_page() (a file's page
 * cache per offset) and pinmm_debug_page_owner() (where a held page
 * belongs, and whether truncate orphaned it).  Only public headers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include <pinmm/debug.h>
#include <pinmm/linux.h>
#include <pinmm/pinmm.h>

#define PG 4096UL

static struct pinmm *boot(void)
{
	struct pinmm_config cfg;
	struct pinmm *m = NULL;

	pinmm_config_default(&cfg);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "64M"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "thp", "never"), 0);
	assert_int_equal(pinmm_boot(&cfg, &m), 0);
	return m;
}

/* A new process of @m with @path open, two pages of @byte written. */
static int two_page_file(struct pinmm *m, struct pinmm_proc **p, const char *path, int byte)
{
	char buf[2 * PG];
	int fd;

	assert_int_equal(pinmm_proc_create(m, p), 0);
	fd = pinmm_open(*p, path, O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	memset(buf, byte, sizeof(buf));
	assert_int_equal(pinmm_pwrite(*p, fd, buf, sizeof(buf), 0), sizeof(buf));
	return fd;
}

/* Two anonymous VMAs and a shared file mapping, in address order. */
static void test_vmas(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = NULL;
	struct pinmm_vma_info v[4];
	int fd;

	(void)state;
	assert_int_equal(pinmm_proc_create(m, &p), 0);
	assert_int_equal(pinmm_debug_vmas(p, NULL, 0), 0);
	assert_int_equal(pinmm_mmap(p, 0x50000000, 2 * PG, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), 0x50000000);
	assert_int_equal(pinmm_mmap(p, 0x40000000, PG, PROT_READ,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), 0x40000000);
	fd = pinmm_open(p, "/tmp/vmas", O_RDWR | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd, 4 * PG), 0);
	assert_int_equal(pinmm_mmap(p, 0x60000000, 2 * PG, PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_FIXED, fd, 2 * PG), 0x60000000);

	assert_int_equal(pinmm_debug_vmas(p, NULL, 0), 3);
	assert_int_equal(pinmm_debug_vmas(p, NULL, 1), -EINVAL);
	assert_int_equal(pinmm_debug_vmas(NULL, v, 4), -EINVAL);
	memset(v, 0xa5, sizeof(v));
	assert_int_equal(pinmm_debug_vmas(p, v, 1), 3);	/* count, one filled */
	assert_int_equal(v[0].start, 0x40000000);
	assert_int_equal(v[1].start, 0xa5a5a5a5a5a5a5a5UL);	/* untouched */
	assert_int_equal(pinmm_debug_vmas(p, v, 4), 3);
	assert_int_equal(v[0].end, 0x40000000 + PG);
	assert_int_equal(v[0].prot, PROT_READ);
	assert_true(v[0].anon && !v[0].shared);
	assert_int_equal(v[1].start, 0x50000000);
	assert_int_equal(v[1].prot, PROT_READ | PROT_WRITE);
	assert_int_equal(v[2].start, 0x60000000);
	assert_true(v[2].shared && !v[2].anon);
	assert_int_equal(v[2].pgoff, 2);
	assert_string_equal(v[2].name, "vmas");
	assert_string_equal(v[0].name, "");
	assert_int_equal(pinmm_exit(p), 0);
	assert_int_equal(pinmm_debug_vmas(p, v, 4), -ESRCH);
	assert_int_equal(pinmm_shutdown(m), 0);
}

/* Cached, dirty, clean after fsync, pinned; holes and bad descriptors. */
static void test_cache_page(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = NULL;
	struct pinmm_cache_page_info ci;
	struct page *page = NULL;
	int fd = two_page_file(m, &p, "/tmp/cache", 0x5a);

	(void)state;
	assert_int_equal(pinmm_debug_cache_page(p, fd, 1, NULL), -EINVAL);
	assert_int_equal(pinmm_debug_cache_page(p, 99, 1, &ci), -EBADF);
	assert_int_equal(pinmm_debug_cache_page(p, fd, 1, &ci), 0);
	assert_true(ci.cached && ci.uptodate);
	assert_int_equal(ci.folio_order, 0);
	assert_int_equal(ci.folio_index, 1);
	assert_false(ci.maybe_dma_pinned);
	assert_int_equal(ci.refcount, 1);	/* the cache's own reference */
	assert_int_equal(pinmm_debug_cache_page(p, fd, 7, &ci), 0);
	assert_false(ci.cached);

	/* A pin through a shared mapping of offset 0. */
	assert_int_equal(pinmm_mmap(p, 0x60000000, 2 * PG, PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_FIXED, fd, 0), 0x60000000);
	pinmm_set_current(p);
	assert_int_equal(pin_user_pages_fast(0x60000000, 1, FOLL_WRITE, &page), 1);
	assert_int_equal(pinmm_debug_cache_page(p, fd, 0, &ci), 0);
	assert_true(ci.cached && ci.maybe_dma_pinned);
	assert_int_equal(ci.pincount, 1);
	assert_int_equal(ci.mapcount, 1);
	assert_int_equal(ci.pfn, page_to_pfn(page));
	unpin_user_page(page);
	assert_int_equal(pinmm_debug_cache_page(p, fd, 0, &ci), 0);
	assert_false(ci.maybe_dma_pinned);
	pinmm_set_current(NULL);
	assert_int_equal(pinmm_exit(p), 0);
	assert_int_equal(pinmm_debug_cache_page(p, fd, 0, &ci), -ESRCH);
	assert_int_equal(pinmm_shutdown(m), 0);
}

/* A pinned file page is in its cache until truncate orphans it. */
static void test_page_owner(void **state)
{
	struct pinmm *m = boot();
	struct pinmm_proc *p = NULL;
	struct pinmm_page_owner_info o;
	struct page *pages[2] = { NULL, NULL };
	int fd = two_page_file(m, &p, "/tmp/owner", 0x3c);

	(void)state;
	assert_int_equal(pinmm_mmap(p, 0x60000000, 2 * PG, PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_FIXED, fd, 0), 0x60000000);
	assert_int_equal(pinmm_mmap(p, 0x70000000, PG, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), 0x70000000);
	assert_int_equal(pinmm_store(p, 0x70000000, "a", 1), 1);
	pinmm_set_current(p);
	assert_int_equal(pin_user_pages_fast(0x60000000 + PG, 1, FOLL_WRITE, &pages[0]), 1);
	assert_int_equal(pin_user_pages_fast(0x70000000, 1, FOLL_WRITE, &pages[1]), 1);

	assert_int_equal(pinmm_debug_page_owner(NULL, &o), -EINVAL);
	assert_int_equal(pinmm_debug_page_owner(pages[0], &o), 0);
	assert_true(o.in_page_cache && !o.orphaned && !o.anon);
	assert_int_equal(o.index, 1);
	assert_int_equal(pinmm_debug_page_owner(pages[1], &o), 0);
	assert_true(o.anon && !o.in_page_cache && !o.orphaned);

	/* Truncate takes the page out of the cache; the pin keeps it alive. */
	assert_int_equal(pinmm_ftruncate(p, fd, 0), 0);
	assert_int_equal(pinmm_debug_page_owner(pages[0], &o), 0);
	assert_true(o.orphaned && !o.in_page_cache);
	unpin_user_pages(pages, 2);
	pinmm_set_current(NULL);
	assert_int_equal(pinmm_shutdown(m), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmas),
		cmocka_unit_test(test_cache_page),
		cmocka_unit_test(test_page_owner),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
