/*
 * open.c - a name to a source: a URL read remotely (http.c), else a plain
 * file; either wrapped by the flattened reader when its content says it is
 * one (never by its name).
 *
 * A flattened file can only be indexed by reading it whole, which over a
 * network means downloading it.  So its index comes, first that validates,
 * from: the sidecar named (-o index=, a path or a URL); for a remote file,
 * the one kept in the disk cache by an earlier mount; the sidecar beside
 * it (NAME.dfsidx, which `dumpfs index` writes); else one full read, whose
 * index the disk cache then keeps.  A sidecar refused is a warning.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source/remote.h"

static enum dumpfs_status open_named(struct source *src, const char *name, const struct dumpfs_remote *r,
				     char *err, size_t errlen)
{
	return remote_url_is(name) ? http_source_open(src, name, r, err, errlen)
				   : file_source_open(src, name, err, errlen);
}

/* Index @src from the sidecar @name: 1 done, 0 there is none (a missing
 * file, a 404), -1 refused (@why says why). */
static int open_indexed(struct source *src, const char *name, const struct dumpfs_remote *r,
			char *why, size_t whylen)
{
	struct source index;
	enum dumpfs_status st = open_named(&index, name, r, why, whylen);
	if (st == DUMPFS_OK)
		st = flat_source_open_indexed(src, &index, why, whylen);
	source_close(&index);
	if (st == DUMPFS_ERR_NODATA)
		return 0;
	return st == DUMPFS_OK ? 1 : -1;
}

/* @a, and @b on the next line if there is one, as @src's warning. */
static void set_warnings(struct source *src, const char *a, const char *b)
{
	char *w = malloc(strlen(a) + (b ? strlen(b) + 1 : 0) + 1);
	if (!w)
		return;
	sprintf(w, b ? "%s\n%s" : "%s", a, b);
	free(src->warning);
	src->warning = w;
}

/* Keep the index of @src (just scanned) as @path, by a rename: a reader
 * never meets half of one. */
static void keep_index(const struct source *src, const char *path)
{
	char tmp[4200], why[ERRMSG_MAX];
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	bool ok = flat_index_write(src, fd, why, sizeof(why)) == DUMPFS_OK;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0)
		unlink(tmp);
}

/* The sidecars to try for @name, in order, into @tries (NULLs skipped). */
static void sidecars(const struct source *src, const char *name, const struct source_open_opts *o,
		     char *tries[3])
{
	tries[0] = o && o->index_path ? strdup(o->index_path) : NULL;
	tries[1] = remote_url_is(name) ? http_cache_file(src, "index" DUMPFS_INDEX_SUFFIX) : NULL;
	tries[2] = NULL;
	if (!tries[0] && asprintf(&tries[2], "%s%s", name, DUMPFS_INDEX_SUFFIX) < 0)
		tries[2] = NULL;
	/* a file cached earlier that is gone is no sidecar */
	if (tries[1] && access(tries[1], F_OK) != 0) {
		free(tries[1]);
		tries[1] = NULL;
	}
}

enum dumpfs_status source_open_with(struct source *src, const char *name,
				    const struct source_open_opts *o, char *err, size_t errlen)
{
	enum dumpfs_status st = open_named(src, name, o ? o->remote : NULL, err, errlen);
	if (st != DUMPFS_OK || !flat_signature(src))
		return st;

	char *tries[3], why[ERRMSG_MAX] = "", refused[ERRMSG_MAX] = "";
	int done = 0;
	sidecars(src, name, o, tries);
	for (int i = 0; i < 3 && done != 1; i++) {
		if (!tries[i] || (i == 2 && !remote_url_is(name) && access(tries[i], F_OK) != 0))
			continue;
		done = open_indexed(src, tries[i], o ? o->remote : NULL, why, sizeof(why));
		if (done < 0 && !refused[0])
			snprintf(refused, sizeof(refused), "%s", why);
	}
	char *cache = done == 1 ? NULL : http_cache_file(src, "index" DUMPFS_INDEX_SUFFIX);
	for (int i = 0; i < 3; i++)
		free(tries[i]);
	if (done == 1)
		return DUMPFS_OK;

	st = flat_source_open(src, o ? o->progress : NULL, err, errlen);
	if (st == DUMPFS_OK && cache)
		keep_index(src, cache);
	free(cache);
	if (st == DUMPFS_OK && refused[0]) {
		char msg[ERRMSG_MAX + 64];
		snprintf(msg, sizeof(msg), "index sidecar refused, indexed by a full read instead: %s", refused);
		char *scan = src->warning ? strdup(src->warning) : NULL;
		set_warnings(src, msg, scan);
		free(scan);
	}
	return st;
}

enum dumpfs_status source_open(struct source *src, const char *name, char *err, size_t errlen)
{
	return source_open_with(src, name, NULL, err, errlen);
}
