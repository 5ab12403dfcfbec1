#!/usr/bin/env python3
"""Seed corpora for the virtio fuzz targets.

    python3 tests/fuzz/seeds_virtio.py [OUTDIR]

writes OUTDIR/virtio_queue, virtio_blk, virtio_net, virtio_console and
virtio_rng (OUTDIR defaults to tests/fuzz/corpus next to this script), a
handful of small inputs each that reach the interesting paths: valid
requests of every kind, indirect tables, event index, mergeable receive
buffers, and some classic mistakes (loops, nested indirect tables, buffers
outside RAM, invalid queue sizes). Files are named seed-*; rerunning
replaces only those (a campaign's `scripts/fuzz.sh --save` keeps its own,
hash-named, minimised set, which may have absorbed the seeds).

The input formats are described at the top of fuzz_virtio_queue.c (the
walker on its own) and in tests/fuzz/virtio_fuzz.h (the devices behind the
MMIO transport: a probe, then operations; opcodes 14 and 15 are the
device's own, described in each fuzz_virtio_*.c). All fields are
little-endian.
"""
import os
import struct
import sys

RAM_BASE = 0x80000000


def u8(v): return struct.pack('<B', v & 0xff)
def u16(v): return struct.pack('<H', v & 0xffff)
def u32(v): return struct.pack('<I', v & 0xffffffff)
def u64(v): return struct.pack('<Q', v & 0xffffffffffffffff)


NEXT, WRITE, INDIRECT = 1, 2, 4

# ---- virtio_queue ----


def q_header(cfg=0, size_byte=4, desc=0x0000, avail=0x1000, used=0x2000):
    """cfg: bits 0-1 base, 2 event_idx, 3 indirect; size 1 << (byte % 9)."""
    return u8(cfg) + u8(size_byte) + u16(desc) + u16(avail) + u16(used)


def q_desc(table, idx, addr_off, length, flags, nxt=0, raw_addr=None, raw_len=False):
    fb = flags & 7
    if raw_addr is not None:
        fb |= 0x80
    if raw_len:
        fb |= 0x40
    out = u8(1) + u16(table) + u8(idx) + u8(fb)
    out += u64(raw_addr) if raw_addr is not None else u16(addr_off)
    out += u32(length) if raw_len else u16(length)
    out += u8(nxt)
    return out


def q_publish(head): return u8(2) + u16(head)
def q_pop_all(): return u8(4)
def q_pop(): return u8(5)
def q_push(written): return u8(6) + u32(written)
def q_notify(): return u8(9)
def q_iov(skip, length, mx): return u8(10) + u16(skip) + u16(length) + u8(mx)


