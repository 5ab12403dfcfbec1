#!/usr/bin/env python3
"""What the VM process's sandbox costs (issue 6): the same guest with the
sandbox on (seccomp filter; run as root, also the change to nobody and the
broker) and off (`--no-sandbox`), and QEMU as the peer, in one invocation.

Prints medians of --runs interleaved runs (on, off, qemu) of
  - launch to the guest's "VIREO-GUEST-READY" (default guest, 1 vCPU,
    256M, no NIC; QEMU with OpenSBI as in bench/foundation.py);
  - disk throughput seen by the guest: busybox dd of 128 MiB in 1 MiB
    blocks with O_DIRECT to a fresh sparse raw image on tmpfs (/dev/shm), written
    (then fsync) and read back (virtio-blk over virtio-mmio; QEMU:
    virtio-blk-device, format=raw, its default cache=writeback);
and the ratios on/off (1.00 = no cost) and on/qemu, plus the number of
system calls the filter allows. Never passes or fails: it reports.

usage: bench/sandbox.py [--vireo build/vireo] [--runs 5]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from foundation import QEMU, finish, launch, median, qemu_cmd, require, time_to_marker  # noqa: E402

IO_MIB = 128
# QEMU's virtio-blk may appear a moment after the guest's marker: wait for it.
IO_CMD = ("i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done; "
          f"dd if=/dev/zero of=/dev/vda bs=1M count={IO_MIB} oflag=direct conv=fsync; "
          f"dd if=/dev/vda of=/dev/null bs=1M count={IO_MIB} iflag=direct")
DD_LINE = re.compile(rb"(\d+) bytes \([^)]*\) copied, ([0-9.]+) seconds")


def io_rates(cmd):
    """(write MB/s, read MB/s) from the guest's two dd lines."""
    p = launch(cmd)
    out = finish(p, timeout=300)
    found = DD_LINE.findall(out)
    if len(found) != 2:
        tail = [l for l in out.decode(errors="replace").splitlines() if not l.startswith("[")][-8:]
        print("# no dd figures; output tail:\n# " + "\n# ".join(tail), file=sys.stderr)
        return None, None
    return tuple(int(b) / float(s) / 1e6 for b, s in found)


def vireo_args(vireo, sandbox, append, disk=None):
    args = [vireo, "run", "--cpus", "1", "--memory", "256M", "--no-nic"]
    if disk:
        args += ["--disk", disk]
    if not sandbox:
        args.append("--no-sandbox")
    return args + ["--append", append]


def allowlist_size():
    """The filter's size as the docs give it (src/vmm/sandbox.c is the truth)."""
    src = os.path.join(HERE, "..", "src", "vmm", "sandbox.c")
    with open(src) as f:
        text = f.read()
    block = text[text.index("static const char *const allowed[] = {"):]
    block = block[:block.index("};")]
    return len(re.findall(r'"[a-z0-9_]+"', block)) + 4  # + clone, socket, ioctl, prctl (narrowed)


def fmt(x, unit=""):
    return "-" if x is None else f"{x:.3f}{unit}" if x < 10 else f"{x:.1f}{unit}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vireo", default=os.path.join(HERE, "..", "build", "vireo"))
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    vireo = os.path.abspath(args.vireo)
    require(vireo, QEMU)
    print(f"sandbox cost: {args.runs} interleaved runs each; running as "
          f"{'root (sandbox on = nobody + seccomp + broker)' if os.geteuid() == 0 else 'a user (sandbox on = seccomp + broker)'}")
    print(f"system calls the filter allows: {allowlist_size()}")

    boots = {"on": [], "off": [], "qemu": []}
    print("\nlaunch to marker (s)")
    print("%-4s %8s %8s %8s" % ("run", "on", "off", "qemu"))
    for i in range(args.runs):
        row = []
        for k in ("on", "off", "qemu"):
            cmd = qemu_cmd(1, "") + ["-nic", "none"] if k == "qemu" else vireo_args(vireo, k == "on", "")
            t = time_to_marker(cmd)
            boots[k].append(t)
            row.append(t)
        print("%-4d %8s %8s %8s" % (i + 1, *(fmt(x) for x in row)))
    mb = {k: median(v) for k, v in boots.items()}
    print("median %6s %8s %8s" % tuple(fmt(mb[k]) for k in ("on", "off", "qemu")))
    if mb["on"] and mb["off"] and mb["qemu"]:
        print(f"on / off = {mb['on'] / mb['off']:.2f}   on / qemu = {mb['on'] / mb['qemu']:.2f}")

    rates = {k: ([], []) for k in ("on", "off", "qemu")}
    print(f"\ndisk, {IO_MIB} MiB with O_DIRECT in 1 MiB blocks (MB/s)")
    print("%-4s %8s %8s %8s %8s %8s %8s" % ("run", "on wr", "off wr", "qemu wr", "on rd", "off rd", "qemu rd"))
    # On tmpfs: the figures are then the VMMs' own cost, not the host disk's moods.
    with tempfile.TemporaryDirectory(dir="/dev/shm") as tmp:
        for i in range(args.runs):
            w, r = [], []
            for k in ("on", "off", "qemu"):
                disk = os.path.join(tmp, f"{k}.raw")
                with open(disk, "wb") as f:
                    f.truncate(256 << 20)
                append = f'vireo.cmd="{IO_CMD}" vireo.poweroff=1'
                if k == "qemu":
                    # virtio-mmio like ours (if=virtio would be PCI on virt)
                    cmd = qemu_cmd(1, append) + ["-nic", "none", "-drive", f"file={disk},format=raw,if=none,id=d0",
                                                 "-device", "virtio-blk-device,drive=d0"]
                else:
                    cmd = vireo_args(vireo, k == "on", append, disk)
                wr, rd = io_rates(cmd)
                os.unlink(disk)
                rates[k][0].append(wr)
                rates[k][1].append(rd)
                w.append(wr)
                r.append(rd)
            print("%-4d %8s %8s %8s %8s %8s %8s" % (i + 1, *(fmt(x) for x in w + r)))
    med = {k: (median(v[0]), median(v[1])) for k, v in rates.items()}
    print("median %6s %8s %8s %8s %8s %8s" % tuple(fmt(med[k][j]) for j in (0, 1) for k in ("on", "off", "qemu")))
    for j, what in ((0, "write"), (1, "read")):
        on, off, q = med["on"][j], med["off"][j], med["qemu"][j]
        if on and off and q:
            print(f"{what}: on / off = {on / off:.2f}   on / qemu = {on / q:.2f}")


if __name__ == "__main__":
    main()
