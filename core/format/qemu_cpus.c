/*
 * qemu_cpus.c - the guest's vCPU registers in a QEMU process core, written
 * (by each architecture's part: qemu_x86cpu.c, qemu_armcpu.c) as the notes
 * QEMU's own dump-guest-memory writes, so that /cpus, the page-table walks
 * that start from a CPU's registers and crash's backtraces of the active
 * tasks work as on a dump-guest-memory ELF.
 *
 * QEMU lists its vCPUs on the global `cpus` (a QTAILQ of CPUState, with a
 * dynamic symbol).  Two offsets are not known without QEMU's debug
 * information, so they are found and checked:
 *  - the list link: the first vCPU's tql_prev points at the list head, the
 *    only word of its first 4 KiB that does;
 *  - the architecture's CPU state: CPUState's env_ptr points into its own
 *    object, at the env, the first such word whose target the
 *    architecture's part finds plausible.
 * Anything that does not check out leaves the dump without registers, and
 * /header says why.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/qemu.h"

#define MAX_VCPUS 4096             /* QEMU's limit is lower */
#define CPUSTATE_SCAN 4096              /* where the link and env_ptr lie */
#define ENV_MAX_OFFSET (256u << 10)     /* env within its ArchCPU */
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
 * object at a plausible state of @arch's CPU. */
static bool find_env(const struct process_core *pc, const struct source *src, const struct vcpu_arch *arch,
		     uint64_t cpu, uint64_t *env)
{
	uint8_t b[CPUSTATE_SCAN];
	if (!pcore_read(pc, src, b, sizeof(b), cpu))
		return false;
	for (size_t o = 0; o < sizeof(b); o += 8) {
		uint64_t p = get64((struct endian){ false }, b + o);
		uint8_t v[QEMU_ENV_BYTES];
		if (p <= cpu + o || p - cpu >= ENV_MAX_OFFSET || (p & 7))
			continue;
		if (pcore_read(pc, src, v, sizeof(v), p) && arch->plausible(v)) {
			*env = p - cpu;
			return true;
		}
	}
	return false;
}

size_t qemu_vcpu_notes(struct format *f, const struct process_core *pc, const struct vcpu_arch *arch,
		       uint64_t cpus_head, enum vcpu_mode *mode, char *why, size_t whylen)
{
	*mode = VCPU_UNREAD;
	const struct source *src = &f->files[0];
	uint64_t cpu, link, env, list[MAX_VCPUS];
	size_t n = 0;
	if (!pcore_read_u64(pc, src, f->endian, cpus_head, &cpu) || !cpu) {
		snprintf(why, whylen, "QEMU's list of vCPUs (cpus at %#" PRIx64 ") is not in the core", cpus_head);
		return 0;
	}
	if (!find_link(pc, src, cpu, cpus_head, &link) || !find_env(pc, src, arch, cpu, &env)) {
		snprintf(why, whylen, "the first vCPU at %#" PRIx64 " does not read as a CPUState with an "
			 "%s", cpu, arch->state);
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
	uint8_t *envs = calloc(n, QEMU_ENV_BYTES);
	if (!envs) {
		snprintf(why, whylen, "out of memory");
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!pcore_read(pc, src, envs + i * QEMU_ENV_BYTES, QEMU_ENV_BYTES, list[i] + env)) {
			snprintf(why, whylen, "vCPU %zu's registers at %#" PRIx64 " are not in the core", i,
				 list[i] + env);
			free(envs);
			return 0;
		}
	*mode = arch->mode(envs);
	if (*mode == VCPU_32BIT) {
		snprintf(why, whylen, "none: vCPU 0 is not in a 64-bit mode (a 32-bit guest, whose notes "
			 "are not written)");
		free(envs);
		return 0;
	}
	bool ok = arch->append_notes(f, envs, n);
	free(envs);
	if (!ok) {
		snprintf(why, whylen, "out of memory");
		return 0;
	}
	snprintf(why, whylen, "%zu vCPUs from QEMU's cpus list (env at CPUState + %#" PRIx64 ")", n, env);
	return n;
}
