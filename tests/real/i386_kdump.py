#!/usr/bin/env python3
"""i386_kdump.py DUMPFS [CACHE_DIR]

Real in-guest kdump captures on 32-bit x86, made by images/make-i386-kdump.sh
(one directory per flavour, 686-pae and 686): Debian 12's i386 kernel loaded
itself with kexec -p, panicked by sysrq-c, and the capture kernel wrote, of the
same /proc/vmcore (ELF32):

  kdump/capture-zlib-d31.flat   makedumpfile -F -c -d 31 (and its -R copy .kdump,
                                whose header has the 32-bit layout)
  kdump/proc-vmcore.elf         dd of /proc/vmcore (kexec-tools' ELF32 header)
  kdump/capture-d31.elf         makedumpfile -E -d 31 (after -R)
and QEMU's dump-guest-memory ELF of the whole machine after the capture:
  kdump/after-capture.elf

Checks, per flavour:
  - `dumpfs info` opens every file; /header's arch is i386, /vmcore.elf EM_386;
  - the vmcore ELF mount's /mem has exactly the file's PT_LOAD pages, with the
    same bytes, and the marker lines the first kernel's /init wrote;
  - every data page of the kdump mounts' /mem (flattened, -R copy, -E ELF) is
    data in the vmcore ELF mount's /mem and equal to it; every data page of
    that is equal in QEMU's ELF of the machine after the capture;
  - /vmcoreinfo of every mount is the VMCOREINFO note of proc-vmcore.elf (and
    QEMU's note, from the first kernel by fw_cfg, is the same text);
  - /vmcore.elf's PT_LOADs give /mem's bytes; /cpus/0/prstatus is the vmcore's.

  - /vmcore.elf of every kdump input has the RAM at its lowmem address,
    0xc0000000 + p_paddr, as /proc/vmcore has it (passed through for the ELF
    inputs, written by dumpfs for the kdump ones);
  - /dmesg is the same in every mount, has the sysrq panic lines in order,
    and every kernel line the first kernel printed to the console.

CACHE_DIR (one flavour's directory, or the directory holding them) defaults to
the newest /var/cache/dumpfs/i386-kdump-*/; exits 77 (skip) without one."""
import glob
import os
import re
import struct
import sys

import arm64_kdump as ak
from arm64_kdump import (check_subset, check_vmcore_elf, check_vmcoreinfo,
                         same_note, vmcore_elf_gaps)
from common import Elf, Fail, mounted
from foreign import PAGE, Run, check_cpus, check_info, elf_ident, header, manifest, read_pages

ak.MARK = re.compile(rb"DUMPFS-I386-KDUMP-MARKER i686 line (\d+) 0123456789abcdef\n")
PAGE_OFFSET = 0xc0000000        # Debian's i386 kernels: VMSPLIT_3G


def find_flavours(arg):
    if arg:
        if os.path.exists(os.path.join(arg, "COMPLETE")):
            return [arg]
        return sorted(os.path.dirname(c) for c in glob.glob(os.path.join(arg, "*", "COMPLETE")))
    done = glob.glob("/var/cache/dumpfs/i386-kdump-*/*/COMPLETE")
    if not done:
        return []
    newest = os.path.dirname(os.path.dirname(max(done, key=os.path.getmtime)))
    return sorted(os.path.dirname(c) for c in glob.glob(os.path.join(newest, "*", "COMPLETE")))


def check_arch(mnt):
    h = header(mnt)
    if not h.get("arch", "").startswith("i386"):
        raise Fail("/header arch: %r" % h.get("arch"))
    mach, endian = elf_ident(os.path.join(mnt, "vmcore.elf"))
    if (mach, endian) != (3, "little"):
        raise Fail("/vmcore.elf e_machine %d %s-endian, not 3 (EM_386) little" % (mach, endian))
    return "arch %s; /vmcore.elf EM_386" % h["arch"]


def virtual_loads(path):
    """[(vaddr, paddr, offset, filesz)] of an ELF32 or ELF64 file's PT_LOADs."""
    with open(path, "rb") as f:
        h = f.read(64)
        c64 = h[4] == 2
        phoff = struct.unpack_from("<Q" if c64 else "<I", h, 32 if c64 else 28)[0]
        phentsize, phnum = struct.unpack_from("<HH", h, 54 if c64 else 42)
        f.seek(phoff)
        tab = f.read(phentsize * phnum)
    res = []
    for i in range(phnum):
        if c64:
            typ, _, off, vaddr, paddr, filesz, _ = struct.unpack_from("<IIQQQQQ", tab, i * phentsize)
        else:
            typ, off, vaddr, paddr, filesz, _ = struct.unpack_from("<IIIIII", tab, i * phentsize)
        if typ == 1:
            res.append((vaddr, paddr, off, filesz))
    return res


