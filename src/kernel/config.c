/* SPDX-License-Identifier: MIT */
/*
 * config.c - struct pinmm_config: defaults, the key=value interface
 * (doc/API.md §3 plus pinmm's own keys) and the whole-configuration check run at
 * boot (pinmm_config_validate()).
 *
 * Per-key checks happen in pinmm_config_set(); checks that relate keys to
 * each other (zones must fit in ram) happen at boot, so keys may be set in
 * any order.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"
#include "rcu.h"
#include "smp.h"

#define CFG_KiB	(1ULL << 10)
#define CFG_MiB	(1ULL << 20)
#define CFG_GiB	(1ULL << 30)
#define CFG_TiB	(1ULL << 40)

#define RAM_MIN		(64 * CFG_MiB)
#define RAM_MAX		CFG_TiB
#define RAM_ALIGN	(2 * CFG_MiB)	/* so that pmem starts PMD-aligned */
#define PMEM_MAX	CFG_TiB
#define SWAP_MAX	(64 * CFG_GiB)

/**
 * pinmm_config_default() - fill @cfg with the documented defaults.
 * @cfg: the configuration to fill
 *
 * ram 4G, no MOVABLE/CMA/pmem, thp madvise, pin.tracking bias,
 * fs.pinned_policy linux, rlimit.memlock 8M, debug 1, seed 1, no periodic
 * writeback, no injected pinfs I/O errors, dax.truncate_wait_ms 1000,
 * pinfs.dirty_no_blocks remap, nr_cpus 4, shutdown.wait_ms 1000, no failure
 * injection, thp.16K .. thp.1024K never and thp.2048K inherit (Linux's
 * defaults for hugepages-<size>kB/enabled), no trace (trace.file empty)
 * with 4M trace buffers per thread.
 * Context: any.
 */
void pinmm_config_default(struct pinmm_config *cfg)
{
	pinmm_thread_enter();
	memset(cfg, 0, sizeof(*cfg));
	cfg->ram = 4 * CFG_GiB;
	cfg->thp = PINMM_THP_MADVISE;
	cfg->pin_tracking = PINMM_PIN_BIAS;
	cfg->fs_policy = PINMM_FS_LINUX;
	cfg->pinfs_size = 256 * CFG_MiB;
	cfg->rlimit_memlock = 8 * CFG_MiB;
	cfg->debug = 1;
	cfg->seed = 1;
	cfg->pin_provenance = false;
	cfg->quiet = false;
	cfg->holdoff_ms = 100;
	cfg->lease_break_ms = 100;
	cfg->lease_outcome = PINMM_LEASE_REVOKE;
	cfg->dax_truncate_wait_ms = 1000;
	cfg->nr_cpus = 4;
	cfg->shutdown_wait_ms = 1000;
	/* Linux's khugepaged and ksmd defaults; no threads unless asked. */
	cfg->khugepaged_pages_to_scan = 8 * 512;
	cfg->khugepaged_max_ptes_none = 511;
	cfg->khugepaged_max_ptes_swap = 64;
	cfg->khugepaged_max_ptes_shared = 256;
	cfg->thp_size[PINMM_THP_NR_SIZES - 1] = PINMM_THP_INHERIT;
	cfg->trace_buffer_size = 4 * CFG_MiB;	/* per thread (doc/TRACING.md) */
}

enum cfg_type { T_SIZE, T_ENUM, T_BOOL, T_U64, T_INT, T_PATH, T_MEMLOCK, T_FAILIO, T_STR,
		T_PERCENT };

struct cfg_key {
	const char *key;
	enum cfg_type type;
	size_t offset;
	const char *const *names;	/* T_ENUM: values by enum value */
	int nr_names;
	uint64_t min, max;		/* T_SIZE, T_U64, T_INT */
	uint64_t align;			/* T_SIZE */
};

