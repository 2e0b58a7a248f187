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

/* What write_xen_kdump() decides, phase by phase, for the next to use. */
struct host_plan {
	struct rng r;
	uint64_t nmach;                 /* machine frames: [0, nmach) */
	int ncpu;
	uint8_t *used;                  /* frames Xen's image holds */
	uint64_t xps;                   /* xen_phys_start */
	uint64_t idle_pg_table, vmci_maddr;
	uint64_t pa_extra, pa_changeset, pa_compiler, pa_date, pa_time;
	uint64_t *pool, npool, next;    /* free frames, shuffled; next to hand out */
	struct dom0 z;
	uint64_t *ram0, n0;             /* dom0's RAM pfns */
	uint64_t mid0, leaf0, missing_leaf, mid_missing, notes0, dom0_pgd;
	char *vmci;                     /* dom0's VMCOREINFO text, if any */
	uint8_t crash_info[CRASH_INFO_SIZE];
	uint8_t (*cregs)[CRASH_REGS_SIZE];
	struct buf notes;               /* the vmcore's PT_NOTE */
	uint8_t *xv;                    /* VMCOREINFO_XEN's descriptor */
};

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

/* Machine memory, all of --ram. */
static void host_machine(struct dump *d, struct host_plan *h)
{
	const struct opts *o = &d->o;

	h->nmach = o->ram[o->nram - 1].end + 1;
	d->max_mapnr = h->nmach;
	d->state = xcalloc(h->nmach, 1);
	for (size_t i = 0; i < o->nram; i++)
		for (uint64_t m = o->ram[i].start; m <= o->ram[i].end; m++) {
			d->state[m] = PG_DUMPED;
			d->ram_pages++;
		}
	d->dumped_pages = d->ram_pages;
	d->mem = xcalloc(h->nmach, XPAGE);
	h->used = xcalloc(h->nmach, 1);
}

/* Xen's image: xen_phys_start 2 MiB aligned, the image from 2 MiB above it
 * (_start - XEN_VIRT_START), all RAM; the highest such.  In it the strings
 * CRASH_INFO points at (in .rodata), idle_pg_table (0xffff82d04046e000,
 * the idle CPUs' cr3) and vmcoreinfo_data[] (in .bss), at their places;
 * __pa() of an image address is va - XEN_VIRT_START + xen_phys_start. */
static void host_xen_image(struct dump *d, struct host_plan *h)
{
	h->xps = UINT64_MAX;
	for (uint64_t base = h->nmach / 512 * 512 + 512; base >= 512 && h->xps == UINT64_MAX;) {
		base -= 512;
		uint64_t img0 = base + XEN_IMAGE_OFF / XPAGE;
		bool ok = img0 + XEN_IMAGE_PAGES <= h->nmach;
		for (uint64_t m = img0; ok && m < img0 + XEN_IMAGE_PAGES; m++)
			ok = d->state[m] == PG_DUMPED;
		if (ok)
			h->xps = base * XPAGE;
	}
	if (h->xps == UINT64_MAX)
		die("--format xen-kdump needs %d RAM pages 2 MiB past a 2 MiB boundary for "
		    "Xen's image", XEN_IMAGE_PAGES);
	const uint64_t img0 = (h->xps + XEN_IMAGE_OFF) / XPAGE;
	for (uint64_t m = img0; m < img0 + XEN_IMAGE_PAGES; m++) {
		h->used[m] = 1;
		fill_salted(d, 0x58454eull, m, d->mem + m * XPAGE);
	}
	const uint64_t strings = (img0 + 0x1a0) * XPAGE;
	h->idle_pg_table = h->xps + 0x46e000;
	h->vmci_maddr = (img0 + 0x380) * XPAGE;
	memset(d->mem + strings, 0, XPAGE);
	h->pa_extra = strings;
	h->pa_changeset = strings + 0x40;
	h->pa_compiler = strings + 0x100;
	h->pa_date = strings + 0x180;
	h->pa_time = strings + 0x1c0;
	put_str(d->mem + h->pa_extra, xen_extra);
	put_str(d->mem + h->pa_changeset, xen_changeset);
	put_str(d->mem + h->pa_compiler, xen_compiler);
	put_str(d->mem + h->pa_date, xen_compile_date);
	put_str(d->mem + h->pa_time, xen_compile_time);
	if (h->idle_pg_table / XPAGE >= img0 + XEN_IMAGE_PAGES)
		die("internal error: idle_pg_table outside the image laid out");
}

