/*
 * btf.c - the kernel's BTF type information, found in the dump.
 *
 * A kernel built with CONFIG_DEBUG_INFO_BTF carries its types in the .BTF
 * section of its image (between __start_BTF and __stop_BTF; before 5.x as
 * _binary__btf_vmlinux_bin_start/_end), read-only data that no dump level
 * filters out.  VMCOREINFO names neither symbol, and kallsyms names them
 * only where it lists data symbols, so the section is found by what it
 * is: the image is searched from _stext for a BTF header (magic 0xeB9F in
 * the kernel's byte order, version 1, a 24-byte header, types first and
 * strings right after, as pahole writes them), and the blob it describes
 * must then parse with libbpf, the field's own BTF parser, and hold
 * struct task_struct, so that a stray match in code or data cannot pass
 * for it.
 *
 * Bounded: the search reads at most BTF_SCAN_MAX bytes of the image, a
 * blob is at most BTF_MAX_SIZE (a 6.1 vmlinux's is about 5 MiB), and the
 * candidates it reads whole at most BTF_CANDIDATE_BYTES together.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kernel/kernel.h"

#define BTF_HDR_LEN 24
#define BTF_SCAN_MAX (128ull << 20)
#define BTF_MAX_SIZE (64u << 20)
/* All the candidate blobs a search reads, decoys included. */
#define BTF_CANDIDATE_BYTES (256ull << 20)
#define SCAN_PAGE 4096u

/* The header's first 8 bytes in @e: magic, version 1, flags 0, hdr_len. */
static void header_pattern(struct endian e, uint8_t pat[8])
{
	put16(e, pat, BTF_MAGIC);     /* <linux/btf.h>, through libbpf's btf.h */
	pat[2] = 1;
	pat[3] = 0;
	put32(e, pat + 4, BTF_HDR_LEN);
}

/* The blob size the header at @h gives, 0 if it is not one pahole writes. */
static uint64_t header_blob_size(struct endian e, const uint8_t *h)
{
	uint32_t type_off = get32(e, h + 8), type_len = get32(e, h + 12);
	uint32_t str_off = get32(e, h + 16), str_len = get32(e, h + 20);
	uint64_t size = (uint64_t)BTF_HDR_LEN + str_off + str_len;
	if (type_off != 0 || str_off != type_len || !type_len || !str_len || size > BTF_MAX_SIZE)
		return 0;
	return size;
}

/* Whether @blob is a whole kernel's BTF. */
static bool blob_is_vmlinux_btf(const uint8_t *blob, uint64_t size)
{
	struct btf *btf = btf__new(blob, (uint32_t)size);
	if (!btf)
		return false;
	bool ok = btf__find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT) > 0;
	btf__free(btf);
	return ok;
}

/* Read the blob the header at @vaddr describes into @sb, if it is one. */
static bool take_blob(struct kmem *km, uint64_t vaddr, const uint8_t *h, struct strbuf *sb,
		      uint64_t *budget)
{
	uint64_t size = header_blob_size(km->m->mem_endian, h);
	if (!size || size > *budget)
		return false;
	*budget -= size;        /* decoys claiming 64 MiB each cost bounded reads */
	uint8_t *blob = malloc(size);
	bool ok = blob && kmem_read(km, vaddr, blob, size) && blob_is_vmlinux_btf(blob, size);
	if (ok)
		sb_append(sb, blob, size);
	free(blob);
	return ok;
}

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

bool btf_searchable(const struct machine *m)
{
	uint64_t stext;
	return m->btf_path || m->vmlinux_path || (m->arch->vtop_init && m->arch->vtop &&
			       vmcoreinfo_u64(m->notes, "SYMBOL(_stext)", 16, &stext));
}

/* -o vmlinux=FILE: its .BTF section, if it is a whole kernel's BTF. */
static enum dumpfs_status btf_from_vmlinux(const char *path, struct strbuf *sb, char *why, size_t whylen)
{
	enum dumpfs_status st = vmlinux_btf(path, sb, why, whylen);
	if (st != DUMPFS_OK)
		return st;
	libbpf_set_print(silent);
	if (!blob_is_vmlinux_btf((const uint8_t *)sb->buf, sb->len)) {
		snprintf(why, whylen, "vmlinux %s: its .BTF section is not a kernel's BTF "
			 "(libbpf refuses it, or no task_struct)", path);
		return DUMPFS_ERR_CORRUPT;
	}
	return DUMPFS_OK;
}

