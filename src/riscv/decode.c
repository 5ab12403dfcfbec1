#include "riscv/decode.h"

#include <stdbool.h>
#include <string.h>

static const char *const op_names[] = {
#define RV_OP_NAME(name) #name,
    RV_OPS(RV_OP_NAME)
#undef RV_OP_NAME
};

const char *rv_op_name(enum rv_op op) { return op < RV_OP_COUNT ? op_names[op] : "?"; }

int rv_op_ends_block(enum rv_op op)
{
    switch (op) {
    case RV_OP_ILLEGAL: case RV_OP_BLOCK_END:
    case RV_OP_JAL: case RV_OP_JALR:
    case RV_OP_BEQ: case RV_OP_BNE: case RV_OP_BLT: case RV_OP_BGE: case RV_OP_BLTU: case RV_OP_BGEU:
    case RV_OP_FENCE_I: case RV_OP_ECALL: case RV_OP_EBREAK: case RV_OP_MRET: case RV_OP_SRET:
    case RV_OP_WFI: case RV_OP_SFENCE_VMA:
    case RV_OP_CSRRW: case RV_OP_CSRRS: case RV_OP_CSRRC:
    case RV_OP_CSRRWI: case RV_OP_CSRRSI: case RV_OP_CSRRCI:
        return 1;
    default:
        return 0;
    }
}

int rv_csr_is_fp(unsigned csr) { return csr >= 0x001 && csr <= 0x003; }

int rv_insn_ends_block(enum rv_op op, const struct rv_insn *in)
{
    switch (op) {
    case RV_OP_CSRRW: case RV_OP_CSRRS: case RV_OP_CSRRC:
    case RV_OP_CSRRWI: case RV_OP_CSRRSI: case RV_OP_CSRRCI:
        return !rv_csr_is_fp((unsigned)in->imm & 0xfff);
    default:
        return rv_op_ends_block(op);
    }
}

/* integer destination: x0 becomes the scratch register */
static inline uint8_t xd(uint32_t r) { return r ? (uint8_t)r : 32; }

static inline uint32_t bits(uint32_t v, int hi, int lo) { return (v >> lo) & ((1u << (hi - lo + 1)) - 1); }
static inline int32_t sext(uint32_t v, int width) { return (int32_t)(v << (32 - width)) >> (32 - width); }

static enum rv_op illegal(uint32_t raw, struct rv_insn *in)
{
    in->imm = (int32_t)raw;
    in->rd = in->rs1 = in->rs2 = 0;
    return RV_OP_ILLEGAL;
}

/* Static rounding modes 5 and 6 are reserved; 7 (DYN) is checked at run
 * time against frm. */
static bool rm_ok(uint32_t rm) { return rm != 5 && rm != 6; }

