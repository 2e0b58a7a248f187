/*
 * mkdump_xen.c - Xen dumps for the dumpfs tests, written from Xen's own
 * definitions (Xen 4.17), never from the dumpfs reader:
 *
 *   tools/libs/guest/xg_core.{h,c}, xg_core_x86.{h,c}   the xc_core file
 *   xen/include/public/elfnote.h, version.h              note types, XENVER_*
 *   xen/include/public/xen.h, arch-x86/xen.h,
 *     arch-x86/xen-x86_64.h                              shared_info,
 *                                                        vcpu_guest_context
 *   xen/arch/x86/domctl.c (arch_get_info_guest)          what a context holds
 *   xen/include/xen/elfcore.h, xen/arch/x86/include/asm/elf.h,
 *     asm/x86_64/elf.h, xen/common/kexec.c,
 *     xen/arch/x86/crash.c, xen/include/xen/kexec.h      a Xen host's crash notes
 * and, for what surrounds them: kexec-tools' kexec/crashdump-elf.c (the
 * capture kernel's ELF header under Xen), Linux's arch/x86/xen/p2m.c (dom0's
 * p2m tree) and kernel/crash_core.c (VMCOREINFO in a kernel's memory).
 *
 * --format xc: a domain's dump as `xl dump-core` writes it (format version
 * 1, x86_64): ELF64 ET_CORE with no program headers; section headers, in
 * xc_core.c's order, null, .shstrtab, .note.Xen, .xen_prstatus,
 * .xen_shared_info, .xen_pages, .xen_p2m (PV) or .xen_pfn (HVM/PVH); the
 * data in the order ELF header, section headers, .note.Xen, .xen_prstatus,
 * .xen_shared_info, zeros to a page boundary, .xen_pages, .xen_p2m/.xen_pfn,
 * .shstrtab.  OUT.mem is the domain's pseudo-physical memory (pfn-indexed).
 *
 * --format xen-kdump: /proc/vmcore of the capture kernel after a Xen host
 * crashed: its PT_LOADs hold machine memory (--ram), its one PT_NOTE (the
 * capture kernel merges kexec-tools' per-CPU ones) per physical CPU a
 * "CORE" NT_PRSTATUS and a "Xen" XEN_ELFNOTE_CRASH_REGS, CPU 0 also the
 * "Xen" XEN_ELFNOTE_CRASH_INFO, then "VMCOREINFO_XEN".  dom0's memory lives
 * inside machine memory, found through the p2m tree that CRASH_INFO's last
 * word points at.  OUT.mem is machine memory, OUT.dom0.mem dom0's.
 *
 * Both are x86_64 and little-endian with 4 KiB pages only.
 *
 * Expected output, besides mkdump.c's OUT.mem/.eio/.holes/.info/.vmcoreinfo:
 *   xc:  OUT.cpuN.xen_context   the vCPU's vcpu_guest_context, as in .xen_prstatus
 *        OUT.cpuN.prstatus      the NT_PRSTATUS a reader makes of it (see write_xc)
 *        OUT.vmcoreinfo         the text the guest kernel keeps in its memory
 *        OUT.xen_shared_info    .xen_shared_info
 *        OUT.xen_p2m            "index pfn gmfn page|junk|zero" per entry
 *   xen-kdump:
 *        OUT.cpuN.prstatus      the "CORE" note's descriptor (Xen's registers)
 *        OUT.cpuN.xen_crash_regs  the XEN_ELFNOTE_CRASH_REGS descriptor
 *        OUT.xen_crash_info     the XEN_ELFNOTE_CRASH_INFO descriptor
 *        OUT.xen_vmcoreinfo     VMCOREINFO_XEN's text (its note is NUL-padded
 *                               to descsz 4068, as Xen's is)
 *        OUT.dom0.{mem,eio,holes,vmcoreinfo}  what /dom0/ shows of dom0
 *        OUT.dom0.p2m           "pfn entry" for every pfn below dom0_max_pfn
 *
 * What a correct reader must do where the input leaves a choice:
 *   - xc entries naming a pfn >= 2^40 (beyond a 52-bit physical address;
 *     ~0 is xc_core's own "invalid" padding) are ignored, with their pages;
 *   - of two entries naming one pfn, the first in file order gives its page,
 *     even when that page was cut off by truncation;
 *   - a page .xen_pages does not hold in full (file truncated) is EIO;
 *   - a section whose sh_size runs past EOF: the counts of the header note
 *     (nr_vcpus, nr_pages) still bound what is read, every page is served;
 *   - /mem of an xc dump ends after its highest pfn; holes are the pfns no
 *     entry names;
 *   - dom0: a p2m entry that is an mfn of machine RAM gives that frame,
 *     INVALID_P2M_ENTRY and IDENTITY_FRAME entries are holes, any other mfn
 *     (not RAM: past the end, in a hole, past 2^40) is EIO; /dom0/mem ends
 *     after the last pfn with an mfn.
 * OUT.info states each (xen_dup_rule, xen_ignore_pfn_from, dom0_rule, ...).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mkdump.h"

#define XPAGE 4096u

/* ------------------------------------------------------------------ */
/* Constants and layouts, with where they come from                    */

/* xen/include/public/elfnote.h */
#define XEN_ELFNOTE_CRASH_INFO 0x1000001
#define XEN_ELFNOTE_CRASH_REGS 0x1000002
#define XEN_ELFNOTE_DUMPCORE_NONE 0x2000000
#define XEN_ELFNOTE_DUMPCORE_HEADER 0x2000001
#define XEN_ELFNOTE_DUMPCORE_XEN_VERSION 0x2000002
#define XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION 0x2000003

/* tools/libs/guest/xg_core.h (magics: xg_private.h) */
#define XC_CORE_MAGIC 0xF00FEBEDull
#define XC_CORE_MAGIC_HVM 0xF00FEBEEull
#define XC_CORE_INVALID_PFN (~0ull)
#define XC_CORE_INVALID_GMFN (~0ull)
#define XEN_DUMPCORE_FORMAT_VERSION_CURRENT 1ull /* major 0 << 32 | minor 1 */

#define SHT_PROGBITS 1
#define SHT_STRTAB 3
#define SHT_NOTE 7
#define EM_X86_64 62

/*
 * struct xen_dumpcore_elfnote_xen_version_desc (xg_core.h) with the
 * XENVER_* types of public/version.h, 64-bit guest (a 32-bit one moves
 * pagesize 4 bytes down):
 *   u64 major_version @0, u64 minor_version @8,
 *   char extra_version[16] @16,
 *   xen_compile_info_t @32 { compiler[64] @32, compile_by[16] @96,
 *       compile_domain[32] @112, compile_date[32] @144 },
 *   char capabilities[1024] @176, char changeset[64] @1200,
 *   xen_platform_parameters_t { xen_ulong_t virt_start } @1264,
 *   u64 pagesize @1272; 1280 bytes.
 */
#define XV_SIZE 1280
/* struct xen_dumpcore_elfnote_header_desc: magic, nr_vcpus, nr_pages,
 * page_size, all u64: 32 bytes */
#define XCH_SIZE 32
/* each .note.Xen note is struct elfnote {namesz, descsz, type, "Xen\0"}
 * (16 bytes) + the descriptor: none 0, header 32, version 1280, format 8 */
#define XC_NOTES_SIZE (16 + 0 + 16 + XCH_SIZE + 16 + XV_SIZE + 16 + 8)

/*
 * struct cpu_user_regs (public/arch-x86/xen-x86_64.h), 200 bytes:
 * r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi @0..112 (u64),
 * u32 error_code @120, u32 entry_vector @124, rip @128, u16 cs @136,
 * u8 saved_upcall_mask @140, rflags @144, rsp @152, u16 ss @160,
 * u16 es @168, u16 ds @176, u16 fs @184, u16 gs @192.
 */
#define CUR_RIP 128
#define CUR_CS 136
#define CUR_RFLAGS 144
#define CUR_RSP 152
#define CUR_SS 160
#define CUR_ES 168
#define CUR_DS 176
#define CUR_FS 184
#define CUR_GS 192
#define CUR_SIZE 200

/*
 * struct vcpu_guest_context, x86_64 (public/arch-x86/xen.h), 5168 bytes:
 * fpu_ctxt[512] @0, flags @512, user_regs @520, trap_ctxt[256] of
 * struct trap_info {u8 vector, u8 flags, u16 cs, (pad), ulong address}
 * (16 bytes) @720, ldt_base @4816, ldt_ents @4824, gdt_frames[16] @4832,
 * gdt_ents @4960, kernel_ss @4968, kernel_sp @4976, ctrlreg[8] @4984,
 * debugreg[8] @5048, event_callback_eip @5112, failsafe_callback_eip @5120,
 * syscall_callback_eip @5128, vm_assist @5136, fs_base @5144,
 * gs_base_kernel @5152, gs_base_user @5160.
 */
