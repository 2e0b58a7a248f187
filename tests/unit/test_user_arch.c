/*
 * test_user_arch.c - the user-space hooks of aarch64, ppc64 and s390x on
 * damaged input: page-table entries that point outside memory, tables
 * that point at themselves, saved registers that are no user frame.  Each
 * must give a hole or no registers, never a crash or an endless walk.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/arch.h"
#include "kernel/kernel.h"

#define MEM_SIZE (64u * 1024)
#define OUTSIDE 0x7fff0000ull   /* far past MEM_SIZE */

/* Physical memory: a buffer; everything in it is data. */
struct buf_space {
	struct space space;
	uint8_t mem[MEM_SIZE];
};

static ssize_t buf_read(struct space *s, void *buf, size_t len, uint64_t off)
{
	memcpy(buf, ((struct buf_space *)s)->mem + off, len);
	return (ssize_t)len;
}

static uint64_t buf_next(struct space *s, uint64_t off, bool data)
{
	return data ? off : s->size;
}

static const struct space_ops buf_ops = { .read = buf_read, .next = buf_next };

struct fixture {
	struct buf_space phys;
	struct note_set notes;
	struct machine m;
};

static struct fixture *fixture_new(uint16_t em, bool big, const char *vmcoreinfo)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->phys.space = (struct space){ .ops = &buf_ops, .size = MEM_SIZE };
	struct endian e = { big };
	if (vmcoreinfo)
		assert_int_equal(notes_append(&f->notes, e, "VMCOREINFO", 0, vmcoreinfo,
					      strlen(vmcoreinfo)), DUMPFS_OK);
	f->m = (struct machine){ .arch = arch_of(em), .elf_machine = em, .phys = &f->phys.space,
				 .notes = &f->notes, .endian = e, .mem_endian = e };
	return f;
}

static void fixture_free(struct fixture *f)
{
	notes_free(&f->notes);
	free(f);
}

/* --- aarch64: 4 KiB pages, 48-bit VAs, 4 levels ------------------------ */

static const char a64_vmci[] =
	"NUMBER(VA_BITS)=48\n"
	"NUMBER(kimage_voffset)=ffff800008000000\n"
	"NUMBER(PHYS_OFFSET)=0\n"
	"PAGESIZE=4096\n"
	"SYMBOL(_stext)=ffff800008010000\n"
	"NUMBER(TCR_EL1_T1SZ)=10\n";
#define A64_LINEAR 0xffff000000000000ull
#define A64_TABLE 3ull          /* valid, table (a page at level 3) */

static void put_le(struct fixture *f, uint64_t at, uint64_t v)
{
	put64(f->m.endian, f->phys.mem + at, v);
}

/* pgd 0x1000 -> pud 0x2000 -> pmd 0x3000; pmd[2] (4 MiB) -> pte 0x4000:
 * pte[0] a page in memory, pte[1] a page outside it; pmd[3] a table
 * outside memory; pud[1] the pgd itself (a loop). */
static struct fixture *a64_fixture(void)
{
	struct fixture *f = fixture_new(EM_AARCH64, false, a64_vmci);
	put_le(f, 0x1000, 0x2000 | A64_TABLE);
	put_le(f, 0x2000, 0x3000 | A64_TABLE);
	put_le(f, 0x2008, 0x1000 | A64_TABLE);
	put_le(f, 0x3000 + 2 * 8, 0x4000 | A64_TABLE);
	put_le(f, 0x3000 + 3 * 8, OUTSIDE | A64_TABLE);
	put_le(f, 0x4000, 0x5000 | A64_TABLE);
	put_le(f, 0x4008, OUTSIDE | A64_TABLE);
	memset(f->phys.mem + 0x5000, 0xab, 4096);
	return f;
}

