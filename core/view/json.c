/*
 * json.c - /header.json (and `dumpfs info --json`): the facts of /header as
 * one JSON object for scripts.  The keys are a stable interface, documented
 * in docs/dumpfs.1; a new fact gets a new key, an old key keeps its meaning.
 * Strings from the dump (paths, note owners, VMCOREINFO values) are escaped
 * so that any dump gives valid JSON.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <string.h>

#include "view/view.h"

static void key(struct strbuf *sb, const char *name)
{
	sb_printf(sb, ",\n  \"%s\": ", name);
}

static void str_or_null(struct strbuf *sb, const char *s)
{
	if (s)
		sb_json_string(sb, s, strlen(s));
	else
		sb_printf(sb, "null");
}

static void vmcoreinfo_value(struct strbuf *sb, const struct note_set *ns, const char *name)
{
	char v[128];
	str_or_null(sb, vmcoreinfo_get(ns, name, v, sizeof(v)) ? v : NULL);
}

static void files(struct strbuf *sb, const struct view_input *in, const struct census *c)
{
	sb_printf(sb, "[");
	for (size_t i = 0; i < in->nfiles; i++) {
		const struct source *s = &in->files[i];
		sb_printf(sb, "%s\n    {\"path\": ", i ? "," : "");
		sb_json_string(sb, s->path, strlen(s->path));
		sb_printf(sb, ", \"size\": %" PRIu64 ", \"container\": ", s->size);
		str_or_null(sb, s->ops->wrapper);
		if (c)
			sb_printf(sb, ", \"data_end\": %" PRIu64 ", \"truncated\": %s",
				  c->files[i].data_end, c->files[i].data_end > c->files[i].size ||
				  c->files[i].gaps ? "true" : "false");
		sb_printf(sb, "}");
	}
	sb_printf(sb, "\n  ]");
}

static void pages(struct strbuf *sb, const struct format *f, const struct census *c)
{
	sb_printf(sb, "{\"ram\": %" PRIu64 ", \"dumped\": %" PRIu64 ", \"excluded\": %" PRIu64,
		  f->ram_pages, f->dumped_pages,
		  f->ram_pages > f->dumped_pages ? f->ram_pages - f->dumped_pages : 0);
	if (c && c->zero == ZERO_COUNTED)
		sb_printf(sb, ", \"zero\": %" PRIu64, c->zero_pages);
	else
		sb_printf(sb, ", \"zero\": null");
	if (c)
		sb_printf(sb, ", \"unreadable\": %" PRIu64 "}", c->unreadable_pages);
	else
		sb_printf(sb, ", \"unreadable\": null}");
}

static void notes(struct strbuf *sb, const struct note_set *ns)
{
	sb_printf(sb, "[");
	for (size_t i = 0; i < ns->count; i++) {
		const struct note *n = &ns->list[i];
		sb_printf(sb, "%s\n    {\"index\": %zu, \"owner\": ", i ? "," : "", i);
		sb_json_string(sb, n->name, strlen(n->name));
		sb_printf(sb, ", \"type\": %u, \"type_name\": ", n->type);
		str_or_null(sb, note_type_name(n));
		sb_printf(sb, ", \"size\": %u}", n->descsz);
	}
	sb_printf(sb, ns->count ? "\n  ]" : "]");
}

/* The warnings text holds one per line. */
static void warnings(struct strbuf *sb, const char *text)
{
	bool first = true;
	sb_printf(sb, "[");
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		sb_printf(sb, "%s\n    ", first ? "" : ",");
		sb_json_string(sb, p, len);
		first = false;
		p += len + (p[len] == '\n');
	}
	sb_printf(sb, first ? "]" : "\n  ]");
}

/* One "key: value" line of a format's describe() text. */
struct field { const char *key, *value; size_t key_len, value_len; bool done; };

#define MAX_FIELDS 128

static size_t parse_fields(const char *text, struct field *out)
{
	size_t n = 0;
	for (const char *line = text; line && *line && n < MAX_FIELDS;) {
		size_t len = strcspn(line, "\n"), klen = strcspn(line, ":");
		if (klen + 1 < len && line[klen + 1] == ' ')
			out[n++] = (struct field){ line, line + klen + 2, klen, len - klen - 2, false };
		line += len + (line[len] == '\n');
	}
	return n;
}

static bool same_key(const struct field *a, const struct field *b)
{
	return a->key_len == b->key_len && !memcmp(a->key, b->key, a->key_len);
}

/*
 * The format's own header fields, from its "key: value" lines in /header:
 * strings, as the format wrote them; a key that repeats (the parts of a
 * split set) becomes an array of them.
 */
