#!/usr/bin/env python3
"""Seed inputs for the network and management fuzz targets.

    tests/fuzz/seeds_net.py [TARGET...]     (default: switch dhcpd api store)

Writes tests/fuzz/corpus/TARGET/seed-*.bin: a few small valid and
near-valid inputs in each target's input format (described at the top of
tests/fuzz/fuzz_TARGET.c), replacing the earlier seed-* files and leaving
inputs that fuzzing added (other names) alone. Deterministic: running it
again gives the same files.

- switch: records of (ingress port, frame) with broadcast, multicast and
  unicast MACs, 802.1Q tags (single, QinQ, 802.1ad, priority VID 0, VID
  4095), runts, jumbo and oversized frames, offload metadata (NEEDS_CSUM,
  TCPv4/TCPv6/UDP_L4 GSO) on TCP/UDP frames, clock steps, reconfigurations.
- dhcpd: DISCOVER, REQUEST (selecting, renewing, init-reboot), DECLINE,
  RELEASE, INFORM, ARP, a pool that runs out, leases that expire.
- api: request sequences: create/list/get/patch/delete VMs and networks,
  start/stop on a stopped VM, bad JSON, bad routes and methods.
- store: VM and network definitions, valid and almost valid.
"""
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, seeds):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.startswith('seed-'):
            os.remove(os.path.join(d, f))
    for name, data in seeds:
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, 'seed-%s.bin' % name), 'wb') as f:
            f.write(data)
    print('%s: %d seeds' % (target, len(seeds)))


def csum(b, s=0):
    if len(b) % 2:
        b += b'\0'
    for i in range(0, len(b), 2):
        s += b[i] << 8 | b[i + 1]
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def mac(n):
    return bytes([0x52, 0x54, 0, 0, 0, n])


BC = b'\xff' * 6
MC = bytes([0x01, 0x00, 0x5e, 0, 0, 1])


def ip4(s):
    return bytes(int(x) for x in s.split('.'))


# ---- switch ----

def sw_frame(port, frame, flags=0, off=None, outer=None, inner=None, total=None):
    """A frame record (fuzz_switch.c): op 0, port, flags, len, extras, data."""
    r = bytes([0, port])
    if off:
        flags |= 1
    if outer is not None:
        flags |= 8
    if inner is not None:
        flags |= 16
    if total is not None:
        flags |= 2
    r += bytes([flags]) + struct.pack('>H', len(frame))
    if off:
        r += struct.pack('>BBHHHH', *off)
    if outer is not None:
        r += struct.pack('>H', outer)
    if inner is not None:
        r += struct.pack('>H', inner)
    if total is not None:
        r += struct.pack('>H', total)
    return r + frame


def eth(dst, src, etype=0x88b5, payload=b'hello'):
    return dst + src + struct.pack('>H', etype) + payload


def tagged(dst, src, vid, etype=0x88b5, payload=b'hi', tpid=0x8100):
    return dst + src + struct.pack('>HH', tpid, vid) + struct.pack('>H', etype) + payload


def ipv4_tcp(payload_len=100, src='10.0.0.1', dst='10.0.0.2'):
    tcp = struct.pack('>HHIIBBHHH', 1234, 80, 1000, 0, 5 << 4, 0x18, 65535, 0, 0) + bytes(payload_len)
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, ip4(src), ip4(dst))
    ip = ip[:10] + struct.pack('>H', csum(ip)) + ip[12:]
    return ip + tcp


def ipv4_udp(payload_len=100):
    udp = struct.pack('>HHHH', 5000, 53, 8 + payload_len, 0) + bytes(payload_len)
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, ip4('10.0.0.1'), ip4('10.0.0.2'))
    ip = ip[:10] + struct.pack('>H', csum(ip)) + ip[12:]
    return ip + udp


def ipv6_tcp(payload_len=100):
    tcp = struct.pack('>HHIIBBHHH', 1234, 80, 1000, 0, 5 << 4, 0x18, 65535, 0, 0) + bytes(payload_len)
    return struct.pack('>IHBB', 6 << 28, len(tcp), 6, 64) + bytes(15) + b'\1' + bytes(15) + b'\2' + tcp


