/*
 * dmesg.c - /dmesg: the kernel log, decoded from the dump's memory with
 * nothing but VMCOREINFO (symbol addresses, structure sizes and offsets,
 * as kernel/printk/printk.c's log_buf_vmcoreinfo_setup() exports them),
 * and printed the way crash's `log` prints it, so the two can be compared
 * line for line:
 *
 *   "[%5llu.%06llu] " seconds.microseconds, then the text; a newline inside
 *   the text continues on a new line indented by the prefix's width; bytes
 *   that are neither printable nor space print as '.'.
 *
 * Two layouts: the lockless printk ringbuffer of 5.10+ (SYMBOL(prb)) and
 * the variable-length records of 3.5-5.9 (SYMBOL(log_buf), struct
 * printk_log, called struct log before 3.11).
 *
 * Everything read from the dump is untrusted: ring sizes are capped, the
 * walk visits each descriptor at most once, and the output is capped, so
 * garbage costs bounded time and memory.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel.h"

/* Linux takes log_buf_len up to 2^31 (LOG_BUF_LEN_MAX), with one descriptor
 * per 32 bytes of text (PRB_AVGBITS 5); real logs are a few MiB at most.
 * 128 MiB of text and 4 Mi descriptors keep a walk of garbage to seconds. */
#define MAX_TEXT_RING_BITS 27
#define MAX_DESC_RING_BITS 22
/* crash copies at most BUFSIZE (1500) bytes of one record's text. */
#define CRASH_MAX_RECORD_TEXT 1500
/* The log text is at most 2 GiB by the cap above; a decoded log larger than
 * this means garbage, and is refused rather than held in memory. */
#define MAX_OUTPUT_BYTES (256u << 20)
/* struct prb_desc, printk_info and printk_log are 24, 88 and 16 bytes on
 * 6.1; a size far beyond that is not a kernel's. */
#define MAX_RECORD_STRUCT 512

/* printk_ringbuffer.h: the top two bits of state_var (a long) are the
 * state, the rest the descriptor id. */
#define DESC_FLAGS_SHIFT(word) ((word) * 8 - 2)
#define DESC_ID_MASK(word) ((1ull << DESC_FLAGS_SHIFT(word)) - 1)
#define DESC_COMMITTED 1
#define DESC_FINALIZED 2

struct why { char *buf; size_t len; };

static bool vmci_value(const struct machine *m, const char *key, int base, uint64_t *out, struct why *why)
{
	char v[64], *end;
	if (!vmcoreinfo_get(m->notes, key, v, sizeof(v))) {
		snprintf(why->buf, why->len, "VMCOREINFO has no %s", key);
		return false;
	}
	*out = strtoull(v, &end, base);
	if (end == v) {
		snprintf(why->buf, why->len, "VMCOREINFO %s=%s is not a number", key, v);
		return false;
	}
	return true;
}

static bool read_kernel(struct kmem *km, uint64_t vaddr, void *buf, size_t len,
			const char *what, struct why *why)
{
	if (kmem_read(km, vaddr, buf, len))
		return true;
	snprintf(why->buf, why->len, "cannot read %s at %#" PRIx64 " (%zu bytes)", what, vaddr, len);
	return false;
}

static bool output_too_big(const struct strbuf *sb, struct why *why)
{
	if (sb->len <= MAX_OUTPUT_BYTES)
		return false;
	snprintf(why->buf, why->len, "decoded log exceeds %u MiB: the ring looks corrupt",
		 MAX_OUTPUT_BYTES >> 20);
	return true;
}

/* One record as crash prints it: timestamp prefix, text with newlines
 * continued under the prefix, unprintable bytes as '.', then a newline. */
static void print_record(struct strbuf *sb, uint64_t ts_nsec, const uint8_t *text, size_t len)
{
	char prefix[48];
	int ilen = snprintf(prefix, sizeof(prefix), "[%5" PRIu64 ".%06" PRIu64 "] ",
			    ts_nsec / 1000000000u, ts_nsec % 1000000000u / 1000u);
	sb_append(sb, prefix, (size_t)ilen);
	for (size_t i = 0; i < len; i++) {
		uint8_t c = text[i];
		if (c == '\n')
			sb_printf(sb, "\n%*s", ilen, "");
		else if ((c >= 0x20 && c < 0x7f) || (c >= '\t' && c <= '\r'))
			sb_append(sb, &c, 1);   /* isprint() || isspace() in the C locale */
		else
			sb_append(sb, ".", 1);
	}
	sb_append(sb, "\n", 1);
}

