/*
 * fuzz_dump.c - libFuzzer harness: one fuzz input is one dump (or, for the
 * split harness, a pair of split parts), opened and read through the public
 * API exactly as the mount does it.
 *
 * Built once per input format (tests/fuzz/run.sh), with
 * FUZZ_FORMAT naming the format the harness accepts:
 *   kdump      starts with "KDUMP   " or "DISKDUMP"
 *   flat       starts with the makedumpfile flattened signature
 *   elf        starts with "\177ELF"
 *   split      u32 little-endian length L, then L bytes of part 1, then
 *              part 2 (two files of a makedumpfile --split set)
 *   lime       starts with LiME's magic "EMiL"
 *   xen        starts with "\177ELF" and holds "Xen\0" (a note owner or
 *              section name): `xl dump-core` files and Xen host kdumps,
 *              their p2m tables and dom0's p2m tree
 *   raw        the text of a -o ranges= option up to the first NUL byte
 *              (within RAW_TEXT_MAX), then a raw memory image: the range
 *              parser and its checks against the file, then the reads
 *   vmlinux    starts with "\177ELF": a kernel's vmlinux, given as
 *              -o vmlinux= to the sample dump (FUZZ_SAMPLE), whose
 *              /header, /kernel/symbols, /kernel/btf and /tasks are read
 * Inputs of another format are skipped, so that each harness spends its
 * time on its own parser rather than rediscovering the others.
 *
 * Per input: write the bytes to memfds, dumpfs_open() them by path, read
 * /header, every data page of /mem and /vmcore.elf (holes found with
 * SEEK_DATA, as `cp --sparse` would) and every other node of the tree;
 * then check the contract's promises that a sanitizer cannot see (see
 * check_*() below) and abort() when one is broken.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dumpfs.h"

#ifndef FUZZ_FORMAT
#error "build with -DFUZZ_FORMAT=kdump|flat|elf|split|lime|raw|vmlinux|xen"
#endif
#define FUZZ_STR2(x) #x
#define FUZZ_STR(x) FUZZ_STR2(x)

/*
 * A hostile header can describe terabytes of memory that are all "data"
 * (an ELF PT_LOAD whose p_filesz runs past EOF reads as EIO page after
 * page).  Reading all of it would make one input take hours and teach the
 * fuzzer nothing after the first pages, so each file is read up to this
 * many bytes; the seeds (a few dozen pages) are read completely.
 */
#define READ_BUDGET (8u << 20)
/* Small, so that eviction runs on every input with more than a few pages. */
#define FUZZ_CACHE_BYTES (256u << 10)
#define CHUNK (1u << 16)
/* The longest ranges= text a raw input starts with: a few dozen ranges. */
#define RAW_TEXT_MAX 1024

static uint8_t chunk[CHUNK], again[CHUNK];

static void fail(const char *what, const char *node, uint64_t off, ssize_t r)
{
	fprintf(stderr, "fuzz_dump: %s: %s at offset %llu (returned %zd)\n", what, node,
		(unsigned long long)off, r);
	abort();
}

/* A memfd holding @len bytes, seen by dumpfs_open() as /proc/self/fd/N. */
static int memfd_with(const uint8_t *data, size_t len, char *path, size_t pathlen)
{
	int fd = memfd_create("fuzz-dump", MFD_CLOEXEC);
	if (fd < 0) {
		perror("memfd_create");
		abort();
	}
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, data + done, len - done);
		if (n <= 0) {
			perror("write memfd");
			abort();
		}
		done += (size_t)n;
	}
	snprintf(path, pathlen, "/proc/self/fd/%d", fd);
	return fd;
}

/* A read may return at most what was asked, and nothing past the end. */
static void check_read_result(const char *name, uint64_t size, uint64_t off, size_t asked,
			      ssize_t r)
{
	if (r > (ssize_t)asked || (r > 0 && off + (uint64_t)r > size))
		fail("read returned more than there is", name, off, r);
	if (r == 0 && off < size)
		fail("read returned 0 before the end", name, off, r);
	if (r < 0 && r != -EIO && r != -ENOMEM)
		fail("read failed with an unexpected errno", name, off, r);
}

