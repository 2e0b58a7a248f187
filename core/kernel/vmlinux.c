/*
 * vmlinux.c - the kernel's symbols and types from its vmlinux, the ELF
 * file the kernel build leaves and debug packages ship (-o vmlinux=FILE):
 * for kernels whose memory lacks them (no kallsyms in VMCOREINFO before
 * 6.0, text symbols only without CONFIG_KALLSYMS_ALL).  One file gives
 * what -o system_map= and -o btf= give separately.
 *
 * Whose file it is: its GNU build ID must be the one VMCOREINFO's
 * BUILD-ID gives (kernels since 5.9 write it), as crash refuses a vmlinux
 * that does not match.  Without a BUILD-ID line the symbols must agree
 * with those VMCOREINFO names, as a System.map's must.
 *
 * Symbols: .symtab with nm's type letters (told from the section a symbol
 * is in) and scripts/mksysmap's filter, so /kernel/symbols reads as the
 * System.map of the same build; moved by the KASLR offset.  Types: the
 * .BTF section, the blob the image holds in memory.
 *
 * libelf parses the file: it refuses sections past the end of the file;
 * counts and sizes are bounded here besides (2^22 symbols, 64 MiB BTF).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kernel/kernel.h"

#define BTF_MAX_SIZE (64u << 20)
#define MAX_NAME 512                    /* KSYM_NAME_LEN */
#define BUILD_ID_MAX 64                 /* bytes */

struct vmlinux {
	int fd;
	Elf *elf;
	size_t shstrndx;
};

static void vmlinux_close(struct vmlinux *v)
{
	if (v->elf)
		elf_end(v->elf);
	if (v->fd >= 0)
		close(v->fd);
}

static bool vmlinux_open(const char *path, struct vmlinux *v, char *why, size_t whylen)
{
	*v = (struct vmlinux){ .fd = -1 };
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(why, whylen, "vmlinux %s: libelf: %s", path, elf_errmsg(-1));
		return false;
	}
	v->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (v->fd < 0) {
		snprintf(why, whylen, "vmlinux %s: %s", path, strerror(errno));
		return false;
	}
	v->elf = elf_begin(v->fd, ELF_C_READ_MMAP, NULL);
	if (!v->elf || elf_kind(v->elf) != ELF_K_ELF || elf_getshdrstrndx(v->elf, &v->shstrndx)) {
		int err = elf_errno();
		snprintf(why, whylen, "vmlinux %s: not an ELF file with sections%s%s", path,
			 err ? ": " : "", err ? elf_errmsg(err) : "");
		vmlinux_close(v);
		return false;
	}
	return true;
}

/* The section called @name, with its data; NULL if there is none or
 * libelf cannot read it (past the end of the file). */
static Elf_Scn *section_named(struct vmlinux *v, const char *name, GElf_Shdr *sh, Elf_Data **data)
{
	for (Elf_Scn *scn = elf_nextscn(v->elf, NULL); scn; scn = elf_nextscn(v->elf, scn)) {
		const char *n;
		if (!gelf_getshdr(scn, sh) || !(n = elf_strptr(v->elf, v->shstrndx, sh->sh_name)) || strcmp(n, name))
			continue;
		*data = elf_getdata(scn, NULL);
		return *data ? scn : NULL;
	}
	return NULL;
}

/* The GNU build ID as lowercase hex; false if the file has none. */
static bool build_id(struct vmlinux *v, char *hex, size_t hexlen)
{
	uint8_t id[BUILD_ID_MAX];
	size_t n = elf_build_id(v->elf, id, sizeof(id));
	if (!n || hexlen < 2 * n + 1)
		return false;
	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	return true;
}

