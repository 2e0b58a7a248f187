/*
 * text.c - the readable files: /header, /cpus/N/regs, /stats (/dmesg is
 * dmesg.c's).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define EM_386 3
#define EM_X86_64 62
#define EM_AARCH64 183

static const char *note_type_name(const struct note *n)
{
	if (!strcmp(n->name, "CORE")) {
		switch (n->type) {
		case 1: return "NT_PRSTATUS";
		case 2: return "NT_PRFPREG";
		case 3: return "NT_PRPSINFO";
		case 4: return "NT_TASKSTRUCT";
		case 6: return "NT_AUXV";
		}
	}
	if (!strcmp(n->name, "LINUX") && n->type == 0x202)
		return "NT_X86_XSTATE";
	if (!strcmp(n->name, "QEMU"))
		return "QEMU_CPUSTATE";
	if (!strcmp(n->name, "VMCOREINFO"))
		return "VMCOREINFO";
	if (!strcmp(n->name, "ERASEINFO"))
		return "ERASEINFO";
	return NULL;
}

static const char *origin(const struct dumpfs_dump *d)
{
	bool tails, ktext;
	if (d->producer)
		return d->producer;
	if (d->notes.nqemu)
		return "QEMU dump-guest-memory";
	if (d->ops == &kdump_ops)
		return "makedumpfile (or a compatible writer)";
	if (elf_origin_hints(d, &tails, &ktext)) {
		if (tails || d->notes.eraseinfo)
			return "makedumpfile -E";
		if (ktext)
			return "/proc/vmcore copy";
	}
	return "unknown";
}

void text_header(struct dumpfs_dump *d, struct strbuf *sb)
{
	char v[128];

	sb_printf(sb, "format: %s%s\n", d->format_name, d->files[0].flat ? " (flattened)" : "");
	sb_printf(sb, "origin: %s\n", origin(d));
	for (size_t i = 0; i < d->nfiles; i++) {
		const struct source *s = &d->files[i];
		sb_printf(sb, "file: %s", s->path);
		if (s->flat)
			sb_printf(sb, " (flattened, %zu records, rearranged size %" PRIu64 ")",
				  flat_record_count(s->flat), s->size);
		sb_printf(sb, "\n");
	}
	d->ops->describe(d, sb);
	sb_printf(sb, "page_size: %u\nmax_pfn: %#" PRIx64 "\nmem_size: %" PRIu64 "\n",
		  d->page_size, d->max_pfn, dumpfs_mem_size(d));
	if (d->has_phys_base)
		sb_printf(sb, "phys_base: %#" PRIx64 " (%s)\n", d->phys_base, d->phys_base_origin);
	else
		sb_printf(sb, "phys_base: unknown\n");
	if (vmcoreinfo_get(&d->notes, "OSRELEASE", v, sizeof(v)))
		sb_printf(sb, "osrelease: %s\n", v);
	if (vmcoreinfo_get(&d->notes, "KERNELOFFSET", v, sizeof(v)))
		sb_printf(sb, "kerneloffset: %s\n", v);
	sb_printf(sb, "ram_runs: %zu\nram_pages: %" PRIu64 "\ndumped_pages: %" PRIu64 "\n",
		  d->nram, d->ram_pages, d->dumped_pages);
	sb_printf(sb, "excluded_pages: %" PRIu64 "\n",
		  d->ram_pages > d->dumped_pages ? d->ram_pages - d->dumped_pages : 0);
	sb_printf(sb, "incomplete: %s\n", d->incomplete ? "yes" : "no");
	sb_printf(sb, "cpus: %zu prstatus, %zu qemu\n", d->notes.nprstatus, d->notes.nqemu);
	sb_printf(sb, "vmcoreinfo: %s\n", d->notes.vmcoreinfo ? "yes" : "no");
	sb_printf(sb, "notes: %zu\n", d->notes.count);
	for (size_t i = 0; i < d->notes.count; i++) {
		const struct note *n = &d->notes.list[i];
		const char *t = note_type_name(n);
		sb_printf(sb, "  %zu: %s type %#x%s%s, %u bytes\n", i, n->name, n->type,
			  t ? " " : "", t ? t : "", n->descsz);
	}
	if (dumpfs_node_by_path(d, "/dmesg") >= 0)
		sb_printf(sb, "dmesg: %s\n", d->dmesg_status);
	else
		sb_printf(sb, "dmesg: absent (%s)\n", d->dmesg_status[0] ? d->dmesg_status : "not decoded");
	sb_printf(sb, "vmcore.elf: %" PRIu64 " bytes%s\n", elf_view_size(d),
		  d->elf_passthrough ? " (the input ELF as is)" : "");
	if (d->warnings[0])
		sb_printf(sb, "warnings:\n%s", d->warnings);
}

static void regs_x86_64_prstatus(struct dumpfs_dump *d, const struct note *n, struct strbuf *sb)
{
	static const char *names[] = { "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10",
		"r9", "r8", "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "rflags",
		"rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs" };
	if (n->descsz < 112 + 27 * 8)
		return;
	sb_printf(sb, "pid: %u\n", get32(d->endian, n->desc + 32));
	for (int i = 0; i < 27; i++)
		sb_printf(sb, "%-8s 0x%016" PRIx64 "\n", names[i], get64(d->endian, n->desc + 112 + i * 8));
}

static void regs_i386_prstatus(struct dumpfs_dump *d, const struct note *n, struct strbuf *sb)
{
	static const char *names[] = { "ebx", "ecx", "edx", "esi", "edi", "ebp", "eax", "ds", "es",
		"fs", "gs", "orig_eax", "eip", "cs", "eflags", "esp", "ss" };
	if (n->descsz < 72 + 17 * 4)
		return;
	sb_printf(sb, "pid: %u\n", get32(d->endian, n->desc + 24));
	for (int i = 0; i < 17; i++)
		sb_printf(sb, "%-8s 0x%08x\n", names[i], get32(d->endian, n->desc + 72 + i * 4));
}

static void regs_aarch64_prstatus(struct dumpfs_dump *d, const struct note *n, struct strbuf *sb)
{
	if (n->descsz < 112 + 34 * 8)
		return;
	sb_printf(sb, "pid: %u\n", get32(d->endian, n->desc + 32));
	for (int i = 0; i < 34; i++) {
		char name[8];
		snprintf(name, sizeof(name), i < 31 ? "x%d" : i == 31 ? "sp" : i == 32 ? "pc" : "pstate", i);
		sb_printf(sb, "%-8s 0x%016" PRIx64 "\n", name, get64(d->endian, n->desc + 112 + i * 8));
	}
}

/* QEMUCPUState (target/i386/arch_dump.c), identified by its size field. */
static void regs_qemu_x86(struct dumpfs_dump *d, const struct note *n, struct strbuf *sb)
{
	static const char *gpr[] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags" };
	static const char *seg[] = { "cs", "ds", "es", "fs", "gs", "ss", "ldt", "tr", "gdt", "idt" };
	struct endian e = d->endian;
	const uint8_t *p = n->desc;

	if (n->descsz < 432)
		return;
	uint32_t size = get32(e, p + 4);
	sb_printf(sb, "qemu_cpustate: version %u, size %u\n", get32(e, p), size);
	for (int i = 0; i < 18; i++)
		sb_printf(sb, "%-8s 0x%016" PRIx64 "\n", gpr[i], get64(e, p + 8 + i * 8));
	for (int i = 0; i < 10; i++) {
		const uint8_t *s = p + 152 + i * 24;
		sb_printf(sb, "%-8s selector 0x%04x limit 0x%08x flags 0x%08x base 0x%016" PRIx64 "\n",
			  seg[i], get32(e, s), get32(e, s + 4), get32(e, s + 8), get64(e, s + 16));
	}
	for (int i = 0; i < 5; i++)
		sb_printf(sb, "cr%d      0x%016" PRIx64 "\n", i, get64(e, p + 392 + i * 8));
	if (size >= 440 && n->descsz >= 440)
		sb_printf(sb, "kernel_gs_base 0x%016" PRIx64 "\n", get64(e, p + 432));
}

