/*
 * frames.c - the frames page-table entries name.  A Xen PV guest's tables
 * hold machine frames, which its format turns into pfns (the inverse of the
 * guest's p2m); every other machine's hold physical frames as they are.
 * Below the architectures, which call it from their walks.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "arch/arch.h"

bool machine_table_addr(const struct machine *m, uint64_t frame_addr, uint64_t *paddr)
{
	struct format *f = m->machine_frames;
	uint64_t pfn;
	if (!f) {
		*paddr = frame_addr;
		return true;
	}
	if (!f->ops->frame_to_pfn(f, frame_addr >> f->page_shift, &pfn))
		return false;
	*paddr = pfn << f->page_shift | (frame_addr & (f->page_size - 1));
	return true;
}
