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
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>

#include "arch/arch.h"

#define PR_REG 112
#define NGREG 48

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
	.prstatus_text = ppc64_prstatus_text,
};
