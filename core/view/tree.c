/*
 * tree.c - the virtual tree every front end shows:
 *
 *   /mem  /vmcore.elf  /header  /header.json  /stats  [/vmcoreinfo]  [/dmesg]
 *   /cpus/N/{prstatus,qemu,regs}   /notes/NN-OWNER-TYPE
 *   [/kernel/{symbols,btf}]  [/tasks/PID/...]  [/host/, host_dir.c]
 *
 * Built once at open; the children of a directory are contiguous, so node
 * numbers double as inode numbers and readdir is an index.  Text files are
 * rendered on first use and kept (they describe an immutable dump), except
 * /stats, which is rendered on every read.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "view/view.h"

#include "view/tree_nodes.h"

static void render_header(const struct view *v, size_t arg, struct strbuf *sb) { (void)arg; text_header(v, sb); }
static void render_regs(const struct view *v, size_t cpu, struct strbuf *sb) { text_regs(v, cpu, sb); }
static void render_json(const struct view *v, size_t arg, struct strbuf *sb) { (void)arg; json_header(v, sb); }
static void render_stats(const struct view *v, size_t arg, struct strbuf *sb) { (void)arg; text_stats(v, sb); }

/* /kernel/symbols, decoded when first read, so that a mount costs nothing
 * for it; a failure is EIO, and the reason goes to the log. */
static void render_symbols(const struct view *v, size_t arg, struct strbuf *sb)
{
	char why[200];
	(void)arg;
	if (kallsyms_render(v->in.machine, sb, why, sizeof(why)) != DUMPFS_OK) {
		diag_log(v->in.diag, DUMPFS_ERR_CORRUPT, "%s: /kernel/symbols: %s",
			 v->in.files[0].path, why);
		sb->failed = true;
	}
}

/* /kernel/btf, found when first read, as /kernel/symbols. */
static void render_btf(const struct view *v, size_t arg, struct strbuf *sb)
{
	char why[200];
	(void)arg;
	if (btf_render(v->in.machine, sb, why, sizeof(why)) != DUMPFS_OK) {
		diag_log(v->in.diag, DUMPFS_ERR_CORRUPT, "%s: /kernel/btf: %s", v->in.files[0].path, why);
		sb->failed = true;
	}
}

/* Only reached if the text decoded at open was dropped; it never is. */
static void render_dmesg(const struct view *v, size_t arg, struct strbuf *sb)
{
	char why[sizeof(v->dmesg_status)];
	(void)arg;
	if (dmesg_render(v->in.machine, sb, why, sizeof(why)) != DUMPFS_OK)
		sb->failed = true;
}


/* /dmesg exists only if the log decodes, so it is decoded now, once; the
 * text is kept as the node's rendering.  Why it is absent goes to /header.
 * False only when out of memory. */
static bool add_dmesg(struct tree *t)
{
	struct view *v = &t->view;
	struct strbuf *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return false;
	enum dumpfs_status st = dmesg_render(v->in.machine, sb, v->dmesg_status, sizeof(v->dmesg_status));
	if (st != DUMPFS_OK || sb->failed) {
		sb_free(sb);
		free(sb);
		return st != DUMPFS_ERR_NOMEM;
	}
	struct node *n = tree_add_node(t, 0, "dmesg", NODE_TEXT);
	if (!n) {
		sb_free(sb);
		free(sb);
		return false;
	}
	n->render = render_dmesg;
	atomic_store(&n->text, sb);
	v->has_dmesg = true;
	return true;
}

/* Whether an ELF input gives readers what /proc/vmcore of its architecture
 * would: virtual addresses where the architecture has them (QEMU's ELF
 * with paging off has only physical ones), the memory's byte order, and
 * no need of the page tables' mappings beside. */
static bool elf_input_servable(const struct view *v)
{
	const struct format *f = v->in.fmt;
	const struct machine *m = v->in.machine;
	return f->elf_passthrough && elf_servable_as_is(&v->in.files[0], f->endian) &&
	       (!m->arch->elf_needs_vaddr || f->elf_has_vaddr) &&
	       !m->arch->elf_maps_kernel_pages && m->mem_endian.big == f->endian.big;
}

/* Each RAM run's p_vaddr where the architecture maps it linearly, 0 where
 * it does not (as /proc/vmcore has it for i386's highmem); NULL if no run
 * has one. */
