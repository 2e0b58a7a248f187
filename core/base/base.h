/*
 * base.h - the bottom layer of the core: byte order, overflow-checked
 * arithmetic, the text buffer, and the diagnostics every layer reports to.
 * It knows nothing of dumps.
 *
 * The core's layers, bottom to top; a file includes the header of its own
 * folder and those of the folders below it, never one above
 * (tests/layers/check.py holds this order and enforces it):
 *
 *   base/     this file
 *   page/     codecs with per-thread state, the page cache, the worker pool
 *   source/   byte sources: a plain file, a flattened file over one
 *   format/   one reader per dump format: where the bytes of pfn P are
 *   space/    address spaces: a size, a read at an offset, next data/hole
 *   arch/     one file per architecture: the dumped machine
 *   kernel/   what the dumped kernel's own data says
 *   view/     the files a user sees
 *   dump.c    open a dump and answer include/dumpfs.h
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_BASE_H
#define DUMPFS_BASE_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dumpfs.h"

#define MIN_PAGE_SIZE 1024u
#define MAX_PAGE_SIZE 65536u
#define ERRMSG_MAX 512

/* ---- byte order (byteorder.c) ------------------------------------------ */

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
/* Reverse the bytes of each @width-byte item of [p, p + len): from one byte
 * order to the other; a partial item at the end is left as it is. */
void swap_each(void *p, size_t len, size_t width);

/* Overflow-checked arithmetic: false when the result does not fit. */
static inline bool add_ok(uint64_t a, uint64_t b, uint64_t *sum) { return !__builtin_add_overflow(a, b, sum); }
static inline bool mul_ok(uint64_t a, uint64_t b, uint64_t *prod) { return !__builtin_mul_overflow(a, b, prod); }

/* ---- text (strbuf.c) --------------------------------------------------- */

/* A growable text buffer; on allocation failure it stops growing and
 * remembers it, so renderers need not check every append. */
struct strbuf { char *buf; size_t len, cap; bool failed; };
void sb_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sb_append(struct strbuf *sb, const void *data, size_t len);
/* @len bytes of @s as a JSON string, quotes included: '"', '\\' and
 * control characters escaped, and bytes >= 0x80 as \u00XX, so that the
 * output is valid JSON whatever the dump holds. */
void sb_json_string(struct strbuf *sb, const char *s, size_t len);
void sb_free(struct strbuf *sb);

/* ---- diagnostics (diag.c) ---------------------------------------------- */

/*
 * Where the layers of one open dump report problems, each with the file,
 * the offset and what was wrong in the text:
 *  - diag_fail: the error that stops the open (one; the last one wins);
 *  - diag_warn: a problem survived at open, kept for /header;
 *  - diag_log:  a problem at read time (a damaged page), to stderr, rate
 *    limited and counted for /stats; thread safe.
 */
struct diag {
	char error[ERRMSG_MAX];
	char warnings[ERRMSG_MAX];
	pthread_mutex_t lock;
	unsigned logged;
};

void diag_init(struct diag *g);
void diag_destroy(struct diag *g);
/* Record @g's open error and return @status. */
enum dumpfs_status diag_fail(struct diag *g, enum dumpfs_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_warn(struct diag *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Report a read-time problem and return @status. */
enum dumpfs_status diag_log(struct diag *g, enum dumpfs_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Read-time problems so far. */
unsigned diag_problems(struct diag *g);

#endif /* DUMPFS_BASE_H */
