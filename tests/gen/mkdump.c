/*
 * mkdump - independent writer of Linux crash dumps for the dumpfs tests.
 *
 * Writes kdump-compressed ("KDUMP   "), legacy-signature ("DISKDUMP") and
 * ELF vmcores, optionally in makedumpfile's flattened format or as a
 * makedumpfile --split set, and memory images as LiME writes them (a
 * header per RAM range, or the ranges' bytes alone: --format lime, raw),
 * and (mkdump_xen.c) a Xen domain's xc_core file and a Xen host's kdump
 * (--format xc, xen-kdump), together with "expected output" files that
 * describe exactly what a correct reader must present:
 *
 *   OUT.mem        bytes of /mem (sparse file)
 *   OUT.eio        pfns that must fail with EIO (lost or corrupt pages)
 *   OUT.holes      maximal runs of pfns that are not in the dump
 *   OUT.cpuN.prstatus, OUT.cpuN.qemu   raw note descriptors
 *   OUT.vmcoreinfo, OUT.eraseinfo      raw texts (only if in the dump)
 *   OUT.info       key=value summary
 * (and for Xen's formats the files mkdump_xen.c lists).
 *
 * The formats are written from their specifications (makedumpfile's
 * diskdump_mod.h/IMPLEMENTATION, the ELF gABI, QEMU's dump code, Xen's
 * headers and libxenguest's xg_core.c); nothing here is shared with the
 * dumpfs reader, so the two can check each other.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf, strtok_r, pwrite */
#endif
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "mkdump.h"

/* ------------------------------------------------------------------ */
/* Constants from the format specifications                            */

/* Page descriptor / header status flags (makedumpfile diskdump_mod.h). */
#define DUMP_DH_COMPRESSED_ZLIB       0x01
#define DUMP_DH_COMPRESSED_LZO        0x02
#define DUMP_DH_COMPRESSED_SNAPPY     0x04
#define DUMP_DH_COMPRESSED_INCOMPLETE 0x08
#define DUMP_DH_COMPRESSED_ZSTD       0x20

#define DUMP_ELF_INCOMPLETE 0x1 /* e_flags of an incomplete ELF vmcore */

#define UTS_FIELD_LEN 65 /* struct new_utsname has 6 fields of 65 bytes */
#define PAGE_DESC_SIZE 24 /* {int64 offset; u32 size; u32 flags; u64 page_flags} */

#define FLAT_HEADER_SIZE 4096
#define FLAT_SIGNATURE "makedumpfile"

#define ELF_NOTE_QEMU_SIZE 0x1b8 /* QEMUCPUState incl. kernel_gs_base */

#define PT_LOAD 1
#define PT_NOTE 4
#define ET_CORE 4
#define PN_XNUM 0xffff

const char *const format_names[FMT_COUNT] = { "kdump", "diskdump", "elf", "lime", "raw",
					      "xc", "xen-kdump" };
static const char *const codec_names[] = { "none", "zlib", "lzo", "snappy",
					   "zstd", "mixed" };
static const char *const arch_names[] = { "x86_64", "i386", "ppc64", "s390x",
					  "aarch64" };
static const uint16_t arch_elf_machine[] = { 62, 3, 21, 22, 183 };

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("mkdump: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p)
		die("out of memory (%zu x %zu bytes)", n, sz);
	return p;
}

void *xrealloc(void *p, size_t sz)
{
	p = realloc(p, sz ? sz : 1);
	if (!p)
		die("out of memory (%zu bytes)", sz);
	return p;
}

/* ------------------------------------------------------------------ */
/* Deterministic randomness: everything derives from --seed            */

uint64_t mix64(uint64_t x)
{
	/* splitmix64 finaliser */
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint64_t rng_next(struct rng *r)
{
	r->s += 0x9e3779b97f4a7c15ULL;
	return mix64(r->s);
}

/* uniform in [0, n) (n > 0); bias is irrelevant here */
uint64_t rng_below(struct rng *r, uint64_t n)
{
	return rng_next(r) % n;
}

/* ------------------------------------------------------------------ */
/* Byte-order aware stores: every on-disk integer goes through these   */

bool g_be;

void put16(uint8_t *p, uint16_t v)
{
	if (g_be) { p[0] = v >> 8; p[1] = v; }
	else { p[0] = v; p[1] = v >> 8; }
}

void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[g_be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
}

void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[g_be ? 7 - i : i] = (uint8_t)(v >> (8 * i));
}

/* The flattened format is big-endian regardless of the dump. */
static void put64_be(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[7 - i] = (uint8_t)(v >> (8 * i));
}

/* "unsigned long"-sized field: 4 bytes in the 32-bit layout */
static void put_ulong(const struct dump *d, uint8_t *p, uint64_t v)
{
	if (d->o.layout == 32)
		put32(p, (uint32_t)v);
	else
		put64(p, v);
}

/* ------------------------------------------------------------------ */
/* Growable byte buffer                                                */

void buf_reserve(struct buf *b, size_t extra)
{
	if (b->len + extra <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + extra)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

void buf_add(struct buf *b, const void *data, size_t len)
{
	buf_reserve(b, len);
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
}

void buf_add_zero(struct buf *b, size_t len)
{
	buf_reserve(b, len);
	memset(b->p + b->len, 0, len);
	b->len += len;
}

/* ------------------------------------------------------------------ */
/* File image: a list of byte extents, written plain or flattened      */

void image_add(struct image *img, uint64_t off, const uint8_t *data,
		      uint64_t len)
{
	if (!len)
		return;
	if (img->n == img->cap) {
		img->cap = img->cap ? img->cap * 2 : 16;
		img->c = xrealloc(img->c, img->cap * sizeof *img->c);
	}
	img->c[img->n++] = (struct chunk){ off, len, data };
	if (off + len > img->size)
		img->size = off + len;
}

/* Hand a buffer to the image so it lives until the image is written. */
const uint8_t *image_own(struct image *img, uint8_t *p)
{
	img->owned = xrealloc(img->owned, (img->nowned + 1) * sizeof *img->owned);
	img->owned[img->nowned++] = p;
	return p;
}

void image_free(struct image *img)
{
	for (size_t i = 0; i < img->nowned; i++)
		free(img->owned[i]);
	free(img->owned);
	free(img->c);
	memset(img, 0, sizeof *img);
}

/* Drop everything at or beyond 'size' (incomplete ELF dumps). */
void image_truncate(struct image *img, uint64_t size)
{
	size_t j = 0;
	for (size_t i = 0; i < img->n; i++) {
		struct chunk c = img->c[i];
		if (c.off >= size)
			continue;
		if (c.off + c.len > size)
			c.len = size - c.off;
		img->c[j++] = c;
	}
	img->n = j;
	img->size = size;
}

bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static void pwrite_all(int fd, const uint8_t *p, size_t len, uint64_t off,
		       const char *name)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write %s: %s", name, strerror(errno));
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
}

/* Write only the non-zero 4 KiB pieces; the rest stays a file hole.
 * Keeps huge (--pn-xnum) outputs cheap on disk. */
static void write_sparse(int fd, uint64_t off, const uint8_t *p, uint64_t len,
			 const char *name)
{
	const uint64_t blk = 4096;
	uint64_t i = 0;
	while (i < len) {
		uint64_t n = len - i < blk ? len - i : blk;
		if (all_zero(p + i, n)) {
			i += n;
			continue;
		}
		uint64_t start = i;
		while (i < len) {
			n = len - i < blk ? len - i : blk;
			if (all_zero(p + i, n))
				break;
			i += n;
		}
		pwrite_all(fd, p + start, i - start, off + start, name);
	}
}

static int create_file(const char *name)
{
	int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("cannot create %s: %s", name, strerror(errno));
	return fd;
}

static void close_file(int fd, uint64_t size, const char *name)
{
	if (ftruncate(fd, (off_t)size) != 0)
		die("truncate %s: %s", name, strerror(errno));
	if (close(fd) != 0)
		die("close %s: %s", name, strerror(errno));
}

static void write_image_plain(const struct image *img, const char *name)
{
	int fd = create_file(name);
	for (size_t i = 0; i < img->n; i++)
		write_sparse(fd, img->c[i].off, img->c[i].data, img->c[i].len, name);
	close_file(fd, img->size, name);
}

/* One flattened record: where it goes in the rearranged file and what
 * it contains. 'key' orders records in the output stream. */
struct flat_rec { uint64_t off, len; const uint8_t *data; uint64_t key; };

static int cmp_flat_rec(const void *a, const void *b)
{
	const struct flat_rec *x = a, *y = b;
	return x->key < y->key ? -1 : x->key > y->key;
}

/*
 * Flattened format (makedumpfile -F): a 4096-byte header, then records
 * {BE int64 offset, BE int64 size, data}, then {-1, -1}. Readers must
 * not assume order or uniqueness: records are cut into pieces of varying
 * size, emitted in shuffled order, and some regions are first written
 * with garbage which a later record overwrites (later records win).
 * All-zero pieces are left out (rearranged files read zeros in gaps),
 * except the one ending the file, which fixes the rearranged size.
 */
