/*
 * text.c - the readable files: /header, /cpus/N/regs, /stats (/dmesg is
 * the kernel layer's).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "view/view.h"
#include "format/xen.h"

const char *note_type_name(const struct note *n)
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
	if (!strcmp(n->name, "VMCOREINFO_XEN"))
		return "VMCOREINFO_XEN";
	if (!strcmp(n->name, "Xen"))
		return xen_note_type_name(n->type);
	return NULL;
}

/* Files shorter than their data (a copy cut short, a full disk), and how
 * many dumped pages that costs: the census's figures. */
static void text_truncation(const struct view *v, struct strbuf *sb)
{
	const struct view_input *in = &v->in;
	const struct census *c = format_census(in->fmt);
	bool any = false;

	if (!c) {
		sb_printf(sb, "truncated: %s\n", format_remote(in->fmt)
			  ? "not checked (a dump read remotely: checking reads every page descriptor)"
			  : "unknown (out of memory)");
		return;
	}
	for (size_t i = 0; i < in->nfiles; i++) {
		const struct census_file *cf = &c->files[i];
		if (cf->data_end > cf->size)
			sb_printf(sb, "truncated: %s is %" PRIu64 " bytes, its data ends at %" PRIu64
				  " (%" PRIu64 " bytes missing)\n", in->files[i].path, cf->size,
				  cf->data_end, cf->data_end - cf->size);
		else if (cf->gaps)
			sb_printf(sb, "truncated: %s is cut short: it lacks its %s end marker, and the"
				  " bytes no record holds cannot be read\n", in->files[i].path,
				  in->files[i].ops->wrapper ? in->files[i].ops->wrapper : "stream");
		any |= cf->data_end > cf->size || cf->gaps;
	}
	if (!any)
		sb_printf(sb, "truncated: no\n");
	sb_printf(sb, "unreadable_pages: %" PRIu64 "\n", c->unreadable_pages);
}