static const char *const thp_names[] = {
	[PINMM_THP_NEVER] = "never", [PINMM_THP_MADVISE] = "madvise",
	[PINMM_THP_ALWAYS] = "always",
};
/* thp.<size>K also takes "inherit": follow the thp key. */
static const char *const thp_size_names[] = {
	[PINMM_THP_NEVER] = "never", [PINMM_THP_MADVISE] = "madvise",
	[PINMM_THP_ALWAYS] = "always", [PINMM_THP_INHERIT] = "inherit",
};
static const char *const tracking_names[] = {
	[PINMM_PIN_BIAS] = "bias", [PINMM_PIN_EXACT] = "exact",
	[PINMM_PIN_MAPCOUNT] = "mapcount",
};
static const char *const policy_names[] = {
	[PINMM_FS_LEGACY] = "legacy", [PINMM_FS_LINUX] = "linux",
	[PINMM_FS_HOLDOFF] = "holdoff", [PINMM_FS_BOUNCE] = "bounce",
	[PINMM_FS_LEASE] = "lease", [PINMM_FS_BUSYBLOCKS] = "busyblocks",
};
static const char *const lease_outcome_names[] = {
	[PINMM_LEASE_WAIT] = "wait", [PINMM_LEASE_FAIL] = "fail",
	[PINMM_LEASE_REVOKE] = "revoke", [PINMM_LEASE_UNBREAKABLE] = "unbreakable",
};
static const char *const no_blocks_names[] = {
	[PINMM_NOBLK_REMAP] = "remap", [PINMM_NOBLK_BUG] = "bug",
};