static void write_image_flat(const struct image *img, const char *name,
			     uint64_t seed)
{
	struct rng r = { mix64(seed ^ 0xf1a7f1a7ULL) };
	struct flat_rec *rec = NULL;
	size_t n = 0, cap = 0;
	uint8_t **garbage = NULL;
	size_t ngarbage = 0;

	for (size_t i = 0; i < img->n; i++) {
		const struct chunk *c = &img->c[i];
		uint64_t pos = 0;
		while (pos < c->len) {
			uint64_t left = c->len - pos, len;
			switch (rng_below(&r, 4)) {
			case 0: len = 1 + rng_below(&r, 100); break;
			case 1: len = 1 + rng_below(&r, 3 * 4096); break;
			case 2: len = 65536; break;
			default: len = 4096 + rng_below(&r, 4096); break;
			}
			if (len > left)
				len = left;
			const uint8_t *data = c->data + pos;
			uint64_t off = c->off + pos;
			pos += len;
			if (off + len != img->size && all_zero(data, len))
				continue;
			if (n + 2 > cap) {
				cap = cap ? cap * 2 : 256;
				rec = xrealloc(rec, cap * sizeof *rec);
			}
			uint64_t key = 1 + rng_below(&r, UINT64_MAX / 2);
			rec[n++] = (struct flat_rec){ off, len, data, key };
			if (rng_below(&r, 8) == 0) {
				/* garbage over a sub-range, emitted earlier */
				uint64_t gofs = rng_below(&r, len);
				uint64_t glen = 1 + rng_below(&r, len - gofs);
				uint8_t *g = xcalloc(glen, 1);
				for (uint64_t k = 0; k < glen; k++)
					g[k] = (uint8_t)(rng_next(&r) | 1);
				garbage = xrealloc(garbage, (ngarbage + 1) * sizeof *garbage);
				garbage[ngarbage++] = g;
				rec[n++] = (struct flat_rec){ off + gofs, glen, g,
							      rng_below(&r, key) };
			}
		}
	}
	qsort(rec, n, sizeof *rec, cmp_flat_rec);

	FILE *f = fopen(name, "wb");
	if (!f)
		die("cannot create %s: %s", name, strerror(errno));
	uint8_t hdr[FLAT_HEADER_SIZE] = { 0 };
	memcpy(hdr, FLAT_SIGNATURE, strlen(FLAT_SIGNATURE));
	put64_be(hdr + 16, 1); /* type */
	put64_be(hdr + 24, 1); /* version */
	fwrite(hdr, 1, sizeof hdr, f);
	for (size_t i = 0; i < n; i++) {
		uint8_t rh[16];
		put64_be(rh, rec[i].off);
		put64_be(rh + 8, rec[i].len);
		fwrite(rh, 1, sizeof rh, f);
		fwrite(rec[i].data, 1, rec[i].len, f);
	}
	uint8_t end[16];
	memset(end, 0xff, sizeof end); /* {-1, -1} */
	fwrite(end, 1, sizeof end, f);
	if (ferror(f) || fclose(f) != 0)
		die("write %s failed", name);
	for (size_t i = 0; i < ngarbage; i++)
		free(garbage[i]);
	free(garbage);
	free(rec);
}

void write_image(const struct dump *d, const struct image *img,
			const char *name, uint64_t salt)
{
	if (d->o.flat)
		write_image_flat(img, name, d->o.seed ^ salt);
	else
		write_image_plain(img, name);
}

/* ------------------------------------------------------------------ */
/* Memory layout and contents                                          */

static bool parse_u64(const char *s, int base, uint64_t *v)
{
	char *end;
	errno = 0;
	if (!*s || *s == '-')
		return false;
	*v = strtoull(s, &end, base);
	return !errno && !*end;
}

/* "0-159,256-4095,8192" -> sorted, disjoint inclusive pfn ranges */
static bool parse_ranges(const char *s, struct range **out, size_t *nout)
{
	char *copy = strdup(s), *save = NULL;
	struct range *r = NULL;
	size_t n = 0;
	bool ok = true;
	if (!copy)
		die("out of memory");
	for (char *tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		uint64_t a, b;
		char *dash = strchr(tok, '-');
		if (dash) {
			*dash = '\0';
			ok = parse_u64(tok, 0, &a) && parse_u64(dash + 1, 0, &b);
		} else {
			ok = parse_u64(tok, 0, &a);
			b = a;
		}
		if (!ok || b < a || (n && a <= r[n - 1].end)) {
			ok = false;
			break;
		}
		r = xrealloc(r, (n + 1) * sizeof *r);
		r[n++] = (struct range){ a, b };
	}
	free(copy);
	if (!ok || !n) {
		free(r);
		return false;
	}
	*out = r;
	*nout = n;
	return true;
}

/* Decide for each RAM pfn whether it is dumped, excluded or zero. */
static void plan_pages(struct dump *d)
{
	const struct opts *o = &d->o;
	struct rng r = { mix64(o->seed ^ 0xe8c1dedULL) };
	uint64_t run = 0; /* pages left in the current excluded run */

	d->max_mapnr = o->ram[o->nram - 1].end + 1;
	d->state = xcalloc(d->max_mapnr, 1);
	for (size_t i = 0; i < o->nram; i++) {
		for (uint64_t pfn = o->ram[i].start; pfn <= o->ram[i].end; pfn++) {
			d->ram_pages++;
			/* Excluded pages come in runs like free/cache pages do;
			 * start probability and length give ~20% overall. */
			if (o->excluded && !run && rng_below(&r, 1000) < 15)
				run = 1 + rng_below(&r, 32);
			if (run) {
				run--;
				d->state[pfn] = PG_EXCLUDED;
				d->excluded_pages++;
				continue;
			}
			d->state[pfn] = PG_DUMPED;
			d->dumped_pages++;
			if (o->zero_pages && mix64(o->seed * 31 + pfn) % 8 == 0) {
				d->state[pfn] |= PG_ZERO;
				d->zero_pages++;
			}
		}
	}
	if (!d->dumped_pages)
		die("no page left to dump");
}

/*
 * Fill one page with a realistic mix: text-like repeating byte patterns
 * and struct arrays (compressible), random bytes (incompressible, so
 * they end up stored raw), and nearly-empty pages. Every non-zero page
 * carries its pfn in the first 8 bytes so a reader returning the wrong
 * page is easy to spot.
 */
void fill_page(const struct dump *d, uint64_t pfn, uint8_t *p)
{
	const uint32_t ps = d->o.page_size;
	struct rng r = { mix64(d->o.seed ^ (pfn * 0x100000001b3ULL)) };
	uint64_t kind = d->o.pn_xnum ? (pfn % 64 ? 99 : 0) : rng_below(&r, 16);

	if (kind <= 5) {
		/* kernel text: a short instruction motif, repeated with rare
		 * variation */
		uint8_t motif[48];
		size_t mlen = 16 + rng_below(&r, 33);
		for (size_t i = 0; i < mlen; i++)
			motif[i] = (uint8_t)rng_next(&r);
		for (uint32_t i = 0; i < ps; i++)
			p[i] = rng_below(&r, 64) ? motif[i % mlen] : (uint8_t)rng_next(&r);
	} else if (kind <= 8) {
		for (uint32_t i = 0; i < ps; i += 8) {
			uint64_t v = rng_next(&r);
			memcpy(p + i, &v, 8);
		}
	} else if (kind <= 12) {
		/* slab of 64-byte objects: pointers, small counters, padding */
		uint64_t base = 0xffff888000000000ULL + pfn * ps;
		memset(p, 0, ps);
		for (uint32_t i = 0; i + 64 <= ps; i += 64) {
			put64(p + i, base + i);
			put64(p + i + 8, base + i + 64);
			put32(p + i + 16, (uint32_t)rng_below(&r, 100));
			put32(p + i + 20, 0x5a5a0000 | (i / 64));
		}
	} else if (kind <= 15) {
		memset(p, 0, ps);
		for (int k = 0; k < 4; k++)
			put64(p + 8 * rng_below(&r, ps / 8), rng_next(&r));
	} else {
		/* --pn-xnum: mostly empty pages keep the 256 MiB image sparse;
		 * no pfn stamp, or no page would be empty */
		memset(p, 0, ps);
		return;
	}
	put64(p, pfn);
}

static void generate_memory(struct dump *d)
{
	const uint32_t ps = d->o.page_size;
	d->mem = xcalloc(d->max_mapnr, ps);
	for (uint64_t pfn = 0; pfn < d->max_mapnr; pfn++)
		if ((d->state[pfn] & PG_WHERE) == PG_DUMPED &&
		    !(d->state[pfn] & PG_ZERO))
			fill_page(d, pfn, d->mem + pfn * ps);
}

/* ------------------------------------------------------------------ */
/* Notes: NT_PRSTATUS, QEMU CPU state, VMCOREINFO, ERASEINFO           */

/* sizeof(struct elf_prstatus) and where pr_reg starts, per arch */
static size_t prstatus_size(enum arch a, size_t *reg_off, size_t *nregs)
{
	*reg_off = *nregs = 0;
	switch (a) {
	case ARCH_I386: *reg_off = 72; *nregs = 17; return 144;
	case ARCH_X86_64: *reg_off = 112; *nregs = 27; return 336;
	case ARCH_AARCH64: *reg_off = 112; *nregs = 34; return 392;
	case ARCH_PPC64: *reg_off = 112; *nregs = 48; return 504;
	case ARCH_S390X: *reg_off = 112; *nregs = 27; return 336;
	}
	return 0;
}

static uint8_t *make_prstatus(const struct dump *d, int cpu)
{
	size_t reg_off, nregs, size = prstatus_size(d->o.arch, &reg_off, &nregs);
	size_t regsz = d->o.arch == ARCH_I386 ? 4 : 8;
	uint8_t *p = xcalloc(size, 1);
	uint64_t *reg = xcalloc(nregs, sizeof *reg);

	/* recognisable filler: "REG" tag, cpu, register index */
	for (size_t i = 0; i < nregs; i++)
		reg[i] = (regsz == 8 ? 0x5245470000000000ULL : 0x52000000ULL) |
			 ((uint64_t)cpu << (regsz == 8 ? 16 : 8)) | i;
	switch (d->o.arch) {
	case ARCH_X86_64: /* r15..rdi, orig_rax, rip(16), cs, eflags, rsp, ss */
		reg[16] = 0xffffffff81000000ULL + (uint64_t)cpu;
		reg[17] = 0x10;
		reg[18] = 0x246;
		reg[19] = 0xffffc90000004000ULL + (uint64_t)cpu * 0x4000;
		reg[20] = 0x18;
		break;
	case ARCH_I386: /* ebx..orig_eax, eip(12), cs, eflags, esp, ss */
		reg[12] = 0xc1000000U + (uint64_t)cpu;
		reg[13] = 0x60;
		reg[14] = 0x246;
		break;
	case ARCH_AARCH64: /* x0..x30, sp(31), pc(32), pstate */
		reg[32] = 0xffff800008000000ULL + (uint64_t)cpu;
		break;
	case ARCH_PPC64: /* gpr0..31, nip(32), msr(33): MSR_SF, and MSR_LE
			  * for a little-endian kernel (readers take the
			  * memory's byte order from it) */
		reg[32] = 0xc000000000000000ULL + (uint64_t)cpu;
		reg[33] = 0x8000000000000000ULL | (d->o.big_endian ? 0 : 1);
		break;
	case ARCH_S390X: /* psw mask, psw addr(1), gprs, acrs, orig_gpr2 */
		reg[1] = 0x100000ULL + (uint64_t)cpu;
		break;
	}
	/* pr_pid follows siginfo(12), cursig(2)+pad, sigpend, sighold */
	put32(p + (d->o.layout == 32 ? 24 : 32), (uint32_t)cpu + 1);
	for (size_t i = 0; i < nregs; i++) {
		if (regsz == 8)
			put64(p + reg_off + 8 * i, reg[i]);
		else
			put32(p + reg_off + 4 * i, (uint32_t)reg[i]);
	}
	/* s390x's pr_reg (psw, gprs, 4-byte acrs, orig_gpr2) is 216 bytes;
	 * it is filled as 27 8-byte words, which is all a reader copies. */
	free(reg);
	return p;
}

