/*
 * tasks.c - the dumped system's thread groups, from init_task.tasks, with
 * the symbols (kallsyms.c) and the types (ktypes.c) the dump itself holds.
 *
 * Each thread-group leader is on the circular list init_task.tasks; what
 * /proc/PID/status shows comes from its task_struct, its cred, its
 * signal_struct and its mm_struct, at the offsets BTF gives.  What BTF
 * cannot say are the constants: the task state bits (include/linux/
 * sched.h, stable since 4.14) and PF_KTHREAD.
 *
 * A dump can be taken mid-update, and a damaged one can hold anything: the
 * walk stops at the head, after MAX_TASKS entries, or at an entry that
 * cannot be read or is not a task (a pid out of range), and says which.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel.h"

/* PID_MAX_LIMIT: no pid and no count of tasks is larger. */
#define MAX_TASKS (4u << 20)
#define PF_KTHREAD 0x00200000u
#define TASK_COMM_LEN 16

/* The offsets the walk reads, from BTF. */
struct layout {
	struct kfield tasks, pid, tgid, comm, state, exit_state, flags, mm, real_parent, cred,
		signal, on_cpu, cpu;
	struct kfield uid[4], gid[4], nr_threads, total_vm, rss;
	struct kfield pgd, arg_start, arg_end, env_start, env_end, saved_auxv, asce_limit;
	struct kfield vdso, vdso_image, image_data, image_size;
	bool have_on_cpu, have_cpu, have_rss, have_asce_limit, have_vdso;
};

static bool layout_get(const struct ktypes *kt, struct layout *l, char *why, size_t whylen)
{
	static const char *const uids[] = { "uid", "euid", "suid", "fsuid" };
	static const char *const gids[] = { "gid", "egid", "sgid", "fsgid" };
	const struct { const char *type, *member, *alt; struct kfield *out; } need[] = {
		{ "task_struct", "tasks", NULL, &l->tasks },
		{ "task_struct", "pid", NULL, &l->pid },
		{ "task_struct", "tgid", NULL, &l->tgid },
		{ "task_struct", "comm", NULL, &l->comm },
		{ "task_struct", "__state", "state", &l->state },
		{ "task_struct", "exit_state", NULL, &l->exit_state },
		{ "task_struct", "flags", NULL, &l->flags },
		{ "task_struct", "mm", NULL, &l->mm },
		{ "task_struct", "real_parent", NULL, &l->real_parent },
		{ "task_struct", "cred", NULL, &l->cred },
		{ "task_struct", "signal", NULL, &l->signal },
		{ "signal_struct", "nr_threads", NULL, &l->nr_threads },
		{ "mm_struct", "total_vm", NULL, &l->total_vm },
		{ "mm_struct", "pgd", NULL, &l->pgd },
		{ "mm_struct", "arg_start", NULL, &l->arg_start },
		{ "mm_struct", "arg_end", NULL, &l->arg_end },
		{ "mm_struct", "env_start", NULL, &l->env_start },
		{ "mm_struct", "env_end", NULL, &l->env_end },
		{ "mm_struct", "saved_auxv", NULL, &l->saved_auxv },
	};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (ktypes_member(kt, need[i].type, need[i].member, need[i].out) ||
		    (need[i].alt && ktypes_member(kt, need[i].type, need[i].alt, need[i].out)))
			continue;
		snprintf(why, whylen, "the kernel's BTF has no struct %s member %s", need[i].type,
			 need[i].member);
		return false;
	}
	for (int i = 0; i < 4; i++)
		if (!ktypes_member(kt, "cred", uids[i], &l->uid[i]) ||
		    !ktypes_member(kt, "cred", gids[i], &l->gid[i])) {
			snprintf(why, whylen, "the kernel's BTF has no struct cred member %s", uids[i]);
			return false;
		}
	if (l->comm.size != TASK_COMM_LEN || l->pid.size != 4 || l->tgid.size != 4) {
		snprintf(why, whylen, "task_struct's comm, pid or tgid has a size no kernel gives them");
		return false;
	}
	l->have_on_cpu = ktypes_member(kt, "task_struct", "on_cpu", &l->on_cpu);
	l->have_cpu = ktypes_member(kt, "task_struct", "cpu", &l->cpu) ||
		      ktypes_member(kt, "task_struct", "thread_info.cpu", &l->cpu);
	/* 6.1: atomic_long_t count[NR_MM_COUNTERS] (6.2 made them percpu) */
	l->have_rss = ktypes_member(kt, "mm_struct", "rss_stat.count", &l->rss);
	/* s390x: the mm's own top of user space */
	l->have_asce_limit = ktypes_member(kt, "mm_struct", "context.asce_limit", &l->asce_limit) &&
			     l->asce_limit.size == 8;
	/* x86: where the vDSO is mapped and the kernel's image of it */
	l->have_vdso = ktypes_member(kt, "mm_struct", "context.vdso", &l->vdso) &&
		       ktypes_member(kt, "mm_struct", "context.vdso_image", &l->vdso_image) &&
		       ktypes_member(kt, "vdso_image", "data", &l->image_data) &&
		       ktypes_member(kt, "vdso_image", "size", &l->image_size) &&
		       l->vdso.size == 8 && l->vdso_image.size == 8 && l->image_data.size == 8 &&
		       l->image_size.size == 8;
	return true;
}

