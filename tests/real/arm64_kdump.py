#!/usr/bin/env python3
"""arm64_kdump.py DUMPFS [CACHE_DIR]

A real in-guest kdump capture on arm64, made by images/make-arm64-kdump.sh:
Debian 12's arm64 kernel (QEMU TCG, -M virt) loaded itself with kexec -p,
panicked by sysrq-c, and the capture kernel wrote, of the same /proc/vmcore:

  kdump/capture-zlib-d31.flat   makedumpfile -F -c -d 31 (and its -R copy .kdump)
  kdump/proc-vmcore.elf         dd of /proc/vmcore (kexec-tools' ELF header)
  kdump/capture-d31.elf         makedumpfile -E -d 31 (after -R)
and QEMU's dump-guest-memory ELF of the whole machine after the capture:
  kdump/after-capture.elf

Checks:
  - `dumpfs info` opens every file and names the architecture aarch64;
  - the vmcore ELF mount's /mem has exactly the file's PT_LOAD pages, with the
    same bytes, and the marker lines the first kernel's /init wrote;
  - every data page of the kdump mounts' /mem (flattened, -R copy, -E ELF) is
    data in the vmcore ELF mount's /mem and equal to it;
  - every data page of the vmcore ELF mount's /mem is equal in QEMU's ELF of the
    machine after the capture (the capture kernel lives in the crashkernel area,
    which /proc/vmcore leaves out);
  - /vmcoreinfo of every mount equals the VMCOREINFO note of proc-vmcore.elf
    (and that of QEMU's ELF, which the first kernel handed over by fw_cfg);
  - /header's arch is aarch64 and /vmcore.elf's e_machine EM_AARCH64;
  - /vmcore.elf maps the linear map and the kernel image as /proc/vmcore does;
  - /cpus/0/prstatus is the vmcore's NT_PRSTATUS;
  - /dmesg is the same in every mount, holds every kernel line of the first
    kernel's serial console, and ends with the sysrq panic lines.

CACHE_DIR defaults to the newest /var/cache/dumpfs/arm64-kdump-*/ with a
COMPLETE marker; exits 77 (skip) when there is none."""
import bisect
import os
import re
import sys

from common import Elf, Fail, complete_cache, data_extents, mounted
from foreign import (PAGE, Run, check_cpus, check_info, elf_ident, header, manifest,
                     read_pages, read_virtual, virtual_loads, vmcoreinfo)

MARK = re.compile(rb"DUMPFS-ARM64-KDUMP-MARKER aarch64 line (\d+) 0123456789abcdef\n")
MARK_LINES, MARK_MIN = 4096, 3500
# the last lines the first kernel logs (kernel/panic.c, arch/arm64/kernel/machine_kexec.c)
# (the call trace lies between the first three and the last two)
PANIC_HEAD = [r"sysrq: Trigger a crash",
              r"Kernel panic - not syncing: sysrq triggered crash",
              r"CPU: 0 PID: \d+ Comm: init Kdump: loaded"]
PANIC_END = [r"Starting crashdump kernel\.\.\.", r"Bye!"]


def find_cache(arg):
    return complete_cache(arg, "arm64-kdump-*")


def check_arch(mnt):
    h = header(mnt)
    if not h.get("arch", "").startswith("aarch64"):
        raise Fail("/header arch: %r" % h.get("arch"))
    mach, endian = elf_ident(os.path.join(mnt, "vmcore.elf"))
    if (mach, endian) != (183, "little"):
        raise Fail("/vmcore.elf e_machine %d %s-endian, not 183 (EM_AARCH64) little" % (mach, endian))
    return "arch %s; /vmcore.elf EM_AARCH64" % h["arch"]


def vmcore_elf_gaps(mnt):
    """Pages /vmcore.elf's PT_LOADs hold in the file (the first PT_LOAD that
    covers a page wins) whose bytes /mem does not give: [(pfn, /mem is a hole)]."""
    elf = Elf(os.path.join(mnt, "vmcore.elf"))
    where = elf.pages()
    holes = set()
    ext = data_extents(os.path.join(mnt, "mem"))
    starts = [a for a, _ in ext]
    bad = []
    with open(elf.path, "rb") as fe, open(os.path.join(mnt, "mem"), "rb") as fm:
        for pfn in sorted(where):
            fe.seek(where[pfn])
            fm.seek(pfn * PAGE)
            if fe.read(PAGE) != fm.read(PAGE):
                k = bisect.bisect_right(starts, pfn * PAGE) - 1
                bad.append((pfn, k < 0 or ext[k][1] <= pfn * PAGE))
    return bad, len(where)


