/*
 * s390x.c - the s390x machine: register text.
 *
 * NT_PRSTATUS is the kernel's struct elf_prstatus: pr_pid at 32, pr_reg at
 * 112 holding s390_regs (arch/s390/include/uapi/asm/ptrace.h): the PSW
 * (mask, address), gprs[16] of 8 bytes, acrs[16] of 4, orig_gpr2.  QEMU
 * writes all of it big-endian but pr_pid, which it stores in its host's
 * byte order (little-endian on an x86 host), and leaves orig_gpr2 0.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>

#include "arch/arch.h"

#define PR_REG 112
#define REGS_SIZE (16 + 16 * 8 + 16 * 4 + 8)
#define PID_MAX_LIMIT 0x400000u /* one past the largest pid Linux hands out */

static uint32_t bswap32(uint32_t v)
{
	return v >> 24 | (v >> 8 & 0xff00) | (v << 8 & 0xff0000) | v << 24;
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
}

const struct arch_ops s390x_arch = {
	.name = "s390x",
	.elf_machine = EM_S390,
	.prstatus_text = s390x_prstatus_text,
};
