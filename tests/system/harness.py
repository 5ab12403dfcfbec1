"""What the system test scripts share: how a test fails, and the command
line meson runs, `SCRIPT.py VIREO TEST`, where TEST names a function
test_TEST of the script. Each test cleans up after itself in `finally`;
a SIGTERM (meson ends a test that overran with one) unwinds through those
blocks too."""
import os
import signal
import sys
import time


class TestFailure(Exception):
    pass


def expect(cond, msg, out=""):
    """Fail with msg (and the tail of out, a console, when given)."""
    if not cond:
        raise TestFailure(msg + ("\n--- console tail ---\n" + out[-4000:] if out else ""))


def cpu_seconds(pid):
    """User + system CPU time of a process, all its threads."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_used(pid, seconds):
    """CPU seconds pid uses over the next `seconds` of wall time."""
    c0 = cpu_seconds(pid)
    time.sleep(seconds)
    return cpu_seconds(pid) - c0


def main(module, needs_root=False, setup=None):
    """Run the test named on the command line from module (a script's
    globals()); sets its VIREO to the binary. Returns the exit status."""
    tests = {n[5:]: f for n, f in module.items() if n.startswith("test_") and callable(f)}
    script = os.path.basename(sys.argv[0])
    if len(sys.argv) != 3 or sys.argv[2] not in tests:
        print("usage: %s VIREO TEST\ntests: %s" % (script, " ".join(sorted(tests))), file=sys.stderr)
        return 2
    if needs_root and os.geteuid() != 0:
        print("SKIP: needs root")
        return 77
    module["VIREO"] = os.path.abspath(sys.argv[1])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    t0 = time.monotonic()
    try:
        if setup:
            setup()
        tests[sys.argv[2]]()
    except TestFailure as e:
        print("FAIL after %.1fs: %s" % (time.monotonic() - t0, e))
        return 1
    print("PASS after %.1fs" % (time.monotonic() - t0))
    return 0
