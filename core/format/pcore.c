/*
 * pcore.c - an ELF core of a user process (gdb's gcore, or the kernel's
 * core dump), as the host side of a QEMU process core: its mappings
 * (PT_LOADs by virtual address, named from NT_FILE), its own notes, who
 * it was (NT_PRPSINFO), and reads of its memory at virtual addresses.
 *
 * A mapping's bytes are where its PT_LOAD says, up to p_filesz; the rest
 * (the kernel writes nothing for a file mapping nobody changed) cannot be
 * read.  Everything here is bounded by the file: NT_FILE's count by its
 * note's size, names by the note's end.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "format/format.h"

#define NT_PRPSINFO 3
#define NT_FILE 0x46494c45u             /* "FILE" */
/* struct elf_prpsinfo of 64-bit Linux: pid, then the command's name and
 * the first 80 bytes of its arguments. */
#define PRPSINFO64_SIZE 136
#define PRPSINFO64_PID 24
#define PRPSINFO64_FNAME 40
#define PRPSINFO64_PSARGS 56

bool pcore_is_process_core(const struct note_set *ns)
{
	for (size_t i = 0; i < ns->count; i++)
		if (!strcmp(ns->list[i].name, "CORE") && ns->list[i].type == NT_PRPSINFO)
			return true;
	return false;
}

static int cmp_map(const void *a, const void *b)
{
	const struct host_map *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Copy printable text of at most @n bytes at @p into @out (NUL-ended). */
static void copy_text(char *out, size_t outlen, const uint8_t *p, size_t n)
{
	size_t j = 0;
	for (size_t i = 0; i < n && p[i] && j + 1 < outlen; i++)
		out[j++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	out[j] = '\0';
}

static void read_prpsinfo(struct process_core *pc, struct endian e)
{
	for (size_t i = 0; i < pc->notes.count; i++) {
		const struct note *n = &pc->notes.list[i];
		if (strcmp(n->name, "CORE") || n->type != NT_PRPSINFO || n->descsz < PRPSINFO64_SIZE)
			continue;
		pc->pid = get32(e, n->desc + PRPSINFO64_PID);
		copy_text(pc->fname, sizeof(pc->fname), n->desc + PRPSINFO64_FNAME, 16);
		copy_text(pc->psargs, sizeof(pc->psargs), n->desc + PRPSINFO64_PSARGS, 80);
		return;
	}
}

/* Name the mappings NT_FILE lists: (start, end, page offset) triples, then
 * as many NUL-ended names.  A note that does not add up names nothing. */
static void read_nt_file(struct process_core *pc, struct endian e)
{
	for (size_t i = 0; i < pc->notes.count; i++) {
		const struct note *n = &pc->notes.list[i];
		if (strcmp(n->name, "CORE") || n->type != NT_FILE || n->descsz < 16)
			continue;
		uint64_t count = get64(e, n->desc), page = get64(e, n->desc + 8);
		if (count > (n->descsz - 16) / 24 || page == 0 || page > (1u << 20))
			return;
		const char *name = (const char *)n->desc + 16 + count * 24;
		const char *end = (const char *)n->desc + n->descsz;
		for (uint64_t k = 0; k < count && name < end; k++) {
			const uint8_t *t = n->desc + 16 + k * 24;
			size_t len = strnlen(name, (size_t)(end - name));
			if (name + len == end)
				return;                 /* the last name is not ended */
			uint64_t start = get64(e, t), stop = get64(e, t + 8), pgoff = get64(e, t + 16);
			for (size_t m = 0; m < pc->nmaps; m++) {
				struct host_map *hm = &pc->maps[m];
				if (hm->start >= start && hm->end <= stop && !hm->file) {
					hm->file = name;
					hm->file_offset = pgoff * page + (hm->start - start);
				}
			}
			name += len + 1;
		}
		return;
	}
}

enum dumpfs_status pcore_open(struct process_core *pc, struct format *f,
			      struct host_map *maps, size_t nmaps, bool sections)
{
	pc->has_sections = sections;
	/* the process's notes are its own, not the dumped machine's */
	pc->notes = f->notes;
	f->notes = (struct note_set){0};
	pc->maps = maps;
	pc->nmaps = nmaps;
	qsort(pc->maps, pc->nmaps, sizeof(*pc->maps), cmp_map);
	for (size_t i = 1; i < pc->nmaps; i++)
		if (pc->maps[i].start < pc->maps[i - 1].end)
			return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %" PRIu64 ": the mapping at %#"
					 PRIx64 " overlaps the one before it (%#" PRIx64 "-%#" PRIx64 ")",
					 f->files[0].path, pc->maps[i].phdr_at, pc->maps[i].start,
					 pc->maps[i - 1].start, pc->maps[i - 1].end);
	read_prpsinfo(pc, f->endian);
	read_nt_file(pc, f->endian);
	return DUMPFS_OK;
}

const struct host_map *pcore_map_at(const struct process_core *pc, uint64_t addr)
{
	size_t lo = 0, hi = pc->nmaps;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pc->maps[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < pc->nmaps && pc->maps[lo].start <= addr ? &pc->maps[lo] : NULL;
}

bool pcore_read(const struct process_core *pc, const struct source *src, void *buf, size_t len,
		uint64_t addr)
{
	uint8_t *out = buf;
	while (len) {
		const struct host_map *m = pcore_map_at(pc, addr);
		if (!m || addr - m->start >= m->filesz)
			return false;
		uint64_t n = m->filesz - (addr - m->start);
		if (n > len)
			n = len;
		if (source_read(src, out, (size_t)n, m->offset + (addr - m->start)) != DUMPFS_OK)
			return false;
		out += n;
		addr += n;
		len -= (size_t)n;
	}
	return true;
}

bool pcore_read_u64(const struct process_core *pc, const struct source *src, struct endian e,
		    uint64_t addr, uint64_t *v)
{
	uint8_t b[8];
	if (!pcore_read(pc, src, b, 8, addr))
		return false;
	*v = get64(e, b);
	return true;
}

void pcore_free(struct process_core *pc)
{
	notes_free(&pc->notes);
	free(pc->maps);
	*pc = (struct process_core){0};
}
