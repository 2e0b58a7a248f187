/*
 * notes.c - ELF notes as dumps carry them: NT_PRSTATUS per CPU ("CORE"),
 * QEMU's CPU state ("QEMU"), the kernel's VMCOREINFO and makedumpfile's
 * ERASEINFO.  Both kdump (the blob at offset_note) and ELF (PT_NOTE) use
 * the same record format: namesz, descsz, type, then name and descriptor,
 * each padded to 4 bytes.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/format.h"

#define NT_PRSTATUS 1

static size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }

static void classify(struct note_set *ns)
{
	size_t np = 0, nq = 0;
	ns->vmcoreinfo = NULL;
	ns->eraseinfo = NULL;
	for (size_t i = 0; i < ns->count; i++) {
		const struct note *n = &ns->list[i];
		if (!strcmp(n->name, "CORE") && n->type == NT_PRSTATUS) {
			ns->prstatus[np++] = i;
		} else if (!strcmp(n->name, "QEMU")) {
			ns->qemu[nq++] = i;
		} else if (!strcmp(n->name, "VMCOREINFO") && !ns->vmcoreinfo) {
			ns->vmcoreinfo = (const char *)n->desc;
			ns->vmcoreinfo_len = strnlen(ns->vmcoreinfo, n->descsz);
		} else if (!strcmp(n->name, "ERASEINFO") && !ns->eraseinfo) {
			ns->eraseinfo = n->desc;
			ns->eraseinfo_len = strnlen((const char *)n->desc, n->descsz);
		}
	}
	ns->nprstatus = np;
	ns->nqemu = nq;
}

/* Index the notes of ns->blob; rebuilding from scratch keeps the pointers
 * right after the blob moves. */
static enum dumpfs_status index_notes(struct note_set *ns, struct endian e,
				      char *warn, size_t warnlen)
{
	size_t off = 0, count = 0;

	free(ns->list);
	free(ns->prstatus);
	free(ns->qemu);
	ns->list = NULL;
	ns->prstatus = ns->qemu = NULL;
	ns->count = 0;
	/* A note takes at least 12 bytes, which bounds the list. */
	size_t max = ns->size / 12 + 1;
	ns->list = calloc(max, sizeof(*ns->list));
	ns->prstatus = calloc(max, sizeof(size_t));
	ns->qemu = calloc(max, sizeof(size_t));
	if (!ns->list || !ns->prstatus || !ns->qemu)
		return DUMPFS_ERR_NOMEM;

	while (off + 12 <= ns->size) {
		const uint8_t *p = ns->blob + off;
		uint32_t namesz = get32(e, p), descsz = get32(e, p + 4);
		uint32_t type = get32(e, p + 8);
		if (namesz == 0 && descsz == 0 && type == 0)
			break;          /* zero padding after the last note */
		size_t name_end = 12 + pad4(namesz);
		if (namesz > ns->size || descsz > ns->size ||
		    name_end + pad4(descsz) > ns->size - off) {
			if (warn)
				snprintf(warn, warnlen, "note %zu at offset %zu of the notes runs past their end (namesz %u, descsz %u); later notes ignored",
					 count, off, namesz, descsz);
			break;
		}
		/* Names are NUL-terminated inside namesz; make sure. */
		if (namesz == 0 || p[12 + namesz - 1] != '\0') {
			if (warn)
				snprintf(warn, warnlen, "note %zu at offset %zu has an unterminated name; later notes ignored",
					 count, off);
			break;
		}
		struct note *n = &ns->list[count++];
		n->name = (const char *)p + 12;
		n->namesz = namesz;
		n->type = type;
		n->desc = p + name_end;
		n->descsz = descsz;
		n->raw = p;
		n->rawsz = (uint32_t)(name_end + pad4(descsz));
		off += n->rawsz;
	}
	ns->count = count;
	classify(ns);
	return DUMPFS_OK;
}

