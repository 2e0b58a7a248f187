/*
 * nodes.c - the node store of the tree: nodes appended in chunks that never
 * move (tree_nodes.h says why), the bottom of core/view/'s tree files:
 * tree.c builds and serves the tree, tasks_dir.c lists /tasks into it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>

#include "view/tree_nodes.h"

uint32_t tree_count(const struct tree *t)
{
	return atomic_load_explicit(&t->count, memory_order_acquire);
}

/* Append a node; only tree_build and a populate callback (under
 * populate_lock) add them, and readers see it once count says so. */
struct node *tree_add_node(struct tree *t, uint32_t parent, const char *name, enum node_kind kind)
{
	uint32_t i = atomic_load(&t->count);
	if (i == MAX_NODES)
		return NULL;
	struct node **chunk = &t->chunks[i >> NODE_CHUNK_SHIFT];
	if (!*chunk && !(*chunk = calloc(NODE_CHUNK, sizeof(**chunk))))
		return NULL;
	struct node *n = node_at(t, i);
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->kind = kind;
	n->parent = parent;
	if (i != parent) {
		struct node *p = node_at(t, parent);
		if (p->nchildren == 0)
			p->first_child = i;
		p->nchildren++;
	}
	atomic_store_explicit(&t->count, i + 1, memory_order_release);
	return n;
}

bool tree_add_space(struct tree *t, uint32_t parent, const char *name, struct space *space)
{
	struct node *n = tree_add_node(t, parent, name, NODE_SPACE);
	if (!n)
		return false;
	atomic_store(&n->space, space);
	return true;
}

bool tree_add_lazy_space(struct tree *t, uint32_t parent, const char *name,
			 struct space *(*make)(struct tree *t, size_t arg), size_t arg)
{
	struct node *n = tree_add_node(t, parent, name, NODE_SPACE);
	if (!n)
		return false;
	n->make_space = make;
	n->arg = arg;
	return true;
}

bool tree_add_blob(struct tree *t, uint32_t parent, const char *name, const void *p, size_t len)
{
	struct node *n = tree_add_node(t, parent, name, NODE_BLOB);
	if (!n)
		return false;
	n->blob = p;
	n->blob_len = len;
	return true;
}

bool tree_add_text(struct tree *t, uint32_t parent, const char *name, render_fn *fn, size_t arg)
{
	struct node *n = tree_add_node(t, parent, name, NODE_TEXT);
	if (!n)
		return false;
	n->render = fn;
	n->arg = arg;
	return true;
}