def check_vmcore_mem32(mnt, ref):
    """The vmcore ELF mount's /mem against the file's PT_LOADs; a page a PT_LOAD
    only partly covers (0x9f: 0x1000-0x9fc00) must start with the file's bytes."""
    pages, partial = ref.pages(), ref.partial_pages()
    seen, found, part = 0, set(), 0
    with open(ref.path, "rb") as raw:
        for pos, chunk in read_pages(os.path.join(mnt, "mem")):
            found.update(int(m.group(1)) for m in ak.MARK.finditer(chunk))
            for i in range(0, len(chunk), PAGE):
                pfn = (pos + i) // PAGE
                if pfn in partial:
                    for paddr, off, filesz, _ in ref.loads:
                        a, b = max(paddr, pfn * PAGE), min(paddr + filesz, (pfn + 1) * PAGE)
                        if a < b:
                            raw.seek(off + a - paddr)
                            if raw.read(b - a) != chunk[i + a - pfn * PAGE:i + b - pfn * PAGE]:
                                raise Fail("/mem pfn %#x (partial) differs from the file at %#x-%#x" % (pfn, a, b))
                    part += 1
                    continue
                off = pages.get(pfn)
                if off is None:
                    raise Fail("/mem pfn %#x is data, but no PT_LOAD holds it" % pfn)
                raw.seek(off)
                if raw.read(PAGE) != chunk[i:i + PAGE]:
                    raise Fail("/mem pfn %#x differs from the file" % pfn)
                seen += 1
    if seen != len(pages):
        raise Fail("/mem has %d whole data pages, the file's PT_LOADs %d" % (seen, len(pages)))
    if len(found) < ak.MARK_MIN:
        raise Fail("only %d of the %d marker lines in /mem" % (len(found), ak.MARK_LINES))
    return "%d pages equal to the file's %d PT_LOADs, %d partial page(s) equal where covered, %d/%d marker lines" % (
        seen, len(ref.loads), part, len(found), ak.MARK_LINES)


def check_after_capture(vmnt, qmnt):
    """Every whole page of /proc/vmcore at or above 1 MiB is QEMU's after the
    capture; below 1 MiB (BIOS data, the capture kernel's real-mode use) the
    differences are only counted."""
    n = low_diff = low = 0
    with open(os.path.join(qmnt, "mem"), "rb") as f:
        for pos, chunk in read_pages(os.path.join(vmnt, "mem")):
            f.seek(pos)
            other = f.read(len(chunk))
            for i in range(0, len(chunk), PAGE):
                pfn = (pos + i) // PAGE
                same = other[i:i + PAGE] == chunk[i:i + PAGE]
                if pfn < 0x100:
                    low += 1
                    low_diff += not same
                elif not same:
                    raise Fail("pfn %#x differs from QEMU's ELF after the capture" % pfn)
                else:
                    n += 1
    if n < 65536:
        raise Fail("only %d pages compared" % n)
    return "%d pages above 1 MiB equal; below 1 MiB %d of %d differ" % (
        n, low_diff, low)


def lowmem_vaddrs(mnt):
    """True when every PT_LOAD of /vmcore.elf has p_vaddr = PAGE_OFFSET + p_paddr."""
    loads = virtual_loads(os.path.join(mnt, "vmcore.elf"))
    return all(v == PAGE_OFFSET + p for v, p, _, _ in loads), loads


def check_dmesg(mnts, serial_log):
    """/dmesg of every mount: one text, with the sysrq panic in order and
    every kernel line of the first kernel's console (up to the capture
    kernel's "Linux version")."""
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
    at = [next((i for i, l in enumerate(lines) if re.search(r"\] " + w, l)), None) for w in ak.PANIC_HEAD]
    if None in at or at != sorted(at):
        raise Fail("the sysrq panic lines %r are not (in order) in /dmesg" % (ak.PANIC_HEAD,))
    console = open(serial_log, errors="replace").read().replace("\r", "")
    second = console.find("Linux version", console.find("Linux version") + 1)
    if second > 0:      # cut before the line it starts
        console = console[:console.rfind("\n", 0, second) + 1]
    klines = [l for l in console.splitlines()
              if re.match(r"\[\s*\d+\.\d+\] ", l)]
    have = set(lines)
    missing = [l for l in klines if l not in have]
    if missing or not klines:
        raise Fail("%d of %d kernel lines of the first kernel's console not in /dmesg, first %r"
                   % (len(missing), len(klines), missing[:1]))
    return "%d lines, the same in %d mounts; the sysrq panic and all %d console lines in it" % (
        len(lines), len(mnts), len(klines))


