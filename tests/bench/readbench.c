/*
 * readbench - the reading side of the benchmark: one program, several
 * readers of the same physical memory, so every figure in the table comes
 * from the same loop.
 *
 *   readbench file seq PATH [OFF LEN]       sequential read(2), 1 MiB requests, of
 *                                           all of PATH or of [OFF, OFF+LEN)
 *   readbench file rand PATH N SEED         N random page preads (4 KiB)
 *   readbench kdumpfile seq DUMP SIZE       libkdumpfile kdump_read(), page by page
 *   readbench kdumpfile rand DUMP SIZE N SEED
 *   readbench decompress DUMP [inflate]     every page of a kdump file, one thread,
 *                                           decompressed from memory (no I/O) by
 *                                           dumpfs's codecs, or for zlib pages by
 *                                           zlib's inflate() (the baseline)
 *
 * Prints "bytes=B seconds=S" (and "ops=N" for rand; for file seq "busy=F
 * steal=F": the fractions of all CPUs' time that was not idle, and that the
 * hypervisor gave to other guests, during the read, from /proc/stat),
 * nothing else, so the driver script can compute rates and ratios.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "page/page.h"

#ifdef HAVE_LIBKDUMPFILE
#include <libkdumpfile/kdumpfile.h>
#endif

#define PAGE 4096

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noreturn)) static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* xorshift: the same SEED gives both readers the same pages */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* CPU time of the whole machine from /proc/stat: all of it, the idle part
 * (idle + iowait), and the part the hypervisor gave to others (steal), in
 * clock ticks. */
static void cpu_ticks(uint64_t *total, uint64_t *idle, uint64_t *steal)
{
	uint64_t v[8] = {0};
	FILE *f = fopen("/proc/stat", "r");
	*total = *idle = *steal = 0;
	if (!f)
		return;
	if (fscanf(f, "cpu %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
		   " %" SCNu64 " %" SCNu64, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
		for (int i = 0; i < 8; i++)
			*total += v[i];
		*idle = v[3] + v[4];
		*steal = v[7];
	}
	fclose(f);
}

static void file_seq(const char *path, uint64_t off, uint64_t len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	size_t bs = 1 << 20;
	uint8_t *buf = malloc(bs);
	uint64_t total = 0, t_all0, t_idle0, t_steal0, t_all1, t_idle1, t_steal1;
	cpu_ticks(&t_all0, &t_idle0, &t_steal0);
	double t0 = now();
	while (total < len) {
		size_t want = len - total < bs ? (size_t)(len - total) : bs;
		ssize_t r = pread(fd, buf, want, (off_t)(off + total));
		if (r < 0)
			die("read");
		if (r == 0)
			break;
		total += (uint64_t)r;
	}
	double t = now() - t0;
	cpu_ticks(&t_all1, &t_idle1, &t_steal1);
	double all = t_all1 > t_all0 ? (double)(t_all1 - t_all0) : 1;
	double busy = 1.0 - (double)(t_idle1 - t_idle0) / all;
	double steal = (double)(t_steal1 - t_steal0) / all;
	printf("bytes=%" PRIu64 " seconds=%.6f busy=%.2f steal=%.2f\n", total, t, busy, steal);
	free(buf);
	close(fd);
}

static void file_rand(const char *path, uint64_t n, uint64_t seed)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		die(path);
	/* Readahead would turn each 4 KiB read into a larger one. */
	posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	uint64_t pages = (uint64_t)st.st_size / PAGE;
	uint8_t buf[PAGE];
	double t0 = now();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t pfn = next_rand(&seed) % pages;
		if (pread(fd, buf, PAGE, (off_t)(pfn * PAGE)) != PAGE)
			die("pread");
	}
	double t = now() - t0;
	printf("bytes=%" PRIu64 " seconds=%.6f ops=%" PRIu64 "\n", n * PAGE, t, n);
	close(fd);
}

#ifdef HAVE_LIBKDUMPFILE
static kdump_ctx_t *kdumpfile_open(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	kdump_ctx_t *ctx = kdump_new();
	if (!ctx || kdump_open_fd(ctx, fd) != KDUMP_OK) {
		fprintf(stderr, "libkdumpfile: %s: %s\n", path, ctx ? kdump_get_err(ctx) : "no memory");
		exit(2);
	}
	return ctx;
}

/* Reads as crash and drgn do: one page per call.  Pages not in the dump
 * fail with KDUMP_ERR_NODATA and count as read (zeros). */
static int kdumpfile_page(kdump_ctx_t *ctx, uint64_t pfn, uint8_t *buf)
{
	size_t sz = PAGE;
	kdump_status st = kdump_read(ctx, KDUMP_MACHPHYSADDR, pfn * PAGE, buf, &sz);
	if (st == KDUMP_OK || st == KDUMP_ERR_NODATA)
		return 0;
	fprintf(stderr, "libkdumpfile: pfn %#" PRIx64 ": %s\n", pfn, kdump_get_err(ctx));
	return -1;
}

static void kdumpfile_seq(const char *path, uint64_t size)
{
	kdump_ctx_t *ctx = kdumpfile_open(path);
	uint8_t buf[PAGE];
	double t0 = now();
	for (uint64_t pfn = 0; pfn < size / PAGE; pfn++)
		if (kdumpfile_page(ctx, pfn, buf))
			exit(1);
	double t = now() - t0;
	printf("bytes=%" PRIu64 " seconds=%.6f\n", size / PAGE * PAGE, t);
	kdump_free(ctx);
}

