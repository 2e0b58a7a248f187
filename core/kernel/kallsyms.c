/*
 * kallsyms.c - the kernel's own symbol table, decoded from the dump: the
 * tables kernels >= 6.0 name in VMCOREINFO (kallsyms_names and the rest),
 * or, before 6.0, those kscan.c finds in the image, taken only if every
 * SYMBOL() VMCOREINFO gives is where they put it.
 *
 * kallsyms_names holds each symbol as a length (one byte; since 6.1 two
 * when the first has bit 7 set, the second giving bits 7 and up) and that
 * many token numbers; kallsyms_token_index points each of the 256 tokens
 * into kallsyms_token_table, NUL-terminated strings.  The first character
 * of a decoded name is its type (nm's letter).  Addresses have been
 * encoded four ways over the years: kallsyms_addresses (absolute),
 * kallsyms_offsets relative to kallsyms_relative_base, the same with
 * per-cpu symbols absolute (x86_64 SMP: a negative offset is base - 1 -
 * offset), and place-relative offsets (each relative to its own slot).
 * The kernel's config decides, and the dump does not say which, so the
 * one that puts the symbols VMCOREINFO also names where it says wins.
 *
 * Everything read is bounded: 2^22 symbols, 64 MiB of names, 1024 bytes a
 * name, tokens within 64 KiB.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel.h"

#define MAX_SYMS (1u << 22)
#define MAX_NAMES_BYTES (64u << 20)
#define MAX_NAME 1024
#define TOKENS 256
#define STREAM_CHUNK 65536

/* Where the tables are, from VMCOREINFO, and kallsyms_relative_base's
 * value. */
struct tables {
	uint64_t num_syms, names, token_table, token_index;
	uint64_t offsets, relative_base_at, addresses;
	uint64_t relative_base;
	bool have_offsets, have_addresses;
};

/* kallsyms_names read front to back, a chunk at a time. */
struct stream {
	struct kmem *km;
	uint64_t next;                  /* vaddr of buf[len] */
	uint8_t buf[STREAM_CHUNK];
	size_t pos, len;
	uint64_t consumed;
};

static bool stream_byte(struct stream *s, uint8_t *b)
{
	if (s->pos == s->len) {
		/* The table may end just before an unmapped page: read what
		 * a page at a time gives when a whole chunk does not. */
		size_t n = STREAM_CHUNK;
		while (n >= 4096 && !kmem_read(s->km, s->next, s->buf, n))
			n /= 2;
		if (n < 4096)
			return false;
		s->next += n;
		s->len = n;
		s->pos = 0;
	}
	*b = s->buf[s->pos++];
	s->consumed++;
	return true;
}

static bool tables_get(const struct machine *m, struct tables *t, char *why, size_t whylen)
{
	static const char *const need[] = { "SYMBOL(kallsyms_num_syms)", "SYMBOL(kallsyms_names)",
		"SYMBOL(kallsyms_token_table)", "SYMBOL(kallsyms_token_index)" };
	uint64_t *dst[] = { &t->num_syms, &t->names, &t->token_table, &t->token_index };
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (!vmcoreinfo_u64(m->notes, need[i], 16, dst[i])) {
			snprintf(why, whylen, "VMCOREINFO has no %s (kernels before 6.0 do not give it)", need[i]);
			return false;
		}
	}
	t->have_offsets = vmcoreinfo_u64(m->notes, "SYMBOL(kallsyms_offsets)", 16, &t->offsets) &&
			  vmcoreinfo_u64(m->notes, "SYMBOL(kallsyms_relative_base)", 16, &t->relative_base_at);
	t->have_addresses = vmcoreinfo_u64(m->notes, "SYMBOL(kallsyms_addresses)", 16, &t->addresses);
	if (!t->have_offsets && !t->have_addresses) {
		snprintf(why, whylen, "VMCOREINFO has neither SYMBOL(kallsyms_offsets) with kallsyms_relative_base nor SYMBOL(kallsyms_addresses)");
		return false;
	}
	return true;
}

