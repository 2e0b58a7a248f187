/*
 * cli.h - what the dumpfs command's parts share (fs/main.c, mount.c, cat.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_FS_CLI_H
#define DUMPFS_FS_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dumpfs.h"

/* Exit codes (docs/dumpfs.1, EXIT STATUS). */
enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

void usage(FILE *out);
/* A byte count with an optional K, M or G suffix; -1 if it is not one. */
int parse_size(const char *s, uint64_t *out);
/* The dump files named on a command line.  A name that is no file but
 * has an @ is crash's ramdump syntax, a raw image at a physical address:
 * FILE@ADDRESS, or several in one argument (A@X,B@Y); then every file
 * must have its address, kept in @bases (NULL for dumps with headers). */
struct dump_files {
	char **paths;           /* the file names, without the @ADDRESS */
	uint64_t *bases;
	size_t n;
};
/* From the @nargs names at @args; on failure prints why and returns -1.
 * dump_files_free() either way. */
int dump_files_parse(struct dump_files *df, char *const *args, size_t nargs);
void dump_files_free(struct dump_files *df);
/* Open @df as one dump; on failure print the core's message. */
int open_dump(struct dumpfs_dump **d, const struct dump_files *df, struct dumpfs_options *opts);

/* The -o options of a dump given as a URL (remote.c). */
#define REMOTE_ARGS_MAX 16
struct remote_args {
	struct dumpfs_remote remote;
	char *kept[REMOTE_ARGS_MAX];    /* the strings it points to */
	size_t nkept;
};
/* 1 if @o is one of them (taken), 0 if not, -1 after a message if bad. */
int remote_option(struct remote_args *r, const char *o);
/* A comma-separated list of them (info and cat's -o); -1 after a message. */
int remote_options(struct remote_args *r, const char *list);
void remote_args_free(struct remote_args *r);
/* The progress of indexing a flattened file by a full read (fs/index.c),
 * on standard error when it is a terminal or @forced. */
struct index_progress {
	struct dumpfs_progress cb;      /* hand &cb to the core */
	bool forced, on_tty, shown;
	double start, last;
	const char *what;               /* "no", "refused": the sidecar; NULL: looked up */
};
void index_progress_init(struct index_progress *p, bool forced, const char *what);

int cmd_mount(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_cat(int argc, char **argv);

#endif
