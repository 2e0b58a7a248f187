#!/usr/bin/python3
"""Cross-check mkdump's Xen dumps with readers other than dumpfs.

usage: check_xen.py MKDUMP WORKDIR
       check_xen.py --one xc|xen-kdump OUT   (the checks of one dump)

Writes a set of --format xc and --format xen-kdump variants (bad ones
included) into WORKDIR and compares each with the expected files mkdump
wrote next to it:

  libkdumpfile (python3-libkdumpfile)
    xc: file.format xc_core_elf, xen.type/xlat/version, every pfn below
        max_pfn read at KDUMP_KPHYSADDR against OUT.mem, OUT.holes and
        OUT.eio; PV: every page read again by its gmfn (MACHPHYSADDR) as
        OUT.xen_p2m lists it; cpu.N.XEN_PRSTATUS = OUT.cpuN.xen_context and
        its registers (cpu.N.reg.*, libkdumpfile's own layout of
        vcpu_guest_context) against OUT.cpuN.prstatus; the VMCOREINFO note
        in guest memory.
    xen-kdump: xen.type, xen.phys_start, xen.p2m_mfn, xen.version.*,
        xen.vmcoreinfo.raw, cpu.N.PRSTATUS, machine memory against OUT.mem,
        and dom0's memory through libaddrxlat's own walk of the p2m tree
        from xen.p2m_mfn against OUT.dom0.{mem,holes,eio}.
  readelf -h -S -W (sections, offsets, sizes as OUT.info says; no
    warnings), eu-readelf -n (the notes: GNU readelf shows no notes of an
    ET_CORE file that has no program headers, which is what an xc_core file
    is), readelf -n -l for xen-kdump.
  crash (when installed, with an x86_64 vmlinux: DUMPFS_CRASH_VMLINUX or
    /var/cache/dumpfs/x86-dbg/vmlinux-*): crash -d1 --minimal parses the
    dump (xc: xch_magic, xch_nr_vcpus, xch_nr_pages and the section offsets
    it found; xen-kdump: p2m_mfn, xen_phys_start, the version, the p2m
    frames it read from the tree) before it stops at the first kernel read,
    as these dumps hold no real kernel.

Each dump is checked in a process of its own: libkdumpfile 0.5.1 trusts
sh_size and dies of SIGBUS on a section that runs past EOF, which for the
bad-input variants is noted, not counted.  Where libkdumpfile reads a page
cut by --xen-truncate-pages as zeros (or half of it), that is counted
apart: a reader of ours must give EIO there.

Exit status 0 = all agree, 1 = a difference, 77 = libkdumpfile or readelf
missing.
"""
import glob
import os
import re
import shutil
import struct
import subprocess
import sys

try:
    import kdumpfile as K
except ImportError:
    K = None

PAGE = 4096
bad = 0
notes = []


def fail(what, msg):
    global bad
    bad += 1
    print("FAIL %s: %s" % (what, msg[:300]), flush=True)


def note(what, msg):
    notes.append("%s: %s" % (what, msg))


def load_info(out):
    info = {}
    with open(out + ".info") as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            info[k] = v
    return info


def pfn_sets(prefix):
    eio = set(int(x) for x in open(prefix + ".eio").read().split())
    holes = set()
    for line in open(prefix + ".holes"):
        a, b = map(int, line.split())
        holes.update(range(a, b + 1))
    return eio, holes