/* The 256 tokens, as offsets into @table (each NUL-terminated in it). */
static bool tokens_get(struct kmem *km, const struct tables *t, uint8_t **table, uint16_t idx[TOKENS],
		       char *why, size_t whylen)
{
	uint8_t raw[TOKENS * 2];
	const struct endian e = km->m->mem_endian;
	if (!kmem_read(km, t->token_index, raw, sizeof(raw))) {
		snprintf(why, whylen, "kallsyms_token_index at %#" PRIx64 " is not in the dump", t->token_index);
		return false;
	}
	unsigned top = 0;
	for (int i = 0; i < TOKENS; i++) {
		idx[i] = get16(e, raw + 2 * i);
		top = idx[i] > top ? idx[i] : top;
	}
	size_t size = top + 64;         /* a token is a few bytes */
	*table = malloc(size + 1);
	if (!*table || !kmem_read(km, t->token_table, *table, size)) {
		snprintf(why, whylen, "kallsyms_token_table at %#" PRIx64 " is not in the dump", t->token_table);
		return false;
	}
	(*table)[size] = '\0';
	for (int i = 0; i < TOKENS; i++)
		if (!memchr(*table + idx[i], '\0', size - idx[i])) {
			snprintf(why, whylen, "kallsyms token %d is not a string", i);
			return false;
		}
	return true;
}

static bool names_get(struct kmem *km, const struct tables *t, struct kallsyms *ks,
		      const uint8_t *table, const uint16_t idx[TOKENS], char *why, size_t whylen)
{
	struct stream *s = calloc(1, sizeof(*s));
	size_t cap = 1 << 20;
	char *names = malloc(cap);
	bool ok = false;
	if (!s || !names || !(ks->name = calloc(ks->count, sizeof(*ks->name))))
		goto out;
	s->km = km;
	s->next = t->names;
	size_t at = 0;
	for (size_t i = 0; i < ks->count; i++) {
		uint8_t b, hi;
		if (!stream_byte(s, &b) || ((b & 0x80) && !stream_byte(s, &hi))) {
			snprintf(why, whylen, "kallsyms_names is cut at symbol %zu (%#" PRIx64 ")", i,
				 t->names + s->consumed);
			goto out;
		}
		unsigned len = b & 0x80 ? (b & 0x7fu) | (unsigned)hi << 7 : b;
		ks->name[i] = (uint32_t)at;
		for (unsigned j = 0; j < len; j++) {
			uint8_t tok;
			if (!stream_byte(s, &tok)) {
				snprintf(why, whylen, "kallsyms_names is cut at symbol %zu", i);
				goto out;
			}
			const char *str = (const char *)table + idx[tok];
			size_t n = strlen(str);
			if (at + n + 1 - ks->name[i] > MAX_NAME || at + n + 1 > MAX_NAMES_BYTES) {
				snprintf(why, whylen, "kallsyms symbol %zu is longer than any name", i);
				goto out;
			}
			if (at + n + 1 > cap) {
				char *bigger = realloc(names, cap * 2);
				if (!bigger)
					goto out;
				names = bigger;
				cap *= 2;
			}
			memcpy(names + at, str, n);
			at += n;
		}
		if (at == ks->name[i]) {
			snprintf(why, whylen, "kallsyms symbol %zu has an empty name", i);
			goto out;
		}
		names[at++] = '\0';
	}
	ks->names = names;
	names = NULL;
	ok = true;
out:
	if (!ok && !why[0])
		snprintf(why, whylen, "out of memory decoding kallsyms");
	free(names);
	free(s);
	return ok;
}

enum encoding { ABSOLUTE, BASE_RELATIVE, ABSOLUTE_PERCPU, PLACE_RELATIVE, ENCODINGS };
static const char *const encoding_name[] = {
	"absolute (kallsyms_addresses)", "base-relative", "base-relative, per-cpu absolute",
	"place-relative",
};

/* Symbol @i's address; arithmetic wraps at the kernel's word, as its
 * unsigned long does. */
static uint64_t address(enum encoding enc, const struct tables *t, const uint8_t *raw, size_t i,
			struct endian e, unsigned word)
{
	const uint64_t mask = word == 4 ? UINT32_MAX : UINT64_MAX;
	int32_t off = (int32_t)get32(e, raw + 4 * i);
	switch (enc) {
	case ABSOLUTE:
		return word == 4 ? get32(e, raw + 4 * i) : get64(e, raw + 8 * i);
	case BASE_RELATIVE:
		return (t->relative_base + (uint32_t)off) & mask;
	case ABSOLUTE_PERCPU:
		return (off >= 0 ? (uint64_t)off : t->relative_base - 1 - (uint64_t)(int64_t)off) & mask;
	default:
		return (t->offsets + 4 * i + (uint64_t)(int64_t)off) & mask;
	}
}

