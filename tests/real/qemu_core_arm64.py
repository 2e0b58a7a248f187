#!/usr/bin/env python3
"""qemu_core_arm64.py DUMPFS [CACHE_DIR]

The cores of a qemu-system-aarch64 process (images/make-qemu-cores-arm64.sh:
the arm64 guest of make-foreign-dumps.sh on -M virt, paused by QMP; gcore
and the kernel's core of QEMU, and dump-guest-memory's ELF of the same
pause) against that ELF, for each core:

  header     the RAM block is QEMU's "mach-virt.ram" (ram_list), from guest
             physical 1 GiB, the guest's architecture aarch64, two vCPUs
  mem        /mem equals the ELF's /mem, every byte (both are 1 GiB of hole,
             then the RAM)
  text       /vmcoreinfo (found in the guest's memory) and /dmesg equal
  registers  each vCPU's x0-x30, sp and pc in /cpus/N/prstatus equal the
             ELF's NT_PRSTATUS; so do pstate's mode bits (QEMU keeps NZCV
             and DAIF elsewhere: they are not compared)

CACHE_DIR defaults to the newest /var/cache/dumpfs/qcore-arm64-*/ with a
COMPLETE file; exits 77 (skip) when there is none."""
import os
import struct
import sys

from common import Fail, complete_cache, mounted

CHUNK = 1 << 20


def find_cache(arg):
    return complete_cache(arg, "qcore-arm64-*")


def same_file(a, b, what):
    with open(a, "rb") as x, open(b, "rb") as y:
        off = 0
        while True:
            p, q = x.read(CHUNK), y.read(CHUNK)
            if p != q:
                raise Fail("%s differs in the MiB at %#x" % (what, off))
            if not p:
                return off
            off += len(p)


def check_header(mnt):
    h = open(os.path.join(mnt, "header")).read()
    for want in ("format: QEMU process core", "guest_ram_origin: QEMU's RAM block \"mach-virt.ram\" (ram_list)",
                 "layout_origin: QEMU virt's memory map (RAM from 0x40000000)",
                 "arch: aarch64", "cpu_registers: 2 vCPUs from QEMU's cpus list",
                 "vmcoreinfo: yes (found in memory"):
        if want not in h:
            raise Fail("/header lacks %r" % want)
    return "mach-virt.ram from 1 GiB, aarch64, 2 vCPUs"


def check_registers(core, ref):
    for cpu in (0, 1):
        a = open(os.path.join(core, "cpus/%d/prstatus" % cpu), "rb").read()
        b = open(os.path.join(ref, "cpus/%d/prstatus" % cpu), "rb").read()
        if len(a) != 392 or len(b) != 392:
            raise Fail("cpu %d: prstatus of %d and %d bytes" % (cpu, len(a), len(b)))
        ra, rb = struct.unpack_from("<34Q", a, 112), struct.unpack_from("<34Q", b, 112)
        if ra[:33] != rb[:33]:
            k = next(i for i in range(33) if ra[i] != rb[i])
            raise Fail("cpu %d: register %d is %#x, the ELF's %#x" % (cpu, k, ra[k], rb[k]))
        if ra[33] & 0xf != rb[33] & 0xf:
            raise Fail("cpu %d: pstate mode %#x, the ELF's %#x" % (cpu, ra[33] & 0xf, rb[33] & 0xf))
    return "x0-x30, sp, pc and pstate's mode of both vCPUs"


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit(__doc__)
    dumpfs, cache = argv[1], find_cache(argv[2] if len(argv) == 3 else None)
    if not cache:
        print("skip: no /var/cache/dumpfs/qcore-arm64-*/COMPLETE (bash images/make-qemu-cores-arm64.sh)")
        return 77
    ref = os.path.join(cache, "ref.elf")
    failed = passed = 0
    for core in ("qemu.core", "qemu.gcore"):
        with mounted(dumpfs, [os.path.join(cache, core)]) as c, mounted(dumpfs, [ref]) as r:
            checks = [
                ("header", lambda: check_header(c)),
                ("mem", lambda: "%d bytes" % same_file(os.path.join(c, "mem"), os.path.join(r, "mem"), "/mem")),
                ("text", lambda: "%d and %d bytes" % tuple(
                    same_file(os.path.join(c, n), os.path.join(r, n), "/" + n) for n in ("vmcoreinfo", "dmesg"))),
                ("registers", lambda: check_registers(c, r)),
            ]
            for name, fn in checks:
                try:
                    print("ok    %s %s: %s" % (core, name, fn()), flush=True)
                    passed += 1
                except (Fail, OSError) as e:
                    print("FAIL  %s %s: %s" % (core, name, e), flush=True)
                    failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
