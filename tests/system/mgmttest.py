#!/usr/bin/env python3
"""System tests of managed VMs: a real vireod started on demand by the
`vireo vm` CLI, real guests (docs/management.md, docs/cli.md).
`mgmttest.py VIREO NAME` runs one test. Each test has its own data
directory and runtime directory and kills its daemon at the end.
"""
import http.client
import json
import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import harness
from harness import TestFailure, expect

MARKER = "VIREO-GUEST-READY"
VIREO = None
SPIN = 'vireo.cmd="while :; do :; done"'




class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("vireo", timeout=120)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def alive(pid):
    """A process that runs (a zombie waiting for its parent does not)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def read_event(resp, pred, timeout=30):
    """The first event on the stream that pred accepts."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = resp.readline()
        expect(line, "the event stream ended")
        ev = json.loads(line)
        print("# event", ev)
        if pred(ev):
            return ev
    raise TestFailure("no matching event within %d s" % timeout)


class Home:
    """A data directory with its own daemon."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vireo-mgmt-")
        self.env = dict(os.environ, VIREO_HOME=os.path.join(self.dir, "home"),
                        VIREO_RUNTIME_DIR=os.path.join(self.dir, "rt"))
        os.makedirs(self.env["VIREO_RUNTIME_DIR"], mode=0o700)

    def cli(self, *args, timeout=120):
        p = subprocess.run([VIREO] + list(args), env=self.env, capture_output=True, timeout=timeout)
        out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        print("# vireo %s -> %d %s%s" % (" ".join(args), p.returncode, out.strip()[:300], err.strip()[:300]))
        return p.returncode, out, err

    def ok(self, *args, **kw):
        rc, out, err = self.cli(*args, **kw)
        expect(rc == 0, "vireo %s failed (%d): %s" % (" ".join(args), rc, err))
        return out

    def vms(self):
        return {v["name"]: v for v in json.loads(self.ok("vm", "list", "--json"))}

    def console_log(self, name):
        try:
            with open(os.path.join(self.env["VIREO_HOME"], "logs", name + ".console.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_console(self, name, needle, timeout=60, count=1):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.console_log(name).count(needle) >= count:
                return
            time.sleep(0.2)
        raise TestFailure("%s: %r did not appear on the console; tail:\n%s" % (name, needle, self.console_log(name)[-2000:]))

    def api(self, method, path, body=None, raw=None, quiet=False):
        """One API request on the daemon's socket: (status, decoded JSON)."""
        c = UnixHTTP(os.path.join(self.env["VIREO_HOME"], "run", "api.sock"))
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        c.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
        r = c.getresponse()
        text = r.read().decode(errors="replace")
        c.close()
        if not quiet:
            print("# %s %s -> %d %s" % (method, path, r.status, text.strip()[:200]))
        try:
            return r.status, json.loads(text)
        except ValueError:
            raise TestFailure("%s %s: answer is not JSON: %r" % (method, path, text[:200]))

    def events(self):
        """An open event stream: a response whose lines are events."""
        c = UnixHTTP(os.path.join(self.env["VIREO_HOME"], "run", "api.sock"))
        c.request("GET", "/v1/events")
        r = c.getresponse()
        expect(r.status == 200, "GET /v1/events: %d" % r.status)
        return c, r

    def pid_of(self, name):
        return self.vms()[name].get("pid")

    def ctl(self, name, req):
        """Ask the VM process directly on its control socket (no daemon)."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(os.path.join(self.env["VIREO_HOME"], "run", "vms", name + ".ctl"))
        f = s.makefile("rw")
        f.write(json.dumps(req) + "\n")
        f.flush()
        ans = json.loads(f.readline())
        s.close()
        return ans

    def instret(self, name):
        return sum(v["instret"] for v in self.ctl(name, {"op": "stats"})["vcpus"])

    def wait_state(self, name, state, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.vms().get(name, {}).get("state")
            if st == state:
                return
            time.sleep(0.2)
        raise TestFailure("%s: state %s, expected %s" % (name, st, state))

    def boot(self, *names):
        """Create and start small VMs without NICs; wait for their markers."""
        for n in names:
            self.ok("vm", "create", n, "--memory", "128M", "--nic1", "none")
            self.ok("vm", "start", n)
        for n in names:
            self.wait_console(n, MARKER)

    def daemon_pids(self):
        p = subprocess.run(["pgrep", "-f", "vireod --data-dir %s" % self.env["VIREO_HOME"]], capture_output=True)
        return [int(x) for x in p.stdout.split()]

    def close(self):
        for pid in self.daemon_pids():
            os.kill(pid, signal.SIGTERM)
        subprocess.run(["pkill", "-9", "-f", self.env["VIREO_HOME"]], capture_output=True)
        time.sleep(0.5)
        shutil.rmtree(self.dir, ignore_errors=True)


def test_lifecycle():
    """Create, list, start, console, pause/resume, stop (the guest shuts
    down), start again, definitions survive a daemon restart, delete."""
    h = Home()
    try:
        h.ok("vm", "create", "web", "--memory", "128M", "--nic1", "none")
        vms = h.vms()
        expect(vms["web"]["state"] == "stopped" and vms["web"]["cpus"] == 1 and vms["web"]["memory"] == 128 << 20,
               "unexpected listing: %s" % vms)
        h.ok("vm", "start", "web")
        h.wait_console("web", MARKER)
        expect(h.vms()["web"]["state"] == "running", "not running after start")
        h.ok("vm", "pause", "web")
        expect(h.vms()["web"]["state"] == "paused", "not paused")
        h.ok("vm", "resume", "web")
        expect(h.vms()["web"]["state"] == "running", "not running after resume")
        out = h.ok("vm", "stop", "web", "--timeout", "60")
        expect("shut down" in out, "stop did not report a guest shutdown: %r" % out)
        expect("power button pressed" in h.console_log("web"), "the guest did not see the power button")
        expect(h.vms()["web"]["state"] == "stopped", "not stopped after stop")
        # again, and across a daemon restart while it runs
        h.ok("vm", "start", "web")
        h.wait_console("web", MARKER, count=2)
        for pid in h.daemon_pids():
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        expect(h.vms()["web"]["state"] == "running", "the VM was not found again after a daemon kill")
        h.ok("vm", "poweroff", "web")
        deadline = time.monotonic() + 20
        while h.vms()["web"]["state"] != "stopped" and time.monotonic() < deadline:
            time.sleep(0.2)
        expect(h.vms()["web"]["state"] == "stopped", "poweroff did not stop it")
        for pid in h.daemon_pids():
            os.kill(pid, signal.SIGTERM)
        time.sleep(0.5)
        expect("web" in h.vms(), "the definition did not survive a daemon restart")
        h.ok("vm", "delete", "web")
        expect(h.vms() == {}, "delete left it listed")
    finally:
        h.close()


def test_bad_input():
    """Each bad request gets one clear error and changes nothing."""
    h = Home()
    try:
        h.ok("vm", "create", "a", "--memory", "64M", "--nic1", "none")
        h.ok("vm", "create", "k", "--memory", "64M", "--nic1", "none", "--kernel", "/nonexistent/Image")
        before = h.vms()
        cases = [
            (["vm", "create", "a"], 1, "already exists"),
            (["vm", "create", "x/y"], 2, "not a valid VM name"),
            (["vm", "create", "b\x01"], 2, "not a valid VM name"),
            (["vm", "create", "b", "--cpus", str((os.cpu_count() or 1) + 1)], 1, "cpus"),
            (["vm", "create", "b", "--memory", "100T"], 1, "memory"),
            (["vm", "create", "b", "--nic1", "natnetwork=nosuchnet"], 1, "nosuchnet"),
            (["vm", "create", "b", "--bogus"], 2, "unknown option"),
            (["vm", "start", "nosuch"], 1, "nosuch"),
            (["vm", "pause", "a"], 1, "not running"),
            (["vm", "start", "k"], 1, "/nonexistent/Image"),
            (["vm", "modify", "nosuch", "--cpus", "1"], 1, "nosuch"),
            (["net", "create", "n1", "--kind", "bogus"], 1, "kind"),
        ]
        for args, code, needle in cases:
            rc, out, err = h.cli(*args)
            expect(rc == code, "vireo %s: exit %d, expected %d (%r)" % (" ".join(args), rc, code, err))
            expect(needle in err, "vireo %s: error %r does not mention %r" % (" ".join(args), err, needle))
            expect(len(err.strip().splitlines()) <= 2, "vireo %s: too chatty: %r" % (" ".join(args), err))
        expect(h.vms() == before, "a refused request changed the VMs: %s" % h.vms())
        files = sorted(os.listdir(os.path.join(h.env["VIREO_HOME"], "vms")))
        expect(files == ["a.json", "k.json"], "a refused request left files: %s" % files)
    finally:
        h.close()


def test_vm_kill():
    """kill -9 of one VM process: it becomes aborted (with an event), the
    other VM keeps running; the aborted VM starts again."""
    h = Home()
    try:
        h.boot("a", "b")
        conn, ev = h.events()
        pa, pb = h.pid_of("a"), h.pid_of("b")
        os.kill(pa, signal.SIGKILL)
        e = read_event(ev, lambda e: e.get("vm") == "a")
        expect(e["state"] == "aborted" and "signal 9" in e.get("reason", ""), "event: %s" % e)
        conn.close()
        vms = h.vms()
        expect(vms["a"]["state"] == "aborted", "a: %s" % vms["a"])
        expect(vms["b"]["state"] == "running" and vms["b"]["pid"] == pb, "b was disturbed: %s" % vms["b"])
        i0 = h.instret("b")
        time.sleep(1)
        expect(h.instret("b") > i0, "b stopped executing after a was killed")
        show = h.ok("vm", "show", "a")
        expect("aborted" in show, "show does not say aborted: %r" % show)
        # an aborted VM starts again, and can be deleted only when not running
        h.ok("vm", "start", "a")
        h.wait_console("a", MARKER, count=2)
        expect(h.vms()["a"]["state"] == "running", "a did not run again")
        for n in ("a", "b"):
            h.ok("vm", "poweroff", n)
        h.wait_state("a", "stopped")
        h.wait_state("b", "stopped")
        # SIGTERM stops a VM (as poweroff does) rather than aborting it
        h.ok("vm", "start", "b")
        h.wait_console("b", MARKER, count=2)
        os.kill(h.pid_of("b"), signal.SIGTERM)
        h.wait_state("b", "stopped")
    finally:
        h.close()


def test_daemon_kill():
    """kill -9 of the daemon: running and paused VMs go on (a running guest
    keeps executing), and the restarted daemon finds them again, notices
    when one exits and when one is killed."""
    h = Home()
    try:
        h.boot("a", "b")
        h.ok("vm", "pause", "b")
        pids = {n: h.pid_of(n) for n in ("a", "b")}
        for pid in h.daemon_pids():
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        expect(not h.daemon_pids(), "the daemon survived kill -9")
        expect(all(alive(p) for p in pids.values()), "a VM process died with the daemon")
        i0 = h.instret("a")
        time.sleep(1)
        expect(h.instret("a") > i0, "a stopped executing without the daemon")
        ib = h.instret("b")
        time.sleep(0.5)
        expect(h.instret("b") == ib, "b ran while paused")
        vms = h.vms()      # starts a new daemon
        expect(vms["a"]["state"] == "running" and vms["a"]["pid"] == pids["a"], "a not found again: %s" % vms["a"])
        expect(vms["b"]["state"] == "paused" and vms["b"]["pid"] == pids["b"], "b not found again: %s" % vms["b"])
        rc, out = h.api("GET", "/v1/host")
        expect(out["vms_running"] == 2 and out["vcpus_running"] == 2, "host totals: %s" % out)
        h.ok("vm", "resume", "b")
        conn, ev = h.events()
        # the re-attached processes are not the new daemon's children
        os.kill(pids["a"], signal.SIGKILL)
        e = read_event(ev, lambda e: e.get("vm") == "a")
        expect(e["state"] == "aborted", "a: %s" % e)
        out = h.ok("vm", "stop", "b", "--timeout", "60")
        expect("shut down" in out, "stop of a re-attached VM: %r" % out)
        e = read_event(ev, lambda e: e.get("vm") == "b")
        expect(e["state"] == "stopped", "b: %s" % e)
        conn.close()
        vms = h.vms()
        expect(vms["a"]["state"] == "aborted" and vms["b"]["state"] == "stopped", "states: %s" % vms)
    finally:
        h.close()


def test_net_daemon_restart():
    """A defined network's switch outlives a daemon kill; the new daemon
    adopts it (same process), reports its ports (net show) and stops it
    when the network is deleted."""
    h = Home()
    try:
        h.ok("net", "create", "lan", "--kind", "intnet")
        nets = json.loads(h.ok("net", "list", "--json"))
        expect(len(nets) == 1 and nets[0]["state"] == "running" and nets[0].get("pid"), "net list: %s" % nets)
        pid = nets[0]["pid"]
        for d in h.daemon_pids():
            os.kill(d, signal.SIGKILL)
        time.sleep(0.5)
        expect(alive(pid), "the switch died with the daemon")
        nets = json.loads(h.ok("net", "list", "--json"))
        expect(nets[0]["state"] == "running" and nets[0].get("pid") == pid, "not adopted: %s" % nets)
        # `net show` carries the switch's own report: a VM on the network
        # is a port named after it, with its MAC and counters.
        h.ok("vm", "create", "onlan", "--memory", "128M", "--nic1", "intnet=lan")
        h.ok("vm", "start", "onlan")
        h.wait_console("onlan", MARKER)
        deadline = time.monotonic() + 15
        while True:  # until the guest's DHCP client has sent something
            show = json.loads(h.ok("net", "show", "lan", "--json"))
            ports = show.get("switch", {}).get("ports", [])
            if (ports and ports[0]["rx_frames"] > 0) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        expect(show.get("switch", {}).get("pid") == pid and [p["client"] for p in ports] == ["onlan nic1"]
               and ports[0]["rx_frames"] > 0, "net show lan: %s" % show)
        table = h.ok("net", "show", "lan")
        expect("onlan nic1" in table and ports[0]["mac"] in table, "net show prints no port table:\n" + table)
        h.ok("vm", "poweroff", "onlan")
        h.ok("vm", "delete", "onlan")
        h.ok("net", "delete", "lan")
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        expect(not alive(pid), "deleting the network left its switch running")
        expect(json.loads(h.ok("net", "list", "--json")) == [], "the network is still listed")
    finally:
        h.close()


def open_fds(pid):
    return sorted(os.readlink("/proc/%d/fd/%s" % (pid, fd)) for fd in os.listdir("/proc/%d/fd" % pid))


def tree(path):
    out = []
    for root, dirs, files in os.walk(path):
        out += [os.path.relpath(os.path.join(root, f), path) for f in files]
    return sorted(out)


def test_cycles():
    """100 create/start/stop/delete cycles leave no process, fd, socket or
    file behind."""
    h = Home()
    try:
        h.ok("vm", "list")                      # the daemon is up
        (daemon,) = h.daemon_pids()
        fds0, files0 = open_fds(daemon), tree(h.dir)
        t0 = time.monotonic()
        for i in range(100):
            n = "c%d" % i
            h.ok("vm", "create", n, "--memory", "64M", "--nic1", "none")
            h.ok("vm", "start", n)
            h.wait_console(n, MARKER)
            out = h.ok("vm", "stop", n, "--timeout", "60")
            expect("shut down" in out, "cycle %d: the guest did not shut down: %r" % (i, out))
            h.ok("vm", "delete", n)
        print("# 100 cycles in %.0f s" % (time.monotonic() - t0))
        expect(h.daemon_pids() == [daemon], "the daemon changed: %s" % h.daemon_pids())
        left = subprocess.run(["pgrep", "-f", "vireo run.*%s" % h.env["VIREO_HOME"]], capture_output=True).stdout
        expect(not left.strip(), "VM processes left: %s" % left)
        zombies = subprocess.run(["ps", "--ppid", str(daemon), "-o", "pid=,stat="], capture_output=True).stdout
        expect(not zombies.strip(), "children of the daemon left: %s" % zombies)
        fds1 = open_fds(daemon)
        expect(len(fds1) == len(fds0), "the daemon's fds grew from %d to %d: %s" % (len(fds0), len(fds1), fds1))
        files1 = tree(h.dir)
        expect(files1 == files0, "files left: %s" % sorted(set(files1) - set(files0)))
        expect(h.vms() == {}, "VMs left: %s" % h.vms())
    finally:
        h.close()


def vcpu_seconds(pid):
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                if not f.read().startswith("vcpu"):
                    continue
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / tick


def cpu_share(pid, seconds):
    c0, t0 = vcpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (vcpu_seconds(pid) - c0) / (time.monotonic() - t0)


def test_cpu_cap():
    """A spinning vCPU capped at 50% through the CLI uses 45-55% of a host
    CPU over 10 s; a cap changed through the API applies at once."""
    h = Home()
    try:
        h.ok("vm", "create", "busy", "--memory", "128M", "--nic1", "none", "--cpu-cap", "50",
             "--append", SPIN)
        h.ok("vm", "start", "busy")
        h.wait_console("busy", MARKER)
        time.sleep(1)
        pid = h.pid_of("busy")
        share = cpu_share(pid, 10)
        print("# capped at 50%%: %.1f%% of a host CPU" % (share * 100))
        expect(0.45 <= share <= 0.55, "vCPU used %.1f%% of a CPU with --cpu-cap 50" % (share * 100))
        rc, vm = h.api("PATCH", "/v1/vms/busy", {"cpu_cap": 25})
        expect(rc == 200 and vm["cpu_cap"] == 25, "PATCH cpu_cap: %d %s" % (rc, vm))
        time.sleep(0.5)
        share = cpu_share(pid, 4)
        print("# set to 25%%: %.1f%%" % (share * 100))
        expect(0.20 <= share <= 0.30, "after cpu_cap 25 the vCPU used %.1f%%" % (share * 100))
        h.ok("vm", "modify", "busy", "--cpu-cap", "100")
        time.sleep(0.5)
        share = cpu_share(pid, 3)
        print("# uncapped: %.1f%%" % (share * 100))
        expect(share > 0.7, "uncapped, the vCPU used only %.1f%%" % (share * 100))
        out = h.ok("vm", "show", "busy", "--stats")
        expect("busy" in out and "instructions" in out, "show --stats: %r" % out)
        h.ok("vm", "poweroff", "busy")
    finally:
        h.close()


def test_balloon():
    """A managed VM with a balloon: created with a size the guest hands over
    at start, resized while running (CLI and API), refused when it would be
    added or removed while running or when malformed, removed when stopped."""
    MiB = 1 << 20
    h = Home()

    def wait_actual(name, size, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            b = h.ctl(name, {"op": "stats"})["memory"].get("balloon")
            if b and b["actual"] == size and b["target"] == size:
                return b
            time.sleep(0.2)
        raise TestFailure("%s: the balloon did not reach %d bytes: %s" % (name, size, b))

    try:
        h.ok("vm", "create", "bal", "--memory", "128M", "--nic1", "none", "--balloon", "16M")
        expect("balloon:  16M" in h.ok("vm", "show", "bal"), "vm show does not give the balloon")
        h.ok("vm", "start", "bal")
        h.wait_console("bal", MARKER)
        wait_actual("bal", 16 * MiB)
        h.ok("vm", "modify", "bal", "--balloon", "48M")
        wait_actual("bal", 48 * MiB)
        rc, vm = h.api("PATCH", "/v1/vms/bal", {"balloon": 32 * MiB})
        expect(rc == 200 and vm["balloon"] == 32 * MiB, "PATCH balloon: %d %s" % (rc, vm))
        wait_actual("bal", 32 * MiB)
        out = h.ok("vm", "show", "bal", "--stats")
        expect("balloon:  32.0M given up of 32.0M asked" in out, "show --stats: %r" % out)
        rc, _, err = h.cli("vm", "modify", "bal", "--balloon", "off")
        expect(rc == 1 and "only while it is stopped" in err, "removing a running VM's balloon: %d %s" % (rc, err))
        for bad in (4095, -4096, 129 * MiB, "16M", True):
            rc, ans = h.api("PATCH", "/v1/vms/bal", {"balloon": bad})
            expect(rc == 422 and "balloon" in ans.get("error", ""), "balloon %r: %d %s" % (bad, rc, ans))
        rc, _, err = h.cli("vm", "modify", "bal", "--balloon", "12x")
        expect(rc == 2 and "--balloon" in err, "--balloon 12x: %d %s" % (rc, err))
        expect(h.vms()["bal"]["balloon"] == 32 * MiB, "a refused change stuck: %s" % h.vms()["bal"])
        h.ok("vm", "poweroff", "bal")
        h.wait_state("bal", "stopped")
        h.ok("vm", "modify", "bal", "--balloon", "off")
        expect("balloon" not in h.ok("vm", "show", "bal"), "the balloon is still shown")
        h.ok("vm", "start", "bal")
        h.wait_console("bal", MARKER, count=2)
        expect("balloon" not in h.ctl("bal", {"op": "stats"})["memory"], "a balloon without one defined")
        rc, _, err = h.cli("vm", "modify", "bal", "--balloon", "8M")
        expect(rc == 1 and "only while it is stopped" in err, "adding a balloon while running: %d %s" % (rc, err))
        h.ok("vm", "poweroff", "bal")
    finally:
        h.close()


def test_api():
    """The lifecycle through the HTTP API with the event stream, and every
    bad request: its status, one error sentence, nothing changed."""
    h = Home()
    try:
        h.ok("vm", "list")     # starts the daemon
        rc, vm = h.api("POST", "/v1/vms", {"name": "api1", "memory": 128 << 20, "nics": [{"spec": "none"}]})
        expect(rc == 201 and vm["state"] == "stopped" and vm["memory"] == 128 << 20, "create: %d %s" % (rc, vm))
        rc, lst = h.api("GET", "/v1/vms")
        expect(rc == 200 and [v["name"] for v in lst] == ["api1"], "list: %s" % lst)
        conn, ev = h.events()
        rc, vm = h.api("POST", "/v1/vms/api1/start")
        expect(rc == 200 and vm["state"] == "running" and alive(vm["pid"]), "start: %d %s" % (rc, vm))
        e = read_event(ev, lambda e: e.get("vm") == "api1")
        expect(e["state"] == "running", "event: %s" % e)
        h.wait_console("api1", MARKER)
        rc, st = h.api("GET", "/v1/vms/api1/stats")
        expect(rc == 200 and st["vcpus"][0]["instret"] > 0 and st["memory"]["assigned"] == 128 << 20,
               "stats: %s" % st)
        rc, vm = h.api("POST", "/v1/vms/api1/pause")
        expect(rc == 200 and vm["state"] == "paused", "pause: %s" % vm)
        rc, vm = h.api("POST", "/v1/vms/api1/resume")
        expect(rc == 200 and vm["state"] == "running", "resume: %s" % vm)
        rc, vm = h.api("POST", "/v1/vms/api1/stop", {"timeout": 60})
        expect(rc == 200 and vm["state"] == "stopped" and vm["stop"]["how"] == "guest-shutdown", "stop: %s" % vm)
        e = read_event(ev, lambda e: e.get("vm") == "api1" and e["state"] != "paused" and e["state"] != "running")
        expect(e["state"] == "stopped" and e.get("reason") == "poweroff", "event: %s" % e)
        conn.close()

        # bad requests, with api1 running and api2 stopped
        rc, vm = h.api("POST", "/v1/vms/api1/start")
        expect(rc == 200, "start again: %s" % vm)
        rc, _ = h.api("POST", "/v1/vms", {"name": "api2", "memory": 64 << 20, "nics": []})
        expect(rc == 201, "create api2")
        vms_dir = os.path.join(h.env["VIREO_HOME"], "vms")

        def snapshot():
            out = {}
            for f in sorted(os.listdir(vms_dir)):
                with open(os.path.join(vms_dir, f), "rb") as fh:
                    out[f] = fh.read()
            return out, h.api("GET", "/v1/vms")[1], h.api("GET", "/v1/networks")[1]

        before = snapshot()
        ncpu = os.cpu_count() or 1
        cases = [
            ("POST", "/v1/vms", None, b'{"name":', 400, "malformed"),
            ("POST", "/v1/vms", None, b'{"name":"d","name":"e"}', 400, "name"),
            ("POST", "/v1/vms", None, b"[1, 2]", 422, "object"),
            ("POST", "/v1/vms", None, b'{"name":"big","append":"' + b"x" * 70000 + b'"}', 413, ""),
            ("POST", "/v1/vms", {"name": "x", "colour": "red"}, None, 422, "colour"),
            ("POST", "/v1/vms", {"name": "api1"}, None, 409, "already exists"),
            ("POST", "/v1/vms", {"name": "a/b"}, None, 422, "name"),
            ("POST", "/v1/vms", {"name": "a\x01b"}, None, 422, "name"),
            ("POST", "/v1/vms", {"name": "big", "cpus": ncpu + 1}, None, 422, "cpus"),
            ("POST", "/v1/vms", {"name": "big", "memory": 1 << 50}, None, 422, "memory"),
            ("POST", "/v1/vms", {"name": "big", "cpus": "2"}, None, 422, "cpus"),
            ("POST", "/v1/vms", {"name": "n", "nics": [{"spec": "natnetwork=nosuch"}]}, None, 422, "nosuch"),
            ("POST", "/v1/vms", {"name": "n", "disks": [{"path": "relative.img"}]}, None, 422, "absolute"),
            ("POST", "/v1/vms", {"name": "n", "uuid": "1234"}, None, 422, "uuid"),
            ("PATCH", "/v1/vms/api1", {"memory": 1 << 30}, None, 409, "running"),
            ("PATCH", "/v1/vms/api2", {"cpu_cap": 0}, None, 422, "cpu_cap"),
            ("PATCH", "/v1/vms/api2", {"name": "other"}, None, 422, "name"),
            ("POST", "/v1/vms/api1/start", None, None, 409, "running"),
            ("POST", "/v1/vms/api1/resume", None, None, 409, "not paused"),
            ("POST", "/v1/vms/api2/pause", None, None, 409, "not running"),
            ("GET", "/v1/vms/api2/stats", None, None, 409, "stopped"),
            ("POST", "/v1/vms/api2/stop", {"timeout": -1}, None, 409, ""),
            ("POST", "/v1/vms/api1/stop", {"timeout": "soon"}, None, 422, "timeout"),
            ("DELETE", "/v1/vms/api1", None, None, 409, "running"),
            ("GET", "/v1/vms/nosuch", None, None, 404, "nosuch"),
            ("POST", "/v1/vms/api1/bogus", None, None, 404, ""),
            ("PUT", "/v1/vms", None, None, 405, ""),
            ("GET", "/v2/vms", None, None, 404, ""),
            ("POST", "/v1/networks", {"name": "n1", "kind": "bogus"}, None, 422, "kind"),
            ("POST", "/v1/networks", {"name": "n1", "kind": "natnetwork", "cidr": "10.0.0.0/33"}, None, 422, "cidr"),
            ("DELETE", "/v1/networks/nosuch", None, None, 404, "nosuch"),
        ]
        for method, path, body, raw, code, needle in cases:
            rc, ans = h.api(method, path, body, raw)
            what = "%s %s %s" % (method, path, (raw or json.dumps(body).encode())[:60])
            expect(rc == code, "%s: status %d, expected %d (%s)" % (what, rc, code, ans))
            err = ans.get("error") if isinstance(ans, dict) else None
            expect(isinstance(err, str) and err and "\n" not in err, "%s: no one-line error: %s" % (what, ans))
            expect(needle in err, "%s: error %r does not mention %r" % (what, err, needle))
        after = snapshot()
        expect(after == before, "a refused request changed something:\n%s\n%s" % (before[1:], after[1:]))
        rc, _ = h.api("POST", "/v1/vms/api1/poweroff")
        expect(rc == 200, "poweroff")
        for n in ("api1", "api2"):
            rc, ans = h.api("DELETE", "/v1/vms/" + n)
            expect(rc == 200 and ans == {"deleted": n}, "delete %s: %s" % (n, ans))
        expect(h.api("GET", "/v1/vms")[1] == [], "VMs left after delete")
        expect(os.listdir(vms_dir) == [], "files left: %s" % os.listdir(vms_dir))
    finally:
        h.close()


class Pty:
    """A CLI command on a pseudo-terminal, as a user at a terminal runs it."""

    def __init__(self, h, *args):
        self.master, slave = os.openpty()
        self.p = subprocess.Popen([VIREO] + list(args), env=h.env, stdin=slave, stdout=slave, stderr=slave,
                                  start_new_session=True)
        os.close(slave)
        self.buf = b""

    def expect(self, needle, timeout=60):
        deadline = time.monotonic() + timeout
        while needle.encode() not in self.buf:
            left = deadline - time.monotonic()
            r = select.select([self.master], [], [], max(0, min(left, 0.5)))[0] if left > 0 else []
            if not r and left <= 0:
                raise TestFailure("%r did not appear on the terminal; tail:\n%s" %
                                  (needle, self.buf[-1500:].decode(errors="replace")))
            if r:
                try:
                    self.buf += os.read(self.master, 65536)
                except OSError:
                    raise TestFailure("the terminal closed before %r; tail:\n%s" %
                                      (needle, self.buf[-1500:].decode(errors="replace")))

    def type(self, text):
        os.write(self.master, text.encode() if isinstance(text, str) else text)

    def wait(self, timeout=20):
        deadline = time.monotonic() + timeout
        while self.p.poll() is None and time.monotonic() < deadline:
            r = select.select([self.master], [], [], 0.2)[0]
            if r:
                try:
                    self.buf += os.read(self.master, 65536)
                except OSError:
                    pass
        expect(self.p.poll() is not None, "the console client did not exit")
        os.close(self.master)
        return self.p.returncode


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(next(l for l in f if l.startswith("VmRSS:")).split()[1])


def timed_requests(h, n=20):
    """n GET /v1/vms one after another: the seconds each took."""
    times = []
    for _ in range(n):
        t0 = time.monotonic()
        st, body = h.api("GET", "/v1/vms", quiet=True)
        times.append(time.monotonic() - t0)
        expect(st == 200 and isinstance(body, list), "GET /v1/vms failed under load: %d %r" % (st, body))
    return sorted(times)


def test_api_flood():
    """A client that opens 1,000 API connections and sends each half a
    request, and another that sends its request one byte every 50 ms, do not
    block anyone else: other requests are answered at once, the CLI works,
    the slow request gets its answer, and once they all go the daemon has
    its file descriptors back."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    h = Home()
    held = []
    try:
        h.ok("vm", "create", "one", "--memory", "128M", "--nic1", "none")
        pid = h.daemon_pids()[0]
        fds0, rss0 = fd_count(pid), rss_kib(pid)
        quiet = timed_requests(h)
        sock = os.path.join(h.env["VIREO_HOME"], "run", "api.sock")
        for i in range(1000):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sock)
            s.sendall(b"GET /v1/vms HTTP/1.1\r\nHost: vireo\r\nX-Half: %d\r\n" % i)
            held.append(s)
        time.sleep(1)
        fds1, rss1 = fd_count(pid), rss_kib(pid)
        print("# daemon with 1000 half requests: %d fds (%d before), RSS %d KiB (%d before)" % (fds1, fds0, rss1, rss0))
        expect(fds1 >= fds0 + 1000, "the daemon does not hold the 1000 connections (%d fds)" % fds1)
        slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        slow.connect(sock)
        slow.settimeout(10)
        request = b"GET /v1/host HTTP/1.1\r\nHost: vireo\r\nConnection: close\r\n\r\n"
        loaded = []
        t0 = time.monotonic()
        for i, byte in enumerate(request):
            slow.sendall(bytes([byte]))
            if i % 10 == 0:
                loaded += timed_requests(h, 2)
            else:
                time.sleep(0.05)
        loaded.sort()
        print("# the slow request took %.1f s to send" % (time.monotonic() - t0))
        answer = b""
        while True:
            d = slow.recv(65536)
            if not d:
                break
            answer += d
        slow.close()
        expect(answer.startswith(b"HTTP/1.1 200") and b'"cpus"' in answer,
               "the slow request got no proper answer: %r" % answer[:300])
        rc, out, err = h.cli("vm", "list", timeout=10)
        expect(rc == 0 and "one" in out, "vireo vm list failed while the API was flooded: %s" % err)
        med_quiet, med_loaded = quiet[len(quiet) // 2], loaded[len(loaded) // 2]
        print("# GET /v1/vms: median %.1f ms quiet, %.1f ms with 1000 idle connections and a slow one; slowest %.1f ms"
              % (med_quiet * 1000, med_loaded * 1000, loaded[-1] * 1000))
        expect(loaded[-1] < 2.0, "a request took %.1f s while the API was flooded" % loaded[-1])
        for s in held:
            s.close()
        held = []
        expect(wait_for(lambda: fd_count(pid) <= fds0, 10),
               "the daemon kept descriptors after the clients left: %d, %d before" % (fd_count(pid), fds0))
        expect(h.daemon_pids() == [pid], "the daemon changed")
    finally:
        for s in held:
            s.close()
        h.close()


def wait_for(cond, timeout, step=0.2):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            return False
        time.sleep(step)
    return True


def test_console():
    """`vm start --console` and `vm console` on a terminal: the guest's shell
    answers, Ctrl-A D detaches and the VM keeps running; the log keeps it."""
    h = Home()
    try:
        h.ok("vm", "create", "con", "--memory", "128M", "--nic1", "none")
        def session(t, command, answer):
            time.sleep(0.5)
            t.type(command + "\r")
            t.expect(answer)
            t.type(b"\x01d")
            expect(t.wait() == 0, "detaching did not exit 0: %d" % t.p.returncode)
            expect(h.vms()["con"]["state"] == "running", "the VM stopped when the console detached")

        t = Pty(h, "vm", "start", "con", "--console")
        t.expect(MARKER)
        session(t, "echo hi-$((6*7))", "hi-42")
        session(Pty(h, "vm", "console", "con"), "echo again-$((2*3))", "again-6")
        log = h.console_log("con")
        expect("hi-42" in log and "again-6" in log, "the console log misses the session: %r" % log[-500:])
        h.ok("vm", "poweroff", "con")
        h.wait_state("con", "stopped")
    finally:
        h.close()


if __name__ == "__main__":
    sys.exit(harness.main(globals()))