/* QEMUCPUState (target/i386/arch_dump.c), version 1, size 0x1b8 */
static uint8_t *make_qemu_cpustate(int cpu)
{
	uint8_t *p = xcalloc(ELF_NOTE_QEMU_SIZE, 1);
	uint64_t c = (uint64_t)cpu;
	put32(p, 1);
	put32(p + 4, ELF_NOTE_QEMU_SIZE);
	for (int i = 0; i < 16; i++) /* rax..r15 */
		put64(p + 8 + 8 * i, 0x51454d5500000000ULL | (c << 16) | (uint64_t)i);
	put64(p + 136, 0xffffffff81000000ULL + c); /* rip: same as prstatus */
	put64(p + 144, 0x246);                      /* rflags */
	/* segments cs,ds,es,fs,gs,ss,ldt,tr,gdt,idt: selector, limit,
	 * flags, pad, base */
	static const uint32_t sel[10] = { 0x10, 0x18, 0x18, 0, 0, 0x18, 0, 0x40, 0, 0 };
	for (int i = 0; i < 10; i++) {
		uint8_t *s = p + 152 + 24 * i;
		put32(s, sel[i]);
		put32(s + 4, i >= 8 ? 0xfff : 0xffffffff);
		put32(s + 8, 0x00a09b00 + (uint32_t)i);
		put64(s + 16, i == 8 ? 0xfffffe0000001000ULL + c * 0x13000
			      : i == 9 ? 0xfffffe0000000000ULL : 0);
	}
	put64(p + 392, 0x80050033);                /* cr0 */
	put64(p + 400, 0);                         /* cr1 */
	put64(p + 408, 0x7f0000001000ULL + c);     /* cr2 */
	put64(p + 416, 0x1a00000ULL + c * 0x1000); /* cr3 */
	put64(p + 424, 0x3706f0);                  /* cr4 */
	put64(p + 432, 0xffff88807fc00000ULL + c * 0x100000); /* kernel_gs_base */
	return p;
}

char *make_vmcoreinfo(const struct dump *d)
{
	char *s = NULL;
	bool k64 = d->o.layout == 64;
	/* Formats follow the kernel: SYMBOL() and KERNELOFFSET in hex
	 * without 0x, NUMBER() in decimal (VMCOREINFO_NUMBER uses %ld). */
	if (asprintf(&s,
		     "OSRELEASE=6.1.0-test\n"
		     "BUILD-ID=6d6b64756d702d746573742d6275696c642d6964\n"
		     "PAGESIZE=%" PRIu32 "\n"
		     "SYMBOL(init_uts_ns)=%s\n"
		     "SYMBOL(_stext)=%s\n"
		     "OFFSET(uts_namespace.name)=0\n"
		     "NUMBER(phys_base)=%" PRId64 "\n"
		     "KERNELOFFSET=%s\n"
		     "CRASHTIME=%" PRIu64 "\n",
		     d->o.page_size,
		     k64 ? "ffffffff82a13ee0" : "c1a13ee0",
		     d->o.arch == ARCH_AARCH64 ? "ffff800008000000" : k64 ? "ffffffff81000000" : "c1000000",
		     (int64_t)d->o.phys_base,
		     k64 ? "0" : "0",
		     (uint64_t)1700000000 + d->o.seed % 1000000) < 0)
		die("out of memory");
	/* arm64's own entries (arch/arm64/kernel/crash_core.c): the image at
	 * physical 0, its page tables one page in, so that readers of this
	 * dump translate and walk (the fuzz seeds reach those paths). */
	if (d->o.arch == ARCH_AARCH64) {
		char *a = NULL;
		if (asprintf(&a, "%s"
			     "SYMBOL(swapper_pg_dir)=ffff800008001000\n"
			     "NUMBER(VA_BITS)=48\n"
			     "NUMBER(kimage_voffset)=0xffff800008000000\n"
			     "NUMBER(PHYS_OFFSET)=0x0\n"
			     "NUMBER(TCR_EL1_T1SZ)=0x10\n", s) < 0)
			die("out of memory");
		free(s);
		s = a;
	}
	return s;
}

/* One ELF note: 3 words, name and descriptor each padded to 4 bytes.
 * Returns the offset of the descriptor inside 'b'. */
size_t add_note(struct buf *b, const char *name, uint32_t type,
		       const void *desc, size_t descsz)
{
	uint8_t h[12];
	size_t namesz = strlen(name) + 1;
	put32(h, (uint32_t)namesz);
	put32(h + 4, (uint32_t)descsz);
	put32(h + 8, type);
	buf_add(b, h, sizeof h);
	buf_add(b, name, namesz);
	buf_add_zero(b, (4 - namesz % 4) % 4);
	size_t off = b->len;
	buf_add(b, desc, descsz);
	buf_add_zero(b, (4 - descsz % 4) % 4);
	return off;
}

/* Note blob in QEMU's order: all CORE/NT_PRSTATUS, then all QEMU notes,
 * then VMCOREINFO (then ERASEINFO for ELF, as makedumpfile appends it). */
static void build_notes(const struct dump *d, struct buf *b,
			bool with_eraseinfo, size_t *vmci_off)
{
	for (int c = 0; c < d->o.cpus; c++)
		add_note(b, "CORE", NT_PRSTATUS, d->prstatus[c], d->prstatus_size);
	if (d->o.qemu_notes)
		for (int c = 0; c < d->o.cpus; c++)
			add_note(b, "QEMU", 0, d->qemu[c], ELF_NOTE_QEMU_SIZE);
	*vmci_off = 0;
	if (d->vmcoreinfo)
		*vmci_off = add_note(b, "VMCOREINFO", 0, d->vmcoreinfo,
				     strlen(d->vmcoreinfo));
	if (with_eraseinfo && d->eraseinfo)
		add_note(b, "ERASEINFO", 0, d->eraseinfo, strlen(d->eraseinfo));
}

/* ------------------------------------------------------------------ */
/* Page compression                                                    */

static uint32_t codec_flag(enum codec c)
{
	switch (c) {
	case CODEC_ZLIB: return DUMP_DH_COMPRESSED_ZLIB;
	case CODEC_LZO: return DUMP_DH_COMPRESSED_LZO;
	case CODEC_SNAPPY: return DUMP_DH_COMPRESSED_SNAPPY;
	case CODEC_ZSTD: return DUMP_DH_COMPRESSED_ZSTD;
	case CODEC_MIXED:
		return DUMP_DH_COMPRESSED_ZLIB | DUMP_DH_COMPRESSED_LZO |
		       DUMP_DH_COMPRESSED_SNAPPY | DUMP_DH_COMPRESSED_ZSTD;
	case CODEC_NONE: break;
	}
	return 0;
}

struct compressor {
	uint8_t *out;
	size_t outcap;
	void *lzo_wrk;
	ZSTD_CCtx *zctx;
};

static void compressor_init(struct compressor *z, uint32_t page_size)
{
	if (lzo_init() != LZO_E_OK)
		die("lzo_init failed");
	z->outcap = compressBound(page_size);
	if (snappy_max_compressed_length(page_size) > z->outcap)
		z->outcap = snappy_max_compressed_length(page_size);
	if (ZSTD_compressBound(page_size) > z->outcap)
		z->outcap = ZSTD_compressBound(page_size);
	if (page_size + page_size / 16 + 64 + 3 > z->outcap)
		z->outcap = page_size + page_size / 16 + 64 + 3;
	z->out = xcalloc(z->outcap, 1);
	z->lzo_wrk = xcalloc(LZO1X_1_MEM_COMPRESS, 1);
	z->zctx = ZSTD_createCCtx();
	if (!z->zctx)
		die("ZSTD_createCCtx failed");
}

static void compressor_fini(struct compressor *z)
{
	free(z->out);
	free(z->lzo_wrk);
	ZSTD_freeCCtx(z->zctx);
}

/* Compress like makedumpfile (fast levels); returns the compressed size
 * in z->out, or 0 when the codec failed. */
static size_t compress_page(struct compressor *z, enum codec c,
			    const uint8_t *page, uint32_t ps)
{
	switch (c) {
	case CODEC_ZLIB: {
		uLongf len = z->outcap;
		return compress2(z->out, &len, page, ps, Z_BEST_SPEED) == Z_OK ? len : 0;
	}
	case CODEC_LZO: {
		lzo_uint len = z->outcap;
		return lzo1x_1_compress(page, ps, z->out, &len, z->lzo_wrk) == LZO_E_OK
			       ? len : 0;
	}
	case CODEC_SNAPPY: {
		size_t len = z->outcap;
		return snappy_compress((const char *)page, ps, (char *)z->out, &len) ==
				       SNAPPY_OK ? len : 0;
	}
	case CODEC_ZSTD: {
		size_t len = ZSTD_compressCCtx(z->zctx, z->out, z->outcap, page, ps, 1);
		return ZSTD_isError(len) ? 0 : len;
	}
	default:
		return 0;
	}
}

/* What a reader does: decompress into one page and insist on exactly a
 * page of output. True if the bytes decode to 'expect'. */
