#!/usr/bin/env python3
"""found_vmcoreinfo.py DUMPFS WORKDIR

VMCOREINFO found in memory, on generated ELF dumps that carry no
VMCOREINFO note (as QEMU writes them for ppc64 and s390x guests):

  ppc64      a big-endian file around little-endian memory (MSR_LE set in
             NT_PRSTATUS), the kernel's note on a page of its own: found by
             the search, served as /vmcoreinfo, put in /vmcore.elf, named
             in /header; RAM at its linear-map address in /vmcore.elf;
  ppc64-be   the same note in big-endian memory (MSR_LE clear): not taken
             for little-endian, found as big-endian;
  s390x      the note where the lowcore's pointer (absolute 0xe0c) says;
  s390x-bad  the pointer leads to garbage: no VMCOREINFO, and no search;
  damaged    notes that must not be taken: a size past 64 KiB, text that is
             not text, a name that is not VMCOREINFO: /vmcoreinfo absent.
"""
import os
import struct
import subprocess
import sys

from synth import note, run_cases, write_elf

PAGE = 4096
MEM = 8 << 20
TEXT = b"OSRELEASE=6.1.0-synth\nPAGESIZE=65536\nSYMBOL(_stext)=c000000000000000\n"
PR_REG = 112


def prstatus(e, regs, size):
    d = bytearray(size)
    for i, r in enumerate(regs):
        struct.pack_into(e + "Q", d, PR_REG + 8 * i, r)
    return bytes(d)


def vmcoreinfo_note(me, text, name=b"VMCOREINFO", descsz=None):
    n = name + b"\0"
    return struct.pack(me + "III", len(n), len(text) if descsz is None else descsz, 0) + \
        n + bytes(-len(n) % 4) + text


def ppc64(path, mem_le=True, put=None):
    mem = bytearray(MEM)
    me = "<" if mem_le else ">"
    for at, blob in (put or [(0x345000, vmcoreinfo_note(me, TEXT))]):
        mem[at:at + len(blob)] = blob
    msr = 0x8000000000000000 | (1 if mem_le else 0)
    regs = [0] * 32 + [0xc000000000001000, msr]
    write_elf(path, ">", 21, [note(">", b"CORE", 1, prstatus(">", regs, 504))], bytes(mem))


def s390x(path, pointer, at=0x200000):
    mem = bytearray(MEM)
    blob = vmcoreinfo_note(">", TEXT)
    mem[at:at + len(blob)] = blob
    mem[0xe0c:0xe14] = struct.pack(">Q", pointer)
    write_elf(path, ">", 22, [note(">", b"CORE", 1, prstatus(">", [0x0706c00180000000, 0x100000], 336))],
              bytes(mem))


def header(dumpfs, path):
    r = subprocess.run([dumpfs, "info", path], capture_output=True, text=True, timeout=120)
    if r.returncode:
        raise AssertionError("dumpfs info %s: exit %d: %s" % (path, r.returncode, r.stderr))
    return dict(l.split(": ", 1) for l in r.stdout.splitlines() if ": " in l and not l.startswith(" "))


def cat(dumpfs, path, node):
    return subprocess.run([dumpfs, "cat", path, node], capture_output=True, timeout=120)


def vmcore_elf_has_note(data):
    return b"VMCOREINFO\0" in data[:PAGE * 4] and TEXT in data[:PAGE * 4]


def first_load_vaddr(data):
    e = "<" if data[5] == 1 else ">"
    phoff, = struct.unpack_from(e + "Q", data, 32)
    phnum, = struct.unpack_from(e + "H", data, 56)
    for i in range(phnum):
        typ, _, _, vaddr = struct.unpack_from(e + "IIQQ", data, phoff + 56 * i)
        if typ == 1:
            return vaddr
    return None


def expect_found(dumpfs, path, how, at, vaddr):
    h = header(dumpfs, path)
    want = "yes (found in memory at %#x by %s)" % (at, how)
    if h.get("vmcoreinfo") != want:
        raise AssertionError("/header vmcoreinfo: %r, expected %r" % (h.get("vmcoreinfo"), want))
    r = cat(dumpfs, path, "/vmcoreinfo")
    if r.returncode or r.stdout != TEXT:
        raise AssertionError("/vmcoreinfo: exit %d, %r" % (r.returncode, r.stdout[:80]))
    elf = cat(dumpfs, path, "/vmcore.elf").stdout
    if not vmcore_elf_has_note(elf):
        raise AssertionError("/vmcore.elf lacks the VMCOREINFO note found in memory")
    if first_load_vaddr(elf) != vaddr:
        raise AssertionError("/vmcore.elf's RAM PT_LOAD at p_vaddr %r, expected %#x"
                             % (first_load_vaddr(elf), vaddr))
    return h


def expect_absent(dumpfs, path):
    h = header(dumpfs, path)
    if h.get("vmcoreinfo") != "no":
        raise AssertionError("/header vmcoreinfo: %r, expected no" % h.get("vmcoreinfo"))
    if cat(dumpfs, path, "/vmcoreinfo").returncode == 0:
        raise AssertionError("/vmcoreinfo exists")


def main(dumpfs, work):
    os.makedirs(work, exist_ok=True)
    p = lambda n: os.path.join(work, n + ".elf")
    cases = []

    ppc64(p("ppc64"))
    cases.append(("ppc64", lambda: expect_found(dumpfs, p("ppc64"), "a search of memory", 0x345000,
                                                0xc000000000000000)))
    ppc64(p("ppc64-be"), mem_le=False, put=[(0x1000, vmcoreinfo_note("<", TEXT)),
                                            (0x7f0000, vmcoreinfo_note(">", TEXT))])
    cases.append(("ppc64-be", lambda: expect_found(dumpfs, p("ppc64-be"), "a search of memory",
                                                   0x7f0000, 0xc000000000000000)))
    s390x(p("s390x"), 0x200000)
    cases.append(("s390x", lambda: expect_found(dumpfs, p("s390x"), "the lowcore's pointer", 0x200000, 0)))
    s390x(p("s390x-bad"), 0x200004)
    cases.append(("s390x-bad", lambda: expect_absent(dumpfs, p("s390x-bad"))))
    ppc64(p("damaged"), put=[(0x10000, vmcoreinfo_note("<", TEXT, descsz=65537)),
                             (0x20000, vmcoreinfo_note("<", b"OSRELEASE=6.1\x01\x02garbage\n")),
                             (0x30000, vmcoreinfo_note("<", TEXT, name=b"VMCOREINFX")),
                             (MEM - 20, b"\x0b\0\0\0\x40\0\0\0\0\0\0\0VMCOREI")])
    cases.append(("damaged", lambda: expect_absent(dumpfs, p("damaged"))))

    return run_cases(cases)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
