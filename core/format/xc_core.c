/*
 * xc_core.c - Xen domain dumps as `xl dump-core` writes them (libxenguest's
 * xc_core format, version 1): an ELF64 ET_CORE file with no program headers
 * whose sections describe one domain:
 *
 *   .note.Xen         "Xen" notes: none, header (magic, vCPUs, pages, page
 *                     size), the hypervisor's version, the format version
 *   .xen_prstatus     one struct vcpu_guest_context per vCPU (xen_vcpu.c)
 *   .xen_shared_info  the domain's shared_info page (absent if unmapped)
 *   .xen_pages        the pages, page-aligned, in the order of the table
 *   .xen_p2m          PV domains: {pfn, gmfn} per page (gmfn: the machine
 *                     frame the page had; the guest's page tables hold those)
 *   .xen_pfn          auto-translated (HVM, PVH) domains: the pfn per page
 *
 * /mem is the domain's pseudo-physical memory: page i of .xen_pages is pfn
 * table[i].  Entries of ~0 are libxenguest's padding (the domain gave back
 * memory while it was dumped; their pages are zero) and are skipped.  The
 * table is not promised to be sorted, so it becomes segments (segments.c),
 * sorted, runs of consecutive pfns at consecutive pages merged; an entry
 * naming a pfn past MAX_PFN, or a pfn an earlier entry named, is dropped
 * with a warning (the first entry wins: a reader that met the pages in
 * file order would have kept it).  The table lies after the pages, so a
 * file cut short has lost it: that is an error, as no page can be placed.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "format/format.h"
#include "format/xen.h"

#define ET_CORE 4
#define SHT_NOTE 7
#define SHDR_SIZE 64
#define MAX_SECTIONS 64                 /* libxenguest writes 7 */
#define MAX_SHSTRTAB (64u << 10)
#define MAX_NOTES (64u << 10)
#define MAX_VCPUS 8192                  /* HVM_MAX_VCPUS is 128; Xen's own limit 16384 */
#define MAX_PFN (UINT64_C(1) << 40)     /* 52-bit guest-physical addresses */
#define INVALID_PFN UINT64_MAX
#define TABLE_CHUNK 4096                /* table entries read at a time */

static const struct format_ops xc_ops, xc_pv_ops;

struct section {
	uint64_t offset, size;
	bool present;
};

enum { SEC_NOTE, SEC_PRSTATUS, SEC_SHARED_INFO, SEC_P2M, SEC_PFN, SEC_PAGES, NSEC };
static const char *const section_names[NSEC] = {
	".note.Xen", ".xen_prstatus", ".xen_shared_info", ".xen_p2m", ".xen_pfn", ".xen_pages",
};

struct xc_core {
	struct segments segs;           /* first: segments_op_* read it */
	struct section sec[NSEC];
	/* .note.Xen describes the file, not the domain's kernel: its notes
	 * are decoded for /header and kept out of f->notes, so /vmcore.elf
	 * does not carry them (crash takes "Xen" notes for a Xen host's). */
	struct note_set xen_notes;
	struct xen_dump_info info;      /* from .note.Xen */
	bool auto_translated;           /* .xen_pfn: HVM or PVH */
	uint64_t entries;               /* of the table */
	uint64_t padding, out_of_range, duplicates;
	uint64_t first_bad_at;          /* file offset of the first dropped entry */
	struct xen_vcpus vcpus;
	struct m2p m2p;                 /* PV: from .xen_p2m's gmfns */
	uint64_t shinfo_max_pfn, shinfo_frame_list_list;
};

/* Section headers and names: which of ours are present, where. */
static enum dumpfs_status read_sections(struct format *f, struct xc_core *x, const uint8_t *eh)
{
	const struct source *src = &f->files[0];
	const struct endian e = f->endian;
	uint64_t shoff = get64(e, eh + 40);
	uint16_t shentsize = get16(e, eh + 58), shnum = get16(e, eh + 60), shstrndx = get16(e, eh + 62);