def compare_reads(what, read, prefix, npages, elf=False):
    """read(pfn) -> bytes or raises. Compare every pfn with PREFIX.mem.
    @elf: libkdumpfile reads the page before a PT_LOAD as zeros; a hole
    that reads as zeros is counted apart there."""
    eio, holes = pfn_sets(prefix)
    counts = {"ok": 0, "hole": 0, "hole_zero": 0, "eio": 0, "eio_zero": 0, "eio_half": 0}
    errs = 0
    with open(prefix + ".mem", "rb") as mem:
        for pfn in range(npages):
            try:
                got = bytes(read(pfn))
                err = None
            except Exception as e:  # noqa: BLE001 - any read failure
                got, err = None, e
            mem.seek(pfn * PAGE)
            want = mem.read(PAGE)
            if pfn in eio:
                if got is None:
                    counts["eio"] += 1
                elif got == bytes(PAGE):
                    counts["eio_zero"] += 1  # data past EOF read as zeros
                elif got[PAGE // 2:] == bytes(PAGE // 2):
                    counts["eio_half"] += 1  # a page cut in the middle
                else:
                    errs += 1
                    fail(what, "pfn %#x: expected no data, read some" % pfn)
            elif pfn in holes:
                if got is None:
                    counts["hole"] += 1
                elif elf and got == bytes(PAGE):
                    counts["hole_zero"] += 1
                else:
                    errs += 1
                    fail(what, "pfn %#x: a hole read OK" % pfn)
            elif got is None:
                errs += 1
                fail(what, "pfn %#x: %s" % (pfn, err))
            elif got != want:
                errs += 1
                fail(what, "pfn %#x differs" % pfn)
            else:
                counts["ok"] += 1
            if errs > 10:
                fail(what, "giving up after 10 differences")
                break
    return counts


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, **kw)


# ---------------------------------------------------------------- xc_core

SECTIONS = [".shstrtab", ".note.Xen", ".xen_prstatus", ".xen_shared_info",
            ".xen_pages"]

# cpu_user_regs and vcpu_guest_context offsets (public/arch-x86/xen*.h)
GPRS = ["r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
        "rax", "rcx", "rdx", "rsi", "rdi"]
UREGS = {"rip": (128, "Q"), "cs": (136, "H"), "rflags": (144, "Q"),
         "rsp": (152, "Q"), "ss": (160, "H"), "es": (168, "H"),
         "ds": (176, "H"), "fs": (184, "H"), "gs": (192, "H")}


def parse_context(ctx):
    regs = {}
    for i, name in enumerate(GPRS):
        regs[name] = struct.unpack_from("<Q", ctx, 520 + 8 * i)[0]
    for name, (off, fmt) in UREGS.items():
        regs[name] = struct.unpack_from("<" + fmt, ctx, 520 + off)[0]
    for i in range(8):
        regs["cr%d" % i] = struct.unpack_from("<Q", ctx, 4984 + 8 * i)[0]
        regs["dr%d" % i] = struct.unpack_from("<Q", ctx, 5048 + 8 * i)[0]
    regs["fs_base"], regs["gs_base_kernel"], regs["gs_base_user"] = \
        struct.unpack_from("<QQQ", ctx, 5144)
    regs["flags"] = struct.unpack_from("<Q", ctx, 512)[0]
    return regs


PR_ORDER = GPRS + ["orig_rax", "rip", "cs", "rflags", "rsp", "ss", "fs_base",
                   "gs_base", "ds", "es", "fs", "gs"]


