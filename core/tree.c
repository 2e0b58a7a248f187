/*
 * tree.c - the virtual tree every front end shows:
 *
 *   /mem  /vmcore.elf  /header  /stats  [/vmcoreinfo]  [/dmesg]
 *   /cpus/N/{prstatus,qemu,regs}   /notes/NN-OWNER-TYPE
 *
 * Built once at open; the children of a directory are contiguous, so node
 * numbers double as inode numbers and readdir is an index.  Text files are
 * rendered on first use and kept (they describe an immutable dump), except
 * /stats, which is rendered on every read.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

enum node_kind { NODE_DIR, NODE_MEM, NODE_ELF, NODE_TEXT, NODE_BLOB };

typedef void render_fn(struct dumpfs_dump *d, size_t arg, struct strbuf *sb);

struct node {
	char name[64];
	enum node_kind kind;
	uint32_t parent, first_child, nchildren;
	const uint8_t *blob;            /* NODE_BLOB: points into the notes */
	size_t blob_len;
	render_fn *render;              /* NODE_TEXT */
	size_t arg;
	bool dynamic;                   /* re-render on every read */
	_Atomic(struct strbuf *) text;  /* rendered once, then immutable */
};

struct tree {
	struct node *nodes;
	uint32_t count, cap;
	pthread_mutex_t render_lock;
};

static void render_header(struct dumpfs_dump *d, size_t arg, struct strbuf *sb) { (void)arg; text_header(d, sb); }
static void render_regs(struct dumpfs_dump *d, size_t cpu, struct strbuf *sb) { text_regs(d, cpu, sb); }
static void render_stats(struct dumpfs_dump *d, size_t arg, struct strbuf *sb) { (void)arg; text_stats(d, sb); }

/* Only reached if the text decoded at open was dropped; it never is. */
static void render_dmesg(struct dumpfs_dump *d, size_t arg, struct strbuf *sb)
{
	char why[sizeof(d->dmesg_status)];
	(void)arg;
	if (dmesg_render(d, sb, why, sizeof(why)) != DUMPFS_OK)
		sb->failed = true;
}

static struct node *add_node(struct tree *t, uint32_t parent, const char *name, enum node_kind kind)
{
	if (t->count == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 32;
		struct node *n = realloc(t->nodes, cap * sizeof(*n));
		if (!n)
			return NULL;
		t->nodes = n;
		t->cap = cap;
	}
	struct node *n = &t->nodes[t->count++];
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->kind = kind;
	n->parent = parent;
	struct node *p = &t->nodes[parent];
	if (t->count - 1 != parent) {
		if (p->nchildren == 0)
			p->first_child = t->count - 1;
		p->nchildren++;
	}
	return n;
}

static bool add_blob(struct tree *t, uint32_t parent, const char *name, const void *p, size_t len)
{
	struct node *n = add_node(t, parent, name, NODE_BLOB);
	if (!n)
		return false;
	n->blob = p;
	n->blob_len = len;
	return true;
}

static bool add_text(struct tree *t, uint32_t parent, const char *name, render_fn *fn, size_t arg)
{
	struct node *n = add_node(t, parent, name, NODE_TEXT);
	if (!n)
		return false;
	n->render = fn;
	n->arg = arg;
	return true;
}

/* /dmesg exists only if the log decodes, so it is decoded now, once; the
 * text is kept as the node's rendering.  Why it is absent goes to /header.
 * False only when out of memory. */
static bool add_dmesg(struct tree *t, struct dumpfs_dump *d)
{
	struct strbuf *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return false;
	enum dumpfs_status st = dmesg_render(d, sb, d->dmesg_status, sizeof(d->dmesg_status));
	if (st != DUMPFS_OK || sb->failed) {
		sb_free(sb);
		free(sb);
		return st != DUMPFS_ERR_NOMEM;
	}
	struct node *n = add_node(t, 0, "dmesg", NODE_TEXT);
	if (!n) {
		sb_free(sb);
		free(sb);
		return false;
	}
	n->render = render_dmesg;
	atomic_store(&n->text, sb);
	return true;
}

/* "03-CORE-NT_PRSTATUS": index, owner and type, safe as a file name. */
static void note_file_name(const struct note *n, size_t i, size_t count, char *out, size_t len)
{
	char owner[24];
	size_t j = 0;
	for (const char *s = n->name; *s && j + 1 < sizeof(owner); s++)
		owner[j++] = (*s == '/' || *s < 0x21 || *s > 0x7e) ? '_' : *s;
	owner[j] = '\0';
	int width = count > 1000 ? 4 : count > 100 ? 3 : 2;
	const char *type = !strcmp(n->name, "CORE") && n->type == 1 ? "PRSTATUS" : NULL;
	if (type)
		snprintf(out, len, "%0*zu-%s-%s", width, i, owner[0] ? owner : "_", type);
	else
		snprintf(out, len, "%0*zu-%s-%u", width, i, owner[0] ? owner : "_", n->type);
}

