/*
 * main.c - the dumpfs command:
 *
 *   dumpfs [-f] [-d] [-s] [-o OPT[,OPT]] DUMP... MOUNTPOINT   mount
 *   dumpfs info DUMP...                                       print /header
 *   dumpfs cat [--offset N] [--length N] DUMP... PATH         read one file
 *
 * info and cat read through the same core calls the mount does, for
 * machines without /dev/fuse (containers, CI).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dumpfs.h"
#include "ops.h"

#define CAT_CHUNK (4u << 20)           /* one dumpfs_read_phys() step of 4 KiB pages */
#define READ_AHEAD_KB 4096u

static void usage(FILE *out)
{
	fprintf(out,
		"usage: dumpfs [options] DUMP... MOUNTPOINT\n"
		"       dumpfs info DUMP...\n"
		"       dumpfs cat [--offset N] [--length N] DUMP... PATH\n"
		"\n"
		"Mount a Linux crash dump (kdump-compressed, makedumpfile flattened, or ELF\n"
		"vmcore; several files for a makedumpfile --split set) read-only and show it as\n"
		"/mem (physical memory), /vmcore.elf, /header, /cpus/N/{prstatus,qemu,regs},\n"
		"/vmcoreinfo and /notes/.  Unmount with: fusermount3 -u MOUNTPOINT\n"
		"\n"
		"options:\n"
		"  -f                 stay in the foreground\n"
		"  -d                 FUSE debug output (implies -f)\n"
		"  -s                 single-threaded\n"
		"  -o cache_size=N    bytes of decompressed pages to cache (K/M/G suffix; default 64M)\n"
		"  -o threads=N       threads that decompress one large read (default: CPUs - 1;\n"
		"                     1 on two CPUs, where FUSE's own concurrency uses both)\n"
		"  -o splice          send data stored as is (ELF dumps) by splice, not copies\n"
		"  -o OPT             other options go to FUSE (e.g. allow_other)\n"
		"  -h, --help         this text\n"
		"  -V, --version      print the version\n");
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end || v > ULLONG_MAX >> shift)
		return -1;
	v <<= shift;
	*out = v;
	return 0;
}

static uint64_t physical_memory(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : UINT64_MAX;
}

