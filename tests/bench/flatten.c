/*
 * flatten - rewrite a file in makedumpfile's flattened format with records
 * of RECORD_SIZE bytes, for the benchmark's "millions of records" case.
 *
 *   flatten IN OUT RECORD_SIZE
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: flatten IN OUT RECORD_SIZE\n");
		return 2;
	}
	FILE *in = fopen(argv[1], "rb"), *out = fopen(argv[2], "wb");
	size_t rs = strtoul(argv[3], NULL, 0);
	uint8_t *buf = malloc(rs), hdr[4096] = {0}, rh[16];
	if (!in || !out || !buf || !rs) {
		perror("flatten");
		return 1;
	}
	memcpy(hdr, "makedumpfile", 12);
	put_be64(hdr + 16, 1);                  /* type: flattened */
	put_be64(hdr + 24, 1);                  /* version */
	fwrite(hdr, 1, sizeof(hdr), out);
	uint64_t off = 0, n = 0;
	size_t got;
	while ((got = fread(buf, 1, rs, in)) > 0) {
		put_be64(rh, off);
		put_be64(rh + 8, got);
		fwrite(rh, 1, 16, out);
		fwrite(buf, 1, got, out);
		off += got;
		n++;
	}
	memset(rh, 0xff, 16);                   /* end marker */
	fwrite(rh, 1, 16, out);
	if (fclose(out) != 0) {
		perror(argv[2]);
		return 1;
	}
	printf("records=%llu\n", (unsigned long long)n);
	return 0;
}
