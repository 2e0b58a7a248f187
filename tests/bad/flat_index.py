#!/usr/bin/env python3
"""flat_index.py DUMPFS MKDUMP SAMPLE REALDIR WORKDIR

`dumpfs index` and the DUMP.dfsidx sidecar of a makedumpfile flattened
file (docs/index-sidecar.md), on the generator's flattened dumps (kdump with
excluded and zero pages, ELF, an incomplete kdump) and on the real ones of
REALDIR/{mdf,kdump}/*.flat when they are there (skipped otherwise;
$DUMPFS_REAL_IMAGES stands for REALDIR when set):

  indexed     `dumpfs index DUMP` writes DUMP.dfsidx; a FUSE mount then picks
              it up: /mem and /vmcore.elf are byte for byte the scanned
              mount's (`dumpfs cat` of DUMP without a sidecar), and /header's
              file line says "index: DUMP.dfsidx" (a scan says "index: full read")
  output      `dumpfs index -o OUT` and `info --index OUT` / `-o index=OUT`
  stale       another dump's sidecar as DUMP.dfsidx is refused: /header warns
              "index sidecar refused" naming it, the dump is scanned and
              served as before
  not-flat    `dumpfs index` of a kdump file is refused, nothing written
  real        each real flattened dump through `-o OUT` and `cat --index`:
              /mem and /vmcore.elf equal to the scan's
"""
import glob
import hashlib
import os
import shutil
import subprocess
import sys

from synth import run_cases


def run(*args, timeout=600):
    return subprocess.run(list(args), capture_output=True, timeout=timeout)