def switch_seeds():
    A, B, C = mac(0x0a), mac(0x0b), mac(0x0c)
    s = []
    # learning: A floods, B answers, A to B
    s.append(('learn', sw_frame(0, eth(BC, A)) + sw_frame(1, eth(A, B)) + sw_frame(0, eth(B, A))))
    s.append(('multicast', sw_frame(0, eth(MC, A)) + sw_frame(2, eth(MC, C))))
    # trunk port 3 (native 1, allowed 1,2,3,100,4094): tagged in VLAN 2 and 100
    s.append(('trunk-tagged', sw_frame(3, tagged(BC, A, 2)) + sw_frame(3, tagged(BC, B, 100)) +
              sw_frame(2, eth(A, C))))
    s.append(('trunk-native', sw_frame(3, eth(BC, A)) + sw_frame(0, eth(A, B))))
    s.append(('priority-tag', sw_frame(0, tagged(BC, A, 0)) + sw_frame(3, tagged(BC, B, 0x2000))))
    s.append(('vid4095', sw_frame(3, tagged(BC, A, 4095))))
    s.append(('wrong-vlan', sw_frame(0, tagged(BC, A, 2)) + sw_frame(4, eth(BC, B)) + sw_frame(5, tagged(BC, C, 7))))
    s.append(('qinq', sw_frame(3, eth(BC, A, 0x0800, b'x' * 40), outer=2, inner=10) +
              sw_frame(3, eth(BC, B), outer=3, inner=20, flags=32)))
    s.append(('runts', sw_frame(0, b'') + sw_frame(0, BC + A[:3]) + sw_frame(3, BC + A + b'\x81\x00\x00')))
    s.append(('bad-src', sw_frame(0, eth(BC, BC)) + sw_frame(0, eth(BC, bytes(6)))))
    s.append(('jumbo', sw_frame(0, eth(BC, A), total=9000) + sw_frame(3, tagged(BC, B, 2), total=65535) +
              sw_frame(3, tagged(BC, B, 2), total=65535, flags=4)))
    # offloads, delivered to ports without them (0, 2, 3, 5)
    t4 = eth(BC, A, 0x0800, ipv4_tcp(3000))
    s.append(('csum-tcp4', sw_frame(1, eth(BC, A, 0x0800, ipv4_tcp(200)), off=(1, 0, 0, 0, 34, 16))))
    s.append(('csum-udp', sw_frame(1, eth(BC, A, 0x0800, ipv4_udp(64)), off=(1, 0, 0, 0, 34, 6))))
    s.append(('gso-tcp4', sw_frame(1, t4, off=(1, 1, 54, 1448, 34, 16))))
    s.append(('gso-tcp6', sw_frame(1, eth(BC, A, 0x86dd, ipv6_tcp(3000)), off=(1, 4, 74, 1440, 54, 16))))
    s.append(('gso-udp-l4', sw_frame(1, eth(BC, A, 0x0800, ipv4_udp(3000)), off=(1, 5, 42, 1000, 34, 6))))
    s.append(('gso-tagged', sw_frame(4, tagged(BC, A, 2, 0x0800, ipv4_tcp(3000)), off=(1, 1, 58, 1448, 38, 16))))
    s.append(('csum-bad', sw_frame(1, eth(BC, A, 0x0800, ipv4_tcp(10)), off=(1, 0, 0, 0, 60000, 16)) +
              sw_frame(4, tagged(BC, A, 2, 0x0800, ipv4_tcp(10)), off=(1, 0, 2, 0, 2, 16))))
    # aging: learn, wait past 30 s, age, then unicast floods
    s.append(('aging', sw_frame(0, eth(BC, A)) + sw_frame(1, eth(BC, B)) + bytes([4, 70]) + bytes([7]) +
              sw_frame(1, eth(A, B))))
    # table full: 12 source MACs into an 8-entry table
    s.append(('table-full', b''.join(sw_frame(i % 2, eth(BC, mac(0x20 + i))) for i in range(12)) +
              bytes([4, 10, 7]) + bytes([4, 60]) + sw_frame(0, eth(BC, mac(0x40)))))
    # reconfigure, link down, detach
    s.append(('reconfig', sw_frame(0, eth(BC, A)) + bytes([5, 0, 3]) + sw_frame(0, tagged(BC, A, 2)) +
              bytes([5, 2, 7]) + sw_frame(2, eth(BC, C)) + bytes([6, 1, 1]) + sw_frame(0, eth(BC, B)) +
              bytes([6, 1, 2]) + sw_frame(0, eth(A, B)) + bytes([6, 1, 2, 7])))
    return s


