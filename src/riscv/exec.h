/* The interpreter's entry point (one engine behind rv_hart_run). */
#ifndef VIREO_RISCV_EXEC_H
#define VIREO_RISCV_EXEC_H

#include "riscv/hart.h"

enum rv_exec_result {
    RV_EXEC_BUDGET, /* ran max_blocks blocks */
    RV_EXEC_WFI,    /* the hart executed WFI with nothing pending */
    RV_EXEC_EVENT,  /* another thread asked it to stop or exit */
};

/* Run up to max_blocks blocks of guest code on the calling thread. */
enum rv_exec_result rv_exec(struct rv_hart *h, uint64_t max_blocks);

#endif
