/* Two harts (run with --cpus 2). Hart 1 sleeps in WFI with only MSIE
 * enabled (MIE = 0) until hart 0 sends an IPI through its msip; then both
 * harts add 1 to a shared word 10000 times with AMOADD.W and 10000 times
 * with an LR/SC loop; hart 0 waits for hart 1's done flag and checks the
 * exact totals. */
#define SMP_TEST
#include "common.h"

#define N 10000
#define TIMEOUT_TICKS 100000000          /* 10 s at 10 MHz */

    .text
    .globl test_main
test_main:
    /* hart 1 must still be asleep */
    li gp, 1
    li t0, 1000
1:  addi t0, t0, -1
    bnez t0, 1b
    la t0, h1_woke
    ld a0, 0(t0)
    CHECK(a0, 0)
    /* wake it */
    li gp, 2
    li t0, CLINT_MSIP(1)
    li t1, 1
    sw t1, 0(t0)
    la s0, h1_woke
    call wait_flag
    la t0, h1_hartid
    ld a0, 0(t0)
    CHECK(a0, 1)                         /* a0 = hartid at entry */
    ld a0, 8(t0)
    CHECK(a0, 1)                         /* mhartid */
    li t0, CLINT_MSIP(1)
    lw a0, 0(t0)
    CHECK(a0, 0)                         /* hart 1 cleared its msip */
    /* race */
    li gp, 3
    call add_loops
    la s0, h1_done
    call wait_flag
    fence rw, rw
    la t0, counter_amo
    lw a0, 0(t0)
    CHECK(a0, 2 * N)
    lw a0, 4(t0)
    CHECK(a0, 0x5a5a5a5a)                /* the neighbour word is intact */
    li gp, 4
    la t0, counter_lrsc
    ld a0, 0(t0)
    CHECK(a0, 2 * N)
    PASS

/* the work both harts do */
add_loops:
    la t0, counter_amo
    li t1, N
    li t2, 1
1:  amoadd.w zero, t2, (t0)
    addi t1, t1, -1
    bnez t1, 1b
    la t0, counter_lrsc
    li t1, N
2:  lr.d t2, (t0)
    addi t2, t2, 1
    sc.d t3, t2, (t0)
    bnez t3, 2b
    addi t1, t1, -1
    bnez t1, 2b
    ret

/* wait until the dword at s0 is nonzero, or fail after TIMEOUT_TICKS */
wait_flag:
    li t2, CLINT_MTIME
    ld t3, 0(t2)
    li t4, TIMEOUT_TICKS
    add t3, t3, t4
1:  ld t5, 0(s0)
    bnez t5, 2f
    ld t4, 0(t2)
    bltu t4, t3, 1b
    j fail
2:  ret

    .globl secondary_main
secondary_main:                          /* hart 1 (more harts: park) */
    csrr t0, mhartid
    li t1, 1
    bne t0, t1, park
    la t1, h1_hartid
    sd a0, 0(t1)
    sd t0, 8(t1)
    li t0, MIP_MSIP
    csrw mie, t0                         /* MIE stays 0: WFI wakes, no trap */
1:  wfi
    csrr t0, mip
    andi t0, t0, MIP_MSIP
    beqz t0, 1b
    li t0, CLINT_MSIP(1)
    sw zero, 0(t0)
    la t0, h1_woke
    li t1, 1
    sd t1, 0(t0)
    call add_loops
    la t0, h1_done
    li t1, 1
    amoswap.d.rl zero, t1, (t0)
    csrw mie, zero
    j park

    .data
    .balign 64
counter_amo:
    .word 0, 0x5a5a5a5a
    .balign 64
counter_lrsc:
    .dword 0
    .balign 64
h1_woke:
    .dword 0
h1_done:
    .dword 0
h1_hartid:
    .dword -1, -1
