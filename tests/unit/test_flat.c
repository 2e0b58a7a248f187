/*
 * test_flat.c - makedumpfile's flattened format through source_open /
 * source_read, against a model that applies the records in file order
 * (what `makedumpfile -R` does with pwrite()); every file again through
 * the index sidecar flat_index_write() makes of it, and the sidecar's
 * refusals (damaged, of another file).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "source/flat.h"

static char tmpdir[256];
static unsigned file_no;

/* ---- writing flattened files ------------------------------------------- */

struct rec {
	int64_t off, size;      /* as written in the record header */
	uint64_t seed;          /* data byte j is data_byte(seed, j) */
	uint64_t data_len;      /* bytes of data actually written */
};

static uint8_t data_byte(uint64_t seed, uint64_t j)
{
	uint64_t x = (seed + 1) * 0x9e3779b97f4a7c15ULL + j * 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 31;
	x *= 0x94d049bb133111ebULL;
	return (uint8_t)(x >> 56) | 1;  /* never zero, so gaps are visible */
}

static void be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

struct out { FILE *f; char path[512]; };

static void out_open(struct out *o, const char *tag)
{
	snprintf(o->path, sizeof(o->path), "%s/%02u-%s.flat", tmpdir, file_no++, tag);
	o->f = fopen(o->path, "wb");
	assert_non_null(o->f);
}

static void out_header(struct out *o, uint64_t type, uint64_t version, size_t len)
{
	uint8_t h[4096] = {0};
	memcpy(h, "makedumpfile", 12);
	be64(h + 16, type);
	be64(h + 24, version);
	assert_int_equal(fwrite(h, 1, len, o->f), len);
}

static void out_record(struct out *o, const struct rec *r)
{
	uint8_t rh[16];
	be64(rh, (uint64_t)r->off);
	be64(rh + 8, (uint64_t)r->size);
	assert_int_equal(fwrite(rh, 1, 16, o->f), 16);
	for (uint64_t j = 0; j < r->data_len; j++)
		assert_int_not_equal(fputc(data_byte(r->seed, j), o->f), EOF);
}

static void out_end(struct out *o)
{
	uint8_t rh[16];
	memset(rh, 0xff, sizeof(rh));
	assert_int_equal(fwrite(rh, 1, 16, o->f), 16);
}

static void out_close(struct out *o)
{
	assert_int_equal(fclose(o->f), 0);
}

/* Write a complete flattened file from @n records (data_len = size). */
static void write_flat(struct out *o, const char *tag, struct rec *r, size_t n, bool end)
{
	out_open(o, tag);
	out_header(o, 1, 1, 4096);
	for (size_t i = 0; i < n; i++) {
		if (r[i].size > 0 && r[i].data_len == 0)
			r[i].data_len = (uint64_t)r[i].size;
		out_record(o, &r[i]);
	}
	if (end)
		out_end(o);
	out_close(o);
}

/* ---- the model ----------------------------------------------------------- */

/* The rearranged file: records applied in order, gaps zero.  Like
 * pwrite(), a record without data does not make the file longer. */
static uint8_t *model(const struct rec *r, size_t n, uint64_t *size)
{
	uint64_t end = 0;
	for (size_t i = 0; i < n; i++)
		if (r[i].data_len && (uint64_t)r[i].off + r[i].data_len > end)
			end = (uint64_t)r[i].off + r[i].data_len;
	uint8_t *m = calloc(1, end ? end : 1);
	assert_non_null(m);
	for (size_t i = 0; i < n; i++)
		for (uint64_t j = 0; j < r[i].data_len; j++)
			m[r[i].off + j] = data_byte(r[i].seed, j);
	*size = end;
	return m;
}

static uint64_t rng = 42;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Bytes some record wrote (the rest are gaps). */
static uint8_t *model_coverage(const struct rec *r, size_t n, uint64_t size)
{
	uint8_t *c = calloc(1, size ? size : 1);
	assert_non_null(c);
	for (size_t i = 0; i < n; i++)
		memset(c + r[i].off, 1, r[i].data_len);
	return c;
}

/* A read of a complete stream always works; in a stream without its end
 * marker a gap may be a lost record, so a read touching one must fail. */
