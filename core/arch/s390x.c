/*
 * s390x.c - the s390x machine: register text, the kernel's and a
 * process's page tables, a process's user registers.
 *
 * NT_PRSTATUS is the kernel's struct elf_prstatus: pr_pid at 32, pr_reg at
 * 112 holding s390_regs (arch/s390/include/uapi/asm/ptrace.h): the PSW
 * (mask, address), gprs[16] of 8 bytes, acrs[16] of 4, orig_gpr2.  QEMU
 * writes all of it big-endian but pr_pid, which it stores in its host's
 * byte order (little-endian on an x86 host), and leaves orig_gpr2 0.
 *
 * After a CPU's NT_PRSTATUS, up to the next CPU's, QEMU (target/s390x/
 * arch_dump.c) and the kernel's own dumps put NT_PRFPREG and "LINUX" notes
 * of the registers ptrace has no room for in pr_reg; /cpus/N/regs shows
 * them after the PSW and general registers, found by that order in the
 * note list.  The vector registers' left halves are the floating-point
 * registers, so NT_S390_VXRS_LOW holds only the right halves of v0-v15.
 *
 * Kernel addresses: the 6.1 kernel runs with virtual = physical for its
 * image and all RAM (later kernels map themselves elsewhere and say so in
 * VMCOREINFO; not decoded yet), and /proc/vmcore has RAM at that address.
 * Its VMCOREINFO note, which QEMU's dumps lack, is where the lowcore's
 * vmcore_info field (absolute 0xe0c) points.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"

#define PR_REG 112
#define LOWCORE_VMCORE_INFO 0xe0c
#define REGS_SIZE (16 + 16 * 8 + 16 * 4 + 8)
#define NT_PRSTATUS 1
#define NT_PRFPREG 2
#define FPREGS_SIZE (8 + 16 * 8)        /* fpc, pad, fprs[16] */
#define PID_MAX_LIMIT 0x400000u /* one past the largest pid Linux hands out */

static uint32_t bswap32(uint32_t v)
{
	return v >> 24 | (v >> 8 & 0xff00) | (v << 8 & 0xff0000) | v << 24;
}

/* The LINUX notes of s390 (include/uapi/linux/elf.h). */
enum {
	NT_S390_TIMER = 0x301, NT_S390_TODCMP, NT_S390_TODPREG, NT_S390_CTRS, NT_S390_PREFIX,
	NT_S390_LAST_BREAK, NT_S390_SYSTEM_CALL, NT_S390_TDB, NT_S390_VXRS_LOW,
	NT_S390_VXRS_HIGH, NT_S390_GS_CB, NT_S390_GS_BC, NT_S390_RI_CB, NT_S390_PV_CPU_DATA,
};

/* One register of 4 or 8 bytes, as "name 0x..." */
static void reg(const struct machine *m, struct strbuf *sb, const char *name,
		const uint8_t *p, unsigned size)
{
	if (size == 8)
		sb_printf(sb, "%-8s 0x%016" PRIx64 "\n", name, get64(m->endian, p));
	else
		sb_printf(sb, "%-8s 0x%08" PRIx32 "\n", name, get32(m->endian, p));
}

/* @count registers named PREFIX0.. of @size bytes each. */
static void regs(const struct machine *m, struct strbuf *sb, const char *prefix,
		 unsigned first, const uint8_t *p, unsigned count, unsigned size)
{
	for (unsigned i = 0; i < count; i++) {
		char name[16];
		snprintf(name, sizeof(name), "%s%u", prefix, first + i);
		reg(m, sb, name, p + i * size, size);
	}
}

/* Vector registers of 16 bytes from their two halves. */
static void vector(const struct machine *m, struct strbuf *sb, unsigned i,
		   const uint8_t *left, const uint8_t *right)
{
	char name[16];
	snprintf(name, sizeof(name), "v%u", i);
	sb_printf(sb, "%-8s 0x%016" PRIx64 "%016" PRIx64 "\n", name, get64(m->endian, left),
		  get64(m->endian, right));
}

