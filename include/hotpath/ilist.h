/* The instruction list: what the stages of the translator pass to each other.
 *
 *   decode  (guest bytes at a pc -> list of guest instructions, classified)
 *   mangle  (control transfers -> exit/call/return/lookup ops, code checks)
 *   [trace stitching and optimizer passes work on the same list]
 *   lower   (list -> machine code through the emitter, exits, pc map, recovery)
 *   commit  (the only step that publishes)
 *
 * Decode and mangle are pure: they read a byte buffer, not live memory or
 * /proc/self/maps, and use no global state, so tests drive them with bytes. */
#ifndef HOTPATH_ILIST_H
#define HOTPATH_ILIST_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <Zydis/Zydis.h>

/* Why generated code leaves the cache (the exit records' kinds). */
enum hp_exit_kind {
  HP_EXIT_BRANCH,      /* direct branch to target; linkable */
  HP_EXIT_SYSCALL,     /* syscall instruction; continue at target */
  HP_EXIT_IBL_MISS,    /* indirect branch target not in the lookup table */
  HP_EXIT_BAD_INSN,    /* undecodable bytes at target: SIGILL */
  HP_EXIT_NO_EXEC,     /* instruction runs into non-executable memory at target: SIGSEGV */
  HP_EXIT_STALE,       /* the guest rewrote this fragment's code */
  HP_EXIT_UNSUPPORTED_INSN, /* an instruction hotpath cannot translate at target */
  HP_EXIT_FAULT,       /* a guest instruction faulted; target = its guest pc */
  HP_EXIT_PREDICT,     /* an indirect call/jmp site's inline cache hit: linkable to target
                          once the site has learnt it (target 0 until then) */
  HP_EXIT_LEARN,       /* that site's first execution: target in gs:ibl_target */
  HP_EXIT_HOT,         /* a trace head reached its threshold: record from target */
  HP_EXIT_GUARD_MISSES, /* a trace's guards missed --trace-miss-limit times in this thread:
                           go on at gs:ibl_target; the trace may be rebuilt */
  HP_EXIT_DEOPT,       /* an optimized trace's entry found its assumption false: the trace
                          is rebuilt without that optimization; go on at target */
  HP_EXIT_FAR,         /* a far jmp/call through memory or a far return at target:
                          the dispatcher performs it (src/runtime/far.c) */
  HP_EXIT_INT80,       /* `int 0x80` (a 32-bit system call) at target: the dispatcher
                          vets and performs it (hp_syscall_int80) */
  HP_EXIT_CALLEE_EXITS, /* side exits inside one of a trace's inlined calls were taken
                           HP_TRACE_CALLEE_EXIT_LIMIT times in this thread: go on at target;
                           the trace may be rebuilt without that call inlined */
};

/* What one element of the list does. Decode produces the HP_OP_GUEST_* and
 * HP_OP_STOP kinds; mangle turns control transfers into the others. */
