/*
 * tasks_dir.c - /tasks: a directory per thread group of the dumped system,
 * listed when first looked into, with files rendered when first read.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "view/tree_nodes.h"

static void render_task_comm(const struct view *v, size_t i, struct strbuf *sb)
{
	sb_printf(sb, "%s\n", tree_of(v)->tasks.list[i].comm);
}

/* Counting a process's pages walks its page tables: past this many the
 * status says "at least". */
#define MAX_COUNTED_PAGES (1u << 22)

static void render_task_status(const struct view *v, size_t i, struct strbuf *sb)
{
	struct tree *t = (struct tree *)tree_of(v);
	text_task_status(v, &t->tasks.list[i], sb);
	/* what a dump that filtered user memory out must say: how much of
	 * the process's memory is here */
	struct umem_space *u = &t->umems[i];
	uint64_t mapped, held;
	if (!u->m)
		return;
	bool all = umem_count(u, MAX_COUNTED_PAGES, &mapped, &held);
	sb_printf(sb, "UserPages:\t%s%" PRIu64 " mapped, %" PRIu64 " in the dump", all ? "" : "at least ",
		  mapped, held);
	if (held < mapped)
		sb_printf(sb, " (%" PRIu64 " left out: the dump filtered user memory, or lost pages)",
			  mapped - held);
	sb_printf(sb, "\n");
}

/* Largest argv or environment served: the kernel caps both together at
 * a quarter of the stack limit; beyond this a dump's fields are garbage. */
#define MAX_ARG_AREA (16u << 20)

/* [start, end) of a task's user memory, for cmdline and environ. */
static void render_user_range(const struct view *v, const struct ktask *t, uint64_t start,
			      uint64_t end, const char *file, struct strbuf *sb)
{
	char why[200];
	uint8_t *buf = NULL;
	if (end < start || end - start > MAX_ARG_AREA)
		snprintf(why, sizeof(why), "[%#" PRIx64 ", %#" PRIx64 ") is no argument area", start, end);
	else if (!(buf = malloc(end - start + 1)))
		snprintf(why, sizeof(why), "out of memory");
	else if (task_read_user(v->in.machine, t, start, buf, end - start, why, sizeof(why))) {
		sb_append(sb, buf, end - start);
		free(buf);
		return;
	}
	free(buf);
	diag_log(v->in.diag, DUMPFS_ERR_NODATA, "%s: /tasks/%d/%s: %s", v->in.files[0].path, t->pid,
		 file, why);
	sb->failed = true;
}

static void render_task_cmdline(const struct view *v, size_t i, struct strbuf *sb)
{
	const struct ktask *t = &tree_of(v)->tasks.list[i];
	render_user_range(v, t, t->arg_start, t->arg_end, "cmdline", sb);
}

static void render_task_environ(const struct view *v, size_t i, struct strbuf *sb)
{
	const struct ktask *t = &tree_of(v)->tasks.list[i];
	render_user_range(v, t, t->env_start, t->env_end, "environ", sb);
}

static void render_task_auxv(const struct view *v, size_t i, struct strbuf *sb)
{
	char why[200];
	const struct ktask *t = &tree_of(v)->tasks.list[i];
	if (task_auxv(v->in.machine, t, sb, why, sizeof(why)) != DUMPFS_OK) {
		diag_log(v->in.diag, DUMPFS_ERR_NODATA, "%s: /tasks/%d/auxv: %s", v->in.files[0].path,
			 t->pid, why);
		sb->failed = true;
	}
}

static void render_task_maps(const struct view *v, size_t i, struct strbuf *sb)
{
	char why[200];
	const struct tree *t = tree_of(v);
	const struct ktask *k = &t->tasks.list[i];
	if (task_maps(v->in.machine, &t->tasks, k, sb, why, sizeof(why)) != DUMPFS_OK) {
		diag_log(v->in.diag, DUMPFS_ERR_CORRUPT, "%s: /tasks/%d/maps: %s", v->in.files[0].path,
			 k->pid, why);
		sb->failed = true;
	}
}

/* task/TID/regs: @arg is the task's index << 32 | the thread's. */
static void render_thread_regs(const struct view *v, size_t arg, struct strbuf *sb)
{
	const struct tree *t = tree_of(v);
	const struct machine *m = v->in.machine;
	const struct kthread *th = &t->threads[arg >> 32][arg & UINT32_MAX];
	struct note n = { .name = "CORE", .type = 1, .desc = th->prstatus,
			  .descsz = (uint32_t)th->prstatus_len };
	sb_printf(sb, "tid: %d\ncomm: %s\n", th->tid, th->comm);
	if (th->on_cpu && th->cpu >= 0)
		sb_printf(sb, "on_cpu: %d (the registers below are those it saved entering the "
			  "kernel; /cpus/%d has the CPU's own)\n", th->cpu, th->cpu);
	sb_printf(sb, "[user registers, from pt_regs at the top of the kernel stack]\n");
	/* made in the byte order of the kernel's memory, which the dump's own
	 * notes need not have (QEMU's ppc64le dumps) */
	struct machine in_memory = *m;
	in_memory.endian = m->mem_endian;
	if (m->arch->prstatus_text)
		m->arch->prstatus_text(&in_memory, &n, sb);
}

