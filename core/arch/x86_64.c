/*
 * x86_64.c - the x86_64 machine: kernel virtual to physical addresses, for
 * the readers of kernel data (/dmesg); phys_base and the KASLR offset from
 * a CPU's CR3 where the dump does not say them (QEMU dumps of guests
 * without VMCOREINFO); the kernel-text PT_LOAD of /proc/vmcore; registers.
 *
 * Two ways, as the kernel maps itself:
 *  - the kernel image (__START_KERNEL_map up to the modules area) is a
 *    linear map: physical = virtual - __START_KERNEL_map + phys_base;
 *  - everything else (the direct map, vmalloc) through the page tables,
 *    4 or 5 levels, from swapper_pg_dir or a CPU's CR3.
 * Memory is read only through the machine's physical space, and a walk is
 * a fixed number of reads, so garbage tables cost no more than good ones.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"

#define START_KERNEL_MAP 0xffffffff80000000ull
/* The kernel image region is 1 GiB with KASLR (KERNEL_IMAGE_SIZE); the
 * modules area follows it. */
#define KERNEL_IMAGE_END 0xffffffffc0000000ull
/* _text without KASLR: __START_KERNEL_map + LOAD_PHYSICAL_ADDR (16 MiB) */
#define DEFAULT_KERNEL_TEXT 0xffffffff81000000ull
/* What kexec-tools maps of the kernel text in /proc/vmcore's PT_LOAD. */
#define KERNEL_TEXT_SPAN (64ull << 20)
#define PAGE_4K 4096ull
#define PMD_SPAN (2ull << 20)
#define PTE_PRESENT 1ull
#define PTE_LARGE 0x80ull
#define PTE_ADDR_MASK 0x000ffffffffff000ull
#define CR3_PCID_MASK 0xfffull
/* With page-table isolation, a user CR3 points at the odd page of the pair
 * whose even page is the kernel's. */
#define CR3_PTI_USER_BIT 0x1000ull
#define CR4_LA57 (1ull << 12)

static bool walk_page_tables(const struct machine *m, uint64_t top, unsigned levels,
			     uint64_t vaddr, uint64_t *paddr)
{
	static const unsigned shifts[] = { 48, 39, 30, 21, 12 };
	uint64_t table = top & PTE_ADDR_MASK;

	for (unsigned level = 5 - levels; level < 5; level++) {
		unsigned shift = shifts[level];
		uint64_t entry;
		if (!space_read_u64(m->phys, table + ((vaddr >> shift) & 511) * 8, m->endian, &entry))
			return false;
		if (!(entry & PTE_PRESENT))
			return false;
		/* 1 GiB and 2 MiB pages: the PS bit of a PUD or PMD entry */
		if ((shift == 30 || shift == 21) && (entry & PTE_LARGE)) {
			uint64_t span = 1ull << shift;
			return machine_table_addr(m, (entry & PTE_ADDR_MASK & ~(span - 1)) | (vaddr & (span - 1)),
						  paddr);
		}
		if (!machine_table_addr(m, entry & PTE_ADDR_MASK, &table))
			return false;
	}
	*paddr = table | (vaddr & (PAGE_4K - 1));
	return true;
}

static enum dumpfs_status x86_64_vtop_init(struct vtop *t, const struct machine *m,
					   char *why, size_t whylen)
{
	char v[64];

	memset(t, 0, sizeof(*t));
	t->m = m;
	t->levels = 4;
	if (m->endian.big) {
		snprintf(why, whylen, "an x86_64 dump in big-endian byte order is not decoded");
		return DUMPFS_ERR_UNSUPPORTED;
	}
	if (!m->kmap.has_phys_base) {
		snprintf(why, whylen, "phys_base unknown");
		return DUMPFS_ERR_UNSUPPORTED;
	}
	if (vmcoreinfo_get(m->notes, "NUMBER(pgtable_l5_enabled)", v, sizeof(v)) &&
	    strtoul(v, NULL, 10) != 0)
		t->levels = 5;
	/* init_top_pgt is swapper_pg_dir's name since 4.14; either will do */
	if (vmcoreinfo_get(m->notes, "SYMBOL(init_top_pgt)", v, sizeof(v)) ||
	    vmcoreinfo_get(m->notes, "SYMBOL(swapper_pg_dir)", v, sizeof(v))) {
		uint64_t pgd = strtoull(v, NULL, 16);
		if (pgd >= START_KERNEL_MAP && pgd < KERNEL_IMAGE_END) {
			t->top_table = pgd - START_KERNEL_MAP + m->kmap.phys_base;
			t->have_top_table = true;
		}
	}
	t->cached_vpage = UINT64_MAX;
	return DUMPFS_OK;
}

