/*
 * remote.h - a dump read in place over HTTP(S) or from S3: the parts of
 * the remote source, bottom to top.
 *
 *   url.c        what an http://, https:// or s3:// name means: the URL to
 *                request and, for S3, what to sign
 *   fetch.c      the transport: libcurl's multi interface on one thread per
 *                object, range requests checked against the object's first
 *                answer (size, ETag), retries with jittered backoff
 *   diskcache.c  fetched blocks kept on disk (-o cache_dir=), keyed by URL
 *                and ETag, each with its CRC so that a torn write re-fetches
 *   blocks.c     the memory cache of 256 KiB blocks under the source: one
 *                request for adjacent misses, a growing read-ahead window
 *                for sequential readers
 *   http.c       the source_ops over all of them
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_REMOTE_H
#define DUMPFS_REMOTE_H

#include "source/source.h"

#define REMOTE_BLOCK_SIZE (256u << 10)

/* ---- url.c -------------------------------------------------------------- */

struct remote_url {
	char *name;             /* as the user wrote it, for messages */
	char *request;          /* the URL requested */
	bool s3;
	/* S3 only: what SigV4 signs */
	char *host;             /* "bucket.s3.eu-west-1.amazonaws.com" or the endpoint's */
	char *path;             /* "/key" or "/bucket/key", not encoded */
	char region[64];
};

/* Whether @name is a URL dumpfs reads remotely. */
bool remote_url_is(const char *name);
enum dumpfs_status remote_url_parse(struct remote_url *u, const char *name,
				    const struct dumpfs_remote *opts, char *err, size_t errlen);
void remote_url_free(struct remote_url *u);
/* The sidecar index's URL next to the object: @name + ".dfsidx". */
char *remote_url_sibling(const struct remote_url *u, const char *suffix);

/* ---- fetch.c ------------------------------------------------------------ */

struct fetcher;

/* One range request; the fetcher fills blocks of @block_size bytes. */
struct fetch_req {
	uint64_t off;
	size_t len;
	uint8_t **dest;                 /* ceil(len / block_size) buffers */
	size_t block_size;
	/* Called once, on the fetcher's thread, when the request ends. */
	void (*done)(struct fetch_req *req);
	void *owner;
	enum dumpfs_status status;
	char error[ERRMSG_MAX];
	/* the fetcher's own */
	void *priv;
	struct fetch_req *next;
};

/* Adds the headers a request needs beyond Range and the validator (the
 * S3 signature); false with @err on failure. */
typedef bool (*fetch_sign_fn)(void *arg, const char *range, const char *if_match,
			      void *curl_slist_pp, char *err, size_t errlen);

struct fetch_stats {
	uint64_t requests, bytes, retries, failures;
};

/* Open @u: one request for its first @first_len bytes into @first (a
 * buffer that large), which tells its size and validator.  Refuses a
 * server that does not answer a range request with 206. */
enum dumpfs_status fetcher_open(struct fetcher **out, const struct remote_url *u,
				const struct dumpfs_remote *opts, fetch_sign_fn sign, void *sign_arg,
				uint8_t *first, size_t first_len, size_t *got, char *err, size_t errlen);
uint64_t fetcher_size(const struct fetcher *f);
/* "ETag \"...\"", "Last-Modified ...", or "none". */
const char *fetcher_validator(const struct fetcher *f);
bool fetcher_validated(const struct fetcher *f);
/* Queue @req; its done() is called when it ends, successful or not. */
void fetcher_submit(struct fetcher *f, struct fetch_req *req);
/* Stop the fetcher's thread (before a fork); the next submit restarts it. */
void fetcher_quiesce(struct fetcher *f);
void fetcher_stats(struct fetcher *f, struct fetch_stats *st);
void fetcher_free(struct fetcher *f);

/* ---- diskcache.c -------------------------------------------------------- */

struct disk_cache;

/* The cache directory of the object named @key (URL and validator) under
 * @dir, made if absent. */
enum dumpfs_status disk_cache_open(struct disk_cache **out, const char *dir, const char *key,
				   uint64_t size, size_t block_size, char *err, size_t errlen);
/* Block @index into @buf (its length, shorter for the last block); false
 * if it is not kept or its CRC does not match. */
bool disk_cache_get(struct disk_cache *dc, uint64_t index, uint8_t *buf, size_t len);
void disk_cache_put(struct disk_cache *dc, uint64_t index, const uint8_t *buf, size_t len);
/* A file of this object's directory, e.g. the flattened index. */
char *disk_cache_file(const struct disk_cache *dc, const char *name);
void disk_cache_free(struct disk_cache *dc);

/* ---- blocks.c ----------------------------------------------------------- */

struct block_cache;

struct block_stats {
	uint64_t hits, misses, readahead, disk_hits, disk_misses;
	uint64_t bytes_limit;
};

struct block_cache *block_cache_new(struct fetcher *f, struct disk_cache *dc, size_t bytes);
/* Keep @buf (the object's first @len bytes, as fetcher_open read them). */
void block_cache_seed(struct block_cache *bc, const uint8_t *buf, size_t len);
enum dumpfs_status block_cache_read(struct block_cache *bc, void *buf, size_t len, uint64_t off);
void block_cache_stats(struct block_cache *bc, struct block_stats *st);
/* The message of the last failed read, "" if none. */
void block_cache_last_error(struct block_cache *bc, char *out, size_t outlen);
void block_cache_free(struct block_cache *bc);

#endif /* DUMPFS_REMOTE_H */
