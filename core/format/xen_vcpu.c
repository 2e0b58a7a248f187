/*
 * xen_vcpu.c - a Xen domain's vCPUs as `xl dump-core` keeps them: one
 * struct vcpu_guest_context each (public/arch-x86/xen.h, the x86_64
 * layout below), turned into the NT_PRSTATUS a kdump of the same kernel
 * would have, so that /cpus/N/regs and /vmcore.elf give crash and drgn the
 * registers, and kept whole for /cpus/N/xen_context.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "format/xen.h"

#define EM_X86_64 62
#define CTX_SIZE 5168                   /* sizeof(vcpu_guest_context) */
#define CTX_FLAGS 512
#define VGCF_IN_KERNEL (1u << 2)
#define VGCF_ONLINE (1u << 5)
/* struct cpu_user_regs at 520: r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax
 * rcx rdx rsi rdi (the order of pr_reg's first 15), then error_code and
 * entry_vector (u32), rip, cs (u16 + pad), rflags, rsp, ss, es, ds, fs, gs
 * (u16 + pad each) */
#define CTX_REGS 520
#define CTX_RIP (CTX_REGS + 128)
#define CTX_CS (CTX_REGS + 136)
#define CTX_RFLAGS (CTX_REGS + 144)
#define CTX_RSP (CTX_REGS + 152)
#define CTX_SS (CTX_REGS + 160)
#define CTX_ES (CTX_REGS + 168)
#define CTX_DS (CTX_REGS + 176)
#define CTX_FS (CTX_REGS + 184)
#define CTX_GS (CTX_REGS + 192)
#define CTX_LDT_BASE 4816
#define CTX_GDT_ENTS 4960
#define CTX_KERNEL_SS 4968
#define CTX_KERNEL_SP 4976
#define CTX_CTRLREG 4984
#define CTX_DEBUGREG 5048
#define CTX_EVENT_CALLBACK 5112
#define CTX_VM_ASSIST 5136
#define CTX_FS_BASE 5144
#define CTX_GS_BASE_KERNEL 5152
#define CTX_GS_BASE_USER 5160
/* x86_64's struct elf_prstatus */
#define PRSTATUS_SIZE 336
#define PRSTATUS_REGS 112
#define NT_PRSTATUS 1

static uint64_t ctx64(const uint8_t *c, size_t off) { return get_le64(c + off); }

/* Whether the vCPU ran kernel code: a PV kernel runs in ring 3 and Xen
 * flags kernel mode; an HVM or PVH guest's kernel runs in ring 0. */
static bool in_kernel(const uint8_t *c, bool hvm)
{
	return hvm ? (ctx64(c, CTX_CS) & 3) == 0 : (ctx64(c, CTX_FLAGS) & VGCF_IN_KERNEL) != 0;
}

/*
 * pr_reg in struct user_regs_struct's order.  orig_rax is -1, as for a
 * task interrupted outside a system call.  gs_base is the GS base in
 * effect: Xen reports both the kernel's and the user's (for HVM the one in
 * the segment register and MSR_SHADOW_GS_BASE, sorted by CS's ring), and
 * the kernel's per-CPU area is what crash and drgn look for in it.
 */
static void make_prstatus(const uint8_t *c, bool hvm, uint8_t *p)
{
	static const struct endian le = { false };
	uint8_t *r = p + PRSTATUS_REGS;
	memset(p, 0, PRSTATUS_SIZE);
	memcpy(r, c + CTX_REGS, 15 * 8);
	put64(le, r + 8 * 15, UINT64_MAX);
	put64(le, r + 8 * 16, ctx64(c, CTX_RIP));
	put64(le, r + 8 * 17, get_le16(c + CTX_CS));
	put64(le, r + 8 * 18, ctx64(c, CTX_RFLAGS));
	put64(le, r + 8 * 19, ctx64(c, CTX_RSP));
	put64(le, r + 8 * 20, get_le16(c + CTX_SS));
	put64(le, r + 8 * 21, ctx64(c, CTX_FS_BASE));
	put64(le, r + 8 * 22, ctx64(c, in_kernel(c, hvm) ? CTX_GS_BASE_KERNEL : CTX_GS_BASE_USER));
	put64(le, r + 8 * 23, get_le16(c + CTX_DS));
	put64(le, r + 8 * 24, get_le16(c + CTX_ES));
	put64(le, r + 8 * 25, get_le16(c + CTX_FS));
	put64(le, r + 8 * 26, get_le16(c + CTX_GS));
}

static const char *undecoded(const struct format *f, const struct xen_dump_info *info, uint64_t len)
{
	if (f->elf_machine != EM_X86_64)
		return "vCPU contexts of this architecture are not decoded";
	if (f->endian.big)
		return "a big-endian x86_64 file is not one Xen writes";
	if (info->guest_32bit)
		return "a 32-bit PV guest's vCPU contexts are not decoded";
	if (!info->nr_vcpus || len / info->nr_vcpus != CTX_SIZE)
		return "the contexts are not x86_64's 5168 bytes each";
	return NULL;
}