static bool x86_64_vtop(struct vtop *t, uint64_t vaddr, uint64_t *paddr)
{
	uint64_t vpage = vaddr & ~(PAGE_4K - 1);
	if (vpage == t->cached_vpage) {
		*paddr = t->cached_ppage | (vaddr & (PAGE_4K - 1));
		return true;
	}
	if (vaddr >= START_KERNEL_MAP && vaddr < KERNEL_IMAGE_END)
		*paddr = vaddr - START_KERNEL_MAP + t->m->kmap.phys_base;
	else if (!t->have_top_table ||
		 !walk_page_tables(t->m, t->top_table, t->levels, vaddr, paddr))
		return false;
	t->cached_vpage = vpage;
	t->cached_ppage = *paddr & ~(PAGE_4K - 1);
	return true;
}

/* User addresses: below the canonical hole, through the process's own
 * tables (with page-table isolation, mm->pgd is the kernel's copy, which
 * maps user space as well). */
static unsigned paging_levels(const struct machine *m)
{
	return m->kmap.pgtable_l5 ? 5 : 4;
}

/* TASK_SIZE_MAX: the top of the lower half, less its guard page. */
static uint64_t x86_64_user_limit(const struct machine *m)
{
	return (paging_levels(m) == 5 ? 1ull << 56 : 1ull << 47) - PAGE_4K;
}

static bool x86_64_user_vtop(const struct machine *m, uint64_t pgd, uint64_t vaddr, uint64_t *paddr)
{
	if (m->endian.big || vaddr >= x86_64_user_limit(m))
		return false;
	return walk_page_tables(m, pgd, paging_levels(m), vaddr, paddr);
}

/* The first present leaf at or above @from in the table at @table, whose
 * entries map 2^@shift bytes each from @base; tables read count against
 * @budget, so that tables pointing at one another cost bounded time. */
static bool next_present(const struct machine *m, uint64_t table, unsigned shift, uint64_t base,
			 uint64_t from, uint64_t limit, unsigned *budget, uint64_t *found)
{
	uint64_t t[512];
	if (!*budget || space_read(m->phys, t, sizeof(t), table & PTE_ADDR_MASK) != (ssize_t)sizeof(t))
		return false;
	--*budget;
	for (uint64_t i = from > base ? (from - base) >> shift : 0; i < 512; i++) {
		uint64_t va = base + (i << shift), e = get64(m->endian, (const uint8_t *)&t[i]);
		if (va >= limit)
			return false;
		if (!(e & PTE_PRESENT))
			continue;
		uint64_t at = va > from ? va : from & ~(PAGE_4K - 1);
		if (shift == 12 || ((shift == 30 || shift == 21) && (e & PTE_LARGE))) {
			*found = at;
			return true;
		}
		uint64_t next;
		if (machine_table_addr(m, e & PTE_ADDR_MASK, &next) &&
		    next_present(m, next, shift - 9, va, at, limit, budget, found))
			return true;
	}
	return false;
}

static bool x86_64_user_next(const struct machine *m, uint64_t pgd, uint64_t vaddr, uint64_t *next)
{
	unsigned budget = PT_WALK_MAX_TABLES;
	unsigned top_shift = paging_levels(m) == 5 ? 48 : 39;
	return !m->endian.big &&
	       next_present(m, pgd, top_shift, 0, vaddr, x86_64_user_limit(m), &budget, next);
}

/* phys_base from one CR3: the kernel image region maps linearly, so any
 * present page in it gives physical - (virtual - __START_KERNEL_map).  Once
 * booted, the kernel unmaps that region below _text (cleanup_highmap()), so
 * the first present 2 MiB is _text: its virtual address carries the KASLR
 * offset. */
