/*
 * elf.c - ELF vmcores: /proc/vmcore copies, QEMU dump-guest-memory
 * (paging on or off), makedumpfile -E; ELF32 and ELF64, either byte order.
 *
 * Physical memory comes from the PT_LOAD segments by p_paddr; the part of a
 * segment past p_filesz (makedumpfile's excluded tail) and anything no
 * segment covers are holes.  Segments that overlap physically (QEMU's
 * paging dumps map a page once per virtual mapping; /proc/vmcore repeats
 * the kernel text) are clipped at open so each byte has one source.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/xen.h"

#define PT_LOAD 1
#define PT_NOTE 4
#define ET_CORE 4
#define PN_XNUM 0xffff
#define ELF_INCOMPLETE 0x1
#define MAX_NOTES_SIZE (64u << 20)
/*
 * /mem and /vmcore.elf are files: their offsets (off_t, and the int64_t of
 * dumpfs_node_seek) end at 2^63.  Physical addresses end far below that on
 * every machine (52 bits on x86_64 and arm64); a PT_LOAD beyond 2^62 is a
 * virtual address in p_paddr or garbage, and keeping it would make /mem's
 * size and seek offsets overflow.
 */
#define MAX_PHYS_END (1ull << 62)

static const struct format_ops elf_ops;
static void elf_close(struct format *f);

struct elf {
	bool is64;
	uint16_t type, machine;
	uint32_t flags;
	uint64_t phoff, phnum;
	uint16_t shnum;
	bool pn_xnum;
	size_t nloads, nnotes_segs;
	struct segments segs;           /* sorted by paddr, disjoint */
	bool has_excluded_tails;
	bool has_kernel_text_segment;
	size_t noverlaps;               /* PT_LOADs clipped against another */
	bool xen;                       /* a Xen host's kdump: its notes */
	struct xen_host xen_host;
};

static int cmp_segment(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;
	if (x->paddr != y->paddr)
		return x->paddr < y->paddr ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

struct phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

static void decode_phdr(const struct elf *x, struct endian e, const uint8_t *p, struct phdr *ph)
{
	ph->type = get32(e, p);
	ph->flags = get32(e, p + (x->is64 ? 4 : 24));
	if (x->is64) {
		ph->offset = get64(e, p + 8);
		ph->vaddr = get64(e, p + 16);
		ph->paddr = get64(e, p + 24);
		ph->filesz = get64(e, p + 32);
		ph->memsz = get64(e, p + 40);
	} else {
		ph->offset = get32(e, p + 4);
		ph->vaddr = get32(e, p + 8);
		ph->paddr = get32(e, p + 12);
		ph->filesz = get32(e, p + 16);
		ph->memsz = get32(e, p + 20);
	}
}

static enum dumpfs_status read_header(struct format *f, struct elf *x, uint16_t *phentsize)
{
	uint8_t h[64] = {0};
	const struct source *src = &f->files[0];
	size_t hsize = x->is64 ? 64 : 52;
	struct endian e = f->endian;

	if (src->size < hsize)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %llu: ELF header truncated",
				 src->path, (unsigned long long)src->size);
	enum dumpfs_status st = format_read_meta(f, 0, h, hsize, 0, "ELF header");
	if (st != DUMPFS_OK)
		return st;
	x->type = get16(e, h + 16);
	x->machine = get16(e, h + 18);
	if (x->is64) {
		x->phoff = get64(e, h + 32);
		x->flags = get32(e, h + 48);
		*phentsize = get16(e, h + 54);
		x->phnum = get16(e, h + 56);
		x->shnum = get16(e, h + 60);
	} else {
		x->phoff = get32(e, h + 28);
		x->flags = get32(e, h + 36);
		*phentsize = get16(e, h + 42);
		x->phnum = get16(e, h + 44);
	}
	if (x->type != ET_CORE)
		return diag_fail(f->diag, DUMPFS_ERR_INVALID, "%s: offset 16: ELF type %u is not a core file (ET_CORE)",
				 src->path, x->type);
	if (*phentsize != (x->is64 ? 56 : 32))
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %d: e_phentsize %u, expected %d",
				 src->path, x->is64 ? 54 : 42, *phentsize, x->is64 ? 56 : 32);
	if (x->phnum == PN_XNUM) {
		/* More than 65534 headers: the count is in section 0's sh_info. */
		uint64_t shoff = x->is64 ? get64(e, h + 40) : get32(e, h + 32);
		uint8_t sh[64];
		size_t shsize = x->is64 ? 64 : 40;
		if (shoff == 0 || shoff + shsize > src->size || shoff + shsize < shoff)
			return diag_fail(f->diag, DUMPFS_ERR_CORRUPT,
					 "%s: offset %d: e_phnum is PN_XNUM but section header 0 at %llu is outside the file",
					 src->path, x->is64 ? 56 : 44, (unsigned long long)shoff);
		st = format_read_meta(f, 0, sh, shsize, shoff, "section header 0");
		if (st != DUMPFS_OK)
			return st;
		x->phnum = get32(e, sh + (x->is64 ? 44 : 28));
		x->pn_xnum = true;
	}
	uint64_t end;
	if (!mul_ok(x->phnum, *phentsize, &end) || !add_ok(end, x->phoff, &end) || end > src->size)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT,
				 "%s: offset %llu: %llu program headers run past the end of the file",
				 src->path, (unsigned long long)x->phoff, (unsigned long long)x->phnum);
	return DUMPFS_OK;
}

