/* SPDX-License-Identifier: MIT */
/*
 * disk.c - pinfs on-disk format: little-endian encoding of the super block
 * and inodes, the super block checksum, the layout mkfs chooses, making a
 * fresh file system, and whole-block I/O on the image file descriptor.
 *
 * It does not own mounting (super.c), allocation (balloc.c) or checking
 * (fsck.c).  Nothing here keeps state: every function works on buffers or
 * a file descriptor the caller owns.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault_inject.h"
#include "pinfs.h"

/* ------------------------------------------------------------------ */
/* Little-endian fields                                                */

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

/**
 * pinfs_crc32() - CRC-32 (IEEE 802.3, reflected, as zlib's crc32()).
 * @buf: bytes.
 * @len: their number.
 *
 * Context: any.
 * Return: the checksum.
 */
uint32_t pinfs_crc32(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = 0xffffffffu;

	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/*
 * Super block layout (offsets in bytes):
 *   0 magic  4 version  8 block_size  12 flags  16 block_count(64)
 *  24 inode_count  28 bitmap_blocks  32 bitmap_start(64)  40 itable_start(64)
 *  48 itable_blocks  52 (zero)  56 data_start(64)  64 free_blocks(64)
 *  72 free_inodes  76 mount_count  80 checksum of [0, 80)
 */

/**
 * pinfs_super_csum() - the checksum an encoded super block should carry.
 * @buf: the first PINFS_SB_CSUM_OFF bytes of block 0.
 *
 * Context: any.
 * Return: the CRC-32 of the covered bytes.
 */
uint32_t pinfs_super_csum(const uint8_t *buf)
{
	return pinfs_crc32(buf, PINFS_SB_CSUM_OFF);
}

/**
 * pinfs_super_decode() - decode block 0.
 * @s: result.
 * @buf: PINFS_BLOCK_SIZE bytes.
 *
 * Context: any.
 */
void pinfs_super_decode(struct pinfs_dsuper *s, const uint8_t *buf)
{
	s->magic = get_le32(buf + 0);
	s->version = get_le32(buf + 4);
	s->block_size = get_le32(buf + 8);
	s->flags = get_le32(buf + 12);
	s->block_count = get_le64(buf + 16);
	s->inode_count = get_le32(buf + 24);
	s->bitmap_blocks = get_le32(buf + 28);
	s->bitmap_start = get_le64(buf + 32);
	s->itable_start = get_le64(buf + 40);
	s->itable_blocks = get_le32(buf + 48);
	s->data_start = get_le64(buf + 56);
	s->free_blocks = get_le64(buf + 64);
	s->free_inodes = get_le32(buf + 72);
	s->mount_count = get_le32(buf + 76);
	s->checksum = get_le32(buf + 80);
}

/**
 * pinfs_super_encode() - encode @s into block 0, with a fresh checksum.
 * @s: the super block (its checksum field is updated).
 * @buf: PINFS_BLOCK_SIZE bytes; bytes past the fields are zeroed.
 *
 * Context: any.
 */
void pinfs_super_encode(const struct pinfs_dsuper *s, uint8_t *buf)
{
	memset(buf, 0, PINFS_BLOCK_SIZE);
	put_le32(buf + 0, s->magic);
	put_le32(buf + 4, s->version);
	put_le32(buf + 8, s->block_size);
	put_le32(buf + 12, s->flags);
	put_le64(buf + 16, s->block_count);
	put_le32(buf + 24, s->inode_count);
	put_le32(buf + 28, s->bitmap_blocks);
	put_le64(buf + 32, s->bitmap_start);
	put_le64(buf + 40, s->itable_start);
	put_le32(buf + 48, s->itable_blocks);
	put_le64(buf + 56, s->data_start);
	put_le64(buf + 64, s->free_blocks);
	put_le32(buf + 72, s->free_inodes);
	put_le32(buf + 76, s->mount_count);
	put_le32(buf + 80, pinfs_super_csum(buf));
}

/*
 * Inode layout (256 bytes):
 *   0 mode  4 nlink  8 size(64)  16 direct[12]  64 ind  68 dind
 *  72 generation  76 (zero)  80 name, NUL-terminated, 176 bytes
 */

/**
 * pinfs_inode_decode() - decode one inode-table entry.
 * @d: result; the name is always NUL-terminated.
 * @buf: PINFS_INODE_SIZE bytes.
 *
 * Context: any.
 */
void pinfs_inode_decode(struct pinfs_dinode *d, const uint8_t *buf)
{
	d->mode = get_le32(buf + 0);
	d->nlink = get_le32(buf + 4);
	d->size = get_le64(buf + 8);
	for (unsigned int i = 0; i < PINFS_NDIR; i++)
		d->direct[i] = get_le32(buf + 16 + 4 * i);
	d->ind = get_le32(buf + 64);
	d->dind = get_le32(buf + 68);
	d->generation = get_le32(buf + 72);
	memcpy(d->name, buf + 80, PINFS_NAME_MAX + 1);
	d->name[PINFS_NAME_MAX] = 0;
}

/**
 * pinfs_inode_encode() - encode one inode-table entry.
 * @d: the inode.
 * @buf: PINFS_INODE_SIZE bytes, all written.
 *
 * Context: any.
 */
void pinfs_inode_encode(const struct pinfs_dinode *d, uint8_t *buf)
{
	memset(buf, 0, PINFS_INODE_SIZE);
	put_le32(buf + 0, d->mode);
	put_le32(buf + 4, d->nlink);
	put_le64(buf + 8, d->size);
	for (unsigned int i = 0; i < PINFS_NDIR; i++)
		put_le32(buf + 16 + 4 * i, d->direct[i]);
	put_le32(buf + 64, d->ind);
	put_le32(buf + 68, d->dind);
	put_le32(buf + 72, d->generation);
	memcpy(buf + 80, d->name, strnlen(d->name, PINFS_NAME_MAX));
}

/* ------------------------------------------------------------------ */
/* Geometry and mkfs                                                   */

/**
 * pinfs_geometry() - the layout of a new file system of @blocks blocks.
 * @blocks: size of the image in blocks.
 * @s: filled with magic, version, layout and an empty file system's counts.
 *
 * One inode per 16 KiB of image, at least 64, a whole number of table
 * blocks; block pointers are 32 bits, so at most 2^32 - 1 blocks.
 *
 * Context: any.
 * Return: false if @blocks is too small or too large.
 */
bool pinfs_geometry(uint64_t blocks, struct pinfs_dsuper *s)
{
	uint64_t inodes;

	if (blocks < PINFS_MIN_BLOCKS || blocks > 0xffffffffull)
		return false;
	memset(s, 0, sizeof(*s));
	inodes = blocks / 4;
	if (inodes < 64)
		inodes = 64;
	if (inodes > 1u << 20)
		inodes = 1u << 20;
	inodes = ALIGN(inodes, (uint64_t)PINFS_INODES_PER_BLOCK);
	s->magic = PINFS_MAGIC;
	s->version = PINFS_VERSION;
	s->block_size = PINFS_BLOCK_SIZE;
	s->block_count = blocks;
	s->inode_count = (uint32_t)inodes;
	s->bitmap_start = 1;
	s->bitmap_blocks = (uint32_t)DIV_ROUND_UP(blocks, (uint64_t)PINFS_BITS_PER_BLOCK);
	s->itable_start = s->bitmap_start + s->bitmap_blocks;
	s->itable_blocks = (uint32_t)(inodes / PINFS_INODES_PER_BLOCK);
	s->data_start = s->itable_start + s->itable_blocks;
	if (s->data_start + 4 > blocks)
		return false;
	s->free_blocks = blocks - s->data_start;
	s->free_inodes = s->inode_count;
	s->flags = PINFS_SB_CLEAN;
	return true;
}

/**
 * pinfs_geometry_check() - do the layout fields of @s make sense?
 * @s: a decoded super block with the right magic.
 *
 * Context: any.
 * Return: NULL if the layout is what pinfs_geometry() gives for
 * s->block_count blocks and s->inode_count inodes, else a reason.
 */
const char *pinfs_geometry_check(const struct pinfs_dsuper *s)
{
	if (s->version != PINFS_VERSION)
		return "unsupported version";
	if (s->block_size != PINFS_BLOCK_SIZE)
		return "block size is not 4096";
	if (s->block_count < PINFS_MIN_BLOCKS || s->block_count > 0xffffffffull)
		return "block count out of range";
	if (!s->inode_count || s->inode_count % PINFS_INODES_PER_BLOCK ||
	    s->inode_count > 1u << 20)
		return "inode count out of range";
	if (s->bitmap_start != 1 ||
	    s->bitmap_blocks != DIV_ROUND_UP(s->block_count, (uint64_t)PINFS_BITS_PER_BLOCK))
		return "bitmap location or size wrong";
	if (s->itable_start != s->bitmap_start + s->bitmap_blocks ||
	    s->itable_blocks != s->inode_count / PINFS_INODES_PER_BLOCK)
		return "inode table location or size wrong";
	if (s->data_start != s->itable_start + s->itable_blocks ||
	    s->data_start >= s->block_count)
		return "data area location wrong";
	return NULL;
}

/**
 * pinfs_read_raw() - read @nr whole blocks at @blk.
 * @fd: the image.
 * @buf: nr * PINFS_BLOCK_SIZE bytes.
 * @blk: first block.
 * @nr: blocks.
 *
 * Context: may sleep (host I/O).
 * Return: 0, or -EIO on a host error or a short read (truncated image).
 */
int pinfs_read_raw(int fd, void *buf, uint64_t blk, size_t nr)
{
	size_t len = nr * PINFS_BLOCK_SIZE, done = 0;
	off_t off = (off_t)(blk << PINFS_BLOCK_SHIFT);

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

/**
 * pinfs_write_raw() - write @nr whole blocks at @blk.
 * @fd: the image.
 * @buf: nr * PINFS_BLOCK_SIZE bytes.
 * @blk: first block.
 * @nr: blocks.
 *
 * Context: may sleep (host I/O).
 * Return: 0, -ENOSPC (host disk full) or -EIO.
 */
int pinfs_write_raw(int fd, const void *buf, uint64_t blk, size_t nr)
{
	size_t len = nr * PINFS_BLOCK_SIZE, done = 0;
	off_t off = (off_t)(blk << PINFS_BLOCK_SHIFT);

	while (done < len) {
		ssize_t n = pwrite(fd, (const char *)buf + done, len - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOSPC)
			return -ENOSPC;
		if (n <= 0)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

/**
 * pinfs_mkfs_fd() - write an empty file system over the image @fd.
 * @fd: the image, open for writing; it is resized to @bytes.
 * @bytes: size of the file system (rounded down to whole blocks).
 *
 * Metadata blocks are marked used in the bitmap, the inode table is
 * zeroed, and the super block is written last, marked clean.
 *
 * Context: may sleep.
 * Return: 0; -EINVAL when @bytes is too small; -EIO/-ENOSPC from the host.
 */
int pinfs_mkfs_fd(int fd, uint64_t bytes)
{
	struct pinfs_dsuper s;
	uint8_t *buf;
	int err = 0;

	if (!pinfs_geometry(bytes >> PINFS_BLOCK_SHIFT, &s))
		return -EINVAL;
	if (ftruncate(fd, 0) || ftruncate(fd, (off_t)(s.block_count << PINFS_BLOCK_SHIFT)))
		return -EIO;
	buf = kcalloc(1, PINFS_BLOCK_SIZE);
	if (!buf)
		return -ENOMEM;
	/* Bitmap: blocks [0, data_start) are in use. */
	for (uint64_t b = 0; b < s.bitmap_blocks && !err; b++) {
		memset(buf, 0, PINFS_BLOCK_SIZE);
		for (uint64_t bit = 0; bit < PINFS_BITS_PER_BLOCK; bit++) {
			uint64_t blk = b * PINFS_BITS_PER_BLOCK + bit;

			if (blk >= s.data_start)
				break;
			buf[bit / 8] |= (uint8_t)(1u << (bit % 8));
		}
		err = pinfs_write_raw(fd, buf, s.bitmap_start + b, 1);
	}
	/* The inode table is already zero: ftruncate made a sparse file. */
	if (!err) {
		pinfs_super_encode(&s, buf);
		err = pinfs_write_raw(fd, buf, 0, 1);
	}
	if (!err && fsync(fd))
		err = -EIO;
	free(buf);
	return err;
}
