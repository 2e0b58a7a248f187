/*
 * xen_notes.c - the notes of owner "Xen" that `xl dump-core` writes
 * (tools/libs/guest/xg_core.h): the header (magic, vCPUs, pages, page
 * size), the hypervisor's version (struct of fixed-size strings from
 * public/version.h), the format version; and names for the note types a
 * Xen host's kdump carries.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "format/xen.h"

#define HEADER_SIZE 32                  /* magic, nr_vcpus, nr_pages, page_size */
/* xen_dumpcore_elfnote_xen_version_desc: major, minor, extra_version[16],
 * compile_info {compiler[64], compile_by[16], compile_domain[32],
 * compile_date[32]}, capabilities[1024], changeset[64], virt_start, pagesize */
#define V_EXTRA 16
#define V_COMPILER 32
#define V_COMPILE_BY 96
#define V_COMPILE_DOMAIN 112
#define V_COMPILE_DATE 144
#define V_CAPABILITIES 176
#define V_CHANGESET 1200
#define V_VIRT_START 1264
#define V_PAGESIZE 1272
#define VERSION_SIZE 1280

const char *xen_note_type_name(uint32_t type)
{
	switch (type) {
	case XEN_ELFNOTE_CRASH_INFO: return "XEN_ELFNOTE_CRASH_INFO";
	case XEN_ELFNOTE_CRASH_REGS: return "XEN_ELFNOTE_CRASH_REGS";
	case XEN_ELFNOTE_DUMPCORE_NONE: return "XEN_ELFNOTE_DUMPCORE_NONE";
	case XEN_ELFNOTE_DUMPCORE_HEADER: return "XEN_ELFNOTE_DUMPCORE_HEADER";
	case XEN_ELFNOTE_DUMPCORE_XEN_VERSION: return "XEN_ELFNOTE_DUMPCORE_XEN_VERSION";
	case XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION: return "XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION";
	default: return NULL;
	}
}

/* A fixed-size string field, printable characters only. */
static void text_field(char *out, size_t outlen, const uint8_t *p, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len && p[i] && n + 1 < outlen; i++)
		out[n++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[n] = '\0';
}

static void decode_version(const struct format *f, const uint8_t *d, uint32_t len, struct xen_dump_info *info)
{
	struct endian e = f->endian;
	if (len < V_PAGESIZE + 4)
		return;
	info->has_version = true;
	info->major = get64(e, d);
	info->minor = get64(e, d + 8);
	text_field(info->extra, sizeof(info->extra), d + V_EXTRA, 16);
	text_field(info->compiler, sizeof(info->compiler), d + V_COMPILER, 64);
	text_field(info->compile_by, sizeof(info->compile_by), d + V_COMPILE_BY, 16);
	text_field(info->compile_domain, sizeof(info->compile_domain), d + V_COMPILE_DOMAIN, 32);
	text_field(info->compile_date, sizeof(info->compile_date), d + V_COMPILE_DATE, 32);
	text_field(info->capabilities, sizeof(info->capabilities), d + V_CAPABILITIES, 1024);
	text_field(info->changeset, sizeof(info->changeset), d + V_CHANGESET, 64);
	/* For a 32-bit guest libxenguest moves pagesize 4 bytes down (the
	 * layout of the 32-bit struct); the field then no longer reads as the
	 * header's page size at its 64-bit place. */
	if (len >= VERSION_SIZE && get64(e, d + V_PAGESIZE) == info->page_size) {
		info->virt_start = get64(e, d + V_VIRT_START);
	} else if (get64(e, d + V_PAGESIZE - 4) == info->page_size) {
		info->guest_32bit = true;
		info->virt_start = get32(e, d + V_VIRT_START);
	}
}

enum dumpfs_status xen_dump_notes(struct format *f, const struct note_set *ns, struct xen_dump_info *info,
				  uint64_t at)
{
	const struct note *header = NULL, *version = NULL;
	for (size_t i = 0; i < ns->count; i++) {
		const struct note *n = &ns->list[i];
		if (strcmp(n->name, "Xen"))
			continue;
		if (n->type == XEN_ELFNOTE_DUMPCORE_HEADER && !header)
			header = n;
		else if (n->type == XEN_ELFNOTE_DUMPCORE_XEN_VERSION && !version)
			version = n;
		else if (n->type == XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION && n->descsz >= 8 && !info->has_format_version) {
			info->has_format_version = true;
			info->format_version = get64(f->endian, n->desc);
		}
	}
	const char *path = f->files[0].path;
	if (!header || header->descsz < HEADER_SIZE)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %" PRIu64 ": .note.Xen has no dump-core "
				 "header note (type %#x, %d bytes)", path, at, XEN_ELFNOTE_DUMPCORE_HEADER, HEADER_SIZE);
	uint64_t magic = get64(f->endian, header->desc);
	if (magic != XC_CORE_MAGIC && magic != XC_CORE_MAGIC_HVM)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %" PRIu64 ": dump-core header magic %#"
				 PRIx64 " (%#x for PV, %#x for HVM and PVH domains)", path, at, magic,
				 XC_CORE_MAGIC, XC_CORE_MAGIC_HVM);
	info->hvm = magic == XC_CORE_MAGIC_HVM;
	info->nr_vcpus = get64(f->endian, header->desc + 8);
	info->nr_pages = get64(f->endian, header->desc + 16);
	info->page_size = get64(f->endian, header->desc + 24);
	if (version)
		decode_version(f, version->desc, version->descsz, info);
	if (info->has_format_version && info->format_version >> 32)
		return diag_fail(f->diag, DUMPFS_ERR_UNSUPPORTED, "%s: offset %" PRIu64 ": Xen dump-core format "
				 "version %" PRIu64 ".%" PRIu64 " (this reader knows 0.1)", path, at,
				 info->format_version >> 32, info->format_version & 0xffffffff);
	return DUMPFS_OK;
}

void xen_dump_describe(const struct xen_dump_info *info, struct strbuf *sb)
{
	if (info->has_version) {
		sb_printf(sb, "xen_version: %" PRIu64 ".%" PRIu64 "%s\n", info->major, info->minor, info->extra);
		sb_printf(sb, "xen_capabilities: %s\n", info->capabilities);
		sb_printf(sb, "xen_changeset: %s\n", info->changeset);
		if (info->compiler[0])
			sb_printf(sb, "xen_compiled: %s by %s@%s on %s\n", info->compiler, info->compile_by,
				  info->compile_domain, info->compile_date);
		sb_printf(sb, "xen_virt_start: %#" PRIx64 "\n", info->virt_start);
	} else
		sb_printf(sb, "xen_version: unknown (no version note)\n");
	if (info->has_format_version)
		sb_printf(sb, "xen_dump_format: %" PRIu64 ".%" PRIu64 "\n", info->format_version >> 32,
			  info->format_version & 0xffffffff);
	sb_printf(sb, "xen_header: %" PRIu64 " vCPUs, %" PRIu64 " pages of %" PRIu64 " bytes%s\n", info->nr_vcpus,
		  info->nr_pages, info->page_size, info->guest_32bit ? ", a 32-bit guest" : "");
}
