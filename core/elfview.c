/*
 * elfview.c - /vmcore.elf: an ELF64 vmcore synthesized from any dump, read
 * at any offset without building the file.
 *
 * Layout, as /proc/vmcore and crash expect it: the ELF header, program
 * header 0 = the one PT_NOTE, [a kernel-text PT_LOAD], one PT_LOAD per run
 * of RAM pages, [section header 0 for PN_XNUM], the notes, zeros up to a
 * page boundary, then the data of each PT_LOAD back to back.  All headers and notes precede the first data
 * byte and p_align is 0, which is how crash recognises a kdump-style ELF.
 * The file is a list of chunks: one header buffer built at open, then
 * memory ranges served by dumpfs_read_phys().
 *
 * RAM PT_LOADs carry p_vaddr 0 ("no virtual address", as QEMU writes with
 * paging off) so that makedumpfile does not derive PAGE_OFFSET from them.
 * Where phys_base is known on x86_64, an extra PT_LOAD maps the kernel text
 * at its virtual address, so crash and gdb find phys_base from it as they
 * do on /proc/vmcore.
 *
 * An ELF input is served as it is, unless its layout defeats the tools: QEMU
 * writes its section headers first and its program headers after them,
 * and makedumpfile reads program headers only right after the ELF header.
 * Such a file is rebuilt like any other dump.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define EHDR_SIZE 64
#define PHDR_SIZE 56
#define SHDR_SIZE 64
#define PN_XNUM 0xffff
#define START_KERNEL_MAP 0xffffffff80000000ull
#define DEFAULT_KERNEL_TEXT 0xffffffff81000000ull
#define KERNEL_TEXT_SPAN (64ull << 20)
#define EM_X86_64 62

struct elf_chunk {
	uint64_t offset;        /* in /vmcore.elf */
	uint64_t paddr, len;
};

struct elf_view {
	uint8_t *header;        /* ELF header, program headers, notes */
	uint64_t header_len;
	struct elf_chunk *chunks;
	size_t nchunks;
	uint64_t size;
	bool kernel_text;
	uint64_t text_dumped;   /* dumped pages under the kernel-text mapping */
};

static size_t notes_len(const struct note_set *ns)
{
	size_t n = 0;
	for (size_t i = 0; i < ns->count; i++)
		n += ns->list[i].rawsz;
	return n;
}

static void put_phdr(struct endian e, uint8_t *p, uint32_t type, uint32_t flags, uint64_t offset,
		     uint64_t vaddr, uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	put32(e, p, type);
	put32(e, p + 4, flags);
	put64(e, p + 8, offset);
	put64(e, p + 16, vaddr);
	put64(e, p + 24, paddr);
	put64(e, p + 32, filesz);
	put64(e, p + 40, memsz);
	put64(e, p + 48, 0);            /* p_align 0: a kdump ELF to crash */
}

/* Dumped pages in [pfn, end), run by run. */
static uint64_t count_dumped(struct dumpfs_dump *d, uint64_t pfn, uint64_t end)
{
	uint64_t n = 0;
	while (pfn < end) {
		uint64_t data = d->ops->find_pfn(d, pfn, true);
		if (data >= end)
			break;
		uint64_t hole = d->ops->find_pfn(d, data, false);
		n += (hole < end ? hole : end) - data;
		pfn = hole;
	}
	return n;
}

/* The kernel-text mapping as kexec-tools describes it, if we can. */
static bool kernel_text_range(struct dumpfs_dump *d, uint64_t *vaddr, uint64_t *paddr, uint64_t *len)
{
	char v[64];
	uint64_t mem = dumpfs_mem_size(d);

	if (d->elf_machine != EM_X86_64 || !d->has_phys_base)
		return false;
	*vaddr = DEFAULT_KERNEL_TEXT;
	if (vmcoreinfo_get(&d->notes, "SYMBOL(_stext)", v, sizeof(v)))
		*vaddr = strtoull(v, NULL, 16);
	else if (vmcoreinfo_get(&d->notes, "KERNELOFFSET", v, sizeof(v)))
		*vaddr += strtoull(v, NULL, 16);
	else if (d->kernel_text_vaddr)  /* KASLR seen in the page tables */
		*vaddr = d->kernel_text_vaddr;
	if (*vaddr < START_KERNEL_MAP)
		return false;
	*paddr = *vaddr - START_KERNEL_MAP + d->phys_base;
	if (*paddr >= mem)
		return false;
	*len = mem - *paddr < KERNEL_TEXT_SPAN ? mem - *paddr : KERNEL_TEXT_SPAN;
	return true;
}

