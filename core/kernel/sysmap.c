/*
 * sysmap.c - the kernel's symbols from a System.map the user gives
 * (-o system_map=FILE), for kernels whose VMCOREINFO names no kallsyms
 * tables (before 6.0) or whose kallsyms lists text symbols only (no
 * CONFIG_KALLSYMS_ALL: Debian's arm64, ppc64el and s390x): init_task,
 * which /tasks starts from, is a data symbol.
 *
 * A System.map holds link-time addresses: with KASLR the kernel runs
 * elsewhere, by the distance between its _stext and VMCOREINFO's (or
 * KERNELOFFSET), which every symbol but the absolute ones (types A, a)
 * moves by, as crash applies it.  The map must then agree with every
 * symbol VMCOREINFO names that it holds, or it is some other kernel's.
 *
 * Bounded: 64 MiB of file, 2^22 symbols, 1024 bytes a line.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kernel/kernel.h"

#define MAX_FILE (64u << 20)
#define MAX_SYMS (1u << 22)
#define MAX_LINE 1024

static bool parse_line(const char *line, uint64_t *addr, char *type, const char **name, size_t *namelen)
{
	char *end;
	*addr = strtoull(line, &end, 16);
	if (end == line || *end != ' ' || !end[1] || end[2] != ' ')
		return false;
	*type = end[1];
	*name = end + 3;
	*namelen = strcspn(*name, " \t\r\n");
	return *namelen > 0;
}

bool symtab_add(struct kallsyms *ks, struct symtab_cap *cap, uint64_t addr, char type,
		const char *name, size_t len)
{
	if (ks->count == MAX_SYMS)
		return false;
	if (ks->count == cap->syms) {
		size_t n = cap->syms ? cap->syms * 2 : 4096;
		uint64_t *a = realloc(ks->addr, n * sizeof(*a));
		if (a)
			ks->addr = a;
		uint32_t *o = a ? realloc(ks->name, n * sizeof(*o)) : NULL;
		if (!o)
			return false;
		ks->name = o;
		cap->syms = n;
	}
	if (cap->used + len + 2 > cap->bytes) {
		size_t n = cap->bytes ? cap->bytes * 2 : 1 << 20;
		char *b = realloc(ks->names, n);
		if (!b)
			return false;
		ks->names = b;
		cap->bytes = n;
	}
	ks->addr[ks->count] = addr;
	ks->name[ks->count] = (uint32_t)cap->used;
	ks->names[cap->used++] = type;
	memcpy(ks->names + cap->used, name, len);
	cap->used += len;
	ks->names[cap->used++] = '\0';
	ks->count++;
	return true;
}

/* Read the map into @ks, link-time addresses. */
static bool read_map(const char *path, struct kallsyms *ks, char *why, size_t whylen)
{
	struct stat st;
	FILE *f = fopen(path, "r");
	char line[MAX_LINE + 2];
	struct symtab_cap cap = {0};
	if (!f || fstat(fileno(f), &st) || st.st_size > MAX_FILE) {
		snprintf(why, whylen, "System.map %s: %s", path, !f ? "cannot be opened" : "larger than 64 MiB");
		if (f)
			fclose(f);
		return false;
	}
	bool ok = true;
	while (ok && fgets(line, sizeof(line), f)) {
		uint64_t addr;
		char type;
		const char *name;
		size_t len;
		if (!parse_line(line, &addr, &type, &name, &len))
			continue;       /* not a symbol line */
		if (!symtab_add(ks, &cap, addr, type, name, len)) {
			snprintf(why, whylen, "System.map %s: %s", path,
				 ks->count == MAX_SYMS ? "more than 2^22 symbols" : "out of memory");
			ok = false;
		}
	}
	fclose(f);
	if (ok && !ks->count) {
		snprintf(why, whylen, "System.map %s holds no symbol", path);
		ok = false;
	}
	return ok;
}

void symtab_free(struct kallsyms *ks)
{
	free(ks->addr);
	free(ks->name);
	free(ks->names);
	*ks = (struct kallsyms){0};
}

static const char *name_of(const struct kallsyms *ks, size_t i)
{
	return ks->names + ks->name[i] + 1;
}

enum dumpfs_status symbols_place(const struct machine *m, struct kallsyms *ks, const char *kind,
				 const char *path, char *why, size_t whylen)
{
	uint64_t want, stext = 0, delta = 0;
	for (size_t i = 0; i < ks->count && !stext; i++)
		if (!strcmp(name_of(ks, i), "_stext"))
			stext = ks->addr[i];
	if (stext && vmcoreinfo_u64(m->notes, "SYMBOL(_stext)", 16, &want))
		delta = want - stext;
	else if (vmcoreinfo_u64(m->notes, "KERNELOFFSET", 16, &want))
		delta = want;
	for (size_t i = 0; i < ks->count; i++) {
		char type = ks->names[ks->name[i]];
		if (type != 'A' && type != 'a')
			ks->addr[i] += delta;
	}
	/* every symbol VMCOREINFO names and the map holds must agree */
	static const char *const anchors[] = { "_stext", "init_uts_ns", "swapper_pg_dir", "node_online_map",
		"prb", "log_buf", "init_top_pgt" };
	ks->anchors = 0;
	for (size_t a = 0; a < sizeof(anchors) / sizeof(anchors[0]); a++) {
		char key[64];
		snprintf(key, sizeof(key), "SYMBOL(%s)", anchors[a]);
		if (!vmcoreinfo_u64(m->notes, key, 16, &want))
			continue;
		for (size_t i = 0; i < ks->count; i++) {
			if (strcmp(name_of(ks, i), anchors[a]))
				continue;
			if (ks->addr[i] != want) {
				snprintf(why, whylen, "%s %s is not of this kernel: %s at %#" PRIx64
					 ", VMCOREINFO says %#" PRIx64, kind, path, anchors[a], ks->addr[i], want);
				symtab_free(ks);
				return DUMPFS_ERR_CORRUPT;
			}
			ks->anchors++;
			break;
		}
	}
	if (!ks->anchors && m->notes->vmcoreinfo) {
		snprintf(why, whylen, "%s %s holds none of the symbols VMCOREINFO names", kind, path);
		symtab_free(ks);
		return DUMPFS_ERR_CORRUPT;
	}
	ks->encoding = kind;
	return DUMPFS_OK;
}

enum dumpfs_status sysmap_load(const struct machine *m, const char *path, struct kallsyms *ks,
			       char *why, size_t whylen)
{
	*ks = (struct kallsyms){0};
	if (!read_map(path, ks, why, whylen)) {
		symtab_free(ks);
		return DUMPFS_ERR_UNSUPPORTED;
	}
	return symbols_place(m, ks, "System.map", path, why, whylen);
}
