/*
 * kdump.c - the kdump-compressed format ("KDUMP   ", and the older
 * "DISKDUMP"), as makedumpfile and QEMU write it, single or split.
 *
 *   block 0              main header (disk_dump_header)
 *   block 1..            sub-header (kdump_sub_header), sub_hdr_size blocks;
 *                        QEMU also puts the notes in here
 *   then                 1st bitmap (RAM pages), 2nd bitmap (dumped pages),
 *                        bitmap_blocks blocks for both
 *   then                 one 24-byte page_desc per set bit of the 2nd bitmap
 *   then                 page data, each page compressed on its own
 *
 * The header has three ABIs (64-bit, i386's packed 32-bit, and 32-bit with
 * 8-byte alignment), chosen here from the header's own consistency and
 * utsname.machine, as libkdumpfile does.  A split set (makedumpfile --split)
 * is several files with one main header, each holding the pages of its own
 * [start_pfn, end_pfn) range.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "format/format.h"

#define STATUS_ZLIB       0x01
#define STATUS_LZO        0x02
#define STATUS_SNAPPY     0x04
#define STATUS_INCOMPLETE 0x08
#define STATUS_EXCL_VMEMMAP 0x10
#define STATUS_ZSTD       0x20

#define PAGE_DESC_SIZE 24
#define UTS_LEN 65
#define MAX_NOTES_SIZE (64u << 20)
#define MAX_VMCOREINFO_SIZE (1u << 20)

static const struct format_ops kdump_ops;

enum abi { ABI_64, ABI_32PACK, ABI_32PAD };

/* Offsets of the main header fields after utsname, per ABI. */
struct main_layout {
	unsigned timestamp, tv_size, status;   /* block_size etc. follow status */
	unsigned size;                         /* up to and including nr_cpus */
};
static const struct main_layout main_64 = { 408, 8, 424, 464 };
static const struct main_layout main_32 = { 404, 4, 412, 452 };

/* Sub-header fields: {offset, size}; size 0 means absent in that ABI. */
enum sub_field { SF_PHYS_BASE, SF_DUMP_LEVEL, SF_SPLIT, SF_START_PFN, SF_END_PFN,
	SF_OFF_VMCOREINFO, SF_SIZE_VMCOREINFO, SF_OFF_NOTE, SF_SIZE_NOTE,
	SF_OFF_ERASEINFO, SF_SIZE_ERASEINFO, SF_START_PFN_64, SF_END_PFN_64,
	SF_MAX_MAPNR_64, SF_COUNT };
struct field { uint8_t off, size; };
static const struct field sub_64[SF_COUNT] = {
	{0, 8}, {8, 4}, {12, 4}, {16, 8}, {24, 8}, {32, 8}, {40, 8}, {48, 8},
	{56, 8}, {64, 8}, {72, 8}, {80, 8}, {88, 8}, {96, 8} };
static const struct field sub_32pack[SF_COUNT] = {
	{0, 4}, {4, 4}, {8, 4}, {12, 4}, {16, 4}, {20, 8}, {28, 4}, {32, 8},
	{40, 4}, {44, 8}, {52, 4}, {56, 8}, {64, 8}, {72, 8} };
static const struct field sub_32pad[SF_COUNT] = {
	{0, 4}, {4, 4}, {8, 4}, {12, 4}, {16, 4}, {24, 8}, {32, 4}, {40, 8},
	{48, 4}, {56, 8}, {64, 4}, {72, 8}, {80, 8}, {88, 8} };
/* The header version that introduced each field. */
static const uint8_t sub_since[SF_COUNT] = { 0, 1, 2, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 6 };
#define SUB_MAX_SIZE 104

struct main_header {
	char signature[9];
	int32_t version;
	char uts[6][UTS_LEN + 1];      /* sysname nodename release version machine domainname */
	uint64_t tv_sec, tv_usec;
	uint32_t status;
	int32_t block_size, sub_hdr_size;
	uint32_t bitmap_blocks, max_mapnr, total_ram_blocks, device_blocks;
	uint32_t written_blocks, current_cpu;
	int32_t nr_cpus;
};

struct kdump_part {
	size_t file;                    /* index in f->files */
	uint64_t sub[SF_COUNT];
	uint64_t start_pfn, end_pfn;    /* pages this file holds */
	uint64_t bitmap_off, bitmap_len;  /* where each bitmap is, its length */
	struct bitmap dumped;           /* the 2nd bitmap: which pages are here */
	uint64_t rank_base;             /* dumped.rank(start_pfn) */
	uint64_t pd_off;                /* first page descriptor */
};

struct kdump {
	struct main_header hdr;
	enum abi abi;
	uint8_t raw_header[464];        /* for comparing split parts */
	size_t raw_header_len;
	struct kdump_part *parts;       /* sorted by start_pfn */
	size_t nparts;
};

static bool is_kdump_signature(const uint8_t *sig)
{
	return !memcmp(sig, "KDUMP   ", 8) || !memcmp(sig, "DISKDUMP", 8);
}

