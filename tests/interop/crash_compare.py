#!/usr/bin/env python3
"""crash_compare.py DUMPFS REAL_DIR GROUP...

For every dump of the real corpus in GROUP (idle, novmci, panic, kdump):
mount it, run Debian's crash with the matching debug vmlinux on the original
file(s) and on MNT/vmcore.elf, and require the same answers from
`sys` (less its DUMPFILE line), `bt -a`, `ps`, `log`, `kmem -i`, and the same
phys_base (`help -m`).  Where crash cannot open the original, it must open
ours.  Also:
  - the panic group: the panic message and the sysrq task through our ELF;
  - /dmesg equals crash's `log` line for line where the dump has VMCOREINFO,
    and is absent, with /header saying why, where it has not.

Writes one row per dump to interop-results/crash-GROUPS.tsv in the working
directory (the numbers docs/interop.md quotes).  Exits 77 when the corpus,
crash, the debug vmlinux or FUSE is missing."""
import concurrent.futures
import os
import re
import subprocess
import sys
import threading
import time

from interop_common import (Fail, dump_sets, dumpfs_info, manifest, mounted,
                            need_fuse, need_tool, need_vmlinux, run_crash)

COMMANDS = ["sys", "bt -a", "ps", "log", "kmem -i", "help -m"]
COMPARED = ["sys", "bt -a", "ps", "log", "kmem -i"]


def normalize(cmd, text):
    """Drop what names the file rather than the dump."""
    if cmd == "sys":
        keep, in_files = [], False
        for line in text.splitlines():
            if re.match(r"\s*DUMPFILES?:", line):
                in_files = True
                continue
            # a split set's DUMPFILES lists one file per continuation line
            # ("  PATH [PARTIAL DUMP]"), up to the next "LABEL: value" line
            if in_files and not re.match(r"\s*[A-Z][A-Z ]*: ", line):
                continue
            in_files = False
            keep.append(line)
        return "\n".join(keep) + "\n"
    if cmd == "help -m":
        m = re.search(r"^\s*phys_base: (\S+)", text, re.M)
        return m.group(1) if m else None
    return text


def first_difference(a, b):
    al, bl = a.splitlines(), b.splitlines()
    for i, (x, y) in enumerate(zip(al, bl)):
        if x != y:
            return "line %d: original %r, ours %r" % (i + 1, x, y)
    return "original %d lines, ours %d lines" % (len(al), len(bl))


def check_dmesg(dumpfs, files, has_vmcoreinfo, crash_log, header):
    """/dmesg (read with `dumpfs cat`) against crash's log; returns the
    number of lines compared."""
    r = subprocess.run([dumpfs, "cat", *files, "/dmesg"], capture_output=True)
    if not has_vmcoreinfo:
        if r.returncode == 0:
            raise Fail("/dmesg exists without VMCOREINFO")
        if not re.search(r"^dmesg: absent \(.+\)$", header, re.M):
            raise Fail("/header does not say why /dmesg is absent")
        return 0
    if r.returncode != 0:
        m = re.search(r"^dmesg: .*$", header, re.M)
        raise Fail("/dmesg missing (%s)" % (m.group(0) if m else "no dmesg line in /header"))
    ours = r.stdout.decode(errors="replace")
    if ours != crash_log:
        raise Fail("/dmesg differs from crash's log: " + first_difference(crash_log, ours))
    return len(ours.splitlines())


def check_panic(out):
    if 'PANIC: "Kernel panic - not syncing: sysrq triggered crash"' not in out["sys"]:
        raise Fail("our ELF's sys shows no sysrq panic message")
    if "sysrq_handle_crash" not in out["bt -a"]:
        raise Fail("our ELF's bt -a has no sysrq_handle_crash frame")


REFERENCE = {"idle": "qemu/idle.elf", "novmci": "qemu/novmci.elf",
             "panic": "panic/panic.elf", "kdump": "kdump/proc-vmcore.elf"}
_reference_bt = {}
_reference_lock = threading.Lock()


def reference_bt(vmlinux, real, group):
    """crash's `bt -a` on the group's reference ELF, run once per group."""
    with _reference_lock:
        if group not in _reference_bt:
            ok, out, raw = run_crash(vmlinux, [os.path.join(real, REFERENCE[group])], ["sys", "bt -a"])
            _reference_bt[group] = out["bt -a"] if ok else None
        return _reference_bt[group]


