/*
 * qemu_layout.c - where a QEMU machine puts its RAM block in guest
 * physical memory.
 *
 * PC (i440fx "pc", q35): the block's first bytes from 0 up to the split
 * below 4 GiB, the rest from 4 GiB on, as QEMU's e820 table for the
 * firmware says (e820_table, a global with a dynamic symbol); without it
 * the split is the machine's default, and the origin says it is a guess.
 * The legacy VGA window [0xa0000, 0xc0000) is left out: the guest sees
 * VGA memory there, not its RAM (QEMU's own dumps leave it out too).
 *
 * virt (arm): one run from 1 GiB (hw/arm/virt.c's VIRT_MEM).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "format/qemu.h"

#define MAX_E820 32
#define GiB (1ull << 30)
#define VGA_START 0xa0000ull
#define VGA_END 0xc0000ull
#define E820_ENTRY 20
#define E820_RAM 1
#define VIRT_MEM (1ull << 30)


static bool add_run(struct qemu_core *q, uint64_t paddr, uint64_t len, uint64_t offset)
{
	if (!len)
		return true;
	if (q->nruns == QEMU_MAX_RUNS)
		return false;
	q->runs[q->nruns++] = (struct guest_run){ paddr, len, offset };
	return true;
}

/* RAM from guest physical 0 for @low bytes, the rest from 4 GiB, leaving
 * out the VGA window. */
static bool split_layout(struct qemu_core *q, uint64_t low)
{
	uint64_t size = q->ram.used;
	q->nruns = 0;
	if (low > VGA_END)
		return add_run(q, 0, VGA_START, 0) && add_run(q, VGA_END, low - VGA_END, VGA_END) &&
		       add_run(q, 4 * GiB, size - low, low);
	return add_run(q, 0, low < VGA_START ? low : VGA_START, 0) && add_run(q, 4 * GiB, size - low, low);
}

/* QEMU's e820 table for the firmware: its RAM entries, in order, are the
 * block's bytes in order; they must add up to the block. */
static bool layout_from_e820(const struct format *f, struct qemu_core *q, uint64_t e820_table)
{
	static const struct endian le = { false };
	uint64_t table, low = 0, seen = 0;
	uint8_t e[E820_ENTRY];
	bool split = false;
	if (!pcore_read_u64(&q->pc, &f->files[0], f->endian, e820_table, &table) || !table)
		return false;
	for (unsigned i = 0; i < MAX_E820 && seen < q->ram.used; i++) {
		if (!pcore_read(&q->pc, &f->files[0], e, sizeof(e), table + i * E820_ENTRY))
			return false;
		uint64_t addr = get64(le, e), len = get64(le, e + 8);
		uint32_t type = get32(le, e + 16);
		if (type != E820_RAM)
			continue;
		if (len > q->ram.used - seen)
			return false;
		if (seen == 0 && addr == 0)
			low = len;
		else if (seen == low && addr == 4 * GiB && !split)
			split = true;
		else
			return false;   /* not the PC's shape: below 4 GiB, then above */
		seen += len;
	}
	if (seen != q->ram.used || low > 4 * GiB)
		return false;
	snprintf(q->layout_origin, sizeof(q->layout_origin),
		 "QEMU's e820 table for the firmware (e820_table at %#" PRIx64 ")", table);
	return split_layout(q, low);
}

/* QEMU's defaults: q35 puts 2 GiB below 4 GiB once RAM reaches 2.75 GiB;
 * i440fx ("pc") 3 GiB once it reaches 3.5 GiB. */
static void guess_pc_layout(struct qemu_core *q)
{
	bool q35 = strstr(q->pc.psargs, "q35") != NULL;
	uint64_t size = q->ram.used, low;
	if (q35)
		low = size >= 0xb0000000ull ? 2 * GiB : size;
	else
		low = size >= 0xe0000000ull ? 3 * GiB : size;
	snprintf(q->layout_origin, sizeof(q->layout_origin),
		 "a guess: QEMU %s's default split (%s the command line's first 80 bytes name q35)",
		 q35 ? "q35" : "i440fx", q35 ? "as" : "unless");
	split_layout(q, low);
}

void qemu_pc_layout(const struct format *f, struct qemu_core *q, uint64_t e820_table)
{
	if (!(e820_table && layout_from_e820(f, q, e820_table)))
		guess_pc_layout(q);
}

void qemu_virt_layout(const struct format *f, struct qemu_core *q, uint64_t e820_table)
{
	(void)f;
	(void)e820_table;
	q->nruns = 0;
	add_run(q, VIRT_MEM, q->ram.used, 0);
	snprintf(q->layout_origin, sizeof(q->layout_origin), "QEMU virt's memory map (RAM from %#llx)",
		 (unsigned long long)VIRT_MEM);
}
