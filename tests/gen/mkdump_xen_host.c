/*
 * mkdump_xen_host.c - --format xen-kdump: a Xen host's crash as the capture
 * kernel's /proc/vmcore (mkdump_xen.c says what it holds).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mkdump_xen.h"

/* ------------------------------------------------------------------ */
/* xen-kdump: a Xen host's crash                                       */

/* Xen's registers on a physical CPU as elf_core_save_regs() saves them:
 * rip in Xen's text, rsp on its stack in the direct map, cs
 * __HYPERVISOR_CS 0xe008, null data selectors; orig_rax is never filled. */
static void host_regs(int cpu, uint64_t idle_cr3, uint64_t cr3_cpu0, struct xregs *r)
{
	uint64_t c = (uint64_t)cpu;
	memset(r, 0, sizeof *r);
	for (int i = 0; i < 15; i++) /* "XEN", cpu, register index */
		r->gpr[i] = 0x58454e0000000000ull | (c << 16) | (uint64_t)i;
	r->rip = XEN_VIRT_START + XEN_IMAGE_OFF + 0x3a6f0 + 0x20 * c;
	r->rsp = 0xffff83023ffcfe58ull - 0x8000 * c;
	r->gpr[4] = r->rsp + 0x30;
	r->rflags = 0x246;
	r->cs = 0xe008;
	r->fs_base = 0;
	r->gs_base_kernel = 0xffff88823fc00000ull + 0x40000 * c; /* MSR_GS_BASE: a guest's */
	r->cr[0] = 0x8005003b;
	r->cr[2] = 0x00007f51e2a3d000ull + 0x1000 * c;
	r->cr[3] = cpu ? idle_cr3 : cr3_cpu0;
	r->cr[4] = 0x3526e0;
}

struct dom0 {
	uint64_t max_pfn;      /* p2m entries in use: [0, max_pfn) */
	uint64_t *p2m;         /* leaves' worth of entries */
	uint64_t nleaves, nmid;
	uint8_t *state, *mem;  /* expected /dom0/mem */
	uint64_t ram_pages, eio_pages;
	uint64_t id_start, id_end, balloon_start, balloon_end; /* inclusive, 0 if none */
	uint64_t fll_mfn;
	uint64_t vmci_note, vmci_data;
};

