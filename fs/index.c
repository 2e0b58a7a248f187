/*
 * index.c - `dumpfs index [-o OUT] [--progress] DUMP`: write the sidecar
 * that lets a makedumpfile flattened file be mounted without reading it
 * whole (docs/index-sidecar.md), and the progress line every command shows
 * while a flattened file is indexed by a full read.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define INDEX_PROGRESS_EVERY 1.0       /* seconds between lines */

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "dumpfs: DUMP: indexing flattened dump by a full read (no DUMP.dfsidx):
 * 37%": on a terminal one line redrawn, elsewhere (forced) a line each
 * time; at most one a second, the first after a second. */
static void show(void *arg, const char *path, uint64_t done, uint64_t total)
{
	struct index_progress *p = arg;
	double t = seconds();
	bool last = done >= total;

	if (!p->forced && !p->on_tty)
		return;
	if (!p->start) {
		p->start = p->last = t;
		if (!p->forced)
			return;
	}
	if (last ? !p->shown && !p->forced : t - p->last < INDEX_PROGRESS_EVERY)
		return;
	if (!p->what) {
		char side[4096];
		snprintf(side, sizeof(side), "%s%s", path, DUMPFS_INDEX_SUFFIX);
		p->what = access(side, F_OK) == 0 ? "refused" : "no";
	}
	fprintf(stderr, "%sdumpfs: %s: indexing flattened dump by a full read (%s %s%s): %u%%%s",
		p->on_tty ? "\r" : "", path, p->what, path, DUMPFS_INDEX_SUFFIX,
		total ? (unsigned)(done * 100 / total) : 100, p->on_tty && !last ? "" : "\n");
	p->last = t;
	p->shown = true;
	if (last)
		p->start = 0;
}

void index_progress_init(struct index_progress *p, bool forced, const char *what)
{
	*p = (struct index_progress){ .forced = forced, .on_tty = isatty(STDERR_FILENO),
				      .what = what };
	p->cb = (struct dumpfs_progress){ show, p };
}

int cmd_index(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "progress", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *out = NULL;
	bool forced = false;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'p': forced = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	struct index_progress p;
	char err[512];
	index_progress_init(&p, forced, "writing");
	if (dumpfs_index_write(argv[optind], out, &p.cb, err, sizeof(err)) != DUMPFS_OK) {
		fprintf(stderr, "dumpfs: %s\n", err);
		return EXIT_FAILED;
	}
	return EXIT_OK;
}