static uint64_t *run_vaddrs(const struct format *f, const struct machine *m)
{
	if (!m->arch->ram_vaddr || !f->nram)
		return NULL;
	uint64_t *va = calloc(f->nram, sizeof(*va));
	bool any = false;
	for (size_t i = 0; va && i < f->nram; i++) {
		if (m->arch->ram_vaddr(m, f->ram[i].start << f->page_shift,
				       f->ram[i].count << f->page_shift, &va[i]))
			any = true;
		else
			va[i] = 0;
	}
	if (!any) {
		free(va);
		return NULL;
	}
	return va;
}

/* /vmcore.elf: the input ELF as it is where every reader can take it, or
 * an ELF core built over /mem, with the virtual addresses and the
 * kernel-text PT_LOAD of /proc/vmcore where the architecture can tell
 * them. */
static enum dumpfs_status build_elf(struct tree *t)
{
	struct view *v = &t->view;
	const struct format *f = v->in.fmt;
	const struct machine *m = v->in.machine;

	if (elf_input_servable(v)) {
		verbatim_space_init(&t->elf_as_is, &v->in.files[0], v->in.diag);
		v->elf = &t->elf_as_is.space;
		v->elf_as_is = true;
		return DUMPFS_OK;
	}
	/* Readers take the ELF's byte order for the memory's: where the dump
	 * file has the other one, so do the notes. */
	const struct note_set *notes = &f->notes;
	v->elf_reordered = m->mem_endian.big != f->endian.big;
	if (v->elf_reordered) {
		enum dumpfs_status st = notes_reorder(&t->elf_notes, notes, m->mem_endian,
						      m->arch->note_swap, &v->elf_notes_dropped);
		if (st != DUMPFS_OK)
			return st;
		notes = &t->elf_notes;
	}
	struct elf_alias *aliases;
	size_t naliases;
	enum dumpfs_status st = kernel_loads(v, &aliases, &naliases);
	if (st != DUMPFS_OK)
		return st;
	uint64_t *vaddrs = run_vaddrs(f, m);
	struct elf_view_spec spec = {
		.aliases = aliases, .naliases = naliases,
		.mem = m->phys, .page_shift = f->page_shift, .runs = f->ram, .nruns = f->nram,
		.run_vaddr = vaddrs, .notes = notes, .endian = m->mem_endian,
		.elf_machine = m->elf_machine, .incomplete = f->incomplete,
	};
	spec.text_load = m->arch->kernel_text_load &&
			 m->arch->kernel_text_load(m, &spec.text_vaddr, &spec.text_paddr, &spec.text_len);
	/* QEMU's CPU notes beside its NT_PRSTATUS (their pids are CPU + 1),
	 * a Xen domain's saved vCPUs (no pid): the run queues tell */
	if ((m->notes->nqemu || f->cpu_pids_unknown) && kallsyms_named(m) && btf_searchable(m)) {
		spec.cpu_pids_from = m;
		spec.diag = v->in.diag;
		spec.path = v->in.files[0].path;
	}
	/* A Xen PV guest's: in machine addresses (xen_pv_elf.c) */
	if (st == DUMPFS_OK)
		st = xen_pv_elf_layout(v, &t->xen_pv);
	if (st == DUMPFS_OK && t->xen_pv.active) {
		spec.runs = t->xen_pv.runs;
		spec.nruns = t->xen_pv.nruns;
		spec.run_vaddr = t->xen_pv.vaddr;
		spec.run_paddr = t->xen_pv.paddr;
		spec.text_load = false;
		spec.aliases = t->xen_pv.aliases;
		spec.naliases = t->xen_pv.naliases;
		spec.notes = &t->xen_pv.notes;
	}
	if (st == DUMPFS_OK)
		st = elf_view_new(&t->elf, &spec);
	free(vaddrs);
	free(aliases);
	if (st == DUMPFS_OK)
		v->elf = elf_view_space(t->elf);
	return st;
}

enum dumpfs_status tree_build(struct tree **out, const struct view_input *in)
{
	struct tree *t = calloc(1, sizeof(*t));
	const struct note_set *ns = &in->fmt->notes;
	size_t ncpus = ns->nprstatus > ns->nqemu ? ns->nprstatus : ns->nqemu;
	ncpus = format_cpu_blobs(in->fmt, ncpus);
	char name[64];
	bool ok;