void write_xen_kdump(struct dump *d)
{
	struct opts *o = &d->o;
	struct rng r = { mix64(o->seed ^ 0x78656e6b64756d70ull) };
	const uint64_t nmach = o->ram[o->nram - 1].end + 1;
	int ncpu = o->cpus;

	/* machine memory */
	d->max_mapnr = nmach;
	d->state = xcalloc(nmach, 1);
	for (size_t i = 0; i < o->nram; i++)
		for (uint64_t m = o->ram[i].start; m <= o->ram[i].end; m++) {
			d->state[m] = PG_DUMPED;
			d->ram_pages++;
		}
	d->dumped_pages = d->ram_pages;
	d->mem = xcalloc(nmach, XPAGE);
	uint8_t *used = xcalloc(nmach, 1);

	/* Xen's image: xen_phys_start 2 MiB aligned, the image from 2 MiB
	 * above it (_start - XEN_VIRT_START), all RAM; the highest such */
	uint64_t xps = UINT64_MAX;
	for (uint64_t base = nmach / 512 * 512 + 512; base >= 512 && xps == UINT64_MAX;) {
		base -= 512;
		uint64_t img0 = base + XEN_IMAGE_OFF / XPAGE;
		bool ok = img0 + XEN_IMAGE_PAGES <= nmach;
		for (uint64_t m = img0; ok && m < img0 + XEN_IMAGE_PAGES; m++)
			ok = d->state[m] == PG_DUMPED;
		if (ok)
			xps = base * XPAGE;
	}
	if (xps == UINT64_MAX)
		die("--format xen-kdump needs %d RAM pages 2 MiB past a 2 MiB boundary for "
		    "Xen's image", XEN_IMAGE_PAGES);
	const uint64_t img0 = (xps + XEN_IMAGE_OFF) / XPAGE;
	for (uint64_t m = img0; m < img0 + XEN_IMAGE_PAGES; m++) {
		used[m] = 1;
		fill_salted(d, 0x58454eull, m, d->mem + m * XPAGE);
	}
	/* __pa() of an image address: va - XEN_VIRT_START + xen_phys_start */
	/* the strings CRASH_INFO points at (in .rodata), idle_pg_table
	 * (0xffff82d04046e000, the idle CPUs' cr3) and vmcoreinfo_data[] (in
	 * .bss), at their places in Xen's image */
	const uint64_t strings = (img0 + 0x1a0) * XPAGE, idle_pg_table = xps + 0x46e000;
	const uint64_t vmci_maddr = (img0 + 0x380) * XPAGE;
	memset(d->mem + strings, 0, XPAGE);
	const uint64_t pa_extra = strings, pa_changeset = strings + 0x40,
		       pa_compiler = strings + 0x100, pa_date = strings + 0x180,
		       pa_time = strings + 0x1c0;
	put_str(d->mem + pa_extra, xen_extra);
	put_str(d->mem + pa_changeset, xen_changeset);
	put_str(d->mem + pa_compiler, xen_compiler);
	put_str(d->mem + pa_date, xen_compile_date);
	put_str(d->mem + pa_time, xen_compile_time);
	if (idle_pg_table / XPAGE >= img0 + XEN_IMAGE_PAGES)
		die("internal error: idle_pg_table outside the image laid out");

	/* the other RAM frames hold other domains' and free memory until
	 * handed out, in a random order; Xen gives no domain a frame of the
	 * first MiB (and no p2m entry may be 0, which readers take for
	 * "not present") */
	uint64_t *pool = xcalloc(nmach, sizeof *pool), npool = 0, next = 0;
	for (uint64_t m = 0; m < nmach; m++)
		if (d->state[m] == PG_DUMPED && !used[m]) {
			fill_salted(d, 0x6f74686572ull, m, d->mem + m * XPAGE);
			if (m >= 0x100)
				pool[npool++] = m;
		}
	shuffle_u64(pool, npool, &r);
	if (npool < 64 + (uint64_t)ncpu)
		die("--ram too small for --format xen-kdump");

	/* dom0's pseudo-physical layout (Linux PV dom0: its E820 mirrors the
	 * host's, non-RAM regions are identity-mapped, ballooned-out pages
	 * are INVALID_P2M_ENTRY): half of the free frames */
	struct dom0 z = { 0 };
	uint64_t n0 = (npool - (uint64_t)ncpu - 16) / 2;
	uint64_t *ram0 = xcalloc(n0 + 1, sizeof *ram0);
	if (n0 >= 0x400) {
		uint64_t left = n0, pfn = 0, k = 0;
		z.id_start = 0xa0;
		z.id_end = 0xff;
		for (; pfn < 0xa0; pfn++, left--)
			ram0[k++] = pfn;
		pfn = 0x100;
		uint64_t half = pfn + left / 2;
		for (; pfn < half; pfn++, left--)
			ram0[k++] = pfn;
		z.balloon_start = pfn;
		z.balloon_end = pfn + 31;
		pfn += 32;
		for (; left; pfn++, left--)
			ram0[k++] = pfn;
		z.max_pfn = pfn;
	} else {
		for (uint64_t k = 0; k < n0; k++)
			ram0[k] = k;
		z.max_pfn = n0;
	}
	z.ram_pages = n0;
	z.nleaves = (z.max_pfn + P2M_PER_PAGE - 1) / P2M_PER_PAGE;
	z.nmid = (z.nleaves + P2M_PER_PAGE - 1) / P2M_PER_PAGE;
	if (z.nmid > P2M_PER_PAGE)
		die("dom0 too large for a 3-level p2m tree");
	z.p2m = xcalloc(z.nleaves * P2M_PER_PAGE, sizeof *z.p2m);
	for (uint64_t p = 0; p < z.nleaves * P2M_PER_PAGE; p++)
		z.p2m[p] = INVALID_P2M_ENTRY;
	if (z.id_end)
		for (uint64_t p = z.id_start; p <= z.id_end; p++)
			z.p2m[p] = p | IDENTITY_FRAME_BIT;

	/* frames: the tree (frame list list, frame lists, leaves, Linux's
	 * p2m_missing leaf and p2m_mid_missing_mfn list), the CPUs' crash
	 * notes (Xen's heap), dom0's pages; the rest stay other memory */
	if (5 + z.nmid + z.nleaves + (uint64_t)ncpu + n0 > npool)
		die("--ram too small for --format xen-kdump");
	z.fll_mfn = pool[next++];
	uint64_t mid0 = next;
	next += z.nmid;
	uint64_t leaf0 = next;
	next += z.nleaves;
	uint64_t missing_leaf = pool[next++], mid_missing = pool[next++];
	uint64_t notes0 = next;
	next += (uint64_t)ncpu;
	for (uint64_t k = 0; k < n0; k++)
		z.p2m[ram0[k]] = pool[next++];
	const uint64_t dom0_pgd = z.p2m[ram0[n0 / 3]]; /* a page table of dom0's */

	/* dom0's memory and its VMCOREINFO */
	z.state = xcalloc(z.max_pfn, 1);
	z.mem = xcalloc(z.max_pfn, XPAGE);
	for (uint64_t k = 0; k < n0; k++) {
		z.state[ram0[k]] = PG_DUMPED;
		fill_salted(d, 0x646f6d30ull, ram0[k], z.mem + ram0[k] * XPAGE);
	}
	char *vmci = NULL;
	z.vmci_note = ram0[n0 * 2 / 5];
	z.vmci_data = ram0[n0 * 2 / 5 + 5];
	if (o->vmcoreinfo) {
		vmci = guest_vmcoreinfo(d);
		place_vmcoreinfo(vmci, z.mem + z.vmci_note * XPAGE, z.mem + z.vmci_data * XPAGE);
	}
	/* --xen-p2m-out-of-range: dom0 pfns whose entry names a frame that
	 * is no machine RAM: past its end, in a hole of it, past 2^40.
	 * Their pages cannot be had: EIO, not holes. */
	uint64_t hole_mfn = UINT64_MAX;
	for (uint64_t m = 0; m < nmach && hole_mfn == UINT64_MAX; m++)
		if (d->state[m] != PG_DUMPED)
			hole_mfn = m;
	for (int i = 0; i < o->xen.out_of_range; i++) {
		uint64_t k = (uint64_t)(i + 1) * n0 / ((uint64_t)o->xen.out_of_range + 2);
		uint64_t pfn = ram0[k];
		if (pfn == z.vmci_note || pfn == z.vmci_data)
			pfn = ram0[k + 1];
		uint64_t bad = i % 3 == 0 ? nmach + 0x100 + (uint64_t)i
			     : i % 3 == 1 && hole_mfn != UINT64_MAX ? hole_mfn
			     : (1ull << 40) + (uint64_t)i;
		z.p2m[pfn] = bad;
		if (!(z.state[pfn] & PG_LOST))
			z.eio_pages++;
		z.state[pfn] |= PG_LOST;
	}
	for (uint64_t p = 0; p < z.max_pfn; p++)
		if (z.state[p] == PG_DUMPED)
			memcpy(d->mem + z.p2m[p] * XPAGE, z.mem + p * XPAGE, XPAGE);
	for (uint64_t p = 0; p < z.max_pfn; p++)
		if (z.state[p] & PG_LOST)
			memset(z.mem + p * XPAGE, 0, XPAGE);

	/* the tree, as xen_build_mfn_list_list() leaves it: unused entries
	 * of the frame list list name p2m_mid_missing_mfn, unused ones of a
	 * frame list name p2m_missing, whose entries are all ~0 */
	uint8_t *fll = d->mem + z.fll_mfn * XPAGE;
	for (int i = 0; i < P2M_PER_PAGE; i++)
		put64(fll + 8 * i, (uint64_t)i < z.nmid ? pool[mid0 + i] : mid_missing);
	for (uint64_t mi = 0; mi < z.nmid; mi++) {
		uint8_t *mid = d->mem + pool[mid0 + mi] * XPAGE;
		for (uint64_t i = 0; i < P2M_PER_PAGE; i++) {
			uint64_t leaf = mi * P2M_PER_PAGE + i;
			put64(mid + 8 * i, leaf < z.nleaves ? pool[leaf0 + leaf] : missing_leaf);
		}
	}
	for (uint64_t li = 0; li < z.nleaves; li++) {
		uint8_t *leaf = d->mem + pool[leaf0 + li] * XPAGE;
		for (uint64_t i = 0; i < P2M_PER_PAGE; i++)
			put64(leaf + 8 * i, z.p2m[li * P2M_PER_PAGE + i]);
	}
	for (int i = 0; i < P2M_PER_PAGE; i++) {
		put64(d->mem + missing_leaf * XPAGE + 8 * i, INVALID_P2M_ENTRY);
		put64(d->mem + mid_missing * XPAGE + 8 * i, missing_leaf);
	}

	/* crash notes: per CPU "CORE" NT_PRSTATUS and "Xen" CRASH_REGS, CPU 0
	 * also "Xen" CRASH_INFO (kexec_init_cpu_notes()), each CPU's in a
	 * buffer of Xen's heap; the capture kernel's PT_NOTE has them in CPU
	 * order, then VMCOREINFO_XEN. */
	uint8_t crash_info[CRASH_INFO_SIZE];
	put64(crash_info + 0, 4);
	put64(crash_info + 8, 17);
	put64(crash_info + 16, pa_extra);
	put64(crash_info + 24, pa_changeset);
	put64(crash_info + 32, pa_compiler);
	put64(crash_info + 40, pa_date);
	put64(crash_info + 48, pa_time);
	put64(crash_info + 56, 0); /* tainted */
	put64(crash_info + 64, xps);
	put64(crash_info + 72, z.fll_mfn);
	d->prstatus = xcalloc((size_t)ncpu, sizeof *d->prstatus);
	d->prstatus_size = PRSTATUS_SIZE;
	uint8_t (*cregs)[CRASH_REGS_SIZE] = xcalloc((size_t)ncpu, CRASH_REGS_SIZE);
	struct buf notes = { 0 };
	for (int c = 0; c < ncpu; c++) {
		struct xregs rg;
		/* CPU 0 was running dom0: its cr3 a page table of dom0's */
		host_regs(c, idle_pg_table, dom0_pgd * XPAGE, &rg);
		/* ELF_Gregset's thread_fs/thread_gs are MSR_FS_BASE/MSR_GS_BASE */
		d->prstatus[c] = prstatus_from_regs(&rg, 0, rg.gs_base_kernel);
		put64(cregs[c] + 0, rg.cr[0]);
		put64(cregs[c] + 8, rg.cr[2]);
		put64(cregs[c] + 16, rg.cr[3]);
		put64(cregs[c] + 24, rg.cr[4]);
		struct buf one = { 0 };
		add_note(&one, "CORE", NT_PRSTATUS, d->prstatus[c], PRSTATUS_SIZE);
		add_note(&one, "Xen", XEN_ELFNOTE_CRASH_REGS, cregs[c], CRASH_REGS_SIZE);
		if (!c)
			add_note(&one, "Xen", XEN_ELFNOTE_CRASH_INFO, crash_info, CRASH_INFO_SIZE);
		if (one.len > XPAGE)
			die("internal error: crash notes over a page");
		uint8_t *heap = d->mem + pool[notes0 + (uint64_t)c] * XPAGE;
		memset(heap, 0, XPAGE);
		memcpy(heap + 0x40, one.p, one.len);
		buf_add(&notes, one.p, one.len);
		free(one.p);
	}
	/* Xen's VMCOREINFO (crash_save_vmcoreinfo(), arch_crash_save_vmcoreinfo()
	 * with the symbols of Xen 4.17's map), its note in vmcoreinfo_data[] */
	static const char xen_vmci[] =
		"PAGESIZE=4096\n"
		"SYMBOL(domain_list)=ffff82d04057b380\n"
		"SYMBOL(frame_table)=ffff82d04043f0e8\n"
		"SYMBOL(max_page)=ffff82d0405932f0\n"
		"SIZE(page_info)=32\n"
		"SIZE(domain)=3776\n"
		"OFFSET(page_info.count_info)=8\n"
		"OFFSET(page_info._domain)=24\n"
		"OFFSET(domain.domain_id)=0\n"
		"OFFSET(domain.next_in_list)=104\n"
		"SYMBOL(dom_xen)=ffff82d04045b848\n"
		"SYMBOL(dom_io)=ffff82d04045b840\n"
		"SYMBOL(pgd_l4)=ffff82d04046e000\n";
	uint8_t *xv = xcalloc(XEN_VMCI_DESCSZ, 1);
	memcpy(xv, xen_vmci, strlen(xen_vmci));
	size_t xv_desc = add_note(&notes, "VMCOREINFO_XEN", 0, xv, XEN_VMCI_DESCSZ);
	memcpy(d->mem + vmci_maddr, notes.p + xv_desc - 28, VMCOREINFO_BYTES);

	/* the vmcore: write_elf() with these notes */
	d->elf_notes = &notes;
	write_elf(d);
	d->has_notes = true;
	d->has_vmcoreinfo = false; /* no "VMCOREINFO" note: Xen's is VMCOREINFO_XEN */
	write_expected(d);

	for (int c = 0; c < ncpu; c++) {
		char suffix[64];
		snprintf(suffix, sizeof suffix, ".cpu%d.xen_crash_regs", c);
		write_blob(o->out, suffix, cregs[c], CRASH_REGS_SIZE);
	}
	write_blob(o->out, ".xen_crash_info", crash_info, CRASH_INFO_SIZE);
	write_blob(o->out, ".xen_vmcoreinfo", xen_vmci, strlen(xen_vmci));
	char *base = file_name(o->out, ".dom0");
	write_page_files(base, z.state, z.mem, z.max_pfn, XPAGE, NULL);
	if (vmci)
		write_blob(base, ".vmcoreinfo", vmci, strlen(vmci));
	FILE *f = open_expect(base, ".p2m");
	for (uint64_t p = 0; p < z.max_pfn; p++)
		fprintf(f, "%#" PRIx64 " %#" PRIx64 "\n", p, z.p2m[p]);
	close_expect(f);
	free(base);

	char *info = file_name(o->out, ".info");
	f = fopen(info, "a");
	if (!f)
		die("cannot append to %s", info);
	free(info);
	fprintf(f, "xen_version=4.17\n");
	fprintf(f, "xen_extra_version=%s\n", xen_extra);
	fprintf(f, "xen_changeset=%s\n", xen_changeset);
	fprintf(f, "xen_compiler=%s\n", xen_compiler);
	fprintf(f, "xen_compile_date=%s\n", xen_compile_date);
	fprintf(f, "xen_compile_time=%s\n", xen_compile_time);
	fprintf(f, "xen_phys_start=%#" PRIx64 "\n", xps);
	fprintf(f, "xen_p2m_mfn=%#" PRIx64 "\n", z.fll_mfn);
	fprintf(f, "xen_vmcoreinfo_maddr=%#" PRIx64 "\n", vmci_maddr);
	fprintf(f, "xen_vmcoreinfo_descsz=%d\n", XEN_VMCI_DESCSZ);
	fprintf(f, "xen_crash_notes_maddr=%#" PRIx64 "\n", pool[notes0] * XPAGE + 0x40);
	fprintf(f, "xen_idle_pg_table=%#" PRIx64 "\n", idle_pg_table);
	fprintf(f, "dom0_max_pfn=%" PRIu64 "\n", z.max_pfn);
	fprintf(f, "dom0_mem_size=%" PRIu64 "\n", z.max_pfn * XPAGE);
	fprintf(f, "dom0_ram_pages=%" PRIu64 "\n", z.ram_pages);
	fprintf(f, "dom0_eio_pages=%" PRIu64 "\n", z.eio_pages);
	fprintf(f, "dom0_p2m_leaves=%" PRIu64 "\n", z.nleaves);
	if (z.id_end)
		fprintf(f, "dom0_identity=%#" PRIx64 "-%#" PRIx64 "\n", z.id_start, z.id_end);
	if (z.balloon_end)
		fprintf(f, "dom0_ballooned=%#" PRIx64 "-%#" PRIx64 "\n", z.balloon_start,
			z.balloon_end);
	/* what /dom0/mem shows of a p2m entry: an mfn of machine RAM, its
	 * page; ~0 (missing) and IDENTITY_FRAME (I/O, not RAM), a hole; any
	 * other mfn, EIO. /dom0/mem ends after the last pfn with an mfn. */
	fprintf(f, "dom0_rule=mfn:page,invalid:hole,identity:hole,no-ram:eio\n");
	fprintf(f, "dom0_vmcoreinfo=%d\n", vmci != NULL);
	if (vmci) {
		fprintf(f, "dom0_vmcoreinfo_note_pfn=%" PRIu64 "\n", z.vmci_note);
		fprintf(f, "dom0_vmcoreinfo_data_pfn=%" PRIu64 "\n", z.vmci_data);
	}
	if (ferror(f) || fclose(f))
		die("writing %s.info failed", o->out);

	for (int c = 0; c < ncpu; c++)
		free(d->prstatus[c]);
	free(d->prstatus);
	free(cregs);
	free(notes.p);
	free(xv);
	free(vmci);
	free(z.p2m);
	free(z.state);
	free(z.mem);
	free(ram0);
	free(pool);
	free(used);
	free(d->state);
	free(d->mem);
}
