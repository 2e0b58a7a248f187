/*
 * qemu.c - the guest inside a core of a QEMU process (gdb's gcore of a
 * hung qemu-system-*, or the kernel's core of one that died): /mem is the
 * guest's physical memory, read from the host mapping that holds it.
 *
 * QEMU keeps guest RAM in RAM blocks (ram_list.blocks: host pointer,
 * length, an id: "pc.ram" for -m on a PC); where the machine puts the
 * block in guest physical memory is qemu_layout.c's.  ram_list (and the
 * PC's e820_table) are QEMU globals with dynamic symbols, found in the
 * executable on this machine when it is the build that ran (exesyms.c).
 * Without them the RAM is a guess, and /header says so: the largest
 * anonymous writable mapping.  No QEMU debug information is needed.  The
 * vCPUs' registers come from QEMU's `cpus` list (qemu_cpus.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/qemu.h"

/* QEMU 2.x-9.x: struct RAMList starts with a QemuMutex (48 bytes on
 * x86_64 Linux) and the MRU block; the list head follows.  RAMBlock:
 * host at 24, used_length at 48, max_length at 56, idstr[256] at 76, the
 * list link at 336.  Each block read is checked (its host pointer must
 * start a mapping of the core), so another layout is refused, not used. */
#define RAMLIST_BLOCKS 56
#define BLOCK_HOST 24
#define BLOCK_USED 48
#define BLOCK_MAX 56
#define BLOCK_IDSTR 76
#define BLOCK_NEXT 336
#define BLOCK_SIZE 344

static const struct format_ops qemu_ops;

/* ---- which process, which guest ---------------------------------------- */

/* The executable: the mapping at file offset 0 of a file named like the
 * command (pr_fname is its first 15 bytes). */
static const struct host_map *find_exe(const struct process_core *pc)
{
	for (size_t i = 0; i < pc->nmaps; i++) {
		const struct host_map *m = &pc->maps[i];
		if (!m->file || m->file_offset)
			continue;
		const char *base = strrchr(m->file, '/');
		base = base ? base + 1 : m->file;
		if (pc->fname[0] && !strncmp(base, pc->fname, strlen(pc->fname)))
			return m;
	}
	return NULL;
}

/* The QEMU binaries whose machines' memory maps dumpfs knows. */
static const struct qemu_target *find_target(const char *name)
{
	static const struct qemu_target targets[] = {
		{ "qemu-system-x86_64", EM_X86_64, "pc.ram", &qemu_x86_64_vcpu, qemu_pc_layout },
		{ "qemu-system-x86", EM_X86_64, "pc.ram", &qemu_x86_64_vcpu, qemu_pc_layout }, /* pr_fname cuts at 15 */
		{ "qemu-system-i386", EM_386, "pc.ram", NULL, qemu_pc_layout },
		{ "qemu-system-aarch64", EM_AARCH64, "mach-virt.ram", &qemu_aarch64_vcpu, qemu_virt_layout },
		{ "qemu-system-aar", EM_AARCH64, "mach-virt.ram", &qemu_aarch64_vcpu, qemu_virt_layout },
	};
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
		if (!strncmp(name, targets[i].prefix, strlen(targets[i].prefix)))
			return &targets[i];
	return NULL;
}

static enum dumpfs_status identify(struct format *f, struct qemu_core *q)
{
	const struct process_core *pc = &q->pc;
	const char *path = f->files[0].path;
	if (strncmp(pc->fname, "qemu-system-", 12))
		return diag_fail(f->diag, DUMPFS_ERR_UNSUPPORTED, "%s: offset 0: a core of process %u (%s), "
				 "not a QEMU process core (dumpfs reads the guest of qemu-system-* cores)",
				 path, pc->pid, pc->fname[0] ? pc->fname : "no NT_PRPSINFO name");
	q->exe = find_exe(pc);
	const char *base = pc->fname;
	if (q->exe) {
		base = strrchr(q->exe->file, '/');
		base = base ? base + 1 : q->exe->file;
	}
	q->target = find_target(base);
	if (!q->target)
		return diag_fail(f->diag, DUMPFS_ERR_UNSUPPORTED, "%s: offset 0: a core of %s: dumpfs reads "
				 "the guests of x86 PC machines (qemu-system-x86_64, qemu-system-i386) and arm virt "
				 "(qemu-system-aarch64) only",
				 path, base);
	f->elf_machine = q->target->em;
	f->machine_origin = "the QEMU binary's name";
	return DUMPFS_OK;
}

