#!/usr/bin/env python3
"""Benchmark of dumpfs's remote source over a shaped link (issue 14, item 6).

    python3 tests/bench/remote.py --dumps DIR --vmlinux VMLINUX [--dumpfs build/dumpfs]
        [--runs 2] [--baseline-runs 1] [--profiles p20,p80] [--json OUT.json]
        [--skip baseline,mem,warm,faults]
    python3 tests/bench/remote.py --report OUT.json      # the tables again

Run as root.  DIR is images/make-bench-dumps.sh's output (qemu/bench.elf,
mdf/bench-zlib-d31.kdump); VMLINUX the debug vmlinux of the guest's kernel.

The link: a network namespace "dfsbench" and a veth pair (host 10.231.0.1,
namespace 10.231.0.2).  The server, tests/remote/fixture.py --bind 10.231.0.2,
runs in the namespace and serves DIR.  The rate is shaped in the kernel with
tc tbf on both veth ends.  This kernel has no sch_netem (modprobe fails, "tc
qdisc add ... netem" says "Specified qdisc kind is unknown"), so the delay is
the fixture's latency_ms: each data request waits N ms before its answer (one
round trip per request; TCP's own handshake and slow start see no delay).

Profiles: p20 = 20 ms per request, 100 Mbit/s; p80 = 80 ms, 25 MB/s (200 Mbit/s).

Per dump and profile, each on a fresh mount (a cold cache):
  prompt    mount -> `echo quit | crash -s VMLINUX MNT/vmcore.elf` exits
  session   mount -> the end of `bt -a; log; ps; quit` (crash -s, commands on stdin)
            and the mount's /stats after it (remote_requests, remote_bytes, ...)
  baseline  curl -o of the dump through the same link, then the same session on the
            downloaded file (crash -s VMLINUX FILE)
  mem       (ELF) dd of 256 MiB of /mem (skip=1024 bs=1M) vs curl of a 256 MiB range
  warm      a mount with -o cache_dir= after one that filled it: the session, vs the
            session on a local mount (dumpfs FILE MNT) of the same dump
Then, unshaped, 20 ms per request and fail_rate=0.05 (503): the session on each
dump and a full /mem read (dd), with the mount's stderr and /stats checked for EIO.
Ratios are computed from numbers of this run only.
"""

import argparse
import json
import resource
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "remote", "fixture.py")
NS, HOST_IF, NS_IF = "dfsbench", "dfsb0", "dfsb1"
HOST_IP, NS_IP = "10.231.0.1", "10.231.0.2"
PROFILES = {"p20": {"latency_ms": 20, "rate": "100mbit", "label": "20 ms / 100 Mbit/s"},
            "p80": {"latency_ms": 80, "rate": "200mbit", "label": "80 ms / 25 MB/s"}}
DUMPS = {"elf": "qemu/bench.elf", "zlib": "mdf/bench-zlib-d31.kdump"}
SESSION = "bt -a\nlog\nps\nquit\n"
CRASH_TIMEOUT = 1200


def sh(*args, check=True, **kw):
    return subprocess.run(args, check=check, capture_output=True, text=True, **kw)


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


class Link:
    def __init__(self):
        self.down()
        sh("ip", "netns", "add", NS)
        sh("ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", NS_IF)
        sh("ip", "link", "set", NS_IF, "netns", NS)
        sh("ip", "addr", "add", HOST_IP + "/24", "dev", HOST_IF)
        sh("ip", "link", "set", HOST_IF, "up")
        self.ns("ip", "addr", "add", NS_IP + "/24", "dev", NS_IF)
        self.ns("ip", "link", "set", NS_IF, "up")
        self.ns("ip", "link", "set", "lo", "up")

    @staticmethod
    def ns(*args, check=True):
        return sh("ip", "netns", "exec", NS, *args, check=check)

    def shape(self, rate):
        """tbf at RATE on both ends (None: unshaped)."""
        for pre, dev in (((), HOST_IF), (("ip", "netns", "exec", NS), NS_IF)):
            sh(*pre, "tc", "qdisc", "del", "dev", dev, "root", check=False)
            if rate:
                sh(*pre, "tc", "qdisc", "add", "dev", dev, "root", "tbf", "rate", rate,
                   "burst", "256k", "latency", "200ms")

    def qdiscs(self):
        return (sh("tc", "qdisc", "show", "dev", HOST_IF).stdout.strip() + " | " +
                self.ns("tc", "qdisc", "show", "dev", NS_IF).stdout.strip())

    @staticmethod
    def down():
        sh("ip", "link", "del", HOST_IF, check=False)
        sh("ip", "netns", "del", NS, check=False)


