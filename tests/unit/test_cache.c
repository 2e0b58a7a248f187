/*
 * test_cache.c - the bounded page cache: contents, capacity, counters and
 * concurrent use.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "page/page.h"

/* The content every test stores under @key: a function of the key, so a
 * page returned under the wrong key (or torn by a race) is detected. */
static void fill_page(uint8_t *p, uint32_t page_size, uint64_t key)
{
	uint64_t x = key * 0x9e3779b97f4a7c15ULL + 1;
	for (uint32_t i = 0; i < page_size; i += 8) {
		x ^= x >> 29;
		x *= 0xbf58476d1ce4e5b9ULL;
		memcpy(p + i, &x, 8);
	}
	memcpy(p, &key, sizeof(key));   /* and the key itself up front */
}

static bool page_ok(const uint8_t *p, uint32_t page_size, uint64_t key)
{
	uint8_t want[MAX_PAGE_SIZE];
	fill_page(want, page_size, key);
	return memcmp(p, want, page_size) == 0;
}

static void test_get_after_put(void **state)
{
	(void)state;
	static const uint32_t sizes[] = { 1024, 4096, 65536 };
	for (size_t s = 0; s < 3; s++) {
		uint32_t ps = sizes[s];
		struct page_cache *c = cache_new((size_t)4 << 20, ps);
		assert_non_null(c);
		uint8_t *in = malloc(ps), *out = malloc(ps);
		assert_non_null(in);
		assert_non_null(out);
		/* keys that look like (file << 56 | offset), plus 0 and max */
		static const uint64_t keys[] = { 0, 1, 4096, 8192, (1ULL << 56) | 4096,
						 (3ULL << 56) | 12345, UINT64_MAX };
		for (size_t k = 0; k < 7; k++) {
			memset(out, 0xa5, ps);
			assert_false(cache_get(c, keys[k], 0, out));
			/* a miss leaves the buffer alone */
			for (uint32_t i = 0; i < ps; i++)
				assert_int_equal(out[i], 0xa5);
			fill_page(in, ps, keys[k]);
			cache_put(c, keys[k], 0, in);
			memset(in, 0, ps);      /* the cache must have copied it */
		}
		for (size_t k = 0; k < 7; k++) {
			memset(out, 0, ps);
			assert_true(cache_get(c, keys[k], 0, out));
			assert_true(page_ok(out, ps, keys[k]));
		}
		/* Putting a key again does not corrupt it. */
		fill_page(in, ps, keys[2]);
		cache_put(c, keys[2], 0, in);
		assert_true(cache_get(c, keys[2], 0, out));
		assert_true(page_ok(out, ps, keys[2]));
		cache_free(c);
		free(in);
		free(out);
	}
	cache_free(NULL);
}

static void test_counters(void **state)
{
	(void)state;
	struct page_cache *c = cache_new((size_t)2 << 20, 4096);
	struct dumpfs_cache_stats st;
	uint8_t page[4096];
	assert_non_null(c);
	cache_stats(c, &st);
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.misses, 0);
	for (uint64_t k = 0; k < 100; k++)
		assert_false(cache_get(c, k, 0, page));
	cache_stats(c, &st);
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.misses, 100);
	for (uint64_t k = 0; k < 50; k++) {
		fill_page(page, 4096, k);
		cache_put(c, k, 0, page);
	}
	cache_stats(c, &st);
	assert_int_equal(st.misses, 100);       /* puts are not lookups */
	assert_int_equal(st.hits, 0);
	for (uint64_t k = 0; k < 100; k++)
		assert_int_equal(cache_get(c, k, 0, page), k < 50);
	cache_stats(c, &st);
	assert_int_equal(st.hits, 50);
	assert_int_equal(st.misses, 150);
	cache_free(c);

	cache_stats(NULL, &st);
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.misses, 0);
	assert_int_equal(st.bytes_limit, 0);
}

