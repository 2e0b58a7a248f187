/*
 * mkdump_xen.c - Xen dumps for the dumpfs tests, written from Xen's own
 * definitions (Xen 4.17), never from the dumpfs reader:
 *
 *   tools/libs/guest/xg_core.{h,c}, xg_core_x86.{h,c}   the xc_core file
 *   xen/include/public/elfnote.h, version.h              note types, XENVER_*
 *   xen/include/public/xen.h, arch-x86/xen.h,
 *     arch-x86/xen-x86_64.h                              shared_info,
 *                                                        vcpu_guest_context
 *   xen/arch/x86/domctl.c (arch_get_info_guest)          what a context holds
 *   xen/include/xen/elfcore.h, xen/arch/x86/include/asm/elf.h,
 *     asm/x86_64/elf.h, xen/common/kexec.c,
 *     xen/arch/x86/crash.c, xen/include/xen/kexec.h      a Xen host's crash notes
 * and, for what surrounds them: kexec-tools' kexec/crashdump-elf.c (the
 * capture kernel's ELF header under Xen), Linux's arch/x86/xen/p2m.c (dom0's
 * p2m tree) and kernel/crash_core.c (VMCOREINFO in a kernel's memory).
 *
 * --format xc: a domain's dump as `xl dump-core` writes it (format version
 * 1, x86_64): ELF64 ET_CORE with no program headers; section headers, in
 * xc_core.c's order, null, .shstrtab, .note.Xen, .xen_prstatus,
 * .xen_shared_info, .xen_pages, .xen_p2m (PV) or .xen_pfn (HVM/PVH); the
 * data in the order ELF header, section headers, .note.Xen, .xen_prstatus,
 * .xen_shared_info, zeros to a page boundary, .xen_pages, .xen_p2m/.xen_pfn,
 * .shstrtab.  OUT.mem is the domain's pseudo-physical memory (pfn-indexed).
 *
 * --format xen-kdump: /proc/vmcore of the capture kernel after a Xen host
 * crashed: its PT_LOADs hold machine memory (--ram), its one PT_NOTE (the
 * capture kernel merges kexec-tools' per-CPU ones) per physical CPU a
 * "CORE" NT_PRSTATUS and a "Xen" XEN_ELFNOTE_CRASH_REGS, CPU 0 also the
 * "Xen" XEN_ELFNOTE_CRASH_INFO, then "VMCOREINFO_XEN".  dom0's memory lives
 * inside machine memory, found through the p2m tree that CRASH_INFO's last
 * word points at.  OUT.mem is machine memory, OUT.dom0.mem dom0's.
 *
 * Both are x86_64 and little-endian with 4 KiB pages only.
 *
 * Expected output, besides mkdump.c's OUT.mem/.eio/.holes/.info/.vmcoreinfo:
 *   xc:  OUT.cpuN.xen_context   the vCPU's vcpu_guest_context, as in .xen_prstatus
 *        OUT.cpuN.prstatus      the NT_PRSTATUS a reader makes of it (see write_xc)
 *        OUT.vmcoreinfo         the text the guest kernel keeps in its memory
 *        OUT.xen_shared_info    .xen_shared_info
 *        OUT.xen_p2m            "index pfn gmfn page|junk|zero" per entry
 *   xen-kdump:
 *        OUT.cpuN.prstatus      the "CORE" note's descriptor (Xen's registers)
 *        OUT.cpuN.xen_crash_regs  the XEN_ELFNOTE_CRASH_REGS descriptor
 *        OUT.xen_crash_info     the XEN_ELFNOTE_CRASH_INFO descriptor
 *        OUT.xen_vmcoreinfo     VMCOREINFO_XEN's text (its note is NUL-padded
 *                               to descsz 4068, as Xen's is)
 *        OUT.dom0.{mem,eio,holes,vmcoreinfo}  what /dom0/ shows of dom0
 *        OUT.dom0.p2m           "pfn entry" for every pfn below dom0_max_pfn
 *
 * What a correct reader must do where the input leaves a choice:
 *   - xc entries naming a pfn >= 2^40 (beyond a 52-bit physical address;
 *     ~0 is xc_core's own "invalid" padding) are ignored, with their pages;
 *   - of two entries naming one pfn, the first in file order gives its page,
 *     even when that page was cut off by truncation;
 *   - a page .xen_pages does not hold in full (file truncated) is EIO;
 *   - a section whose sh_size runs past EOF: the counts of the header note
 *     (nr_vcpus, nr_pages) still bound what is read, every page is served;
 *   - /mem of an xc dump ends after its highest pfn; holes are the pfns no
 *     entry names;
 *   - dom0: a p2m entry that is an mfn of machine RAM gives that frame,
 *     INVALID_P2M_ENTRY and IDENTITY_FRAME entries are holes, any other mfn
 *     (not RAM: past the end, in a hole, past 2^40) is EIO; /dom0/mem ends
 *     after the last pfn with an mfn.
 * OUT.info states each (xen_dup_rule, xen_ignore_pfn_from, dom0_rule, ...).
 *
 * This file: the options and the pieces both writers use; mkdump_xc.c
 * writes --format xc, mkdump_xen_host.c --format xen-kdump.
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
/* Options                                                             */

static bool is_array_section(const char *s)
{
	return !strcmp(s, ".xen_p2m") || !strcmp(s, ".xen_pfn");
}