	if (shentsize != SHDR_SIZE || shnum == 0 || shnum > MAX_SECTIONS || shstrndx >= shnum)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset 58: Xen dump-core section table of %u "
				 "entries of %u bytes, names in section %u: not one libxenguest writes",
				 src->path, shnum, shentsize, shstrndx);
	uint8_t sh[MAX_SECTIONS * SHDR_SIZE];
	enum dumpfs_status st = format_read_meta(f, 0, sh, (size_t)shnum * SHDR_SIZE, shoff, "section headers");
	if (st != DUMPFS_OK)
		return st;
	const uint8_t *strhdr = sh + (size_t)shstrndx * SHDR_SIZE;
	uint64_t stroff = get64(e, strhdr + 24), strsize = get64(e, strhdr + 32);
	if (strsize == 0 || strsize > MAX_SHSTRTAB)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %" PRIu64 ": section name table of %"
				 PRIu64 " bytes", src->path, shoff + (uint64_t)shstrndx * SHDR_SIZE + 32, strsize);
	char *names = malloc(strsize + 1);
	if (!names)
		return DUMPFS_ERR_NOMEM;
	st = format_read_meta(f, 0, names, strsize, stroff, "section name table");
	names[strsize] = '\0';
	for (uint16_t i = 1; st == DUMPFS_OK && i < shnum; i++) {
		const uint8_t *h = sh + (size_t)i * SHDR_SIZE;
		uint32_t name = get32(e, h);
		if (name >= strsize)
			continue;
		for (int k = 0; k < NSEC; k++) {
			if (strcmp(names + name, section_names[k]) || x->sec[k].present)
				continue;
			x->sec[k] = (struct section){ .offset = get64(e, h + 24), .size = get64(e, h + 32),
						      .present = true };
		}
	}
	free(names);
	return st;
}

/* Whether the file is an ELF64 core without program headers whose section
 * table names .xen_pages: then it is ours. */
static bool is_xc_core(struct format *f, uint8_t eh[64], struct xc_core *x)
{
	const struct source *src = &f->files[0];
	if (src->size < 64 || source_read(src, eh, 64, 0) != DUMPFS_OK || memcmp(eh, "\177ELF", 4) ||
	    eh[4] != 2 || (eh[5] != 1 && eh[5] != 2))
		return false;
	f->endian = (struct endian){ eh[5] == 2 };
	if (get16(f->endian, eh + 16) != ET_CORE || get16(f->endian, eh + 56) != 0 ||
	    get16(f->endian, eh + 60) == 0)
		return false;
	/* A damaged table is reported only once the file is known to be a Xen
	 * dump: until then it is left to the ELF reader. */
	struct diag quiet;
	diag_init(&quiet);
	struct diag *keep = f->diag;
	f->diag = &quiet;
	bool ours = read_sections(f, x, eh) == DUMPFS_OK && x->sec[SEC_PAGES].present;
	f->diag = keep;
	diag_destroy(&quiet);
	memset(x->sec, 0, sizeof(x->sec));
	return ours;
}

/* A section inside the file, of the size its contents need. */
static enum dumpfs_status check_section(struct format *f, const struct xc_core *x, int k, uint64_t want)
{
	const struct source *src = &f->files[0];
	const struct section *s = &x->sec[k];
	uint64_t end;
	if (!add_ok(s->offset, s->size, &end) || end > src->size)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %" PRIu64 ": section %s (%" PRIu64
				 " bytes) runs past the end of the file (%" PRIu64 " bytes)%s", src->path, s->offset,
				 section_names[k], s->size, src->size,
				 k == SEC_P2M || k == SEC_PFN ? ": the dump is cut short, and without its page "
				 "table no page can be placed" : "");
	if (want != UINT64_MAX && s->size < want)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %" PRIu64 ": section %s has %" PRIu64
				 " bytes, %" PRIu64 " expected", src->path, s->offset, section_names[k], s->size, want);
	return DUMPFS_OK;
}

