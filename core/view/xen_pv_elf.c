/*
 * xen_pv_elf.c - /vmcore.elf of a Xen PV guest (a domU's `xl dump-core`,
 * dom0 in a Xen host's kdump).  A PV kernel's page tables hold machine
 * frames, so readers of its dumps work in machine addresses: crash opens
 * dom0 in a Xen host's kdump, whose PT_LOADs are machine memory, by the
 * XEN_ELFNOTE_CRASH_INFO note that names the top of the guest's p2m tree,
 * and follows the p2m from there; a reader that walks the page tables as
 * they are (drgn) then finds each table at the machine address its entry
 * names.  So this ELF is that: a PT_LOAD per run of pfns on consecutive
 * machine frames, p_paddr the machine address, p_vaddr the direct-map
 * address of its pfns; the kernel image as PT_LOADs of its own (it spans
 * several runs); the notes, and a CRASH_INFO with the guest's p2m.
 * /mem stays the pseudo-physical memory.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "view/view.h"

#define XEN_ELFNOTE_CRASH_INFO 0x1000001
#define CRASH_INFO_WORDS 10     /* crash_xen_info_t of x86_64 */

/* The kernel image's mapping, split where its pfns change machine run. */
static enum dumpfs_status text_aliases(const struct machine *m, unsigned shift, struct xen_pv_elf *x)
{
	uint64_t tv, tp, tl;
	if (!m->arch->kernel_text_load || !m->arch->kernel_text_load(m, &tv, &tp, &tl))
		return DUMPFS_OK;
	x->aliases = calloc(x->nruns, sizeof(*x->aliases));
	if (!x->aliases)
		return DUMPFS_ERR_NOMEM;
	for (size_t i = 0; i < x->nruns; i++) {
		uint64_t a = x->runs[i].start << shift, b = (x->runs[i].start + x->runs[i].count) << shift;
		a = a > tp ? a : tp;
		b = b < tp + tl ? b : tp + tl;
		if (a < b)
			x->aliases[x->naliases++] = (struct elf_alias){ .vaddr = tv + (a - tp), .paddr = a,
									.len = b - a, .run = i };
	}
	return DUMPFS_OK;
}

static enum dumpfs_status crash_info_note(const struct note_set *from, struct endian e,
					  const struct xen_pv_layout *l, struct note_set *out)
{
	uint8_t *blob = malloc(from->size ? from->size : 1);
	if (!blob)
		return DUMPFS_ERR_NOMEM;
	if (from->size)         /* a guest without notes has no blob */
		memcpy(blob, from->blob, from->size);
	enum dumpfs_status st = notes_parse(out, blob, from->size, e, NULL, 0);
	uint8_t info[CRASH_INFO_WORDS * 8] = {0};
	put64(e, info, l->xen_major);
	put64(e, info + 8, l->xen_minor);
	put64(e, info + 8 * (CRASH_INFO_WORDS - 1), l->frame_list_list);
	if (st == DUMPFS_OK)
		st = notes_append(out, e, "Xen", XEN_ELFNOTE_CRASH_INFO, info, sizeof(info));
	return st;
}

enum dumpfs_status xen_pv_elf_layout(const struct view *v, struct xen_pv_elf *x)
{
	struct format *f = v->in.fmt;
	const struct machine *m = v->in.machine;
	struct xen_pv_layout l;
	memset(x, 0, sizeof(*x));
	if (!f->ops->xen_pv || !f->ops->xen_pv(f, &l) || !l.nruns)
		return DUMPFS_OK;
	unsigned shift = f->page_shift;
	x->runs = calloc(l.nruns, sizeof(*x->runs));
	x->paddr = calloc(l.nruns, sizeof(*x->paddr));
	x->vaddr = calloc(l.nruns, sizeof(*x->vaddr));
	if (!x->runs || !x->paddr || !x->vaddr)
		return DUMPFS_ERR_NOMEM;
	/* Runs overlap only where a damaged table names a pfn twice: the
	 * first run keeps it. */
	uint64_t end = 0;
	for (size_t i = 0; i < l.nruns; i++) {
		struct machine_run r = l.runs[i];
		if (r.pfn + r.count <= end)
			continue;
		if (r.pfn < end) {
			r.mfn += end - r.pfn;
			r.count -= end - r.pfn;
			r.pfn = end;
		}
		size_t n = x->nruns++;
		x->runs[n] = (struct page_run){ .start = r.pfn, .count = r.count };
		x->paddr[n] = r.mfn << shift;
		if (!m->arch->ram_vaddr || !m->arch->ram_vaddr(m, r.pfn << shift, r.count << shift, &x->vaddr[n]))
			x->vaddr[n] = 0;
		end = r.pfn + r.count;
	}
	enum dumpfs_status st = text_aliases(m, shift, x);
	if (st == DUMPFS_OK)
		st = crash_info_note(&f->notes, f->endian, &l, &x->notes);
	x->active = st == DUMPFS_OK;
	return st;
}

void xen_pv_elf_free(struct xen_pv_elf *x)
{
	free(x->runs);
	free(x->paddr);
	free(x->vaddr);
	free(x->aliases);
	notes_free(&x->notes);
	memset(x, 0, sizeof(*x));
}
