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

/* Read the map into @ks, link-time addresses. */
static bool read_map(const char *path, struct kallsyms *ks, char *why, size_t whylen)
{
	struct stat st;
	FILE *f = fopen(path, "r");
	char line[MAX_LINE + 2];
	size_t cap = 0, at = 0, ncap = 0;
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
		if (ks->count == MAX_SYMS) {
			snprintf(why, whylen, "System.map %s: more than %u symbols", path, MAX_SYMS);
			ok = false;
			break;
		}
		if (ks->count == cap) {
			cap = cap ? cap * 2 : 4096;
			uint64_t *a = realloc(ks->addr, cap * sizeof(*a));
			uint32_t *n = a ? realloc(ks->name, cap * sizeof(*n)) : NULL;
			if (a)
				ks->addr = a;
			if (n)
				ks->name = n;
			ok = a && n;
		}
		if (ok && at + len + 2 > ncap) {
			ncap = ncap ? ncap * 2 : 1 << 20;
			char *b = realloc(ks->names, ncap);
			ok = b != NULL;
			if (b)
				ks->names = b;
		}
		if (!ok) {
			snprintf(why, whylen, "out of memory reading System.map %s", path);
			break;
		}
		ks->addr[ks->count] = addr;
		ks->name[ks->count] = (uint32_t)at;
		ks->names[at++] = type;
		memcpy(ks->names + at, name, len);
		at += len;
		ks->names[at++] = '\0';
		ks->count++;
	}
	fclose(f);
	if (ok && !ks->count) {
		snprintf(why, whylen, "System.map %s holds no symbol", path);
		ok = false;
	}
	return ok;
}

/* kallsyms_free()'s work, here so that the two files do not call each
 * other (kallsyms_load() calls sysmap_load()). */
static void symbols_free(struct kallsyms *ks)
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

enum dumpfs_status sysmap_load(const struct machine *m, const char *path, struct kallsyms *ks,
			       char *why, size_t whylen)
{
	uint64_t want, stext = 0, delta = 0;
	*ks = (struct kallsyms){0};
	if (!read_map(path, ks, why, whylen)) {
		symbols_free(ks);
		return DUMPFS_ERR_UNSUPPORTED;
	}
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
				snprintf(why, whylen, "System.map %s is not of this kernel: %s at %#" PRIx64
					 ", VMCOREINFO says %#" PRIx64, path, anchors[a], ks->addr[i], want);
				symbols_free(ks);
				return DUMPFS_ERR_CORRUPT;
			}
			ks->anchors++;
			break;
		}
	}
	if (!ks->anchors && m->notes->vmcoreinfo) {
		snprintf(why, whylen, "System.map %s holds none of the symbols VMCOREINFO names", path);
		symbols_free(ks);
		return DUMPFS_ERR_CORRUPT;
	}
	ks->encoding = "System.map";
	return DUMPFS_OK;
}