enum dumpfs_status vmlinux_check(const struct machine *m, const char *path, char *why, size_t whylen)
{
	struct vmlinux v;
	char mine[2 * BUILD_ID_MAX + 1], want[2 * BUILD_ID_MAX + 1];
	if (!vmlinux_open(path, &v, why, whylen))
		return DUMPFS_ERR_UNSUPPORTED;
	bool have = build_id(&v, mine, sizeof(mine));
	vmlinux_close(&v);
	if (!vmcoreinfo_get(m->notes, "BUILD-ID", want, sizeof(want))) {
		snprintf(why, whylen, "vmlinux %s: VMCOREINFO has no BUILD-ID to check it by "
			 "(its symbols are checked when read)", path);
		return DUMPFS_OK;
	}
	if (!have) {
		snprintf(why, whylen, "vmlinux %s has no GNU build ID to check against VMCOREINFO's %s", path, want);
		return DUMPFS_ERR_CORRUPT;
	}
	for (char *c = want; *c; c++)
		*c = (char)(*c >= 'A' && *c <= 'F' ? *c - 'A' + 'a' : *c);
	if (strcmp(mine, want)) {
		snprintf(why, whylen, "vmlinux %s is not the dumped kernel's: its build ID is %s, "
			 "VMCOREINFO's BUILD-ID %s", path, mine, want);
		return DUMPFS_ERR_CORRUPT;
	}
	snprintf(why, whylen, "vmlinux %s: build ID %s as VMCOREINFO's", path, mine);
	return DUMPFS_OK;
}

/* nm's letter for a symbol (0: one nm does not list, or mksysmap drops). */
static char nm_type(struct vmlinux *v, const GElf_Sym *s, Elf32_Word xndx)
{
	unsigned bind = GELF_ST_BIND(s->st_info), type = GELF_ST_TYPE(s->st_info);
	size_t ndx = s->st_shndx == SHN_XINDEX ? xndx : s->st_shndx;
	char c;
	if (type == STT_SECTION || type == STT_FILE || s->st_shndx == SHN_UNDEF)
		return 0;
	if (s->st_shndx == SHN_ABS) {
		c = 'a';
	} else {
		GElf_Shdr sh;
		Elf_Scn *scn = elf_getscn(v->elf, ndx);
		const char *sname;
		if (!scn || !gelf_getshdr(scn, &sh))
			return 0;
		if (!(sh.sh_flags & SHF_ALLOC)) {
			/* bfd: debugging sections 'N' (mksysmap drops them),
			 * read-only contents 'n', anything else '?' (ppc64's
			 * empty .data_nosave) */
			sname = elf_strptr(v->elf, v->shstrndx, sh.sh_name);
			if (!sname || !strncmp(sname, ".debug", 6))
				return 0;
			return sh.sh_size && !(sh.sh_flags & SHF_WRITE) ? 'n' : '?';
		}
		if (sh.sh_flags & SHF_EXECINSTR)
			c = 't';
		else if (sh.sh_type == SHT_NOBITS)
			c = 'b';
		else if (sh.sh_flags & SHF_WRITE)
			c = 'd';
		else
			c = 'r';
	}
	if (bind == STB_WEAK)
		return type == STT_OBJECT ? 'V' : 'W';
	if (bind == STB_LOCAL)
		return c == 'a' ? 0 : c;        /* mksysmap drops local absolutes */
	return (char)(c - 'a' + 'A');
}

/* scripts/mksysmap: no __crc_ (modversions), export strings, ARM mapping
 * symbols, or local labels. */
static bool mksysmap_drops(const char *name)
{
	return !strncmp(name, "__crc_", 6) || !strncmp(name, "__kstrtab_", 10) ||
	       !strncmp(name, "__kstrtabns_", 12) || name[0] == '$' || !strncmp(name, ".L", 2) ||
	       !strcmp(name, "L0");
}

