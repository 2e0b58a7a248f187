/*
 * blocks.c - the memory cache under a remote source.
 *
 * The object is cut into blocks of REMOTE_BLOCK_SIZE.  A read takes the
 * blocks it covers: those present are copied, those absent are fetched,
 * a run of adjacent ones by one request (a crash session reads the same
 * page descriptors dozens of times; it pays once).  A reader that wants a
 * block another is fetching waits for that fetch rather than asking
 * again.  Blocks live on an LRU list bounded by the cache's size; a block
 * in use (a reader copying it, a request filling it) is never evicted,
 * so the bound can be passed only by what readers hold at once.
 *
 * Sequential readers (a `dd` of /mem, the flattened scan) get read-ahead,
 * as the kernel's page cache does it: a miss that starts where a recent
 * read ended fetches RA_MIN more beyond it; a reader that then reaches a
 * block read ahead, or misses again right after a recent read, doubles the
 * window, up to RA_MAX, and the next window
 * goes out while half of one still lies ahead, so about two are in flight.
 * The window grows with what readers consume, never with their number of
 * small reads: a mount's scattered header reads fetch no more than they
 * touch.
 *
 * A failed fetch fails the readers of its blocks, and the blocks leave the
 * cache so that a later read asks again.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/remote.h"

#define RA_MIN (1u << 20)
#define RA_MAX (8u << 20)
#define MAX_MERGE_BLOCKS 32             /* 8 MiB per request */
#define MIN_BLOCKS 16
#define SMALL_READ_BLOCKS 16
/* Reads of one stream come interleaved: two FUSE threads, the page
 * workers.  A read follows a stream if it starts near where one of the
 * last RECENT_READS ended. */
#define RECENT_READS 8

enum block_state { FETCHING, READY, FAILED };

struct block {
	uint64_t index;
	enum block_state state;
	bool hashed;
	bool ahead;                     /* read ahead, not yet reached by a reader */
	unsigned refs;
	size_t len;
	uint8_t *data;
	char *error;                    /* FAILED: why */
	struct block *hnext;
	struct block *prev, *next;      /* LRU, most recent first */
};

struct block_cache {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct fetcher *fetch;
	struct disk_cache *disk;
	uint64_t size, nblocks;
	size_t bs;
	struct block **table;
	size_t table_mask;
	struct block lru;               /* sentinel */
	size_t count, max;
	uint64_t ends[RECENT_READS];    /* where recent reads ended */
	unsigned next_end;
	size_t window;                  /* read-ahead bytes, 0 if not sequential */
	struct block_stats stats;
	char last_error[ERRMSG_MAX];
};

/* A request for a run of blocks. */
struct run_req {
	struct fetch_req req;
	struct block_cache *bc;
	size_t n;
	struct block **blocks;
	uint8_t **dest;
};

/* ---- the table and the LRU list (lock held) ----------------------------- */

static struct block **slot(struct block_cache *bc, uint64_t index)
{
	return &bc->table[(index * 0x9e3779b97f4a7c15ull >> 20) & bc->table_mask];
}

static struct block *lookup(struct block_cache *bc, uint64_t index)
{
	for (struct block *b = *slot(bc, index); b; b = b->hnext)
		if (b->index == index)
			return b;
	return NULL;
}

static void lru_unlink(struct block *b)
{
	b->prev->next = b->next;
	b->next->prev = b->prev;
}

static void lru_front(struct block_cache *bc, struct block *b)
{
	b->next = bc->lru.next;
	b->prev = &bc->lru;
	bc->lru.next->prev = b;
	bc->lru.next = b;
}

static void unhash(struct block_cache *bc, struct block *b)
{
	if (!b->hashed)
		return;
	struct block **pp = slot(bc, b->index);
	while (*pp != b)
		pp = &(*pp)->hnext;
	*pp = b->hnext;
	b->hashed = false;
	lru_unlink(b);
	bc->count--;
}

static void block_free(struct block *b)
{
	free(b->data);
	free(b->error);
	free(b);
}