/* The other RAM frames hold other domains' and free memory until handed
 * out, in a random order; Xen gives no domain a frame of the first MiB (and
 * no p2m entry may be 0, which readers take for "not present"). */
static void host_free_frames(struct dump *d, struct host_plan *h)
{
	h->pool = xcalloc(h->nmach, sizeof *h->pool);
	for (uint64_t m = 0; m < h->nmach; m++)
		if (d->state[m] == PG_DUMPED && !h->used[m]) {
			fill_salted(d, 0x6f74686572ull, m, d->mem + m * XPAGE);
			if (m >= 0x100)
				h->pool[h->npool++] = m;
		}
	shuffle_u64(h->pool, h->npool, &h->r);
	if (h->npool < 64 + (uint64_t)h->ncpu)
		die("--ram too small for --format xen-kdump");
}

/* dom0's pseudo-physical layout (Linux PV dom0: its E820 mirrors the
 * host's, non-RAM regions are identity-mapped, ballooned-out pages are
 * INVALID_P2M_ENTRY): half of the free frames. */
static void dom0_layout(struct host_plan *h)
{
	struct dom0 *z = &h->z;
	uint64_t n0 = (h->npool - (uint64_t)h->ncpu - 16) / 2;

	h->n0 = n0;
	h->ram0 = xcalloc(n0 + 1, sizeof *h->ram0);
	if (n0 >= 0x400) {
		uint64_t left = n0, pfn = 0, k = 0;
		z->id_start = 0xa0;
		z->id_end = 0xff;
		for (; pfn < 0xa0; pfn++, left--)
			h->ram0[k++] = pfn;
		pfn = 0x100;
		uint64_t half = pfn + left / 2;
		for (; pfn < half; pfn++, left--)
			h->ram0[k++] = pfn;
		z->balloon_start = pfn;
		z->balloon_end = pfn + 31;
		pfn += 32;
		for (; left; pfn++, left--)
			h->ram0[k++] = pfn;
		z->max_pfn = pfn;
	} else {
		for (uint64_t k = 0; k < n0; k++)
			h->ram0[k] = k;
		z->max_pfn = n0;
	}
	z->ram_pages = n0;
	z->nleaves = (z->max_pfn + P2M_PER_PAGE - 1) / P2M_PER_PAGE;
	z->nmid = (z->nleaves + P2M_PER_PAGE - 1) / P2M_PER_PAGE;
	if (z->nmid > P2M_PER_PAGE)
		die("dom0 too large for a 3-level p2m tree");
	z->p2m = xcalloc(z->nleaves * P2M_PER_PAGE, sizeof *z->p2m);
	for (uint64_t p = 0; p < z->nleaves * P2M_PER_PAGE; p++)
		z->p2m[p] = INVALID_P2M_ENTRY;
	if (z->id_end)
		for (uint64_t p = z->id_start; p <= z->id_end; p++)
			z->p2m[p] = p | IDENTITY_FRAME_BIT;
}

/* Frames: the tree (frame list list, frame lists, leaves, Linux's
 * p2m_missing leaf and p2m_mid_missing_mfn list), the CPUs' crash notes
 * (Xen's heap), dom0's pages; the rest stay other memory. */
static void dom0_frames(struct host_plan *h)
{
	struct dom0 *z = &h->z;

	if (5 + z->nmid + z->nleaves + (uint64_t)h->ncpu + h->n0 > h->npool)
		die("--ram too small for --format xen-kdump");
	z->fll_mfn = h->pool[h->next++];
	h->mid0 = h->next;
	h->next += z->nmid;
	h->leaf0 = h->next;
	h->next += z->nleaves;
	h->missing_leaf = h->pool[h->next++];
	h->mid_missing = h->pool[h->next++];
	h->notes0 = h->next;
	h->next += (uint64_t)h->ncpu;
	for (uint64_t k = 0; k < h->n0; k++)
		z->p2m[h->ram0[k]] = h->pool[h->next++];
	h->dom0_pgd = z->p2m[h->ram0[h->n0 / 3]]; /* a page table of dom0's */
}

