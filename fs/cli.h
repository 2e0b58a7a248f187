/*
 * cli.h - what the dumpfs command's parts share (fs/main.c, mount.c, cat.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_FS_CLI_H
#define DUMPFS_FS_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "dumpfs.h"

/* Exit codes (docs/dumpfs.1, EXIT STATUS). */
enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

void usage(FILE *out);
/* A byte count with an optional K, M or G suffix; -1 if it is not one. */
int parse_size(const char *s, uint64_t *out);
/* Open @n files as one dump; on failure print the core's message. */
int open_dump(struct dumpfs_dump **d, char **paths, size_t n, const struct dumpfs_options *opts);

int cmd_mount(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_cat(int argc, char **argv);

#endif
