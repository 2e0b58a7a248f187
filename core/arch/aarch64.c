/*
 * aarch64.c - the aarch64 machine: register text.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>

#include "arch/arch.h"

static void aarch64_prstatus_text(const struct machine *m, const struct note *n, struct strbuf *sb)
{
	if (n->descsz < 112 + 34 * 8)
		return;
	sb_printf(sb, "pid: %u\n", get32(m->endian, n->desc + 32));
	for (int i = 0; i < 34; i++) {
		char name[8];
		snprintf(name, sizeof(name), i < 31 ? "x%d" : i == 31 ? "sp" : i == 32 ? "pc" : "pstate", i);
		sb_printf(sb, "%-8s 0x%016" PRIx64 "\n", name, get64(m->endian, n->desc + 112 + i * 8));
	}
}

const struct arch_ops aarch64_arch = {
	.name = "aarch64",
	.elf_machine = EM_AARCH64,
	.prstatus_text = aarch64_prstatus_text,
};