static enum dumpfs_status read_notes(struct format *f, struct xc_core *x)
{
	const struct section *s = &x->sec[SEC_NOTE];
	const struct source *src = &f->files[0];
	if (!s->present)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset 0: Xen dump-core file without a .note.Xen "
				 "section (its header note gives the page size and the counts)", src->path);
	enum dumpfs_status st = check_section(f, x, SEC_NOTE, UINT64_MAX);
	if (st != DUMPFS_OK)
		return st;
	if (s->size > MAX_NOTES)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %" PRIu64 ": .note.Xen of %" PRIu64
				 " bytes", src->path, s->offset, s->size);
	uint8_t *blob = malloc(s->size ? s->size : 1);
	if (!blob)
		return DUMPFS_ERR_NOMEM;
	st = format_read_meta(f, 0, blob, s->size, s->offset, ".note.Xen");
	if (st != DUMPFS_OK) {
		free(blob);
		return st;
	}
	char warn[ERRMSG_MAX / 2] = "";
	st = notes_parse(&x->xen_notes, blob, s->size, f->endian, warn, sizeof(warn));
	if (st != DUMPFS_OK)
		return st;
	if (warn[0])
		diag_warn(f->diag, "%s: .note.Xen at offset %" PRIu64 ": %s", src->path, s->offset, warn);
	return xen_dump_notes(f, &x->xen_notes, &x->info, s->offset);
}

/* Room for one more segment in @sg. */
static bool grow(struct segments *sg, size_t *cap)
{
	if (sg->count < *cap)
		return true;
	size_t n = *cap ? *cap * 2 : 64;
	struct segment *l = realloc(sg->list, n * sizeof(*l));
	if (!l)
		return false;
	sg->list = l;
	*cap = n;
	return true;
}

/* One table entry at file offset @at: page @index of .xen_pages is @pfn. */
static enum dumpfs_status add_entry(struct format *f, struct xc_core *x, size_t *cap, uint64_t index,
				    uint64_t pfn, uint64_t at)
{
	if (pfn == INVALID_PFN) {
		x->padding++;
		return DUMPFS_OK;
	}
	if (pfn >= MAX_PFN) {
		if (!x->out_of_range++ && !x->duplicates)
			x->first_bad_at = at;
		return DUMPFS_OK;
	}
	uint64_t ps = f->page_size, off = x->sec[SEC_PAGES].offset + index * ps;
	struct segments *sg = &x->segs;
	if (sg->count) {
		struct segment *last = &sg->list[sg->count - 1];
		if (last->paddr + last->memsz == pfn * ps && last->offset + last->filesz == off) {
			last->memsz += ps;
			last->filesz += ps;
			return DUMPFS_OK;
		}
	}
	if (!grow(sg, cap))
		return DUMPFS_ERR_NOMEM;
	sg->list[sg->count++] = (struct segment){ .paddr = pfn * ps, .memsz = ps, .filesz = ps, .offset = off };
	return DUMPFS_OK;
}

/* The table's entries as segments, in file order. */
static enum dumpfs_status read_table(struct format *f, struct xc_core *x, size_t *cap)
{
	int k = x->auto_translated ? SEC_PFN : SEC_P2M;
	size_t width = x->auto_translated ? 8 : 16;
	uint64_t *chunk = malloc(TABLE_CHUNK * width);
	enum dumpfs_status st = chunk ? DUMPFS_OK : DUMPFS_ERR_NOMEM;
	for (uint64_t i = 0; st == DUMPFS_OK && i < x->entries; i += TABLE_CHUNK) {
		size_t n = x->entries - i < TABLE_CHUNK ? (size_t)(x->entries - i) : TABLE_CHUNK;
		uint64_t at = x->sec[k].offset + i * width;
		st = format_read_meta(f, 0, chunk, n * width, at, section_names[k]);
		for (size_t j = 0; st == DUMPFS_OK && j < n; j++) {
			/* {pfn, gmfn} or pfn: the pfn comes first either way */
			const uint8_t *e = (const uint8_t *)chunk + j * width;
			uint64_t pfn = get64(f->endian, e);
			st = add_entry(f, x, cap, i + j, pfn, at + j * width);
			if (st == DUMPFS_OK && !x->auto_translated && pfn < MAX_PFN)
				st = m2p_add(&x->m2p, get64(f->endian, e + 8), pfn);
		}
	}
	free(chunk);
	return st;
}

