/*
 * xen.h - what Xen's dump formats share: the "Xen" notes (xen_notes.c) and
 * the vCPU contexts of a domain (xen_vcpu.c).  The formats themselves are
 * xc_core.c (`xl dump-core`) and, for a Xen host's kdump, elf.c with these
 * notes decoded.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_FORMAT_XEN_H
#define DUMPFS_FORMAT_XEN_H

#include "format/format.h"

/* Note types of owner "Xen" (xen/include/public/elfnote.h). */
#define XEN_ELFNOTE_CRASH_INFO 0x1000001
#define XEN_ELFNOTE_CRASH_REGS 0x1000002
#define XEN_ELFNOTE_DUMPCORE_NONE 0x2000000
#define XEN_ELFNOTE_DUMPCORE_HEADER 0x2000001
#define XEN_ELFNOTE_DUMPCORE_XEN_VERSION 0x2000002
#define XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION 0x2000003

#define XC_CORE_MAGIC 0xF00FEBEDu       /* PV */
#define XC_CORE_MAGIC_HVM 0xF00FEBEEu   /* HVM and PVH */

/* arch_shared_info inside x86_64's shared_info page: after 32 vcpu_info
 * of 64 bytes, the event channel bitmaps (2 x 512) and the wallclock (16). */
#define XEN_SHINFO_ARCH 3088

/* What the notes of an `xl dump-core` file say. */
struct xen_dump_info {
	bool hvm;                       /* magic XC_CORE_MAGIC_HVM */
	uint64_t nr_vcpus, nr_pages, page_size;
	bool has_version;
	uint64_t major, minor;
	char extra[17], compiler[65], compile_by[17], compile_domain[33], compile_date[33];
	char capabilities[1025], changeset[65];
	uint64_t virt_start;
	bool guest_32bit;               /* the version note's 32-bit layout */
	bool has_format_version;
	uint64_t format_version;
};

/* xen_notes.c */
/* Decode @ns's dump-core notes into @info; @at: where they are, for
 * messages.  The header note is required. */
enum dumpfs_status xen_dump_notes(struct format *f, const struct note_set *ns, struct xen_dump_info *info,
				  uint64_t at);
void xen_dump_describe(const struct xen_dump_info *info, struct strbuf *sb);
/* A name for a note of owner "Xen", or NULL. */
const char *xen_note_type_name(uint32_t type);

/* xen_vcpu.c: struct vcpu_guest_context per vCPU (x86_64 layout) */
struct xen_vcpus {
	uint8_t *contexts;              /* count x size bytes, as in the file */
	size_t count, size;
	const char *why_not;            /* why they are not decoded, or NULL */
	size_t online;
};
/* Read @len bytes of contexts at @off, keep them, and append an NT_PRSTATUS
 * per vCPU made from each to f->notes (what /cpus and /vmcore.elf show). */
enum dumpfs_status xen_vcpus_load(struct format *f, struct xen_vcpus *v, const struct xen_dump_info *info,
				  uint64_t off, uint64_t len);
void xen_vcpus_describe(const struct xen_vcpus *v, struct strbuf *sb);
bool xen_vcpus_blob(const struct xen_vcpus *v, size_t cpu, const char **name, const uint8_t **data, size_t *len);
void xen_vcpus_text(const struct xen_vcpus *v, size_t cpu, struct strbuf *sb);
void xen_vcpus_free(struct xen_vcpus *v);

/* xen_host.c: the notes of a Xen host's kdump */
struct xen_host {
	uint64_t major, minor;
	uint64_t strings[5];            /* machine addresses: extra version,
					 * changeset, compiler, compile date, time */
	uint64_t tainted, phys_start, dom0_frame_list_list;
	size_t ncpus;                   /* XEN_ELFNOTE_CRASH_REGS notes */
	bool vmcoreinfo_xen;
};
/* Whether @f's notes have Xen's XEN_ELFNOTE_CRASH_INFO (x86_64 layout). */
bool xen_host_find(const struct format *f, struct xen_host *h);
void xen_host_describe(struct format *f, const struct xen_host *h, struct strbuf *sb);
/* Physical CPU @cpu's XEN_ELFNOTE_CRASH_REGS, raw for /cpus/N/xen_crash_regs
 * and decoded for /cpus/N/regs. */
bool xen_host_cpu_blob(const struct format *f, size_t cpu, const char **name, const uint8_t **data, size_t *len);
void xen_host_cpu_text(const struct format *f, size_t cpu, struct strbuf *sb);

/* xen_dom0.c: dom0's pseudo-physical memory in @g, read from @host's
 * machine memory through the p2m tree whose top is @frame_list_list
 * (probe.c's format_open_xen_dom0() sets up the rest of @g). */
enum dumpfs_status xen_dom0_open(struct format *g, struct format *host, uint64_t frame_list_list);

/* xen_m2p.c: a PV guest's machine frame -> pfn, as sorted runs */
struct m2p {
	struct machine_run *runs;       /* sorted by mfn once m2p_sort() ran */
	struct machine_run *by_pfn;     /* the same, sorted by pfn */
	size_t count, cap;
};
/* Add @mfn -> @pfn, extending the last run when it continues it. */
enum dumpfs_status m2p_add(struct m2p *m, uint64_t mfn, uint64_t pfn);
/* Once all are added: sorted by frame for m2p_lookup(), and a copy by pfn
 * (by_pfn); DUMPFS_ERR_NOMEM if that copy cannot be made. */
enum dumpfs_status m2p_sort(struct m2p *m);
bool m2p_lookup(const struct m2p *m, uint64_t mfn, uint64_t *pfn);
void m2p_free(struct m2p *m);

/* xen_save.c: Xen's save images and migration streams, refused with a
 * message that says what they are. */
enum dumpfs_status xen_save_probe(struct format *f, bool *matched);

/* xc_core.c: probed before elf.c (an ELF64 core with sections, no
 * program headers, and a .xen_pages section). */
enum dumpfs_status xc_core_probe(struct format *f, bool *matched);

#endif /* DUMPFS_FORMAT_XEN_H */
