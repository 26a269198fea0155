/* SPDX-License-Identifier: MIT */
/*
 * test_boot.c - machine boot and shutdown (src/init/main.c, the initcalls of src/include/init.h): clean
 * shutdown, leak reports, several machines at once, page_machine(), the zero
 * page, vmstat names, WARN counting, thread registration, strerror/version.
 */
#include "helpers.h"
#include <pthread.h>
#include <stdio.h>

#include "mm.h"
#include "rcu.h"

static void test_boot_shutdown_clean(void **state)
{
	struct pinmm *m;
	const struct pinmm_config *cfg;

	(void)state;
	m = test_boot(NULL);			/* defaults: 4G */
	cfg = pinmm_machine_config(m);
	assert_non_null(cfg);
	assert_int_equal(cfg->ram, 4 * GiB);
	assert_int_equal(m->nr_pages, 4 * GiB / 4096);
	assert_int_equal(pinmm_vmstat(m, "nr_managed_normal"), 4 * GiB / 4096);
	/* Everything but the zero page is free. */
	assert_int_equal(pinmm_vmstat(m, "nr_free_pages"), 4 * GiB / 4096 - 1);
	assert_int_equal(pinmm_vmstat(m, "nr_free_normal"), 4 * GiB / 4096 - 1);
	assert_int_equal(pinmm_vmstat(m, "nr_used_normal"), 1);
	assert_int_equal(pinmm_vmstat(m, "nr_foll_pin_acquired"), 0);
	test_shutdown_clean(m);
}

static void test_zones_layout(void **state)
{
	struct pinmm *m;

	(void)state;
	m = test_boot("ram=512M", "zone.movable=128M", "zone.cma=64M", "pmem=256M", NULL);
	assert_int_equal(m->zones[ZONE_NORMAL].start_pfn, 0);
	assert_int_equal(m->zones[ZONE_NORMAL].end_pfn, 320 * MiB / 4096);
	assert_int_equal(m->zones[ZONE_CMA].start_pfn, 320 * MiB / 4096);
	assert_int_equal(m->zones[ZONE_CMA].end_pfn, 384 * MiB / 4096);
	assert_int_equal(m->zones[ZONE_MOVABLE].end_pfn, 512 * MiB / 4096);
	assert_int_equal(m->zones[ZONE_DEVICE].start_pfn, 512 * MiB / 4096);
	assert_int_equal(m->zones[ZONE_DEVICE].end_pfn, 768 * MiB / 4096);
	assert_int_equal(m->nr_pages, 768 * MiB / 4096);
	assert_int_equal(pinmm_vmstat(m, "nr_managed_cma"), 64 * MiB / 4096);
	assert_int_equal(pinmm_vmstat(m, "nr_free_movable"), 128 * MiB / 4096);
	assert_int_equal(pinmm_vmstat(m, "nr_managed_device"), 256 * MiB / 4096);
	assert_int_equal(pinmm_vmstat(m, "nr_free_device"), 0);
	assert_int_equal(pfn_zone_idx(m, m->nr_pages - 1), ZONE_DEVICE);
	assert_string_equal(zone_name(ZONE_CMA), "cma");
	test_shutdown_clean(m);
}

static void test_zero_page(void **state)
{
	struct pinmm *m = test_boot_small();
	struct page *zp = m->zero_page;
	const unsigned char *p;

	(void)state;
	assert_non_null(zp);
	assert_true(PageReserved(zp));
	assert_true(PageZero(zp));
	assert_true(is_zero_page(zp));
	assert_int_equal(page_ref_count(zp), 1);
	assert_int_equal(page_to_pfn_m(m, zp), m->zero_pfn);
	assert_int_equal(pfn_zone_idx(m, m->zero_pfn), ZONE_NORMAL);
	p = pfn_to_virt(m, m->zero_pfn);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(p[i], 0);
	assert_ptr_equal(page_machine(zp), m);
	test_shutdown_clean(m);
}

static void test_leak_is_reported(void **state)
{
	struct pinmm *m = test_boot_small();
	struct page *page;
	struct folio *folio;

	(void)state;
	page = alloc_pages(m, GFP_KERNEL, 0);
	assert_non_null(page);
	folio = folio_alloc(m, __GFP_MOVABLE, 4);
	assert_non_null(folio);
	assert_int_equal(page_alloc_check_leaks(m, false), 1 + 16 + 1 /* zero page */);
	fprintf(stderr, "# the leak report below is expected\n");
	pinmm_set_current(NULL);
	assert_int_equal(pinmm_shutdown(m), -EBUSY);
}