void text_header(const struct view *v, struct strbuf *sb)
{
	const struct view_input *in = &v->in;
	struct format *f = in->fmt;
	const struct kernel_map *k = &in->machine->kmap;
	const struct note_set *ns = &f->notes;
	const char *wrapper = in->files[0].ops->wrapper;
	char val[128];

	sb_printf(sb, "format: %s", f->name);
	if (wrapper)
		sb_printf(sb, " (%s)", wrapper);
	sb_printf(sb, "\norigin: %s\n", f->producer ? f->producer : "unknown");
	for (size_t i = 0; i < in->nfiles; i++) {
		const struct source *s = &in->files[i];
		sb_printf(sb, "file: %s", s->path);
		if (s->ops->describe)
			s->ops->describe(s, sb);
		sb_printf(sb, "\n");
	}
	f->ops->describe(f, sb);
	sb_printf(sb, "arch: %s (%s)\n", in->machine->arch->name, in->machine->arch_origin);
	sb_printf(sb, "page_size: %u\nmax_pfn: %#" PRIx64 "\nmem_size: %" PRIu64 "\n",
		  f->page_size, f->max_pfn, in->machine->phys->size);
	if (k->has_phys_base)
		sb_printf(sb, "phys_base: %#" PRIx64 " (%s)\n", k->phys_base, k->origin);
	else
		sb_printf(sb, "phys_base: unknown\n");
	if (k->has_page_offset)
		sb_printf(sb, "page_offset: %#" PRIx64 " (%s)\n", k->page_offset, k->page_offset_origin);
	if (vmcoreinfo_get(ns, "OSRELEASE", val, sizeof(val)))
		sb_printf(sb, "osrelease: %s\n", val);
	if (vmcoreinfo_get(ns, "KERNELOFFSET", val, sizeof(val)))
		sb_printf(sb, "kerneloffset: %s\n", val);
	sb_printf(sb, "ram_runs: %zu\nram_pages: %" PRIu64 "\ndumped_pages: %" PRIu64 "\n",
		  f->nram, f->ram_pages, f->dumped_pages);
	sb_printf(sb, "excluded_pages: %" PRIu64 "\n",
		  f->ram_pages > f->dumped_pages ? f->ram_pages - f->dumped_pages : 0);
	sb_printf(sb, "incomplete: %s\n", f->incomplete ? "yes" : "no");
	text_truncation(v, sb);
	sb_printf(sb, "cpus: %zu prstatus, %zu qemu\n", ns->nprstatus, ns->nqemu);
	sb_printf(sb, "vmcoreinfo: %s%s%s%s\n", ns->vmcoreinfo ? "yes" : "no",
		  in->machine->vmcoreinfo_origin ? " (" : "",
		  in->machine->vmcoreinfo_origin ? in->machine->vmcoreinfo_origin : "",
		  in->machine->vmcoreinfo_origin ? ")" : "");
	sb_printf(sb, "notes: %zu\n", ns->count);
	for (size_t i = 0; i < ns->count; i++) {
		const struct note *n = &ns->list[i];
		const char *t = note_type_name(n);
		sb_printf(sb, "  %zu: %s type %#x%s%s, %u bytes\n", i, n->name, n->type,
			  t ? " " : "", t ? t : "", n->descsz);
	}
	if (v->has_dmesg)
		sb_printf(sb, "dmesg: %s\n", v->dmesg_status);
	else
		sb_printf(sb, "dmesg: absent (%s)\n", v->dmesg_status[0] ? v->dmesg_status : "not decoded");
	if (in->machine->system_map_path)
		sb_printf(sb, "symbols: /kernel/symbols, from %s (-o system_map; checked against VMCOREINFO when read)\n",
			  in->machine->system_map_path);
	else if (in->machine->vmlinux_path)
		sb_printf(sb, "symbols: /kernel/symbols, from %s (-o vmlinux; build ID checked at open)\n",
			  in->machine->vmlinux_path);
	else if (vmcoreinfo_u64(in->machine->notes, "SYMBOL(kallsyms_names)", 16, &(uint64_t){0}))
		sb_printf(sb, "symbols: /kernel/symbols, from the kallsyms tables VMCOREINFO names (decoded when read)\n");
	else if (kallsyms_scannable(in->machine)) {
		/* before 6.0 the image is scanned (here, when /header is read) */
		char origin[512];
		if (!kallsyms_named(in->machine))
			sb_printf(sb, "symbols: none (VMCOREINFO has no SYMBOL(kallsyms_names), though its "
				  "OSRELEASE is not before 6.0: -o system_map=FILE or vmlinux=FILE)\n");
		else if (kallsyms_origin(in->machine, origin, sizeof(origin)))
			sb_printf(sb, "symbols: /kernel/symbols, from %s\n", origin);
		else
			sb_printf(sb, "symbols: /kernel/symbols, whose reads fail with EIO: %s "
				  "(-o system_map=FILE or vmlinux=FILE)\n", origin);
	} else
		sb_printf(sb, "symbols: none (VMCOREINFO has no SYMBOL(kallsyms_names); kernels before 6.0 do not "
			  "give it, and no SYMBOL(_stext) or address translation to scan the image from: "
			  "-o system_map=FILE or vmlinux=FILE)\n");
	if (in->machine->btf_path)
		sb_printf(sb, "types: /kernel/btf, from %s (-o btf)\n", in->machine->btf_path);
	else if (in->machine->vmlinux_path)
		sb_printf(sb, "types: /kernel/btf, the .BTF section of %s (-o vmlinux), else the image's\n",
			  in->machine->vmlinux_path);
	else
		sb_printf(sb, "types: %s\n", btf_searchable(in->machine)
			  ? "/kernel/btf, the BTF the kernel image holds (searched for from _stext when read)"
			  : "none (no kernel address translation or no SYMBOL(_stext) to search the image "
			    "from: -o btf=FILE or vmlinux=FILE)");
	bool syms = kallsyms_named(in->machine), types = btf_searchable(in->machine);
	sb_printf(sb, "tasks: %s\n", syms && types
		  ? "/tasks, the thread groups on init_task.tasks (walked when first listed)"
		  : syms ? "none (no BTF to search for: see types)"
			 : "none (no kallsyms tables to find init_task by: see symbols)");
	sb_printf(sb, "vmcore.elf: %" PRIu64 " bytes%s", v->elf->size,
		  v->elf_as_is ? " (the input ELF as is)" : "");
	if (v->elf_reordered)
		sb_printf(sb, " (%s-endian as the kernel's memory, the dump file is not: notes turned, %zu left out)",
			  in->machine->mem_endian.big ? "big" : "little", v->elf_notes_dropped);
	sb_printf(sb, "\n");
	if (v->kernel_loads_status[0])
		sb_printf(sb, "vmcore.elf kernel mappings: %s\n", v->kernel_loads_status);
	if (in->diag->warnings[0])
		sb_printf(sb, "warnings:\n%s", in->diag->warnings);
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

/* A note's registers as its architecture decodes them, or as hex. */
static void note_regs(const struct machine *m, const struct note *n,
		      void (*decode)(const struct machine *, const struct note *, struct strbuf *),
		      struct strbuf *sb)
{
	size_t mark = sb->len;
	if (decode)
		decode(m, n, sb);
	if (sb->len == mark)
		hexdump(n->desc, n->descsz, sb);
}

void text_regs(const struct view *v, size_t cpu, struct strbuf *sb)
{
	const struct machine *m = v->in.machine;
	const struct note_set *ns = m->notes;
	sb_printf(sb, "cpu: %zu\n", cpu);
	if (cpu < ns->nprstatus) {
		sb_printf(sb, "[NT_PRSTATUS]\n");
		note_regs(m, &ns->list[ns->prstatus[cpu]], m->arch->prstatus_text, sb);
	}
	if (cpu < ns->nqemu) {
		sb_printf(sb, "[QEMU]\n");
		note_regs(m, &ns->list[ns->qemu[cpu]], m->arch->cpustate_text, sb);
	}
	struct format *f = v->in.fmt;
	if (f->ops->cpu_text)
		f->ops->cpu_text(f, cpu, sb);
}

void text_stats(const struct view *v, struct strbuf *sb)
{
	struct dumpfs_cache_stats st;
	cache_stats(v->in.fmt->cache, &st);
	sb_printf(sb, "cache_hits: %" PRIu64 "\ncache_misses: %" PRIu64 "\ncache_bytes_limit: %" PRIu64 "\n",
		  st.hits, st.misses, st.bytes_limit);
	sb_printf(sb, "read_problems: %u\n", diag_problems(v->in.diag));
	struct source_counters c = {0};
	for (size_t i = 0; i < v->in.nfiles; i++)
		source_count(&v->in.files[i], &c);
	if (!c.remote)
		return;
	sb_printf(sb, "remote_requests: %" PRIu64 "\nremote_bytes: %" PRIu64 "\nremote_retries: %" PRIu64
		  "\nremote_failures: %" PRIu64 "\n", c.requests, c.bytes, c.retries, c.failures);
	sb_printf(sb, "remote_block_hits: %" PRIu64 "\nremote_block_misses: %" PRIu64
		  "\nremote_readahead_blocks: %" PRIu64 "\nremote_cache_bytes_limit: %" PRIu64 "\n",
		  c.block_hits, c.block_misses, c.readahead_blocks, c.cache_bytes_limit);
	if (c.disk)
		sb_printf(sb, "disk_cache_hits: %" PRIu64 "\ndisk_cache_misses: %" PRIu64 "\n", c.disk_hits,
			  c.disk_misses);
	if (c.last_error[0])
		sb_printf(sb, "remote_last_error: %s\n", c.last_error);
}

static const char *state_name(char letter)
{
	switch (letter) {
	case 'R': return "R (running)";
	case 'S': return "S (sleeping)";
	case 'D': return "D (disk sleep)";
	case 'T': return "T (stopped)";
	case 't': return "t (tracing stop)";
	case 'X': return "X (dead)";
	case 'Z': return "Z (zombie)";
	case 'P': return "P (parked)";
	case 'I': return "I (idle)";
	default: return "? (unknown)";
	}
}

void text_task_status(const struct view *v, const struct ktask *t, struct strbuf *sb)
{
	uint64_t page_kb = 4;
	if (vmcoreinfo_u64(v->in.machine->notes, "PAGESIZE", 10, &page_kb) && page_kb >= 1024)
		page_kb /= 1024;
	sb_printf(sb, "Name:\t%s\nState:\t%s\nTgid:\t%d\nPid:\t%d\n", t->comm,
		  state_name(task_state_letter(t)), t->tgid, t->pid);
	if (t->ppid >= 0)
		sb_printf(sb, "PPid:\t%d\n", t->ppid);
	if (t->have_cred)
		sb_printf(sb, "Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\n", t->uid[0], t->uid[1],
			  t->uid[2], t->uid[3], t->gid[0], t->gid[1], t->gid[2], t->gid[3]);
	if (t->have_mm_figures) {
		uint64_t rss = t->rss[0] + t->rss[1] + t->rss[3];
		sb_printf(sb, "VmSize:\t%8" PRIu64 " kB\nVmRSS:\t%8" PRIu64 " kB\n"
			  "RssAnon:\t%8" PRIu64 " kB\nRssFile:\t%8" PRIu64 " kB\n"
			  "RssShmem:\t%8" PRIu64 " kB\nVmSwap:\t%8" PRIu64 " kB\n",
			  t->total_vm * page_kb, rss * page_kb, t->rss[1] * page_kb, t->rss[0] * page_kb,
			  t->rss[3] * page_kb, t->rss[2] * page_kb);
	}
	sb_printf(sb, "Threads:\t%u\n", t->threads);
	/* not in /proc: what the dump adds */
	sb_printf(sb, "Kthread:\t%d\n", task_is_kthread(t));
	if (t->on_cpu && t->cpu >= 0)
		sb_printf(sb, "OnCpu:\t%d\n", t->cpu);
	else
		sb_printf(sb, "OnCpu:\t%s\n", t->on_cpu ? "yes" : "no");
	sb_printf(sb, "TaskStruct:\t%#" PRIx64 "\n", t->addr);
}