/* ---- QEMU's RAM blocks -------------------------------------------------- */

static bool read_u64(const struct format *f, const struct qemu_core *q, uint64_t addr, uint64_t *v)
{
	return pcore_read_u64(&q->pc, &f->files[0], f->endian, addr, v);
}

/* One RAMBlock at @addr, if it reads as one: an id, and a host pointer
 * that starts a mapping the RAM fits in. */
static bool read_block(const struct format *f, const struct qemu_core *q, uint64_t addr,
		       struct ram_block *b, uint64_t *next)
{
	uint8_t raw[BLOCK_SIZE];
	if (!pcore_read(&q->pc, &f->files[0], raw, sizeof(raw), addr))
		return false;
	b->host = get64(f->endian, raw + BLOCK_HOST);
	b->used = get64(f->endian, raw + BLOCK_USED);
	uint64_t max = get64(f->endian, raw + BLOCK_MAX);
	*next = get64(f->endian, raw + BLOCK_NEXT);
	const char *id = (const char *)raw + BLOCK_IDSTR;
	size_t idlen = strnlen(id, 256);
	const struct host_map *m = pcore_map_at(&q->pc, b->host);
	if (idlen == 0 || idlen == 256 || !m || m->start != b->host || !b->used || b->used > max ||
	    b->used > m->end - m->start)
		return false;
	for (size_t i = 0; i < idlen; i++)
		if (id[i] < 0x20 || id[i] > 0x7e)
			return false;
	snprintf(b->id, sizeof(b->id), "%.*s", (int)idlen, id);
	return true;
}

static bool read_ram_list(const struct format *f, struct qemu_core *q, uint64_t ram_list)
{
	uint64_t at;
	if (!read_u64(f, q, ram_list + RAMLIST_BLOCKS, &at))
		return false;
	while (at && q->nblocks < QEMU_MAX_BLOCKS) {
		if (!read_block(f, q, at, &q->blocks[q->nblocks], &at))
			return false;
		q->nblocks++;
	}
	return q->nblocks && !at;
}

/* No symbols: the largest anonymous, writable, not executable mapping
 * (TCG's code buffer is executable; VGA memory and the firmware are far
 * smaller than any guest's RAM). */
static bool guess_ram(const struct qemu_core *q, struct ram_block *b)
{
	const struct host_map *best = NULL;
	for (size_t i = 0; i < q->pc.nmaps; i++) {
		const struct host_map *m = &q->pc.maps[i];
		if (!m->file && (m->flags & PF_W) && !(m->flags & PF_X) &&
		    (!best || m->end - m->start > best->end - best->start))
			best = m;
	}
	if (!best)
		return false;
	*b = (struct ram_block){ .host = best->start, .used = best->end - best->start };
	snprintf(b->id, sizeof(b->id), "(largest anonymous mapping)");
	return true;
}

/* The vCPUs' notes, from QEMU's cpus list at @cpus (0: not known). */
static void read_vcpus(struct format *f, struct qemu_core *q, bool have_syms, uint64_t cpus)
{
	if (!cpus || !q->target->vcpu) {
		snprintf(q->vcpus, sizeof(q->vcpus), "none: %s", !have_syms ? "QEMU's symbols are not used" :
			 q->target->vcpu ? "QEMU exports no cpus" : "vCPUs of this target are not read");
		return;
	}
	enum vcpu_mode mode;
	q->nvcpus = qemu_vcpu_notes(f, &q->pc, q->target->vcpu, cpus, &mode, q->vcpus, sizeof(q->vcpus));
	/* qemu-system-x86_64 runs 32-bit guests too: vCPU 0's mode tells */
	if (f->elf_machine == EM_X86_64 && mode != VCPU_UNREAD) {
		f->elf_machine = mode == VCPU_64BIT ? EM_X86_64 : EM_386;
		f->machine_origin = mode == VCPU_64BIT ? "vCPU 0, in long mode" : "vCPU 0, not in long mode";
	}
}

/* The guest's RAM block: the target's, from QEMU's ram_list at @ram_list
 * (0: not known), else a guess. */
