/*
 * test_flat.c - makedumpfile's flattened format through source_open /
 * source_read, against a model that applies the records in file order
 * (what `makedumpfile -R` does with pwrite()).
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
#include <unistd.h>

#include <cmocka.h>

#include "source/source.h"

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

/* Open @path and compare everything it serves with the model. */
static void check_against_model(const char *path, const struct rec *r, size_t n,
				bool expect_warning)
{
	struct source src;
	char err[ERRMSG_MAX] = "";
	uint64_t size;
	uint8_t *m = model(r, n, &size);
	uint8_t *cov = model_coverage(r, n, size);

	assert_int_equal(source_open(&src, path, NULL, err, sizeof(err)), DUMPFS_OK);
	assert_string_equal(src.ops->wrapper, "flattened");
	assert_int_equal(src.size, size);
	if (expect_warning) {
		assert_non_null(src.warning);
		assert_non_null(strstr(src.warning, path));
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
	sb_free(&sb);

	source_close(&src);
	free(buf);
	free(m);
	free(cov);
}

/* Open must fail with @want and a message naming the file and @offset. */
static void check_open_fails(const char *path, enum dumpfs_status want, const char *offset)
{
	struct source src;
	char err[ERRMSG_MAX] = "";
	assert_int_equal(source_open(&src, path, NULL, err, sizeof(err)), want);
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
	assert_int_equal(source_open(&src, o.path, NULL, err, sizeof(err)), DUMPFS_OK);
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
	assert_int_equal(source_open(&src, o.path, NULL, err, sizeof(err)), DUMPFS_OK);
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
	assert_int_equal(source_open(&src, o.path, NULL, err, sizeof(err)), DUMPFS_OK);
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
	assert_int_equal(source_open(&src, path, NULL, err, sizeof(err)), DUMPFS_OK);
	assert_null(src.ops->wrapper);
	assert_int_equal(src.size, 26);
	assert_int_equal(source_read(&src, b, 8, 0), DUMPFS_OK);
	assert_memory_equal(b, "makedump", 8);
	assert_int_equal(source_read(&src, b, 8, 20), DUMPFS_ERR_CORRUPT);
	source_close(&src);
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
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
