/*
 * ktypes.c - the dumped kernel's structure layouts, from its own BTF
 * (btf.c finds it) through libbpf's BTF API: where a member lies, how big
 * a structure is.  A member path is dotted ("signal.nr_threads" is not one:
 * only members of the structure itself and of its nested structures, as
 * "se.sum_exec_runtime"); members of anonymous structures and unions are
 * found as the C compiler finds them.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "kernel/kernel.h"

/* Anonymous members nest a few levels deep in task_struct; a BTF whose
 * do not end is refused. */
#define MAX_ANON_DEPTH 8

enum dumpfs_status ktypes_load(struct ktypes *kt, const struct machine *m, uint64_t start_btf,
			       char *why, size_t whylen)
{
	struct strbuf blob = {0};
	memset(kt, 0, sizeof(*kt));
	enum dumpfs_status st = btf_render_from(m, start_btf, &blob, why, whylen);
	if (st != DUMPFS_OK) {
		sb_free(&blob);
		return st;
	}
	kt->btf = btf__new(blob.buf, (uint32_t)blob.len);
	sb_free(&blob);
	if (!kt->btf) {
		snprintf(why, whylen, "the kernel's BTF does not parse");
		return DUMPFS_ERR_CORRUPT;
	}
	return DUMPFS_OK;
}

void ktypes_free(struct ktypes *kt)
{
	btf__free(kt->btf);
	kt->btf = NULL;
}

/* The struct or union @id is, through typedefs and qualifiers; NULL if
 * it is not one. */
static const struct btf_type *composite(const struct btf *btf, int32_t id)
{
	int32_t r = btf__resolve_type(btf, (uint32_t)id);
	const struct btf_type *t = r > 0 ? btf__type_by_id(btf, (uint32_t)r) : NULL;
	return t && btf_is_composite(t) ? t : NULL;
}

/* Member @name of composite @t, at @base bits: its bit offset and type. */
static bool find_member(const struct btf *btf, const struct btf_type *t, const char *name,
			size_t namelen, uint64_t base, unsigned depth, uint64_t *bits, uint32_t *type,
			uint32_t *bitfield)
{
	const struct btf_member *mb = btf_members(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++) {
		uint64_t at = base + btf_member_bit_offset(t, i);
		const char *mname = btf__name_by_offset(btf, mb[i].name_off);
		if (mname && mname[0]) {
			if (strlen(mname) == namelen && !memcmp(mname, name, namelen)) {
				*bits = at;
				*type = mb[i].type;
				*bitfield = btf_member_bitfield_size(t, i);
				return true;
			}
			continue;
		}
		const struct btf_type *inner = composite(btf, (int32_t)mb[i].type);
		if (inner && depth < MAX_ANON_DEPTH &&
		    find_member(btf, inner, name, namelen, at, depth + 1, bits, type, bitfield))
			return true;
	}
	return false;
}

bool ktypes_member(const struct ktypes *kt, const char *type, const char *path,
		   struct kfield *out)
{
	int32_t id = kt->btf ? btf__find_by_name_kind(kt->btf, type, BTF_KIND_STRUCT) : -1;
	const struct btf_type *t = id > 0 ? btf__type_by_id(kt->btf, (uint32_t)id) : NULL;
	uint64_t bits = 0;
	uint32_t member_type = 0, bitfield = 0;
	while (t) {
		size_t len = strcspn(path, ".");
		if (!find_member(kt->btf, t, path, len, bits, 0, &bits, &member_type, &bitfield))
			return false;
		if (!path[len])
			break;
		path += len + 1;
		t = composite(kt->btf, (int32_t)member_type);
		if (!t || bitfield)
			return false;
	}
	if (!t || bitfield || bits % 8)
		return false;   /* bitfields are read by their own rules: none yet */
	int64_t size = btf__resolve_size(kt->btf, member_type);
	if (size <= 0)
		return false;
	out->offset = bits / 8;
	out->size = (uint64_t)size;
	return true;
}

bool ktypes_size(const struct ktypes *kt, const char *type, uint64_t *size)
{
	int32_t id = kt->btf ? btf__find_by_name_kind(kt->btf, type, BTF_KIND_STRUCT) : -1;
	int64_t s = id > 0 ? btf__resolve_size(kt->btf, (uint32_t)id) : -1;
	if (s <= 0)
		return false;
	*size = (uint64_t)s;
	return true;
}
