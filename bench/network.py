#!/usr/bin/env python3
"""Network benchmark: VM<->VM TCP throughput, Vireo against QEMU in one run.

Vireo: two VMs of the default guest on one intnet (our switch process,
virtio-net with checksum/TSO offloads end to end). QEMU: two
qemu-system-riscv64 VMs of the same guest joined by `-netdev stream`
(QEMU's socket pair: no switch, no offloads across it). In both, guest B
sends MIB MiB to guest A with vireo-netbench and A measures from the first
byte to EOF. Prints each run, the medians and the ratio. Never passes or
fails: it reports.

usage: bench/network.py [--vireo build/vireo] [--runs 5] [--mib 64]
"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from foundation import OPENSBI, QEMU, finish, guest_dir, launch, require, wait_for  # noqa: E402

RESULT = re.compile(rb"NETBENCH-RESULT bytes=(\d+) seconds=([\d.]+) mbit=([\d.]+)")
PORT = 5001


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pair_run(recv_cmd, send_cmd, mib):
    """Start the receiver, wait until it listens, start the sender; return Mbit/s or None."""
    a = launch(recv_cmd)
    try:
        t, out = wait_for(a, b"NETBENCH-LISTENING", timeout=120)
        if t is None:
            print("  receiver never listened:", out[-500:].decode(errors="replace"))
            return None
        b = launch(send_cmd)
        t, out2 = wait_for(a, b"NETBENCH-RESULT", timeout=600)
        out += out2
        finish(b, timeout=60)
        out += finish(a, timeout=60)
        m = RESULT.search(out)
        if not m:
            print("  no result:", out[-800:].decode(errors="replace"))
            return None
        nbytes, secs, mbit = int(m.group(1)), float(m.group(2)), float(m.group(3))
        if nbytes != mib << 20:
            print("  short transfer: %d bytes" % nbytes)
            return None
        return mbit
    finally:
        for p in (a,):
            if p.poll() is None:
                p.kill()
                p.wait()


def guest_words(ip, cmd):
    return 'vireo.ip=%s/24 vireo.cmd="%s" vireo.poweroff=1' % (ip, cmd)


def vireo_run(args, net, ip, cmd):
    return [args.vireo, "run", "--nic", "intnet=" + net, "--append", guest_words(ip, cmd)]


def qemu_run(server, port, ip, cmd):
    g = guest_dir()
    nd = "stream,id=n0,server=%s,addr.type=inet,addr.host=127.0.0.1,addr.port=%d" % ("on" if server else "off", port)
    return [QEMU, "-M", "virt", "-m", "256M", "-nographic", "-bios", OPENSBI,
            "-kernel", os.path.join(g, "Image"), "-initrd", os.path.join(g, "initramfs.cpio"),
            "-append", "console=ttyS0 " + guest_words(ip, cmd),
            "-netdev", nd, "-device", "virtio-net-device,netdev=n0"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vireo", default=os.path.join(HERE, "..", "build", "vireo"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--mib", type=int, default=64)
    args = ap.parse_args()
    require(os.path.abspath(args.vireo), QEMU)
    rundir = tempfile.mkdtemp(prefix="vireo-bench-")
    os.environ["VIREO_RUNTIME_DIR"] = rundir
    recv = "vireo-netbench recv %d" % PORT
    send = "vireo-netbench send 10.77.0.1 %d %d" % (PORT, args.mib)
    print("== VM->VM TCP, %d MiB, Mbit/s measured by the receiving guest ==" % args.mib)
    vireo, qemu = [], []
    try:
        for i in range(args.runs):
            net = "bench%d-%d" % (os.getpid(), i)
            v = pair_run(vireo_run(args, net, "10.77.0.1", recv), vireo_run(args, net, "10.77.0.2", send), args.mib)
            port = free_port()
            q = pair_run(qemu_run(True, port, "10.77.0.1", recv), qemu_run(False, port, "10.77.0.2", send), args.mib)
            print("run %d: vireo %s  qemu %s" % (i + 1, "%.1f" % v if v else "-", "%.1f" % q if q else "-"))
            sys.stdout.flush()
            vireo += [v] if v else []
            qemu += [q] if q else []
    finally:
        shutil.rmtree(rundir, ignore_errors=True)
    if vireo and qemu:
        vm, qm = statistics.median(vireo), statistics.median(qemu)
        print("%-34s %10s %10s %8s" % ("median", "vireo", "qemu", "ratio"))
        print("%-34s %10.1f %10.1f %8.2f" % ("VM->VM TCP Mbit/s (intnet/stream)", vm, qm, vm / qm))


if __name__ == "__main__":
    main()
