/*
 * detect.c - which architecture a dump is of, and how that was decided.
 *
 * An ELF dump says it in e_machine, and a kdump file in utsname.machine,
 * which makedumpfile copies from the kernel ("x86_64", "aarch64") but QEMU
 * writes on its own: "Unknown" for aarch64 and ppc64 guests, "S390X" for
 * s390x ones.  Where that names nothing, the dump still tells, in order of
 * trust:
 *   - VMCOREINFO entries only one architecture's kernel exports;
 *   - note types only one architecture uses (the LINUX notes of ppc, s390
 *     and arm; NT_X86_XSTATE; QEMU's x86 CPU state);
 *   - the size of NT_PRSTATUS, whose register block differs, with the
 *     file's byte order to tell s390x from x86_64 (both 336 bytes).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "arch/arch.h"

/* VMCOREINFO entries of each architecture's arch_crash_save_vmcoreinfo(). */
static const struct { const char *key; uint16_t em; } vmcoreinfo_keys[] = {
	{ "NUMBER(kimage_voffset)", EM_AARCH64 },
	{ "NUMBER(TCR_EL1_T1SZ)", EM_AARCH64 },
	{ "SYMBOL(lowcore_ptr)", EM_S390 },
	{ "SAMODE31", EM_S390 },
	{ "SYMBOL(mmu_psize_defs)", EM_PPC64 },
	{ "SYMBOL(vmemmap_list)", EM_PPC64 },
	{ "NUMBER(phys_base)", EM_X86_64 },
	{ "SYMBOL(init_top_pgt)", EM_X86_64 },
};

/* Types of "LINUX" notes (include/uapi/linux/elf.h): 0x1xx ppc, 0x2xx
 * x86, 0x3xx s390, 0x4xx arm. */
static uint16_t linux_note_machine(uint32_t type, bool is_32bit)
{
	switch (type >> 8) {
	case 1: return EM_PPC64;
	case 2: return is_32bit ? EM_386 : EM_X86_64;
	case 3: return EM_S390;
	case 4: return EM_AARCH64;
	default: return 0;
	}
}

/* sizeof(struct elf_prstatus): 112 bytes before pr_reg on 64-bit kernels
 * (72 on i386), then ELF_NGREG registers and pr_fpvalid, padded. */
static uint16_t prstatus_machine(uint32_t size, bool big)
{
	switch (size) {
	case 336: return big ? EM_S390 : EM_X86_64;     /* 27 u64, or s390_regs */
	case 392: return EM_AARCH64;                     /* 34 u64 */
	case 504: return EM_PPC64;                       /* 48 u64 */
	case 144: return EM_386;                         /* 17 u32 */
	default: return 0;
	}
}

uint16_t arch_detect(const struct format *f, const char **how)
{
	const struct note_set *ns = &f->notes;
	char v[8];

	if (f->elf_machine) {
		*how = f->machine_origin ? f->machine_origin : "the dump's header";
		return f->elf_machine;
	}
	for (size_t i = 0; i < sizeof(vmcoreinfo_keys) / sizeof(vmcoreinfo_keys[0]); i++)
		if (vmcoreinfo_get(ns, vmcoreinfo_keys[i].key, v, sizeof(v))) {
			*how = "an architecture's own VMCOREINFO entry";
			return vmcoreinfo_keys[i].em;
		}
	for (size_t i = 0; i < ns->count; i++) {
		const struct note *n = &ns->list[i];
		uint16_t em = 0;
		if (!strcmp(n->name, "LINUX"))
			em = linux_note_machine(n->type, f->is_32bit);
		else if (!strcmp(n->name, "QEMU"))
			em = f->is_32bit ? EM_386 : EM_X86_64;  /* only x86 writes them */
		if (em) {
			*how = "an architecture's own note type";
			return em;
		}
	}
	if (ns->nprstatus) {
		const struct note *n = &ns->list[ns->prstatus[0]];
		uint16_t em = prstatus_machine(n->descsz, f->endian.big);
		if (em) {
			*how = "the size of NT_PRSTATUS";
			return em;
		}
	}
	*how = "nothing in the dump names it";
	return 0;
}
