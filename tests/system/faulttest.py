#!/usr/bin/env python3
"""Fault tests (issue 6): what a VM's disk goes through when things go wrong
on the host, with real guests.

`faulttest.py VIREO NAME` runs one test. The guest side is
`vireo-diskcheck` (guest/progs): it writes numbered, checksummed 4 KiB
records with an fdatasync (a virtio-blk FLUSH) after each batch and prints
`DISKCHECK flushed=N` only once the flush has completed; `verify` reads them
back after a restart.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, expect  # noqa: E402
import vmtest  # noqa: E402
from vmtest import MARKER  # noqa: E402

VIREO = None
RECORD = 4096


def log(msg):
    print("# " + msg, flush=True)


def verify(image, run):
    """Boot with the image and check the records: (valid, torn, stale)."""
    body, status, out = vmtest.boot_and_run(f"vireo-diskcheck verify /dev/vda {run}", extra=["--disk", image])
    m = re.search(r"DISKCHECK valid=(\d+) torn=(\d+) stale=(\d+)", out)
    expect(status == 0 and m, "vireo-diskcheck verify failed", out)
    return tuple(int(g) for g in m.groups())


def write_and_kill(image, run, cpus, kill_after):
    """Start the writer, kill -9 the VMM once more than kill_after records are
    flushed (mid-batch: the writer never pauses). Returns the highest
    flushed count the guest reported before the kill."""
    args = [VIREO, "run", "--cpus", str(cpus), "--memory", "128M", "--disk", image,
            "--append", f'vireo.cmd="vireo-diskcheck write /dev/vda {run} 64"']
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    os.set_blocking(p.stdout.fileno(), False)
    out, flushed = b"", 0
    end = time.monotonic() + 120
    try:
        while flushed <= kill_after:
            if time.monotonic() > end or p.poll() is not None:
                raise TestFailure(f"the writer did not get past {kill_after} records (at {flushed}):\n"
                                  + out.decode(errors="replace")[-3000:])
            chunk = p.stdout.read()
            if not chunk:
                time.sleep(0.01)
                continue
            out += chunk
            found = re.findall(rb"DISKCHECK flushed=(\d+)", out)
            if found:
                flushed = int(found[-1])
        p.send_signal(signal.SIGKILL)
        t0 = time.monotonic()
        p.wait()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    # What reached us before the kill is all the guest could have seen done.
    rest = p.stdout.read() or b""
    found = re.findall(rb"DISKCHECK flushed=(\d+)", out + rest)
    flushed = int(found[-1])
    expect(b"DISKCHECK error" not in out + rest, "the writer hit an error before the kill",
           (out + rest).decode(errors="replace"))
    expect(p.returncode == -signal.SIGKILL, f"vireo run ended with {p.returncode}, not by the kill")
    log(f"killed the VMM ({cpus} vCPU) with {flushed} records ({flushed * RECORD >> 20} MiB) flushed, "
        f"{time.monotonic() - t0:.2f}s to reap")
    return flushed


def test_disk_kill():
    """kill -9 of the VMM while the guest writes as fast as it can: every
    record the guest saw flushed is intact after a restart, and the image
    keeps its size. Three rounds (1 and 2 vCPUs), each a new run id over
    the last one's records."""
    with tempfile.TemporaryDirectory() as tmp:
        image = os.path.join(tmp, "disk.raw")
        size = 128 << 20
        with open(image, "wb") as f:
            f.truncate(size)
        for rnd, (cpus, kill_after) in enumerate([(1, 1500), (2, 2500), (1, 700)]):
            run = 1000 + rnd
            flushed = write_and_kill(image, run, cpus, kill_after)
            expect(os.path.getsize(image) == size, f"the image is {os.path.getsize(image)} bytes, not {size}")
            valid, torn, stale = verify(image, run)
            log(f"round {rnd}: flushed {flushed}, intact prefix {valid}, torn after it {torn}, stale {stale}")
            expect(valid >= flushed, f"round {rnd}: {flushed} records were flushed but only the first {valid} "
                   "are intact after the kill")
            expect(valid < size // RECORD, "the writer cannot have filled the disk before the kill")


def test_disk_full():
    """The image lives on a 16 MiB tmpfs but claims 64 MiB: once the host
    file system is full the guest's writes fail with I/O errors, the VMM
    says so once and keeps running, the guest still reads and shuts down
    cleanly, and what was flushed before is intact."""
    with tempfile.TemporaryDirectory() as tmp:
        mnt = os.path.join(tmp, "small")
        os.mkdir(mnt)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt], check=True)
        try:
            image = os.path.join(mnt, "disk.raw")
            with open(image, "wb") as f:
                f.truncate(64 << 20)
            cmd = ("vireo-diskcheck write /dev/vda 77 32; echo WRITE-RC=$?; "
                   "dd if=/dev/vda of=/dev/null bs=4096 count=256 && echo READ-OK; "
                   "dmesg | grep -c 'I/O error'")
            body, status, out = vmtest.boot_and_run(cmd, extra=["--disk", image], timeout=300)
            log("guest: " + " | ".join(l for l in body if "DISKCHECK flushed" not in l)[:500])
            expect(re.search(r"DISKCHECK error (write|fdatasync)", out), "the guest's writes did not fail", out)
            expect("WRITE-RC=1" in out, "vireo-diskcheck did not report the failure", out)
            expect("READ-OK" in out, "the guest could not read its disk after the host filled up", out)
            expect(re.search(r"virtio-blk .*failed on the host: No space left on device", out),
                   "the VMM did not say the host disk is full", out)
            expect(len(re.findall(r"failed on the host", out)) <= 3, "the VMM logs every failed request", out)
            found = re.findall(r"DISKCHECK flushed=(\d+)", out)
            flushed = int(found[-1]) if found else 0
            expect(0 < flushed * RECORD <= 16 << 20, f"{flushed} records flushed on a 16 MiB file system", out)
            expect(os.path.getsize(image) == 64 << 20, "the image changed size")
            # Make room: the same VM's data is all there, and new writes work.
            valid, torn, stale = verify(image, 77)
            log(f"flushed {flushed} before the disk filled; intact prefix after restart {valid}")
            expect(valid >= flushed, f"{flushed} records were flushed but only {valid} are intact")
        finally:
            subprocess.run(["umount", "-l", mnt])


def setup():
    vmtest.VIREO = VIREO
    vmtest.guest_dir()
    if sys.argv[2] == "disk_full" and os.geteuid() != 0:
        print("SKIP: mounting a tmpfs needs root")
        sys.exit(77)


if __name__ == "__main__":
    sys.exit(harness.main(globals(), setup=setup))
