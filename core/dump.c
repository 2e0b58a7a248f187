/*
 * dump.c - the top of the core: open a dump layer by layer, bottom up
 * (sources, format, physical memory, machine, views), and answer
 * include/dumpfs.h by handing each call to the layer that owns it.
 * Nothing below includes this file's knowledge: each layer gets what it
 * needs from the ones under it, as arguments.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "view/view.h"

#define DEFAULT_CACHE_BYTES (64u << 20)

struct dumpfs_dump {
	struct diag diag;
	struct source *files;
	size_t nfiles;
	struct format fmt;
	struct phys_space phys;
	bool phys_ready;
	struct machine machine;
	struct tree *tree;
};

static enum dumpfs_status open_layers(struct dumpfs_dump *d, const char *const *paths,
				      const struct dumpfs_options *opts)
{
	enum dumpfs_status st;

	for (size_t i = 0; i < d->nfiles; i++) {
		struct source_open_opts so = {
			.index_path = opts && i == 0 ? opts->flat_index_path : NULL,
			.progress = opts ? opts->index_progress : NULL,
			.remote = opts ? &opts->remote : NULL,
		};
		st = source_open_with(&d->files[i], paths[i], &so, d->diag.error,
				      sizeof(d->diag.error));
		if (st != DUMPFS_OK)
			return st;
		if (d->files[i].warning)
			diag_warn(&d->diag, "%s", d->files[i].warning);
	}
	size_t cache_bytes = opts && opts->cache_bytes ? opts->cache_bytes : DEFAULT_CACHE_BYTES;
	struct raw_layout raw = { opts ? opts->raw_bases : NULL, opts ? opts->raw_ranges : NULL };
	st = format_open(&d->fmt, d->files, d->nfiles, raw.bases || raw.ranges ? &raw : NULL,
			 &d->diag, cache_bytes);
	if (st != DUMPFS_OK)
		return st;
	phys_space_init(&d->phys, &d->fmt,
			opts && opts->threads ? opts->threads - 1 : pool_default_threads());
	d->phys_ready = true;
	machine_init(&d->machine, &d->fmt, &d->phys.space, &d->diag);
	if (opts) {
		d->machine.btf_path = opts->btf_path;
		d->machine.system_map_path = opts->system_map_path;
		d->machine.vmlinux_path = opts->vmlinux_path;
	}
	if (d->machine.vmlinux_path) {
		/* a vmlinux of another build is refused now, not when /tasks is read */
		char why[sizeof(d->diag.error)];
		st = vmlinux_check(&d->machine, d->machine.vmlinux_path, why, sizeof(why));
		if (st != DUMPFS_OK) {
			snprintf(d->diag.error, sizeof(d->diag.error), "%s", why);
			return st;
		}
	}
	struct view_input in = { &d->diag, d->files, d->nfiles, &d->fmt, &d->machine };
	return tree_build(&d->tree, &in);
}

enum dumpfs_status dumpfs_open(struct dumpfs_dump **out, const char *const *paths,
			       size_t nfiles, const struct dumpfs_options *opts,
			       char *err, size_t errlen)
{
	struct dumpfs_dump *d;

	*out = NULL;
	if (nfiles == 0) {
		snprintf(err, errlen, "no dump file given");
		return DUMPFS_ERR_INVALID;
	}
	d = calloc(1, sizeof(*d));
	if (!d || !(d->files = calloc(nfiles, sizeof(*d->files)))) {
		free(d);
		snprintf(err, errlen, "out of memory");
		return DUMPFS_ERR_NOMEM;
	}
	diag_init(&d->diag);
	d->nfiles = nfiles;
	enum dumpfs_status st = open_layers(d, paths, opts);
	if (st != DUMPFS_OK) {
		if (!d->diag.error[0])
			snprintf(d->diag.error, sizeof(d->diag.error), "%s: %s", paths[0],
				 dumpfs_status_name(st));
		snprintf(err, errlen, "%s", d->diag.error);
		dumpfs_close(d);
		return st;
	}
	*out = d;
	return DUMPFS_OK;
}

/* Top down: each layer goes before the ones it reads. */
void dumpfs_quiesce(struct dumpfs_dump *d)
{
	for (size_t i = 0; i < d->nfiles; i++)
		source_quiesce(&d->files[i]);
}

void dumpfs_close(struct dumpfs_dump *d)
{
	if (!d)
		return;
	tree_free(d->tree);
	if (d->phys_ready)
		phys_space_destroy(&d->phys);
	format_close(&d->fmt);
	for (size_t i = 0; i < d->nfiles; i++)
		source_close(&d->files[i]);
	free(d->files);
	diag_destroy(&d->diag);
	free(d);
}

