/*
 * test_bitmap.c - bitmap_rank/bitmap_find against naive bit counting.
 *
 * Every bitmap is allocated with exactly (nbits + 7) / 8 bytes so that the
 * sanitizers catch a read past the end, and the unused bits of the last
 * byte are set to garbage that must be ignored.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "format/format.h"

static const uint64_t sizes[] = { 0, 1, 7, 8, 9, 63, 64, 65, 127, 128, 4095, 4096,
				  4097, 8191, 8192, 8193, 100000 };

enum fill { FILL_RANDOM, FILL_SPARSE, FILL_DENSE, FILL_ONES, FILL_ZEROS };

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	/* xorshift64*: deterministic, so failures reproduce */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static bool naive_test(const uint8_t *bits, uint64_t i)
{
	return bits[i / 8] >> (i % 8) & 1;
}

static uint8_t *make_bits(uint64_t nbits, enum fill f)
{
	size_t bytes = (size_t)((nbits + 7) / 8);
	uint8_t *b = malloc(bytes ? bytes : 1);
	assert_non_null(b);
	for (size_t i = 0; i < bytes; i++) {
		switch (f) {
		case FILL_RANDOM: b[i] = (uint8_t)rnd(); break;
		case FILL_SPARSE: b[i] = rnd() % 53 == 0 ? (uint8_t)(1u << (rnd() % 8)) : 0; break;
		case FILL_DENSE: b[i] = rnd() % 53 == 0 ? (uint8_t)~(1u << (rnd() % 8)) : 0xff; break;
		case FILL_ONES: b[i] = 0xff; break;
		case FILL_ZEROS: b[i] = 0; break;
		}
	}
	/* Garbage in the padding bits of the last byte: opposite of the fill
	 * for all-zeros, random otherwise. */
	if (nbits % 8) {
		uint8_t pad = (uint8_t)(0xffu << (nbits % 8));
		if (f == FILL_ZEROS)
			b[bytes - 1] |= pad;
		else if (f == FILL_ONES)
			b[bytes - 1] &= (uint8_t)~pad;
		else
			b[bytes - 1] ^= pad & (uint8_t)rnd();
	}
	return b;
}

