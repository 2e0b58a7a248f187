/*
 * flat_sidecar.c - the index of a flattened file (flat.h) kept in a small
 * sidecar, DUMP.dfsidx, so that a flattened file read over a network need
 * not be read whole to be mounted.  The layout (docs/index-sidecar.md),
 * all little-endian:
 *
 *     0  8  magic "DFSIDX\r\n"
 *     8  4  version (1)
 *    12  4  flags: bit 0 the end marker was seen (gaps read as zeros)
 *    16  8  size of the flattened file
 *    24  8  size of the rearranged file
 *    32  8  bytes of record data in the flattened file
 *    40  8  records with data
 *    48  8  pieces
 *    56  8  offset of the record header in front of the first piece
 *    64  8  offset of the record header in front of the last piece
 *    72 32  SHA-256 of le64(flattened size), its first 4 KiB and its last
 *           4 KiB (those after the first 4 KiB, when it is shorter)
 *   104 32  SHA-256 of the pieces as stored
 *   136     pieces: {le64 dst, le64 len, le64 src} sorted by dst, disjoint
 *
 * A load believes nothing: every field is checked against the sidecar's
 * size and the flattened file's, and the sidecar against the file by the
 * digest and the two record headers, a few small reads; any mismatch
 * refuses the sidecar, naming it, the offset and what was wrong.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "source/flat.h"

#define IDX_MAGIC "DFSIDX\r\n"
#define IDX_VERSION 1
#define IDX_COMPLETE 1u
#define IDX_HEADER 136
#define IDX_PIECE 24
#define IDX_DIGEST 32
#define IDX_SPAN 4096u          /* bytes of each end of the file digested */

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool sha256(const void *a, size_t alen, const void *b, size_t blen,
		   const void *c, size_t clen, uint8_t out[IDX_DIGEST])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
		  EVP_DigestUpdate(ctx, a, alen) && EVP_DigestUpdate(ctx, b, blen) &&
		  EVP_DigestUpdate(ctx, c, clen) && EVP_DigestFinal_ex(ctx, out, &len) &&
		  len == IDX_DIGEST;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* The digest that ties a sidecar to its flattened file: two small reads,
 * as cheap over HTTP ranges as on a disk. */
static enum dumpfs_status file_digest(const struct source *file, uint8_t out[IDX_DIGEST])
{
	uint8_t size[8], head[FLAT_HEADER_SIZE], tail[IDX_SPAN];
	uint64_t tail_at = file->size - IDX_SPAN > FLAT_HEADER_SIZE ?
			   file->size - IDX_SPAN : FLAT_HEADER_SIZE;
	size_t tail_len = (size_t)(file->size - tail_at);
	enum dumpfs_status st;

	if (file->size < FLAT_HEADER_SIZE)
		return DUMPFS_ERR_CORRUPT;
	put_le64(size, file->size);
	if ((st = source_read(file, head, sizeof(head), 0)) != DUMPFS_OK ||
	    (st = source_read(file, tail, tail_len, tail_at)) != DUMPFS_OK)
		return st;
	return sha256(size, sizeof(size), head, sizeof(head), tail, tail_len, out) ?
	       DUMPFS_OK : DUMPFS_ERR_NOMEM;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

enum dumpfs_status flat_index_write(const struct source *flat, int fd, char *err, size_t errlen)
{
	const struct flat_index *fi = flat_index_of(flat);
	uint8_t hdr[IDX_HEADER] = {0};
	enum dumpfs_status st;