/* An unsigned value of @size (1 to 8) bytes at @q. */
static uint64_t value(const struct kmem *km, const uint8_t *q, uint64_t size)
{
	struct endian e = km->m->mem_endian;
	switch (size) {
	case 1: return q[0];
	case 2: return get16(e, q);
	case 4: return get32(e, q);
	default: return get64(e, q);
	}
}

/* Field @f of the structure read into @p. */
static uint64_t field(const struct kmem *km, const uint8_t *p, const struct kfield *f)
{
	return value(km, p + f->offset, f->size);
}

static bool read_struct(struct kmem *km, uint64_t addr, uint8_t *buf, size_t len)
{
	return addr && kmem_read(km, addr, buf, len);
}

/* What the task at @addr (its task_struct read into @ts) shows. */
static void task_fill(struct kmem *km, const struct layout *l, uint64_t addr, const uint8_t *ts,
		      struct ktask *t)
{
	uint8_t buf[256];
	t->addr = addr;
	t->pid = (int32_t)field(km, ts, &l->pid);
	t->tgid = (int32_t)field(km, ts, &l->tgid);
	memcpy(t->comm, ts + l->comm.offset, TASK_COMM_LEN);
	t->comm[TASK_COMM_LEN - 1] = '\0';
	t->state = field(km, ts, &l->state);
	t->exit_state = field(km, ts, &l->exit_state);
	t->flags = (uint32_t)field(km, ts, &l->flags);
	t->mm = field(km, ts, &l->mm);
	t->on_cpu = l->have_on_cpu && field(km, ts, &l->on_cpu);
	t->cpu = l->have_cpu ? (int)field(km, ts, &l->cpu) : -1;
	/* real_parent->tgid, as /proc's PPid */
	uint64_t parent = field(km, ts, &l->real_parent);
	t->ppid = -1;
	if (read_struct(km, parent + l->tgid.offset, buf, 4))
		t->ppid = (int32_t)get32(km->m->mem_endian, buf);
	t->have_cred = false;
	uint64_t cred = field(km, ts, &l->cred);
	uint64_t cred_end = l->gid[3].offset + 4;
	for (int i = 0; i < 4; i++)
		cred_end = l->uid[i].offset + 4 > cred_end ? l->uid[i].offset + 4 : cred_end;
	if (cred_end <= sizeof(buf) && read_struct(km, cred, buf, cred_end)) {
		t->have_cred = true;
		for (int i = 0; i < 4; i++) {
			t->uid[i] = (uint32_t)field(km, buf, &l->uid[i]);
			t->gid[i] = (uint32_t)field(km, buf, &l->gid[i]);
		}
	}
	uint64_t signal = field(km, ts, &l->signal);
	t->threads = 0;
	if (read_struct(km, signal + l->nr_threads.offset, buf, 4))
		t->threads = get32(km->m->mem_endian, buf);
	const struct kfield *mmf[] = { &l->pgd, &l->arg_start, &l->arg_end, &l->env_start, &l->env_end };
	uint64_t *mmv[] = { &t->pgd, &t->arg_start, &t->arg_end, &t->env_start, &t->env_end };
	for (size_t i = 0; t->mm && i < sizeof(mmf) / sizeof(mmf[0]); i++)
		if (mmf[i]->size <= 8 && read_struct(km, t->mm + mmf[i]->offset, buf, mmf[i]->size))
			*mmv[i] = value(km, buf, mmf[i]->size);
	t->user_limit = 0;
	if (t->mm && l->have_asce_limit && read_struct(km, t->mm + l->asce_limit.offset, buf, 8))
		t->user_limit = value(km, buf, 8);
	uint64_t image;
	if (t->mm && l->have_vdso && read_struct(km, t->mm + l->vdso.offset, buf, 8) &&
	    (t->vdso_base = value(km, buf, 8)) && read_struct(km, t->mm + l->vdso_image.offset, buf, 8) &&
	    (image = value(km, buf, 8)) && read_struct(km, image + l->image_data.offset, buf, 8)) {
		t->vdso_data = value(km, buf, 8);
		if (read_struct(km, image + l->image_size.offset, buf, 8))
			t->vdso_size = value(km, buf, 8);
	}
	if (t->mm) {
		t->auxv_at = t->mm + l->saved_auxv.offset;
		t->auxv_size = (uint32_t)l->saved_auxv.size;
	}
	t->have_mm_figures = false;
	if (t->mm && read_struct(km, t->mm + l->total_vm.offset, buf, l->total_vm.size)) {
		t->total_vm = value(km, buf, l->total_vm.size);
		t->have_mm_figures = true;
		if (l->have_rss && l->rss.size <= sizeof(buf) &&
		    read_struct(km, t->mm + l->rss.offset, buf, l->rss.size)) {
			unsigned word = machine_word_size(km->m);
			for (unsigned i = 0; i < 4 && (i + 1) * word <= l->rss.size; i++)
				t->rss[i] = kmem_word(km, buf + i * word);
		}
	}
}

