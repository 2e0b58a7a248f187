/*
 * lime.c - LiME memory images (format=lime), as the LiME kernel module
 * writes them: for each range of System RAM a 32-byte header (magic
 * "EMiL" as a little-endian u32 0x4C694D45, version 1, the first and the
 * last physical address, inclusive, 8 reserved bytes), then the range's
 * bytes.  No notes, no page size, no machine: the layers above find
 * VMCOREINFO in memory and tell the machine from it.
 *
 * The headers are walked once at open: at most MAX_RANGES, each inside
 * the file and above the one before (LiME writes them in address order;
 * an overlap or a range the file does not hold is an error naming its
 * offset).  The ranges are segments (segments.c) that reads share with
 * the ELF reader.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdlib.h>

#include "format/format.h"

#define LIME_MAGIC 0x4C694D45u
#define LIME_HEADER 32
#define MAX_RANGES 65536
#define MAX_PHYS_END (1ull << 52)       /* no machine addresses more */

static const struct format_ops lime_ops;

struct lime {
	struct segments segs;           /* first: segments_op_* read it */
};

/* The header at @off into @s; false, with the error in @f->diag, if it is
 * not one this reader takes. */
static enum dumpfs_status read_range(struct format *f, uint64_t off, uint64_t prev_end, struct segment *s)
{
	const struct source *src = &f->files[0];
	const struct endian le = { false };
	uint8_t h[LIME_HEADER];
	enum dumpfs_status st = format_read_meta(f, 0, h, sizeof(h), off, "LiME range header");
	if (st != DUMPFS_OK)
		return st;
	uint32_t magic = get32(le, h), version = get32(le, h + 4);
	uint64_t first = get64(le, h + 8), last = get64(le, h + 16);
	if (magic != LIME_MAGIC)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %" PRIu64 ": not a LiME range header "
				 "(magic %#x)", src->path, off, magic);
	if (version != 1)
		return diag_fail(f->diag, DUMPFS_ERR_UNSUPPORTED, "%s: offset %" PRIu64 ": LiME version %u "
				 "(this reader knows version 1)", src->path, off, version);
	if (last < first || last >= MAX_PHYS_END)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %" PRIu64 ": LiME range %#" PRIx64
				 "-%#" PRIx64 " is not a range of physical memory", src->path, off, first, last);
	if (first < prev_end)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %" PRIu64 ": LiME range %#" PRIx64
				 "-%#" PRIx64 " overlaps or precedes the range before it (which ends at %#" PRIx64 ")",
				 src->path, off, first, last, prev_end);
	uint64_t len = last - first + 1;
	if (len > src->size - off - LIME_HEADER)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %" PRIu64 ": LiME range %#" PRIx64
				 "-%#" PRIx64 " has %" PRIu64 " bytes, the file %" PRIu64 " after its header",
				 src->path, off, first, last, len, src->size - off - LIME_HEADER);
	*s = (struct segment){ .paddr = first, .memsz = len, .filesz = len, .offset = off + LIME_HEADER };
	return DUMPFS_OK;
}

static enum dumpfs_status read_ranges(struct format *f, struct lime *l)
{
	const struct source *src = &f->files[0];
	size_t cap = 0;
	uint64_t off = 0, prev_end = 0;
	while (off < src->size) {
		if (src->size - off < LIME_HEADER)
			return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %" PRIu64 ": %" PRIu64
					 " bytes after the last LiME range, less than a header", src->path, off,
					 src->size - off);
		if (l->segs.count == MAX_RANGES)
			return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %" PRIu64 ": more than %u LiME "
					 "ranges", src->path, off, MAX_RANGES);
		if (l->segs.count == cap) {
			cap = cap ? cap * 2 : 16;
			struct segment *n = realloc(l->segs.list, cap * sizeof(*n));
			if (!n)
				return DUMPFS_ERR_NOMEM;
			l->segs.list = n;
		}
		struct segment *s = &l->segs.list[l->segs.count];
		enum dumpfs_status st = read_range(f, off, prev_end, s);
		if (st != DUMPFS_OK)
			return st;
		l->segs.count++;
		prev_end = s->paddr + s->memsz;
		off = s->offset + s->filesz;
	}
	if (!l->segs.count)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset 0: a LiME file without ranges", src->path);
	return DUMPFS_OK;
}

enum dumpfs_status lime_probe(struct format *f, bool *matched)
{
	uint8_t magic[4];
	const struct source *src = &f->files[0];
	*matched = false;
	if (src->size < LIME_HEADER || source_read(src, magic, 4, 0) != DUMPFS_OK ||
	    get32((struct endian){ false }, magic) != LIME_MAGIC)
		return DUMPFS_OK;
	*matched = true;
	if (f->nfiles != 1)
		return diag_fail(f->diag, DUMPFS_ERR_UNSUPPORTED, "%s: a LiME image is one file, not a set",
				 src->path);
	struct lime *l = calloc(1, sizeof(*l));
	if (!l)
		return DUMPFS_ERR_NOMEM;
	f->priv = l;
	f->ops = &lime_ops;
	f->name = "LiME";
	f->producer = "LiME (format=lime)";
	f->endian = (struct endian){ false };
	enum dumpfs_status st = format_set_page_size(f, 4096, 0, "page size");
	if (st == DUMPFS_OK)
		st = read_ranges(f, l);
	if (st == DUMPFS_OK)
		st = segments_memory_map(f, &l->segs);
	return st;
}

static void lime_describe(struct format *f, struct strbuf *sb)
{
	const struct lime *l = f->priv;
	sb_printf(sb, "cpu_registers: none (LiME captures memory only: the active tasks' "
		  "backtraces are unavailable in crash, as with dump-guest-memory.py)\n");
	segments_describe(f, &l->segs, "lime_ranges", sb);
}

static const struct format_ops lime_ops = {
	.name = "lime",
	.read_page = segments_op_read_page,
	.read_pages = segments_op_read_pages,
	.extent = segments_op_extent,
	.find_pfn = segments_op_find_pfn,
	.census = segments_op_census,
	.describe = lime_describe,
	.close = segments_op_close,
};
