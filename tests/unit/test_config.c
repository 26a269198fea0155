/* SPDX-License-Identifier: MIT */
/*
 * test_config.c - pinmm_config_default/set/get/keys (src/kernel/config.c)
 * and the whole-configuration check at boot.
 */
#include "helpers.h"
#include <stdio.h>

static void test_defaults(void **state)
{
	struct pinmm_config cfg;

	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg));
	pinmm_config_default(&cfg);
	assert_int_equal(cfg.ram, 4 * GiB);
	assert_int_equal(cfg.zone_movable, 0);
	assert_int_equal(cfg.zone_cma, 0);
	assert_int_equal(cfg.pmem, 0);
	assert_int_equal(cfg.thp, PINMM_THP_MADVISE);
	assert_int_equal(cfg.pin_tracking, PINMM_PIN_BIAS);
	assert_int_equal(cfg.fs_policy, PINMM_FS_LINUX);
	assert_string_equal(cfg.pinfs_image, "");
	assert_int_equal(cfg.rlimit_memlock, 8 * MiB);
	assert_int_equal(cfg.debug, 1);
	assert_int_equal(cfg.seed, 1);
	assert_false(cfg.pin_provenance);
	assert_false(cfg.quiet);
}

static void test_sizes(void **state)
{
	struct pinmm_config cfg;

	(void)state;
	pinmm_config_default(&cfg);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "256M"), 0);
	assert_int_equal(cfg.ram, 256 * MiB);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "16G"), 0);
	assert_int_equal(cfg.ram, 16 * GiB);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "1T"), 0);
	assert_int_equal(cfg.ram, 1024 * GiB);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "131072K"), 0);
	assert_int_equal(cfg.ram, 128 * MiB);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "134217728"), 0);
	assert_int_equal(cfg.ram, 128 * MiB);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "512m"), 0);
	assert_int_equal(cfg.ram, 512 * MiB);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "1GiB"), 0);
	assert_int_equal(cfg.ram, GiB);
	assert_int_equal(pinmm_config_set(&cfg, "zone.movable", "64M"), 0);
	assert_int_equal(cfg.zone_movable, 64 * MiB);
	assert_int_equal(pinmm_config_set(&cfg, "zone.cma", "4K"), 0);
	assert_int_equal(cfg.zone_cma, 4 * KiB);
	assert_int_equal(pinmm_config_set(&cfg, "pmem", "2G"), 0);
	assert_int_equal(cfg.pmem, 2 * GiB);
	assert_int_equal(pinmm_config_set(&cfg, "pinfs.size", "64M"), 0);
	assert_int_equal(cfg.pinfs_size, 64 * MiB);
	assert_int_equal(pinmm_config_set(&cfg, "rlimit.memlock", "64K"), 0);
	assert_int_equal(cfg.rlimit_memlock, 64 * KiB);
	assert_int_equal(pinmm_config_set(&cfg, "rlimit.memlock", "unlimited"), 0);
	assert_true(cfg.rlimit_memlock == PINMM_RLIM_INFINITY);
	assert_int_equal(pinmm_config_set(&cfg, "rlimit.memlock", "0"), 0);
	assert_int_equal(cfg.rlimit_memlock, 0);
}