static void test_unbalanced_pins_reported(void **state)
{
	struct pinmm *m = test_boot_small();

	(void)state;
	count_vm_events(m, NR_FOLL_PIN_ACQUIRED, 3);
	count_vm_events(m, NR_FOLL_PIN_RELEASED, 2);
	assert_int_equal(pinmm_vmstat(m, "nr_foll_pin_acquired"), 3);
	fprintf(stderr, "# the pin report below is expected\n");
	assert_int_equal(pinmm_shutdown(m), -EBUSY);
}

#define NR_MACHINES 6

static void test_several_machines(void **state)
{
	struct pinmm *m[NR_MACHINES];
	struct page *pages[NR_MACHINES];
	struct page dummy;

	(void)state;
	for (int i = 0; i < NR_MACHINES; i++) {
		char seed[32];

		snprintf(seed, sizeof(seed), "seed=%d", i + 1);
		m[i] = test_boot(i % 2 ? "ram=1G" : "ram=64M", seed, NULL);
	}
	for (int i = 0; i < NR_MACHINES; i++) {
		pages[i] = alloc_pages(m[i], GFP_KERNEL, 0);
		assert_non_null(pages[i]);
	}
	for (int i = 0; i < NR_MACHINES; i++) {
		assert_ptr_equal(page_machine(pages[i]), m[i]);
		assert_ptr_equal(page_machine(m[i]->memmap), m[i]);
		assert_ptr_equal(page_machine(m[i]->memmap + m[i]->nr_pages - 1), m[i]);
		assert_ptr_equal(page_machine(m[i]->zero_page), m[i]);
	}
	assert_null(page_machine(&dummy));
	assert_null(page_machine(NULL));
	/* Shut down in a different order than booted; lookups keep working. */
	for (int i = 0; i < NR_MACHINES; i += 2) {
		__free_pages(pages[i], 0);
		test_shutdown_clean(m[i]);
	}
	for (int i = 1; i < NR_MACHINES; i += 2) {
		assert_ptr_equal(page_machine(pages[i]), m[i]);
		__free_pages(pages[i], 0);
		test_shutdown_clean(m[i]);
	}
}

static void test_machine_limit(void **state)
{
	struct pinmm_config cfg;
	struct pinmm *m[70];
	int n = 0, ret = 0;

	(void)state;
	pinmm_config_default(&cfg);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "64M"), 0);
	while (n < 70) {
		ret = pinmm_boot(&cfg, &m[n]);
		if (ret)
			break;
		n++;
	}
	assert_int_equal(ret, -ENOSPC);
	assert_int_equal(n, 64);
	for (int i = 0; i < n; i++)
		assert_int_equal(pinmm_shutdown(m[i]), 0);
	/* Slots are reusable. */
	assert_int_equal(pinmm_boot(&cfg, &m[0]), 0);
	assert_int_equal(pinmm_shutdown(m[0]), 0);
}

static void test_random_deterministic(void **state)
{
	struct pinmm *a = test_boot("ram=64M", "seed=42", NULL);
	struct pinmm *b = test_boot("ram=64M", "seed=42", NULL);
	struct pinmm *c = test_boot("ram=64M", "seed=43", NULL);
	bool differ = false;

	(void)state;
	for (int i = 0; i < 100; i++) {
		uint64_t x = pinmm_random(a), y = pinmm_random(b), z = pinmm_random(c);

		assert_true(x == y);
		differ |= x != z;
	}
	assert_true(differ);
	test_shutdown_clean(a);
	test_shutdown_clean(b);
	test_shutdown_clean(c);
}

static int count_cb_n;
static void count_cb(const char *name, long value, void *arg)
{
	(void)arg;
	assert_non_null(name);
	assert_int_equal(pinmm_vmstat((struct pinmm *)arg, name), value);
	count_cb_n++;
}

static void test_vmstat_names(void **state)
{
	struct pinmm *m = test_boot_small();
	static const char *const names[] = {
		"nr_foll_pin_acquired", "nr_foll_pin_released", "nr_free_pages",
		"nr_anon_pages", "nr_file_pages", "nr_shmem", "nr_anon_transparent_hugepages",
		"nr_page_table_pages", "nr_dirty", "nr_writeback", "pgalloc", "pgfree",
		"pgfault", "pgmajfault", "thp_fault_alloc", "thp_fault_fallback",
		"thp_split_page", "thp_split_page_failed", "thp_split_pmd",
		"thp_zero_page_alloc", "pgmigrate_success", "pgmigrate_fail", "cow_fault",
		"cow_reuse", "unshare_fault", "zero_page_mapped", "fork_cow_copy",
		"fork_cow_share", "longterm_migrate", "compact_pinned_skip",
		"gup_fast_calls", "gup_fast_fallback", "gup_slow_calls",
		"unpin_not_pinned", "pinned_page_detached", "warn_count",
		"nr_free_normal", "nr_free_cma", "nr_free_movable", "nr_managed_normal",
		"nr_managed_cma", "nr_managed_movable", "nr_used_normal",
	};
	int n;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_true(pinmm_vmstat(m, names[i]) >= 0);
	assert_int_equal(pinmm_vmstat(m, "no_such_counter"), -ENOENT);
	assert_int_equal(pinmm_vmstat(m, "nr_free_"), -ENOENT);
	assert_int_equal(pinmm_vmstat(m, ""), -ENOENT);
	for (int i = 0; i < NR_VM_STAT_ITEMS; i++)
		assert_string_not_equal(vmstat_name((enum vm_stat_item)i), "?");
	assert_string_equal(vmstat_name(NR_FOLL_PIN_ACQUIRED), "nr_foll_pin_acquired");
	count_cb_n = 0;
	n = pinmm_vmstat_foreach(m, count_cb, m);
	assert_int_equal(n, count_cb_n);
	assert_int_equal(n, NR_VM_STAT_ITEMS + 4 * 3 + PINMM_THP_NR_SIZES * NR_MTHP_STAT_ITEMS);
	test_shutdown_clean(m);
}

