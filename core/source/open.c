/*
 * open.c - a path to a source: a plain file, wrapped by the flattened
 * reader when its content says it is one (never by its name).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "source/source.h"

enum dumpfs_status source_open(struct source *src, const char *path,
			       char *err, size_t errlen)
{
	enum dumpfs_status st = file_source_open(src, path, err, errlen);
	if (st == DUMPFS_OK && flat_signature(src))
		st = flat_source_open(src, err, errlen);
	return st;
}
