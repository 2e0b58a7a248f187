/*
 * main.c - the dumpfs command: usage, and which of its three jobs to do.
 *
 *   dumpfs [options] DUMP... MOUNTPOINT [options]     mount (fs/mount.c)
 *   dumpfs info [--json] DUMP...                      print /header (fs/cat.c)
 *   dumpfs cat [options] DUMP... PATH                 copy out one file (fs/cat.c)
 *   dumpfs index [-o OUT] DUMP                        a flattened file's sidecar (fs/index.c)
 *
 * info and cat read through the same core calls the mount does, for
 * machines without /dev/fuse (containers, CI).  Every option printed here
 * is in docs/dumpfs.1 and the other way round (tests/bad/manpage.py).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void usage(FILE *out)
{
	fprintf(out,
		"usage: dumpfs [options] DUMP... MOUNTPOINT [options]\n"
		"       dumpfs info [--json] DUMP...\n"
		"       dumpfs cat [options] DUMP... PATH\n"
		"       dumpfs index [-o OUT] [--progress] DUMP\n"
		"\n"
		"Mount a Linux crash dump (kdump-compressed, makedumpfile flattened, ELF vmcore\n"
		"or LiME; several files for a makedumpfile --split set; FILE@ADDRESS for a raw\n"
		"memory image whose byte 0 is physical ADDRESS) read-only and show it as\n"
		"/mem (physical memory), /vmcore.elf, /header, /header.json, /cpus/N/*,\n"
		"/vmcoreinfo, /dmesg, /kernel/, /tasks/ and /notes/.  Unmount with:\n"
		"fusermount3 -u MOUNTPOINT\n"
		"\n"
		"mount options (before or after the file names, as mount.fuse3 passes them):\n"
		"  -f                 stay in the foreground\n"
		"  -d                 FUSE debug output (implies -f)\n"
		"  -s                 single-threaded\n"
		"  -o cache_size=N    bytes of decompressed pages to cache (K/M/G suffix; default 64M)\n"
		"  -o threads=N       threads that decompress one large read (default: CPUs - 1;\n"
		"                     1 on two CPUs, where FUSE's own concurrency uses both)\n"
		"  -o splice          send data stored as is (ELF dumps) by splice, not copies\n"
		"  -o part=FILE       another file of a --split set (for fstab, which names one)\n"
		"  -o btf=FILE        the kernel's BTF, where its image has none (pahole\n"
		"                     --btf_encode_detached makes one from a debug vmlinux)\n"
		"  -o system_map=FILE the kernel's System.map, where kallsyms lacks init_task or\n"
		"                     VMCOREINFO names no kallsyms (kernels before 6.0)\n"
		"  -o vmlinux=FILE    the kernel's vmlinux (debug package): its symbols, and its\n"
		"                     BTF if it has any; refused if its build ID is not the dump's\n"
		"  -o ranges=START-END[:OFFSET],...\n"
		"                     DUMP is a raw memory image of these physical ranges, END\n"
		"                     inclusive, one after the other (LiME format=raw)\n"
		"  -o index=FILE      the index sidecar of a flattened DUMP (default: DUMP.dfsidx\n"
		"                     when it exists); one that does not validate is refused\n"
		"                     (a warning) and DUMP is indexed by reading it whole\n"
		"  -o ro              the mount is always read-only; rw is ignored\n"
		"\n"
		"DUMP may be a URL, read in place by HTTP range requests: http://, https://\n"
		"(a presigned S3 URL too) or s3://BUCKET/KEY (signed with AWS's credential chain).\n"
		"  -o s3_endpoint=URL an S3-compatible store (path-style unless s3_addressing=)\n"
		"  -o s3_region=R     default: AWS_REGION, the profile's region, us-east-1\n"
		"  -o s3_addressing=path|virtual\n"
		"  -o aws_profile=P   the credentials' profile (default: AWS_PROFILE, default)\n"
		"  -o s3_no_sign      a public bucket: send no signature\n"
		"  -o ca_file=FILE    PEM certificates to trust for https\n"
		"  -o cache_dir=DIR   keep fetched blocks on disk: a second mount starts warm\n"
		"  -o remote_cache=N  bytes of fetched blocks kept in memory (default 64M)\n"
		"  -o timeout=S       seconds to connect, and that a transfer may stall (10)\n"
		"  -o retries=N       tries after a request's first on passing faults (5)\n"
		"  -o index=FILE|URL  a flattened dump's index (dumpfs index); default DUMP.dfsidx\n"
		"  -o OPT             other options go to FUSE (e.g. allow_other)\n"
		"\n"
		"info and cat options:\n"
		"  --btf FILE, --system-map FILE, --vmlinux FILE, --ranges LIST, --index FILE\n"
		"                     as -o btf=, system_map=, vmlinux=, ranges=, index=\n"
		"  -o LIST            the options of a dump given as a URL, as for the mount\n"
		"info options:\n"
		"  --json             the header as one JSON object (keys in dumpfs(1))\n"
		"\n"
		"cat options:\n"
		"  --offset N         start at byte N of PATH (K/M/G suffix)\n"
		"  --length N         copy at most N bytes\n"
		"  --output FILE      write to FILE instead of standard output\n"
		"  --sparse           leave holes where PATH has holes (output: a regular file)\n"
		"  --progress         bytes, rate and time left on standard error (the default\n"
		"                     when it is a terminal and the copy takes over a second)\n"
		"\n"
		"index options (the sidecar that spares reading a flattened DUMP whole):\n"
		"  -o, --output OUT   write it to OUT (default: DUMP.dfsidx), through a\n"
		"                     temporary file renamed when complete\n"
		"  --progress         the percentage read on standard error (the default when it\n"
		"                     is a terminal and the read takes over a second)\n"
		"\n"
		"  -h, --help         this text\n"
		"  -V, --version      print the version\n");
}

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end || v > ULLONG_MAX >> shift)
		return -1;
	*out = v << shift;
	return 0;
}

/* Room for @n more names in @df. */
static int dump_files_grow(struct dump_files *df, size_t n)
{
	char **paths = realloc(df->paths, (df->n + n) * sizeof(*paths));
	if (paths)
		df->paths = paths;
	uint64_t *bases = realloc(df->bases, (df->n + n) * sizeof(*bases));
	if (bases)
		df->bases = bases;
	return paths && bases ? 0 : -1;
}

