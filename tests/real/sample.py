#!/usr/bin/env python3
"""sample.py DUMPFS SAMPLE_DIR

Mount the committed real sample (images/sample/sample.kdump, a makedumpfile
dump of a QEMU guest) and check it against the facts python3-libkdumpfile
read from it when it was made (sample.info, sample.pages.tsv,
sample.vmcoreinfo): page contents by sha256, excluded pages as holes, CPU
count and registers, VMCOREINFO, /header, and /vmcore.elf read back."""
import hashlib
import os
import struct
import sys

from common import Elf, Fail, data_extents, mounted

PAGE = 4096


def load_facts(d):
    info = {}
    for line in open(os.path.join(d, "sample.info")):
        if line.startswith("#") or "=" not in line:
            continue
        k, v = line.rstrip("\n").split("=", 1)
        info[k] = v
    pages = []
    for line in open(os.path.join(d, "sample.pages.tsv")):
        if line.startswith("#"):
            continue
        pfn, state, sha = line.split()
        pages.append((int(pfn, 16), state, sha))
    return info, pages


def check(dumpfs, d):
    info, pages = load_facts(d)
    with mounted(dumpfs, [os.path.join(d, "sample.kdump")]) as mnt:
        mem = os.path.join(mnt, "mem")
        if os.path.getsize(mem) != int(info["max_pfn"]) * PAGE:
            raise Fail("/mem is %d bytes, max_pfn %s" % (os.path.getsize(mem), info["max_pfn"]))
        extents = data_extents(mem)
        ndata = sum(e - s for s, e in extents) // PAGE
        if ndata != int(info["dumped_pages"]):
            raise Fail("SEEK_DATA finds %d pages, the dump has %s" % (ndata, info["dumped_pages"]))

        def in_data(pfn):
            return any(s <= pfn * PAGE < e for s, e in extents)

        with open(mem, "rb") as f:
            for pfn, state, sha in pages:
                f.seek(pfn * PAGE)
                got = f.read(PAGE)
                if state == "present":
                    if hashlib.sha256(got).hexdigest() != sha:
                        raise Fail("pfn %#x: sha256 differs from libkdumpfile's" % pfn)
                    if not in_data(pfn):
                        raise Fail("pfn %#x is dumped but in a hole" % pfn)
                else:
                    if got != bytes(PAGE) or in_data(pfn):
                        raise Fail("excluded pfn %#x is not a zero hole" % pfn)

        ncpus = int(info["nr_cpus"])
        cpus = sorted(os.listdir(os.path.join(mnt, "cpus")), key=int)
        if cpus != [str(i) for i in range(ncpus)]:
            raise Fail("/cpus has %s, want %d CPUs" % (cpus, ncpus))
        for i in range(ncpus):
            pr = open(os.path.join(mnt, "cpus", str(i), "prstatus"), "rb").read()
            # x86_64 elf_prstatus: pr_pid at 32, pr_reg at 112 (rip is reg 16)
            pid, = struct.unpack_from("<I", pr, 32)
            rip, = struct.unpack_from("<Q", pr, 112 + 16 * 8)
            if pid != int(info["cpu%d.pid" % i]) or rip != int(info["cpu%d.rip" % i], 16):
                raise Fail("cpu %d: pid %d rip %#x differ from libkdumpfile's" % (i, pid, rip))
            regs = open(os.path.join(mnt, "cpus", str(i), "regs")).read()
            if "rip      0x%016x" % rip not in regs:
                raise Fail("cpu %d: /regs does not show rip %#x" % (i, rip))

        vmci = open(os.path.join(mnt, "vmcoreinfo"), "rb").read()
        if vmci != open(os.path.join(d, "sample.vmcoreinfo"), "rb").read():
            raise Fail("/vmcoreinfo differs from libkdumpfile's")
        header = open(os.path.join(mnt, "header")).read()
        for want in ("osrelease: " + info["OSRELEASE"], "nr_cpus: %d" % ncpus,
                     "dumped_pages: " + info["dumped_pages"], "dump_level: 31"):
            if want + "\n" not in header:
                raise Fail("/header lacks %r" % want)

        # /vmcore.elf: its PT_NOTE holds the same CPU notes, and its PT_LOADs
        # give the same bytes as /mem for the facts' pages.
        elf = Elf(os.path.join(mnt, "vmcore.elf"))
        if len(elf.prstatus()) != ncpus:
            raise Fail("/vmcore.elf has %d NT_PRSTATUS notes" % len(elf.prstatus()))
        where = elf.pages()
        with open(elf.path, "rb") as f:
            for pfn, state, sha in pages:
                if state != "present":
                    continue
                f.seek(where[pfn])
                if hashlib.sha256(f.read(PAGE)).hexdigest() != sha:
                    raise Fail("/vmcore.elf: pfn %#x differs" % pfn)
    print("ok: sample: %d pages checked, %d CPUs, %d data pages" % (len(pages), ncpus, ndata))


if __name__ == "__main__":
    try:
        check(sys.argv[1], sys.argv[2])
    except Fail as e:
        print("FAIL:", e)
        sys.exit(1)
