"""Shared helpers of the interop tests: the real corpus's manifest, the debug
vmlinux, mounting dumpfs, running crash, and the exit-77 skip convention of
meson (a missing tool or corpus is a skip, never a pass)."""
import contextlib
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
