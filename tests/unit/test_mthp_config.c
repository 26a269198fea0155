/* SPDX-License-Identifier: MIT */
/*
 * Description: the per-size THP keys thp.16K .. thp.2048K (api.md §4):
 * defaults (never, and inherit for the PMD size as Linux's
 * hugepages-2048kB), every valid value, round trip through
 * pinmm_config_get(), and bad input (unknown sizes, bad values, "inherit"
 * on the global key) answered with -EINVAL and the configuration left
 * unchanged; the PMD fault obeys thp.2048K; pinmm_thp_set() changes the
 * policy of a running machine.
 */
#include "helpers.h"
#include <stdio.h>

#include "machine.h"

static const char *const sizes[] = { "16K", "32K", "64K", "128K", "256K", "512K",
				     "1024K", "2048K" };

static void test_defaults(void **state)
{
	struct pinmm_config cfg;
	char key[32], buf[32];

	(void)state;
	pinmm_config_default(&cfg);
	for (int i = 0; i < PINMM_THP_NR_SIZES; i++) {
		snprintf(key, sizeof(key), "thp.%s", sizes[i]);
		assert_true(pinmm_config_get(&cfg, key, buf, sizeof(buf)) > 0);
		assert_string_equal(buf, i == PINMM_THP_NR_SIZES - 1 ? "inherit" : "never");
	}
}

static void test_values(void **state)
{
	static const char *const values[] = { "never", "always", "madvise", "inherit" };
	struct pinmm_config cfg;
	char key[32], buf[32];

	(void)state;
	pinmm_config_default(&cfg);
	for (int i = 0; i < PINMM_THP_NR_SIZES; i++) {
		snprintf(key, sizeof(key), "thp.%s", sizes[i]);
		for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
			assert_int_equal(pinmm_config_set(&cfg, key, values[v]), 0);
			assert_true(pinmm_config_get(&cfg, key, buf, sizeof(buf)) > 0);
			assert_string_equal(buf, values[v]);
		}
	}
	assert_int_equal(pinmm_config_set(&cfg, "thp.64K", "always"), 0);
	assert_int_equal(cfg.thp_size[2], PINMM_THP_ALWAYS);
}

static void test_bad_input(void **state)
{
	static const char *const bad_keys[] = { "thp.8K", "thp.4K", "thp.4096K", "thp.64k",
						"thp.64", "thp.65536", "thp.", "thp.1G" };
	static const char *const bad_values[] = { "", "Always", "sometimes", "1", "inherit " };
	struct pinmm_config cfg, before;

	(void)state;
	pinmm_config_default(&cfg);
	before = cfg;
	for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++)
		assert_int_equal(pinmm_config_set(&cfg, bad_keys[i], "always"), -EINVAL);
	for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++)
		assert_int_equal(pinmm_config_set(&cfg, "thp.64K", bad_values[i]), -EINVAL);
	assert_int_equal(pinmm_config_set(&cfg, "thp.64K", NULL), -EINVAL);
	/* "inherit" is for the per-size keys only, as in Linux's sysfs. */
	assert_int_equal(pinmm_config_set(&cfg, "thp", "inherit"), -EINVAL);
	assert_memory_equal(&cfg, &before, sizeof(cfg));
	/* A value written past the checks is caught at boot. */
	cfg.thp_size[3] = (enum pinmm_thp_mode)7;
	assert_int_equal(pinmm_config_validate(&cfg), -EINVAL);
}

static bool pmd_mapped(struct pinmm_proc *p, unsigned long a)
{
	struct pinmm_page_info pi;

	assert_int_equal(pinmm_page_info(p, a, &pi), 0);
	return pi.huge_mapped;
}

/* thp.2048K is the PMD size's own policy; inherit follows thp. */
static void test_pmd_size_key(void **state)
{
	static const struct { const char *thp, *pmd; bool madv, huge; } cases[] = {
		{ "always", "inherit", false, true },
		{ "never", "inherit", false, false },
		{ "never", "always", false, true },
		{ "always", "never", false, false },
		{ "never", "madvise", false, false },
		{ "never", "madvise", true, true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char t[32], s[32];
		struct pinmm *m;
		struct pinmm_proc *p;
		long a;

		snprintf(t, sizeof(t), "thp=%s", cases[i].thp);
		snprintf(s, sizeof(s), "thp.2048K=%s", cases[i].pmd);
		m = test_boot("ram=128M", "debug=2", t, s, NULL);
		p = test_proc(m);
		a = pinmm_mmap(p, 0, 2 * MiB, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		assert_true(a > 0 && !(a & (long)(2 * MiB - 1)));
		if (cases[i].madv)
			assert_int_equal(pinmm_madvise(p, (unsigned long)a, 2 * MiB,
						       MADV_HUGEPAGE), 0);
		test_store8(p, (unsigned long)a, 1);
		assert_int_equal(pmd_mapped(p, (unsigned long)a), cases[i].huge);
		test_shutdown_clean(m);
	}
}

/* pinmm_thp_set(): the policy of a running machine, as Linux's sysfs. */
static void test_runtime_set(void **state)
{
	struct pinmm *m = test_boot("ram=128M", "debug=2", "thp=never", NULL);
	struct pinmm_proc *p = test_proc(m);
	const struct pinmm_config *cfg = pinmm_machine_config(m);
	struct pinmm_config before = *cfg;
	struct pinmm_page_info pi;
	long a = pinmm_mmap(p, 0, 4 * MiB, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)state;
	assert_true(a > 0);
	a = (a + (long)(2 * MiB - 1)) & ~(long)(2 * MiB - 1);
	assert_int_equal(pinmm_thp_set(m, "ram", "1G"), -EINVAL);
	assert_int_equal(pinmm_thp_set(m, "thpx", "always"), -EINVAL);
	assert_int_equal(pinmm_thp_set(m, "thp.8K", "always"), -EINVAL);
	assert_int_equal(pinmm_thp_set(m, "thp.64K", "sometimes"), -EINVAL);
	assert_int_equal(pinmm_thp_set(m, "thp", "inherit"), -EINVAL);
	assert_int_equal(pinmm_thp_set(NULL, "thp", "always"), -EINVAL);
	assert_int_equal(pinmm_thp_set(m, NULL, "always"), -EINVAL);
	assert_int_equal(pinmm_thp_set(m, "thp", NULL), -EINVAL);
	assert_memory_equal(cfg, &before, sizeof(before));

	test_store8(p, (unsigned long)a, 1);
	assert_int_equal(pinmm_page_info(p, (unsigned long)a, &pi), 0);
	assert_int_equal(pi.folio_order, 0);
	assert_int_equal(pinmm_thp_set(m, "thp.32K", "always"), 0);
	assert_int_equal(cfg->thp_size[1], PINMM_THP_ALWAYS);
	test_store8(p, (unsigned long)a + 64 * KiB, 1);
	assert_int_equal(pinmm_page_info(p, (unsigned long)a + 64 * KiB, &pi), 0);
	assert_int_equal(pi.folio_order, 3);
	/* thp=always now reaches the PMD size (thp.2048K inherit). */
	assert_int_equal(pinmm_thp_set(m, "thp", "always"), 0);
	test_store8(p, (unsigned long)a + 2 * MiB, 1);
	assert_int_equal(pinmm_page_info(p, (unsigned long)a + 2 * MiB, &pi), 0);
	assert_true(pi.huge_mapped);
	assert_int_equal(cfg->thp_size[1], PINMM_THP_ALWAYS);
	test_shutdown_clean(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_pmd_size_key),
		cmocka_unit_test(test_runtime_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