/* Concatenate every PT_NOTE segment's notes. */
static enum dumpfs_status load_notes(struct format *f, struct elf *x,
				     const uint8_t *ph, uint16_t phentsize)
{
	const struct source *src = &f->files[0];
	uint8_t *blob = NULL;
	size_t size = 0;

	for (uint64_t i = 0; i < x->phnum; i++) {
		struct phdr p;
		decode_phdr(x, f->endian, ph + i * phentsize, &p);
		if (p.type != PT_NOTE)
			continue;
		x->nnotes_segs++;
		if (p.filesz > MAX_NOTES_SIZE - size || p.offset + p.filesz > src->size ||
		    p.offset + p.filesz < p.offset) {
			diag_warn(f->diag, "%s: offset %llu: PT_NOTE segment %llu (%llu bytes) runs past the end of the file or is too large; ignored",
				  src->path, (unsigned long long)p.offset, (unsigned long long)i,
				  (unsigned long long)p.filesz);
			continue;
		}
		uint8_t *nb = realloc(blob, size + p.filesz + 1);
		if (!nb) {
			free(blob);
			return DUMPFS_ERR_NOMEM;
		}
		blob = nb;
		enum dumpfs_status st = format_read_meta(f, 0, blob + size, (size_t)p.filesz, p.offset, "PT_NOTE");
		if (st != DUMPFS_OK) {
			free(blob);
			return st;
		}
		size += (size_t)p.filesz;
	}
	char warn[ERRMSG_MAX] = "";
	enum dumpfs_status st = notes_parse(&f->notes, blob, size, f->endian, warn, sizeof(warn));
	if (warn[0])
		diag_warn(f->diag, "%s: %s", src->path, warn);
	return st;
}

static enum dumpfs_status load_segments(struct format *f, struct elf *x,
					const uint8_t *ph, uint16_t phentsize)
{
	const struct source *src = &f->files[0];
	size_t n = 0;
	bool truncated = false;

	x->segs.list = calloc(x->phnum ? x->phnum : 1, sizeof(*x->segs.list));
	if (!x->segs.list)
		return DUMPFS_ERR_NOMEM;
	for (uint64_t i = 0; i < x->phnum; i++) {
		struct phdr p;
		uint64_t end;
		decode_phdr(x, f->endian, ph + i * phentsize, &p);
		if (p.type != PT_LOAD)
			continue;
		x->nloads++;
		if (p.vaddr >= 0xffffffff80000000ull && p.vaddr != p.paddr)
			x->has_kernel_text_segment = true;
		if (p.vaddr)
			f->elf_has_vaddr = true;
		if (p.memsz == 0 || p.paddr == UINT64_MAX)
			continue;
		if (!add_ok(p.paddr, p.memsz, &end)) {
			diag_warn(f->diag, "%s: program header %llu: PT_LOAD at paddr %#llx wraps around; ignored",
				  src->path, (unsigned long long)i, (unsigned long long)p.paddr);
			continue;
		}
		if (end > MAX_PHYS_END) {
			diag_warn(f->diag, "%s: program header %llu: PT_LOAD at paddr %#llx ends beyond %#llx, where no machine has memory and /mem cannot reach; ignored",
				  src->path, (unsigned long long)i, (unsigned long long)p.paddr,
				  (unsigned long long)MAX_PHYS_END);
			continue;
		}
		if (p.filesz > p.memsz) {
			diag_warn(f->diag, "%s: program header %llu: p_filesz > p_memsz; using p_memsz",
				  src->path, (unsigned long long)i);
			p.filesz = p.memsz;
		}
		if (p.filesz < p.memsz)
			x->has_excluded_tails = true;
		if (p.offset + p.filesz > src->size || p.offset + p.filesz < p.offset)
			truncated = true;
		x->segs.list[n++] = (struct segment){ .paddr = p.paddr, .memsz = p.memsz, .filesz = p.filesz,
						       .offset = p.offset, .vaddr = p.vaddr };
	}
	if (truncated)
		diag_warn(f->diag, "%s: some PT_LOAD data lies past the end of the file (%llu bytes): those pages read as I/O errors",
			  src->path, (unsigned long long)src->size);
	if (n)
		qsort(x->segs.list, n, sizeof(*x->segs.list), cmp_segment);

	/* Clip overlaps so that each physical byte has one source. */
	size_t out = 0;
	uint64_t prev_end = 0;
	for (size_t i = 0; i < n; i++) {
		struct segment s = x->segs.list[i];
		if (out && s.paddr < prev_end) {
			uint64_t cut = prev_end - s.paddr;
			x->noverlaps++;
			if (cut >= s.memsz)
				continue;
			s.paddr += cut;
			s.offset += cut;
			s.memsz -= cut;
			s.filesz = s.filesz > cut ? s.filesz - cut : 0;
		}
		x->segs.list[out++] = s;
		prev_end = s.paddr + s.memsz;
	}
	x->segs.count = out;
	return DUMPFS_OK;
}

