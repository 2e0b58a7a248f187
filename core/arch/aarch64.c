/*
 * aarch64.c - the aarch64 machine: kernel virtual to physical addresses,
 * the virtual PT_LOADs of /proc/vmcore, registers; a process's user
 * addresses and registers.
 *
 * Everything comes from VMCOREINFO, which arm64 kernels fill with what a
 * reader needs (arch/arm64/kernel/crash_core.c): VA_BITS, PHYS_OFFSET
 * (memstart_addr, which KASLR of the linear region can make "negative"),
 * kimage_voffset, TCR_EL1_T1SZ, and swapper_pg_dir.  Three ways, as the
 * kernel maps itself:
 *  - the linear map: physical = (virtual - PAGE_OFFSET) + PHYS_OFFSET for
 *    virtual in [PAGE_OFFSET, PAGE_END); since 5.4 it is the bottom half of
 *    the kernel's space (PAGE_OFFSET = -2^VA_BITS), before that the top half;
 *  - the kernel image: physical = virtual - kimage_voffset;
 *  - everything else (vmalloc, modules, the image itself) through the page
 *    tables from swapper_pg_dir: 4, 16 or 64 KiB granules, 2 to 4 levels.
 * The image's extent is read from the page tables too: [_stext, the end of
 * the last page mapped at virtual - kimage_voffset).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"

/* Output address bits of a descriptor, below the granule masked off. */
#define DESC_ADDR_MASK 0x0000ffffffffffffull
#define DESC_VALID 1ull
#define DESC_TABLE 2ull         /* levels 0-2: table; level 3: page */
/* How far the image scan steps over unmapped pages (the init sections,
 * freed after boot, leave a hole of a few MiB) before it decides the
 * image has ended; and how far it looks at all. */
#define IMAGE_HOLE_MAX (16ull << 20)
#define IMAGE_SCAN_MAX (256ull << 20)

static bool vmci_u64(const struct machine *m, const char *key, int base, uint64_t *out)
{
	return vmcoreinfo_u64(m->notes, key, base, out);
}

/* The layout from VMCOREINFO; NULL, or what it lacks. */
static const char *layout_get(const struct machine *m, struct aarch64_layout *l)
{
	uint64_t va_bits, page_size, t1sz, stext;

	memset(l, 0, sizeof(*l));
	if (!vmci_u64(m, "NUMBER(VA_BITS)", 10, &va_bits) || va_bits < 36 || va_bits > 52 ||
	    !vmci_u64(m, "NUMBER(kimage_voffset)", 16, &l->kimage_voffset) ||
	    !vmci_u64(m, "NUMBER(PHYS_OFFSET)", 16, &l->phys_offset) ||
	    !vmci_u64(m, "PAGESIZE", 10, &page_size) ||
	    !vmci_u64(m, "SYMBOL(_stext)", 16, &stext))
		return "VMCOREINFO lacks NUMBER(VA_BITS), NUMBER(kimage_voffset), "
		       "NUMBER(PHYS_OFFSET), PAGESIZE or SYMBOL(_stext)";
	if (page_size != 4096 && page_size != 16384 && page_size != 65536)
		return "VMCOREINFO PAGESIZE is no aarch64 granule (4, 16 or 64 KiB)";
	l->va_bits = (unsigned)va_bits;
	l->granule_shift = page_size == 4096 ? 12 : page_size == 16384 ? 14 : 16;
	l->stext = stext;
	/* The image lies in the top half of the kernel's space since 5.4's
	 * flip, and the linear map below it; the other way round before. */
	uint64_t half = -(1ull << (va_bits - 1));
	if (stext >= half) {
		l->page_offset = -(1ull << va_bits);
		l->page_end = half;
	} else {
		l->page_offset = half;
		l->page_end = 0;        /* up to the top */
	}
	/* The walk covers what TTBR1 translates: 64 - T1SZ bits (48 when a
	 * 52-bit kernel runs on a CPU without 52-bit VAs). */
	l->walk_bits = l->va_bits;
	if (vmci_u64(m, "NUMBER(TCR_EL1_T1SZ)", 16, &t1sz) && t1sz >= 12 && t1sz <= 28)
		l->walk_bits = 64 - (unsigned)t1sz;
	uint64_t pgd;
	if (vmci_u64(m, "SYMBOL(swapper_pg_dir)", 16, &pgd)) {
		l->pgd = pgd - l->kimage_voffset;
		l->have_pgd = true;
	}
	return NULL;
}

