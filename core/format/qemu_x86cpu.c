/*
 * qemu_x86cpu.c - an x86_64 vCPU's registers from QEMU's CPUX86State,
 * written as dump-guest-memory writes them: an NT_PRSTATUS, then a "QEMU"
 * CPU-state note, per vCPU.  The leading fields of CPUX86State (regs[16],
 * eip, eflags, the cc_* words, hflags, segs[6], ldt, tr, gdt, idt, cr[5])
 * have kept one layout in every QEMU release; an env is taken only if
 * its CS is present, its descriptor-table limits fit in 16 bits and CR0
 * has PE set.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "format/qemu.h"

/* CPUX86State, x86_64 target */
#define ENV_REGS 0
#define ENV_EIP 128
#define ENV_EFLAGS 136
#define ENV_HFLAGS 176
#define HF_LMA (1u << 14)                /* long mode active */
#define ENV_SEGS 184                    /* SegmentCache: selector, base, limit, flags */
#define ENV_SEG_SIZE 24
#define ENV_CR 424
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDT, SEG_TR, SEG_GDT, SEG_IDT };
#define SEG_PRESENT 0x8000u
/* what dump-guest-memory writes */
#define PRSTATUS_SIZE 336
#define PRSTATUS_PID 32
#define PRSTATUS_REGS 112
#define CPUSTATE_SIZE 0x1b8
#define NT_PRSTATUS 1

static uint64_t env64(const uint8_t *v, size_t off) { return get64((struct endian){ false }, v + off); }
static uint32_t env32(const uint8_t *v, size_t off) { return get32((struct endian){ false }, v + off); }
static size_t seg_at(int s) { return ENV_SEGS + (size_t)s * ENV_SEG_SIZE; }

static bool plausible(const uint8_t *v)
{
	uint64_t cr0 = env64(v, ENV_CR);
	return (cr0 & 1) && cr0 >> 32 == 0 && (env32(v, seg_at(SEG_CS) + 20) & SEG_PRESENT) &&
	       env32(v, seg_at(SEG_GDT) + 16) <= 0xffff && env32(v, seg_at(SEG_IDT) + 16) <= 0xffff;
}

/* NT_PRSTATUS of x86_64, as QEMU's x86_64_write_elf64_note fills it. */
static void make_prstatus(const uint8_t *v, uint32_t id, uint8_t *p)
{
	static const struct endian le = { false };
	/* pr_reg's order: r15..r8 rbp rbx r11.. as struct user_regs_struct */
	static const int gpr[] = { 15, 14, 13, 12, 5, 3, 11, 10, 9, 8, 0, 1, 2, 6, 7 };
	uint8_t *r = p + PRSTATUS_REGS;
	memset(p, 0, PRSTATUS_SIZE);
	put32(le, p + PRSTATUS_PID, id);
	for (size_t i = 0; i < sizeof(gpr) / sizeof(gpr[0]); i++)
		put64(le, r + 8 * i, env64(v, ENV_REGS + 8 * (size_t)gpr[i]));
	put64(le, r + 8 * 15, 0);                               /* orig_rax */
	put64(le, r + 8 * 16, env64(v, ENV_EIP));
	put64(le, r + 8 * 17, env32(v, seg_at(SEG_CS)));
	put64(le, r + 8 * 18, env64(v, ENV_EFLAGS));
	put64(le, r + 8 * 19, env64(v, ENV_REGS + 8 * 4));      /* rsp */
	put64(le, r + 8 * 20, env32(v, seg_at(SEG_SS)));
	put64(le, r + 8 * 21, env64(v, seg_at(SEG_FS) + 8));
	put64(le, r + 8 * 22, env64(v, seg_at(SEG_GS) + 8));
	put64(le, r + 8 * 23, env32(v, seg_at(SEG_DS)));
	put64(le, r + 8 * 24, env32(v, seg_at(SEG_ES)));
	put64(le, r + 8 * 25, env32(v, seg_at(SEG_FS)));
	put64(le, r + 8 * 26, env32(v, seg_at(SEG_GS)));
}

/* QEMUCPUState version 1 (target/i386/arch_dump.c); kernel_gs_base, an
 * MSR kept further into the env at no fixed offset, stays 0. */
static void make_cpustate(const uint8_t *v, uint8_t *p)
{
	static const struct endian le = { false };
	/* the note's order of general registers and of segments */
	static const int gpr[] = { 0, 3, 1, 2, 6, 7, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15 };
	static const int seg[] = { SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS, SEG_LDT, SEG_TR,
				   SEG_GDT, SEG_IDT };
	memset(p, 0, CPUSTATE_SIZE);
	put32(le, p, 1);
	put32(le, p + 4, CPUSTATE_SIZE);
	for (size_t i = 0; i < 16; i++)
		put64(le, p + 8 + 8 * i, env64(v, ENV_REGS + 8 * (size_t)gpr[i]));
	put64(le, p + 136, env64(v, ENV_EIP));
	put64(le, p + 144, env64(v, ENV_EFLAGS));
	for (size_t i = 0; i < 10; i++) {
		uint8_t *s = p + 152 + 24 * i;
		size_t at = seg_at(seg[i]);
		put32(le, s, env32(v, at));
		put32(le, s + 4, env32(v, at + 16));
		put32(le, s + 8, env32(v, at + 20));
		put64(le, s + 16, env64(v, at + 8));
	}
	for (size_t i = 0; i < 5; i++)
		put64(le, p + 392 + 8 * i, env64(v, ENV_CR + 8 * i));
}

static enum vcpu_mode mode(const uint8_t *v)
{
	return env32(v, ENV_HFLAGS) & HF_LMA ? VCPU_64BIT : VCPU_32BIT;
}

/* Every NT_PRSTATUS, then every QEMU note, as dump-guest-memory orders
 * them; pr_pid is the CPU's index + 1, as QEMU writes it. */
static bool append_notes(struct format *f, const uint8_t *envs, size_t n)
{
	uint8_t desc[PRSTATUS_SIZE > CPUSTATE_SIZE ? PRSTATUS_SIZE : CPUSTATE_SIZE];
	for (size_t i = 0; i < n; i++) {
		make_prstatus(envs + i * QEMU_ENV_BYTES, (uint32_t)i + 1, desc);
		if (notes_append(&f->notes, f->endian, "CORE", NT_PRSTATUS, desc, PRSTATUS_SIZE) != DUMPFS_OK)
			return false;
	}
	for (size_t i = 0; i < n; i++) {
		make_cpustate(envs + i * QEMU_ENV_BYTES, desc);
		if (notes_append(&f->notes, f->endian, "QEMU", 0, desc, CPUSTATE_SIZE) != DUMPFS_OK)
			return false;
	}
	return true;
}

const struct vcpu_arch qemu_x86_64_vcpu = {
	.name = "x86_64", .state = "CPUX86State", .plausible = plausible, .mode = mode,
	.append_notes = append_notes,
};
