#!/usr/bin/env python3
"""maple_tree.py DUMPFS WORKDIR

/tasks/PID/maps on generated ppc64 dumps (task_list.py's, with the maple
tree, VMA and file structures in their BTF): pid 57's mm_mt is a
maple_arange_64 root over two maple_leaf_64 nodes, as lib/maple_tree.c
lays them out, holding five VMAs: a file mapping of /bin/busybox (a dentry
chain under a mount), an anonymous one, the heap, the stack and a special
mapping named [vdso]:

  good            maps is exactly what /proc/PID/maps would print
  vma-misplaced   a VMA outside the range its slot covers: EIO
  node-loop       the root's second slot points back at the root: EIO
  node-unmapped   a child outside the dump: EIO
  list            the same VMAs on mm->mmap through vm_next (kernels before
                  6.1): the same maps
  list-loop       the last VMA's vm_next points back at the first: EIO

each failure with the reason logged, never a hang.
"""
import os
import struct
import subprocess
import sys

from synth import expect_read_failure, run_cases
import task_list as tl

E, LINEAR = tl.E, tl.LINEAR
ROOT, LEAF_A, LEAF_B = 0x1d0000, 0x1d0100, 0x1d0200
VMAS = 0x1d1000
VMA_SIZE = 0x48
FILE, INODE, SB, D_ROOT, D_BIN, D_BUSYBOX, NAMES, MOUNT = (
    0x1d2000, 0x1d2100, 0x1d2200, 0x1d2300, 0x1d2340, 0x1d2380, 0x1d2400, 0x1d2500)
SPECIAL_OPS, SPECIAL, SPECIAL_NAME = 0x1d3000, 0x1d3100, 0x1d3200
MAX = (1 << 64) - 1
V = lambda p: LINEAR + p

# (start, end, flags, file?, ops)
VMA_LIST = [(0x400000, 0x401000, 0x5, True, 0), (0x600000, 0x601000, 0x3, False, 0),
            (0x1000000, 0x1021000, 0x3, False, 0), (0x7ffc0000, 0x7ffe1000, 0x3, False, 0),
            (0x7fff0000, 0x7fff2000, 0x5, False, SPECIAL_OPS)]
EXPECTED = (
    "00400000-00401000 r-xp 00000000 00:02 6" + " " * 34 + "/bin/busybox\n"
    "00600000-00601000 rw-p 00000000 00:00 0 \n"
    "01000000-01021000 rw-p 00000000 00:00 0" + " " * 34 + "[heap]\n"
    "7ffc0000-7ffe1000 rw-p 00000000 00:00 0" + " " * 34 + "[stack]\n"
    "7fff0000-7fff2000 r-xp 00000000 00:00 0" + " " * 34 + "[vdso]\n")


def enode(addr, typ, root=False):
    """The kernel's encoded node: type in bits 3-6, MAPLE_ENODE_NULL (4);
    the root's marked an xarray internal entry (2), a child's not."""
    return V(addr) | typ << 3 | (2 if root else 4)


def put_node(mem, addr, pivots, slots, end, arange):
    struct.pack_into(E + "%dQ" % len(pivots), mem, addr + 8, *pivots)
    struct.pack_into(E + "%dQ" % len(slots), mem, addr + (80 if arange else 128), *slots)
    mem[addr + (240 if arange else 248)] = end


