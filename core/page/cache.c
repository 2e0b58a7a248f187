/*
 * cache.c - a bounded cache of decompressed pages.
 *
 * Keys are the page's location in the dump file (file index and data
 * offset), not its pfn: makedumpfile points every zero page's descriptor at
 * one stored page, and keying by location decompresses that page once.
 * Each entry also keeps a tag (the stored size and codec): a damaged
 * descriptor that points at a cached page's bytes with another size must
 * decode, and fail, on its own rather than hit the good page.
 *
 * The cache is split into shards by key hash, each with its own lock, so
 * concurrent readers rarely meet; a shard evicts with the CLOCK algorithm
 * (a reference bit per slot, a sweeping hand), which approximates LRU
 * without moving list nodes on every hit.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "page/page.h"

#define NSHARDS 64
#define NO_SLOT UINT32_MAX
#define MAX_SHARD_BYTES ((size_t)1 << 30)       /* 64 GiB in all */

struct shard {
	pthread_mutex_t lock;
	uint32_t nslots, used, hand, nbuckets;
	uint64_t *keys;
	uint32_t *tags;
	uint32_t *next;         /* hash chain */
	uint32_t *buckets;
	uint8_t *referenced;
	uint8_t *data;
	uint64_t hits, misses;
};

struct page_cache {
	uint32_t page_size;
	size_t bytes;
	struct shard shards[NSHARDS];
};

static uint64_t hash64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	return k ^ (k >> 33);
}

static bool shard_init(struct shard *s, uint32_t nslots, uint32_t page_size)
{
	pthread_mutex_init(&s->lock, NULL);
	s->nslots = nslots;
	s->nbuckets = 1;
	while (s->nbuckets < nslots * 2)
		s->nbuckets <<= 1;
	s->keys = calloc(nslots, sizeof(*s->keys));
	s->tags = calloc(nslots, sizeof(*s->tags));
	s->next = calloc(nslots, sizeof(*s->next));
	s->buckets = malloc(s->nbuckets * sizeof(*s->buckets));
	s->referenced = calloc(nslots, 1);
	s->data = malloc((size_t)nslots * page_size);
	if (!s->keys || !s->tags || !s->next || !s->buckets || !s->referenced || !s->data)
		return false;
	memset(s->buckets, 0xff, s->nbuckets * sizeof(*s->buckets));
	return true;
}

static void shard_free(struct shard *s)
{
	pthread_mutex_destroy(&s->lock);
	free(s->keys);
	free(s->tags);
	free(s->next);
	free(s->buckets);
	free(s->referenced);
	free(s->data);
}

struct page_cache *cache_new(size_t bytes, uint32_t page_size)
{
	struct page_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	/* Clamped: a 32-bit slot count near 2^31 overflowed the hash table's
	 * sizing loop, and no use needs more than the kernel's page cache. */
	size_t per_shard_pages = bytes / page_size / NSHARDS;
	size_t max_pages = MAX_SHARD_BYTES / page_size;
	uint32_t per_shard = (uint32_t)(per_shard_pages > max_pages ? max_pages :
					per_shard_pages < 4 ? 4 : per_shard_pages);
	c->page_size = page_size;
	c->bytes = (size_t)per_shard * NSHARDS * page_size;
	for (int i = 0; i < NSHARDS; i++) {
		if (!shard_init(&c->shards[i], per_shard, page_size)) {
			for (int j = 0; j <= i; j++)
				shard_free(&c->shards[j]);
			free(c);
			return NULL;
		}
	}
	return c;
}

void cache_free(struct page_cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < NSHARDS; i++)
		shard_free(&c->shards[i]);
	free(c);
}

static struct shard *shard_of(struct page_cache *c, uint64_t key, uint64_t *h)
{
	*h = hash64(key);
	return &c->shards[*h % NSHARDS];
}

static uint32_t shard_find(const struct shard *s, uint64_t key, uint64_t h)
{
	uint32_t i = s->buckets[(h >> 8) & (s->nbuckets - 1)];
	while (i != NO_SLOT && s->keys[i] != key)
		i = s->next[i];
	return i;
}

bool cache_get(struct page_cache *c, uint64_t key, uint32_t tag, void *dst)
{
	uint64_t h;
	struct shard *s = shard_of(c, key, &h);

	pthread_mutex_lock(&s->lock);
	uint32_t i = shard_find(s, key, h);
	if (i != NO_SLOT && s->tags[i] != tag)
		i = NO_SLOT;
	if (i != NO_SLOT) {
		memcpy(dst, s->data + (size_t)i * c->page_size, c->page_size);
		s->referenced[i] = 1;
		s->hits++;
	} else {
		s->misses++;
	}
	pthread_mutex_unlock(&s->lock);
	return i != NO_SLOT;
}

static void shard_unlink(struct shard *s, uint32_t slot)
{
	uint32_t *p = &s->buckets[(hash64(s->keys[slot]) >> 8) & (s->nbuckets - 1)];
	while (*p != slot)
		p = &s->next[*p];
	*p = s->next[slot];
}

void cache_put(struct page_cache *c, uint64_t key, uint32_t tag, const void *src)
{
	uint64_t h;
	struct shard *s = shard_of(c, key, &h);
	uint32_t slot;

	pthread_mutex_lock(&s->lock);
	if (shard_find(s, key, h) != NO_SLOT)
		goto out;               /* another thread was faster (or, with
					 * another tag, a damaged descriptor) */
	if (s->used < s->nslots) {
		slot = s->used++;
	} else {
		while (s->referenced[s->hand]) {
			s->referenced[s->hand] = 0;
			s->hand = (s->hand + 1) % s->nslots;
		}
		slot = s->hand;
		s->hand = (s->hand + 1) % s->nslots;
		shard_unlink(s, slot);
	}
	s->keys[slot] = key;
	s->tags[slot] = tag;
	s->referenced[slot] = 0;
	uint32_t *b = &s->buckets[(h >> 8) & (s->nbuckets - 1)];
	s->next[slot] = *b;
	*b = slot;
	memcpy(s->data + (size_t)slot * c->page_size, src, c->page_size);
out:
	pthread_mutex_unlock(&s->lock);
}

void cache_stats(const struct page_cache *c, struct dumpfs_cache_stats *st)
{
	*st = (struct dumpfs_cache_stats){ .bytes_limit = c ? c->bytes : 0 };
	if (!c)
		return;
	for (int i = 0; i < NSHARDS; i++) {
		struct shard *s = (struct shard *)&c->shards[i];
		pthread_mutex_lock(&s->lock);
		st->hits += s->hits;
		st->misses += s->misses;
		pthread_mutex_unlock(&s->lock);
	}
}
