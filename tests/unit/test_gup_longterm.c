/* SPDX-License-Identifier: MIT */
/*
 * Description: GUP conformance, FOLL_LONGTERM (doc/GUP-SEMANTICS.md §5,
 * §6.4, §6.5).  With ZONE_MOVABLE or a CMA area configured, user pages land
 * there; a long-term pin migrates them to ZONE_NORMAL first (new pfn, data
 * preserved, the process sees the same page as the pin), short-term pins
 * leave them alone; writable and read-only long-term pins of tmpfs are
 * allowed; migration fails with -ENOMEM when someone else holds a pin; and
 * the movers (pinmm_migrate_page, pinmm_offline_zone, pinmm_compact,
 * pinmm_split_huge_page) refuse pinned folios and succeed once unpinned.
 * Public API only.
 */
#include "gup_helpers.h"

#include <stdio.h>

static void fill(struct pinmm_proc *p, unsigned long a, int n, const char *tag)
{
	char s[32];

	for (int i = 0; i < n; i++) {
		snprintf(s, sizeof(s), "%s-%d", tag, i);
		gh_store(p, a + (unsigned long)i * PG, s);
	}
}

static void kcheck(struct page **pg, int n, const char *tag)
{
	char s[32];

	for (int i = 0; i < n; i++) {
		snprintf(s, sizeof(s), "%s-%d", tag, i);
		gh_kexpect(pg[i], 0, s);
	}
}

/* Long-term pins move pages out of @zone; short-term pins do not. */
static void longterm_migrates_out_of(const char *key, const char *zone)
{
	struct pinmm *m = gh_boot(key, "thp=madvise");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 4 * PG);
	unsigned long b = test_mmap_anon(p, 2 * PG);
	struct page *pg[4];
	unsigned long old[4];
	long mig;

	fill(p, a, 4, zone);
	for (int i = 0; i < 4; i++) {
		struct pinmm_page_info pi = gh_info(p, a + i * PG);

		assert_string_equal(pi.zone, zone);
		old[i] = pi.pfn;
	}
	mig = gh_vm(m, "longterm_migrate");

	/* Short-term: pinned where it is. */
	assert_int_equal(gh_pup(p, a, 4, FOLL_WRITE, pg), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(page_to_pfn(pg[i]), old[i]);
	assert_string_equal(gh_info(p, a).zone, zone);
	unpin_user_pages(pg, 4);
	assert_int_equal(gh_vm(m, "longterm_migrate"), mig);

	/* Long-term (slow path, then fast path for the other half). */
	assert_int_equal(gh_pup(p, a, 2, FOLL_WRITE | FOLL_LONGTERM, pg), 2);
	assert_int_equal(pin_user_pages_fast(a + 2 * PG, 2, FOLL_LONGTERM, pg + 2), 2);
	assert_int_equal(gh_vm(m, "longterm_migrate"), mig + 4);
	for (int i = 0; i < 4; i++) {
		struct pinmm_page_info pi = gh_info(p, a + i * PG);

		assert_string_equal(pi.zone, "normal");
		assert_int_not_equal(pi.pfn, old[i]);
		assert_int_equal(pi.pfn, page_to_pfn(pg[i]));
		assert_true(pi.maybe_dma_pinned);
		assert_true(pi.anon_exclusive);
	}
	kcheck(pg, 4, zone);
	/* Still the process's memory, both ways. */
	gh_store(p, a + PG, "cpu");
	gh_kexpect(pg[1], 0, "cpu");
	gh_kstore(pg[3], 0, "dev");
	gh_expect(p, a + 3 * PG, "dev");
	unpin_user_pages(pg, 4);

	/* Unpopulated memory is faulted outside movable memory right away. */
	assert_int_equal(gh_pup(p, b, 2, FOLL_WRITE | FOLL_LONGTERM, pg), 2);
	assert_int_equal(gh_vm(m, "longterm_migrate"), mig + 4);
	assert_string_equal(gh_info(p, b).zone, "normal");
	assert_string_equal(gh_info(p, b + PG).zone, "normal");
	unpin_user_pages(pg, 2);
	/* Ordinary faults after the pin still use movable memory. */
	b = test_mmap_anon(p, PG);
	test_store8(p, b, 1);
	assert_string_equal(gh_info(p, b).zone, zone);
	gh_done(m);
}

static void test_longterm_movable(void **state)
{
	(void)state;
	longterm_migrates_out_of("zone.movable=192M", "movable");
}

static void test_longterm_cma(void **state)
{
	(void)state;
	longterm_migrates_out_of("zone.cma=192M", "cma");
}

