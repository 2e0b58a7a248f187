/*
 * raw.c - raw memory images: physical memory as plain bytes, with no
 * header.  Acquisition tools write them, so do LiME's format=raw (the
 * System RAM ranges one after the other) and format=padded (memory from
 * address 0, zeros in the gaps), and crash reads them as its "ramdump"
 * input (`crash vmlinux ddr.bin@0x80000000`).  Nothing in such a file says
 * what it is, so no probe looks for one: the caller says where its bytes
 * belong (struct raw_layout), either
 *   - bases: byte 0 of each file at a physical address (FILE@ADDRESS), or
 *   - ranges: one file holding "START-END[:OFFSET],..." (END inclusive,
 *     as /proc/iomem prints it; OFFSET by default where the range before
 *     ends in the file).
 * What a header would have vouched for is checked instead: the ranges go
 * in address order without overlapping, stay below 2^52, lie inside the
 * file, and the file ends where they do; otherwise the open fails naming
 * the file, the offset and what was wrong.  As for LiME, the machine is
 * told by the VMCOREINFO found in memory.  The ranges are segments
 * (segments.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "format/format.h"

#define MAX_RANGES 65536
#define MAX_PHYS_END (1ull << 52)       /* no machine addresses more */
#define RAW_PAGE_SIZE 4096              /* what LiME assumes too: the
					 * image says nothing of pages */
#define QUOTE_MAX 40                    /* characters of a bad range quoted */

static const struct format_ops raw_ops;

struct raw {
	struct segments segs;           /* first: segments_op_* read it */
	size_t cap;
};

static struct segment *new_segment(struct raw *r)
{
	if (r->segs.count == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct segment *n = realloc(r->segs.list, cap * sizeof(*n));
		if (!n)
			return NULL;
		r->segs.list = n;
		r->cap = cap;
	}
	return &r->segs.list[r->segs.count++];
}

static unsigned digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (unsigned)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (unsigned)(c - 'A' + 10);
	return 16;
}