def check_vmcore_elf(mnt):
    bad, n = vmcore_elf_gaps(mnt)
    if bad:
        raise Fail("%d of the %d pages /vmcore.elf's PT_LOADs hold differ from /mem, first pfn %#x%s"
                   % (len(bad), n, bad[0][0], " (a hole in /mem)" if bad[0][1] else ""))
    return "all %d pages its PT_LOADs hold equal to /mem" % n


def check_virtual(mnt, osrelease):
    """/vmcore.elf: the PT_LOAD holding _stext maps it at _stext - kimage_voffset;
    the other PT_LOADs are at linear-map addresses (PHYS_OFFSET, VA_BITS); the
    release read at init_uts_ns through them is the kernel's."""
    vi = vmcoreinfo(mnt)
    va_bits = int(vi["NUMBER(VA_BITS)"])
    phys_offset = int(vi["NUMBER(PHYS_OFFSET)"], 16)
    kimage_voffset = int(vi["NUMBER(kimage_voffset)"], 16)
    stext = int(vi["SYMBOL(_stext)"], 16)
    page_offset = (1 << 64) - (1 << va_bits)
    path = os.path.join(mnt, "vmcore.elf")
    loads = virtual_loads(path)
    image = [l for l in loads if l[0] <= stext < l[0] + max(l[3], 1)]
    if len(image) != 1 or (image[0][0] - image[0][1]) % (1 << 64) != kimage_voffset:
        raise Fail("no single PT_LOAD maps _stext %#x with kimage_voffset %#x: %s"
                   % (stext, kimage_voffset, [(hex(v), hex(p)) for v, p, _, _ in loads[:4]]))
    ram = [l for l in loads if l is not image[0] and (l[0] - l[1]) % (1 << 64) != kimage_voffset]
    for v, p, _, _ in ram:
        want = ((p - phys_offset) % (1 << 64)) | page_offset
        if v != want:
            raise Fail("PT_LOAD at physical %#x has p_vaddr %#x; the linear map says %#x" % (p, v, want))
    uts = int(vi["SYMBOL(init_uts_ns)"], 16) + int(vi.get("OFFSET(uts_namespace.name)", "0"))
    release = read_virtual(path, loads, uts + 2 * 65, 65).split(b"\0")[0].decode(errors="replace")
    if release != osrelease:
        raise Fail("init_uts_ns.name.release read through /vmcore.elf is %r, not %r" % (release, osrelease))
    return "image PT_LOAD %#x (phys %#x), %d PT_LOAD(s) at linear-map addresses, release %s" % (
        image[0][0], image[0][1], len(ram), release)


def check_vmcore_mem(mnt, ref):
    """The vmcore ELF mount's /mem against the file's PT_LOADs."""
    pages = ref.pages()
    seen, found = 0, set()
    with open(ref.path, "rb") as raw:
        for pos, chunk in read_pages(os.path.join(mnt, "mem")):
            found.update(int(m.group(1)) for m in MARK.finditer(chunk))
            for i in range(0, len(chunk), PAGE):
                pfn = (pos + i) // PAGE
                off = pages.get(pfn)
                if off is None:
                    raise Fail("/mem pfn %#x is data, but no PT_LOAD holds it" % pfn)
                raw.seek(off)
                if raw.read(PAGE) != chunk[i:i + PAGE]:
                    raise Fail("/mem pfn %#x differs from the file" % pfn)
                seen += 1
    if seen != len(pages):
        raise Fail("/mem has %d data pages, the file's PT_LOADs %d" % (seen, len(pages)))
    if len(found) < MARK_MIN:
        raise Fail("only %d of the %d marker lines in /mem" % (len(found), MARK_LINES))
    return "%d pages equal to the file's %d PT_LOADs, %d/%d marker lines" % (
        seen, len(ref.loads), len(found), MARK_LINES)


