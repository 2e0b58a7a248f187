/*
 * fuzz_flatidx.c - libFuzzer harness for the flattened index sidecar loader
 * (flat_source_open_indexed(), core/source/flat_sidecar.c): the fuzz input
 * is a DUMP.dfsidx for one fixed flattened dump, made once per process by
 * the generator (FUZZ_MKDUMP FLATIDX_DUMP_OPTIONS, the same options
 * make-corpus.sh indexes with `dumpfs index` for the seeds).
 *
 *   input = mode byte, then the sidecar's bytes
 *   mode bit 0: put the SHA-256 of the pieces (bytes 136..) at 104
 *        bit 1: put the right digest of the dump's ends at 72
 *        bit 2: put the dump's size at 16
 * The digests are what a damaged sidecar cannot get past; the mode lets
 * mutations of the pieces and header reach the checks behind them.
 *
 * dumpfs_open() of the dump with the input as flat_index_path (a memfd), as
 * `-o index=` would; then /header, every page of /mem and every file of the
 * tree are read.  Checks, besides the sanitizers:
 *  - /header names the sidecar as the index, or warns "index sidecar
 *    refused" naming it with an offset (one line) and says "index: full read";
 *  - unless a digest is forged (mode bits 0 and 1 clear), the open succeeds and /mem reads as the scan's (taken once
 *    without a sidecar): where both read a page it is the same bytes, and a
 *    page only the scan reads is all zeros (a gap, which the flags decide);
 *  - reads return at most what was asked, never past the end, fail only
 *    with EIO.
 * With a mode that forges a digest a sidecar may map pieces of records
 * wrongly (only the first and last pieces are checked against the file):
 * then only the sanitizers and the read rules hold.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "dumpfs.h"

#ifndef FUZZ_MKDUMP
#error "build with -DFUZZ_MKDUMP=\"path of tests/gen/mkdump\""
#endif
/* make-corpus.sh writes the seeds' dump with the same options. */
#define FLATIDX_DUMP_OPTIONS "--ram 0-11,16-23 --page-size 1024 --flat --excluded --zero-pages --codec zlib"
#define PAGE 1024u
#define CHUNK (1u << 16)
#define MEM_MAX (1u << 20)

static char dump_dir[64], dump_path[256];
static uint8_t *dump_bytes;
static uint64_t dump_size;
static uint8_t ref_mem[MEM_MAX];
static bool ref_ok[MEM_MAX / PAGE];
static uint64_t ref_size;
static uint8_t ends_digest[32];
static uint8_t chunk[CHUNK];

static void fail(const char *what, const char *detail, uint64_t off, ssize_t r)
{
	fprintf(stderr, "fuzz_flatidx: %s: %s at %" PRIu64 " (returned %zd)\n", what, detail, off, r);
	abort();
}

static void sha256(const void *a, size_t alen, const void *b, size_t blen, const void *c, size_t clen,
		   uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) || !EVP_DigestUpdate(ctx, a, alen) ||
	    !EVP_DigestUpdate(ctx, b, blen) || !EVP_DigestUpdate(ctx, c, clen) ||
	    !EVP_DigestFinal_ex(ctx, out, &len) || len != 32)
		fail("sha256", "", 0, 0);
	EVP_MD_CTX_free(ctx);
}

static void check_read(const char *name, uint64_t size, uint64_t off, size_t asked, ssize_t r)
{
	if (r > (ssize_t)asked || (r > 0 && off + (uint64_t)r > size))
		fail("read returned more than there is", name, off, r);
	if (r == 0 && off < size)
		fail("read returned 0 before the end", name, off, r);
	if (r < 0 && r != -EIO && r != -ENOMEM)
		fail("read failed with an unexpected errno", name, off, r);
}

static int64_t node_size(struct dumpfs_dump *d, const char *path, uint32_t *node)
{
	struct dumpfs_node_info info;
	int64_t n = dumpfs_node_by_path(d, path);
	if (n < 0 || dumpfs_node_stat(d, (uint32_t)n, &info) != DUMPFS_OK)
		return -1;
	*node = (uint32_t)n;
	return (int64_t)info.size;
}

static void remove_dump(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dump_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_flatidx: could not remove %s\n", dump_dir);
}

