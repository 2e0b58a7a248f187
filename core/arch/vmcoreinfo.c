/*
 * vmcoreinfo.c - the kernel's VMCOREINFO note found in memory, for dumps
 * that do not carry it (QEMU's of ppc64 and s390x guests: its
 * -device vmcoreinfo exists for x86 and arm only), and for images of no
 * known machine (LiME): what the note says tells the machine then.
 *
 * The kernel keeps the note in pages of its own (kernel/crash_core.c:
 * vmcoreinfo_note, page-aligned): an ELF note header, the name
 * "VMCOREINFO", then text that starts with "OSRELEASE=".  s390x says where:
 * the lowcore's vmcore_info field (absolute 0xe0c) holds its physical
 * address.  Elsewhere every page start is a candidate, up to a bound, at
 * 4 KiB steps so that any kernel page size is covered.
 *
 * Found text is checked (a note header that agrees with it, printable
 * "KEY=value" lines) and appended to the format's notes in the file's byte
 * order, so /vmcoreinfo, /dmesg, /header and /vmcore.elf see it as if the
 * dump had carried it; /header says where it came from.  A QEMU process
 * core names its guest's architecture but carries none of its notes.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"

#define NOTE_NAME "VMCOREINFO"
#define NAME_PADDED 12                  /* "VMCOREINFO\0", padded to 4 */
#define DESC_OFF (12 + NAME_PADDED)
/* VMCOREINFO_BYTES is the kernel's page size: 64 KiB at most. */
#define MAX_TEXT 65536
#define STEP 4096ull
/* A search reads one small record per 4 KiB: bounded so that a mount of
 * a large dump does not read it all. */
#define SEARCH_MAX (16ull << 30)
/* Pages that say they are data but cannot be read (a file cut short):
 * each costs a failed read, so past this many the search gives up. */
#define SEARCH_MAX_UNREADABLE 4096

/* The note at @paddr, if it is one: its text (malloc'd) and length. */
static char *note_at(const struct machine *m, uint64_t paddr, size_t *len)
{
	uint8_t h[DESC_OFF + 10];
	if (space_read(m->phys, h, sizeof(h), paddr) != (ssize_t)sizeof(h) ||
	    get32(m->mem_endian, h) != sizeof(NOTE_NAME) || get32(m->mem_endian, h + 8) != 0 ||
	    memcmp(h + 12, NOTE_NAME, sizeof(NOTE_NAME)) || memcmp(h + DESC_OFF, "OSRELEASE=", 10))
		return NULL;
	uint32_t descsz = get32(m->mem_endian, h + 4);
	if (descsz < 10 || descsz > MAX_TEXT)
		return NULL;
	char *text = malloc(descsz);
	if (!text)
		return NULL;
	if (space_read(m->phys, text, descsz, paddr + DESC_OFF) != (ssize_t)descsz) {
		free(text);
		return NULL;
	}
	/* the kernel's text ends at its length; a page of zeros may follow */
	size_t n = strnlen(text, descsz);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c != '\n' && (c < 0x20 || c > 0x7e)) {
			free(text);
			return NULL;
		}
	}
	*len = n;
	return text;
}

/* Whether @p, a page start, begins like the note (cheap, before note_at). */
static bool looks_like_note(const struct machine *m, const uint8_t *p)
{
	return get32(m->mem_endian, p) == sizeof(NOTE_NAME) &&
	       !memcmp(p + 12, NOTE_NAME, sizeof(NOTE_NAME)) && !memcmp(p + DESC_OFF, "OSRELEASE=", 10);
}

/* Page starts of the data of /mem in [@from, @to), read a chunk at a time
 * (a read of many pages is batched below); a page that cannot be read is
 * stepped over.  @scanned and @unreadable carry the bounds across calls. */
static char *search_range(const struct machine *m, uint64_t from, uint64_t to, uint64_t *where,
			  size_t *len, uint64_t *scanned, uint64_t *unreadable)
{
	enum { CHUNK = 64 * 1024 };
	uint8_t *buf = malloc(CHUNK);
	char *text = NULL;

	for (uint64_t at = space_next(m->phys, from, true); buf && !text && at < to &&
	     *scanned < SEARCH_MAX && *unreadable < SEARCH_MAX_UNREADABLE; at = space_next(m->phys, at, true)) {
		at = (at + STEP - 1) & ~(STEP - 1);
		uint64_t hole = space_next(m->phys, at, false);
		if (hole > to)
			hole = to;
		size_t want = hole > at ? (hole - at < CHUNK ? (size_t)(hole - at) : CHUNK) : 0;
		ssize_t got = want ? space_read(m->phys, buf, want, at) : 0;
		size_t n = got > 0 ? (size_t)got : 0;
		for (size_t i = 0; !text && i + DESC_OFF + 10 <= n; i += STEP)
			if (looks_like_note(m, buf + i) && (text = note_at(m, at + i, len)))
				*where = at + i;
		/* past what was read, and past a page that could not be */
		uint64_t next = at + ((n + STEP - 1) & ~(STEP - 1)) + (n < want ? STEP : 0);
		*unreadable += n < want;
		*scanned += next - at;
		at = next;
	}
	free(buf);
	return text;
}

/* From 4 GiB first where memory goes past it: GFP_KERNEL pages, the note's
 * among them, come from the highest zone, which starts there on x86_64 (a
 * 4.5 GiB guest keeps it 8 MiB past 4 GiB, after 3 GiB of data below);
 * then from 0. */
static char *search(const struct machine *m, uint64_t *where, size_t *len)
{
	const uint64_t high = 4ull << 30;
	uint64_t scanned = 0, unreadable = 0;
	char *text = NULL;
	if (m->phys->size > high)
		text = search_range(m, high, m->phys->size, where, len, &scanned, &unreadable);
	if (!text)
		text = search_range(m, 0, m->phys->size < high ? m->phys->size : high, where, len, &scanned,
				    &unreadable);
	return text;
}

bool vmcoreinfo_from_memory(struct machine *m, struct format *f)
{
	uint64_t at = 0;
	size_t len = 0;
	char *text = NULL;
	const char *how = NULL;

	if (m->arch->vmcoreinfo_pointer && m->arch->vmcoreinfo_pointer(m, &at) &&
	    (text = note_at(m, at, &len)))
		how = "the lowcore's pointer";
	else if ((m->arch->vmcoreinfo_search || !m->elf_machine || f->memory_only) &&
		 (text = search(m, &at, &len)))
		how = "a search of memory";
	if (!text)
		return false;
	bool ok = notes_append(&f->notes, f->endian, NOTE_NAME, 0, text, len) == DUMPFS_OK;
	free(text);
	if (!ok)
		return false;
	snprintf(m->vmcoreinfo_where, sizeof(m->vmcoreinfo_where),
		 "found in memory at %#" PRIx64 " by %s", at, how);
	m->vmcoreinfo_origin = m->vmcoreinfo_where;
	return true;
}
