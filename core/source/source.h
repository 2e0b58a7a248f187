/*
 * source.h - byte sources: what a format reads its dump file through, so
 * that no format knows whether the bytes come from a plain file, a
 * makedumpfile flattened file (or, later, a web server).
 *
 * A source is a logical file of @size bytes read at any offset.  Each kind
 * is one file behind struct source_ops; source.c dispatches, open.c picks
 * the kinds for a name: a URL is read remotely (http.c, remote.h), a path
 * as a plain file, and a flattened file is either wrapped by flat.c.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_SOURCE_H
#define DUMPFS_SOURCE_H

#include "base/base.h"

struct source;

/* What remote sources count, summed over a dump's files for /stats. */
struct source_counters {
	bool remote, disk;              /* any remote file; any disk cache */
	uint64_t requests, bytes, retries, failures;
	uint64_t block_hits, block_misses, readahead_blocks, cache_bytes_limit;
	uint64_t disk_hits, disk_misses;
	char last_error[ERRMSG_MAX];    /* the last failure's message, "" if none */
};

struct source_ops {
	/* What the logical bytes are made from, for /header: NULL when they
	 * are the file's own, "flattened" for a rearranged file. */
	const char *wrapper;
	/* Exactly @len bytes at @off, which source_read() has checked lie
	 * inside the source. */
	enum dumpfs_status (*read)(const struct source *src, void *buf, size_t len, uint64_t off);
	/* Optional: the first offset >= @off (< size) that may hold data. */
	uint64_t (*next_data)(const struct source *src, uint64_t off);
	/* Optional: the file descriptor and offset where the bytes at @off
	 * (< size) lie as they are, up to @len (clipped to the size). */
	bool (*extent)(const struct source *src, uint64_t off, size_t len, struct dumpfs_extent *e);
	/* Optional: whether the byte at @off (< size) can be read (a
	 * flattened stream cut short has gaps that cannot), and in *@end
	 * where the run of bytes alike in that ends; everything reads if
	 * absent. */
	bool (*run)(const struct source *src, uint64_t off, uint64_t *end);
	/* Optional: the parenthesis after the file's name in /header. */
	void (*describe)(const struct source *src, struct strbuf *sb);
	/* Optional: why the last read failed, when it was not the file's
	 * end (errno otherwise tells). */
	void (*why)(const struct source *src, char *buf, size_t len);
	/* Optional: add what it counts into @c (a remote source's requests). */
	void (*count)(const struct source *src, struct source_counters *c);
	/* Optional: stop the source's threads before a fork(); they start
	 * again when needed. */
	void (*quiesce)(const struct source *src);
	void (*close)(struct source *src);
};

struct source {
	const struct source_ops *ops;
	void *priv;
	char *path;
	uint64_t size;          /* logical size */
	uint64_t stored_bytes;  /* bytes of data actually in the file */
	bool remote;            /* fetched over a network: nothing reads it
				 * whole, or all its page descriptors, unasked */
	char *warning;          /* a problem survived at open (a missing end
				 * marker); NULL if none */
};

/* Open @path (a file; a URL: http://, https://, s3://), detecting a flattened file from its content.  On failure
 * @err says why; source_close() is safe on a source that failed to open.
 * A flattened file is indexed from PATH.dfsidx when that validates. */
enum dumpfs_status source_open(struct source *src, const char *path,
			       char *err, size_t errlen);
/* How source_open_with() indexes a flattened file. */
struct source_open_opts {
	/* The sidecar to load: NULL looks for PATH.dfsidx.  A sidecar that
	 * does not validate is refused (src->warning says why) and the file
	 * is scanned. */
	const char *index_path;
	const struct dumpfs_progress *progress;     /* of a scan; may be NULL */
	const struct dumpfs_remote *remote;         /* how to reach a URL */
};
enum dumpfs_status source_open_with(struct source *src, const char *path,
				    const struct source_open_opts *o,
				    char *err, size_t errlen);
void source_close(struct source *src);

/* Read exactly @len bytes at logical offset @off.  DUMPFS_ERR_CORRUPT if
 * the range runs past the end, DUMPFS_ERR_IO on a read error. */
enum dumpfs_status source_read(const struct source *src, void *buf, size_t len,
			       uint64_t off);
/* The first offset >= @off that may hold data (SEEK_DATA on a plain file;
 * @off where that cannot be told); the size if only holes follow. */
uint64_t source_next_data(const struct source *src, uint64_t off);
/* Whether source_read() of [@off, @off + @len) can succeed, from the
 * source's structure alone (no data is read). */
bool source_holds(const struct source *src, uint64_t off, uint64_t len);
/* Whether the byte at @off can be read, and in *@end (> @off) where the
 * run of bytes alike in that ends: UINT64_MAX past the size, whose bytes
 * never read.  Walking a range run by run costs its gaps, not its bytes. */
bool source_run(const struct source *src, uint64_t off, uint64_t *end);
/* Where bytes at @off lie unchanged in a plain file, for splice; false
 * when they do not (past the end, a rearranged file). */
bool source_extent(const struct source *src, uint64_t off, size_t len,
		   struct dumpfs_extent *e);

/* Why a read just failed with DUMPFS_ERR_IO, into @buf. */
void source_why(const struct source *src, char *buf, size_t len);
/* Add what it counts into @c. */
void source_count(const struct source *src, struct source_counters *c);
/* Stop its threads before fork(). */
void source_quiesce(const struct source *src);

/* The kinds (file.c, flat.c, http.c) */
enum dumpfs_status file_source_open(struct source *src, const char *path,
				    char *err, size_t errlen);
enum dumpfs_status http_source_open(struct source *src, const char *url,
				    const struct dumpfs_remote *opts, char *err, size_t errlen);
/* The path of file @name in a remote source's disk cache (-o cache_dir=),
 * or NULL if @src is not remote or keeps no disk cache. */
char *http_cache_file(const struct source *src, const char *name);
/* Whether an open source starts with the flattened signature. */
bool flat_signature(const struct source *src);
/* Turn the open source @src into the flattened file it holds, by one
 * sequential scan reported to @progress (may be NULL); on failure @src is
 * left as it was. */
enum dumpfs_status flat_source_open(struct source *src, const struct dumpfs_progress *progress,
				    char *err, size_t errlen);
/* The same from a sidecar (flat_index_write()'s), read only through
 * source_read() of @index, so that it may come from anywhere.  The sidecar
 * is checked whole and against @src (its size, a digest of its first and
 * last 4 KiB, the record headers of its first and last pieces); on any
 * mismatch it is refused with @err naming @index's path, the offset and
 * what was wrong, and @src is left as it was. */
enum dumpfs_status flat_source_open_indexed(struct source *src, const struct source *index,
					    char *err, size_t errlen);
/* Write the index of the open flattened source @flat to @fd as a sidecar.
 * DUMPFS_ERR_INVALID if @flat is not a flattened source. */
enum dumpfs_status flat_index_write(const struct source *flat, int fd, char *err, size_t errlen);

#endif /* DUMPFS_SOURCE_H */
