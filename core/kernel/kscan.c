/*
 * kscan.c - the kallsyms tables of a kernel whose VMCOREINFO does not name
 * them (before 6.0), found by what they are, as vmlinux-to-elf finds them.
 *
 * scripts/kallsyms.c writes the tables into .rodata one after the other,
 * each label aligned to the kernel's word (.balign 8 on 64-bit kernels, 4
 * on 32-bit), in this order up to 6.1:
 *
 *   kallsyms_addresses (a word each)  or  kallsyms_offsets (4 bytes each)
 *                                         and kallsyms_relative_base (a word)
 *   kallsyms_num_syms    the count (.long, or a word before 4.20)
 *   kallsyms_names       per symbol a length byte and that many tokens
 *   kallsyms_markers     where every 256th symbol starts in names, the
 *                        first 0 (.long; a word before 4.20)
 *   (kallsyms_seqs_of_names, 3 bytes a symbol: 6.2, and 6.1.y's backport)
 *   kallsyms_token_table 256 NUL-terminated tokens
 *   kallsyms_token_index 256 u16: where each token starts
 *
 * (Kernels from 6.0 name the tables in VMCOREINFO, so the orders that came
 * later do not matter here.)  On the 6.1 dumps of the corpora
 * (x86_64, i386, arm64, ppc64el, s390x) a scan, forced for the check,
 * finds the very tables VMCOREINFO names.
 *
 * The search looks for the token index (0 first, then 255 increasing
 * offsets, a token a few bytes each), puts the token table right before it
 * (every offset must land on the start of a printable string, the strings
 * back to back, ending just before the index), then walks back: markers
 * (increasing to the table, 0 first), names (their lengths, walked from a
 * start preceded by a plausible count, must reach every marker and end
 * where the markers start) and the count.  kallsyms.c decodes what this
 * finds with its decoders, and rejects it unless every SYMBOL() of
 * VMCOREINFO is where the decoded table puts it.
 *
 * Bounded: KSCAN_MAX bytes of the image from _stext, read a page at a time;
 * KSCAN_CANDIDATES token indexes looked at closely; 64 MiB of names, and
 * KSCAN_NAMES_BUDGET bytes of names read and walked by the whole search
 * (decoys claiming 64 MiB each cost bounded time).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel.h"

#define KSCAN_MAX (128ull << 20)
#define KSCAN_PAGE 4096u
#define KSCAN_CANDIDATES 64
#define TOKENS 256
#define INDEX_BYTES (TOKENS * 2)
#define MAX_TOKEN 128                   /* bytes of one token, its NUL not counted */
#define MAX_SYMS (1u << 22)
#define MAX_MARKERS (MAX_SYMS / 256)
#define MAX_NAMES_BYTES (64u << 20)
/* The names of the last (at most 256) symbols, after the last marker. */
#define MAX_TAIL (256u * (2 + 255))
/* kallsyms_seqs_of_names looked behind for: symbols. */
#define SEQS_MAX_SYMS (1u << 20)
/* The names bytes a whole search reads and walks, decoys included. */
#define KSCAN_NAMES_BUDGET (256ull << 20)

static uint64_t align_up(uint64_t v, unsigned a)
{
	return (v + a - 1) & ~(uint64_t)(a - 1);
}

/* Whether @p can be kallsyms_token_index: 0, then offsets increasing by
 * at most a token each (empty tokens are possible: slots no pair filled). */
static bool index_plausible(struct endian e, const uint8_t *p)
{
	if (get16(e, p) != 0)
		return false;
	for (int i = 1; i < TOKENS; i++) {
		unsigned prev = get16(e, p + 2 * (i - 1)), cur = get16(e, p + 2 * i);
		if (cur <= prev || cur - prev > MAX_TOKEN + 1)
			return false;
	}
	return true;
}

/* Read the @want bytes that end at @end into @buf's end, a page at a time
 * backwards; how many could be read (stops at the first page that cannot). */
