/*
 * umem.c - a process's user address space as a space (/tasks/PID/mem):
 * the byte at offset V is the byte at user address V, through the
 * process's page tables.  An address nothing maps, or whose page the dump
 * does not hold (user pages filtered out), reads as zeros and is a hole,
 * as /mem's missing pages are, so that SEEK_DATA finds what there is.
 * The walks read the page tables through a cache (u->walk's physical
 * memory), the pages themselves straight from the dump.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kernel/kernel.h"

#define PAGE 4096ull

/* The vDSO page at @vaddr from the kernel's image of it, where the page
 * tables do not map it (a page the process never touched). */
static bool vdso_page(const struct umem_space *u, uint64_t vaddr, uint64_t *paddr)
{
	if (vaddr < u->vdso_base || vaddr - u->vdso_base >= (uint64_t)u->vdso_npages * PAGE)
		return false;
	*paddr = u->vdso_pages[(vaddr - u->vdso_base) / PAGE] + (vaddr & (PAGE - 1));
	return true;
}

/* The physical page behind user page @vaddr, if it is mapped and held. */
static bool held(const struct umem_space *u, uint64_t vaddr, uint64_t *paddr)
{
	if (!u->m->arch->user_vtop(&u->walk, u->pgd, vaddr, paddr) && !vdso_page(u, vaddr, paddr))
		return false;
	uint64_t page = *paddr & ~(PAGE - 1);
	return space_next(u->m->phys, page, true) == page;
}

/* The first vDSO page at or above @vaddr, UINT64_MAX if none. */
static uint64_t next_vdso(const struct umem_space *u, uint64_t vaddr)
{
	uint64_t end = u->vdso_base + (uint64_t)u->vdso_npages * PAGE;
	if (!u->vdso_npages || vaddr >= end)
		return UINT64_MAX;
	return vaddr > u->vdso_base ? vaddr : u->vdso_base;
}

static ssize_t umem_read(struct space *s, void *buf, size_t len, uint64_t off)
{
	struct umem_space *u = (struct umem_space *)s;
	uint8_t *out = buf;
	size_t done = 0;
	while (done < len) {
		uint64_t at = off + done, paddr;
		size_t n = (size_t)(PAGE - (at & (PAGE - 1)));
		if (n > len - done)
			n = len - done;
		if (!held(u, at, &paddr)) {
			memset(out + done, 0, n);
		} else {
			ssize_t r = space_read(u->m->phys, out + done, n, paddr);
			if (r < 0)
				return done ? (ssize_t)done : r;
			if ((size_t)r < n)
				return (ssize_t)(done + (size_t)r);
		}
		done += n;
	}
	return (ssize_t)done;
}

static uint64_t umem_next(struct space *s, uint64_t off, bool data)
{
	struct umem_space *u = (struct umem_space *)s;
	const struct machine *m = &u->walk;
	uint64_t paddr, at = off;
	while (at < s->size) {
		if (data) {
			/* the next mapped page (or vDSO page), then whether the
			 * dump holds it */
			uint64_t mapped, vdso = next_vdso(u, at);
			if (!m->arch->user_next(m, u->pgd, at, &mapped))
				mapped = UINT64_MAX;
			if ((at = mapped < vdso ? mapped : vdso) == UINT64_MAX)
				return s->size;
			if (held(u, at, &paddr))
				return at > off ? at : off;
		} else if (!held(u, at, &paddr)) {
			return at > off ? at : off;
		}
		at = (at & ~(PAGE - 1)) + PAGE;
	}
	return s->size;
}

bool umem_count(struct umem_space *u, uint64_t limit, uint64_t *mapped, uint64_t *held_pages)
{
	const struct machine *m = &u->walk;
	uint64_t at = 0, paddr;
	*mapped = *held_pages = 0;
	while (at < u->space.size && m->arch->user_next(m, u->pgd, at, &at)) {
		if (++*mapped > limit)
			return false;
		*held_pages += held(u, at, &paddr);
		at = (at & ~(PAGE - 1)) + PAGE;
	}
	return true;
}

static const struct space_ops umem_ops = { .read = umem_read, .next = umem_next };

enum dumpfs_status umem_init(struct umem_space *u, const struct machine *m, struct space *tables,
			     const struct ktask *t, char *why, size_t whylen)
{
	struct kmem km;
	memset(u, 0, sizeof(*u));
	if (!m->arch->user_vtop || !m->arch->user_next || !m->arch->user_limit) {
		snprintf(why, whylen, "user addresses are not decoded on %s yet", m->arch->name);
		return DUMPFS_ERR_UNSUPPORTED;
	}
	enum dumpfs_status st = kmem_init(&km, m, why, whylen);
	if (st != DUMPFS_OK)
		return st;
	if (!t->pgd || !kmem_vtop(&km, t->pgd, &u->pgd)) {
		snprintf(why, whylen, "pid %d's page tables (mm->pgd %#" PRIx64 ") are not mapped", t->pid, t->pgd);
		return DUMPFS_ERR_NODATA;
	}
	/* the vDSO's pages, from the kernel's image of it (its data lies in
	 * the kernel image, page-aligned) */
	uint64_t npages = t->vdso_size / PAGE;
	if (t->vdso_base && t->vdso_data && !(t->vdso_base % PAGE) && !(t->vdso_data % PAGE) &&
	    npages && npages <= UMEM_VDSO_PAGES) {
		u->vdso_base = t->vdso_base;
		for (unsigned i = 0; i < npages && kmem_vtop(&km, t->vdso_data + i * PAGE, &u->vdso_pages[i]); i++)
			u->vdso_npages = i + 1;
	}
	u->m = m;
	u->walk = *m;
	u->walk.phys = tables;
	u->space.ops = &umem_ops;
	u->space.size = m->arch->user_limit(m);
	if (t->user_limit && t->user_limit < u->space.size)
		u->space.size = t->user_limit;
	u->space.stored = t->have_mm_figures ? (t->rss[0] + t->rss[1] + t->rss[3]) * PAGE : 0;
	return DUMPFS_OK;
}