enum hp_op {
  HP_OP_GUEST,       /* a guest instruction copied as it is (rip-relative: disp adjusted) */
  /* Decoded control transfers (before mangle). */
  HP_OP_GUEST_JMP,   /* jmp rel */
  HP_OP_GUEST_JCC,   /* jcc rel; cc = condition */
  HP_OP_GUEST_JMP_IND, /* jmp r/m64 */
  HP_OP_GUEST_CALL,  /* call rel */
  HP_OP_GUEST_CALL_IND, /* call r/m64 */
  HP_OP_GUEST_RET,   /* ret / ret imm16 (imm in target) */
  HP_OP_GUEST_RCX_BRANCH, /* jrcxz/jecxz/loop/loope/loopne rel8 */
  HP_OP_GUEST_SYSCALL,
  HP_OP_GUEST_TRAP,  /* int3, ud2, hlt...: copied, then the block ends */
  /* After mangle. */
  HP_OP_EXIT,        /* jump to an exit (kind exit_kind) continuing at target */
  HP_OP_EXIT_CC,     /* jcc to a branch exit at target; falls through otherwise */
  HP_OP_CALL,        /* direct call: guest return address pushed, exits to target and next */
  HP_OP_CALL_IND,    /* indirect call: target from the guest operand, inline cache */
  HP_OP_JMP_IND,     /* indirect jmp: target from the guest operand, inline cache if mono */
  HP_OP_RET,         /* return through the lookup; target = imm16 */
  HP_OP_RCX_BRANCH,  /* jrcxz/loop: exits to target (taken) and next */
  HP_OP_CODE_CHECK,  /* prologue: compare guest bytes [target, target+check_len) */
  HP_OP_STOP,        /* cannot go on here: exit of kind exit_kind at pc */
  /* Trace stitching (the recorded path goes on inside the trace). */
  HP_OP_PUSH_RET,    /* an inlined direct call: push the guest return address (target) */
  HP_OP_CALL_IND_GUARD, /* an inlined indirect call: push, then go on if the callee is target */
  HP_OP_JMP_IND_GUARD,  /* indirect jmp: go on if it goes to target */
  HP_OP_RET_GUARD,   /* ret (imm16 in check_len): go on if it returns to target */
  HP_OP_HEAD_COUNT,  /* a trace head's prologue: count (counter check_len, threshold target);
                        at the threshold, exit (HP_EXIT_HOT) to the dispatcher */
  HP_OP_COUNT_
};

/* Flags of an element. */
enum {
  HP_INSN_RIPREL = 1,  /* has a rip-relative memory operand */
  HP_INSN_MONO = 2,    /* indirect branch worth a one-entry inline cache */
  HP_INSN_BACK_EDGE = 4, /* trace exit to its own head: linked to the trace itself */
  HP_INSN_PROMOTED = 8, /* its frame-slot operand lives in machine register reg (optimizer) */
  HP_INSN_ALIAS_CHECK = 16, /* its store may hit a promoted slot: checked at run time */
  HP_INSN_SLOT_WRITE = 32, /* HP_INSN_PROMOTED and it writes the slot (stored through) */
  HP_INSN_IN_CALLEE = 64, /* HP_INSN_ALIAS_CHECK inside an inlined call: the hull is relative
                             to the loop's rbp saved at the entry, not to rbp */
  HP_INSN_KEEP_FLAGS = 128, /* HP_INSN_ALIAS_CHECK where the status flags are live: the check
                               sets them aside */
  HP_INSN_PROBE_STORE = 512, /* HP_INSN_SLOT_WRITE by an instruction that reads flags (adc,
                                sbb, a shift by cl): the slot is stored (its current value)
                                first, so that a fault of the store comes before the flags
                                it reads change, as natively */
  HP_INSN_RET_KNOWN = 1024, /* an inlined call and its return whose stack slot no store in
                               between can reach (retelide.c): the return is not checked */
  HP_INSN_RBP_CHECK = 256, /* a pop rbp / leave of an inlined call that brings the loop's rbp
                              back from a stack slot a store may have changed: rbp is compared
                              with the loop's (flag-free); a mismatch leaves the trace */
  HP_INSN_SHARE = 2048, /* an exit of a promoted trace where rsp and rbp are the entry's (no
                           inlined call open): it may go straight into a trace with the same
                           plan (struct hp_promotion .side), past its entry, its registers kept;
                           on a dispatch trace's final jmp: each of its jump table's slots */
};

struct hp_insn {
  uint64_t pc;        /* guest pc (of the instruction this element came from) */
  uint64_t target;    /* branch target, exit target, ret imm16, or check start */
  uint8_t op;         /* enum hp_op */
  uint8_t len;        /* guest instruction length (0: no guest bytes) */
  uint8_t cc;         /* jcc condition (low nibble of the opcode) */
  uint8_t exit_kind;  /* enum hp_exit_kind of HP_OP_EXIT / HP_OP_STOP */
  uint16_t flags;
  uint8_t reg;        /* HP_INSN_PROMOTED: the register that replaces its memory operand */
  uint16_t check_len; /* HP_OP_CODE_CHECK: bytes checked; HP_OP_RET_GUARD: imm16;
                         HP_OP_HEAD_COUNT: counter index */
  uint8_t bytes[ZYDIS_MAX_INSTRUCTION_LENGTH];
  ZydisDecodedInstruction zi; /* decoded without operands (valid if len) */
};

