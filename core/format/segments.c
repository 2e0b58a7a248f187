/*
 * segments.c - memory stored as runs of file bytes: each segment keeps
 * [paddr, paddr + filesz) of physical memory at an offset of one of the
 * dump's files (and claims memsz bytes, the rest not dumped).  The ELF
 * reader's PT_LOADs, the LiME reader's and the raw reader's ranges; each
 * sorts them by address and makes them disjoint before these read them.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "format/format.h"

#define DESCRIBED_SEGMENTS 64           /* /header lists no more */

/* The RAM runs, max_pfn and the page counts of @x into @f. */
enum dumpfs_status segments_memory_map(struct format *f, const struct segments *x)
{
	uint64_t ps = f->page_size;
	for (size_t i = 0; i < x->count; i++) {
		const struct segment *s = &x->list[i];
		uint64_t first = s->paddr / ps, last = (s->paddr + s->memsz - 1) / ps;
		uint64_t data_end = s->paddr + s->filesz;
		if (f->nram && f->ram[f->nram - 1].start + f->ram[f->nram - 1].count > first)
			first = f->ram[f->nram - 1].start + f->ram[f->nram - 1].count;
		if (first <= last) {
			enum dumpfs_status st = format_add_ram(f, first, last - first + 1);
			if (st != DUMPFS_OK)
				return st;
		}
		if (last + 1 > f->max_pfn)
			f->max_pfn = last + 1;
		if (s->filesz)
			f->dumped_pages += (data_end - 1) / ps - s->paddr / ps + 1;
	}
	for (size_t i = 0; i < f->nram; i++)
		f->ram_pages += f->ram[i].count;
	return DUMPFS_OK;
}

