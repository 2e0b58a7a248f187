/*
 * kmem.c - reads at the dumped kernel's virtual addresses: translated page
 * by page by the machine's architecture, read from its physical memory.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>

#include "kernel/kernel.h"

/* The smallest page of every architecture: translations never span it. */
#define KMEM_STEP 4096ull

enum dumpfs_status kmem_init(struct kmem *km, const struct machine *m, char *why, size_t whylen)
{
	km->m = m;
	if (!m->arch->vtop_init || !m->arch->vtop) {
		snprintf(why, whylen, "kernel addresses are not decoded on %s yet", m->arch->name);
		return DUMPFS_ERR_UNSUPPORTED;
	}
	return m->arch->vtop_init(&km->vtop, m, why, whylen);
}

bool kmem_vtop(struct kmem *km, uint64_t vaddr, uint64_t *paddr)
{
	return km->m->arch->vtop(&km->vtop, vaddr, paddr);
}

bool kmem_read(struct kmem *km, uint64_t vaddr, void *buf, size_t len)
{
	uint8_t *out = buf;
	while (len) {
		uint64_t paddr;
		size_t n = (size_t)(KMEM_STEP - (vaddr & (KMEM_STEP - 1)));
		if (n > len)
			n = len;
		if (!km->m->arch->vtop(&km->vtop, vaddr, &paddr))
			return false;
		if (space_read(km->m->phys, out, n, paddr) != (ssize_t)n)
			return false;
		out += n;
		vaddr += n;
		len -= n;
	}
	return true;
}

uint64_t kmem_word(const struct kmem *km, const uint8_t *p)
{
	return machine_word_size(km->m) == 4 ? get32(km->m->mem_endian, p)
					      : get64(km->m->mem_endian, p);
}

bool kmem_read_word(struct kmem *km, uint64_t vaddr, uint64_t *value)
{
	uint8_t b[8];
	if (!kmem_read(km, vaddr, b, machine_word_size(km->m)))
		return false;
	*value = kmem_word(km, b);
	return true;
}