#define VGC_FLAGS 512
#define VGC_USER_REGS 520
#define VGC_TRAP_CTXT 720
#define VGC_LDT_BASE 4816
#define VGC_GDT_FRAMES 4832
#define VGC_GDT_ENTS 4960
#define VGC_KERNEL_SS 4968
#define VGC_KERNEL_SP 4976
#define VGC_CTRLREG 4984
#define VGC_DEBUGREG 5048
#define VGC_EVENT_CB 5112
#define VGC_FAILSAFE_CB 5120
#define VGC_SYSCALL_CB 5128
#define VGC_VM_ASSIST 5136
#define VGC_FS_BASE 5144
#define VGC_GS_BASE_KERNEL 5152
#define VGC_GS_BASE_USER 5160
#define VGC_SIZE 5168
_Static_assert(VGC_USER_REGS + CUR_SIZE == VGC_TRAP_CTXT, "user_regs");
_Static_assert(VGC_TRAP_CTXT + 256 * 16 == VGC_LDT_BASE, "trap_ctxt");
_Static_assert(VGC_GDT_FRAMES + 16 * 8 == VGC_GDT_ENTS, "gdt_frames");
_Static_assert(VGC_CTRLREG + 8 * 8 == VGC_DEBUGREG, "ctrlreg");
_Static_assert(VGC_DEBUGREG + 8 * 8 == VGC_EVENT_CB, "debugreg");
_Static_assert(VGC_GS_BASE_USER + 8 == VGC_SIZE, "size");

/* VGCF_* flags (public/arch-x86/xen.h) */
#define VGCF_I387_VALID (1u << 0)
#define VGCF_IN_KERNEL (1u << 2)
#define VGCF_ONLINE (1u << 5)

/*
 * struct shared_info, x86_64 (public/xen.h): vcpu_info[32] of 64 bytes
 * {u8 evtchn_upcall_pending, u8 evtchn_upcall_mask, ulong
 * evtchn_pending_sel @8, arch_vcpu_info {cr2 @16, pad}, vcpu_time_info @32
 * {u32 version, pad, u64 tsc_timestamp @40, u64 system_time @48,
 * u32 tsc_to_system_mul @56, i8 tsc_shift @60, u8 flags @61}} @0,
 * evtchn_pending[64] @2048, evtchn_mask[64] @2560, u32 wc_version @3072,
 * wc_sec @3076, wc_nsec @3080, wc_sec_hi @3084, arch_shared_info @3088
 * {max_pfn @3088, pfn_to_mfn_frame_list_list @3096, nmi_reason @3104,
 * p2m_cr3 @3112, p2m_vaddr @3120, p2m_generation @3128}.
 */
#define SI_EVTCHN_MASK 2560
#define SI_WC_VERSION 3072
#define SI_ARCH 3088

/* ELF_Prstatus of xen/include/xen/elfcore.h and Linux's x86_64
 * struct elf_prstatus alike: 336 bytes, pr_pid @32, pr_reg[27] @112 */
#define PRSTATUS_SIZE 336
#define PR_REG 112

/* crash_xen_core_t (xen/arch/x86/include/asm/elf.h): cr0 cr2 cr3 cr4 */
#define CRASH_REGS_SIZE 32
/* crash_xen_info_t (xen/include/xen/elfcore.h), x86_64: major, minor,
 * extra_version, changeset, compiler, compile_date, compile_time (the
 * strings' machine addresses, __pa()), tainted, xen_phys_start,
 * dom0_pfn_to_mfn_frame_list_list: ten unsigned longs */
#define CRASH_INFO_SIZE 80

/* xen/include/xen/kexec.h: the VMCOREINFO_XEN note fills VMCOREINFO_BYTES;
 * its descsz is what the header and padded name leave (kexec.c) */
#define VMCOREINFO_BYTES 4096
#define XEN_VMCI_DESCSZ (VMCOREINFO_BYTES - 12 - 16)

/* Linux, arch/x86/include/asm/xen/page.h: dom0 p2m entry values that are
 * not machine frames */
#define INVALID_P2M_ENTRY (~0ull)
#define IDENTITY_FRAME_BIT (1ull << 62)
#define P2M_PER_PAGE 512

/* Xen 4.17's own addresses (xen-syms-4.17 of Debian 12, its map) */
#define XEN_VIRT_START 0xffff82d040000000ull
#define XEN_IMAGE_OFF 0x200000ull /* _start - XEN_VIRT_START */
#define XEN_IMAGE_PAGES 936      /* _end - _start, rounded up to pages */

/* The version Xen reports (XENVER_*) and that CRASH_INFO points at */
static const char xen_extra[] = ".7";
static const char xen_changeset[] = "Wed Jun 18 12:00:00 2025 +0200 git:2445b30a44";
static const char xen_compiler[] = "gcc (Debian 12.2.0-14+deb12u1) 12.2.0";
static const char xen_compile_by[] = "pkg-xen-devel";
static const char xen_compile_domain[] = "lists.alioth.debian.org";
static const char xen_compile_date[] = "Wed Jun 18 12:00:00 UTC 2025";
static const char xen_compile_time[] = "12:00:00";
static const char xen_caps[] = "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64";

/* ------------------------------------------------------------------ */
/* Options                                                             */

static bool is_array_section(const char *s)
{
	return !strcmp(s, ".xen_p2m") || !strcmp(s, ".xen_pfn");
}

void xen_check_opts(const struct opts *o)
{
	const struct xen_opts *x = &o->xen;
	bool xc = o->format == FMT_XC;

	if (o->arch != ARCH_X86_64 || o->layout != 64 || o->big_endian)
		usage("--format xc and xen-kdump are x86_64, 64-bit, little-endian");
	if (o->page_size != XPAGE)
		usage("--format xc and xen-kdump have 4096-byte pages");
	if (o->split > 1 || o->excluded || o->zero_pages || o->incomplete ||
	    o->corrupt_pages || o->qemu_notes || o->eraseinfo || o->pn_xnum || o->phys_base)
		usage("--format xc and xen-kdump take none of --split, --excluded, --zero-pages, "
		      "--incomplete, --corrupt-pages, --qemu-notes, --eraseinfo, --pn-xnum, "
		      "--phys-base (see the --xen-* options)");
	if (xc && o->flat)
		usage("xl dump-core writes no flattened files: --flat is for xen-kdump");
	if (!xc && (x->hvm || x->shuffle || x->arrays_first || x->invalid_tail >= 0 ||
		    x->dup_pfn || x->truncate_pages || x->bad_section))
		usage("--xen-type, --xen-shuffle, --xen-arrays-first, --xen-invalid-tail, "
		      "--xen-dup-pfn, --xen-truncate-pages and --xen-bad-section-size are for "
		      "--format xc");
	if (x->bad_section) {
		static const char *const names[] = { ".shstrtab", ".note.Xen", ".xen_prstatus",
						     ".xen_shared_info", ".xen_pages",
						     ".xen_p2m", ".xen_pfn" };
		bool ok = false;
		for (size_t i = 0; i < sizeof names / sizeof *names; i++)
			ok = ok || !strcmp(x->bad_section, names[i]);
		if (!ok)
			usage("--xen-bad-section-size: not a section of an xc_core file");
		if (is_array_section(x->bad_section) &&
		    strcmp(x->bad_section, x->hvm ? ".xen_pfn" : ".xen_p2m"))
			usage("--xen-bad-section-size: PV dumps have .xen_p2m, HVM ones .xen_pfn");
	}
}

/* ------------------------------------------------------------------ */
/* Shared pieces                                                       */

static void put_str(uint8_t *p, const char *s)
{
	memcpy(p, s, strlen(s));
}

/* Page contents from fill_page() under another seed, so that pages of
 * different roles (a domain's, Xen's, free machine frames) never repeat
 * one another: a reader looking in the wrong place gets different bytes. */
static void fill_salted(const struct dump *d, uint64_t salt, uint64_t pfn, uint8_t *p)
{
	struct dump t = *d;
	t.o.seed = mix64(d->o.seed ^ salt);
	fill_page(&t, pfn, p);
}

static void shuffle_u64(uint64_t *a, size_t n, struct rng *r)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)rng_below(r, i);
		uint64_t t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

/*
 * The VMCOREINFO text as a guest kernel holds it in memory.  It is the
 * text mkdump writes for the other formats without the CRASHTIME line:
 * crash_save_vmcoreinfo() adds that only when the kernel itself kexecs
 * into a crash kernel, which neither a domain dumped by `xl dump-core`
 * nor a PV dom0 (kexec goes through Xen) does.
 */
static char *guest_vmcoreinfo(const struct dump *d)
{
	char *s = make_vmcoreinfo(d);
	char *c = strstr(s, "\nCRASHTIME=");
	if (c) {
		char *e = strchr(c + 1, '\n');
		if (e)
			memmove(c + 1, e + 1, strlen(e + 1) + 1);
		else
			c[1] = '\0';
	}
	return s;
}

/*
 * The two pages a Linux kernel keeps VMCOREINFO in (kernel/crash_core.c):
 * vmcoreinfo_data, a zeroed page holding the text, and vmcoreinfo_note,
 * zeroed pages holding it as an ELF note (namesz 11, descsz = the text's
 * length, type 0, "VMCOREINFO\0" padded to 12, the text padded to 4)
 * followed by an empty note header (final_note()).  Both are page-aligned
 * allocations, anywhere in RAM.
 */
