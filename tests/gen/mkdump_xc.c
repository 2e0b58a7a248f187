/*
 * mkdump_xc.c - --format xc: a domain's dump as `xl dump-core` writes it
 * (mkdump_xen.c says what it holds and what a reader must do).
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
/* xc_core: a domain's dump                                            */

enum ent_kind { ENT_PAGE, ENT_JUNK, ENT_ZERO };

/* One entry of .xen_p2m/.xen_pfn and the page at the same index of
 * .xen_pages. */
struct xc_ent {
	uint64_t pfn, gmfn;
	enum ent_kind kind;
	uint64_t tag; /* junk pages: what their bytes derive from */
};

struct entv { struct xc_ent *e; size_t n, cap; };

static void ent_insert(struct entv *v, size_t at, struct xc_ent e)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 1024;
		v->e = xrealloc(v->e, v->cap * sizeof *v->e);
	}
	memmove(v->e + at + 1, v->e + at, (v->n - at) * sizeof *v->e);
	v->e[at] = e;
	v->n++;
}

/* xc_core_arch_gpfn_may_present() (xg_core_x86.c): pfns xc_core never
 * dumps for an auto-translated guest, the VGA hole and the MMIO hole
 * below 4 GiB (HVM_BELOW_4G_MMIO_START 0xf0000000) */
static bool hvm_gpfn_may_present(uint64_t pfn)
{
	return !((pfn >= 0xa0 && pfn < 0xc0) || (pfn >= 0xf0000 && pfn < 0x100000));
}

/*
 * A guest vCPU as arch_get_info_guest() (xen/arch/x86/domctl.c) returns
 * it, in the kernel.  PV: flags carry VGCF_in_kernel, cs/ss are the flat
 * ring-3 selectors a 64-bit PV kernel runs on (FLAT_KERNEL_CS64 0xe033,
 * FLAT_KERNEL_SS64 0xe02b), cr3 and cr1 (the user page table) are
 * xen_pfn_to_cr3() of MACHINE frames, the trap table and callbacks are
 * the kernel's.  HVM: no VGCF_in_kernel, the guest's own selectors and
 * control registers (cr3 a guest-physical address), no PV state.
 * Every register differs per CPU; gs_base_user is not 0 so that a reader
 * taking it for gs_base_kernel shows.
 */
static void guest_regs(int cpu, bool hvm, uint64_t cr3, struct xregs *r)
{
	uint64_t c = (uint64_t)cpu;
	memset(r, 0, sizeof *r);
	for (int i = 0; i < 15; i++) /* "GST", cpu, register index */
		r->gpr[i] = 0x4753540000000000ull | (c << 16) | (uint64_t)i;
	r->gpr[4] = 0xffffc90000013e80ull + c * 0x4000; /* rbp */
	r->rip = 0xffffffff81a3c4d0ull + c * 0x10;
	r->rsp = 0xffffc90000013e40ull + c * 0x4000;
	r->rflags = 0x246;
	r->cs = hvm ? 0x10 : 0xe033;
	r->ss = hvm ? 0x18 : 0xe02b;
	r->fs_base = 0x00007f3a5c4e0740ull + c * 0x1000;
	r->gs_base_kernel = 0xffff88807fc00000ull + c * 0x40000;
	r->gs_base_user = 0x00007f3a5c000000ull + c * 0x1000;
	r->cr[0] = 0x80050033;
	r->cr[2] = 0x00005624a1c0f000ull + c * 0x1000;
	r->cr[3] = cr3;
	r->cr[4] = hvm ? 0x3706f0 : 0x2660;
	r->dr[6] = 0xffff0ff0;
	r->dr[7] = 0x400;
}

