#!/usr/bin/env python3
"""Networking system tests: real guests exchanging real packets.

`nettest.py VIREO NAME` runs one test (meson registers one per name). The
table_* tests are the executable form of the connectivity table of
DESIGN.md section 5 (+ works, - must not work, PF only by port forwarding):

| mode       | VM<->VM | VM->Host | Host->VM | VM->LAN | LAN->VM |
|------------|---------|----------|----------|---------|---------|
| nat        |    -    |    +     |    PF    |    +    |   PF    |
| natnetwork |    +    |    +     |    PF    |    +    |   PF    |
| bridged    |    +    |    +     |    +     |    +    |    +    |
| intnet     |    +    |    -     |    -     |    -    |    -    |
| hostonly   |    +    |    +     |    +     |    -    |    -    |

Each cell is checked with ping and with TCP (a short request, and 4 MB whose
md5 must match), in every direction it names. A "-" cell is checked where it
would work if the isolation were broken (a service listens there, the
addresses are on one subnet, routes exist).

The other tests: port forwarding rules and their clashes, DHCP leases,
interop with QEMU's socket netdevs and the kernel's vxlan, resilience (a VM
or a switch killed, switches restarted), on-demand switches, MTU, link state,
VLANs (on an intnet, and tagged on the wire of a bridged NIC), --pcap.

Every test builds its own world of network namespaces and removes it again,
also on failure:

    namespace H, "the host"                 namespace L, "the LAN"
    lo 127.0.0.1                            lo
    eth0 192.168.200.1/24  <--- veth --->   eth0 192.168.200.2/24
    (or br0 holding eth0, for bridged)
    VMs, switch processes, their TAPs

VMs and switches run inside H (`ip netns exec H vireo ...`), so their
sockets, TAPs and AF_PACKET sockets live there; nothing is ever sent outside
loopback and these namespaces. Each test has its own VIREO_RUNTIME_DIR, so
switches of different tests never meet.

A guest is driven through its console: without vireo.cmd the guest init
starts an interactive shell, and GuestVM.run() types a command into it and
reads back its output and exit status.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, expect  # noqa: E402
from vmtest import MARKER, guest_dir  # noqa: E402

VIREO = None
TAG = "vn%d" % (os.getpid() % 100000)   # prefix of every namespace a test makes
HOST_IP, LAN_IP = "192.168.200.1", "192.168.200.2"
HOST_PORT = 8080                        # the host's and the LAN's TCP services
CMD_TIMEOUT = 30
SANITIZER = re.compile(r"ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error: ")


def log(msg):
    print("# " + msg, flush=True)


def sh(args, check=True, timeout=30):
    """Run an `ip` command that creates or removes our namespaces and links."""
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise TestFailure(f"{' '.join(map(str, args))} failed ({p.returncode}): {p.stderr.strip()}")
    return p


def wait_until(cond, timeout, step=0.2):
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


# ---------------------------------------------------------------- programs for the host and LAN sides
# (small Python programs run with `ip netns exec NS python3 -c PROGRAM ARGS`)

# A TCP service: answers every connection with an HTTP response naming itself
# and the peer address it saw (so a test can tell NAT from routing); GET
# /bytes/N answers with N pseudo-random bytes (see bulk_md5).
TCP_SERVER = r"""
import random, re, socket, sys, threading
def serve(c, peer):
    c.settimeout(20)
    try:
        req = c.recv(4096).decode(errors="replace")
        m = re.match(r"GET /bytes/(\d+) ", req)
        body = random.Random(int(m.group(1))).randbytes(int(m.group(1))) if m else \
            ("%s peer=%s\n" % (sys.argv[3], peer[0])).encode()
        c.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + body)
    except OSError:
        pass
    c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)
print("listening", flush=True)
while True:
    threading.Thread(target=serve, args=s.accept(), daemon=True).start()
"""

# Its client: prints the body; exit 1 when no connection could be made.
TCP_CLIENT = r"""
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    data = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        data += d
except OSError as e:
    print("error:", e)
    sys.exit(1)
sys.stdout.write(data.decode(errors="replace").split("\r\n\r\n", 1)[-1])
"""

# Its client for bulk data: prints the md5 of the body of GET PATH.
TCP_FETCH_MD5 = r"""
import hashlib, socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
    s.sendall(b"GET %s HTTP/1.0\r\n\r\n" % sys.argv[3].encode())
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
except OSError as e:
    print("error:", e)
    sys.exit(1)
body = data.split(b"\r\n\r\n", 1)[-1]
print(len(body), hashlib.md5(body).hexdigest())
"""

BULK = 4 << 20      # bytes of a bulk transfer
BIG = f"/bytes/{BULK}"   # its path on TCP_SERVER


def bulk_md5(n=BULK):
    """'length md5' of what TCP_SERVER sends for /bytes/n."""
    import hashlib
    import random
    return f"{n} {hashlib.md5(random.Random(n).randbytes(n)).hexdigest()}"


# Sends one datagram: UDP_SEND HOST PORT TEXT.
UDP_SEND = r"""
import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(sys.argv[3].encode() + b"\n", (sys.argv[1], int(sys.argv[2])))
"""

TX_CSUM_OFF = r"""
import ctypes, fcntl, socket, struct, sys
cmd = ctypes.create_string_buffer(struct.pack("II", 0x17, 0))   # ETHTOOL_STXCSUM, off
ifr = struct.pack("16sP", sys.argv[1].encode(), ctypes.addressof(cmd))
fcntl.ioctl(socket.socket(), 0x8946, ifr)                       # SIOCETHTOOL
"""


def tx_checksum_off(ns, ifname):
    """`ethtool -K IFNAME tx off` (ethtool itself may not be installed)."""
    ns.run(["python3", "-c", TX_CSUM_OFF, ifname], check=True)


# A host on one VLAN of a LAN, on a raw socket (for kernels without 8021q):
#   VLAN_PEER IFACE VID MYIP serve SECONDS   answer ARP and ping for MYIP
#   VLAN_PEER IFACE VID MYIP ping IP COUNT   ping IP, print "replies N"
# Only frames tagged with VID count; its own frames carry the tag.
VLAN_PEER = r"""
import select, socket, struct, sys, time
ifname, vid, myip, mode = sys.argv[1], int(sys.argv[2]), socket.inet_aton(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((ifname, 0))
s.setsockopt(263, 8, 1)                               # SOL_PACKET, PACKET_AUXDATA
mymac = s.getsockname()[4]

def csum(b):
    b += b"\0" * (len(b) & 1)
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xffff)
    return ~(t + (t >> 16)) & 0xffff

def send(dst, etype, payload):
    f = dst + mymac + struct.pack("!HHH", 0x8100, vid, etype) + payload
    s.send(f + b"\0" * max(0, 64 - len(f)))

def recv(timeout):
    # (src mac, ethertype, payload) of a frame tagged with our VID, or None
    if not select.select([s], [], [], timeout)[0]:
        return None
    data, anc, _, addr = s.recvmsg(65536, 4096)
    if addr[2] == socket.PACKET_OUTGOING:
        return None
    tag = None
    for level, kind, d in anc:
        if level == 263 and kind == 8:
            status, _, _, _, _, tci, _ = struct.unpack("IIIHHHH", d[:20])
            if status & 16 or tci:                    # TP_STATUS_VLAN_VALID
                tag = tci & 0xfff
    etype, payload = struct.unpack("!H", data[12:14])[0], data[14:]
    if etype == 0x8100:
        tag = struct.unpack("!H", data[14:16])[0] & 0xfff
        etype, payload = struct.unpack("!H", data[16:18])[0], data[18:]
    return (data[6:12], etype, payload) if tag == vid else None

def arp(op, tha, tpa):
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + mymac + myip + tha + tpa

def ipv4(dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0, myip, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload

def icmp(typ, ident, seq, data):
    m = struct.pack("!BBHHH", typ, 0, 0, ident, seq) + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]

if mode == "serve":
    print("ready", flush=True)
    end = time.time() + float(sys.argv[5])
    while time.time() < end:
        r = recv(0.5)
        if not r:
            continue
        src, etype, p = r
        if etype == 0x0806 and p[6:8] == b"\0\1" and p[24:28] == myip:
            send(src, 0x0806, arp(2, p[8:14], p[14:18]))
            print("arp from", socket.inet_ntoa(p[14:18]), flush=True)
        elif etype == 0x0800 and p[9] == 1 and p[16:20] == myip and p[20] == 8:
            ihl = (p[0] & 15) * 4
            ident, seq = struct.unpack("!HH", p[ihl + 4:ihl + 8])
            total = struct.unpack("!H", p[2:4])[0]
            send(src, 0x0800, ipv4(p[12:16], 1, icmp(0, ident, seq, p[ihl + 8:total])))
            print("echo from", socket.inet_ntoa(p[12:16]), flush=True)
else:
    target, count = socket.inet_aton(sys.argv[5]), int(sys.argv[6])
    mac, end = None, time.time() + 3
    send(b"\xff" * 6, 0x0806, arp(1, b"\0" * 6, target))
    while mac is None and time.time() < end:
        r = recv(0.5)
        if r and r[1] == 0x0806 and r[2][6:8] == b"\0\2" and r[2][14:18] == target:
            mac = r[2][8:14]
    replies = 0
    for seq in range(count if mac else 0):
        send(mac, 0x0800, ipv4(target, 1, icmp(8, 0x5652, seq, b"vireo-vlan-test!")))
        end = time.time() + 1
        while time.time() < end:
            r = recv(0.2)
            if r and r[1] == 0x0800 and r[2][9] == 1 and r[2][12:16] == target and r[2][20] == 0:
                replies += 1
                break
    print("arp", "answered" if mac else "unanswered", "replies", replies)