class Fixture:
    def __init__(self, root, workdir):
        self.portfile = os.path.join(workdir, "fixture.port")
        self.errlog = open(os.path.join(workdir, "fixture.log"), "w")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", NS, sys.executable, FIXTURE, "--root", root,
             "--bind", NS_IP, "--port-file", self.portfile], stderr=self.errlog)
        for _ in range(200):
            if os.path.exists(self.portfile):
                break
            time.sleep(0.05)
        self.port = int(open(self.portfile).read())
        self.base = "http://%s:%d" % (NS_IP, self.port)

    def control(self, what, body=None):
        req = urllib.request.Request(self.base + "/_fixture/" + what,
                                     data=None if body is None else json.dumps(body).encode(),
                                     method="GET" if body is None else "POST")
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())

    def set(self, **faults):
        self.control("reset", {})
        if faults:
            self.control("fault", faults)

    def stats(self):
        return self.control("stats")

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Mount:
    def __init__(self, dumpfs, src, mnt, opts=()):
        os.makedirs(mnt, exist_ok=True)
        self.mnt, self.logpath = mnt, mnt + ".log"
        args = [dumpfs, "-f", src, mnt]
        if opts:
            args += ["-o", ",".join(opts)]
        self.err = open(self.logpath, "w")
        self.proc = subprocess.Popen(args, stderr=self.err)
        deadline = time.monotonic() + 300
        while not os.path.ismount(mnt):
            if self.proc.poll() is not None:
                raise RuntimeError("mount of %s failed: %s" % (src, open(self.logpath).read()[-400:]))
            if time.monotonic() > deadline:
                self.close()
                raise RuntimeError("mount of %s took over 300 s" % src)
            time.sleep(0.01)

    def stats(self):
        out = {}
        with open(os.path.join(self.mnt, "stats")) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition(": ")
                out[k] = v
        return out

    def stderr(self):
        self.err.flush()
        return open(self.logpath).read()

    def close(self):
        sh("fusermount3", "-u", self.mnt, check=False)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.err.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def crash(vmlinux, core, commands, outpath):
    """(seconds to the prompt, seconds to the end, rc, output) of crash -s run
    fed COMMANDS on stdin.  The prompt's time is when the answer to a first
    `eval 1` arrives (stdout line-buffered with stdbuf)."""
    t0 = time.monotonic()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    tprompt = None
    lines = []
    p = subprocess.Popen(["stdbuf", "-oL", "crash", "-s", vmlinux, core], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    p.stdin.write("eval 1\n" + commands)
    p.stdin.close()
    for line in p.stdout:
        if tprompt is None and line.startswith("hexadecimal: 1"):
            tprompt = time.monotonic() - t0
        lines.append(line)
    rc = p.wait(CRASH_TIMEOUT)
    dt = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    crash.cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    text = "".join(lines)
    with open(outpath, "w") as out:
        out.write(text)
    return tprompt, dt, rc, text


def check_session(text):
    """A crash session's output looks whole: the panic task / bt lines, the log, ps."""
    problems = []
    if "PID:" not in text:
        problems.append("no bt output")
    if "Linux version" not in text:
        problems.append("no log")
    if "COMM" not in text:
        problems.append("no ps output")
    for bad in ("read error", "Input/output error", "seek error", "cannot read"):
        if bad in text:
            problems.append("'%s' in crash's output" % bad)
    return problems


def curl(url, dest, rng=None):
    """(seconds, bytes) of a curl download."""
    args = ["curl", "-sS", "--fail", "-o", dest, "-w", "%{size_download}"]
    if rng:
        args += ["-r", rng]
    t0 = time.monotonic()
    r = sh(*args, url, timeout=3600)
    return time.monotonic() - t0, int(r.stdout.strip())


def dd(src, skip=None, count=None):
    """(seconds, bytes, ok, message) of dd if=SRC of=/dev/null bs=1M."""
    args = ["dd", "if=" + src, "of=/dev/null", "bs=1M"]
    if skip is not None:
        args.append("skip=%d" % skip)
    if count is not None:
        args.append("count=%d" % count)
    t0 = time.monotonic()
    r = subprocess.run(args, capture_output=True, text=True, timeout=3600)
    dt = time.monotonic() - t0
    copied = 0
    for line in r.stderr.splitlines():
        if "bytes" in line and "copied" in line:
            copied = int(line.split()[0])
    return dt, copied, r.returncode == 0, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarize_ranges(requested):
    """Counts and sizes of the fixture's data requests (GET/HEAD with their Range)."""
    sizes = []
    for _, rng in requested:
        if rng and rng.startswith("bytes="):
            a, _, b = rng[6:].partition("-")
            if a and b:
                sizes.append(int(b) - int(a) + 1)
    hist = {}
    for s in sizes:
        k = ("<=256K" if s <= 262144 else "<=1M" if s <= 1 << 20 else "<=4M" if s <= 4 << 20 else ">4M")
        hist[k] = hist.get(k, 0) + 1
    return {"requests": len(requested), "ranged": len(sizes), "bytes_asked": sum(sizes), "sizes": hist}


def fmt(x, spec="%.1f"):
    return "–" if x is None else spec % x


def report(res):
    """The markdown tables of a --json result."""
    out = ["| dump | profile | link MB/s | mount→prompt s | mount→end of `bt -a; log; ps` s "
           "| requests | bytes fetched | % of dump | curl + local crash s | speedup "
           "| warm cache_dir s | local mount s | warm/local |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for pname, p in res["profiles"].items():
        for dname, d in p["dumps"].items():
            if "prompt" not in d:
                continue
            out.append("| %s (%s bytes) | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                dname, format(d["size"], ","), p["label"], fmt(p["link_MBps"], "%.2f"),
                " / ".join(fmt(x) for x in d["prompt"]), " / ".join(fmt(x) for x in d["session"]),
                " / ".join(str(x) for x in d["requests"]), " / ".join(format(x, ",") for x in d["bytes"]),
                fmt(d["bytes_pct"], "%.2f"),
                " / ".join("%.1f (%.1f + %.1f)" % (t, a, b) for t, a, b in
                           zip(d.get("baseline", []), d.get("download", []), d.get("local_crash", []))) or "–",
                fmt(d.get("speedup"), "%.1fx"),
                " / ".join(fmt(x) for x in d.get("warm", [])) or "–",
                " / ".join(fmt(x) for x in d.get("local_mount", [])) or "–",
                fmt(d.get("warm_vs_local"), "%.2fx")))
    out.append("")
    out.append("| profile | link (curl of 256 MiB) MB/s | `/mem` dd 256 MiB MB/s (runs) | % of the link |")
    out.append("|---|---|---|---|")
    for pname, p in res["profiles"].items():
        d = p["dumps"].get("elf", {})
        if "mem_MBps" in d:
            out.append("| %s | %.2f | %s | %.0f%% |" % (p["label"], p["link_MBps"],
                       " / ".join("%.2f" % x for x in d["mem_MBps"]), 100 * d["mem_vs_link"]))
    if res.get("faults"):
        out.append("")
        out.append("| dump | session s | crash output | full `/mem` read | remote_retries | remote_failures "
                   "| server answers (status: count) |")
        out.append("|---|---|---|---|---|---|---|")
        for dname, f in res["faults"].items():
            out.append("| %s | %.1f | %s | %s bytes in %.1f s, %s | %s | %s | %s |" % (
                dname, f["session"], ", ".join(f["session_problems"]) or "complete",
                format(f["mem_bytes"], ","), f["mem_seconds"], "ok" if f["mem_ok"] else "FAILED: " + f["mem_msg"],
                f["stats"].get("remote_retries"), f["stats"].get("remote_failures"),
                ", ".join("%s: %s" % kv for kv in sorted(f["fixture_status"].items()))))
    return "\n".join(out)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--report":
        print(report(json.load(open(sys.argv[2]))))
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dumps", required=True)
    ap.add_argument("--vmlinux", required=True)
    ap.add_argument("--dumpfs", default=os.path.join(HERE, "..", "..", "build", "dumpfs"))
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--baseline-runs", type=int, default=1)
    ap.add_argument("--warm-runs", type=int, default=1)
    ap.add_argument("--profiles", default="p20,p80")
    ap.add_argument("--only", default="elf,zlib", help="dumps: elf,zlib")
    ap.add_argument("--skip", default="", help="comma list of: session,baseline,mem,warm,faults")
    ap.add_argument("--work", default="/var/tmp/dfsbench")
    ap.add_argument("--json")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    dumpfs = os.path.abspath(args.dumpfs)
    dumps = os.path.abspath(args.dumps)
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    W = args.work
    res = {"profiles": {}, "faults": {}, "sizes": {}, "commands": {}}
    for d in args.only.split(","):
        res["sizes"][d] = os.path.getsize(os.path.join(dumps, DUMPS[d]))

    link = Link()
    fx = Fixture(dumps, W)
    n = [0]

    def mnt(tag):
        n[0] += 1
        return os.path.join(W, "mnt-%02d-%s" % (n[0], tag))

    try:
        for pname in args.profiles.split(","):
            prof = PROFILES[pname]
            link.shape(prof["rate"])
            fx.set(latency_ms=prof["latency_ms"])
            log("profile %s (%s): %s" % (pname, prof["label"], link.qdiscs()))
            pres = res["profiles"][pname] = {"label": prof["label"], "dumps": {}}
            # the link's rate: a plain curl of 256 MiB of the ELF through the same shaping
            t, b = curl(fx.base + "/" + DUMPS["elf"], "/dev/null", "0-%d" % (256 * 2**20 - 1))
            pres["link_MBps"] = b / t / 1e6
            log("  link: curl 256 MiB in %.2f s = %.2f MB/s" % (t, b / t / 1e6))
            for dname in args.only.split(","):
                rel, size = DUMPS[dname], res["sizes"][dname]
                url = fx.base + "/" + rel
                local = os.path.join(dumps, rel)
                d = pres["dumps"][dname] = {"size": size}
                prompt, session, sreq, sbytes, sretries, ranges = [], [], [], [], [], []
                for run in range(0 if "session" in skip else args.runs):
                    fx.set(latency_ms=prof["latency_ms"])
                    t0 = time.monotonic()       # the mount's own start is timed too
                    m = Mount(dumpfs, url, mnt(pname + "-" + dname + "-session"))
                    tm = time.monotonic() - t0
                    tp, dt, rc, text = crash(args.vmlinux, os.path.join(m.mnt, "vmcore.elf"), SESSION,
                                             m.mnt + ".crash-session.txt")
                    ccpu = crash.cpu
                    st = m.stats()
                    errs = m.stderr()
                    m.close()
                    d.setdefault("crash_cpu", []).append(ccpu)
                    prompt.append(tm + tp if tp is not None else None)
                    session.append(tm + dt)
                    sreq.append(int(st.get("remote_requests", -1)))
                    sbytes.append(int(st.get("remote_bytes", -1)))
                    sretries.append(int(st.get("remote_retries", -1)))
                    ranges.append(summarize_ranges(fx.stats()["requested"]))
                    probs = check_session(text)
                    last_text = text
                    log("  %s %s run %d: crash CPU %.1f s; prompt %.2f s, session %.2f s (mount %.2f s), %s requests, %s bytes (%.2f%%)%s%s"
                        % (pname, dname, run + 1, ccpu, prompt[-1], session[-1], tm, sreq[-1], sbytes[-1],
                           100.0 * sbytes[-1] / size, "; PROBLEMS: " + ", ".join(probs) if probs else "",
                           "; stderr: " + errs.strip()[-300:] if errs.strip() else ""))
                    log("    fixture saw: %s" % json.dumps(ranges[-1]))
                    d.setdefault("stats_last", st)
                    d.setdefault("problems", []).extend(probs)
                if prompt:
                    d.update(prompt=prompt, session=session, requests=sreq, bytes=sbytes, retries=sretries,
                             fixture=ranges, prompt_med=med(prompt), session_med=med(session),
                             requests_med=med(sreq), bytes_med=med(sbytes),
                             bytes_pct=100.0 * med(sbytes) / size)
                if "baseline" not in skip:
                    dl, lc, tot = [], [], []
                    for run in range(args.baseline_runs):
                        dest = os.path.join(W, "download-" + os.path.basename(rel))
                        t, b = curl(url, dest)
                        tp, dt, rc, text = crash(args.vmlinux, dest, SESSION, dest + ".crash-session.txt")
                        os.unlink(dest)
                        d.setdefault("same_output_as_remote", []).append(text.replace(dest, "") == last_text.replace(os.path.join(m.mnt, "vmcore.elf"), ""))
                        dl.append(t)
                        lc.append(dt)
                        tot.append(t + dt)
                        d.setdefault("baseline_prompt", []).append(t + tp)
                        d.setdefault("local_crash_cpu_baseline", []).append(crash.cpu)
                        log("  %s %s baseline run %d: curl %.2f s (%.2f MB/s) + crash %.2f s (prompt at %.2f s) = %.2f s%s"
                            % (pname, dname, run + 1, t, b / t / 1e6, dt, tp, t + dt,
                               "; PROBLEMS: " + ", ".join(check_session(text)) if check_session(text) else ""))
                    d.update(download=dl, local_crash=lc, baseline=tot, baseline_med=med(tot),
                             speedup=med(tot) / d["session_med"])
                    log("  %s %s: speedup %.1fx (baseline %.2f s / session %.2f s)"
                        % (pname, dname, d["speedup"], d["baseline_med"], d["session_med"]))
                if "mem" not in skip and dname == "elf":
                    rates = []
                    for run in range(args.runs):
                        fx.set(latency_ms=prof["latency_ms"])
                        with Mount(dumpfs, url, mnt(pname + "-mem")) as m:
                            t, b, ok, msg = dd(os.path.join(m.mnt, "mem"), 1024, 256)
                            st = m.stats()
                        rates.append(b / t / 1e6)
                        log("  %s mem run %d: %d bytes in %.2f s = %.2f MB/s (%s), %s requests, %s bytes"
                            % (pname, run + 1, b, t, b / t / 1e6, msg, st.get("remote_requests"),
                               st.get("remote_bytes")))
                        d.setdefault("mem_fixture", []).append(summarize_ranges(fx.stats()["requested"]))
                    d.update(mem_MBps=rates, mem_MBps_med=med(rates),
                             mem_vs_link=med(rates) / pres["link_MBps"])
                    log("  %s mem: %.2f MB/s = %.0f%% of the link's %.2f MB/s"
                        % (pname, med(rates), 100 * d["mem_vs_link"], pres["link_MBps"]))
                if "warm" not in skip:
                    cache = os.path.join(W, "cache-%s-%s" % (pname, dname))
                    shutil.rmtree(cache, ignore_errors=True)
                    os.makedirs(cache)
                    with Mount(dumpfs, url, mnt(pname + "-" + dname + "-fill"), ["cache_dir=" + cache]) as m:
                        crash(args.vmlinux, os.path.join(m.mnt, "vmcore.elf"), SESSION, m.mnt + ".crash.txt")
                    warm, localt, wreq = [], [], []
                    for run in range(args.warm_runs):
                        t0 = time.monotonic()
                        with Mount(dumpfs, url, mnt(pname + "-" + dname + "-warm"), ["cache_dir=" + cache]) as m:
                            tm = time.monotonic() - t0
                            tp, dt, rc, text = crash(args.vmlinux, os.path.join(m.mnt, "vmcore.elf"), SESSION,
                                                     m.mnt + ".crash.txt")
                            st = m.stats()
                        warm.append(tm + dt)
                        wcpu = crash.cpu
                        wreq.append(int(st.get("remote_requests", -1)))
                        t0 = time.monotonic()
                        with Mount(dumpfs, local, mnt(dname + "-local")) as m:
                            tm = time.monotonic() - t0
                            tp, dt, rc, text2 = crash(args.vmlinux, os.path.join(m.mnt, "vmcore.elf"), SESSION,
                                                  m.mnt + ".crash.txt")
                        localt.append(tm + dt)
                        d.setdefault("warm_crash_cpu", []).append(wcpu)
                        d.setdefault("local_crash_cpu", []).append(crash.cpu)
                        log("  %s %s warm run %d: %.2f s (%d requests, %s bytes; crash CPU %.2f s) vs local mount %.2f s (crash CPU %.2f s)%s"
                            % (pname, dname, run + 1, warm[-1], wreq[-1], st.get("remote_bytes"), wcpu, localt[-1], crash.cpu,
                               "; PROBLEMS: " + ", ".join(check_session(text)) if check_session(text) else ""))
                    d.update(warm=warm, local_mount=localt, warm_requests=wreq, warm_med=med(warm),
                             local_mount_med=med(localt), warm_vs_local=med(warm) / med(localt))
                    log("  %s %s: warm/local %.2fx" % (pname, dname, d["warm_vs_local"]))
                    shutil.rmtree(cache, ignore_errors=True)

        if "faults" not in skip:
            link.shape(None)
            for dname in args.only.split(","):
                rel = DUMPS[dname]
                url = fx.base + "/" + rel
                fx.set(latency_ms=20, fail_rate=0.05)
                f = res["faults"][dname] = {}
                with Mount(dumpfs, url, mnt("faults-" + dname)) as m:
                    tp, dt, rc, text = crash(args.vmlinux, os.path.join(m.mnt, "vmcore.elf"), SESSION,
                                             m.mnt + ".crash.txt")
                    f["session"] = dt
                    f["session_problems"] = check_session(text)
                    t, b, ok, msg = dd(os.path.join(m.mnt, "mem"))
                    f.update(mem_seconds=t, mem_bytes=b, mem_ok=ok, mem_msg=msg)
                    f["stats"] = m.stats()
                    f["stderr"] = m.stderr()[-2000:]
                fs = fx.stats()
                f["fixture_status"] = fs["status"]
                f["fixture_requests"] = fs["requests"]
                log("  faults %s: session %.2f s %s; /mem %d bytes in %.2f s ok=%s (%s); remote_retries %s remote_failures %s; fixture status %s; stderr %r"
                    % (dname, dt, f["session_problems"] or "ok", b, t, ok, msg, f["stats"].get("remote_retries"),
                       f["stats"].get("remote_failures"), fs["status"], f["stderr"][-300:]))
    finally:
        fx.close()
        link.down()
    if args.json:
        with open(args.json, "w") as out:
            json.dump(res, out, indent=1)
    print(report(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