def check_xc_libkdumpfile(what, out, info):
    k = K.kdumpfile(out)
    hvm = info["xen_type"] == "hvm"
    expect = {"file.format": "xc_core_elf", "xen.type": 2,
              "xen.xlat": 0 if hvm else 1, "xen.version.major": 4,
              "xen.version.minor": 17,
              "xen.version.extra": info["xen_extra_version"],
              "cpu.number": int(info["nr_vcpus"]), "arch.page_size": PAGE,
              "arch.name": "x86_64"}
    for key, val in expect.items():
        got = k.attr[key] if key in k.attr else None
        if got != val:
            fail(what, "libkdumpfile %s = %r, want %r" % (key, got, val))
    npages = int(info["max_pfn"])
    counts = compare_reads(what + " libkdumpfile KPHYSADDR",
                           lambda pfn: k.read(K.KDUMP_KPHYSADDR, pfn * PAGE, PAGE),
                           out, npages)
    if "xen_dup_pfn" in info:
        # our rule: the first entry wins; libkdumpfile's choice, for the record
        pfn = int(info["xen_dup_pfn"])
        try:
            got = bytes(k.read(K.KDUMP_KPHYSADDR, pfn * PAGE, PAGE))
            with open(out + ".mem", "rb") as f:
                f.seek(pfn * PAGE)
                first = f.read(PAGE) == got
            note(what, "libkdumpfile serves the %s entry of duplicated pfn %#x"
                 % ("first" if first else "second", pfn))
        except Exception as e:  # noqa: BLE001
            note(what, "libkdumpfile fails on the duplicated pfn: %s" % e)
    if not hvm:
        # every page by its gmfn: the p2m array read by another route
        eio, _ = pfn_sets(out)
        seen = set()
        n = 0
        with open(out + ".mem", "rb") as mem:
            for line in open(out + ".xen_p2m"):
                _, pfn, gmfn, kind = line.split()
                pfn, gmfn = int(pfn, 16), int(gmfn, 16)
                if kind != "page" or pfn in eio or pfn in seen:
                    continue
                seen.add(pfn)
                mem.seek(pfn * PAGE)
                try:
                    got = bytes(k.read(K.KDUMP_MACHPHYSADDR, gmfn * PAGE, PAGE))
                except Exception as e:  # noqa: BLE001
                    fail(what, "gmfn %#x (pfn %#x): %s" % (gmfn, pfn, e))
                    continue
                if got != mem.read(PAGE):
                    fail(what, "gmfn %#x (pfn %#x) differs" % (gmfn, pfn))
                n += 1
        counts["by_gmfn"] = n
    # vCPUs: the raw contexts, libkdumpfile's registers, our prstatus
    for c in range(int(info["nr_vcpus"])):
        ctx = open("%s.cpu%d.xen_context" % (out, c), "rb").read()
        blob = bytes(memoryview(k.attr["cpu.%d.XEN_PRSTATUS" % c]))
        if blob != ctx:
            fail(what, "cpu.%d.XEN_PRSTATUS differs from OUT.cpu%d.xen_context" % (c, c))
        mine = parse_context(ctx)
        lk = k.attr["cpu.%d.reg" % c]
        for name in GPRS + list(UREGS) + ["cr%d" % i for i in range(8)] + \
                ["dr%d" % i for i in range(8)]:
            if lk[name] != mine[name]:
                fail(what, "cpu %d %s: libkdumpfile %#x, context %#x"
                     % (c, name, lk[name], mine[name]))
        pr = open("%s.cpu%d.prstatus" % (out, c), "rb").read()
        if len(pr) != 336:
            fail(what, "cpu %d prstatus is %d bytes" % (c, len(pr)))
            continue
        reg = dict(zip(PR_ORDER, struct.unpack_from("<27Q", pr, 112)))
        want = {n: lk[n] for n in GPRS + list(UREGS)}
        want.update(orig_rax=2 ** 64 - 1, fs_base=mine["fs_base"],
                    gs_base=mine["gs_base_kernel"])
        for name in PR_ORDER:
            if reg[name] != want[name]:
                fail(what, "cpu %d prstatus %s = %#x, want %#x" % (c, name, reg[name], want[name]))
        rest = pr[:112] + pr[112 + 27 * 8:]
        if rest != bytes(len(rest)):
            fail(what, "cpu %d prstatus: fields besides pr_reg are not 0" % c)
    # VMCOREINFO where the guest kernel keeps it
    if os.path.exists(out + ".vmcoreinfo"):
        text = open(out + ".vmcoreinfo", "rb").read()
        npfn, dpfn = int(info["vmcoreinfo_note_pfn"]), int(info["vmcoreinfo_data_pfn"])
        page = bytes(k.read(K.KDUMP_KPHYSADDR, npfn * PAGE, PAGE))
        namesz, descsz, typ = struct.unpack_from("<III", page)
        if (namesz, descsz, typ) != (11, len(text), 0) or page[12:23] != b"VMCOREINFO\0" \
                or page[24:24 + len(text)] != text:
            fail(what, "no VMCOREINFO note at pfn %#x" % npfn)
        data = bytes(k.read(K.KDUMP_KPHYSADDR, dpfn * PAGE, PAGE))
        if data[:len(text)] != text or data[len(text):] != bytes(PAGE - len(text)):
            fail(what, "no vmcoreinfo_data page at pfn %#x" % dpfn)
        if b"CRASHTIME=" in text or not text.startswith(b"OSRELEASE="):
            fail(what, "OUT.vmcoreinfo is not what a live kernel holds")
    return counts


