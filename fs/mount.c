/*
 * mount.c - `dumpfs [options] DUMP... MOUNTPOINT [options]`: parse the
 * mount options, open the dump, and serve it with FUSE until unmounted.
 *
 * Options may come before or after the file names: mount.fuse3, which
 * `mount -t fuse.dumpfs` and /etc/fstab run, calls `dumpfs SOURCE MOUNTPOINT
 * -o OPTIONS`.  fstab has one source field, so the other files of a split
 * set come as part=FILE options.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ops.h"

#define READ_AHEAD_KB 4096u
/* parse_args(): --help or --version was answered; nothing to mount. */
#define ARGS_ANSWERED (-1)
#define MAX_PARTS 256

struct mount_args {
	bool foreground, debug, single, splice;
	uint64_t cache_bytes, threads;
	char fuse_opts[2048];           /* what goes on to FUSE */
	char *parts[MAX_PARTS];         /* -o part=FILE, in order */
	size_t nparts;
	char *btf, *system_map, *vmlinux;       /* -o btf=, system_map=, vmlinux=FILE: absolute */
	char *ranges;                           /* -o ranges=, the raw image's ranges */
	struct remote_args remote;              /* -o s3_endpoint=, cache_dir=, ... */
	char *index;                            /* -o index=FILE: absolute */
};

static uint64_t physical_memory(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : UINT64_MAX;
}

static int add_fuse_opt(struct mount_args *a, const char *o)
{
	size_t len = strlen(a->fuse_opts);
	int n = snprintf(a->fuse_opts + len, sizeof(a->fuse_opts) - len, "%s%s", len ? "," : "", o);
	if (n < 0 || (size_t)n >= sizeof(a->fuse_opts) - len) {
		fprintf(stderr, "dumpfs: too many mount options\n");
		return -1;
	}
	return 0;
}

/* ranges=START-END,START-END: the -o list is split at commas too, so a
 * range is an item that starts with a digit right after ranges= (no
 * other option does); it is put back on the list. */
static int add_range(struct mount_args *a, const char *range, bool first)
{
	if (first) {
		free(a->ranges);
		return (a->ranges = strdup(range)) ? 0 : -1;
	}
	size_t had = strlen(a->ranges), len = strlen(range);
	char *r = realloc(a->ranges, had + len + 2);
	if (!r)
		return -1;
	r[had] = ',';
	memcpy(r + had + 1, range, len + 1);
	a->ranges = r;
	return 0;
}

/* One option of a -o list; -1 after a message if it is bad.  @in_ranges:
 * the item before was a range. */
static int mount_option(struct mount_args *a, char *o, bool *in_ranges)
{
	bool range = *in_ranges && *o >= '0' && *o <= '9';
	int rc;
	*in_ranges = range || !strncmp(o, "ranges=", 7);
	if (*in_ranges)
		return add_range(a, range ? o : o + 7, !range);
	if (!strncmp(o, "cache_size=", 11)) {
		if (parse_size(o + 11, &a->cache_bytes) < 0) {
			fprintf(stderr, "dumpfs: bad cache_size '%s'\n", o + 11);
			return -1;
		}
		if (a->cache_bytes > physical_memory()) {
			fprintf(stderr, "dumpfs: cache_size %s is more than this machine's memory (%llu MiB)\n",
				o + 11, (unsigned long long)(physical_memory() >> 20));
			return -1;
		}
	} else if (!strcmp(o, "splice")) {
		a->splice = true;
	} else if (!strncmp(o, "threads=", 8)) {
		char *end;
		a->threads = strtoull(o + 8, &end, 10);
		if (*end || end == o + 8 || a->threads > 64) {
			fprintf(stderr, "dumpfs: bad threads '%s' (1 to 64)\n", o + 8);
			return -1;
		}
	} else if (!strncmp(o, "btf=", 4) || !strncmp(o, "system_map=", 11) || !strncmp(o, "vmlinux=", 8) ||
		   !strncmp(o, "index=", 6)) {
		/* made absolute: the daemon leaves the directory, and reads the
		 * file when /kernel or /tasks is first looked into */
		char **to = o[0] == 'b' ? &a->btf : o[0] == 's' ? &a->system_map :
			    o[0] == 'i' ? &a->index : &a->vmlinux;
		const char *file = strchr(o, '=') + 1;
		free(*to);
		/* an index may be a URL, taken as it is */
		*to = strstr(file, "://") && to == &a->index ? strdup(file) : realpath(file, NULL);
		if (!*to) {
			fprintf(stderr, "dumpfs: %s: %s\n", o, strerror(errno));
			return -1;
		}
	} else if (!strncmp(o, "part=", 5)) {
		if (!o[5] || a->nparts == MAX_PARTS) {
			fprintf(stderr, "dumpfs: bad part '%s' (a file name; at most %d)\n", o + 5, MAX_PARTS);
			return -1;
		}
		a->parts[a->nparts++] = o + 5;
	} else if ((rc = remote_option(&a->remote, o)) != 0) {
		return rc < 0 ? -1 : 0;
	} else if (!strcmp(o, "ro") || !strcmp(o, "rw")) {
		/* read-only whatever fstab says ("defaults" is rw): "ro" is
		 * always passed to FUSE below */
	} else {
		return add_fuse_opt(a, o);
	}
	return 0;
}

