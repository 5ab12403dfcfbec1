/* Sv39 paging, exercised from S-mode (and U): identity 1 GiB superpages
 * for RAM and devices, a 2 MiB megapage, 4 KiB pages mapped elsewhere,
 * hardware A/D updates, page faults (fetch 12, load 13, store 15) with
 * stval/sepc delegated to S, reserved and malformed PTEs, non-canonical
 * addresses, SUM, MXR, U-mode access rules, page-crossing accesses, and
 * SFENCE.VMA after a PTE changes. */
#include "common.h"

#define VA_PAGE(i) (0x40000000 + (i) * 4096)
#define VA_A VA_PAGE(0)          /* -> page_a, RW, A/D initially clear */
#define VA_RO VA_PAGE(1)         /* -> page_ro, R */
#define VA_INVALID VA_PAGE(2)    /* V = 0 */
#define VA_USER VA_PAGE(3)       /* -> page_user, RW, U */
#define VA_XONLY VA_PAGE(4)      /* -> xpage, X only */
#define VA_REMAP VA_PAGE(5)      /* -> page_b1, later page_b2 */
#define VA_WONLY VA_PAGE(6)      /* -> page_a, W without R (reserved) */
#define VA_UCODE VA_PAGE(7)      /* -> ucode, RX, U */
#define VA_BADLEAF VA_PAGE(8)    /* pointer PTE at level 0 */
#define VA_XS1 VA_PAGE(9)        /* -> xstraddle: ends in half an instruction */
#define VA_XS2 VA_PAGE(10)       /* invalid, later -> xstraddle2 (its other half) */
#define VA_MEGA 0x40200000       /* 2 MiB page -> 0x80000000 */
#define VA_MISALIGNED 0xc0000000 /* 1 GiB page with ppn not 1 GiB aligned */

#define RWAD (PTE_V | PTE_R | PTE_W | PTE_A | PTE_D)

/* table[index] = PTE for the physical address of label with flags */
#define PTE_TO(table, index, label, flags) \
    la t0, label; srli t0, t0, 12; slli t0, t0, 10; ori t0, t0, flags; \
    la t1, table; sd t0, (index) * 8(t1)
/* table[index] = PTE for a constant physical address */
#define PTE_PA(table, index, pa, flags) \
    li t0, (((pa) >> 12) << 10) | (flags); la t1, table; sd t0, (index) * 8(t1)

/* Expect an S-mode trap with cause and stval from the instructions, then
 * continue after them */
#define TEST_SFAULT(n, cause, tval, ...) \
    li gp, n; \
    EXPECT_STRAP(88810f); \
    __VA_ARGS__; \
    j fail; \
88810: \
    CHECK_STRAP(TF_CAUSE, cause); \
    CHECK_STRAP(TF_TVAL, tval)

    .text
    .globl test_main
test_main:
    /* ---- build the tables (M-mode, physical) ---- */
    PTE_PA(pt_root, 0, 0x00000000, RWAD)                      /* devices */
    PTE_TO(pt_root, 1, pt_l1, PTE_V)
    PTE_PA(pt_root, 2, 0x80000000, RWAD | PTE_X)              /* RAM, identity */
    PTE_PA(pt_root, 3, 0x80001000, RWAD)                      /* misaligned superpage */
    PTE_TO(pt_l1, 0, pt_l0, PTE_V)
    PTE_PA(pt_l1, 1, 0x80000000, RWAD)                        /* megapage */
    PTE_TO(pt_l0, 0, page_a, PTE_V | PTE_R | PTE_W)
    PTE_TO(pt_l0, 1, page_ro, PTE_V | PTE_R | PTE_A)
    PTE_TO(pt_l0, 3, page_user, RWAD | PTE_U)
    PTE_TO(pt_l0, 4, xpage, PTE_V | PTE_X | PTE_A)
    PTE_TO(pt_l0, 5, page_b1, RWAD)
    PTE_TO(pt_l0, 6, page_a, PTE_V | PTE_W | PTE_A | PTE_D)
    PTE_TO(pt_l0, 7, ucode, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A)
    PTE_TO(pt_l0, 8, page_a, PTE_V)
    PTE_TO(pt_l0, 9, xstraddle, PTE_V | PTE_R | PTE_X | PTE_A)
    la t0, pt_root
    srli t0, t0, 12
    li t1, SATP_SV39
    or t0, t0, t1
    csrw satp, t0
    sfence.vma
    li t0, (1 << CAUSE_FETCH_PAGE_FAULT) | (1 << CAUSE_LOAD_PAGE_FAULT) | (1 << CAUSE_STORE_PAGE_FAULT) | (1 << CAUSE_ECALL_U)
    csrw medeleg, t0
    la t0, strap_entry
    csrw stvec, t0
    ENTER_S(s_main)

