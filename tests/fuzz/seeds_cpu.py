#!/usr/bin/env python3
"""Seed corpora for the CPU-side fuzz targets (tests/fuzz/fuzz_riscv_exec.c
and tests/fuzz/fuzz_mmio.c; their top comments define the input formats).

    python3 tests/fuzz/seeds_cpu.py [OUTDIR]

writes OUTDIR/riscv_exec/seed-*.bin and OUTDIR/mmio/seed-*.bin (OUTDIR
defaults to tests/fuzz/corpus). Re-running overwrites the seed-* files only,
so inputs the fuzzer found (and saved with scripts/fuzz.sh --save) stay.

riscv_exec seeds are real instruction sequences assembled below: a loop,
loads/stores (misaligned, page-crossing, MMIO, a hole), traps with M- and
S-mode handlers, entering S/U through MRET with paging on (built and raw
tables, satp switching, SFENCE.VMA, A/D updates), LR/SC and AMOs, FP,
compressed code, self-modifying code with FENCE.I, a 32-bit instruction
straddling a page, interrupts and timers, two harts sharing code.
mmio seeds poke each device's registers the way a driver does.
"""
import os
import struct
import sys

# ---------------------------------------------------------------- registers
ZERO, RA, SP, GP, TP, T0, T1, T2, S0, S1, A0, A1, A2, A3, A4, A5, A6, A7 = range(18)
S2, S3, S4, S5, S6, S7, S8, S9, S10, S11, T3, T4, T5, T6 = range(18, 32)

# ---------------------------------------------------------------- encoders
def r(f7, rs2, rs1, f3, rd, op):
    return (f7 & 0x7f) << 25 | (rs2 & 31) << 20 | (rs1 & 31) << 15 | (f3 & 7) << 12 | (rd & 31) << 7 | op


def i_(imm, rs1, f3, rd, op):
    return (imm & 0xfff) << 20 | (rs1 & 31) << 15 | (f3 & 7) << 12 | (rd & 31) << 7 | op


def s_(imm, rs2, rs1, f3, op):
    return ((imm >> 5) & 0x7f) << 25 | (rs2 & 31) << 20 | (rs1 & 31) << 15 | (f3 & 7) << 12 | (imm & 31) << 7 | op


def b_(imm, rs2, rs1, f3):
    return (((imm >> 12) & 1) << 31 | ((imm >> 5) & 0x3f) << 25 | (rs2 & 31) << 20 | (rs1 & 31) << 15 |
            (f3 & 7) << 12 | ((imm >> 1) & 0xf) << 8 | ((imm >> 11) & 1) << 7 | 0x63)


def j_(imm, rd):
    return (((imm >> 20) & 1) << 31 | ((imm >> 1) & 0x3ff) << 21 | ((imm >> 11) & 1) << 20 |
            ((imm >> 12) & 0xff) << 12 | (rd & 31) << 7 | 0x6f)


def addi(rd, rs1, imm): return i_(imm, rs1, 0, rd, 0x13)
def slli(rd, rs1, sh): return i_(sh & 63, rs1, 1, rd, 0x13)
def lui(rd, imm): return (imm & 0xfffff000) | (rd & 31) << 7 | 0x37
def auipc(rd, imm): return (imm & 0xfffff000) | (rd & 31) << 7 | 0x17
def add(rd, a, b): return r(0, b, a, 0, rd, 0x33)
def sub(rd, a, b): return r(0x20, b, a, 0, rd, 0x33)
def mul(rd, a, b): return r(1, b, a, 0, rd, 0x33)
def div(rd, a, b): return r(1, b, a, 4, rd, 0x33)
def remw(rd, a, b): return r(1, b, a, 6, rd, 0x3b)
def mulh(rd, a, b): return r(1, b, a, 1, rd, 0x33)
def lb(rd, rs1, o): return i_(o, rs1, 0, rd, 0x03)
def lh(rd, rs1, o): return i_(o, rs1, 1, rd, 0x03)
def lw(rd, rs1, o): return i_(o, rs1, 2, rd, 0x03)
def ld(rd, rs1, o): return i_(o, rs1, 3, rd, 0x03)
def lbu(rd, rs1, o): return i_(o, rs1, 4, rd, 0x03)
def sb(rs2, rs1, o): return s_(o, rs2, rs1, 0, 0x23)
def sh(rs2, rs1, o): return s_(o, rs2, rs1, 1, 0x23)
def sw(rs2, rs1, o): return s_(o, rs2, rs1, 2, 0x23)
def sd(rs2, rs1, o): return s_(o, rs2, rs1, 3, 0x23)
def beq(a, b, o): return b_(o, b, a, 0)
def bne(a, b, o): return b_(o, b, a, 1)
def blt(a, b, o): return b_(o, b, a, 4)
def jal(rd, o): return j_(o, rd)
def jalr(rd, rs1, o): return i_(o, rs1, 0, rd, 0x67)
def j(o): return jal(ZERO, o)


