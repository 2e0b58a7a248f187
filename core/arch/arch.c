/*
 * arch.c - the architectures dumpfs knows, by ELF e_machine.  A machine
 * not listed gets a table with its name and no decoders: its dumps still
 * read, and its registers show as hex.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "arch/arch.h"

static const struct arch_ops unknown_arch = { .name = "unknown" };

const struct arch_ops *arch_of(uint16_t em)
{
	static const struct arch_ops *const known[] = { &x86_64_arch, &i386_arch, &aarch64_arch,
		&ppc64_arch, &s390x_arch };
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (known[i]->elf_machine == em)
			return known[i];
	return &unknown_arch;
}