/* The dump, its bytes, the digest of its ends and its /mem read by a scan. */
static void setup(void)
{
	char cmd[1024];
	snprintf(dump_dir, sizeof(dump_dir), "%s", "/tmp/fuzz-flatidx.XXXXXX");
	if (!mkdtemp(dump_dir))
		fail("mkdtemp", dump_dir, 0, 0);
	atexit(remove_dump);
	snprintf(dump_path, sizeof(dump_path), "%s/flat", dump_dir);
	snprintf(cmd, sizeof(cmd), "'%s' " FLATIDX_DUMP_OPTIONS " '%s' > /dev/null", FUZZ_MKDUMP, dump_path);
	if (system(cmd) != 0)
		fail("mkdump failed", cmd, 0, 0);
	FILE *f = fopen(dump_path, "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st) < 0)
		fail("open", dump_path, 0, 0);
	dump_size = (uint64_t)st.st_size;
	dump_bytes = malloc(dump_size);
	if (!dump_bytes || fread(dump_bytes, 1, dump_size, f) != dump_size)
		fail("read", dump_path, 0, 0);
	fclose(f);
	/* as flat_sidecar.c's file_digest(): le64 size, first 4 KiB, last 4 KiB */
	uint8_t le[8];
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(dump_size >> (8 * i));
	uint64_t tail = dump_size > 8192 ? dump_size - 4096 : 4096;
	sha256(le, 8, dump_bytes, 4096, dump_bytes + tail, dump_size - tail, ends_digest);

	const char *paths[] = { dump_path };
	struct dumpfs_options opts = { .threads = 1 };
	struct dumpfs_dump *d;
	char err[512];
	uint32_t mem = 0;
	if (dumpfs_open(&d, paths, 1, &opts, err, sizeof(err)) != DUMPFS_OK)
		fail("the scan's open failed", err, 0, 0);
	int64_t size = node_size(d, "/mem", &mem);
	if (size < 0 || size > MEM_MAX)
		fail("the scan's /mem", dump_path, 0, size);
	ref_size = (uint64_t)size;
	for (uint64_t off = 0; off < ref_size; off += PAGE)
		ref_ok[off / PAGE] = dumpfs_node_read(d, mem, ref_mem + off, PAGE, off) == PAGE;
	dumpfs_close(d);
}

/* /mem against the scan's, page by page. */
static void compare_mem(struct dumpfs_dump *d)
{
	uint32_t mem = 0;
	int64_t size = node_size(d, "/mem", &mem);
	if (size != (int64_t)ref_size)
		fail("/mem's size differs from the scan's", dump_path, ref_size, size);
	for (uint64_t off = 0; off < ref_size; off += PAGE) {
		ssize_t r = dumpfs_node_read(d, mem, chunk, PAGE, off);
		check_read("/mem", ref_size, off, PAGE, r);
		bool zero = true;
		for (unsigned i = 0; i < PAGE; i++)
			zero = zero && !ref_mem[off + i];
		if (r == PAGE && ref_ok[off / PAGE] && memcmp(chunk, ref_mem + off, PAGE))
			fail("a page reads otherwise than the scan's", "/mem", off, r);
		if (r != PAGE && ref_ok[off / PAGE] && !zero)
			fail("a page of data the scan reads fails", "/mem", off, r);
	}
}

/* Every file of the tree, to its end (bounded). */
static void read_all(struct dumpfs_dump *d)
{
	uint32_t count = dumpfs_node_count(d);
	for (uint32_t i = 0; i < count; i++) {
		struct dumpfs_node_info info;
		if (dumpfs_node_stat(d, i, &info) != DUMPFS_OK)
			fail("stat of an existing node fails", "?", i, 0);
		if (info.type != DUMPFS_NODE_FILE)
			continue;
		uint64_t end = info.size < (8u << 20) ? info.size : (8u << 20);
		for (uint64_t off = 0; off < end;) {
			ssize_t r = dumpfs_node_read(d, i, chunk, CHUNK, off);
			check_read(info.name, info.size, off, CHUNK, r);
			off = r > 0 ? off + (uint64_t)r : (off | (PAGE - 1)) + 1;
		}
	}
}

/* /header says which index it took; a refusal is one line naming it. */
static bool check_header(struct dumpfs_dump *d, const char *sidecar)
{
	uint32_t node = 0;
	int64_t size = node_size(d, "/header", &node);
	if (size <= 0 || size >= CHUNK)
		fail("no /header", dump_path, 0, size);
	ssize_t r = dumpfs_node_read(d, node, chunk, (size_t)size, 0);
	if (r != size)
		fail("/header reads short", dump_path, 0, r);
	chunk[r] = '\0';
	char taken[300];
	snprintf(taken, sizeof(taken), "index: %s)", sidecar);
	if (strstr((char *)chunk, taken))
		return true;
	const char *w = strstr((char *)chunk, "index sidecar refused, indexed by a full read instead: ");
	if (!w || !strstr((char *)chunk, "index: full read"))
		fail("a sidecar neither taken nor refused", (char *)chunk, 0, 0);
	const char *eol = strchr(w, '\n');
	const char *name = strstr(w, sidecar);
	if (!name || (eol && name > eol) || !strstr(w, ": offset "))
		fail("a refusal does not name the sidecar and an offset", w, 0, 0);
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	if (!dump_bytes)
		setup();
	if (len < 1)
		return 0;
	unsigned mode = data[0];
	size_t n = len - 1;
	uint8_t *idx = malloc(n ? n : 1);
	if (!idx)
		abort();
	memcpy(idx, data + 1, n);
	if ((mode & 1) && n >= 136)
		sha256(idx + 136, n - 136, "", 0, "", 0, idx + 104);
	if ((mode & 2) && n >= 104)
		memcpy(idx + 72, ends_digest, 32);
	if ((mode & 4) && n >= 24)
		for (int i = 0; i < 8; i++)
			idx[16 + i] = (uint8_t)(dump_size >> (8 * i));

	int fd = memfd_create("fuzz-flatidx", MFD_CLOEXEC);
	if (fd < 0 || write(fd, idx, n) != (ssize_t)n)
		fail("memfd", "", 0, 0);
	free(idx);
	char sidecar[64];
	snprintf(sidecar, sizeof(sidecar), "/proc/self/fd/%d", fd);

	const char *paths[] = { dump_path };
	struct dumpfs_options opts = { .cache_bytes = 256u << 10, .threads = 1, .flat_index_path = sidecar };
	struct dumpfs_dump *d;
	char err[512] = "";
	if (dumpfs_open(&d, paths, 1, &opts, err, sizeof(err)) != DUMPFS_OK) {
		if (!(mode & 3))
			fail("a sidecar made the open of a good dump fail", err, 0, 0);
		if (!err[0] || strchr(err, '\n'))
			fail("open error is not one line", err, 0, 0);
		close(fd);
		return 0;
	}
	check_header(d, sidecar);
	if (!(mode & 3))
		compare_mem(d);
	read_all(d);
	dumpfs_close(d);
	close(fd);
	return 0;
}
