/*
 * flat.c - makedumpfile's flattened format as a byte source.
 *
 * A flattened file is a 4 KiB big-endian header ("makedumpfile", type 1,
 * version 1) and then records {be64 offset, be64 size, data} that say
 * "these bytes go at this offset of the real dump", ended by offset -1.
 * makedumpfile -F and QEMU's kdump-* write it so that a dump can go down a
 * pipe.  We index it with one sequential scan and never copy it: the index
 * maps each byte of the rearranged file to the latest record that wrote it
 * (later records override earlier ones, as `makedumpfile -R` pwrite()s
 * them in order); bytes no record wrote read as zeros.  The flattened
 * source wraps the plain file it was opened as.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/source.h"

#define FLAT_SIGNATURE "makedumpfile"
#define FLAT_HEADER_SIZE 4096
#define FLAT_SCAN_WINDOW (1u << 20)

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
};

struct flat_record {
	uint64_t dst, len, src;
	size_t seq;                     /* position in the file: later wins */
};

struct record_list {
	struct flat_record *v;
	size_t n, cap;
};

static bool records_push(struct record_list *l, struct flat_record r)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		struct flat_record *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return false;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = r;
	return true;
}

static int cmp_record_dst(const void *a, const void *b)
{
	const struct flat_record *x = a, *y = b;
	if (x->dst != y->dst)
		return x->dst < y->dst ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Max-heap of record indexes ordered by seq: the record that wins. */
struct seq_heap { size_t *v; size_t n; const struct flat_record *rec; };

static void heap_push(struct seq_heap *h, size_t r)
{
	size_t i = h->n++;
	h->v[i] = r;
	while (i && h->rec[h->v[(i - 1) / 2]].seq < h->rec[h->v[i]].seq) {
		size_t p = (i - 1) / 2, t = h->v[p];
		h->v[p] = h->v[i];
		h->v[i] = t;
		i = p;
	}
}

static void heap_pop(struct seq_heap *h)
{
	h->v[0] = h->v[--h->n];
	for (size_t i = 0;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->n && h->rec[h->v[l]].seq > h->rec[h->v[m]].seq) m = l;
		if (r < h->n && h->rec[h->v[r]].seq > h->rec[h->v[m]].seq) m = r;
		if (m == i)
			break;
		size_t t = h->v[m];
		h->v[m] = h->v[i];
		h->v[i] = t;
		i = m;
	}
}

static bool pieces_push(struct flat_index *fi, size_t *cap, uint64_t dst,
			uint64_t len, uint64_t src)
{
	if (fi->npieces) {
		struct flat_piece *last = &fi->pieces[fi->npieces - 1];
		if (last->dst + last->len == dst && last->src + last->len == src) {
			last->len += len;
			return true;
		}
	}
	if (fi->npieces == *cap) {
		size_t ncap = *cap ? *cap * 2 : 1024;
		struct flat_piece *p = realloc(fi->pieces, ncap * sizeof(*p));
		if (!p)
			return false;
		fi->pieces = p;
		*cap = ncap;
	}
	fi->pieces[fi->npieces++] = (struct flat_piece){ dst, len, src };
	return true;
}

/*
 * Turn records (sorted by dst) into disjoint pieces where the latest record
 * wins.  Overlaps are rare (rewritten headers), so the common case is one
 * pass; the general case is a sweep over record boundaries with a heap.
 */
static bool resolve_overlaps(struct flat_index *fi, struct flat_record *rec, size_t n)
{
	size_t cap = 0;
	bool overlap = false;

	for (size_t i = 1; i < n && !overlap; i++)
		overlap = rec[i - 1].dst + rec[i - 1].len > rec[i].dst;
	if (!overlap) {
		for (size_t i = 0; i < n; i++)
			if (!pieces_push(fi, &cap, rec[i].dst, rec[i].len, rec[i].src))
				return false;
		return true;
	}

	uint64_t *cuts = malloc(2 * n * sizeof(*cuts));
	struct seq_heap h = { malloc(n * sizeof(size_t)), 0, rec };
	bool ok = cuts && h.v;
	size_t ncuts = 0, next = 0;

	for (size_t i = 0; ok && i < n; i++) {
		cuts[ncuts++] = rec[i].dst;
		cuts[ncuts++] = rec[i].dst + rec[i].len;
	}
	if (ok && ncuts)
		qsort(cuts, ncuts, sizeof(*cuts), cmp_u64);
	for (size_t k = 0; ok && k + 1 < ncuts; k++) {
		uint64_t a = cuts[k], b = cuts[k + 1];
		if (a == b)
			continue;
		while (next < n && rec[next].dst <= a)
			heap_push(&h, next++);
		while (h.n && rec[h.v[0]].dst + rec[h.v[0]].len <= a)
			heap_pop(&h);
		/* The top may still be covered by a later-ending loser; those
		 * are popped lazily when they become the top. */
		if (h.n) {
			const struct flat_record *w = &rec[h.v[0]];
			ok = pieces_push(fi, &cap, a, b - a, w->src + (a - w->dst));
		}
	}
	free(cuts);
	free(h.v);
	return ok;
}

/* A buffered forward reader over the raw flattened file. */
struct scan {
	const struct source *src;
	uint8_t *buf;
	uint64_t start, end;            /* window of the file in buf */
};

