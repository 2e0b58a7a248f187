/*
 * corefile.c - /tasks/PID/core: an ELF core of one process, as the kernel's
 * own core dump would write it, for `gdb PROGRAM core`.
 *
 * Notes as fs/binfmt_elf.c writes them: the first thread's NT_PRSTATUS,
 * then NT_PRPSINFO, NT_AUXV and NT_FILE (the file-backed VMAs), then the
 * other threads' NT_PRSTATUS.  A PT_LOAD per VMA (p_memsz its size),
 * whose bytes (p_filesz) follow vma_dump_size() with the default
 * coredump_filter (0x33): special mappings ([vdso]) whole; nothing of
 * VM_IO or VM_DONTDUMP ones; written private and anonymous shared memory
 * whole; an unwritten file mapping only its first page when that is an ELF
 * header, so that gdb takes the rest from the file.  The bytes come from
 * the process's user memory (umem.c), zeros where the dump lacks a page.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view/tree_nodes.h"

#define VM_READ 0x1u
#define VM_WRITE 0x2u
#define VM_EXEC 0x4u
#define VM_SHARED 0x8u
#define VM_IO 0x4000u
#define VM_DONTDUMP 0x04000000u
#define NT_PRSTATUS 1
#define NT_PRPSINFO 3
#define NT_AUXV 6
#define NT_FILE 0x46494c45u
#define PRPSINFO_SIZE 136               /* struct elf_prpsinfo of the 64-bit arches */
#define PAGE 4096ull

struct core {
	struct core *next;              /* the tree's list of those made */
	struct note_set notes;
	struct elf_load *loads;
	struct elf_view *elf;
};

/* What vma_dump_size() keeps of @v with coredump_filter 0x33. */
static uint64_t dump_size(const struct umem_space *u, const struct kvma *v)
{
	uint64_t size = v->end - v->start;
	uint8_t magic[4];
	if (v->special)
		return size;
	if (v->flags & (VM_IO | VM_DONTDUMP))
		return 0;
	if (v->flags & VM_SHARED)       /* a file without links is anonymous memory */
		return !v->file || v->unlinked ? size : 0;   /* MMF_DUMP_ANON_SHARED */
	if (v->written)
		return size;                    /* MMF_DUMP_ANON_PRIVATE */
	if (!v->file || v->pgoff || !(v->flags & VM_READ))
		return 0;
	/* MMF_DUMP_ELF_HEADERS */
	if (space_read((struct space *)&u->space, magic, 4, v->start) == 4 && !memcmp(magic, "\177ELF", 4))
		return PAGE;
	return 0;
}

static bool note(struct core *c, struct endian e, uint32_t type, const void *desc, size_t len)
{
	return notes_append(&c->notes, e, "CORE", type, desc, len) == DUMPFS_OK;
}

/* struct elf_prpsinfo of x86_64, aarch64, ppc64 and s390x: the same
 * layout, with 32-bit uids and gids and an 8-byte pr_flag. */
static void prpsinfo(const struct machine *m, const struct ktask *t, const char *args, uint8_t *p)
{
	static const char states[] = "RSDTZW";
	char letter = task_state_letter(t);
	const char *at = strchr(states, letter);
	memset(p, 0, PRPSINFO_SIZE);
	p[0] = (uint8_t)(at ? at - states : 0);
	p[1] = (uint8_t)letter;
	p[2] = letter == 'Z';
	put64(m->mem_endian, p + 8, t->flags);
	put32(m->mem_endian, p + 16, t->uid[0]);
	put32(m->mem_endian, p + 20, t->gid[0]);
	put32(m->mem_endian, p + 24, (uint32_t)t->pid);
	put32(m->mem_endian, p + 28, (uint32_t)t->ppid);
	put32(m->mem_endian, p + 32, (uint32_t)t->tgid);
	put32(m->mem_endian, p + 36, (uint32_t)t->tgid);
	memcpy(p + 40, t->comm, 16);
	snprintf((char *)p + 56, 80, "%s", args);
}

/* NT_FILE: count, page size, (start, end, page offset) each, then names. */
static bool nt_file(struct core *c, const struct machine *m, const struct kvma *v, size_t n)
{
	struct strbuf sb = {0};
	uint8_t w[8];
	size_t files = 0;
	for (size_t i = 0; i < n; i++)
		files += v[i].file;
	struct endian e = m->mem_endian;
	put64(e, w, files);
	sb_append(&sb, w, 8);
	put64(e, w, PAGE);
	sb_append(&sb, w, 8);
	for (size_t i = 0; i < n; i++) {
		if (!v[i].file)
			continue;
		uint64_t f[3] = { v[i].start, v[i].end, v[i].pgoff / PAGE };
		for (int k = 0; k < 3; k++) {
			put64(e, w, f[k]);
			sb_append(&sb, w, 8);
		}
	}
	for (size_t i = 0; i < n; i++)
		if (v[i].file)
			sb_append(&sb, v[i].name ? v[i].name : "", strlen(v[i].name ? v[i].name : "") + 1);
	bool ok = !sb.failed && note(c, e, NT_FILE, sb.buf, sb.len);
	sb_free(&sb);
	return ok;
}