static void test_a64_walk(void **state)
{
	(void)state;
	struct fixture *f = a64_fixture();
	const struct arch_ops *a = f->m.arch;
	uint64_t pa, next;
	assert_true(a->user_vtop(&f->m, 0x1000, 0x400123, &pa));
	assert_int_equal(pa, 0x5123);
	assert_true(a->user_vtop(&f->m, 0x1000, 0x401000, &pa));
	assert_int_equal(pa, OUTSIDE);                  /* translated: umem makes it a hole */
	assert_false(a->user_vtop(&f->m, 0x1000, 0x600000, &pa));      /* table outside */
	assert_false(a->user_vtop(&f->m, 0x1000, 1ull << 48, &pa));    /* past the limit */
	assert_false(a->user_vtop(&f->m, OUTSIDE, 0x400000, &pa));     /* pgd outside */
	assert_true(a->user_next(&f->m, 0x1000, 0, &next));
	assert_int_equal(next, 0x400000);
	assert_true(a->user_next(&f->m, 0x1000, 0x401000, &next));
	assert_int_equal(next, 0x401000);
	/* past pte[1]: pmd[3] is outside memory, pud[1] loops back to the pgd,
	 * whose walk at level 2 is bounded by the levels */
	if (a->user_next(&f->m, 0x1000, 0x402000, &next))
		assert_true(next >= 0x402000);
	assert_false(a->user_next(&f->m, OUTSIDE, 0, &next));
	fixture_free(f);
}

/* The same through a process's memory: the page outside memory is a hole
 * of zeros, and SEEK_DATA skips it. */
static void test_a64_umem(void **state)
{
	(void)state;
	struct fixture *f = a64_fixture();
	struct ktask t = { .pid = 1, .mm = A64_LINEAR + 0x8000, .pgd = A64_LINEAR + 0x1000 };
	struct umem_space u;
	struct cached_space tables;     /* the walks read through a cache, as the mount's */
	char why[200];
	uint8_t buf[8192], zero[4096] = {0};
	cached_space_init(&tables, &f->phys.space);
	assert_int_equal(umem_init(&u, &f->m, &tables.space, &t, why, sizeof(why)), DUMPFS_OK);
	assert_int_equal(u.space.size, 1ull << 48);
	assert_int_equal(space_read(&u.space, buf, sizeof(buf), 0x400000), (ssize_t)sizeof(buf));
	assert_int_equal(buf[0], 0xab);
	assert_int_equal(buf[4095], 0xab);
	assert_memory_equal(buf + 4096, zero, 4096);
	assert_int_equal(space_next(&u.space, 0, true), 0x400000);
	assert_int_equal(space_next(&u.space, 0x400000, false), 0x401000);
	uint64_t d = space_next(&u.space, 0x401000, true);
	assert_true(d >= 0x402000);
	uint64_t mapped, held;
	assert_true(umem_count(&u, 1u << 20, &mapped, &held));
	assert_true(held >= 1 && held < mapped);
	/* page tables the kernel cannot point at: a clear error */
	t.pgd = 0x1000;         /* not a kernel address */
	assert_int_not_equal(umem_init(&u, &f->m, &tables.space, &t, why, sizeof(why)), DUMPFS_OK);
	assert_non_null(strstr(why, "not mapped"));
	cached_space_destroy(&tables);
	fixture_free(f);
}