def queue_seeds():
    s = {}
    # A readable and a writable buffer, popped, checked through the iov
    # helpers, pushed, notified.
    s['simple'] = (q_header() + q_desc(0, 0, 0x4000, 100, NEXT, 1) + q_desc(0, 1, 0x5000, 200, WRITE)
                   + q_publish(0) + q_pop_all() + q_iov(50, 100, 4) + q_iov(0, 300, 1) + q_push(50) + q_notify())
    # Indirect table of three (one zero-length), event index on.
    s['indirect'] = (q_header(cfg=4 | 8)
                     + q_desc(0, 2, 0x3000, 48, INDIRECT)
                     + q_desc(0x3000, 0, 0x4000, 16, NEXT, 1) + q_desc(0x3000, 1, 0x4100, 0, NEXT, 2)
                     + q_desc(0x3000, 2, 0x5000, 512, WRITE)
                     + q_publish(2) + q_pop_all() + q_push(1000) + q_notify() + q_pop())
    # Several chains, filled and flushed as one batch (mergeable style),
    # then given back with unpop and taken again.
    seq = q_header(cfg=4, size_byte=3)
    for i in range(6):
        seq += q_desc(0, i, 0x4000 + 0x100 * i, 64, WRITE) + q_publish(i)
    seq += q_pop() + q_pop() + q_pop() + u8(8) + u8(2) + q_pop_all() + u8(7) + b''.join(u32(10 * i) for i in range(6))
    seq += u8(12) + u16(0) + u16(3) + q_notify()
    s['batch'] = seq
    # Loop: a descriptor that names itself.
    s['loop'] = q_header() + q_desc(0, 0, 0x4000, 8, NEXT, 0) + q_publish(0) + q_pop_all()
    # Nested indirect table.
    s['nested'] = (q_header(cfg=8) + q_desc(0, 0, 0x3000, 16, INDIRECT)
                   + q_desc(0x3000, 0, 0x3100, 16, INDIRECT) + q_publish(0) + q_pop_all())
    # RAM at the top of the address space: a length that wraps past 2^64.
    s['wrap'] = (q_header(cfg=2) + q_desc(0, 0, 0xff00, 0x200, 0)
                 + q_desc(0, 1, 0, 0xffffffff, 0, raw_addr=0xffffffffffffff00, raw_len=True)
                 + q_publish(0) + q_pop_all() + u8(11) + u8(4) + u16(0) + u16(0x1000) + u16(0x2000)
                 + q_desc(0, 1, 0, 16, 0) + q_publish(1) + q_pop_all())
    # Writable before readable; head out of range; avail index far ahead.
    s['rules'] = (q_header(size_byte=2) + q_desc(0, 0, 0x4000, 8, WRITE | NEXT, 1) + q_desc(0, 1, 0x4100, 8, 0)
                  + q_publish(0) + q_pop_all() + u8(11) + u8(2) + u16(0) + u16(0x1000) + u16(0x2000)
                  + q_publish(9) + q_pop() + u8(11) + u8(2) + u16(0) + u16(0x1000) + u16(0x2000)
                  + u8(3) + u16(100) + q_pop())
    # Invalid sizes and misaligned rings, then a valid setup.
    s['setup'] = (u8(0) + u8(0xf0) + u16(3) + u16(0) + u16(0x1000) + u16(0x2000)
                  + u8(11) + u8(0) + u8(4) + u16(8) + u16(0x1000) + u16(0x2000)
                  + u8(11) + u8(0) + u8(0xf0) + u16(512) + u16(0) + u16(0x1000) + u16(0x2000)
                  + u8(11) + u8(0) + u8(8) + u16(0xf000) + u16(0x1000) + u16(0x2000)
                  + u8(11) + u8(0x10) + u8(4) + u64(RAM_BASE) + u64(RAM_BASE + 0x1000) + u64(RAM_BASE + 0x2001))
    # Indirect table outside RAM, misaligned, zero-length.
    s['indirect-bad'] = (q_header(cfg=8, size_byte=2) + q_desc(0, 0, 0xfff8, 32, INDIRECT) + q_publish(0) + q_pop()
                         + u8(11) + u8(8) + u8(2) + u16(0) + u16(0x1000) + u16(0x2000)
                         + q_desc(0, 0, 0x3003, 16, INDIRECT) + q_desc(0x3003, 0, 0x4000, 5, WRITE)
                         + q_publish(0) + q_pop_all() + q_iov(1, 3, 1) + q_push(5)
                         + q_desc(0, 1, 0x3000, 0, INDIRECT) + q_publish(1) + q_pop())
    # Long chains: 255 direct buffers, then a full indirect table of 256
    # (too many buffers); a 256-entry chain that loops back.
    def run(table, first, count, addr, stride, length, flags):
        return u8(13) + u16(table) + u8(first) + u16(count) + u16(addr) + u16(stride) + u16(length) + u8(flags)
    s['long'] = (q_header(cfg=8, size_byte=8, desc=0, avail=0x1000, used=0x2000)
                 + run(0, 0, 255, 0x8000, 16, 16, 0x40) + q_desc(0, 255, 0x4000, 4096, INDIRECT)
                 + run(0x4000, 0, 256, 0x9000, 16, 16, WRITE) + q_publish(0) + q_pop()
                 + u8(11) + u8(8) + u8(8) + u16(0) + u16(0x1000) + u16(0x2000)
                 + run(0, 0, 256, 0x8000, 4, 4, 0x80) + q_publish(0) + q_pop())
    return s

