#!/usr/bin/env python3
"""kernel_pagetables.py DUMPFS WORKDIR
kernel_pagetables.py --seeds DIR      (small such dumps for the ELF fuzzer)

The kernel page tables of ppc64 (radix) and s390x (DAT) walked into
/vmcore.elf, on generated ELF dumps whose VMCOREINFO names swapper_pg_dir
and whose memory holds tables built here:

  s390x        a region-third table: a page table of 4 KiB pages (two
               physically adjacent, one apart, one invalid), a 1 MiB large
               segment; entries that are invalid or of the wrong table type
               (TT) are skipped, and the identity mapping is not repeated;
  ppc64        radix, 64 KiB pages: PTEs, a 2 MiB PMD leaf, a 1 GiB leaf of
               the linear map (not repeated), an entry with a next-level
               size no table has (skipped);
  s390x-loop   every entry of every table points to the same next table, so
               the walk would visit 2^30 pages: it stops at its limits, the
               mount still opens at once, and /header says so;
  ppc64-hash4k a first entry pointing to an 11-bit table: neither radix nor
               hash with 64 KiB pages, /header says why there are none.

For each: the PT_LOADs after the RAM's are exactly the mappings expected,
and the bytes at each one's p_offset are /mem's at its p_paddr."""
import os
import struct
import subprocess
import sys

from synth import note, run_cases, write_elf
import time

PAGE = 4096
MEM = 16 << 20


def fill_pattern(mem):
    """Every 4 KiB page says its own address, so a wrong p_offset shows."""
    for a in range(0, len(mem), PAGE):
        mem[a:a + 16] = struct.pack(">QQ", a, a ^ 0x5a5a5a5a5a5a5a5a)


def put(mem, addr, value):
    struct.pack_into(">Q", mem, addr, value)


# --- s390x ------------------------------------------------------------------

S390_ROOT, S390_SEG, S390_PT = 0x100000, 0x104000, 0x108000
S390_R3X = 1700                 # region-third index: va 1700 << 31
S390_BASE = S390_R3X << 31


def s390x_prstatus():
    d = bytearray(336)
    struct.pack_into(">QQ", d, 112, 0x0704000180000000, 0x100000)
    return bytes(d)


def s390x_dump(path, loop=False):
    mem = bytearray(MEM)
    fill_pattern(mem)
    for a in range(S390_ROOT, S390_PT + 0x800, 8):
        put(mem, a, 0x20)       # every entry invalid (I bit), PTEs: 0x400
    for a in range(S390_PT, S390_PT + 0x800, 8):
        put(mem, a, 0x400)
    if loop:
        for i in range(2048):
            put(mem, S390_ROOT + 8 * i, S390_SEG | 0x04 | 0x03)   # TT region-third
            put(mem, S390_SEG + 8 * i, S390_PT)                   # TT segment
        for i in range(256):
            put(mem, S390_PT + 8 * i, 0x300000 + (i % 4) * PAGE)
        expected = None
    else:
        put(mem, S390_ROOT + 8 * 0, 0x20)                        # identity: none here
        put(mem, S390_ROOT + 8 * S390_R3X, S390_SEG | 0x04 | 0x03)
        put(mem, S390_ROOT + 8 * (S390_R3X + 1), S390_SEG | 0x08)  # TT region-second: skipped
        put(mem, S390_SEG + 8 * 5, S390_PT)
        put(mem, S390_SEG + 8 * 6, 0x500000 | 0x400)            # 1 MiB large frame
        put(mem, S390_SEG + 8 * 7, S390_PT | 0x20)               # invalid
        put(mem, S390_PT + 8 * 0, 0x300000)
        put(mem, S390_PT + 8 * 1, 0x301000)
        put(mem, S390_PT + 8 * 2, 0x300000 | 0x400)              # invalid
        put(mem, S390_PT + 8 * 3, 0x2f0000)
        put(mem, S390_PT + 8 * 4, 0x7ff000000)                   # past RAM: not mapped
        seg5, seg6 = S390_BASE + (5 << 20), S390_BASE + (6 << 20)
        expected = [(seg5, 0x300000, 0x2000), (seg5 + 0x3000, 0x2f0000, 0x1000),
                    (seg6, 0x500000, 0x100000)]
    vmci = b"OSRELEASE=6.1.0-synth\nPAGESIZE=4096\nSYMBOL(swapper_pg_dir)=%x\n" % S390_ROOT
    write_elf(path, ">", 22, [note(">", b"CORE", 1, s390x_prstatus()),
                         note(">", b"VMCOREINFO", 0, vmci)], mem)
    return expected