ECALL, EBREAK, MRET, SRET, WFI = 0x00000073, 0x00100073, 0x30200073, 0x10200073, 0x10500073
FENCE_I = 0x0000100f
FENCE = 0x0ff0000f
def sfence_vma(rs1=0, rs2=0): return r(0x09, rs2, rs1, 0, 0, 0x73)
def csrrw(rd, csr, rs1): return i_(csr, rs1, 1, rd, 0x73)
def csrrs(rd, csr, rs1): return i_(csr, rs1, 2, rd, 0x73)
def csrrc(rd, csr, rs1): return i_(csr, rs1, 3, rd, 0x73)
def csrrwi(rd, csr, imm): return i_(csr, imm, 5, rd, 0x73)
def csrrsi(rd, csr, imm): return i_(csr, imm, 6, rd, 0x73)
def csrw(csr, rs1): return csrrw(ZERO, csr, rs1)
def csrr(rd, csr): return csrrs(rd, csr, ZERO)
def csrs(csr, rs1): return csrrs(ZERO, csr, rs1)

MSTATUS, MEDELEG, MIDELEG, MIE, MTVEC, MEPC, MCAUSE, MIP = 0x300, 0x302, 0x303, 0x304, 0x305, 0x341, 0x342, 0x344
MENVCFG, MCOUNTEREN = 0x30a, 0x306
SSTATUS, SIE, STVEC, SEPC, SCAUSE, SIP, STIMECMP, SATP = 0x100, 0x104, 0x105, 0x141, 0x142, 0x144, 0x14d, 0x180
FCSR, FRM, TIME, CYCLE, INSTRET = 0x003, 0x002, 0xc01, 0xc00, 0xc02


def amo(f5, width, rd, rs2, rs1): return r(f5 << 2, rs2, rs1, width, rd, 0x2f)
def lr_w(rd, rs1): return amo(0x02, 2, rd, 0, rs1)
def sc_w(rd, rs2, rs1): return amo(0x03, 2, rd, rs2, rs1)
def lr_d(rd, rs1): return amo(0x02, 3, rd, 0, rs1)
def sc_d(rd, rs2, rs1): return amo(0x03, 3, rd, rs2, rs1)
def amoadd_d(rd, rs2, rs1): return amo(0x00, 3, rd, rs2, rs1)
def amoswap_w(rd, rs2, rs1): return amo(0x01, 2, rd, rs2, rs1)
def amomax_w(rd, rs2, rs1): return amo(0x14, 2, rd, rs2, rs1)
def amominu_d(rd, rs2, rs1): return amo(0x18, 3, rd, rs2, rs1)
def amoor_w(rd, rs2, rs1): return amo(0x08, 2, rd, rs2, rs1)

# F/D (rm 7 = dynamic)
def fop(f7, rs2, rs1, rm, rd): return r(f7, rs2, rs1, rm, rd, 0x53)
def fadd_d(rd, a, b, rm=7): return fop(0x01, b, a, rm, rd)
def fmul_s(rd, a, b, rm=7): return fop(0x08, b, a, rm, rd)
def fdiv_d(rd, a, b, rm=7): return fop(0x0d, b, a, rm, rd)
def fsqrt_s(rd, a, rm=7): return fop(0x2c, 0, a, rm, rd)
def fmin_d(rd, a, b): return fop(0x15, b, a, 0, rd)
def fcvt_w_d(rd, a, rm=1): return fop(0x61, 0, a, rm, rd)
def fcvt_lu_s(rd, a, rm=4): return fop(0x60, 3, a, rm, rd)
def fcvt_s_l(rd, a, rm=7): return fop(0x68, 2, a, rm, rd)
def fcvt_d_s(rd, a): return fop(0x21, 0, a, 0, rd)
def fcvt_s_d(rd, a, rm=7): return fop(0x20, 1, a, rm, rd)
def feq_d(rd, a, b): return fop(0x51, b, a, 2, rd)
def flt_s(rd, a, b): return fop(0x50, b, a, 1, rd)
def fclass_d(rd, a): return fop(0x71, 0, a, 1, rd)
def fmv_x_w(rd, a): return fop(0x70, 0, a, 0, rd)
def fmv_d_x(rd, a): return fop(0x79, 0, a, 0, rd)
def fsgnjn_d(rd, a, b): return fop(0x11, b, a, 1, rd)
def fmadd_d(rd, a, b, c, rm=7): return (c & 31) << 27 | 1 << 25 | (b & 31) << 20 | (a & 31) << 15 | rm << 12 | (rd & 31) << 7 | 0x43
def fnmsub_s(rd, a, b, c, rm=0): return (c & 31) << 27 | 0 << 25 | (b & 31) << 20 | (a & 31) << 15 | rm << 12 | (rd & 31) << 7 | 0x4b
def fld(rd, rs1, o): return i_(o, rs1, 3, rd, 0x07)
def flw(rd, rs1, o): return i_(o, rs1, 2, rd, 0x07)
def fsd(rs2, rs1, o): return s_(o, rs2, rs1, 3, 0x27)
def fsw(rs2, rs1, o): return s_(o, rs2, rs1, 2, 0x27)

