/*
 * kernel.h - what the dumped kernel's own data says, read through its
 * virtual addresses with nothing but the dump: the kernel log today; the
 * symbols (kallsyms), types (BTF) and tasks to come land here too.
 *
 *   kmem.c      reads at kernel virtual addresses (the arch translates)
 *   dmesg.c     the kernel log
 *   kallsyms.c  the symbol table, from the kallsyms tables in memory
 *   btf.c       the type information (BTF), found in the kernel image
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
/* Read one pointer or long (machine_word_size() bytes) at @vaddr. */
bool kmem_read_word(struct kmem *km, uint64_t vaddr, uint64_t *value);
/* The pointer or long at @p, in the kernel's byte order and size. */
uint64_t kmem_word(const struct kmem *km, const uint8_t *p);

/* The kernel log as crash's `log` prints it.  On failure @why says why and
 * nothing useful is in @sb. */
enum dumpfs_status dmesg_render(const struct machine *m, struct strbuf *sb, char *why, size_t whylen);

/* The kernel's symbols: symbol i is at addr[i], its nm type letter is
 * names[name[i]] and its name follows. */
struct kallsyms {
	size_t count;
	uint64_t *addr;
	uint32_t *name;
	char *names;
	const char *encoding;           /* how the addresses were stored */
	unsigned anchors;               /* symbols checked against VMCOREINFO */
};

/* Whether VMCOREINFO names the kallsyms tables (cheap: no memory read). */
bool kallsyms_named(const struct machine *m);
/* Decode the tables the dump's VMCOREINFO names; @why says what failed. */
enum dumpfs_status kallsyms_load(const struct machine *m, struct kallsyms *ks, char *why, size_t whylen);
void kallsyms_free(struct kallsyms *ks);
/* The symbols as System.map has them ("ADDRESS TYPE NAME", by address);
 * on success @why says what was decoded, on failure why not. */
enum dumpfs_status kallsyms_render(const struct machine *m, struct strbuf *sb, char *why, size_t whylen);

/* Whether the image can be searched for BTF (cheap: no memory read). */
bool btf_searchable(const struct machine *m);
/* The kernel's BTF blob, as the image holds it; on success @why says where
 * it was found, on failure why it was not. */
enum dumpfs_status btf_render(const struct machine *m, struct strbuf *sb, char *why, size_t whylen);

#endif /* DUMPFS_KERNEL_H */