/* A process core's PT_LOADs, by virtual address, for qemu.c. */
static enum dumpfs_status process_maps(struct format *f, const struct elf *x, const uint8_t *ph,
				       uint16_t phentsize, struct host_map **out, size_t *nout)
{
	struct host_map *maps = calloc(x->phnum ? x->phnum : 1, sizeof(*maps));
	size_t n = 0;
	if (!maps)
		return DUMPFS_ERR_NOMEM;
	for (uint64_t i = 0; i < x->phnum; i++) {
		struct phdr p;
		uint64_t end;
		decode_phdr(x, f->endian, ph + i * phentsize, &p);
		if (p.type != PT_LOAD || p.memsz == 0)
			continue;
		if (!add_ok(p.vaddr, p.memsz, &end) || !add_ok(p.offset, p.filesz, &end)) {
			free(maps);
			return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %llu: PT_LOAD at %#llx wraps around",
					 f->files[0].path, (unsigned long long)(x->phoff + i * phentsize),
					 (unsigned long long)p.vaddr);
		}
		maps[n++] = (struct host_map){ .start = p.vaddr, .end = p.vaddr + p.memsz, .offset = p.offset,
					       .filesz = p.filesz < p.memsz ? p.filesz : p.memsz,
					       .flags = p.flags, .phdr_at = x->phoff + i * phentsize };
	}
	*out = maps;
	*nout = n;
	return DUMPFS_OK;
}

static void pick_page_size(struct format *f)
{
	char v[32];
	uint64_t ps = 4096;
	if (vmcoreinfo_get(&f->notes, "PAGESIZE", v, sizeof(v))) {
		uint64_t n = strtoull(v, NULL, 10);
		if (n >= MIN_PAGE_SIZE && n <= MAX_PAGE_SIZE && !(n & (n - 1)))
			ps = n;
		else
			diag_warn(f->diag, "VMCOREINFO PAGESIZE=%s is not a valid page size; using 4096", v);
	}
	format_set_page_size(f, ps, 0, "page size");
}

/* Who wrote an ELF vmcore, from what the headers show: QEMU's CPU notes,
 * makedumpfile's excluded tails or ERASEINFO, the kernel's text mapping
 * that only /proc/vmcore has. */
static const char *producer_of(const struct format *f, const struct elf *x)
{
	if (f->notes.nqemu)
		return "QEMU dump-guest-memory";
	if (x->has_excluded_tails || f->notes.eraseinfo)
		return "makedumpfile -E";
	if (x->has_kernel_text_segment)
		return "/proc/vmcore copy";
	return NULL;
}

enum dumpfs_status elf_probe(struct format *f, bool *matched)
{
	uint8_t id[16];
	const struct source *src = &f->files[0];
	uint16_t phentsize = 0;

