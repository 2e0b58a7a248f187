/*
 * exesyms.c - dynamic symbols of the program a process core ran, read
 * from its executable on this machine (libelf), and used only if that
 * file is the build that ran: its GNU build ID must equal the one in the
 * ELF header page the core keeps of the program's first mapping (the
 * kernel's coredump_filter bit 4 and gdb's gcore both keep it).
 *
 * A symbol's run-time address is its st_value plus the load bias: where
 * the mapping of file offset 0 starts, less the page of the PT_LOAD that
 * maps offset 0.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/format.h"

#define HEADER_PAGE 4096
#define BUILD_ID_MAX 64

/* The GNU build ID among the notes of @p (@len bytes); 0 if none. */
static size_t build_id_in_notes(struct endian e, const uint8_t *p, size_t len, uint8_t *id)
{
	size_t off = 0;
	while (len - off >= 12) {
		uint32_t namesz = get32(e, p + off), descsz = get32(e, p + off + 4), type = get32(e, p + off + 8);
		size_t name_at = off + 12, desc_at = name_at + ((namesz + 3ull) & ~3ull);
		if (namesz > len || descsz > len || desc_at + descsz > len)
			return 0;
		if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(p + name_at, "GNU", 4) &&
		    descsz && descsz <= BUILD_ID_MAX) {
			memcpy(id, p + desc_at, descsz);
			return descsz;
		}
		off = desc_at + ((descsz + 3ull) & ~3ull);
	}
	return 0;
}

/* The build ID in the ELF header page the core kept at @exe; 0 if the
 * page is not in the core or names none within it. */
static size_t build_id_in_core(const struct process_core *pc, const struct source *core,
			       const struct host_map *exe, uint8_t *id)
{
	static const struct endian le = { false };
	uint8_t page[HEADER_PAGE];
	if (!pcore_read(pc, core, page, sizeof(page), exe->start) || memcmp(page, ELFMAG, SELFMAG) ||
	    page[EI_CLASS] != ELFCLASS64 || page[EI_DATA] != ELFDATA2LSB)
		return 0;
	uint64_t phoff = get64(le, page + 32);
	unsigned phentsize = get16(le, page + 54), phnum = get16(le, page + 56);
	if (phentsize != 56 || phoff > HEADER_PAGE || phnum > (HEADER_PAGE - phoff) / 56)
		return 0;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = page + phoff + i * 56ull;
		uint64_t off = get64(le, ph + 8), filesz = get64(le, ph + 32);
		if (get32(le, ph) != PT_NOTE || off > HEADER_PAGE || filesz > HEADER_PAGE - off)
			continue;
		size_t n = build_id_in_notes(le, page + off, (size_t)filesz, id);
		if (n)
			return n;
	}
	return 0;
}

size_t elf_build_id(Elf *elf, uint8_t *id, size_t max)
{
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE || !(d = elf_getdata(scn, NULL)))
			continue;
		GElf_Nhdr nh;
		size_t off = 0, name_at, desc_at;
		while ((off = gelf_getnote(d, off, &nh, &name_at, &desc_at)) > 0)
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((const char *)d->d_buf + name_at, "GNU", 4) && nh.n_descsz &&
			    nh.n_descsz <= max) {
				memcpy(id, (const uint8_t *)d->d_buf + desc_at, nh.n_descsz);
				return nh.n_descsz;
			}
	}
	return 0;
}

/* Run-time address minus link-time address. */
static bool load_bias(Elf *elf, const struct host_map *exe, uint64_t *bias)
{
	size_t n;
	if (elf_getphdrnum(elf, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_offset == 0) {
			*bias = exe->start - (ph.p_vaddr & ~(uint64_t)(HEADER_PAGE - 1));
			return true;
		}
	}
	return false;
}

static void find_dynamic(Elf *elf, uint64_t bias, struct exe_symbol *syms, size_t nsyms)
{
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		GElf_Shdr sh;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *name;
			if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF ||
			    !(name = elf_strptr(elf, sh.sh_link, s.st_name)))
				continue;
			for (size_t k = 0; k < nsyms; k++)
				if (!syms[k].found && !strcmp(name, syms[k].name)) {
					syms[k].addr = s.st_value + bias;
					syms[k].found = true;
				}
		}
	}
}

bool exe_symbols(const struct process_core *pc, const struct source *core, const struct host_map *exe,
		 struct exe_symbol *syms, size_t nsyms, char *why, size_t whylen)
{
	uint8_t want[BUILD_ID_MAX], have[BUILD_ID_MAX];
	size_t nwant = build_id_in_core(pc, core, exe, want);
	if (!nwant) {
		snprintf(why, whylen, "the core keeps no build ID of %s", exe->file);
		return false;
	}
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(why, whylen, "libelf: %s", elf_errmsg(-1));
		return false;
	}
	/* the core names the path: never block on, or read, a non-file */
	struct stat st;
	int fd = open(exe->file, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s: %s", exe->file, fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		return false;
	}
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	uint64_t bias = 0;
	bool ok = false;
	if (!elf || elf_kind(elf) != ELF_K_ELF)
		snprintf(why, whylen, "%s: not an ELF file", exe->file);
	else if (elf_build_id(elf, have, sizeof(have)) != nwant || memcmp(want, have, nwant))
		snprintf(why, whylen, "%s on this machine is not the build the process ran (build IDs differ)",
			 exe->file);
	else if (!load_bias(elf, exe, &bias))
		snprintf(why, whylen, "%s: no PT_LOAD maps its offset 0", exe->file);
	else {
		find_dynamic(elf, bias, syms, nsyms);
		ok = true;
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return ok;
}