static void find_ram(struct format *f, struct qemu_core *q, uint64_t ram_list)
{
	if (ram_list && !read_ram_list(f, q, ram_list)) {
		snprintf(q->symbols_why, sizeof(q->symbols_why), "ram_list at %#" PRIx64 " does not read as "
			 "QEMU's list of RAM blocks", ram_list);
		q->nblocks = 0;
	}
	const char *id = q->target->ram_id;
	for (size_t i = 0; i < q->nblocks; i++)
		if (!strcmp(q->blocks[i].id, id)) {
			q->ram = q->blocks[i];
			snprintf(q->ram_origin, sizeof(q->ram_origin), "QEMU's RAM block \"%s\" (ram_list)", id);
		}
	if (!q->ram.used && guess_ram(q, &q->ram))
		snprintf(q->ram_origin, sizeof(q->ram_origin), "a guess: the largest anonymous writable mapping%s",
			 q->nblocks ? " (no such block in ram_list)" : "");
}

/* Registers, RAM and its layout, from QEMU's symbols where they serve. */
static void find_guest(struct format *f, struct qemu_core *q)
{
	struct exe_symbol syms[] = { { .name = "ram_list" }, { .name = "e820_table" }, { .name = "cpus" } };
	bool have_syms = q->exe && exe_symbols(&q->pc, &f->files[0], q->exe, syms, 3, q->symbols_why,
					       sizeof(q->symbols_why));
	if (!q->exe)
		snprintf(q->symbols_why, sizeof(q->symbols_why), "the core names no QEMU executable (no NT_FILE)");
	else if (have_syms && !syms[0].found)
		snprintf(q->symbols_why, sizeof(q->symbols_why), "%s exports no ram_list", q->exe->file);
	else if (have_syms)
		snprintf(q->symbols_why, sizeof(q->symbols_why), "used (%s%s%s)", "ram_list",
			 syms[1].found ? ", e820_table" : "", syms[2].found ? ", cpus" : "");
	read_vcpus(f, q, have_syms, have_syms && syms[2].found ? syms[2].addr : 0);
	find_ram(f, q, have_syms && syms[0].found ? syms[0].addr : 0);
	if (q->ram.used)
		q->target->layout(f, q, syms[1].found && q->nblocks ? syms[1].addr : 0);
}

/* The segments of the runs: each part of a run that a mapping of the core
 * holds; parts it lacks are holes. */
static enum dumpfs_status build_segments(struct qemu_core *q)
{
	size_t cap = 0;
	for (size_t r = 0; r < q->nruns; r++) {
		const struct guest_run *run = &q->runs[r];
		uint64_t host = q->ram.host + run->offset, end = host + run->len;
		while (host < end) {
			const struct host_map *m = pcore_map_at(&q->pc, host);
			if (!m) {
				q->unreadable_runs++;
				/* skip to the next mapping, or the run's end */
				size_t i = 0;
				while (i < q->pc.nmaps && q->pc.maps[i].start <= host)
					i++;
				host = i < q->pc.nmaps && q->pc.maps[i].start < end ? q->pc.maps[i].start : end;
				continue;
			}
			uint64_t stop = m->end < end ? m->end : end, in = host - m->start;
			if (q->segs.count == cap) {
				cap = cap ? cap * 2 : 8;
				struct segment *n = realloc(q->segs.list, cap * sizeof(*n));
				if (!n)
					return DUMPFS_ERR_NOMEM;
				q->segs.list = n;
			}
			uint64_t len = stop - host, filesz = m->filesz > in ? m->filesz - in : 0;
			q->segs.list[q->segs.count++] = (struct segment){
				.paddr = run->paddr + (host - q->ram.host - run->offset), .memsz = len,
				.filesz = filesz < len ? filesz : len, .offset = m->offset + in, .vaddr = host };
			host = stop;
		}
	}
	return DUMPFS_OK;
}

static void warn_truncated(struct format *f, const struct qemu_core *q)
{
	const struct source *src = &f->files[0];
	for (size_t i = 0; i < q->segs.count; i++) {
		const struct segment *s = &q->segs.list[i];
		if (s->offset + s->filesz > src->size) {
			uint64_t cut = src->size > s->offset ? src->size - s->offset : 0;
			diag_warn(f->diag, "%s: offset %" PRIu64 ": the guest's RAM is cut short here: guest "
				  "physical %#" PRIx64 " onward reads as I/O errors", src->path, src->size,
				  s->paddr + cut);
			return;
		}
	}
}

