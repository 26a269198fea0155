/* SPDX-License-Identifier: MIT */
/*
 * read_write.c - the generic ->read and ->write of page-cache filesystems:
 * copying between a caller's (host) buffer and the folios of the page
 * cache, byte granular and across pages.
 *
 * It does not own the cache (filemap.c), argument checks (syscalls.c) or
 * anything of a filesystem beyond its ->read_folio.
 *
 * Rules:
 *  - reads take no inode lock: each folio is held by a reference while it
 *    is copied, so a racing truncation can only make the data stale, never
 *    free it under the copy;
 *  - writes hold i_rwsem for writing (against truncation, fallocate and
 *    other writes) and each folio locked while it is filled, and extend
 *    i_size as they go;
 *  - a hole of a shmem file (or a file without ->read_folio) reads as
 *    zeroes without allocating.
 */
#include <errno.h>
#include <string.h>

#include "pagemap.h"

/**
 * generic_file_read() - copy file contents at @off into @buf.
 * @file: the open file.
 * @buf: destination, host memory.
 * @len: bytes wanted.
 * @off: file offset (>= 0).
 *
 * Byte granular, across pages.  A hole of a shmem file (or of a file
 * without ->read_folio) reads as zeroes without allocating; other
 * filesystems read missing pages through ->read_folio.
 *
 * Context: may sleep.
 * Return: bytes copied (0 at or past EOF), or -EIO / -ENOMEM when nothing
 * was copied.
 */
long generic_file_read(struct file *file, void *buf, size_t len, long long off)
{
	struct address_space *mapping = file->f_mapping;
	struct inode *inode = mapping->host;
	bool fill_holes = mapping->a_ops && mapping->a_ops->read_folio &&
			  !shmem_mapping(mapping);
	long long size = READ_ONCE(inode->i_size);
	size_t done = 0;
	int err = 0;

	if (off >= size)
		return 0;
	if ((unsigned long long)len > (unsigned long long)(size - off))
		len = (size_t)(size - off);

	while (done < len) {
		long long pos = off + (long long)done;
		pgoff_t index = (pgoff_t)(pos >> PAGE_SHIFT);
		size_t chunk = PAGE_SIZE - (size_t)(pos & (PAGE_SIZE - 1));
		struct folio *folio;

		if (chunk > len - done)
			chunk = len - done;

		folio = filemap_get_folio(mapping, index);
		if (!folio && !fill_holes) {
			memset((char *)buf + done, 0, chunk);
			done += chunk;
			continue;
		}
		if (!folio || !folio_test_Uptodate(folio)) {
			if (folio)
				folio_put(folio);
			folio = __filemap_get_folio(mapping, index, FGP_LOCK | FGP_CREAT,
						    mapping_gfp_mask(mapping));
			if (IS_ERR(folio)) {
				err = (int)PTR_ERR(folio);
				break;
			}
			err = filemap_read_folio(file, mapping, folio);
			folio_unlock(folio);
			if (err) {
				folio_put(folio);
				if (err == -EAGAIN) {
					err = 0;
					continue;
				}
				break;
			}
		}
		memcpy((char *)buf + done,
		       (char *)folio_address(folio) + (pos - folio_pos(folio)), chunk);
		folio_mark_accessed(folio);
		folio_put(folio);
		done += chunk;
	}
	return done ? (long)done : err;
}

/**
 * generic_file_write() - copy @buf into the file at @off.
 * @file: the open file.
 * @buf: source, host memory.
 * @len: bytes to write.
 * @off: file offset (>= 0).
 *
 * Creates missing pages (a partly written new page of a file with
 * ->read_folio is read first), marks them dirty and extends i_size.
 *
 * Context: may sleep; takes i_rwsem for writing.
 * Return: bytes written; when nothing was written -EFBIG (beyond the
 * largest file size), -ENOSPC (out of memory) or -EIO.
 */
long generic_file_write(struct file *file, const void *buf, size_t len, long long off)
{
	struct address_space *mapping = file->f_mapping;
	struct inode *inode = mapping->host;
	size_t done = 0;
	int err = 0;

	if (!len)
		return 0;
	if (off > MAX_LFS_FILESIZE || (unsigned long long)len >
	    (unsigned long long)(MAX_LFS_FILESIZE - off))
		return -EFBIG;

	down_write(&inode->i_rwsem);
	while (done < len) {
		long long pos = off + (long long)done;
		pgoff_t index = (pgoff_t)(pos >> PAGE_SHIFT);
		size_t offset = (size_t)(pos & (PAGE_SIZE - 1));
		size_t chunk = PAGE_SIZE - offset;
		struct folio *folio;

		if (chunk > len - done)
			chunk = len - done;

		folio = __filemap_get_folio(mapping, index, FGP_LOCK | FGP_CREAT,
					    mapping_gfp_mask(mapping));
		if (IS_ERR(folio)) {
			err = PTR_ERR(folio) == -ENOMEM ? -ENOSPC : (int)PTR_ERR(folio);
			break;
		}
		if (!folio_test_Uptodate(folio)) {
			if (chunk == PAGE_SIZE && !folio_test_large(folio)) {
				/* Overwritten whole: no need to read it. */
				folio_set_Uptodate(folio);
			} else {
				err = filemap_read_folio(file, mapping, folio);
				if (err) {
					folio_unlock(folio);
					folio_put(folio);
					if (err == -EAGAIN) {
						err = 0;
						continue;
					}
					break;
				}
			}
		}
		memcpy((char *)folio_address(folio) + (pos - folio_pos(folio)),
		       (const char *)buf + done, chunk);
		folio_mark_dirty(folio);
		folio_unlock(folio);
		folio_put(folio);
		done += chunk;
		if (pos + (long long)chunk > inode->i_size)
			WRITE_ONCE(inode->i_size, pos + (long long)chunk);
	}
	up_write(&inode->i_rwsem);
	return done ? (long)done : err;
}