/* ---- the lockless printk ringbuffer (5.10+) ---------------------------- */

struct prb_layout {
	uint64_t prb_var;               /* address of `prb`, the pointer to the ring */
	uint64_t desc_ring, text_data_ring;             /* member offsets */
	uint64_t count_bits, descs, infos, head_id, tail_id;
	uint64_t desc_size, state_var, text_blk_lpos, lpos_begin, lpos_next;
	uint64_t info_size, info_ts_nsec, info_text_len;
	uint64_t size_bits, data;
};

static bool prb_layout_get(const struct machine *m, struct prb_layout *l, struct why *why)
{
	const struct { const char *key; uint64_t *out; int base; } keys[] = {
		{ "SYMBOL(prb)", &l->prb_var, 16 },
		{ "OFFSET(printk_ringbuffer.desc_ring)", &l->desc_ring, 10 },
		{ "OFFSET(printk_ringbuffer.text_data_ring)", &l->text_data_ring, 10 },
		{ "OFFSET(prb_desc_ring.count_bits)", &l->count_bits, 10 },
		{ "OFFSET(prb_desc_ring.descs)", &l->descs, 10 },
		{ "OFFSET(prb_desc_ring.infos)", &l->infos, 10 },
		{ "OFFSET(prb_desc_ring.head_id)", &l->head_id, 10 },
		{ "OFFSET(prb_desc_ring.tail_id)", &l->tail_id, 10 },
		{ "SIZE(prb_desc)", &l->desc_size, 10 },
		{ "OFFSET(prb_desc.state_var)", &l->state_var, 10 },
		{ "OFFSET(prb_desc.text_blk_lpos)", &l->text_blk_lpos, 10 },
		{ "OFFSET(prb_data_blk_lpos.begin)", &l->lpos_begin, 10 },
		{ "OFFSET(prb_data_blk_lpos.next)", &l->lpos_next, 10 },
		{ "SIZE(printk_info)", &l->info_size, 10 },
		{ "OFFSET(printk_info.ts_nsec)", &l->info_ts_nsec, 10 },
		{ "OFFSET(printk_info.text_len)", &l->info_text_len, 10 },
		{ "OFFSET(prb_data_ring.size_bits)", &l->size_bits, 10 },
		{ "OFFSET(prb_data_ring.data)", &l->data, 10 },
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!vmci_value(m, keys[i].key, keys[i].base, keys[i].out, why))
			return false;
	/* every member read below lies inside its record: longs of a word */
	const unsigned word = machine_word_size(m);
	if (l->desc_size > MAX_RECORD_STRUCT || l->info_size > MAX_RECORD_STRUCT ||
	    l->state_var + word > l->desc_size ||
	    l->text_blk_lpos + l->lpos_next + word > l->desc_size ||
	    l->text_blk_lpos + l->lpos_begin + word > l->desc_size ||
	    l->info_ts_nsec + 8 > l->info_size || l->info_text_len + 2 > l->info_size) {
		snprintf(why->buf, why->len, "VMCOREINFO printk offsets do not fit the sizes it gives");
		return false;
	}
	return true;
}

/* The fields of struct printk_ringbuffer that the walk needs. */
struct prb_state {
	uint64_t count, descs, infos, head_id, tail_id;
	uint64_t text_size, text_data;
	unsigned word;                  /* bytes of the ring's longs and pointers */
	uint64_t id_mask;
};