	if (!fi) {
		snprintf(err, errlen, "%s: not a makedumpfile flattened file", flat->path);
		return DUMPFS_ERR_INVALID;
	}
	uint8_t *pieces = malloc(fi->npieces ? fi->npieces * IDX_PIECE : 1);
	if (!pieces)
		return DUMPFS_ERR_NOMEM;
	for (size_t i = 0; i < fi->npieces; i++) {
		put_le64(pieces + i * IDX_PIECE, fi->pieces[i].dst);
		put_le64(pieces + i * IDX_PIECE + 8, fi->pieces[i].len);
		put_le64(pieces + i * IDX_PIECE + 16, fi->pieces[i].src);
	}
	memcpy(hdr, IDX_MAGIC, 8);
	put_le32(hdr + 8, IDX_VERSION);
	put_le32(hdr + 12, fi->complete ? IDX_COMPLETE : 0);
	put_le64(hdr + 16, fi->file.size);
	put_le64(hdr + 24, fi->size);
	put_le64(hdr + 32, fi->stored_bytes);
	put_le64(hdr + 40, fi->nrecords);
	put_le64(hdr + 48, fi->npieces);
	put_le64(hdr + 56, fi->first_record);
	put_le64(hdr + 64, fi->last_record);
	st = file_digest(&fi->file, hdr + 72);
	if (st != DUMPFS_OK)
		snprintf(err, errlen, "%s: cannot read its first and last 4 KiB", flat->path);
	else if (!sha256(pieces, fi->npieces * IDX_PIECE, "", 0, "", 0, hdr + 104))
		st = DUMPFS_ERR_NOMEM;
	else if (write_all(fd, hdr, sizeof(hdr)) < 0 ||
		 write_all(fd, pieces, fi->npieces * IDX_PIECE) < 0) {
		snprintf(err, errlen, "cannot write the index: %s", strerror(errno));
		st = DUMPFS_ERR_IO;
	}
	free(pieces);
	return st;
}

/* ---- loading ------------------------------------------------------------ */

struct load {
	const struct source *src, *index;
	char *err;
	size_t errlen;
};

static enum dumpfs_status refuse(const struct load *l, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum dumpfs_status refuse(const struct load *l, uint64_t off, const char *fmt, ...)
{
	char what[ERRMSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(l->err, l->errlen, "%s: offset %llu: %s", l->index->path,
		 (unsigned long long)off, what);
	return DUMPFS_ERR_CORRUPT;
}

/* The header fields, against the sidecar's size and the file's. */
static enum dumpfs_status check_header(const struct load *l, const uint8_t *h,
				       struct flat_index *fi)
{
	uint64_t fsize = get_le64(h + 16), npieces = get_le64(h + 48);
	uint64_t nrecords = get_le64(h + 40), data = l->src->size - FLAT_HEADER_SIZE;
	uint32_t flags = get_le32(h + 12);

	if (memcmp(h, IDX_MAGIC, 8))
		return refuse(l, 0, "not a dumpfs index sidecar (bad magic)");
	if (get_le32(h + 8) != IDX_VERSION)
		return refuse(l, 8, "index version %u, this dumpfs reads %u", get_le32(h + 8),
			      IDX_VERSION);
	if (flags & ~IDX_COMPLETE)
		return refuse(l, 12, "unknown flags %#x", flags);
	if (fsize != l->src->size)
		return refuse(l, 16, "made for a flattened file of %llu bytes; %s is %llu",
			      (unsigned long long)fsize, l->src->path,
			      (unsigned long long)l->src->size);
	if (npieces > (l->index->size - IDX_HEADER) / IDX_PIECE)
		return refuse(l, 48, "%llu pieces do not fit in the sidecar's %llu bytes",
			      (unsigned long long)npieces, (unsigned long long)l->index->size);
	if (l->index->size != IDX_HEADER + npieces * IDX_PIECE)
		return refuse(l, IDX_HEADER + npieces * IDX_PIECE,
			      "%llu bytes after the last of %llu pieces",
			      (unsigned long long)(l->index->size - IDX_HEADER - npieces * IDX_PIECE),
			      (unsigned long long)npieces);
	if (nrecords > data / FLAT_RECORD_HEADER)
		return refuse(l, 40, "%llu records cannot fit in %llu bytes of records",
			      (unsigned long long)nrecords, (unsigned long long)data);
	if (npieces > 2 * nrecords || (nrecords && !npieces))
		return refuse(l, 48, "%llu pieces cannot come from %llu records",
			      (unsigned long long)npieces, (unsigned long long)nrecords);
	if (get_le64(h + 32) > data)
		return refuse(l, 32, "%llu bytes of record data in a file of %llu",
			      (unsigned long long)get_le64(h + 32), (unsigned long long)l->src->size);
	fi->complete = flags & IDX_COMPLETE;
	fi->size = get_le64(h + 24);
	fi->stored_bytes = get_le64(h + 32);
	fi->nrecords = (size_t)nrecords;
	fi->npieces = (size_t)npieces;
	fi->first_record = get_le64(h + 56);
	fi->last_record = get_le64(h + 64);
	return DUMPFS_OK;
}

/* Each piece inside the file, after the one before it. */
static enum dumpfs_status check_pieces(const struct load *l, struct flat_index *fi)
{
	uint64_t end = 0, sum = 0;

	for (size_t i = 0; i < fi->npieces; i++) {
		const struct flat_piece *p = &fi->pieces[i];
		uint64_t at = IDX_HEADER + (uint64_t)i * IDX_PIECE, dend, send;
		if (!p->len)
			return refuse(l, at, "piece %zu is empty", i);
		if (!add_ok(p->dst, p->len, &dend))
			return refuse(l, at, "piece %zu runs past 2^64", i);
		if (i && p->dst < end)
			return refuse(l, at, "piece %zu (at %llu) overlaps or precedes the one before"
				      " (ending at %llu)", i, (unsigned long long)p->dst,
				      (unsigned long long)end);
		if (p->src < FLAT_HEADER_SIZE + FLAT_RECORD_HEADER || !add_ok(p->src, p->len, &send) ||
		    send > l->src->size)
			return refuse(l, at + 16, "piece %zu (%llu bytes from %llu) is not inside"
				      " the flattened file's %llu bytes of records", i,
				      (unsigned long long)p->len, (unsigned long long)p->src,
				      (unsigned long long)l->src->size);
		end = dend;
		sum += p->len;
	}
	if (sum > fi->stored_bytes)
		return refuse(l, 32, "the pieces hold %llu bytes, more than the %llu of record data",
			      (unsigned long long)sum, (unsigned long long)fi->stored_bytes);
	if (fi->size != end)
		return refuse(l, 24, "rearranged size %llu, but the pieces end at %llu",
			      (unsigned long long)fi->size, (unsigned long long)end);
	return DUMPFS_OK;
}

/* The record header at @rec of the file must be the one piece @i's bytes
 * come from: they lie in its data, at the place its offset says. */
static enum dumpfs_status check_record(const struct load *l, const struct flat_index *fi,
				       size_t i, uint64_t rec, uint64_t field)
{
	const struct flat_piece *p = &fi->pieces[i];
	uint8_t rh[FLAT_RECORD_HEADER];
	uint64_t data = rec + FLAT_RECORD_HEADER;

	if (rec < FLAT_HEADER_SIZE || rec > p->src - FLAT_RECORD_HEADER)
		return refuse(l, field, "record header at %llu cannot hold piece %zu (from %llu)",
			      (unsigned long long)rec, i, (unsigned long long)p->src);
	if (source_read(l->src, rh, sizeof(rh), rec) != DUMPFS_OK)
		return refuse(l, field, "cannot read the record header at %llu of %s",
			      (unsigned long long)rec, l->src->path);
	uint64_t off = get_be64(rh), size = get_be64(rh + 8);
	/* the file may end inside the last record: the piece then ends there */
	if (off > INT64_MAX || size > INT64_MAX || p->src + p->len - data > size ||
	    off + (p->src - data) != p->dst)
		return refuse(l, field, "piece %zu (%llu bytes at %llu) is not in the record at"
			      " %llu of %s (offset %llu, size %llu): the sidecar is not this"
			      " file's", i, (unsigned long long)p->len, (unsigned long long)p->dst,
			      (unsigned long long)rec, l->src->path, (unsigned long long)off,
			      (unsigned long long)size);
	return DUMPFS_OK;
}

static enum dumpfs_status load(const struct load *l, struct flat_index *fi)
{
	uint8_t h[IDX_HEADER], digest[IDX_DIGEST];
	enum dumpfs_status st;

	if (l->index->size < IDX_HEADER)
		return refuse(l, 0, "sidecar truncated (%llu bytes; its header is %u)",
			      (unsigned long long)l->index->size, IDX_HEADER);
	if (source_read(l->index, h, sizeof(h), 0) != DUMPFS_OK)
		return refuse(l, 0, "cannot read the sidecar's header");
	if ((st = check_header(l, h, fi)) != DUMPFS_OK)
		return st;
	if ((st = file_digest(l->src, digest)) != DUMPFS_OK)
		return refuse(l, 72, "cannot read the first and last 4 KiB of %s", l->src->path);
	if (memcmp(digest, h + 72, IDX_DIGEST))
		return refuse(l, 72, "made for another file: the digest of %s's first and last"
			      " 4 KiB differs", l->src->path);

	size_t bytes = fi->npieces * IDX_PIECE;
	uint8_t *raw = malloc(bytes ? bytes : 1);
	fi->pieces = malloc(fi->npieces ? fi->npieces * sizeof(*fi->pieces) : 1);
	if (!raw || !fi->pieces) {
		free(raw);
		return DUMPFS_ERR_NOMEM;
	}
	if (source_read(l->index, raw, bytes, IDX_HEADER) != DUMPFS_OK)
		st = refuse(l, IDX_HEADER, "cannot read the %zu pieces", fi->npieces);
	else if (!sha256(raw, bytes, "", 0, "", 0, digest))
		st = DUMPFS_ERR_NOMEM;
	else if (memcmp(digest, h + 104, IDX_DIGEST))
		st = refuse(l, 104, "the pieces do not match their digest (damaged sidecar)");
	for (size_t i = 0; st == DUMPFS_OK && i < fi->npieces; i++)
		fi->pieces[i] = (struct flat_piece){ get_le64(raw + i * IDX_PIECE),
						     get_le64(raw + i * IDX_PIECE + 8),
						     get_le64(raw + i * IDX_PIECE + 16) };
	free(raw);
	if (st == DUMPFS_OK)
		st = check_pieces(l, fi);
	if (st == DUMPFS_OK && !fi->npieces && (fi->first_record || fi->last_record))
		st = refuse(l, 56, "record headers named for an empty index");
	if (st == DUMPFS_OK && fi->npieces)
		st = check_record(l, fi, 0, fi->first_record, 56);
	if (st == DUMPFS_OK && fi->npieces)
		st = check_record(l, fi, fi->npieces - 1, fi->last_record, 64);
	return st;
}

enum dumpfs_status flat_source_open_indexed(struct source *src, const struct source *index,
					    char *err, size_t errlen)
{
	struct load l = { src, index, err, errlen };
	enum dumpfs_status st = flat_check_header(src, err, errlen);
	if (st != DUMPFS_OK)
		return st;
	struct flat_index *fi = calloc(1, sizeof(*fi));
	if (!fi)
		return DUMPFS_ERR_NOMEM;
	st = load(&l, fi);
	if (st != DUMPFS_OK) {
		if (st == DUMPFS_ERR_NOMEM)
			snprintf(err, errlen, "%s: out of memory", index->path);
		flat_index_free(fi);
		return st;
	}
	if (!fi->complete) {
		char msg[ERRMSG_MAX];
		snprintf(msg, sizeof(msg), "%s: flattened end marker missing or last record"
			 " truncated (file cut short?); %zu records indexed (%s)", src->path,
			 fi->nrecords, index->path);
		free(src->warning);
		src->warning = strdup(msg);
	}
	return flat_install(src, fi, index->path);
}