static bool decodes_to(uint32_t flag, const uint8_t *in, size_t inlen,
		       const uint8_t *expect, uint32_t ps)
{
	uint8_t *out = xcalloc(ps, 1);
	bool ok = false;
	if (flag == DUMP_DH_COMPRESSED_ZLIB) {
		uLongf len = ps;
		ok = uncompress(out, &len, in, inlen) == Z_OK && len == ps;
	} else if (flag == DUMP_DH_COMPRESSED_LZO) {
		lzo_uint len = ps;
		ok = lzo1x_decompress_safe(in, inlen, out, &len, NULL) == LZO_E_OK &&
		     len == ps;
	} else if (flag == DUMP_DH_COMPRESSED_SNAPPY) {
		size_t len = ps;
		ok = snappy_uncompress((const char *)in, inlen, (char *)out, &len) ==
			     SNAPPY_OK && len == ps;
	} else if (flag == DUMP_DH_COMPRESSED_ZSTD) {
		size_t len = ZSTD_decompress(out, ps, in, inlen);
		ok = !ZSTD_isError(len) && len == ps;
	}
	ok = ok && memcmp(out, expect, ps) == 0;
	free(out);
	return ok;
}

/*
 * Damage compressed bytes so that every reader must fail on them: hit
 * the spot each codec checks (zlib's adler32 trailer, zstd's frame
 * magic, lzo's end marker, snappy's length preamble), then keep flipping
 * random bytes until decompression really fails or yields something
 * other than a full page. A page that still decodes correctly would not
 * be an EIO page, so that is checked, not assumed.
 */