static bool prb_state_read(struct kmem *km, const struct prb_layout *l, struct prb_state *s, struct why *why)
{
	uint8_t b[8];
	uint64_t count_bits, size_bits;
	const unsigned word = machine_word_size(km->m);
	s->word = word;
	s->id_mask = DESC_ID_MASK(word);
	/* prb points to printk_rb_static, or to printk_rb_dynamic once
	 * setup_log_buf() has moved the log to a bigger buffer */
	if (!read_kernel(km, l->prb_var, b, word, "prb", why))
		return false;
	uint64_t prb = kmem_word(km, b);
	const struct { uint64_t off; unsigned size; uint64_t *out; const char *what; } fields[] = {
		{ l->desc_ring + l->count_bits, 4, &count_bits, "prb_desc_ring.count_bits" },
		{ l->desc_ring + l->descs, word, &s->descs, "prb_desc_ring.descs" },
		{ l->desc_ring + l->infos, word, &s->infos, "prb_desc_ring.infos" },
		{ l->desc_ring + l->head_id, word, &s->head_id, "prb_desc_ring.head_id" },
		{ l->desc_ring + l->tail_id, word, &s->tail_id, "prb_desc_ring.tail_id" },
		{ l->text_data_ring + l->size_bits, 4, &size_bits, "prb_data_ring.size_bits" },
		{ l->text_data_ring + l->data, word, &s->text_data, "prb_data_ring.data" },
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (!read_kernel(km, prb + fields[i].off, b, fields[i].size, fields[i].what, why))
			return false;
		*fields[i].out = fields[i].size == 4 ? get32(km->m->mem_endian, b) : get64(km->m->mem_endian, b);
	}
	if (count_bits > MAX_DESC_RING_BITS || size_bits > MAX_TEXT_RING_BITS) {
		snprintf(why->buf, why->len, "printk ringbuffer sizes out of range: count_bits %" PRIu64
			 ", size_bits %" PRIu64, count_bits, size_bits);
		return false;
	}
	s->count = 1ull << count_bits;
	s->text_size = 1ull << size_bits;
	s->head_id &= s->id_mask;
	s->tail_id &= s->id_mask;
	/* the ring holds count descriptors, so head is less than count ahead */
	if (((s->head_id - s->tail_id) & s->id_mask) >= s->count) {
		snprintf(why->buf, why->len, "printk ringbuffer head id %#" PRIx64 " and tail id %#" PRIx64
			 " are more than %" PRIu64 " apart", s->head_id, s->tail_id, s->count);
		return false;
	}
	return true;
}

/* One descriptor, as crash's dump_record() does: skip records that are not
 * committed, print an empty line for a data-less one. */
static bool prb_record(struct kmem *km, const struct prb_layout *l, const struct prb_state *s,
		       uint64_t id, struct strbuf *sb, uint8_t *text, struct why *why)
{
	uint8_t desc[MAX_RECORD_STRUCT], info[MAX_RECORD_STRUCT];
	uint64_t slot = id % s->count;

	if (!read_kernel(km, s->descs + slot * l->desc_size, desc, (size_t)l->desc_size, "prb_desc", why) ||
	    !read_kernel(km, s->infos + slot * l->info_size, info, (size_t)l->info_size, "printk_info", why))
		return false;
	uint64_t state_var = kmem_word(km, desc + l->state_var);
	unsigned state = (unsigned)(state_var >> DESC_FLAGS_SHIFT(s->word));
	if ((state_var & s->id_mask) != id || (state != DESC_COMMITTED && state != DESC_FINALIZED))
		return true;
	uint64_t begin = kmem_word(km, desc + l->text_blk_lpos + l->lpos_begin) % s->text_size;
	uint64_t next = kmem_word(km, desc + l->text_blk_lpos + l->lpos_next) % s->text_size;
	if (begin == next) {
		sb_append(sb, "\n", 1);
		return true;
	}
	if (begin > next)               /* a block that wraps starts at 0 */
		begin = 0;
	begin += s->word;               /* the block starts with its descriptor id */
	uint64_t text_len = get16(km->m->mem_endian, info + l->info_text_len);
	if (begin <= next && next - begin < text_len)
		text_len = next - begin;        /* truncated record */
	if (text_len > CRASH_MAX_RECORD_TEXT)
		text_len = CRASH_MAX_RECORD_TEXT;
	if (begin >= s->text_size)
		text_len = 0;
	else if (text_len > s->text_size - begin)
		text_len = s->text_size - begin;
	if (!read_kernel(km, s->text_data + begin, text, (size_t)text_len, "log text", why))
		return false;
	print_record(sb, get64(km->m->mem_endian, info + l->info_ts_nsec), text, (size_t)text_len);
	return true;
}