static void test_warn_count(void **state)
{
	struct pinmm *m = test_boot("ram=64M", "quiet=1", NULL);
	long before = pinmm_warn_count();

	(void)state;
	assert_int_equal(pinmm_vmstat(m, "warn_count"), 0);
	assert_true(WARN_ON(1 + 1 == 2));
	assert_false(WARN_ON(0));
	WARN(1, "expected warning %d", 42);
	pinmm_count_warn();
	assert_int_equal(pinmm_warn_count(), before + 3);
	assert_int_equal(pinmm_vmstat(m, "warn_count"), 3);
	/* A later machine starts from zero. */
	{
		struct pinmm *m2 = test_boot("ram=64M", "quiet=1", NULL);

		assert_int_equal(pinmm_vmstat(m2, "warn_count"), 0);
		test_shutdown_clean(m2);
	}
	test_shutdown_clean(m);
}

struct thread_arg {
	struct pinmm *m;
	int tid;
	long free_pages;
};

static void *thread_fn(void *p)
{
	struct thread_arg *a = p;

	a->free_pages = pinmm_vmstat(a->m, "nr_free_pages");
	a->tid = pinmm_tid();
	return NULL;
}

static void test_threads(void **state)
{
	struct pinmm *m = test_boot_small();
	struct thread_arg args[8];
	pthread_t th[8];

	(void)state;
	for (int i = 0; i < 8; i++) {
		args[i] = (struct thread_arg){ .m = m };
		assert_int_equal(pthread_create(&th[i], NULL, thread_fn, &args[i]), 0);
	}
	for (int i = 0; i < 8; i++)
		TEST_JOIN(th[i], "a thread of test_threads");
	for (int i = 0; i < 8; i++) {
		assert_true(args[i].tid >= 1);
		assert_int_not_equal(args[i].tid, pinmm_tid());
		for (int j = 0; j < i; j++)
			assert_int_not_equal(args[i].tid, args[j].tid);
		assert_int_equal(args[i].free_pages, pinmm_vmstat(m, "nr_free_pages"));
	}
	/* Threads that registered and exited do not block grace periods. */
	synchronize_rcu();
	test_shutdown_clean(m);
}

static void test_strerror_version(void **state)
{
	(void)state;
	assert_string_equal(pinmm_strerror(-EFAULT), "EFAULT");
	assert_string_equal(pinmm_strerror(-EBUSY), "EBUSY");
	assert_string_equal(pinmm_strerror(-ENOENT), "ENOENT");
	assert_string_equal(pinmm_strerror(-EUCLEAN), "EUCLEAN");
	assert_string_equal(pinmm_strerror(-EAGAIN), "EAGAIN");
	assert_string_equal(pinmm_strerror(0), "OK");
	assert_non_null(pinmm_strerror(-100000));
	assert_string_equal(pinmm_version(), "0.1.0");
}

static void test_audit_wrappers(void **state)
{
	struct pinmm *m = test_boot_small();

	(void)state;
	assert_int_equal(pinmm_audit(m), 0);
	assert_int_equal(pinmm_audit_errors(m), 0);
	assert_int_equal(pinmm_audit(NULL), -EINVAL);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_shutdown_clean),
		cmocka_unit_test(test_zones_layout),
		cmocka_unit_test(test_zero_page),
		cmocka_unit_test(test_leak_is_reported),
		cmocka_unit_test(test_unbalanced_pins_reported),
		cmocka_unit_test(test_several_machines),
		cmocka_unit_test(test_machine_limit),
		cmocka_unit_test(test_random_deterministic),
		cmocka_unit_test(test_vmstat_names),
		cmocka_unit_test(test_warn_count),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_strerror_version),
		cmocka_unit_test(test_audit_wrappers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