static void test_enums_and_scalars(void **state)
{
	struct pinmm_config cfg;
	static const char *const thp[] = { "never", "madvise", "always" };
	static const char *const trk[] = { "bias", "exact", "mapcount" };
	static const char *const pol[] = { "legacy", "linux", "holdoff", "bounce",
					    "lease", "busyblocks" };

	(void)state;
	pinmm_config_default(&cfg);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pinmm_config_set(&cfg, "thp", thp[i]), 0);
		assert_int_equal(cfg.thp, i);
		assert_int_equal(pinmm_config_set(&cfg, "pin.tracking", trk[i]), 0);
		assert_int_equal(cfg.pin_tracking, i);
	}
	for (int i = 0; i < 6; i++) {
		assert_int_equal(pinmm_config_set(&cfg, "fs.pinned_policy", pol[i]), 0);
		assert_int_equal(cfg.fs_policy, i);
	}
	assert_int_equal(pinmm_config_set(&cfg, "pinfs.image", "/tmp/x.img"), 0);
	assert_string_equal(cfg.pinfs_image, "/tmp/x.img");
	for (int d = 0; d <= 2; d++) {
		char v[16];

		snprintf(v, sizeof(v), "%d", d);
		assert_int_equal(pinmm_config_set(&cfg, "debug", v), 0);
		assert_int_equal(cfg.debug, d);
	}
	assert_int_equal(pinmm_config_set(&cfg, "seed", "18446744073709551615"), 0);
	assert_true(cfg.seed == UINT64_MAX);
	assert_int_equal(pinmm_config_set(&cfg, "seed", "0x10"), 0);
	assert_int_equal(cfg.seed, 16);
	assert_int_equal(pinmm_config_set(&cfg, "pin.provenance", "on"), 0);
	assert_true(cfg.pin_provenance);
	assert_int_equal(pinmm_config_set(&cfg, "pin.provenance", "0"), 0);
	assert_false(cfg.pin_provenance);
	assert_int_equal(pinmm_config_set(&cfg, "pin.provenance", "1"), 0);
	assert_true(cfg.pin_provenance);
	assert_int_equal(pinmm_config_set(&cfg, "pin.provenance", "off"), 0);
	assert_false(cfg.pin_provenance);
	assert_int_equal(pinmm_config_set(&cfg, "quiet", "1"), 0);
	assert_true(cfg.quiet);
	assert_int_equal(pinmm_config_set(&cfg, "holdoff_ms", "250"), 0);
	assert_int_equal(cfg.holdoff_ms, 250);
	assert_int_equal(pinmm_config_set(&cfg, "lease_break_ms", "5"), 0);
	assert_int_equal(cfg.lease_break_ms, 5);
}

static void test_bad(void **state)
{
	struct pinmm_config cfg, before;
	static const char *const bad[][2] = {
		{ "nosuchkey", "1" }, { "RAM", "4G" }, { "", "" },
		{ "ram", "" }, { "ram", "4X" }, { "ram", "-4G" }, { "ram", "4G4" },
		{ "ram", "1M" },		/* below 64M */
		{ "ram", "2T" },		/* above 1T */
		{ "ram", "65M" },		/* not a multiple of 2M */
		{ "ram", "99999999999999999999" }, { "ram", "17179869184T" },
		{ "zone.movable", "5000" },	/* not a multiple of 4K */
		{ "zone.cma", "abc" }, { "pmem", "1K" },
		{ "thp", "sometimes" }, { "thp", "" }, { "thp", "Always" },
		{ "pin.tracking", "precise" }, { "fs.pinned_policy", "ignore" },
		{ "rlimit.memlock", "lots" }, { "debug", "3" }, { "debug", "-1" },
		{ "debug", "x" }, { "seed", "-1" }, { "seed", "12x" },
		{ "pin.provenance", "maybe" }, { "quiet", "2" },
		{ "holdoff_ms", "soon" }, { "pinfs.size", "0" },
	};

	(void)state;
	pinmm_config_default(&cfg);
	before = cfg;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = pinmm_config_set(&cfg, bad[i][0], bad[i][1]);

		if (r != -EINVAL)
			print_message("# key '%s' value '%s' -> %d\n", bad[i][0], bad[i][1], r);
		assert_int_equal(r, -EINVAL);
		assert_memory_equal(&cfg, &before, sizeof(cfg));
	}
	assert_int_equal(pinmm_config_set(&cfg, NULL, "1"), -EINVAL);
	assert_int_equal(pinmm_config_set(&cfg, "ram", NULL), -EINVAL);
	{
		char longpath[PINMM_PATH_MAX + 8];

		memset(longpath, 'a', sizeof(longpath) - 1);
		longpath[sizeof(longpath) - 1] = 0;
		assert_int_equal(pinmm_config_set(&cfg, "pinfs.image", longpath), -EINVAL);
	}
}

