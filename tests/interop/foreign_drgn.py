"""foreign_drgn.py CORE VMLINUX

The drgn half of foreign_tools.py and of tools_check.py's drgn judge (any
architecture: the name is historical), run in a child by the Python that has
Debian's python3-drgn (/usr/bin/python3; the one running the test may be
another), so that a crash or a hang of drgn costs one judge, not the run.
Opens CORE with drgn.Program().set_core_dump(), loads VMLINUX's debug info
and prints one JSON object per line on stdout, each with one of:

  open       why drgn could not open CORE or VMLINUX (then nothing else)
  platform   drgn's idea of the architecture and byte order
  kernel     whether drgn sees a Linux kernel core (it needs VMCOREINFO)
  release    {"init_uts_ns": init_uts_ns.name.release read from the dump,
              "UTS_RELEASE": drgn's UTS_RELEASE (from VMCOREINFO)}
  tasks      {"list": [[pid, comm], ...] walking init_task.tasks, init_task
              first, "for_each_task": how many the PID namespace walk gives}
  printk     {"records": [[ts_nsec, text], ...]} of get_printk_records()
              (text decoded as latin-1, so every byte survives JSON)
  stack      {"task": [pid, comm], "frames": [name, ...]} of
              prog.stack_trace() of pid 1 (init_task when there is none)
  crashed    the frames of prog.crashed_thread() (the CPU's task)

A part that raised holds {"error": "Type: message"} instead.  Nothing here
judges: interop_common.py's judge_* compare the values with what they expect."""
import json
import sys

MAX_TASKS = 65536


def err(e):
    return {"error": "%s: %s" % (type(e).__name__, str(e).strip()[:400])}


def part(fn, *args):
    try:
        return fn(*args)
    except Exception as e:  # drgn raises FaultError, LookupError, ValueError, ...
        return err(e)


def release(prog):
    out = {}
    try:
        out["init_uts_ns"] = prog["init_uts_ns"].name.release.string_().decode("latin-1")
    except Exception as e:
        out["init_uts_ns"] = err(e)
    try:
        out["UTS_RELEASE"] = prog["UTS_RELEASE"].string_().decode("latin-1")
    except KeyError:
        out["UTS_RELEASE"] = None
    except Exception as e:
        out["UTS_RELEASE"] = err(e)
    return out


def task_id(t):
    return [t.pid.value_(), t.comm.string_().decode("latin-1")]


def tasks(prog):
    from drgn.helpers.linux.list import list_for_each_entry
    init = prog["init_task"]
    out = [task_id(init)]
    for t in list_for_each_entry("struct task_struct", init.tasks.address_of_(), "tasks"):
        out.append(task_id(t))
        if len(out) > MAX_TASKS:
            raise ValueError("init_task.tasks has more than %d entries: a cycle?" % MAX_TASKS)
    res = {"list": out}
    try:
        from drgn.helpers.linux.pid import for_each_task
        n = 0
        for _ in for_each_task(prog):
            n += 1
            if n > MAX_TASKS:
                break
        res["for_each_task"] = n
    except Exception as e:
        res["for_each_task"] = err(e)["error"]
    return res


def printk(prog):
    from drgn.helpers.linux.printk import get_printk_records
    return {"records": [[r.timestamp, r.text.decode("latin-1")] for r in get_printk_records(prog)]}


def frame_names(trace):
    names = []
    for f in trace:
        name = f.name
        if name is None:
            try:
                name = f.symbol().name
            except LookupError:
                name = hex(f.pc)
        names.append(name)
    return names


def stack(prog):
    from drgn.helpers.linux.list import list_for_each_entry
    init = prog["init_task"]
    task = init.address_of_()
    for n, t in enumerate(list_for_each_entry("struct task_struct", init.tasks.address_of_(), "tasks")):
        if t.pid.value_() == 1:
            task = t
            break
        if n > MAX_TASKS:
            break
    return {"task": task_id(task), "frames": frame_names(prog.stack_trace(task))}


def crashed(prog):
    return frame_names(prog.crashed_thread().stack_trace())


def emit(key, value):
    """One part, on a line of its own as soon as it is known: drgn 0.0.22
    can die of SIGSEGV (crashed_thread() on s390x), and the parts before
    must survive it."""
    sys.stdout.write(json.dumps({key: value}) + "\n")
    sys.stdout.flush()


def main(core, vmlinux):
    import drgn
    prog = drgn.Program()
    try:
        prog.set_core_dump(core)
    except Exception as e:
        return emit("open", "set_core_dump: " + err(e)["error"])
    p = prog.platform
    emit("platform", "%s %s" % (p.arch.name if p else "?",
                                ("little-endian" if p.flags & drgn.PlatformFlags.IS_LITTLE_ENDIAN
                                 else "big-endian") if p else "?"))
    emit("kernel", bool(prog.flags & drgn.ProgramFlags.IS_LINUX_KERNEL))
    try:
        prog.load_debug_info([vmlinux])
    except drgn.MissingDebugInfoError as e:
        emit("debug_info", str(e)[:400])
    except Exception as e:
        return emit("open", "load_debug_info: " + err(e)["error"])
    for key, fn in (("release", release), ("tasks", tasks), ("printk", printk),
                    ("stack", stack), ("crashed", crashed)):
        emit(key, part(fn, prog))
    return None


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