def check_lowmem(mnt):
    """the lowmem PT_LOADs of /proc/vmcore: passed through, or written"""
    low, loads = lowmem_vaddrs(mnt)
    if not low:
        raise Fail("p_vaddr %s not 0xc0000000 + p_paddr" % [(hex(v), hex(p)) for v, p, _, _ in loads[:4]])
    return "%d PT_LOADs at 0xc0000000 + p_paddr" % len(loads)


def one_flavour(dumpfs, cache, run):
    flavour = os.path.basename(cache.rstrip("/"))
    paths = {os.path.basename(r["path"]): os.path.join(cache, r["path"]) for r in manifest(cache)}
    need = ["proc-vmcore.elf", "capture-zlib-d31.flat", "capture-zlib-d31.kdump",
            "capture-d31.elf", "after-capture.elf"]
    missing = [n for n in need if n not in paths]
    if missing:
        print("FAIL: %s: MANIFEST.tsv lacks %s" % (cache, ", ".join(missing)))
        run.failed += 1
        return
    print("== %s: %s" % (flavour, cache), flush=True)
    for n in need:
        run.check("%s info %s" % (flavour, n), check_info, dumpfs, paths[n])
    vm = Elf(paths["proc-vmcore.elf"])
    qe = Elf(paths["after-capture.elf"])
    note = [d for n, t, d in vm.notes if n == b"VMCOREINFO"]
    if len(note) != 1:
        print("FAIL: %s: proc-vmcore.elf has %d VMCOREINFO notes" % (flavour, len(note)))
        run.failed += 1
        return
    run.check("%s after-capture.elf's VMCOREINFO note (fw_cfg) is /proc/vmcore's" % flavour,
              same_note, [d for n, t, d in qe.notes if n == b"VMCOREINFO"], note[0])
    try:
        with mounted(dumpfs, [paths["proc-vmcore.elf"]]) as vmnt, \
                mounted(dumpfs, [paths["capture-zlib-d31.flat"]]) as fmnt, \
                mounted(dumpfs, [paths["capture-zlib-d31.kdump"]]) as kmnt, \
                mounted(dumpfs, [paths["capture-d31.elf"]]) as emnt, \
                mounted(dumpfs, [paths["after-capture.elf"]]) as qmnt:
            mnts = [("proc-vmcore.elf", vmnt), ("capture-zlib-d31.flat", fmnt),
                    ("capture-zlib-d31.kdump", kmnt), ("capture-d31.elf", emnt),
                    ("after-capture.elf", qmnt)]
            run.check("%s proc-vmcore.elf /mem vs the file" % flavour, check_vmcore_mem32, vmnt, vm)
            for name, mnt in mnts[1:4]:
                run.check("%s %s /mem vs proc-vmcore.elf /mem" % (flavour, name), check_subset,
                          mnt, vmnt, name, 4096)
            run.check("%s proc-vmcore.elf /mem vs after-capture.elf /mem (QEMU, same RAM)" % flavour,
                      check_after_capture, vmnt, qmnt)
            for name, mnt in mnts:
                run.check("%s %s arch" % (flavour, name), check_arch, mnt)
                run.check("%s %s /vmcoreinfo" % (flavour, name), check_vmcoreinfo, mnt, note[0])
                bad, n = vmcore_elf_gaps(mnt)
                if bad:
                    print("known gap: %s %s: %d of the %d pages /vmcore.elf's PT_LOADs hold differ from /mem"
                          % (flavour, name, len(bad), n))
                else:
                    run.check("%s %s /vmcore.elf vs /mem" % (flavour, name), check_vmcore_elf, mnt)
                # QEMU's note is the capture kernel's CPU when the host stopped it
                run.check("%s %s /cpus" % (flavour, name), check_cpus, mnt, qe if mnt == qmnt else vm)
                h = header(mnt)
                print("info: %s %s: %s, header_layout %s, ram_pages %s, dumped_pages %s"
                      % (flavour, name, h.get("format"), h.get("header_layout", "-"),
                         h.get("ram_pages"), h.get("dumped_pages")))
            for name, mnt in mnts[:4]:
                run.check("%s %s /vmcore.elf lowmem p_vaddr" % (flavour, name), check_lowmem, mnt)
            run.check("%s /dmesg" % flavour, check_dmesg, mnts, os.path.join(cache, "logs", "serial.log"))
    except Fail as e:
        print("FAIL: %s: %s" % (flavour, e))
        run.failed += 1


def main(dumpfs, arg):
    flavours = find_flavours(arg)
    if not flavours:
        print("SKIP: no i386 kdump capture (%s); make it with: bash images/make-i386-kdump.sh"
              % (arg or "/var/cache/dumpfs/i386-kdump-*/FLAVOUR/COMPLETE"))
        return 77
    run = Run()
    for cache in flavours:
        one_flavour(dumpfs, cache, run)
    print("%d passed, %d failed" % (run.passed, run.failed))
    return 1 if run.failed else 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