# compressed (RVC), 16-bit
def c_addi(rd, imm): return 0x0001 | ((imm >> 5) & 1) << 12 | (rd & 31) << 7 | (imm & 31) << 2
def c_li(rd, imm): return 0x4001 | ((imm >> 5) & 1) << 12 | (rd & 31) << 7 | (imm & 31) << 2
def c_mv(rd, rs2): return 0x8002 | (rd & 31) << 7 | (rs2 & 31) << 2
def c_add(rd, rs2): return 0x9002 | (rd & 31) << 7 | (rs2 & 31) << 2
def c_j(off):
    o = off & 0xfff
    bits = (((o >> 11) & 1) << 12 | ((o >> 4) & 1) << 11 | ((o >> 8) & 3) << 9 | ((o >> 10) & 1) << 8 |
            ((o >> 6) & 1) << 7 | ((o >> 7) & 1) << 6 | ((o >> 1) & 7) << 3 | ((o >> 5) & 1) << 2)
    return 0xa001 | bits
def c_bnez(rs1p, off):
    o = off & 0x1ff
    bits = (((o >> 8) & 1) << 12 | ((o >> 3) & 3) << 10 | ((o >> 6) & 3) << 5 | ((o >> 1) & 3) << 3 |
            ((o >> 5) & 1) << 2)
    return 0xe001 | bits | ((rs1p - 8) & 7) << 7
def c_lw(rdp, rs1p, off): return 0x4000 | ((off >> 3) & 7) << 10 | ((rs1p - 8) & 7) << 7 | ((off >> 2) & 1) << 6 | ((off >> 6) & 1) << 5 | ((rdp - 8) & 7) << 2
def c_sd(rs2p, rs1p, off): return 0xe000 | ((off >> 3) & 7) << 10 | ((rs1p - 8) & 7) << 7 | ((off >> 6) & 3) << 5 | ((rs2p - 8) & 7) << 2
def c_ldsp(rd, off): return 0x6002 | ((off >> 5) & 1) << 12 | (rd & 31) << 7 | ((off >> 3) & 3) << 5 | ((off >> 6) & 7) << 2
def c_fsdsp(rs2, off): return 0xa002 | ((off >> 3) & 7) << 10 | ((off >> 6) & 7) << 7 | (rs2 & 31) << 2
def c_slli(rd, sh): return 0x0002 | ((sh >> 5) & 1) << 12 | (rd & 31) << 7 | (sh & 31) << 2
def c_jr(rs1): return 0x8002 | (rs1 & 31) << 7
C_EBREAK = 0x9002
C_NOP = 0x0001


def li(rd, v):
    """Load a 32-bit signed constant (two instructions at most)."""
    v &= 0xffffffff
    lo = v & 0xfff
    if lo >= 0x800:
        lo -= 0x1000
    hi = (v - lo) & 0xffffffff
    out = []
    if hi:
        out.append(lui(rd, hi))
        if lo:
            out.append(addi(rd, rd, lo))
    else:
        out.append(addi(rd, ZERO, lo))
    return out


def la(rd, off):
    """rd = 0x80000000 + off (LUI would sign-extend 0x80000000 on RV64); uses t4."""
    return li(rd, off) + [addi(T4, ZERO, 1), slli(T4, T4, 31), add(rd, rd, T4)]


# ---------------------------------------------------------------- riscv_exec
RAM = 0x80000000
HANDLER_M = 0x100   # mtvec
HANDLER_S = 0x180   # stvec
CODE = 0x200        # start pc


class Image:
    def __init__(self):
        self.mem = bytearray()

    def put(self, off, data):
        if len(self.mem) < off + len(data):
            self.mem.extend(b'\0' * (off + len(data) - len(self.mem)))
        self.mem[off:off + len(data)] = data

    def words(self, off, ws):
        self.put(off, b''.join(struct.pack('<I', w & 0xffffffff) for w in ws))
        return off + 4 * len(ws)

    def halves(self, off, hs):
        self.put(off, b''.join(struct.pack('<H', h & 0xffff) for h in hs))
        return off + 2 * len(hs)

    def u64(self, off, v):
        self.put(off, struct.pack('<Q', v & 0xffffffffffffffff))