static void check_one(uint64_t nbits, enum fill f)
{
	uint8_t *bits = make_bits(nbits, f);
	struct bitmap bm;
	assert_int_equal(bitmap_init(&bm, bits, nbits), DUMPFS_OK);
	assert_int_equal(bm.nbits, nbits);

	/* Naive prefix counts and next-set / next-clear tables. */
	uint64_t *rank = malloc((size_t)(nbits + 1) * sizeof(*rank));
	uint64_t *nset = malloc((size_t)(nbits + 1) * sizeof(*nset));
	uint64_t *nclr = malloc((size_t)(nbits + 1) * sizeof(*nclr));
	assert_non_null(rank);
	assert_non_null(nset);
	assert_non_null(nclr);
	rank[0] = 0;
	for (uint64_t i = 0; i < nbits; i++)
		rank[i + 1] = rank[i] + naive_test(bits, i);
	nset[nbits] = nclr[nbits] = nbits;
	for (uint64_t i = nbits; i-- > 0;) {
		nset[i] = naive_test(bits, i) ? i : nset[i + 1];
		nclr[i] = naive_test(bits, i) ? nclr[i + 1] : i;
	}

	for (uint64_t i = 0; i <= nbits; i++) {
		if (bitmap_rank(&bm, i) != rank[i])
			fail_msg("nbits %llu fill %d: rank(%llu) = %llu, want %llu",
				 (unsigned long long)nbits, f, (unsigned long long)i,
				 (unsigned long long)bitmap_rank(&bm, i),
				 (unsigned long long)rank[i]);
		if (bitmap_find(&bm, i, true) != nset[i])
			fail_msg("nbits %llu fill %d: find(%llu, set) = %llu, want %llu",
				 (unsigned long long)nbits, f, (unsigned long long)i,
				 (unsigned long long)bitmap_find(&bm, i, true),
				 (unsigned long long)nset[i]);
		if (bitmap_find(&bm, i, false) != nclr[i])
			fail_msg("nbits %llu fill %d: find(%llu, clear) = %llu, want %llu",
				 (unsigned long long)nbits, f, (unsigned long long)i,
				 (unsigned long long)bitmap_find(&bm, i, false),
				 (unsigned long long)nclr[i]);
		if (i < nbits)
			assert_int_equal(bitmap_test(&bm, i), naive_test(bits, i));
	}
	/* Past the end: rank saturates, find says "none", test is false. */
	assert_int_equal(bitmap_rank(&bm, nbits + 1), rank[nbits]);
	assert_int_equal(bitmap_rank(&bm, nbits + 12345), rank[nbits]);
	assert_int_equal(bitmap_rank(&bm, UINT64_MAX), rank[nbits]);
	assert_int_equal(bitmap_find(&bm, nbits + 1, true), nbits);
	assert_int_equal(bitmap_find(&bm, UINT64_MAX - 3, false), nbits);
	assert_false(bitmap_test(&bm, nbits));
	assert_false(bitmap_test(&bm, nbits + 7));

	/* A few fully independent spot checks (no tables). */
	for (int k = 0; k < 8 && nbits; k++) {
		uint64_t i = rnd() % (nbits + 1), c = 0;
		for (uint64_t j = 0; j < i; j++)
			c += naive_test(bits, j);
		assert_int_equal(bitmap_rank(&bm, i), c);
	}

	if (f == FILL_ONES) {
		assert_int_equal(bitmap_rank(&bm, nbits), nbits);
		assert_int_equal(bitmap_find(&bm, 0, false), nbits);
		assert_int_equal(bitmap_find(&bm, 0, true), nbits ? 0 : nbits);
	}
	if (f == FILL_ZEROS) {
		assert_int_equal(bitmap_rank(&bm, nbits), 0);
		assert_int_equal(bitmap_find(&bm, 0, true), nbits);
		assert_int_equal(bitmap_find(&bm, 0, false), 0);
	}

	bitmap_free(&bm);
	assert_null(bm.rank);
	bitmap_free(&bm);               /* twice is harmless */
	free(rank);
	free(nset);
	free(nclr);
	free(bits);
}

static void run_fill(enum fill f)
{
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		check_one(sizes[i], f);
}

static void test_random(void **state) { (void)state; run_fill(FILL_RANDOM); run_fill(FILL_RANDOM); }
static void test_sparse(void **state) { (void)state; run_fill(FILL_SPARSE); }
static void test_dense(void **state) { (void)state; run_fill(FILL_DENSE); }
static void test_all_ones(void **state) { (void)state; run_fill(FILL_ONES); }
static void test_all_zeros(void **state) { (void)state; run_fill(FILL_ZEROS); }

/* A single set bit at each interesting position of a 3-block bitmap. */
static void test_single_bits(void **state)
{
	(void)state;
	const uint64_t nbits = 3 * 4096 + 17;
	static const uint64_t pos[] = { 0, 1, 63, 64, 65, 4095, 4096, 4097, 8191, 8192,
					3 * 4096, 3 * 4096 + 16 };
	uint8_t *bits = calloc(1, (size_t)(nbits + 7) / 8);
	assert_non_null(bits);
	for (size_t k = 0; k < sizeof(pos) / sizeof(pos[0]); k++) {
		uint64_t p = pos[k];
		memset(bits, 0, (size_t)(nbits + 7) / 8);
		bits[p / 8] = (uint8_t)(1u << (p % 8));
		struct bitmap bm;
		assert_int_equal(bitmap_init(&bm, bits, nbits), DUMPFS_OK);
		assert_int_equal(bitmap_rank(&bm, p), 0);
		assert_int_equal(bitmap_rank(&bm, p + 1), 1);
		assert_int_equal(bitmap_rank(&bm, nbits), 1);
		assert_int_equal(bitmap_find(&bm, 0, true), p);
		assert_int_equal(bitmap_find(&bm, p, true), p);
		assert_int_equal(bitmap_find(&bm, p + 1, true), nbits);
		assert_int_equal(bitmap_find(&bm, p, false), p + 1 < nbits ? p + 1 : nbits);
		bitmap_free(&bm);
	}
	free(bits);
}