static bool corrupt_compressed(uint32_t flag, uint8_t *p, size_t len,
			       uint32_t ps, struct rng *r)
{
	if (len < 4)
		return false;
	switch (flag) {
	case DUMP_DH_COMPRESSED_ZLIB: p[len - 1] ^= 0x5a; p[len - 3] ^= 0xa5; break;
	case DUMP_DH_COMPRESSED_ZSTD: p[0] ^= 0xff; p[2] ^= 0x11; break;
	case DUMP_DH_COMPRESSED_LZO: p[len - 3] ^= 0xee; p[len - 1] ^= 0x77; break;
	case DUMP_DH_COMPRESSED_SNAPPY: p[0] ^= 0x3c; p[1] ^= 0x01; break;
	}
	for (int tries = 0; tries < 64; tries++) {
		uint8_t *out = xcalloc(ps, 1);
		bool decodes = false;
		/* any successful full-page decode counts as "not broken" */
		if (flag == DUMP_DH_COMPRESSED_ZLIB) {
			uLongf l = ps;
			decodes = uncompress(out, &l, p, len) == Z_OK && l == ps;
		} else if (flag == DUMP_DH_COMPRESSED_LZO) {
			lzo_uint l = ps;
			decodes = lzo1x_decompress_safe(p, len, out, &l, NULL) ==
					  LZO_E_OK && l == ps;
		} else if (flag == DUMP_DH_COMPRESSED_SNAPPY) {
			size_t l = ps;
			decodes = snappy_uncompress((const char *)p, len, (char *)out,
						    &l) == SNAPPY_OK && l == ps;
		} else {
			size_t l = ZSTD_decompress(out, ps, p, len);
			decodes = !ZSTD_isError(l) && l == ps;
		}
		free(out);
		if (!decodes)
			return true;
		p[rng_below(r, len)] ^= (uint8_t)(1 + rng_below(r, 255));
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* kdump-compressed (and DISKDUMP-signature) files                     */

/* Pick the pages whose data will be lost or damaged, before any file is
 * written, so split files agree with the expected output. */
static void plan_damage(struct dump *d)
{
	const struct opts *o = &d->o;
	if (o->incomplete && o->format != FMT_ELF) {
		/* the last ~10% of descriptors (pfn order) never got written */
		uint64_t nlost = d->dumped_pages / 10 ? d->dumped_pages / 10 : 1;
		for (uint64_t pfn = d->max_mapnr; pfn-- > 0 && nlost;)
			if ((d->state[pfn] & PG_WHERE) == PG_DUMPED) {
				d->state[pfn] |= PG_LOST;
				nlost--;
			}
	}
	/* corrupt pages are chosen after compression (only pages that
	 * actually compressed qualify); see corrupt_pages() */
}

struct kdump_pages {
	/* per dumped pfn: descriptor contents before damage */
	uint32_t *flags, *size;
	uint64_t *dataoff;       /* offset inside 'data' */
	struct buf data;         /* compressed/raw page bytes, in pfn order */
	uint64_t zero_off;       /* offset of the shared zero page in 'data' */
	bool have_zero;
};

/*
 * Compress every dumped page once (shared by all split files: each file
 * later copies its own pfn range). Zero pages with --zero-pages all
 * refer to one shared raw zero page, as makedumpfile's pd_zero does.
 */
static void compress_all(struct dump *d, struct kdump_pages *kp)
{
	const struct opts *o = &d->o;
	const uint32_t ps = o->page_size;
	struct compressor z;
	uint64_t ndumped = 0;
	static const enum codec cycle[] = { CODEC_ZLIB, CODEC_LZO, CODEC_SNAPPY,
					    CODEC_ZSTD };

	compressor_init(&z, ps);
	kp->flags = xcalloc(d->max_mapnr, sizeof *kp->flags);
	kp->size = xcalloc(d->max_mapnr, sizeof *kp->size);
	kp->dataoff = xcalloc(d->max_mapnr, sizeof *kp->dataoff);
	for (uint64_t pfn = 0; pfn < d->max_mapnr; pfn++) {
		if ((d->state[pfn] & PG_WHERE) != PG_DUMPED)
			continue;
		if (d->state[pfn] & PG_ZERO)
			continue; /* handled per file via the shared zero page */
		const uint8_t *page = d->mem + pfn * ps;
		enum codec c = o->codec == CODEC_MIXED ? cycle[ndumped % 4] : o->codec;
		size_t clen = c == CODEC_NONE ? 0 : compress_page(&z, c, page, ps);
		ndumped++;
		kp->dataoff[pfn] = kp->data.len;
		if (clen && clen < ps) {
			kp->flags[pfn] = codec_flag(c);
			kp->size[pfn] = (uint32_t)clen;
			buf_add(&kp->data, z.out, clen);
		} else {
			/* not smaller: stored raw, as makedumpfile does */
			kp->flags[pfn] = 0;
			kp->size[pfn] = ps;
			buf_add(&kp->data, page, ps);
		}
	}
	compressor_fini(&z);
}

/* Damage --corrupt-pages compressed pages, spread over the pfn space. */
static void corrupt_pages(struct dump *d, struct kdump_pages *kp)
{
	const uint32_t ps = d->o.page_size;
	struct rng r = { mix64(d->o.seed ^ 0xc0aa0badULL) };
	uint64_t *cand = xcalloc(d->max_mapnr, sizeof *cand);
	uint64_t ncand = 0;
	int done = 0;

	for (uint64_t pfn = 0; pfn < d->max_mapnr; pfn++)
		if ((d->state[pfn] & PG_WHERE) == PG_DUMPED &&
		    !(d->state[pfn] & (PG_ZERO | PG_LOST)) && kp->flags[pfn])
			cand[ncand++] = pfn;
	while (done < d->o.corrupt_pages && ncand) {
		uint64_t i = rng_below(&r, ncand);
		uint64_t pfn = cand[i];
		cand[i] = cand[--ncand];
		uint8_t *p = kp->data.p + kp->dataoff[pfn];
		if (!corrupt_compressed(kp->flags[pfn], p, kp->size[pfn], ps, &r))
			continue;
		if (decodes_to(kp->flags[pfn], p, kp->size[pfn], d->mem + pfn * ps, ps))
			die("internal error: corrupted page %" PRIu64 " still decodes", pfn);
		d->state[pfn] |= PG_CORRUPT;
		done++;
	}
	free(cand);
	if (done < d->o.corrupt_pages)
		die("only %d compressed pages available for --corrupt-pages %d",
		    done, d->o.corrupt_pages);
}

static size_t sub_header_size(const struct dump *d)
{
	return d->o.layout == 32 ? 80 : 104;
}

/* disk_dump_header, identical in every file of a split set */
static void put_main_header(const struct dump *d, uint8_t *h,
			    uint32_t sub_hdr_blocks, uint32_t bitmap_blocks)
{
	const struct opts *o = &d->o;
	static const char *const uts[6] = { "Linux", "mkdump-test", "6.1.0-test",
					    "#1 SMP PREEMPT_DYNAMIC mkdump", NULL,
					    "(none)" };
	bool l32 = o->layout == 32;
	uint32_t status = codec_flag(o->codec);

	memcpy(h, o->format == FMT_DISKDUMP ? "DISKDUMP" : "KDUMP   ", 8);
	put32(h + 8, (uint32_t)o->header_version);
	for (int i = 0; i < 6; i++) {
		const char *s = i == 4 ? arch_names[o->arch] : uts[i];
		memcpy(h + 12 + UTS_FIELD_LEN * i, s, strlen(s));
	}
	/* utsname ends at 402; timeval is 4-byte aligned (i386: two 32-bit
	 * fields at 404) or 8-byte aligned (two 64-bit fields at 408). The
	 * usec stays 0 so a 32-bit probe of a 64-bit header cannot mistake
	 * it for a block size. */
	size_t o_tv = l32 ? 404 : 408, o_st = l32 ? 412 : 424;
	put_ulong(d, h + o_tv, 1700000000 + o->seed % 1000000);
	put_ulong(d, h + o_tv + (l32 ? 4 : 8), 0);
	if (o->incomplete)
		status |= DUMP_DH_COMPRESSED_INCOMPLETE;
	put32(h + o_st, status);
	put32(h + o_st + 4, o->page_size);         /* block_size */
	put32(h + o_st + 8, sub_hdr_blocks);       /* sub_hdr_size */
	put32(h + o_st + 12, bitmap_blocks);       /* both bitmaps */
	put32(h + o_st + 16, d->max_mapnr > UINT32_MAX ? UINT32_MAX
						       : (uint32_t)d->max_mapnr);
	put32(h + o_st + 20, (uint32_t)d->ram_pages); /* total_ram_blocks */
	put32(h + o_st + 24, 0);                   /* device_blocks */
	put32(h + o_st + 28, 0);                   /* written_blocks */
	put32(h + o_st + 32, 0);                   /* current_cpu */
	put32(h + o_st + 36, (uint32_t)o->cpus);   /* nr_cpus; tasks[] stay 0 */
}

struct sub_fields {
	uint64_t start_pfn, end_pfn;
	uint64_t off_vmci, size_vmci, off_note, size_note, off_erase, size_erase;
	bool split;
};

/* kdump_sub_header; fields newer than header_version are left zero */
static void put_sub_header(const struct dump *d, uint8_t *s,
			   const struct sub_fields *f)
{
	int v = d->o.header_version;
	int dump_level = (d->o.zero_pages ? 1 : 0) | (d->o.excluded ? 16 : 0);
	if (d->o.layout == 64) {
		put64(s + 0, d->o.phys_base);
		put32(s + 8, (uint32_t)dump_level);
		if (v >= 2) {
			put32(s + 12, f->split);
			put64(s + 16, f->start_pfn);
			put64(s + 24, f->end_pfn);
		}
		if (v >= 3) { put64(s + 32, f->off_vmci); put64(s + 40, f->size_vmci); }
		if (v >= 4) { put64(s + 48, f->off_note); put64(s + 56, f->size_note); }
		if (v >= 5) { put64(s + 64, f->off_erase); put64(s + 72, f->size_erase); }
		if (v >= 6) {
			put64(s + 80, f->start_pfn);
			put64(s + 88, f->end_pfn);
			put64(s + 96, d->max_mapnr);
		}
	} else {
		/* i386: unsigned long is 4 bytes, off_t 8, 64-bit members only
		 * 4-byte aligned (libkdumpfile's kdump_sub_header_32pack) */
		put32(s + 0, (uint32_t)d->o.phys_base);
		put32(s + 4, (uint32_t)dump_level);
		if (v >= 2) {
			put32(s + 8, f->split);
			put32(s + 12, (uint32_t)f->start_pfn);
			put32(s + 16, (uint32_t)f->end_pfn);
		}
		if (v >= 3) { put64(s + 20, f->off_vmci); put32(s + 28, (uint32_t)f->size_vmci); }
		if (v >= 4) { put64(s + 32, f->off_note); put32(s + 40, (uint32_t)f->size_note); }
		if (v >= 5) { put64(s + 44, f->off_erase); put32(s + 52, (uint32_t)f->size_erase); }
		if (v >= 6) {
			put64(s + 56, f->start_pfn);
			put64(s + 64, f->end_pfn);
			put64(s + 72, d->max_mapnr);
		}
	}
}

/*
 * One kdump file covering pfns [start, end): block 0 header, sub-header
 * plus notes (sub_hdr_size blocks, notes right after the sub-header
 * struct as makedumpfile and QEMU place them), 1st bitmap (RAM), 2nd
 * bitmap (dumped), page_desc for every 2nd-bitmap bit in [start, end),
 * page data immediately after the descriptors (not block aligned), then
 * eraseinfo. Both bitmaps are always complete, also in split files.
 */
static void build_kdump_file(struct dump *d, const struct kdump_pages *kp,
			     uint64_t start, uint64_t end, bool split,
			     struct image *img)
{
	const struct opts *o = &d->o;
	const uint64_t bs = o->page_size;
	const size_t subsz = sub_header_size(d);
	struct buf notes = { 0 };
	struct sub_fields f = { .start_pfn = start, .end_pfn = end, .split = split };
	size_t vmci_desc = 0;

	/* what goes after the sub-header depends on the header version */
	if (d->has_notes) {
		build_notes(d, &notes, false, &vmci_desc);
		f.off_note = bs + subsz;
		f.size_note = notes.len;
		if (d->has_vmcoreinfo) {
			/* offset_vmcoreinfo points at the note's text */
			f.off_vmci = bs + subsz + vmci_desc;
			f.size_vmci = strlen(d->vmcoreinfo);
		}
	} else if (d->has_vmcoreinfo) {
		/* v3: only the raw VMCOREINFO text, no notes */
		buf_add(&notes, d->vmcoreinfo, strlen(d->vmcoreinfo));
		f.off_vmci = bs + subsz;
		f.size_vmci = notes.len;
	}
	uint64_t sub_blocks = (subsz + notes.len + bs - 1) / bs;
	uint64_t bitmap_len = (d->max_mapnr + 7) / 8;
	uint64_t bitmap_blocks1 = (bitmap_len + bs - 1) / bs;
	uint64_t bitmap_off = (1 + sub_blocks) * bs;
	uint64_t desc_off = bitmap_off + 2 * bitmap_blocks1 * bs;

	/* headers + bitmaps in one buffer */
	uint8_t *head = xcalloc(desc_off, 1);
	image_own(img, head);
	put_main_header(d, head, (uint32_t)sub_blocks, (uint32_t)(2 * bitmap_blocks1));
	if (notes.len)
		memcpy(head + bs + subsz, notes.p, notes.len);
	/* Bitmaps are byte arrays with LSB-first bit order in every byte
	 * whatever the dump's endianness (makedumpfile sets bits with
	 * 1 << (pfn % 8); libkdumpfile reads them LSB-0 for BE dumps too). */
	uint8_t *bm1 = head + bitmap_off, *bm2 = bm1 + bitmap_blocks1 * bs;
	uint64_t ndesc = 0;
	for (uint64_t pfn = 0; pfn < d->max_mapnr; pfn++) {
		if (d->state[pfn] & PG_WHERE)
			bm1[pfn / 8] |= (uint8_t)(1u << (pfn % 8));
		if ((d->state[pfn] & PG_WHERE) == PG_DUMPED) {
			bm2[pfn / 8] |= (uint8_t)(1u << (pfn % 8));
			if (pfn >= start && pfn < end)
				ndesc++;
		}
	}

	/* descriptors, then data; the shared zero page goes first */
	uint64_t data_off = desc_off + ndesc * PAGE_DESC_SIZE;
	uint8_t *desc = xcalloc(ndesc ? ndesc * PAGE_DESC_SIZE : 1, 1);
	image_own(img, desc);
	struct buf data = { 0 };
	bool want_zero = false;
	for (uint64_t pfn = start; pfn < end; pfn++)
		if ((d->state[pfn] & (PG_WHERE | PG_ZERO)) == (PG_DUMPED | PG_ZERO))
			want_zero = true;
	uint64_t zero_off = 0;
	if (want_zero) {
		zero_off = data_off;
		buf_add_zero(&data, o->page_size);
	}
	uint64_t i = 0;
	for (uint64_t pfn = start; pfn < end; pfn++) {
		if ((d->state[pfn] & PG_WHERE) != PG_DUMPED)
			continue;
		uint8_t *pd = desc + PAGE_DESC_SIZE * i++;
		if (d->state[pfn] & PG_LOST)
			continue; /* incomplete: descriptor stays all zero */
		if (d->state[pfn] & PG_ZERO) {
			put64(pd, zero_off);
			put32(pd + 8, o->page_size);
			put32(pd + 12, 0);
			continue;
		}
		put64(pd, data_off + data.len);
		put32(pd + 8, kp->size[pfn]);
		put32(pd + 12, kp->flags[pfn]);
		put64(pd + 16, 0); /* page_flags: unused by readers */
		buf_add(&data, kp->data.p + kp->dataoff[pfn], kp->size[pfn]);
	}
	uint64_t erase_off = data_off + data.len;
	if (d->has_eraseinfo) {
		f.off_erase = erase_off;
		f.size_erase = strlen(d->eraseinfo);
		buf_add(&data, d->eraseinfo, strlen(d->eraseinfo));
	}
	put_sub_header(d, head + bs, &f);

	image_add(img, 0, head, desc_off);
	image_add(img, desc_off, desc, ndesc * PAGE_DESC_SIZE);
	image_add(img, data_off, image_own(img, data.p), data.len);
	free(notes.p);
}

char *file_name(const char *base, const char *suffix)
{
	char *s;
	if (asprintf(&s, "%s%s", base, suffix) < 0)
		die("out of memory");
	return s;
}

static void write_kdump(struct dump *d)
{
	struct kdump_pages kp = { 0 };
	int n = d->o.split;

	compress_all(d, &kp);
	if (d->o.corrupt_pages)
		corrupt_pages(d, &kp);
	if (n <= 1) {
		struct image img = { 0 };
		build_kdump_file(d, &kp, 0, d->max_mapnr, false, &img);
		write_image(d, &img, d->o.out, 0);
		image_free(&img);
	} else {
		/* makedumpfile --split: cut the pfn space so every file gets
		 * about the same number of dumped pages */
		uint64_t per = (d->dumped_pages + (uint64_t)n - 1) / (uint64_t)n;
		uint64_t start = 0, pfn = 0;
		for (int k = 1; k <= n; k++) {
			uint64_t cnt = 0, end;
			if (k == n) {
				end = d->max_mapnr;
			} else {
				while (pfn < d->max_mapnr && cnt < per) {
					if ((d->state[pfn] & PG_WHERE) == PG_DUMPED)
						cnt++;
					pfn++;
				}
				end = pfn;
			}
			struct image img = { 0 };
			char suffix[32];
			snprintf(suffix, sizeof suffix, ".%d", k);
			char *name = file_name(d->o.out, suffix);
			build_kdump_file(d, &kp, start, end, true, &img);
			write_image(d, &img, name, (uint64_t)k);
			image_free(&img);
			free(name);
			start = end;
		}
	}
	free(kp.flags);
	free(kp.size);
	free(kp.dataoff);
	free(kp.data.p);
}

/* ------------------------------------------------------------------ */
/* ELF vmcores                                                         */

struct segment { uint64_t pfn, filesz_pages, memsz_pages; };

/*
 * One PT_LOAD per run of dumped pages; excluded pages after a run are
 * covered by p_memsz > p_filesz (makedumpfile -E style) up to the next
 * dumped page of the same RAM range; excluded pages at the start of a
 * range are simply not covered.
 */
static struct segment *plan_segments(const struct dump *d, size_t *nseg)
{
	struct segment *seg = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < d->o.nram; i++) {
		const struct range *r = &d->o.ram[i];
		uint64_t pfn = r->start;
		while (pfn <= r->end) {
			if ((d->state[pfn] & PG_WHERE) != PG_DUMPED) {
				pfn++;
				continue;
			}
			struct segment s = { pfn, 0, 0 };
			while (pfn <= r->end && (d->state[pfn] & PG_WHERE) == PG_DUMPED)
				pfn++;
			s.filesz_pages = pfn - s.pfn;
			while (pfn <= r->end && (d->state[pfn] & PG_WHERE) != PG_DUMPED)
				pfn++;
			s.memsz_pages = pfn - s.pfn;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				seg = xrealloc(seg, cap * sizeof *seg);
			}
			seg[n++] = s;
		}
	}
	*nseg = n;
	return seg;
}