# ---- devices behind the transport (virtio_fuzz.h) ----


ALL = 0xffffffffffffffff


def probe(flags=0, feat=ALL, sizes=(4,)):
    out = u8(flags) + u64(feat)
    for sz in sizes:
        out += u8(sz) if sz < 0xf0 else u8(0xf0) + u16(sz)
    return out


def d_patch(off, data): return u8(0) + u16(off) + u8(len(data)) + data
def d_kick(q): return u8(4) + u8(q)
def d_kick_raw(v): return u8(4) + u8(0x80) + u32(v)
def d_wreg(off, v): return u8(5) + u8(off // 4) + u32(v)
def d_read(off, wsel): return u8(6) + u16(off) + u8(wsel)
def d_cfg_read(off, wsel): return u8(7) + u8(off) + u8(wsel) + u64(0)
def d_cfg_write(off, wsel, v): return u8(7) + u8(off) + u8(0x80 | wsel) + u64(v)
def d_reprobe(**kw): return u8(8) + probe(**kw)
def d_poll(): return u8(10)
def d_ack(): return u8(11)
def d_reset(): return u8(12)
def d_status(v): return u8(13) + u8(v)


def d_chain(q, head, bufs):
    """bufs: (flags, off, len); NEXT is added by the target."""
    out = u8(2) + u8(q) + u8(head) + u8(len(bufs) - 1)
    for f, off, ln in bufs:
        out += u8(f) + u16(off) + u16(ln)
    return out


def registers():
    """Reads of every register and config widths, notifies of queues that
    do not exist."""
    out = b''
    for off in (0, 4, 8, 0xc, 0x10, 0x34, 0x38, 0x44, 0x60, 0x70, 0xb0, 0xfc, 0x100, 0x106, 0x1000):
        out += d_read(off, 2)
    out += d_read(0x70, 0) + d_read(0x101, 3) + d_read(0xffe, 2) + d_read(0x100, 4)
    out += d_cfg_read(0, 3) + d_cfg_read(5, 1) + d_cfg_read(59, 2) + d_cfg_read(200, 0) + d_cfg_write(0, 2, 0xdeadbeef)
    out += d_kick(2) + d_kick(3) + d_kick_raw(0xffffffff) + d_kick_raw(31)
    return out


# virtio-blk (first byte: bit 0 read-only disk, bit 1 no serial)
def blk_req(sel, sector=0, dlen=0, nseg=1, data=b'', typ=None):
    out = u8(14) + u8(sel)
    if sel & 7 == 7:
        out += u32(typ)
    out += u64(sector) if sel & 8 else u16(sector)
    out += u16(dlen) + u8(nseg - 1)
    if sel & 0x20:
        out += data
    return out


def blk_seeds():
    IN, OUT, FLUSH, GET_ID, DISCARD, WZ, UNKNOWN, RAW = range(8)
    s = {}
    s['in-out'] = (probe() + blk_req(OUT | 0x20, sector=4, dlen=512, data=bytes(range(256)) * 2)
                   + blk_req(IN, sector=4, dlen=1024, nseg=3) + blk_req(FLUSH) + d_ack())
    s['get-id'] = probe() + blk_req(GET_ID, dlen=20) + blk_req(GET_ID, dlen=8, nseg=2) + blk_req(UNKNOWN)
    seg = lambda sec, n, fl: u64(sec) + u32(n) + u32(fl)
    s['discard'] = (probe() + blk_req(DISCARD | 0x20, dlen=32, data=seg(8, 8, 0) + seg(100, 28, 0))
                    + blk_req(WZ | 0x20, dlen=32, data=seg(0, 4, 1) + seg(16, 8, 0))
                    + blk_req(WZ | 0x20, dlen=16, data=seg(120, 9, 0)) + blk_req(DISCARD | 0x20, dlen=16, data=seg(0, 1, 2)))
    s['indirect'] = (probe(sizes=(3,)) + blk_req(IN | 0x10, sector=127, dlen=512, nseg=2)
                     + blk_req(OUT | 0x10 | 0x20, sector=0, dlen=1536, nseg=4, data=b'\x55' * 64))
    s['range'] = (probe() + blk_req(OUT, sector=127, dlen=1024) + blk_req(IN | 8, sector=1 << 60, dlen=512)
                  + blk_req(IN, sector=0, dlen=100) + blk_req(RAW, typ=0x80000000))
    s['no-status'] = probe() + blk_req(IN | 0x40, dlen=512) + d_reset() + d_reprobe() + blk_req(FLUSH)
    s['no-header'] = probe(sizes=(2,)) + blk_req(IN | 0x80, dlen=512) + d_reset() + d_reprobe() + blk_req(IN, dlen=512)
    s['registers'] = probe(flags=2) + registers() + d_status(0xf) + d_poll() + blk_req(GET_ID, dlen=20)
    s['readonly-feats'] = probe(feat=1 << 32) + blk_req(DISCARD | 0x20, dlen=16, data=seg(0, 1, 0)) + blk_req(FLUSH)
    s['bad-size'] = probe(sizes=(300,)) + blk_req(IN, dlen=512) + d_reprobe(sizes=(0,)) + blk_req(OUT, dlen=512)
    s['event-idx'] = (probe(sizes=(1,)) + blk_req(FLUSH) + blk_req(FLUSH) + u8(9) + u8(0) + u16(5) + d_kick(0))
    # first byte: bit 0 read-only disk, bit 1 no serial
    s = {k: b'\x00' + v for k, v in s.items()}
    s['readonly'] = (b'\x03' + probe() + blk_req(OUT | 0x20, sector=1, dlen=512, data=b'\x11' * 512)
                     + blk_req(IN, sector=1, dlen=512) + blk_req(FLUSH) + blk_req(GET_ID, dlen=20)
                     + blk_req(WZ | 0x20, dlen=16, data=seg(0, 1, 0)))
    return s


# virtio-rng
def rng_req(sel, bufs):
    return u8(14) + u8(sel) + b''.join(u16(o) + u16(ln) for o, ln in bufs)


def rng_seeds():
    s = {}
    s['one'] = probe() + rng_req(0, [(0, 64)])
    s['split'] = probe() + rng_req(2 << 1, [(0x100, 16), (0x2000, 300), (0x3000, 0)])
    s['indirect'] = probe() + rng_req(1 | (3 << 1), [(0, 8), (0x10, 8), (0x20, 8), (0x9e00, 0x100)])
    s['readable-first'] = probe() + rng_req(8 | (1 << 1), [(0, 32), (0x100, 32)])
    s['big'] = probe(sizes=(0,)) + rng_req(0, [(0, 0x9ec0)]) + rng_req(0, [(0x40, 0x1000)])
    s['registers'] = probe(flags=4) + registers() + rng_req(0, [(0, 4)]) + d_reset() + rng_req(0, [(0, 4)])
    s['chain-op'] = probe() + d_chain(0, 0, [(WRITE, 0x6000, 16), (WRITE, 0x7000, 16)]) + d_poll()
    return s


# virtio-console (first byte: bit 0 offers a terminal size)
def con_input(data): return u8(14) + u8(len(data)) + data
def con_flood(byte): return u8(14) + u8(0xff) + u8(byte)


def con_req(q, bufs, indirect=False):
    """bufs: (writable, off, len)."""
    sel = q | (2 if indirect else 0) | ((len(bufs) - 1) << 2)
    for i, (w, _, _) in enumerate(bufs):
        if w:
            sel |= 1 << (4 + i)
    return u8(15) + u8(sel) + b''.join(u16(o) + u16(ln) for _, o, ln in bufs)


def console_seeds():
    s = {}
    s['echo'] = (b'\x01' + probe(sizes=(4, 4)) + con_input(b'hello\n') + con_req(0, [(1, 0, 4)])
                 + con_req(0, [(1, 0x100, 16), (1, 0x200, 16)]) + con_req(1, [(0, 0, 12)]) + d_cfg_read(0, 2))
    s['tx-many'] = (b'\x00' + probe(sizes=(2, 1)) + con_req(1, [(0, 0, 5), (0, 0x10, 0), (0, 0x20, 7)], indirect=True)
                    + con_req(1, [(0, 0, 3), (1, 0x100, 3)]))
    s['flood'] = (b'\x01' + probe(sizes=(4, 4)) + con_flood(0x41) + con_flood(0x42) + con_req(0, [(1, 0, 0x1000)])
                  + con_req(0, [(1, 0x2000, 0x2000)], indirect=True) + con_input(b'x'))
    s['before-driver-ok'] = (b'\x00' + con_input(b'early') + probe(flags=2, sizes=(4, 4))
                             + d_chain(0, 0, [(WRITE, 0x6000, 8)]) + d_status(0xf) + d_poll() + d_reset()
                             + con_input(b'after reset') + d_reprobe(sizes=(4, 4)) + con_req(0, [(1, 0, 64)]))
    s['registers'] = b'\x01' + probe(sizes=(4, 4)) + registers() + con_req(0, [(0, 0, 4)])
    return s


# virtio-net (first byte: bits 0-1 MTU choice, bit 2 link down, bit 3 sink
# takes offloads, bit 4 sink echoes)
MRG = 1 << 15
NET_FEATS_NOMRG = ALL & ~MRG


def eth(length, proto=0x0800):
    hdr = b'\x52\x54\x00\x12\x34\x56' + b'\x02\x00\x00\x00\x00\x01' + struct.pack('>H', proto)
    return (hdr + bytes((i * 7) & 0xff for i in range(max(0, length - 14))))[:length]


def ipv4_tcp(payload_len):
    ip_len = 20 + 20 + payload_len
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, ip_len, 1, 0, 64, 6, 0, bytes([10, 0, 2, 15]), bytes([10, 0, 2, 2]))
    tcp = struct.pack('>HHIIBBHHH', 1234, 80, 1, 0, 5 << 4, 0x18, 65535, 0, 0)
    return b'\x52\x54\x00\x12\x34\x56' + b'\x02\x00\x00\x00\x00\x01' + b'\x08\x00' + ip + tcp + b'\xab' * payload_len