# ---- dhcpd ----

DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = range(1, 9)
SRV = '192.168.56.100'


def bootp(client, mtype, ciaddr='0.0.0.0', opts=b'', xid=0x1234):
    b = bytearray(240)
    b[0], b[1], b[2] = 1, 1, 6
    struct.pack_into('>I', b, 4, xid)
    b[12:16] = ip4(ciaddr)
    b[28:34] = mac(client)
    struct.pack_into('>I', b, 236, 0x63825363)
    o = bytes([53, 1, mtype]) if mtype else b''
    return bytes(b) + o + opts + b'\xff'


def opt_ip(code, a):
    return bytes([code, 4]) + ip4(a)


def dhcp_rec(payload, client=1, flags=32):
    """A DHCP record (fuzz_dhcpd.c): op 1, flags, client, len, payload."""
    return bytes([1, flags, client]) + struct.pack('>H', len(payload)) + payload


def arp_rec(client=1, flags=1, spa='192.168.56.101', tpa=SRV):
    return bytes([2, flags, client]) + ip4(spa) + ip4(tpa)


def clock(secs):
    return bytes([3, secs])


def dhcpd_seeds():
    a1 = '192.168.56.101'
    srvid = opt_ip(54, SRV)
    select = dhcp_rec(bootp(1, DISCOVER, opts=bytes([12, 3]) + b'vm1')) + \
        dhcp_rec(bootp(1, REQUEST, opts=opt_ip(50, a1) + srvid))
    s = [
        ('discover', dhcp_rec(bootp(1, DISCOVER))),
        ('discover-clientid', dhcp_rec(bootp(2, DISCOVER, opts=bytes([61, 7, 1]) + mac(2) +
                                             bytes([55, 4, 1, 3, 6, 51])))),
        ('selecting', select),
        ('renewing', select + clock(40) +
         dhcp_rec(bootp(1, REQUEST, ciaddr=a1), flags=32 | 1 | 2 | 8)),
        ('rebinding', select + clock(55) + dhcp_rec(bootp(1, REQUEST, ciaddr=a1), flags=32 | 8)),
        ('init-reboot', dhcp_rec(bootp(3, REQUEST, opts=opt_ip(50, '192.168.56.103')))),
        ('init-reboot-wrong', dhcp_rec(bootp(3, REQUEST, opts=opt_ip(50, '10.1.1.1')))),
        ('request-other-server', dhcp_rec(bootp(1, REQUEST, opts=opt_ip(50, a1) + opt_ip(54, '192.168.56.7')))),
        ('decline', select + dhcp_rec(bootp(1, DECLINE, opts=opt_ip(50, a1) + srvid)) +
         dhcp_rec(bootp(1, DISCOVER))),
        ('release', select + dhcp_rec(bootp(1, RELEASE, ciaddr=a1, opts=srvid), flags=32 | 1 | 2 | 8) +
         dhcp_rec(bootp(1, DISCOVER))),
        ('inform', dhcp_rec(bootp(4, INFORM, ciaddr='192.168.56.50'), flags=32 | 1 | 2 | 8)),
        ('pool-empty', b''.join(dhcp_rec(bootp(c, DISCOVER), client=c) + dhcp_rec(
            bootp(c, REQUEST, opts=opt_ip(50, '192.168.56.%d' % (100 + c)) + srvid), client=c)
            for c in range(1, 6)) + clock(120) + dhcp_rec(bootp(6, DISCOVER), client=6)),
        ('expire', select + clock(200) + dhcp_rec(bootp(1, DISCOVER))),
        ('arp', arp_rec() + arp_rec(flags=0, tpa='192.168.56.1') + arp_rec(flags=2) + arp_rec(flags=4) +
         arp_rec(flags=9)),
        ('bootp-no-type', dhcp_rec(bootp(1, 0))),
        ('no-udp-csum', dhcp_rec(bootp(1, DISCOVER), flags=32 | 16)),
        ('ip-options', dhcp_rec(bootp(1, DISCOVER), flags=32 | 128)),
        ('wrong-port', dhcp_rec(bootp(1, DISCOVER), flags=32 | 64)),
        ('truncated', dhcp_rec(bootp(1, DISCOVER)[:200], flags=0)),
        ('bad-options', dhcp_rec(bootp(1, DISCOVER, opts=bytes([50, 200, 1]))[:-1]) +
         dhcp_rec(bootp(1, DISCOVER, opts=bytes([52, 1, 3])))),
        ('raw', bytes([0]) + struct.pack('>H', 60) + BC + mac(1) + b'\x08\x00' + bytes(46)),
    ]
    return s