static void decode_main(struct main_header *h, const uint8_t *b, const struct main_layout *l,
			struct endian e)
{
	memcpy(h->signature, b, 8);
	h->signature[8] = '\0';
	h->version = (int32_t)get32(e, b + 8);
	for (int i = 0; i < 6; i++) {
		memcpy(h->uts[i], b + 12 + i * UTS_LEN, UTS_LEN);
		h->uts[i][UTS_LEN] = '\0';
	}
	h->tv_sec = l->tv_size == 8 ? get64(e, b + l->timestamp) : get32(e, b + l->timestamp);
	h->tv_usec = l->tv_size == 8 ? get64(e, b + l->timestamp + 8) : get32(e, b + l->timestamp + 4);
	const uint8_t *s = b + l->status;
	h->status = get32(e, s);
	h->block_size = (int32_t)get32(e, s + 4);
	h->sub_hdr_size = (int32_t)get32(e, s + 8);
	h->bitmap_blocks = get32(e, s + 12);
	h->max_mapnr = get32(e, s + 16);
	h->total_ram_blocks = get32(e, s + 20);
	h->device_blocks = get32(e, s + 24);
	h->written_blocks = get32(e, s + 28);
	h->current_cpu = get32(e, s + 32);
	h->nr_cpus = (int32_t)get32(e, s + 36);
}

static bool plausible(const struct main_header *h)
{
	uint32_t bs = (uint32_t)h->block_size;
	return h->block_size > 0 && (bs & (bs - 1)) == 0 && bs >= MIN_PAGE_SIZE &&
	       bs <= MAX_PAGE_SIZE && h->sub_hdr_size >= 0 && h->bitmap_blocks > 0 &&
	       h->version >= 0 && h->version < 1000;
}

static bool machine_is_32bit(const char *m)
{
	return (m[0] == 'i' && m[2] == '8' && m[3] == '6' && m[4] == '\0') ||
	       !strncmp(m, "arm", 3) || !strcmp(m, "ppc") || !strcmp(m, "mips") ||
	       !strcmp(m, "s390") || !strcmp(m, "riscv32");
}

static uint16_t machine_to_elf(const char *m)
{
	static const struct { const char *name; uint16_t em; } map[] = {
		{ "x86_64", 62 }, { "i386", 3 }, { "i486", 3 }, { "i586", 3 }, { "i686", 3 },
		{ "aarch64", 183 }, { "arm64", 183 }, { "ppc64", 21 }, { "ppc64le", 21 },
		{ "ppc", 20 }, { "s390x", 22 }, { "s390", 22 }, { "riscv64", 243 },
		{ "riscv32", 243 }, { "mips", 8 }, { "mips64", 8 }, { "loongarch64", 258 },
		{ "sparc64", 43 }, { "ia64", 50 },
	};
	/* QEMU writes "S390X" */
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcasecmp(m, map[i].name))
			return map[i].em;
	if (!strncasecmp(m, "arm", 3))
		return 40;
	return 0;
}

/* Choose ABI and byte order: the candidates whose header makes sense,
 * then utsname.machine to break a tie between 64- and 32-bit. */
static enum dumpfs_status pick_layout(struct format *f, struct kdump *k,
				      const uint8_t *b)
{
	struct main_header h64[2], h32[2];
	for (int big = 0; big < 2; big++) {
		decode_main(&h64[big], b, &main_64, (struct endian){ big });
		decode_main(&h32[big], b, &main_32, (struct endian){ big });
	}
	for (int big = 0; big < 2; big++) {
		bool ok64 = plausible(&h64[big]), ok32 = plausible(&h32[big]);
		if (!ok64 && !ok32)
			continue;
		bool use32 = ok32 && (!ok64 || machine_is_32bit(h32[big].uts[4]));
		f->endian = (struct endian){ big };
		f->is_32bit = use32;
		k->hdr = use32 ? h32[big] : h64[big];
		k->abi = !use32 ? ABI_64 : strncmp(k->hdr.uts[4], "arm", 3) ? ABI_32PACK : ABI_32PAD;
		k->raw_header_len = use32 ? main_32.size : main_64.size;
		memcpy(k->raw_header, b, k->raw_header_len);
		return DUMPFS_OK;
	}
	return diag_fail(f->diag, DUMPFS_ERR_CORRUPT,
			 "%s: offset 428: kdump header has no valid block size (%d) or bitmap size in any known layout",
			 f->files[0].path, (int32_t)get_le32(b + 428));
}

static enum dumpfs_status read_sub_header(struct format *f, struct kdump *k,
					  struct kdump_part *p)
{
	const struct field *fld = k->abi == ABI_64 ? sub_64 : k->abi == ABI_32PACK ? sub_32pack : sub_32pad;
	uint8_t b[SUB_MAX_SIZE] = {0};
	uint64_t at = (uint64_t)k->hdr.block_size;
	const struct source *src = &f->files[p->file];
	size_t want = SUB_MAX_SIZE;

	if (k->hdr.sub_hdr_size == 0)
		return DUMPFS_OK;       /* very old diskdump: no sub-header */
	if (at + want > src->size)
		want = at < src->size ? (size_t)(src->size - at) : 0;
	enum dumpfs_status st = format_read_meta(f, p->file, b, want, at, "kdump sub-header");
	if (st != DUMPFS_OK)
		return st;
	for (int i = 0; i < SF_COUNT; i++) {
		if (k->hdr.version < sub_since[i] || fld[i].size == 0)
			continue;
		p->sub[i] = fld[i].size == 8 ? get64(f->endian, b + fld[i].off) : get32(f->endian, b + fld[i].off);
	}
	return DUMPFS_OK;
}

/* Check where the two bitmaps are; they are indexed separately. */
static enum dumpfs_status locate_bitmaps(struct format *f, struct kdump *k,
					 struct kdump_part *p)
{
	struct source *src = &f->files[p->file];
	uint64_t bs = (uint64_t)k->hdr.block_size;
	uint64_t off = bs * (1 + (uint64_t)k->hdr.sub_hdr_size);
	uint64_t len = (uint64_t)(k->hdr.bitmap_blocks / 2) * bs, total = 2 * len;