static size_t read_before(struct kmem *km, uint64_t end, uint8_t *buf, size_t want)
{
	size_t got = 0;
	while (got < want) {
		uint64_t at = end - got;
		size_t n = (size_t)(at & (KSCAN_PAGE - 1));
		n = n ? n : KSCAN_PAGE;
		n = n < want - got ? n : want - got;
		if (at < n || !kmem_read(km, at - n, buf + want - got - n, n))
			break;
		got += n;
	}
	return got;
}

static bool printable(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/* The token table that ends (with padding to @a) at the index @at, whose
 * offsets are @idx; 0 if the bytes before it are not one. */
static uint64_t table_before(struct kmem *km, uint64_t at, const uint16_t idx[TOKENS], unsigned a)
{
	size_t span = (size_t)align_up((uint64_t)idx[TOKENS - 1] + MAX_TOKEN + 1, a);
	uint8_t *buf = malloc(span);
	uint64_t found = 0;
	if (!buf)
		return 0;
	size_t got = read_before(km, at, buf, span);
	const uint8_t *region = buf + span - got;       /* vaddr at - got */
	for (size_t size = align_up((uint64_t)idx[TOKENS - 1] + 1, a); size <= got && !found; size += a) {
		const uint8_t *t = region + got - size;
		bool ok = true;
		for (int i = 0; i < TOKENS - 1 && ok; i++) {
			size_t len = (size_t)idx[i + 1] - idx[i] - 1;
			ok = printable(t + idx[i], len) && t[idx[i] + len] == 0;
		}
		const uint8_t *last = t + idx[TOKENS - 1];
		const uint8_t *nul = ok ? memchr(last, 0, size - idx[TOKENS - 1]) : NULL;
		ok = nul && printable(last, (size_t)(nul - last)) && align_up((uint64_t)(nul + 1 - t), a) == size;
		for (const uint8_t *p = nul; ok && p < t + size; p++)
			ok = *p == 0;           /* the .balign padding */
		if (ok)
			found = at - size;
	}
	free(buf);
	return found;
}

/* kallsyms_markers, ending (with padding) at @table, the vaddr of @end,
 * with @got bytes readable before it: entries of @es bytes, 0 first,
 * increasing; fills @f's markers. */
static bool markers_in(struct endian e, const uint8_t *end, size_t got, uint64_t table, unsigned es,
		       unsigned a, struct kscan *f, uint32_t *markers)
{
	size_t k = 0, n = 0;
#define ENTRY(j) (es == 4 ? get32(e, end - 4 * ((j) + 1)) : get64(e, end - 8 * ((j) + 1)))
	while ((k + 1) * es < a && (k + 1) * es <= got && ENTRY(k) == 0)
		k++;                    /* the .balign padding */
	uint64_t last = UINT64_MAX;
	bool zero = false;
	while (!zero && (k + n + 1) * es <= got && n < MAX_MARKERS) {
		uint64_t v = ENTRY(k + n);
		if (v >= last)
			break;
		last = v;
		n++;
		zero = v == 0;
	}
	uint64_t start = table - (k + n) * es;
	bool ok = zero && n >= 2 && start % a == 0 && align_up(start + n * es, a) == table;
	for (size_t j = 0; ok && j < n; j++)
		markers[j] = (uint32_t)ENTRY(k + n - 1 - j);
#undef ENTRY
	if (ok) {
		f->markers = start;
		f->nmarkers = n;
	}
	return ok;
}

/* The same, read from the dump. */
static bool markers_before(struct kmem *km, uint64_t table, unsigned es, unsigned a, struct kscan *f,
			   uint32_t *markers)
{
	size_t span = (size_t)MAX_MARKERS * es + a;
	uint8_t *buf = malloc(span);
	bool ok = buf && markers_in(km->m->mem_endian, buf + span, read_before(km, table, buf, span), table,
				    es, a, f, markers);
	free(buf);
	return ok;
}

/* kallsyms_names and kallsyms_num_syms before the markers in @f. */
static bool names_before(struct kmem *km, struct kscan *f, const uint32_t *markers, unsigned a,
			 uint64_t *budget)
{
	const struct endian e = km->m->mem_endian;
	uint64_t last = markers[f->nmarkers - 1];
	size_t span = (size_t)(last + MAX_TAIL + 2 * a);
	if (last >= MAX_NAMES_BYTES || span > *budget)
		return false;
	*budget -= span;
	uint8_t *buf = malloc(span);
	bool ok = false;
	if (!buf)
		return false;
	size_t got = read_before(km, f->markers, buf, span);
	const uint8_t *end = buf + span;        /* vaddr f->markers */
	/* the names start at n, a's multiple, with the count in the word before */
	uint64_t hi = (f->markers - last - 2) & ~(uint64_t)(a - 1);
	for (uint64_t n = hi; !ok && f->markers - n + a <= got && f->markers - n <= last + MAX_TAIL + a; n -= a) {
		const uint8_t *names = end - (f->markers - n);
		/* a .long and padding, or (before 4.20) a word */
		uint64_t count = get32(e, names - a), other = a == 8 ? get32(e, names - 4) : 0;
		if (other && !count && e.big)
			count = other;
		else if (other)
			continue;
		if (count <= (f->nmarkers - 1) * 256 || count > f->nmarkers * 256)
			continue;
		size_t pos = 0, limit = (size_t)(f->markers - n);
		bool fits = *budget >= limit;
		if (!fits)
			break;
		*budget -= limit;       /* a walk costs at most the names it may cross */
		for (uint64_t s = 0; s < count && fits; s++) {
			if (s % 256 == 0 && pos != markers[s / 256]) {
				fits = false;
				break;
			}
			if (pos >= limit) {
				fits = false;
				break;
			}
			unsigned len = names[pos];
			size_t hdr = 1;
			if (len & 0x80) {
				if (pos + 1 >= limit) {
					fits = false;
					break;
				}
				len = (len & 0x7fu) | (unsigned)names[pos + 1] << 7;
				hdr = 2;
			}
			fits = len > 0;
			pos += hdr + len;
		}
		if (!fits || pos > limit || align_up(n + pos, a) != f->markers)
			continue;
		f->names = n;
		f->num_syms = n - a;
		f->count = (size_t)count;
		ok = true;
	}
	free(buf);
	return ok;
}

/* Where stable kernels have kallsyms_seqs_of_names (6.1.y: three bytes a
 * symbol, between the markers and the token table): markers (u32) ending
 * at some @a-aligned point before @table, as far before it as the seqs of
 * the symbols they count take, then names before them. */
static bool markers_under_seqs(struct kmem *km, uint64_t table, unsigned a, struct kscan *f,
			       uint32_t *markers, uint64_t *budget)
{
	size_t span = (size_t)SEQS_MAX_SYMS * 3 + MAX_MARKERS * 4 + 2 * a;
	if (span > *budget)
		return false;
	*budget -= span;
	uint8_t *buf = malloc(span);
	bool ok = false;
	if (!buf)
		return false;
	size_t got = read_before(km, table, buf, span);
	for (uint64_t seqs = table - a; !ok && table - seqs <= (uint64_t)SEQS_MAX_SYMS * 3 + a &&
	     table - seqs < got; seqs -= a) {
		size_t before = got - (size_t)(table - seqs);
		if (!markers_in(km->m->mem_endian, buf + span - (table - seqs), before, seqs, 4, a, f, markers))
			continue;
		uint64_t lo = (f->nmarkers - 1) * 256 + 1, hi = f->nmarkers * 256;
		if (table - seqs < align_up(3 * lo, a) || table - seqs > align_up(3 * hi, a))
			continue;
		ok = names_before(km, f, markers, a, budget) && align_up(seqs + 3 * f->count, a) == table;
	}
	free(buf);
	return ok;
}

bool kallsyms_scannable(const struct machine *m)
{
	uint64_t stext;
	return m->arch->vtop_init && m->arch->vtop && vmcoreinfo_u64(m->notes, "SYMBOL(_stext)", 16, &stext);
}

/* The tables around the plausible index at @at, read into @idx. */
static bool tables_around(struct kmem *km, uint64_t at, const uint16_t idx[TOKENS], struct kscan *f,
			  uint64_t *budget)
{
	const unsigned a = machine_word_size(km->m);
	uint32_t *markers = malloc(MAX_MARKERS * sizeof(*markers));
	bool ok = false;
	*f = (struct kscan){ .token_index = at };
	if (markers && (f->token_table = table_before(km, at, idx, a)) != 0) {
		for (unsigned es = 4; es <= a && !ok; es += 4)
			ok = markers_before(km, f->token_table, es, a, f, markers) && names_before(km, f, markers, a, budget);
		ok = ok || markers_under_seqs(km, f->token_table, a, f, markers, budget);
	}
	free(markers);
	if (ok) {
		f->relative_base_at = f->num_syms - a;
		f->offsets = f->relative_base_at - align_up((uint64_t)f->count * 4, a);
		f->addresses = f->num_syms - (uint64_t)f->count * a;
	}
	return ok;
}

enum dumpfs_status kallsyms_scan(struct kmem *km, uint64_t after, struct kscan *f, char *why, size_t whylen)
{
	const struct machine *m = km->m;
	const struct endian e = m->mem_endian;
	const unsigned a = machine_word_size(m);
	uint64_t stext;
	uint8_t buf[INDEX_BYTES + KSCAN_PAGE];
	if (!vmcoreinfo_u64(m->notes, "SYMBOL(_stext)", 16, &stext)) {
		snprintf(why, whylen, "VMCOREINFO has no SYMBOL(_stext) to search the image from");
		return DUMPFS_ERR_UNSUPPORTED;
	}
	uint64_t start = stext & ~(uint64_t)(KSCAN_PAGE - 1), pages_read = 0;
	unsigned candidates = 0;
	uint64_t budget = KSCAN_NAMES_BUDGET;
	size_t carry = 0;       /* bytes of the previous page kept in front */
	for (uint64_t at = start; at - start < KSCAN_MAX && at >= start; at += KSCAN_PAGE) {
		if (!kmem_read(km, at, buf + carry, KSCAN_PAGE)) {
			carry = 0;
			continue;
		}
		pages_read++;
		size_t len = carry + KSCAN_PAGE;
		uint64_t base = at - carry;     /* vaddr of buf[0], a's multiple */
		/* buf[0] was looked at as the previous page's last place */
		for (size_t i = carry ? a : 0; i + INDEX_BYTES <= len; i += a) {
			if (base + i <= after || buf[i] || buf[i + 1] || !index_plausible(e, buf + i))
				continue;
			uint16_t idx[TOKENS];
			for (int t = 0; t < TOKENS; t++)
				idx[t] = get16(e, buf + i + 2 * t);
			if (tables_around(km, base + i, idx, f, &budget))
				return DUMPFS_OK;
			if (++candidates >= KSCAN_CANDIDATES || !budget) {
				snprintf(why, whylen, "no kallsyms tables found scanning the kernel image: "
					 "%u token index candidates from _stext %#" PRIx64 ", none with a token "
					 "table, markers and names that agree (the search stops there)", candidates, stext);
				return DUMPFS_ERR_UNSUPPORTED;
			}
		}
		carry = INDEX_BYTES;
		memmove(buf, buf + len - carry, carry);
	}
	if (!pages_read)
		snprintf(why, whylen, "the kernel image at _stext %#" PRIx64 " is not in the dump", stext);
	else
		snprintf(why, whylen, "no kallsyms tables found scanning %" PRIu64 " pages of the kernel image "
			 "from _stext %#" PRIx64 " (%u token index candidates, none with a token table, "
			 "markers and names that agree)", pages_read, stext, candidates);
	return DUMPFS_ERR_UNSUPPORTED;
}
