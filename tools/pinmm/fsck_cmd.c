/* SPDX-License-Identifier: MIT */
/*
 * fsck_cmd.c - `pinmm fsck [--repair] [-q] IMAGE`: check a pinfs image
 * (the checker is the library's, the same one every mount runs).
 *
 * Exit status: 0 clean, 1 problems found (repaired with --repair, or not
 * a usable pinfs image), 2 usage, 8 the image cannot be opened or read
 * (fsck(8)'s "operational error").
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <pinmm/pinfs.h>

#include "tool.h"

#define EXIT_OPERATIONAL	8

static void fsck_usage(FILE *f)
{
	fputs("Usage: pinmm fsck [--repair] [-q] IMAGE\n"
	      "\n"
	      "Check the pinfs image IMAGE: super block, inodes, block pointers\n"
	      "(out of range, shared, loops) and the block bitmap.\n"
	      "\n"
	      "Options:\n"
	      "  -r, --repair   fix what is found: clear bad pointers, free orphans,\n"
	      "                 rebuild the bitmap and counters, mark the image clean\n"
	      "  -q, --quiet    no report, only the exit status\n"
	      "  -h, --help     this text\n"
	      "\n"
	      "Exit status: 0 clean, 1 problems found (repaired with --repair),\n"
	      "2 usage error, 8 the image cannot be opened or read.\n", f);
}

/**
 * pinmm_cmd_fsck() - the fsck subcommand.
 * @argc: arguments, argv[0] being "fsck".
 * @argv: the arguments.
 *
 * Context: the tool's main thread.
 * Return: the exit status.
 */
int pinmm_cmd_fsck(int argc, char **argv)
{
	const char *image = NULL;
	bool repair = false, quiet = false;
	int ret;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-r") || !strcmp(a, "--repair")) {
			repair = true;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			quiet = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fsck_usage(stdout);
			return EXIT_OK;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "pinmm: fsck: unknown option '%s'\n", a);
			fsck_usage(stderr);
			return EXIT_USAGE;
		} else if (image) {
			fprintf(stderr, "pinmm: fsck: more than one image given\n");
			return EXIT_USAGE;
		} else {
			image = a;
		}
	}
	if (!image) {
		fsck_usage(stderr);
		return EXIT_USAGE;
	}
	ret = pinfs_check_image(image, repair, quiet ? NULL : stdout);
	if (ret == -EUCLEAN)
		return EXIT_FAIL;
	if (ret < 0) {
		fprintf(stderr, "pinmm: fsck: %s: %s\n", image, strerror(-ret));
		return EXIT_OPERATIONAL;
	}
	return ret ? EXIT_FAIL : EXIT_OK;
}