static enum dumpfs_status model_status(const uint8_t *cov, bool incomplete, uint64_t a,
				       uint64_t len)
{
	if (incomplete)
		for (uint64_t i = a; i < a + len; i++)
			if (!cov[i])
				return DUMPFS_ERR_CORRUPT;
	return DUMPFS_OK;
}

/* Open @path (scanned, or @indexed from PATH.dfsidx) and compare
 * everything it serves with the model. */
static void check_pass(const char *path, const struct rec *r, size_t n,
		       bool expect_warning, bool indexed)
{
	struct source src;
	char err[ERRMSG_MAX] = "";
	uint64_t size;
	uint8_t *m = model(r, n, &size);
	uint8_t *cov = model_coverage(r, n, size);

	assert_int_equal(source_open(&src, path, err, sizeof(err)), DUMPFS_OK);
	assert_string_equal(src.ops->wrapper, "flattened");
	assert_int_equal(src.size, size);
	if (expect_warning) {
		assert_non_null(src.warning);
		assert_non_null(strstr(src.warning, path));
		if (!indexed)
			assert_non_null(strstr(src.warning, "offset"));
	} else {
		assert_null(src.warning);
	}

	uint8_t *buf = malloc(size + 1);
	assert_non_null(buf);
	/* all at once */
	memset(buf, 0x5a, size + 1);
	enum dumpfs_status want = model_status(cov, expect_warning, 0, size);
	assert_int_equal(source_read(&src, buf, (size_t)size, 0), want);
	if (want == DUMPFS_OK)
		assert_memory_equal(buf, m, (size_t)size);
	/* byte by byte around every record boundary */
	for (size_t i = 0; i < n; i++) {
		uint64_t pts[2] = { (uint64_t)r[i].off, (uint64_t)r[i].off + r[i].data_len };
		for (int k = 0; k < 2; k++)
			for (uint64_t a = pts[k] > 3 ? pts[k] - 3 : 0; a < pts[k] + 3 && a < size; a++) {
				uint8_t b = 0x5a;
				want = model_status(cov, expect_warning, a, 1);
				assert_int_equal(source_read(&src, &b, 1, a), want);
				if (want == DUMPFS_OK && b != m[a])
					fail_msg("%s: byte %llu is %#x, want %#x", path,
						 (unsigned long long)a, b, m[a]);
			}
	}
	/* random ranges */
	for (int k = 0; k < 300 && size; k++) {
		uint64_t a = rnd() % size, len = rnd() % (size - a + 1);
		if (k % 3 == 0 && len > 64)
			len %= 64;
		memset(buf, 0x5a, (size_t)len + 1);
		want = model_status(cov, expect_warning, a, len);
		assert_int_equal(source_read(&src, buf, (size_t)len, a), want);
		if (want == DUMPFS_OK && len && memcmp(buf, m + a, (size_t)len))
			fail_msg("%s: range [%llu, +%llu) differs", path,
				 (unsigned long long)a, (unsigned long long)len);
		assert_int_equal(buf[len], 0x5a);       /* no overrun */
	}
	/* past the end */
	assert_int_equal(source_read(&src, buf, 1, size), DUMPFS_ERR_CORRUPT);
	if (size)
		assert_int_equal(source_read(&src, buf, 2, size - 1), DUMPFS_ERR_CORRUPT);
	assert_int_equal(source_read(&src, buf, 1, UINT64_MAX), DUMPFS_ERR_CORRUPT);
	assert_int_equal(source_read(&src, buf, 0, size), DUMPFS_OK);

	/* stored_bytes counts what is in the file, overlaps included */
	uint64_t stored = 0;
	for (size_t i = 0; i < n; i++)
		stored += r[i].data_len;
	assert_int_equal(src.stored_bytes, stored);
	size_t nrec = 0;
	for (size_t i = 0; i < n; i++)
		nrec += r[i].data_len > 0;
	struct strbuf sb = {0};
	char line[64];
	src.ops->describe(&src, &sb);
	snprintf(line, sizeof(line), " (flattened, %zu records,", nrec);
	assert_non_null(sb.buf);
	assert_non_null(strstr(sb.buf, line));
	if (!strstr(sb.buf, indexed ? ".dfsidx)" : "index: full read)"))
		fail_msg("%s: /header's file line \"%s\" does not say where the index came from",
			 path, sb.buf);
	sb_free(&sb);

	source_close(&src);
	free(buf);
	free(m);
	free(cov);
}