#define OFF(f) offsetof(struct pinmm_config, f)
static const struct cfg_key cfg_keys[] = {
	{ "ram", T_SIZE, OFF(ram), NULL, 0, RAM_MIN, RAM_MAX, RAM_ALIGN },
	{ "zone.movable", T_SIZE, OFF(zone_movable), NULL, 0, 0, RAM_MAX, PAGE_SIZE },
	{ "zone.cma", T_SIZE, OFF(zone_cma), NULL, 0, 0, RAM_MAX, PAGE_SIZE },
	{ "pmem", T_SIZE, OFF(pmem), NULL, 0, 0, PMEM_MAX, PAGE_SIZE },
	{ "thp", T_ENUM, OFF(thp), thp_names, ARRAY_SIZE(thp_names), 0, 0, 0 },
	{ "pin.tracking", T_ENUM, OFF(pin_tracking), tracking_names,
	  ARRAY_SIZE(tracking_names), 0, 0, 0 },
	{ "fs.pinned_policy", T_ENUM, OFF(fs_policy), policy_names,
	  ARRAY_SIZE(policy_names), 0, 0, 0 },
	{ "pinfs.image", T_PATH, OFF(pinfs_image), NULL, 0, 0, 0, 0 },
	{ "pinfs.size", T_SIZE, OFF(pinfs_size), NULL, 0, CFG_MiB, CFG_TiB, PAGE_SIZE },
	{ "rlimit.memlock", T_MEMLOCK, OFF(rlimit_memlock), NULL, 0, 0, 0, 0 },
	{ "debug", T_INT, OFF(debug), NULL, 0, 0, 2, 0 },
	{ "nr_cpus", T_INT, OFF(nr_cpus), NULL, 0, 1, PINMM_MAX_CPUS, 0 },
	{ "seed", T_U64, OFF(seed), NULL, 0, 0, UINT64_MAX, 0 },
	{ "pin.provenance", T_BOOL, OFF(pin_provenance), NULL, 0, 0, 0, 0 },
	{ "quiet", T_BOOL, OFF(quiet), NULL, 0, 0, 0, 0 },
	{ "holdoff_ms", T_U64, OFF(holdoff_ms), NULL, 0, 0, 3600 * 1000, 0 },
	{ "lease_break_ms", T_U64, OFF(lease_break_ms), NULL, 0, 0, 3600 * 1000, 0 },
	{ "writeback.interval_ms", T_U64, OFF(writeback_interval_ms), NULL, 0, 0,
	  3600 * 1000, 0 },
	{ "pinfs.fail_io", T_FAILIO, OFF(pinfs_fail_read), NULL, 0, 0, 0, 0 },
	{ "dax.truncate_wait_ms", T_U64, OFF(dax_truncate_wait_ms), NULL, 0, 0, 3600 * 1000, 0 },
	{ "dio.latency_us", T_U64, OFF(dio_latency_us), NULL, 0, 0, 10 * 1000 * 1000, 0 },
	{ "writeback.latency_us", T_U64, OFF(writeback_latency_us), NULL, 0, 0,
	  10 * 1000 * 1000, 0 },
	{ "pinfs.dirty_no_blocks", T_ENUM, OFF(pinfs_no_blocks), no_blocks_names,
	  ARRAY_SIZE(no_blocks_names), 0, 0, 0 },
	{ "shutdown.wait_ms", T_U64, OFF(shutdown_wait_ms), NULL, 0, 0, 3600 * 1000, 0 },
	{ "fail.nth", T_U64, OFF(fail_nth), NULL, 0, 0, INT64_MAX, 0 },
	{ "fail.probability", T_PERCENT, OFF(fail_ppm), NULL, 0, 0, 0, 0 },
	{ "fail.seed", T_U64, OFF(fail_seed), NULL, 0, 0, INT64_MAX, 0 },
	{ "fail.times", T_U64, OFF(fail_times), NULL, 0, 0, INT64_MAX, 0 },
	{ "fail.site", T_STR, OFF(fail_site), NULL, 0, 0,
	  sizeof(((struct pinmm_config *)0)->fail_site), 0 },
	{ "swap", T_SIZE, OFF(swap), NULL, 0, 0, SWAP_MAX, PAGE_SIZE },
	{ "swap.latency_us", T_U64, OFF(swap_latency_us), NULL, 0, 0, 10 * 1000 * 1000, 0 },
	{ "khugepaged.scan_sleep_ms", T_U64, OFF(khugepaged_scan_sleep_ms), NULL, 0, 0,
	  3600 * 1000, 0 },
	{ "khugepaged.pages_to_scan", T_U64, OFF(khugepaged_pages_to_scan), NULL, 0, 1,
	  UINT32_MAX, 0 },
	{ "khugepaged.max_ptes_none", T_U64, OFF(khugepaged_max_ptes_none), NULL, 0, 0, 511, 0 },
	{ "khugepaged.max_ptes_swap", T_U64, OFF(khugepaged_max_ptes_swap), NULL, 0, 0, 511, 0 },
	{ "khugepaged.max_ptes_shared", T_U64, OFF(khugepaged_max_ptes_shared), NULL, 0, 0,
	  511, 0 },
	{ "ksm.sleep_ms", T_U64, OFF(ksm_sleep_ms), NULL, 0, 0, 3600 * 1000, 0 },
#define THP_SIZE_KEY(name, i) \
	{ name, T_ENUM, OFF(thp_size[i]), thp_size_names, ARRAY_SIZE(thp_size_names), 0, 0, 0 }
	THP_SIZE_KEY("thp.16K", 0), THP_SIZE_KEY("thp.32K", 1), THP_SIZE_KEY("thp.64K", 2),
	THP_SIZE_KEY("thp.128K", 3), THP_SIZE_KEY("thp.256K", 4), THP_SIZE_KEY("thp.512K", 5),
	THP_SIZE_KEY("thp.1024K", 6), THP_SIZE_KEY("thp.2048K", 7),
#undef THP_SIZE_KEY
	{ "hugepages.2M", T_U64, OFF(hugepages_2m), NULL, 0, 0, 1UL << 20, 0 },
	{ "hugepages.1G", T_U64, OFF(hugepages_1g), NULL, 0, 0, 1UL << 10, 0 },
	{ "lease.outcome", T_ENUM, OFF(lease_outcome), lease_outcome_names,
	  ARRAY_SIZE(lease_outcome_names), 0, 0, 0 },
	{ "trace.file", T_PATH, OFF(trace_file), NULL, 0, 0, 0, 0 },
	{ "trace.buffer_size", T_SIZE, OFF(trace_buffer_size), NULL, 0, 64 * CFG_KiB, CFG_GiB,
	  PAGE_SIZE },
	{ "legacy.cow_mapcount", T_BOOL, OFF(legacy_cow_mapcount), NULL, 0, 0, 0, 0 },
	{ "legacy.gup_fast_no_seq", T_BOOL, OFF(legacy_gup_fast_no_seq), NULL, 0, 0, 0, 0 },
	{ "legacy.gup_fast_no_recheck", T_BOOL, OFF(legacy_gup_fast_no_recheck), NULL, 0, 0, 0, 0 },
	{ "legacy.migrate_no_freeze", T_BOOL, OFF(legacy_migrate_no_freeze), NULL, 0, 0, 0, 0 },
};
#undef OFF