def std_handlers(img):
    """Handlers that skip the trapping instruction (4 bytes) and return."""
    img.words(HANDLER_M, [csrr(T3, MEPC), addi(T3, T3, 4), csrw(MEPC, T3), csrr(T4, MCAUSE), MRET])
    img.words(HANDLER_S, [csrr(T3, SEPC), addi(T3, T3, 4), csrw(SEPC, T3), csrr(T4, SCAUSE), SRET])


def header(priv=3, paging=0, fs=False, deleg=False, two=False, mstatus=0, mie=0, sched=0,
           pc=CODE, mtvec=HANDLER_M, stvec=HANDLER_S, blocks=15, fcsr=0, misc=0, raw_root=0,
           super_flags=0, pc2=0, page_flags=None):
    h = bytearray(32)
    h[0] = (priv & 3) | (paging & 7) << 2 | fs << 5 | deleg << 6 | two << 7
    h[1] = mstatus
    h[2] = mie
    h[3] = sched
    h[4:6] = struct.pack('<H', pc)
    h[6:8] = struct.pack('<H', mtvec)
    h[8:10] = struct.pack('<H', stvec)
    h[10] = blocks
    h[11] = fcsr
    h[12] = misc
    h[13] = raw_root
    h[14] = super_flags
    h[15] = pc2
    if page_flags:
        h[16:32] = bytes(page_flags)
    return bytes(h)


