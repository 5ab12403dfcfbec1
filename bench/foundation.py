#!/usr/bin/env python3
"""Foundation benchmarks: Vireo against qemu-system-riscv64 in the same run.

Prints, as medians over several runs:
  - launch-to-marker time of the default guest, 1 and 2 vCPUs, built-in SBI
    and OpenSBI boot paths, against QEMU (-M virt, same Image, initramfs and
    OpenSBI fw_dynamic), and the ratio;
  - a CPU-bound program (vireo-cpubench) inside the guest: score on Vireo,
    on QEMU, and natively on the host (same source, -O2 -ffp-contract=off);
  - host CPU used by an idle booted VM over 10 s, and the VMM's resident
    memory beyond the guest's touched pages.
Never passes or fails: it reports.

usage: bench/foundation.py [--vireo build/vireo] [--runs 5] [--quick]
"""
import argparse
import os
import select
import statistics
import shutil
import subprocess
import sys
import tempfile
import time

MARKER = b"VIREO-GUEST-READY"
OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
QEMU = "qemu-system-riscv64"
HERE = os.path.dirname(os.path.abspath(__file__))


def guest_dir():
    cache = os.environ.get("VIREO_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.environ["HOME"], ".cache"), "vireo")
    return os.path.join(cache, "guest", "current")


def vireo_cmd(args, cpus, opensbi, append):
    cmd = [args.vireo, "run", "--cpus", str(cpus), "--append", append]
    if opensbi:
        cmd += ["--firmware", OPENSBI]
    return cmd


def qemu_cmd(cpus, append):
    g = guest_dir()
    return [QEMU, "-M", "virt", "-smp", str(cpus), "-m", "256M", "-nographic", "-bios", OPENSBI,
            "-kernel", os.path.join(g, "Image"), "-initrd", os.path.join(g, "initramfs.cpio"),
            "-append", "console=ttyS0 " + append]


def require(vireo, *programs, guest=True):
    """Stop with one line naming what is missing, before any run: the VMM, the
    default guest, the peer programs."""
    missing = []
    if not os.access(vireo, os.X_OK):
        missing.append(f"{vireo} (run scripts/build.sh)")
    if guest and not os.path.exists(os.path.join(guest_dir(), "Image")):
        missing.append(f"the default guest in {guest_dir()} (run scripts/build.sh)")
    for prog in programs:
        if shutil.which(prog) is None:
            missing.append(f"{prog} (run scripts/deps.sh test)")
    if missing:
        sys.exit("bench: missing " + "; ".join(missing))


def launch(cmd, keep_stdin=False):
    return subprocess.Popen(cmd, stdin=subprocess.PIPE if keep_stdin else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def wait_for(p, needle, timeout=120):
    """Read p's output until needle appears; return (seconds, output)."""
    t0 = time.monotonic()
    buf = b""
    fd = p.stdout.fileno()
    while time.monotonic() - t0 < timeout:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
            if needle in buf:
                return time.monotonic() - t0, buf
    return None, buf


def finish(p, timeout=60):
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    return out or b""


def time_to_marker(cmd):
    """Seconds from launch to the guest's marker (None if it never came);
    the VM is killed then."""
    p = launch(cmd)
    t, _ = wait_for(p, MARKER)
    p.kill()
    finish(p)
    return t


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


def boot_bench(args):
    print("== launch to marker (median of %d) ==" % args.runs)
    print("%-22s %10s %10s %8s" % ("configuration", "vireo s", "qemu s", "ratio"))
    append = "vireo.poweroff=1"
    qemu_times = {}
    for cpus in (1, 2):
        q = [time_to_marker(qemu_cmd(cpus, append)) for _ in range(args.runs)]
        qemu_times[cpus] = median(q)
    for opensbi in (False, True):
        for cpus in (1, 2):
            v = [time_to_marker(vireo_cmd(args, cpus, opensbi, append)) for _ in range(args.runs)]
            name = "%d vCPU %s" % (cpus, "OpenSBI" if opensbi else "built-in SBI")
            vm, qm = median(v), qemu_times[cpus]
            print("%-22s %10.3f %10.3f %8.2f" % (name, vm, qm, vm / qm))
            sys.stdout.flush()


def cpubench_score(out):
    for line in out.decode(errors="replace").splitlines():
        if line.startswith("cpubench score="):
            return float(line.split()[1].split("=")[1])
    return None


def cpu_bench(args):
    iters = args.iters
    print("== CPU-bound program: vireo-cpubench %d (median of %d) ==" % (iters, args.runs))
    append = 'vireo.cmd="vireo-cpubench %d" vireo.poweroff=1' % iters
    v, q = [], []
    for _ in range(args.runs):
        p = launch(vireo_cmd(args, 1, False, append))
        v.append(cpubench_score(finish(p, 600)))
        p = launch(qemu_cmd(1, append))
        q.append(cpubench_score(finish(p, 600)))
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "cpubench")
        subprocess.run(["cc", "-O2", "-ffp-contract=off", "-o", exe,
                        os.path.join(HERE, "..", "guest", "progs", "vireo-cpubench.c")], check=True)
        n = []
        for _ in range(args.runs):
            n.append(cpubench_score(subprocess.run([exe, str(iters)], capture_output=True).stdout))
    vm, qm, nm = median(v), median(q), median(n)
    print("vireo score %.2f, qemu score %.2f, host-native score %.2f" % (vm, qm, nm))
    print("vireo/qemu = %.2f   slowdown vs native: vireo %.1fx, qemu %.1fx" % (vm / qm, nm / vm, nm / qm))


def proc_cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


def rss_breakdown(pid, ram_bytes):
    """(total RSS, RSS of the guest-RAM mapping) in KiB."""
    total = guest = 0
    cur_size = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts) >= 5:
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                cur_size = hi - lo
            elif parts[0] == "Rss:":
                kb = int(parts[1])
                total += kb
                if cur_size == ram_bytes:
                    guest += kb
    return total, guest


def idle_bench(args):
    print("== idle VM: host CPU over 10 s after boot, resident memory ==")
    for name, cmd in (("vireo", [args.vireo, "run"]),
                      ("qemu", qemu_cmd(1, ""))):
        p = launch(cmd, keep_stdin=True)
        t, _ = wait_for(p, MARKER)
        time.sleep(2)
        c0 = proc_cpu_seconds(p.pid)
        time.sleep(10)
        c1 = proc_cpu_seconds(p.pid)
        total, guest = rss_breakdown(p.pid, 256 << 20)
        p.kill()
        finish(p, 10)
        print("%-6s idle CPU %.2f%% of a core; RSS %d KiB, of which guest RAM %d KiB, VMM beyond guest %d KiB" %
              (name, (c1 - c0) / 10 * 100, total, guest, total - guest))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vireo", default=os.path.join(HERE, "..", "build", "vireo"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--iters", type=int, default=300)
    ap.add_argument("--only", choices=["boot", "cpu", "idle"])
    args = ap.parse_args()
    args.vireo = os.path.abspath(args.vireo)
    require(args.vireo, QEMU)
    if args.only in (None, "boot"):
        boot_bench(args)
    if args.only in (None, "cpu"):
        cpu_bench(args)
    if args.only in (None, "idle"):
        idle_bench(args)


if __name__ == "__main__":
    main()