static void place_vmcoreinfo(const char *text, uint8_t *note_page, uint8_t *data_page)
{
	size_t len = strlen(text);
	if (len + 12 + 12 + 4 + 12 > XPAGE)
		die("VMCOREINFO text too long for a page");
	memset(data_page, 0, XPAGE);
	memcpy(data_page, text, len);
	memset(note_page, 0, XPAGE);
	put32(note_page, 11);
	put32(note_page + 4, (uint32_t)len);
	put32(note_page + 8, 0);
	memcpy(note_page + 12, "VMCOREINFO", 11);
	memcpy(note_page + 24, text, len);
	/* final_note(): 12 zero bytes after the padded text, already zero */
}

/* Registers of one CPU in the common order of cpu_user_regs and
 * user_regs_struct for the first 15, then the rest by name. */
struct xregs {
	uint64_t gpr[15]; /* r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi */
	uint64_t rip, rflags, rsp;
	uint16_t cs, ss, ds, es, fs, gs;
	uint64_t fs_base, gs_base_kernel, gs_base_user;
	uint64_t cr[8], dr[8];
};

/*
 * NT_PRSTATUS descriptor: the 27 pr_reg words in user_regs_struct order
 * r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs
 * eflags rsp ss fs_base gs_base ds es fs gs; everything else 0 (pr_pid too).
 */
static uint8_t *prstatus_from_regs(const struct xregs *r, uint64_t orig_rax, uint64_t gs_base)
{
	uint8_t *p = xcalloc(PRSTATUS_SIZE, 1);
	uint64_t reg[27];
	memcpy(reg, r->gpr, sizeof r->gpr);
	reg[15] = orig_rax;
	reg[16] = r->rip;
	reg[17] = r->cs;
	reg[18] = r->rflags;
	reg[19] = r->rsp;
	reg[20] = r->ss;
	reg[21] = r->fs_base;
	reg[22] = gs_base;
	reg[23] = r->ds;
	reg[24] = r->es;
	reg[25] = r->fs;
	reg[26] = r->gs;
	for (int i = 0; i < 27; i++)
		put64(p + PR_REG + 8 * i, reg[i]);
	return p;
}

/* ------------------------------------------------------------------ */
/* xc_core: a domain's dump                                            */

enum ent_kind { ENT_PAGE, ENT_JUNK, ENT_ZERO };

/* One entry of .xen_p2m/.xen_pfn and the page at the same index of
 * .xen_pages. */
struct xc_ent {
	uint64_t pfn, gmfn;
	enum ent_kind kind;
	uint64_t tag; /* junk pages: what their bytes derive from */
};

struct entv { struct xc_ent *e; size_t n, cap; };

static void ent_insert(struct entv *v, size_t at, struct xc_ent e)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 1024;
		v->e = xrealloc(v->e, v->cap * sizeof *v->e);
	}
	memmove(v->e + at + 1, v->e + at, (v->n - at) * sizeof *v->e);
	v->e[at] = e;
	v->n++;
}

/* xc_core_arch_gpfn_may_present() (xg_core_x86.c): pfns xc_core never
 * dumps for an auto-translated guest, the VGA hole and the MMIO hole
 * below 4 GiB (HVM_BELOW_4G_MMIO_START 0xf0000000) */
static bool hvm_gpfn_may_present(uint64_t pfn)
{
	return !((pfn >= 0xa0 && pfn < 0xc0) || (pfn >= 0xf0000 && pfn < 0x100000));
}

/*
 * A guest vCPU as arch_get_info_guest() (xen/arch/x86/domctl.c) returns
 * it, in the kernel.  PV: flags carry VGCF_in_kernel, cs/ss are the flat
 * ring-3 selectors a 64-bit PV kernel runs on (FLAT_KERNEL_CS64 0xe033,
 * FLAT_KERNEL_SS64 0xe02b), cr3 and cr1 (the user page table) are
 * xen_pfn_to_cr3() of MACHINE frames, the trap table and callbacks are
 * the kernel's.  HVM: no VGCF_in_kernel, the guest's own selectors and
 * control registers (cr3 a guest-physical address), no PV state.
 * Every register differs per CPU; gs_base_user is not 0 so that a reader
 * taking it for gs_base_kernel shows.
 */
static void guest_regs(int cpu, bool hvm, uint64_t cr3, struct xregs *r)
{
	uint64_t c = (uint64_t)cpu;
	memset(r, 0, sizeof *r);
	for (int i = 0; i < 15; i++) /* "GST", cpu, register index */
		r->gpr[i] = 0x4753540000000000ull | (c << 16) | (uint64_t)i;
	r->gpr[4] = 0xffffc90000013e80ull + c * 0x4000; /* rbp */
	r->rip = 0xffffffff81a3c4d0ull + c * 0x10;
	r->rsp = 0xffffc90000013e40ull + c * 0x4000;
	r->rflags = 0x246;
	r->cs = hvm ? 0x10 : 0xe033;
	r->ss = hvm ? 0x18 : 0xe02b;
	r->fs_base = 0x00007f3a5c4e0740ull + c * 0x1000;
	r->gs_base_kernel = 0xffff88807fc00000ull + c * 0x40000;
	r->gs_base_user = 0x00007f3a5c000000ull + c * 0x1000;
	r->cr[0] = 0x80050033;
	r->cr[2] = 0x00005624a1c0f000ull + c * 0x1000;
	r->cr[3] = cr3;
	r->cr[4] = hvm ? 0x3706f0 : 0x2660;
	r->dr[6] = 0xffff0ff0;
	r->dr[7] = 0x400;
}

static uint8_t *vcpu_context(const struct xregs *r, bool hvm, uint64_t gdt_mfn, uint64_t user_cr3)
{
	uint8_t *p = xcalloc(VGC_SIZE, 1);
	uint8_t *u = p + VGC_USER_REGS;

	/* FXSAVE area after fninit: FCW 0x37f, MXCSR 0x1f80, its mask */
	put16(p, 0x037f);
	put32(p + 24, 0x1f80);
	put32(p + 28, 0xffff);
	put64(p + VGC_FLAGS, VGCF_I387_VALID | VGCF_ONLINE | (hvm ? 0 : VGCF_IN_KERNEL));
	for (int i = 0; i < 15; i++)
		put64(u + 8 * i, r->gpr[i]);
	put64(u + CUR_RIP, r->rip);
	put16(u + CUR_CS, r->cs);
	put64(u + CUR_RFLAGS, r->rflags);
	put64(u + CUR_RSP, r->rsp);
	put16(u + CUR_SS, r->ss);
	put16(u + CUR_ES, r->es);
	put16(u + CUR_DS, r->ds);
	put16(u + CUR_FS, r->fs);
	put16(u + CUR_GS, r->gs);
	if (!hvm) {
		/* the PV kernel's trap table: vector, DPL flags, cs, handler */
		for (int v = 0; v < 32; v++) {
			uint8_t *t = p + VGC_TRAP_CTXT + 16 * v;
			t[0] = (uint8_t)v;
			t[1] = v == 3 || v == 4 ? 3 : 0;
			put16(t + 2, 0xe033);
			put64(t + 8, 0xffffffff81c00000ull + 0x40 * (uint64_t)v);
		}
		put64(p + VGC_GDT_FRAMES, gdt_mfn);
		put64(p + VGC_GDT_ENTS, 16);
		put64(p + VGC_KERNEL_SS, 0xe02b);
		put64(p + VGC_KERNEL_SP, r->rsp + 0x1c0);
		put64(p + VGC_EVENT_CB, 0xffffffff81c01400ull);
		put64(p + VGC_FAILSAFE_CB, 0xffffffff81c01480ull);
		put64(p + VGC_SYSCALL_CB, 0xffffffff81c00080ull);
		put64(p + VGC_VM_ASSIST, 1u << 2); /* VMASST_TYPE_writable_pagetables */
	}
	for (int i = 0; i < 8; i++) {
		put64(p + VGC_CTRLREG + 8 * i, r->cr[i]);
		put64(p + VGC_DEBUGREG + 8 * i, r->dr[i]);
	}
	if (!hvm)
		put64(p + VGC_CTRLREG + 8, user_cr3); /* x86_64 PV: user page table in cr1 */
	put64(p + VGC_FS_BASE, r->fs_base);
	put64(p + VGC_GS_BASE_KERNEL, r->gs_base_kernel);
	put64(p + VGC_GS_BASE_USER, r->gs_base_user);
	return p;
}

static void xen_version_desc(uint8_t *p)
{
	memset(p, 0, XV_SIZE);
	put64(p + 0, 4);
	put64(p + 8, 17);
	put_str(p + 16, xen_extra);
	put_str(p + 32, xen_compiler);
	put_str(p + 96, xen_compile_by);
	put_str(p + 112, xen_compile_domain);
	put_str(p + 144, xen_compile_date);
	put_str(p + 176, xen_caps);
	put_str(p + 1200, xen_changeset);
	put64(p + 1264, 0xffff800000000000ull); /* HYPERVISOR_VIRT_START, 64-bit PV */
	put64(p + 1272, XPAGE);
}

/* .note.Xen as xc_core.c writes it: struct elfnote (namesz 4, descsz,
 * type, "Xen\0") then the descriptor, for none, header, version, format. */
static void xc_note(uint8_t **p, uint32_t type, const uint8_t *desc, uint32_t len)
{
	put32(*p, 4);
	put32(*p + 4, len);
	put32(*p + 8, type);
	memcpy(*p + 12, "Xen", 4);
	if (len)
		memcpy(*p + 16, desc, len);
	*p += 16 + len;
}