/* ---- sidecars ------------------------------------------------------------ */

/* Scan @path and write its sidecar to @out; the scanned source stays open
 * in @scanned if it is not NULL. */
static void write_sidecar(const char *path, const char *out, struct source *scanned)
{
	struct source src;
	char err[ERRMSG_MAX] = "";
	assert_int_equal(file_source_open(&src, path, err, sizeof(err)), DUMPFS_OK);
	assert_int_equal(flat_source_open(&src, NULL, err, sizeof(err)), DUMPFS_OK);
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	if (flat_index_write(&src, fd, err, sizeof(err)) != DUMPFS_OK)
		fail_msg("%s: %s", path, err);
	assert_int_equal(close(fd), 0);
	if (scanned)
		*scanned = src;
	else
		source_close(&src);
}

/* Load @index for @path: the status, and the message in @err. */
static enum dumpfs_status load_sidecar(const char *path, const char *index, struct source *src,
				       char *err, size_t errlen)
{
	struct source idx;
	assert_int_equal(file_source_open(src, path, err, errlen), DUMPFS_OK);
	assert_int_equal(file_source_open(&idx, index, err, errlen), DUMPFS_OK);
	enum dumpfs_status st = flat_source_open_indexed(src, &idx, err, errlen);
	source_close(&idx);
	return st;
}

/* The sidecar of @path, loaded, is the index the scan built. */
static void check_round_trip(const char *path)
{
	char side[600], err[ERRMSG_MAX] = "";
	struct source scanned, loaded;
	snprintf(side, sizeof(side), "%s%s", path, DUMPFS_INDEX_SUFFIX);
	write_sidecar(path, side, &scanned);
	if (load_sidecar(path, side, &loaded, err, sizeof(err)) != DUMPFS_OK)
		fail_msg("%s: sidecar refused: %s", path, err);
	const struct flat_index *a = flat_index_of(&scanned), *b = flat_index_of(&loaded);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->npieces, b->npieces);
	if (a->npieces)
		assert_memory_equal(a->pieces, b->pieces, a->npieces * sizeof(*a->pieces));
	assert_int_equal(a->nrecords, b->nrecords);
	assert_int_equal(a->complete, b->complete);
	assert_int_equal(a->first_record, b->first_record);
	assert_int_equal(a->last_record, b->last_record);
	assert_int_equal(scanned.size, loaded.size);
	assert_int_equal(scanned.stored_bytes, loaded.stored_bytes);
	assert_string_equal(b->origin, side);
	source_close(&scanned);
	source_close(&loaded);
}

/* Open @path and compare everything it serves with the model: scanned,
 * then through its sidecar (picked up as PATH.dfsidx). */
static void check_against_model(const char *path, const struct rec *r, size_t n,
				bool expect_warning)
{
	char side[600];
	check_pass(path, r, n, expect_warning, false);
	check_round_trip(path);
	check_pass(path, r, n, expect_warning, true);
	snprintf(side, sizeof(side), "%s%s", path, DUMPFS_INDEX_SUFFIX);
	assert_int_equal(unlink(side), 0);
}

/* Open must fail with @want and a message naming the file and @offset. */
static void check_open_fails(const char *path, enum dumpfs_status want, const char *offset)
{
	struct source src;
	char err[ERRMSG_MAX] = "";
	assert_int_equal(source_open(&src, path, err, sizeof(err)), want);
	if (!strstr(err, path) || !strstr(err, offset))
		fail_msg("message \"%s\" should name %s and \"%s\"", err, path, offset);
	source_close(&src);
}

/* ---- tests ------------------------------------------------------------- */

static void test_in_order(void **state)
{
	(void)state;
	struct rec r[] = {
		{ 0, 100, 1, 0 }, { 100, 4000, 2, 0 }, { 4100, 1, 3, 0 }, { 4101, 70000, 4, 0 },
	};
	struct out o;
	write_flat(&o, "inorder", r, 4, true);
	check_against_model(o.path, r, 4, false);
}