static void test_keys_roundtrip(void **state)
{
	struct pinmm_config cfg, copy;
	const char *const *keys = pinmm_config_keys();
	char buf[PINMM_PATH_MAX + 64];
	int n = 0;

	(void)state;
	pinmm_config_default(&cfg);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "6G"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "zone.cma", "12K"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "pinfs.image", "/tmp/img"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "rlimit.memlock", "unlimited"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "seed", "987654321"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "pin.provenance", "on"), 0);
	pinmm_config_default(&copy);
	for (; keys[n]; n++) {
		int len = pinmm_config_get(&cfg, keys[n], buf, sizeof(buf));

		assert_true(len >= 0);
		assert_int_equal((size_t)len, strlen(buf));
		assert_int_equal(pinmm_config_set(&copy, keys[n], buf), 0);
	}
	assert_memory_equal(&cfg, &copy, sizeof(cfg));
	assert_int_equal(n, 54);	/* + dax.truncate_wait_ms, dio.latency_us, writeback.latency_us,
					   pinfs.dirty_no_blocks, nr_cpus, shutdown.wait_ms, fail.nth,
					   fail.probability, fail.seed, fail.times, fail.site, swap,
					   swap.latency_us, khugepaged.{scan_sleep_ms, pages_to_scan,
					   max_ptes_none, max_ptes_swap, max_ptes_shared},
					   ksm.sleep_ms, thp.16K .. thp.2048K, hugepages.2M, hugepages.1G,
					   lease.outcome, trace.file, trace.buffer_size, legacy.cow_mapcount,
					   legacy.gup_fast_no_seq, legacy.gup_fast_no_recheck,
					   legacy.migrate_no_freeze */
	/* every key of doc/API.md §3 is there */
	{
		static const char *const want[] = { "ram", "zone.movable", "zone.cma", "pmem",
			"thp", "pin.tracking", "fs.pinned_policy", "pinfs.image", "pinfs.size",
			"rlimit.memlock", "debug", "seed", "pin.provenance", "quiet",
			"holdoff_ms", "lease_break_ms", "swap", "lease.outcome" };

		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			bool found = false;

			for (int k = 0; keys[k]; k++)
				found |= !strcmp(keys[k], want[i]);
			assert_true(found);
		}
	}
	assert_int_equal(pinmm_config_get(&cfg, "ram", buf, sizeof(buf)), 2);
	assert_string_equal(buf, "6G");
	assert_int_equal(pinmm_config_get(&cfg, "zone.cma", buf, sizeof(buf)), 3);
	assert_string_equal(buf, "12K");
	assert_int_equal(pinmm_config_get(&cfg, "ram", buf, 2), -ERANGE);
	assert_int_equal(pinmm_config_get(&cfg, "nosuch", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(pinmm_config_get(&cfg, "thp", buf, sizeof(buf)), 7);
	assert_string_equal(buf, "madvise");
}

static void test_boot_validation(void **state)
{
	struct pinmm_config cfg;
	struct pinmm *m = (struct pinmm *)1;

	(void)state;
	pinmm_config_default(&cfg);
	assert_int_equal(pinmm_config_set(&cfg, "ram", "256M"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "zone.movable", "200M"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "zone.cma", "100M"), 0);
	assert_int_equal(pinmm_boot(&cfg, &m), -EINVAL);	/* zones exceed ram */
	assert_null(m);
	assert_int_equal(pinmm_config_set(&cfg, "zone.cma", "0"), 0);
	assert_int_equal(pinmm_config_set(&cfg, "zone.movable", "256M"), 0);
	assert_int_equal(pinmm_boot(&cfg, &m), -EINVAL);	/* nothing left for NORMAL */
	/* Fields written directly are checked too. */
	pinmm_config_default(&cfg);
	cfg.ram = 100 * MiB + 4096;
	assert_int_equal(pinmm_boot(&cfg, &m), -EINVAL);
	pinmm_config_default(&cfg);
	cfg.thp = (enum pinmm_thp_mode)7;
	assert_int_equal(pinmm_boot(&cfg, &m), -EINVAL);
	pinmm_config_default(&cfg);
	cfg.debug = 9;
	assert_int_equal(pinmm_boot(&cfg, &m), -EINVAL);
	assert_int_equal(pinmm_boot(NULL, &m), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_enums_and_scalars),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_keys_roundtrip),
		cmocka_unit_test(test_boot_validation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
