/*
 * space.c - the calls every address space answers; each kind sees only
 * offsets inside it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "space/space.h"

ssize_t space_read(struct space *s, void *buf, size_t len, uint64_t off)
{
	if (off >= s->size)
		return 0;
	if (len > s->size - off)
		len = (size_t)(s->size - off);
	return s->ops->read(s, buf, len, off);
}

uint64_t space_next(struct space *s, uint64_t off, bool data)
{
	if (off >= s->size)
		return s->size;
	return s->ops->next(s, off, data);
}

bool space_extent(struct space *s, uint64_t off, size_t len, struct dumpfs_extent *e)
{
	if (!s->ops->extent || off >= s->size)
		return false;
	if (len > s->size - off)
		len = (size_t)(s->size - off);
	return s->ops->extent(s, off, len, e);
}

bool space_read_u64(struct space *s, uint64_t off, struct endian e, uint64_t *val)
{
	uint8_t b[8];
	if (space_read(s, b, sizeof(b), off) != (ssize_t)sizeof(b))
		return false;
	*val = get64(e, b);
	return true;
}