static void test_shuffled(void **state)
{
	(void)state;
	struct rec r[] = {
		{ 8192, 4096, 1, 0 }, { 0, 4096, 2, 0 }, { 20000, 10, 3, 0 }, { 4096, 4096, 4, 0 },
		{ 12288, 100, 5, 0 },
	};
	struct out o;
	write_flat(&o, "shuffled", r, 5, true);
	check_against_model(o.path, r, 5, false);
}

static void test_gaps(void **state)
{
	(void)state;
	/* nothing at 0, a hole in the middle, a big hole before the end */
	struct rec r[] = { { 1000, 10, 1, 0 }, { 5000, 3000, 2, 0 }, { 3u << 20, 5, 3, 0 } };
	struct out o;
	write_flat(&o, "gaps", r, 3, true);
	check_against_model(o.path, r, 3, false);

	/* explicitly: a gap reads as zeros even when the read spans data */
	struct source src;
	char err[ERRMSG_MAX];
	uint8_t b[64];
	assert_int_equal(source_open(&src, o.path, err, sizeof(err)), DUMPFS_OK);
	memset(b, 0x77, sizeof(b));
	assert_int_equal(source_read(&src, b, 32, 990), DUMPFS_OK);
	for (int i = 0; i < 10; i++)
		assert_int_equal(b[i], 0);
	for (int i = 10; i < 20; i++)
		assert_int_equal(b[i], data_byte(1, (uint64_t)i - 10));
	for (int i = 20; i < 32; i++)
		assert_int_equal(b[i], 0);
	source_close(&src);
}

static void test_zero_size_records(void **state)
{
	(void)state;
	struct rec r[] = { { 0, 0, 1, 0 }, { 10, 20, 2, 0 }, { 500000, 0, 3, 0 }, { 30, 0, 4, 0 } };
	struct out o;
	write_flat(&o, "zerosize", r, 4, true);
	check_against_model(o.path, r, 4, false);
}

static void test_overlap_later_wins(void **state)
{
	(void)state;
	struct out o;

	/* a later record fully inside an earlier one */
	struct rec a[] = { { 0, 10000, 1, 0 }, { 3000, 100, 2, 0 } };
	write_flat(&o, "inside", a, 2, true);
	check_against_model(o.path, a, 2, false);

	/* an earlier long one covered by several later short ones, with
	 * bits of the long one still showing between them */
	struct rec b[] = { { 0, 20000, 1, 0 }, { 0, 100, 2, 0 }, { 5000, 5000, 3, 0 },
			   { 9000, 3000, 4, 0 }, { 19990, 10, 5, 0 }, { 15000, 1, 6, 0 } };
	write_flat(&o, "covered", b, 6, true);
	check_against_model(o.path, b, 6, false);

	/* an earlier short one inside a later long one (later wins: all long) */
	struct rec c[] = { { 100, 50, 1, 0 }, { 0, 1000, 2, 0 } };
	write_flat(&o, "swallowed", c, 2, true);
	check_against_model(o.path, c, 2, false);

	/* same range written three times, the header rewritten at the end
	 * as makedumpfile does */
	struct rec d[] = { { 0, 4096, 1, 0 }, { 4096, 8192, 2, 0 }, { 0, 4096, 3, 0 },
			   { 0, 4096, 4, 0 }, { 2048, 4096, 5, 0 } };
	write_flat(&o, "rewrites", d, 5, true);
	check_against_model(o.path, d, 5, false);

	/* partial overlaps in a chain, shuffled */
	struct rec e[] = { { 300, 200, 1, 0 }, { 0, 200, 2, 0 }, { 100, 300, 3, 0 },
			   { 450, 100, 4, 0 }, { 50, 10, 5, 0 } };
	write_flat(&o, "chain", e, 5, true);
	check_against_model(o.path, e, 5, false);
}

/* Many random records, heavily overlapping, against the model. */
static void test_overlap_random(void **state)
{
	(void)state;
	for (int round = 0; round < 30; round++) {
		size_t n = 1 + rnd() % 60;
		struct rec r[60];
		uint64_t span = 64 + rnd() % 20000;
		for (size_t i = 0; i < n; i++) {
			uint64_t off = rnd() % span;
			uint64_t len = rnd() % 3 ? rnd() % 300 : rnd() % span;
			r[i] = (struct rec){ (int64_t)off, (int64_t)len, (uint64_t)round * 100 + i, len };
		}
		struct out o;
		write_flat(&o, "random", r, n, true);
		check_against_model(o.path, r, n, false);
		unlink(o.path);
	}
}

