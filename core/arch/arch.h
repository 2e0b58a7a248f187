/*
 * arch.h - the dumped machine: its architecture behind one ops table (one
 * file each), its physical memory, its notes, and where its kernel image
 * lies.  Everything that differs between architectures lives here, so the
 * kernel data readers and the views above never test e_machine.
 *
 *   arch.c          the table of architectures, by ELF e_machine
 *   detect.c        which one a dump is of, where its header does not say
 *   machine.c       struct machine: pick the architecture, find phys_base
 *   x86_64.c        page-table walks, phys_base/KASLR from CR3, registers
 *   frames.c        the frames table entries name (Xen PV: machine frames)
 *   x86_cpustate.c  QEMU's x86 CPU state note (i386 and x86_64 guests)
 *   aarch64.c       linear map, kernel image and page tables from
 *                   VMCOREINFO; the virtual PT_LOADs; registers
 *   ppc64.c, s390x.c   the linear map of their 6.1 kernels, registers
 *   vmcoreinfo.c    the kernel's VMCOREINFO note found in memory
 *   i386.c          the lowmem map from VMCOREINFO; registers
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_ARCH_H
#define DUMPFS_ARCH_H

#include "space/space.h"

#define EM_386 3
#define EM_X86_64 62
#define EM_AARCH64 183
#define EM_PPC64 21
#define EM_S390 22

/* Where the kernel image is: phys_base (physical minus virtual offset of
 * the image) and, where the page tables showed it, _text with KASLR. */
struct kernel_map {
	bool has_phys_base;
	uint64_t phys_base;
	const char *origin;             /* who said phys_base, for /header */
	uint64_t text_vaddr;            /* _text from the page tables; 0 if not */
	bool has_page_offset;
	uint64_t page_offset;           /* the direct map's base (x86_64, i386) */
	const char *page_offset_origin; /* who said it, for /header */
	bool pgtable_l5;                /* x86_64: VMCOREINFO's NUMBER(pgtable_l5_enabled),
					 * read once: page walks ask it per page */
};

struct arch_ops;
/* Words of thread-struct registers user_regs() is given beside pt_regs. */
#define USER_REGS_EXTRA 8

/* A walk of the kernel's page tables over [lo, hi]: each leaf mapping
 * [vaddr, +len) -> [paddr, +len) goes to @fn, in ascending virtual order,
 * until it returns false.  At most PT_WALK_MAX_TABLES tables are read, so
 * that a damaged dump whose tables point at one another costs bounded
 * time; a table that is not in the dump is skipped. */
#define PT_WALK_MAX_TABLES 16384
struct kernel_walk {
	uint64_t lo, hi;
	bool (*fn)(void *arg, uint64_t vaddr, uint64_t paddr, uint64_t len);
	void *arg;
	unsigned tables;                /* read so far */
	bool truncated;                 /* the budget ran out */
	bool stopped;                   /* @fn said stop */
	char why[120];                  /* why there was no walk */
};

struct machine {
	const struct arch_ops *arch;    /* never NULL: unknown machines get a
					 * table without decoders */
	uint16_t elf_machine;           /* EM_*, 0 if nothing tells */
	const char *arch_origin;        /* what told it, for /header */
	struct space *phys;             /* physical memory */
	const struct note_set *notes;
	struct endian endian;           /* of the dump file and its notes */
	struct endian mem_endian;       /* of the dumped kernel's data (QEMU
					 * writes ppc64le guests big-endian) */
	struct kernel_map kmap;
	/* files the user gave for what the kernel lacks (dumpfs_options) */
	const char *btf_path, *system_map_path, *vmlinux_path;
	const char *vmcoreinfo_origin;  /* NULL, or where it was found in
					 * memory, for a dump without the note */
	char vmcoreinfo_where[96];
	/* A Xen PV guest's page tables hold machine frames: the format
	 * that turns them into pfns, else NULL. */
	struct format *machine_frames;
};
/* The physical address of the table or page a page-table entry's frame
 * bits @frame_addr name (a Xen PV guest's are machine addresses); false
 * if that frame is none of the guest's. */
bool machine_table_addr(const struct machine *m, uint64_t frame_addr, uint64_t *paddr);

/* aarch64.c: the kernel's address layout, from VMCOREINFO. */
struct aarch64_layout {
	uint64_t page_offset, page_end; /* the linear map (page_end 0: the top) */
	uint64_t phys_offset;           /* physical address at page_offset */
	uint64_t kimage_voffset;        /* image virtual - physical */
	uint64_t stext;
	uint64_t pgd;                   /* swapper_pg_dir, physical */
	bool have_pgd;
	unsigned va_bits, walk_bits, granule_shift;
};