enum dumpfs_status notes_parse(struct note_set *ns, uint8_t *blob, size_t size,
			       struct endian e, char *warn, size_t warnlen)
{
	ns->blob = blob;
	ns->size = size;
	return index_notes(ns, e, warn, warnlen);
}

enum dumpfs_status notes_append(struct note_set *ns, struct endian e,
				const char *name, uint32_t type,
				const void *desc, size_t descsz)
{
	size_t namesz = strlen(name) + 1;
	size_t rec = 12 + pad4(namesz) + pad4(descsz);
	/* Keep only indexed notes: anything after a bad note is dropped. */
	size_t used = 0;
	for (size_t i = 0; i < ns->count; i++)
		used += ns->list[i].rawsz;
	uint8_t *blob = realloc(ns->blob, used + rec);
	if (!blob)
		return DUMPFS_ERR_NOMEM;
	uint8_t *p = blob + used;
	memset(p, 0, rec);
	put32(e, p, (uint32_t)namesz);
	put32(e, p + 4, (uint32_t)descsz);
	put32(e, p + 8, type);
	memcpy(p + 12, name, namesz);
	if (descsz)
		memcpy(p + 12 + pad4(namesz), desc, descsz);
	ns->blob = blob;
	ns->size = used + rec;
	return index_notes(ns, e, NULL, 0);
}

/* Text notes read the same in either byte order. */
static bool is_text_note(const struct note *n)
{
	return !strcmp(n->name, "VMCOREINFO") || !strcmp(n->name, "ERASEINFO");
}

enum dumpfs_status notes_reorder(struct note_set *out, const struct note_set *in,
				 struct endian to, note_swap_fn swap, size_t *dropped)
{
	size_t size = 0;
	*out = (struct note_set){0};
	*dropped = 0;
	for (size_t i = 0; i < in->count; i++)
		size += in->list[i].rawsz;
	uint8_t *blob = calloc(1, size ? size : 1);
	if (!blob)
		return DUMPFS_ERR_NOMEM;
	size_t at = 0;
	for (size_t i = 0; i < in->count; i++) {
		const struct note *n = &in->list[i];
		size_t desc_at = (size_t)(n->desc - n->raw);
		uint8_t *p = blob + at;
		memcpy(p, n->raw, n->rawsz);
		if (!is_text_note(n) && !(swap && swap(n->name, n->type, p + desc_at, n->descsz))) {
			memset(p, 0, n->rawsz);
			++*dropped;
			continue;
		}
		put32(to, p, n->namesz);
		put32(to, p + 4, n->descsz);
		put32(to, p + 8, n->type);
		at += n->rawsz;
	}
	out->blob = blob;
	out->size = at;
	return index_notes(out, to, NULL, 0);
}

void notes_free(struct note_set *ns)
{
	free(ns->blob);
	free(ns->list);
	free(ns->prstatus);
	free(ns->qemu);
	*ns = (struct note_set){0};
}

bool vmcoreinfo_get(const struct note_set *ns, const char *key, char *out, size_t outlen)
{
	const char *p = ns->vmcoreinfo;
	size_t klen = strlen(key);

	if (!p)
		return false;   /* before computing end: NULL + 0 is undefined */
	const char *end = p + ns->vmcoreinfo_len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > klen && !memcmp(p, key, klen) && p[klen] == '=') {
			size_t n = (size_t)(eol - p) - klen - 1;
			if (n >= outlen)
				n = outlen - 1;
			memcpy(out, p + klen + 1, n);
			out[n] = '\0';
			return true;
		}
		p = eol + 1;
	}
	return false;
}

bool vmcoreinfo_u64(const struct note_set *ns, const char *key, int base, uint64_t *out)
{
	char v[64], *end;
	if (!vmcoreinfo_get(ns, key, v, sizeof(v)))
		return false;
	*out = strtoull(v, &end, base);
	return end != v;
}
