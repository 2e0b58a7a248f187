/*
 * dumpfs.h - the dumpfs core: open a Linux crash dump and read it as a small
 * tree of virtual files.  No FUSE in here; fs/ and any other front end (the
 * `dumpfs cat` command, tests, fuzzers) go through exactly this interface.
 *
 * Contract
 *  - A dump is opened once from one file or a split set and is then
 *    read-only and safe to use from many threads at once.
 *  - Every function that can fail returns an enum dumpfs_status.  Open
 *    errors come with one line of text naming the file, the offset and what
 *    was wrong.  Read errors are per range: a damaged page fails alone.
 *  - Nothing is ever written to the dump files (they are opened O_RDONLY).
 *  - Memory use is bounded by the page cache size plus indexes proportional
 *    to the dump's metadata (bitmaps, flattened records, segments), never by
 *    a size field read from the file.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_H
#define DUMPFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DUMPFS_VERSION "0.1.0"

enum dumpfs_status {
	DUMPFS_OK = 0,
	DUMPFS_ERR_IO,          /* the dump file could not be read */
	DUMPFS_ERR_CORRUPT,     /* the dump contradicts its own format */
	DUMPFS_ERR_UNSUPPORTED, /* a valid dump we cannot handle */
	DUMPFS_ERR_NOMEM,
	DUMPFS_ERR_NODATA,      /* the page is not in the dump (reads as zeros) */
	DUMPFS_ERR_INVALID,     /* bad argument from the caller */
};

/* Short name of a status ("corrupt", "I/O error", ...). */
const char *dumpfs_status_name(enum dumpfs_status status);

struct dumpfs_dump;

/*
 * How to reach dumps given as URLs (http://, https://, s3://); every
 * field is optional (NULL or 0 picks the default).
 */
struct dumpfs_remote {
	const char *s3_endpoint;        /* an S3-compatible store, "http://host:port" */
	const char *s3_region;          /* default: AWS_REGION, the profile's, us-east-1 */
	const char *s3_addressing;      /* "path" or "virtual"; default virtual on
					 * AWS, path on another endpoint */
	const char *aws_profile;
	bool s3_no_sign;                /* a public bucket: send no signature */
	const char *ca_file;            /* PEM bundle to trust for https */
	const char *cache_dir;          /* keep fetched blocks on disk */
	size_t cache_bytes;             /* memory for fetched blocks; 0: 64 MiB */
	unsigned timeout;               /* seconds to connect, and that a transfer
					 * may stall; 0: 10 */
	int retries;                    /* tries after a request's first: 0 picks 5,
					 * -1 none */
	unsigned backoff_ms;            /* a retry waits at most this, doubled for
					 * each try after (up to 5 s); 0: 200 */
};

/* How far a long job has got: indexing a makedumpfile flattened file reads
 * it whole.  @fn is called from the thread that runs the job, with the
 * file's name and bytes done out of @total, many times a second on a fast
 * disk; the caller decides what to show, and how often. */
struct dumpfs_progress {
	void (*fn)(void *arg, const char *path, uint64_t done, uint64_t total);
	void *arg;
};

/* The sidecar `dumpfs index` writes next to a flattened file. */
#define DUMPFS_INDEX_SUFFIX ".dfsidx"

struct dumpfs_options {
	/* Bytes of decompressed pages to keep; 0 picks the default (64 MiB). */
	size_t cache_bytes;
	/* Threads that decompress one large read together, the caller's
	 * included; 0 picks one per online CPU, 1 reads in the caller only. */
	unsigned threads;
	/* Files that stand in for what the dump's kernel lacks (NULL: none):
	 * its BTF (e.g. pahole --btf_encode_detached), and its System.map
	 * (for kernels whose kallsyms VMCOREINFO does not name, or that list
	 * text symbols only).  /kernel/btf, /kernel/symbols and /tasks then
	 * come from them. */
	const char *btf_path;
	const char *system_map_path;
	/* The kernel's vmlinux (an ELF file with .symtab, and .BTF on kernels
	 * built with CONFIG_DEBUG_INFO_BTF): symbols and types both, where
	 * the two above are not given.  dumpfs_open() refuses one whose build
	 * ID is not VMCOREINFO's BUILD-ID. */
	const char *vmlinux_path;
	/* Raw memory images: physical memory as plain bytes, with no header
	 * to detect, so read as such only when these say where the bytes
	 * belong (both NULL: the format is detected from content).
	 * raw_bases: one per path, the physical address of its byte 0
	 * (crash's FILE@ADDRESS; LiME's format=padded is FILE@0).
	 * raw_ranges: for a single file holding ranges one after the other
	 * (LiME's format=raw), "START-END[:OFFSET],..." in address order:
	 * END inclusive, as /proc/iomem prints it; OFFSET the file offset of
	 * START, by default where the range before ends in the file.
	 * dumpfs_open() refuses ranges that overlap, lie past the end of the
	 * file or above 2^52, and a file longer than its ranges. */
	const uint64_t *raw_bases;
	const char *raw_ranges;
	struct dumpfs_remote remote;
	/* A makedumpfile flattened file is indexed from a sidecar when one
	 * is given here (for the first file) or lies next to the file as
	 * FILE.dfsidx, and validates against the file; otherwise (with a
	 * warning in /header when a sidecar was refused) by reading the
	 * file whole, reported to @index_progress (may be NULL). */
	const char *flat_index_path;
	const struct dumpfs_progress *index_progress;
};

/*
 * Open a dump made of @nfiles files (more than one only for a
 * `makedumpfile --split` set, or raw images each at its address, in any
 * order).  The format is detected from content, except a raw image's
 * (dumpfs_options.raw_*).  On failure *out is NULL and @err holds a
 * one-line message.
 */
