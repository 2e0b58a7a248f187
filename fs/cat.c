/*
 * cat.c - `dumpfs info [--json] DUMP...` and `dumpfs cat [options] DUMP...
 * PATH`: any file of the tree to standard output or a file, through the
 * same core calls as the mount, without FUSE.
 *
 * `cat --sparse` is the conversion: `/vmcore.elf` of a dump whose pages were
 * excluded is mostly holes, and writing them as zeros costs the disk space
 * makedumpfile saved.  Only the data ranges (SEEK_DATA/SEEK_HOLE of the
 * file) are written, at their offsets, and the file is sized at the end, as
 * `cp --sparse=auto` does.  A copy that takes minutes reports its progress.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define CAT_CHUNK (4u << 20)           /* one read of the core: 1024 pages of 4 KiB */
#define PROGRESS_DELAY 1.0             /* seconds before a terminal sees progress */
#define PROGRESS_EVERY 0.5

struct progress {
	bool forced, on_tty;
	double start, last;
	uint64_t total, done;
	bool shown;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void human(double bytes, char *out, size_t len)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned u = 0;
	while (bytes >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		bytes /= 1024;
		u++;
	}
	snprintf(out, len, u ? "%.2f %s" : "%.0f %s", bytes, units[u]);
}

/* "dumpfs: 1.20 GiB of 16.00 GiB (7%), 850 MB/s, 0:17 left": on a terminal
 * one line redrawn, elsewhere (--progress into a log) a line each time. */
static void progress_show(struct progress *p, bool last)
{
	double t = now(), elapsed = t - p->start;
	if (!p->forced && !p->on_tty)
		return;
	if (!last && (t - p->last < PROGRESS_EVERY || (!p->forced && elapsed < PROGRESS_DELAY)))
		return;
	if (last && !p->shown && !p->forced)
		return;                 /* a quick copy: nothing was shown, say nothing */
	char done[32], total[32];
	human((double)p->done, done, sizeof(done));
	human((double)p->total, total, sizeof(total));
	double rate = elapsed > 0 ? (double)p->done / elapsed : 0;
	unsigned left = rate > 0 ? (unsigned)((double)(p->total - p->done) / rate) : 0;
	fprintf(stderr, "%sdumpfs: %s of %s (%u%%), %.0f MB/s, %u:%02u left%s",
		p->on_tty ? "\r" : "", done, total,
		p->total ? (unsigned)(p->done * 100 / p->total) : 100, rate / 1e6, left / 60,
		left % 60, p->on_tty && !last ? "  " : "\n");
	p->last = t;
	p->shown = true;
}

static int write_at(int fd, const char *p, size_t n, bool positioned, off_t at)
{
	while (n) {
		ssize_t w = positioned ? pwrite(fd, p, n, at) : write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
		at += w;
	}
	return 0;
}

struct copy {
	struct dumpfs_dump *d;
	uint32_t node;
	const char *path;
	int out;
	bool sparse;
	off_t base;                     /* where the output starts, for --sparse */
	uint64_t from;                  /* offset of PATH at the output's base */
	char *buf;
	struct progress progress;
};

/* [off, end) of the file to the output. */
static int copy_range(struct copy *c, uint64_t off, uint64_t end)
{
	while (off < end) {
		size_t want = end - off < CAT_CHUNK ? (size_t)(end - off) : CAT_CHUNK;
		ssize_t n = dumpfs_node_read(c->d, c->node, c->buf, want, off);
		if (n < 0) {
			fprintf(stderr, "dumpfs: %s: offset %llu: %s\n", c->path,
				(unsigned long long)off, strerror((int)-n));
			return -1;
		}
		if (n == 0)
			break;
		if (write_at(c->out, c->buf, (size_t)n, c->sparse,
			     c->base + (off_t)(off - c->from)) < 0) {
			fprintf(stderr, "dumpfs: write: %s\n", strerror(errno));
			return -1;
		}
		off += (uint64_t)n;
		c->progress.done += (uint64_t)n;
		progress_show(&c->progress, false);
	}
	return 0;
}