def readelf_sections(what, path):
    r = run(["readelf", "-h", "-S", "-W", path])
    if r.returncode:
        fail(what, "readelf -S failed: %s" % r.stderr.strip())
        return None, r.stderr
    secs = {}
    for m in re.finditer(r"^\s*\[\s*(\d+)\]\s+(\S+)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+"
                         r"([0-9a-f]+)\s+([0-9a-f]+)\s+(\S*)\s*(\d+)\s+(\d+)\s+(\d+)\s*$",
                         r.stdout, re.M):
        idx, name, typ, addr, off, size, es, flg, lk, inf, al = m.groups()
        secs[name] = dict(idx=int(idx), type=typ, off=int(off, 16), size=int(size, 16),
                          entsize=int(es, 16), flags=flg, align=int(al))
    return secs, r.stderr


def check_xc_readelf(what, out, info):
    secs, err = readelf_sections(what, out)
    if secs is None:
        return
    arr = info["xen_array"]
    names = SECTIONS + [arr]
    if sorted(secs) != sorted(names):
        fail(what, "readelf sections %s" % sorted(secs))
        return
    order = sorted(secs, key=lambda n: secs[n]["idx"])
    if order != [".shstrtab", ".note.Xen", ".xen_prstatus", ".xen_shared_info",
                 ".xen_pages", arr]:
        fail(what, "section order %s" % order)
    nr_pages, ncpu = int(info["nr_pages"]), int(info["nr_vcpus"])
    entsz = 8 if arr == ".xen_pfn" else 16
    want = {".note.Xen": ("NOTE", 0, 1384, 0),
            ".xen_prstatus": ("PROGBITS", 5168, 5168 * ncpu, 8),
            ".xen_shared_info": ("PROGBITS", 4096, 4096, 8),
            ".xen_pages": ("PROGBITS", 4096, 4096 * nr_pages, 4096),
            arr: ("PROGBITS", entsz, entsz * nr_pages, 8),
            ".shstrtab": ("STRTAB", 0, None, 0)}
    badsec = info.get("xen_bad_section")
    for name, (typ, es, size, al) in want.items():
        s = secs[name]
        if name == badsec:
            size = int(info["xen_bad_section_size"], 16)
        if s["type"] != typ or s["entsize"] != es or s["align"] != al or \
                (size is not None and s["size"] != size) or s["flags"]:
            fail(what, "readelf %s: %s" % (name, s))
    for key, name in (("xen_pages_offset", ".xen_pages"), ("xen_array_offset", arr),
                      ("xen_prstatus_offset", ".xen_prstatus"),
                      ("xen_shared_info_offset", ".xen_shared_info")):
        if secs[name]["off"] != int(info[key], 16):
            fail(what, "%s at %#x, OUT.info says %s" % (name, secs[name]["off"], info[key]))
    if secs[".xen_pages"]["off"] % PAGE:
        fail(what, ".xen_pages not page-aligned")
    damaged = badsec or info.get("incomplete") == "1"
    if err.strip() and not damaged:
        fail(what, "readelf warns: %s" % err.strip())
    elif err.strip():
        note(what, err.strip().splitlines()[0])
    r = run(["eu-readelf", "-n", out])
    got = re.findall(r"^\s+Xen\s+(\d+)\s+<unknown>: (\d+)\s*$", r.stdout, re.M)
    if got != [("0", str(0x2000000)), ("32", str(0x2000001)), ("1280", str(0x2000002)),
               ("8", str(0x2000003))]:
        fail(what, "eu-readelf -n: %r %s" % (got, r.stderr.strip()))


def crash_vmlinux():
    if not shutil.which("crash"):
        return None
    v = os.environ.get("DUMPFS_CRASH_VMLINUX")
    if v:
        return v if os.path.exists(v) else None
    found = sorted(glob.glob("/var/cache/dumpfs/x86-dbg/vmlinux-*"))
    return found[-1] if found else None


def crash_debug(path, vmlinux, level):
    cmds = os.path.join(os.path.dirname(path), "crash.cmds")
    with open(cmds, "w") as f:
        f.write("q\n")
    r = run(["timeout", "300", "crash", "-d%d" % level, "--minimal", vmlinux, path,
             "-i", cmds])
    return r.stdout + r.stderr


def field(text, name):
    m = re.search(r"^\s*%s: (\S+)" % re.escape(name), text, re.M)
    return m.group(1) if m else None


