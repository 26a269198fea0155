/* SPDX-License-Identifier: MIT */
/*
 * fuzz_common.h - what the libFuzzer targets of tests/fuzz share: their
 * scratch files, and how a violated expectation becomes a finding.
 */
#ifndef PINMM_FUZZ_COMMON_H
#define PINMM_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A violated expectation: abort(), which libFuzzer records as a crash. */
#define fuzz_fail(...) do {						\
		fprintf(stderr, "fuzz: " __VA_ARGS__);			\
		fputc('\n', stderr);					\
		abort();						\
	} while (0)

/* A library call's result must be >= 0 or a negative errno. */
static inline long fuzz_ck(long rc, const char *what)
{
	if (rc < -4095)
		fuzz_fail("%s returned %ld: neither success nor -errno", what, rc);
	return rc;
}

#define FUZZ_NFILES 2
static char fuzz_files[FUZZ_NFILES][64];

static inline void fuzz_remove_files(void)
{
	for (int i = 0; i < FUZZ_NFILES; i++)
		if (fuzz_files[i][0])
			unlink(fuzz_files[i]);
}

/*
 * fuzz_scratch() - the path of this process's scratch file number @i (an
 * image, a script), in $TMPDIR, else /dev/shm (image fsyncs cost nothing
 * there), else /tmp; removed at exit.
 */
static inline const char *fuzz_scratch(int i, const char *suffix)
{
	const char *tmp = getenv("TMPDIR");

	if (!tmp || strlen(tmp) > 32)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(fuzz_files[i], sizeof(fuzz_files[i]), "%s/pinmm-fuzz-%d.%s", tmp,
		 (int)getpid(), suffix);
	if (i == 0)
		atexit(fuzz_remove_files);
	return fuzz_files[i];
}

#endif /* PINMM_FUZZ_COMMON_H */