/* One reader's kernel-virtual translation state; it caches the last page,
 * so each thread keeps its own. */
struct vtop {
	const struct machine *m;
	uint64_t top_table;             /* physical address of the top table */
	bool have_top_table;
	unsigned levels;                /* of the page tables */
	uint64_t cached_vpage, cached_ppage;
	struct aarch64_layout a64;
};

struct arch_ops {
	const char *name;
	uint16_t elf_machine;
	/* Bytes of the kernel's pointers and longs: 8 if 0. */
	unsigned word_size;
	/* Each optional. */
	/* phys_base and _text (0 if unseen) from the page tables a CPU note
	 * points at, for dumps that carry no VMCOREINFO. */
	bool (*kernel_map_from_cpus)(const struct machine *m, uint64_t *phys_base,
				     uint64_t *text_vaddr);
	/* The byte order of the kernel's data, where it can differ from the
	 * file's. */
	bool (*memory_endian)(const struct machine *m, struct endian *e);
	/* Where the kernel keeps its VMCOREINFO note, for dumps without one;
	 * absent: search memory only if vmcoreinfo_search is set. */
	bool (*vmcoreinfo_pointer)(const struct machine *m, uint64_t *paddr);
	bool vmcoreinfo_search;
	/* The base of the direct map, and in @origin what told it. */
	bool (*find_page_offset)(const struct machine *m, uint64_t *page_offset,
				 const char **origin);
	/* Where the kernel's VMCOREINFO says it in an entry of its own. */
	bool (*kernel_map_from_vmcoreinfo)(const struct machine *m, struct kernel_map *k);
	/* Kernel virtual to physical; @why says what is missing. */
	enum dumpfs_status (*vtop_init)(struct vtop *t, const struct machine *m,
					char *why, size_t whylen);
	bool (*vtop)(struct vtop *t, uint64_t vaddr, uint64_t *paddr);
	/* A process's user virtual address through its page tables, whose
	 * top table is at physical @pgd; false if nothing maps it. */
	bool (*user_vtop)(const struct machine *m, uint64_t pgd, uint64_t vaddr, uint64_t *paddr);
	/* The first mapped user page at or above @vaddr, in *@next; false if
	 * none is mapped below user_limit(). */
	bool (*user_next)(const struct machine *m, uint64_t pgd, uint64_t vaddr, uint64_t *next);
	/* One past the highest user address. */
	uint64_t (*user_limit)(const struct machine *m);
	/* A walk of the user page tables whose top table is at physical
	 * @top over [w->lo, w->hi] (below user_limit()), for pt_user_vtop
	 * and pt_user_next; false if they cannot be walked at all. */
	bool (*user_walk)(const struct machine *m, uint64_t top, struct kernel_walk *w);
	/* The user registers a thread saved on entering the kernel: struct
	 * pt_regs as read (@len bytes) and what the thread struct keeps
	 * beside (x86_64: fs_base, gs_base, ds, es, fs, gs; s390x: acrs[16],
	 * two to a word as they lie in memory), as the pr_reg
	 * of this architecture's NT_PRSTATUS into @out; the bytes written, 0
	 * if they are not a user frame. */
	size_t (*user_regs)(const struct machine *m, const uint8_t *pt_regs, size_t len,
			    const uint64_t extra[USER_REGS_EXTRA], uint8_t *out, size_t outlen);
	uint32_t kernel_stack_size;     /* THREAD_SIZE */
	uint32_t prstatus_size, prstatus_reg_off;       /* struct elf_prstatus */
	/* Walk the kernel's page tables (struct kernel_walk);
	 * DUMPFS_ERR_UNSUPPORTED, with w->why, where they cannot be. */
	enum dumpfs_status (*kernel_pages)(const struct machine *m, struct kernel_walk *w);
	/* Whether /vmcore.elf maps, beside the RAM, what the kernel's page
	 * tables map outside the linear map (vmalloc: stacks, modules; and
	 * vmemmap): where the readers of the architecture do not walk them. */
	bool elf_maps_kernel_pages;
	/* Whether an ELF input that maps no virtual address (QEMU's with
	 * paging off) is rebuilt with ram_vaddr's addresses: where readers
	 * cannot do without them. */
	bool elf_needs_vaddr;
	/* The virtual address /proc/vmcore gives the RAM at [@paddr, +@len)
	 * (the linear map); false for p_vaddr 0. */
	bool (*ram_vaddr)(const struct machine *m, uint64_t paddr, uint64_t len, uint64_t *vaddr);
	/* The kernel-text mapping /proc/vmcore has on this architecture, as
	 * an extra PT_LOAD of /vmcore.elf; false if it cannot be told. */
	bool (*kernel_text_load)(const struct machine *m, uint64_t *vaddr,
				 uint64_t *paddr, uint64_t *len);
	/* The architecture's register notes from one byte order to the
	 * other, for a /vmcore.elf in the kernel's memory byte order where
	 * the dump file has the other (QEMU's ppc64le dumps). */
	note_swap_fn note_swap;
	/* Registers of an NT_PRSTATUS or a QEMU CPU-state note as text;
	 * nothing when the note is too short to be one. */
	void (*prstatus_text)(const struct machine *m, const struct note *n, struct strbuf *sb);
	void (*cpustate_text)(const struct machine *m, const struct note *n, struct strbuf *sb);
};

