/*
 * xen_host.c - the kdump of a Xen host: /proc/vmcore of the capture kernel
 * after Xen crashed holds machine memory and, per physical CPU, a "CORE"
 * NT_PRSTATUS (Xen's registers) and a "Xen" XEN_ELFNOTE_CRASH_REGS (its
 * control registers, crash_xen_core_t), once a XEN_ELFNOTE_CRASH_INFO
 * (crash_xen_info_t: the version, strings by machine address, where Xen
 * lies, dom0's p2m) and Xen's VMCOREINFO_XEN.  elf.c reads the file; this
 * decodes the notes for /header and /cpus/N/regs.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "format/xen.h"

/* crash_xen_info_t (xen/include/xen/elfcore.h), x86_64: unsigned longs */
enum { CI_MAJOR, CI_MINOR, CI_EXTRA, CI_CHANGESET, CI_COMPILER, CI_DATE, CI_TIME, CI_TAINTED,
       CI_PHYS_START, CI_FRAME_LIST_LIST, CI_WORDS };
#define CRASH_REGS_WORDS 4              /* crash_xen_core_t: cr0 cr2 cr3 cr4 */
#define MAX_STRING 80

static const struct note *nth_note(const struct note_set *ns, const char *name, uint32_t type, size_t n)
{
	for (size_t i = 0; i < ns->count; i++) {
		const struct note *x = &ns->list[i];
		if (x->type == type && !strcmp(x->name, name) && n-- == 0)
			return x;
	}
	return NULL;
}

bool xen_host_find(const struct format *f, struct xen_host *h)
{
	const struct note *n = nth_note(&f->notes, "Xen", XEN_ELFNOTE_CRASH_INFO, 0);
	memset(h, 0, sizeof(*h));
	if (!n || n->descsz < CI_WORDS * 8 || f->is_32bit)
		return false;
	h->major = get64(f->endian, n->desc + 8 * CI_MAJOR);
	h->minor = get64(f->endian, n->desc + 8 * CI_MINOR);
	for (int i = 0; i < 5; i++)
		h->strings[i] = get64(f->endian, n->desc + 8 * (CI_EXTRA + (size_t)i));
	h->tainted = get64(f->endian, n->desc + 8 * CI_TAINTED);
	h->phys_start = get64(f->endian, n->desc + 8 * CI_PHYS_START);
	h->dom0_frame_list_list = get64(f->endian, n->desc + 8 * CI_FRAME_LIST_LIST);
	while (nth_note(&f->notes, "Xen", XEN_ELFNOTE_CRASH_REGS, h->ncpus))
		h->ncpus++;
	h->vmcoreinfo_xen = nth_note(&f->notes, "VMCOREINFO_XEN", 0, 0) != NULL;
	return true;
}

/* A NUL-terminated string of at most MAX_STRING bytes at machine address
 * @addr, printable characters only; "?" if it is not in the dump. */
static void machine_string(struct format *f, uint64_t addr, char *out, size_t outlen)
{
	uint8_t *page = malloc(f->page_size);
	size_t n = 0;
	for (uint64_t a = addr; page && n + 1 < outlen && n < MAX_STRING;) {
		uint64_t pfn = a >> f->page_shift, in = a & (f->page_size - 1);
		if (f->ops->read_page(f, pfn, page) != DUMPFS_OK)
			break;
		for (; in < f->page_size && n + 1 < outlen && n < MAX_STRING; in++, a++) {
			if (!page[in])
				goto done;
			out[n++] = page[in] >= 0x20 && page[in] < 0x7f ? (char)page[in] : '?';
		}
	}
	if (!n)
		out[n++] = '?';
done:
	out[n] = '\0';
	free(page);
}

void xen_host_describe(struct format *f, const struct xen_host *h, struct strbuf *sb)
{
	static const char *const names[] = { "extra_version", "changeset", "compiler", "compile_date",
					     "compile_time" };
	char s[5][MAX_STRING + 1];
	for (int i = 0; i < 5; i++)
		machine_string(f, h->strings[i], s[i], sizeof(s[i]));
	sb_printf(sb, "xen_host: a Xen hypervisor's kdump (XEN_ELFNOTE_CRASH_INFO)\n");
	sb_printf(sb, "xen_version: %" PRIu64 ".%" PRIu64 "%s\n", h->major, h->minor, s[0]);
	for (int i = 1; i < 5; i++)
		sb_printf(sb, "xen_%s: %s (at %#" PRIx64 ")\n", names[i], s[i], h->strings[i]);
	sb_printf(sb, "xen_tainted: %#" PRIx64 "\nxen_phys_start: %#" PRIx64 "\n", h->tainted, h->phys_start);
	sb_printf(sb, "xen_dom0_pfn_to_mfn_frame_list_list: %#" PRIx64 "\n", h->dom0_frame_list_list);
	sb_printf(sb, "xen_crash_regs: %zu physical CPUs\nxen_vmcoreinfo: %s\n", h->ncpus,
		  h->vmcoreinfo_xen ? "yes (note VMCOREINFO_XEN)" : "no");
}

bool xen_host_cpu_blob(const struct format *f, size_t cpu, const char **name, const uint8_t **data, size_t *len)
{
	const struct note *n = nth_note(&f->notes, "Xen", XEN_ELFNOTE_CRASH_REGS, cpu);
	if (!n)
		return false;
	*name = "xen_crash_regs";
	*data = n->desc;
	*len = n->descsz;
	return true;
}

void xen_host_cpu_text(const struct format *f, size_t cpu, struct strbuf *sb)
{
	static const char *const names[CRASH_REGS_WORDS] = { "cr0", "cr2", "cr3", "cr4" };
	const struct note *n = nth_note(&f->notes, "Xen", XEN_ELFNOTE_CRASH_REGS, cpu);
	if (!n || n->descsz < CRASH_REGS_WORDS * 8)
		return;
	sb_printf(sb, "[Xen XEN_ELFNOTE_CRASH_REGS]\n");
	for (int i = 0; i < CRASH_REGS_WORDS; i++)
		sb_printf(sb, "%s: 0x%016" PRIx64 "\n", names[i], get64(f->endian, n->desc + 8 * (size_t)i));
}