/* -o btf=FILE: the file, if it is a whole kernel's BTF. */
static enum dumpfs_status btf_from_file(const char *path, struct strbuf *sb, char *why, size_t whylen)
{
	FILE *f = fopen(path, "rb");
	uint8_t *blob = malloc(BTF_MAX_SIZE);
	size_t len = f && blob ? fread(blob, 1, BTF_MAX_SIZE, f) : 0;
	bool whole = f && feof(f);
	if (f)
		fclose(f);
	libbpf_set_print(silent);
	enum dumpfs_status st = DUMPFS_OK;
	if (!blob)
		st = DUMPFS_ERR_NOMEM;
	else if (!whole || !len || !blob_is_vmlinux_btf(blob, len)) {
		snprintf(why, whylen, "BTF file %s: %s", path, !f ? "cannot be opened" : !whole ?
			 "larger than 64 MiB" : "not a kernel's BTF (libbpf refuses it, or no task_struct)");
		st = DUMPFS_ERR_UNSUPPORTED;
	} else {
		sb_append(sb, blob, len);
		snprintf(why, whylen, "BTF from %s (%zu bytes)", path, len);
	}
	free(blob);
	return sb->failed ? DUMPFS_ERR_NOMEM : st;
}

enum dumpfs_status btf_render(const struct machine *m, struct strbuf *sb, char *why, size_t whylen)
{
	return btf_render_from(m, 0, sb, why, whylen);
}

enum dumpfs_status btf_render_from(const struct machine *m, uint64_t start_btf, struct strbuf *sb,
				   char *why, size_t whylen)
{
	struct kmem km;
	uint64_t stext;
	uint8_t pat[8], buf[BTF_HDR_LEN + SCAN_PAGE];
	uint64_t budget = BTF_CANDIDATE_BYTES;
	if (m->btf_path)
		return btf_from_file(m->btf_path, sb, why, whylen);
	if (m->vmlinux_path) {
		/* a vmlinux without .BTF still gives the symbols: search the image */
		enum dumpfs_status st = btf_from_vmlinux(m->vmlinux_path, sb, why, whylen);
		if (st != DUMPFS_ERR_UNSUPPORTED)
			return st;
		sb->len = 0;
	}
	enum dumpfs_status st = kmem_init(&km, m, why, whylen);
	if (st != DUMPFS_OK)
		return st;
	/* libbpf explains every blob it refuses on stderr; a refusal here
	 * only means "not this one". */
	libbpf_set_print(silent);
	header_pattern(m->mem_endian, pat);
	if (start_btf && kmem_read(&km, start_btf, buf, BTF_HDR_LEN) &&
	    !memcmp(buf, pat, sizeof(pat)) && take_blob(&km, start_btf, buf, sb, &budget)) {
		snprintf(why, whylen, "BTF at __start_BTF %#" PRIx64 " (%zu bytes)", start_btf, sb->len);
		return DUMPFS_OK;
	}
	if (sb->failed)
		return DUMPFS_ERR_NOMEM;
	if (!vmcoreinfo_u64(m->notes, "SYMBOL(_stext)", 16, &stext)) {
		snprintf(why, whylen, "VMCOREINFO has no SYMBOL(_stext) to search the image from");
		return DUMPFS_ERR_UNSUPPORTED;
	}
	uint64_t start = stext & ~(uint64_t)(SCAN_PAGE - 1), pages_read = 0;
	size_t carry = 0;       /* bytes of the previous page kept in front */
	for (uint64_t at = start; at - start < BTF_SCAN_MAX && at >= start; at += SCAN_PAGE) {
		if (!kmem_read(&km, at, buf + carry, SCAN_PAGE)) {
			carry = 0;
			continue;
		}
		pages_read++;
		size_t len = carry + SCAN_PAGE;
		for (size_t i = 0; i + BTF_HDR_LEN <= len; i++) {
			const uint8_t *p = memchr(buf + i, pat[0], len - BTF_HDR_LEN + 1 - i);
			if (!p)
				break;
			i = (size_t)(p - buf);
			uint64_t vaddr = at - carry + i;
			if (!memcmp(p, pat, sizeof(pat)) && take_blob(&km, vaddr, p, sb, &budget)) {
				snprintf(why, whylen, "BTF in the kernel image at %#" PRIx64 " (%zu bytes)",
					 vaddr, sb->len);
				return DUMPFS_OK;
			}
			if (sb->failed)
				return DUMPFS_ERR_NOMEM;
		}
		carry = BTF_HDR_LEN - 1;
		memmove(buf, buf + len - carry, carry);
	}
	if (!pages_read)
		snprintf(why, whylen, "the kernel image at _stext %#" PRIx64 " is not in the dump", stext);
	else
		snprintf(why, whylen, "no BTF in the %" PRIu64 " MiB of the kernel image from _stext "
			 "(a kernel without CONFIG_DEBUG_INFO_BTF)", (uint64_t)(BTF_SCAN_MAX >> 20));
	return DUMPFS_ERR_UNSUPPORTED;
}
