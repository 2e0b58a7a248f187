/*
 * tree_nodes.h - the node store of tree.c, for the files that add nodes
 * to it (tasks_dir.c lists /tasks into it).  Nothing outside core/view/
 * sees it: the views are reached through view.h.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_TREE_NODES_H
#define DUMPFS_TREE_NODES_H

#include <pthread.h>
#include <stdatomic.h>

#include "view/view.h"

enum node_kind { NODE_DIR, NODE_SPACE, NODE_TEXT, NODE_BLOB };

typedef void render_fn(const struct view *v, size_t arg, struct strbuf *sb);

struct node {
	char name[64];
	enum node_kind kind;
	uint32_t parent, first_child, nchildren;
	_Atomic(struct space *) space; /* NODE_SPACE, */
	/* or made when first needed (a process core), once; NULL: failed */
	struct space *(*make_space)(struct tree *t, size_t arg);
	bool make_failed;
	const uint8_t *blob;            /* NODE_BLOB: points into the notes */
	size_t blob_len;
	render_fn *render;              /* NODE_TEXT */
	size_t arg;
	bool dynamic;                   /* re-render on every read */
	_Atomic(struct strbuf *) text;  /* rendered once, then immutable */
	atomic_bool render_failed;      /* and not tried again: reads EIO */
	/* A directory listed when first looked into (/tasks): @populate adds
	 * its children, once; a failure leaves it empty and its reads EIO. */
	enum dumpfs_status (*populate)(struct tree *t, uint32_t dir);
	atomic_bool populated;
	bool populate_failed;
};

/* Nodes live in chunks that never move, so that a directory listed late
 * can add nodes while other threads use the earlier ones. */
#define NODE_CHUNK_SHIFT 10
#define NODE_CHUNK (1u << NODE_CHUNK_SHIFT)
#define MAX_NODES (1u << 22)

struct tree {
	struct view view;
	struct elf_view *elf;           /* /vmcore.elf built over /mem, or */
	struct verbatim_space elf_as_is;        /* the input ELF as it is */
	struct verbatim_space host_core;        /* /host/core: a process core as it is */
	struct note_set elf_notes;      /* its notes, where they are turned to
					 * the memory's byte order */
	struct xen_pv_elf xen_pv;       /* its layout for a Xen PV guest */
	struct node *chunks[MAX_NODES / NODE_CHUNK];
	_Atomic uint32_t count;
	pthread_mutex_t render_lock;
	pthread_mutex_t populate_lock;
	struct ktask_list tasks;        /* /tasks, once listed */
	struct umem_space *umems;       /* their /tasks/PID/mem */
	struct cached_space *page_tables;       /* physical memory their walks read */
	struct kthread **threads;       /* each one's threads, */
	size_t *nthreads;               /* and how many */
	struct core *cores;             /* the /tasks/PID/core made so far */
};

static inline struct node *node_at(const struct tree *t, uint32_t i)
{
	return &t->chunks[i >> NODE_CHUNK_SHIFT][i & (NODE_CHUNK - 1)];
}

/* Append a node (tree_build, or a populate callback under populate_lock);
 * NULL when out of memory or nodes. */
struct node *tree_add_node(struct tree *t, uint32_t parent, const char *name, enum node_kind kind);
bool tree_add_space(struct tree *t, uint32_t parent, const char *name, struct space *space);
bool tree_add_blob(struct tree *t, uint32_t parent, const char *name, const void *p, size_t len);
bool tree_add_text(struct tree *t, uint32_t parent, const char *name, render_fn *fn, size_t arg);
/* A file served from a space @make builds when it is first stat'ed or read. */
bool tree_add_lazy_space(struct tree *t, uint32_t parent, const char *name,
			 struct space *(*make)(struct tree *t, size_t arg), size_t arg);

/* The tree a view is the first member of. */
static inline const struct tree *tree_of(const struct view *v)
{
	return (const struct tree *)v;
}

/* corefile.c: /tasks/PID/core of task @i (a make_space callback); the
 * cores made are freed with the tree. */
struct core;
struct space *core_make(struct tree *t, size_t i);
void cores_free(struct core *c);

/* tasks_dir.c: list /tasks (a populate callback). */
enum dumpfs_status tasks_dir_list(struct tree *t, uint32_t dir);

/* A note's file name in a notes/ directory: "03-CORE-PRSTATUS". */
void note_file_name(const struct note *n, size_t i, size_t count, char *out, size_t len);
/* host_dir.c: the children of /host/ (@dir) of a QEMU process core. */
bool host_dir_add(struct tree *t, uint32_t dir);

#endif /* DUMPFS_TREE_NODES_H */