static void shared_info_page(uint8_t *p, const struct dump *d, bool hvm, int cpus,
			     uint64_t max_pfn, uint64_t fll_gmfn, uint64_t p2m_cr3)
{
	memset(p, 0, XPAGE);
	for (int c = 0; c < cpus && c < 32; c++) {
		uint8_t *v = p + 64 * c;
		put64(v + 8, 0);                                   /* evtchn_pending_sel */
		put64(v + 16, 0x00005624a1c0f000ull + 0x1000 * (uint64_t)c); /* arch.cr2 */
		put32(v + 32, 2);                                  /* time.version */
		put64(v + 40, 0x2d5d8a36f1c0ull + 977 * (uint64_t)c); /* tsc_timestamp */
		put64(v + 48, 0x4a817c8000ull + 1000 * (uint64_t)c);  /* system_time */
		put32(v + 56, 0xcccccccc);                         /* tsc_to_system_mul */
		p[64 * c + 60] = 0xff;                             /* tsc_shift -1 */
	}
	memset(p + SI_EVTCHN_MASK, 0xff, 8); /* a few masked ports */
	put32(p + SI_WC_VERSION, 2);
	put32(p + SI_WC_VERSION + 4, (uint32_t)(1700000000 + d->o.seed % 1000000)); /* wc_sec */
	put32(p + SI_WC_VERSION + 8, 123456789);                                    /* wc_nsec */
	if (!hvm) {
		/* what a PV Linux publishes (xen_setup_mfn_list_list(), and its
		 * linear p2m list at p2m_vaddr in the address space of p2m_cr3) */
		put64(p + SI_ARCH, max_pfn);
		put64(p + SI_ARCH + 8, fll_gmfn);
		put64(p + SI_ARCH + 24, p2m_cr3);
		put64(p + SI_ARCH + 32, 0xffffc90000a00000ull);
		put64(p + SI_ARCH + 40, 0);
	}
}

/* A page that is no pfn's content: bytes from @tag, stamped with the pfn
 * field of its entry (so it still looks plausible) and "XENJUNK". */
static void junk_page(const struct dump *d, const struct xc_ent *e, uint8_t *p)
{
	fill_salted(d, 0x4a554e4bull, e->tag, p);
	put64(p, e->pfn);
	memcpy(p + 8, "XENJUNK", 8);
}

struct xc_sec { const char *name; uint32_t type; uint64_t off, size, align, entsize; uint32_t nameoff; };
enum { S_NULL, S_STRTAB, S_NOTE, S_PRSTATUS, S_SHINFO, S_PAGES, S_ARRAY, S_COUNT };