def check_subset(mnt, ref_mnt, what, minimum):
    """Every data page of MNT's /mem is data in REF_MNT's /mem, and equal."""
    ext = data_extents(os.path.join(ref_mnt, "mem"))
    starts = [s for s, _ in ext]
    n = zeros = 0
    zero = bytes(PAGE)
    with open(os.path.join(ref_mnt, "mem"), "rb") as f:
        for pos, chunk in read_pages(os.path.join(mnt, "mem")):
            k = bisect.bisect_right(starts, pos) - 1
            if k < 0 or ext[k][1] < pos + len(chunk):
                raise Fail("%s /mem %#x-%#x is data, the reference's is not" % (what, pos, pos + len(chunk)))
            f.seek(pos)
            other = f.read(len(chunk))
            if other != chunk:
                bad = [(pos + i) // PAGE for i in range(0, len(chunk), PAGE)
                       if other[i:i + PAGE] != chunk[i:i + PAGE]]
                raise Fail("%s: pfn %#x (and %d more in this MiB) differ from the reference"
                           % (what, bad[0], len(bad) - 1))
            n += len(chunk) // PAGE
            zeros += sum(chunk[i:i + PAGE] == zero for i in range(0, len(chunk), PAGE))
    if n < minimum:
        raise Fail("%s: only %d data pages" % (what, n))
    return "%d pages (%d all-zero) equal to the reference's" % (n, zeros)


def check_vmcoreinfo(mnt, note):
    p = os.path.join(mnt, "vmcoreinfo")
    if not os.path.exists(p):
        raise Fail("no /vmcoreinfo (/header: %s)" % header(mnt).get("vmcoreinfo"))
    got = open(p, "rb").read()
    if got.rstrip(b"\0") != note.rstrip(b"\0"):
        raise Fail("/vmcoreinfo (%d bytes) differs from the VMCOREINFO note (%d bytes)" % (len(got), len(note)))
    return "%d bytes, equal to the note" % len(got)


def check_dmesg(mnts, serial_log):
    texts = {}
    for name, mnt in mnts:
        p = os.path.join(mnt, "dmesg")
        if not os.path.exists(p):
            raise Fail("%s: no /dmesg (/header: %s)" % (name, header(mnt).get("dmesg")))
        texts[name] = open(p, errors="replace").read()
    first = mnts[0][0]
    for name, t in texts.items():
        if t != texts[first]:
            raise Fail("/dmesg of %s differs from %s's" % (name, first))
    lines = texts[first].rstrip("\n").splitlines()
    tail = lines[-len(PANIC_END):]
    if not all(re.search(r"\] " + w, g) for w, g in zip(PANIC_END, tail)):
        raise Fail("/dmesg does not end with %r: %r" % (PANIC_END, tail))
    last = lines[-40:]
    at = [next((i for i, l in enumerate(last) if re.search(r"\] " + w, l)), None) for w in PANIC_HEAD]
    if None in at or at != sorted(at):
        raise Fail("the sysrq panic lines %r are not (in order) in /dmesg's last 40 lines: %r"
                   % (PANIC_HEAD, last[-12:]))
    # the first kernel's part of the console: up to its "Bye!"
    console = open(serial_log, errors="replace").read().replace("\r", "")
    console = console[:console.index("Bye!") + 4] if "Bye!" in console else console
    klines = [l for l in console.splitlines() if re.match(r"\[\s*\d+\.\d+\] ", l)]
    have = set(lines)
    missing = [l for l in klines if l not in have]
    if missing or not klines:
        raise Fail("%d of %d kernel lines of the first kernel's console not in /dmesg, first %r"
                   % (len(missing), len(klines), missing[:1]))
    return "%d lines, the same in %d mounts, ending %r; all %d console lines in it" % (
        len(lines), len(mnts), tail[-1], len(klines))


def same_note(notes, want):
    if len(notes) != 1 or notes[0].rstrip(b"\0") != want.rstrip(b"\0"):
        raise Fail("%d VMCOREINFO notes, not equal to /proc/vmcore's" % len(notes))
    return "equal (%d bytes)" % len(want)