static void evict(struct block_cache *bc)
{
	for (struct block *b = bc->lru.prev; bc->count > bc->max && b != &bc->lru;) {
		struct block *prev = b->prev;
		if (!b->refs && b->state == READY) {
			unhash(bc, b);
			block_free(b);
		}
		b = prev;
	}
}

/* A new block, FETCHING, in the table; NULL if memory runs out. */
static struct block *create(struct block_cache *bc, uint64_t index)
{
	struct block *b = calloc(1, sizeof(*b));
	size_t len = index + 1 < bc->nblocks ? bc->bs : (size_t)(bc->size - index * bc->bs);
	if (!b || !(b->data = malloc(len))) {
		free(b);
		return NULL;
	}
	b->index = index;
	b->len = len;
	b->state = FETCHING;
	b->hashed = true;
	struct block **s = slot(bc, index);
	b->hnext = *s;
	*s = b;
	lru_front(bc, b);
	bc->count++;
	evict(bc);
	return b;
}

static void unref(struct block_cache *bc, struct block *b)
{
	if (--b->refs == 0 && !b->hashed)
		block_free(b);
	else if (!b->refs)
		evict(bc);
}

/* ---- fetching ------------------------------------------------------------ */

static void run_done(struct fetch_req *req)
{
	struct run_req *r = (struct run_req *)req;
	struct block_cache *bc = r->bc;

	if (req->status == DUMPFS_OK && bc->disk)
		for (size_t i = 0; i < r->n; i++)
			disk_cache_put(bc->disk, r->blocks[i]->index, r->blocks[i]->data, r->blocks[i]->len);
	pthread_mutex_lock(&bc->lock);
	for (size_t i = 0; i < r->n; i++) {
		struct block *b = r->blocks[i];
		if (req->status == DUMPFS_OK) {
			b->state = READY;
		} else {
			b->state = FAILED;
			b->error = strdup(req->error);
			unhash(bc, b);
		}
		unref(bc, b);
	}
	if (req->status != DUMPFS_OK)
		snprintf(bc->last_error, sizeof(bc->last_error), "%s", req->error);
	pthread_cond_broadcast(&bc->changed);
	pthread_mutex_unlock(&bc->lock);
	free(r);
}

/* Mark @b as @st (READY or FAILED with @why) and drop the fetch's hold. */
static void settle(struct block_cache *bc, struct block *b, bool ok, const char *why)
{
	pthread_mutex_lock(&bc->lock);
	b->state = ok ? READY : FAILED;
	if (!ok) {
		b->error = strdup(why);
		unhash(bc, b);
	}
	unref(bc, b);
	pthread_cond_broadcast(&bc->changed);
	pthread_mutex_unlock(&bc->lock);
}

/* One request for blocks @b[0..n), adjacent, each held once for it. */
static void submit_run(struct block_cache *bc, struct block **b, size_t n)
{
	struct run_req *r = calloc(1, sizeof(*r) + n * (sizeof(*r->blocks) + sizeof(*r->dest)));
	if (!r) {
		for (size_t i = 0; i < n; i++)
			settle(bc, b[i], false, "out of memory");
		return;
	}
	r->bc = bc;
	r->n = n;
	r->blocks = (struct block **)(r + 1);
	r->dest = (uint8_t **)(r->blocks + n);
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		r->blocks[i] = b[i];
		r->dest[i] = b[i]->data;
		len += b[i]->len;
	}
	r->req = (struct fetch_req){ .off = b[0]->index * bc->bs, .len = len, .dest = r->dest,
				     .block_size = bc->bs, .done = run_done, .owner = r };
	fetcher_submit(bc->fetch, &r->req);
}

/* Fetch blocks @b[0..n) (in index order, each held once for the fetch):
 * from the disk cache where it has them, the rest by requests over runs
 * of adjacent blocks. */