def check_xc_crash(what, out, info, vmlinux):
    t = crash_debug(out, vmlinux, 1)
    magic = "f00febee" if info["xen_type"] == "hvm" else "f00febed"
    want = {"xch_magic": magic, "xch_nr_vcpus": info["nr_vcpus"],
            "xch_nr_pages": info["nr_pages"],
            "xch_pages_offset": str(int(info["xen_pages_offset"], 16)),
            "xch_index_offset": str(int(info["xen_array_offset"], 16)),
            "xch_ctxt_offset": str(int(info["xen_prstatus_offset"], 16)),
            "shared_info_offset": str(int(info["xen_shared_info_offset"], 16)),
            "page_size": "4096"}
    for key, val in want.items():
        if field(t, key) != val:
            fail(what, "crash %s: %r, want %r" % (key, field(t, key), val))
    for typ in ("NONE", "HEADER", "XEN_VERSION", "FORMAT_VERSION"):
        if "(XEN_ELFNOTE_DUMPCORE_%s)" % typ not in t:
            fail(what, "crash did not decode XEN_ELFNOTE_DUMPCORE_%s" % typ)
    return "crash parsed it"


# -------------------------------------------------------------- xen-kdump

def check_xk_libkdumpfile(what, out, info):
    k = K.kdumpfile(out)
    ci = open(out + ".xen_crash_info", "rb").read()
    expect = {"file.format": "elf", "xen.type": 1,
              "xen.phys_start": int(info["xen_phys_start"], 16),
              "xen.p2m_mfn": int(info["xen_p2m_mfn"], 16),
              "xen.version.major": 4, "xen.version.minor": 17,
              "xen.version.extra_addr": struct.unpack_from("<Q", ci, 16)[0],
              "cpu.number": int(info["nr_cpus"]), "arch.name": "x86_64"}
    for key, val in expect.items():
        got = k.attr[key] if key in k.attr else None
        if got != val:
            fail(what, "libkdumpfile %s = %r, want %r" % (key, got, val))
    raw = bytes(memoryview(k.attr["xen.vmcoreinfo.raw"]))
    text = open(out + ".xen_vmcoreinfo", "rb").read()
    if len(raw) != int(info["xen_vmcoreinfo_descsz"]) or raw[:len(text)] != text or \
            raw[len(text):] != bytes(len(raw) - len(text)):
        fail(what, "xen.vmcoreinfo.raw is not OUT.xen_vmcoreinfo padded with NULs")
    for c in range(int(info["nr_cpus"])):
        blob = bytes(memoryview(k.attr["cpu.%d.PRSTATUS" % c]))
        if blob != open("%s.cpu%d.prstatus" % (out, c), "rb").read():
            fail(what, "cpu.%d.PRSTATUS differs" % c)
    counts = {"machine": compare_reads(
        what + " libkdumpfile MACHPHYSADDR",
        lambda pfn: k.read(K.KDUMP_MACHPHYSADDR, pfn * PAGE, PAGE), out, int(info["max_pfn"]),
        elf=True)}
    # Xen's own copies in machine memory: the VMCOREINFO_XEN note and the
    # strings CRASH_INFO points at
    ma = int(info["xen_vmcoreinfo_maddr"], 16)
    page = bytes(k.read(K.KDUMP_MACHPHYSADDR, ma, PAGE))
    if page[:12] != struct.pack("<III", 15, len(raw), 0) or page[12:27] != b"VMCOREINFO_XEN\0" \
            or page[28:] != raw:
        fail(what, "vmcoreinfo_data at %#x is not the note" % ma)
    for i, key in ((2, "xen_extra_version"), (3, "xen_changeset"), (4, "xen_compiler"),
                   (5, "xen_compile_date"), (6, "xen_compile_time")):
        pa = struct.unpack_from("<Q", ci, 8 * i)[0]
        s = info[key].encode()
        if bytes(k.read(K.KDUMP_MACHPHYSADDR, pa, len(s) + 1)) != s + b"\0":
            fail(what, "CRASH_INFO's %s at %#x" % (key, pa))
    # dom0: libaddrxlat walks the p2m tree itself (x86_64.c set_xen_p2m)
    k2 = K.kdumpfile(out)
    k2.attr["addrxlat.force.virt_bits"] = 48
    k2.attr["addrxlat.ostype"] = "linux"
    counts["dom0"] = compare_reads(
        what + " libkdumpfile dom0 KPHYSADDR",
        lambda pfn: k2.read(K.KDUMP_KPHYSADDR, pfn * PAGE, PAGE), out + ".dom0",
        int(info["dom0_max_pfn"]), elf=True)
    if os.path.exists(out + ".dom0.vmcoreinfo"):
        text = open(out + ".dom0.vmcoreinfo", "rb").read()
        npfn = int(info["dom0_vmcoreinfo_note_pfn"])
        page = bytes(k2.read(K.KDUMP_KPHYSADDR, npfn * PAGE, PAGE))
        if page[:12] != struct.pack("<III", 11, len(text), 0) or page[24:24 + len(text)] != text:
            fail(what, "dom0's VMCOREINFO note is not at pfn %#x" % npfn)
    return counts


