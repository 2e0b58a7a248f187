/*
 * machine.c - the dumped machine: its architecture, and where its kernel
 * image lies, from the most trustworthy source there is.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"

/* VMCOREINFO is the kernel's own word; QEMU's kdump sub-header is not (it
 * writes 0 without VMCOREINFO and misparses it with it), so the page
 * tables a QEMU CPU note points at override it. */
static void find_kernel_map(struct machine *m, struct diag *diag)
{
	struct kernel_map *k = &m->kmap;
	uint64_t base, text_vaddr;

	if (m->arch->kernel_map_from_vmcoreinfo && m->arch->kernel_map_from_vmcoreinfo(m, k))
		return;
	if (k->has_phys_base && !strncmp(k->origin, "VMCOREINFO", 10))
		return;
	if (!m->arch->kernel_map_from_cpus ||
	    !m->arch->kernel_map_from_cpus(m, &base, &text_vaddr))
		return;
	if (k->has_phys_base && k->phys_base != base)
		diag_warn(diag, "phys_base %#" PRIx64 " of the %s disagrees with the page tables "
			  "(%#" PRIx64 "); using the page tables", k->phys_base, k->origin, base);
	*k = (struct kernel_map){ .has_phys_base = true, .phys_base = base,
				  .origin = "page tables from a QEMU CPU note's CR3", .text_vaddr = text_vaddr };
}

void machine_init(struct machine *m, struct format *f, struct space *phys,
		  struct diag *diag)
{
	const char *how;
	uint16_t em = arch_detect(f, &how);
	*m = (struct machine){
		.arch = arch_of(em),
		.elf_machine = em,
		.arch_origin = how,
		.phys = phys,
		.notes = &f->notes,
		.endian = f->endian,
		.mem_endian = f->endian,
	};
	if (f->ops->frame_to_pfn)
		m->machine_frames = f;
	if (m->arch->memory_endian)
		m->arch->memory_endian(m, &m->mem_endian);
	if (!f->notes.vmcoreinfo && vmcoreinfo_from_memory(m, f)) {
		format_phys_base_from_vmcoreinfo(f);
		if (!em) {      /* its entries may tell the architecture */
			m->elf_machine = em = arch_detect(f, &how);
			m->arch = arch_of(em);
			m->arch_origin = how;
		}
	}
	m->kmap = (struct kernel_map){ .has_phys_base = f->has_phys_base, .phys_base = f->phys_base,
				       .origin = f->phys_base_origin };
	find_kernel_map(m, diag);
	char l5[16];
	m->kmap.pgtable_l5 = vmcoreinfo_get(&f->notes, "NUMBER(pgtable_l5_enabled)", l5, sizeof(l5)) &&
			     strtoul(l5, NULL, 10) != 0;
	if (m->arch->find_page_offset)
		m->kmap.has_page_offset = m->arch->find_page_offset(m, &m->kmap.page_offset,
								   &m->kmap.page_offset_origin);
}