static enum dumpfs_status dmesg_prb(struct kmem *km, struct strbuf *sb, struct why *why)
{
	struct prb_layout l;
	struct prb_state s;
	uint8_t text[CRASH_MAX_RECORD_TEXT];

	if (!prb_layout_get(km->m, &l, why) || !prb_state_read(km, &l, &s, why))
		return DUMPFS_ERR_CORRUPT;
	uint64_t records = ((s.head_id - s.tail_id) & s.id_mask) + 1;
	for (uint64_t i = 0, id = s.tail_id; i < records; i++, id = (id + 1) & s.id_mask) {
		if (!prb_record(km, &l, &s, id, sb, text, why))
			return DUMPFS_ERR_CORRUPT;
		if (output_too_big(sb, why))
			return DUMPFS_ERR_CORRUPT;
	}
	snprintf(why->buf, why->len, "printk ringbuffer, %" PRIu64 " descriptors from id %" PRIu64
		 " to %" PRIu64 ", %zu bytes", records, s.tail_id, s.head_id, sb->len);
	return DUMPFS_OK;
}

/* ---- variable-length records in log_buf (3.5 - 5.9) -------------------- */

struct logbuf_layout {
	uint64_t log_buf, log_buf_len, first_idx, next_idx;    /* symbols */
	uint64_t rec_size, ts_nsec, len, text_len;
};

static bool logbuf_layout_get(const struct machine *m, struct logbuf_layout *l, struct why *why)
{
	/* struct printk_log was struct log before 3.11 */
	char key[64], v[16];
	const char *rec = vmcoreinfo_get(m->notes, "SIZE(printk_log)", v, sizeof(v)) ? "printk_log" : "log";
	if (!vmci_value(m, "SYMBOL(log_buf)", 16, &l->log_buf, why) ||
	    !vmci_value(m, "SYMBOL(log_buf_len)", 16, &l->log_buf_len, why) ||
	    !vmci_value(m, "SYMBOL(log_first_idx)", 16, &l->first_idx, why) ||
	    !vmci_value(m, "SYMBOL(log_next_idx)", 16, &l->next_idx, why))
		return false;
	snprintf(key, sizeof(key), "SIZE(%s)", rec);
	if (!vmci_value(m, key, 10, &l->rec_size, why))
		return false;
	snprintf(key, sizeof(key), "OFFSET(%s.ts_nsec)", rec);
	if (!vmci_value(m, key, 10, &l->ts_nsec, why))
		return false;
	snprintf(key, sizeof(key), "OFFSET(%s.len)", rec);
	if (!vmci_value(m, key, 10, &l->len, why))
		return false;
	snprintf(key, sizeof(key), "OFFSET(%s.text_len)", rec);
	if (!vmci_value(m, key, 10, &l->text_len, why))
		return false;
	if (l->rec_size == 0 || l->rec_size > MAX_RECORD_STRUCT || l->ts_nsec + 8 > l->rec_size ||
	    l->len + 2 > l->rec_size || l->text_len + 2 > l->rec_size) {
		snprintf(why->buf, why->len, "VMCOREINFO %s offsets do not fit its size", rec);
		return false;
	}
	return true;
}

/* The walk itself; @text holds one record's text (a u16 length). */
static enum dumpfs_status logbuf_walk(struct kmem *km, const struct logbuf_layout *l,
				      struct strbuf *sb, uint8_t *text, struct why *why)
{
	uint8_t b[8], hdr[MAX_RECORD_STRUCT];

