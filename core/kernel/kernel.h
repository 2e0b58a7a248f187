/*
 * kernel.h - what the dumped kernel's own data says, read through its
 * virtual addresses with nothing but the dump: the kernel log today; the
 * symbols (kallsyms), types (BTF) and tasks to come land here too.
 *
 *   kmem.c    reads at kernel virtual addresses (the arch translates)
 *   dmesg.c   the kernel log
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_KERNEL_H
#define DUMPFS_KERNEL_H

#include "arch/arch.h"

/* One reader of kernel virtual memory (one per thread: it caches). */
struct kmem {
	const struct machine *m;
	struct vtop vtop;
};

/* Set up; @why says what is missing (an architecture without
 * translation, an unknown phys_base). */
enum dumpfs_status kmem_init(struct kmem *km, const struct machine *m, char *why, size_t whylen);
/* Read @len bytes at kernel virtual @vaddr; false if any byte cannot be. */
bool kmem_read(struct kmem *km, uint64_t vaddr, void *buf, size_t len);

/* The kernel log as crash's `log` prints it.  On failure @why says why and
 * nothing useful is in @sb. */
enum dumpfs_status dmesg_render(const struct machine *m, struct strbuf *sb, char *why, size_t whylen);

#endif /* DUMPFS_KERNEL_H */