static enum dumpfs_status scan_get(struct scan *s, uint64_t off, void *out, size_t len)
{
	if (off < s->start || off + len > s->end) {
		uint64_t want = s->src->size - off;
		if (want > FLAT_SCAN_WINDOW)
			want = FLAT_SCAN_WINDOW;
		if (want < len)
			return DUMPFS_ERR_CORRUPT;
		enum dumpfs_status st = source_read(s->src, s->buf, want, off);
		if (st != DUMPFS_OK)
			return st;
		s->start = off;
		s->end = off + want;
	}
	memcpy(out, s->buf + (off - s->start), len);
	return DUMPFS_OK;
}

static void set_warning(struct source *src, const char *fmt, uint64_t off, size_t n)
{
	char msg[ERRMSG_MAX];
	snprintf(msg, sizeof(msg), fmt, src->path, (unsigned long long)off, n);
	free(src->warning);
	src->warning = strdup(msg);
}

static void flat_index_free(struct flat_index *fi);
static const struct source_ops flat_ops;

bool flat_signature(const struct source *src)
{
	char sig[16];
	return source_read(src, sig, sizeof(sig), 0) == DUMPFS_OK &&
	       memcmp(sig, FLAT_SIGNATURE, sizeof(FLAT_SIGNATURE)) == 0;
}

enum dumpfs_status flat_source_open(struct source *src, char *err, size_t errlen)
{
	uint8_t hdr[32];
	struct scan s = { .src = src };
	struct record_list l = {0};
	enum dumpfs_status st;
	uint64_t pos = FLAT_HEADER_SIZE, stored = 0, logical = 0;
	bool ended = false;

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
	s.buf = malloc(FLAT_SCAN_WINDOW);
	if (!s.buf)
		return DUMPFS_ERR_NOMEM;

	while (pos < src->size) {
		uint8_t rh[16];
		if (pos + 16 > src->size)
			break;
		st = scan_get(&s, pos, rh, sizeof(rh));
		if (st != DUMPFS_OK) {
			snprintf(err, errlen, "%s: offset %llu: cannot read flattened record header",
				 src->path, (unsigned long long)pos);
			goto fail;
		}
		int64_t off = (int64_t)get_be64(rh), size = (int64_t)get_be64(rh + 8);
		if (off == -1) {
			ended = true;
			break;
		}
		if (off < 0 || size < 0) {
			snprintf(err, errlen, "%s: offset %llu: bad flattened record (offset %lld, size %lld)",
				 src->path, (unsigned long long)pos, (long long)off, (long long)size);
			st = DUMPFS_ERR_CORRUPT;
			goto fail;
		}
		uint64_t data = pos + 16, len = (uint64_t)size, dend;
		if (!add_ok((uint64_t)off, len, &dend)) {
			snprintf(err, errlen, "%s: offset %llu: flattened record runs past 2^64",
				 src->path, (unsigned long long)pos);
			st = DUMPFS_ERR_CORRUPT;
			goto fail;
		}
		if (len > src->size - data) {
			/* Cut short by a full disk or an interrupted copy: keep
			 * what is there. */
			set_warning(src, "%s: offset %llu: last flattened record truncated; %zu records indexed",
				    data, l.n);
			len = src->size - data;
			dend = (uint64_t)off + len;
			pos = src->size;
		} else {
			pos = data + len;
		}
		if (len && !records_push(&l, (struct flat_record){ (uint64_t)off, len, data, l.n })) {
			st = DUMPFS_ERR_NOMEM;
			goto fail;
		}
		stored += len;
		/* An empty write does not grow the file makedumpfile -R makes. */
		if (len && dend > logical)
			logical = dend;
	}
	if (!ended && !src->warning)
		set_warning(src, "%s: offset %llu: flattened end marker missing (file truncated?); %zu records indexed",
			    pos, l.n);

	struct flat_index *fi = calloc(1, sizeof(*fi));
	if (!fi) {
		st = DUMPFS_ERR_NOMEM;
		goto fail;
	}
	fi->nrecords = l.n;
	fi->complete = ended;
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_record_dst);
	if (!resolve_overlaps(fi, l.v, l.n)) {
		flat_index_free(fi);
		st = DUMPFS_ERR_NOMEM;
		goto fail;
	}
	free(l.v);
	free(s.buf);
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
	src->size = logical;
	src->stored_bytes = stored;
	return DUMPFS_OK;
fail:
	free(l.v);
	free(s.buf);
	return st;
}

/* Frees the index only: the plain file is the caller's until it moves in. */
static void flat_index_free(struct flat_index *fi)
{
	if (!fi)
		return;
	free(fi->pieces);
	free(fi);
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
	sb_printf(sb, " (flattened, %zu records, rearranged size %" PRIu64 ")", fi->nrecords,
		  src->size);
	if (fi->file.ops->describe)
		fi->file.ops->describe(&fi->file, sb);
}

/* What the file under the flattened stream has to say, and do. */
static void flat_stats(const struct source *src, struct strbuf *sb)
{
	const struct flat_index *fi = src->priv;
	source_stats(&fi->file, sb);
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
	.stats = flat_stats,
	.quiesce = flat_quiesce,
	.close = flat_close,
};
