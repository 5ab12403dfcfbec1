#!/usr/bin/env python3
"""Tests of the bash completion (completions/vireo.bash) and of
`vireo vm list --quiet` / `vireo net list --quiet`, which it takes names
from. `completiontest.py VIREO NAME` runs one test in real bash
(`bash --norc`) with the completion sourced and COMP_* set as bash sets
them, against a daemon of its own data directory (started on demand by the
CLI, killed at the end).
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import harness
from harness import expect

HERE = os.path.dirname(os.path.abspath(__file__))
COMPLETION = os.path.join(HERE, "..", "..", "completions", "vireo.bash")
VIREO = None
WORDBREAKS = "=:"  # those of bash's COMP_WORDBREAKS that a test line may hold




class Home:
    """A temporary data directory (and runtime directory) with its daemon."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vireo-comp-")
        rt = os.path.join(self.dir, "rt")
        os.makedirs(rt, mode=0o700)
        os.chmod(rt, 0o700)
        self.home = os.path.join(self.dir, "home")
        # `vireo` on PATH is the binary under test: the completion runs the
        # command being completed.
        self.env = dict(os.environ, VIREO_HOME=self.home, VIREO_RUNTIME_DIR=rt,
                        PATH=os.path.dirname(VIREO) + os.pathsep + os.environ.get("PATH", ""))

    def cli(self, *args):
        p = subprocess.run([VIREO] + list(args), env=self.env, capture_output=True, timeout=60)
        out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        print("# vireo %s -> %d %r %s" % (" ".join(args), p.returncode, out[:300], err.strip()[:300]))
        return p.returncode, out, err

    def ok(self, *args):
        rc, out, err = self.cli(*args)
        expect(rc == 0, "vireo %s failed (%d): %s" % (" ".join(args), rc, err.strip()))
        return out

    def complete(self, line, point=None, env=None):
        """COMPREPLY of _vireo for `line` with the cursor at `point` (default:
        the end), COMP_WORDS split as bash splits them (at blanks, and
        around '=' and ':')."""
        if point is None:
            point = len(line)
        words = []
        for w in re.findall(r"\S+", line[:point]):
            words += [x for x in re.split("([%s]+)" % WORDBREAKS, w) if x]
        if not line[:point] or line[:point][-1].isspace():
            words.append("")
        words_after = re.findall(r"\S+", line[point:])
        script = ('source "$1"; shift; COMP_LINE=$CL; COMP_POINT=$CP; COMP_WORDS=("$@"); '
                  'COMP_CWORD=$CW; _vireo vireo; printf "%s\\n" "${COMPREPLY[@]}"')
        e = dict(env or self.env, CL=line, CP=str(point), CW=str(len(words) - 1))
        p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash", COMPLETION] + words + words_after,
                           env=e, capture_output=True, timeout=60)
        got = [x for x in p.stdout.decode(errors="replace").split("\n") if x]
        print("# complete %r -> %s%s" % (line[:point] + "|" + line[point:], got,
                                         " stderr: " + p.stderr.decode(errors="replace") if p.stderr else ""))
        expect(p.returncode == 0, "bash failed on %r: %s" % (line, p.stderr.decode(errors="replace")))
        return got

    def daemon_pids(self):
        # Only processes whose command line holds this test's own temporary
        # directory (its daemons): killed by pid.
        p = subprocess.run(["pgrep", "-f", self.dir], capture_output=True)
        return [int(x) for x in p.stdout.split() if int(x) != os.getpid()]

    def close(self):
        # A network's switch outlives the daemon (by design, mgmttest checks
        # it): delete the networks this test made, so no switch is left.
        if os.path.isdir(self.home):
            rc, out, _ = self.cli("net", "list", "--quiet")
            for name in out.split() if rc == 0 else []:
                self.cli("net", "delete", name)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in self.daemon_pids():
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            for _ in range(20):
                if not self.daemon_pids():
                    break
                time.sleep(0.1)
        shutil.rmtree(self.dir, ignore_errors=True)


def same(got, want, what):
    expect(sorted(got) == sorted(want), "%s: expected %s, got %s" % (what, sorted(want), sorted(got)))