static bool read_symtab(struct vmlinux *v, const char *path, struct kallsyms *ks, char *why, size_t whylen)
{
	struct symtab_cap cap = {0};
	Elf_Scn *scn = NULL, *xscn = NULL;
	GElf_Shdr sh;
	for (Elf_Scn *s = elf_nextscn(v->elf, NULL); s; s = elf_nextscn(v->elf, s)) {
		GElf_Shdr h;
		if (gelf_getshdr(s, &h) && h.sh_type == SHT_SYMTAB)
			scn = s;
		else if (gelf_getshdr(s, &h) && h.sh_type == SHT_SYMTAB_SHNDX)
			xscn = s;
	}
	if (!scn) {
		snprintf(why, whylen, "vmlinux %s has no symbol table (.symtab): a stripped file", path);
		return false;
	}
	Elf_Data *d = gelf_getshdr(scn, &sh) && sh.sh_entsize ? elf_getdata(scn, NULL) : NULL;
	Elf_Data *xd = xscn ? elf_getdata(xscn, NULL) : NULL;
	if (!d || (xscn && !xd)) {
		snprintf(why, whylen, "vmlinux %s: its symbol table cannot be read (%s)", path,
			 elf_errmsg(-1));
		return false;
	}
	size_t n = sh.sh_size / sh.sh_entsize;
	for (size_t i = 1; i < n; i++) {
		GElf_Sym s;
		Elf32_Word xndx = 0;
		const char *name;
		if (!gelf_getsymshndx(d, xd, (int)i, &s, &xndx) ||
		    !(name = elf_strptr(v->elf, sh.sh_link, s.st_name)) || !name[0] || mksysmap_drops(name))
			continue;
		char type = nm_type(v, &s, xndx);
		size_t len = strnlen(name, MAX_NAME + 1);
		if (!type || len > MAX_NAME)
			continue;
		if (!symtab_add(ks, &cap, s.st_value, type, name, len)) {
			snprintf(why, whylen, "vmlinux %s: %s", path,
				 ks->count ? "more than 2^22 symbols, or out of memory" : "out of memory");
			return false;
		}
	}
	if (!ks->count) {
		snprintf(why, whylen, "vmlinux %s: its symbol table holds no kernel symbol", path);
		return false;
	}
	return true;
}

enum dumpfs_status vmlinux_symbols(const struct machine *m, const char *path, struct kallsyms *ks,
				   char *why, size_t whylen)
{
	struct vmlinux v;
	*ks = (struct kallsyms){0};
	if (!vmlinux_open(path, &v, why, whylen))
		return DUMPFS_ERR_UNSUPPORTED;
	bool ok = read_symtab(&v, path, ks, why, whylen);
	vmlinux_close(&v);
	if (!ok) {
		symtab_free(ks);
		return DUMPFS_ERR_UNSUPPORTED;
	}
	return symbols_place(m, ks, "vmlinux", path, why, whylen);
}

enum dumpfs_status vmlinux_btf(const char *path, struct strbuf *sb, char *why, size_t whylen)
{
	struct vmlinux v;
	GElf_Shdr sh;
	Elf_Data *d;
	if (!vmlinux_open(path, &v, why, whylen))
		return DUMPFS_ERR_UNSUPPORTED;
	enum dumpfs_status st = DUMPFS_OK;
	if (!section_named(&v, ".BTF", &sh, &d) || sh.sh_type != SHT_PROGBITS || !d->d_buf) {
		snprintf(why, whylen, "vmlinux %s has no .BTF section", path);
		st = DUMPFS_ERR_UNSUPPORTED;
	} else if (d->d_size > BTF_MAX_SIZE) {
		snprintf(why, whylen, "vmlinux %s: its .BTF section is larger than 64 MiB", path);
		st = DUMPFS_ERR_CORRUPT;
	} else {
		sb_append(sb, d->d_buf, d->d_size);
		snprintf(why, whylen, "BTF from vmlinux %s (%zu bytes)", path, d->d_size);
	}
	vmlinux_close(&v);
	return st == DUMPFS_OK && sb->failed ? DUMPFS_ERR_NOMEM : st;
}