# --- ppc64 radix ------------------------------------------------------------

PPC_LINEAR = 0xc000000000000000
PPC_ROOT, PPC_PUD0, PPC_PUD, PPC_PMD, PPC_PTE = 0x10000, 0x30000, 0x31000, 0x32000, 0x33000
VALID, LEAF = 1 << 63, 1 << 62


def ppc64_prstatus():
    d = bytearray(504)
    struct.pack_into(">QQ", d, 112 + 32 * 8, PPC_LINEAR + 0x1000, 1 << 63)   # nip; msr: SF, big-endian
    return bytes(d)


def ppc64_dump(path, first_nls=9):
    mem = bytearray(MEM)
    fill_pattern(mem)
    for a in range(PPC_ROOT, PPC_ROOT + 0x10000, 8):
        put(mem, a, 0)
    for a in range(PPC_PUD0, PPC_PTE + 0x100, 8):
        put(mem, a, 0)
    put(mem, PPC_ROOT, VALID | PPC_PUD0 | first_nls)            # the linear map's
    put(mem, PPC_PUD0, VALID | LEAF | 0)                         # 1 GiB at physical 0
    vm = 0x0008000000000000 >> 39                                # vmalloc's root index
    put(mem, PPC_ROOT + 8 * vm, VALID | PPC_PUD | 9)
    put(mem, PPC_ROOT + 8 * (vm + 1), VALID | PPC_PUD | 31)     # no such table: skipped
    put(mem, PPC_PUD, VALID | PPC_PMD | 9)
    put(mem, PPC_PMD, VALID | PPC_PTE | 5)
    put(mem, PPC_PMD + 8, VALID | LEAF | 0x600000)               # 2 MiB leaf
    put(mem, PPC_PTE + 0, VALID | LEAF | 0x200000)
    put(mem, PPC_PTE + 8, VALID | LEAF | 0x210000)
    put(mem, PPC_PTE + 16, LEAF | 0x220000)                      # not valid
    put(mem, PPC_PTE + 24, VALID | LEAF | 0x400000)
    vmci = b"OSRELEASE=6.1.0-synth\nPAGESIZE=65536\nSYMBOL(swapper_pg_dir)=%x\n" % (PPC_LINEAR + PPC_ROOT)
    write_elf(path, ">", 21, [note(">", b"CORE", 1, ppc64_prstatus()),
                         note(">", b"VMCOREINFO", 0, vmci)], mem)
    v = 0xc008000000000000
    return [(v, 0x200000, 0x20000), (v + 0x30000, 0x400000, 0x10000), (v + 0x200000, 0x600000, 0x200000)]


# --- fuzz seeds -------------------------------------------------------------

def seeds(out):
    """Small dumps (under libFuzzer's 64 KiB) whose tables the walks reach:
    s390x's region-third, segment and page tables, and ppc64's Linux tables
    for hash with 64 KiB pages (radix's 64 KiB top table would not fit)."""
    os.makedirs(out, exist_ok=True)
    mem = bytearray(0xc000)
    for a in range(0x1000, 0x9800, 8):
        put(mem, a, 0x400 if a >= 0x9000 else 0x20)
    put(mem, 0x1000 + 8 * S390_R3X, 0x5000 | 0x04 | 0x03)
    put(mem, 0x5000 + 8 * 5, 0x9000)
    put(mem, 0x5000 + 8 * 6, 0x100000 | 0x400)
    for i, pa in enumerate((0xa000, 0xb000, 0xa000 | 0x400, 0x7ff000000)):
        put(mem, 0x9000 + 8 * i, pa)
    vmci = b"OSRELEASE=6.1.0-synth\nPAGESIZE=4096\nSYMBOL(swapper_pg_dir)=1000\n"
    write_elf(os.path.join(out, "kernel-pagetables-s390x"), ">", 22,
              [note(">", b"CORE", 1, s390x_prstatus()), note(">", b"VMCOREINFO", 0, vmci)], mem)

    mem = bytearray(0xa000)
    put(mem, 0x1000, VALID | 0x2000 | 10)                       # 8-bit top table: hash
    put(mem, 0x2000, VALID | LEAF | 0)
    put(mem, 0x1000 + 8 * 0x80, VALID | 0x4000 | 10)            # vmalloc: 0xc008...
    put(mem, 0x4000, VALID | 0x6000 | 8)
    put(mem, 0x6000, VALID | LEAF | 0x8000)
    put(mem, 0x6008, VALID | LEAF | 0x9000)
    vmci = b"OSRELEASE=6.1.0-synth\nPAGESIZE=65536\nSYMBOL(swapper_pg_dir)=%x\n" % (PPC_LINEAR + 0x1000)
    write_elf(os.path.join(out, "kernel-pagetables-ppc64"), ">", 21,
              [note(">", b"CORE", 1, ppc64_prstatus()), note(">", b"VMCOREINFO", 0, vmci)], mem)