/* The same range read twice gives the same bytes: nothing left over from a
 * previous buffer or another page reaches the reader. */
static void check_stable(struct dumpfs_dump *d, uint32_t node, const char *name,
			 uint64_t off, ssize_t r)
{
	memset(again, 0xA5, (size_t)r);
	ssize_t r2 = dumpfs_node_read(d, node, again, (size_t)r, off);
	if (r2 != r || memcmp(chunk, again, (size_t)r))
		fail("two reads of one range differ", name, off, r2);
}

/* Read [off, end) of a node, stepping over EIO pages; returns bytes read. */
static uint64_t read_range(struct dumpfs_dump *d, uint32_t node, const char *name,
			   uint64_t size, uint64_t off, uint64_t end, uint64_t budget,
			   bool verify)
{
	uint64_t total = 0;
	while (off < end && total < budget) {
		size_t want = end - off < CHUNK ? (size_t)(end - off) : CHUNK;
		memset(chunk, 0x5A, want);
		ssize_t r = dumpfs_node_read(d, node, chunk, want, off);
		check_read_result(name, size, off, want, r);
		if (r <= 0) {
			off = (off | 1023) + 1;   /* past the smallest page */
			total += 1024;
			continue;
		}
		if (verify)
			check_stable(d, node, name, off, r);
		off += (uint64_t)r;
		total += (uint64_t)r;
	}
	return total;
}

/* Holes of /mem read as zeros. */
static void check_hole_is_zero(struct dumpfs_dump *d, uint32_t node, const char *name,
			       uint64_t size, uint64_t hole, uint64_t data)
{
	size_t n = data - hole < CHUNK ? (size_t)(data - hole) : CHUNK;
	memset(chunk, 0x5A, n);
	ssize_t r = dumpfs_node_read(d, node, chunk, n, hole);
	check_read_result(name, size, hole, n, r);
	for (ssize_t i = 0; i < r; i++)
		if (chunk[i])
			fail("a hole reads non-zero", name, hole + (uint64_t)i, r);
}

/* /mem and /vmcore.elf: data runs found with SEEK_DATA/SEEK_HOLE, as a
 * sparse copy does. */
static void read_sparse(struct dumpfs_dump *d, uint32_t node, const char *name, uint64_t size)
{
	uint64_t budget = READ_BUDGET, off = 0;
	unsigned holes_checked = 0;
	while (off < size && budget > 0) {
		int64_t data = dumpfs_node_seek(d, node, off, SEEK_DATA);
		if (data == -ENXIO)
			break;
		if (data < (int64_t)off || (uint64_t)data >= size)
			fail("SEEK_DATA out of range", name, off, (ssize_t)data);
		if ((uint64_t)data > off && holes_checked++ < 16)
			check_hole_is_zero(d, node, name, size, off, (uint64_t)data);
		int64_t hole = dumpfs_node_seek(d, node, (uint64_t)data, SEEK_HOLE);
		if (hole <= data || (uint64_t)hole > size)
			fail("SEEK_HOLE out of range", name, (uint64_t)data, (ssize_t)hole);
		uint64_t got = read_range(d, node, name, size, (uint64_t)data, (uint64_t)hole,
					  budget, true);
		budget -= got < budget ? got : budget;
		off = (uint64_t)hole;
	}
}

/* Names of the tree become directory entries: never empty, ".", ".." or
 * containing '/', and every one found again by lookup. */
static void check_name(struct dumpfs_dump *d, uint32_t node, const struct dumpfs_node_info *info)
{
	if (node == 0)
		return;
	const char *name = info->name;
	if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		fail("bad node name", name, node, 0);
	if (dumpfs_node_lookup(d, info->parent, name) != (int64_t)node)
		fail("lookup does not find the node", name, node, 0);
}

/* One node of the tree; @top: the directory whose mem and vmcore.elf are
 * memory (the root, or a guest's). */