static bool in_linear_map(const struct aarch64_layout *l, uint64_t vaddr)
{
	return vaddr >= l->page_offset && (l->page_end == 0 || vaddr < l->page_end);
}

/* The levels of a walk: the first, and the index bits of its table. */
static unsigned first_level(const struct aarch64_layout *l, unsigned *top_bits)
{
	const unsigned g = l->granule_shift, bits = g - 3;
	const unsigned first = 4 - (l->walk_bits - g + bits - 1) / bits;
	*top_bits = l->walk_bits - (g + (3 - first) * bits);
	return first;
}

/* The output address of descriptor @desc. */
static uint64_t desc_out(const struct aarch64_layout *l, uint64_t desc)
{
	uint64_t out = desc & DESC_ADDR_MASK;
	if (l->granule_shift == 16)     /* 52-bit output addresses: PA[51:48] */
		out |= ((desc >> 12) & 0xf) << 48;
	return out;
}

/* One walk from the top table at @table (swapper_pg_dir for TTBR1's half,
 * mm->pgd for TTBR0's): the physical address of @vaddr and the size of
 * the page or block that maps it. */
static bool walk_from(const struct machine *m, const struct aarch64_layout *l, uint64_t table,
		      uint64_t vaddr, uint64_t *paddr, uint64_t *span)
{
	const unsigned g = l->granule_shift, bits = g - 3;
	unsigned top_bits;
	const unsigned first = first_level(l, &top_bits);

	for (unsigned level = first; level < 4; level++) {
		unsigned shift = g + (3 - level) * bits;
		unsigned index_bits = level == first ? top_bits : bits;
		uint64_t index = (vaddr >> shift) & ((1ull << index_bits) - 1), desc;
		if (!space_read_u64(m->phys, table + index * 8, m->endian, &desc) ||
		    !(desc & DESC_VALID))
			return false;
		uint64_t out = desc_out(l, desc);
		if (level == 3 || !(desc & DESC_TABLE)) {
			if (level == 3 && !(desc & DESC_TABLE))
				return false;   /* reserved */
			if (level < 1)
				return false;   /* no level-0 blocks without LPA2 */
			*span = 1ull << shift;
			*paddr = (out & ~(*span - 1)) | (vaddr & (*span - 1));
			return true;
		}
		table = out & ~((1ull << g) - 1);
	}
	return false;
}

/* A walk of swapper_pg_dir. */
static bool walk(const struct machine *m, const struct aarch64_layout *l, uint64_t vaddr,
		 uint64_t *paddr, uint64_t *span)
{
	if (vaddr < -(1ull << l->walk_bits))
		return false;   /* outside TTBR1's range */
	return walk_from(m, l, l->pgd, vaddr, paddr, span);
}

static bool translate(const struct machine *m, const struct aarch64_layout *l, uint64_t vaddr,
		      uint64_t *paddr, uint64_t *span)
{
	if (in_linear_map(l, vaddr)) {
		*paddr = (vaddr - l->page_offset) + l->phys_offset;
		*span = 1ull << l->granule_shift;
		return true;
	}
	return l->have_pgd && walk(m, l, vaddr, paddr, span);
}

static enum dumpfs_status aarch64_vtop_init(struct vtop *t, const struct machine *m,
					    char *why, size_t whylen)
{
	memset(t, 0, sizeof(*t));
	t->m = m;
	t->cached_vpage = UINT64_MAX;
	const char *lacks = layout_get(m, &t->a64);
	if (!lacks)
		return DUMPFS_OK;
	snprintf(why, whylen, "%s", lacks);
	return DUMPFS_ERR_UNSUPPORTED;
}

static bool aarch64_vtop(struct vtop *t, uint64_t vaddr, uint64_t *paddr)
{
	const uint64_t mask = (1ull << t->a64.granule_shift) - 1;
	uint64_t vpage = vaddr & ~mask, span;
	if (vpage == t->cached_vpage) {
		*paddr = t->cached_ppage | (vaddr & mask);
		return true;
	}
	if (!translate(t->m, &t->a64, vaddr, paddr, &span))
		return false;
	t->cached_vpage = vpage;
	t->cached_ppage = *paddr & ~mask;
	return true;
}

