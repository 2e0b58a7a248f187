/*
 * format.h - dump formats: one reader per format behind struct format_ops,
 * each answering "what is stored for pfn P" from its sources, and the
 * facts a format states about the dumped machine (page size, RAM, notes).
 *
 *   probe.c     which format a dump is; the open and close of struct format
 *   common.c    what every reader shares: errors, page size, RAM runs
 *   kdump.c     kdump-compressed (single or split), with bitmap.c's index
 *   elf.c       ELF vmcores
 *   xc_core.c   Xen domain dumps (`xl dump-core`), with xen_notes.c and
 *               xen_vcpu.c; xen_host.c and xen_dom0.c decode a Xen host's
 *               kdump and its dom0; xen_save.c names Xen's save images
 *               (all declared in xen.h)
 *   lime.c      LiME memory images
 *   raw.c       raw memory images (no header: only where the caller says)
 *   qemu.c      the guest inside a QEMU process core, over pcore.c (a
 *               process's core: mappings, notes, reads at its addresses)
 *               and exesyms.c (its executable's dynamic symbols)
 *   segments.c  reads of memory stored as runs of file bytes (elf.c, lime.c,
 *               raw.c, qemu.c)
 *   notes.c     ELF notes and VMCOREINFO
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_FORMAT_H
#define DUMPFS_FORMAT_H

#include "page/page.h"
#include "source/source.h"

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
	uint32_t namesz;        /* as the record says (NUL and any padding) */
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
/* Byte-swap, in place, the descriptor of a note of owner @name and @type
 * (between big- and little-endian: the swap is its own inverse); false if
 * its layout is unknown. */
typedef bool (*note_swap_fn)(const char *name, uint32_t type, uint8_t *desc, uint32_t descsz);
/* @in's notes in byte order @to, in a new set @out: headers rewritten, text
 * notes as they are, the others through @swap; those it does not know are
 * left out and counted in @dropped. */
enum dumpfs_status notes_reorder(struct note_set *out, const struct note_set *in,
				 struct endian to, note_swap_fn swap, size_t *dropped);
void notes_free(struct note_set *ns);
/* Value of KEY in VMCOREINFO text ("KEY=value" lines), copied into @out. */
bool vmcoreinfo_get(const struct note_set *ns, const char *key, char *out, size_t outlen);
/* KEY's value as a number in @base (16 for SYMBOL(), 10 for most NUMBER()). */
bool vmcoreinfo_u64(const struct note_set *ns, const char *key, int base, uint64_t *out);


/* ---- pcore.c, exesyms.c: the core of a user process -------------------- */

struct format;

/* One PT_LOAD of a process core: a mapping of the process. */
struct host_map {
	uint64_t start, end;            /* virtual addresses in the process */
	uint64_t offset, filesz;        /* its bytes in the core file */
	uint32_t flags;                 /* PF_R, PF_W, PF_X */
	uint64_t phdr_at;               /* where its program header is */
	const char *file;               /* NT_FILE's name; NULL: anonymous */
	uint64_t file_offset;           /* of start in that file */
};

struct process_core {
	struct note_set notes;          /* the process's own (NT_PRSTATUS per thread ...) */
	struct host_map *maps;          /* sorted by start, disjoint */
	size_t nmaps;
	uint32_t pid;
	char fname[17];                 /* NT_PRPSINFO's command name */
	char psargs[81];                /* and the first 80 bytes of its arguments */
	bool has_sections;              /* gdb writes section headers; the kernel does not */
};

/* Whether @ns holds a NT_PRPSINFO: a process's core, not a machine's. */
bool pcore_is_process_core(const struct note_set *ns);
/* Take @f's notes and @maps (owned) as a process core's. */
enum dumpfs_status pcore_open(struct process_core *pc, struct format *f,
			      struct host_map *maps, size_t nmaps, bool sections);
