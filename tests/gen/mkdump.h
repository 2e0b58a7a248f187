/*
 * mkdump.h - what mkdump.c (the Linux formats, the command line, the
 * expected-output files) shares with mkdump_xen.c (Xen's formats).
 */
#ifndef MKDUMP_H
#define MKDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum format { FMT_KDUMP, FMT_DISKDUMP, FMT_ELF, FMT_LIME, FMT_RAW, FMT_XC, FMT_XEN_KDUMP,
	      FMT_COUNT };
enum codec { CODEC_NONE, CODEC_ZLIB, CODEC_LZO, CODEC_SNAPPY, CODEC_ZSTD,
	     CODEC_MIXED };
enum arch { ARCH_X86_64, ARCH_I386, ARCH_PPC64, ARCH_S390X, ARCH_AARCH64 };

extern const char *const format_names[FMT_COUNT];

/* Per-pfn state. The low bits say where the page is, the high bits
 * record what happened to its data on the way into the dump. */
enum {
	PG_NOT_RAM = 0,
	PG_EXCLUDED = 1,  /* RAM, but filtered out (2nd bitmap bit off) */
	PG_DUMPED = 2,    /* present in the dump */
	PG_WHERE = 3,
	PG_ZERO = 0x10,   /* all-zero content */
	PG_LOST = 0x20,   /* incomplete dump: descriptor/data missing */
	PG_CORRUPT = 0x40 /* compressed bytes damaged */
};

#define NT_PRSTATUS 1

struct range { uint64_t start, end; }; /* inclusive pfn range */

/* The Xen options (--format xc and xen-kdump; mkdump_xen.c) */
struct xen_opts {
	bool hvm;              /* --xen-type hvm: auto-translated, .xen_pfn */
	bool shuffle;          /* page order in .xen_pages not sorted by pfn */
	bool arrays_first;     /* .xen_p2m/.xen_pfn and .shstrtab before .xen_pages */
	int invalid_tail;      /* xc_core's own padding entries (pfn ~0); -1: default */
	int out_of_range;      /* entries naming pfns (or mfns) past any memory */
	bool dup_pfn;          /* two entries name one pfn */
	bool truncate_pages;   /* the file ends inside .xen_pages */
	const char *bad_section; /* a section whose sh_size runs past EOF */
};

struct opts {
	enum format format;
	bool flat;
	enum codec codec;
	int header_version;
	int layout; /* 64 or 32 */
	bool big_endian;
	int endian_set;
	enum arch arch;
	int arch_set;
	struct range *ram;
	size_t nram;
	uint32_t page_size;
	int cpus;
	bool qemu_notes;
	bool excluded;
	bool zero_pages;
	bool incomplete;
	int split;
	bool pn_xnum;
	int corrupt_pages;
	bool eraseinfo;
	bool vmcoreinfo;
	uint64_t phys_base;
	uint64_t seed;
	const char *out;
	struct xen_opts xen;
};

struct buf { uint8_t *p; size_t len, cap; };

struct dump {
	struct opts o;
	uint64_t max_mapnr;      /* highest RAM pfn + 1 */
	uint8_t *state;          /* PG_* per pfn */
	uint8_t *mem;            /* true page contents, max_mapnr pages */
	uint64_t ram_pages, dumped_pages, excluded_pages, zero_pages;
	/* note descriptors (in dump byte order) */
	uint8_t **prstatus, **qemu;
	size_t prstatus_size;
	char *vmcoreinfo;
	char *eraseinfo;
	/* which of those actually made it into the dump (header version) */
	bool has_notes, has_vmcoreinfo, has_eraseinfo;
	/* ELF vmcores: a note blob to write instead of build_notes()'s */
	const struct buf *elf_notes;
};

/* Growable byte buffer */
void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_add_zero(struct buf *b, size_t len);

/* File image: a list of byte extents, written plain or flattened */
struct chunk { uint64_t off, len; const uint8_t *data; };
struct image {
	struct chunk *c;
	size_t n, cap;
	uint64_t size;     /* logical file size */
	uint8_t **owned;   /* buffers freed with the image */
	size_t nowned;
};
void image_add(struct image *img, uint64_t off, const uint8_t *data, uint64_t len);
const uint8_t *image_own(struct image *img, uint8_t *p);
void image_free(struct image *img);
void image_truncate(struct image *img, uint64_t size);
void write_image(const struct dump *d, const struct image *img, const char *name,
		 uint64_t salt);

/* Deterministic randomness: everything derives from --seed */
struct rng { uint64_t s; };
uint64_t mix64(uint64_t x);
uint64_t rng_next(struct rng *r);
uint64_t rng_below(struct rng *r, uint64_t n);

/* Byte-order aware stores */
extern bool g_be;
void put16(uint8_t *p, uint16_t v);
void put32(uint8_t *p, uint32_t v);
void put64(uint8_t *p, uint64_t v);

void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t sz);
bool all_zero(const uint8_t *p, size_t len);

/* Memory, notes */
void fill_page(const struct dump *d, uint64_t pfn, uint8_t *p);
char *make_vmcoreinfo(const struct dump *d);
size_t add_note(struct buf *b, const char *name, uint32_t type, const void *desc,
		size_t descsz);
void write_elf(struct dump *d);

/* Expected-output files */
char *file_name(const char *base, const char *suffix);
FILE *open_expect(const char *base, const char *suffix);
void close_expect(FILE *f);
void write_blob(const char *base, const char *suffix, const void *p, size_t len);
/* BASE.mem, BASE.eio and BASE.holes of @n pages in @state/@mem; counts
 * EIO pages (lost and corrupt ones apart) into @count[3] if not NULL. */
void write_page_files(const char *base, const uint8_t *state, const uint8_t *mem,
		      uint64_t n, uint32_t ps, uint64_t count[3]);
void write_expected(const struct dump *d);

void usage(const char *msg) __attribute__((noreturn));

/* mkdump_xen.c */
void xen_check_opts(const struct opts *o);
void write_xen(struct dump *d);

#endif