static uint8_t *vcpu_context(const struct xregs *r, bool hvm, uint64_t gdt_mfn, uint64_t user_cr3)
{
	uint8_t *p = xcalloc(VGC_SIZE, 1);
	uint8_t *u = p + VGC_USER_REGS;

	/* FXSAVE area after fninit: FCW 0x37f, MXCSR 0x1f80, its mask */
	put16(p, 0x037f);
	put32(p + 24, 0x1f80);
	put32(p + 28, 0xffff);
	put64(p + VGC_FLAGS, VGCF_I387_VALID | VGCF_ONLINE | (hvm ? 0 : VGCF_IN_KERNEL));
	for (int i = 0; i < 15; i++)
		put64(u + 8 * i, r->gpr[i]);
	put64(u + CUR_RIP, r->rip);
	put16(u + CUR_CS, r->cs);
	put64(u + CUR_RFLAGS, r->rflags);
	put64(u + CUR_RSP, r->rsp);
	put16(u + CUR_SS, r->ss);
	put16(u + CUR_ES, r->es);
	put16(u + CUR_DS, r->ds);
	put16(u + CUR_FS, r->fs);
	put16(u + CUR_GS, r->gs);
	if (!hvm) {
		/* the PV kernel's trap table: vector, DPL flags, cs, handler */
		for (int v = 0; v < 32; v++) {
			uint8_t *t = p + VGC_TRAP_CTXT + 16 * v;
			t[0] = (uint8_t)v;
			t[1] = v == 3 || v == 4 ? 3 : 0;
			put16(t + 2, 0xe033);
			put64(t + 8, 0xffffffff81c00000ull + 0x40 * (uint64_t)v);
		}
		put64(p + VGC_GDT_FRAMES, gdt_mfn);
		put64(p + VGC_GDT_ENTS, 16);
		put64(p + VGC_KERNEL_SS, 0xe02b);
		put64(p + VGC_KERNEL_SP, r->rsp + 0x1c0);
		put64(p + VGC_EVENT_CB, 0xffffffff81c01400ull);
		put64(p + VGC_FAILSAFE_CB, 0xffffffff81c01480ull);
		put64(p + VGC_SYSCALL_CB, 0xffffffff81c00080ull);
		put64(p + VGC_VM_ASSIST, 1u << 2); /* VMASST_TYPE_writable_pagetables */
	}
	for (int i = 0; i < 8; i++) {
		put64(p + VGC_CTRLREG + 8 * i, r->cr[i]);
		put64(p + VGC_DEBUGREG + 8 * i, r->dr[i]);
	}
	if (!hvm)
		put64(p + VGC_CTRLREG + 8, user_cr3); /* x86_64 PV: user page table in cr1 */
	put64(p + VGC_FS_BASE, r->fs_base);
	put64(p + VGC_GS_BASE_KERNEL, r->gs_base_kernel);
	put64(p + VGC_GS_BASE_USER, r->gs_base_user);
	return p;
}

static void xen_version_desc(uint8_t *p)
{
	memset(p, 0, XV_SIZE);
	put64(p + 0, 4);
	put64(p + 8, 17);
	put_str(p + 16, xen_extra);
	put_str(p + 32, xen_compiler);
	put_str(p + 96, xen_compile_by);
	put_str(p + 112, xen_compile_domain);
	put_str(p + 144, xen_compile_date);
	put_str(p + 176, xen_caps);
	put_str(p + 1200, xen_changeset);
	put64(p + 1264, 0xffff800000000000ull); /* HYPERVISOR_VIRT_START, 64-bit PV */
	put64(p + 1272, XPAGE);
}

/* .note.Xen as xc_core.c writes it: struct elfnote (namesz 4, descsz,
 * type, "Xen\0") then the descriptor, for none, header, version, format. */
static void xc_note(uint8_t **p, uint32_t type, const uint8_t *desc, uint32_t len)
{
	put32(*p, 4);
	put32(*p + 4, len);
	put32(*p + 8, type);
	memcpy(*p + 12, "Xen", 4);
	if (len)
		memcpy(*p + 16, desc, len);
	*p += 16 + len;
}

static void shared_info_page(uint8_t *p, const struct dump *d, bool hvm, int cpus,
			     uint64_t max_pfn, uint64_t fll_gmfn, uint64_t p2m_cr3)
{
	memset(p, 0, XPAGE);
	for (int c = 0; c < cpus && c < 32; c++) {
		uint8_t *v = p + 64 * c;
		put64(v + 8, 0);                                   /* evtchn_pending_sel */
		put64(v + 16, 0x00005624a1c0f000ull + 0x1000 * (uint64_t)c); /* arch.cr2 */
		put32(v + 32, 2);                                  /* time.version */
		put64(v + 40, 0x2d5d8a36f1c0ull + 977 * (uint64_t)c); /* tsc_timestamp */
		put64(v + 48, 0x4a817c8000ull + 1000 * (uint64_t)c);  /* system_time */
		put32(v + 56, 0xcccccccc);                         /* tsc_to_system_mul */
		p[64 * c + 60] = 0xff;                             /* tsc_shift -1 */
	}
	memset(p + SI_EVTCHN_MASK, 0xff, 8); /* a few masked ports */
	put32(p + SI_WC_VERSION, 2);
	put32(p + SI_WC_VERSION + 4, (uint32_t)(1700000000 + d->o.seed % 1000000)); /* wc_sec */
	put32(p + SI_WC_VERSION + 8, 123456789);                                    /* wc_nsec */
	if (!hvm) {
		/* what a PV Linux publishes (xen_setup_mfn_list_list(), and its
		 * linear p2m list at p2m_vaddr in the address space of p2m_cr3) */
		put64(p + SI_ARCH, max_pfn);
		put64(p + SI_ARCH + 8, fll_gmfn);
		put64(p + SI_ARCH + 24, p2m_cr3);
		put64(p + SI_ARCH + 32, 0xffffc90000a00000ull);
		put64(p + SI_ARCH + 40, 0);
	}
}

