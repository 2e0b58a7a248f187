#!/usr/bin/env python3
"""i386.py DUMPFS [CACHE_DIR]

QEMU dumps of Debian 12's own 32-bit x86 kernels (linux-image-686-pae and
linux-image-686), made by images/make-i386-dumps.sh: QMP stop, then
dump-guest-memory as ELF (paging off) and as kdump-zlib of the same moment.
Pins what dumpfs does right on them:

  - `dumpfs info` opens both files of each flavour, /header's arch is i386;
  - the ELF mount's /mem has exactly the ELF's PT_LOAD pages with the same
    bytes, and the marker lines the guest wrote (tools/foreign-init.sh, i686);
  - every data page of the kdump mount's /mem is the ELF mount's, as many;
  - /cpus/N/prstatus of both mounts are the ELF's NT_PRSTATUS (144 bytes,
    the i386 layout); /cpus/0/regs is decoded with eip and esp in the kernel's
    lowmem (>= 0xc0000000) and the kernel's cs 0x60, the same in both mounts;
  - /vmcoreinfo of both mounts is the ELF's VMCOREINFO note; it says
    CONFIG_X86_PAE=y for 686-pae only;
  - /vmcore.elf keeps EM_386 and its PT_LOADs give /mem's bytes (sampled);
    the RAM below 896 MiB at its lowmem address 0xc0000000 + physical, as
    /proc/vmcore has it, p_vaddr 0 above (the VGA and BIOS blocks), and
    init_uts_ns's release read there through /vmcore.elf;
  - /header says page_offset 0xc0000000; /dmesg is the same in both mounts
    and holds every kernel line of the guest's console;
  - /kernel/symbols agrees with VMCOREINFO (common.kernel_symbols), 8 hex
    digits an address; /kernel/btf fails with EIO (no CONFIG_DEBUG_INFO_BTF).

CACHE_DIR defaults to the newest /var/cache/dumpfs/i386-*/ with a
MANIFEST.tsv that has rows; exits 77 (skip) when there is none."""
import glob
import os
import sys

import foreign
from common import Elf, Fail, kernel_symbols, mounted
from foreign import Run, check_cpus, check_info, elf_ident, header, manifest, vmcore_elf_sample

foreign.UNAME["i386"] = "i686"     # the marker lines say uname -m
KERNEL_LOWMEM = 0xc0000000         # Debian's i386 kernels: VMSPLIT_3G
LOWMEM_END = 0x38000000            # kexec-tools' MAXMEM: 4 GiB - PAGE_OFFSET - 128 MiB


def find_cache(arg):
    if arg:
        return arg if os.path.exists(os.path.join(arg, "MANIFEST.tsv")) else None
    best = None
    for m in glob.glob("/var/cache/dumpfs/i386-*/MANIFEST.tsv"):
        try:
            rows = manifest(os.path.dirname(m))
        except OSError:
            continue
        if rows and (best is None or os.path.getmtime(m) > best[0]):
            best = (os.path.getmtime(m), os.path.dirname(m))
    return best[1] if best else None


def check_arch(mnt):
    h = header(mnt)
    if not h.get("arch", "").startswith("i386"):
        raise Fail("/header arch: %r" % h.get("arch"))
    mach, endian = elf_ident(os.path.join(mnt, "vmcore.elf"))
    if (mach, endian) != (3, "little"):
        raise Fail("/vmcore.elf e_machine %d %s-endian, not 3 (EM_386) little" % (mach, endian))
    n = vmcore_elf_sample(mnt, mnt)
    return "arch %s; /vmcore.elf EM_386, %d sampled pages equal to /mem" % (h["arch"], n)


def check_regs(emnt, kmnt):
    texts = [open(os.path.join(m, "cpus", "0", "regs")).read() for m in (emnt, kmnt)]
    if texts[0] != texts[1]:
        raise Fail("/cpus/0/regs differs between the ELF and the kdump mount")
    r = foreign.regs_values(texts[0].split("[QEMU]")[0])
    for k in ("eip", "esp"):
        if k not in r:
            raise Fail("no %s in /cpus/0/regs (not decoded?): %r" % (k, texts[0][:200]))
        if r[k] < KERNEL_LOWMEM:
            raise Fail("%s %#x is below the kernel's lowmem %#x" % (k, r[k], KERNEL_LOWMEM))
    if r.get("cs") != 0x60:
        raise Fail("cs %r, not the kernel's 0x60 (__KERNEL_CS)" % r.get("cs"))
    return "eip %#x esp %#x cs %#x, the same in both mounts" % (r["eip"], r["esp"], r["cs"])


def check_vmcoreinfo(emnt, kmnt, ref, flavour, osrelease):
    note = [d for n, t, d in ref.notes if n == b"VMCOREINFO"]
    if len(note) != 1:
        raise Fail("the ELF has %d VMCOREINFO notes" % len(note))
    for m in (emnt, kmnt):
        got = open(os.path.join(m, "vmcoreinfo"), "rb").read()
        if got.rstrip(b"\0") != note[0].rstrip(b"\0"):
            raise Fail("%s/vmcoreinfo differs from the ELF's note" % m)
    text = note[0].decode(errors="replace")
    if "OSRELEASE=%s\n" % osrelease not in text:
        raise Fail("no OSRELEASE=%s" % osrelease)
    pae = "CONFIG_X86_PAE=y\n" in text
    if pae != (flavour == "686-pae"):
        raise Fail("CONFIG_X86_PAE=y %s in the %s kernel's VMCOREINFO" % ("present" if pae else "absent", flavour))
    return "%d bytes, equal to the note; CONFIG_X86_PAE=y %s" % (len(note[0]), "present" if pae else "absent")


