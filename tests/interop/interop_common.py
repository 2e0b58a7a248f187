"""Shared helpers of the interop tests: the real corpus's manifest, the debug
vmlinux, mounting dumpfs, running crash, the exit-77 skip convention of
meson (a missing tool or corpus is a skip, never a pass), and drgn: running
foreign_drgn.py in a child and the judges of what it prints (drgn-release,
-tasks, -printk, -stack), shared by foreign_tools.py and tools_check.py."""
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77


class Fail(Exception):
    pass


def skip(why):
    print("SKIP: " + why)
    sys.exit(SKIP)


def need_tool(name):
    path = shutil.which(name)
    if not path:
        skip("%s is not installed (bash tests/interop/install.sh)" % name)
    return path


def need_fuse():
    if not os.path.exists("/dev/fuse") or not shutil.which("fusermount3"):
        skip("no /dev/fuse or fusermount3: cannot mount")


def manifest(real):
    path = os.path.join(real, "MANIFEST.tsv")
    if not os.path.exists(path):
        skip("%s missing: make the corpus with bash images/make-real-dumps.sh" % path)
    rows = []
    with open(path) as f:
        cols = f.readline().rstrip("\n").split("\t")
        for line in f:
            rows.append(dict(zip(cols, line.rstrip("\n").split("\t"))))
    return rows


def dump_sets(rows, groups=None):
    """[(name, row, [paths])]: split parts (NAME.1, NAME.2, ...) are one set."""
    sets = {}
    for r in rows:
        if groups and r["group"] not in groups:
            continue
        name = r["path"]
        if r["format"] == "kdump-split":
            name = name.rsplit(".", 1)[0]
        sets.setdefault(name, (r, []))[1].append(r["path"])
    return [(name, row, sorted(paths)) for name, (row, paths) in sets.items()]


def kernel_release(real):
    """The corpus's guest kernel release, from the run's versions.txt."""
    path = os.path.join(real, "logs", "versions.txt")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.startswith("kernel_release="):
                    return line.split("=", 1)[1].strip()
    return None


def need_vmlinux(real):
    release = kernel_release(real)
    if not release:
        skip("cannot tell the corpus's kernel release (%s/logs/versions.txt)" % real)
    path = "/usr/lib/debug/boot/vmlinux-" + release
    if not os.path.exists(path):
        skip("%s missing: install linux-image-%s-dbg (bash tests/interop/install.sh)"
             % (path, release))
    return path


@contextlib.contextmanager
def mounted(dumpfs, files):
    """Mount FILES with dumpfs on a fresh directory; unmount on exit."""
    mnt = tempfile.mkdtemp(prefix="dumpfs-interop.")
    r = subprocess.run([dumpfs, *files, mnt], capture_output=True, text=True)
    if r.returncode != 0:
        os.rmdir(mnt)
        raise Fail("mount of %s failed: %s" % (" ".join(files), r.stderr.strip()))
    try:
        yield mnt
    finally:
        subprocess.run(["fusermount3", "-u", mnt], check=False)
        for _ in range(200):
            if not os.path.ismount(mnt):
                break
            time.sleep(0.05)
        os.rmdir(mnt)


def dumpfs_info(dumpfs, files):
    r = subprocess.run([dumpfs, "info", *files], capture_output=True, text=True)
    if r.returncode != 0:
        raise Fail("dumpfs info %s: %s" % (" ".join(files), r.stderr.strip()))
    return r.stdout


MARK = "@@@ "


def run_crash(vmlinux, dumpfiles, commands, timeout=600):
    """Run crash in batch mode; returns (ok, {command: output}, raw output).
    Each command's output is delimited by crash's own `echo`, so the split
    does not depend on how crash buffers its output."""
    script = "".join("echo %s%s\n%s\n" % (MARK, c, c) for c in commands) + "quit\n"
    try:
        r = subprocess.run(["crash", "-s", vmlinux, *dumpfiles], input=script,
                           capture_output=True, text=True, errors="replace",
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, {}, "crash timed out after %d s" % timeout
    raw = r.stdout + r.stderr
    out, cur = {}, None
    for line in r.stdout.splitlines(keepends=True):
        if line.startswith(MARK):
            cur = line[len(MARK):].rstrip("\n")
            out[cur] = ""
        elif cur is not None:
            out[cur] += line
    ok = r.returncode == 0 and all(c in out for c in commands) and \
        re.search(r"^\s+RELEASE: ", out.get("sys", ""), re.M) is not None
    return ok, out, raw


# --- drgn: foreign_drgn.py in a child, and the judges of what it prints ------
# (foreign_tools.py on the foreign dumps, tools_check.py drgn on images/real/)

DRGN_CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "foreign_drgn.py")
DRGN_TIMEOUT = 900
RUNAWAY = 1000      # frames; no real kernel stack (16 KiB) has as many