/* A page that is no pfn's content: bytes from @tag, stamped with the pfn
 * field of its entry (so it still looks plausible) and "XENJUNK". */
static void junk_page(const struct dump *d, const struct xc_ent *e, uint8_t *p)
{
	fill_salted(d, 0x4a554e4bull, e->tag, p);
	put64(p, e->pfn);
	memcpy(p + 8, "XENJUNK", 8);
}

struct xc_sec { const char *name; uint32_t type; uint64_t off, size, align, entsize; uint32_t nameoff; };
enum { S_NULL, S_STRTAB, S_NOTE, S_PRSTATUS, S_SHINFO, S_PAGES, S_ARRAY, S_COUNT };

/* What write_xc() decides, phase by phase, for the next to use. */
struct xc_plan {
	bool hvm;
	struct rng r;
	uint8_t *state;                 /* per pfn: PG_DUMPED, PG_LOST */
	uint64_t max_pfn, nvalid, skipped;
	uint64_t *pfns, *perm, *gmfn_of, gmfn_base;
	struct entv v;                  /* the table, in file order */
	uint64_t nr_pages;
	uint64_t vmci_note, vmci_data, pgd_pfn, gdt_pfn, fll_pfn;
	uint64_t dup_pfn;
	size_t dup_first, dup_second;
	int ncpu;
	uint8_t **ctx;                  /* each vCPU's vcpu_guest_context */
	uint8_t notes[XC_NOTES_SIZE];
	uint8_t *shinfo, *arr;
	size_t entsz;
	struct xc_sec s[S_COUNT];
	struct buf strtab;
	uint64_t file_size, bad_size, cut;
	size_t lost_from;
};

/* Which pfns xc_core dumps: the RAM's (PV: every pfn whose p2m entry is a
 * valid mfn; HVM: what gpfn_may_present allows of it), and their bytes. */
static void xc_choose_pages(struct dump *d, struct xc_plan *p)
{
	const struct opts *o = &d->o;
	uint64_t last = o->ram[o->nram - 1].end;

	p->state = xcalloc(last + 1, 1);
	for (size_t i = 0; i < o->nram; i++)
		for (uint64_t pfn = o->ram[i].start; pfn <= o->ram[i].end; pfn++) {
			d->ram_pages++;
			if (p->hvm && !hvm_gpfn_may_present(pfn)) {
				p->skipped++;
				continue;
			}
			p->state[pfn] = PG_DUMPED;
			p->max_pfn = pfn + 1;
			p->nvalid++;
		}
	if (!p->nvalid)
		die("no page left to dump");
	d->max_mapnr = p->max_pfn;
	d->state = p->state;
	d->dumped_pages = p->nvalid;
	d->excluded_pages = p->skipped;
	d->mem = xcalloc(p->max_pfn, XPAGE);
	for (uint64_t pfn = 0; pfn < p->max_pfn; pfn++)
		if (p->state[pfn] == PG_DUMPED)
			fill_page(d, pfn, d->mem + pfn * XPAGE);
}

/* The valid entries: pfn order unless shuffled; PV gmfns are a permutation
 * of frames above every pfn, so gmfn != pfn always.  Then where the kernel
 * keeps VMCOREINFO, its page tables, its GDT: pfns of entries at 40% and
 * 30% of the file, before anything a --xen-truncate-pages cut loses. */