static void fetch_blocks(struct block_cache *bc, struct block **b, size_t n)
{
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (bc->disk && disk_cache_get(bc->disk, b[i]->index, b[i]->data, b[i]->len)) {
			__atomic_add_fetch(&bc->stats.disk_hits, 1, __ATOMIC_RELAXED);
			settle(bc, b[i], true, NULL);
			continue;
		}
		if (bc->disk)
			__atomic_add_fetch(&bc->stats.disk_misses, 1, __ATOMIC_RELAXED);
		b[kept++] = b[i];
	}
	for (size_t i = 0; i < kept;) {
		size_t j = i + 1;
		while (j < kept && j - i < MAX_MERGE_BLOCKS && b[j]->index == b[j - 1]->index + 1)
			j++;
		submit_run(bc, b + i, j - i);
		i = j;
	}
}

/* ---- read-ahead (lock held) ---------------------------------------------- */

/* Whether a read at @off follows a recent one; remembers where it ends. */
static bool follows(struct block_cache *bc, uint64_t off, uint64_t end)
{
	uint64_t slack = 2 * (uint64_t)bc->bs;
	for (unsigned k = 0; k < RECENT_READS; k++)
		if (bc->ends[k] && off + slack >= bc->ends[k] && off <= bc->ends[k] + slack) {
			if (end > bc->ends[k])
				bc->ends[k] = end;
			return true;
		}
	bc->ends[bc->next_end++ % RECENT_READS] = end;
	return false;
}

/* After the read [@off, @end), which @missed blocks or @reached ones read
 * ahead: set the window, and take the blocks of the next one (created,
 * held once each for the fetch) into @ra; returns how many. */
static size_t plan_readahead(struct block_cache *bc, uint64_t off, uint64_t end, bool missed,
			     bool reached, struct block **ra, size_t room)
{
	bool sequential = follows(bc, off, end);
	/* A miss that follows a stream means the window is not far enough
	 * ahead (the kernel's own FUSE read-ahead runs past it): it grows
	 * then too, rather than starting over. */
	if (reached || (sequential && missed))
		bc->window = bc->window ? (bc->window * 2 > RA_MAX ? RA_MAX : bc->window * 2) : RA_MIN;
	else
		return 0;

	uint64_t next = (end + bc->bs - 1) / bc->bs, ahead = 0;
	while (next + ahead < bc->nblocks && lookup(bc, next + ahead))
		ahead++;
	size_t want = bc->window / bc->bs;
	if (ahead * 2 >= want)
		return 0;
	size_t n = 0;
	for (uint64_t i = next + ahead; i < bc->nblocks && n < want && n < room; i++) {
		if (lookup(bc, i) || bc->count + 1 > bc->max)
			break;
		struct block *b = create(bc, i);
		if (!b)
			break;
		b->refs = 1;
		b->ahead = true;
		ra[n++] = b;
	}
	bc->stats.readahead += n;
	return n;
}

/* ---- reads ----------------------------------------------------------------- */

enum dumpfs_status block_cache_read(struct block_cache *bc, void *buf, size_t len, uint64_t off)
{
	uint64_t first = off / bc->bs, last = (off + len - 1) / bc->bs;
	size_t n = (size_t)(last - first + 1);
	struct block *small[SMALL_READ_BLOCKS * 2], *ra[RA_MAX / REMOTE_BLOCK_SIZE];
	struct block **held = n <= SMALL_READ_BLOCKS ? small : malloc(2 * n * sizeof(*held));
	struct block **mine = held + n;
	size_t nmine = 0, nra;
	bool reached = false;
	enum dumpfs_status st = DUMPFS_OK;

	if (!held)
		return DUMPFS_ERR_NOMEM;
	pthread_mutex_lock(&bc->lock);
	for (size_t i = 0; i < n; i++) {
		struct block *b = lookup(bc, first + i);
		if (b) {
			bc->stats.hits++;
			reached |= b->ahead;
			b->ahead = false;
			lru_unlink(b);
			lru_front(bc, b);
		} else if ((b = create(bc, first + i))) {
			bc->stats.misses++;
			b->refs++;              /* the fetch's */
			mine[nmine++] = b;
		} else {
			st = DUMPFS_ERR_NOMEM;
			n = i;
			break;
		}
		b->refs++;
		held[i] = b;
	}
	nra = st == DUMPFS_OK ? plan_readahead(bc, off, off + len, nmine > 0, reached, ra,
					       sizeof(ra) / sizeof(*ra)) : 0;
	pthread_mutex_unlock(&bc->lock);

