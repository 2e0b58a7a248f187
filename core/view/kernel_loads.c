/*
 * kernel_loads.c - the PT_LOADs of /vmcore.elf for what the kernel's page
 * tables map outside the linear map (vmalloc: the kernel stacks, modules;
 * vmemmap), on architectures whose readers do not walk page tables
 * themselves (arch_ops.elf_maps_kernel_pages).  Each is an alias: its file
 * bytes are those of the RAM PT_LOAD that holds its physical pages, so the
 * file grows by program headers only.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "view/view.h"

/* More than any kernel's vmalloc area needs at 4 KiB a piece: beyond it
 * the tables are more likely damaged than real. */
#define MAX_ALIASES 65536

struct collect {
	const struct machine *m;
	const struct format *f;
	struct elf_alias *list;
	size_t count, cap;
	bool full;
};

/* The first RAM run that ends after @paddr; f->nram if none. */
static size_t paddr_run(const struct format *f, uint64_t paddr)
{
	uint64_t pfn = paddr >> f->page_shift;
	size_t lo = 0, hi = f->nram;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->ram[mid].start + f->ram[mid].count <= pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool add(struct collect *c, uint64_t vaddr, uint64_t paddr, uint64_t len, size_t run)
{
	struct elf_alias *last = c->count ? &c->list[c->count - 1] : NULL;
	if (last && last->vaddr + last->len == vaddr && last->paddr + last->len == paddr &&
	    last->run == run) {
		last->len += len;
		return true;
	}
	if (c->count == MAX_ALIASES) {
		c->full = true;
		return false;
	}
	if (c->count == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 256;
		struct elf_alias *l = realloc(c->list, cap * sizeof(*l));
		if (!l)
			return false;
		c->list = l;
		c->cap = cap;
	}
	c->list[c->count++] = (struct elf_alias){ vaddr, paddr, len, run };
	return true;
}

/* A leaf of the tables: the parts of it in RAM runs, unless it is the
 * linear map's own mapping (the RAM PT_LOADs have it). */
static bool on_leaf(void *arg, uint64_t vaddr, uint64_t paddr, uint64_t len)
{
	struct collect *c = arg;
	const struct format *f = c->f;
	const unsigned shift = f->page_shift;
	uint64_t linear;
	if (c->m->arch->ram_vaddr && c->m->arch->ram_vaddr(c->m, paddr, len, &linear) &&
	    linear == vaddr)
		return true;
	for (uint64_t at = paddr; at - paddr < len;) {
		size_t r = paddr_run(f, at);
		if (r == f->nram)
			return true;    /* the rest is past the last RAM run */
		uint64_t start = f->ram[r].start << shift, end = (f->ram[r].start + f->ram[r].count) << shift;
		if (start >= paddr + len)
			return true;
		uint64_t from = at > start ? at : start;
		uint64_t to = end < paddr + len ? end : paddr + len;
		if (!add(c, vaddr + (from - paddr), from, to - from, r))
			return false;
		at = to;
	}
	return true;
}

enum dumpfs_status kernel_loads(struct view *v, struct elf_alias **out, size_t *count)
{
	const struct machine *m = v->in.machine;
	struct collect c = { .m = m, .f = v->in.fmt };
	struct kernel_walk w = { .lo = 0, .hi = UINT64_MAX, .fn = on_leaf, .arg = &c };

	*out = NULL;
	*count = 0;
	if (!m->arch->elf_maps_kernel_pages || !m->arch->kernel_pages)
		return DUMPFS_OK;
	if (m->arch->kernel_pages(m, &w) != DUMPFS_OK) {
		snprintf(v->kernel_loads_status, sizeof(v->kernel_loads_status), "none (%s)", w.why);
		free(c.list);
		return DUMPFS_OK;
	}
	if (w.stopped && !c.full) {
		free(c.list);
		return DUMPFS_ERR_NOMEM;
	}
	snprintf(v->kernel_loads_status, sizeof(v->kernel_loads_status),
		 "%zu PT_LOADs of what the kernel's page tables map outside the linear map (%u tables read)%s",
		 c.count, w.tables,
		 c.full ? "; stopped at the limit, the tables look damaged" :
		 w.truncated ? "; stopped at the limit of tables read, the tables look damaged" : "");
	*out = c.list;
	*count = c.count;
	return DUMPFS_OK;
}