static void xc_valid_entries(struct dump *d, struct xc_plan *p)
{
	uint64_t n = p->nvalid, k = 0;

	p->pfns = xcalloc(n, sizeof *p->pfns);
	for (uint64_t pfn = 0; pfn < p->max_pfn; pfn++)
		if (p->state[pfn] == PG_DUMPED)
			p->pfns[k++] = pfn;
	p->perm = xcalloc(n, sizeof *p->perm);
	for (k = 0; k < n; k++)
		p->perm[k] = k;
	shuffle_u64(p->perm, n, &p->r);
	p->gmfn_base = (p->max_pfn + 0x10000) & ~0xffffull;
	p->gmfn_of = xcalloc(p->max_pfn, sizeof *p->gmfn_of);
	for (k = 0; k < n; k++)   /* scattered, not dense */
		p->gmfn_of[p->pfns[k]] = p->gmfn_base + 2 * p->perm[k] + (p->perm[k] & 1);
	if (d->o.xen.shuffle)
		shuffle_u64(p->pfns, n, &p->r);
	for (k = 0; k < n; k++) {
		uint64_t pfn = p->pfns[k];
		ent_insert(&p->v, p->v.n, (struct xc_ent){ pfn, p->hvm ? pfn : p->gmfn_of[pfn], ENT_PAGE, 0 });
	}

	p->vmci_note = p->pfns[n * 2 / 5];
	p->vmci_data = p->pfns[(n * 2 / 5 + 3) % n];
	if (d->o.vmcoreinfo) {
		if (p->vmci_note == p->vmci_data)
			die("--ram too small to hold VMCOREINFO");
		d->vmcoreinfo = guest_vmcoreinfo(d);
		place_vmcoreinfo(d->vmcoreinfo, d->mem + p->vmci_note * XPAGE, d->mem + p->vmci_data * XPAGE);
		d->has_vmcoreinfo = true;
	}
	p->pgd_pfn = p->pfns[n * 3 / 10];
	p->gdt_pfn = p->pfns[(n * 3 / 10 + 1) % n];
	p->fll_pfn = p->pfns[(n * 3 / 10 + 2) % n];
}

/* The entries a damaged or padded table adds, each with its page. */
static void xc_odd_entries(struct dump *d, struct xc_plan *p)
{
	const struct xen_opts *x = &d->o.xen;
	struct entv *v = &p->v;

	/* --xen-dup-pfn: a later entry names the pfn of the entry at 20%
	 * again, with a junk page.  xc_core writes every pfn once, so this
	 * is damage, and a reader must pick one: the first entry in file
	 * order wins (what a reader building its index in one pass keeps,
	 * and what crash finds, searching the array forward). */
	if (x->dup_pfn) {
		p->dup_first = p->nvalid / 5;
		p->dup_pfn = v->e[p->dup_first].pfn;
		if (p->dup_pfn == p->vmci_note || p->dup_pfn == p->vmci_data || p->dup_pfn == p->pgd_pfn)
			die("--ram too small for --xen-dup-pfn");
	}

	/* --xen-p2m-out-of-range: entries naming pfns no x86_64 machine has
	 * (a physical address is at most 52 bits: pfn < 2^40), ~0 among
	 * them, anywhere in the array, with junk pages */
	uint64_t tag = 1;
	for (int i = 0; i < x->out_of_range; i++) {
		uint64_t u = (uint64_t)i, pfn;
		switch (i % 4) {
		case 0: pfn = (1ull << 40) + 0x1001 * u; break;
		case 1: pfn = 0x8000000000000000ull | u; break;
		case 2: pfn = 0xfffffffffffffff0ull - u; break;
		default: pfn = XC_CORE_INVALID_PFN; break;
		}
		struct xc_ent e = { pfn, p->hvm ? pfn : 0xdead00000ull + (uint64_t)i, ENT_JUNK, tag++ };
		ent_insert(v, (size_t)rng_below(&p->r, v->n + 1), e);
	}
	if (x->dup_pfn) {
		for (size_t i = 0; i < v->n; i++)
			if (v->e[i].pfn == p->dup_pfn && v->e[i].kind == ENT_PAGE)
				p->dup_first = i;
		p->dup_second = p->dup_first + 1 + (size_t)rng_below(&p->r, v->n - p->dup_first);
		ent_insert(v, p->dup_second, (struct xc_ent){ p->dup_pfn, p->hvm ? p->dup_pfn : p->gmfn_base - 1,
							      ENT_JUNK, tag++ });
	}
	/* xc_core's own padding when the domain had fewer pages than
	 * nr_pages said (an HVM guest's video RAM sits in the MMIO hole it
	 * skips): zero pages, pfn and gmfn ~0, at the end */
	for (int i = 0; i < x->invalid_tail; i++)
		ent_insert(v, v->n, (struct xc_ent){ XC_CORE_INVALID_PFN, XC_CORE_INVALID_GMFN, ENT_ZERO, 0 });
	p->nr_pages = v->n;
}

