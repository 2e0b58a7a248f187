/*
 * main.c - the dumpfs command: usage, and which of its three jobs to do.
 *
 *   dumpfs [options] DUMP... MOUNTPOINT [options]     mount (fs/mount.c)
 *   dumpfs info [--json] DUMP...                      print /header (fs/cat.c)
 *   dumpfs cat [options] DUMP... PATH                 copy out one file (fs/cat.c)
 *
 * info and cat read through the same core calls the mount does, for
 * machines without /dev/fuse (containers, CI).  Every option printed here
 * is in docs/dumpfs.1 and the other way round (tests/bad/manpage.py).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void usage(FILE *out)
{
	fprintf(out,
		"usage: dumpfs [options] DUMP... MOUNTPOINT [options]\n"
		"       dumpfs info [--json] DUMP...\n"
		"       dumpfs cat [options] DUMP... PATH\n"
		"\n"
		"Mount a Linux crash dump (kdump-compressed, makedumpfile flattened, or ELF\n"
		"vmcore; several files for a makedumpfile --split set) read-only and show it as\n"
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
		"  -o ro              the mount is always read-only; rw is ignored\n"
		"  -o OPT             other options go to FUSE (e.g. allow_other)\n"
		"\n"
		"info and cat options:\n"
		"  --btf FILE, --system-map FILE, --vmlinux FILE   as -o btf=, system_map=, vmlinux=\n"
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

int open_dump(struct dumpfs_dump **d, char **paths, size_t n, const struct dumpfs_options *opts)
{
	char err[512];
	if (dumpfs_open(d, (const char *const *)paths, n, opts, err, sizeof(err)) != DUMPFS_OK) {
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
	return cmd_mount(argc, argv);
}