static void test_a64_regs(void **state)
{
	(void)state;
	struct fixture *f = a64_fixture();
	const struct arch_ops *a = f->m.arch;
	uint8_t regs[336] = {0}, out[512];
	uint64_t extra[USER_REGS_EXTRA] = {0};
	put64(f->m.mem_endian, regs + 31 * 8, 0xfffff000);      /* sp */
	put64(f->m.mem_endian, regs + 32 * 8, 0x400100);        /* pc */
	put64(f->m.mem_endian, regs + 33 * 8, 0x60000000);      /* EL0t */
	assert_int_equal(a->user_regs(&f->m, regs, sizeof(regs), extra, out, sizeof(out)), 34 * 8);
	assert_memory_equal(out, regs, 34 * 8);
	put64(f->m.mem_endian, regs + 33 * 8, 0x3c5);           /* EL1h: a kernel frame */
	assert_int_equal(a->user_regs(&f->m, regs, sizeof(regs), extra, out, sizeof(out)), 0);
	put64(f->m.mem_endian, regs + 33 * 8, 0x10);            /* AArch32 user */
	assert_int_equal(a->user_regs(&f->m, regs, sizeof(regs), extra, out, sizeof(out)), 0);
	put64(f->m.mem_endian, regs + 33 * 8, 0);
	put64(f->m.mem_endian, regs + 32 * 8, 0xffff800008010000ull);  /* pc in the kernel */
	assert_int_equal(a->user_regs(&f->m, regs, sizeof(regs), extra, out, sizeof(out)), 0);
	assert_int_equal(a->user_regs(&f->m, regs, 100, extra, out, sizeof(out)), 0);  /* short */
	fixture_free(f);
}

/* --- ppc64: radix, 64 KiB pages --------------------------------------- */

static void test_ppc64(void **state)
{
	(void)state;
	static const char vmci[] = "PAGESIZE=65536\nSYMBOL(swapper_pg_dir)=c000000000002000\n";
	struct fixture *f = fixture_new(EM_PPC64, false, vmci);
	const struct arch_ops *a = f->m.arch;
	const struct endian big = { true };
	/* swapper_pg_dir's first entry: a 9-bit next table (radix) */
	put64(big, f->phys.mem + 0x2000, (1ull << 63) | 0x3000 | 9);
	/* a user pgd at 0x8000 whose first entry points outside memory */
	put64(big, f->phys.mem + 0x8000, (1ull << 63) | OUTSIDE | 9);
	uint64_t pa, next;
	assert_false(a->user_vtop(&f->m, 0x8000, 0x10000000, &pa));
	assert_false(a->user_next(&f->m, 0x8000, 0, &next));
	assert_false(a->user_vtop(&f->m, OUTSIDE, 0x10000000, &pa));
	/* registers: MSR_PR clear is a kernel frame */
	uint8_t regs[384] = {0}, out[512];
	uint64_t extra[USER_REGS_EXTRA] = {0};
	put64(f->m.mem_endian, regs + 1 * 8, 0x7ffff0000000ull);        /* r1 */
	put64(f->m.mem_endian, regs + 32 * 8, 0x10000100);              /* nip */
	put64(f->m.mem_endian, regs + 33 * 8, (1ull << 63) | (1ull << 14) | 1);
	assert_int_equal(a->user_regs(&f->m, regs, sizeof(regs), extra, out, sizeof(out)), 48 * 8);
	put64(f->m.mem_endian, regs + 33 * 8, (1ull << 63) | 1);
	assert_int_equal(a->user_regs(&f->m, regs, sizeof(regs), extra, out, sizeof(out)), 0);
	fixture_free(f);
}

/* --- s390x: a region-third top table ------------------------------------ */