/* The vCPUs and what a reader presents of each. */
static void xc_vcpus(struct dump *d, struct xc_plan *p)
{
	const bool hvm = p->hvm;
	const uint64_t n = p->nvalid;

	p->ncpu = d->o.cpus;
	p->ctx = xcalloc((size_t)p->ncpu, sizeof *p->ctx);
	d->prstatus = xcalloc((size_t)p->ncpu, sizeof *d->prstatus);
	d->prstatus_size = PRSTATUS_SIZE;
	for (int c = 0; c < p->ncpu; c++) {
		/* odd CPUs run some process: another page table; PV's cr1
		 * (the user page table) is a page of its own */
		struct xregs rg;
		uint64_t pgd = c % 2 ? p->pfns[(n * 3 / 10 + 3 + (uint64_t)c) % n] : p->pgd_pfn;
		uint64_t user = p->pfns[(n * 3 / 10 + 20 + (uint64_t)c) % n];
		uint64_t cr3 = (hvm ? pgd : p->gmfn_of[pgd]) << 12;
		guest_regs(c, hvm, cr3, &rg);
		p->ctx[c] = vcpu_context(&rg, hvm, hvm ? 0 : p->gmfn_of[p->gdt_pfn],
					 hvm ? 0 : p->gmfn_of[user] << 12);
		/*
		 * gs_base: gs_base_kernel.  Every vCPU here is in the kernel,
		 * where the kernel's own GS base (its per-CPU area) is the one
		 * in effect: Xen's HVM code stores the active base there when
		 * in ring 0 and PV keeps it there, and QEMU's dump-guest-memory
		 * likewise writes the active GS base of a vCPU into the
		 * NT_PRSTATUS it makes.  (Linux's own kdump notes carry the
		 * inactive, user, base there instead; crash reads only rip and
		 * rsp from .xen_prstatus, libkdumpfile neither base.)
		 * orig_rax: -1, as for a vCPU not in a system call.
		 */
		d->prstatus[c] = prstatus_from_regs(&rg, ~0ull, rg.gs_base_kernel);
	}
}

/* .note.Xen, .xen_shared_info and the table's bytes. */
static void xc_contents(struct dump *d, struct xc_plan *p)
{
	uint8_t *np = p->notes;
	uint8_t hdr[XCH_SIZE], ver[XV_SIZE], fmt[8];

	put64(hdr, p->hvm ? XC_CORE_MAGIC_HVM : XC_CORE_MAGIC);
	put64(hdr + 8, (uint64_t)p->ncpu);
	put64(hdr + 16, p->nr_pages);
	put64(hdr + 24, XPAGE);
	xen_version_desc(ver);
	put64(fmt, XEN_DUMPCORE_FORMAT_VERSION_CURRENT);
	xc_note(&np, XEN_ELFNOTE_DUMPCORE_NONE, NULL, 0);
	xc_note(&np, XEN_ELFNOTE_DUMPCORE_HEADER, hdr, XCH_SIZE);
	xc_note(&np, XEN_ELFNOTE_DUMPCORE_XEN_VERSION, ver, XV_SIZE);
	xc_note(&np, XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION, fmt, 8);

	p->shinfo = xcalloc(XPAGE, 1);
	shared_info_page(p->shinfo, d, p->hvm, p->ncpu, p->max_pfn, p->gmfn_of[p->fll_pfn],
			 p->gmfn_of[p->pgd_pfn] << 12);

	p->entsz = p->hvm ? 8 : 16;
	p->arr = xcalloc(p->nr_pages, p->entsz);
	for (size_t i = 0; i < p->nr_pages; i++) {
		put64(p->arr + p->entsz * i, p->v.e[i].pfn);
		if (!p->hvm)
			put64(p->arr + p->entsz * i + 8, p->v.e[i].gmfn);
	}
}

/* Section headers as xc_core.c sets them (sh_flags 0, sh_addralign
 * __alignof__ of the element: 8 for the contexts, shared_info and the
 * arrays, PAGE_SIZE for the pages; sh_entsize its size), and where each
 * section lies. */
