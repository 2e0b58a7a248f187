/*
 * x86_cpustate.c - QEMU's "QEMU" CPU-state note of x86 guests
 * (QEMUCPUState, QEMU target/i386/arch_dump.c), one layout for i386 and
 * x86_64: general registers, segments with their bases, control registers.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>

#include "arch/arch.h"

#define CPUSTATE_MIN_SIZE 432           /* up to cr[4] */
#define CPUSTATE_SEGMENTS 152
#define CPUSTATE_CR 392
#define CPUSTATE_KERNEL_GS_BASE 432

bool x86_cpustate_control(const struct machine *m, const struct note *n,
			  uint64_t *cr3, uint64_t *cr4)
{
	if (n->descsz < CPUSTATE_CR + 5 * 8)
		return false;
	*cr3 = get64(m->endian, n->desc + CPUSTATE_CR + 3 * 8);
	*cr4 = get64(m->endian, n->desc + CPUSTATE_CR + 4 * 8);
	return true;
}

void x86_cpustate_text(const struct machine *m, const struct note *n, struct strbuf *sb)
{
	static const char *gpr[] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags" };
	static const char *seg[] = { "cs", "ds", "es", "fs", "gs", "ss", "ldt", "tr", "gdt", "idt" };
	struct endian e = m->endian;
	const uint8_t *p = n->desc;

	if (n->descsz < CPUSTATE_MIN_SIZE)
		return;
	uint32_t size = get32(e, p + 4);   /* the version's size, by which it is told */
	sb_printf(sb, "qemu_cpustate: version %u, size %u\n", get32(e, p), size);
	for (int i = 0; i < 18; i++)
		sb_printf(sb, "%-8s 0x%016" PRIx64 "\n", gpr[i], get64(e, p + 8 + i * 8));
	for (int i = 0; i < 10; i++) {
		const uint8_t *s = p + CPUSTATE_SEGMENTS + i * 24;
		sb_printf(sb, "%-8s selector 0x%04x limit 0x%08x flags 0x%08x base 0x%016" PRIx64 "\n",
			  seg[i], get32(e, s), get32(e, s + 4), get32(e, s + 8), get64(e, s + 16));
	}
	for (int i = 0; i < 5; i++)
		sb_printf(sb, "cr%d      0x%016" PRIx64 "\n", i, get64(e, p + CPUSTATE_CR + i * 8));
	if (size >= CPUSTATE_KERNEL_GS_BASE + 8 && n->descsz >= CPUSTATE_KERNEL_GS_BASE + 8)
		sb_printf(sb, "kernel_gs_base 0x%016" PRIx64 "\n", get64(e, p + CPUSTATE_KERNEL_GS_BASE));
}