/* dom0's memory and its VMCOREINFO, at their frames in machine memory. */
static void dom0_memory(struct dump *d, struct host_plan *h)
{
	const struct opts *o = &d->o;
	struct dom0 *z = &h->z;
	const uint64_t n0 = h->n0;

	z->state = xcalloc(z->max_pfn, 1);
	z->mem = xcalloc(z->max_pfn, XPAGE);
	for (uint64_t k = 0; k < n0; k++) {
		z->state[h->ram0[k]] = PG_DUMPED;
		fill_salted(d, 0x646f6d30ull, h->ram0[k], z->mem + h->ram0[k] * XPAGE);
	}
	z->vmci_note = h->ram0[n0 * 2 / 5];
	z->vmci_data = h->ram0[n0 * 2 / 5 + 5];
	if (o->vmcoreinfo) {
		h->vmci = guest_vmcoreinfo(d);
		place_vmcoreinfo(h->vmci, z->mem + z->vmci_note * XPAGE, z->mem + z->vmci_data * XPAGE);
	}
	/* --xen-p2m-out-of-range: dom0 pfns whose entry names a frame that
	 * is no machine RAM: past its end, in a hole of it, past 2^40.
	 * Their pages cannot be had: EIO, not holes. */
	uint64_t hole_mfn = UINT64_MAX;
	for (uint64_t m = 0; m < h->nmach && hole_mfn == UINT64_MAX; m++)
		if (d->state[m] != PG_DUMPED)
			hole_mfn = m;
	for (int i = 0; i < o->xen.out_of_range; i++) {
		uint64_t k = (uint64_t)(i + 1) * n0 / ((uint64_t)o->xen.out_of_range + 2);
		uint64_t pfn = h->ram0[k];
		if (pfn == z->vmci_note || pfn == z->vmci_data)
			pfn = h->ram0[k + 1];
		uint64_t bad = i % 3 == 0 ? h->nmach + 0x100 + (uint64_t)i
			     : i % 3 == 1 && hole_mfn != UINT64_MAX ? hole_mfn
			     : (1ull << 40) + (uint64_t)i;
		z->p2m[pfn] = bad;
		if (!(z->state[pfn] & PG_LOST))
			z->eio_pages++;
		z->state[pfn] |= PG_LOST;
	}
	for (uint64_t p = 0; p < z->max_pfn; p++)
		if (z->state[p] == PG_DUMPED)
			memcpy(d->mem + z->p2m[p] * XPAGE, z->mem + p * XPAGE, XPAGE);
	for (uint64_t p = 0; p < z->max_pfn; p++)
		if (z->state[p] & PG_LOST)
			memset(z->mem + p * XPAGE, 0, XPAGE);
}

/* The tree, as xen_build_mfn_list_list() leaves it: unused entries of the
 * frame list list name p2m_mid_missing_mfn, unused ones of a frame list
 * name p2m_missing, whose entries are all ~0. */
static void dom0_p2m_tree(struct dump *d, const struct host_plan *h)
{
	const struct dom0 *z = &h->z;
	uint8_t *fll = d->mem + z->fll_mfn * XPAGE;

	for (int i = 0; i < P2M_PER_PAGE; i++)
		put64(fll + 8 * i, (uint64_t)i < z->nmid ? h->pool[h->mid0 + i] : h->mid_missing);
	for (uint64_t mi = 0; mi < z->nmid; mi++) {
		uint8_t *mid = d->mem + h->pool[h->mid0 + mi] * XPAGE;
		for (uint64_t i = 0; i < P2M_PER_PAGE; i++) {
			uint64_t leaf = mi * P2M_PER_PAGE + i;
			put64(mid + 8 * i, leaf < z->nleaves ? h->pool[h->leaf0 + leaf] : h->missing_leaf);
		}
	}
	for (uint64_t li = 0; li < z->nleaves; li++) {
		uint8_t *leaf = d->mem + h->pool[h->leaf0 + li] * XPAGE;
		for (uint64_t i = 0; i < P2M_PER_PAGE; i++)
			put64(leaf + 8 * i, z->p2m[li * P2M_PER_PAGE + i]);
	}
	for (int i = 0; i < P2M_PER_PAGE; i++) {
		put64(d->mem + h->missing_leaf * XPAGE + 8 * i, INVALID_P2M_ENTRY);
		put64(d->mem + h->mid_missing * XPAGE + 8 * i, h->missing_leaf);
	}
}

