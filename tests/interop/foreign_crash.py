#!/usr/bin/env python3
"""foreign_crash.py DUMPFS [CACHE_DIR]

Issue 11's crash judge: the crash utility built for the guest architecture
(Debian 12's crash:ARCH 8.0.2) run here under qemu-ARCH-static (package
qemu-user-static) with `-L SYSROOT`, a sysroot of that architecture's
.debs unpacked by tests/interop/install-foreign.sh into
DBG_DIR/ARCH-sysroot, on the foreign dumps of images/make-foreign-dumps.sh,
with the architecture's debug vmlinux.  For every dump, crash -s runs once on
the ORIGINAL file and once on our MNT/vmcore.elf (at once, two processes)
with the commands
  sys, ps, log, bt 1, bt, list task_struct.tasks -s task_struct.pid,comm -h init_task
and these judges look at the answers:

  crash-sys    crash opens the dump and `sys` names the RELEASE of
               logs/ARCH.versions.txt; ours must give the original's `sys`
               less its DUMPFILE line;
  crash-ps     `ps` lists pid 1;
  crash-tasks  crash's own walk of init_task.tasks (`list`) starts at
               swapper and holds pid 1 (what crash-ps cannot tell with
               crash 8.0.2, below);
  crash-log    `log` gives lines; where MNT/dmesg exists it equals `log`
               line by line (as crash_compare.py requires on x86_64);
  crash-bt     `bt 1` shows a frame with a symbol (#N [SP] FUNCTION at PC);
  crash-bt0    `bt` of crash's current task (the active one, swapper on
               an idle dump) shows a frame with a symbol.

Where both pass, ours must give the original's answer exactly.  One line
per (arch, dump, judge): "ok: ...", "FAIL: ...", "known gap: ..." or
"tool gap: ...".  A failure of ours that the original shares says
"original fails too: ..." and counts, except:

  KNOWN_GAPS (arch, judge): dumpfs's failures not fixed yet (issue 11);
  TOOL_GAPS  judge: crash 8.0.2's own failure on these kernels (below): it
             prints "tool gap" and does not count only when ours fails the
             way crash 8.0.2 does (its task table holds the idle tasks
             alone while its walk of init_task.tasks finds pid 1) and, where
             crash answers on the original, with the original's very answer.

Either list only shrinks: an entry that passes is a FAIL "drop it".

crash 8.0.2 and Debian's 6.1.176 kernels: struct pid ends in a flexible
`struct upid numbers[]` there, so SIZE(pid) no longer covers numbers[0];
crash reads SIZE(pid) bytes of each struct pid of init_pid_ns's xarray and
takes upid.ns from beyond them, never matches init_pid_ns and keeps only
the idle tasks (TASKS: 1; x86_64's own crash says TASKS: 2 on the 2-CPU
images/real dumps).  `ps` has no pid 1 and `bt 1` answers "invalid task or
pid value: 1", on the originals as on ours.

Exit 1 if a judge failed, 0 if none did, 77 (skip) when the cache, qemu-
user-static, every architecture's sysroot or debug vmlinux, or FUSE is
missing: bash tests/interop/install-foreign.sh installs all of it.  Each
crash run has a timeout (CRASH_TIMEOUT s, $DUMPFS_CRASH_TIMEOUT): crash
under TCG takes 1-2.5 minutes per dump here.  Heavy: run it at idle
priority (chrt -i 0).  Writes interop-results/foreign-crash.tsv, and what
crash printed to interop-results/foreign-crash/ARCH-DUMP.{original,ours}.{out,err}."""
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import time

from foreign_tools import DBG_DIR, Run, find_cache, find_vmlinux, kernel_release, read_manifest
from interop_common import Fail, first_difference, judge_both, mounted, need_fuse, skip

QEMU = {"arm64": "qemu-aarch64-static", "ppc64el": "qemu-ppc64le-static",
        "s390x": "qemu-s390x-static"}