/* True when the input ELF's program headers follow its ELF header, where
 * every reader looks for them (and always for ELF32: our view is ELF64). */
static bool input_elf_servable_as_is(const struct dumpfs_dump *d)
{
	uint8_t eh[EHDR_SIZE];
	if (source_read(&d->files[0], eh, sizeof(eh), 0) != DUMPFS_OK || eh[4] != 2)
		return true;
	return get64(d->endian, eh + 32) == EHDR_SIZE;
}

enum dumpfs_status elf_view_build(struct dumpfs_dump *d)
{
	struct elf_view *v = calloc(1, sizeof(*v));
	uint64_t kvaddr = 0, kpaddr = 0, klen = 0;
	struct endian e = d->endian;

	if (!v)
		return DUMPFS_ERR_NOMEM;
	d->elf = v;
	if (d->elf_passthrough && !input_elf_servable_as_is(d))
		d->elf_passthrough = false;
	if (d->elf_passthrough) {
		v->size = d->files[0].size;
		return DUMPFS_OK;
	}
	v->kernel_text = kernel_text_range(d, &kvaddr, &kpaddr, &klen);
	size_t nloads = d->nram + v->kernel_text;
	uint64_t nphdrs = 1 + (uint64_t)nloads;
	bool xnum = nphdrs >= PN_XNUM;
	size_t nlen = notes_len(&d->notes);
	uint64_t shoff = EHDR_SIZE + nphdrs * PHDR_SIZE;
	uint64_t notes_off = shoff + (xnum ? SHDR_SIZE : 0);

	v->header_len = notes_off + nlen;
	v->header = calloc(1, (size_t)v->header_len);
	v->chunks = calloc(nloads ? nloads : 1, sizeof(*v->chunks));
	if (!v->header || !v->chunks)
		return DUMPFS_ERR_NOMEM;

	uint8_t *h = v->header;
	memcpy(h, "\177ELF", 4);
	h[4] = 2;                       /* ELFCLASS64 */
	h[5] = e.big ? 2 : 1;
	h[6] = 1;                       /* EV_CURRENT */
	put16(e, h + 16, 4);            /* ET_CORE */
	put16(e, h + 18, d->elf_machine);
	put32(e, h + 20, 1);
	put64(e, h + 32, EHDR_SIZE);
	put64(e, h + 40, xnum ? shoff : 0);
	put32(e, h + 48, d->incomplete ? 1 : 0);        /* DUMP_ELF_INCOMPLETE */
	put16(e, h + 52, EHDR_SIZE);
	put16(e, h + 54, PHDR_SIZE);
	put16(e, h + 56, xnum ? PN_XNUM : (uint16_t)nphdrs);
	put16(e, h + 58, xnum ? SHDR_SIZE : 0);
	put16(e, h + 60, xnum ? 1 : 0);
	if (xnum)
		put32(e, h + shoff + 44, (uint32_t)nphdrs);     /* sh_info */

	uint8_t *ph = h + EHDR_SIZE;
	put_phdr(e, ph, 4, 0, notes_off, 0, 0, nlen, nlen);
	for (size_t i = 0, at = 0; i < d->notes.count; i++) {
		memcpy(h + notes_off + at, d->notes.list[i].raw, d->notes.list[i].rawsz);
		at += d->notes.list[i].rawsz;
	}

	/* Page-align the data, as /proc/vmcore does for mmap: then each page
	 * of the file is one physical page, and a damaged page costs one page
	 * of /vmcore.elf, not two. */
	uint64_t off = (v->header_len + d->page_size - 1) & ~(uint64_t)(d->page_size - 1);
	size_t c = 0;
	if (v->kernel_text) {
		v->text_dumped = count_dumped(d, kpaddr >> d->page_shift,
					      (kpaddr + klen + d->page_size - 1) >> d->page_shift);
		v->chunks[c++] = (struct elf_chunk){ off, kpaddr, klen };
		put_phdr(e, ph + PHDR_SIZE, 1, 7, off, kvaddr, kpaddr, klen, klen);
		off += klen;
	}
	for (size_t i = 0; i < d->nram; i++, c++) {
		uint64_t paddr = d->ram[i].start << d->page_shift;
		uint64_t len = d->ram[i].count << d->page_shift;
		v->chunks[c] = (struct elf_chunk){ off, paddr, len };
		put_phdr(e, ph + (1 + c) * PHDR_SIZE, 1, 7, off, 0, paddr, len, len);
		off += len;
	}
	v->nchunks = c;
	v->size = off;
	return DUMPFS_OK;
}