enum dumpfs_status xen_vcpus_load(struct format *f, struct xen_vcpus *v, const struct xen_dump_info *info,
				  uint64_t off, uint64_t len)
{
	const char *path = f->files[0].path;
	if (info->nr_vcpus > 8192 || len > info->nr_vcpus * (uint64_t)CTX_SIZE * 2 || len % (info->nr_vcpus ? info->nr_vcpus : 1))
		return diag_fail(f->diag, DUMPFS_ERR_CORRUPT, "%s: offset %" PRIu64 ": .xen_prstatus of %" PRIu64
				 " bytes for %" PRIu64 " vCPUs", path, off, len, info->nr_vcpus);
	v->why_not = undecoded(f, info, len);
	if (!info->nr_vcpus)
		return DUMPFS_OK;
	v->count = info->nr_vcpus;
	v->size = (size_t)(len / v->count);
	v->contexts = malloc(len);
	if (!v->contexts)
		return DUMPFS_ERR_NOMEM;
	enum dumpfs_status st = format_read_meta(f, 0, v->contexts, (size_t)len, off, ".xen_prstatus");
	if (st != DUMPFS_OK || v->why_not)
		return st;
	uint8_t p[PRSTATUS_SIZE];
	f->cpu_pids_unknown = true;
	for (size_t i = 0; i < v->count; i++) {
		const uint8_t *c = v->contexts + i * v->size;
		v->online += (ctx64(c, CTX_FLAGS) & VGCF_ONLINE) != 0;
		make_prstatus(c, info->hvm, p);
		st = notes_append(&f->notes, f->endian, "CORE", NT_PRSTATUS, p, sizeof(p));
		if (st != DUMPFS_OK)
			return st;
	}
	return DUMPFS_OK;
}

void xen_vcpus_describe(const struct xen_vcpus *v, struct strbuf *sb)
{
	if (v->why_not)
		sb_printf(sb, "xen_vcpus: %zu contexts of %zu bytes, not decoded: %s\n", v->count, v->size, v->why_not);
	else
		sb_printf(sb, "xen_vcpus: %zu contexts (vcpu_guest_context, %zu bytes; %zu online), "
			  "in /cpus/N/xen_context and as NT_PRSTATUS\n", v->count, v->size, v->online);
}

bool xen_vcpus_blob(const struct xen_vcpus *v, size_t cpu, const char **name, const uint8_t **data, size_t *len)
{
	if (cpu >= v->count)
		return false;
	*name = "xen_context";
	*data = v->contexts + cpu * v->size;
	*len = v->size;
	return true;
}

void xen_vcpus_text(const struct xen_vcpus *v, size_t cpu, struct strbuf *sb)
{
	if (cpu >= v->count || v->why_not)
		return;
	const uint8_t *c = v->contexts + cpu * v->size;
	uint64_t flags = ctx64(c, CTX_FLAGS);
	sb_printf(sb, "[Xen vcpu_guest_context]\nflags: %#" PRIx64 "%s%s\n", flags,
		  flags & VGCF_ONLINE ? " online" : " offline", flags & VGCF_IN_KERNEL ? " in_kernel" : "");
	for (int i = 0; i < 5; i++)
		sb_printf(sb, "cr%d: 0x%016" PRIx64 "\n", i, ctx64(c, CTX_CTRLREG + 8 * (size_t)i));
	sb_printf(sb, "dr6: 0x%016" PRIx64 "\ndr7: 0x%016" PRIx64 "\n", ctx64(c, CTX_DEBUGREG + 48),
		  ctx64(c, CTX_DEBUGREG + 56));
	sb_printf(sb, "fs_base: 0x%016" PRIx64 "\ngs_base_kernel: 0x%016" PRIx64 "\ngs_base_user: 0x%016" PRIx64 "\n",
		  ctx64(c, CTX_FS_BASE), ctx64(c, CTX_GS_BASE_KERNEL), ctx64(c, CTX_GS_BASE_USER));
	sb_printf(sb, "kernel_ss: %#" PRIx64 "\nkernel_sp: 0x%016" PRIx64 "\n", ctx64(c, CTX_KERNEL_SS),
		  ctx64(c, CTX_KERNEL_SP));
	sb_printf(sb, "ldt_base: 0x%016" PRIx64 "\nldt_ents: %" PRIu64 "\ngdt_ents: %" PRIu64 "\n",
		  ctx64(c, CTX_LDT_BASE), ctx64(c, CTX_LDT_BASE + 8), ctx64(c, CTX_GDT_ENTS));
	sb_printf(sb, "event_callback: 0x%016" PRIx64 "\nfailsafe_callback: 0x%016" PRIx64
		  "\nsyscall_callback: 0x%016" PRIx64 "\nvm_assist: %#" PRIx64 "\n", ctx64(c, CTX_EVENT_CALLBACK),
		  ctx64(c, CTX_EVENT_CALLBACK + 8), ctx64(c, CTX_EVENT_CALLBACK + 16), ctx64(c, CTX_VM_ASSIST));
}

void xen_vcpus_free(struct xen_vcpus *v)
{
	free(v->contexts);
	*v = (struct xen_vcpus){0};
}