/*
 * User space: TTBR0's half, [0, 2^vabits_actual) (TASK_SIZE_64), through
 * the process's own tables at mm->pgd, which have the kernel's format and
 * number of levels (the same T0SZ as T1SZ).  VMCOREINFO's TCR_EL1_T1SZ
 * gives vabits_actual; without it, VA_BITS.
 */
#define USER_LIMIT_DEFAULT (1ull << 48)

static uint64_t aarch64_user_limit(const struct machine *m)
{
	struct aarch64_layout l;
	return layout_get(m, &l) ? USER_LIMIT_DEFAULT : 1ull << l.walk_bits;
}

static bool aarch64_user_vtop(const struct machine *m, uint64_t pgd, uint64_t vaddr, uint64_t *paddr)
{
	struct aarch64_layout l;
	uint64_t span;
	return !layout_get(m, &l) && vaddr < 1ull << l.walk_bits &&
	       walk_from(m, &l, pgd, vaddr, paddr, &span);
}

/* The leaves of the tables from @table at @level (its index @index_bits
 * wide, mapping from @base) over [w->lo, w->hi]. */
static void walk_range(const struct machine *m, const struct aarch64_layout *l, struct kernel_walk *w,
		       uint64_t table, unsigned level, unsigned index_bits, uint64_t base)
{
	const unsigned g = l->granule_shift, bits = g - 3;
	const unsigned shift = g + (3 - level) * bits;
	unsigned first, last;
	if (!pt_index_range(w, base, shift, index_bits, &first, &last))
		return;
	size_t n = (size_t)last - first + 1;
	uint8_t *t = malloc(n * 8);
	if (!t || !pt_read_table(m, w, table + (uint64_t)first * 8, t, n * 8)) {
		free(t);
		return;
	}
	for (size_t i = 0; i < n && !w->stopped && !w->truncated; i++) {
		uint64_t desc = get64(m->endian, t + i * 8), out = desc_out(l, desc);
		uint64_t va = base + ((uint64_t)(first + i) << shift), span = 1ull << shift;
		if (!(desc & DESC_VALID))
			continue;
		if (level == 3) {
			if (desc & DESC_TABLE)          /* a page, not reserved */
				pt_leaf(w, va, out & ~(span - 1), span);
		} else if (!(desc & DESC_TABLE)) {
			if (level >= 1)                 /* no level-0 blocks */
				pt_leaf(w, va, out & ~(span - 1), span);
		} else {
			walk_range(m, l, w, out & ~((1ull << g) - 1), level + 1, bits, va);
		}
	}
	free(t);
}

static bool user_walk(const struct machine *m, uint64_t pgd, struct kernel_walk *w)
{
	struct aarch64_layout l;
	unsigned top_bits;
	if (layout_get(m, &l))
		return false;
	unsigned level = first_level(&l, &top_bits);
	walk_range(m, &l, w, pgd, level, top_bits, 0);
	return true;
}


/* pt_regs begins with user_pt_regs, which is the NT_PRSTATUS pr_reg of
 * arm64 (x0-x30, sp, pc, pstate: 34 words).  A frame saved from user
 * space has pstate's mode EL0t with AArch64 (M[4:0] = 0); a 32-bit task's
 * (M[4] set) has another pr_reg and is not decoded. */
#define PR_NREG 34
#define PSTATE_MODE_MASK 0x1full

static size_t aarch64_user_regs(const struct machine *m, const uint8_t *pt_regs, size_t len,
				const uint64_t extra[USER_REGS_EXTRA], uint8_t *out, size_t outlen)
{
	(void)extra;
	if (len < PR_NREG * 8 || outlen < PR_NREG * 8)
		return 0;
	uint64_t limit = aarch64_user_limit(m);
	uint64_t sp = get64(m->mem_endian, pt_regs + 31 * 8), pc = get64(m->mem_endian, pt_regs + 32 * 8);
	uint64_t pstate = get64(m->mem_endian, pt_regs + 33 * 8);
	if ((pstate & PSTATE_MODE_MASK) != 0 || pc >= limit || sp >= limit)
		return 0;
	memcpy(out, pt_regs, PR_NREG * 8);
	return PR_NREG * 8;
}