static void xc_layout(const struct xen_opts *x, struct xc_plan *p)
{
	struct xc_sec *s = p->s;
	const struct xc_sec init[S_COUNT] = {
		[S_NULL] = { "", 0, 0, 0, 0, 0, 0 },
		[S_STRTAB] = { ".shstrtab", SHT_STRTAB, 0, 0, 0, 0, 0 },
		[S_NOTE] = { ".note.Xen", SHT_NOTE, 0, XC_NOTES_SIZE, 0, 0, 0 },
		[S_PRSTATUS] = { ".xen_prstatus", SHT_PROGBITS, 0, (uint64_t)p->ncpu * VGC_SIZE, 8,
				 VGC_SIZE, 0 },
		[S_SHINFO] = { ".xen_shared_info", SHT_PROGBITS, 0, XPAGE, 8, XPAGE, 0 },
		[S_PAGES] = { ".xen_pages", SHT_PROGBITS, 0, p->nr_pages * XPAGE, XPAGE, XPAGE, 0 },
		[S_ARRAY] = { p->hvm ? ".xen_pfn" : ".xen_p2m", SHT_PROGBITS, 0, p->nr_pages * p->entsz, 8,
			      p->entsz, 0 },
	};
	memcpy(s, init, sizeof init);
	buf_add_zero(&p->strtab, 1);
	for (int i = S_STRTAB; i < S_COUNT; i++) {
		s[i].nameoff = (uint32_t)p->strtab.len;
		buf_add(&p->strtab, s[i].name, strlen(s[i].name) + 1);
	}
	s[S_STRTAB].size = p->strtab.len;

	uint64_t off = 64 + S_COUNT * 64;
	s[S_NOTE].off = off;
	off += s[S_NOTE].size;
	s[S_PRSTATUS].off = off;
	off += s[S_PRSTATUS].size;
	s[S_SHINFO].off = off;
	off += s[S_SHINFO].size;
	if (x->arrays_first) {
		/* legal too: "Analisys tools shouldn't depends on the order of
		 * sections" (xc_core.c) */
		s[S_ARRAY].off = off;
		off += s[S_ARRAY].size;
		s[S_STRTAB].off = off;
		off += s[S_STRTAB].size;
	}
	off = (off + XPAGE - 1) / XPAGE * XPAGE;
	s[S_PAGES].off = off;
	off += s[S_PAGES].size;
	if (!x->arrays_first) {
		s[S_ARRAY].off = off;
		off += s[S_ARRAY].size;
		s[S_STRTAB].off = off;
		off += s[S_STRTAB].size;
	}
	p->file_size = off;
	if (x->bad_section) {
		for (int i = S_STRTAB; i < S_COUNT; i++)
			if (!strcmp(s[i].name, x->bad_section)) {
				/* 4 GiB more: past EOF whatever the dump's size */
				s[i].size += 1ull << 32;
				p->bad_size = s[i].size;
			}
	}
}

/* Everything before .xen_pages, in one buffer. */
static void xc_image_head(const struct xen_opts *x, struct xc_plan *p, struct image *img)
{
	const struct xc_sec *s = p->s;
	uint64_t head_len = s[S_PAGES].off;
	uint8_t *h = xcalloc(head_len, 1);

	image_own(img, h);
	memcpy(h, "\177ELF", 4);
	h[4] = 2;  /* ELFCLASS64 */
	h[5] = 1;  /* ELFDATA2LSB */
	h[6] = 1;  /* EV_CURRENT */
	h[7] = 0;  /* ELFOSABI_SYSV */
	h[8] = 1;  /* EI_ABIVERSION = EV_CURRENT, as xc_core_ehdr_init() sets */
	put16(h + 16, 4);          /* ET_CORE */
	put16(h + 18, EM_X86_64);
	put32(h + 20, 1);          /* e_version */
	put64(h + 24, 0);          /* e_entry */
	put64(h + 32, 0);          /* e_phoff */
	put64(h + 40, 64);         /* e_shoff */
	put32(h + 48, 0);          /* e_flags: ELF_CORE_EFLAGS 0 */
	put16(h + 52, 64);         /* e_ehsize */
	put16(h + 54, 56);         /* e_phentsize: sizeof(Elf64_Phdr), no phdrs */
	put16(h + 56, 0);          /* e_phnum */
	put16(h + 58, 64);         /* e_shentsize */
	put16(h + 60, S_COUNT);    /* e_shnum */
	put16(h + 62, S_STRTAB);   /* e_shstrndx */
	for (int i = 1; i < S_COUNT; i++) {
		uint8_t *sh = h + 64 + 64 * i;
		put32(sh, s[i].nameoff);
		put32(sh + 4, s[i].type);
		put64(sh + 8, 0);          /* sh_flags */
		put64(sh + 16, 0);         /* sh_addr */
		put64(sh + 24, s[i].off);
		put64(sh + 32, s[i].size);
		put32(sh + 40, 0);         /* sh_link */
		put32(sh + 44, 0);         /* sh_info */
		put64(sh + 48, s[i].align);
		put64(sh + 56, s[i].entsize);
	}
	memcpy(h + s[S_NOTE].off, p->notes, XC_NOTES_SIZE);
	for (int c = 0; c < p->ncpu; c++)
		memcpy(h + s[S_PRSTATUS].off + (uint64_t)c * VGC_SIZE, p->ctx[c], VGC_SIZE);
	memcpy(h + s[S_SHINFO].off, p->shinfo, XPAGE);
	if (x->arrays_first) {
		memcpy(h + s[S_ARRAY].off, p->arr, p->nr_pages * p->entsz);
		memcpy(h + s[S_STRTAB].off, p->strtab.p, p->strtab.len);
	}
	image_add(img, 0, h, head_len);
}