static void write_xc(struct dump *d)
{
	struct opts *o = &d->o;
	struct xen_opts *x = &o->xen;
	const bool hvm = x->hvm;
	struct rng r = { mix64(o->seed ^ 0x78635f636f7265ull) };

	if (x->invalid_tail < 0)
		x->invalid_tail = hvm ? 8 : 0;
	if (x->truncate_pages)
		x->arrays_first = true;

	/* Which pfns xc_core dumps: the RAM's (PV: every pfn whose p2m
	 * entry is a valid mfn; HVM: what gpfn_may_present allows of it). */
	uint64_t last = o->ram[o->nram - 1].end;
	uint8_t *state = xcalloc(last + 1, 1);
	uint64_t max_pfn = 0, nvalid = 0, skipped = 0;
	for (size_t i = 0; i < o->nram; i++)
		for (uint64_t pfn = o->ram[i].start; pfn <= o->ram[i].end; pfn++) {
			d->ram_pages++;
			if (hvm && !hvm_gpfn_may_present(pfn)) {
				skipped++;
				continue;
			}
			state[pfn] = PG_DUMPED;
			max_pfn = pfn + 1;
			nvalid++;
		}
	if (!nvalid)
		die("no page left to dump");
	d->max_mapnr = max_pfn;
	d->state = state;
	d->dumped_pages = nvalid;
	d->excluded_pages = skipped;
	d->mem = xcalloc(max_pfn, XPAGE);
	for (uint64_t pfn = 0; pfn < max_pfn; pfn++)
		if (state[pfn] == PG_DUMPED)
			fill_page(d, pfn, d->mem + pfn * XPAGE);

	/* the valid entries: pfn order unless shuffled; PV gmfns are a
	 * permutation of frames above every pfn, so gmfn != pfn always */
	uint64_t *pfns = xcalloc(nvalid, sizeof *pfns), k = 0;
	for (uint64_t pfn = 0; pfn < max_pfn; pfn++)
		if (state[pfn] == PG_DUMPED)
			pfns[k++] = pfn;
	uint64_t *perm = xcalloc(nvalid, sizeof *perm);
	for (k = 0; k < nvalid; k++)
		perm[k] = k;
	shuffle_u64(perm, nvalid, &r);
	uint64_t gmfn_base = (max_pfn + 0x10000) & ~0xffffull;
	uint64_t *gmfn_of = xcalloc(max_pfn, sizeof *gmfn_of);
	for (k = 0; k < nvalid; k++)
		gmfn_of[pfns[k]] = gmfn_base + 2 * perm[k] + (perm[k] & 1); /* scattered, not dense */
	if (x->shuffle)
		shuffle_u64(pfns, nvalid, &r);
	struct entv v = { 0 };
	for (k = 0; k < nvalid; k++)
		ent_insert(&v, v.n, (struct xc_ent){ pfns[k], hvm ? pfns[k] : gmfn_of[pfns[k]],
						     ENT_PAGE, 0 });

	/* where the kernel keeps VMCOREINFO, its page tables, its GDT:
	 * pfns of entries at 40% and 30% of the file, before anything a
	 * --xen-truncate-pages cut loses */
	uint64_t vmci_note = pfns[nvalid * 2 / 5], vmci_data = pfns[(nvalid * 2 / 5 + 3) % nvalid];
	if (d->o.vmcoreinfo) {
		if (vmci_note == vmci_data)
			die("--ram too small to hold VMCOREINFO");
		d->vmcoreinfo = guest_vmcoreinfo(d);
		place_vmcoreinfo(d->vmcoreinfo, d->mem + vmci_note * XPAGE,
				 d->mem + vmci_data * XPAGE);
		d->has_vmcoreinfo = true;
	}
	uint64_t pgd_pfn = pfns[nvalid * 3 / 10], gdt_pfn = pfns[(nvalid * 3 / 10 + 1) % nvalid];
	uint64_t fll_pfn = pfns[(nvalid * 3 / 10 + 2) % nvalid];

	/* --xen-dup-pfn: a later entry names the pfn of the entry at 20%
	 * again, with a junk page.  xc_core writes every pfn once, so this
	 * is damage, and a reader must pick one: the first entry in file
	 * order wins (what a reader building its index in one pass keeps,
	 * and what crash finds, searching the array forward). */
	uint64_t dup_pfn = 0;
	size_t dup_first = 0;
	if (x->dup_pfn) {
		dup_first = nvalid / 5;
		dup_pfn = v.e[dup_first].pfn;
		if (dup_pfn == vmci_note || dup_pfn == vmci_data || dup_pfn == pgd_pfn)
			die("--ram too small for --xen-dup-pfn");
	}

	/* --xen-p2m-out-of-range: entries naming pfns no x86_64 machine has
	 * (a physical address is at most 52 bits: pfn < 2^40), ~0 among
	 * them, anywhere in the array, with junk pages */
	uint64_t tag = 1;
	for (int i = 0; i < x->out_of_range; i++) {
		uint64_t u = (uint64_t)i, pfn;
		switch (i % 4) {
		case 0: pfn = (1ull << 40) + 0x1001 * u; break;
		case 1: pfn = 0x8000000000000000ull | u; break;
		case 2: pfn = 0xfffffffffffffff0ull - u; break;
		default: pfn = XC_CORE_INVALID_PFN; break;
		}
		struct xc_ent e = { pfn, hvm ? pfn : 0xdead00000ull + (uint64_t)i, ENT_JUNK, tag++ };
		ent_insert(&v, (size_t)rng_below(&r, v.n + 1), e);
	}
	size_t dup_second = 0;
	if (x->dup_pfn) {
		for (size_t i = 0; i < v.n; i++)
			if (v.e[i].pfn == dup_pfn && v.e[i].kind == ENT_PAGE)
				dup_first = i;
		dup_second = dup_first + 1 + (size_t)rng_below(&r, v.n - dup_first);
		ent_insert(&v, dup_second, (struct xc_ent){ dup_pfn, hvm ? dup_pfn : gmfn_base - 1,
							    ENT_JUNK, tag++ });
	}
	/* xc_core's own padding when the domain had fewer pages than
	 * nr_pages said (an HVM guest's video RAM sits in the MMIO hole it
	 * skips): zero pages, pfn and gmfn ~0, at the end */
	for (int i = 0; i < x->invalid_tail; i++)
		ent_insert(&v, v.n, (struct xc_ent){ XC_CORE_INVALID_PFN, XC_CORE_INVALID_GMFN,
						     ENT_ZERO, 0 });
	const uint64_t nr_pages = v.n;

	/* the vCPUs and what a reader presents of each */
	int ncpu = o->cpus;
	uint8_t **ctx = xcalloc((size_t)ncpu, sizeof *ctx);
	d->prstatus = xcalloc((size_t)ncpu, sizeof *d->prstatus);
	d->prstatus_size = PRSTATUS_SIZE;
	for (int c = 0; c < ncpu; c++) {
		/* odd CPUs run some process: another page table; PV's cr1
		 * (the user page table) is a page of its own */
		struct xregs rg;
		uint64_t pgd = c % 2 ? pfns[(nvalid * 3 / 10 + 3 + (uint64_t)c) % nvalid] : pgd_pfn;
		uint64_t user = pfns[(nvalid * 3 / 10 + 20 + (uint64_t)c) % nvalid];
		uint64_t cr3 = (hvm ? pgd : gmfn_of[pgd]) << 12;
		guest_regs(c, hvm, cr3, &rg);
		ctx[c] = vcpu_context(&rg, hvm, hvm ? 0 : gmfn_of[gdt_pfn],
				      hvm ? 0 : gmfn_of[user] << 12);
		/*
		 * gs_base: gs_base_kernel.  Every vCPU here is in the kernel,
		 * where the kernel's own GS base (its per-CPU area) is the one
		 * in effect: Xen's HVM code stores the active base there when
		 * in ring 0 and PV keeps it there, and QEMU's dump-guest-memory
		 * likewise writes the active GS base of a vCPU into the
		 * NT_PRSTATUS it makes.  (Linux's own kdump notes carry the
		 * inactive, user, base there instead; crash reads only rip and
		 * rsp from .xen_prstatus, libkdumpfile neither base.)
		 * orig_rax: -1, as for a vCPU not in a system call.
		 */
		d->prstatus[c] = prstatus_from_regs(&rg, ~0ull, rg.gs_base_kernel);
	}

	/* .note.Xen */
	uint8_t notes[XC_NOTES_SIZE], *np = notes;
	uint8_t hdr[XCH_SIZE], ver[XV_SIZE], fmt[8];
	put64(hdr, hvm ? XC_CORE_MAGIC_HVM : XC_CORE_MAGIC);
	put64(hdr + 8, (uint64_t)ncpu);
	put64(hdr + 16, nr_pages);
	put64(hdr + 24, XPAGE);
	xen_version_desc(ver);
	put64(fmt, XEN_DUMPCORE_FORMAT_VERSION_CURRENT);
	xc_note(&np, XEN_ELFNOTE_DUMPCORE_NONE, NULL, 0);
	xc_note(&np, XEN_ELFNOTE_DUMPCORE_HEADER, hdr, XCH_SIZE);
	xc_note(&np, XEN_ELFNOTE_DUMPCORE_XEN_VERSION, ver, XV_SIZE);
	xc_note(&np, XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION, fmt, 8);

	uint8_t *shinfo = xcalloc(XPAGE, 1);
	shared_info_page(shinfo, d, hvm, ncpu, max_pfn, gmfn_of[fll_pfn], gmfn_of[pgd_pfn] << 12);

	/* the arrays */
	size_t entsz = hvm ? 8 : 16;
	uint8_t *arr = xcalloc(nr_pages, entsz);
	for (size_t i = 0; i < nr_pages; i++) {
		put64(arr + entsz * i, v.e[i].pfn);
		if (!hvm)
			put64(arr + entsz * i + 8, v.e[i].gmfn);
	}

	/* section headers as xc_core.c sets them: sh_flags 0, sh_addralign
	 * __alignof__ of the element (8 for the contexts, shared_info and
	 * the arrays; PAGE_SIZE for the pages), sh_entsize its size */
	struct xc_sec s[S_COUNT] = {
		[S_NULL] = { "", 0, 0, 0, 0, 0, 0 },
		[S_STRTAB] = { ".shstrtab", SHT_STRTAB, 0, 0, 0, 0, 0 },
		[S_NOTE] = { ".note.Xen", SHT_NOTE, 0, XC_NOTES_SIZE, 0, 0, 0 },
		[S_PRSTATUS] = { ".xen_prstatus", SHT_PROGBITS, 0, (uint64_t)ncpu * VGC_SIZE, 8,
				 VGC_SIZE, 0 },
		[S_SHINFO] = { ".xen_shared_info", SHT_PROGBITS, 0, XPAGE, 8, XPAGE, 0 },
		[S_PAGES] = { ".xen_pages", SHT_PROGBITS, 0, nr_pages * XPAGE, XPAGE, XPAGE, 0 },
		[S_ARRAY] = { hvm ? ".xen_pfn" : ".xen_p2m", SHT_PROGBITS, 0, nr_pages * entsz, 8,
			      entsz, 0 },
	};
	struct buf strtab = { 0 };
	buf_add_zero(&strtab, 1);
	for (int i = S_STRTAB; i < S_COUNT; i++) {
		s[i].nameoff = (uint32_t)strtab.len;
		buf_add(&strtab, s[i].name, strlen(s[i].name) + 1);
	}
	s[S_STRTAB].size = strtab.len;

	uint64_t off = 64 + S_COUNT * 64;
	s[S_NOTE].off = off;
	off += s[S_NOTE].size;
	s[S_PRSTATUS].off = off;
	off += s[S_PRSTATUS].size;
	s[S_SHINFO].off = off;
	off += s[S_SHINFO].size;
	if (x->arrays_first) {
		/* legal too: "Analisys tools shouldn't depends on the order of
		 * sections" (xc_core.c) */
		s[S_ARRAY].off = off;
		off += s[S_ARRAY].size;
		s[S_STRTAB].off = off;
		off += s[S_STRTAB].size;
	}
	off = (off + XPAGE - 1) / XPAGE * XPAGE;
	s[S_PAGES].off = off;
	off += s[S_PAGES].size;
	if (!x->arrays_first) {
		s[S_ARRAY].off = off;
		off += s[S_ARRAY].size;
		s[S_STRTAB].off = off;
		off += s[S_STRTAB].size;
	}
	const uint64_t file_size = off;
	uint64_t bad_size = 0;
	if (x->bad_section) {
		for (int i = S_STRTAB; i < S_COUNT; i++)
			if (!strcmp(s[i].name, x->bad_section)) {
				/* 4 GiB more: past EOF whatever the dump's size */
				s[i].size += 1ull << 32;
				bad_size = s[i].size;
			}
	}

	/* everything before .xen_pages in one buffer */
	struct image img = { 0 };
	uint64_t head_len = s[S_PAGES].off;
	uint8_t *h = xcalloc(head_len, 1);
	image_own(&img, h);
	memcpy(h, "\177ELF", 4);
	h[4] = 2;  /* ELFCLASS64 */
	h[5] = 1;  /* ELFDATA2LSB */
	h[6] = 1;  /* EV_CURRENT */
	h[7] = 0;  /* ELFOSABI_SYSV */
	h[8] = 1;  /* EI_ABIVERSION = EV_CURRENT, as xc_core_ehdr_init() sets */
	put16(h + 16, 4);          /* ET_CORE */
	put16(h + 18, EM_X86_64);
	put32(h + 20, 1);          /* e_version */
	put64(h + 24, 0);          /* e_entry */
	put64(h + 32, 0);          /* e_phoff */
	put64(h + 40, 64);         /* e_shoff */
	put32(h + 48, 0);          /* e_flags: ELF_CORE_EFLAGS 0 */
	put16(h + 52, 64);         /* e_ehsize */
	put16(h + 54, 56);         /* e_phentsize: sizeof(Elf64_Phdr), no phdrs */
	put16(h + 56, 0);          /* e_phnum */
	put16(h + 58, 64);         /* e_shentsize */
	put16(h + 60, S_COUNT);    /* e_shnum */
	put16(h + 62, S_STRTAB);   /* e_shstrndx */
	for (int i = 1; i < S_COUNT; i++) {
		uint8_t *sh = h + 64 + 64 * i;
		put32(sh, s[i].nameoff);
		put32(sh + 4, s[i].type);
		put64(sh + 8, 0);          /* sh_flags */
		put64(sh + 16, 0);         /* sh_addr */
		put64(sh + 24, s[i].off);
		put64(sh + 32, s[i].size);
		put32(sh + 40, 0);         /* sh_link */
		put32(sh + 44, 0);         /* sh_info */
		put64(sh + 48, s[i].align);
		put64(sh + 56, s[i].entsize);
	}
	memcpy(h + s[S_NOTE].off, notes, XC_NOTES_SIZE);
	for (int c = 0; c < ncpu; c++)
		memcpy(h + s[S_PRSTATUS].off + (uint64_t)c * VGC_SIZE, ctx[c], VGC_SIZE);
	memcpy(h + s[S_SHINFO].off, shinfo, XPAGE);
	if (x->arrays_first) {
		memcpy(h + s[S_ARRAY].off, arr, nr_pages * entsz);
		memcpy(h + s[S_STRTAB].off, strtab.p, strtab.len);
	}
	image_add(&img, 0, h, head_len);

	/* .xen_pages, in the entries' order */
	uint8_t *zero = xcalloc(XPAGE, 1), *junk = NULL;
	image_own(&img, zero);
	size_t njunk = 0;
	for (size_t i = 0; i < nr_pages; i++)
		njunk += v.e[i].kind == ENT_JUNK;
	if (njunk)
		image_own(&img, junk = xcalloc(njunk, XPAGE));
	for (size_t i = 0, j = 0; i < nr_pages; i++) {
		const struct xc_ent *e = &v.e[i];
		const uint8_t *page = e->kind == ENT_PAGE ? d->mem + e->pfn * XPAGE : zero;
		if (e->kind == ENT_JUNK) {
			uint8_t *p = junk + XPAGE * j++;
			junk_page(d, e, p);
			page = p;
		}
		image_add(&img, s[S_PAGES].off + XPAGE * i, page, XPAGE);
	}
	if (!x->arrays_first) {
		image_add(&img, s[S_ARRAY].off, image_own(&img, arr), nr_pages * entsz);
		arr = NULL;
		image_add(&img, s[S_STRTAB].off, strtab.p, strtab.len);
	}
	img.size = file_size;

	/* --xen-truncate-pages: the file ends in the middle of the page at
	 * 80% of .xen_pages; that page and all after it are lost. The first
	 * entry of a pfn is its page (as for --xen-dup-pfn) even when lost. */
	uint64_t cut = 0;
	size_t lost_from = nr_pages;
	if (x->truncate_pages) {
		lost_from = nr_pages * 4 / 5;
		cut = s[S_PAGES].off + XPAGE * lost_from + XPAGE / 2;
		image_truncate(&img, cut);
		for (size_t i = lost_from; i < nr_pages; i++) {
			const struct xc_ent *e = &v.e[i];
			bool first = e->kind == ENT_PAGE; /* junk is never a first entry */
			if (first && e->pfn < max_pfn)
				state[e->pfn] |= PG_LOST;
		}
		o->incomplete = true; /* OUT.info's incomplete=1 */
	}
	write_image(d, &img, o->out, 0);

	/* expected output: OUT.mem/.eio/.holes, OUT.cpuN.prstatus,
	 * OUT.vmcoreinfo, OUT.info (standard keys); then Xen's */
	d->has_notes = true;
	write_expected(d);
	for (int c = 0; c < ncpu; c++) {
		char suffix[64];
		snprintf(suffix, sizeof suffix, ".cpu%d.xen_context", c);
		write_blob(o->out, suffix, ctx[c], VGC_SIZE);
	}
	write_blob(o->out, ".xen_shared_info", shinfo, XPAGE);
	FILE *f = open_expect(o->out, ".xen_p2m");
	for (size_t i = 0; i < nr_pages; i++)
		fprintf(f, "%zu %#" PRIx64 " %#" PRIx64 " %s\n", i, v.e[i].pfn, v.e[i].gmfn,
			v.e[i].kind == ENT_PAGE ? "page" : v.e[i].kind == ENT_JUNK ? "junk" : "zero");
	close_expect(f);

	char *info = file_name(o->out, ".info");
	f = fopen(info, "a");
	if (!f)
		die("cannot append to %s", info);
	free(info);
	fprintf(f, "xen_type=%s\n", hvm ? "hvm" : "pv");
	fprintf(f, "xen_magic=%#" PRIx64 "\n", (uint64_t)(hvm ? XC_CORE_MAGIC_HVM : XC_CORE_MAGIC));
	fprintf(f, "xen_version=4.17\n");
	fprintf(f, "xen_extra_version=%s\n", xen_extra);
	fprintf(f, "xen_format_version=1\n");
	fprintf(f, "nr_vcpus=%d\n", ncpu);
	fprintf(f, "nr_pages=%" PRIu64 "\n", nr_pages);
	fprintf(f, "xen_array=%s\n", s[S_ARRAY].name);
	fprintf(f, "xen_layout=%s\n", x->arrays_first ? "arrays-first" : "xen");
	fprintf(f, "xen_shuffle=%d\n", x->shuffle);
	fprintf(f, "xen_pages_offset=%#" PRIx64 "\n", s[S_PAGES].off);
	fprintf(f, "xen_array_offset=%#" PRIx64 "\n", s[S_ARRAY].off);
	fprintf(f, "xen_prstatus_offset=%#" PRIx64 "\n", s[S_PRSTATUS].off);
	fprintf(f, "xen_shared_info_offset=%#" PRIx64 "\n", s[S_SHINFO].off);
	fprintf(f, "xen_file_size=%" PRIu64 "\n", cut ? cut : file_size);
	fprintf(f, "xen_valid_entries=%" PRIu64 "\n", nvalid);
	fprintf(f, "xen_hvm_skipped_pages=%" PRIu64 "\n", skipped);
	/* entries a reader ignores: xc_core's padding (pfn ~0) and pfns
	 * past what an x86_64 physical address reaches */
	fprintf(f, "xen_invalid_entries=%d\n", x->invalid_tail);
	fprintf(f, "xen_out_of_range_entries=%d\n", x->out_of_range);
	fprintf(f, "xen_ignore_pfn_from=%#llx\n", 1ull << 40);
	if (!hvm)
		fprintf(f, "xen_gmfn_base=%#" PRIx64 "\n", gmfn_base);
	if (x->dup_pfn) {
		fprintf(f, "xen_dup_pfn=%" PRIu64 "\n", dup_pfn);
		fprintf(f, "xen_dup_first_index=%zu\n", dup_first);
		fprintf(f, "xen_dup_second_index=%zu\n", dup_second);
		fprintf(f, "xen_dup_rule=first\n");
	}
	if (x->truncate_pages)
		fprintf(f, "xen_truncated_at_index=%zu\n", lost_from);
	if (x->bad_section) {
		fprintf(f, "xen_bad_section=%s\n", x->bad_section);
		fprintf(f, "xen_bad_section_size=%#" PRIx64 "\n", bad_size);
		fprintf(f, "xen_bad_section_expect=served\n");
	}
	if (d->has_vmcoreinfo) {
		fprintf(f, "vmcoreinfo_where=memory\n");
		fprintf(f, "vmcoreinfo_note_pfn=%" PRIu64 "\n", vmci_note);
		fprintf(f, "vmcoreinfo_data_pfn=%" PRIu64 "\n", vmci_data);
	}
	fprintf(f, "xen_gs_base_from=gs_base_kernel\n");
	if (ferror(f) || fclose(f))
		die("writing %s.info failed", o->out);

	for (int c = 0; c < ncpu; c++) {
		free(ctx[c]);
		free(d->prstatus[c]);
	}
	free(ctx);
	free(d->prstatus);
	free(d->vmcoreinfo);
	free(arr);
	free(shinfo);
	free(v.e);
	free(pfns);
	free(perm);
	free(gmfn_of);
	image_free(&img);
	free(strtab.p);
	free(state);
	free(d->mem);
}

