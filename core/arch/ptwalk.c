/*
 * ptwalk.c - what the page-table walkers of the architectures share: a
 * bounded read of one table, a translation of one address by a walk over
 * one page, and the user-space hooks (user_vtop, user_next) made of a walk
 * from a process's top table.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "arch/arch.h"

bool pt_read_table(const struct machine *m, struct kernel_walk *w, uint64_t paddr,
		   void *buf, size_t len)
{
	if (w->tables >= PT_WALK_MAX_TABLES) {
		w->truncated = true;
		return false;
	}
	w->tables++;
	return space_read(m->phys, buf, len, paddr) == (ssize_t)len;
}

bool pt_index_range(const struct kernel_walk *w, uint64_t base, unsigned shift, unsigned bits,
		    unsigned *first, unsigned *last)
{
	uint64_t span_last = shift + bits >= 64 ? UINT64_MAX
						: base + ((1ull << (shift + bits)) - 1);
	if (span_last < base)
		span_last = UINT64_MAX;
	if (w->hi < base || w->lo > span_last)
		return false;
	*first = w->lo > base ? (unsigned)((w->lo - base) >> shift) : 0;
	*last = w->hi < span_last ? (unsigned)((w->hi - base) >> shift) : (1u << bits) - 1;
	return true;
}

void pt_leaf(struct kernel_walk *w, uint64_t vaddr, uint64_t paddr, uint64_t len)
{
	if (!w->fn(w->arg, vaddr, paddr, len))
		w->stopped = true;
}

struct one_page {
	uint64_t vaddr, paddr;
	bool found;
};

static bool take_one(void *arg, uint64_t vaddr, uint64_t paddr, uint64_t len)
{
	struct one_page *o = arg;
	if (o->vaddr >= vaddr && o->vaddr - vaddr < len) {
		o->paddr = paddr + (o->vaddr - vaddr);
		o->found = true;
	}
	return false;
}

bool pt_walk_vtop(const struct machine *m, uint64_t vaddr, uint64_t *paddr)
{
	struct one_page o = { .vaddr = vaddr };
	struct kernel_walk w = { .lo = vaddr, .hi = vaddr, .fn = take_one, .arg = &o };
	if (!m->arch->kernel_pages || m->arch->kernel_pages(m, &w) != DUMPFS_OK || !o.found)
		return false;
	*paddr = o.paddr;
	return true;
}

bool pt_user_vtop(const struct machine *m, uint64_t top, uint64_t vaddr, uint64_t *paddr)
{
	struct one_page o = { .vaddr = vaddr };
	struct kernel_walk w = { .lo = vaddr, .hi = vaddr, .fn = take_one, .arg = &o };
	if (!m->arch->user_limit || !m->arch->user_walk || vaddr >= m->arch->user_limit(m) ||
	    !m->arch->user_walk(m, top, &w) || !o.found)
		return false;
	*paddr = o.paddr;
	return true;
}

struct first_page {
	uint64_t from, at;
	bool found;
};

static bool take_first(void *arg, uint64_t vaddr, uint64_t paddr, uint64_t len)
{
	struct first_page *f = arg;
	(void)paddr;
	if (vaddr + len <= f->from)
		return true;    /* below: a walk hands out whole leaves */
	f->at = vaddr > f->from ? vaddr : f->from & ~(uint64_t)PT_USER_PAGE_MASK;
	f->found = true;
	return false;
}

bool pt_user_next(const struct machine *m, uint64_t top, uint64_t vaddr, uint64_t *next)
{
	struct first_page f = { .from = vaddr };
	uint64_t limit = m->arch->user_limit ? m->arch->user_limit(m) : 0;
	if (vaddr >= limit || !m->arch->user_walk)
		return false;
	struct kernel_walk w = { .lo = vaddr, .hi = limit - 1, .fn = take_first, .arg = &f };
	if (!m->arch->user_walk(m, top, &w) || !f.found)
		return false;
	*next = f.at;
	return true;
}