static uint64_t elf_vaddr(const struct dump *d, uint64_t paddr)
{
	/* the kernel's /proc/vmcore maps RAM at the direct map (aarch64:
	 * the linear map of VA_BITS 48 and PHYS_OFFSET 0, as VMCOREINFO says) */
	switch (d->o.arch) {
	case ARCH_X86_64: return 0xffff888000000000ULL + paddr;
	case ARCH_PPC64: return 0xc000000000000000ULL + paddr;
	case ARCH_AARCH64: return 0xffff000000000000ULL + paddr;
	default: return paddr;
	}
}

void write_elf(struct dump *d)
{
	const struct opts *o = &d->o;
	const uint64_t ps = o->page_size;
	bool e64 = o->layout == 64;
	size_t ehsz = e64 ? 64 : 52, phsz = e64 ? 56 : 32, shsz = e64 ? 64 : 40;
	size_t nseg, vmci_desc;
	struct segment *seg = plan_segments(d, &nseg);
	struct buf notes = { 0 };

	if (d->elf_notes)
		buf_add(&notes, d->elf_notes->p, d->elf_notes->len);
	else
		build_notes(d, &notes, true, &vmci_desc);
	uint64_t phnum = 1 + nseg;
	bool xnum = phnum >= PN_XNUM;
	uint64_t phoff = ehsz, shoff = xnum ? phoff + phnum * phsz : 0;
	uint64_t note_off = phoff + phnum * phsz + (xnum ? shsz : 0);
	uint64_t data_off = (note_off + notes.len + ps - 1) / ps * ps;
	struct image img = { 0 };

	uint8_t *h = xcalloc(data_off, 1);
	image_own(&img, h);
	memcpy(h, "\177ELF", 4);
	h[4] = e64 ? 2 : 1;      /* ELFCLASS64 / ELFCLASS32 */
	h[5] = g_be ? 2 : 1;     /* ELFDATA2MSB / ELFDATA2LSB */
	h[6] = 1;                /* EV_CURRENT */
	put16(h + 16, ET_CORE);
	put16(h + 18, arch_elf_machine[o->arch]);
	put32(h + 20, 1);
	uint32_t eflags = o->incomplete ? DUMP_ELF_INCOMPLETE : 0;
	uint16_t e_phnum = xnum ? PN_XNUM : (uint16_t)phnum;
	if (e64) {
		put64(h + 32, phoff);
		put64(h + 40, shoff);
		put32(h + 48, eflags);
		put16(h + 52, (uint16_t)ehsz);
		put16(h + 54, (uint16_t)phsz);
		put16(h + 56, e_phnum);
		put16(h + 58, xnum ? (uint16_t)shsz : 0);
		put16(h + 60, xnum ? 1 : 0);
	} else {
		put32(h + 28, (uint32_t)phoff);
		put32(h + 32, (uint32_t)shoff);
		put32(h + 36, eflags);
		put16(h + 40, (uint16_t)ehsz);
		put16(h + 42, (uint16_t)phsz);
		put16(h + 44, e_phnum);
		put16(h + 46, xnum ? (uint16_t)shsz : 0);
		put16(h + 48, xnum ? 1 : 0);
	}
	if (xnum) {
		/* extended numbering: section 0's sh_info holds the real count */
		uint8_t *s = h + shoff;
		put32(s + (e64 ? 44 : 28), (uint32_t)phnum);
	}

	/* PT_NOTE then PT_LOADs in address order */
	uint64_t off = data_off;
	for (uint64_t i = 0; i < phnum; i++) {
		uint8_t *p = h + phoff + i * phsz;
		uint32_t type = i ? PT_LOAD : PT_NOTE;
		uint64_t poff, paddr = 0, vaddr = 0, filesz, memsz;
		if (!i) {
			poff = note_off;
			filesz = memsz = notes.len;
		} else {
			const struct segment *s = &seg[i - 1];
			poff = off;
			paddr = s->pfn * ps;
			vaddr = elf_vaddr(d, paddr);
			filesz = s->filesz_pages * ps;
			memsz = s->memsz_pages * ps;
			image_add(&img, poff, d->mem + paddr, filesz);
			off += filesz;
		}
		if (e64) {
			put32(p, type);
			put32(p + 4, i ? 7 : 0); /* RWX like the kernel */
			put64(p + 8, poff);
			put64(p + 16, vaddr);
			put64(p + 24, paddr);
			put64(p + 32, filesz);
			put64(p + 40, memsz);
			put64(p + 48, 0);
		} else {
			put32(p, type);
			put32(p + 4, (uint32_t)poff);
			put32(p + 8, (uint32_t)vaddr);
			put32(p + 12, (uint32_t)paddr);
			put32(p + 16, (uint32_t)filesz);
			put32(p + 20, (uint32_t)memsz);
			put32(p + 24, i ? 7 : 0);
			put32(p + 28, 0);
		}
	}
	if (!e64 && off > UINT32_MAX)
		die("ELF32 file would exceed 4 GiB");
	memcpy(h + note_off, notes.p, notes.len);
	image_add(&img, 0, h, data_off);
	img.size = off > data_off ? off : data_off;

	if (o->incomplete && nseg) {
		/* the file ends inside the last segment: its second half (at
		 * least one page) is lost, the headers still claim it */
		const struct segment *s = &seg[nseg - 1];
		uint64_t lose = s->filesz_pages - s->filesz_pages / 2;
		for (uint64_t k = 0; k < lose; k++)
			d->state[s->pfn + s->filesz_pages - 1 - k] |= PG_LOST;
		image_truncate(&img, off - lose * ps);
	}
	write_image(d, &img, o->out, 0);
	image_free(&img);
	free(notes.p);
	free(seg);
}

/* ------------------------------------------------------------------ */
/* LiME memory images                                                  */

#define LIME_MAGIC 0x4C694D45u
#define LIME_HEADER 32

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * LiME's format=lime: for each RAM range a 32-byte header (magic, version
 * 1, first and last physical address inclusive, 8 reserved bytes, all
 * little-endian whatever the machine) and then its bytes; format=raw: the
 * bytes alone, one range after the other.
 */
static void write_lime(struct dump *d)
{
	const struct opts *o = &d->o;
	const uint64_t ps = o->page_size;
	bool headers = o->format == FMT_LIME;
	struct image img = { 0 };
	uint8_t *h = headers ? xcalloc(o->nram, LIME_HEADER) : NULL;
	uint64_t off = 0;

	if (h)
		image_own(&img, h);
	for (size_t i = 0; i < o->nram; i++) {
		uint64_t first = o->ram[i].start * ps, len = (o->ram[i].end + 1) * ps - first;
		if (headers) {
			uint8_t *r = h + i * LIME_HEADER;
			put_le(r, LIME_MAGIC, 4);
			put_le(r + 4, 1, 4);
			put_le(r + 8, first, 8);
			put_le(r + 16, first + len - 1, 8);
			image_add(&img, off, r, LIME_HEADER);
			off += LIME_HEADER;
		}
		image_add(&img, off, d->mem + first, len);
		off += len;
	}
	write_image(d, &img, o->out, 0);
	image_free(&img);
}

/* raw_ranges=START-END,... in .info: what a reader is told of a raw image. */
static void write_raw_ranges(const struct dump *d, FILE *f)
{
	const uint64_t ps = d->o.page_size;
	fprintf(f, "raw_ranges=");
	for (size_t i = 0; i < d->o.nram; i++)
		fprintf(f, "%s%#" PRIx64 "-%#" PRIx64, i ? "," : "", d->o.ram[i].start * ps,
			(d->o.ram[i].end + 1) * ps - 1);
	fprintf(f, "\n");
}

/* ------------------------------------------------------------------ */
/* Expected-output files                                               */

FILE *open_expect(const char *base, const char *suffix)
{
	char *name = file_name(base, suffix);
	FILE *f = fopen(name, "w");
	if (!f)
		die("cannot create %s: %s", name, strerror(errno));
	free(name);
	return f;
}

void close_expect(FILE *f)
{
	if (ferror(f) || fclose(f) != 0)
		die("writing an expected-output file failed");
}

void write_blob(const char *base, const char *suffix, const void *p,
		       size_t len)
{
	FILE *f = open_expect(base, suffix);
	fwrite(p, 1, len, f);
	close_expect(f);
}

static bool page_reads_ok(uint8_t st)
{
	return (st & PG_WHERE) == PG_DUMPED && !(st & (PG_LOST | PG_CORRUPT));
}

void write_page_files(const char *base, const uint8_t *state, const uint8_t *mem,
		      uint64_t n, uint32_t ps, uint64_t count[3])
{
	/* BASE.mem: readable pages; everything else (and any all-zero
	 * block) is left as a file hole */
	char *name = file_name(base, ".mem");
	int fd = create_file(name);
	for (uint64_t pfn = 0; pfn < n; pfn++)
		if (page_reads_ok(state[pfn]) && !(state[pfn] & PG_ZERO))
			write_sparse(fd, pfn * ps, mem + pfn * ps, ps, name);
	close_file(fd, n * ps, name);
	free(name);

	FILE *f = open_expect(base, ".eio");
	for (uint64_t pfn = 0; pfn < n; pfn++) {
		uint8_t st = state[pfn];
		if ((st & PG_WHERE) == PG_DUMPED && (st & (PG_LOST | PG_CORRUPT))) {
			fprintf(f, "%" PRIu64 "\n", pfn);
			if (count) {
				count[0]++;
				count[1] += !!(st & PG_LOST);
				count[2] += !!(st & PG_CORRUPT);
			}
		}
	}
	close_expect(f);

	f = open_expect(base, ".holes");
	for (uint64_t pfn = 0; pfn < n;) {
		if ((state[pfn] & PG_WHERE) == PG_DUMPED) {
			pfn++;
			continue;
		}
		uint64_t start = pfn;
		while (pfn < n && (state[pfn] & PG_WHERE) != PG_DUMPED)
			pfn++;
		fprintf(f, "%" PRIu64 " %" PRIu64 "\n", start, pfn - 1);
	}
	close_expect(f);
}