enum dumpfs_status dumpfs_open(struct dumpfs_dump **out,
			       const char *const *paths, size_t nfiles,
			       const struct dumpfs_options *opts,
			       char *err, size_t errlen);
void dumpfs_close(struct dumpfs_dump *dump);
/* Stop the threads the dump started (a remote source's transfers), before
 * a fork(), which would not copy them; they start again when needed. */
void dumpfs_quiesce(struct dumpfs_dump *dump);

/*
 * Write the index of the makedumpfile flattened file @path to @out (NULL:
 * @path with DUMPFS_INDEX_SUFFIX), made by one read of the whole file,
 * reported to @progress (may be NULL).  The sidecar is written to a
 * temporary file next to @out and renamed over it when complete.  A file
 * that is not flattened is refused (DUMPFS_ERR_INVALID).  The format is in
 * docs/index-sidecar.md.
 */
enum dumpfs_status dumpfs_index_write(const char *path, const char *out,
				      const struct dumpfs_progress *progress,
				      char *err, size_t errlen);

/* A physical address as raw_ranges and FILE@ADDRESS write it: all of
 * @text, hex after 0x or decimal, below 2^64.  0, or -1 if it is not one. */
int dumpfs_parse_address(const char *text, uint64_t *out);

/*
 * Read physical memory: byte i of @buf is physical address @paddr + i.
 * Pages that are not in the dump (holes, excluded) read as zeros.  Returns
 * the number of bytes read, which is short only when a page cannot be read
 * (lost or damaged) after at least one good byte; a read that starts on
 * such a page returns -EIO.  Reads past the end of memory return 0.
 */
ssize_t dumpfs_read_phys(struct dumpfs_dump *dump, void *buf, size_t len,
			 uint64_t paddr);

/*
 * Where bytes of a file of the tree lie unchanged in a dump file, so that a
 * caller can hand out the dump file's own pages (splice) instead of copies.
 * dumpfs_node_extent() returns 1 and fills @e when the first bytes of the
 * range at @off are stored as is in a plain (not flattened) file (@e->len
 * may be less than @len), and 0 when they are not (compressed pages, holes,
 * text files, flattened files).
 */
struct dumpfs_extent {
	int fd;
	uint64_t offset;
	size_t len;
};
int dumpfs_node_extent(struct dumpfs_dump *dump, uint32_t node, uint64_t off, size_t len,
		       struct dumpfs_extent *e);

/* The size of /mem: the end of the highest RAM page. */
uint64_t dumpfs_mem_size(const struct dumpfs_dump *dump);

/*
 * The virtual tree.  Node 0 is the root directory; the nodes of a directory
 * follow it in readdir order.  Node numbers are stable for the life of the
 * dump, so a front end can use them as inode numbers.
 */
enum dumpfs_node_type { DUMPFS_NODE_DIR, DUMPFS_NODE_FILE };

struct dumpfs_node_info {
	const char *name;           /* "" for the root */
	enum dumpfs_node_type type;
	uint32_t parent;
	uint64_t size;              /* 0 for directories */
	uint64_t stored;            /* about how many bytes are data, not holes
				     * (st_blocks: `cp` looks for holes only in
				     * files that say they have some) */
	int is_volatile;            /* content changes between reads (/stats) */
};

/* The nodes of the tree.  The dump's own are numbered 0 .. N-1; those of a
 * guest's tree (/dom0/ of a Xen host's kdump), counted here too, are
 * numbered apart: reach them from their directory (dumpfs_node_child()). */
uint32_t dumpfs_node_count(const struct dumpfs_dump *dump);
/* Fills @info; returns DUMPFS_ERR_INVALID for a node number out of range.
 * The size of a text file is known only once it is rendered, so this may
 * render it (once; later calls are cheap). */
enum dumpfs_status dumpfs_node_stat(struct dumpfs_dump *dump, uint32_t node,
				    struct dumpfs_node_info *info);
/* The child of @dir called @name, or -1. */
int64_t dumpfs_node_lookup(struct dumpfs_dump *dump, uint32_t dir,
			   const char *name);
/* The @index-th child of @dir, or -1 past the end. */
int64_t dumpfs_node_child(struct dumpfs_dump *dump, uint32_t dir,
			  uint32_t index);
/* 0 if directory @dir can be listed, else a negative errno: -EIO for a
 * directory listed when first looked into (/tasks) whose listing failed
 * (the log says why; it then has no children). */
int dumpfs_node_dir_error(struct dumpfs_dump *dump, uint32_t dir);
/* Node by slash-separated path ("/cpus/0/regs"), or -1. */
int64_t dumpfs_node_by_path(struct dumpfs_dump *dump, const char *path);

/* Read a file node, with dumpfs_read_phys()'s rules (short read before a
 * bad page, -EIO on it, 0 at or past the end). */
ssize_t dumpfs_node_read(struct dumpfs_dump *dump, uint32_t node, void *buf,
			 size_t len, uint64_t off);

/*
 * SEEK_DATA / SEEK_HOLE for a file node: the first offset >= @off that is
 * data (resp. hole).  Only /mem and /vmcore.elf have holes; every other
 * file is all data.  Returns -ENXIO when @off is at or past the end (and,
 * for SEEK_DATA, when there is no data after it).
 */
int64_t dumpfs_node_seek(struct dumpfs_dump *dump, uint32_t node,
			 uint64_t off, int whence);

/* Page cache counters, for /stats and benchmarks. */
struct dumpfs_cache_stats {
	uint64_t hits, misses, bytes_limit;
};
void dumpfs_cache_stats(const struct dumpfs_dump *dump,
			struct dumpfs_cache_stats *stats);

#endif /* DUMPFS_H */