static bool core_notes(struct core *c, struct tree *t, size_t i, const struct kvma *v, size_t n)
{
	const struct machine *m = t->view.in.machine;
	const struct ktask *k = &t->tasks.list[i];
	const struct kthread *th = t->threads[i];
	char why[200], args[80] = "";
	uint8_t ps[PRPSINFO_SIZE];
	struct strbuf auxv = {0};
	uint8_t argv[80];
	size_t len = k->arg_end > k->arg_start ? k->arg_end - k->arg_start : 0;
	len = len < sizeof(argv) - 1 ? len : sizeof(argv) - 1;
	if (len && task_read_user(m, k, k->arg_start, argv, len, why, sizeof(why))) {
		for (size_t j = 0; j < len; j++)
			args[j] = argv[j] ? (char)argv[j] : ' ';
		args[len] = '\0';
	}
	prpsinfo(m, k, args, ps);
	bool ok = true;
	size_t first = 0;
	while (first < t->nthreads[i] && !th[first].prstatus_len)
		first++;
	if (first < t->nthreads[i])
		ok = note(c, m->mem_endian, NT_PRSTATUS, th[first].prstatus, th[first].prstatus_len);
	ok = ok && note(c, m->mem_endian, NT_PRPSINFO, ps, sizeof(ps));
	if (ok && task_auxv(m, k, &auxv, why, sizeof(why)) == DUMPFS_OK)
		ok = note(c, m->mem_endian, NT_AUXV, auxv.buf, auxv.len);
	sb_free(&auxv);
	ok = ok && nt_file(c, m, v, n);
	for (size_t j = first + 1; ok && j < t->nthreads[i]; j++)
		if (th[j].prstatus_len)
			ok = note(c, m->mem_endian, NT_PRSTATUS, th[j].prstatus, th[j].prstatus_len);
	return ok;
}

static void core_free(struct core *c)
{
	if (!c)
		return;
	elf_view_free(c->elf);
	notes_free(&c->notes);
	free(c->loads);
	free(c);
}

struct space *core_make(struct tree *t, size_t i)
{
	const struct view *view = &t->view;
	const struct machine *m = view->in.machine;
	const struct ktask *k = &t->tasks.list[i];
	struct core *c = calloc(1, sizeof(*c));
	struct kvma *v = NULL;
	size_t n = 0;
	char why[200] = "out of memory";
	enum dumpfs_status st = c ? task_vmas(m, &t->tasks, k, &v, &n, why, sizeof(why)) : DUMPFS_ERR_NOMEM;
	if (st == DUMPFS_OK && !(c->loads = calloc(n ? n : 1, sizeof(*c->loads))))
		st = DUMPFS_ERR_NOMEM;
	for (size_t j = 0; st == DUMPFS_OK && j < n; j++) {
		uint64_t size = dump_size(&t->umems[i], &v[j]);
		c->loads[j] = (struct elf_load){
			.vaddr = v[j].start, .mem_off = v[j].start, .filesz = size,
			.memsz = v[j].end - v[j].start,
			.flags = (v[j].flags & VM_READ ? 4u : 0) | (v[j].flags & VM_WRITE ? 2u : 0) |
				 (v[j].flags & VM_EXEC ? 1u : 0),
		};
	}
	if (st == DUMPFS_OK && !core_notes(c, t, i, v, n))
		st = DUMPFS_ERR_NOMEM;
	if (st == DUMPFS_OK) {
		struct elf_view_spec spec = {
			.mem = &t->umems[i].space, .page_shift = 12, .notes = &c->notes,
			.endian = m->mem_endian, .elf_machine = m->elf_machine,
			.loads = c->loads, .nloads = n,
		};
		st = elf_view_new(&c->elf, &spec);
	}
	task_vmas_free(v, n);
	if (st != DUMPFS_OK) {
		diag_log(view->in.diag, st, "%s: /tasks/%d/core: %s", view->in.files[0].path, k->pid,
			 st == DUMPFS_ERR_NOMEM ? "out of memory" : why);
		core_free(c);
		return NULL;
	}
	c->next = t->cores;
	t->cores = c;
	return elf_view_space(c->elf);
}

void cores_free(struct core *c)
{
	while (c) {
		struct core *next = c->next;
		core_free(c);
		c = next;
	}
}