	fetch_blocks(bc, mine, nmine);
	fetch_blocks(bc, ra, nra);

	pthread_mutex_lock(&bc->lock);
	for (size_t i = 0; i < n; i++) {
		while (held[i]->state == FETCHING)
			pthread_cond_wait(&bc->changed, &bc->lock);
		if (held[i]->state == FAILED && st == DUMPFS_OK) {
			st = DUMPFS_ERR_IO;
			snprintf(bc->last_error, sizeof(bc->last_error), "%s", held[i]->error);
		}
	}
	pthread_mutex_unlock(&bc->lock);

	/* READY blocks do not change while held */
	for (size_t i = 0; st == DUMPFS_OK && i < n; i++) {
		uint64_t bstart = held[i]->index * bc->bs;
		uint64_t from = off > bstart ? off - bstart : 0;
		uint64_t to = off + len < bstart + held[i]->len ? off + len - bstart : held[i]->len;
		memcpy((uint8_t *)buf + (bstart + from - off), held[i]->data + from, (size_t)(to - from));
	}

	pthread_mutex_lock(&bc->lock);
	for (size_t i = 0; i < n; i++)
		unref(bc, held[i]);
	pthread_mutex_unlock(&bc->lock);
	if (held != small)
		free(held);
	return st;
}

/* ---- the cache's life ---------------------------------------------------- */

struct block_cache *block_cache_new(struct fetcher *f, struct disk_cache *dc, size_t bytes)
{
	struct block_cache *bc = calloc(1, sizeof(*bc));
	if (!bc)
		return NULL;
	bc->fetch = f;
	bc->disk = dc;
	bc->bs = REMOTE_BLOCK_SIZE;
	bc->size = fetcher_size(f);
	bc->nblocks = bc->size / bc->bs + (bc->size % bc->bs != 0);   /* no overflow */
	bc->max = bytes / bc->bs > MIN_BLOCKS ? bytes / bc->bs : MIN_BLOCKS;
	size_t slots = 64;
	while (slots < bc->max * 2)
		slots *= 2;
	bc->table = calloc(slots, sizeof(*bc->table));
	bc->table_mask = slots - 1;
	bc->lru.next = bc->lru.prev = &bc->lru;
	bc->stats.bytes_limit = (uint64_t)bc->max * bc->bs;
	pthread_mutex_init(&bc->lock, NULL);
	pthread_cond_init(&bc->changed, NULL);
	if (!bc->table) {
		block_cache_free(bc);
		return NULL;
	}
	return bc;
}

void block_cache_seed(struct block_cache *bc, const uint8_t *buf, size_t len)
{
	pthread_mutex_lock(&bc->lock);
	struct block *b = lookup(bc, 0) ? NULL : create(bc, 0);
	if (b && len >= b->len) {
		memcpy(b->data, buf, b->len);
		b->state = READY;
		if (bc->disk)
			disk_cache_put(bc->disk, 0, b->data, b->len);
	} else if (b) {
		unhash(bc, b);
		block_free(b);
	}
	pthread_mutex_unlock(&bc->lock);
}

void block_cache_stats(struct block_cache *bc, struct block_stats *st)
{
	pthread_mutex_lock(&bc->lock);
	*st = bc->stats;
	st->disk_hits = __atomic_load_n(&bc->stats.disk_hits, __ATOMIC_RELAXED);
	st->disk_misses = __atomic_load_n(&bc->stats.disk_misses, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&bc->lock);
}

void block_cache_last_error(struct block_cache *bc, char *out, size_t outlen)
{
	pthread_mutex_lock(&bc->lock);
	snprintf(out, outlen, "%s", bc->last_error);
	pthread_mutex_unlock(&bc->lock);
}

void block_cache_free(struct block_cache *bc)
{
	if (!bc)
		return;
	for (struct block *b = bc->lru.next; b && b != &bc->lru;) {
		struct block *next = b->next;
		block_free(b);
		b = next;
	}
	free(bc->table);
	pthread_cond_destroy(&bc->changed);
	pthread_mutex_destroy(&bc->lock);
	free(bc);
}