def check_lowmem(mnt, osrelease):
    """/vmcore.elf's RAM at its lowmem addresses, as kexec-tools writes
    /proc/vmcore: p_vaddr = 0xc0000000 + p_paddr up to MAXMEM (896 MiB), 0
    beyond; and the release through them at SYMBOL(init_uts_ns)."""
    h = header(mnt)
    if not h.get("page_offset", "").startswith("0xc0000000 "):
        raise Fail("/header page_offset: %r" % h.get("page_offset"))
    path = os.path.join(mnt, "vmcore.elf")
    loads = foreign.virtual_loads(path)
    for v, p, _, size in loads:
        want = KERNEL_LOWMEM + p if p + size <= LOWMEM_END else 0
        if v != want:
            raise Fail("PT_LOAD paddr %#x size %#x has p_vaddr %#x, not %#x" % (p, size, v, want))
    vmci = dict(l.split("=", 1) for l in open(os.path.join(mnt, "vmcoreinfo")).read().splitlines() if "=" in l)
    uts = int(vmci["SYMBOL(init_uts_ns)"], 16)
    raw = b"".join(foreign.read_virtual(path, loads, uts, 512).split(b"\0"))
    if osrelease.encode() not in raw:
        raise Fail("the release %s is not at init_uts_ns %#x through /vmcore.elf" % (osrelease, uts))
    lowmem = sum(1 for v, _, _, _ in loads if v)
    return "%d of %d PT_LOADs at lowmem addresses; %s at init_uts_ns" % (lowmem, len(loads), osrelease)


def check_no_btf(mnt):
    try:
        with open(os.path.join(mnt, "kernel", "btf"), "rb") as f:
            f.read()
    except OSError as e:
        if e.errno == 5:
            return "EIO"
        raise Fail("/kernel/btf: %s, expected EIO" % e)
    raise Fail("/kernel/btf reads, though Debian's i386 kernels have no BTF")


def main(dumpfs, arg):
    cache = find_cache(arg)
    if not cache:
        print("SKIP: no i386 dumps (%s); make them with: bash images/make-i386-dumps.sh"
              % (arg or "/var/cache/dumpfs/i386-*/MANIFEST.tsv"))
        return 77
    print("cache: %s" % cache, flush=True)
    by = {}
    for r in manifest(cache):
        by.setdefault(r["arch"], {})[r["format"]] = r
    run = Run()
    for arch in sorted(by):
        flavour = arch[len("i386-"):]
        er, kr = by[arch].get("elf"), by[arch].get("kdump-flattened")
        if not er or not kr:
            print("info: %s: not both an ELF and a kdump dump; not checked" % arch)
            continue
        epath, kpath = os.path.join(cache, er["path"]), os.path.join(cache, kr["path"])
        osrelease = er["producer"].split("guest Linux ", 1)[1].split()[0]
        print("== %s: Linux %s" % (flavour, osrelease), flush=True)
        run.check("%s info %s" % (flavour, er["path"]), check_info, dumpfs, epath)
        run.check("%s info %s" % (flavour, kr["path"]), check_info, dumpfs, kpath)
        ref = Elf(epath)
        try:
            with mounted(dumpfs, [epath]) as emnt, mounted(dumpfs, [kpath]) as kmnt:
                run.check("%s ELF /mem vs the ELF file" % flavour, foreign.check_elf_mount, "i386", emnt, ref)
                run.check("%s kdump /mem vs ELF /mem" % flavour, foreign.check_kdump_mem, "i386", kmnt, emnt)
                run.check("%s ELF /cpus" % flavour, check_cpus, emnt, ref)
                run.check("%s kdump /cpus" % flavour, check_cpus, kmnt, ref)
                run.check("%s /cpus/0/regs" % flavour, check_regs, emnt, kmnt)
                run.check("%s ELF arch" % flavour, check_arch, emnt)
                run.check("%s kdump arch" % flavour, check_arch, kmnt)
                run.check("%s /vmcoreinfo" % flavour, check_vmcoreinfo, emnt, kmnt, ref, flavour, osrelease)
                for name, mnt in (("ELF", emnt), ("kdump", kmnt)):
                    run.check("%s %s /vmcore.elf lowmem" % (flavour, name), check_lowmem, mnt, osrelease)
                    run.check("%s %s /kernel/symbols" % (flavour, name), kernel_symbols, mnt)
                    run.check("%s %s /kernel/btf" % (flavour, name), check_no_btf, mnt)
                run.check("%s /dmesg" % flavour, foreign.check_dmesg, emnt, kmnt,
                          os.path.join(cache, "logs", "%s.serial.log" % flavour))
        except Fail as e:
            print("FAIL: %s: %s" % (flavour, e))
            run.failed += 1
    if run.passed + run.failed == 0:
        print("SKIP: %s has no flavour with both dumps" % cache)
        return 77
    print("%d passed, %d failed" % (run.passed, run.failed))
    return 1 if run.failed else 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
