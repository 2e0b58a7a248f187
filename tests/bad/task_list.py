#!/usr/bin/env python3
"""task_list.py DUMPFS WORKDIR

/tasks on generated ppc64 ELF dumps whose memory holds what the walk
reads, laid out as a kernel lays it out: kallsyms tables with init_task
(kallsyms_tables.py builds them), a BTF blob describing task_struct,
cred, signal_struct, mm_struct and list_head (encoded here), and a task
list of init_task (pid 0) and three thread groups:

  good          /tasks is 1 2 57; comm and status say what was put in
                (state, parents, uids, threads, VmSize, Kthread); auxv is the
                saved vector up to AT_NULL; cmdline fails with EIO (user
                addresses are not decoded on ppc64); kernel threads have
                no memory files; task/ lists pid 57's one thread (from its
                signal_struct's thread_head), kthreadd's none
  threads       eight threads look into /tasks of a fresh mount at once
                (run under TSan by tests/run-all.sh)

Damaged lists keep the tasks before the damage and log where the walk
stopped, never hang; missing symbols or types make the listing EIO with
the reason logged:

  cycle         the last task points back at the second: 1 2 57
  unmapped      the second points at a task outside the dump: 1 2
  bad-pid       the second has pid -5: 1
  no-init-task  kallsyms without init_task: EIO
  system-map    the same dump with --system-map FILE: /tasks is there; a map
                of another kernel is refused
  btf-no-tasks  BTF whose task_struct has no member tasks: EIO
"""
import os
import struct
import subprocess
import sys
import threading

from synth import note, run_cases, write_elf
import kallsyms_tables as kt

E = kt.E
LINEAR = kt.LINEAR
MEM = 2 << 20
BTF_AT = 0x101000
TASKS = 0x180000                # init_task, then one page per task
CRED, CRED_USER, SIGNAL, MM, SIGNAL_57 = 0x1c0000, 0x1c0100, 0x1c1000, 0x1c2000, 0x1c1100
PF_KTHREAD = 0x00200000
# mm_struct's maple tree and process layout members (maple_tree.py)
MM_MT, MM_START_BRK, MM_BRK, MM_START_STACK = 128, 152, 160, 168

# task_struct as the BTF below lays it out
T_TASKS, T_PID, T_TGID, T_COMM, T_STATE, T_EXIT, T_FLAGS = 0, 16, 20, 24, 40, 44, 48
T_MM, T_PARENT, T_CRED, T_SIGNAL, T_THREAD_NODE, T_STACK, T_SIZE = 56, 64, 72, 80, 88, 104, 0x100