/* One FILE@ADDRESS of @arg (an item of it) into @df. */
static int add_raw_image(struct dump_files *df, const char *arg, const char *item)
{
	const char *at = strrchr(item, '@');
	uint64_t base;
	if (!at || at == item) {
		fprintf(stderr, "dumpfs: %s: '%s' has no FILE@ADDRESS: in a set of raw images every "
			"file needs its address\n", arg, item);
		return -1;
	}
	if (dumpfs_parse_address(at + 1, &base) < 0) {
		fprintf(stderr, "dumpfs: %s: bad address '%s' after @ (hex after 0x, or decimal)\n",
			arg, at + 1);
		return -1;
	}
	if (!(df->paths[df->n] = strndup(item, (size_t)(at - item))))
		return -1;
	df->bases[df->n++] = base;
	return 0;
}

/* A name that is no file and has an @ in its last component: raw images,
 * comma-separated (an @ in a directory's name, /home/a@b/dump, is no
 * address). */
static bool names_raw_images(const char *arg)
{
	const char *at = strrchr(arg, '@');
	return at && !strchr(at, '/') && access(arg, F_OK) != 0;
}

static int add_raw_images(struct dump_files *df, const char *arg)
{
	char *list = strdup(arg), *save = NULL;
	int rc = list ? 0 : -1;
	for (char *item = list ? strtok_r(list, ",", &save) : NULL; item && rc == 0;
	     item = strtok_r(NULL, ",", &save))
		rc = dump_files_grow(df, 1) < 0 ? -1 : add_raw_image(df, arg, item);
	free(list);
	return rc;
}

int dump_files_parse(struct dump_files *df, char *const *args, size_t nargs)
{
	size_t raw = 0, plain = 0;
	const char *first_plain = NULL;
	*df = (struct dump_files){ 0 };
	for (size_t i = 0; i < nargs; i++) {
		int rc;
		if (names_raw_images(args[i])) {
			raw++;
			rc = add_raw_images(df, args[i]);
		} else {
			if (!plain++)
				first_plain = args[i];
			rc = dump_files_grow(df, 1) < 0 || !(df->paths[df->n] = strdup(args[i])) ? -1 : 0;
			if (rc == 0)
				df->bases[df->n++] = 0;
		}
		if (rc < 0)
			return -1;
	}
	if (raw && plain) {
		fprintf(stderr, "dumpfs: %s: no @ADDRESS, beside raw images that have one: every "
			"raw image needs its address\n", first_plain);
		return -1;
	}
	if (!raw) {
		free(df->bases);
		df->bases = NULL;
	}
	return 0;
}

void dump_files_free(struct dump_files *df)
{
	for (size_t i = 0; i < df->n; i++)
		free(df->paths[i]);
	free(df->paths);
	free(df->bases);
	*df = (struct dump_files){ 0 };
}

int open_dump(struct dumpfs_dump **d, const struct dump_files *df, struct dumpfs_options *opts)
{
	char err[512];
	opts->raw_bases = df->bases;
	if (dumpfs_open(d, (const char *const *)df->paths, df->n, opts, err, sizeof(err)) != DUMPFS_OK) {
		fprintf(stderr, "dumpfs: %s\n", err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "info"))
		return cmd_info(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "cat"))
		return cmd_cat(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "index"))
		return cmd_index(argc - 1, argv + 1);
	return cmd_mount(argc, argv);
}
