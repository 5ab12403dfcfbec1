#!/usr/bin/env python3
"""Memory a guest frees, given back to the host: Vireo's virtio-balloon with
free page reporting (`vireo run --balloon`) against QEMU 7.2 with
`-device virtio-balloon-device,free-page-reporting=on`, and Vireo without
a balloon as the baseline, in one invocation.

The default guest (1 vCPU, 256M, no NIC) fills its tmpfs with 100 MiB of
random bytes, holds them, then deletes them. The host-side resident size of
the guest-RAM mapping (from /proc/PID/smaps) is read at the guest's marker,
with the 100 MiB held, and then every 0.1 s after the delete; printed per
run and as medians of --runs interleaved runs:
  - resident at boot, when filled, and 8 s after the delete (MiB);
  - seconds from the delete until half of the filled memory is back with
    the host ("-" if it never is within 8 s).
Never passes or fails: it reports.

usage: bench/memory.py [--vireo build/vireo] [--runs 3]
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from foundation import MARKER, QEMU, finish, launch, median, qemu_cmd, require, rss_breakdown, wait_for  # noqa: E402

RAM = 256 << 20
FILL_MIB = 100
GUEST = ("dd if=/dev/urandom of=/tmp/fill bs=1M count=%d 2>/dev/null; echo FILLED; sleep 2; rm /tmp/fill; "
         "echo FREED; sleep 30" % FILL_MIB)
WATCH_S = 8.0


def guest_rss_mib(pid):
    return rss_breakdown(pid, RAM)[1] / 1024


def one_run(cmd):
    """(boot MiB, filled MiB, after MiB, seconds to half back or None)."""
    p = launch(cmd)
    try:
        t, out = wait_for(p, MARKER, timeout=120)
        if t is None:
            raise RuntimeError("no marker: %r" % out[-500:])
        boot = guest_rss_mib(p.pid)
        t, out = wait_for(p, b"FILLED", timeout=120)
        if t is None:
            raise RuntimeError("the guest did not fill its memory: %r" % out[-500:])
        time.sleep(0.5)
        filled = guest_rss_mib(p.pid)
        t, out = wait_for(p, b"FREED", timeout=30)
        if t is None:
            raise RuntimeError("the guest did not free its memory: %r" % out[-500:])
        t0 = time.monotonic()
        half = None
        while time.monotonic() - t0 < WATCH_S:
            r = guest_rss_mib(p.pid)
            if half is None and r <= filled - (filled - boot) / 2:
                half = time.monotonic() - t0
            time.sleep(0.1)
        after = guest_rss_mib(p.pid)
        return boot, filled, after, half
    finally:
        p.kill()
        finish(p, 10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vireo", default=os.path.join(HERE, "..", "build", "vireo"))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    args.vireo = os.path.abspath(args.vireo)
    require(args.vireo, QEMU)
    append = 'vireo.cmd="%s"' % GUEST
    kinds = [
        ("vireo --balloon", [args.vireo, "run", "--balloon", "--memory", "256M", "--no-nic", "--append", append]),
        ("qemu balloon", qemu_cmd(1, append) + ["-device", "virtio-balloon-device,free-page-reporting=on"]),
        ("vireo, no balloon", [args.vireo, "run", "--memory", "256M", "--no-nic", "--append", append]),
    ]
    res = {k: [] for k, _ in kinds}
    print("== guest fills %d MiB, then frees it: resident guest RAM on the host (MiB) ==" % FILL_MIB)
    print("%-20s %8s %8s %8s %14s" % ("run", "boot", "filled", "after", "half back (s)"))
    for i in range(args.runs):
        for name, cmd in kinds:
            try:
                r = one_run(cmd)
            except RuntimeError as e:
                print("%-20s failed: %s" % (name, e))
                continue
            res[name].append(r)
            print("%-20s %8.1f %8.1f %8.1f %14s" % ("%d %s" % (i + 1, name), r[0], r[1], r[2],
                                                    "-" if r[3] is None else "%.1f" % r[3]))
            sys.stdout.flush()
    print("medians:")
    meds = {}
    for name, _ in kinds:
        rs = res[name]
        if not rs:
            continue
        halves = [r[3] for r in rs if r[3] is not None]
        meds[name] = [median([r[j] for r in rs]) for j in range(3)] + [median(halves) if halves else None]
        m = meds[name]
        print("%-20s %8.1f %8.1f %8.1f %14s" % (name, m[0], m[1], m[2], "-" if m[3] is None else "%.1f" % m[3]))
    v, q = meds.get("vireo --balloon"), meds.get("qemu balloon")
    if v and q:
        print("held after the free: vireo %.1f MiB, qemu %.1f MiB (ratio %.2f)" % (v[2], q[2], v[2] / q[2]))


if __name__ == "__main__":
    main()