def btf(e, tasks_name=b"tasks", maple=False):
    """A BTF blob: ints, list_head, char[16], task_struct and what it points
    to; with @maple, the maple tree (or, maple="list", the mmap list of
    kernels before 6.1), VMA and file structures maps reads."""
    strings = bytearray(b"\0")
    names = {}

    def s(name):
        if name not in names:
            names[name] = len(strings)
            strings.extend(name + b"\0")
        return names[name]

    types = []

    def t(blob):
        types.append(blob)
        return len(types)

    def int_type(name, size, signed, char=False):
        enc = (1 if signed else 0) | (2 if char else 0)
        return t(struct.pack(e + "IIII", s(name), 1 << 24, size, enc << 24 | size * 8))

    def struct_type(name, size, members):
        b = struct.pack(e + "III", s(name), 4 << 24 | len(members), size)
        for mname, mtype, off in members:
            b += struct.pack(e + "III", s(mname), mtype, off * 8)
        return t(b)

    ptr = lambda target: t(struct.pack(e + "III", 0, 2 << 24, target))
    i32 = int_type(b"int", 4, True)
    u32 = int_type(b"unsigned int", 4, False)
    ch = int_type(b"char", 1, True, True)
    u64 = int_type(b"long unsigned int", 8, False)
    # ids are fixed by order: list_head 5, its pointer 6, and so on
    list_head = struct_type(b"list_head", 16, [(b"next", 6, 0), (b"prev", 6, 8)])
    ptr(list_head)
    comm = t(struct.pack(e + "IIIIII", 0, 3 << 24, 0, ch, i32, 16))
    task = struct_type(b"task_struct", T_SIZE, [
        (tasks_name, list_head, T_TASKS), (b"pid", i32, T_PID), (b"tgid", i32, T_TGID),
        (b"comm", comm, T_COMM), (b"__state", u32, T_STATE), (b"exit_state", i32, T_EXIT),
        (b"flags", u32, T_FLAGS), (b"mm", 10, T_MM), (b"real_parent", 9, T_PARENT),
        (b"cred", 11, T_CRED), (b"signal", 12, T_SIGNAL), (b"thread_node", list_head, T_THREAD_NODE),
        (b"stack", u64, T_STACK)])
    ptr(task)                                                   # 9
    ptr(13)                                                     # 10: mm_struct *
    ptr(14)                                                     # 11: cred *
    ptr(15)                                                     # 12: signal_struct *
    mm = [(b"total_vm", u64, 0), (b"pgd", u64, 8), (b"arg_start", u64, 16), (b"arg_end", u64, 24),
          (b"env_start", u64, 32), (b"env_end", u64, 40), (b"saved_auxv", 16, 48)]
    if maple:
        mm += [(b"mm_mt" if maple != "list" else b"mmap", 24 if maple != "list" else u64, MM_MT),
               (b"start_brk", u64, MM_START_BRK), (b"brk", u64, MM_BRK),
               (b"start_stack", u64, MM_START_STACK)]
    struct_type(b"mm_struct", 192, mm)                                          # 13
    struct_type(b"cred", 32, [(n, u32, 4 * i) for i, n in enumerate(
        (b"uid", b"euid", b"suid", b"fsuid", b"gid", b"egid", b"sgid", b"fsgid"))])
    struct_type(b"signal_struct", 24, [(b"nr_threads", i32, 0), (b"thread_head", list_head, 8)])  # 15
    t(struct.pack(e + "IIIIII", 0, 3 << 24, 0, u64, i32, 10))    # 16: unsigned long[10]
    if maple:
        array = lambda n: t(struct.pack(e + "IIIIII", 0, 3 << 24, 0, u64, i32, n))
        p15, s16 = array(15), array(16)                                         # 17, 18
        u8 = int_type(b"unsigned char", 1, False)                               # 19
        meta = struct_type(b"maple_metadata", 2, [(b"end", u8, 0), (b"gap", u8, 1)])
        struct_type(b"maple_range_64", 256, [(b"parent", u64, 0), (b"pivot", p15, 8),
                                             (b"slot", s16, 128), (b"meta", meta, 248)])
        p9 = array(9)
        struct_type(b"maple_arange_64", 256, [(b"parent", u64, 0), (b"pivot", p9, 8),
                                              (b"slot", 16, 80), (b"gap", 16, 160), (b"meta", meta, 240)])
        assert struct_type(b"maple_tree", 24, [(b"ma_lock", u32, 0), (b"ma_root", u64, 8),
                                               (b"ma_flags", u32, 16)]) == 24
        struct_type(b"vm_area_struct", 72, [(n, u64, 8 * i) for i, n in enumerate(
            (b"vm_start", b"vm_end", b"vm_flags", b"vm_pgoff", b"vm_file", b"vm_ops", b"vm_private_data",
             b"anon_vma", b"vm_next"))])
        path = struct_type(b"path", 16, [(b"mnt", u64, 0), (b"dentry", u64, 8)])
        struct_type(b"file", 32, [(b"f_path", path, 0), (b"f_inode", u64, 16)])
        struct_type(b"inode", 16, [(b"i_ino", u64, 0), (b"i_sb", u64, 8)])
        struct_type(b"super_block", 8, [(b"s_dev", u32, 0)])
        qstr = struct_type(b"qstr", 16, [(b"hash", u32, 0), (b"len", u32, 4), (b"name", u64, 8)])
        struct_type(b"dentry", 32, [(b"d_parent", u64, 0), (b"d_name", qstr, 8)])
        vfsmount = struct_type(b"vfsmount", 8, [(b"mnt_root", u64, 0)])
        struct_type(b"mount", 32, [(b"mnt_parent", u64, 0), (b"mnt_mountpoint", u64, 8),
                                   (b"mnt", vfsmount, 16)])
        struct_type(b"vm_special_mapping", 8, [(b"name", u64, 0)])
    tb = b"".join(types)
    hdr = struct.pack(e + "HBBIIIII", 0xeb9f, 1, 0, 24, 0, len(tb), len(tb), len(strings))
    return hdr + tb + bytes(strings)


