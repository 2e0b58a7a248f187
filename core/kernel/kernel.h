/*
 * kernel.h - what the dumped kernel's own data says, read through its
 * virtual addresses with nothing but the dump: the kernel log today; the
 * symbols (kallsyms), types (BTF) and tasks to come land here too.
 *
 *   kmem.c      reads at kernel virtual addresses (the arch translates)
 *   dmesg.c     the kernel log
 *   kallsyms.c  the symbol table, from the kallsyms tables in memory
 *   kscan.c     those tables found by scanning the image (before 6.0)
 *   sysmap.c    the same from a System.map the user gives
 *   vmlinux.c   symbols and BTF from the kernel's vmlinux the user gives
 *   btf.c       the type information (BTF), found in the kernel image
 *   ktypes.c    structure layouts from that BTF (libbpf)
 *   tasks.c     the thread groups, from init_task.tasks
 *   vmas.c      a process's memory map (the maple tree)
 *   umem.c      a process's user memory as a space
 *   threads.c   a group's threads and their user registers
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
/* Translate one kernel virtual address. */
bool kmem_vtop(struct kmem *km, uint64_t vaddr, uint64_t *paddr);
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
	char origin[128];               /* where they came from, for /header */
};

/* kscan.c: the kallsyms tables found in the kernel image (kernels before
 * 6.0, whose VMCOREINFO does not name them): their addresses, and the
 * symbol count kallsyms_num_syms holds. */
struct kscan {
	uint64_t num_syms, names, markers, token_table, token_index;
	uint64_t offsets, relative_base_at, addresses;  /* the two candidates */
	size_t count, nmarkers;
};
/* Whether the image can be scanned for them (cheap: no memory read). */
bool kallsyms_scannable(const struct machine *m);
/* The first tables whose token index lies past @after (0: from _stext);
 * on failure @why says what the scan saw. */
enum dumpfs_status kallsyms_scan(struct kmem *km, uint64_t after, struct kscan *f, char *why, size_t whylen);

/* sysmap.c: the symbols of the System.map at @path, moved by the KASLR
 * offset and checked against VMCOREINFO. */
enum dumpfs_status sysmap_load(const struct machine *m, const char *path, struct kallsyms *ks,
			       char *why, size_t whylen);
/* Building a symbol table: append one symbol (false: out of memory, or
 * 2^22 symbols already); @cap keeps the capacities. */
struct symtab_cap {
	size_t syms, bytes, used;
};
bool symtab_add(struct kallsyms *ks, struct symtab_cap *cap, uint64_t addr, char type,
		const char *name, size_t len);
/* Move link-time addresses by the KASLR offset (from _stext or
 * KERNELOFFSET) and check them against the symbols VMCOREINFO names;
 * @kind ("System.map", "vmlinux") and @path name the file in messages
 * and become ks->encoding.  Frees @ks on failure. */
enum dumpfs_status symbols_place(const struct machine *m, struct kallsyms *ks, const char *kind,
				 const char *path, char *why, size_t whylen);
void symtab_free(struct kallsyms *ks);

/* vmlinux.c: the kernel's ELF file (-o vmlinux=FILE).  Whether it is the
 * dumped kernel's (its GNU build ID against VMCOREINFO's BUILD-ID); on
 * success @why says how that was told. */
enum dumpfs_status vmlinux_check(const struct machine *m, const char *path, char *why, size_t whylen);
/* Its .symtab as System.map has it, placed as symbols_place() does. */
enum dumpfs_status vmlinux_symbols(const struct machine *m, const char *path, struct kallsyms *ks,
				   char *why, size_t whylen);
/* Its .BTF section, appended to @sb; DUMPFS_ERR_UNSUPPORTED if it has
 * none (or the file cannot be read as ELF). */
enum dumpfs_status vmlinux_btf(const char *path, struct strbuf *sb, char *why, size_t whylen);
/* Whether VMCOREINFO names the kallsyms tables or a System.map or vmlinux
 * was given, or the kernel is older than 6.0 and its image can be scanned
 * for them (cheap: no memory read; the scan runs when they are first
 * read, and a failed one fails that read). */
bool kallsyms_named(const struct machine *m);
/* Decode the tables the dump's VMCOREINFO names, or those a scan of the
 * image finds; @why says what failed. */
