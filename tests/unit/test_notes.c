/*
 * test_notes.c - ELF note parsing, appending and VMCOREINFO lookup.
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
#include "format/format.h"

#define NT_PRSTATUS 1

static const char vmci_text[] =
	"OSRELEASE=6.1.0-test\n"
	"PAGESIZE=4096\n"
	"SYMBOL(swapper_pg_dir)=ffffffff82a0a000\n"
	"NUMBER(phys_base)=0\n"
	"PAGESIZE_EXTRA=1\n"
	"CRASHTIME=1700000000";          /* no trailing newline */

/* A growable note blob written in byte order @e. */
struct blob { uint8_t *p; size_t len; };

static size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }

static size_t add_note_raw(struct blob *b, struct endian e, uint32_t namesz, uint32_t descsz,
			   uint32_t type, const void *name, size_t name_bytes,
			   const void *desc, size_t desc_bytes)
{
	size_t at = b->len;
	size_t rec = 12 + pad4(name_bytes) + pad4(desc_bytes);
	b->p = realloc(b->p, b->len + rec);
	assert_non_null(b->p);
	memset(b->p + at, 0, rec);
	put32(e, b->p + at, namesz);
	put32(e, b->p + at + 4, descsz);
	put32(e, b->p + at + 8, type);
	memcpy(b->p + at + 12, name, name_bytes);
	if (desc_bytes)
		memcpy(b->p + at + 12 + pad4(name_bytes), desc, desc_bytes);
	b->len += rec;
	return at;
}

