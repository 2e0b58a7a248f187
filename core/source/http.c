/*
 * http.c - a dump read in place over HTTP(S) or from S3, as a source.
 *
 * Opening costs one request: the first block, whose answer also tells the
 * object's size and its ETag.  Every read after goes through the block
 * cache (blocks.c), which asks the fetcher (fetch.c) for what it lacks.
 * S3 requests are signed here, per attempt, with the credentials of the
 * chain (awscred.c), which renews temporary ones before they expire.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "source/remote.h"
#include "source/s3.h"

#define DEFAULT_CACHE_BYTES (64u << 20)

struct remote {
	struct remote_url url;
	struct s3_signer *signer;       /* NULL unless a signed s3:// */
	struct fetcher *fetch;
	struct disk_cache *disk;
	struct block_cache *blocks;
	char *cache_note;               /* why the disk cache is off, or NULL */
};

static struct remote *remote_of(const struct source *src)
{
	return src->priv;
}

static enum dumpfs_status http_read(const struct source *src, void *buf, size_t len, uint64_t off)
{
	return block_cache_read(remote_of(src)->blocks, buf, len, off);
}

static void http_describe(const struct source *src, struct strbuf *sb)
{
	struct remote *r = remote_of(src);
	sb_printf(sb, " (%s, %s", r->url.s3 ? "S3" : "HTTP", fetcher_validator(r->fetch));
	if (!fetcher_validated(r->fetch))
		sb_printf(sb, ": a change of the object under the mount cannot be told");
	if (r->signer)
		sb_printf(sb, ", credentials from %s", s3_signer_origin(r->signer));
	if (r->cache_note)
		sb_printf(sb, ", %s", r->cache_note);
	sb_printf(sb, ")");
}

static void http_count(const struct source *src, struct source_counters *c)
{
	struct remote *r = remote_of(src);
	struct fetch_stats f;
	struct block_stats b;
	char last[ERRMSG_MAX];

	fetcher_stats(r->fetch, &f);
	block_cache_stats(r->blocks, &b);
	block_cache_last_error(r->blocks, last, sizeof(last));
	c->remote = true;
	c->disk |= r->disk != NULL;
	c->requests += f.requests;
	c->bytes += f.bytes;
	c->retries += f.retries;
	c->failures += f.failures;
	c->block_hits += b.hits;
	c->block_misses += b.misses;
	c->readahead_blocks += b.readahead;
	c->cache_bytes_limit += b.bytes_limit;
	c->disk_hits += b.disk_hits;
	c->disk_misses += b.disk_misses;
	if (last[0])
		snprintf(c->last_error, sizeof(c->last_error), "%s", last);
}

static void http_why(const struct source *src, char *buf, size_t len)
{
	block_cache_last_error(remote_of(src)->blocks, buf, len);
}

static void http_quiesce(const struct source *src)
{
	fetcher_quiesce(remote_of(src)->fetch);
}

static void http_close(struct source *src)
{
	struct remote *r = remote_of(src);
	if (!r)
		return;
	/* the fetcher first: its last requests end into the block cache */
	fetcher_free(r->fetch);
	block_cache_free(r->blocks);
	disk_cache_free(r->disk);
	s3_signer_free(r->signer);
	remote_url_free(&r->url);
	free(r->cache_note);
	free(r);
}

static const struct source_ops http_ops;

char *http_cache_file(const struct source *src, const char *name)
{
	if (src->ops != &http_ops || !remote_of(src)->disk)
		return NULL;
	return disk_cache_file(remote_of(src)->disk, name);
}

static const struct source_ops http_ops = {
	.read = http_read,
	.describe = http_describe,
	.why = http_why,
	.count = http_count,
	.quiesce = http_quiesce,
	.close = http_close,
};

static bool sign_request(void *arg, const char *range, const char *if_match, void *headers,
			 char *err, size_t errlen)
{
	return s3_sign(arg, range, if_match, (struct curl_slist **)headers, err, errlen);
}

/* The disk cache, where asked for; one that cannot be made is noted in
 * /header, and the mount goes on without it. */
static void open_disk_cache(struct remote *r, const struct source *src, const char *dir)
{
	char key[ERRMSG_MAX + 64], why[ERRMSG_MAX];
	snprintf(key, sizeof(key), "%s\n%s\n%" PRIu64, r->url.name, fetcher_validator(r->fetch), src->size);
	if (!fetcher_validated(r->fetch)) {
		r->cache_note = strdup("no disk cache: the server gives no ETag or Last-Modified");
		return;
	}
	if (disk_cache_open(&r->disk, dir, key, src->size, REMOTE_BLOCK_SIZE, why, sizeof(why)) != DUMPFS_OK) {
		size_t n = strlen(why) + 32;
		if ((r->cache_note = malloc(n)))
			snprintf(r->cache_note, n, "no disk cache (%s)", why);
	}
}

enum dumpfs_status http_source_open(struct source *src, const char *url,
				    const struct dumpfs_remote *opts, char *err, size_t errlen)
{
	static const struct dumpfs_remote none;
	struct remote *r = calloc(1, sizeof(*r));
	uint8_t *first = malloc(REMOTE_BLOCK_SIZE);
	size_t got = 0;
	enum dumpfs_status st = DUMPFS_ERR_NOMEM;

	if (!opts)
		opts = &none;
	*src = (struct source){ .ops = &http_ops, .priv = r };
	if (!r || !first || !(src->path = strdup(url)))
		goto out;
	st = remote_url_parse(&r->url, url, opts, err, errlen);
	if (st == DUMPFS_OK && r->url.s3 && !opts->s3_no_sign)
		st = s3_signer_new(&r->signer, &r->url, opts, err, errlen);
	if (st != DUMPFS_OK)
		goto out;
	st = fetcher_open(&r->fetch, &r->url, opts, r->signer ? sign_request : NULL, r->signer, first,
			  REMOTE_BLOCK_SIZE, &got, err, errlen);
	if (st != DUMPFS_OK)
		goto out;
	src->size = src->stored_bytes = fetcher_size(r->fetch);
	src->remote = true;
	if (opts->cache_dir)
		open_disk_cache(r, src, opts->cache_dir);
	r->blocks = block_cache_new(r->fetch, r->disk,
				    opts->cache_bytes ? opts->cache_bytes : DEFAULT_CACHE_BYTES);
	if (!r->blocks) {
		st = DUMPFS_ERR_NOMEM;
		goto out;
	}
	block_cache_seed(r->blocks, first, got);
out:
	if (st == DUMPFS_ERR_NOMEM)
		snprintf(err, errlen, "%s: out of memory", url);
	free(first);
	return st;
}