def net_hdr(flags=0, gso=0, hdr_len=0, gso_size=0, csum_start=0, csum_off=0):
    return u8(flags) + u8(gso) + u16(hdr_len) + u16(gso_size) + u16(csum_start) + u16(csum_off) + u16(0)


def net_rx(n, size): return u8(15) + u8(0) + u8(n - 1) + u16(size)


def net_frame(frame, off=None, pieces=None, big=0):
    sel = 0
    out = b''
    if off is not None:
        sel |= 1
        out += off
    sel |= big
    if pieces is not None:
        sel |= 8 | (pieces << 4)
    return u8(14) + u8(sel) + out + u16(len(frame)) + frame


def net_tx(bufs, payload, indirect=False):
    """bufs: (writable, off, len); payload fills the readable ones."""
    sel = 1 | (2 if indirect else 0) | ((len(bufs) - 1) << 2)
    for i, (w, _, _) in enumerate(bufs):
        if w:
            sel |= 1 << (4 + i)
    return u8(15) + u8(1) + u8(sel) + b''.join(u16(o) + u16(ln) for _, o, ln in bufs) + payload


def net_rx_chain(bufs):
    sel = (len(bufs) - 1) << 2
    for i, (w, _, _) in enumerate(bufs):
        if w:
            sel |= 1 << (4 + i)
    # the readable buffers' bytes come from the input, as for transmit
    payload = b''.join(bytes(ln) for w, _, ln in bufs if not w)
    return u8(15) + u8(1) + u8(sel) + b''.join(u16(o) + u16(ln) for _, o, ln in bufs) + payload