const struct host_map *pcore_map_at(const struct process_core *pc, uint64_t addr);
/* @len bytes of the process's memory at @addr; false if the core lacks any. */
bool pcore_read(const struct process_core *pc, const struct source *src, void *buf, size_t len,
		uint64_t addr);
bool pcore_read_u64(const struct process_core *pc, const struct source *src, struct endian e,
		    uint64_t addr, uint64_t *v);
void pcore_free(struct process_core *pc);

/* The GNU build ID of a file libelf opened (at most @max bytes); 0 if it
 * has none. */
struct Elf;
size_t elf_build_id(struct Elf *elf, uint8_t *id, size_t max);

struct exe_symbol {
	const char *name;
	uint64_t addr;                  /* where the process had it */
	bool found;
};
/* Dynamic symbols of the executable mapped at @exe, from the file it names
 * on this machine if its build ID is the one in the core; false, with
 * @why, if that file cannot be used. */
bool exe_symbols(const struct process_core *pc, const struct source *core, const struct host_map *exe,
		 struct exe_symbol *syms, size_t nsyms, char *why, size_t whylen);

/* ---- the format object and its ops table ------------------------------- */

struct format;

/* A Xen PV guest's pages in machine memory: runs of consecutive pfns on
 * consecutive machine frames, sorted by pfn; and the machine frame of the
 * top of its p2m tree (pfn_to_mfn_frame_list_list), which crash follows. */
struct machine_run { uint64_t mfn, pfn, count; };
struct xen_pv_layout {
	const struct machine_run *runs;
	size_t nruns;
	uint64_t frame_list_list;
	uint64_t xen_major, xen_minor;
};

/*
 * What only a pass over the whole page table tells, for /header: costly
 * (16 to 24 bytes read per dumped page), so computed once, when asked.
 */
struct census_file {
	uint64_t size;                  /* the file's (logical) size */
	uint64_t data_end;              /* where its data should end */
	bool gaps;                      /* parts of it cannot be read (a
					 * flattened stream cut short) */
};
struct census {
	enum { ZERO_NOT_SHARED, ZERO_UNKNOWN, ZERO_COUNTED } zero;
	uint64_t zero_pages;            /* dumped pages sharing one stored zero page */
	/* Dumped pages that cannot be read: lost (an incomplete dump), or
	 * whose descriptor or data lies past the end of the file. */
	uint64_t unreadable_pages;
	struct census_file *files;      /* one per file of the dump */
};

struct format_ops {
	const char *name;
	/* Fill @buf with page @pfn.  DUMPFS_ERR_NODATA: not in the dump (the
	 * caller zero-fills).  Other errors are logged through diag_log(). */
	enum dumpfs_status (*read_page)(struct format *f, uint64_t pfn, void *buf);
	/* Optional: pages [@pfn, @pfn + @n) into @buf, one status per page in
	 * @st, with read_page's meanings; batches the file reads. */
	void (*read_pages)(struct format *f, uint64_t pfn, size_t n, uint8_t *buf,
			   enum dumpfs_status *st);
	/* Optional: where physical memory at @paddr is stored as is in a
	 * plain file, for up to @len bytes; false if it is not. */
	bool (*extent)(struct format *f, uint64_t paddr, size_t len, struct dumpfs_extent *e);
	/* First pfn >= @pfn that is (@dumped) or is not (!@dumped) in the
	 * dump; f->max_pfn if none. */
	uint64_t (*find_pfn)(struct format *f, uint64_t pfn, bool dumped);
	/* Fill @c (files[] zeroed, sized): reads the page table. */
	void (*census)(struct format *f, struct census *c);
	/* Format-specific lines of /header ("key: value"). */
	void (*describe)(struct format *f, struct strbuf *sb);
	/* Optional: CPU @cpu's state as the format keeps it, for
	 * /cpus/N/@name; false past the last CPU. */
	bool (*cpu_blob)(struct format *f, size_t cpu, const char **name, const uint8_t **data, size_t *len);
	/* Optional, for Xen PV guests, whose page tables hold machine frames:
	 * the pfn whose page machine frame @frame is; false if none is. */
	bool (*frame_to_pfn)(struct format *f, uint64_t frame, uint64_t *pfn);
	/* Optional, the same guests: where their pages lie in machine memory,
	 * for a /vmcore.elf crash reads as it reads dom0 in a Xen host's. */
	bool (*xen_pv)(struct format *f, struct xen_pv_layout *l);
	/* Optional: that state decoded, for /cpus/N/regs. */
	void (*cpu_text)(struct format *f, size_t cpu, struct strbuf *sb);
	void (*close)(struct format *f);
};