CRASH_TIMEOUT = int(os.environ.get("DUMPFS_CRASH_TIMEOUT", "1200"))
LIST = "list task_struct.tasks -s task_struct.pid,comm -h init_task"
COMMANDS = ["sys", "ps", "log", "bt 1", "bt", LIST]
MARK = "@@@ "
# None: ppc64el's /vmcore.elf, once written big-endian for this
# little-endian kernel (crash: "endian mismatch", "not a supported file
# format"), is in the kernel's byte order since 08fef38, and crash answers
# on it where it cannot on either original.
KNOWN_GAPS = set()
TOOL_GAPS = {"crash-ps": "crash 8.0.2 reads struct pid without its flexible numbers[]",
             "crash-bt": "crash 8.0.2 reads struct pid without its flexible numbers[]"}


def sysroot(arch):
    return os.path.join(DBG_DIR, arch + "-sysroot")


def run_crash(arch, vmlinux, dump):
    """crash -s under qemu-ARCH-static: {"out": {command: text}, "raw": all
    it printed, "rc": exit status or None, "seconds": wall time}."""
    root = sysroot(arch)
    script = "".join("echo %s%s\n%s\n" % (MARK, c, c) for c in COMMANDS) + "quit\n"
    cmd = [QEMU[arch], "-L", root, os.path.join(root, "usr/bin/crash"), "-s", vmlinux, dump]
    t0 = time.time()
    try:
        r = subprocess.run(cmd, input=script, capture_output=True, text=True, errors="replace",
                           timeout=CRASH_TIMEOUT)
        stdout, stderr, rc = r.stdout, r.stderr, r.returncode
    except subprocess.TimeoutExpired as e:
        stdout = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        stderr, rc = "crash timed out after %d s\n" % CRASH_TIMEOUT, None
    res = parse(stdout, stderr, rc)
    res["seconds"] = time.time() - t0
    return res


def parse(stdout, stderr, rc):
    out, cur = {}, None
    for line in stdout.splitlines(keepends=True):
        if line.startswith(MARK):
            cur = line[len(MARK):].rstrip("\n")
            out[cur] = ""
        elif cur is not None:
            out[cur] += line
    return {"out": out, "raw": stdout + stderr, "stdout": stdout, "stderr": stderr, "rc": rc}


def save(arch, dump, tag, res):
    """interop-results/foreign-crash/ARCH-DUMP.TAG.{out,err}: what crash said."""
    d = os.path.join("interop-results", "foreign-crash")
    os.makedirs(d, exist_ok=True)
    base = os.path.join(d, "%s-%s.%s" % (arch, dump, tag))
    for ext, text in (("out", res["stdout"]), ("err", res["stderr"])):
        with open(base + "." + ext, "w") as f:
            f.write(text)


def crash_error(res):
    """Why crash gave no answers: the lines of its output that say so."""
    lines = [l.strip() for l in res["raw"].splitlines()
             if re.search(r"crash:|WARNING|error|timed out|not a supported|mismatch|cannot", l, re.I)]
    return "; ".join(lines[:4]) or res["raw"].strip()[-300:] or "exit %s, no output" % res["rc"]


def answer(res, cmd):
    if "sys" not in res["out"]:
        raise Fail("crash gives no answers: " + crash_error(res))
    text = res["out"].get(cmd)
    if text is None:
        raise Fail("crash stopped before `%s`: %s" % (cmd, crash_error(res)))
    return text


def errors_in(text):
    return "; ".join(l.strip() for l in text.splitlines()[:3]) or "nothing"


# --- the judges: (summary, value compared with the original's) or Fail ------

def judge_sys(ctx, res):
    text = answer(res, "sys")
    m = re.search(r"^\s+RELEASE: (\S+)", text, re.M)
    if not m:
        raise Fail("`sys` has no RELEASE: " + errors_in(text))
    if m.group(1) != ctx["release"]:
        raise Fail("`sys` RELEASE %r, expected %r" % (m.group(1), ctx["release"]))
    keep = [l for l in text.splitlines() if not re.match(r"\s*DUMPFILES?:", l)]
    tasks = re.search(r"^\s+TASKS: (\d+)", text, re.M)
    return ("RELEASE %s, TASKS %s" % (m.group(1), tasks.group(1) if tasks else "?"), "\n".join(keep))


