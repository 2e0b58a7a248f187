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
 * ranges of an address space (a dump's physical memory).  The view is an
 * address space itself, so /vmcore.elf is served like /mem.
 *
 * RAM PT_LOADs carry the linear-map address where /proc/vmcore of the
 * architecture does (aarch64), and otherwise p_vaddr 0 ("no virtual
 * address", as QEMU writes with paging off): on x86_64 so that makedumpfile
 * does not derive PAGE_OFFSET from them.
 * Where the architecture can tell the kernel-text mapping (x86_64 with a
 * known phys_base), an extra PT_LOAD maps the kernel text at its virtual
 * address, so crash and gdb find phys_base from it as they do on
 * /proc/vmcore.  Where its readers do not walk page tables (ppc64, s390x),
 * PT_LOADs after the RAM's map what the kernel's tables map outside the
 * linear map (kernel_loads.c); their bytes are the RAM PT_LOADs' own.
 *
 * An ELF input is served as it is, unless its layout defeats the tools: QEMU
 * writes its section headers first and its program headers after them,
 * and makedumpfile reads program headers only right after the ELF header.
 * Such a file is rebuilt like any other dump.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "view/view.h"

#define EHDR_SIZE 64
#define PHDR_SIZE 56
#define SHDR_SIZE 64
#define PN_XNUM 0xffff

struct elf_chunk {
	uint64_t offset;        /* in /vmcore.elf */
	uint64_t addr, len;     /* in the memory space */
};

struct elf_view {
	struct space space;
	struct space *mem;
	unsigned page_shift;
	uint8_t *header;        /* ELF header, program headers, notes */
	uint64_t header_len;
	struct elf_chunk *chunks;
	size_t nchunks;
	/* NT_PRSTATUS pr_pid fields to set to each CPU's pid when the header
	 * is first read (spec's cpu_pids_from) */
	const struct machine *pid_machine;
	struct diag *diag;
	const char *path;
	struct endian endian;
	size_t *pid_at, npids;          /* offsets in header, CPU order */
	pthread_mutex_t pid_lock;
	_Atomic bool pids_set;
};

static struct elf_view *view_of(struct space *s)
{
	return (struct elf_view *)((char *)s - offsetof(struct elf_view, space));
}

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

/* Data pages of @mem in pages [pfn, end), run by run. */
static uint64_t count_data_pages(struct space *mem, unsigned shift, uint64_t pfn, uint64_t end)
{
	uint64_t n = 0;
	while (pfn < end) {
		uint64_t data = space_next(mem, pfn << shift, true) >> shift;
		if (data >= end)
			break;
		uint64_t hole = space_next(mem, data << shift, false) >> shift;
		n += (hole < end ? hole : end) - data;
		pfn = hole;
	}
	return n;
}

bool elf_servable_as_is(const struct source *src, struct endian e)
{
	uint8_t eh[EHDR_SIZE];
	if (source_read(src, eh, sizeof(eh), 0) != DUMPFS_OK || eh[4] != 2)
		return true;    /* and always an ELF32: our view is ELF64 */
	return get64(e, eh + 32) == EHDR_SIZE;
}

static void put_ehdr(const struct elf_view_spec *sp, uint8_t *h, uint64_t nphdrs, bool xnum,
		     uint64_t shoff)
{
	struct endian e = sp->endian;
	memcpy(h, "\177ELF", 4);
	h[4] = 2;                       /* ELFCLASS64 */
	h[5] = e.big ? 2 : 1;
	h[6] = 1;                       /* EV_CURRENT */
	put16(e, h + 16, 4);            /* ET_CORE */
	put16(e, h + 18, sp->elf_machine);
	put32(e, h + 20, 1);
	put64(e, h + 32, EHDR_SIZE);
	put64(e, h + 40, xnum ? shoff : 0);
	put32(e, h + 48, sp->incomplete ? 1 : 0);       /* DUMP_ELF_INCOMPLETE */
	put16(e, h + 52, EHDR_SIZE);
	put16(e, h + 54, PHDR_SIZE);
	put16(e, h + 56, xnum ? PN_XNUM : (uint16_t)nphdrs);
	put16(e, h + 58, xnum ? SHDR_SIZE : 0);
	put16(e, h + 60, xnum ? 1 : 0);
	if (xnum)
		put32(e, h + shoff + 44, (uint32_t)nphdrs);     /* sh_info */
}

static const struct space_ops elf_view_ops;

/* Where each NT_PRSTATUS's pr_pid lies in the header: after pr_info (12
 * bytes), pr_cursig and its padding (4), pr_sigpend and pr_sighold (a
 * long each). */
static bool pid_fields(struct elf_view *v, const struct elf_view_spec *sp, uint64_t notes_off)
{
	const struct note_set *ns = sp->notes;
	const unsigned word = machine_word_size(sp->cpu_pids_from);
	if (!(v->pid_at = calloc(ns->nprstatus, sizeof(*v->pid_at))))
		return false;
	for (size_t k = 0, i = 0, at = 0; i < ns->count; at += ns->list[i++].rawsz) {
		const struct note *n = &ns->list[i];
		if (k < ns->nprstatus && ns->prstatus[k] == i && n->descsz >= 16 + 3 * word)
			v->pid_at[v->npids++] = notes_off + at + (size_t)(n->desc - n->raw) + 16 + 2 * word;
		if (k < ns->nprstatus && ns->prstatus[k] == i)
			k++;
	}
	v->pid_machine = sp->cpu_pids_from;
	v->diag = sp->diag;
	v->path = sp->path;
	v->endian = sp->endian;
	pthread_mutex_init(&v->pid_lock, NULL);
	return true;
}

/* Once, before the notes are read: each CPU's pid into its NT_PRSTATUS;
 * where the run queues cannot be read, the notes stay as they are and the
 * log says why. */
static void set_pids(struct elf_view *v)
{
	pthread_mutex_lock(&v->pid_lock);
	if (!v->pids_set) {
		int32_t *pids = calloc(v->npids ? v->npids : 1, sizeof(*pids));
		char why[200];
		enum dumpfs_status st = pids ? cpu_current_pids(v->pid_machine, pids, v->npids, why, sizeof(why))
					     : DUMPFS_ERR_NOMEM;
		if (st == DUMPFS_OK)
			for (size_t i = 0; i < v->npids; i++)
				put32(v->endian, v->header + v->pid_at[i], (uint32_t)pids[i]);
		else if (v->diag)
			diag_log(v->diag, st, "%s: /vmcore.elf keeps the dump's NT_PRSTATUS pids (QEMU's: CPU + 1; Xen's: 0): %s",
				 v->path, st == DUMPFS_ERR_NOMEM ? "out of memory" : why);
		free(pids);
		v->pids_set = true;
	}
	pthread_mutex_unlock(&v->pid_lock);
}

enum dumpfs_status elf_view_new(struct elf_view **out, const struct elf_view_spec *sp)
{
	struct elf_view *v = calloc(1, sizeof(*v));
	struct endian e = sp->endian;
	const struct note_set *ns = sp->notes;
	const unsigned shift = sp->page_shift;

	*out = v;
	if (!v)
		return DUMPFS_ERR_NOMEM;
	v->space.ops = &elf_view_ops;
	v->mem = sp->mem;
	v->page_shift = shift;
	size_t nloads = sp->nruns + sp->text_load;
	uint64_t nphdrs = 1 + (uint64_t)nloads + sp->naliases + sp->nloads;
	bool xnum = nphdrs >= PN_XNUM;
	size_t nlen = notes_len(ns);
	uint64_t shoff = EHDR_SIZE + nphdrs * PHDR_SIZE;
	uint64_t notes_off = shoff + (xnum ? SHDR_SIZE : 0);

	v->header_len = notes_off + nlen;
	v->header = calloc(1, (size_t)v->header_len);
	v->chunks = calloc(nloads + sp->nloads ? nloads + sp->nloads : 1, sizeof(*v->chunks));
	if (!v->header || !v->chunks)
		return DUMPFS_ERR_NOMEM;

	uint8_t *h = v->header;
	put_ehdr(sp, h, nphdrs, xnum, shoff);
	uint8_t *ph = h + EHDR_SIZE;
	put_phdr(e, ph, 4, 0, notes_off, 0, 0, nlen, nlen);
	for (size_t i = 0, at = 0; i < ns->count; i++) {
		memcpy(h + notes_off + at, ns->list[i].raw, ns->list[i].rawsz);
		at += ns->list[i].rawsz;
	}
	if (sp->cpu_pids_from && ns->nprstatus && !pid_fields(v, sp, notes_off))
		return DUMPFS_ERR_NOMEM;

	/* Page-align the data, as /proc/vmcore does for mmap: then each page
	 * of the file is one physical page, and a damaged page costs one page
	 * of /vmcore.elf, not two. */
	const uint64_t ps = 1ull << shift;
	uint64_t off = (v->header_len + ps - 1) & ~(ps - 1);
	uint64_t text_data_pages = 0;
	size_t c = 0;
	if (sp->text_load) {
		text_data_pages = count_data_pages(sp->mem, shift, sp->text_paddr >> shift,
						   (sp->text_paddr + sp->text_len + ps - 1) >> shift);
		v->chunks[c++] = (struct elf_chunk){ off, sp->text_paddr, sp->text_len };
		put_phdr(e, ph + PHDR_SIZE, 1, 7, off, sp->text_vaddr, sp->text_paddr,
			 sp->text_len, sp->text_len);
		off += sp->text_len;
	}
	for (size_t i = 0; i < sp->nruns; i++, c++) {
		uint64_t addr = sp->runs[i].start << shift;
		uint64_t len = sp->runs[i].count << shift;
		v->chunks[c] = (struct elf_chunk){ off, addr, len };
		put_phdr(e, ph + (1 + c) * PHDR_SIZE, 1, 7, off,
			 sp->run_vaddr ? sp->run_vaddr[i] : 0, sp->run_paddr ? sp->run_paddr[i] : addr, len, len);
		off += len;
	}
	/* A process core's loads: a chunk for those with bytes in the file. */
	for (size_t i = 0; i < sp->nloads; i++) {
		const struct elf_load *l = &sp->loads[i];
		put_phdr(e, ph + (1 + nloads + sp->naliases + i) * PHDR_SIZE, 1, l->flags, off, l->vaddr,
			 0, l->filesz, l->memsz);
		if (l->filesz) {
			v->chunks[c++] = (struct elf_chunk){ off, l->mem_off, l->filesz };
			off += l->filesz;
		}
	}
	v->nchunks = c;
	v->space.size = off;
	/* Aliases: file bytes of the RAM run that holds them. */
	for (size_t i = 0; i < sp->naliases; i++) {
		const struct elf_alias *a = &sp->aliases[i];
		const struct elf_chunk *rc = &v->chunks[sp->text_load + a->run];
		put_phdr(e, ph + (1 + nloads + i) * PHDR_SIZE, 1, 7, rc->offset + (a->paddr - rc->addr),
			 a->vaddr, sp->run_paddr ? sp->run_paddr[a->run] + (a->paddr - rc->addr) : a->paddr,
			 a->len, a->len);
	}
	/* Bytes of data, not holes: the headers and the data pages, those of
	 * the kernel-text mapping counted twice as the file holds them twice. */
	v->space.stored = c ? v->chunks[0].offset + sp->mem->stored + (text_data_pages << shift)
			    : v->space.size;
	return DUMPFS_OK;
}

struct space *elf_view_space(struct elf_view *v)
{
	return &v->space;
}

void elf_view_free(struct elf_view *v)
{
	if (!v)
		return;
	free(v->header);
	free(v->chunks);
	if (v->pid_at) {
		pthread_mutex_destroy(&v->pid_lock);
		free(v->pid_at);
	}
	free(v);
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

static ssize_t elf_view_read(struct space *s, void *buf, size_t len, uint64_t off)
{
	struct elf_view *v = view_of(s);
	if (v->pid_machine && !v->pids_set && off < v->header_len)
		set_pids(v);
	uint8_t *out = buf;
	size_t done = 0;

	uint64_t data_start = v->nchunks ? v->chunks[0].offset : s->size;
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
		ssize_t got = space_read(v->mem, out + done, n, c->addr + at);
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
 * are data or hole as their pages are in the memory space, so that a sparse
 * copy (`cp`, `tar -S`, `rsync -S`) of a mostly excluded dump stays small.
 */
static uint64_t elf_view_next(struct space *s, uint64_t off, bool data)
{
	const struct elf_view *v = view_of(s);
	const unsigned shift = v->page_shift;
	uint64_t data_start = v->nchunks ? v->chunks[0].offset : s->size;

	if (off < data_start) {
		if (data)
			return off;
		off = data_start;
	}
	for (size_t i = chunk_at(v, off); i < v->nchunks; i++) {
		const struct elf_chunk *c = &v->chunks[i];
		uint64_t from = off > c->offset ? c->addr + (off - c->offset) : c->addr;
		uint64_t last = (c->addr + c->len - 1) >> shift;
		uint64_t found = space_next(v->mem, from, data) >> shift;
		if (found > last)
			continue;
		uint64_t at = found << shift;
		uint64_t o = at > c->addr ? c->offset + (at - c->addr) : c->offset;
		return o > off ? o : off;
	}
	return s->size;
}

static const struct space_ops elf_view_ops = {
	.read = elf_view_read,
	.next = elf_view_next,
};