static void test_missing_end_marker(void **state)
{
	(void)state;
	struct rec r[] = { { 0, 5000, 1, 0 }, { 6000, 100, 2, 0 } };
	struct out o;
	write_flat(&o, "noend", r, 2, false);
	check_against_model(o.path, r, 2, true);

	struct source src;
	char err[ERRMSG_MAX];
	assert_int_equal(source_open(&src, o.path, err, sizeof(err)), DUMPFS_OK);
	assert_non_null(strstr(src.warning, "end marker"));
	source_close(&src);

	/* a header and nothing else */
	struct out e;
	write_flat(&e, "headeronly", NULL, 0, false);
	check_against_model(e.path, NULL, 0, true);
	/* a half record header at the end: ignored, still a warning */
	out_open(&e, "halfrecord");
	out_header(&e, 1, 1, 4096);
	out_record(&e, &r[0]);
	assert_int_equal(fwrite("\0\0\0\0\0\0\0", 1, 7, e.f), 7);
	out_close(&e);
	r[0].data_len = 5000;
	check_against_model(e.path, r, 1, true);
}

static void test_truncated_last_record(void **state)
{
	(void)state;
	struct rec r[] = { { 0, 5000, 1, 0 }, { 8000, 3000, 2, 1200 } };
	struct out o;
	out_open(&o, "trunc");
	out_header(&o, 1, 1, 4096);
	r[0].data_len = 5000;
	out_record(&o, &r[0]);
	out_record(&o, &r[1]);          /* claims 3000, has 1200 */
	out_close(&o);
	check_against_model(o.path, r, 2, true);

	struct source src;
	char err[ERRMSG_MAX];
	assert_int_equal(source_open(&src, o.path, err, sizeof(err)), DUMPFS_OK);
	assert_non_null(strstr(src.warning, "truncated"));
	assert_int_equal(src.size, 8000 + 1200);
	uint8_t b[16];
	assert_int_equal(source_read(&src, b, 16, 8000 + 1200 - 8), DUMPFS_ERR_CORRUPT);
	source_close(&src);

	/* truncated right after the record header: no data at all */
	struct rec s[] = { { 0, 100, 1, 100 }, { 500, 3000, 2, 0 } };
	out_open(&o, "trunc0");
	out_header(&o, 1, 1, 4096);
	out_record(&o, &s[0]);
	out_record(&o, &s[1]);
	out_close(&o);
	check_against_model(o.path, s, 2, true);
}

static void test_bad_records(void **state)
{
	(void)state;
	struct out o;
	char off[64];

	/* negative size in the second record, at 4096 + 16 + 100 */
	out_open(&o, "negsize");
	out_header(&o, 1, 1, 4096);
	out_record(&o, &(struct rec){ 0, 100, 1, 100 });
	out_record(&o, &(struct rec){ 200, -5, 2, 0 });
	out_end(&o);
	out_close(&o);
	snprintf(off, sizeof(off), "offset %d", 4096 + 16 + 100);
	check_open_fails(o.path, DUMPFS_ERR_CORRUPT, off);

	/* negative offset other than the end marker */
	out_open(&o, "negoff");
	out_header(&o, 1, 1, 4096);
	out_record(&o, &(struct rec){ -2, 10, 1, 10 });
	out_end(&o);
	out_close(&o);
	check_open_fails(o.path, DUMPFS_ERR_CORRUPT, "offset 4096");

	/* short header */
	out_open(&o, "shorthdr");
	out_header(&o, 1, 1, 2000);
	out_close(&o);
	check_open_fails(o.path, DUMPFS_ERR_CORRUPT, "offset 0");

	/* wrong type / version */
	out_open(&o, "type2");
	out_header(&o, 2, 1, 4096);
	out_end(&o);
	out_close(&o);
	check_open_fails(o.path, DUMPFS_ERR_UNSUPPORTED, "offset 16");
	out_open(&o, "version9");
	out_header(&o, 1, 9, 4096);
	out_end(&o);
	out_close(&o);
	check_open_fails(o.path, DUMPFS_ERR_UNSUPPORTED, "offset 16");
}