def main(dumpfs, arg):
    cache = find_cache(arg)
    if not cache:
        print("SKIP: no arm64 kdump capture (%s); make it with: bash images/make-arm64-kdump.sh"
              % (arg or "/var/cache/dumpfs/arm64-kdump-*/COMPLETE"))
        return 77
    print("cache: %s" % cache, flush=True)
    paths = {os.path.basename(r["path"]): os.path.join(cache, r["path"]) for r in manifest(cache)}
    need = ["proc-vmcore.elf", "capture-zlib-d31.flat", "capture-zlib-d31.kdump",
            "capture-d31.elf", "after-capture.elf"]
    missing = [n for n in need if n not in paths]
    if missing:
        print("FAIL: %s: MANIFEST.tsv lacks %s" % (cache, ", ".join(missing)))
        return 1
    run = Run()
    for n in need:
        run.check("info %s" % n, check_info, dumpfs, paths[n])
    vm = Elf(paths["proc-vmcore.elf"])
    qe = Elf(paths["after-capture.elf"])
    note = [d for n, t, d in vm.notes if n == b"VMCOREINFO"]
    qnote = [d for n, t, d in qe.notes if n == b"VMCOREINFO"]
    if len(note) != 1:
        print("FAIL: proc-vmcore.elf has %d VMCOREINFO notes" % len(note))
        return 1
    osrelease = re.search(rb"OSRELEASE=(\S+)", note[0]).group(1).decode()
    run.check("after-capture.elf's VMCOREINFO note (fw_cfg) is /proc/vmcore's", same_note, qnote, note[0])
    try:
        with mounted(dumpfs, [paths["proc-vmcore.elf"]]) as vmnt, \
                mounted(dumpfs, [paths["capture-zlib-d31.flat"]]) as fmnt, \
                mounted(dumpfs, [paths["capture-zlib-d31.kdump"]]) as kmnt, \
                mounted(dumpfs, [paths["capture-d31.elf"]]) as emnt, \
                mounted(dumpfs, [paths["after-capture.elf"]]) as qmnt:
            mnts = [("proc-vmcore.elf", vmnt), ("capture-zlib-d31.flat", fmnt),
                    ("capture-zlib-d31.kdump", kmnt), ("capture-d31.elf", emnt),
                    ("after-capture.elf", qmnt)]
            run.check("proc-vmcore.elf /mem vs the file", check_vmcore_mem, vmnt, vm)
            for name, mnt in mnts[1:4]:
                run.check("%s /mem vs proc-vmcore.elf /mem" % name, check_subset,
                          mnt, vmnt, name, 8192)
            run.check("proc-vmcore.elf /mem vs after-capture.elf /mem (QEMU, same RAM)",
                      check_subset, vmnt, qmnt, "proc-vmcore.elf", 65536)
            for name, mnt in mnts:
                run.check("%s arch" % name, check_arch, mnt)
                run.check("%s /vmcoreinfo" % name, check_vmcoreinfo, mnt, note[0])
                if name == "capture-d31.elf":
                    bad, n = vmcore_elf_gaps(mnt)
                    if bad:
                        print("known gap: %s: %d of the %d pages /vmcore.elf's PT_LOADs hold read "
                              "differently from /mem (%d of them holes in /mem), pfns %#x-%#x: "
                              "makedumpfile -E's kernel-text PT_LOAD holds them, but the RAM PT_LOAD "
                              "below it that excludes them (p_filesz < p_memsz) wins in /mem"
                              % (name, len(bad), n, sum(h for _, h in bad), bad[0][0], bad[-1][0]))
                    continue
                run.check("%s /vmcore.elf vs /mem" % name, check_vmcore_elf, mnt)
            for name, mnt in mnts:
                run.check("%s /vmcore.elf virtual" % name, check_virtual, mnt, osrelease)
                # QEMU's note is the capture kernel's CPU when the host stopped it
                run.check("%s /cpus" % name, check_cpus, mnt, qe if mnt == qmnt else vm)
            run.check("/dmesg", check_dmesg, mnts, os.path.join(cache, "logs", "serial.log"))
    except Fail as e:
        print("FAIL: %s" % e)
        run.failed += 1
    print("%d passed, %d failed" % (run.passed, run.failed))
    return 1 if run.failed else 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