/* ------------------------------------------------------------------ */
/* xen-kdump: a Xen host's crash                                       */

/* Xen's registers on a physical CPU as elf_core_save_regs() saves them:
 * rip in Xen's text, rsp on its stack in the direct map, cs
 * __HYPERVISOR_CS 0xe008, null data selectors; orig_rax is never filled. */
static void host_regs(int cpu, uint64_t idle_cr3, uint64_t cr3_cpu0, struct xregs *r)
{
	uint64_t c = (uint64_t)cpu;
	memset(r, 0, sizeof *r);
	for (int i = 0; i < 15; i++) /* "XEN", cpu, register index */
		r->gpr[i] = 0x58454e0000000000ull | (c << 16) | (uint64_t)i;
	r->rip = XEN_VIRT_START + XEN_IMAGE_OFF + 0x3a6f0 + 0x20 * c;
	r->rsp = 0xffff83023ffcfe58ull - 0x8000 * c;
	r->gpr[4] = r->rsp + 0x30;
	r->rflags = 0x246;
	r->cs = 0xe008;
	r->fs_base = 0;
	r->gs_base_kernel = 0xffff88823fc00000ull + 0x40000 * c; /* MSR_GS_BASE: a guest's */
	r->cr[0] = 0x8005003b;
	r->cr[2] = 0x00007f51e2a3d000ull + 0x1000 * c;
	r->cr[3] = cpu ? idle_cr3 : cr3_cpu0;
	r->cr[4] = 0x3526e0;
}

struct dom0 {
	uint64_t max_pfn;      /* p2m entries in use: [0, max_pfn) */
	uint64_t *p2m;         /* leaves' worth of entries */
	uint64_t nleaves, nmid;
	uint8_t *state, *mem;  /* expected /dom0/mem */
	uint64_t ram_pages, eio_pages;
	uint64_t id_start, id_end, balloon_start, balloon_end; /* inclusive, 0 if none */
	uint64_t fll_mfn;
	uint64_t vmci_note, vmci_data;
};