/* .xen_pages, in the entries' order, and what follows it. */
static void xc_image_pages(struct dump *d, struct xc_plan *p, struct image *img)
{
	const struct xc_sec *s = p->s;
	uint8_t *zero = xcalloc(XPAGE, 1), *junk = NULL;
	size_t njunk = 0;

	image_own(img, zero);
	for (size_t i = 0; i < p->nr_pages; i++)
		njunk += p->v.e[i].kind == ENT_JUNK;
	if (njunk)
		image_own(img, junk = xcalloc(njunk, XPAGE));
	for (size_t i = 0, j = 0; i < p->nr_pages; i++) {
		const struct xc_ent *e = &p->v.e[i];
		const uint8_t *page = e->kind == ENT_PAGE ? d->mem + e->pfn * XPAGE : zero;
		if (e->kind == ENT_JUNK) {
			uint8_t *pg = junk + XPAGE * j++;
			junk_page(d, e, pg);
			page = pg;
		}
		image_add(img, s[S_PAGES].off + XPAGE * i, page, XPAGE);
	}
	if (!d->o.xen.arrays_first) {
		image_add(img, s[S_ARRAY].off, image_own(img, p->arr), p->nr_pages * p->entsz);
		p->arr = NULL;
		image_add(img, s[S_STRTAB].off, p->strtab.p, p->strtab.len);
	}
	img->size = p->file_size;
}

/* --xen-truncate-pages: the file ends in the middle of the page at 80% of
 * .xen_pages; that page and all after it are lost.  The first entry of a
 * pfn is its page (as for --xen-dup-pfn) even when lost. */
static void xc_truncate(struct dump *d, struct xc_plan *p, struct image *img)
{
	p->lost_from = p->nr_pages;
	if (!d->o.xen.truncate_pages)
		return;
	p->lost_from = p->nr_pages * 4 / 5;
	p->cut = p->s[S_PAGES].off + XPAGE * p->lost_from + XPAGE / 2;
	image_truncate(img, p->cut);
	for (size_t i = p->lost_from; i < p->nr_pages; i++) {
		const struct xc_ent *e = &p->v.e[i];
		bool first = e->kind == ENT_PAGE; /* junk is never a first entry */
		if (first && e->pfn < p->max_pfn)
			p->state[e->pfn] |= PG_LOST;
	}
	d->o.incomplete = true; /* OUT.info's incomplete=1 */
}

/* Xen's keys of OUT.info. */
static void xc_info(const struct dump *d, const struct xc_plan *p, FILE *f)
{
	const struct xen_opts *x = &d->o.xen;
	const struct xc_sec *s = p->s;

	fprintf(f, "xen_type=%s\n", p->hvm ? "hvm" : "pv");
	fprintf(f, "xen_magic=%#" PRIx64 "\n", (uint64_t)(p->hvm ? XC_CORE_MAGIC_HVM : XC_CORE_MAGIC));
	fprintf(f, "xen_version=4.17\n");
	fprintf(f, "xen_extra_version=%s\n", xen_extra);
	fprintf(f, "xen_format_version=1\n");
	fprintf(f, "nr_vcpus=%d\n", p->ncpu);
	fprintf(f, "nr_pages=%" PRIu64 "\n", p->nr_pages);
	fprintf(f, "xen_array=%s\n", s[S_ARRAY].name);
	fprintf(f, "xen_layout=%s\n", x->arrays_first ? "arrays-first" : "xen");
	fprintf(f, "xen_shuffle=%d\n", x->shuffle);
	fprintf(f, "xen_pages_offset=%#" PRIx64 "\n", s[S_PAGES].off);
	fprintf(f, "xen_array_offset=%#" PRIx64 "\n", s[S_ARRAY].off);
	fprintf(f, "xen_prstatus_offset=%#" PRIx64 "\n", s[S_PRSTATUS].off);
	fprintf(f, "xen_shared_info_offset=%#" PRIx64 "\n", s[S_SHINFO].off);
	fprintf(f, "xen_file_size=%" PRIu64 "\n", p->cut ? p->cut : p->file_size);
	fprintf(f, "xen_valid_entries=%" PRIu64 "\n", p->nvalid);
	fprintf(f, "xen_hvm_skipped_pages=%" PRIu64 "\n", p->skipped);
	/* entries a reader ignores: xc_core's padding (pfn ~0) and pfns
	 * past what an x86_64 physical address reaches */
	fprintf(f, "xen_invalid_entries=%d\n", x->invalid_tail);
	fprintf(f, "xen_out_of_range_entries=%d\n", x->out_of_range);
	fprintf(f, "xen_ignore_pfn_from=%#llx\n", 1ull << 40);
	if (!p->hvm)
		fprintf(f, "xen_gmfn_base=%#" PRIx64 "\n", p->gmfn_base);
	if (x->dup_pfn) {
		fprintf(f, "xen_dup_pfn=%" PRIu64 "\n", p->dup_pfn);
		fprintf(f, "xen_dup_first_index=%zu\n", p->dup_first);
		fprintf(f, "xen_dup_second_index=%zu\n", p->dup_second);
		fprintf(f, "xen_dup_rule=first\n");
	}
	if (x->truncate_pages)
		fprintf(f, "xen_truncated_at_index=%zu\n", p->lost_from);
	if (x->bad_section) {
		fprintf(f, "xen_bad_section=%s\n", x->bad_section);
		fprintf(f, "xen_bad_section_size=%#" PRIx64 "\n", p->bad_size);
		fprintf(f, "xen_bad_section_expect=served\n");
	}
	if (d->has_vmcoreinfo) {
		fprintf(f, "vmcoreinfo_where=memory\n");
		fprintf(f, "vmcoreinfo_note_pfn=%" PRIu64 "\n", p->vmci_note);
		fprintf(f, "vmcoreinfo_data_pfn=%" PRIu64 "\n", p->vmci_data);
	}
	fprintf(f, "xen_gs_base_from=gs_base_kernel\n");
}