/* Whether @enc puts every symbol VMCOREINFO names where it says; how many
 * it checked in @checked.  (Not SYMBOL(mem_section): with SPARSEMEM_EXTREME
 * it is the pointer's value, not its address.) */
static bool encoding_fits(const struct machine *m, const struct kallsyms *ks, enum encoding enc,
			  const struct tables *t, const uint8_t *raw, unsigned *checked)
{
	static const char *const anchors[] = { "_stext", "init_uts_ns", "swapper_pg_dir",
		"node_online_map", "prb" };
	*checked = 0;
	for (size_t a = 0; a < sizeof(anchors) / sizeof(anchors[0]); a++) {
		char key[64];
		uint64_t want;
		snprintf(key, sizeof(key), "SYMBOL(%s)", anchors[a]);
		if (!vmcoreinfo_u64(m->notes, key, 16, &want))
			continue;
		for (size_t i = 0; i < ks->count; i++) {
			if (strcmp(ks->names + ks->name[i] + 1, anchors[a]))
				continue;
			if (address(enc, t, raw, i, m->mem_endian, machine_word_size(m)) != want)
				return false;
			++*checked;
			break;
		}
	}
	return *checked > 0;
}

static bool addresses_get(struct kmem *km, struct tables *t, struct kallsyms *ks,
			  char *why, size_t whylen)
{
	const struct machine *m = km->m;
	uint8_t *raw[2] = { NULL, NULL };       /* offsets, addresses */
	const unsigned word = machine_word_size(m);
	bool ok = false;
	if (!t->have_offsets || !kmem_read_word(km, t->relative_base_at, &t->relative_base))
		t->have_offsets = false;
	if (t->have_offsets && (raw[0] = malloc(ks->count * 4)) &&
	    !kmem_read(km, t->offsets, raw[0], ks->count * 4)) {
		free(raw[0]);
		raw[0] = NULL;
	}
	if (t->have_addresses && (raw[1] = malloc(ks->count * word)) &&
	    !kmem_read(km, t->addresses, raw[1], ks->count * word)) {
		free(raw[1]);
		raw[1] = NULL;
	}
	if (!raw[0] && !raw[1]) {
		snprintf(why, whylen, "the kallsyms address table is not in the dump");
		goto out;
	}
	for (enum encoding enc = 0; enc < ENCODINGS && !ok; enc++) {
		const uint8_t *r = raw[enc == ABSOLUTE];
		unsigned checked;
		if (!r || !encoding_fits(m, ks, enc, t, r, &checked))
			continue;
		if (!(ks->addr = malloc(ks->count * sizeof(*ks->addr))))
			goto out;
		for (size_t i = 0; i < ks->count; i++)
			ks->addr[i] = address(enc, t, r, i, m->mem_endian, word);
		ks->encoding = encoding_name[enc];
		ks->anchors = checked;
		ok = true;
	}
	if (!ok)
		snprintf(why, whylen, "no kallsyms address encoding puts _stext and the other symbols of VMCOREINFO where it says");
out:
	free(raw[0]);
	free(raw[1]);
	return ok;
}

/* The tables at @t, in memory. */
static enum dumpfs_status tables_decode(struct kmem *km, struct tables *t, struct kallsyms *ks, char *why,
					size_t whylen)
{
	uint8_t raw[4], *table = NULL;
	uint16_t idx[TOKENS];
	enum dumpfs_status st = DUMPFS_ERR_UNSUPPORTED;
	if (!kmem_read(km, t->num_syms, raw, 4)) {
		snprintf(why, whylen, "kallsyms_num_syms at %#" PRIx64 " is not in the dump", t->num_syms);
		return DUMPFS_ERR_NODATA;
	}
	ks->count = get32(km->m->mem_endian, raw);
	if (ks->count == 0 || ks->count > MAX_SYMS) {
		snprintf(why, whylen, "kallsyms_num_syms is %zu", ks->count);
		return DUMPFS_ERR_CORRUPT;
	}
	if (tokens_get(km, t, &table, idx, why, whylen) &&
	    names_get(km, t, ks, table, idx, why, whylen) &&
	    addresses_get(km, t, ks, why, whylen))
		st = DUMPFS_OK;
	free(table);
	if (st != DUMPFS_OK)
		kallsyms_free(ks);
	return st;
}