# ---- api ----

def api_input(*reqs):
    out = []
    for r in reqs:
        if isinstance(r, tuple):
            line, body = r
            out.append(line + '\n' + (body if isinstance(body, str) else json.dumps(body)))
        else:
            out.append(r + '\n')
    return '\n%%\n'.join(out)


VM = {'name': 'web', 'cpus': 2, 'memory': 536870912, 'disks': [{'path': '/srv/web.img'}],
      'nics': [{'spec': 'nat', 'natpf': ['web,tcp,,8080,,80']}]}
NET = {'name': 'lab', 'kind': 'natnetwork', 'cidr': '10.9.0.0/24'}


def api_seeds():
    return [
        ('host', api_input('GET /v1/host')),
        ('events', api_input('GET /v1/events')),
        ('vm-life', api_input(('POST /v1/vms', VM), 'GET /v1/vms', 'GET /v1/vms/web',
                              ('PATCH /v1/vms/web', {'cpu_cap': 50, 'cpu_affinity': [0, 1]}),
                              'DELETE /v1/vms/web', 'GET /v1/vms/web')),
        ('vm-actions', api_input(('POST /v1/vms', {'name': 'a'}), 'POST /v1/vms/a/start',
                                 ('POST /v1/vms/a/stop', {'timeout': 5}), 'POST /v1/vms/a/poweroff',
                                 'POST /v1/vms/a/pause', 'POST /v1/vms/a/resume', 'GET /v1/vms/a/stats',
                                 'POST /v1/vms/a/explode')),
        ('vm-bad', api_input(('POST /v1/vms', {'name': 'x', 'cpus': 64}), ('POST /v1/vms', {'colour': 1}),
                             ('POST /v1/vms', '{"name":"x","name":"y"}'), ('POST /v1/vms', '{"name":'),
                             ('POST /v1/vms', '[1,2]'), 'POST /v1/vms',
                             ('POST /v1/vms', {'name': 'x', 'uuid': '0'}))),
        ('net-life', api_input(('POST /v1/networks', NET), 'GET /v1/networks', 'GET /v1/networks/lab',
                               ('POST /v1/vms', {'name': 'n', 'nics': [{'spec': 'natnetwork=lab'}]}),
                               'DELETE /v1/networks/lab', 'DELETE /v1/vms/n', 'DELETE /v1/networks/lab')),
        ('net-kinds', api_input(('POST /v1/networks', {'name': 'h', 'kind': 'hostonly', 'dhcp': False}),
                                ('POST /v1/networks', {'name': 'i', 'kind': 'intnet', 'mtu': 9000}),
                                ('POST /v1/networks', {'name': 'br0', 'kind': 'bridged', 'uplinks': []}),
                                ('POST /v1/networks', {'name': 'h', 'kind': 'hostonly'}))),
        ('routes', api_input('GET /', 'GET /v2/vms', 'GET /v1', 'PUT /v1/vms', 'DELETE /v1/host',
                             'GET /v1/vms/a/b/c/d', 'GET /v1/vms/..', 'GET /v1/networks/x/y', 'BREW /v1/host')),
        ('patch', api_input(('POST /v1/vms', {'name': 'p'}), ('PATCH /v1/vms/p', {'memory': 1073741824}),
                            ('PATCH /v1/vms/p', {'name': 'q'}), ('PATCH /v1/vms/p', [1]), 'PATCH /v1/vms/p',
                            ('PATCH /v1/vms/p', {'nics': [{'spec': 'hostonly=nope'}]}))),
        # Not UTF-8 (libmicrohttpd %-decodes URLs into any bytes), and a
        # message cut mid-character: the answer must still be JSON.
        ('bad-utf8', b'GET /v1/vms/\xff\xfe\n\n%%\nDELETE /v1/networks/\xc3\n'),
        ('action-body', api_input(('POST /v1/vms', {'name': 'b'}), ('POST /v1/vms/b/stop', '[1]'),
                                  ('POST /v1/vms/b/stop', {'timeout': 99999, 'x': 1}))),
        ('long-utf8', api_input(('POST /v1/vms', {'name': 'u', 'kernel': '\u00e9' * 300}))),
    ]


