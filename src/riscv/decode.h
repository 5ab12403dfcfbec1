/* Instruction decoding: one 16- or 32-bit RISC-V instruction into a
 * struct rv_insn, the form the interpreter caches and executes. Compressed
 * instructions are expanded to the operation of their 32-bit equivalent. */
#ifndef VIREO_RISCV_DECODE_H
#define VIREO_RISCV_DECODE_H

#include <stdint.h>

/* Every operation the interpreter knows. Order is free; the interpreter
 * builds its dispatch table from this list. */
#define RV_OPS(X) \
    X(ILLEGAL) X(NOP) X(BLOCK_END) \
    X(LUI) X(AUIPC) X(JAL) X(JALR) \
    X(BEQ) X(BNE) X(BLT) X(BGE) X(BLTU) X(BGEU) \
    X(LB) X(LH) X(LW) X(LD) X(LBU) X(LHU) X(LWU) \
    X(SB) X(SH) X(SW) X(SD) \
    X(ADDI) X(SLTI) X(SLTIU) X(XORI) X(ORI) X(ANDI) X(SLLI) X(SRLI) X(SRAI) \
    X(ADD) X(SUB) X(SLL) X(SLT) X(SLTU) X(XOR) X(SRL) X(SRA) X(OR) X(AND) \
    X(ADDIW) X(SLLIW) X(SRLIW) X(SRAIW) X(ADDW) X(SUBW) X(SLLW) X(SRLW) X(SRAW) \
    X(MUL) X(MULH) X(MULHSU) X(MULHU) X(DIV) X(DIVU) X(REM) X(REMU) \
    X(MULW) X(DIVW) X(DIVUW) X(REMW) X(REMUW) \
    X(FENCE) X(PAUSE) X(FENCE_I) X(ECALL) X(EBREAK) X(MRET) X(SRET) X(WFI) X(SFENCE_VMA) \
    X(CSRRW) X(CSRRS) X(CSRRC) X(CSRRWI) X(CSRRSI) X(CSRRCI) \
    X(LR_W) X(SC_W) X(AMOSWAP_W) X(AMOADD_W) X(AMOXOR_W) X(AMOAND_W) X(AMOOR_W) \
    X(AMOMIN_W) X(AMOMAX_W) X(AMOMINU_W) X(AMOMAXU_W) \
    X(LR_D) X(SC_D) X(AMOSWAP_D) X(AMOADD_D) X(AMOXOR_D) X(AMOAND_D) X(AMOOR_D) \
    X(AMOMIN_D) X(AMOMAX_D) X(AMOMINU_D) X(AMOMAXU_D) \
    X(FLW) X(FSW) X(FLD) X(FSD) \
    X(FMADD_S) X(FMSUB_S) X(FNMSUB_S) X(FNMADD_S) X(FMADD_D) X(FMSUB_D) X(FNMSUB_D) X(FNMADD_D) \
    X(FADD_S) X(FSUB_S) X(FMUL_S) X(FDIV_S) X(FSQRT_S) X(FSGNJ_S) X(FMIN_S) X(FMAX_S) \
    X(FCVT_W_S) X(FCVT_WU_S) X(FCVT_L_S) X(FCVT_LU_S) X(FMV_X_W) X(FEQ_S) X(FLT_S) X(FLE_S) X(FCLASS_S) \
    X(FCVT_S_W) X(FCVT_S_WU) X(FCVT_S_L) X(FCVT_S_LU) X(FMV_W_X) \
    X(FADD_D) X(FSUB_D) X(FMUL_D) X(FDIV_D) X(FSQRT_D) X(FSGNJ_D) X(FMIN_D) X(FMAX_D) \
    X(FCVT_W_D) X(FCVT_WU_D) X(FCVT_L_D) X(FCVT_LU_D) X(FMV_X_D) X(FEQ_D) X(FLT_D) X(FLE_D) X(FCLASS_D) \
    X(FCVT_D_W) X(FCVT_D_WU) X(FCVT_D_L) X(FCVT_D_LU) X(FMV_D_X) \
    X(FCVT_S_D) X(FCVT_D_S)

enum rv_op {
#define RV_OP_ENUM(name) RV_OP_##name,
    RV_OPS(RV_OP_ENUM)
#undef RV_OP_ENUM
    RV_OP_COUNT
};

/* A decoded instruction. 16 bytes, so a block's instructions sit densely in
 * cache. For FP ops imm holds the rounding mode (and rs3 << 8 for fused
 * ops); for CSR ops it holds the CSR number; for ILLEGAL, the raw bits. */
struct rv_insn {
    const void *handler; /* interpreter label, filled in when a block is built */
    int32_t imm;
    uint8_t rd, rs1, rs2;
    uint8_t off; /* offset from block start in 2-byte units */
};

/* Decode the instruction whose first 16 bits are lo (hi holds the next 16
 * bits, used only when the instruction is 32 bits long). Returns the op and
 * fills *insn (not handler/off); *len gets 2 or 4. rd = 0 is rewritten to
 * the scratch register 32 so that execution never needs a check for x0. */
enum rv_op rv_decode(uint32_t raw, struct rv_insn *insn, unsigned *len);

/* Does this op end a block (control flow, or state that changes how the
 * following instructions must be fetched or translated)? */
int rv_op_ends_block(enum rv_op op);

/* The same for one decoded instruction: CSR instructions on the FP CSRs
 * (fflags, frm, fcsr) do not end a block, since they change nothing about
 * fetch, translation or privilege; compiled code reads and restores fflags
 * around comparisons in hot loops. */
int rv_insn_ends_block(enum rv_op op, const struct rv_insn *in);
int rv_csr_is_fp(unsigned csr);

const char *rv_op_name(enum rv_op op);

#endif