enum dumpfs_status tree_build(struct dumpfs_dump *d)
{
	struct tree *t = calloc(1, sizeof(*t));
	const struct note_set *ns = &d->notes;
	size_t ncpus = ns->nprstatus > ns->nqemu ? ns->nprstatus : ns->nqemu;
	char name[64];
	bool ok;

	if (!t)
		return DUMPFS_ERR_NOMEM;
	d->tree = t;
	pthread_mutex_init(&t->render_lock, NULL);
	ok = add_node(t, 0, "", NODE_DIR) &&
	     add_node(t, 0, "mem", NODE_MEM) &&
	     add_node(t, 0, "vmcore.elf", NODE_ELF) &&
	     add_text(t, 0, "header", render_header, 0) &&
	     add_text(t, 0, "stats", render_stats, 0);
	if (ok)
		t->nodes[t->count - 1].dynamic = true;
	if (ok && ns->vmcoreinfo)
		ok = add_blob(t, 0, "vmcoreinfo", ns->vmcoreinfo, ns->vmcoreinfo_len);
	ok = ok && add_dmesg(t, d);
	uint32_t cpus_dir = t->count, notes_dir = cpus_dir + 1;
	ok = ok && add_node(t, 0, "cpus", NODE_DIR) && add_node(t, 0, "notes", NODE_DIR);

	uint32_t first_cpu = t->count;
	for (size_t c = 0; ok && c < ncpus; c++) {
		snprintf(name, sizeof(name), "%zu", c);
		ok = add_node(t, cpus_dir, name, NODE_DIR);
	}
	for (size_t i = 0; ok && i < ns->count; i++) {
		note_file_name(&ns->list[i], i, ns->count, name, sizeof(name));
		ok = add_blob(t, notes_dir, name, ns->list[i].desc, ns->list[i].descsz);
	}
	for (size_t c = 0; ok && c < ncpus; c++) {
		uint32_t dir = first_cpu + (uint32_t)c;
		if (c < ns->nprstatus) {
			const struct note *n = &ns->list[ns->prstatus[c]];
			ok = add_blob(t, dir, "prstatus", n->desc, n->descsz);
		}
		if (ok && c < ns->nqemu) {
			const struct note *n = &ns->list[ns->qemu[c]];
			ok = add_blob(t, dir, "qemu", n->desc, n->descsz);
		}
		ok = ok && add_text(t, dir, "regs", render_regs, c);
	}
	return ok ? DUMPFS_OK : DUMPFS_ERR_NOMEM;
}

void tree_free(struct tree *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->count; i++) {
		struct strbuf *sb = atomic_load(&t->nodes[i].text);
		if (sb) {
			sb_free(sb);
			free(sb);
		}
	}
	pthread_mutex_destroy(&t->render_lock);
	free(t->nodes);
	free(t);
}

static struct strbuf *render_once(struct dumpfs_dump *d, struct node *n)
{
	struct strbuf *sb = atomic_load_explicit(&n->text, memory_order_acquire);
	if (sb)
		return sb;
	pthread_mutex_lock(&d->tree->render_lock);
	sb = atomic_load(&n->text);
	if (!sb && (sb = calloc(1, sizeof(*sb)))) {
		n->render(d, n->arg, sb);
		if (sb->failed) {
			sb_free(sb);
			free(sb);
			sb = NULL;
		} else {
			atomic_store_explicit(&n->text, sb, memory_order_release);
		}
	}
	pthread_mutex_unlock(&d->tree->render_lock);
	return sb;
}

uint32_t dumpfs_node_count(const struct dumpfs_dump *d)
{
	return d->tree->count;
}

static uint64_t node_size(struct dumpfs_dump *d, struct node *n)
{
	switch (n->kind) {
	case NODE_DIR: return 0;
	case NODE_MEM: return dumpfs_mem_size(d);
	case NODE_ELF: return elf_view_size(d);
	case NODE_BLOB: return n->blob_len;
	case NODE_TEXT:
		if (n->dynamic) {
			struct strbuf sb = {0};
			n->render(d, n->arg, &sb);
			size_t len = sb.len;
			sb_free(&sb);
			return len;
		} else {
			struct strbuf *sb = render_once(d, n);
			return sb ? sb->len : 0;
		}
	}
	return 0;
}