static int cmp_segment(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;
	if (x->paddr != y->paddr)
		return x->paddr < y->paddr ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/*
 * Sorted by pfn, each page once.  Where two runs place one page, the run
 * whose copy comes first in the file keeps it (its copy of every shared
 * page comes first: both step one page at a time).  When the earlier run
 * lies inside the later one, what the later one holds past it is
 * re-inserted in order; libxenguest never writes a duplicate, so more
 * than MAX_SPLITS of those is refused rather than sorted slowly.
 */
#define MAX_SPLITS 64
static enum dumpfs_status sort_table(struct format *f, struct xc_core *x, size_t cap)
{
	struct segments *sg = &x->segs;
	uint64_t ps = f->page_size;
	unsigned splits = 0;
	if (!sg->count)
		return DUMPFS_OK;       /* no entry placed a page (list is NULL) */
	qsort(sg->list, sg->count, sizeof(*sg->list), cmp_segment);
	size_t out = 0;
	for (size_t i = 0; i < sg->count; i++) {
		struct segment s = sg->list[i];
		struct segment *prev = out ? &sg->list[out - 1] : NULL;
		uint64_t prev_end = prev ? prev->paddr + prev->memsz : 0, s_end = s.paddr + s.memsz;
		if (prev && s.paddr < prev_end) {
			uint64_t shared = (prev_end < s_end ? prev_end : s_end) - s.paddr;
			if (!x->duplicates && !x->out_of_range)
				x->first_bad_at = s.offset;
			x->duplicates += shared / ps;
			if (prev->offset + (s.paddr - prev->paddr) < s.offset) {
				/* prev's copies come first: s keeps what lies past prev */
				s.paddr += shared;
				s.offset += shared;
				s.memsz = s.filesz = s.memsz - shared;
				if (!s.memsz)
					continue;
			} else {
				/* s's come first: prev keeps what lies before s and after it */
				struct segment tail = *prev;
				prev->memsz = prev->filesz = s.paddr - prev->paddr;
				if (!prev->memsz)
					out--;
				if (prev_end > s_end) {
					if (++splits > MAX_SPLITS)
						return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %" PRIu64 ": "
								 "more than %u overlapping runs of pages in the table: "
								 "not a table libxenguest writes", f->files[0].path,
								 x->first_bad_at, MAX_SPLITS);
					tail.offset += s_end - tail.paddr;
					tail.memsz = tail.filesz = prev_end - s_end;
					tail.paddr = s_end;
					if (!grow(sg, &cap))
						return DUMPFS_ERR_NOMEM;
					size_t at = i + 1, hi = sg->count;
					while (at < hi) {
						size_t mid = at + (hi - at) / 2;
						if (cmp_segment(&sg->list[mid], &tail) < 0)
							at = mid + 1;
						else
							hi = mid;
					}
					memmove(&sg->list[at + 1], &sg->list[at], (sg->count - at) * sizeof(tail));
					sg->list[at] = tail;
					sg->count++;
				}
			}
		}
		sg->list[out++] = s;
	}
	sg->count = out;
	return DUMPFS_OK;
}

static void read_shared_info(struct format *f, struct xc_core *x)
{
	const struct section *s = &x->sec[SEC_SHARED_INFO];
	uint8_t arch[16];
	if (!s->present || s->size < XEN_SHINFO_ARCH + sizeof(arch) ||
	    check_section(f, x, SEC_SHARED_INFO, UINT64_MAX) != DUMPFS_OK ||
	    source_read(&f->files[0], arch, sizeof(arch), s->offset + XEN_SHINFO_ARCH) != DUMPFS_OK)
		return;
	x->shinfo_max_pfn = get64(f->endian, arch);
	x->shinfo_frame_list_list = get64(f->endian, arch + 8);
}

