/*
 * ppc64.c - the ppc64 machine (either byte order): register text.
 *
 * NT_PRSTATUS is the kernel's struct elf_prstatus: pr_pid at 32, pr_reg at
 * 112, ELF_NGREG = 48 registers of 8 bytes laid out as the user_pt_regs of
 * arch/powerpc/include/uapi/asm/ptrace.h (gpr[32], nip, msr, orig_gpr3,
 * ctr, link, xer, ccr, softe, trap, dar, dsisr, result), the rest unused.
 * The note is in the ELF's byte order, which for a QEMU dump is not always
 * the guest's: QEMU 7.2 wrote a ppc64le guest's dump big-endian throughout
 * (its ELF header and notes) around little-endian memory; MSR_LE (bit 0)
 * tells the byte order the CPU ran in.  QEMU fills in gpr, nip, msr, ctr,
 * link, xer and ccr only, and leaves pr_pid 0.
 *
 * Kernel addresses: the linear map at 0xc000000000000000 holds all RAM and
 * the kernel image; vmalloc, the modules and vmemmap are found in the page
 * tables.  /proc/vmcore of ppc64 has RAM at its linear-map address, and so
 * does /vmcore.elf, with the page tables' other mappings beside it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"

#define PR_REG 112
#define NGREG 48
#define MSR_LE 1ull
#define LINEAR_BASE 0xc000000000000000ull
/* The linear map ends where radix puts vmalloc (0xc008...); hash's lies
 * elsewhere (0xd000...).  2^51 bytes is more RAM than any machine has. */
#define LINEAR_SIZE (1ull << 51)

/* MSR_LE of the first CPU: the byte order the kernel ran in. */
static bool ppc64_memory_endian(const struct machine *m, struct endian *e)
{
	const struct note_set *ns = m->notes;
	if (!ns->nprstatus)
		return false;
	const struct note *n = &ns->list[ns->prstatus[0]];
	if (n->descsz < PR_REG + 34 * 8)
		return false;
	*e = (struct endian){ !(get64(m->endian, n->desc + PR_REG + 33 * 8) & MSR_LE) };
	return true;
}

static enum dumpfs_status ppc64_vtop_init(struct vtop *t, const struct machine *m,
					  char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	*t = (struct vtop){ .m = m, .cached_vpage = UINT64_MAX };
	return DUMPFS_OK;
}

/*
 * The kernel's page tables (Book3S-64 Linux): entries are big-endian in
 * either byte order of the kernel, valid when bit 63 is set, leaves when
 * bit 62 is (_PAGE_PTE) at any level (2 MiB and 1 GiB pages higher up);
 * a table entry holds the next table's physical address and, in its low
 * 5 bits, that table's size in index bits (radix's NLS; the kernel sets
 * the same field for hash's Linux tables).  So only the top table's size
 * is a given: radix has 13 bits over 52-bit addresses for 4 and 64 KiB
 * pages; hash with 64 KiB pages 8 bits over 52, told apart by the 10-bit
 * table its first entry points to (radix: 9).  Hash with 4 KiB pages
 * (9 bits over 46) would look like radix there and is not decoded.
 */
#define PTE_VALID (1ull << 63)
#define PTE_LEAF (1ull << 62)
#define PTE_NEXT 0x0fffffffffffff00ull
#define PTE_NLS 0x1full
#define PTE_RPN 0x01fffffffffff000ull

static const struct endian BIG = { true };

static void walk_table(const struct machine *m, struct kernel_walk *w, uint64_t table,
		       unsigned bits, unsigned shift, uint64_t base)
{
	unsigned first, last;
	uint8_t *t = malloc((size_t)8 << bits);
	if (!t || !pt_index_range(w, base, shift, bits, &first, &last) ||
	    !pt_read_table(m, w, table, t, (size_t)8 << bits)) {
		free(t);
		return;
	}
	for (unsigned i = first; i <= last && !w->stopped && !w->truncated; i++) {
		uint64_t e = get64(BIG, t + (size_t)i * 8), va = base + ((uint64_t)i << shift);
		unsigned nls = (unsigned)(e & PTE_NLS);
		if (!(e & PTE_VALID))
			continue;
		if (e & PTE_LEAF)
			pt_leaf(w, va, e & PTE_RPN & ~((1ull << shift) - 1), 1ull << shift);
		else if (nls && nls <= 16 && shift >= 12 + nls)
			walk_table(m, w, e & PTE_NEXT, nls, shift - nls, va);
	}
	free(t);
}

static enum dumpfs_status ppc64_kernel_pages(const struct machine *m, struct kernel_walk *w)
{
	char v[32];
	uint8_t e[8];
	if (!vmcoreinfo_get(m->notes, "SYMBOL(swapper_pg_dir)", v, sizeof(v))) {
		snprintf(w->why, sizeof(w->why), "no SYMBOL(swapper_pg_dir) in VMCOREINFO");
		return DUMPFS_ERR_UNSUPPORTED;
	}
	uint64_t root = strtoull(v, NULL, 16) - LINEAR_BASE;
	/* Entry 0 maps the start of the linear map, on every kernel. */
	if (space_read(m->phys, e, 8, root) != 8 || !(get64(BIG, e) & PTE_VALID)) {
		snprintf(w->why, sizeof(w->why), "swapper_pg_dir's first entry (at %#" PRIx64 ") is not in the dump or not valid",
			 root);
		return DUMPFS_ERR_UNSUPPORTED;
	}
	unsigned next = (unsigned)(get64(BIG, e) & PTE_NLS);
	if (next == 9)
		walk_table(m, w, root, 13, 39, LINEAR_BASE);
	else if (next == 10)
		walk_table(m, w, root, 8, 44, LINEAR_BASE);
	else {
		snprintf(w->why, sizeof(w->why), "swapper_pg_dir's entries point to %u-bit tables: neither radix nor hash with 64 KiB pages",
			 next);
		return DUMPFS_ERR_UNSUPPORTED;
	}
	return DUMPFS_OK;
}

