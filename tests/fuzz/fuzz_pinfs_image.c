/* SPDX-License-Identifier: MIT */
/*
 * fuzz_pinfs_image.c - libFuzzer target: a fuzzed pinfs image, checked,
 * repaired, mounted, read, written, unmounted and mounted again.
 *
 * Input: one mode byte, then the image.  The image bytes are written to a
 * file of this process's own (padded with zeros to FUZZ_IMAGE_MIN when
 * shorter, so that a seed need not carry the zero tail of an image).  The
 * mode byte's bits:
 *   0  store the right super-block checksum first (else the fuzzer would
 *      almost never get past the checksum into the layout and inodes);
 *   1  run `fsck --repair` before mounting (else mount the image as it is:
 *      the mount-time checker must refuse what is damaged);
 *   2  write after mounting: pwrite, ftruncate, a hole punch and a mapped
 *      store into every file, and create a new file.
 * The target checks, beyond "no crash, no sanitizer report, no leak":
 *   - every library call returns success or a negative errno;
 *   - a repair converges: after pinfs_check_image(repair) >= 0 a check
 *     finds 0 problems, and the repaired image mounts;
 *   - a mounted image passes pinmm_audit(), unmounts (pinmm_shutdown()) with
 *     0, is clean for fsck afterwards, and mounts and unmounts again.
 * Any violation calls abort(), which libFuzzer records as a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pinmm/pinmm.h>
#include <pinmm/pinfs.h>

#include "pinfs.h"
#include "fuzz_common.h"

#define FUZZ_IMAGE_MIN	(256u * PINFS_BLOCK_SIZE)	/* pinfs.size=1M */
#define FUZZ_READ_MAX	(64u * 1024)
#define FUZZ_FILES_MAX	32

enum {
	MODE_FIX_CSUM = 1 << 0,
	MODE_REPAIR = 1 << 1,
	MODE_WRITE = 1 << 2,
};

static const char *image_path;
static unsigned char rbuf[FUZZ_READ_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	image_path = fuzz_scratch(0, "img");
	return 0;
}