/* Parse argv; the positional arguments end up at argv[optind..argc).
 * Returns EXIT_OK, an exit code, or ARGS_ANSWERED. */
static int parse_args(int argc, char **argv, struct mount_args *a, char **lists)
{
	static const struct option long_opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0, 0, 0, 0 },
	};
	size_t nlists = 0;
	int c;

	/* GNU getopt moves the options after the file names to the front. */
	while ((c = getopt_long(argc, argv, "fdso:hV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'f': a->foreground = true; break;
		case 'd': a->debug = a->foreground = true; break;
		case 's': a->single = true; break;
		case 'o': {
			/* kept: part= points into it */
			char *list = strdup(optarg), *save = NULL;
			if (!list)
				return EXIT_FAILED;
			lists[nlists++] = list;
			bool in_ranges = false;
			for (char *o = strtok_r(list, ",", &save); o; o = strtok_r(NULL, ",", &save))
				if (mount_option(a, o, &in_ranges) < 0)
					return EXIT_USAGE;
			break;
		}
		case 'h': usage(stdout); return ARGS_ANSWERED;
		case 'V': printf("dumpfs %s\n", DUMPFS_VERSION); return ARGS_ANSWERED;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int check_mountpoint(const char *mnt)
{
	struct stat st;
	if (stat(mnt, &st) < 0) {
		fprintf(stderr, "dumpfs: %s: mountpoint: %s\n", mnt, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "dumpfs: %s: mountpoint is not a directory\n", mnt);
		return -1;
	}
	return 0;
}

/*
 * The kernel reads ahead at most read_ahead_kb (128 KiB by default) on a
 * FUSE mount, whatever max_readahead the daemon asks for.  Raise it so a
 * sequential reader gets 1 MiB requests (max_pages), about four in flight:
 * with only one or two, the reader and the FUSE threads wait on each
 * other and the CPUs idle (4 MiB measured 5-8% faster than 1 MiB, and
 * 16 MiB slower; docs/performance.md).
 * Only root can; others can set /sys/class/bdi/MAJOR:MINOR/read_ahead_kb
 * themselves (docs/performance.md).  The device number comes from
 * mountinfo because stat() of the mountpoint would wait for this very
 * daemon, which is not serving yet.
 */
static void raise_read_ahead(const char *mnt)
{
	char real[PATH_MAX], line[4096], path[64];
	unsigned major = 0, minor = 0;
	bool found = false;
	FILE *f = realpath(mnt, real) ? fopen("/proc/self/mountinfo", "r") : NULL;

	while (f && fgets(line, sizeof(line), f)) {
		unsigned ma, mi;
		char point[PATH_MAX];
		/* id parent major:minor root mountpoint ... - fstype ... */
		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &ma, &mi, point) == 3 &&
		    !strcmp(point, real) && strstr(line, " - fuse.dumpfs ")) {
			major = ma, minor = mi;
			found = true;
		}
	}
	if (f)
		fclose(f);
	if (!found)
		return;
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", major, minor);
	f = fopen(path, "r+");
	unsigned kb = 0;
	if (f && fscanf(f, "%u", &kb) == 1 && kb < READ_AHEAD_KB) {
		rewind(f);
		fprintf(f, "%u\n", READ_AHEAD_KB);
	}
	if (f)
		fclose(f);
}

/* fsname=PATH, so that mount(8), df and findmnt show which dump this is;
 * commas and backslashes escaped for FUSE's option parser. */
static void fsname_option(const char *dump, char *out, size_t len)
{
	char real[PATH_MAX];
	const char *name = realpath(dump, real) ? real : dump;
	size_t j = snprintf(out, len, "fsname=");
	for (const char *p = name; *p && j + 3 < len; p++) {
		if (*p == ',' || *p == '\\')
			out[j++] = '\\';
		out[j++] = *p;
	}
	out[j] = '\0';
}

static int serve(struct dumpfs_dump *d, const char *dump_path, const char *mnt,
		 const struct mount_args *a)
{
	struct dumpfs_mount m = { .dump = d, .uid = getuid(), .gid = getgid(), .splice = a->splice };
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct stat st;
	char opts[2048 + PATH_MAX * 2 + 64], fsname[PATH_MAX * 2 + 16];
	int rc = EXIT_FAILED;

	if (stat(dump_path, &st) == 0)
		m.mtime = st.st_mtim;
	else
		clock_gettime(CLOCK_REALTIME, &m.mtime);        /* a URL: the mount's time */
	fsname_option(dump_path, fsname, sizeof(fsname));
	snprintf(opts, sizeof(opts), "ro,%s,subtype=dumpfs%s%s", fsname,
		 a->fuse_opts[0] ? "," : "", a->fuse_opts);
	if (fuse_opt_add_arg(&args, "dumpfs") || fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args, opts) || (a->debug && fuse_opt_add_arg(&args, "-d")))
		goto out;
	struct fuse_session *se = fuse_session_new(&args, &dumpfs_fuse_ops, sizeof(dumpfs_fuse_ops), &m);
	if (!se)
		goto out;
	if (fuse_set_signal_handlers(se) != 0)
		goto destroy;
	if (fuse_session_mount(se, mnt) != 0) {
		fprintf(stderr, "dumpfs: %s: cannot mount (is /dev/fuse available, and fusermount3 installed?)\n", mnt);
		goto signals;
	}
	raise_read_ahead(mnt);
	/* The parent returns only once the mount is up, so scripts can use it
	 * right away.  The fork does not copy threads: the core's stop now and
	 * start again in the child when needed. */
	dumpfs_quiesce(m.dump);
	if (fuse_daemonize(a->foreground) != 0)
		goto unmount;
	if (a->single) {
		rc = fuse_session_loop(se) != 0;
	} else {
		struct fuse_loop_config *cfg = fuse_loop_cfg_create();
		if (cfg) {
			fuse_loop_cfg_set_max_threads(cfg, 16);
			rc = fuse_session_loop_mt(se, cfg) != 0;
			fuse_loop_cfg_destroy(cfg);
		}
	}
unmount:
	fuse_session_unmount(se);
signals:
	fuse_remove_signal_handlers(se);
destroy:
	fuse_session_destroy(se);
out:
	fuse_opt_free_args(&args);
	return rc;
}

