/*
 * kvaddr.c - x86_64 kernel virtual addresses to physical ones, for the views
 * that must read kernel variables (/dmesg) and for finding phys_base where
 * the dump does not say it (QEMU dumps of guests without VMCOREINFO).
 *
 * Two ways, as the kernel maps itself:
 *  - the kernel image (__START_KERNEL_map up to the modules area) is a
 *    linear map: physical = virtual - __START_KERNEL_map + phys_base;
 *  - everything else (the direct map, vmalloc) through the page tables,
 *    4 or 5 levels, from swapper_pg_dir or a CPU's CR3.
 * Memory is read only through dumpfs_read_phys(), and a walk is a fixed
 * number of reads, so garbage tables cost no more than good ones.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define EM_X86_64 62
#define START_KERNEL_MAP 0xffffffff80000000ull
/* The kernel image region is 1 GiB with KASLR (KERNEL_IMAGE_SIZE); the
 * modules area follows it. */
#define KERNEL_IMAGE_END 0xffffffffc0000000ull
/* _text without KASLR: __START_KERNEL_map + LOAD_PHYSICAL_ADDR (16 MiB) */
#define DEFAULT_KERNEL_TEXT 0xffffffff81000000ull
#define PAGE_4K 4096ull
#define PMD_SPAN (2ull << 20)
#define PTE_PRESENT 1ull
#define PTE_LARGE 0x80ull
#define PTE_ADDR_MASK 0x000ffffffffff000ull
#define CR3_PCID_MASK 0xfffull
/* With page-table isolation, a user CR3 points at the odd page of the pair
 * whose even page is the kernel's. */
#define CR3_PTI_USER_BIT 0x1000ull
/* QEMUCPUState (QEMU target/i386/arch_dump.c): cr[0..4] at 392. */
#define QEMU_CPUSTATE_CR3 (392 + 3 * 8)
#define QEMU_CPUSTATE_MIN_SIZE (392 + 5 * 8)

static bool read_u64_phys(struct dumpfs_dump *d, uint64_t paddr, uint64_t *val)
{
	uint8_t b[8];
	if (dumpfs_read_phys(d, b, sizeof(b), paddr) != (ssize_t)sizeof(b))
		return false;
	*val = get_le64(b);
	return true;
}

static bool walk_page_tables(struct dumpfs_dump *d, uint64_t top, bool five_level,
			     uint64_t vaddr, uint64_t *paddr)
{
	static const unsigned shifts[] = { 48, 39, 30, 21, 12 };
	uint64_t table = top & PTE_ADDR_MASK;

	for (unsigned level = five_level ? 0 : 1; level < 5; level++) {
		unsigned shift = shifts[level];
		uint64_t entry;
		if (!read_u64_phys(d, table + ((vaddr >> shift) & 511) * 8, &entry))
			return false;
		if (!(entry & PTE_PRESENT))
			return false;
		/* 1 GiB and 2 MiB pages: the PS bit of a PUD or PMD entry */
		if ((shift == 30 || shift == 21) && (entry & PTE_LARGE)) {
			uint64_t span = 1ull << shift;
			*paddr = (entry & PTE_ADDR_MASK & ~(span - 1)) | (vaddr & (span - 1));
			return true;
		}
		table = entry & PTE_ADDR_MASK;
	}
	*paddr = table | (vaddr & (PAGE_4K - 1));
	return true;
}

enum dumpfs_status kvaddr_init(struct kvaddr *kv, struct dumpfs_dump *d, char *why, size_t whylen)
{
	char v[64];

	memset(kv, 0, sizeof(*kv));
	kv->d = d;
	if (d->elf_machine != EM_X86_64 || d->endian.big) {
		snprintf(why, whylen, "kernel addresses are decoded on x86_64 only");
		return DUMPFS_ERR_UNSUPPORTED;
	}
	if (!d->has_phys_base) {
		snprintf(why, whylen, "phys_base unknown");
		return DUMPFS_ERR_UNSUPPORTED;
	}
	kv->phys_base = d->phys_base;
	if (vmcoreinfo_get(&d->notes, "NUMBER(pgtable_l5_enabled)", v, sizeof(v)))
		kv->five_level = strtoul(v, NULL, 10) != 0;
	/* init_top_pgt is swapper_pg_dir's name since 4.14; either will do */
	if (vmcoreinfo_get(&d->notes, "SYMBOL(init_top_pgt)", v, sizeof(v)) ||
	    vmcoreinfo_get(&d->notes, "SYMBOL(swapper_pg_dir)", v, sizeof(v))) {
		uint64_t pgd = strtoull(v, NULL, 16);
		if (pgd >= START_KERNEL_MAP && pgd < KERNEL_IMAGE_END) {
			kv->top_table = pgd - START_KERNEL_MAP + kv->phys_base;
			kv->have_top_table = true;
		}
	}
	kv->cached_vpage = UINT64_MAX;
	return DUMPFS_OK;
}