void xen_check_opts(const struct opts *o)
{
	const struct xen_opts *x = &o->xen;
	bool xc = o->format == FMT_XC;

	if (o->arch != ARCH_X86_64 || o->layout != 64 || o->big_endian)
		usage("--format xc and xen-kdump are x86_64, 64-bit, little-endian");
	if (o->page_size != XPAGE)
		usage("--format xc and xen-kdump have 4096-byte pages");
	if (o->split > 1 || o->excluded || o->zero_pages || o->incomplete ||
	    o->corrupt_pages || o->qemu_notes || o->eraseinfo || o->pn_xnum || o->phys_base)
		usage("--format xc and xen-kdump take none of --split, --excluded, --zero-pages, "
		      "--incomplete, --corrupt-pages, --qemu-notes, --eraseinfo, --pn-xnum, "
		      "--phys-base (see the --xen-* options)");
	if (xc && o->flat)
		usage("xl dump-core writes no flattened files: --flat is for xen-kdump");
	if (!xc && (x->hvm || x->shuffle || x->arrays_first || x->invalid_tail >= 0 ||
		    x->dup_pfn || x->truncate_pages || x->bad_section))
		usage("--xen-type, --xen-shuffle, --xen-arrays-first, --xen-invalid-tail, "
		      "--xen-dup-pfn, --xen-truncate-pages and --xen-bad-section-size are for "
		      "--format xc");
	if (x->bad_section) {
		static const char *const names[] = { ".shstrtab", ".note.Xen", ".xen_prstatus",
						     ".xen_shared_info", ".xen_pages",
						     ".xen_p2m", ".xen_pfn" };
		bool ok = false;
		for (size_t i = 0; i < sizeof names / sizeof *names; i++)
			ok = ok || !strcmp(x->bad_section, names[i]);
		if (!ok)
			usage("--xen-bad-section-size: not a section of an xc_core file");
		if (is_array_section(x->bad_section) &&
		    strcmp(x->bad_section, x->hvm ? ".xen_pfn" : ".xen_p2m"))
			usage("--xen-bad-section-size: PV dumps have .xen_p2m, HVM ones .xen_pfn");
	}
}

/* ------------------------------------------------------------------ */
/* Shared pieces                                                       */

void put_str(uint8_t *p, const char *s)
{
	memcpy(p, s, strlen(s));
}

/* Page contents from fill_page() under another seed, so that pages of
 * different roles (a domain's, Xen's, free machine frames) never repeat
 * one another: a reader looking in the wrong place gets different bytes. */
void fill_salted(const struct dump *d, uint64_t salt, uint64_t pfn, uint8_t *p)
{
	struct dump t = *d;
	t.o.seed = mix64(d->o.seed ^ salt);
	fill_page(&t, pfn, p);
}

void shuffle_u64(uint64_t *a, size_t n, struct rng *r)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)rng_below(r, i);
		uint64_t t = a[i - 1];
		a[i - 1] = a[j];
		a[j] = t;
	}
}

/*
 * The VMCOREINFO text as a guest kernel holds it in memory.  It is the
 * text mkdump writes for the other formats without the CRASHTIME line:
 * crash_save_vmcoreinfo() adds that only when the kernel itself kexecs
 * into a crash kernel, which neither a domain dumped by `xl dump-core`
 * nor a PV dom0 (kexec goes through Xen) does.
 */
char *guest_vmcoreinfo(const struct dump *d)
{
	char *s = make_vmcoreinfo(d);
	char *c = strstr(s, "\nCRASHTIME=");
	if (c) {
		char *e = strchr(c + 1, '\n');
		if (e)
			memmove(c + 1, e + 1, strlen(e + 1) + 1);
		else
			c[1] = '\0';
	}
	return s;
}

/*
 * The two pages a Linux kernel keeps VMCOREINFO in (kernel/crash_core.c):
 * vmcoreinfo_data, a zeroed page holding the text, and vmcoreinfo_note,
 * zeroed pages holding it as an ELF note (namesz 11, descsz = the text's
 * length, type 0, "VMCOREINFO\0" padded to 12, the text padded to 4)
 * followed by an empty note header (final_note()).  Both are page-aligned
 * allocations, anywhere in RAM.
 */
void place_vmcoreinfo(const char *text, uint8_t *note_page, uint8_t *data_page)
{
	size_t len = strlen(text);
	if (len + 12 + 12 + 4 + 12 > XPAGE)
		die("VMCOREINFO text too long for a page");
	memset(data_page, 0, XPAGE);
	memcpy(data_page, text, len);
	memset(note_page, 0, XPAGE);
	put32(note_page, 11);
	put32(note_page + 4, (uint32_t)len);
	put32(note_page + 8, 0);
	memcpy(note_page + 12, "VMCOREINFO", 11);
	memcpy(note_page + 24, text, len);
	/* final_note(): 12 zero bytes after the padded text, already zero */
}

/*
 * NT_PRSTATUS descriptor: the 27 pr_reg words in user_regs_struct order
 * r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs
 * eflags rsp ss fs_base gs_base ds es fs gs; everything else 0 (pr_pid too).
 */
uint8_t *prstatus_from_regs(const struct xregs *r, uint64_t orig_rax, uint64_t gs_base)
{
	uint8_t *p = xcalloc(PRSTATUS_SIZE, 1);
	uint64_t reg[27];
	memcpy(reg, r->gpr, sizeof r->gpr);
	reg[15] = orig_rax;
	reg[16] = r->rip;
	reg[17] = r->cs;
	reg[18] = r->rflags;
	reg[19] = r->rsp;
	reg[20] = r->ss;
	reg[21] = r->fs_base;
	reg[22] = gs_base;
	reg[23] = r->ds;
	reg[24] = r->es;
	reg[25] = r->fs;
	reg[26] = r->gs;
	for (int i = 0; i < 27; i++)
		put64(p + PR_REG + 8 * i, reg[i]);
	return p;
}


void write_xen(struct dump *d)
{
	if (d->o.format == FMT_XC)
		write_xc(d);
	else
		write_xen_kdump(d);
}