def fill(case):
    def write(mem):
        for i, (start, end, flags, has_file, ops) in enumerate(VMA_LIST):
            if case == "vma-misplaced" and i == 1:
                start = 0x300000
            nxt = V(VMAS + VMA_SIZE * (i + 1)) if i + 1 < len(VMA_LIST) else 0
            if case == "list-loop" and i + 1 == len(VMA_LIST):
                nxt = V(VMAS)
            struct.pack_into(E + "9Q", mem, VMAS + VMA_SIZE * i, start, end, flags, 0,
                             V(FILE) if has_file else 0, V(ops) if ops else 0, V(SPECIAL) if ops else 0,
                             0, nxt)
        vma = lambda i: V(VMAS + VMA_SIZE * i)
        put_node(mem, LEAF_A, [0x3fffff, 0x400fff, 0x5fffff, 0x600fff, 0xffffff],
                 [0, vma(0), 0, vma(1), 0], 4, False)
        put_node(mem, LEAF_B, [0x1020fff, 0x7ffbffff, 0x7ffe0fff, 0x7ffeffff, 0x7fff1fff],
                 [vma(2), 0, vma(3), 0, vma(4), 0], 5, False)
        second = {"node-loop": enode(ROOT, 3), "node-unmapped": enode(0x7000000, 1)}.get(case, enode(LEAF_B, 1))
        put_node(mem, ROOT, [0xffffff], [enode(LEAF_A, 1), second], 1, True)
        mm = tl.MM
        struct.pack_into(E + "Q", mem, mm + tl.MM_MT + 8, enode(ROOT, 3, root=True))
        if case.startswith("list"):                     # mm->mmap: the first VMA
            struct.pack_into(E + "Q", mem, mm + tl.MM_MT, vma(0))
        struct.pack_into(E + "QQQ", mem, mm + tl.MM_START_BRK, 0x1000000, 0x1021000, 0x7ffe0f00)
        # /bin/busybox: file -> path (mount, dentry) -> d_parent chain
        struct.pack_into(E + "QQQ", mem, FILE, V(MOUNT + 16), V(D_BUSYBOX), V(INODE))
        struct.pack_into(E + "QQ", mem, INODE, 6, V(SB))
        struct.pack_into(E + "I", mem, SB, 2)
        for d, parent, name, at in ((D_ROOT, D_ROOT, b"/", 0), (D_BIN, D_ROOT, b"bin", 8),
                                    (D_BUSYBOX, D_BIN, b"busybox", 16)):
            struct.pack_into(E + "QIIQ", mem, d, V(parent), 0, len(name), V(NAMES + at))
            mem[NAMES + at:NAMES + at + len(name)] = name
        struct.pack_into(E + "QQQ", mem, MOUNT, V(MOUNT), V(D_ROOT), V(D_ROOT))
        struct.pack_into(E + "Q", mem, SPECIAL, V(SPECIAL_NAME))
        mem[SPECIAL_NAME:SPECIAL_NAME + 7] = b"[vdso]\0"
    return write


def make(path, case):
    tl.make(path, "good", more_syms=[(V(SPECIAL_OPS), "d", "special_mapping_vmops")], fill=fill(case),
            maple="list" if case.startswith("list") else True)


def expect_maps(dumpfs, path):
    r = subprocess.run([dumpfs, "cat", path, "/tasks/57/maps"], capture_output=True, timeout=60)
    if r.returncode != 0 or r.stdout.decode() != EXPECTED:
        raise AssertionError("exit %d, %r\ngot:\n%s\nexpected:\n%s" % (
            r.returncode, r.stderr[-200:], r.stdout.decode(errors="replace"), EXPECTED))
    return "%d lines as /proc/PID/maps prints them" % EXPECTED.count("\n")


def main(dumpfs, work):
    os.makedirs(work, exist_ok=True)
    p = lambda n: os.path.join(work, n + ".elf")
    cases = [("good", lambda: (make(p("good"), "good"), expect_maps(dumpfs, p("good")))[1]),
             ("list", lambda: (make(p("list"), "list"), expect_maps(dumpfs, p("list")))[1])]
    for case, words in (("vma-misplaced", "out of its place among the VMAs"),
                        ("list-loop", "out of its place"),
                        ("node-loop", "pivots out of order"),
                        ("node-unmapped", "is not in the dump")):
        cases.append((case, lambda c=case, w=words: (make(p(c), c), expect_read_failure(
            dumpfs, p(c), "/tasks/57/maps", w, work))))
    return run_cases(cases)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
