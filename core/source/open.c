/*
 * open.c - a path to a source: a plain file, wrapped by the flattened
 * reader when its content says it is one (never by its name).  A flattened
 * file is indexed from its sidecar (PATH.dfsidx, or the one named) when
 * that validates, else by one full read; a sidecar refused is a warning.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source/source.h"

/* Index @src from the sidecar @path; false (with @why) if it cannot be. */
static bool open_indexed(struct source *src, const char *path, char *why, size_t whylen)
{
	struct source index;
	enum dumpfs_status st = file_source_open(&index, path, why, whylen);
	if (st == DUMPFS_OK)
		st = flat_source_open_indexed(src, &index, why, whylen);
	source_close(&index);
	return st == DUMPFS_OK;
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

enum dumpfs_status source_open_with(struct source *src, const char *path,
				    const struct source_open_opts *o,
				    char *err, size_t errlen)
{
	enum dumpfs_status st = file_source_open(src, path, err, errlen);
	if (st != DUMPFS_OK || !flat_signature(src))
		return st;

	char *next_to = NULL, why[ERRMSG_MAX] = "";
	const char *index = o ? o->index_path : NULL;
	if (!index) {
		if (asprintf(&next_to, "%s%s", path, DUMPFS_INDEX_SUFFIX) < 0)
			return DUMPFS_ERR_NOMEM;
		if (access(next_to, F_OK) == 0)
			index = next_to;
	}
	if (index && open_indexed(src, index, why, sizeof(why))) {
		free(next_to);
		return DUMPFS_OK;
	}
	free(next_to);
	st = flat_source_open(src, o ? o->progress : NULL, err, errlen);
	if (st == DUMPFS_OK && why[0]) {
		char msg[ERRMSG_MAX + 64];
		snprintf(msg, sizeof(msg), "index sidecar refused, indexed by a full read instead: %s",
			 why);
		char *scan = src->warning ? strdup(src->warning) : NULL;
		set_warnings(src, msg, scan);
		free(scan);
	}
	return st;
}

enum dumpfs_status source_open(struct source *src, const char *path,
			       char *err, size_t errlen)
{
	return source_open_with(src, path, NULL, err, errlen);
}