static const char *const cfg_key_names[ARRAY_SIZE(cfg_keys) + 1] = {
	"ram", "zone.movable", "zone.cma", "pmem", "thp", "pin.tracking",
	"fs.pinned_policy", "pinfs.image", "pinfs.size", "rlimit.memlock",
	"debug", "nr_cpus", "seed", "pin.provenance", "quiet", "holdoff_ms",
	"lease_break_ms", "writeback.interval_ms", "pinfs.fail_io", "dax.truncate_wait_ms",
	"dio.latency_us", "writeback.latency_us", "pinfs.dirty_no_blocks", "shutdown.wait_ms",
	"fail.nth", "fail.probability", "fail.seed", "fail.times", "fail.site", "swap",
	"swap.latency_us", "khugepaged.scan_sleep_ms", "khugepaged.pages_to_scan",
	"khugepaged.max_ptes_none", "khugepaged.max_ptes_swap", "khugepaged.max_ptes_shared",
	"ksm.sleep_ms", "thp.16K", "thp.32K", "thp.64K", "thp.128K", "thp.256K",
	"thp.512K", "thp.1024K", "thp.2048K", "hugepages.2M", "hugepages.1G",
	"lease.outcome", "trace.file", "trace.buffer_size", "legacy.cow_mapcount",
	"legacy.gup_fast_no_seq", "legacy.gup_fast_no_recheck", "legacy.migrate_no_freeze", NULL,
};

static const struct cfg_key *cfg_find(const char *key)
{
	if (!key)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(cfg_keys); i++)
		if (!strcmp(cfg_keys[i].key, key))
			return &cfg_keys[i];
	return NULL;
}

/* Parse an unsigned decimal (or 0x hex) integer, the whole string. */
static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || !isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* "4096", "4K", "64M", "4G", "1T" (upper or lower case, optional B/iB). */
static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	if (!*s || !isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	switch (toupper((unsigned char)*end)) {
	case 0:
		break;
	case 'K': mult = CFG_KiB; end++; break;
	case 'M': mult = CFG_MiB; end++; break;
	case 'G': mult = CFG_GiB; end++; break;
	case 'T': mult = CFG_TiB; end++; break;
	case 'B': break;
	default:
		return false;
	}
	if (mult != 1 && (*end == 'i' || *end == 'I') && toupper((unsigned char)end[1]) == 'B')
		end += 2;
	else if (toupper((unsigned char)*end) == 'B')
		end++;
	if (*end)
		return false;
	if (v > UINT64_MAX / mult)
		return false;
	*out = v * mult;
	return true;
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "on", "true", "yes" };
	static const char *const no[] = { "0", "off", "false", "no" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return true;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return true;
		}
	}
	return false;
}

/*
 * pinfs.fail_io: "read:N,write:N" (either part optional, "off" for none):
 * the Nth image read / write after mount fails with EIO.
 */