s_main:
    /* ---- reads through the identity superpage and the 4 KiB map ---- */
    li gp, 1
    la s0, page_a
    ld a0, 0(s0)
    CHECK(a0, 0xaaaaaaaaaaaaaaaa)
    li gp, 2
    li s1, VA_A
    ld a0, 0(s1)
    CHECK(a0, 0xaaaaaaaaaaaaaaaa)
    li t0, 4088
    add t0, s1, t0
    ld a0, 0(t0)
    CHECK(a0, 0xa1a2a3a4a5a6a7a8)
    /* ---- A/D updates ---- */
    li gp, 3
    la s2, pt_l0
    ld a0, 0(s2)
    andi a0, a0, PTE_A | PTE_D
    CHECK(a0, PTE_A)                       /* read: A set, D still clear */
    li gp, 4
    li t0, 0x0123456789abcdef
    sd t0, 8(s1)
    ld a0, 0(s2)
    andi a0, a0, PTE_A | PTE_D
    CHECK(a0, PTE_A | PTE_D)               /* written: D set */
    ld a0, 8(s0)                           /* the store went to page_a */
    CHECK(a0, 0x0123456789abcdef)
    li gp, 5                               /* clear A and D, flush: set again */
    ld t0, 0(s2)
    andi t0, t0, ~(PTE_A | PTE_D)
    sd t0, 0(s2)
    sfence.vma s1
    lw a0, 0(s1)
    ld a0, 0(s2)
    andi a0, a0, PTE_A | PTE_D
    CHECK(a0, PTE_A)
    sw zero, 16(s1)
    ld a0, 0(s2)
    andi a0, a0, PTE_A | PTE_D
    CHECK(a0, PTE_A | PTE_D)
    li gp, 6                               /* the root and l1 entries are unchanged */
    la t0, pt_l1
    ld a0, 0(t0)
    andi a0, a0, PTE_A | PTE_D
    CHECK(a0, 0)
    /* ---- megapage ---- */
    li gp, 7
    li t0, 0x80000000
    sub t0, s0, t0
    li t1, VA_MEGA
    add t0, t0, t1                         /* page_a through the megapage */
    ld a0, 0(t0)
    CHECK(a0, 0xaaaaaaaaaaaaaaaa)
    /* ---- page crossing: both pages readable / second one invalid ---- */
    li gp, 8
    li t0, VA_RO - 4
    ld a0, 0(t0)
    CHECK(a0, 0xb5b6b7b8a1a2a3a4)
    li t0, VA_INVALID - 2
    TEST_SFAULT(9, CAUSE_LOAD_PAGE_FAULT, VA_INVALID, lw a0, 0(t0))  /* stval: the faulting part */

    /* ---- page faults ---- */
    li a1, VA_INVALID
    TEST_SFAULT(10, CAUSE_LOAD_PAGE_FAULT, VA_INVALID + 8, ld a0, 8(a1))
    TEST_SFAULT(11, CAUSE_STORE_PAGE_FAULT, VA_INVALID + 16, sd a0, 16(a1))
    TEST_SFAULT(12, CAUSE_FETCH_PAGE_FAULT, VA_INVALID, jalr a1)
    CHECK_STRAP(TF_EPC, VA_INVALID)        /* sepc = the target */
    li a1, VA_RO
    TEST_SFAULT(13, CAUSE_STORE_PAGE_FAULT, VA_RO + 24, sd a0, 24(a1))
    TEST_SFAULT(14, CAUSE_STORE_PAGE_FAULT, VA_RO, amoadd.d a0, a0, (a1))  /* AMOs are stores */
    TEST_SFAULT(15, CAUSE_FETCH_PAGE_FAULT, VA_RO, jalr a1)                /* not executable */
    li a1, VA_WONLY
    TEST_SFAULT(16, CAUSE_LOAD_PAGE_FAULT, VA_WONLY, ld a0, 0(a1))        /* W without R */
    TEST_SFAULT(17, CAUSE_STORE_PAGE_FAULT, VA_WONLY, sd a0, 0(a1))
    li a1, VA_BADLEAF
    TEST_SFAULT(18, CAUSE_LOAD_PAGE_FAULT, VA_BADLEAF, ld a0, 0(a1))      /* pointer at level 0 */
    li a1, VA_MISALIGNED
    TEST_SFAULT(19, CAUSE_LOAD_PAGE_FAULT, VA_MISALIGNED + 0x10, ld a0, 0x10(a1))
    li a1, 0x0000004000000000              /* bit 38 set, bits 63:39 not */
    TEST_SFAULT(20, CAUSE_LOAD_PAGE_FAULT, 0x0000004000000000, ld a0, 0(a1))
    li a1, 0xffffffc000000000              /* canonical, but unmapped (root[256]) */
    TEST_SFAULT(21, CAUSE_LOAD_PAGE_FAULT, 0xffffffc000000000, ld a0, 0(a1))
    li a1, 0x8000000080000000              /* RAM identity with high garbage */
    TEST_SFAULT(22, CAUSE_STORE_PAGE_FAULT, 0x8000000080000000, sw a0, 0(a1))
    /* a faulting store wrote nothing */
    li gp, 23
    ld a0, 0(s0)
    CHECK(a0, 0xaaaaaaaaaaaaaaaa)
    la t0, page_ro
    ld a0, 24(t0)
    CHECK(a0, 0)

    /* ---- SUM: S access to U pages ---- */
    li a1, VA_USER
    li t0, MSTATUS_SUM
    csrc sstatus, t0
    TEST_SFAULT(24, CAUSE_LOAD_PAGE_FAULT, VA_USER, ld a0, 0(a1))
    TEST_SFAULT(25, CAUSE_STORE_PAGE_FAULT, VA_USER, sd a0, 0(a1))
    li gp, 26
    li t0, MSTATUS_SUM
    csrs sstatus, t0
    ld a0, 0(a1)
    CHECK(a0, 0x5555555555555555)
    li t0, 0x5a5a
    sd t0, 8(a1)
    ld a0, 8(a1)
    CHECK(a0, 0x5a5a)
    TEST_SFAULT(27, CAUSE_FETCH_PAGE_FAULT, VA_UCODE, li a2, VA_UCODE; jalr a2)   /* never executes U code */
    li t0, MSTATUS_SUM
    csrc sstatus, t0
    TEST_SFAULT(28, CAUSE_LOAD_PAGE_FAULT, VA_USER, ld a0, 0(a1))       /* and faults again */

    /* ---- MXR: loads from execute-only pages ---- */
    li a1, VA_XONLY
    TEST_SFAULT(29, CAUSE_LOAD_PAGE_FAULT, VA_XONLY, lwu a0, 0(a1))
    li gp, 30
    li t0, MSTATUS_MXR
    csrs sstatus, t0
    lwu a0, 0(a1)
    CHECK(a0, 0x04d00513)                  /* addi a0, zero, 77 */
    li t0, MSTATUS_MXR
    csrc sstatus, t0
    TEST_SFAULT(31, CAUSE_LOAD_PAGE_FAULT, VA_XONLY, lwu a0, 0(a1))
    TEST_SFAULT(32, CAUSE_STORE_PAGE_FAULT, VA_XONLY, sw a0, 0(a1))
    li gp, 33                              /* but it runs */
    li a0, 0
    jalr a1
    CHECK(a0, 77)

    /* ---- SFENCE.VMA after changing a PTE ---- */
    li gp, 34
    li s3, VA_REMAP
    ld a0, 0(s3)
    CHECK(a0, 0x1111)
    PTE_TO(pt_l0, 5, page_b2, RWAD)
    sfence.vma s3
    ld a0, 0(s3)
    CHECK(a0, 0x2222)
    li gp, 35
    PTE_TO(pt_l0, 5, page_b1, RWAD)
    sfence.vma
    ld a0, 0(s3)
    CHECK(a0, 0x1111)
    li t0, 0x3333
    sd t0, 0(s3)                           /* fills the write side too */
    la t1, pt_l0
    sd zero, 5 * 8(t1)                     /* unmap */
    sfence.vma zero, zero
    TEST_SFAULT(36, CAUSE_LOAD_PAGE_FAULT, VA_REMAP, ld a0, 0(s3))
    TEST_SFAULT(37, CAUSE_STORE_PAGE_FAULT, VA_REMAP, sd a0, 0(s3))
    li gp, 38
    PTE_TO(pt_l0, 5, page_b2, RWAD)
    sfence.vma s3, zero
    ld a0, 0(s3)
    CHECK(a0, 0x2222)
    la t0, page_b1
    ld a0, 0(t0)
    CHECK(a0, 0x3333)

    /* ---- SFENCE.VMA with any address of a superpage flushes all of it
     * ("one page or superpage ... rs1 can specify a virtual address within
     * that mapping") ---- */
    li gp, 43
    la t0, page_ro
    li t1, 0x80000000
    sub s5, t0, t1                         /* offset of page_ro in the first 2 MiB */
    li s4, VA_MEGA
    add s6, s4, s5                         /* page_ro through the megapage */
    ld a0, 0(s4)                           /* cache two 4 KiB pieces of it */
    ld a0, 0(s6)
    CHECK(a0, 0xb1b2b3b4b5b6b7b8)
    li t0, 0x80200000                      /* the next 2 MiB of RAM */
    add t0, t0, s5
    li t1, 0xfeed
    sd t1, 0(t0)
    PTE_PA(pt_l1, 1, 0x80200000, RWAD)     /* move the megapage */
    sfence.vma s4                          /* named by its first page only */
    ld a0, 0(s6)
    CHECK(a0, 0xfeed)
    li gp, 44                              /* and for a store */
    PTE_PA(pt_l1, 1, 0x80000000, RWAD)     /* back to the start of RAM */
    sfence.vma s6
    ld a0, 0(s6)
    CHECK(a0, 0xb1b2b3b4b5b6b7b8)
    sd zero, 8(s6)                         /* caches a writable piece */
    PTE_PA(pt_l1, 1, 0x80200000, RWAD)
    sfence.vma s4
    li t1, 0x77
    sd t1, 8(s6)                           /* must land in the new 2 MiB */
    li t0, 0x80200000
    add t0, t0, s5
    ld a0, 8(t0)
    CHECK(a0, 0x77)
    la t0, page_ro
    ld a0, 8(t0)
    CHECK(a0, 0)
    PTE_PA(pt_l1, 1, 0x80000000, RWAD)
    sfence.vma

    /* ---- an instruction across two pages, the second one unmapped:
     * fetch page fault, sepc = the instruction, stval = the second page ---- */
    li a0, 0
    li t0, VA_XS1 + 4094
    TEST_SFAULT(45, CAUSE_FETCH_PAGE_FAULT, VA_XS2, jalr t0)
    CHECK_STRAP(TF_EPC, VA_XS1 + 4094)
    li t0, VA_XS1 + 4092                   /* entered one instruction earlier */
    TEST_SFAULT(46, CAUSE_FETCH_PAGE_FAULT, VA_XS2, jalr t0)
    CHECK_STRAP(TF_EPC, VA_XS1 + 4094)
    CHECK(a0, 1)                           /* the c.addi before it ran */
    li gp, 47                              /* mapped to a page elsewhere: runs */
    PTE_TO(pt_l0, 10, xstraddle2, PTE_V | PTE_R | PTE_X | PTE_A)
    li t0, VA_XS2
    sfence.vma t0
    li a0, 0
    li t0, VA_XS1 + 4092
    jalr t0
    CHECK(a0, 2)

    /* ---- U-mode ---- */
    li a1, VA_USER
    li a3, VA_A
    li a0, 0
    li gp, 39
    EXPECT_STRAP(1f)
    li t0, VA_UCODE
    csrw sepc, t0
    li t0, MSTATUS_SPP
    csrc sstatus, t0
    sret                                   /* U: ld from U page, then from an S page */