/* A THP in ZONE_MOVABLE is migrated as a whole for a long-term pin. */
static void test_longterm_thp_movable(void **state)
{
	struct pinmm *m = gh_boot("zone.movable=192M", "thp=madvise");
	struct pinmm_proc *p = test_proc(m);
	unsigned long h = gh_thp(p, 1);
	struct page *pg[4];
	long mig = gh_vm(m, "longterm_migrate");
	(void)state;

	assert_string_equal(gh_info(p, h).zone, "movable");
	gh_store(p, h + 300 * PG, "thp");
	assert_int_equal(gh_pup(p, h + 300 * PG, 4, FOLL_WRITE | FOLL_LONGTERM, pg), 4);
	assert_true(gh_vm(m, "longterm_migrate") > mig);
	assert_string_equal(gh_info(p, h + 300 * PG).zone, "normal");
	assert_int_equal(gh_info(p, h + 300 * PG).pfn, page_to_pfn(pg[0]));
	assert_int_equal(page_to_pfn(pg[3]), page_to_pfn(pg[0]) + 3);
	gh_kexpect(pg[0], 0, "thp");
	assert_int_equal(test_load8(p, h), 0x5a);
	unpin_user_pages(pg, 4);
	gh_done(m);
}

/* tmpfs: writable and read-only long-term pins are both allowed. */
static void test_longterm_shmem_allowed(void **state)
{
	struct pinmm *m = gh_boot("zone.movable=192M");
	struct pinmm_proc *p = test_proc(m);
	struct page *pg[4];
	long f, ro;
	int fd;
	(void)state;

	fd = pinmm_memfd_create(p, "lt", 0);
	assert_true(fd >= 0);
	assert_int_equal(pinmm_ftruncate(p, fd, (long)(4 * PG)), 0);
	f = pinmm_mmap(p, 0, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ro = pinmm_mmap(p, 0, 4 * PG, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(f > 0 && ro > 0);
	fill(p, (unsigned long)f, 4, "shm");

	assert_int_equal(gh_pup(p, (unsigned long)f, 2, FOLL_WRITE | FOLL_LONGTERM, pg), 2);
	assert_int_equal(pin_user_pages_fast((unsigned long)f + 2 * PG, 2,
					     FOLL_WRITE | FOLL_LONGTERM, pg + 2), 2);
	kcheck(pg, 4, "shm");
	for (int i = 0; i < 4; i++) {
		struct pinmm_page_info pi = gh_info(p, (unsigned long)f + i * PG);

		assert_string_not_equal(pi.zone, "movable");
		assert_false(pi.anon);
		assert_int_equal(pi.pfn, page_to_pfn(pg[i]));
	}
	gh_kstore(pg[0], 0, "dma");
	gh_expect(p, (unsigned long)ro, "dma");
	unpin_user_pages(pg, 4);

	assert_int_equal(gh_pup(p, (unsigned long)ro, 4, FOLL_LONGTERM, pg), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(page_to_pfn(pg[i]), gh_info(p, (unsigned long)f + i * PG).pfn);
	unpin_user_pages(pg, 4);
	assert_int_equal(pinmm_close(p, fd), 0);
	gh_done(m);
}

/* §5.2: a movable page pinned by someone else cannot migrate: -ENOMEM. */
static void test_longterm_migration_fails_when_pinned(void **state)
{
	struct pinmm *m = gh_boot("zone.movable=192M");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 2 * PG);
	struct page *st[1], *pg[2] = { 0 };
	unsigned long pfn;
	long acq, rel;
	(void)state;

	fill(p, a, 2, "busy");
	pfn = gh_info(p, a + PG).pfn;
	assert_int_equal(gh_pup(p, a + PG, 1, 0, st), 1);	/* short-term */
	acq = gh_vm(m, "nr_foll_pin_acquired");
	rel = gh_vm(m, "nr_foll_pin_released");

	assert_int_equal(gh_pup(p, a, 2, FOLL_LONGTERM, pg), -ENOMEM);
	assert_int_equal(pin_user_pages_fast(a + PG, 1, FOLL_LONGTERM, pg), -ENOMEM);
	assert_int_equal(pin_user_pages_unlocked(a + PG, 1, pg, FOLL_LONGTERM | FOLL_WRITE),
			 -ENOMEM);
	/* Whatever the failed calls pinned, they released. */
	assert_int_equal(gh_vm(m, "nr_foll_pin_acquired") - acq,
			 gh_vm(m, "nr_foll_pin_released") - rel);
	assert_int_equal(gh_info(p, a + PG).pfn, pfn);
	assert_int_equal(gh_info(p, a + PG).pincount, 1);
	gh_kexpect(st[0], 0, "busy-1");
	assert_int_equal(pinmm_audit(m), 0);

	unpin_user_page(st[0]);
	assert_int_equal(gh_pup(p, a, 2, FOLL_LONGTERM, pg), 2);
	assert_string_equal(gh_info(p, a + PG).zone, "normal");
	kcheck(pg, 2, "busy");
	unpin_user_pages(pg, 2);
	gh_done(m);
}

/* pinmm_migrate_page and pinmm_offline_zone refuse pinned folios. */
static void test_movers_refuse_pinned(void **state)
{
	struct pinmm *m = gh_boot("zone.movable=192M");
	struct pinmm_proc *p = test_proc(m);
	unsigned long a = test_mmap_anon(p, 2 * PG);
	struct pinmm_migrate_stats st;
	struct page *pg[1];
	unsigned long pfn;
	(void)state;

	fill(p, a, 2, "mv");
	pfn = gh_info(p, a).pfn;
	assert_int_equal(gh_pup(p, a, 1, 0, pg), 1);
	assert_int_equal(pinmm_migrate_page(p, a, "normal"), -EAGAIN);
	assert_int_equal(gh_info(p, a).pfn, pfn);
	assert_int_equal(pinmm_offline_zone(m, "movable", &st), -EBUSY);
	assert_true(st.failed_pinned >= 1);
	assert_true(st.migrated >= 1);			/* a + PG moved */
	assert_string_equal(gh_info(p, a).zone, "movable");
	assert_string_not_equal(gh_info(p, a + PG).zone, "movable");
	assert_int_equal(gh_info(p, a).pfn, pfn);
	gh_kstore(pg[0], 0, "still");
	gh_expect(p, a, "still");
	gh_expect(p, a + PG, "mv-1");

	unpin_user_page(pg[0]);
	assert_int_equal(pinmm_migrate_page(p, a, "normal"), 0);
	assert_string_equal(gh_info(p, a).zone, "normal");
	gh_expect(p, a, "still");
	assert_int_equal(pinmm_migrate_page(p, a, "movable"), 0);
	assert_int_equal(pinmm_offline_zone(m, "movable", &st), 0);
	assert_int_equal(st.failed_pinned, 0);
	assert_string_equal(gh_info(p, a).zone, "normal");
	gh_expect(p, a, "still");
	gh_done(m);
}

/* pinmm_compact skips pinned folios; pinmm_split_huge_page refuses them. */
static void test_compact_and_split_refuse_pinned(void **state)
{
	struct pinmm *m = gh_boot("thp=madvise");
	struct pinmm_proc *p = test_proc(m);
	unsigned long h = gh_thp(p, 1);
	unsigned long a = test_mmap_anon(p, PG);
	struct pinmm_migrate_stats st;
	struct page *pg[2];
	unsigned long hpfn, apfn;
	(void)state;

	gh_store(p, a, "c");
	hpfn = gh_info(p, h).pfn;
	apfn = gh_info(p, a).pfn;
	assert_int_equal(gh_pup(p, h + 3 * PG, 1, 0, pg), 1);
	assert_int_equal(gh_pup(p, a, 1, 0, pg + 1), 1);

	assert_int_equal(pinmm_split_huge_page(p, h), -EAGAIN);
	assert_int_equal(gh_info(p, h).folio_order, 9);
	assert_int_equal(pinmm_compact(m, &st), 0);
	assert_true(st.failed_pinned >= 2);
	assert_int_equal(gh_info(p, h).pfn, hpfn);
	assert_int_equal(gh_info(p, a).pfn, apfn);
	assert_true(gh_vm(m, "compact_pinned_skip") >= 2);

	unpin_user_pages(pg, 2);
	assert_int_equal(pinmm_compact(m, &st), 0);
	assert_int_equal(st.failed_pinned, 0);
	gh_expect(p, a, "c");
	assert_int_equal(pinmm_split_huge_page(p, h), 0);
	assert_int_equal(gh_info(p, h + 3 * PG).folio_order, 0);
	assert_int_equal(test_load8(p, h), 0x5a);
	assert_int_equal(pinmm_split_huge_page(p, h), -EINVAL);
	gh_done(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_longterm_movable),
		cmocka_unit_test(test_longterm_cma),
		cmocka_unit_test(test_longterm_thp_movable),
		cmocka_unit_test(test_longterm_shmem_allowed),
		cmocka_unit_test(test_longterm_migration_fails_when_pinned),
		/* The movers of src/mm/compaction.c. */
		cmocka_unit_test(test_movers_refuse_pinned),
		cmocka_unit_test(test_compact_and_split_refuse_pinned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