void write_expected(const struct dump *d)
{
	const struct opts *o = &d->o;
	const uint32_t ps = o->page_size;
	uint64_t count[3] = { 0, 0, 0 };

	write_page_files(o->out, d->state, d->mem, d->max_mapnr, ps, count);
	uint64_t neio = count[0], nlost = count[1], ncorrupt = count[2];

	for (int c = 0; d->has_notes && c < o->cpus; c++) {
		char suffix[64];
		snprintf(suffix, sizeof suffix, ".cpu%d.prstatus", c);
		write_blob(o->out, suffix, d->prstatus[c], d->prstatus_size);
		if (o->qemu_notes) {
			snprintf(suffix, sizeof suffix, ".cpu%d.qemu", c);
			write_blob(o->out, suffix, d->qemu[c], ELF_NOTE_QEMU_SIZE);
		}
	}
	if (d->has_vmcoreinfo)
		write_blob(o->out, ".vmcoreinfo", d->vmcoreinfo, strlen(d->vmcoreinfo));
	if (d->has_eraseinfo)
		write_blob(o->out, ".eraseinfo", d->eraseinfo, strlen(d->eraseinfo));

	FILE *f = open_expect(o->out, ".info");
	fprintf(f, "format=%s\n", format_names[o->format]);
	fprintf(f, "layout=%d\n", o->layout);
	fprintf(f, "endian=%s\n", o->big_endian ? "be" : "le");
	fprintf(f, "arch=%s\n", arch_names[o->arch]);
	fprintf(f, "page_size=%" PRIu32 "\n", ps);
	fprintf(f, "nr_cpus=%d\n", o->cpus);
	fprintf(f, "max_pfn=%" PRIu64 "\n", d->max_mapnr);
	fprintf(f, "mem_size=%" PRIu64 "\n", d->max_mapnr * ps);
	fprintf(f, "ram_pages=%" PRIu64 "\n", d->ram_pages);
	fprintf(f, "dumped_pages=%" PRIu64 "\n", d->dumped_pages);
	fprintf(f, "excluded_pages=%" PRIu64 "\n", d->excluded_pages);
	fprintf(f, "zero_pages=%" PRIu64 "\n", d->zero_pages);
	fprintf(f, "eio_pages=%" PRIu64 "\n", neio);
	fprintf(f, "lost_pages=%" PRIu64 "\n", nlost);
	fprintf(f, "corrupt_pages=%" PRIu64 "\n", ncorrupt);
	bool kdump = o->format == FMT_KDUMP || o->format == FMT_DISKDUMP;
	fprintf(f, "header_version=%d\n", kdump ? o->header_version : 0);
	fprintf(f, "phys_base=0x%" PRIx64 "\n", o->phys_base);
	fprintf(f, "codec=%s\n", kdump ? codec_names[o->codec] : "none");
	fprintf(f, "flat=%d\n", o->flat);
	fprintf(f, "incomplete=%d\n", o->incomplete);
	fprintf(f, "notes=%d\n", d->has_notes);
	fprintf(f, "qemu_notes=%d\n", d->has_notes && o->qemu_notes);
	fprintf(f, "vmcoreinfo=%d\n", d->has_vmcoreinfo);
	fprintf(f, "eraseinfo=%d\n", d->has_eraseinfo);
	fprintf(f, "files=%d\n", o->split > 1 ? o->split : 1);
	if (o->format == FMT_RAW)
		write_raw_ranges(d, f);
	close_expect(f);
}

/* ------------------------------------------------------------------ */
/* Command line                                                        */

void usage(const char *msg)
{
	if (msg)
		fprintf(stderr, "mkdump: %s\n", msg);
	fputs(
"usage: mkdump [options] OUT\n"
"  --format kdump|diskdump|elf|lime|raw|xc|xen-kdump   dump format (default kdump)\n"
"  --flat                        makedumpfile flattened format\n"
"  --codec none|zlib|lzo|snappy|zstd|mixed   page codec (default zlib)\n"
"  --header-version N            kdump header version 1..6 (default 6)\n"
"  --layout 64|32                header ABI / ELF class\n"
"  --endian le|be                byte order\n"
"  --arch x86_64|i386|ppc64|s390x|aarch64\n"
"  --ram RANGES                  RAM as pfn ranges \"0-159,256-4095\"\n"
"  --page-size N                 default 4096\n"
"  --cpus N                      default 2\n"
"  --qemu-notes                  add QEMU CPU-state notes\n"
"  --excluded                    exclude ~1/5 of RAM pages\n"
"  --zero-pages                  ~1/8 of pages all-zero, one shared descriptor\n"
"  --incomplete                  truncated/incomplete dump\n"
"  --split N                     kdump: write OUT.1 .. OUT.N\n"
"  --pn-xnum                     >= 65535 program headers\n"
"  --corrupt-pages N             damage N compressed pages\n"
"  --eraseinfo                   add eraseinfo\n"
"  --no-vmcoreinfo               omit VMCOREINFO\n"
"  --phys-base HEX               phys_base (default 0)\n"
"  --seed N                      default 1\n"
"Xen (x86_64, 4 KiB pages; mkdump_xen.c says what each file holds):\n"
"  --format xc                   a domain's xc_core file, as `xl dump-core` writes it\n"
"  --format xen-kdump            a Xen host's kdump (/proc/vmcore of the capture kernel):\n"
"                                --ram is machine memory, dom0's p2m tree inside it\n"
"  --xen-type pv|hvm             xc: PV (.xen_p2m, gmfns scattered) or HVM/PVH\n"
"                                (.xen_pfn); default pv\n"
"  --xen-shuffle                 xc: .xen_pages not in pfn order\n"
"  --xen-arrays-first            xc: .xen_p2m/.xen_pfn and .shstrtab before .xen_pages\n"
"  --xen-invalid-tail N          xc: N trailing entries of pfn ~0 with zero pages, as\n"
"                                xc_core pads when it found fewer pages than nr_pages\n"
"                                (default 8 for hvm, 0 for pv)\n"
"  --xen-p2m-out-of-range N      bad input. xc: N more entries naming pfns no machine\n"
"                                has (>= 2^40), junk pages: a reader ignores them;\n"
"                                xen-kdump: N dom0 p2m entries naming mfns outside\n"
"                                machine RAM: those dom0 pfns read EIO\n"
"  --xen-dup-pfn                 bad input, xc: a later entry names a pfn again, with\n"
"                                other bytes: the first entry wins\n"
"  --xen-truncate-pages          bad input, xc: the file ends inside .xen_pages (implies\n"
"                                --xen-arrays-first): the pages lost read EIO\n"
"  --xen-bad-section-size[=SECTION]   bad input, xc: SECTION's sh_size (default\n"
"                                .xen_pages) runs past EOF; the header note's counts\n"
"                                still hold, so a reader serves every page\n", stderr);
	exit(2);
}