	if (k->hdr.bitmap_blocks % 2)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT,
				 "%s: offset %u: bitmap_blocks %u is odd (two bitmaps expected)",
				 src->path, main_64.status + 12, k->hdr.bitmap_blocks);
	/* The bitmaps must really be in the file: this is what keeps a
	 * header claiming 2^40 pages from costing memory. */
	if (off + total > src->size || total > src->stored_bytes)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT,
				 "%s: offset %llu: bitmaps (%llu bytes) run past the end of the file (%llu bytes)",
				 src->path, (unsigned long long)off, (unsigned long long)total,
				 (unsigned long long)src->size);
	p->bitmap_off = off;
	p->bitmap_len = len;
	return DUMPFS_OK;
}

/* Index a bitmap of @p with a contextual error. */
static enum dumpfs_status load_bitmap(struct format *f, struct kdump_part *p,
				      struct bitmap *bm, uint64_t off, const char *what)
{
	const struct source *src = &f->files[p->file];
	enum dumpfs_status st = bitmap_load(bm, src, off, f->max_pfn);
	if (st == DUMPFS_ERR_UNSUPPORTED)
		return diag_fail(f->diag, st, "%s: offset %llu: %s of %llu pages is larger than dumpfs indexes (%llu pages)",
				 src->path, (unsigned long long)off, what,
				 (unsigned long long)f->max_pfn, (unsigned long long)BITMAP_MAX_BITS);
	if (st != DUMPFS_OK)
		return diag_fail(f->diag, st, "%s: offset %llu: cannot index the %s: %s", src->path,
				 (unsigned long long)off, what, dumpfs_status_name(st));
	return DUMPFS_OK;
}

static enum dumpfs_status open_part(struct format *f, struct kdump *k, struct kdump_part *p)
{
	enum dumpfs_status st = read_sub_header(f, k, p);
	if (st == DUMPFS_OK)
		st = locate_bitmaps(f, k, p);
	if (st != DUMPFS_OK)
		return st;

	uint64_t nbits = p->bitmap_len * 8;
	if (f->max_pfn > nbits) {
		diag_warn(f->diag, "max_mapnr %llu is beyond the bitmaps (%llu pages); using the bitmaps",
			  (unsigned long long)f->max_pfn, (unsigned long long)nbits);
		f->max_pfn = nbits;
	}
	st = load_bitmap(f, p, &p->dumped, p->bitmap_off + p->bitmap_len, "2nd bitmap");
	if (st != DUMPFS_OK)
		return st;

	bool split = k->hdr.version >= 2 && p->sub[SF_SPLIT];
	p->start_pfn = 0;
	p->end_pfn = f->max_pfn;
	if (split) {
		p->start_pfn = k->hdr.version >= 6 ? p->sub[SF_START_PFN_64] : p->sub[SF_START_PFN];
		p->end_pfn = k->hdr.version >= 6 ? p->sub[SF_END_PFN_64] : p->sub[SF_END_PFN];
		if (p->start_pfn > p->end_pfn || p->end_pfn > f->max_pfn)
			return diag_fail(f->diag, DUMPFS_ERR_CORRUPT,
					 "%s: offset %d: split range [%#llx, %#llx) is outside max_mapnr %#llx",
					 f->files[p->file].path, k->hdr.block_size,
					 (unsigned long long)p->start_pfn, (unsigned long long)p->end_pfn,
					 (unsigned long long)f->max_pfn);
	}
	p->rank_base = bitmap_rank(&p->dumped, p->start_pfn);
	p->pd_off = (uint64_t)k->hdr.block_size *
		    (1 + (uint64_t)k->hdr.sub_hdr_size + k->hdr.bitmap_blocks);
	uint64_t ndesc = bitmap_rank(&p->dumped, p->end_pfn) - p->rank_base;
	f->dumped_pages += ndesc;
	if (p->pd_off + ndesc * PAGE_DESC_SIZE > f->files[p->file].size)
		diag_warn(f->diag, "%s: page descriptors end past the end of the file: the dump is truncated, missing pages read as I/O errors",
			  f->files[p->file].path);
	return DUMPFS_OK;
}

static int cmp_part(const void *a, const void *b)
{
	const struct kdump_part *x = a, *y = b;
	return x->start_pfn < y->start_pfn ? -1 : x->start_pfn > y->start_pfn;
}

static enum dumpfs_status read_blob(struct format *f, uint64_t off, uint64_t size,
				    uint64_t cap, const char *what, uint8_t **out)
{
	const struct source *src = &f->files[0];
	*out = NULL;
	if (size > cap || off + size > src->size || off + size < off) {
		diag_warn(f->diag, "%s: offset %llu: %s (%llu bytes) is too large or past the end of the file; ignored",
			  src->path, (unsigned long long)off, what, (unsigned long long)size);
		return DUMPFS_OK;
	}
	*out = malloc(size + 1);
	if (!*out)
		return DUMPFS_ERR_NOMEM;
	enum dumpfs_status st = source_read(src, *out, (size_t)size, off);
	if (st != DUMPFS_OK) {
		free(*out);
		*out = NULL;
		diag_warn(f->diag, "%s: offset %llu: cannot read %s; ignored", src->path,
			  (unsigned long long)off, what);
	}
	return DUMPFS_OK;
}

static enum dumpfs_status load_notes(struct format *f, struct kdump *k)
{
	const uint64_t *s = k->parts[0].sub;
	uint8_t *blob = NULL;
	char warn[ERRMSG_MAX] = "";
	enum dumpfs_status st;

