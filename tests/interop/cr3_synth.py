#!/usr/bin/env python3
"""cr3_synth.py DUMPFS WORKDIR

phys_base and the KASLR text address from the page tables of a QEMU CPU
note's CR3, on generated x86_64 dumps without VMCOREINFO (as QEMU writes for
a guest without -device vmcoreinfo), no corpus or tool needed:

  kaslr     a kernel mapped at _text = 0xffffffff81000000 + 0x3e00000 from
            phys_base 0x5600000 through 2 MiB pages, CR3 with PCID bits set:
            /header gives that phys_base, and /vmcore.elf's kernel-text
            PT_LOAD starts at that _text and maps to _text's physical address;
  nocr3     the same memory, CR3 0 in every note (CPUs never started):
            phys_base stays unknown and there is no kernel-text PT_LOAD;
  unaligned a 4 KiB mapping that would give a phys_base that is not 2 MiB
            aligned, which no kernel has: refused, phys_base unknown.
The dumps are ELF in QEMU's layout, which /vmcore.elf rebuilds."""
import os
import re
import struct
import subprocess
import sys

from dmesg_synth import Memory, PageTables, note, PAGE

START_KERNEL_MAP = 0xffffffff80000000
DEFAULT_TEXT = 0xffffffff81000000
KASLR = 0x3e00000
PHYS_BASE = 0x5600000
MEM_SIZE = 176 << 20          # holds _text's physical address, 0xa400000
TABLES_PHYS = 0x100000        # where the page tables live, physical


class PhysTables(PageTables):
    """Page tables at a physical address (no kernel map needed to find them)."""

    def __init__(self, mem, top_paddr):
        self.mem, self.top = mem, top_paddr
        self.next_table = top_paddr + PAGE
        self.tables = {}

    def map_2m(self, vaddr, paddr):
        pud = self._table(self.top, (vaddr >> 39) & 511)
        pmd = self._table(pud, (vaddr >> 30) & 511)
        self.mem.put_u64(pmd + ((vaddr >> 21) & 511) * 8, paddr | 0xe3)


def qemu_note(cr3):
    """A QEMUCPUState (QEMU target/i386/arch_dump.c): version 1, size 440,
    cr[0..4] at 392."""
    desc = bytearray(440)
    struct.pack_into("<II", desc, 0, 1, 440)
    struct.pack_into("<QQQQQ", desc, 392, 0x80050033, 0, 0, cr3, 0x3406f0)
    return note("QEMU", 0, bytes(desc))


def write_elf(path, mem, notes):
    """An ELF core in QEMU's layout: two section headers right after the ELF
    header, program headers after them (e_phoff 192).  /vmcore.elf rebuilds
    such a file, so its kernel-text PT_LOAD is ours to check."""
    phnum, shnum = 2, 2
    phoff = 64 + shnum * 64
    notes_off = phoff + phnum * 56
    data_off = (notes_off + len(notes) + PAGE - 1) // PAGE * PAGE
    eh = bytearray(64)
    eh[:7] = b"\x7fELF\x02\x01\x01"
    struct.pack_into("<HHIQQQIHHHHHH", eh, 16, 4, 62, 1, 0, phoff, 64, 0, 64, 56, phnum, 64, shnum, 0)
    ph = struct.pack("<IIQQQQQQ", 4, 0, notes_off, 0, 0, len(notes), len(notes), 0)
    ph += struct.pack("<IIQQQQQQ", 1, 7, data_off, 0, 0, MEM_SIZE, MEM_SIZE, 0)
    with open(path, "wb") as f:
        f.write(bytes(eh) + bytes(shnum * 64) + ph + notes)
        f.truncate(data_off + MEM_SIZE)
        for paddr, data in mem.chunks.items():
            f.seek(data_off + paddr)
            f.write(data)


def kernel_memory_4k(phys_base):
    """Only _text's first page mapped, through a 4 KiB page table entry."""
    mem = Memory()
    tables = PhysTables(mem, TABLES_PHYS)
    text = DEFAULT_TEXT + KASLR
    tables.map_4k(text, text - START_KERNEL_MAP + phys_base)
    return mem


def kernel_memory(phys_base):
    """The kernel image mapped as a booted kernel leaves it: 8 MiB from _text
    (cleanup_highmap() has cleared the entries below _text)."""
    mem = Memory()
    tables = PhysTables(mem, TABLES_PHYS)
    text = DEFAULT_TEXT + KASLR
    for i in range(4):
        va = text + i * (2 << 20)
        tables.map_2m(va, va - START_KERNEL_MAP + phys_base)
    return mem


def dumpfs_out(dumpfs, path, node, length=None):
    cmd = [dumpfs, "cat"] + (["--length", str(length)] if length else []) + [path, node]
    r = subprocess.run(cmd, capture_output=True)
    if r.returncode != 0:
        raise RuntimeError("dumpfs cat %s %s: %s" % (path, node, r.stderr.decode(errors="replace")))
    return r.stdout


def kernel_text_load(elf_head):
    """(p_vaddr, p_paddr) of the PT_LOAD in the kernel map, or None."""
    phoff, = struct.unpack_from("<Q", elf_head, 32)
    phnum, = struct.unpack_from("<H", elf_head, 56)
    for i in range(phnum):
        typ, _, _, vaddr, paddr = struct.unpack_from("<IIQQQ", elf_head, phoff + i * 56)
        if typ == 1 and vaddr >= START_KERNEL_MAP:
            return vaddr, paddr
    return None


def check(dumpfs, path, want_phys_base, want_text):
    header = dumpfs_out(dumpfs, path, "/header").decode()
    m = re.search(r"^phys_base: (.*)$", header, re.M)
    got = m.group(1) if m else "(no phys_base line)"
    if want_phys_base is None:
        if got != "unknown":
            return "phys_base %r, want unknown" % got
    elif got != "%#x (page tables from a QEMU CPU note's CR3)" % want_phys_base:
        return "phys_base %r, want %#x from the page tables" % (got, want_phys_base)
    load = kernel_text_load(dumpfs_out(dumpfs, path, "/vmcore.elf", 65536))
    if want_text is None:
        return None if load is None else "unexpected kernel-text PT_LOAD %#x" % load[0]
    want = (want_text, want_text - START_KERNEL_MAP + want_phys_base)
    if load != want:
        return "kernel-text PT_LOAD %s, want vaddr %#x paddr %#x" % (
            "missing" if load is None else "vaddr %#x paddr %#x" % load, *want)
    return None


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    dumpfs, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    cr3 = TABLES_PHYS | 0x5              # PCID bits must be ignored
    cases = {
        "kaslr": (kernel_memory(PHYS_BASE), qemu_note(0) + qemu_note(cr3), PHYS_BASE,
                  DEFAULT_TEXT + KASLR),
        "nocr3": (kernel_memory(PHYS_BASE), qemu_note(0) + qemu_note(0), None, None),
        "unaligned": (kernel_memory_4k(PHYS_BASE + 0x1000), qemu_note(cr3), None, None),
    }
    failures = 0
    for name, (mem, notes, want_pb, want_text) in cases.items():
        path = os.path.join(work, "cr3-%s.elf" % name)
        write_elf(path, mem, notes)
        problem = check(dumpfs, path, want_pb, want_text)
        if problem:
            failures += 1
            print("FAIL %s: %s" % (name, problem))
        else:
            print("ok   %s: phys_base %s, kernel text %s" % (
                name, "unknown" if want_pb is None else "%#x" % want_pb,
                "none" if want_text is None else "%#x" % want_text))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