static enum dumpfs_status open_xc(struct format *f, struct xc_core *x)
{
	const struct source *src = &f->files[0];
	enum dumpfs_status st = read_notes(f, x);
	if (st != DUMPFS_OK)
		return st;
	st = format_set_page_size(f, x->info.page_size, x->sec[SEC_NOTE].offset, "Xen dump-core header's page size");
	if (st != DUMPFS_OK)
		return st;
	x->auto_translated = x->info.hvm;
	if (!x->auto_translated)
		f->ops = &xc_pv_ops;
	int k = x->auto_translated ? SEC_PFN : SEC_P2M;
	if (!x->sec[k].present)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset 0: Xen dump-core file of a%s domain without "
				 "its %s section", src->path, x->info.hvm ? "n HVM or PVH" : " PV", section_names[k]);
	if (x->sec[SEC_PAGES].offset % f->page_size)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %" PRIu64 ": .xen_pages is not page-aligned",
				 src->path, x->sec[SEC_PAGES].offset);
	/* Pages past the end of a short file fail alone, as EIO; the table
	 * must be whole. */
	x->entries = x->info.nr_pages;
	uint64_t width = x->auto_translated ? 8 : 16;
	if (x->sec[k].size / width < x->entries) {
		diag_warn(f->diag, "%s: offset %" PRIu64 ": %s holds %" PRIu64 " entries, the header says %" PRIu64
			  " pages: the %" PRIu64 " are read", src->path, x->sec[k].offset, section_names[k],
			  x->sec[k].size / width, x->entries, x->sec[k].size / width);
		x->entries = x->sec[k].size / width;
	}
	if (x->sec[SEC_PAGES].size / f->page_size < x->entries) {
		diag_warn(f->diag, "%s: offset %" PRIu64 ": .xen_pages holds %" PRIu64 " pages, the table %" PRIu64
			  " entries: the %" PRIu64 " are read", src->path, x->sec[SEC_PAGES].offset,
			  x->sec[SEC_PAGES].size / f->page_size, x->entries, x->sec[SEC_PAGES].size / f->page_size);
		x->entries = x->sec[SEC_PAGES].size / f->page_size;
	}
	size_t cap = 0;
	st = check_section(f, x, k, x->entries * width);
	if (st == DUMPFS_OK)
		st = read_table(f, x, &cap);
	if (st == DUMPFS_OK)
		st = sort_table(f, x, cap);
	if (st == DUMPFS_OK)
		st = m2p_sort(&x->m2p);
	if (st != DUMPFS_OK)
		return st;
	if (x->out_of_range || x->duplicates)
		diag_warn(f->diag, "%s: offset %" PRIu64 ": %s: %" PRIu64 " entries name a pfn past %#" PRIx64
			  " and %" PRIu64 " pages a pfn an earlier entry named: those pages are left out",
			  src->path, x->first_bad_at, section_names[k], x->out_of_range, MAX_PFN - 1, x->duplicates);
	if (!x->segs.count)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %" PRIu64 ": %s places no page",
				 src->path, x->sec[k].offset, section_names[k]);
	if (x->sec[SEC_PRSTATUS].present && check_section(f, x, SEC_PRSTATUS, UINT64_MAX) == DUMPFS_OK)
		st = xen_vcpus_load(f, &x->vcpus, &x->info, x->sec[SEC_PRSTATUS].offset, x->sec[SEC_PRSTATUS].size);
	else
		diag_warn(f->diag, "%s: no .xen_prstatus section inside the file: no vCPU registers", src->path);
	if (st != DUMPFS_OK)
		return st;
	read_shared_info(f, x);
	return segments_memory_map(f, &x->segs);
}

enum dumpfs_status xc_core_probe(struct format *f, bool *matched)
{
	uint8_t eh[64];
	struct xc_core *x = calloc(1, sizeof(*x));
	*matched = false;
	if (!x)
		return DUMPFS_ERR_NOMEM;
	if (!is_xc_core(f, eh, x)) {
		free(x);
		f->endian = (struct endian){ false };
		return DUMPFS_OK;
	}
	*matched = true;
	f->priv = x;
	f->ops = &xc_ops;
	f->name = "Xen dump-core";
	f->producer = "xl dump-core (libxenguest xc_core)";
	if (f->nfiles > 1)
		return diag_fail(f->diag, DUMPFS_ERR_INVALID, "%s: a Xen dump-core file is one file, not a set",
				 f->files[1].path);
	f->elf_machine = get16(f->endian, eh + 18);
	f->machine_origin = "ELF e_machine of the Xen dump-core file";
	/* The domain's kernel notes are not in the file: its VMCOREINFO is
	 * looked for in its memory. */
	f->memory_only = true;
	enum dumpfs_status st = read_sections(f, x, eh);
	if (st == DUMPFS_OK)
		st = open_xc(f, x);
	return st;
}

