#!/usr/bin/env python3
"""Switch forwarding rate (networking issue): frames per second that a
software switch forwards between two of its ports, for 64-byte and
1500-byte frames, on the same harness (build/bench/vireo-switchbench) in
the same invocation for

  - vireo: `vireo switch --kind intnet`, ports on its SOCK_SEQPACKET socket
    (as VMs plug in);
  - vde:   vde_switch (Debian's vde2), ports through libvdeplug (as QEMU's
    and VirtualBox's VDE backends plug in);
  - bridge: a Linux bridge between two veth pairs in a network namespace
    this script makes and removes, ports as AF_PACKET sockets on the veths'
    other ends.

Port A sends as fast as its socket takes frames, port B counts what
arrives; each run measures --seconds after a warm-up. Prints every run,
the medians (in thousands of frames per second received) and the ratios
vireo/vde and vireo/bridge. Never passes or fails: it reports. Needs root
for the bridge (it is skipped otherwise).

usage: bench/switch.py [--vireo build/vireo] [--runs 5] [--seconds 2]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from foundation import median, require  # noqa: E402

SIZES = (64, 1500)
LINE = re.compile(r"sent (\d+) received (\d+) seconds ([0-9.]+) kpps ([0-9.]+)")


def wait_path(path, proc=None, timeout=10):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if os.path.exists(path):
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


def measure(cmd):
    """kpps received, from one harness run (None if it failed)."""
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    m = LINE.search(p.stdout)
    if not m:
        print(f"  harness failed ({' '.join(cmd)}): {p.stdout.strip()} {p.stderr.strip()}", file=sys.stderr)
        return None
    return float(m.group(4))


class Vireo:
    name = "vireo"

    def __init__(self, args, tmp):
        self.args, self.tmp = args, tmp

    def run(self, size):
        env = dict(os.environ, VIREO_RUNTIME_DIR=self.tmp)
        sock = os.path.join(self.tmp, "net", "intnet-bench.sock")
        sw = subprocess.Popen([self.args.vireo, "switch", "--kind", "intnet", "--name", "bench"], env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if not wait_path(sock, sw):
                print("  vireo switch did not start", file=sys.stderr)
                return None
            return measure([self.args.harness, "vireo", sock, str(size), str(self.args.seconds)])
        finally:
            sw.terminate()
            sw.wait()


class Vde:
    name = "vde"

    def __init__(self, args, tmp):
        self.args, self.tmp = args, tmp

    def run(self, size):
        d = os.path.join(self.tmp, "vde")
        pidfile = os.path.join(self.tmp, "vde.pid")
        subprocess.run(["vde_switch", "-s", d, "-d", "-p", pidfile], check=True, stdin=subprocess.DEVNULL)
        try:
            if not wait_path(os.path.join(d, "ctl")):
                print("  vde_switch did not start", file=sys.stderr)
                return None
            return measure([self.args.harness, "vde", d, str(size), str(self.args.seconds)])
        finally:
            if wait_path(pidfile, timeout=2):
                with open(pidfile) as f:
                    pid = int(f.read().strip() or 0)
                if pid > 0:
                    os.kill(pid, 15)
                    while os.path.exists(f"/proc/{pid}"):
                        time.sleep(0.01)
            shutil.rmtree(d, ignore_errors=True)
            if os.path.exists(pidfile):
                os.unlink(pidfile)


class Bridge:
    """A bridge br0 in namespace NS, with veth pairs va/va-br and vb/vb-br;
    the harness runs in NS on va and vb."""
    name = "bridge"

    def __init__(self, args, tmp):
        self.args = args
        self.ns = f"vireo-swbench-{os.getpid()}"
        sh = ["ip", "-n", self.ns]
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        for c in (["link", "add", "br0", "type", "bridge"],
                  ["link", "add", "va", "type", "veth", "peer", "name", "va-br"],
                  ["link", "add", "vb", "type", "veth", "peer", "name", "vb-br"],
                  ["link", "set", "va-br", "master", "br0"], ["link", "set", "vb-br", "master", "br0"],
                  ["link", "set", "br0", "up"], ["link", "set", "va", "up"], ["link", "set", "vb", "up"],
                  ["link", "set", "va-br", "up"], ["link", "set", "vb-br", "up"]):
            subprocess.run(sh + c, check=True)

    def run(self, size):
        return measure(["ip", "netns", "exec", self.ns, self.args.harness, "packet", "va", "vb", str(size),
                        str(self.args.seconds)])

    def close(self):
        subprocess.run(["ip", "netns", "del", self.ns])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vireo", default=os.path.join(HERE, "..", "build", "vireo"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    args.vireo = os.path.abspath(args.vireo)
    args.harness = os.path.join(os.path.dirname(args.vireo), "bench", "vireo-switchbench")
    require(args.vireo, "vde_switch", guest=False)
    if not os.access(args.harness, os.X_OK):
        sys.exit(f"bench: missing {args.harness} (run scripts/build.sh)")
    tmp = tempfile.mkdtemp(prefix="vireo-swbench-")
    peers = [Vireo(args, tmp), Vde(args, tmp)]
    if os.geteuid() == 0:
        peers.append(Bridge(args, tmp))
    else:
        print("not root: the Linux bridge is left out")
    results = {(p.name, s): [] for p in peers for s in SIZES}
    try:
        print(f"switch forwarding rate, port A -> port B, {args.runs} interleaved runs of {args.seconds:g} s "
              "(thousands of frames per second received)")
        print(f"{'run':<7}" + "".join(f"{p.name + ' ' + str(s):>14}" for s in SIZES for p in peers))
        for i in range(args.runs):
            row = []
            for s in SIZES:
                for p in peers:
                    r = p.run(s)
                    results[(p.name, s)].append(r)
                    row.append("-" if r is None else f"{r:.1f}")
            print(f"{i + 1:<7}" + "".join(f"{x:>14}" for x in row))
            sys.stdout.flush()
    finally:
        for p in peers:
            if hasattr(p, "close"):
                p.close()
        shutil.rmtree(tmp, ignore_errors=True)
    med = {k: median(v) for k, v in results.items()}
    print(f"{'median':<7}" + "".join(f"{med[(p.name, s)]:>14.1f}" for s in SIZES for p in peers))
    for s in SIZES:
        ratios = "   ".join(f"vireo / {p.name} = {med[('vireo', s)] / med[(p.name, s)]:.2f}"
                           for p in peers if p.name != "vireo")
        mbit = med[("vireo", s)] * 1000 * s * 8 / 1e6
        print(f"{s:>4}-byte frames: vireo {med[('vireo', s)]:.1f} kpps ({mbit:.0f} Mbit/s)   {ratios}")


if __name__ == "__main__":
    main()
