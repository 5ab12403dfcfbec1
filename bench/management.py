#!/usr/bin/env python3
"""Management benchmarks: a VM started by vireod against `vireo run` and QEMU.

Prints, for the closing note of the management issue (#4):
  - time from `vireo vm start NAME` (daemon already running) to the guest's
    "VIREO-GUEST-READY" line in <data>/logs/NAME.console.log, against
    `vireo run` launched directly to the marker on its stdout, and against
    qemu-system-riscv64 booting the same guest (as bench/foundation.py does).
    All three: default guest, 1 vCPU, 256M, no NIC, default command line;
    each clock starts just before the process is spawned. Runs are
    interleaved (managed, direct, qemu) and the medians and ratios printed;
  - vireod's resident memory (VmRSS, VmHWM from /proc/PID/status) just after
    it starts with no VMs, with 10 VMs defined, and with 10 defined and 4 of
    them running (1 vCPU, 64M, --nic1 none) once all 4 are at the marker;
    beside it the RSS of the VM processes (`vireo run` children).
Every part uses a fresh data directory under a temporary directory
(VIREO_HOME, VIREO_RUNTIME_DIR), whose daemon the CLI starts on demand; at the
end (or on error or Ctrl-C) its VMs are powered off, the daemon is stopped and
the directory removed. Never passes or fails: it reports.

usage: bench/management.py [--vireo build/vireo] [--runs 5] [--only start|rss]
"""
import argparse
import http.client
import json
import os
import signal
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from foundation import MARKER, QEMU, finish, launch, median, qemu_cmd, require, wait_for  # noqa: E402

# The console log is polled (no inotify): every millisecond. At ~0.5 s boots
# 5 ms would be a 1% error; a busy loop would take one of the host's cores
# from the VM being measured.
POLL_S = 0.001
BOOT_TIMEOUT = 120
START_NAME = "bench"
START_MEMORY = 256 << 20
RSS_VMS, RSS_RUNNING, RSS_MEMORY = 10, 4, "64M"


class Failed(Exception):
    pass


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("vireod", timeout=30)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(self.unix_path)
        self.sock = s