/* Frame slots of a loop trace kept in machine registers (the optimizer's
 * register promotion, src/opt/promote.c). On entry the guest values of the
 * registers taken go to the thread block and each slot is loaded; the loop
 * reads the registers; every write of a slot also stores it (write-through,
 * so memory is always exact: faults and signals see it), unless stores are
 * deferred (below); every exit restores the registers. Stores through other addresses that
 * may hit a slot are checked at run time; when they do, the slots are
 * loaded again after the store. */
#define HP_PROMO_MAX_SLOTS 12
#define HP_PROMO_XMM 16 /* reg >= HP_PROMO_XMM: xmm(reg - HP_PROMO_XMM) */
struct hp_promo_slot {
  int32_t disp;   /* [rbp+disp] */
  uint8_t size;   /* 4 or 8 */
  uint8_t reg;    /* machine register holding it: a GPR, or an xmm register
                     (HP_PROMO_XMM + n) holding the slot zero-extended to
                     128 bits (a float or double of movss/movsd code) */
  uint16_t uses;  /* instructions rewritten to use reg */
  uint16_t writes; /* of those, instructions that write it (deferred: it is
                      written back at the exits) */
};
struct hp_promotion {
  unsigned nslots;
  struct hp_promo_slot slot[HP_PROMO_MAX_SLOTS];
  int scratch;    /* register for the alias checks' addresses; -1: no checks */
  uint16_t regs;  /* every general register taken (slots and scratch) */
  uint16_t xregs; /* every xmm register taken */
  int32_t lo, hi; /* the slots' hull [rbp+lo, rbp+hi) that checks compare against */
  bool frame_check; /* calls are inlined in the loop: the entry checks rsp <= rbp+lo
                       (the callees' frames lie below the slots) or leaves
                       through HP_EXIT_DEOPT */
  unsigned checks; /* stores checked */
  /* Deferred stores: the slots the loop writes live in their registers
   * only; every exit writes them back (through the loop's rbp), a fault
   * inside the loop writes them back from its recovery records before the
   * guest sees memory, and loads that may read a slot are checked too (a
   * hit writes them back first). The entry stores each written slot once
   * (speculative, like its loads), so a stack that cannot be written is
   * found there, not at an exit. */
  bool deferred;
  unsigned load_checks; /* loads checked (deferred only) */
  /* Rip-relative accesses (globals) all lie in [rip_lo, rip_lo + rip_size):
   * the entry checks once that this span misses the slots' hull (else it
   * leaves through HP_EXIT_DEOPT), so none of them is checked in the loop. */
  bool rip_check;
  /* The status flags are dead at the entry (written before read on every
   * path from it): its checks may compare and branch on them. */
  bool entry_flags_dead;
  uint64_t rip_lo;
  uint32_t rip_size;
  /* The guest's stack [stack_lo, stack_hi) (set by the caller of the pass):
   * the entry checks that the slots lie in it (memory of this process
   * alone: a slot in shared memory could change under the loop, or wait
   * for its stores), else it leaves through HP_EXIT_DEOPT. */
  uint64_t stack_lo, stack_hi;
  /* A side trace: the plan (slots, registers, entry checks) is that of the
   * loop trace whose head it ends at (hp_promote's like); the exits of
   * either that reach the other's head with the plan go straight past its
   * entry (HP_INSN_SHARE), so it need not be a loop itself. */
  bool side;
  /* A dispatch trace: it ends in a jump table (struct hp_ilist .jt, a
   * switch's `jmp reg`) with rsp and rbp the entry's, and need not be a
   * loop: an interpreter's loop closes through its cases, whose traces end
   * at its head and take its plan as side traces. The table's slots leave
   * through shared exits (HP_INSN_SHARE on the jump), so a bytecode runs
   * from the dispatch into its case and back with the slots in registers. */
  bool dispatch;
  /* No slot (hp_promote_none): the fold pass's plan alone is followed; the
   * trace has no entry code, checks or deopt exit, and may end in a jump
   * table (its tail left alone by the pass). */
  bool fold_only;
};

