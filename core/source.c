/*
 * source.c - the byte source under a format: a plain dump file read with
 * pread(), or a makedumpfile flattened file seen through its record index
 * (flat.c), so that the format readers never know the difference.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define FLAT_SIGNATURE "makedumpfile"

static bool is_flattened(int fd)
{
	char sig[16];
	return pread(fd, sig, sizeof(sig), 0) == (ssize_t)sizeof(sig) &&
	       memcmp(sig, FLAT_SIGNATURE, sizeof(FLAT_SIGNATURE)) == 0;
}

enum dumpfs_status source_open(struct source *src, const char *path,
			       char *err, size_t errlen)
{
	struct stat st;

	*src = (struct source){ .fd = -1 };
	src->path = strdup(path);
	if (!src->path)
		return DUMPFS_ERR_NOMEM;
	src->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (src->fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return DUMPFS_ERR_IO;
	}
	if (fstat(src->fd, &st) < 0) {
		snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
		return DUMPFS_ERR_IO;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return DUMPFS_ERR_INVALID;
	}
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(src->fd, 0, SEEK_END);
		st.st_size = end < 0 ? 0 : end;
	}
	src->size = (uint64_t)st.st_size;
	src->stored_bytes = src->size;
	if (is_flattened(src->fd))
		return flat_index_build(src, err, errlen);
	return DUMPFS_OK;
}

void source_close(struct source *src)
{
	if (src->fd >= 0)
		close(src->fd);
	flat_index_free(src->flat);
	free(src->flat_warning);
	free(src->path);
	*src = (struct source){ .fd = -1 };
}

static enum dumpfs_status pread_exact(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return DUMPFS_ERR_IO;
		}
		if (n == 0)
			return DUMPFS_ERR_CORRUPT;      /* file shorter than it said */
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return DUMPFS_OK;
}

enum dumpfs_status source_read(const struct source *src, void *buf, size_t len,
			       uint64_t off)
{
	uint64_t end;

	if (!add_ok(off, len, &end) || end > src->size)
		return DUMPFS_ERR_CORRUPT;
	if (src->flat)
		return flat_read(src, buf, len, off);
	return pread_exact(src->fd, buf, len, off);
}

enum dumpfs_status source_pread_raw(const struct source *src, void *buf,
				    size_t len, uint64_t off)
{
	return pread_exact(src->fd, buf, len, off);
}

uint64_t source_next_data(const struct source *src, uint64_t off)
{
	if (src->flat || off >= src->size)
		return off;
	off_t at = lseek(src->fd, (off_t)off, SEEK_DATA);
	if (at < 0)
		return errno == ENXIO ? src->size : off;
	return (uint64_t)at;
}
