/*
 * file.c - a plain dump file (or block device) read with pread().
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source/source.h"

struct plain_file {
	int fd;
};

static int fd_of(const struct source *src)
{
	return ((const struct plain_file *)src->priv)->fd;
}

static enum dumpfs_status file_read(const struct source *src, void *buf, size_t len,
				    uint64_t off)
{
	uint8_t *p = buf;
	int fd = fd_of(src);

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

static uint64_t file_next_data(const struct source *src, uint64_t off)
{
	off_t at = lseek(fd_of(src), (off_t)off, SEEK_DATA);
	if (at < 0)
		return errno == ENXIO ? src->size : off;
	return (uint64_t)at;
}

static bool file_extent(const struct source *src, uint64_t off, size_t len,
			struct dumpfs_extent *e)
{
	*e = (struct dumpfs_extent){ fd_of(src), off, len };
	return true;
}

static void file_close(struct source *src)
{
	struct plain_file *f = src->priv;
	if (f && f->fd >= 0)
		close(f->fd);
	free(f);
}

static const struct source_ops file_ops = {
	.read = file_read,
	.next_data = file_next_data,
	.extent = file_extent,
	.close = file_close,
};

enum dumpfs_status file_source_open(struct source *src, const char *path,
				    char *err, size_t errlen)
{
	struct plain_file *f = malloc(sizeof(*f));
	struct stat st;

	*src = (struct source){ .ops = &file_ops, .priv = f };
	if (!f || !(src->path = strdup(path)))
		return DUMPFS_ERR_NOMEM;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return DUMPFS_ERR_IO;
	}
	if (fstat(f->fd, &st) < 0) {
		snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
		return DUMPFS_ERR_IO;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return DUMPFS_ERR_INVALID;
	}
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(f->fd, 0, SEEK_END);
		st.st_size = end < 0 ? 0 : end;
	}
	src->size = (uint64_t)st.st_size;
	src->stored_bytes = src->size;
	return DUMPFS_OK;
}