static bool parse_failio(const char *s, uint64_t *rd, uint64_t *wr)
{
	char buf[128], *save = NULL, *tok;

	*rd = *wr = 0;
	if (!strcmp(s, "off") || !strcmp(s, "0") || !*s)
		return true;
	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		uint64_t v;

		if (!colon || !parse_u64(colon + 1, &v) || !v)
			return false;
		*colon = 0;
		if (!strcmp(tok, "read"))
			*rd = v;
		else if (!strcmp(tok, "write"))
			*wr = v;
		else
			return false;
	}
	return true;
}

/* "12.5" (percent, 0..100) into parts per million. */
static bool parse_percent(const char *s, uint32_t *ppm)
{
	char *end;
	double v;

	if (!*s || !(isdigit((unsigned char)*s) || *s == '.'))
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= 0.0 && v <= 100.0))
		return false;
	*ppm = (uint32_t)(v * 10000.0 + 0.5);
	return true;
}

static int cfg_bad(const char *key, const char *value, const char *why)
{
	fprintf(stderr, "pinmm: config: bad value '%s' for key '%s': %s\n",
		value ? value : "(null)", key, why);
	return -EINVAL;
}

/**
 * pinmm_config_set() - set one key of @cfg from its text form.
 * @cfg: the configuration
 * @key: one of pinmm_config_keys()
 * @value: the value ("4G", "madvise", "on", ...)
 *
 * Checks the value on its own; how keys relate to each other (zones inside
 * ram) is checked when the machine boots.
 * Context: any.
 * Return: 0; -EINVAL for an unknown key or a bad value, after printing a
 * message naming both to stderr.
 */
int pinmm_config_set(struct pinmm_config *cfg, const char *key, const char *value)
{
	const struct cfg_key *k;
	char *field;
	uint64_t v;
	bool b;

	pinmm_thread_enter();
	k = cfg_find(key);
	if (!k && key && !strncmp(key, "thp.", 4)) {
		fprintf(stderr, "pinmm: config: '%s': no such THP size (thp.<size>K takes "
			"16K, 32K, 64K, 128K, 256K, 512K, 1024K or 2048K)\n", key);
		return -EINVAL;
	}
	if (!k) {
		fprintf(stderr, "pinmm: config: unknown key '%s' (value '%s')\n",
			key ? key : "(null)", value ? value : "(null)");
		return -EINVAL;
	}
	if (!cfg || !value)
		return cfg_bad(k->key, value, "no value");
	field = (char *)cfg + k->offset;
	switch (k->type) {
	case T_SIZE:
		if (!parse_size(value, &v))
			return cfg_bad(key, value, "not a size (bytes or K/M/G/T suffix)");
		if (v < k->min || v > k->max)
			return cfg_bad(key, value, "out of range");
		if (k->align && v % k->align)
			return cfg_bad(key, value, k->align == PAGE_SIZE ?
				       "not a multiple of 4K" : "not a multiple of 2M");
		*(uint64_t *)(void *)field = v;
		return 0;
	case T_MEMLOCK:
		if (!strcasecmp(value, "unlimited") || !strcasecmp(value, "infinity")) {
			cfg->rlimit_memlock = PINMM_RLIM_INFINITY;
			return 0;
		}
		if (!parse_size(value, &v))
			return cfg_bad(key, value, "not a size or 'unlimited'");
		cfg->rlimit_memlock = v;
		return 0;
	case T_ENUM:
		for (int i = 0; i < k->nr_names; i++) {
			if (!strcmp(value, k->names[i])) {
				*(int *)(void *)field = i;
				return 0;
			}
		}
		return cfg_bad(key, value, "not one of the allowed values");
	case T_BOOL:
		if (!parse_bool(value, &b))
			return cfg_bad(key, value, "not 0/1/on/off");
		*(bool *)(void *)field = b;
		return 0;
	case T_U64:
	case T_INT:
		if (!parse_u64(value, &v))
			return cfg_bad(key, value, "not an unsigned integer");
		if (v < k->min || v > k->max)
			return cfg_bad(key, value, "out of range");
		if (k->type == T_INT)
			*(int *)(void *)field = (int)v;
		else
			*(uint64_t *)(void *)field = v;
		return 0;
	case T_FAILIO:
		if (!parse_failio(value, &cfg->pinfs_fail_read, &cfg->pinfs_fail_write))
			return cfg_bad(key, value, "not 'read:N,write:N' (N >= 1) or 'off'");
		return 0;
	case T_PATH:
		if (strlen(value) >= PINMM_PATH_MAX)
			return cfg_bad(key, value, "path too long");
		strcpy(field, value);
		return 0;
	case T_STR:
		if (strlen(value) >= k->max)
			return cfg_bad(key, value, "too long");
		strcpy(field, value);
		return 0;
	case T_PERCENT:
		if (!parse_percent(value, (uint32_t *)(void *)field))
			return cfg_bad(key, value, "not a percentage 0..100");
		return 0;
	}
	return -EINVAL;
}