static enum rv_op decode_fp(uint32_t raw, struct rv_insn *in)
{
    uint32_t f7 = raw >> 25, rm = bits(raw, 14, 12), rs2 = bits(raw, 24, 20);
    uint32_t rd = bits(raw, 11, 7);
    in->imm = (int32_t)rm;
    bool dbl = f7 & 1;
    switch (f7) {
    case 0x00: case 0x01: if (!rm_ok(rm)) break; return dbl ? RV_OP_FADD_D : RV_OP_FADD_S;
    case 0x04: case 0x05: if (!rm_ok(rm)) break; return dbl ? RV_OP_FSUB_D : RV_OP_FSUB_S;
    case 0x08: case 0x09: if (!rm_ok(rm)) break; return dbl ? RV_OP_FMUL_D : RV_OP_FMUL_S;
    case 0x0c: case 0x0d: if (!rm_ok(rm)) break; return dbl ? RV_OP_FDIV_D : RV_OP_FDIV_S;
    case 0x2c: case 0x2d:
        if (rs2 != 0 || !rm_ok(rm)) break;
        return dbl ? RV_OP_FSQRT_D : RV_OP_FSQRT_S;
    case 0x10: case 0x11:
        if (rm > 2) break;
        return dbl ? RV_OP_FSGNJ_D : RV_OP_FSGNJ_S;
    case 0x14: case 0x15:
        if (rm == 0) return dbl ? RV_OP_FMIN_D : RV_OP_FMIN_S;
        if (rm == 1) return dbl ? RV_OP_FMAX_D : RV_OP_FMAX_S;
        break;
    case 0x20: /* FCVT.S.D */
        if (rs2 != 1 || !rm_ok(rm)) break;
        return RV_OP_FCVT_S_D;
    case 0x21: /* FCVT.D.S */
        if (rs2 != 0 || !rm_ok(rm)) break;
        return RV_OP_FCVT_D_S;
    case 0x60: case 0x61: {
        if (!rm_ok(rm) || rs2 > 3) break;
        in->rd = xd(rd);
        static const enum rv_op s[] = { RV_OP_FCVT_W_S, RV_OP_FCVT_WU_S, RV_OP_FCVT_L_S, RV_OP_FCVT_LU_S };
        static const enum rv_op d[] = { RV_OP_FCVT_W_D, RV_OP_FCVT_WU_D, RV_OP_FCVT_L_D, RV_OP_FCVT_LU_D };
        return dbl ? d[rs2] : s[rs2];
    }
    case 0x68: case 0x69: {
        if (!rm_ok(rm) || rs2 > 3) break;
        static const enum rv_op s[] = { RV_OP_FCVT_S_W, RV_OP_FCVT_S_WU, RV_OP_FCVT_S_L, RV_OP_FCVT_S_LU };
        static const enum rv_op d[] = { RV_OP_FCVT_D_W, RV_OP_FCVT_D_WU, RV_OP_FCVT_D_L, RV_OP_FCVT_D_LU };
        return dbl ? d[rs2] : s[rs2];
    }
    case 0x50: case 0x51:
        in->rd = xd(rd);
        if (rm == 2) return dbl ? RV_OP_FEQ_D : RV_OP_FEQ_S;
        if (rm == 1) return dbl ? RV_OP_FLT_D : RV_OP_FLT_S;
        if (rm == 0) return dbl ? RV_OP_FLE_D : RV_OP_FLE_S;
        break;
    case 0x70: case 0x71:
        if (rs2 != 0) break;
        in->rd = xd(rd);
        if (rm == 0) return dbl ? RV_OP_FMV_X_D : RV_OP_FMV_X_W;
        if (rm == 1) return dbl ? RV_OP_FCLASS_D : RV_OP_FCLASS_S;
        break;
    case 0x78: case 0x79:
        if (rs2 != 0 || rm != 0) break;
        return dbl ? RV_OP_FMV_D_X : RV_OP_FMV_W_X;
    default:
        break;
    }
    return illegal(raw, in);
}

static enum rv_op decode32(uint32_t raw, struct rv_insn *in)
{
    uint32_t opcode = raw & 0x7f;
    uint32_t rd = bits(raw, 11, 7), f3 = bits(raw, 14, 12);
    uint32_t rs1 = bits(raw, 19, 15), rs2 = bits(raw, 24, 20), f7 = raw >> 25;
    int32_t imm_i = (int32_t)raw >> 20;
    int32_t imm_s = (int32_t)((raw >> 25) << 5 | bits(raw, 11, 7));
    imm_s = sext((uint32_t)imm_s, 12);
    in->rd = (uint8_t)rd;
    in->rs1 = (uint8_t)rs1;
    in->rs2 = (uint8_t)rs2;
    in->imm = 0;