/* Records after the end marker are not part of the dump. */
static void test_after_end_marker(void **state)
{
	(void)state;
	struct out o;
	struct rec r[] = { { 0, 100, 1, 100 } };
	out_open(&o, "afterend");
	out_header(&o, 1, 1, 4096);
	out_record(&o, &r[0]);
	out_end(&o);
	out_record(&o, &(struct rec){ 50, 100, 2, 100 });
	out_close(&o);
	check_against_model(o.path, r, 1, false);
}

/* A plain file that merely starts with something else is not flattened. */
static void test_plain_file(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof(path), "%s/plain", tmpdir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs("makedumpfil_ not flattened", f);
	fclose(f);
	struct source src;
	char err[ERRMSG_MAX];
	uint8_t b[8];
	assert_int_equal(source_open(&src, path, err, sizeof(err)), DUMPFS_OK);
	assert_null(src.ops->wrapper);
	assert_int_equal(src.size, 26);
	assert_int_equal(source_read(&src, b, 8, 0), DUMPFS_OK);
	assert_memory_equal(b, "makedump", 8);
	assert_int_equal(source_read(&src, b, 8, 20), DUMPFS_ERR_CORRUPT);
	source_close(&src);
}

/* ---- sidecar refusals ------------------------------------------------------ */

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	*len = (size_t)ftell(f);
	rewind(f);
	uint8_t *b = malloc(*len + 64);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, *len, f), *len);
	fclose(f);
	return b;
}

static void put64le(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* After editing the pieces: their digest again, so that the checks behind
 * it are the ones that refuse. */
static void fix_digest(uint8_t *b, size_t len)
{
	unsigned int n = 0;
	assert_true(EVP_Digest(b + 136, len - 136, b + 104, &n, EVP_sha256(), NULL));
	assert_int_equal(n, 32);
}

/* @len bytes of @b as a sidecar of @flat must be refused with a message
 * naming the sidecar, @offset and @what; @flat then scans as usual. */
static void check_refused(const char *flat, const uint8_t *b, size_t len, const char *offset,
			  const char *what)
{
	char side[600], err[ERRMSG_MAX] = "";
	snprintf(side, sizeof(side), "%s/bad-%02u.dfsidx", tmpdir, file_no++);
	FILE *f = fopen(side, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, len, f), len);
	fclose(f);
	struct source src;
	assert_int_equal(load_sidecar(flat, side, &src, err, sizeof(err)), DUMPFS_ERR_CORRUPT);
	if (!strstr(err, side) || !strstr(err, offset) || !strstr(err, what))
		fail_msg("message \"%s\" should name %s, \"%s\" and \"%s\"", err, side, offset, what);
	assert_null(src.ops->wrapper);          /* left as it was: a plain file */
	assert_int_equal(flat_source_open(&src, NULL, err, sizeof(err)), DUMPFS_OK);
	assert_string_equal(src.ops->wrapper, "flattened");
	source_close(&src);

	/* as PATH.dfsidx: refused with a warning, and the file scanned */
	snprintf(side, sizeof(side), "%s%s", flat, DUMPFS_INDEX_SUFFIX);
	f = fopen(side, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, len, f), len);
	fclose(f);
	assert_int_equal(source_open(&src, flat, err, sizeof(err)), DUMPFS_OK);
	assert_non_null(src.warning);
	if (!strstr(src.warning, "refused") || !strstr(src.warning, what))
		fail_msg("warning \"%s\" should say the sidecar was refused and why", src.warning);
	struct strbuf sb = {0};
	src.ops->describe(&src, &sb);
	assert_non_null(strstr(sb.buf, "index: full read"));
	sb_free(&sb);
	source_close(&src);
	unlink(side);
}

