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


def open_fds(pid):
    """The process's descriptors once they stop changing (a close it is
    about to make, say)."""
    prev = None
    for _ in range(50):
        fds = sorted(int(x) for x in os.listdir(f"/proc/{pid}/fd"))
        if fds == prev:
            return fds
        prev = fds
        time.sleep(0.1)
    return prev


def exhaust_fds(pid, connect):
    """Leave process pid (of this test's user) without a free descriptor:
    its limit goes down to its highest descriptor + 1, and connect() (a
    connection pid will accept) is called until the gaps below that are
    filled. Returns (the old limit, for restore_fds; the connections)."""
    import resource
    fds = open_fds(pid)
    old = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (fds[-1] + 1, old[1]))
    fillers = [connect() for _ in range(fds[-1] + 1 - len(fds))]
    if fillers:
        end = time.monotonic() + 5
        while len(open_fds(pid)) < fds[-1] + 1 and time.monotonic() < end:
            time.sleep(0.1)
    return old, fillers


def restore_fds(pid, old):
    import resource
    resource.prlimit(pid, resource.RLIMIT_NOFILE, old)


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