static void test_s390x(void **state)
{
	(void)state;
	struct fixture *f = fixture_new(EM_S390, true, NULL);
	const struct arch_ops *a = f->m.arch;
	/* region-third table at 0x1000 (TT 1): entry 0 a segment table
	 * outside memory; entry 1 points at the table itself (a loop in
	 * type: its entries say TT 1, not the segment table's 0) */
	for (unsigned i = 0; i < 2048; i++)
		put64(f->m.endian, f->phys.mem + 0x1000 + i * 8, 0x4 | 0x20);  /* empty R3 */
	put64(f->m.endian, f->phys.mem + 0x1000, OUTSIDE | 0x4);
	put64(f->m.endian, f->phys.mem + 0x1008, 0x1000 | 0x4);
	uint64_t pa, next;
	assert_false(a->user_vtop(&f->m, 0x1000, 0x1000000, &pa));
	assert_false(a->user_vtop(&f->m, 0x1000, 1ull << 31, &pa));
	assert_false(a->user_next(&f->m, 0x1000, 0, &next));
	assert_false(a->user_vtop(&f->m, OUTSIDE, 0x1000000, &pa));
	assert_false(a->user_next(&f->m, OUTSIDE, 0, &next));
	/* registers: a PSW without the problem-state bit is a kernel frame */
	uint8_t regs[200] = {0}, out[512];
	uint64_t extra[USER_REGS_EXTRA] = { 0x00000000023013c0ull };
	put64(f->m.mem_endian, regs + 8, 0x0705200180000000ull);        /* PSW mask */
	put64(f->m.mem_endian, regs + 16, 0x10f3662);                   /* PSW address */
	put64(f->m.mem_endian, regs + 24 + 15 * 8, 0x3fff4ff9ba0ull);   /* r15 */
	assert_int_equal(a->user_regs(&f->m, regs, sizeof(regs), extra, out, sizeof(out)), 216);
	assert_memory_equal(out, regs + 8, 144);
	assert_int_equal(get32(f->m.mem_endian, out + 144 + 4), 0x023013c0);  /* acr1 */
	put64(f->m.mem_endian, regs + 8, 0x0704000180000000ull);
	assert_int_equal(a->user_regs(&f->m, regs, sizeof(regs), extra, out, sizeof(out)), 0);
	fixture_free(f);
}

/* s390x user entries Linux made invalid to see them referenced (young
 * tracking) are still mapped: a page by _PAGE_PRESENT, a large segment
 * by its FC bit; a swap entry (invalid, protected, not present) is not. */
static void test_s390x_young(void **state)
{
	(void)state;
	struct fixture *f = fixture_new(EM_S390, true, NULL);
	const struct arch_ops *a = f->m.arch;
	uint8_t *mem = f->phys.mem;
	for (unsigned i = 0; i < 2048; i++) {
		put64(f->m.endian, mem + 0x1000 + i * 8, 0x4 | 0x20);  /* empty R3 */
		put64(f->m.endian, mem + 0x5000 + i * 8, 0x20);        /* empty segment */
	}
	put64(f->m.endian, mem + 0x1000, 0x5000 | 0x4);                 /* R3[0] -> segments */
	put64(f->m.endian, mem + 0x5000 + 16 * 8, 0x9000);              /* 16 MiB -> page table */
	put64(f->m.endian, mem + 0x5000 + 17 * 8, 0x400 | 0x20 | 0x1);  /* 17 MiB: large, old */
	put64(f->m.endian, mem + 0x9000, 0xa000 | 0x400 | 0x1);         /* present, old */
	put64(f->m.endian, mem + 0x9008, 0x400 | 0x200);                /* a swap entry */
	put64(f->m.endian, mem + 0x9010, OUTSIDE | 0x1);                /* present, outside */
	uint64_t pa, next;
	assert_true(a->user_vtop(&f->m, 0x1000, 0x1000010, &pa));
	assert_int_equal(pa, 0xa010);
	assert_false(a->user_vtop(&f->m, 0x1000, 0x1001000, &pa));
	assert_true(a->user_vtop(&f->m, 0x1000, 0x1002000, &pa));
	assert_int_equal(pa, OUTSIDE);
	assert_true(a->user_vtop(&f->m, 0x1000, 0x1100123, &pa));
	assert_int_equal(pa, 0x123);
	assert_true(a->user_next(&f->m, 0x1000, 0x1001000, &next));
	assert_int_equal(next, 0x1002000);
	assert_true(a->user_next(&f->m, 0x1000, 0x1003000, &next));
	assert_int_equal(next, 0x1100000);
	assert_false(a->user_next(&f->m, 0x1000, 0x1200000, &next));
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a64_walk),
		cmocka_unit_test(test_a64_umem),
		cmocka_unit_test(test_a64_regs),
		cmocka_unit_test(test_ppc64),
		cmocka_unit_test(test_s390x),
		cmocka_unit_test(test_s390x_young),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