ssize_t dumpfs_read_phys(struct dumpfs_dump *d, void *buf, size_t len, uint64_t paddr)
{
	return space_read(&d->phys.space, buf, len, paddr);
}

uint64_t dumpfs_mem_size(const struct dumpfs_dump *d)
{
	return d->phys.space.size;
}

void dumpfs_cache_stats(const struct dumpfs_dump *d, struct dumpfs_cache_stats *st)
{
	cache_stats(d->fmt.cache, st);
}

uint32_t dumpfs_node_count(const struct dumpfs_dump *d)
{
	return tree_count(d->tree);
}

enum dumpfs_status dumpfs_node_stat(struct dumpfs_dump *d, uint32_t node,
				    struct dumpfs_node_info *info)
{
	return tree_stat(d->tree, node, info);
}

int64_t dumpfs_node_lookup(struct dumpfs_dump *d, uint32_t dir, const char *name)
{
	return tree_lookup(d->tree, dir, name);
}

int64_t dumpfs_node_child(struct dumpfs_dump *d, uint32_t dir, uint32_t index)
{
	return tree_child(d->tree, dir, index);
}

int dumpfs_node_dir_error(struct dumpfs_dump *d, uint32_t dir)
{
	return tree_dir_error(d->tree, dir);
}

int64_t dumpfs_node_by_path(struct dumpfs_dump *d, const char *path)
{
	return tree_by_path(d->tree, path);
}

ssize_t dumpfs_node_read(struct dumpfs_dump *d, uint32_t node, void *buf, size_t len,
			 uint64_t off)
{
	return tree_read(d->tree, node, buf, len, off);
}

int64_t dumpfs_node_seek(struct dumpfs_dump *d, uint32_t node, uint64_t off, int whence)
{
	return tree_seek(d->tree, node, off, whence);
}

int dumpfs_node_extent(struct dumpfs_dump *d, uint32_t node, uint64_t off, size_t len,
		       struct dumpfs_extent *e)
{
	return tree_extent(d->tree, node, off, len, e);
}

int dumpfs_parse_address(const char *text, uint64_t *out)
{
	return raw_parse_number(&text, out) && !*text ? 0 : -1;
}

/* The scan, to a temporary file next to @out, renamed over it when whole. */
static enum dumpfs_status index_to(const struct source *flat, const char *out,
				   char *err, size_t errlen)
{
	char *tmp = NULL;
	if (asprintf(&tmp, "%s.tmpXXXXXX", out) < 0) {
		snprintf(err, errlen, "out of memory");
		return DUMPFS_ERR_NOMEM;
	}
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
		free(tmp);
		return DUMPFS_ERR_IO;
	}
	enum dumpfs_status st = flat_index_write(flat, fd, err, errlen);
	if (st == DUMPFS_OK && (fchmod(fd, 0644) < 0 || fsync(fd) < 0)) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		st = DUMPFS_ERR_IO;
	}
	if (close(fd) < 0 && st == DUMPFS_OK) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		st = DUMPFS_ERR_IO;
	}
	if (st == DUMPFS_OK && rename(tmp, out) < 0) {
		snprintf(err, errlen, "%s: cannot rename to %s: %s", tmp, out, strerror(errno));
		st = DUMPFS_ERR_IO;
	}
	if (st != DUMPFS_OK)
		unlink(tmp);
	free(tmp);
	return st;
}

enum dumpfs_status dumpfs_index_write(const char *path, const char *out,
				      const struct dumpfs_progress *progress,
				      char *err, size_t errlen)
{
	struct source src;
	char *def = NULL;
	enum dumpfs_status st = file_source_open(&src, path, err, errlen);

	if (st == DUMPFS_OK && !flat_signature(&src)) {
		snprintf(err, errlen, "%s: not a makedumpfile flattened file (makedumpfile -F,"
			 " QEMU's kdump-*): only those need an index; mount it as it is", path);
		st = DUMPFS_ERR_INVALID;
	}
	if (st == DUMPFS_OK)
		st = flat_source_open(&src, progress, err, errlen);
	if (st == DUMPFS_OK && !out) {
		if (asprintf(&def, "%s%s", path, DUMPFS_INDEX_SUFFIX) < 0) {
			snprintf(err, errlen, "out of memory");
			st = DUMPFS_ERR_NOMEM;
		}
		out = def;
	}
	if (st == DUMPFS_OK)
		st = index_to(&src, out, err, errlen);
	free(def);
	source_close(&src);
	return st;
}
