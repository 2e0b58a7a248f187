/*
 * probe.c - open a (possibly damaged) dump through the public API, read
 * every page of /mem and every byte of every file of the tree, and compare
 * /mem with what the writer put there.
 *
 *   probe EXPECTED_MEM DUMP...
 *
 * Prints one line:
 *   "error: MESSAGE"                                  open failed (exit 3)
 *   "served PAGES eio EIO wrong WRONG files N bytes B" open worked (exit 0)
 * WRONG counts pages that read without an error but differ from
 * EXPECTED_MEM; the caller decides which of them its damage explains.
 * Pages past EXPECTED_MEM's end must read as zeros.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../map_file.h"

#include "dumpfs.h"

/* Read every file node to its end, stepping over EIO ranges page by page. */
static void read_tree(struct dumpfs_dump *d, uint64_t *files, uint64_t *bytes)
{
	static uint8_t buf[1 << 16];
	uint32_t n = dumpfs_node_count(d);
	for (uint32_t i = 0; i < n; i++) {
		struct dumpfs_node_info info;
		if (dumpfs_node_stat(d, i, &info) != DUMPFS_OK || info.type != DUMPFS_NODE_FILE)
			continue;
		if (!strcmp(info.name, "mem"))
			continue;       /* done page by page */
		(*files)++;
		for (uint64_t off = 0; off < info.size;) {
			ssize_t r = dumpfs_node_read(d, i, buf, sizeof(buf), off);
			if (r == 0)
				break;
			if (r < 0)
				off = (off | 4095) + 1;
			else
				off += (uint64_t)r, *bytes += (uint64_t)r;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: probe EXPECTED_MEM DUMP...\n");
		return 2;
	}
	size_t explen;
	const uint8_t *expect = map_file(argv[1], &explen);
	struct dumpfs_dump *d;
	char err[512];
	if (dumpfs_open(&d, (const char *const *)argv + 2, (size_t)argc - 2, NULL, err,
			sizeof(err)) != DUMPFS_OK) {
		if (strchr(err, '\n') || !err[0]) {
			printf("bad error message: \"%s\"\n", err);
			return 1;
		}
		printf("error: %s\n", err);
		return 3;
	}

	static uint8_t page[1 << 16], zero[1 << 16];
	const size_t ps = 4096;
	uint64_t served = 0, eio = 0, wrong = 0, files = 0, bytes = 0;
	uint64_t size = dumpfs_mem_size(d);
	for (uint64_t pa = 0; pa < size; pa += ps) {
		ssize_t r = dumpfs_read_phys(d, page, ps, pa);
		if (r == -EIO) {
			eio++;
			continue;
		}
		if (r != (ssize_t)ps && !(r > 0 && pa + (uint64_t)r == size)) {
			printf("read at %#llx returned %zd\n", (unsigned long long)pa, r);
			return 1;
		}
		served++;
		const uint8_t *want = pa + ps <= explen ? expect + pa : zero;
		if (memcmp(page, want, (size_t)r))
			wrong++;
	}
	read_tree(d, &files, &bytes);
	dumpfs_close(d);
	printf("served %llu eio %llu wrong %llu files %llu bytes %llu\n",
	       (unsigned long long)served, (unsigned long long)eio, (unsigned long long)wrong,
	       (unsigned long long)files, (unsigned long long)bytes);
	return 0;
}