/* RAM in /proc/vmcore is at its linear-map address. */
static bool aarch64_ram_vaddr(const struct machine *m, uint64_t paddr, uint64_t len,
			      uint64_t *vaddr)
{
	struct aarch64_layout l;
	if (layout_get(m, &l))
		return false;
	uint64_t off = paddr - l.phys_offset;
	uint64_t size = l.page_end - l.page_offset;     /* page_end 0: the top */
	if (off >= size || len > size - off)
		return false;
	*vaddr = l.page_offset + off;
	return true;
}

/* The kernel image as kexec-tools maps it in /proc/vmcore: from _stext to
 * the end of what the page tables map at virtual - kimage_voffset. */
static bool aarch64_kernel_text_load(const struct machine *m, uint64_t *vaddr,
				     uint64_t *paddr, uint64_t *len)
{
	struct aarch64_layout l;
	if (layout_get(m, &l) || !l.have_pgd)
		return false;
	uint64_t end = 0;
	for (uint64_t va = l.stext, hole = 0; va - l.stext < IMAGE_SCAN_MAX && hole < IMAGE_HOLE_MAX;) {
		uint64_t pa, span;
		if (!walk(m, &l, va, &pa, &span)) {
			uint64_t step = 1ull << l.granule_shift;
			hole += step;
			va += step;
			continue;
		}
		uint64_t next = (va | (span - 1)) + 1;
		if (pa != va - l.kimage_voffset)
			break;          /* mapped, but not the image: past it */
		end = next;
		hole = 0;
		va = next;
	}
	if (!end)
		return false;
	*vaddr = l.stext;
	*paddr = l.stext - l.kimage_voffset;
	*len = end - l.stext;
	if (*paddr >= m->phys->size || *len > m->phys->size - *paddr)
		return false;
	return true;
}

/* PHYS_OFFSET, where crash and drgn take the base of the linear map from. */
static bool aarch64_kernel_map_from_vmcoreinfo(const struct machine *m, struct kernel_map *k)
{
	uint64_t phys_offset;
	if (!vmci_u64(m, "NUMBER(PHYS_OFFSET)", 16, &phys_offset))
		return false;
	*k = (struct kernel_map){ .has_phys_base = true, .phys_base = phys_offset,
				  .origin = "VMCOREINFO NUMBER(PHYS_OFFSET)" };
	return true;
}

static void aarch64_prstatus_text(const struct machine *m, const struct note *n, struct strbuf *sb)
{
	if (n->descsz < 112 + 34 * 8)
		return;
	sb_printf(sb, "pid: %u\n", get32(m->endian, n->desc + 32));
	for (int i = 0; i < 34; i++) {
		char name[8];
		snprintf(name, sizeof(name), i < 31 ? "x%d" : i == 31 ? "sp" : i == 32 ? "pc" : "pstate", i);
		sb_printf(sb, "%-8s 0x%016" PRIx64 "\n", name, get64(m->endian, n->desc + 112 + i * 8));
	}
}

const struct arch_ops aarch64_arch = {
	.name = "aarch64",
	.elf_machine = EM_AARCH64,
	.kernel_map_from_vmcoreinfo = aarch64_kernel_map_from_vmcoreinfo,
	.vtop_init = aarch64_vtop_init,
	.vtop = aarch64_vtop,
	.elf_needs_vaddr = true,
	.ram_vaddr = aarch64_ram_vaddr,
	.kernel_text_load = aarch64_kernel_text_load,
	.user_vtop = aarch64_user_vtop,
	.user_next = pt_user_next,
	.user_walk = user_walk,
	.user_limit = aarch64_user_limit,
	.user_regs = aarch64_user_regs,
	.kernel_stack_size = 16384,     /* THREAD_SIZE with 4 KiB pages; not in BTF */
	.prstatus_size = 392,           /* struct elf_prstatus: 112 + 34 * 8 + pr_fpvalid, padded */
	.prstatus_reg_off = 112,
	.prstatus_text = aarch64_prstatus_text,
};
