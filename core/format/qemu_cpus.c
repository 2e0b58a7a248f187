/*
 * qemu_cpus.c - the guest's vCPU registers in a QEMU process core (x86_64
 * guests), written as the notes QEMU's own dump-guest-memory writes: an
 * NT_PRSTATUS and a "QEMU" CPU-state note per vCPU, so that /cpus, the
 * CR3 walk of arch/x86_64.c and crash's backtraces of the active tasks
 * work as on a dump-guest-memory ELF.
 *
 * QEMU lists its vCPUs on the global `cpus` (a QTAILQ of CPUState, with a
 * dynamic symbol).  Two offsets are not known without QEMU's debug
 * information, so they are found and checked:
 *  - the list link: the first vCPU's tql_prev points at the list head, the
 *    only word of its first 4 KiB that does;
 *  - the CPUX86State: CPUState's env_ptr points into its own object, at
 *    the X86CPU's env, whose leading fields (regs[16], eip, eflags, the
 *    cc_* words, segs[6], ldt, tr, gdt, idt, cr[5]) have kept one layout
 *    in every QEMU release; an env is taken only if its CS is present,
 *    its descriptor-table limits fit in 16 bits and CR0 has PE set.
 * Anything that does not check out leaves the dump without registers, as
 * before, and /header says why.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/format.h"

#define MAX_VCPUS 4096             /* QEMU's limit is lower */
#define CPUSTATE_SCAN 4096              /* where the link and env_ptr lie */
#define ENV_MAX_OFFSET (256u << 10)     /* env within its X86CPU */
/* CPUX86State, x86_64 target */
#define ENV_REGS 0
#define ENV_EIP 128
#define ENV_EFLAGS 136
#define ENV_SEGS 184                    /* SegmentCache: selector, base, limit, flags */
#define ENV_SEG_SIZE 24
#define ENV_CR 424
#define ENV_SIZE (ENV_CR + 5 * 8)
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDT, SEG_TR, SEG_GDT, SEG_IDT };
#define SEG_PRESENT 0x8000u
/* what dump-guest-memory writes */
#define PRSTATUS_SIZE 336
#define PRSTATUS_PID 32
#define PRSTATUS_REGS 112
#define CPUSTATE_SIZE 0x1b8
#define NT_PRSTATUS 1

struct vcpu_env {
	uint8_t b[ENV_SIZE];
};

static uint64_t env64(const struct vcpu_env *v, size_t off) { return get64((struct endian){ false }, v->b + off); }
static uint32_t env32(const struct vcpu_env *v, size_t off) { return get32((struct endian){ false }, v->b + off); }
static size_t seg_at(int s) { return ENV_SEGS + (size_t)s * ENV_SEG_SIZE; }

static bool plausible_env(const struct vcpu_env *v)
{
	uint64_t cr0 = env64(v, ENV_CR);
	return (cr0 & 1) && cr0 >> 32 == 0 && (env32(v, seg_at(SEG_CS) + 20) & SEG_PRESENT) &&
	       env32(v, seg_at(SEG_GDT) + 16) <= 0xffff && env32(v, seg_at(SEG_IDT) + 16) <= 0xffff;
}

/* The offset of the list link in a CPUState: where @cpu holds @head. */
static bool find_link(const struct process_core *pc, const struct source *src, uint64_t cpu, uint64_t head,
		      uint64_t *link)
{
	uint8_t b[CPUSTATE_SCAN];
	if (!pcore_read(pc, src, b, sizeof(b), cpu))
		return false;
	for (size_t o = 8; o < sizeof(b); o += 8)
		if (get64((struct endian){ false }, b + o) == head) {
			*link = o - 8;          /* tqe_next, then tql_prev */
			return true;
		}
	return false;
}

/* The env of @cpu: the first word of its first 4 KiB that points into the
 * object at a plausible CPUX86State. */