/* The size of the dumped kernel's pointers and longs. */
static inline unsigned machine_word_size(const struct machine *m)
{
	return m->arch->word_size ? m->arch->word_size : 8;
}

/* arch.c: the table for e_machine @em (a table without decoders if none). */
const struct arch_ops *arch_of(uint16_t em);
/* detect.c: the EM_* of the dump of @f (0 if nothing tells), and in @how
 * what told it. */
uint16_t arch_detect(const struct format *f, const char **how);

/* machine.c: the machine of format @f with physical memory @phys.  Where
 * VMCOREINFO does not give phys_base, it is taken from the page tables of
 * the QEMU CPU notes (overriding a kdump sub-header's, which QEMU fills in
 * wrongly); a disagreement becomes a warning in @diag.  Reads memory. */
void machine_init(struct machine *m, struct format *f, struct space *phys,
		  struct diag *diag);

/* vmcoreinfo.c: for a dump without the VMCOREINFO note, the kernel's own
 * note found in memory, appended to @f's notes (so that every view sees it)
 * and named in m->vmcoreinfo_origin; false if none was found. */
bool vmcoreinfo_from_memory(struct machine *m, struct format *f);

/* ptwalk.c: read the page table of @len bytes at @paddr, within @w's
 * budget; false if it is spent (w->truncated) or the table is not in the
 * dump. */
bool pt_read_table(const struct machine *m, struct kernel_walk *w, uint64_t paddr,
		   void *buf, size_t len);
/* The indexes [first, last] of a table of 2^@bits entries, each mapping
 * 2^@shift bytes from @base, that [w->lo, w->hi] touches; false if none. */
bool pt_index_range(const struct kernel_walk *w, uint64_t base, unsigned shift, unsigned bits,
		    unsigned *first, unsigned *last);
/* Hand one leaf to w->fn; w->stopped when it says stop. */
void pt_leaf(struct kernel_walk *w, uint64_t vaddr, uint64_t paddr, uint64_t len);
/* Translate @vaddr with a one-page walk; false if nothing maps it. */
bool pt_walk_vtop(const struct machine *m, uint64_t vaddr, uint64_t *paddr);
/* user_vtop and user_next made of the architecture's user_walk (user
 * pages are counted in 4 KiB steps whatever the page size, as umem.c
 * reads them). */
#define PT_USER_PAGE_MASK 4095u
bool pt_user_vtop(const struct machine *m, uint64_t top, uint64_t vaddr, uint64_t *paddr);
bool pt_user_next(const struct machine *m, uint64_t top, uint64_t vaddr, uint64_t *next);

/* The architectures (arch.c lists them) */
extern const struct arch_ops x86_64_arch, i386_arch, aarch64_arch, ppc64_arch, s390x_arch;
/* ppc64.c, s390x.c: register text */
extern const struct arch_ops ppc64_arch, s390x_arch;

/* x86_cpustate.c: QEMUCPUState (QEMU target/i386/arch_dump.c) */
void x86_cpustate_text(const struct machine *m, const struct note *n, struct strbuf *sb);
/* CR3 and CR4 of one note; false if it is too short to hold them. */
bool x86_cpustate_control(const struct machine *m, const struct note *n,
			  uint64_t *cr3, uint64_t *cr4);

#endif /* DUMPFS_ARCH_H */
