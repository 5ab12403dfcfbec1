/* The A extension (LR/SC and the AMOs) on guest RAM, for both engines. */
#ifndef VIREO_RISCV_AMO_H
#define VIREO_RISCV_AMO_H

#include <stdbool.h>

#include "riscv/decode.h"
#include "riscv/hart.h"

/* True when op is LR, SC or an AMO. */
bool rv_amo_op(unsigned op);

/* One atomic instruction (op is one of the ops rv_amo_op takes, in its
 * decoded form): reads x[rs1] and x[rs2] from h->x, sets x[rd]. False on
 * a misaligned address, a page fault or an address outside RAM, with
 * h->exc_cause/exc_tval set. The interpreter runs atomics through here and
 * translated code calls it. */
bool rv_amo_insn(struct rv_hart *h, unsigned op, const struct rv_insn *in);

#endif