def check_xk_readelf(what, out, info):
    r = run(["readelf", "-n", "-l", "-W", out])
    if r.returncode or r.stderr.strip():
        fail(what, "readelf -n -l: %s" % r.stderr.strip())
    got = re.findall(r"^\s+(CORE|Xen|VMCOREINFO_XEN)\s+0x([0-9a-f]+)\s+([^\t\n]*?)\s*(?:\t|$)",
                     r.stdout, re.M)
    want = []
    for c in range(int(info["nr_cpus"])):
        want.append(("CORE", 336, "NT_PRSTATUS (prstatus structure)"))
        want.append(("Xen", 32, "Unknown note type: (0x01000002)"))
        if c == 0:
            want.append(("Xen", 80, "Unknown note type: (0x01000001)"))
    want.append(("VMCOREINFO_XEN", int(info["xen_vmcoreinfo_descsz"]),
                 "Unknown note type: (0x00000000)"))
    got = [(o, int(s, 16), d) for o, s, d in got]
    if got != want:
        fail(what, "readelf -n: %s" % got[:6])
    loads = re.findall(r"^\s+LOAD\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+"
                       r"0x([0-9a-f]+)\s+0x([0-9a-f]+)", r.stdout, re.M)
    holes = [tuple(map(int, line.split())) for line in open(out + ".holes")]
    ram = []
    at = 0
    for a, b in holes + [(int(info["max_pfn"]), None)]:
        if a > at:
            ram.append((at * PAGE, a * PAGE - at * PAGE))
        at = (b or 0) + 1
    if [(int(p, 16), int(s, 16)) for _, _, p, s, _ in loads] != ram:
        fail(what, "PT_LOADs %s are not the RAM %s" % (loads[:3], ram[:3]))
    r = run(["eu-readelf", "-n", out])
    if r.returncode or "XEN" in r.stderr:
        fail(what, "eu-readelf -n: %s" % r.stderr.strip())


def check_xk_crash(what, out, info, vmlinux):
    t = crash_debug(out, vmlinux, 1)
    want = {"p2m_mfn": "%x" % int(info["xen_p2m_mfn"], 16),
            "xen_phys_start": "%x" % int(info["xen_phys_start"], 16),
            "xen_major_version": "4", "xen_minor_version": "17"}
    for key, val in want.items():
        if field(t, key) != val:
            fail(what, "crash %s: %r, want %r" % (key, field(t, key), val))
    frames = re.search(r"^p2m_frames: (\d+)", t, re.M)
    if not frames or "cannot read xen kdump p2m" in t:
        fail(what, "crash did not read dom0's p2m tree")
        return "crash failed"
    # x86_64_xen_kdump_p2m_create() counts the non-zero entries of the
    # frame lists: with Linux's "missing" pages they are all non-zero
    return "crash read the p2m tree (%s frames)" % frames.group(1)


# ------------------------------------------------------------------ main