/* The fold pass's plan (src/opt/fold.c, see fold.h), which the lowering
 * follows together with the promotion. */
/* base + index*scale + disp over machine registers (HP_FOLD_NONE: absent). */
#define HP_FOLD_NONE 0xff
struct hp_addr_expr {
  uint8_t base, index, scale; /* scale 1, 2, 4 or 8 when there is an index */
  int32_t disp;
};

/* The guest registers pending at some point, with their expressions, in an
 * order that materializes them correctly (a register whose expression reads
 * another pending register's machine register comes first); any subset
 * keeps that order. */
struct hp_fold_snap {
  uint16_t mask;
  uint8_t n, order[16];
  struct hp_addr_expr e[16];
};

struct hp_fold_elem {
  uint16_t pend; /* snapshot pending before the element (0: none) */
  uint16_t mat;  /* of those, materialized before the element's code */
  uint16_t rw;   /* 1 + index of its rewritten form (0: its own bytes) */
  bool gone;     /* absorbed or dead: no code */
};

struct hp_fold_rewrite {
  uint8_t bytes[ZYDIS_MAX_INSTRUCTION_LENGTH];
  ZydisDecodedInstruction zi;
};

/* The caller provides the arrays (elem: l->n entries); snap[0] is the empty
 * snapshot. */
struct hp_fold {
  struct hp_fold_elem *elem;
  struct hp_fold_snap *snap;
  unsigned nsnap, snap_cap;
  struct hp_fold_rewrite *rw;
  unsigned nrw, rw_cap;
  unsigned end; /* elements from here on are left as they are (hp_fold) */
  /* what it did */
  unsigned absorbed;     /* instructions kept symbolic (copies, lea, add/sub/shl) */
  unsigned removed;      /* dead instructions removed */
  unsigned rewritten;    /* instructions that read a folded address or a propagated copy */
  unsigned materialized; /* leas/movs that make a register exact again (hot path) */
  unsigned forwarded;    /* loads of a frame slot that read what a store left there instead */
  unsigned rebased;      /* expressions that followed a constant added to a register they read */
};

/* What the optimizer did to one trace, kept with its fragment (for the
 * report). */
struct hp_opt_record {
  bool optimized;
  const char *why;           /* not optimized: the reason (static text) */
  struct hp_promotion promo; /* optimized: the plan */
  uint32_t optimizer_ns;
  uint16_t blocks;           /* recorded blocks stitched into the trace */
  uint16_t returns_known;    /* inlined returns left unchecked (retelide.c) */
  /* The fold pass (fold.h): instructions absorbed, removed as dead,
   * rewritten to read a folded address or copy, and registers
   * materialized in the loop (all 0: it did not run or changed nothing). */
  uint16_t fold_absorbed, fold_removed, fold_rewritten, fold_materialized, fold_forwarded;
  /* As when it was built (its module may be unmapped or replaced by the
   * time the report is written): module+offset, function (NULL: none), and
   * the guest bytes of its pc map's instructions, in order (NULL: unread). */
  char where[96];
  const char *function;
  const uint8_t *guest;
};