/* Expected output: OUT.mem/.eio/.holes, OUT.cpuN.prstatus, OUT.vmcoreinfo,
 * OUT.info (standard keys); then Xen's. */
static void xc_expected(struct dump *d, const struct xc_plan *p)
{
	const char *out = d->o.out;

	d->has_notes = true;
	write_expected(d);
	for (int c = 0; c < p->ncpu; c++) {
		char suffix[64];
		snprintf(suffix, sizeof suffix, ".cpu%d.xen_context", c);
		write_blob(out, suffix, p->ctx[c], VGC_SIZE);
	}
	write_blob(out, ".xen_shared_info", p->shinfo, XPAGE);
	FILE *f = open_expect(out, ".xen_p2m");
	for (size_t i = 0; i < p->nr_pages; i++) {
		const struct xc_ent *e = &p->v.e[i];
		fprintf(f, "%zu %#" PRIx64 " %#" PRIx64 " %s\n", i, e->pfn, e->gmfn,
			e->kind == ENT_PAGE ? "page" : e->kind == ENT_JUNK ? "junk" : "zero");
	}
	close_expect(f);

	char *info = file_name(out, ".info");
	f = fopen(info, "a");
	if (!f)
		die("cannot append to %s", info);
	free(info);
	xc_info(d, p, f);
	if (ferror(f) || fclose(f))
		die("writing %s.info failed", out);
}

static void xc_free(struct dump *d, struct xc_plan *p)
{
	for (int c = 0; c < p->ncpu; c++) {
		free(p->ctx[c]);
		free(d->prstatus[c]);
	}
	free(p->ctx);
	free(d->prstatus);
	free(d->vmcoreinfo);
	free(p->arr);
	free(p->shinfo);
	free(p->v.e);
	free(p->pfns);
	free(p->perm);
	free(p->gmfn_of);
	free(p->strtab.p);
	free(p->state);
	free(d->mem);
}

void write_xc(struct dump *d)
{
	struct xen_opts *x = &d->o.xen;
	struct xc_plan p = { .hvm = x->hvm, .r = { mix64(d->o.seed ^ 0x78635f636f7265ull) } };
	struct image img = { 0 };

	if (x->invalid_tail < 0)
		x->invalid_tail = p.hvm ? 8 : 0;
	if (x->truncate_pages)
		x->arrays_first = true;
	xc_choose_pages(d, &p);
	xc_valid_entries(d, &p);
	xc_odd_entries(d, &p);
	xc_vcpus(d, &p);
	xc_contents(d, &p);
	xc_layout(x, &p);
	xc_image_head(x, &p, &img);
	xc_image_pages(d, &p, &img);
	xc_truncate(d, &p, &img);
	write_image(d, &img, d->o.out, 0);
	xc_expected(d, &p);
	image_free(&img);
	xc_free(d, &p);
}