def net_seeds():
    s = {}
    f60 = eth(60)
    s['rx-tx'] = (b'\x00' + probe(feat=NET_FEATS_NOMRG, sizes=(4, 4)) + net_rx(4, 1600) + net_frame(f60)
                  + net_tx([(0, 0, 12), (0, 0x100, 60)], net_hdr() + f60) + net_frame(eth(1514)))
    s['mergeable'] = (b'\x01' + probe(sizes=(4, 4)) + net_rx(8, 256) + net_frame(eth(1000))
                      + net_frame(eth(600), pieces=3) + net_rx(2, 12) + net_frame(eth(20)))
    tso = ipv4_tcp(3000)
    s['tso'] = (b'\x00' + probe(sizes=(4, 4)) + net_tx([(0, 0, 12 + len(tso))],
                net_hdr(1, 1, 54, 1448, 34, 16) + tso)
                + net_tx([(0, 0, 12 + len(tso))], net_hdr(1, 0x81, 54, 1448, 34, 16) + tso))
    s['tso-finish'] = (b'\x00' + probe(feat=0xffffffff00000000 | 0x3829, sizes=(4, 4)) + net_rx(8, 1600)
                       + net_frame(tso, off=u8(1) + u8(1) + u16(54) + u16(1448) + u16(34) + u16(16))
                       + net_frame(ipv4_tcp(100), off=u8(1) + u8(0) + u16(0) + u16(0) + u16(34) + u16(16)))
    s['backlog'] = (b'\x10' + probe(sizes=(4, 4)) + net_frame(f60) + net_frame(f60)
                    + net_tx([(0, 0, 72)], net_hdr() + f60) + net_rx(4, 2048) + d_kick(0))
    s['echo-off'] = (b'\x18' + probe(sizes=(4, 4)) + net_rx(4, 2048)
                     + net_tx([(0, 0, 12), (0, 0x100, len(tso))], net_hdr(1, 1, 54, 1448, 34, 16) + tso)
                     + net_tx([(0, 0, 12 + 60)], net_hdr(1, 0, 0, 0, 50, 100) + f60))
    s['link'] = (b'\x04' + probe(sizes=(4, 4)) + net_rx(2, 1600) + net_frame(f60) + u8(15) + u8(2 | 4)
                 + net_frame(f60) + d_cfg_read(6, 1) + u8(15) + u8(2) + net_frame(f60) + d_ack())
    s['too-big'] = (b'\x03' + probe(sizes=(4, 4)) + net_rx(4, 1600) + net_frame(eth(200), big=2 | 4)
                    + net_frame(eth(100), pieces=9) + net_frame(eth(100), pieces=0) + net_frame(eth(10)))
    s['rx-chain'] = (b'\x00' + probe(feat=NET_FEATS_NOMRG, sizes=(4, 4)) + net_rx_chain([(1, 0, 6), (1, 0x100, 100)])
                     + net_frame(f60) + net_rx_chain([(0, 0, 12), (1, 0x100, 100)]) + net_frame(f60)
                     + net_rx_chain([(1, 0, 1)]) + net_frame(f60))
    s['registers'] = b'\x00' + probe(sizes=(4, 4)) + registers() + net_tx([(0, 0, 20)], net_hdr() + eth(8))
    return s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, 'corpus')
    for name, seeds in (('virtio_queue', queue_seeds()), ('virtio_blk', blk_seeds()), ('virtio_net', net_seeds()),
                        ('virtio_console', console_seeds()), ('virtio_rng', rng_seeds())):
        d = os.path.join(outdir, name)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            if f.startswith('seed-'):
                os.unlink(os.path.join(d, f))
        for k, v in seeds.items():
            with open(os.path.join(d, 'seed-' + k), 'wb') as fh:
                fh.write(v)
        print(f'{name}: {len(seeds)} seeds, {sum(map(len, seeds.values()))} bytes')


if __name__ == '__main__':
    main()
