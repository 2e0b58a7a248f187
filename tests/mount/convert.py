#!/usr/bin/env python3
"""convert.py DUMPFS MKDUMP - `dumpfs cat --sparse` writes a file with holes
where the dump's file has them and the same bytes as a full copy; progress
goes to standard error as documented."""
import json
import os
import pty
import subprocess
import sys
import tempfile

DUMPFS, MKDUMP = sys.argv[1:3]
failures = []
passed = 0


def check(cond, what):
    global passed
    if cond:
        passed += 1
        print("ok:", what)
    else:
        failures.append(what)
        print("FAIL:", what)


def run(*args, **kw):
    return subprocess.run([DUMPFS, *args], capture_output=True, **kw)


def holes(path):
    """[(data_start, data_end)] of a file by SEEK_DATA/SEEK_HOLE."""
    out, off = [], 0
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        while off < size:
            try:
                d = os.lseek(f.fileno(), off, os.SEEK_DATA)
            except OSError:
                break
            h = os.lseek(f.fileno(), d, os.SEEK_HOLE)
            out.append((d, h))
            off = h
    return out


with tempfile.TemporaryDirectory() as work:
    dump = os.path.join(work, "d")
    # 16 MiB of RAM with a large excluded part: /vmcore.elf is mostly holes
    subprocess.run([MKDUMP, "--codec", "zlib", "--excluded", "--zero-pages", "--ram", "0-4095",
                    dump], check=True, capture_output=True)
    facts = json.loads(run("info", "--json", dump).stdout)
    excluded = facts["pages"]["excluded"] * facts["page_size"]
    check(excluded > 0, "the dump excludes %d bytes" % excluded)
    for path in ("/vmcore.elf", "/mem"):
        full = run("cat", dump, path).stdout
        out = os.path.join(work, "sparse" + path.replace("/", "-"))
        r = run("cat", "--sparse", "--output", out, dump, path)
        check(r.returncode == 0, "%s: cat --sparse --output exits 0 (%s)" % (path, r.stderr))
        data = open(out, "rb").read()
        check(data == full, "%s: sparse copy has the same %d bytes as the full one" % (path, len(full)))
        # every excluded page is a hole of the copy
        node = holes(out)
        hole_bytes = len(full) - sum(h - d for d, h in node)
        check(len(node) > 1 and hole_bytes >= excluded,
              "%s: the copy has %d data ranges, %d bytes of holes (%d bytes excluded)"
              % (path, len(node), hole_bytes, excluded))
        check(os.stat(out).st_blocks * 512 < len(full), "%s: the copy allocates less than its size" % path)
        # through standard output too, with --offset/--length
        out2 = os.path.join(work, "part")
        with open(out2, "wb") as f:
            r = subprocess.run([DUMPFS, "cat", "--sparse", "--offset", "8K", "--length", "3M",
                                dump, path], stdout=f, stderr=subprocess.PIPE)
        check(r.returncode == 0 and open(out2, "rb").read() == full[8192:8192 + (3 << 20)],
              "%s: --sparse > FILE with --offset and --length" % path)

    # refused where holes cannot be made
    r = subprocess.run([DUMPFS, "cat", "--sparse", dump, "/mem"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    check(r.returncode == 1 and b"--sparse needs a regular file" in r.stderr,
          "--sparse into a pipe is refused: %r" % r.stderr)
    app = os.path.join(work, "append")
    open(app, "wb").write(b"x")
    with open(app, "ab") as f:
        r = subprocess.run([DUMPFS, "cat", "--sparse", dump, "/mem"], stdout=f,
                           stderr=subprocess.PIPE)
    check(r.returncode == 1 and b"must be empty" in r.stderr, "--sparse >> FILE is refused")

    # progress: --progress into a pipe gives whole lines ending at 100%
    r = run("cat", "--progress", "--output", os.devnull, dump, "/vmcore.elf", text=True)
    lines = r.stderr.splitlines()
    check(r.returncode == 0 and lines and lines[-1].startswith("dumpfs: ") and "(100%)" in lines[-1]
          and "MB/s" in lines[-1] and "left" in lines[-1], "--progress lines: %r" % lines[-1:])

    # on a terminal: redrawn with \r; a copy shorter than a second prints nothing
    def on_pty(*args):
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(DUMPFS, [DUMPFS, *args])
        out = b""
        while True:
            try:
                b = os.read(fd, 4096)
            except OSError:
                break
            if not b:
                break
            out += b
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status), out

    rc, out = on_pty("cat", "--progress", "--output", os.devnull, dump, "/mem")
    # the terminal turns "\n" into "\r\n" (onlcr)
    check(rc == 0 and out.startswith(b"\rdumpfs: ") and out.endswith(b"left\r\n"),
          "--progress on a terminal redraws one line: %r" % out[-60:])
    rc, out = on_pty("cat", "--output", os.devnull, dump, "/mem")
    check(rc == 0 and out == b"", "a quick copy on a terminal prints nothing: %r" % out[:60])

print("%d passed, %d failed" % (passed, len(failures)))
sys.exit(1 if failures else 0)