static size_t add_note(struct blob *b, struct endian e, const char *name, uint32_t type,
		       const void *desc, size_t descsz)
{
	size_t nsz = strlen(name) + 1;
	return add_note_raw(b, e, (uint32_t)nsz, (uint32_t)descsz, type, name, nsz, desc, descsz);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/* The notes a QEMU kdump of a 2-CPU guest carries. */
static struct blob standard_blob(struct endian e, size_t offs[5])
{
	struct blob b = {0};
	uint8_t pr0[336], pr1[336], q0[0x1b8], q1[0x1b8];
	fill(pr0, sizeof(pr0), 1);
	fill(pr1, sizeof(pr1), 2);
	fill(q0, sizeof(q0), 3);
	fill(q1, sizeof(q1), 4);
	offs[0] = add_note(&b, e, "CORE", NT_PRSTATUS, pr0, sizeof(pr0));
	offs[1] = add_note(&b, e, "QEMU", 0, q0, sizeof(q0));
	offs[2] = add_note(&b, e, "CORE", NT_PRSTATUS, pr1, sizeof(pr1));
	offs[3] = add_note(&b, e, "QEMU", 0, q1, sizeof(q1));
	offs[4] = add_note(&b, e, "VMCOREINFO", 0, vmci_text, strlen(vmci_text));
	return b;
}

static void check_standard(const struct note_set *ns, const uint8_t *blob)
{
	uint8_t pr1[336], q0[0x1b8];
	fill(pr1, sizeof(pr1), 2);
	fill(q0, sizeof(q0), 3);

	assert_int_equal(ns->count, 5);
	assert_int_equal(ns->nprstatus, 2);
	assert_int_equal(ns->nqemu, 2);
	assert_int_equal(ns->prstatus[0], 0);
	assert_int_equal(ns->prstatus[1], 2);
	assert_int_equal(ns->qemu[0], 1);
	assert_int_equal(ns->qemu[1], 3);
	assert_string_equal(ns->list[0].name, "CORE");
	assert_int_equal(ns->list[0].type, NT_PRSTATUS);
	assert_int_equal(ns->list[0].descsz, 336);
	assert_string_equal(ns->list[1].name, "QEMU");
	assert_int_equal(ns->list[1].descsz, 0x1b8);
	assert_memory_equal(ns->list[1].desc, q0, sizeof(q0));
	assert_memory_equal(ns->list[2].desc, pr1, sizeof(pr1));
	assert_string_equal(ns->list[4].name, "VMCOREINFO");
	assert_non_null(ns->vmcoreinfo);
	assert_int_equal(ns->vmcoreinfo_len, strlen(vmci_text));
	assert_memory_equal(ns->vmcoreinfo, vmci_text, strlen(vmci_text));
	assert_null(ns->eraseinfo);
	/* raw records tile the blob */
	size_t at = 0;
	for (size_t i = 0; i < ns->count; i++) {
		if (blob)
			assert_ptr_equal(ns->list[i].raw, blob + at);
		assert_int_equal(ns->list[i].rawsz % 4, 0);
		at += ns->list[i].rawsz;
	}
	assert_int_equal(at, ns->size);
}

static void test_well_formed(void **state)
{
	(void)state;
	for (int big = 0; big < 2; big++) {
		struct endian e = { big };
		size_t offs[5];
		struct blob b = standard_blob(e, offs);
		struct note_set ns = {0};
		char warn[ERRMSG_MAX] = "";
		assert_int_equal(notes_parse(&ns, b.p, b.len, e, warn, sizeof(warn)), DUMPFS_OK);
		assert_string_equal(warn, "");
		check_standard(&ns, b.p);
		for (int i = 0; i < 5; i++)
			assert_ptr_equal(ns.list[i].raw, b.p + offs[i]);
		notes_free(&ns);
		assert_null(ns.blob);
		assert_int_equal(ns.count, 0);
	}
}

static void test_wrong_endian(void **state)
{
	(void)state;
	/* BE notes read as LE: sizes are absurd, nothing is indexed */
	size_t offs[5];
	struct blob b = standard_blob((struct endian){ true }, offs);
	struct note_set ns = {0};
	char warn[ERRMSG_MAX] = "";
	assert_int_equal(notes_parse(&ns, b.p, b.len, (struct endian){ false }, warn, sizeof(warn)),
			 DUMPFS_OK);
	assert_int_equal(ns.count, 0);
	assert_string_not_equal(warn, "");
	notes_free(&ns);
}

static void test_trailing_padding(void **state)
{
	(void)state;
	struct endian e = { false };
	size_t offs[5];
	struct blob b = standard_blob(e, offs);
	/* zero padding after the last note, as PT_NOTE segments often have */
	b.p = realloc(b.p, b.len + 64);
	memset(b.p + b.len, 0, 64);
	b.len += 64;
	struct note_set ns = {0};
	char warn[ERRMSG_MAX] = "";
	assert_int_equal(notes_parse(&ns, b.p, b.len, e, warn, sizeof(warn)), DUMPFS_OK);
	assert_string_equal(warn, "");
	assert_int_equal(ns.count, 5);
	notes_free(&ns);
}

static void test_empty(void **state)
{
	(void)state;
	struct note_set ns = {0};
	char warn[ERRMSG_MAX] = "";
	char out[16];
	assert_int_equal(notes_parse(&ns, NULL, 0, (struct endian){ false }, warn, sizeof(warn)),
			 DUMPFS_OK);
	assert_int_equal(ns.count, 0);
	assert_int_equal(ns.nprstatus, 0);
	assert_null(ns.vmcoreinfo);
	assert_false(vmcoreinfo_get(&ns, "PAGESIZE", out, sizeof(out)));
	/* a blob shorter than one note header */
	uint8_t *tiny = calloc(1, 8);
	notes_free(&ns);
	assert_int_equal(notes_parse(&ns, tiny, 8, (struct endian){ false }, warn, sizeof(warn)),
			 DUMPFS_OK);
	assert_int_equal(ns.count, 0);
	notes_free(&ns);
}

static void test_desc_past_end(void **state)
{
	(void)state;
	for (int big = 0; big < 2; big++) {
		struct endian e = { big };
		struct blob b = {0};
		uint8_t d[64];
		fill(d, sizeof(d), 9);
		add_note(&b, e, "CORE", NT_PRSTATUS, d, sizeof(d));
		add_note(&b, e, "QEMU", 0, d, 16);
		/* claims 4096 bytes of descriptor, has 16 */
		size_t bad = add_note_raw(&b, e, 11, 4096, 0, "VMCOREINFO", 11, d, 16);
		add_note(&b, e, "CORE", NT_PRSTATUS, d, sizeof(d));
		struct note_set ns = {0};
		char warn[ERRMSG_MAX] = "";
		assert_int_equal(notes_parse(&ns, b.p, b.len, e, warn, sizeof(warn)), DUMPFS_OK);
		assert_int_equal(ns.count, 2);
		assert_int_equal(ns.nprstatus, 1);
		assert_int_equal(ns.nqemu, 1);
		assert_null(ns.vmcoreinfo);
		assert_non_null(strstr(warn, "past"));
		char off[32];
		snprintf(off, sizeof(off), "offset %zu", bad);
		assert_non_null(strstr(warn, off));
		notes_free(&ns);
	}

	/* descsz of UINT32_MAX and namesz of UINT32_MAX: no overflow */
	struct endian e = { false };
	struct blob b = {0};
	add_note_raw(&b, e, 5, UINT32_MAX, 1, "CORE", 5, NULL, 0);
	struct note_set ns = {0};
	char warn[ERRMSG_MAX] = "";
	assert_int_equal(notes_parse(&ns, b.p, b.len, e, warn, sizeof(warn)), DUMPFS_OK);
	assert_int_equal(ns.count, 0);
	assert_string_not_equal(warn, "");
	notes_free(&ns);
	b = (struct blob){0};
	add_note_raw(&b, e, UINT32_MAX, 0, 1, "CORE", 5, NULL, 0);
	add_note_raw(&b, e, 0xfffffffd, 4, 1, "CORE", 5, "abcd", 4);
	warn[0] = '\0';
	assert_int_equal(notes_parse(&ns, b.p, b.len, e, warn, sizeof(warn)), DUMPFS_OK);
	assert_int_equal(ns.count, 0);
	assert_string_not_equal(warn, "");
	notes_free(&ns);
}

static void test_unterminated_name(void **state)
{
	(void)state;
	struct endian e = { false };
	struct blob b = {0};
	uint8_t d[32] = {0};
	add_note(&b, e, "CORE", NT_PRSTATUS, d, sizeof(d));
	/* namesz 4 over "QEMU" with no NUL */
	size_t bad = add_note_raw(&b, e, 4, 8, 0, "QEMU", 4, d, 8);
	add_note(&b, e, "CORE", NT_PRSTATUS, d, sizeof(d));
	struct note_set ns = {0};
	char warn[ERRMSG_MAX] = "";
	assert_int_equal(notes_parse(&ns, b.p, b.len, e, warn, sizeof(warn)), DUMPFS_OK);
	assert_int_equal(ns.count, 1);
	assert_int_equal(ns.nqemu, 0);
	assert_non_null(strstr(warn, "unterminated"));
	char off[32];
	snprintf(off, sizeof(off), "offset %zu", bad);
	assert_non_null(strstr(warn, off));
	/* every indexed name is a C string inside the blob */
	for (size_t i = 0; i < ns.count; i++) {
		const uint8_t *n = (const uint8_t *)ns.list[i].name;
		assert_true(n >= ns.blob && n < ns.blob + ns.size);
		assert_non_null(memchr(n, 0, (size_t)(ns.blob + ns.size - n)));
	}
	notes_free(&ns);

	/* the warning buffer may be NULL */
	b = (struct blob){0};
	add_note_raw(&b, e, 4, 0, 0, "ABCD", 4, NULL, 0);
	assert_int_equal(notes_parse(&ns, b.p, b.len, e, NULL, 0), DUMPFS_OK);
	assert_int_equal(ns.count, 0);
	notes_free(&ns);
}

static void test_append(void **state)
{
	(void)state;
	for (int big = 0; big < 2; big++) {
		struct endian e = { big };
		struct blob b = {0};
		uint8_t pr[336];
		fill(pr, sizeof(pr), 5);
		add_note(&b, e, "CORE", NT_PRSTATUS, pr, sizeof(pr));
		struct note_set ns = {0};
		char warn[ERRMSG_MAX] = "";
		assert_int_equal(notes_parse(&ns, b.p, b.len, e, warn, sizeof(warn)), DUMPFS_OK);
		assert_int_equal(ns.count, 1);
		assert_null(ns.vmcoreinfo);

		assert_int_equal(notes_append(&ns, e, "VMCOREINFO", 0, vmci_text, strlen(vmci_text)),
				 DUMPFS_OK);
		assert_int_equal(ns.count, 2);
		assert_non_null(ns.vmcoreinfo);
		assert_int_equal(ns.vmcoreinfo_len, strlen(vmci_text));
		assert_memory_equal(ns.vmcoreinfo, vmci_text, strlen(vmci_text));
		/* the earlier note survived the move */
		assert_int_equal(ns.nprstatus, 1);
		assert_string_equal(ns.list[0].name, "CORE");
		assert_memory_equal(ns.list[0].desc, pr, sizeof(pr));
		/* and the blob is a valid note stream in the dump's order */
		assert_int_equal(get32(e, ns.blob + ns.list[0].rawsz), 11);
		assert_int_equal(get32(e, ns.blob + ns.list[0].rawsz + 4), strlen(vmci_text));

		static const char erase[] = "erase foo size 4\n";
		assert_int_equal(notes_append(&ns, e, "ERASEINFO", 0, erase, 5), DUMPFS_OK);
		assert_int_equal(ns.count, 3);
		assert_non_null(ns.eraseinfo);
		assert_int_equal(ns.eraseinfo_len, 5);
		assert_memory_equal(ns.eraseinfo, erase, 5);
		char v[32];
		assert_true(vmcoreinfo_get(&ns, "PAGESIZE", v, sizeof(v)));
		assert_string_equal(v, "4096");
		notes_free(&ns);
	}

	/* Appending to nothing. */
	struct note_set ns = {0};
	assert_int_equal(notes_append(&ns, (struct endian){ false }, "VMCOREINFO", 0, "A=1\n", 4),
			 DUMPFS_OK);
	assert_int_equal(ns.count, 1);
	char v[8];
	assert_true(vmcoreinfo_get(&ns, "A", v, sizeof(v)));
	assert_string_equal(v, "1");
	/* empty descriptor */
	assert_int_equal(notes_append(&ns, (struct endian){ false }, "X", 7, NULL, 0), DUMPFS_OK);
	assert_int_equal(ns.count, 2);
	assert_int_equal(ns.list[1].descsz, 0);
	assert_int_equal(ns.list[1].type, 7);
	notes_free(&ns);
}

/* Appending after a malformed note drops the malformed tail. */
static void test_append_after_bad(void **state)
{
	(void)state;
	struct endian e = { false };
	struct blob b = {0};
	uint8_t d[32] = {0};
	add_note(&b, e, "CORE", NT_PRSTATUS, d, sizeof(d));
	add_note_raw(&b, e, 5, 999, 0, "QEMU", 5, d, 8);
	struct note_set ns = {0};
	char warn[ERRMSG_MAX] = "";
	assert_int_equal(notes_parse(&ns, b.p, b.len, e, warn, sizeof(warn)), DUMPFS_OK);
	assert_int_equal(ns.count, 1);
	assert_int_equal(notes_append(&ns, e, "VMCOREINFO", 0, vmci_text, strlen(vmci_text)),
			 DUMPFS_OK);
	assert_int_equal(ns.count, 2);
	assert_string_equal(ns.list[1].name, "VMCOREINFO");
	assert_int_equal(ns.size, ns.list[0].rawsz + ns.list[1].rawsz);
	assert_non_null(ns.vmcoreinfo);
	notes_free(&ns);
}

static void test_vmcoreinfo_get(void **state)
{
	(void)state;
	struct endian e = { false };
	size_t offs[5];
	struct blob b = standard_blob(e, offs);
	struct note_set ns = {0};
	char v[64];
	assert_int_equal(notes_parse(&ns, b.p, b.len, e, NULL, 0), DUMPFS_OK);

	assert_true(vmcoreinfo_get(&ns, "OSRELEASE", v, sizeof(v)));
	assert_string_equal(v, "6.1.0-test");
	assert_true(vmcoreinfo_get(&ns, "PAGESIZE", v, sizeof(v)));
	assert_string_equal(v, "4096");         /* not PAGESIZE_EXTRA's */
	assert_true(vmcoreinfo_get(&ns, "PAGESIZE_EXTRA", v, sizeof(v)));
	assert_string_equal(v, "1");
	assert_true(vmcoreinfo_get(&ns, "SYMBOL(swapper_pg_dir)", v, sizeof(v)));
	assert_string_equal(v, "ffffffff82a0a000");
	/* the last line has no newline */
	memset(v, 'x', sizeof(v));
	assert_true(vmcoreinfo_get(&ns, "CRASHTIME", v, sizeof(v)));
	assert_string_equal(v, "1700000000");
	/* absent keys, prefixes and suffixes of keys */
	assert_false(vmcoreinfo_get(&ns, "KERNELOFFSET", v, sizeof(v)));
	assert_false(vmcoreinfo_get(&ns, "PAGE", v, sizeof(v)));
	assert_false(vmcoreinfo_get(&ns, "SIZE", v, sizeof(v)));
	assert_false(vmcoreinfo_get(&ns, "OSRELEASE=6", v, sizeof(v)));
	assert_false(vmcoreinfo_get(&ns, "CRASHTIME1", v, sizeof(v)));
	/* truncation to the output buffer */
	char small[5];
	assert_true(vmcoreinfo_get(&ns, "OSRELEASE", small, sizeof(small)));
	assert_string_equal(small, "6.1.");
	char one[1] = { 'x' };
	assert_true(vmcoreinfo_get(&ns, "OSRELEASE", one, sizeof(one)));
	assert_int_equal(one[0], '\0');
	notes_free(&ns);

	/* VMCOREINFO with a NUL inside: the text stops there; empty value;
	 * a key at the very end with "=" and nothing else */
	static const char odd[] = "A=1\nEMPTY=\nB=2\0C=3\n";
	b = (struct blob){0};
	add_note(&b, e, "VMCOREINFO", 0, odd, sizeof(odd) - 1);
	assert_int_equal(notes_parse(&ns, b.p, b.len, e, NULL, 0), DUMPFS_OK);
	assert_int_equal(ns.vmcoreinfo_len, strlen(odd));
	assert_true(vmcoreinfo_get(&ns, "B", v, sizeof(v)));
	assert_string_equal(v, "2");
	assert_false(vmcoreinfo_get(&ns, "C", v, sizeof(v)));
	assert_true(vmcoreinfo_get(&ns, "EMPTY", v, sizeof(v)));
	assert_string_equal(v, "");
	notes_free(&ns);

	/* two VMCOREINFO notes: the first one counts */
	b = (struct blob){0};
	add_note(&b, e, "VMCOREINFO", 0, "K=first\n", 8);
	add_note(&b, e, "VMCOREINFO", 0, "K=second\n", 9);
	assert_int_equal(notes_parse(&ns, b.p, b.len, e, NULL, 0), DUMPFS_OK);
	assert_true(vmcoreinfo_get(&ns, "K", v, sizeof(v)));
	assert_string_equal(v, "first");
	notes_free(&ns);

	/* text ending in "KEY" with no '=' at the very end of the note */
	b = (struct blob){0};
	add_note(&b, e, "VMCOREINFO", 0, "X=1\nKEY", 7);
	assert_int_equal(notes_parse(&ns, b.p, b.len, e, NULL, 0), DUMPFS_OK);
	assert_false(vmcoreinfo_get(&ns, "KEY", v, sizeof(v)));
	assert_true(vmcoreinfo_get(&ns, "X", v, sizeof(v)));
	notes_free(&ns);
}

/* A swap that knows NT_PRSTATUS only, as 8-byte words. */
static bool swap_prstatus(const char *name, uint32_t type, uint8_t *desc, uint32_t descsz)
{
	if (strcmp(name, "CORE") || type != NT_PRSTATUS)
		return false;
	swap_each(desc, descsz, 8);
	return true;
}

/* notes_reorder: headers in the new order, text notes unchanged, known
 * descriptors swapped, unknown ones left out and counted; the padded name
 * size survives. */
static void test_reorder(void **state)
{
	(void)state;
	const struct endian be = { true }, le = { false };
	size_t offs[5];
	struct blob b = standard_blob(be, offs);
	/* a name padded inside namesz, as some producers write it */
	add_note_raw(&b, be, 8, 8, NT_PRSTATUS, "CORE\0\0\0", 8, "\1\2\3\4\5\6\7\10", 8);
	struct note_set in = {0}, out;
	size_t dropped = 99;
	assert_int_equal(notes_parse(&in, b.p, b.len, be, NULL, 0), DUMPFS_OK);
	assert_int_equal(notes_reorder(&out, &in, le, swap_prstatus, &dropped), DUMPFS_OK);
	assert_int_equal(dropped, 2);                   /* the two QEMU notes */
	assert_int_equal(out.count, 4);
	assert_int_equal(out.nprstatus, 3);
	assert_int_equal(out.nqemu, 0);
	for (size_t i = 0; i < 2; i++) {
		const struct note *o = &out.list[out.prstatus[i]], *n = &in.list[in.prstatus[i]];
		assert_int_equal(o->descsz, n->descsz);
		for (uint32_t w = 0; w + 8 <= n->descsz; w += 8)
			assert_int_equal(get64(le, o->desc + w), get64(be, n->desc + w));
	}
	assert_int_equal(out.list[3].namesz, 8);
	assert_int_equal(get64(le, out.list[3].desc), 0x0102030405060708ull);
	assert_non_null(out.vmcoreinfo);
	assert_memory_equal(out.vmcoreinfo, vmci_text, strlen(vmci_text));
	/* and back: the same bytes as the original, but for the dropped */
	struct note_set back;
	assert_int_equal(notes_reorder(&back, &out, be, swap_prstatus, &dropped), DUMPFS_OK);
	assert_int_equal(dropped, 0);
	assert_memory_equal(back.list[0].raw, in.list[0].raw, in.list[0].rawsz);
	assert_memory_equal(back.list[3].raw, in.list[5].raw, in.list[5].rawsz);
	notes_free(&back);
	notes_free(&out);
	notes_free(&in);

	/* no swap function: only the text notes remain */
	b = standard_blob(be, offs);
	assert_int_equal(notes_parse(&in, b.p, b.len, be, NULL, 0), DUMPFS_OK);
	assert_int_equal(notes_reorder(&out, &in, le, NULL, &dropped), DUMPFS_OK);
	assert_int_equal(dropped, 4);
	assert_int_equal(out.count, 1);
	assert_string_equal(out.list[0].name, "VMCOREINFO");
	notes_free(&out);
	notes_free(&in);
}

/* ppc64's register notes as QEMU writes them big-endian, turned to the
 * little-endian layout the kernel's regsets have. */
static void test_ppc64_swap(void **state)
{
	(void)state;
	const struct endian be = { true }, le = { false };
	uint8_t pr[512] = {0}, vmx[544] = {0}, spe[140] = {0}, odd[16] = {0};
	put32(be, pr + 32, 1);                          /* pr_pid */
	put64(be, pr + 112 + 32 * 8, 0xc000000000012345ull);    /* nip */
	put64(be, pr + 112 + 33 * 8, 0x8000000000001033ull);    /* msr */
	put16(be, pr + 12, 11);                         /* pr_cursig */
	assert_true(ppc64_arch.note_swap("CORE", NT_PRSTATUS, pr, sizeof(pr)));
	assert_int_equal(get32(le, pr + 32), 1);
	assert_int_equal(get16(le, pr + 12), 11);
	assert_int_equal(get64(le, pr + 112 + 32 * 8), 0xc000000000012345ull);
	assert_int_equal(get64(le, pr + 112 + 33 * 8), 0x8000000000001033ull);

	/* v0 = 0x00010203...0f as one 128-bit number, VSCR in the last word
	 * big-endian, VRSAVE in the first word of its slot */
	for (int i = 0; i < 16; i++)
		vmx[i] = (uint8_t)i;
	put32(be, vmx + 32 * 16 + 12, 0x10001);         /* vscr */
	put32(be, vmx + 33 * 16, 0xdeadbeef);           /* vrsave */
	assert_true(ppc64_arch.note_swap("CORE", 0x100, vmx, sizeof(vmx)));
	for (int i = 0; i < 16; i++)
		assert_int_equal(vmx[i], 15 - i);
	assert_int_equal(get32(le, vmx + 32 * 16), 0x10001);
	assert_int_equal(get32(le, vmx + 33 * 16), 0xdeadbeef);

	put32(be, spe + 4, 7);
	put64(be, spe + 128, 0x1122334455667788ull);
	put32(be, spe + 136, 9);
	assert_true(ppc64_arch.note_swap("CORE", 0x101, spe, sizeof(spe)));
	assert_int_equal(get32(le, spe + 4), 7);
	assert_int_equal(get64(le, spe + 128), 0x1122334455667788ull);
	assert_int_equal(get32(le, spe + 136), 9);

	/* what it does not know, or cannot hold, it refuses */
	assert_false(ppc64_arch.note_swap("CORE", 0x4711, odd, sizeof(odd)));
	assert_false(ppc64_arch.note_swap("QEMU", NT_PRSTATUS, pr, sizeof(pr)));
	assert_false(ppc64_arch.note_swap("CORE", NT_PRSTATUS, odd, sizeof(odd)));
	assert_false(ppc64_arch.note_swap("CORE", 0x100, odd, sizeof(odd)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_well_formed),
		cmocka_unit_test(test_wrong_endian),
		cmocka_unit_test(test_trailing_padding),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_desc_past_end),
		cmocka_unit_test(test_unterminated_name),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_append_after_bad),
		cmocka_unit_test(test_vmcoreinfo_get),
		cmocka_unit_test(test_reorder),
		cmocka_unit_test(test_ppc64_swap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
