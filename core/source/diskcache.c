/*
 * diskcache.c - fetched blocks kept on disk, so that a second mount of
 * the same remote dump starts warm (-o cache_dir=DIR).
 *
 * An object's directory under DIR is named by the SHA-256 of its URL and
 * validator (ETag or Last-Modified) and size: a changed object gets a new
 * directory and never meets the old bytes.  It holds `data`, a sparse file
 * with each block at its own offset, and `blocks`, eight bytes per block:
 * a marker and the CRC-32 of the block as written.  A block counts only
 * if its bytes match its CRC, so a write cut by a crash or a full disk
 * costs a re-fetch, never wrong bytes.  Writes are best effort: a cache
 * that cannot be written is a slower mount, not a failed read.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source/remote.h"

#define ENTRY_SIZE 8
#define ENTRY_MARK 0x6b6c4266u          /* "fBlk": the block was written */

struct disk_cache {
	char *dir;
	int data_fd, map_fd;
	uint64_t nblocks;
	size_t block_size;
};

static bool make_dir(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return true;
	snprintf(err, errlen, "cache_dir: cannot make %s: %s", path, strerror(errno));
	return false;
}

static char *key_dir(const char *dir, const char *key)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char hex[65];
	if (!EVP_Digest(key, strlen(key), md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return NULL;
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	size_t n = strlen(dir) + 70;
	char *path = malloc(n);
	if (path)
		snprintf(path, n, "%s/%.32s", dir, hex);
	return path;
}

char *disk_cache_file(const struct disk_cache *dc, const char *name)
{
	size_t n = strlen(dc->dir) + strlen(name) + 2;
	char *path = malloc(n);
	if (path)
		snprintf(path, n, "%s/%s", dc->dir, name);
	return path;
}

static int open_in(const struct disk_cache *dc, const char *name, char *err, size_t errlen)
{
	char *path = disk_cache_file(dc, name);
	int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
	if (fd < 0)
		snprintf(err, errlen, "cache_dir: cannot open %s: %s", path ? path : name, strerror(errno));
	free(path);
	return fd;
}

enum dumpfs_status disk_cache_open(struct disk_cache **out, const char *dir, const char *key,
				   uint64_t size, size_t block_size, char *err, size_t errlen)
{
	struct disk_cache *dc = calloc(1, sizeof(*dc));
	*out = NULL;
	if (!dc || !(dc->dir = key_dir(dir, key))) {
		free(dc);
		return DUMPFS_ERR_NOMEM;
	}
	dc->data_fd = dc->map_fd = -1;
	dc->block_size = block_size;
	dc->nblocks = (size + block_size - 1) / block_size;
	if (!make_dir(dir, err, errlen) || !make_dir(dc->dir, err, errlen) ||
	    (dc->data_fd = open_in(dc, "data", err, errlen)) < 0 ||
	    (dc->map_fd = open_in(dc, "blocks", err, errlen)) < 0) {
		disk_cache_free(dc);
		return DUMPFS_ERR_IO;
	}
	*out = dc;
	return DUMPFS_OK;
}

static uint32_t crc_of(const uint8_t *buf, size_t len)
{
	return libdeflate_crc32(0, buf, len);
}

bool disk_cache_get(struct disk_cache *dc, uint64_t index, uint8_t *buf, size_t len)
{
	uint8_t entry[ENTRY_SIZE];
	if (index >= dc->nblocks ||
	    pread(dc->map_fd, entry, sizeof(entry), (off_t)(index * ENTRY_SIZE)) != (ssize_t)sizeof(entry) ||
	    get_le32(entry) != ENTRY_MARK)
		return false;
	off_t at = (off_t)(index * dc->block_size);
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(dc->data_fd, buf + done, len - done, at + (off_t)done);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return false;
		}
		done += (size_t)n;
	}
	return crc_of(buf, len) == get_le32(entry + 4);
}

void disk_cache_put(struct disk_cache *dc, uint64_t index, const uint8_t *buf, size_t len)
{
	uint8_t entry[ENTRY_SIZE];
	if (index >= dc->nblocks ||
	    pwrite(dc->data_fd, buf, len, (off_t)(index * dc->block_size)) != (ssize_t)len)
		return;
	/* the entry after the data: a cut between them leaves no entry */
	entry[0] = ENTRY_MARK & 0xff;
	entry[1] = ENTRY_MARK >> 8 & 0xff;
	entry[2] = ENTRY_MARK >> 16 & 0xff;
	entry[3] = ENTRY_MARK >> 24;
	uint32_t crc = crc_of(buf, len);
	for (int i = 0; i < 4; i++)
		entry[4 + i] = (uint8_t)(crc >> 8 * i);
	if (pwrite(dc->map_fd, entry, sizeof(entry), (off_t)(index * ENTRY_SIZE)) != (ssize_t)sizeof(entry))
		return;
}

void disk_cache_free(struct disk_cache *dc)
{
	if (!dc)
		return;
	if (dc->data_fd >= 0)
		close(dc->data_fd);
	if (dc->map_fd >= 0)
		close(dc->map_fd);
	free(dc->dir);
	free(dc);
}