"""


# ---------------------------------------------------------------- namespaces

class Netns:
    """A network namespace of the test; close() kills everything in it."""

    def __init__(self, world, short):
        self.world = world
        self.name = f"{TAG}-{short}"
        sh(["ip", "netns", "add", self.name])
        self.alive = True
        self.ip("link", "set", "lo", "up")
        # As on a systemd host (50-default.conf): everyone may open ICMP
        # echo sockets. A new namespace starts with none allowed, and a NAT
        # adapter's ping goes out through one from the VM process, which
        # runs as nobody (docs/security.md).
        sh(self.argv(["sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"]))

    def argv(self, args):
        return ["ip", "netns", "exec", self.name] + [str(a) for a in args]

    def ip(self, *args, check=True):
        return sh(["ip", "-n", self.name] + list(args), check=check)

    def run(self, args, check=False, timeout=30):
        p = subprocess.run(self.argv(args), capture_output=True, text=True, timeout=timeout, env=self.world.env,
                           stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise TestFailure(f"[{self.name}] {' '.join(map(str, args))} failed ({p.returncode}): "
                              f"{p.stdout.strip()} {p.stderr.strip()}")
        return p

    def popen(self, args, **kw):
        kw.setdefault("env", self.world.env)
        return subprocess.Popen(self.argv(args), **kw)

    def ping(self, addr, count=3, wait=1):
        """True when at least one echo reply came back."""
        p = self.run(["ping", "-c", count, "-i", "0.3", "-W", wait, addr], timeout=count * (wait + 1) + 10)
        return p.returncode == 0

    def get(self, addr, port, timeout=4):
        """The body a TCP service at addr:port answers with, or None."""
        p = self.run(["python3", "-c", TCP_CLIENT, addr, port, timeout], timeout=timeout * 3 + 10)
        return p.stdout if p.returncode == 0 else None

    def fetch_md5(self, addr, port, path):
        """'length md5' of the body of http://addr:port/path, or None."""
        p = self.run(["python3", "-c", TCP_FETCH_MD5, addr, port, path], timeout=90)
        return p.stdout.strip() if p.returncode == 0 else None

    def serve(self, port, banner, bind="0.0.0.0"):
        """Start a TCP service (see TCP_SERVER) in this namespace."""
        p = self.world.spawn(self, ["python3", "-u", "-c", TCP_SERVER, bind, port, banner], f"{banner}-server")
        if not wait_until(lambda: "listening" in p.output() or p.poll() is not None, 10) or p.poll() is not None:
            raise TestFailure(f"[{self.name}] TCP service {banner} did not start: {p.output()}")
        return p

    def links(self):
        """Names of the interfaces in this namespace."""
        out = self.ip("-o", "link", "show").stdout
        return {re.split(r"[@:]", line.split(": ", 1)[1])[0] for line in out.splitlines() if ": " in line}

    def pids(self):
        p = sh(["ip", "netns", "pids", self.name], check=False)
        return [int(x) for x in p.stdout.split()]

    def close(self):
        if not self.alive:
            return
        # Everything in the namespace was started by this test.
        for _ in range(30):
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        sh(["ip", "netns", "del", self.name], check=False)
        self.alive = False


def veth(a, a_if, b, b_if):
    """A veth pair between namespaces a and b (made inside a, moved to b)."""
    a.ip("link", "add", a_if, "type", "veth", "peer", "name", b_if, "netns", b.name)
    a.ip("link", "set", a_if, "up")
    b.ip("link", "set", b_if, "up")


def proc_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