struct hp_fold;
struct hp_jt;
#define HP_CALLEE_SITES 4 /* inlined calls of one trace whose side exits are counted */
struct hp_ilist {
  struct hp_insn *v;
  unsigned n, cap;    /* cap: fixed by the caller's buffer */
  uint64_t pc, end;   /* guest bytes covered [pc, end) */
  const struct hp_promotion *promo; /* slots in registers (NULL: none) */
  const struct hp_fold *fold; /* folding plan (fold.h) the lowering follows with promo (NULL: none) */
  const struct hp_jt *jt;     /* the jump table its last element dispatches through (jumptable.h;
                                 NULL: none) */
  /* The promotion's hints for a trace whose final `jmp` goes through a
   * jump table (a dispatch, promote.h): the table's tail's first element
   * (0: none), and the first block at each of its targets, one after
   * another (NULL: none). */
  unsigned jt_tail;
  const struct hp_ilist *ahead;
  unsigned miss_counter;  /* a trace's guard-miss counter (thread block head
                             counters), 0: its misses are not counted */
  uint32_t miss_limit;    /* misses that leave through HP_EXIT_GUARD_MISSES */
  /* A trace's outermost inlined calls with side exits inside: the call's
   * element (HP_OP_PUSH_RET or HP_OP_CALL_IND_GUARD) and its return's, and
   * a counter of those exits taken (thread block head counters; the next
   * counter holds when this thread started it, in ms). */
  unsigned ncallee;
  uint32_t callee_elem[HP_CALLEE_SITES], callee_ret[HP_CALLEE_SITES];
  uint32_t callee_counter[HP_CALLEE_SITES];
  uint32_t callee_limit;   /* such exits that leave through HP_EXIT_CALLEE_EXITS */
  bool anon;              /* decoded from anonymous private memory (JIT code): a block
                             keeps a copy of its bytes (hp_fragment_revive) */
};

/* Limits of one decoded block. */
struct hp_decode_limits {
  unsigned max_insns;
  size_t max_bytes;
  /* End the block after an instruction that may write memory (writable
   * code: a store may rewrite the instructions after it, which the next
   * block's code check then sees). */
  bool stop_after_store;
};

/* Decodes guest code at pc from bytes[0, avail) up to and including the
 * first control transfer, trap, or an instruction that cannot be run (which
 * becomes HP_OP_STOP), or a limit; the list's capacity must be at least
 * max_insns + 1. Running out of bytes in the middle of an instruction ends
 * the list before it (the caller decodes on from there with more bytes, where
 * the next region is executable); for the first instruction it is HP_OP_STOP
 * with HP_EXIT_NO_EXEC (it runs into memory that is not executable),
 * undecodable bytes HP_EXIT_BAD_INSN, far transfers through memory and far
 * returns HP_EXIT_FAR (the state is exact at their pc), GS-touching ones
 * HP_EXIT_UNSUPPORTED_INSN. Returns the number of guest instructions. */
unsigned hp_decode_block(const uint8_t *bytes, size_t avail, uint64_t pc,
                         const struct hp_decode_limits *lim, struct hp_ilist *out);

/* The operands of a guest element (decoded again from its bytes). */
bool hp_insn_operands(const struct hp_insn *in, ZydisDecodedInstruction *full,
                      ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT]);

/* Pairs the inlined calls of a trace (HP_OP_PUSH_RET, HP_OP_CALL_IND_GUARD)
 * with their guarded returns (HP_OP_RET_GUARD; they nest, as stitching
 * makes them): pair[i] = 1 + the partner's index, 0 for a call whose return
 * is not in the list (or a return without its call). pair: l->n entries. */
void hp_ilist_pair_calls(const struct hp_ilist *l, unsigned *pair);

/* The number of the 64-bit general register enclosing r (al, ax, eax,
 * rax: 0, ...), in x86 encoding order; -1 for any other register. */
int hp_gpr_num(ZydisRegister r);

/* Decodes the one instruction at bytes[0, len) (a rewritten form). */
bool hp_decode_one(const uint8_t *bytes, size_t len, ZydisDecodedInstruction *zi);

/* Whether an element ends the list (nothing after it runs). */
bool hp_op_ends_block(const struct hp_insn *in);
/* How many exits an element needs once lowered. */
unsigned hp_op_exit_count(const struct hp_insn *in);
const char *hp_op_name(unsigned op);

/* One line per element: "pc  op  [details]  ; guest text" (Intel syntax),
 * for logs and golden files. */
void hp_ilist_print(FILE *out, const struct hp_ilist *l);
/* The name of a promoted slot's register (struct hp_promo_slot .reg):
 * "rbx", "r15", "xmm15". */
const char *hp_promo_reg_name(unsigned reg);
/* Disassembles the instruction at bytes (at most max bytes, at address pc)
 * into out (Intel syntax, or AT&T); returns its length, 0 if undecodable. */
unsigned hp_format_insn(const uint8_t *bytes, size_t max, uint64_t pc, bool att, char *out, size_t cap);

#endif
