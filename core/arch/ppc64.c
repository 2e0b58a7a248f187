/*
 * ppc64.c - the ppc64 machine (either byte order): register text, the
 * kernel's and a process's page tables, a process's user registers.
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

/* Only the entries [first, last] of a table are read. */
static void walk_table(const struct machine *m, struct kernel_walk *w, uint64_t table,
		       unsigned bits, unsigned shift, uint64_t base)
{
	unsigned first, last;
	if (!pt_index_range(w, base, shift, bits, &first, &last))
		return;
	size_t n = (size_t)last - first + 1;
	uint8_t *t = malloc(n * 8);
	if (!t || !pt_read_table(m, w, table + (uint64_t)first * 8, t, n * 8)) {
		free(t);
		return;
	}
	for (unsigned i = first; i <= last && !w->stopped && !w->truncated; i++) {
		uint64_t e = get64(BIG, t + (size_t)(i - first) * 8), va = base + ((uint64_t)i << shift);
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

/* The top table's geometry, the same for the kernel's tables and a
 * process's: its index bits and the bytes an entry maps as a shift; 0 with
 * @why if swapper_pg_dir does not tell. */
static unsigned top_table(const struct machine *m, uint64_t *root, unsigned *shift,
			  char *why, size_t whylen)
{
	char v[32];
	uint8_t e[8];
	if (!vmcoreinfo_get(m->notes, "SYMBOL(swapper_pg_dir)", v, sizeof(v))) {
		snprintf(why, whylen, "no SYMBOL(swapper_pg_dir) in VMCOREINFO");
		return 0;
	}
	*root = strtoull(v, NULL, 16) - LINEAR_BASE;
	/* Entry 0 maps the start of the linear map, on every kernel. */
	if (space_read(m->phys, e, 8, *root) != 8 || !(get64(BIG, e) & PTE_VALID)) {
		snprintf(why, whylen, "swapper_pg_dir's first entry (at %#" PRIx64 ") is not in the dump or not valid",
			 *root);
		return 0;
	}
	unsigned next = (unsigned)(get64(BIG, e) & PTE_NLS);
	*shift = next == 9 ? 39 : 44;
	if (next == 9 || next == 10)
		return next == 9 ? 13 : 8;
	snprintf(why, whylen, "swapper_pg_dir's entries point to %u-bit tables: neither radix nor hash with 64 KiB pages",
		 next);
	return 0;
}

static enum dumpfs_status ppc64_kernel_pages(const struct machine *m, struct kernel_walk *w)
{
	uint64_t root;
	unsigned shift, bits = top_table(m, &root, &shift, w->why, sizeof(w->why));
	if (!bits)
		return DUMPFS_ERR_UNSUPPORTED;
	walk_table(m, w, root, bits, shift, LINEAR_BASE);
	return DUMPFS_OK;
}

/*
 * User space: quadrant 0, [0, TASK_SIZE_USER64) through mm->pgd, a top
 * table like swapper_pg_dir's.  TASK_SIZE_USER64 is 4 PiB with 64 KiB
 * pages and 64 TiB with 4 KiB ones (asm/task_size_64.h); the page size is
 * VMCOREINFO's PAGESIZE (64 KiB, Debian's, where it is missing).
 */
static uint64_t ppc64_user_limit(const struct machine *m)
{
	uint64_t page_size;
	if (vmcoreinfo_u64(m->notes, "PAGESIZE", 10, &page_size) && page_size == 4096)
		return 1ull << 46;
	return 1ull << 52;
}

static bool user_walk(const struct machine *m, uint64_t pgd, struct kernel_walk *w)
{
	uint64_t root;
	unsigned shift, bits = top_table(m, &root, &shift, w->why, sizeof(w->why));
	if (!bits)
		return false;
	walk_table(m, w, pgd, bits, shift, 0);
	return true;
}



/*
 * The user registers: pt_regs begins with user_pt_regs (44 words, the
 * gpr, nip, msr ... result above), which ptrace's and a core dump's
 * NT_PRSTATUS have in their first 44 of 48 words, the rest zero.  A frame
 * saved from user space has MSR_PR (problem state) set; a 64-bit task's
 * also MSR_SF (a 32-bit task's pr_reg is another layout: not decoded).
 */
#define USER_PT_REGS 44
#define MSR_PR (1ull << 14)
#define MSR_SF (1ull << 63)

static size_t ppc64_user_regs(const struct machine *m, const uint8_t *pt_regs, size_t len,
			      const uint64_t extra[USER_REGS_EXTRA], uint8_t *out, size_t outlen)
{
	(void)extra;
	if (len < USER_PT_REGS * 8 || outlen < NGREG * 8)
		return 0;
	uint64_t nip = get64(m->mem_endian, pt_regs + 32 * 8), msr = get64(m->mem_endian, pt_regs + 33 * 8);
	uint64_t sp = get64(m->mem_endian, pt_regs + 1 * 8), limit = ppc64_user_limit(m);
	if (!(msr & MSR_PR) || !(msr & MSR_SF) || nip >= limit || sp >= limit)
		return 0;
	memcpy(out, pt_regs, USER_PT_REGS * 8);
	memset(out + USER_PT_REGS * 8, 0, (NGREG - USER_PT_REGS) * 8);
	return NGREG * 8;
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
	.user_vtop = pt_user_vtop,
	.user_next = pt_user_next,
	.user_walk = user_walk,
	.user_limit = ppc64_user_limit,
	.user_regs = ppc64_user_regs,
	/* THREAD_SIZE (16 KiB on 64-bit), not in BTF; thread.regs, which BTF
	 * has, points at the frame itself */
	.kernel_stack_size = 16384,
	.prstatus_size = 504,           /* struct elf_prstatus: 112 + 48 * 8 + pr_fpvalid, padded */
	.prstatus_reg_off = 112,
	.elf_maps_kernel_pages = true,
	.elf_needs_vaddr = true,
	.ram_vaddr = ppc64_ram_vaddr,
	.note_swap = ppc64_note_swap,
	.prstatus_text = ppc64_prstatus_text,
};