static void details(struct strbuf *sb, struct format *f)
{
	struct strbuf text = {0};
	struct field fields[MAX_FIELDS];

	f->ops->describe(f, &text);
	size_t n = parse_fields(text.buf, fields);
	sb_printf(sb, "{");
	for (size_t i = 0, written = 0; i < n; i++) {
		if (fields[i].done)
			continue;
		size_t repeats = 0;
		for (size_t j = i; j < n; j++)
			repeats += same_key(&fields[i], &fields[j]);
		sb_printf(sb, "%s\n    ", written++ ? "," : "");
		sb_json_string(sb, fields[i].key, fields[i].key_len);
		sb_printf(sb, ": %s", repeats > 1 ? "[" : "");
		for (size_t j = i, k = 0; j < n; j++) {
			if (!same_key(&fields[i], &fields[j]))
				continue;
			sb_printf(sb, "%s", k++ ? ", " : "");
			sb_json_string(sb, fields[j].value, fields[j].value_len);
			fields[j].done = true;
		}
		sb_printf(sb, "%s", repeats > 1 ? "]" : "");
	}
	sb_printf(sb, n ? "\n  }" : "}");
	if (text.failed)
		sb->failed = true;
	sb_free(&text);
}

void json_header(const struct view *v, struct strbuf *sb)
{
	const struct view_input *in = &v->in;
	struct format *f = in->fmt;
	const struct machine *m = in->machine;
	const struct note_set *ns = &f->notes;
	const struct census *c = format_census(f);

	sb_printf(sb, "{\n  \"dumpfs_version\": \"%s\"", DUMPFS_VERSION);
	key(sb, "format");
	str_or_null(sb, f->name);
	key(sb, "container");
	str_or_null(sb, in->files[0].ops->wrapper);
	key(sb, "producer");
	str_or_null(sb, f->producer);
	key(sb, "files");
	files(sb, in, c);
	key(sb, "arch");
	str_or_null(sb, m->arch->name);
	key(sb, "arch_source");
	str_or_null(sb, m->arch_origin);
	key(sb, "elf_machine");
	sb_printf(sb, "%u", m->elf_machine);
	key(sb, "endian");
	sb_printf(sb, "\"%s\"", f->endian.big ? "big" : "little");
	key(sb, "page_size");
	sb_printf(sb, "%u", f->page_size);
	key(sb, "max_pfn");
	sb_printf(sb, "%" PRIu64, f->max_pfn);
	key(sb, "mem_size");
	sb_printf(sb, "%" PRIu64, m->phys->size);
	key(sb, "phys_base");
	if (m->kmap.has_phys_base) {
		sb_printf(sb, "{\"value\": %" PRIu64 ", \"source\": ", m->kmap.phys_base);
		str_or_null(sb, m->kmap.origin);
		sb_printf(sb, "}");
	} else {
		sb_printf(sb, "null");
	}
	key(sb, "osrelease");
	vmcoreinfo_value(sb, ns, "OSRELEASE");
	key(sb, "kerneloffset");
	vmcoreinfo_value(sb, ns, "KERNELOFFSET");
	key(sb, "pages");
	pages(sb, f, c);
	key(sb, "ram_runs");
	sb_printf(sb, "%zu", f->nram);
	key(sb, "incomplete");
	sb_printf(sb, "%s", f->incomplete ? "true" : "false");
	key(sb, "cpus");
	sb_printf(sb, "{\"prstatus\": %zu, \"qemu\": %zu}", ns->nprstatus, ns->nqemu);
	key(sb, "vmcoreinfo");
	sb_printf(sb, "%s", ns->vmcoreinfo ? "true" : "false");
	key(sb, "notes");
	notes(sb, ns);
	key(sb, "kernel_symbols");
	sb_printf(sb, "%s", kallsyms_named(in->machine) ? "true" : "false");
	key(sb, "kernel_btf");
	sb_printf(sb, "%s", btf_searchable(in->machine) ? "true" : "false");
	key(sb, "tasks");
	sb_printf(sb, "%s", kallsyms_named(in->machine) && btf_searchable(in->machine) ? "true" : "false");
	key(sb, "dmesg");
	sb_printf(sb, "{\"present\": %s, \"status\": ", v->has_dmesg ? "true" : "false");
	str_or_null(sb, v->dmesg_status[0] ? v->dmesg_status : NULL);
	sb_printf(sb, "}");
	key(sb, "vmcore_elf");
	sb_printf(sb, "{\"size\": %" PRIu64 ", \"as_is\": %s, \"big_endian\": %s, \"notes_left_out\": %zu}",
		  v->elf->size, v->elf_as_is ? "true" : "false",
		  (v->elf_as_is ? v->in.fmt->endian : v->in.machine->mem_endian).big ? "true" : "false",
		  v->elf_notes_dropped);
	key(sb, "vmcore_elf_kernel_mappings");
	str_or_null(sb, v->kernel_loads_status[0] ? v->kernel_loads_status : NULL);
	key(sb, "format_details");
	details(sb, f);
	key(sb, "warnings");
	warnings(sb, in->diag->warnings);
	sb_printf(sb, "\n}\n");
}
