/*
 * i386.c - the 32-bit x86 machine: kernel virtual to physical addresses in
 * the lowmem map, the virtual addresses of /proc/vmcore's RAM, registers
 * (its QEMU CPU state is the x86 one).
 *
 * A 32-bit kernel maps the bottom of physical memory (lowmem: its image,
 * its static data, slab, the log buffer) linearly at PAGE_OFFSET, and
 * relocates image and map together, so virtual - PAGE_OFFSET is physical
 * there whatever phys_base.  PAGE_OFFSET is a build choice
 * (CONFIG_VMSPLIT_*, 0xc0000000 on Debian) that VMCOREINFO does not state,
 * so it is found: of the splits Kconfig offers, the one that puts
 * SYMBOL(init_uts_ns) on a page holding OSRELEASE.  Lowmem ends 128 MiB
 * (__VMALLOC_RESERVE) below 4 GiB at most, MAXMEM, as kexec-tools takes
 * it for the p_vaddr of /proc/vmcore; a machine with less RAM has its
 * vmalloc area above its last page, where no translation reaches RAM.
 * Addresses outside lowmem (vmalloc, kmap) need the page tables: not
 * decoded yet.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>

#include "arch/arch.h"

#define ADDRESS_SPACE (1ull << 32)
#define VMALLOC_RESERVE (128ull << 20)
#define PAGE_4K 4096ull

/* PAGE_OFFSET of CONFIG_VMSPLIT_3G, 3G_OPT, 2G, 2G_OPT and 1G. */
static const uint64_t splits[] = { 0xc0000000, 0xb0000000, 0x80000000, 0x78000000, 0x40000000 };

static uint64_t lowmem_limit(uint64_t page_offset)
{
	return ADDRESS_SPACE - page_offset - VMALLOC_RESERVE;
}

/* Whether the page of @paddr holds @release as a C string. */
static bool page_holds(const struct machine *m, uint64_t paddr, const char *release)
{
	uint8_t page[PAGE_4K];
	size_t len = strlen(release) + 1;
	uint64_t start = paddr & ~(PAGE_4K - 1);
	if (space_read(m->phys, page, sizeof(page), start) != (ssize_t)sizeof(page))
		return false;
	/* struct new_utsname's fields are 65 bytes, release the third */
	for (size_t at = (size_t)(paddr - start); at + len <= sizeof(page) && at < paddr - start + 512; at++)
		if (!memcmp(page + at, release, len))
			return true;
	return false;
}

static bool i386_find_page_offset(const struct machine *m, uint64_t *page_offset,
				  const char **origin)
{
	char release[65];
	uint64_t uts;
	if (!vmcoreinfo_u64(m->notes, "SYMBOL(init_uts_ns)", 16, &uts) ||
	    !vmcoreinfo_get(m->notes, "OSRELEASE", release, sizeof(release)) || !release[0])
		return false;
	for (size_t i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
		uint64_t po = splits[i];
		if (uts < po || uts - po >= lowmem_limit(po) || !page_holds(m, uts - po, release))
			continue;
		*page_offset = po;
		*origin = "the split that puts SYMBOL(init_uts_ns) on OSRELEASE";
		return true;
	}
	return false;
}

static enum dumpfs_status i386_vtop_init(struct vtop *t, const struct machine *m,
					 char *why, size_t whylen)
{
	*t = (struct vtop){ .m = m, .cached_vpage = UINT64_MAX };
	if (!m->kmap.has_page_offset) {
		snprintf(why, whylen, "the lowmem map is not known (no SYMBOL(init_uts_ns) in "
			 "VMCOREINFO that holds OSRELEASE under any PAGE_OFFSET)");
		return DUMPFS_ERR_UNSUPPORTED;
	}
	return DUMPFS_OK;
}

static bool i386_vtop(struct vtop *t, uint64_t vaddr, uint64_t *paddr)
{
	uint64_t po = t->m->kmap.page_offset;
	if (vaddr < po || vaddr - po >= lowmem_limit(po))
		return false;
	*paddr = vaddr - po;
	return true;
}

/* kexec-tools gives a RAM range its lowmem address if it ends in lowmem,
 * and p_vaddr 0 otherwise. */
static bool i386_ram_vaddr(const struct machine *m, uint64_t paddr, uint64_t len, uint64_t *vaddr)
{
	uint64_t po = m->kmap.page_offset;
	if (!m->kmap.has_page_offset || paddr + len < paddr || paddr + len > lowmem_limit(po))
		return false;
	*vaddr = po + paddr;
	return true;
}

static void i386_prstatus_text(const struct machine *m, const struct note *n, struct strbuf *sb)
{
	static const char *names[] = { "ebx", "ecx", "edx", "esi", "edi", "ebp", "eax", "ds", "es",
		"fs", "gs", "orig_eax", "eip", "cs", "eflags", "esp", "ss" };
	if (n->descsz < 72 + 17 * 4)
		return;
	sb_printf(sb, "pid: %u\n", get32(m->endian, n->desc + 24));
	for (int i = 0; i < 17; i++)
		sb_printf(sb, "%-8s 0x%08x\n", names[i], get32(m->endian, n->desc + 72 + i * 4));
}

const struct arch_ops i386_arch = {
	.name = "i386",
	.elf_machine = EM_386,
	.word_size = 4,
	.find_page_offset = i386_find_page_offset,
	.vtop_init = i386_vtop_init,
	.vtop = i386_vtop,
	.elf_needs_vaddr = true,
	.ram_vaddr = i386_ram_vaddr,
	.prstatus_text = i386_prstatus_text,
	.cpustate_text = x86_cpustate_text,
};
