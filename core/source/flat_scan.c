/*
 * flat_scan.c - the index of a flattened file (flat.h) by one sequential
 * read of it: every record header, in file order, then the records sorted
 * by where they go and their overlaps resolved (later records win).
 * Memory is one 24-byte piece per surviving record run, never per page.
 * The read is reported to the caller's progress callback as it goes: over
 * a network it takes minutes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/flat.h"

#define FLAT_SCAN_WINDOW (1u << 20)

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

/* Append a piece of the record whose data starts at @rsrc; pieces that
 * continue each other (in one record, since headers lie between records)
 * are merged. */
static bool pieces_push(struct flat_index *fi, size_t *cap, uint64_t dst,
			uint64_t len, uint64_t src, uint64_t rsrc)
{
	if (fi->npieces) {
		struct flat_piece *last = &fi->pieces[fi->npieces - 1];
		if (last->dst + last->len == dst && last->src + last->len == src) {
			last->len += len;
			return true;
		}
	}
	if (!fi->npieces)
		fi->first_record = rsrc - FLAT_RECORD_HEADER;
	fi->last_record = rsrc - FLAT_RECORD_HEADER;
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
			if (!pieces_push(fi, &cap, rec[i].dst, rec[i].len, rec[i].src, rec[i].src))
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
			ok = pieces_push(fi, &cap, a, b - a, w->src + (a - w->dst), w->src);
		}
	}
	free(cuts);
	free(h.v);
	return ok;
}

/* A buffered forward reader over the raw flattened file. */
struct scan {
	const struct source *src;
	const struct dumpfs_progress *progress;
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
		if (s->progress && s->progress->fn)
			s->progress->fn(s->progress->arg, s->src->path, off, s->src->size);
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

enum dumpfs_status flat_source_open(struct source *src, const struct dumpfs_progress *progress,
				    char *err, size_t errlen)
{
	struct scan s = { .src = src, .progress = progress };
	struct record_list l = {0};
	enum dumpfs_status st;
	uint64_t pos = FLAT_HEADER_SIZE, stored = 0, logical = 0;
	bool ended = false;

	st = flat_check_header(src, err, errlen);
	if (st != DUMPFS_OK)
		return st;
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
	fi->size = logical;
	fi->stored_bytes = stored;
	if (progress && progress->fn)
		progress->fn(progress->arg, src->path, src->size, src->size);
	return flat_install(src, fi, "full read");
fail:
	free(l.v);
	free(s.buf);
	return st;
}