/* The linear map by its formula; vmalloc and the rest by the tables. */
static bool ppc64_vtop(struct vtop *t, uint64_t vaddr, uint64_t *paddr)
{
	if (vaddr >= LINEAR_BASE && vaddr - LINEAR_BASE < LINEAR_SIZE) {
		*paddr = vaddr - LINEAR_BASE;
		return true;
	}
	return pt_walk_vtop(t->m, vaddr, paddr);
}

static bool ppc64_ram_vaddr(const struct machine *m, uint64_t paddr, uint64_t len, uint64_t *vaddr)
{
	(void)m;
	if (paddr >= LINEAR_SIZE || len > LINEAR_SIZE - paddr)
		return false;
	*vaddr = LINEAR_BASE + paddr;
	return true;
}

#define NT_PRSTATUS 1
#define NT_PRFPREG 2
#define NT_PPC_VMX 0x100
#define NT_PPC_SPE 0x101
#define NT_PPC_VSX 0x102
#define VMX_SIZE (34 * 16)

/* Swap the items of [from, to) of @d (size @n) @width bytes each, as far
 * as the descriptor goes. */
static void swap_span(uint8_t *d, uint32_t n, uint32_t from, uint32_t to, size_t width)
{
	if (from < n)
		swap_each(d + from, (to < n ? to : n) - from, width);
}

/*
 * The register notes between byte orders, for a /vmcore.elf in the byte
 * order of the kernel's memory.  NT_PRSTATUS is struct elf_prstatus
 * (siginfo 3 ints, pr_cursig short, pr_sigpend and pr_sighold, 4 pids,
 * 4 timevals, pr_reg, pr_fpvalid); the register sets are QEMU's
 * target/ppc/arch_dump.c layouts, which follow the kernel's: a vector
 * register is one 128-bit number, so it turns whole (and VSCR, in the low
 * word, moves from the last 4 bytes to the first as the kernel has it),
 * while VRSAVE is a 32-bit word at the start of its slot either way.
 */
static bool ppc64_note_swap(const char *name, uint32_t type, uint8_t *d, uint32_t n)
{
	if (strcmp(name, "CORE") && strcmp(name, "LINUX"))
		return false;
	switch (type) {
	case NT_PRSTATUS:
		if (n < PR_REG + 45 * 8)
			return false;
		swap_span(d, n, 0, 12, 4);
		swap_span(d, n, 12, 14, 2);
		swap_span(d, n, 16, 32, 8);
		swap_span(d, n, 32, 48, 4);
		swap_span(d, n, 48, PR_REG + NGREG * 8, 8);
		swap_span(d, n, PR_REG + NGREG * 8, PR_REG + NGREG * 8 + 4, 4);
		return true;
	case NT_PRFPREG:
	case NT_PPC_VSX:
		swap_each(d, n, 8);
		return true;
	case NT_PPC_VMX:
		if (n < VMX_SIZE)
			return false;
		swap_each(d, 33 * 16, 16);
		swap_each(d + 33 * 16, 4, 4);
		return true;
	case NT_PPC_SPE:
		if (n < 140)
			return false;
		swap_span(d, n, 0, 128, 4);
		swap_span(d, n, 128, 136, 8);
		swap_span(d, n, 136, 140, 4);
		return true;
	default:
		return false;
	}
}

static void ppc64_prstatus_text(const struct machine *m, const struct note *n, struct strbuf *sb)
{
	/* After gpr[32] in pr_reg; the 3 slots past result are unused. */
	static const char *const names[] = { "nip", "msr", "orig_gpr3", "ctr", "lr", "xer",
		"ccr", "softe", "trap", "dar", "dsisr", "result" };
	if (n->descsz < PR_REG + NGREG * 8)
		return;
	sb_printf(sb, "pid: %u\n", get32(m->endian, n->desc + 32));
	for (int i = 0; i < 32 + (int)(sizeof(names) / sizeof(names[0])); i++) {
		char name[8];
		if (i < 32)
			snprintf(name, sizeof(name), "r%d", i);
		sb_printf(sb, "%-8s 0x%016" PRIx64 "\n", i < 32 ? name : names[i - 32],
			  get64(m->endian, n->desc + PR_REG + i * 8));
	}
}

const struct arch_ops ppc64_arch = {
	.name = "ppc64",
	.elf_machine = EM_PPC64,
	.memory_endian = ppc64_memory_endian,
	.vmcoreinfo_search = true,
	.vtop_init = ppc64_vtop_init,
	.vtop = ppc64_vtop,
	.kernel_pages = ppc64_kernel_pages,
	.elf_maps_kernel_pages = true,
	.elf_needs_vaddr = true,
	.ram_vaddr = ppc64_ram_vaddr,
	.note_swap = ppc64_note_swap,
	.prstatus_text = ppc64_prstatus_text,
};