	for (size_t i = 0; i < k->nparts; i++)
		if (k->parts[i].file == 0)
			s = k->parts[i].sub;
	if (k->hdr.version >= 4 && s[SF_SIZE_NOTE]) {
		st = read_blob(f, s[SF_OFF_NOTE], s[SF_SIZE_NOTE], MAX_NOTES_SIZE, "notes", &blob);
		if (st != DUMPFS_OK)
			return st;
	}
	st = notes_parse(&f->notes, blob, blob ? s[SF_SIZE_NOTE] : 0, f->endian, warn, sizeof(warn));
	if (st != DUMPFS_OK)
		return st;
	if (warn[0])
		diag_warn(f->diag, "%s: %s", f->files[0].path, warn);
	if (!f->notes.vmcoreinfo && k->hdr.version >= 3 && s[SF_SIZE_VMCOREINFO]) {
		st = read_blob(f, s[SF_OFF_VMCOREINFO], s[SF_SIZE_VMCOREINFO], MAX_VMCOREINFO_SIZE,
			       "VMCOREINFO", &blob);
		if (st == DUMPFS_OK && blob)
			st = notes_append(&f->notes, f->endian, "VMCOREINFO", 0, blob,
					  (size_t)s[SF_SIZE_VMCOREINFO]);
		free(blob);
		if (st != DUMPFS_OK)
			return st;
	}
	if (!f->notes.eraseinfo && k->hdr.version >= 5 && s[SF_SIZE_ERASEINFO]) {
		st = read_blob(f, s[SF_OFF_ERASEINFO], s[SF_SIZE_ERASEINFO], MAX_NOTES_SIZE,
			       "eraseinfo", &blob);
		if (st == DUMPFS_OK && blob)
			st = notes_append(&f->notes, f->endian, "ERASEINFO", 0, blob,
					  (size_t)s[SF_SIZE_ERASEINFO]);
		free(blob);
	}
	return st;
}

/*
 * A machine has tens of RAM ranges; a 1st bitmap of alternating bits has
 * one per two pages, and each costs a run, a PT_LOAD header and an ELF view
 * chunk (about 100 bytes): 200 times the bitmap's size.  Past this many,
 * the rest is one run up to the last RAM page (its non-RAM pages read as
 * zeros in /vmcore.elf, as they do in /mem), which keeps the cost bounded.
 */
#define MAX_RAM_RUNS (1u << 16)

static enum dumpfs_status scan_ram_runs(struct format *f, const struct bitmap *ram)
{
	uint64_t merged_from = UINT64_MAX, merged_end = 0;

	for (uint64_t pfn = bitmap_find(ram, 0, true); pfn < f->max_pfn;) {
		uint64_t end = bitmap_find(ram, pfn, false);
		f->ram_pages += end - pfn;
		if (merged_from == UINT64_MAX && f->nram + 1 >= MAX_RAM_RUNS)
			merged_from = pfn;
		if (merged_from != UINT64_MAX) {
			merged_end = end;
		} else {
			enum dumpfs_status st = format_add_ram(f, pfn, end - pfn);
			if (st != DUMPFS_OK)
				return st;
		}
		pfn = bitmap_find(ram, end, true);
	}
	if (merged_from == UINT64_MAX)
		return DUMPFS_OK;
	diag_warn(f->diag, "%s: the 1st bitmap has more than %u RAM runs; from pfn %#llx on they are shown as one",
		  f->files[0].path, MAX_RAM_RUNS - 1, (unsigned long long)merged_from);
	return format_add_ram(f, merged_from, merged_end - merged_from);
}

/* RAM runs from the 1st bitmap, which is needed only here. */
static enum dumpfs_status scan_ram(struct format *f, struct kdump_part *p)
{
	struct bitmap ram;
	enum dumpfs_status st = load_bitmap(f, p, &ram, p->bitmap_off, "1st bitmap");
	if (st != DUMPFS_OK)
		return st;
	st = scan_ram_runs(f, &ram);
	bitmap_free(&ram);
	return st;
}

enum dumpfs_status kdump_probe(struct format *f, bool *matched)
{
	uint8_t b[464] = {0};
	struct kdump *k;
	enum dumpfs_status st;