	if (!read_kernel(km, l->log_buf, b, machine_word_size(km->m), "log_buf", why))
		return DUMPFS_ERR_CORRUPT;
	uint64_t buf = kmem_word(km, b);
	if (!read_kernel(km, l->log_buf_len, b, 4, "log_buf_len", why))
		return DUMPFS_ERR_CORRUPT;
	uint64_t size = get32(km->m->mem_endian, b);
	if (!read_kernel(km, l->first_idx, b, 4, "log_first_idx", why))
		return DUMPFS_ERR_CORRUPT;
	uint64_t idx = get32(km->m->mem_endian, b);
	if (!read_kernel(km, l->next_idx, b, 4, "log_next_idx", why))
		return DUMPFS_ERR_CORRUPT;
	uint64_t next_idx = get32(km->m->mem_endian, b);
	if (size > (1ull << MAX_TEXT_RING_BITS) || idx >= size || next_idx >= size) {
		snprintf(why->buf, why->len, "log_buf indexes out of range: len %" PRIu64 ", first %" PRIu64
			 ", next %" PRIu64, size, idx, next_idx);
		return DUMPFS_ERR_CORRUPT;
	}
	/* every record takes at least rec_size bytes, so a walk that goes
	 * on longer than the buffer holds records is going round in circles */
	uint64_t records = 0, max_records = size / l->rec_size + 1;
	while (idx != next_idx) {
		if (++records > max_records || idx + l->rec_size > size) {
			snprintf(why->buf, why->len, "log_buf records do not lead from log_first_idx to log_next_idx");
			return DUMPFS_ERR_CORRUPT;
		}
		if (!read_kernel(km, buf + idx, hdr, (size_t)l->rec_size, "printk_log", why))
			return DUMPFS_ERR_CORRUPT;
		uint64_t len = get16(km->m->mem_endian, hdr + l->len);
		if (len == 0) {         /* end-of-buffer marker: wrap to the start */
			if (!read_kernel(km, buf, hdr, (size_t)l->rec_size, "printk_log", why))
				return DUMPFS_ERR_CORRUPT;
			idx = 0;
			len = get16(km->m->mem_endian, hdr + l->len);
			if (len == 0) {
				snprintf(why->buf, why->len, "log_buf record at 0 has length 0");
				return DUMPFS_ERR_CORRUPT;
			}
		}
		uint64_t text_len = get16(km->m->mem_endian, hdr + l->text_len);
		if (idx + l->rec_size + text_len > size)
			text_len = size - idx - l->rec_size;
		if (!read_kernel(km, buf + idx + l->rec_size, text, (size_t)text_len, "log text", why))
			return DUMPFS_ERR_CORRUPT;
		print_record(sb, get64(km->m->mem_endian, hdr + l->ts_nsec), text, (size_t)text_len);
		if (output_too_big(sb, why))
			return DUMPFS_ERR_CORRUPT;
		idx += len;
		if (idx >= size)
			idx = 0;
	}
	snprintf(why->buf, why->len, "log_buf, %" PRIu64 " records, %zu bytes", records, sb->len);
	return DUMPFS_OK;
}

static enum dumpfs_status dmesg_logbuf(struct kmem *km, struct strbuf *sb, struct why *why)
{
	struct logbuf_layout l;

	if (!logbuf_layout_get(km->m, &l, why))
		return DUMPFS_ERR_UNSUPPORTED;
	uint8_t *text = malloc(UINT16_MAX);     /* text_len is a u16 */
	if (!text) {
		snprintf(why->buf, why->len, "out of memory");
		return DUMPFS_ERR_NOMEM;
	}
	enum dumpfs_status st = logbuf_walk(km, &l, sb, text, why);
	free(text);
	return st;
}

enum dumpfs_status dmesg_render(const struct machine *m, struct strbuf *sb, char *whybuf, size_t whylen)
{
	struct why why = { whybuf, whylen };
	struct kmem km;
	char v[8];
	enum dumpfs_status st;

	if (!m->notes->vmcoreinfo) {
		snprintf(whybuf, whylen, "no VMCOREINFO");
		return DUMPFS_ERR_UNSUPPORTED;
	}
	st = kmem_init(&km, m, whybuf, whylen);
	if (st != DUMPFS_OK)
		return st;
	if (vmcoreinfo_get(m->notes, "SYMBOL(prb)", v, sizeof(v)))
		st = dmesg_prb(&km, sb, &why);
	else
		st = dmesg_logbuf(&km, sb, &why);
	if (st == DUMPFS_OK && sb->failed) {
		snprintf(whybuf, whylen, "out of memory");
		return DUMPFS_ERR_NOMEM;
	}
	return st;
}
