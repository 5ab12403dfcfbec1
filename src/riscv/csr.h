/* CSR numbers and bit fields (RISC-V privileged spec 1.12). */
#ifndef VIREO_RISCV_CSR_H
#define VIREO_RISCV_CSR_H

#include <stdbool.h>
#include <stdint.h>

enum {
    CSR_FFLAGS = 0x001, CSR_FRM = 0x002, CSR_FCSR = 0x003,
    CSR_CYCLE = 0xc00, CSR_TIME = 0xc01, CSR_INSTRET = 0xc02,
    CSR_HPMCOUNTER3 = 0xc03, CSR_HPMCOUNTER31 = 0xc1f,
    CSR_SSTATUS = 0x100, CSR_SIE = 0x104, CSR_STVEC = 0x105, CSR_SCOUNTEREN = 0x106,
    CSR_SENVCFG = 0x10a, CSR_SSCRATCH = 0x140, CSR_SEPC = 0x141, CSR_SCAUSE = 0x142,
    CSR_STVAL = 0x143, CSR_SIP = 0x144, CSR_STIMECMP = 0x14d, CSR_SATP = 0x180,
    CSR_MVENDORID = 0xf11, CSR_MARCHID = 0xf12, CSR_MIMPID = 0xf13, CSR_MHARTID = 0xf14,
    CSR_MCONFIGPTR = 0xf15,
    CSR_MSTATUS = 0x300, CSR_MISA = 0x301, CSR_MEDELEG = 0x302, CSR_MIDELEG = 0x303,
    CSR_MIE = 0x304, CSR_MTVEC = 0x305, CSR_MCOUNTEREN = 0x306, CSR_MENVCFG = 0x30a,
    CSR_MCOUNTINHIBIT = 0x320, CSR_MHPMEVENT3 = 0x323, CSR_MHPMEVENT31 = 0x33f,
    CSR_MSCRATCH = 0x340, CSR_MEPC = 0x341, CSR_MCAUSE = 0x342, CSR_MTVAL = 0x343,
    CSR_MIP = 0x344, CSR_MTINST = 0x34a, CSR_MTVAL2 = 0x34b,
    CSR_PMPCFG0 = 0x3a0, CSR_PMPCFG15 = 0x3af, CSR_PMPADDR0 = 0x3b0, CSR_PMPADDR63 = 0x3ef,
    CSR_MSECCFG = 0x747,
    CSR_MCYCLE = 0xb00, CSR_MINSTRET = 0xb02, CSR_MHPMCOUNTER3 = 0xb03, CSR_MHPMCOUNTER31 = 0xb1f,
};

#define MSTATUS_SIE (1ull << 1)
#define MSTATUS_MIE (1ull << 3)
#define MSTATUS_SPIE (1ull << 5)
#define MSTATUS_UBE (1ull << 6)
#define MSTATUS_MPIE (1ull << 7)
#define MSTATUS_SPP (1ull << 8)
#define MSTATUS_VS (3ull << 9)
#define MSTATUS_MPP_SHIFT 11
#define MSTATUS_MPP (3ull << 11)
#define MSTATUS_FS (3ull << 13)
#define MSTATUS_FS_DIRTY (3ull << 13)
#define MSTATUS_XS (3ull << 15)
#define MSTATUS_MPRV (1ull << 17)
#define MSTATUS_SUM (1ull << 18)
#define MSTATUS_MXR (1ull << 19)
#define MSTATUS_TVM (1ull << 20)
#define MSTATUS_TW (1ull << 21)
#define MSTATUS_TSR (1ull << 22)
#define MSTATUS_UXL (3ull << 32)
#define MSTATUS_SXL (3ull << 34)
#define MSTATUS_SD (1ull << 63)

/* sstatus is a view of these mstatus bits */
#define SSTATUS_MASK (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_UBE | MSTATUS_SPP | MSTATUS_VS | \
                      MSTATUS_FS | MSTATUS_XS | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_UXL | MSTATUS_SD)

/* interrupt numbers (mip/mie bits) */
enum {
    IRQ_SSI = 1, IRQ_MSI = 3, IRQ_STI = 5, IRQ_MTI = 7, IRQ_SEI = 9, IRQ_MEI = 11,
};
#define MIP_SSIP (1ull << IRQ_SSI)
#define MIP_MSIP (1ull << IRQ_MSI)
#define MIP_STIP (1ull << IRQ_STI)
#define MIP_MTIP (1ull << IRQ_MTI)
#define MIP_SEIP (1ull << IRQ_SEI)
#define MIP_MEIP (1ull << IRQ_MEI)
#define MIP_S_MASK (MIP_SSIP | MIP_STIP | MIP_SEIP)
#define MIP_ALL_MASK (MIP_S_MASK | MIP_MSIP | MIP_MTIP | MIP_MEIP)

/* exception causes */
enum {
    EXC_INSN_MISALIGNED = 0, EXC_INSN_ACCESS = 1, EXC_ILLEGAL_INSN = 2, EXC_BREAKPOINT = 3,
    EXC_LOAD_MISALIGNED = 4, EXC_LOAD_ACCESS = 5, EXC_STORE_MISALIGNED = 6, EXC_STORE_ACCESS = 7,
    EXC_ECALL_U = 8, EXC_ECALL_S = 9, EXC_ECALL_M = 11,
    EXC_INSN_PAGE_FAULT = 12, EXC_LOAD_PAGE_FAULT = 13, EXC_STORE_PAGE_FAULT = 15,
};
#define CAUSE_INTERRUPT (1ull << 63)

#define MENVCFG_STCE (1ull << 63)
#define MENVCFG_PBMTE (1ull << 62)

#define SATP_MODE_SHIFT 60
#define SATP_MODE_BARE 0
#define SATP_MODE_SV39 8
#define SATP_MODE_SV48 9
#define SATP_MODE_SV57 10
#define SATP_PPN_MASK ((1ull << 44) - 1)

struct rv_hart;
struct rv_insn;

/* CSR access from a CSR instruction. Return false when the access must
 * raise an illegal-instruction exception (missing CSR, privilege, write to
 * a read-only CSR). rv_csr_write reports in *flush whether translation
 * state (TLB keys) changed so the caller can end the block. */
bool rv_csr_read(struct rv_hart *h, unsigned csr, uint64_t *val);
bool rv_csr_write(struct rv_hart *h, unsigned csr, uint64_t val);

/* One CSR instruction (op is one of RV_OP_CSRR*, in its decoded form):
 * reads, writes when the op writes, sets x[rd]. False when it is illegal,
 * with h->exc_cause/exc_tval set (tval: the instruction's bits). Both
 * engines run CSR instructions through here. */
bool rv_csr_insn(struct rv_hart *h, unsigned op, const struct rv_insn *in);

#endif