	*out = t;
	if (!t)
		return DUMPFS_ERR_NOMEM;
	t->view.in = *in;
	pthread_mutex_init(&t->render_lock, NULL);
	pthread_mutex_init(&t->populate_lock, NULL);
	enum dumpfs_status st = build_elf(t);
	if (st != DUMPFS_OK)
		return st;
	ok = tree_add_node(t, 0, "", NODE_DIR) &&
	     tree_add_space(t, 0, "mem", in->machine->phys) &&
	     tree_add_space(t, 0, "vmcore.elf", t->view.elf) &&
	     tree_add_text(t, 0, "header", render_header, 0) &&
	     tree_add_text(t, 0, "header.json", render_json, 0) &&
	     tree_add_text(t, 0, "stats", render_stats, 0);
	if (ok)
		node_at(t, atomic_load(&t->count) - 1)->dynamic = true;
	if (ok && ns->vmcoreinfo)
		ok = tree_add_blob(t, 0, "vmcoreinfo", ns->vmcoreinfo, ns->vmcoreinfo_len);
	ok = ok && add_dmesg(t);
	/* A directory's children are consecutive nodes: the root's first,
	 * then each directory's. */
	uint32_t cpus_dir = atomic_load(&t->count), notes_dir = cpus_dir + 1, kernel_dir = notes_dir + 1;
	bool symbols = kallsyms_named(in->machine), btf = btf_searchable(in->machine);
	ok = ok && tree_add_node(t, 0, "cpus", NODE_DIR) && tree_add_node(t, 0, "notes", NODE_DIR) &&
	     (!(symbols || btf) || tree_add_node(t, 0, "kernel", NODE_DIR));
	/* /tasks needs both; it is listed when first looked into */
	if (ok && symbols && btf) {
		struct node *tasks = tree_add_node(t, 0, "tasks", NODE_DIR);
		ok = tasks != NULL;
		if (ok)
			tasks->populate = tasks_dir_list;
	}
	uint32_t host_dir = atomic_load(&t->count);
	ok = ok && (!in->fmt->host || tree_add_node(t, 0, "host", NODE_DIR));

	uint32_t first_cpu = atomic_load(&t->count);
	for (size_t c = 0; ok && c < ncpus; c++) {
		snprintf(name, sizeof(name), "%zu", c);
		ok = tree_add_node(t, cpus_dir, name, NODE_DIR);
	}
	for (size_t i = 0; ok && i < ns->count; i++) {
		note_file_name(&ns->list[i], i, ns->count, name, sizeof(name));
		ok = tree_add_blob(t, notes_dir, name, ns->list[i].desc, ns->list[i].descsz);
	}
	for (size_t c = 0; ok && c < ncpus; c++) {
		uint32_t dir = first_cpu + (uint32_t)c;
		if (c < ns->nprstatus) {
			const struct note *n = &ns->list[ns->prstatus[c]];
			ok = tree_add_blob(t, dir, "prstatus", n->desc, n->descsz);
		}
		if (ok && c < ns->nqemu) {
			const struct note *n = &ns->list[ns->qemu[c]];
			ok = tree_add_blob(t, dir, "qemu", n->desc, n->descsz);
		}
		const char *blob_name;
		const uint8_t *blob;
		size_t blob_len;
		if (ok && in->fmt->ops->cpu_blob && in->fmt->ops->cpu_blob(in->fmt, c, &blob_name, &blob, &blob_len))
			ok = tree_add_blob(t, dir, blob_name, blob, blob_len);
		ok = ok && tree_add_text(t, dir, "regs", render_regs, c);
	}
	if (ok && symbols)
		ok = tree_add_text(t, kernel_dir, "symbols", render_symbols, 0);
	if (ok && btf)
		ok = tree_add_text(t, kernel_dir, "btf", render_btf, 0);
	if (ok && in->fmt->host)
		ok = host_dir_add(t, host_dir);
	return ok ? DUMPFS_OK : DUMPFS_ERR_NOMEM;
}