/* task/: a directory per thread, with regs where it saved a user frame. */
static bool add_threads(struct tree *t, size_t i, uint32_t task_dir)
{
	char name[16], why[200];
	const struct view *v = &t->view;
	if (task_threads(v->in.machine, &t->tasks, &t->tasks.list[i], &t->threads[i], &t->nthreads[i],
			 why, sizeof(why)) != DUMPFS_OK) {
		diag_log(v->in.diag, DUMPFS_ERR_CORRUPT, "%s: /tasks/%d/task: %s", v->in.files[0].path,
			 t->tasks.list[i].pid, why);
		return true;    /* an empty task/ */
	}
	uint32_t first = tree_count(t);
	for (size_t j = 0; j < t->nthreads[i]; j++) {
		snprintf(name, sizeof(name), "%d", t->threads[i][j].tid);
		if (!tree_add_node(t, task_dir, name, NODE_DIR))
			return false;
	}
	for (size_t j = 0; j < t->nthreads[i]; j++)
		if (t->threads[i][j].prstatus_len &&
		    !tree_add_text(t, first + (uint32_t)j, "regs", render_thread_regs, i << 32 | j))
			return false;
	return true;
}

static int by_pid(const void *a, const void *b)
{
	const struct ktask *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* /tasks: a directory per thread group, walked when first listed, since
 * the walk decodes kallsyms and BTF (a good part of a second) and a mount
 * should not pay for what it may never read.  A failure leaves /tasks
 * empty, its listing EIO, and the reason in the log. */
enum dumpfs_status tasks_dir_list(struct tree *t, uint32_t dir)
{
	const struct view *v = &t->view;
	char why[200], name[16];
	enum dumpfs_status st = tasks_load(v->in.machine, &t->tasks, why, sizeof(why));
	if (st != DUMPFS_OK) {
		diag_log(v->in.diag, st, "%s: /tasks: %s", v->in.files[0].path, why);
		return st;
	}
	if (t->tasks.stopped[0])
		diag_log(v->in.diag, DUMPFS_ERR_CORRUPT, "%s: /tasks: %s", v->in.files[0].path,
			 t->tasks.stopped);
	qsort(t->tasks.list, t->tasks.count, sizeof(*t->tasks.list), by_pid);
	uint32_t first = tree_count(t);
	size_t n = 0;
	for (size_t i = 0; i < t->tasks.count; i++) {
		if (i && t->tasks.list[i].pid == t->tasks.list[n - 1].pid)
			continue;       /* a damaged list names a pid twice */
		t->tasks.list[n++] = t->tasks.list[i];
		snprintf(name, sizeof(name), "%d", t->tasks.list[i].pid);
		if (!tree_add_node(t, dir, name, NODE_DIR))
			return DUMPFS_ERR_NOMEM;
	}
	t->tasks.count = n;
	if (!(t->page_tables = malloc(sizeof(*t->page_tables))))
		return DUMPFS_ERR_NOMEM;
	cached_space_init(t->page_tables, v->in.machine->phys);
	if (!(t->umems = calloc(n ? n : 1, sizeof(*t->umems))) ||
	    !(t->threads = calloc(n ? n : 1, sizeof(*t->threads))) ||
	    !(t->nthreads = calloc(n ? n : 1, sizeof(*t->nthreads))))
		return DUMPFS_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		uint32_t d = first + (uint32_t)i;
		if (!tree_add_text(t, d, "comm", render_task_comm, i) ||
		    !tree_add_text(t, d, "status", render_task_status, i))
			return DUMPFS_ERR_NOMEM;
		/* kernel threads have no memory of their own */
		if (t->tasks.list[i].mm &&
		    (!tree_add_text(t, d, "maps", render_task_maps, i) ||
		     (umem_init(&t->umems[i], v->in.machine, &t->page_tables->space, &t->tasks.list[i], why,
				sizeof(why)) == DUMPFS_OK &&
		      (!tree_add_space(t, d, "mem", &t->umems[i].space) ||
		       !tree_add_lazy_space(t, d, "core", core_make, i))) ||
		     !tree_add_text(t, d, "cmdline", render_task_cmdline, i) ||
		     !tree_add_text(t, d, "environ", render_task_environ, i) ||
		     !tree_add_text(t, d, "auxv", render_task_auxv, i)))
			return DUMPFS_ERR_NOMEM;
		struct node *task_dir = tree_add_node(t, d, "task", NODE_DIR);
		if (!task_dir || !add_threads(t, i, tree_count(t) - 1))
			return DUMPFS_ERR_NOMEM;
	}
	return DUMPFS_OK;
}

