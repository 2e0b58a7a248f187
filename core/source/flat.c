/*
 * flat.c - makedumpfile's flattened format as a byte source.
 *
 * A flattened file is a 4 KiB big-endian header ("makedumpfile", type 1,
 * version 1) and then records {be64 offset, be64 size, data} that say
 * "these bytes go at this offset of the real dump", ended by offset -1.
 * makedumpfile -F and QEMU's kdump-* write it so that a dump can go down a
 * pipe.  The index maps each byte of the rearranged file to the latest
 * record that wrote it (later records override earlier ones, as
 * `makedumpfile -R` pwrite()s them in order); bytes no record wrote read as
 * zeros.  It is built by one sequential scan (flat_scan.c) or loaded from
 * a sidecar (flat_sidecar.c); this file serves reads through it, never
 * copying the file.  The flattened source wraps the plain file it was
 * opened as.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/flat.h"

static const struct source_ops flat_ops;

bool flat_signature(const struct source *src)
{
	char sig[16];
	return source_read(src, sig, sizeof(sig), 0) == DUMPFS_OK &&
	       memcmp(sig, FLAT_SIGNATURE, sizeof(FLAT_SIGNATURE)) == 0;
}

enum dumpfs_status flat_check_header(const struct source *src, char *err, size_t errlen)
{
	uint8_t hdr[32];
	enum dumpfs_status st;

	if (src->size < FLAT_HEADER_SIZE) {
		snprintf(err, errlen, "%s: offset 0: flattened header truncated (file is %llu bytes)",
			 src->path, (unsigned long long)src->size);
		return DUMPFS_ERR_CORRUPT;
	}
	st = source_read(src, hdr, sizeof(hdr), 0);
	if (st != DUMPFS_OK) {
		snprintf(err, errlen, "%s: offset 0: cannot read flattened header", src->path);
		return st;
	}
	if (get_be64(hdr + 16) != 1 || get_be64(hdr + 24) != 1) {
		snprintf(err, errlen, "%s: offset 16: unsupported flattened type %llu / version %llu (want 1/1)",
			 src->path, (unsigned long long)get_be64(hdr + 16),
			 (unsigned long long)get_be64(hdr + 24));
		return DUMPFS_ERR_UNSUPPORTED;
	}
	return DUMPFS_OK;
}

/* Frees the index only: the plain file is the caller's until it moves in. */
void flat_index_free(struct flat_index *fi)
{
	if (!fi)
		return;
	free(fi->pieces);
	free(fi->origin);
	free(fi);
}

enum dumpfs_status flat_install(struct source *src, struct flat_index *fi, const char *origin)
{
	if (!(fi->origin = strdup(origin))) {
		flat_index_free(fi);
		return DUMPFS_ERR_NOMEM;
	}
	/* Shrink to fit: the index lives as long as the mount. */
	if (fi->npieces) {
		struct flat_piece *p = realloc(fi->pieces, fi->npieces * sizeof(*p));
		if (p)
			fi->pieces = p;
	}
	/* The plain file moves inside; its name and warning stay outside. */
	fi->file = *src;
	fi->file.path = NULL;
	fi->file.warning = NULL;
	src->ops = &flat_ops;
	src->priv = fi;
	src->size = fi->size;
	src->stored_bytes = fi->stored_bytes;
	return DUMPFS_OK;
}

const struct flat_index *flat_index_of(const struct source *src)
{
	return src->ops == &flat_ops ? src->priv : NULL;
}

/* Index of the first piece that ends after @off. */
static size_t find_piece(const struct flat_index *fi, uint64_t off)
{
	size_t lo = 0, hi = fi->npieces;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (fi->pieces[mid].dst + fi->pieces[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static enum dumpfs_status flat_read(const struct source *src, void *buf, size_t len,
				    uint64_t off)
{
	const struct flat_index *fi = src->priv;
	uint8_t *out = buf;

	for (size_t i = find_piece(fi, off); len; i++) {
		bool in_gap = i == fi->npieces || fi->pieces[i].dst > off;
		if (in_gap && !fi->complete)
			return DUMPFS_ERR_CORRUPT;
		if (i == fi->npieces || fi->pieces[i].dst >= off + len) {
			memset(out, 0, len);
			return DUMPFS_OK;
		}
		const struct flat_piece *p = &fi->pieces[i];
		if (in_gap) {                   /* never written: reads as zeros */
			size_t gap = (size_t)(p->dst - off);
			memset(out, 0, gap);
			out += gap;
			off += gap;
			len -= gap;
		}
		size_t n = (size_t)(p->dst + p->len - off);
		if (n > len)
			n = len;
		enum dumpfs_status st = source_read(&fi->file, out, n, p->src + (off - p->dst));
		if (st != DUMPFS_OK)
			return st;
		out += n;
		off += n;
		len -= n;
	}
	return DUMPFS_OK;
}

/* A complete stream reads everywhere (gaps are zeros); one cut short only
 * where its records are. */
static bool flat_run(const struct source *src, uint64_t off, uint64_t *end)
{
	const struct flat_index *fi = src->priv;
	size_t i = find_piece(fi, off);

	if (fi->complete) {
		*end = src->size;
		return true;
	}
	if (i == fi->npieces) {
		*end = src->size;
		return false;
	}
	const struct flat_piece *p = &fi->pieces[i];
	*end = p->dst > off ? p->dst : p->dst + p->len;
	return p->dst <= off;
}

static void flat_describe(const struct source *src, struct strbuf *sb)
{
	const struct flat_index *fi = src->priv;
	sb_printf(sb, " (flattened, %zu records, rearranged size %" PRIu64 ", index: %s)", fi->nrecords,
		  src->size, fi->origin);
	if (fi->file.ops->describe)
		fi->file.ops->describe(&fi->file, sb);
}

/* What the file under the flattened stream has to say, and do. */
static void flat_count(const struct source *src, struct source_counters *c)
{
	const struct flat_index *fi = src->priv;
	source_count(&fi->file, c);
}

static void flat_why(const struct source *src, char *buf, size_t len)
{
	const struct flat_index *fi = src->priv;
	source_why(&fi->file, buf, len);
}

static void flat_quiesce(const struct source *src)
{
	const struct flat_index *fi = src->priv;
	source_quiesce(&fi->file);
}

static void flat_close(struct source *src)
{
	struct flat_index *fi = src->priv;
	source_close(&fi->file);
	flat_index_free(fi);
}

static const struct source_ops flat_ops = {
	.wrapper = "flattened",
	.read = flat_read,
	.run = flat_run,
	.describe = flat_describe,
	.why = flat_why,
	.count = flat_count,
	.quiesce = flat_quiesce,
	.close = flat_close,
};