def drgn_python():
    """A Python that imports drgn: Debian's is /usr/bin/python3, which need
    not be the one running this test."""
    seen = set()
    for py in (sys.executable, "/usr/bin/python3", shutil.which("python3")):
        if not py or py in seen or not os.path.exists(py):
            continue
        seen.add(py)
        if subprocess.run([py, "-c", "import drgn"], capture_output=True).returncode == 0:
            return py
    return None


def run_drgn(py, core, vmlinux):
    """foreign_drgn.py's JSON for CORE, or {"open": why} if it gave none.
    The child runs without MALLOC_PERTURB_, which `meson test` sets: with it,
    libkdumpfile 0.5.1's kdump_free() (drgn 0.0.22 opens kdump-compressed
    files through it) crashes with SIGSEGV, and the original would "fail"
    for a reason no user meets."""
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_PERTURB_"}
    try:
        r = subprocess.run([py, DRGN_CHILD, core, vmlinux], capture_output=True, text=True,
                           errors="replace", timeout=DRGN_TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        return {"open": "drgn timed out after %d s" % DRGN_TIMEOUT}
    res = {}
    for line in r.stdout.splitlines():
        try:
            res.update(json.loads(line))
        except ValueError:
            pass
    died = "drgn child exited %d%s: %s" % (
        r.returncode, " (signal %d)" % -r.returncode if r.returncode < 0 else "",
        (r.stderr or "").strip()[-300:])
    if not res:
        return {"open": died}
    if r.returncode != 0:
        res.setdefault("crashed", {"error": died})
    # the crashed thread's frames go with pid 1's, as an aside
    if isinstance(res.get("stack"), dict) and "error" not in res["stack"]:
        c = res.get("crashed", {"error": died})
        res["stack"]["crashed"] = c["error"] if isinstance(c, dict) else c
    return res


def not_kernel(res):
    return "" if res.get("kernel") else \
        " (drgn does not see a Linux kernel core: %s, no VMCOREINFO)" % res.get("platform")


def drgn_part(res, key):
    if "open" in res:
        raise Fail("drgn cannot open it: " + res["open"])
    if key not in res:
        raise Fail("drgn gave no %r: %s" % (key, res.get("crashed", {}).get("error", "?")
                                            if isinstance(res.get("crashed"), dict) else "?"))
    v = res.get(key)
    if isinstance(v, dict) and "error" in v:
        raise Fail(v["error"] + not_kernel(res))
    return v


def judge_release(ctx, res):
    v = drgn_part(res, "release")
    got = v["init_uts_ns"]
    if isinstance(got, dict):
        uts = v.get("UTS_RELEASE")
        raise Fail("init_uts_ns: %s%s%s" % (got["error"], "; UTS_RELEASE %r (VMCOREINFO only)" % uts
                                            if isinstance(uts, str) else "", not_kernel(res)))
    if got != ctx["release"]:
        raise Fail("init_uts_ns.name.release %r, expected %r" % (got, ctx["release"]))
    uts = v.get("UTS_RELEASE")
    if isinstance(uts, dict):
        raise Fail("UTS_RELEASE: " + uts["error"])
    if uts is not None and uts != ctx["release"]:
        raise Fail("UTS_RELEASE %r, expected %r" % (uts, ctx["release"]))
    return ("init_uts_ns.name.release %r%s" % (got, ", UTS_RELEASE the same" if uts else ""), got)


def judge_tasks(ctx, res):
    v = drgn_part(res, "tasks")
    tasks = v["list"]
    if not tasks or not tasks[0][1].startswith("swapper"):
        raise Fail("init_task is %r, not swapper" % (tasks[0] if tasks else None,))
    init = [c for p, c in tasks if p == 1]
    if not init:
        raise Fail("no pid 1 among the %d tasks on init_task.tasks: %s" % (
            len(tasks), ", ".join("%d %s" % (p, c) for p, c in tasks[:8])))
    return ("%d tasks on init_task.tasks (%s, pid 1 %r, ...), for_each_task %s" % (
        len(tasks), tasks[0][1], init[0], v.get("for_each_task")),
        ["%d %s" % (p, c) for p, c in tasks])


def crash_log(records):
    """The records as crash's `log` prints them, which is /dmesg's format:
    "[%5d.%06d] " then the text, a newline continued under the prefix, a
    byte neither printable nor space as '.'."""
    out = []
    for ts, text in records:
        prefix = "[%5d.%06d] " % (ts // 1000000000, ts % 1000000000 // 1000)
        body = []
        for c in text:
            o = ord(c)
            if c == "\n":
                body.append("\n" + " " * len(prefix))
            elif 0x20 <= o < 0x7f or 9 <= o <= 13:
                body.append(c)
            else:
                body.append(".")
        out.append(prefix + "".join(body) + "\n")
    return "".join(out)


def first_difference(a, b, what_a, what_b):
    al, bl = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(al, bl)):
        if x != y:
            return "line %d: %s %r, %s %r" % (i + 1, what_a, x, what_b, y)
    return "%s %d lines, %s %d lines" % (what_a, len(al), what_b, len(bl))


def judge_printk(ctx, res):
    v = drgn_part(res, "printk")
    recs = v["records"]
    if not recs:
        raise Fail("get_printk_records() gives no record")
    text = crash_log(recs)
    return ("%d records, %d lines, the first %r" % (len(recs), len(text.splitlines()),
                                                    recs[0][1][:60]), text)


def judge_stack(ctx, res):
    v = drgn_part(res, "stack")
    frames = v["frames"]
    named = [f for f in frames if not f.startswith("0x")]
    crashed = v.get("crashed")
    also = "; crashed thread: %s" % (" < ".join(crashed[:4]) if isinstance(crashed, list) else crashed)
    if not named:
        raise Fail("stack_trace(pid %d %s): %d frames, none with a symbol (%s)%s" % (
            v["task"][0], v["task"][1], len(frames), " ".join(frames[:4]), also))
    # A runaway unwind: drgn follows return addresses read from memory until
    # its frame limit (1024); a frame at pc 0 means it read a zero where the
    # original dump has nothing (seen when a PT_LOAD sits at virtual 0).
    if len(frames) >= RUNAWAY or "0x0" in frames:
        zero = frames.index("0x0") if "0x0" in frames else -1
        raise Fail("stack_trace(pid %d %s): the unwind went astray, %d frames%s: %s" % (
            v["task"][0], v["task"][1], len(frames),
            ", frame %d at pc 0x0" % zero if zero >= 0 else "",
            " < ".join(frames[max(0, zero - 3):zero + 2] if zero >= 0 else frames[:6])))
    return ("stack_trace(pid %d %s): %d frames: %s%s" % (
        v["task"][0], v["task"][1], len(frames), " < ".join(frames[:4]), also), frames)


def dmesg_check(mnt, text):
    """Our /dmesg against drgn's records (crash's format): (ok, message)."""
    dmesg = os.path.join(mnt, "dmesg")
    if os.path.exists(dmesg):
        with open(dmesg, "rb") as f:
            ours = f.read().decode("latin-1")
        if ours != text:
            return False, "/dmesg differs from drgn's records: " + first_difference(text, ours, "drgn", "/dmesg")
        return True, "equal to /dmesg (%d lines)" % len(ours.splitlines())
    why = "no dmesg line"
    with open(os.path.join(mnt, "header"), errors="replace") as f:
        for line in f:
            if line.startswith("dmesg: "):
                why = line.strip()
                break
    if os.path.exists(os.path.join(mnt, "vmcoreinfo")):
        return False, "drgn decodes the log, but /dmesg is absent although /vmcoreinfo exists (/header: %s)" % why
    return True, "no /dmesg (/header: %s; no /vmcoreinfo)" % why


def judge_both(ctx, name, fn, ours, orig, mnt):
    """(ok, line) for one judge on our /vmcore.elf (OURS, the drgn child's
    output; MNT its mount, for drgn-printk's /dmesg) and the original (ORIG;
    None when it was not run, ctx["orig_why"] says why).  When both pass,
    their values must be equal."""
    if orig is None:
        o_msg = o_val = None
        o_err = ctx.get("orig_why", "not run")
    else:
        try:
            o_msg, o_val = fn(ctx, orig)
            o_err = None
        except (Fail, KeyError, TypeError, IndexError) as e:
            o_err = "%s" % e if isinstance(e, Fail) else "%s: %s" % (type(e).__name__, e)
    try:
        msg, val = fn(ctx, ours)
        err = None
    except (Fail, KeyError, TypeError, IndexError) as e:
        err = "%s" % e if isinstance(e, Fail) else "%s: %s" % (type(e).__name__, e)
    if err is None and name == "drgn-printk" and mnt is not None:
        d_ok, d = dmesg_check(mnt, val)
        if d_ok:
            msg += "; " + d
        else:
            err = d
    if err is None:
        if orig is None:
            return True, "%s; the original: %s" % (msg, o_err)
        if o_err is not None:
            return True, "%s; the original fails: %s" % (msg, o_err)
        if o_val != val:
            if isinstance(val, str):
                diff = first_difference(o_val, val, "original", "ours")
            else:
                diff = first_difference("\n".join(map(str, o_val)), "\n".join(map(str, val)),
                                        "original", "ours")
            return False, "ours differs from the original: %s (ours: %s)" % (diff, msg)
        return True, "%s; the original: the same" % msg
    if orig is None:
        return False, "ours: %s; the original: %s" % (err, o_err)
    if o_err is not None:
        return False, "ours: %s; original fails too: %s" % (err, o_err)
    return False, "ours: %s; the original passes: %s" % (err, o_msg)


DRGN_JUDGES = [("drgn-release", judge_release),
               ("drgn-tasks", judge_tasks),
               ("drgn-printk", judge_printk),
               ("drgn-stack", judge_stack)]