static int open_dump(struct dumpfs_dump **d, char **paths, size_t n,
		     const struct dumpfs_options *opts)
{
	char err[512];
	if (dumpfs_open(d, (const char *const *)paths, n, opts, err, sizeof(err)) != DUMPFS_OK) {
		fprintf(stderr, "dumpfs: %s\n", err);
		return -1;
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy [off, off+len) of a virtual file to stdout. */
static int cat_node(struct dumpfs_dump *d, const char *path, uint64_t off, uint64_t len)
{
	int64_t node = dumpfs_node_by_path(d, path);
	struct dumpfs_node_info info;
	if (node < 0 || dumpfs_node_stat(d, (uint32_t)node, &info) != DUMPFS_OK) {
		fprintf(stderr, "dumpfs: %s: no such file in the dump\n", path);
		return 1;
	}
	if (info.type == DUMPFS_NODE_DIR) {
		for (uint32_t i = 0;; i++) {
			int64_t c = dumpfs_node_child(d, (uint32_t)node, i);
			struct dumpfs_node_info ci;
			if (c < 0 || dumpfs_node_stat(d, (uint32_t)c, &ci) != DUMPFS_OK)
				break;
			printf("%s%s\n", ci.name, ci.type == DUMPFS_NODE_DIR ? "/" : "");
		}
		return 0;
	}
	char *buf = malloc(CAT_CHUNK);
	if (!buf)
		return 1;
	int rc = 0;
	while (len) {
		size_t want = len < CAT_CHUNK ? (size_t)len : CAT_CHUNK;
		ssize_t n = dumpfs_node_read(d, (uint32_t)node, buf, want, off);
		if (n < 0) {
			fprintf(stderr, "dumpfs: %s: offset %llu: %s\n", path, (unsigned long long)off,
				strerror((int)-n));
			rc = 1;
			break;
		}
		if (n == 0)
			break;
		if (write_all(STDOUT_FILENO, buf, (size_t)n) < 0) {
			fprintf(stderr, "dumpfs: write: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	free(buf);
	return rc;
}

static int cmd_cat(int argc, char **argv, bool info)
{
	uint64_t off = 0, len = UINT64_MAX;
	char **files = calloc((size_t)argc + 1, sizeof(char *));
	size_t nfiles = 0;
	if (!files)
		return 1;
	for (int i = 0; i < argc; i++) {
		if (!info && (!strcmp(argv[i], "--offset") || !strcmp(argv[i], "--length"))) {
			uint64_t v;
			if (i + 1 >= argc || parse_size(argv[i + 1], &v) < 0) {
				fprintf(stderr, "dumpfs: %s needs a number\n", argv[i]);
				free(files);
				return 2;
			}
			*(argv[i][2] == 'o' ? &off : &len) = v;
			i++;
		} else {
			files[nfiles++] = argv[i];
		}
	}
	const char *path = "/header";
	if (!info) {
		if (nfiles < 2) {
			usage(stderr);
			free(files);
			return 2;
		}
		path = files[--nfiles];
	} else if (nfiles < 1) {
		usage(stderr);
		free(files);
		return 2;
	}
	struct dumpfs_dump *d;
	int rc = 1;
	if (open_dump(&d, files, nfiles, NULL) == 0) {
		rc = cat_node(d, path, off, len);
		dumpfs_close(d);
	}
	free(files);
	return rc;
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

static int serve(struct dumpfs_dump *d, const char *dump_path, const char *mnt,
		 const char *fuse_opts, bool foreground, bool debug, bool single, bool splice)
{
	struct dumpfs_mount m = { .dump = d, .uid = getuid(), .gid = getgid(), .splice = splice };
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct stat st;
	char opts[1024];
	int rc = 1;

	if (stat(dump_path, &st) == 0)
		m.mtime = st.st_mtim;
	snprintf(opts, sizeof(opts), "ro,fsname=dumpfs,subtype=dumpfs%s%s",
		 fuse_opts[0] ? "," : "", fuse_opts);
	if (fuse_opt_add_arg(&args, "dumpfs") || fuse_opt_add_arg(&args, "-o") ||
	    fuse_opt_add_arg(&args, opts) || (debug && fuse_opt_add_arg(&args, "-d")))
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
	 * right away. */
	if (fuse_daemonize(foreground) != 0)
		goto unmount;
	if (single) {
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

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0, 0, 0, 0 },
	};
	bool foreground = false, debug = false, single = false, splice = false;
	char fuse_opts[768] = "";
	uint64_t cache_bytes = 0, threads = 0;
	int c;

	if (argc > 1 && !strcmp(argv[1], "info"))
		return cmd_cat(argc - 2, argv + 2, true);
	if (argc > 1 && !strcmp(argv[1], "cat"))
		return cmd_cat(argc - 2, argv + 2, false);

	while ((c = getopt_long(argc, argv, "+fdso:hV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'f': foreground = true; break;
		case 'd': debug = foreground = true; break;
		case 's': single = true; break;
		case 'o': {
			char *list = strdup(optarg), *save = NULL;
			for (char *o = strtok_r(list, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
				if (!strncmp(o, "cache_size=", 11)) {
					if (parse_size(o + 11, &cache_bytes) < 0) {
						fprintf(stderr, "dumpfs: bad cache_size '%s'\n", o + 11);
						free(list);
						return 2;
					}
					if (cache_bytes > physical_memory()) {
						fprintf(stderr, "dumpfs: cache_size %s is more than this machine's memory (%llu MiB)\n",
							o + 11, (unsigned long long)(physical_memory() >> 20));
						free(list);
						return 2;
					}
				} else if (!strcmp(o, "splice")) {
					splice = true;
				} else if (!strncmp(o, "threads=", 8)) {
					char *end;
					threads = strtoull(o + 8, &end, 10);
					if (*end || end == o + 8 || threads > 64) {
						fprintf(stderr, "dumpfs: bad threads '%s' (1 to 64)\n", o + 8);
						free(list);
						return 2;
					}
				} else {
					size_t len = strlen(fuse_opts);
					snprintf(fuse_opts + len, sizeof(fuse_opts) - len, "%s%s",
						 len ? "," : "", o);
				}
			}
			free(list);
			break;
		}
		case 'h': usage(stdout); return 0;
		case 'V': printf("dumpfs %s\n", DUMPFS_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return 2;
	}
	const char *mnt = argv[argc - 1];
	if (check_mountpoint(mnt) < 0)
		return 1;
	struct dumpfs_dump *d;
	/* The kernel keeps about two readahead requests in flight on a FUSE
	 * mount, served by two FUSE threads: they are the first two cores.
	 * Workers that share one request only pay beyond that; on two CPUs
	 * they measured slower than none (docs/performance.md). */
	if (!threads) {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		threads = ncpu > 2 ? (uint64_t)ncpu - 1 : 1;
	}
	struct dumpfs_options opts = { .cache_bytes = (size_t)cache_bytes, .threads = (unsigned)threads };
	if (open_dump(&d, argv + optind, (size_t)(argc - optind - 1), &opts) < 0)
		return 1;
	int rc = serve(d, argv[optind], mnt, fuse_opts, foreground, debug, single, splice);
	dumpfs_close(d);
	return rc;
}