static void write_xen_kdump(struct dump *d)
{
	struct opts *o = &d->o;
	struct rng r = { mix64(o->seed ^ 0x78656e6b64756d70ull) };
	const uint64_t nmach = o->ram[o->nram - 1].end + 1;
	int ncpu = o->cpus;

	/* machine memory */
	d->max_mapnr = nmach;
	d->state = xcalloc(nmach, 1);
	for (size_t i = 0; i < o->nram; i++)
		for (uint64_t m = o->ram[i].start; m <= o->ram[i].end; m++) {
			d->state[m] = PG_DUMPED;
			d->ram_pages++;
		}
	d->dumped_pages = d->ram_pages;
	d->mem = xcalloc(nmach, XPAGE);
	uint8_t *used = xcalloc(nmach, 1);

	/* Xen's image: xen_phys_start 2 MiB aligned, the image from 2 MiB
	 * above it (_start - XEN_VIRT_START), all RAM; the highest such */
	uint64_t xps = UINT64_MAX;
	for (uint64_t base = nmach / 512 * 512 + 512; base >= 512 && xps == UINT64_MAX;) {
		base -= 512;
		uint64_t img0 = base + XEN_IMAGE_OFF / XPAGE;
		bool ok = img0 + XEN_IMAGE_PAGES <= nmach;
		for (uint64_t m = img0; ok && m < img0 + XEN_IMAGE_PAGES; m++)
			ok = d->state[m] == PG_DUMPED;
		if (ok)
			xps = base * XPAGE;
	}
	if (xps == UINT64_MAX)
		die("--format xen-kdump needs %d RAM pages 2 MiB past a 2 MiB boundary for "
		    "Xen's image", XEN_IMAGE_PAGES);
	const uint64_t img0 = (xps + XEN_IMAGE_OFF) / XPAGE;
	for (uint64_t m = img0; m < img0 + XEN_IMAGE_PAGES; m++) {
		used[m] = 1;
		fill_salted(d, 0x58454eull, m, d->mem + m * XPAGE);
	}
	/* __pa() of an image address: va - XEN_VIRT_START + xen_phys_start */
	/* the strings CRASH_INFO points at (in .rodata), idle_pg_table
	 * (0xffff82d04046e000, the idle CPUs' cr3) and vmcoreinfo_data[] (in
	 * .bss), at their places in Xen's image */
	const uint64_t strings = (img0 + 0x1a0) * XPAGE, idle_pg_table = xps + 0x46e000;
	const uint64_t vmci_maddr = (img0 + 0x380) * XPAGE;
	memset(d->mem + strings, 0, XPAGE);
	const uint64_t pa_extra = strings, pa_changeset = strings + 0x40,
		       pa_compiler = strings + 0x100, pa_date = strings + 0x180,
		       pa_time = strings + 0x1c0;
	put_str(d->mem + pa_extra, xen_extra);
	put_str(d->mem + pa_changeset, xen_changeset);
	put_str(d->mem + pa_compiler, xen_compiler);
	put_str(d->mem + pa_date, xen_compile_date);
	put_str(d->mem + pa_time, xen_compile_time);
	if (idle_pg_table / XPAGE >= img0 + XEN_IMAGE_PAGES)
		die("internal error: idle_pg_table outside the image laid out");

	/* the other RAM frames hold other domains' and free memory until
	 * handed out, in a random order; Xen gives no domain a frame of the
	 * first MiB (and no p2m entry may be 0, which readers take for
	 * "not present") */
	uint64_t *pool = xcalloc(nmach, sizeof *pool), npool = 0, next = 0;
	for (uint64_t m = 0; m < nmach; m++)
		if (d->state[m] == PG_DUMPED && !used[m]) {
			fill_salted(d, 0x6f74686572ull, m, d->mem + m * XPAGE);
			if (m >= 0x100)
				pool[npool++] = m;
		}
	shuffle_u64(pool, npool, &r);
	if (npool < 64 + (uint64_t)ncpu)
		die("--ram too small for --format xen-kdump");

	/* dom0's pseudo-physical layout (Linux PV dom0: its E820 mirrors the
	 * host's, non-RAM regions are identity-mapped, ballooned-out pages
	 * are INVALID_P2M_ENTRY): half of the free frames */
	struct dom0 z = { 0 };
	uint64_t n0 = (npool - (uint64_t)ncpu - 16) / 2;
	uint64_t *ram0 = xcalloc(n0 + 1, sizeof *ram0);
	if (n0 >= 0x400) {
		uint64_t left = n0, pfn = 0, k = 0;
		z.id_start = 0xa0;
		z.id_end = 0xff;
		for (; pfn < 0xa0; pfn++, left--)
			ram0[k++] = pfn;
		pfn = 0x100;
		uint64_t half = pfn + left / 2;
		for (; pfn < half; pfn++, left--)
			ram0[k++] = pfn;
		z.balloon_start = pfn;
		z.balloon_end = pfn + 31;
		pfn += 32;
		for (; left; pfn++, left--)
			ram0[k++] = pfn;
		z.max_pfn = pfn;
	} else {
		for (uint64_t k = 0; k < n0; k++)
			ram0[k] = k;
		z.max_pfn = n0;
	}
	z.ram_pages = n0;
	z.nleaves = (z.max_pfn + P2M_PER_PAGE - 1) / P2M_PER_PAGE;
	z.nmid = (z.nleaves + P2M_PER_PAGE - 1) / P2M_PER_PAGE;
	if (z.nmid > P2M_PER_PAGE)
		die("dom0 too large for a 3-level p2m tree");
	z.p2m = xcalloc(z.nleaves * P2M_PER_PAGE, sizeof *z.p2m);
	for (uint64_t p = 0; p < z.nleaves * P2M_PER_PAGE; p++)
		z.p2m[p] = INVALID_P2M_ENTRY;
	if (z.id_end)
		for (uint64_t p = z.id_start; p <= z.id_end; p++)
			z.p2m[p] = p | IDENTITY_FRAME_BIT;

	/* frames: the tree (frame list list, frame lists, leaves, Linux's
	 * p2m_missing leaf and p2m_mid_missing_mfn list), the CPUs' crash
	 * notes (Xen's heap), dom0's pages; the rest stay other memory */
	if (5 + z.nmid + z.nleaves + (uint64_t)ncpu + n0 > npool)
		die("--ram too small for --format xen-kdump");
	z.fll_mfn = pool[next++];
	uint64_t mid0 = next;
	next += z.nmid;
	uint64_t leaf0 = next;
	next += z.nleaves;
	uint64_t missing_leaf = pool[next++], mid_missing = pool[next++];
	uint64_t notes0 = next;
	next += (uint64_t)ncpu;
	for (uint64_t k = 0; k < n0; k++)
		z.p2m[ram0[k]] = pool[next++];
	const uint64_t dom0_pgd = z.p2m[ram0[n0 / 3]]; /* a page table of dom0's */

	/* dom0's memory and its VMCOREINFO */
	z.state = xcalloc(z.max_pfn, 1);
	z.mem = xcalloc(z.max_pfn, XPAGE);
	for (uint64_t k = 0; k < n0; k++) {
		z.state[ram0[k]] = PG_DUMPED;
		fill_salted(d, 0x646f6d30ull, ram0[k], z.mem + ram0[k] * XPAGE);
	}
	char *vmci = NULL;
	z.vmci_note = ram0[n0 * 2 / 5];
	z.vmci_data = ram0[n0 * 2 / 5 + 5];
	if (o->vmcoreinfo) {
		vmci = guest_vmcoreinfo(d);
		place_vmcoreinfo(vmci, z.mem + z.vmci_note * XPAGE, z.mem + z.vmci_data * XPAGE);
	}
	/* --xen-p2m-out-of-range: dom0 pfns whose entry names a frame that
	 * is no machine RAM: past its end, in a hole of it, past 2^40.
	 * Their pages cannot be had: EIO, not holes. */
	uint64_t hole_mfn = UINT64_MAX;
	for (uint64_t m = 0; m < nmach && hole_mfn == UINT64_MAX; m++)
		if (d->state[m] != PG_DUMPED)
			hole_mfn = m;
	for (int i = 0; i < o->xen.out_of_range; i++) {
		uint64_t k = (uint64_t)(i + 1) * n0 / ((uint64_t)o->xen.out_of_range + 2);
		uint64_t pfn = ram0[k];
		if (pfn == z.vmci_note || pfn == z.vmci_data)
			pfn = ram0[k + 1];
		uint64_t bad = i % 3 == 0 ? nmach + 0x100 + (uint64_t)i
			     : i % 3 == 1 && hole_mfn != UINT64_MAX ? hole_mfn
			     : (1ull << 40) + (uint64_t)i;
		z.p2m[pfn] = bad;
		if (!(z.state[pfn] & PG_LOST))
			z.eio_pages++;
		z.state[pfn] |= PG_LOST;
	}
	for (uint64_t p = 0; p < z.max_pfn; p++)
		if (z.state[p] == PG_DUMPED)
			memcpy(d->mem + z.p2m[p] * XPAGE, z.mem + p * XPAGE, XPAGE);
	for (uint64_t p = 0; p < z.max_pfn; p++)
		if (z.state[p] & PG_LOST)
			memset(z.mem + p * XPAGE, 0, XPAGE);

	/* the tree, as xen_build_mfn_list_list() leaves it: unused entries
	 * of the frame list list name p2m_mid_missing_mfn, unused ones of a
	 * frame list name p2m_missing, whose entries are all ~0 */
	uint8_t *fll = d->mem + z.fll_mfn * XPAGE;
	for (int i = 0; i < P2M_PER_PAGE; i++)
		put64(fll + 8 * i, (uint64_t)i < z.nmid ? pool[mid0 + i] : mid_missing);
	for (uint64_t mi = 0; mi < z.nmid; mi++) {
		uint8_t *mid = d->mem + pool[mid0 + mi] * XPAGE;
		for (uint64_t i = 0; i < P2M_PER_PAGE; i++) {
			uint64_t leaf = mi * P2M_PER_PAGE + i;
			put64(mid + 8 * i, leaf < z.nleaves ? pool[leaf0 + leaf] : missing_leaf);
		}
	}
	for (uint64_t li = 0; li < z.nleaves; li++) {
		uint8_t *leaf = d->mem + pool[leaf0 + li] * XPAGE;
		for (uint64_t i = 0; i < P2M_PER_PAGE; i++)
			put64(leaf + 8 * i, z.p2m[li * P2M_PER_PAGE + i]);
	}
	for (int i = 0; i < P2M_PER_PAGE; i++) {
		put64(d->mem + missing_leaf * XPAGE + 8 * i, INVALID_P2M_ENTRY);
		put64(d->mem + mid_missing * XPAGE + 8 * i, missing_leaf);
	}

	/* crash notes: per CPU "CORE" NT_PRSTATUS and "Xen" CRASH_REGS, CPU 0
	 * also "Xen" CRASH_INFO (kexec_init_cpu_notes()), each CPU's in a
	 * buffer of Xen's heap; the capture kernel's PT_NOTE has them in CPU
	 * order, then VMCOREINFO_XEN. */
	uint8_t crash_info[CRASH_INFO_SIZE];
	put64(crash_info + 0, 4);
	put64(crash_info + 8, 17);
	put64(crash_info + 16, pa_extra);
	put64(crash_info + 24, pa_changeset);
	put64(crash_info + 32, pa_compiler);
	put64(crash_info + 40, pa_date);
	put64(crash_info + 48, pa_time);
	put64(crash_info + 56, 0); /* tainted */
	put64(crash_info + 64, xps);
	put64(crash_info + 72, z.fll_mfn);
	d->prstatus = xcalloc((size_t)ncpu, sizeof *d->prstatus);
	d->prstatus_size = PRSTATUS_SIZE;
	uint8_t (*cregs)[CRASH_REGS_SIZE] = xcalloc((size_t)ncpu, CRASH_REGS_SIZE);
	struct buf notes = { 0 };
	for (int c = 0; c < ncpu; c++) {
		struct xregs rg;
		/* CPU 0 was running dom0: its cr3 a page table of dom0's */
		host_regs(c, idle_pg_table, dom0_pgd * XPAGE, &rg);
		/* ELF_Gregset's thread_fs/thread_gs are MSR_FS_BASE/MSR_GS_BASE */
		d->prstatus[c] = prstatus_from_regs(&rg, 0, rg.gs_base_kernel);
		put64(cregs[c] + 0, rg.cr[0]);
		put64(cregs[c] + 8, rg.cr[2]);
		put64(cregs[c] + 16, rg.cr[3]);
		put64(cregs[c] + 24, rg.cr[4]);
		struct buf one = { 0 };
		add_note(&one, "CORE", NT_PRSTATUS, d->prstatus[c], PRSTATUS_SIZE);
		add_note(&one, "Xen", XEN_ELFNOTE_CRASH_REGS, cregs[c], CRASH_REGS_SIZE);
		if (!c)
			add_note(&one, "Xen", XEN_ELFNOTE_CRASH_INFO, crash_info, CRASH_INFO_SIZE);
		if (one.len > XPAGE)
			die("internal error: crash notes over a page");
		uint8_t *heap = d->mem + pool[notes0 + (uint64_t)c] * XPAGE;
		memset(heap, 0, XPAGE);
		memcpy(heap + 0x40, one.p, one.len);
		buf_add(&notes, one.p, one.len);
		free(one.p);
	}
	/* Xen's VMCOREINFO (crash_save_vmcoreinfo(), arch_crash_save_vmcoreinfo()
	 * with the symbols of Xen 4.17's map), its note in vmcoreinfo_data[] */
	static const char xen_vmci[] =
		"PAGESIZE=4096\n"
		"SYMBOL(domain_list)=ffff82d04057b380\n"
		"SYMBOL(frame_table)=ffff82d04043f0e8\n"
		"SYMBOL(max_page)=ffff82d0405932f0\n"
		"SIZE(page_info)=32\n"
		"SIZE(domain)=3776\n"
		"OFFSET(page_info.count_info)=8\n"
		"OFFSET(page_info._domain)=24\n"
		"OFFSET(domain.domain_id)=0\n"
		"OFFSET(domain.next_in_list)=104\n"
		"SYMBOL(dom_xen)=ffff82d04045b848\n"
		"SYMBOL(dom_io)=ffff82d04045b840\n"
		"SYMBOL(pgd_l4)=ffff82d04046e000\n";
	uint8_t *xv = xcalloc(XEN_VMCI_DESCSZ, 1);
	memcpy(xv, xen_vmci, strlen(xen_vmci));
	size_t xv_desc = add_note(&notes, "VMCOREINFO_XEN", 0, xv, XEN_VMCI_DESCSZ);
	memcpy(d->mem + vmci_maddr, notes.p + xv_desc - 28, VMCOREINFO_BYTES);

	/* the vmcore: write_elf() with these notes */
	d->elf_notes = &notes;
	write_elf(d);
	d->has_notes = true;
	d->has_vmcoreinfo = false; /* no "VMCOREINFO" note: Xen's is VMCOREINFO_XEN */
	write_expected(d);

	for (int c = 0; c < ncpu; c++) {
		char suffix[64];
		snprintf(suffix, sizeof suffix, ".cpu%d.xen_crash_regs", c);
		write_blob(o->out, suffix, cregs[c], CRASH_REGS_SIZE);
	}
	write_blob(o->out, ".xen_crash_info", crash_info, CRASH_INFO_SIZE);
	write_blob(o->out, ".xen_vmcoreinfo", xen_vmci, strlen(xen_vmci));
	char *base = file_name(o->out, ".dom0");
	write_page_files(base, z.state, z.mem, z.max_pfn, XPAGE, NULL);
	if (vmci)
		write_blob(base, ".vmcoreinfo", vmci, strlen(vmci));
	FILE *f = open_expect(base, ".p2m");
	for (uint64_t p = 0; p < z.max_pfn; p++)
		fprintf(f, "%#" PRIx64 " %#" PRIx64 "\n", p, z.p2m[p]);
	close_expect(f);
	free(base);

	char *info = file_name(o->out, ".info");
	f = fopen(info, "a");
	if (!f)
		die("cannot append to %s", info);
	free(info);
	fprintf(f, "xen_version=4.17\n");
	fprintf(f, "xen_extra_version=%s\n", xen_extra);
	fprintf(f, "xen_changeset=%s\n", xen_changeset);
	fprintf(f, "xen_compiler=%s\n", xen_compiler);
	fprintf(f, "xen_compile_date=%s\n", xen_compile_date);
	fprintf(f, "xen_compile_time=%s\n", xen_compile_time);
	fprintf(f, "xen_phys_start=%#" PRIx64 "\n", xps);
	fprintf(f, "xen_p2m_mfn=%#" PRIx64 "\n", z.fll_mfn);
	fprintf(f, "xen_vmcoreinfo_maddr=%#" PRIx64 "\n", vmci_maddr);
	fprintf(f, "xen_vmcoreinfo_descsz=%d\n", XEN_VMCI_DESCSZ);
	fprintf(f, "xen_crash_notes_maddr=%#" PRIx64 "\n", pool[notes0] * XPAGE + 0x40);
	fprintf(f, "xen_idle_pg_table=%#" PRIx64 "\n", idle_pg_table);
	fprintf(f, "dom0_max_pfn=%" PRIu64 "\n", z.max_pfn);
	fprintf(f, "dom0_mem_size=%" PRIu64 "\n", z.max_pfn * XPAGE);
	fprintf(f, "dom0_ram_pages=%" PRIu64 "\n", z.ram_pages);
	fprintf(f, "dom0_eio_pages=%" PRIu64 "\n", z.eio_pages);
	fprintf(f, "dom0_p2m_leaves=%" PRIu64 "\n", z.nleaves);
	if (z.id_end)
		fprintf(f, "dom0_identity=%#" PRIx64 "-%#" PRIx64 "\n", z.id_start, z.id_end);
	if (z.balloon_end)
		fprintf(f, "dom0_ballooned=%#" PRIx64 "-%#" PRIx64 "\n", z.balloon_start,
			z.balloon_end);
	/* what /dom0/mem shows of a p2m entry: an mfn of machine RAM, its
	 * page; ~0 (missing) and IDENTITY_FRAME (I/O, not RAM), a hole; any
	 * other mfn, EIO. /dom0/mem ends after the last pfn with an mfn. */
	fprintf(f, "dom0_rule=mfn:page,invalid:hole,identity:hole,no-ram:eio\n");
	fprintf(f, "dom0_vmcoreinfo=%d\n", vmci != NULL);
	if (vmci) {
		fprintf(f, "dom0_vmcoreinfo_note_pfn=%" PRIu64 "\n", z.vmci_note);
		fprintf(f, "dom0_vmcoreinfo_data_pfn=%" PRIu64 "\n", z.vmci_data);
	}
	if (ferror(f) || fclose(f))
		die("writing %s.info failed", o->out);

	for (int c = 0; c < ncpu; c++)
		free(d->prstatus[c]);
	free(d->prstatus);
	free(cregs);
	free(notes.p);
	free(xv);
	free(vmci);
	free(z.p2m);
	free(z.state);
	free(z.mem);
	free(ram0);
	free(pool);
	free(used);
	free(d->state);
	free(d->mem);
}

void write_xen(struct dump *d)
{
	if (d->o.format == FMT_XC)
		write_xc(d);
	else
		write_xen_kdump(d);
}
