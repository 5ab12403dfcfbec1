#!/usr/bin/env python3
"""System tests of the VM process's management side (docs/management.md):
the control socket, pause/resume, the CPU cap and affinity, statistics and
the state file, with real guests (the default guest built by
`vireo guest build`). `vmproctest.py VIREO NAME` runs one test.
"""
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import harness
from harness import TestFailure, expect

MARKER = "VIREO-GUEST-READY"
VIREO = None

# A guest busy loop that reports its progress and the guest's clock.
BUSY = 'i=0; while :; do i=$((i+1)); [ $((i%300)) = 0 ] && echo CNT=$i T=$(date +%s); done'
SPIN = 'while :; do :; done'




class VM:
    """A `vireo run` with a control socket and a state file in a temp dir;
    console lines are collected with the host time they arrived."""

    def __init__(self, cmd, extra=(), cpus=1, name="t"):
        self.tmp = tempfile.TemporaryDirectory()
        self.ctl = os.path.join(self.tmp.name, "vm.ctl")
        self.state = os.path.join(self.tmp.name, "vm.state")
        nics = [] if "--nic" in extra else ["--no-nic"]
        args = [VIREO, "run", "--cpus", str(cpus)] + nics + ["--name", name, "--control", self.ctl,
                "--state-file", self.state] + list(extra)
        args += ["--append", 'vireo.cmd="%s"' % cmd]
        self.args = args
        self.p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines = []  # (host time, line)
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.sock = None
        self.f = None

    def _read(self):
        for raw in self.p.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            with self.lock:
                self.lines.append((time.time(), line))

    def output(self):
        with self.lock:
            return "\n".join(l for _, l in self.lines)

    def wait_line(self, pred, timeout=120, after=0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                for t, l in self.lines[after:]:
                    if pred(l):
                        return t, l
            if self.p.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.05)
        raise TestFailure(f"no expected console line within {timeout}s; tail:\n{self.output()[-3000:]}")

    def nlines(self):
        with self.lock:
            return len(self.lines)

    def counters(self):
        with self.lock:
            out = []
            for t, l in self.lines:
                if l.startswith("CNT="):
                    parts = dict(w.split("=", 1) for w in l.split() if "=" in w)
                    try:
                        out.append((t, int(parts["CNT"]), int(parts["T"])))
                    except (KeyError, ValueError):
                        pass
            return out

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(self.ctl)
        return s

    def q(self, obj):
        if not self.f:
            self.sock = self.connect()
            self.f = self.sock.makefile("rw")
        self.f.write((obj if isinstance(obj, str) else json.dumps(obj)) + "\n")
        self.f.flush()
        line = self.f.readline()
        expect(line, f"no answer to {obj!r}")
        return json.loads(line)

    def read_state(self):
        with open(self.state) as f:
            return json.load(f)

    def vcpu_tids(self):
        tids = []
        for tid in os.listdir(f"/proc/{self.p.pid}/task"):
            try:
                with open(f"/proc/{self.p.pid}/task/{tid}/comm") as f:
                    if f.read().startswith("vcpu"):
                        tids.append(int(tid))
            except OSError:
                pass
        return sorted(tids)

    def vcpu_cpu_seconds(self):
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for tid in self.vcpu_tids():
            with open(f"/proc/{self.p.pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    def wait_exit(self, timeout=30):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure(f"VM process did not exit within {timeout}s")

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        if self.sock:
            self.sock.close()
        self.tmp.cleanup()


def wait_ctl(vm, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(vm.ctl):
            return
        time.sleep(0.05)
    raise TestFailure("the control socket never appeared")


def run_cli(args, timeout=30):
    p = subprocess.run([VIREO] + args, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


# ---------------------------------------------------------------- tests

def test_control_ops():
    """status, pause (no progress, guest clock keeps up), resume, stats, poweroff."""
    vm = VM(BUSY)
    try:
        wait_ctl(vm)
        st = vm.q({"op": "status"})
        expect(st.get("ok") is True and st["state"] == "running" and st["pid"] == vm.p.pid and st["vcpus"] == 1,
               f"bad status: {st}")
        vm.wait_line(lambda l: l.startswith("CNT="))
        time.sleep(2)
        before = vm.counters()
        expect(len(before) >= 2, "the guest loop makes no progress")
        off_before = before[-1][2] - before[-1][0]
        # pause: no progress
        expect(vm.q({"op": "pause"}) == {"ok": True}, "pause failed")
        time.sleep(0.5)
        n_paused = len(vm.counters())
        cpu0 = vm.vcpu_cpu_seconds()
        st = vm.q({"op": "status"})
        expect(st["state"] == "paused", f"status while paused: {st}")
        time.sleep(5)
        expect(len(vm.counters()) == n_paused, "the guest made progress while paused")
        cpu_used = vm.vcpu_cpu_seconds() - cpu0
        expect(cpu_used < 0.2, f"paused vCPU threads used {cpu_used:.2f}s of CPU in 5 s")
        stats = vm.q({"op": "stats"})
        expect(stats["vcpus"][0]["busy_pct"] < 5, f"busy while paused: {stats}")
        # resume: runs again and the guest's clock kept up
        expect(vm.q({"op": "resume"}) == {"ok": True}, "resume failed")
        vm.wait_line(lambda l: l.startswith("CNT="), after=vm.nlines(), timeout=20)
        time.sleep(1)
        after = vm.counters()
        expect(len(after) > n_paused, "no progress after resume")
        off_after = after[-1][2] - after[-1][0]
        print(f"# guest clock - host clock: {off_before:.2f}s before the pause, {off_after:.2f}s after")
        expect(abs(off_after - off_before) < 2.5, f"guest clock fell behind: {off_before:.2f} -> {off_after:.2f}")
        # stats: sane numbers
        time.sleep(1)
        s = vm.q({"op": "stats"})
        expect(s.get("ok") is True, f"stats failed: {s}")
        v = s["vcpus"][0]
        expect(50 <= v["busy_pct"] <= 100, f"busy_pct of a busy guest: {v}")
        expect(v["instret"] > 10_000_000 and v["steal_ms"] >= 0, f"vcpu stats: {v}")
        i1 = v["instret"]
        time.sleep(0.5)
        expect(vm.q({"op": "stats"})["vcpus"][0]["instret"] > i1, "instret does not grow")
        mem = s["memory"]
        expect(mem["assigned"] == 256 << 20 and 1 << 20 < mem["resident"] <= mem["assigned"], f"memory: {mem}")
        expect(s["disks"] == [] and s["nics"] == [], f"devices: {s}")
        # poweroff: answered, then the process exits 0
        expect(vm.q({"op": "poweroff"}) == {"ok": True}, "poweroff failed")
        rc = vm.wait_exit()
        expect(rc == 0, f"exit status {rc} after poweroff")
        st = vm.read_state()
        expect(st["state"] == "stopped" and st["exit"] == {"status": 0, "reason": "poweroff"}, f"state file: {st}")
        expect(not os.path.exists(vm.ctl), "the control socket was left behind")
    finally:
        vm.close()


def test_poweroff_while_paused():
    """A paused VM can still be powered off."""
    vm = VM(BUSY)
    try:
        wait_ctl(vm)
        vm.wait_line(lambda l: l.startswith("CNT="))
        expect(vm.q({"op": "pause"})["ok"], "pause failed")
        time.sleep(0.5)
        expect(vm.q({"op": "power-button"}) in ({"ok": True}, {"ok": False, "error": "this VM has no power button"}),
               "power-button answer")
        expect(vm.q({"op": "poweroff"}) == {"ok": True}, "poweroff failed")
        expect(vm.wait_exit(10) == 0, "bad exit status")
    finally:
        vm.close()


def test_cpu_cap():
    """--cpu-cap 50: a spinning guest's vCPU thread uses 45-55% of a host CPU."""
    vm = VM(SPIN + " & " + BUSY, extra=["--cpu-cap", "50"])
    try:
        wait_ctl(vm)
        vm.wait_line(lambda l: l.startswith("CNT="), timeout=240)
        time.sleep(1)
        c0, t0 = vm.vcpu_cpu_seconds(), time.monotonic()
        time.sleep(10)
        share = (vm.vcpu_cpu_seconds() - c0) / (time.monotonic() - t0)
        print(f"# capped at 50%: the vCPU thread used {share * 100:.1f}% of a CPU")
        expect(0.45 <= share <= 0.55, f"vCPU thread used {share * 100:.1f}% of a CPU with --cpu-cap 50")
        st = vm.q({"op": "status"})
        expect(st["cpu_cap"] == 50, f"status: {st}")
        # lift it at run time: more than the cap now
        expect(vm.q({"op": "set", "cpu_cap": 100}) == {"ok": True}, "set cpu_cap failed")
        time.sleep(0.5)
        c0, t0 = vm.vcpu_cpu_seconds(), time.monotonic()
        time.sleep(3)
        share = (vm.vcpu_cpu_seconds() - c0) / (time.monotonic() - t0)
        print(f"# uncapped: {share * 100:.1f}%")
        expect(share > 0.7, f"after set cpu_cap 100 the vCPU used only {share * 100:.1f}%")
        # and set a cap at run time
        expect(vm.q({"op": "set", "cpu_cap": 25}) == {"ok": True}, "set cpu_cap failed")
        time.sleep(0.5)
        c0, t0 = vm.vcpu_cpu_seconds(), time.monotonic()
        time.sleep(4)
        share = (vm.vcpu_cpu_seconds() - c0) / (time.monotonic() - t0)
        print(f"# set to 25%: {share * 100:.1f}%")
        expect(0.20 <= share <= 0.30, f"after set cpu_cap 25 the vCPU used {share * 100:.1f}%")
        vm.q({"op": "poweroff"})
        vm.wait_exit()
    finally:
        vm.close()


def allowed_list(pid, tid):
    with open(f"/proc/{pid}/task/{tid}/status") as f:
        for l in f:
            if l.startswith("Cpus_allowed_list:"):
                return l.split(":", 1)[1].strip()
    return None


def test_cpu_affinity():
    """--cpu-affinity pins every vCPU thread; set changes it at run time."""
    ncpu = os.cpu_count()
    first = "0" if ncpu < 2 else "0-1"
    vm = VM(BUSY, cpus=2 if ncpu >= 2 else 1, extra=["--cpu-affinity", first])
    try:
        wait_ctl(vm)
        vm.wait_line(lambda l: l.startswith("CNT="))
        tids = vm.vcpu_tids()
        expect(len(tids) == (2 if ncpu >= 2 else 1), f"vCPU threads: {tids}")
        for tid in tids:
            al = allowed_list(vm.p.pid, tid)
            expect(al == first, f"vcpu thread {tid}: Cpus_allowed_list {al}, expected {first}")
        target = ncpu - 1
        expect(vm.q({"op": "set", "cpu_affinity": [target]}) == {"ok": True}, "set cpu_affinity failed")
        for tid in tids:
            al = allowed_list(vm.p.pid, tid)
            expect(al == str(target), f"after set: Cpus_allowed_list {al}, expected {target}")
        st = vm.q({"op": "status"})
        expect(st["cpu_affinity"] == [target], f"status: {st}")
        r = vm.q({"op": "set", "cpu_affinity": [ncpu + 100]})
        expect(r.get("ok") is False and "CPU" in r.get("error", ""), f"bad CPU accepted: {r}")
        expect(vm.q({"op": "set", "cpu_affinity": []}) == {"ok": True}, "unpinning failed")
        al = allowed_list(vm.p.pid, tids[0])
        expect(al == (f"0-{ncpu - 1}" if ncpu > 1 else "0"), f"unpinned: {al}")
        vm.q({"op": "poweroff"})
        vm.wait_exit()
    finally:
        vm.close()


def test_bad_args():
    """Each bad management option gives one clear error line and exit 2."""
    ncpu = os.cpu_count()
    cases = [
        (["--cpu-cap", "0"], "--cpu-cap"),
        (["--cpu-cap", "101"], "--cpu-cap"),
        (["--cpu-cap", "fifty"], "--cpu-cap"),
        (["--cpu-affinity", str(ncpu + 1000)], "does not exist"),
        (["--cpu-affinity", "0-"], "--cpu-affinity"),
        (["--cpu-affinity", "x"], "--cpu-affinity"),
        (["--cpu-affinity", ""], "--cpu-affinity"),
        (["--name", "-bad"], "--name"),
        (["--name", "a/b"], "--name"),
        (["--control", "/tmp/" + "x" * 200], "--control"),
    ]
    for args, needle in cases:
        rc, so, se = run_cli(["run", "--no-nic"] + args)
        lines = [l for l in se.splitlines() if l.strip()]
        expect(rc == 2 and len(lines) == 1 and needle in lines[0],
               f"vireo run {' '.join(args)}: exit {rc}, stderr {se!r}")
    with tempfile.TemporaryDirectory() as tmp:
        # a control path in a directory that does not exist: one error, state file says error
        st = os.path.join(tmp, "s.state")
        rc, so, se = run_cli(["run", "--no-nic", "--control", os.path.join(tmp, "no/such/dir/c.sock"),
                              "--state-file", st])
        expect(rc != 0 and "control socket" in se, f"bad control path: exit {rc}, {se!r}")
        with open(st) as f:
            s = json.load(f)
        expect(s["state"] == "stopped" and s["exit"]["reason"] == "error", f"state file: {s}")


def test_state_file():
    """running with pid and start time, then stopped with status and reason."""
    vm = VM(BUSY)
    try:
        wait_ctl(vm)
        st = vm.read_state()
        expect(st["state"] == "running" and st["pid"] == vm.p.pid, f"state file: {st}")
        expect(abs(st["started"] / 1e9 - time.time()) < 60, f"start time: {st}")
        expect("exit" not in st, f"state file: {st}")
        expect(oct(os.stat(vm.ctl).st_mode & 0o777) == "0o600", "control socket mode is not 0600")
        vm.q({"op": "poweroff"})
        vm.wait_exit()
        st2 = vm.read_state()
        expect(st2["state"] == "stopped" and st2["pid"] == vm.p.pid and st2["started"] == st["started"] and
               st2["exit"] == {"status": 0, "reason": "poweroff"}, f"state file at exit: {st2}")
        leftovers = [n for n in os.listdir(vm.tmp.name) if ".tmp" in n]
        expect(not leftovers, f"temporary files left: {leftovers}")
    finally:
        vm.close()
    # a guest power-off (not through the control socket)
    with tempfile.TemporaryDirectory() as tmp:
        sf = os.path.join(tmp, "s.state")
        p = subprocess.run([VIREO, "run", "--no-nic", "--state-file", sf, "--append", 'vireo.cmd="true" vireo.poweroff=1'],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=240)
        with open(sf) as f:
            s = json.load(f)
        expect(p.returncode == 0 and s["exit"] == {"status": 0, "reason": "poweroff"}, f"guest power-off: {s}")
    # a guest that cannot continue: exit 3, guest-fault
    with tempfile.TemporaryDirectory() as tmp:
        src, elf = os.path.join(tmp, "bad.S"), os.path.join(tmp, "bad.elf")
        with open(src, "w") as f:
            f.write(".globl _start\n_start:\n li t0, 0x40000000\n jr t0\n")
        ld = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "isa", "link.ld")
        subprocess.run(["riscv64-linux-gnu-gcc", "-nostdlib", "-nostartfiles", "-static", "-Wl,--build-id=none",
                        "-T", ld, "-o", elf, src], check=True)
        sf = os.path.join(tmp, "s.state")
        rc, so, se = run_cli(["run", "--no-nic", "--kernel", "none", "--firmware", elf, "--state-file", sf])
        with open(sf) as f:
            s = json.load(f)
        expect(rc == 3 and s["exit"] == {"status": 3, "reason": "guest-fault"}, f"guest fault: exit {rc}, {s}")


def test_control_errors():
    """Bad JSON, unknown ops, bad set values and overlong lines get errors; the VM carries on."""
    vm = VM(BUSY)
    try:
        wait_ctl(vm)
        vm.wait_line(lambda l: l.startswith("CNT="))
        for req, needle in [("garbage", "JSON"), ("[1,2]", "object"), ('{"op": 5}', "op"), ("{}", "op"),
                            ('{"op": "fly"}', "unknown op"), ('{"op": "set"}', "set"),
                            ('{"op": "set", "cpu_cap": 0}', "cpu_cap"), ('{"op": "set", "cpu_cap": "x"}', "cpu_cap"),
                            ('{"op": "set", "cpu_affinity": "0"}', "cpu_affinity"),
                            ('{"op": "set", "colour": 1}', "unknown setting"),
                            ('{"op": "set", "balloon": 1048576}', "no balloon")]:
            r = vm.q(req)
            expect(r.get("ok") is False and needle in r.get("error", ""), f"{req!r} -> {r}")
        # several clients at once, answers in order
        socks = [vm.connect() for _ in range(5)]
        for s in socks:
            s.sendall(b'{"op":"status"}\n{"op":"stats"}\n')
        for s in socks:
            f = s.makefile("r")
            a, b = json.loads(f.readline()), json.loads(f.readline())
            expect(a.get("state") == "running" and "vcpus" in b and isinstance(b["vcpus"], list), f"{a} {b}")
            s.close()
        # an overlong line: an error, then the connection is closed
        s = vm.connect()
        s.sendall(b'{"op":"status","pad":"' + b"x" * 5000 + b'"}\n')
        f = s.makefile("rb")
        r = json.loads(f.readline())
        expect(r.get("ok") is False and "longer" in r.get("error", ""), f"overlong line: {r}")
        expect(f.readline() == b"", "the connection stayed open after an overlong line")
        s.close()
        # a client that vanishes mid-request
        s = vm.connect()
        s.sendall(b'{"op":"sta')
        s.close()
        # still fine
        n = len(vm.counters())
        expect(vm.q({"op": "status"})["state"] == "running", "status after abuse")
        time.sleep(2)
        expect(len(vm.counters()) > n, "the guest stopped making progress")
        vm.q({"op": "poweroff"})
        expect(vm.wait_exit() == 0, "bad exit status")
    finally:
        vm.close()


# The guest fills its tmpfs with 100 MiB it must keep (random bytes), frees
# it, then reports how much memory its kernel counts as used, every second.
BALLOON_GUEST = ("dd if=/dev/urandom of=/tmp/fill bs=1M count=100 2>/dev/null; echo FILLED; sleep 4; "
                 "rm /tmp/fill; echo FREED; while :; do echo USED=$(free -m | awk '/Mem:/ {print $3}'); "
                 "sleep 1; done")


def test_balloon():
    """--balloon: memory the guest frees goes back to the host (free page
    reporting), and the balloon takes memory from the guest and gives it
    back when asked; bad targets are refused."""
    MiB = 1 << 20
    vm = VM(BALLOON_GUEST, extra=["--balloon", "--memory", "256M"])
    try:
        wait_ctl(vm)

        def mem():
            return vm.q({"op": "stats"})["memory"]

        def wait_mem(pred, what, timeout=15):
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                m = mem()
                if pred(m):
                    return m
                time.sleep(0.25)
            raise TestFailure(f"{what}: not within {timeout}s; memory stats {m}")

        def guest_used():
            vm.wait_line(lambda l: l.startswith("USED="), after=vm.nlines(), timeout=10)
            return int([l for _, l in vm.lines if l.startswith("USED=")][-1][5:])

        vm.wait_line(lambda l: l == "FILLED")
        full = mem()
        expect(full["resident"] >= 100 * MiB, f"100 MiB filled, yet the VM holds only {full}")
        # (The guest also reports the memory that was free at boot.)
        expect(full["balloon"]["target"] == 0 and full["balloon"]["actual"] == 0, f"before: {full}")
        vm.wait_line(lambda l: l == "FREED")
        # Linux reports free blocks about 2 s after they are freed.
        freed = wait_mem(lambda m: m["resident"] <= full["resident"] - 80 * MiB,
                         "the freed 100 MiB did not go back to the host")
        newly = freed["balloon"]["reported"] - full["balloon"]["reported"]
        expect(newly >= 80 * MiB, f"drop without reports? {full} -> {freed}")
        print(f"# resident: {full['resident'] // MiB} MiB filled, {freed['resident'] // MiB} MiB after the guest "
              f"freed it ({newly // MiB} MiB reported since)")
        used0 = guest_used()

        # Inflate: the guest hands over 96 MiB; its kernel counts them as used.
        expect(vm.q({"op": "set", "balloon": 96 * MiB}) == {"ok": True}, "set balloon refused")
        m = wait_mem(lambda m: m["balloon"]["actual"] == 96 * MiB, "the balloon did not reach 96 MiB")
        expect(m["balloon"]["target"] == 96 * MiB and m["balloon"]["inflated"] >= 96 * MiB, f"inflated: {m}")
        used1 = guest_used()
        expect(used1 >= used0 + 90, f"the guest's used memory went from {used0} to {used1} MiB, not +96")
        # the host does not hold the pages the guest gave up
        expect(m["resident"] <= freed["resident"] + 16 * MiB, f"resident grew while inflating: {m}")

        # Deflate: all back.
        expect(vm.q({"op": "set", "balloon": 0}) == {"ok": True}, "set balloon 0 refused")
        m = wait_mem(lambda m: m["balloon"]["actual"] == 0, "the balloon did not deflate")
        expect(m["balloon"]["deflated"] >= 96 * MiB and m["balloon"]["bad_addresses"] == 0, f"deflated: {m}")
        used2 = guest_used()
        expect(used2 <= used0 + 8, f"after deflating the guest still counts {used2} MiB used (was {used0})")

        for bad in (-1, 257 * MiB, "1G", 1.5):
            r = vm.q({"op": "set", "balloon": bad})
            expect(r.get("ok") is False and "balloon" in r.get("error", ""), f"balloon {bad!r} -> {r}")
        expect(vm.q({"op": "poweroff"}) == {"ok": True}, "poweroff failed")
        expect(vm.wait_exit() == 0, "bad exit status")
    finally:
        vm.close()


def test_control_stuck_clients():
    """Clients that cannot be served do not make the VM spin: one that
    hangs up with answers still waiting for room, and connections arriving
    while the VM process is out of file descriptors (the listening socket's
    watch pauses and resumes, so they are served once descriptors free)."""
    # Without the sandbox the VM process keeps this test's user, so the
    # test may lower its descriptor limit (prlimit on a process of another
    # user needs CAP_SYS_RESOURCE, which containers often lack).
    vm = VM("sleep 100000", extra=["--no-sandbox"])
    try:
        wait_ctl(vm)
        vm.wait_line(lambda l: MARKER in l)
        pid = vm.p.pid
        expect(vm.q({"op": "status"})["state"] == "running", "status")
        # answers back up: requests sent, none of the answers read, ...
        s = vm.connect()
        s.setblocking(False)
        sent, end = 0, time.monotonic() + 5
        req = b'{"op":"stats"}\n' * 64
        while time.monotonic() < end:
            try:
                sent += s.send(req)
            except BlockingIOError:
                time.sleep(0.05)
                try:
                    sent += s.send(req)
                except BlockingIOError:
                    break
        # ... then both directions shut, the socket kept open
        s.shutdown(socket.SHUT_RDWR)
        time.sleep(0.5)
        used = harness.cpu_used(pid, 3)
        print(f"{sent} bytes of requests, then a hang-up: the VM used {used:.2f} s of CPU in 3 s")
        expect(used < 1.0, f"the VM spins after a client hung up with answers pending: {used:.2f} s of CPU in 3 s")
        s.close()
        expect(vm.q({"op": "status"})["state"] == "running", "status after the hang-up")
        # out of descriptors: accept fails while a connection is pending
        vm.f.close()
        vm.sock.close()
        vm.sock = vm.f = None
        old, fillers = harness.exhaust_fds(pid, vm.connect)
        try:
            waiting = vm.connect()
            waiting.sendall(b'{"op":"status"}\n')
            time.sleep(0.5)
            used = harness.cpu_used(pid, 3)
            print(f"a connection pending while out of descriptors: the VM used {used:.2f} s of CPU in 3 s")
            expect(used < 1.0, f"the VM spins on a connection it cannot accept: {used:.2f} s of CPU in 3 s")
            expect("cannot accept connections" in vm.output(), "no log line about the failed accept")
        finally:
            harness.restore_fds(pid, old)
            for f in fillers:
                f.close()
        # descriptors back: the waiting connection is served
        f = waiting.makefile("r")
        line = f.readline()
        expect(line and json.loads(line).get("state") == "running", f"the waiting connection got {line!r}")
        waiting.close()
        vm.q({"op": "poweroff"})
        expect(vm.wait_exit() == 0, "bad exit status")
    finally:
        vm.close()


def seccomp_mode(pid):
    with open(f"/proc/{pid}/status") as f:
        for l in f:
            if l.startswith("Seccomp:"):
                return int(l.split()[1])
    return None


def test_sandbox():
    """The seccomp filter is on: a forbidden call kills the VM process with
    SIGSYS and a line naming the call; a VM with a disk, NAT and an
    on-demand intnet works under it, through a guest reset; --no-sandbox
    leaves it off."""
    env = dict(os.environ, VIREO_SANDBOX_SELFTEST="1")
    p = subprocess.run([VIREO, "run", "--no-nic"], env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    err = p.stderr.decode(errors="replace")
    expect(p.returncode == -signal.SIGSYS, f"the self-test exited {p.returncode}, not by SIGSYS: {err}")
    expect("forbidden system call personality" in err, f"no line naming the call: {err!r}")
    with tempfile.TemporaryDirectory() as tmp:
        disk = os.path.join(tmp, "d.img")
        with open(disk, "wb") as f:
            f.truncate(8 << 20)
        rt = os.path.join(tmp, "rt")
        os.mkdir(rt, 0o700)
        # Boot 1 writes random blocks and a mark, pings, resets; boot 2
        # (the mark is on the disk) sums the blocks and powers off.
        cmd = ("if [ x$(dd if=/dev/vda bs=5 count=1 2>/dev/null) != xAGAIN ]; then "
               "dd if=/dev/urandom of=/dev/vda bs=4k seek=1 count=16 conv=fsync 2>/dev/null; "
               "for i in 1 2 3 4 5 6 7 8 9 10; do ping -c 1 -W 1 10.0.2.2 >/dev/null && echo PING-OK && break; "
               "sleep 1; done; printf AGAIN | dd of=/dev/vda conv=fsync 2>/dev/null; reboot -f; fi; "
               "dd if=/dev/vda bs=4k skip=1 count=16 2>/dev/null | md5sum | sed s/^/SUM=/; poweroff -f")
        os.environ["VIREO_RUNTIME_DIR"] = rt     # the on-demand switch's sockets
        vm = VM(cmd, extra=["--disk", disk, "--nic", "nat", "--nic", "intnet=sbx"])
        try:
            vm.wait_line(lambda l: l == "PING-OK", timeout=120)
            expect(seccomp_mode(vm.p.pid) == 2, "the VM process has no seccomp filter")
            _, line = vm.wait_line(lambda l: l.startswith("SUM="), timeout=120)
            expect(vm.wait_exit() == 0, f"the VM did not power off cleanly: {vm.output()[-2000:]}")
            with open(disk, "rb") as f:
                f.seek(4096)
                want = hashlib.md5(f.read(16 * 4096)).hexdigest()
            expect(line.split("=", 1)[1].split()[0] == want, f"the guest read back {line}, the file has {want}")
        finally:
            vm.close()
            subprocess.run(["pkill", "-f", "switch --kind intnet --name sbx"], capture_output=True)
            del os.environ["VIREO_RUNTIME_DIR"]
    vm = VM("sleep 60", extra=["--no-sandbox"])
    try:
        wait_ctl(vm)
        vm.wait_line(lambda l: MARKER in l)
        expect(seccomp_mode(vm.p.pid) == 0, "--no-sandbox still filtered")
        vm.q({"op": "poweroff"})
        vm.wait_exit()
    finally:
        vm.close()


def proc_ids(pid):
    """Uid, Gid and Groups of a process, as lists of numbers."""
    ids = {}
    with open(f"/proc/{pid}/status") as f:
        for l in f:
            k, _, v = l.partition(":")
            if k in ("Uid", "Gid", "Groups"):
                ids[k] = [int(x) for x in v.split()]
    return ids


def children(pid, comm):
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    st = f.read()
            except OSError:
                continue
            name, rest = st[st.index("(") + 1:st.rindex(")")], st[st.rindex(")") + 2:].split()
            if name == comm and int(rest[1]) == pid:
                found.append(int(d))
    return found


def switch_report(env, name):
    p = subprocess.run([VIREO, "switch", "--status", "--json", "--kind", "intnet", "--name", name], env=env,
                       capture_output=True, text=True, timeout=10)
    return json.loads(p.stdout) if p.returncode == 0 else None


def test_user_drop():
    """Started as root, the VM process becomes nobody, with no groups, before
    the guest runs; its broker stays root and does for it what it can no
    longer do: the console log rotates at 1 MiB, an on-demand switch killed
    under it is started again and the adapter plugs back in, and at exit
    the state file says stopped and the sockets are gone. --user picks
    another user; root, unknown users and --user with --no-sandbox are
    refused."""
    if os.geteuid() != 0:
        print("SKIP: needs root")
        sys.exit(77)
    for args, needle in ((["--user", "root"], "not root"), (["--user", "no-such-user-x"], "no such user"),
                         (["--user", "nobody:no-such-group-x"], "no such group"),
                         (["--user", "nobody", "--no-sandbox"], "--no-sandbox")):
        rc, so, se = run_cli(["run", "--no-nic"] + args)
        expect(rc != 0 and needle in se, f"vireo run {' '.join(args)}: expected a refusal naming {needle!r}: {se!r}")
    with tempfile.TemporaryDirectory() as tmp:
        rt = os.path.join(tmp, "rt")
        os.mkdir(rt, 0o700)
        env = dict(os.environ, VIREO_RUNTIME_DIR=rt)
        paths = {k: os.path.join(tmp, k) for k in ("ctl", "con", "log", "state")}
        cmd = "yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 1300000; echo LOG-$((1+1))FILLED; sleep 600"
        p = subprocess.Popen([VIREO, "run", "--name", "ud", "--nic", "intnet=ud", "--control", paths["ctl"],
                              "--console-socket", paths["con"], "--console-log", paths["log"],
                              "--state-file", paths["state"], "--append", f'vireo.cmd="{cmd}"'],
                             env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            def log_has(needle):
                try:
                    with open(paths["log"], errors="replace") as f:
                        return needle in f.read()
                except OSError:
                    return False
            end = time.monotonic() + 120
            while not log_has("LOG-2FILLED"):
                expect(time.monotonic() < end and p.poll() is None, "the guest never filled its console log")
                time.sleep(0.2)
            ids = proc_ids(p.pid)
            print(f"# VM process: {ids}")
            expect(ids["Uid"] == [65534] * 4 and ids["Gid"][0] == ids["Gid"][3] and ids["Groups"] == [],
                   f"the VM process did not become nobody without groups: {ids}")
            brokers = children(p.pid, "vireo-broker")
            expect(len(brokers) == 1 and proc_ids(brokers[0])["Uid"][1] == 0, f"no root broker: {brokers}")
            rotated = os.path.getsize(paths["log"] + ".1")
            expect(rotated == 1 << 20 and os.path.getsize(paths["log"]) < 1 << 20,
                   f"the log did not rotate at 1 MiB: {rotated} and {os.path.getsize(paths['log'])} bytes")
            expect(os.stat(paths["log"]).st_uid == 0 and os.stat(paths["log"]).st_mode & 0o077 == 0,
                   "the new log is not root's alone")
            # Kill the on-demand switch: the adapter plugs into a new one
            # that the broker starts and connects it to.
            r = switch_report(env, "ud")
            expect(r and len(r["ports"]) == 1, f"the VM is not on its switch: {r}")
            os.kill(r["pid"], signal.SIGKILL)
            end = time.monotonic() + 20
            while True:
                r2 = switch_report(env, "ud")
                if r2 and r2["pid"] != r["pid"] and len(r2["ports"]) == 1:
                    break
                expect(time.monotonic() < end, f"no new switch with the VM plugged in within 20 s: {r2}")
                time.sleep(0.2)
            print(f"# switch {r['pid']} killed; {r2['pid']} has the VM's port {r2['ports'][0]['client']}")
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(paths["ctl"])
            s.sendall(b'{"op": "poweroff"}\n')
            s.recv(4096)
            s.close()
            expect(p.wait(30) == 0, f"vireo run exited {p.returncode}")
            with open(paths["state"]) as f:
                st = json.load(f)
            expect(st.get("state") == "stopped", f"state file after exit: {st}")
            expect(not os.path.exists(paths["ctl"]) and not os.path.exists(paths["con"]),
                   "the control or console socket is left behind")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            subprocess.run(["pkill", "-f", "switch --kind intnet --name ud"], capture_output=True)
    vm = VM("sleep 60", extra=["--user", "daemon"])
    try:
        wait_ctl(vm)
        vm.wait_line(lambda l: MARKER in l)
        ids = proc_ids(vm.p.pid)
        expect(ids["Uid"][0] == 1 and ids["Gid"][0] == 1, f"--user daemon: the VM process has {ids}")
        vm.q({"op": "poweroff"})
        expect(vm.wait_exit() == 0, "the VM did not power off")
        expect(vm.read_state().get("state") == "stopped", "no stopped state with --user daemon")
    finally:
        vm.close()


if __name__ == "__main__":
    sys.exit(harness.main(globals()))
