/*
 * codec.c - the page decompressors of kdump-compressed dumps, and the
 * per-thread state they keep.
 *
 * makedumpfile and QEMU compress every page on its own, so a reader
 * decompresses millions of 4 KiB buffers: setting up a zlib stream or a
 * zstd context per page would cost as much as the work itself.  Each
 * thread therefore keeps one of each, created on first use and freed when
 * the thread exits.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <libdeflate.h>
#include <lzo/lzo1x.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <zstd.h>

#include "page/page.h"

#define NSCRATCH 3

struct thread_state {
	struct libdeflate_decompressor *deflate;
	ZSTD_DCtx *zstd;
	void *scratch[NSCRATCH];
	void *buffer;
	size_t buffer_size;
};

static pthread_key_t state_key;
static pthread_once_t state_once = PTHREAD_ONCE_INIT;

static void state_free(void *p)
{
	struct thread_state *ts = p;
	libdeflate_free_decompressor(ts->deflate);
	ZSTD_freeDCtx(ts->zstd);
	for (int i = 0; i < NSCRATCH; i++)
		free(ts->scratch[i]);
	free(ts->buffer);
	free(ts);
}

static void state_key_create(void)
{
	pthread_key_create(&state_key, state_free);
	lzo_init();
}

static struct thread_state *thread_state(void)
{
	pthread_once(&state_once, state_key_create);
	struct thread_state *ts = pthread_getspecific(state_key);
	if (!ts) {
		ts = calloc(1, sizeof(*ts));
		if (ts && pthread_setspecific(state_key, ts) != 0) {
			free(ts);
			ts = NULL;
		}
	}
	return ts;
}

/* The main thread never runs key destructors; free its state explicitly so
 * leak checkers see a clean exit. */
__attribute__((destructor)) static void main_thread_state_free(void)
{
	if (state_once == PTHREAD_ONCE_INIT)
		return;
	struct thread_state *ts = pthread_getspecific(state_key);
	if (ts) {
		pthread_setspecific(state_key, NULL);
		state_free(ts);
	}
}

void *thread_scratch(unsigned which)
{
	struct thread_state *ts = thread_state();
	if (!ts || which >= NSCRATCH)
		return NULL;
	if (!ts->scratch[which])
		ts->scratch[which] = malloc(MAX_PAGE_SIZE);
	return ts->scratch[which];
}

void *thread_buffer(size_t size)
{
	struct thread_state *ts = thread_state();
	if (!ts)
		return NULL;
	if (ts->buffer_size < size) {
		free(ts->buffer);
		ts->buffer = malloc(size);
		ts->buffer_size = ts->buffer ? size : 0;
	}
	return ts->buffer;
}

const char *codec_name(enum codec c)
{
	switch (c) {
	case CODEC_NONE: return "none";
	case CODEC_ZLIB: return "zlib";
	case CODEC_LZO: return "lzo";
	case CODEC_SNAPPY: return "snappy";
	case CODEC_ZSTD: return "zstd";
	}
	return "?";
}

/* zlib-format pages (makedumpfile -c, QEMU kdump-zlib) through libdeflate,
 * which decodes a whole buffer in one call and measured faster than zlib's
 * streaming inflate() on such pages (docs/performance.md). */
static enum dumpfs_status inflate_page(struct thread_state *ts, const void *src,
				       size_t src_len, void *dst, size_t dst_len)
{
	if (!ts->deflate && !(ts->deflate = libdeflate_alloc_decompressor()))
		return DUMPFS_ERR_NOMEM;
	size_t out = 0;
	enum libdeflate_result rc = libdeflate_zlib_decompress(ts->deflate, src, src_len, dst,
							       dst_len, &out);
	return rc == LIBDEFLATE_SUCCESS && out == dst_len ? DUMPFS_OK : DUMPFS_ERR_CORRUPT;
}

enum dumpfs_status codec_decompress(enum codec c, const void *src,
				    size_t src_len, void *dst, size_t dst_len)
{
	struct thread_state *ts = thread_state();
	if (!ts)
		return DUMPFS_ERR_NOMEM;

	switch (c) {
	case CODEC_NONE:
		return DUMPFS_ERR_INVALID;
	case CODEC_ZLIB:
		return inflate_page(ts, src, src_len, dst, dst_len);
	case CODEC_LZO: {
		lzo_uint out = dst_len;
		int rc = lzo1x_decompress_safe(src, src_len, dst, &out, NULL);
		return rc == LZO_E_OK && out == dst_len ? DUMPFS_OK : DUMPFS_ERR_CORRUPT;
	}
	case CODEC_SNAPPY: {
		size_t out = dst_len;
		snappy_status rc = snappy_uncompress(src, src_len, dst, &out);
		return rc == SNAPPY_OK && out == dst_len ? DUMPFS_OK : DUMPFS_ERR_CORRUPT;
	}
	case CODEC_ZSTD: {
		if (!ts->zstd && !(ts->zstd = ZSTD_createDCtx()))
			return DUMPFS_ERR_NOMEM;
		size_t out = ZSTD_decompressDCtx(ts->zstd, dst, dst_len, src, src_len);
		return !ZSTD_isError(out) && out == dst_len ? DUMPFS_OK : DUMPFS_ERR_CORRUPT;
	}
	}
	return DUMPFS_ERR_INVALID;
}