class World:
    """The namespaces, VMs and processes of one test; torn down by close()."""

    def __init__(self):
        self.rundir = tempfile.mkdtemp(prefix="vireo-nettest-")
        self.env = dict(os.environ, VIREO_RUNTIME_DIR=self.rundir)
        self.namespaces, self.vms, self.procs = [], [], []

    def netns(self, short):
        ns = Netns(self, short)
        self.namespaces.append(ns)
        return ns

    def host_and_lan(self, bridge=False):
        """H and L joined by a veth: H's end is the host's "physical NIC"
        (with bridge: a port of the Linux bridge br0, which has the host's
        address)."""
        h, lan = self.netns("H"), self.netns("L")
        veth(h, "eth0", lan, "eth0")
        if bridge:
            h.ip("link", "add", "br0", "type", "bridge")
            h.ip("link", "set", "eth0", "master", "br0")
            h.ip("link", "set", "br0", "up")
            h.ip("addr", "add", HOST_IP + "/24", "dev", "br0")
        else:
            h.ip("addr", "add", HOST_IP + "/24", "dev", "eth0")
        lan.ip("addr", "add", LAN_IP + "/24", "dev", "eth0")
        return h, lan

    def vm(self, ns, name, nics, **kw):
        vm = GuestVM(self, ns, name, nics, **kw)
        self.vms.append(vm)
        vm.start()
        return vm

    def vms_at_once(self, ns, specs):
        """Start VMs (name, nics, kwargs) all at the same moment."""
        vms = [GuestVM(self, ns, name, nics, **kw) for name, nics, kw in specs]
        self.vms += vms
        for vm in vms:
            vm.launch()
        for vm in vms:
            vm.wait_ready()
        return vms

    def qemu(self, ns, name, netdev, **kw):
        vm = QemuVM(self, ns, name, netdev, **kw)
        self.vms.append(vm)
        vm.start(timeout=120)
        return vm

    def spawn(self, ns, args, name):
        """A background process in ns; its output goes to a file in the run
        directory (p.output() reads it)."""
        path = os.path.join(self.rundir, name + ".out")
        with open(path, "wb") as f:
            p = ns.popen(args, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)
        p.log_path = path

        def output():
            with open(path, errors="replace") as f:
                return f.read()
        p.output = output
        self.procs.append(p)
        return p

    def switch(self, ns, kind, name, *opts):
        """`vireo switch` in the foreground (a background process in ns);
        returns once its socket is there."""
        p = self.spawn(ns, [VIREO, "switch", "--kind", kind, "--name", name] + list(opts), f"switch-{kind}-{name}")
        sock = os.path.join(self.rundir, "net", f"{kind}-{name}.sock")
        if not wait_until(lambda: os.path.exists(sock) or p.poll() is not None, 15) or p.poll() is not None:
            raise TestFailure(f"vireo switch {kind} {name} did not come up (exit {p.poll()}): {p.output()}")
        return p

    def run_refused(self, ns, nic_args, timeout=60):
        """`vireo run NIC_ARGS` that must not start: (exit status, output)."""
        args = [VIREO, "run", "--memory", "128M"] + nic_args + ["--append", "quiet vireo.poweroff=1"]
        log(f"[{ns.name}] expecting a refusal: {' '.join(args)}")
        p = ns.run(args, timeout=timeout)
        return p.returncode, p.stdout + p.stderr

    def switch_pids(self, ns, kind, name):
        """Pids of the `vireo switch` processes of that network in ns."""
        found = []
        for pid in ns.pids():
            argv = proc_cmdline(pid)
            if b"switch" in argv and name.encode() in argv and kind.encode() in argv:
                found.append(pid)
        return found

    def switch_log(self, kind, name):
        try:
            with open(os.path.join(self.rundir, "net", f"{kind}-{name}.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def dump_logs(self):
        """What a failing test prints: switch logs, process outputs, consoles."""
        netdir = os.path.join(self.rundir, "net")
        for fn in sorted(os.listdir(netdir)) if os.path.isdir(netdir) else []:
            if fn.endswith(".log"):
                with open(os.path.join(netdir, fn), errors="replace") as f:
                    print(f"--- switch log {fn} ---\n{f.read()[-4000:]}")
        for p in self.procs:
            print(f"--- output of {os.path.basename(p.log_path)} ---\n{p.output()[-3000:]}")
        for vm in self.vms:
            print(f"--- console of {vm.name} ---\n{vm.text()[-3000:]}")

    def sanitizer_reports(self):
        """ASan/UBSan reports in the VMs' and switches' output (the suite
        also runs against a sanitizer build)."""
        texts = [(f"console of {vm.name}", vm.text()) for vm in self.vms]
        texts += [(os.path.basename(p.log_path), p.output()) for p in self.procs]
        netdir = os.path.join(self.rundir, "net")
        for fn in sorted(os.listdir(netdir)) if os.path.isdir(netdir) else []:
            if fn.endswith(".log"):
                with open(os.path.join(netdir, fn), errors="replace") as f:
                    texts.append((f"switch log {fn}", f.read()))
        reports = []
        for what, text in texts:
            m = SANITIZER.search(text)
            if m:
                reports.append(f"--- {what} ---\n{text[max(0, m.start() - 200):m.start() + 3000]}")
        return reports

    def close(self):
        """Tear everything down, gently first (so that processes end by
        themselves and sanitizers report); returns the sanitizer reports."""
        for vm in self.vms:
            vm.close(quick=True)
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        # On-demand switches stop by themselves 2 s after their last VM.
        for ns in self.namespaces:
            wait_until(lambda: not any(b"switch" in proc_cmdline(pid) for pid in ns.pids()), 5)
        for ns in reversed(self.namespaces):
            ns.close()
        for vm in self.vms:
            vm.reap()
        reports = self.sanitizer_reports()
        shutil.rmtree(self.rundir, ignore_errors=True)
        return reports


class world:
    """`with world() as w:` gives a World and tears it down, printing its
    logs first when the test failed (or NETTEST_LOGS=1 is set)."""

    def __enter__(self):
        self.w = World()
        return self.w

    def __exit__(self, typ, val, tb):
        try:
            if typ is not None or os.environ.get("NETTEST_LOGS") == "1":
                self.w.dump_logs()
        finally:
            reports = self.w.close()
        if reports:
            msg = "sanitizer reports:\n" + "\n".join(reports)
            if typ is None:
                raise TestFailure(msg)
            print(msg)
        return False


# ---------------------------------------------------------------- guests

class GuestVM:
    """A `vireo run` of the default guest with an interactive console.

    nics: --nic values; a tuple (nic, rule, ...) adds --natpf rules to it.
    ip/gw: static address of eth0; else dhcp says whether the init runs
    udhcpc on eth0. extra: more `vireo run` options."""

    def __init__(self, world, ns, name, nics=(), ip=None, gw=None, dhcp=False, memory="128M", extra=()):
        self.world, self.ns, self.name = world, ns, name
        self.nics, self.memory, self.extra = list(nics), memory, list(extra)
        words = [f"vireo.hostname={name}", "quiet"]
        if ip:
            words.append(f"vireo.ip={ip}")
            if gw:
                words.append(f"vireo.gw={gw}")
        else:
            words.append("vireo.dhcp=%d" % (1 if dhcp else 0))
        self.append = " ".join(words)
        self.buf = bytearray()
        self.cond = threading.Condition()
        self.seq = 0
        self.proc = None

    def command(self):
        args = [VIREO, "run", "--memory", self.memory]
        for n in self.nics:
            n = (n,) if isinstance(n, str) else n
            args += ["--nic", n[0]]
            for rule in n[1:]:
                args += ["--natpf", rule]
        return args + self.extra + ["--append", self.append]

    def start(self, timeout=60):
        self.launch()
        self.wait_ready(timeout)

    def launch(self):
        args = self.command()
        log(f"[{self.ns.name}] {self.name}: {' '.join(args)}")
        self.proc = self.ns.popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._reader, daemon=True)
        self.reader.start()

    def wait_ready(self, timeout=60):
        if not self.wait_for(MARKER, timeout):
            raise TestFailure(f"{self.name} did not boot (exit {self.proc.poll()}):\n{self.text()[-3000:]}")
        self.wait_for("# ", 10)
        # Kernel messages (link up/down) must not mix into command output.
        self.run("dmesg -n 1; stty -echo 2>/dev/null; true")

    def _reader(self):
        fd = self.proc.stdout.fileno()
        while True:
            try:
                d = os.read(fd, 65536)
            except OSError:
                d = b""
            with self.cond:
                self.buf += d
                if not d:
                    self.eof = True
                self.cond.notify_all()
            if not d:
                return

    def text(self):
        with self.cond:
            return self.buf.decode(errors="replace").replace("\r", "")

    def wait_for(self, pattern, timeout, start=0):
        """Wait until the console shows the regex pattern after byte offset
        start: the match, or None."""
        rx = re.compile(pattern.encode())
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(self.buf, start)
                if m:
                    return m
                left = end - time.monotonic()
                if left <= 0 or getattr(self, "eof", False):
                    return None
                self.cond.wait(min(left, 0.5))

    def send(self, data):
        try:
            self.proc.stdin.write(data.encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise TestFailure(f"{self.name}: the VM is gone (exit {self.proc.poll()}):\n{self.text()[-3000:]}")

    def run(self, cmd, timeout=CMD_TIMEOUT, check=False):
        """Run a shell command in the guest: (exit status, output).

        The markers are printed with octal escapes, so the echo of the typed
        line never matches them. The command's stdin is /dev/null so that it
        cannot eat what is typed next; it may end with '&'."""
        self.seq += 1
        n = self.seq
        with self.cond:
            start = len(self.buf)
        self.send(f"printf '\\100\\100B{n}\\100\\100\\n'; {{ {cmd}\n}} </dev/null; "
                  f"printf '\\100\\100E{n}:%d\\100\\100\\n' $?\n")
        m = self.wait_for(rf"@@E{n}:(\d+)@@", timeout, start)
        if not m:
            raise TestFailure(f"{self.name}: '{cmd}' did not finish within {timeout}s:\n{self.text()[-3000:]}")
        with self.cond:
            raw = bytes(self.buf[start:m.start()])
        b = raw.find(f"@@B{n}@@".encode())
        out = raw[b + len(f"@@B{n}@@"):] if b >= 0 else raw
        out = out.decode(errors="replace").replace("\r", "").strip("\n")
        status = int(m.group(1))
        if check and status != 0:
            raise TestFailure(f"{self.name}: '{cmd}' failed with {status}:\n{out}")
        return status, out

    # -- network helpers

    def ping(self, addr, count=3, wait=1):
        """True when at least one echo reply came back."""
        st, out = self.run(f"ping -c {count} -i 0.3 -W {wait} {addr}", timeout=count * wait + 30)
        return st == 0 and " bytes from " in out

    def get(self, addr, port, timeout=4):
        """The body an HTTP service at addr:port answers with, or None."""
        st, out = self.run(f"timeout {timeout * 2} wget -qO- -T {timeout} http://{addr}:{port}/ 2>&1",
                           timeout=timeout * 2 + 30)
        return out if st == 0 else None

    def serve(self, port, banner):
        """An HTTP service (busybox httpd) answering with banner, and with
        BULK random bytes at /big (self.big_md5 is their 'length md5')."""
        self.run(f"mkdir -p /www/{port} && echo {banner} > /www/{port}/index.html && "
                 f"head -c {BULK} /dev/urandom > /www/{port}/big && httpd -p {port} -h /www/{port}", check=True)
        self.big_md5 = f"{BULK} " + self.run(f"md5sum /www/{port}/big", check=True)[1].split()[0]

    def fetch_md5(self, addr, port, path):
        """'length md5' of what http://addr:port/path serves, or None."""
        st, out = self.run(f"timeout 60 wget -qO /tmp/fetched -T 10 http://{addr}:{port}{path} && "
                           f"wc -c < /tmp/fetched && md5sum /tmp/fetched; s=$?; rm -f /tmp/fetched; [ $s = 0 ]",
                           timeout=90)
        lines = out.split()
        return f"{lines[0]} {lines[1]}" if st == 0 and len(lines) >= 2 else None

    def addr(self, dev="eth0"):
        """The IPv4 address/prefix of dev, or None."""
        st, out = self.run(f"ip -4 addr show dev {dev}")
        m = re.search(r"inet (\d+\.\d+\.\d+\.\d+/\d+)", out)
        return m.group(1) if m else None

    def mac(self, dev="eth0"):
        return self.run(f"cat /sys/class/net/{dev}/address", check=True)[1].strip()

    def udhcpc(self, dev="eth0"):
        """Ask for a lease now: (address/prefix, router) the script got, or None."""
        st, out = self.run(f"udhcpc -i {dev} -s /usr/share/udhcpc/default.script -n -q -t 5 -T 1 2>&1", timeout=60)
        m = re.search(rf"udhcpc: {dev} (\S+?)(?: via (\S+))?$", out, re.M)
        lease = (m.group(1), m.group(2)) if st == 0 and m else None
        log(f"{self.name}: udhcpc on {dev}: {lease}")
        return lease

    # -- life

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def close(self, quick=False):
        """Power the guest off; kill its process if it does not stop.
        Returns the exit status."""
        if not self.alive():
            return self.proc.returncode if self.proc else None
        try:
            self.proc.stdin.write(b"\npoweroff -f\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass
        try:
            return self.proc.wait(5 if quick else 30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def reap(self):
        """Kill the process if still there; read its output to the end."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc:
            self.reader.join(5)


class QemuVM(GuestVM):
    """qemu-system-riscv64 booting the same guest, with one virtio-net
    adapter on the given -netdev (TYPE,OPTIONS without the id)."""

    def __init__(self, world, ns, name, netdev, **kw):
        super().__init__(world, ns, name, **kw)
        self.netdev = netdev

    def command(self):
        d = guest_dir()
        return ["qemu-system-riscv64", "-M", "virt", "-m", "256M", "-smp", "1", "-nographic",
                "-kernel", os.path.join(d, "Image"), "-initrd", os.path.join(d, "initramfs.cpio"),
                "-append", "console=ttyS0 " + self.append,
                "-netdev", self.netdev + ",id=n0", "-device", "virtio-net-device,netdev=n0"]


# ---------------------------------------------------------------- the table

class Table:
    """Checks of one row of the connectivity table. Every check runs and is
    logged; done() fails the test with all the cells that were wrong."""

    def __init__(self, mode):
        self.mode, self.wrong = mode, []

    def cell(self, col, what, works, expected):
        ok = bool(works) == expected
        line = (f"{self.mode} {col} ({'must work' if expected else 'must not work'}): {what}: "
                f"{'works' if works else 'fails'}")
        log(("ok    " if ok else "WRONG ") + line)
        if not ok:
            self.wrong.append(line)

    def done(self):
        if self.wrong:
            raise TestFailure("cells of the connectivity table are wrong:\n  " + "\n  ".join(self.wrong))


def served(body, banner):
    return body is not None and banner in body


def lan_routes_to(lan, net):
    """Give the LAN a route to net through the host, as a router would have:
    a "-" cell must then fail because of the host, not for lack of a route."""
    lan.ip("route", "add", net, "via", HOST_IP)


# ---------------------------------------------------------------- connectivity table

def test_table_nat():
    """nat: each adapter has its own NAT (10.0.2.15, gateway 10.0.2.2 = the
    host's loopback). VM<->VM -, VM->Host +, Host->VM PF, VM->LAN +, LAN->VM PF."""
    with world() as w:
        h, lan = w.host_and_lan()
        links = h.links()
        h.serve(HOST_PORT, "host")
        lan.serve(HOST_PORT, "lan")
        lan_routes_to(lan, "10.0.2.0/24")
        a = w.vm(h, "a", [("nat", "web,tcp,,8081,,80")], dhcp=True)
        # b's own NAT; b takes another address of the same subnet, so that
        # a shared network would let a and b meet.
        b = w.vm(h, "b", [("nat", "web,tcp,,8082,10.0.2.16,80")], ip="10.0.2.16/24", gw="10.0.2.2")
        got = a.addr()
        expect(got == "10.0.2.15/24", f"a got {got} by DHCP, expected 10.0.2.15/24")
        a.serve(80, "vm-a")
        b.serve(80, "vm-b")
        t = Table("nat")

        t.cell("VM<->VM", "a pings b (10.0.2.16)", a.ping("10.0.2.16"), False)
        t.cell("VM<->VM", "b pings a (10.0.2.15)", b.ping("10.0.2.15"), False)
        t.cell("VM<->VM", "a connects to b's TCP 80", served(a.get("10.0.2.16", 80), "vm-b"), False)
        t.cell("VM<->VM", "b connects to a's TCP 80", served(b.get("10.0.2.15", 80), "vm-a"), False)

        t.cell("VM->Host", "a pings the gateway 10.0.2.2", a.ping("10.0.2.2"), True)
        t.cell("VM->Host", "a connects to 10.0.2.2:8080 = the host's 127.0.0.1:8080",
               served(a.get("10.0.2.2", HOST_PORT), "host peer=127.0.0.1"), True)
        t.cell("VM->Host", "a pings the host's address 192.168.200.1", a.ping(HOST_IP), True)
        t.cell("VM->Host", "a connects to the host's 192.168.200.1:8080", served(a.get(HOST_IP, HOST_PORT), "host"),
               True)
        t.cell("VM->Host", "b (static address) connects to 10.0.2.2:8080", served(b.get("10.0.2.2", HOST_PORT), "host"),
               True)
        t.cell("VM->Host", "a downloads 4 MB from 10.0.2.2:8080 intact",
               a.fetch_md5("10.0.2.2", HOST_PORT, BIG) == bulk_md5(), True)

        t.cell("Host->VM", "host pings 10.0.2.15", h.ping("10.0.2.15"), False)
        t.cell("Host->VM", "host connects to 10.0.2.15:80", served(h.get("10.0.2.15", 80), "vm-a"), False)
        t.cell("Host->VM", "a new interface appears on the host", h.links() != links, False)
        t.cell("Host->VM", "PF: host 127.0.0.1:8081 reaches a's TCP 80", served(h.get("127.0.0.1", 8081), "vm-a"), True)
        t.cell("Host->VM", "PF: host 127.0.0.1:8082 reaches b's TCP 80 (its own NAT)",
               served(h.get("127.0.0.1", 8082), "vm-b"), True)
        t.cell("Host->VM", "PF: host downloads 4 MB from a intact", h.fetch_md5("127.0.0.1", 8081, "/big") == a.big_md5,
               True)

        t.cell("VM->LAN", "a pings the LAN 192.168.200.2", a.ping(LAN_IP), True)
        t.cell("VM->LAN", "a connects to the LAN's TCP 8080, seen from the host's address",
               served(a.get(LAN_IP, HOST_PORT), f"lan peer={HOST_IP}"), True)
        t.cell("VM->LAN", "a downloads 4 MB from the LAN intact",
               a.fetch_md5(LAN_IP, HOST_PORT, BIG) == bulk_md5(), True)

        t.cell("LAN->VM", "LAN pings 10.0.2.15 (routed via the host)", lan.ping("10.0.2.15"), False)
        t.cell("LAN->VM", "LAN connects to 10.0.2.15:80", served(lan.get("10.0.2.15", 80), "vm-a"), False)
        t.cell("LAN->VM", "PF: LAN 192.168.200.1:8081 reaches a's TCP 80", served(lan.get(HOST_IP, 8081), "vm-a"), True)
        t.cell("LAN->VM", "PF: LAN downloads 4 MB from a intact",
               lan.fetch_md5(HOST_IP, 8081, "/big") == a.big_md5, True)
        t.done()


def test_table_natnetwork():
    """natnetwork: a shared switch with a NAT gateway 10.0.2.1 (= the host's
    loopback), DHCP from 10.0.2.4. VM<->VM +, VM->Host +, Host->VM PF,
    VM->LAN +, LAN->VM PF."""
    with world() as w:
        h, lan = w.host_and_lan()
        links = h.links()
        h.serve(HOST_PORT, "host")
        lan.serve(HOST_PORT, "lan")
        lan_routes_to(lan, "10.0.2.0/24")
        # The first VM on a fresh network gets the first lease, .4; the rule
        # names the guest, as a natnetwork needs.
        a = w.vm(h, "a", [("natnetwork=nn", "web-a,tcp,,8081,10.0.2.4,80")], dhcp=True)
        b = w.vm(h, "b", [("natnetwork=nn", "web-b,tcp,,8082,10.0.2.5,80")], dhcp=True)
        got = (a.addr(), b.addr())
        expect(got == ("10.0.2.4/24", "10.0.2.5/24"), f"DHCP gave a and b {got}, expected 10.0.2.4/24 and .5/24")
        a.serve(80, "vm-a")
        b.serve(80, "vm-b")
        t = Table("natnetwork")

        t.cell("VM<->VM", "a pings b", a.ping("10.0.2.5"), True)
        t.cell("VM<->VM", "b pings a", b.ping("10.0.2.4"), True)
        t.cell("VM<->VM", "a connects to b's TCP 80", served(a.get("10.0.2.5", 80), "vm-b"), True)
        t.cell("VM<->VM", "b connects to a's TCP 80", served(b.get("10.0.2.4", 80), "vm-a"), True)
        t.cell("VM<->VM", "b downloads 4 MB from a intact", b.fetch_md5("10.0.2.4", 80, "/big") == a.big_md5, True)

        t.cell("VM->Host", "a pings the gateway 10.0.2.1", a.ping("10.0.2.1"), True)
        t.cell("VM->Host", "a connects to 10.0.2.1:8080 = the host's 127.0.0.1:8080",
               served(a.get("10.0.2.1", HOST_PORT), "host peer=127.0.0.1"), True)
        t.cell("VM->Host", "b pings the host's address 192.168.200.1", b.ping(HOST_IP), True)
        t.cell("VM->Host", "b connects to the host's 192.168.200.1:8080", served(b.get(HOST_IP, HOST_PORT), "host"),
               True)
        t.cell("VM->Host", "b downloads 4 MB from the host intact", b.fetch_md5(HOST_IP, HOST_PORT, BIG) == bulk_md5(),
               True)

        t.cell("Host->VM", "host pings 10.0.2.4", h.ping("10.0.2.4"), False)
        t.cell("Host->VM", "host connects to 10.0.2.4:80", served(h.get("10.0.2.4", 80), "vm-a"), False)
        t.cell("Host->VM", "a new interface appears on the host", h.links() != links, False)
        t.cell("Host->VM", "PF: host 127.0.0.1:8081 reaches a's TCP 80", served(h.get("127.0.0.1", 8081), "vm-a"), True)
        t.cell("Host->VM", "PF: host 127.0.0.1:8082 reaches b's TCP 80", served(h.get("127.0.0.1", 8082), "vm-b"), True)
        t.cell("Host->VM", "PF: host downloads 4 MB from b intact", h.fetch_md5("127.0.0.1", 8082, "/big") == b.big_md5,
               True)

        t.cell("VM->LAN", "a pings the LAN", a.ping(LAN_IP), True)
        t.cell("VM->LAN", "b connects to the LAN's TCP 8080, seen from the host's address",
               served(b.get(LAN_IP, HOST_PORT), f"lan peer={HOST_IP}"), True)
        t.cell("VM->LAN", "a downloads 4 MB from the LAN intact",
               a.fetch_md5(LAN_IP, HOST_PORT, BIG) == bulk_md5(), True)

        t.cell("LAN->VM", "LAN pings 10.0.2.4 (routed via the host)", lan.ping("10.0.2.4"), False)
        t.cell("LAN->VM", "LAN connects to 10.0.2.4:80", served(lan.get("10.0.2.4", 80), "vm-a"), False)
        t.cell("LAN->VM", "PF: LAN 192.168.200.1:8081 reaches a's TCP 80", served(lan.get(HOST_IP, 8081), "vm-a"), True)
        t.cell("LAN->VM", "PF: LAN 192.168.200.1:8082 reaches b's TCP 80", served(lan.get(HOST_IP, 8082), "vm-b"), True)
        t.cell("LAN->VM", "PF: LAN downloads 4 MB from a intact",
               lan.fetch_md5(HOST_IP, 8081, "/big") == a.big_md5, True)
        t.done()


def test_table_bridged():
    """bridged on a Linux bridge (br0 holds the host's NIC and address): the
    VMs are on the LAN. Every cell +."""
    with world() as w:
        h, lan = w.host_and_lan(bridge=True)
        h.serve(HOST_PORT, "host")
        lan.serve(HOST_PORT, "lan")
        a = w.vm(h, "a", ["bridged=br0"], ip="192.168.200.11/24")
        b = w.vm(h, "b", ["bridged=br0"], ip="192.168.200.12/24")
        a.serve(80, "vm-a")
        b.serve(80, "vm-b")
        t = Table("bridged")
        ports = h.ip("-o", "link", "show", "master", "br0").stdout
        t.cell("setup", "a TAP of the switch is a port of br0", re.search(r": vb-\w+", ports), True)

        t.cell("VM<->VM", "a pings b", a.ping("192.168.200.12"), True)
        t.cell("VM<->VM", "b pings a", b.ping("192.168.200.11"), True)
        t.cell("VM<->VM", "a connects to b's TCP 80", served(a.get("192.168.200.12", 80), "vm-b"), True)
        t.cell("VM<->VM", "b connects to a's TCP 80", served(b.get("192.168.200.11", 80), "vm-a"), True)
        t.cell("VM<->VM", "b downloads 4 MB from a intact",
               b.fetch_md5("192.168.200.11", 80, "/big") == a.big_md5, True)

        t.cell("VM->Host", "a pings the host", a.ping(HOST_IP), True)
        t.cell("VM->Host", "a connects to the host's TCP 8080 from its own address",
               served(a.get(HOST_IP, HOST_PORT), "host peer=192.168.200.11"), True)
        t.cell("VM->Host", "a downloads 4 MB from the host intact", a.fetch_md5(HOST_IP, HOST_PORT, BIG) == bulk_md5(),
               True)

        t.cell("Host->VM", "host pings a", h.ping("192.168.200.11"), True)
        t.cell("Host->VM", "host connects to a's TCP 80", served(h.get("192.168.200.11", 80), "vm-a"), True)
        t.cell("Host->VM", "host downloads 4 MB from a intact", h.fetch_md5("192.168.200.11", 80, "/big") == a.big_md5,
               True)

        t.cell("VM->LAN", "b pings the LAN", b.ping(LAN_IP), True)
        t.cell("VM->LAN", "b connects to the LAN's TCP 8080 from its own address",
               served(b.get(LAN_IP, HOST_PORT), "lan peer=192.168.200.12"), True)
        t.cell("VM->LAN", "b downloads 4 MB from the LAN intact",
               b.fetch_md5(LAN_IP, HOST_PORT, BIG) == bulk_md5(), True)

        t.cell("LAN->VM", "LAN pings b", lan.ping("192.168.200.12"), True)
        t.cell("LAN->VM", "LAN connects to b's TCP 80", served(lan.get("192.168.200.12", 80), "vm-b"), True)
        t.cell("LAN->VM", "LAN downloads 4 MB from b intact", lan.fetch_md5("192.168.200.12", 80, "/big") == b.big_md5,
               True)
        t.done()


def test_table_intnet():
    """intnet: VMs only. The VMs' addresses are on the host's and the LAN's
    subnet, with the host as gateway: any leak would make the "-" cells
    work. VM<->VM +, everything else -."""
    with world() as w:
        h, lan = w.host_and_lan()
        links = h.links()
        h.serve(HOST_PORT, "host")
        lan.serve(HOST_PORT, "lan")
        a = w.vm(h, "a", ["intnet=in"], ip="192.168.200.11/24", gw=HOST_IP)
        b = w.vm(h, "b", ["intnet=in"], ip="192.168.200.12/24", gw=HOST_IP)
        a.serve(80, "vm-a")
        b.serve(80, "vm-b")
        t = Table("intnet")

        t.cell("VM<->VM", "a pings b", a.ping("192.168.200.12"), True)
        t.cell("VM<->VM", "b pings a", b.ping("192.168.200.11"), True)
        t.cell("VM<->VM", "a connects to b's TCP 80", served(a.get("192.168.200.12", 80), "vm-b"), True)
        t.cell("VM<->VM", "b connects to a's TCP 80", served(b.get("192.168.200.11", 80), "vm-a"), True)
        t.cell("VM<->VM", "b downloads 4 MB from a intact",
               b.fetch_md5("192.168.200.11", 80, "/big") == a.big_md5, True)

        t.cell("VM->Host", "a pings the host", a.ping(HOST_IP), False)
        t.cell("VM->Host", "a connects to the host's TCP 8080", served(a.get(HOST_IP, HOST_PORT), "host"), False)

        t.cell("Host->VM", "host pings a", h.ping("192.168.200.11"), False)
        t.cell("Host->VM", "host connects to a's TCP 80", served(h.get("192.168.200.11", 80), "vm-a"), False)
        t.cell("Host->VM", "a new interface appears on the host", h.links() != links, False)

        t.cell("VM->LAN", "b pings the LAN", b.ping(LAN_IP), False)
        t.cell("VM->LAN", "b connects to the LAN's TCP 8080", served(b.get(LAN_IP, HOST_PORT), "lan"), False)

        t.cell("LAN->VM", "LAN pings b", lan.ping("192.168.200.12"), False)
        t.cell("LAN->VM", "LAN connects to b's TCP 80", served(lan.get("192.168.200.12", 80), "vm-b"), False)
        t.done()


def test_table_hostonly():
    """hostonly: a switch with a host TAP vh-NAME (192.168.56.1/24) and a
    DHCP server (.100, leases .101-.254). VM<->VM +, VM<->Host +, LAN -: even
    with routes both ways through the host, which does not forward."""
    with world() as w:
        h, lan = w.host_and_lan()
        expect(h.run(["sysctl", "-n", "net.ipv4.ip_forward"]).stdout.strip() == "0", "H forwards IPv4")
        h.serve(HOST_PORT, "host")
        lan.serve(HOST_PORT, "lan")
        lan_routes_to(lan, "192.168.56.0/24")
        a = w.vm(h, "a", ["hostonly=ho"], dhcp=True)
        b = w.vm(h, "b", ["hostonly=ho"], dhcp=True)
        got = (a.addr(), b.addr())
        expect(got == ("192.168.56.101/24", "192.168.56.102/24"),
               f"DHCP gave a and b {got}, expected 192.168.56.101/24 and .102/24")
        a.serve(80, "vm-a")
        b.serve(80, "vm-b")
        a.run("ip route add default via 192.168.56.1", check=True)
        b.run("ip route add default via 192.168.56.1", check=True)
        t = Table("hostonly")
        tap = h.ip("-4", "-o", "addr", "show", "dev", "vh-ho", check=False).stdout
        t.cell("setup", "the host has vh-ho with 192.168.56.1/24", "192.168.56.1/24" in tap, True)

        t.cell("VM<->VM", "a pings b", a.ping("192.168.56.102"), True)
        t.cell("VM<->VM", "b pings a", b.ping("192.168.56.101"), True)
        t.cell("VM<->VM", "a connects to b's TCP 80", served(a.get("192.168.56.102", 80), "vm-b"), True)
        t.cell("VM<->VM", "b connects to a's TCP 80", served(b.get("192.168.56.101", 80), "vm-a"), True)
        t.cell("VM<->VM", "b downloads 4 MB from a intact",
               b.fetch_md5("192.168.56.101", 80, "/big") == a.big_md5, True)

        t.cell("VM->Host", "a pings 192.168.56.1", a.ping("192.168.56.1"), True)
        t.cell("VM->Host", "a connects to the host's TCP 8080 from its own address",
               served(a.get("192.168.56.1", HOST_PORT), "host peer=192.168.56.101"), True)
        t.cell("VM->Host", "a downloads 4 MB from the host intact",
               a.fetch_md5("192.168.56.1", HOST_PORT, BIG) == bulk_md5(), True)

        t.cell("Host->VM", "host pings a", h.ping("192.168.56.101"), True)
        t.cell("Host->VM", "host connects to a's TCP 80", served(h.get("192.168.56.101", 80), "vm-a"), True)
        t.cell("Host->VM", "host connects to b's TCP 80", served(h.get("192.168.56.102", 80), "vm-b"), True)
        t.cell("Host->VM", "host downloads 4 MB from b intact", h.fetch_md5("192.168.56.102", 80, "/big") == b.big_md5,
               True)

        t.cell("VM->LAN", "a pings the LAN (default route via 192.168.56.1)", a.ping(LAN_IP), False)
        t.cell("VM->LAN", "a connects to the LAN's TCP 8080", served(a.get(LAN_IP, HOST_PORT), "lan"), False)

        t.cell("LAN->VM", "LAN pings a (routed via the host)", lan.ping("192.168.56.101"), False)
        t.cell("LAN->VM", "LAN connects to a's TCP 80", served(lan.get("192.168.56.101", 80), "vm-a"), False)
        t.done()

        # The network is on demand: it goes, with its TAP, after its last VM.
        a.close()
        b.close()
        gone = wait_until(lambda: "vh-ho" not in h.links() and not w.switch_pids(h, "hostonly", "ho"), 10)
        expect(gone, f"hostonly switch or vh-ho still there 10 s after the last VM left: {h.links()}")


# ---------------------------------------------------------------- port forwarding, DHCP

def test_natpf_rules():
    """Port forwarding details: a rule bound to the host's 127.0.0.1 is not
    reachable from the LAN; a UDP rule delivers datagrams; a natnetwork takes
    rules from `vireo switch --natpf` too; clashing rules are refused at VM
    start; a rule belongs to the adapter given before it."""
    with world() as w:
        h, lan = w.host_and_lan()
        a = w.vm(h, "a", [("nat", "lo-only,tcp,127.0.0.1,8081,,80", "any,tcp,,8082,,80", "dns,udp,,5353,,5353")],
                 dhcp=True)
        a.serve(80, "vm-a")
        a.run("nc -u -l -p 5353 > /tmp/udp.txt &")
        expect(served(h.get("127.0.0.1", 8081), "vm-a"), "a rule on 127.0.0.1:8081 does not reach the guest")
        expect(not served(lan.get(HOST_IP, 8081), "vm-a"), "a rule on 127.0.0.1:8081 is reachable from the LAN")
        expect(served(lan.get(HOST_IP, 8082), "vm-a"), "a rule without host address is not reachable from the LAN")
        h.run(["python3", "-c", UDP_SEND, "127.0.0.1", 5353, "udp-token-1"], check=True)
        got = wait_until(lambda: "udp-token-1" in a.run("cat /tmp/udp.txt")[1], 10, step=1)
        expect(got, "a UDP datagram to the host's 5353 did not reach the guest's 5353")

        # natnetwork, rule given to the switch itself
        w.switch(h, "natnetwork", "pf", "--natpf", "web,tcp,,9090,10.0.2.4,80")
        b = w.vm(h, "b", ["natnetwork=pf"], dhcp=True)
        got = b.addr()
        expect(got == "10.0.2.4/24", f"b got {got}, expected 10.0.2.4/24")
        b.serve(80, "vm-b")
        expect(served(h.get("127.0.0.1", 9090), "vm-b"), "switch --natpf: host 127.0.0.1:9090 does not reach b")
        expect(served(lan.get(HOST_IP, 9090), "vm-b"), "switch --natpf: LAN 192.168.200.1:9090 does not reach b")

        # Rules that clash are refused when the VM starts, with a message.
        rc, out = w.run_refused(h, ["--nic", "natnetwork=pf", "--natpf", "web,tcp,,9091,10.0.2.4,80"])
        expect(rc != 0 and "web" in out, f"a natnetwork rule 'web' with other ports was not refused ({rc}): {out}")
        rc, out = w.run_refused(h, ["--nic", "natnetwork=pf", "--natpf", "other,tcp,,9090,10.0.2.9,80"])
        expect(rc != 0 and "9090" in out, f"a second natnetwork rule on host port 9090 was not refused ({rc}): {out}")
        rc, out = w.run_refused(h, ["--nic", "nat", "--natpf", "again,tcp,,8082,,80"])
        expect(rc != 0 and "8082" in out,
               f"a nat rule on host port 8082, already forwarded, was accepted ({rc}): {out}")
        expect(served(h.get("127.0.0.1", 9090), "vm-b") and served(h.get("127.0.0.1", 8082), "vm-a"),
               "the refused rules broke the rules in place")

        # A rule belongs to the adapter before it: here the second NAT, whose
        # guest is 10.0.3.15.
        c = w.vm(h, "c", ["nat", ("nat", "second,tcp,,8084,,80")], dhcp=True)
        lease = c.udhcpc("eth1")
        expect(lease == ("10.0.3.15/24", "10.0.3.2"), f"c's second nat adapter got {lease}")
        c.serve(80, "vm-c")
        expect(served(h.get("127.0.0.1", 8084), "vm-c"), "a rule on the second nat adapter does not reach 10.0.3.15:80")


def test_dhcp_leases():
    """udhcpc gets VirtualBox's addresses: nat adapter N 10.0.(N+1).15 via
    .2; natnetwork from 10.0.2.4 via .1, one address per VM, kept on renewal;
    hostonly from 192.168.56.101, no router; other networks with --cidr."""
    with world() as w:
        h = w.netns("H")
        d0 = w.vm(h, "d0", [], dhcp=True)        # no --nic: one nat adapter
        got = d0.addr()
        expect(got == "10.0.2.15/24", f"a VM without --nic got {got} on eth0, expected a nat adapter's 10.0.2.15/24")
        n = w.vm(h, "n", ["nat", "nat"])
        for dev, want in (("eth0", ("10.0.2.15/24", "10.0.2.2")), ("eth1", ("10.0.3.15/24", "10.0.3.2"))):
            got = n.udhcpc(dev)
            expect(got == want, f"nat adapter {dev}: lease {got}, expected {want}")

        a = w.vm(h, "a", ["natnetwork=nd"])
        b = w.vm(h, "b", ["natnetwork=nd"])
        la, lb = a.udhcpc(), b.udhcpc()
        expect(la == ("10.0.2.4/24", "10.0.2.1"), f"natnetwork: first lease {la}, expected 10.0.2.4/24 via 10.0.2.1")
        expect(lb == ("10.0.2.5/24", "10.0.2.1"), f"natnetwork: second lease {lb}, expected 10.0.2.5/24 via 10.0.2.1")
        expect(a.udhcpc() == la, "natnetwork: asking again gave a another address")
        dns = a.run("cat /etc/resolv.conf")[1]
        expect("nameserver 10.0.2.2" in dns, f"natnetwork: the lease should name the DNS forwarder 10.0.2.2: {dns}")

        c = w.vm(h, "c", ["hostonly=hd"])
        d = w.vm(h, "d", ["hostonly=hd"])
        lc, ld = c.udhcpc(), d.udhcpc()
        expect(lc == ("192.168.56.101/24", None), f"hostonly: first lease {lc}, expected 192.168.56.101/24, no router")
        expect(ld == ("192.168.56.102/24", None), f"hostonly: second lease {ld}, expected 192.168.56.102/24")

        # Switches run by hand with networks of their own.
        w.switch(h, "natnetwork", "nc", "--cidr", "10.10.0.0/24")
        w.switch(h, "hostonly", "hc", "--cidr", "192.168.57.1/24", "--ifname", "vhtest")
        e = w.vm(h, "e", ["natnetwork=nc"])
        f = w.vm(h, "f", ["hostonly=hc"])
        got = e.udhcpc()
        expect(got == ("10.10.0.4/24", "10.10.0.1"), f"natnetwork --cidr 10.10.0.0/24: lease {got}")
        expect(e.ping("10.10.0.1"), "natnetwork --cidr 10.10.0.0/24: the gateway 10.10.0.1 does not answer")
        got = f.udhcpc()
        expect(got == ("192.168.57.101/24", None), f"hostonly --cidr 192.168.57.1/24: lease {got}")
        tap = h.ip("-4", "-o", "addr", "show", "dev", "vhtest", check=False).stdout
        expect("192.168.57.1/24" in tap,
               f"hostonly --ifname vhtest: the host's TAP is not vhtest with 192.168.57.1: {tap}")
        expect(h.ping("192.168.57.101"), "hostonly --cidr: the host cannot ping f")


# ---------------------------------------------------------------- interop

def test_interop_qemu():
    """A QEMU VM (-netdev stream) joins our intnet through the switch's
    stream uplink and talks to a Vireo VM."""
    with world() as w:
        h = w.netns("H")
        port = 10555
        w.switch(h, "intnet", "qx", "--uplink", f"stream,listen=127.0.0.1:{port}")
        v = w.vm(h, "vireo", ["intnet=qx"], ip="10.7.0.1/24")
        q = w.qemu(h, "qemu", f"stream,server=off,addr.type=inet,addr.host=127.0.0.1,addr.port={port}",
                   ip="10.7.0.2/24")
        v.serve(80, "vm-vireo")
        q.serve(80, "vm-qemu")
        expect(v.ping("10.7.0.2"), "the Vireo VM cannot ping the QEMU VM")
        expect(q.ping("10.7.0.1"), "the QEMU VM cannot ping the Vireo VM")
        expect(served(v.get("10.7.0.2", 80), "vm-qemu"), "the Vireo VM cannot reach the QEMU VM's TCP 80")
        expect(served(q.get("10.7.0.1", 80), "vm-vireo"), "the QEMU VM cannot reach the Vireo VM's TCP 80")
        expect(v.fetch_md5("10.7.0.2", 80, "/big") == q.big_md5, "4 MB from the QEMU VM to the Vireo VM arrive damaged")
        expect(q.fetch_md5("10.7.0.1", 80, "/big") == v.big_md5, "4 MB from the Vireo VM to the QEMU VM arrive damaged")


def test_interop_generic():
    """generic adapters speak QEMU's socket netdevs: a Vireo VM listening
    (generic,stream,listen) is joined by a QEMU VM; a switch carries a QEMU
    VM on its dgram uplink and a Vireo VM connecting to its stream uplink
    (generic,stream,connect), next to a VM plugged in as intnet; two Vireo
    VMs share a generic,dgram cable."""
    with world() as w:
        h = w.netns("H")
        # A point-to-point cable: Vireo listens, QEMU connects.
        a = w.vm(h, "a", ["generic,stream,listen=127.0.0.1:10600"], ip="10.4.0.1/24")
        q1 = w.qemu(h, "q1", "stream,server=off,addr.type=inet,addr.host=127.0.0.1,addr.port=10600", ip="10.4.0.2/24")
        expect(a.ping("10.4.0.2"), "a (generic,stream,listen) cannot ping the QEMU VM connected to it")
        expect(q1.ping("10.4.0.1"), "the QEMU VM cannot ping a (generic,stream,listen)")

        w.switch(h, "intnet", "gx", "--uplink", "stream,listen=127.0.0.1:10601",
                 "--uplink", "dgram,local=127.0.0.1:10602,remote=127.0.0.1:10603")
        b = w.vm(h, "b", ["intnet=gx"], ip="10.4.1.1/24")
        c = w.vm(h, "c", ["generic,stream,connect=127.0.0.1:10601"], ip="10.4.1.2/24")
        q2 = w.qemu(h, "q2", "dgram,local.type=inet,local.host=127.0.0.1,local.port=10603,"
                    "remote.type=inet,remote.host=127.0.0.1,remote.port=10602", ip="10.4.1.3/24")
        c.serve(80, "vm-c")
        expect(b.ping("10.4.1.2"), "b (intnet) cannot ping c (generic,stream,connect to the switch)")
        expect(b.ping("10.4.1.3"), "b (intnet) cannot ping the QEMU VM on the switch's dgram uplink")
        expect(q2.ping("10.4.1.2"), "the QEMU VM (dgram) cannot ping c (stream)")
        expect(served(q2.get("10.4.1.2", 80), "vm-c"), "the QEMU VM (dgram) cannot reach c's TCP 80")
        expect(q2.fetch_md5("10.4.1.2", 80, "/big") == c.big_md5, "4 MB from c (stream) to the QEMU VM (dgram) damaged")

        # Two Vireo VMs on a dgram cable.
        d = w.vm(h, "d", ["generic,dgram,local=127.0.0.1:10610,remote=127.0.0.1:10611"], ip="10.4.2.1/24")
        e = w.vm(h, "e", ["generic,dgram,local=127.0.0.1:10611,remote=127.0.0.1:10610"], ip="10.4.2.2/24")
        e.serve(80, "vm-e")
        expect(d.ping("10.4.2.2") and e.ping("10.4.2.1"), "two VMs on a generic,dgram cable cannot ping each other")
        expect(d.fetch_md5("10.4.2.2", 80, "/big") == e.big_md5, "4 MB over a generic,dgram cable arrive damaged")


def test_interop_vxlan():
    """A Linux vxlan device (VNI 42, port 4789) in the LAN and our switch's
    vxlan uplink make one segment; frames of another VNI are not delivered.
    Then a VM's own generic vxlan adapter (MTU 1450) does the same."""
    with world() as w:
        h, lan = w.host_and_lan()

        def kernel_vxlan(vni):
            lan.ip("link", "del", "vx0", check=False)
            lan.ip("link", "add", "vx0", "type", "vxlan", "id", vni, "remote", HOST_IP, "local", LAN_IP,
                   "dstport", 4789)
            lan.ip("addr", "add", "10.42.0.2/24", "dev", "vx0")
            lan.ip("link", "set", "vx0", "up")
            # Over veth the kernel leaves the inner checksums unfinished
            # (its metadata says so, but a UDP receiver cannot see that);
            # a physical NIC would have finished them.
            tx_checksum_off(lan, "vx0")

        kernel_vxlan(42)
        sw = w.switch(h, "intnet", "vx", "--uplink", f"vxlan,vni=42,remote={LAN_IP}")
        v = w.vm(h, "v", ["intnet=vx"], ip="10.42.0.1/24")
        expect(v.ping("10.42.0.2"), "the VM cannot ping the kernel's vxlan device")
        expect(lan.ping("10.42.0.1"), "the kernel's vxlan device cannot ping the VM")
        v.serve(80, "vm-v")
        lan.serve(HOST_PORT, "lan")
        expect(served(lan.get("10.42.0.1", 80), "vm-v"), "TCP from the kernel's vxlan side to the VM fails")
        expect(served(v.get("10.42.0.2", HOST_PORT), "lan peer=10.42.0.1"),
               "TCP from the VM to the kernel's vxlan side fails")
        expect(v.fetch_md5("10.42.0.2", HOST_PORT, BIG) == bulk_md5(), "4 MB from the kernel's vxlan side damaged")
        expect(lan.fetch_md5("10.42.0.1", 80, "/big") == v.big_md5,
               "4 MB from the VM to the kernel's vxlan side damaged")

        # Same addresses, VNI 43: nothing of it may reach the VM.
        kernel_vxlan(43)
        v.run("ip neigh flush dev eth0")
        lan.ip("neigh", "flush", "dev", "vx0")
        rx0 = int(v.run("cat /sys/class/net/eth0/statistics/rx_packets", check=True)[1])
        expect(not lan.ping("10.42.0.1", count=3), "VNI 43 frames reached the VM (ping answered)")
        expect(not v.ping("10.42.0.2", count=2), "the VM reached the VNI 43 device")
        rx1 = int(v.run("cat /sys/class/net/eth0/statistics/rx_packets", check=True)[1])
        expect(rx1 == rx0, f"the VM received {rx1 - rx0} frames while only VNI 43 was talking")
        v.close()
        sw.send_signal(signal.SIGTERM)
        sw.wait(10)

        # A VM's own vxlan adapter, no switch.
        kernel_vxlan(42)
        g = w.vm(h, "g", [f"generic,vxlan,vni=42,remote={LAN_IP}"], ip="10.42.0.3/24")
        mtu = g.run("cat /sys/class/net/eth0/mtu", check=True)[1].strip()
        expect(mtu == "1450", f"a vxlan adapter should give the guest MTU 1450, got {mtu}")
        expect(g.ping("10.42.0.2"), "a generic,vxlan adapter cannot ping the kernel's vxlan device")
        expect(lan.ping("10.42.0.3"), "the kernel's vxlan device cannot ping a generic,vxlan adapter")
        expect(served(g.get("10.42.0.2", HOST_PORT), "lan peer=10.42.0.3"),
               "TCP from a generic,vxlan adapter to the kernel's vxlan side fails")
        expect(g.fetch_md5("10.42.0.2", HOST_PORT, BIG) == bulk_md5(),
               "4 MB from the kernel's vxlan side to a generic,vxlan adapter damaged")
        st, out = g.run("ping -c 2 -W 2 -s 1422 10.42.0.2")
        expect(st == 0, f"full-size (1450-byte) packets do not cross the vxlan link:\n{out}")


# ---------------------------------------------------------------- resilience

def test_resilience_vm_kill():
    """kill -9 of one VM does not disturb the others or the switch."""
    with world() as w:
        h = w.netns("H")
        a = w.vm(h, "a", ["intnet=rk"], ip="10.8.0.1/24")
        b = w.vm(h, "b", ["intnet=rk"], ip="10.8.0.2/24")
        c = w.vm(h, "c", ["intnet=rk"], ip="10.8.0.3/24")
        sw = w.switch_pids(h, "intnet", "rk")
        expect(len(sw) == 1, f"expected one switch process, found {sw}")
        expect(a.ping("10.8.0.3", count=1), "a cannot ping c before the kill")
        a.run("ping -c 20 -i 0.25 10.8.0.2 > /tmp/ping.txt 2>&1 &")
        b.run("ping -c 20 -i 0.25 10.8.0.1 > /tmp/ping.txt 2>&1 &")
        time.sleep(1.5)
        c.kill()
        time.sleep(5)
        for vm, peer in ((a, "b"), (b, "a")):
            out = vm.run("cat /tmp/ping.txt")[1]
            m = re.search(r"(\d+) packets transmitted, (\d+) packets received", out)
            expect(m and m.group(1) == "20" and int(m.group(2)) >= 19,
                   f"{vm.name}'s pings to {peer} suffered from the kill of c:\n{out}")
        expect(w.switch_pids(h, "intnet", "rk") == sw, "the switch process changed after a VM was killed")
        expect(a.ping("10.8.0.2") and b.ping("10.8.0.1"), "a and b cannot ping each other after c's kill")
        expect(not a.ping("10.8.0.3", count=2), "c still answers after kill -9")
        expect(re.search(r"pid %d nic1.*(left|closed|reset|Connection)" % c.proc.pid, w.switch_log("intnet", "rk")),
               "the switch log does not say that c's port went")


def test_resilience_stopped_vm():
    """A VM that stops reading (its process stopped) while frames pour in for
    it loses its own frames only: the others carry on, and it recovers."""
    with world() as w:
        h = w.netns("H")
        a = w.vm(h, "a", ["intnet=st"], ip="10.8.0.1/24")
        b = w.vm(h, "b", ["intnet=st"], ip="10.8.0.2/24")
        c = w.vm(h, "c", ["intnet=st"], ip="10.8.0.3/24")
        expect(a.ping("10.8.0.3", count=1) and b.ping("10.8.0.3", count=1), "c does not answer before the test")
        macs = {vm: vm.mac() for vm in (a, b, c)}
        c.proc.send_signal(signal.SIGSTOP)
        try:
            # a floods c with 1000-byte datagrams (far more than the switch
            # buffers for c) while b pings a.
            a.run("timeout 8 sh -c 'dd if=/dev/zero bs=1000 count=200000 2>/dev/null | nc -u 10.8.0.3 9' &")
            st, out = b.run("ping -c 20 -i 0.25 10.8.0.1")
            m = re.search(r"(\d+) packets received", out)
            expect(m and int(m.group(1)) >= 19, f"b's pings to a suffered while c was stopped:\n{out}")
            b.serve(80, "vm-b")
            expect(a.fetch_md5("10.8.0.2", 80, "/big") == b.big_md5,
                   "a <-> b bulk traffic suffered while c was stopped")
            # The switch's own account (vireo switch --status): c's port
            # dropped what c did not take; nobody else lost a frame.
            p = h.run([VIREO, "switch", "--status", "--json", "--kind", "intnet", "--name", "st"], check=True)
            report = json.loads(p.stdout)
            ports = {pt["mac"]: pt for pt in report["ports"]}
            log("switch ports: " + ", ".join(f"{vm.name} out {ports[macs[vm]]['tx_frames']} "
                                             f"dropped {ports[macs[vm]]['tx_dropped']}" for vm in (a, b, c)))
            expect(ports[macs[c]]["tx_dropped"] > 1000, f"the switch counted no drops for stopped c: {p.stdout}")
            expect(ports[macs[a]]["tx_dropped"] == 0 and ports[macs[b]]["tx_dropped"] == 0,
                   f"the switch dropped frames for a or b while c was stopped: {p.stdout}")
            table = h.run([VIREO, "switch", "--status", "--kind", "intnet", "--name", "st"], check=True).stdout
            expect(macs[c] in table and "OUT DROP" in table, f"vireo switch --status prints no port table:\n{table}")
        finally:
            c.proc.send_signal(signal.SIGCONT)
        expect(wait_until(lambda: c.ping("10.8.0.1", count=1), 20, step=1), "c does not recover after SIGCONT")
        expect(a.ping("10.8.0.3") and b.ping("10.8.0.3"), "a and b cannot reach c after it resumed")


def test_resilience_switch_kill():
    """kill -9 of an intnet's switch: traffic stops and the adapters' links
    go down; the VMs start a new switch themselves within seconds, the links
    come back and the VMs talk again, without a restart."""
    with world() as w:
        h = w.netns("H")
        a = w.vm(h, "a", ["intnet=rs"], ip="10.8.0.1/24")
        b = w.vm(h, "b", ["intnet=rs"], ip="10.8.0.2/24")
        expect(a.ping("10.8.0.2", count=1), "a cannot ping b before the kill")
        old = w.switch_pids(h, "intnet", "rs")
        expect(len(old) == 1, f"expected one switch process, found {old}")
        carrier = "cat /sys/class/net/eth0/carrier_changes"
        changes = {vm: int(vm.run(carrier, check=True)[1]) for vm in (a, b)}
        a.run("ping -c 40 -i 0.25 10.8.0.2 > /tmp/ping.txt 2>&1 &")
        time.sleep(2)
        os.kill(old[0], signal.SIGKILL)
        t_kill = time.monotonic()
        new = wait_until(lambda: [p for p in w.switch_pids(h, "intnet", "rs") if p not in old], 10, step=0.1)
        expect(new, "no new switch process within 10 s of the kill")
        log(f"new switch {new} {time.monotonic() - t_kill:.1f}s after the kill of {old[0]}")
        # 40 pings 0.25 s apart: about 10 s, longer on a loaded machine or
        # under the sanitizers; wait for the summary instead of guessing.
        done = wait_until(lambda: re.search(r"40 packets transmitted", a.run("cat /tmp/ping.txt")[1]), 40, step=1)
        out = a.run("cat /tmp/ping.txt")[1]
        expect(done, f"a's ping did not finish:\n{out}")
        rtt = {int(s): float(t) for s, t in re.findall(r"seq=(\d+) ttl=\d+ time=([\d.]+) ms", out)}
        # While the link is down the guest holds its frames back (or they
        # are lost); either way no reply comes for a while.
        stalled = [s for s in range(40) if s not in rtt or rtt[s] > 500]
        log(f"pings lost or held back while the switch was away: {stalled}")
        expect(stalled, f"traffic went on although the switch was killed:\n{out}")
        expect(all(rtt.get(s, 1e9) < 500 for s in range(max(stalled) + 1, 40)) and max(stalled) < 39,
               f"pings did not come back to normal on the new switch:\n{out}")
        expect(a.ping("10.8.0.2") and b.ping("10.8.0.1"), "a and b cannot ping each other on the new switch")
        for vm in (a, b):
            n = int(vm.run(carrier, check=True)[1])
            expect(n >= changes[vm] + 2,
                   f"{vm.name}'s link did not go down and up again ({changes[vm]} -> {n} changes)")
            expect(re.search(r"lost the switch of intnet 'rs'", vm.text()),
                   f"{vm.name} did not report the lost switch on its stderr")


def test_resilience_restart_services():
    """After a kill -9 of a hostonly and a natnetwork switch, the restarted
    switches bring their services back: the host TAP with its address, DHCP
    that confirms the guest's lease, the NAT gateway, and the port forwards
    the VMs bring again."""
    with world() as w:
        h = w.netns("H")
        a = w.vm(h, "a", ["hostonly=hr"], dhcp=True)
        b = w.vm(h, "b", [("natnetwork=nr", "web,tcp,,8081,10.0.2.4,80")], dhcp=True)
        b.serve(80, "vm-b")
        expect(h.ping("192.168.56.101"), "the host cannot ping a on hostonly before the kill")
        expect(served(h.get("127.0.0.1", 8081), "vm-b"), "the port forward to b does not work before the kill")
        old = w.switch_pids(h, "hostonly", "hr") + w.switch_pids(h, "natnetwork", "nr")
        expect(len(old) == 2, f"expected two switch processes, found {old}")
        for pid in old:
            os.kill(pid, signal.SIGKILL)
        def switches():
            return w.switch_pids(h, "hostonly", "hr") + w.switch_pids(h, "natnetwork", "nr")

        def tap():
            return h.ip("-4", "-o", "addr", "show", "dev", "vh-hr", check=False).stdout
        back = wait_until(lambda: len(switches()) == 2 and not set(switches()) & set(old), 15)
        expect(back, f"the VMs did not start two new switches within 15 s: {switches()}")
        expect(wait_until(lambda: "192.168.56.1/24" in tap(), 10), "vh-hr with 192.168.56.1/24 did not come back")
        expect(wait_until(lambda: h.ping("192.168.56.101", count=1), 10, step=0.5),
               "the host cannot ping a after the hostonly switch restarted")
        expect(a.udhcpc() == ("192.168.56.101/24", None), "a did not keep its lease from the restarted DHCP server")
        expect(wait_until(lambda: served(h.get("127.0.0.1", 8081), "vm-b"), 10, step=0.5),
               "the port forward b brought did not come back with the natnetwork's switch")
        expect(b.ping("10.0.2.1"), "b cannot ping the restarted NAT gateway")


def test_resilience_manual_switch():
    """A switch somebody runs by hand is waited for, not replaced by an
    on-demand one with defaults: after its kill -9 the VMs wait (link down,
    no traffic), and when it runs again they come back by themselves."""
    with world() as w:
        h = w.netns("H")
        sw = w.switch(h, "intnet", "ms")
        a = w.vm(h, "a", ["intnet=ms"], ip="10.8.0.1/24")
        b = w.vm(h, "b", ["intnet=ms"], ip="10.8.0.2/24")
        expect(a.ping("10.8.0.2"), "a cannot ping b on a hand-run switch")
        sw.kill()
        sw.wait()
        time.sleep(4)
        others = w.switch_pids(h, "intnet", "ms")
        expect(not others, f"the VMs replaced a hand-run switch: {others}")
        expect(a.run("cat /sys/class/net/eth0/carrier")[1].strip() == "0", "a's link is up without a switch")
        expect(not a.ping("10.8.0.2", count=2), "a pings b without a switch")
        w.switch(h, "intnet", "ms")
        back = wait_until(lambda: a.run("cat /sys/class/net/eth0/carrier")[1].strip() == "1" and
                          b.run("cat /sys/class/net/eth0/carrier")[1].strip() == "1", 10, step=0.5)
        expect(back, "the VMs did not plug in again within 10 s of the switch's return")
        expect(a.ping("10.8.0.2") and b.ping("10.8.0.1"), "a and b cannot ping each other on the restarted switch")


def test_resilience_switch_out_of_fds():
    """A switch out of file descriptors neither spins on the connections it
    cannot accept nor stops forwarding for the VMs already on it; once
    descriptors free up, a new VM joins."""
    with world() as w:
        h = w.netns("H")
        sw = w.switch(h, "intnet", "fd")
        a = w.vm(h, "a", ["intnet=fd"], ip="10.8.0.1/24")
        b = w.vm(h, "b", ["intnet=fd"], ip="10.8.0.2/24")
        pid = w.switch_pids(h, "intnet", "fd")[0]
        path = os.path.join(w.rundir, "net", "intnet-fd.sock")

        def connect():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.connect(path)
            return s
        # (fillers say no hello: the switch closes them after 5 s, by
        # when the pending connection below has been refused a while)
        old, fillers = harness.exhaust_fds(pid, connect)
        pending = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            pending.connect(path)
            time.sleep(0.5)
            used = harness.cpu_used(pid, 3)
            log(f"with a connection it cannot accept, the switch used {used:.2f} s of CPU in 3 s")
            expect(used < 1.0, f"the switch spins on a connection it cannot accept: {used:.2f} s of CPU in 3 s")
            expect("cannot accept connections" in sw.output(), "the switch did not log the failed accept")
            expect(a.ping("10.8.0.2"), "a cannot ping b while the switch is out of descriptors")
        finally:
            harness.restore_fds(pid, old)
            pending.close()
            for f in fillers:
                f.close()
        c = w.vm(h, "c", ["intnet=fd"], ip="10.8.0.3/24")
        expect(c.ping("10.8.0.1"), "a VM that came after the shortage cannot ping a")


# ---------------------------------------------------------------- named networks: life, MTU, link

def test_ondemand_lifecycle():
    """VMs started at the same moment on a new network start exactly one
    switch between them; it stops about 2 s after the last VM leaves."""
    with world() as w:
        h = w.netns("H")
        vms = w.vms_at_once(h, [(f"v{i}", ["intnet=od"], {"ip": f"10.3.0.{i}/24"}) for i in (1, 2, 3)])
        pids = w.switch_pids(h, "intnet", "od")
        expect(len(pids) == 1, f"expected one switch for three VMs started together, found {pids}")
        for vm in vms:
            for j in (1, 2, 3):
                if vm.name != f"v{j}":
                    expect(vm.ping(f"10.3.0.{j}", count=1), f"{vm.name} cannot ping v{j}")
        vms[0].close()
        vms[1].kill()
        time.sleep(3)
        expect(w.switch_pids(h, "intnet", "od") == pids, "the switch stopped while a VM was still on it")
        vms[2].close()
        t0 = time.monotonic()
        gone = wait_until(lambda: not w.switch_pids(h, "intnet", "od"), 10, step=0.1)
        expect(gone, "the on-demand switch still runs 10 s after its last VM left")
        took = time.monotonic() - t0
        log(f"the switch stopped {took:.1f}s after the last VM left")
        expect(1 <= took <= 5, f"the switch stopped {took:.1f}s after the last VM left, expected about 2 s")
        expect("no VMs left" in w.switch_log("intnet", "od"), "the switch log does not say why it stopped")


def test_mtu_jumbo():
    """`vireo switch --mtu 9000`: the guests are offered MTU 9000 and 9000-byte
    packets cross; an adapter's mtu= takes precedence."""
    with world() as w:
        h = w.netns("H")
        w.switch(h, "intnet", "jm", "--mtu", 9000)
        a = w.vm(h, "a", ["intnet=jm"], ip="10.2.0.1/24")
        b = w.vm(h, "b", ["intnet=jm"], ip="10.2.0.2/24")
        c = w.vm(h, "c", ["intnet=jm,mtu=1400"], ip="10.2.0.3/24")
        mtus = [vm.run("cat /sys/class/net/eth0/mtu", check=True)[1].strip() for vm in (a, b, c)]
        expect(mtus == ["9000", "9000", "1400"], f"guest MTUs {mtus}, expected 9000, 9000 and 1400 (mtu=1400)")
        st, out = a.run("ping -c 2 -W 2 -s 8972 10.2.0.2")
        expect(st == 0, f"9000-byte packets do not cross a network with MTU 9000:\n{out}")
        b.serve(80, "vm-b")
        expect(a.fetch_md5("10.2.0.2", 80, "/big") == b.big_md5, "4 MB over MTU 9000 arrive damaged")
        expect(c.fetch_md5("10.2.0.2", 80, "/big") == b.big_md5, "4 MB to the mtu=1400 adapter arrive damaged")


def test_link_state():
    """link=down and none: the adapter is there without carrier and nothing
    passes; --no-nic: no adapter at all."""
    with world() as w:
        h = w.netns("H")
        a = w.vm(h, "a", ["intnet=ls"], ip="10.1.0.1/24")
        b = w.vm(h, "b", ["intnet=ls,link=down"], ip="10.1.0.2/24")
        c = w.vm(h, "c", ["none"], ip="10.1.0.3/24")
        d = w.vm(h, "d", [], extra=["--no-nic"])
        for vm in (b, c):
            carrier = vm.run("cat /sys/class/net/eth0/carrier")[1].strip()
            expect(carrier == "0", f"{vm.name}'s unplugged adapter has carrier {carrier!r}")
        expect(not a.ping("10.1.0.2"), "a reaches b whose adapter has link=down")
        expect(not b.ping("10.1.0.1"), "b with link=down reaches a")
        ifs = d.run("echo /sys/class/net/*")[1].replace("/sys/class/net/", "").split()
        expect(ifs == ["lo"], f"--no-nic: the guest has interfaces {ifs}")


# ---------------------------------------------------------------- VLANs, bridged on a plain NIC, pcap

def test_vlan_intnet():
    """vlan=N splits an intnet: only the VMs of one VLAN meet."""
    with world() as w:
        h = w.netns("H")
        a = w.vm(h, "a", ["intnet=vl,vlan=10"], ip="10.6.0.1/24")
        b = w.vm(h, "b", ["intnet=vl,vlan=10"], ip="10.6.0.2/24")
        c = w.vm(h, "c", ["intnet=vl,vlan=20"], ip="10.6.0.3/24")
        expect(a.ping("10.6.0.2"), "a cannot ping b, both on VLAN 10")
        expect(b.ping("10.6.0.1"), "b cannot ping a, both on VLAN 10")
        expect(not a.ping("10.6.0.3"), "a (VLAN 10) reaches c (VLAN 20)")
        expect(not c.ping("10.6.0.1"), "c (VLAN 20) reaches a (VLAN 10)")
        expect(not c.ping("10.6.0.2"), "c (VLAN 20) reaches b (VLAN 10)")


def test_bridged_packet():
    """bridged on a plain NIC (AF_PACKET on H's eth0): VM<->LAN both ways,
    VMs meet each other, and the host's outgoing frames reach the VMs.
    (VM->host cannot work there: frames injected with AF_PACKET leave on the
    wire and never enter the host's stack; table_bridged checks the bridge.)"""
    with world() as w:
        h, lan = w.host_and_lan()
        lan.serve(HOST_PORT, "lan")
        a = w.vm(h, "a", ["bridged=eth0"], ip="192.168.200.11/24")
        b = w.vm(h, "b", ["bridged=eth0"], ip="192.168.200.12/24")
        a.serve(80, "vm-a")
        t = Table("bridged (AF_PACKET)")
        t.cell("VM<->VM", "a pings b", a.ping("192.168.200.12"), True)
        t.cell("VM<->VM", "b connects to a's TCP 80", served(b.get("192.168.200.11", 80), "vm-a"), True)
        t.cell("VM<->VM", "b downloads 4 MB from a intact",
               b.fetch_md5("192.168.200.11", 80, "/big") == a.big_md5, True)
        t.cell("VM->LAN", "a pings the LAN", a.ping(LAN_IP), True)
        t.cell("VM->LAN", "a connects to the LAN's TCP 8080 from its own address",
               served(a.get(LAN_IP, HOST_PORT), "lan peer=192.168.200.11"), True)
        t.cell("VM->LAN", "a downloads 4 MB from the LAN intact",
               a.fetch_md5(LAN_IP, HOST_PORT, BIG) == bulk_md5(), True)
        t.cell("LAN->VM", "LAN pings a", lan.ping("192.168.200.11"), True)
        t.cell("LAN->VM", "LAN connects to a's TCP 80", served(lan.get("192.168.200.11", 80), "vm-a"), True)
        t.cell("LAN->VM", "LAN downloads 4 MB from a intact", lan.fetch_md5("192.168.200.11", 80, "/big") == a.big_md5,
               True)
        # The host's own outgoing frames reach the VM (one way: the VM's
        # answers leave on the wire, past the host's stack).
        h.ip("neigh", "replace", "192.168.200.11", "lladdr", a.mac(), "dev", "eth0", "nud", "permanent")
        a.run("nc -u -l -p 5000 > /tmp/udp.txt &")
        h.run(["python3", "-c", UDP_SEND, "192.168.200.11", 5000, "from-the-host"], check=True)
        t.cell("Host->VM", "a UDP datagram from the host arrives (one way)",
               wait_until(lambda: "from-the-host" in a.run("cat /tmp/udp.txt")[1], 5, step=0.5), True)
        t.done()


def test_vlan_bridged():
    """bridged on a plain NIC with vlan=10: the VM's frames leave tagged with
    VLAN 10 and it meets a VLAN 10 peer in the LAN; neither a VLAN 20 peer
    nor the untagged LAN meet it. (This kernel has no 8021q support, so the
    LAN's VLAN peers are raw sockets, see VLAN_PEER.)"""
    with world() as w:
        h, lan = w.host_and_lan()
        v = w.vm(h, "v", ["bridged=eth0,vlan=10"], ip="192.168.10.11/24")

        def peer(vid, *args):
            return ["python3", "-u", "-c", VLAN_PEER, "eth0", vid, "192.168.10.2"] + list(args)

        def lan_pings_vm(vid):
            out = lan.run(peer(vid, "ping", "192.168.10.11", 3), timeout=30).stdout
            log(f"VLAN {vid} peer pings the VM: {out.strip()}")
            return "replies 0" not in out and "replies" in out

        for vid, works in ((10, True), (20, False)):
            serve = w.spawn(lan, peer(vid, "serve", 30), f"vlan{vid}-peer")
            wait_until(lambda: "ready" in serve.output(), 10)
            v.run("ip neigh flush dev eth0")
            reached = v.ping("192.168.10.2")
            serve.kill()
            serve.wait()
            expect(reached == works, f"the VM on VLAN 10 {'cannot reach' if works else 'reaches'} a VLAN {vid} peer "
                   f"in the LAN; the peer saw:\n{serve.output()}")
            expect(lan_pings_vm(vid) == works,
                   f"a VLAN {vid} peer in the LAN {'cannot reach' if works else 'reaches'} the VM on VLAN 10")

        # The same address untagged, on the LAN's own stack.
        lan.ip("addr", "add", "192.168.10.2/24", "dev", "eth0")
        v.run("ip neigh flush dev eth0")
        expect(not v.ping("192.168.10.2"), "the VM on VLAN 10 reaches the untagged LAN")
        expect(not lan.ping("192.168.10.11"), "the untagged LAN reaches the VM on VLAN 10")


def test_pcap():
    """`vireo switch --pcap FILE` mirrors the network's frames: tshark finds
    the echo requests and replies between the two VMs' MACs."""
    with world() as w:
        h = w.netns("H")
        pcap = os.path.join(w.rundir, "intnet.pcap")
        sw = w.switch(h, "intnet", "pc", "--pcap", pcap)
        a = w.vm(h, "a", ["intnet=pc,mac=02:56:52:00:00:0a"], ip="10.5.0.1/24")
        b = w.vm(h, "b", ["intnet=pc,mac=02:56:52:00:00:0b"], ip="10.5.0.2/24")
        c = w.vm(h, "c", ["intnet=pc,vlan=10,mac=02:56:52:00:00:0c"], ip="10.5.10.1/24")
        d = w.vm(h, "d", ["intnet=pc,vlan=10,mac=02:56:52:00:00:0d"], ip="10.5.10.2/24")
        expect(a.ping("10.5.0.2", count=3), "a cannot ping b")
        expect(c.ping("10.5.10.2", count=2), "c cannot ping d on VLAN 10")

        def icmp():
            p = subprocess.run(["tshark", "-n", "-r", pcap, "-Y", "icmp", "-T", "fields", "-e", "eth.src",
                                "-e", "eth.dst", "-e", "icmp.type", "-e", "vlan.id"],
                               capture_output=True, text=True, timeout=60)
            expect(p.returncode == 0, f"tshark cannot read {pcap}: {p.stderr}")
            return [tuple(l.split("\t")) for l in p.stdout.splitlines() if l.strip()]
        # Records are whole as they are written: readable while the switch runs.
        seen = icmp()
        want = {("02:56:52:00:00:0a", "02:56:52:00:00:0b", "8", ""): 3,
                ("02:56:52:00:00:0b", "02:56:52:00:00:0a", "0", ""): 3,
                ("02:56:52:00:00:0c", "02:56:52:00:00:0d", "8", "10"): 2,      # VLAN 10: tagged
                ("02:56:52:00:00:0d", "02:56:52:00:00:0c", "0", "10"): 2}
        got = {k: seen.count(k) for k in want}
        expect(got == want and len(seen) == 10,
               f"expected echo requests and replies a<->b (untagged) and c<->d (VLAN 10) in the pcap:\n{seen}")
        for vm in (a, b, c, d):
            vm.close()
        sw.send_signal(signal.SIGTERM)
        expect(sw.wait(10) == 0, f"vireo switch did not stop cleanly on SIGTERM: {sw.output()}")
        expect(len(icmp()) == 10, f"the pcap changed after the stop: {icmp()}")


# ---------------------------------------------------------------- runner


if __name__ == "__main__":
    sys.exit(harness.main(globals(), needs_root=True, setup=guest_dir))