void elf_view_free(struct elf_view *v)
{
	if (!v)
		return;
	free(v->header);
	free(v->chunks);
	free(v);
}

uint64_t elf_view_size(const struct dumpfs_dump *d)
{
	return d->elf->size;
}

/* Bytes of data, not holes: the headers and the dumped pages, those of the
 * kernel-text mapping counted twice as the file holds them twice. */
uint64_t elf_view_stored(const struct dumpfs_dump *d)
{
	const struct elf_view *v = d->elf;
	if (d->elf_passthrough || !v->nchunks)
		return v->size;
	return v->chunks[0].offset + ((d->dumped_pages + v->text_dumped) << d->page_shift);
}

static size_t chunk_at(const struct elf_view *v, uint64_t off)
{
	size_t lo = 0, hi = v->nchunks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v->chunks[mid].offset + v->chunks[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static ssize_t read_passthrough(struct dumpfs_dump *d, void *buf, size_t len, uint64_t off)
{
	const struct source *src = &d->files[0];
	if (off >= src->size)
		return 0;
	if (len > src->size - off)
		len = (size_t)(src->size - off);
	if (source_read(src, buf, len, off) != DUMPFS_OK) {
		dump_log(d, DUMPFS_ERR_IO, "%s: offset %llu: read of %zu bytes failed", src->path,
			 (unsigned long long)off, len);
		return -EIO;
	}
	return (ssize_t)len;
}

ssize_t elf_view_read(struct dumpfs_dump *d, void *buf, size_t len, uint64_t off)
{
	const struct elf_view *v = d->elf;
	uint8_t *out = buf;
	size_t done = 0;

	if (d->elf_passthrough)
		return read_passthrough(d, buf, len, off);
	if (off >= v->size)
		return 0;
	if (len > v->size - off)
		len = (size_t)(v->size - off);
	uint64_t data_start = v->nchunks ? v->chunks[0].offset : v->size;
	if (off < data_start) {
		size_t n = (size_t)(data_start - off) < len ? (size_t)(data_start - off) : len;
		size_t h = off < v->header_len ? (size_t)(v->header_len - off) : 0;
		if (h > n)
			h = n;
		if (h)
			memcpy(out, v->header + off, h);
		memset(out + h, 0, n - h);
		done = n;
	}
	for (size_t i = chunk_at(v, off + done); done < len; i++) {
		const struct elf_chunk *c = &v->chunks[i];
		uint64_t at = off + done - c->offset;
		size_t n = c->len - at < len - done ? (size_t)(c->len - at) : len - done;
		ssize_t got = dumpfs_read_phys(d, out + done, n, c->paddr + at);
		if (got < 0)
			return done ? (ssize_t)done : got;
		done += (size_t)got;
		if ((size_t)got < n)
			break;
	}
	return (ssize_t)done;
}

/*
 * SEEK_DATA / SEEK_HOLE: the headers are data, and the bytes of each PT_LOAD
 * are data or hole as their physical pages are in /mem, so that a sparse
 * copy (`cp`, `tar -S`, `rsync -S`) of a mostly excluded dump stays small.
 * An ELF input served as it is holds no holes of its own.
 */
int64_t elf_view_seek(struct dumpfs_dump *d, uint64_t off, bool data)
{
	const struct elf_view *v = d->elf;
	uint64_t data_start = v->nchunks ? v->chunks[0].offset : v->size;

	if (d->elf_passthrough)
		return data ? (int64_t)off : (int64_t)v->size;
	if (off < data_start) {
		if (data)
			return (int64_t)off;
		off = data_start;
	}
	for (size_t i = chunk_at(v, off); i < v->nchunks; i++) {
		const struct elf_chunk *c = &v->chunks[i];
		uint64_t from = off > c->offset ? c->paddr + (off - c->offset) : c->paddr;
		uint64_t last = (c->paddr + c->len - 1) >> d->page_shift;
		uint64_t found = d->ops->find_pfn(d, from >> d->page_shift, data);
		if (found > last)
			continue;
		uint64_t at = found << d->page_shift;
		uint64_t o = at > c->paddr ? c->offset + (at - c->paddr) : c->offset;
		return (int64_t)(o > off ? o : off);
	}
	return data ? -ENXIO : (int64_t)v->size;
}
