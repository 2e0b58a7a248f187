/*
 * flat.h - what the three files of the flattened source share, inside
 * core/source/ only:
 *
 *   flat.c          the index in memory and the source that serves reads
 *                   through it (it knows neither scan nor sidecar)
 *   flat_scan.c     the index built by one sequential read of the file
 *   flat_sidecar.c  the index written to / loaded and checked from a
 *                   DUMP.dfsidx sidecar (docs/index-sidecar.md)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_SOURCE_FLAT_H
#define DUMPFS_SOURCE_FLAT_H

#include "source/source.h"

#define FLAT_SIGNATURE "makedumpfile"
#define FLAT_HEADER_SIZE 4096
#define FLAT_RECORD_HEADER 16

/* A piece of the rearranged file served from the flattened one. */
struct flat_piece {
	uint64_t dst;           /* offset in the rearranged file */
	uint64_t len;
	uint64_t src;           /* offset of the bytes in the flattened file */
};

struct flat_index {
	struct source file;             /* the flattened file itself */
	struct flat_piece *pieces;      /* sorted by dst, disjoint */
	size_t npieces;
	size_t nrecords;
	/* The end marker was seen.  Without it a gap may be a lost record,
	 * so it reads as an error, not as zeros. */
	bool complete;
	/* Offsets in the flattened file of the record headers in front of
	 * the first and the last piece (0 when there are none): a sidecar
	 * keeps them so that a load can check it against the file. */
	uint64_t first_record, last_record;
	uint64_t size, stored_bytes;    /* the rearranged file's */
	/* Where the index came from, for /header ("full read" or a path). */
	char *origin;
};

/* Read the flattened header of @src and check its type and version. */
enum dumpfs_status flat_check_header(const struct source *src, char *err, size_t errlen);
/* Make @src (the open plain flattened file) serve the file @fi indexes;
 * @fi and @src's plain file move inside.  @origin is copied. */
enum dumpfs_status flat_install(struct source *src, struct flat_index *fi, const char *origin);
/* The index of an open flattened source, NULL for any other source. */
const struct flat_index *flat_index_of(const struct source *src);
void flat_index_free(struct flat_index *fi);

#endif /* DUMPFS_SOURCE_FLAT_H */