struct page_run { uint64_t start, count; };   /* in pfns */

/* segments.c: memory stored as runs of file bytes (ELF PT_LOADs, LiME
 * and raw ranges), sorted by paddr and disjoint. */
struct segment {
	uint64_t paddr, memsz, filesz, offset;
	uint64_t vaddr;
	size_t file;            /* which of f->files holds the bytes */
};
struct segments {
	struct segment *list;
	size_t count;
};
/* f->ram, max_pfn, ram_pages and dumped_pages from @s. */
enum dumpfs_status segments_memory_map(struct format *f, const struct segments *s);
/* format_ops' read_page, extent, find_pfn and census over @s. */
enum dumpfs_status segments_read_page(struct format *f, const struct segments *s, uint64_t pfn, void *buf);
/* format_ops' read_pages: runs of whole pages in one segment in one read. */
void segments_read_pages(struct format *f, const struct segments *s, uint64_t pfn, size_t n, uint8_t *buf,
			 enum dumpfs_status *st);
bool segments_extent(struct format *f, const struct segments *s, uint64_t paddr, size_t len,
		     struct dumpfs_extent *e);
uint64_t segments_find_pfn(struct format *f, const struct segments *s, uint64_t pfn, bool dumped);
void segments_census(struct format *f, const struct segments *s, struct census *c);
/* The same as format_ops entries, for a reader whose f->priv begins with
 * its struct segments (LiME, raw images). */
enum dumpfs_status segments_op_read_page(struct format *f, uint64_t pfn, void *buf);
void segments_op_read_pages(struct format *f, uint64_t pfn, size_t n, uint8_t *buf, enum dumpfs_status *st);
bool segments_op_extent(struct format *f, uint64_t paddr, size_t len, struct dumpfs_extent *e);
uint64_t segments_op_find_pfn(struct format *f, uint64_t pfn, bool dumped);
void segments_op_census(struct format *f, struct census *c);
/* Frees the segments and f->priv, which they begin. */
void segments_op_close(struct format *f);
/* "@key: N" and the first segments, one a line, for /header. */
void segments_describe(const struct format *f, const struct segments *x, const char *key,
		       struct strbuf *sb);

/* An open dump format: the reader's private state behind @ops, and what it
 * found, which the layers above read and never write. */
struct format {
	const struct format_ops *ops;
	void *priv;
	struct source *files;           /* the dump's files, not owned */
	size_t nfiles;
	struct diag *diag;
	struct page_cache *cache;       /* decompressed pages */

	const char *name;               /* "kdump", "diskdump", "ELF64", ... */
	const char *producer;           /* who wrote the file; NULL if unknown */
	struct endian endian;
	bool is_32bit;
	uint16_t elf_machine;           /* EM_* of the dumped machine; 0 if
					 * the header does not name one */
	const char *machine_origin;     /* which header field said it */
	uint32_t page_size;
	unsigned page_shift;
	uint64_t max_pfn;               /* physical memory ends at page max_pfn */
	struct page_run *ram;           /* RAM runs, sorted, disjoint */
	size_t nram, ram_cap;
	uint64_t ram_pages, dumped_pages;
	bool incomplete;
	/* phys_base as the file states it (kdump sub-header, VMCOREINFO) */
	bool has_phys_base;
	uint64_t phys_base;
	const char *phys_base_origin;
	/* The file is an ELF core that the ELF view may serve as it is. */
	bool elf_passthrough;
	bool elf_has_vaddr;             /* an ELF input has a p_vaddr other than 0 */
	/* The file carries no notes of the dumped kernel (QEMU process
	 * cores): its VMCOREINFO is to be looked for in memory. */
	bool memory_only;
	/* Its NT_PRSTATUS notes do not say which task ran (QEMU writes
	 * CPU + 1, Xen's saved vCPU contexts none): /vmcore.elf takes the
	 * pids from the run queues. */
	bool cpu_pids_unknown;
	/* The process whose core holds the memory (a QEMU process core);
	 * NULL for dumps of a machine. */
	const struct process_core *host;
	struct note_set notes;