def digest_cat(dumpfs, dump, node, *extra):
    """(exit status, SHA-256 of the bytes, bytes) of `dumpfs cat` of @node."""
    h, n = hashlib.sha256(), 0
    p = subprocess.Popen([dumpfs, "cat", *extra, dump, node], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    for chunk in iter(lambda: p.stdout.read(1 << 20), b""):
        h.update(chunk)
        n += len(chunk)
    return p.wait(timeout=600), h.hexdigest(), n


def digest_file(path):
    h, n = hashlib.sha256(), 0
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
                n += len(chunk)
    except OSError:
        return 1, h.hexdigest(), n      # EIO where an incomplete dump lost pages
    return 0, h.hexdigest(), n


def header(dumpfs, dump, *extra):
    r = run(dumpfs, "info", *extra, dump)
    if r.returncode:
        raise AssertionError("info %s: %s" % (dump, r.stderr.decode(errors="replace")[-300:]))
    return r.stdout.decode()


def file_line(text):
    return next(l for l in text.splitlines() if l.startswith("file:"))


def scanned(dumpfs, dump, work):
    """/mem and /vmcore.elf of a mount of @dump with no sidecar near it."""
    assert not os.path.exists(dump + ".dfsidx")
    got, head = mounted(dumpfs, dump, os.path.join(work, "mnt"))
    if "index: full read" not in file_line(head):
        raise AssertionError("a scan's /header does not say 'index: full read'")
    return got


def mounted(dumpfs, dump, mnt, *opts):
    """/mem, /vmcore.elf and /header of a FUSE mount of @dump."""
    os.makedirs(mnt, exist_ok=True)
    r = run(dumpfs, dump, mnt, *opts, timeout=120)
    if r.returncode:
        raise AssertionError("mount: %s" % r.stderr.decode(errors="replace")[-300:])
    try:
        got = {n: digest_file(mnt + n) for n in ("/mem", "/vmcore.elf")}
        with open(mnt + "/header") as f:
            return got, f.read()
    finally:
        run("fusermount3", "-u", mnt)


def same(got, want, what):
    for node in want:
        if got[node] != want[node]:
            raise AssertionError("%s: %s is (exit %d, %s, %d bytes), the scan's (exit %d, %s, %d bytes)"
                                 % (what, node, *got[node], *want[node]))
    return "; ".join("%s %d bytes" % (n, want[n][2]) for n in want)


def check_indexed(dumpfs, dump, want, work):
    r = run(dumpfs, "index", dump)
    if r.returncode or not os.path.exists(dump + ".dfsidx"):
        raise AssertionError("index: %s" % r.stderr.decode(errors="replace")[-300:])
    if glob.glob(dump + ".dfsidx.tmp*"):
        raise AssertionError("a temporary file was left behind")
    got, head = mounted(dumpfs, dump, os.path.join(work, "mnt"))
    if "index: %s.dfsidx)" % dump not in file_line(head):
        raise AssertionError("/header's %r does not name the sidecar" % file_line(head))
    if "refused" in head:
        raise AssertionError("the sidecar was refused: %s" % head)
    return "sidecar %d bytes; %s" % (os.path.getsize(dump + ".dfsidx"), same(got, want, "mount"))


def check_output(dumpfs, dump, want, work):
    """cat of a copy without a sidecar is the scan's"""
    out = os.path.join(work, "elsewhere.dfsidx")
    shutil.copyfile(dump, dump + ".copy")
    r = run(dumpfs, "index", "-o", out, dump)
    if r.returncode:
        raise AssertionError("index -o: %s" % r.stderr.decode(errors="replace")[-300:])
    if "index: %s)" % out not in file_line(header(dumpfs, dump, "--index", out)):
        raise AssertionError("info --index does not use %s" % out)
    got = {n: digest_cat(dumpfs, dump, n, "--index", out) for n in want}
    same(got, {n: digest_cat(dumpfs, dump + ".copy", n) for n in want}, "cat --index")
    got2, head = mounted(dumpfs, dump, os.path.join(work, "mnt"), "-o", "index=" + out)
    if "index: %s)" % out not in file_line(head):
        raise AssertionError("-o index= does not use %s: %r" % (out, file_line(head)))
    return same(got2, want, "mount -o index=")


def check_stale(dumpfs, dump, other, want, work):
    shutil.copyfile(other + ".dfsidx", dump + ".dfsidx")
    got, head = mounted(dumpfs, dump, os.path.join(work, "mnt"))
    os.unlink(dump + ".dfsidx")
    if "index: full read" not in file_line(head):
        raise AssertionError("a stale sidecar was used: %r" % file_line(head))
    warn = [l for l in head.splitlines() if "index sidecar refused" in l]
    if not warn or dump + ".dfsidx: offset " not in warn[0]:
        raise AssertionError("no warning naming the stale sidecar and an offset: %r" % warn)
    return "%s; %s" % (warn[0].split(": ", 1)[1][:90], same(got, want, "mount"))


def check_not_flat(dumpfs, sample, work):
    copy = os.path.join(work, "plain.kdump")
    shutil.copyfile(sample, copy)
    r = run(dumpfs, "index", copy)
    msg = r.stderr.decode(errors="replace")
    if r.returncode != 1 or "not a makedumpfile flattened file" not in msg or copy not in msg:
        raise AssertionError("exit %d: %s" % (r.returncode, msg))
    if os.path.exists(copy + ".dfsidx"):
        raise AssertionError("a sidecar was written")
    return msg.strip()


def check_real(dumpfs, dump, work):
    out = os.path.join(work, os.path.basename(dump) + ".dfsidx")
    r = run(dumpfs, "index", "-o", out, dump)
    if r.returncode:
        raise AssertionError("index: %s" % r.stderr.decode(errors="replace")[-300:])
    if "index: %s)" % out not in file_line(header(dumpfs, dump, "--index", out)):
        raise AssertionError("info --index does not use the sidecar")
    nodes = ("/mem", "/vmcore.elf")
    if "index: full read" not in file_line(header(dumpfs, dump)):
        raise AssertionError("%s is not scanned without --index" % dump)
    want = {n: digest_cat(dumpfs, dump, n) for n in nodes}
    got = {n: digest_cat(dumpfs, dump, n, "--index", out) for n in nodes}
    return "sidecar %d bytes; %s" % (os.path.getsize(out), same(got, want, "cat --index"))


def main(dumpfs, mkdump, sample, real, work):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    dumps = {
        "kdump": ["--flat", "--excluded", "--zero-pages"],
        "elf": ["--format", "elf", "--flat", "--seed", "2"],
        "incomplete": ["--flat", "--incomplete", "--seed", "3"],
    }
    cases, want = [], {}
    for name, args in dumps.items():
        path = os.path.join(work, name + ".flat")
        subprocess.run([mkdump, *args, path], check=True, capture_output=True)
        want[name] = scanned(dumpfs, path, work)
    for name in dumps:
        path = os.path.join(work, name + ".flat")
        cases.append(("indexed " + name, lambda p=path, n=name: check_indexed(dumpfs, p, want[n], work)))
    first = os.path.join(work, "kdump.flat")
    cases.append(("output", lambda: check_output(dumpfs, first, want["kdump"], work)))
    cases.append(("stale", lambda: check_stale(dumpfs, first, os.path.join(work, "elf.flat"),
                                               want["kdump"], work)))
    cases.append(("not-flat", lambda: check_not_flat(dumpfs, sample, work)))
    flats = sorted(glob.glob(os.path.join(real, "mdf", "*.flat")) +
                   glob.glob(os.path.join(real, "kdump", "*.flat")))
    for dump in flats:
        cases.append(("real " + os.path.basename(dump), lambda d=dump: check_real(dumpfs, d, work)))
    if not flats:
        print("skip: real: no %s/{mdf,kdump}/*.flat" % real)
    rc = run_cases(cases)
    if rc == 0:
        shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    args = sys.argv[1:6]
    args[3] = os.environ.get("DUMPFS_REAL_IMAGES") or args[3]
    sys.exit(main(*args))
