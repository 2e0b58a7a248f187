/*
 * internal.h - what the core's files share.  Nothing here is public; the
 * contract for callers is include/dumpfs.h.
 *
 * Layering, top to bottom (each file includes only what is below it):
 *   tree.c, text.c, elfview.c   the virtual files
 *   dmesg.c                     the kernel log, for /dmesg
 *   kvaddr.c                    x86_64 kernel virtual to physical, phys_base
 *                               from page tables (called by dump.c at open)
 *   dump.c                      open/probe, read_phys, seek
 *   fmt_kdump.c, fmt_elf.c      one file per format, behind struct format_ops
 *   notes.c, bitmap.c           note parsing, the pfn rank index
 *   source.c, flat.c            byte sources: a plain file or a flattened one
 *   codec.c, cache.c, util.c    decompressors, the page cache, helpers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_INTERNAL_H
#define DUMPFS_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dumpfs.h"

#define MIN_PAGE_SIZE 1024u
#define MAX_PAGE_SIZE 65536u
#define ERRMSG_MAX 512

/* ---- util.c ------------------------------------------------------------ */

static inline uint16_t get_le16(const void *p) { const uint8_t *b = p; return (uint16_t)(b[0] | b[1] << 8); }
static inline uint32_t get_le32(const void *p) { const uint8_t *b = p; return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24; }
static inline uint64_t get_le64(const void *p) { const uint8_t *b = p; return get_le32(b) | (uint64_t)get_le32(b + 4) << 32; }
static inline uint16_t get_be16(const void *p) { const uint8_t *b = p; return (uint16_t)(b[0] << 8 | b[1]); }
static inline uint32_t get_be32(const void *p) { const uint8_t *b = p; return (uint32_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]; }
static inline uint64_t get_be64(const void *p) { const uint8_t *b = p; return (uint64_t)get_be32(b) << 32 | get_be32(b + 4); }

/* Byte order of the dump's own structures. */
struct endian { bool big; };
static inline uint16_t get16(struct endian e, const void *p) { return e.big ? get_be16(p) : get_le16(p); }
static inline uint32_t get32(struct endian e, const void *p) { return e.big ? get_be32(p) : get_le32(p); }
static inline uint64_t get64(struct endian e, const void *p) { return e.big ? get_be64(p) : get_le64(p); }
void put16(struct endian e, void *p, uint16_t v);
void put32(struct endian e, void *p, uint32_t v);
void put64(struct endian e, void *p, uint64_t v);

/* A growable text buffer; on allocation failure it stops growing and
 * remembers it, so renderers need not check every append. */
struct strbuf { char *buf; size_t len, cap; bool failed; };
void sb_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sb_append(struct strbuf *sb, const void *data, size_t len);
void sb_free(struct strbuf *sb);

/* Overflow-checked arithmetic: false when the result does not fit. */
static inline bool add_ok(uint64_t a, uint64_t b, uint64_t *sum) { return !__builtin_add_overflow(a, b, sum); }
static inline bool mul_ok(uint64_t a, uint64_t b, uint64_t *prod) { return !__builtin_mul_overflow(a, b, prod); }

/* ---- source.c / flat.c: byte sources ---------------------------------- */

struct flat_index;

/* One dump file.  For a flattened file, offsets are those of the
 * rearranged file and gaps between records read as zeros. */
struct source {
	char *path;
	int fd;
	uint64_t size;          /* logical (rearranged) size */
	uint64_t stored_bytes;  /* bytes of data actually in the file */
	struct flat_index *flat;
	char *flat_warning;     /* e.g. a missing end marker; NULL if none */
};

enum dumpfs_status source_open(struct source *src, const char *path,
			       char *err, size_t errlen);
void source_close(struct source *src);
/* Read exactly @len bytes at logical offset @off.  DUMPFS_ERR_CORRUPT if
 * the range runs past the end, DUMPFS_ERR_IO on a read error. */
enum dumpfs_status source_read(const struct source *src, void *buf, size_t len,
			       uint64_t off);

/* The first offset >= @off that may hold data (SEEK_DATA on a plain file;
 * @off where that cannot be told); the file size if only holes follow. */
uint64_t source_next_data(const struct source *src, uint64_t off);
/* pread() of the underlying file itself, for flat.c. */
enum dumpfs_status source_pread_raw(const struct source *src, void *buf,
				    size_t len, uint64_t off);