static void linux_note(const struct machine *m, const struct note *o, const struct note *fp,
		       struct strbuf *sb)
{
	static const struct { uint32_t type; const char *name; uint32_t size; } known[] = {
		{ NT_S390_TIMER, "NT_S390_TIMER", 8 }, { NT_S390_TODCMP, "NT_S390_TODCMP", 8 },
		{ NT_S390_TODPREG, "NT_S390_TODPREG", 4 }, { NT_S390_CTRS, "NT_S390_CTRS", 64 },
		{ NT_S390_PREFIX, "NT_S390_PREFIX", 4 },
		{ NT_S390_LAST_BREAK, "NT_S390_LAST_BREAK", 8 },
		{ NT_S390_SYSTEM_CALL, "NT_S390_SYSTEM_CALL", 4 },
		{ NT_S390_TDB, "NT_S390_TDB", 0 }, { NT_S390_VXRS_LOW, "NT_S390_VXRS_LOW", 128 },
		{ NT_S390_VXRS_HIGH, "NT_S390_VXRS_HIGH", 256 },
		{ NT_S390_GS_CB, "NT_S390_GS_CB", 32 }, { NT_S390_GS_BC, "NT_S390_GS_BC", 0 },
		{ NT_S390_RI_CB, "NT_S390_RI_CB", 0 },
		{ NT_S390_PV_CPU_DATA, "NT_S390_PV_CPU_DATA", 0 },
	};
	const char *name = NULL;
	uint32_t size = 0;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (known[i].type == o->type) {
			name = known[i].name;
			size = known[i].size;
		}
	if (!name) {
		sb_printf(sb, "[LINUX type %#x]\n%u bytes, not decoded\n", o->type, o->descsz);
		return;
	}
	sb_printf(sb, "[%s]\n", name);
	if (!size || o->descsz < size) {
		sb_printf(sb, "%u bytes, %s\n", o->descsz, size ? "too short" : "not decoded");
		return;
	}
	const uint8_t *d = o->desc;
	switch (o->type) {
	case NT_S390_TIMER: reg(m, sb, "timer", d, 8); break;
	case NT_S390_TODCMP: reg(m, sb, "todcmp", d, 8); break;
	case NT_S390_TODPREG: reg(m, sb, "todpreg", d, 4); break;
	case NT_S390_PREFIX: reg(m, sb, "prefix", d, 4); break;
	case NT_S390_LAST_BREAK: reg(m, sb, "last_break", d, 8); break;
	case NT_S390_SYSTEM_CALL: reg(m, sb, "system_call", d, 4); break;
	/* 16 of 8 bytes from QEMU and 64-bit kernels, of 4 from 31-bit ones */
	case NT_S390_CTRS: regs(m, sb, "cr", 0, d, 16, o->descsz >= 128 ? 8 : 4); break;
	case NT_S390_VXRS_LOW:
		for (unsigned i = 0; i < 16; i++) {
			if (fp)
				vector(m, sb, i, fp->desc + 8 + i * 8, d + i * 8);
			else {
				char right[16];
				snprintf(right, sizeof(right), "v%u_right", i);
				reg(m, sb, right, d + i * 8, 8);
			}
		}
		break;
	case NT_S390_VXRS_HIGH:
		for (unsigned i = 0; i < 16; i++)
			vector(m, sb, 16 + i, d + i * 16, d + i * 16 + 8);
		break;
	case NT_S390_GS_CB:     /* reserved, gsd, gssm, gs_epl_a */
		reg(m, sb, "gsd", d + 8, 8);
		reg(m, sb, "gssm", d + 16, 8);
		reg(m, sb, "gs_epl_a", d + 24, 8);
		break;
	}
}

/* The notes of the CPU whose NT_PRSTATUS is @n: those after it in the
 * list, up to the next NT_PRSTATUS. */
static void cpu_notes(const struct machine *m, const struct note *n, struct strbuf *sb)
{
	const struct note_set *ns = m->notes;
	size_t first = 0, end;
	while (ns && first < ns->count && &ns->list[first] != n)
		first++;
	if (!ns || first == ns->count)
		return;         /* not from the note list */
	const struct note *fp = NULL;
	for (end = first + 1; end < ns->count; end++) {
		const struct note *o = &ns->list[end];
		if (!strcmp(o->name, "CORE") && o->type == NT_PRSTATUS)
			break;
		if (!strcmp(o->name, "CORE") && o->type == NT_PRFPREG && o->descsz >= FPREGS_SIZE)
			fp = o;
	}
	if (fp) {
		sb_printf(sb, "[NT_PRFPREG]\n");
		reg(m, sb, "fpc", fp->desc, 4);
		regs(m, sb, "f", 0, fp->desc + 8, 16, 8);
	}
	for (size_t i = first + 1; i < end; i++)
		if (!strcmp(ns->list[i].name, "LINUX"))
			linux_note(m, &ns->list[i], fp, sb);
}