enum dumpfs_status kallsyms_load(const struct machine *m, struct kallsyms *ks, char *why, size_t whylen);
void kallsyms_free(struct kallsyms *ks);
/* Decode them (a scan, where VMCOREINFO does not name them) to say where
 * they come from, for /header; false, with why in @out, if they do not. */
bool kallsyms_origin(const struct machine *m, char *out, size_t outlen);
/* The symbols as System.map has them ("ADDRESS TYPE NAME", by address);
 * on success @why says what was decoded, on failure why not. */
enum dumpfs_status kallsyms_render(const struct machine *m, struct strbuf *sb, char *why, size_t whylen);

/* Whether the image can be searched for BTF (cheap: no memory read). */
bool btf_searchable(const struct machine *m);
/* The kernel's BTF blob, as the image holds it; on success @why says where
 * it was found, on failure why it was not. */
enum dumpfs_status btf_render(const struct machine *m, struct strbuf *sb, char *why, size_t whylen);
/* The same, tried first at @start_btf (__start_BTF from kallsyms; 0 if
 * unknown), which saves the search. */
enum dumpfs_status btf_render_from(const struct machine *m, uint64_t start_btf, struct strbuf *sb,
				   char *why, size_t whylen);

/* The kernel's structure layouts, from its BTF. */
struct btf;
struct ktypes {
	struct btf *btf;
};
/* Where a member lies in its structure, and its size, in bytes. */
struct kfield {
	uint64_t offset, size;
};
/* @start_btf: where kallsyms says the BTF starts, or 0 (btf_render_from). */
enum dumpfs_status ktypes_load(struct ktypes *kt, const struct machine *m, uint64_t start_btf,
			       char *why, size_t whylen);
void ktypes_free(struct ktypes *kt);
/* Member @path ("a" or "a.b": a member of a nested structure) of struct
 * @type; false if there is none, or it is a bitfield. */
bool ktypes_member(const struct ktypes *kt, const char *type, const char *path, struct kfield *out);
bool ktypes_size(const struct ktypes *kt, const char *type, uint64_t *size);

/* One thread group of the dumped system: what its leader's task_struct
 * and the structures it points to say. */
struct ktask {
	uint64_t addr;                  /* of its task_struct */
	int32_t pid, tgid, ppid;        /* ppid -1: the parent is not in the dump */
	char comm[16];
	uint64_t state, exit_state;
	uint32_t flags;                 /* PF_* */
	uint64_t mm;
	bool on_cpu;                    /* running on a CPU when dumped */
	int cpu;                        /* the CPU it last ran on, -1 if unknown */
	bool have_cred;
	uint32_t uid[4], gid[4];        /* real, effective, saved, filesystem */
	uint32_t threads;
	bool have_mm_figures;
	uint64_t total_vm;              /* pages */
	uint64_t rss[4];                /* file, anon, swap entries, shmem pages */
	/* of its mm: the page tables (kernel virtual), argv and environment */
	uint64_t pgd, arg_start, arg_end, env_start, env_end;
	uint64_t user_limit;            /* the mm's own top of user space
					 * (s390x's context.asce_limit); 0 if none */
	uint64_t auxv_at;               /* mm->saved_auxv, kernel virtual */
	/* x86: the vDSO's user address, and the kernel's image of it
	 * (kernel virtual, bytes): what its pages hold before they are
	 * first touched; 0 if unknown */
	uint64_t vdso_base, vdso_data, vdso_size;
	uint32_t auxv_size;             /* its bytes */
};
struct vma_layout;
struct ktask_list {
	size_t count;
	struct ktask *list;
	char stopped[200];              /* why the walk stopped early, or "" */
	/* for the files read later: the types, the VMA layouts (NULL until
	 * maps is first read), special_mapping_vmops and its legacy twin */
	struct ktypes types;
	struct vma_layout *vmas;        /* NULL: why in vmas_why */
	char vmas_why[200];
	uint64_t special_vmops[2];
	/* the d_dname functions of pseudo files d_path() names its own way:
	 * simple_dname (shmem: shared anonymous memory, memfd, SysV shm),
	 * anon_inodefs_dname, sockfs_dname (0: not in the symbols) */
	uint64_t dname_fns[3];
};
/* The thread groups on init_task.tasks (init_task from kallsyms, the
 * layouts from BTF); on success @why says what was walked. */