	pthread_mutex_t census_lock;
	struct census *census;          /* NULL until format_census() */
};

/* What the caller says raw images hold (dumpfs_options' raw_bases and
 * raw_ranges: see include/dumpfs.h); NULL members: not given. */
struct raw_layout {
	const uint64_t *bases;
	const char *ranges;
};

/* probe.c: detect the format of @files (or take them as the raw images
 * @raw describes, if not NULL) and open it, with a page cache of
 * @cache_bytes; on failure @diag holds the error.  format_close() is safe
 * after a failed open. */
enum dumpfs_status format_open(struct format *f, struct source *files, size_t nfiles,
			       const struct raw_layout *raw, struct diag *diag, size_t cache_bytes);
void format_close(struct format *f);
/* The dom0 inside a Xen host's kdump @host, as a format of its own
 * (xen_dom0.c); DUMPFS_ERR_NODATA if @host is not one. */
enum dumpfs_status format_open_xen_dom0(struct format *g, struct format *host, struct diag *diag,
				       size_t cache_bytes);

/* common.c */
/* The census, computed on the first call; NULL if out of memory. */
const struct census *format_census(struct format *f);
/* Whether a file of @f is read over a network: then the census, which
 * reads every page descriptor, is not taken (format_census() is NULL). */
bool format_remote(const struct format *f);
/* Read from file @i with a contextual error on failure (open time). */
enum dumpfs_status format_read_meta(struct format *f, size_t i, void *buf,
				    size_t len, uint64_t off, const char *what);
/* What a failed read-time source_read() (@st) of @src means, for a
 * message: past the end, or why it could not be read (in @buf). */
const char *format_read_fault(const struct source *src, enum dumpfs_status st, char *buf, size_t len);
enum dumpfs_status format_set_page_size(struct format *f, uint64_t size,
					uint64_t at, const char *what);
/* Append a RAM run, merging with the previous one when adjacent. */
enum dumpfs_status format_add_ram(struct format *f, uint64_t start, uint64_t count);
/* The number of CPUs: @from_notes, or more if the format keeps state of
 * more (format_ops' cpu_blob). */
size_t format_cpu_blobs(struct format *f, size_t from_notes);
/* Fill f->has_phys_base from VMCOREINFO if it says. */
void format_phys_base_from_vmcoreinfo(struct format *f);

/* The readers: each recognises its own signature (*matched) and opens. */
enum dumpfs_status kdump_probe(struct format *f, bool *matched);
enum dumpfs_status elf_probe(struct format *f, bool *matched);
enum dumpfs_status lime_probe(struct format *f, bool *matched);
/* raw.c: no signature to match; opened only as told. */
enum dumpfs_status raw_open(struct format *f, const struct raw_layout *raw);
/* A number as raw layouts write addresses (hex after 0x, else decimal,
 * below 2^64) at *@text, which then points past it; false if none. */
bool raw_parse_number(const char **text, uint64_t *out);
/* elf.c hands a process core (@maps: its PT_LOADs, owned; @sections: the
 * file has section headers, as gdb writes them) to qemu.c. */
enum dumpfs_status qemu_core_open(struct format *f, struct host_map *maps, size_t nmaps, bool sections);

#endif /* DUMPFS_FORMAT_H */