def judge_ps(ctx, res):
    text = answer(res, "ps")
    rows = [l for l in text.splitlines() if re.match(r"^[> ]\s*\d+\s+\d+\s+\d+\s+[0-9a-f]+\s", l)]
    pids = [int(l[1:].split()[0]) for l in rows]
    if 1 not in pids:
        raise Fail("`ps` lists %d task(s), no pid 1: %s" % (
            len(rows), "; ".join(" ".join(l[1:].split()[i] for i in (0, 8)) for l in rows[:4]
                                 if len(l[1:].split()) > 8) or errors_in(text)))
    return "`ps` lists %d tasks with pid 1" % len(rows), text


def judge_tasks(ctx, res):
    text = answer(res, LIST)
    tasks = [(p, re.sub(r"(\\000)+$", "", c)) for p, c in
             re.findall(r"^\s+pid = (\d+),?\n\s+comm = \"([^\"]*)\"", text, re.M)]
    if not tasks:
        raise Fail("`list ... -h init_task` gives no task: " + errors_in(text))
    if not tasks[0][1].startswith("swapper"):
        raise Fail("the walk starts at %r, not swapper" % (tasks[0],))
    init = [c for p, c in tasks if p == "1"]
    if not init:
        raise Fail("no pid 1 among the %d tasks of init_task.tasks" % len(tasks))
    return "%d tasks on init_task.tasks (pid 1 %r)" % (len(tasks), init[0]), tasks


def judge_log(ctx, res):
    text = answer(res, "log")
    if not re.search(r"^\[\s*\d+\.\d{6}\] ", text, re.M):
        raise Fail("`log` has no record: " + errors_in(text))
    msg = "`log` %d lines" % len(text.splitlines())
    mnt = res.get("mnt")
    if mnt:
        dmesg = os.path.join(mnt, "dmesg")
        if os.path.exists(dmesg):
            with open(dmesg, "rb") as f:
                ours = f.read().decode("utf-8", "replace")
            if ours != text:
                raise Fail("/dmesg differs from crash's `log`: " +
                           first_difference(text, ours, "crash", "/dmesg"))
            msg += " = /dmesg"
        else:
            msg += ", no /dmesg"
    return msg, text


def bt_judge(cmd):
    def judge(ctx, res):
        text = answer(res, cmd)
        frames = re.findall(r"^\s*#\d+\s+\[[0-9a-f]+\]\s+(\S+) at [0-9a-f]+", text, re.M)
        head = re.search(r"^PID: .*", text, re.M)
        if not frames:
            raise Fail("`%s` shows no frame with a symbol: %s" % (cmd, errors_in(text)))
        return ("`%s`: %s, %d frames: %s" % (cmd, head.group(0).split("  COMMAND")[0] if head else "?",
                                              len(frames), " < ".join(frames[:4])), text)
    return judge


JUDGES = [("crash-sys", judge_sys), ("crash-ps", judge_ps), ("crash-tasks", judge_tasks),
          ("crash-log", judge_log), ("crash-bt", bt_judge("bt 1")), ("crash-bt0", bt_judge("bt"))]


# --- ours against the original ----------------------------------------------

def tool_gap(name, ours, orig):
    """Whether NAME fails on ours the way crash 8.0.2 fails on these kernels
    (TOOL_GAPS): its task table holds the idle tasks only although its own
    walk of init_task.tasks finds pid 1 in the same memory; where crash
    answers on the original, with the original's very answer."""
    if name not in TOOL_GAPS:
        return False
    try:
        judge_tasks(None, ours)
        cmd = {"crash-ps": "ps", "crash-bt": "bt 1"}[name]
        text = answer(ours, cmd)
    except Fail:
        return False
    if name == "crash-ps":
        pids = [l[1:].split()[0] for l in text.splitlines()
                if re.match(r"^[> ]\s*\d+\s+\d+\s+\d+\s+[0-9a-f]+\s", l)]
        sig = pids and set(pids) == {"0"}
    else:
        sig = "invalid task or pid value: 1" in text
    return bool(sig) and ("sys" not in orig["out"] or orig["out"].get(cmd) == text)