def task_at(i):
    return TASKS + i * 0x1000


def put_task(mem, i, pid, comm, state, flags, parent, nxt, mm, cred):
    a = task_at(i)
    v = lambda p: LINEAR + p if p else 0
    struct.pack_into(E + "QQ", mem, a + T_TASKS, v(task_at(nxt)) + T_TASKS, 0)
    struct.pack_into(E + "ii", mem, a + T_PID, pid, pid)
    mem[a + T_COMM:a + T_COMM + 16] = comm.ljust(16, b"\0")
    struct.pack_into(E + "IiI", mem, a + T_STATE, state, 0, flags)
    struct.pack_into(E + "QQQQ", mem, a + T_MM, v(mm), v(task_at(parent)), v(cred), v(SIGNAL))


def make(path, case, more_syms=(), fill=None, maple=True):
    """One case's dump; @more_syms go into kallsyms, @fill(mem) writes more,
    with the types of the maple tree (or maple="list")."""
    syms = kt.symbols("base-relative") + list(more_syms)
    if case != "no-init-task":
        syms.append((LINEAR + task_at(0), "D", "init_task"))
    mem, vmci, _ = kt.build("base-relative", syms=syms)
    mem += bytearray(MEM - len(mem))
    blob = btf(E, b"tasks_x" if case == "btf-no-tasks" else b"tasks", maple=fill is not None and maple)
    mem[BTF_AT:BTF_AT + len(blob)] = blob
    struct.pack_into(E + "8I", mem, CRED, *[0] * 8)
    struct.pack_into(E + "8I", mem, CRED_USER, *[1000] * 8)
    struct.pack_into(E + "iiQQ", mem, SIGNAL, 1, 0, LINEAR + SIGNAL + 8, LINEAR + SIGNAL + 8)
    struct.pack_into(E + "iiQQ", mem, SIGNAL_57, 1, 0, LINEAR + task_at(3) + T_THREAD_NODE, 0)
    struct.pack_into(E + "Q", mem, task_at(3) + T_THREAD_NODE, LINEAR + SIGNAL_57 + 8)
    struct.pack_into(E + "Q", mem, MM, 100)
    # the auxiliary vector: AT_PAGESZ 4096, AT_NULL, then stale words
    struct.pack_into(E + "6Q", mem, MM + 48, 6, 4096, 0, 0, 0xdead, 0xbeef)
    put_task(mem, 0, 0, b"swapper/0", 0, PF_KTHREAD, 0, 1, 0, CRED)
    put_task(mem, 1, 1, b"init", 1, 0, 0, 2, MM, CRED)
    put_task(mem, 2, 2, b"kthreadd", 1, PF_KTHREAD, 0, 3, 0, CRED)
    put_task(mem, 3, 57, b"sh", 0, 0, 1, 0, MM, CRED_USER)
    struct.pack_into(E + "Q", mem, task_at(3) + T_SIGNAL, LINEAR + SIGNAL_57)
    if case == "cycle":
        struct.pack_into(E + "Q", mem, task_at(3) + T_TASKS, LINEAR + task_at(2) + T_TASKS)
    if case == "unmapped":
        struct.pack_into(E + "Q", mem, task_at(2) + T_TASKS, LINEAR + 0x7000000)
    if case == "bad-pid":
        struct.pack_into(E + "ii", mem, task_at(2) + T_PID, -5, -5)
    if fill:
        fill(mem)
    vmci += b"PAGESIZE=4096\n"
    pr = bytearray(504)
    struct.pack_into(E + "QQ", pr, 112 + 32 * 8, kt.STEXT, 1 << 63)
    write_elf(path, E, 21, [note(E, b"CORE", 1, bytes(pr)), note(E, b"VMCOREINFO", 0, vmci)], mem,
              vaddr=LINEAR)


