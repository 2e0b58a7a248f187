/*
 * probe.c - which format a dump is, decided by content alone: each reader
 * looks for its own signature in turn.  Raw images have none, so they are
 * opened as the caller describes them, never probed.  Opening a format also
 * sets up the page cache its reads go through.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>

#include "format/xen.h"

static enum dumpfs_status probe(struct format *f)
{
	static enum dumpfs_status (*const probes[])(struct format *, bool *) = {
		kdump_probe, xc_core_probe, elf_probe, lime_probe, xen_save_probe,
	};
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		bool matched;
		enum dumpfs_status st = probes[i](f, &matched);
		if (matched || st != DUMPFS_OK)
			return st;
	}
	const struct source *src = &f->files[0];
	if (src->ops->wrapper)
		return diag_fail(f->diag, DUMPFS_ERR_UNSUPPORTED,
				 "%s: offset 0: %s file holds no kdump, ELF dump or LiME image",
				 src->path, src->ops->wrapper);
	return diag_fail(f->diag, DUMPFS_ERR_UNSUPPORTED,
			 "%s: offset 0: not a crash dump (no KDUMP, DISKDUMP, makedumpfile, ELF or LiME signature; "
			 "a raw memory image is read as FILE@ADDRESS or with -o ranges=)",
			 src->path);
}

enum dumpfs_status format_open(struct format *f, struct source *files, size_t nfiles,
			       const struct raw_layout *raw, struct diag *diag, size_t cache_bytes)
{
	*f = (struct format){ .files = files, .nfiles = nfiles, .diag = diag };
	pthread_mutex_init(&f->census_lock, NULL);
	enum dumpfs_status st = raw ? raw_open(f, raw) : probe(f);
	if (st != DUMPFS_OK)
		return st;
	format_phys_base_from_vmcoreinfo(f);
	f->cache = cache_new(cache_bytes, f->page_size);
	return f->cache ? DUMPFS_OK : DUMPFS_ERR_NOMEM;
}

enum dumpfs_status format_open_xen_dom0(struct format *g, struct format *host, struct diag *diag,
				       size_t cache_bytes)
{
	struct xen_host h;
	*g = (struct format){ .files = host->files, .nfiles = host->nfiles, .diag = diag };
	pthread_mutex_init(&g->census_lock, NULL);
	if (!xen_host_find(host, &h) || !h.dom0_frame_list_list)
		return DUMPFS_ERR_NODATA;
	enum dumpfs_status st = xen_dom0_open(g, host, h.dom0_frame_list_list);
	if (st != DUMPFS_OK)
		return st;
	g->cache = cache_new(cache_bytes, g->page_size);
	return g->cache ? DUMPFS_OK : DUMPFS_ERR_NOMEM;
}

void format_close(struct format *f)
{
	if (!f->files)
		return;                 /* never opened */
	if (f->ops)
		f->ops->close(f);
	if (f->census)
		free(f->census->files);
	free(f->census);
	pthread_mutex_destroy(&f->census_lock);
	cache_free(f->cache);
	notes_free(&f->notes);
	free(f->ram);
	*f = (struct format){0};
}
