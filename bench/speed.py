#!/usr/bin/env python3
"""Speed of the execution engine (issue 5): Vireo against
qemu-system-riscv64 (TCG) and the host itself, in one invocation.

Prints, as medians of --runs runs (interleaved: vireo, qemu, native):
  - launch to the guest's "VIREO-GUEST-READY", 1, 2 and 4 vCPUs (a count
    above the host's logical CPUs is skipped for Vireo, which refuses it;
    QEMU runs it anyway), default guest, built-in SBI for Vireo, OpenSBI
    for QEMU (as bench/foundation.py);
  - the CPU suite inside the guest (guest/progs/vireo-cpusuite.c: int,
    branch, mem, fp, sys), each part's score on Vireo, on QEMU and natively
    on the host (same source, cc -O2 -ffp-contract=off), the ratios, and the
    overall (geometric mean) ratios; checksums must agree (sys's depends on
    pids);
  - guest MIPS and where the time goes, from `vireo run --stats` over the
    suite: instructions per block, chained entries, block cache hits, TLB
    misses, MMIO exits; with --perf, the VMM's hottest functions
    (perf record over one suite run);
  - SMP: the int part in two processes at once on 2 vCPUs, against one
    process on 1 vCPU: throughput ratio (2.0 = perfect), for both.
Never passes or fails: it reports.

usage: bench/speed.py [--vireo build/vireo] [--runs 5] [--scale 1] [--perf]
       [--only boot|suite|smp] [--engine interp|jit]
"""
import argparse
import math
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from foundation import QEMU, finish, launch, median, qemu_cmd, require, time_to_marker  # noqa: E402

PARTS = ("int", "branch", "mem", "fp", "sys")
SUITE_LINE = re.compile(r"cpusuite part=(\w+) score=([0-9.]+) seconds=[0-9.]+ checksum=([0-9a-f]+)")
STATS_VCPU = re.compile(r"vcpu\d+: (\d+) instructions, (\d+) blocks run \(([0-9.]+) instructions each, "
                        r"([0-9.]+)% chained, ([0-9.]+)% of lookups hit the cache\), (\d+) blocks decoded, "
                        r"(\d+) TLB misses \(([0-9.]+) per million instructions\), (\d+) MMIO")
STATS_JIT = re.compile(r"jit: (\d+) blocks translated, ([0-9.]+) KiB of code \(([0-9.]+) KiB in the buffers now\), "
                       r"([0-9.]+) ms translating \(([0-9.]+)% of the run\), ([0-9.]+)% of blocks run translated")
STATS_TOTAL = re.compile(r"vireo: ([0-9.]+) s, (\d+) instructions, ([0-9.]+) MIPS")


def vireo(args, cpus, append, extra=()):
    return [args.vireo, "run", "--engine", args.engine, "--cpus", str(cpus), "--memory", "256M", "--no-nic", *extra,
            "--append", append]


def qemu(cpus, append):
    return qemu_cmd(cpus, append) + ["-nic", "none"]


def suite_scores(text):
    """{part: (score, checksum)} from the suite's lines."""
    return {m.group(1): (float(m.group(2)), m.group(3)) for m in SUITE_LINE.finditer(text)}


def geomean(xs):
    xs = [x for x in xs if x]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def fmt(x, width=10):
    return ("%*s" % (width, "-")) if x is None else ("%*.3f" % (width, x) if x < 100 else "%*.1f" % (width, x))