/* Whether @ks puts symbol @name at @want: false, with @found set, if it
 * lists the name only elsewhere. */
static bool symbol_at(const struct kallsyms *ks, const char *name, uint64_t want, bool *found,
		      uint64_t *other)
{
	*found = false;
	for (size_t i = 0; i < ks->count; i++) {
		if (strcmp(ks->names + ks->name[i] + 1, name))
			continue;
		*found = true;
		*other = ks->addr[i];
		if (ks->addr[i] == want)
			return true;
	}
	return !*found;
}

/* Every SYMBOL() of VMCOREINFO that @ks lists is where VMCOREINFO says
 * (not mem_section: with SPARSEMEM_EXTREME it is the pointer's value), and
 * _stext is among them; how many in @checked. */
static bool symbols_agree(const struct machine *m, const struct kallsyms *ks, unsigned *checked,
			  char *why, size_t whylen)
{
	const char *p = m->notes->vmcoreinfo, *end = p ? p + m->notes->vmcoreinfo_len : NULL;
	bool stext = false;
	*checked = 0;
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *eol = nl ? nl : end;
		const char *close = eol - p > 7 && !memcmp(p, "SYMBOL(", 7) ? memchr(p + 7, ')', (size_t)(eol - p - 7)) : NULL;
		char name[128], value[32];
		size_t n = close ? (size_t)(close - p - 7) : 0, vlen = close ? (size_t)(eol - close - 2) : 0;
		if (n && n < sizeof(name) && close + 1 < eol && close[1] == '=' && vlen && vlen < sizeof(value)) {
			memcpy(name, p + 7, n);
			name[n] = '\0';
			memcpy(value, close + 2, vlen);
			value[vlen] = '\0';
			char *stop;
			uint64_t want = strtoull(value, &stop, 16), other = 0;
			bool found;
			if (*stop == '\0' && strcmp(name, "mem_section")) {
				if (!symbol_at(ks, name, want, &found, &other)) {
					snprintf(why, whylen, "it puts %s at %#" PRIx64 ", VMCOREINFO says %#" PRIx64,
						 name, other, want);
					return false;
				}
				*checked += found;
				stext |= found && !strcmp(name, "_stext");
			}
		}
		p = eol + 1;
	}
	if (!stext)
		snprintf(why, whylen, "it does not list _stext, which VMCOREINFO names");
	return stext;
}

/* Candidate tables a scan decodes before it gives up. */
#define SCAN_TRIES 8

/* The tables a scan of the image finds (kernels before 6.0). */
static enum dumpfs_status kallsyms_find(const struct machine *m, struct kallsyms *ks, char *why, size_t whylen)
{
	struct kmem km;
	struct kscan f;
	uint64_t after = 0;
	char reject[400] = "";
	enum dumpfs_status st = kmem_init(&km, m, why, whylen);
	if (st != DUMPFS_OK)
		return st;
	for (unsigned tries = 0; tries < SCAN_TRIES; tries++) {
		if ((st = kallsyms_scan(&km, after, &f, why, whylen)) != DUMPFS_OK)
			break;
		struct tables t = {
			.num_syms = f.num_syms, .names = f.names, .token_table = f.token_table,
			.token_index = f.token_index, .offsets = f.offsets,
			.relative_base_at = f.relative_base_at, .addresses = f.addresses,
			.have_offsets = true, .have_addresses = true,
		};
		char w[256] = "";
		unsigned checked;
		if (tables_decode(&km, &t, ks, w, sizeof(w)) == DUMPFS_OK) {
			if (symbols_agree(m, ks, &checked, w, sizeof(w))) {
				ks->anchors = checked;
				snprintf(ks->origin, sizeof(ks->origin), "kallsyms found by scanning the kernel image "
					 "at %#" PRIx64 " (kallsyms_token_table)", f.token_table);
				return DUMPFS_OK;
			}
			kallsyms_free(ks);
		}
		snprintf(reject, sizeof(reject), "kallsyms tables found scanning the kernel image at %#" PRIx64
			 " (kallsyms_token_table) rejected: %s", f.token_table, w);
		after = f.token_index;
		st = DUMPFS_ERR_UNSUPPORTED;
	}
	if (reject[0])
		snprintf(why, whylen, "%s; %s", reject, st == DUMPFS_OK ? "no more tried" : "no other found");
	return DUMPFS_ERR_UNSUPPORTED;
}