enum dumpfs_status tasks_load(const struct machine *m, struct ktask_list *tl, char *why, size_t whylen)
{
	struct kallsyms ks;
	struct ktypes kt;
	struct layout l;
	struct kmem km;
	uint64_t init_task = 0, start_btf = 0;
	memset(tl, 0, sizeof(*tl));
	enum dumpfs_status st = kallsyms_load(m, &ks, why, whylen);
	if (st != DUMPFS_OK)
		return st;
	for (size_t i = 0; i < ks.count; i++) {
		const char *name = ks.names + ks.name[i] + 1;
		if (!strcmp(name, "init_task"))
			init_task = ks.addr[i];
		else if (!strcmp(name, "__start_BTF"))
			start_btf = ks.addr[i];
		else if (!strcmp(name, "special_mapping_vmops"))
			tl->special_vmops[0] = ks.addr[i];
		else if (!strcmp(name, "legacy_special_mapping_vmops"))
			tl->special_vmops[1] = ks.addr[i];
		else if (!strcmp(name, "simple_dname"))
			tl->dname_fns[0] = ks.addr[i];
		else if (!strcmp(name, "anon_inodefs_dname"))
			tl->dname_fns[1] = ks.addr[i];
		else if (!strcmp(name, "sockfs_dname"))
			tl->dname_fns[2] = ks.addr[i];
	}
	kallsyms_free(&ks);
	if (!init_task) {
		if (m->system_map_path || m->vmlinux_path)
			snprintf(why, whylen, "%s has no init_task", m->system_map_path ? m->system_map_path
				 : m->vmlinux_path);
		else
			snprintf(why, whylen, "kallsyms has no init_task (a kernel without CONFIG_KALLSYMS_ALL: "
				 "-o vmlinux=FILE or system_map=FILE)");
		return DUMPFS_ERR_UNSUPPORTED;
	}
	if ((st = ktypes_load(&kt, m, start_btf, why, whylen)) != DUMPFS_OK)
		return st;
	tl->types = kt;
	bool ok = layout_get(&kt, &l, why, whylen);
	uint64_t tslen = 0;
	ok = ok && ktypes_size(&kt, "task_struct", &tslen);
	if (ok)
		vmas_prepare(tl);
	if (!ok || (st = kmem_init(&km, m, why, whylen)) != DUMPFS_OK) {
		tasks_free(tl);
		return ok ? st : DUMPFS_ERR_UNSUPPORTED;
	}
	if (tslen > (64u << 10)) {
		snprintf(why, whylen, "task_struct is %" PRIu64 " bytes, more than any kernel's", tslen);
		tasks_free(tl);
		return DUMPFS_ERR_CORRUPT;
	}
	uint8_t *ts = malloc(tslen);
	size_t cap = 0;
	uint64_t head = init_task + l.tasks.offset, at = head;
	const char *stop = NULL;
	bool nomem = !ts;
	/* Brent's cycle finding: a list that loops without coming back to
	 * the head is caught within twice its length. */
	uint64_t mark = head, since_mark = 0, power = 1;
	while (!nomem) {
		uint8_t b[8];
		if (!kmem_read(&km, at, b, machine_word_size(m))) {
			stop = "a task list entry that is not in the dump";
			break;
		}
		at = kmem_word(&km, b);
		if (at == head)
			break;
		if (at == mark) {
			stop = "a cycle that does not pass init_task";
			break;
		}
		if (++since_mark == power) {
			mark = at;
			power *= 2;
			since_mark = 0;
		}
		if (tl->count == MAX_TASKS) {
			stop = "more entries than pids exist";
			break;
		}
		uint64_t task = at - l.tasks.offset;
		if (!kmem_read(&km, task, ts, tslen)) {
			stop = "a task_struct that is not in the dump";
			break;
		}
		if (tl->count == cap) {
			size_t n = cap ? cap * 2 : 256;
			struct ktask *bigger = realloc(tl->list, n * sizeof(*bigger));
			if (!bigger) {
				nomem = true;
				break;
			}
			tl->list = bigger;
			cap = n;
		}
		struct ktask *t = &tl->list[tl->count];
		memset(t, 0, sizeof(*t));
		task_fill(&km, &l, task, ts, t);
		if (t->pid <= 0 || (uint32_t)t->pid >= MAX_TASKS || t->tgid != t->pid) {
			stop = "an entry that is no thread-group leader's task_struct";
			break;
		}
		tl->count++;
	}
	free(ts);
	if (nomem) {
		tasks_free(tl);
		return DUMPFS_ERR_NOMEM;
	}
	if (stop)
		snprintf(tl->stopped, sizeof(tl->stopped), "the walk of init_task.tasks stopped after %zu "
			 "tasks at %#" PRIx64 ": %s", tl->count, at, stop);
	snprintf(why, whylen, "%zu thread groups from init_task.tasks at %#" PRIx64 "%s", tl->count,
		 init_task, stop ? " (the walk stopped early)" : "");
	return DUMPFS_OK;
}