bool kvaddr_to_phys(struct kvaddr *kv, uint64_t vaddr, uint64_t *paddr)
{
	uint64_t vpage = vaddr & ~(PAGE_4K - 1);
	if (vpage == kv->cached_vpage) {
		*paddr = kv->cached_ppage | (vaddr & (PAGE_4K - 1));
		return true;
	}
	if (vaddr >= START_KERNEL_MAP && vaddr < KERNEL_IMAGE_END)
		*paddr = vaddr - START_KERNEL_MAP + kv->phys_base;
	else if (!kv->have_top_table ||
		 !walk_page_tables(kv->d, kv->top_table, kv->five_level, vaddr, paddr))
		return false;
	kv->cached_vpage = vpage;
	kv->cached_ppage = *paddr & ~(PAGE_4K - 1);
	return true;
}

bool kvaddr_read(struct kvaddr *kv, uint64_t vaddr, void *buf, size_t len)
{
	uint8_t *out = buf;
	while (len) {
		uint64_t paddr;
		size_t n = (size_t)(PAGE_4K - (vaddr & (PAGE_4K - 1)));
		if (n > len)
			n = len;
		if (!kvaddr_to_phys(kv, vaddr, &paddr))
			return false;
		if (dumpfs_read_phys(kv->d, out, n, paddr) != (ssize_t)n)
			return false;
		out += n;
		vaddr += n;
		len -= n;
	}
	return true;
}

/* phys_base from one CR3: the kernel image region maps linearly, so any
 * present page in it gives physical - (virtual - __START_KERNEL_map).  Once
 * booted, the kernel unmaps that region below _text (cleanup_highmap()), so
 * the first present 2 MiB is _text: its virtual address carries the KASLR
 * offset. */
static bool kernel_map_from_cr3(struct dumpfs_dump *d, uint64_t cr3, bool five_level,
				uint64_t *phys_base, uint64_t *text_vaddr)
{
	for (uint64_t va = START_KERNEL_MAP; va < KERNEL_IMAGE_END; va += PMD_SPAN) {
		uint64_t pa;
		if (!walk_page_tables(d, cr3, five_level, va, &pa))
			continue;
		uint64_t base = pa - (va - START_KERNEL_MAP);
		/* the kernel is loaded at a 2 MiB-aligned address
		 * (CONFIG_PHYSICAL_ALIGN), so phys_base is 2 MiB-aligned */
		if (base & (PMD_SPAN - 1))
			return false;
		*phys_base = base;
		*text_vaddr = va >= DEFAULT_KERNEL_TEXT ? va : 0;
		return true;
	}
	return false;
}

bool kvaddr_kernel_map_from_qemu_cr3(struct dumpfs_dump *d, uint64_t *phys_base, uint64_t *text_vaddr)
{
	const struct note_set *ns = &d->notes;

	if (d->elf_machine != EM_X86_64 || d->endian.big)
		return false;
	for (size_t cpu = 0; cpu < ns->nqemu; cpu++) {
		const struct note *n = &ns->list[ns->qemu[cpu]];
		if (n->descsz < QEMU_CPUSTATE_MIN_SIZE)
			continue;
		uint64_t cr3 = get_le64(n->desc + QEMU_CPUSTATE_CR3);
		uint64_t cr4 = get_le64(n->desc + QEMU_CPUSTATE_CR3 + 8);
		bool five_level = cr4 & (1ull << 12);  /* CR4.LA57 */
		if (!cr3)
			continue;       /* a CPU that never left real mode */
		uint64_t pgd = cr3 & ~CR3_PCID_MASK;
		if (kernel_map_from_cr3(d, pgd, five_level, phys_base, text_vaddr) ||
		    kernel_map_from_cr3(d, pgd & ~CR3_PTI_USER_BIT, five_level, phys_base, text_vaddr))
			return true;
	}
	return false;
}

void dump_phys_base_from_qemu_cr3(struct dumpfs_dump *d)
{
	uint64_t base, text_vaddr;

	/* VMCOREINFO is the kernel's own word; QEMU's kdump sub-header is not
	 * (it writes 0 without VMCOREINFO and misparses it with it). */
	if (d->has_phys_base && !strncmp(d->phys_base_origin, "VMCOREINFO", 10))
		return;
	if (!kvaddr_kernel_map_from_qemu_cr3(d, &base, &text_vaddr))
		return;
	if (d->has_phys_base && d->phys_base != base)
		dump_warn(d, "phys_base %#" PRIx64 " of the %s disagrees with the page tables "
			  "(%#" PRIx64 "); using the page tables", d->phys_base, d->phys_base_origin, base);
	d->has_phys_base = true;
	d->phys_base = base;
	d->phys_base_origin = "page tables from a QEMU CPU note's CR3";
	d->kernel_text_vaddr = text_vaddr;
}