def check_one(dumpfs, real, vmlinux, name, row, paths):
    files = [os.path.join(real, p) for p in paths]
    t0 = time.time()
    orig_ok, orig, orig_raw = run_crash(vmlinux, files, COMMANDS)
    info = dumpfs_info(dumpfs, files)
    has_vmcoreinfo = "\nvmcoreinfo: yes\n" in info
    with mounted(dumpfs, files) as mnt:
        ours_ok, ours, ours_raw = run_crash(vmlinux, [os.path.join(mnt, "vmcore.elf")], COMMANDS)
        if not ours_ok:
            raise Fail("crash cannot open our vmcore.elf: " + ours_raw[-600:])
        with open(os.path.join(mnt, "header")) as f:
            header = f.read()
    bt_note = ""
    if orig_ok:
        for cmd in COMPARED:
            a, b = normalize(cmd, orig[cmd]), normalize(cmd, ours[cmd])
            if a == b:
                continue
            # crash starts the backtraces of active non-panic CPUs from their
            # NT_PRSTATUS registers only on kdump-compressed input; on any
            # ELF it searches their stacks.  Then ours must match crash on
            # the group's reference ELF (the same memory, written by QEMU or
            # the kernel).
            if cmd == "bt -a" and row["format"].startswith("kdump") and \
                    reference_bt(vmlinux, real, row["group"]) == b:
                bt_note = "bt -a as on the reference ELF"
                continue
            raise Fail("`%s` differs: %s" % (cmd, first_difference(a, b)))
    elif row["format"] != "elf-flattened":
        raise Fail("crash cannot open the original: " + orig_raw[-600:])
    pb_orig = normalize("help -m", orig.get("help -m", "")) if orig_ok else None
    pb_ours = normalize("help -m", ours["help -m"])
    if pb_ours is None:
        raise Fail("no phys_base in crash's help -m on our ELF")
    m = re.search(r"^phys_base: (0x[0-9a-f]+|0) ", header, re.M)
    if m and int(m.group(1), 16) != int(pb_ours, 16):
        raise Fail("/header phys_base %s, crash found %s" % (m.group(1), pb_ours))
    if orig_ok and pb_orig != pb_ours:
        raise Fail("phys_base: original %s, ours %s" % (pb_orig, pb_ours))
    if row["group"] == "panic":
        check_panic(ours)
    reference_log = orig["log"] if orig_ok else ours["log"]
    dmesg_lines = check_dmesg(dumpfs, files, has_vmcoreinfo, reference_log, header)
    return {
        "dump": name, "group": row["group"], "format": row["format"],
        "original": ("same answers" + (" (%s)" % bt_note if bt_note else "")) if orig_ok
        else "crash cannot open it",
        "ours": "opens", "phys_base": pb_ours,
        "sys_lines": len(ours["sys"].splitlines()), "bt_lines": len(ours["bt -a"].splitlines()),
        "ps_lines": len(ours["ps"].splitlines()), "log_lines": len(ours["log"].splitlines()),
        "dmesg_lines": dmesg_lines, "seconds": "%.1f" % (time.time() - t0),
    }


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    dumpfs, real, groups = sys.argv[1], sys.argv[2], set(sys.argv[3:])
    rows = manifest(real)
    need_tool("crash")
    vmlinux = need_vmlinux(real)
    need_fuse()
    sets = dump_sets(rows, groups)
    if not sets:
        print("FAIL: no dump of group(s) %s in the manifest" % " ".join(sorted(groups)))
        return 1
    results, failures = [], []
    workers = max(1, min(2, os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        futs = {pool.submit(check_one, dumpfs, real, vmlinux, n, r, p): n for n, r, p in sets}
        for fut in concurrent.futures.as_completed(futs):
            name = futs[fut]
            try:
                res = fut.result()
                results.append(res)
                print("ok   %-45s %s; ours opens; phys_base %s; dmesg %d lines; %s s"
                      % (name, res["original"], res["phys_base"], res["dmesg_lines"], res["seconds"]))
            except Fail as e:
                failures.append(name)
                print("FAIL %-45s %s" % (name, e))
            sys.stdout.flush()
    os.makedirs("interop-results", exist_ok=True)
    out = os.path.join("interop-results", "crash-%s.tsv" % "-".join(sorted(groups)))
    with open(out, "w") as f:
        if results:
            cols = list(results[0])
            f.write("\t".join(cols) + "\n")
            for r in sorted(results, key=lambda r: r["dump"]):
                f.write("\t".join(str(r[c]) for c in cols) + "\n")
    print("%d of %d dumps passed; results in %s" % (len(results), len(sets), os.path.abspath(out)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