/* Exact binary suffix if there is one: 4294967296 -> "4G". */
static int format_size(char *buf, size_t len, uint64_t v)
{
	static const char suffix[] = "KMGT";

	if (v) {
		for (int i = 3; i >= 0; i--) {
			uint64_t unit = CFG_KiB << (10 * i);

			if (v % unit == 0)
				return snprintf(buf, len, "%" PRIu64 "%c", v / unit, suffix[i]);
		}
	}
	return snprintf(buf, len, "%" PRIu64, v);
}

/**
 * pinmm_config_get() - the text form of @key's value, which
 * pinmm_config_set() accepts back.
 * @cfg: the configuration
 * @key: one of pinmm_config_keys()
 * @buf: output buffer
 * @len: its size
 *
 * Context: any.
 * Return: length written (without the NUL), -EINVAL for an unknown key,
 * -ERANGE if @len is too short for the value and its NUL.
 */
int pinmm_config_get(const struct pinmm_config *cfg, const char *key, char *buf,
		     size_t len)
{
	const struct cfg_key *k = cfg_find(key);
	const char *field;
	char tmp[PINMM_PATH_MAX + 32];
	int n = 0;

	pinmm_thread_enter();
	if (!k || !cfg)
		return -EINVAL;
	field = (const char *)cfg + k->offset;
	switch (k->type) {
	case T_SIZE:
		n = format_size(tmp, sizeof(tmp), *(const uint64_t *)(const void *)field);
		break;
	case T_MEMLOCK:
		if (cfg->rlimit_memlock == PINMM_RLIM_INFINITY)
			n = snprintf(tmp, sizeof(tmp), "unlimited");
		else
			n = format_size(tmp, sizeof(tmp), cfg->rlimit_memlock);
		break;
	case T_ENUM: {
		int i = *(const int *)(const void *)field;

		n = snprintf(tmp, sizeof(tmp), "%s",
			     i >= 0 && i < k->nr_names ? k->names[i] : "?");
		break;
	}
	case T_BOOL:
		n = snprintf(tmp, sizeof(tmp), "%d", *(const bool *)(const void *)field ? 1 : 0);
		break;
	case T_U64:
		n = snprintf(tmp, sizeof(tmp), "%" PRIu64, *(const uint64_t *)(const void *)field);
		break;
	case T_INT:
		n = snprintf(tmp, sizeof(tmp), "%d", *(const int *)(const void *)field);
		break;
	case T_PATH:
		n = snprintf(tmp, sizeof(tmp), "%.*s", PINMM_PATH_MAX - 1, field);
		break;
	case T_FAILIO:
		if (!cfg->pinfs_fail_read && !cfg->pinfs_fail_write)
			n = snprintf(tmp, sizeof(tmp), "off");
		else if (!cfg->pinfs_fail_write)
			n = snprintf(tmp, sizeof(tmp), "read:%" PRIu64, cfg->pinfs_fail_read);
		else if (!cfg->pinfs_fail_read)
			n = snprintf(tmp, sizeof(tmp), "write:%" PRIu64, cfg->pinfs_fail_write);
		else
			n = snprintf(tmp, sizeof(tmp), "read:%" PRIu64 ",write:%" PRIu64,
				     cfg->pinfs_fail_read, cfg->pinfs_fail_write);
		break;
	case T_STR:
		n = snprintf(tmp, sizeof(tmp), "%.*s", (int)k->max - 1, field);
		break;
	case T_PERCENT: {
		uint32_t ppm = *(const uint32_t *)(const void *)field;

		n = snprintf(tmp, sizeof(tmp), "%u.%04u", ppm / 10000, ppm % 10000);
		break;
	}
	}
	if (n < 0)
		return -EINVAL;
	if (!buf || (size_t)n >= len)
		return -ERANGE;
	memcpy(buf, tmp, (size_t)n + 1);
	return n;
}

