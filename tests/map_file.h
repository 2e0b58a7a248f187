/*
 * map_file.h - map a whole expected-output file read-only for a test
 * program; exits 2 (a broken test setup, not a failure) if it cannot.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_TEST_MAP_FILE_H
#define DUMPFS_TEST_MAP_FILE_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static inline uint8_t *map_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(path);
		exit(2);
	}
	*len = (size_t)st.st_size;
	void *p = *len ? mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	close(fd);
	if (p == MAP_FAILED) {
		perror(path);
		exit(2);
	}
	return p;
}

#endif