XC_VARIANTS = {
    "xc-pv": [],
    "xc-pv-shuffle": ["--xen-shuffle", "--cpus", "3"],
    "xc-pv-arrays-first-novmci": ["--xen-arrays-first", "--no-vmcoreinfo"],
    "xc-hvm": ["--xen-type", "hvm"],
    "xc-hvm-shuffle-mmio": ["--xen-type", "hvm", "--xen-shuffle", "--cpus", "4",
                            "--ram", "0-4095,983040-983100"],
    "xc-pv-out-of-range": ["--xen-p2m-out-of-range", "9", "--xen-shuffle"],
    "xc-hvm-out-of-range": ["--xen-type", "hvm", "--xen-p2m-out-of-range", "5"],
    "xc-pv-dup": ["--xen-dup-pfn"],
    "xc-hvm-dup-shuffle": ["--xen-type", "hvm", "--xen-dup-pfn", "--xen-shuffle"],
    "xc-pv-truncated": ["--xen-truncate-pages", "--xen-shuffle"],
    "xc-hvm-truncated": ["--xen-type", "hvm", "--xen-truncate-pages"],
    "xc-pv-bad-pages-size": ["--xen-bad-section-size"],
    "xc-pv-bad-p2m-size": ["--xen-bad-section-size=.xen_p2m"],
}
XK_VARIANTS = {
    "xk": [],
    "xk-cpus3": ["--cpus", "3", "--seed", "7"],
    "xk-out-of-range": ["--xen-p2m-out-of-range", "6"],
    "xk-big": ["--ram", "0-158,256-40959"],
    "xk-small-novmci": ["--ram", "0-1535", "--no-vmcoreinfo", "--cpus", "1"],
}


# crash takes 10-30 s to start: it checks one variant of each layout.
CRASH_VARIANTS = {"xc-pv", "xc-hvm", "xk"}


def check_one(fmt, out):
    """All checks of one dump; prints one line (and the notes)."""
    name = os.path.basename(out)
    info = load_info(out)
    vmlinux = crash_vmlinux() if name in CRASH_VARIANTS else None
    # libkdumpfile last: it may die on a bad input
    if fmt == "xc":
        check_xc_readelf(name, out, info)
        said = check_xc_crash(name, out, info, vmlinux) if vmlinux else ""
    else:
        check_xk_readelf(name, out, info)
        said = check_xk_crash(name, out, info, vmlinux) if vmlinux else ""
    print("%s: readelf %s%s" % (name, "BAD" if bad else "ok", ", " + said if said else ""),
          flush=True)
    if fmt == "xc":
        counts = check_xc_libkdumpfile(name, out, info)
    else:
        counts = check_xk_libkdumpfile(name, out, info)
    counts = {k: v for k, v in counts.items() if v} if "ok" in counts else \
        {k: {a: b for a, b in v.items() if b} for k, v in counts.items()}
    print("%s %s: libkdumpfile %s" % ("BAD" if bad else "ok", name, counts))
    for n in notes:
        print("note:", n)
    return 1 if bad else 0


def main():
    if K is None and os.path.exists("/usr/bin/python3") and \
            os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        # python3-libkdumpfile is the distribution's: its python
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    if sys.argv[1] == "--one":
        return check_one(sys.argv[2], sys.argv[3])
    mkdump, work = sys.argv[1], sys.argv[2]
    if K is None or not shutil.which("readelf") or not shutil.which("eu-readelf"):
        print("SKIP: python3-libkdumpfile, readelf or eu-readelf missing")
        return 77
    os.makedirs(work, exist_ok=True)
    if not crash_vmlinux():
        print("note: crash or an x86_64 vmlinux missing: no crash checks")
    failed = 0
    for fmt, variants in (("xc", XC_VARIANTS), ("xen-kdump", XK_VARIANTS)):
        for name, args in variants.items():
            out = os.path.join(work, name)
            r = run([mkdump, "--format", fmt] + args + [out])
            if r.returncode:
                print("FAIL %s: mkdump: %s" % (name, r.stderr.strip()))
                failed += 1
                continue
            r = run([sys.executable, os.path.abspath(__file__), "--one", fmt, out])
            sys.stdout.write(r.stdout + r.stderr)
            damaged = any(a.startswith(("--xen-bad", "--xen-trunc")) for a in args)
            if r.returncode < 0 and damaged:
                print("note: %s: a reader died of signal %d on it (libkdumpfile trusts "
                      "sh_size)" % (name, -r.returncode))
            elif r.returncode:
                print("FAIL %s: exit status %d" % (name, r.returncode))
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
