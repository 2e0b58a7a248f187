/*
 * threads.c - the threads of a thread group and their user registers.
 *
 * A group's threads are on its signal_struct's thread_head list, linked
 * through task_struct.thread_node (the leader included).  A thread that
 * entered the kernel from user space saved its user registers in a
 * struct pt_regs at the top of its kernel stack (task->stack +
 * THREAD_SIZE - sizeof(pt_regs)); the architecture turns them into its
 * NT_PRSTATUS layout and says whether they are a user frame.  THREAD_SIZE
 * is not in BTF: the architecture's value is tried, then twice it (KASAN
 * doubles the stack).  Where the thread struct points at the frame itself
 * (ppc64's thread.regs, below a red zone and a stack frame rather than at
 * the very top), that pointer is taken first.  Beside pt_regs, what the
 * thread struct keeps of the user registers: x86_64's segment bases and
 * selectors, s390x's access registers.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel.h"

/* Threads of one group: Linux's limit is the pid space; a dump's list is
 * cut here. */
#define MAX_THREADS (1u << 16)

struct thread_layout {
	struct kfield thread_node, thread_head, signal, pid, comm, stack, on_cpu, cpu;
	struct kfield fsbase, gsbase, es, ds, fsindex, gsindex, regs, acrs;
	uint64_t pt_regs_size;
	bool have_on_cpu, have_cpu, have_x86_thread, have_regs_pointer, have_acrs;
};

static bool layout_get(const struct ktypes *kt, struct thread_layout *l, char *why, size_t whylen)
{
	const struct { const char *type, *member; struct kfield *f; } need[] = {
		{ "task_struct", "thread_node", &l->thread_node },
		{ "signal_struct", "thread_head", &l->thread_head },
		{ "task_struct", "signal", &l->signal }, { "task_struct", "pid", &l->pid },
		{ "task_struct", "comm", &l->comm }, { "task_struct", "stack", &l->stack },
	};
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!ktypes_member(kt, need[i].type, need[i].member, need[i].f)) {
			snprintf(why, whylen, "the kernel's BTF has no struct %s member %s", need[i].type,
				 need[i].member);
			return false;
		}
	/* without struct pt_regs, threads are listed with no registers */
	if (!ktypes_size(kt, "pt_regs", &l->pt_regs_size) || l->pt_regs_size > 1024)
		l->pt_regs_size = 0;
	l->have_on_cpu = ktypes_member(kt, "task_struct", "on_cpu", &l->on_cpu);
	l->have_cpu = ktypes_member(kt, "task_struct", "cpu", &l->cpu) ||
		      ktypes_member(kt, "task_struct", "thread_info.cpu", &l->cpu);
	l->have_x86_thread = ktypes_member(kt, "task_struct", "thread.fsbase", &l->fsbase) &&
			     ktypes_member(kt, "task_struct", "thread.gsbase", &l->gsbase) &&
			     ktypes_member(kt, "task_struct", "thread.es", &l->es) &&
			     ktypes_member(kt, "task_struct", "thread.ds", &l->ds) &&
			     ktypes_member(kt, "task_struct", "thread.fsindex", &l->fsindex) &&
			     ktypes_member(kt, "task_struct", "thread.gsindex", &l->gsindex);
	l->have_regs_pointer = ktypes_member(kt, "task_struct", "thread.regs", &l->regs) &&
			       (l->regs.size == 4 || l->regs.size == 8);
	l->have_acrs = ktypes_member(kt, "task_struct", "thread.acrs", &l->acrs) &&
		       l->acrs.size == USER_REGS_EXTRA * 8;
	return true;
}

static uint64_t read_field(struct kmem *km, uint64_t base, const struct kfield *f, bool *ok)
{
	uint8_t b[8];
	if (f->size > 8 || !kmem_read(km, base + f->offset, b, f->size)) {
		*ok = false;
		return 0;
	}
	struct endian e = km->m->mem_endian;
	switch (f->size) {
	case 1: return b[0];
	case 2: return get16(e, b);
	case 4: return get32(e, b);
	default: return get64(e, b);
	}
}

/* The architecture's pr_reg from the pt_regs at @at, into th->prstatus;
 * false if they cannot be read or are no user frame. */
static bool regs_at(struct kmem *km, const struct thread_layout *l, const struct ktask *t,
		    uint64_t at, const uint64_t extra[USER_REGS_EXTRA], struct kthread *th)
{
	const struct machine *m = km->m;
	uint8_t regs[1024];
	if (!at || !kmem_read(km, at, regs, l->pt_regs_size))
		return false;
	size_t n = m->arch->user_regs(m, regs, l->pt_regs_size, extra,
				      th->prstatus + m->arch->prstatus_reg_off,
				      sizeof(th->prstatus) - m->arch->prstatus_reg_off);
	if (!n)
		return false;
	/* the rest of struct elf_prstatus: the ids */
	put32(m->mem_endian, th->prstatus + 32, (uint32_t)th->tid);
	put32(m->mem_endian, th->prstatus + 36, (uint32_t)t->ppid);
	put32(m->mem_endian, th->prstatus + 40, (uint32_t)t->tgid);
	put32(m->mem_endian, th->prstatus + 44, (uint32_t)t->tgid);
	th->prstatus_len = m->arch->prstatus_size;
	return true;
}