	*matched = false;
	if (f->files[0].size < 8 || source_read(&f->files[0], b, 8, 0) != DUMPFS_OK ||
	    !is_kdump_signature(b))
		return DUMPFS_OK;
	*matched = true;
	if (f->files[0].size < sizeof(b))
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %llu: kdump header truncated (%zu bytes expected)",
				 f->files[0].path, (unsigned long long)f->files[0].size, sizeof(b));
	st = format_read_meta(f, 0, b, sizeof(b), 0, "kdump header");
	if (st != DUMPFS_OK)
		return st;
	k = calloc(1, sizeof(*k));
	if (!k)
		return DUMPFS_ERR_NOMEM;
	f->priv = k;
	f->ops = &kdump_ops;
	f->name = b[0] == 'K' ? "kdump-compressed" : "diskdump";
	st = pick_layout(f, k, b);
	if (st != DUMPFS_OK)
		return st;
	st = format_set_page_size(f, (uint64_t)k->hdr.block_size, main_64.status + 4, "block_size");
	if (st != DUMPFS_OK)
		return st;
	f->elf_machine = machine_to_elf(k->hdr.uts[4]);
	f->machine_origin = "utsname.machine";
	f->incomplete = k->hdr.status & STATUS_INCOMPLETE;
	f->max_pfn = k->hdr.max_mapnr;

	k->parts = calloc(f->nfiles, sizeof(*k->parts));
	if (!k->parts)
		return DUMPFS_ERR_NOMEM;
	k->nparts = f->nfiles;
	for (size_t i = 0; i < f->nfiles; i++) {
		uint8_t other[464];
		k->parts[i].file = i;
		if (i > 0) {
			if (f->files[i].size < k->raw_header_len ||
			    source_read(&f->files[i], other, k->raw_header_len, 0) != DUMPFS_OK ||
			    memcmp(other, k->raw_header, k->raw_header_len))
				return diag_fail(f->diag, DUMPFS_ERR_INVALID,
						 "%s: offset 0: main header differs from %s's: not parts of one split dump",
						 f->files[i].path, f->files[0].path);
		}
	}
	/* Version 6 keeps the full max_mapnr in the sub-header. */
	st = read_sub_header(f, k, &k->parts[0]);
	if (st != DUMPFS_OK)
		return st;
	if (k->hdr.version >= 6 && k->parts[0].sub[SF_MAX_MAPNR_64])
		f->max_pfn = k->parts[0].sub[SF_MAX_MAPNR_64];
	for (size_t i = 0; i < k->nparts; i++) {
		st = open_part(f, k, &k->parts[i]);
		if (st != DUMPFS_OK)
			return st;
	}
	qsort(k->parts, k->nparts, sizeof(*k->parts), cmp_part);
	for (size_t i = 1; i < k->nparts; i++)
		if (k->parts[i].start_pfn < k->parts[i - 1].end_pfn)
			return diag_fail(f->diag, DUMPFS_ERR_INVALID,
					 "%s: offset %d: split range starts at pfn %#llx, inside %s's range",
					 f->files[k->parts[i].file].path, k->hdr.block_size,
					 (unsigned long long)k->parts[i].start_pfn,
					 f->files[k->parts[i - 1].file].path);
	/* A missing part would read as holes: wrong bytes without an error. */
	for (size_t i = 0; i <= k->nparts; i++) {
		uint64_t from = i ? k->parts[i - 1].end_pfn : 0;
		uint64_t to = i < k->nparts ? k->parts[i].start_pfn : f->max_pfn;
		if (from < to)
			return diag_fail(f->diag, DUMPFS_ERR_INVALID,
					 "%s: offset %d: split set incomplete: pfns [%#llx, %#llx) are in a part not given",
					 f->files[k->parts[i ? i - 1 : 0].file].path, k->hdr.block_size,
					 (unsigned long long)from, (unsigned long long)to);
	}
	st = scan_ram(f, &k->parts[0]);
	if (st != DUMPFS_OK)
		return st;
	st = load_notes(f, k);
	if (st != DUMPFS_OK)
		return st;
	if (k->parts[0].sub[SF_PHYS_BASE] || k->hdr.sub_hdr_size) {
		f->has_phys_base = true;
		f->phys_base = k->parts[0].sub[SF_PHYS_BASE];
		f->phys_base_origin = "kdump sub-header";
	}
	/* QEMU fills in only utsname.machine; makedumpfile copies the kernel's. */
	if (!k->hdr.uts[0][0] && !k->hdr.uts[2][0])
		f->producer = "QEMU dump-guest-memory";
	else if (f->notes.nqemu)
		f->producer = "makedumpfile, from a QEMU dump-guest-memory ELF";
	else
		f->producer = "makedumpfile (or a compatible writer)";
	return DUMPFS_OK;
}

static const struct kdump_part *part_of(const struct kdump *k, uint64_t pfn)
{
	size_t lo = 0, hi = k->nparts;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->parts[mid].end_pfn <= pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < k->nparts && k->parts[lo].start_pfn <= pfn)
		return &k->parts[lo];
	return NULL;
}

static enum codec codec_of(uint32_t flags)
{
	if (flags & STATUS_ZLIB) return CODEC_ZLIB;
	if (flags & STATUS_LZO) return CODEC_LZO;
	if (flags & STATUS_SNAPPY) return CODEC_SNAPPY;
	if (flags & STATUS_ZSTD) return CODEC_ZSTD;
	return CODEC_NONE;
}

struct page_desc {
	uint64_t off;
	uint32_t size, flags;
};

static struct page_desc decode_desc(const struct format *f, const uint8_t *raw)
{
	return (struct page_desc){ get64(f->endian, raw), get32(f->endian, raw + 8),
				   get32(f->endian, raw + 12) };
}

/*
 * Turn one page's descriptor and stored bytes into the page.  @data holds
 * the stored bytes when the caller already read them (a batch), NULL to
 * read them here.  @at is where the descriptor lies, for messages.
 */