static void test_sidecar_refused(void **state)
{
	(void)state;
	struct rec r1[] = { { 100, 50, 1, 0 }, { 1000, 4000, 2, 0 }, { 8192, 4096, 3, 0 },
			    { 6000, 100, 4, 0 } };
	struct rec r2[] = { { 100, 50, 5, 0 }, { 1000, 4000, 6, 0 }, { 8192, 4096, 7, 0 },
			    { 6000, 100, 8, 0 } };
	struct rec r3[] = { { 100, 50, 1, 0 }, { 1000, 4000, 2, 0 }, { 8192, 4096, 3, 0 } };
	struct out f1, f2, f3;
	char side[600];
	size_t len;

	write_flat(&f1, "side1", r1, 4, true);
	write_flat(&f2, "side2", r2, 4, true);   /* same size, other bytes */
	write_flat(&f3, "side3", r3, 3, true);   /* another size */
	snprintf(side, sizeof(side), "%s/good.dfsidx", tmpdir);
	write_sidecar(f1.path, side, NULL);
	uint8_t *good = slurp(side, &len), *b = malloc(len + 64);
	assert_non_null(b);
	assert_int_equal(len, 136 + 4 * 24);

	/* truncated, at the header and in the pieces; a byte too many */
	check_refused(f1.path, good, 100, "offset 0:", "truncated");
	check_refused(f1.path, good, len - 1, "offset 48:", "do not fit");
	memcpy(b, good, len);
	b[len] = 0;
	check_refused(f1.path, b, len + 1, "offset 232:", "after the last");
	/* magic, version, flags */
	memcpy(b, good, len);
	b[0] ^= 1;
	check_refused(f1.path, b, len, "offset 0:", "bad magic");
	memcpy(b, good, len);
	b[8] = 2;
	check_refused(f1.path, b, len, "offset 8:", "version 2");
	memcpy(b, good, len);
	b[12] |= 4;
	check_refused(f1.path, b, len, "offset 12:", "unknown flags");
	/* counts that cannot be */
	memcpy(b, good, len);
	put64le(b + 40, 1ull << 40);
	check_refused(f1.path, b, len, "offset 40:", "records cannot fit");
	memcpy(b, good, len);
	put64le(b + 40, 1);
	check_refused(f1.path, b, len, "offset 48:", "cannot come from 1 records");
	/* a damaged piece, its digest left as it was */
	memcpy(b, good, len);
	b[136 + 24 + 3] ^= 0x10;
	check_refused(f1.path, b, len, "offset 104:", "digest");
	/* unsorted: pieces 0 and 1 swapped */
	memcpy(b, good, len);
	memcpy(b + 136, good + 160, 24);
	memcpy(b + 160, good + 136, 24);
	fix_digest(b, len);
	check_refused(f1.path, b, len, "offset 160:", "overlaps or precedes");
	/* overlapping: piece 0 runs into piece 1 */
	memcpy(b, good, len);
	put64le(b + 136 + 8, 1000);
	fix_digest(b, len);
	check_refused(f1.path, b, len, "offset 160:", "overlaps or precedes");
	/* past the file: piece 1's bytes from its last 10 bytes */
	memcpy(b, good, len);
	struct stat st;
	assert_int_equal(stat(f1.path, &st), 0);
	put64le(b + 160 + 16, (uint64_t)st.st_size - 10);
	fix_digest(b, len);
	check_refused(f1.path, b, len, "offset 176:", "not inside");
	/* empty piece */
	memcpy(b, good, len);
	put64le(b + 136 + 8, 0);
	fix_digest(b, len);
	check_refused(f1.path, b, len, "offset 136:", "empty");
	/* piece 0 moved by a byte: its record header says otherwise */
	memcpy(b, good, len);
	put64le(b + 136, 101);
	fix_digest(b, len);
	check_refused(f1.path, b, len, "offset 56:", "not in the record");
	/* the last piece's record header named wrong */
	memcpy(b, good, len);
	memcpy(b + 64, good + 56, 8);
	check_refused(f1.path, b, len, "offset 64:", "record");
	/* rearranged size not where the pieces end */
	memcpy(b, good, len);
	put64le(b + 24, 5);
	check_refused(f1.path, b, len, "offset 24:", "pieces end");

	/* another dump's sidecar: same size (the digest), another size */
	check_refused(f2.path, good, len, "offset 72:", "another file");
	check_refused(f3.path, good, len, "offset 16:", "made for a flattened file");

	free(good);
	free(b);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	(void)state;
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/dumpfs-flat-XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_shuffled),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_zero_size_records),
		cmocka_unit_test(test_overlap_later_wins),
		cmocka_unit_test(test_overlap_random),
		cmocka_unit_test(test_missing_end_marker),
		cmocka_unit_test(test_truncated_last_record),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_after_end_marker),
		cmocka_unit_test(test_plain_file),
		cmocka_unit_test(test_sidecar_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
