/*
 * qemu_armcpu.c - an aarch64 vCPU's registers from QEMU's CPUARMState,
 * written as dump-guest-memory writes its NT_PRSTATUS (x0-x30, sp, pc,
 * pstate; pr_pid the CPU's index + 1).
 *
 * CPUARMState begins regs[16] (AArch32), xregs[32] (xregs[31] is the
 * current SP), pc, pstate and the aarch64 flag, in that order in every
 * QEMU release; an env is taken only if it is in AArch64 state, its pc is
 * 4-aligned and its pstate names a valid AArch64 mode.  QEMU keeps the
 * NZCV flags and the DAIF masks apart from pstate, in fields whose
 * offsets differ between releases: they are left out of the pstate
 * written (the exception level and stack select are in).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "format/qemu.h"

#define ENV_XREGS 64
#define ENV_PC 320
#define ENV_PSTATE 328
#define ENV_AARCH64 332
#define PSTATE_NRW 0x10u                /* AArch32 */
#define PSTATE_MODE 0xfu                /* EL and SP select */
#define PRSTATUS_SIZE 392
#define PRSTATUS_PID 32
#define PRSTATUS_REGS 112
#define NT_PRSTATUS 1

static uint64_t env64(const uint8_t *v, size_t off) { return get64((struct endian){ false }, v + off); }
static uint32_t env32(const uint8_t *v, size_t off) { return get32((struct endian){ false }, v + off); }

static bool plausible(const uint8_t *v)
{
	uint32_t pstate = env32(v, ENV_PSTATE), m = pstate & PSTATE_MODE;
	uint64_t pc = env64(v, ENV_PC);
	/* EL0t, EL1t/h, EL2t/h, EL3t/h: modes 0, 4, 5, 8, 9, 12, 13 */
	bool mode_ok = m == 0 || ((m & 2) == 0 && m >= 4);
	return v[ENV_AARCH64] == 1 && !(pstate & PSTATE_NRW) && mode_ok && pc && !(pc & 3);
}

static enum vcpu_mode mode(const uint8_t *v)
{
	return v[ENV_AARCH64] == 1 ? VCPU_64BIT : VCPU_32BIT;
}

static bool append_notes(struct format *f, const uint8_t *envs, size_t n)
{
	static const struct endian le = { false };
	uint8_t p[PRSTATUS_SIZE];
	for (size_t i = 0; i < n; i++) {
		const uint8_t *v = envs + i * QEMU_ENV_BYTES;
		uint8_t *r = p + PRSTATUS_REGS;
		memset(p, 0, sizeof(p));
		put32(le, p + PRSTATUS_PID, (uint32_t)i + 1);
		for (size_t k = 0; k < 32; k++)         /* x0-x30, then sp */
			put64(le, r + 8 * k, env64(v, ENV_XREGS + 8 * k));
		put64(le, r + 8 * 32, env64(v, ENV_PC));
		put64(le, r + 8 * 33, env32(v, ENV_PSTATE));
		if (notes_append(&f->notes, f->endian, "CORE", NT_PRSTATUS, p, sizeof(p)) != DUMPFS_OK)
			return false;
	}
	return true;
}

const struct vcpu_arch qemu_aarch64_vcpu = {
	.name = "aarch64", .state = "CPUARMState", .plausible = plausible, .mode = mode,
	.append_notes = append_notes,
};