/*
 * bitmap_load from a sparse file (runs of ones and a few mixed blocks in a
 * mostly-hole bitmap, as in a dump of a huge machine) must agree with
 * bitmap_init over the same bytes, and its index must stay small.
 */
static void test_load_sparse_file(void **state)
{
	(void)state;
	const uint64_t nbits = UINT64_C(1) << 26, bytes = nbits / 8, off = 4096;
	uint8_t *bits = calloc(1, (size_t)bytes);
	assert_non_null(bits);
	for (uint64_t r = 0; r < 8; r++)       /* 8 runs of 2^18 pages */
		memset(bits + r * (bytes / 8), 0xff, (1u << 18) / 8);
	for (uint64_t k = 0; k < 64; k++)      /* some mixed blocks */
		bits[bytes / 3 + k * 4096] = (uint8_t)(0x5a ^ k);

	char path[] = "/tmp/dumpfs-bitmap-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	for (uint64_t at = 0; at < bytes; at += 4096) {
		bool zero = true;
		for (size_t i = 0; i < 4096 && zero; i++)
			zero = !bits[at + i];
		if (!zero)
			assert_int_equal(pwrite(fd, bits + at, 4096, (off_t)(off + at)), 4096);
	}
	assert_int_equal(ftruncate(fd, (off_t)(off + bytes)), 0);
	close(fd);

	struct source src;
	char err[ERRMSG_MAX];
	struct bitmap loaded, ref;
	assert_int_equal(source_open(&src, path, err, sizeof(err)), DUMPFS_OK);
	assert_int_equal(bitmap_load(&loaded, &src, off, nbits), DUMPFS_OK);
	assert_int_equal(bitmap_init(&ref, bits, nbits), DUMPFS_OK);
	for (uint64_t i = 0; i < nbits; i += 997 + (i & 63)) {
		assert_int_equal(bitmap_test(&loaded, i), bitmap_test(&ref, i));
		assert_int_equal(bitmap_rank(&loaded, i), bitmap_rank(&ref, i));
		assert_int_equal(bitmap_find(&loaded, i, true), bitmap_find(&ref, i, true));
		assert_int_equal(bitmap_find(&loaded, i, false), bitmap_find(&ref, i, false));
	}
	assert_int_equal(bitmap_rank(&loaded, nbits), bitmap_rank(&ref, nbits));
	/* rank + kind per 4096-bit block and the 64 mixed blocks: about 1/40
	 * of the bitmap, not a copy of it. */
	assert_true(bitmap_memory(&loaded) < bytes / 16);
	bitmap_free(&loaded);
	bitmap_free(&ref);
	source_close(&src);
	unlink(path);
	free(bits);
}

/* A bitmap larger than dumpfs indexes is refused before any allocation. */
static void test_too_large(void **state)
{
	(void)state;
	struct bitmap bm;
	uint8_t b = 0xff;
	assert_int_equal(bitmap_init(&bm, &b, BITMAP_MAX_BITS + 1), DUMPFS_ERR_UNSUPPORTED);
	assert_null(bm.rank);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_sparse),
		cmocka_unit_test(test_dense),
		cmocka_unit_test(test_all_ones),
		cmocka_unit_test(test_all_zeros),
		cmocka_unit_test(test_single_bits),
		cmocka_unit_test(test_load_sparse_file),
		cmocka_unit_test(test_too_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