def boot_bench(args):
    ncpu = os.cpu_count() or 1
    print(f"== launch to marker (median of {args.runs}) ==")
    print("%-8s %10s %10s %8s" % ("vCPUs", "vireo s", "qemu s", "ratio"))
    for cpus in (1, 2, 4):
        v, q = [], []
        for _ in range(args.runs):
            if cpus <= ncpu:
                v.append(time_to_marker(vireo(args, cpus, "vireo.poweroff=1")))
            q.append(time_to_marker(qemu(cpus, "vireo.poweroff=1")))
        vm, qm = median(v) if v else None, median(q)
        note = "" if cpus <= ncpu else f"   (vireo: the host has {ncpu} logical CPUs; a VM may have no more)"
        print("%-8d %s %s %s%s" % (cpus, fmt(vm), fmt(qm), fmt(vm / qm if vm and qm else None, 8), note))
        sys.stdout.flush()
    # The JIT during one boot: code made, and the share of time spent making it.
    out = finish(launch(vireo(args, 1, "vireo.poweroff=1", ["--stats"])), 300).decode(errors="replace")
    jit = STATS_JIT.search(out)
    if jit:
        print(f"one boot on 1 vCPU: {jit.group(1)} blocks translated, {jit.group(2)} KiB of code "
              f"({jit.group(3)} KiB in the code buffers at the end), {jit.group(4)} ms translating "
              f"({jit.group(5)}% of the run), {jit.group(6)}% of blocks run translated")


def suite_bench(args):
    append = f'vireo.cmd="vireo-cpusuite {args.scale}" vireo.poweroff=1'
    runs = {"vireo": [], "qemu": [], "native": []}
    stats = []
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "cpusuite")
        subprocess.run(["cc", "-O2", "-ffp-contract=off", "-o", exe,
                        os.path.join(HERE, "..", "guest", "progs", "vireo-cpusuite.c"), "-lm"], check=True)
        for _ in range(args.runs):
            out = finish(launch(vireo(args, 1, append, ["--stats"])), 900).decode(errors="replace")
            runs["vireo"].append(suite_scores(out))
            stats.append(out)
            runs["qemu"].append(suite_scores(finish(launch(qemu(1, append)), 900).decode(errors="replace")))
            p = subprocess.run([exe, str(args.scale)], capture_output=True, text=True)
            runs["native"].append(suite_scores(p.stdout))
    print(f"\n== CPU suite: vireo-cpusuite {args.scale} (median of {args.runs}; score = work units per second) ==")
    print("%-8s %10s %10s %10s %10s %10s %10s" % ("part", "vireo", "qemu", "native", "vireo/qemu", "native/vireo",
                                                 "native/qemu"))
    med = {}
    for part in PARTS:
        row = {k: median([r[part][0] for r in v if part in r]) if any(part in r for r in v) else None
               for k, v in runs.items()}
        med[part] = row
        sums = {k: {r[part][1] for r in v if part in r} for k, v in runs.items()}
        agree = part == "sys" or len(sums["vireo"] | sums["qemu"] | sums["native"]) == 1
        vq = row["vireo"] / row["qemu"] if row["vireo"] and row["qemu"] else None
        nv = row["native"] / row["vireo"] if row["native"] and row["vireo"] else None
        nq = row["native"] / row["qemu"] if row["native"] and row["qemu"] else None
        print("%-8s %s %s %s %s %s %s%s" % (part, fmt(row["vireo"]), fmt(row["qemu"]), fmt(row["native"]), fmt(vq),
                                            fmt(nv), fmt(nq), "" if agree else "   CHECKSUMS DIFFER"))
    overall = {k: geomean([med[p][k] for p in PARTS]) for k in runs}
    cpu_parts = ("int", "branch", "mem", "fp")
    cpu_only = {k: geomean([med[p][k] for p in cpu_parts]) for k in runs}
    for name, o in (("overall", overall), ("w/o sys", cpu_only)):
        if all(o.values()):
            print("%-8s %s %s %s %s %s %s" % (name, fmt(o["vireo"]), fmt(o["qemu"]), fmt(o["native"]),
                                              fmt(o["vireo"] / o["qemu"]), fmt(o["native"] / o["vireo"]),
                                              fmt(o["native"] / o["qemu"])))
    print("(sys runs on each machine's own kernel: natively here it is the host's, in a container, so its "
          "native figure says little)")

    # Where the time goes: the median run by MIPS.
    parsed = []
    for out in stats:
        t, v = STATS_TOTAL.search(out), STATS_VCPU.search(out)
        if t and v:
            parsed.append((float(t.group(3)), v))
    if parsed:
        parsed.sort(key=lambda p: p[0])
        mips, v = parsed[len(parsed) // 2]
        print(f"\n== where the time goes (vireo run --stats over the suite, median run) ==")
        print(f"guest MIPS {mips:.1f}; {v.group(3)} instructions per block; {v.group(4)}% of blocks entered "
              f"through a chain link; {v.group(5)}% of lookups hit the block cache; {v.group(6)} blocks decoded; "
              f"{v.group(8)} TLB misses per million instructions; {v.group(9)} MMIO exits")
        jit = [STATS_JIT.search(out) for out in stats]
        jit = [j for j in jit if j]
        if jit:
            j = jit[len(jit) // 2]
            print(f"JIT: {j.group(1)} blocks translated, {j.group(2)} KiB of code, {j.group(4)} ms translating "
                  f"({j.group(5)}% of the run), {j.group(6)}% of blocks run translated")
    if args.perf:
        perf_report(args, append)


def perf_report(args, append):
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "perf.data")
        p = subprocess.run(["perf", "record", "-q", "-o", data, "--"] + vireo(args, 1, append, ["--no-sandbox"]),
                           capture_output=True, text=True, timeout=900)
        if p.returncode != 0:
            print(f"\n(perf record failed: {p.stderr.strip()[-300:]})")
            return
        r = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "symbol",
                            "--percent-limit", "1"], capture_output=True, text=True)
        lines = [l.rstrip(" -") for l in r.stdout.splitlines() if l.strip() and not l.startswith("#")][:20]
        print("\n== perf: the VMM's hottest symbols over one suite run ==")
        print("\n".join(lines))