static void kdumpfile_rand(const char *path, uint64_t size, uint64_t n, uint64_t seed)
{
	kdump_ctx_t *ctx = kdumpfile_open(path);
	uint8_t buf[PAGE];
	double t0 = now();
	for (uint64_t i = 0; i < n; i++)
		if (kdumpfile_page(ctx, next_rand(&seed) % (size / PAGE), buf))
			exit(1);
	double t = now() - t0;
	printf("bytes=%" PRIu64 " seconds=%.6f ops=%" PRIu64 "\n", n * PAGE, t, n);
	kdump_free(ctx);
}
#endif

/*
 * The single-core limit: every page descriptor of a (64-bit, little-endian,
 * unsplit) kdump file, decompressed from a copy of the file in memory with
 * the same codec calls dumpfs uses.
 */
/* zlib's streaming inflate, one reused stream, as a reader without
 * libdeflate would do it. */
static bool zlib_inflate_page(const uint8_t *src, size_t len, uint8_t *dst)
{
	static z_stream zs;
	static bool ready;
	if (!ready) {
		if (inflateInit(&zs) != Z_OK)
			return false;
		ready = true;
	} else if (inflateReset(&zs) != Z_OK) {
		return false;
	}
	zs.next_in = (Bytef *)src;
	zs.avail_in = (uInt)len;
	zs.next_out = dst;
	zs.avail_out = PAGE;
	return inflate(&zs, Z_FINISH) == Z_STREAM_END && zs.total_out == PAGE;
}

static void decompress_all(const char *path, bool use_inflate)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		die(path);
	size_t len = (size_t)st.st_size;
	uint8_t *f = malloc(len);
	if (!f)
		die("malloc");
	for (size_t got = 0; got < len;) {
		ssize_t r = pread(fd, f + got, len - got, (off_t)got);
		if (r <= 0)
			die("pread");
		got += (size_t)r;
	}
	close(fd);
	struct endian le = { false };
	uint32_t block = get32(le, f + 428), sub = get32(le, f + 432), blocks = get32(le, f + 436);
	const uint8_t *dumped = f + (size_t)block * (1 + sub) + (size_t)blocks * block / 2;
	uint64_t ndesc = 0;
	for (size_t i = 0; i < (size_t)blocks * block / 2; i++)
		ndesc += (uint64_t)__builtin_popcount(dumped[i]);
	const uint8_t *pd = f + (size_t)block * (1 + sub + blocks);
	uint8_t out[PAGE];
	uint64_t bytes = 0;
	double t0 = now();
	for (uint64_t i = 0; i < ndesc; i++, pd += 24) {
		uint64_t off = get64(le, pd);
		uint32_t size = get32(le, pd + 8), flags = get32(le, pd + 12);
		enum codec c = flags & 1 ? CODEC_ZLIB : flags & 2 ? CODEC_LZO : flags & 4 ? CODEC_SNAPPY :
			       flags & 0x20 ? CODEC_ZSTD : CODEC_NONE;
		if (c == CODEC_NONE)
			memcpy(out, f + off, PAGE);
		else if (c == CODEC_ZLIB && use_inflate ? !zlib_inflate_page(f + off, size, out) :
			 codec_decompress(c, f + off, size, out, PAGE) != DUMPFS_OK) {
			fprintf(stderr, "page %" PRIu64 " does not decompress\n", i);
			exit(1);
		}
		bytes += PAGE;
	}
	double t = now() - t0;
	printf("bytes=%" PRIu64 " seconds=%.6f\n", bytes, t);
	free(f);
}

int main(int argc, char **argv)
{
	if (argc >= 6 && !strcmp(argv[1], "file") && !strcmp(argv[2], "seq"))
		file_seq(argv[3], strtoull(argv[4], NULL, 0), strtoull(argv[5], NULL, 0));
	else if (argc >= 4 && !strcmp(argv[1], "file") && !strcmp(argv[2], "seq"))
		file_seq(argv[3], 0, UINT64_MAX);
	else if (argc >= 6 && !strcmp(argv[1], "file") && !strcmp(argv[2], "rand"))
		file_rand(argv[3], strtoull(argv[4], NULL, 0), strtoull(argv[5], NULL, 0));
#ifdef HAVE_LIBKDUMPFILE
	else if (argc >= 5 && !strcmp(argv[1], "kdumpfile") && !strcmp(argv[2], "seq"))
		kdumpfile_seq(argv[3], strtoull(argv[4], NULL, 0));
	else if (argc >= 7 && !strcmp(argv[1], "kdumpfile") && !strcmp(argv[2], "rand"))
		kdumpfile_rand(argv[3], strtoull(argv[4], NULL, 0), strtoull(argv[5], NULL, 0),
			       strtoull(argv[6], NULL, 0));
#endif
	else if (argc >= 3 && !strcmp(argv[1], "decompress"))
		decompress_all(argv[2], argc > 3 && !strcmp(argv[3], "inflate"));
	else {
		fprintf(stderr, "usage: see the comment at the top of readbench.c\n");
		return 2;
	}
	return 0;
}
