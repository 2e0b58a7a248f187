#!/usr/bin/python3
"""Cross-check mkdump output with libkdumpfile (python3-libkdumpfile).

usage: check_libkdumpfile.py OUT [FILE...]

Reads every pfn of the dump at KDUMP_MACHPHYSADDR through libkdumpfile
(via ctypes, so split sets can be opened as an fd set) and compares with
the expected files mkdump wrote next to OUT:
  - pfns listed in OUT.eio must fail,
  - pfns in OUT.holes must fail ("Excluded page"/no data), except that
    ELF tails covered by p_memsz > p_filesz may read as zeros,
  - every other pfn must equal the matching page of OUT.mem.
Also compares cpu.N.PRSTATUS, linux.vmcoreinfo.raw and file.eraseinfo.raw
blobs with OUT.cpuN.prstatus, OUT.vmcoreinfo and OUT.eraseinfo.
libkdumpfile cannot read flattened files; FILE... defaults to OUT (or
OUT.1..OUT.N for split sets). Exit status 0 = all agree.
"""
import ctypes
import os
import sys

import kdumpfile as K

lib = ctypes.CDLL("libkdumpfile.so.10")
lib.kdump_new.restype = ctypes.c_void_p
lib.kdump_free.argtypes = [ctypes.c_void_p]
lib.kdump_open_fdset.argtypes = [ctypes.c_void_p, ctypes.c_uint,
                                 ctypes.POINTER(ctypes.c_int)]
lib.kdump_read.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64,
                           ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t)]
lib.kdump_get_err.restype = ctypes.c_char_p
lib.kdump_get_err.argtypes = [ctypes.c_void_p]


def load_info(out):
    info = {}
    with open(out + ".info") as f:
        for line in f:
            k, v = line.rstrip("\n").split("=", 1)
            info[k] = v
    return info


def main():
    out = sys.argv[1]
    info = load_info(out)
    nfiles = int(info["files"])
    files = sys.argv[2:] or ([out] if nfiles == 1 else
                             ["%s.%d" % (out, i) for i in range(1, nfiles + 1)])
    ps = int(info["page_size"])
    max_pfn = int(info["max_pfn"])
    eio = set(int(x) for x in open(out + ".eio").read().split())
    holes = set()
    for line in open(out + ".holes"):
        a, b = map(int, line.split())
        holes.update(range(a, b + 1))
    mem = open(out + ".mem", "rb")
    elf = info["format"] == "elf"
    bad = 0

    ctx = lib.kdump_new()
    fds = [os.open(f, os.O_RDONLY) for f in files]
    arr = (ctypes.c_int * len(fds))(*fds)
    st = lib.kdump_open_fdset(ctx, len(fds), arr)
    if st != 0:
        print("open failed:", lib.kdump_get_err(ctx).decode())
        return 1
    buf = ctypes.create_string_buffer(ps)
    counts = {"ok": 0, "eio": 0, "eio_zero": 0, "hole": 0, "tailzero": 0}
    for pfn in range(max_pfn):
        ln = ctypes.c_size_t(ps)
        st = lib.kdump_read(ctx, K.KDUMP_MACHPHYSADDR, pfn * ps, buf,
                            ctypes.byref(ln))
        mem.seek(pfn * ps)
        want = mem.read(ps)
        if pfn in eio:
            if st == 0 and elf and buf.raw == bytes(ps):
                # libkdumpfile zero-fills ELF data beyond EOF
                counts["eio_zero"] += 1
            elif st == 0:
                print("pfn %d: expected failure, read OK" % pfn)
                bad += 1
            else:
                counts["eio"] += 1
        elif pfn in holes:
            if st == 0:
                if elf and buf.raw == bytes(ps):
                    counts["tailzero"] += 1
                else:
                    print("pfn %d: hole read OK" % pfn)
                    bad += 1
            else:
                counts["hole"] += 1
        else:
            if st != 0:
                print("pfn %d: read failed: %s" %
                      (pfn, lib.kdump_get_err(ctx).decode()))
                bad += 1
            elif buf.raw != want:
                print("pfn %d: content differs" % pfn)
                bad += 1
            else:
                counts["ok"] += 1
    lib.kdump_free(ctx)
    for fd in fds:
        os.close(fd)

    # blobs through the python binding (first file of a set carries them)
    k = K.kdumpfile(files[0])
    ncpu = int(info["nr_cpus"])
    for c in range(ncpu):
        path = "%s.cpu%d.prstatus" % (out, c)
        key = "cpu.%d.PRSTATUS" % c
        if os.path.exists(path):
            got = bytes(memoryview(k.attr[key])) if key in k.attr else None
            if got != open(path, "rb").read():
                print("%s differs" % key)
                bad += 1
    for suffix, key in ((".vmcoreinfo", "linux.vmcoreinfo.raw"),
                        (".eraseinfo", "file.eraseinfo.raw")):
        if os.path.exists(out + suffix):
            if key not in k.attr:
                print("note: this libkdumpfile has no %s" % key)
                continue
            try:
                got = bytes(memoryview(k.attr[key]))
            except Exception as e:  # noqa
                got = repr(e)
            if got != open(out + suffix, "rb").read():
                print("%s differs: %r" % (key, got[:60]))
                bad += 1
    if info.get("vmcoreinfo") == "1":
        pb = k.attr["linux.vmcoreinfo.NUMBER"].get("phys_base") \
            if "linux.vmcoreinfo.NUMBER" in k.attr else None
        if pb is not None and int(pb) != int(info["phys_base"], 16):
            print("NUMBER(phys_base) differs: %s" % pb)
            bad += 1
    # attributes libkdumpfile derives from the headers
    expect = {"arch.byte_order": 0 if info["endian"] == "be" else 1,
              "arch.ptr_size": int(info["layout"]) // 8,
              "arch.page_size": ps}
    if info["notes"] == "1":
        expect["cpu.number"] = ncpu
    if info["format"] != "elf" and int(info["header_version"]) >= 1:
        # sub-header phys_base (VMCOREINFO, if present, says the same)
        expect["linux.phys_base"] = int(info["phys_base"], 16)
    for key, val in expect.items():
        got = k.attr[key] if key in k.attr else None
        if got != val:
            print("%s: got %r, want %r" % (key, got, val))
            bad += 1
    print("%s: %s %s bad=%d" % (out, k.attr["file.description"], counts, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
