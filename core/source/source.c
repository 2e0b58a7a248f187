/*
 * source.c - the calls every source answers, checked here once so that
 * each kind sees only ranges inside it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/source.h"

void source_close(struct source *src)
{
	if (src->ops && src->ops->close)
		src->ops->close(src);
	free(src->warning);
	free(src->path);
	*src = (struct source){0};
}

enum dumpfs_status source_read(const struct source *src, void *buf, size_t len,
			       uint64_t off)
{
	uint64_t end;

	if (!add_ok(off, len, &end) || end > src->size)
		return DUMPFS_ERR_CORRUPT;
	return src->ops->read(src, buf, len, off);
}

bool source_run(const struct source *src, uint64_t off, uint64_t *end)
{
	if (off >= src->size) {
		*end = UINT64_MAX;
		return false;
	}
	if (!src->ops->run) {
		*end = src->size;
		return true;
	}
	bool readable = src->ops->run(src, off, end);
	if (*end > src->size)
		*end = src->size;
	return readable;
}

bool source_holds(const struct source *src, uint64_t off, uint64_t len)
{
	uint64_t end, run_end;
	if (!add_ok(off, len, &end) || end > src->size)
		return false;
	for (; off < end; off = run_end)
		if (!source_run(src, off, &run_end))
			return false;
	return true;
}

uint64_t source_next_data(const struct source *src, uint64_t off)
{
	if (!src->ops->next_data || off >= src->size)
		return off;
	return src->ops->next_data(src, off);
}

bool source_extent(const struct source *src, uint64_t off, size_t len,
		   struct dumpfs_extent *e)
{
	if (!src->ops->extent || off >= src->size)
		return false;
	if (len > src->size - off)
		len = (size_t)(src->size - off);
	return src->ops->extent(src, off, len, e);
}

void source_count(const struct source *src, struct source_counters *c)
{
	if (src->ops && src->ops->count)
		src->ops->count(src, c);
}

void source_quiesce(const struct source *src)
{
	if (src->ops && src->ops->quiesce)
		src->ops->quiesce(src);
}

void source_why(const struct source *src, char *buf, size_t len)
{
	int err = errno;
	buf[0] = '\0';
	if (src->ops && src->ops->why)
		src->ops->why(src, buf, len);
	if (!buf[0])
		snprintf(buf, len, "%s", strerror(err));
}