/* Crash notes: per CPU "CORE" NT_PRSTATUS and "Xen" CRASH_REGS, CPU 0 also
 * "Xen" CRASH_INFO (kexec_init_cpu_notes()), each CPU's in a buffer of
 * Xen's heap; the capture kernel's PT_NOTE has them in CPU order, then
 * VMCOREINFO_XEN. */
static void host_notes(struct dump *d, struct host_plan *h)
{
	uint8_t *ci = h->crash_info;

	put64(ci + 0, 4);
	put64(ci + 8, 17);
	put64(ci + 16, h->pa_extra);
	put64(ci + 24, h->pa_changeset);
	put64(ci + 32, h->pa_compiler);
	put64(ci + 40, h->pa_date);
	put64(ci + 48, h->pa_time);
	put64(ci + 56, 0); /* tainted */
	put64(ci + 64, h->xps);
	put64(ci + 72, h->z.fll_mfn);
	d->prstatus = xcalloc((size_t)h->ncpu, sizeof *d->prstatus);
	d->prstatus_size = PRSTATUS_SIZE;
	h->cregs = xcalloc((size_t)h->ncpu, CRASH_REGS_SIZE);
	for (int c = 0; c < h->ncpu; c++) {
		struct xregs rg;
		/* CPU 0 was running dom0: its cr3 a page table of dom0's */
		host_regs(c, h->idle_pg_table, h->dom0_pgd * XPAGE, &rg);
		/* ELF_Gregset's thread_fs/thread_gs are MSR_FS_BASE/MSR_GS_BASE */
		d->prstatus[c] = prstatus_from_regs(&rg, 0, rg.gs_base_kernel);
		put64(h->cregs[c] + 0, rg.cr[0]);
		put64(h->cregs[c] + 8, rg.cr[2]);
		put64(h->cregs[c] + 16, rg.cr[3]);
		put64(h->cregs[c] + 24, rg.cr[4]);
		struct buf one = { 0 };
		add_note(&one, "CORE", NT_PRSTATUS, d->prstatus[c], PRSTATUS_SIZE);
		add_note(&one, "Xen", XEN_ELFNOTE_CRASH_REGS, h->cregs[c], CRASH_REGS_SIZE);
		if (!c)
			add_note(&one, "Xen", XEN_ELFNOTE_CRASH_INFO, ci, CRASH_INFO_SIZE);
		if (one.len > XPAGE)
			die("internal error: crash notes over a page");
		uint8_t *heap = d->mem + h->pool[h->notes0 + (uint64_t)c] * XPAGE;
		memset(heap, 0, XPAGE);
		memcpy(heap + 0x40, one.p, one.len);
		buf_add(&h->notes, one.p, one.len);
		free(one.p);
	}
	h->xv = xcalloc(XEN_VMCI_DESCSZ, 1);
	memcpy(h->xv, xen_vmci, strlen(xen_vmci));
	size_t xv_desc = add_note(&h->notes, "VMCOREINFO_XEN", 0, h->xv, XEN_VMCI_DESCSZ);
	memcpy(d->mem + h->vmci_maddr, h->notes.p + xv_desc - 28, VMCOREINFO_BYTES);
}