/* The data ranges of [off, end), skipping the holes, then the size. */
static int copy_sparse(struct copy *c, uint64_t off, uint64_t end)
{
	while (off < end) {
		int64_t data = dumpfs_node_seek(c->d, c->node, off, SEEK_DATA);
		if (data == -ENXIO || (data >= 0 && (uint64_t)data >= end))
			break;
		if (data < 0) {
			fprintf(stderr, "dumpfs: %s: offset %llu: %s\n", c->path,
				(unsigned long long)off, strerror((int)-data));
			return -1;
		}
		int64_t hole = dumpfs_node_seek(c->d, c->node, (uint64_t)data, SEEK_HOLE);
		uint64_t stop = hole < 0 || (uint64_t)hole > end ? end : (uint64_t)hole;
		c->progress.done += (uint64_t)data - off;       /* the hole, skipped */
		if (copy_range(c, (uint64_t)data, stop) < 0)
			return -1;
		off = stop;
	}
	c->progress.done += end - off;
	if (ftruncate(c->out, c->base + (off_t)(end - c->from)) < 0) {
		fprintf(stderr, "dumpfs: output: cannot set its size: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* --sparse writes only the data, at offsets: the output must be a regular
 * file with nothing from its current offset on. */
static int sparse_output_ok(int fd, off_t *base)
{
	struct stat st;
	int flags = fcntl(fd, F_GETFL);
	*base = lseek(fd, 0, SEEK_CUR);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || *base < 0 || flags < 0) {
		fprintf(stderr, "dumpfs: --sparse needs a regular file as output (--output FILE, or > FILE)\n");
		return -1;
	}
	if ((flags & O_APPEND) || st.st_size > *base) {
		fprintf(stderr, "dumpfs: --sparse: the output must be empty from its offset on (not >>)\n");
		return -1;
	}
	return 0;
}

static void list_dir(struct dumpfs_dump *d, uint32_t node)
{
	for (uint32_t i = 0;; i++) {
		int64_t c = dumpfs_node_child(d, node, i);
		struct dumpfs_node_info ci;
		if (c < 0 || dumpfs_node_stat(d, (uint32_t)c, &ci) != DUMPFS_OK)
			break;
		printf("%s%s\n", ci.name, ci.type == DUMPFS_NODE_DIR ? "/" : "");
	}
}

static int cat_node(struct copy *c, uint64_t off, uint64_t len)
{
	int64_t node = dumpfs_node_by_path(c->d, c->path);
	struct dumpfs_node_info info;
	if (node < 0 || dumpfs_node_stat(c->d, (uint32_t)node, &info) != DUMPFS_OK) {
		fprintf(stderr, "dumpfs: %s: no such file in the dump\n", c->path);
		return EXIT_FAILED;
	}
	c->node = (uint32_t)node;
	if (info.type == DUMPFS_NODE_DIR) {
		list_dir(c->d, c->node);
		return EXIT_OK;
	}
	/* A file that could not be made (a text file whose decoding failed)
	 * is empty to stat but fails to read: say so, not nothing. */
	char probe;
	ssize_t r = info.size ? 0 : dumpfs_node_read(c->d, c->node, &probe, 1, 0);
	if (r < 0) {
		fprintf(stderr, "dumpfs: %s: %s\n", c->path, strerror((int)-r));
		return EXIT_FAILED;
	}
	uint64_t end = off < info.size ? (len < info.size - off ? off + len : info.size) : off;
	c->from = off;
	c->progress.total = end - off;
	c->progress.start = c->progress.last = now();
	if (c->sparse && sparse_output_ok(c->out, &c->base) < 0)
		return EXIT_FAILED;
	if (!(c->buf = malloc(CAT_CHUNK)))
		return EXIT_FAILED;
	int rc = (c->sparse ? copy_sparse(c, off, end) : copy_range(c, off, end)) < 0;
	progress_show(&c->progress, true);
	free(c->buf);
	return rc ? EXIT_FAILED : EXIT_OK;
}

/* Options of info and cat, anywhere on the line; the rest are files. */
struct cat_args {
	bool json, sparse, progress;
	uint64_t offset, length;
	const char *output;
	struct dumpfs_options opts;     /* --btf, --system-map, --vmlinux, --ranges */
	struct remote_args remote;      /* -o, for a dump given as a URL */
};

static int parse_cat_args(int argc, char **argv, bool info, struct cat_args *a)
{
	enum { OPT_JSON = 256, OPT_OFFSET, OPT_LENGTH, OPT_OUTPUT, OPT_SPARSE, OPT_PROGRESS, OPT_BTF,
	       OPT_SYSTEM_MAP, OPT_VMLINUX, OPT_RANGES, OPT_INDEX };
	static const struct option info_opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "btf", required_argument, NULL, OPT_BTF },
		{ "system-map", required_argument, NULL, OPT_SYSTEM_MAP },
		{ "vmlinux", required_argument, NULL, OPT_VMLINUX },
		{ "ranges", required_argument, NULL, OPT_RANGES },
		{ "index", required_argument, NULL, OPT_INDEX },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	static const struct option cat_opts[] = {
		{ "offset", required_argument, NULL, OPT_OFFSET },
		{ "length", required_argument, NULL, OPT_LENGTH },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "sparse", no_argument, NULL, OPT_SPARSE },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "btf", required_argument, NULL, OPT_BTF },
		{ "system-map", required_argument, NULL, OPT_SYSTEM_MAP },
		{ "vmlinux", required_argument, NULL, OPT_VMLINUX },
		{ "ranges", required_argument, NULL, OPT_RANGES },
		{ "index", required_argument, NULL, OPT_INDEX },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	int c;

	*a = (struct cat_args){ .length = UINT64_MAX };
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "ho:", info ? info_opts : cat_opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON: a->json = true; break;
		case OPT_SPARSE: a->sparse = true; break;
		case OPT_PROGRESS: a->progress = true; break;
		case OPT_OUTPUT: a->output = optarg; break;
		case OPT_BTF: a->opts.btf_path = optarg; break;
		case OPT_SYSTEM_MAP: a->opts.system_map_path = optarg; break;
		case OPT_VMLINUX: a->opts.vmlinux_path = optarg; break;
		case OPT_RANGES: a->opts.raw_ranges = optarg; break;
		case 'o':
			if (remote_options(&a->remote, optarg) < 0)
				return EXIT_USAGE;
			a->opts.remote = a->remote.remote;
			break;
		case OPT_INDEX: a->opts.flat_index_path = optarg; break;
		case OPT_OFFSET:
		case OPT_LENGTH:
			if (parse_size(optarg, c == OPT_OFFSET ? &a->offset : &a->length) < 0) {
				fprintf(stderr, "dumpfs: --%s needs a number\n",
					c == OPT_OFFSET ? "offset" : "length");
				return EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return -1;
		case '?':
			if (optopt == OPT_OFFSET || optopt == OPT_LENGTH)
				fprintf(stderr, "dumpfs: --%s needs a number\n",
					optopt == OPT_OFFSET ? "offset" : "length");
			else
				usage(stderr);
			return EXIT_USAGE;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (argc - optind < (info ? 1 : 2)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int run(char **names, size_t nnames, const char *path, struct cat_args *a)
{
	struct dump_files files;
	struct copy c = { .path = path, .out = STDOUT_FILENO, .sparse = a->sparse,
			  .progress = { .forced = a->progress, .on_tty = isatty(STDERR_FILENO) } };
	int rc = EXIT_FAILED;

	if (dump_files_parse(&files, names, nnames) < 0) {
		dump_files_free(&files);
		return EXIT_USAGE;
	}
	if (a->output && (c.out = open(a->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		fprintf(stderr, "dumpfs: %s: %s\n", a->output, strerror(errno));
		dump_files_free(&files);
		return EXIT_FAILED;
	}
	struct index_progress progress;
	index_progress_init(&progress, a->progress, NULL);
	a->opts.index_progress = &progress.cb;
	if (open_dump(&c.d, &files, &a->opts) == 0) {
		rc = cat_node(&c, a->offset, a->length);
		dumpfs_close(c.d);
	}
	dump_files_free(&files);
	if (a->output && close(c.out) < 0 && rc == EXIT_OK) {
		fprintf(stderr, "dumpfs: %s: %s\n", a->output, strerror(errno));
		rc = EXIT_FAILED;
	}
	return rc;
}

int cmd_info(int argc, char **argv)
{
	struct cat_args a;
	int rc = parse_cat_args(argc, argv, true, &a);
	if (rc == EXIT_OK)
		rc = run(argv + optind, (size_t)(argc - optind), a.json ? "/header.json" : "/header", &a);
	remote_args_free(&a.remote);
	return rc < 0 ? EXIT_OK : rc;
}

int cmd_cat(int argc, char **argv)
{
	struct cat_args a;
	int rc = parse_cat_args(argc, argv, false, &a);
	if (rc == EXIT_OK)
		rc = run(argv + optind, (size_t)(argc - optind - 1), argv[argc - 1], &a);
	remote_args_free(&a.remote);
	return rc < 0 ? EXIT_OK : rc;
}