1:  CHECK_STRAP(TF_CAUSE, CAUSE_LOAD_PAGE_FAULT)
    CHECK_STRAP(TF_TVAL, VA_A)
    CHECK_STRAP(TF_EPC, VA_UCODE + 4)
    CHECK_STRAP_STATUS(MSTATUS_SPP, 0)
    CHECK(a0, 0x5555555555555555)          /* the first load worked */
    li gp, 40                              /* U ecall, delegated */
    EXPECT_STRAP(1f)
    li t0, VA_UCODE + 8
    csrw sepc, t0
    li t0, MSTATUS_SPP
    csrc sstatus, t0
    sret
1:  CHECK_STRAP(TF_CAUSE, CAUSE_ECALL_U)
    CHECK_STRAP(TF_EPC, VA_UCODE + 8)
    li gp, 41                              /* U may not run S pages */
    EXPECT_STRAP(1f)
    la t0, 2f
    csrw sepc, t0
    li t0, MSTATUS_SPP
    csrc sstatus, t0
    sret
2:  j fail
1:  CHECK_STRAP(TF_CAUSE, CAUSE_FETCH_PAGE_FAULT)
    CHECK_STRAP_ADDR(TF_TVAL, 2b)
    li gp, 42                              /* SUM does not matter to U */
    li t0, MSTATUS_SUM
    csrs sstatus, t0
    EXPECT_STRAP(1f)
    li t0, VA_UCODE
    csrw sepc, t0
    li t0, MSTATUS_SPP
    csrc sstatus, t0
    sret