enum dumpfs_status qemu_core_open(struct format *f, struct host_map *maps, size_t nmaps, bool sections)
{
	struct qemu_core *q = calloc(1, sizeof(*q));
	if (!q) {
		free(maps);
		return DUMPFS_ERR_NOMEM;
	}
	f->priv = q;
	f->ops = &qemu_ops;
	f->name = "QEMU process core";
	f->elf_passthrough = false;
	f->memory_only = true;
	f->host = &q->pc;
	enum dumpfs_status st = pcore_open(&q->pc, f, maps, nmaps, sections);
	if (st == DUMPFS_OK)
		st = identify(f, q);
	if (st != DUMPFS_OK)
		return st;
	f->producer = q->pc.has_sections ? "gdb gcore" : "the kernel's core dump";
	st = format_set_page_size(f, 4096, 0, "page size");
	if (st != DUMPFS_OK)
		return st;
	find_guest(f, q);
	if (!q->ram.used)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset 0: no mapping of the QEMU process "
				 "holds guest RAM (no anonymous writable mapping)", f->files[0].path);
	st = build_segments(q);
	if (st == DUMPFS_OK && !q->segs.count)
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset 0: the core holds none of the "
				 "guest's RAM", f->files[0].path);
	if (st == DUMPFS_OK) {
		warn_truncated(f, q);
		st = segments_memory_map(f, &q->segs);
	}
	return st;
}

/* ---- what it is, for /header ------------------------------------------- */

static void qemu_describe(struct format *f, struct strbuf *sb)
{
	const struct qemu_core *q = f->priv;
	sb_printf(sb, "qemu_process: %u (%s)\n", q->pc.pid, q->pc.fname);
	sb_printf(sb, "qemu_command: %s\n", q->pc.psargs);
	sb_printf(sb, "qemu_binary: %s\n", q->exe ? q->exe->file : "(not named in the core)");
	sb_printf(sb, "qemu_symbols: %s\n", q->symbols_why);
	for (size_t i = 0; i < q->nblocks; i++)
		sb_printf(sb, "  ram_block %s: %" PRIu64 " bytes at host %#" PRIx64 "\n", q->blocks[i].id,
			  q->blocks[i].used, q->blocks[i].host);
	sb_printf(sb, "guest_ram_block: %s, %" PRIu64 " bytes at host %#" PRIx64 "\n", q->ram.id, q->ram.used,
		  q->ram.host);
	sb_printf(sb, "guest_ram_origin: %s\n", q->ram_origin);
	sb_printf(sb, "guest_layout:");
	for (size_t i = 0; i < q->nruns; i++)
		sb_printf(sb, " %#" PRIx64 "-%#" PRIx64 "@%#" PRIx64, q->runs[i].paddr,
			  q->runs[i].paddr + q->runs[i].len - 1, q->runs[i].offset);
	sb_printf(sb, " (guest physical ranges @ offsets in the block)\n");
	sb_printf(sb, "layout_origin: %s\n", q->layout_origin);
	sb_printf(sb, "guest_ram_segments: %zu (guest physical: host address, core file offset)\n", q->segs.count);
	for (size_t i = 0; i < q->segs.count && i < 16; i++) {
		const struct segment *g = &q->segs.list[i];
		sb_printf(sb, "  %#" PRIx64 "-%#" PRIx64 ": host %#" PRIx64 ", offset %" PRIu64 "%s\n", g->paddr,
			  g->paddr + g->memsz - 1, g->vaddr, g->offset,
			  g->filesz < g->memsz ? " (not all in the core)" : "");
	}
	if (q->unreadable_runs)
		sb_printf(sb, "guest_ram_missing: parts of the block lie in no mapping of the core\n");
	if (q->nvcpus)
		sb_printf(sb, "cpu_registers: %s\n", q->vcpus);
	else
		sb_printf(sb, "cpu_registers: %s (the active tasks' backtraces are unavailable in crash)\n",
			  q->vcpus);
}

static void qemu_close(struct format *f)
{
	struct qemu_core *q = f->priv;
	if (!q)
		return;
	pcore_free(&q->pc);
	free(q->segs.list);
	free(q);
	f->priv = NULL;
	f->host = NULL;
}

static const struct format_ops qemu_ops = {
	.name = "qemu-core",
	.read_page = segments_op_read_page,
	.read_pages = segments_op_read_pages,
	.extent = segments_op_extent,
	.find_pfn = segments_op_find_pfn,
	.census = segments_op_census,
	.describe = qemu_describe,
	.close = qemu_close,
};