    switch (opcode) {
    case 0x37:
        in->rd = xd(rd);
        in->imm = (int32_t)(raw & 0xfffff000);
        return RV_OP_LUI;
    case 0x17:
        in->rd = xd(rd);
        in->imm = (int32_t)(raw & 0xfffff000);
        return RV_OP_AUIPC;
    case 0x6f: {
        uint32_t imm = (bits(raw, 31, 31) << 20) | (bits(raw, 19, 12) << 12) | (bits(raw, 20, 20) << 11) |
                       (bits(raw, 30, 21) << 1);
        in->rd = xd(rd);
        in->imm = sext(imm, 21);
        return RV_OP_JAL;
    }
    case 0x67:
        if (f3 != 0)
            break;
        in->rd = xd(rd);
        in->imm = imm_i;
        return RV_OP_JALR;
    case 0x63: {
        uint32_t imm = (bits(raw, 31, 31) << 12) | (bits(raw, 7, 7) << 11) | (bits(raw, 30, 25) << 5) |
                       (bits(raw, 11, 8) << 1);
        in->imm = sext(imm, 13);
        static const enum rv_op ops[8] = { RV_OP_BEQ, RV_OP_BNE, RV_OP_ILLEGAL, RV_OP_ILLEGAL,
                                           RV_OP_BLT, RV_OP_BGE, RV_OP_BLTU, RV_OP_BGEU };
        if (ops[f3] == RV_OP_ILLEGAL)
            break;
        return ops[f3];
    }
    case 0x03: {
        static const enum rv_op ops[8] = { RV_OP_LB, RV_OP_LH, RV_OP_LW, RV_OP_LD,
                                           RV_OP_LBU, RV_OP_LHU, RV_OP_LWU, RV_OP_ILLEGAL };
        if (ops[f3] == RV_OP_ILLEGAL)
            break;
        in->rd = xd(rd);
        in->imm = imm_i;
        return ops[f3];
    }
    case 0x23: {
        static const enum rv_op ops[4] = { RV_OP_SB, RV_OP_SH, RV_OP_SW, RV_OP_SD };
        if (f3 > 3)
            break;
        in->imm = imm_s;
        return ops[f3];
    }
    case 0x13: {
        in->rd = xd(rd);
        in->imm = imm_i;
        switch (f3) {
        case 0: return RV_OP_ADDI;
        case 2: return RV_OP_SLTI;
        case 3: return RV_OP_SLTIU;
        case 4: return RV_OP_XORI;
        case 6: return RV_OP_ORI;
        case 7: return RV_OP_ANDI;
        case 1:
            if ((raw >> 26) != 0)
                break;
            in->imm = (int32_t)bits(raw, 25, 20);
            return RV_OP_SLLI;
        case 5:
            in->imm = (int32_t)bits(raw, 25, 20);
            if ((raw >> 26) == 0)
                return RV_OP_SRLI;
            if ((raw >> 26) == 0x10)
                return RV_OP_SRAI;
            break;
        }
        break;
    }
    case 0x33: {
        in->rd = xd(rd);
        if (f7 == 0) {
            static const enum rv_op ops[8] = { RV_OP_ADD, RV_OP_SLL, RV_OP_SLT, RV_OP_SLTU,
                                               RV_OP_XOR, RV_OP_SRL, RV_OP_OR, RV_OP_AND };
            return ops[f3];
        }
        if (f7 == 0x20) {
            if (f3 == 0) return RV_OP_SUB;
            if (f3 == 5) return RV_OP_SRA;
            break;
        }
        if (f7 == 1) {
            static const enum rv_op ops[8] = { RV_OP_MUL, RV_OP_MULH, RV_OP_MULHSU, RV_OP_MULHU,
                                               RV_OP_DIV, RV_OP_DIVU, RV_OP_REM, RV_OP_REMU };
            return ops[f3];
        }
        break;
    }
    case 0x1b: {
        in->rd = xd(rd);
        in->imm = imm_i;
        if (f3 == 0)
            return RV_OP_ADDIW;
        in->imm = (int32_t)rs2; /* shamt[4:0] */
        if (f3 == 1 && f7 == 0) return RV_OP_SLLIW;
        if (f3 == 5 && f7 == 0) return RV_OP_SRLIW;
        if (f3 == 5 && f7 == 0x20) return RV_OP_SRAIW;
        break;
    }
    case 0x3b: {
        in->rd = xd(rd);
        if (f7 == 0) {
            if (f3 == 0) return RV_OP_ADDW;
            if (f3 == 1) return RV_OP_SLLW;
            if (f3 == 5) return RV_OP_SRLW;
        } else if (f7 == 0x20) {
            if (f3 == 0) return RV_OP_SUBW;
            if (f3 == 5) return RV_OP_SRAW;
        } else if (f7 == 1) {
            switch (f3) {
            case 0: return RV_OP_MULW;
            case 4: return RV_OP_DIVW;
            case 5: return RV_OP_DIVUW;
            case 6: return RV_OP_REMW;
            case 7: return RV_OP_REMUW;
            }
        }
        break;
    }
    case 0x0f:
        in->imm = imm_i; /* fm | pred | succ: exec picks the host barrier from them */
        /* PAUSE (Zihintpause) is FENCE w,0 with rd = rs1 = 0: a spin-wait
         * hint worth acting on when vCPUs outnumber host CPUs. */
        if (raw == 0x0100000f) return RV_OP_PAUSE;
        if (f3 == 0) return RV_OP_FENCE;
        if (f3 == 1) return RV_OP_FENCE_I;
        break;
    case 0x73:
        if (f3 == 0) {
            if (raw == 0x00000073) return RV_OP_ECALL;
            if (raw == 0x00100073) return RV_OP_EBREAK;
            if (raw == 0x30200073) return RV_OP_MRET;
            if (raw == 0x10200073) return RV_OP_SRET;
            if (raw == 0x10500073) return RV_OP_WFI;
            if (f7 == 0x09 && rd == 0) return RV_OP_SFENCE_VMA;
            break;
        }
        if (f3 == 4)
            break;
        in->rd = xd(rd);
        in->imm = (int32_t)(raw >> 20);
        {
            static const enum rv_op ops[8] = { RV_OP_ILLEGAL, RV_OP_CSRRW, RV_OP_CSRRS, RV_OP_CSRRC,
                                               RV_OP_ILLEGAL, RV_OP_CSRRWI, RV_OP_CSRRSI, RV_OP_CSRRCI };
            return ops[f3];
        }
    case 0x2f: {
        if (f3 != 2 && f3 != 3)
            break;
        bool d = f3 == 3;
        in->rd = xd(rd);
        switch (raw >> 27) {
        case 0x02: if (rs2) break; return d ? RV_OP_LR_D : RV_OP_LR_W;
        case 0x03: return d ? RV_OP_SC_D : RV_OP_SC_W;
        case 0x01: return d ? RV_OP_AMOSWAP_D : RV_OP_AMOSWAP_W;
        case 0x00: return d ? RV_OP_AMOADD_D : RV_OP_AMOADD_W;
        case 0x04: return d ? RV_OP_AMOXOR_D : RV_OP_AMOXOR_W;
        case 0x0c: return d ? RV_OP_AMOAND_D : RV_OP_AMOAND_W;
        case 0x08: return d ? RV_OP_AMOOR_D : RV_OP_AMOOR_W;
        case 0x10: return d ? RV_OP_AMOMIN_D : RV_OP_AMOMIN_W;
        case 0x14: return d ? RV_OP_AMOMAX_D : RV_OP_AMOMAX_W;
        case 0x18: return d ? RV_OP_AMOMINU_D : RV_OP_AMOMINU_W;
        case 0x1c: return d ? RV_OP_AMOMAXU_D : RV_OP_AMOMAXU_W;
        }
        break;
    }
    case 0x07:
        in->imm = imm_i;
        if (f3 == 2) return RV_OP_FLW;
        if (f3 == 3) return RV_OP_FLD;
        break;
    case 0x27:
        in->imm = imm_s;
        if (f3 == 2) return RV_OP_FSW;
        if (f3 == 3) return RV_OP_FSD;
        break;
    case 0x43: case 0x47: case 0x4b: case 0x4f: {
        uint32_t fmt = bits(raw, 26, 25);
        if (fmt > 1 || !rm_ok(f3))
            break;
        in->imm = (int32_t)(f3 | (raw >> 27) << 8);
        unsigned k = (opcode - 0x43) >> 2;
        static const enum rv_op s[] = { RV_OP_FMADD_S, RV_OP_FMSUB_S, RV_OP_FNMSUB_S, RV_OP_FNMADD_S };
        static const enum rv_op d[] = { RV_OP_FMADD_D, RV_OP_FMSUB_D, RV_OP_FNMSUB_D, RV_OP_FNMADD_D };
        return fmt ? d[k] : s[k];
    }
    case 0x53:
        return decode_fp(raw, in);
    default:
        break;
    }
    return illegal(raw, in);
}

