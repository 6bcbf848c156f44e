/* What one guest instruction reads and writes: the first piece of the trace
 * optimizer (liveness, dead-code removal, load forwarding and register
 * reallocation are built on it).
 *
 * Computed from Zydis' full operand list (hidden operands included) and its
 * cpu_flags, corrected where Zydis does not say what the hardware does (see
 * src/opt/analysis.c). Pure: no global state, no thread block. */
#ifndef HOTPATH_ANALYSIS_H
#define HOTPATH_ANALYSIS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotpath/ilist.h"

/* Status flags and DF (struct hp_insn_effects .flags_*). */
enum {
  HP_FL_CF = 1,
  HP_FL_PF = 2,
  HP_FL_AF = 4,
  HP_FL_ZF = 8,
  HP_FL_SF = 16,
  HP_FL_OF = 32,
  HP_FL_DF = 64,
  HP_FL_STATUS = 63, /* the six status flags */
  HP_FL_ALL = 127,
};

/* mem[].base / .index values other than a GPR number. */
enum {
  HP_MEM_RIP = 16,   /* base: rip-relative; disp is relative to the END of the
                        instruction (its pc + len), as encoded */
  HP_MEM_VSIB = 0xfe, /* index: a vector register (gather/scatter): the
                        addresses are not base + index*scale + disp */
  HP_MEM_NONE = 0xff,
};

/* mem[].seg */
enum {
  HP_SEG_FS = 4,
  HP_SEG_GS = 5,
  HP_SEG_FLAT = 0xff, /* es/cs/ss/ds or none: base 0 in 64-bit mode */
};

struct hp_insn_effects {
  /* Bit r = guest GPR r in x86 encoding order (rax=0 .. r15=15), the full
   * 64-bit register: reads of al/ah/ax/eax are reads of rax. */
  uint32_t gpr_read;
  /* Every register the instruction may modify, at any width. */
  uint32_t gpr_write;
  /* The subset of gpr_write whose old value survives in part: 8/16-bit
   * writes (they merge) and conditional writes (cmovcc, rep string
   * registers, bsf/bsr). These are also in gpr_read. A 32-bit write
   * zero-extends: a full write, not partial. So for liveness,
   * kill = gpr_write & ~gpr_write_partial, gen = gpr_read. */
  uint32_t gpr_write_partial;
  /* HP_FL_* bits. flags_write: may be modified (includes the undefined
   * ones); flags_undef: left undefined (subset of flags_write). A flag
   * that may keep its old value although written (shift by cl, which
   * changes no flag when the count is 0; rep cmps/scas) is also in
   * flags_read. */
  uint8_t flags_read, flags_write, flags_undef;
  bool vec_read, vec_write; /* any xmm/ymm/zmm/k/x87/mmx/mxcsr state */
  /* Bit i: xmm/ymm/zmm register i named by an operand (hidden ones and a
   * gather's index included), read or written at any width. xmm_all: the
   * instruction reads or writes every vector register (fxsave, xsave,
   * their restores, vzeroall). */
  uint32_t xmm;
  bool xmm_all;
  uint8_t nmem;
  struct hp_mem_operand {
    uint8_t base, index; /* GPR number, HP_MEM_RIP (base), HP_MEM_VSIB (index), HP_MEM_NONE */
    uint8_t scale;       /* 0 when there is no index */
    uint8_t seg;         /* HP_SEG_* */
    int64_t disp;        /* address as of BEFORE the instruction: push and
                            call write [rsp-8], pop [rsp] writes [rsp+8] */
    uint16_t size;       /* bytes; 0: extent unknown (rep string ops, whose
                            length is rcx elements in the direction of DF;
                            xsave/xrstor; bit tests with a register offset) */
    bool read, write;    /* write also for conditional writes (cmpxchg, masked stores) */
  } mem[2];
  /* Any memory access, div/idiv, int/int3/ud2, in/out, or privileged. SIMD
   * and x87 floating-point exceptions (unmasked in mxcsr / the x87 control
   * word) are not counted. */
  bool may_fault;
  /* Changes rip other than by falling through (branches, calls, returns,
   * syscall, int, ud2). Treat such instructions as barriers: syscall also
   * reads and writes whatever memory the kernel chooses. */
  bool control;
};

/* The effects of a plain guest instruction (op HP_OP_GUEST). False for any
 * other element, or when the instruction's effects cannot be described
 * (then the caller must assume it reads and writes everything). */
bool hp_analyze_insn(const struct hp_insn *in, struct hp_insn_effects *out);

/* hp_analyze_insn for every element of l: known[i] its result, eff[i] the
 * effects (room for l->n each). The optimizer's passes take these instead
 * of decoding each instruction again (a full decode is some 300 ns). */
void hp_analyze_list(const struct hp_ilist *l, struct hp_insn_effects *eff, bool *known);

/* The same for the instruction at bytes[0, len), whatever it is (decoded
 * control transfers too). syscall is described with the Linux ABI: it reads
 * rax, rdi, rsi, rdx, r10, r8, r9 and all flags (saved into r11), writes
 * rax, rcx, r11. */
bool hp_analyze_bytes(const uint8_t *bytes, size_t len, struct hp_insn_effects *out);

/* Copies up to max bytes of guest code at pc into buf; returns how many
 * (0: none it can vouch for, such as code the guest may still rewrite). */
typedef size_t (*hp_code_fetch)(void *ctx, uint64_t pc, uint8_t *buf, size_t max);
/* The general registers (bit r: GPR r) and HP_FL_* flags that the guest
 * code at pc may read before writing them (its live-in): decoded along the
 * path it takes for at most max_insns instructions, following direct
 * jmps. At any other control transfer (branches, calls, returns, system
 * calls), an instruction that cannot be fetched, decoded or described, or
 * after max_insns, everything not written by then counts as read. Partial
 * and conditional writes, and flags the ISA leaves undefined, kill
 * nothing. [*lo, *hi) grows to hold the bytes it decoded (what a change of
 * the code must flush along with the caller's use of the answer). */
void hp_live_in(hp_code_fetch fetch, void *ctx, uint64_t pc, unsigned max_insns, uint32_t *gpr, uint8_t *flags,
                uint64_t *lo, uint64_t *hi);

#endif