/* Index of the first segment whose data (file-backed) part ends after @addr. */
static size_t first_data_after(const struct segments *x, uint64_t addr)
{
	size_t lo = 0, hi = x->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->list[mid].paddr + x->list[mid].memsz <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

enum dumpfs_status segments_read_page(struct format *f, const struct segments *x, uint64_t pfn, void *buf)
{
		uint64_t ps = f->page_size, start = pfn * ps, end = start + ps;
	uint8_t *out = buf;
	bool any = false;

	for (size_t i = first_data_after(x, start); i < x->count && x->list[i].paddr < end; i++) {
		const struct segment *s = &x->list[i];
		uint64_t a = s->paddr > start ? s->paddr : start;
		uint64_t data_end = s->paddr + s->filesz;
		uint64_t b = data_end < end ? data_end : end;
		if (a >= b)
			continue;
		if (!any)
			memset(out, 0, ps);     /* bytes no segment holds */
		any = true;
		enum dumpfs_status rs = source_read(&f->files[s->file], out + (a - start), (size_t)(b - a),
						    s->offset + (a - s->paddr));
		char why[ERRMSG_MAX / 2];
		if (rs != DUMPFS_OK)
			return diag_log(f->diag, rs, "%s: offset %llu: data of physical address %#llx %s",
					f->files[s->file].path, (unsigned long long)(s->offset + (a - s->paddr)),
					(unsigned long long)a,
					format_read_fault(&f->files[s->file], rs, why, sizeof(why)));
	}
	return any ? DUMPFS_OK : DUMPFS_ERR_NODATA;
}

/* Pages a segment's data holds whole, from page @pfn on, at most @n: read
 * with one pread where read_page would issue one per page. */
static size_t whole_pages_at(const struct format *f, const struct segments *x, uint64_t pfn, size_t n,
			     const struct segment **seg)
{
	uint64_t ps = f->page_size, start = pfn * ps;
	size_t i = first_data_after(x, start);
	if (i == x->count || x->list[i].paddr > start)
		return 0;
	const struct segment *s = &x->list[i];
	uint64_t data_end = s->paddr + s->filesz;
	uint64_t whole = data_end > start ? (data_end - start) / ps : 0;
	*seg = s;
	return whole < n ? (size_t)whole : n;
}

void segments_read_pages(struct format *f, const struct segments *x, uint64_t pfn, size_t n, uint8_t *buf,
			 enum dumpfs_status *st)
{
	uint64_t ps = f->page_size;
	size_t i = 0, per_page_until = 0;
	while (i < n) {
		const struct segment *s = NULL;
		size_t whole = i >= per_page_until ? whole_pages_at(f, x, pfn + i, n - i, &s) : 0;
		if (whole > 1) {
			uint64_t start = (pfn + i) * ps;
			if (source_read(&f->files[s->file], buf + i * ps, whole * ps,
					s->offset + (start - s->paddr)) == DUMPFS_OK) {
				for (size_t k = 0; k < whole; k++)
					st[i + k] = DUMPFS_OK;
				i += whole;
				continue;
			}
			per_page_until = i + whole;     /* which of them fail: page by page */
		}
		st[i] = segments_read_page(f, x, pfn + i, buf + i * ps);
		i++;
	}
}

bool segments_extent(struct format *f, const struct segments *x, uint64_t paddr, size_t len,
		     struct dumpfs_extent *e)
{
		size_t i = first_data_after(x, paddr);
	if (i == x->count || x->list[i].paddr > paddr)
		return false;
	const struct segment *s = &x->list[i];
	uint64_t in = paddr - s->paddr;
	if (in >= s->filesz)
		return false;
	uint64_t n = s->filesz - in;
	return source_extent(&f->files[s->file], s->offset + in, n < len ? (size_t)n : len, e);
}

uint64_t segments_find_pfn(struct format *f, const struct segments *x, uint64_t pfn, bool dumped)
{
		uint64_t ps = f->page_size;

	while (pfn < f->max_pfn) {
		size_t i = first_data_after(x, pfn * ps);
		/* Skip segments whose data ends before the page, and those with
		 * no data at all (p_filesz 0: all of it excluded): SEEK_DATA must
		 * not stop where a read finds nothing, or SEEK_HOLE answers the
		 * same offset and a sparse copy loops there. */
		while (i < x->count && (x->list[i].filesz == 0 ||
					x->list[i].paddr + x->list[i].filesz <= pfn * ps))
			i++;
		if (i == x->count)
			return dumped ? f->max_pfn : pfn;
		const struct segment *s = &x->list[i];
		uint64_t first = (s->paddr > pfn * ps ? s->paddr : pfn * ps) / ps;
		if (dumped)
			return first;
		if (first > pfn)
			return pfn;
		pfn = (s->paddr + s->filesz + ps - 1) / ps;
	}
	return f->max_pfn;
}

/* Pages of @s that a byte of the file's gaps falls in, walked gap by gap
 * so that a segment claiming more than the file holds costs nothing. */
static uint64_t unreadable_in_segment(const struct source *src, const struct segment *s,
				      uint64_t ps)
{
	uint64_t n = 0, counted = UINT64_MAX;   /* the last page counted */
	uint64_t end = s->offset + s->filesz, run_end;

	for (uint64_t off = s->offset; off < end; off = run_end) {
		bool readable = source_run(src, off, &run_end);
		if (run_end > end)
			run_end = end;
		if (readable)
			continue;
		uint64_t first = (s->paddr + (off - s->offset)) / ps;
		uint64_t last = (s->paddr + (run_end - s->offset) - 1) / ps;
		if (first == counted)
			first++;
		if (first <= last)
			n += last - first + 1;
		counted = last;
	}
	return n;
}

/* Where the data should end, and the pages a short file cannot give:
 * those with a byte of segment data it does not hold. */
void segments_census(struct format *f, const struct segments *x, struct census *c)
{
	c->zero = ZERO_NOT_SHARED;
	for (size_t i = 0; i < x->count; i++) {
		const struct segment *s = &x->list[i];
		uint64_t end;
		if (!s->filesz || !add_ok(s->offset, s->filesz, &end))
			continue;
		if (end > c->files[s->file].data_end)
			c->files[s->file].data_end = end;
		c->unreadable_pages += unreadable_in_segment(&f->files[s->file], s, f->page_size);
	}
}


/* The readers whose private state begins with their segments. */
static const struct segments *own_segments(const struct format *f)
{
	return f->priv;
}

enum dumpfs_status segments_op_read_page(struct format *f, uint64_t pfn, void *buf)
{
	return segments_read_page(f, own_segments(f), pfn, buf);
}

void segments_op_read_pages(struct format *f, uint64_t pfn, size_t n, uint8_t *buf, enum dumpfs_status *st)
{
	segments_read_pages(f, own_segments(f), pfn, n, buf, st);
}

bool segments_op_extent(struct format *f, uint64_t paddr, size_t len, struct dumpfs_extent *e)
{
	return segments_extent(f, own_segments(f), paddr, len, e);
}

uint64_t segments_op_find_pfn(struct format *f, uint64_t pfn, bool dumped)
{
	return segments_find_pfn(f, own_segments(f), pfn, dumped);
}

void segments_op_census(struct format *f, struct census *c)
{
	segments_census(f, own_segments(f), c);
}

void segments_op_close(struct format *f)
{
	struct segments *x = f->priv;
	if (!x)
		return;
	free(x->list);
	free(x);
	f->priv = NULL;
}

void segments_describe(const struct format *f, const struct segments *x, const char *key,
		       struct strbuf *sb)
{
	sb_printf(sb, "%s: %zu\n", key, x->count);
	for (size_t i = 0; i < x->count && i < DESCRIBED_SEGMENTS; i++) {
		const struct segment *s = &x->list[i];
		sb_printf(sb, "  %#" PRIx64 "-%#" PRIx64 " at offset %" PRIu64, s->paddr,
			  s->paddr + s->memsz - 1, s->offset);
		/* which file, where there are several (raw images at addresses) */
		if (f->nfiles > 1)
			sb_printf(sb, " of %s", f->files[s->file].path);
		sb_printf(sb, "\n");
	}
}
