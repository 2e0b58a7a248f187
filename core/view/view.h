/*
 * view.h - the files a user sees: the tree, the ELF view, the text files.
 * Built at open from the layers below and read-only afterwards.
 *
 *   tree.c      the tree of nodes, and reads, seeks and stats of them
 *   elfview.c   an ELF vmcore synthesized over an address space
 *   text.c      /header, /cpus/N/regs, /stats
 *   json.c      /header.json
 *   xen_pv_elf.c   /vmcore.elf's layout for a Xen PV guest (machine addresses)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_VIEW_H
#define DUMPFS_VIEW_H

#include "kernel/kernel.h"

/* What the views are built from; borrowed, it outlives them. */
struct view_input {
	struct diag *diag;
	const struct source *files;
	size_t nfiles;
	struct format *fmt;
	const struct machine *machine;  /* machine->phys is /mem */
};

/* What the text files describe, beside the input. */
struct view {
	struct view_input in;
	struct space *elf;              /* /vmcore.elf */
	bool elf_as_is;                 /* the input ELF, served as it is */
	bool elf_reordered;             /* in the memory's byte order, not
					 * the dump file's */
	size_t elf_notes_dropped;       /* notes it could not turn */
	char kernel_loads_status[200];  /* what /header says of them; "" if
					 * the architecture has none */
	bool has_dmesg;
	char dmesg_status[160];         /* what /header says about /dmesg */
};

/* ---- elfview.c --------------------------------------------------------- */

/* A PT_LOAD over the bytes of RAM run @run: [vaddr, +len) of the kernel's
 * page tables is [paddr, +len) of that run. */
struct elf_alias {
	uint64_t vaddr, paddr, len;
	size_t run;
};

struct elf_load {
	uint64_t vaddr, mem_off, filesz, memsz;
	uint32_t flags;                 /* PF_R, PF_W, PF_X */
};

/* An ELF64 core over @mem: one PT_NOTE with @notes, then a PT_LOAD per run
 * of pages, [after a kernel-text PT_LOAD]. */
struct elf_view_spec {
	struct space *mem;
	unsigned page_shift;
	const struct page_run *runs;    /* in pages of @mem, sorted */
	const uint64_t *run_vaddr;      /* each run's p_vaddr; NULL: all 0 */
	const uint64_t *run_paddr;      /* each run's p_paddr (aliases' follow
					 * it); NULL: its address in @mem */
	size_t nruns;
	const struct note_set *notes;
	struct endian endian;
	uint16_t elf_machine;
	bool incomplete;                /* DUMP_ELF_INCOMPLETE */
	bool text_load;                 /* add the kernel-text PT_LOAD: */
	uint64_t text_vaddr, text_paddr, text_len;
	const struct elf_alias *aliases;        /* PT_LOADs after the RAM's */
	size_t naliases;
	/* PT_LOADs of a process core, after those: each maps [mem_off,
	 * +filesz) of @mem at vaddr, memsz long (filesz may be less, or 0). */
	const struct elf_load *loads;
	size_t nloads;
	/* Where the notes' NT_PRSTATUS are QEMU's (pr_pid = CPU + 1): the
	 * machine whose run queues give each CPU's pid, set in them before
	 * the notes are first read; NULL: the notes as they are. */
	const struct machine *cpu_pids_from;
	struct diag *diag;              /* where that fix says why it failed */
	const char *path;               /* the dump, in that message */
};
struct elf_view;
enum dumpfs_status elf_view_new(struct elf_view **out, const struct elf_view_spec *spec);
struct space *elf_view_space(struct elf_view *v);
void elf_view_free(struct elf_view *v);
/* Whether an ELF vmcore @src can be served as it is: its program headers
 * follow its ELF header, where every reader looks for them. */
bool elf_servable_as_is(const struct source *src, struct endian e);

/* ---- xen_pv_elf.c ------------------------------------------------------ */

/* /vmcore.elf of a Xen PV guest: RAM runs with their machine addresses
 * (run_paddr), the kernel image as aliases, the notes with a CRASH_INFO.
 * @active false: not a PV guest, the usual layout applies. */
struct xen_pv_elf {
	bool active;
	struct page_run *runs;
	uint64_t *paddr, *vaddr;
	size_t nruns;
	struct elf_alias *aliases;
	size_t naliases;
	struct note_set notes;
};
enum dumpfs_status xen_pv_elf_layout(const struct view *v, struct xen_pv_elf *x);
void xen_pv_elf_free(struct xen_pv_elf *x);

/* ---- kernel_loads.c ---------------------------------------------------- */

/* The PT_LOADs for what the kernel's page tables map outside the linear
 * map, where the architecture wants them in /vmcore.elf (none elsewhere);
 * v->kernel_loads_status says what was found. */
enum dumpfs_status kernel_loads(struct view *v, struct elf_alias **out, size_t *count);

/* ---- text.c ------------------------------------------------------------ */

void text_header(const struct view *v, struct strbuf *sb);
/* "NT_PRSTATUS", "VMCOREINFO", ...; NULL for a type without a name. */
const char *note_type_name(const struct note *n);
void text_regs(const struct view *v, size_t cpu, struct strbuf *sb);
void text_stats(const struct view *v, struct strbuf *sb);
/* /tasks/PID/status, in /proc/PID/status's format (the lines the dump
 * gives), then what only a dump tells. */
void text_task_status(const struct view *v, const struct ktask *t, struct strbuf *sb);

/* ---- json.c ------------------------------------------------------------ */

/* /header.json: the header as one JSON object (keys in docs/dumpfs.1). */
void json_header(const struct view *v, struct strbuf *sb);

/* ---- tree.c ------------------------------------------------------------ */

/*
 *   /mem  /vmcore.elf  /header  /header.json  /stats  [/vmcoreinfo]  [/dmesg]
 *   /cpus/N/{prstatus,qemu,regs}   /notes/NN-OWNER-TYPE
 */
struct tree;
enum dumpfs_status tree_build(struct tree **out, const struct view_input *in);
void tree_free(struct tree *t);
uint32_t tree_count(const struct tree *t);
enum dumpfs_status tree_stat(struct tree *t, uint32_t node, struct dumpfs_node_info *info);
/* Children of directories; a directory listed lazily (/tasks) is listed
 * by the first of these to look into it. */
int64_t tree_child(struct tree *t, uint32_t dir, uint32_t index);
int64_t tree_lookup(struct tree *t, uint32_t dir, const char *name);
int64_t tree_by_path(struct tree *t, const char *path);
/* 0 if directory @dir lists, else a negative errno (-EIO: it could not be
 * listed; the log says why). */
int tree_dir_error(struct tree *t, uint32_t dir);
ssize_t tree_read(struct tree *t, uint32_t node, void *buf, size_t len, uint64_t off);
int64_t tree_seek(struct tree *t, uint32_t node, uint64_t off, int whence);
int tree_extent(struct tree *t, uint32_t node, uint64_t off, size_t len, struct dumpfs_extent *e);

#endif /* DUMPFS_VIEW_H */