static void visit(struct dumpfs_dump *d, uint32_t i, const struct dumpfs_node_info *info,
		  uint32_t count, int64_t top)
{
	check_name(d, i, info);
	if (info->type == DUMPFS_NODE_DIR) {
		for (uint32_t c = 0; dumpfs_node_child(d, i, c) >= 0; c++)
			if (c >= count)
				fail("a directory has more children than the tree has nodes",
				     info->name, i, 0);
		return;
	}
	if (info->stored > info->size)
		fail("more bytes stored than the file holds", info->name, info->stored, 0);
	if ((!strcmp(info->name, "mem") || !strcmp(info->name, "vmcore.elf")) && info->parent == top)
		read_sparse(d, i, info->name, info->size);
	else
		read_range(d, i, info->name, info->size, 0, info->size, READ_BUDGET,
			   !info->is_volatile);
	/* and past the end: nothing */
	if (dumpfs_node_read(d, i, chunk, 16, info->size) > 0 && !info->is_volatile)
		fail("read past the end returns data", info->name, info->size, 0);
}

/* The nodes under @dir, a guest's (numbered apart from the dump's). */
static uint32_t walk_guest(struct dumpfs_dump *d, uint32_t dir, uint32_t count, int64_t top,
			   int depth)
{
	uint32_t seen = 0;
	int64_t child;
	for (uint32_t c = 0; depth < 16 && (child = dumpfs_node_child(d, dir, c)) >= 0; c++) {
		struct dumpfs_node_info info;
		if (dumpfs_node_stat(d, (uint32_t)child, &info) != DUMPFS_OK)
			fail("stat of a guest's node fails", "?", (uint64_t)child, 0);
		visit(d, (uint32_t)child, &info, count, top);
		seen++;
		if (info.type == DUMPFS_NODE_DIR)
			seen += walk_guest(d, (uint32_t)child, count, top, depth + 1);
	}
	return seen;
}

/*
 * Every node: the dump's are numbered from 0; a guest's (/dom0/ of a Xen
 * host's kdump), which dumpfs_node_count() counts too, apart, and are
 * walked from their directory.  Together they are the count.
 */
static void walk_tree(struct dumpfs_dump *d)
{
	uint32_t count = dumpfs_node_count(d), seen = 0;
	int64_t guest = dumpfs_node_by_path(d, "/dom0");
	for (uint32_t i = 0; i < count; i++) {
		struct dumpfs_node_info info;
		if (dumpfs_node_stat(d, i, &info) != DUMPFS_OK) {
			if (guest >= 0 && seen == i)
				break;          /* past the dump's own nodes */
			fail("stat of an existing node fails", "?", i, 0);
		}
		visit(d, i, &info, count, 0);
		seen++;
	}
	if (guest >= 0) {
		struct dumpfs_node_info info;
		if (dumpfs_node_stat(d, (uint32_t)guest, &info) != DUMPFS_OK)
			fail("stat of the guest's directory fails", "dom0", (uint64_t)guest, 0);
		visit(d, (uint32_t)guest, &info, count, guest);
		seen += 1 + walk_guest(d, (uint32_t)guest, count, guest, 0);
	}
	if (seen != count)
		fail("the tree's nodes are not the count", "?", seen, (ssize_t)count);
}

/* Read a whole node by path, if the tree has it. */
static void read_node(struct dumpfs_dump *d, const char *path)
{
	struct dumpfs_node_info info;
	int64_t node = dumpfs_node_by_path(d, path);
	if (node >= 0 && dumpfs_node_stat(d, (uint32_t)node, &info) == DUMPFS_OK)
		read_range(d, (uint32_t)node, path, info.size, 0, info.size, READ_BUDGET, false);
}

/* The files a vmlinux feeds: symbols, types, and /tasks through them
 * (the first few thread groups' status and maps). */
static void read_kernel_nodes(struct dumpfs_dump *d)
{
	read_node(d, "/kernel/symbols");
	read_node(d, "/kernel/btf");
	int64_t tasks = dumpfs_node_by_path(d, "/tasks");
	for (uint32_t c = 0; tasks >= 0 && c < 4; c++) {
		struct dumpfs_node_info info;
		int64_t child = dumpfs_node_child(d, (uint32_t)tasks, c);
		if (child < 0 || dumpfs_node_stat(d, (uint32_t)child, &info) != DUMPFS_OK)
			break;
		char path[64];
		snprintf(path, sizeof(path), "/tasks/%s/status", info.name);
		read_node(d, path);
		snprintf(path, sizeof(path), "/tasks/%s/maps", info.name);
		read_node(d, path);
	}
}

