/*
 * common.c - what every format reader shares: metadata reads with an error
 * that names the file and offset, the page size, and the RAM runs.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/format.h"

enum dumpfs_status format_read_meta(struct format *f, size_t i, void *buf,
				    size_t len, uint64_t off, const char *what)
{
	const struct source *src = &f->files[i];
	enum dumpfs_status st = source_read(src, buf, len, off);
	if (st == DUMPFS_ERR_CORRUPT)
		return diag_fail(f->diag, st, "%s: offset %llu: %s (%zu bytes) runs past the end of the file (%llu bytes)",
				 src->path, (unsigned long long)off, what, len,
				 (unsigned long long)src->size);
	if (st != DUMPFS_OK) {
		char why[ERRMSG_MAX / 2];
		source_why(src, why, sizeof(why));
		return diag_fail(f->diag, st, "%s: offset %llu: cannot read %s: %s", src->path,
				 (unsigned long long)off, what, why);
	}
	return DUMPFS_OK;
}

const char *format_read_fault(const struct source *src, enum dumpfs_status st, char *buf, size_t len)
{
	if (st == DUMPFS_ERR_CORRUPT)
		return "is past the end of the file";
	char why[ERRMSG_MAX / 2];
	source_why(src, why, sizeof(why));
	snprintf(buf, len, "cannot be read: %s", why);
	return buf;
}

enum dumpfs_status format_set_page_size(struct format *f, uint64_t size,
					uint64_t at, const char *what)
{
	if (size < MIN_PAGE_SIZE || size > MAX_PAGE_SIZE || (size & (size - 1)))
		return diag_fail(f->diag, DUMPFS_ERR_UNSUPPORTED, "%s: offset %llu: %s %llu is not a supported page size",
				 f->files[0].path, (unsigned long long)at, what, (unsigned long long)size);
	f->page_size = (uint32_t)size;
	f->page_shift = (unsigned)__builtin_ctzll(size);
	return DUMPFS_OK;
}

enum dumpfs_status format_add_ram(struct format *f, uint64_t start, uint64_t count)
{
	if (f->nram) {
		struct page_run *last = &f->ram[f->nram - 1];
		if (last->start + last->count == start) {
			last->count += count;
			return DUMPFS_OK;
		}
	}
	if (f->nram == f->ram_cap) {
		size_t cap = f->ram_cap ? f->ram_cap * 2 : 16;
		struct page_run *r = realloc(f->ram, cap * sizeof(*r));
		if (!r)
			return DUMPFS_ERR_NOMEM;
		f->ram = r;
		f->ram_cap = cap;
	}
	f->ram[f->nram++] = (struct page_run){ start, count };
	return DUMPFS_OK;
}

bool format_remote(const struct format *f)
{
	for (size_t i = 0; i < f->nfiles; i++)
		if (f->files[i].remote)
			return true;
	return false;
}

const struct census *format_census(struct format *f)
{
	if (format_remote(f))
		return NULL;
	pthread_mutex_lock(&f->census_lock);
	if (!f->census) {
		struct census *c = calloc(1, sizeof(*c));
		if (c && (c->files = calloc(f->nfiles, sizeof(*c->files)))) {
			for (size_t i = 0; i < f->nfiles; i++) {
				const struct source *src = &f->files[i];
				c->files[i].size = c->files[i].data_end = src->size;
				c->files[i].gaps = !source_holds(src, 0, src->size);
			}
			f->ops->census(f, c);
			f->census = c;
		} else {
			free(c);
		}
	}
	pthread_mutex_unlock(&f->census_lock);
	return f->census;
}

void format_phys_base_from_vmcoreinfo(struct format *f)
{
	char v[64];
	if (vmcoreinfo_get(&f->notes, "NUMBER(phys_base)", v, sizeof(v))) {
		char *end;
		errno = 0;
		long long n = strtoll(v, &end, 10);
		if (!errno && end != v) {
			f->has_phys_base = true;
			f->phys_base = (uint64_t)n;
			f->phys_base_origin = "VMCOREINFO NUMBER(phys_base)";
		}
	}
}

size_t format_cpu_blobs(struct format *f, size_t from_notes)
{
	const char *name;
	const uint8_t *data;
	size_t len, n = from_notes;
	while (f->ops->cpu_blob && f->ops->cpu_blob(f, n, &name, &data, &len))
		n++;
	return n;
}