enum dumpfs_status flat_index_build(struct source *src, char *err, size_t errlen);
void flat_index_free(struct flat_index *fi);
enum dumpfs_status flat_read(const struct source *src, void *buf, size_t len,
			     uint64_t off);
size_t flat_record_count(const struct flat_index *fi);

/* ---- codec.c ----------------------------------------------------------- */

enum codec { CODEC_NONE, CODEC_ZLIB, CODEC_LZO, CODEC_SNAPPY, CODEC_ZSTD };
const char *codec_name(enum codec c);
/* Decompress into exactly @dst_len bytes; anything else is corrupt. */
enum dumpfs_status codec_decompress(enum codec c, const void *src,
				    size_t src_len, void *dst, size_t dst_len);
/* A per-thread scratch buffer of at least MAX_PAGE_SIZE bytes; @which
 * selects one of a few independent buffers. */
void *thread_scratch(unsigned which);
/* A per-thread buffer of at least @size bytes (grown on demand, kept until
 * the thread exits); NULL if it cannot be had. */
void *thread_buffer(size_t size);

/* ---- cache.c ----------------------------------------------------------- */

/* Worker threads sharing large reads (pool.c). */
struct pool;
typedef void (*pool_task_fn)(void *arg, size_t task);
struct pool *pool_new(size_t nthreads);
void pool_free(struct pool *p);
/* Run fn(arg, 0..ntasks-1) on the pool and the calling thread; returns
 * when all have finished.  Without a pool, runs them in the caller. */
void pool_run(struct pool *p, pool_task_fn fn, void *arg, size_t ntasks);
/* One worker per online CPU beyond the caller's. */
size_t pool_default_threads(void);

struct page_cache;
struct page_cache *cache_new(size_t bytes, uint32_t page_size);
void cache_free(struct page_cache *c);
bool cache_get(struct page_cache *c, uint64_t key, uint32_t tag, void *dst);
void cache_put(struct page_cache *c, uint64_t key, uint32_t tag, const void *src);
void cache_stats(const struct page_cache *c, struct dumpfs_cache_stats *st);

/* ---- bitmap.c: pfn bitmaps with O(1) rank ------------------------------ */

struct bitmap {
	uint64_t nbits;         /* pfn p is bit p%8 of byte p/8 in the file */
	uint64_t *rank;         /* set bits before each 4096-bit block */
	uint32_t *kind;         /* per block: all zero, all one, or mixed */
	uint8_t *mixed;         /* the bits of the mixed blocks */
	size_t nmixed, mixed_cap;
};
/* The largest bitmap dumpfs indexes: 2^38 pages (1 PiB of 4 KiB pages),
 * an index of at most 768 MiB plus the mixed blocks. */
#define BITMAP_MAX_BITS (UINT64_C(1) << 38)
/* From @nbits bits in memory (copied as needed). */
enum dumpfs_status bitmap_init(struct bitmap *bm, const uint8_t *bits, uint64_t nbits);
/* From @nbits bits at offset @off of @src; holes of a sparse file are
 * skipped unread. */
enum dumpfs_status bitmap_load(struct bitmap *bm, const struct source *src, uint64_t off,
			       uint64_t nbits);
void bitmap_free(struct bitmap *bm);
bool bitmap_test(const struct bitmap *bm, uint64_t i);
/* Bytes the index takes. */
size_t bitmap_memory(const struct bitmap *bm);
/* Number of set bits below @i. */
uint64_t bitmap_rank(const struct bitmap *bm, uint64_t i);
/* First index >= @i whose bit equals @set, or bm->nbits. */
uint64_t bitmap_find(const struct bitmap *bm, uint64_t i, bool set);

/* ---- notes.c ----------------------------------------------------------- */

struct note {
	const char *name;       /* NUL-terminated owner, points into the blob */
	uint32_t type;
	const uint8_t *desc;
	uint32_t descsz;
	const uint8_t *raw;     /* the whole note record, padded */
	uint32_t rawsz;
};

struct note_set {
	uint8_t *blob;          /* all notes, in the dump's byte order */
	size_t size;
	struct note *list;
	size_t count;
	/* by role: indexes into list */
	size_t *prstatus, nprstatus;
	size_t *qemu, nqemu;
	const char *vmcoreinfo; /* text, not NUL-terminated */
	size_t vmcoreinfo_len;
	const uint8_t *eraseinfo;
	size_t eraseinfo_len;
};

