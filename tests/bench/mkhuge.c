/*
 * mkhuge - write the benchmark's terabyte-scale kdump: a 64-bit v6 header
 * for MAX_MAPNR pages (2^32 pages = 16 TiB by default), with DUMPED_GIB of
 * RAM in 16 runs spread over the address space, every page stored raw.
 * Only the headers, the set bits of the bitmaps and the descriptors are
 * written; the page data is a hole, so the file is sparse (a few tens of
 * MB on disk) and every page reads as zeros.
 *
 *   mkhuge OUT [MAX_MAPNR_LOG2 [DUMPED_GIB]]
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK 4096
#define RUNS 16

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	if (pwrite(fd, buf, len, (off_t)off) != (ssize_t)len) {
		perror("pwrite");
		exit(1);
	}
}

/* Set bits [first, first + n) of the bitmap at @base (n a multiple of 8). */
static void set_bits(int fd, uint64_t base, uint64_t first, uint64_t n)
{
	static uint8_t ones[1 << 20];
	memset(ones, 0xff, sizeof(ones));
	for (uint64_t b = first / 8; b < (first + n) / 8;) {
		uint64_t k = (first + n) / 8 - b;
		if (k > sizeof(ones))
			k = sizeof(ones);
		pwrite_all(fd, ones, (size_t)k, base + b);
		b += k;
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: mkhuge OUT [MAX_MAPNR_LOG2 [DUMPED_GIB]]\n");
		return 2;
	}
	unsigned log2 = argc > 2 ? (unsigned)atoi(argv[2]) : 32;
	uint64_t max_mapnr = 1ULL << log2;
	uint64_t dumped = (argc > 3 ? strtoull(argv[3], NULL, 0) : 8) << 18;  /* GiB -> pages */
	uint64_t run = dumped / RUNS, stride = max_mapnr / RUNS;
	uint64_t bitmap_bytes = max_mapnr / 8;
	uint32_t bitmap_blocks = (uint32_t)(2 * bitmap_bytes / BLOCK);
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || run % 8 || run > stride) {
		fprintf(stderr, "mkhuge: cannot make %s\n", argv[1]);
		return 1;
	}

	uint8_t h[BLOCK] = {0};
	memcpy(h, "KDUMP   ", 8);
	put32(h + 8, 6);
	strcpy((char *)h + 12, "Linux");
	strcpy((char *)h + 12 + 65 * 2, "6.1.0-bench");
	strcpy((char *)h + 12 + 65 * 4, "x86_64");
	put32(h + 428, BLOCK);                  /* block_size */
	put32(h + 432, 1);                      /* sub_hdr_size */
	put32(h + 436, bitmap_blocks);
	put32(h + 440, max_mapnr > UINT32_MAX ? UINT32_MAX : (uint32_t)max_mapnr);
	put32(h + 460, 1);                      /* nr_cpus */
	pwrite_all(fd, h, BLOCK, 0);

	uint8_t s[BLOCK] = {0};
	put32(s + 8, 31);                       /* dump_level */
	put64(s + 96, max_mapnr);               /* max_mapnr_64 */
	pwrite_all(fd, s, BLOCK, BLOCK);

	uint64_t bm1 = 2 * BLOCK, bm2 = bm1 + bitmap_bytes;
	uint64_t pd = bm1 + 2 * bitmap_bytes, data = pd + dumped * 24;
	uint8_t *desc = malloc(24 * run);
	uint64_t i = 0;
	for (int r = 0; r < RUNS; r++) {
		uint64_t first = (uint64_t)r * stride;
		set_bits(fd, bm1, first, run);
		set_bits(fd, bm2, first, run);
		for (uint64_t k = 0; k < run; k++, i++) {
			put64(desc + 24 * k, data + i * 4096);
			put32(desc + 24 * k + 8, 4096);
			put32(desc + 24 * k + 12, 0);
			put64(desc + 24 * k + 16, 0);
		}
		pwrite_all(fd, desc, 24 * run, pd + (i - run) * 24);
	}
	if (ftruncate(fd, (off_t)(data + dumped * 4096)) < 0) {
		perror("ftruncate");
		return 1;
	}
	free(desc);
	close(fd);
	printf("max_mapnr=%llu dumped_pages=%llu\n", (unsigned long long)max_mapnr,
	       (unsigned long long)dumped);
	return 0;
}