static void xc_describe(struct format *f, struct strbuf *sb)
{
	const struct xc_core *x = f->priv;
	xen_dump_describe(&x->info, sb);
	sb_printf(sb, "xen_domain_type: %s\n", x->auto_translated
		  ? "hvm (HVM or PVH: auto-translated, pages listed by pfn in .xen_pfn)"
		  : "pv (pages listed by pfn and machine frame in .xen_p2m)");
	sb_printf(sb, "xen_table_entries: %" PRIu64 " (%" PRIu64 " padding, %" PRIu64 " out of range, %" PRIu64
		  " duplicate pages)\n", x->entries, x->padding, x->out_of_range, x->duplicates);
	if (x->sec[SEC_SHARED_INFO].present && !x->auto_translated)
		sb_printf(sb, "xen_shared_info: max_pfn %#" PRIx64 ", pfn_to_mfn_frame_list_list %#" PRIx64 "\n",
			  x->shinfo_max_pfn, x->shinfo_frame_list_list);
	else
		sb_printf(sb, "xen_shared_info: %s\n", x->sec[SEC_SHARED_INFO].present ? "present" : "absent");
	xen_vcpus_describe(&x->vcpus, sb);
	segments_describe(f, &x->segs, "xen_page_runs", sb);
}

static void xc_close(struct format *f)
{
	struct xc_core *x = f->priv;
	if (x) {
		xen_vcpus_free(&x->vcpus);
		m2p_free(&x->m2p);
		notes_free(&x->xen_notes);
	}
	segments_op_close(f);
}

static bool xc_cpu_blob(struct format *f, size_t cpu, const char **name, const uint8_t **data, size_t *len)
{
	const struct xc_core *x = f->priv;
	return xen_vcpus_blob(&x->vcpus, cpu, name, data, len);
}

static bool xc_frame_to_pfn(struct format *f, uint64_t frame, uint64_t *pfn)
{
	const struct xc_core *x = f->priv;
	return m2p_lookup(&x->m2p, frame, pfn);
}

static bool xc_xen_pv(struct format *f, struct xen_pv_layout *l)
{
	const struct xc_core *x = f->priv;
	if (!x->m2p.count || !x->shinfo_frame_list_list)
		return false;
	*l = (struct xen_pv_layout){ .runs = x->m2p.by_pfn, .nruns = x->m2p.count,
				     .frame_list_list = x->shinfo_frame_list_list,
				     .xen_major = x->info.major, .xen_minor = x->info.minor };
	return true;
}

static void xc_cpu_text(struct format *f, size_t cpu, struct strbuf *sb)
{
	const struct xc_core *x = f->priv;
	xen_vcpus_text(&x->vcpus, cpu, sb);
}

static const struct format_ops xc_ops = {
	.name = "xc_core",
	.read_page = segments_op_read_page,
	.read_pages = segments_op_read_pages,
	.extent = segments_op_extent,
	.find_pfn = segments_op_find_pfn,
	.census = segments_op_census,
	.describe = xc_describe,
	.cpu_blob = xc_cpu_blob,
	.cpu_text = xc_cpu_text,
	.close = xc_close,
};

/* The same reader for a PV domain: its page tables hold machine frames. */
static const struct format_ops xc_pv_ops = {
	.name = "xc_core",
	.read_page = segments_op_read_page,
	.read_pages = segments_op_read_pages,
	.extent = segments_op_extent,
	.find_pfn = segments_op_find_pfn,
	.census = segments_op_census,
	.describe = xc_describe,
	.cpu_blob = xc_cpu_blob,
	.cpu_text = xc_cpu_text,
	.frame_to_pfn = xc_frame_to_pfn,
	.xen_pv = xc_xen_pv,
	.close = xc_close,
};
