/*
 * elfcheck - re-parse a /vmcore.elf with libelf (an independent ELF reader)
 * and check it against the memory it should hold.
 *
 * usage: elfcheck VMCORE.ELF EXPECTED.mem EXPECTED.eio PAGE_SIZE NR_CPUS [VMCOREINFO]
 *
 * Checks: ET_CORE; program header 0 is the only PT_NOTE, its notes hold
 * NR_CPUS NT_PRSTATUS and VMCOREINFO equal to the expected text; all
 * headers and notes come before the first PT_LOAD byte; every PT_LOAD byte
 * equals the expected memory at p_paddr (EIO only on listed pages); every
 * page with non-zero expected content is covered by some PT_LOAD.
 *
 * ELFCHECK_MACHINE_MAP=FILE: p_paddr are machine addresses (a Xen PV
 * guest's /vmcore.elf), FILE mkdump's OUT.xen_p2m ("index pfn gmfn page"
 * lines): each PT_LOAD page is checked at the pfn of its machine frame,
 * and a machine frame FILE does not name is a failure.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "map_file.h"

static int failf(const char *msg, unsigned long long a, unsigned long long b)
{
	printf("FAIL: ");
	printf(msg, a, b);
	printf("\n");
	exit(1);
}

struct frame { unsigned long long mfn, pfn; };

static int cmp_frame(const void *a, const void *b)
{
	const struct frame *x = a, *y = b;
	return x->mfn < y->mfn ? -1 : x->mfn > y->mfn;
}

/* mkdump's machine map, sorted by frame; NULL without one. */
static struct frame *load_machine_map(const char *path, size_t *n)
{
	struct frame *m = NULL;
	size_t cap = 0;
	char kind[16];
	unsigned long long idx, pfn, mfn;
	FILE *f = path ? fopen(path, "r") : NULL;
	*n = 0;
	if (path && !f)
		failf("cannot open the machine map (%llu %llu)", 0, 0);
	while (f && fscanf(f, "%llu %llx %llx %15s", &idx, &pfn, &mfn, kind) == 4) {
		if (strcmp(kind, "page"))
			continue;
		if (*n == cap && !(m = realloc(m, (cap = cap ? cap * 2 : 1024) * sizeof(*m))))
			failf("out of memory (%llu %llu)", 0, 0);
		m[(*n)++] = (struct frame){ mfn, pfn };
	}
	if (f)
		fclose(f);
	if (m)
		qsort(m, *n, sizeof(*m), cmp_frame);
	return m;
}

/* The pseudo-physical address of machine address @paddr. */
static uint64_t pseudo_physical(const struct frame *m, size_t n, uint64_t paddr, size_t page)
{
	struct frame key = { paddr / page, 0 };
	const struct frame *f = bsearch(&key, m, n, sizeof(*m), cmp_frame);
	if (!f)
		failf("PT_LOAD machine address %#llx is no frame of the guest's (%llu)", paddr, 0);
	return f->pfn * page + paddr % page;
}