/* Xen's and dom0's keys of OUT.info. */
static void host_info(const struct host_plan *h, FILE *f)
{
	const struct dom0 *z = &h->z;

	fprintf(f, "xen_version=4.17\n");
	fprintf(f, "xen_extra_version=%s\n", xen_extra);
	fprintf(f, "xen_changeset=%s\n", xen_changeset);
	fprintf(f, "xen_compiler=%s\n", xen_compiler);
	fprintf(f, "xen_compile_date=%s\n", xen_compile_date);
	fprintf(f, "xen_compile_time=%s\n", xen_compile_time);
	fprintf(f, "xen_phys_start=%#" PRIx64 "\n", h->xps);
	fprintf(f, "xen_p2m_mfn=%#" PRIx64 "\n", z->fll_mfn);
	fprintf(f, "xen_vmcoreinfo_maddr=%#" PRIx64 "\n", h->vmci_maddr);
	fprintf(f, "xen_vmcoreinfo_descsz=%d\n", XEN_VMCI_DESCSZ);
	fprintf(f, "xen_crash_notes_maddr=%#" PRIx64 "\n", h->pool[h->notes0] * XPAGE + 0x40);
	fprintf(f, "xen_idle_pg_table=%#" PRIx64 "\n", h->idle_pg_table);
	fprintf(f, "dom0_max_pfn=%" PRIu64 "\n", z->max_pfn);
	fprintf(f, "dom0_mem_size=%" PRIu64 "\n", z->max_pfn * XPAGE);
	fprintf(f, "dom0_ram_pages=%" PRIu64 "\n", z->ram_pages);
	fprintf(f, "dom0_eio_pages=%" PRIu64 "\n", z->eio_pages);
	fprintf(f, "dom0_p2m_leaves=%" PRIu64 "\n", z->nleaves);
	if (z->id_end)
		fprintf(f, "dom0_identity=%#" PRIx64 "-%#" PRIx64 "\n", z->id_start, z->id_end);
	if (z->balloon_end)
		fprintf(f, "dom0_ballooned=%#" PRIx64 "-%#" PRIx64 "\n", z->balloon_start,
			z->balloon_end);
	/* what /dom0/mem shows of a p2m entry: an mfn of machine RAM, its
	 * page; ~0 (missing) and IDENTITY_FRAME (I/O, not RAM), a hole; any
	 * other mfn, EIO. /dom0/mem ends after the last pfn with an mfn. */
	fprintf(f, "dom0_rule=mfn:page,invalid:hole,identity:hole,no-ram:eio\n");
	fprintf(f, "dom0_vmcoreinfo=%d\n", h->vmci != NULL);
	if (h->vmci) {
		fprintf(f, "dom0_vmcoreinfo_note_pfn=%" PRIu64 "\n", z->vmci_note);
		fprintf(f, "dom0_vmcoreinfo_data_pfn=%" PRIu64 "\n", z->vmci_data);
	}
}

/* The vmcore (write_elf() with these notes) and what a reader must show. */
static void host_write(struct dump *d, const struct host_plan *h)
{
	const char *out = d->o.out;
	const struct dom0 *z = &h->z;

	d->elf_notes = &h->notes;
	write_elf(d);
	d->has_notes = true;
	d->has_vmcoreinfo = false; /* no "VMCOREINFO" note: Xen's is VMCOREINFO_XEN */
	write_expected(d);

	for (int c = 0; c < h->ncpu; c++) {
		char suffix[64];
		snprintf(suffix, sizeof suffix, ".cpu%d.xen_crash_regs", c);
		write_blob(out, suffix, h->cregs[c], CRASH_REGS_SIZE);
	}
	write_blob(out, ".xen_crash_info", h->crash_info, CRASH_INFO_SIZE);
	write_blob(out, ".xen_vmcoreinfo", xen_vmci, strlen(xen_vmci));
	char *base = file_name(out, ".dom0");
	write_page_files(base, z->state, z->mem, z->max_pfn, XPAGE, NULL);
	if (h->vmci)
		write_blob(base, ".vmcoreinfo", h->vmci, strlen(h->vmci));
	FILE *f = open_expect(base, ".p2m");
	for (uint64_t p = 0; p < z->max_pfn; p++)
		fprintf(f, "%#" PRIx64 " %#" PRIx64 "\n", p, z->p2m[p]);
	close_expect(f);
	free(base);

	char *info = file_name(out, ".info");
	f = fopen(info, "a");
	if (!f)
		die("cannot append to %s", info);
	free(info);
	host_info(h, f);
	if (ferror(f) || fclose(f))
		die("writing %s.info failed", out);
}

static void host_free(struct dump *d, struct host_plan *h)
{
	for (int c = 0; c < h->ncpu; c++)
		free(d->prstatus[c]);
	free(d->prstatus);
	free(h->cregs);
	free(h->notes.p);
	free(h->xv);
	free(h->vmci);
	free(h->z.p2m);
	free(h->z.state);
	free(h->z.mem);
	free(h->ram0);
	free(h->pool);
	free(h->used);
	free(d->state);
	free(d->mem);
}

void write_xen_kdump(struct dump *d)
{
	struct host_plan h = { .r = { mix64(d->o.seed ^ 0x78656e6b64756d70ull) }, .ncpu = d->o.cpus };

	host_machine(d, &h);
	host_xen_image(d, &h);
	host_free_frames(d, &h);
	dom0_layout(&h);
	dom0_frames(&h);
	dom0_memory(d, &h);
	dom0_p2m_tree(d, &h);
	host_notes(d, &h);
	host_write(d, &h);
	host_free(d, &h);
}