/* Parse the ELF notes in @blob (takes ownership).  Notes past a malformed
 * one are dropped with a message in @warn. */
enum dumpfs_status notes_parse(struct note_set *ns, uint8_t *blob, size_t size,
			       struct endian e, char *warn, size_t warnlen);
/* Append one note (used to add VMCOREINFO/ERASEINFO found outside notes). */
enum dumpfs_status notes_append(struct note_set *ns, struct endian e,
				const char *name, uint32_t type,
				const void *desc, size_t descsz);
void notes_free(struct note_set *ns);
/* Value of KEY in VMCOREINFO text ("KEY=value" lines), copied into @out. */
bool vmcoreinfo_get(const struct note_set *ns, const char *key, char *out, size_t outlen);

/* ---- the dump object and the format ops table -------------------------- */

struct dumpfs_dump;

struct format_ops {
	const char *name;
	/* Fill @buf with page @pfn.  DUMPFS_ERR_NODATA: not in the dump (the
	 * caller zero-fills).  Other errors are logged through dump_log(). */
	enum dumpfs_status (*read_page)(struct dumpfs_dump *d, uint64_t pfn, void *buf);
	/* Optional: pages [@pfn, @pfn + @n) into @buf, one status per page in
	 * @st, with read_page's meanings; batches the file reads. */
	void (*read_pages)(struct dumpfs_dump *d, uint64_t pfn, size_t n, uint8_t *buf,
			   enum dumpfs_status *st);
	/* Optional: where physical memory at @paddr is stored as is in a
	 * plain file, for up to @len bytes; false if it is not. */
	bool (*extent)(struct dumpfs_dump *d, uint64_t paddr, size_t len, struct dumpfs_extent *e);
	/* First pfn >= @pfn that is (@dumped) or is not (!@dumped) in the
	 * dump; d->max_pfn if none. */
	uint64_t (*find_pfn)(struct dumpfs_dump *d, uint64_t pfn, bool dumped);
	/* Format-specific lines of /header. */
	void (*describe)(struct dumpfs_dump *d, struct strbuf *sb);
	void (*close)(struct dumpfs_dump *d);
};

extern const struct format_ops kdump_ops, elf_ops;

struct page_run { uint64_t start, count; };   /* in pfns */

struct dumpfs_dump {
	const struct format_ops *ops;
	void *fmt;                      /* the format's private state */
	struct source *files;
	size_t nfiles;
	char err[ERRMSG_MAX];           /* open-time error */

	/* What the format found, shared with the views */
	const char *format_name;        /* "kdump", "diskdump", "ELF64", ... */
	struct endian endian;
	bool is_32bit;
	uint16_t elf_machine;           /* EM_* for the synthesized ELF */
	uint32_t page_size;
	unsigned page_shift;
	uint64_t max_pfn;               /* /mem size = max_pfn << page_shift */
	struct page_run *ram;           /* RAM runs, sorted, disjoint */
	size_t nram, ram_cap;
	uint64_t ram_pages, dumped_pages;
	bool incomplete;
	bool has_phys_base;
	uint64_t phys_base;
	const char *phys_base_origin;
	uint64_t kernel_text_vaddr;     /* _text found in the page tables; 0 if not */
	const char *producer;           /* who wrote the file, if the format can tell */
	bool elf_passthrough;           /* /vmcore.elf is file 0 as is */
	struct note_set notes;
	char warnings[ERRMSG_MAX];      /* problems found but survived */
	char dmesg_status[160];         /* what /header says about /dmesg */

	struct page_cache *cache;
	struct tree *tree;
	struct elf_view *elf;

	pthread_mutex_t log_lock;
	unsigned log_count;

	pthread_mutex_t pool_lock;
	struct pool *pool;              /* started by the first large read */
	size_t pool_threads;            /* 0: read in the caller's thread only */
	bool pool_failed;
};

/* dumpfs_node_extent() of /mem, and of file 0 as is (an ELF passed through). */
bool dump_mem_extent(struct dumpfs_dump *d, uint64_t paddr, size_t len, struct dumpfs_extent *e);
bool dump_file_extent(struct dumpfs_dump *d, uint64_t off, size_t len, struct dumpfs_extent *e);