# ---- store ----

def store_seeds():
    full = {'name': 'web', 'uuid': '5b0f6b2e-7c55-4b7e-9a0e-3d3c1f0e2a11', 'cpus': 1, 'memory': 268435456,
            'kernel': '/boot/Image', 'initrd': None, 'append': 'console=ttyS0', 'cmdline': None,
            'firmware': 'builtin', 'disks': [{'path': '/srv/web.img', 'readonly': False}],
            'nics': [{'spec': 'nat,mac=02:56:52:12:34:56', 'natpf': ['web,tcp,,8080,,80']}],
            'cpu_cap': 100, 'cpu_affinity': [0], 'created': '2026-11-24T12:00:00Z'}
    net = {'name': 'lab2', 'kind': 'natnetwork', 'cidr': '10.9.0.0/24', 'mtu': 1500, 'dhcp': True,
           'natpf': ['web,tcp,,8080,,80'], 'uplinks': [], 'pcap': None}
    j = json.dumps
    return [
        ('vm-min', j({'name': 'a'})),
        ('vm-api', j(VM)),
        ('vm-file', j(full)),
        ('vm-nets', j({'name': 'b', 'nics': [{'spec': 'natnetwork=lab'}, {'spec': 'hostonly=host0'},
                                             {'spec': 'bridged=br0'}, {'spec': 'intnet=x'}]})),
        ('vm-bad-cpus', j({'name': 'c', 'cpus': 0})),
        ('vm-bad-mem', j({'name': 'c', 'memory': 4097})),
        ('vm-bad-name', j({'name': '-x'})),
        ('vm-unknown', j({'name': 'c', 'colour': 'red'})),
        ('vm-disks', j({'name': 'd', 'disks': [{'path': '/a'}, {'path': 'rel'}]})),
        ('vm-affinity', j({'name': 'e', 'cpu_affinity': [1, 1]})),
        ('vm-firmware', j({'name': 'f', 'firmware': '/fw.bin', 'kernel': '/k', 'cmdline': 'x'})),
        ('patch', j({'cpus': 3, 'cpu_cap': 20})),
        ('patch-nics', j({'nics': [{'spec': 'hostonly=host0'}]})),
        ('net-file', j(net)),
        ('net-min', j({'name': 'n', 'kind': 'intnet'})),
        ('net-hostonly', j({'name': 'h2', 'kind': 'hostonly', 'cidr': '192.168.77.0/24', 'dhcp': False})),
        ('net-bridged', j({'name': 'eth9', 'kind': 'bridged', 'uplinks': ['stream,listen=127.0.0.1:9000', 'vxlan,remote=10.0.0.2:4789,vni=5']})),
        ('net-bad-cidr', j({'name': 'n', 'kind': 'hostonly', 'cidr': '10.0.0.0/31'})),
        ('net-bad-kind', j({'name': 'n', 'kind': 'nat'})),
        ('net-pcap', j({'name': 'n', 'kind': 'intnet', 'pcap': '/tmp/x.pcap', 'mtu': 9000})),
        ('dup-keys', '{"name":"a","name":"b"}'),
        ('not-object', '[1,2,3]'),
        ('ctl-name', j({'name': 'a\nb'})),
        ('ctl-key', j({'name': 'a', 'x\ny': 1})),
        ('utf8', j({'name': 'a', 'kernel': '\u00e9' * 300})),
        ('vm-many-disks', j({'name': 'g', 'disks': [{'path': '/d%d' % i} for i in range(7)]})),
        ('vm-many-nics', j({'name': 'g', 'nics': [{'spec': 'nat'}] * 9})),
        ('vm-wrong-kind', j({'name': 'g', 'nics': [{'spec': 'natnetwork=host0'}]})),
        ('vm-file-created', j(dict(full, created=5))),
        ('net-cidr-intnet', j({'name': 'n', 'kind': 'intnet', 'cidr': '10.0.0.0/24'})),
        ('net-natpf-hostonly', j({'name': 'n', 'kind': 'hostonly', 'natpf': ['a,tcp,,1,,2']})),
    ]


TARGETS = {'switch': switch_seeds, 'dhcpd': dhcpd_seeds, 'api': api_seeds, 'store': store_seeds}

if __name__ == '__main__':
    for t in sys.argv[1:] or list(TARGETS):
        write(t, TARGETS[t]())