void tasks_free(struct ktask_list *tl)
{
	free(tl->list);
	tl->list = NULL;
	tl->count = 0;
	ktypes_free(&tl->types);
	vma_layout_free(tl->vmas);
	tl->vmas = NULL;
}

bool task_read_user(const struct machine *m, const struct ktask *t, uint64_t vaddr, void *buf,
		    size_t len, char *why, size_t whylen)
{
	struct kmem km;
	uint64_t pgd, paddr;
	uint8_t *out = buf;
	if (!m->arch->user_vtop) {
		snprintf(why, whylen, "user addresses are not decoded on %s yet", m->arch->name);
		return false;
	}
	if (kmem_init(&km, m, why, whylen) != DUMPFS_OK)
		return false;
	if (!t->pgd || !kmem_vtop(&km, t->pgd, &pgd)) {
		snprintf(why, whylen, "pid %d's page tables (mm->pgd %#" PRIx64 ") are not mapped",
			 t->pid, t->pgd);
		return false;
	}
	while (len) {
		size_t n = (size_t)(4096 - (vaddr & 4095));
		n = n < len ? n : len;
		if (!m->arch->user_vtop(m, pgd, vaddr, &paddr)) {
			snprintf(why, whylen, "pid %d's address %#" PRIx64 " is not mapped, or its page "
				 "table is not in the dump", t->pid, vaddr);
			return false;
		}
		/* a page left out of the dump reads as zeros: say so instead */
		uint64_t page = paddr & ~(uint64_t)4095;
		if (space_next(m->phys, page, true) != page ||
		    space_read(m->phys, out, n, paddr) != (ssize_t)n) {
			snprintf(why, whylen, "pid %d's page at %#" PRIx64 " (physical %#" PRIx64 ") is not in "
				 "the dump (user pages filtered out?)", t->pid, vaddr & ~(uint64_t)4095, paddr & ~(uint64_t)4095);
			return false;
		}
		out += n;
		vaddr += n;
		len -= n;
	}
	return true;
}

enum dumpfs_status task_auxv(const struct machine *m, const struct ktask *t, struct strbuf *sb,
			     char *why, size_t whylen)
{
	struct kmem km;
	uint8_t buf[1024];
	const unsigned word = machine_word_size(m);
	enum dumpfs_status st = kmem_init(&km, m, why, whylen);
	if (st != DUMPFS_OK)
		return st;
	if (!t->auxv_size || t->auxv_size > sizeof(buf) || !kmem_read(&km, t->auxv_at, buf, t->auxv_size)) {
		snprintf(why, whylen, "pid %d's mm->saved_auxv at %#" PRIx64 " cannot be read", t->pid,
			 t->auxv_at);
		return DUMPFS_ERR_NODATA;
	}
	/* pairs up to and with AT_NULL, as /proc/PID/auxv */
	size_t len = 0;
	while (len + 2 * word <= t->auxv_size) {
		len += 2 * word;
		if (kmem_word(&km, buf + len - 2 * word) == 0)
			break;
	}
	sb_append(sb, buf, len);
	return DUMPFS_OK;
}

char task_state_letter(const struct ktask *t)
{
	/* include/linux/sched.h: the report bits and TASK_IDLE */
	static const char letters[] = "RSDTtXZPI";
	const uint64_t report = 0x7f, idle = 0x402;
	if (t->state == idle)
		return 'I';
	uint64_t s = (t->state & report) | t->exit_state;
	if (t->state & 0x1000)          /* TASK_RTLOCK_WAIT */
		s = 2;
	unsigned i = 0;
	while (s) {                     /* fls() */
		i++;
		s >>= 1;
	}
	return i < sizeof(letters) - 1 ? letters[i] : '?';
}

bool task_is_kthread(const struct ktask *t)
{
	return t->flags & PF_KTHREAD;
}
