/*
 * i386.c - the i386 machine: register text (its QEMU CPU state is the
 * x86 one).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "arch/arch.h"

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
	.prstatus_text = i386_prstatus_text,
	.cpustate_text = x86_cpustate_text,
};