def cat(dumpfs, path, node):
    return subprocess.run([dumpfs, "cat", path, node], capture_output=True, timeout=60)


def expect_tasks(dumpfs, path, work, pids, log=None):
    """/tasks lists @pids; `dumpfs cat` of pid 1's comm logs @log."""
    mnt = os.path.join(work, "mnt")
    os.makedirs(mnt, exist_ok=True)
    subprocess.run([dumpfs, path, mnt], check=True, capture_output=True, timeout=60)
    try:
        got = sorted(int(p) for p in os.listdir(os.path.join(mnt, "tasks")))
        if got != pids:
            raise AssertionError("/tasks lists %r, expected %r" % (got, pids))
        if 57 in pids:
            status = open(os.path.join(mnt, "tasks", "57", "status")).read()
            for line in ("Name:\tsh\n", "State:\tR (running)\n", "PPid:\t1\n",
                         "Uid:\t1000\t1000\t1000\t1000\n", "VmSize:\t     400 kB\n", "Threads:\t1\n",
                         "Kthread:\t0\n"):
                if line not in status:
                    raise AssertionError("/tasks/57/status lacks %r:\n%s" % (line, status))
        if 57 in pids:
            auxv = open(os.path.join(mnt, "tasks", "57", "auxv"), "rb").read()
            if auxv != struct.pack(E + "4Q", 6, 4096, 0, 0):
                raise AssertionError("/tasks/57/auxv is %r" % auxv)
            try:
                open(os.path.join(mnt, "tasks", "57", "cmdline"), "rb").read()
                raise AssertionError("/tasks/57/cmdline read on ppc64, whose user addresses are not decoded")
            except OSError as e:
                if e.errno != 5:
                    raise
            threads = os.listdir(os.path.join(mnt, "tasks", "57", "task"))
            if threads != ["57"] or os.listdir(os.path.join(mnt, "tasks", "2", "task")):
                raise AssertionError("/tasks/57/task lists %r, /tasks/2/task %r" % (
                    threads, os.listdir(os.path.join(mnt, "tasks", "2", "task"))))
            if os.path.exists(os.path.join(mnt, "tasks", "2", "cmdline")):
                raise AssertionError("kernel thread 2 has a cmdline")
        if 2 in pids:
            status = open(os.path.join(mnt, "tasks", "2", "status")).read()
            if "Kthread:\t1\n" not in status or "VmSize" in status or "State:\tS (sleeping)\n" not in status:
                raise AssertionError("/tasks/2/status:\n%s" % status)
            if open(os.path.join(mnt, "tasks", "2", "comm")).read() != "kthreadd\n":
                raise AssertionError("/tasks/2/comm is not kthreadd")
    finally:
        subprocess.run(["fusermount3", "-u", mnt], capture_output=True)
    r = cat(dumpfs, path, "/tasks/1/comm")
    if r.stdout != b"init\n":
        raise AssertionError("dumpfs cat /tasks/1/comm: %r %r" % (r.stdout, r.stderr[-200:]))
    if log and log.encode() not in r.stderr:
        raise AssertionError("dumpfs cat logged %r, not %r" % (r.stderr[-300:], log))
    return "/tasks: %s" % " ".join(map(str, pids))