static enum dumpfs_status decode_page(struct format *f, const struct kdump_part *p,
				      uint64_t pfn, uint64_t at, const struct page_desc *pd,
				      const uint8_t *data, void *buf)
{
	const struct source *src = &f->files[p->file];
	enum codec codec = codec_of(pd->flags);

	if (pd->off == 0)
		return diag_log(f->diag, DUMPFS_ERR_CORRUPT,
				"%s: offset %llu: pfn %#llx was lost (descriptor offset 0, incomplete dump)",
				src->path, (unsigned long long)at, (unsigned long long)pfn);
	if (pd->size == 0 || pd->size > f->page_size || (codec == CODEC_NONE && pd->size != f->page_size))
		return diag_log(f->diag, DUMPFS_ERR_CORRUPT,
				"%s: offset %llu: descriptor of pfn %#llx has bad size %u (page size %u, flags %#x)",
				src->path, (unsigned long long)at, (unsigned long long)pfn, pd->size,
				f->page_size, pd->flags);
	/* Checked before the cache, whose keys have 56 bits of offset: data
	 * past the end could otherwise alias a cached page of another file. */
	if (pd->off > src->size || pd->size > src->size - pd->off)
		return diag_log(f->diag, DUMPFS_ERR_CORRUPT,
				"%s: offset %llu: data of pfn %#llx (%u bytes at %llu) is past the end of the file",
				src->path, (unsigned long long)at, (unsigned long long)pfn, pd->size,
				(unsigned long long)pd->off);
	const bool staged = data != NULL;
	const uint64_t key = (uint64_t)p->file << 56 | pd->off;
	const uint32_t tag = pd->size | (uint32_t)codec << 24;      /* size <= MAX_PAGE_SIZE < 2^24 */
	if (codec != CODEC_NONE && cache_get(f->cache, key, tag, buf))
		return DUMPFS_OK;
	if (!data) {
		uint8_t *stored = codec == CODEC_NONE ? buf : thread_scratch(0);
		if (!stored)
			return DUMPFS_ERR_NOMEM;
		enum dumpfs_status rs = source_read(src, stored, pd->size, pd->off);
		char why[ERRMSG_MAX / 2];
		if (rs != DUMPFS_OK)
			return diag_log(f->diag, rs, "%s: offset %llu: data of pfn %#llx %s", src->path,
					(unsigned long long)pd->off, (unsigned long long)pfn,
					format_read_fault(src, rs, why, sizeof(why)));
		data = stored;
	}
	if (codec == CODEC_NONE) {
		if (data != buf)
			memcpy(buf, data, f->page_size);
		return DUMPFS_OK;
	}
	enum dumpfs_status st = codec_decompress(codec, data, pd->size, buf, f->page_size);
	if (st != DUMPFS_OK)
		return diag_log(f->diag, st, "%s: offset %llu: %s data of pfn %#llx (%u bytes) does not decompress to one page",
				src->path, (unsigned long long)pd->off, codec_name(codec),
				(unsigned long long)pfn, pd->size);
	/* A page that came in a run of back-to-back data is part of a
	 * sequential read, which the kernel's page cache keeps: caching it
	 * here too doubled the memory traffic (docs/performance.md).  Pages
	 * read alone (crash's and gdb's single reads, compressed pages that
	 * several descriptors share) are the ones read again. */
	if (!staged)
		cache_put(f->cache, key, tag, buf);
	return DUMPFS_OK;
}

static uint64_t desc_pos(const struct kdump_part *p, uint64_t pfn)
{
	return p->pd_off + (bitmap_rank(&p->dumped, pfn) - p->rank_base) * PAGE_DESC_SIZE;
}

static enum dumpfs_status kdump_read_page(struct format *f, uint64_t pfn, void *buf)
{
	const struct kdump *k = f->priv;
	const struct kdump_part *p = part_of(k, pfn);
	uint8_t raw[PAGE_DESC_SIZE];

	if (!p || !bitmap_test(&p->dumped, pfn))
		return DUMPFS_ERR_NODATA;
	const struct source *src = &f->files[p->file];
	uint64_t at = desc_pos(p, pfn);
	enum dumpfs_status rs = source_read(src, raw, sizeof(raw), at);
	char why[ERRMSG_MAX / 2];
	if (rs == DUMPFS_ERR_CORRUPT)
		return diag_log(f->diag, rs,
				"%s: offset %llu: page descriptor of pfn %#llx is past the end of the file (truncated dump)",
				src->path, (unsigned long long)at, (unsigned long long)pfn);
	if (rs != DUMPFS_OK)
		return diag_log(f->diag, rs, "%s: offset %llu: page descriptor of pfn %#llx %s", src->path,
				(unsigned long long)at, (unsigned long long)pfn,
				format_read_fault(src, rs, why, sizeof(why)));
	struct page_desc pd = decode_desc(f, raw);
	return decode_page(f, p, pfn, at, &pd, NULL, buf);
}

/* Pages per batch: descriptors and stored data of this many pages are
 * read with one pread each where they are contiguous in the file. */
#define BATCH_PAGES 256

/*
 * Read the stored bytes of descriptors [i, j) of a batch, which lie back to
 * back in the file, with one read; false if that fails (each page then
 * reads on its own and reports its own error).
 */
static bool read_stored_run(const struct source *src, const struct page_desc *pd, size_t i,
			    size_t j, uint8_t *stage)
{
	uint64_t len = pd[j - 1].off + pd[j - 1].size - pd[i].off;
	return source_read(src, stage, (size_t)len, pd[i].off) == DUMPFS_OK;
}

/* Pages [pfn, pfn + n) that all lie in part @p, n <= BATCH_PAGES. */
static void read_batch(struct format *f, const struct kdump_part *p, uint64_t pfn,
		       size_t n, uint8_t *buf, enum dumpfs_status *st)
{
	const struct source *src = &f->files[p->file];
	const size_t ps = f->page_size;
	uint8_t raw[BATCH_PAGES * PAGE_DESC_SIZE];
	struct page_desc pd[BATCH_PAGES];
	size_t slot[BATCH_PAGES], nd = 0;       /* slot: index of dumped page i in the batch */
	uint64_t at = desc_pos(p, pfn);

	for (size_t i = 0; i < n; i++) {
		st[i] = DUMPFS_ERR_NODATA;
		if (bitmap_test(&p->dumped, pfn + i))
			slot[nd++] = i;
	}
	if (!nd)
		return;
	if (source_read(src, raw, nd * PAGE_DESC_SIZE, at) != DUMPFS_OK) {
		for (size_t k = 0; k < nd; k++)
			st[slot[k]] = kdump_read_page(f, pfn + slot[k], buf + slot[k] * ps);
		return;
	}
	for (size_t k = 0; k < nd; k++)
		pd[k] = decode_desc(f, raw + k * PAGE_DESC_SIZE);

	uint8_t *stage = thread_buffer(BATCH_PAGES * ps);
	for (size_t i = 0, j; i < nd; i = j) {
		/* Extend the run while the next page's bytes follow on. */
		uint64_t end = pd[i].off + pd[i].size;
		for (j = i + 1; j < nd && pd[i].off && pd[j].off == end && pd[j].size <= ps; j++)
			end += pd[j].size;
		bool staged = stage && pd[i].off && pd[i].size <= ps && j - i > 1 &&
			      read_stored_run(src, pd, i, j, stage);
		for (size_t k = i; k < j; k++) {
			const uint8_t *data = staged ? stage + (pd[k].off - pd[i].off) : NULL;
			st[slot[k]] = decode_page(f, p, pfn + slot[k], at + k * PAGE_DESC_SIZE, &pd[k],
						  data, buf + slot[k] * ps);
		}
	}
}