/* Record an open-time error on @d and return @status. */
enum dumpfs_status dump_fail(struct dumpfs_dump *d, enum dumpfs_status status,
			     const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Report a read-time problem (a damaged page); rate limited, thread safe. */
enum dumpfs_status dump_log(struct dumpfs_dump *d, enum dumpfs_status status,
			    const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Remember a non-fatal problem found at open for /header. */
void dump_warn(struct dumpfs_dump *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Read from file @i with a contextual error on failure (open time). */
enum dumpfs_status dump_read_meta(struct dumpfs_dump *d, size_t i, void *buf,
				  size_t len, uint64_t off, const char *what);
enum dumpfs_status dump_set_page_size(struct dumpfs_dump *d, uint64_t size,
				      uint64_t at, const char *what);
/* Append a RAM run, merging with the previous one when adjacent. */
enum dumpfs_status dump_add_ram(struct dumpfs_dump *d, uint64_t start, uint64_t count);
/* Fill d->has_phys_base from VMCOREINFO if it says. */
void dump_phys_base_from_vmcoreinfo(struct dumpfs_dump *d);

/* What an ELF input's headers say about who wrote it; false if not ELF. */
bool elf_origin_hints(const struct dumpfs_dump *d, bool *excluded_tails, bool *kernel_text);

enum dumpfs_status kdump_probe(struct dumpfs_dump *d, bool *matched);
enum dumpfs_status elf_probe(struct dumpfs_dump *d, bool *matched);

/* ---- kvaddr.c: x86_64 kernel virtual addresses ------------------------ */

/* One reader's translation state (it caches the last page: one per thread). */
struct kvaddr {
	struct dumpfs_dump *d;
	uint64_t phys_base;
	uint64_t top_table;             /* physical address of swapper_pg_dir */
	bool have_top_table, five_level;
	uint64_t cached_vpage, cached_ppage;
};

/* Set up from phys_base and VMCOREINFO; @why says what is missing. */
enum dumpfs_status kvaddr_init(struct kvaddr *kv, struct dumpfs_dump *d, char *why, size_t whylen);
bool kvaddr_to_phys(struct kvaddr *kv, uint64_t vaddr, uint64_t *paddr);
/* Read @len bytes at kernel virtual @vaddr; false if any byte cannot be. */
bool kvaddr_read(struct kvaddr *kv, uint64_t vaddr, void *buf, size_t len);
/* phys_base and the virtual address of _text (0 if the tables do not show
 * it) from the page tables of a QEMU CPU note's CR3, for dumps that carry
 * no VMCOREINFO. */
bool kvaddr_kernel_map_from_qemu_cr3(struct dumpfs_dump *d, uint64_t *phys_base, uint64_t *text_vaddr);
/* Where VMCOREINFO does not give phys_base, take it from the page tables of
 * the QEMU CPU notes (overriding a kdump sub-header's, which QEMU fills in
 * wrongly); a disagreement becomes a warning in /header. */
void dump_phys_base_from_qemu_cr3(struct dumpfs_dump *d);

/* ---- dmesg.c ----------------------------------------------------------- */

/* The kernel log as crash's `log` prints it.  On failure @why says why and
 * nothing useful is in @sb. */
enum dumpfs_status dmesg_render(struct dumpfs_dump *d, struct strbuf *sb, char *why, size_t whylen);

/* ---- views ------------------------------------------------------------- */

struct elf_view;
enum dumpfs_status elf_view_build(struct dumpfs_dump *d);
void elf_view_free(struct elf_view *v);
uint64_t elf_view_size(const struct dumpfs_dump *d);
ssize_t elf_view_read(struct dumpfs_dump *d, void *buf, size_t len, uint64_t off);
int64_t elf_view_seek(struct dumpfs_dump *d, uint64_t off, bool data);
uint64_t elf_view_stored(const struct dumpfs_dump *d);

struct tree;
enum dumpfs_status tree_build(struct dumpfs_dump *d);
void tree_free(struct tree *t);

void text_header(struct dumpfs_dump *d, struct strbuf *sb);
void text_regs(struct dumpfs_dump *d, size_t cpu, struct strbuf *sb);
void text_stats(struct dumpfs_dump *d, struct strbuf *sb);

#endif /* DUMPFS_INTERNAL_H */
