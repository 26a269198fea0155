/* SPDX-License-Identifier: MIT */
/*
 * fuzz_script.c - libFuzzer target: one fuzzed scenario script, parsed and
 * run by the pinmm tool's own runner (tools/pinmm/script*.c, linked as
 * they are; only main.c is left out).
 *
 * The input is the text of a script.  It goes through script_run_file()
 * exactly as `pinmm run -q FILE` would: lexing, the syntax pre-check, then
 * every line on whatever machine the script boots, the final shutdown and
 * the release of what the script left pinned.  A crash, a sanitizer report,
 * a leak or a timeout is a finding; the script's own exit status is not
 * (a fuzzed script mostly fails, which is its job).
 *
 * The shim wraps pinmm_boot() (linked with -Wl,--wrap=pinmm_boot) so that a
 * script stays a small, host-safe machine whatever its `boot` line says:
 * at most FUZZ_RAM_MAX of RAM and of pmem, a pinfs image only at this
 * process's own temporary path (never a host path the script names) and
 * of at most FUZZ_IMAGE_MAX, and latencies and deadlines capped so that
 * one input cannot sleep for seconds.  A refused configuration is -ENOMEM
 * or -ENOSPC, which the script sees as any failed boot.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"
#include "fuzz_common.h"

#define FUZZ_RAM_MAX	(64ULL << 20)
#define FUZZ_IMAGE_MAX	(1ULL << 20)
#define FUZZ_WAIT_MS	20	/* holdoff, lease break, DAX truncate wait */
#define FUZZ_LATENCY_US	200	/* dio, writeback */
#define FUZZ_INPUT_MAX	16384

int __real_pinmm_boot(const struct pinmm_config *cfg, struct pinmm **out);
int __wrap_pinmm_boot(const struct pinmm_config *cfg, struct pinmm **out);

static const char *script_path, *image_path;

static uint64_t cap(uint64_t v, uint64_t max)
{
	return v > max ? max : v;
}

int __wrap_pinmm_boot(const struct pinmm_config *cfg, struct pinmm **out)
{
	struct pinmm_config c;

	if (!cfg || !out)
		return __real_pinmm_boot(cfg, out);
	c = *cfg;
	if (c.ram > FUZZ_RAM_MAX || c.pmem > FUZZ_RAM_MAX)
		return -ENOMEM;
	if (c.pinfs_image[0]) {
		/* the runner's own /data/ image (no pinfs.image given): kept small */
		if (c.pinfs_size > FUZZ_IMAGE_MAX && cfg->pinfs_image[0] &&
		    strstr(cfg->pinfs_image, "/pinmm-run-"))
			c.pinfs_size = FUZZ_IMAGE_MAX;
		if (c.pinfs_size > FUZZ_IMAGE_MAX)
			return -ENOSPC;
		snprintf(c.pinfs_image, sizeof(c.pinfs_image), "%s", image_path);
	}
	c.holdoff_ms = cap(c.holdoff_ms, FUZZ_WAIT_MS);
	c.lease_break_ms = cap(c.lease_break_ms, FUZZ_WAIT_MS);
	c.dax_truncate_wait_ms = cap(c.dax_truncate_wait_ms, FUZZ_WAIT_MS);
	c.dio_latency_us = cap(c.dio_latency_us, FUZZ_LATENCY_US);
	c.writeback_latency_us = cap(c.writeback_latency_us, FUZZ_LATENCY_US);
	if (c.writeback_interval_ms && c.writeback_interval_ms < 10)
		c.writeback_interval_ms = 10;
	c.quiet = true;
	return __real_pinmm_boot(&c, out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	script_path = fuzz_scratch(0, "pinmm");
	image_path = fuzz_scratch(1, "img");
	/* The runner's output is not the finding; PINMM_FUZZ_VERBOSE shows it. */
	if (!getenv("PINMM_FUZZ_VERBOSE")) {
		if (!freopen("/dev/null", "w", stdout))
			return 0;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run_opts o = { .quiet = true };
	int fd;

	if (size > FUZZ_INPUT_MAX)
		return -1;	/* not added to the corpus */
	unlink(image_path);	/* each script starts without an image */
	fd = open(script_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		fuzz_fail("cannot write %s", script_path);
	close(fd);
	script_run_file(&o, script_path);
	fflush(stdout);
	return 0;
}
