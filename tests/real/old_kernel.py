#!/usr/bin/env python3
"""old_kernel.py DUMPFS [CACHE_DIR]

Dumps of a kernel before 6.0, Debian 11's own 5.10 (images/make-old-kernel-dumps.sh:
QEMU dump-guest-memory ELF and kdump-zlib of one stopped moment, makedumpfile
-d 1 and -d 31 of that ELF).  Its VMCOREINFO names no kallsyms tables, so
/kernel/symbols comes from the tables found by scanning the kernel image
(core/kernel/kscan.c).  For every dump:

  - /header's symbols line says "kallsyms found by scanning the kernel image
    at" the address of kallsyms_token_table, the System.map's moved by the
    KASLR offset (_stext in the dump less _stext in the map);
  - /kernel/symbols is the kernel's System.map (from its -dbg package):
    every symbol at the map's address moved by that offset (per-cpu
    symbols, absolute, as they are, type A), but the .L local labels the map
    leaves out; every symbol of the map there, but the kallsyms_* tables and
    the absolute (A) symbols outside the per-cpu area, which
    scripts/kallsyms leaves out;
  - /tasks/PID/status's State letter is the guest's for the processes it
    listed (DFS-PS) that do not come and go (but those it saw running);
  - then tests/real/tasks.py on the same corpus: pids, comm, ppid, uid,
    threads, cmdline, pid 1's environ, auxv, maps, mem md5 against the
    guest's DFS-* lines, and gdb reading /tasks/1/core (the mm->mmap VMA
    list and task_struct.state of a kernel before 5.14 and 6.1).

CACHE_DIR defaults to the newest /var/cache/dumpfs/old-kernel-*/ with a
COMPLETE file; exits 77 (skip) when there is none."""
import os
import re
import sys

import tasks
from common import Fail, complete_cache, mounted
from corpus import dump_sets, manifest

PERCPU_TOP = 0xffff800000000000         # below: per-cpu offsets, not kernel addresses


def find_cache(arg):
    return complete_cache(arg, "old-kernel-*")


def read_map(path):
    return [(int(a, 16), t, n) for a, t, n in (l.split()[:3] for l in open(path) if l.strip())]


def check_symbols(mnt, sysmap):
    ks = read_map(os.path.join(mnt, "kernel", "symbols"))
    stext = [a for a, _, n in ks if n == "_stext"]
    map_stext = [a for a, _, n in sysmap if n == "_stext"]
    if len(stext) != 1 or len(map_stext) != 1:
        raise Fail("_stext %d times in /kernel/symbols, %d in System.map" % (len(stext), len(map_stext)))
    off = stext[0] - map_stext[0]
    percpu_end = [a for a, _, n in sysmap if n == "__per_cpu_end"][0]
    token_table = [a for a, _, n in sysmap if n == "kallsyms_token_table"][0] + off
    header = open(os.path.join(mnt, "header")).read()
    m = re.search(r"^symbols: (.*)$", header, re.M)
    words = "kallsyms found by scanning the kernel image at %#x" % token_table
    if not m or words not in m.group(1):
        raise Fail("/header's symbols line %r lacks %r" % (m and m.group(1), words))

    def norm(a, t, n, moved):
        if a >= PERCPU_TOP and moved:
            a -= off
        return (a, "A" if a <= percpu_end else t, n)
    have = {norm(a, t, n, True) for a, t, n in ks if not n.startswith(".L")}
    want = {norm(a, t, n, False) for a, t, n in sysmap}
    extra = have - want
    if extra:
        raise Fail("%d symbols of /kernel/symbols not in System.map (moved by %#x), e.g. %r"
                   % (len(extra), off, sorted(extra)[:5]))
    missing = {s for s in want - have if not s[2].startswith("kallsyms_") and s[1] != "A"}
    if missing:
        raise Fail("%d symbols of System.map not in /kernel/symbols, e.g. %r" % (len(missing), sorted(missing)[:5]))
    return "%d symbols (%d .L labels), all at System.map's address + KASLR %#x; %d of the map's left out " \
        "(kallsyms_* and absolute); token table at %#x" % (len(ks), len(ks) - len(have), off,
                                                           len(want - have), token_table)


def check_states(mnt, ps):
    """The guest's R (running while it listed, as rcu_sched may be) may have
    slept by the dump: not compared."""
    n = running = 0
    for pid, p in sorted(ps.items()):
        if tasks.transient(p):
            continue
        if p["state"] == "R":
            running += 1
            continue
        state = tasks.status_of(mnt, pid).get("State", "?")[0]
        if state != p["state"]:
            raise Fail("/tasks/%d (%s) State %r, the guest said %r" % (pid, p["name"], state, p["state"]))
        n += 1
    return "%d states as the guest's (%d running when listed, not compared)" % (n, running)


def main(dumpfs, arg=None):
    cache = find_cache(arg)
    if not cache:
        print("SKIP: no old-kernel dumps (%s); make them with: bash images/make-old-kernel-dumps.sh"
              % (arg or "/var/cache/dumpfs/old-kernel-*/COMPLETE"))
        return 77
    print("cache: %s" % cache, flush=True)
    sysmap = read_map(os.path.join(cache, "System.map"))
    ps = tasks.console_ps(cache, "idle")
    passed = failed = 0
    for name, (row, files) in sorted(dump_sets(manifest(cache)).items()):
        try:
            with mounted(dumpfs, [os.path.join(cache, f) for f in files]) as mnt:
                msg = check_symbols(mnt, sysmap) + "; " + check_states(mnt, ps)
            print("ok: %-30s %s" % (name, msg), flush=True)
            passed += 1
        except (Fail, OSError) as e:
            print("FAIL: %s: %s" % (name, e), flush=True)
            failed += 1
    print("%d passed, %d failed (symbols and states)" % (passed, failed), flush=True)
    rc = tasks.main(dumpfs, cache)
    return 1 if failed or rc else 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