def expect_same_from_threads(dumpfs, path, work):
    """Eight threads look into /tasks of a fresh mount at once: the first
    look lists it, once; every thread sees the same."""
    mnt = os.path.join(work, "mnt")
    os.makedirs(mnt, exist_ok=True)
    subprocess.run([dumpfs, path, mnt], check=True, capture_output=True, timeout=60)
    results, errors = [], []
    start = threading.Barrier(8)

    def look():
        try:
            start.wait()
            d = os.path.join(mnt, "tasks")
            results.append(tuple((p, open(os.path.join(d, p, "status")).read())
                                 for p in sorted(os.listdir(d))))
        except OSError as e:
            errors.append(str(e))
    try:
        threads = [threading.Thread(target=look) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        subprocess.run(["fusermount3", "-u", mnt], capture_output=True)
    if errors or len(set(results)) != 1 or [p for p, _ in results[0]] != ["1", "2", "57"]:
        raise AssertionError("errors %r; %d different listings" % (errors[:2], len(set(results))))
    return "8 threads, one listing"


def write_map(path, syms):
    with open(path, "w") as f:
        for addr, typ, name in sorted(syms):
            f.write("%016x %s %s\n" % (addr, typ, name))


def expect_system_map(dumpfs, path, work):
    """A dump whose kallsyms lacks init_task, with --system-map FILE that has
    it (at link addresses 1 MiB below the dump's: the KASLR shift) lists
    /tasks; a map whose init_uts_ns disagrees with VMCOREINFO is refused."""
    shift = 0x100000
    syms = [(a - shift, t, n) for a, t, n in kt.symbols("base-relative")]
    good, bad = os.path.join(work, "good.map"), os.path.join(work, "bad.map")
    write_map(good, syms + [(LINEAR + task_at(0) - shift, "D", "init_task")])
    write_map(bad, [(a + (0x40 if n == "init_uts_ns" else 0), t, n) for a, t, n in syms] +
              [(LINEAR + task_at(0) - shift, "D", "init_task")])
    r = subprocess.run([dumpfs, "cat", "--system-map", good, path, "/tasks/57/comm"], capture_output=True,
                       timeout=60)
    if r.stdout != b"sh\n":
        raise AssertionError("with --system-map: %r %r" % (r.stdout, r.stderr[-300:]))
    r = subprocess.run([dumpfs, "cat", "--system-map", good, path, "/kernel/symbols"], capture_output=True,
                       timeout=60)
    if ("%016x D init_task\n" % (LINEAR + task_at(0))).encode() not in r.stdout:
        raise AssertionError("/kernel/symbols from the map lacks init_task at its run-time address")
    r = subprocess.run([dumpfs, "cat", "--system-map", bad, path, "/kernel/symbols"], capture_output=True,
                       timeout=60)
    if r.returncode == 0 or b"is not of this kernel: init_uts_ns" not in r.stderr:
        raise AssertionError("a wrong map: exit %d, %r" % (r.returncode, r.stderr[-300:]))
    return "/tasks/57 found through the map's init_task; a wrong map refused"


def expect_eio(dumpfs, path, work, words):
    r = cat(dumpfs, path, "/tasks/1/comm")
    if r.returncode == 0 or words.encode() not in r.stderr:
        raise AssertionError("dumpfs cat: exit %d, %r; expected a failure saying %r"
                             % (r.returncode, r.stderr[-300:], words))
    mnt = os.path.join(work, "mnt")
    os.makedirs(mnt, exist_ok=True)
    subprocess.run([dumpfs, path, mnt], check=True, capture_output=True, timeout=60)
    try:
        os.listdir(os.path.join(mnt, "tasks"))
        raise AssertionError("listing /tasks did not fail")
    except OSError as e:
        if e.errno != 5:
            raise AssertionError("listing /tasks: %s, expected EIO" % e)
    finally:
        subprocess.run(["fusermount3", "-u", mnt], capture_output=True)


def main(dumpfs, work):
    os.makedirs(work, exist_ok=True)
    p = lambda n: os.path.join(work, n + ".elf")
    cases = []
    for case, pids, log in (("good", [1, 2, 57], None),
                            ("cycle", [1, 2, 57], "a cycle that does not pass init_task"),
                            ("unmapped", [1, 2], "a task_struct that is not in the dump"),
                            ("bad-pid", [1], "no thread-group leader's task_struct")):
        cases.append((case, lambda c=case, ps=pids, lg=log: (make(p(c), c),
                                                            expect_tasks(dumpfs, p(c), work, ps, lg))[1]))
    cases.append(("threads", lambda: expect_same_from_threads(dumpfs, p("good"), work)))
    cases.append(("system-map", lambda: (make(p("no-init-task"), "no-init-task"),
                                         expect_system_map(dumpfs, p("no-init-task"), work))[1]))
    for case, words in (("no-init-task", "kallsyms has no init_task"),
                        ("btf-no-tasks", "has no struct task_struct member tasks")):
        cases.append((case, lambda c=case, w=words: (make(p(c), c), expect_eio(dumpfs, p(c), work, w))))
    return run_cases(cases)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
