/*
 * bitmap.c - pfn bitmaps with constant-time rank.
 *
 * A kdump file stores one page descriptor per set bit of its 2nd bitmap, in
 * pfn order, so the descriptor of pfn P is number rank(P): the count of set
 * bits below P.  We keep the running count at every 4096-bit block (8 bytes
 * per 512 bytes of bitmap, 1/64 of it) and popcount at most 64 words.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define BLOCK_BITS 4096u
#define BLOCK_WORDS (BLOCK_BITS / 64)

/* Word @w of the bitmap, bit b = index 64w+b; zero past the end. */
static uint64_t word_at(const struct bitmap *bm, uint64_t w)
{
	uint64_t first = w * 64;
	if (first >= bm->nbits)
		return 0;
	uint64_t bytes = (bm->nbits + 7) / 8, at = w * 8, v;
	if (at + 8 <= bytes) {
		v = get_le64(bm->bits + at);
	} else {
		uint8_t tmp[8] = {0};
		memcpy(tmp, bm->bits + at, (size_t)(bytes - at));
		v = get_le64(tmp);
	}
	if (bm->nbits - first < 64)
		v &= (UINT64_C(1) << (bm->nbits - first)) - 1;
	return v;
}

enum dumpfs_status bitmap_init(struct bitmap *bm, const uint8_t *bits, uint64_t nbits)
{
	uint64_t nblocks = nbits / BLOCK_BITS + 1, sum = 0;

	bm->bits = bits;
	bm->nbits = nbits;
	bm->rank = malloc(nblocks * sizeof(*bm->rank));
	if (!bm->rank)
		return DUMPFS_ERR_NOMEM;
	for (uint64_t b = 0; b < nblocks; b++) {
		bm->rank[b] = sum;
		for (uint64_t w = b * BLOCK_WORDS; w < (b + 1) * BLOCK_WORDS; w++)
			sum += (uint64_t)__builtin_popcountll(word_at(bm, w));
	}
	return DUMPFS_OK;
}

void bitmap_free(struct bitmap *bm)
{
	free(bm->rank);
	bm->rank = NULL;
}

uint64_t bitmap_rank(const struct bitmap *bm, uint64_t i)
{
	if (i > bm->nbits)
		i = bm->nbits;
	uint64_t b = i / BLOCK_BITS, r = bm->rank[b];
	uint64_t w = b * BLOCK_WORDS, last = i / 64;
	for (; w < last; w++)
		r += (uint64_t)__builtin_popcountll(word_at(bm, w));
	if (i % 64)
		r += (uint64_t)__builtin_popcountll(word_at(bm, last) &
						    ((UINT64_C(1) << (i % 64)) - 1));
	return r;
}

uint64_t bitmap_find(const struct bitmap *bm, uint64_t i, bool set)
{
	while (i < bm->nbits) {
		uint64_t v = word_at(bm, i / 64);
		if (!set)
			v = ~v;
		v &= ~UINT64_C(0) << (i % 64);
		if (v) {
			uint64_t found = (i & ~UINT64_C(63)) + (uint64_t)__builtin_ctzll(v);
			return found < bm->nbits ? found : bm->nbits;
		}
		i = (i | 63) + 1;
	}
	return bm->nbits;
}