static enum rv_op decode16(uint32_t raw, struct rv_insn *in)
{
    uint32_t q = raw & 3, f3 = bits(raw, 15, 13);
    uint32_t rd = bits(raw, 11, 7), rs2 = bits(raw, 6, 2);
    uint32_t rdp = bits(raw, 4, 2) + 8, rs1p = bits(raw, 9, 7) + 8;
    int32_t imm6 = sext((bits(raw, 12, 12) << 5) | bits(raw, 6, 2), 6);
    memset(in, 0, sizeof(*in));

    if (q == 0) {
        switch (f3) {
        case 0: { /* C.ADDI4SPN */
            uint32_t imm = (bits(raw, 12, 11) << 4) | (bits(raw, 10, 7) << 6) | (bits(raw, 6, 6) << 2) |
                           (bits(raw, 5, 5) << 3);
            if (imm == 0)
                break;
            in->rd = (uint8_t)rdp; in->rs1 = 2; in->imm = (int32_t)imm;
            return RV_OP_ADDI;
        }
        case 1: case 3: case 5: case 7: { /* C.FLD C.LD C.FSD C.SD */
            uint32_t imm = (bits(raw, 12, 10) << 3) | (bits(raw, 6, 5) << 6);
            in->rs1 = (uint8_t)rs1p; in->imm = (int32_t)imm;
            if (f3 == 1) { in->rd = (uint8_t)rdp; return RV_OP_FLD; }
            if (f3 == 3) { in->rd = (uint8_t)rdp; return RV_OP_LD; }
            in->rs2 = (uint8_t)rdp;
            return f3 == 5 ? RV_OP_FSD : RV_OP_SD;
        }
        case 2: case 6: { /* C.LW C.SW */
            uint32_t imm = (bits(raw, 12, 10) << 3) | (bits(raw, 6, 6) << 2) | (bits(raw, 5, 5) << 6);
            in->rs1 = (uint8_t)rs1p; in->imm = (int32_t)imm;
            if (f3 == 2) { in->rd = (uint8_t)rdp; return RV_OP_LW; }
            in->rs2 = (uint8_t)rdp;
            return RV_OP_SW;
        }
        }
        return illegal(raw, in);
    }
    if (q == 1) {
        switch (f3) {
        case 0: /* C.ADDI / C.NOP */
            in->rd = xd(rd); in->rs1 = (uint8_t)rd; in->imm = imm6;
            return rd ? RV_OP_ADDI : RV_OP_NOP;
        case 1: /* C.ADDIW */
            if (rd == 0)
                break;
            in->rd = (uint8_t)rd; in->rs1 = (uint8_t)rd; in->imm = imm6;
            return RV_OP_ADDIW;
        case 2: /* C.LI */
            in->rd = xd(rd); in->rs1 = 0; in->imm = imm6;
            return RV_OP_ADDI;
        case 3:
            if (rd == 2) { /* C.ADDI16SP */
                uint32_t imm = (bits(raw, 12, 12) << 9) | (bits(raw, 6, 6) << 4) | (bits(raw, 5, 5) << 6) |
                               (bits(raw, 4, 3) << 7) | (bits(raw, 2, 2) << 5);
                if (imm == 0)
                    break;
                in->rd = 2; in->rs1 = 2; in->imm = sext(imm, 10);
                return RV_OP_ADDI;
            } else { /* C.LUI */
                int32_t imm = sext((bits(raw, 12, 12) << 17) | (bits(raw, 6, 2) << 12), 18);
                if (imm == 0)
                    break;
                in->rd = xd(rd); in->imm = imm;
                return RV_OP_LUI;
            }
        case 4: {
            uint32_t f2 = bits(raw, 11, 10);
            in->rd = (uint8_t)rs1p; in->rs1 = (uint8_t)rs1p;
            if (f2 == 0 || f2 == 1) {
                in->imm = (int32_t)((bits(raw, 12, 12) << 5) | bits(raw, 6, 2));
                return f2 == 0 ? RV_OP_SRLI : RV_OP_SRAI;
            }
            if (f2 == 2) {
                in->imm = imm6;
                return RV_OP_ANDI;
            }
            in->rs2 = (uint8_t)rdp;
            uint32_t f = bits(raw, 6, 5);
            if (!bits(raw, 12, 12)) {
                static const enum rv_op ops[4] = { RV_OP_SUB, RV_OP_XOR, RV_OP_OR, RV_OP_AND };
                return ops[f];
            }
            if (f == 0) return RV_OP_SUBW;
            if (f == 1) return RV_OP_ADDW;
            break;
        }
        case 5: { /* C.J */
            uint32_t imm = (bits(raw, 12, 12) << 11) | (bits(raw, 11, 11) << 4) | (bits(raw, 10, 9) << 8) |
                           (bits(raw, 8, 8) << 10) | (bits(raw, 7, 7) << 6) | (bits(raw, 6, 6) << 7) |
                           (bits(raw, 5, 3) << 1) | (bits(raw, 2, 2) << 5);
            in->rd = 32; in->imm = sext(imm, 12);
            return RV_OP_JAL;
        }
        case 6: case 7: { /* C.BEQZ C.BNEZ */
            uint32_t imm = (bits(raw, 12, 12) << 8) | (bits(raw, 11, 10) << 3) | (bits(raw, 6, 5) << 6) |
                           (bits(raw, 4, 3) << 1) | (bits(raw, 2, 2) << 5);
            in->rs1 = (uint8_t)rs1p; in->rs2 = 0; in->imm = sext(imm, 9);
            return f3 == 6 ? RV_OP_BEQ : RV_OP_BNE;
        }
        }
        return illegal(raw, in);
    }
    /* q == 2 */
    switch (f3) {
    case 0: /* C.SLLI */
        in->rd = xd(rd); in->rs1 = (uint8_t)rd;
        in->imm = (int32_t)((bits(raw, 12, 12) << 5) | bits(raw, 6, 2));
        return RV_OP_SLLI;
    case 1: case 3: { /* C.FLDSP C.LDSP */
        uint32_t imm = (bits(raw, 12, 12) << 5) | (bits(raw, 6, 5) << 3) | (bits(raw, 4, 2) << 6);
        if (f3 == 3 && rd == 0)
            break;
        in->rd = (uint8_t)rd; in->rs1 = 2; in->imm = (int32_t)imm;
        return f3 == 1 ? RV_OP_FLD : RV_OP_LD;
    }
    case 2: { /* C.LWSP */
        uint32_t imm = (bits(raw, 12, 12) << 5) | (bits(raw, 6, 4) << 2) | (bits(raw, 3, 2) << 6);
        if (rd == 0)
            break;
        in->rd = (uint8_t)rd; in->rs1 = 2; in->imm = (int32_t)imm;
        return RV_OP_LW;
    }
    case 4:
        if (!bits(raw, 12, 12)) {
            if (rs2 == 0) { /* C.JR */
                if (rd == 0)
                    break;
                in->rd = 32; in->rs1 = (uint8_t)rd; in->imm = 0;
                return RV_OP_JALR;
            }
            in->rd = xd(rd); in->rs1 = 0; in->rs2 = (uint8_t)rs2; /* C.MV */
            return RV_OP_ADD;
        }
        if (rd == 0 && rs2 == 0)
            return RV_OP_EBREAK;
        if (rs2 == 0) { /* C.JALR */
            in->rd = 1; in->rs1 = (uint8_t)rd; in->imm = 0;
            return RV_OP_JALR;
        }
        in->rd = xd(rd); in->rs1 = (uint8_t)rd; in->rs2 = (uint8_t)rs2; /* C.ADD */
        return RV_OP_ADD;
    case 5: case 7: { /* C.FSDSP C.SDSP */
        uint32_t imm = (bits(raw, 12, 10) << 3) | (bits(raw, 9, 7) << 6);
        in->rs1 = 2; in->rs2 = (uint8_t)rs2; in->imm = (int32_t)imm;
        return f3 == 5 ? RV_OP_FSD : RV_OP_SD;
    }
    case 6: { /* C.SWSP */
        uint32_t imm = (bits(raw, 12, 9) << 2) | (bits(raw, 8, 7) << 6);
        in->rs1 = 2; in->rs2 = (uint8_t)rs2; in->imm = (int32_t)imm;
        return RV_OP_SW;
    }
    }
    return illegal(raw, in);
}

enum rv_op rv_decode(uint32_t raw, struct rv_insn *insn, unsigned *len)
{
    insn->handler = NULL;
    insn->off = 0;
    if ((raw & 3) != 3) {
        *len = 2;
        return decode16(raw & 0xffff, insn);
    }
    *len = 4;
    /* 48-bit and longer encodings (bits 4:2 = 111) are not defined. */
    if ((raw & 0x1c) == 0x1c)
        return illegal(raw, insn);
    return decode32(raw, insn);
}