static void s390x_prstatus_text(const struct machine *m, const struct note *n, struct strbuf *sb)
{
	const uint8_t *r = n->desc + PR_REG;
	if (n->descsz < PR_REG + REGS_SIZE)
		return;
	/* A pid no kernel hands out, whose bytes the other way round make
	 * one, is QEMU's host-endian pr_pid: shown as meant, and said. */
	uint32_t pid = get32(m->endian, n->desc + 32);
	if (pid >= PID_MAX_LIMIT && bswap32(pid) < PID_MAX_LIMIT)
		sb_printf(sb, "pid: %u\npid_byte_order: %s (the note's other fields: %s)\n",
			  bswap32(pid), m->endian.big ? "little-endian" : "big-endian",
			  m->endian.big ? "big-endian" : "little-endian");
	else
		sb_printf(sb, "pid: %u\n", pid);
	sb_printf(sb, "psw_mask 0x%016" PRIx64 "\npsw_addr 0x%016" PRIx64 "\n",
		  get64(m->endian, r), get64(m->endian, r + 8));
	for (int i = 0; i < 16; i++)
		sb_printf(sb, "r%-7d 0x%016" PRIx64 "\n", i, get64(m->endian, r + 16 + i * 8));
	for (int i = 0; i < 16; i++)
		sb_printf(sb, "a%-7d 0x%08" PRIx32 "\n", i, get32(m->endian, r + 144 + i * 4));
	sb_printf(sb, "orig_gpr2 0x%016" PRIx64 "\n", get64(m->endian, r + 208));
	cpu_notes(m, n, sb);
}

static bool s390x_vmcoreinfo_pointer(const struct machine *m, uint64_t *paddr)
{
	return space_read_u64(m->phys, LOWCORE_VMCORE_INFO, m->mem_endian, paddr);
}

/* Kernels that map themselves elsewhere say where in VMCOREINFO. */
static enum dumpfs_status s390x_vtop_init(struct vtop *t, const struct machine *m,
					  char *why, size_t whylen)
{
	char v[32];
	*t = (struct vtop){ .m = m, .cached_vpage = UINT64_MAX };
	if (vmcoreinfo_get(m->notes, "IDENTITY_BASE", v, sizeof(v)) ||
	    vmcoreinfo_get(m->notes, "NUMBER(IDENTITY_BASE)", v, sizeof(v))) {
		snprintf(why, whylen, "s390x kernels with an identity map at IDENTITY_BASE are not decoded yet");
		return DUMPFS_ERR_UNSUPPORTED;
	}
	return DUMPFS_OK;
}

/*
 * The DAT tables (z/Architecture Principles of Operation, "Dynamic Address
 * Translation"): region-first, -second and -third tables and segment tables
 * of 2048 8-byte entries, page tables of 256.  An entry's TT bits say which
 * table it is in, so the top table's type is read from its entries (the
 * ASCE that would say it is not in the dump); Linux 6.1 uses a region-third
 * table for kernels below 4 TiB.  FC marks a large frame: 1 MiB in a
 * segment-table entry, 2 GiB in a region-third one.
 */
#define DAT_ENTRIES 2048
#define DAT_PT_ENTRIES 256
#define DAT_INVALID 0x20ull             /* region and segment entries */
#define DAT_PTE_INVALID 0x400ull
#define DAT_FC 0x400ull
#define DAT_TT(e) ((unsigned)((e) >> 2) & 3)    /* 0 segment .. 3 region-first */
#define DAT_ORIGIN 0xfffffffffffff000ull
#define DAT_PT_ORIGIN 0xfffffffffffff800ull

static const unsigned dat_shift[] = { 20, 31, 42, 53 };         /* by TT */
static const struct endian BIG = { true };

/* Linux's software bits (asm/pgtable.h): a user page-table entry is
 * present by _PAGE_PRESENT, whatever its invalid bit, which Linux also
 * sets on present pages it wants to see referenced (young tracking); a
 * large segment or region-third entry (FC set) is present whenever it is
 * not the empty entry, which has no FC (its software bits are read and
 * write, not present).  The kernel's walk, whose entries are always
 * young, keeps to the hardware's bits. */
#define SW_PRESENT 0x1ull