bool raw_parse_number(const char **text, uint64_t *out)
{
	const char *p = *text;
	unsigned base = 10;
	uint64_t v = 0;

	/* crash's ramdump addresses are hex after 0x; a leading 0 is not
	 * octal, which would surprise anyone pasting from /proc/iomem */
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	const char *digits = p;
	for (unsigned d; (d = digit_value(*p)) < base; p++) {
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	if (p == digits)
		return false;
	*text = p;
	*out = v;
	return true;
}

/* "START-END[:OFFSET]" at *text, up to a comma or the end; *text then
 * points past it.  @offset is left alone when the range gives none. */
static bool parse_range(const char **text, uint64_t *start, uint64_t *end, uint64_t *offset)
{
	const char *p = *text;
	if (!raw_parse_number(&p, start) || *p++ != '-' || !raw_parse_number(&p, end))
		return false;
	if (*p == ':' && (++p, !raw_parse_number(&p, offset)))
		return false;
	if (*p != ',' && *p)
		return false;
	*text = p;
	return true;
}

/* The error of range @n that starts at @at of the option's text, quoted up
 * to QUOTE_MAX characters and to the first one that is not printable: the
 * message stays one line whatever the text holds. */
static enum dumpfs_status bad_range_text(struct format *f, size_t n, const char *at)
{
	int len = 0;
	while (len < QUOTE_MAX && at[len] >= ' ' && at[len] <= '~' && at[len] != ',')
		len++;
	bool cut = at[len] && at[len] != ',';
	return diag_fail(f->diag, DUMPFS_ERR_INVALID, "%s: ranges: range %zu ('%.*s%s') is not "
			 "START-END[:OFFSET] (hex after 0x, or decimal; END inclusive)", f->files[0].path,
			 n, len, at, cut ? "..." : "");
}

/* Range @n (from 1) against the one before it (in address order, not
 * overlapping) and the file (inside it). */
static enum dumpfs_status check_range(struct format *f, const struct segments *x, size_t n)
{
	const struct segment *s = &x->list[n - 1];
	const char *path = f->files[0].path;
	uint64_t start = s->paddr, end = s->paddr + s->memsz - 1;

	if (n > 1 && start < x->list[n - 2].paddr + x->list[n - 2].memsz)
		return diag_fail(f->diag, DUMPFS_ERR_INVALID, "%s: offset %" PRIu64 ": range %zu (%#" PRIx64
				 "-%#" PRIx64 ") overlaps or precedes range %zu, which ends at %#" PRIx64
				 " (ranges go in address order)", path, s->offset, n, start, end, n - 1,
				 x->list[n - 2].paddr + x->list[n - 2].memsz - 1);
	uint64_t file_end;
	if (!add_ok(s->offset, s->memsz, &file_end) || file_end > f->files[0].size)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %" PRIu64 ": range %zu (%#" PRIx64
				 "-%#" PRIx64 ", %" PRIu64 " bytes) runs past the end of the file: the file "
				 "(%" PRIu64 " bytes) is shorter than its ranges", path, s->offset, n, start, end,
				 s->memsz, f->files[0].size);
	return DUMPFS_OK;
}

/* The ranges of @text as segments of file 0, each checked. */
static enum dumpfs_status parse_ranges(struct format *f, struct raw *r, const char *text)
{
	uint64_t offset = 0;            /* where the next range starts in the file */
	const char *p = text;

	do {
		uint64_t start, end;
		const char *at = p;
		if (r->segs.count == MAX_RANGES)
			return diag_fail(f->diag, DUMPFS_ERR_INVALID, "%s: ranges: more than %u ranges",
					 f->files[0].path, MAX_RANGES);
		if (!parse_range(&p, &start, &end, &offset))
			return bad_range_text(f, r->segs.count + 1, at);
		if (end < start || end >= MAX_PHYS_END)
			return diag_fail(f->diag, DUMPFS_ERR_INVALID, "%s: offset %" PRIu64 ": range %zu (%#"
					 PRIx64 "-%#" PRIx64 ") is not a range of physical memory (END below "
					 "START, or above 2^52)", f->files[0].path, offset, r->segs.count + 1,
					 start, end);
		struct segment *s = new_segment(r);
		if (!s)
			return DUMPFS_ERR_NOMEM;
		uint64_t size = end - start + 1;
		*s = (struct segment){ .paddr = start, .memsz = size, .filesz = size, .offset = offset };
		enum dumpfs_status st = check_range(f, &r->segs, r->segs.count);
		if (st != DUMPFS_OK)
			return st;
		offset += size;         /* checked: inside the file */
	} while (*p++ == ',');
	return DUMPFS_OK;
}

/* The file must end where its ranges do: more bytes mean the ranges are
 * not the ones the image was written with. */
static enum dumpfs_status check_file_end(struct format *f, const struct segments *x)
{
	uint64_t data_end = 0;
	for (size_t i = 0; i < x->count; i++)
		if (x->list[i].offset + x->list[i].filesz > data_end)
			data_end = x->list[i].offset + x->list[i].filesz;
	if (data_end < f->files[0].size)
		return diag_fail(f->diag, DUMPFS_ERR_INVALID, "%s: offset %" PRIu64 ": the file (%" PRIu64
				 " bytes) is longer than its ranges, which end at offset %" PRIu64,
				 f->files[0].path, data_end, f->files[0].size, data_end);
	return DUMPFS_OK;
}

static int by_paddr(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;
	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

/* Each whole file at its base, in address order, not overlapping. */
static enum dumpfs_status place_files(struct format *f, struct raw *r, const uint64_t *bases)
{
	for (size_t i = 0; i < f->nfiles; i++) {
		const struct source *src = &f->files[i];
		uint64_t last;
		if (!src->size)
			return diag_fail(f->diag, DUMPFS_ERR_INVALID, "%s: offset 0: an empty file holds no memory",
					 src->path);
		if (!add_ok(bases[i], src->size - 1, &last) || last >= MAX_PHYS_END)
			return diag_fail(f->diag, DUMPFS_ERR_INVALID, "%s: offset 0: at @%#" PRIx64 " its %" PRIu64
					 " bytes would end above 2^52, where no machine has memory", src->path,
					 bases[i], src->size);
		struct segment *s = new_segment(r);
		if (!s)
			return DUMPFS_ERR_NOMEM;
		*s = (struct segment){ .paddr = bases[i], .memsz = src->size, .filesz = src->size, .file = i };
	}
	qsort(r->segs.list, r->segs.count, sizeof(*r->segs.list), by_paddr);
	for (size_t i = 1; i < r->segs.count; i++) {
		const struct segment *a = &r->segs.list[i - 1], *b = &r->segs.list[i];
		if (b->paddr < a->paddr + a->memsz)
			return diag_fail(f->diag, DUMPFS_ERR_INVALID, "%s: offset 0: its memory %#" PRIx64 "-%#"
					 PRIx64 " overlaps that of %s (%#" PRIx64 "-%#" PRIx64 ")",
					 f->files[b->file].path, b->paddr, b->paddr + b->memsz - 1,
					 f->files[a->file].path, a->paddr, a->paddr + a->memsz - 1);
	}
	return DUMPFS_OK;
}

static enum dumpfs_status layout_segments(struct format *f, struct raw *r, const struct raw_layout *raw)
{
	const char *path = f->files[0].path;
	if (raw->bases && raw->ranges)
		return diag_fail(f->diag, DUMPFS_ERR_INVALID, "%s: a raw image is placed by FILE@ADDRESS "
				 "or by ranges, not both", path);
	if (raw->bases)
		return place_files(f, r, raw->bases);
	if (f->nfiles != 1)
		return diag_fail(f->diag, DUMPFS_ERR_INVALID, "%s: ranges describe one file, not a set of %zu",
				 path, f->nfiles);
	enum dumpfs_status st = parse_ranges(f, r, raw->ranges);
	return st == DUMPFS_OK ? check_file_end(f, &r->segs) : st;
}

enum dumpfs_status raw_open(struct format *f, const struct raw_layout *raw)
{
	struct raw *r = calloc(1, sizeof(*r));
	if (!r)
		return DUMPFS_ERR_NOMEM;
	f->priv = r;
	f->ops = &raw_ops;
	f->name = "raw";
	f->producer = raw->bases ? "raw memory image (FILE@ADDRESS)" : "raw memory image (ranges)";
	f->endian = (struct endian){ false };
	enum dumpfs_status st = format_set_page_size(f, RAW_PAGE_SIZE, 0, "page size");
	if (st == DUMPFS_OK)
		st = layout_segments(f, r, raw);
	if (st == DUMPFS_OK)
		st = segments_memory_map(f, &r->segs);
	return st;
}

static void raw_describe(struct format *f, struct strbuf *sb)
{
	const struct raw *r = f->priv;
	sb_printf(sb, "cpu_registers: none (a raw image holds memory only: the active tasks' "
		  "backtraces are unavailable in crash)\n");
	segments_describe(f, &r->segs, "raw_ranges", sb);
}

static const struct format_ops raw_ops = {
	.name = "raw",
	.read_page = segments_op_read_page,
	.read_pages = segments_op_read_pages,
	.extent = segments_op_extent,
	.find_pfn = segments_op_find_pfn,
	.census = segments_op_census,
	.describe = raw_describe,
	.close = segments_op_close,
};
