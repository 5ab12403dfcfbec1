#!/usr/bin/env python3
"""System tests of managed VMs: a real vireod started on demand by the
`vireo vm` CLI, real guests (docs/management.md, docs/cli.md).
`mgmttest.py VIREO NAME` runs one test. Each test has its own data
directory and runtime directory and kills its daemon at the end.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

MARKER = "VIREO-GUEST-READY"
VIREO = None


class TestFailure(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise TestFailure(msg)


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
        expect(files == ["a.json"], "a refused request left files: %s" % files)
    finally:
        h.close()


TESTS = {name[5:]: fn for name, fn in globals().items() if name.startswith("test_") and callable(fn)}


def main():
    global VIREO
    if len(sys.argv) != 3 or sys.argv[2] not in TESTS:
        print("usage: mgmttest.py VIREO TEST\ntests: " + " ".join(sorted(TESTS)), file=sys.stderr)
        return 2
    VIREO = os.path.abspath(sys.argv[1])
    try:
        TESTS[sys.argv[2]]()
    except TestFailure as e:
        print("FAIL:", e)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