static bool find_env(const struct process_core *pc, const struct source *src, uint64_t cpu, uint64_t *env)
{
	uint8_t b[CPUSTATE_SCAN];
	if (!pcore_read(pc, src, b, sizeof(b), cpu))
		return false;
	for (size_t o = 0; o < sizeof(b); o += 8) {
		uint64_t p = get64((struct endian){ false }, b + o);
		struct vcpu_env v;
		if (p <= cpu + o || p - cpu >= ENV_MAX_OFFSET || (p & 7))
			continue;
		if (pcore_read(pc, src, v.b, sizeof(v.b), p) && plausible_env(&v)) {
			*env = p - cpu;
			return true;
		}
	}
	return false;
}

/* NT_PRSTATUS of x86_64, as QEMU's x86_64_write_elf64_note fills it. */
static void make_prstatus(const struct vcpu_env *v, uint32_t id, uint8_t *p)
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
static void make_cpustate(const struct vcpu_env *v, uint8_t *p)
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

size_t qemu_vcpu_notes(struct format *f, const struct process_core *pc, uint64_t cpus_head,
		       char *why, size_t whylen)
{
	const struct source *src = &f->files[0];
	uint64_t cpu, link, env, list[MAX_VCPUS];
	size_t n = 0;
	if (!pcore_read_u64(pc, src, f->endian, cpus_head, &cpu) || !cpu) {
		snprintf(why, whylen, "QEMU's list of vCPUs (cpus at %#" PRIx64 ") is not in the core", cpus_head);
		return 0;
	}
	if (!find_link(pc, src, cpu, cpus_head, &link) || !find_env(pc, src, cpu, &env)) {
		snprintf(why, whylen, "the first vCPU at %#" PRIx64 " does not read as an x86_64 CPUState "
			 "with a CPUX86State", cpu);
		return 0;
	}
	for (uint64_t prev_link = cpus_head; cpu && n < MAX_VCPUS; n++) {
		uint64_t back;
		if (!pcore_read_u64(pc, src, f->endian, cpu + link + 8, &back) || back != prev_link) {
			snprintf(why, whylen, "vCPU %zu at %#" PRIx64 " is not linked back to the one before", n, cpu);
			return 0;
		}
		list[n] = cpu;
		prev_link = cpu + link;
		if (!pcore_read_u64(pc, src, f->endian, cpu + link, &cpu))
			cpu = UINT64_MAX;
	}
	if (cpu) {
		snprintf(why, whylen, "the list of vCPUs does not end within %u entries", MAX_VCPUS);
		return 0;
	}
	struct vcpu_env *envs = calloc(n, sizeof(*envs));
	if (!envs) {
		snprintf(why, whylen, "out of memory");
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!pcore_read(pc, src, envs[i].b, sizeof(envs[i].b), list[i] + env)) {
			snprintf(why, whylen, "vCPU %zu's registers at %#" PRIx64 " are not in the core", i,
				 list[i] + env);
			free(envs);
			return 0;
		}
	/* dump-guest-memory's order: every NT_PRSTATUS, then every QEMU note;
	 * pr_pid is the CPU's index + 1, as QEMU writes it */
	uint8_t desc[PRSTATUS_SIZE > CPUSTATE_SIZE ? PRSTATUS_SIZE : CPUSTATE_SIZE];
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++) {
		make_prstatus(&envs[i], (uint32_t)i + 1, desc);
		ok = notes_append(&f->notes, f->endian, "CORE", NT_PRSTATUS, desc, PRSTATUS_SIZE) == DUMPFS_OK;
	}
	for (size_t i = 0; ok && i < n; i++) {
		make_cpustate(&envs[i], desc);
		ok = notes_append(&f->notes, f->endian, "QEMU", 0, desc, CPUSTATE_SIZE) == DUMPFS_OK;
	}
	free(envs);
	if (!ok) {
		snprintf(why, whylen, "out of memory");
		return 0;
	}
	snprintf(why, whylen, "%zu vCPUs from QEMU's cpus list (env at CPUState + %#" PRIx64 ")", n, env);
	return n;
}