static int open_and_serve(int argc, char **argv, struct mount_args *a)
{
	const char *mnt = argv[argc - 1];
	size_t nargs = (size_t)(argc - optind - 1);
	char **args = calloc(nargs + a->nparts, sizeof(*args));
	struct dump_files files;
	struct dumpfs_dump *d;
	int rc = EXIT_FAILED;

	if (!args)
		return EXIT_FAILED;
	memcpy(args, argv + optind, nargs * sizeof(*args));
	memcpy(args + nargs, a->parts, a->nparts * sizeof(*args));
	if (dump_files_parse(&files, args, nargs + a->nparts) < 0)
		rc = EXIT_USAGE;
	/* The kernel keeps about two readahead requests in flight on a FUSE
	 * mount, served by two FUSE threads: they are the first two cores.
	 * Workers that share one request only pay beyond that; on two CPUs
	 * they measured slower than none (docs/performance.md). */
	if (!a->threads) {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		a->threads = ncpu > 2 ? (uint64_t)ncpu - 1 : 1;
	}
	struct dumpfs_options opts = { .cache_bytes = (size_t)a->cache_bytes,
				       .threads = (unsigned)a->threads,
				       .btf_path = a->btf, .system_map_path = a->system_map,
				       .vmlinux_path = a->vmlinux, .raw_ranges = a->ranges,
				       .remote = a->remote.remote,
				       .flat_index_path = a->index };
	struct index_progress progress;
	index_progress_init(&progress, false, NULL);
	opts.index_progress = &progress.cb;
	if (rc != EXIT_USAGE && check_mountpoint(mnt) == 0 && open_dump(&d, &files, &opts) == 0) {
		rc = serve(d, files.paths[0], mnt, a);
		dumpfs_close(d);
	}
	dump_files_free(&files);
	free(args);
	return rc;
}

int cmd_mount(int argc, char **argv)
{
	struct mount_args a = {0};
	char **lists = calloc((size_t)argc, sizeof(*lists));
	int rc = lists ? parse_args(argc, argv, &a, lists) : EXIT_FAILED;

	if (rc == EXIT_OK)
		rc = open_and_serve(argc, argv, &a);
	else if (rc == ARGS_ANSWERED)
		rc = EXIT_OK;
	for (int i = 0; lists && i < argc; i++)
		free(lists[i]);
	free(lists);
	free(a.btf);
	free(a.system_map);
	free(a.vmlinux);
	free(a.ranges);
	remote_args_free(&a.remote);
	free(a.index);
	return rc;
}