void tree_free(struct tree *t)
{
	if (!t)
		return;
	uint32_t count = atomic_load(&t->count);
	for (uint32_t i = 0; i < count; i++) {
		struct strbuf *sb = atomic_load(&node_at(t, i)->text);
		if (sb) {
			sb_free(sb);
			free(sb);
		}
	}
	for (uint32_t c = 0; c < MAX_NODES / NODE_CHUNK && t->chunks[c]; c++)
		free(t->chunks[c]);
	pthread_mutex_destroy(&t->render_lock);
	pthread_mutex_destroy(&t->populate_lock);
	cores_free(t->cores);
	free(t->umems);
	if (t->page_tables)
		cached_space_destroy(t->page_tables);
	free(t->page_tables);
	for (size_t i = 0; t->threads && i < t->tasks.count; i++)
		free(t->threads[i]);
	free(t->threads);
	free(t->nthreads);
	tasks_free(&t->tasks);
	elf_view_free(t->elf);
	notes_free(&t->elf_notes);
	xen_pv_elf_free(&t->xen_pv);
	free(t);
}

static struct strbuf *render_once(struct tree *t, struct node *n)
{
	struct strbuf *sb = atomic_load_explicit(&n->text, memory_order_acquire);
	if (sb)
		return sb;
	if (atomic_load(&n->render_failed))
		return NULL;
	pthread_mutex_lock(&t->render_lock);
	sb = atomic_load(&n->text);
	if (!sb && !atomic_load(&n->render_failed) && (sb = calloc(1, sizeof(*sb)))) {
		n->render(&t->view, n->arg, sb);
		if (sb->failed) {
			sb_free(sb);
			free(sb);
			sb = NULL;
			atomic_store(&n->render_failed, true);
		} else {
			atomic_store_explicit(&n->text, sb, memory_order_release);
		}
	}
	pthread_mutex_unlock(&t->render_lock);
	return sb;
}


/* Node @i if it exists yet. */
static struct node *node_get(const struct tree *t, uint32_t i)
{
	return i < tree_count(t) ? node_at(t, i) : NULL;
}

/* A space node's space, made now if it is made lazily; NULL if that
 * failed (its reads are EIO, its size 0). */
static struct space *node_space(struct tree *t, struct node *n)
{
	struct space *s = atomic_load_explicit(&n->space, memory_order_acquire);
	if (s || !n->make_space)
		return s;
	pthread_mutex_lock(&t->populate_lock);
	s = atomic_load(&n->space);
	if (!s && !n->make_failed) {
		s = n->make_space(t, n->arg);
		n->make_failed = !s;
		atomic_store_explicit(&n->space, s, memory_order_release);
	}
	pthread_mutex_unlock(&t->populate_lock);
	return s;
}

/* Whether directory @dir can be listed: a lazily listed one is listed
 * now, once, by whichever thread comes first. */
static bool dir_ready(struct tree *t, uint32_t dir, struct node *n)
{
	if (!n->populate || atomic_load_explicit(&n->populated, memory_order_acquire))
		return !n->populate_failed;
	pthread_mutex_lock(&t->populate_lock);
	if (!atomic_load(&n->populated)) {
		n->populate_failed = n->populate(t, dir) != DUMPFS_OK;
		if (n->populate_failed)
			n->nchildren = 0;
		atomic_store_explicit(&n->populated, true, memory_order_release);
	}
	pthread_mutex_unlock(&t->populate_lock);
	return !n->populate_failed;
}

int tree_dir_error(struct tree *t, uint32_t dir)
{
	struct node *n = node_get(t, dir);
	if (!n)
		return -ENOENT;
	if (n->kind != NODE_DIR)
		return -ENOTDIR;
	return dir_ready(t, dir, n) ? 0 : -EIO;
}

static uint64_t node_size(struct tree *t, struct node *n)
{
	switch (n->kind) {
	case NODE_DIR: return 0;
	case NODE_SPACE: {
		struct space *sp = node_space(t, n);
		return sp ? sp->size : 0;
	}
	case NODE_BLOB: return n->blob_len;
	case NODE_TEXT:
		if (n->dynamic) {
			struct strbuf sb = {0};
			n->render(&t->view, n->arg, &sb);
			size_t len = sb.len;
			sb_free(&sb);
			return len;
		} else {
			struct strbuf *sb = render_once(t, n);
			return sb ? sb->len : 0;
		}
	}
	return 0;
}