enum dumpfs_status dumpfs_node_stat(struct dumpfs_dump *d, uint32_t node,
				    struct dumpfs_node_info *info)
{
	if (node >= d->tree->count)
		return DUMPFS_ERR_INVALID;
	struct node *n = &d->tree->nodes[node];
	info->name = n->name;
	info->type = n->kind == NODE_DIR ? DUMPFS_NODE_DIR : DUMPFS_NODE_FILE;
	info->parent = n->parent;
	info->size = node_size(d, n);
	info->stored = info->size;
	if (n->kind == NODE_MEM || n->kind == NODE_ELF) {
		uint64_t data = n->kind == NODE_ELF ? elf_view_stored(d) : d->dumped_pages << d->page_shift;
		if (data < info->stored)
			info->stored = data;
	}
	info->is_volatile = n->dynamic;
	return DUMPFS_OK;
}

int64_t dumpfs_node_child(struct dumpfs_dump *d, uint32_t dir, uint32_t index)
{
	if (dir >= d->tree->count)
		return -1;
	const struct node *n = &d->tree->nodes[dir];
	if (n->kind != NODE_DIR || index >= n->nchildren)
		return -1;
	return n->first_child + index;
}

int64_t dumpfs_node_lookup(struct dumpfs_dump *d, uint32_t dir, const char *name)
{
	if (dir >= d->tree->count || d->tree->nodes[dir].kind != NODE_DIR)
		return -1;
	const struct node *n = &d->tree->nodes[dir];
	for (uint32_t i = 0; i < n->nchildren; i++)
		if (!strcmp(d->tree->nodes[n->first_child + i].name, name))
			return n->first_child + i;
	return -1;
}

int64_t dumpfs_node_by_path(struct dumpfs_dump *d, const char *path)
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
		node = dumpfs_node_lookup(d, (uint32_t)node, part);
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

ssize_t dumpfs_node_read(struct dumpfs_dump *d, uint32_t node, void *buf, size_t len, uint64_t off)
{
	if (node >= d->tree->count)
		return -ENOENT;
	struct node *n = &d->tree->nodes[node];
	switch (n->kind) {
	case NODE_DIR:
		return -EISDIR;
	case NODE_MEM:
		return dumpfs_read_phys(d, buf, len, off);
	case NODE_ELF:
		return elf_view_read(d, buf, len, off);
	case NODE_BLOB:
		return read_bytes(n->blob, n->blob_len, buf, len, off);
	case NODE_TEXT:
		if (n->dynamic) {
			struct strbuf sb = {0};
			n->render(d, n->arg, &sb);
			ssize_t r = sb.failed ? -ENOMEM : read_bytes(sb.buf, sb.len, buf, len, off);
			sb_free(&sb);
			return r;
		} else {
			struct strbuf *sb = render_once(d, n);
			return sb ? read_bytes(sb->buf, sb->len, buf, len, off) : -ENOMEM;
		}
	}
	return -EIO;
}

int64_t dumpfs_node_seek(struct dumpfs_dump *d, uint32_t node, uint64_t off, int whence)
{
	struct dumpfs_node_info info;
	if (dumpfs_node_stat(d, node, &info) != DUMPFS_OK)
		return -ENOENT;
	if (info.type == DUMPFS_NODE_DIR)
		return -EISDIR;
	if (off >= info.size)
		return -ENXIO;
	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return -EINVAL;
	if (d->tree->nodes[node].kind == NODE_ELF)
		return elf_view_seek(d, off, whence == SEEK_DATA);
	if (d->tree->nodes[node].kind != NODE_MEM)
		return whence == SEEK_DATA ? (int64_t)off : (int64_t)info.size;

	uint64_t pfn = off >> d->page_shift;
	uint64_t found = d->ops->find_pfn(d, pfn, whence == SEEK_DATA);
	if (found >= d->max_pfn)
		return whence == SEEK_DATA ? -ENXIO : (int64_t)info.size;
	if (found == pfn)
		return (int64_t)off;
	return (int64_t)(found << d->page_shift);
}

int dumpfs_node_extent(struct dumpfs_dump *d, uint32_t node, uint64_t off, size_t len,
			struct dumpfs_extent *e)
{
	if (node >= d->tree->count)
		return false;
	switch (d->tree->nodes[node].kind) {
	case NODE_MEM:
		return dump_mem_extent(d, off, len, e);
	case NODE_ELF:
		return d->elf_passthrough && dump_file_extent(d, off, len, e);
	default:
		return false;
	}
}