/* The tables in memory: those VMCOREINFO names, else those a scan finds. */
static enum dumpfs_status kallsyms_decode(const struct machine *m, struct kallsyms *ks, char *why,
					  size_t whylen)
{
	struct tables t = {0};
	struct kmem km;
	uint64_t names;

	*ks = (struct kallsyms){0};
	why[0] = '\0';
	if (!vmcoreinfo_u64(m->notes, "SYMBOL(kallsyms_names)", 16, &names) && kallsyms_scannable(m))
		return kallsyms_find(m, ks, why, whylen);
	if (!tables_get(m, &t, why, whylen) || kmem_init(&km, m, why, whylen) != DUMPFS_OK)
		return DUMPFS_ERR_UNSUPPORTED;
	enum dumpfs_status st = tables_decode(&km, &t, ks, why, whylen);
	if (st == DUMPFS_OK)
		snprintf(ks->origin, sizeof(ks->origin), "the kallsyms tables VMCOREINFO names");
	return st;
}

/* Whether VMCOREINFO's OSRELEASE is of a kernel before 6.0, which names
 * no kallsyms tables: those are scanned for. */
static bool before_6_0(const struct machine *m)
{
	char rel[64];
	unsigned major;
	return vmcoreinfo_get(m->notes, "OSRELEASE", rel, sizeof(rel)) && sscanf(rel, "%u.", &major) == 1 &&
	       major < 6;
}

bool kallsyms_named(const struct machine *m)
{
	uint64_t v;
	return m->system_map_path || m->vmlinux_path ||
	       vmcoreinfo_u64(m->notes, "SYMBOL(kallsyms_names)", 16, &v) ||
	       (kallsyms_scannable(m) && before_6_0(m));
}

enum dumpfs_status kallsyms_load(const struct machine *m, struct kallsyms *ks, char *why, size_t whylen)
{
	if (m->system_map_path)
		return sysmap_load(m, m->system_map_path, ks, why, whylen);
	if (m->vmlinux_path)
		return vmlinux_symbols(m, m->vmlinux_path, ks, why, whylen);
	return kallsyms_decode(m, ks, why, whylen);
}

bool kallsyms_origin(const struct machine *m, char *out, size_t outlen)
{
	struct kallsyms ks;
	if (kallsyms_load(m, &ks, out, outlen) != DUMPFS_OK)
		return false;
	snprintf(out, outlen, "%s (%zu symbols, %u checked against VMCOREINFO)", ks.origin, ks.count, ks.anchors);
	kallsyms_free(&ks);
	return true;
}

void kallsyms_free(struct kallsyms *ks)
{
	symtab_free(ks);
}

/* By address, then table order (qsort is not stable). */
static int by_address(const void *a, const void *b, void *arg)
{
	const struct kallsyms *ks = arg;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	if (ks->addr[i] != ks->addr[j])
		return ks->addr[i] < ks->addr[j] ? -1 : 1;
	return i < j ? -1 : i > j;
}

enum dumpfs_status kallsyms_render(const struct machine *m, struct strbuf *sb, char *why, size_t whylen)
{
	struct kallsyms ks;
	enum dumpfs_status st = kallsyms_load(m, &ks, why, whylen);
	if (st != DUMPFS_OK)
		return st;
	uint32_t *order = malloc(ks.count * sizeof(*order));
	if (!order) {
		kallsyms_free(&ks);
		return DUMPFS_ERR_NOMEM;
	}
	for (size_t i = 0; i < ks.count; i++)
		order[i] = (uint32_t)i;
	qsort_r(order, ks.count, sizeof(*order), by_address, &ks);
	const int width = (int)machine_word_size(m) * 2;
	for (size_t k = 0; k < ks.count; k++) {
		const char *n = ks.names + ks.name[order[k]];
		sb_printf(sb, "%0*" PRIx64 " %c %s\n", width, ks.addr[order[k]], n[0], n + 1);
	}
	snprintf(why, whylen, "%zu symbols from %s (%s addresses, %u checked against VMCOREINFO)",
		 ks.count, m->system_map_path ? m->system_map_path : m->vmlinux_path ? m->vmlinux_path
		 : ks.origin,
		 ks.encoding, ks.anchors);
	free(order);
	kallsyms_free(&ks);
	return sb->failed ? DUMPFS_ERR_NOMEM : DUMPFS_OK;
}
