/*
 * open.c - a name to a source: a URL read remotely (http.c), else a plain
 * file, either wrapped by the flattened reader when its content says it is
 * one (never by its name).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "source/remote.h"

enum dumpfs_status source_open(struct source *src, const char *name,
			       const struct dumpfs_remote *opts, char *err, size_t errlen)
{
	enum dumpfs_status st = remote_url_is(name) ? http_source_open(src, name, opts, err, errlen)
						    : file_source_open(src, name, err, errlen);
	if (st == DUMPFS_OK && flat_signature(src))
		st = flat_source_open(src, err, errlen);
	return st;
}