static bool kernel_map_from_cr3(const struct machine *m, uint64_t cr3, unsigned levels,
				uint64_t *phys_base, uint64_t *text_vaddr)
{
	for (uint64_t va = START_KERNEL_MAP; va < KERNEL_IMAGE_END; va += PMD_SPAN) {
		uint64_t pa;
		if (!walk_page_tables(m, cr3, levels, va, &pa))
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

static bool x86_64_kernel_map_from_cpus(const struct machine *m, uint64_t *phys_base,
					uint64_t *text_vaddr)
{
	const struct note_set *ns = m->notes;

	if (m->endian.big)
		return false;
	for (size_t cpu = 0; cpu < ns->nqemu; cpu++) {
		uint64_t cr3, cr4;
		if (!x86_cpustate_control(m, &ns->list[ns->qemu[cpu]], &cr3, &cr4))
			continue;
		unsigned levels = cr4 & CR4_LA57 ? 5 : 4;
		if (!cr3)
			continue;       /* a CPU that never left real mode */
		uint64_t pgd = cr3 & ~CR3_PCID_MASK;
		if (kernel_map_from_cr3(m, pgd, levels, phys_base, text_vaddr) ||
		    kernel_map_from_cr3(m, pgd & ~CR3_PTI_USER_BIT, levels, phys_base, text_vaddr))
			return true;
	}
	return false;
}

/* The top page table: swapper's from VMCOREINFO, else a CPU's CR3. */
static bool top_table(const struct machine *m, uint64_t *top, unsigned *levels)
{
	struct vtop t;
	char why[96];
	const struct note_set *ns = m->notes;

	if (x86_64_vtop_init(&t, m, why, sizeof(why)) == DUMPFS_OK && t.have_top_table) {
		*top = t.top_table;
		*levels = t.levels;
		return true;
	}
	for (size_t cpu = 0; cpu < ns->nqemu; cpu++) {
		uint64_t cr3, cr4;
		if (x86_cpustate_control(m, &ns->list[ns->qemu[cpu]], &cr3, &cr4) && cr3) {
			*top = cr3 & ~(CR3_PCID_MASK | CR3_PTI_USER_BIT);
			*levels = cr4 & CR4_LA57 ? 5 : 4;
			return true;
		}
	}
	return false;
}

/*
 * page_offset_base, where the direct map puts physical 0: with KASLR of
 * memory regions (4.8+) it moves in 1 GiB steps, and only the kernel's
 * own variable says it.  The direct map is the lowest kernel region that
 * maps physical 0, so the first PUD-aligned address of the kernel half,
 * upwards, that maps 0 and maps 1 MiB and 16 MiB linearly from there is
 * it.  Only present table entries are visited: a few thousand reads.
 * 4-level paging only.
 */
static bool x86_64_find_page_offset(const struct machine *m, uint64_t *page_offset,
				    const char **origin)
{
	uint64_t top;
	unsigned levels;

	if (m->endian.big || !top_table(m, &top, &levels) || levels != 4)
		return false;
	for (uint64_t i = 256; i < 511; i++) {          /* 511: the kernel image */
		uint64_t pgd, pud, pa;
		if (!space_read_u64(m->phys, (top & PTE_ADDR_MASK) + i * 8, m->endian, &pgd))
			return false;
		if (!(pgd & PTE_PRESENT) || !machine_table_addr(m, pgd & PTE_ADDR_MASK, &pgd))
			continue;
		for (uint64_t j = 0; j < 512; j++) {
			uint64_t va = 0xffff000000000000ull | i << 39 | j << 30;
			if (!space_read_u64(m->phys, (pgd & PTE_ADDR_MASK) + j * 8, m->endian, &pud) ||
			    !(pud & PTE_PRESENT) || !walk_page_tables(m, top, 4, va, &pa) || pa != 0)
				continue;
			bool linear = true;
			for (uint64_t at = 1ull << 20; at <= 16ull << 20 && at < m->phys->size; at <<= 4)
				linear &= walk_page_tables(m, top, 4, va + at, &pa) && pa == at;
			if (linear) {
				*page_offset = va;
				*origin = "page tables";
				return true;
			}
		}
	}
	return false;
}

/* /proc/vmcore's RAM is at its direct-map address. */
static bool x86_64_ram_vaddr(const struct machine *m, uint64_t paddr, uint64_t len,
			     uint64_t *vaddr)
{
	const struct kernel_map *k = &m->kmap;
	if (!k->has_page_offset || paddr + len < paddr || paddr + len > -k->page_offset)
		return false;
	*vaddr = k->page_offset + paddr;
	return true;
}

/* The kernel-text mapping as kexec-tools describes it, if we can. */
static bool x86_64_kernel_text_load(const struct machine *m, uint64_t *vaddr,
				    uint64_t *paddr, uint64_t *len)
{
	char v[64];
	uint64_t mem = m->phys->size;

	if (!m->kmap.has_phys_base)
		return false;
	*vaddr = DEFAULT_KERNEL_TEXT;
	if (vmcoreinfo_get(m->notes, "SYMBOL(_stext)", v, sizeof(v)))
		*vaddr = strtoull(v, NULL, 16);
	else if (vmcoreinfo_get(m->notes, "KERNELOFFSET", v, sizeof(v)))
		*vaddr += strtoull(v, NULL, 16);
	else if (m->kmap.text_vaddr)    /* KASLR seen in the page tables */
		*vaddr = m->kmap.text_vaddr;
	if (*vaddr < START_KERNEL_MAP)
		return false;
	*paddr = *vaddr - START_KERNEL_MAP + m->kmap.phys_base;
	if (*paddr >= mem)
		return false;
	*len = mem - *paddr < KERNEL_TEXT_SPAN ? mem - *paddr : KERNEL_TEXT_SPAN;
	return true;
}

/* pt_regs is user_regs_struct's first 21 words; __USER_CS and
 * __USER_DS (0x33, 0x2b) tell a frame saved from user mode. */
static size_t x86_64_user_regs(const struct machine *m, const uint8_t *pt_regs, size_t len,
			       const uint64_t extra[USER_REGS_EXTRA], uint8_t *out, size_t outlen)
{
	const size_t words = 21;
	if (len < words * 8 || outlen < 27 * 8)
		return 0;
	uint64_t cs = get64(m->mem_endian, pt_regs + 17 * 8), ss = get64(m->mem_endian, pt_regs + 20 * 8);
	uint64_t ip = get64(m->mem_endian, pt_regs + 16 * 8);
	if (cs != 0x33 || ss != 0x2b || ip >= x86_64_user_limit(m))
		return 0;
	memcpy(out, pt_regs, words * 8);
	for (int i = 0; i < 6; i++)
		put64(m->mem_endian, out + (words + (size_t)i) * 8, extra[i]);
	return 27 * 8;
}

static void x86_64_prstatus_text(const struct machine *m, const struct note *n, struct strbuf *sb)
{
	static const char *names[] = { "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10",
		"r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "rflags",
		"rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs" };
	if (n->descsz < 112 + 27 * 8)
		return;
	sb_printf(sb, "pid: %u\n", get32(m->endian, n->desc + 32));
	for (int i = 0; i < 27; i++)
		sb_printf(sb, "%-8s 0x%016" PRIx64 "\n", names[i], get64(m->endian, n->desc + 112 + i * 8));
}

const struct arch_ops x86_64_arch = {
	.name = "x86_64",
	.elf_machine = EM_X86_64,
	.kernel_map_from_cpus = x86_64_kernel_map_from_cpus,
	.find_page_offset = x86_64_find_page_offset,
	.vtop_init = x86_64_vtop_init,
	.vtop = x86_64_vtop,
	.user_vtop = x86_64_user_vtop,
	.user_next = x86_64_user_next,
	.user_limit = x86_64_user_limit,
	.user_regs = x86_64_user_regs,
	.kernel_stack_size = 16384,
	.prstatus_size = 336,
	.prstatus_reg_off = 112,
	.ram_vaddr = x86_64_ram_vaddr,
	.kernel_text_load = x86_64_kernel_text_load,
	.prstatus_text = x86_64_prstatus_text,
	.cpustate_text = x86_cpustate_text,
};