enum dumpfs_status tree_stat(struct tree *t, uint32_t node, struct dumpfs_node_info *info)
{
	struct node *n = node_get(t, node);
	if (!n)
		return DUMPFS_ERR_INVALID;
	info->name = n->name;
	info->type = n->kind == NODE_DIR ? DUMPFS_NODE_DIR : DUMPFS_NODE_FILE;
	info->parent = n->parent;
	info->size = node_size(t, n);
	info->stored = info->size;
	struct space *sp = n->kind == NODE_SPACE ? node_space(t, n) : NULL;
	if (sp && sp->stored < info->stored)
		info->stored = sp->stored;
	info->is_volatile = n->dynamic;
	return DUMPFS_OK;
}

int64_t tree_child(struct tree *t, uint32_t dir, uint32_t index)
{
	struct node *n = node_get(t, dir);
	if (!n || n->kind != NODE_DIR || !dir_ready(t, dir, n) || index >= n->nchildren)
		return -1;
	return n->first_child + index;
}

int64_t tree_lookup(struct tree *t, uint32_t dir, const char *name)
{
	struct node *n = node_get(t, dir);
	if (!n || n->kind != NODE_DIR || !dir_ready(t, dir, n))
		return -1;
	for (uint32_t i = 0; i < n->nchildren; i++)
		if (!strcmp(node_at(t, n->first_child + i)->name, name))
			return n->first_child + i;
	return -1;
}

int64_t tree_by_path(struct tree *t, const char *path)
{
	int64_t node = 0;
	char part[64];

	while (*path && node >= 0) {
		while (*path == '/')
			path++;
		size_t len = strcspn(path, "/");
		if (len == 0)
			break;
		if (len >= sizeof(part))
			return -1;
		memcpy(part, path, len);
		part[len] = '\0';
		node = tree_lookup(t, (uint32_t)node, part);
		path += len;
	}
	return node;
}

static ssize_t read_bytes(const void *src, size_t size, void *buf, size_t len, uint64_t off)
{
	if (off >= size)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	memcpy(buf, (const uint8_t *)src + off, len);
	return (ssize_t)len;
}

ssize_t tree_read(struct tree *t, uint32_t node, void *buf, size_t len, uint64_t off)
{
	struct node *n = node_get(t, node);
	if (!n)
		return -ENOENT;
	switch (n->kind) {
	case NODE_DIR:
		return -EISDIR;
	case NODE_SPACE: {
		struct space *sp = node_space(t, n);
		return sp ? space_read(sp, buf, len, off) : -EIO;
	}
	case NODE_BLOB:
		return read_bytes(n->blob, n->blob_len, buf, len, off);
	case NODE_TEXT:
		if (n->dynamic) {
			struct strbuf sb = {0};
			n->render(&t->view, n->arg, &sb);
			ssize_t r = sb.failed ? -ENOMEM : read_bytes(sb.buf, sb.len, buf, len, off);
			sb_free(&sb);
			return r;
		} else {
			struct strbuf *sb = render_once(t, n);
			if (!sb)
				return atomic_load(&n->render_failed) ? -EIO : -ENOMEM;
			return read_bytes(sb->buf, sb->len, buf, len, off);
		}
	}
	return -EIO;
}

/* Only the address spaces (/mem, /vmcore.elf) have holes; every other file
 * is all data. */
int64_t tree_seek(struct tree *t, uint32_t node, uint64_t off, int whence)
{
	struct dumpfs_node_info info;
	if (tree_stat(t, node, &info) != DUMPFS_OK)
		return -ENOENT;
	if (info.type == DUMPFS_NODE_DIR)
		return -EISDIR;
	if (off >= info.size)
		return -ENXIO;
	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return -EINVAL;
	bool data = whence == SEEK_DATA;
	struct node *n = node_at(t, node);
	struct space *sp = n->kind == NODE_SPACE ? node_space(t, n) : NULL;
	if (!sp)
		return data ? (int64_t)off : (int64_t)info.size;
	uint64_t at = space_next(sp, off, data);
	if (at >= info.size)
		return data ? -ENXIO : (int64_t)info.size;
	return (int64_t)at;
}

int tree_extent(struct tree *t, uint32_t node, uint64_t off, size_t len,
		struct dumpfs_extent *e)
{
	struct node *n = node_get(t, node);
	struct space *sp = n && n->kind == NODE_SPACE ? node_space(t, n) : NULL;
	return sp && space_extent(sp, off, len, e);
}