/**
 * pinmm_config_keys() - every key pinmm_config_set() knows.
 *
 * Context: any.
 * Return: a NULL-terminated static array.
 */
const char *const *pinmm_config_keys(void)
{
	pinmm_thread_enter();
	return cfg_key_names;
}

/**
 * pinmm_config_validate() - check a whole configuration before boot.
 * @cfg: the configuration (filled with pinmm_config_default() and set)
 *
 * Every per-key rule again (the fields may have been written directly), and
 * the relations: zone.movable + zone.cma leaves ZONE_NORMAL at least
 * 32 MiB (page tables and kernel allocations come only from there).
 * Context: any.
 * Return: 0, or -EINVAL after printing the reason to stderr.
 */
int pinmm_config_validate(const struct pinmm_config *cfg)
{
	char v[64];

	BUILD_BUG_ON(ARRAY_SIZE(cfg_key_names) != ARRAY_SIZE(cfg_keys) + 1);
	for (size_t i = 0; i < ARRAY_SIZE(cfg_keys); i++) {
		const struct cfg_key *k = &cfg_keys[i];
		const char *field = (const char *)cfg + k->offset;
		uint64_t x;

		switch (k->type) {
		case T_SIZE:
			x = *(const uint64_t *)(const void *)field;
			if (x < k->min || x > k->max || (k->align && x % k->align)) {
				format_size(v, sizeof(v), x);
				return cfg_bad(k->key, v, "invalid size");
			}
			break;
		case T_ENUM: {
			int e = *(const int *)(const void *)field;

			if (e < 0 || e >= k->nr_names) {
				snprintf(v, sizeof(v), "%d", e);
				return cfg_bad(k->key, v, "invalid value");
			}
			break;
		}
		case T_INT: {
			int e = *(const int *)(const void *)field;

			if (e < (int)k->min || e > (int)k->max) {
				snprintf(v, sizeof(v), "%d", e);
				return cfg_bad(k->key, v, "out of range");
			}
			break;
		}
		case T_PATH:
			if (!memchr(field, 0, PINMM_PATH_MAX))
				return cfg_bad(k->key, "...", "not NUL-terminated");
			break;
		case T_STR:
			if (!memchr(field, 0, k->max))
				return cfg_bad(k->key, "...", "not NUL-terminated");
			break;
		case T_PERCENT:
			if (*(const uint32_t *)(const void *)field > 1000000)
				return cfg_bad(k->key, "...", "above 100%");
			break;
		default:
			break;
		}
	}
	if (cfg->zone_movable + cfg->zone_cma + 32 * CFG_MiB > cfg->ram) {
		fprintf(stderr, "pinmm: config: zone.movable (%" PRIu64 ") + zone.cma (%"
			PRIu64 ") must leave at least 32M of ram (%" PRIu64 ") to ZONE_NORMAL\n",
			cfg->zone_movable, cfg->zone_cma, cfg->ram);
		return -EINVAL;
	}
	return 0;
}