/* The user registers of the thread at @task, into th->prstatus. */
static void thread_regs(struct kmem *km, const struct thread_layout *l, const struct ktask *t,
			uint64_t task, struct kthread *th)
{
	const struct machine *m = km->m;
	bool ok = true;
	uint64_t stack = read_field(km, task, &l->stack, &ok);
	uint64_t extra[USER_REGS_EXTRA] = {0};
	const struct kfield *x[6] = { &l->fsbase, &l->gsbase, &l->ds, &l->es, &l->fsindex, &l->gsindex };
	for (int i = 0; l->have_x86_thread && i < 6; i++)
		extra[i] = read_field(km, task, x[i], &ok);
	uint8_t acrs[USER_REGS_EXTRA * 8];
	if (l->have_acrs) {     /* as they lie in memory, a word for two */
		ok = ok && kmem_read(km, task + l->acrs.offset, acrs, sizeof(acrs));
		for (int i = 0; ok && i < USER_REGS_EXTRA; i++)
			extra[i] = get64(m->mem_endian, acrs + i * 8);
	}
	if (!ok || !l->pt_regs_size || !m->arch->user_regs || !m->arch->prstatus_size ||
	    m->arch->prstatus_size > sizeof(th->prstatus) ||
	    m->arch->prstatus_reg_off >= m->arch->prstatus_size)
		return;
	if (l->have_regs_pointer &&
	    regs_at(km, l, t, read_field(km, task, &l->regs, &ok), extra, th))
		return;
	if (!stack || !m->arch->kernel_stack_size)
		return;
	for (uint64_t size = m->arch->kernel_stack_size; size <= 2 * m->arch->kernel_stack_size; size *= 2)
		if (regs_at(km, l, t, stack + size - l->pt_regs_size, extra, th))
			return;
}

enum dumpfs_status task_threads(const struct machine *m, struct ktask_list *tl, const struct ktask *t,
				struct kthread **out, size_t *count, char *why, size_t whylen)
{
	struct thread_layout l;
	struct kmem km;
	bool ok = true;
	*out = NULL;
	*count = 0;
	if (!layout_get(&tl->types, &l, why, whylen))
		return DUMPFS_ERR_UNSUPPORTED;
	enum dumpfs_status st = kmem_init(&km, m, why, whylen);
	if (st != DUMPFS_OK)
		return st;
	uint64_t signal = read_field(&km, t->addr, &l.signal, &ok);
	uint64_t head = signal + l.thread_head.offset, at = head;
	struct kthread *list = NULL;
	size_t n = 0, cap = 0;
	uint64_t mark = head, since_mark = 0, power = 1;
	while (ok) {
		if (!kmem_read_word(&km, at, &at)) {
			snprintf(why, whylen, "pid %d's thread list is not in the dump", t->pid);
			st = DUMPFS_ERR_NODATA;
			break;
		}
		if (at == head)
			break;
		if (n == MAX_THREADS) {
			snprintf(why, whylen, "pid %d has more than %u threads (a cycle?)", t->pid, MAX_THREADS);
			st = DUMPFS_ERR_CORRUPT;
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			struct kthread *bigger = realloc(list, cap * sizeof(*bigger));
			if (!bigger) {
				st = DUMPFS_ERR_NOMEM;
				break;
			}
			list = bigger;
		}
		uint64_t task = at - l.thread_node.offset;
		struct kthread *th = &list[n];
		memset(th, 0, sizeof(*th));
		th->addr = task;
		th->tid = (int32_t)read_field(&km, task, &l.pid, &ok);
		if (!ok || !kmem_read(&km, task + l.comm.offset, th->comm, sizeof(th->comm)) || th->tid <= 0) {
			snprintf(why, whylen, "pid %d's thread list holds an entry that is no task", t->pid);
			st = DUMPFS_ERR_CORRUPT;
			break;
		}
		th->comm[sizeof(th->comm) - 1] = '\0';
		th->on_cpu = l.have_on_cpu && read_field(&km, task, &l.on_cpu, &ok);
		th->cpu = l.have_cpu ? (int)read_field(&km, task, &l.cpu, &ok) : -1;
		ok = true;
		if (t->mm)
			thread_regs(&km, &l, t, task, th);
		n++;
		/* Brent's cycle finding, as for the task list */
		if (at == mark) {
			snprintf(why, whylen, "pid %d's thread list loops", t->pid);
			st = DUMPFS_ERR_CORRUPT;
			break;
		}
		if (++since_mark == power) {
			mark = at;
			power *= 2;
			since_mark = 0;
		}
	}
	if (st != DUMPFS_OK) {
		free(list);
		return st;
	}
	*out = list;
	*count = n;
	return DUMPFS_OK;
}