# --- the checks -------------------------------------------------------------

def cat(dumpfs, path, node):
    r = subprocess.run([dumpfs, "cat", path, node], capture_output=True, timeout=120)
    if r.returncode != 0:
        raise AssertionError("dumpfs cat %s: exit %d: %s" % (node, r.returncode, r.stderr[-300:]))
    return r.stdout


def header_line(dumpfs, path, key):
    for line in cat(dumpfs, path, "/header").decode("latin-1").splitlines():
        if line.startswith(key + ": "):
            return line[len(key) + 2:]
    raise AssertionError("/header has no %r line" % key)


def extra_loads(elf):
    """(vaddr, paddr, size, offset) of the PT_LOADs after those of the RAM
    (p_vaddr is the linear map's for those)."""
    e = "<" if elf[5] == 1 else ">"
    phoff, = struct.unpack_from(e + "Q", elf, 32)
    phnum, = struct.unpack_from(e + "H", elf, 56)
    loads = []
    for i in range(phnum):
        typ, _, off, v, p, size, _, _ = struct.unpack_from(e + "IIQQQQQQ", elf, phoff + 56 * i)
        if typ == 1:
            loads.append((v, p, size, off))
    return loads[1:]            # the RAM: one run


def expect_loads(dumpfs, path, expected):
    elf = cat(dumpfs, path, "/vmcore.elf")
    mem = cat(dumpfs, path, "/mem")
    got = extra_loads(elf)
    if [(v, p, s) for v, p, s, _ in got] != expected:
        raise AssertionError("PT_LOADs %s, expected %s" % (
            [(hex(v), hex(p), hex(s)) for v, p, s, _ in got],
            [(hex(v), hex(p), hex(s)) for v, p, s in expected]))
    for v, p, s, off in got:
        if elf[off:off + s] != mem[p:p + s]:
            raise AssertionError("PT_LOAD %#x: the bytes at p_offset %#x are not /mem's at %#x" % (v, off, p))
    line = header_line(dumpfs, path, "vmcore.elf kernel mappings")
    if not line.startswith("%d PT_LOADs" % len(expected)):
        raise AssertionError("/header: %r" % line)


def expect_bounded(dumpfs, path):
    t = time.monotonic()
    line = header_line(dumpfs, path, "vmcore.elf kernel mappings")
    took = time.monotonic() - t
    if "stopped at the limit" not in line:
        raise AssertionError("/header: %r, expected the walk stopped at its limit" % line)
    return "%s (%.1f s)" % (line, took)


def expect_none(dumpfs, path, why):
    line = header_line(dumpfs, path, "vmcore.elf kernel mappings")
    if not line.startswith("none (") or why not in line:
        raise AssertionError("/header: %r, expected none (... %s ...)" % (line, why))
    if extra_loads(cat(dumpfs, path, "/vmcore.elf")):
        raise AssertionError("PT_LOADs beyond the RAM's, though the tables were not walked")


def main(dumpfs, work):
    os.makedirs(work, exist_ok=True)
    p = lambda n: os.path.join(work, n + ".elf")
    cases = [
        ("s390x", lambda: expect_loads(dumpfs, p("s390x"), s390x_dump(p("s390x")))),
        ("ppc64", lambda: expect_loads(dumpfs, p("ppc64"), ppc64_dump(p("ppc64")))),
        ("s390x-loop", lambda: (s390x_dump(p("s390x-loop"), loop=True),
                                expect_bounded(dumpfs, p("s390x-loop")))[1]),
        ("ppc64-hash4k", lambda: (ppc64_dump(p("ppc64-hash4k"), first_nls=11),
                                  expect_none(dumpfs, p("ppc64-hash4k"), "11-bit"))[1]),
    ]
    return run_cases(cases)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--seeds":
        sys.exit(seeds(sys.argv[2]))
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