def exec_seeds():
    seeds = {}

    # 1. a counted loop with M extension ops, ending in EBREAK
    img = Image(); std_handlers(img)
    img.words(CODE, li(A0, 100) + [addi(A1, ZERO, 0), add(A1, A1, A0), mul(A2, A1, A0), div(A3, A2, A0),
                                   remw(A4, A2, A1), mulh(A5, A2, A2), addi(A0, A0, -1), bne(A0, ZERO, -20),
                                   EBREAK, j(0)])
    seeds['loop'] = header() + bytes(img.mem)

    # 2. loads and stores: plain, misaligned, page-crossing, MMIO, a hole
    img = Image(); std_handlers(img)
    img.words(CODE, [sd(SP, SP, 0), ld(A0, SP, 0), sw(A0, SP, 13), lw(A1, SP, 13), lh(A2, SP, 7),
                     lbu(A3, SP, -1), sd(A0, T6, 0), ld(A4, T6, 0),        # t6 = end of RAM - 2
                     sw(A0, S10, 8), lw(A5, S10, 8), lb(A6, S10, 3),     # s10 = MMIO scratch
                     sd(A0, S11, 0), ld(A7, S11, 0),                     # s11 = nothing there
                     ld(A0, S9, 0x10), sd(A0, S9, 0x18),                 # s9 = RAM via VA 0 (bare: fault)
                     EBREAK, j(0)])
    seeds['ldst'] = header(blocks=3) + bytes(img.mem)

    # 3. paging: M sets satp (built Sv39 tables), enters S with MRET; S code
    # reads through the 1 GiB alias at VA 0, flushes, switches satp off and on
    img = Image(); std_handlers(img)
    s_code = 0x400
    img.words(CODE, [csrw(SATP, S8)] + li(T0, 1 << 11) + [csrs(MSTATUS, T0)] +
              la(T0, s_code) + [csrw(MEPC, T0), sfence_vma(), MRET])
    img.words(s_code, li(A0, 0x3000) + [ld(A1, A0, 0), sd(A1, A0, 8), addi(A2, ZERO, 0), sfence_vma(A0),
                                        csrrw(A3, SATP, ZERO), sfence_vma(), lw(A4, SP, 0), csrw(SATP, A3),
                                        sfence_vma(), ld(A5, A0, 16), ECALL, j(0)])
    seeds['paging_sv39'] = header(paging=0) + bytes(img.mem)
    # the same started directly in S-mode with Sv48 and Sv57 tables built
    img2 = Image(); std_handlers(img2)
    img2.words(CODE, li(A0, 0x3000) + [ld(A1, A0, 0), sd(A1, A0, 8), sfence_vma(A0)] + la(A2, 0x200000) + [
                                       ld(A3, A2, 0), sd(A3, A2, 8), sfence_vma(A2), sfence_vma(), ECALL, j(0)])
    seeds['paging_sv48_s'] = header(priv=1, paging=2, deleg=True, blocks=3) + bytes(img2.mem)
    seeds['paging_sv57_s'] = header(priv=1, paging=3, blocks=3, misc=2) + bytes(img2.mem)
    # U-mode with a user page, SUM from S
    flags = [0] * 16
    flags[0] = 0x10  # page 0 (handlers + code) user-accessible
    seeds['paging_user'] = header(priv=0, paging=1, mstatus=0x02, blocks=3, page_flags=flags) + bytes(img2.mem)

    # 4. raw page tables from the image: root at page 1, 4 KiB mappings
    img = Image(); std_handlers(img)
    root, l1, l0 = 0x1000, 0x2000, 0x3000
    def pte(pa, fl): return (pa >> 12) << 10 | fl
    img.u64(root + 2 * 8, pte(RAM + l1, 1))
    img.u64(l1 + 0 * 8, pte(RAM + l0, 1))
    img.u64(l0 + 0 * 8, pte(RAM, 0xcf))
    img.u64(l0 + 4 * 8, pte(RAM + 0x4000, 0x07))     # RW, A/D clear: hardware sets them
    img.u64(l0 + 6 * 8, pte(RAM + 0x6000, 0x0b))     # X only (MXR)
    img.words(CODE, la(A0, 0x4000) + [
              ld(A2, A0, 0), sd(A2, A0, 8), addi(A0, A0, 0x7ff), addi(A0, A0, 0x7ff), addi(A0, A0, 2),
              ld(A3, A0, 0), ECALL, j(0)])
    seeds['paging_raw'] = header(priv=1, paging=4, raw_root=1, mstatus=0x04, blocks=3) + bytes(img.mem)

    # 5. LR/SC retry loop and AMOs
    img = Image(); std_handlers(img)
    img.words(CODE, [lr_d(A0, SP), addi(A0, A0, 1), sc_d(A1, A0, SP), bne(A1, ZERO, -12),
                     lr_w(A2, GP), sc_w(A3, A2, TP),                      # SC to another address fails
                     amoadd_d(A4, A0, SP), amoswap_w(A5, A0, GP), amomax_w(A6, T0, GP),
                     amominu_d(A7, T1, SP), amoor_w(T2, A0, S10),         # AMO on MMIO: access fault
                     lr_w(A0, T6),                                        # misaligned LR
                     EBREAK, j(0)])
    seeds['atomics'] = header(blocks=3) + bytes(img.mem)

    # 6. FP: dynamic and static rounding, conversions, FMA, NaN boxing
    img = Image(); std_handlers(img)
    img.words(CODE, [csrrwi(ZERO, FRM, 3), fadd_d(1, 8, 9), fmul_s(2, 0, 1), fdiv_d(3, 8, 14),
                     fsqrt_s(4, 1), fmin_d(5, 11, 8), fcvt_w_d(A0, 15), fcvt_lu_s(A1, 21),
                     fcvt_s_l(6, T6), fcvt_d_s(7, 5), fcvt_s_d(8, 18), feq_d(A2, 11, 11), flt_s(A3, 3, 0),
                     fclass_d(A4, 13), fmv_x_w(A5, 7), fmv_d_x(9, T6), fsgnjn_d(10, 9, 14),
                     fmadd_d(11, 8, 9, 10), fnmsub_s(12, 0, 1, 2), fsd(11, SP, 0), fld(13, SP, 0),
                     fsw(12, SP, 8), flw(14, SP, 8), csrrwi(ZERO, FRM, 6), fadd_d(1, 1, 1),   # frm 6: illegal
                     csrr(A6, FCSR), EBREAK, j(0)])
    seeds['fpu'] = header(fs=True, fcsr=0x00, blocks=3) + bytes(img.mem)
    seeds['fpu_off'] = header(fs=False, blocks=2) + bytes(img.mem)   # FS off: every FP op is illegal

    # 7. compressed code: a loop, loads/stores through sp, jumps
    img = Image(); std_handlers(img)
    img.halves(CODE, [c_li(A0, 10), c_li(A1, 0), c_add(A1, A0), c_addi(A0, -1), c_bnez(A0, -4),
                      c_sd(A1, S0, 8), c_lw(A2, S0, 8), c_ldsp(A3, 8), c_fsdsp(1, 16), c_slli(A3, 3),
                      c_mv(A4, A3), c_j(4), C_NOP, C_EBREAK, C_NOP])
    seeds['compressed'] = header(fs=True, blocks=2) + bytes(img.mem)

    # 8. self-modifying code: patch the next instruction, FENCE.I, run it;
    # then patch the current block without a fence
    img = Image(); std_handlers(img)
    target = CODE + 0x40
    img.words(CODE, [auipc(T0, 0), addi(T0, T0, 0x40)] + li(T1, addi(A0, ZERO, 42)) +
              [sw(T1, T0, 0), FENCE_I, jal(ZERO, 0x40 - 6 * 4)])
    img.words(target, [addi(A0, ZERO, 1), auipc(T2, 0)] + li(T3, addi(A1, ZERO, 7)) +
              [sw(T3, T2, 16), addi(A1, ZERO, 1), FENCE_I, j(-16), EBREAK])
    seeds['selfmod'] = header(blocks=3) + bytes(img.mem)

    # 9. a 32-bit instruction straddling the page at 0x1000, code in page 1
    img = Image(); std_handlers(img)
    img.words(CODE, la(T0, 0xffe) + [jalr(ZERO, T0, 0)])
    img.halves(0xffc, [C_NOP])
    img.words(0xffe, [addi(A0, A0, 5)])
    img.words(0x1002, [sw(A0, SP, 0), EBREAK])
    seeds['straddle'] = header(blocks=2) + bytes(img.mem)
    # the same with paging: the second half in a page without X
    flags = [0] * 16
    flags[1] = 0x08  # page 1: X cleared
    seeds['straddle_nx'] = header(priv=1, paging=1, blocks=2, page_flags=flags) + bytes(img.mem)

    # 10. traps and interrupts: delegation to S, illegal CSR, ECALL from U,
    # software interrupt through mip, S timer through stimecmp, WFI
    img = Image(); std_handlers(img)
    img.words(CODE, li(T0, 0xb1ff) + [csrw(MEDELEG, T0)] + li(T0, 0x222) +
              [csrw(MIDELEG, T0), csrw(MIE, T0)] + li(T0, 2) + [csrs(MSTATUS, T0), csrs(MIP, T0),
               csrr(A0, 0x7c0)] +                                         # no such CSR
              li(T0, 1 << 31) + [slli(T0, T0, 32), csrs(MENVCFG, T0), csrw(STIMECMP, ZERO), WFI,
               csrr(A1, TIME), csrr(A2, INSTRET), ECALL, EBREAK, j(0)])
    seeds['traps_irq'] = header(blocks=4, misc=0x20) + bytes(img.mem)
    seeds['traps_vectored'] = header(blocks=4, mtvec=HANDLER_M | 1, stvec=HANDLER_S | 1, mie=0x3f,
                                     mstatus=0xc0, sched=0xff, misc=0x0c) + bytes(img.mem)
    # U-mode code, delegated, with the S handler returning
    seeds['user_ecall'] = header(priv=0, deleg=True, blocks=2) + bytes(img.mem)

    # 11. two harts: both add to a shared counter; hart 1 rewrites hart 0's loop
    img = Image(); std_handlers(img)
    img.words(CODE, la(S2, 0x7f8) + [addi(A0, ZERO, 1), amoadd_d(A1, A0, S2), j(-4)])
    pc2 = 0x800
    img.words(pc2, la(S2, 0x7f8) + [addi(A0, ZERO, 1), amoadd_d(A1, A0, S2)] +
              li(T0, EBREAK) + la(T1, 0) + [sw(T0, T1, CODE + 4 * 6), FENCE_I, j(0)])
    seeds['two_harts'] = header(two=True, blocks=8, pc2=pc2 // 256, sched=0x99) + bytes(img.mem)

    # 12. the handler itself faults at its first instruction: the run stops
    seeds['bad_mtvec'] = header(mtvec=0xfffc, blocks=1) + bytes(Image().mem) + struct.pack('<I', 0)

    # 13. MRET into S with MPRV loads, TVM/TW/TSR traps
    img = Image(); std_handlers(img)
    img.words(CODE, li(T0, (1 << 17) | (1 << 11)) + [csrs(MSTATUS, T0), ld(A0, SP, 0), csrrc(ZERO, MSTATUS, T0)] +
              li(T0, (7 << 20) | (1 << 11)) + [csrs(MSTATUS, T0)] + la(T0, 0x300) + [csrw(MEPC, T0), MRET])
    img.words(0x300, [csrr(A0, SATP), sfence_vma(), WFI, SRET, ECALL, j(0)])
    seeds['mprv_tvm'] = header(paging=1, blocks=2) + bytes(img.mem)

    # 14. regression: the page walk's A/D update writes a PTE that shares a
    # page with decoded code (raw Sv39, root table = page 0 = the code). The
    # store at 0 sets D in root[2] (offset 0x10), inside the block being run;
    # that block must retire like after any other write to code.
    img = Image()
    img.words(0, [sd(SP, SP, 0), addi(ZERO, ZERO, 0), addi(ZERO, ZERO, 0), addi(ZERO, ZERO, 0)])
    img.u64(0x10, (RAM >> 12) << 10 | 0x0f)   # 1 GiB leaf V R W X, A and D clear
    seeds['regress-ad-update-in-code-page'] = header(priv=1, paging=4, raw_root=0, pc=0, blocks=0) + bytes(img.mem)
    return seeds


# ---------------------------------------------------------------- mmio
def rd(region, off, width=4):
    return bytes([0 | region << 3 | {1: 0, 2: 1, 4: 2, 8: 3}[width] << 6]) + struct.pack('<I', off)[:3]


def wr(region, off, val, width=4):
    return (bytes([1 | region << 3 | {1: 0, 2: 1, 4: 2, 8: 3}[width] << 6]) + struct.pack('<I', off)[:3] +
            struct.pack('<Q', val & 0xffffffffffffffff)[:width])


def irq(src, level): return bytes([2 | (1 if level else 0) << 3, src & 0xff])
def rx(data): return bytes([3, len(data)]) + data
def sbi(eid_idx, fid, a0=0, a1=0, a2=0, hart=0):
    return bytes([4 | hart << 3, eid_idx, fid]) + struct.pack('<QQ', a0 & (2**64 - 1), a1 & (2**64 - 1)) + bytes([a2])
def hartop(mie, mideleg, hart=0): return bytes([5 | hart << 3, mie, mideleg])
POLL = bytes([6])
def raw(addr, val=0, write=False, width=4):
    return bytes([7 | (1 if write else 0) << 3 | {1: 0, 2: 1, 4: 2, 8: 3}[width] << 6]) + struct.pack('<QQ', addr, val)


SYSCON, RTC, CLINT, PLIC, UART, VIO0, VIO1, RAMR = range(8)


def mmio_seeds():
    seeds = {}
    # PLIC: priorities, enables for hart 0's M and S contexts, threshold,
    # lines up and down, claim and complete
    s = (wr(PLIC, 4 * 10, 5) + wr(PLIC, 4 * 11, 3) + wr(PLIC, 4 * 1, 7) + wr(PLIC, 0x2000, 0xffffffff) +
         wr(PLIC, 0x2080, 0x00000c00) + wr(PLIC, 0x2000 + 0x80 * 3, 0xffffffff) + wr(PLIC, 0x200000, 2) +
         irq(10, 1) + irq(11, 1) + irq(1, 1) + rd(PLIC, 0x1000) + rd(PLIC, 0x200004) + rd(PLIC, 0x201004) +
         irq(10, 0) + wr(PLIC, 0x200004, 10) + wr(PLIC, 0x201004, 11) + irq(95, 1) + irq(96, 1) + irq(0, 1) +
         rd(PLIC, 0x203004) + wr(PLIC, 0x204000, 1) + rd(PLIC, 0x200004, 8) + wr(PLIC, 0x2004, 1, 2))
    seeds['plic'] = s
    # UART: the Linux 8250 probe and console, loopback, FIFO, interrupts
    s = (wr(UART, 3, 0x80, 1) + wr(UART, 0, 0x01, 1) + wr(UART, 1, 0x00, 1) + wr(UART, 3, 0x03, 1) +
         wr(UART, 2, 0xc7, 1) + wr(UART, 1, 0x03, 1) + wr(PLIC, 40, 1) + wr(PLIC, 0x2000, 0x400) +
         wr(UART, 0, ord('h'), 1) + rd(UART, 2, 1) + rx(b'hello') + rd(UART, 5, 1) + rd(UART, 0, 1) +
         rd(UART, 0, 1) + wr(UART, 4, 0x1f, 1) + rd(UART, 6, 1) + wr(UART, 0, ord('x'), 1) + wr(UART, 7, 0x55, 1) +
         rd(UART, 7, 1) + wr(UART, 2, 0x02, 1) + rd(UART, 5, 1) + rd(UART, 0, 4) + rd(UART, 0xff, 1) +
         rd(UART, 0x100, 1))
    seeds['uart'] = s
    # CLINT: msip, mtimecmp (64-bit and halves), mtime, out of range harts
    s = (wr(CLINT, 0, 1) + rd(CLINT, 0) + wr(CLINT, 4, 1) + wr(CLINT, 0, 0) + wr(CLINT, 0x4000, 0, 8) +
         wr(CLINT, 0x4008, 0xffffffff) + wr(CLINT, 0x400c, 0x7fffffff) + rd(CLINT, 0x4008, 8) + rd(CLINT, 0xbff8, 8) +
         rd(CLINT, 0xbffc) + wr(CLINT, 0xbff8, 5, 8) + wr(CLINT, 0x4010, 1, 8) + rd(CLINT, 8) + rd(CLINT, 0x4004, 4) +
         wr(CLINT, 0x4000, 0xffffffffffffffff, 8) + rd(CLINT, 0x4001, 1) + hartop(0xff, 0xff))
    seeds['clint'] = s
    # RTC: time, alarm in the past and future, interrupt enable and clear
    s = (rd(RTC, 0) + rd(RTC, 4) + wr(RTC, 4, 0) + wr(RTC, 0, 12345) + wr(RTC, 0x10, 1) + wr(RTC, 0x0c, 0) +
         wr(RTC, 0x08, 1) + rd(RTC, 0x18) + wr(PLIC, 44, 2) + wr(PLIC, 0x2000, 0x800) + wr(RTC, 0x1c, 0) +
         wr(RTC, 0x0c, 0xffffffff) + wr(RTC, 0x08, 0) + rd(RTC, 0x08) + rd(RTC, 0x0c) + wr(RTC, 0x14, 0) +
         hartop(0, 0) + rd(RTC, 0x10, 8) + rd(RTC, 0xffc))
    seeds['rtc'] = s
    # syscon: reads, then the power requests (16 and 32 bit, fail code)
    s = (rd(SYSCON, 0) + wr(SYSCON, 4, 0x5555) + wr(SYSCON, 0, 0x1234) + wr(SYSCON, 0, 0x13333) +
         wr(SYSCON, 0, 0x7777, 2) + wr(SYSCON, 0, 0x5555, 8) + wr(SYSCON, 0, 0x5555, 1) + wr(SYSCON, 0, 0x5555))
    seeds['syscon'] = s
    # virtio-mmio slot 0 (rng) driver bring-up, and the empty slot 1
    q = 0x80001000
    s = (rd(VIO0, 0) + rd(VIO0, 4) + rd(VIO0, 8) + wr(VIO0, 0x70, 0) + wr(VIO0, 0x70, 1) + wr(VIO0, 0x70, 3) +
         wr(VIO0, 0x14, 1) + rd(VIO0, 0x10) + wr(VIO0, 0x24, 1) + wr(VIO0, 0x20, 1) + wr(VIO0, 0x70, 11) +
         wr(VIO0, 0x30, 0) + rd(VIO0, 0x34) + wr(VIO0, 0x38, 8) + wr(VIO0, 0x80, q) + wr(VIO0, 0x84, 0) +
         wr(VIO0, 0x90, q + 0x100) + wr(VIO0, 0xa0, q + 0x200) + wr(VIO0, 0x44, 1) + wr(VIO0, 0x70, 15) +
         # one descriptor (addr, len 16, WRITE) and avail ring entry
         raw(q, 0x80002000, True, 8) + raw(q + 8, 16 | (2 << 32), True, 8) + raw(q + 0x100, 1 << 16, True, 4) +
         raw(q + 0x104, 0, True, 2) + wr(VIO0, 0x50, 0) + POLL + rd(VIO0, 0x60) + wr(VIO0, 0x64, 1) +
         rd(VIO1, 0) + wr(VIO1, 0x70, 1) + rd(VIO0, 0x100, 8) + rd(VIO0, 0x2, 2))
    seeds['virtio'] = s
    # SBI: base probes, timer, IPI, remote fences, HSM, DBCN, legacy, SRST
    s = (sbi(0, 0) + sbi(0, 3, 0x48534d) + sbi(1, 0, 0) + sbi(2, 0, 3, 0) + sbi(2, 0, 1, 1) + sbi(3, 1, 3, 0) +
         sbi(3, 0, 0, 2**64 - 1) + sbi(4, 2, 1) + sbi(4, 0, 1, 0x80001000, 7) + sbi(4, 2, 1) + sbi(4, 0, 5) +
         sbi(4, 3, 0) + sbi(4, 1) + sbi(6, 0, 5, 0x80000000) + sbi(6, 2, 0x41) + sbi(6, 0, 5000, 0xfffffff0) +
         sbi(8, 0, 0x41) + sbi(9, 0) + sbi(11, 0, 0x80000000) + sbi(12, 0, 0) + sbi(13, 0, 0x10000005) +
         sbi(15, 0) + sbi(5, 0, 0, 0) + sbi(14, 0))
    seeds['sbi'] = s
    # odd accesses: misaligned, page-crossing RAM, holes, wrong widths
    s = (rd(PLIC, 2) + rd(CLINT, 0x4004, 8) + rd(UART, 0, 2) + raw(0x80000ffc, 0x1122334455667788, True, 8) +
         raw(0x80000ffd, 0, False, 8) + raw(0x0, 0, False, 4) + raw(0x10001ffc, 0, False, 8) +
         raw(0x0c5ffffc, 0, False, 4) + raw(0xffffffffffffffff, 0, False, 1) + rd(RAMR, 0x3ffe, 4) +
         wr(RAMR, 0x1000, 7, 8) + rd(VIO1, 0, 4))
    seeds['odd'] = s
    return seeds


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')
    for target, seeds in (('riscv_exec', exec_seeds()), ('mmio', mmio_seeds())):
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, 'seed-' + name + '.bin'), 'wb') as fh:
                fh.write(data)
        print(f'{target}: {len(seeds)} seeds in {d}')


if __name__ == '__main__':
    main()
