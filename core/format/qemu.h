/*
 * qemu.h - the parts of the QEMU process core reader (format/qemu*.c):
 *
 *   qemu.c         which process and guest; QEMU's RAM blocks; the reads
 *   qemu_layout.c  where each machine puts the RAM block in guest physical
 *                  memory (PC: e820, below and above 4 GiB; virt: 1 GiB on)
 *   qemu_cpus.c    the vCPUs' registers from QEMU's cpus list, each
 *                  architecture's in qemu_x86cpu.c, qemu_armcpu.c
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_QEMU_H
#define DUMPFS_QEMU_H

#include "format/format.h"

#define QEMU_MAX_BLOCKS 64
#define QEMU_MAX_RUNS 8

struct ram_block {
	uint64_t host, used;
	char id[64];
};

/* Guest physical [paddr, paddr + len) is the RAM block's bytes at @offset. */
struct guest_run {
	uint64_t paddr, len, offset;
};

struct qemu_core;

/* A qemu-system-TARGET whose machines dumpfs maps. */
struct qemu_target {
	const char *prefix;             /* of the binary's name */
	uint16_t em;                    /* the guest's EM_* */
	const char *ram_id;             /* the RAM block -m makes */
	const struct vcpu_arch *vcpu;   /* NULL: registers are not read */
	/* Fill q->runs (and q->layout_origin) for q->ram; @e820_table: the
	 * symbol's address, 0 if unknown. */
	void (*layout)(const struct format *f, struct qemu_core *q, uint64_t e820_table);
};

struct qemu_core {
	struct segments segs;           /* first: segments_op_* read it */
	struct process_core pc;
	const struct host_map *exe;
	const struct qemu_target *target;
	struct ram_block blocks[QEMU_MAX_BLOCKS];
	size_t nblocks;
	struct ram_block ram;           /* the guest's RAM */
	struct guest_run runs[QEMU_MAX_RUNS];
	size_t nruns;
	char symbols_why[200];          /* why QEMU's symbols were not used */
	char vcpus[200];                /* where the vCPU registers came from, or why none */
	size_t nvcpus;
	char ram_origin[160], layout_origin[200];
	size_t unreadable_runs;         /* parts of the RAM the core lacks */
};

/* qemu_layout.c */
void qemu_pc_layout(const struct format *f, struct qemu_core *q, uint64_t e820_table);
void qemu_virt_layout(const struct format *f, struct qemu_core *q, uint64_t e820_table);

/* A vCPU's state in QEMU (its env), as one architecture reads it. */
#define QEMU_ENV_BYTES 1024             /* read of each env: its leading fields */
enum vcpu_mode { VCPU_UNREAD, VCPU_64BIT, VCPU_32BIT };
struct vcpu_arch {
	const char *name, *state;       /* "x86_64", "CPUX86State" */
	bool (*plausible)(const uint8_t *env);
	enum vcpu_mode (*mode)(const uint8_t *env);
	/* The notes of @n vCPUs (envs: QEMU_ENV_BYTES each) into f->notes. */
	bool (*append_notes)(struct format *f, const uint8_t *envs, size_t n);
};
extern const struct vcpu_arch qemu_x86_64_vcpu, qemu_aarch64_vcpu;

/* qemu_cpus.c: the vCPUs on QEMU's list at @cpus_head, appended to
 * f->notes as dump-guest-memory writes them; their count, 0 if none
 * were; @mode: whether vCPU 0 was read, in a 64-bit mode or not (then no
 * notes: a 32-bit guest); @why says which, or why not. */
size_t qemu_vcpu_notes(struct format *f, const struct process_core *pc, const struct vcpu_arch *arch,
		       uint64_t cpus_head, enum vcpu_mode *mode, char *why, size_t whylen);

#endif /* DUMPFS_QEMU_H */