class LogTail:
    """Follows a console log from its current end, across the VM process's
    1 MiB rotation (FILE -> FILE.1, new FILE): the log is appended to, never
    truncated at start, so only output written after construction counts."""

    def __init__(self, path):
        self.path = path
        self.fd = None
        self.ino = None
        self.carry = b""
        try:
            self.fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return
        self.ino = os.fstat(self.fd).st_ino
        os.lseek(self.fd, 0, os.SEEK_END)

    def _drain(self):
        out = b""
        while self.fd is not None:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                break
            out += chunk
        return out

    def seen(self, needle=MARKER):
        data = self._drain()
        try:
            ino = os.stat(self.path).st_ino
        except FileNotFoundError:
            ino = None
        if ino is not None and ino != self.ino:
            data += self._drain()  # the old file (now FILE.1) is complete
            if self.fd is not None:
                os.close(self.fd)
            self.fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            self.ino = ino
            data += self._drain()
        buf = self.carry + data
        if needle in buf:
            return True
        self.carry = buf[-(len(needle) - 1):]
        return False

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def proc_status(pid):
    """{'VmRSS': KiB, 'VmHWM': KiB} of pid."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])
    return out


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


class Home:
    """A temporary data directory and runtime directory, with the daemon the
    CLI starts for it; close() leaves nothing running or on disk."""

    def __init__(self, vireo):
        self.vireo = vireo
        self.tmp = tempfile.mkdtemp(prefix="vireo-bench-mgmt-")
        self.home = os.path.join(self.tmp, "home")
        self.rt = os.path.join(self.tmp, "rt")
        os.mkdir(self.home)
        os.mkdir(self.rt, 0o700)
        os.chmod(self.rt, 0o700)
        self.env = dict(os.environ, VIREO_HOME=self.home, VIREO_RUNTIME_DIR=self.rt)
        self.children = []  # processes we spawned that may outlive a step

    def cli(self, *args, check=True, timeout=120):
        r = subprocess.run([self.vireo] + list(args), env=self.env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise Failed("vireo %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
        return r

    def vms(self):
        return {v["name"]: v for v in json.loads(self.cli("vm", "list", "--json").stdout)}

    def daemon_pid(self):
        r = subprocess.run(["pgrep", "-f", "vireod --data-dir " + self.home], capture_output=True, text=True)
        pids = [int(x) for x in r.stdout.split()]
        if len(pids) != 1:
            raise Failed("expected one vireod for %s, found %r" % (self.home, pids))
        return pids[0]

    def console_log(self, name):
        return os.path.join(self.home, "logs", name + ".console.log")

    def create_api(self, definition):
        """POST /v1/vms (the CLI always gives a VM an adapter; the API takes nics: [])."""
        self.cli("vm", "list")  # the CLI starts the daemon if needed
        c = UnixHTTP(os.path.join(self.home, "run", "api.sock"))
        try:
            c.request("POST", "/v1/vms", body=json.dumps(definition),
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            body = r.read().decode(errors="replace")
        finally:
            c.close()
        if r.status != 201:
            raise Failed("POST /v1/vms: %d %s" % (r.status, body.strip()))
        return json.loads(body)

    def poweroff_and_wait(self, name, timeout=30):
        self.cli("vm", "poweroff", name)
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.vms()[name]["state"] == "stopped":
                return
            time.sleep(0.02)
        raise Failed("VM %s not stopped %d s after poweroff" % (name, timeout))

    def close(self):
        vm_pids = []
        daemon = None
        try:
            daemon = self.daemon_pid()
        except Exception:
            pass
        if daemon is not None:
            try:
                for name, v in self.vms().items():
                    if v.get("pid"):
                        vm_pids.append(v["pid"])
                    if v.get("state") in ("running", "paused"):
                        self.cli("vm", "poweroff", name, check=False, timeout=30)
            except Exception as e:
                print("  (cleanup: %s)" % e, file=sys.stderr)
            try:
                os.kill(daemon, signal.SIGTERM)
            except ProcessLookupError:
                pass
            t0 = time.monotonic()
            while alive(daemon) and time.monotonic() - t0 < 5:
                time.sleep(0.05)
        for p in self.children:
            if p.poll() is None:
                p.kill()
                p.wait()
        # What is left of ours: processes whose command line names our unique
        # temporary directory (the daemon, VM processes, switches), by pid.
        me = os.getpid()
        needle = self.tmp.encode()
        stragglers = set(p for p in vm_pids + ([daemon] if daemon else []) if alive(p))
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == me:
                continue
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    if needle in f.read():
                        stragglers.add(int(d))
            except OSError:
                pass
        for pid in stragglers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if stragglers:
            time.sleep(0.2)
        shutil.rmtree(self.tmp, ignore_errors=True)


# ---- 1. vm start -> marker ----

def managed_to_marker(h, name):
    """(seconds to the marker in the console log, seconds until `vm start` returned)."""
    tail = LogTail(h.console_log(name))
    try:
        t0 = time.monotonic()
        p = subprocess.Popen([h.vireo, "vm", "start", name], env=h.env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        h.children.append(p)
        t_cli = t_marker = None
        while time.monotonic() - t0 < BOOT_TIMEOUT:
            if t_cli is None and p.poll() is not None:
                t_cli = time.monotonic() - t0
                if p.returncode != 0:
                    raise Failed("vireo vm start %s: exit %d: %s" %
                                 (name, p.returncode, p.stderr.read().decode(errors="replace").strip()))
            if tail.seen():
                t_marker = time.monotonic() - t0
                break
            time.sleep(POLL_S)
        if t_cli is None:
            p.wait(timeout=60)
            t_cli = time.monotonic() - t0
            if p.returncode != 0:
                raise Failed("vireo vm start %s: exit %d" % (name, p.returncode))
        p.communicate()
        h.children.remove(p)
        return t_marker, t_cli
    finally:
        tail.close()


def direct_to_marker(h, cmd):
    """Seconds from spawning cmd to the marker on its output; the process is then stopped."""
    t0 = time.monotonic()
    p = launch(cmd)
    h.children.append(p)
    try:
        t, _ = wait_for(p, MARKER, BOOT_TIMEOUT)
        t = None if t is None else time.monotonic() - t0
    finally:
        p.terminate()
        finish(p, 10)
        h.children.remove(p)
    return t


def fmt(x):
    return "%9.3f" % x if x is not None else "%9s" % "-"


def start_bench(args):
    runs = args.runs
    print("== vm start to marker: default guest, 1 vCPU, 256M, no NIC (median of %d) ==" % runs)
    print("vm start: `vireo vm start` (vireod already up) to the marker in the console log (polled every %g ms)"
          % (POLL_S * 1000))
    print("vireo run: `vireo run --no-nic` to the marker on its stdout; qemu: %s -M virt (OpenSBI) -nic none"
          % QEMU)
    h = Home(args.vireo)
    try:
        h.create_api({"name": START_NAME, "cpus": 1, "memory": START_MEMORY, "nics": []})
        vireo_cmd = [args.vireo, "run", "--no-nic", "--cpus", "1", "--memory", "256M"]
        q_cmd = qemu_cmd(1, "") + ["-nic", "none"]
        m, c, v, q = [], [], [], []
        print("%-6s %9s %9s %9s %9s" % ("run", "vm start", "(cli ret)", "vireo run", "qemu"))
        for i in range(runs):
            tm, tc = managed_to_marker(h, START_NAME)
            h.poweroff_and_wait(START_NAME)
            tv = direct_to_marker(h, vireo_cmd)
            tq = direct_to_marker(h, q_cmd)
            m.append(tm)
            c.append(tc)
            v.append(tv)
            q.append(tq)
            print("%-6d %s %s %s %s" % (i + 1, fmt(tm), fmt(tc), fmt(tv), fmt(tq)))
            sys.stdout.flush()
        mm, cm, vm, qm = median(m), median(c), median(v), median(q)
        print("%-6s %9.3f %9.3f %9.3f %9.3f   (seconds)" % ("median", mm, cm, vm, qm))
        missed = sum(x is None for x in m + v + q)
        if missed:
            print("(%d runs did not reach the marker within %d s; left out of the medians)" % (missed, BOOT_TIMEOUT))
        print("vm start / vireo run = %.2f   vm start - vireo run = %+.0f ms" % (mm / vm, (mm - vm) * 1000))
        print("vm start / qemu      = %.2f   vireo run / qemu = %.2f" % (mm / qm, vm / qm))
    finally:
        h.close()


# ---- 2. vireod resident memory ----

def kib(d):
    return "VmRSS %6d KiB  VmHWM %6d KiB" % (d["VmRSS"], d["VmHWM"])


def rss_bench(args):
    print("== vireod resident memory: %d VMs defined, %d running (1 vCPU, %s, --nic1 none) ==" %
          (RSS_VMS, RSS_RUNNING, RSS_MEMORY))
    h = Home(args.vireo)
    try:
        h.cli("vm", "list")  # starts the daemon
        time.sleep(0.5)
        pid = h.daemon_pid()
        print("%-34s %s" % ("vireod, 0 VMs, just started:", kib(proc_status(pid))))
        names = ["rss%02d" % i for i in range(RSS_VMS)]
        for n in names:
            h.cli("vm", "create", n, "--cpus", "1", "--memory", RSS_MEMORY, "--nic1", "none")
        print("%-34s %s" % ("vireod, %d VMs defined:" % RSS_VMS, kib(proc_status(pid))))
        tails = {}
        t0 = time.monotonic()
        for n in names[:RSS_RUNNING]:
            tails[n] = LogTail(h.console_log(n))
            h.cli("vm", "start", n)
        waiting = set(tails)
        while waiting and time.monotonic() - t0 < 300:
            for n in list(waiting):
                if tails[n].seen():
                    waiting.discard(n)
            time.sleep(0.005)
        for t in tails.values():
            t.close()
        if waiting:
            raise Failed("no marker from %s within 300 s" % ", ".join(sorted(waiting)))
        t_all = time.monotonic() - t0
        time.sleep(0.5)
        d = proc_status(pid)
        print("%-34s %s" % ("vireod, %d defined, %d at marker:" % (RSS_VMS, RSS_RUNNING), kib(d)))
        vms = h.vms()
        vm_st = [proc_status(vms[n]["pid"]) for n in names[:RSS_RUNNING]]
        print("%-34s %s" % ("one VM process (%s):" % names[0], kib(vm_st[0])))
        rss = [s["VmRSS"] for s in vm_st]
        print("VM processes' VmRSS: %s KiB (median %d); vireod is %.1f%% of one"
              % (", ".join(str(r) for r in rss), median(rss), 100.0 * d["VmRSS"] / median(rss)))
        print("(the %d VMs reached the marker %.2f s after the first `vm start`; %d host CPUs)"
              % (RSS_RUNNING, t_all, os.cpu_count()))
    finally:
        h.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vireo", default=os.path.join(HERE, "..", "build", "vireo"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", choices=["start", "rss"])
    args = ap.parse_args()
    args.vireo = os.path.abspath(args.vireo)
    require(args.vireo, QEMU)

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    try:
        if args.only in (None, "start"):
            start_bench(args)
        if args.only in (None, "rss"):
            rss_bench(args)
    except Failed as e:
        print("failed: %s" % e)
        return 1
    except KeyboardInterrupt:
        print("interrupted")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