1:  CHECK_STRAP(TF_CAUSE, CAUSE_LOAD_PAGE_FAULT)
    CHECK_STRAP(TF_TVAL, VA_A)

    /* ---- Sv48 (what Linux picks on this board): a fourth level on top
     * of the same tables, and a 512 GiB page ---- */
    li gp, 50
    PTE_TO(pt_root4, 0, pt_root, PTE_V)                  /* VA 0..512G: as before */
    PTE_PA(pt_root4, 1, 0, RWAD)                         /* VA 512G.. -> PA 0 */
    PTE_PA(pt_root4, 2, 0x80000000, RWAD)                /* misaligned 512 GiB page */
    la t0, pt_root4
    srli t0, t0, 12
    li t1, SATP_SV48
    or s7, t0, t1
    csrw satp, s7
    sfence.vma
    csrr a0, satp
    CHECK_REG(a0, s7)
    li gp, 51
    li s1, VA_A
    ld a0, 0(s1)
    CHECK(a0, 0xaaaaaaaaaaaaaaaa)
    li t0, 0x8000000000                                  /* page_a through the 512 GiB page */
    add t0, t0, s0
    ld a0, 0(t0)
    CHECK(a0, 0xaaaaaaaaaaaaaaaa)
    li a1, 0x0000004000000000                            /* canonical now, but unmapped */
    TEST_SFAULT(52, CAUSE_LOAD_PAGE_FAULT, 0x0000004000000000, ld a0, 0(a1))
    li a1, 0x0000800000000000                            /* bit 47 set, bits 63:48 not */
    TEST_SFAULT(53, CAUSE_LOAD_PAGE_FAULT, 0x0000800000000000, ld a0, 0(a1))
    li a1, 0xffff800000000000
    TEST_SFAULT(54, CAUSE_STORE_PAGE_FAULT, 0xffff800000000000, sd a0, 0(a1))
    li a1, 0x10000000000
    TEST_SFAULT(55, CAUSE_LOAD_PAGE_FAULT, 0x10000000000, ld a0, 0(a1))   /* misaligned */
    li gp, 56
    la t0, pt_root
    srli t0, t0, 12
    li t1, SATP_SV39
    or t0, t0, t1
    csrw satp, t0
    sfence.vma
    li t0, 0x8000000000                                  /* no longer mapped */
    TEST_SFAULT(56, CAUSE_LOAD_PAGE_FAULT, 0x8000000000, ld a0, 0(t0))
    PASS

    .balign 4096
    .option push
    .option norvc