static long maxrss_kib(void)
{
	struct rusage ru;
	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

static void test_capacity(void **state)
{
	(void)state;
	const size_t limit = (size_t)4 << 20;
	const uint32_t ps = 4096;
	struct page_cache *c = cache_new(limit, ps);
	struct dumpfs_cache_stats st;
	uint8_t page[4096];
	assert_non_null(c);

	cache_stats(c, &st);
	assert_true(st.bytes_limit <= limit);
	assert_true(st.bytes_limit >= limit / 2);
	assert_int_equal(st.bytes_limit % ps, 0);
	const uint64_t cap = st.bytes_limit / ps;

	/* 100x the capacity goes through the cache. */
	long rss0 = maxrss_kib();
	const uint64_t n = cap * 100;
	for (uint64_t k = 0; k < n; k++) {
		fill_page(page, ps, k * 4096);
		cache_put(c, k * 4096, 0, page);
	}
	long rss1 = maxrss_kib();
	assert_true(rss1 - rss0 < 16 * 1024);   /* 400 MiB passed through */

	uint64_t present = 0, early = 0;
	for (uint64_t k = 0; k < n; k++) {
		if (cache_get(c, k * 4096, 0, page)) {
			present++;
			if (k < n / 2)
				early++;
			assert_true(page_ok(page, ps, k * 4096));
		}
	}
	assert_true(present <= cap);
	assert_true(present >= cap / 2);        /* it does cache something */
	/* The first keys are long gone. */
	for (uint64_t k = 0; k < 64; k++)
		assert_false(cache_get(c, k * 4096, 0, page));
	assert_true(early < cap / 4);
	cache_stats(c, &st);
	assert_int_equal(st.hits + st.misses, n + 64);
	assert_int_equal(st.hits, present);
	cache_free(c);
}

/* A tiny request still makes a working cache, and says how big it is. */
static void test_tiny(void **state)
{
	(void)state;
	struct page_cache *c = cache_new(1, 4096);
	struct dumpfs_cache_stats st;
	uint8_t page[4096];
	assert_non_null(c);
	cache_stats(c, &st);
	assert_true(st.bytes_limit >= 4096);
	uint64_t cap = st.bytes_limit / 4096, present = 0;
	for (uint64_t k = 0; k < cap * 10; k++) {
		fill_page(page, 4096, k);
		cache_put(c, k, 0, page);
	}
	for (uint64_t k = 0; k < cap * 10; k++)
		if (cache_get(c, k, 0, page)) {
			assert_true(page_ok(page, 4096, k));
			present++;
		}
	assert_true(present > 0);
	assert_true(present <= cap);
	cache_free(c);
}

/* A page that keeps being used survives a stream of one-off pages. */
static void test_hot_page_survives(void **state)
{
	(void)state;
	struct page_cache *c = cache_new((size_t)1 << 20, 4096);
	uint8_t page[4096];
	const uint64_t hot = 0xdead000;
	assert_non_null(c);
	fill_page(page, 4096, hot);
	cache_put(c, hot, 0, page);
	unsigned misses = 0;
	for (uint64_t k = 1; k < 20000; k++) {
		if (!cache_get(c, hot, 0, page)) {
			misses++;
			fill_page(page, 4096, hot);
			cache_put(c, hot, 0, page);
		} else {
			assert_true(page_ok(page, 4096, hot));
		}
		fill_page(page, 4096, k);
		cache_put(c, k, 0, page);
	}
	assert_true(misses < 100);
	cache_free(c);
}

struct worker {
	struct page_cache *c;
	unsigned id;
	uint64_t gets, hits, bad;
};

#define NKEYS 3000
#define ROUNDS 20000

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint8_t page[4096];
	uint64_t x = 0x1234567 + w->id * 0x9e3779b97f4a7c15ULL;
	for (int r = 0; r < ROUNDS; r++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* skewed: half of the lookups go to 1/16 of the keys */
		uint64_t key = (x & 1 ? (x >> 8) % (NKEYS / 16) : (x >> 8) % NKEYS) * 4096 + 7;
		w->gets++;
		if (cache_get(w->c, key, 0, page)) {
			w->hits++;
			if (!page_ok(page, 4096, key))
				w->bad++;
		} else {
			fill_page(page, 4096, key);
			cache_put(w->c, key, 0, page);
		}
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	/* ~1/4 of the keys fit: constant eviction under contention */
	struct page_cache *c = cache_new((size_t)NKEYS / 4 * 4096, 4096);
	enum { NT = 8 };
	pthread_t t[NT];
	struct worker w[NT];
	assert_non_null(c);
	for (unsigned i = 0; i < NT; i++) {
		w[i] = (struct worker){ .c = c, .id = i };
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	uint64_t gets = 0, hits = 0;
	for (unsigned i = 0; i < NT; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].bad, 0);
		gets += w[i].gets;
		hits += w[i].hits;
	}
	struct dumpfs_cache_stats st;
	cache_stats(c, &st);
	assert_int_equal(st.hits + st.misses, gets);
	assert_int_equal(st.hits, hits);
	assert_true(hits > 0);
	assert_true(st.misses > 0);
	/* And everything left in it is still right. */
	uint8_t page[4096];
	for (uint64_t k = 0; k < NKEYS; k++)
		if (cache_get(c, k * 4096 + 7, 0, page))
			assert_true(page_ok(page, 4096, k * 4096 + 7));
	cache_free(c);
}

/* The same location under another tag (size, codec) is another page:
 * a damaged descriptor must not be served the good one. */
static void test_tag_mismatch_misses(void **state)
{
	(void)state;
	struct page_cache *c = cache_new((size_t)1 << 20, 4096);
	assert_non_null(c);
	uint8_t in[4096], out[4096];
	fill_page(in, 4096, 42);
	cache_put(c, 42, 1000, in);
	assert_false(cache_get(c, 42, 1001, out));
	cache_put(c, 42, 1001, in);                     /* the first tag stays */
	assert_false(cache_get(c, 42, 1001, out));
	assert_true(cache_get(c, 42, 1000, out));
	assert_true(page_ok(out, 4096, 42));
	struct dumpfs_cache_stats st;
	cache_stats(c, &st);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 2);
	cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_after_put),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_tiny),
		cmocka_unit_test(test_hot_page_survives),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_tag_mismatch_misses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