static int lookup(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

static long parse_int_arg(const char *s, long lo, long hi, const char *what)
{
	uint64_t v;
	if (!parse_u64(s, 10, &v) || v < (uint64_t)lo || v > (uint64_t)hi) {
		char msg[128];
		snprintf(msg, sizeof msg, "bad %s: %s", what, s);
		usage(msg);
	}
	return (long)v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	enum { OPT_FORMAT = 256, OPT_FLAT, OPT_CODEC, OPT_HV, OPT_LAYOUT, OPT_ENDIAN, OPT_ARCH,
	       OPT_RAM, OPT_PS, OPT_CPUS, OPT_QEMU, OPT_EXCL, OPT_ZERO, OPT_INCOMPLETE, OPT_SPLIT,
	       OPT_XNUM, OPT_CORRUPT, OPT_ERASE, OPT_NOVMCI, OPT_PHYS, OPT_SEED, OPT_HELP,
	       OPT_XEN_TYPE, OPT_XEN_SHUFFLE, OPT_XEN_ARRAYS, OPT_XEN_TAIL, OPT_XEN_OOR,
	       OPT_XEN_DUP, OPT_XEN_TRUNC, OPT_XEN_BADSEC };
	static const struct option lo[] = {
		{ "format", 1, 0, OPT_FORMAT }, { "flat", 0, 0, OPT_FLAT },
		{ "codec", 1, 0, OPT_CODEC }, { "header-version", 1, 0, OPT_HV },
		{ "layout", 1, 0, OPT_LAYOUT }, { "endian", 1, 0, OPT_ENDIAN },
		{ "arch", 1, 0, OPT_ARCH }, { "ram", 1, 0, OPT_RAM },
		{ "page-size", 1, 0, OPT_PS }, { "cpus", 1, 0, OPT_CPUS },
		{ "qemu-notes", 0, 0, OPT_QEMU }, { "excluded", 0, 0, OPT_EXCL },
		{ "zero-pages", 0, 0, OPT_ZERO }, { "incomplete", 0, 0, OPT_INCOMPLETE },
		{ "split", 1, 0, OPT_SPLIT }, { "pn-xnum", 0, 0, OPT_XNUM },
		{ "corrupt-pages", 1, 0, OPT_CORRUPT }, { "eraseinfo", 0, 0, OPT_ERASE },
		{ "no-vmcoreinfo", 0, 0, OPT_NOVMCI }, { "phys-base", 1, 0, OPT_PHYS },
		{ "seed", 1, 0, OPT_SEED }, { "help", 0, 0, OPT_HELP },
		{ "xen-type", 1, 0, OPT_XEN_TYPE }, { "xen-shuffle", 0, 0, OPT_XEN_SHUFFLE },
		{ "xen-arrays-first", 0, 0, OPT_XEN_ARRAYS },
		{ "xen-invalid-tail", 1, 0, OPT_XEN_TAIL },
		{ "xen-p2m-out-of-range", 1, 0, OPT_XEN_OOR }, { "xen-dup-pfn", 0, 0, OPT_XEN_DUP },
		{ "xen-truncate-pages", 0, 0, OPT_XEN_TRUNC },
		{ "xen-bad-section-size", 2, 0, OPT_XEN_BADSEC },
		{ 0, 0, 0, 0 }
	};
	const char *ram = NULL;
	int layout_set = 0, c;
	bool xen_opt = false;

	*o = (struct opts){ .format = FMT_KDUMP, .codec = CODEC_ZLIB,
			    .header_version = 6, .layout = 64, .page_size = 4096,
			    .cpus = 2, .vmcoreinfo = true, .seed = 1,
			    .xen = { .invalid_tail = -1 } };
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			if ((c = lookup(optarg, format_names, FMT_COUNT)) < 0)
				usage("bad --format");
			o->format = (enum format)c;
			break;
		case OPT_FLAT: o->flat = true; break;
		case OPT_CODEC:
			if ((c = lookup(optarg, codec_names, 6)) < 0)
				usage("bad --codec");
			o->codec = (enum codec)c;
			break;
		case OPT_HV: o->header_version = (int)parse_int_arg(optarg, 1, 6, "--header-version"); break;
		case OPT_LAYOUT:
			if (strcmp(optarg, "64") && strcmp(optarg, "32"))
				usage("bad --layout");
			o->layout = atoi(optarg);
			layout_set = 1;
			break;
		case OPT_ENDIAN:
			if (strcmp(optarg, "le") && strcmp(optarg, "be"))
				usage("bad --endian");
			o->big_endian = !strcmp(optarg, "be");
			o->endian_set = 1;
			break;
		case OPT_ARCH:
			if ((c = lookup(optarg, arch_names, 5)) < 0)
				usage("bad --arch");
			o->arch = (enum arch)c;
			o->arch_set = 1;
			break;
		case OPT_RAM: ram = optarg; break;
		case OPT_PS: o->page_size = (uint32_t)parse_int_arg(optarg, 1024, 1 << 20, "--page-size"); break;
		case OPT_CPUS: o->cpus = (int)parse_int_arg(optarg, 1, 4096, "--cpus"); break;
		case OPT_QEMU: o->qemu_notes = true; break;
		case OPT_EXCL: o->excluded = true; break;
		case OPT_ZERO: o->zero_pages = true; break;
		case OPT_INCOMPLETE: o->incomplete = true; break;
		case OPT_SPLIT: o->split = (int)parse_int_arg(optarg, 1, 64, "--split"); break;
		case OPT_XNUM: o->pn_xnum = true; break;
		case OPT_CORRUPT:
			o->corrupt_pages = (int)parse_int_arg(optarg, 0, 1000000,
							      "--corrupt-pages");
			break;
		case OPT_ERASE: o->eraseinfo = true; break;
		case OPT_NOVMCI: o->vmcoreinfo = false; break;
		case OPT_PHYS:
			if (!parse_u64(optarg, 16, &o->phys_base))
				usage("bad --phys-base");
			break;
		case OPT_SEED:
			if (!parse_u64(optarg, 0, &o->seed))
				usage("bad --seed");
			break;
		case OPT_HELP: usage(NULL); break;
		case OPT_XEN_TYPE:
			if (strcmp(optarg, "pv") && strcmp(optarg, "hvm"))
				usage("bad --xen-type");
			o->xen.hvm = !strcmp(optarg, "hvm");
			xen_opt = true;
			break;
		case OPT_XEN_SHUFFLE: o->xen.shuffle = xen_opt = true; break;
		case OPT_XEN_ARRAYS: o->xen.arrays_first = xen_opt = true; break;
		case OPT_XEN_TAIL:
			o->xen.invalid_tail = (int)parse_int_arg(optarg, 0, 100000, "--xen-invalid-tail");
			xen_opt = true;
			break;
		case OPT_XEN_OOR:
			o->xen.out_of_range = (int)parse_int_arg(optarg, 1, 100000,
								 "--xen-p2m-out-of-range");
			xen_opt = true;
			break;
		case OPT_XEN_DUP: o->xen.dup_pfn = xen_opt = true; break;
		case OPT_XEN_TRUNC: o->xen.truncate_pages = xen_opt = true; break;
		case OPT_XEN_BADSEC:
			o->xen.bad_section = optarg ? optarg : ".xen_pages";
			xen_opt = true;
			break;
		default: usage("unknown option or missing argument");
		}
	}
	if (optind != argc - 1)
		usage("exactly one OUT argument is required");
	o->out = argv[optind];

	if (o->page_size & (o->page_size - 1))
		usage("--page-size must be a power of two");
	/* the 32-bit ABI is i386's; --layout and --arch imply each other */
	if (!layout_set && o->arch_set && o->arch == ARCH_I386)
		o->layout = 32;
	if (!o->arch_set && o->layout == 32)
		o->arch = ARCH_I386;
	if ((o->layout == 32) != (o->arch == ARCH_I386))
		usage("--layout 32 goes with --arch i386 only");
	if (!o->endian_set)
		o->big_endian = o->arch == ARCH_PPC64 || o->arch == ARCH_S390X;
	if (o->pn_xnum) {
		/* 1-page RAM ranges alternating with 1-page holes; more of
		 * them when some will be excluded */
		uint64_t n = o->excluded ? 84000 : 65600;
		if (ram)
			usage("--pn-xnum defines the RAM layout; drop --ram");
		o->ram = xcalloc(n, sizeof *o->ram);
		for (uint64_t i = 0; i < n; i++)
			o->ram[i] = (struct range){ 2 * i, 2 * i };
		o->nram = n;
	} else if (!parse_ranges(ram ? ram : "0-158,256-3071,3584-4607",
				 &o->ram, &o->nram)) {
		usage("bad --ram (want sorted, disjoint \"a-b,c-d\" pfn ranges)");
	}
	bool xen = o->format == FMT_XC || o->format == FMT_XEN_KDUMP;
	if (xen_opt && !xen)
		usage("the --xen-* options go with --format xc or xen-kdump");
	if (xen) {
		xen_check_opts(o);
	} else if (o->format == FMT_LIME || o->format == FMT_RAW) {
		/* LiME copies all of System RAM, as it is, into one file */
		if (o->split > 1 || o->flat || o->excluded || o->incomplete || o->corrupt_pages)
			usage("--format lime and raw take no --split, --flat, --excluded, "
			      "--incomplete or --corrupt-pages");
	} else if (o->format == FMT_ELF) {
		if (o->split > 1)
			usage("--split is for kdump formats only");
		if (o->corrupt_pages)
			usage("--corrupt-pages needs compressed (kdump) pages");
	} else {
		if (o->corrupt_pages && o->codec == CODEC_NONE)
			usage("--corrupt-pages needs a compressing --codec");
		if (o->split > 1 && o->header_version < 2)
			usage("--split needs --header-version >= 2");
		if (o->header_version < 6 &&
		    o->ram[o->nram - 1].end + 1 > UINT32_MAX)
			usage("max_mapnr does not fit in 32 bits; use --header-version 6");
		if (o->layout == 32 && o->phys_base > UINT32_MAX)
			usage("--phys-base does not fit a 32-bit layout");
	}
	if (o->format == FMT_ELF && o->layout == 32 &&
	    (o->ram[o->nram - 1].end + 1) * o->page_size > UINT32_MAX)
		usage("ELF32 cannot address memory above 4 GiB");
}

int main(int argc, char **argv)
{
	struct dump d;
	memset(&d, 0, sizeof d);
	parse_args(argc, argv, &d.o);
	g_be = d.o.big_endian;
	if (d.o.format == FMT_XC || d.o.format == FMT_XEN_KDUMP) {
		write_xen(&d); /* the dump and its expected output */
		free(d.o.ram);
		return 0;
	}

	plan_pages(&d);
	generate_memory(&d);
	plan_damage(&d);

	/* notes; what the dump carries depends on the header version */
	size_t reg_off, nregs;
	d.prstatus_size = prstatus_size(d.o.arch, &reg_off, &nregs);
	d.prstatus = xcalloc((size_t)d.o.cpus, sizeof *d.prstatus);
	d.qemu = xcalloc((size_t)d.o.cpus, sizeof *d.qemu);
	for (int c = 0; c < d.o.cpus; c++) {
		d.prstatus[c] = make_prstatus(&d, c);
		if (d.o.qemu_notes)
			d.qemu[c] = make_qemu_cpustate(c);
	}
	if (d.o.vmcoreinfo)
		d.vmcoreinfo = make_vmcoreinfo(&d);
	if (d.o.eraseinfo) {
		d.eraseinfo = strdup("erase modules.mod_secret size 16\n"
				     "erase init_task.cred.uid size 4\n"
				     "nullify keyring_key\n");
		if (!d.eraseinfo)
			die("out of memory");
	}
	bool elf = d.o.format == FMT_ELF;
	bool memory_only = d.o.format == FMT_LIME || d.o.format == FMT_RAW;
	d.has_notes = !memory_only && (elf || d.o.header_version >= 4);
	d.has_vmcoreinfo = !memory_only && d.vmcoreinfo && (elf || d.o.header_version >= 3);
	d.has_eraseinfo = !memory_only && d.eraseinfo && (elf || d.o.header_version >= 5);

	if (elf)
		write_elf(&d);
	else if (memory_only)
		write_lime(&d);
	else
		write_kdump(&d);
	write_expected(&d);

	for (int c = 0; c < d.o.cpus; c++) {
		free(d.prstatus[c]);
		free(d.qemu[c]);
	}
	free(d.prstatus);
	free(d.qemu);
	free(d.vmcoreinfo);
	free(d.eraseinfo);
	free(d.state);
	free(d.mem);
	free(d.o.ram);
	return 0;
}
