/*
 * space.h - address spaces: something with a size that can be read at an
 * offset and asked where its next data or hole is.  /mem and /vmcore.elf
 * are served from spaces, and so will be a process's virtual memory or a
 * guest's physical memory found inside another dump: the views are written
 * once against this interface.
 *
 *   space.c     the calls, with their range checks done once
 *   phys.c      the physical memory of a dump format (pages, the pool)
 *   verbatim.c  a source's bytes as they are (an ELF input passed through)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_SPACE_H
#define DUMPFS_SPACE_H

#include <sys/types.h>

#include "format/format.h"

struct space;

struct space_ops {
	/* Up to @len bytes at @off; space_read() has clipped the range to
	 * the size.  The rules of dumpfs_read_phys(): short only before a
	 * range that cannot be read, -EIO when it starts there. */
	ssize_t (*read)(struct space *s, void *buf, size_t len, uint64_t off);
	/* The first offset >= @off (< size) that is data (@data) or a hole
	 * (!@data); the size if there is none. */
	uint64_t (*next)(struct space *s, uint64_t off, bool data);
	/* Optional: where the bytes at @off (< size) lie unchanged in a
	 * file, up to @len (clipped to the size). */
	bool (*extent)(struct space *s, uint64_t off, size_t len, struct dumpfs_extent *e);
};

/* Embedded first in each kind's own struct. */
struct space {
	const struct space_ops *ops;
	uint64_t size;          /* reads at or past it return 0 */
	uint64_t stored;        /* about how many bytes are data, not holes */
};

ssize_t space_read(struct space *s, void *buf, size_t len, uint64_t off);
uint64_t space_next(struct space *s, uint64_t off, bool data);
bool space_extent(struct space *s, uint64_t off, size_t len, struct dumpfs_extent *e);
/* The 8-byte integer at @off in byte order @e; false if it cannot be read. */
bool space_read_u64(struct space *s, uint64_t off, struct endian e, uint64_t *val);

/* phys.c: physical memory of @f, byte P at physical address P; pages the
 * format does not hold read as zeros and are holes.  Reads of many pages
 * are shared with @threads worker threads (0: the caller alone), started
 * on the first such read. */
struct phys_space {
	struct space space;
	struct format *fmt;
	size_t threads;
	pthread_mutex_t pool_lock;
	struct pool *pool;
	bool pool_failed;
};
void phys_space_init(struct phys_space *p, struct format *f, size_t threads);
void phys_space_destroy(struct phys_space *p);

/* verbatim.c: @src as it is, all data; read errors go to @diag. */
struct verbatim_space {
	struct space space;
	const struct source *src;
	struct diag *diag;
};
void verbatim_space_init(struct verbatim_space *v, const struct source *src, struct diag *diag);

/* cached.c: @under with its last CACHED_CHUNKS chunks kept whole (for
 * page-table walks); thread-safe. */
#define CACHED_CHUNK 4096
#define CACHED_CHUNKS 16
struct cached_space {
	struct space space;
	struct space *under;
	pthread_mutex_t lock;
	uint64_t tag[CACHED_CHUNKS];    /* chunk address + 1; 0: empty */
	unsigned victim;                /* replaced next, round robin */
	uint8_t data[CACHED_CHUNKS][CACHED_CHUNK];
};
void cached_space_init(struct cached_space *c, struct space *under);
void cached_space_destroy(struct cached_space *c);

#endif /* DUMPFS_SPACE_H */