def smp_bench(args):
    one = 'vireo.cmd="vireo-cpusuite %s int" vireo.poweroff=1' % args.scale
    two = ('vireo.cmd="vireo-cpusuite %s int > /tmp/a & vireo-cpusuite %s int > /tmp/b; wait; cat /tmp/a /tmp/b" '
           'vireo.poweroff=1' % (args.scale, args.scale))
    print(f"\n== SMP: the int part, two processes on 2 vCPUs against one on 1 vCPU (median of {args.runs}) ==")
    res = {}
    for name, make in (("vireo", lambda c, a: vireo(args, c, a)), ("qemu", qemu)):
        r1, r2 = [], []
        for _ in range(args.runs):
            s = [v[0] for k, v in suite_scores(finish(launch(make(1, one)), 900).decode(errors="replace")).items()]
            r1.append(s[0] if s else None)
            out = finish(launch(make(2, two)), 900).decode(errors="replace")
            scores = [float(m.group(2)) for m in SUITE_LINE.finditer(out)]
            r2.append(sum(scores) if len(scores) == 2 else None)
        res[name] = (median(r1), median(r2))
    for name, (a, b) in res.items():
        print("%-6s 1 vCPU %s   2 vCPUs (sum of both) %s   ratio %s" % (name, fmt(a), fmt(b),
                                                                         fmt(b / a if a and b else None, 6)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vireo", default=os.path.join(HERE, "..", "build", "vireo"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--scale", default="1")
    ap.add_argument("--perf", action="store_true")
    ap.add_argument("--only", choices=("boot", "suite", "smp"))
    ap.add_argument("--engine", choices=("interp", "jit"), default="jit", help="Vireo's engine (docs/jit.md)")
    args = ap.parse_args()
    args.vireo = os.path.abspath(args.vireo)
    require(args.vireo, QEMU)
    print(f"vireo engine: {args.engine}")
    if args.only in (None, "boot"):
        boot_bench(args)
    if args.only in (None, "suite"):
        suite_bench(args)
    if args.only in (None, "smp"):
        smp_bench(args)


if __name__ == "__main__":
    main()