static void kdump_read_pages(struct format *f, uint64_t pfn, size_t n, uint8_t *buf,
			     enum dumpfs_status *st)
{
	const struct kdump *k = f->priv;
	const size_t ps = f->page_size;

	for (size_t i = 0; i < n;) {
		const struct kdump_part *p = part_of(k, pfn + i);
		size_t m = n - i < BATCH_PAGES ? n - i : BATCH_PAGES;
		if (!p) {
			st[i++] = DUMPFS_ERR_NODATA;
			continue;
		}
		if (pfn + i + m > p->end_pfn)
			m = (size_t)(p->end_pfn - (pfn + i));
		read_batch(f, p, pfn + i, m, buf + i * ps, st + i);
		i += m;
	}
}

static uint64_t kdump_find_pfn(struct format *f, uint64_t pfn, bool dumped)
{
	const struct kdump *k = f->priv;

	while (pfn < f->max_pfn) {
		const struct kdump_part *p = part_of(k, pfn);
		if (!p) {
			if (!dumped)
				return pfn;
			/* skip to the next part */
			uint64_t next = f->max_pfn;
			for (size_t i = 0; i < k->nparts; i++)
				if (k->parts[i].start_pfn > pfn && k->parts[i].start_pfn < next)
					next = k->parts[i].start_pfn;
			pfn = next;
			continue;
		}
		uint64_t f = bitmap_find(&p->dumped, pfn, dumped);
		if (f < p->end_pfn)
			return f;
		pfn = p->end_pfn;
	}
	return f->max_pfn;
}

static void describe_status(struct strbuf *sb, uint32_t status)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ STATUS_ZLIB, "ZLIB" }, { STATUS_LZO, "LZO" }, { STATUS_SNAPPY, "SNAPPY" },
		{ STATUS_INCOMPLETE, "INCOMPLETE" }, { STATUS_EXCL_VMEMMAP, "EXCLUDED_VMEMMAP" },
		{ STATUS_ZSTD, "ZSTD" },
	};
	uint32_t rest = status;
	sb_printf(sb, "status: %#x", status);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (status & names[i].bit) {
			sb_printf(sb, " %s", names[i].name);
			rest &= ~names[i].bit;
		}
	}
	if (rest)
		sb_printf(sb, " unknown(%#x)", rest);
	sb_printf(sb, "\n");
}

/*
 * One part's page table, descriptor by descriptor: where its data ends,
 * which pages cannot be read (lost, or stored past the end of the file),
 * and how many share the zero page.  makedumpfile and QEMU write one zero
 * page first in the data area and point every all-zero page's descriptor
 * at it, so descriptors that share that offset are zero pages.  Returns
 * false if part of the table itself cannot be read (those pages are
 * counted unreadable).
 */
static bool census_part(const struct format *f, const struct kdump_part *p, struct census *c)
{
	enum { CHUNK = 4096 };
	const struct source *src = &f->files[p->file];
	struct census_file *cf = &c->files[p->file];
	uint64_t n = bitmap_rank(&p->dumped, p->end_pfn) - p->rank_base;
	uint64_t table_end = p->pd_off + n * PAGE_DESC_SIZE;
	/* The zero page follows the table, whose room is that of the whole
	 * set's descriptors in each part of a split set too. */
	uint64_t zero_off = p->pd_off + bitmap_rank(&p->dumped, f->max_pfn) * PAGE_DESC_SIZE;
	uint8_t *pd = malloc(CHUNK * PAGE_DESC_SIZE);
	bool whole = pd != NULL;

	if (table_end > cf->data_end)
		cf->data_end = table_end;
	for (uint64_t i = 0; i < n; i += CHUNK) {
		size_t m = n - i < CHUNK ? (size_t)(n - i) : CHUNK;
		uint64_t at = p->pd_off + i * PAGE_DESC_SIZE;
		bool chunk = pd && source_holds(src, at, m * PAGE_DESC_SIZE) &&
			     source_read(src, pd, m * PAGE_DESC_SIZE, at) == DUMPFS_OK;
		for (size_t j = 0; j < m; j++) {
			uint8_t one[PAGE_DESC_SIZE];
			const uint8_t *raw = pd + j * PAGE_DESC_SIZE;
			/* a chunk with a gap: descriptor by descriptor, as reads go */
			if (!chunk) {
				uint64_t here = at + j * PAGE_DESC_SIZE;
				if (!source_holds(src, here, PAGE_DESC_SIZE) ||
				    source_read(src, one, PAGE_DESC_SIZE, here) != DUMPFS_OK) {
					c->unreadable_pages++;
					whole = false;
					continue;
				}
				raw = one;
			}
			struct page_desc d = decode_desc(f, raw);
			uint64_t end = d.off + d.size;
			if (d.off == 0 || end < d.off || !source_holds(src, d.off, d.size))
				c->unreadable_pages++;
			if (d.off && end >= d.off && end > cf->data_end)
				cf->data_end = end;
			c->zero_pages += d.off == zero_off;
		}
	}
	free(pd);
	return whole;
}

