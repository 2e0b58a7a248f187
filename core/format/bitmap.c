/*
 * bitmap.c - pfn bitmaps with constant-time rank, kept compact.
 *
 * A kdump file stores one page descriptor per set bit of its 2nd bitmap, in
 * pfn order, so the descriptor of pfn P is number rank(P): the count of set
 * bits below P.  The bitmap is cut into 4096-bit blocks; each block keeps
 * the running count before it and its kind: all zero, all one, or mixed,
 * and only mixed blocks keep their bits.  The bitmaps of a machine with
 * terabytes of RAM are mostly runs of zeros (holes, excluded ranges) and
 * ones (dumped ranges), so the index of a 16 TiB dump is a few MB instead
 * of the 1 GiB of bitmap in the file, and blocks in holes of a sparse file
 * are never read.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format/format.h"

#define BLOCK_BITS 4096u
#define BLOCK_BYTES (BLOCK_BITS / 8)
#define BLOCK_WORDS (BLOCK_BITS / 64)
#define KIND_ZERO 0u
#define KIND_FULL 1u
#define KIND_MIXED 2u                   /* and up: 2 + index of its bits */
#define LOAD_CHUNK (1u << 20)

static uint64_t nblocks_of(uint64_t nbits)
{
	return nbits / BLOCK_BITS + 1;  /* + 1: rank(nbits) needs a slot */
}

/* Bits of block @b that are inside the bitmap. */
static uint64_t block_valid_bits(const struct bitmap *bm, uint64_t b)
{
	uint64_t first = b * BLOCK_BITS;
	return bm->nbits - first < BLOCK_BITS ? bm->nbits - first : BLOCK_BITS;
}

static enum dumpfs_status begin(struct bitmap *bm, uint64_t nbits)
{
	memset(bm, 0, sizeof(*bm));
	if (nbits > BITMAP_MAX_BITS)
		return DUMPFS_ERR_UNSUPPORTED;
	uint64_t n = nblocks_of(nbits);
	bm->nbits = nbits;
	bm->rank = malloc(n * sizeof(*bm->rank));
	bm->kind = calloc(n, sizeof(*bm->kind));
	if (!bm->rank || !bm->kind) {
		bitmap_free(bm);
		return DUMPFS_ERR_NOMEM;
	}
	return DUMPFS_OK;
}

/* Record block @b from @bytes (@len bytes, 0 < len <= BLOCK_BYTES; the
 * bits past the bitmap's end are ignored). */
static enum dumpfs_status add_block(struct bitmap *bm, uint64_t b, const uint8_t *bytes,
				    size_t len)
{
	uint8_t blk[BLOCK_BYTES] = {0};
	uint64_t valid = block_valid_bits(bm, b);
	bool zero = true, full = valid == BLOCK_BITS && len == BLOCK_BYTES;

	memcpy(blk, bytes, len);
	if (valid < BLOCK_BITS) {       /* clear the bits past the end */
		memset(blk + (valid + 7) / 8, 0, BLOCK_BYTES - (valid + 7) / 8);
		if (valid % 8)
			blk[valid / 8] &= (uint8_t)((1u << (valid % 8)) - 1);
	}
	for (size_t i = 0; i < BLOCK_BYTES && (zero || full); i += 8) {
		uint64_t w;
		memcpy(&w, blk + i, 8);
		zero &= w == 0;
		full &= w == UINT64_MAX;
	}
	if (zero) {
		bm->kind[b] = KIND_ZERO;
		return DUMPFS_OK;
	}
	if (full) {
		bm->kind[b] = KIND_FULL;
		return DUMPFS_OK;
	}
	if (bm->nmixed == bm->mixed_cap) {
		size_t cap = bm->mixed_cap ? bm->mixed_cap * 2 : 64;
		uint8_t *m = realloc(bm->mixed, cap * BLOCK_BYTES);
		if (!m)
			return DUMPFS_ERR_NOMEM;
		bm->mixed = m;
		bm->mixed_cap = cap;
	}
	memcpy(bm->mixed + bm->nmixed * BLOCK_BYTES, blk, BLOCK_BYTES);
	bm->kind[b] = KIND_MIXED + (uint32_t)bm->nmixed++;
	return DUMPFS_OK;
}

static const uint8_t *mixed_bits(const struct bitmap *bm, uint32_t kind)
{
	return bm->mixed + (size_t)(kind - KIND_MIXED) * BLOCK_BYTES;
}

/* Set bits among the first @nbits of block @b. */
static uint64_t block_count(const struct bitmap *bm, uint64_t b, uint64_t nbits)
{
	uint32_t kind = bm->kind[b];
	if (kind == KIND_ZERO)
		return 0;
	if (kind == KIND_FULL)
		return nbits;
	const uint8_t *bits = mixed_bits(bm, kind);
	uint64_t c = 0, w;
	for (uint64_t i = 0; i < nbits / 64; i++) {
		memcpy(&w, bits + i * 8, 8);
		c += (uint64_t)__builtin_popcountll(le64toh(w));
	}
	if (nbits % 64) {
		memcpy(&w, bits + nbits / 64 * 8, 8);
		c += (uint64_t)__builtin_popcountll(le64toh(w) & ((UINT64_C(1) << (nbits % 64)) - 1));
	}
	return c;
}

