/* Jump tables: a `jmp r64` whose target the code before it computes from
 * one index register and constant memory (a C switch: `movslq (T,idx,4),r;
 * add T,r; jmp r` at -O2, `lea rdx,[idx*4]; lea rax,[rip+T]; mov eax,
 * [rdx+rax]; cdqe; lea rdx,[rip+T]; add rax,rdx; jmp rax` at -O0).
 *
 * The computation (the tail: the elements from the dispatch point to the
 * jump) is evaluated here for every index value, so that the lowering can
 * jump straight to the translation of each case: at the dispatch point the
 * code checks the index (and the registers the tail reads besides it
 * against their values at translation), then jumps through a table in the
 * thread block to the case's slot, which runs the tail itself (registers,
 * flags and memory reads as natively) and jumps to the case's fragment.
 * The dispatch's compares change the status flags: when no instruction of
 * the tail writes them all, the dispatch saves the guest's and both ways on
 * put them back (keep_flags). An index known to be small (`and eax, 0x7f`
 * before a computed goto) needs no compare: the table covers every value
 * it can have (unchecked).
 *
 * Pure: guest memory is read through the caller's callbacks, which also
 * say what counts as constant (a mapping nobody can write without a system
 * call that flushes the translation). */
#ifndef HOTPATH_JUMPTABLE_H
#define HOTPATH_JUMPTABLE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hotpath/analysis.h"
#include "hotpath/ilist.h"

#define HP_JT_MAX 256   /* entries of one table */
#define HP_JT_GUARDS 2  /* registers besides the index the tail may read */
#define HP_JT_TAIL 8    /* longest tail */
#define HP_JT_MEM_SPAN 65536 /* most bytes between the lowest and highest address the tail reads */

struct hp_jt_mem {
  void *ctx;
  /* Reads size bytes (4 or 8) at addr into *v; false unless the memory is
   * mapped readable and constant. */
  bool (*read)(void *ctx, uint64_t addr, unsigned size, uint64_t *v);
  /* True if pc is in memory the guest can execute. */
  bool (*code)(void *ctx, uint64_t pc);
};

struct hp_jt {
  unsigned p;                       /* the tail's first element (the dispatch point) */
  uint8_t idx;                      /* the index register (GPR number) */
  uint8_t nguards;
  bool keep_flags;                  /* the tail writes not every status flag: the dispatch
                                       saves the guest's, the slots and the lookup path put
                                       them back */
  uint8_t guard[HP_JT_GUARDS];      /* registers compared with guard_val at p */
  uint64_t guard_val[HP_JT_GUARDS];
  unsigned n;                       /* entries: the index in [0, n) */
  /* The index is known to be below nslots at p (an `and` with a mask, a
   * movzx of a byte: hp_jt_index_bound): the dispatch does not compare it
   * (without guards it does not touch the flags at all); entries [n,
   * nslots) lead to its own way on. Else nslots is n. */
  bool unchecked;
  bool keep_flags_checked; /* keep_flags if it is checked after all */
  unsigned nslots;
  uint64_t target[HP_JT_MAX];       /* guest target of each index */
  uint64_t mem_lo, mem_hi;          /* the constant memory the entries were read from */
  uint32_t gs_first;                /* the caller's: first entry in the thread blocks' table */
  /* Entries whose case reads none of the registers and flags the tail
   * leaves it (hp_jt_dead_tails): their slots jump to the case at once. */
  bool tail_dead[HP_JT_MAX];
  uint64_t code_lo, code_hi; /* the cases' code that decided it (0, 0: none) */
};

/* Finds a jump table at the end of l (a mangled block or trace ending in
 * HP_OP_JMP_IND). regs: the guest registers at the list's start (at_end
 * false) or after its last element (at_end true), NULL if unknown: only
 * tails that read nothing but the index are taken then. Returns false if
 * there is none worth a table (fewer than 2 entries). */
bool hp_jt_find(const struct hp_ilist *l, const uint64_t *regs, bool at_end, const struct hp_jt_mem *m,
                struct hp_jt *out);

/* Sets jt->tail_dead[k] for the entries whose case (the guest code at
 * target[k], hp_live_in through fetch) reads none of the registers the
 * tail writes, nor the flags it leaves (those the tail writes; all status
 * flags when the dispatch's compares stay in them, without keep_flags),
 * before writing them: the tail's results are dead there, so the slot may
 * skip it (the optimizer's liberty: registers dead at an exit may hold
 * other values). Returns how many entries it marked; then [code_lo, code_hi)
 * holds the code it read, which the fragment must count as its own (a
 * change there flushes it). */
unsigned hp_jt_dead_tails(const struct hp_ilist *l, struct hp_jt *jt, hp_code_fetch fetch, void *ctx);

/* A bound on general register idx just before element p of l, from the
 * instruction that last wrote it there (`and r, imm`, `movzx r32, r/m8`,
 * then only `mov r32, r32`, cdqe or movsxd of itself; a load of a 4- or
 * 8-byte local followed back to the store that filled it), or from a
 * `cmp` of it (or of that local) with a side exit taken above an
 * immediate (`ja`, `jae`: the switch's own range check in a trace): the
 * value is below the returned power of two (at most HP_JT_MAX); 0 when
 * nothing says. */
unsigned hp_jt_index_bound(const struct hp_ilist *l, unsigned p, int idx);

#endif
