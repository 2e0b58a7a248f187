/*
 * oncpu.c - which task each CPU was running when the dump was taken: the
 * pid of runqueues[cpu].curr (the per-CPU run queue, found by kallsyms,
 * __per_cpu_offset and BTF's struct rq), 0 for a CPU in its idle task.
 *
 * QEMU writes NT_PRSTATUS with pr_pid = CPU index + 1, so that CPU 0's
 * registers claim to be pid 1's; readers that match registers to tasks
 * by pid (drgn) then unwind init from a stopped CPU's registers.  The
 * kernel's own crash notes carry the running task's pid, as /vmcore.elf
 * then does (view/elfview.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kernel/kernel.h"

#define PID_MAX_LIMIT (4u << 20)

enum dumpfs_status cpu_current_pids(const struct machine *m, int32_t *pids, size_t ncpus, char *why,
				    size_t whylen)
{
	struct kallsyms ks;
	struct ktypes kt;
	struct kfield curr, pid;
	struct kmem km;
	uint64_t runqueues = 0, per_cpu_offset = 0, start_btf = 0;
	enum dumpfs_status st = kallsyms_load(m, &ks, why, whylen);
	if (st != DUMPFS_OK)
		return st;
	for (size_t i = 0; i < ks.count; i++) {
		const char *name = ks.names + ks.name[i] + 1;
		if (!strcmp(name, "runqueues"))
			runqueues = ks.addr[i];
		else if (!strcmp(name, "__per_cpu_offset"))
			per_cpu_offset = ks.addr[i];
		else if (!strcmp(name, "__start_BTF"))
			start_btf = ks.addr[i];
	}
	kallsyms_free(&ks);
	if (!runqueues) {
		snprintf(why, whylen, "no runqueues in the kernel's symbols");
		return DUMPFS_ERR_UNSUPPORTED;
	}
	if ((st = ktypes_load(&kt, m, start_btf, why, whylen)) != DUMPFS_OK)
		return st;
	bool have = ktypes_member(&kt, "rq", "curr", &curr) && ktypes_member(&kt, "task_struct", "pid", &pid);
	ktypes_free(&kt);
	if (!have) {
		snprintf(why, whylen, "the kernel's BTF has no struct rq member curr or task_struct pid");
		return DUMPFS_ERR_UNSUPPORTED;
	}
	if ((st = kmem_init(&km, m, why, whylen)) != DUMPFS_OK)
		return st;
	const unsigned word = machine_word_size(m);
	for (size_t cpu = 0; cpu < ncpus; cpu++) {
		uint64_t off = 0, task;
		uint8_t b[4];
		/* a kernel built without SMP has no __per_cpu_offset */
		if ((per_cpu_offset && !kmem_read_word(&km, per_cpu_offset + cpu * word, &off)) ||
		    !kmem_read_word(&km, runqueues + off + curr.offset, &task) ||
		    !kmem_read(&km, task + pid.offset, b, 4)) {
			snprintf(why, whylen, "CPU %zu's run queue or current task is not in the dump", cpu);
			return DUMPFS_ERR_NODATA;
		}
		uint32_t p = get32(m->mem_endian, b);
		if (p >= PID_MAX_LIMIT) {
			snprintf(why, whylen, "CPU %zu's current task %#" PRIx64 " has pid %u, not a pid", cpu, task, p);
			return DUMPFS_ERR_CORRUPT;
		}
		pids[cpu] = (int32_t)p;
	}
	snprintf(why, whylen, "pids of the tasks on %zu CPUs from runqueues' curr", ncpus);
	return DUMPFS_OK;
}
