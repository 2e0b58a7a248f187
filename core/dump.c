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
#include "format/xen.h"

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
	/* A guest whose memory lies in this dump's (dom0 in a Xen host's
	 * kdump): a dump of its own under /GUEST_DIR, whose nodes are
	 * numbered from GUEST_NODE (above any tree's MAX_NODES). */
	struct dumpfs_dump *guest;
};
#define GUEST_DIR "dom0"
#define GUEST_NODE (UINT32_C(1) << 24)

/* The machine of @d's format and the tree over it: the layers above the
 * format, for a dump and for its guest alike. */
static void open_views(struct dumpfs_dump *d, const struct dumpfs_options *opts, bool user_files)
{
	phys_space_init(&d->phys, &d->fmt,
			opts && opts->threads ? opts->threads - 1 : pool_default_threads());
	d->phys_ready = true;
	machine_init(&d->machine, &d->fmt, &d->phys.space, &d->diag);
	if (opts && user_files) {
		d->machine.btf_path = opts->btf_path;
		d->machine.system_map_path = opts->system_map_path;
		d->machine.vmlinux_path = opts->vmlinux_path;
	}
}

void dumpfs_close(struct dumpfs_dump *d);

/*
 * dom0 of a Xen host's kdump, as a dump of its own.  The files the user
 * gives for a kernel (-o vmlinux= ...) are dom0's: the host is Xen, whose
 * symbols dumpfs does not read.  A dom0 that cannot be opened is a warning
 * on the host's /header, not a failed mount.
 */
static enum dumpfs_status open_guest(struct dumpfs_dump *d, size_t cache_bytes,
				     const struct dumpfs_options *opts)
{
	struct dumpfs_dump *g = calloc(1, sizeof(*g));
	if (!g)
		return DUMPFS_ERR_NOMEM;
	diag_init(&g->diag);
	enum dumpfs_status st = format_open_xen_dom0(&g->fmt, &d->fmt, &g->diag, cache_bytes);
	if (st == DUMPFS_ERR_NODATA && !g->diag.error[0]) {
		dumpfs_close(g);        /* not a Xen host */
		return DUMPFS_OK;
	}
	if (st == DUMPFS_OK) {
		open_views(g, opts, true);
		char why[sizeof(g->diag.error)];
		if (g->machine.vmlinux_path &&
		    vmlinux_check(&g->machine, g->machine.vmlinux_path, why, sizeof(why)) != DUMPFS_OK) {
			snprintf(d->diag.error, sizeof(d->diag.error), "%s", why);
			dumpfs_close(g);
			return DUMPFS_ERR_INVALID;
		}
	}
	if (st == DUMPFS_OK) {
		struct view_input in = { &g->diag, d->files, d->nfiles, &g->fmt, &g->machine };
		st = tree_build(&g->tree, &in);
	}
	if (st == DUMPFS_ERR_NOMEM) {
		dumpfs_close(g);
		return st;
	}
	if (st != DUMPFS_OK) {
		diag_warn(&d->diag, "no /%s: %s", GUEST_DIR, g->diag.error[0] ? g->diag.error : dumpfs_status_name(st));
		dumpfs_close(g);
		return DUMPFS_OK;
	}
	d->guest = g;
	return DUMPFS_OK;
}

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
	struct xen_host xen;
	open_views(d, opts, !xen_host_find(&d->fmt, &xen));
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
	st = tree_build(&d->tree, &in);
	if (st == DUMPFS_OK)
		st = open_guest(d, cache_bytes, opts);
	return st;
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
	dumpfs_close(d->guest);
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

/* The tree that holds @node, and its number there. */
static struct tree *tree_of(struct dumpfs_dump *d, uint32_t *node)
{
	if (*node >= GUEST_NODE && d->guest) {
		*node -= GUEST_NODE;
		return d->guest->tree;
	}
	return d->tree;
}

static int64_t to_guest(int64_t node)
{
	return node < 0 ? node : node + GUEST_NODE;
}

uint32_t dumpfs_node_count(const struct dumpfs_dump *d)
{
	return tree_count(d->tree) + (d->guest ? tree_count(d->guest->tree) : 0);
}

enum dumpfs_status dumpfs_node_stat(struct dumpfs_dump *d, uint32_t node,
				    struct dumpfs_node_info *info)
{
	struct tree *t = tree_of(d, &node);
	enum dumpfs_status st = tree_stat(t, node, info);
	if (st != DUMPFS_OK || t == d->tree)
		return st;
	if (node == 0) {
		info->name = GUEST_DIR;
		info->parent = 0;
	} else
		info->parent += GUEST_NODE;
	return st;
}

int64_t dumpfs_node_lookup(struct dumpfs_dump *d, uint32_t dir, const char *name)
{
	if (dir == 0 && d->guest && !strcmp(name, GUEST_DIR))
		return GUEST_NODE;
	struct tree *t = tree_of(d, &dir);
	int64_t node = tree_lookup(t, dir, name);
	return t == d->tree ? node : to_guest(node);
}

int64_t dumpfs_node_child(struct dumpfs_dump *d, uint32_t dir, uint32_t index)
{
	struct tree *t = tree_of(d, &dir);
	int64_t node = tree_child(t, dir, index);
	if (t != d->tree)
		return to_guest(node);
	/* the guest's directory comes last in the root */
	if (node < 0 && dir == 0 && d->guest && index > 0 && tree_child(t, 0, index - 1) >= 0)
		return GUEST_NODE;
	return node;
}

int dumpfs_node_dir_error(struct dumpfs_dump *d, uint32_t dir)
{
	struct tree *t = tree_of(d, &dir);
	return tree_dir_error(t, dir);
}

int64_t dumpfs_node_by_path(struct dumpfs_dump *d, const char *path)
{
	const char *p = path;
	while (*p == '/')
		p++;
	size_t len = strlen(GUEST_DIR);
	if (d->guest && !strncmp(p, GUEST_DIR, len) && (p[len] == '/' || !p[len]))
		return to_guest(tree_by_path(d->guest->tree, p + len));
	return tree_by_path(d->tree, path);
}

ssize_t dumpfs_node_read(struct dumpfs_dump *d, uint32_t node, void *buf, size_t len,
			 uint64_t off)
{
	struct tree *t = tree_of(d, &node);
	return tree_read(t, node, buf, len, off);
}

int64_t dumpfs_node_seek(struct dumpfs_dump *d, uint32_t node, uint64_t off, int whence)
{
	struct tree *t = tree_of(d, &node);
	return tree_seek(t, node, off, whence);
}

int dumpfs_node_extent(struct dumpfs_dump *d, uint32_t node, uint64_t off, size_t len,
		       struct dumpfs_extent *e)
{
	struct tree *t = tree_of(d, &node);
	return tree_extent(t, node, off, len, e);
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
