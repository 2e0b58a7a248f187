/*
 * cached.c - a space over another that keeps the last few 4 KiB chunks it
 * read whole.  A walk of a process's page tables reads one entry of four
 * or five tables for every user page; the tables are few and the same
 * from page to page, so /tasks/PID/mem reads them through one of these:
 * then a page costs one read of the dump, not five (an ELF dump has no
 * page cache of its own, and a compressed one takes a lock per read).
 *
 * Reads within one chunk are served from it (filled on a miss, under the
 * lock: readers of several processes share one of these); others, and
 * chunks that cannot be read whole, go to the space below as they are.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "space/space.h"

static ssize_t cached_read(struct space *s, void *buf, size_t len, uint64_t off)
{
	struct cached_space *c = (struct cached_space *)s;
	const uint64_t chunk = off & ~(uint64_t)(CACHED_CHUNK - 1);
	if (off + len > chunk + CACHED_CHUNK)
		return space_read(c->under, buf, len, off);
	pthread_mutex_lock(&c->lock);
	unsigned i = 0;
	while (i < CACHED_CHUNKS && c->tag[i] != chunk + 1)
		i++;
	if (i == CACHED_CHUNKS) {
		i = c->victim;
		if (space_read(c->under, c->data[i], CACHED_CHUNK, chunk) != CACHED_CHUNK) {
			pthread_mutex_unlock(&c->lock);
			return space_read(c->under, buf, len, off);
		}
		c->tag[i] = chunk + 1;
		c->victim = (i + 1) % CACHED_CHUNKS;
	}
	memcpy(buf, c->data[i] + (off - chunk), len);
	pthread_mutex_unlock(&c->lock);
	return (ssize_t)len;
}

static uint64_t cached_next(struct space *s, uint64_t off, bool data)
{
	return space_next(((struct cached_space *)s)->under, off, data);
}

static const struct space_ops cached_ops = { .read = cached_read, .next = cached_next };

void cached_space_init(struct cached_space *c, struct space *under)
{
	memset(c->tag, 0, sizeof(c->tag));
	c->victim = 0;
	c->under = under;
	c->space.ops = &cached_ops;
	c->space.size = under->size;
	c->space.stored = under->stored;
	pthread_mutex_init(&c->lock, NULL);
}

void cached_space_destroy(struct cached_space *c)
{
	pthread_mutex_destroy(&c->lock);
}