static bool leaf_present(uint64_t e, bool user, bool large, uint64_t invalid)
{
	if (!user)
		return !(e & invalid);
	return large || (e & SW_PRESENT) != 0;
}

/* Only the entries [first, last] of a table are read. */
static void walk_page_table(const struct machine *m, struct kernel_walk *w, uint64_t table,
			    uint64_t base, bool user)
{
	uint8_t t[DAT_PT_ENTRIES * 8];
	unsigned first, last;
	if (!pt_index_range(w, base, 12, 8, &first, &last) ||
	    !pt_read_table(m, w, table + first * 8, t, (last - first + 1) * 8))
		return;
	for (unsigned i = first; i <= last && !w->stopped; i++) {
		uint64_t e = get64(BIG, t + (i - first) * 8);
		if (leaf_present(e, user, false, DAT_PTE_INVALID))
			pt_leaf(w, base + ((uint64_t)i << 12), e & DAT_ORIGIN, 1u << 12);
	}
}

static void walk_table(const struct machine *m, struct kernel_walk *w, uint64_t table,
		       unsigned tt, uint64_t base, bool user)
{
	const unsigned shift = dat_shift[tt];
	unsigned first, last;
	if (!pt_index_range(w, base, shift, 11, &first, &last))
		return;
	uint8_t *t = malloc((size_t)(last - first + 1) * 8);
	if (!t || !pt_read_table(m, w, table + first * 8, t, (size_t)(last - first + 1) * 8)) {
		free(t);
		return;
	}
	for (unsigned i = first; i <= last && !w->stopped && !w->truncated; i++) {
		uint64_t e = get64(BIG, t + (size_t)(i - first) * 8), va = base + ((uint64_t)i << shift);
		if (DAT_TT(e) != tt)
			continue;       /* not an entry of this table */
		if ((tt == 0 || tt == 1) && (e & DAT_FC)) {
			unsigned large = tt == 0 ? 20 : 31;
			if (leaf_present(e, user, true, DAT_INVALID))
				pt_leaf(w, va, e & ~((1ull << large) - 1), 1ull << large);
		} else if (e & DAT_INVALID) {
			continue;
		} else if (tt == 0) {
			walk_page_table(m, w, e & DAT_PT_ORIGIN, va, user);
		} else {
			walk_table(m, w, e & DAT_ORIGIN, tt - 1, va, user);
		}
	}
	free(t);
}

/* swapper_pg_dir, the kernel's top table; its virtual address is its
 * physical one on these kernels. */
static enum dumpfs_status s390x_kernel_pages(const struct machine *m, struct kernel_walk *w)
{
	char v[32];
	uint8_t e[8];
	if (vmcoreinfo_get(m->notes, "IDENTITY_BASE", v, sizeof(v)) ||
	    vmcoreinfo_get(m->notes, "NUMBER(IDENTITY_BASE)", v, sizeof(v))) {
		snprintf(w->why, sizeof(w->why), "s390x kernels with an identity map at IDENTITY_BASE are not decoded yet");
		return DUMPFS_ERR_UNSUPPORTED;
	}
	if (!vmcoreinfo_get(m->notes, "SYMBOL(swapper_pg_dir)", v, sizeof(v))) {
		snprintf(w->why, sizeof(w->why), "no SYMBOL(swapper_pg_dir) in VMCOREINFO");
		return DUMPFS_ERR_UNSUPPORTED;
	}
	uint64_t root = strtoull(v, NULL, 16);
	/* The first valid entry tells the table's type. */
	for (unsigned i = 0; i < DAT_ENTRIES; i++) {
		if (space_read(m->phys, e, 8, root + i * 8) != 8)
			break;
		uint64_t x = get64(BIG, e);
		if (!(x & DAT_INVALID)) {
			walk_table(m, w, root, DAT_TT(x), 0, false);
			return DUMPFS_OK;
		}
	}
	snprintf(w->why, sizeof(w->why), "swapper_pg_dir at %#" PRIx64 " has no valid entry in the dump", root);
	return DUMPFS_ERR_UNSUPPORTED;
}

/*
 * User space: mm->pgd is the top table of the process's ASCE, a
 * region-third table (4 TiB, mm->context.asce_limit _REGION2_SIZE) until
 * a mapping above makes Linux add a level.  Its type is in the TT bits of
 * its first entry, which Linux sets in empty entries too.  TASK_SIZE_MAX
 * is -PAGE_SIZE, but a file cannot be that long: /tasks/PID/mem ends at
 * 8 PiB, what a region-second table reaches; the mm's own asce_limit,
 * where BTF has it, makes it shorter.
 */
