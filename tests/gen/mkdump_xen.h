/*
 * mkdump_xen.h - what the Xen writers of mkdump share: Xen's constants and
 * layouts (each with the header it is from) and the pieces both formats use.
 * mkdump_xen.c says what the two formats are; mkdump_xc.c writes a domain's
 * dump, mkdump_xen_host.c a Xen host's.
 */
#ifndef MKDUMP_XEN_H
#define MKDUMP_XEN_H

#include <stdbool.h>
#include <stdint.h>

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


/* Registers of one CPU in the common order of cpu_user_regs and
 * user_regs_struct for the first 15, then the rest by name. */
struct xregs {
	uint64_t gpr[15]; /* r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi */
	uint64_t rip, rflags, rsp;
	uint16_t cs, ss, ds, es, fs, gs;
	uint64_t fs_base, gs_base_kernel, gs_base_user;
	uint64_t cr[8], dr[8];
};

/* Shared pieces (mkdump_xen.c) */
void put_str(uint8_t *p, const char *s);
void fill_salted(const struct dump *d, uint64_t salt, uint64_t pfn, uint8_t *p);
void shuffle_u64(uint64_t *a, size_t n, struct rng *r);
char *guest_vmcoreinfo(const struct dump *d);
void place_vmcoreinfo(const char *text, uint8_t *note_page, uint8_t *data_page);
uint8_t *prstatus_from_regs(const struct xregs *r, uint64_t orig_rax, uint64_t gs_base);

/* The two writers */
void write_xc(struct dump *d);          /* mkdump_xc.c */
void write_xen_kdump(struct dump *d);   /* mkdump_xen_host.c */

#endif
