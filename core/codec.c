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
#include <lzo/lzo1x.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <zlib.h>
#include <zstd.h>

#include "internal.h"

#define NSCRATCH 3

struct thread_state {
	z_stream zs;
	bool zs_ready;
	ZSTD_DCtx *zstd;
	void *scratch[NSCRATCH];
};

static pthread_key_t state_key;
static pthread_once_t state_once = PTHREAD_ONCE_INIT;

static void state_free(void *p)
{
	struct thread_state *ts = p;
	if (ts->zs_ready)
		inflateEnd(&ts->zs);
	ZSTD_freeDCtx(ts->zstd);
	for (int i = 0; i < NSCRATCH; i++)
		free(ts->scratch[i]);
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

static enum dumpfs_status inflate_page(struct thread_state *ts, const void *src,
				       size_t src_len, void *dst, size_t dst_len)
{
	if (!ts->zs_ready) {
		if (inflateInit(&ts->zs) != Z_OK)
			return DUMPFS_ERR_NOMEM;
		ts->zs_ready = true;
	} else if (inflateReset(&ts->zs) != Z_OK) {
		return DUMPFS_ERR_CORRUPT;
	}
	ts->zs.next_in = (Bytef *)src;
	ts->zs.avail_in = (uInt)src_len;
	ts->zs.next_out = dst;
	ts->zs.avail_out = (uInt)dst_len;
	int rc = inflate(&ts->zs, Z_FINISH);
	if (rc != Z_STREAM_END || ts->zs.total_out != dst_len)
		return DUMPFS_ERR_CORRUPT;
	return DUMPFS_OK;
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
