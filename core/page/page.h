/*
 * page.h - pages as data: the decompressors (with the per-thread state and
 * scratch buffers they keep), the bounded cache of decompressed pages, and
 * the worker pool that shares one large read between threads.  Knows
 * nothing of files or formats.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_PAGE_H
#define DUMPFS_PAGE_H

#include "base/base.h"

/* ---- codec.c ----------------------------------------------------------- */

enum codec { CODEC_NONE, CODEC_ZLIB, CODEC_LZO, CODEC_SNAPPY, CODEC_ZSTD };
const char *codec_name(enum codec c);
/* Decompress into exactly @dst_len bytes; anything else is corrupt. */
enum dumpfs_status codec_decompress(enum codec c, const void *src,
				    size_t src_len, void *dst, size_t dst_len);
/* A per-thread scratch buffer of at least MAX_PAGE_SIZE bytes; @which
 * selects one of a few independent buffers. */
void *thread_scratch(unsigned which);
/* A per-thread buffer of at least @size bytes (grown on demand, kept until
 * the thread exits); NULL if it cannot be had. */
void *thread_buffer(size_t size);

/* ---- cache.c ----------------------------------------------------------- */

/* Keyed by where a page is stored (the caller's choice of 64 bits), with a
 * tag that must match too (the stored size and codec). */
struct page_cache;
struct page_cache *cache_new(size_t bytes, uint32_t page_size);
void cache_free(struct page_cache *c);
bool cache_get(struct page_cache *c, uint64_t key, uint32_t tag, void *dst);
void cache_put(struct page_cache *c, uint64_t key, uint32_t tag, const void *src);
void cache_stats(const struct page_cache *c, struct dumpfs_cache_stats *st);

/* ---- pool.c ------------------------------------------------------------ */

struct pool;
typedef void (*pool_task_fn)(void *arg, size_t task);
struct pool *pool_new(size_t nthreads);
void pool_free(struct pool *p);
/* Run fn(arg, 0..ntasks-1) on the pool and the calling thread; returns
 * when all have finished.  Without a pool, runs them in the caller. */
void pool_run(struct pool *p, pool_task_fn fn, void *arg, size_t ntasks);
/* One worker per online CPU beyond the caller's. */
size_t pool_default_threads(void);

#endif /* DUMPFS_PAGE_H */