static void exercise(const char *const *paths, size_t nfiles, const char *vmlinux, const char *ranges)
{
	struct dumpfs_options opts = { .cache_bytes = FUZZ_CACHE_BYTES, .vmlinux_path = vmlinux,
				       .raw_ranges = ranges };
	struct dumpfs_dump *d;
	char err[512];
	err[0] = '\0';
	if (dumpfs_open(&d, paths, nfiles, &opts, err, sizeof(err)) != DUMPFS_OK) {
		/* The contract: one line naming the file. */
		if (!err[0] || strchr(err, '\n') || !strstr(err, "/proc/self/fd/"))
			fail("open error is not one line naming the file", err, 0, 0);
		return;
	}
	int64_t header = dumpfs_node_by_path(d, "/header");
	struct dumpfs_node_info info;
	if (header < 0 || dumpfs_node_stat(d, (uint32_t)header, &info) != DUMPFS_OK)
		fail("no /header", "header", 0, 0);
	read_range(d, (uint32_t)header, "header", info.size, 0, info.size, READ_BUDGET, true);
	if (vmlinux)
		read_kernel_nodes(d);
	else
		walk_tree(d);
	dumpfs_close(d);
}

static bool has_prefix(const uint8_t *data, size_t len, const char *prefix, size_t plen)
{
	return len >= plen && !memcmp(data, prefix, plen);
}

static bool wanted(const uint8_t *data, size_t len)
{
	const char *fmt = FUZZ_STR(FUZZ_FORMAT);
	if (!strcmp(fmt, "kdump"))
		return has_prefix(data, len, "KDUMP   ", 8) || has_prefix(data, len, "DISKDUMP", 8);
	if (!strcmp(fmt, "flat"))
		return has_prefix(data, len, "makedumpfile", 13);
	if (!strcmp(fmt, "lime"))
		return has_prefix(data, len, "EMiL", 4);
	if (!strcmp(fmt, "raw"))
		return memchr(data, 0, len < RAW_TEXT_MAX ? len : RAW_TEXT_MAX) != NULL;
	if (!strcmp(fmt, "elf") || !strcmp(fmt, "vmlinux"))
		return has_prefix(data, len, "\177ELF", 4);
	if (!strcmp(fmt, "xen"))
		return has_prefix(data, len, "\177ELF", 4) && memmem(data, len, "Xen", 4);
	return !strcmp(fmt, "split") && len >= 4;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char paths[2][64];
	const char *pathv[2] = { paths[0], paths[1] };
	int fds[2] = { -1, -1 };
	size_t nfiles = 1;
	const char *ranges = NULL;

	if (!wanted(data, len))
		return 0;
	if (!strcmp(FUZZ_STR(FUZZ_FORMAT), "split")) {
		uint32_t first = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
				 (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
		data += 4, len -= 4;
		if (first > len)
			first = (uint32_t)len;
		fds[0] = memfd_with(data, first, paths[0], sizeof(paths[0]));
		fds[1] = memfd_with(data + first, len - first, paths[1], sizeof(paths[1]));
		nfiles = 2;
	} else if (!strcmp(FUZZ_STR(FUZZ_FORMAT), "raw")) {
		ranges = (const char *)data;    /* NUL-terminated: wanted() */
		size_t text = strlen(ranges) + 1;
		fds[0] = memfd_with(data + text, len - text, paths[0], sizeof(paths[0]));
	} else {
		fds[0] = memfd_with(data, len, paths[0], sizeof(paths[0]));
	}
#ifdef FUZZ_SAMPLE
	const char *sample = FUZZ_SAMPLE;
	exercise(&sample, 1, pathv[0], NULL);
#else
	exercise(pathv, nfiles, NULL, ranges);
#endif
	for (size_t i = 0; i < nfiles; i++)
		close(fds[i]);
	return 0;
}
