/*
 * verbatim.c - a source's bytes as an address space, all of them data:
 * /vmcore.elf of an ELF input that every reader can take as it is.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stddef.h>

#include "space/space.h"

static struct verbatim_space *verbatim_of(struct space *s)
{
	return (struct verbatim_space *)((char *)s - offsetof(struct verbatim_space, space));
}

static ssize_t verbatim_read(struct space *s, void *buf, size_t len, uint64_t off)
{
	const struct verbatim_space *v = verbatim_of(s);
	if (source_read(v->src, buf, len, off) != DUMPFS_OK) {
		diag_log(v->diag, DUMPFS_ERR_IO, "%s: offset %llu: read of %zu bytes failed",
			 v->src->path, (unsigned long long)off, len);
		return -EIO;
	}
	return (ssize_t)len;
}

static uint64_t verbatim_next(struct space *s, uint64_t off, bool data)
{
	return data ? off : s->size;
}

static bool verbatim_extent(struct space *s, uint64_t off, size_t len, struct dumpfs_extent *e)
{
	return source_extent(verbatim_of(s)->src, off, len, e);
}

static const struct space_ops verbatim_ops = {
	.read = verbatim_read,
	.next = verbatim_next,
	.extent = verbatim_extent,
};

void verbatim_space_init(struct verbatim_space *v, const struct source *src, struct diag *diag)
{
	*v = (struct verbatim_space){
		.space = { &verbatim_ops, src->size, src->size },
		.src = src, .diag = diag,
	};
}