#define USER_LIMIT (1ull << 53)

static uint64_t s390x_user_limit(const struct machine *m)
{
	(void)m;
	return USER_LIMIT;
}

static bool user_walk(const struct machine *m, uint64_t pgd, struct kernel_walk *w)
{
	uint64_t e;
	if (!space_read_u64(m->phys, pgd, BIG, &e)) {
		snprintf(w->why, sizeof(w->why), "the top table at %#" PRIx64 " is not in the dump", pgd);
		return false;
	}
	walk_table(m, w, pgd, DAT_TT(e), 0, true);
	return true;
}



/*
 * The user registers: pt_regs begins with user_pt_regs (args[1], the PSW,
 * gprs[16]), orig_gpr2 follows at 152; NT_PRSTATUS's s390_regs is the
 * PSW, the gprs, the access registers (which the thread struct keeps:
 * threads.c hands them over) and orig_gpr2.  A frame saved from user
 * space has the PSW's problem-state bit; a 64-bit task's also EA and BA
 * (a 31-bit task's pr_reg is another layout: not decoded).
 */
#define PT_PSW 8
#define PT_GPRS 24
#define PT_ORIG_GPR2 152
#define PSW_MASK_PSTATE 0x0001000000000000ull
#define PSW_MASK_EA 0x0000000100000000ull
#define PSW_MASK_BA 0x0000000080000000ull

static size_t s390x_user_regs(const struct machine *m, const uint8_t *pt_regs, size_t len,
			      const uint64_t extra[USER_REGS_EXTRA], uint8_t *out, size_t outlen)
{
	if (len < PT_ORIG_GPR2 + 8 || outlen < REGS_SIZE)
		return 0;
	uint64_t mask = get64(m->mem_endian, pt_regs + PT_PSW);
	uint64_t addr = get64(m->mem_endian, pt_regs + PT_PSW + 8);
	uint64_t sp = get64(m->mem_endian, pt_regs + PT_GPRS + 15 * 8);
	if (!(mask & PSW_MASK_PSTATE) || (mask & (PSW_MASK_EA | PSW_MASK_BA)) != (PSW_MASK_EA | PSW_MASK_BA) ||
	    addr >= USER_LIMIT || sp >= USER_LIMIT)
		return 0;
	memcpy(out, pt_regs + PT_PSW, 16 + 16 * 8);
	for (int i = 0; i < USER_REGS_EXTRA; i++)       /* acrs[16], 4 bytes each */
		put64(m->mem_endian, out + 144 + i * 8, extra[i]);
	memcpy(out + 208, pt_regs + PT_ORIG_GPR2, 8);
	return REGS_SIZE;
}

/* RAM at its identity address; the rest (vmalloc, modules) through the
 * tables. */
static bool s390x_vtop(struct vtop *t, uint64_t vaddr, uint64_t *paddr)
{
	if (vaddr < t->m->phys->size) {
		*paddr = vaddr;
		return true;
	}
	return pt_walk_vtop(t->m, vaddr, paddr);
}

static bool s390x_ram_vaddr(const struct machine *m, uint64_t paddr, uint64_t len, uint64_t *vaddr)
{
	(void)m;
	(void)len;
	*vaddr = paddr;
	return true;
}

const struct arch_ops s390x_arch = {
	.name = "s390x",
	.elf_machine = EM_S390,
	.vmcoreinfo_pointer = s390x_vmcoreinfo_pointer,
	.vtop_init = s390x_vtop_init,
	.vtop = s390x_vtop,
	.kernel_pages = s390x_kernel_pages,
	.user_vtop = pt_user_vtop,
	.user_next = pt_user_next,
	.user_walk = user_walk,
	.user_limit = s390x_user_limit,
	.user_regs = s390x_user_regs,
	.kernel_stack_size = 16384,     /* THREAD_SIZE, not in BTF */
	.prstatus_size = 336,           /* struct elf_prstatus: 112 + s390_regs + pr_fpvalid, padded */
	.prstatus_reg_off = 112,
	.elf_maps_kernel_pages = true,
	.elf_needs_vaddr = true,
	.ram_vaddr = s390x_ram_vaddr,
	.prstatus_text = s390x_prstatus_text,
};
