#!/usr/bin/env python3
"""System tests: real Linux guests booted by `vireo run`.

Each test is a function below; `vmtest.py VIREO NAME` runs one (meson
registers one test per name). A guest is driven through its kernel command
line: `vireo.cmd="..."` runs a shell command after the init prints its
marker, `vireo.poweroff=1` powers the machine off afterwards, so a test reads
the console output and the exit status of `vireo run`.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import harness
from harness import TestFailure, expect

MARKER = "VIREO-GUEST-READY"
OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
VIREO = None



def guest_dir():
    cache = os.environ.get("VIREO_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.environ.get("HOME", "/root"), ".cache"), "vireo")
    d = os.path.join(cache, "guest", "current")
    if not os.path.isdir(d):
        raise TestFailure(f"no default guest in {d}: run 'vireo guest build'")
    return d


def run_vm(cmd=None, cpus=1, firmware=None, extra=(), append="", timeout=180, poweroff=True, memory=None):
    """Boot the default guest; return (exit status, console output)."""
    args = [VIREO, "run", "--cpus", str(cpus)]
    if memory:
        args += ["--memory", memory]
    if firmware:
        args += ["--firmware", firmware]
    args += list(extra)
    words = []
    if cmd is not None:
        words.append('vireo.cmd="%s"' % cmd)
    if poweroff:
        words.append("vireo.poweroff=1")
    if append:
        words.append(append)
    if words:
        args += ["--append", " ".join(words)]
    t0 = time.monotonic()
    try:
        p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        raise TestFailure(f"VM did not power off within {timeout}s; output tail:\n{out[-3000:]}")
    out = p.stdout.decode(errors="replace")
    print(f"# {' '.join(args)}\n# exit {p.returncode} after {time.monotonic() - t0:.2f}s")
    return p.returncode, out



def cmd_output(out):
    """The lines the guest command printed: between the marker and the exit line."""
    lines = out.replace("\r", "").split("\n")
    try:
        start = max(i for i, l in enumerate(lines) if l.strip() == MARKER)
    except ValueError:
        return None, None
    body, status = [], None
    for l in lines[start + 1:]:
        if l.startswith("VIREO-CMD-EXIT="):
            status = int(l.split("=", 1)[1])
            break
        body.append(l)
    return body, status


def boot_and_run(cmd, **kw):
    rc, out = run_vm(cmd, **kw)
    expect(MARKER in out, "the guest never printed its ready marker", out)
    body, status = cmd_output(out)
    expect(status is not None, "the guest command did not finish", out)
    expect(rc == 0, f"vireo run exited with {rc} after a guest power-off", out)
    return body, status, out


# ---------------------------------------------------------------- tests

def check_boot(cpus, firmware):
    body, status, out = boot_and_run("nproc; cat /proc/cpuinfo | grep -c ^processor", cpus=cpus, firmware=firmware)
    expect(status == 0, f"command failed with {status}", out)
    expect(body[:1] == [str(cpus)], f"nproc printed {body[:1]}, expected {cpus}", out)


def test_boot_1cpu_builtin():
    check_boot(1, None)


def test_boot_2cpu_builtin():
    check_boot(2, None)


def test_boot_1cpu_opensbi():
    check_boot(1, OPENSBI)


def test_boot_2cpu_opensbi():
    check_boot(2, OPENSBI)


def check_atomic(firmware):
    body, status, out = boot_and_run("vireo-atomic-counter 2 200000", cpus=2, firmware=firmware)
    expect(status == 0, "atomic counter total was wrong: " + " ".join(body), out)
    expect(any("expected=400000" in l for l in body), "unexpected counter output: " + " ".join(body), out)


def test_smp_atomic_builtin():
    check_atomic(None)


def test_smp_atomic_opensbi():
    check_atomic(OPENSBI)


def test_fork_cow_stress():
    body, status, out = boot_and_run("vireo-forkstress 16", cpus=2)
    expect(status == 0, "fork/copy-on-write stress failed: " + " ".join(body), out)


def test_poweroff_status():
    rc, out = run_vm(cmd="true")
    expect(rc == 0, f"guest power-off should end vireo run with 0, got {rc}", out)
    # the guest's own poweroff command, not the init's
    rc, out = run_vm(cmd="sync; poweroff -f", poweroff=False, timeout=60)
    expect(rc == 0, f"'poweroff -f' in the guest should end vireo run with 0, got {rc}", out)
    # on the OpenSBI path power-off goes through OpenSBI's SRST to the syscon
    rc, out = run_vm(cmd="poweroff -f", poweroff=False, firmware=OPENSBI, timeout=60)
    expect(rc == 0, f"power-off through OpenSBI should end vireo run with 0, got {rc}", out)


def test_disk_persistence():
    d = guest_dir()
    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "disk.ext4")
        shutil.copyfile(os.path.join(d, "rootfs.ext4"), disk)
        token = "vireo-%d" % os.getpid()
        body, status, out = boot_and_run(
            f"mkdir -p /mnt/d && mount /dev/vda /mnt/d && echo {token} > /mnt/d/persist.txt && sync && umount /mnt/d",
            extra=["--disk", disk])
        expect(status == 0, "writing to the disk failed", out)
        body, status, out = boot_and_run("mkdir -p /mnt/d && mount /dev/vda /mnt/d && cat /mnt/d/persist.txt",
                                         extra=["--disk", disk])
        expect(status == 0 and token in body, f"file not found after restart (got {body})", out)
        # read-only disks refuse writes
        body, status, out = boot_and_run("mkdir -p /mnt/d && mount -o ro /dev/vda /mnt/d && "
                                         "dd if=/dev/zero of=/dev/vda bs=512 count=1 conv=fsync",
                                         extra=["--disk", disk + ",readonly"])
        expect(status != 0, "a write to a read-only disk succeeded", out)


def test_root_on_disk():
    d = guest_dir()
    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "root.ext4")
        shutil.copyfile(os.path.join(d, "rootfs.ext4"), disk)
        body, status, out = boot_and_run("mount | grep ' / '", extra=["--disk", disk], append="vireo.root=/dev/vda")
        expect(status == 0 and any("/dev/vda" in l for l in body), f"root is not on /dev/vda: {body}", out)


def test_virtio_console():
    # the guest's console on hvc0 (virtio-console) instead of the UART
    body, status, out = boot_and_run("cat /sys/class/tty/console/active; ls /sys/bus/virtio/drivers",
                                     extra=["--console", "virtio"])
    expect(status == 0 and any("hvc0" in l for l in body), f"console is not hvc0: {body}", out)
    expect(any("virtio_console" in l for l in body), f"no virtio_console driver bound: {body}", out)


def test_virtio_rng():
    body, status, out = boot_and_run("cat /sys/class/misc/hw_random/rng_current; "
                                     "dd if=/dev/hwrng bs=64 count=4 2>/dev/null | od -An -tx1 | sort -u | wc -l")
    expect(status == 0 and body and body[0].startswith("virtio_rng"), f"virtio-rng not in use: {body}", out)
    expect(int(body[1].strip()) >= 8, f"256 bytes from /dev/hwrng look constant: {body}", out)


def test_guest_fault_stops():
    """A bare program that jumps into nothing is reported and stopped, not spun."""
    with tempfile.TemporaryDirectory() as tmp:
        src, elf = os.path.join(tmp, "bad.S"), os.path.join(tmp, "bad.elf")
        with open(src, "w") as f:
            f.write(".globl _start\n_start:\n li t0, 0x40000000\n jr t0\n")
        ld = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "isa", "link.ld")
        subprocess.run(["riscv64-linux-gnu-gcc", "-nostdlib", "-nostartfiles", "-static", "-Wl,--build-id=none",
                        "-T", ld, "-o", elf, src], check=True)
        rc, so, se = run_cli(["run", "--kernel", "none", "--firmware", elf], timeout=20)
        expect(rc != 0 and "cannot continue" in se, f"expected a clear stop, got {rc}: {se!r}")


class Console:
    """A guest with its interactive shell on our pipe: type lines, read what comes back."""

    def __init__(self, extra=()):
        self.proc = subprocess.Popen([VIREO, "run", "--memory", "128M"] + list(extra), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.out = b""
        os.set_blocking(self.proc.stdout.fileno(), False)

    def read_until(self, needle, timeout, count=1):
        end = time.monotonic() + timeout
        while self.out.count(needle.encode()) < count:
            if time.monotonic() > end:
                raise TestFailure(f"no {needle!r} within {timeout}s; console tail:\n"
                                  + self.out.decode(errors="replace")[-2000:])
            chunk = self.proc.stdout.read()
            if chunk:
                self.out += chunk
            elif self.proc.poll() is not None:
                raise TestFailure(f"vireo run ended ({self.proc.returncode}) before {needle!r}; console tail:\n"
                                  + self.out.decode(errors="replace")[-2000:])
            else:
                time.sleep(0.05)

    def type(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def wait_exit(self, timeout):
        end = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < end:
            chunk = self.proc.stdout.read()
            if chunk:
                self.out += chunk
            time.sleep(0.05)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            raise TestFailure(f"the VM did not end within {timeout}s; console tail:\n"
                              + self.out.decode(errors="replace")[-2000:])
        return self.proc.returncode


def test_shell_power():
    """The default guest's console shell: Ctrl-C interrupts a command, and
    plain poweroff, reboot and exit do what they say (its init is a script
    that handles busybox's signals for them). A reboot needs nothing from
    the host again: the boot images may be gone, the disk stays locked and
    the network adapter keeps its connection."""
    d = guest_dir()
    with tempfile.TemporaryDirectory() as tmp:
        for f in ("Image", "initramfs.cpio", "rootfs.ext4"):
            shutil.copyfile(os.path.join(d, f), os.path.join(tmp, f))
        vm = Console(["--kernel", os.path.join(tmp, "Image"), "--initrd", os.path.join(tmp, "initramfs.cpio"),
                      "--disk", os.path.join(tmp, "rootfs.ext4"), "--nic", "nat"])
        vm.read_until(MARKER, 60)
        os.unlink(os.path.join(tmp, "Image"))
        os.unlink(os.path.join(tmp, "initramfs.cpio"))
    vm.type("sleep 100\n")
    time.sleep(1)
    vm.type("\x03")
    vm.type("echo INTR-$?\n")
    vm.read_until("INTR-130", 10)
    vm.type("reboot\n")
    vm.read_until(MARKER, 60, count=2)
    vm.type("for i in 1 2 3 4 5 6 7 8 9 10; do ping -c 1 -W 1 10.0.2.2 >/dev/null && "
            "{ echo NET-AFTER-$((6*7)); break; }; sleep 1; done\n")
    vm.read_until("NET-AFTER-42", 30)
    vm.type("poweroff\n")
    rc = vm.wait_exit(30)
    expect(rc == 0, f"vireo run exited {rc} after the guest's poweroff")
    vm = Console()
    vm.read_until(MARKER, 60)
    vm.type("exit\n")
    rc = vm.wait_exit(30)
    expect(rc == 0, f"vireo run exited {rc} after the guest's shell exited")


def test_jit_suite():
    """--engine jit boots the default guest on 1 and 2 vCPUs and computes
    what the interpreter computes: the CPU suite's checksums agree, and the
    JIT did translate blocks (docs/jit.md)."""
    sums = {}
    for engine in ("interp", "jit"):
        for cpus in (1, 2):
            rc, out = run_vm("vireo-cpusuite 0.1 int branch mem fp && vireo-atomic-counter 2 20000", cpus=cpus,
                             extra=["--engine", engine, "--stats"])
            expect(rc == 0 and MARKER in out, f"--engine {engine} on {cpus} vCPUs did not run", out)
            parts = dict(re.findall(r"cpusuite part=(\w+) score=\S+ seconds=\S+ checksum=(\w+)", out))
            expect(len(parts) == 4 and "expected=40000" in out and "counter=40000" in out,
                   f"--engine {engine}: suite or counter incomplete", out)
            sums[(engine, cpus)] = parts
            if engine == "jit":
                m = re.search(r"jit: (\d+) blocks translated", out)
                expect(m and int(m.group(1)) > 1000, f"the JIT translated too few blocks: {m and m.group(0)}", out)
    first = sums[("interp", 1)]
    for k, v in sums.items():
        expect(v == first, f"checksums differ: {k} {v} against interp/1 {first}")


def test_dump_dtb():
    """--dump-dtb writes the generated tree; dtc reads it back."""
    with tempfile.TemporaryDirectory() as tmp:
        dtb = os.path.join(tmp, "virt.dtb")
        rc, so, se = run_cli(["run", "--cpus", "2", "--dump-dtb", dtb])
        expect(rc == 0, f"--dump-dtb failed: {se!r}")
        p = subprocess.run(["dtc", "-I", "dtb", "-O", "dts", dtb], capture_output=True, text=True)
        expect(p.returncode == 0, f"dtc cannot read the tree: {p.stderr}")
        dts = p.stdout
        for needle in ("cpu@1", "riscv,isa", "sifive,plic-1.0.0", "ns16550a", "syscon-poweroff",
                       "google,goldfish-rtc", "virtio,mmio", "timebase-frequency = <0x989680>"):
            expect(needle in dts, f"device tree lacks {needle!r}")


def run_cli(args, timeout=30):
    p = subprocess.run([VIREO] + args, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def test_bad_input():
    with tempfile.TemporaryDirectory() as tmp:
        junk = os.path.join(tmp, "junk")
        with open(junk, "wb") as f:
            f.write(b"this is not a kernel" * 100)
        big = os.path.join(tmp, "big")
        with open(big, "wb") as f:
            f.truncate(64 << 20)
            f.seek(0x38)
            f.write(b"RSC\x05")
        cases = [
            (["run", "--kernel", os.path.join(tmp, "missing")], "No such file"),
            (["run", "--kernel", junk], "neither a RISC-V Linux Image"),
            (["run", "--kernel", big, "--memory", "32M"], "memory"),
            (["run", "--memory", "12X"], "--memory"),
            (["run", "--memory", "1M"], "at least"),
            (["run", "--cpus", "0"], "--cpus"),
            (["run", "--cpus", str((os.cpu_count() or 1) + 1)], "logical CPUs"),
            (["run", "--disk", os.path.join(tmp, "nodisk")], "nodisk"),
            (["run", "--firmware", junk + "-missing"], "firmware"),
            (["run", "--bogus"], "unknown option"),
            (["frobnicate"], "unknown command"),
        ]
        for args, needle in cases:
            rc, so, se = run_cli(args)
            expect(rc != 0, f"vireo {' '.join(args)} succeeded")
            expect(needle in se, f"vireo {' '.join(args)}: error does not mention '{needle}': {se!r}")
            expect(len(se.strip().splitlines()) <= 3, f"vireo {' '.join(args)}: too chatty: {se!r}")
            expect("Segmentation" not in se and rc < 128, f"vireo {' '.join(args)} crashed")


if __name__ == "__main__":
    sys.exit(harness.main(globals()))