static bool *load_eio(const char *path, size_t npages)
{
	bool *eio = calloc(npages + 1, 1);
	FILE *f = fopen(path, "r");
	unsigned long long pfn;
	while (f && fscanf(f, "%llu", &pfn) == 1)
		if (pfn < npages)
			eio[pfn] = true;
	if (f)
		fclose(f);
	return eio;
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: elfcheck VMCORE.ELF MEM EIO PAGE_SIZE NR_CPUS [VMCOREINFO]\n");
		return 2;
	}
	size_t memlen, vilen = 0;
	uint8_t *mem = map_file(argv[2], &memlen);
	size_t page = strtoul(argv[4], NULL, 0), ncpus = strtoul(argv[5], NULL, 0);
	size_t npages = memlen / page;
	bool *eio = load_eio(argv[3], npages), *covered = calloc(npages + 1, 1);
	uint8_t *vmcoreinfo = argc > 6 ? map_file(argv[6], &vilen) : NULL;
	uint8_t *buf = malloc(page);
	size_t nframes;
	struct frame *frames = load_machine_map(getenv("ELFCHECK_MACHINE_MAP"), &nframes);

	elf_version(EV_CURRENT);
	int fd = open(argv[1], O_RDONLY);
	Elf *e = fd < 0 ? NULL : elf_begin(fd, ELF_C_READ, NULL);
	GElf_Ehdr eh;
	size_t phnum;
	if (!e || !gelf_getehdr(e, &eh) || elf_getphdrnum(e, &phnum) != 0)
		failf("libelf cannot parse the file (%llu %llu)", 0, 0);
	/* An ELF input is served as it is: only the synthesized file must
	 * follow our layout rules. */
	bool strict = !getenv("ELFCHECK_PASSTHROUGH");
	if (eh.e_type != ET_CORE || (strict && eh.e_ident[EI_CLASS] != ELFCLASS64))
		failf("not an ELF64 core: type %llu class %llu", eh.e_type, eh.e_ident[EI_CLASS]);

	uint64_t first_data = UINT64_MAX, notes_end = 0;
	size_t nprstatus = 0, nnotes = 0;
	bool vmcoreinfo_ok = vmcoreinfo == NULL;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph))
			failf("cannot read program header %llu (%llu)", i, 0);
		if (ph.p_type == PT_NOTE) {
			if (strict && (i != 0 || ++nnotes > 1))
				failf("PT_NOTE at index %llu (want one, at 0; count %llu)", i, nnotes);
			Elf_Data *d = elf_getdata_rawchunk(e, (off_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR);
			if (!d)
				failf("cannot read the notes at %llu (%llu bytes)", ph.p_offset, ph.p_filesz);
			GElf_Nhdr nh;
			size_t off = 0, name_off, desc_off;
			if (notes_end < ph.p_offset + ph.p_filesz)
				notes_end = ph.p_offset + ph.p_filesz;
			while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
				const char *name = (const char *)d->d_buf + name_off;
				if (nh.n_type == NT_PRSTATUS && !strcmp(name, "CORE"))
					nprstatus++;
				if (!strcmp(name, "VMCOREINFO") && vmcoreinfo)
					vmcoreinfo_ok = nh.n_descsz >= vilen &&
						!memcmp((char *)d->d_buf + desc_off, vmcoreinfo, vilen);
			}
		}
		if (ph.p_type != PT_LOAD)
			continue;
		if (strict && ph.p_align != 0)
			failf("PT_LOAD %llu has p_align %llu, want 0", i, ph.p_align);
		if (ph.p_offset < first_data)
			first_data = ph.p_offset;
		for (uint64_t a = 0; a < ph.p_filesz; a += page) {
			uint64_t paddr = ph.p_paddr + a;
			if (frames)
				paddr = pseudo_physical(frames, nframes, paddr, page);
			uint64_t pfn = paddr / page;
			size_t n = ph.p_filesz - a < page ? ph.p_filesz - a : page;
			if (paddr + n > memlen)
				failf("PT_LOAD data at paddr %#llx is beyond memory (%llu)", paddr, memlen);
			ssize_t got = pread(fd, buf, n, (off_t)(ph.p_offset + a));
			/* A damaged page fails; a truncated input ELF just ends. */
			if (((got < 0 && errno == EIO) || got == 0) && eio[pfn])
				continue;
			if (got != (ssize_t)n)
				failf("short read or error at paddr %#llx (%llu)", paddr, (unsigned long long)got);
			if (eio[pfn])
				failf("paddr %#llx read fine, expected EIO (%llu)", paddr, 0);
			if (memcmp(buf, mem + paddr, n))
				failf("PT_LOAD data differs at paddr %#llx (offset %llu)", paddr, ph.p_offset + a);
			covered[pfn] = true;
		}
	}
	if (nprstatus != ncpus)
		failf("%llu NT_PRSTATUS notes, expected %llu", nprstatus, ncpus);
	if (!vmcoreinfo_ok)
		failf("VMCOREINFO note missing or different (%llu bytes expected) %llu", vilen, 0);
	if (strict && first_data < notes_end)
		failf("PT_LOAD data at %llu starts before the notes end (%llu)", first_data, notes_end);
	for (size_t pfn = 0; pfn < npages; pfn++) {
		if (covered[pfn] || eio[pfn])
			continue;
		for (size_t j = 0; j < page; j++)
			if (mem[pfn * page + j])
				failf("pfn %#llx has data but no PT_LOAD covers it (%llu)", pfn, 0);
	}
	printf("ok: %zu program headers, %zu CPUs\n", phnum, nprstatus);
	elf_end(e);
	close(fd);
	free(buf);
	free(covered);
	free(eio);
	free(frames);
	return 0;
}