static void finish(struct bitmap *bm)
{
	uint64_t sum = 0, n = nblocks_of(bm->nbits);
	for (uint64_t b = 0; b < n; b++) {
		bm->rank[b] = sum;
		if (b * BLOCK_BITS < bm->nbits)
			sum += block_count(bm, b, block_valid_bits(bm, b));
	}
}

enum dumpfs_status bitmap_init(struct bitmap *bm, const uint8_t *bits, uint64_t nbits)
{
	enum dumpfs_status st = begin(bm, nbits);
	uint64_t bytes = (nbits + 7) / 8;
	for (uint64_t b = 0; st == DUMPFS_OK && b * BLOCK_BYTES < bytes; b++) {
		uint64_t at = b * BLOCK_BYTES;
		size_t len = bytes - at < BLOCK_BYTES ? (size_t)(bytes - at) : BLOCK_BYTES;
		st = add_block(bm, b, bits + at, len);
	}
	if (st != DUMPFS_OK) {
		bitmap_free(bm);
		return st;
	}
	finish(bm);
	return DUMPFS_OK;
}

enum dumpfs_status bitmap_load(struct bitmap *bm, const struct source *src, uint64_t off,
			       uint64_t nbits)
{
	enum dumpfs_status st = begin(bm, nbits);
	uint64_t bytes = (nbits + 7) / 8;
	uint8_t *buf = st == DUMPFS_OK ? malloc(LOAD_CHUNK) : NULL;

	if (st == DUMPFS_OK && !buf)
		st = DUMPFS_ERR_NOMEM;
	for (uint64_t at = 0; st == DUMPFS_OK && at < bytes;) {
		/* Holes of a sparse file are zero blocks: skip them unread. */
		uint64_t data = source_next_data(src, off + at);
		if (data >= off + bytes)
			break;
		if (data > off + at)
			at = (data - off) / BLOCK_BYTES * BLOCK_BYTES;
		size_t len = bytes - at < LOAD_CHUNK ? (size_t)(bytes - at) : LOAD_CHUNK;
		st = source_read(src, buf, len, off + at);
		for (size_t i = 0; st == DUMPFS_OK && i < len; i += BLOCK_BYTES)
			st = add_block(bm, (at + i) / BLOCK_BYTES, buf + i,
				       len - i < BLOCK_BYTES ? len - i : BLOCK_BYTES);
		at += len;
	}
	free(buf);
	if (st != DUMPFS_OK) {
		bitmap_free(bm);
		return st;
	}
	finish(bm);
	return DUMPFS_OK;
}

void bitmap_free(struct bitmap *bm)
{
	free(bm->rank);
	free(bm->kind);
	free(bm->mixed);
	bm->rank = NULL;
	bm->kind = NULL;
	bm->mixed = NULL;
	bm->nmixed = bm->mixed_cap = 0;
}

bool bitmap_test(const struct bitmap *bm, uint64_t i)
{
	if (i >= bm->nbits)
		return false;
	uint32_t kind = bm->kind[i / BLOCK_BITS];
	if (kind < KIND_MIXED)
		return kind == KIND_FULL;
	uint64_t in = i % BLOCK_BITS;
	return mixed_bits(bm, kind)[in / 8] >> (in % 8) & 1;
}

uint64_t bitmap_rank(const struct bitmap *bm, uint64_t i)
{
	if (i > bm->nbits)
		i = bm->nbits;
	uint64_t b = i / BLOCK_BITS;
	return bm->rank[b] + (i % BLOCK_BITS ? block_count(bm, b, i % BLOCK_BITS) : 0);
}

uint64_t bitmap_find(const struct bitmap *bm, uint64_t i, bool set)
{
	const uint32_t skip = set ? KIND_ZERO : KIND_FULL;
	while (i < bm->nbits) {
		uint64_t b = i / BLOCK_BITS;
		uint32_t kind = bm->kind[b];
		if (kind == skip) {
			i = (b + 1) * BLOCK_BITS;
			continue;
		}
		if (kind < KIND_MIXED)          /* the other uniform kind: i itself */
			return i;
		const uint8_t *bits = mixed_bits(bm, kind);
		for (uint64_t in = i % BLOCK_BITS; in < BLOCK_BITS; in = (in | 63) + 1) {
			uint64_t w;
			memcpy(&w, bits + in / 64 * 8, 8);
			w = le64toh(w);
			if (!set)
				w = ~w;
			w &= ~UINT64_C(0) << (in % 64);
			if (w) {
				uint64_t found = b * BLOCK_BITS + (in & ~UINT64_C(63)) +
						 (uint64_t)__builtin_ctzll(w);
				return found < bm->nbits ? found : bm->nbits;
			}
		}
		i = (b + 1) * BLOCK_BITS;
	}
	return bm->nbits;
}

size_t bitmap_memory(const struct bitmap *bm)
{
	uint64_t n = nblocks_of(bm->nbits);
	return (size_t)(n * (sizeof(*bm->rank) + sizeof(*bm->kind)) + bm->mixed_cap * BLOCK_BYTES);
}