static void kdump_census(struct format *f, struct census *c)
{
	const struct kdump *k = f->priv;
	bool whole = true;

	for (size_t i = 0; i < k->nparts; i++)
		whole &= census_part(f, &k->parts[i], c);
	/* Without dump_level bit 1 zero pages are stored one by one, and the
	 * first data page is just pfn 0's: nothing to count. */
	if (k->hdr.version >= 1 && !(k->parts[0].sub[SF_DUMP_LEVEL] & 1))
		c->zero = ZERO_NOT_SHARED;
	else
		c->zero = whole ? ZERO_COUNTED : ZERO_UNKNOWN;
	if (c->zero != ZERO_COUNTED)
		c->zero_pages = 0;
}

static void kdump_describe(struct format *f, struct strbuf *sb)
{
	const struct kdump *k = f->priv;
	const struct main_header *h = &k->hdr;
	static const char *uts_names[6] = { "sysname", "nodename", "release", "version",
					    "machine", "domainname" };
	const uint64_t *s = k->parts[0].sub;

	sb_printf(sb, "signature: %.8s\n", h->signature);
	sb_printf(sb, "header_version: %d\n", h->version);
	sb_printf(sb, "header_layout: %s\n", k->abi == ABI_64 ? "64-bit" :
		  k->abi == ABI_32PACK ? "32-bit (packed, i386)" : "32-bit (aligned)");
	for (int i = 0; i < 6; i++)
		sb_printf(sb, "utsname.%s: %s\n", uts_names[i], h->uts[i]);
	sb_printf(sb, "timestamp: %llu.%06llu\n", (unsigned long long)h->tv_sec,
		  (unsigned long long)h->tv_usec);
	describe_status(sb, h->status);
	sb_printf(sb, "block_size: %d\nsub_hdr_size: %d\nbitmap_blocks: %u\nmax_mapnr: %u\n",
		  h->block_size, h->sub_hdr_size, h->bitmap_blocks, h->max_mapnr);
	if (h->version >= 6)
		sb_printf(sb, "max_mapnr_64: %llu\n", (unsigned long long)s[SF_MAX_MAPNR_64]);
	sb_printf(sb, "total_ram_blocks: %u\ndevice_blocks: %u\nwritten_blocks: %u\n",
		  h->total_ram_blocks, h->device_blocks, h->written_blocks);
	sb_printf(sb, "current_cpu: %u\nnr_cpus: %d\n", h->current_cpu, h->nr_cpus);
	sb_printf(sb, "sub_header.phys_base: %#llx\n", (unsigned long long)s[SF_PHYS_BASE]);
	if (h->version >= 1)
		sb_printf(sb, "dump_level: %llu\n", (unsigned long long)s[SF_DUMP_LEVEL]);
	if (h->version >= 3)
		sb_printf(sb, "offset_vmcoreinfo: %llu\nsize_vmcoreinfo: %llu\n",
			  (unsigned long long)s[SF_OFF_VMCOREINFO], (unsigned long long)s[SF_SIZE_VMCOREINFO]);
	if (h->version >= 4)
		sb_printf(sb, "offset_note: %llu\nsize_note: %llu\n",
			  (unsigned long long)s[SF_OFF_NOTE], (unsigned long long)s[SF_SIZE_NOTE]);
	if (h->version >= 5)
		sb_printf(sb, "offset_eraseinfo: %llu\nsize_eraseinfo: %llu\n",
			  (unsigned long long)s[SF_OFF_ERASEINFO], (unsigned long long)s[SF_SIZE_ERASEINFO]);
	for (size_t i = 0; i < k->nparts; i++) {
		const struct kdump_part *p = &k->parts[i];
		if (k->nparts > 1 || (h->version >= 2 && p->sub[SF_SPLIT]))
			sb_printf(sb, "split: %s pfn [%#llx, %#llx)\n", f->files[p->file].path,
				  (unsigned long long)p->start_pfn, (unsigned long long)p->end_pfn);
	}
	const struct census *c = format_census(f);
	if (c && c->zero == ZERO_NOT_SHARED)
		sb_printf(sb, "zero_pages: not shared (dump_level keeps zero pages)\n");
	else if (c && c->zero == ZERO_COUNTED)
		sb_printf(sb, "zero_pages: %llu (dumped pages sharing the zero page)\n",
			  (unsigned long long)c->zero_pages);
	else if (!c && format_remote(f))
		sb_printf(sb, "zero_pages: not counted (a dump read remotely: counting reads every page descriptor)\n");
	else
		sb_printf(sb, "zero_pages: unknown (page descriptor table truncated)\n");
}

static void kdump_close(struct format *f)
{
	struct kdump *k = f->priv;
	if (!k)
		return;
	for (size_t i = 0; i < k->nparts; i++) {
		struct kdump_part *p = &k->parts[i];
		bitmap_free(&p->dumped);
	}
	free(k->parts);
	free(k);
	f->priv = NULL;
}

static const struct format_ops kdump_ops = {
	.name = "kdump",
	.read_page = kdump_read_page,
	.read_pages = kdump_read_pages,
	.find_pfn = kdump_find_pfn,
	.census = kdump_census,
	.describe = kdump_describe,
	.close = kdump_close,
};