enum dumpfs_status tasks_load(const struct machine *m, struct ktask_list *tl, char *why, size_t whylen);
void tasks_free(struct ktask_list *tl);
/* Read @len bytes of @t's user memory at @vaddr; false, with @why, if a
 * byte is not mapped or not in the dump (user pages filtered out). */
bool task_read_user(const struct machine *m, const struct ktask *t, uint64_t vaddr, void *buf,
		    size_t len, char *why, size_t whylen);
/* /proc/PID/auxv: the saved auxiliary vector up to and with AT_NULL. */
enum dumpfs_status task_auxv(const struct machine *m, const struct ktask *t, struct strbuf *sb,
			     char *why, size_t whylen);
/* oncpu.c: the pid of the task each of CPUs 0..@ncpus-1 was running
 * (runqueues' curr; 0: idle). */
enum dumpfs_status cpu_current_pids(const struct machine *m, int32_t *pids, size_t ncpus, char *why,
				    size_t whylen);

/* threads.c: one thread of a group, with its user registers as the
 * architecture's NT_PRSTATUS (prstatus_len 0: none, a kernel thread's or
 * not a user frame). */
struct kthread {
	uint64_t addr;                  /* its task_struct */
	int32_t tid;
	char comm[16];
	bool on_cpu;
	int cpu;
	uint8_t prstatus[512];
	size_t prstatus_len;
};
enum dumpfs_status task_threads(const struct machine *m, struct ktask_list *tl, const struct ktask *t,
				struct kthread **out, size_t *count, char *why, size_t whylen);

/* umem.c: @t's user address space as a space: offset V is user address
 * V; unmapped pages and pages the dump lacks are holes (zeros).  Its page
 * tables are read through @tables (physical memory, cached: see
 * cached_space), its pages from the machine's physical memory. */
#define UMEM_VDSO_PAGES 8
struct umem_space {
	struct space space;
	const struct machine *m;
	struct machine walk;            /* *m, its physical memory @tables */
	uint64_t pgd;                   /* physical */
	/* the vDSO's pages: user address, and where their bytes lie in
	 * physical memory (the kernel's image), for pages the page tables
	 * do not map yet: /proc/PID/mem and a core show them too */
	uint64_t vdso_base;
	uint64_t vdso_pages[UMEM_VDSO_PAGES];
	unsigned vdso_npages;
};
enum dumpfs_status umem_init(struct umem_space *u, const struct machine *m, struct space *tables,
			     const struct ktask *t, char *why, size_t whylen);
/* How many user pages the page tables map, and how many of them the dump
 * holds; false if more than @limit are mapped (the counts stop there). */
bool umem_count(struct umem_space *u, uint64_t limit, uint64_t *mapped, uint64_t *held);

/* vmas.c: one VMA of a process. */
struct kvma {
	uint64_t start, end, flags;     /* VM_* */
	uint64_t pgoff;                 /* bytes into the file */
	uint64_t ino;
	uint32_t dev;
	bool file, written, special;    /* file-backed; has an anon_vma; a special mapping */
	bool unlinked;                  /* its file has no links (shmem's anonymous ones) */
	char *name;                     /* /proc's name column, or NULL */
};
/* The VMA layouts from tl->types, once (tasks_load calls it). */
void vmas_prepare(struct ktask_list *tl);
/* @t's VMAs in address order (6.1's maple tree). */
enum dumpfs_status task_vmas(const struct machine *m, const struct ktask_list *tl, const struct ktask *t,
			     struct kvma **out, size_t *count, char *why, size_t whylen);
void task_vmas_free(struct kvma *v, size_t n);
/* /proc/PID/maps of @t, from task_vmas(). */
enum dumpfs_status task_maps(const struct machine *m, const struct ktask_list *tl, const struct ktask *t,
			     struct strbuf *sb, char *why, size_t whylen);
void vma_layout_free(struct vma_layout *l);
/* /proc's state letter (R, S, D, T, t, X, Z, P, I). */
char task_state_letter(const struct ktask *t);
bool task_is_kthread(const struct ktask *t);

#endif /* DUMPFS_KERNEL_H */