static void hexdump(const uint8_t *p, size_t len, struct strbuf *sb)
{
	for (size_t i = 0; i < len; i += 16) {
		sb_printf(sb, "%04zx:", i);
		for (size_t j = i; j < i + 16 && j < len; j++)
			sb_printf(sb, " %02x", p[j]);
		sb_printf(sb, "\n");
	}
}

void text_regs(struct dumpfs_dump *d, size_t cpu, struct strbuf *sb)
{
	const struct note_set *ns = &d->notes;
	sb_printf(sb, "cpu: %zu\n", cpu);
	if (cpu < ns->nprstatus) {
		const struct note *n = &ns->list[ns->prstatus[cpu]];
		sb_printf(sb, "[NT_PRSTATUS]\n");
		size_t mark = sb->len;
		if (d->elf_machine == EM_X86_64)
			regs_x86_64_prstatus(d, n, sb);
		else if (d->elf_machine == EM_386)
			regs_i386_prstatus(d, n, sb);
		else if (d->elf_machine == EM_AARCH64)
			regs_aarch64_prstatus(d, n, sb);
		if (sb->len == mark)    /* no decoder for this architecture */
			hexdump(n->desc, n->descsz, sb);
	}
	if (cpu < ns->nqemu) {
		const struct note *n = &ns->list[ns->qemu[cpu]];
		sb_printf(sb, "[QEMU]\n");
		size_t mark = sb->len;
		if (d->elf_machine == EM_X86_64 || d->elf_machine == EM_386)
			regs_qemu_x86(d, n, sb);
		if (sb->len == mark)
			hexdump(n->desc, n->descsz, sb);
	}
}

void text_stats(struct dumpfs_dump *d, struct strbuf *sb)
{
	struct dumpfs_cache_stats st;
	dumpfs_cache_stats(d, &st);
	sb_printf(sb, "cache_hits: %" PRIu64 "\ncache_misses: %" PRIu64 "\ncache_bytes_limit: %" PRIu64 "\n",
		  st.hits, st.misses, st.bytes_limit);
	pthread_mutex_lock(&d->log_lock);
	unsigned problems = d->log_count;
	pthread_mutex_unlock(&d->log_lock);
	sb_printf(sb, "read_problems: %u\n", problems);
}