	*matched = false;
	if (src->size < 16 || source_read(src, id, 16, 0) != DUMPFS_OK || memcmp(id, "\177ELF", 4))
		return DUMPFS_OK;
	*matched = true;
	if (f->nfiles > 1)
		return diag_fail(f->diag, DUMPFS_ERR_INVALID, "%s: ELF dumps cannot be split; give one file",
				 f->files[1].path);
	if ((id[4] != 1 && id[4] != 2) || (id[5] != 1 && id[5] != 2))
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset 4: bad ELF class %u or data encoding %u",
				 src->path, id[4], id[5]);
	struct elf *x = calloc(1, sizeof(*x));
	if (!x)
		return DUMPFS_ERR_NOMEM;
	f->priv = x;
	f->ops = &elf_ops;
	x->is64 = id[4] == 2;
	f->is_32bit = !x->is64;
	f->endian = (struct endian){ id[5] == 2 };
	f->name = x->is64 ? "ELF64" : "ELF32";
	f->elf_passthrough = true;

	enum dumpfs_status st = read_header(f, x, &phentsize);
	if (st != DUMPFS_OK)
		return st;
	f->elf_machine = x->machine;
	f->machine_origin = "ELF e_machine";
	f->incomplete = x->flags & ELF_INCOMPLETE;
	size_t phsize = (size_t)(x->phnum * phentsize);
	uint8_t *ph = malloc(phsize ? phsize : 1);
	if (!ph)
		return DUMPFS_ERR_NOMEM;
	st = format_read_meta(f, 0, ph, phsize, x->phoff, "program headers");
	if (st == DUMPFS_OK)
		st = load_notes(f, x, ph, phentsize);
	if (st == DUMPFS_OK && pcore_is_process_core(&f->notes)) {
		/* a process's core: the guest of a QEMU one is served */
		struct host_map *maps = NULL;
		size_t nmaps = 0;
		bool sections = x->shnum != 0;
		st = process_maps(f, x, ph, phentsize, &maps, &nmaps);
		free(ph);
		if (st != DUMPFS_OK)
			return st;
		elf_close(f);
		return qemu_core_open(f, maps, nmaps, sections);
	}
	if (st == DUMPFS_OK) {
		pick_page_size(f);
		st = load_segments(f, x, ph, phentsize);
	}
	free(ph);
	if (st == DUMPFS_OK)
		st = segments_memory_map(f, &x->segs);
	if (st == DUMPFS_OK)
		f->producer = producer_of(f, x);
	if (st == DUMPFS_OK)
		x->xen = xen_host_find(f, &x->xen_host);
	return st;
}

static enum dumpfs_status elf_read_page(struct format *f, uint64_t pfn, void *buf)
{
	const struct elf *x = f->priv;
	return segments_read_page(f, &x->segs, pfn, buf);
}

static void elf_read_pages(struct format *f, uint64_t pfn, size_t n, uint8_t *buf, enum dumpfs_status *st)
{
	const struct elf *x = f->priv;
	segments_read_pages(f, &x->segs, pfn, n, buf, st);
}

static bool elf_extent(struct format *f, uint64_t paddr, size_t len, struct dumpfs_extent *e)
{
	const struct elf *x = f->priv;
	return segments_extent(f, &x->segs, paddr, len, e);
}

static uint64_t elf_find_pfn(struct format *f, uint64_t pfn, bool dumped)
{
	const struct elf *x = f->priv;
	return segments_find_pfn(f, &x->segs, pfn, dumped);
}

static void elf_census(struct format *f, struct census *c)
{
	const struct elf *x = f->priv;
	segments_census(f, &x->segs, c);
}

static void elf_describe(struct format *f, struct strbuf *sb)
{
	const struct elf *x = f->priv;
	sb_printf(sb, "elf_class: %s\nelf_data: %s\ne_machine: %u\ne_flags: %#x%s\n",
		  x->is64 ? "ELFCLASS64" : "ELFCLASS32", f->endian.big ? "big-endian" : "little-endian",
		  x->machine, x->flags, x->flags & ELF_INCOMPLETE ? " DUMP_ELF_INCOMPLETE" : "");
	sb_printf(sb, "program_headers: %llu%s\npt_load: %zu\npt_note: %zu\n",
		  (unsigned long long)x->phnum, x->pn_xnum ? " (PN_XNUM)" : "", x->nloads,
		  x->nnotes_segs);
	sb_printf(sb, "excluded_tails: %s\n", x->has_excluded_tails ? "yes (p_filesz < p_memsz)" : "no");
	sb_printf(sb, "overlapping_loads: %zu%s\n", x->noverlaps,
		  x->noverlaps ? " (clipped: the lower-addressed segment wins)" : "");
	if (x->xen)
		xen_host_describe(f, &x->xen_host, sb);
}

static bool elf_cpu_blob(struct format *f, size_t cpu, const char **name, const uint8_t **data, size_t *len)
{
	const struct elf *x = f->priv;
	return x->xen && xen_host_cpu_blob(f, cpu, name, data, len);
}

static void elf_cpu_text(struct format *f, size_t cpu, struct strbuf *sb)
{
	const struct elf *x = f->priv;
	if (x->xen)
		xen_host_cpu_text(f, cpu, sb);
}

static void elf_close(struct format *f)
{
	struct elf *x = f->priv;
	if (!x)
		return;
	free(x->segs.list);
	free(x);
	f->priv = NULL;
}

static const struct format_ops elf_ops = {
	.name = "elf",
	.read_page = elf_read_page,
	.read_pages = elf_read_pages,
	.extent = elf_extent,
	.find_pfn = elf_find_pfn,
	.census = elf_census,
	.describe = elf_describe,
	.cpu_blob = elf_cpu_blob,
	.cpu_text = elf_cpu_text,
	.close = elf_close,
};