def includes(got, want, what):
    missing = [w for w in want if w not in got]
    expect(not missing, "%s: %s missing from %s" % (what, missing, got))


def test_words():
    """Commands, subcommands, options, option values, and VM and network
    names from a real daemon; `vm list --quiet` and `net list --quiet`."""
    h = Home()
    try:
        # No daemon needed for these.
        same(h.complete("vireo "), ["run", "vm", "net", "switch", "guest", "version", "help"], "top-level commands")
        same(h.complete("vireo vm st"), ["start", "stop"], "vm st")
        same(h.complete("vireo net "), ["create", "list", "show", "delete", "help"], "net subcommands")
        includes(h.complete("vireo vm "), ["create", "list", "show", "modify", "start", "stop", "poweroff",
                                           "pause", "resume", "console", "delete"], "vm subcommands")
        includes(h.complete("vireo vm create x --c"), ["--cpus", "--cpu-cap", "--cpu-affinity"], "vm create --c")
        includes(h.complete("vireo vm modify x --n"), ["--nic1", "--nic8", "--natpf1", "--natpf8"], "vm modify --n")
        same(h.complete("vireo vm stop x --"), ["--timeout", "--data-dir", "--help"], "vm stop options")
        same(h.complete("vireo net create n --kind "), ["intnet", "natnetwork", "hostonly", "bridged"], "--kind")
        includes(h.complete("vireo vm create x --nic1 "), ["nat", "intnet=", "natnetwork=", "hostonly=", "bridged=",
                                                          "none"], "--nic1 modes")
        same(h.complete("vireo run --mmu "), ["sv39", "sv48", "sv57"], "run --mmu")
        same(h.complete("vireo guest "), ["build"], "guest")
        includes(h.complete("vireo run --disk %s/completionte" % HERE), [os.path.join(HERE, "completiontest.py")],
                 "file names after --disk")
        expect(not os.path.exists(h.home), "completing words that need no names started a daemon")

        # Names, from a daemon of a data directory of our own.
        h.ok("vm", "create", "alpha", "--memory", "64M", "--nic1", "none")
        h.ok("vm", "create", "beta", "--memory", "64M", "--nic1", "none")
        h.ok("net", "create", "lan1", "--kind", "intnet")
        expect(h.ok("vm", "list", "--quiet") == "alpha\nbeta\n", "vm list --quiet: not just the names")
        expect(h.ok("vm", "list", "-q") == "alpha\nbeta\n", "vm list -q: not just the names")
        expect(h.ok("net", "list", "--quiet") == "lan1\n", "net list --quiet: not just the name")
        expect("NAME" in h.ok("vm", "list"), "vm list without --quiet lost its header")

        same(h.complete("vireo vm start a"), ["alpha"], "vm start a")
        same(h.complete("vireo vm delete "), ["alpha", "beta"], "vm delete")
        same(h.complete("vireo vm create gamma"), [], "vm create NAME (a new name)")
        includes(h.complete("vireo net show "), ["lan1"], "net show")
        same(h.complete("vireo vm create x --nic2 intnet="), ["lan1"], "--nic2 intnet=")
        same(h.complete("vireo vm create x --nic2 intnet=l"), ["lan1"], "--nic2 intnet=l")
        same(h.complete("vireo vm create x --nic2=hostonly=la"), ["lan1"], "--nic2=hostonly=la")

        # --data-dir on the line is passed on (here after the name, the
        # cursor at the name), over $VIREO_HOME.
        other = dict(h.env, VIREO_HOME=os.path.join(h.dir, "other"))
        line = "vireo vm show b --data-dir %s" % h.home
        same(h.complete(line, point=len("vireo vm show b"), env=other), ["beta"], "vm show b ... --data-dir")
        rc, out, _ = h.cli("vm", "list", "--quiet", "--data-dir", os.path.join(h.dir, "other"))
        expect(rc == 0 and out == "", "vm list --quiet of an empty data directory: %d %r" % (rc, out))
    finally:
        h.close()


if __name__ == "__main__":
    sys.exit(harness.main(globals()))