xpage:
    addi a0, zero, 77
    ret
    .balign 4096
ucode:
    ld a0, 0(a1)          /* +0: U page */
    ld a2, 0(a3)          /* +4: S page: faults */
    ecall                 /* +8 */
    .balign 4096
xstraddle2:
    .half 0x0015          /* upper half of addi a0, a0, 1 */
    ret
    .balign 4096
xstraddle:
    .fill 2046, 2, 0x0001 /* c.nop */
    .half 0x0505          /* 4092: c.addi a0, 1 */
    .half 0x0513          /* 4094: lower half of addi a0, a0, 1 */
    .half 0x0000          /* (the physically next page is not its continuation) */
    .balign 4096
    .option pop

    .data
    .balign 4096
pt_root:
    .zero 4096
pt_root4:
    .zero 4096
pt_l1:
    .zero 4096
pt_l0:
    .zero 4096
page_a:
    .dword 0xaaaaaaaaaaaaaaaa
    .zero 4096 - 16
    .dword 0xa1a2a3a4a5a6a7a8
page_ro:
    .dword 0xb1b2b3b4b5b6b7b8
    .zero 4096 - 8
page_user:
    .dword 0x5555555555555555
    .zero 4096 - 8
page_b1:
    .dword 0x1111
    .zero 4096 - 8
page_b2:
    .dword 0x2222
    .zero 4096 - 8