static void write_image(const uint8_t *img, size_t len, unsigned mode)
{
	uint8_t sb[PINFS_BLOCK_SIZE] = { 0 };
	int fd = open(image_path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		fuzz_fail("cannot create %s", image_path);
	if (len && write(fd, img, len) != (ssize_t)len)
		fuzz_fail("short write of %s", image_path);
	if (len < FUZZ_IMAGE_MIN && ftruncate(fd, FUZZ_IMAGE_MIN))
		fuzz_fail("cannot extend %s", image_path);
	if ((mode & MODE_FIX_CSUM) && pread(fd, sb, sizeof(sb), 0) == (ssize_t)sizeof(sb)) {
		uint32_t c = pinfs_super_csum(sb);
		uint8_t le[4] = { c & 0xff, (c >> 8) & 0xff, (c >> 16) & 0xff, c >> 24 };

		if (pwrite(fd, le, 4, PINFS_SB_CSUM_OFF) != 4)
			fuzz_fail("cannot write the checksum");
	}
	close(fd);
}

/*
 * The names in the (checked) image's directory, read from the inode table
 * with the library's decoder; the flat directory has no readdir in the API.
 */
static int image_names(char names[][PINFS_NAME_MAX + 1], int max)
{
	uint8_t sb[PINFS_BLOCK_SIZE], ib[PINFS_INODE_SIZE];
	struct pinfs_dsuper s;
	int fd = open(image_path, O_RDONLY), n = 0;

	if (fd < 0)
		return 0;
	if (pread(fd, sb, sizeof(sb), 0) != (ssize_t)sizeof(sb))
		goto out;
	pinfs_super_decode(&s, sb);
	if (pinfs_geometry_check(&s))
		goto out;
	for (uint32_t i = 0; i < s.inode_count && n < max; i++) {
		struct pinfs_dinode d;
		off_t off = (off_t)(s.itable_start * PINFS_BLOCK_SIZE + (uint64_t)i * PINFS_INODE_SIZE);

		if (pread(fd, ib, sizeof(ib), off) != (ssize_t)sizeof(ib))
			break;
		pinfs_inode_decode(&d, ib);
		if (d.mode && d.nlink && d.name[0])
			snprintf(names[n++], PINFS_NAME_MAX + 1, "%s", d.name);
	}
out:
	close(fd);
	return n;
}

static int boot(struct pinmm **m, struct pinmm_proc **p)
{
	struct pinmm_config cfg;
	int err;

	pinmm_config_default(&cfg);
	pinmm_config_set(&cfg, "ram", "64M");
	pinmm_config_set(&cfg, "quiet", "1");
	snprintf(cfg.pinfs_image, sizeof(cfg.pinfs_image), "%s", image_path);
	err = fuzz_ck(pinmm_boot(&cfg, m), "boot");
	if (err)
		return err;
	err = fuzz_ck(pinmm_proc_create(*m, p), "proc_create");
	if (err) {
		if (pinmm_shutdown(*m))
			fuzz_fail("shutdown after a failed proc_create");
		return err;
	}
	pinmm_set_current(*p);
	return 0;
}

/* Read (and with MODE_WRITE change) one file of the mounted image. */
static void exercise_file(struct pinmm_proc *p, const char *name, unsigned mode)
{
	char path[PINFS_NAME_MAX + 16];
	long size, rc, addr;
	int fd;

	snprintf(path, sizeof(path), "/data/%s", name);
	fd = (int)fuzz_ck(pinmm_open(p, path, O_RDWR, 0), "open");
	if (fd < 0)
		return;
	size = fuzz_ck(pinmm_fstat_size(p, fd), "fstat_size");
	for (long off = 0; off < size && off < (long)FUZZ_READ_MAX; off += rc) {
		rc = fuzz_ck(pinmm_pread(p, fd, rbuf, sizeof(rbuf) - (size_t)off, off), "pread");
		if (rc <= 0)
			break;
	}
	/* A read far beyond the end, and into a possibly huge sparse file. */
	fuzz_ck(pinmm_pread(p, fd, rbuf, 4096, size > 8192 ? size - 4096 : 0), "pread tail");
	if (mode & MODE_WRITE) {
		fuzz_ck(pinmm_pwrite(p, fd, "fuzz", 4, size / 2), "pwrite");
		fuzz_ck(pinmm_pwrite(p, fd, "tail", 4, size + 5000), "pwrite");
		fuzz_ck(pinmm_fallocate(p, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					    0, 8192), "punch");
		addr = fuzz_ck(pinmm_mmap(p, 0, 16384, PROT_READ | PROT_WRITE, MAP_SHARED,
					      fd, 0), "mmap");
		if (addr >= 0) {
			fuzz_ck(pinmm_load(p, (unsigned long)addr, rbuf, 16384), "load");
			fuzz_ck(pinmm_store(p, (unsigned long)addr + 100, "mapped", 6), "store");
			fuzz_ck(pinmm_munmap(p, (unsigned long)addr, 16384), "munmap");
		}
		fuzz_ck(pinmm_ftruncate(p, fd, size / 3), "ftruncate");
		fuzz_ck(pinmm_fsync(p, fd), "fsync");
	}
	fuzz_ck(pinmm_close(p, fd), "close");
}

static void mount_and_use(unsigned mode, bool must_mount)
{
	static char names[FUZZ_FILES_MAX][PINFS_NAME_MAX + 1];
	struct pinmm_proc *p;
	struct pinmm *m;
	int n, err, fd;

	n = image_names(names, FUZZ_FILES_MAX);
	err = boot(&m, &p);
	if (err) {
		if (must_mount)
			fuzz_fail("a clean image does not mount: %d", err);
		return;
	}
	for (int i = 0; i < n; i++)
		exercise_file(p, names[i], mode);
	if (mode & MODE_WRITE) {
		fd = (int)fuzz_ck(pinmm_open(p, "/data/fuzz-new", O_RDWR | O_CREAT, 0644),
				      "open O_CREAT");
		if (fd >= 0) {
			fuzz_ck(pinmm_pwrite(p, fd, rbuf, 3 * 4096 + 7, 4096), "pwrite new");
			fuzz_ck(pinmm_close(p, fd), "close new");
		}
		fuzz_ck(pinmm_sync(m), "sync");
	}
	if (pinmm_audit(m))
		fuzz_fail("audit found %ld errors", pinmm_audit_errors(m));
	err = pinmm_shutdown(m);
	if (err)
		fuzz_fail("shutdown: %d", err);
	err = pinfs_check_image(image_path, false, NULL);
	if (err)
		fuzz_fail("unmounted image is not clean: %d", err);
	/* Mount again: what was written must still mount, and unmount. */
	err = boot(&m, &p);
	if (err)
		fuzz_fail("remount failed: %d", err);
	for (int i = 0; i < n && i < 4; i++)
		exercise_file(p, names[i], 0);
	err = pinmm_shutdown(m);
	if (err)
		fuzz_fail("shutdown after remount: %d", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned mode;
	int rc;

	if (size < 1)
		return 0;
	mode = data[0];
	write_image(data + 1, size - 1, mode);
	rc = (int)fuzz_ck(pinfs_check_image(image_path, false, NULL), "check");
	if (mode & MODE_REPAIR) {
		rc = (int)fuzz_ck(pinfs_check_image(image_path, true, NULL), "repair");
		if (rc >= 0) {
			rc = pinfs_check_image(image_path, false, NULL);
			if (rc)
				fuzz_fail("check after repair: %d, not 0", rc);
		}
	}
	mount_and_use(mode, rc == 0);
	return 0;
}