def verdict(run, arch, dump, name, fn, ctx, ours, orig):
    ok, line = judge_both(ctx, name, fn, ours, orig, None)
    if not ok and tool_gap(name, ours, orig):
        print("tool gap: %s %s %s: %s (%s)" % (arch, dump, name, line, TOOL_GAPS[name]), flush=True)
        run.rows.append((arch, dump, name, "tool gap", line))
        run.tool += 1
        return
    if ok and name in TOOL_GAPS:
        ok, line = False, "passes now: drop it from TOOL_GAPS (%s)" % line
    run.record(arch, dump, name, ok, line)


def judge_dump(run, ctx, arch, row):
    dump = row["path"].split("/", 1)[-1]
    path = os.path.join(ctx["cache"], row["path"])
    try:
        with mounted(ctx["dumpfs"], [path]) as mnt:
            elf = os.path.join(mnt, "vmcore.elf")
            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                f_orig = pool.submit(run_crash, arch, ctx["vmlinux"], path)
                f_ours = pool.submit(run_crash, arch, ctx["vmlinux"], elf)
                orig, ours = f_orig.result(), f_ours.result()
            ours["mnt"] = mnt
            for tag, res in (("original", orig), ("ours", ours)):
                save(arch, dump, tag, res)
                print("info: %s %s crash on %s: %.0f s, exit %s%s" % (
                    arch, dump, tag, res["seconds"], res["rc"],
                    "" if "sys" in res["out"] else ", no answers: " + crash_error(res)), flush=True)
            for name, fn in JUDGES:
                verdict(run, arch, dump, name, fn, ctx, ours, orig)
    except Fail as e:
        for name, _ in JUDGES:
            run.record(arch, dump, name, False, "cannot mount: %s" % e)


def main(dumpfs, arg):
    cache = find_cache(arg)
    if not cache:
        skip("no foreign-architecture dumps (%s); make them with: bash images/make-foreign-dumps.sh"
             % (arg or "/var/cache/dumpfs/foreign-*/MANIFEST.tsv"))
    need_fuse()
    rows = read_manifest(cache)
    print("cache: %s; crash sysroots and debug vmlinux under %s" % (cache, DBG_DIR), flush=True)
    run = Run(KNOWN_GAPS)
    run.tool = 0
    for arch in sorted({r["arch"] for r in rows}):
        if arch not in QEMU:
            print("skip: %s: no qemu-user binary known for it" % arch)
            continue
        if not shutil.which(QEMU[arch]):
            print("skip: %s: no %s (apt-get install qemu-user-static; "
                  "bash tests/interop/install-foreign.sh)" % (arch, QEMU[arch]))
            continue
        if not os.access(os.path.join(sysroot(arch), "usr/bin/crash"), os.X_OK):
            print("skip: %s: no %s/usr/bin/crash (bash tests/interop/install-foreign.sh)"
                  % (arch, sysroot(arch)))
            continue
        release = kernel_release(cache, arch, rows)
        vmlinux = find_vmlinux(arch, release) if release else None
        if not vmlinux:
            print("skip: %s: no debug vmlinux-%s under %s/%s (bash tests/interop/install-foreign.sh)"
                  % (arch, release, DBG_DIR, arch))
            continue
        print("== %s: Linux %s, %s, crash %s" % (arch, release, vmlinux, sysroot(arch)), flush=True)
        ctx = {"cache": cache, "dumpfs": dumpfs, "vmlinux": vmlinux, "release": release}
        for row in rows:
            if row["arch"] == arch:
                judge_dump(run, ctx, arch, row)
    if run.passed + run.failed + run.known + run.tool == 0:
        skip("nothing judged: no architecture of %s has qemu-user-static, its crash sysroot and "
             "its debug vmlinux (bash tests/interop/install-foreign.sh)" % cache)
    os.makedirs("interop-results", exist_ok=True)
    out = os.path.join("interop-results", "foreign-crash.tsv")
    with open(out, "w") as f:
        f.write("arch\tdump\tjudge\tstatus\tresult\n")
        for r in run.rows:
            f.write("\t".join(x.replace("\t", " ").replace("\n", " ") for x in r) + "\n")
    print("results in %s" % os.path.abspath(out))
    print("%d known gaps (issue 11), %d tool gaps (crash 8.0.2)" % (run.known, run.tool))
    print("%d passed, %d failed" % (run.passed, run.failed))
    return 1 if run.failed else 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
